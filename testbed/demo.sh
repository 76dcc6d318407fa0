#!/usr/bin/env bash
# The local Koji cluster on podman (`make demo`, the README's command for the test bed).
#
#   testbed/demo.sh up                    create the containers of inventories/local and run
#                                         playbooks/site.yml
#   testbed/demo.sh add-builder NAME [TYPE]  scale out: add NAME to the koji_builders_TYPE group
#                                         (rpm by default) of the demo's extra inventory
#                                         (build/demo/builders.yml), create its container and
#                                         run playbooks/builders.yml --limit NAME,hub.koji.test
#   testbed/demo.sh down                  remove them (and their volumes, the extra inventory)
#   testbed/demo.sh status                list them
#
# The Koji source is what testbed/koji-source.sh finds: KOJI_SOURCE, else the release archive
# of KOJI_VERSION beside the repository (../shared/koji-source), else a download.
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
# This checkout's roles and modules, linked by `make collection-link`, never an installed copy
# of the collection that happens to be in ~/.ansible/collections.
export ANSIBLE_COLLECTIONS_PATH="$top/build/collections${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
mkdir -p "$top/build/collections/ansible_collections/kojiforge"
ln -sfn "$top" "$top/build/collections/ansible_collections/kojiforge/koji"
# The test bed's podman connection with pipelining (inventories/local names it).
export ANSIBLE_CONNECTION_PLUGINS="$here/connection_plugins"

IMAGE=localhost/kojiforge/debian12-systemd:latest
NETWORK=kojiforge-local
KOJI_VERSION=${KOJI_VERSION:-1.35.3}
# The web frontend's HTTPS port and Prometheus' port, published on this machine's loopback only.
WEB_PORT=${DEMO_WEB_PORT:-8443}
PROMETHEUS_PORT=${DEMO_PROMETHEUS_PORT:-9090}
INVENTORY=$top/inventories/local
# Builders added by `add-builder`: a second inventory source, as a site would add hosts to its own.
EXTRA_INVENTORY=$top/build/demo/builders.yml
EXTRA_LIST=$top/build/demo/builders.list
HUB=hub.koji.test

log() { printf '[demo] %s\n' "$*"; }
die() { printf '[demo] %s\n' "$*" >&2; exit 1; }

inventories() {
  printf -- '-i\n%s\n' "$INVENTORY"
  [ -f "$EXTRA_INVENTORY" ] && printf -- '-i\n%s\n' "$EXTRA_INVENTORY"
  return 0
}

# Hosts and their podman options, from the inventory (one source of truth for names).
demo_hosts() {
  local args
  mapfile -t args < <(inventories)
  ansible-inventory "${args[@]}" --list \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(sorted(d["_meta"]["hostvars"])))'
}

hosts_in_group() {
  local args
  mapfile -t args < <(inventories)
  ansible-inventory "${args[@]}" --graph "$1" 2>/dev/null | sed -n 's/^ *|--\([^@].*\)$/\1/p'
}

koji_source() {
  KOJI_VERSION=$KOJI_VERSION "$here/koji-source.sh" || die "no Koji source (see above)"
}

# The hosts find each other by name through the podman network's DNS (CNI's dnsname plugin,
# installed by prepare.sh). A network made before the plugin was there has none: remake it
# while nothing uses it, else say what to do.
ensure_network() {
  if podman network exists "$NETWORK"; then
    [ "$(podman network inspect --format '{{.DNSEnabled}}' "$NETWORK")" = true ] && return
    if [ -n "$(podman ps -aq --filter "network=$NETWORK")" ]; then
      die "podman network $NETWORK has no DNS, so the hosts cannot find each other by name.
       Remove the cluster (make demo-down) and run again: the network is then made with DNS."
    fi
    log "podman network $NETWORK has no DNS (made before the dnsname plugin was installed): remaking it"
    podman network rm "$NETWORK" >/dev/null
  fi
  podman network create "$NETWORK" >/dev/null
  [ "$(podman network inspect --format '{{.DNSEnabled}}' "$NETWORK")" = true ] \
    || die "podman made network $NETWORK without DNS: is the CNI dnsname plugin installed (/usr/lib/cni/dnsname, testbed/prepare.sh)?"
}

