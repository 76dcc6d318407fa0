"""kojiforge_metrics: Koji hub metrics for Prometheus, served by a WSGI application in koji-web.

Configuration and mounting are described in the project's README.md; the entry point is
``kojiforge_metrics.wsgi.application``. The version is the kojiforge.koji collection's.
"""

__version__ = '0.1.0'
