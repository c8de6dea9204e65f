#!/usr/bin/env python3
"""Writes small GoogLeNets with seeded random weights, in the three forms the engine imports,
and their expected outputs computed by an independent runtime (onnxruntime, on the CPU):

  googlenet_zoo.onnx         model-zoo style: Caffe conversion, opset 9, LRN, floor-mode pools
  googlenet_torchvision.onnx torchvision style: BatchNorm after every conv, ceil-mode pools,
                             the "5x5" branch a 3x3, a 2x2 max pool before 5a, opset 17
  googlenet_torchvision.safetensors
                             the same weights as a torchvision state dict (torchvision names)
  input.npy                  two seeded 3x224x224 images
  *.expected.npy             onnxruntime's output for each ONNX model on input.npy

Every channel count is divided by --divisor (8 by default: the same graph at 1/64 of the
weights, small enough to commit); --divisor 1 gives the full-width nets for benchmarks.

Needs: numpy, onnx, onnxruntime, safetensors (pip install numpy onnx onnxruntime safetensors).
"""
import argparse
import pathlib

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

# Table 1: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj.
MODULES = [
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
]
CLASSES = 1000


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def weight(self, name, shape, fan_in, gain=1.0):
        # He-uniform, like the engine's synthetic weights, so activations keep their range.
        limit = gain * np.sqrt(6.0 / fan_in)
        array = self.rng.uniform(-limit, limit, size=shape).astype(np.float32)
        self.inits.append(numpy_helper.from_array(array, name))
        return array

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))

    def node(self, op, inputs, outputs=None, **attrs):
        outputs = outputs or [self.name(op.lower())]
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]


