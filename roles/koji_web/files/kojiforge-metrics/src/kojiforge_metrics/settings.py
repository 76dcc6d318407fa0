"""Configuration of the metrics exporter: an INI file with one ``[metrics]`` section.

The file is found, in this order, through the WSGI environment key ``KOJIFORGE_METRICS_CONFIG``
(Apache ``SetEnv``), the process environment variable of the same name, or
``/etc/kojiweb/metrics.conf``. See the project's README.md for every option.
"""

import configparser
import os

CONFIG_ENV = 'KOJIFORGE_METRICS_CONFIG'
DEFAULT_CONFIG_PATH = '/etc/kojiweb/metrics.conf'
SECTION = 'metrics'

TASK_HISTORY_MODES = ('all', 'new')


class ConfigError(Exception):
    """The configuration file is missing, unreadable or has a bad value."""


class Settings:
    """Validated exporter settings; defaults suit a hub of CERN's size."""

    # pylint: disable=too-many-instance-attributes,too-few-public-methods

    def __init__(self, server, *, serverca=None, cert=None, timeout=8.0,
                 task_refresh_interval=30.0, count_refresh_interval=600.0,
                 count_full_refresh_interval=21600.0,
                 multicall_batch=500, count_refresh_workers=2, task_scan_chunk=1000,
                 default_max_jobs=10, task_history='all', gap_retries=5, scrape_cache_ttl=5.0,
                 state_dir=None, refresh_url=None, follow_stale_intervals=3):
        # pylint: disable=too-many-arguments
        if not server:
            raise ConfigError('server (the hub URL) is required')
        if task_history not in TASK_HISTORY_MODES:
            modes = ', '.join(TASK_HISTORY_MODES)
            raise ConfigError(f'task_history must be one of {modes}, not {task_history!r}')
        for name, value in (('timeout', timeout),
                            ('task_refresh_interval', task_refresh_interval),
                            ('count_refresh_interval', count_refresh_interval),
                            ('count_full_refresh_interval', count_full_refresh_interval),
                            ('multicall_batch', multicall_batch),
                            ('count_refresh_workers', count_refresh_workers),
                            ('task_scan_chunk', task_scan_chunk),
                            ('default_max_jobs', default_max_jobs),
                            ('follow_stale_intervals', follow_stale_intervals)):
            if value <= 0:
                raise ConfigError(f'{name} must be positive, not {value!r}')
        if scrape_cache_ttl < 0:
            raise ConfigError(f'scrape_cache_ttl must not be negative, not {scrape_cache_ttl!r}')
        self.server = server
        self.serverca = serverca or None
        self.cert = cert or None
        self.timeout = float(timeout)
        self.task_refresh_interval = float(task_refresh_interval)
        self.count_refresh_interval = float(count_refresh_interval)
        self.count_full_refresh_interval = float(count_full_refresh_interval)
        self.multicall_batch = int(multicall_batch)
        self.count_refresh_workers = int(count_refresh_workers)
        self.task_scan_chunk = int(task_scan_chunk)
        self.default_max_jobs = int(default_max_jobs)
        self.task_history = task_history
        self.gap_retries = int(gap_retries)
        # seconds a scrape's hub read is served again before the next GET reads the hub anew
        self.scrape_cache_ttl = float(scrape_cache_ttl)
        # where the background state is kept across restarts (None: not kept)
        self.state_dir = state_dir or None
        # the refresh host's state endpoint (.../metrics/state): set, this exporter follows it
        # rather than refreshing from the hub; None: it refreshes by itself
        self.refresh_url = refresh_url or None
        # a followed state older than this many refresh intervals is stale: refresh by itself
        self.follow_stale_intervals = int(follow_stale_intervals)

    def koji_opts(self):
        """Options for koji.ClientSession: anonymous, bounded, no ten-minute retry loops."""
        opts = {
            'timeout': self.timeout,
            'anon_retry': False,
            'max_retries': 0,
        }
        if self.serverca:
            opts['serverca'] = self.serverca
        if self.cert:
            opts['cert'] = self.cert
        return opts


_FLOATS = ('timeout', 'task_refresh_interval', 'count_refresh_interval', 'count_full_refresh_interval',
           'scrape_cache_ttl')
_INTS = ('multicall_batch', 'count_refresh_workers', 'task_scan_chunk', 'default_max_jobs', 'gap_retries',
         'follow_stale_intervals')
_STRINGS = ('server', 'serverca', 'cert', 'task_history', 'state_dir', 'refresh_url')


def load_settings(path):
    """Read and validate the INI file at ``path``."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as exc:
        raise ConfigError(f'cannot read {path}: {exc}') from exc
    if not parser.has_section(SECTION):
        raise ConfigError(f'{path} has no [{SECTION}] section')
    section = parser[SECTION]
    unknown = set(section) - set(_FLOATS + _INTS + _STRINGS)
    if unknown:
        raise ConfigError(f'{path}: unknown options ' + ', '.join(sorted(unknown)))
    kwargs = {}
    try:
        for name in _FLOATS:
            if name in section:
                kwargs[name] = section.getfloat(name)
        for name in _INTS:
            if name in section:
                kwargs[name] = section.getint(name)
    except ValueError as exc:
        raise ConfigError(f'{path}: {exc}') from exc
    for name in _STRINGS:
        if name in section:
            kwargs[name] = section.get(name).strip()
    if not kwargs.get('server'):
        raise ConfigError(f'{path}: server (the hub URL) is required')
    return Settings(**kwargs)


def config_path(environ=None):
    """Where the configuration file is, from the WSGI environ, the process environment or the default."""
    if environ and environ.get(CONFIG_ENV):
        return environ[CONFIG_ENV]
    return os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH
