/*
 * test_ops_math.c - the math group (compiler/ops/ops_math.c) end to end:
 * inference and its errors through the op table, the interpreter kernels
 * (runtime/kernels/interp_math.c) on hand-computed cases, and one-node
 * graphs emitted as C (compiler/backend/emit_math.c), compiled with strict
 * flags (and under clang's sanitizers when clang is present) and compared
 * with the interpreter on random inputs.
 *
 * Expected values are worked out by hand, or from numpy/torch run offline
 * where noted (np.einsum, np.linalg.det, torch's mish and celu), never from
 * the code under test.
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

#define VALS(...) ((const double *const[]){__VA_ARGS__})

/* ---- elementwise ---------------------------------------------------------- */

static void test_mod(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_I32, 1, DIMS(7)), *b = ot_input(g, "b", IR_I32, 1, DIMS(7));
  const double *xy[] = {D(-4, 7, 5, 4, -7, 8, 9), D(2, -3, 8, -2, 3, 5, 0)};
  ir_node *n = ot_node(g, "Mod", 13, 2, IN(a, b), 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, xy), D(0, -2, 5, 0, 2, 3, 0), 7, 0);   /* Python's %, and 0 for a zero divisor */
  ir_node *f = ot_node(g, "Mod", 13, 2, IN(a, b), 1);
  ir_attr_set_int(f, "fmod", 1);
  ot_ok(g, f);
  ot_expect_vals(ot_run(f, 0, xy), D(0, 1, 5, 0, -1, 3, 0), 7, 0);   /* C's %, sign of the dividend */

  ir_tensor *x = ot_input(g, "x", IR_F64, 1, DIMS(3)), *y = ot_input(g, "y", IR_F64, 0, NULL);
  ir_node *m = ot_node(g, "Mod", 13, 2, IN(x, y), 1);
  ot_ok(g, m);
  ot_expect_shape(m->out[0], 1, DIMS(3));
  ot_expect_vals(ot_run(m, 0, VALS(D(-4.5, 5.5, 3), D(2))), D(1.5, 1.5, 1), 3, 1e-12);
  ir_node *m2 = ot_node(g, "Mod", 13, 2, IN(y, x), 1);
  ir_attr_set_int(m2, "fmod", 1);
  ot_ok(g, m2);
  ot_expect_vals(ot_run(m2, 0, VALS(D(5.5), D(-2, 2, 3))), D(1.5, 1.5, 2.5), 3, 1e-12);

  ot_fails(g, ot_node(g, "Mod", 13, 2, IN(a, x), 1), "expected one dtype");
  ir_node *bad = ot_node(g, "Mod", 13, 2, IN(a, b), 1);
  ir_attr_set_int(bad, "fmod", 2);
  ot_fails(g, bad, "fmod must be 0 or 1");
  ir_graph_free(g);
}

static void test_bitshift(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_U8, 1, DIMS(5)), *b = ot_input(g, "b", IR_U8, 1, DIMS(5));
  const double *xy[] = {D(16, 4, 1, 255, 200), D(1, 2, 3, 1, 70)};
  ir_node *l = ot_node(g, "BitShift", 11, 2, IN(a, b), 1);
  ir_attr_set_string(l, "direction", "LEFT");
  ot_ok(g, l);
  ot_expect_vals(ot_run(l, 0, xy), D(32, 16, 8, 254, 0), 5, 0);   /* 255 << 1 wraps in uint8 */
  ir_node *r = ot_node(g, "BitShift", 11, 2, IN(a, b), 1);
  ir_attr_set_string(r, "direction", "RIGHT");
  ot_ok(g, r);
  ot_expect_vals(ot_run(r, 0, xy), D(8, 1, 0, 127, 0), 5, 0);

  ir_node *bad = ot_node(g, "BitShift", 11, 2, IN(a, b), 1);
  ir_attr_set_string(bad, "direction", "UP");
  ot_fails(g, bad, "direction 'UP'");
  ot_fails(g, ot_node(g, "BitShift", 11, 2, IN(a, b), 1), "'direction' is required");
  ir_tensor *s = ot_input(g, "s", IR_I32, 1, DIMS(5));
  ir_node *si = ot_node(g, "BitShift", 11, 2, IN(s, s), 1);
  ir_attr_set_string(si, "direction", "LEFT");
  ot_fails(g, si, "not supported");
  ir_graph_free(g);
}

