/*
 * finish.c - the steps every frontend's graph goes through after it is
 * built (see frontend.h): bindings, the unsupported-op report, the sort and
 * binding to the op table.  Nothing here knows which format the graph came
 * from.
 */
#include "frontend.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"

typedef struct unsup {
  char buf[900];
  size_t len;
  int count, listed;
} unsup;

static void collect_unsupported(const ir_graph *g, unsup *u) {
  for (int i = 0; i < g->n_nodes; i++) {
    const ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_attr; j++)
      if (n->attrs[j].g) collect_unsupported(n->attrs[j].g, u);
    if (op_find(n->domain, n->op_type)) continue;
    char item[400];
    if (n->domain[0])
      snprintf(item, sizeof item, "%snode '%s' (%s, domain %s)", u->count ? ", " : "", n->name, n->op_type,
               n->domain);
    else
      snprintf(item, sizeof item, "%snode '%s' (%s)", u->count ? ", " : "", n->name, n->op_type);
    u->count++;
    size_t k = strlen(item);
    if (u->listed == u->count - 1 && u->len + k + 24 < sizeof u->buf) {   /* room left for "(+N more)" */
      memcpy(u->buf + u->len, item, k + 1);
      u->len += k;
      u->listed++;
    }
  }
}

int fe_check_supported(const ir_graph *g) {
  unsup u;
  memset(&u, 0, sizeof u);
  collect_unsupported(g, &u);
  if (u.count > u.listed) return ir_error("unsupported ops: %s (+%d more)", u.buf, u.count - u.listed);
  if (u.count) return ir_error("unsupported ops: %s", u.buf);
  return 0;
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
