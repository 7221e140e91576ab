/*
 * test_ops_index.c - the index group (compiler/ops/ops_index.c): shape
 * inference and attribute checks through the op table, the interpreter
 * kernels (runtime/kernels/interp_index.c) on hand-built nodes, and the
 * emitted C (compiler/backend/emit_index.c + kl_index.c) compiled with cc
 * and run on the same hand-worked cases.
 *
 * Expected values are worked out by hand (the ONNX operator docs' own
 * examples where they exist), never taken from the code under test.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/backend/emit.h"
#include "compiler/passes/passes.h"
#include "runtime/interp.h"
#include "optest.h"

static ir_graph *G;

static int setup(void **state) { (void)state; G = ir_graph_new("t", NULL); return 0; }
static int teardown(void **state) { (void)state; ir_graph_free(G); G = NULL; return 0; }

/* Nodes here carry no opset (0): the op table takes its default. */
static ir_node *node(const char *op, int nin, ir_tensor **in, int nout) { return ot_node(G, op, 0, nin, in, nout); }

/* ---- GatherElements ------------------------------------------------------------ */

static void test_gather_elements(void **state)
{
  const int64_t d2[2] = {2, 2}, d3[2] = {3, 3}, di[2] = {2, 3};
  const float x2[4] = {1, 2, 3, 4}, x3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const int64_t i2[4] = {0, 0, 1, 0};
  const int32_t i3[6] = {-1, -2, 0, -2, 0, 0};
  const double want2[4] = {1, 1, 4, 3}, want3[6] = {7, 5, 3, 4, 2, 3};
  float y[6];
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2];
  void *outs[1] = {y};
  (void)state;
  /* the ONNX doc's example: axis 1 */
  in[0] = ot_input(G, "x2", IR_F32, 2, d2);
  in[1] = ot_input(G, "i2", IR_I64, 2, d2);
  n = node("GatherElements", 2, in, 1);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, d2);
  ins[0] = x2;
  ins[1] = i2;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want2, 4);
  /* axis 0 (the default), int32 negative indices, indices smaller than data */
  in[0] = ot_input(G, "x3", IR_F32, 2, d3);
  in[1] = ot_input(G, "i3", IR_I32, 2, di);
  n = node("GatherElements", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ir_attr_int(n, "axis", -7), 0);
  ot_expect_shape(n->out[0], 2, di);
  ins[0] = x3;
  ins[1] = i3;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want3, 6);
}

static void test_gather_elements_errors(void **state)
{
  const int64_t d2[2] = {2, 2}, d1 = 2, big[2] = {3, 2};
  const int64_t bad[4] = {0, 2, 1, 0};
  const float x[4] = {1, 2, 3, 4};
  float y[4];
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2] = {x, bad};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d2);
  /* rank mismatch */
  in[1] = ot_input(G, "r1", IR_I64, 1, &d1);
  assert_int_equal(ot_prepare(G, node("GatherElements", 2, in, 1)), -1);
  /* float indices */
  in[1] = ot_input(G, "fi", IR_F32, 2, d2);
  assert_int_equal(ot_prepare(G, node("GatherElements", 2, in, 1)), -1);
  /* indices larger than data off the axis */
  in[1] = ot_input(G, "bi", IR_I64, 2, big);
  n = node("GatherElements", 2, in, 1);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), -1);
  /* axis out of range */
  in[1] = ot_input(G, "ok", IR_I64, 2, d2);
  n = node("GatherElements", 2, in, 1);
  ir_attr_set_int(n, "axis", 2);
  assert_int_equal(ot_prepare(G, n), -1);
  /* unknown attribute */
  n = node("GatherElements", 2, in, 1);
  ir_attr_set_int(n, "batch_dims", 1);
  assert_int_equal(ot_prepare(G, n), -1);
  /* a constant index out of range fails at compile time ... */
  in[1] = ot_const_raw(G, "ci", IR_I64, 2, d2, bad);
  assert_int_equal(ot_prepare(G, node("GatherElements", 2, in, 1)), -1);
  assert_non_null(strstr(ir_last_error(), "out of range"));
  /* ... and a runtime one in the interpreter */
  in[1] = ot_input(G, "ri", IR_I64, 2, d2);
  n = node("GatherElements", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), -1);
}

