/*
 * control.c - control-flow lowering: If, Loop and Scan become straight-line
 * IR, during shape inference (these are the op table's expand hooks that
 * pass_infer calls when its sweep reaches such a node).
 *
 * require: the node's inputs precede it and are inferred; branch and body
 *          graphs are bound to the op table.
 * guarantee: an If with a constant condition is replaced by the taken
 *          branch's nodes plus an Identity per output; an If with a runtime
 *          condition is predicated (both branches' nodes move into the graph,
 *          each carrying "_guard", and the If stays as the select with
 *          "_select" = 1); Loop and Scan are unrolled (unroll.c).  No node
 *          holding a subgraph is left behind an expanded node.
 *
 * Lowering runs inside inference, not after it, because what follows an If
 * or a Loop needs the shapes its outputs get, and a Loop's iteration count
 * comes from values inference folds.
 */
#include "passes.h"
#include "../ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Guard string k of n ("+NAME"/"-NAME") now names `to` instead of `from`. */
static void rename_guards(ir_graph *b, const char *from, const char *to) {
  for (int i = 0; i < b->n_nodes; i++) {
    ir_attr *a = ir_attr_find(b->nodes[i], "_guard");
    for (int k = 0; a && k < a->n; k++)
      if (strcmp(a->strings[k] + 1, from) == 0) {
        char *s = ir_alloc(strlen(to) + 2);
        s[0] = a->strings[k][0];
        strcpy(s + 1, to);
        free(a->strings[k]);
        a->strings[k] = s;
      }
  }
}

/* Every tensor of subgraph b moves into g; guards of b's nodes follow renames. */
static void adopt_all(ir_graph *g, ir_graph *b) {
  for (int i = 0; i < b->n_tensors; i++) {
    ir_tensor *t = b->tensors[i];
    char *old = ir_strdup(t->name);
    ir_adopt_tensor(g, t);
    if (strcmp(old, t->name) != 0) rename_guards(b, old, t->name);
    free(old);
  }
}

