#!/usr/bin/env bash
#
# Ansible managed
#
#
# Install a Koji source archive staged by kojiforge.koji in the layout of the EL packages, so
# every configuration template and path of the collection is the same on EL and Debian:
#   /usr/lib/python3/dist-packages/{koji,koji_cli,kojihub}   the library, CLI code and hub code
#   /usr/bin/koji, /usr/sbin/{kojira,kojid,koji-gc,koji-shadow,koji-sweep-db,koji-sidetag-cleanup}
#   /usr/share/koji-hub/kojiapp.py      the hub's WSGI entry point
#   /usr/share/koji-web/{scripts,lib,static}   the web UI (its page templates: *.chtml, or *.j2 since 1.36)
#   /usr/lib/koji-{hub,builder}-plugins /usr/share/koji/*.sql   plugins and database schemas
#   /usr/lib/systemd/system/{kojira,kojid}.service   the upstream units of the daemons
# Configuration files are not installed: the roles render their own.
#
# Usage: /usr/local/libexec/kojiforge-install-koji ARCHIVE [--force]
# Does nothing (and says so) when ARCHIVE was installed last time, unless --force.
set -euo pipefail

archive=$1
force=${2:-}
stamp=/var/lib/kojiforge/koji-source.sha256
sitelib=/usr/lib/python3/dist-packages
python=/usr/bin/python3

sum=$(sha256sum "$archive" | cut -d' ' -f1)
if [ "$force" != "--force" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
  echo "koji source $sum is already in place"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
cd "$work"

# Replace a package directory as a whole, so files removed upstream do not linger.
# The web's page templates: Cheetah (*.chtml) up to Koji 1.35, Jinja2 (*.j2) since 1.36.
install_tree() {  # SRC DEST: the Python, template and web files of SRC
  local src=$1 dest=$2
  rm -rf "$dest.kojiforge-new"
  mkdir -p "$dest.kojiforge-new"
  (cd "$src" && find . -type f \( -name '*.py' -o -name '*.chtml' -o -name '*.j2' -o -name '*.css' -o -name '*.js' \
      -o -name '*.png' -o -name '*.gif' -o -name '*.ico' -o -name '*.svg' -o -name '*.html' \) \
      -print0 | xargs -0 -r cp --parents -t "$dest.kojiforge-new")
  find "$dest.kojiforge-new" -type d -exec chmod 0755 {} +
  find "$dest.kojiforge-new" -type f -exec chmod 0644 {} +
  rm -rf "$dest"
  mv "$dest.kojiforge-new" "$dest"
}

install_tree koji "$sitelib/koji"
install_tree cli/koji_cli "$sitelib/koji_cli"
install_tree kojihub "$sitelib/kojihub"
rm -rf "$sitelib/kojihub/app"

mkdir -p /usr/share/koji-hub
install -m 0644 kojihub/app/kojiapp.py /usr/share/koji-hub/kojiapp.py

mkdir -p /usr/share/koji-web
install_tree www/kojiweb /usr/share/koji-web/scripts
install_tree www/lib /usr/share/koji-web/lib
rm -rf /usr/share/koji-web/static
cp -r www/static /usr/share/koji-web/static
find /usr/share/koji-web -name Makefile -delete

mkdir -p /usr/lib/koji-hub-plugins /usr/lib/koji-builder-plugins
install -m 0644 plugins/hub/*.py /usr/lib/koji-hub-plugins/
install -m 0644 plugins/builder/*.py /usr/lib/koji-builder-plugins/

mkdir -p /usr/share/koji
install -m 0644 schemas/*.sql /usr/share/koji/

# Scripts: the tree's shebangs may still name python2 (the EL spec rewrites them the same way).
install_script() {  # SRC DEST
  install -m 0755 "$1" "$2"
  sed -i "1s|^#!.*python.*|#!$python|" "$2"
}
install_script cli/koji /usr/bin/koji
install_script util/kojira /usr/sbin/kojira
install_script util/koji-gc /usr/sbin/koji-gc
install_script util/koji-shadow /usr/sbin/koji-shadow
install_script util/koji-sweep-db /usr/sbin/koji-sweep-db
install_script util/koji-sidetag-cleanup /usr/sbin/koji-sidetag-cleanup
install_script builder/kojid /usr/sbin/kojid
if [ -f builder/mergerepos ]; then
  mkdir -p /usr/libexec/kojid
  install_script builder/mergerepos /usr/libexec/kojid/mergerepos
fi

mkdir -p /usr/lib/systemd/system
install -m 0644 util/kojira.service builder/kojid.service /usr/lib/systemd/system/

"$python" -m compileall -q "$sitelib/koji" "$sitelib/koji_cli" "$sitelib/kojihub" \
  /usr/share/koji-hub /usr/share/koji-web/scripts /usr/share/koji-web/lib \
  /usr/lib/koji-hub-plugins /usr/lib/koji-builder-plugins >/dev/null || true

echo "$sum" > "$stamp"
echo "installed koji from $archive ($sum)"
