/*
 * identity.c - Identity and inference Dropout removed.
 *
 * require: graph inferred and topologically sorted, nodes bound; no node
 *          holds a subgraph.
 * guarantee: every Identity, and every inference Dropout (or one with
 *          ratio 0) whose mask output nobody uses (it passes its input
 *          through), is gone when that is possible without renaming a
 *          graph output or input: its readers read its input instead; or,
 *          when its output is a graph output, the node computing its input
 *          writes that output directly (its input's other readers follow).
 *          A node whose output names a runtime If's condition ("_guard"),
 *          or that stands under a guard itself, stays.  An output that is
 *          the graph input itself keeps its Identity (the caller's buffers
 *          differ).
 */
#include "passes.h"
#include "../ops/op.h"
#include "../ops/ops_random.h"

#include <string.h>

static int is_passthrough(const ir_node *n) {
  if (*n->domain || n->n_in < 1 || !n->in[0] || n->n_out < 1 || !n->out[0]) return 0;
  if (!strcmp(n->op_type, "Identity")) return 1;
  double ratio;
  if (strcmp(n->op_type, "Dropout") || ops_dropout_trains(n, &ratio)) return 0;   /* training draws a mask */
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j]) return 0;   /* the mask is wanted */
  return 1;
}

/* Is t the condition some guarded node names? */
static int names_guard(const ir_graph *g, const ir_tensor *t) {
  for (int k = 0; k < g->n_nodes; k++) {
    const ir_attr *a = ir_attr_find(g->nodes[k], "_guard");
    for (int i = 0; a && i < a->n; i++)
      if (!strcmp(a->strings[i] + 1, t->name)) return 1;
  }
  return 0;
}

int pass_identity(ir_graph *g, const pass_options *o) {
  (void)o;
  int removed = 0;
  if (ir_graph_has_subgraphs(g)) return 0;   /* outer reads by name: left alone */
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->dead || !is_passthrough(n) || ir_attr_find(n, "_guard")) continue;
    ir_tensor *x = n->in[0], *y = n->out[0];
    if (names_guard(g, y) || names_guard(g, x) || x->dtype != y->dtype) continue;
    if (y == g->loss || (ir_kept(g, y) && !y->is_output)) continue;   /* a training step's loss or update value */
    if (!y->is_output) {
      /* 1. readers of y read x */
      ir_replace_uses(g, y, x);
      n->dead = 1;
      removed++;
      continue;
    }
    /* 2. y is a graph output: x's producer writes y, x's readers read y */
    ir_node *p = x->producer;
    if (!p || p->dead || x->is_output || x->role != IR_ACTIVATION || ir_attr_find(p, "_guard")) continue;
    int j = 0;
    while (j < p->n_out && p->out[j] != x) j++;
    if (j == p->n_out) continue;
    n->dead = 1;
    ir_replace_uses(g, x, y);
    p->out[j] = y;
    y->producer = p;
    removed++;
  }
  if (removed) ir_graph_compact(g);
  return 0;
}
