/*
 * grad_elementwise.c - gradient builders of the elementwise ops.
 *
 * With g = dL/dy of the node's output y (shape of y), each builder adds
 * the contribution to every float input through grad_add, which sums
 * broadcast axes away.  The formulas use only ops that have interpreter
 * kernels and emitters, so the backward graph compiles like any other.
 */
#include "grad_elementwise.h"
#include "op.h"
#include "ops_random.h"

#define OUT (n->out[0])

static ir_tensor *node2(grad_ctx *gc, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  return grad_node(gc, op, 2, in);
}

static ir_tensor *node1(grad_ctx *gc, const char *op, ir_tensor *a) { return grad_node(gc, op, 1, &a); }

/* dL/dy, or 0 (nothing to do) when y gets no gradient. */
#define GRAD_OR_DONE(g)                   \
  ir_tensor *g = grad_of(gc, OUT);        \
  if (!g) return 0

int grad_Add(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  if (grad_add(gc, n->in[0], g, OUT) < 0) return -1;
  return grad_add(gc, n->in[1], g, OUT);
}

int grad_Sub(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  if (grad_add(gc, n->in[0], g, OUT) < 0) return -1;
  return grad_add(gc, n->in[1], node1(gc, "Neg", g), OUT);
}

/* d(a*b) = g*b da + g*a db */
int grad_Mul(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  if (grad_add(gc, n->in[0], node2(gc, "Mul", g, n->in[1]), OUT) < 0) return -1;
  return grad_add(gc, n->in[1], node2(gc, "Mul", g, n->in[0]), OUT);
}

/* y = a/b: da = g/b, db = -g*y/b */
int grad_Div(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  if (grad_add(gc, n->in[0], node2(gc, "Div", g, n->in[1]), OUT) < 0) return -1;
  ir_tensor *t = node2(gc, "Div", node2(gc, "Mul", g, OUT), n->in[1]);
  return grad_add(gc, n->in[1], node1(gc, "Neg", t), OUT);
}

int grad_Neg(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node1(gc, "Neg", g), OUT);
}

int grad_Identity(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], g, OUT);
}

/* y = max(x, 0): dx = g where y > 0: ReluGrad(g, y) (ops_grad.c, one pass;
 * grad_norm.c folds it into a BatchNormalization's backward before it), or
 * g * Sign(y), Sign(y) being 1 there and 0 elsewhere, for other dtypes. */
int grad_Relu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  if (OUT->dtype == IR_F32 || OUT->dtype == IR_F64) {
    ir_node *r = grad_internal(gc, "ReluGrad", 2, (ir_tensor *[]){g, OUT}, 1);
    return op_validate(r) < 0 ? -1 : grad_add(gc, n->in[0], r->out[0], OUT);
  }
  ir_tensor *mask = node1(gc, "Sign", OUT);
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, mask), OUT);
}

/* y = sigmoid(x): dx = g*y*(1-y) = g*(y - y*y) */
int grad_Sigmoid(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *d = node2(gc, "Sub", OUT, node2(gc, "Mul", OUT, OUT));
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, d), OUT);
}

/* y = tanh(x): dx = g*(1 - y*y) = g - g*y*y */
int grad_Tanh(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *gyy = node2(gc, "Mul", node2(gc, "Mul", g, OUT), OUT);
  return grad_add(gc, n->in[0], node2(gc, "Sub", g, gyy), OUT);
}

/* ---- piecewise activations: Where(region, slope*g, ...) ------------------ */

static ir_tensor *scalar(grad_ctx *gc, const ir_node *n, double v) { return grad_scalar(gc, OUT->dtype, v); }

static ir_tensor *where(grad_ctx *gc, ir_tensor *cond, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[3] = {cond, a, b};
  return grad_node(gc, "Where", 3, in);
}

