/*
 * test_ops_image.c - the image group (ops_image.c): validation errors,
 * shape inference and the reference kernels on tiny hand-built graphs
 * whose outputs are computed by hand in the comments.  The emitted C of
 * these ops is checked against ONNX's backend tests by `modelc test-onnx`.
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

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "runtime/interp.h"
#include "optest.h"

static ir_tensor *const_i64(ir_graph *g, const char *name, int cnt, const int64_t *v) {
  int64_t d = cnt;
  ir_tensor *t = ot_tensor(g, name, IR_I64, 1, &d);
  assert_int_equal(ir_tensor_set_data(t, v, sizeof(int64_t) * (size_t)cnt), 0);
  return t;
}

/* A node named n0 (expect_error looks for it) writing one output "y". */
static ir_node *node(ir_graph *g, const char *op, int n_in, ir_tensor *const *in, int opset) {
  return ot_node_named(g, "n0", op, opset, n_in, in, 1, (const char *const[]){"y"});
}

/* Run n on f64 inputs (integer inputs passed as given) and compare output 0. */
static void run_expect(const ir_node *n, const void *const *in, const double *want, int cnt) {
  interp_ctx c;
  memset(&c, 0, sizeof c);
  assert_int_equal(ir_numel(n->out[0]), cnt);
  double *y = calloc((size_t)cnt + 1, sizeof(double));
  void *out[1] = {y};
  if (interp_node(&c, n, in, out) < 0) fail_msg("interp: %s", ir_last_error());
  ot_expect_rel(y, want, cnt, 1e-9);
  free(y);
}

static void expect_error(const char *needle) { ot_expect_error(needle, "n0"); }

/* half_pixel nearest, 2 -> 4: x_ori = -0.25 0.25 0.75 1.25 -> 0 0 1 1 */
static void test_resize_nearest_sizes(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[4] = {1, 1, 1, 2}, sz[4] = {1, 1, 1, 4};
  ir_tensor *in[4] = {ot_tensor(g, "x", IR_F64, 4, xd), NULL, NULL, const_i64(g, "sizes", 4, sz)};
  ir_node *n = node(g, "Resize", 4, in, 13);
  assert_int_equal(ot_prepare(g, n), 0);
  assert_int_equal(n->out[0]->shape[3], 4);
  double x[2] = {1, 2}, want[4] = {1, 1, 2, 2};
  const void *ins[4] = {x, NULL, NULL, sz};
  run_expect(n, ins, want, 4);
  ir_graph_free(g);
}

/* align_corners linear, [0, 3] -> 4: x_ori = 0 1/3 2/3 1 -> 0 1 2 3 */
static void test_resize_linear_align(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[2] = {1, 2}, sz[2] = {1, 4};
  ir_tensor *in[4] = {ot_tensor(g, "x", IR_F64, 2, xd), NULL, NULL, const_i64(g, "sizes", 2, sz)};
  ir_node *n = node(g, "Resize", 4, in, 13);
  ir_attr_set_string(n, "mode", "linear");
  ir_attr_set_string(n, "coordinate_transformation_mode", "align_corners");
  assert_int_equal(ot_prepare(g, n), 0);
  double x[2] = {0, 3}, want[4] = {0, 1, 2, 3};
  const void *ins[4] = {x, NULL, NULL, sz};
  run_expect(n, ins, want, 4);
  ir_graph_free(g);
}

static void test_resize_errors(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[2] = {1, 2}, sz[3] = {1, 4, 4};
  ir_tensor *x = ot_tensor(g, "x", IR_F64, 2, xd);
  ir_tensor *in[4] = {x, NULL, NULL, NULL};
  ir_node *n = node(g, "Resize", 1, in, 13);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("scales or a sizes");
  ir_attr_set_string(n, "mode", "bicubic");
  assert_int_equal(op_validate(n), -1);
  expect_error("unknown mode");
  ir_graph *g2 = ir_graph_new("g2", NULL);
  ir_tensor *in2[4] = {ot_tensor(g2, "x", IR_F64, 2, xd), NULL, NULL, const_i64(g2, "sizes", 3, sz)};
  ir_node *n2 = node(g2, "Resize", 4, in2, 13);
  assert_int_equal(ot_prepare(g2, n2), -1);
  expect_error("sizes has 3 values");
  ir_graph_free(g);
  ir_graph_free(g2);
}

