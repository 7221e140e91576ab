"""Writes the small broken models that tests/e2e/cli_errors.sh feeds to modelc.

Run with Debian's python3-onnx: /usr/bin/python3 tests/data/bad/make_bad.py
Each file is refused with a one-line error and exit 1; the test checks the
message names what is wrong.
"""
import os
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))


def save(graph, name, opset=13):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="modelc-tests")
    m.ir_version = 8
    onnx.save(m, os.path.join(here, name))


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])

# two ops modelc does not have: both must be named in one error
save(helper.make_graph([helper.make_node("FooOp", ["x"], ["t"], name="first_foo"),
                        helper.make_node("BarOp", ["t"], ["y"], name="second_bar")],
                       "unknown_ops", [x], [y]), "unknown_ops.onnx")

# an attribute value modelc does not support
xi = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
yi = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
save(helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_bad_pad", auto_pad="SIDEWAYS")],
                       "bad_attr", [xi], [yi], [w]), "bad_attr.onnx")

# a reshape whose element count cannot match
shape = numpy_helper.from_array(np.array([3, 5], np.int64), "shape")
save(helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_bad")],
                       "bad_reshape", [x], [y], [shape]), "bad_reshape.onnx")

# a node reading a tensor that nothing defines
save(helper.make_graph([helper.make_node("Relu", ["nowhere"], ["y"], name="relu_orphan")],
                       "missing_tensor", [x], [y]), "missing_tensor.onnx")

# an input of the wrong shape for lenet5 (expects [1,1,32,32])
np.save(os.path.join(here, "wrong_shape.npy"), np.zeros((1, 1, 28, 28), np.float32))
np.save(os.path.join(here, "wrong_dtype.npy"), np.zeros((1, 1, 32, 32), np.float64))

with open(os.path.join(here, "not_onnx.onnx"), "wb") as f:
    f.write(b"this is not a protobuf \xff\xff\xff\xff")

# 60 distinct unknown op types (some used twice), long names: the error must
# name every one of them, however long it gets
nodes, prev = [], "x"
for i in range(80):
    out = "y" if i == 79 else "t%d" % i
    nodes.append(helper.make_node("UnknownOperatorNumber%02d" % (i % 60), [prev], [out],
                                  name="a_node_with_a_rather_long_name_%02d" % i))
    prev = out
save(helper.make_graph(nodes, "many_unknown_ops", [x], [y]), "many_unknown_ops.onnx")
