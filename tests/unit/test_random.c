/*
 * test_random.c - the random generator of docs/random.md and the ops on
 * it: RandomUniform(Like), RandomNormal(Like), Bernoulli and Dropout in
 * training mode.
 *
 *  - the interpreter (runtime/kernels/interp_random.c) and the emitted C
 *    (compiler/backend/emit_random.c) give the same bytes for the same
 *    seeds and step, built with gcc -O3 -march=native and with clang under
 *    ASan/UBSan;
 *  - the draws have the distribution they claim: mean and variance within
 *    five standard errors, Bernoulli's and Dropout's kept fractions too;
 *    Dropout scales what it keeps by 1/(1 - ratio) and zeroes the rest;
 *  - the step input changes the stream and the seed fixes it, and nodes
 *    without a seed draw different streams;
 *  - Dropout's gradient applies the forward's mask.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/ops/ops_random.h"
#include "compiler/passes/passes.h"
#include "runtime/interp.h"
#include "runtime/kernels/kutil.h"
#include "optest.h"

static ir_node *node(ir_graph *g, const char *op, int opset, int n_in, ir_tensor *const *in, int n_out) {
  return ot_node(g, op, opset, n_in, in, n_out);
}

static ir_tensor *bool_const(ir_graph *g, const char *name, int v) {
  uint8_t b = (uint8_t)v;
  return ot_const_raw(g, name, IR_BOOL, 0, NULL, &b);
}

static ir_tensor *step_input(ir_graph *g) { return ot_input(g, "step", IR_I64, 0, NULL); }

/* A training Dropout of x with the given ratio (and step when non-NULL), outputs y and mask. */
static ir_node *dropout(ir_graph *g, ir_tensor *x, double ratio, ir_tensor *step) {
  static int k;
  char rn[16], tn[16];
  snprintf(rn, sizeof rn, "ratio%d", k);
  snprintf(tn, sizeof tn, "tm%d", k++);
  ir_tensor *in[4] = {x, ot_const(g, rn, IR_F32, 0, NULL, &ratio), bool_const(g, tn, 1), step};
  return node(g, "Dropout", 13, step ? 4 : 3, in, 2);
}

/* Run g (inferred by ot_ok) on inputs through the interpreter; the caller frees with interp_free. */
static void run(interp_ctx *c, ir_graph *g, const void *const *inputs) {
  assert_int_equal(ir_graph_toposort(g), 0);
  if (interp_run(c, g, inputs) < 0) fail_msg("%s", ir_last_error());
}

/* ---- interpreter and C agree bit for bit ------------------------------------ */

static void test_interp_and_c_agree(void **state) {
  (void)state;
  ot_need_compilers();   /* before ot_emit_tmp makes a folder that a skip would leave behind */
  enum { N = 1000 };
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(N));
  ir_tensor *p = ot_input(g, "p", IR_F64, 1, DIMS(N));
  ir_tensor *step = step_input(g);
  ir_node *u = node(g, "RandomUniform", 1, 1, &step, 1);
  ir_attr_set_ints(u, "shape", 2, DIMS(40, 25));
  ir_attr_set_float(u, "seed", 7);
  ir_attr_set_float(u, "low", -2);
  ir_attr_set_float(u, "high", 3);
  ir_node *nrm = node(g, "RandomNormal", 1, 0, NULL, 1);
  ir_attr_set_ints(nrm, "shape", 1, DIMS(N));
  ir_attr_set_int(nrm, "dtype", 11);
  ir_attr_set_float(nrm, "mean", 1);
  ir_attr_set_float(nrm, "scale", 2);
  ir_node *ul = node(g, "RandomUniformLike", 1, 2, IN(x, step), 1);
  ir_attr_set_int(ul, "dtype", 11);
  ir_node *nl = node(g, "RandomNormalLike", 1, 1, &x, 1);
  ir_node *b = node(g, "Bernoulli", 15, 2, IN(p, step), 1);
  ir_node *bb = node(g, "Bernoulli", 15, 1, &p, 1);
  ir_attr_set_int(bb, "dtype", 9);   /* bool */
  ir_node *d = dropout(g, x, 0.3, step);
  ir_node *all[] = {u, nrm, ul, nl, b, bb, d};
  for (int k = 0; k < 7; k++) {
    ot_ok(g, all[k]);
    for (int j = 0; j < all[k]->n_out; j++) ir_graph_add_output(g, all[k]->out[j]);
  }
  float xv[N];
  double pv[N];
  int64_t sv = 5;
  for (int i = 0; i < N; i++) {
    xv[i] = (float)ot_rnd();
    pv[i] = (double)i / N;
  }
  void *inputs[3] = {xv, pv, &sv};
  interp_ctx c;
  run(&c, g, (const void *const *)inputs);
  char dir[64];
  const ot_cc_opts o = {"test_random", "TEST_RANDOM_KEEP", "-O3 -march=native", 1, 0, NULL};
  ot_emit_tmp(g, "test_random", dir);
  ot_write_driver(g, dir, inputs);
  ot_build_run(dir, &o);
  for (int j = 0; j < g->n_outputs; j++) {
    unsigned char *got = ot_read_output(g, dir, j);
    if (memcmp(got, interp_value(&c, g->outputs[j]), (size_t)ir_nbytes(g->outputs[j])))
      fail_msg("output %d ('%s'): the C and the interpreter differ (files in %s)", j, g->outputs[j]->name, dir);
    free(got);
  }
  interp_free(&c);
  ot_cleanup(dir, o.keep_env);
  ir_graph_free(g);
}