/* DCR, C'=2, b=2: y[c,i,j] = x[(i*2+j)*2 + c] -> 0 2 4 6 1 3 5 7; CRD: x[c*4+i*2+j] */
static void test_depth_to_space(void **state) {
  (void)state;
  for (int crd = 0; crd < 2; crd++) {
    ir_graph *g = ir_graph_new("g", NULL);
    int64_t xd[4] = {1, 8, 1, 1};
    ir_tensor *in[1] = {ot_tensor(g, "x", IR_F64, 4, xd)};
    ir_node *n = node(g, "DepthToSpace", 1, in, 13);
    ir_attr_set_int(n, "blocksize", 2);
    if (crd) ir_attr_set_string(n, "mode", "CRD");
    assert_int_equal(ot_prepare(g, n), 0);
    double x[8] = {0, 1, 2, 3, 4, 5, 6, 7}, dcr[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    const void *ins[1] = {x};
    run_expect(n, ins, crd ? x : dcr, 8);
    ir_graph_free(g);
  }
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[4] = {1, 6, 1, 1};
  ir_tensor *in[1] = {ot_tensor(g, "x", IR_F64, 4, xd)};
  ir_node *n = node(g, "DepthToSpace", 1, in, 13);
  ir_attr_set_int(n, "blocksize", 2);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("not divisible");
  ir_graph_free(g);
}

/* [1,1,2,2] -> [1,4,1,1]: channel (i*2+j) holds x[i][j] */
static void test_space_to_depth(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[4] = {1, 1, 2, 2};
  ir_tensor *in[1] = {ot_tensor(g, "x", IR_F64, 4, xd)};
  ir_node *n = node(g, "SpaceToDepth", 1, in, 13);
  ir_attr_set_int(n, "blocksize", 2);
  assert_int_equal(ot_prepare(g, n), 0);
  assert_int_equal(n->out[0]->shape[1], 4);
  double x[4] = {1, 2, 3, 4};
  const void *ins[1] = {x};
  run_expect(n, ins, x, 4);
  ir_graph_free(g);
}

/* [1, 3], eps 0: mean 2, var 1 -> [-1, 1] * scale [2, 3] + [1, 0] = [-1, 3] */
static void test_layer_norm(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[2] = {1, 2}, sd[1] = {2};
  ir_tensor *in[3] = {ot_tensor(g, "x", IR_F64, 2, xd), ot_tensor(g, "s", IR_F64, 1, sd), ot_tensor(g, "b", IR_F64, 1, sd)};
  ir_node *n = node(g, "LayerNormalization", 3, in, 17);
  ir_attr_set_float(n, "epsilon", 0.0);
  assert_int_equal(ot_prepare(g, n), 0);
  double x[2] = {1, 3}, s[2] = {2, 3}, b[2] = {1, 0}, want[2] = {-1, 3};
  const void *ins[3] = {x, s, b};
  run_expect(n, ins, want, 2);
  ir_graph_free(g);
}

/* [0, 2], eps 0: mean 1, var 1 -> (x - 1) * 2 + 1 = [-1, 3] */
static void test_instance_norm(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[3] = {1, 1, 2}, sd[1] = {1};
  ir_tensor *in[3] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "s", IR_F64, 1, sd), ot_tensor(g, "b", IR_F64, 1, sd)};
  ir_node *n = node(g, "InstanceNormalization", 3, in, 6);
  ir_attr_set_float(n, "epsilon", 0.0);
  assert_int_equal(ot_prepare(g, n), 0);
  double x[2] = {0, 2}, s[1] = {2}, b[1] = {1}, want[2] = {-1, 3};
  const void *ins[3] = {x, s, b};
  run_expect(n, ins, want, 2);
  ir_graph_free(g);
}

/* size 2 (window [c, c+1]), alpha 1, beta 1, bias 1 on [1, 2]:
 * c=0: 1 / (1 + 5/2) = 2/7; c=1: 2 / (1 + 4/2) = 2/3 */
