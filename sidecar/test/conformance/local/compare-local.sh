#!/usr/bin/env bash
# Runs the vendored cache-tests suite against nginx and Varnish from Debian's packages on this machine
# (apt-get install nginx-light varnish), as the suite's Docker image configures them: nginx with
# proxy_cache (nginx.conf here), Varnish with its built-in VCL. Writes ../results/{nginx,varnish}-local.json;
# `make conformance-report` then shows them beside the sidecar's and the published results.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
run() { node --conditions=source --import tsx "$here/../conformance.ts" "$@"; }
work="$(mktemp -d)"
chmod 755 "$work" # nginx workers (user nobody) keep their cache under it
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

cd "$root"
if command -v nginx >/dev/null; then
  mkdir -p "$work/nginx"
  sed "s#NGINX_DIR#$work/nginx#g" "$here/nginx.conf" > "$work/nginx/nginx.conf"
  nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" & pids+=($!)
  wait_port 18002
  run run --base http://127.0.0.1:18002 --origin-port 18000 --out nginx-local
  echo "nginx $(nginx -v 2>&1 | sed 's/.*: //'): results/nginx-local.json"
fi
if command -v varnishd >/dev/null; then
  varnishd -F -n "$work/varnish" -a 127.0.0.1:18003 -b 127.0.0.1:18000 -s malloc,64m >/dev/null 2>&1 & pids+=($!)
  wait_port 18003
  run run --base http://127.0.0.1:18003 --origin-port 18000 --out varnish-local
  echo "$(varnishd -V 2>&1 | head -1): results/varnish-local.json"
fi
