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

/* y = max(x, 0): dx = g where y > 0.  Relu(sign(y)) is 1 there and 0 elsewhere. */
int grad_Relu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
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
