#!/usr/bin/python3
"""Builds the two small example models, lenet5 and resnet_small, with their test data.

Why: modelc needs models whose every op and weight we know, small enough to commit, with reference
outputs from ONNX Runtime (the project's correctness and speed reference). The real models beside
them (see README.md) cover what a trained, third-party export looks like; these two cover the classic
CNN building blocks in a controlled way.

Conventions:
- Weights come from torch.manual_seed(SEED) and PyTorch's default initializers; every BatchNorm gets
  non-trivial running_mean/running_var/weight/bias (and one a non-default eps), so that a wrong
  BatchNorm folding shows up in the outputs.
- Export: torch.onnx.export, opset 13, fixed shapes, do_constant_folding=True, input 'input', output
  'logits', model in eval mode. training=TrainingMode.PRESERVE keeps the BatchNormalization nodes
  in the ONNX graph (the default EVAL mode makes the exporter fold them into the Conv weights, which
  would leave modelc's own BatchNorm folding pass untested); with the model in eval mode they are
  inference-mode BatchNormalization nodes that use the running statistics.
- models/<m>/test_data_set_0/input_0.pb is a seeded random input (TensorProto); output_0.pb is
  ONNX Runtime's output, written by bench/ort/run_ort.mjs. PyTorch's output is computed as well and
  must agree with ONNX Runtime's within 1e-4 (max abs difference); it is never used as the reference.

Run (from anywhere):  /usr/bin/python3 models/make_models.py
after installing ONNX Runtime once:  cd bench/ort && npm ci   (see models/README.md)
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnx.checker
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240501
TOLERANCE = 1e-4
MAX_MODEL_BYTES = 1 << 20

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUN_ORT = os.path.join(ROOT, "bench", "ort", "run_ort.mjs")
ORT_PACKAGE = os.path.join(ROOT, "bench", "ort", "node_modules", "onnxruntime-node", "package.json")


class LeNet5(nn.Module):
    """LeNet-5 on a 1x1x32x32 image: C1 conv5x5(6)+tanh+avgpool, C3 conv5x5(16)+relu+maxpool,
    then F5 120 (relu), F6 84 (tanh), 10 logits. Mixes tanh/relu and avg/max pooling on purpose."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.f5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        # count_include_pad=False: same result without padding, but no all-zero Pad node in the export
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2, count_include_pad=False)  # 6x28x28 -> 6x14x14
        x = F.max_pool2d(F.relu(self.c3(x)), 2)  # 16x10x10 -> 16x5x5
        x = torch.flatten(x, 1)
        x = F.relu(self.f5(x))
        x = torch.tanh(self.f6(x))
        return self.out(x)


