#!/usr/bin/env bash
# Print the Koji source to deploy (a source tree or a release archive), for `make demo`,
# `make test` and the molecule scenarios. Tried in order:
#   1. KOJI_SOURCE, when set (it must exist, or be a URL);
#   2. koji-$KOJI_VERSION.tar.gz in the folder of release archives beside the repository
#      (KOJI_SOURCE_DIR, default ../shared/koji-source), checked against the sha256 its
#      README lists when it lists one;
#   3. a download of the release archive: the Koji project's own release files first
#      (every version, 1.36 and later too), then the code mirror's tag archive;
#   4. otherwise it stops with a message naming all three.
# The archive is never unpacked into the repository: downloads go to build/koji-source/
# (ignored by git), and the roles unpack what they are given in their own cache.
#
#   testbed/koji-source.sh            print the path (the only thing on stdout)
#   KOJI_VERSION=1.34.3 testbed/koji-source.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
version=${KOJI_VERSION:-1.35.3}
archives=${KOJI_SOURCE_DIR:-$top/../shared/koji-source}

say() { printf '[koji-source] %s\n' "$*" >&2; }

if [ -n "${KOJI_SOURCE:-}" ]; then
  case "$KOJI_SOURCE" in
    *://*) echo "$KOJI_SOURCE"; exit 0 ;;
  esac
  if [ ! -e "$KOJI_SOURCE" ]; then
    say "KOJI_SOURCE=$KOJI_SOURCE does not exist"
    exit 1
  fi
  readlink -f "$KOJI_SOURCE"
  exit 0
fi

# 2. the shared release archives
shared="$archives/koji-$version.tar.gz"
if [ -f "$shared" ]; then
  want=$(awk -v f="koji-$version.tar.gz" -F'|' '{gsub(/ /, "", $2); gsub(/ /, "", $5)} $2 == f {print $5}' \
           "$archives/README.md" 2>/dev/null | head -n 1)
  if [ -n "$want" ]; then
    have=$(sha256sum "$shared" | cut -d' ' -f1)
    if [ "$have" != "$want" ]; then
      say "$shared has sha256 $have, not the $want its README lists: not used"
      exit 1
    fi
  fi
  readlink -f "$shared"
  exit 0
fi

# 3. a download (kept for the next run)
cache="$top/build/koji-source"
for name in "koji-$version.tar.bz2" "koji-$version.tar.gz"; do
  if [ -s "$cache/$name" ]; then
    echo "$cache/$name"
    exit 0
  fi
done
mkdir -p "$cache"
tried=()
for url in "https://releases.pagure.org/koji/koji-$version.tar.bz2" \
           "https://github.com/koji-project/koji/archive/refs/tags/koji-$version.tar.gz"; do
  tried+=("$url")
  dest="$cache/$(basename "$url")"
  case "$url" in *github.com*) dest="$cache/koji-$version.tar.gz" ;; esac
  say "downloading $url"
  if curl -fsSL --connect-timeout 10 --max-time 300 -o "$dest.part" "$url" 2>/dev/null \
      && tar -tf "$dest.part" >/dev/null 2>&1; then
    mv "$dest.part" "$dest"
    echo "$dest"
    exit 0
  fi
  rm -f "$dest.part"
done

say "no Koji $version source found. Tried:"
say "  1. KOJI_SOURCE (not set): a Koji source tree or release archive"
say "  2. $shared (not there; KOJI_SOURCE_DIR names another folder of release archives)"
say "  3. downloads, which failed: ${tried[*]}"
say "Set KOJI_SOURCE to a Koji $version source tree or release archive and run again."
exit 1
