/*
 * bnfold.c - BatchNormalization folded into the Conv or Gemm before it.
 *
 * require: graph inferred and topologically sorted, nodes bound.
 * guarantee: unless o->training, every inference-mode BatchNormalization
 *          (training_mode 0, one output) whose input is the output of a
 *          Conv or Gemm that nothing else reads, with constant scale, bias,
 *          mean and variance and a producer whose weights (and bias, if
 *          any) are constants and that carries no epilogue yet, is gone:
 *          the producer reads new constants W' = W * s and b' = (b - mean)
 *          * s + bias per output channel, s = scale / sqrt(var + epsilon),
 *          and writes the BatchNormalization's output tensor; it carries
 *          OP_FOLDED naming the op folded in.  The original
 *          weights are left for other readers (dead-node elimination drops
 *          them when nobody reads them).
 *
 * Channels are axis 1 of the BatchNormalization's input: a Conv's output
 * channels (W's axis 0), a Gemm's columns (B's axis 1, or 0 with transB).
 * A Gemm's C folds when it holds one value per column (or one value).
 */
#include "passes.h"
#include "../ops/op.h"
#include "../ops/epilogue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void store(ir_dtype dt, void *buf, int64_t i, double v) {
  if (dt == IR_F32) ((float *)buf)[i] = (float)v;
  else ((double *)buf)[i] = v;
}

/* 1. the per-channel scale s and shift t of BN node b (ch channels) */
static int bn_affine(const ir_node *b, int64_t ch, double *s, double *t) {
  double eps = ir_attr_float(b, "epsilon", 1e-5);
  for (int k = 1; k <= 4; k++)
    if (!b->in[k] || !b->in[k]->data || ir_numel(b->in[k]) != ch) return 0;
  for (int64_t c = 0; c < ch; c++) {
    s[c] = ir_const_f64(b->in[1], c) / sqrt(ir_const_f64(b->in[4], c) + eps);
    t[c] = ir_const_f64(b->in[2], c) - ir_const_f64(b->in[3], c) * s[c];
  }
  return 1;
}

/* 2. fold into p: new weights scaled per channel, a new bias. */
static int fold_into(ir_graph *g, ir_node *p, int64_t ch, const double *s, const double *t) {
  ir_tensor *w = p->in[1], *bias = p->n_in > 2 ? p->in[2] : NULL;
  int conv = ir_node_is(p, "Conv"), tb = (int)ir_attr_int(p, "transB", 0);
  double beta = conv ? 1.0 : ir_attr_float(p, "beta", 1.0);
  if (!w->data || (bias && !bias->data) || w->dtype != p->out[0]->dtype) return 0;
  if (bias && ir_numel(bias) != ch && ir_numel(bias) != 1) return 0;
  if (bias && !conv && bias->rank == 2 && bias->shape[0] != 1) return 0;   /* C must be per column */
  int64_t n = ir_numel(w);
  size_t es = ir_dtype_size(w->dtype);
  void *wd = malloc((size_t)n * es + 1), *bd = malloc((size_t)ch * es + 1);
  if (!wd || !bd) {
    free(wd);
    free(bd);
    return ir_error("batchnorm folding: out of memory");
  }
  int64_t inner = conv ? n / ch : (tb ? w->shape[1] : 1);   /* elements per channel run */
  for (int64_t i = 0; i < n; i++) {
    int64_t c = conv || tb ? i / inner : i % ch;
    store(w->dtype, wd, i, ir_const_f64(w, i) * s[c]);
  }
  for (int64_t c = 0; c < ch; c++) {
    double b0 = bias ? beta * ir_const_f64(bias, ir_numel(bias) == 1 ? 0 : c) : 0.0;
    store(w->dtype, bd, c, b0 * s[c] + t[c]);
  }
  ir_node_set_input(p, 1, ir_add_const_like(g, w, "_bnfold", w->rank, w->shape, wd));
  ir_node_set_input(p, 2, ir_add_const_like(g, w, "_bnfold_bias", 1, &ch, bd));
  if (!conv) ir_attr_set_float(p, "beta", 1.0);
  ir_attr_set_string(p, OP_FOLDED, "BatchNormalization");   /* for `modelc graph` */
  free(wd);
  free(bd);
  return 1;
}

int pass_bnfold(ir_graph *g, const pass_options *o) {
  if (o->training) return 0;   /* training updates the statistics: they are no constants */
  ir_uses u;
  ir_uses_build(g, &u);
  int folded = 0, rc = 0;
  for (int k = 0; k < g->n_nodes && rc >= 0; k++) {
    ir_node *b = g->nodes[k];
    if (b->dead || !ir_node_is(b, "BatchNormalization") || ir_attr_int(b, "training_mode", 0)) continue;
    if (b->n_in < 5 || ir_attr_find(b, "_guard")) continue;
    int outs = 0;
    for (int j = 0; j < b->n_out; j++) outs += b->out[j] != NULL;
    ir_tensor *x = b->in[0];
    ir_node *p = x->producer;
    if (outs != 1 || !b->out[0] || !p || p->dead || !ir_uses_only(&u, x, b) || p->n_out != 1) continue;
    if (!(ir_node_is(p, "Conv") || ir_node_is(p, "Gemm")) || op_epilogue_present(p) || ir_attr_find(p, "_guard")) continue;
    if ((x->dtype != IR_F32 && x->dtype != IR_F64) || x->rank < 2 || p->n_in < 2) continue;
    if (ir_node_is(p, "Gemm") && (x->rank != 2 || ir_attr_int(p, "transA", 0) < 0)) continue;
    int64_t ch = x->shape[1];
    double *s = malloc(sizeof(double) * (size_t)(2 * ch + 1));
    if (!s) return ir_error("batchnorm folding: out of memory");
    if (bn_affine(b, ch, s, s + ch) && (rc = fold_into(g, p, ch, s, s + ch)) > 0) {
      ir_node_take_output(p, 0, b);
      folded++;
    }
    free(s);
  }
  ir_uses_free(&u);
  if (rc < 0) return -1;
  if (folded) ir_graph_compact(g);
  return 0;
}