/* ---- ScatterElements / Scatter ------------------------------------------------- */

static void test_scatter_elements(void **state)
{
  const int64_t d3[2] = {3, 3}, du[2] = {2, 3}, dr[2] = {1, 5}, di[2] = {1, 2};
  const float zero[9] = {0}, upd[6] = {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f};
  const int64_t idx[6] = {1, 0, 2, 0, 2, 1};
  const double want[9] = {2.0, 1.1, 0.0, 1.0, 0.0, 2.2, 0.0, 2.1, 1.2};
  const float row[5] = {1, 2, 3, 4, 5}, u2[2] = {1.1f, 2.1f};
  const int32_t dup[2] = {1, -4};     /* both address column 1 */
  const double add[5] = {1, 5.2, 3, 4, 5}, mul[5] = {1, 2 * 1.1 * 2.1, 3, 4, 5}, mx[5] = {1, 2.1, 3, 4, 5},
               mn[5] = {1, 1.1, 3, 4, 5};
  const char *reds[4] = {"add", "mul", "max", "min"};
  const double *wants[4] = {add, mul, mx, mn};
  const char *ops[2] = {"ScatterElements", "Scatter"};
  float y[9];
  ir_tensor *in[3];
  ir_node *n;
  const void *ins[3];
  void *outs[1] = {y};
  int k;
  (void)state;
  /* the ONNX doc's example (axis 0), through both names */
  in[0] = ot_input(G, "z", IR_F32, 2, d3);
  in[1] = ot_input(G, "i", IR_I64, 2, du);
  in[2] = ot_input(G, "u", IR_F32, 2, du);
  for (k = 0; k < 2; k++) {
    n = node(ops[k], 3, in, 1);
    assert_int_equal(ot_prepare(G, n), 0);
    ot_expect_shape(n->out[0], 2, d3);
    ins[0] = zero;
    ins[1] = idx;
    ins[2] = upd;
    assert_int_equal(ot_interp(n, ins, outs), 0);
    ot_expect_floats(y, want, 9);
  }
  /* duplicate indices with each reduction along axis 1 (negative axis) */
  in[0] = ot_input(G, "row", IR_F32, 2, dr);
  in[1] = ot_input(G, "dup", IR_I32, 2, di);
  in[2] = ot_input(G, "u2", IR_F32, 2, di);
  for (k = 0; k < 4; k++) {
    n = node("ScatterElements", 3, in, 1);
    ir_attr_set_int(n, "axis", -1);
    ir_attr_set_string(n, "reduction", reds[k]);
    assert_int_equal(ot_prepare(G, n), 0);
    ins[0] = row;
    ins[1] = dup;
    ins[2] = u2;
    assert_int_equal(ot_interp(n, ins, outs), 0);
    ot_expect_floats(y, wants[k], 5);
  }
}

