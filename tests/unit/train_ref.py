"""Reference numbers of tests/unit/test_train.c, computed with PyTorch.

The model is pred = tanh(x * w + b) (x [4,3], w and b [3]) trained with
torch.nn.functional.mse_loss and torch.optim; the inputs follow the same
formulas as the C test.  Run with /usr/bin/python3 and paste the output into
the test's tables (the test says which case each table is).
"""
import torch

torch.set_default_dtype(torch.float32)
N, F = 4, 3
x = torch.tensor([[0.1 * (i * F + j) - 0.5 for j in range(F)] for i in range(N)])
y = torch.tensor([[0.3 * ((i + 2 * j) % 5) - 0.6 for j in range(F)] for i in range(N)])
W0 = torch.tensor([0.5, -0.25, 1.0])
B0 = torch.tensor([0.1, 0.0, -0.2])
STEPS = 3


def run(name, make_opt, freeze_b=False, loss="mse"):
    w = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(not freeze_b)
    params = [w] if freeze_b else [w, b]
    opt = make_opt(params)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        pred = torch.tanh(x * w + b)
        if loss == "mse":
            l = torch.nn.functional.mse_loss(pred, y)
        else:
            l = torch.nn.functional.binary_cross_entropy_with_logits(x * w + b, (y > 0).float())
        l.backward()
        opt.step()
        losses.append(l.item())
    fmt = lambda v: ", ".join("%.9g" % t for t in v)
    print("/* %s */" % name)
    print("static const double %s_loss[] = {%s};" % (name, fmt(losses)))
    print("static const double %s_w[] = {%s};" % (name, fmt(w.detach().tolist())))
    print("static const double %s_b[] = {%s};" % (name, fmt(b.detach().tolist())))


run("sgd", lambda p: torch.optim.SGD(p, lr=0.5))
run("sgd_wd", lambda p: torch.optim.SGD(p, lr=0.5, weight_decay=0.1))
run("momentum", lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9))
run("nesterov", lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.05))
run("frozen", lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9), freeze_b=True)
run("adam", lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1))
run("adam_default", lambda p: torch.optim.Adam(p))
run("adamw", lambda p: torch.optim.AdamW(p, lr=0.05))
run("bce", lambda p: torch.optim.SGD(p, lr=0.5), loss="bce")

# test_cross_entropy: one SGD step of F.cross_entropy(x*w + b, [0,2,1,2])
w = W0.clone().requires_grad_(True)
b = B0.clone().requires_grad_(True)
opt = torch.optim.SGD([w, b], lr=0.5)
l = torch.nn.functional.cross_entropy(x * w + b, torch.tensor([0, 2, 1, 2]))
l.backward()
opt.step()
print("ce_loss = %.9g, ce_w[F] = {%s}, ce_b[F] = {%s}" % (l.item(), ", ".join("%.9g" % t for t in w.tolist()),
                                                          ", ".join("%.9g" % t for t in b.tolist())))
