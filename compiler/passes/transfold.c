/*
 * transfold.c - a 2-D Transpose folded into the Gemm that reads it.
 *
 * require: graph inferred and topologically sorted, nodes bound.
 * guarantee: a Transpose of a 2-D tensor (perm [1, 0]) whose output only
 *          input 0 or input 1 of one Gemm reads is gone: the Gemm reads the
 *          Transpose's input and flips transA or transB, so the kernel walks
 *          the operand with swapped strides instead of a copy being made.
 *          Under a runtime If's guard nothing changes.
 */
#include "passes.h"
#include "../ops/op.h"

#include <string.h>

int pass_transfold(ir_graph *g, const pass_options *o) {
  (void)o;
  if (ir_graph_has_subgraphs(g)) return 0;   /* outer reads by name: left alone */
  ir_uses u;
  ir_uses_build(g, &u);
  int folded = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *t = g->nodes[k];
    if (t->dead || !ir_node_is(t, "Transpose") || ir_attr_find(t, "_guard") || !t->out[0] || t->in[0]->rank != 2) continue;
    const int64_t *perm;
    if (ir_attr_ints(t, "perm", &perm) == 2 && !(perm[0] == 1 && perm[1] == 0)) continue;
    const ir_tensor *y = t->out[0];
    if (ir_uses_count(&u, y) != 1 || u.output[y->id]) continue;
    ir_node *m = ir_uses_of(&u, y)[0];
    if (m->dead || !ir_node_is(m, "Gemm") || ir_attr_find(m, "_guard")) continue;
    int slot = m->in[0] == y ? 0 : m->in[1] == y ? 1 : -1;
    if (slot < 0 || (m->in[0] == y && m->in[1] == y)) continue;
    const char *attr = slot == 0 ? "transA" : "transB";
    ir_attr_set_int(m, attr, !ir_attr_int(m, attr, 0));
    m->in[slot] = t->in[0];
    t->dead = 1;
    folded++;
  }
  ir_uses_free(&u);
  if (folded) ir_graph_compact(g);
  return 0;
}