static void test_scatter_elements_int_and_errors(void **state)
{
  const int64_t d[1] = {4}, d2 = 2, d3 = 3;
  const int32_t x[4] = {10, 20, 30, 40}, u[2] = {7, -3}, want[4] = {10, 27, 30, 37};
  const int64_t idx[2] = {1, 3}, bad[2] = {4, 0};
  int32_t y[4];
  ir_tensor *in[3];
  ir_node *n;
  const void *ins[3] = {x, idx, u};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "x", IR_I32, 1, d);
  in[1] = ot_input(G, "i", IR_I64, 1, &d2);
  in[2] = ot_input(G, "u", IR_I32, 1, &d2);
  n = node("ScatterElements", 3, in, 1);
  ir_attr_set_string(n, "reduction", "add");
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(y, want, sizeof want);
  /* an unknown reduction */
  n = node("ScatterElements", 3, in, 1);
  ir_attr_set_string(n, "reduction", "avg");
  assert_int_equal(ot_prepare(G, n), -1);
  assert_non_null(strstr(ir_last_error(), "avg"));
  /* Scatter has no reduction attribute */
  n = node("Scatter", 3, in, 1);
  ir_attr_set_string(n, "reduction", "add");
  assert_int_equal(ot_prepare(G, n), -1);
  /* updates of another shape / dtype */
  in[2] = ot_input(G, "u3", IR_I32, 1, &d3);
  assert_int_equal(ot_prepare(G, node("ScatterElements", 3, in, 1)), -1);
  in[2] = ot_input(G, "uf", IR_F32, 1, &d2);
  assert_int_equal(ot_prepare(G, node("ScatterElements", 3, in, 1)), -1);
  /* a reduction on bool */
  in[0] = ot_input(G, "b", IR_BOOL, 1, d);
  in[2] = ot_input(G, "ub", IR_BOOL, 1, &d2);
  n = node("ScatterElements", 3, in, 1);
  ir_attr_set_string(n, "reduction", "mul");
  assert_int_equal(ot_prepare(G, n), -1);
  /* out-of-range indices: constant at compile time, runtime in the interpreter */
  in[0] = ot_input(G, "x2", IR_I32, 1, d);
  in[1] = ot_const_raw(G, "ci", IR_I64, 1, &d2, bad);
  in[2] = ot_input(G, "u4", IR_I32, 1, &d2);
  assert_int_equal(ot_prepare(G, node("ScatterElements", 3, in, 1)), -1);
  in[1] = ot_input(G, "ri", IR_I64, 1, &d2);
  n = node("ScatterElements", 3, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ins[1] = bad;
  assert_int_equal(ot_interp(n, ins, outs), -1);
}

/* ---- GatherND / ScatterND ------------------------------------------------------ */

static void test_gather_nd(void **state)
{
  const int64_t d22[2] = {2, 2}, d21[2] = {2, 1}, d222[3] = {2, 2, 2}, two = 2;
  const int32_t x[4] = {0, 1, 2, 3}, x8[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const int64_t pairs[4] = {0, 0, 1, 1}, rows[2] = {1, -2}, brows[2] = {1, 0};
  const int32_t want_p[2] = {0, 3}, want_r[4] = {2, 3, 0, 1}, want_b[4] = {2, 3, 4, 5};
  int32_t y[4];
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2];
  void *outs[1] = {y};
  (void)state;
  /* the ONNX doc's examples 1, 2 and 5 (batch_dims 1) */
  in[0] = ot_input(G, "x", IR_I32, 2, d22);
  in[1] = ot_input(G, "p", IR_I64, 2, d22);
  n = node("GatherND", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, &two);
  ins[0] = x;
  ins[1] = pairs;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(y, want_p, sizeof want_p);
  in[1] = ot_input(G, "r", IR_I64, 2, d21);
  n = node("GatherND", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, d22);
  ins[1] = rows;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(y, want_r, sizeof want_r);
  in[0] = ot_input(G, "x8", IR_I32, 3, d222);
  in[1] = ot_input(G, "b", IR_I64, 2, d21);
  n = node("GatherND", 2, in, 1);
  ir_attr_set_int(n, "batch_dims", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, d22);
  ins[0] = x8;
  ins[1] = brows;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(y, want_b, sizeof want_b);
}

static void test_gather_nd_errors(void **state)
{
  const int64_t d22[2] = {2, 2}, d13[2] = {1, 3}, d32[2] = {3, 2};
  const int64_t bad[2] = {0, 2};
  ir_tensor *in[2];
  ir_node *n;
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d22);
  /* tuples longer than the rank */
  in[1] = ot_input(G, "t3", IR_I64, 2, d13);
  assert_int_equal(ot_prepare(G, node("GatherND", 2, in, 1)), -1);
  /* batch_dims not below the ranks */
  in[1] = ot_input(G, "t2", IR_I64, 2, d22);
  n = node("GatherND", 2, in, 1);
  ir_attr_set_int(n, "batch_dims", 2);
  assert_int_equal(ot_prepare(G, n), -1);
  n = node("GatherND", 2, in, 1);
  ir_attr_set_int(n, "batch_dims", -1);
  assert_int_equal(ot_prepare(G, n), -1);
  /* batch dimensions that differ */
  in[1] = ot_input(G, "t32", IR_I64, 2, d32);
  n = node("GatherND", 2, in, 1);
  ir_attr_set_int(n, "batch_dims", 1);
  assert_int_equal(ot_prepare(G, n), -1);
  /* a constant tuple out of range */
  in[1] = ot_const_raw(G, "c", IR_I64, 2, (const int64_t[]){1, 2}, bad);
  assert_int_equal(ot_prepare(G, node("GatherND", 2, in, 1)), -1);
}

