#!/usr/bin/env python3
"""Exports torchvision's and timm's Inception-family and ResNet models to ONNX for googlenet,
with an input batch and onnxruntime's output on it, to check the engine against:

    pip install torch torchvision timm onnx onnxruntime numpy safetensors onnxscript
    python3 tools/export_family.py --model inception_v3 --out exports            # seeded random weights
    python3 tools/export_family.py --model all --out exports --batch 4
    python3 tools/export_family.py --model inception_v4 --weights model.safetensors --out exports

Models: inception_v3, resnet50 and googlenet from torchvision; inception_v4 and
inception_resnet_v2 from timm. Nothing is downloaded: the weights are seeded random ones
(BatchNorm statistics drawn around the activations' scale on a seeded batch, so that they test
something and every layer stays near unit scale), or the file given with
--weights (a state dict: .safetensors, or a .pth / .pt / .bin that torch.load reads without
running code; keys of the auxiliary classifiers are left out, as the export has none).

For each model, in --out:
  <model>.onnx           opset 17 by default, the batch axis dynamic ("N")
  <model>.input.npy      a seeded batch (--batch images, standard normal, at the model's size)
  <model>.expected.npy   onnxruntime's output on that batch (CPU)

Input sizes and preprocessing (`googlenet classify --preprocess ...` for images; `classify`
resizes them to the model's size):
  inception_v3, inception_v4, inception_resnet_v2: 3x299x299, `inception` ([-1, 1], what
      `classify` takes for a 299x299 .onnx unless told otherwise); torchvision's inception_v3
      is exported with transform_input=False, so its pretrained weights take [-1, 1] input
      directly, as the timm models do;
  resnet50: 3x224x224, `torchvision` (ImageNet mean/std);
  googlenet: 3x224x224, exported with transform_input=False: with pretrained weights, feed it
      `inception` input as well.

--dynamo uses torch's newer exporter (opset 18 by default there: ReduceMean global pools); it
needs onnxscript. Without --dynamo the TorchScript exporter runs, which torch 2.9 and later
still have but warn about.
"""
import argparse
import inspect
import os
import pathlib

import numpy as np
import onnxruntime
import torch

TORCHVISION = ("inception_v3", "resnet50", "googlenet")
TIMM = ("inception_v4", "inception_resnet_v2")
SIZE = {"inception_v3": 299, "inception_v4": 299, "inception_resnet_v2": 299, "resnet50": 224, "googlenet": 224}
AUX_PREFIXES = ("AuxLogits.", "aux1.", "aux2.")


def build(name):
    """The model with fresh (seeded) weights and no auxiliary classifier."""
    if name in TORCHVISION:
        import torchvision
        if name == "inception_v3":
            return torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True, transform_input=False)
        if name == "googlenet":
            return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True, transform_input=False)
        return torchvision.models.resnet50(weights=None)
    import timm
    return timm.create_model(name, pretrained=False)


