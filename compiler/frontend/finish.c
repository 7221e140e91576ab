/*
 * finish.c - the steps every frontend's graph goes through after it is
 * built (see frontend.h): bindings, the unsupported-op report, the sort and
 * binding to the op table.  Nothing here knows which format the graph came
 * from.
 */
#include "frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"

/* The unsupported op types of a model, each with its first node and its
 * node count, in the order they are met: the error names every one. */
typedef struct unsup {
  const ir_node **first;
  int *count;
  int n, cap, nodes;
} unsup;

static void collect_unsupported(const ir_graph *g, unsup *u) {
  for (int i = 0; i < g->n_nodes; i++) {
    const ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_attr; j++)
      if (n->attrs[j].g) collect_unsupported(n->attrs[j].g, u);
    if (op_find(n->domain, n->op_type)) continue;
    u->nodes++;
    int k = 0;
    while (k < u->n && (strcmp(u->first[k]->op_type, n->op_type) || strcmp(u->first[k]->domain, n->domain))) k++;
    if (k < u->n) {
      u->count[k]++;
      continue;
    }
    if (u->n == u->cap) {
      u->cap = u->cap ? 2 * u->cap : 16;
      u->first = ir_realloc(u->first, sizeof *u->first * (size_t)u->cap);
      u->count = ir_realloc(u->count, sizeof *u->count * (size_t)u->cap);
    }
    u->first[u->n] = n;
    u->count[u->n++] = 1;
  }
}

/* "unsupported ops: node 'a' (Foo), node 'b' (Bar, domain x; 3 nodes); 2 op
 * types in 4 nodes" (the totals only when some type has several nodes). */
int fe_check_supported(const ir_graph *g) {
  unsup u;
  memset(&u, 0, sizeof u);
  collect_unsupported(g, &u);
  if (!u.n) return 0;
  size_t len = 64;
  for (int k = 0; k < u.n; k++)
    len += strlen(u.first[k]->name) + strlen(u.first[k]->op_type) + strlen(u.first[k]->domain) + 64;
  char *buf = ir_alloc(len);
  size_t at = (size_t)snprintf(buf, len, "unsupported ops: ");
  for (int k = 0; k < u.n; k++) {
    const ir_node *n = u.first[k];
    char more[40] = "";
    if (u.count[k] > 1) snprintf(more, sizeof more, "; %d nodes", u.count[k]);
    at += (size_t)snprintf(buf + at, len - at, "%snode '%s' (%s%s%s%s)", k ? ", " : "", n->name, n->op_type,
                           n->domain[0] ? ", domain " : "", n->domain, more);
  }
  if (u.nodes > u.n)
    snprintf(buf + at, len - at, "; %d op type%s in %d nodes", u.n, u.n == 1 ? "" : "s", u.nodes);
  ir_error("%s", buf);
  free(buf);
  free(u.first);
  free(u.count);
  return -1;
}

/* Sort every graph (inner ones first) and, unless no_bind, bind its nodes
 * to the op table. */
static int sort_and_bind(ir_graph *g, int no_bind) {
  if (ir_graph_toposort(g)) return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_attr; j++)
      if (n->attrs[j].g && sort_and_bind(n->attrs[j].g, no_bind)) return -1;
    if (!no_bind && op_validate(n)) return -1;
  }
  return 0;
}

int fe_finish(ir_graph *g, const fe_opts *o) {
  static const fe_opts none;
  if (!o) o = &none;
  if (ir_bind_inputs(g, &o->bind)) return -1;
  if (!o->no_bind && fe_check_supported(g)) return -1;
  return sort_and_bind(g, o->no_bind);
}
