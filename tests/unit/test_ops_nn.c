/*
 * test_ops_nn.c - the nn op entries (ops_nn.c) end to end: validation and
 * its errors, shape inference (auto_pad resolved into pads), the reference
 * kernels on small hand-built graphs, and the emitted C compiled with the
 * system compiler and compared with the interpreter.
 *
 * Expected values come from hand computation, ONNX's backend test cases
 * and torch/numpy run offline (/usr/bin/python3), pasted here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/backend/emit.h"
#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/plan.h"
#include "runtime/interp.h"
#include "optest.h"

/* A node n0 reading the named inputs (NULL: missing) and writing one output "y";
 * expect_error below looks for the name n0. */
static ir_node *node(ir_graph *g, const char *op, int n_in, ir_tensor *const *in) {
  return ot_node_named(g, "n0", op, 18, n_in, in, 1, (const char *const[]){"y"});
}

static void expect_error(const char *needle) { ot_expect_error(needle, "n0"); }

static void expect_ints(const ir_node *n, const char *attr, int cnt, const int64_t *want) {
  const int64_t *v;
  assert_int_equal(ir_attr_ints(n, attr, &v), cnt);
  for (int i = 0; i < cnt; i++)
    if (v[i] != want[i]) fail_msg("%s[%d] = %lld, expected %lld", attr, i, (long long)v[i], (long long)want[i]);
}

/* Run n's interp kernel on f64 inputs; returns the output buffer (malloc). */
static double *run_f64(const ir_node *n, const double *const *in) {
  interp_ctx c;
  memset(&c, 0, sizeof c);
  double *y = calloc((size_t)ir_numel(n->out[0]) + 1, sizeof(double));
  void *out[1] = {y};
  const void *ins[8];
  for (int i = 0; i < n->n_in; i++) ins[i] = in[i];
  if (interp_node(&c, n, ins, out) < 0) fail_msg("interp: %s", ir_last_error());
  return y;
}

static double *iota(int64_t cnt, double start) {
  double *v = malloc(sizeof(double) * (size_t)cnt);
  for (int64_t i = 0; i < cnt; i++) v[i] = start + (double)i;
  return v;
}

/* ---- Conv ----------------------------------------------------------------- */

/* ONNX test_basic_conv_{with,without}_padding: 5x5 ramp, 3x3 ones. */
static void test_conv_basic(void **state) {
  (void)state;
  for (int pad = 0; pad <= 1; pad++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {1, 1, 5, 5}, wd[] = {1, 1, 3, 3};
    ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "w", IR_F64, 4, wd)};
    ir_node *n = node(g, "Conv", 2, in);
    int64_t ks[] = {3, 3}, pads[] = {pad, pad, pad, pad};
    ir_attr_set_ints(n, "kernel_shape", 2, ks);
    ir_attr_set_ints(n, "pads", 4, pads);
    assert_int_equal(ot_prepare(g, n), 0);
    double *x = iota(25, 0), w[9];
    for (int i = 0; i < 9; i++) w[i] = 1;
    const double *ins[] = {x, w};
    double *y = run_f64(n, ins);
    if (pad) {
      int64_t od[] = {1, 1, 5, 5};
      static const double want[] = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108,
                                    117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
      ot_expect_shape(n->out[0], 4, od);
      ot_expect_rel(y, want, 25, 0);
    } else {
      int64_t od[] = {1, 1, 3, 3};
      static const double want[] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
      ot_expect_shape(n->out[0], 4, od);
      ot_expect_rel(y, want, 9, 0);
    }
    free(x);
    free(y);
    ir_graph_free(g);
  }
}

/* ONNX test_conv_with_strides_padding: 7x5 ramp, stride 2, pads 1. */
static void test_conv_stride_pads(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 7, 5}, wd[] = {1, 1, 3, 3};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "w", IR_F64, 4, wd)};
  ir_node *n = node(g, "Conv", 2, in);
  int64_t st[] = {2, 2}, pads[] = {1, 1, 1, 1};
  ir_attr_set_ints(n, "strides", 2, st);
  ir_attr_set_ints(n, "pads", 4, pads);
  assert_int_equal(ot_prepare(g, n), 0);
  int64_t od[] = {1, 1, 4, 3}, ks[] = {3, 3}, dil[] = {1, 1};
  ot_expect_shape(n->out[0], 4, od);
  expect_ints(n, "kernel_shape", 2, ks);   /* made explicit from the weight */
  expect_ints(n, "dilations", 2, dil);
  assert_int_equal(ir_attr_int(n, "group", -1), 1);
  assert_int_equal(n->op->macs(n), 12 * 9);
  double *x = iota(35, 0), w[9];
  for (int i = 0; i < 9; i++) w[i] = 1;
  const double *ins[] = {x, w};
  double *y = run_f64(n, ins);
  static const double want[] = {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124};
  ot_expect_rel(y, want, 12, 0);
  free(x);
  free(y);
  ir_graph_free(g);
}

/* SAME_UPPER / SAME_LOWER with an even kernel: the odd pad goes to the end /
 * the start.  Values from torch with the pads applied explicitly. */
