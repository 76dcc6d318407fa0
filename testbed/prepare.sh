#!/usr/bin/env bash
# Prepare this machine to run the kojiforge molecule scenarios on podman. Idempotent: every step
# checks first and does nothing when its result is already there, so it is safe to re-run.
#
#   testbed/prepare.sh            install podman & co, build the Debian 12 systemd image
#   testbed/prepare.sh --el9      also try to pull an EL9 image (needs a reachable registry)
#   testbed/prepare.sh --rebuild  rebuild the images even when they exist
#   testbed/prepare.sh --packages only the host packages (what the virtualenv needs to build)
#
# Why each step exists is in the comments; the facts behind them are in docs/testbed.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${CONTAINERS_CONF:-}" ] && [ ! -f "$CONTAINERS_CONF" ]; then
  printf '[testbed] CONTAINERS_CONF=%s does not exist: using %s\n' "$CONTAINERS_CONF" "$here/containers.conf" >&2
  CONTAINERS_CONF=
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

ROOTFS_IMAGE=localhost/kojiforge/debian12-rootfs:latest
DEBIAN_IMAGE=localhost/kojiforge/debian12-systemd:latest
EL9_IMAGE=localhost/kojiforge/el9-systemd:latest
EL9_SOURCE_IMAGE=${TESTBED_EL9_SOURCE_IMAGE:-docker.io/rockylinux/rockylinux:9}

want_el9=false
rebuild=false
packages_only=false
for arg in "$@"; do
  case "$arg" in
    --el9) want_el9=true ;;
    --rebuild) rebuild=true ;;
    --packages) packages_only=true ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "prepare.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[testbed] %s\n' "$*"; }

install_host_packages() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || [ -x /usr/sbin/runc ] || missing+=(runc)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  # promtool (alert rule tests) and the Kerberos headers the koji client library compiles against.
  command -v promtool >/dev/null || missing+=(prometheus)
  # amtool (Alertmanager configuration checks).
  command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  dpkg -s uidmap >/dev/null 2>&1 || missing+=(uidmap)
  # ansible-test sanity's shellcheck test and the Makefile's copy step.
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v rsync >/dev/null || missing+=(rsync)
  # Container name resolution: podman 4.3 on Debian uses CNI, whose networks get DNS only with
  # the dnsname plugin (it runs dnsmasq); without it every test host fails to find the hub.
  [ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
  command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
  # The demo and CI fetch the Koji release archive with curl where it is not on disk.
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -eq 0 ]; then
    log "host packages present"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "prepare.sh: missing ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  # --no-install-recommends keeps prometheus from pulling its node exporter and web assets.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The prometheus package starts a server on :9090; the test bed only needs promtool.
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  # Likewise prometheus-alertmanager starts one on :9093; the test bed only needs amtool.
  if [[ " ${missing[*]} " == *" prometheus-alertmanager "* ]]; then
    systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  fi
}

# The Debian mirror this machine already uses: the container images use the same one, so the
# test bed works wherever the host's apt works and names no mirror of its own.
host_debian_mirror() {
  local suite=$1
  {
    grep -hs -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
      | awk -v s="$suite" '$0 !~ /\[/ && $3 == s {print $2; exit}'
    # deb822 stanzas: a URIs line followed (in the same stanza) by a Suites line naming the suite.
    awk -v s="$suite" 'BEGIN{RS=""} /Types:[^\n]*deb/ {
        uri=""; ok=0
        n=split($0, lines, "\n")
        for (i=1;i<=n;i++) {
          if (lines[i] ~ /^URIs:/) { split(lines[i], f, " "); uri=f[2] }
          if (lines[i] ~ /^Suites:/) { m=split(lines[i], g, " "); for (j=2;j<=m;j++) if (g[j]==s) ok=1 }
        }
        if (ok && uri != "") { print uri; exit }
      }' /etc/apt/sources.list.d/*.sources 2>/dev/null
  } | head -n 1
}

write_apt_sources() {
  local out=$1 main security
  main=$(host_debian_mirror bookworm)
  security=$(host_debian_mirror bookworm-security)
  if [ -z "$main" ]; then
    echo "prepare.sh: found no Debian bookworm mirror in this machine's apt sources" >&2
    exit 1
  fi
  {
    echo "deb $main bookworm main"
    echo "deb $main bookworm-updates main"
    [ -n "$security" ] && echo "deb $security bookworm-security main"
  } >"$out"
}

image_exists() { podman image exists "$1"; }