static void test_unary(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 1, DIMS(5));
  const double *xs[] = {D(-2, -1, 0, 1, 2)};

  ir_node *t = ot_node(g, "ThresholdedRelu", 10, 1, IN(x), 1);
  ir_attr_set_float(t, "alpha", 1.0);
  ot_ok(g, t);
  ot_expect_vals(ot_run(t, 0, xs), D(0, 0, 0, 0, 2), 5, 0);   /* strictly greater than alpha */

  ir_node *s = ot_node(g, "Shrink", 9, 1, IN(x), 1);
  ir_attr_set_float(s, "lambd", 1.5);
  ir_attr_set_float(s, "bias", 1.5);
  ot_ok(g, s);
  ot_expect_vals(ot_run(s, 0, xs), D(-0.5, 0, 0, 0, 0.5), 5, 1e-7);
  ir_node *sd = ot_node(g, "Shrink", 9, 1, IN(x), 1);   /* defaults lambd 0.5, bias 0 */
  ot_ok(g, sd);
  ot_expect_vals(ot_run(sd, 0, xs), D(-2, -1, 0, 1, 2), 5, 0);

  ir_tensor *x3 = ot_input(g, "x3", IR_F64, 1, DIMS(3));
  ir_node *c = ot_node(g, "Celu", 12, 1, IN(x3), 1);
  ir_attr_set_float(c, "alpha", 2.0);
  ot_ok(g, c);
  ot_expect_vals(ot_run(c, 0, VALS(D(-1, 1, 0))), D(-0.7869386805747332, 1, 0), 3, 1e-12);   /* torch celu */
  ir_node *m = ot_node(g, "Mish", 18, 1, IN(x3), 1);
  ot_ok(g, m);
  ot_expect_vals(ot_run(m, 0, VALS(D(-2, 0, 1))), D(-0.2525014826957089, 0, 0.8650983882673103), 3, 1e-12);   /* torch mish */

  ir_tensor *x4 = ot_input(g, "x4", IR_F32, 1, DIMS(4));
  const double *sp[] = {D(-INFINITY, 1, INFINITY, NAN)};
  ir_node *i = ot_node(g, "IsInf", 10, 1, IN(x4), 1);
  ot_ok(g, i);
  assert_int_equal(i->out[0]->dtype, IR_BOOL);
  ot_expect_vals(ot_run(i, 0, sp), D(1, 0, 1, 0), 4, 0);
  ir_node *ip = ot_node(g, "IsInf", 10, 1, IN(x4), 1);
  ir_attr_set_int(ip, "detect_negative", 0);
  ot_ok(g, ip);
  ot_expect_vals(ot_run(ip, 0, sp), D(0, 0, 1, 0), 4, 0);
  ir_node *in = ot_node(g, "IsInf", 10, 1, IN(x4), 1);
  ir_attr_set_int(in, "detect_positive", 0);
  ot_ok(g, in);
  ot_expect_vals(ot_run(in, 0, sp), D(1, 0, 0, 0), 4, 0);
  ir_node *nn = ot_node(g, "IsNaN", 13, 1, IN(x4), 1);
  ot_ok(g, nn);
  ot_expect_vals(ot_run(nn, 0, sp), D(0, 0, 0, 1), 4, 0);

  ir_tensor *xi = ot_input(g, "xi", IR_I32, 1, DIMS(4));
  ot_fails(g, ot_node(g, "IsNaN", 13, 1, IN(xi), 1), "not supported");
  ot_fails(g, ot_node(g, "Celu", 12, 1, IN(xi), 1), "not supported");
  ir_graph_free(g);
}

/* ---- Trilu, EyeLike, OneHot ----------------------------------------------- */