static void test_lrn(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[4] = {1, 2, 1, 1};
  ir_tensor *in[1] = {ot_tensor(g, "x", IR_F64, 4, xd)};
  ir_node *n = node(g, "LRN", 1, in, 13);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("size");
  ir_attr_set_int(n, "size", 2);
  ir_attr_set_float(n, "alpha", 1.0);
  ir_attr_set_float(n, "beta", 1.0);
  assert_int_equal(ot_prepare(g, n), 0);
  double x[2] = {1, 2}, want[2] = {2.0 / 7.0, 2.0 / 3.0};
  const void *ins[1] = {x};
  run_expect(n, ins, want, 2);
  ir_graph_free(g);
}

/* 1-D, x [1, 2], w [1, 1]: stride 2 -> [1 1 2 2]; stride 1 -> [1 3 2] */
static void test_conv_transpose(void **state) {
  (void)state;
  for (int s = 1; s <= 2; s++) {
    ir_graph *g = ir_graph_new("g", NULL);
    int64_t xd[3] = {1, 1, 2}, st = s;
    ir_tensor *in[2] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "w", IR_F64, 3, xd)};
    ir_node *n = node(g, "ConvTranspose", 2, in, 11);
    ir_attr_set_ints(n, "strides", 1, &st);
    assert_int_equal(ot_prepare(g, n), 0);
    double x[2] = {1, 2}, w[2] = {1, 1}, w1[3] = {1, 3, 2}, w2[4] = {1, 1, 2, 2};
    const void *ins[2] = {x, w};
    run_expect(n, ins, s == 1 ? w1 : w2, s == 1 ? 3 : 4);
    ir_graph_free(g);
  }
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[3] = {1, 2, 2}, wd[3] = {3, 1, 2};
  ir_tensor *in[2] = {ot_tensor(g, "x", IR_F64, 3, xd), ot_tensor(g, "w", IR_F64, 3, wd)};
  ir_node *n = node(g, "ConvTranspose", 2, in, 11);
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("input channels");
  ir_graph_free(g);
}

/* The emitted ConvTranspose (the 2-D GEMM + col2im path, its row and
 * column tiles, and the plain loops for 1-D) against the interpreter:
 * strides 1/2/3, asymmetric pads, dilation 2, output_padding, groups 2,
 * batch 2, bias, channel counts off the 4x16 register tile, float64. */
typedef struct {
  int64_t n, c, h, w, m, grp, kh, kw, s0, s1, pads[4], d0, d1, op0, op1;
  int bias, f64, rank;
} ct_case;

