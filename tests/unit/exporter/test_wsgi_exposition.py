"""What the WSGI application serves, through the real application: the format the client asks
for (OpenMetrics for Prometheus, the text format otherwise), gzip when accepted, ``name[]``
filtering; and that its fast path serves what prometheus_client's own exposition of the
exporter's registry would, in every format, after refreshes too."""

import gzip
import io
import zlib

import pytest
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from exporter_support import HUB_TIMEOUT, NOW, Exporter, Settings, parse, series, value

from fakehub.api_tasks import add_task
from kojiforge_metrics import exporter as exporter_module
from kojiforge_metrics.wsgi import make_application

# What Prometheus sends (2.x and 3.x ask for OpenMetrics first) and a plain client.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
OPENMETRICS = "application/openmetrics-text"
EOF = b"# EOF\n"


def _get(app, method="GET", query="", **headers):
    """One request through the WSGI application: (status, headers, body)."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "", "SCRIPT_NAME": "/metrics",
               "QUERY_STRING": query, "wsgi.input": io.BytesIO(b"")}
    environ.update(("HTTP_" + name.upper(), text) for name, text in headers.items())
    answer = []
    body = b"".join(app(environ, lambda status, response_headers, exc_info=None:
                        answer.append((status, dict(response_headers)))))
    status, response_headers = answer[0]
    return status, response_headers, body


def _openmetrics_samples(body):
    """OpenMetrics text -> {(sample name, frozenset of labels): value}; the parser checks the
    format (one EOF at the end, nothing after it, families not repeated)."""
    samples = {}
    for family in openmetrics_families(body.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture(name="frozen")
def fixture_frozen(hub, clock):
    """An exporter whose refreshes ran and whose scrapes within the TTL serve one hub read: two
    renderings of it are equal byte for byte while the clock stands still."""
    exporter = Exporter(Settings(hub.url, timeout=HUB_TIMEOUT, scrape_cache_ttl=60), clock=clock)
    assert exporter.refresh_counts()
    assert exporter.refresh_tasks()
    return exporter


def test_plain_client_gets_the_text_format(frozen):
    status, headers, body = _get(make_application(frozen))
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/plain; version=")
    assert "Content-Encoding" not in headers
    assert int(headers["Content-Length"]) == len(body)
    assert EOF not in body
    samples = parse(body)
    assert value(samples, "koji_up") == 1
    assert value(samples, "koji_builds_per_tag", tag="f40") == 3


def test_prometheus_gets_openmetrics(frozen):
    app = make_application(frozen)
    status, headers, body = _get(app, accept=PROMETHEUS_ACCEPT)
    assert status == "200 OK"
    assert headers["Content-Type"].startswith(OPENMETRICS + "; version=")
    assert body.endswith(EOF) and body.count(EOF) == 1
    samples = _openmetrics_samples(body)
    text = parse(_get(app)[2])
    # the same figures as the text format, from the scrape and from both caches
    for name in ("koji_up", "koji_hosts_enabled", "koji_tasks_total", "koji_builds_per_tag",
                 "koji_task_duration_seconds_bucket"):
        assert series(samples, name) == series(text, name) != {}, name


@pytest.mark.parametrize("accept", [None, PROMETHEUS_ACCEPT, "text/plain;version=0.0.4",
                                    "application/openmetrics-text"])
def test_fast_path_serves_what_prometheus_client_renders(frozen, accept):
    """The cached texts joined equal prometheus_client's own exposition of the registry, family
    for family, byte for byte (the fast path puts the scrape's families first)."""
    encoder, content_type = choose_encoder(accept)
    headers = {"accept": accept} if accept else {}
    _status, response_headers, body = _get(make_application(frozen), **headers)
    assert response_headers["Content-Type"] == content_type
    library = encoder(frozen.registry)
    assert body.endswith(EOF) == library.endswith(EOF)
    assert _family_blocks(body) == _family_blocks(library)


def _family_blocks(body):
    """The exposition's families, each as its text, in name order (and the EOF line dropped)."""
    blocks = []
    for line in body.replace(EOF, b"").splitlines(keepends=True):
        if line.startswith(b"# HELP "):
            blocks.append([])
        blocks[-1].append(line)
    assert len(blocks) > 20
    return sorted(b"".join(block) for block in blocks)


def test_gzip_when_accepted(frozen):
    app = make_application(frozen)
    _status, _headers, plain = _get(app, accept=PROMETHEUS_ACCEPT)
    for encoding in ("gzip", "deflate, gzip;q=1.0, br", "GZIP"):
        status, headers, body = _get(app, accept=PROMETHEUS_ACCEPT, accept_encoding=encoding)
        assert status == "200 OK"
        assert headers["Content-Encoding"] == "gzip", encoding
        assert int(headers["Content-Length"]) == len(body) < len(plain) / 5
        assert gzip.decompress(body) == plain
        # one gzip member (clients that stop after the first one get everything)
        member = zlib.decompressobj(wbits=31)
        assert member.decompress(body) == plain and member.eof and member.unused_data == b""
    _status, headers, body = _get(app, accept=PROMETHEUS_ACCEPT, accept_encoding="deflate, br")
    assert "Content-Encoding" not in headers and body == plain


@pytest.mark.parametrize("accept", [None, PROMETHEUS_ACCEPT])
def test_name_filter(frozen, accept):
    headers = {"accept": accept} if accept else {}
    app = make_application(frozen)
    query = "name[]=koji_up&name[]=koji_builds_per_tag&name[]=koji_tasks_total"
    status, response_headers, body = _get(app, query=query, **headers)
    assert status == "200 OK"
    assert int(response_headers["Content-Length"]) == len(body)
    samples = _openmetrics_samples(body) if accept else parse(body)
    assert set(name for name, _labels in samples) == {"koji_up", "koji_builds_per_tag", "koji_tasks_total"}
    assert value(samples, "koji_builds_per_tag", tag="f40") == 3
    assert series(samples, "koji_tasks_total") == series(parse(_get(app)[2]), "koji_tasks_total")
    # gzip and HEAD on the filtered path too
    _status, response_headers, zipped = _get(app, query=query, accept_encoding="gzip", **headers)
    assert response_headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped) == body
    status, response_headers, head = _get(app, "HEAD", query=query, **headers)
    assert status == "200 OK" and head == b"" and int(response_headers["Content-Length"]) == len(body)


