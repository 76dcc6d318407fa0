"""koji_hub's scheduler (Koji 1.34+) and repo (Koji 1.35+) options: with the role's defaults the
hub.conf of each version holds exactly Koji's own defaults for the options that version reads,
and a value set in the inventory reaches hub.conf.

Koji's defaults are data read from the option table of kojihub/kojixmlrpc.py (load_config's cfgmap
in 1.34.3, :513-520; the module-level config_map in 1.35.3, :492-513); 1.36's notes change none of
them but drop RepoLagWindow and make DisableURLSessions default to true.
"""

import configparser

import pytest

from test_koji_versions import HUB_CONF, VERSIONS, _render

SCHEDULER_DEFAULTS = {
    "MaxJobs": "15", "CapacityOvercommit": "5", "ReadyTimeout": "180", "AssignTimeout": "300",
    "SoftRefusalTimeout": "900", "HostTimeout": "900", "RunInterval": "60",
}
REPO_DEFAULTS = {
    "MaxRepoTasks": "10", "MaxRepoTasksMaven": "2", "RepoRetries": "3", "RequestCleanTime": "1440",
    "RepoLag": "3600", "RepoAutoLag": "7200", "RepoLagWindow": "600", "RepoQueueUser": "kojira",
}
# The role's variable for each option (hub.conf's AllowNewRepo is written True/False).
VARIABLES = {
    "MaxJobs": "koji_hub_max_jobs", "CapacityOvercommit": "koji_hub_capacity_overcommit",
    "ReadyTimeout": "koji_hub_ready_timeout", "AssignTimeout": "koji_hub_assign_timeout",
    "SoftRefusalTimeout": "koji_hub_soft_refusal_timeout", "HostTimeout": "koji_hub_host_timeout",
    "RunInterval": "koji_hub_run_interval", "MaxRepoTasks": "koji_hub_max_repo_tasks",
    "MaxRepoTasksMaven": "koji_hub_max_repo_tasks_maven", "RepoRetries": "koji_hub_repo_retries",
    "RequestCleanTime": "koji_hub_request_clean_time", "RepoLag": "koji_hub_repo_lag",
    "RepoAutoLag": "koji_hub_repo_auto_lag", "RepoLagWindow": "koji_hub_repo_lag_window",
    "RepoQueueUser": "koji_hub_repo_queue_user",
}


def _hub_section(text):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    parser.read_string(text)
    return dict(parser.items("hub"))


@pytest.mark.parametrize("os_family", ["RedHat", "Debian"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_defaults_are_kojis_for_what_the_version_reads(os_family, version):
    known = VERSIONS[version][0]
    hub = _hub_section(_render(os_family, version, HUB_CONF))
    expected = {name: value for name, value in dict(SCHEDULER_DEFAULTS, **REPO_DEFAULTS).items() if name in known}
    assert {name: hub.get(name) for name in expected} == expected
    # the repo options only where the version reads them
    assert set(REPO_DEFAULTS) & set(hub) == set(REPO_DEFAULTS) & known
    if "MaxRepoTasks" in known:
        assert hub["AllowNewRepo"] == "True"
    # 1.36's default, written for every version
    assert hub["DisableURLSessions"] == "True"


@pytest.mark.parametrize("version", ["1.35.3", "1.36.1"])
def test_inventory_values_reach_hub_conf(version):
    values = {variable: 1000 + index for index, variable in enumerate(sorted(VARIABLES.values()))}
    values["koji_hub_repo_queue_user"] = "kojira-site"
    values["koji_hub_allow_new_repo"] = False
    hub = _hub_section(_render("RedHat", version, HUB_CONF, **values))
    for option, variable in VARIABLES.items():
        if option == "RepoLagWindow" and version == "1.36.1":
            assert option not in hub
        else:
            assert hub[option] == str(values[variable]), option
    assert hub["AllowNewRepo"] == "False"


def test_a_1_34_hub_gets_the_scheduler_but_no_repo_option():
    hub = _hub_section(_render("Debian", "1.34.3", HUB_CONF, koji_hub_max_repo_tasks=99, koji_hub_max_jobs=7))
    assert hub["MaxJobs"] == "7"
    assert not set(REPO_DEFAULTS) & set(hub) and "AllowNewRepo" not in hub