static void test_trilu_eyelike(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_I64, 2, DIMS(3, 3));
  const double *xs[] = {D(1, 2, 3, 4, 5, 6, 7, 8, 9)};
  ir_node *u = ot_node(g, "Trilu", 14, 1, IN(x), 1);
  ot_ok(g, u);
  ot_expect_vals(ot_run(u, 0, xs), D(1, 2, 3, 0, 5, 6, 0, 0, 9), 9, 0);
  ir_tensor *k = ot_const(g, "k", IR_I64, 0, NULL, D(-1));
  ir_node *l = ot_node(g, "Trilu", 14, 2, IN(x, k), 1);
  ir_attr_set_int(l, "upper", 0);
  ot_ok(g, l);
  ot_expect_vals(ot_run(l, 0, xs), D(0, 0, 0, 4, 0, 0, 7, 8, 0), 9, 0);
  ir_tensor *k1 = ot_const(g, "k1", IR_I64, 0, NULL, D(1));
  ir_node *u1 = ot_node(g, "Trilu", 14, 2, IN(x, k1), 1);
  ot_ok(g, u1);
  ot_expect_vals(ot_run(u1, 0, xs), D(0, 2, 3, 0, 0, 6, 0, 0, 0), 9, 0);

  ir_tensor *v = ot_input(g, "v", IR_I64, 1, DIMS(3)), *kin = ot_input(g, "kin", IR_I64, 0, NULL);
  ot_fails(g, ot_node(g, "Trilu", 14, 1, IN(v), 1), "rank >= 2");
  ot_fails(g, ot_node(g, "Trilu", 14, 2, IN(x, kin), 1), "compile-time constant");

  ir_tensor *e = ot_input(g, "e", IR_I32, 2, DIMS(2, 3));
  ir_node *ey = ot_node(g, "EyeLike", 9, 1, IN(e), 1);
  ir_attr_set_int(ey, "k", 1);
  ir_attr_set_int(ey, "dtype", 11);   /* double */
  ot_ok(g, ey);
  assert_int_equal(ey->out[0]->dtype, IR_F64);
  ot_expect_vals(ot_run(ey, 0, VALS(D(0, 0, 0, 0, 0, 0))), D(0, 1, 0, 0, 0, 1), 6, 0);
  ir_node *ey0 = ot_node(g, "EyeLike", 9, 1, IN(e), 1);
  ot_ok(g, ey0);
  assert_int_equal(ey0->out[0]->dtype, IR_I32);
  ot_expect_vals(ot_run(ey0, 0, VALS(D(0, 0, 0, 0, 0, 0))), D(1, 0, 0, 0, 1, 0), 6, 0);
  ot_fails(g, ot_node(g, "EyeLike", 9, 1, IN(v), 1), "rank 2");
  ir_graph_free(g);
}

static void test_onehot(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *ix = ot_input(g, "ix", IR_I64, 1, DIMS(4));
  ir_tensor *depth = ot_const(g, "depth", IR_F32, 0, NULL, D(3));
  ir_tensor *vals = ot_input(g, "vals", IR_F32, 1, DIMS(2));
  ir_node *n = ot_node(g, "OneHot", 11, 3, IN(ix, depth, vals), 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 2, DIMS(4, 3));
  /* -1 is the last class; 5 and -4 are out of range: all "off" */
  ot_expect_vals(ot_run(n, 0, VALS(D(0, -1, 5, -4), NULL, D(2, 7))), D(7, 2, 2, 2, 2, 7, 2, 2, 2, 2, 2, 2), 12, 0);
  ir_node *a0 = ot_node(g, "OneHot", 11, 3, IN(ix, depth, vals), 1);
  ir_attr_set_int(a0, "axis", 0);
  ot_ok(g, a0);
  ot_expect_shape(a0->out[0], 2, DIMS(3, 4));
  ot_expect_vals(ot_run(a0, 0, VALS(D(0, 1, 2, 1), NULL, D(0, 1))), D(1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0), 12, 0);

  ir_tensor *din = ot_input(g, "din", IR_I64, 0, NULL);
  ot_fails(g, ot_node(g, "OneHot", 11, 3, IN(ix, din, vals), 1), "compile-time constant");
  ir_tensor *v3 = ot_input(g, "v3", IR_F32, 1, DIMS(3));
  ot_fails(g, ot_node(g, "OneHot", 11, 3, IN(ix, depth, v3), 1), "two elements");
  ir_graph_free(g);
}

/* ---- Hardmax, CumSum, TopK ------------------------------------------------ */

static void test_hardmax(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(2, 3));
  ir_node *n = ot_node(g, "Hardmax", 13, 1, IN(x), 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, VALS(D(1, 3, 3, 2, 1, 0))), D(0, 1, 0, 1, 0, 0), 6, 0);   /* ties: first */
  ir_node *a0 = ot_node(g, "Hardmax", 13, 1, IN(x), 1);
  ir_attr_set_int(a0, "axis", 0);
  ot_ok(g, a0);
  ot_expect_vals(ot_run(a0, 0, VALS(D(1, 3, 3, 2, 1, 0))), D(0, 1, 1, 1, 0, 0), 6, 0);
  /* opset 11: coerced to 2-D at axis 1 (default), one hot over the last 4 */
  ir_tensor *x3 = ot_input(g, "x3", IR_F32, 3, DIMS(2, 2, 2));
  ir_node *o = ot_node(g, "Hardmax", 11, 1, IN(x3), 1);
  ot_ok(g, o);
  ot_expect_vals(ot_run(o, 0, VALS(D(1, 5, 3, 2, 0, 0, 0, -1))), D(0, 1, 0, 0, 1, 0, 0, 0), 8, 0);
  ir_node *bad = ot_node(g, "Hardmax", 13, 1, IN(x), 1);
  ir_attr_set_int(bad, "axis", 2);
  ot_fails(g, bad, "out of range");
  ir_graph_free(g);
}

