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
#include "optest.h"

/* ---- inference ------------------------------------------------------------ */

static void test_broadcast_infer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 3, (int64_t[]){2, 3, 1});
  ir_tensor *b = ot_input(g, "b", IR_F32, 1, (int64_t[]){4});
  ir_node *n = ot_node(g, "Add", 13, 2, (ir_tensor *[]){a, b}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, (int64_t[]){2, 3, 4});
  assert_int_equal(n->out[0]->dtype, IR_F32);

  ir_node *lt = ot_node(g, "Less", 13, 2, (ir_tensor *[]){b, a}, 1);
  ot_ok(g, lt);
  assert_int_equal(lt->out[0]->dtype, IR_BOOL);
  ot_expect_shape(lt->out[0], 3, (int64_t[]){2, 3, 4});

  /* variadic Max over three shapes */
  ir_tensor *s = ot_input(g, "s", IR_F32, 0, NULL);
  ir_node *mx = ot_node(g, "Max", 13, 3, (ir_tensor *[]){s, a, b}, 1);
  ot_ok(g, mx);
  ot_expect_shape(mx->out[0], 3, (int64_t[]){2, 3, 4});

  /* Where: cond [3,1], x [4], y [] */
  ir_tensor *c = ot_input(g, "c", IR_BOOL, 2, (int64_t[]){3, 1});
  ir_node *w = ot_node(g, "Where", 13, 3, (ir_tensor *[]){c, b, s}, 1);
  ot_ok(g, w);
  ot_expect_shape(w->out[0], 2, (int64_t[]){3, 4});
  ir_graph_free(g);
}

static void test_infer_errors(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 2, (int64_t[]){2, 3});
  ir_tensor *b = ot_input(g, "b", IR_F32, 1, (int64_t[]){4});
  ir_tensor *i = ot_input(g, "i", IR_I32, 1, (int64_t[]){3});
  ir_node *n = ot_node(g, "Add", 13, 2, (ir_tensor *[]){a, b}, 1);
  assert_int_equal(ot_prepare(g, n), -1);
  assert_non_null(strstr(ir_last_error(), "broadcast"));
  assert_non_null(strstr(ir_last_error(), n->name));

  n = ot_node(g, "Add", 13, 2, (ir_tensor *[]){a, i}, 1);   /* mixed dtypes */
  assert_int_equal(ot_prepare(g, n), -1);
  assert_non_null(strstr(ir_last_error(), "int32"));

  n = ot_node(g, "Sqrt", 13, 1, (ir_tensor *[]){i}, 1);     /* float-only op */
  assert_int_equal(ot_prepare(g, n), -1);

  n = ot_node(g, "And", 13, 2, (ir_tensor *[]){a, a}, 1);   /* bool-only op */
  assert_int_equal(ot_prepare(g, n), -1);

  n = ot_node(g, "Relu", 13, 1, (ir_tensor *[]){a}, 1);
  ir_attr_set_float(n, "alpha", 1.0);                     /* unknown attribute */
  assert_int_equal(ot_prepare(g, n), -1);
  assert_non_null(strstr(ir_last_error(), "alpha"));

  n = ot_node(g, "Cast", 13, 1, (ir_tensor *[]){a}, 1);     /* 'to' missing */
  assert_int_equal(ot_prepare(g, n), -1);
  n = ot_node(g, "Cast", 13, 1, (ir_tensor *[]){a}, 1);
  ir_attr_set_int(n, "to", 8);                            /* string */
  assert_int_equal(ot_prepare(g, n), -1);

  n = ot_node(g, "Softmax", 13, 1, (ir_tensor *[]){a}, 1);
  ir_attr_set_int(n, "axis", 2);
  assert_int_equal(ot_prepare(g, n), -1);
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
  ir_tensor *a = ot_input(g, "a", IR_F64, 3, (int64_t[]){2, 2, 2});
  ir_node *n = ot_node(g, "Softmax", 11, 1, &a, 1);
  ot_ok(g, n);
  assert_int_equal(ir_attr_int(n, "axis", 99), 1);       /* default made explicit */
  ot_expect_vals(ot_run(n, 0, in), op11, 8, 1e-12);
  n = ot_node(g, "Softmax", 13, 1, &a, 1);
  ir_attr_set_int(n, "axis", 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), op13, 8, 1e-12);
  n = ot_node(g, "LogSoftmax", 11, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), log11, 8, 1e-12);
  n = ot_node(g, "LogSoftmax", 13, 1, &a, 1);             /* default axis -1 */
  ot_ok(g, n);
  assert_int_equal(ir_attr_int(n, "axis", 99), -1);
  ot_expect_vals(ot_run(n, 0, in), log13, 8, 1e-12);

  /* large values: the max is subtracted, so no overflow */
  static const double big[] = {1000, 1001, 1002, 1003, 0, 0, 0, 0};
  const double *bin[] = {big};
  n = ot_node(g, "Softmax", 11, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, bin), op11, 8, 1e-12);
  ir_graph_free(g);
}

