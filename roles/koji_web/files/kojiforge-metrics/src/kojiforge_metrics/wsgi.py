"""WSGI entry point: ``application`` serves the Prometheus text exposition at its mount point.

Mount it in its own mod_wsgi daemon process (one process, several threads): the counters and
caches live in that process's memory. See the project's README.md.
"""

import logging
import threading

from prometheus_client import CONTENT_TYPE_LATEST

from kojiforge_metrics.exporter import Exporter
from kojiforge_metrics.settings import ConfigError, config_path, load_settings

LOG = logging.getLogger('kojiforge_metrics')

_EXPORTER = None
_EXPORTER_LOCK = threading.Lock()
_WARNED = []


def _text(start_response, status, message):
    body = (message + '\n').encode('utf-8')
    start_response(status, [('Content-Type', 'text/plain; charset=utf-8'),
                            ('Content-Length', str(len(body)))])
    return [body]


def make_application(exporter):
    """A WSGI application serving ``exporter`` (tests and custom mounts)."""

    def serve(environ, start_response):
        if environ.get('REQUEST_METHOD', 'GET') not in ('GET', 'HEAD'):
            return _text(start_response, '405 Method Not Allowed', 'GET only')
        if environ.get('wsgi.multiprocess') and not _WARNED:
            _WARNED.append(True)
            LOG.warning('kojiforge_metrics runs in several processes: counters will jump '
                        'between them; mount it in one dedicated mod_wsgi daemon process')
        body = exporter.render()
        start_response('200 OK', [('Content-Type', CONTENT_TYPE_LATEST),
                                  ('Content-Length', str(len(body)))])
        if environ.get('REQUEST_METHOD') == 'HEAD':
            return [b'']
        return [body]

    return serve


def _exporter(environ):
    global _EXPORTER  # pylint: disable=global-statement
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
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
        return _text(start_response, '500 Internal Server Error', str(exc))
    return make_application(exporter)(environ, start_response)