static void test_cumsum(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F64, 1, DIMS(4));
  ir_tensor *ax = ot_const(g, "ax", IR_I32, 0, NULL, D(0));
  const double *xs[] = {D(1, 2, 3, 4)};
  static const double want[4][4] = {{1, 3, 6, 10}, {0, 1, 3, 6}, {10, 9, 7, 4}, {9, 7, 4, 0}};
  for (int v = 0; v < 4; v++) {
    ir_node *n = ot_node(g, "CumSum", 14, 2, IN(x, ax), 1);
    ir_attr_set_int(n, "exclusive", v & 1);
    ir_attr_set_int(n, "reverse", v >> 1);
    ot_ok(g, n);
    ot_expect_vals(ot_run(n, 0, xs), want[v], 4, 0);
  }
  ir_tensor *m = ot_input(g, "m", IR_I32, 2, DIMS(2, 2));
  ir_tensor *neg = ot_const(g, "neg", IR_I64, 1, DIMS(1), D(-2));
  ir_node *n = ot_node(g, "CumSum", 14, 2, IN(m, neg), 1);
  ot_ok(g, n);
  ot_expect_vals(ot_run(n, 0, VALS(D(1, 2, 3, 4))), D(1, 2, 4, 6), 4, 0);

  ir_tensor *axin = ot_input(g, "axin", IR_I64, 0, NULL);
  ot_fails(g, ot_node(g, "CumSum", 14, 2, IN(x, axin), 1), "compile-time constant");
  ir_tensor *big = ot_const(g, "big", IR_I64, 0, NULL, D(1));
  ot_fails(g, ot_node(g, "CumSum", 14, 2, IN(x, big), 1), "out of range");
  ir_graph_free(g);
}

static void test_topk(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(2, 4));
  ir_tensor *k = ot_const(g, "k", IR_I64, 1, DIMS(1), D(2));
  const double *xs[] = {D(3, 1, 3, 2, -1, 5, 0, 5)};
  ir_node *n = ot_node(g, "TopK", 11, 2, IN(x, k), 2);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 2, DIMS(2, 2));
  assert_int_equal(n->out[1]->dtype, IR_I64);
  ot_expect_vals(ot_run(n, 0, xs), D(3, 3, 5, 5), 4, 0);
  ot_expect_vals(ot_run(n, 1, xs), D(0, 2, 1, 3), 4, 0);   /* ties: lower index first */
  ir_node *s = ot_node(g, "TopK", 11, 2, IN(x, k), 2);
  ir_attr_set_int(s, "largest", 0);
  ot_ok(g, s);
  ot_expect_vals(ot_run(s, 0, xs), D(1, 2, -1, 0), 4, 0);
  ot_expect_vals(ot_run(s, 1, xs), D(1, 3, 0, 2), 4, 0);
  ir_node *a0 = ot_node(g, "TopK", 11, 2, IN(x, ot_const(g, "k1", IR_I64, 1, DIMS(1), D(1))), 2);
  ir_attr_set_int(a0, "axis", 0);
  ot_ok(g, a0);
  ot_expect_shape(a0->out[0], 2, DIMS(1, 4));
  ot_expect_vals(ot_run(a0, 1, xs), D(0, 1, 0, 1), 4, 0);

  ot_fails(g, ot_node(g, "TopK", 11, 2, IN(x, ot_const(g, "k5", IR_I64, 1, DIMS(1), D(5))), 2), "out of range");
  ot_fails(g, ot_node(g, "TopK", 11, 2, IN(x, ot_input(g, "kin", IR_I64, 1, DIMS(1))), 2), "compile-time constant");
  ir_graph_free(g);
}

/* ---- Einsum --------------------------------------------------------------- */