static void test_conv_same(void **state) {
  (void)state;
  for (int lower = 0; lower <= 1; lower++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {1, 1, 4, 4}, wd[] = {1, 1, 2, 2};
    ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "w", IR_F64, 4, wd)};
    ir_node *n = node(g, "Conv", 2, in);
    ir_attr_set_string(n, "auto_pad", lower ? "SAME_LOWER" : "SAME_UPPER");
    assert_int_equal(ot_prepare(g, n), 0);
    int64_t od[] = {1, 1, 4, 4}, up[] = {0, 0, 1, 1}, lo[] = {1, 1, 0, 0};
    ot_expect_shape(n->out[0], 4, od);
    expect_ints(n, "pads", 4, lower ? lo : up);
    assert_null(ir_attr_find(n, "auto_pad"));
    double *x = iota(16, 0), w[] = {1, 2, 3, 4};
    const double *ins[] = {x, w};
    double *y = run_f64(n, ins);
    static const double want_up[] = {34, 44, 54, 24, 74, 84, 94, 40, 114, 124, 134, 56, 38, 41, 44, 15};
    static const double want_lo[] = {0, 4, 11, 18, 16, 34, 44, 54, 40, 74, 84, 94, 64, 114, 124, 134};
    ot_expect_rel(y, lower ? want_lo : want_up, 16, 0);
    /* infer again on the resolved node: nothing changes */
    assert_int_equal(n->op->infer(g, n), 0);
    ot_expect_shape(n->out[0], 4, od);
    expect_ints(n, "pads", 4, lower ? lo : up);
    free(x);
    free(y);
    ir_graph_free(g);
  }
}

/* ONNX test_conv_with_autopad_same: 5x5, stride 2, SAME_LOWER. */
static void test_conv_same_stride(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 5, 5}, wd[] = {1, 1, 3, 3};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "w", IR_F64, 4, wd)};
  ir_node *n = node(g, "Conv", 2, in);
  int64_t st[] = {2, 2};
  ir_attr_set_string(n, "auto_pad", "SAME_LOWER");
  ir_attr_set_ints(n, "strides", 2, st);
  assert_int_equal(ot_prepare(g, n), 0);
  double *x = iota(25, 0), w[9];
  for (int i = 0; i < 9; i++) w[i] = 1;
  const double *ins[] = {x, w};
  double *y = run_f64(n, ins);
  static const double want[] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
  ot_expect_rel(y, want, 9, 0);
  free(x);
  free(y);
  ir_graph_free(g);
}

/* Depthwise (group = C = 2) with a bias; torch. */
static void test_conv_depthwise(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 2, 3, 3}, wd[] = {2, 1, 2, 2}, bd[] = {2};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "w", IR_F64, 4, wd), ot_tensor(g, "b", IR_F64, 1, bd)};
  ir_node *n = node(g, "Conv", 3, in);
  ir_attr_set_int(n, "group", 2);
  assert_int_equal(ot_prepare(g, n), 0);
  int64_t od[] = {1, 2, 2, 2};
  ot_expect_shape(n->out[0], 4, od);
  double *x = iota(18, 0), w[] = {1, 0, 0, -1, 0.5, 0.5, 0.5, 0.5}, b[] = {10, -1};
  const double *ins[] = {x, w, b};
  double *y = run_f64(n, ins);
  static const double want[] = {6, 6, 6, 6, 21, 23, 27, 29};
  ot_expect_rel(y, want, 8, 0);
  free(x);
  free(y);
  ir_graph_free(g);
}

/* 1-D conv without kernel_shape (as in Silero VAD), stride 2, pads 1,
 * dilation 2, two input channels; torch. */
static void test_conv_1d(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 2, 6}, wd[] = {3, 2, 3};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "w", IR_F64, 3, wd)};
  ir_node *n = node(g, "Conv", 2, in);
  int64_t st[] = {2}, pads[] = {1, 1}, dil[] = {2};
  ir_attr_set_ints(n, "strides", 1, st);
  ir_attr_set_ints(n, "pads", 2, pads);
  ir_attr_set_ints(n, "dilations", 1, dil);
  assert_int_equal(ot_prepare(g, n), 0);
  int64_t od[] = {1, 3, 2}, ks[] = {3};
  ot_expect_shape(n->out[0], 3, od);
  expect_ints(n, "kernel_shape", 1, ks);
  double *x = iota(12, -5), w[18];
  for (int i = 0; i < 18; i++) w[i] = i / 10.0 - 0.7;
  const double *ins[] = {x, w};
  double *y = run_f64(n, ins);
  static const double want[] = {2.0, 0.8000000000000007, 2.0000000000000004, 4.4, 2.0, 8.0};
  ot_expect_rel(y, want, 6, 1e-12);
  free(x);
  free(y);
  ir_graph_free(g);
}

static void test_conv_3d(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 3, 3, 3}, wd[] = {1, 1, 2, 2, 2};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 5, xd), ot_tensor(g, "w", IR_F64, 5, wd)};
  ir_node *n = node(g, "Conv", 2, in);
  assert_int_equal(ot_prepare(g, n), 0);
  int64_t od[] = {1, 1, 2, 2, 2};
  ot_expect_shape(n->out[0], 5, od);
  double *x = iota(27, 0), w[8];
  for (int i = 0; i < 8; i++) w[i] = 1;
  const double *ins[] = {x, w};
  double *y = run_f64(n, ins);
  static const double want[] = {52, 60, 76, 84, 124, 132, 148, 156};
  ot_expect_rel(y, want, 8, 0);
  free(x);
  free(y);
  ir_graph_free(g);
}