# Every host must resolve every other one before a playbook runs: kojid, kojira and the web
# reach the hub by name, and a failure there shows up much later as a service that will not start.
check_names() {
  local host other bad=()
  for host in "$@"; do
    for other in "$@"; do
      [ "$host" = "$other" ] && continue
      podman exec "$host" getent hosts "$other" >/dev/null 2>&1 || bad+=("$host cannot resolve $other")
    done
  done
  if [ ${#bad[@]} -gt 0 ]; then
    printf '[demo] %s\n' "${bad[@]}" >&2
    die "the test hosts cannot resolve each other by name. podman network $NETWORK must have DNS
       (podman network inspect $NETWORK: dns_enabled true), which on podman 4.3 with CNI needs the
       dnsname plugin and dnsmasq: run testbed/prepare.sh (it installs them), then make demo-down
       and make demo again."
  fi
  log "name resolution between ${*}: ok"
}

# Create (or start) the container of one host, with the podman options its groups need.
start_host() {
  local host=$1
  if podman container exists "$host"; then
    podman start "$host" >/dev/null
    return
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
}

# The image ships without apt lists (like the scenarios' prepare step, fill them once),
# after systemd has booted: apt's signature check fails while /tmp is still being set up.
await_host() {
  podman exec "$1" bash -c 'for _ in $(seq 60); do
      case "$(systemctl is-system-running 2>/dev/null)" in running|degraded) break ;; esac
      sleep 1; done
      ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq' >/dev/null
}

playbook() {
  local args
  mapfile -t args < <(inventories)
  (cd "$top" && ansible-playbook "${args[@]}" -e "koji_source=$source" "$@")
}

up() {
  source=$(koji_source)
  log "Koji source: $source"
  "$here/prepare.sh"
  ensure_network
  local host hosts
  mapfile -t hosts < <(demo_hosts)
  for host in "${hosts[@]}"; do start_host "$host"; done
  for host in "${hosts[@]}"; do await_host "$host" & done
  wait
  check_names "${hosts[@]}"
  log "running playbooks/site.yml against inventories/local"
  playbook playbooks/site.yml
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

# The extra inventory, one group per builder type, from the list add-builder keeps (a group
# appended twice to the YAML would be one key written twice: the second would hide the first).
write_extra_inventory() {
  {
    printf -- '---\n# Builders added by testbed/demo.sh add-builder.\nall:\n  children:\n    koji_builders:\n      children:\n'
    cut -d' ' -f2 "$EXTRA_LIST" | sort -u | while read -r type; do
      printf '        koji_builders_%s:\n          hosts:\n' "$type"
      awk -v t="$type" '$2 == t {print $1}' "$EXTRA_LIST" | while read -r host; do
        printf '            %s:\n' "$host"
      done
    done
  } >"$EXTRA_INVENTORY"
}

add_builder() {
  local name=${1:-} type=${2:-rpm}
  [ -n "$name" ] || die "usage: testbed/demo.sh add-builder NAME [TYPE]"
  case "$type" in rpm|createrepo|image) ;; *) die "builder type $type: one of rpm, createrepo, image" ;; esac
  podman container exists "$HUB" || die "no demo cluster: run make demo first"
  source=$(koji_source)
  if ! demo_hosts | grep -qx "$name"; then
    mkdir -p "$(dirname "$EXTRA_INVENTORY")"
    echo "$name $type" >>"$EXTRA_LIST"
    write_extra_inventory
    log "added $name to koji_builders_$type in ${EXTRA_INVENTORY#"$top"/}"
  fi
  start_host "$name"
  await_host "$name"
  local hosts
  mapfile -t hosts < <(demo_hosts)
  check_names "${hosts[@]}"
  log "running playbooks/builders.yml --limit $name,$HUB"
  playbook playbooks/builders.yml --limit "$name,$HUB"
}

down() {
  local host
  for host in $(demo_hosts); do
    if podman rm -f "$host" >/dev/null 2>&1; then log "removed $host"; fi
  done
  podman volume rm -f kojiforge-local-mnt-koji >/dev/null 2>&1 || true
  podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
  rm -f "$EXTRA_INVENTORY" "$EXTRA_LIST"
}

case "${1:-}" in
  up) up ;;
  add-builder) shift; add_builder "$@" ;;
  down) down ;;
  status) podman ps -a --filter "network=$NETWORK" ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
