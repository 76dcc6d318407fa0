"""koji_storage's block-volume path on a loop device (prepare.yml), outside the running cluster:
builder2 plays the storage server of a test directory. Formats an empty volume once, mounts it
by UUID, keeps its data on a re-run, and refuses a volume holding another filesystem."""

import pathlib
import re

from conftest import BUILDER2, recap, run_playbook

HERE = pathlib.Path(__file__).resolve().parent
PLAYBOOK = str(HERE / "storage_volume.yml")
TOPDIR = "/srv/kojicluster-volume-test"


def storage_run(device, fstype="xfs"):
    return run_playbook(PLAYBOOK, "-e", "koji_storage_device=%s" % device, "-e", "koji_storage_fstype=%s" % fstype,
                        "-e", "volume_test_dir=%s" % TOPDIR)


def test_empty_volume_is_formatted_and_mounted(builder2):
    rc, out, _err = storage_run("/dev/kojiforge-volume")
    assert rc == 0, out[-3000:]
    assert builder2.run("blkid -p -o value -s TYPE /dev/kojiforge-volume").stdout.strip() == "xfs"
    uuid = builder2.run("blkid -p -o value -s UUID /dev/kojiforge-volume").stdout.strip()
    assert re.search(r"^UUID=%s %s xfs defaults,noatime 0 0$" % (uuid, TOPDIR),
                     builder2.file("/etc/fstab").content_string, re.M)
    assert builder2.run("findmnt -n --mountpoint %s" % TOPDIR).rc == 0


def test_rerun_keeps_the_data_and_changes_nothing(builder2):
    builder2.run_test("echo data > %s/kept.txt" % TOPDIR)
    rc, out, _err = storage_run("/dev/kojiforge-volume")
    assert rc == 0, out[-3000:]
    assert recap(out)[BUILDER2]["changed"] == 0
    assert builder2.file("%s/kept.txt" % TOPDIR).content_string == "data\n"


def test_volume_with_another_filesystem_is_refused(builder2):
    before = builder2.file("/etc/fstab").content_string
    rc, out, _err = run_playbook(PLAYBOOK, "-e", "koji_storage_device=/dev/kojiforge-volume-with-data",
                                 "-e", "volume_test_dir=/srv/kojicluster-volume-refused")
    assert rc != 0
    assert "is never reformatted" in out
    assert builder2.run("blkid -p -o value -s TYPE /dev/kojiforge-volume-with-data").stdout.strip() == "ext4"
    assert builder2.file("/etc/fstab").content_string == before
    check = builder2.run("top=$(mktemp -d); mount -o ro /dev/kojiforge-volume-with-data $top && "
                         "cat $top/precious.txt; umount $top")
    assert check.stdout.strip() == "precious"
