#!/usr/bin/python3
"""fashion_torch.py DATA NET [--epochs E] [--harness-order SEED] | --export-gru PATH

PyTorch's side of the Fashion-MNIST demos (models/train/fashion_mnist.sh), the reference the
generated C is measured against: the same net (the same initial weights as the ONNX model the C
trains), the same recipe, one thread. DATA is the folder fashion_to_npy.py writes.
  lenet5: LeNet-5 of the speed benchmark (bench/make_models.py), initialized as
          models/train/golden/lenet5.onnx; SGD lr 0.05, momentum 0.9, batch 32.
  gru:    GRU over the 28 rows of an image (28 features, 64 hidden, batch first), fc 64-10 on the
          last state, initialized as models/train/demo/gru_rows.onnx; Adam lr 0.003, batch 32.
Batches are shuffled each epoch (torch's generator seeded 1), or with --harness-order SEED in the
order the C harness's --shuffle SEED takes (splitmix64 Fisher-Yates, docs/training_harness.md), so
that the C and PyTorch can be compared on the same batches. Prints, per epoch, the mean training
loss, the test accuracy and the seconds the epoch's training took.
--export-gru PATH writes the untrained GRU net as ONNX (training mode, opset 15, a symbolic
batch dimension 'batch')."""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_golden import SEED, fresh  # noqa: E402  (LeNet-5 with the golden run's initial weights)

BATCH = 32


class GRURows(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(28, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.fc(h[0])


def gru_rows():
    torch.manual_seed(SEED)
    return GRURows()


RECIPES = {
    "lenet5": (lambda: fresh("lenet5"), "", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "gru": (gru_rows, "_rows", lambda p: torch.optim.Adam(p, lr=0.003)),
}


def harness_orders(n, seed):
    """The sample order of each epoch under NAME_main --shuffle SEED: Fisher-Yates from the
    identity, i from n-1 down to 1, j = splitmix64() % (i+1), one stream across epochs."""
    mask = (1 << 64) - 1
    state = seed & mask
    while True:
        perm = list(range(n))
        for i in range(n - 1, 0, -1):
            state = (state + 0x9E3779B97F4A7C15) & mask
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
            z ^= z >> 31
            j = z % (i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        yield torch.tensor(perm)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?")
    ap.add_argument("net", nargs="?", choices=sorted(RECIPES))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--export-gru")
    ap.add_argument("--harness-order", type=int, metavar="SEED")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.export_gru:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(gru_rows(), torch.zeros(BATCH, 28, 28), a.export_gru,
                              training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                              opset_version=15, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
        return
    if not a.data or not a.net:
        ap.error("DATA and NET are required")
    make, rows, opt = RECIPES[a.net]
    load = lambda n: torch.from_numpy(np.load(os.path.join(a.data, n)))  # noqa: E731
    x, y = load("train%s_x.npy" % rows), load("train_y.npy")
    xt, yt = load("test%s_x.npy" % rows), load("test_y.npy")
    model = make()
    optimizer = opt(model.parameters())
    gen = torch.Generator().manual_seed(1)
    orders = harness_orders(x.shape[0], a.harness_order) if a.harness_order is not None else None
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = next(orders) if orders else torch.randperm(x.shape[0], generator=gen)
        start, total, steps = time.perf_counter(), 0.0, 0
        for s in range(0, x.shape[0] - BATCH + 1, BATCH):
            idx = order[s:s + BATCH]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total, steps = total + loss.item(), steps + 1
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(xt[s:s + 1000]).argmax(1) == yt[s:s + 1000]).sum())
                          for s in range(0, xt.shape[0], 1000))
        print("epoch %d: loss %.4f, test accuracy %.2f%%, %.1f s" % (epoch, total / steps, 100.0 * correct / xt.shape[0],
                                                                    seconds), flush=True)


if __name__ == "__main__":
    main()
