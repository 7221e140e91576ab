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

static ir_tensor *iscalar(ir_graph *g, const char *name, int64_t v) {
  double d = (double)v;
  return cst(g, name, IR_I64, 0, NULL, &d);
}

/* ---- windows ------------------------------------------------------------------ */

static void check_window(const char *op, int64_t size, int periodic, const double *want) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *n = node(g, op, 17, 1, (ir_tensor *[]){iscalar(g, "size", size)}, 1);
  ir_attr_set_int(n, "periodic", periodic);
  ok(g, n);
  expect_shape(n->out[0], 1, &size);
  assert_int_equal(n->out[0]->dtype, IR_F32);
  expect_vals(run(n, 0, NULL), want, (int)size, 1e-6);
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
  ir_node *n = node(g, "HannWindow", 17, 1, (ir_tensor *[]){iscalar(g, "s", 2)}, 1);
  ir_attr_set_int(n, "output_datatype", 11);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_F64);
  n = node(g, "HannWindow", 17, 1, (ir_tensor *[]){ten(g, "rt", IR_I64, 0, NULL)}, 1);
  fails(g, n, "compile-time constant");
  ir_graph_free(g);
}

/* ---- DFT ------------------------------------------------------------------------- */

static void test_dft(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* fft([1,2,3,4]) = [10, -2+2i, -2, -2-2i] */
  ir_tensor *x = ten(g, "x", IR_F32, 3, DIMS(1, 4, 1));
  ir_node *n = node(g, "DFT", 17, 1, (ir_tensor *[]){x}, 1);
  ok(g, n);
  expect_shape(n->out[0], 3, DIMS(1, 4, 2));
  const double *in[] = {D(1, 2, 3, 4)};
  expect_vals(run(n, 0, in), D(10, 0, -2, 2, -2, 0, -2, -2), 8, 1e-5);

  n = node(g, "DFT", 17, 1, (ir_tensor *[]){x}, 1);
  ir_attr_set_int(n, "onesided", 1);
  ok(g, n);
  expect_shape(n->out[0], 3, DIMS(1, 3, 2));
  expect_vals(run(n, 0, in), D(10, 0, -2, 2, -2, 0), 6, 1e-5);

  /* dft_length 2 truncates to [1,2] -> [3, -1]; 6 zero-pads:
   * fft([1,2,3,4,0,0])[1] = 1 + 2w + 3w^2 + 4w^3 with w = exp(-i pi/3) = (1 - sqrt(3) i)/2,
   * w^2 = (-1 - sqrt(3) i)/2, w^3 = -1: -3.5 - 2.5 sqrt(3) i */
  n = node(g, "DFT", 17, 2, (ir_tensor *[]){x, iscalar(g, "l2", 2)}, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), D(3, 0, -1, 0), 4, 1e-5);
  n = node(g, "DFT", 17, 2, (ir_tensor *[]){x, iscalar(g, "l6", 6)}, 1);
  ok(g, n);
  expect_shape(n->out[0], 3, DIMS(1, 6, 2));
  double *r = run(n, 0, in);
  expect_vals(r, D(10, 0, -3.5, -4.33012702), 4, 1e-5);

  /* inverse of [10, -2+2i, -2, -2-2i] along axis 1 of [1,4,1,2] is [1,2,3,4] */
  ir_tensor *xc = ten(g, "xc", IR_F64, 4, DIMS(1, 4, 1, 2));
  n = node(g, "DFT", 17, 1, (ir_tensor *[]){xc}, 1);
  ir_attr_set_int(n, "inverse", 1);
  ok(g, n);
  expect_shape(n->out[0], 4, DIMS(1, 4, 1, 2));
  expect_vals(run(n, 0, (const double *[]){D(10, 0, -2, 2, -2, 0, -2, -2)}), D(1, 0, 2, 0, 3, 0, 4, 0), 8, 1e-12);

  /* along axis 2 of [1,2,2,1]: rows [1,2] -> [3,-1], [5,7] -> [12,-2] */
  ir_tensor *x2 = ten(g, "x2", IR_F32, 4, DIMS(1, 2, 2, 1));
  n = node(g, "DFT", 17, 1, (ir_tensor *[]){x2}, 1);
  ir_attr_set_int(n, "axis", 2);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){D(1, 2, 5, 7)}), D(3, 0, -1, 0, 12, 0, -2, 0), 8, 1e-5);

  /* errors: the trailing axis, a runtime dft_length, onesided on complex input */
  n = node(g, "DFT", 17, 1, (ir_tensor *[]){x}, 1);
  ir_attr_set_int(n, "axis", 2);
  fails(g, n, "trailing");
  n = node(g, "DFT", 17, 2, (ir_tensor *[]){x, ten(g, "len", IR_I64, 0, NULL)}, 1);
  fails(g, n, "compile-time constant");
  n = node(g, "DFT", 17, 1, (ir_tensor *[]){xc}, 1);
  ir_attr_set_int(n, "onesided", 1);
  fails(g, n, "real input");
  ir_graph_free(g);
}

