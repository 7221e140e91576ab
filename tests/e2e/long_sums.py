#!/usr/bin/python3
"""long_sums.py OUTDIR - writes OUTDIR/model.onnx and OUTDIR/test_data_set_0:
one row of 2^20 float32 values in [0, 1) through ReduceSum, ReduceMean,
ReduceSumSquare and Softmax along it, with the expected
outputs computed by numpy in float64 and rounded to float32.  A float32
sum of 2^20 terms done naively is off by ~1e-4 relative; the blocked float
sums of the C backend (compiler/backend/kernels.h) must stay within 1e-5,
which is what e2e.long_float_sums checks with `modelc test-onnx`.
(LayerNormalization is left out: its x - mean cancels to ~1e-4 relative
in any float32 implementation.)
Exit 77 (skipped) when numpy or onnx cannot be imported."""
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as err:
    print("SKIPPED: %s" % err)
    sys.exit(77)

out = sys.argv[1]
n = 1 << 20
x = np.random.default_rng(7).random((1, n), dtype=np.float32)
xd = x.astype(np.float64)
e = np.exp(xd - xd.max(axis=1, keepdims=True))
mean = xd.mean(axis=1, keepdims=True)
want = {
    "sum": xd.sum(axis=1, keepdims=True),
    "mean": mean,
    "sumsq": (xd * xd).sum(axis=1, keepdims=True),
    "softmax": e / e.sum(axis=1, keepdims=True),
}
names = list(want)
nodes = [
    helper.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=1),
    helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1], keepdims=1),
    helper.make_node("ReduceSumSquare", ["x"], ["sumsq"], axes=[1], keepdims=1),
    helper.make_node("Softmax", ["x"], ["softmax"], axis=1),
]
inits = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")]
graph = helper.make_graph(
    nodes, "long_sums", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
    [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(want[k].shape)) for k in names], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))


def save(name, arr, tname):
    with open(os.path.join(out, "test_data_set_0", name), "wb") as f:
        f.write(numpy_helper.from_array(arr, tname).SerializeToString())


save("input_0.pb", x, "x")
for i, k in enumerate(names):
    save("output_%d.pb" % i, want[k].astype(np.float32), k)