static void test_clip(void **state) {
  (void)state;
  static const double x[] = {-3, -1, 0, 0.5, 2, 7};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 1, (int64_t[]){6});
  ir_tensor *lo = ot_input(g, "lo", IR_F32, 0, NULL);
  ir_tensor *hi = ot_const(g, "hi", IR_F32, 0, NULL, (double[]){1.5});
  double lov[] = {-1};

  ir_node *n = ot_node(g, "Clip", 13, 3, (ir_tensor *[]){a, lo, hi}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){x, lov, NULL}), (double[]){-1, -1, 0, 0.5, 1.5, 1.5}, 6, 0);

  n = ot_node(g, "Clip", 13, 3, (ir_tensor *[]){a, NULL, hi}, 1);   /* max only */
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){x, NULL, NULL}), (double[]){-3, -1, 0, 0.5, 1.5, 1.5}, 6, 0);

  n = ot_node(g, "Clip", 13, 1, (ir_tensor *[]){a}, 1);              /* no bounds */
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){x}), x, 6, 0);

  double lo2[] = {2};                                              /* min > max gives max */
  n = ot_node(g, "Clip", 13, 3, (ir_tensor *[]){a, lo, hi}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){x, lo2, NULL}), (double[]){1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, 6, 0);

  ir_tensor *ai = ot_input(g, "ai", IR_I32, 1, (int64_t[]){6});        /* integers */
  ir_tensor *loi = ot_const(g, "loi", IR_I32, 0, NULL, (double[]){0});
  n = ot_node(g, "Clip", 13, 2, (ir_tensor *[]){ai, loi}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){-3, -1, 0, 1, 2, 7}}), (double[]){0, 0, 0, 1, 2, 7}, 6, 0);
  ir_graph_free(g);
}

static void test_activations(void **state) {
  (void)state;
  static const double x[] = {-4, -3, -1, 0, 1, 3, 4};
  const double *in[] = {x};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F64, 1, (int64_t[]){7});
  ir_node *n = ot_node(g, "HardSwish", 14, 1, &a, 1);
  ot_ok(g, n);
  /* x * clamp(x/6 + 1/2, 0, 1) by hand */
  ot_expect_vals(ot_run(n, 0, in), (double[]){0, 0, -1.0 / 3, 0, 2.0 / 3, 3, 4}, 7, 1e-15);
  n = ot_node(g, "HardSigmoid", 6, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){0, 0, 0.3, 0.5, 0.7, 1, 1}, 7, 1e-15);
  n = ot_node(g, "LeakyRelu", 6, 1, &a, 1);
  ot_ok(g, n);
  assert_true(ir_attr_float(n, "alpha", 0) == 0.01);
  ot_expect_vals(ot_run(n, 0, in), (double[]){-0.04, -0.03, -0.01, 0, 1, 3, 4}, 7, 1e-15);
  n = ot_node(g, "Relu", 14, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){0, 0, 0, 0, 1, 3, 4}, 7, 0);
  n = ot_node(g, "Softsign", 1, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){-0.8, -0.75, -0.5, 0, 0.5, 0.75, 0.8}, 7, 1e-15);
  n = ot_node(g, "Elu", 6, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){-1, 0, 2, 0, 0, 0, 0}}),
              (double[]){exp(-1) - 1, 0, 2, 0, 0, 0, 0}, 7, 1e-15);

  /* Erf against known values (numpy/math.erf) */
  n = ot_node(g, "Erf", 13, 1, &a, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){0, 0.5, 1, -2, 0, 0, 0}}),
              (double[]){0, 0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0, 0, 0}, 7, 1e-15);

  /* a fused epilogue on a standalone activation: Relu then _act=Clip[0,6] */
  n = ot_node(g, "Neg", 13, 1, &a, 1);
  ir_attr_set_string(n, "_act", "Clip");
  ir_attr_set_float(n, "_act_alpha", 0);
  ir_attr_set_float(n, "_act_beta", 3.5);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){3.5, 3, 1, 0, 0, 0, 0}, 7, 0);
  ir_graph_free(g);
}

