"""train_models.py DIR: the small models and data of the training tests.

DIR/tiny.onnx    y = tanh(x * w + b), x [4,3], parameters w, b [3] (float32)
DIR/x.npy, DIR/y.npy   a batch and its float targets
DIR/classes.onnx the same logits x * w + b ending in SoftmaxCrossEntropyLoss
                 with the int64 labels input 'classes' (a model with its loss)
DIR/w_new.npz    other values for w and b (update-weights)
DIR/w_state.npz  the same with optimizer state, as a --train harness saves it
DIR/w_missing.npz, w_extra.npz, w_shape.npz, w_dtype.npz   broken weight sets
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
W = np.array([0.5, -0.25, 1.0], np.float32)
B = np.array([0.1, 0.0, -0.2], np.float32)
inits = [numpy_helper.from_array(W, "w"), numpy_helper.from_array(B, "b")]
x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])
logits = [helper.make_node("Mul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["z"])]

g = helper.make_graph(logits + [helper.make_node("Tanh", ["z"], ["y"])], "tiny", [x_info],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(d, "tiny.onnx"))

g = helper.make_graph(logits + [helper.make_node("SoftmaxCrossEntropyLoss", ["z", "classes"], ["loss"])], "classes",
                      [x_info, helper.make_tensor_value_info("classes", TensorProto.INT64, [4])],
                      [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(d, "classes.onnx"))

x = np.array([[0.1 * (i * 3 + j) - 0.5 for j in range(3)] for i in range(4)], np.float32)
y = np.array([[0.3 * ((i + 2 * j) % 5) - 0.6 for j in range(3)] for i in range(4)], np.float32)
np.save(os.path.join(d, "x.npy"), x)
np.save(os.path.join(d, "y.npy"), y)

w2, b2 = np.array([1.5, 2.0, -0.75], np.float32), np.array([-0.3, 0.25, 0.5], np.float32)
np.savez(os.path.join(d, "w_new.npz"), w=w2, b=b2)
np.savez(os.path.join(d, "w_state.npz"), w=w2, b=b2, **{"optimizer/w/exp_avg": w2, "optimizer/b/exp_avg": b2,
                                                       "optimizer/step": np.array(7, np.int64)})
np.savez(os.path.join(d, "w_missing.npz"), w=w2)
np.savez(os.path.join(d, "w_extra.npz"), w=w2, b=b2, c=b2)
np.savez(os.path.join(d, "w_shape.npz"), w=np.zeros(4, np.float32), b=b2)
np.savez(os.path.join(d, "w_dtype.npz"), w=w2.astype(np.float64), b=b2)
