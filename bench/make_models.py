#!/usr/bin/python3
"""Builds the benchmark set of issue 8 (five small nets, batch 1) as ONNX models with an input each
and PyTorch's output for it.

Why: the speed of modelc is measured against ONNX Runtime and PyTorch on nets whose every layer we
chose, covering the shapes embedded inference meets: dense layers (mlp), small convolutions and
pooling (lenet5_mnist), 3x3 convolutions with strided residual blocks (resnet8), depthwise and 1x1
convolutions in inverted residuals (mobilenetv2_96) and a recurrence (gru). The bundled real models
(tests/e2e/models.list) complete the set in bench/run.sh.

Conventions:
- Each net is built right after torch.manual_seed(SEED), with PyTorch's default initializers, then
  every BatchNorm gets non-trivial statistics from a generator seeded SEED + 1 (so that the folded
  weights are not the identity). bench/torch_bench.py rebuilds the same modules through build(name)
  below; run.sh then checks that PyTorch's output still equals the recorded one, so a drift between
  these modules and the committed ONNX files fails loudly instead of timing a different net.
- Export: torch.onnx.export in eval mode, opset 13, batch 1, fixed shapes, do_constant_folding=True,
  input 'input', output 'logits', PyTorch's default training=EVAL (BatchNorm is folded into the
  convolutions by the exporter, as in what users export).
- bench/models/<name>/model.onnx, input_0.npy (a seeded input: [0, 1) for images, standard normal
  otherwise) and output_0.npy (PyTorch's output for it, the reference run.sh checks every engine
  against); bench/models/<name>/macs holds the multiply-accumulates per inference counted here from
  the layers' shapes (conv, linear, GRU gates; pooling and elementwise ops are not counted), which
  run.sh compares with what `modelc info` reports.
- Deterministic: a rerun with the same Debian packages writes byte-identical model.onnx,
  input_0.npy and macs. output_0.npy is PyTorch's float result, whose last bits depend on the BLAS
  behind libblas.so.3 and on the CPU; the committed ones were computed with Debian's reference
  BLAS (libblas3), and any BLAS agrees with them far within run.sh's tolerance.

Run (from anywhere, Debian's python3-torch 1.13, python3-onnx and python3-numpy):
    /usr/bin/python3 bench/make_models.py
"""

import argparse
import os
import sys
import warnings

import numpy as np
import onnx
import onnx.checker
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261129
OPSET = 13
HERE = os.path.dirname(os.path.abspath(__file__))


