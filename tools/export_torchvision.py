#!/usr/bin/env python3
"""Exports torchvision's GoogLeNet for googlenet: a safetensors state dict and an ONNX file.

    pip install torch torchvision safetensors onnx
    python3 tools/export_torchvision.py --out googlenet_tv            # pretrained ImageNet weights
    python3 tools/export_torchvision.py --out random --random --aux   # seeded random weights

Writes OUT.safetensors (the state dict, torchvision's parameter names) and OUT.onnx.

How to run them:
  googlenet classify --model OUT.safetensors --transform-input IMAGE...
      the pretrained weights expect torchvision's `transform_input=True`: images normalised with
      ImageNet mean/std (the default preprocessing for .safetensors), re-scaled inside the net;
  googlenet classify --model OUT.onnx --preprocess inception IMAGE...
      the ONNX file is exported with the input transform left out (its Gather/Unsqueeze plumbing is
      not a kernel); the transform maps mean/std-normalised input to RGB in [-1, 1], which is what
      `--preprocess inception` feeds directly.
"""
import argparse

import torch
import torchvision
from safetensors.torch import save_file


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output path without extension")
    parser.add_argument("--random", action="store_true", help="seeded random weights instead of the pretrained ones")
    parser.add_argument("--aux", action="store_true", help="keep the auxiliary classifiers (random weights only)")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    if args.random:
        model = torchvision.models.googlenet(weights=None, aux_logits=args.aux, init_weights=True, transform_input=False)
        # Fresh BatchNorm statistics are 0 and 1; give them values so the file tests something.
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    else:
        model = torchvision.models.googlenet(weights="DEFAULT")
    model.eval()

    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, f"{args.out}.safetensors")

    model.transform_input = False
    example = torch.randn(1, 3, 224, 224)
    torch.onnx.export(
        model,
        example,
        f"{args.out}.onnx",
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
        opset_version=args.opset,
    )
    print(f"wrote {args.out}.safetensors ({len(state)} tensors) and {args.out}.onnx")


if __name__ == "__main__":
    main()
