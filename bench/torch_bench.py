#!/usr/bin/python3
"""Times one model in PyTorch, for bench/run.sh, and writes its outputs for the correctness check.

    /usr/bin/python3 bench/torch_bench.py NAME IN.npy [-o OUTDIR] [--bench N] [--warmup W]
    /usr/bin/python3 bench/torch_bench.py --version
    /usr/bin/python3 bench/torch_bench.py NAME --has     # exit 0 if NAME has a module here, 3 if not

Why: PyTorch is where these models come from, so its eager speed is the figure a user knows. The
modules are rebuilt from the code that exported them, with the same seeds: the five nets of
bench/make_models.py and the two nets of models/make_models.py (lenet5, resnet_small). The
third-party models have no PyTorch source here and are not timed (run.sh prints n/a).

Conventions: one intra-op and one inter-op thread, torch.inference_mode, batch 1, the model in
eval mode; W untimed runs (default 10), then N timed runs of the forward call alone; prints
"runs", "min_us" and, last, "median_us: X". OUTDIR/output_<i>.npy holds output i of the last run.
run.sh compares those with the reference outputs, so a module that no longer matches its committed
ONNX file fails there, before any time is reported.
"""

import argparse
import importlib.util
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build(name):
    """The eval-mode module `name`, seeded as its exporter seeded it; None if there is none."""
    bench_nets = load("bench_make_models", os.path.join(HERE, "make_models.py"))
    if name in bench_nets.NETS:
        return bench_nets.build(name)
    if name in ("lenet5", "resnet_small"):
        # as models/make_models.py main() builds them
        mm = load("models_make_models", os.path.join(ROOT, "models", "make_models.py"))
        torch.manual_seed(mm.SEED)
        if name == "lenet5":
            return mm.LeNet5().eval()
        net = mm.ResNetSmall()
        mm.init_batchnorms(net, torch.Generator().manual_seed(mm.SEED + 1))
        return net.eval()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("name", nargs="?")
    ap.add_argument("input", nargs="?")
    ap.add_argument("-o", dest="outdir")
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--version", action="store_true")
    ap.add_argument("--has", action="store_true", help="exit 0 if NAME has a PyTorch module here, 3 if not")
    args = ap.parse_args()
    if args.version:
        print(torch.__version__)
        return
    if not args.name:
        ap.error("NAME is required")
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    model = build(args.name)
    if args.has:
        sys.exit(0 if model is not None else 3)
    if model is None:
        sys.exit(f"torch_bench: no PyTorch module for '{args.name}'")
    if not args.input or args.bench < 0 or args.warmup < 1:
        ap.error("IN.npy is required; --bench >= 0, --warmup >= 1")
    x = torch.from_numpy(np.load(args.input))
    times = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            y = model(x)
        for _ in range(args.bench):
            t0 = time.perf_counter_ns()
            y = model(x)
            times.append((time.perf_counter_ns() - t0) / 1e3)
    if args.outdir:
        outs = y if isinstance(y, (tuple, list)) else (y,)
        for i, t in enumerate(outs):
            np.save(os.path.join(args.outdir, f"output_{i}.npy"), t.numpy())
    print(f"torch_version: {torch.__version__}")
    if times:
        times.sort()
        n = len(times)
        median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
        print(f"runs: {n}\nmin_us: {times[0]:.3f}\nmedian_us: {median:.3f}")


if __name__ == "__main__":
    main()
