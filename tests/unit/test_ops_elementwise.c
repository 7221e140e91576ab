/*
 * test_ops_elementwise.c - the elementwise group end to end: validation and
 * shape inference (broadcasting and its errors), the interpreter kernels on
 * hand-computed values (numbers from numpy where noted), kutil's
 * conversions, and 1-node graphs emitted as C, compiled with cc (strict
 * flags, and clang when present) and compared with the interpreter.
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
  ir_tensor *out[2];
  for (int j = 0; j < n_out; j++) {
    snprintf(name, sizeof name, "%s_y%d", n->name, j);
    out[j] = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ir_node_set_io(n, n_in, in, n_out, out);
  n->opset = opset;
  return n;
}

/* validate + infer; returns their result */
static int prepare(ir_graph *g, ir_node *n) {
  if (op_validate(n) < 0) return -1;
  return n->op->infer(g, n);
}

static void ok(ir_graph *g, ir_node *n) {
  if (prepare(g, n) < 0) fail_msg("%s", ir_last_error());
}

/* Run n with inputs given as doubles (converted to each input's dtype);
 * returns output j as doubles (caller frees). */
static double *run(const ir_node *n, int j, const double *const *vals) {
  const void *in[8] = {0};
  void *out[2] = {0};
  void *bufs[8] = {0};
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
  for (int i = 0; i < 8; i++) free(bufs[i]);
  for (int k = 0; k < n->n_out; k++) free(out[k]);
  return r;
}

static void expect_vals(double *got, const double *want, int cnt, double tol) {
  for (int i = 0; i < cnt; i++)
    if (!(fabs(got[i] - want[i]) <= tol) && !(isnan(got[i]) && isnan(want[i])))
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
  free(got);
}

static void expect_shape(const ir_tensor *t, int rank, const int64_t *dims) {
  assert_int_equal(t->rank, rank);
  for (int i = 0; i < rank; i++) assert_int_equal(t->shape[i], dims[i]);
}

/* ---- inference ------------------------------------------------------------ */

static void test_broadcast_infer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F32, 3, (int64_t[]){2, 3, 1});
  ir_tensor *b = ten(g, "b", IR_F32, 1, (int64_t[]){4});
  ir_node *n = node(g, "Add", 13, 2, (ir_tensor *[]){a, b}, 1);
  ok(g, n);
  expect_shape(n->out[0], 3, (int64_t[]){2, 3, 4});
  assert_int_equal(n->out[0]->dtype, IR_F32);

  ir_node *lt = node(g, "Less", 13, 2, (ir_tensor *[]){b, a}, 1);
  ok(g, lt);
  assert_int_equal(lt->out[0]->dtype, IR_BOOL);
  expect_shape(lt->out[0], 3, (int64_t[]){2, 3, 4});

  /* variadic Max over three shapes */
  ir_tensor *s = ten(g, "s", IR_F32, 0, NULL);
  ir_node *mx = node(g, "Max", 13, 3, (ir_tensor *[]){s, a, b}, 1);
  ok(g, mx);
  expect_shape(mx->out[0], 3, (int64_t[]){2, 3, 4});

  /* Where: cond [3,1], x [4], y [] */
  ir_tensor *c = ten(g, "c", IR_BOOL, 2, (int64_t[]){3, 1});
  ir_node *w = node(g, "Where", 13, 3, (ir_tensor *[]){c, b, s}, 1);
  ok(g, w);
  expect_shape(w->out[0], 2, (int64_t[]){3, 4});
  ir_graph_free(g);
}

static void test_infer_errors(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F32, 2, (int64_t[]){2, 3});
  ir_tensor *b = ten(g, "b", IR_F32, 1, (int64_t[]){4});
  ir_tensor *i = ten(g, "i", IR_I32, 1, (int64_t[]){3});
  ir_node *n = node(g, "Add", 13, 2, (ir_tensor *[]){a, b}, 1);
  assert_int_equal(prepare(g, n), -1);
  assert_non_null(strstr(ir_last_error(), "broadcast"));
  assert_non_null(strstr(ir_last_error(), n->name));

  n = node(g, "Add", 13, 2, (ir_tensor *[]){a, i}, 1);   /* mixed dtypes */
  assert_int_equal(prepare(g, n), -1);
  assert_non_null(strstr(ir_last_error(), "int32"));

  n = node(g, "Sqrt", 13, 1, (ir_tensor *[]){i}, 1);     /* float-only op */
  assert_int_equal(prepare(g, n), -1);

  n = node(g, "And", 13, 2, (ir_tensor *[]){a, a}, 1);   /* bool-only op */
  assert_int_equal(prepare(g, n), -1);

  n = node(g, "Relu", 13, 1, (ir_tensor *[]){a}, 1);
  ir_attr_set_float(n, "alpha", 1.0);                     /* unknown attribute */
  assert_int_equal(prepare(g, n), -1);
  assert_non_null(strstr(ir_last_error(), "alpha"));

  n = node(g, "Cast", 13, 1, (ir_tensor *[]){a}, 1);     /* 'to' missing */
  assert_int_equal(prepare(g, n), -1);
  n = node(g, "Cast", 13, 1, (ir_tensor *[]){a}, 1);
  ir_attr_set_int(n, "to", 8);                            /* string */
  assert_int_equal(prepare(g, n), -1);

  n = node(g, "Softmax", 13, 1, (ir_tensor *[]){a}, 1);
  ir_attr_set_int(n, "axis", 2);
  assert_int_equal(prepare(g, n), -1);
  ir_graph_free(g);
}

