/*
 * grad_norm.c - gradient builders of LayerNormalization,
 * BatchNormalization and InstanceNormalization.
 *
 * All three normalize x over a set of axes A (LayerNorm: axis..rank-1;
 * BatchNorm in training mode: every axis but the channel axis 1;
 * InstanceNorm: the spatial axes 2..) with statistics of the same x, then
 * scale and shift:
 *
 *   mu = mean_A(x), var = mean_A((x - mu)^2) (population), r = 1/sqrt(var + eps)
 *   xh = (x - mu) * r,  y = xh * scale + B
 *
 * With gh = dL/dxh = g * scale, the standard result through the statistics
 *
 *   dx = r * (gh - mean_A(gh) - xh * mean_A(gh * xh))
 *   dscale = sum over the broadcast axes of g * xh,   dB = the same of g
 *
 * is built from ordinary ops, recomputing mu and r (the forward's optional
 * Mean/InvStdDev outputs need not exist).  BatchNorm in training mode, the
 * hot one of convolutional nets, is one BatchNormalizationGrad node instead
 * (ops_grad.c: a few passes per channel), which also takes over the
 * ReluGrad that makes its g (see bn_train_grad).  BatchNorm in inference mode uses
 * the given mean and variance, which are then inputs like any other:
 * dx = g * scale * r, and the mean and variance get their gradients too.
 * Gradients arriving at the statistics outputs (LayerNorm's Mean and
 * InvStdDev, BatchNorm's running mean and variance) are refused: they are
 * state, not part of a loss.
 */
#include "grad_norm.h"
#include "op.h"

#define OUT (n->out[0])
#define MAXR IR_MAX_RANK

static ir_tensor *node2(grad_ctx *gc, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  return grad_node(gc, op, 2, in);
}

/* op over the axes (keepdims as given): ReduceMean or ReduceSum */
static ir_tensor *reduce(grad_ctx *gc, const char *op, ir_tensor *t, ir_tensor *axes, int keepdims) {
  ir_tensor *r = node2(gc, op, t, axes);
  if (r) ir_attr_set_int(r->producer, "keepdims", keepdims);
  return r;
}

/* Statistics outputs j >= 1 must carry no gradient. */
static int refuse_stat_grads(grad_ctx *gc, const ir_node *n, const char *what) {
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j] && grad_of(gc, n->out[j]))
      return op_fail(n, "gradient through output %d ('%s', %s) is not supported", j, n->out[j]->name, what);
  return 0;
}

/* x normalized over `axes` with its own statistics: *xh gets xh, and the
 * return value is dx for gh = dL/dxh (see the top). */
static ir_tensor *norm_backward(grad_ctx *gc, ir_tensor *x, ir_tensor *axes, double eps, ir_tensor *gh,
                                ir_tensor **xh) {
  ir_tensor *xc = node2(gc, "Sub", x, reduce(gc, "ReduceMean", x, axes, 1));
  ir_tensor *var = reduce(gc, "ReduceMean", node2(gc, "Mul", xc, xc), axes, 1);
  ir_tensor *sd = grad_node(gc, "Sqrt", 1, (ir_tensor *[]){node2(gc, "Add", var, grad_scalar(gc, x->dtype, eps))});
  ir_tensor *r = grad_node(gc, "Reciprocal", 1, &sd);
  *xh = node2(gc, "Mul", xc, r);
  ir_tensor *m1 = reduce(gc, "ReduceMean", gh, axes, 1);
  ir_tensor *m2 = reduce(gc, "ReduceMean", node2(gc, "Mul", gh, *xh), axes, 1);
  ir_tensor *inner = node2(gc, "Sub", node2(gc, "Sub", gh, m1), node2(gc, "Mul", *xh, m2));
  return node2(gc, "Mul", r, inner);
}

int grad_LayerNormalization(grad_ctx *gc, const ir_node *n) {
  ir_tensor *g = grad_of(gc, OUT);
  if (refuse_stat_grads(gc, n, "a statistic") < 0) return -1;
  if (!g) return 0;
  ir_tensor *x = n->in[0], *scale = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL, *xh;
  int axis;
  if (op_axis(n, ir_attr_int(n, "axis", -1), x->rank, &axis) < 0) return -1;
  int64_t axes[MAXR];
  for (int k = axis; k < x->rank; k++) axes[k - axis] = k;
  ir_tensor *ax = grad_const_i64(gc, x->rank - axis, axes);
  ir_tensor *dx = norm_backward(gc, x, ax, ir_attr_float(n, "epsilon", 1e-5), node2(gc, "Mul", g, scale), &xh);
  if (grad_add(gc, x, dx, x) < 0) return -1;
  if (grad_add(gc, scale, node2(gc, "Mul", g, xh), OUT) < 0) return -1;   /* grad_add sums the leading axes */
  return b ? grad_add(gc, b, g, OUT) : 0;
}

/* The axes of x [N,C,...] but axis 1 from `from` on (BatchNorm: 0, InstanceNorm: 2),
 * as a constant; and the shape [1,C,1,...] of a per-channel tensor in *cshape
 * unless cshape is NULL. */
static ir_tensor *channel_axes(grad_ctx *gc, const ir_tensor *x, int from, ir_tensor **cshape) {
  int64_t axes[MAXR], cs[MAXR];
  int na = 0;
  for (int k = 0; k < x->rank; k++) {
    if (k != 1 && k >= from) axes[na++] = k;
    cs[k] = k == 1 ? x->shape[1] : 1;
  }
  if (cshape) *cshape = grad_const_i64(gc, x->rank, cs);
  return grad_const_i64(gc, na, axes);
}

