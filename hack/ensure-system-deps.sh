#!/usr/bin/env bash
# Makes sure the system packages the tests use are present: installs them with apt-get when running
# as root, otherwise names them and says how to install them.
set -euo pipefail

# command -> Debian package
declare -A wanted=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [prometheus]=prometheus
  [promtool]=prometheus
  [openssl]=openssl
)

missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
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
# Debian starts the packaged services; tests start their own on free loopback ports instead.
for svc in redis-server prometheus; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  service "$svc" stop >/dev/null 2>&1 || true
done
