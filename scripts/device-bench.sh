#!/usr/bin/env bash
# Benchmarks googlenet on a Linux x86-64 machine with an NVIDIA GPU and no package registry.
#
#   On the build machine:   scripts/device-bench.sh --prepare DIR
#       copies target/release/googlenet and the Vulkan loader (libvulkan.so.1, from Debian's
#       libvulkan1, fetched with apt-get download if this machine lacks it) into DIR, and the
#       Khronos validation layer with scripts/vulkan-validation.sh where Debian's chromium is here.
#   On the GPU machine:     scripts/device-bench.sh DIR [OUT]
#       reports whether wgpu finds a Vulkan (or GL) adapter, then runs `googlenet info`, `verify`,
#       `run --aux` under the validation layer (if carried), `tune` and `bench --json` (with the
#       serial schedule and the split-K plan beside the tuned one; then untuned, f32 against f16
#       weights), then for every family model carried (DIR/models/*.onnx: the small ones of
#       tests/data/family, and any full-size exports named in FAMILY_MODELS at --prepare) its GPU
#       plan and `bench --serial` (grouped branches against one after another), within 9 minutes
#       in all, writing their output under OUT (default .).
#
# NVIDIA machines may have the driver's libraries but no Vulkan loader (the carried one is put on
# LD_LIBRARY_PATH) or no ICD manifest (one pointing at the driver is written, and
# VK_ICD_FILENAMES set to it).
set -u

prepare() {
    local dir=$1
    mkdir -p "$dir"
    cp target/release/googlenet "$dir/" || { echo "build first: cargo build --release" >&2; exit 1; }
    local loader
    loader=$(ldconfig -p | awk '/libvulkan\.so\.1 /{print $NF; exit}')
    if [ -z "$loader" ]; then
        (cd "$(mktemp -d)" && apt-get download libvulkan1 >/dev/null && dpkg-deb -x libvulkan1_*.deb x &&
            cp x/usr/lib/x86_64-linux-gnu/libvulkan.so.1* "$dir/")
    else
        cp -L "$loader" "$dir/libvulkan.so.1"
    fi
    mkdir -p "$dir/models"
    cp tests/data/family/*.onnx "$dir/models/"
    # Full-size exports (tools/export_family.py), e.g. FAMILY_MODELS="v3.onnx v4.onnx".
    for model in ${FAMILY_MODELS:-}; do
        cp "$model" "$dir/models/"
    done
    if [ -f /usr/lib/chromium/libVkLayer_khronos_validation.so ]; then
        cp /usr/lib/chromium/libVkLayer_khronos_validation.so scripts/vulkan-validation.sh "$dir/"
    fi
    ls -la "$dir"
}

if [ "${1:-}" = "--prepare" ]; then
    prepare "${2:?usage: $0 --prepare DIR}"
    exit 0
fi

dir=$(cd "${1:?usage: $0 DIR [OUT]}" && pwd)
out=${2:-.}
mkdir -p "$out"
bin=$dir/googlenet
export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== machine"
uname -m
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | head -3

echo "== Vulkan ICD manifests"
manifests=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null)
if [ -n "$manifests" ]; then
    echo "$manifests"
else
    driver=$(ldconfig -p | awk '/libGLX_nvidia\.so\.0 /{print $NF; exit}')
    [ -z "$driver" ] && driver=$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 2>/dev/null | head -1)
    if [ -n "$driver" ]; then
        icd="$out/nvidia_icd.json"
        printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$driver" > "$icd"
        export VK_ICD_FILENAMES=$icd
        echo "none installed; wrote $icd for $driver"
    else
        echo "none installed, and no NVIDIA Vulkan driver library (libGLX_nvidia.so.0) found"
    fi
fi

echo "== googlenet info"
if timeout 60 "$bin" info > "$out/info.txt" 2>&1; then
    cat "$out/info.txt"
else
    cat "$out/info.txt"
    echo "no Vulkan adapter: trying wgpu's GL backend"
    export WGPU_BACKEND=gl
    timeout 60 "$bin" info > "$out/info.txt" 2>&1 || { cat "$out/info.txt"; echo "no Vulkan or GL adapter"; exit 1; }
    cat "$out/info.txt"
fi

echo "== googlenet verify"
timeout 120 "$bin" verify > "$out/verify.txt" 2>&1
echo "exit status $?"
tail -25 "$out/verify.txt"

if [ -f "$dir/libVkLayer_khronos_validation.so" ] && [ "${WGPU_BACKEND:-}" != gl ]; then
    echo "== googlenet run --aux under the Vulkan validation layer"
    timeout 60 "$dir/vulkan-validation.sh" "$dir/libVkLayer_khronos_validation.so" -- "$bin" run --aux > "$out/validation.txt" 2>&1
    echo "exit status $?"
    grep -v 'LAYER' "$out/validation.txt" | tail -30
fi

echo "== googlenet tune"
export GOOGLENET_TUNE_CACHE="$out/tune.json"
timeout 90 "$bin" tune > "$out/tune.txt" 2>&1
echo "exit status $?"
cat "$out/tune.txt"

echo "== googlenet bench --json"
timeout 120 "$bin" bench --json --iters 20 --cpu-iters 1 --serial --split-k --roofline > "$out/bench.json" 2> "$out/bench.err"
echo "exit status $?"
head -c 3000 "$out/bench.json"

# f16 weights (an opt-in): its conv dispatches were not tuned above (their tuning keys name the
# precision), so both runs here use the untuned defaults, one after the other.
echo "== googlenet bench --json, untuned, f32 then f16 weights"
for weights in "" --f16-weights; do
    GOOGLENET_TUNE_CACHE="$out/untuned.json" timeout 45 "$bin" bench --json --iters 20 --cpu-iters 0 $weights > "$out/bench-untuned$weights.json" 2>> "$out/bench.err"
    echo "exit status $?"
    grep -m1 -A4 '"gpu_ms"' "$out/bench-untuned$weights.json"
done

echo "== family models: the GPU plan's first line, and grouped against serial branches"
for model in "$dir"/models/*.onnx; do
    name=$(basename "$model" .onnx)
    echo "-- $name: $(timeout 30 "$bin" plan --model "$model" --for gpu 2>/dev/null | head -1)"
    timeout 60 "$bin" bench --model "$model" --json --iters 20 --cpu-iters 0 --serial > "$out/bench-$name.json" 2>> "$out/bench.err"
    echo "exit status $?"
    grep -m1 -A2 '"end_to_end_ms"' "$out/bench-$name.json"
    grep -m1 -A2 '"serial_end_to_end_ms"' "$out/bench-$name.json"
done