/* y = x (x >= 0), alpha*x (x < 0): dx = g where x > 0, alpha*g elsewhere */
int grad_LeakyRelu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *pos = node2(gc, "Greater", n->in[0], scalar(gc, n, 0));
  ir_tensor *neg = node2(gc, "Mul", g, scalar(gc, n, ir_attr_float(n, "alpha", 0.01)));
  return grad_add(gc, n->in[0], where(gc, pos, g, neg), OUT);
}

/* y = min(max(x, lo), hi).  As PyTorch's clamp: x gets g where lo <= x <= hi,
 * lo gets g where x < lo, hi gets g where x > hi (each bound is a scalar;
 * grad_add sums the broadcast away). */
int grad_Clip(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0], *lo = n->n_in > 1 ? n->in[1] : NULL, *hi = n->n_in > 2 ? n->in[2] : NULL;
  ir_tensor *zero = scalar(gc, n, 0), *pass = g;
  if (lo) {
    ir_tensor *below = node2(gc, "Less", x, lo);
    pass = where(gc, below, zero, pass);
    if (grad_add(gc, lo, where(gc, below, g, zero), OUT) < 0) return -1;
  }
  if (hi) {
    ir_tensor *above = node2(gc, "Greater", x, hi);
    pass = where(gc, above, zero, pass);
    if (grad_add(gc, hi, where(gc, above, g, zero), OUT) < 0) return -1;
  }
  return grad_add(gc, x, pass, OUT);
}

/* y = max(0, min(1, alpha*x + beta)): dx = alpha*g where 0 < y < 1 */
int grad_HardSigmoid(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *inside = node2(gc, "And", node2(gc, "Greater", OUT, scalar(gc, n, 0)),
                            node2(gc, "Less", OUT, scalar(gc, n, 1)));
  ir_tensor *ag = node2(gc, "Mul", g, scalar(gc, n, ir_attr_float(n, "alpha", 0.2)));
  return grad_add(gc, n->in[0], where(gc, inside, ag, scalar(gc, n, 0)), OUT);
}

/* y = x * max(0, min(1, x/6 + 1/2)): dy/dx = 0 below -3, 1 from 3 on,
 * x/3 + 1/2 between, -3 included (where PyTorch's hardswish_backward puts
 * the kinks). */
int grad_HardSwish(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  ir_tensor *mid = node2(gc, "Add", node2(gc, "Div", x, scalar(gc, n, 3)), scalar(gc, n, 0.5));
  ir_tensor *d = where(gc, node2(gc, "GreaterOrEqual", x, scalar(gc, n, 3)), scalar(gc, n, 1), mid);
  d = where(gc, node2(gc, "Less", x, scalar(gc, n, -3)), scalar(gc, n, 0), d);
  return grad_add(gc, x, node2(gc, "Mul", g, d), OUT);
}

/* y = x (x > 0), alpha*(e^x - 1) else: dx = g, or g*(y + alpha) */
int grad_Elu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *neg = node2(gc, "Mul", g, node2(gc, "Add", OUT, scalar(gc, n, ir_attr_float(n, "alpha", 1.0))));
  return grad_add(gc, n->in[0], where(gc, node2(gc, "Greater", n->in[0], scalar(gc, n, 0)), g, neg), OUT);
}

/* y = gamma*x (x > 0), gamma*alpha*(e^x - 1) else: dx = gamma*g, or g*(y + gamma*alpha) */
int grad_Selu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  double alpha = ir_attr_float(n, "alpha", 1.67326319217681884765625);
  double gamma = ir_attr_float(n, "gamma", 1.05070102214813232421875);
  ir_tensor *pos = node2(gc, "Mul", g, scalar(gc, n, gamma));
  ir_tensor *neg = node2(gc, "Mul", g, node2(gc, "Add", OUT, scalar(gc, n, gamma * alpha)));
  return grad_add(gc, n->in[0], where(gc, node2(gc, "Greater", n->in[0], scalar(gc, n, 0)), pos, neg), OUT);
}