/* ---- interpreter values --------------------------------------------------- */

static void test_softmax(void **state) {
  (void)state;
  static const double x[] = {0, 1, 2, 3, 0, 0, 0, 0};
  const double *in[] = {x};
  /* numpy: softmax over the trailing block of 4 (opset 11, axis 1) */
  static const double op11[] = {0.03205860328008498, 0.08714431874203256, 0.23688281808991016,
                                0.6439142598879724, 0.25, 0.25, 0.25, 0.25};
  /* numpy: softmax along axis 1 alone (opset 13) */
  static const double op13[] = {0.11920292202211755, 0.11920292202211755, 0.8807970779778825,
                                0.8807970779778825, 0.5, 0.5, 0.5, 0.5};
  static const double log11[] = {-3.4401896985611953, -2.4401896985611953, -1.4401896985611953,
                                 -0.4401896985611953, -1.3862943611198906, -1.3862943611198906,
                                 -1.3862943611198906, -1.3862943611198906};
  static const double log13[] = {-1.3132616875182226, -0.3132616875182228, -1.3132616875182226,
                                 -0.3132616875182228, -0.6931471805599453, -0.6931471805599453,
                                 -0.6931471805599453, -0.6931471805599453};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F64, 3, (int64_t[]){2, 2, 2});
  ir_node *n = node(g, "Softmax", 11, 1, &a, 1);
  ok(g, n);
  assert_int_equal(ir_attr_int(n, "axis", 99), 1);       /* default made explicit */
  expect_vals(run(n, 0, in), op11, 8, 1e-12);
  n = node(g, "Softmax", 13, 1, &a, 1);
  ir_attr_set_int(n, "axis", 1);
  ok(g, n);
  expect_vals(run(n, 0, in), op13, 8, 1e-12);
  n = node(g, "LogSoftmax", 11, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), log11, 8, 1e-12);
  n = node(g, "LogSoftmax", 13, 1, &a, 1);             /* default axis -1 */
  ok(g, n);
  assert_int_equal(ir_attr_int(n, "axis", 99), -1);
  expect_vals(run(n, 0, in), log13, 8, 1e-12);

  /* large values: the max is subtracted, so no overflow */
  static const double big[] = {1000, 1001, 1002, 1003, 0, 0, 0, 0};
  const double *bin[] = {big};
  n = node(g, "Softmax", 11, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, bin), op11, 8, 1e-12);
  ir_graph_free(g);
}

static void test_clip(void **state) {
  (void)state;
  static const double x[] = {-3, -1, 0, 0.5, 2, 7};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F32, 1, (int64_t[]){6});
  ir_tensor *lo = ten(g, "lo", IR_F32, 0, NULL);
  ir_tensor *hi = cst(g, "hi", IR_F32, 0, NULL, (double[]){1.5});
  double lov[] = {-1};

  ir_node *n = node(g, "Clip", 13, 3, (ir_tensor *[]){a, lo, hi}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){x, lov, NULL}), (double[]){-1, -1, 0, 0.5, 1.5, 1.5}, 6, 0);

  n = node(g, "Clip", 13, 3, (ir_tensor *[]){a, NULL, hi}, 1);   /* max only */
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){x, NULL, NULL}), (double[]){-3, -1, 0, 0.5, 1.5, 1.5}, 6, 0);

  n = node(g, "Clip", 13, 1, (ir_tensor *[]){a}, 1);              /* no bounds */
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){x}), x, 6, 0);

  double lo2[] = {2};                                              /* min > max gives max */
  n = node(g, "Clip", 13, 3, (ir_tensor *[]){a, lo, hi}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){x, lo2, NULL}), (double[]){1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, 6, 0);

  ir_tensor *ai = ten(g, "ai", IR_I32, 1, (int64_t[]){6});        /* integers */
  ir_tensor *loi = cst(g, "loi", IR_I32, 0, NULL, (double[]){0});
  n = node(g, "Clip", 13, 2, (ir_tensor *[]){ai, loi}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){-3, -1, 0, 1, 2, 7}}), (double[]){0, 0, 0, 1, 2, 7}, 6, 0);
  ir_graph_free(g);
}

