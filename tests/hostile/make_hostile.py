#!/usr/bin/python3
"""make_hostile.py - writes the committed corpus of hostile models.

Every file here is a model a stranger could hand to modelc: broken bytes,
lies about sizes, paths out of the model's folder, shapes that would need
terabytes, recursion that would exhaust the stack.  run_hostile.sh runs
`modelc info` and `modelc compile` on each and wants exit 1 with a one-line
error containing the fragment it lists; ok_*.onnx files are legal but
nasty and may pass or fail, as long as nothing crashes.

Deterministic: rerunning rewrites the same bytes.
usage: /usr/bin/python3 tests/hostile/make_hostile.py
"""
import os
import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")
os.makedirs(OUT, exist_ok=True)
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def save(name, data):
    if not isinstance(data, (bytes, bytearray)):
        data = data.SerializeToString()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def vi(name, dt=F, shape=(2, 3)):
    return helper.make_tensor_value_info(name, dt, None if shape is None else list(shape))


def model(nodes, inputs=None, outputs=None, inits=(), opset=17, functions=(), extra_opsets=()):
    inputs = [vi("x")] if inputs is None else inputs
    outputs = [vi("y", F, None)] if outputs is None else outputs
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] + list(extra_opsets),
                          functions=list(functions))
    m.ir_version = 8
    return m


def i64(name, vals):
    return numpy_helper.from_array(np.array(vals, dtype=np.int64), name)


def relu():
    return model([helper.make_node("Relu", ["x"], ["y"])])