/* Fused epilogue: Relu(conv + bias + residual) in float32. */
static void test_conv_fused_f32(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 2, 2}, wd[] = {1, 1, 1, 1}, bd[] = {1};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F32, 4, xd), ot_tensor(g, "w", IR_F32, 4, wd), ot_tensor(g, "b", IR_F32, 1, bd),
                     ot_tensor(g, "r", IR_F32, 4, xd)};
  ir_node *n = node(g, "Conv", 4, in);
  ir_attr_set_string(n, "_act", "Relu");
  ir_attr_set_int(n, "_residual", 3);
  assert_int_equal(ot_prepare(g, n), 0);
  float x[] = {1, 2, 3, 4}, w[] = {2}, b[] = {-1}, r[] = {-5, 0, -6, 0.5f}, y[4];
  const void *ins[] = {x, w, b, r};
  void *out[] = {y};
  interp_ctx c;
  memset(&c, 0, sizeof c);
  assert_int_equal(interp_node(&c, n, ins, out), 0);
  /* 2x - 1 + r: -4, 3, -1, 7.5 -> relu */
  assert_true(y[0] == 0.0f && y[1] == 3.0f && y[2] == 0.0f && y[3] == 7.5f);
  ir_graph_free(g);
}

static void test_conv_errors(void **state) {
  (void)state;
  int64_t xd[] = {1, 4, 5, 5}, wd[] = {2, 2, 3, 3};
  struct { const char *what; const char *needle; } cases[] = {
      {"auto_pad", "auto_pad"}, {"pads", "pads"}, {"kernel", "kernel_shape"}, {"group", "group"},
      {"strides", "strides"}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *in[] = {ot_tensor(g, "x", IR_F32, 4, xd), ot_tensor(g, "w", IR_F32, 4, wd)};
    ir_node *n = node(g, "Conv", 2, in);
    ir_attr_set_int(n, "group", 2);
    if (k == 0) ir_attr_set_string(n, "auto_pad", "SAME");
    if (k == 1) {
      int64_t p[] = {1, 1, 1};
      ir_attr_set_ints(n, "pads", 3, p);
    }
    if (k == 2) {
      int64_t ks[] = {3, 2};
      ir_attr_set_ints(n, "kernel_shape", 2, ks);
    }
    if (k == 3) ir_attr_set_int(n, "group", 3);
    if (k == 4) {
      int64_t s[] = {1, 0};
      ir_attr_set_ints(n, "strides", 2, s);
    }
    assert_int_equal(ot_prepare(g, n), -1);
    expect_error(cases[k].needle);
    expect_error("Conv");
    ir_graph_free(g);
  }
}

/* ---- pools ---------------------------------------------------------------- */

static ir_node *pool_node(ir_graph *g, const char *op, int rank, const int64_t *xd, int k, int s, int pad,
                          int ceil) {
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, rank, xd)};
  ir_node *n = node(g, op, 1, in);
  int64_t ks[3] = {k, k, k}, st[3] = {s, s, s}, pads[6] = {pad, pad, pad, pad, pad, pad};
  ir_attr_set_ints(n, "kernel_shape", rank - 2, ks);
  ir_attr_set_ints(n, "strides", rank - 2, st);
  if (pad) ir_attr_set_ints(n, "pads", 2 * (rank - 2), pads);
  if (ceil) ir_attr_set_int(n, "ceil_mode", 1);
  return n;
}

/* ONNX test_maxpool_2d_ceil, and a 6x6 case with partial windows (torch). */
static void test_maxpool_ceil(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 4, 4}, od[] = {1, 1, 2, 2};
  ir_node *n = pool_node(g, "MaxPool", 4, xd, 3, 2, 0, 1);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 4, od);
  double *x = iota(16, 1);
  const double *ins[] = {x};
  double *y = run_f64(n, ins);
  static const double want[] = {11, 12, 15, 16};
  ot_expect_rel(y, want, 4, 0);
  free(x);
  free(y);
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  int64_t xd6[] = {1, 1, 6, 6}, od6[] = {1, 1, 3, 3};
  n = pool_node(g, "MaxPool", 4, xd6, 3, 2, 0, 1);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 4, od6);
  x = iota(36, 0);
  const double *ins6[] = {x};
  y = run_f64(n, ins6);
  static const double want6[] = {14, 16, 17, 26, 28, 29, 32, 34, 35};
  ot_expect_rel(y, want6, 9, 0);
  free(x);
  free(y);
  ir_graph_free(g);
}

/* Dilated max pool (torch), and SAME_UPPER output shape. */
static void test_maxpool_dilation_same(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 4, 4}, od[] = {1, 1, 2, 2}, dil[] = {2, 2};
  ir_node *n = pool_node(g, "MaxPool", 4, xd, 2, 1, 0, 0);
  ir_attr_set_ints(n, "dilations", 2, dil);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 4, od);
  double x[16];
  for (int i = 0; i < 16; i++) x[i] = (i % 2 ? -1.0 : 1.0) * i;
  const double *ins[] = {x};
  double *y = run_f64(n, ins);
  static const double want[] = {10, -1, 14, -5};
  ot_expect_rel(y, want, 4, 0);
  free(y);
  ir_graph_free(g);

  /* 5x5, k 2, s 2, SAME_UPPER: out 3x3, pads [0,0,1,1] */
  g = ir_graph_new("t", NULL);
  int64_t xd5[] = {1, 1, 5, 5}, od5[] = {1, 1, 3, 3}, pads[] = {0, 0, 1, 1};
  n = pool_node(g, "MaxPool", 4, xd5, 2, 2, 0, 0);
  ir_attr_set_string(n, "auto_pad", "SAME_UPPER");
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 4, od5);
  expect_ints(n, "pads", 4, pads);
  double *x5 = iota(25, 0);
  const double *ins5[] = {x5};
  y = run_f64(n, ins5);
  static const double want5[] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
  ot_expect_rel(y, want5, 9, 0);
  free(x5);
  free(y);
  ir_graph_free(g);
}

/* AveragePool pads with and without count_include_pad, also with ceil_mode
 * windows that reach past the end pad (torch). */
