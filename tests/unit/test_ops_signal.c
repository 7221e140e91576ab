/*
 * test_ops_signal.c - the signal group on hand-computed cases: the three
 * windows (periodic and symmetric), DFT (forward, onesided, inverse,
 * truncating and zero-padding dft_length, another axis), STFT with and
 * without a window, MelWeightMatrix against the matrix printed in the ONNX
 * operator's documentation example, and the errors for inputs that must be
 * compile-time constants.
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

static ir_tensor *iscalar(ir_graph *g, const char *name, int64_t v) {
  double d = (double)v;
  return ot_const(g, name, IR_I64, 0, NULL, &d);
}

/* ---- windows ------------------------------------------------------------------ */

static void check_window(const char *op, int64_t size, int periodic, const double *want) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *n = ot_node(g, op, 17, 1, (ir_tensor *[]){iscalar(g, "size", size)}, 1);
  ir_attr_set_int(n, "periodic", periodic);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 1, &size);
  assert_int_equal(n->out[0]->dtype, IR_F32);
  ot_expect_vals(ot_run(n, 0, NULL), want, (int)size, 1e-6);
  ir_graph_free(g);
}

static void test_windows(void **state) {
  (void)state;
  check_window("HannWindow", 4, 1, D(0, 0.5, 1, 0.5));
  check_window("HannWindow", 5, 0, D(0, 0.5, 1, 0.5, 0));
  check_window("HammingWindow", 4, 1, D(4.0 / 46, 25.0 / 46, 1, 25.0 / 46));
  check_window("BlackmanWindow", 4, 1, D(0, 0.34, 1, 0.34));
  check_window("BlackmanWindow", 3, 0, D(0, 1, 0));

  /* output_datatype double; a size that is not a constant */
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *n = ot_node(g, "HannWindow", 17, 1, (ir_tensor *[]){iscalar(g, "s", 2)}, 1);
  ir_attr_set_int(n, "output_datatype", 11);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_F64);
  n = ot_node(g, "HannWindow", 17, 1, (ir_tensor *[]){ot_input(g, "rt", IR_I64, 0, NULL)}, 1);
  ot_fails(g, n, "compile-time constant");
  ir_graph_free(g);
}

/* ---- DFT ------------------------------------------------------------------------- */

static void test_dft(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* fft([1,2,3,4]) = [10, -2+2i, -2, -2-2i] */
  ir_tensor *x = ot_input(g, "x", IR_F32, 3, DIMS(1, 4, 1));
  ir_node *n = ot_node(g, "DFT", 17, 1, (ir_tensor *[]){x}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, DIMS(1, 4, 2));
  const double *in[] = {D(1, 2, 3, 4)};
  ot_expect_vals(ot_run(n, 0, in), D(10, 0, -2, 2, -2, 0, -2, -2), 8, 1e-5);

  n = ot_node(g, "DFT", 17, 1, (ir_tensor *[]){x}, 1);
  ir_attr_set_int(n, "onesided", 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, DIMS(1, 3, 2));
  ot_expect_vals(ot_run(n, 0, in), D(10, 0, -2, 2, -2, 0), 6, 1e-5);

  /* dft_length 2 truncates to [1,2] -> [3, -1]; 6 zero-pads:
   * fft([1,2,3,4,0,0])[1] = 1 + 2w + 3w^2 + 4w^3 with w = exp(-i pi/3) = (1 - sqrt(3) i)/2,
   * w^2 = (-1 - sqrt(3) i)/2, w^3 = -1: -3.5 - 2.5 sqrt(3) i */
  n = ot_node(g, "DFT", 17, 2, (ir_tensor *[]){x, iscalar(g, "l2", 2)}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), D(3, 0, -1, 0), 4, 1e-5);
  n = ot_node(g, "DFT", 17, 2, (ir_tensor *[]){x, iscalar(g, "l6", 6)}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, DIMS(1, 6, 2));
  double *r = ot_run(n, 0, in);
  ot_expect_vals(r, D(10, 0, -3.5, -4.33012702), 4, 1e-5);

  /* inverse of [10, -2+2i, -2, -2-2i] along axis 1 of [1,4,1,2] is [1,2,3,4] */
  ir_tensor *xc = ot_input(g, "xc", IR_F64, 4, DIMS(1, 4, 1, 2));
  n = ot_node(g, "DFT", 17, 1, (ir_tensor *[]){xc}, 1);
  ir_attr_set_int(n, "inverse", 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 4, DIMS(1, 4, 1, 2));
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(10, 0, -2, 2, -2, 0, -2, -2)}), D(1, 0, 2, 0, 3, 0, 4, 0), 8, 1e-12);

  /* along axis 2 of [1,2,2,1]: rows [1,2] -> [3,-1], [5,7] -> [12,-2] */
  ir_tensor *x2 = ot_input(g, "x2", IR_F32, 4, DIMS(1, 2, 2, 1));
  n = ot_node(g, "DFT", 17, 1, (ir_tensor *[]){x2}, 1);
  ir_attr_set_int(n, "axis", 2);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){D(1, 2, 5, 7)}), D(3, 0, -1, 0, 12, 0, -2, 0), 8, 1e-5);

  /* errors: the trailing axis, a runtime dft_length, onesided on complex input */
  n = ot_node(g, "DFT", 17, 1, (ir_tensor *[]){x}, 1);
  ir_attr_set_int(n, "axis", 2);
  ot_fails(g, n, "trailing");
  n = ot_node(g, "DFT", 17, 2, (ir_tensor *[]){x, ot_input(g, "len", IR_I64, 0, NULL)}, 1);
  ot_fails(g, n, "compile-time constant");
  n = ot_node(g, "DFT", 17, 1, (ir_tensor *[]){xc}, 1);
  ir_attr_set_int(n, "onesided", 1);
  ot_fails(g, n, "real input");
  ir_graph_free(g);
}

