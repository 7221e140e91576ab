/*
 * test_opt_passes.c - the optimizing passes (identity.c, bnfold.c, fuse.c,
 * padfold.c, transfold.c, schedule.c, prune.c) on small graphs, each shown firing and not firing.
 *
 * The reference is always the interpreter on the unoptimized graph: each
 * graph is built twice by the same builder, once run through inference
 * only (every optimizing pass off) and once through the whole pipeline; the
 * optimized graph's interpreter outputs and its emitted C (built with cc)
 * must match the reference within rtol 1e-5.  What the pass did is asserted
 * on the optimized graph's nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/passes.h"
#include "compiler/passes/plan.h"
#include "runtime/interp.h"
#include "optest.h"

typedef ir_graph *(*builder)(void);

static void options_off(pass_options *o) {
  pass_options_default(o);
  o->identity = o->bnfold = o->fuse = o->schedule = o->inplace = o->padfold = o->transfold = o->prune = 0;
}

/* Deterministic float inputs for g's inputs. */
static void **make_inputs(const ir_graph *g) {
  void **in = calloc((size_t)g->n_inputs + 1, sizeof *in);
  ot_rnd_seed(7);
  for (int i = 0; i < g->n_inputs; i++) {
    int64_t n = ir_numel(g->inputs[i]);
    float *v = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t k = 0; k < n; k++) v[k] = (float)ot_rnd();
    in[i] = v;
  }
  return in;
}

static void free_inputs(const ir_graph *g, void **in) {
  for (int i = 0; i < g->n_inputs; i++) free(in[i]);
  free(in);
}

/* |got - want| <= 1e-5 * (1 + |want|) over output j's floats. */
static void expect_close(const float *got, const float *want, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    if (!(fabsf(got[k] - want[k]) <= 1e-5f * (1.0f + fabsf(want[k]))))
      fail_msg("element %lld: %.9g, reference %.9g", (long long)k, got[k], want[k]);
}

/* Run b's graph unoptimized (reference) and with o; compare the
 * interpreter and the C of the optimized one to the reference.  Returns
 * the optimized graph for the caller's structural checks. */
static ir_graph *run_both(builder b, const pass_options *o) {
  pass_options off;
  options_off(&off);
  ir_graph *ref = b(), *opt = b();
  if (pass_run_all(ref, &off) < 0) fail_msg("reference: %s", ir_last_error());
  if (pass_run_all(opt, o) < 0) fail_msg("optimized: %s", ir_last_error());
  assert_int_equal(plan_check(opt), 0);
  void **in = make_inputs(ref);
  interp_ctx cr, co;
  assert_int_equal(interp_run(&cr, ref, (const void *const *)in), 0);
  assert_int_equal(interp_run(&co, opt, (const void *const *)in), 0);
  char dir[64];
  ot_cc_opts cc = {"optpass", "MODELC_KEEP", "-O2", 0, 0, NULL};
  ot_emit_tmp(opt, "optpass", dir);
  ot_write_driver(opt, dir, in);
  ot_build_run(dir, &cc);
  for (int j = 0; j < ref->n_outputs; j++) {
    const float *want = interp_value(&cr, ref->outputs[j]);
    expect_close(interp_value(&co, opt->outputs[j]), want, ir_numel(ref->outputs[j]));
    float *c = ot_read_output(opt, dir, j);
    expect_close(c, want, ir_numel(ref->outputs[j]));
    free(c);
  }
  ot_cleanup(dir, cc.keep_env);
  interp_free(&cr);
  interp_free(&co);
  free_inputs(ref, in);
  ir_graph_free(ref);
  return opt;
}

static int count_op(const ir_graph *g, const char *op) {
  int c = 0;
  for (int k = 0; k < g->n_nodes; k++) c += !strcmp(g->nodes[k]->op_type, op);
  return c;
}

static const double W[54] = {0.1, -0.2, 0.3, 0.05, -0.1, 0.2, 0.4, -0.3, 0.1,  -0.2, 0.1, 0.0, 0.3, 0.2, -0.1,
                             0.1, 0.05, -0.4, 0.2, 0.1,  -0.1, 0.3, 0.2, -0.2, 0.1, 0.0, 0.15, -0.25, 0.35,
                             0.1, -0.05, 0.2, 0.1, -0.3, 0.2, 0.4, 0.1, 0.2,   -0.1, 0.3, 0.05, 0.2, -0.2, 0.1,
                             0.3, -0.1, 0.2, 0.1, 0.0, -0.3, 0.25, 0.1, -0.15, 0.2};