static void test_arith(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  /* integer Div truncates toward zero; a zero divisor gives 0 */
  ir_tensor *a = ot_input(g, "a", IR_I32, 1, (int64_t[]){5});
  ir_tensor *b = ot_input(g, "b", IR_I32, 1, (int64_t[]){5});
  ir_node *n = ot_node(g, "Div", 14, 2, (ir_tensor *[]){a, b}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){7, -7, 7, -7, 5}, (double[]){2, 2, -2, -2, 0}}),
              (double[]){3, -3, -3, 3, 0}, 5, 0);
  /* int64 Add wraps at 2^63 */
  ir_tensor *c = ot_input(g, "c", IR_I64, 1, (int64_t[]){2});
  n = ot_node(g, "Add", 14, 2, (ir_tensor *[]){c, c}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){-3, 5}, (double[]){-3, 5}}), (double[]){-6, 10}, 2, 0);
  /* uint8 Sub wraps */
  ir_tensor *u = ot_input(g, "u", IR_U8, 1, (int64_t[]){2});
  n = ot_node(g, "Sub", 14, 2, (ir_tensor *[]){u, u}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1, 200}, (double[]){2, 100}}), (double[]){255, 100}, 2, 0);

  /* Pow: numpy [2,3,4] ** [3,0.5,-1] */
  ir_tensor *f = ot_input(g, "f", IR_F32, 1, (int64_t[]){3});
  n = ot_node(g, "Pow", 15, 2, (ir_tensor *[]){f, f}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){2, 3, 4}, (double[]){3, 0.5, -1}}),
              (double[]){8, 1.7320508075688772, 0.25}, 3, 1e-6);
  /* Pow with an int base and a float exponent: result truncated to int */
  ir_tensor *ib = ot_input(g, "ib", IR_I64, 1, (int64_t[]){3});
  n = ot_node(g, "Pow", 15, 2, (ir_tensor *[]){ib, f}, 1);
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I64);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){2, 3, 4}, (double[]){3, 2, 0.5}}), (double[]){8, 9, 2}, 3, 0);

  /* broadcasting: [2,1] - [3] */
  ir_tensor *p = ot_input(g, "p", IR_F64, 2, (int64_t[]){2, 1});
  ir_tensor *q = ot_input(g, "q", IR_F64, 1, (int64_t[]){3});
  n = ot_node(g, "Sub", 14, 2, (ir_tensor *[]){p, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){10, 20}, (double[]){1, 2, 3}}),
              (double[]){9, 8, 7, 19, 18, 17}, 6, 0);

  /* variadic: Max of three, Min of one, Mean of two, Sum of three */
  n = ot_node(g, "Max", 13, 3, (ir_tensor *[]){p, q, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1.5, 2.5}, (double[]){1, 2, 3}, (double[]){0, 0, 0}}),
              (double[]){1.5, 2, 3, 2.5, 2.5, 3}, 6, 0);
  n = ot_node(g, "Min", 13, 1, (ir_tensor *[]){q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){4, 5, 6}}), (double[]){4, 5, 6}, 3, 0);
  n = ot_node(g, "Mean", 13, 2, (ir_tensor *[]){p, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1, 2}, (double[]){1, 2, 3}}),
              (double[]){1, 1.5, 2, 1.5, 2, 2.5}, 6, 0);
  n = ot_node(g, "Sum", 13, 3, (ir_tensor *[]){q, q, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1, 2, 3}, (double[]){1, 2, 3}, (double[]){1, 2, 3}}),
              (double[]){3, 6, 9}, 3, 0);
  /* int Max */
  n = ot_node(g, "Max", 13, 2, (ir_tensor *[]){a, b}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){7, -7, 7, -7, 5}, (double[]){2, 2, -2, -2, 0}}),
              (double[]){7, 2, 7, -2, 5}, 5, 0);
  ir_graph_free(g);
}

