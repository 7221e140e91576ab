/*
 * gradient.c - expansion of ONNX's Gradient op (ai.onnx.preview.training)
 * into the backward nodes that autodiff.c builds; the op table's expand
 * hook for Gradient, called by pass_infer when its sweep reaches one.
 *
 * require: the Gradient's inputs (xs and zs) are inferred; the tensor y
 *          it differentiates is computed by the graph.
 * guarantee: when the node computing y stands after the Gradient, the
 *          Gradient moves to just after it first (inference goes on from
 *          the node that took its place); once y is inferred, the Gradient
 *          is dead and its outputs are written by the backward nodes,
 *          which stand right after it, before any reader of the gradients.
 */
#include "passes.h"
#include "autodiff.h"
#include "../ops/op.h"

/* ONNX's Gradient at position k.  Its inputs are only xs and zs, so it may
 * stand before the node computing y: then it moves to just after that node.
 * Once there, the backward nodes (autodiff.c) are built, moved to stand
 * right after it, so that readers of the gradients come later, and the
 * Gradient is dropped. */
static int expand_gradient(ir_graph *g, int k) {
  ir_node *n = g->nodes[k];
  const char *yname = ir_attr_string(n, "y", "");
  ir_tensor *y = ir_lookup_tensor(g, yname);
  if (!y) return op_fail(n, "y names no tensor ('%s')", yname);
  if (y->producer && !y->producer->dead && y->producer->id > k) {
    for (int j = 0; j < n->n_out; j++)   /* deeper dependencies are cycles, refused by toposort */
      if (n->out[j] == y) return op_fail(n, "y '%s' is one of the Gradient's own outputs", yname);
    int p = y->producer->id;
    ir_graph_move_nodes(g, k + 1, p + 1, k);   /* nodes k+1..p shift down; the Gradient lands at p */
    return 0;
  }
  if (pass_check_known(n, y) < 0) return -1;
  ir_tensor *xs[64], *outs[64] = {0};
  int nx = ir_attr_find(n, "xs")->n;
  if (nx > 64) return op_fail(n, "more than 64 tensors in xs");
  for (int i = 0; i < nx; i++) xs[i] = n->in[i];
  for (int j = 0; j < n->n_out; j++) outs[j] = n->out[j];
  int n0 = g->n_nodes;
  n->dead = 1;   /* its outputs are written by the appended nodes from now on */
  if (autodiff(g, k, y, nx, xs, outs) < 0) return -1;
  ir_graph_move_nodes(g, n0, g->n_nodes, k + 1);
  return 0;
}

int pass_expand_gradient(ir_graph *g, int k, const pass_options *o, int *next) {
  (void)o;
  if (pass_inputs_known(g->nodes[k]) < 0 || expand_gradient(g, k) < 0) return -1;
  *next = k;     /* k now holds the node that moved there, or the dead Gradient */
  return 1;
}

