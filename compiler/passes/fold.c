/*
 * fold.c - constant folding: a node whose inputs are all compile-time
 * constants is run once by the interpreter's kernel and its outputs become
 * constants.
 *
 * require: the node is bound to its op and inferred (its outputs have
 *          dtypes and static shapes).
 * guarantee: a folded node is dead and its outputs are IR_CONST tensors
 *          with data and no producer.  Integer and bool results (shape
 *          arithmetic: Shape -> Gather -> Concat -> Reshape) always fold;
 *          float results only when o->fold.  Nodes marked OP_NO_FOLD never
 *          fold.  Folded bytes count against the graph's --max-bytes.
 *          Only pass_is_const tensors count as constants: when training,
 *          float parameters change every step, and state (is_state, IR_OPTSTATE)
 *          always.
 *
 * Folding runs node by node inside the inference sweep (pass_infer calls
 * pass_fold_node after inferring each node) because inference needs the
 * folded values: a Reshape's output shape is the value its shape input got
 * from folding.  pass_fold is the same rule as a pass of its own, for
 * graphs that later passes left with constant-only nodes.
 */
#include "passes.h"
#include "../ops/op.h"
#include "../../runtime/interp.h"

#include <stdlib.h>
#include <string.h>

/* Evaluate node n now; all its inputs are constants. */
static int fold(ir_node *n) {
  const void *in[64];
  void *out[64];
  if (n->n_in > 64 || n->n_out > 64) return 0;
  for (int i = 0; i < n->n_in; i++) in[i] = n->in[i] ? n->in[i]->data : NULL;
  for (int j = 0; j < n->n_out; j++) out[j] = n->out[j] ? ir_alloc((size_t)ir_nbytes(n->out[j])) : NULL;
  interp_ctx c;
  memset(&c, 0, sizeof c);
  int rc = n->op->interp(&c, n, in, out);
  for (int j = 0; j < n->n_out; j++) {
    ir_tensor *t = n->out[j];
    if (!t) continue;
    if (rc == 0) {
      free(t->data);
      t->data = out[j];
      t->role = IR_CONST;
      t->producer = NULL;
    } else {
      free(out[j]);
    }
  }
  if (rc == 0) n->dead = 1;
  return rc;
}

int pass_is_const(const ir_tensor *t, const pass_options *o) {
  if (!t->data || t->role == IR_OPTSTATE || t->is_state) return 0;
  return !(o->training && t->role == IR_PARAM && ir_dtype_is_float(t->dtype));
}

static int foldable(const ir_node *n, const pass_options *o) {
  if (!n->op->interp || (n->op->flags & OP_NO_FOLD)) return 0;
  if (n->op->flags & OP_SHAPE_ONLY) return 1;   /* kernels read no input data */
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && !pass_is_const(n->in[i], o)) return 0;
  if (o->fold) return 1;
  for (int j = 0; j < n->n_out; j++)   /* without --fold: shape arithmetic only */
    if (n->out[j] && ir_dtype_is_float(n->out[j]->dtype)) return 0;
  return 1;
}

int pass_fold_node(ir_graph *g, ir_node *n, const pass_options *o, int64_t *folded) {
  if (!foldable(n, o)) return 0;
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j]) *folded += ir_nbytes(n->out[j]);
  if (*folded > pass_max_bytes(g))
    return op_fail(n, "constant-folded tensors exceed the limit of %lld bytes (--max-bytes)",
                   (long long)pass_max_bytes(g));
  return fold(n) < 0 ? -1 : 1;
}

int pass_fold(ir_graph *g, const pass_options *o) {
  int64_t folded = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (!n->dead && pass_fold_node(g, n, o, &folded) < 0) return -1;
  }
  ir_graph_compact(g);
  return 0;
}
