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

/* ---- graph building ------------------------------------------------------- */

static ir_tensor *ten(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims) {
  ir_tensor *t = ir_add_tensor(g, name, dt, IR_INPUT);
  assert_non_null(t);
  ir_set_shape(t, rank, dims);
  ir_graph_add_input(g, t);
  return t;
}

static ir_tensor *cst(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const double *vals) {
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

static int prepare(ir_graph *g, ir_node *n) {
  if (op_validate(n) < 0) return -1;
  return n->op->infer(g, n);
}

static void ok(ir_graph *g, ir_node *n) {
  if (prepare(g, n) < 0) fail_msg("%s", ir_last_error());
}

/* prepare must fail with a message containing `what`. */
static void fails(ir_graph *g, ir_node *n, const char *what) {
  if (prepare(g, n) == 0) fail_msg("%s: expected an error containing '%s'", n->op_type, what);
  if (!strstr(ir_last_error(), what)) fail_msg("error '%s' lacks '%s'", ir_last_error(), what);
}

/* Run n on inputs given as doubles (constants use their data); output j as doubles. */
static double *run(const ir_node *n, int j, const double *const *vals) {
  const void *in[8] = {0};
  void *out[2] = {0}, *bufs[8] = {0};
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

#define V(...) ((const double[]){__VA_ARGS__})
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((ir_tensor *[]){__VA_ARGS__})
#define VALS(...) ((const double *const[]){__VA_ARGS__})

/* ---- elementwise ---------------------------------------------------------- */

static void test_mod(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_I32, 1, D(7)), *b = ten(g, "b", IR_I32, 1, D(7));
  const double *xy[] = {V(-4, 7, 5, 4, -7, 8, 9), V(2, -3, 8, -2, 3, 5, 0)};
  ir_node *n = node(g, "Mod", 13, 2, IN(a, b), 1);
  ok(g, n);
  expect_vals(run(n, 0, xy), V(0, -2, 5, 0, 2, 3, 0), 7, 0);   /* Python's %, and 0 for a zero divisor */
  ir_node *f = node(g, "Mod", 13, 2, IN(a, b), 1);
  ir_attr_set_int(f, "fmod", 1);
  ok(g, f);
  expect_vals(run(f, 0, xy), V(0, 1, 5, 0, -1, 3, 0), 7, 0);   /* C's %, sign of the dividend */

  ir_tensor *x = ten(g, "x", IR_F64, 1, D(3)), *y = ten(g, "y", IR_F64, 0, NULL);
  ir_node *m = node(g, "Mod", 13, 2, IN(x, y), 1);
  ok(g, m);
  expect_shape(m->out[0], 1, D(3));
  expect_vals(run(m, 0, VALS(V(-4.5, 5.5, 3), V(2))), V(1.5, 1.5, 1), 3, 1e-12);
  ir_node *m2 = node(g, "Mod", 13, 2, IN(y, x), 1);
  ir_attr_set_int(m2, "fmod", 1);
  ok(g, m2);
  expect_vals(run(m2, 0, VALS(V(5.5), V(-2, 2, 3))), V(1.5, 1.5, 2.5), 3, 1e-12);

  fails(g, node(g, "Mod", 13, 2, IN(a, x), 1), "expected one dtype");
  ir_node *bad = node(g, "Mod", 13, 2, IN(a, b), 1);
  ir_attr_set_int(bad, "fmod", 2);
  fails(g, bad, "fmod must be 0 or 1");
  ir_graph_free(g);
}

static void test_bitshift(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_U8, 1, D(5)), *b = ten(g, "b", IR_U8, 1, D(5));
  const double *xy[] = {V(16, 4, 1, 255, 200), V(1, 2, 3, 1, 70)};
  ir_node *l = node(g, "BitShift", 11, 2, IN(a, b), 1);
  ir_attr_set_string(l, "direction", "LEFT");
  ok(g, l);
  expect_vals(run(l, 0, xy), V(32, 16, 8, 254, 0), 5, 0);   /* 255 << 1 wraps in uint8 */
  ir_node *r = node(g, "BitShift", 11, 2, IN(a, b), 1);
  ir_attr_set_string(r, "direction", "RIGHT");
  ok(g, r);
  expect_vals(run(r, 0, xy), V(8, 1, 0, 127, 0), 5, 0);

  ir_node *bad = node(g, "BitShift", 11, 2, IN(a, b), 1);
  ir_attr_set_string(bad, "direction", "UP");
  fails(g, bad, "direction 'UP'");
  fails(g, node(g, "BitShift", 11, 2, IN(a, b), 1), "'direction' is required");
  ir_tensor *s = ten(g, "s", IR_I32, 1, D(5));
  ir_node *si = node(g, "BitShift", 11, 2, IN(s, s), 1);
  ir_attr_set_string(si, "direction", "LEFT");
  fails(g, si, "not supported");
  ir_graph_free(g);
}