static void test_scatter_nd(void **state)
{
  const int64_t d8 = 8, d41[2] = {4, 1}, d4 = 4, d11[2] = {1, 1}, d1 = 1, d22[2] = {2, 2};
  const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, u[4] = {9, 10, 11, 12}, u1[1] = {5};
  const int64_t idx[4] = {4, 3, 1, 7}, one[1] = {-8};
  const double want[8] = {1, 11, 3, 10, 9, 6, 7, 12}, want_add[8] = {6, 2, 3, 4, 5, 6, 7, 8},
               want_mul[8] = {5, 2, 3, 4, 5, 6, 7, 8};
  const float x4[4] = {1, 2, 3, 4}, u4[2] = {10, 20};
  const int64_t i4[4] = {1, 1, 0, 1};
  float y[8];
  ir_tensor *in[3];
  ir_node *n;
  const void *ins[3];
  void *outs[1] = {y};
  (void)state;
  /* the ONNX doc's example 1 */
  in[0] = ot_input(G, "x", IR_F32, 1, &d8);
  in[1] = ot_input(G, "i", IR_I64, 2, d41);
  in[2] = ot_input(G, "u", IR_F32, 1, &d4);
  n = node("ScatterND", 3, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, &d8);
  ins[0] = x;
  ins[1] = idx;
  ins[2] = u;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want, 8);
  /* add / mul of one element at a negative index */
  in[1] = ot_input(G, "i1", IR_I64, 2, d11);
  in[2] = ot_input(G, "u1", IR_F32, 1, &d1);
  n = node("ScatterND", 3, in, 1);
  ir_attr_set_string(n, "reduction", "add");
  assert_int_equal(ot_prepare(G, n), 0);
  ins[1] = one;
  ins[2] = u1;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want_add, 8);
  n = node("ScatterND", 3, in, 1);
  ir_attr_set_string(n, "reduction", "mul");
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want_mul, 8);
  /* 2-d data, 3-d indices of full tuples, duplicates accumulate */
  in[0] = ot_input(G, "x4", IR_F32, 2, d22);
  in[1] = ot_input(G, "i4", IR_I64, 3, (const int64_t[]){2, 1, 2});
  in[2] = ot_input(G, "u4", IR_F32, 2, (const int64_t[]){2, 1});
  n = node("ScatterND", 3, in, 1);
  ir_attr_set_string(n, "reduction", "add");
  assert_int_equal(ot_prepare(G, n), 0);
  ins[0] = x4;
  ins[1] = i4;
  ins[2] = u4;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  {
    const double w[4] = {1, 22, 3, 14};   /* tuples (1,1) += 10 and (0,1) += 20 */
    ot_expect_floats(y, w, 4);
  }
  /* errors: updates of the wrong shape, an unknown reduction */
  in[2] = ot_input(G, "ub", IR_F32, 1, &d4);
  assert_int_equal(ot_prepare(G, node("ScatterND", 3, in, 1)), -1);
  in[2] = ot_input(G, "u5", IR_F32, 2, (const int64_t[]){2, 1});
  n = node("ScatterND", 3, in, 1);
  ir_attr_set_string(n, "reduction", "sub");
  assert_int_equal(ot_prepare(G, n), -1);
}

/* ---- losses -------------------------------------------------------------------- */

static ir_node *loss_node(const char *op, ir_tensor *x, ir_tensor *t, ir_tensor *w, const char *red, int ii, int nout)
{
  ir_tensor *in[3] = {x, t, w};
  ir_node *n = node(op, w ? 3 : 2, in, nout);
  if (red) ir_attr_set_string(n, "reduction", red);
  if (ii != -100) ir_attr_set_int(n, "ignore_index", ii);
  return n;
}

