/*
 * autodiff.c - reverse-mode differentiation as a graph rewrite (see
 * autodiff.h).
 *
 * require: the nodes before `end` are in schedule order, bound, and
 *          shape-inferred (builders read forward shapes to undo broadcasts).
 * guarantee: the gradient outputs are written by appended ordinary nodes,
 *          bound to their ops but not yet shape-inferred (pass_infer goes on
 *          over them); the forward graph is not changed.
 *
 * 1. mark the tensors that depend on xs (only they need gradients);
 * 2. seed dy/dy with ones;
 * 3. walk the forward schedule backwards, calling each relevant node's
 *    builder, which adds its inputs' contributions with grad_add;
 * 4. copy each dL/dx into the requested output (zeros if y ignores x).
 */
#include "autodiff.h"
#include "../ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ir_tensor *grad_of(const grad_ctx *gc, const ir_tensor *t) {
  if (!t || t->id >= gc->n_forward || gc->g->tensors[t->id] != t) return NULL;
  return gc->grad[t->id];
}

static ir_node *new_node(grad_ctx *gc, const char *op) {
  char name[256];
  snprintf(name, sizeof name, "%s%s_%d", gc->prefix, op, gc->g->n_nodes);
  ir_node *n = ir_add_node(gc->g, op, name);
  n->opset = 13;
  return n;
}

ir_node *grad_node_unbound(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in) {
  char base[256];
  snprintf(base, sizeof base, "%s%s", gc->prefix, op);
  ir_tensor *out = ir_add_tensor_unique(gc->g, base, IR_UNDEF, IR_ACTIVATION);
  ir_node *n = new_node(gc, op);
  ir_node_set_io(n, n_in, in, 1, &out);
  return n;
}

ir_tensor *grad_node(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in) {
  ir_node *n = grad_node_unbound(gc, op, n_in, in);
  return op_validate(n) < 0 ? NULL : n->out[0];
}

ir_node *grad_internal(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in, int n_out) {
  if (n_out < 1 || n_out > 4) n_out = 1;   /* the documented range; out[] holds 4 */
  ir_node *n = grad_node_unbound(gc, op, n_in, in);
  ir_tensor *out[4] = {n->out[0]};
  char base[256];
  snprintf(base, sizeof base, "%s%s", gc->prefix, op);
  for (int j = 1; j < n_out; j++) out[j] = ir_add_tensor_unique(gc->g, base, IR_UNDEF, IR_ACTIVATION);
  if (n_out > 1) ir_node_set_io(n, n_in, in, n_out, out);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  n->opset = 1;
  return n;
}

ir_tensor *grad_const_i64(grad_ctx *gc, int n, const int64_t *v) {
  char base[256];
  snprintf(base, sizeof base, "%sconst", gc->prefix);
  ir_tensor *t = ir_add_tensor_unique(gc->g, base, IR_I64, IR_CONST);
  int64_t d = n;
  ir_set_shape(t, 1, &d);
  ir_tensor_set_data(t, v, (size_t)n * sizeof *v);
  return t;
}

/* A constant of t's dtype and shape filled with `value` (0 or 1). */
static ir_tensor *filled_like(grad_ctx *gc, const ir_tensor *t, double value) {
  char base[256];
  snprintf(base, sizeof base, "%s%s", gc->prefix, value != 0 ? "ones" : "zeros");
  ir_tensor *c = ir_add_tensor_unique(gc->g, base, t->dtype, IR_CONST);
  ir_set_shape(c, t->rank, t->shape);
  size_t es = ir_dtype_size(t->dtype);
  int64_t cnt = ir_numel(t);
  unsigned char *buf = ir_alloc((size_t)cnt * es + 1);
  for (int64_t i = 0; value != 0 && i < cnt; i++) {
    if (t->dtype == IR_F32) ((float *)buf)[i] = (float)value;
    else if (t->dtype == IR_F64) ((double *)buf)[i] = value;
  }
  ir_tensor_set_data(c, buf, (size_t)cnt * es);
  free(buf);
  return c;
}

ir_tensor *grad_scalar(grad_ctx *gc, ir_dtype dt, double v) {
  char base[256];
  snprintf(base, sizeof base, "%sscalar", gc->prefix);
  /* float16/bfloat16 get a float32 constant, which their consumer refuses loudly */
  ir_tensor *t = ir_add_tensor_unique(gc->g, base, dt == IR_F64 ? IR_F64 : IR_F32, IR_CONST);
  ir_set_shape(t, 0, NULL);
  float f = (float)v;
  if (dt == IR_F64) ir_tensor_set_data(t, &v, sizeof v);
  else ir_tensor_set_data(t, &f, sizeof f);
  return t;
}

