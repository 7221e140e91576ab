/*
 * schedule.c - a topological order chosen to lower the bytes live at once.
 *
 * require: graph topologically sorted (g->nodes), shapes known, no node
 *          holding a subgraph or a runtime If's guard (those read tensors
 *          by name; such graphs keep their order).
 * guarantee: g->nodes is a topological order whose peak of live arena
 *          bytes (plan_in_arena tensors, from their producer's step to
 *          their last reader's) is at most that of the order it was given;
 *          ids are renumbered.
 *
 * Greedy list scheduling: among the nodes whose inputs are ready, run the
 * one that frees the most bytes net of what it allocates (its inputs it is
 * the last reader of, minus its outputs), ties to the earlier node of the
 * given order, so that a chain is finished before a new branch is opened.
 * In a training step, each node writing an update into its target
 * (ir_tensor.stored_in: the optimizer's) then moves, in both orders, to
 * right after the last node it must follow (place_writers): its gradient
 * dies as early as it can, and nothing reads the target after it.  The
 * greedy order is kept only when its peak is lower than the given order's.
 * Cost: O(nodes x ready nodes x inputs).
 */
#include "passes.h"
#include "plan.h"

#include <stdlib.h>

static int64_t arena_bytes(const ir_graph *g, const ir_tensor *t) {
  return ir_owns(g, t) && plan_in_arena(t) && ir_shape_known(t) ? ir_nbytes(t) : 0;
}

/* Peak live arena bytes of running order[0..n) (readers[t]: live reader count). */
static int64_t peak_of(const ir_graph *g, ir_node **order, int n, const int *readers) {
  int *left = malloc(sizeof(int) * (size_t)(g->n_tensors + 1));
  int64_t live = 0, peak = 0;
  for (int i = 0; i < g->n_tensors; i++) left[i] = readers[i];
  for (int s = 0; s < n; s++) {
    ir_node *nd = order[s];
    for (int j = 0; j < nd->n_out; j++) live += arena_bytes(g, nd->out[j]);
    if (live > peak) peak = live;
    for (int j = 0; j < nd->n_out; j++)
      if (ir_owns(g, nd->out[j]) && readers[nd->out[j]->id] == 0) live -= arena_bytes(g, nd->out[j]);
    for (int i = 0; i < nd->n_in; i++) {
      ir_tensor *t = nd->in[i];
      int dup = 0;
      for (int q = 0; q < i; q++) dup |= nd->in[q] == t;
      if (!ir_owns(g, t) || dup) continue;
      if (--left[t->id] == 0) live -= arena_bytes(g, t);
    }
  }
  free(left);
  return peak;
}

/* Bytes node nd frees minus bytes it allocates, given left[] readers. */
static int64_t gain(const ir_graph *g, const ir_node *nd, const int *left) {
  int64_t v = 0;
  for (int j = 0; j < nd->n_out; j++) v -= arena_bytes(g, nd->out[j]);
  for (int i = 0; i < nd->n_in; i++) {
    const ir_tensor *t = nd->in[i];
    int dup = 0;
    for (int q = 0; q < i; q++) dup |= nd->in[q] == t;
    if (ir_owns(g, t) && !dup && left[t->id] == 1) v += arena_bytes(g, t);
  }
  return v;
}

/* Does q have to run before p, which writes into the targets of its
 * stored_in outputs?  q computes an input of p, or reads a target or
 * computes the loss (ir_reads_before_write). */
static int writer_after(const ir_graph *g, const ir_node *p, const ir_node *q) {
  for (int j = 0; j < q->n_out; j++)
    for (int i = 0; q->out[j] && i < p->n_in; i++)
      if (p->in[i] == q->out[j]) return 1;
  for (int j = 0; j < p->n_out; j++)
    if (p->out[j] && p->out[j]->stored_in && ir_reads_before_write(g, q, p->out[j]->stored_in)) return 1;
  return 0;
}

/* Move each node of order[0..n) that writes an update in place (an output
 * with stored_in that no node reads) to right after the last node it must
 * follow (writer_after).  Cost: O(writers x nodes x inputs). */