static void test_nll(void **state)
{
  const int64_t dx[2] = {2, 3}, dt = 2, dw = 3;
  const float x[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f}, w[3] = {0.5f, 1, 2};
  const int64_t t[2] = {2, 0};
  const double none[2] = {3, 0.5}, sum[1] = {3.5}, mean[1] = {1.75}, wmean[1] = {6.25 / 2.5}, iimean[1] = {0.5},
               wnone[2] = {6, 0.25};
  ir_tensor *X, *T, *W;
  ir_node *n;
  float y[2];
  const void *ins[3] = {x, t, w};
  void *outs[1] = {y};
  (void)state;
  X = ot_input(G, "x", IR_F32, 2, dx);
  T = ot_input(G, "t", IR_I64, 1, &dt);
  W = ot_input(G, "w", IR_F32, 1, &dw);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "none", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, &dt);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, none, 2);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "sum", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(n->out[0]->rank, 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, sum, 1);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, NULL, -100, 1);   /* mean is the default */
  assert_int_equal(ot_prepare(G, n), 0);
  assert_string_equal(ir_attr_string(n, "reduction", ""), "mean");
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, mean, 1);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, W, "none", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, wnone, 2);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, W, "mean", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, wmean, 1);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "mean", 2, 1);    /* target 2 ignored */
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, iimean, 1);
}

static void test_nll_nd_and_errors(void **state)
{
  /* input (1, 2, 2): classes along axis 1, two positions */
  const int64_t dx[3] = {1, 2, 2}, dt[2] = {1, 2}, dt3[2] = {1, 3}, dw = 3, d2 = 2;
  const double x[4] = {-1, -2, -3, -4};   /* x[0][c][d] = x[c*2 + d] */
  const int64_t t[2] = {1, 0}, bad[2] = {2, 0}, neg[2] = {-1, 0};
  const double want[2] = {3, 2};
  double y[2];
  ir_tensor *X, *T;
  ir_node *n;
  const void *ins[2] = {x, t};
  void *outs[1] = {y};
  (void)state;
  X = ot_input(G, "x", IR_F64, 3, dx);
  T = ot_input(G, "t", IR_I32, 2, dt);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "none", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, dt);
  {
    const int32_t t32[2] = {1, 0};
    ins[1] = t32;
    assert_int_equal(ot_interp(n, ins, outs), 0);
  }
  assert_true(fabs(y[0] - want[0]) < 1e-12 && fabs(y[1] - want[1]) < 1e-12);
  /* a runtime target out of range is an interpreter error; ignore_index -1 lets -1 through */
  T = ot_input(G, "t64", IR_I64, 2, dt);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "sum", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ins[1] = bad;
  assert_int_equal(ot_interp(n, ins, outs), -1);
  ins[1] = neg;
  assert_int_equal(ot_interp(n, ins, outs), -1);
  n = loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "sum", -1, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_true(fabs(y[0] - 2) < 1e-12);   /* only position 1, class 0: -x[0][0][1] = 2 */
  /* compile time: constant targets out of range, bad reduction, shapes, dtypes */
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", X, ot_const_raw(G, "c", IR_I64, 2, dt, bad), NULL, "sum", -100, 1)), -1);
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", X, T, NULL, "max", -100, 1)), -1);
  assert_non_null(strstr(ir_last_error(), "max"));
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", X, ot_input(G, "t3", IR_I64, 2, dt3), NULL, "sum", -100, 1)), -1);
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", X, ot_input(G, "tf", IR_F32, 2, dt), NULL, "sum", -100, 1)), -1);
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", X, T, ot_input(G, "w3", IR_F64, 1, &dw), "sum", -100, 1)), -1);
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", X, T, ot_input(G, "wf", IR_F32, 1, &d2), "sum", -100, 1)), -1);
  assert_int_equal(ot_prepare(G, loss_node("NegativeLogLikelihoodLoss", ot_input(G, "xi", IR_I32, 3, dx), T, NULL, "sum", -100, 1)), -1);
}