static void test_activations(void **state) {
  (void)state;
  static const double x[] = {-4, -3, -1, 0, 1, 3, 4};
  const double *in[] = {x};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F64, 1, (int64_t[]){7});
  ir_node *n = node(g, "HardSwish", 14, 1, &a, 1);
  ok(g, n);
  /* x * clamp(x/6 + 1/2, 0, 1) by hand */
  expect_vals(run(n, 0, in), (double[]){0, 0, -1.0 / 3, 0, 2.0 / 3, 3, 4}, 7, 1e-15);
  n = node(g, "HardSigmoid", 6, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){0, 0, 0.3, 0.5, 0.7, 1, 1}, 7, 1e-15);
  n = node(g, "LeakyRelu", 6, 1, &a, 1);
  ok(g, n);
  assert_true(ir_attr_float(n, "alpha", 0) == 0.01);
  expect_vals(run(n, 0, in), (double[]){-0.04, -0.03, -0.01, 0, 1, 3, 4}, 7, 1e-15);
  n = node(g, "Relu", 14, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){0, 0, 0, 0, 1, 3, 4}, 7, 0);
  n = node(g, "Softsign", 1, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){-0.8, -0.75, -0.5, 0, 0.5, 0.75, 0.8}, 7, 1e-15);
  n = node(g, "Elu", 6, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){-1, 0, 2, 0, 0, 0, 0}}),
              (double[]){exp(-1) - 1, 0, 2, 0, 0, 0, 0}, 7, 1e-15);

  /* Erf against known values (numpy/math.erf) */
  n = node(g, "Erf", 13, 1, &a, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){0, 0.5, 1, -2, 0, 0, 0}}),
              (double[]){0, 0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0, 0, 0}, 7, 1e-15);

  /* a fused epilogue on a standalone activation: Relu then _act=Clip[0,6] */
  n = node(g, "Neg", 13, 1, &a, 1);
  ir_attr_set_string(n, "_act", "Clip");
  ir_attr_set_float(n, "_act_alpha", 0);
  ir_attr_set_float(n, "_act_beta", 3.5);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){3.5, 3, 1, 0, 0, 0, 0}, 7, 0);
  ir_graph_free(g);
}

static void test_arith(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* integer Div truncates toward zero; a zero divisor gives 0 */
  ir_tensor *a = ten(g, "a", IR_I32, 1, (int64_t[]){5});
  ir_tensor *b = ten(g, "b", IR_I32, 1, (int64_t[]){5});
  ir_node *n = node(g, "Div", 14, 2, (ir_tensor *[]){a, b}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){7, -7, 7, -7, 5}, (double[]){2, 2, -2, -2, 0}}),
              (double[]){3, -3, -3, 3, 0}, 5, 0);
  /* int64 Add wraps at 2^63 */
  ir_tensor *c = ten(g, "c", IR_I64, 1, (int64_t[]){2});
  n = node(g, "Add", 14, 2, (ir_tensor *[]){c, c}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){-3, 5}, (double[]){-3, 5}}), (double[]){-6, 10}, 2, 0);
  /* uint8 Sub wraps */
  ir_tensor *u = ten(g, "u", IR_U8, 1, (int64_t[]){2});
  n = node(g, "Sub", 14, 2, (ir_tensor *[]){u, u}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){1, 200}, (double[]){2, 100}}), (double[]){255, 100}, 2, 0);

  /* Pow: numpy [2,3,4] ** [3,0.5,-1] */
  ir_tensor *f = ten(g, "f", IR_F32, 1, (int64_t[]){3});
  n = node(g, "Pow", 15, 2, (ir_tensor *[]){f, f}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){2, 3, 4}, (double[]){3, 0.5, -1}}),
              (double[]){8, 1.7320508075688772, 0.25}, 3, 1e-6);
  /* Pow with an int base and a float exponent: result truncated to int */
  ir_tensor *ib = ten(g, "ib", IR_I64, 1, (int64_t[]){3});
  n = node(g, "Pow", 15, 2, (ir_tensor *[]){ib, f}, 1);
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I64);
  expect_vals(run(n, 0, (const double *[]){(double[]){2, 3, 4}, (double[]){3, 2, 0.5}}), (double[]){8, 9, 2}, 3, 0);

  /* broadcasting: [2,1] - [3] */
  ir_tensor *p = ten(g, "p", IR_F64, 2, (int64_t[]){2, 1});
  ir_tensor *q = ten(g, "q", IR_F64, 1, (int64_t[]){3});
  n = node(g, "Sub", 14, 2, (ir_tensor *[]){p, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){10, 20}, (double[]){1, 2, 3}}),
              (double[]){9, 8, 7, 19, 18, 17}, 6, 0);

  /* variadic: Max of three, Min of one, Mean of two, Sum of three */
  n = node(g, "Max", 13, 3, (ir_tensor *[]){p, q, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){1.5, 2.5}, (double[]){1, 2, 3}, (double[]){0, 0, 0}}),
              (double[]){1.5, 2, 3, 2.5, 2.5, 3}, 6, 0);
  n = node(g, "Min", 13, 1, (ir_tensor *[]){q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){4, 5, 6}}), (double[]){4, 5, 6}, 3, 0);
  n = node(g, "Mean", 13, 2, (ir_tensor *[]){p, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){1, 2}, (double[]){1, 2, 3}}),
              (double[]){1, 1.5, 2, 1.5, 2, 2.5}, 6, 0);
  n = node(g, "Sum", 13, 3, (ir_tensor *[]){q, q, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){1, 2, 3}, (double[]){1, 2, 3}, (double[]){1, 2, 3}}),
              (double[]){3, 6, 9}, 3, 0);
  /* int Max */
  n = node(g, "Max", 13, 2, (ir_tensor *[]){a, b}, 1);
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){7, -7, 7, -7, 5}, (double[]){2, 2, -2, -2, 0}}),
              (double[]){7, 2, 7, -2, 5}, 5, 0);
  ir_graph_free(g);
}