# ---- bytes that are not a model --------------------------------------------
good = relu().SerializeToString()
save("truncated.onnx", good[: len(good) // 2])
save("empty_file.onnx", b"")
save("random_bytes.onnx", bytes(random.Random(4).randrange(256) for _ in range(4096)))
save("npy_not_onnx.onnx", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" +
     b" " * 41 + b"\n" + b"\0" * 8)
save("no_graph.onnx", onnx.ModelProto(ir_version=8).SerializeToString())

# ---- graph structure -------------------------------------------------------
save("unknown_op.onnx", model([helper.make_node("FrobnicateTensor", ["x"], ["y"])]))
save("unknown_domain.onnx", model([helper.make_node("Relu", ["x"], ["y"], domain="com.evil")]))
save("unknown_domain_imported.onnx", model([helper.make_node("Relu", ["x"], ["y"], domain="com.evil")],
                                           extra_opsets=[helper.make_opsetid("com.evil", 1)]))
save("empty_op_type.onnx", model([helper.make_node("", ["x"], ["y"])]))
save("missing_tensor.onnx", model([helper.make_node("Add", ["x", "nowhere"], ["y"])]))
save("missing_output.onnx", model([helper.make_node("Relu", ["x"], ["z"])]))
save("cycle.onnx", model([helper.make_node("Add", ["x", "b"], ["a"]),
                          helper.make_node("Relu", ["a"], ["b"]),
                          helper.make_node("Identity", ["b"], ["y"])]))
save("self_loop.onnx", model([helper.make_node("Add", ["x", "y"], ["y"])]))
save("duplicate_producer.onnx", model([helper.make_node("Relu", ["x"], ["y"]),
                                       helper.make_node("Neg", ["x"], ["y"])]))
save("duplicate_initializer.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])],
                                         inits=[numpy_helper.from_array(np.ones((2, 3), np.float32), "w"),
                                                numpy_helper.from_array(np.ones((2, 3), np.float32), "w")]))
save("duplicate_input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], inputs=[vi("x"), vi("x")]))
save("empty_graph.onnx", model([], inputs=[], outputs=[]))
save("no_outputs.onnx", model([helper.make_node("Relu", ["x"], ["y"])], outputs=[]))
save("constant_no_value.onnx", model([helper.make_node("Constant", [], ["c"]),
                                      helper.make_node("Add", ["x", "c"], ["y"])]))
save("sequence_input.onnx", model([helper.make_node("Identity", ["x"], ["y"])],
                                  inputs=[helper.make_tensor_sequence_value_info("x", F, [2])]))
save("string_input.onnx", model([helper.make_node("Identity", ["x"], ["y"])],
                                inputs=[vi("x", TensorProto.STRING, [2])]))
save("too_many_inputs.onnx", model([helper.make_node("Relu", ["x", "x", "x"], ["y"])]))

# ---- opsets ----------------------------------------------------------------
save("future_opset.onnx", model([helper.make_node("Relu", ["x"], ["y"])], opset=99))
save("negative_opset.onnx", model([helper.make_node("Relu", ["x"], ["y"])], opset=-3))

# ---- sizes -----------------------------------------------------------------
save("huge_dim_input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], inputs=[vi("x", F, [1 << 62, 4])]))
save("overflow_dims_input.onnx", model([helper.make_node("Relu", ["x"], ["y"])],
                                       inputs=[vi("x", F, [1 << 40, 1 << 40, 1 << 40])]))
neg = vi("x", F, [2, 3])
neg.type.tensor_type.shape.dim[1].dim_value = -5
save("negative_dim_input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], inputs=[neg]))
save("rank9_input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], inputs=[vi("x", F, [1] * 9)]))


def raw_init(name, dims, raw, dt=F):
    t = TensorProto(name=name, data_type=dt, dims=list(dims))
    t.raw_data = raw
    return t


def add_w(w):
    return model([helper.make_node("Add", ["x", "w"], ["y"])], inits=[w])


save("short_initializer.onnx", add_w(raw_init("w", [2, 3], b"\0" * 20)))
save("long_initializer.onnx", add_w(raw_init("w", [2, 3], b"\0" * 28)))
save("short_typed_initializer.onnx", add_w(TensorProto(name="w", data_type=F, dims=[2, 3], float_data=[1, 2])))
save("negative_dim_initializer.onnx", add_w(raw_init("w", [-2, -3], b"\0" * 24)))
save("huge_initializer.onnx", add_w(raw_init("w", [1 << 31, 1 << 31, 1 << 31], b"")))
save("overflow_initializer.onnx", add_w(raw_init("w", [1 << 62, 4], b"")))
save("rank9_initializer.onnx", add_w(raw_init("w", [1] * 9, b"\0" * 4)))
save("bad_dtype_initializer.onnx", add_w(raw_init("w", [2, 3], b"\0" * 24, dt=999)))
save("string_initializer.onnx", add_w(TensorProto(name="w", data_type=TensorProto.STRING, dims=[1],
                                                  string_data=[b"hello"])))
save("over_max_bytes.onnx", add_w(raw_init("w", [2, 3], b"\0" * 24)))   # run with --max-bytes 16
save("mismatched_weights.onnx", model([helper.make_node("Gemm", ["x", "w"], ["y"])],
                                      inits=[numpy_helper.from_array(np.ones((4, 5), np.float32), "w")]))
save("mismatched_conv_weights.onnx", model(
    [helper.make_node("Conv", ["x", "w"], ["y"])], inputs=[vi("x", F, [1, 3, 8, 8])],
    inits=[numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "w")]))
save("impossible_reshape.onnx", model([helper.make_node("Reshape", ["x", "s"], ["y"])], inits=[i64("s", [4])]))
save("impossible_reshape_two_minus1.onnx", model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                                                 inits=[i64("s", [-1, -1])]))
save("broadcast_mismatch.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])],
                                      inits=[numpy_helper.from_array(np.ones((4,), np.float32), "w")]))

# Shape arithmetic asking for ~1e12 elements: refused by the byte limit, not malloc'd.
BIG = [1000000, 1000000]
save("constantofshape_huge.onnx", model([helper.make_node("ConstantOfShape", ["s"], ["c"]),
                                         helper.make_node("Add", ["x", "c"], ["y"])], inits=[i64("s", BIG)]))
save("constantofshape_overflow.onnx", model([helper.make_node("ConstantOfShape", ["s"], ["c"]),
                                             helper.make_node("Add", ["x", "c"], ["y"])],
                                            inits=[i64("s", [1 << 40, 1 << 40, 1 << 40])]))
save("constantofshape_negative.onnx", model([helper.make_node("ConstantOfShape", ["s"], ["c"]),
                                             helper.make_node("Add", ["x", "c"], ["y"])], inits=[i64("s", [-4, 3])]))
save("expand_huge.onnx", model([helper.make_node("Expand", ["x", "s"], ["y"])],
                               inputs=[vi("x", F, [1, 1])], inits=[i64("s", BIG)]))
save("tile_huge.onnx", model([helper.make_node("Tile", ["x", "r"], ["y"])], inits=[i64("r", BIG)]))
save("reshape_huge.onnx", model([helper.make_node("ConstantOfShape", ["s"], ["c"]),
                                 helper.make_node("Reshape", ["c", "t"], ["y"])],
                                inputs=[], inits=[i64("s", [1]), i64("t", BIG)]))
save("range_huge.onnx", model([helper.make_node("Range", ["a", "b", "d"], ["y"])], inputs=[],
                              inits=[numpy_helper.from_array(np.array(0, np.int64), "a"),
                                     numpy_helper.from_array(np.array(10 ** 12, np.int64), "b"),
                                     numpy_helper.from_array(np.array(1, np.int64), "d")]))
save("pad_huge.onnx", model([helper.make_node("Pad", ["x", "p"], ["y"])], inits=[i64("p", [0, 0, 10 ** 12, 10 ** 12])]))
save("constant_huge_dims.onnx", model([helper.make_node("Constant", [], ["c"], value=raw_init("v", BIG, b"")),
                                       helper.make_node("Add", ["x", "c"], ["y"])]))

# ---- attributes ------------------------------------------------------------
def attr(name, **kw):
    a = onnx.AttributeProto(name=name, **kw)
    return a


n = helper.make_node("Gemm", ["x", "w"], ["y"])
n.attribute.append(attr("alpha", type=onnx.AttributeProto.STRING, s=b"two"))
save("wrong_attr_type.onnx", model([n], inits=[numpy_helper.from_array(np.ones((3, 4), np.float32), "w")]))
n = helper.make_node("Transpose", ["x"], ["y"])
n.attribute.append(attr("perm", type=onnx.AttributeProto.FLOATS, floats=[1.0, 0.0]))
save("wrong_attr_type_list.onnx", model([n]))
n = helper.make_node("Transpose", ["x"], ["y"])
n.attribute.append(attr("perm", type=onnx.AttributeProto.INTS, ints=[1] * 100000))
save("huge_attr_list.onnx", model([n]))
n = helper.make_node("Relu", ["x"], ["y"])
for k in range(20000):
    n.attribute.append(attr("a%d" % k, type=onnx.AttributeProto.INT, i=k))
save("many_attrs.onnx", model([n]))
n = helper.make_node("Relu", ["x"], ["y"])
n.attribute.append(attr("ghost", type=onnx.AttributeProto.UNDEFINED))
save("undefined_attr.onnx", model([n]))
save("axis_huge.onnx", model([helper.make_node("Softmax", ["x"], ["y"], axis=1 << 62)]))
save("transpose_perm_oob.onnx", model([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 7])]))
save("conv_zero_stride.onnx", model(
    [helper.make_node("Conv", ["x", "w"], ["y"], strides=[0, 0])], inputs=[vi("x", F, [1, 1, 4, 4])],
    inits=[numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")]))
save("conv_kernel_too_big.onnx", model(
    [helper.make_node("Conv", ["x", "w"], ["y"])], inputs=[vi("x", F, [1, 1, 2, 2])],
    inits=[numpy_helper.from_array(np.ones((1, 1, 5, 5), np.float32), "w")]))
save("maxpool_negative_pads.onnx", model(
    [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[-9, -9, -9, -9])],
    inputs=[vi("x", F, [1, 1, 4, 4])]))
save("gather_oob_const.onnx", model([helper.make_node("Gather", ["d", "i"], ["y"])], inputs=[],
                                    inits=[i64("d", [1, 2, 3]), i64("i", [1000000])],
                                    outputs=[vi("y", I64, None)]))
save("gather_oob_input.onnx", model([helper.make_node("Gather", ["x", "i"], ["y"])], inits=[i64("i", [7])]))

# ---- recursion -------------------------------------------------------------
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):   # length-delimited field
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def nested_if(depth):
    """Model bytes with If nodes nested `depth` deep through then_branch."""
    g = field(1, field(4, b"If") + field(2, b"o"))   # innermost GraphProto: a bare If, no branch
    for _ in range(depth):
        a = field(1, b"then_branch") + varint(20 << 3) + varint(5) + field(6, g)
        node = field(1, b"c") + field(2, b"o") + field(3, b"n") + field(4, b"If") + field(5, a)
        g = field(1, node) + field(12, field(1, b"o"))
    opset = field(8, field(1, b"") + varint(2 << 3) + varint(17))
    return varint(1 << 3) + varint(8) + opset + field(7, g)


save("nested_subgraphs_10000.onnx", nested_if(10000))


def nested_type(depth):
    """An input whose type is a sequence of sequences ... `depth` deep."""
    t = field(1, varint(1 << 3) + varint(1))          # TypeProto{tensor_type{elem_type FLOAT}}
    for _ in range(depth):
        t = field(4, field(1, t))                     # TypeProto{sequence_type{elem_type t}}
    g = field(11, field(1, b"x") + field(2, t)) + field(12, field(1, b"x"))
    opset = field(8, field(1, b"") + varint(2 << 3) + varint(17))
    return varint(1 << 3) + varint(8) + opset + field(7, g)


save("nested_types_50000.onnx", nested_type(50000))
save("nested_subgraphs_40.onnx", nested_if(40))
fa = helper.make_function("local", "F", ["a"], ["b"], [helper.make_node("F", ["a"], ["b"], domain="local")],
                          [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
save("recursive_function.onnx", model([helper.make_node("F", ["x"], ["y"], domain="local")], functions=[fa],
                                      extra_opsets=[helper.make_opsetid("local", 1)]))
fg = helper.make_function("local", "G", ["a"], ["b"], [helper.make_node("H", ["a"], ["b"], domain="local")],
                          [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
fh = helper.make_function("local", "H", ["a"], ["b"], [helper.make_node("G", ["a"], ["b"], domain="local")],
                          [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
save("mutual_recursive_functions.onnx", model([helper.make_node("G", ["x"], ["y"], domain="local")],
                                              functions=[fg, fh], extra_opsets=[helper.make_opsetid("local", 1)]))

# ---- external data (run_hostile.sh copies these into a scratch folder,
# writes w.bin there and makes the symlink) ---------------------------------
def ext_model(name, location, offset=None, length=None):
    t = TensorProto(name="w", data_type=F, dims=[2, 3], data_location=TensorProto.EXTERNAL)
    t.external_data.add(key="location", value=location)
    if offset is not None:
        t.external_data.add(key="offset", value=str(offset))
    if length is not None:
        t.external_data.add(key="length", value=str(length))
    save(name, add_w(t))


ext_model("external_absolute.onnx", "/etc/passwd")
ext_model("external_dotdot.onnx", "../../../../etc/passwd")
ext_model("external_dotdot_inner.onnx", "sub/../../w.bin")
ext_model("external_symlink.onnx", "link.bin")
ext_model("external_dir.onnx", ".")
ext_model("external_missing.onnx", "nothere.bin")
ext_model("external_offset_past_end.onnx", "w.bin", offset=1 << 40)
ext_model("external_offset_negative.onnx", "w.bin", offset=-8)
ext_model("external_length_short.onnx", "w.bin", offset=0, length=8)
ext_model("external_length_past_end.onnx", "w.bin", offset=16, length=24)
ext_model("external_offset_garbage.onnx", "w.bin", offset="12abc")
ext_model("external_device.onnx", "/dev/zero")
ext_model("external_fifo.onnx", "fifo.bin")       # a FIFO the test makes: must not block
ext_model("external_subdir.onnx", "sub")

# ---- legal but nasty (ok_*): constant folding runs the interpreter's
# kernels on the model's own numbers; none of these may be undefined
# behaviour in the compiler.  Accepted or refused, never a crash. ---------
def fold2(name, op, a, b, dt=np.int64, **attrs):
    save("ok_%s.onnx" % name, model(
        [helper.make_node(op, ["a", "b"], ["y"], **attrs)], inputs=[],
        inits=[numpy_helper.from_array(np.array(a, dtype=dt), "a"), numpy_helper.from_array(np.array(b, dtype=dt), "b")],
        outputs=[helper.make_tensor_value_info("y", onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)], None)]))


def fold1(name, op, a, dt=np.int64, out_dt=None, **attrs):
    out_dt = out_dt or onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)]
    save("ok_%s.onnx" % name, model(
        [helper.make_node(op, ["a"], ["y"], **attrs)], inputs=[],
        inits=[numpy_helper.from_array(np.array(a, dtype=dt), "a")],
        outputs=[helper.make_tensor_value_info("y", out_dt, None)]))


I64MIN = -(1 << 63)
fold2("div_zero_int", "Div", [7, 1], [0, 0])
fold2("div_zero_int32", "Div", [7, 1], [0, 0], dt=np.int32)
fold2("div_min_by_minus1", "Div", [I64MIN], [-1])
fold2("mod_zero", "Mod", [7], [0])
fold2("mod_min_by_minus1", "Mod", [I64MIN], [-1])
fold2("add_overflow", "Add", [(1 << 63) - 1], [1])
fold2("mul_overflow", "Mul", [1 << 40], [1 << 40])
fold2("sub_overflow", "Sub", [I64MIN], [1])
fold2("pow_int_overflow", "Pow", [10], [100])
fold2("shift_64", "BitShift", [1, 1], [64, 200], dt=np.uint64, direction="LEFT")
fold2("shift_right_64", "BitShift", [1, 1], [64, 200], dt=np.uint64, direction="RIGHT")
fold1("neg_min", "Neg", [I64MIN])
fold1("abs_min", "Abs", [I64MIN])
fold1("abs_min32", "Abs", [-(1 << 31)], dt=np.int32)
fold1("cast_huge_float_to_int", "Cast", [1e30, -1e30, float("nan"), float("inf")], dt=np.float32,
      out_dt=TensorProto.INT32, to=TensorProto.INT32)
fold1("cast_huge_float_to_u8", "Cast", [1e30, -5.0, float("nan")], dt=np.float32,
      out_dt=TensorProto.UINT8, to=TensorProto.UINT8)
fold1("cast_huge_double_to_i64", "Cast", [1e300, float("-inf")], dt=np.float64,
      out_dt=TensorProto.INT64, to=TensorProto.INT64)
fold1("cast_huge_to_f16", "Cast", [1e30, -1e-30], dt=np.float32, out_dt=TensorProto.FLOAT16, to=TensorProto.FLOAT16)
fold1("reduce_sum_overflow", "ReduceSum", [(1 << 62), (1 << 62), (1 << 62)], keepdims=0)
fold1("cumsum_overflow_noaxis", "Neg", [I64MIN + 1])
save("ok_range_negative_delta.onnx", model([helper.make_node("Range", ["a", "b", "d"], ["y"])], inputs=[],
     inits=[numpy_helper.from_array(np.array(I64MIN + 5, np.int64), "a"),
            numpy_helper.from_array(np.array((1 << 63) - 1, np.int64), "b"),
            numpy_helper.from_array(np.array((1 << 62), np.int64), "d")],
     outputs=[helper.make_tensor_value_info("y", I64, None)]))
save("ok_range_zero_delta.onnx", model([helper.make_node("Range", ["a", "b", "d"], ["y"])], inputs=[],
     inits=[numpy_helper.from_array(np.array(0, np.int64), "a"), numpy_helper.from_array(np.array(10, np.int64), "b"),
            numpy_helper.from_array(np.array(0, np.int64), "d")],
     outputs=[helper.make_tensor_value_info("y", I64, None)]))
save("ok_slice_extreme.onnx", model([helper.make_node("Slice", ["x", "s", "e", "ax", "st"], ["y"])],
     inits=[i64("s", [I64MIN, (1 << 63) - 1]), i64("e", [(1 << 63) - 1, I64MIN]), i64("ax", [0, 1]),
            i64("st", [I64MIN + 1, -(1 << 62)])]))
save("ok_slice_step_zero.onnx", model([helper.make_node("Slice", ["x", "s", "e", "ax", "st"], ["y"])],
     inits=[i64("s", [0]), i64("e", [2]), i64("ax", [0]), i64("st", [0])]))
save("ok_onehot_huge_depth.onnx", model([helper.make_node("OneHot", ["i", "d", "v"], ["y"])], inputs=[],
     inits=[i64("i", [1]), i64("d", [1 << 40]), numpy_helper.from_array(np.array([0, 1], np.float32), "v")]))
save("ok_split_bad_sizes.onnx", model([helper.make_node("Split", ["x", "s"], ["y", "z"], axis=1)],
     inits=[i64("s", [-1, 4])], outputs=[vi("y", F, None), vi("z", F, None)]))
save("ok_topk_huge_k.onnx", model([helper.make_node("TopK", ["x", "k"], ["y", "i"])],
     inits=[i64("k", [1 << 62])], outputs=[vi("y", F, None), vi("i", I64, None)]))
save("ok_resize_huge_scale.onnx", model([helper.make_node("Resize", ["x", "", "sc"], ["y"])],
     inputs=[vi("x", F, [1, 1, 2, 2])], inits=[numpy_helper.from_array(np.array([1, 1, 1e9, 1e9], np.float32), "sc")]))
save("ok_resize_nan_scale.onnx", model([helper.make_node("Resize", ["x", "", "sc"], ["y"])],
     inputs=[vi("x", F, [1, 1, 2, 2])], inits=[numpy_helper.from_array(np.array([1, 1, np.nan, -3], np.float32), "sc")]))
save("ok_concat_axis_oob.onnx", model([helper.make_node("Concat", ["x", "x"], ["y"], axis=-9)]))
save("ok_gather_negative_const.onnx", model([helper.make_node("Gather", ["d", "i"], ["y"])], inputs=[],
     inits=[i64("d", [1, 2, 3]), i64("i", [I64MIN, -3])], outputs=[vi("y", I64, None)]))
save("ok_depth_to_space_zero.onnx", model([helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=0)],
     inputs=[vi("x", F, [1, 4, 2, 2])]))
save("ok_conv_huge_dilation.onnx", model(
    [helper.make_node("Conv", ["x", "w"], ["y"], dilations=[1 << 62, 1 << 62])], inputs=[vi("x", F, [1, 1, 4, 4])],
    inits=[numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")]))
save("ok_conv_group_zero.onnx", model(
    [helper.make_node("Conv", ["x", "w"], ["y"], group=0)], inputs=[vi("x", F, [1, 1, 4, 4])],
    inits=[numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")]))
save("ok_maxpool_huge_pads.onnx", model(
    [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[1 << 62] * 4)],
    inputs=[vi("x", F, [1, 1, 4, 4])]))
save("ok_maxpool_huge_stride.onnx", model(
    [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[1 << 62, 1 << 62])],
    inputs=[vi("x", F, [1, 1, 4, 4])]))
save("ok_flatten_axis_huge.onnx", model([helper.make_node("Flatten", ["x"], ["y"], axis=-(1 << 62))]))
save("ok_unsqueeze_many.onnx", model([helper.make_node("Unsqueeze", ["x", "a"], ["y"])], inits=[i64("a", list(range(12)))]))
