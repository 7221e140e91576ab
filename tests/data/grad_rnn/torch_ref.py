"""Reference gradients of a bidirectional GRU and LSTM from PyTorch autograd,
for tests/unit/test_grad_rnn.c.  Run from the repository root:

    /usr/bin/python3 tests/data/grad_rnn/torch_ref.py

Writes <cell>_<name>.npy (float32) here: the inputs in ONNX's layout
(X [T,B,I], W [2,G*H,I], R [2,G*H,H], B [2,2*G*H], initial_h, initial_c
[2,B,H]), the loss weights cY [T,2,B,H], cH (and cC) [2,B,H], and d<name>,
the gradient of L = sum(Y*cY + Y_h*cH (+ Y_c*cC)) (Y_h and Y_c broadcast
over T, as numpy broadcasts) w.r.t. each input.

ONNX orders the gates z,r,h (GRU) and i,o,f,c (LSTM); PyTorch r,z,n and
i,f,g,o.  ONNX's B is [Wb | Rb]; PyTorch's b_ih and b_hh.  PyTorch's GRU
applies r after the recurrent product: ONNX's linear_before_reset=1.
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
T, B, I, H = 5, 3, 4, 3

# ONNX gate k is PyTorch gate ORDER[k]
ORDER = {"gru": [1, 0, 2], "lstm": [0, 3, 1, 2]}


def to_onnx(t, cell):
    """Rows of a PyTorch [G*H, ...] weight or [G*H] bias in ONNX's gate order."""
    return torch.cat([t[k * H:(k + 1) * H] for k in ORDER[cell]])


def run(cell):
    rng = np.random.default_rng(20261129 if cell == "gru" else 1129)
    mod = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(I, H, bidirectional=True)
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.6, 0.6, p.shape).astype(np.float32)))
    X = torch.from_numpy(rng.uniform(-1, 1, (T, B, I)).astype(np.float32)).requires_grad_()
    h0 = torch.from_numpy(rng.uniform(-0.5, 0.5, (2, B, H)).astype(np.float32)).requires_grad_()
    c0 = torch.from_numpy(rng.uniform(-0.5, 0.5, (2, B, H)).astype(np.float32)).requires_grad_()
    cY = torch.from_numpy(rng.uniform(-1, 1, (T, 2, B, H)).astype(np.float32))
    cH = torch.from_numpy(rng.uniform(-1, 1, (2, B, H)).astype(np.float32))
    cC = torch.from_numpy(rng.uniform(-1, 1, (2, B, H)).astype(np.float32))
    if cell == "gru":
        out, h_n = mod(X, h0)
        loss = (out.view(T, B, 2, H).permute(0, 2, 1, 3) * cY + h_n * cH).sum()
    else:
        out, (h_n, c_n) = mod(X, (h0, c0))
        loss = (out.view(T, B, 2, H).permute(0, 2, 1, 3) * cY + h_n * cH + c_n * cC).sum()
    loss.backward()

    def onnx_param(kind, grad):
        """W, R or B in ONNX's layout, from the module's parameters (or their gradients)."""
        per_dir = []
        for sfx in ("", "_reverse"):
            def get(name):
                p = getattr(mod, name + "_l0" + sfx)
                return to_onnx(p.grad if grad else p.detach(), cell)
            if kind == "W":
                per_dir.append(get("weight_ih"))
            elif kind == "R":
                per_dir.append(get("weight_hh"))
            else:
                per_dir.append(torch.cat([get("bias_ih"), get("bias_hh")]))
        return torch.stack(per_dir)

    arrays = {"X": X.detach(), "W": onnx_param("W", False), "R": onnx_param("R", False),
              "B": onnx_param("B", False), "initial_h": h0.detach(), "cY": cY, "cH": cH,
              "dX": X.grad, "dW": onnx_param("W", True), "dR": onnx_param("R", True),
              "dB": onnx_param("B", True), "dinitial_h": h0.grad}
    if cell == "lstm":
        arrays.update({"initial_c": c0.detach(), "cC": cC, "dinitial_c": c0.grad})
    for name, a in arrays.items():
        np.save(os.path.join(HERE, "%s_%s.npy" % (cell, name)), a.numpy().astype(np.float32))


if __name__ == "__main__":
    torch.manual_seed(0)
    run("gru")
    run("lstm")