static void test_avgpool(void **state) {
  (void)state;
  for (int cip = 0; cip <= 1; cip++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {1, 1, 3, 3}, od[] = {1, 1, 4, 4};
    ir_node *n = pool_node(g, "AveragePool", 4, xd, 2, 1, 1, 0);
    ir_attr_set_int(n, "count_include_pad", cip);
    assert_int_equal(ot_prepare(g, n), 0);
    ot_expect_shape(n->out[0], 4, od);
    double *x = iota(9, 1);
    const double *ins[] = {x};
    double *y = run_f64(n, ins);
    static const double w1[] = {0.25, 0.75, 1.25, 0.75, 1.25, 3.0, 4.0, 2.25,
                                2.75, 6.0, 7.0, 3.75, 1.75, 3.75, 4.25, 2.25};
    static const double w0[] = {1.0, 1.5, 2.5, 3.0, 2.5, 3.0, 4.0, 4.5,
                                5.5, 6.0, 7.0, 7.5, 7.0, 7.5, 8.5, 9.0};
    ot_expect_rel(y, cip ? w1 : w0, 16, 1e-15);
    free(x);
    free(y);
    ir_graph_free(g);
  }
  for (int cip = 0; cip <= 1; cip++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {1, 1, 6, 6}, od[] = {1, 1, 4, 4};
    ir_node *n = pool_node(g, "AveragePool", 4, xd, 3, 2, 1, 1);
    ir_attr_set_int(n, "count_include_pad", cip);
    assert_int_equal(ot_prepare(g, n), 0);
    ot_expect_shape(n->out[0], 4, od);
    double *x = iota(36, 0);
    const double *ins[] = {x};
    double *y = run_f64(n, ins);
    static const double w1[] = {1.5555555555555556, 3.3333333333333335, 4.666666666666667, 2.6666666666666665,
                                8.333333333333334, 14.0, 16.0, 8.5, 16.333333333333332, 26.0, 28.0, 14.5,
                                10.166666666666666, 16.0, 17.0, 8.75};
    static const double w0[] = {3.5, 5.0, 7.0, 8.0, 12.5, 14.0, 16.0, 17.0,
                                24.5, 26.0, 28.0, 29.0, 30.5, 32.0, 34.0, 35.0};
    ot_expect_rel(y, cip ? w1 : w0, 16, 1e-14);
    free(x);
    free(y);
    ir_graph_free(g);
  }
}

static void test_pool_1d_3d_global(void **state) {
  (void)state;
  /* 1-D average, k 2 s 2: pairs */
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 2, 4}, od[] = {1, 2, 2};
  ir_node *n = pool_node(g, "AveragePool", 3, xd, 2, 2, 0, 0);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 3, od);
  double *x = iota(8, 0);
  const double *ins[] = {x};
  double *y = run_f64(n, ins);
  static const double w1[] = {0.5, 2.5, 4.5, 6.5};
  ot_expect_rel(y, w1, 4, 0);
  free(y);
  ir_graph_free(g);
  free(x);
  /* 3-D max, 2x2x2 over a 3x3x3 ramp with stride 1 */
  g = ir_graph_new("t", NULL);
  int64_t xd3[] = {1, 1, 3, 3, 3}, od3[] = {1, 1, 2, 2, 2};
  n = pool_node(g, "MaxPool", 5, xd3, 2, 1, 0, 0);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 5, od3);
  x = iota(27, 0);
  const double *ins3[] = {x};
  y = run_f64(n, ins3);
  static const double w3[] = {13, 14, 16, 17, 22, 23, 25, 26};
  ot_expect_rel(y, w3, 8, 0);
  free(y);
  ir_graph_free(g);
  /* global pools over [1,3,3,3] viewed as 3 channels of 9 */
  for (int mx = 0; mx <= 1; mx++) {
    g = ir_graph_new("t", NULL);
    int64_t gd[] = {1, 3, 3, 3}, god[] = {1, 3, 1, 1};
    ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 4, gd)};
    n = node(g, mx ? "GlobalMaxPool" : "GlobalAveragePool", 1, in);
    assert_int_equal(ot_prepare(g, n), 0);
    ot_expect_shape(n->out[0], 4, god);
    y = run_f64(n, ins3);
    static const double wa[] = {4, 13, 22}, wm[] = {8, 17, 26};
    ot_expect_rel(y, mx ? wm : wa, 3, 0);
    free(y);
    ir_graph_free(g);
  }
  free(x);
}

static void test_pool_errors(void **state) {
  (void)state;
  int64_t xd[] = {1, 1, 4, 4};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_tensor(g, "x", IR_F32, 4, xd);
  ir_tensor *outs[] = {ir_add_tensor(g, "y", IR_UNDEF, IR_ACTIVATION), ir_add_tensor(g, "idx", IR_UNDEF, IR_ACTIVATION)};
  ir_node *n = ir_add_node(g, "MaxPool", "n0");
  ir_node_set_io(n, 1, &x, 2, outs);
  int64_t ks[] = {2, 2};
  ir_attr_set_ints(n, "kernel_shape", 2, ks);
  ir_attr_set_int(n, "storage_order", 2);
  assert_int_equal(op_validate(n), -1);
  expect_error("storage_order");
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F32, 4, xd)};
  n = node(g, "AveragePool", 1, in);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("kernel_shape");
  ir_graph_free(g);
}

/* ---- Gemm / MatMul -------------------------------------------------------- */

