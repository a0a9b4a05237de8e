#!/usr/bin/env bash
# Builds dist/mpchat/: a WebAssembly 1.0 (MVP + mutable-globals) module, brotli-compressed, with its
# CommonJS glue, loader and typings. Phones' iOS runtime rejects newer instructions, so the std library is
# rebuilt for the MVP CPU with nightly (stable's prebuilt std carries sign-ext, bulk-memory, …).
set -euo pipefail
cd "$(dirname "$0")/.."

# MPCHAT_NAMED=1 builds the same package into target/mpchat-named/mpchat with the wasm's function names
# kept, for profiles (bench/profile.js), in a target folder of its own.
built=target/mpchat-build
if [ -n "${MPCHAT_NAMED:-}" ]; then
  export CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=target/named
  built=target/mpchat-named-build
fi

# immediate-abort and no panic locations: mpchat never panics, so the panic machinery is dead weight.
RUSTFLAGS="-Ctarget-cpu=mvp -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" cargo +nightly build --quiet --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
mkdir -p "$built"
wasm-bindgen --target bundler --out-dir "$built" --out-name mpchat \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/mpchat.wasm"
node scripts/package.js