def test_name_filter_of_an_unknown_name_serves_nothing(frozen):
    status, _headers, body = _get(make_application(frozen), query="name[]=node_load1")
    assert status == "200 OK"
    assert parse(body) == {}


def test_name_filter_without_path_info(frozen):
    """A WSGI server may leave PATH_INFO out for the mount point itself."""
    answer = []
    environ = {"REQUEST_METHOD": "GET", "QUERY_STRING": "name[]=koji_up", "wsgi.input": io.BytesIO(b"")}
    body = b"".join(make_application(frozen)(environ, lambda status, headers, exc_info=None: answer.append(status)))
    assert answer == ["200 OK"]
    assert parse(body) == {("koji_up", frozenset()): 1.0}


def test_each_format_serves_a_refresh_s_new_figures(hub, frozen, clock):
    """The kept texts of every format asked for are replaced by the next refresh, not served stale."""
    app = make_application(frozen)
    before_om = _openmetrics_samples(_get(app, accept=PROMETHEUS_ACCEPT)[2])
    before = parse(_get(app)[2])
    add_task(hub.state, "build", "default", "CLOSED", request=[], create_ts=NOW - 60, start_ts=NOW - 50,
             completion_ts=NOW - 10)
    assert frozen.refresh_tasks()
    clock.now += 61
    after_om = _openmetrics_samples(_get(app, accept=PROMETHEUS_ACCEPT)[2])
    after = parse(_get(app)[2])
    for samples, earlier in ((after_om, before_om), (after, before)):
        assert value(samples, "koji_tasks_total", channel="default", method="build") == \
            value(earlier, "koji_tasks_total", channel="default", method="build") + 1


def test_formats_asked_for_are_rendered_by_the_refresh_up_to_a_bound(frozen, monkeypatch):
    """A format a client asked for is rendered again by each refresh (a GET reuses the text);
    past MAX_KEPT_FORMATS formats, further ones are rendered per GET and not kept."""
    monkeypatch.setattr(exporter_module, "MAX_KEPT_FORMATS", 3)
    calls = []

    def counting(name):
        encoder = choose_encoder(None)[0]

        def encode(registry):
            calls.append(name)
            return encoder(registry)
        return encode

    expected = frozen.render()
    for name in ("a", "b", "c"):
        assert frozen.render((counting(name), "test/" + name)) == expected
    # text/plain (kept from the start) and two of these: the third is not kept
    assert calls == ["a", "a", "a", "b", "b", "b", "c", "c", "c"]
    del calls[:]
    assert frozen.refresh_tasks() and frozen.refresh_counts()
    # each refresh renders its cache in the kept formats
    assert sorted(calls) == ["a", "a", "b", "b"]
    del calls[:]
    for name in ("a", "b", "c"):
        frozen.render((counting(name), "test/" + name))
    # a GET of a kept format renders only the scrape's families; the other one, everything
    assert calls == ["a", "b", "c", "c", "c"]
