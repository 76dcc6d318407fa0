"""playbooks/config.yml on the deployed hub: the objects declared in the inventory
(group_vars/all.yml) are there, as declared. (Molecule's idempotence step has already
re-applied them: nothing to change.)"""

from conftest import hub_call


def test_external_repo_and_channel(hub):
    repo = hub_call(hub, "getExternalRepo", "kfc-debian-main")
    assert repo["url"] == "http://deb.debian.org/debian/dists/bookworm/main/binary-$arch/"
    channel = hub_call(hub, "getChannel", "kfc-image")
    assert channel is not None and channel["description"] == "image builds (no builder yet)"


def test_user_permissions(hub):
    perms = hub_call(hub, "getUserPerms", "kfc-releng")
    assert sorted(perms) == ["tag", "target"]


def test_tags_inheritance_packages_groups(hub):
    base = hub_call(hub, "getTag", "kfc-base")
    assert base["arches"] == "x86_64"
    listed = {(p["package_name"], p["owner_name"], p["blocked"])
              for p in hub_call(hub, "listPackages", tagID="kfc-base")}
    assert listed == {("bash", "kfc-releng", False), ("rpm", "kfc-releng", False),
                      ("kfc-hello", "kfc-releng", False)}
    links = hub_call(hub, "getInheritanceData", "kfc-candidate")
    assert [(link["name"], link["priority"], link["maxdepth"]) for link in links] == [("kfc-base", 0, 1)]
    repos = hub_call(hub, "getTagExternalRepos", "kfc-build")
    assert [(r["external_repo_name"], r["priority"]) for r in repos] == [("kfc-debian-main", 10)]
    groups = {g["name"]: sorted(p["package"] for p in g["packagelist"])
              for g in hub_call(hub, "getTagGroups", "kfc-build")}
    assert groups == {"build": ["bash", "coreutils", "rpm-build"], "srpm-build": ["bash", "rpm-build"]}
    # the build tag sees the base tag's packages
    inherited = {p["package_name"] for p in hub_call(hub, "listPackages", tagID="kfc-build", inherited=True)}
    assert {"bash", "rpm", "kfc-hello"} <= inherited


def test_target(hub):
    target = hub_call(hub, "getBuildTarget", "kfc-target")
    assert (target["build_tag_name"], target["dest_tag_name"]) == ("kfc-build", "kfc-candidate")
