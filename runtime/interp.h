/*
 * interp.h - the reference interpreter.
 *
 * Executes an IR graph node by node with the simplest correct kernels
 * (runtime/kernels/), allocating every tensor separately.  It is the oracle
 * that `modelc check` compares the generated C against, so its kernels share
 * no code with the backend's.  Constant folding also runs single nodes
 * through it (interp_node).
 *
 * Kernels receive the node (shapes and attributes are static and known) and
 * raw buffers laid out in C order with the tensor's dtype.  Kernels compute
 * floats in double and integers in int64 where that keeps them obviously
 * right; the accessors in runtime/kernels/kutil.h do the conversions.
 */
#ifndef MODELC_INTERP_H
#define MODELC_INTERP_H

#include "../compiler/ir/ir.h"

typedef struct interp_ctx {
  ir_graph *g;
  void **val;          /* per tensor id: its value (constants point at t->data) */
  unsigned char *own;  /* per tensor id: 1 when val[] was allocated here */
  int n;
  const struct interp_ctx *parent;  /* a subgraph's run: where outer tensors live */
} interp_ctx;

/* Run g.  inputs[i] is the data of g->inputs[i] (C order, its dtype).
 * Every tensor's value stays readable through interp_value until
 * interp_free.  Returns -1 with ir_error() set (naming the node) on failure. */
int interp_run(interp_ctx *c, ir_graph *g, const void *const *inputs);
/* Run subgraph g (an If branch, a loop body) inside the run `parent`, whose
 * tensors g may read; inputs as for interp_run.  Free with interp_free. */
int interp_run_sub(interp_ctx *c, ir_graph *g, const interp_ctx *parent, const void *const *inputs);
/* Value of t after interp_run (or in a parent run), NULL if it was never computed. */
void *interp_value(const interp_ctx *c, const ir_tensor *t);
void interp_free(interp_ctx *c);

/* One training step of g, a graph built by the train pass
 * (compiler/passes/train.c): run it on inputs (g->inputs, labels last), set
 * *loss (when not NULL) to the loss, then make every target of g->updates
 * hold its value: the parameters and optimizer state in their tensors' data
 * are those after the step, so K calls run K steps. */
int interp_train_step(ir_graph *g, const void *const *inputs, double *loss);

/* Run one node whose input values are given; out[j] must hold
 * ir_nbytes(n->out[j]) bytes.  Used by constant folding. */
int interp_node(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);

#endif
