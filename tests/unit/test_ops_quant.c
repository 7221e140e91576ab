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
#include "optest.h"

/* ---- (De)QuantizeLinear ----------------------------------------------------- */

static void test_quantize(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* x / 2 + 128: 1.5 -> 2 and 2.5 -> 2, -1.25 -> -1 (halves to even), then saturation */
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(9));
  ir_tensor *s = ot_const(g, "s", IR_F32, 0, NULL, D(2));
  ir_tensor *z = ot_const(g, "z", IR_U8, 0, NULL, D(128));
  ir_node *n = ot_node(g, "QuantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(0, 2, 3, 1000, -254, -1000, 5, 7, -2.5)}),
              D(128, 129, 130, 255, 1, 0, 130, 132, 127), 9, 0);

  /* int8 per axis 1 of [2,3]: scales 1,2,4, zero points 0,-10,10 */
  x = ot_input(g, "x2", IR_F32, 2, DIMS(2, 3));
  s = ot_const(g, "s2", IR_F32, 1, DIMS(3), D(1, 2, 4));
  z = ot_const(g, "z2", IR_I8, 1, DIMS(3), D(0, -10, 10));
  n = ot_node(g, "QuantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I8);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(1.5, 5, -600, -0.5, -300, 2)}), D(2, -8, -128, 0, -128, 10), 6, 0);

  /* no zero point: uint8 with zero point 0 */
  x = ot_input(g, "x3", IR_F32, 1, DIMS(3));
  s = ot_const(g, "s3", IR_F32, 0, NULL, D(0.5));
  n = ot_node(g, "QuantizeLinear", 13, 2, (ir_tensor *[]){x, s}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(-1, 0.25, 200)}), D(0, 0, 255), 3, 0);

  /* scale with the wrong number of elements for axis 1 */
  x = ot_input(g, "x4", IR_F32, 2, DIMS(2, 3));
  s = ot_const(g, "s4", IR_F32, 1, DIMS(2), D(1, 2));
  n = ot_node(g, "QuantizeLinear", 13, 2, (ir_tensor *[]){x, s}, 1);
  ot_fails(g, n, "one per element of the axis");
  ir_graph_free(g);
}

static void test_dequantize(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_I32, 1, DIMS(3));
  ir_tensor *s = ot_const(g, "s", IR_F32, 0, NULL, D(0.5));
  ir_node *n = ot_node(g, "DequantizeLinear", 13, 2, (ir_tensor *[]){x, s}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_F32);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(-3, 7, 100000)}), D(-1.5, 3.5, 50000), 3, 0);

  /* uint8 per axis 0 of [2,2]: (x - zp[r]) * s[r] */
  x = ot_input(g, "x2", IR_U8, 2, DIMS(2, 2));
  s = ot_const(g, "s2", IR_F32, 1, DIMS(2), D(2, 0.25));
  ir_tensor *z = ot_const(g, "z2", IR_U8, 1, DIMS(2), D(10, 200));
  n = ot_node(g, "DequantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ir_attr_set_int(n, "axis", 0);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(0, 12, 255, 196)}), D(-20, 4, 13.75, -1), 4, 0);

  /* zero point of another dtype than x */
  x = ot_input(g, "x3", IR_U8, 1, DIMS(2));
  s = ot_const(g, "s3", IR_F32, 0, NULL, D(1));
  z = ot_const(g, "z3", IR_I8, 0, NULL, D(1));
  n = ot_node(g, "DequantizeLinear", 13, 3, (ir_tensor *[]){x, s, z}, 1);
  ot_fails(g, n, "zero point");
  ir_graph_free(g);
}

/* numpy, following the spec's formula:
 * scale = (max(0,x) - min(0,x)) / 255 = 0.019607844, zp = round(3 / scale) = 153 */
static void test_dynamic_quantize(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(6));
  ir_node *n = ot_node(g, "DynamicQuantizeLinear", 11, 1, (ir_tensor *[]){x}, 3);
  ot_ok(g, n);
  ot_expect_shape(n->out[1], 0, NULL);
  const double *in[] = {D(0, 2, -3, -2.5, 1.34, 0.5)};
  ot_expect_vals(ot_run(n, 0, in), D(153, 255, 0, 26, 221, 179), 6, 0);
  ot_expect_vals(ot_run(n, 1, in), D(0.019607844), 1, 1e-9);
  ot_expect_vals(ot_run(n, 2, in), D(153), 1, 0);
  /* all zeros: scale 0, zero point 0, y 0 */
  const double *zeros[] = {D(0, 0, 0, 0, 0, 0)};
  ot_expect_vals(ot_run(n, 0, zeros), D(0, 0, 0, 0, 0, 0), 6, 0);
  ot_expect_vals(ot_run(n, 1, zeros), D(0), 1, 0);
  ir_graph_free(g);
}

