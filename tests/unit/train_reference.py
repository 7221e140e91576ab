"""train_reference.py - PyTorch's side of tests/unit/test_emit_train.c.

    python3 train_reference.py reg|cls DIR EPOCHS BATCH LR MU

Trains test_emit_train.c's model the PyTorch way from DIR/init_<model>.npz (the
initial parameters as the generated harness saved them) on DIR/x.npy with
DIR/t.npy (reg: sigmoid, mean squared error) or DIR/l.npy (cls: softmax
cross-entropy), batches in file order; fc.weight by SGD with momentum MU, fc.bias
by plain SGD, both at rate LR.  Then compares with what the harness wrote:
DIR/<model>.csv (step,loss) and DIR/<model>.npz (the trained parameters).
Prints one line and exits 1 on the first difference.
"""
import sys

import numpy as np
import torch


def main():
    model, d, epochs, batch, lr, mu = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
        float(sys.argv[5]), float(sys.argv[6])
    init = np.load(f"{d}/init_{model}.npz")
    w = torch.tensor(init["fc.weight"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(init["fc.bias"], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(np.load(f"{d}/x.npy"), dtype=torch.float64)
    y = torch.tensor(np.load(f"{d}/{'l' if model == 'cls' else 't'}.npy"))
    opt_w = torch.optim.SGD([w], lr=lr, momentum=mu)
    opt_b = torch.optim.SGD([b], lr=lr)
    losses = []
    for _ in range(epochs):
        for s in range(0, x.shape[0], batch):
            z = x[s:s + batch] @ w + b
            if model == "cls":
                loss = torch.nn.functional.cross_entropy(z, y[s:s + batch])
            else:
                loss = torch.mean((torch.sigmoid(z) - y[s:s + batch].double()) ** 2)
            opt_w.zero_grad()
            opt_b.zero_grad()
            loss.backward()
            opt_w.step()
            opt_b.step()
            losses.append(loss.item())
    rows = np.loadtxt(f"{d}/{model}.csv", delimiter=",", skiprows=1, ndmin=2)
    got = np.load(f"{d}/{model}.npz")
    if rows.shape[0] != len(losses) or not np.allclose(rows[:, 1], losses, rtol=1e-5, atol=1e-6):
        print(f"losses differ from PyTorch's:\n{rows[:, 1]}\n{np.array(losses)}")
        return 1
    for name, want in (("fc.weight", w), ("fc.bias", b)):
        if not np.allclose(got[name], want.detach().numpy(), rtol=1e-5, atol=1e-6):
            print(f"{name} differs from PyTorch's:\n{got[name]}\n{want.detach().numpy()}")
            return 1
    print(f"{model}: {len(losses)} steps match PyTorch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
