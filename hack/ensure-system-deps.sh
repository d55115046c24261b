#!/usr/bin/env bash
# Makes sure the system packages the tests use are present: installs them with apt-get when running
# as root, otherwise names them and says how to install them.
#
#   hack/ensure-system-deps.sh [GROUP...]    groups: base (default) node
#     base  what every test tier uses: redis-server (also as Redis Sentinel: `redis-server CONF --sentinel`,
#           so no redis-sentinel package), prometheus/promtool, openssl
#     node  what the test cluster's node runs besides the Kubernetes components (make tools):
#           containerd, runc, the CNI plugins, nftables, conntrack, iproute2, nsenter/unshare, and gcc
#           with a static libc for the pod sandbox (hack/tools/pause)
set -euo pipefail

# command -> Debian package, per group
declare -A base=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [prometheus]=prometheus
  [promtool]=prometheus
  [openssl]=openssl
)
declare -A node=(
  [containerd]=containerd
  [ctr]=containerd
  [runc]=runc
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [nft]=nftables
  [conntrack]=conntrack
  [ip]=iproute2
  [nsenter]=util-linux
  [unshare]=util-linux
  [gcc]=gcc
  [/usr/lib/x86_64-linux-gnu/libc.a]=libc6-dev
)

present() { if [[ $1 == /* ]]; then [ -e "$1" ]; else command -v "$1" >/dev/null 2>&1; fi; }

missing=()
for group in "${@:-base}"; do
  case $group in
    base | node) ;;
    *)
      echo "ensure-system-deps: unknown group '$group' (known: base node)" >&2
      exit 2
      ;;
  esac
  declare -n wanted=$group
  for cmd in "${!wanted[@]}"; do
    present "$cmd" || missing+=("${wanted[$cmd]}")
  done
  unset -n wanted
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "apicache: missing system packages: ${packages[*]}" >&2
  echo "  install them with: sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi

echo ">> apt-get install ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# Debian starts the packaged services; tests start their own (on free loopback ports, or inside the
# test cluster's node) instead.
for svc in redis-server prometheus containerd; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  service "$svc" stop >/dev/null 2>&1 || true
done
