#!/usr/bin/env bash
# Steady-state latency, side by side in one run: `googlenet bench` on an ONNX model against
# onnxruntime's CPU execution provider on the same model and machine, alternating rounds, so
# that every googlenet figure has onnxruntime's from the same minutes.
#
#   scripts/compare-onnxruntime.sh MODEL.onnx [ROUNDS] [ITERS] [PYTHON]
#
# PYTHON must have numpy and onnxruntime (e.g. a venv: pip install numpy onnxruntime).
# onnxruntime runs with as many intra-op threads as the machine has cores; googlenet runs with
# the tuning cache in effect (none: the adapter's defaults). Each figure is the median of ITERS
# runs after warm-up, at batch 1.
set -euo pipefail
model="$1"
rounds="${2:-2}"
iters="${3:-10}"
python="${4:-python3}"
googlenet="${GOOGLENET:-target/release/googlenet}"

ort_ms() {
    "$python" - "$model" "$iters" <<'PY'
import os, statistics, sys, time
import numpy as np
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = os.cpu_count()
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
shape = [d if isinstance(d, int) else 1 for d in session.get_inputs()[0].shape]
feed = {session.get_inputs()[0].name: np.random.default_rng(7).standard_normal(shape).astype(np.float32)}
for _ in range(3):
    session.run(None, feed)
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    session.run(None, feed)
    times.append(1e3 * (time.perf_counter() - started))
print(f"{statistics.median(times):.2f}")
PY
}

googlenet_ms() {
    "$googlenet" bench --model "$model" --iters "$iters" --cpu-iters 0 --json 2>/dev/null |
        "$python" -c "import json, sys; print(f\"{json.load(sys.stdin)['end_to_end_ms']['median']:.2f}\")"
}

"$googlenet" info > "${TMPDIR:-/tmp}/googlenet-info.txt" && head -1 "${TMPDIR:-/tmp}/googlenet-info.txt"
echo "round  googlenet ms  onnxruntime ms  ratio"
for round in $(seq 1 "$rounds"); do
    ours=$(googlenet_ms)
    theirs=$(ort_ms)
    echo "$round  $ours  $theirs  $(awk "BEGIN {printf \"%.1fx\", $ours / $theirs}")"
done