static void test_cast(void **state) {
  (void)state;
  static const double x[] = {-2.7, -0.5, 0.5, 2.9, 300.0};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 1, (int64_t[]){5});
  ir_node *n = ot_node(g, "Cast", 13, 1, &a, 1);
  ir_attr_set_int(n, "to", 6);   /* INT32 */
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_I32);
  ot_expect_vals(ot_run(n, 0, (const double *[]){x}), (double[]){-2, 0, 0, 2, 300}, 5, 0);
  n = ot_node(g, "Cast", 13, 1, &a, 1);
  ir_attr_set_int(n, "to", 3);   /* INT8: 300 wraps to 44 like numpy's int64 -> int8 */
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){x}), (double[]){-2, 0, 0, 2, 44}, 5, 0);
  n = ot_node(g, "Cast", 13, 1, &a, 1);
  ir_attr_set_int(n, "to", 9);   /* BOOL: nonzero (NaN too) is true */
  ot_ok(g, n);
  assert_int_equal(n->out[0]->dtype, IR_BOOL);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){0, -0.0, 0.1, NAN, -3}}), (double[]){0, 0, 1, 1, 1}, 5, 0);
  ir_tensor *i = ot_input(g, "i", IR_I64, 1, (int64_t[]){3});
  n = ot_node(g, "Cast", 13, 1, &i, 1);
  ir_attr_set_int(n, "to", 11);  /* DOUBLE */
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){-5, 0, 1e15}}), (double[]){-5, 0, 1e15}, 3, 0);
  n = ot_node(g, "Cast", 13, 1, &i, 1);
  ir_attr_set_int(n, "to", 2);   /* UINT8: -5 wraps to 251 */
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){-5, 0, 256}}), (double[]){251, 0, 0}, 3, 0);
  ir_graph_free(g);
}

