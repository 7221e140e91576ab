/*
 * fuse.c - fusion of a producer with what follows it into its epilogue
 * (compiler/ops/epilogue.h): y = act(P(x) + bias + residual).
 *
 * require: graph inferred and topologically sorted, nodes bound; no node
 *          holds a subgraph.
 * guarantee: for each Conv, Gemm and MatMul P (in schedule order) whose
 *          output has exactly one reader and is no graph output:
 *          1. bias: P without a bias (Conv's B, Gemm's C) followed by an Add
 *             of a constant holding one value per output channel (Conv) or
 *             column (Gemm) takes it as its bias (a trained parameter is
 *             no constant: pass_is_const);
 *          2. residual: P followed by an Add whose other input is a computed
 *             tensor of the Add's shape and dtype (and P's output too) reads
 *             it as its residual input;
 *          3. activation: P, or a float Add/Sub/Mul/Div, followed by Relu,
 *             LeakyRelu, Clip with constant bounds, Sigmoid, Tanh,
 *             HardSigmoid or HardSwish applies it as its epilogue;
 *          4. hard-swish written out (as PaddleOCR exports it): P without an
 *             activation whose output x is read only by c = Clip(x + 3, 0, 6)
 *             (an Add whose Clip step 3 fused) and by x * c, itself read
 *             only by a division by 6, applies HardSwish: x and c are no
 *             longer live together.
 *          5. weight gradient at batch 1: a Gemm with K = 1 (an outer
 *             product u v^T), alpha 1, no C and no epilogue, whose output is
 *             read only by an SGD optimizer node as its gradient, is
 *             absorbed by that node ("_outer": it reads u and v, see
 *             ops_train.c), so the gradient is never stored.
 *          The absorbed node is gone and P writes its output tensor, so the
 *          graph's outputs and every reader keep their tensors.  Nodes under
 *          a runtime If's guard are left alone.  The graph is topologically
 *          sorted again (a residual may be computed after P in the old
 *          order).  Values are those of the unfused graph up to rounding.
 *
 * Each step needs the output's single reader, found through the def-use
 * lists; the lists stay valid while the pass runs because fusion only kills
 * nodes and hands output tensors over, never rewires an input (the one new
 * read, P of a residual, is only looked at from P's side), but in step 5,
 * the last, whose new reads (the SGD's of u and v) no later step looks at.
 */
#include "passes.h"
#include "../ops/op.h"
#include "../ops/epilogue.h"

#include <math.h>
#include <string.h>

static int is_float(const ir_tensor *t) { return t && (t->dtype == IR_F32 || t->dtype == IR_F64); }
static int guarded(const ir_node *n) { return ir_attr_find(n, "_guard") != NULL; }

/* The single live reader of P's output 0, when it is the only use. */
static ir_node *only_reader(const ir_uses *u, const ir_node *p) {
  const ir_tensor *y = p->out[0];
  if (!y || ir_uses_count(u, y) != 1 || u->output[y->id]) return NULL;
  ir_node *n = ir_uses_of(u, y)[0];
  return n->dead || guarded(n) || n->n_out != 1 ? NULL : n;
}

/* An Add reading y and one other tensor: that tensor, else NULL. */
static ir_tensor *add_other(const ir_node *a, const ir_tensor *y) {
  if (!ir_node_is(a, "Add") || a->n_in != 2 || a->in[0] == a->in[1]) return NULL;
  return a->in[0] == y ? a->in[1] : a->in[1] == y ? a->in[0] : NULL;
}

/* 1. bias: c holds one value per channel of y (the axis Conv's bias or
 * Gemm's C broadcasts along); then P reads a copy of c as its bias. */
static int fuse_bias(ir_graph *g, ir_node *p, ir_node *a, const pass_options *o) {
  ir_tensor *y = p->out[0], *c = add_other(a, y);
  int conv = ir_node_is(p, "Conv");
  if (!c || !pass_is_const(c, o) || c->dtype != y->dtype || !ir_same_shape(a->out[0], y)) return 0;
  if (p->n_in > 2 && p->in[2]) return 0;
  if (!conv && !ir_node_is(p, "Gemm")) return 0;
  int axis = conv ? 1 : y->rank - 1;
  int64_t ch = y->shape[axis];
  if (c->rank > y->rank || ir_numel(c) != ch) return 0;
  for (int d = 0; d < c->rank; d++) {   /* right-aligned: 1 everywhere but the channel axis */
    int yd = d + y->rank - c->rank;
    if (c->shape[d] != (yd == axis ? ch : 1)) return 0;
  }
  ir_node_set_input(p, 2, ir_add_const_like(g, c, "_bias", 1, &ch, c->data));
  if (!conv) ir_attr_set_float(p, "beta", 1.0);
  ir_node_take_output(p, 0, a);
  return 1;
}