static void test_sce(void **state)
{
  /* scores [0, ln 3]: log_softmax = [-ln 4, ln 3 - ln 4] */
  const int64_t dx[2] = {1, 2}, dt = 1;
  const float x[2] = {0, (float)1.0986122886681098};
  const int64_t t[1] = {1};
  const double lp[2] = {-1.3862943611198906, -0.2876820724517809}, loss[1] = {0.2876820724517809};
  float y[1], p[2];
  ir_tensor *X, *T;
  ir_node *n;
  const void *ins[2] = {x, t};
  void *outs[2] = {y, p};
  (void)state;
  X = ot_input(G, "x", IR_F32, 2, dx);
  T = ot_input(G, "t", IR_I64, 1, &dt);
  n = loss_node("SoftmaxCrossEntropyLoss", X, T, NULL, "none", -100, 2);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, &dt);
  ot_expect_shape(n->out[1], 2, dx);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, loss, 1);
  ot_expect_floats(p, lp, 2);
  /* mean over the one position, log_prob not asked for */
  n = loss_node("SoftmaxCrossEntropyLoss", X, T, NULL, "mean", -100, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, loss, 1);
  /* everything ignored: mean is 0/0 */
  n = loss_node("SoftmaxCrossEntropyLoss", X, T, NULL, "mean", 1, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_true(isnan(y[0]));
  assert_int_equal(ot_prepare(G, loss_node("SoftmaxCrossEntropyLoss", ot_input(G, "x1", IR_F32, 1, dx), T, NULL, "sum", -100, 1)), -1);
}

/* ---- emitted C on the same cases ------------------------------------------------ */

static ir_node *graph_node(const char *op, int nin, ir_tensor **in, const char *out_name)
{
  ir_tensor *o = ir_add_tensor(G, out_name, IR_UNDEF, IR_ACTIVATION);
  ir_node *n = ir_add_node(G, op, out_name);
  ir_node_set_io(n, nin, in, 1, &o);
  ir_graph_add_output(G, o);
  return n;
}

/* One graph with every op on the cases above; its outputs are compared
 * with the hand-worked values (not with the interpreter). */
