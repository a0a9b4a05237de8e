#!/usr/bin/env bash
# Installs what mpchat's build and tests need and is quiet when it is already there:
# the wasm32 target, nightly rust-src (for the WebAssembly 1.0 build), wasm-bindgen-cli at the
# version Cargo.lock pins, wasm-pack, the npm packages, and JavaScriptCore's `jsc` (scripts/ensure-jsc.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target (stable)"
  rustup target add wasm32-unknown-unknown >&2
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  say "installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal >&2
fi
if ! rustup component list --installed --toolchain nightly | grep -q '^rust-src'; then
  say "adding rust-src to nightly"
  rustup component add rust-src --toolchain nightly >&2
fi

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock, or wasm-pack tries to download one.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (found '${have:-none}'), about 3 minutes"
  cargo install wasm-bindgen-cli --version "$want" --force >&2
fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack, about 2 minutes"
  cargo install wasm-pack >&2
fi

if [ ! -L node_modules ] && { [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# JavaScriptCore, the iPhone's engine: the jsc tests and the JavaScriptCore section of `make bench` run in it.
bash scripts/ensure-jsc.sh