ir_tensor *grad_zeros_like(grad_ctx *gc, const ir_tensor *t) { return filled_like(gc, t, 0.0); }

/* d has shape dims[rank]; sum it down to x's shape. */
static ir_tensor *unbroadcast(grad_ctx *gc, const ir_tensor *x, ir_tensor *d, int rank, const int64_t *dims) {
  if (x->rank == rank && !memcmp(x->shape, dims, sizeof *dims * (size_t)rank)) return d;
  int64_t axes[IR_MAX_RANK];
  int n = 0, lead = rank - x->rank;
  for (int a = 0; a < rank; a++)
    if (a < lead || (x->shape[a - lead] == 1 && dims[a] != 1)) axes[n++] = a;
  ir_tensor *in[2] = {d, grad_const_i64(gc, n, axes)};
  ir_tensor *s = n ? grad_node(gc, "ReduceSum", 2, in) : d;
  if (!s) return NULL;
  if (n) ir_attr_set_int(s->producer, "keepdims", 1);
  int64_t shape[IR_MAX_RANK];
  for (int a = 0; a < x->rank; a++) shape[a] = x->shape[a];
  ir_tensor *rin[2] = {s, grad_const_i64(gc, x->rank, shape)};
  return grad_node(gc, "Reshape", 2, rin);
}

int grad_add(grad_ctx *gc, const ir_tensor *x, ir_tensor *d, const ir_tensor *like) {
  return grad_add_dims(gc, x, d, like->rank, like->shape);
}

int grad_add_dims(grad_ctx *gc, const ir_tensor *x, ir_tensor *d, int rank, const int64_t *dims) {
  if (!x || !d || x->id >= gc->n_forward || gc->g->tensors[x->id] != x) return d ? 0 : -1;
  if (!ir_dtype_is_float(x->dtype)) return 0;   /* integer inputs (shapes, indices) have none */
  ir_tensor *r = unbroadcast(gc, x, d, rank, dims);
  if (!r) return -1;
  ir_tensor *prev = gc->grad[x->id];
  if (prev) {
    ir_tensor *in[2] = {prev, r};
    r = grad_node(gc, "Add", 2, in);
    if (!r) return -1;
  }
  gc->grad[x->id] = r;
  return 0;
}

int autodiff(ir_graph *g, int end, const ir_tensor *y, int n_x, ir_tensor *const *xs, ir_tensor *const *out) {
  grad_ctx gc = {g, NULL, g->n_tensors, "grad/"};
  if (y->dtype != IR_F32 && y->dtype != IR_F64)
    return ir_error("cannot differentiate '%s': only float32 and float64 are differentiable", y->name);
  unsigned char *dep = ir_alloc((size_t)g->n_tensors + 1);
  gc.grad = ir_alloc(sizeof *gc.grad * (size_t)(g->n_tensors + 1));
  int rc = 0;
  /* 1. what depends on xs */
  for (int i = 0; i < n_x; i++)
    if (xs[i]) dep[xs[i]->id] = 1;
  for (int k = 0; k < end; k++) {
    const ir_node *n = g->nodes[k];
    int d = 0;
    for (int i = 0; i < n->n_in; i++) d |= n->in[i] && n->in[i]->id < gc.n_forward && dep[n->in[i]->id];
    for (int j = 0; d && j < n->n_out; j++)
      if (n->out[j]) dep[n->out[j]->id] = 1;
  }
  /* 2. seed */
  gc.grad[y->id] = filled_like(&gc, y, 1.0);
  /* 3. backwards over the forward schedule */
  for (int k = end - 1; k >= 0 && rc == 0; k--) {
    ir_node *n = g->nodes[k];
    int has_grad = 0, needs = 0;
    if (n->dead) continue;
    for (int j = 0; j < n->n_out; j++) has_grad |= grad_of(&gc, n->out[j]) != NULL;
    for (int i = 0; i < n->n_in; i++) needs |= n->in[i] && n->in[i]->id < gc.n_forward && dep[n->in[i]->id];
    if (!has_grad || !needs) continue;
    if (!n->op->grad) {
      rc = op_fail(n, "has no gradient builder yet, so it cannot be differentiated");
      break;
    }
    rc = n->op->grad(&gc, n);
  }
  /* 4. the requested gradients */
  for (int i = 0; i < n_x && rc == 0; i++) {
    if (!out[i]) continue;
    ir_tensor *src = grad_of(&gc, xs[i]);
    if (!src) src = filled_like(&gc, xs[i], 0.0);
    ir_node *id = new_node(&gc, "Identity");
    ir_node_set_io(id, 1, &src, 1, &out[i]);
    rc = op_validate(id);
  }
  free(dep);
  free(gc.grad);
  return rc;
}