def read_state_dict(path):
    """A state dict from a file, without running code from it."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file
        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        # Training checkpoints keep the weights under one of these keys.
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict):
        raise SystemExit(f"{path}: not a state dict")
    return {k: v for k, v in state.items() if not k.startswith(AUX_PREFIXES)}


def randomise_batchnorm(model, images):
    """Fresh BatchNorm statistics are 0 and 1, which let a random net's activations grow layer
    by layer (torchvision's inception_v3 init reaches logits near 1e12, where a BatchNorm shift or
    a bias no longer shows). Each BatchNorm measures the root mean square of its input on `images`
    over all its channels (those before it already set) and draws each channel's mean within a
    fifth of it and its variance within half of its square: outputs stay near unit scale and every
    statistic counts. One scale per layer keeps float32 within 1e-6 of float64; per-channel
    statistics amplify weak channels (Inception v4 then strays 5e-5 from float64, 4e-4 if
    centred on measured means), too near the tolerance the exports are checked against."""
    def measure(module, inputs):
        (x,) = inputs
        scale = float(x.square().mean().sqrt()) or 1.0  # an all-zero input keeps unit statistics
        channels = module.running_mean.shape
        module.running_mean.copy_(torch.empty(channels).uniform_(-0.2, 0.2) * scale)
        module.running_var.copy_(torch.empty(channels).uniform_(0.5, 1.5) * scale**2)

    hooks = [m.register_forward_pre_hook(measure) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    model.eval()
    with torch.no_grad():
        model(images)
    for hook in hooks:
        hook.remove()


def export(model, example, path, opset, dynamo):
    """Writes the ONNX file through a temporary file, so that a failed export leaves none."""
    temporary = path.with_name(path.name + ".tmp")
    options = dict(input_names=["x"], output_names=["logits"], opset_version=opset)
    parameters = inspect.signature(torch.onnx.export).parameters
    if "dynamo" in parameters:
        options["dynamo"] = dynamo
    elif dynamo:
        raise SystemExit("this torch has no dynamo exporter (torch.onnx.export(dynamo=True) needs torch 2.5 or later)")
    if dynamo:
        options["dynamic_shapes"] = {"x": {0: torch.export.Dim("N")}}
        # The dynamo exporter writes the weights to a side file named after the temporary file
        # by default, which the rename would orphan; these models fit one file (under 2 GB).
        if "external_data" in parameters:
            options["external_data"] = False
    else:
        options["dynamic_axes"] = {"x": {0: "N"}, "logits": {0: "N"}}
    torch.onnx.export(model, (example,), str(temporary), **options)
    os.replace(temporary, path)


def save_npy(path, array):
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as f:
        np.save(f, array)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, choices=TORCHVISION + TIMM + ("all",))
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--weights", type=pathlib.Path, help="a state dict file for the model (one model only); default: seeded random weights")
    parser.add_argument("--seed", type=int, default=2014, help="seed of the weights and the input (0 to 2^31 - 2)")
    parser.add_argument("--batch", type=int, default=2, help="images in the input batch (1 to 64)")
    parser.add_argument("--opset", type=int, help="ONNX opset (17 to 21; default 17, or 18 with --dynamo)")
    parser.add_argument("--dynamo", action="store_true", help="torch's dynamo-based exporter instead of the TorchScript one")
    args = parser.parse_args()
    if not 0 <= args.seed <= 2**31 - 2:
        parser.error("--seed must be 0 to 2^31 - 2")
    if not 1 <= args.batch <= 64:
        parser.error("--batch must be 1 to 64")
    opset = args.opset or (18 if args.dynamo else 17)
    if not 17 <= opset <= 21:
        parser.error("--opset must be 17 to 21")
    names = TORCHVISION + TIMM if args.model == "all" else (args.model,)
    if args.weights and len(names) > 1:
        parser.error("--weights needs one --model")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    for name in names:
        torch.manual_seed(args.seed)
        model = build(name)
        if args.weights:
            model.load_state_dict(read_state_dict(args.weights), strict=True)
        size = SIZE[name]
        if not args.weights:
            # A batch of its own, not the one the check runs on.
            calibration = np.random.default_rng(args.seed + 1).standard_normal((2, 3, size, size)).astype(np.float32)
            randomise_batchnorm(model, torch.from_numpy(calibration))
        model.eval()
        images = np.random.default_rng(args.seed).standard_normal((args.batch, 3, size, size)).astype(np.float32)
        with torch.no_grad():
            export(model, torch.from_numpy(images), out / f"{name}.onnx", opset, args.dynamo)
        session = onnxruntime.InferenceSession(str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"])
        (expected,) = session.run(None, {session.get_inputs()[0].name: images})
        save_npy(out / f"{name}.input.npy", images)
        save_npy(out / f"{name}.expected.npy", expected)
        weights = args.weights or f"random, seed {args.seed}"
        print(f"{name}: {out / name}.onnx (opset {opset}, {weights}), input {list(images.shape)}, output {list(expected.shape)}")


if __name__ == "__main__":
    main()