static void test_conv_transpose_emit(void **state) {
  (void)state;
  static const ct_case cases[] = {
      {.n = 2, .c = 5, .h = 7, .w = 6, .m = 3, .grp = 1, .kh = 3, .kw = 3, .s0 = 1, .s1 = 1, .d0 = 1, .d1 = 1},
      {.n = 2, .c = 6, .h = 5, .w = 9, .m = 7, .grp = 1, .kh = 3, .kw = 3, .s0 = 2, .s1 = 2, .pads = {1, 1, 1, 1},
       .d0 = 1, .d1 = 1, .op0 = 1, .op1 = 1, .bias = 1},
      {.n = 1, .c = 3, .h = 4, .w = 5, .m = 5, .grp = 1, .kh = 2, .kw = 3, .s0 = 3, .s1 = 2, .pads = {0, 2, 1, 0},
       .d0 = 2, .d1 = 2, .op0 = 2, .op1 = 1, .bias = 1},
      {.n = 2, .c = 6, .h = 5, .w = 5, .m = 4, .grp = 2, .kh = 3, .kw = 2, .s0 = 2, .s1 = 3, .pads = {1, 0, 0, 1},
       .d0 = 2, .d1 = 1, .op0 = 0, .op1 = 2},
      {.n = 1, .c = 4, .h = 3, .w = 17, .m = 6, .grp = 2, .kh = 1, .kw = 1, .s0 = 1, .s1 = 2, .d0 = 1, .d1 = 1,
       .bias = 1, .f64 = 1},
      /* 16 taps x 9 = 144 column rows of a 120-pixel input row: 69 KiB, so column rows are tiled too */
      {.n = 1, .c = 3, .h = 3, .w = 120, .m = 16, .grp = 1, .kh = 3, .kw = 3, .s0 = 2, .s1 = 2,
       .pads = {1, 1, 1, 1}, .d0 = 1, .d1 = 1},
      /* 1-D: the plain scatter loops */
      {.rank = 1, .n = 2, .c = 3, .w = 6, .m = 2, .grp = 1, .kw = 3, .s1 = 2, .pads = {1, 0}, .d1 = 2, .op1 = 1,
       .bias = 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const ct_case *t = &cases[i];
    int one = t->rank == 1, r = one ? 3 : 4;
    ir_dtype dt = t->f64 ? IR_F64 : IR_F32;
    int64_t xd[4] = {t->n, t->c, t->h, t->w}, wd[4] = {t->c, t->m / t->grp, t->kh, t->kw}, bd[1] = {t->m};
    int64_t st[2] = {t->s0, t->s1}, dl[2] = {t->d0, t->d1}, op[2] = {t->op0, t->op1};
    if (one) xd[2] = t->w, wd[2] = t->kw;
    ir_graph *g = ir_graph_new("g", NULL);
    ir_tensor *in[3] = {ot_input(g, "x", dt, r, xd), ot_input(g, "w", dt, r, wd),
                        t->bias ? ot_input(g, "b", dt, 1, bd) : NULL};
    ir_node *n = node(g, "ConvTranspose", t->bias ? 3 : 2, in, 11);
    ir_attr_set_ints(n, "strides", r - 2, one ? st + 1 : st);
    ir_attr_set_ints(n, "dilations", r - 2, one ? dl + 1 : dl);
    ir_attr_set_ints(n, "output_padding", r - 2, one ? op + 1 : op);
    ir_attr_set_ints(n, "pads", 2 * (r - 2), t->pads);
    ir_attr_set_int(n, "group", t->grp);
    ot_ok(g, n);
    ot_cc_opts o = {.tag = "convt", .keep_env = "MODELC_KEEP", .cc_flags = "-O3", .clang_sanitize = 1};
    ot_compile_and_compare(g, 1e-4, &o);
    ir_graph_free(g);
  }
}

/* x [5, 6] at flat indices 1, 2 of the default [1,1,1,4] output */
static void test_max_unpool(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[4] = {1, 1, 1, 2}, k[2] = {1, 2};
  ir_tensor *in[2] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "i", IR_I64, 4, xd)};
  ir_node *n = node(g, "MaxUnpool", 2, in, 11);
  ir_attr_set_ints(n, "kernel_shape", 2, k);
  ir_attr_set_ints(n, "strides", 2, k);
  assert_int_equal(ot_prepare(g, n), 0);
  double x[2] = {5, 6}, want[4] = {0, 5, 6, 0};
  int64_t idx[2] = {1, 2};
  const void *ins[2] = {x, idx};
  run_expect(n, ins, want, 4);
  ir_graph_free(g);
}

/* RoiAlign, worked by hand.  X = [[1,2],[3,4]], roi (0,0)-(1,1), one 1x1 bin
 * sampled once: output_half_pixel samples (0.5,0.5), avg 2.5 and the
 * reference's max of weighted corners max(.25,.5,.75,1) = 1; half_pixel
 * shifts the roi by -0.5 and samples (0,0): 1.  A 4x4 ramp 4y+x is
 * linear, so bilinear is exact: roi (0,0)-(3,3), adaptive 3x3 grid at
 * 0.5/1.5/2.5 averages to 4*1.5+1.5 = 7.5. */
