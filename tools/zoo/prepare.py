#!/usr/bin/env python3
"""Makes runnable copies of the ONNX model zoo graphs that ship in the `onnx` wheel
(onnx/backend/test/data/light/light_*.onnx). Those files keep each graph as published but
replace its weights by ConstantOfShape(0.02) nodes; here every such node becomes an initializer
of seeded random values at a sensible scale for its role:

  conv and fully connected weights   normal * sqrt(2 / fan_in) (He)
  conv and fully connected biases    uniform(-0.05, 0.05)
  BatchNormalization                 scale uniform(0.8, 1.2), shift uniform(-0.1, 0.1),
                                     mean uniform(-0.1, 0.1), variance uniform(0.5, 1.5)
  Caffe's Scale (Mul / Add through Unsqueeze)   multiplier uniform(0.8, 1.2), shift uniform(-0.1, 0.1)

The small float initializers the light files keep with their trained values (a few biases
and BatchNorm parameters) are drawn the same way; the graph itself is left as it is. Where the graph ends in a Softmax, its classifier's weights
and bias are then scaled so that the logits' standard deviation on the batch-1 input is
LOGIT_STD: random weights give logits of any size, and a saturated softmax (probabilities of
exactly 0) has no meaningful top 5. For each model, in the folder --out names:

  <name>.onnx                   the graph with its random weights (batch 1, as published)
  <name>.input.npy              a seeded image batch of 1 (standard normal)
  <name>.expected.npy           onnxruntime's output on it
  <name>.batch2.input.npy       a seeded batch of 2
  <name>.batch2.expected.npy    onnxruntime's output, one image at a time (the graph's batch is 1)

Usage: python3 tools/zoo/prepare.py --out DIR [--seed S] [names...]
Needs numpy, onnx and onnxruntime (pip install numpy onnx onnxruntime); downloads nothing.
Then `tools/zoo/compare.sh DIR target/debug/googlenet` checks the engine against them.
"""
import argparse
import os
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime
from onnx import helper, numpy_helper

LIGHT = pathlib.Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
LOGIT_STD = 2.0
MODELS = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet", "vgg19", "zfnet512"]


def consumers_of(graph):
    uses = {}
    for node in graph.node:
        for index, name in enumerate(node.input):
            uses.setdefault(name, []).append((node, index))
    return uses


def reshaped(dims, shape):
    """`dims` after a Reshape to `shape` (0 copies a dim, -1 takes the rest)."""
    shape = [int(d) if d != 0 else int(dims[i]) for i, d in enumerate(shape)]
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1]))
        shape[shape.index(-1)] = int(np.prod(dims)) // known
    return shape


def role(name, dims, uses, constants):
    """The (op, input index, node, dims) that finally reads `name` of `dims`, through
    Unsqueeze and Reshape (a zoo file may reshape a 4-D fully connected weight to 2-D)."""
    readers = uses.get(name, [])
    if len(readers) != 1:
        raise SystemExit(f"constant `{name}` has {len(readers)} readers; expected one")
    node, index = readers[0]
    if node.op_type == "Reshape" and index == 0:
        return role(node.output[0], reshaped(dims, constants[node.input[1]]), uses, constants)
    if node.op_type == "Unsqueeze" and index == 0:
        return role(node.output[0], dims, uses, constants)
    return node.op_type, index, node, dims


def attribute(node, key, default):
    for a in node.attribute:
        if a.name == key:
            return helper.get_attribute_value(a)
    return default


def random_weight(rng, dims, op, index, node, name):
    dims = tuple(int(d) for d in dims)
    if op == "Conv" and index == 1:
        fan_in = int(np.prod(dims[1:]))
        return rng.standard_normal(dims) * np.sqrt(2.0 / fan_in)
    if op == "Gemm" and index == 1:
        fan_in = dims[1] if attribute(node, "transB", 0) else dims[0]
        return rng.standard_normal(dims) * np.sqrt(2.0 / fan_in)
    if (op, index) in (("Conv", 2), ("Gemm", 2)):
        return rng.uniform(-0.05, 0.05, dims)
    if op == "BatchNormalization":
        low, high = {1: (0.8, 1.2), 2: (-0.1, 0.1), 3: (-0.1, 0.1), 4: (0.5, 1.5)}[index]
        return rng.uniform(low, high, dims)
    if op == "Mul":
        return rng.uniform(0.8, 1.2, dims)
    if op == "Add":
        return rng.uniform(-0.1, 0.1, dims)
    raise SystemExit(f"constant `{name}` is read by {op} input {index}: no rule for its scale")


