#!/usr/bin/python3
"""Tiny ONNX backend-test folders for tests/onnx/classify.sh.

Each folder is model.onnx + test_data_set_N/{input,output}_K.pb, like ONNX's
own backend tests.  The prefix of a folder's name is the status `modelc
test-onnx` must give it (pass_, fail_, unsupported_).  Expected outputs are
computed here with numpy, independently of modelc.

Run from anywhere: /usr/bin/python3 tests/data/onnx/make.py
"""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, model, sets):
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for s, (ins, outs) in enumerate(sets):
        sd = os.path.join(d, "test_data_set_%d" % s)
        os.makedirs(sd)
        for kind, values in (("input", ins), ("output", outs)):
            for k, v in enumerate(values):
                data = v if isinstance(v, bytes) else numpy_helper.from_array(v).SerializeToString()
                with open(os.path.join(sd, "%s_%d.pb" % (kind, k)), "wb") as f:
                    f.write(data)


def model(nodes, inputs, outputs, opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


rng = np.random.default_rng(7)
a = rng.standard_normal((2, 3)).astype(np.float32)
b = rng.standard_normal((2, 3)).astype(np.float32)
add = model([helper.make_node("Add", ["a", "b"], ["c"])],
            [vi("a", TensorProto.FLOAT, [2, 3]), vi("b", TensorProto.FLOAT, [2, 3])],
            [vi("c", TensorProto.FLOAT, [2, 3])])

# the right answer passes; one wrong element fails
save("pass_add", add, [([a, b], [a + b])])
wrong = a + b
wrong[1, 2] += 1.0
save("fail_wrong_output", add, [([a, b], [wrong])])

# an op no ONNX opset defines: unsupported, never a failure
save("unsupported_op",
     model([helper.make_node("NoSuchOpAnywhere", ["a"], ["c"])],
           [vi("a", TensorProto.FLOAT, [2, 3])], [vi("c", TensorProto.FLOAT, [2, 3])]),
     [([a], [a])])

# a sequence-typed input, with a SequenceProto data file
seq_in = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None)
seq_pb = onnx.SequenceProto(name="s", elem_type=onnx.SequenceProto.TENSOR,
                            tensor_values=[numpy_helper.from_array(a)]).SerializeToString()
save("unsupported_sequence_input",
     model([helper.make_node("SequenceAt", ["s", "i"], ["c"])],
           [seq_in, vi("i", TensorProto.INT64, [])], [vi("c", TensorProto.FLOAT, [2, 3])]),
     [([seq_pb, np.array(0, dtype=np.int64)], [a])])

# a tensor input whose data file is a SequenceProto: refused, not a huge allocation
save("unsupported_sequence_data", add, [([seq_pb, b], [a + b])])

# Reshape's shape is a graph input: specialized from each data set, and the
# two sets need two compiled variants
x = np.arange(12, dtype=np.float32)
save("pass_reshape_specialized",
     model([helper.make_node("Reshape", ["x", "shape"], ["y"])],
           [vi("x", TensorProto.FLOAT, [12]), vi("shape", TensorProto.INT64, [2])],
           [vi("y", TensorProto.FLOAT, None)]),
     [([x, np.array([3, 4], dtype=np.int64)], [x.reshape(3, 4)]),
      ([x, np.array([6, 2], dtype=np.int64)], [x.reshape(6, 2)])])

# an integer output is compared exactly
i1 = np.array([1, 2, 3], dtype=np.int64)
i2 = np.array([10, 20, 30], dtype=np.int64)
imodel = model([helper.make_node("Add", ["a", "b"], ["c"])],
               [vi("a", TensorProto.INT64, [3]), vi("b", TensorProto.INT64, [3])],
               [vi("c", TensorProto.INT64, [3])])
save("pass_int_add", imodel, [([i1, i2], [i1 + i2])])
save("fail_int_off_by_one", imodel, [([i1, i2], [i1 + i2 + np.array([0, 0, 1])])])

# float16 values are compared as numbers, not as NaN == NaN
h = np.array([1.0, 2.0, 3.0], dtype=np.float16)
hmodel = model([helper.make_node("Identity", ["a"], ["c"])],
               [vi("a", TensorProto.FLOAT16, [3])], [vi("c", TensorProto.FLOAT16, [3])])
save("pass_f16_identity", hmodel, [([h], [h])])
save("fail_f16_wrong", hmodel, [([h], [h + np.float16(1)])])
