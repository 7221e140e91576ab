/*
 * test_ops_quant.c - the quantized group on hand-computed cases: rounding
 * half to even and saturation in QuantizeLinear (per tensor and per axis,
 * uint8 and int8), DequantizeLinear (int32 input too), DynamicQuantizeLinear
 * (numbers from the numpy formula of the ONNX spec), the integer matmul and
 * convolutions with zero points, bias and per-channel parameters, and the
 * errors for parameters of the wrong length.
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
#include "runtime/kernels/kutil.h"

/* ---- graph building ------------------------------------------------------- */

static ir_tensor *ten(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims) {
  ir_tensor *t = ir_add_tensor(g, name, dt, IR_INPUT);
  assert_non_null(t);
  ir_set_shape(t, rank, dims);
  ir_graph_add_input(g, t);
  return t;
}

static ir_tensor *cst(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims,
                      const double *vals) {
  ir_tensor *t = ir_add_tensor(g, name, dt, IR_CONST);
  ir_set_shape(t, rank, dims);
  int64_t cnt = ir_numel(t);
  void *buf = calloc((size_t)cnt + 1, ir_dtype_size(dt));
  for (int64_t i = 0; i < cnt; i++) kstore_f(dt, buf, i, vals[i]);
  ir_tensor_set_data(t, buf, (size_t)ir_nbytes(t));
  free(buf);
  return t;
}