/* 2. residual: P reads r, the Add's other input, right after its own inputs. */
static int fuse_residual(ir_node *p, ir_node *a) {
  ir_tensor *y = p->out[0], *r = add_other(a, y);
  if (!r || r->data || r->dtype != y->dtype || !ir_same_shape(r, a->out[0]) || !ir_same_shape(y, a->out[0]))
    return 0;
  if (ir_attr_find(p, OP_EPI_RESIDUAL) || ir_attr_find(p, OP_EPI_ACT) || p->op->max_in < 1) return 0;
  int at = p->op->max_in - 1;   /* the residual slot: after the op's own inputs (epilogue.h) */
  ir_node_set_input(p, at, r);
  ir_attr_set_int(p, OP_EPI_RESIDUAL, at);
  ir_node_take_output(p, 0, a);
  return 1;
}

/* 3. activation: the act node b becomes P's _act with its alpha and beta. */
static int fuse_act(ir_node *p, ir_node *b, const pass_options *o) {
  op_act act = op_act_from_name(b->op_type);
  double alpha, beta;
  if (act == OP_ACT_NONE || *b->domain || ir_attr_find(p, OP_EPI_ACT) || b->in[0] != p->out[0]) return 0;
  if (!is_float(b->out[0]) || b->out[0]->dtype != p->out[0]->dtype) return 0;
  op_act_defaults(act, &alpha, &beta);
  if (act == OP_ACT_CLIP) {
    for (int k = 1; k < b->n_in; k++) {
      if (!b->in[k]) continue;
      if (!pass_is_const(b->in[k], o) || ir_numel(b->in[k]) != 1) return 0;
      if (k == 1) alpha = ir_const_f64(b->in[k], 0);
      else beta = ir_const_f64(b->in[k], 0);
    }
  } else if (act != OP_ACT_HARD_SWISH) {   /* HardSwish has no attributes: its constants are fixed */
    alpha = ir_attr_float(b, "alpha", alpha);
    beta = ir_attr_float(b, "beta", beta);
  }
  ir_attr_set_string(p, OP_EPI_ACT, op_act_name(act));
  ir_attr_set_float(p, OP_EPI_ALPHA, alpha);
  ir_attr_set_float(p, OP_EPI_BETA, beta);
  ir_node_take_output(p, 0, b);
  return 1;
}

/* A one-value constant input k of n equal to v. */
static int const_is(const ir_node *n, int k, double v) {
  const ir_tensor *t = k < n->n_in ? n->in[k] : NULL;
  return t && t->data && ir_numel(t) == 1 && is_float(t) && ir_const_f64(t, 0) == v;
}

/* 4. hard-swish written out: x -> {Add(x, 3) +Clip(0, 6) -> c, Mul(x, c) -> m}, Div(m, 6) -> h. */
static int fuse_hardswish(const ir_uses *u, ir_node *p) {
  ir_tensor *x = p->out[0];
  ir_node *add = NULL, *mul = NULL;
  if (ir_attr_find(p, OP_EPI_ACT) || ir_uses_count(u, x) != 2 || u->output[x->id]) return 0;
  for (int i = 0; i < 2; i++) {
    ir_node *r = ir_uses_of(u, x)[i];
    if (r->dead || guarded(r) || r->n_out != 1 || r->n_in != 2) return 0;
    if (ir_node_is(r, "Add")) add = r;
    else if (ir_node_is(r, "Mul")) mul = r;
  }
  if (!add || !mul || !const_is(add, add->in[0] == x ? 1 : 0, 3.0)) return 0;
  if (strcmp(ir_attr_string(add, OP_EPI_ACT, ""), "Clip") || ir_attr_float(add, OP_EPI_ALPHA, -1) != 0.0 ||
      ir_attr_float(add, OP_EPI_BETA, -1) != 6.0 || ir_attr_find(add, OP_EPI_RESIDUAL))
    return 0;
  ir_tensor *c = add->out[0];
  if (!ir_uses_only(u, c, mul) || ir_attr_find(mul, OP_EPI_ACT) || ir_attr_find(mul, OP_EPI_RESIDUAL)) return 0;
  if (!((mul->in[0] == x && mul->in[1] == c) || (mul->in[0] == c && mul->in[1] == x))) return 0;
  ir_tensor *m = mul->out[0];
  if (ir_uses_count(u, m) != 1 || u->output[m->id]) return 0;
  ir_node *div = ir_uses_of(u, m)[0];
  if (div->dead || guarded(div) || !ir_node_is(div, "Div") || div->n_out != 1 || div->in[0] != m ||
      !const_is(div, 1, 6.0) || ir_attr_find(div, OP_EPI_ACT) || ir_attr_find(div, OP_EPI_RESIDUAL))
    return 0;
  if (!ir_same_shape(div->out[0], x) || div->out[0]->dtype != x->dtype) return 0;
  double alpha, beta;
  op_act_defaults(OP_ACT_HARD_SWISH, &alpha, &beta);
  ir_attr_set_string(p, OP_EPI_ACT, op_act_name(OP_ACT_HARD_SWISH));
  ir_attr_set_float(p, OP_EPI_ALPHA, alpha);
  ir_attr_set_float(p, OP_EPI_BETA, beta);
  ir_node_take_output(p, 0, div);
  add->dead = mul->dead = 1;
  return 1;
}