/* ---- matmuls ------------------------------------------------------------------ */

static void test_matmul_integer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* (A - 1) = [[0,1],[2,3]], (B - 5) = [[0,1],[2,3]]: product [[2,3],[6,11]] */
  ir_tensor *a = ot_input(g, "a", IR_U8, 2, DIMS(2, 2));
  ir_tensor *b = ot_input(g, "b", IR_U8, 2, DIMS(2, 2));
  ir_tensor *za = ot_const(g, "za", IR_U8, 0, NULL, D(1));
  ir_tensor *zb = ot_const(g, "zb", IR_U8, 0, NULL, D(5));
  ir_node *n = ot_node(g, "MatMulInteger", 10, 4, (ir_tensor *[]){a, b, za, zb}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I32);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(1, 2, 3, 4), D(5, 6, 7, 8)}), D(2, 3, 6, 11), 4, 0);

  /* int8, a per-row zero point of A, a batch of two [2,1] A's against one [1,2] B */
  a = ot_input(g, "a2", IR_I8, 3, DIMS(2, 2, 1));
  b = ot_input(g, "b2", IR_I8, 2, DIMS(1, 2));
  za = ot_const(g, "za2", IR_I8, 1, DIMS(2), D(1, -1));
  n = ot_node(g, "MatMulInteger", 10, 3, (ir_tensor *[]){a, b, za}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, DIMS(2, 2, 2));
  /* rows: 3-1=2, 0+1=1, -5-1=-6, 4+1=5, times B = [10, -3] */
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(3, 0, -5, 4), D(10, -3)}),
              D(20, -6, 10, -3, -60, 18, 50, -15), 8, 0);

  /* b zero point of the wrong length */
  zb = ot_const(g, "zb3", IR_I8, 1, DIMS(3), D(0, 0, 0));
  n = ot_node(g, "MatMulInteger", 10, 4, (ir_tensor *[]){a, b, NULL, zb}, 1);
  ot_fails(g, n, "column of B");
  ir_graph_free(g);
}

static void test_qlinear_matmul(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* acc = 2*(1-1) + 4*(3-1) = 8; 8 * (0.5 * 0.25 / 0.5) = 2; + 10 = 12.
   * second column: 2*(9-1) + 4*(0-1) = 12 -> 3 + 10 = 13 */
  ir_tensor *a = ot_input(g, "a", IR_U8, 2, DIMS(1, 2));
  ir_tensor *b = ot_input(g, "b", IR_U8, 2, DIMS(2, 2));
  ir_tensor *as = ot_const(g, "as", IR_F32, 0, NULL, D(0.5)), *az = ot_const(g, "az", IR_U8, 0, NULL, D(0));
  ir_tensor *bs = ot_const(g, "bs", IR_F32, 0, NULL, D(0.25)), *bz = ot_const(g, "bz", IR_U8, 0, NULL, D(1));
  ir_tensor *ys = ot_const(g, "ys", IR_F32, 0, NULL, D(0.5)), *yz = ot_const(g, "yz", IR_U8, 0, NULL, D(10));
  ir_node *n = ot_node(g, "QLinearMatMul", 10, 8, (ir_tensor *[]){a, as, az, b, bs, bz, ys, yz}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(2, 4), NULL, NULL, D(1, 9, 3, 0)}), D(12, 13), 2, 0);

  /* int8 output, saturation */
  ys = ot_const(g, "ys2", IR_F32, 0, NULL, D(0.0625));
  yz = ot_const(g, "yz2", IR_I8, 0, NULL, D(120));
  n = ot_node(g, "QLinearMatMul", 10, 8, (ir_tensor *[]){a, as, az, b, bs, bz, ys, yz}, 1);
  ot_ok(g, n);
  /* 8 * 2 = 16 + 120 -> 127 (saturated); 12 * 2 = 24 + 120 -> 127 */
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(2, 4), NULL, NULL, D(1, 9, 3, 0)}), D(127, 127), 2, 0);
  ys = ot_const(g, "ys3", IR_F32, 0, NULL, D(8));
  yz = ot_const(g, "yz3", IR_I8, 0, NULL, D(0));
  n = ot_node(g, "QLinearMatMul", 10, 8, (ir_tensor *[]){a, as, az, b, bs, bz, ys, yz}, 1);
  ot_ok(g, n);
  /* mult = 0.125 / 8 = 1/64: 8/64 = 0.125 -> 0; 12/64 -> 0 */
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(2, 4), NULL, NULL, D(1, 9, 3, 0)}), D(0, 0), 2, 0);
  ir_graph_free(g);
}

