#!/usr/bin/env bash
# Builds the engine for the browser into web/pkg: the wasm module and its JavaScript glue
# (wasm-bindgen's CLI at the version Cargo.lock pins for the crate, installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
version="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, ""); print }' Cargo.lock)"
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]]; then
    echo "installing wasm-bindgen-cli $version"
    cargo install wasm-bindgen-cli --version "$version"
fi
cargo build --locked --release --target wasm32-unknown-unknown -p googlenet-web
wasm-bindgen --target web --no-typescript --out-dir web/pkg "$(scripts/target-dir.sh)/wasm32-unknown-unknown/release/googlenet_web.wasm"
echo "built web/pkg ($(du -h web/pkg/googlenet_web_bg.wasm | cut -f1) of wasm)"
