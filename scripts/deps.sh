#!/usr/bin/env bash
# scripts/deps.sh -- install what building and testing squall needs.
#
#   scripts/deps.sh            Debian packages (the list below); with
#                              SQUALL_BINDINGS not OFF, also the Go and Rust
#                              toolchains the bindings ask for
#   scripts/deps.sh --extra    also clang and its runtime (fuzzing stage)
#
# On Debian/Ubuntu, missing packages are installed with apt-get when run as
# root or with sudo; otherwise it says what to install and stops.  Go goes
# to /usr/local/go and Rust to ~/.cargo when the system's are missing or too
# old: put /usr/local/go/bin and ~/.cargo/bin on PATH (scripts/test.sh does).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bindings=ON
[[ ${SQUALL_BINDINGS:-ON} =~ ^(0|OFF|off|no|false)$ ]] && bindings=OFF
extra=0
[[ ${1:-} == --extra ]] && extra=1

say() { printf '==> %s\n' "$*"; }
die() { printf 'scripts/deps.sh: %s\n' "$*" >&2; exit 1; }

# Debian packages the build and the tests need: the one list (add here).
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libevent-dev libssl-dev zlib1g-dev
  libcmocka-dev
  curl python3 netcat-openbsd nginx-light
  clang-format
  doxygen # the API reference: the `docs` target, checked by scripts/test.sh
  abigail-tools # tests/abi/test_abi_baseline.sh (abidw, abidiff)
)
# What the bindings' tests need besides Go and Rust (one line per binding;
# installed unless SQUALL_BINDINGS=OFF).
BINDING_PACKAGES=(
  swig python3-dev python3-venv          # bindings/swig, bindings/python
  liblua5.4-dev lua5.4 lua-busted luarocks # bindings/lua
  openssl                                # bindings/go, bindings/rust: TLS test certificates (make_certs.sh)
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
  dpkg -s "$1" 2> /dev/null | grep -q '^Status: install ok installed'
}

version_ge() { # a b: a >= b (dotted versions)
  [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

ensure_packages() {
  if ! command -v dpkg > /dev/null; then
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

# Toolchains the bindings' tests need (bindings/<lang>/ctest.sh under ctest),
# at least the versions their go.mod / Cargo.toml ask for.
go_required() { sed -n 's/^go \([0-9.]*\).*/\1/p' bindings/go/go.mod 2> /dev/null | head -n1; }
go_version() { go env GOVERSION 2> /dev/null | sed 's/^go//'; }

# The official Go release from go.dev into /usr/local/go (Go's own
# instructions); used when Debian's golang-go is missing or too old.
install_go_release() {
  local ver arch tarball rc=0
  ver=$(curl -fsS --max-time 15 'https://go.dev/VERSION?m=text' 2> /dev/null | head -n1) || return 1
  [[ $ver == go* ]] || return 1
  arch=$(dpkg --print-architecture 2> /dev/null || echo amd64)
  tarball=$(mktemp)
  say "installing $ver from https://go.dev/dl/"
  curl -fsSL --max-time 900 "https://go.dev/dl/$ver.linux-$arch.tar.gz" -o "$tarball" || rc=$?
  if [[ $rc == 0 ]]; then
    as_root rm -rf /usr/local/go && as_root tar -C /usr/local -xzf "$tarball" || rc=$?
  fi
  rm -f "$tarball"
  [[ $rc == 0 ]] || return 1
  export PATH=/usr/local/go/bin:$PATH
}

ensure_go() {
  local need rc=0
  need=$(go_required)
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH=/usr/local/go/bin:$PATH
  fi
  if ! command -v go > /dev/null; then
    say "installing Go (golang-go)"
    apt_install golang-go || rc=$?
    [[ $rc == 77 ]] && die "go is missing: install Go (sudo apt-get install golang-go, or https://go.dev/dl)"
  fi
  if [[ -n $need ]] && { ! command -v go > /dev/null || ! version_ge "$(go_version)" "$need"; }; then
    say "Go ${need} or newer needed by bindings/go (found: $(go_version || true))"
    install_go_release || die "could not install Go >= $need: install it from https://go.dev/dl, or run with SQUALL_BINDINGS=OFF"
  fi
  command -v go > /dev/null || die "go still not found after installing it"
  say "go: $(go version)"
}

rust_required() {
  sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' bindings/rust/Cargo.toml 2> /dev/null | head -n1
}
rust_version() { rustc --version 2> /dev/null | awk '{print $2}'; }

install_rustup() {
  curl -sSf --max-time 15 -o /dev/null https://sh.rustup.rs 2> /dev/null || return 1
  say "installing Rust with rustup (https://sh.rustup.rs)"
  curl -sSf --max-time 300 https://sh.rustup.rs | sh -s -- -y --profile minimal || return 1
  export PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
}

ensure_cargo() {
  local need rc=0
  need=$(rust_required)
  if [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
    export PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
  fi
  if ! command -v cargo > /dev/null; then
    if ! install_rustup; then
      say "rustup not reachable: installing Debian's cargo"
      apt_install cargo || rc=$?
      [[ $rc == 77 ]] && die "cargo is missing: install Rust (https://rustup.rs) or sudo apt-get install cargo"
      [[ $rc == 0 ]] || die "could not install cargo"
    fi
  fi
  command -v cargo > /dev/null || die "cargo still not found after installing it"
  if [[ -n $need ]] && ! version_ge "$(rust_version)" "$need"; then
    say "Rust ${need} or newer needed by bindings/rust (found: $(rust_version))"
    if command -v rustup > /dev/null; then
      rustup update stable || die "rustup update failed"
    else
      install_rustup || die "could not install Rust >= $need: see https://rustup.rs, or run with SQUALL_BINDINGS=OFF"
    fi
    version_ge "$(rust_version)" "$need" || die "rustc $(rust_version) is older than $need"
  fi
  say "cargo: $(cargo --version)"
}

if [[ $extra == 1 ]]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi
[[ $bindings == ON ]] && PACKAGES+=("${BINDING_PACKAGES[@]}")
ensure_packages
if [[ $bindings == ON ]]; then
  ensure_go
  ensure_cargo
fi