/* ---- statistics ------------------------------------------------------------- */

enum { M = 200000 };

static void moments(const ir_tensor *t, const void *v, double *mean, double *var) {
  double s = 0, ss = 0;
  for (int64_t i = 0; i < ir_numel(t); i++) s += kload_f(t->dtype, v, i);
  *mean = s / (double)ir_numel(t);
  for (int64_t i = 0; i < ir_numel(t); i++) {
    double d = kload_f(t->dtype, v, i) - *mean;
    ss += d * d;
  }
  *var = ss / (double)ir_numel(t);
}

/* |got - want| within five standard errors */
static void within(const char *what, double got, double want, double se) {
  if (!(fabs(got - want) <= 5 * se)) fail_msg("%s: %.6g, expected %.6g within 5 x %.3g", what, got, want, se);
}

static void test_distributions(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *u = node(g, "RandomUniform", 1, 0, NULL, 1);
  ir_attr_set_ints(u, "shape", 1, DIMS(M));
  ir_attr_set_float(u, "low", -2);
  ir_attr_set_float(u, "high", 3);
  ir_node *nrm = node(g, "RandomNormal", 1, 0, NULL, 1);
  ir_attr_set_ints(nrm, "shape", 2, DIMS(M / 100, 100));
  ir_attr_set_int(nrm, "dtype", 11);
  ir_attr_set_float(nrm, "mean", 1);
  ir_attr_set_float(nrm, "scale", 2);
  ir_node *nf = node(g, "RandomNormal", 1, 0, NULL, 1);   /* float32: drawn in float arithmetic */
  ir_attr_set_ints(nf, "shape", 1, DIMS(M));
  ir_attr_set_float(nf, "mean", -3);
  ir_attr_set_float(nf, "scale", 0.5);
  double pr = 0.3;
  ir_tensor *p = ot_const(g, "p", IR_F64, 0, NULL, &pr);
  ir_node *pe = node(g, "Expand", 13, 2, IN(p, ot_const_ints(g, "shape", 1, DIMS(M))), 1);
  ot_ok(g, u);
  ot_ok(g, nrm);
  ot_ok(g, nf);
  ot_ok(g, pe);
  ir_node *b = node(g, "Bernoulli", 15, 1, &pe->out[0], 1);
  ot_ok(g, b);
  for (int k = 0; k < g->n_nodes; k++) ir_graph_add_output(g, g->nodes[k]->out[0]);
  interp_ctx c;
  run(&c, g, NULL);
  double mean, var, lo = 1e9, hi = -1e9;
  const float *uv = interp_value(&c, u->out[0]);
  for (int i = 0; i < M; i++) {
    lo = uv[i] < lo ? uv[i] : lo;
    hi = uv[i] > hi ? uv[i] : hi;
  }
  assert_true(lo >= -2 && hi < 3 && lo < -1.99 && hi > 2.99);
  moments(u->out[0], uv, &mean, &var);
  within("uniform mean", mean, 0.5, sqrt(25.0 / 12 / M));
  within("uniform variance", var, 25.0 / 12, 625.0 * sqrt(1.0 / 80 - 1.0 / 144) / sqrt(M));
  moments(nrm->out[0], interp_value(&c, nrm->out[0]), &mean, &var);
  within("normal mean", mean, 1, 2 / sqrt(M));
  within("normal variance", var, 4, 4 * sqrt(2.0 / M));
  moments(nf->out[0], interp_value(&c, nf->out[0]), &mean, &var);
  within("float normal mean", mean, -3, 0.5 / sqrt(M));
  within("float normal variance", var, 0.25, 0.25 * sqrt(2.0 / M));
  moments(b->out[0], interp_value(&c, b->out[0]), &mean, &var);
  within("Bernoulli fraction", mean, 0.3, sqrt(0.21 / M));
  interp_free(&c);
  ir_graph_free(g);
}