static int producer(const ir_node *n) {
  return ir_node_is(n, "Conv") || ir_node_is(n, "Gemm") || ir_node_is(n, "MatMul");
}

static int arith(const ir_node *n) {
  return ir_node_is(n, "Add") || ir_node_is(n, "Sub") || ir_node_is(n, "Mul") || ir_node_is(n, "Div");
}

/* 5. SGD s reads the outer product p = u v^T (Gemm, K = 1) as its gradient:
 * it reads u and v instead, and p is dead. */
static int fuse_outer(const ir_uses *u, ir_node *p) {
  if (!ir_node_is(p, "Gemm") || p->n_in != 2 || p->n_out < 1 || !p->out[0]) return 0;   /* before reading in[1] */
  const ir_tensor *y = p->out[0], *a = p->in[0], *b = p->in[1];
  if (ir_uses_count(u, y) != 1 || u->output[y->id]) return 0;
  ir_node *s = ir_uses_of(u, y)[0];
  if (s->dead || guarded(s) || strcmp(s->op_type, "SGD") || strcmp(s->domain, "ai.modelc") || s->n_in < 2 ||
      s->in[1] != y || s->in[0] == y || (s->n_in > 2 && s->in[2] == y) || ir_attr_int(s, "_outer", 0))
    return 0;
  for (int i = 0; i < p->n_attr; i++)
    if (p->attrs[i].name[0] == '_') return 0;   /* an epilogue */
  int ta = (int)ir_attr_int(p, "transA", 0), tb = (int)ir_attr_int(p, "transB", 0);
  if (ir_attr_float(p, "alpha", 1.0) != 1.0 || a->rank != 2 || b->rank != 2 || y->rank != 2) return 0;
  if (a->shape[ta ? 0 : 1] != 1 || b->shape[tb ? 1 : 0] != 1) return 0;   /* K = 1: u and v are contiguous */
  if (a->dtype != y->dtype || b->dtype != y->dtype || !ir_same_shape(s->in[0], y)) return 0;
  ir_node_set_input(s, 1, p->in[0]);
  ir_node_set_input(s, 3, p->in[1]);
  ir_attr_set_int(s, "_outer", 1);
  p->dead = 1;
  return 1;
}

int pass_fuse(ir_graph *g, const pass_options *o) {
  if (ir_graph_has_subgraphs(g)) return 0;   /* outer reads by name: left alone */
  ir_uses u;
  ir_uses_build(g, &u);
  int fused = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *p = g->nodes[k], *next;
    if (p->dead || guarded(p) || !p->op || !(p->op->flags & OP_EPILOGUE) || p->n_out != 1 || !is_float(p->out[0]))
      continue;
    if (!producer(p) && !arith(p)) continue;
    if (producer(p) && (next = only_reader(&u, p)) && fuse_bias(g, p, next, o)) fused++;
    if (producer(p) && (next = only_reader(&u, p)) && fuse_residual(p, next)) fused++;
    if ((next = only_reader(&u, p)) && fuse_act(p, next, o)) fused++;
  }
  for (int k = 0; k < g->n_nodes; k++) {   /* after step 3 has fused the Clips */
    ir_node *p = g->nodes[k];
    if (!p->dead && !guarded(p) && producer(p) && p->n_out == 1 && is_float(p->out[0]) && fuse_hardswish(&u, p))
      fused++;
  }
  for (int k = 0; k < g->n_nodes; k++)   /* 5 */
    if (!g->nodes[k]->dead && !guarded(g->nodes[k]) && fuse_outer(&u, g->nodes[k])) fused++;
  ir_uses_free(&u);
  if (!fused) return 0;
  ir_graph_compact(g);
  return ir_graph_toposort(g);
}
