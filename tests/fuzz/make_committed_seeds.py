#!/usr/bin/python3
"""make_committed_seeds.py - the small seed set committed under tests/fuzz/seeds/.

One tiny file per feature the readers must handle: every npy dtype and
format version, scalars and empty arrays; TensorProtos in raw and typed
form for each dtype; a few small models using subgraphs, functions and
shape arithmetic.  Run from anywhere: /usr/bin/python3 make_committed_seeds.py
"""
import io
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def out(kind, name, data):
    with open(os.path.join(HERE, "seeds", kind, name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, version=version)
    return b.getvalue()


for dt in ["<f4", "<f8", "<f2", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"]:
    a = (np.arange(6) % 2).astype(dt).reshape(2, 3)
    out("npy", "arr_%s.npy" % dt[1:], npy_bytes(a))
out("npy", "scalar.npy", npy_bytes(np.array(3.5, dtype=np.float32)))
out("npy", "empty.npy", npy_bytes(np.zeros((0, 4), dtype=np.float32)))
out("npy", "rank8.npy", npy_bytes(np.zeros((1,) * 8, dtype=np.int64)))
out("npy", "v2.npy", npy_bytes(np.ones((2, 2), dtype=np.float32), version=(2, 0)))
v3 = bytearray(npy_bytes(np.ones((3,), dtype=np.int32), version=(2, 0)))
v3[6] = 3
out("npy", "v3.npy", bytes(v3))

for dt in [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64,
           np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]:
    a = (np.arange(6) % 3).astype(dt).reshape(3, 2)
    t = numpy_helper.from_array(a, "t_" + np.dtype(dt).name)
    out("tensorproto", "raw_%s.pb" % np.dtype(dt).name, t.SerializeToString())
    typed = helper.make_tensor("u_" + np.dtype(dt).name, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)],
                               [3, 2], a.flatten().tolist(), raw=False)
    out("tensorproto", "typed_%s.pb" % np.dtype(dt).name, typed.SerializeToString())
out("tensorproto", "scalar.pb", numpy_helper.from_array(np.array(2, dtype=np.int64), "s").SerializeToString())
ext = onnx.TensorProto(name="e", data_type=TensorProto.FLOAT, dims=[2], data_location=TensorProto.EXTERNAL)
ext.external_data.add(key="location", value="w.bin")
ext.external_data.add(key="offset", value="0")
ext.external_data.add(key="length", value="8")
out("tensorproto", "external.pb", ext.SerializeToString())


def model(nodes, inputs, outputs, inits=(), opset=17, functions=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] +
                          ([helper.make_opsetid("local", 1)] if functions else []),
                          functions=list(functions))
    m.ir_version = 8
    return m.SerializeToString()


X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
out("onnx", "shape_arith.onnx", model([
    helper.make_node("Shape", ["x"], ["s"]),
    helper.make_node("ReduceProd", ["s"], ["p"], keepdims=1),
    helper.make_node("Reshape", ["x", "p"], ["f"]),
    helper.make_node("Relu", ["f"], ["y"])], [X], [Y]))
out("onnx", "const_fold.onnx", model([
    helper.make_node("ConstantOfShape", ["shp"], ["c"], value=numpy_helper.from_array(np.array([1.5], np.float32))),
    helper.make_node("Tile", ["c", "rep"], ["t"]),
    helper.make_node("Expand", ["t", "shp"], ["e"]),
    helper.make_node("Add", ["x", "e"], ["y"])], [X], [Y],
    [numpy_helper.from_array(np.array([2, 3], np.int64), "shp"),
     numpy_helper.from_array(np.array([1, 1], np.int64), "rep")]))
then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["a"])], "then", [],
                           [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3])])
else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["b"])], "else", [],
                           [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3])])
out("onnx", "if_const.onnx", model([
    helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)], [X], [Y],
    [numpy_helper.from_array(np.array(True), "cond")]))
fn = helper.make_function("local", "Twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                          [helper.make_opsetid("", 17)])
out("onnx", "function.onnx", model([helper.make_node("Twice", ["x"], ["y"], domain="local")], [X], [Y],
                                  functions=[fn]))
W = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
out("onnx", "gemm.onnx", model([
    helper.make_node("Gemm", ["x", "w"], ["g"], transB=1),
    helper.make_node("Softmax", ["g"], ["y"], axis=1)], [X], [Y], [W]))