static void test_gemm(void **state) {
  (void)state;
  /* transA, transB, alpha .5, beta 2, C [N] (numpy) */
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t ad[] = {3, 2}, bd[] = {4, 3}, cd[] = {4}, od[] = {2, 4};
  ir_tensor *in[] = {ot_tensor(g, "a", IR_F64, 2, ad), ot_tensor(g, "b", IR_F64, 2, bd), ot_tensor(g, "c", IR_F64, 1, cd)};
  ir_node *n = node(g, "Gemm", 3, in);
  ir_attr_set_int(n, "transA", 1);
  ir_attr_set_int(n, "transB", 1);
  ir_attr_set_float(n, "alpha", 0.5);
  ir_attr_set_float(n, "beta", 2.0);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 2, od);
  assert_int_equal(n->op->macs(n), 2 * 4 * 3);
  double a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, 0, 1, 0, 1, 0, 2, -1, 1, 1, 1, 1}, c[] = {1, 2, 3, 4};
  const double *ins[] = {a, b, c};
  double *y = run_f64(n, ins);
  static const double want[] = {5.0, 5.5, 8.0, 12.5, 6.0, 6.0, 9.0, 14.0};
  ot_expect_rel(y, want, 8, 0);
  free(y);
  ir_graph_free(g);

  /* C [M,1]; defaults made explicit */
  g = ir_graph_new("t", NULL);
  int64_t ad2[] = {2, 3}, bd2[] = {3, 2}, cd2[] = {2, 1}, od2[] = {2, 2};
  ir_tensor *in2[] = {ot_tensor(g, "a", IR_F64, 2, ad2), ot_tensor(g, "b", IR_F64, 2, bd2), ot_tensor(g, "c", IR_F64, 2, cd2)};
  n = node(g, "Gemm", 3, in2);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 2, od2);
  assert_true(ir_attr_float(n, "alpha", 0) == 1.0 && ir_attr_float(n, "beta", 0) == 1.0);
  double a2[] = {1, 2, 3, 4, 5, 6}, b2[] = {1, 2, 3, 4, 5, 6}, c2[] = {10, 20};
  const double *ins2[] = {a2, b2, c2};
  y = run_f64(n, ins2);
  static const double want2[] = {32, 38, 69, 84};
  ot_expect_rel(y, want2, 4, 0);
  free(y);
  ir_graph_free(g);

  /* errors: inner dims, C not broadcastable */
  g = ir_graph_new("t", NULL);
  int64_t cd3[] = {3};
  ir_tensor *in3[] = {ot_tensor(g, "a", IR_F64, 2, ad2), ot_tensor(g, "b", IR_F64, 2, bd2), ot_tensor(g, "c", IR_F64, 1, cd3)};
  n = node(g, "Gemm", 3, in3);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("broadcast");
  ir_graph_free(g);
  g = ir_graph_new("t", NULL);
  ir_tensor *in4[] = {ot_tensor(g, "a", IR_F64, 2, ad2), ot_tensor(g, "b", IR_F64, 2, ad2)};
  n = node(g, "Gemm", 2, in4);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("inner");
  ir_graph_free(g);
  /* a residual must come after C, never be C */
  g = ir_graph_new("t", NULL);
  ir_tensor *in5[] = {ot_tensor(g, "a", IR_F64, 2, ad2), ot_tensor(g, "b", IR_F64, 2, bd2), ot_tensor(g, "r", IR_F64, 2, od2)};
  n = node(g, "Gemm", 3, in5);
  ir_attr_set_int(n, "_residual", 2);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("_residual");
  ir_graph_free(g);
}

static void test_matmul(void **state) {
  (void)state;
  double a[] = {1, 2, 3}, *bm = iota(6, 0), bt[] = {0, 2, 4, 1, 3, 5};
  /* [3] x [3,2] -> [2] */
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t ad[] = {3}, bd[] = {3, 2}, od[] = {2};
  ir_tensor *in[] = {ot_tensor(g, "a", IR_F64, 1, ad), ot_tensor(g, "b", IR_F64, 2, bd)};
  ir_node *n = node(g, "MatMul", 2, in);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 1, od);
  const double *ins[] = {a, bm};
  double *y = run_f64(n, ins);
  static const double want[] = {16, 22};
  ot_expect_rel(y, want, 2, 0);
  free(y);
  ir_graph_free(g);
  /* [2,3] x [3] -> [2] */
  g = ir_graph_new("t", NULL);
  int64_t ad2[] = {2, 3}, bd2[] = {3};
  ir_tensor *in2[] = {ot_tensor(g, "a", IR_F64, 2, ad2), ot_tensor(g, "b", IR_F64, 1, bd2)};
  n = node(g, "MatMul", 2, in2);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 1, od);
  const double *ins2[] = {bt, a};
  y = run_f64(n, ins2);
  ot_expect_rel(y, want, 2, 0);
  free(y);
  ir_graph_free(g);
  /* [2,1,2,3] x [3,3,2] -> [2,3,2,2] (numpy) */
  g = ir_graph_new("t", NULL);
  int64_t ad3[] = {2, 1, 2, 3}, bd3[] = {3, 3, 2}, od3[] = {2, 3, 2, 2};
  ir_tensor *in3[] = {ot_tensor(g, "a", IR_F64, 4, ad3), ot_tensor(g, "b", IR_F64, 3, bd3)};
  n = node(g, "MatMul", 2, in3);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 4, od3);
  assert_int_equal(n->op->macs(n), 24 * 3);
  double *a3 = iota(12, 0), *b3 = iota(18, -4);
  const double *ins3[] = {a3, b3};
  y = run_f64(n, ins3);
  static const double want3[] = {-2, 1, -20, -8, 16, 19, 52, 64, 34, 37, 124, 136,
                                 -38, -17, -56, -26, 88, 109, 124, 154, 214, 235, 304, 334};
  ot_expect_rel(y, want3, 24, 0);
  free(y);
  free(a3);
  free(b3);
  ir_graph_free(g);
  /* incompatible batch dims */
  g = ir_graph_new("t", NULL);
  int64_t ad4[] = {2, 2, 3}, bd4[] = {3, 3, 2};
  ir_tensor *in4[] = {ot_tensor(g, "a", IR_F64, 3, ad4), ot_tensor(g, "b", IR_F64, 3, bd4)};
  n = node(g, "MatMul", 2, in4);
  assert_int_equal(ot_prepare(g, n), -1);
  ir_graph_free(g);
  free(bm);
}