/* x[1,2,5,5] -> Conv(W[3,2,3,3], pads 1) -> BatchNormalization -> Add(r) -> Relu -> y */
static ir_graph *conv_bn_res_relu_g(int conv_out_is_output) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 4, DIMS(1, 2, 5, 5)), *r = ot_input(g, "r", IR_F32, 4, DIMS(1, 3, 5, 5));
  ir_tensor *w = ot_const(g, "w", IR_F32, 4, DIMS(3, 2, 3, 3), W);
  ir_node *conv = ot_node(g, "Conv", 13, 2, IN(x, w), 1);
  ir_attr_set_ints(conv, "pads", 4, DIMS(1, 1, 1, 1));
  ir_tensor *sc = ot_const(g, "sc", IR_F32, 1, DIMS(3), D(1.5, 0.5, -2.0));
  ir_tensor *bi = ot_const(g, "bi", IR_F32, 1, DIMS(3), D(0.1, -0.2, 0.3));
  ir_tensor *mu = ot_const(g, "mu", IR_F32, 1, DIMS(3), D(0.05, 0.1, -0.1));
  ir_tensor *va = ot_const(g, "va", IR_F32, 1, DIMS(3), D(0.9, 1.2, 0.3));
  ir_node *bn = ot_node(g, "BatchNormalization", 15, 5, IN(conv->out[0], sc, bi, mu, va), 1);
  ir_node *add = ot_node(g, "Add", 14, 2, IN(r, bn->out[0]), 1);
  ir_node *relu = ot_node(g, "Relu", 14, 1, IN(add->out[0]), 1);
  ir_graph_add_output(g, relu->out[0]);
  if (conv_out_is_output) ir_graph_add_output(g, conv->out[0]);
  return g;
}
static ir_graph *conv_bn_res_relu(void) { return conv_bn_res_relu_g(0); }
static ir_graph *conv_bn_res_relu_shared(void) { return conv_bn_res_relu_g(1); }

/* BN folds into the Conv, the residual Add and the Relu fuse: one node. */
static void test_conv_bn_residual_relu_fuse(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(conv_bn_res_relu, &o);
  assert_int_equal(g->n_nodes, 1);
  ir_node *n = g->nodes[0];
  assert_string_equal(n->op_type, "Conv");
  assert_string_equal(ir_attr_string(n, "_act", ""), "Relu");
  assert_int_equal(ir_attr_int(n, "_residual", -1), 3);
  assert_non_null(n->in[2]);   /* the folded bias */
  assert_ptr_equal(n->out[0], g->outputs[0]);
  ir_graph_free(g);
  /* switched off, nothing fuses */
  o.bnfold = o.fuse = 0;
  g = run_both(conv_bn_res_relu, &o);
  assert_int_equal(g->n_nodes, 4);
  ir_graph_free(g);
}

/* The Conv's output is also a graph output: neither BN nor anything after
 * may take it over; the BN, the Add and the Relu still fuse among
 * themselves as far as they can (Add + Relu). */
static void test_conv_output_shared_not_fused(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(conv_bn_res_relu_shared, &o);
  assert_int_equal(count_op(g, "BatchNormalization"), 1);
  assert_int_equal(count_op(g, "Conv"), 1);
  for (int k = 0; k < g->n_nodes; k++)
    if (!strcmp(g->nodes[k]->op_type, "Conv")) assert_null(ir_attr_find(g->nodes[k], "_act"));
  assert_int_equal(count_op(g, "Relu"), 0);   /* Relu went into the Add */
  ir_graph_free(g);
}

/* a[4,6] -> Gemm(B[6,5]) -> Add(c) -> Clip(0, 0.5) -> y, c per column (fires)
 * or per element (bias does not fold; the Clip still fuses into the Add). */
