#!/usr/bin/python3
"""grad_torch.py OUTDIR - ONNX test folders whose models differentiate small
networks with ONNX's Gradient op (ai.onnx.preview.training) and whose
expected outputs come from PyTorch's autograd in float64: the gradient
builders of compiler/ops/grad_nn.c checked against an independent
implementation, through the ONNX frontend, the interpreter and the emitted
C (`modelc test-onnx OUTDIR/*`, which e2e.grad_torch runs).

  conv_net:   Conv (stride 2, pads, bias) -> Relu -> MaxPool (ceil_mode) ->
              depthwise Conv (dilation 2) -> AveragePool (count_include_pad)
              -> SoftmaxCrossEntropyLoss over [N, C, 2, 2] (weights,
              ignore_index); gradients of the loss w.r.t. x, w1, b1, w2.
  deconv_net: ConvTranspose (stride 2, output_padding, group 2) ->
              LogSoftmax over channels -> NegativeLogLikelihoodLoss (sum);
              gradients w.r.t. x, w, b.
  dense_net:  Gemm (transA, alpha, beta, C broadcast over rows) -> Softmax
              -> MatMul with a batched broadcast operand; Gradient of the
              output (dL/dy = 1 everywhere) w.r.t. a, b, c, m.
Exit 77 (skipped) when numpy, onnx or torch cannot be imported."""
import os
import sys

try:
    import numpy as np
    import onnx
    import torch
    import torch.nn.functional as F
    from onnx import TensorProto, helper, numpy_helper
except ImportError as err:
    print("SKIPPED: %s" % err)
    sys.exit(77)

rng = np.random.default_rng(5)


def save_case(out, name, nodes, inputs, consts, outputs):
    """inputs: [(name, float32 array)]; consts: [(name, array)] initializers;
    outputs: [(name, expected array)]."""
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in outputs],
        [numpy_helper.from_array(a, n) for n, a in consts])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("ai.onnx.preview.training", 1)])
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, items in (("input", inputs), ("output", outputs)):
        for i, (n, a) in enumerate(items):
            with open(os.path.join(d, "test_data_set_0", "%s_%d.pb" % (kind, i)), "wb") as f:
                f.write(numpy_helper.from_array(np.asarray(a, dtype=np.float32), n).SerializeToString())


def gradient(xs, y):
    return helper.make_node("Gradient", xs, ["d_" + x for x in xs], domain="ai.onnx.preview.training", xs=xs, y=y)


def leaf(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def rand(*shape):
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def conv_net(out):
    x, w1, b1, w2 = rand(2, 3, 9, 9), rand(6, 3, 3, 3), rand(6), rand(6, 1, 3, 3)
    labels = np.array([[[2, -1], [1, 3]], [[5, 0], [-1, 4]]], dtype=np.int64)   # [N=2, 2, 2] after the pools
    cw = np.array([0.5, 1.0, 1.5, 2.0, 1.0, 0.25], dtype=np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["h1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MaxPool", ["h2"], ["h3"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        helper.make_node("Conv", ["h3", "w2"], ["h4"], group=6, dilations=[2, 2], pads=[2, 2, 2, 2]),
        helper.make_node("AveragePool", ["h4"], ["h5"], kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 0],
                         count_include_pad=1),
        helper.make_node("SoftmaxCrossEntropyLoss", ["h5", "labels", "cw"], ["loss"], ignore_index=-1),
        gradient(["x", "w1", "b1", "w2"], "loss"),
    ]
    t = {k: leaf(v) for k, v in (("x", x), ("w1", w1), ("b1", b1), ("w2", w2))}
    h = F.relu(F.conv2d(t["x"], t["w1"], t["b1"], stride=2, padding=1))
    h = F.max_pool2d(h, 2, 2, ceil_mode=True)
    h = F.conv2d(h, t["w2"], groups=6, dilation=2, padding=2)
    h = F.avg_pool2d(h, (3, 2), (2, 1), padding=(1, 0), count_include_pad=True)
    loss = F.cross_entropy(h, torch.tensor(labels), weight=torch.tensor(cw, dtype=torch.float64), ignore_index=-1)
    loss.backward()
    assert tuple(h.shape) == (2, 6, 2, 2), h.shape
    save_case(out, "conv_net", nodes, [("x", x), ("w1", w1), ("b1", b1), ("w2", w2)],
              [("labels", labels), ("cw", cw)],
              [("loss", loss.detach().numpy())] + [("d_" + k, t[k].grad.numpy()) for k in ("x", "w1", "b1", "w2")])


def deconv_net(out):
    x, w, b = rand(2, 4, 3, 4), rand(4, 3, 3, 3), rand(6)
    labels = rng.integers(0, 6, size=(2, 7, 9)).astype(np.int64)
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w", "b"], ["h1"], strides=[2, 2], pads=[0, 1, 1, 0],
                         output_padding=[1, 1], group=2),
        helper.make_node("LogSoftmax", ["h1"], ["h2"], axis=1),
        helper.make_node("NegativeLogLikelihoodLoss", ["h2", "labels"], ["loss"], reduction="sum"),
        gradient(["x", "w", "b"], "loss"),
    ]
    t = {k: leaf(v) for k, v in (("x", x), ("w", w), ("b", b))}
    h = F.conv_transpose2d(t["x"], t["w"], t["b"], stride=2, output_padding=1, groups=2)
    h = h[:, :, 0:7, 1:10]   # ONNX pads [begins 0, 1; ends 1, 0] crop the full 8x10 output
    loss = F.nll_loss(F.log_softmax(h, dim=1), torch.tensor(labels), reduction="sum")
    loss.backward()
    save_case(out, "deconv_net", nodes, [("x", x), ("w", w), ("b", b)], [("labels", labels)],
              [("loss", loss.detach().numpy())] + [("d_" + k, t[k].grad.numpy()) for k in ("x", "w", "b")])


def dense_net(out):
    a, b, c, m = rand(6, 4), rand(6, 5), rand(1, 5), rand(3, 1, 5, 2)
    nodes = [
        helper.make_node("Gemm", ["a", "b", "c"], ["h1"], transA=1, alpha=0.5, beta=2.0),
        helper.make_node("Softmax", ["h1"], ["h2"], axis=-1),
        helper.make_node("MatMul", ["h2", "m"], ["y"]),
        gradient(["a", "b", "c", "m"], "y"),
    ]
    t = {k: leaf(v) for k, v in (("a", a), ("b", b), ("c", c), ("m", m))}
    h = torch.softmax(0.5 * t["a"].T @ t["b"] + 2.0 * t["c"], dim=-1)
    y = h @ t["m"]
    y.backward(torch.ones_like(y))
    save_case(out, "dense_net", nodes, [("a", a), ("b", b), ("c", c), ("m", m)], [],
              [("y", y.detach().numpy())] + [("d_" + k, t[k].grad.numpy()) for k in ("a", "b", "c", "m")])


out = sys.argv[1]
conv_net(out)
deconv_net(out)
dense_net(out)