/* Dropout keeps about 1 - ratio of x, scaled by 1/(1 - ratio), zeroes the rest, and says so in its mask. */
static void test_dropout_keeps_and_scales(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    double ratio = k ? 0.75 : 0.3;
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(M / 50, 50));
    ir_node *d = dropout(g, x, ratio, NULL);
    ot_ok(g, d);
    ir_graph_add_output(g, d->out[0]);
    ir_graph_add_output(g, d->out[1]);
    float *xv = malloc(sizeof *xv * M);
    for (int i = 0; i < M; i++) xv[i] = (float)(1 + (i % 7));   /* never 0, so a dropped element shows */
    const void *in[1] = {xv};
    interp_ctx c;
    run(&c, g, in);
    const float *y = interp_value(&c, d->out[0]);
    const uint8_t *mask = interp_value(&c, d->out[1]);
    int64_t kept = 0;
    for (int i = 0; i < M; i++) {
      float want = mask[i] ? (float)((double)xv[i] / (1 - ratio)) : 0.0f;
      if (fabsf(y[i] - want) > 1e-6f * fabsf(want)) fail_msg("element %d: %g, expected %g", i, y[i], want);
      kept += mask[i] != 0;
    }
    within("Dropout's kept fraction", (double)kept / M, 1 - ratio, sqrt(ratio * (1 - ratio) / M));
    interp_free(&c);
    free(xv);
    ir_graph_free(g);
  }
}

/* ---- seeds and steps -------------------------------------------------------- */

/* Fraction of equal mask elements of two Dropouts (seeds s1, s2; steps t1, t2 as inputs). */
static double agreement(int64_t s1, int64_t s2, int64_t t1, int64_t t2, int seeded) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(4096));
  ir_tensor *st1 = ot_input(g, "t1", IR_I64, 0, NULL), *st2 = ot_input(g, "t2", IR_I64, 0, NULL);
  ir_node *d1 = dropout(g, x, 0.5, st1), *d2 = dropout(g, x, 0.5, st2);
  if (seeded) {
    ir_attr_set_int(d1, "seed", s1);
    ir_attr_set_int(d2, "seed", s2);
  }
  ot_ok(g, d1);
  ot_ok(g, d2);
  ir_graph_add_output(g, d1->out[1]);
  ir_graph_add_output(g, d2->out[1]);
  static float xv[4096];
  const void *in[3] = {xv, &t1, &t2};
  interp_ctx c;
  run(&c, g, in);
  const uint8_t *m1 = interp_value(&c, d1->out[1]), *m2 = interp_value(&c, d2->out[1]);
  int same = 0;
  for (int i = 0; i < 4096; i++) same += m1[i] == m2[i];
  interp_free(&c);
  ir_graph_free(g);
  return same / 4096.0;
}

static void test_seeds_and_steps(void **state) {
  (void)state;
  assert_true(agreement(3, 3, 9, 9, 1) == 1.0);         /* same seed and step: the same mask */
  within("masks of steps 9 and 10", agreement(3, 3, 9, 10, 1), 0.5, sqrt(0.25 / 4096));
  within("masks of seeds 3 and 4", agreement(3, 4, 9, 9, 1), 0.5, sqrt(0.25 / 4096));
  within("masks of two unseeded nodes", agreement(0, 0, 9, 9, 0), 0.5, sqrt(0.25 / 4096));
}

/* What the training pass does: a Dropout built without a step gets one with
 * ir_node_set_input at ops_random_step_index; each step value then draws
 * its own mask, the same one every time for the same value. */
