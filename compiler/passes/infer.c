/*
 * infer.c - shape and dtype inference, with constant propagation.
 *
 * require: nodes bound to op entries (op_validate), graph topologically
 *          sorted, input shapes fixed (by the model or --shape/--dim).
 * guarantee: every tensor has a dtype and a fully known static shape;
 *          nodes whose inputs are all constant have been evaluated by the
 *          interpreter's kernel and their outputs turned into constants
 *          (always for integer/bool results - that is shape arithmetic such
 *          as Shape->Gather->Concat->Reshape - and for float results too
 *          when o->fold); If nodes with a constant condition are replaced by
 *          the taken branch.
 *
 * Shapes and constants are done in one sweep because they depend on each
 * other: a Reshape's output shape needs the value of its shape input, which
 * an earlier node computed from another tensor's shape.
 */
#include "passes.h"
#include "../ops/op.h"
#include "../../runtime/interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pass_options_default(pass_options *o) {
  o->fold = 1;
  o->dce = 1;
  o->plan = 1;
}

/* Move a tensor that a subgraph owns into g, renaming it when the name is taken. */
static void adopt_tensor(ir_graph *g, ir_tensor *t) {
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

/* Replace If node k (constant condition) by the nodes of the taken branch,
 * inserted where it stood, plus an Identity per output. */
static int splice_if(ir_graph *g, int k) {
  ir_node *n = g->nodes[k];
  int cond = ir_const_f64(n->in[0], 0) != 0.0;
  ir_attr *a = ir_attr_find(n, cond ? "then_branch" : "else_branch");
  ir_graph *b = a->g;
  if (b->n_inputs) return op_fail(n, "branch graph has inputs");
  if (b->n_outputs != n->n_out) return op_fail(n, "branch gives %d outputs, node has %d", b->n_outputs, n->n_out);

  /* 1. tensors of the branch become tensors of g */
  for (int i = 0; i < b->n_tensors; i++) adopt_tensor(g, b->tensors[i]);
  int nb = b->n_nodes;
  ir_node **bn = b->nodes;
  ir_tensor **bouts = b->outputs;
  b->n_tensors = 0;
  b->nodes = NULL;
  b->n_nodes = 0;
  b->outputs = NULL;
  b->n_outputs = 0;

  /* 2. outputs: out_j = Identity(branch_out_j) */
  int total = g->n_nodes - 1 + nb + n->n_out;
  ir_node **nodes = ir_alloc((size_t)total * sizeof *nodes);
  int m = 0;
  for (int i = 0; i < k; i++) nodes[m++] = g->nodes[i];
  for (int i = 0; i < nb; i++) nodes[m++] = bn[i];
  for (int j = 0; j < n->n_out; j++) {
    char name[512];
    snprintf(name, sizeof name, "%s_out%d", n->name, j);
    ir_node *id = ir_add_node(g, "Identity", name);   /* appended at g's end; moved below */
    g->n_nodes--;
    ir_node_set_io(id, 1, &bouts[j], 1, &n->out[j]);
    id->opset = 13;
    if (op_validate(id) < 0) return -1;
    nodes[m++] = id;
  }
  for (int i = k + 1; i < g->n_nodes; i++) nodes[m++] = g->nodes[i];
  n->dead = 1;
  /* The If node itself is freed by compact; keep it out of the order but
   * alive until then: append it last. */
  ir_node **all = ir_realloc(nodes, (size_t)(m + 1) * sizeof *all);
  all[m++] = n;
  free(g->nodes);
  free(bn);
  free(bouts);
  g->nodes = all;
  g->n_nodes = g->cap_nodes = m;
  for (int i = 0; i < m; i++) g->nodes[i]->id = i;
  return 0;
}

static int check_known(const ir_node *n, const ir_tensor *t) {
  if (t->rank < 0) return op_fail(n, "tensor '%s' has an unknown rank", t->name);
  for (int d = 0; d < t->rank; d++)
    if (t->shape[d] < 0) {
      if (t->dim_param[d])
        return ir_error("tensor '%s' has unknown dimension %d ('%s'): fix it with --shape %s=... or --dim %s=N",
                        t->name, d, t->dim_param[d], t->name, t->dim_param[d]);
      return ir_error("tensor '%s' has unknown dimension %d: fix it with --shape %s=...", t->name, d, t->name);
    }
  if (ir_numel(t) == -2) return ir_error("tensor '%s' is too large (element count overflows)", t->name);
  return 0;
}

/* Evaluate node n now; all its inputs are constants. */
static int fold(ir_node *n) {
  const void *in[64];
  void *out[64];
  if (n->n_in > 64 || n->n_out > 64) return 0;
  for (int i = 0; i < n->n_in; i++) in[i] = n->in[i] ? n->in[i]->data : NULL;
  for (int j = 0; j < n->n_out; j++) out[j] = n->out[j] ? ir_alloc((size_t)ir_nbytes(n->out[j])) : NULL;
  interp_ctx c;
  memset(&c, 0, sizeof c);
  int rc = n->op->interp(&c, n, in, out);
  for (int j = 0; j < n->n_out; j++) {
    ir_tensor *t = n->out[j];
    if (!t) continue;
    if (rc == 0) {
      free(t->data);
      t->data = out[j];
      t->role = IR_CONST;
      t->producer = NULL;
    } else {
      free(out[j]);
    }
  }
  if (rc == 0) n->dead = 1;
  return rc;
}

static int foldable(const ir_node *n, const pass_options *o) {
  if (!n->op->interp || (n->op->flags & OP_NO_FOLD)) return 0;
  if (n->op->flags & OP_SHAPE_ONLY) return 1;   /* kernels read no input data */
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && !n->in[i]->data) return 0;
  if (o->fold) return 1;
  for (int j = 0; j < n->n_out; j++)   /* without --fold: shape arithmetic only */
    if (n->out[j] && ir_dtype_is_float(n->out[j]->dtype)) return 0;
  return 1;
}

int pass_infer(ir_graph *g, const pass_options *o) {
  for (int i = 0; i < g->n_inputs; i++)
    if (check_known(NULL, g->inputs[i]) < 0) return -1;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->dead) continue;
    if (!n->op && op_validate(n) < 0) return -1;
    if (strcmp(n->op_type, "If") == 0 && n->in[0] && n->in[0]->data) {
      if (splice_if(g, k) < 0) return -1;
      k--;   /* the first spliced node now stands at k */
      continue;
    }
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && check_known(n, n->in[i]) < 0) return -1;
    ir_clear_error();
    if (n->op->infer(g, n) < 0) return -1;
    for (int j = 0; j < n->n_out; j++) {
      ir_tensor *t = n->out[j];
      if (!t) continue;
      if (t->dtype == IR_UNDEF) return op_fail(n, "output '%s' got no dtype", t->name);
      if (check_known(n, t) < 0) return -1;
    }
    if (foldable(n, o) && fold(n) < 0) return -1;
  }
  ir_graph_compact(g);
  return 0;
}

int pass_run_all(ir_graph *g, const pass_options *o) {
  if (pass_infer(g, o) < 0) return -1;
  if (o->dce && pass_dce(g) < 0) return -1;
  if (o->plan && pass_plan(g) < 0) return -1;
  return 0;
}
