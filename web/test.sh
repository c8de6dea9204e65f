#!/usr/bin/env bash
# The page in real Chromium against the native engine: builds the wasm package, serves web/ on
# 127.0.0.1, and for the built-in network, the two test models and two small family models
# (not 224x224; one with a [N, classes, 1, 1] output) picks the model and a photo on the page
# (web/test.mjs, playwright-core driving Debian's chromium headless, WebGPU on SwiftShader) and
# compares its top 5 with `googlenet classify` on the same image and weights.
# Saves a screenshot to web.png in Cargo's target folder (CARGO_TARGET_DIR where set), and with
# --update-screenshot also to the tracked docs/web.png; the last line says the result; non-zero
# on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."

update_screenshot=false
for arg in "$@"; do
    case "$arg" in
        --update-screenshot) update_screenshot=true ;;
        *) echo "usage: web/test.sh [--update-screenshot]" >&2; exit 2 ;;
    esac
done

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${missing[@]}"
fi
(cd web && npm ci --no-audit --no-fund --loglevel=error)

web/build.sh
cargo build --locked --bin googlenet
target="$(scripts/target-dir.sh)"
googlenet="$target/debug/googlenet"

work="$(mktemp -d)"
server=""
trap '[[ -n "$server" ]] && kill "$server"; rm -rf "$work"' EXIT
scripts/test-photo.py "$work/photo.png"
# The family models have random weights and Caffe preprocessing: near the mean colour their
# softmax does not saturate, so all of their top 5 have probabilities to compare.
scripts/test-photo.py --near-mean "$work/near-mean.png"

# What the native engine (the default adapter here) says for each model (`:f16`: with its conv
# weights in f16, the page's checkbox).
cases=()
for entry in builtin tests/data/googlenet_zoo.onnx tests/data/googlenet_torchvision.safetensors tests/data/family/resnet_bottleneck.onnx tests/data/family/densenet_block.onnx builtin:f16; do
    model="${entry%:f16}"
    flags=()
    [[ "$model" == builtin ]] || flags=(--model "$model")
    f16=false
    [[ "$entry" == *:f16 ]] && { flags+=(--f16-weights); f16=true; }
    photo="$work/photo.png"
    [[ "$model" == tests/data/family/* ]] && photo="$work/near-mean.png"
    "$googlenet" classify "${flags[@]}" --top 5 --json "$photo" > "$work/native.json" 2>/dev/null
    cases+=("$(python3 - "$model" "$f16" "$photo" "$work/native.json" <<'PY'
import json, os, sys
model, f16, photo, native = sys.argv[1:]
line = json.loads(open(native).read())
name = os.path.basename(model) + (" (f16 weights)" if f16 == "true" else "")
print(json.dumps({"name": name, "model": None if model == "builtin" else os.path.abspath(model), "f16": f16 == "true", "photo": photo, "expected": line["top"]}))
PY
)")
done
(IFS=,; echo "[${cases[*]}]") > "$work/cases.json"

python3 -u -m http.server 0 --bind 127.0.0.1 --directory web > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    port="$(grep -o 'port [0-9]*' "$work/server.log" | cut -d' ' -f2 || true)"
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "$port" ]] || { echo "the web server did not start: $(cat "$work/server.log")"; exit 1; }

node web/test.mjs "http://127.0.0.1:$port/index.html" "$work/cases.json" "$target/web.png"
if $update_screenshot; then
    # Through a temporary file and a rename: an interrupted copy never leaves half a picture.
    cp "$target/web.png" docs/web.png.tmp
    mv docs/web.png.tmp docs/web.png
    echo "updated docs/web.png"
fi