/* InstanceNorm: x [N,C,...] normalized per (n, c) over the spatial axes;
 * scale and B [C] get g * xh and g summed over every axis but 1. */
int grad_InstanceNormalization(grad_ctx *gc, const ir_node *n) {
  ir_tensor *g = grad_of(gc, OUT);
  if (!g) return 0;
  ir_tensor *x = n->in[0], *scale = n->in[1], *b = n->in[2], *cs, *xh;
  ir_tensor *spatial = channel_axes(gc, x, 2, NULL), *all = channel_axes(gc, x, 0, &cs);
  ir_tensor *gh = node2(gc, "Mul", g, node2(gc, "Reshape", scale, cs));
  ir_tensor *dx = norm_backward(gc, x, spatial, ir_attr_float(n, "epsilon", 1e-5), gh, &xh);
  if (grad_add(gc, x, dx, x) < 0) return -1;
  if (grad_add(gc, scale, reduce(gc, "ReduceSum", node2(gc, "Mul", g, xh), all, 0), scale) < 0) return -1;
  return grad_add(gc, b, reduce(gc, "ReduceSum", g, all, 0), b);
}

/* BatchNorm in training mode: BatchNormalizationGrad(g, x, scale) -> dx,
 * dscale, dB, given the batch statistics when the forward saves them.  When g is the output of a ReluGrad(dY, y) (a Relu read the
 * BatchNorm's output, or an Add of it, alone), the node takes dY and y
 * instead and masks dY itself; the ReluGrad is left to dead-node
 * elimination when nothing else (a residual branch) reads it. */
static int bn_train_grad(grad_ctx *gc, const ir_node *n, ir_tensor *g) {
  ir_tensor *in[6] = {g, n->in[0], n->in[1], NULL, NULL, NULL};
  int n_in = 3;
  const ir_node *rg = g->producer;
  if (rg && g->id >= gc->n_forward && rg->op && rg->op == op_find("ai.modelc", "ReluGrad")) {
    in[0] = rg->in[0];
    in[3] = rg->in[1];
    n_in = 4;
  }
  if (n->n_out > 4 && n->out[3] && n->out[4]) {   /* the forward's batch statistics (train.c) */
    in[4] = n->out[3];
    in[5] = n->out[4];
    n_in = 6;
  }
  ir_node *b = grad_internal(gc, "BatchNormalizationGrad", n_in, in, 3);
  ir_attr_set_float(b, "epsilon", ir_attr_float(n, "epsilon", 1e-5));
  if (op_validate(b) < 0) return -1;
  if (grad_add(gc, n->in[0], b->out[0], n->in[0]) < 0) return -1;
  if (grad_add(gc, n->in[1], b->out[1], n->in[1]) < 0) return -1;
  return grad_add(gc, n->in[2], b->out[2], n->in[2]);
}

/* BatchNorm: scale, B, mean and var are [C] along axis 1 of x [N,C,...]. */
int grad_BatchNormalization(grad_ctx *gc, const ir_node *n) {
  ir_tensor *g = grad_of(gc, OUT);
  if (refuse_stat_grads(gc, n, "a running statistic") < 0) return -1;
  if (!g) return 0;
  if (ir_attr_int(n, "training_mode", 0)) return bn_train_grad(gc, n, g);
  ir_tensor *x = n->in[0], *scale = n->in[1], *b = n->in[2], *mean = n->in[3], *var = n->in[4];
  double eps = ir_attr_float(n, "epsilon", 1e-5);
  ir_tensor *cs, *ax = channel_axes(gc, x, 0, &cs);
  ir_tensor *scale_c = node2(gc, "Reshape", scale, cs);   /* [1,C,1,...] broadcasts against x */
  ir_tensor *gh = node2(gc, "Mul", g, scale_c);
  ir_tensor *sd = grad_node(gc, "Sqrt", 1, (ir_tensor *[]){node2(gc, "Add", var, grad_scalar(gc, x->dtype, eps))});
  ir_tensor *r = grad_node(gc, "Reciprocal", 1, &sd), *r_c = node2(gc, "Reshape", r, cs);
  ir_tensor *xc = node2(gc, "Sub", x, node2(gc, "Reshape", mean, cs));
  ir_tensor *xh = node2(gc, "Mul", xc, r_c);
  ir_tensor *dx = node2(gc, "Mul", gh, r_c);
  /* y = (x - mean) * r * scale + B: dmean = -sum(gh) * r, dvar = sum(gh * xc) * -r^3 / 2 */
  ir_tensor *sgh = reduce(gc, "ReduceSum", gh, ax, 0);
  if (grad_add(gc, mean, grad_node(gc, "Neg", 1, (ir_tensor *[]){node2(gc, "Mul", sgh, r)}), mean) < 0) return -1;
  ir_tensor *r3 = node2(gc, "Mul", node2(gc, "Mul", r, r), r);
  ir_tensor *dvar = node2(gc, "Mul", reduce(gc, "ReduceSum", node2(gc, "Mul", gh, xc), ax, 0),
                          node2(gc, "Mul", r3, grad_scalar(gc, x->dtype, -0.5)));
  if (grad_add(gc, var, dvar, var) < 0) return -1;
  if (grad_add(gc, x, dx, x) < 0) return -1;
  if (grad_add(gc, scale, reduce(gc, "ReduceSum", node2(gc, "Mul", g, xh), ax, 0), scale) < 0) return -1;
  return grad_add(gc, b, reduce(gc, "ReduceSum", g, ax, 0), b);
}