static void test_unary(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 1, D(5));
  const double *xs[] = {V(-2, -1, 0, 1, 2)};

  ir_node *t = node(g, "ThresholdedRelu", 10, 1, IN(x), 1);
  ir_attr_set_float(t, "alpha", 1.0);
  ok(g, t);
  expect_vals(run(t, 0, xs), V(0, 0, 0, 0, 2), 5, 0);   /* strictly greater than alpha */

  ir_node *s = node(g, "Shrink", 9, 1, IN(x), 1);
  ir_attr_set_float(s, "lambd", 1.5);
  ir_attr_set_float(s, "bias", 1.5);
  ok(g, s);
  expect_vals(run(s, 0, xs), V(-0.5, 0, 0, 0, 0.5), 5, 1e-7);
  ir_node *sd = node(g, "Shrink", 9, 1, IN(x), 1);   /* defaults lambd 0.5, bias 0 */
  ok(g, sd);
  expect_vals(run(sd, 0, xs), V(-2, -1, 0, 1, 2), 5, 0);

  ir_tensor *x3 = ten(g, "x3", IR_F64, 1, D(3));
  ir_node *c = node(g, "Celu", 12, 1, IN(x3), 1);
  ir_attr_set_float(c, "alpha", 2.0);
  ok(g, c);
  expect_vals(run(c, 0, VALS(V(-1, 1, 0))), V(-0.7869386805747332, 1, 0), 3, 1e-12);   /* torch celu */
  ir_node *m = node(g, "Mish", 18, 1, IN(x3), 1);
  ok(g, m);
  expect_vals(run(m, 0, VALS(V(-2, 0, 1))), V(-0.2525014826957089, 0, 0.8650983882673103), 3, 1e-12);   /* torch mish */

  ir_tensor *x4 = ten(g, "x4", IR_F32, 1, D(4));
  const double *sp[] = {V(-INFINITY, 1, INFINITY, NAN)};
  ir_node *i = node(g, "IsInf", 10, 1, IN(x4), 1);
  ok(g, i);
  assert_int_equal(i->out[0]->dtype, IR_BOOL);
  expect_vals(run(i, 0, sp), V(1, 0, 1, 0), 4, 0);
  ir_node *ip = node(g, "IsInf", 10, 1, IN(x4), 1);
  ir_attr_set_int(ip, "detect_negative", 0);
  ok(g, ip);
  expect_vals(run(ip, 0, sp), V(0, 0, 1, 0), 4, 0);
  ir_node *in = node(g, "IsInf", 10, 1, IN(x4), 1);
  ir_attr_set_int(in, "detect_positive", 0);
  ok(g, in);
  expect_vals(run(in, 0, sp), V(1, 0, 0, 0), 4, 0);
  ir_node *nn = node(g, "IsNaN", 13, 1, IN(x4), 1);
  ok(g, nn);
  expect_vals(run(nn, 0, sp), V(0, 0, 0, 1), 4, 0);

  ir_tensor *xi = ten(g, "xi", IR_I32, 1, D(4));
  fails(g, node(g, "IsNaN", 13, 1, IN(xi), 1), "not supported");
  fails(g, node(g, "Celu", 12, 1, IN(xi), 1), "not supported");
  ir_graph_free(g);
}

