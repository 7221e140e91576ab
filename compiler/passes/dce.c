/*
 * dce.c - dead-node elimination.
 *
 * require: nodes in topological order.
 * guarantee: every remaining node has at least one output that a graph
 *          output, the training loss or an update's value (ir_kept) depends
 *          on; tensors nobody references are gone.
 * Walks the schedule backwards marking what the outputs need.
 */
#include "passes.h"

#include <stdlib.h>

int pass_dce(ir_graph *g) {
  unsigned char *need = ir_alloc((size_t)g->n_tensors + 1);
  for (int i = 0; i < g->n_tensors; i++) need[i] = (unsigned char)ir_kept(g, g->tensors[i]);
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    ir_node *n = g->nodes[k];
    int live = 0;
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j] && need[n->out[j]->id]) live = 1;
    if (!live) {
      n->dead = 1;
      continue;
    }
    for (int i = 0; i < n->n_in; i++) {
      ir_tensor *t = n->in[i];
      if (ir_owns(g, t)) need[t->id] = 1;
    }
  }
  free(need);
  ir_graph_compact(g);
  return 0;
}
