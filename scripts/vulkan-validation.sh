#!/usr/bin/env bash
# Runs a googlenet command under the Khronos validation layer and fails on any validation
# message, but one: naga 30's SPIR-V writer decorates every array type with ArrayStride, also
# the arrays of `var<workgroup>` memory, which Vulkan forbids (VUID-StandaloneSpirv-None-10684
# on the Workgroup storage class; upstream: https://github.com/gfx-rs/wgpu/issues/7696, fix in
# https://github.com/gfx-rs/wgpu/pull/9295). Only the `tiled` conv family and the `reduce`
# classifier use workgroup memory; no shader pattern of ours avoids it there. Every other
# message, that one on any other storage class included, fails.
#
#   scripts/vulkan-validation.sh [LAYER_LIBRARY] -- COMMAND...
#
# LAYER_LIBRARY defaults to Debian chromium's copy of the layer, which ships without a manifest.
set -euo pipefail
layer="/usr/lib/chromium/libVkLayer_khronos_validation.so"
if [[ "${1:-}" != "--" ]]; then
    layer="$1"
    shift
fi
[[ "${1:-}" == "--" ]] && shift
[[ -f "$layer" ]] || { echo "no validation layer at $layer (apt-get install chromium)" >&2; exit 1; }

manifests="$(mktemp -d)"
trap 'rm -rf "$manifests"' EXIT
cat > "$manifests/VkLayer_khronos_validation.json" <<JSON
{
  "file_format_version": "1.2.0",
  "layer": {
    "name": "VK_LAYER_KHRONOS_validation",
    "type": "GLOBAL",
    "library_path": "$layer",
    "api_version": "1.4.0",
    "implementation_version": "1",
    "description": "Khronos validation layer"
  }
}
JSON

log="$manifests/log"
status=0
# WGPU_VALIDATION=0 and WGPU_DEBUG=0: in debug builds wgpu would register its own message
# callback, which drops every VUID-StandaloneSpirv-None-10684 message (the naga bug below, on
# any storage class) and sends the rest to its logger; without it the layer prints each message.
WGPU_VALIDATION=0 WGPU_DEBUG=0 VK_LOADER_DEBUG=layer VK_LAYER_PATH="$manifests" VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation \
    "$@" > "$log" 2>&1 || status=$?
# A layer that did not load reports nothing: that is a failure, not a pass.
if ! grep -q 'Inserted device layer "VK_LAYER_KHRONOS_validation"' "$log"; then
    echo "$*: the validation layer was not loaded" >&2
    grep 'LAYER' "$log" | head -20 >&2
    exit 1
fi
# Each message starts with "Validation Error:" or "Validation Warning:"; the known naga one
# names the Workgroup storage class on its third line ("has an explicit layout", or "has a" in
# some layer versions).
messages=$(grep -c '^Validation \(Error\|Warning\)' "$log" || true)
known=$(grep -cE 'the Workgroup storage class has an? explicit layout from the ArrayStride decoration' "$log" || true)
echo "$* : exit $status, $messages validation messages ($known of them the known naga Workgroup ArrayStride one)"
if (( status != 0 )) || (( messages != known )); then
    grep -v 'LAYER' "$log" | head -80
    exit 1
fi
