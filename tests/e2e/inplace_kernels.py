#!/usr/bin/python3
"""inplace_kernels.py MODELC - kernels that write over an input's bytes, end to end.

Small ONNX models, each planned, its plan listed by `modelc info` (which runs
plan_check) and its C checked against the interpreter by `modelc check` (gcc,
and clang under ASan+UBSan when there is one):
 - residual: Relu(Gemm(h, W2) + r) with K = 300, so that the GEMM core runs
   more than one K block; r dies there, so the output takes r's bytes (the
   core adds the residual in its first K block, before any partial sum is
   stored over it);
 - depthwise: a 3x3 depthwise convolution, stride 1, after a 1x1 expansion:
   its output takes the expansion's bytes (its ring of three rows holds
   every row it still reads, no scratch); with stride 2 the output is
   smaller and does not; a 5x5 one in place copies a channel plane to
   scratch at a time;
 - input view: a Flatten of the graph input feeding a Gemm: it gets no arena
   bytes (the caller's input is read in place).
Exit 77 (skipped) when numpy or onnx cannot be imported."""
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save
except ImportError as err:
    print("SKIPPED: %s" % err)
    sys.exit(77)

modelc = sys.argv[1]
rng = np.random.default_rng(11)
fails = 0


def const(name, *shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)


def model(path, nodes, inits, x_shape, y_shape):
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def fail(msg):
    global fails
    print("FAIL: " + msg)
    fails += 1


def run(args):
    p = subprocess.run([modelc] + args, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def shared(info, tensor):
    """The names the buffer holding `tensor` lists as sharing it, or None."""
    for line in info.splitlines():
        if "tensor '" in line and "'%s'" % tensor in line:
            return line.split("shared with", 1)[1] if "shared with" in line else ""
    return None


def check(path, what):
    ccs = ["gcc -std=c99 -Wall -Wextra -Werror -pedantic"]
    if shutil.which("clang"):
        ccs.append("clang -std=c99 -Wall -Wextra -Werror -pedantic -fsanitize=address,undefined "
                   "-fno-sanitize-recover=all")
    for cc in ccs:
        rc, out = run(["check", path, "--cc", cc])
        if rc != 0:
            fail("%s: check with %s: %s" % (what, cc.split()[0], out.strip()))


tmp = tempfile.mkdtemp()
try:
    # 1. residual over two K blocks
    p = os.path.join(tmp, "residual.onnx")
    model(p, [helper.make_node("Gemm", ["x", "w0"], ["r0"]), helper.make_node("Relu", ["r0"], ["r"]),
              helper.make_node("Gemm", ["x", "w1"], ["h0"]), helper.make_node("Relu", ["h0"], ["h"]),
              helper.make_node("Gemm", ["h", "w2", "b2"], ["z0"]), helper.make_node("Add", ["z0", "r"], ["z1"]),
              helper.make_node("Relu", ["z1"], ["z"]), helper.make_node("Gemm", ["z", "w3"], ["y"])],
          [const("w0", 20, 300), const("w1", 20, 300), const("w2", 300, 300), const("b2", 300),
           const("w3", 300, 10)], [8, 20], [8, 10])
    rc, info = run(["info", p])
    s = shared(info, "r")
    if rc != 0 or s is None or "'z'" not in s:
        fail("residual: the fused Gemm's output does not take the residual's bytes:\n" + info)
    rc, graph = run(["graph", p])
    if "+residual" not in graph:
        fail("residual: Add was not fused as a residual:\n" + graph)
    check(p, "residual")

    # 2. depthwise in place (stride 1) and not (stride 2); a 3x3 one in place
    # needs no scratch (its ring of rows holds what it still reads), a 5x5 one a
    # plane; 18 wide, the 3x3 one sums four rows a step (18 rows: 2 left over)
    for k, stride, inplace, size in ((3, 1, True, 12), (3, 2, False, 12), (5, 1, True, 12), (3, 1, True, 18)):
        p = os.path.join(tmp, "dw%d_%d_%d.onnx" % (k, stride, size))
        out = size // stride
        pad = k // 2
        model(p, [helper.make_node("Conv", ["x", "we", "be"], ["e0"]), helper.make_node("Relu", ["e0"], ["e"]),
                  helper.make_node("Conv", ["e", "wd", "bd"], ["d0"], group=16, pads=[pad] * 4,
                                   strides=[stride, stride]),
                  helper.make_node("Relu", ["d0"], ["d"]), helper.make_node("Conv", ["d", "wp"], ["y"])],
              [const("we", 16, 8, 1, 1), const("be", 16), const("wd", 16, 1, k, k), const("bd", 16),
               const("wp", 8, 16, 1, 1)], [1, 8, size, size], [1, 8, out, out])
        rc, info = run(["info", p])
        s = shared(info, "e")
        what = "depthwise %dx%d, stride %d, %dx%d" % (k, k, stride, size, size)
        if rc != 0 or s is None or ("'d'" in s) != inplace:
            fail("%s: in place should be %s:\n%s" % (what, inplace, info))
        if inplace and (k == 5) != ("scratch of node 'Conv_2'" in info):   # the depthwise node's
            fail("%s in place: a plane of scratch should be %s:\n%s" % (what, "there" if k == 5 else "none", info))
        check(p, what)

    # 3. a Flatten of the graph input, read in place
    p = os.path.join(tmp, "view.onnx")
    model(p, [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["y"])],
          [const("w", 48, 10)], [2, 3, 4, 4], [2, 10])
    rc, info = run(["info", p])
    if rc != 0 or shared(info, "f") is not None or "tensor '" in info:
        fail("input view: the Flatten of the input has arena bytes:\n" + info)
    check(p, "input view")
finally:
    shutil.rmtree(tmp)
print("%d failure(s)" % fails if fails else "ok")
sys.exit(1 if fails else 0)