static void test_cast(void **state) {
  (void)state;
  static const double x[] = {-2.7, -0.5, 0.5, 2.9, 300.0};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F32, 1, (int64_t[]){5});
  ir_node *n = node(g, "Cast", 13, 1, &a, 1);
  ir_attr_set_int(n, "to", 6);   /* INT32 */
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I32);
  expect_vals(run(n, 0, (const double *[]){x}), (double[]){-2, 0, 0, 2, 300}, 5, 0);
  n = node(g, "Cast", 13, 1, &a, 1);
  ir_attr_set_int(n, "to", 3);   /* INT8: 300 wraps to 44 like numpy's int64 -> int8 */
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){x}), (double[]){-2, 0, 0, 2, 44}, 5, 0);
  n = node(g, "Cast", 13, 1, &a, 1);
  ir_attr_set_int(n, "to", 9);   /* BOOL: nonzero (NaN too) is true */
  ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_BOOL);
  expect_vals(run(n, 0, (const double *[]){(double[]){0, -0.0, 0.1, NAN, -3}}), (double[]){0, 0, 1, 1, 1}, 5, 0);
  ir_tensor *i = ten(g, "i", IR_I64, 1, (int64_t[]){3});
  n = node(g, "Cast", 13, 1, &i, 1);
  ir_attr_set_int(n, "to", 11);  /* DOUBLE */
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){-5, 0, 1e15}}), (double[]){-5, 0, 1e15}, 3, 0);
  n = node(g, "Cast", 13, 1, &i, 1);
  ir_attr_set_int(n, "to", 2);   /* UINT8: -5 wraps to 251 */
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){-5, 0, 256}}), (double[]){251, 0, 0}, 3, 0);
  ir_graph_free(g);
}