/* ---- STFT ------------------------------------------------------------------------- */

static void test_stft(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* frames [1,2] and [3,4], onesided 2 bins: [3, -1], [7, -1] */
  ir_tensor *x = ten(g, "x", IR_F32, 3, DIMS(1, 5, 1));
  ir_node *n = node(g, "STFT", 17, 4, (ir_tensor *[]){x, iscalar(g, "step", 2), NULL, iscalar(g, "fl", 2)}, 1);
  ok(g, n);
  expect_shape(n->out[0], 4, DIMS(1, 2, 2, 2));
  const double *in[] = {D(1, 2, 3, 4, 5)};
  expect_vals(run(n, 0, in), D(3, 0, -1, 0, 7, 0, -1, 0), 8, 1e-5);

  /* window [1, 0] keeps the first sample of each frame: [1, 1], [3, 3] */
  ir_tensor *w = cst(g, "w", IR_F32, 1, DIMS(2), D(1, 0));
  n = node(g, "STFT", 17, 3, (ir_tensor *[]){x, iscalar(g, "step2", 2), w}, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), D(1, 0, 1, 0, 3, 0, 3, 0), 8, 1e-5);

  /* two-sided, step 3, frame 3: one frame [1,2,3] -> [6, -1.5+0.866i, -1.5-0.866i] */
  n = node(g, "STFT", 17, 4, (ir_tensor *[]){x, iscalar(g, "step3", 3), NULL, iscalar(g, "fl3", 3)}, 1);
  ir_attr_set_int(n, "onesided", 0);
  ok(g, n);
  expect_shape(n->out[0], 4, DIMS(1, 1, 3, 2));
  expect_vals(run(n, 0, in), D(6, 0, -1.5, 0.8660254, -1.5, -0.8660254), 6, 1e-5);

  /* a frame_length that disagrees with the window */
  n = node(g, "STFT", 17, 4, (ir_tensor *[]){x, iscalar(g, "step4", 2), w, iscalar(g, "fl4", 3)}, 1);
  fails(g, n, "differs");
  ir_graph_free(g);
}

/* ---- MelWeightMatrix ------------------------------------------------------------ */

/* The example of the ONNX operator documentation: 8 mel bins, dft_length
 * 16, sample rate 8192, 0..4096 Hz; its expected matrix [9, 8] has a 1 at
 * (0,0) (0,1) (1,2) (1,3) (2,4) (3,5) (4,6) (5,7) and zeros elsewhere. */
static void test_mel(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *lo = cst(g, "lo", IR_F32, 0, NULL, D(0)), *hi = cst(g, "hi", IR_F32, 0, NULL, D(4096));
  ir_node *n = node(g, "MelWeightMatrix", 17, 5,
                    (ir_tensor *[]){iscalar(g, "bins", 8), iscalar(g, "dft", 16), iscalar(g, "rate", 8192), lo, hi},
                    1);
  ok(g, n);
  expect_shape(n->out[0], 2, DIMS(9, 8));
  double want[72] = {0};
  const int ones[][2] = {{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}};
  for (int k = 0; k < 8; k++) want[ones[k][0] * 8 + ones[k][1]] = 1;
  expect_vals(run(n, 0, NULL), want, 72, 0);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_windows), cmocka_unit_test(test_dft),
    cmocka_unit_test(test_stft),    cmocka_unit_test(test_mel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