static void test_compare_logic_where(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_I64, 1, (int64_t[]){4});
  ir_tensor *s = ot_input(g, "s", IR_I64, 0, NULL);
  const double *in[] = {(double[]){1, 2, 3, 4}, (double[]){3}};
  ir_node *n = ot_node(g, "Less", 13, 2, (ir_tensor *[]){a, s}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){1, 1, 0, 0}, 4, 0);
  n = ot_node(g, "GreaterOrEqual", 16, 2, (ir_tensor *[]){a, s}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){0, 0, 1, 1}, 4, 0);
  n = ot_node(g, "Equal", 13, 2, (ir_tensor *[]){a, s}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, in), (double[]){0, 0, 1, 0}, 4, 0);

  ir_tensor *p = ot_input(g, "p", IR_BOOL, 1, (int64_t[]){4});
  ir_tensor *q = ot_input(g, "q", IR_BOOL, 1, (int64_t[]){4});
  const double *bin[] = {(double[]){0, 0, 1, 1}, (double[]){0, 1, 0, 1}};
  n = ot_node(g, "Xor", 7, 2, (ir_tensor *[]){p, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, bin), (double[]){0, 1, 1, 0}, 4, 0);
  n = ot_node(g, "And", 7, 2, (ir_tensor *[]){p, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, bin), (double[]){0, 0, 0, 1}, 4, 0);
  n = ot_node(g, "Or", 7, 2, (ir_tensor *[]){p, q}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, bin), (double[]){0, 1, 1, 1}, 4, 0);
  n = ot_node(g, "Not", 1, 1, (ir_tensor *[]){p}, 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, bin), (double[]){1, 1, 0, 0}, 4, 0);

  /* Where: cond [2,1], x [3], y [] */
  ir_tensor *c = ot_input(g, "c", IR_BOOL, 2, (int64_t[]){2, 1});
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, (int64_t[]){3});
  ir_tensor *y = ot_input(g, "y", IR_F32, 0, NULL);
  n = ot_node(g, "Where", 16, 3, (ir_tensor *[]){c, x, y}, 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 2, (int64_t[]){2, 3});
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1, 0}, (double[]){1, 2, 3}, (double[]){9}}),
              (double[]){1, 2, 3, 9, 9, 9}, 6, 0);

  /* Dropout at inference: copy, mask all true */
  n = ot_node(g, "Dropout", 13, 1, (ir_tensor *[]){x}, 2);
  ot_ok(g, n);
  assert_int_equal(n->out[1]->dtype, IR_BOOL);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 2, 3}, 3, 0);
  ot_expect_vals(ot_run(n, 1, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 1, 1}, 3, 0);
  ir_tensor *tm = ot_const(g, "tm", IR_BOOL, 0, NULL, (double[]){1});
  n = ot_node(g, "Dropout", 13, 3, (ir_tensor *[]){x, NULL, tm}, 1);
  ot_ok(g, n);   /* training mode with the default ratio 0.5 draws a mask (tests/unit/test_random.c) */
  ir_tensor *r1 = ot_const(g, "r1", IR_F32, 0, NULL, (double[]){1});
  n = ot_node(g, "Dropout", 13, 3, (ir_tensor *[]){x, r1, tm}, 1);
  ot_fails(g, n, "outside [0, 1)");   /* ratio 1 would scale by infinity */
  ir_tensor *r0 = ot_const(g, "r0", IR_F32, 0, NULL, (double[]){0});
  n = ot_node(g, "Dropout", 13, 3, (ir_tensor *[]){x, r0, tm}, 2);   /* ratio 0 drops nothing */
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 2, 3}, 3, 0);
  ot_expect_vals(ot_run(n, 1, (const double *[]){(double[]){1, 2, 3}}), (double[]){1, 1, 1}, 3, 0);
  ir_tensor *rin = ot_input(g, "rin", IR_F32, 0, NULL);
  n = ot_node(g, "Dropout", 13, 3, (ir_tensor *[]){x, rin, tm}, 1);
  assert_int_equal(ot_prepare(g, n), -1);
  if (!strstr(ir_last_error(), "input 1 ('rin') must be a compile-time constant")) fail_msg("%s", ir_last_error());
  ir_graph_free(g);

  /* Cast to bfloat16: 1 + 0.75 * 2^-7 truncates to 1 before opset 19 and
   * rounds to 1 + 2^-7 from 19 on. */
  for (int opset = 13; opset <= 19; opset += 6) {
    g = ir_graph_new("t", NULL);
    ir_tensor *f = ot_input(g, "f", IR_F32, 1, (int64_t[]){2});
    n = ot_node(g, "Cast", opset, 1, (ir_tensor *[]){f}, 1);
    ir_attr_set_int(n, "to", 16);
    ot_ok(g, n);
    double want = opset < 19 ? 1.0 : 1.0078125;
    ot_expect_vals(ot_run(n, 0, (const double *[]){(double[]){1.005859375, -1.005859375}}), (double[]){want, -want}, 2, 0);
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

/* cc -O2, then clang compiles m.c; NaN on both sides (Sqrt of negatives) matches. */
static const ot_cc_opts CC = {"test_ops_ew", "TEST_OPS_EW_KEEP", "-O2", 0, 1, NULL};


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
      char nm[16];   /* room for "x" and any int: gcc -O0 cannot see that i < 3 */
      snprintf(nm, sizeof nm, "x%d", i);
      ir_dtype dt = ec->dt;
      if (strcmp(ec->op, "Pow") == 0 && i == 1) dt = IR_F32;
      in[i] = ot_input(g, nm, dt, ec->rank[i], ec->dims[i]);
    }
    ir_node *n = ot_node(g, ec->op, ec->opset, ec->n_in, in, 1);
    if (ec->attr) ir_attr_set_int(n, ec->attr, ec->attr_val);
    ot_ok(g, n);
    ot_compile_and_compare(g, 1e-5, &CC);
    ir_graph_free(g);
  }
}

