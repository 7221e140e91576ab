/*
 * interp.c - the reference interpreter's driver (see interp.h).
 *
 * One buffer per tensor, allocated when its producer runs and kept until
 * interp_free, so that `check` can compare any intermediate tensor against
 * the generated code.  The kernels are the op table's interp entries.
 */
#include "interp.h"
#include "../compiler/ops/op.h"

#include <stdlib.h>
#include <string.h>

int interp_node(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  if (!n->op || !n->op->interp) return op_fail(n, "the interpreter has no kernel for this op");
  ir_clear_error();
  int rc = n->op->interp(c, n, in, out);
  if (rc < 0 && !strstr(ir_last_error(), n->name)) return op_fail(n, "%s", ir_last_error());
  return rc;
}

/* Whether n runs: a node of a predicated If branch carries "_guard", a list
 * of "+NAME"/"-NAME" (run only when bool tensor NAME is true/false); its
 * outputs stay zero when it does not run. */
static int guard_open(const interp_ctx *c, const ir_node *n, int *open) {
  const ir_attr *a = ir_attr_find(n, "_guard");
  *open = 1;
  for (int k = 0; a && a->type == IR_ATTR_STRINGS && k < a->n; k++) {
    const ir_tensor *t = ir_lookup_tensor(c->g, a->strings[k] + 1);
    const unsigned char *v = t && t->dtype == IR_BOOL ? interp_value(c, t) : NULL;
    if (!v) return op_fail(n, "guard '%s' names no computed bool tensor", a->strings[k]);
    if ((v[0] != 0) != (a->strings[k][0] == '+')) *open = 0;
  }
  return 0;
}


static int run(interp_ctx *c, ir_graph *g, const void *const *inputs, const interp_ctx *parent) {
  memset(c, 0, sizeof *c);
  c->parent = parent;
  c->g = g;
  c->n = g->n_tensors;
  c->val = ir_alloc((size_t)(c->n + 1) * sizeof *c->val);
  c->own = ir_alloc((size_t)c->n + 1);
  for (int i = 0; i < g->n_tensors; i++)
    if (g->tensors[i]->data) c->val[i] = g->tensors[i]->data;
  for (int i = 0; i < g->n_inputs; i++) {
    ir_tensor *t = g->inputs[i];
    if (t->data) continue;   /* made constant by --const */
    size_t nb = (size_t)ir_nbytes(t);
    c->val[t->id] = ir_alloc(nb);
    c->own[t->id] = 1;
    if (nb) memcpy(c->val[t->id], inputs[i], nb);
  }
  const void *in[256];
  void *out[256];
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->n_in > 256 || n->n_out > 256) return op_fail(n, "too many inputs or outputs");
    for (int i = 0; i < n->n_in; i++) {
      ir_tensor *t = n->in[i];
      in[i] = t ? interp_value(c, t) : NULL;
      if (t && !in[i]) return op_fail(n, "input '%s' has no value", t->name);
    }
    for (int j = 0; j < n->n_out; j++) {
      ir_tensor *t = n->out[j];
      out[j] = NULL;
      if (!t) continue;
      out[j] = ir_alloc((size_t)ir_nbytes(t));
      c->val[t->id] = out[j];
      c->own[t->id] = 1;
    }
    int open;
    if (guard_open(c, n, &open) < 0) return -1;
    if (open && interp_node(c, n, in, out) < 0) return -1;
  }
  return 0;
}

int interp_run(interp_ctx *c, ir_graph *g, const void *const *inputs) { return run(c, g, inputs, NULL); }

int interp_run_sub(interp_ctx *c, ir_graph *g, const interp_ctx *parent, const void *const *inputs) {
  return run(c, g, inputs, parent);
}

void *interp_value(const interp_ctx *c, const ir_tensor *t) {
  if (t->data) return t->data;
  if (c->g && t->id < c->n && c->g->tensors[t->id] == t) return c->val[t->id];
  return c->parent ? interp_value(c->parent, t) : NULL;
}

void interp_free(interp_ctx *c) {
  for (int i = 0; i < c->n; i++)
    if (c->own[i]) free(c->val[i]);
  free(c->val);
  free(c->own);
  memset(c, 0, sizeof *c);
}

int interp_train_step(ir_graph *g, const void *const *inputs, double *loss) {
  interp_ctx c;
  if (!g->loss) return ir_error("interp_train_step: '%s' is no training step (no loss)", g->name ? g->name : "graph");
  int rc = run(&c, g, inputs, NULL);
  const void *l = rc == 0 ? interp_value(&c, g->loss) : NULL;
  if (rc == 0 && !l) rc = ir_error("interp_train_step: the loss '%s' has no value", g->loss->name);
  if (rc == 0 && loss) *loss = ir_value_f64(g->loss->dtype, l, 0);
  /* the values first (they are the interpreter's own buffers), then every target takes its value */
  for (int i = 0; rc == 0 && i < g->n_updates; i++) {
    const ir_update *u = &g->updates[i];
    const void *v = interp_value(&c, u->value);
    if (!v || !u->target->data || ir_nbytes(u->target) != ir_nbytes(u->value))
      rc = ir_error("interp_train_step: update of '%s' from '%s' has no value or another size", u->target->name,
                    u->value->name);
    else memcpy(u->target->data, v, (size_t)ir_nbytes(u->target));
  }
  interp_free(&c);
  return rc;
}
