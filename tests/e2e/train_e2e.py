"""train_e2e.py MODELC: training through the CLI against PyTorch and ONNX's
reference evaluator.

1. `modelc check tiny.onnx --train --loss mse --optimizer O --steps 3` on the
   batch of train_models.py: the interpreter's loss of each step (printed
   "step k: loss L (interpreter)") must equal torch.optim's on the same
   model, and the check must pass against the compiled C.  The
   same for a DSL model whose train block gives the loss, the optimizer and
   a frozen parameter.
2. `modelc update-weights tiny.onnx w_new.npz -o new.onnx`, then `modelc run
   new.onnx`: the output equals numpy's tanh(x * w + b) with the new
   weights, and ONNX's own loader and checker read new.onnx with the npz's
   values as its initializers (this onnx, 1.12, has no ReferenceEvaluator).
   The same weights with optimizer state beside them (w_state.npz, as the
   harness saves) write the same model: update-weights skips the state.
3. The compiled harness trains tiny.onnx 3 steps and --save: under each key
   of the optimizer's state ("optimizer/<param>/momentum_buffer", exp_avg,
   exp_avg_sq, sum, "optimizer/step") is what torch.optim keeps in its
   state_dict under that name.
4. An MLP at batch 1 (the dot-product matrix-vector kernel, the weight
   gradients fused into SGD): the same check against torch.optim.SGD.
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

modelc = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
failed = 0


def fail(msg):
    global failed
    failed += 1
    print("FAIL:", msg)


def torch_losses(make_opt, steps):
    w = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)
    b = torch.tensor([0.1, 0.0, -0.2], requires_grad=True)
    opt = make_opt([w, b])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(torch.tanh(x * w + b), y)
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


with tempfile.TemporaryDirectory() as d:
    subprocess.run(["/usr/bin/python3", os.path.join(here, "train_models.py"), d], check=True)
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
    y = torch.from_numpy(np.load(os.path.join(d, "y.npy")))
    cases = [
        ("sgd:lr=0.5", lambda p: torch.optim.SGD(p, lr=0.5)),
        ("sgd:lr=0.5,momentum=0.9,nesterov=1,weight_decay=0.01",
         lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("adam:lr=0.05,beta2=0.99", lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.99))),
        ("adam:lr=0.05,decoupled=1", lambda p: torch.optim.AdamW(p, lr=0.05)),
        ("adagrad:lr=0.3,lr_decay=0.05,weight_decay=0.1",
         lambda p: torch.optim.Adagrad(p, lr=0.3, lr_decay=0.05, weight_decay=0.1)),
    ]
    for opt, make in cases:
        args = [modelc, "check", os.path.join(d, "tiny.onnx"), "--train", "--loss", "mse", "--optimizer", opt,
                "--steps", "4", "--input", "x=" + os.path.join(d, "x.npy"), "--input", "label=" + os.path.join(d, "y.npy")]
        r = subprocess.run(args, capture_output=True, text=True)
        got = [float(v) for v in re.findall(r"step \d+: loss (\S+) \(interpreter\)", r.stdout)]
        want = torch_losses(make, 4)
        if len(got) != 4 or not np.allclose(got, want, rtol=1e-5, atol=1e-7):
            fail("%s: interpreter losses %s, torch %s" % (opt, got, want))
        elif r.returncode != 0:
            fail("%s: check --train exit %d: %s" % (opt, r.returncode, r.stderr.strip()))
        else:
            print("ok: %s: interpreter = torch, compiled = interpreter: %s" % (opt, r.stdout.strip().splitlines()[-1]))

    # batch 1 (issue 10's fast paths): an MLP whose forward Gemms read their trained weights as
    # stored (mc_gemv_dot) and whose SGD nodes take the weight gradient as the outer product of two
    # vectors (fuse.c, step 5), against torch and, through check --train, compiled C = interpreter
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))
    x1 = torch.randn(1, 20)
    y1 = torch.tensor([3])
    mlp_onnx = os.path.join(d, "mlp.onnx")
    torch.onnx.export(mlp, x1, mlp_onnx, input_names=["x"], output_names=["logits"], opset_version=17)
    np.save(os.path.join(d, "x1.npy"), x1.numpy())
    np.save(os.path.join(d, "y1.npy"), y1.numpy())
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    want = []
    for _ in range(4):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(mlp(x1), y1)
        loss.backward()
        opt.step()
        want.append(loss.item())
    spec = ["--train", "--loss", "softmax_cross_entropy", "--optimizer", "sgd:lr=0.1,momentum=0.9,weight_decay=0.01"]
    r = subprocess.run([modelc, "check", mlp_onnx] + spec + ["--steps", "4", "--input", "x=" + os.path.join(d, "x1.npy"),
                        "--input", "label=" + os.path.join(d, "y1.npy")], capture_output=True, text=True)
    got = [float(v) for v in re.findall(r"step \d+: loss (\S+) \(interpreter\)", r.stdout)]
    graph = subprocess.run([modelc, "graph", mlp_onnx] + spec, capture_output=True, text=True).stdout
    outer = re.findall(r" SGD +\S+weight \([^,()]+, [^,()]+, [^,()]+, [^,()]+\)", graph)
    if len(got) != 4 or not np.allclose(got, want, rtol=1e-5, atol=1e-7):
        fail("mlp batch 1: interpreter losses %s, torch %s (%s)" % (got, want, r.stderr.strip()))
    elif r.returncode != 0:
        fail("mlp batch 1: check --train exit %d: %s" % (r.returncode, r.stderr.strip()))
    elif len(outer) != 2:
        fail("mlp batch 1: want both weights' SGD reading the gradient's two factors:\n%s" % graph)
    else:
        print("ok: mlp batch 1: interpreter = torch, compiled = interpreter, weight gradients fused into SGD")

    # info --train: the state each optimizer keeps (w, b: 3 float32 each; the step counter: one int64)
    for opt, state in (("sgd:lr=0.1", "1 tensors, 8 bytes"), ("sgd:lr=0.1,momentum=0.9", "3 tensors, 32 bytes"),
                       ("adam", "5 tensors, 56 bytes"), ("adagrad", "3 tensors, 32 bytes")):
        r = subprocess.run([modelc, "info", os.path.join(d, "tiny.onnx"), "--train", "--loss", "mse", "--optimizer", opt],
                           capture_output=True, text=True)
        kept = re.search(r"kept for the backward: (\d+) tensors, (\d+) bytes", r.stdout)
        if r.returncode != 0 or "optimizer state: %s" % state not in r.stdout or \
                "trained: 2 tensors, 24 bytes" not in r.stdout or not kept or int(kept.group(2)) <= 0:
            fail("info --train --optimizer %s: want state %s, 2 trained tensors, kept activations:\n%s%s"
                 % (opt, state, r.stdout, r.stderr))
        else:
            print("ok: info --train --optimizer %s: optimizer state %s" % (opt, state))

    # the DSL's train block stands for the flags: its loss, optimizer and frozen names
    nn = os.path.join(d, "tiny.nn")
    with open(nn, "w") as f:
        f.write("model tiny\nseed 3\ninput x: f32[N=4, 3]\nparam w: f32[3] = uniform(seed=5)\n"
                "param b: f32[3] = constant(0.1)\nparam frozen_scale: f32[3] = constant(1.5)\n"
                "xw = Mul(x, w)\nz = Add(xw, b)\nzs = Mul(z, frozen_scale)\ny = Tanh(zs)\noutput y\n"
                "train {\n  input target: f32[N, 3]\n  loss = mse(y, target)\n"
                "  optimizer = sgd(lr=0.5, momentum=0.9, nesterov=true)\n  freeze frozen_scale\n}\n")
    exported = os.path.join(d, "tiny_nn.onnx")
    subprocess.run([modelc, "export", nn, "-o", exported], check=True, capture_output=True)
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(exported).graph.initializer}
    w = init["w"].clone().requires_grad_(True)
    b = init["b"].clone().requires_grad_(True)
    opt = torch.optim.SGD([w, b], lr=0.5, momentum=0.9, nesterov=True)
    want = []
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(torch.tanh((x * w + b) * init["frozen_scale"]), y)
        loss.backward()
        opt.step()
        want.append(loss.item())
    r = subprocess.run([modelc, "check", nn, "--train", "--steps", "3", "--input", "x=" + os.path.join(d, "x.npy"),
                        "--input", "target=" + os.path.join(d, "y.npy")], capture_output=True, text=True)
    got = [float(v) for v in re.findall(r"step \d+: loss (\S+) \(interpreter\)", r.stdout)]
    if len(got) != 3 or not np.allclose(got, want, rtol=1e-5, atol=1e-7):
        fail("tiny.nn train block: interpreter losses %s, torch %s (%s)" % (got, want, r.stderr.strip()))
    elif r.returncode != 0:
        fail("tiny.nn: check --train exit %d: %s" % (r.returncode, r.stderr.strip()))
    else:
        print("ok: tiny.nn's train block: interpreter losses = torch %s" % want)

    new = os.path.join(d, "new.onnx")
    r = subprocess.run([modelc, "update-weights", os.path.join(d, "tiny.onnx"), os.path.join(d, "w_new.npz"), "-o", new],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("update-weights: %s" % r.stderr.strip())
    else:
        out = os.path.join(d, "out")
        r = subprocess.run([modelc, "run", new, "--input", "x=" + os.path.join(d, "x.npy"), "-o", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail("run new.onnx: %s" % r.stderr.strip())
        else:
            got = np.load(os.path.join(out, "y.npy"))
            z = np.load(os.path.join(d, "w_new.npz"))
            xn = x.numpy()
            want = np.tanh(xn * z["w"] + z["b"])
            m = onnx.load(new)   # read back by ONNX's own loader: valid, holding the new values
            onnx.checker.check_model(m)
            inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
            if not np.allclose(got, want, rtol=1e-6, atol=1e-6):
                fail("update-weights: run gives %s, numpy %s" % (got, want))
            elif not all(np.array_equal(inits[k], z[k]) for k in ("w", "b")):
                fail("update-weights: the written initializers are %s, not the npz's" % inits)
            elif np.allclose(got, np.tanh(xn * np.array([0.5, -0.25, 1.0]) + np.array([0.1, 0, -0.2])), atol=1e-3):
                fail("update-weights: the output is the old weights'")
            else:
                print("ok: update-weights: modelc run on the new model = numpy; onnx reads the new initializers")
        with_state = os.path.join(d, "new_state.onnx")
        r = subprocess.run([modelc, "update-weights", os.path.join(d, "tiny.onnx"), os.path.join(d, "w_state.npz"),
                            "-o", with_state], capture_output=True, text=True)
        if r.returncode != 0:
            fail("update-weights with optimizer state: %s" % r.stderr.strip())
        elif open(with_state, "rb").read() != open(new, "rb").read():
            fail("update-weights: the optimizer state beside the weights changed the written model")
        else:
            print("ok: update-weights skips the optimizer state of a harness's save")

    # the harness's saved state, key by key, against torch.optim's
    for opt, make in (("sgd:lr=0.5,momentum=0.9", lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9)),
                      ("adam:lr=0.05,beta1=0.8", lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.999))),
                      ("adagrad:lr=0.3", lambda p: torch.optim.Adagrad(p, lr=0.3))):
        o = os.path.join(d, "c_" + opt.split(":")[0])
        r = subprocess.run([modelc, "compile", os.path.join(d, "tiny.onnx"), "-o", o, "--name", "m", "--emit-main",
                            "--train", "--loss", "mse", "--optimizer", opt], capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run("cc -std=c99 -O2 %s/*.c -lm -o %s/m_main" % (o, o), shell=True, capture_output=True,
                               text=True)
        if r.returncode == 0:
            r = subprocess.run([os.path.join(o, "m_main"), "--train", os.path.join(d, "x.npy"), os.path.join(d, "y.npy"),
                                "--epochs", "3", "--batch", "4", "--save", os.path.join(o, "w.npz")],
                               capture_output=True, text=True)
        if r.returncode != 0:
            fail("%s: compiling or training in C: %s" % (opt, r.stderr.strip()))
            continue
        w = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)
        b = torch.tensor([0.1, 0.0, -0.2], requires_grad=True)
        topt = make([w, b])
        for _ in range(3):
            topt.zero_grad()
            torch.nn.functional.mse_loss(torch.tanh(x * w + b), y).backward()
            topt.step()
        want = {"optimizer/step": 3}
        for name, p in (("w", w), ("b", b)):
            for k, v in topt.state[p].items():
                if k != "step":
                    want["optimizer/%s/%s" % (name, k)] = v.numpy()
        z = np.load(os.path.join(o, "w.npz"))
        got = {k: z[k] for k in z.files if k.startswith("optimizer/")}
        if sorted(got) != sorted(want):
            fail("%s: saved state keys %s, torch's %s" % (opt, sorted(got), sorted(want)))
        elif not all(np.allclose(got[k], want[k], rtol=1e-5, atol=1e-7) for k in want):
            fail("%s: saved state %s, torch's %s" % (opt, got, want))
        else:
            print("ok: %s: the saved optimizer state is torch.optim's: %s" % (opt, ", ".join(sorted(want))))

print("%s" % ("all passed" if failed == 0 else "%d failed" % failed))
sys.exit(1 if failed else 0)