static void test_einsum(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F64, 2, DIMS(2, 2)), *b = ot_input(g, "b", IR_F64, 2, DIMS(2, 2));
  const double *ab[] = {D(1, 2, 3, 4), D(5, 6, 7, 8)};
  ir_node *mm = ot_node(g, "Einsum", 12, 2, IN(a, b), 1);
  ir_attr_set_string(mm, "equation", "ij, jk -> ik");
  ot_ok(g, mm);
  ot_expect_vals(ot_run(mm, 0, ab), D(19, 22, 43, 50), 4, 0);
  ir_node *tr = ot_node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(tr, "equation", "ii");   /* implicit: trace */
  ot_ok(g, tr);
  assert_int_equal(tr->out[0]->rank, 0);
  ot_expect_vals(ot_run(tr, 0, ab), D(5), 1, 0);
  ir_node *t = ot_node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(t, "equation", "ji");   /* implicit output "ij": a transpose */
  ot_ok(g, t);
  ot_expect_vals(ot_run(t, 0, ab), D(1, 3, 2, 4), 4, 0);

  ir_tensor *u = ot_input(g, "u", IR_I32, 1, DIMS(2)), *v = ot_input(g, "v", IR_I32, 1, DIMS(3));
  ir_node *outer = ot_node(g, "Einsum", 12, 2, IN(u, v), 1);
  ir_attr_set_string(outer, "equation", "i,j");
  ot_ok(g, outer);
  ot_expect_shape(outer->out[0], 2, DIMS(2, 3));
  ot_expect_vals(ot_run(outer, 0, VALS(D(1, 2), D(3, 4, 5))), D(3, 4, 5, 6, 8, 10), 6, 0);   /* np.einsum */

  /* ellipsis with broadcasting: [2,1,2] and [3,2] batch dims [2,1] vs [3] */
  ir_tensor *p = ot_input(g, "p", IR_F64, 3, DIMS(2, 1, 2)), *q = ot_input(g, "q", IR_F64, 2, DIMS(3, 2));
  ir_node *bd = ot_node(g, "Einsum", 12, 2, IN(p, q), 1);
  ir_attr_set_string(bd, "equation", "...i,...i->...");
  ot_ok(g, bd);
  ot_expect_shape(bd->out[0], 2, DIMS(2, 3));
  /* p = [[1,2]], [[3,4]]; q rows [1,0],[0,1],[1,1] */
  ot_expect_vals(ot_run(bd, 0, VALS(D(1, 2, 3, 4), D(1, 0, 0, 1, 1, 1))), D(1, 2, 3, 3, 4, 7), 6, 0);

  ir_node *e1 = ot_node(g, "Einsum", 12, 2, IN(a, b), 1);
  ir_attr_set_string(e1, "equation", "ij->ij");
  ot_fails(g, e1, "fewer terms");
  ir_node *e2 = ot_node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(e2, "equation", "ijk");
  ot_fails(g, e2, "rank 2");
  ir_node *e3 = ot_node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(e3, "equation", "ij->k");
  ot_fails(g, e3, "in no input");
  ir_tensor *c3 = ot_input(g, "c3", IR_F64, 2, DIMS(2, 3));
  ir_node *e4 = ot_node(g, "Einsum", 12, 2, IN(a, c3), 1);
  ir_attr_set_string(e4, "equation", "ij,ij->i");
  ot_fails(g, e4, "extents");
  ir_graph_free(g);
}

/* ---- ReverseSequence, Det, NonZero ---------------------------------------- */

static void test_revseq_det_nonzero(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(4, 4)), *l = ot_input(g, "l", IR_I64, 1, DIMS(4));
  const double *xs[] = {D(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), D(4, 3, 2, 1)};
  ir_node *rs = ot_node(g, "ReverseSequence", 10, 2, IN(x, l), 1);   /* time 0, batch 1 */
  ot_ok(g, rs);
  ot_expect_vals(ot_run(rs, 0, xs), D(12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15), 16, 0);
  ir_node *rb = ot_node(g, "ReverseSequence", 10, 2, IN(x, l), 1);
  ir_attr_set_int(rb, "batch_axis", 0);
  ir_attr_set_int(rb, "time_axis", 1);
  ot_ok(g, rb);
  ot_expect_vals(ot_run(rb, 0, xs), D(3, 2, 1, 0, 6, 5, 4, 7, 9, 8, 10, 11, 12, 13, 14, 15), 16, 0);
  ir_tensor *l3 = ot_input(g, "l3", IR_I64, 1, DIMS(3));
  ot_fails(g, ot_node(g, "ReverseSequence", 10, 2, IN(x, l3), 1), "sequence_lens");

  ir_tensor *m = ot_input(g, "m", IR_F64, 3, DIMS(3, 2, 2));
  ir_node *d = ot_node(g, "Det", 11, 1, IN(m), 1);
  ot_ok(g, d);
  ot_expect_shape(d->out[0], 1, DIMS(3));
  ot_expect_vals(ot_run(d, 0, VALS(D(1, 2, 3, 4, 2, 0, 0, 3, 0, 1, 1, 0))), D(-2, 6, -1), 3, 1e-12);
  ir_tensor *m3 = ot_input(g, "m3", IR_F32, 2, DIMS(3, 3));
  ir_node *d3 = ot_node(g, "Det", 11, 1, IN(m3), 1);
  ot_ok(g, d3);
  ot_expect_vals(ot_run(d3, 0, VALS(D(0, 1, 2, 1, 0, 3, 4, -3, 8))), D(-2), 1, 1e-5);   /* np.linalg.det */
  ot_fails(g, ot_node(g, "Det", 11, 1, IN(ot_input(g, "r", IR_F32, 2, DIMS(2, 3))), 1), "[..., M, M]");

  ir_tensor *c = ot_const(g, "c", IR_BOOL, 2, DIMS(2, 2), D(1, 0, 1, 1));
  ir_node *nz = ot_node(g, "NonZero", 13, 1, IN(c), 1);
  ot_ok(g, nz);
  ot_expect_shape(nz->out[0], 2, DIMS(2, 3));
  ot_expect_vals(ot_run(nz, 0, NULL), D(0, 1, 1, 0, 0, 1), 6, 0);
  ot_fails(g, ot_node(g, "NonZero", 13, 1, IN(ot_input(g, "cin", IR_BOOL, 1, DIMS(3))), 1),
        "input 0 ('cin') must be a compile-time constant");
  ir_graph_free(g);
}