/* ---- STFT ------------------------------------------------------------------------- */

static void test_stft(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* frames [1,2] and [3,4], onesided 2 bins: [3, -1], [7, -1] */
  ir_tensor *x = ot_input(g, "x", IR_F32, 3, DIMS(1, 5, 1));
  ir_node *n = ot_node(g, "STFT", 17, 4, (ir_tensor *[]){x, iscalar(g, "step", 2), NULL, iscalar(g, "fl", 2)}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 4, DIMS(1, 2, 2, 2));
  const double *in[] = {D(1, 2, 3, 4, 5)};
  ot_expect_vals(ot_run(n, 0, in), D(3, 0, -1, 0, 7, 0, -1, 0), 8, 1e-5);

  /* window [1, 0] keeps the first sample of each frame: [1, 1], [3, 3] */
  ir_tensor *w = ot_const(g, "w", IR_F32, 1, DIMS(2), D(1, 0));
  n = ot_node(g, "STFT", 17, 3, (ir_tensor *[]){x, iscalar(g, "step2", 2), w}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), D(1, 0, 1, 0, 3, 0, 3, 0), 8, 1e-5);

  /* two-sided, step 3, frame 3: one frame [1,2,3] -> [6, -1.5+0.866i, -1.5-0.866i] */
  n = ot_node(g, "STFT", 17, 4, (ir_tensor *[]){x, iscalar(g, "step3", 3), NULL, iscalar(g, "fl3", 3)}, 1);
  ir_attr_set_int(n, "onesided", 0);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 4, DIMS(1, 1, 3, 2));
  ot_expect_vals(ot_run(n, 0, in), D(6, 0, -1.5, 0.8660254, -1.5, -0.8660254), 6, 1e-5);

  /* a frame_length that disagrees with the window */
  n = ot_node(g, "STFT", 17, 4, (ir_tensor *[]){x, iscalar(g, "step4", 2), w, iscalar(g, "fl4", 3)}, 1);
  ot_fails(g, n, "differs");
  ir_graph_free(g);
}

/* ---- MelWeightMatrix ------------------------------------------------------------ */

/* The example of the ONNX operator documentation: 8 mel bins, dft_length
 * 16, sample rate 8192, 0..4096 Hz; its expected matrix [9, 8] has a 1 at
 * (0,0) (0,1) (1,2) (1,3) (2,4) (3,5) (4,6) (5,7) and zeros elsewhere. */
static void test_mel(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *lo = ot_const(g, "lo", IR_F32, 0, NULL, D(0)), *hi = ot_const(g, "hi", IR_F32, 0, NULL, D(4096));
  ir_node *n = ot_node(g, "MelWeightMatrix", 17, 5,
                    (ir_tensor *[]){iscalar(g, "bins", 8), iscalar(g, "dft", 16), iscalar(g, "rate", 8192), lo, hi},
                    1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 2, DIMS(9, 8));
  double want[72] = {0};
  const int ones[][2] = {{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}};
  for (int k = 0; k < 8; k++) want[ones[k][0] * 8 + ones[k][1]] = 1;
  ot_expect_vals(ot_run(n, 0, NULL), want, 72, 0);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_windows), cmocka_unit_test(test_dft),
    cmocka_unit_test(test_stft),    cmocka_unit_test(test_mel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