/* ---- Trilu, EyeLike, OneHot ----------------------------------------------- */

static void test_trilu_eyelike(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_I64, 2, D(3, 3));
  const double *xs[] = {V(1, 2, 3, 4, 5, 6, 7, 8, 9)};
  ir_node *u = node(g, "Trilu", 14, 1, IN(x), 1);
  ok(g, u);
  expect_vals(run(u, 0, xs), V(1, 2, 3, 0, 5, 6, 0, 0, 9), 9, 0);
  ir_tensor *k = cst(g, "k", IR_I64, 0, NULL, V(-1));
  ir_node *l = node(g, "Trilu", 14, 2, IN(x, k), 1);
  ir_attr_set_int(l, "upper", 0);
  ok(g, l);
  expect_vals(run(l, 0, xs), V(0, 0, 0, 4, 0, 0, 7, 8, 0), 9, 0);
  ir_tensor *k1 = cst(g, "k1", IR_I64, 0, NULL, V(1));
  ir_node *u1 = node(g, "Trilu", 14, 2, IN(x, k1), 1);
  ok(g, u1);
  expect_vals(run(u1, 0, xs), V(0, 2, 3, 0, 0, 6, 0, 0, 0), 9, 0);

  ir_tensor *v = ten(g, "v", IR_I64, 1, D(3)), *kin = ten(g, "kin", IR_I64, 0, NULL);
  fails(g, node(g, "Trilu", 14, 1, IN(v), 1), "rank >= 2");
  fails(g, node(g, "Trilu", 14, 2, IN(x, kin), 1), "compile-time constant");

  ir_tensor *e = ten(g, "e", IR_I32, 2, D(2, 3));
  ir_node *ey = node(g, "EyeLike", 9, 1, IN(e), 1);
  ir_attr_set_int(ey, "k", 1);
  ir_attr_set_int(ey, "dtype", 11);   /* double */
  ok(g, ey);
  assert_int_equal(ey->out[0]->dtype, IR_F64);
  expect_vals(run(ey, 0, VALS(V(0, 0, 0, 0, 0, 0))), V(0, 1, 0, 0, 0, 1), 6, 0);
  ir_node *ey0 = node(g, "EyeLike", 9, 1, IN(e), 1);
  ok(g, ey0);
  assert_int_equal(ey0->out[0]->dtype, IR_I32);
  expect_vals(run(ey0, 0, VALS(V(0, 0, 0, 0, 0, 0))), V(1, 0, 0, 0, 1, 0), 6, 0);
  fails(g, node(g, "EyeLike", 9, 1, IN(v), 1), "rank 2");
  ir_graph_free(g);
}

static void test_onehot(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *ix = ten(g, "ix", IR_I64, 1, D(4));
  ir_tensor *depth = cst(g, "depth", IR_F32, 0, NULL, V(3));
  ir_tensor *vals = ten(g, "vals", IR_F32, 1, D(2));
  ir_node *n = node(g, "OneHot", 11, 3, IN(ix, depth, vals), 1);
  ok(g, n);
  expect_shape(n->out[0], 2, D(4, 3));
  /* -1 is the last class; 5 and -4 are out of range: all "off" */
  expect_vals(run(n, 0, VALS(V(0, -1, 5, -4), NULL, V(2, 7))), V(7, 2, 2, 2, 2, 7, 2, 2, 2, 2, 2, 2), 12, 0);
  ir_node *a0 = node(g, "OneHot", 11, 3, IN(ix, depth, vals), 1);
  ir_attr_set_int(a0, "axis", 0);
  ok(g, a0);
  expect_shape(a0->out[0], 2, D(3, 4));
  expect_vals(run(a0, 0, VALS(V(0, 1, 2, 1), NULL, V(0, 1))), V(1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0), 12, 0);

  ir_tensor *din = ten(g, "din", IR_I64, 0, NULL);
  fails(g, node(g, "OneHot", 11, 3, IN(ix, din, vals), 1), "compile-time constant");
  ir_tensor *v3 = ten(g, "v3", IR_F32, 1, D(3));
  fails(g, node(g, "OneHot", 11, 3, IN(ix, depth, v3), 1), "two elements");
  ir_graph_free(g);
}