/* Where (bool condition among float inputs) and Dropout's two outputs. */
static void test_emit_where_dropout(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *c = ot_input(g, "c", IR_BOOL, 2, (int64_t[]){3, 1});
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, (int64_t[]){4});
  ir_tensor *y = ot_input(g, "y", IR_F32, 0, NULL);
  ot_ok(g, ot_node(g, "Where", 16, 3, (ir_tensor *[]){c, x, y}, 1));
  ot_compile_and_compare(g, 0, &CC);
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  x = ot_input(g, "x", IR_F32, 2, (int64_t[]){2, 5});
  ot_ok(g, ot_node(g, "Dropout", 13, 1, (ir_tensor *[]){x}, 2));
  ot_compile_and_compare(g, 0, &CC);
  ir_graph_free(g);

  /* a standalone activation with a fused epilogue and residual:
   * y = relu(tanh(x0) + x1) */
  g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 2, (int64_t[]){2, 5});
  ir_tensor *b = ot_input(g, "b", IR_F32, 2, (int64_t[]){2, 5});
  ir_node *n = ot_node(g, "Tanh", 13, 2, (ir_tensor *[]){a, b}, 1);
  n->n_in = 1;                      /* validate the plain node, then add the residual input */
  ot_ok(g, n);
  n->n_in = 2;
  ir_attr_set_string(n, "_act", "Relu");
  ir_attr_set_int(n, "_residual", 1);
  n->out[0]->dtype = IR_F32;
  ot_compile_and_compare(g, 1e-6, &CC);
  ir_graph_free(g);
}

/* Pow by a constant scalar exponent: 1, 2, -1 and 0.5 emitted without pow
 * give the interpreter's bits (its double pow, rounded once to float),
 * -0's sign included; 3 (two products) and 2.5 (powf) within 2e-7. */
static void test_emit_pow_const(void **state) {
  (void)state;
  static const double exps[] = {1, 2, -1, 0.5, 3, 2.5};
  static const float xs[] = {-0.0f, 0.0f, -2.5f, 2.5f, 1e-30f, -1e-30f, 3e12f, 0.75f,
                             -1.0f, 1.0f, 7.0f, -3.0f, 1.1754944e-38f, 16777217.0f, 0.1f, -0.3f};
  for (size_t k = 0; k < sizeof exps / sizeof exps[0]; k++) {
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *x = ot_input(g, "x", IR_F32, 1, (int64_t[]){16});
    ir_node *n = ot_node(g, "Pow", 15, 2, (ir_tensor *[]){x, ot_const(g, "e", IR_F32, 0, NULL, &exps[k])}, 1);
    interp_ctx c;
    char dir[64];
    void *in[1] = {(void *)xs};
    ot_ok(g, n);
    ir_graph_add_output(g, n->out[0]);
    assert_int_equal(ir_graph_toposort(g), 0);
    if (interp_run(&c, g, (const void *const *)in) < 0) fail_msg("interp: %s", ir_last_error());
    ot_emit_tmp(g, "test_ops_ew_pow", dir);
    ot_write_driver(g, dir, in);
    ot_build_run(dir, &CC);
    const float *want = interp_value(&c, n->out[0]);
    float *got = ot_read_output(g, dir, 0);
    for (int i = 0; i < 16; i++) {
      int same = memcmp(&got[i], &want[i], sizeof got[i]) == 0 || (isnan(got[i]) && isnan(want[i]));
      if (k >= 4) same |= fabs((double)got[i] - want[i]) <= 2e-7 * fabs((double)want[i]);
      if (!same)
        fail_msg("%g ** %g: C %a, interpreter %a (in %s)", (double)xs[i], exps[k], (double)got[i], (double)want[i],
                 dir);
    }
    free(got);
    interp_free(&c);
    ot_cleanup(dir, CC.keep_env);
    ir_graph_free(g);
  }
}

int main(void) {
  ot_rnd_seed(12345);   /* the random inputs of ot_compile_and_compare */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_broadcast_infer), cmocka_unit_test(test_infer_errors),
    cmocka_unit_test(test_softmax),         cmocka_unit_test(test_clip),
    cmocka_unit_test(test_activations),     cmocka_unit_test(test_arith),
    cmocka_unit_test(test_cast),            cmocka_unit_test(test_compare_logic_where),
    cmocka_unit_test(test_kutil),           cmocka_unit_test(test_emit),
    cmocka_unit_test(test_emit_where_dropout), cmocka_unit_test(test_emit_pow_const),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
