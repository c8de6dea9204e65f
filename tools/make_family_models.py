#!/usr/bin/env python3
"""Writes small models of the patterns the rest of the Inception family and the classic ImageNet
CNNs are built from, with seeded random weights, into tests/data/family/:

  <name>.onnx           the model; its batch axis is dynamic (dim_param "N")
  <name>.input.npy      a seeded batch of 2 inputs
  <name>.expected.npy   onnxruntime's output on that batch (CPU, one thread)

tests/data/family/README.md says what each file carries and which real model it stands for.
The same seed gives the same bytes.

Needs: numpy, onnx, onnxruntime (pip install numpy onnx onnxruntime).
"""
import argparse
import pathlib

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper

from make_test_models import Builder

BATCH = 2
CLASSES = 10


class Net(Builder):
    """Builder with the layers these models share. `opset` picks how Unsqueeze, Squeeze and
    ReduceMean take their axes (an attribute before opset 13, an input from then on)."""

    def __init__(self, seed, opset):
        super().__init__(seed)
        self.opset = opset

    def uniform(self, name, low, high, shape):
        array = self.rng.uniform(low, high, size=shape).astype(np.float32)
        self.const(name, array)
        return name

    def conv(self, x, cin, cout, kernel, stride=1, pad=0, group=1, bias=False):
        """A Conv; `kernel` and `pad` are a size or (height, width)."""
        kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        ph, pw = pad if isinstance(pad, tuple) else (pad, pad)
        name = self.name("conv")
        self.weight(f"{name}_w", (cout, cin // group, kh, kw), cin // group * kh * kw)
        inputs = [x, f"{name}_w"] + ([self.uniform(f"{name}_b", -0.1, 0.1, cout)] if bias else [])
        attrs = dict(kernel_shape=[kh, kw], strides=[stride, stride], pads=[ph, pw, ph, pw])
        if group > 1:
            attrs["group"] = group
        return self.node("Conv", inputs, **attrs)

    def bn(self, x, channels, epsilon=1e-5):
        name = self.name("bn")
        params = [
            self.uniform(f"{name}_scale", 0.5, 1.5, channels),
            self.uniform(f"{name}_bias", -0.2, 0.2, channels),
            self.uniform(f"{name}_mean", -0.2, 0.2, channels),
            self.uniform(f"{name}_var", 0.5, 1.5, channels),
        ]
        return self.node("BatchNormalization", [x] + params, epsilon=epsilon)

    def axes_node(self, op, inputs, axes, **attrs):
        """Unsqueeze, Squeeze or ReduceMean with `axes` in the form the opset asks for."""
        takes_input = self.opset >= (18 if op == "ReduceMean" else 13)
        if takes_input:
            name = self.name("axes")
            self.const(name, np.array(axes, dtype=np.int64))
            return self.node(op, inputs + [name], **attrs)
        return self.node(op, inputs, axes=axes, **attrs)

    def caffe_scale(self, x, channels):
        """Caffe's Scale layer as the model zoo's conversion writes it: Mul and Add by [C]
        constants that Unsqueeze turns into [C, 1, 1]."""
        name = self.name("scale")
        w = self.axes_node("Unsqueeze", [self.uniform(f"{name}_w", 0.7, 1.3, channels)], [1, 2])
        b = self.axes_node("Unsqueeze", [self.uniform(f"{name}_b", -0.2, 0.2, channels)], [1, 2])
        return self.node("Add", [self.node("Mul", [x, w]), b])

    def relu(self, x):
        return self.node("Relu", [x])

    def conv_bn_relu(self, x, cin, cout, kernel, stride=1, pad=0, group=1, epsilon=1e-5):
        return self.relu(self.bn(self.conv(x, cin, cout, kernel, stride, pad, group), cout, epsilon))

    def conv_relu(self, x, cin, cout, kernel, stride=1, pad=0):
        """A conv whose BatchNorm the exporter folded into its weights and bias."""
        return self.relu(self.conv(x, cin, cout, kernel, stride, pad, bias=True))

    def pool(self, op, x, kernel, stride, pad=0, **attrs):
        return self.node(op, [x], kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4, **attrs)

    def concat(self, xs):
        return self.node("Concat", xs, axis=1)

    def gemm(self, x, cin, cout, gain=1.0):
        name = self.name("fc")
        self.weight(f"{name}_w", (cout, cin), cin, gain)
        return self.node("Gemm", [x, f"{name}_w", self.uniform(f"{name}_b", -0.1, 0.1, cout)], transB=1)

    def classifier(self, x, channels):
        """GlobalAveragePool, Flatten and a fully connected layer to the classes."""
        return self.gemm(self.node("Flatten", [self.node("GlobalAveragePool", [x])], axis=1), channels, CLASSES)


# Every model below returns (builder, input [C, H, W], outputs); each is named for its file.

def bn_inception(b):
    """BN-Inception (the model zoo's inception_v2): Conv, BatchNormalization, Caffe's Scale, Relu."""
    def unit(x, cin, cout, k, pad=0):
        return b.relu(b.caffe_scale(b.bn(b.conv(x, cin, cout, k, pad=pad), cout), cout))

    def module(x, cin, c1, c3r, c3, d3r, d3, pp):
        b1 = unit(x, cin, c1, 1)
        b3 = unit(unit(x, cin, c3r, 1), c3r, c3, 3, 1)
        d = unit(unit(unit(x, cin, d3r, 1), d3r, d3, 3, 1), d3, d3, 3, 1)
        bp = unit(b.pool("AveragePool", x, 3, 1, 1), cin, pp, 1)
        return b.concat([b1, b3, d, bp]), c1 + c3 + d3 + pp

    x = unit("data_0", 3, 16, 3, 1)
    x, c = module(x, 16, 8, 8, 12, 8, 12, 8)
    x, c = module(x, c, 12, 8, 12, 8, 16, 8)
    x = b.pool("AveragePool", x, 15, 1)
    b.const("OC2_DUMMY_1", np.array([-1, c], dtype=np.int64))
    x = b.gemm(b.node("Reshape", [x, "OC2_DUMMY_1"]), c, CLASSES)
    return [3, 15, 15], [b.node("Softmax", [x], outputs=["prob_1"])]


def bottleneck(b, x, cin, mid, cout, stride, join):
    """torchvision's Bottleneck (ResNet v1.5: the stride on the 3x3); `join` adds the shortcut."""
    y = b.conv_bn_relu(x, cin, mid, 1)
    y = b.conv_bn_relu(y, mid, mid, 3, stride, 1)
    y = b.bn(b.conv(y, mid, cout, 1), cout)
    shortcut = x if stride == 1 and cin == cout else b.bn(b.conv(x, cin, cout, 1, stride), cout)
    return b.relu(join([y, shortcut]))


def resnet_bottleneck(b):
    """torchvision's ResNet-50: a stride-2 1x1 projection shortcut and an identity one, Add."""
    add = lambda xs: b.node("Add", xs)
    x = b.conv_bn_relu("x", 3, 16, 3, 1, 1)
    x = bottleneck(b, x, 16, 8, 32, 2, add)
    x = bottleneck(b, x, 32, 8, 32, 1, add)
    return [3, 17, 17], [b.classifier(x, 32)]


def resnet_sum(b):
    """The model zoo's (Caffe2) ResNet-50: residual joins are `Sum`; the stride on the first 1x1."""
    def block(x, cin, mid, cout, stride, extra=()):
        y = b.conv_bn_relu(x, cin, mid, 1, stride)
        y = b.conv_bn_relu(y, mid, mid, 3, 1, 1)
        y = b.bn(b.conv(y, mid, cout, 1), cout)
        shortcut = x if stride == 1 and cin == cout else b.bn(b.conv(x, cin, cout, 1, stride), cout)
        return b.relu(b.node("Sum", [y, shortcut, *extra]))

    x = b.pool("MaxPool", b.conv_bn_relu("gpu_0/data_0", 3, 16, 3, 1, 1), 3, 2, 1)
    x = block(x, 16, 8, 24, 1)
    skip = x
    x = block(x, 24, 8, 24, 1)
    x = block(x, 24, 8, 24, 1, extra=[skip])  # a Sum of three: the block before's input as well
    x = b.pool("AveragePool", x, 9, 1)
    b.const("OC2_DUMMY_1", np.array([0, -1], dtype=np.int64))
    # Three unnormalised residual sums grow the features: a smaller classifier keeps the
    # softmax from saturating, so that every class's probability is worth comparing.
    x = b.gemm(b.node("Reshape", [x, "OC2_DUMMY_1"]), 24, CLASSES, gain=0.2)
    return [3, 17, 17], [b.node("Softmax", [x], outputs=["gpu_0/softmax_1"])]


def inception_resnet(b):
    """timm's Inception-ResNet-v2 Block35: relu(x + scale * conv1x1(concat(branches)))."""
    def block(x, c, scale_constant, scale_on_left, input_first):
        b0 = b.conv_relu(x, c, 8, 1)
        b1 = b.conv_relu(b.conv_relu(x, c, 8, 1), 8, 8, 3, 1, 1)
        b2 = b.conv_relu(b.conv_relu(b.conv_relu(x, c, 8, 1), 8, 12, 3, 1, 1), 12, 16, 3, 1, 1)
        up = b.conv(b.concat([b0, b1, b2]), 32, c, 1, bias=True)
        scaled = b.node("Mul", [scale_constant, up] if scale_on_left else [up, scale_constant])
        return b.relu(b.node("Add", [x, scaled] if input_first else [scaled, x]))

    # The scale as the exporter writes it: a rank-0 Constant node, or a rank-0 initializer.
    scale_017 = b.node("Constant", [], value=helper.make_tensor("scale", TensorProto.FLOAT, [], [0.17]))
    b.const("scale_02", np.array(0.2, dtype=np.float32))
    x = b.conv_relu("x", 3, 24, 3, 1, 1)
    x = block(x, 24, scale_017, scale_on_left=False, input_first=False)
    x = block(x, 24, "scale_02", scale_on_left=True, input_first=True)
    return [3, 11, 11], [b.classifier(x, 24)]


def densenet_block(b):
    """The model zoo's DenseNet-121: BatchNormalization, Scale and Relu before each conv."""
    def pre_activation(x, c):
        return b.relu(b.caffe_scale(b.bn(x, c), c))

    x = b.pool("MaxPool", pre_activation(b.conv("data_0", 3, 16, 3, pad=1), 16), 3, 2, 1)
    features, growth = 16, 8
    for _ in range(3):
        y = b.conv(pre_activation(x, features), features, 16, 1)
        y = b.conv(pre_activation(y, 16), 16, growth, 3, pad=1)
        x = b.concat([x, y])
        features += growth
    x = b.pool("AveragePool", b.conv(pre_activation(x, features), features, 20, 1), 2, 2)
    x = b.node("GlobalAveragePool", [pre_activation(x, 20)])
    # The zoo's head: a 1x1 conv to the classes, left at [N, classes, 1, 1].
    return [3, 15, 15], [b.conv(x, 20, CLASSES, 1, bias=True)]


def shufflenet_unit(b):
    """The model zoo's ShuffleNet (v1, 4 groups): group 1x1 convs, a channel shuffle, depthwise 3x3."""
    groups = 4

    def shape(dims):
        name = b.name("OC2_DUMMY")
        b.const(name, np.array(dims, dtype=np.int64))
        return name

    def shuffle(x, c, hw, batch_dim):
        split = b.node("Reshape", [x, shape([batch_dim, groups, c // groups, hw, hw])])
        swapped = b.node("Transpose", [split], perm=[0, 2, 1, 3, 4])
        return b.node("Reshape", [swapped, shape([batch_dim, c, hw, hw])])

    def unit(x, cin, mid, cout, hw, stride, batch_dim):
        y = b.conv_bn_relu(x, cin, mid, 1, group=groups)
        y = shuffle(y, mid, hw, batch_dim)
        y = b.bn(b.conv(y, mid, mid, 3, stride, 1, group=mid), mid)
        y = b.bn(b.conv(y, mid, cout, 1, group=groups), cout)
        if stride == 1:
            return b.relu(b.node("Sum", [y, x]))
        return b.relu(b.concat([y, b.pool("AveragePool", x, 3, 2, 1)]))

    x = b.conv_bn_relu("gpu_0/data_0", 3, 16, 3, 1, 1)
    # The zoo writes a fixed batch of 1; with a dynamic batch an exporter writes 0 or -1.
    # 24 channels in 4 groups of 6: a shuffle whose two axes differ, so an importer that takes
    # the wrong one for the groups is caught.
    x = unit(x, 16, 24, 16, 15, 1, batch_dim=-1)
    x = unit(x, 16, 24, 16, 15, 2, batch_dim=0)
    x = b.node("GlobalAveragePool", [x])
    b.const("OC2_DUMMY_flatten", np.array([-1, 32], dtype=np.int64))
    x = b.gemm(b.node("Reshape", [x, "OC2_DUMMY_flatten"]), 32, CLASSES, gain=0.5)
    return [3, 15, 15], [b.node("Softmax", [x], outputs=["gpu_0/softmax_1"])]


def alexnet_grouped(b):
    """The model zoo's bvlc_alexnet: convs in 2 groups, LRN, max pools, a fully connected head."""
    lrn = lambda x: b.node("LRN", [x], size=5, alpha=1e-4, beta=0.75, bias=1.0)
    x = b.pool("MaxPool", lrn(b.relu(b.conv("data_0", 3, 16, 3, 1, 1, bias=True))), 3, 2)
    x = b.pool("MaxPool", lrn(b.relu(b.conv(x, 16, 32, 5, 1, 2, group=2, bias=True))), 3, 2)
    x = b.relu(b.conv(x, 32, 24, 3, 1, 1, bias=True))
    x = b.relu(b.conv(x, 24, 24, 3, 1, 1, group=2, bias=True))
    x = b.relu(b.conv(x, 24, 16, 3, 1, 1, group=2, bias=True))
    b.const("OC2_DUMMY_1", np.array([-1, 16 * 3 * 3], dtype=np.int64))
    x = b.relu(b.gemm(b.node("Reshape", [x, "OC2_DUMMY_1"]), 16 * 3 * 3, 32))
    x = b.gemm(b.node("Dropout", [x], ratio=0.5), 32, CLASSES)
    return [3, 17, 17], [b.node("Softmax", [x], outputs=["prob_1"])]


def depthwise_multiplier(b):
    """A depthwise conv with a channel multiplier of 2 (group = C, M = 2C), then a 5x5/2 depthwise."""
    x = b.relu(b.conv("x", 8, 16, 3, 1, 1, group=8, bias=True))
    x = b.relu(b.conv(x, 16, 16, 5, 2, 2, group=16, bias=True))
    return [8, 13, 13], [b.classifier(x, 16)]


def inception_v3_modules(b):
    """torchvision's Inception v3, BatchNorm folded into the convs as torch.onnx.export writes it."""
    def mixed_5b(x, c):  # InceptionA; torchvision's avg_pool2d counts the padding
        b1 = b.conv_relu(x, c, 6, 1)
        b5 = b.conv_relu(b.conv_relu(x, c, 4, 1), 4, 6, 5, 1, 2)
        d = b.conv_relu(b.conv_relu(b.conv_relu(x, c, 6, 1), 6, 8, 3, 1, 1), 8, 8, 3, 1, 1)
        bp = b.conv_relu(b.pool("AveragePool", x, 3, 1, 1, count_include_pad=1), c, 4, 1)
        return b.concat([b1, b5, d, bp]), 24

    def mixed_6a(x, c):  # InceptionB: the reduction; the max pool is concatenated as it is
        b3 = b.conv_relu(x, c, 8, 3, 2)
        d = b.conv_relu(b.conv_relu(b.conv_relu(x, c, 6, 1), 6, 8, 3, 1, 1), 8, 8, 3, 2)
        return b.concat([b3, d, b.pool("MaxPool", x, 3, 2)]), 16 + c

    def mixed_6b(x, c):  # InceptionC: 1x7 and 7x1 convs
        b1 = b.conv_relu(x, c, 12, 1)
        b7 = b.conv_relu(b.conv_relu(b.conv_relu(x, c, 8, 1), 8, 8, (1, 7), 1, (0, 3)), 8, 12, (7, 1), 1, (3, 0))
        d = b.conv_relu(x, c, 8, 1)
        for i, (kernel, pad) in enumerate([((7, 1), (3, 0)), ((1, 7), (0, 3))] * 2):
            d = b.conv_relu(d, 8, 12 if i == 3 else 8, kernel, 1, pad)
        bp = b.conv_relu(b.pool("AveragePool", x, 3, 1, 1, count_include_pad=1), c, 12, 1)
        return b.concat([b1, b7, d, bp]), 48

    def mixed_7b(x, c):  # InceptionE: branches fork into a 1x3 and a 3x1 conv, joined by torch.cat
        def fork(y, cin):
            return b.concat([b.conv_relu(y, cin, 8, (1, 3), 1, (0, 1)), b.conv_relu(y, cin, 8, (3, 1), 1, (1, 0))])
        b1 = b.conv_relu(x, c, 8, 1)
        b3 = fork(b.conv_relu(x, c, 8, 1), 8)
        d = fork(b.conv_relu(b.conv_relu(x, c, 8, 1), 8, 8, 3, 1, 1), 8)
        bp = b.conv_relu(b.pool("AveragePool", x, 3, 1, 1, count_include_pad=1), c, 8, 1)
        return b.concat([b1, b3, d, bp]), 48

    x = b.conv_relu("x", 3, 16, 3, 1, 1)
    c = 16
    for module in (mixed_5b, mixed_6a, mixed_6b, mixed_7b):
        x, c = module(x, c)
    return [3, 17, 17], [b.classifier(x, c)]


def inception_v4_modules(b):
    """timm's Inception v4 with its BatchNorms kept (eps 1e-3), as an unfolded export writes them."""
    def unit(x, cin, cout, kernel, stride=1, pad=0):
        return b.conv_bn_relu(x, cin, cout, kernel, stride, pad, epsilon=1e-3)

    def inception_a(x, c):  # timm's AvgPool2d(count_include_pad=False)
        b0 = unit(x, c, 8, 1)
        b1 = unit(unit(x, c, 6, 1), 6, 8, 3, 1, 1)
        b2 = unit(unit(unit(x, c, 6, 1), 6, 8, 3, 1, 1), 8, 8, 3, 1, 1)
        b3 = unit(b.pool("AveragePool", x, 3, 1, 1, count_include_pad=0), c, 8, 1)
        return b.concat([b0, b1, b2, b3]), 32

    def reduction_a(x, c):
        b0 = unit(x, c, 8, 3, 2)
        b1 = unit(unit(unit(x, c, 8, 1), 8, 8, 3, 1, 1), 8, 8, 3, 2)
        return b.concat([b0, b1, b.pool("MaxPool", x, 3, 2)]), 16 + c

    def inception_c(x, c):  # forked 1x3 / 3x1 convs, each feeding the module's Concat itself
        def fork(y, cin):
            return [unit(y, cin, 8, (1, 3), 1, (0, 1)), unit(y, cin, 8, (3, 1), 1, (1, 0))]
        b0 = unit(x, c, 8, 1)
        b1 = fork(unit(x, c, 8, 1), 8)
        b2 = fork(unit(unit(unit(x, c, 8, 1), 8, 10, (3, 1), 1, (1, 0)), 10, 12, (1, 3), 1, (0, 1)), 12)
        b3 = unit(b.pool("AveragePool", x, 3, 1, 1, count_include_pad=0), c, 8, 1)
        return b.concat([b0, *b1, *b2, b3]), 48

    x = unit("x", 3, 16, 3, 1, 1)
    c = 16
    for module in (inception_a, reduction_a, inception_c):
        x, c = module(x, c)
    return [3, 15, 15], [b.classifier(x, c)]


def reducemean_head(b):
    """The global pool as torch's dynamo exporter writes it: ReduceMean over [2, 3], keepdims=1."""
    x = b.relu(b.conv("x", 8, 16, 3, 1, 1, bias=True))
    x = b.axes_node("ReduceMean", [x], [2, 3], keepdims=1)
    return [8, 9, 9], [b.gemm(b.node("Flatten", [x], axis=1), 16, CLASSES)]


def squeeze_head(b, squeezed):
    """SqueezeNet's head: a 1x1 conv to the classes, Relu, GlobalAveragePool; the output left at
    [N, classes, 1, 1] or squeezed to [N, classes]. Before it, an Unsqueeze and Squeeze pair."""
    x = b.relu(b.conv("x", 8, 16, 3, 1, 1, bias=True))
    x = b.axes_node("Squeeze", [b.axes_node("Unsqueeze", [x], [4])], [-1])
    x = b.node("GlobalAveragePool", [b.relu(b.conv(x, 16, CLASSES, 1, bias=True))])
    if squeezed:
        x = b.axes_node("Squeeze", [x], [2, 3])
    return [8, 11, 11], [x]


def big_fc(b):
    """A fully connected weight of 600 x 490 floats (1.18 MB), over a 1 MiB binding limit."""
    x = b.relu(b.conv("x", 8, 10, 3, 1, 1, bias=True))
    return [8, 7, 7], [b.gemm(b.node("Flatten", [x], axis=1), 10 * 7 * 7, 600)]


# name: (builder, opset, zoo style: IR version 3 with the initializers listed as graph inputs)
MODELS = {
    "bn_inception": (bn_inception, 9, True),
    "resnet_bottleneck": (resnet_bottleneck, 17, False),
    "resnet_sum": (resnet_sum, 9, True),
    "inception_resnet": (inception_resnet, 17, False),
    "densenet_block": (densenet_block, 9, True),
    "shufflenet_unit": (shufflenet_unit, 9, True),
    "alexnet_grouped": (alexnet_grouped, 9, True),
    "depthwise_multiplier": (depthwise_multiplier, 17, False),
    "inception_v3_modules": (inception_v3_modules, 17, False),
    "inception_v4_modules": (inception_v4_modules, 17, False),
    "reducemean_head": (reducemean_head, 18, False),
    "reducemean_head_opset13": (reducemean_head, 13, False),
    "squeeze_head": (lambda b: squeeze_head(b, squeezed=False), 13, False),
    "squeeze_head_squeezed": (lambda b: squeeze_head(b, squeezed=True), 11, False),
    "big_fc": (big_fc, 17, False),
}


def session(model):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one thread: the same sums in the same order every run
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def build(name, seed):
    """The model (its outputs' dims learnt from onnxruntime), its input batch and its output."""
    function, opset, zoo = MODELS[name]
    b = Net(seed, opset)
    chw, outputs = function(b)
    computed = {o for n in b.nodes for o in n.output} | {i.name for i in b.inits}
    input_name = next(i for n in b.nodes for i in n.input if i not in computed)
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", *chw])]
    if zoo:
        inputs += [helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in b.inits]
    untyped = [helper.make_empty_tensor_value_info(o) for o in outputs]
    graph = helper.make_graph(b.nodes, name, inputs, untyped, b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_family_models")
    model.ir_version = 3 if zoo else 8
    images = b.rng.standard_normal((BATCH, *chw)).astype(np.float32)
    results = session(model).run(outputs, {input_name: images})
    model.graph.ClearField("output")
    model.graph.output.extend(helper.make_tensor_value_info(o, TensorProto.FLOAT, ["N", *r.shape[1:]]) for o, r in zip(outputs, results))
    onnx.checker.check_model(model, full_check=True)
    (expected,) = session(model).run(outputs[:1], {input_name: images})
    assert np.isfinite(expected).all() and np.abs(expected).max() > 0, name
    # A top 5 that a tolerance of 1e-4 of the largest output could reorder would test nothing.
    top6 = -np.sort(-expected.reshape(BATCH, -1), axis=1)[:, :6]
    gap = (top6[:, :-1] - top6[:, 1:]).min() / np.abs(expected).max()
    assert gap >= 1e-3, f"{name}: two of the top 6 outputs lie {gap:.2g} of the largest apart"
    return model, images, expected


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "family"))
    parser.add_argument("--seed", type=int, default=2015)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(MODELS):
        model, images, expected = build(name, args.seed + index)
        onnx.save(model, out / f"{name}.onnx")
        np.save(out / f"{name}.input.npy", images)
        np.save(out / f"{name}.expected.npy", expected)
        size = sum((out / f"{name}{suffix}").stat().st_size for suffix in (".onnx", ".input.npy", ".expected.npy"))
        print(f"{size:>9}  {name}: input {list(images.shape)}, output {list(expected.shape)}")


if __name__ == "__main__":
    main()
