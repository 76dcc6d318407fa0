"""kojiforge_metrics: Koji hub metrics for Prometheus, served by a WSGI application in koji-web.

Configuration and mounting are described in README.md next to this file; the entry point is
``kojiforge_metrics.wsgi.application``.
"""

__version__ = '0.1.0'