static void test_compare_logic_where(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_I64, 1, (int64_t[]){4});
  ir_tensor *s = ten(g, "s", IR_I64, 0, NULL);
  const double *in[] = {(double[]){1, 2, 3, 4}, (double[]){3}};
  ir_node *n = node(g, "Less", 13, 2, (ir_tensor *[]){a, s}, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){1, 1, 0, 0}, 4, 0);
  n = node(g, "GreaterOrEqual", 16, 2, (ir_tensor *[]){a, s}, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){0, 0, 1, 1}, 4, 0);
  n = node(g, "Equal", 13, 2, (ir_tensor *[]){a, s}, 1);
  ok(g, n);
  expect_vals(run(n, 0, in), (double[]){0, 0, 1, 0}, 4, 0);

  ir_tensor *p = ten(g, "p", IR_BOOL, 1, (int64_t[]){4});
  ir_tensor *q = ten(g, "q", IR_BOOL, 1, (int64_t[]){4});
  const double *bin[] = {(double[]){0, 0, 1, 1}, (double[]){0, 1, 0, 1}};
  n = node(g, "Xor", 7, 2, (ir_tensor *[]){p, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, bin), (double[]){0, 1, 1, 0}, 4, 0);
  n = node(g, "And", 7, 2, (ir_tensor *[]){p, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, bin), (double[]){0, 0, 0, 1}, 4, 0);
  n = node(g, "Or", 7, 2, (ir_tensor *[]){p, q}, 1);
  ok(g, n);
  expect_vals(run(n, 0, bin), (double[]){0, 1, 1, 1}, 4, 0);
  n = node(g, "Not", 1, 1, (ir_tensor *[]){p}, 1);
  ok(g, n);
  expect_vals(run(n, 0, bin), (double[]){1, 1, 0, 0}, 4, 0);

  /* Where: cond [2,1], x [3], y [] */
  ir_tensor *c = ten(g, "c", IR_BOOL, 2, (int64_t[]){2, 1});
  ir_tensor *x = ten(g, "x", IR_F32, 1, (int64_t[]){3});
  ir_tensor *y = ten(g, "y", IR_F32, 0, NULL);
  n = node(g, "Where", 16, 3, (ir_tensor *[]){c, x, y}, 1);
  ok(g, n);
  expect_shape(n->out[0], 2, (int64_t[]){2, 3});
  expect_vals(run(n, 0, (const double *[]){(double[]){1, 0}, (double[]){1, 2, 3}, (double[]){9}}),
              (double[]){1, 2, 3, 9, 9, 9}, 6, 0);

  /* Dropout at inference: copy, mask all true */
  n = node(g, "Dropout", 13, 1, (ir_tensor *[]){x}, 2);
  ok(g, n);
  assert_int_equal(n->out[1]->dtype, IR_BOOL);
  expect_vals(run(n, 0, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 2, 3}, 3, 0);
  expect_vals(run(n, 1, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 1, 1}, 3, 0);
  ir_tensor *tm = cst(g, "tm", IR_BOOL, 0, NULL, (double[]){1});
  n = node(g, "Dropout", 13, 3, (ir_tensor *[]){x, NULL, tm}, 1);
  assert_int_equal(prepare(g, n), -1);   /* training mode with the default ratio 0.5 is random: refused */
  ir_tensor *r0 = cst(g, "r0", IR_F32, 0, NULL, (double[]){0});
  n = node(g, "Dropout", 13, 3, (ir_tensor *[]){x, r0, tm}, 2);   /* ratio 0 drops nothing */
  ok(g, n);
  expect_vals(run(n, 0, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 2, 3}, 3, 0);
  expect_vals(run(n, 1, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 1, 1}, 3, 0);
  ir_tensor *rin = ten(g, "rin", IR_F32, 0, NULL);
  n = node(g, "Dropout", 13, 3, (ir_tensor *[]){x, rin, tm}, 1);
  assert_int_equal(prepare(g, n), -1);
  if (!strstr(ir_last_error(), "input 1 ('rin') must be a compile-time constant")) fail_msg("%s", ir_last_error());
  ir_graph_free(g);

  /* Cast to bfloat16: 1 + 0.75 * 2^-7 truncates to 1 before opset 19 and
   * rounds to 1 + 2^-7 from 19 on. */
  for (int opset = 13; opset <= 19; opset += 6) {
    g = ir_graph_new("t", NULL);
    ir_tensor *f = ten(g, "f", IR_F32, 1, (int64_t[]){2});
    n = node(g, "Cast", opset, 1, (ir_tensor *[]){f}, 1);
    ir_attr_set_int(n, "to", 16);
    ok(g, n);
    double want = opset < 19 ? 1.0 : 1.0078125;
    expect_vals(run(n, 0, (const double *[]){(double[]){1.005859375, -1.005859375}}), (double[]){want, -want}, 2, 0);
    ir_graph_free(g);
  }
}

static void test_kutil(void **state) {
  (void)state;
  /* half: 1.0 = 0x3c00, -2.5 = 0xc100, 65504 = 0x7bff, 2^-24 = 0x0001; overflow -> inf */
  assert_int_equal(kf32_to_f16(1.0f), 0x3c00);
  assert_int_equal(kf32_to_f16(-2.5f), 0xc100);
  assert_int_equal(kf32_to_f16(65504.0f), 0x7bff);
  assert_int_equal(kf32_to_f16(1e6f), 0x7c00);
  assert_int_equal(kf32_to_f16(5.9604644775390625e-08f), 0x0001);
  assert_true(kf16_to_f32(0x3555) == 0.333251953125f);
  assert_true(kf16_to_f32(0x0001) == 5.9604644775390625e-08f);
  /* bfloat16: 1.0 = 0x3f80; 1 + 2^-8 rounds to even (1.0), 1 + 3*2^-8 up */
  assert_int_equal(kf32_to_bf16(1.0f), 0x3f80);
  assert_int_equal(kf32_to_bf16(1.00390625f), 0x3f80);
  assert_int_equal(kf32_to_bf16(1.01171875f), 0x3f82);
  /* broadcast map: out [2,3,4], in [3,1] -> in index of out (1,2,3) is 2 */
  int64_t od[] = {2, 3, 4}, id[] = {3, 1};
  assert_int_equal(kbcast_index(3, od, 2, id, 1 * 12 + 2 * 4 + 3), 2);
  int64_t id2[] = {2, 1, 4};
  assert_int_equal(kbcast_index(3, od, 3, id2, 1 * 12 + 2 * 4 + 3), 7);
  /* stores */
  int8_t i8;
  kstore_f(IR_I8, &i8, 0, -1.9);
  assert_int_equal(i8, -1);
  uint64_t u64;
  kstore_f(IR_U64, &u64, 0, 1e19);
  assert_true(u64 == 10000000000000000000ull);
  int32_t i32;
  kstore_f(IR_I32, &i32, 0, NAN);
  assert_int_equal(i32, 0);
}