/* ---- BatchNormalization --------------------------------------------------- */

static void test_batchnorm(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {2, 3, 2}, cd[] = {3};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "s", IR_F64, 1, cd), ot_tensor(g, "b", IR_F64, 1, cd),
                     ot_tensor(g, "m", IR_F64, 1, cd), ot_tensor(g, "v", IR_F64, 1, cd)};
  ir_node *n = node(g, "BatchNormalization", 5, in);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[0], 3, xd);
  double *x = iota(12, 0), s[] = {1, 2, 0.5}, b[] = {0, 1, -1}, m[] = {1, 5, 3}, v[] = {4, 1, 0.25};
  const double *ins[] = {x, s, b, m, v};
  double *y = run_f64(n, ins);
  static const double want[] = {-0.49999937500117186, 0.0, -4.999970000224998, -2.999980000149999,
                                -1.9999400020065394e-05, 0.9999600011999599, 2.499996875005859,
                                2.999996250007031, 6.999970000224998, 8.999960000299998,
                                5.999860004199859, 6.9998400047998395};
  ot_expect_rel(y, want, 12, 1e-12);
  free(x);
  free(y);
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  ir_tensor *in2[] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "s", IR_F64, 1, cd), ot_tensor(g, "b", IR_F64, 1, cd),
                      ot_tensor(g, "m", IR_F64, 1, cd), ot_tensor(g, "v", IR_F64, 1, cd)};
  n = node(g, "BatchNormalization", 5, in2);
  ir_attr_set_int(n, "training_mode", 2);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("training_mode");
  ir_graph_free(g);
}

/* training_mode=1: the batch's statistics, and the running ones updated
 * with momentum 0.9 (numpy: x.mean/x.var over axes 0 and 2). */
static void test_batchnorm_training(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {2, 3, 2}, cd[] = {3};
  ir_tensor *in[] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "s", IR_F64, 1, cd), ot_tensor(g, "b", IR_F64, 1, cd),
                     ot_tensor(g, "m", IR_F64, 1, cd), ot_tensor(g, "v", IR_F64, 1, cd)};
  ir_tensor *outs[] = {ir_add_tensor(g, "y", IR_UNDEF, IR_ACTIVATION), ir_add_tensor(g, "rm", IR_UNDEF, IR_ACTIVATION),
                       ir_add_tensor(g, "rv", IR_UNDEF, IR_ACTIVATION)};
  ir_node *n = ir_add_node(g, "BatchNormalization", "n0");
  ir_node_set_io(n, 5, in, 3, outs);
  n->opset = 15;
  ir_attr_set_int(n, "training_mode", 1);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_expect_shape(n->out[1], 1, cd);
  double *x = iota(12, 0), s[] = {1, 2, 0.5}, b[] = {0, 1, -1}, m[] = {1, 5, 3}, v[] = {4, 1, 0.25};
  double y[12], rm[3], rv[3];
  const void *ins[] = {x, s, b, m, v};
  void *out[] = {y, rm, rv};
  interp_ctx c;
  memset(&c, 0, sizeof c);
  if (interp_node(&c, n, ins, out) < 0) fail_msg("interp: %s", ir_last_error());
  static const double wy[] = {-1.150792289087783, -0.8219944922055593, -1.3015845781755662, -0.6439889844111186,
                                 -1.5753961445438915, -1.4109972461027795, 0.8219944922055593, 1.150792289087783,
                                 2.6439889844111186, 3.301584578175566, -0.5890027538972203, -0.42460385545610846}, wrm[] = {1.25, 5.05, 3.45}, wrv[] = {4.525, 1.825, 1.15};
  ot_expect_rel(y, wy, 12, 1e-12);
  ot_expect_rel(rm, wrm, 3, 1e-12);
  ot_expect_rel(rv, wrv, 3, 1e-12);
  free(x);
  ir_graph_free(g);
  /* before opset 14 the extra outputs are saved statistics: refused */
  g = ir_graph_new("t", NULL);
  ir_tensor *in2[] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "s", IR_F64, 1, cd), ot_tensor(g, "b", IR_F64, 1, cd),
                      ot_tensor(g, "m", IR_F64, 1, cd), ot_tensor(g, "v", IR_F64, 1, cd)};
  ir_tensor *outs2[] = {ir_add_tensor(g, "y", IR_UNDEF, IR_ACTIVATION), ir_add_tensor(g, "rm", IR_UNDEF, IR_ACTIVATION)};
  n = ir_add_node(g, "BatchNormalization", "n0");
  ir_node_set_io(n, 5, in2, 2, outs2);
  n->opset = 9;
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("output 1");
  ir_graph_free(g);
}

/* MaxPool's Indices over a 4x4 ramp, 2x2 windows, stride 2: maxima at
 * (1,1) (1,3) (3,1) (3,3), row-major 5 7 13 15, column-major 5 13 7 15. */
