#!/usr/bin/env bash
# Builds dist/mpchat/: a WebAssembly 1.0 (MVP + mutable-globals) module, brotli-compressed, with its
# CommonJS glue, loader and typings. Phones' iOS runtime rejects newer instructions, so the std library is
# rebuilt for the MVP CPU with nightly (stable's prebuilt std carries sign-ext, bulk-memory, …).
set -euo pipefail
cd "$(dirname "$0")/.."

# immediate-abort and no panic locations: mpchat never panics, so the panic machinery is dead weight.
RUSTFLAGS="-Ctarget-cpu=mvp -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" cargo +nightly build --quiet --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
mkdir -p target/mpchat-build
wasm-bindgen --target bundler --out-dir target/mpchat-build --out-name mpchat \
  target/wasm32-unknown-unknown/release/mpchat.wasm
node scripts/package.js
