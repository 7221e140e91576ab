#!/usr/bin/python3
"""dsl.py MODELC - end-to-end tests of the model language (docs/dsl.md).

Every reference here is independent of the code under test:
  - fmt: every example is already in canonical layout, and formatting the
    output again changes nothing;
  - export: the ONNX file passes onnx.checker (Debian's python3-onnx) and ONNX
    Runtime (bench/ort/run_ort.mjs, onnxruntime-node) computes the same
    outputs as `modelc run` on the DSL file; `modelc run` on the exported file
    gives the DSL's outputs within 1e-6;
  - weights: an MLP whose weights numpy wrote to an .npz gives numpy's own
    forward pass, and so does its export;
  - initializers: the values follow the generator docs/dsl.md describes,
    recomputed here in Python from that description;
  - errors: through the CLI, exit 1 with file:line:col, the source line and a
    caret on stderr; bad usage exit 2.
Run with /usr/bin/python3 (numpy and onnx from Debian) from the repository root.
"""
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

MODELC = os.path.abspath(sys.argv[1])
ROOT = os.getcwd()
EXAMPLES = sorted(os.path.join("models/dsl", f) for f in os.listdir("models/dsl") if f.endswith(".nn"))
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def modelc(*args, expect=0):
    r = subprocess.run([MODELC, *args], capture_output=True, text=True)
    if r.returncode != expect:
        raise RuntimeError("modelc %s: exit %d (want %d)\n%s%s" % (" ".join(args), r.returncode, expect, r.stdout, r.stderr))
    return r


def ensure_ort():
    if not os.path.isdir("bench/ort/node_modules/onnxruntime-node"):
        raise RuntimeError("ONNX Runtime is not installed: run tests/install_deps.sh")


def ort_run(model, inputs, outdir):
    """ONNX Runtime on model with inputs {name: array}; outputs in session order."""
    pbs = []
    for name, a in inputs.items():
        p = os.path.join(outdir, "ort_in_%s.pb" % name)
        with open(p, "wb") as f:
            f.write(numpy_helper.from_array(a, name).SerializeToString())
        pbs.append(p)
    od = os.path.join(outdir, "ort_out")
    os.makedirs(od, exist_ok=True)
    subprocess.run(["node", "bench/ort/run_ort.mjs", model, od, *pbs], check=True, capture_output=True)
    outs, i = [], 0
    while os.path.exists(os.path.join(od, "output_%d.pb" % i)):
        t = onnx.TensorProto()
        with open(os.path.join(od, "output_%d.pb" % i), "rb") as f:
            t.ParseFromString(f.read())
        outs.append(numpy_helper.to_array(t))
        i += 1
    return outs


def run(model, inputs, outdir):
    """modelc run with the given {name: array}; returns {output name: array}."""
    args = ["run", model, "-o", outdir]
    for name, a in inputs.items():
        p = os.path.join(outdir, "in_%s.npy" % name)
        np.save(p, a)
        args += ["--input", "%s=%s" % (name, p)]
    out = modelc(*args).stdout.split("\n")
    return {l.split()[0]: np.load(os.path.join(outdir, l.split()[0] + ".npy")) for l in out if l.strip()}


def random_inputs(onnx_model, rng):
    ins = {}
    for vi in onnx_model.graph.input:
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        ins[vi.name] = rng.standard_normal(shape).astype(np.float32)
    return ins


def close(a, b, rtol, atol):
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def test_examples(tmp):
    ensure_ort()
    rng = np.random.default_rng(11)
    for path in EXAMPLES:
        name = os.path.basename(path)
        with open(path) as f:
            src = f.read()
        once = modelc("fmt", path).stdout
        check(once == src, "%s is in canonical layout" % name)
        p2 = os.path.join(tmp, "fmt_" + name)
        with open(p2, "w") as f:
            f.write(once)
        check(modelc("fmt", p2).stdout == once, "fmt of %s is idempotent" % name)

        onnx_path = os.path.join(tmp, name + ".onnx")
        modelc("export", path, "-o", onnx_path)
        m = onnx.load(onnx_path)
        try:
            onnx.checker.check_model(m, full_check=True)
            check(True, "export of %s passes onnx.checker (full_check)" % name)
        except Exception as e:  # noqa: BLE001 - the checker's message is the point
            check(False, "export of %s passes onnx.checker: %s" % (name, e))
        ins = random_inputs(m, rng)
        d1, d2 = os.path.join(tmp, name + ".dsl"), os.path.join(tmp, name + ".onnxrun")
        os.makedirs(d1)
        os.makedirs(d2)
        dsl_out, onnx_out = run(path, ins, d1), run(onnx_path, ins, d2)
        ort_out = ort_run(onnx_path, ins, d2)
        for i, o in enumerate(m.graph.output):
            a, b = dsl_out[o.name], onnx_out[o.name]
            check(close(a, b, 0, 1e-6), "%s: modelc run on the DSL and on its export agree within 1e-6 (%s)" % (name, o.name))
            check(close(a, ort_out[i], 1e-4, 1e-5),
                  "%s: ONNX Runtime on the export gives modelc's output (%s, max diff %.3g)" % (name, o.name,
                                                                                             float(np.max(np.abs(a - ort_out[i])))))


