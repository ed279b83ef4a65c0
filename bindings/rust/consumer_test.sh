#!/usr/bin/env bash
# A crate depending on squall-sys, built as a user would (bindings/rust/ctest.sh
# runs this after the test suite):
#   1. squall installed into a prefix, only PKG_CONFIG_PATH set: `cargo run`
#      links and runs without LD_LIBRARY_PATH;
#   2. the same prefix as ~/.local (HOME pointed at a scratch directory), no
#      variable at all: found among the usual prefixes, runs;
#   3. nothing installed, nothing set: the build fails saying what to set.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(cd "${SQUALL_BUILD_DIR:-$here/../../build}" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log" >&2
  exit 1
}
libdir=$(dirname "$(find "$tmp/prefix" -name 'libsquall.so' -print -quit)")

mkdir -p "$tmp/app/src"
cat > "$tmp/app/Cargo.toml" <<TOML
[package]
name = "consumer"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
squall-sys = { path = "$here/squall-sys" }

[workspace]
TOML
cat > "$tmp/app/src/main.rs" <<'RS'
fn main() {
    let v = unsafe { squall_sys::squall_version() };
    println!("squall {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
}
RS

# Cargo and rustup keep their own homes when HOME moves below.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_TARGET_DIR="$tmp/target" CARGO_TERM_COLOR=never
clean_env=(env -u SQUALL_LIB_DIR -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH -u SQUALL_STATIC)
want=$(sed -n 's/^#define SQUALL_VERSION_STRING "\(.*\)"/\1/p' "$here/../../capi/include/squall/squall.h")
fail=0

check_run() { # label, then the command that must print "squall <version>"
  local label=$1 out
  shift
  if out=$("$@" 2> "$tmp/err.log") && [[ $out == "squall $want" ]]; then
    echo "ok   $label"
  else
    echo "FAIL $label: printed '${out:-}'" >&2
    tail -n 30 "$tmp/err.log" >&2
    fail=1
  fi
}

cd "$tmp/app"
check_run "PKG_CONFIG_PATH only: cargo run" \
  "${clean_env[@]}" PKG_CONFIG_PATH="$libdir/pkgconfig" cargo run -q

mkdir -p "$tmp/home"
mv "$tmp/prefix" "$tmp/home/.local"
rm -rf "$tmp/target"
check_run "installed in ~/.local, nothing set: cargo run" \
  "${clean_env[@]}" HOME="$tmp/home" cargo run -q

rm -rf "$tmp/target" "$tmp/home/.local"
if "${clean_env[@]}" HOME="$tmp/home" PKG_CONFIG_PATH="$tmp/none" cargo build -q > "$tmp/err.log" 2>&1; then
  if ldconfig -p 2> /dev/null | grep -q 'libsquall\.so '; then
    echo "skip nothing installed: a system-wide libsquall is present"
  else
    echo "FAIL nothing installed: the build succeeded" >&2
    fail=1
  fi
elif grep -q 'squall-sys: cannot find libsquall.so' "$tmp/err.log" &&
  grep -q 'export PKG_CONFIG_PATH=' "$tmp/err.log" &&
  grep -q 'export SQUALL_LIB_DIR=' "$tmp/err.log"; then
  echo "ok   nothing installed: the build says what to set"
else
  echo "FAIL nothing installed: unclear failure:" >&2
  cat "$tmp/err.log" >&2
  fail=1
fi
exit $fail