/* ---- emitted C against the interpreter ------------------------------------ */

static int have_cc(void) { return system("cc --version > /dev/null 2>&1") == 0; }

static unsigned rnd_state = 12345;
static double rnd(void) {   /* uniform in [-3, 3) */
  rnd_state = rnd_state * 1103515245u + 12345u;
  return ((rnd_state >> 8) & 0xffff) / 65536.0 * 6.0 - 3.0;
}

static void print_value(FILE *f, ir_dtype dt, const void *p, int64_t k) {
  if (dt == IR_F32) fprintf(f, "%af,", kload_f(dt, p, k));
  else if (dt == IR_F64) fprintf(f, "%a,", kload_f(dt, p, k));
  else if (dt == IR_U64) fprintf(f, "%lluu,", (unsigned long long)kload_u(dt, p, k));
  else fprintf(f, "%lld,", (long long)kload_i(dt, p, k));
}

/* g holds one node whose inputs are graph inputs or constants; random
 * inputs, interpreter, emit, cc, run, compare. */
static void compile_and_compare(ir_graph *g, double tol) {
  char dir[] = "/tmp/test_ops_ew_XXXXXX", path[512], cmd[2048];
  interp_ctx c;
  if (!have_cc()) {
    print_message("no cc: skipping the compile test\n");
    return;
  }
  void **inputs = calloc((size_t)g->n_inputs + 1, sizeof(void *));
  assert_non_null(mkdtemp(dir));
  for (int i = 0; i < g->n_inputs; i++) {
    ir_tensor *t = g->inputs[i];
    int64_t cnt = ir_numel(t);
    inputs[i] = calloc((size_t)ir_nbytes(t) + 1, 1);
    for (int64_t k = 0; k < cnt; k++) {
      double v = rnd();
      if (ir_dtype_is_int(t->dtype)) v = floor(v * 2);
      if (t->dtype == IR_BOOL) v = v > 0;
      kstore_f(t->dtype, inputs[i], k, v);
    }
  }
  for (int j = 0; j < g->nodes[0]->n_out; j++) ir_graph_add_output(g, g->nodes[0]->out[j]);
  assert_int_equal(ir_graph_toposort(g), 0);
  if (interp_run(&c, g, (const void *const *)inputs) < 0) fail_msg("interp: %s", ir_last_error());
  if (pass_plan(g) < 0) fail_msg("plan: %s", ir_last_error());
  emit_options opt;
  memset(&opt, 0, sizeof opt);
  opt.name = "m";
  if (emit_c(g, &opt, dir) < 0) fail_msg("emit: %s", ir_last_error());

  snprintf(path, sizeof path, "%s/drv.c", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "#include <stdio.h>\n#include <stdint.h>\n#include \"m.h\"\n");
  for (int i = 0; i < g->n_inputs; i++) {
    ir_tensor *t = g->inputs[i];
    fprintf(f, "static const %s in%d[] = {", ir_dtype_ctype(t->dtype), i);
    for (int64_t k = 0; k < ir_numel(t); k++) print_value(f, t->dtype, inputs[i], k);
    fprintf(f, "0};\n");
  }
  for (int j = 0; j < g->n_outputs; j++)
    fprintf(f, "static %s out%d[%lld];\n", ir_dtype_ctype(g->outputs[j]->dtype), j,
            (long long)ir_numel(g->outputs[j]) + 1);
  fprintf(f, "int main(void) {\n  FILE *f = fopen(\"%s/y.bin\", \"wb\");\n  if (!f || m_infer(", dir);
  for (int i = 0; i < g->n_inputs; i++) fprintf(f, "in%d, ", i);
  for (int j = 0; j < g->n_outputs; j++) fprintf(f, "out%d, ", j);
  fprintf(f, "NULL) != 0) return 1;\n");
  for (int j = 0; j < g->n_outputs; j++)
    fprintf(f, "  fwrite(out%d, %lld, 1, f);\n", j, (long long)ir_nbytes(g->outputs[j]));
  fprintf(f, "  return fclose(f) != 0;\n}\n");
  fclose(f);
  snprintf(cmd, sizeof cmd,
           "cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -o %s/prog %s/m.c %s/m_weights.c %s/drv.c -lm "
           "&& %s/prog",
           dir, dir, dir, dir, dir);
  if (system(cmd) != 0) fail_msg("compiling or running the emitted C in %s failed", dir);
  if (system("clang --version > /dev/null 2>&1") == 0) {
    snprintf(cmd, sizeof cmd, "clang -std=c99 -Wall -Wextra -Werror -pedantic -c -o %s/m.o %s/m.c", dir, dir);
    if (system(cmd) != 0) fail_msg("clang rejects the emitted C in %s", dir);
  }
  snprintf(path, sizeof path, "%s/y.bin", dir);
  f = fopen(path, "rb");
  assert_non_null(f);
  for (int j = 0; j < g->n_outputs; j++) {
    ir_tensor *yt = g->outputs[j];
    int64_t cnt = ir_numel(yt);
    unsigned char *got = malloc((size_t)ir_nbytes(yt) + 1);
    assert_int_equal(fread(got, 1, (size_t)ir_nbytes(yt), f), (size_t)ir_nbytes(yt));
    const void *want = interp_value(&c, yt);
    for (int64_t k = 0; k < cnt; k++) {
      double gv = kload_f(yt->dtype, got, k), wv = kload_f(yt->dtype, want, k);
      if (!(fabs(gv - wv) <= tol * (1.0 + fabs(wv))) && !(isnan(gv) && isnan(wv)))
        fail_msg("%s: output %d element %lld: C %.9g, interpreter %.9g (files in %s)", g->nodes[0]->op_type,
                 j, (long long)k, gv, wv, dir);
    }
    free(got);
  }
  fclose(f);
  interp_free(&c);
  for (int i = 0; i < g->n_inputs; i++) free(inputs[i]);
  free(inputs);
  if (getenv("TEST_OPS_EW_KEEP")) {
    print_message("emitted C kept in %s\n", dir);
    return;
  }
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) print_message("could not remove %s\n", dir);
}

