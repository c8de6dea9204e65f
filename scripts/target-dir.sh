#!/usr/bin/env bash
# Prints Cargo's target folder for this workspace: `target/` unless CARGO_TARGET_DIR or a Cargo
# config (`build.target-dir`) moves it. Scripts that read built files find them through this.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --locked --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