static void test_emit(void **state)
{
  char dir[] = "/tmp/modelc_index_XXXXXX", path[512], cmd[2048];
  const int64_t d3[2] = {3, 3}, du[2] = {2, 3}, d22[2] = {2, 2}, d21[2] = {2, 1}, dl[2] = {2, 3}, dt = 2, dw = 3;
  ir_tensor *z, *i, *u, *x, *rows, *lx, *lt, *lw, *in[3];
  ir_node *n;
  pass_options po;
  emit_options eo;
  static const char *main_c =
    "#include <stdio.h>\n#include <stdint.h>\n#include <math.h>\n#include \"idx.h\"\n"
    "static int near(double a, double b) { return fabs(a - b) < 1e-5; }\n"
    "int main(void) {\n"
    "  static const float z[9] = {0}, u[6] = {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f};\n"
    "  static const int64_t i[6] = {1, 0, 2, 0, 2, 1};\n"
    "  static const int32_t x[4] = {0, 1, 2, 3};\n"
    "  static const int64_t rows[2] = {1, -2};\n"
    "  static const float lx[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f}, lw[3] = {0.5f, 1, 2};\n"
    "  static const int64_t lt[2] = {2, 0};\n"
    "  static const double want_s[9] = {2.0, 1.1, 0.0, 1.0, 0.0, 2.2, 0.0, 2.1, 1.2};\n"
    "  static const double want_g[6] = {1.0, 1.1, 1.2, 2.0, 2.1, 2.2};\n"
    "  static const int32_t want_nd[4] = {2, 3, 0, 1};\n"
    "  float s[9], g[6], l[1], sce[2];\n  int32_t nd[4], snd[4];\n  int k, bad = 0;\n"
    "  if (idx_infer(z, i, u, x, rows, lx, lt, lw, s, g, nd, snd, l, sce, NULL)) return 1;\n"
    "  for (k = 0; k < 9; k++) bad |= !near(s[k], want_s[k]);\n"
    "  for (k = 0; k < 6; k++) bad |= !near(g[k], want_g[k]);\n"
    "  for (k = 0; k < 4; k++) bad |= nd[k] != want_nd[k];\n"
    /* ScatterND of the gathered rows {2,3},{0,1} to rows 1 and -2 gives x back */
    "  for (k = 0; k < 4; k++) bad |= snd[k] != x[k];\n"
    "  bad |= !near(l[0], 6.25 / 2.5);\n"
    /* SCE sum without weights over scores lx: -(logp[0][2] + logp[1][0]) */
    "  bad |= !near(sce[0], -(-3 - log(exp(-1.0) + exp(-2.0) + exp(-3.0)))) || !near(sce[1], -(-0.5 - log(exp(-0.5) + exp(-1.5) + exp(-2.5))));\n"
    "  if (bad) { for (k = 0; k < 9; k++) printf(\"%g \", s[k]); printf(\"\\n\"); }\n"
    "  return bad;\n}\n";
  (void)state;
  z = ot_input(G, "z", IR_F32, 2, d3);
  i = ot_input(G, "i", IR_I64, 2, du);
  u = ot_input(G, "u", IR_F32, 2, du);
  x = ot_input(G, "x", IR_I32, 2, d22);
  rows = ot_input(G, "rows", IR_I64, 2, d21);
  lx = ot_input(G, "lx", IR_F32, 2, dl);
  lt = ot_input(G, "lt", IR_I64, 1, &dt);
  lw = ot_input(G, "lw", IR_F32, 1, &dw);
  in[0] = z; in[1] = i; in[2] = u;
  graph_node("ScatterElements", 3, in, "s");
  /* gathering the scattered positions back gives the updates */
  in[0] = ir_find_tensor(G, "s"); in[1] = i;
  graph_node("GatherElements", 2, in, "g");
  in[0] = x; in[1] = rows;
  graph_node("GatherND", 2, in, "nd");
  /* scatter the gathered rows to the row they came from: gives x back */
  in[0] = ir_find_tensor(G, "nd"); in[1] = rows; in[2] = ir_find_tensor(G, "nd");
  graph_node("ScatterND", 3, in, "snd");
  in[0] = lx; in[1] = lt; in[2] = lw;
  graph_node("NegativeLogLikelihoodLoss", 3, in, "l");
  n = graph_node("SoftmaxCrossEntropyLoss", 2, in, "sce");
  ir_attr_set_string(n, "reduction", "none");
  pass_options_default(&po);
  if (pass_infer(G, &po) < 0 || pass_plan(G) < 0) fail_msg("passes: %s", ir_last_error());
  ot_need_compilers();
  assert_non_null(mkdtemp(dir));
  memset(&eo, 0, sizeof eo);
  eo.name = "idx";
  if (emit_c(G, &eo, dir) < 0) fail_msg("emit: %s", ir_last_error());
  snprintf(path, sizeof path, "%s/main.c", dir);
  assert_int_equal(ot_write_file(path, main_c), 0);
  {
    const char *compilers[] = {"cc", "clang"};
    size_t k;
    for (k = 0; k < 2; k++) {
      snprintf(cmd, sizeof cmd,
               "cd %s && %s -std=c99 -Wall -Wextra -Werror -pedantic -O2 -o idx_test idx.c idx_weights.c main.c -lm "
               "&& ./idx_test", dir, compilers[k]);
      if (system(cmd) != 0) fail_msg("%s: the generated code did not build, or gave wrong values (%s)", compilers[k], dir);
    }
  }
  if (getenv("KEEP_INDEX_TEST")) return;
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) print_message("could not remove %s\n", dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_gather_elements, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gather_elements_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_scatter_elements, setup, teardown),
    cmocka_unit_test_setup_teardown(test_scatter_elements_int_and_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gather_nd, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gather_nd_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_scatter_nd, setup, teardown),
    cmocka_unit_test_setup_teardown(test_nll, setup, teardown),
    cmocka_unit_test_setup_teardown(test_nll_nd_and_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sce, setup, teardown),
    cmocka_unit_test_setup_teardown(test_emit, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