/* Add "+NAME" (run when NAME is true) or "-NAME" to n's guard list. */
static void add_guard(ir_node *n, const ir_tensor *cond, int positive) {
  ir_attr *a = ir_attr_find(n, "_guard");
  if (!a) a = ir_attr_add(n, "_guard", IR_ATTR_STRINGS);
  a->strings = ir_realloc(a->strings, sizeof(char *) * (size_t)(a->n + 1));
  char *s = ir_alloc(strlen(cond->name) + 2);
  s[0] = positive ? '+' : '-';
  strcpy(s + 1, cond->name);
  a->strings[a->n++] = s;
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
  adopt_all(g, b);
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

/* If node k has a runtime condition: infer both branches, then predicate it.
 * The nodes of both branches move into g before the If, each guarded by the
 * condition ("_guard": "+cond" for then, "-cond" for else; the interpreter
 * skips a node whose guard is false, the backend wraps its call in an if),
 * and the If itself stays as the select that copies the taken branch's
 * outputs: inputs [cond, then outputs..., else outputs...], "_select" = 1.
 * Both branches must give each output one dtype and one static shape.
 * *merge gets the If's new index. */
static int predicate_if(ir_graph *g, int k, const pass_options *o, int *merge) {
  ir_node *n = g->nodes[k];
  ir_tensor *cond = n->in[0];
  ir_graph *br[2] = {ir_attr_find(n, "then_branch")->g, ir_attr_find(n, "else_branch")->g};
  if (cond->dtype != IR_BOOL || ir_numel(cond) != 1)
    return op_fail(n, "condition '%s' must be one bool, is %s with %lld elements", cond->name,
                   ir_dtype_name(cond->dtype), (long long)ir_numel(cond));
  for (int b = 0; b < 2; b++) {
    if (br[b]->n_inputs) return op_fail(n, "branch graph has inputs");
    if (br[b]->n_outputs != n->n_out)
      return op_fail(n, "branch gives %d outputs, node has %d", br[b]->n_outputs, n->n_out);
    if (pass_infer(br[b], o) < 0) return -1;
  }
  for (int j = 0; j < n->n_out; j++) {
    ir_tensor *a = br[0]->outputs[j], *e = br[1]->outputs[j];
    if (a->dtype != e->dtype || !ir_same_shape(a, e)) {
      char sa[96], se[96];
      return op_fail(n, "runtime condition '%s': output %d is %s %s in then_branch but %s %s in else_branch; "
                     "the C backend needs one dtype and static shape (fix the condition with --const %s=FILE)",
                     cond->name, j, ir_dtype_name(a->dtype), ir_shape_str(a, sa, sizeof sa), ir_dtype_name(e->dtype),
                     ir_shape_str(e, se, sizeof se), cond->name);
    }
  }
  int nb[2] = {br[0]->n_nodes, br[1]->n_nodes};
  ir_node **bn[2] = {br[0]->nodes, br[1]->nodes};
  ir_tensor **in = ir_alloc(sizeof(ir_tensor *) * (size_t)(1 + 2 * n->n_out));
  in[0] = cond;
  for (int b = 0; b < 2; b++) {
    adopt_all(g, br[b]);
    for (int j = 0; j < n->n_out; j++) in[1 + b * n->n_out + j] = br[b]->outputs[j];
    for (int i = 0; i < nb[b]; i++) add_guard(bn[b][i], cond, b == 0);
    br[b]->n_tensors = 0;
    br[b]->nodes = NULL;
    br[b]->n_nodes = 0;
  }
  int total = g->n_nodes + nb[0] + nb[1];
  ir_node **nodes = ir_alloc(sizeof(ir_node *) * (size_t)total);
  int m = 0;
  for (int i = 0; i < k; i++) nodes[m++] = g->nodes[i];
  for (int b = 0; b < 2; b++)
    for (int i = 0; i < nb[b]; i++) nodes[m++] = bn[b][i];
  *merge = m;
  for (int i = k; i < g->n_nodes; i++) nodes[m++] = g->nodes[i];
  free(g->nodes);
  free(bn[0]);
  free(bn[1]);
  g->nodes = nodes;
  g->n_nodes = g->cap_nodes = m;
  for (int i = 0; i < m; i++) g->nodes[i]->id = i;
  ir_tensor **out = ir_alloc(sizeof(ir_tensor *) * (size_t)(n->n_out + 1));
  memcpy(out, n->out, sizeof(ir_tensor *) * (size_t)n->n_out);
  ir_node_set_io(n, 1 + 2 * n->n_out, in, n->n_out, out);
  free(in);
  free(out);
  ir_attr_remove(n, "then_branch");   /* frees the emptied branch graphs */
  ir_attr_remove(n, "else_branch");
  ir_attr_set_int(n, "_select", 1);
  return 0;
}

int pass_splice(ir_graph *g, int pos, ir_graph *sub) {
  adopt_all(g, sub);
  int nb = sub->n_nodes, m = 0;
  ir_node **nodes = ir_alloc(sizeof(ir_node *) * (size_t)(g->n_nodes + nb + 1));
  for (int i = 0; i < pos; i++) nodes[m++] = g->nodes[i];
  for (int i = 0; i < nb; i++) nodes[m++] = sub->nodes[i];
  for (int i = pos; i < g->n_nodes; i++) nodes[m++] = g->nodes[i];
  free(g->nodes);
  free(sub->nodes);
  sub->nodes = NULL;
  sub->n_nodes = sub->cap_nodes = 0;
  sub->n_tensors = 0;
  sub->n_outputs = 0;
  g->nodes = nodes;
  g->n_nodes = g->cap_nodes = m;
  for (int i = 0; i < m; i++) g->nodes[i]->id = i;
  return nb;
}

int pass_expand_if(ir_graph *g, int k, const pass_options *o, int *next) {
  ir_node *n = g->nodes[k];
  if (ir_attr_find(n, "_select")) return 0;   /* already predicated: infer the select */
  if (n->in[0] && n->in[0]->data) {
    if (splice_if(g, k) < 0) return -1;
    *next = k;   /* the first spliced node now stands at k */
    return 1;
  }
  if (pass_check_known(n, n->in[0]) < 0 || predicate_if(g, k, o, next) < 0) return -1;
  return 1;      /* the branch nodes are inferred already; the select comes next */
}

int pass_expand_loop(ir_graph *g, int k, const pass_options *o, int *next) {
  if (pass_inputs_known(g->nodes[k]) < 0 || (*next = pass_unroll_loop(g, k, o)) < 0) return -1;
  return 1;      /* the unrolled iterations are inferred; their output nodes are not */
}

int pass_expand_scan(ir_graph *g, int k, const pass_options *o, int *next) {
  if (pass_inputs_known(g->nodes[k]) < 0 || (*next = pass_unroll_scan(g, k, o)) < 0) return -1;
  return 1;
}

