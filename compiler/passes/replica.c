/*
 * replica.c - row replicas (plan.h): which activations the parallel parts
 * of nodes that each write whole rows hand to one another, and the rows
 * each part needs of them.
 *
 * A convolution cut into parts over its output rows (op_def.part_rows)
 * writes rows [a, b) of its output in part p, and the next one's part p
 * reads rows [a - 1, b + 1) or so: all but a halo row or two were written
 * by the same part, on the same core.  When the parts share one copy of the
 * tensor, the cores' caches still trade lines all the time (the halo, and
 * the lines next to it that the prefetchers take along, then the writes
 * that have to take them back): ResNet-8 at two threads spent 20 us of its
 * 155 on that, measured by giving the second thread a private arena (138
 * us, wrong halos) and then the same with the halos copied over after each
 * node (143 us, right).  So such a tensor gets a copy per part: part p
 * writes its rows into its own copy, and after the node each part copies
 * the few rows it reads but another part wrote (kl_par_rows_exchange).
 * A node that reads the tensor otherwise (whole, or in parts of another
 * kind: ResNet-8's global pooling) reads part 0's copy, into which the
 * other parts then copy their rows too.
 *
 * require: g->nodes is the schedule and every shape is known; op_def.part_rows
 *          answers from the node alone (its attributes, the planner's
 *          scratch cap among them), so that the planner (step 8) and the
 *          emitter, asking at different times, get the same rows.
 */
#include "plan.h"
#include "../ops/op.h"

#include <string.h>

/* n's part rows, when it is a live node cut into two or more parts over its output rows. */
static int rows_of(const ir_node *n, op_part_rows *r) {
  return n && !n->dead && n->op && n->op->part_rows && n->op->part_rows(n, r) && r->parts >= 2;
}

/* Whether n reads t by rows in `parts` parts, its part rows in *cr. */
static int by_rows(const ir_node *n, const ir_tensor *t, int parts, op_part_rows *cr) {
  int ok = rows_of(n, cr) && cr->parts == parts;
  for (int k = 0; k < n->n_in && ok; k++)
    for (int p = 0; n->in[k] == t && ok && p < parts; p++) ok = k < OP_ROWS_IN && cr->in[k][p][0] >= 0;
  return ok;
}

int replica_read_by_rows(const ir_node *n, const ir_tensor *t) {
  op_part_rows pr, cr;
  return t && t->replicated && rows_of(t->producer, &pr) && by_rows(n, t, pr.parts, &cr);
}

int replica_rows(const ir_graph *g, const ir_tensor *t, replica_rows_t *r) {
  op_part_rows pr, cr;
  const ir_node *prod = t->producer;
  memset(r, 0, sizeof *r);
  if (g->loss || !prod || prod->n_out < 1 || prod->out[0] != t || !plan_in_arena(t) || t->dtype != IR_F32 ||
      t->rank != 4 || t->shape[0] != 1 || !rows_of(prod, &pr))
    return 0;
  for (int p = 0; p < pr.parts; p++) {
    r->own[p][0] = pr.out[p][0], r->own[p][1] = pr.out[p][1];
    r->need[p][0] = pr.out[p][0], r->need[p][1] = pr.out[p][1];
  }
  for (int s = 0; s < g->n_nodes; s++) {
    const ir_node *n = g->nodes[s];
    int reads = 0;
    if (n->dead) continue;
    for (int k = 0; k < n->n_attr; k++)
      if (n->attrs[k].type == IR_ATTR_GRAPH) return 0;   /* a subgraph may read t: every row of it */
    for (int k = 0; k < n->n_in; k++) reads |= n->in[k] == t;
    if (!reads) continue;
    if (!by_rows(n, t, pr.parts, &cr)) {   /* it reads part 0's copy, which must then hold every row */
      r->whole = 1;
      continue;
    }
    for (int k = 0; k < n->n_in; k++)
      for (int p = 0; n->in[k] == t && p < pr.parts; p++) {
        const int64_t *in = cr.in[k][p];
        if (in[1] <= in[0]) continue;
        if (in[0] < r->need[p][0]) r->need[p][0] = in[0];
        if (in[1] > r->need[p][1]) r->need[p][1] = in[1];
      }
    r->row_readers++;
  }
  r->parts = pr.parts;
  return r->parts;
}
