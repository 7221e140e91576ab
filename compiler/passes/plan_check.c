/*
 * plan_check.c - an independent check of a memory plan (plan.h).
 *
 * require: g planned (pass_plan): offsets on arena tensors, scratch offsets
 *          on nodes, g->arena_bytes.
 * guarantee: returns 0 only when every arena tensor and scratch area is
 *          PLAN_ALIGN-aligned and inside the arena; no arena tensor is read
 *          at or before its producer's step; and any two areas that share a
 *          byte while both are live are one tensor's bytes handed on: the
 *          same offset and size, the newer made from the older through a
 *          chain of producers writing over an input, and, unless every link of the chain
 *          is an alias (the same values relabelled), the older is not read
 *          after the newer is written.
 *
 * It recomputes lifetimes from the schedule itself and trusts nothing the
 * planner kept, so the planner runs it on its own result (plan.c) and the
 * tests run it on every model.  Areas are sorted by offset so that only
 * pairs that share bytes are compared.
 */
#include "plan.h"
#include "../ops/op.h"

#include <stdlib.h>

typedef struct area {
  int64_t off, size;
  int start, end;         /* steps, inclusive */
  const ir_tensor *t;     /* NULL: the scratch of node n */
  const ir_node *n;
} area;

static int by_off(const void *pa, const void *pb) {
  const area *a = pa, *b = pb;
  if (a->off != b->off) return a->off < b->off ? -1 : 1;
  return a->start < b->start ? -1 : a->start > b->start;
}

/* The input of t's producer whose bytes t was written onto, else NULL. */
static const ir_tensor *link(const ir_graph *g, const ir_node *const *prod, const ir_tensor *t) {
  const ir_node *p = prod[t->id];
  for (int k = 0; p && k < p->n_in; k++)
    if (ir_owns(g, p->in[k]) && plan_in_arena(p->in[k]) && p->in[k]->offset == t->offset) return p->in[k];
  return NULL;
}

/* Do a and b descend, through links on the same bytes, from one
 * tensor?  *impure_a / *impure_b: a link on that side is not an alias op. */
static int common_root(const ir_graph *g, const ir_node *const *prod, const ir_tensor *a, const ir_tensor *b,
                       int *impure_a, int *impure_b) {
  int ia = 0;
  for (const ir_tensor *x = a; x; ia |= !(prod[x->id]->op && (prod[x->id]->op->flags & OP_ALIAS)),
       x = link(g, prod, x)) {
    int ib = 0;
    for (const ir_tensor *y = b; y; ib |= !(prod[y->id]->op && (prod[y->id]->op->flags & OP_ALIAS)),
         y = link(g, prod, y))
      if (x == y) {
        *impure_a = ia;
        *impure_b = ib;
        return 1;
      }
  }
  return 0;
}

static int check_pair(const ir_graph *g, const ir_node *const *prod, const area *a, const area *b) {
  if (a->end < b->start || b->end < a->start) return 0;   /* never live together */
  if (a->size == 0 || b->size == 0) return 0;             /* no bytes to share */
  const char *na = a->t ? a->t->name : a->n->name, *nb = b->t ? b->t->name : b->n->name;
  if (!a->t || !b->t || a->off != b->off || a->size != b->size || a->start == b->start)
    return ir_error("memory plan: '%s' [%lld, +%lld) and '%s' [%lld, +%lld) overlap while both are live", na,
                    (long long)a->off, (long long)a->size, nb, (long long)b->off, (long long)b->size);
  const area *old = a->start < b->start ? a : b, *neu = old == a ? b : a;
  int impure_old, impure_new;
  if (!common_root(g, prod, old->t, neu->t, &impure_old, &impure_new))
    return ir_error("memory plan: '%s' and '%s' share bytes while both are live but neither is made from the other",
                    old->t->name, neu->t->name);
  if (impure_new && old->end > neu->start)
    return ir_error("memory plan: '%s' is read at step %d after '%s' overwrote its bytes in place at step %d",
                    old->t->name, old->end, neu->t->name, neu->start);
  return 0;
}