static ir_graph *gemm_bias_clip_g(int per_element) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 2, DIMS(4, 6));
  ir_tensor *b = ot_const(g, "b", IR_F32, 2, DIMS(6, 5), W);
  ir_node *gemm = ot_node(g, "Gemm", 13, 2, IN(a, b), 1);
  ir_tensor *c = per_element ? ot_const(g, "c", IR_F32, 2, DIMS(4, 5), W + 10)
                             : ot_const(g, "c", IR_F32, 1, DIMS(5), D(0.1, -0.2, 0.3, 0.0, 0.5));
  ir_node *add = ot_node(g, "Add", 14, 2, IN(gemm->out[0], c), 1);
  ir_tensor *lo = ot_const(g, "lo", IR_F32, 0, NULL, D(0.0)), *hi = ot_const(g, "hi", IR_F32, 0, NULL, D(0.5));
  ir_node *clip = ot_node(g, "Clip", 13, 3, IN(add->out[0], lo, hi), 1);
  ir_graph_add_output(g, clip->out[0]);
  return g;
}
static ir_graph *gemm_bias_clip(void) { return gemm_bias_clip_g(0); }
static ir_graph *gemm_bias_clip_elem(void) { return gemm_bias_clip_g(1); }

static void test_gemm_bias_clip(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(gemm_bias_clip, &o);
  assert_int_equal(g->n_nodes, 1);
  assert_string_equal(g->nodes[0]->op_type, "Gemm");
  assert_string_equal(ir_attr_string(g->nodes[0], "_act", ""), "Clip");
  assert_true(ir_attr_float(g->nodes[0], "_act_beta", 0) == 0.5);
  ir_graph_free(g);
  g = run_both(gemm_bias_clip_elem, &o);
  assert_int_equal(g->n_nodes, 2);
  assert_int_equal(count_op(g, "Add"), 1);
  assert_null(ir_attr_find(g->nodes[0], "_act"));
  ir_graph_free(g);
}

/* x -> Relu -> Identity -> Dropout -> y: only the Relu is left, writing y.
 * With the Dropout's mask an output too, the Dropout stays. */
static ir_graph *identity_chain_g(int mask) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(8));
  ir_node *relu = ot_node(g, "Relu", 14, 1, IN(x), 1);
  ir_node *id = ot_node(g, "Identity", 14, 1, IN(relu->out[0]), 1);
  ir_node *dr = ot_node(g, "Dropout", 13, 1, IN(id->out[0]), mask ? 2 : 1);
  ir_graph_add_output(g, dr->out[0]);
  if (mask) ir_graph_add_output(g, dr->out[1]);
  return g;
}
static ir_graph *identity_chain(void) { return identity_chain_g(0); }

static void test_identity_dropout_removed(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(identity_chain, &o);
  assert_int_equal(g->n_nodes, 1);
  assert_string_equal(g->nodes[0]->op_type, "Relu");
  assert_ptr_equal(g->nodes[0]->out[0], g->outputs[0]);
  ir_graph_free(g);
  /* with the mask wanted (it is bool: checked structurally only) */
  ir_graph *h = identity_chain_g(1);
  assert_int_equal(pass_run_all(h, &o), 0);
  assert_int_equal(count_op(h, "Dropout"), 1);
  assert_int_equal(count_op(h, "Identity"), 0);
  ir_graph_free(h);
}

/* Two chains x -> Tile (big) -> ReduceSum (small), given interleaved: the
 * schedule finishes one chain before opening the other. */
static ir_graph *two_chains(void) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(16));
  ir_tensor *rep = ot_const_ints(g, "rep", 1, DIMS(64));
  ir_node *ta = ot_node(g, "Tile", 13, 2, IN(x, rep), 1);
  ir_node *na = ot_node(g, "Neg", 13, 1, IN(x), 1);
  ir_node *tb = ot_node(g, "Tile", 13, 2, IN(na->out[0], rep), 1);
  ir_node *sa = ot_node(g, "ReduceSum", 13, 1, IN(ta->out[0]), 1);
  ir_node *sb = ot_node(g, "ReduceMax", 13, 1, IN(tb->out[0]), 1);
  ir_node *y = ot_node(g, "Add", 14, 2, IN(sa->out[0], sb->out[0]), 1);
  ir_graph_add_output(g, y->out[0]);
  return g;
}

static void test_schedule_lowers_peak(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  o.schedule = 0;
  ir_graph *g = run_both(two_chains, &o);
  int64_t before = g->arena_lower_bound;
  ir_graph_free(g);
  o.schedule = 1;
  g = run_both(two_chains, &o);
  assert_true(g->arena_lower_bound < before);
  assert_true(g->arena_bytes <= before);
  ir_graph_free(g);
  /* already the best order: left as it is */
  g = run_both(identity_chain, &o);
  assert_int_equal(g->n_nodes, 1);
  ir_graph_free(g);
}