static void test_step_wired_later(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(1024));
  ir_node *d = dropout(g, x, 0.5, NULL);
  assert_int_equal(op_validate(d), 0);
  ir_tensor *step = step_input(g);
  assert_true(ops_random_draws(d));
  ir_node_set_input(d, ops_random_step_index(d), step);
  ot_ok(g, d);
  ir_graph_add_output(g, d->out[1]);
  static float xv[1024];
  uint8_t masks[3][1024];
  const int64_t steps[3] = {1, 2, 1};
  for (int k = 0; k < 3; k++) {
    const void *in[2] = {xv, &steps[k]};
    interp_ctx c;
    run(&c, g, in);
    memcpy(masks[k], interp_value(&c, d->out[1]), 1024);
    interp_free(&c);
  }
  assert_memory_equal(masks[0], masks[2], 1024);
  assert_memory_not_equal(masks[0], masks[1], 1024);
  ir_graph_free(g);
}

/* ---- Dropout's gradient ------------------------------------------------------ */

/* L = sum(W * Dropout(x)) with a step input and no seed: dL/dx = W * mask / (1 - ratio), the forward's mask. */
static void test_dropout_gradient(void **state) {
  (void)state;
  enum { K = 512 };
  double ratio = 0.4;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F64, 1, DIMS(K));
  ir_tensor *step = step_input(g);
  ir_node *d = dropout(g, x, ratio, step);
  assert_int_equal(op_validate(d), 0);
  double w[K];
  for (int i = 0; i < K; i++) w[i] = 0.5 + (i % 5);
  ir_node *m = node(g, "Mul", 13, 2, IN(d->out[0], ot_const(g, "w", IR_F64, 1, DIMS(K), w)), 1);
  assert_int_equal(op_validate(m), 0);
  ir_tensor *dx = ir_add_tensor(g, "dx", IR_UNDEF, IR_ACTIVATION);
  ot_gradient(g, m->out[0], 1, &x, &dx);
  ir_graph_add_output(g, d->out[1]);
  ir_graph_add_output(g, dx);
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  o.training = 1;
  if (pass_run_all(g, &o) < 0) fail_msg("%s", ir_last_error());
  double xv[K];
  int64_t sv = 12;
  for (int i = 0; i < K; i++) xv[i] = ot_rnd();
  const void *in[2] = {xv, &sv};
  interp_ctx c;
  if (interp_run(&c, g, in) < 0) fail_msg("%s", ir_last_error());
  const uint8_t *mask = interp_value(&c, d->out[1]);
  const double *got = interp_value(&c, dx);
  int kept = 0;
  for (int i = 0; i < K; i++) {
    double want = mask[i] ? w[i] / (1 - (double)(float)ratio) : 0;   /* the ratio is a float32 constant */
    if (fabs(got[i] - want) > 1e-12 * (1 + fabs(want))) fail_msg("dx[%d]: %g, expected %g", i, got[i], want);
    kept += mask[i];
  }
  assert_true(kept > K / 4 && kept < K - K / 4);   /* the mask is no trivial one */
  interp_free(&c);
  ir_graph_free(g);
}

/* y = x * RandomNormalLike(x): the draw depends on x's shape only, so dy/dx
 * is the draw itself (the Like op contributes nothing). */
static void test_like_gradient(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F64, 1, DIMS(64));
  ir_node *r = node(g, "RandomNormalLike", 1, 1, &x, 1);
  assert_int_equal(op_validate(r), 0);
  ir_node *m = node(g, "Mul", 13, 2, IN(x, r->out[0]), 1);
  assert_int_equal(op_validate(m), 0);
  ir_tensor *dx = ir_add_tensor(g, "dx", IR_UNDEF, IR_ACTIVATION);
  ot_gradient(g, m->out[0], 1, &x, &dx);
  ir_graph_add_output(g, r->out[0]);
  ir_graph_add_output(g, dx);
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  if (pass_run_all(g, &o) < 0) fail_msg("%s", ir_last_error());
  double xv[64];
  for (int i = 0; i < 64; i++) xv[i] = ot_rnd();
  const void *in[1] = {xv};
  interp_ctx c;
  if (interp_run(&c, g, in) < 0) fail_msg("%s", ir_last_error());
  assert_memory_equal(interp_value(&c, dx), interp_value(&c, r->out[0]), 64 * sizeof(double));
  interp_free(&c);
  ir_graph_free(g);
}

int main(void) {
  ot_rnd_seed(4242);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_interp_and_c_agree),
    cmocka_unit_test(test_distributions),
    cmocka_unit_test(test_dropout_keeps_and_scales),
    cmocka_unit_test(test_seeds_and_steps),
    cmocka_unit_test(test_step_wired_later),
    cmocka_unit_test(test_dropout_gradient),
    cmocka_unit_test(test_like_gradient),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
