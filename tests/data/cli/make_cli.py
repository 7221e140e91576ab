"""Writes the small models that tests/e2e/cli_outputs.sh feeds to modelc.

Run with Debian's python3-onnx: /usr/bin/python3 tests/data/cli/make_cli.py
 - collide.onnx: outputs 'y/1' = -x, 'y:1' = |x| and 'y_1.2' = relu(x); the
   first two map to the same file name y_1.npy, the suffix the second gets
   (.2) is the third's own name, so it must get .3;
 - dot_names.onnx: node and tensor names holding '"' and '\\', which
   `modelc graph --format dot` must escape.
"""
import os
import onnx
from onnx import helper, TensorProto

here = os.path.dirname(os.path.abspath(__file__))


def save(graph, name, opset=13):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="modelc-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(here, name))


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("y/1", "y:1", "y_1.2")]
save(helper.make_graph([helper.make_node("Neg", ["x"], ["y/1"], name="neg"),
                        helper.make_node("Abs", ["x"], ["y:1"], name="abs"),
                        helper.make_node("Relu", ["x"], ["y_1.2"], name="relu")],
                       "collide", [x], outs), "collide.onnx")

y = helper.make_tensor_value_info('out "quoted" \\ back', TensorProto.FLOAT, [2, 3])
save(helper.make_graph([helper.make_node("Neg", ["x"], ['t"1\\'], name='neg "one" \\'),
                        helper.make_node("Relu", ['t"1\\'], ['out "quoted" \\ back'], name='relu \\" two')],
                       "dot_names", [x], [y]), "dot_names.onnx")