static ir_node *node(ir_graph *g, const char *op, int opset, int n_in, ir_tensor *const *in, int n_out) {
  static int count;
  char name[64];
  snprintf(name, sizeof name, "n%d", count++);
  ir_node *n = ir_add_node(g, op, name);
  ir_tensor *out[4];
  for (int j = 0; j < n_out; j++) {
    snprintf(name, sizeof name, "%s_y%d", n->name, j);
    out[j] = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ir_node_set_io(n, n_in, in, n_out, out);
  n->opset = opset;
  return n;
}

static int prepare(ir_graph *g, ir_node *n) {
  if (op_validate(n) < 0) return -1;
  return n->op->infer(g, n);
}

static void ok(ir_graph *g, ir_node *n) {
  if (prepare(g, n) < 0) fail_msg("%s", ir_last_error());
}

/* prepare must fail with a message containing `part`. */
static void fails(ir_graph *g, ir_node *n, const char *part) {
  if (prepare(g, n) == 0) fail_msg("expected an error containing '%s'", part);
  if (!strstr(ir_last_error(), part)) fail_msg("error '%s' lacks '%s'", ir_last_error(), part);
}

/* Run n with runtime inputs given as doubles; returns output j as doubles. */
static double *run(const ir_node *n, int j, const double *const *vals) {
  const void *in[10] = {0};
  void *out[4] = {0};
  void *bufs[10] = {0};
  for (int i = 0; i < n->n_in; i++) {
    const ir_tensor *t = n->in[i];
    if (!t) continue;
    if (t->data) {
      in[i] = t->data;
      continue;
    }
    int64_t cnt = ir_numel(t);
    bufs[i] = calloc((size_t)cnt + 1, ir_dtype_size(t->dtype));
    for (int64_t k = 0; k < cnt; k++) kstore_f(t->dtype, bufs[i], k, vals[i][k]);
    in[i] = bufs[i];
  }
  for (int k = 0; k < n->n_out; k++) out[k] = calloc((size_t)ir_nbytes(n->out[k]) + 1, 1);
  interp_ctx c;
  memset(&c, 0, sizeof c);
  if (interp_node(&c, n, in, out) < 0) fail_msg("interp: %s", ir_last_error());
  int64_t cnt = ir_numel(n->out[j]);
  double *r = malloc(sizeof(double) * (size_t)(cnt + 1));
  for (int64_t k = 0; k < cnt; k++) r[k] = kload_f(n->out[j]->dtype, out[j], k);
  for (int i = 0; i < 10; i++) free(bufs[i]);
  for (int k = 0; k < n->n_out; k++) free(out[k]);
  return r;
}

static void expect_vals(double *got, const double *want, int cnt, double tol) {
  for (int i = 0; i < cnt; i++)
    if (!(fabs(got[i] - want[i]) <= tol))
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
  free(got);
}

static void expect_shape(const ir_tensor *t, int rank, const int64_t *dims) {
  assert_int_equal(t->rank, rank);
  for (int i = 0; i < rank; i++) assert_int_equal(t->shape[i], dims[i]);
}

#define D(...) ((const double[]){__VA_ARGS__})
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

/* ---- (De)QuantizeLinear ----------------------------------------------------- */

static void test_quantize(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* x / 2 + 128: 1.5 -> 2 and 2.5 -> 2, -1.25 -> -1 (halves to even), then saturation */
  ir_tensor *x = ten(g, "x", IR_F32, 1, DIMS(9));
  ir_tensor *s = cst(g, "s", IR_F32, 0, NULL, D(2));
  ir_tensor *z = cst(g, "z", IR_U8, 0, NULL, D(128));
  ir_node *n = node(g, "QuantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  expect_vals(run(n, 0, (const double *[]){D(0, 2, 3, 1000, -254, -1000, 5, 7, -2.5)}),
              D(128, 129, 130, 255, 1, 0, 130, 132, 127), 9, 0);

  /* int8 per axis 1 of [2,3]: scales 1,2,4, zero points 0,-10,10 */
  x = ten(g, "x2", IR_F32, 2, DIMS(2, 3));
  s = cst(g, "s2", IR_F32, 1, DIMS(3), D(1, 2, 4));
  z = cst(g, "z2", IR_I8, 1, DIMS(3), D(0, -10, 10));
  n = node(g, "QuantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I8);
  expect_vals(run(n, 0, (const double *[]){D(1.5, 5, -600, -0.5, -300, 2)}), D(2, -8, -128, 0, -128, 10), 6, 0);

  /* no zero point: uint8 with zero point 0 */
  x = ten(g, "x3", IR_F32, 1, DIMS(3));
  s = cst(g, "s3", IR_F32, 0, NULL, D(0.5));
  n = node(g, "QuantizeLinear", 13, 2, (ir_tensor *[]){x, s}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  expect_vals(run(n, 0, (const double *[]){D(-1, 0.25, 200)}), D(0, 0, 255), 3, 0);

  /* scale with the wrong number of elements for axis 1 */
  x = ten(g, "x4", IR_F32, 2, DIMS(2, 3));
  s = cst(g, "s4", IR_F32, 1, DIMS(2), D(1, 2));
  n = node(g, "QuantizeLinear", 13, 2, (ir_tensor *[]){x, s}, 1);
  fails(g, n, "one per element of the axis");
  ir_graph_free(g);
}

static void test_dequantize(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_I32, 1, DIMS(3));
  ir_tensor *s = cst(g, "s", IR_F32, 0, NULL, D(0.5));
  ir_node *n = node(g, "DequantizeLinear", 13, 2, (ir_tensor *[]){x, s}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_F32);
  expect_vals(run(n, 0, (const double *[]){D(-3, 7, 100000)}), D(-1.5, 3.5, 50000), 3, 0);

  /* uint8 per axis 0 of [2,2]: (x - zp[r]) * s[r] */
  x = ten(g, "x2", IR_U8, 2, DIMS(2, 2));
  s = cst(g, "s2", IR_F32, 1, DIMS(2), D(2, 0.25));
  ir_tensor *z = cst(g, "z2", IR_U8, 1, DIMS(2), D(10, 200));
  n = node(g, "DequantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ir_attr_set_int(n, "axis", 0);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){D(0, 12, 255, 196)}), D(-20, 4, 13.75, -1), 4, 0);

  /* zero point of another dtype than x */
  x = ten(g, "x3", IR_U8, 1, DIMS(2));
  s = cst(g, "s3", IR_F32, 0, NULL, D(1));
  z = cst(g, "z3", IR_I8, 0, NULL, D(1));
  n = node(g, "DequantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  fails(g, n, "zero point");
  ir_graph_free(g);
}

/* numpy, following the spec's formula:
 * scale = (max(0,x) - min(0,x)) / 255 = 0.019607844, zp = round(3 / scale) = 153 */
static void test_dynamic_quantize(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 1, DIMS(6));
  ir_node *n = node(g, "DynamicQuantizeLinear", 11, 1, (ir_tensor *[]){x}, 3);
  ok(g, n);
  expect_shape(n->out[1], 0, NULL);
  const double *in[] = {D(0, 2, -3, -2.5, 1.34, 0.5)};
  expect_vals(run(n, 0, in), D(153, 255, 0, 26, 221, 179), 6, 0);
  expect_vals(run(n, 1, in), D(0.019607844), 1, 1e-9);
  expect_vals(run(n, 2, in), D(153), 1, 0);
  /* all zeros: scale 0, zero point 0, y 0 */
  const double *zeros[] = {D(0, 0, 0, 0, 0, 0)};
  expect_vals(run(n, 0, zeros), D(0, 0, 0, 0, 0, 0), 6, 0);
  expect_vals(run(n, 1, zeros), D(0), 1, 0);
  ir_graph_free(g);
}

/* ---- matmuls ------------------------------------------------------------------ */

static void test_matmul_integer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* (A - 1) = [[0,1],[2,3]], (B - 5) = [[0,1],[2,3]]: product [[2,3],[6,11]] */
  ir_tensor *a = ten(g, "a", IR_U8, 2, DIMS(2, 2));
  ir_tensor *b = ten(g, "b", IR_U8, 2, DIMS(2, 2));
  ir_tensor *za = cst(g, "za", IR_U8, 0, NULL, D(1));
  ir_tensor *zb = cst(g, "zb", IR_U8, 0, NULL, D(5));
  ir_node *n = node(g, "MatMulInteger", 10, 4, (ir_tensor *[]){a, b, za, zb}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I32);
  expect_vals(run(n, 0, (const double *[]){D(1, 2, 3, 4), D(5, 6, 7, 8)}), D(2, 3, 6, 11), 4, 0);

  /* int8, a per-row zero point of A, a batch of two [2,1] A's against one [1,2] B */
  a = ten(g, "a2", IR_I8, 3, DIMS(2, 2, 1));
  b = ten(g, "b2", IR_I8, 2, DIMS(1, 2));
  za = cst(g, "za2", IR_I8, 1, DIMS(2), D(1, -1));
  n = node(g, "MatMulInteger", 10, 3, (ir_tensor *[]){a, b, za}, 1);
  ok(g, n);
  expect_shape(n->out[0], 3, DIMS(2, 2, 2));
  /* rows: 3-1=2, 0+1=1, -5-1=-6, 4+1=5, times B = [10, -3] */
  expect_vals(run(n, 0, (const double *[]){D(3, 0, -5, 4), D(10, -3)}),
              D(20, -6, 10, -3, -60, 18, 50, -15), 8, 0);

  /* b zero point of the wrong length */
  zb = cst(g, "zb3", IR_I8, 1, DIMS(3), D(0, 0, 0));
  n = node(g, "MatMulInteger", 10, 4, (ir_tensor *[]){a, b, NULL, zb}, 1);
  fails(g, n, "column of B");
  ir_graph_free(g);
}

static void test_qlinear_matmul(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* acc = 2*(1-1) + 4*(3-1) = 8; 8 * (0.5 * 0.25 / 0.5) = 2; + 10 = 12.
   * second column: 2*(9-1) + 4*(0-1) = 12 -> 3 + 10 = 13 */
  ir_tensor *a = ten(g, "a", IR_U8, 2, DIMS(1, 2));
  ir_tensor *b = ten(g, "b", IR_U8, 2, DIMS(2, 2));
  ir_tensor *as = cst(g, "as", IR_F32, 0, NULL, D(0.5)), *az = cst(g, "az", IR_U8, 0, NULL, D(0));
  ir_tensor *bs = cst(g, "bs", IR_F32, 0, NULL, D(0.25)), *bz = cst(g, "bz", IR_U8, 0, NULL, D(1));
  ir_tensor *ys = cst(g, "ys", IR_F32, 0, NULL, D(0.5)), *yz = cst(g, "yz", IR_U8, 0, NULL, D(10));
  ir_node *n = node(g, "QLinearMatMul", 10, 8, (ir_tensor *[]){a, as, az, b, bs, bz, ys, yz}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  expect_vals(run(n, 0, (const double *[]){D(2, 4), NULL, NULL, D(1, 9, 3, 0)}), D(12, 13), 2, 0);

  /* int8 output, saturation */
  ys = cst(g, "ys2", IR_F32, 0, NULL, D(0.0625));
  yz = cst(g, "yz2", IR_I8, 0, NULL, D(120));
  n = node(g, "QLinearMatMul", 10, 8, (ir_tensor *[]){a, as, az, b, bs, bz, ys, yz}, 1);
  ok(g, n);
  /* 8 * 2 = 16 + 120 -> 127 (saturated); 12 * 2 = 24 + 120 -> 127 */
  expect_vals(run(n, 0, (const double *[]){D(2, 4), NULL, NULL, D(1, 9, 3, 0)}), D(127, 127), 2, 0);
  ys = cst(g, "ys3", IR_F32, 0, NULL, D(8));
  yz = cst(g, "yz3", IR_I8, 0, NULL, D(0));
  n = node(g, "QLinearMatMul", 10, 8, (ir_tensor *[]){a, as, az, b, bs, bz, ys, yz}, 1);
  ok(g, n);
  /* mult = 0.125 / 8 = 1/64: 8/64 = 0.125 -> 0; 12/64 -> 0 */
  expect_vals(run(n, 0, (const double *[]){D(2, 4), NULL, NULL, D(1, 9, 3, 0)}), D(0, 0), 2, 0);
  ir_graph_free(g);
}

/* ---- convolutions ------------------------------------------------------------ */

static void test_conv_integer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* x - 1 = [[0,1,2],[3,4,5],[6,7,8]], 2x2 kernel of ones: window sums */
  ir_tensor *x = ten(g, "x", IR_U8, 4, DIMS(1, 1, 3, 3));
  ir_tensor *w = cst(g, "w", IR_U8, 4, DIMS(1, 1, 2, 2), D(1, 1, 1, 1));
  ir_tensor *zx = cst(g, "zx", IR_U8, 0, NULL, D(1));
  ir_node *n = node(g, "ConvInteger", 10, 3, (ir_tensor *[]){x, w, zx}, 1);
  ok(g, n);
  expect_shape(n->out[0], 4, DIMS(1, 1, 2, 2));
  const double *in[] = {D(1, 2, 3, 4, 5, 6, 7, 8, 9)};
  expect_vals(run(n, 0, in), D(8, 12, 20, 24), 4, 0);

  /* SAME_UPPER pads one row/column at the end; the padding adds nothing */
  n = node(g, "ConvInteger", 10, 3, (ir_tensor *[]){x, w, zx}, 1);
  ir_attr_set_string(n, "auto_pad", "SAME_UPPER");
  ok(g, n);
  expect_shape(n->out[0], 4, DIMS(1, 1, 3, 3));
  expect_vals(run(n, 0, in), D(8, 12, 7, 20, 24, 13, 13, 15, 8), 9, 0);

  /* int8 weights with a per-output-channel zero point, stride 2:
   * channel 0: w - 1 = [0, 1], channel 1: w - (-1) = [2, 0] on x = 0..4 (zp 0) */
  x = ten(g, "x2", IR_U8, 3, DIMS(1, 1, 5));
  w = cst(g, "w2", IR_I8, 3, DIMS(2, 1, 2), D(1, 2, 1, -1));
  ir_tensor *zw = cst(g, "zw2", IR_I8, 1, DIMS(2), D(1, -1));
  n = node(g, "ConvInteger", 10, 4, (ir_tensor *[]){x, w, NULL, zw}, 1);
  ir_attr_set_ints(n, "strides", 1, DIMS(2));
  ok(g, n);
  expect_shape(n->out[0], 3, DIMS(1, 2, 2));
  expect_vals(run(n, 0, (const double *[]){D(0, 1, 2, 3, 4)}), D(1, 3, 0, 4), 4, 0);
  ir_graph_free(g);
}

static void test_qlinear_conv(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* 1x1 kernel 2 (scale 0.5), x zp 1, bias 1, y scale 1:
   * (3-1)*2+1 = 5 -> 2.5 -> 2; (5-1)*2+1 = 9 -> 4.5 -> 4; (0-1)*2+1 = -1 -> -0.5 -> -0 -> 0 + 7 */
  ir_tensor *x = ten(g, "x", IR_U8, 4, DIMS(1, 1, 1, 3));
  ir_tensor *xs = cst(g, "xs", IR_F32, 0, NULL, D(1)), *xz = cst(g, "xz", IR_U8, 0, NULL, D(1));
  ir_tensor *w = cst(g, "w", IR_I8, 4, DIMS(1, 1, 1, 1), D(2));
  ir_tensor *ws = cst(g, "ws", IR_F32, 1, DIMS(1), D(0.5)), *wz = cst(g, "wz", IR_I8, 1, DIMS(1), D(0));
  ir_tensor *ys = cst(g, "ys", IR_F32, 0, NULL, D(1)), *yz = cst(g, "yz", IR_U8, 0, NULL, D(7));
  ir_tensor *bias = cst(g, "b", IR_I32, 1, DIMS(1), D(1));
  ir_node *n = node(g, "QLinearConv", 10, 9, (ir_tensor *[]){x, xs, xz, w, ws, wz, ys, yz, bias}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  expect_vals(run(n, 0, (const double *[]){D(3, 5, 0)}), D(9, 11, 7), 3, 0);

  /* a float bias is refused */
  bias = cst(g, "bf", IR_F32, 1, DIMS(1), D(1));
  n = node(g, "QLinearConv", 10, 9, (ir_tensor *[]){x, xs, xz, w, ws, wz, ys, yz, bias}, 1);
  fails(g, n, "int32");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_quantize),       cmocka_unit_test(test_dequantize),
    cmocka_unit_test(test_dynamic_quantize), cmocka_unit_test(test_matmul_integer),
    cmocka_unit_test(test_qlinear_matmul), cmocka_unit_test(test_conv_integer),
    cmocka_unit_test(test_qlinear_conv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