class BasicBlock(nn.Module):
    """ResNet basic block: conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU. With stride or a channel
    change the shortcut is a 1x1 conv + BN projection."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class DepthwiseBlock(nn.Module):
    """Depthwise-separable residual block: depthwise conv3x3 (groups=C, with bias)-BN-ReLU,
    pointwise conv1x1-BN, identity shortcut, ReLU."""

    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=True)
        self.bn1 = nn.BatchNorm2d(c)
        self.pw = nn.Conv2d(c, c, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.bn1(self.dw(x)))
        y = self.bn2(self.pw(y))
        return F.relu(y + x)


class ResNetSmall(nn.Module):
    """1x3x32x32 -> stem conv3x3(16)-BN-ReLU -> basic block 16 -> basic block 32 stride 2 with
    projection -> depthwise block 32 -> BN-ReLU (after the block's ReLU, so this BatchNorm cannot
    be folded into a conv) -> global average pool -> Linear 10."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16, eps=1e-3)
        self.block1 = BasicBlock(16, 16, 1)
        self.block2 = BasicBlock(16, 32, 2)
        self.block3 = DepthwiseBlock(32)
        self.final_bn = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.block3(self.block2(self.block1(x)))
        x = F.relu(self.final_bn(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def init_batchnorms(model, gen):
    """Non-trivial BatchNorm parameters and statistics, so that folding mistakes change the output."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)  # gamma in [0.5, 1.5)
                m.bias.copy_(torch.rand(c, generator=gen) - 0.5)  # beta in [-0.5, 0.5)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.25)  # var in [0.25, 1.75)


def op_counts(model):
    return collections.Counter(n.op_type for n in model.graph.node)


def require_ort():
    if shutil.which("node") is None:
        sys.exit("make_models: 'node' not found; ONNX Runtime (npm onnxruntime-node) computes the reference "
                 "outputs. Install Node.js, then: cd bench/ort && npm ci")
    if not os.path.exists(ORT_PACKAGE):
        sys.exit("make_models: onnxruntime-node is not installed; run: cd bench/ort && npm ci "
                 "(see models/README.md). PyTorch is not used as a fallback reference.")


def read_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def build(name, model, input_shape, input_kind, out_dir):
    folder = os.path.join(out_dir, name)
    data_dir = os.path.join(folder, "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    model_path = os.path.join(folder, "model.onnx")
    input_path = os.path.join(data_dir, "input_0.pb")

    model.eval()
    rng = np.random.default_rng(SEED)
    if input_kind == "image":  # a grey-level image in [0, 1)
        x = rng.random(input_shape, dtype=np.float32)
    else:
        x = rng.standard_normal(input_shape, dtype=np.float32)
    xt = torch.from_numpy(x)

    with torch.no_grad():
        torch_out = model(xt).numpy()
        torch.onnx.export(model, (xt,), model_path, opset_version=13, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"],
                          training=torch.onnx.TrainingMode.PRESERVE)

    proto = onnx.load(model_path)
    onnx.checker.check_model(proto, full_check=True)
    size = os.path.getsize(model_path)
    if size > MAX_MODEL_BYTES:
        sys.exit(f"make_models: {model_path} is {size} bytes, over the {MAX_MODEL_BYTES} budget")

    tin = onnx.numpy_helper.from_array(x, name="input")
    with open(input_path, "wb") as f:
        f.write(tin.SerializeToString())

    # the reference: ONNX Runtime, single-threaded, writes test_data_set_0/output_0.pb
    subprocess.run(["node", RUN_ORT, model_path, data_dir, input_path], check=True)
    tout = read_tensor(os.path.join(data_dir, "output_0.pb"))
    ort_out = onnx.numpy_helper.to_array(tout)
    if tout.name != "logits" or ort_out.shape != torch_out.shape:
        sys.exit(f"make_models: {name}: ORT output {tout.name} {ort_out.shape} vs PyTorch {torch_out.shape}")
    diff = float(np.max(np.abs(ort_out.astype(np.float64) - torch_out.astype(np.float64))))
    print(f"{name}: {size} bytes, ops {dict(sorted(op_counts(proto).items()))}")
    print(f"{name}: max |ORT - PyTorch| = {diff:.3g} (logits range [{ort_out.min():.4g}, {ort_out.max():.4g}])")
    if not diff <= TOLERANCE:
        sys.exit(f"make_models: {name}: ONNX Runtime and PyTorch differ by {diff} > {TOLERANCE}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=HERE, help="folder to write <model>/ into (default: models/)")
    args = ap.parse_args()
    require_ort()
    # PRESERVE + constant folding warns about models in training mode; ours are in eval mode.
    warnings.filterwarnings("ignore", message="It is recommended that constant folding be turned off")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    torch.manual_seed(SEED)
    build("lenet5", LeNet5(), (1, 1, 32, 32), "image", args.out)

    torch.manual_seed(SEED)
    resnet = ResNetSmall()
    init_batchnorms(resnet, torch.Generator().manual_seed(SEED + 1))
    build("resnet_small", resnet, (1, 3, 32, 32), "normal", args.out)


if __name__ == "__main__":
    main()