/* y = log(1 + e^x): dx = g*sigmoid(x) */
int grad_Softplus(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, node1(gc, "Sigmoid", n->in[0])), OUT);
}

/* dx = g*sign(x) (0 at 0, as PyTorch) */
int grad_Abs(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, node1(gc, "Sign", n->in[0])), OUT);
}

/* ---- smooth unary math ---------------------------------------------------- */

/* y = e^x: dx = g*y */
int grad_Exp(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, OUT), OUT);
}

/* y = ln x: dx = g/x */
int grad_Log(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, n->in[0]), OUT);
}

/* y = sqrt(x): dx = g/(2y) */
int grad_Sqrt(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, node2(gc, "Add", OUT, OUT)), OUT);
}

/* y = 1/x: dx = -g*y*y */
int grad_Reciprocal(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *gyy = node2(gc, "Mul", node2(gc, "Mul", g, OUT), OUT);
  return grad_add(gc, n->in[0], node1(gc, "Neg", gyy), OUT);
}

/* y = a^b (broadcast): da = g*b*a^(b-1), db = g*y*ln(a), where a = 0 gives
 * db 0 as in PyTorch (which masks a = 0 only for b >= 0; for b < 0, y is
 * infinite there anyway).  An integer exponent gets no gradient and is cast
 * to a's dtype (CastLike) for da. */
int grad_Pow(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *a = n->in[0], *b = n->in[1], *bf = b;
  if (b->dtype != a->dtype) bf = node2(gc, "CastLike", b, a);
  ir_tensor *bm1 = node2(gc, "Sub", bf, grad_scalar(gc, a->dtype, 1));
  ir_tensor *da = node2(gc, "Mul", node2(gc, "Mul", g, bf), node2(gc, "Pow", a, bm1));
  if (grad_add(gc, a, da, OUT) < 0) return -1;
  if (!ir_dtype_is_float(b->dtype)) return 0;
  ir_tensor *zero = scalar(gc, n, 0);
  ir_tensor *ylog = node2(gc, "Mul", OUT, node1(gc, "Log", a));
  ir_tensor *db = node2(gc, "Mul", g, where(gc, node2(gc, "Equal", a, zero), zero, ylog));
  return grad_add(gc, b, db, OUT);
}

/* Inference: dx = g.  Training: y = mask * x / (1 - ratio), so dx is the
 * same Dropout applied to g: a Dropout node with the forward's ratio,
 * training_mode and step, and its seed made explicit, draws the same mask
 * (docs/random.md: the mask depends on seed, step and position only). */
int grad_Dropout(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  double ratio;
  if (!ops_dropout_trains(n, &ratio)) return grad_add(gc, n->in[0], g, OUT);
  ir_tensor *in[4] = {g, n->in[1], n->in[2], n->n_in > 3 ? n->in[3] : NULL};
  ir_tensor *dx = grad_node(gc, "Dropout", n->n_in, in);
  if (!dx) return -1;
  ir_attr_set_int(dx->producer, "seed", (int64_t)ops_random_seed(n));
  return grad_add(gc, n->in[0], dx, OUT);
}

/* ---- more math ---------------------------------------------------------------- */

/* dx = g * 2/sqrt(pi) * e^(-x^2) (GELU's Erf) */
int grad_Erf(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  ir_tensor *e = node1(gc, "Exp", node1(gc, "Neg", node2(gc, "Mul", x, x)));
  ir_tensor *d = node2(gc, "Mul", e, scalar(gc, n, 1.1283791670955126));   /* 2/sqrt(pi) */
  return grad_add(gc, x, node2(gc, "Mul", g, d), OUT);
}

int grad_Sin(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, node1(gc, "Cos", n->in[0])), OUT);
}

int grad_Cos(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node1(gc, "Neg", node2(gc, "Mul", g, node1(gc, "Sin", n->in[0]))), OUT);
}

