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
#include "autodiff.h"
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
    adopt_tensor(g, t);
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

static int check_known(const ir_node *n, const ir_tensor *t) {
  if (t->rank < 0) {
    if (!n) return ir_error("graph input '%s' has an unknown rank: fix it with --shape %s=...", t->name, t->name);
    return op_fail(n, "tensor '%s' has an unknown rank", t->name);
  }
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

#define DEFAULT_MAX_BYTES ((int64_t)4 << 30)

/* The byte limit of g's outermost graph (subgraphs share it). */
static int64_t max_bytes(const ir_graph *g) {
  while (g->parent) g = g->parent;
  return g->max_bytes > 0 ? g->max_bytes : DEFAULT_MAX_BYTES;
}

/* A computed tensor larger than the limit is refused before anything
 * allocates it: shape arithmetic in a hostile model (a ConstantOfShape,
 * Expand, Tile or Range to 1e12 elements) must not become a huge malloc. */
static int check_size(const ir_graph *g, const ir_node *n, const ir_tensor *t) {
  int64_t nb = ir_nbytes(t), lim = max_bytes(g);
  if (nb > lim && !n)
    return ir_error("input '%s' would take %lld bytes, above the limit of %lld (--max-bytes)", t->name,
                    (long long)nb, (long long)lim);
  if (nb > lim)
    return op_fail(n, "output '%s' would take %lld bytes, above the limit of %lld (--max-bytes)", t->name,
                   (long long)nb, (long long)lim);
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

/* Move the nodes at [from, to) of the schedule to stand at position at (at <= from). */
static void move_nodes(ir_graph *g, int from, int to, int at) {
  int cnt = to - from;
  ir_node **tmp = ir_alloc(sizeof *tmp * (size_t)(cnt + 1));
  memcpy(tmp, &g->nodes[from], sizeof *tmp * (size_t)cnt);
  memmove(&g->nodes[at + cnt], &g->nodes[at], sizeof *tmp * (size_t)(from - at));
  memcpy(&g->nodes[at], tmp, sizeof *tmp * (size_t)cnt);
  free(tmp);
  for (int i = at; i < g->n_nodes; i++) g->nodes[i]->id = i;
}

/* ONNX's Gradient at position k.  Its inputs are only xs and zs, so it may
 * stand before the node computing y: then it moves to just after that node.
 * Once there, the backward nodes (autodiff.c) are built, moved to stand
 * right after it, so that readers of the gradients come later, and the
 * Gradient is dropped. */
static int expand_gradient(ir_graph *g, int k) {
  ir_node *n = g->nodes[k];
  const char *yname = ir_attr_string(n, "y", "");
  ir_tensor *y = ir_lookup_tensor(g, yname);
  if (!y) return op_fail(n, "y names no tensor ('%s')", yname);
  if (y->producer && !y->producer->dead && y->producer->id > k) {
    for (int j = 0; j < n->n_out; j++)   /* deeper dependencies are cycles, refused by toposort */
      if (n->out[j] == y) return op_fail(n, "y '%s' is one of the Gradient's own outputs", yname);
    int p = y->producer->id;
    move_nodes(g, k + 1, p + 1, k);   /* nodes k+1..p shift down; the Gradient lands at p */
    return 0;
  }
  if (check_known(n, y) < 0) return -1;
  ir_tensor *xs[64], *outs[64] = {0};
  int nx = ir_attr_find(n, "xs")->n;
  if (nx > 64) return op_fail(n, "more than 64 tensors in xs");
  for (int i = 0; i < nx; i++) xs[i] = n->in[i];
  for (int j = 0; j < n->n_out; j++) outs[j] = n->out[j];
  int n0 = g->n_nodes;
  n->dead = 1;   /* its outputs are written by the appended nodes from now on */
  if (autodiff(g, k, y, nx, xs, outs) < 0) return -1;
  move_nodes(g, n0, g->n_nodes, k + 1);
  return 0;
}

/* ---- the op table's expand hooks ---------------------------------------- */

int pass_expand_if(ir_graph *g, int k, const pass_options *o, int *next) {
  ir_node *n = g->nodes[k];
  if (ir_attr_find(n, "_select")) return 0;   /* already predicated: infer the select */
  if (n->in[0] && n->in[0]->data) {
    if (splice_if(g, k) < 0) return -1;
    *next = k;   /* the first spliced node now stands at k */
    return 1;
  }
  if (check_known(n, n->in[0]) < 0 || predicate_if(g, k, o, next) < 0) return -1;
  return 1;      /* the branch nodes are inferred already; the select comes next */
}

static int inputs_known(const ir_node *n) {
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && check_known(n, n->in[i]) < 0) return -1;
  return 0;
}

int pass_expand_loop(ir_graph *g, int k, const pass_options *o, int *next) {
  if (inputs_known(g->nodes[k]) < 0 || (*next = pass_unroll_loop(g, k, o)) < 0) return -1;
  return 1;      /* the unrolled iterations are inferred; their output nodes are not */
}

int pass_expand_scan(ir_graph *g, int k, const pass_options *o, int *next) {
  if (inputs_known(g->nodes[k]) < 0 || (*next = pass_unroll_scan(g, k, o)) < 0) return -1;
  return 1;
}

int pass_expand_gradient(ir_graph *g, int k, const pass_options *o, int *next) {
  (void)o;
  if (inputs_known(g->nodes[k]) < 0 || expand_gradient(g, k) < 0) return -1;
  *next = k;     /* k now holds the node that moved there, or the dead Gradient */
  return 1;
}

int pass_infer(ir_graph *g, const pass_options *o) {
  int64_t folded = 0;
  for (int i = 0; i < g->n_inputs; i++)
    if (check_known(NULL, g->inputs[i]) < 0 || check_size(g, NULL, g->inputs[i]) < 0) return -1;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->dead) continue;
    if (!n->op && op_validate(n) < 0) return -1;
    if (n->op->expand) {
      int next = k, rc = n->op->expand(g, k, o, &next);
      if (rc < 0) return -1;
      if (rc > 0) {
        k = next - 1;   /* the loop's k++ lands on next */
        continue;
      }
    }
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && check_known(n, n->in[i]) < 0) return -1;
    /* Op infer functions write output 0; only ops whose outputs are all
     * optional (min_out 0 and several outputs, as LSTM's) may leave it empty. */
    if (n->n_out == 0) return op_fail(n, "has no outputs");
    if (!n->out[0] && !(n->op->min_out == 0 && n->op->max_out > 1)) return op_fail(n, "output 0 is empty");
    ir_clear_error();
    if (n->op->infer(g, n) < 0) return -1;
    for (int j = 0; j < n->n_out; j++) {
      ir_tensor *t = n->out[j];
      if (!t) continue;
      if (t->dtype == IR_UNDEF) return op_fail(n, "output '%s' got no dtype", t->name);
      if (check_known(n, t) < 0 || check_size(g, n, t) < 0) return -1;
    }
    if (foldable(n, o)) {
      /* Folded values become constant data: they count against the limit too. */
      for (int j = 0; j < n->n_out; j++)
        if (n->out[j]) folded += ir_nbytes(n->out[j]);
      if (folded > max_bytes(g))
        return op_fail(n, "constant-folded tensors exceed the limit of %lld bytes (--max-bytes)",
                       (long long)max_bytes(g));
      if (fold(n) < 0) return -1;
    }
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
