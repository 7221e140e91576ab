#!/usr/bin/python3
"""PyTorch's side of bench/train_bench.sh: exports a bench net for training and times its training
step in PyTorch.

    /usr/bin/python3 bench/train_torch.py export NAME OUTDIR BATCH
    /usr/bin/python3 bench/train_torch.py time NAME OUTDIR BATCH --steps N [--warmup W]
    /usr/bin/python3 bench/train_torch.py losses NAME OUTDIR BATCH
    /usr/bin/python3 bench/train_torch.py --version

export: OUTDIR/model.onnx, the net NAME of bench/make_models.py (the same seeded module the
inference bench exports) in TRAINING mode (BatchNorm unfolded, computing batch statistics), opset
15, do_constant_folding off, input 'input' whose first dimension is the symbol 'batch', output
'logits'; and OUTDIR/x.npy, y.npy: 4 batches of BATCH seeded samples (make_models' input kind) and
int64 class ids in [0, 10). Why on the fly, not committed: the committed bench/models/*/model.onnx
are eval-mode exports with BatchNorm folded into the convolutions, which cannot be trained as the
PyTorch module is; an export takes seconds and depends only on the seeds, so the script writes it
into its work folder instead of keeping a second set of binary files in git.

losses: the loss of each step of one epoch over x.npy/y.npy in file order (the 4 batches), one a
line, the same steps as time's: train_bench.sh compares them with the harness's --log before it
times anything, so that a wrong step is never timed.

time: the step modelc's NAME_train_step runs, in PyTorch eager with one thread: zero_grad,
forward in training mode, F.cross_entropy (softmax cross-entropy, mean), backward,
torch.optim.SGD(lr 0.01, momentum 0.9).step(), on the batches of x.npy/y.npy in file order
(cycling), W untimed steps (default 1, as the harness's --bench-train), then N timed ones; prints
"steps", "min_us" and, last, "median_us: X" per step, as NAME_main --bench-train does.
"""

import argparse
import importlib.util
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
LR, MOMENTUM = 0.01, 0.9
BATCHES = 4


def make_models():
    spec = importlib.util.spec_from_file_location("bench_make_models", os.path.join(HERE, "make_models.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def data(mm, name, batch):
    shape, kind = mm.NETS[name][1], mm.NETS[name][2]
    rng = np.random.default_rng(mm.SEED + batch)
    full = (BATCHES * batch,) + tuple(shape[1:])
    x = rng.random(full, dtype=np.float32) if kind == "image" else rng.standard_normal(full, dtype=np.float32)
    y = rng.integers(0, 10, size=BATCHES * batch, dtype=np.int64)
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", choices=("export", "time", "losses"))
    ap.add_argument("name", nargs="?")
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("batch", nargs="?", type=int)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--version", action="store_true")
    a = ap.parse_args()
    if a.version:
        print(torch.__version__)
        return
    if not a.mode or not a.name or not a.outdir or not a.batch or a.batch < 1:
        ap.error("MODE NAME OUTDIR BATCH are required")
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    mm = make_models()
    if a.name not in mm.NETS:
        sys.exit(f"train_torch: no net '{a.name}' in bench/make_models.py")
    model = mm.build(a.name).train()
    if a.mode == "export":
        os.makedirs(a.outdir, exist_ok=True)
        x, y = data(mm, a.name, a.batch)
        np.save(os.path.join(a.outdir, "x.npy"), x)
        np.save(os.path.join(a.outdir, "y.npy"), y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, torch.from_numpy(x[:a.batch]), os.path.join(a.outdir, "model.onnx"),
                              training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                              opset_version=15, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        return
    if a.mode == "losses":
        a.steps, a.warmup = BATCHES, 0
    if a.steps < 1 or a.warmup < 0:
        ap.error("--steps >= 1, --warmup >= 0")
    x = torch.from_numpy(np.load(os.path.join(a.outdir, "x.npy")))
    y = torch.from_numpy(np.load(os.path.join(a.outdir, "y.npy")))
    nb = x.shape[0] // a.batch
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    times, losses = [], []
    for s in range(a.warmup + a.steps):
        b = s % nb
        xb, yb = x[b * a.batch:(b + 1) * a.batch], y[b * a.batch:(b + 1) * a.batch]
        t0 = time.perf_counter_ns()
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if s >= a.warmup:
            times.append((time.perf_counter_ns() - t0) / 1e3)
    if a.mode == "losses":
        print("\n".join("%.9g" % v for v in losses))
        return
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    print(f"steps {n}\nmin_us: {times[0]:.3f}\nmedian_us: {median:.3f}")


if __name__ == "__main__":
    main()