def zoo_style(divisor, seed):
    """The ONNX model zoo's inception_v1 layout, with every channel count divided."""
    b = Builder(seed)
    state = {}

    def conv(name, x, cin, cout, k, stride=1, pad=0):
        w = b.weight(f"{name}_w_0", (cout, cin, k, k), cin * k * k)
        bias = b.rng.uniform(-0.05, 0.05, size=cout).astype(np.float32)
        b.const(f"{name}_b_0", bias)
        y = b.node("Conv", [x, f"{name}_w_0", f"{name}_b_0"], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        return b.node("Relu", [y])

    def pool(x, k, stride, pad=0):
        return b.node("MaxPool", [x], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)

    def lrn(x):
        return b.node("LRN", [x], size=5, alpha=1e-4, beta=0.75, bias=1.0)

    c = lambda n: n // divisor
    x = conv("conv1/7x7_s2", "data_0", 3, c(64), 7, 2, 3)
    x = lrn(pool(x, 3, 2))
    x = conv("conv2/3x3_reduce", x, c(64), c(64), 1)
    x = conv("conv2/3x3", x, c(64), c(192), 3, 1, 1)
    x = pool(lrn(x), 3, 2)
    channels = c(192)
    for name, ch in MODULES:
        c1, c3r, c3, c5r, c5, pp = map(c, ch)
        p = f"inception_{name}"
        b1 = conv(f"{p}/1x1", x, channels, c1, 1)
        b3 = conv(f"{p}/3x3", conv(f"{p}/3x3_reduce", x, channels, c3r, 1), c3r, c3, 3, 1, 1)
        b5 = conv(f"{p}/5x5", conv(f"{p}/5x5_reduce", x, channels, c5r, 1), c5r, c5, 5, 1, 2)
        bp = conv(f"{p}/pool_proj", pool(x, 3, 1, 1), channels, pp, 1)
        x = b.node("Concat", [b1, b3, b5, bp], axis=1)
        channels = c1 + c3 + c5 + pp
        if name in ("3b", "4e"):
            x = pool(x, 3, 2)
    x = b.node("AveragePool", [x], kernel_shape=[7, 7], strides=[1, 1], pads=[0, 0, 1, 1])
    x = b.node("Dropout", [x], outputs=[b.name("dropout"), b.name("mask")], ratio=0.4)
    b.const("OC2_DUMMY_1", np.array([1, channels], dtype=np.int64))
    x = b.node("Reshape", [x, "OC2_DUMMY_1"])
    b.weight("loss3/classifier_w_0", (CLASSES, channels), channels)
    b.const("loss3/classifier_b_0", b.rng.uniform(-0.05, 0.05, size=CLASSES).astype(np.float32))
    x = b.node("Gemm", [x, "loss3/classifier_w_0", "loss3/classifier_b_0"], transB=1)
    b.node("Softmax", [x], outputs=["prob_1"])
    # Like the zoo's file: a fixed batch of 1 (the Reshape to [1, features] assumes it).
    return finish(b, "data_0", "prob_1", opset=9, batch=1), state


def torchvision_style(divisor, seed):
    """torchvision's GoogLeNet (transform_input=False): BasicConv2d = conv without bias, BatchNorm
    (eps 1e-3), ReLU. Returns the ONNX model and the same weights as a torchvision state dict."""
    b = Builder(seed)
    state = {}

    def basic(name, x, cin, cout, k, stride=1, pad=0):
        w = b.weight(f"{name}.conv.weight", (cout, cin, k, k), cin * k * k)
        state[f"{name}.conv.weight"] = w
        bn = {
            "weight": b.rng.uniform(0.5, 1.5, size=cout),
            "bias": b.rng.uniform(-0.2, 0.2, size=cout),
            "running_mean": b.rng.uniform(-0.2, 0.2, size=cout),
            "running_var": b.rng.uniform(0.5, 1.5, size=cout),
        }
        for key, value in bn.items():
            value = value.astype(np.float32)
            b.const(f"{name}.bn.{key}", value)
            state[f"{name}.bn.{key}"] = value
        state[f"{name}.bn.num_batches_tracked"] = np.array(0, dtype=np.int64)
        y = b.node("Conv", [x, f"{name}.conv.weight"], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        y = b.node("BatchNormalization", [y] + [f"{name}.bn.{k}" for k in ("weight", "bias", "running_mean", "running_var")], epsilon=1e-3)
        return b.node("Relu", [y])

    def pool(x, k, stride, pad=0):
        return b.node("MaxPool", [x], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, ceil_mode=1)

    c = lambda n: n // divisor
    x = pool(basic("conv1", "x", 3, c(64), 7, 2, 3), 3, 2)
    x = basic("conv2", x, c(64), c(64), 1)
    x = pool(basic("conv3", x, c(64), c(192), 3, 1, 1), 3, 2)
    channels = c(192)
    for name, ch in MODULES:
        c1, c3r, c3, c5r, c5, pp = map(c, ch)
        p = f"inception{name}"
        b1 = basic(f"{p}.branch1", x, channels, c1, 1)
        b2 = basic(f"{p}.branch2.1", basic(f"{p}.branch2.0", x, channels, c3r, 1), c3r, c3, 3, 1, 1)
        b3 = basic(f"{p}.branch3.1", basic(f"{p}.branch3.0", x, channels, c5r, 1), c5r, c5, 3, 1, 1)
        b4 = basic(f"{p}.branch4.1", pool(x, 3, 1, 1), channels, pp, 1)
        x = b.node("Concat", [b1, b2, b3, b4], axis=1)
        channels = c1 + c3 + c5 + pp
        if name == "3b":
            x = pool(x, 3, 2)
        if name == "4e":
            x = pool(x, 2, 2)
    x = b.node("GlobalAveragePool", [x])
    x = b.node("Flatten", [x], axis=1)
    x = b.node("Dropout", [x])
    fc = b.weight("fc.weight", (CLASSES, channels), channels)
    bias = b.rng.uniform(-0.05, 0.05, size=CLASSES).astype(np.float32)
    b.const("fc.bias", bias)
    state["fc.weight"], state["fc.bias"] = fc, bias
    b.node("Gemm", [x, "fc.weight", "fc.bias"], outputs=["logits"], transB=1)
    return finish(b, "x", "logits", opset=17, batch="N"), state


def finish(b, input_name, output_name, opset, batch):
    graph = helper.make_graph(
        b.nodes,
        "googlenet",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, 3, 224, 224])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [batch, CLASSES])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_test_models")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def expected(model, images):
    """onnxruntime's output, one image at a time (the zoo-style model has a fixed batch of 1)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: image[None]})[0] for image in images])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"))
    parser.add_argument("--divisor", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images = np.random.default_rng(args.seed).standard_normal((2, 3, 224, 224)).astype(np.float32)
    np.save(out / "input.npy", images)
    zoo, _ = zoo_style(args.divisor, args.seed)
    onnx.save(zoo, out / "googlenet_zoo.onnx")
    np.save(out / "googlenet_zoo.expected.npy", expected(zoo, images))
    tv, state = torchvision_style(args.divisor, args.seed + 1)
    onnx.save(tv, out / "googlenet_torchvision.onnx")
    np.save(out / "googlenet_torchvision.expected.npy", expected(tv, images))
    save_file(state, str(out / "googlenet_torchvision.safetensors"))
    for path in sorted(out.iterdir()):
        print(f"{path.stat().st_size:>10}  {path}")


if __name__ == "__main__":
    main()
