/*
 * ir_surgery.c - graph surgery that more than one pass needs, written once:
 * whether a graph owns a tensor, moving a tensor into another graph,
 * copying an attribute, rewiring the readers of a tensor, and def-use
 * (consumer) lists.
 *
 * Def-use lists are a snapshot: ir_uses_build counts, for every tensor of
 * g, the live nodes reading it (a node reading a tensor twice is listed
 * once; a node whose subgraph reads an outer tensor counts as its reader)
 * and whether it is a graph output.  A pass that rewires the graph either
 * rebuilds them or keeps them current itself; nothing here updates them
 * behind its back.
 */
#include "ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ir_owns(const ir_graph *g, const ir_tensor *t) {
  return t && t->id >= 0 && t->id < g->n_tensors && g->tensors[t->id] == t;
}

void ir_adopt_tensor(ir_graph *g, ir_tensor *t) {
  if (ir_lookup_tensor(g, t->name)) {
    size_t len = strlen(t->name) + 24;
    char *name = ir_alloc(len);
    for (int k = 1;; k++) {
      snprintf(name, len, "%s_%d", t->name, k);
      if (!ir_lookup_tensor(g, name)) break;
    }
    free(t->name);
    t->name = name;
  }
  if (g->n_tensors == g->cap_tensors) {
    g->cap_tensors = g->cap_tensors ? 2 * g->cap_tensors : 64;
    g->tensors = ir_realloc(g->tensors, (size_t)g->cap_tensors * sizeof *g->tensors);
  }
  t->id = g->n_tensors;
  t->is_output = 0;
  g->tensors[g->n_tensors++] = t;
}

void ir_attr_copy(ir_attr *d, const ir_attr *s) {
  d->i = s->i;
  d->f = s->f;
  d->n = s->n;
  if (s->s) d->s = ir_strdup(s->s);
  if (s->ints) {
    d->ints = ir_alloc(sizeof(int64_t) * (size_t)(s->n + 1));
    memcpy(d->ints, s->ints, sizeof(int64_t) * (size_t)s->n);
  }
  if (s->floats) {
    d->floats = ir_alloc(sizeof(double) * (size_t)(s->n + 1));
    memcpy(d->floats, s->floats, sizeof(double) * (size_t)s->n);
  }
  if (s->strings) {
    d->strings = ir_alloc(sizeof(char *) * (size_t)(s->n + 1));
    for (int k = 0; k < s->n; k++) d->strings[k] = ir_strdup(s->strings[k]);
  }
  if (s->t) {
    ir_tensor *t = ir_alloc(sizeof *t);
    *t = *s->t;
    t->name = ir_strdup(s->t->name);
    for (int k = 0; k < IR_MAX_RANK; k++) t->dim_param[k] = NULL;
    size_t nb = (size_t)(ir_nbytes(s->t) > 0 ? ir_nbytes(s->t) : 0);
    t->data = NULL;
    if (s->t->data) {
      t->data = ir_alloc(nb + 1);
      memcpy(t->data, s->t->data, nb);
    }
    d->t = t;
  }
}

int ir_replace_uses(ir_graph *g, const ir_tensor *from, ir_tensor *to) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    ir_node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->n_in; j++)
      if (n->in[j] == from) n->in[j] = to, k++;
  }
  return k;
}

/* ---- def-use lists -------------------------------------------------------- */

void ir_mark_subgraph_reads(const ir_graph *g, const ir_graph *sg, int step, int *last_read) {
  for (int i = 0; i < sg->n_nodes; i++) {
    const ir_node *n = sg->nodes[i];
    for (int k = 0; k < n->n_in; k++)
      if (ir_owns(g, n->in[k]) && last_read[n->in[k]->id] < step) last_read[n->in[k]->id] = step;
    for (int k = 0; k < n->n_attr; k++)
      if (n->attrs[k].type == IR_ATTR_GRAPH && n->attrs[k].g) ir_mark_subgraph_reads(g, n->attrs[k].g, step, last_read);
  }
  for (int k = 0; k < sg->n_outputs; k++)
    if (ir_owns(g, sg->outputs[k]) && last_read[sg->outputs[k]->id] < step) last_read[sg->outputs[k]->id] = step;
}

int ir_reads_before_write(const ir_graph *g, const ir_node *q, const ir_tensor *target) {
  for (int i = 0; i < q->n_in; i++)
    if (q->in[i] == target) return 1;
  for (int j = 0; j < q->n_out; j++)
    if (q->out[j] && q->out[j] == g->loss) return 1;
  return 0;
}

int ir_stored_in_ok(const ir_graph *g, const ir_tensor *v) {
  const ir_node *p = v->producer;
  const ir_tensor *t = v->stored_in;
  int at = -1, valued = 0;
  for (int u = 0; u < g->n_updates; u++) valued |= g->updates[u].target == t && g->updates[u].value == v;
  if (!t || !valued || !p || p->dead) return 0;
  for (int s = 0; s < g->n_nodes; s++)
    if (g->nodes[s] == p) at = s;
  if (at < 0) return 0;
  for (int s = at + 1; s < g->n_nodes; s++) {   /* nothing after p reads the old target or makes the loss */
    const ir_node *n = g->nodes[s];
    if (n->dead) continue;
    if (ir_reads_before_write(g, n, t)) return 0;
    if (ir_node_has_subgraph(n)) return 0;   /* reads by name: not looked into */
  }
  return 1;
}

void ir_mark_step_end_reads(const ir_graph *g, int step, int *last_read) {
  for (int i = 0; i <= g->n_updates; i++) {
    const ir_tensor *t = i < g->n_updates ? g->updates[i].value : g->loss;
    if (ir_owns(g, t) && last_read[t->id] < step) last_read[t->id] = step;
  }
}