/* ---- Hardmax, CumSum, TopK ------------------------------------------------ */

static void test_hardmax(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 2, D(2, 3));
  ir_node *n = node(g, "Hardmax", 13, 1, IN(x), 1);
  ok(g, n);
  expect_vals(run(n, 0, VALS(V(1, 3, 3, 2, 1, 0))), V(0, 1, 0, 1, 0, 0), 6, 0);   /* ties: first */
  ir_node *a0 = node(g, "Hardmax", 13, 1, IN(x), 1);
  ir_attr_set_int(a0, "axis", 0);
  ok(g, a0);
  expect_vals(run(a0, 0, VALS(V(1, 3, 3, 2, 1, 0))), V(0, 1, 1, 1, 0, 0), 6, 0);
  /* opset 11: coerced to 2-D at axis 1 (default), one hot over the last 4 */
  ir_tensor *x3 = ten(g, "x3", IR_F32, 3, D(2, 2, 2));
  ir_node *o = node(g, "Hardmax", 11, 1, IN(x3), 1);
  ok(g, o);
  expect_vals(run(o, 0, VALS(V(1, 5, 3, 2, 0, 0, 0, -1))), V(0, 1, 0, 0, 1, 0, 0, 0), 8, 0);
  ir_node *bad = node(g, "Hardmax", 13, 1, IN(x), 1);
  ir_attr_set_int(bad, "axis", 2);
  fails(g, bad, "out of range");
  ir_graph_free(g);
}

static void test_cumsum(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F64, 1, D(4));
  ir_tensor *ax = cst(g, "ax", IR_I32, 0, NULL, V(0));
  const double *xs[] = {V(1, 2, 3, 4)};
  static const double want[4][4] = {{1, 3, 6, 10}, {0, 1, 3, 6}, {10, 9, 7, 4}, {9, 7, 4, 0}};
  for (int v = 0; v < 4; v++) {
    ir_node *n = node(g, "CumSum", 14, 2, IN(x, ax), 1);
    ir_attr_set_int(n, "exclusive", v & 1);
    ir_attr_set_int(n, "reverse", v >> 1);
    ok(g, n);
    expect_vals(run(n, 0, xs), want[v], 4, 0);
  }
  ir_tensor *m = ten(g, "m", IR_I32, 2, D(2, 2));
  ir_tensor *neg = cst(g, "neg", IR_I64, 1, D(1), V(-2));
  ir_node *n = node(g, "CumSum", 14, 2, IN(m, neg), 1);
  ok(g, n);
  expect_vals(run(n, 0, VALS(V(1, 2, 3, 4))), V(1, 2, 4, 6), 4, 0);

  ir_tensor *axin = ten(g, "axin", IR_I64, 0, NULL);
  fails(g, node(g, "CumSum", 14, 2, IN(x, axin), 1), "compile-time constant");
  ir_tensor *big = cst(g, "big", IR_I64, 0, NULL, V(1));
  fails(g, node(g, "CumSum", 14, 2, IN(x, big), 1), "out of range");
  ir_graph_free(g);
}