class MLP(nn.Module):
    """784-512-256-10, ReLU between the layers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 256)
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LeNet5MNIST(nn.Module):
    """1x28x28: conv5x5 pad 2 (6) - ReLU - maxpool 2, conv5x5 (16) - ReLU - maxpool 2,
    fc 400-120 - ReLU, 120-84 - ReLU, 84-10."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(16 * 5 * 5, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)  # 6x28x28 -> 6x14x14
        x = F.max_pool2d(F.relu(self.c2(x)), 2)  # 16x10x10 -> 16x5x5
        x = torch.flatten(x, 1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


class BasicBlock(nn.Module):
    """conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the input (or, when the stride or the channels
    change, a 1x1 conv(stride)-BN of it), then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet8(nn.Module):
    """3x32x32 (the MLPerf Tiny image-classification shape): stem conv3x3 16-BN-ReLU, basic
    blocks 16, 32/s2, 64/s2 (1x1 projection shortcuts where the shape changes), global average
    pool, fc 64-10. Eight weight layers on the main path."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.b1 = BasicBlock(16, 16, 1)
        self.b2 = BasicBlock(16, 32, 2)
        self.b3 = BasicBlock(32, 64, 2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.b3(self.b2(self.b1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand (x6)-BN-ReLU6, depthwise 3x3(stride)-BN-ReLU6, 1x1 project-BN
    (linear), plus the input when the stride is 1 and the channels stay."""

    def __init__(self, cin, cout, stride, expand=6):
        super().__init__()
        mid = cin * expand
        self.residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2S(nn.Module):
    """3x96x96: stem conv3x3/s2 32-BN-ReLU6 (48x48), inverted residuals 32->16, 16->24/s2 (24x24),
    24->24 (residual), 24->32/s2 (12x12), all with expansion 6, global average pool, fc 32-10."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.blocks = nn.Sequential(
            InvertedResidual(32, 16, 1), InvertedResidual(16, 24, 2),
            InvertedResidual(24, 24, 1), InvertedResidual(24, 32, 2))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class GRUNet(nn.Module):
    """A one-layer GRU over 20 steps of 32 features (batch first), 64 hidden, fc 64-10 on the last
    hidden state."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(32, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        _, h = self.gru(x)  # h: [1, batch, 64]
        return self.fc(h[0])


# name -> (module class, input shape, input kind, one-line description); run.sh's order
NETS = {
    "mlp": (MLP, (1, 784), "image", "MLP 784-512-256-10, ReLU"),
    "lenet5_mnist": (LeNet5MNIST, (1, 1, 28, 28), "image",
                     "LeNet-5, 1x28x28: conv5x5 pad 2 6ch, maxpool, conv5x5 16ch, maxpool, fc 120-84-10, ReLU"),
    "resnet8": (ResNet8, (1, 3, 32, 32), "normal",
                "ResNet-8, 3x32x32: stem conv3x3 16+BN+ReLU, basic blocks 16, 32/s2, 64/s2 (1x1 shortcuts), pool, fc10"),
    "mobilenetv2_96": (MobileNetV2S, (1, 3, 96, 96), "normal",
                       "MobileNetV2-style, 3x96x96: stem conv3x3/s2 32ch, 4 inverted residuals (x6, ReLU6), pool, fc10"),
    "gru": (GRUNet, (1, 20, 32), "normal", "GRU, 20 steps x 32 in, 64 hidden, fc10 on the last state"),
}


def init_batchnorms(model, gen):
    """Non-trivial BatchNorm parameters and statistics, so that folding them changes the weights."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)  # gamma in [0.5, 1.5)
                m.bias.copy_(torch.rand(c, generator=gen) - 0.5)  # beta in [-0.5, 0.5)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.25)  # var in [0.25, 1.75)


def build(name):
    """The module `name` in eval mode, with the seeded weights the committed ONNX file holds."""
    cls = NETS[name][0]
    torch.manual_seed(SEED)
    model = cls()
    init_batchnorms(model, torch.Generator().manual_seed(SEED + 1))
    return model.eval()


def make_input(name):
    shape, kind = NETS[name][1], NETS[name][2]
    rng = np.random.default_rng(SEED)
    if kind == "image":
        return rng.random(shape, dtype=np.float32)
    return rng.standard_normal(shape, dtype=np.float32)


def count_macs(model, x):
    """Multiply-accumulates of one forward pass: conv, linear and GRU layers, from their shapes."""
    total = [0]

    def conv(m, _inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += out.numel() * k

    def linear(m, _inp, out):
        total[0] += out.numel() * m.in_features

    def gru(m, inp, _out):
        steps = inp[0].shape[1] if m.batch_first else inp[0].shape[0]
        batch = inp[0].shape[0] if m.batch_first else inp[0].shape[1]
        h = m.hidden_size
        total[0] += steps * batch * 3 * h * (m.input_size + h)  # input and recurrent projections of 3 gates

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, nn.GRU):
            if m.num_layers != 1 or m.bidirectional:
                sys.exit("make_models: count_macs handles one-layer unidirectional GRUs only")
            hooks.append(m.register_forward_hook(gru))
        elif len(list(m.children())) == 0 and any(p.numel() for p in m.parameters()) \
                and not isinstance(m, nn.BatchNorm2d):
            sys.exit(f"make_models: count_macs does not know {type(m).__name__}")
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def export(name, out_dir):
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    model = build(name)
    x = make_input(name)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        y = model(xt).numpy()
        torch.onnx.export(model, (xt,), os.path.join(folder, "model.onnx"), opset_version=OPSET,
                          do_constant_folding=True, input_names=["input"], output_names=["logits"])
    proto = onnx.load(os.path.join(folder, "model.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    np.save(os.path.join(folder, "input_0.npy"), x)
    np.save(os.path.join(folder, "output_0.npy"), y)
    macs = count_macs(model, xt)
    with open(os.path.join(folder, "macs"), "w") as f:
        f.write(f"{macs}\n")
    params = sum(p.numel() for p in model.parameters())
    ops = sorted({n.op_type for n in proto.graph.node})
    size = os.path.getsize(os.path.join(folder, "model.onnx"))
    print(f"{name}: {size} bytes, {params} parameters, {macs} MACs ({2 * macs / 1e6:.2f} MFLOP), "
          f"ops {', '.join(ops)}, logits [{y.min():.4g}, {y.max():.4g}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "models"), help="folder for <name>/ (default: bench/models)")
    ap.add_argument("names", nargs="*", help="nets to build (default: all)")
    args = ap.parse_args()
    for n in args.names:
        if n not in NETS:
            sys.exit(f"make_models: unknown net '{n}' (known: {', '.join(NETS)})")
    # the exporter's notes on GRU with batch sizes other than 1 (ours is 1) and on its own constants
    warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for name in args.names or NETS:
        export(name, args.out)


if __name__ == "__main__":
    main()
