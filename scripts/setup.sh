#!/usr/bin/env bash
# Installs what Taqib needs on a fresh Debian machine, beside `npm ci`:
#   ferretdb   FerretDB v1.24.2 from the Go module proxy, with the patches in scripts/ferretdb,
#              built into .tools/bin (needs Go >= 1.24); rebuilt when the patches change
#   ferretdb-check  (opt-in, not in the default set) builds the patched FerretDB source and runs
#              its Go tests for the patched packages
#   nats-server  Debian's nats-server package (multi-node tests)
#   chromium     Debian's chromium package (browser tests)
# Usage: scripts/setup.sh [ferretdb] [nats] [chromium] [ferretdb-check]   (no argument: the first three)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(ferretdb nats chromium)

FERRETDB_VERSION=v1.24.2

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: $* is missing; run as root: apt-get update && apt-get install -y $*" >&2
    return 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The Go version FerretDB $FERRETDB_VERSION needs: its go.mod says `go 1.24` / `toolchain go1.24.3`
# (checked again against the downloaded go.mod below).
FERRETDB_GO=1.24
FERRETDB_TOOLCHAIN=go1.24.3
# The project's patches to FerretDB (scripts/ferretdb/README.md says what each does), applied in order.
patch_dir="$root/scripts/ferretdb"

# sha256 over the sorted patch files' contents, then the FerretDB version and a newline;
# stored beside the binary, so a change of patch or version rebuilds it.
patches_hash() {
  local f
  {
    for f in $(cd "$patch_dir" && ls -- *.patch 2>/dev/null | LC_ALL=C sort); do cat "$patch_dir/$f"; done
    printf '%s\n' "$FERRETDB_VERSION"
  } | sha256sum | cut -d' ' -f1
}

# "1.26.8" from "go1.26.8"; "" if no usable go
go_version() {
  command -v go >/dev/null || return 0
  local v
  v=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || go version 2>/dev/null | awk '{print $3}')
  v=${v#go}
  printf '%s' "${v%%[!0-9.]*}"
}

# version_ge A B: A >= B, comparing dot-separated numbers
version_ge() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -1)" = "$2" ]
}

go_help() {
  cat >&2 <<MSG
setup: FerretDB $FERRETDB_VERSION is built from source with Go >= $1; $2.
  Install Go >= $1 from https://go.dev/dl/ (e.g. as root:
    curl -fsSL https://go.dev/dl/$FERRETDB_TOOLCHAIN.linux-amd64.tar.gz | tar -C /usr/local -xz
    export PATH=/usr/local/go/bin:\$PATH)
  or, with any Go >= 1.21 already installed, let it fetch that toolchain from the Go module proxy:
    GOTOOLCHAIN=$FERRETDB_TOOLCHAIN go version      # then run setup with GOTOOLCHAIN=$FERRETDB_TOOLCHAIN
  (Debian 12's golang package is Go 1.19: it cannot read FerretDB's go.mod, "unknown directive: toolchain".)
  Then run: npm run setup
MSG
}

# check_go [required]: fails with what to install when this go can't build FerretDB
check_go() {
  local need=${1:-$FERRETDB_GO} have
  have=$(go_version)
  if [ -z "$have" ]; then go_help "$need" "no go command was found"; return 1; fi
  version_ge "$have" "$need" && return 0
  # Go >= 1.21 switches to the toolchain go.mod names by itself (GOTOOLCHAIN=auto, from the module proxy)
  if version_ge "$have" 1.21 && [ "$(go env GOTOOLCHAIN 2>/dev/null)" != local ]; then
    echo "setup: Go $have is older than $need; go will fetch its $FERRETDB_TOOLCHAIN toolchain from the module proxy" >&2
    return 0
  fi
  go_help "$need" "this go is $have"
  return 1
}

step_start=0
work=""
# temp_dir: a new temporary directory in $work, removed on every exit (error, Ctrl-C, kill)
temp_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
step() { echo "setup: [ferretdb $((SECONDS - step_start))s] $*" >&2; }

# apply_patch DIR FILE: `patch -p1`, or git's equivalent where the patch tool is not installed
apply_patch() {
  if command -v patch >/dev/null; then
    patch -d "$1" -p1 --forward --batch --quiet < "$2"
  else
    (cd "$1" && git apply -p1 "$2")
  fi
}