static void test_maxpool_indices(void **state) {
  (void)state;
  for (int so = 0; so <= 1; so++) {
    int64_t xd[] = {1, 1, 4, 4}, yd[] = {1, 1, 2, 2};
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *x = ot_tensor(g, "x", IR_F64, 4, xd);
    ir_tensor *outs[] = {ir_add_tensor(g, "y", IR_UNDEF, IR_ACTIVATION), ir_add_tensor(g, "idx", IR_UNDEF, IR_ACTIVATION)};
    ir_node *n = ir_add_node(g, "MaxPool", "n0");
    ir_node_set_io(n, 1, &x, 2, outs);
    n->opset = 12;
    int64_t ks[] = {2, 2};
    ir_attr_set_ints(n, "kernel_shape", 2, ks);
    ir_attr_set_ints(n, "strides", 2, ks);
    ir_attr_set_int(n, "storage_order", so);
    assert_int_equal(ot_prepare(g, n), 0);
    assert_int_equal(n->out[1]->dtype, IR_I64);
    ot_expect_shape(n->out[1], 4, yd);
    double *xv = iota(16, 0), y[4];
    int64_t idx[4];
    const void *ins[] = {xv};
    void *out[] = {y, idx};
    interp_ctx c;
    memset(&c, 0, sizeof c);
    if (interp_node(&c, n, ins, out) < 0) fail_msg("interp: %s", ir_last_error());
    static const int64_t want[2][4] = {{5, 7, 13, 15}, {5, 13, 7, 15}};
    for (int i = 0; i < 4; i++) assert_int_equal(idx[i], want[so][i]);
    free(xv);
    ir_graph_free(g);
  }
}

/* ---- emitted C against the interpreter ------------------------------------ */

static uint32_t rng_state = 12345;
static double rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (double)(rng_state >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

/* cc -O1, then clang compiles m.c; random values in [-1, 1) from rnd above
 * (BatchNormalization's case relies on that range). */
static const ot_cc_opts CC = {"test_ops_nn", "TEST_OPS_NN_KEEP", "-O1", 0, 0, rnd};

static void test_emit_conv(void **state) {
  (void)state;
  /* grouped 2-D conv, stride, asymmetric pads, dilation, bias (f32) */
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {2, 4, 7, 6}, wd[] = {6, 2, 3, 2}, bd[] = {6};
  ir_tensor *in[] = {ot_input(g, "x", IR_F32, 4, xd), ot_input(g, "w", IR_F32, 4, wd), ot_input(g, "b", IR_F32, 1, bd)};
  ir_node *n = node(g, "Conv", 3, in);
  int64_t st[] = {2, 1}, pads[] = {1, 0, 2, 1}, dil[] = {1, 2};
  ir_attr_set_int(n, "group", 2);
  ir_attr_set_ints(n, "strides", 2, st);
  ir_attr_set_ints(n, "pads", 4, pads);
  ir_attr_set_ints(n, "dilations", 2, dil);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-5, &CC);
  ir_graph_free(g);

  /* depthwise, SAME_UPPER, fused HardSwish + residual (f64) */
  g = ir_graph_new("t", NULL);
  int64_t xd2[] = {1, 3, 5, 5}, wd2[] = {3, 1, 3, 3}, rd[] = {1, 3, 3, 3};
  ir_tensor *in2[] = {ot_input(g, "x", IR_F64, 4, xd2), ot_input(g, "w", IR_F64, 4, wd2), NULL, ot_input(g, "r", IR_F64, 4, rd)};
  n = node(g, "Conv", 4, in2);
  int64_t st2[] = {2, 2};
  ir_attr_set_int(n, "group", 3);
  ir_attr_set_ints(n, "strides", 2, st2);
  ir_attr_set_string(n, "auto_pad", "SAME_UPPER");
  ir_attr_set_string(n, "_act", "HardSwish");
  ir_attr_set_int(n, "_residual", 3);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-12, &CC);
  ir_graph_free(g);

  /* 1-D and 3-D */
  g = ir_graph_new("t", NULL);
  int64_t xd3[] = {1, 2, 9}, wd3[] = {4, 2, 3};
  ir_tensor *in3[] = {ot_input(g, "x", IR_F32, 3, xd3), ot_input(g, "w", IR_F32, 3, wd3)};
  n = node(g, "Conv", 2, in3);
  int64_t p3[] = {2, 1};
  ir_attr_set_ints(n, "pads", 2, p3);
  ir_attr_set_string(n, "_act", "Relu");
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-5, &CC);
  ir_graph_free(g);
  g = ir_graph_new("t", NULL);
  int64_t xd4[] = {1, 2, 4, 4, 3}, wd4[] = {2, 2, 2, 3, 2};
  ir_tensor *in4[] = {ot_input(g, "x", IR_F32, 5, xd4), ot_input(g, "w", IR_F32, 5, wd4)};
  n = node(g, "Conv", 2, in4);
  int64_t p4[] = {1, 1, 0, 0, 1, 1};
  ir_attr_set_ints(n, "pads", 6, p4);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-5, &CC);
  ir_graph_free(g);
}