/* x[1,2,6,6] -> Pad(spatial 1,2 / 2,1, value v) -> Conv | AveragePool | MaxPool -> y */
static ir_graph *pad_window(const char *op, double value, int own_pads) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 4, DIMS(1, 2, 6, 6));
  ir_tensor *pads = ot_const_ints(g, "pads", 8, DIMS(0, 0, 1, 2, 0, 0, 2, 1));
  ir_tensor *val = ot_const(g, "val", IR_F32, 0, NULL, D(value));
  ir_node *pad = ot_node(g, "Pad", 13, 3, IN(x, pads, val), 1);
  ir_node *w;
  if (!strcmp(op, "Conv")) {
    ir_tensor *wt = ot_const(g, "w", IR_F32, 4, DIMS(3, 2, 3, 3), W);
    w = ot_node(g, "Conv", 13, 2, IN(pad->out[0], wt), 1);
  } else {
    w = ot_node(g, op, 13, 1, IN(pad->out[0]), 1);
    ir_attr_set_ints(w, "kernel_shape", 2, DIMS(3, 3));
  }
  if (own_pads) ir_attr_set_ints(w, "pads", 4, DIMS(1, 0, 0, 1));
  ir_graph_add_output(g, w->out[0]);
  return g;
}
static ir_graph *pad_conv(void) { return pad_window("Conv", 0.0, 1); }
static ir_graph *pad_conv_one(void) { return pad_window("Conv", 1.0, 0); }
static ir_graph *pad_avg(void) { return pad_window("AveragePool", 0.0, 0); }
static ir_graph *pad_avg_own(void) { return pad_window("AveragePool", 0.0, 1); }
static ir_graph *pad_max(void) { return pad_window("MaxPool", -INFINITY, 1); }
static ir_graph *pad_max_zero(void) { return pad_window("MaxPool", 0.0, 0); }

static void expect_pad(builder b, int folded) {
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(b, &o);
  assert_int_equal(count_op(g, "Pad"), !folded);
  ir_graph_free(g);
}

/* Zero padding folds into Conv and (counted, count_include_pad=1) into
 * AveragePool, -inf padding into MaxPool; a value that the window op
 * cannot express, or an AveragePool whose own padding is not counted,
 * keeps the Pad. */
static void test_pad_folds_into_windows(void **state) {
  (void)state;
  expect_pad(pad_conv, 1);
  expect_pad(pad_avg, 1);
  expect_pad(pad_max, 1);
  expect_pad(pad_conv_one, 0);
  expect_pad(pad_avg_own, 0);
  expect_pad(pad_max_zero, 0);
}

/* a[6,4] -> Transpose -> Gemm(A^T, B[6,5]) -> y: the Gemm reads a with
 * transA=1.  With the transposed tensor also a graph output, it stays. */
static ir_graph *transpose_gemm_g(int shared) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 2, DIMS(6, 4));
  ir_node *t = ot_node(g, "Transpose", 13, 1, IN(a), 1);
  ir_tensor *b = ot_const(g, "b", IR_F32, 2, DIMS(6, 5), W);
  ir_node *gemm = ot_node(g, "Gemm", 13, 2, IN(t->out[0], b), 1);
  ir_graph_add_output(g, gemm->out[0]);
  if (shared) ir_graph_add_output(g, t->out[0]);
  return g;
}
static ir_graph *transpose_gemm(void) { return transpose_gemm_g(0); }
static ir_graph *transpose_gemm_shared(void) { return transpose_gemm_g(1); }

static void test_transpose_folds_into_gemm(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(transpose_gemm, &o);
  assert_int_equal(g->n_nodes, 1);
  assert_int_equal(ir_attr_int(g->nodes[0], "transA", 0), 1);
  ir_graph_free(g);
  g = run_both(transpose_gemm_shared, &o);
  assert_int_equal(count_op(g, "Transpose"), 1);
  assert_int_equal(ir_attr_int(g->nodes[1], "transA", 0), 0);
  ir_graph_free(g);
}

/* x[1,2,5,5] -> Conv(W[3,2,3,3], pads 1) -> v; Clip(v + 3, 0, 6) -> c;
 * v * c -> m; m / d -> y: the hard-swish PaddleOCR exports.  With d = 6
 * the Conv applies HardSwish and is the only node; with d = 5 it is no
 * hard-swish and all four nodes stay (the Clip fused into the Add). */