# build_ferretdb DIR: FerretDB's source with the patches applied in DIR (which must not exist yet),
# and the server built into DIR/ferretdb.built
build_ferretdb() {
  local dir=$1 modcache src need p
  step_start=$SECONDS
  step "1/4 FerretDB $FERRETDB_VERSION module source (Go module cache)"
  modcache=$(go env GOMODCACHE)
  src="$modcache/github.com/!ferret!d!b/!ferret!d!b@$FERRETDB_VERSION"
  if [ ! -f "$src/go.mod" ]; then
    (cd "$root" && GOFLAGS=-mod=mod go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION 2>/dev/null) ||
      (cd /tmp && go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION)
  fi
  need=$(awk '$1 == "go" { print $2; exit }' "$src/go.mod")
  if [ -n "$need" ] && [ "$need" != "$FERRETDB_GO" ]; then check_go "$need" || return 1; fi

  step "2/4 copy and patch"
  mkdir -p "$dir"
  cp -r "$src/." "$dir/"
  chmod -R u+w "$dir"
  # `go install …@$FERRETDB_VERSION` builds a binary that panics at start (build/version/version.txt is
  # generated by FerretDB's release tooling), so build from the module source with that file.
  echo "$FERRETDB_VERSION" > "$dir/build/version/version.txt"
  for p in $(cd "$patch_dir" && ls -- *.patch 2>/dev/null | LC_ALL=C sort); do
    if ! apply_patch "$dir" "$patch_dir/$p"; then
      echo "setup: scripts/ferretdb/$p does not apply to FerretDB $FERRETDB_VERSION" >&2
      return 1
    fi
    echo "setup:   applied $p" >&2
  done

  step "3/4 go build ./cmd/ferretdb (a few minutes the first time, seconds with a warm Go build cache)"
  (cd "$dir" && go build -o "$dir/ferretdb.built" ./cmd/ferretdb) &
  local build=$! ticks=0
  # A cold build is silent for minutes: say it is still going every 15 s.
  while kill -0 "$build" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if [ $((ticks % 15)) -eq 0 ] && kill -0 "$build" 2>/dev/null; then step "3/4 still building (once; later starts skip this)"; fi
  done
  wait "$build"
}

install_ferretdb() {
  local bin="$root/.tools/bin/ferretdb" stamp="$root/.tools/bin/ferretdb.patches.sha256" hash
  hash=$(patches_hash)
  # (Not `| grep -q`: with pipefail, grep closing the pipe early fails the check.)
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ] &&
    [[ "$("$bin" --version 2>/dev/null)" == *"$FERRETDB_VERSION"* ]]; then
    return 0
  fi
  check_go || return 1
  if [ -x "$bin" ]; then
    echo "setup: rebuilding FerretDB $FERRETDB_VERSION with the patches in scripts/ferretdb (the one in .tools/bin predates them)" >&2
  else
    echo "setup: building FerretDB $FERRETDB_VERSION with the patches in scripts/ferretdb into .tools/bin (once)" >&2
  fi
  temp_dir
  build_ferretdb "$work/src"
  step "4/4 install .tools/bin/ferretdb"
  mkdir -p "$root/.tools/bin"
  rm -f "$stamp"
  mv -f "$work/src/ferretdb.built" "$bin"
  echo "$hash" > "$stamp"
  rm -rf "$work"
  echo "setup: $("$bin" --version 2>&1 | grep -m1 version), patched; done in $((SECONDS - step_start))s" >&2
}

# The patched tree's own Go tests for the packages the patches touch (they need no database server),
# after building it. Opt-in: `bash scripts/setup.sh ferretdb-check`.
check_ferretdb() {
  local start=$SECONDS
  check_go || return 1
  temp_dir
  build_ferretdb "$work/src"
  step "4/4 go test (patched tree)"
  # FerretDB's test helpers find the tree's root by its .git directory
  mkdir -p "$work/src/.git"
  (cd "$work/src" && go test -count=1 \
    ./internal/backends/sqlite/... \
    ./internal/handler/ \
    ./internal/handler/common/... \
    ./internal/handler/sjson/)
  rm -rf "$work"
  echo "setup: ferretdb-check passed in $((SECONDS - start))s" >&2
}

install_nats() {
  command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || apt_install nats-server
}

install_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

for w in "${want[@]}"; do
  case "$w" in
    ferretdb) install_ferretdb ;;
    ferretdb-check) check_ferretdb ;;
    nats) install_nats ;;
    chromium) install_chromium ;;
    *) echo "setup: unknown component $w (ferretdb, nats, chromium, ferretdb-check)" >&2; exit 2 ;;
  esac
done