/* y = x/(1 + |x|): dx = g/(1 + |x|)^2 */
int grad_Softsign(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *d = node2(gc, "Add", node1(gc, "Abs", n->in[0]), scalar(gc, n, 1));
  return grad_add(gc, n->in[0], node2(gc, "Div", g, node2(gc, "Mul", d, d)), OUT);
}

/* y = x (x >= 0), slope*x (x < 0): dx = g where x > 0, slope*g elsewhere
 * (x = 0 included, as PyTorch); dslope = g*x there */
int grad_PRelu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0], *slope = n->in[1];
  ir_tensor *pos = node2(gc, "Greater", x, scalar(gc, n, 0));
  if (grad_add(gc, x, where(gc, pos, g, node2(gc, "Mul", g, slope)), OUT) < 0) return -1;
  return grad_add(gc, slope, where(gc, pos, scalar(gc, n, 0), node2(gc, "Mul", g, x)), OUT);
}

/* y = c ? a : b (broadcast): da = g where c, db = g elsewhere */
int grad_Where(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *zero = scalar(gc, n, 0);
  if (grad_add(gc, n->in[1], where(gc, n->in[0], g, zero), OUT) < 0) return -1;
  return grad_add(gc, n->in[2], where(gc, n->in[0], zero, g), OUT);
}

/* Between float dtypes: g cast back to x's dtype; from integers: none (grad_add). */
int grad_Cast(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  if (!ir_dtype_is_float(n->in[0]->dtype)) return 0;
  return grad_add(gc, n->in[0], n->in[0]->dtype == OUT->dtype ? g : node2(gc, "CastLike", g, n->in[0]), OUT);
}

/* Variadic Sum: every input gets g; Mean: g/k (grad_add unbroadcasts each). */
static int grad_sum_mean(grad_ctx *gc, const ir_node *n, int mean) {
  GRAD_OR_DONE(g);
  ir_tensor *d = mean ? node2(gc, "Div", g, scalar(gc, n, (double)n->n_in)) : g;
  for (int i = 0; i < n->n_in; i++)
    if (grad_add(gc, n->in[i], d, OUT) < 0) return -1;
  return 0;
}

int grad_Sum(grad_ctx *gc, const ir_node *n) { return grad_sum_mean(gc, n, 0); }
int grad_Mean(grad_ctx *gc, const ir_node *n) { return grad_sum_mean(gc, n, 1); }

/* Variadic Max/Min: input i gets g where it equals y, divided by the number
 * of inputs equal there (ties share evenly, as PyTorch's maximum/minimum). */
static int grad_extreme(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *hits[64], *cnt = NULL;
  if (n->n_in > 64) return op_fail(n, "gradient of more than 64 inputs");
  for (int i = 0; i < n->n_in; i++) {
    hits[i] = where(gc, node2(gc, "Equal", n->in[i], OUT), scalar(gc, n, 1), scalar(gc, n, 0));
    cnt = cnt ? node2(gc, "Add", cnt, hits[i]) : hits[i];
  }
  ir_tensor *share = node2(gc, "Div", g, cnt);
  for (int i = 0; i < n->n_in; i++)
    if (grad_add(gc, n->in[i], node2(gc, "Mul", share, hits[i]), OUT) < 0) return -1;
  return 0;
}

int grad_Max(grad_ctx *gc, const ir_node *n) { return grad_extreme(gc, n); }
int grad_Min(grad_ctx *gc, const ir_node *n) { return grad_extreme(gc, n); }

/* ---- trigonometric and hyperbolic ---------------------------------------------- */

/* dx = g * d, d from x (and y) */
static int chain(grad_ctx *gc, const ir_node *n, ir_tensor *g, ir_tensor *d) {
  return grad_add(gc, n->in[0], node2(gc, "Mul", g, d), OUT);
}

