#!/usr/bin/python3
"""Checks that an engine's outputs match the reference outputs, for bench/run.sh.

    /usr/bin/python3 bench/compare.py LABEL [--rtol R] [--atol A] REF0.npy GOT0.npy [REF1.npy GOT1.npy ...]

Why: a speed figure for a wrong answer is worthless, so run.sh times an engine on a model only
after its outputs passed here. An output passes when it has the reference's shape and every element
satisfies |got - ref| <= atol + rtol * |ref| (defaults 1e-3 and 1e-4, as the end-to-end tests);
NaN passes only where the reference is NaN. Prints "LABEL: ok, max |diff| X" and exits 0, or names
the first failing output and its worst element and exits 1.
"""

import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("label")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    if len(args.files) % 2:
        ap.error("files come in pairs: REF GOT")
    worst = 0.0
    for i in range(0, len(args.files), 2):
        ref_path, got_path = args.files[i], args.files[i + 1]
        ref = np.load(ref_path)
        got = np.load(got_path)
        if ref.shape != got.shape:
            sys.exit(f"{args.label}: {got_path} has shape {got.shape}, the reference {ref_path} {ref.shape}")
        r = ref.astype(np.float64)
        g = got.astype(np.float64)
        nan_ok = np.isnan(r) & np.isnan(g)
        diff = np.where(nan_ok, 0.0, np.abs(g - r))
        diff = np.where(np.isnan(diff), np.inf, diff)
        bad = diff > args.atol + args.rtol * np.abs(r)
        if bad.any():
            k = np.unravel_index(np.argmax(np.where(bad, diff, -1.0)), r.shape) if r.ndim else ()
            sys.exit(f"{args.label}: {got_path}: {int(bad.sum())} of {r.size} elements differ from {ref_path} "
                     f"beyond rtol {args.rtol} atol {args.atol}; worst at {tuple(int(j) for j in k)}: "
                     f"got {g[k]!r}, expected {r[k]!r}")
        if diff.size:
            worst = max(worst, float(diff.max()))
    print(f"{args.label}: ok, max |diff| {worst:.3g}")


if __name__ == "__main__":
    main()