static ir_graph *conv_hardswish_g(double d) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 4, DIMS(1, 2, 5, 5));
  ir_tensor *w = ot_const(g, "w", IR_F32, 4, DIMS(3, 2, 3, 3), W);
  ir_node *conv = ot_node(g, "Conv", 13, 2, IN(x, w), 1);
  ir_attr_set_ints(conv, "pads", 4, DIMS(1, 1, 1, 1));
  ir_tensor *v = conv->out[0];
  ir_node *add = ot_node(g, "Add", 14, 2, IN(v, ot_const(g, "three", IR_F32, 0, NULL, D(3.0))), 1);
  ir_node *clip = ot_node(g, "Clip", 13, 3,
                          IN(add->out[0], ot_const(g, "lo", IR_F32, 0, NULL, D(0.0)), ot_const(g, "hi", IR_F32, 0, NULL, D(6.0))), 1);
  ir_node *mul = ot_node(g, "Mul", 14, 2, IN(v, clip->out[0]), 1);
  ir_node *div = ot_node(g, "Div", 14, 2, IN(mul->out[0], ot_const(g, "six", IR_F32, 0, NULL, D(d))), 1);
  ir_graph_add_output(g, div->out[0]);
  return g;
}
static ir_graph *conv_hardswish(void) { return conv_hardswish_g(6.0); }
static ir_graph *conv_not_hardswish(void) { return conv_hardswish_g(5.0); }

static void test_hardswish_written_out_fuses(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(conv_hardswish, &o);
  assert_int_equal(g->n_nodes, 1);
  assert_string_equal(ir_attr_string(g->nodes[0], "_act", ""), "HardSwish");
  ir_graph_free(g);
  g = run_both(conv_not_hardswish, &o);
  assert_int_equal(g->n_nodes, 4);
  assert_string_equal(ir_attr_string(g->nodes[0], "_act", ""), "");
  ir_graph_free(g);
}

/* x[3,1,4] -> GRU(H 5) -> Y, Y_h; Relu(Y_h) -> y.  Y is read by nobody, so
 * prune drops it (the node's output 0 becomes NULL, the GRU writes no Y);
 * with Y also a graph output it stays. */
static ir_graph *gru_g(int y_is_output) {
  ir_graph *g = ir_graph_new("t", NULL);
  double w[60], r[75];
  for (int i = 0; i < 60; i++) w[i] = 0.3 * sin(0.7 * i);
  for (int i = 0; i < 75; i++) r[i] = 0.2 * cos(0.3 * i);
  ir_tensor *x = ot_input(g, "x", IR_F32, 3, DIMS(3, 1, 4));
  ir_tensor *wt = ot_const(g, "w", IR_F32, 3, DIMS(1, 15, 4), w), *rt = ot_const(g, "r", IR_F32, 3, DIMS(1, 15, 5), r);
  ir_node *gru = ot_node(g, "GRU", 14, 3, IN(x, wt, rt), 2);
  ir_attr_set_int(gru, "hidden_size", 5);
  ir_node *relu = ot_node(g, "Relu", 14, 1, IN(gru->out[1]), 1);
  ir_graph_add_output(g, relu->out[0]);
  if (y_is_output) ir_graph_add_output(g, gru->out[0]);
  return g;
}
static ir_graph *gru_y_unread(void) { return gru_g(0); }
static ir_graph *gru_y_read(void) { return gru_g(1); }

static void test_prune_unread_rnn_output(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  ir_graph *g = run_both(gru_y_unread, &o);
  assert_string_equal(g->nodes[0]->op_type, "GRU");
  assert_null(g->nodes[0]->out[0]);
  assert_non_null(g->nodes[0]->out[1]);
  ir_graph_free(g);
  g = run_both(gru_y_read, &o);
  assert_non_null(g->nodes[0]->out[0]);
  ir_graph_free(g);
  o.prune = 0;   /* switched off: Y stays */
  g = run_both(gru_y_unread, &o);
  assert_non_null(g->nodes[0]->out[0]);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_conv_bn_residual_relu_fuse),
    cmocka_unit_test(test_conv_output_shared_not_fused),
    cmocka_unit_test(test_gemm_bias_clip),
    cmocka_unit_test(test_identity_dropout_removed),
    cmocka_unit_test(test_schedule_lowers_peak),
    cmocka_unit_test(test_pad_folds_into_windows),
    cmocka_unit_test(test_transpose_folds_into_gemm),
    cmocka_unit_test(test_prune_unread_rnn_output),
    cmocka_unit_test(test_hardswish_written_out_fuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
