#!/usr/bin/python3
"""Golden training runs from PyTorch, the reference `modelc compile --train` is checked against.

Why: training in the generated C must do exactly what PyTorch does with the same model, data and
optimizer. For five small nets that cover the model families modelc trains (an MLP, LeNet-5, a
GRU, an LSTM, a CNN with BatchNorm) this script records what PyTorch does in 10 optimizer steps
of SGD with momentum and of Adam: the loss of every step and the parameters after the last one.
tests/e2e/train_golden.sh trains the exported ONNX models in the generated C with the same recipe
and compares.

What it writes, under models/train/golden/ (deterministic for the same Debian packages):
- <net>.onnx: the untrained net, exported with training=TrainingMode.TRAINING (BatchNorm in
  training mode, parameters as initializers named as in PyTorch's state_dict), opset 15, input
  'x' (batch first: samples along axis 0, a symbolic dimension 'batch', fixed with --dim
  batch=N), output 'logits';
- <net>_x.npy, <net>_y.npy: 40 samples (float32, standard normal) and their int64 class labels;
  batches are taken in file order, 4 samples each, so 10 steps are one epoch;
- <net>_<opt>.npz: 'loss' (the 10 per-step losses: the mean cross-entropy of the batch computed
  before that step's update, as torch.nn.functional.cross_entropy) and, under the parameter
  names, their values after the 10th step (BatchNorm's running statistics included under their
  names: PyTorch updates running_var with the unbiased batch variance);
- recipe.txt: one line per run: net, optimizer spec in modelc's --optimizer syntax.
Recipes: sgd = SGD(lr=0.05, momentum=0.9); adam = Adam(lr=0.003) (betas, eps: PyTorch's
defaults; eps 1e-3 for the CNN with BatchNorm, see RUNS); the MLP also runs SGD with nesterov and weight decay, and AdamW (decoupled weight
decay), so every optimizer option is checked.

Run (Debian's python3-torch 1.13, python3-onnx, python3-numpy; one thread):
    /usr/bin/python3 models/train/make_golden.py
"""

import os
import sys
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from make_models import LeNet5MNIST  # noqa: E402  (the LeNet-5 of the speed benchmark)

SEED = 20261129
SAMPLES, BATCH, CLASSES = 40, 4, 10
OUT = os.path.join(HERE, "golden")


class MLP(nn.Module):
    """20-32-16-10, ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(20, 32), nn.Linear(32, 16), nn.Linear(16, CLASSES)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class GRUNet(nn.Module):
    """GRU over 6 steps of 5 features (batch first), 8 hidden, fc 8-10 on the last state."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(5, 8, batch_first=True)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.fc(h[0])


class LSTMNet(nn.Module):
    """LSTM over 6 steps of 5 features (batch first), 8 hidden, fc 8-10 on the last state."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(5, 8, batch_first=True)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.fc(h[0])


class CNNBN(nn.Module):
    """1x8x8: conv3x3 pad 1 (4) - BatchNorm - ReLU - maxpool 2, conv3x3 (6) - BatchNorm - ReLU,
    global average pool, fc 6-10.  The convolutions have no bias, as before any BatchNorm: its
    gradient would be zero but for rounding, which Adam scales up to steps of lr."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.c2, self.b2 = nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.relu(self.b2(self.c2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# net -> (module class, sample shape)
NETS = {
    "mlp": (MLP, (20,)),
    "lenet5": (LeNet5MNIST, (1, 28, 28)),
    "gru": (GRUNet, (6, 5)),
    "lstm": (LSTMNet, (6, 5)),
    "cnn_bn": (CNNBN, (1, 8, 8)),
}

# optimizer name -> (modelc --optimizer spec, PyTorch constructor)
OPTIMIZERS = {
    "sgd": ("sgd:lr=0.05,momentum=0.9", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "adam": ("adam:lr=0.003", lambda p: torch.optim.Adam(p, lr=0.003)),
    "adam_eps": ("adam:lr=0.003,eps=0.001", lambda p: torch.optim.Adam(p, lr=0.003, eps=1e-3)),
    "sgd_nesterov_wd": ("sgd:lr=0.05,momentum=0.9,nesterov=1,weight_decay=0.01",
                        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "adamw": ("adam:lr=0.003,weight_decay=0.05,decoupled=1",
              lambda p: torch.optim.AdamW(p, lr=0.003, weight_decay=0.05)),
}
# The CNN's BatchNorm shifts get gradients of rounding size (1e-8, exactly 0 in exact arithmetic)
# at some steps, which Adam with eps 1e-8 turns into steps of +-lr whose sign is the rounding's:
# two correct implementations then differ by lr. It runs Adam with eps 1e-3, where they do not.
RUNS = [(n, o) for n in NETS for o in ("sgd", "adam_eps" if n == "cnn_bn" else "adam")] + \
    [("mlp", "sgd_nesterov_wd"), ("mlp", "adamw")]


def fresh(net):
    torch.manual_seed(SEED)
    return NETS[net][0]()


def data(net):
    gen = np.random.default_rng(SEED + sorted(NETS).index(net))
    x = gen.standard_normal((SAMPLES,) + NETS[net][1]).astype(np.float32)
    y = gen.integers(0, CLASSES, SAMPLES).astype(np.int64)
    return x, y


def export(net, path):
    """Exporting in training mode runs the net once, which moves BatchNorm's running statistics:
    the file gets the untouched initial values back, so C and PyTorch start from the same state."""
    model = fresh(net)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.zeros((BATCH,) + NETS[net][1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                          opset_version=15, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)
    for t in m.graph.initializer:
        if t.name in initial:
            t.CopyFrom(onnx.numpy_helper.from_array(initial[t.name].numpy(), t.name))
    onnx.save(m, path)


def train(net, opt, x, y):
    model = fresh(net)
    model.train()
    optimizer = OPTIMIZERS[opt][1](model.parameters())
    losses = []
    for step in range(SAMPLES // BATCH):
        xb = torch.from_numpy(x[step * BATCH:(step + 1) * BATCH])
        yb = torch.from_numpy(y[step * BATCH:(step + 1) * BATCH])
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out = {"loss": np.array(losses, dtype=np.float32)}
    for name, t in model.state_dict().items():
        if t.dtype.is_floating_point:
            out[name] = t.detach().numpy().astype(np.float32)
    return out


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    recipe = []
    for net in NETS:
        export(net, os.path.join(OUT, net + ".onnx"))
        x, y = data(net)
        np.save(os.path.join(OUT, net + "_x.npy"), x)
        np.save(os.path.join(OUT, net + "_y.npy"), y)
    for net, opt in RUNS:
        x, y = data(net)
        np.savez(os.path.join(OUT, "%s_%s.npz" % (net, opt)), **train(net, opt, x, y))
        recipe.append("%s %s %s\n" % (net, opt, OPTIMIZERS[opt][0]))
    with open(os.path.join(OUT, "recipe.txt"), "w") as f:
        f.writelines(recipe)


if __name__ == "__main__":
    main()