static void test_topk(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 2, D(2, 4));
  ir_tensor *k = cst(g, "k", IR_I64, 1, D(1), V(2));
  const double *xs[] = {V(3, 1, 3, 2, -1, 5, 0, 5)};
  ir_node *n = node(g, "TopK", 11, 2, IN(x, k), 2);
  ok(g, n);
  expect_shape(n->out[0], 2, D(2, 2));
  assert_int_equal(n->out[1]->dtype, IR_I64);
  expect_vals(run(n, 0, xs), V(3, 3, 5, 5), 4, 0);
  expect_vals(run(n, 1, xs), V(0, 2, 1, 3), 4, 0);   /* ties: lower index first */
  ir_node *s = node(g, "TopK", 11, 2, IN(x, k), 2);
  ir_attr_set_int(s, "largest", 0);
  ok(g, s);
  expect_vals(run(s, 0, xs), V(1, 2, -1, 0), 4, 0);
  expect_vals(run(s, 1, xs), V(1, 3, 0, 2), 4, 0);
  ir_node *a0 = node(g, "TopK", 11, 2, IN(x, cst(g, "k1", IR_I64, 1, D(1), V(1))), 2);
  ir_attr_set_int(a0, "axis", 0);
  ok(g, a0);
  expect_shape(a0->out[0], 2, D(1, 4));
  expect_vals(run(a0, 1, xs), V(0, 1, 0, 1), 4, 0);

  fails(g, node(g, "TopK", 11, 2, IN(x, cst(g, "k5", IR_I64, 1, D(1), V(5))), 2), "out of range");
  fails(g, node(g, "TopK", 11, 2, IN(x, ten(g, "kin", IR_I64, 1, D(1))), 2), "compile-time constant");
  ir_graph_free(g);
}

/* ---- Einsum --------------------------------------------------------------- */

static void test_einsum(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *a = ten(g, "a", IR_F64, 2, D(2, 2)), *b = ten(g, "b", IR_F64, 2, D(2, 2));
  const double *ab[] = {V(1, 2, 3, 4), V(5, 6, 7, 8)};
  ir_node *mm = node(g, "Einsum", 12, 2, IN(a, b), 1);
  ir_attr_set_string(mm, "equation", "ij, jk -> ik");
  ok(g, mm);
  expect_vals(run(mm, 0, ab), V(19, 22, 43, 50), 4, 0);
  ir_node *tr = node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(tr, "equation", "ii");   /* implicit: trace */
  ok(g, tr);
  assert_int_equal(tr->out[0]->rank, 0);
  expect_vals(run(tr, 0, ab), V(5), 1, 0);
  ir_node *t = node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(t, "equation", "ji");   /* implicit output "ij": a transpose */
  ok(g, t);
  expect_vals(run(t, 0, ab), V(1, 3, 2, 4), 4, 0);

  ir_tensor *u = ten(g, "u", IR_I32, 1, D(2)), *v = ten(g, "v", IR_I32, 1, D(3));
  ir_node *outer = node(g, "Einsum", 12, 2, IN(u, v), 1);
  ir_attr_set_string(outer, "equation", "i,j");
  ok(g, outer);
  expect_shape(outer->out[0], 2, D(2, 3));
  expect_vals(run(outer, 0, VALS(V(1, 2), V(3, 4, 5))), V(3, 4, 5, 6, 8, 10), 6, 0);   /* np.einsum */

  /* ellipsis with broadcasting: [2,1,2] and [3,2] batch dims [2,1] vs [3] */
  ir_tensor *p = ten(g, "p", IR_F64, 3, D(2, 1, 2)), *q = ten(g, "q", IR_F64, 2, D(3, 2));
  ir_node *bd = node(g, "Einsum", 12, 2, IN(p, q), 1);
  ir_attr_set_string(bd, "equation", "...i,...i->...");
  ok(g, bd);
  expect_shape(bd->out[0], 2, D(2, 3));
  /* p = [[1,2]], [[3,4]]; q rows [1,0],[0,1],[1,1] */
  expect_vals(run(bd, 0, VALS(V(1, 2, 3, 4), V(1, 0, 0, 1, 1, 1))), V(1, 2, 3, 3, 4, 7), 6, 0);

  ir_node *e1 = node(g, "Einsum", 12, 2, IN(a, b), 1);
  ir_attr_set_string(e1, "equation", "ij->ij");
  fails(g, e1, "fewer terms");
  ir_node *e2 = node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(e2, "equation", "ijk");
  fails(g, e2, "rank 2");
  ir_node *e3 = node(g, "Einsum", 12, 1, IN(a), 1);
  ir_attr_set_string(e3, "equation", "ij->k");
  fails(g, e3, "in no input");
  ir_tensor *c3 = ten(g, "c3", IR_F64, 2, D(2, 3));
  ir_node *e4 = node(g, "Einsum", 12, 2, IN(a, c3), 1);
  ir_attr_set_string(e4, "equation", "ij,ij->i");
  fails(g, e4, "extents");
  ir_graph_free(g);
}