typedef struct emit_case {
  const char *op;
  int opset;
  ir_dtype dt;
  int n_in;
  int rank[3];
  int64_t dims[3][4];
  const char *attr;     /* "name=int" or NULL */
  int64_t attr_val;
} emit_case;

static void test_emit(void **state) {
  (void)state;
  static const emit_case cases[] = {
    {"Add", 14, IR_F32, 2, {3, 1}, {{2, 3, 4}, {4}}, NULL, 0},
    {"Mul", 14, IR_F64, 2, {3, 3}, {{2, 3, 4}, {2, 1, 4}}, NULL, 0},
    {"Sub", 14, IR_I32, 2, {2, 0}, {{3, 4}, {0}}, NULL, 0},
    {"Div", 14, IR_I64, 2, {2, 2}, {{3, 4}, {3, 1}}, NULL, 0},
    {"Div", 14, IR_F32, 2, {2, 2}, {{3, 4}, {1, 4}}, NULL, 0},
    {"Pow", 15, IR_F32, 2, {1, 1}, {{6}, {6}}, NULL, 0},
    {"Max", 13, IR_F32, 3, {2, 1, 0}, {{3, 4}, {4}, {0}}, NULL, 0},
    {"Min", 13, IR_I32, 2, {2, 2}, {{3, 4}, {3, 4}}, NULL, 0},
    {"Mean", 13, IR_F64, 3, {2, 2, 1}, {{3, 4}, {3, 1}, {4}}, NULL, 0},
    {"Sum", 13, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Relu", 14, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Relu", 14, IR_I32, 1, {2}, {{3, 4}}, NULL, 0},
    {"LeakyRelu", 6, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Sigmoid", 13, IR_F64, 1, {2}, {{3, 4}}, NULL, 0},
    {"Tanh", 13, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"HardSigmoid", 6, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"HardSwish", 14, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Elu", 6, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Selu", 6, IR_F64, 1, {2}, {{3, 4}}, NULL, 0},
    {"Softplus", 1, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Softsign", 1, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Clip", 13, IR_F32, 3, {2, 0, 0}, {{3, 4}, {0}, {0}}, NULL, 0},
    {"Clip", 13, IR_I64, 2, {2, 0}, {{3, 4}, {0}}, NULL, 0},
    {"Sqrt", 13, IR_F32, 1, {1}, {{12}}, NULL, 0},   /* NaN for negatives on both sides */
    {"Exp", 13, IR_F64, 1, {1}, {{12}}, NULL, 0},
    {"Erf", 13, IR_F32, 1, {1}, {{12}}, NULL, 0},
    {"Abs", 13, IR_I32, 1, {1}, {{12}}, NULL, 0},
    {"Neg", 13, IR_F32, 1, {1}, {{12}}, NULL, 0},
    {"Floor", 13, IR_F32, 1, {1}, {{12}}, NULL, 0},
    {"Ceil", 13, IR_F64, 1, {1}, {{12}}, NULL, 0},
    {"Reciprocal", 13, IR_F32, 1, {1}, {{12}}, NULL, 0},
    {"Sin", 7, IR_F32, 1, {1}, {{12}}, NULL, 0},
    {"Cos", 7, IR_F32, 1, {1}, {{12}}, NULL, 0},
    {"Identity", 16, IR_F32, 1, {2}, {{3, 4}}, NULL, 0},
    {"Cast", 13, IR_F32, 1, {2}, {{3, 4}}, "to", 6},
    {"Cast", 13, IR_F32, 1, {2}, {{3, 4}}, "to", 3},
    {"Cast", 13, IR_F64, 1, {2}, {{3, 4}}, "to", 9},
    {"Cast", 13, IR_I64, 1, {2}, {{3, 4}}, "to", 1},
    {"Less", 13, IR_F32, 2, {2, 1}, {{3, 4}, {4}}, NULL, 0},
    {"Equal", 13, IR_I64, 2, {2, 2}, {{3, 4}, {3, 1}}, NULL, 0},
    {"Xor", 7, IR_BOOL, 2, {2, 1}, {{3, 4}, {4}}, NULL, 0},
    {"Not", 1, IR_BOOL, 1, {2}, {{3, 4}}, NULL, 0},
    {"Softmax", 13, IR_F32, 1, {3}, {{2, 3, 4}}, "axis", 1},
    {"Softmax", 11, IR_F32, 1, {3}, {{2, 3, 4}}, "axis", 1},
    {"LogSoftmax", 13, IR_F64, 1, {3}, {{2, 3, 4}}, NULL, 0},
    {"LogSoftmax", 11, IR_F32, 1, {3}, {{2, 3, 4}}, NULL, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const emit_case *ec = &cases[k];
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *in[3];
    for (int i = 0; i < ec->n_in; i++) {
      char nm[8];
      snprintf(nm, sizeof nm, "x%d", i);
      ir_dtype dt = ec->dt;
      if (strcmp(ec->op, "Pow") == 0 && i == 1) dt = IR_F32;
      in[i] = ten(g, nm, dt, ec->rank[i], ec->dims[i]);
    }
    ir_node *n = node(g, ec->op, ec->opset, ec->n_in, in, 1);
    if (ec->attr) ir_attr_set_int(n, ec->attr, ec->attr_val);
    ok(g, n);
    compile_and_compare(g, 1e-5);
    ir_graph_free(g);
  }
}

/* Where (bool condition among float inputs) and Dropout's two outputs. */
static void test_emit_where_dropout(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *c = ten(g, "c", IR_BOOL, 2, (int64_t[]){3, 1});
  ir_tensor *x = ten(g, "x", IR_F32, 1, (int64_t[]){4});
  ir_tensor *y = ten(g, "y", IR_F32, 0, NULL);
  ok(g, node(g, "Where", 16, 3, (ir_tensor *[]){c, x, y}, 1));
  compile_and_compare(g, 0);
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  x = ten(g, "x", IR_F32, 2, (int64_t[]){2, 5});
  ok(g, node(g, "Dropout", 13, 1, (ir_tensor *[]){x}, 2));
  compile_and_compare(g, 0);
  ir_graph_free(g);

  /* a standalone activation with a fused epilogue and residual:
   * y = relu(tanh(x0) + x1) */
  g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F32, 2, (int64_t[]){2, 5});
  ir_tensor *b = ten(g, "b", IR_F32, 2, (int64_t[]){2, 5});
  ir_node *n = node(g, "Tanh", 13, 2, (ir_tensor *[]){a, b}, 1);
  n->n_in = 1;                      /* validate the plain node, then add the residual input */
  ok(g, n);
  n->n_in = 2;
  ir_attr_set_string(n, "_act", "Relu");
  ir_attr_set_int(n, "_residual", 1);
  n->out[0]->dtype = IR_F32;
  compile_and_compare(g, 1e-6);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_broadcast_infer), cmocka_unit_test(test_infer_errors),
    cmocka_unit_test(test_softmax),         cmocka_unit_test(test_clip),
    cmocka_unit_test(test_activations),     cmocka_unit_test(test_arith),
    cmocka_unit_test(test_cast),            cmocka_unit_test(test_compare_logic_where),
    cmocka_unit_test(test_kutil),           cmocka_unit_test(test_emit),
    cmocka_unit_test(test_emit_where_dropout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