/* 1 - x^2, x^2 + 1, x^2 - 1 as sign says (-1, +1, 0) */
static ir_tensor *one_and_square(grad_ctx *gc, const ir_node *n, int sign) {
  ir_tensor *x2 = node2(gc, "Mul", n->in[0], n->in[0]);
  if (sign < 0) return node2(gc, "Sub", scalar(gc, n, 1), x2);
  return node2(gc, sign > 0 ? "Add" : "Sub", x2, scalar(gc, n, 1));
}

int grad_Tan(grad_ctx *gc, const ir_node *n) {   /* 1 + y^2 */
  GRAD_OR_DONE(g);
  return chain(gc, n, g, node2(gc, "Add", node2(gc, "Mul", OUT, OUT), scalar(gc, n, 1)));
}
int grad_Asin(grad_ctx *gc, const ir_node *n) {   /* 1/sqrt(1 - x^2) */
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, node1(gc, "Sqrt", one_and_square(gc, n, -1))), OUT);
}
int grad_Acos(grad_ctx *gc, const ir_node *n) {   /* -1/sqrt(1 - x^2) */
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node1(gc, "Neg", node2(gc, "Div", g, node1(gc, "Sqrt", one_and_square(gc, n, -1)))), OUT);
}
int grad_Atan(grad_ctx *gc, const ir_node *n) {   /* 1/(1 + x^2) */
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, one_and_square(gc, n, 1)), OUT);
}
int grad_Sinh(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return chain(gc, n, g, node1(gc, "Cosh", n->in[0]));
}
int grad_Cosh(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return chain(gc, n, g, node1(gc, "Sinh", n->in[0]));
}
int grad_Asinh(grad_ctx *gc, const ir_node *n) {   /* 1/sqrt(x^2 + 1) */
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, node1(gc, "Sqrt", one_and_square(gc, n, 1))), OUT);
}
int grad_Acosh(grad_ctx *gc, const ir_node *n) {   /* 1/sqrt(x^2 - 1) */
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, node1(gc, "Sqrt", one_and_square(gc, n, 0))), OUT);
}
int grad_Atanh(grad_ctx *gc, const ir_node *n) {   /* 1/(1 - x^2) */
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], node2(gc, "Div", g, one_and_square(gc, n, -1)), OUT);
}

/* ---- activations of ops_math.c ------------------------------------------------- */

/* y = max(0, x) + min(0, alpha (e^(x/alpha) - 1)): dx = g (x > 0), g e^(x/alpha) else */
int grad_Celu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  ir_tensor *e = node1(gc, "Exp", node2(gc, "Div", x, scalar(gc, n, ir_attr_float(n, "alpha", 1.0))));
  return grad_add(gc, x, where(gc, node2(gc, "Greater", x, scalar(gc, n, 0)), g, node2(gc, "Mul", g, e)), OUT);
}

/* y = x tanh(softplus(x)): dy/dx = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)) */
int grad_Mish(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0], *t = node1(gc, "Tanh", node1(gc, "Softplus", x));
  ir_tensor *s = node2(gc, "Mul", x, node1(gc, "Sigmoid", x));
  ir_tensor *d = node2(gc, "Add", t, node2(gc, "Mul", s, node2(gc, "Sub", scalar(gc, n, 1), node2(gc, "Mul", t, t))));
  return chain(gc, n, g, d);
}

/* y = x where x > alpha, else 0 */
int grad_ThresholdedRelu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *pass = node2(gc, "Greater", n->in[0], scalar(gc, n, ir_attr_float(n, "alpha", 1.0)));
  return grad_add(gc, n->in[0], where(gc, pass, g, scalar(gc, n, 0)), OUT);
}

/* y = x -+ bias where |x| > lambd, else 0 */
int grad_Shrink(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *pass = node2(gc, "Greater", node1(gc, "Abs", n->in[0]), scalar(gc, n, ir_attr_float(n, "lambd", 0.5)));
  return grad_add(gc, n->in[0], where(gc, pass, g, scalar(gc, n, 0)), OUT);
}