static void test_emit_gemm_matmul(void **state) {
  (void)state;
  for (int tb = 0; tb <= 1; tb++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t ad[] = {5, 3}, bd[2] = {tb ? 4 : 5, tb ? 5 : 4}, cd[] = {4};
    ir_tensor *in[] = {ot_input(g, "a", IR_F32, 2, ad), ot_input(g, "b", IR_F32, 2, bd), ot_input(g, "c", IR_F32, 1, cd)};
    ir_node *n = node(g, "Gemm", 3, in);
    ir_attr_set_int(n, "transA", 1);
    ir_attr_set_int(n, "transB", tb);
    ir_attr_set_float(n, "alpha", 0.75);
    ir_attr_set_float(n, "beta", -1.5);
    if (tb) ir_attr_set_string(n, "_act", "Sigmoid");
    assert_int_equal(ot_prepare(g, n), 0);
    ot_compile_and_compare(g, 1e-5, &CC);
    ir_graph_free(g);
  }
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t ad[] = {2, 1, 3, 4}, bd[] = {3, 4, 5};
  ir_tensor *in[] = {ot_input(g, "a", IR_F64, 4, ad), ot_input(g, "b", IR_F64, 3, bd)};
  ir_node *n = node(g, "MatMul", 2, in);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-12, &CC);
  ir_graph_free(g);
  g = ir_graph_new("t", NULL);
  int64_t a1[] = {4}, b1[] = {2, 4, 3};
  ir_tensor *in1[] = {ot_input(g, "a", IR_F32, 1, a1), ot_input(g, "b", IR_F32, 3, b1)};
  n = node(g, "MatMul", 2, in1);
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-5, &CC);
  ir_graph_free(g);
}

static void test_emit_pools_bn(void **state) {
  (void)state;
  for (int k = 0; k < 6; k++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {2, 3, 7, 6};
    ir_tensor *in[] = {ot_input(g, "x", IR_F32, 4, xd)};
    const char *ops[] = {"MaxPool", "AveragePool", "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool"};
    ir_node *n = node(g, ops[k], 1, in);
    if (k < 4) {
      int64_t ks[] = {3, 2}, st[] = {2, 2}, pads[] = {1, 1, 1, 0};
      ir_attr_set_ints(n, "kernel_shape", 2, ks);
      ir_attr_set_ints(n, "strides", 2, st);
      if (k < 3) ir_attr_set_ints(n, "pads", 4, pads);
      ir_attr_set_int(n, "ceil_mode", 1);
      if (k == 2) ir_attr_set_int(n, "count_include_pad", 1);
      if (k == 3) ir_attr_set_string(n, "auto_pad", "SAME_LOWER");
    }
    assert_int_equal(ot_prepare(g, n), 0);
    ot_compile_and_compare(g, 1e-5, &CC);
    ir_graph_free(g);
  }
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {2, 3, 4}, cd[] = {3};
  ir_tensor *in[] = {ot_input(g, "x", IR_F32, 3, xd), ot_input(g, "s", IR_F32, 1, cd), ot_input(g, "b", IR_F32, 1, cd),
                     ot_input(g, "m", IR_F32, 1, cd), ot_input(g, "v", IR_F32, 1, cd)};
  ir_node *n = node(g, "BatchNormalization", 5, in);
  ir_attr_set_float(n, "epsilon", 2.0);   /* keeps var + eps positive for random var */
  assert_int_equal(ot_prepare(g, n), 0);
  ot_compile_and_compare(g, 1e-5, &CC);
  ir_graph_free(g);
}

/* Values in [-1, 1) on a grid of eighths, so that windows hold ties. */
static double rnd_ties(void) { return floor(rnd() * 8) / 8; }

/* MaxPool whose windows tile the input (kl_nn.c's max_pool_tiled, the
 * window unrolled and vectorized along the row at -O3): exactly (LeNet's
 * 2x2/2; f64 too), and 3x2 windows with rows and columns past the last
 * one; windows with ties.  Built at -O3 -march=native and under clang's
 * sanitizers.  (The driver writes finite inputs only: NaN takes over in
 * the window as in the loops it replaces, not tested here.) */
static void test_emit_maxpool_tiled(void **state) {
  (void)state;
  const ot_cc_opts cc = {"test_ops_nn", "TEST_OPS_NN_KEEP", "-O3 -march=native", 1, 0, rnd_ties};
  const struct { int64_t x[4], k[2]; ir_dtype dt; } cases[] = {
      {{3, 6, 28, 28}, {2, 2}, IR_F32},
      {{2, 16, 10, 10}, {2, 2}, IR_F32},
      {{2, 3, 8, 6}, {2, 2}, IR_F64},
      {{2, 3, 11, 9}, {3, 2}, IR_F32},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *in[] = {ot_input(g, "x", cases[i].dt, 4, cases[i].x)};
    ir_node *n = node(g, "MaxPool", 1, in);
    ir_attr_set_ints(n, "kernel_shape", 2, cases[i].k);
    ir_attr_set_ints(n, "strides", 2, cases[i].k);
    assert_int_equal(ot_prepare(g, n), 0);
    ot_compile_and_compare(g, 0, &cc);
    ir_graph_free(g);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_basic),         cmocka_unit_test(test_conv_stride_pads),
      cmocka_unit_test(test_conv_same),          cmocka_unit_test(test_conv_same_stride),
      cmocka_unit_test(test_conv_depthwise),     cmocka_unit_test(test_conv_1d),
      cmocka_unit_test(test_conv_3d),            cmocka_unit_test(test_conv_fused_f32),
      cmocka_unit_test(test_conv_errors),        cmocka_unit_test(test_maxpool_ceil),
      cmocka_unit_test(test_maxpool_dilation_same), cmocka_unit_test(test_avgpool),
      cmocka_unit_test(test_pool_1d_3d_global),  cmocka_unit_test(test_pool_errors),
      cmocka_unit_test(test_gemm),               cmocka_unit_test(test_matmul),
      cmocka_unit_test(test_batchnorm),          cmocka_unit_test(test_emit_conv),
      cmocka_unit_test(test_batchnorm_training), cmocka_unit_test(test_maxpool_indices),
      cmocka_unit_test(test_emit_gemm_matmul),   cmocka_unit_test(test_emit_pools_bn),
      cmocka_unit_test(test_emit_maxpool_tiled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
