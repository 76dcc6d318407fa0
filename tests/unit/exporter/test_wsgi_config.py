"""The mod_wsgi entry point: configuration file lookup, background threads, errors."""

import ast
import logging
import io
import pathlib
import time

import pytest

from exporter_support import parse, value

from kojiforge_metrics import settings as settings_module
from kojiforge_metrics import wsgi
from kojiforge_metrics.settings import ConfigError, config_path, load_settings

PACKAGE = pathlib.Path(wsgi.__file__).resolve().parent


def _call(environ):
    status = []
    environ = dict({"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(b"")}, **environ)
    body = b"".join(wsgi.application(environ, lambda s, h: status.append(s)))
    return status[0], body


@pytest.fixture(name="fresh_application")
def fixture_fresh_application(monkeypatch):
    """wsgi.application with no process-wide exporter yet; stops the one a test starts."""
    monkeypatch.setattr(wsgi, "_EXPORTER", None)
    yield
    if wsgi._EXPORTER is not None:  # pylint: disable=protected-access
        wsgi._EXPORTER.stop(timeout=10)  # pylint: disable=protected-access


def test_application_reads_the_config_named_in_the_wsgi_environ(hub, tmp_path, fresh_application):
    conf = tmp_path / "metrics.conf"
    conf.write_text("[metrics]\nserver = %s\ntimeout = 5\ntask_refresh_interval = 0.2\n"
                    "count_refresh_interval = 0.2\n" % hub.url, encoding="utf-8")
    status, body = _call({"KOJIFORGE_METRICS_CONFIG": str(conf)})
    assert status == "200 OK"
    assert value(parse(body), "koji_up") == 1
    # the background threads fill the caches without any scrape asking for it
    deadline = time.time() + 20
    samples = {}
    while time.time() < deadline:
        samples = parse(_call({"KOJIFORGE_METRICS_CONFIG": str(conf)})[1])
        if ("koji_tasks_last_seen_id", frozenset()) in samples and \
                value(samples, "koji_tasks_last_seen_id") == 11 and \
                ("koji_builds_per_tag", frozenset({("tag", "f40")})) in samples:
            break
        time.sleep(0.2)
    assert value(samples, "koji_tasks_last_seen_id") == 11
    # the seeded f40: two bash builds and a zsh build (f40 blocks zsh; tagged, it counts)
    assert value(samples, "koji_builds_per_tag", tag="f40") == 3


def test_application_answers_500_on_a_bad_config(tmp_path, fresh_application):
    conf = tmp_path / "metrics.conf"
    conf.write_text("[metrics]\ntimeout = 5\n", encoding="utf-8")
    status, body = _call({"KOJIFORGE_METRICS_CONFIG": str(conf)})
    assert status.startswith("500")
    assert b"server" in body


def test_config_path_order(monkeypatch):
    monkeypatch.delenv(settings_module.CONFIG_ENV, raising=False)
    assert config_path({}) == "/etc/kojiweb/metrics.conf"
    monkeypatch.setenv(settings_module.CONFIG_ENV, "/from/process")
    assert config_path({}) == "/from/process"
    assert config_path({settings_module.CONFIG_ENV: "/from/wsgi"}) == "/from/wsgi"


def test_load_settings(tmp_path):
    conf = tmp_path / "metrics.conf"
    conf.write_text("[metrics]\nserver = https://hub/kojihub\nserverca = /ca.crt\n"
                    "task_history = new\ndefault_max_jobs = 4\n", encoding="utf-8")
    loaded = load_settings(str(conf))
    assert loaded.server == "https://hub/kojihub"
    assert loaded.task_history == "new"
    assert loaded.default_max_jobs == 4
    opts = loaded.koji_opts()
    assert opts["serverca"] == "/ca.crt" and "cert" not in opts
    # anonymous calls must not retry for minutes: a scrape has 10 s
    assert opts["anon_retry"] is False and opts["timeout"] == 8


@pytest.mark.parametrize("text, message", [
    ("", r"no \[metrics\] section"),
    ("[metrics]\nserver = x\ntypo = 1\n", "unknown options typo"),
    ("[metrics]\nserver = x\ntimeout = soon\n", "could not convert"),
    ("[metrics]\nserver = x\ntask_history = some\n", "task_history"),
    ("[metrics]\nserver = x\ntimeout = 0\n", "timeout must be positive"),
])
def test_load_settings_rejects(tmp_path, text, message):
    conf = tmp_path / "metrics.conf"
    conf.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(str(conf))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(str(tmp_path / "absent.conf"))


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_python39_syntax(path):
    """EL9's /usr/bin/python3 is 3.9: no syntax newer than that (match, X | Y unions...)."""
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))


def test_log_lines_reach_stderr_from_info_up(capsys):
    """mod_wsgi writes stderr to Apache's error log: the exporter's INFO lines (the state it
    started from, full or incremental counts) must get there, and a handler set by the
    embedding application is kept."""
    logger = logging.getLogger('kojiforge_metrics.test_log_lines')
    try:
        wsgi._log_to_stderr(logger)  # pylint: disable=protected-access
        logger.info('state of the counts cache read')
        logger.debug('not shown')
        err = capsys.readouterr().err
        assert 'kojiforge_metrics INFO: state of the counts cache read' in err
        assert 'not shown' not in err
        own = logging.NullHandler()
        other = logging.getLogger('kojiforge_metrics.test_log_lines_own')
        other.addHandler(own)
        wsgi._log_to_stderr(other)  # pylint: disable=protected-access
        assert other.handlers == [own]
    finally:
        logger.handlers.clear()
        logging.getLogger('kojiforge_metrics.test_log_lines_own').handlers.clear()