def randomise(model, seed):
    """Replaces every ConstantOfShape node by an initializer of random values, and redraws the
    float initializers the light file kept; returns how many weights were drawn."""
    graph = model.graph
    rng = np.random.default_rng(seed)
    uses = consumers_of(graph)
    constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    drawn = {}
    for node in graph.node:
        if node.op_type == "ConstantOfShape":
            drawn[node.output[0]] = constants[node.input[0]]
    # The light files keep a few small tensors with their trained values; those are meaningless
    # next to random weights (a trained variance can be tiny), so they are drawn too.
    for init in graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT and init.name in uses:
            drawn[init.name] = list(init.dims)
    new_inits = {}
    for name, dims in drawn.items():
        op, index, reader, seen_as = role(name, dims, uses, constants)
        array = random_weight(rng, seen_as, op, index, reader, name).astype(np.float32)
        new_inits[name] = numpy_helper.from_array(array.reshape([int(d) for d in dims]), name)
    fills = [n for n in graph.node if n.op_type == "ConstantOfShape"]
    remaining = [n for n in graph.node if n.op_type != "ConstantOfShape"]
    graph.ClearField("node")
    graph.node.extend(remaining)
    still_read = {i for n in graph.node for i in n.input}
    unused = {n.input[0] for n in fills if n.input[0] not in still_read}
    inits = [new_inits.pop(i.name, i) for i in graph.initializer if i.name not in unused]
    inputs = [i for i in graph.input if i.name not in unused]
    # IR version 3 (these files) lists every initializer as a graph input too.
    inputs += [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, list(t.dims)) for name, t in new_inits.items()]
    inits += new_inits.values()
    graph.ClearField("initializer")
    graph.initializer.extend(inits)
    graph.ClearField("input")
    graph.input.extend(inputs)
    return len(drawn)


def calibrate(model, input_name, images):
    """Scales the classifier before the Softmax (through Relu, pools, Reshape, Flatten and
    Dropout, all positively homogeneous) so that its logits have LOGIT_STD; returns the factor."""
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    softmax = [n for n in graph.node if n.op_type == "Softmax"]
    if not softmax:
        return 1.0
    node = producer[softmax[0].input[0]]
    while node.op_type in ("Relu", "GlobalAveragePool", "AveragePool", "Reshape", "Flatten", "Dropout"):
        node = producer[node.input[0]]
    if node.op_type not in ("Gemm", "Conv"):
        raise SystemExit(f"the Softmax reads a {node.op_type}, not a classifier")
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(helper.make_empty_tensor_value_info(softmax[0].input[0]))
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    logits = session.run([softmax[0].input[0]], {input_name: images})[0]
    factor = LOGIT_STD / float(logits.std())
    # The weight may reach the classifier through a Reshape.
    sources = set()
    for name in node.input[1:3]:
        while name in producer and producer[name].op_type in ("Reshape", "Unsqueeze"):
            name = producer[name].input[0]
        sources.add(name)
    for init in graph.initializer:
        if init.name in sources:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(factor), init.name))
    return factor


def atomic_write(path, write):
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as f:
        write(f)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("names", nargs="*", default=MODELS)
    args = parser.parse_args()
    for number, name in enumerate(args.names):
        if name not in MODELS:
            sys.exit(f"unknown model {name}; one of {MODELS}")
        model = onnx.load(LIGHT / f"light_{name}.onnx")
        seed = args.seed + MODELS.index(name)
        count = randomise(model, seed)
        graph_input = next(i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer})
        chw = [d.dim_value for d in graph_input.type.tensor_type.shape.dim][1:]
        rng = np.random.default_rng(seed + 1000)
        inputs = {1: rng.standard_normal((1, *chw)).astype(np.float32), 2: rng.standard_normal((2, *chw)).astype(np.float32)}
        factor = calibrate(model, graph_input.name, inputs[1])
        onnx.checker.check_model(model)
        path = args.out / f"{name}.onnx"
        atomic_write(path, lambda f: f.write(model.SerializeToString()))

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for suffix, batch in (("", 1), (".batch2", 2)):
            images = inputs[batch]
            expected = np.concatenate([session.run(None, {graph_input.name: image[None]})[0] for image in images])
            atomic_write(args.out / f"{name}{suffix}.input.npy", lambda f: np.save(f, images))
            atomic_write(args.out / f"{name}{suffix}.expected.npy", lambda f: np.save(f, expected))
        flat = expected.reshape(batch, -1)
        print(f"{name}: {count} weights drawn, classifier scaled by {factor:.3g}, {path.stat().st_size / 1e6:.1f} MB, input {[1, *chw]}, output {list(expected.shape[1:])},"
              f" output range [{flat.min():.3g}, {flat.max():.3g}]", flush=True)


if __name__ == "__main__":
    main()
