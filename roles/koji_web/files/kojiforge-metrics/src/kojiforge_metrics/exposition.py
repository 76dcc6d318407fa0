"""An exposition served in parts: the scrape's families, rendered per GET, and each cache's,
rendered once per refresh; joined into one body, as text or as one gzip stream.

The formats and the encoders are prometheus_client's (``exposition.choose_encoder``); what is
here only joins their output. Each part keeps its own raw deflate stream, ended by a sync flush
so that streams concatenate: a gzipped GET compresses only the scrape's families and sums the
CRC-32 of the rest (at CERN's 30,000 series, gzip.compress of the whole text at
prometheus_client's level 9 costs ~180 ms per GET; see tests/benchmarks/exporter).
"""

import struct
import zlib

from prometheus_client.exposition import choose_encoder

# The end of an OpenMetrics exposition: once, after the last family.
OPENMETRICS_EOF = b'# EOF\n'
# zlib's default level: 6 makes a body ~20 % smaller than 1, and it runs in the background
# except for the scrape's own (small) part.
GZIP_LEVEL = 6
# A gzip member's header: deflate, no name, no time, unknown OS (RFC 1952).
_GZIP_HEADER = b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff'


def _deflate(data, mode):
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(mode)


# The final (empty) deflate block that closes the concatenated streams.
_FINAL_BLOCK = _deflate(b'', zlib.Z_FINISH)


def plain_text():
    """The exposition format of a client that asks for nothing in particular: the text format."""
    return choose_encoder(None)


class Part:
    """Text of an exposition's part: some of its families, or the OpenMetrics EOF."""

    __slots__ = ('text', 'openmetrics', '_deflated')

    def __init__(self, text, openmetrics):
        self.text = text
        self.openmetrics = openmetrics
        self._deflated = None

    def deflated(self):
        """Its raw deflate stream, sync-flushed (computed once; two threads may both compute it)."""
        if self._deflated is None:
            self._deflated = _deflate(self.text, zlib.Z_SYNC_FLUSH)
        return self._deflated


def part_of(exposition):
    """The part of an encoder's output (prometheus_client's): its families, without an EOF."""
    if exposition.endswith(OPENMETRICS_EOF):
        return Part(exposition[:-len(OPENMETRICS_EOF)], True)
    return Part(exposition, False)


_EOF_PART = Part(OPENMETRICS_EOF, True)


def _with_eof(parts):
    return list(parts) + [_EOF_PART] if parts[0].openmetrics else list(parts)


def joined(parts):
    """One exposition of the parts' families (OpenMetrics: one EOF, at the end)."""
    return b''.join(part.text for part in _with_eof(parts))


def gzipped(parts):
    """``gzip.compress(joined(parts))`` in effect: one gzip member, from each part's deflate stream."""
    parts = _with_eof(parts)
    crc = size = 0
    for part in parts:
        crc = zlib.crc32(part.text, crc)
        size += len(part.text)
    return b''.join([_GZIP_HEADER] + [part.deflated() for part in parts]
                    + [_FINAL_BLOCK, struct.pack('<II', crc & 0xffffffff, size & 0xffffffff)])