/* ---- ReverseSequence, Det, NonZero ---------------------------------------- */

static void test_revseq_det_nonzero(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 2, D(4, 4)), *l = ten(g, "l", IR_I64, 1, D(4));
  const double *xs[] = {V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), V(4, 3, 2, 1)};
  ir_node *rs = node(g, "ReverseSequence", 10, 2, IN(x, l), 1);   /* time 0, batch 1 */
  ok(g, rs);
  expect_vals(run(rs, 0, xs), V(12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15), 16, 0);
  ir_node *rb = node(g, "ReverseSequence", 10, 2, IN(x, l), 1);
  ir_attr_set_int(rb, "batch_axis", 0);
  ir_attr_set_int(rb, "time_axis", 1);
  ok(g, rb);
  expect_vals(run(rb, 0, xs), V(3, 2, 1, 0, 6, 5, 4, 7, 9, 8, 10, 11, 12, 13, 14, 15), 16, 0);
  ir_tensor *l3 = ten(g, "l3", IR_I64, 1, D(3));
  fails(g, node(g, "ReverseSequence", 10, 2, IN(x, l3), 1), "sequence_lens");

  ir_tensor *m = ten(g, "m", IR_F64, 3, D(3, 2, 2));
  ir_node *d = node(g, "Det", 11, 1, IN(m), 1);
  ok(g, d);
  expect_shape(d->out[0], 1, D(3));
  expect_vals(run(d, 0, VALS(V(1, 2, 3, 4, 2, 0, 0, 3, 0, 1, 1, 0))), V(-2, 6, -1), 3, 1e-12);
  ir_tensor *m3 = ten(g, "m3", IR_F32, 2, D(3, 3));
  ir_node *d3 = node(g, "Det", 11, 1, IN(m3), 1);
  ok(g, d3);
  expect_vals(run(d3, 0, VALS(V(0, 1, 2, 1, 0, 3, 4, -3, 8))), V(-2), 1, 1e-5);   /* np.linalg.det */
  fails(g, node(g, "Det", 11, 1, IN(ten(g, "r", IR_F32, 2, D(2, 3))), 1), "[..., M, M]");

  ir_tensor *c = cst(g, "c", IR_BOOL, 2, D(2, 2), V(1, 0, 1, 1));
  ir_node *nz = node(g, "NonZero", 13, 1, IN(c), 1);
  ok(g, nz);
  expect_shape(nz->out[0], 2, D(2, 3));
  expect_vals(run(nz, 0, NULL), V(0, 1, 1, 0, 0, 1), 6, 0);
  fails(g, node(g, "NonZero", 13, 1, IN(ten(g, "cin", IR_BOOL, 1, D(3))), 1),
        "input 0 ('cin') must be a compile-time constant");
  ir_graph_free(g);
}

