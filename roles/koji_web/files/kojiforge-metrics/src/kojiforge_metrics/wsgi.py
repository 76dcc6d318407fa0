"""WSGI entry point: ``application`` serves the metrics (text or OpenMetrics) at its mount point.

Mount it in its own mod_wsgi daemon process (one process, several threads): the counters and
caches live in that process's memory. See the project's README.md.
"""

import logging
import threading
from urllib.parse import parse_qs

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import choose_encoder, gzip_accepted

from kojiforge_metrics.exporter import STATE_TYPE, Exporter
from kojiforge_metrics.settings import ConfigError, config_path, load_settings

LOG = logging.getLogger('kojiforge_metrics')

_EXPORTER = None
_EXPORTER_LOCK = threading.Lock()
_WARNED = []

METHODS = ('GET', 'HEAD')
# Below the mount point: the background state the other web hosts follow (JSON).
STATE_PATH = '/state'


def _respond(environ, start_response, status, headers, body):
    start_response(status, list(headers) + [('Content-Length', str(len(body)))])
    if environ.get('REQUEST_METHOD') == 'HEAD':
        return [b'']
    return [body]


def _text(environ, start_response, status, message, headers=()):
    body = (message + '\n').encode('utf-8')
    return _respond(environ, start_response, status,
                    [('Content-Type', 'text/plain; charset=utf-8')] + list(headers), body)


def _library_answer(app, environ):
    """What prometheus_client's own WSGI app answers a GET with this environ: (status, headers, body)."""
    answer = []
    # prometheus_client reads PATH_INFO unguarded; a WSGI server may leave it out at the root
    body = b''.join(app(dict(environ, REQUEST_METHOD='GET', PATH_INFO=environ.get('PATH_INFO', '')),
                        lambda status, headers, exc_info=None: answer.append((status, headers))))
    status, headers = answer[0]
    return status, [header for header in headers if header[0] and header[0].lower() != 'content-length'], body


def make_application(exporter):
    """A WSGI application serving ``exporter`` (tests and custom mounts).

    prometheus_client's own WSGI app (``make_wsgi_app``) on ``exporter.registry`` answers what
    only it does: ``name[]``-restricted GETs. Every other GET takes the fast path, which
    negotiates the format (OpenMetrics when the Accept header asks for it) and the gzip encoding
    with prometheus_client's own functions, but renders the cached families once per refresh
    rather than once per GET (``Exporter.render``): prometheus_client's app would render the
    ~30,000 cached series of CERN's scale on every scrape. Around both: GET and HEAD only, a
    Content-Length, and the warning when the server runs several processes.

    ``<mount point>/state`` serves the exporter's background state instead (``Exporter.state_body``,
    gzipped when the client accepts it): what the other web hosts' exporters follow.
    """
    library_app = make_wsgi_app(exporter.registry)

    def serve(environ, start_response):
        if environ.get('REQUEST_METHOD', 'GET') not in METHODS:
            return _text(environ, start_response, '405 Method Not Allowed', 'GET only',
                         [('Allow', ', '.join(METHODS))])
        if environ.get('wsgi.multiprocess') and not _WARNED:
            _WARNED.append(True)
            LOG.warning('kojiforge_metrics runs in several processes: counters will jump '
                        'between them; mount it in one dedicated mod_wsgi daemon process')
        compress = gzip_accepted(environ.get('HTTP_ACCEPT_ENCODING'))
        if environ.get('PATH_INFO', '').rstrip('/') == STATE_PATH:
            headers = [('Content-Type', STATE_TYPE)] + ([('Content-Encoding', 'gzip')] if compress else [])
            return _respond(environ, start_response, '200 OK', headers, exporter.state_body(gzipped=compress))
        if 'name[]' in parse_qs(environ.get('QUERY_STRING', '')):
            return _respond(environ, start_response, *_library_answer(library_app, environ))
        encoder, content_type = choose_encoder(environ.get('HTTP_ACCEPT'))
        body = exporter.render((encoder, content_type), gzip=compress)
        headers = [('Content-Type', content_type)]
        if compress:
            headers.append(('Content-Encoding', 'gzip'))
        return _respond(environ, start_response, '200 OK', headers, body)

    return serve


def _log_to_stderr(logger=LOG):
    """The exporter's log lines (a start from the kept state or from nothing, a full or an
    incremental count, the refresh host followed or not, failures) on stderr, which mod_wsgi
    writes to Apache's error log: without a handler Python would drop every line below WARNING.
    A handler the embedding application added is kept."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter('kojiforge_metrics %(levelname)s: %(message)s'))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _exporter(environ):
    global _EXPORTER  # pylint: disable=global-statement
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
            _log_to_stderr()
            exporter = Exporter(load_settings(config_path(environ)))
            exporter.start()
            _EXPORTER = exporter
        return _EXPORTER


def application(environ, start_response):
    """The process-wide exporter, created on the first request from the configuration file."""
    try:
        exporter = _exporter(environ)
    except ConfigError as exc:
        # a deployment error, not a hub outage: fail loudly so Prometheus marks the target down
        LOG.error('kojiforge_metrics: %s', exc)
        return _text(environ, start_response, '500 Internal Server Error', str(exc))
    return make_application(exporter)(environ, start_response)