static void place_writers(const ir_graph *g, ir_node **order, int n, const ir_uses *u) {
  for (int k = 0; k < n; k++) {
    const ir_node *p = g->nodes[k];
    int writes = 0, read = 0, at = -1, last = -1;
    for (int j = 0; j < p->n_out; j++)
      if (p->out[j] && p->out[j]->stored_in) writes = 1, read |= ir_uses_count(u, p->out[j]) > 0;
    if (!writes || read) continue;
    for (int s = 0; s < n; s++) {
      if (order[s] == p) at = s;
      else if (writer_after(g, p, order[s])) last = s;
    }
    if (at < 0) continue;
    ir_node *mv = order[at];
    if (last < at) {   /* earlier: to last + 1 */
      for (int s = at; s > last + 1; s--) order[s] = order[s - 1];
      order[last + 1] = mv;
    } else {           /* later: to last */
      for (int s = at; s < last; s++) order[s] = order[s + 1];
      order[last] = mv;
    }
  }
}

int pass_schedule(ir_graph *g, const pass_options *o) {
  (void)o;
  int nn = g->n_nodes, nt = g->n_tensors;
  for (int k = 0; k < nn; k++)
    if (g->nodes[k]->dead || ir_node_has_subgraph(g->nodes[k]) || ir_attr_find(g->nodes[k], "_guard")) return 0;
  /* 1. readers per tensor and unmet inputs per node */
  ir_uses u;
  ir_uses_build(g, &u);
  int *readers = malloc(sizeof(int) * (size_t)(nt + 1)), *left = malloc(sizeof(int) * (size_t)(nt + 1));
  int *wait = calloc((size_t)nn + 1, sizeof(int)), *ready = malloc(sizeof(int) * (size_t)(nn + 1));
  ir_node **order = malloc(sizeof(ir_node *) * (size_t)(nn + 1));
  for (int i = 0; i < nt; i++) readers[i] = left[i] = ir_uses_count(&u, g->tensors[i]);
  for (int k = 0; k < nn; k++) {
    ir_node *nd = g->nodes[k];
    for (int i = 0; i < nd->n_in; i++) {
      ir_tensor *t = nd->in[i];
      int dup = 0;
      for (int q = 0; q < i; q++) dup |= nd->in[q] == t;
      if (!dup && ir_owns(g, t) && t->producer && !t->producer->dead) wait[k]++;
    }
  }
  /* 2. greedy: the ready node with the best gain, earliest on ties */
  int nready = 0, m = 0;
  for (int k = 0; k < nn; k++)
    if (!wait[k]) ready[nready++] = k;
  while (nready > 0) {
    int best = 0;
    int64_t bg = gain(g, g->nodes[ready[0]], left);
    for (int r = 1; r < nready; r++) {
      int64_t v = gain(g, g->nodes[ready[r]], left);
      if (v > bg || (v == bg && ready[r] < ready[best])) best = r, bg = v;
    }
    ir_node *nd = g->nodes[ready[best]];
    ready[best] = ready[--nready];
    order[m++] = nd;
    for (int i = 0; i < nd->n_in; i++) {
      ir_tensor *t = nd->in[i];
      int dup = 0;
      for (int q = 0; q < i; q++) dup |= nd->in[q] == t;
      if (ir_owns(g, t) && !dup) left[t->id]--;
    }
    for (int j = 0; j < nd->n_out; j++) {   /* readers of the outputs may become ready */
      ir_tensor *t = nd->out[j];
      if (!ir_owns(g, t)) continue;
      ir_node *const *rd = ir_uses_of(&u, t);
      for (int r = 0; r < ir_uses_count(&u, t); r++)
        if (--wait[rd[r]->id] == 0) ready[nready++] = rd[r]->id;
    }
  }
  int rc = 0;
  ir_node **given = malloc(sizeof(ir_node *) * (size_t)(nn + 1));
  for (int k = 0; k < nn; k++) given[k] = g->nodes[k];
  if (m != nn) {
    rc = ir_error("scheduling: %d of %d nodes could not be ordered (a cycle?)", nn - m, nn);
  } else {
    place_writers(g, order, nn, &u);
    place_writers(g, given, nn, &u);
    ir_node **pick = peak_of(g, order, nn, readers) < peak_of(g, given, nn, readers) ? order : given;
    for (int k = 0; k < nn; k++) {
      g->nodes[k] = pick[k];
      g->nodes[k]->id = k;
    }
  }
  free(given);
  ir_uses_free(&u);
  free(readers);
  free(left);
  free(wait);
  free(ready);
  free(order);
  return rc;
}
