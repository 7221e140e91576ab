/*
 * autodiff.h - reverse-mode differentiation as a graph rewrite.
 *
 * The backward pass is ordinary IR: each op's entry has a gradient builder
 * (op_def.grad) that, given the gradients of its outputs, appends ordinary
 * nodes computing the gradients of its inputs.  So the backward graph gets
 * shape inference, folding, planning and emission like any other.
 *
 * A builder reads dL/d(out j) with grad_of() and contributes to dL/d(in i)
 * with grad_add(), which reduces over broadcast axes and sums the
 * contributions of several consumers.  Nodes it needs are made with
 * grad_node(); they are appended to the graph, bound to their op, and
 * shape-inferred later by pass_infer like the rest.
 */
#ifndef MODELC_AUTODIFF_H
#define MODELC_AUTODIFF_H

#include "../ir/ir.h"

typedef struct grad_ctx {
  ir_graph *g;
  ir_tensor **grad;     /* per tensor id of the forward graph: dL/dt so far, NULL = zero */
  int n_forward;        /* tensors that existed before differentiation */
  const char *prefix;   /* names of new tensors and nodes start with it */
} grad_ctx;

/* dL/dt, or NULL when no path from t reaches the loss. */
ir_tensor *grad_of(const grad_ctx *gc, const ir_tensor *t);
/* Add contribution d, which has the shape of `like` (the consumer's output
 * it came through), to dL/dx.  Inputs of integer or bool dtype get none. */
int grad_add(grad_ctx *gc, const ir_tensor *x, ir_tensor *d, const ir_tensor *like);
/* The same when d's shape, dims[rank], is no existing tensor's (MatMul's
 * batch-broadcast partial products). */
int grad_add_dims(grad_ctx *gc, const ir_tensor *x, ir_tensor *d, int rank, const int64_t *dims);
/* Append node op(in...) with one new output tensor, returned (NULL on error). */
ir_tensor *grad_node(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in);
/* The same node, not yet bound: the caller sets its attributes (or domain)
 * and then calls op_validate on it. */
ir_node *grad_node_unbound(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in);
/* An unbound node of modelc's own backward ops (domain ai.modelc,
 * compiler/ops/ops_grad.c) with n_out (1..4) new output tensors. */
ir_node *grad_internal(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in, int n_out);
/* A new int64 constant vector, e.g. the axes of a reduction. */
ir_tensor *grad_const_i64(grad_ctx *gc, int n, const int64_t *v);
/* A new rank-0 constant of float dtype dt (f32 or f64) holding v. */
ir_tensor *grad_scalar(grad_ctx *gc, ir_dtype dt, double v);
/* A new constant of t's dtype and shape, all zeros (a scatter's base). */
ir_tensor *grad_zeros_like(grad_ctx *gc, const ir_tensor *t);

/* Differentiate y with respect to xs over the nodes before position `end`
 * of g's schedule (shapes of those nodes known), seeding dy/dy with ones,
 * and make out[i] the gradient of y with respect to xs[i] (zeros when y does
 * not depend on it) through appended nodes.  A node on the path whose op has
 * no gradient builder is an error naming it. */
int autodiff(ir_graph *g, int end, const ir_tensor *y, int n_x, ir_tensor *const *xs, ir_tensor *const *out);

#endif