static void test_roi_align(void **state) {
  (void)state;
  static const struct { const char *mode, *ctm; int opset; double want; } cases[] = {
    {"avg", "output_half_pixel", 16, 2.5}, {"max", "output_half_pixel", 16, 1.0},
    {"avg", NULL, 16, 1.0},                {"avg", NULL, 10, 2.5}};
  int64_t xd[4] = {1, 1, 2, 2}, rd[2] = {1, 4}, bd[1] = {1}, yd[4] = {1, 1, 1, 1};
  double x[4] = {1, 2, 3, 4}, roi[4] = {0, 0, 1, 1};
  int64_t b0 = 0, b1 = 1;
  for (int k = 0; k < 4; k++) {
    ir_graph *g = ir_graph_new("g", NULL);
    ir_tensor *in[3] = {ot_tensor(g, "x", IR_F64, 4, xd), ot_tensor(g, "rois", IR_F64, 2, rd), ot_tensor(g, "bi", IR_I64, 1, bd)};
    ir_node *n = node(g, "RoiAlign", 3, in, cases[k].opset);
    ir_attr_set_string(n, "mode", cases[k].mode);
    if (cases[k].ctm) ir_attr_set_string(n, "coordinate_transformation_mode", cases[k].ctm);
    ir_attr_set_int(n, "sampling_ratio", 1);
    assert_int_equal(ot_prepare(g, n), 0);
    assert_int_equal(n->out[0]->rank, 4);
    for (int d = 0; d < 4; d++) assert_int_equal(n->out[0]->shape[d], yd[d]);
    const void *ins[3] = {x, roi, &b0};
    run_expect(n, ins, &cases[k].want, 1);
    if (k == 0) {   /* a batch index outside [0, N) is refused by name */
      interp_ctx c;
      double y;
      void *out[1] = {&y};
      const void *bad[3] = {x, roi, &b1};
      memset(&c, 0, sizeof c);
      assert_int_equal(interp_node(&c, n, bad, out), -1);
      expect_error("batch index");
    }
    ir_graph_free(g);
  }
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd4[4] = {1, 1, 4, 4};
  ir_tensor *in[3] = {ot_tensor(g, "x", IR_F64, 4, xd4), ot_tensor(g, "rois", IR_F64, 2, rd), ot_tensor(g, "bi", IR_I64, 1, bd)};
  ir_node *n = node(g, "RoiAlign", 3, in, 16);
  ir_attr_set_string(n, "coordinate_transformation_mode", "output_half_pixel");
  assert_int_equal(ot_prepare(g, n), 0);
  double ramp[16], roi3[4] = {0, 0, 3, 3}, want = 7.5;
  for (int i = 0; i < 16; i++) ramp[i] = i;
  const void *ins[3] = {ramp, roi3, &b0};
  run_expect(n, ins, &want, 1);
  ir_attr_set_string(n, "mode", "sum");
  assert_int_equal(ot_prepare(g, n), -1);
  expect_error("unknown mode");
  ir_graph_free(g);
}

/* GlobalLpPool p=2 of [3, 4] is 5; LpNormalization p=1 of [1, 3] is [0.25, 0.75] */
static void test_lp(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t xd[3] = {1, 1, 2};
  ir_tensor *in[1] = {ot_tensor(g, "x", IR_F64, 3, xd)};
  ir_node *n = node(g, "GlobalLpPool", 1, in, 2);
  assert_int_equal(ot_prepare(g, n), 0);
  double x[2] = {3, 4}, five[1] = {5};
  const void *ins[1] = {x};
  run_expect(n, ins, five, 1);
  ir_graph_free(g);

  g = ir_graph_new("g", NULL);
  int64_t ld[2] = {1, 2};
  ir_tensor *in2[1] = {ot_tensor(g, "x", IR_F64, 2, ld)};
  n = node(g, "LpNormalization", 1, in2, 1);
  ir_attr_set_int(n, "p", 1);
  assert_int_equal(ot_prepare(g, n), 0);
  double y[2] = {1, 3}, want[2] = {0.25, 0.75};
  const void *ins2[1] = {y};
  run_expect(n, ins2, want, 2);
  ir_attr_set_int(n, "p", 3);
  assert_int_equal(op_validate(n), -1);
  expect_error("p=3");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resize_nearest_sizes), cmocka_unit_test(test_resize_linear_align),
      cmocka_unit_test(test_resize_errors),        cmocka_unit_test(test_depth_to_space),
      cmocka_unit_test(test_space_to_depth),       cmocka_unit_test(test_layer_norm),
      cmocka_unit_test(test_instance_norm),        cmocka_unit_test(test_lrn),
      cmocka_unit_test(test_conv_transpose),       cmocka_unit_test(test_conv_transpose_emit),       cmocka_unit_test(test_max_unpool),
      cmocka_unit_test(test_lp),                   cmocka_unit_test(test_roi_align),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