build_rootfs_image() {
  if image_exists "$ROOTFS_IMAGE" && ! $rebuild; then
    log "image $ROOTFS_IMAGE present"
    return
  fi
  local tmp mirror
  tmp=$(mktemp -d /var/tmp/kojiforge-rootfs.XXXXXX)
  trap 'rm -rf "$tmp"' RETURN
  mirror=$(host_debian_mirror bookworm)
  log "debootstrap Debian 12 (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
    tail -n 20 "$tmp/debootstrap.log" >&2
    exit 1
  }
  tar -C "$tmp/rootfs" -c . | podman import --quiet - "$ROOTFS_IMAGE" >/dev/null
  log "imported $ROOTFS_IMAGE"
}

build_debian_image() {
  local ctx sum current
  ctx=$(mktemp -d /var/tmp/kojiforge-ctx.XXXXXX)
  cp "$here/Containerfile.debian12" "$ctx/Containerfile"
  write_apt_sources "$ctx/apt-sources.list"
  # Rebuild whenever the recipe or the apt sources change: the label carries their checksum.
  sum=$(cat "$ctx/Containerfile" "$ctx/apt-sources.list" | sha256sum | cut -c1-16)
  current=$(podman image inspect --format '{{ index .Labels "kojiforge.recipe" }}' "$DEBIAN_IMAGE" 2>/dev/null || true)
  if [ "$current" = "$sum" ] && ! $rebuild; then
    log "image $DEBIAN_IMAGE present and current"
  else
    log "building $DEBIAN_IMAGE"
    podman build --quiet --label "kojiforge.recipe=$sum" -t "$DEBIAN_IMAGE" "$ctx" >/dev/null
  fi
  rm -rf "$ctx"
}

pull_el9_image() {
  if image_exists "$EL9_IMAGE" && ! $rebuild; then
    log "image $EL9_IMAGE present"
    return
  fi
  log "trying to pull $EL9_SOURCE_IMAGE (set TESTBED_EL9_SOURCE_IMAGE to choose another)"
  if ! timeout 120 podman pull --quiet "$EL9_SOURCE_IMAGE" >/dev/null 2>&1; then
    log "no EL9 image: $EL9_SOURCE_IMAGE cannot be pulled from here (no registry reachable); EL9 scenarios are not available on this machine"
    return
  fi
  local ctx
  ctx=$(mktemp -d /var/tmp/kojiforge-ctx.XXXXXX)
  cat >"$ctx/Containerfile" <<EOF
FROM $EL9_SOURCE_IMAGE
RUN dnf -y install systemd python3 sudo procps-ng iproute && dnf clean all
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
EOF
  podman build --quiet -t "$EL9_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "built $EL9_IMAGE"
}

smoke_test() {
  # A container that cannot boot systemd, or two that cannot find each other by name, fail
  # every scenario later with a far less clear message.
  # Named per run: two test runs on one machine (a scenario beside the demo) prepare at once.
  local net=kojiforge-smoke-$$ a=smoke-a-$$.kojiforge.test b=smoke-b-$$.kojiforge.test state resolved
  podman rm -f "$a" "$b" >/dev/null 2>&1 || true
  podman network rm -f "$net" >/dev/null 2>&1 || true
  podman network create "$net" >/dev/null
  podman run -d --name "$a" --hostname "$a" --network "$net" --systemd=always "$DEBIAN_IMAGE" /sbin/init >/dev/null
  podman run -d --name "$b" --hostname "$b" --network "$net" --systemd=always "$DEBIAN_IMAGE" /sbin/init >/dev/null
  for _ in $(seq 1 30); do
    state=$(podman exec "$a" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 1
  done
  resolved=$(podman exec "$a" getent hosts "$b" 2>/dev/null || true)
  podman rm -f "$a" "$b" >/dev/null
  podman network rm -f "$net" >/dev/null
  case "$state" in
    running|degraded) log "systemd boots in $DEBIAN_IMAGE ($state)" ;;
    *) echo "prepare.sh: systemd did not come up in $DEBIAN_IMAGE (state: ${state:-none})" >&2; exit 1 ;;
  esac
  if [ -z "$resolved" ]; then
    echo "prepare.sh: containers on one podman network do not resolve each other by name ($a cannot" \
         "find $b). podman 4.3 with CNI needs the dnsname plugin (golang-github-containernetworking-plugin-dnsname)" \
         "and dnsmasq; check /usr/lib/cni/dnsname and 'podman network inspect $net' (dns_enabled)." >&2
    exit 1
  fi
  log "containers resolve each other by name ($b: ${resolved%% *})"
}

install_host_packages
$packages_only && exit 0
build_rootfs_image
build_debian_image
$want_el9 && pull_el9_image
smoke_test
log "ready; use: export CONTAINERS_CONF=$CONTAINERS_CONF"