/* Compress (numpy's np.compress): x = [[1,2],[3,4],[5,6]]. */
static void test_compress(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 2, D(3, 2));
  const double *xs[] = {V(1, 2, 3, 4, 5, 6)};
  ir_node *n = node(g, "Compress", 11, 2, IN(x, cst(g, "c0", IR_BOOL, 1, D(3), V(0, 1, 1))), 1);
  ir_attr_set_int(n, "axis", 0);
  ok(g, n);
  expect_shape(n->out[0], 2, D(2, 2));
  expect_vals(run(n, 0, xs), V(3, 4, 5, 6), 4, 0);
  n = node(g, "Compress", 11, 2, IN(x, cst(g, "c1", IR_BOOL, 1, D(1), V(1))), 1);   /* shorter condition */
  ir_attr_set_int(n, "axis", -1);
  ok(g, n);
  expect_shape(n->out[0], 2, D(3, 1));
  expect_vals(run(n, 0, xs), V(1, 3, 5), 3, 0);
  n = node(g, "Compress", 11, 2, IN(x, cst(g, "c2", IR_BOOL, 1, D(5), V(0, 1, 0, 0, 1))), 1);   /* flattened */
  ok(g, n);
  expect_shape(n->out[0], 1, D(2));
  expect_vals(run(n, 0, xs), V(2, 5), 2, 0);
  fails(g, node(g, "Compress", 11, 2, IN(x, ten(g, "cin", IR_BOOL, 1, D(3))), 1),
        "input 1 ('cin') must be a compile-time constant");
  n = node(g, "Compress", 11, 2, IN(x, cst(g, "c3", IR_BOOL, 1, D(3), V(0, 0, 1))), 1);
  ir_attr_set_int(n, "axis", 1);
  fails(g, n, "past the extent");
  ir_graph_free(g);
}

/* ---- PRelu before opset 7 (ops_elementwise.c): a 1-D slope is per channel -- */

static void test_prelu_old_opset(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 3, D(1, 3, 2));
  ir_tensor *s = cst(g, "s", IR_F32, 1, D(3), V(0.5, 0.25, 2));
  ir_node *n = node(g, "PRelu", 6, 2, IN(x, s), 1);
  ok(g, n);
  expect_shape(n->out[0], 3, D(1, 3, 2));
  expect_vals(run(n, 0, VALS(V(-2, 1, -4, 3, -1, 0))), V(-1, 1, -1, 3, -2, 0), 6, 1e-7);
  fails(g, node(g, "PRelu", 9, 2, IN(x, s), 1), "not broadcastable");   /* opset 7+: numpy rules */
  ir_tensor *sin = ten(g, "sin", IR_F32, 1, D(3));
  fails(g, node(g, "PRelu", 6, 2, IN(x, sin), 1), "compile-time constant");
  ir_graph_free(g);
}

/* ---- emitted C against the interpreter ------------------------------------ */

static int have(const char *cmd) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s --version > /dev/null 2>&1", cmd);
  return system(buf) == 0;
}

static unsigned rnd_state = 4242;
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

/* g holds one node (already inferred); random inputs (integers in [-6, 6),
 * unsigned ones in [0, 6) or, for `shift`, [0, 12)), the interpreter, emit,
 * cc strict, clang under the sanitizers, compare. */
static void compile_and_compare(ir_graph *g, double tol) {
  char dir[] = "/tmp/test_ops_math_XXXXXX", path[512], cmd[3072];
  interp_ctx c;
  if (!have("cc")) {
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
      if (ir_dtype_is_int(t->dtype) && !ir_dtype_is_signed(t->dtype)) v = fabs(v);
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
  if (have("clang")) {   /* the same under clang's sanitizers: no UB, no stray access */
    snprintf(cmd, sizeof cmd,
             "clang -std=c99 -Wall -Wextra -Werror -pedantic -g -fsanitize=address,undefined "
             "-fno-sanitize-recover=all -o %s/prog_san %s/m.c %s/m_weights.c %s/drv.c -lm && %s/prog_san",
             dir, dir, dir, dir, dir);
    if (system(cmd) != 0) fail_msg("clang (sanitizers) rejects or traps on the emitted C in %s", dir);
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
        fail_msg("%s: output %d element %lld: C %.9g, interpreter %.9g (files in %s)", g->nodes[0]->op_type, j,
                 (long long)k, gv, wv, dir);
    }
    free(got);
  }
  fclose(f);
  interp_free(&c);
  for (int i = 0; i < g->n_inputs; i++) free(inputs[i]);
  free(inputs);
  if (getenv("TEST_OPS_MATH_KEEP")) {
    print_message("emitted C kept in %s\n", dir);
    return;
  }
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) print_message("could not remove %s\n", dir);
}

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
      char nm[8];
      snprintf(nm, sizeof nm, "x%d", i);
      in[i] = ten(g, nm, ec->dt[i], ec->rank[i], ec->dims[i]);
    }
    ir_node *n = node(g, ec->op, ec->opset, ec->n_in, in, ec->n_out);
    for (int a = 0; a < 3 && ec->attrs[a]; a++) set_attr(n, ec->attrs[a]);
    ok(g, n);
    compile_and_compare(g, 1e-5);
    ir_graph_free(g);
  }
}

