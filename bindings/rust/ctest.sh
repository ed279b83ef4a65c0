#!/usr/bin/env bash
# Build and run the Rust binding's tests (all features) against a squall
# build tree.  ctest runs this as "bindings.rust" with SQUALL_BUILD_DIR and
# SQUALL_SOURCE_DIR set; by hand it defaults to ../../build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${SQUALL_BUILD_DIR:-$here/../../build}"
build="$(cd "$build" && pwd)"
export SQUALL_SOURCE_DIR="${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "bindings/rust: cargo not found (install Rust >= 1.85 with rustup)" >&2
  exit 1
fi
if [ ! -e "$build/libsquall.so" ]; then
  echo "bindings/rust: $build/libsquall.so not found; build squall first" >&2
  exit 1
fi

export SQUALL_LIB_DIR="$build"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Keep compile time and memory modest on small CI machines.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

cd "$here"
cargo --version
# An ASan build of libsquall (SQUALL_SANITIZE=ON) needs the ASan runtime
# loaded first into the (uninstrumented) test binaries.
asan_rt="$(ldd "$build/libsquall.so" 2>/dev/null | awk '/libasan/ {print $3; exit}')"
targets=()
LD_PRELOAD_BEFORE="${LD_PRELOAD:-}"
if [ -n "$asan_rt" ]; then
  # rustdoc does not run under the preloaded runtime: skip the doctests
  # (they are compile-only examples, checked by the normal build).
  targets=(--all-targets)
  echo "bindings/rust: libsquall is built with ASan; preloading $asan_rt"
  export LD_PRELOAD="$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}"
  # Leak checking would report the Rust test harness' own allocations.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
fi
# Compile first without the preload (rustc must not run under it).
LD_PRELOAD="${LD_PRELOAD_BEFORE:-}" cargo test --locked --workspace --all-features "${targets[@]}" --no-run
cargo test --locked --workspace --all-features "${targets[@]}" -- --test-threads="${RUST_TEST_THREADS:-4}"
# A user's crate against an installed squall: pkg-config, the usual
# prefixes, `cargo run` without LD_LIBRARY_PATH, the not-found message.
unset LD_PRELOAD
bash "$here/consumer_test.sh"