/* Compress (numpy's np.compress): x = [[1,2],[3,4],[5,6]]. */
static void test_compress(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(3, 2));
  const double *xs[] = {D(1, 2, 3, 4, 5, 6)};
  ir_node *n = ot_node(g, "Compress", 11, 2, IN(x, ot_const(g, "c0", IR_BOOL, 1, DIMS(3), D(0, 1, 1))), 1);
  ir_attr_set_int(n, "axis", 0);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 2, DIMS(2, 2));
  ot_expect_vals(ot_run(n, 0, xs), D(3, 4, 5, 6), 4, 0);
  n = ot_node(g, "Compress", 11, 2, IN(x, ot_const(g, "c1", IR_BOOL, 1, DIMS(1), D(1))), 1);   /* shorter condition */
  ir_attr_set_int(n, "axis", -1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 2, DIMS(3, 1));
  ot_expect_vals(ot_run(n, 0, xs), D(1, 3, 5), 3, 0);
  n = ot_node(g, "Compress", 11, 2, IN(x, ot_const(g, "c2", IR_BOOL, 1, DIMS(5), D(0, 1, 0, 0, 1))), 1);   /* flattened */
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 1, DIMS(2));
  ot_expect_vals(ot_run(n, 0, xs), D(2, 5), 2, 0);
  ot_fails(g, ot_node(g, "Compress", 11, 2, IN(x, ot_input(g, "cin", IR_BOOL, 1, DIMS(3))), 1),
        "input 1 ('cin') must be a compile-time constant");
  n = ot_node(g, "Compress", 11, 2, IN(x, ot_const(g, "c3", IR_BOOL, 1, DIMS(3), D(0, 0, 1))), 1);
  ir_attr_set_int(n, "axis", 1);
  ot_fails(g, n, "past the extent");
  ir_graph_free(g);
}

/* ---- PRelu before opset 7 (ops_elementwise.c): a 1-D slope is per channel -- */

static void test_prelu_old_opset(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 3, DIMS(1, 3, 2));
  ir_tensor *s = ot_const(g, "s", IR_F32, 1, DIMS(3), D(0.5, 0.25, 2));
  ir_node *n = ot_node(g, "PRelu", 6, 2, IN(x, s), 1);
  ot_ok(g, n);
  ot_expect_shape(n->out[0], 3, DIMS(1, 3, 2));
  ot_expect_vals(ot_run(n, 0, VALS(D(-2, 1, -4, 3, -1, 0))), D(-1, 1, -1, 3, -2, 0), 6, 1e-7);
  ot_fails(g, ot_node(g, "PRelu", 9, 2, IN(x, s), 1), "not broadcastable");   /* opset 7+: numpy rules */
  ir_tensor *sin = ot_input(g, "sin", IR_F32, 1, DIMS(3));
  ot_fails(g, ot_node(g, "PRelu", 6, 2, IN(x, sin), 1), "compile-time constant");
  ir_graph_free(g);
}

/* ---- emitted C against the interpreter ------------------------------------ */

/* cc -O2, then clang under the sanitizers; NaN on both sides matches. */
static const ot_cc_opts CC = {"test_ops_math", "TEST_OPS_MATH_KEEP", "-O2", 1, 1, NULL};


/* One node over fresh graph inputs x0..; attrs "name=int" / "name=~float" / "name='str'". */
typedef struct emit_case {
  const char *op;
  int opset;
  ir_dtype dt[3];
  int n_in;
  int rank[3];
  int64_t dims[3][4];
  const char *attrs[3];
  int n_out;
} emit_case;

