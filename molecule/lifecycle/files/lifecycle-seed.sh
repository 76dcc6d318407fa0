# shellcheck shell=bash
# Declare Koji objects and import real RPMs on the hub, as the admin (root's Koji profile).
set -euxo pipefail
work=/root/lifecycle
mkdir -p "$work"

koji add-tag --arches=x86_64 lifecycle-base
koji add-tag --arches=x86_64 --parent=lifecycle-base lifecycle-dest
koji add-tag --arches="x86_64 aarch64" --parent=lifecycle-dest lifecycle-build
koji add-tag-inheritance --priority=20 --maxdepth=1 --intransitive lifecycle-build lifecycle-base
koji edit-tag -x mock.package_manager=dnf lifecycle-build
# $arch is Koji's, not the shell's: single quotes on purpose.
# shellcheck disable=SC2016
koji add-external-repo lifecycle-extra 'https://mirror.example.invalid/extra/$arch/'
# shellcheck disable=SC2016
koji add-external-repo -t lifecycle-build -p 10 --mode=bare lifecycle-os 'https://mirror.example.invalid/os/$arch/'
koji add-target lifecycle-target lifecycle-build lifecycle-dest
koji call addChannel lifecycle-heavy
koji add-host lifecycle-builder.example.test x86_64 aarch64
koji add-host-to-channel lifecycle-builder.example.test lifecycle-heavy
koji edit-host --capacity=4 --description="lifecycle test builder" lifecycle-builder.example.test
koji add-pkg --owner=kojiadmin lifecycle-dest lifecycle-hello

for version in 1.0 1.1; do
  rpmbuild -ba --define "_topdir $work/rpmbuild" --define "lifecycle_version $version" \
    /root/lifecycle-hello.spec
  koji import "$work/rpmbuild/SRPMS/lifecycle-hello-$version-1.src.rpm" \
    "$work/rpmbuild/RPMS/noarch/lifecycle-hello-$version-1.noarch.rpm"
  koji call tagBuildBypass lifecycle-dest "lifecycle-hello-$version-1"
done
touch "$work/seeded"