/* The ids of the tensors of g that node n reads (directly or in a subgraph),
 * each once, into ids[]; returns how many.  seen[] is all zero again after. */
static int node_reads(const ir_graph *g, const ir_node *n, int *seen, int *ids) {
  int m = 0;
  for (int k = 0; k < n->n_in; k++)
    if (ir_owns(g, n->in[k]) && !seen[n->in[k]->id]) seen[n->in[k]->id] = 1, ids[m++] = n->in[k]->id;
  for (int k = 0; k < n->n_attr; k++)
    if (n->attrs[k].type == IR_ATTR_GRAPH && n->attrs[k].g) {
      ir_mark_subgraph_reads(g, n->attrs[k].g, 1, seen);
      for (int t = 0; t < g->n_tensors; t++)   /* rare: only nodes holding subgraphs */
        if (seen[t] == 1) {
          int dup = 0;
          for (int q = 0; q < m; q++) dup |= ids[q] == t;
          if (!dup) ids[m++] = t;
        }
    }
  for (int q = 0; q < m; q++) seen[ids[q]] = 0;
  return m;
}

void ir_uses_build(const ir_graph *g, ir_uses *u) {
  int nt = g->n_tensors;
  int *seen = ir_alloc(sizeof(int) * (size_t)(nt + 1));
  int *ids = ir_alloc(sizeof(int) * (size_t)(nt + 1));
  u->n_tensors = nt;
  u->start = ir_alloc(sizeof(int) * (size_t)(nt + 2));
  u->output = ir_alloc((size_t)nt + 1);
  /* 1. count readers per tensor */
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i]->dead) continue;
    int m = node_reads(g, g->nodes[i], seen, ids);
    for (int q = 0; q < m; q++) u->start[ids[q] + 1]++;
  }
  for (int t = 0; t < nt; t++) u->start[t + 1] += u->start[t];
  /* 2. fill the lists in schedule order */
  int *fill = ir_alloc(sizeof(int) * (size_t)(nt + 1));
  memcpy(fill, u->start, sizeof(int) * (size_t)nt);
  u->readers = ir_alloc(sizeof(ir_node *) * (size_t)(u->start[nt] + 1));
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i]->dead) continue;
    int m = node_reads(g, g->nodes[i], seen, ids);
    for (int q = 0; q < m; q++) u->readers[fill[ids[q]]++] = g->nodes[i];
  }
  for (int t = 0; t < nt; t++) u->output[t] = (unsigned char)ir_kept(g, g->tensors[t]);
  free(fill);
  free(ids);
  free(seen);
}

int ir_uses_count(const ir_uses *u, const ir_tensor *t) {
  if (!t || t->id < 0 || t->id >= u->n_tensors) return 0;
  return u->start[t->id + 1] - u->start[t->id];
}

ir_node *const *ir_uses_of(const ir_uses *u, const ir_tensor *t) {
  static ir_node *const none[1] = {NULL};
  if (!t || t->id < 0 || t->id >= u->n_tensors) return none;
  return u->readers + u->start[t->id];
}

int ir_uses_only(const ir_uses *u, const ir_tensor *t, const ir_node *n) {
  return ir_uses_count(u, t) == 1 && ir_uses_of(u, t)[0] == n && !u->output[t->id];
}

void ir_uses_free(ir_uses *u) {
  free(u->start);
  free(u->readers);
  free(u->output);
  memset(u, 0, sizeof *u);
}

void ir_graph_move_nodes(ir_graph *g, int from, int to, int at) {
  int cnt = to - from;
  ir_node **tmp = ir_alloc(sizeof *tmp * (size_t)(cnt + 1));
  memcpy(tmp, &g->nodes[from], sizeof *tmp * (size_t)cnt);
  memmove(&g->nodes[at + cnt], &g->nodes[at], sizeof *tmp * (size_t)(from - at));
  memcpy(&g->nodes[at], tmp, sizeof *tmp * (size_t)cnt);
  free(tmp);
  for (int i = at; i < g->n_nodes; i++) g->nodes[i]->id = i;
}

void ir_node_set_input(ir_node *n, int i, ir_tensor *t) {
  if (i >= n->n_in) {
    n->in = ir_realloc(n->in, sizeof *n->in * (size_t)(i + 1));
    for (int k = n->n_in; k <= i; k++) n->in[k] = NULL;
    n->n_in = i + 1;
  }
  n->in[i] = t;
}

void ir_node_take_output(ir_node *p, int j, ir_node *n) {
  ir_tensor *y = n->out[0];
  n->out[0] = p->out[j];   /* n keeps the orphan until compaction drops it */
  p->out[j] = y;
  y->producer = p;
  n->dead = 1;
}

int ir_node_has_subgraph(const ir_node *n) {
  for (int a = 0; a < n->n_attr; a++)
    if (n->attrs[a].type == IR_ATTR_GRAPH) return 1;
  return 0;
}

int ir_graph_has_subgraphs(const ir_graph *g) {
  for (int k = 0; k < g->n_nodes; k++)
    if (ir_node_has_subgraph(g->nodes[k])) return 1;
  return 0;
}

int ir_node_is(const ir_node *n, const char *op_type) {
  return (!n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx")) && !strcmp(n->op_type, op_type);
}

ir_tensor *ir_add_const_like(ir_graph *g, const ir_tensor *like, const char *suffix, int rank, const int64_t *dims,
                             const void *data) {
  char base[256];
  snprintf(base, sizeof base, "%.200s%s", like->name, suffix);
  ir_tensor *t = ir_add_tensor_unique(g, base, like->dtype, IR_CONST);
  ir_set_shape(t, rank, dims);
  ir_tensor_set_data(t, data, (size_t)ir_nbytes(t));
  return t;
}
