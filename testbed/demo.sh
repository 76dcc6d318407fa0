#!/usr/bin/env bash
# The local Koji cluster on podman: the README's first command (`make demo`).
#
#   testbed/demo.sh up      create the containers of inventories/local and run playbooks/site.yml
#   testbed/demo.sh down    remove them (and their volumes)
#   testbed/demo.sh status  list them
#
# The Koji source comes from KOJI_SOURCE (a source tree or release archive); without it, the
# upstream release archive of KOJI_VERSION is downloaded where the internet is reachable.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
if [ -n "${CONTAINERS_CONF:-}" ] && [ ! -f "$CONTAINERS_CONF" ]; then
  printf '[demo] CONTAINERS_CONF=%s does not exist: using %s\n' "$CONTAINERS_CONF" "$here/containers.conf" >&2
  CONTAINERS_CONF=
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
# ansible-playbook and ansible-inventory from the project's virtualenv (make venv).
[ -d "$top/.venv/bin" ] && export PATH="$top/.venv/bin:$PATH"

IMAGE=localhost/kojiforge/debian12-systemd:latest
NETWORK=kojiforge-local
KOJI_VERSION=${KOJI_VERSION:-1.35.3}
# The web frontend's HTTPS port and Prometheus' port, published on this machine's loopback only.
WEB_PORT=${DEMO_WEB_PORT:-8443}
PROMETHEUS_PORT=${DEMO_PROMETHEUS_PORT:-9090}
INVENTORY=$top/inventories/local
HUB=hub.koji.test

log() { printf '[demo] %s\n' "$*"; }
die() { printf '[demo] %s\n' "$*" >&2; exit 1; }

# Hosts and their podman options, from the inventory (one source of truth for names).
demo_hosts() {
  ansible-inventory -i "$INVENTORY" --list \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(sorted(d["_meta"]["hostvars"])))'
}

hosts_in_group() {
  ansible-inventory -i "$INVENTORY" --graph "$1" 2>/dev/null | sed -n 's/^ *|--\([^@].*\)$/\1/p'
}

koji_source() {
  if [ -n "${KOJI_SOURCE:-}" ]; then
    [ -e "$KOJI_SOURCE" ] || die "KOJI_SOURCE=$KOJI_SOURCE does not exist"
    (cd "$KOJI_SOURCE" 2>/dev/null && pwd) || readlink -f "$KOJI_SOURCE"
    return
  fi
  local dest=$top/build/koji-source/koji-$KOJI_VERSION
  if [ -f "$dest/kojihub/kojihub.py" ]; then
    echo "$dest"
    return
  fi
  local url="https://github.com/koji-project/koji/archive/refs/tags/koji-$KOJI_VERSION.tar.gz"
  log "KOJI_SOURCE is not set: downloading Koji $KOJI_VERSION from $url" >&2
  mkdir -p "$dest"
  if ! curl -fsSL --max-time 120 "$url" | tar -xz -C "$dest" --strip-components=1 2>/dev/null; then
    rm -rf "$dest"
    die "no Koji source: KOJI_SOURCE is not set and $url cannot be downloaded from here.
       Set KOJI_SOURCE to a Koji source tree or release archive (for example an export of the
       koji-$KOJI_VERSION tag of the Koji repository) and run again."
  fi
  echo "$dest"
}

up() {
  local source
  source=$(koji_source)
  log "Koji source: $source"
  "$here/prepare.sh"
  podman network exists "$NETWORK" || podman network create "$NETWORK" >/dev/null
  local host
  for host in $(demo_hosts); do
    if podman container exists "$host"; then
      podman start "$host" >/dev/null
      continue
    fi
    local extra=()
    # The hub host serves the web UI and runs Prometheus: publish their ports on loopback. It also keeps
    # /mnt/koji on a named volume, shared read-write with kojira there and read-only with the
    # createrepo builders (kernel NFS does not exist in this test bed; docs/testbed.md).
    if [ "$host" = "$HUB" ]; then
      extra+=(-p "127.0.0.1:$WEB_PORT:443" -p "127.0.0.1:$PROMETHEUS_PORT:9090"
              -v kojiforge-local-mnt-koji:/mnt/koji)
    elif hosts_in_group koji_builders_createrepo | grep -qx "$host"; then
      extra+=(-v kojiforge-local-mnt-koji:/mnt/koji:ro)
    fi
    log "creating container $host"
    podman run -d --name "$host" --hostname "$host" --network "$NETWORK" \
      --systemd=always --privileged "${extra[@]}" "$IMAGE" /sbin/init >/dev/null
    # The image ships without apt lists (like the scenarios' prepare step, fill them once),
    # after systemd has booted: apt's signature check fails while /tmp is still being set up.
    podman exec "$host" bash -c 'for _ in $(seq 60); do
        case "$(systemctl is-system-running 2>/dev/null)" in running|degraded) break ;; esac
        sleep 1; done; apt-get update -qq' >/dev/null
  done
  log "running playbooks/site.yml against inventories/local"
  (cd "$top" && ansible-playbook -i "$INVENTORY" -e "koji_source=$source" playbooks/site.yml)
  cat <<EOF

[demo] The Koji cluster is up.
  web UI:   https://localhost:$WEB_PORT/koji/   (certificate from the demo CA; accept it)
  metrics:  curl -k https://localhost:$WEB_PORT/metrics
  Prometheus: http://localhost:$PROMETHEUS_PORT/  (alerts: http://localhost:$PROMETHEUS_PORT/alerts)
  koji CLI: podman exec $HUB koji moshimoshi
            podman exec $HUB koji list-hosts
  remove:   make demo-down
EOF
}

down() {
  local host
  for host in $(demo_hosts); do
    if podman rm -f "$host" >/dev/null 2>&1; then log "removed $host"; fi
  done
  podman volume rm -f kojiforge-local-mnt-koji >/dev/null 2>&1 || true
  podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) podman ps -a --filter "network=$NETWORK" ;;
  *) sed -n '2,9p' "$0"; exit 2 ;;
esac
