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
run("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.3, lr_decay=0.05, weight_decay=0.1, eps=1e-6))
run("adagrad_default", lambda p: torch.optim.Adagrad(p))

# test_cross_entropy: one SGD step of F.cross_entropy(x*w + b, [0,2,1,2])
w = W0.clone().requires_grad_(True)
b = B0.clone().requires_grad_(True)
opt = torch.optim.SGD([w, b], lr=0.5)
l = torch.nn.functional.cross_entropy(x * w + b, torch.tensor([0, 2, 1, 2]))
l.backward()
opt.step()
print("ce_loss = %.9g, ce_w[F] = {%s}, ce_b[F] = {%s}" % (l.item(), ", ".join("%.9g" % t for t in w.tolist()),
                                                          ", ".join("%.9g" % t for t in b.tolist())))

# test_mlp: logits = relu(x @ W1^T + b1) @ W2 + b2 (Gemm transB=1, MatMul, Add),
# softmax_cross_entropy with labels [1,0,1,1]; SGD lr 0.1 momentum 0.9, 2 steps
W1 = torch.tensor([[0.1 * ((3 * i + j) % 7) - 0.3 for j in range(3)] for i in range(5)], requires_grad=True)
b1 = torch.tensor([0.05 * i - 0.1 for i in range(5)], requires_grad=True)
W2 = torch.tensor([[0.2 * ((i + 2 * j) % 4) - 0.3 for j in range(2)] for i in range(5)], requires_grad=True)
b2 = torch.tensor([0.1, -0.1], requires_grad=True)
opt = torch.optim.SGD([W1, b1, W2, b2], lr=0.1, momentum=0.9)
losses = []
for _ in range(2):
    opt.zero_grad()
    l = torch.nn.functional.cross_entropy(torch.relu(x @ W1.T + b1) @ W2 + b2, torch.tensor([1, 0, 1, 1]))
    l.backward()
    opt.step()
    losses.append(l.item())
f = lambda v: ", ".join("%.9g" % t for t in torch.flatten(v).tolist())
print("mlp_loss[] = {%s};" % f(torch.tensor(losses)))
print("mlp_W1[] = {%s};" % f(W1.detach()))
print("mlp_W2[] = {%s};" % f(W2.detach()))

# test_batchnorm_stats: BatchNorm1d(3, momentum=0.1) in training mode on x, two steps:
# its running mean and variance (torch keeps the unbiased variance)
bn = torch.nn.BatchNorm1d(3, momentum=0.1)
with torch.no_grad():
    bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
    bn.running_var.copy_(torch.tensor([1.0, 0.5, 2.0]))
bn.train()
for _ in range(2):
    bn(x)
print("bn_mean[] = {%s};" % f(bn.running_mean))
print("bn_var[] = {%s};" % f(bn.running_var))
# ONNX's BatchNormalization (training_mode) keeps the population variance in its running variance:
rv = torch.tensor([1.0, 0.5, 2.0])
for _ in range(2):
    rv = 0.9 * rv + 0.1 * x.var(0, unbiased=False)
print("bn_var_onnx[] = {%s};" % f(rv))

# test_batchnorm_train: pred = tanh(BatchNorm1d(x*w + b)) (training mode, weight 1.5, bias -0.1), mse, SGD lr 0.5, 2 steps
w = W0.clone().requires_grad_(True)
b = B0.clone().requires_grad_(True)
bn = torch.nn.BatchNorm1d(3, momentum=0.1)
with torch.no_grad():
    bn.weight.fill_(1.5)
    bn.bias.fill_(-0.1)
bn.train()
opt = torch.optim.SGD([w, b, bn.weight, bn.bias], lr=0.5)
losses = []
for _ in range(2):
    opt.zero_grad()
    l = torch.nn.functional.mse_loss(torch.tanh(bn(x * w + b)), y)
    l.backward()
    opt.step()
    losses.append(l.item())
print("bnt_loss[] = {%s};" % f(torch.tensor(losses)))
print("bnt_w[] = {%s};" % f(w.detach()))
print("bnt_scale[] = {%s};" % f(bn.weight.detach()))
print("bnt_bias[] = {%s};" % f(bn.bias.detach()))
