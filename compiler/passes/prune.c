/*
 * prune.c - optional outputs nothing reads are left unwritten.
 *
 * require: nodes bound to their ops; subgraphs' reads of outer tensors
 *          visible to ir_mark_subgraph_reads.
 * guarantee: an output past min_out of an op with OP_OPTIONAL_OUTPUTS that
 *          no node, subgraph, graph output or training update reads is
 *          dropped (NULL, as ONNX's empty output name), so its kernel does
 *          not write it and the planner gives it no bytes: the GRU net's
 *          Y, every step's hidden state, when a Gather of Y_h is all that is
 *          used.  Unreferenced tensors are gone afterwards.
 * An optimizing pass (`--no-prune`): it changes what the model's own graph
 * keeps, so the yardstick of `modelc info` is taken without it.
 */
#include "passes.h"
#include "../ops/op.h"

#include <stdlib.h>

int pass_prune(ir_graph *g) {
  int nt = g->n_tensors, dropped = 0;
  int *read = malloc(sizeof(int) * (size_t)(nt + 1));
  if (!read) return ir_error("prune: out of memory");
  /* 1. everything read: node inputs, subgraphs, outputs, updates, the loss */
  for (int i = 0; i < nt; i++) read[i] = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    const ir_node *n = g->nodes[k];
    if (n->dead) continue;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && ir_owns(g, n->in[i])) read[n->in[i]->id] = k;
    for (int a = 0; a < n->n_attr; a++)
      if (n->attrs[a].type == IR_ATTR_GRAPH && n->attrs[a].g) ir_mark_subgraph_reads(g, n->attrs[a].g, k, read);
  }
  for (int i = 0; i < g->n_outputs; i++) read[g->outputs[i]->id] = g->n_nodes;
  for (int i = 0; i < g->n_updates; i++) read[g->updates[i].target->id] = read[g->updates[i].value->id] = g->n_nodes;
  if (g->loss) read[g->loss->id] = g->n_nodes;
  /* 2. drop the optional outputs nobody reads */
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->dead || !n->op || !(n->op->flags & OP_OPTIONAL_OUTPUTS)) continue;
    for (int j = n->op->min_out; j < n->n_out; j++) {
      ir_tensor *t = n->out[j];
      if (!t || !ir_owns(g, t) || read[t->id] >= 0) continue;
      if (t->producer == n) t->producer = NULL;
      n->out[j] = NULL;
      dropped++;
    }
  }
  free(read);
  if (dropped) ir_graph_compact(g);
  return 0;
}