/* Ops with a constant input (K, axis, k, depth) and two outputs. */
static void test_emit_const_inputs(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *x = ten(g, "x", IR_F32, 3, D(2, 5, 3));
  ir_node *n = node(g, "TopK", 11, 2, IN(x, cst(g, "k", IR_I64, 1, D(1), V(3))), 2);
  ir_attr_set_int(n, "axis", 1);
  ok(g, n);
  compile_and_compare(g, 0);
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  x = ten(g, "x", IR_I32, 2, D(3, 6));   /* integer ties: lower index first on both sides */
  n = node(g, "TopK", 11, 2, IN(x, cst(g, "k", IR_I64, 1, D(1), V(4))), 2);
  ir_attr_set_int(n, "largest", 0);
  ok(g, n);
  compile_and_compare(g, 0);
  ir_graph_free(g);

  static const int flags[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int v = 0; v < 4; v++) {
    g = ir_graph_new("t", NULL);
    x = ten(g, "x", v & 1 ? IR_I64 : IR_F64, 3, D(2, 3, 4));
    n = node(g, "CumSum", 14, 2, IN(x, cst(g, "a", IR_I32, 0, NULL, V(v - 2))), 1);
    ir_attr_set_int(n, "exclusive", flags[v][0]);
    ir_attr_set_int(n, "reverse", flags[v][1]);
    ok(g, n);
    compile_and_compare(g, 1e-12);
    ir_graph_free(g);
  }

  g = ir_graph_new("t", NULL);
  x = ten(g, "x", IR_I32, 3, D(2, 3, 4));
  n = node(g, "Trilu", 14, 2, IN(x, cst(g, "k", IR_I64, 0, NULL, V(-1))), 1);
  ok(g, n);
  compile_and_compare(g, 0);
  ir_graph_free(g);

  static const int caxes[] = {-1, 1, 2};   /* -1: no axis (flattened) */
  for (int ci = 0; ci < 3; ci++) {
    int axis = caxes[ci];
    g = ir_graph_new("t", NULL);
    x = ten(g, "x", axis == 1 ? IR_U8 : IR_F64, 3, D(2, 3, 4));
    n = node(g, "Compress", 11, 2, IN(x, cst(g, "c", IR_BOOL, 1, D(3), V(1, 0, 1))), 1);
    if (axis >= 0) ir_attr_set_int(n, "axis", axis);
    ok(g, n);
    compile_and_compare(g, 0);
    ir_graph_free(g);
  }

  for (int axis = -2; axis <= 0; axis++) {
    g = ir_graph_new("t", NULL);
    ir_tensor *ix = ten(g, "ix", axis == -1 ? IR_F32 : IR_I64, 2, D(2, 3));
    ir_tensor *vals = ten(g, "vals", IR_I32, 1, D(2));
    n = node(g, "OneHot", 11, 3, IN(ix, cst(g, "depth", IR_F32, 0, NULL, V(4)), vals), 1);
    ir_attr_set_int(n, "axis", axis);
    ok(g, n);
    compile_and_compare(g, 0);
    ir_graph_free(g);
  }
}

int main(void) {
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
