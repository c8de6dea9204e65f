#!/usr/bin/env bash
# tools/zoo/compare.sh DIR GOOGLENET_BINARY [MODEL...]: runs `googlenet run` on every model that
# tools/zoo/prepare.py wrote into DIR (or the ones named), at batch 1 and batch 2, and compares
# each output with onnxruntime's (tools/zoo/compare.py: at most 1e-4 of the largest output, the
# same top 5). PYTHON (default python3) needs numpy. Exits 1 if any model fails to run or match.
set -u
dir=$(cd "${1:?usage: compare.sh DIR GOOGLENET_BINARY [MODEL...]}" && pwd)
bin=${2:?usage: compare.sh DIR GOOGLENET_BINARY [MODEL...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
    set -- $(cd "$dir" && ls *.onnx | sed 's/\.onnx$//')
fi
failed=0
for model in "$@"; do
    for variant in "" .batch2; do
        label=$model${variant:-.batch1}
        rm -f "$work/out.npy"
        "$bin" run --model "$dir/$model.onnx" --input "$dir/$model$variant.input.npy" --output "$work/out.npy" --no-check >"$work/log" 2>&1
        status=$?
        if [ -f "$work/out.npy" ]; then
            "$python" "$here/compare.py" "$work/out.npy" "$dir/$model$variant.expected.npy" "$label" || failed=1
        else
            echo "$label: googlenet run failed ($status): $(grep -v '^\s*$' "$work/log" | tail -1)"
            failed=1
        fi
    done
done
exit $failed
