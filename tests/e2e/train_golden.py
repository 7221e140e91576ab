#!/usr/bin/python3
"""train_golden.py GOLDEN.npz LOSS.csv W.npz: compares a training run of the generated C (its
--log CSV of step,loss rows and its --save weights) with PyTorch's golden run (see
models/train/make_golden.py): every loss and every parameter within 1e-4 + 1e-4 |want|.
BatchNorm's running statistics are compared too when the weights file has them. Prints the
largest differences and exits 1 when any is beyond tolerance or a key is missing."""

import sys

import numpy as np

ATOL = RTOL = 1e-4


def worst(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return None
    return float(np.max(np.abs(got - want) - RTOL * np.abs(want) - ATOL, initial=-ATOL))


def main():
    gold, log, weights = sys.argv[1:4]
    want = np.load(gold)
    rows = np.loadtxt(log, delimiter=",", skiprows=1, ndmin=2)
    bad = 0
    n = want["loss"].shape[0]
    if rows.shape[0] != n or list(rows[:, 0]) not in (list(range(1, n + 1)), list(range(n))):
        print("loss log: %d rows with steps %s, want steps 1..%d" % (rows.shape[0], rows[:, 0], n))
        return 1
    w = worst(rows[:, 1], want["loss"])
    print("losses: largest |C - PyTorch| %.3g over %d steps%s" % (np.max(np.abs(rows[:, 1] - want["loss"])), n,
                                                                 "" if w <= 0 else ": BEYOND TOLERANCE"))
    bad += w > 0
    got = np.load(weights)
    largest = 0.0
    for key in want.files:
        if key == "loss" or key.endswith("num_batches_tracked"):
            continue
        if key not in got.files:
            if "running_" in key:
                print("%s: not in the saved weights (not a parameter): not compared" % key)
                continue
            print("%s: missing from the saved weights" % key)
            bad += 1
            continue
        w = worst(got[key], want[key])
        if w is None:
            print("%s: shape %s, want %s" % (key, got[key].shape, want[key].shape))
            bad += 1
        else:
            diff = float(np.max(np.abs(got[key].astype(np.float64) - want[key]), initial=0.0))
            largest = max(largest, diff)
            if w > 0:
                print("%s: max |C - PyTorch| %.3g, beyond tolerance" % (key, diff))
                bad += 1
    print("parameters: largest |C - PyTorch| %.3g" % largest)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