def test_npz_weights(tmp):
    """An MLP with numpy's weights: numpy's forward pass is the reference."""
    rng = np.random.default_rng(5)
    w1 = rng.standard_normal((16, 12)).astype(np.float32)
    b1 = rng.standard_normal(16).astype(np.float32)
    w2 = rng.standard_normal((3, 16)).astype(np.float32)
    b2 = rng.standard_normal(3).astype(np.float32)
    np.savez(os.path.join(tmp, "mlp_w.npz"), **{"h.weight": w1, "h.bias": b1, "y.weight": w2, "y.bias": b2})
    src = ('weights "mlp_w.npz"\ninput x: f32[N=5, 12]\nh = dense(x, 16, act=relu)\ny = dense(h, 3)\n'
           'p = Softmax(y, axis=1)\noutput p\n')
    path = os.path.join(tmp, "mlp_npz.nn")
    with open(path, "w") as f:
        f.write(src)
    x = rng.standard_normal((5, 12)).astype(np.float32)
    h = np.maximum(x.astype(np.float64) @ w1.T + b1, 0)
    y = h @ w2.T + b2
    want = np.exp(y - y.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    d = os.path.join(tmp, "npz_run")
    os.makedirs(d)
    got = run(path, {"x": x}, d)["p"]
    check(close(got, want.astype(np.float32), 1e-5, 1e-6), "weights from numpy's .npz give numpy's forward pass")
    onnx_path = os.path.join(tmp, "mlp_npz.onnx")
    modelc("export", path, "-o", onnx_path)
    m = onnx.load(onnx_path)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    check(np.array_equal(inits["h.weight"], w1) and np.array_equal(inits["y.bias"], b2),
          "the export carries the .npz weights bit for bit")
    d2 = os.path.join(tmp, "npz_run_onnx")
    os.makedirs(d2)
    got2 = run(onnx_path, {"x": x}, d2)["p"]
    check(close(got, got2, 0, 1e-6), "the DSL model and its ONNX export with the same .npz weights agree within 1e-6")


# ---- the generator as docs/dsl.md describes it ----
M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def default_seed(model_seed, name):
    h = 0xcbf29ce484222325
    for c in name.encode():
        h = ((h ^ c) * 0x100000001b3) & M64
    _, s = splitmix64(h ^ model_seed)
    return s


def xavier_uniform(seed, shape, gain=1.0):
    fan_in = shape[1] * math.prod(shape[2:])
    fan_out = shape[0] * math.prod(shape[2:])
    hi = gain * math.sqrt(6.0 / (fan_in + fan_out))
    out, s = [], seed
    for _ in range(math.prod(shape)):
        s, r = splitmix64(s)
        u = (r >> 11) * (1.0 / 9007199254740992.0)
        out.append(-hi + 2 * hi * u)
    return np.array(out, dtype=np.float32).reshape(shape)


def normal(seed, n, mean, std):
    out, s = [], seed
    for _ in range(n):
        s, r1 = splitmix64(s)
        s, r2 = splitmix64(s)
        u1, u2 = (r1 >> 11) / 9007199254740992.0, (r2 >> 11) / 9007199254740992.0
        out.append(mean + std * math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(6.283185307179586 * u2))
    return np.array(out, dtype=np.float32)


def test_initializers(tmp):
    onnx_path = os.path.join(tmp, "lenet_init.onnx")
    modelc("export", "models/dsl/lenet5.nn", "-o", onnx_path)
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
    want = xavier_uniform(default_seed(5, "f6.weight"), (84, 120))   # lenet5.nn: seed 5, dense default xavier
    check(np.array_equal(inits["f6.weight"], want), "dense's default xavier weights follow the documented generator")
    k = math.sqrt(2.0) * math.sqrt(3.0 / 150)   # kaiming uniform: gain sqrt(2), bound gain*sqrt(3/fan_in)
    s, vals = default_seed(5, "c3.weight"), []
    for _ in range(16 * 6 * 25):
        s, r = splitmix64(s)
        vals.append(-k + 2 * k * ((r >> 11) / 9007199254740992.0))
    check(np.array_equal(inits["c3.weight"], np.array(vals, dtype=np.float32).reshape(16, 6, 5, 5)),
          "conv2d's default kaiming weights follow the documented generator")
    src = "param w: f32[1000] = normal(0.5, 2, seed=77)\ninput x: f32[1]\ny = Add(x, w)\noutput y\n"
    p = os.path.join(tmp, "normal.nn")
    with open(p, "w") as f:
        f.write(src)
    modelc("export", p, "-o", p + ".onnx")
    got = {t.name: numpy_helper.to_array(t) for t in onnx.load(p + ".onnx").graph.initializer}["w"]
    check(np.allclose(got, normal(77, 1000, 0.5, 2), rtol=0, atol=1e-6), "normal(mean, std, seed) is the documented Box-Muller")


def test_cli_errors(tmp):
    p = os.path.join(tmp, "broken.nn")
    with open(p, "w") as f:
        f.write("input x: f32[2, 8]\nh = dense(x, 4, act=relu\ny = Softmaxx(h)\noutput y\n")
    r = modelc("check", p, expect=1)
    lines = r.stderr.split("\n")
    check(lines[0] == p + ":3:1: expected ',' or ')', found 'y' on a new line: is a bracket left open?"
          and lines[1] == "  y = Softmaxx(h)" and lines[2] == "  ^" and lines[3] == "modelc: %s: 1 error" % p,
          "a broken line: exit 1, file:line:col, the line and a caret (%r)" % r.stderr)
    with open(p, "w") as f:
        f.write("input x: f32[2, 8]\nh = dense(x, 4, act=relu)\ny = Softmaxx(h)\nz = MatMul(h, h)\noutput y\n")
    r = modelc("info", p, expect=1)
    check(":3:5: unknown op or layer 'Softmaxx' (did you mean 'Softmax'?)" in r.stderr and
          ":4:5: node 'z' (MatMul)" in r.stderr and r.stderr.endswith("2 errors\n"),
          "two errors in one run through the CLI (%r)" % r.stderr)
    # an error found after the frontend (shape inference of a reshape) points at its statement
    with open(p, "w") as f:
        f.write("input x: f32[2, 8]\ns = Shape(x)\ny = Reshape(x, s)\nz = Reshape(y, [3, 5])\noutput z\n")
    r = modelc("info", p, expect=1)
    check(r.stderr.startswith(p + ":4:5: node 'z' (Reshape)"), "a later stage's error is located in the source (%r)" % r.stderr)
    r = modelc("info", "models/dsl/gru_classifier.nn")
    check("training: loss cross_entropy(logits, y) with label y int64 [2]; optimizer sgd(lr=0.01, momentum=0, "
          "weight_decay=0, nesterov=0, epochs=3); frozen: n.scale, n.bias\n" in r.stdout,
          "info shows the train block the graph keeps (%r)" % r.stdout[-200:])
    # the frontend by content when the extension says nothing
    shutil.copy("models/dsl/mlp.nn", os.path.join(tmp, "mlp.model"))
    shutil.copy("models/lenet5/model.onnx", os.path.join(tmp, "lenet5.model"))
    r1 = modelc("info", os.path.join(tmp, "mlp.model")).stdout
    r2 = modelc("info", os.path.join(tmp, "lenet5.model")).stdout
    check("output probs" in r1 and "Gemm" in r2, "a DSL file and an ONNX file are told apart by their content")
    r = modelc("fmt", expect=2)
    check("needs exactly one FILE" in r.stderr, "fmt without a file is bad usage")
    r = modelc("export", "models/dsl/mlp.nn", expect=2)
    check("needs -o" in r.stderr, "export without -o is bad usage")


def main():
    tmp = tempfile.mkdtemp(prefix="modelc-dsl-")
    try:
        for t in (test_examples, test_npz_weights, test_initializers, test_cli_errors):
            try:
                t(tmp)
            except Exception as e:  # noqa: BLE001 - report and go on
                check(False, "%s raised %s" % (t.__name__, e))
    finally:
        shutil.rmtree(tmp)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