static void set_attr(ir_node *n, const char *spec) {
  char name[64];
  const char *eq = strchr(spec, '=');
  snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
  if (eq[1] == '~') ir_attr_set_float(n, name, atof(eq + 2));
  else if (eq[1] == '\'') {
    char v[128];
    snprintf(v, sizeof v, "%s", eq + 2);
    v[strlen(v) - 1] = '\0';
    ir_attr_set_string(n, name, v);
  } else ir_attr_set_int(n, name, atoll(eq + 1));
}

static void test_emit(void **state) {
  (void)state;
  static const emit_case cases[] = {
    {"Mod", 13, {IR_I32, IR_I32}, 2, {2, 1}, {{3, 4}, {4}}, {NULL}, 1},
    {"Mod", 13, {IR_I8, IR_I8}, 2, {1, 1}, {{12}, {12}}, {"fmod=1"}, 1},
    {"Mod", 13, {IR_U16, IR_U16}, 2, {1, 1}, {{12}, {12}}, {NULL}, 1},
    {"Mod", 13, {IR_F32, IR_F32}, 2, {1, 1}, {{12}, {12}}, {"fmod=1"}, 1},
    {"Mod", 13, {IR_F64, IR_F64}, 2, {1, 1}, {{12}, {12}}, {NULL}, 1},
    {"BitShift", 11, {IR_U8, IR_U8}, 2, {1, 1}, {{12}, {12}}, {"direction='LEFT'"}, 1},
    {"BitShift", 11, {IR_U64, IR_U64}, 2, {1, 0}, {{12}, {0}}, {"direction='RIGHT'"}, 1},
    {"ThresholdedRelu", 10, {IR_F32}, 1, {2}, {{3, 4}}, {"alpha=~0.5"}, 1},
    {"Shrink", 9, {IR_F32}, 1, {2}, {{3, 4}}, {"lambd=~1.5", "bias=~0.25"}, 1},
    {"Shrink", 9, {IR_I32}, 1, {2}, {{3, 4}}, {"lambd=~1.5", "bias=~1"}, 1},
    {"Celu", 12, {IR_F64}, 1, {2}, {{3, 4}}, {"alpha=~2"}, 1},
    {"Mish", 18, {IR_F32}, 1, {2}, {{3, 4}}, {NULL}, 1},
    {"IsInf", 10, {IR_F32}, 1, {1}, {{12}}, {"detect_negative=0"}, 1},
    {"IsNaN", 13, {IR_F64}, 1, {1}, {{12}}, {NULL}, 1},
    {"Trilu", 14, {IR_F32}, 1, {3}, {{2, 3, 4}}, {NULL}, 1},
    {"Trilu", 14, {IR_I64}, 1, {2}, {{4, 3}}, {"upper=0"}, 1},
    {"EyeLike", 9, {IR_I32}, 1, {2}, {{3, 4}}, {"k=-1", "dtype=1"}, 1},
    {"Hardmax", 13, {IR_F32}, 1, {3}, {{2, 3, 4}}, {"axis=1"}, 1},
    {"Hardmax", 11, {IR_F64}, 1, {3}, {{2, 3, 4}}, {NULL}, 1},
    {"Einsum", 12, {IR_F32, IR_F32}, 2, {3, 3}, {{2, 3, 4}, {2, 4, 5}}, {"equation='bij,bjk->bik'"}, 1},
    {"Einsum", 12, {IR_F64}, 1, {3}, {{2, 3, 3}}, {"equation='...ii->...i'"}, 1},
    {"Einsum", 12, {IR_I32, IR_I32}, 2, {2, 1}, {{3, 4}, {4}}, {"equation='ij,j'"}, 1},
    {"Einsum", 12, {IR_F64}, 1, {2}, {{3, 3}}, {"equation='ii'"}, 1},
    {"ReverseSequence", 10, {IR_F32, IR_I64}, 2, {3, 1}, {{4, 3, 2}, {3}}, {NULL}, 1},
    {"ReverseSequence", 10, {IR_I32, IR_I64}, 2, {2, 1}, {{3, 5}, {3}}, {"batch_axis=0", "time_axis=1"}, 1},
    {"Det", 11, {IR_F32}, 1, {3}, {{2, 3, 3}}, {NULL}, 1},
    {"Det", 11, {IR_F64}, 1, {2}, {{4, 4}}, {NULL}, 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const emit_case *ec = &cases[k];
    ir_graph *g = ir_graph_new("t", NULL);
    ir_tensor *in[3];
    for (int i = 0; i < ec->n_in; i++) {
      char nm[16];   /* room for "x" and any int: gcc -O0 cannot see that i < 3 */
      snprintf(nm, sizeof nm, "x%d", i);
      in[i] = ot_input(g, nm, ec->dt[i], ec->rank[i], ec->dims[i]);
    }
    ir_node *n = ot_node(g, ec->op, ec->opset, ec->n_in, in, ec->n_out);
    for (int a = 0; a < 3 && ec->attrs[a]; a++) set_attr(n, ec->attrs[a]);
    ot_ok(g, n);
    ot_compile_and_compare(g, 1e-5, &CC);
    ir_graph_free(g);
  }
}

/* Ops with a constant input (K, axis, k, depth) and two outputs. */
static void test_emit_const_inputs(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 3, DIMS(2, 5, 3));
  ir_node *n = ot_node(g, "TopK", 11, 2, IN(x, ot_const(g, "k", IR_I64, 1, DIMS(1), D(3))), 2);
  ir_attr_set_int(n, "axis", 1);
  ot_ok(g, n);
  ot_compile_and_compare(g, 0, &CC);
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  x = ot_input(g, "x", IR_I32, 2, DIMS(3, 6));   /* integer ties: lower index first on both sides */
  n = ot_node(g, "TopK", 11, 2, IN(x, ot_const(g, "k", IR_I64, 1, DIMS(1), D(4))), 2);
  ir_attr_set_int(n, "largest", 0);
  ot_ok(g, n);
  ot_compile_and_compare(g, 0, &CC);
  ir_graph_free(g);

  static const int flags[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int v = 0; v < 4; v++) {
    g = ir_graph_new("t", NULL);
    x = ot_input(g, "x", v & 1 ? IR_I64 : IR_F64, 3, DIMS(2, 3, 4));
    n = ot_node(g, "CumSum", 14, 2, IN(x, ot_const(g, "a", IR_I32, 0, NULL, D(v - 2))), 1);
    ir_attr_set_int(n, "exclusive", flags[v][0]);
    ir_attr_set_int(n, "reverse", flags[v][1]);
    ot_ok(g, n);
    ot_compile_and_compare(g, 1e-12, &CC);
    ir_graph_free(g);
  }

  g = ir_graph_new("t", NULL);
  x = ot_input(g, "x", IR_I32, 3, DIMS(2, 3, 4));
  n = ot_node(g, "Trilu", 14, 2, IN(x, ot_const(g, "k", IR_I64, 0, NULL, D(-1))), 1);
  ot_ok(g, n);
  ot_compile_and_compare(g, 0, &CC);
  ir_graph_free(g);

  static const int caxes[] = {-1, 1, 2};   /* -1: no axis (flattened) */
  for (int ci = 0; ci < 3; ci++) {
    int axis = caxes[ci];
    g = ir_graph_new("t", NULL);
    x = ot_input(g, "x", axis == 1 ? IR_U8 : IR_F64, 3, DIMS(2, 3, 4));
    n = ot_node(g, "Compress", 11, 2, IN(x, ot_const(g, "c", IR_BOOL, 1, DIMS(3), D(1, 0, 1))), 1);
    if (axis >= 0) ir_attr_set_int(n, "axis", axis);
    ot_ok(g, n);
    ot_compile_and_compare(g, 0, &CC);
    ir_graph_free(g);
  }

  for (int axis = -2; axis <= 0; axis++) {
    g = ir_graph_new("t", NULL);
    ir_tensor *ix = ot_input(g, "ix", axis == -1 ? IR_F32 : IR_I64, 2, DIMS(2, 3));
    ir_tensor *vals = ot_input(g, "vals", IR_I32, 1, DIMS(2));
    n = ot_node(g, "OneHot", 11, 3, IN(ix, ot_const(g, "depth", IR_F32, 0, NULL, D(4)), vals), 1);
    ir_attr_set_int(n, "axis", axis);
    ot_ok(g, n);
    ot_compile_and_compare(g, 0, &CC);
    ir_graph_free(g);
  }
}

int main(void) {
  ot_rnd_seed(4242);   /* the random inputs of ot_compile_and_compare */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mod),          cmocka_unit_test(test_bitshift),
    cmocka_unit_test(test_unary),        cmocka_unit_test(test_trilu_eyelike),
    cmocka_unit_test(test_onehot),       cmocka_unit_test(test_hardmax),
    cmocka_unit_test(test_cumsum),       cmocka_unit_test(test_topk),
    cmocka_unit_test(test_einsum),       cmocka_unit_test(test_revseq_det_nonzero),
    cmocka_unit_test(test_prelu_old_opset), cmocka_unit_test(test_compress),
    cmocka_unit_test(test_emit),         cmocka_unit_test(test_emit_const_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