int plan_check(const ir_graph *g) {
  int nt = g->n_tensors, nn = g->n_nodes, na = 0, rc = 0;
  int *write = malloc(sizeof(int) * (size_t)(nt + 1)), *last = malloc(sizeof(int) * (size_t)(nt + 1));
  const ir_node **prod = calloc((size_t)nt + 1, sizeof *prod);
  area *as = malloc(sizeof(area) * (size_t)(nt * (g->replicas > 1 ? g->replicas : 1) + 2 * nn + 1));
  if (!write || !last || !prod || !as) {
    rc = ir_error("plan check: out of memory");
    goto out;
  }
  /* 1. writes and reads from the schedule */
  for (int i = 0; i < nt; i++) write[i] = last[i] = -1;
  for (int s = 0; s < nn && rc == 0; s++) {
    const ir_node *n = g->nodes[s];
    if (n->dead) continue;
    for (int k = 0; k < n->n_in && rc == 0; k++) {
      const ir_tensor *t = n->in[k];
      if (!ir_owns(g, t)) continue;
      if (plan_in_arena(t) && (write[t->id] < 0 || write[t->id] >= s))
        rc = ir_error("memory plan: node '%s' reads '%s' before any node writes it", n->name, t->name);
      last[t->id] = s;
    }
    for (int k = 0; k < n->n_attr; k++)
      if (n->attrs[k].type == IR_ATTR_GRAPH && n->attrs[k].g) ir_mark_subgraph_reads(g, n->attrs[k].g, s, last);
    for (int k = 0; k < n->n_out; k++)
      if (ir_owns(g, n->out[k]) && write[n->out[k]->id] < 0) write[n->out[k]->id] = s, prod[n->out[k]->id] = n;
  }
  ir_mark_step_end_reads(g, nn, last);   /* a step's updates and loss: read after the last node */
  /* 2. the areas: arena tensors and scratch, aligned and inside the arena */
  for (int i = 0; i < nt && rc == 0; i++) {
    const ir_tensor *t = g->tensors[i];
    if (!plan_in_arena(t) || write[i] < 0) continue;
    area *a = &as[na++];
    a->off = t->offset;
    a->size = ir_nbytes(t);
    a->start = write[i];
    a->end = last[i] > write[i] ? last[i] : write[i];
    a->t = t;
    a->n = NULL;
    /* its row replicas (plan.h): the same area again in every part's copy */
    if (t->replicated && (g->replicas < 2 || g->replicas > OP_PARTS_MAX || t->offset + a->size > g->replica_stride))
      rc = ir_error("memory plan: '%s' has row replicas but lies past their stride of %lld bytes (or there are none)",
                    t->name, (long long)g->replica_stride);
    for (int p = 1; t->replicated && rc == 0 && p < g->replicas; p++) {
      area *c = &as[na++];
      *c = *a;
      c->off = g->replica_base + (p - 1) * g->replica_stride + t->offset;
    }
  }
  if (rc == 0 && g->replicas > 1 && (g->replica_base % PLAN_PAGE || g->replica_stride % PLAN_PAGE))
    rc = ir_error("memory plan: the row replicas are not on whole pages");
  for (int s = 0; s < nn && rc == 0; s++) {
    const ir_node *n = g->nodes[s];
    int64_t bytes = plan_own_scratch(n);
    int parts = 0;
    if (bytes > 0) {
      area *a = &as[na++];
      a->off = ir_attr_int(n, PLAN_SCRATCH_ATTR, -1);
      a->size = bytes;
      a->start = a->end = s;
      a->t = NULL;
      a->n = n;
    }
    if (ir_attr_find(n, PLAN_PARTS_ATTR) && n->op->part_bytes && n->op->part_bytes(n, &parts) > 0) {
      area *a = &as[na++];   /* the node's slices in the parts area */
      a->off = ir_attr_int(n, PLAN_PARTS_ATTR, -1);
      a->size = parts * ir_attr_int(n, PLAN_PART_STRIDE_ATTR, 0);
      a->start = a->end = s;
      a->t = NULL;
      a->n = n;
      if (a->off % PLAN_PAGE || ir_attr_int(n, PLAN_PART_STRIDE_ATTR, 0) < n->op->part_bytes(n, &parts))
        rc = ir_error("memory plan: node '%s' (%s): its parts' slices are off whole pages or smaller than asked",
                      n->name, n->op_type);
    }
  }
  for (int i = 0; i < na && rc == 0; i++) {
    const area *a = &as[i];
    if (a->off < 0 || a->off % PLAN_ALIGN || a->off + a->size > g->arena_bytes)
      rc = ir_error("memory plan: '%s' at offset %lld (%lld bytes) is unaligned or outside the arena of %lld bytes",
                    a->t ? a->t->name : a->n->name, (long long)a->off, (long long)a->size,
                    (long long)g->arena_bytes);
  }
  /* 3. every pair sharing bytes */
  if (rc == 0 && na > 1) qsort(as, (size_t)na, sizeof *as, by_off);
  for (int i = 0; i < na && rc == 0; i++)
    for (int j = i + 1; j < na && as[j].off < as[i].off + as[i].size && rc == 0; j++)
      rc = check_pair(g, prod, &as[i], &as[j]);
out:
  free(write);
  free(last);
  free(prod);
  free(as);
  return rc;
}
