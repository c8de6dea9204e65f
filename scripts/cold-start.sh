#!/usr/bin/env bash
# Cold start, side by side in one run: a fresh `googlenet run` process (engine build + first run)
# against onnxruntime's session creation + first run, on the same ONNX model, alternating.
#
#   scripts/cold-start.sh MODEL.onnx [ROUNDS] [PYTHON]
#
# PYTHON must have numpy and onnxruntime. The first googlenet round fills the driver's and the
# engine's caches (a first process on a fresh machine); the later rounds are second processes.
set -euo pipefail
model="$1"
rounds="${2:-3}"
python="${3:-python3}"
googlenet="${GOOGLENET:-target/release/googlenet}"

ort() {
    "$python" - "$model" <<'PY'
import sys, time
import numpy as np
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = 2
started = time.perf_counter()
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
built = time.perf_counter()
shape = [1 if not isinstance(d, int) else d for d in session.get_inputs()[0].shape]
session.run(None, {session.get_inputs()[0].name: np.random.default_rng(7).standard_normal(shape).astype(np.float32)})
done = time.perf_counter()
print(f"{1e3 * (built - started):.0f} {1e3 * (done - built):.0f}")
PY
}

ours() {
    "$googlenet" run --model "$model" --no-check --json 2>/dev/null |
        "$python" -c "import json, sys; r = json.load(sys.stdin); print(f\"{r['engine_build_ms']:.0f} {r['run_ms']:.0f}\")"
}

echo "round  googlenet build+first ms  onnxruntime session+first ms  ratio"
for round in $(seq 1 "$rounds"); do
    read -r build first < <(ours)
    read -r session run < <(ort)
    echo "$round  $build+$first = $((build + first))  $session+$run = $((session + run))  $(awk "BEGIN {printf \"%.1fx\", ($build + $first) / ($session + $run)}")"
done