/* ---- convolutions ------------------------------------------------------------ */

static void test_conv_integer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* x - 1 = [[0,1,2],[3,4,5],[6,7,8]], 2x2 kernel of ones: window sums */
  ir_tensor *x = ot_input(g, "x", IR_U8, 4, DIMS(1, 1, 3, 3));
  ir_tensor *w = ot_const(g, "w", IR_U8, 4, DIMS(1, 1, 2, 2), D(1, 1, 1, 1));
  ir_tensor *zx = ot_const(g, "zx", IR_U8, 0, NULL, D(1));
  ir_node *n = ot_node(g, "ConvInteger", 10, 3, (ir_tensor *[]){x, w, zx}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 4, DIMS(1, 1, 2, 2));
  const double *in[] = {D(1, 2, 3, 4, 5, 6, 7, 8, 9)};
  ot_expect_vals(ot_run(n, 0, in), D(8, 12, 20, 24), 4, 0);

  /* SAME_UPPER pads one row/column at the end; the padding adds nothing */
  n = ot_node(g, "ConvInteger", 10, 3, (ir_tensor *[]){x, w, zx}, 1);
  ir_attr_set_string(n, "auto_pad", "SAME_UPPER");
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 4, DIMS(1, 1, 3, 3));
  ot_expect_vals(ot_run(n, 0, in), D(8, 12, 7, 20, 24, 13, 13, 15, 8), 9, 0);

  /* int8 weights with a per-output-channel zero point, stride 2:
   * channel 0: w - 1 = [0, 1], channel 1: w - (-1) = [2, 0] on x = 0..4 (zp 0) */
  x = ot_input(g, "x2", IR_U8, 3, DIMS(1, 1, 5));
  w = ot_const(g, "w2", IR_I8, 3, DIMS(2, 1, 2), D(1, 2, 1, -1));
  ir_tensor *zw = ot_const(g, "zw2", IR_I8, 1, DIMS(2), D(1, -1));
  n = ot_node(g, "ConvInteger", 10, 4, (ir_tensor *[]){x, w, NULL, zw}, 1);
  ir_attr_set_ints(n, "strides", 1, DIMS(2));
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, DIMS(1, 2, 2));
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(0, 1, 2, 3, 4)}), D(1, 3, 0, 4), 4, 0);
  ir_graph_free(g);
}

static void test_qlinear_conv(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* 1x1 kernel 2 (scale 0.5), x zp 1, bias 1, y scale 1:
   * (3-1)*2+1 = 5 -> 2.5 -> 2; (5-1)*2+1 = 9 -> 4.5 -> 4; (0-1)*2+1 = -1 -> -0.5 -> -0 -> 0 + 7 */
  ir_tensor *x = ot_input(g, "x", IR_U8, 4, DIMS(1, 1, 1, 3));
  ir_tensor *xs = ot_const(g, "xs", IR_F32, 0, NULL, D(1)), *xz = ot_const(g, "xz", IR_U8, 0, NULL, D(1));
  ir_tensor *w = ot_const(g, "w", IR_I8, 4, DIMS(1, 1, 1, 1), D(2));
  ir_tensor *ws = ot_const(g, "ws", IR_F32, 1, DIMS(1), D(0.5)), *wz = ot_const(g, "wz", IR_I8, 1, DIMS(1), D(0));
  ir_tensor *ys = ot_const(g, "ys", IR_F32, 0, NULL, D(1)), *yz = ot_const(g, "yz", IR_U8, 0, NULL, D(7));
  ir_tensor *bias = ot_const(g, "b", IR_I32, 1, DIMS(1), D(1));
  ir_node *n = ot_node(g, "QLinearConv", 10, 9, (ir_tensor *[]){x, xs, xz, w, ws, wz, ys, yz, bias}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(3, 5, 0)}), D(9, 11, 7), 3, 0);

  /* a float bias is refused */
  bias = ot_const(g, "bf", IR_F32, 1, DIMS(1), D(1));
  n = ot_node(g, "QLinearConv", 10, 9, (ir_tensor *[]){x, xs, xz, w, ws, wz, ys, yz, bias}, 1);
  ot_fails(g, n, "int32");
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
