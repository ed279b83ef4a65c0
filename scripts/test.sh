#!/usr/bin/env bash
# scripts/test.sh -- install what is missing, build, run every test.
#
#   scripts/test.sh                  deps + configure + build + ctest
#   scripts/test.sh -R capi          extra arguments go to ctest
#   scripts/test.sh --build-only     deps + configure + build (scripts/demo.sh)
#   scripts/test.sh --deps-only      install what is missing, nothing else
#
# Environment:
#   SQUALL_BUILD_DIR=dir   build directory (default: build, or build-asan)
#   SQUALL_SANITIZE=1      ASan+UBSan build (-DSQUALL_SANITIZE=ON) in its own
#                          directory (build-asan unless SQUALL_BUILD_DIR)
#   SQUALL_BINDINGS=OFF    skip the Go and Rust bindings (and their toolchains)
#   SQUALL_TEST_JOBS=N     parallel ctest jobs (default 2; tests use ephemeral
#                          ports, so they may run side by side)
#
# On Debian/Ubuntu, missing packages are installed with apt-get when run as
# root or with sudo; otherwise the script says what to install and stops.
# Exits non-zero on any failure.
set -euo pipefail

# Debian packages the build and the tests need: the one list (add here).
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libevent-dev libssl-dev zlib1g-dev
  libcmocka-dev
  curl python3 netcat-openbsd nginx-light
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

mode=test
if [[ ${1:-} == --build-only ]]; then mode=build; shift
elif [[ ${1:-} == --deps-only ]]; then mode=deps; shift
fi

sanitize=OFF
[[ ${SQUALL_SANITIZE:-0} =~ ^(1|ON|on|yes|true)$ ]] && sanitize=ON
bindings=ON
[[ ${SQUALL_BINDINGS:-ON} =~ ^(0|OFF|off|no|false)$ ]] && bindings=OFF
if [[ -n ${SQUALL_BUILD_DIR:-} ]]; then
  build=$SQUALL_BUILD_DIR
elif [[ $sanitize == ON ]]; then
  build=build-asan
else
  build=build
fi

say() { printf '==> %s\n' "$*"; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly, through sudo, or not at all.
as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    sudo "$@"
  elif command -v sudo > /dev/null && [[ -t 0 ]]; then
    sudo "$@" # asks for the password
  else
    return 77
  fi
}

apt_updated=0
apt_install() {
  local rc=0
  if [[ $apt_updated == 0 ]]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || rc=$?
    [[ $rc == 77 ]] && return 77
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "$@"
}

installed() { # package
  dpkg-query -W -f='${Status}' "$1" 2> /dev/null | grep -q 'install ok installed'
}

ensure_packages() {
  if ! command -v dpkg-query > /dev/null; then
    say "not a Debian system: not installing packages; this needs: ${PACKAGES[*]}"
    return 0
  fi
  local missing=() p rc=0
  for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
  done
  if [[ ${#missing[@]} == 0 ]]; then
    say "packages present: ${PACKAGES[*]}"
    return 0
  fi
  say "installing: ${missing[*]}"
  apt_install "${missing[@]}" || rc=$?
  if [[ $rc == 77 ]]; then
    die "missing packages: ${missing[*]}
  run as root or with sudo, or install them first:
  sudo apt-get install ${missing[*]}"
  fi
  [[ $rc == 0 ]] || die "apt-get install failed ($rc)"
}

# Toolchains the bindings' tests need (bindings/<lang>/ctest.sh under ctest).
ensure_go() {
  if ! command -v go > /dev/null && [[ -x /usr/local/go/bin/go ]]; then
    export PATH=$PATH:/usr/local/go/bin
  fi
  if command -v go > /dev/null; then
    say "go: $(go version)"
    return 0
  fi
  say "installing Go (golang-go)"
  local rc=0
  apt_install golang-go || rc=$?
  [[ $rc == 77 ]] && die "go is missing: install Go (sudo apt-get install golang-go)"
  [[ $rc == 0 ]] || die "could not install golang-go"
}

ensure_cargo() {
  if ! command -v cargo > /dev/null && [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
    export PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
  fi
  if command -v cargo > /dev/null; then
    say "cargo: $(cargo --version)"
    return 0
  fi
  if curl -sSf --max-time 15 -o /dev/null https://sh.rustup.rs 2> /dev/null; then
    say "installing Rust with rustup (https://sh.rustup.rs)"
    curl -sSf --max-time 300 https://sh.rustup.rs | sh -s -- -y --profile minimal ||
      die "rustup installation failed"
    export PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
  else
    say "rustup not reachable: installing Debian's cargo"
    local rc=0
    apt_install cargo || rc=$?
    [[ $rc == 77 ]] && die "cargo is missing: install Rust (https://rustup.rs) or sudo apt-get install cargo"
    [[ $rc == 0 ]] || die "could not install cargo"
  fi
  command -v cargo > /dev/null || die "cargo still not found after installing it"
}

ensure_packages
if [[ $bindings == ON ]]; then
  ensure_go
  ensure_cargo
fi
[[ $mode == deps ]] && exit 0

# A build directory made by another generator cannot be reused: start over.
if [[ -f $build/CMakeCache.txt ]] &&
   ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; then
  say "$build was configured with another generator: reconfiguring from scratch"
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi

say "configure $build (sanitize=$sanitize, bindings=$bindings)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSQUALL_SANITIZE=$sanitize -DSQUALL_BINDINGS=$bindings -DSQUALL_TESTS=ON
say "build"
cmake --build "$build"
[[ $mode == build ]] && exit 0

say "test"
ctest --test-dir "$build" --output-on-failure -j "${SQUALL_TEST_JOBS:-2}" "$@"
