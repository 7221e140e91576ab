/*
 * test_ops_shape.c - the shape group (compiler/ops/ops_shape.c): shape
 * inference through the op table, the interpreter kernels
 * (runtime/kernels/interp_shape.c) on hand-built graphs, and the emitted C
 * (compiler/backend/emit_shape.c + kl_copy.c) compiled with cc and compared
 * with the interpreter.
 *
 * Expected values are worked out by hand or taken from numpy (np.pad,
 * np.tile, np.transpose, ... run offline), never from the code under test.
 */
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

/* ---- Reshape, Flatten, Squeeze, Unsqueeze -------------------------------- */

static void test_reshape(void **state)
{
  const int64_t d[3] = {2, 3, 4}, s[2] = {0, -1}, want[2] = {2, 12};
  ir_tensor *in[2];
  ir_node *n;
  float x[24], y[24];
  const void *ins[2];
  void *outs[1] = {y};
  int i;
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 3, d);
  in[1] = ot_const_ints(G, "s", 2, s);
  n = node("Reshape", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, want);
  assert_true(n->op->flags & OP_ALIAS);
  for (i = 0; i < 24; i++) x[i] = (float)i;
  ins[0] = x;
  ins[1] = in[1]->data;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(x, y, sizeof x);
}

static void test_reshape_errors(void **state)
{
  const int64_t d[2] = {2, 3}, bad[2] = {4, 2}, two[2] = {-1, -1}, zero[3] = {0, 0, 0};
  ir_tensor *in[2];
  ir_node *n;
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d);
  in[1] = ot_const_ints(G, "s", 2, bad);
  n = node("Reshape", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), -1);
  assert_non_null(strstr(ir_last_error(), "[2,3]"));
  assert_non_null(strstr(ir_last_error(), "[4,2]"));
  assert_non_null(strstr(ir_last_error(), "Reshape"));
  in[1] = ot_const_ints(G, "s2", 2, two);
  assert_int_equal(ot_prepare(G, node("Reshape", 2, in, 1)), -1);
  in[1] = ot_const_ints(G, "s3", 3, zero);   /* copies dim 2 of a rank-2 input */
  assert_int_equal(ot_prepare(G, node("Reshape", 2, in, 1)), -1);
}

static void test_reshape_allowzero(void **state)
{
  const int64_t d[2] = {0, 3}, s[2] = {3, 0}, w[2] = {3, 0};
  ir_tensor *in[2];
  ir_node *n;
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d);
  in[1] = ot_const_ints(G, "s", 2, s);
  n = node("Reshape", 2, in, 1);
  ir_attr_set_int(n, "allowzero", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w);
}

static void test_flatten_squeeze_unsqueeze(void **state)
{
  const int64_t d[4] = {1, 3, 1, 2}, ax[1] = {-2}, uax[2] = {0, -1}, bad[1] = {1};
  const int64_t w1[2] = {3, 2}, w2[3] = {1, 3, 2}, w3[6] = {1, 1, 3, 1, 2, 1}, w4[2] = {3, 2}, w5[2] = {1, 6};
  ir_tensor *in[2];
  ir_node *n;
  (void)state;
  in[0] = ot_input(G, "x", IR_U8, 4, d);
  n = node("Squeeze", 1, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w1);
  in[1] = ot_const_ints(G, "a", 1, ax);
  n = node("Squeeze", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 3, w2);
  assert_int_equal(n->out[0]->dtype, IR_U8);
  in[1] = ot_const_ints(G, "b", 1, bad);
  assert_int_equal(ot_prepare(G, node("Squeeze", 2, in, 1)), -1);
  in[1] = ot_const_ints(G, "u", 2, uax);
  n = node("Unsqueeze", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 6, w3);
  n = node("Flatten", 1, in, 1);
  ir_attr_set_int(n, "axis", -1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w4);
  n = node("Flatten", 1, in, 1);
  ir_attr_set_int(n, "axis", 0);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w5);
}

/* ---- Transpose, Concat, Split, Slice ------------------------------------- */

static void test_transpose(void **state)
{
  const int64_t d[3] = {2, 3, 4}, perm[3] = {2, 0, 1}, w[3] = {4, 2, 3};
  const double want[24] = {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23};
  ir_tensor *in[1];
  ir_node *n;
  float x[24], y[24];
  const void *ins[1] = {x};
  void *outs[1] = {y};
  int i;
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 3, d);
  n = node("Transpose", 1, in, 1);
  ir_attr_set_ints(n, "perm", 3, perm);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 3, w);
  for (i = 0; i < 24; i++) x[i] = (float)i;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want, 24);
  n = node("Transpose", 1, in, 1);   /* default: reversed */
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(n->out[0]->shape[0], 4);
  assert_int_equal(n->out[0]->shape[2], 2);
}

static void test_concat(void **state)
{
  const int64_t da[2] = {2, 1}, db[2] = {2, 2}, w[2] = {2, 3};
  const int64_t a[2] = {1, 2}, b[4] = {3, 4, 5, 6}, want[6] = {1, 3, 4, 2, 5, 6};
  int64_t y[6];
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2] = {a, b};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "a", IR_I64, 2, da);
  in[1] = ot_input(G, "b", IR_I64, 2, db);
  n = node("Concat", 2, in, 1);
  ir_attr_set_int(n, "axis", -1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, want, 6);
  n = node("Concat", 2, in, 1);   /* axis 0: extents 1 and 2 differ on axis 1 */
  assert_int_equal(ot_prepare(G, n), -1);
}

static void test_split(void **state)
{
  const int64_t d[2] = {2, 7}, sizes[2] = {2, 5}, w0[2] = {2, 2}, w1[2] = {2, 5};
  const int64_t w3a[2] = {2, 3}, w3c[2] = {2, 1};
  int64_t x[14], y0[4], y1[10];
  const int64_t want0[4] = {0, 1, 7, 8}, want1[10] = {2, 3, 4, 5, 6, 9, 10, 11, 12, 13};
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2];
  void *outs[2] = {y0, y1};
  int i;
  (void)state;
  for (i = 0; i < 14; i++) x[i] = i;
  in[0] = ot_input(G, "x", IR_I64, 2, d);
  in[1] = ot_const_ints(G, "s", 2, sizes);
  n = node("Split", 2, in, 2);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w0);
  ot_expect_shape(n->out[1], 2, w1);
  ins[0] = x;
  ins[1] = in[1]->data;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y0, want0, 4);
  ot_expect_i64s(y1, want1, 10);
  /* opset 18 num_outputs: ceil(7/3) = 3, 3, 1 */
  n = node("Split", 1, in, 3);
  ir_attr_set_int(n, "axis", 1);
  ir_attr_set_int(n, "num_outputs", 3);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w3a);
  ot_expect_shape(n->out[1], 2, w3a);
  ot_expect_shape(n->out[2], 2, w3c);
  /* an even split of 7 into 2 is impossible */
  n = node("Split", 1, in, 2);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), -1);
}

static void test_slice(void **state)
{
  const int64_t d1 = 10, st[1] = {-1}, en[1] = {-100}, sp[1] = {-3};
  const int64_t d2[2] = {3, 4}, st2[2] = {0, 1}, en2[2] = {100, 1000}, ax2[2] = {0, 1}, sp2[2] = {2, 1};
  const int64_t w2[2] = {2, 3}, want1[4] = {9, 6, 3, 0}, want2[6] = {1, 2, 3, 9, 10, 11};
  int64_t x[12], y[6];
  ir_tensor *in[5];
  ir_node *n;
  const void *ins[5];
  void *outs[1] = {y};
  int i;
  (void)state;
  for (i = 0; i < 12; i++) x[i] = i;
  /* x[-1:-100:-3] of arange(10): the end clamps to -1 (before the start) */
  in[0] = ot_input(G, "x", IR_I64, 1, &d1);
  in[1] = ot_const_ints(G, "st", 1, st);
  in[2] = ot_const_ints(G, "en", 1, en);
  in[3] = NULL;
  in[4] = ot_const_ints(G, "sp", 1, sp);
  n = node("Slice", 5, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){4});
  for (i = 0; i < 5; i++) ins[i] = in[i] ? (in[i]->data ? in[i]->data : (const void *)x) : NULL;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, want1, 4);
  /* x[0:100:2, 1:1000] of arange(12).reshape(3, 4) */
  in[0] = ot_input(G, "x2", IR_I64, 2, d2);
  in[1] = ot_const_ints(G, "st2", 2, st2);
  in[2] = ot_const_ints(G, "en2", 2, en2);
  in[3] = ot_const_ints(G, "ax2", 2, ax2);
  in[4] = ot_const_ints(G, "sp2", 2, sp2);
  n = node("Slice", 5, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w2);
  ins[0] = x;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, want2, 6);
}

/* ---- Gather ---------------------------------------------------------------- */

static void test_gather(void **state)
{
  const int64_t d[2] = {3, 2}, id[2] = {2, 2}, iv[4] = {0, -1, 1, -3}, w[3] = {2, 2, 2}, w1[2] = {3, 1};
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const double want[8] = {1, 2, 5, 6, 3, 4, 1, 2}, want1[3] = {2, 4, 6};
  const int32_t iv32[1] = {-1}, bad[1] = {2};
  float y[8];
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2];
  void *outs[1] = {y};
  int64_t one = 1;
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d);
  in[1] = ot_const_raw(G, "i", IR_I64, 2, id, iv);
  n = node("Gather", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 3, w);
  ins[0] = x;
  ins[1] = iv;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want, 8);
  /* axis 1, int32 indices */
  in[1] = ot_const_raw(G, "i32", IR_I32, 1, &one, iv32);
  n = node("Gather", 2, in, 1);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, w1);
  ins[1] = iv32;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, want1, 3);
  /* a constant index out of range fails at compile time ... */
  in[1] = ot_const_raw(G, "ib", IR_I32, 1, &one, bad);
  n = node("Gather", 2, in, 1);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), -1);
  /* ... and a runtime one in the interpreter */
  in[1] = ot_input(G, "ir", IR_I32, 1, &one);
  n = node("Gather", 2, in, 1);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ins[1] = bad;
  assert_int_equal(ot_interp(n, ins, outs), -1);
}

/* ---- reductions -------------------------------------------------------------- */

static ir_node *reduce(const char *op, ir_tensor *x, int nax, const int64_t *axes, int keep)
{
  static int k;
  char name[16];
  ir_tensor *in[2];
  ir_node *n;
  in[0] = x;
  in[1] = NULL;
  if (nax >= 0) {
    snprintf(name, sizeof name, "ax%d", k++);
    in[1] = ot_const_ints(G, name, nax, axes);
  }
  n = node(op, nax >= 0 ? 2 : 1, in, 1);
  if (keep >= 0) ir_attr_set_int(n, "keepdims", keep);
  return n;
}

static void test_reduce(void **state)
{
  const int64_t d[2] = {2, 3}, ax1[1] = {1}, ax0[1] = {-2}, ax01[2] = {0, 1};
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const int32_t xi[6] = {3, -7, 2, 9, 0, -1};
  float y[6];
  int32_t yi[3];
  ir_tensor *xt, *xit;
  ir_node *n;
  const void *ins[2] = {x, NULL};
  void *outs[1] = {y};
  (void)state;
  xt = ot_input(G, "x", IR_F32, 2, d);
  xit = ot_input(G, "xi", IR_I32, 2, d);

  n = reduce("ReduceSum", xt, 1, ax1, 1);          /* keepdims=1 */
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){2, 1});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){6, 15}, 2);

  n = reduce("ReduceSum", xt, 1, ax1, 0);          /* keepdims=0 */
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){2});

  n = reduce("ReduceMean", xt, -1, NULL, -1);      /* no axes: all, keepdims default 1 */
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){1, 1});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){3.5}, 1);

  n = reduce("ReduceMean", xt, 0, NULL, 0);        /* empty axes, keepdims 0: a scalar */
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(n->out[0]->rank, 0);

  n = reduce("ReduceMax", xt, -1, NULL, -1);       /* noop_with_empty_axes: identity */
  ir_attr_set_int(n, "noop_with_empty_axes", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, d);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){1, 2, 3, 4, 5, 6}, 6);

  n = reduce("ReduceL2", xt, 1, ax1, 0);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){3.7416574954986572, 8.774964332580566}, 2);

  n = reduce("ReduceLogSumExp", xt, 1, ax0, 0);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){4.048587322235107, 5.048587322235107, 6.048587322235107}, 3);

  n = reduce("ReduceProd", xt, 2, ax01, 0);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){720}, 1);

  n = reduce("ReduceSumSquare", xt, 1, ax0, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){17, 29, 45}, 3);

  n = reduce("ReduceL1", xt, 1, ax1, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){6, 15}, 2);

  /* integers: Max and Min keep the dtype; Mean refuses them */
  ins[0] = xi;
  outs[0] = yi;
  n = reduce("ReduceMax", xit, 1, ax0, 0);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(n->out[0]->dtype, IR_I32);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_int_equal(yi[0], 9);
  assert_int_equal(yi[1], 0);
  assert_int_equal(yi[2], 2);
  n = reduce("ReduceMin", xit, 1, ax1, 0);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_int_equal(yi[0], -7);
  assert_int_equal(yi[1], -1);
  assert_int_equal(ot_prepare(G, reduce("ReduceMean", xit, 1, ax1, 0)), -1);
}

static void test_argmax(void **state)
{
  const int64_t d[2] = {2, 3};
  const float x[6] = {3, 1, 3, 0, 5, 5};
  int64_t y[3];
  ir_tensor *in[1];
  ir_node *n;
  const void *ins[1] = {x};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d);
  n = node("ArgMax", 1, in, 1);
  ir_attr_set_int(n, "axis", 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){2, 1});
  assert_int_equal(n->out[0]->dtype, IR_I64);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, (const int64_t[]){0, 1}, 2);
  ir_attr_set_int(n, "select_last_index", 1);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, (const int64_t[]){2, 2}, 2);
  n = node("ArgMin", 1, in, 1);
  ir_attr_set_int(n, "keepdims", 0);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){3});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, (const int64_t[]){1, 0, 0}, 3);
}

/* ---- Pad, Expand, Tile ----------------------------------------------------- */

static void test_pad(void **state)
{
  const int64_t d[2] = {3, 2}, p1[4] = {0, 2, 0, 0}, p2[4] = {2, 0, 1, 1}, p3[4] = {1, 0, 0, 2};
  const int64_t p4[4] = {-1, 0, 1, 0};
  const float x[6] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}, nine = 9;
  float y[32];
  ir_tensor *in[3];
  ir_node *n;
  const void *ins[3] = {x, NULL, &nine};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 2, d);
  in[1] = ot_const_ints(G, "p1", 4, p1);
  n = node("Pad", 2, in, 1);
  ir_attr_set_string(n, "mode", "reflect");
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){3, 4});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7}, 12);

  in[1] = ot_const_ints(G, "p2", 4, p2);   /* np.pad(d, ((2,1),(0,1)), 'reflect') */
  n = node("Pad", 2, in, 1);
  ir_attr_set_string(n, "mode", "reflect");
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){6, 3});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){4.5, 5.7, 4.5, 2.3, 3.4, 2.3, 1.0, 1.2, 1.0,
                                    2.3, 3.4, 2.3, 4.5, 5.7, 4.5, 2.3, 3.4, 2.3}, 18);

  in[1] = ot_const_ints(G, "p3", 4, p3);   /* np.pad(d, ((1,0),(0,2)), 'edge') */
  n = node("Pad", 2, in, 1);
  ir_attr_set_string(n, "mode", "edge");
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){1.0, 1.2, 1.2, 1.2, 1.0, 1.2, 1.2, 1.2,
                                    2.3, 3.4, 3.4, 3.4, 4.5, 5.7, 5.7, 5.7}, 16);

  in[1] = ot_const_ints(G, "p4", 4, p4);   /* crop the first row, append a row of 9 */
  in[2] = ot_input(G, "v", IR_F32, 0, NULL);
  n = node("Pad", 3, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){3, 2});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(y, (const double[]){2.3, 3.4, 4.5, 5.7, 9, 9}, 6);

  n = node("Pad", 2, in, 1);
  ir_attr_set_string(n, "mode", "mirror");
  assert_int_equal(op_validate(n), -1);
  assert_non_null(strstr(ir_last_error(), "mirror"));
}

static void test_pad_wrap_int(void **state)
{
  /* np.pad(np.arange(3), (2, 3), 'wrap'); numpy differs from a torus only
   * for pads longer than the axis, which the test leaves alone */
  const int64_t d = 3, p[2] = {2, 3};
  const int16_t x[3] = {0, 1, 2};
  int16_t y[8];
  const int16_t want[8] = {1, 2, 0, 1, 2, 0, 1, 2};
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2] = {x, NULL};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "x", IR_I16, 1, &d);
  in[1] = ot_const_ints(G, "p", 2, p);
  n = node("Pad", 2, in, 1);
  ir_attr_set_string(n, "mode", "wrap");
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(y, want, sizeof want);
}

static void test_expand_tile(void **state)
{
  const int64_t d[2] = {3, 1}, s[3] = {2, 1, 2}, dt[2] = {2, 2}, rep[2] = {2, 3};
  const double x[3] = {1, 2, 3};
  const int32_t xt[4] = {1, 2, 3, 4};
  const int32_t want[24] = {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4};
  double y[12];
  int32_t yt[24];
  ir_tensor *in[2];
  ir_node *n;
  const void *ins[2] = {x, NULL};
  void *outs[1] = {y};
  int i;
  (void)state;
  in[0] = ot_input(G, "x", IR_F64, 2, d);
  in[1] = ot_const_ints(G, "s", 3, s);
  n = node("Expand", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 3, (const int64_t[]){2, 3, 2});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  for (i = 0; i < 12; i++) assert_true(y[i] == (double)((i % 6) / 2 + 1));
  in[0] = ot_input(G, "xt", IR_I32, 2, dt);
  in[1] = ot_const_ints(G, "r", 2, rep);
  n = node("Tile", 2, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, (const int64_t[]){4, 6});
  ins[0] = xt;
  outs[0] = yt;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_memory_equal(yt, want, sizeof want);
}

/* ---- Shape, Size, Constant, ConstantOfShape, Range ------------------------- */

static void test_value_ops(void **state)
{
  const int64_t d[3] = {2, 3, 4}, shp[2] = {2, 2};
  const int64_t ints[3] = {7, -8, 9};
  const float rs[3] = {1.5f, 3.0f, 0.5f};
  const int32_t ri[3] = {10, 4, -2};
  int64_t y[4];
  float yf[4];
  int32_t yi[4];
  ir_tensor *in[3];
  ir_node *n;
  const void *ins[3] = {NULL, NULL, NULL};
  void *outs[1] = {y};
  (void)state;
  in[0] = ot_input(G, "x", IR_F32, 3, d);
  n = node("Shape", 1, in, 1);
  ir_attr_set_int(n, "start", -2);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){2});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, (const int64_t[]){3, 4}, 2);
  n = node("Shape", 1, in, 1);
  ir_attr_set_int(n, "end", 100);
  ir_attr_set_int(n, "start", -100);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, d, 3);
  n = node("Size", 1, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(n->out[0]->rank, 0);
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_int_equal(y[0], 24);

  n = node("Constant", 0, NULL, 1);
  ir_attr_set_ints(n, "value_ints", 3, ints);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){3});
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_i64s(y, ints, 3);
  n = node("Constant", 0, NULL, 1);
  ir_attr_set_float(n, "value_float", 2.5);
  assert_int_equal(ot_prepare(G, n), 0);
  assert_int_equal(n->out[0]->dtype, IR_F32);
  outs[0] = yf;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_true(yf[0] == 2.5f);

  in[0] = ot_const_ints(G, "shp", 2, shp);
  n = node("ConstantOfShape", 1, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 2, shp);
  assert_int_equal(n->out[0]->dtype, IR_F32);
  yf[3] = 1;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_true(yf[3] == 0.0f);

  in[0] = ot_const_raw(G, "rs", IR_F32, 0, NULL, &rs[0]);
  in[1] = ot_const_raw(G, "rl", IR_F32, 0, NULL, &rs[1]);
  in[2] = ot_const_raw(G, "rd", IR_F32, 0, NULL, &rs[2]);
  n = node("Range", 3, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){3});
  ins[0] = &rs[0];
  ins[1] = &rs[1];
  ins[2] = &rs[2];
  assert_int_equal(ot_interp(n, ins, outs), 0);
  ot_expect_floats(yf, (const double[]){1.5, 2.0, 2.5}, 3);
  in[0] = ot_const_raw(G, "is", IR_I32, 0, NULL, &ri[0]);
  in[1] = ot_const_raw(G, "il", IR_I32, 0, NULL, &ri[1]);
  in[2] = ot_const_raw(G, "id", IR_I32, 0, NULL, &ri[2]);
  n = node("Range", 3, in, 1);
  assert_int_equal(ot_prepare(G, n), 0);
  ot_expect_shape(n->out[0], 1, (const int64_t[]){3});
  ins[0] = &ri[0];
  ins[1] = &ri[1];
  ins[2] = &ri[2];
  outs[0] = yi;
  assert_int_equal(ot_interp(n, ins, outs), 0);
  assert_int_equal(yi[0], 10);
  assert_int_equal(yi[1], 8);
  assert_int_equal(yi[2], 6);
}


/* ---- emitted C against the interpreter --------------------------------------- */

/* A node reading existing tensors and writing new ones named outs[]. */
static ir_node *op2(const char *op, int nin, ir_tensor **in, int nout, const char *const *outs)
{
  static int count;
  char name[32];
  ir_tensor *o[8];
  ir_node *n;
  int j;
  snprintf(name, sizeof name, "e%d", count++);
  n = ir_add_node(G, op, name);
  for (j = 0; j < nout; j++) o[j] = ir_add_tensor(G, outs[j], IR_UNDEF, IR_ACTIVATION);
  ir_node_set_io(n, nin, in, nout, o);
  return n;
}

#define OUT1(name) ((const char *const[]){name})
#define INTS(name, ...) ot_const_ints(G, name, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__})

static void build_emit_graph(void)
{
  const int64_t dx[3] = {2, 3, 4}, di = 3;
  ir_tensor *x = ot_input(G, "x", IR_F32, 3, dx), *idx = ot_input(G, "idx", IR_I64, 1, &di), *v = ot_input(G, "v", IR_F32, 0, NULL);
  ir_node *n;
  n = op2("Transpose", 1, IN(x), 1, OUT1("t"));
  ir_attr_set_ints(n, "perm", 3, (const int64_t[]){2, 0, 1});
  op2("Slice", 5, IN(n->out[0], INTS("st", 3, -1), INTS("en", -100, 0), INTS("ax", 0, 2), INTS("sp", -2, -1)), 1,
      OUT1("s"));
  op2("Reshape", 2, IN(ir_find_tensor(G, "s"), INTS("shape", 0, -1)), 1, OUT1("r"));
  op2("ReduceMean", 2, IN(x, INTS("rax", 1)), 1, OUT1("rm"));
  ir_attr_set_int(G->nodes[G->n_nodes - 1], "keepdims", 0);
  op2("Concat", 2, IN(ir_find_tensor(G, "r"), ir_find_tensor(G, "rm")), 1, OUT1("c"));
  op2("Pad", 2, IN(ir_find_tensor(G, "c"), INTS("pads", 1, 0, 2, 3)), 1, OUT1("p_reflect"));
  ir_attr_set_string(G->nodes[G->n_nodes - 1], "mode", "reflect");
  op2("Pad", 2, IN(x, INTS("pads2", 0, 1, 0, 0, 1, 2)), 1, OUT1("p_edge"));
  ir_attr_set_string(G->nodes[G->n_nodes - 1], "mode", "edge");
  op2("Pad", 3, IN(x, INTS("pads3", 0, -1, 1, 1, 0, 0), v), 1, OUT1("p_const"));
  n = op2("Gather", 2, IN(x, idx), 1, OUT1("g"));
  ir_attr_set_int(n, "axis", 1);
  op2("Unsqueeze", 2, IN(ir_find_tensor(G, "rm"), INTS("uax", 1)), 1, OUT1("u"));
  op2("Expand", 2, IN(ir_find_tensor(G, "u"), INTS("eshape", 2, 3, 4)), 1, OUT1("ex"));
  op2("Tile", 2, IN(ir_find_tensor(G, "c"), INTS("reps", 2, 1)), 1, OUT1("tile"));
  n = op2("ReduceMax", 2, IN(x, INTS("max_ax", 0, 2)), 1, OUT1("rmax"));
  n = op2("ReduceLogSumExp", 2, IN(x, INTS("lse_ax", -1)), 1, OUT1("lse"));
  n = op2("ReduceL2", 1, IN(x), 1, OUT1("l2"));
  ir_attr_set_int(n, "keepdims", 0);
  n = op2("ReduceSumSquare", 2, IN(x, INTS("ssq_ax", 0)), 1, OUT1("ssq"));
  n = op2("ArgMax", 1, IN(x), 1, OUT1("am"));
  ir_attr_set_int(n, "axis", 2);
  ir_attr_set_int(n, "keepdims", 0);
  ir_attr_set_int(n, "select_last_index", 1);
  n = op2("ArgMin", 1, IN(x), 1, OUT1("amin"));
  ir_attr_set_int(n, "axis", 1);
  n = op2("Split", 2, IN(x, INTS("ssz", 1, 3)), 2, (const char *const[]){"sp0", "sp1"});
  ir_attr_set_int(n, "axis", 2);
  n = op2("Flatten", 1, IN(ir_find_tensor(G, "sp1")), 1, OUT1("fl"));
  ir_attr_set_int(n, "axis", 2);
  op2("Squeeze", 1, IN(ir_find_tensor(G, "rmax")), 1, OUT1("sq"));
  {
    const char *outs[] = {"c", "p_reflect", "p_edge", "p_const", "g", "ex", "tile", "sq", "lse",
                          "l2", "ssq", "am", "amin", "sp0", "fl"};
    size_t k;
    for (k = 0; k < sizeof outs / sizeof outs[0]; k++) ir_graph_add_output(G, ir_find_tensor(G, outs[k]));
  }
}

static void test_emit_matches_interp(void **state)
{
  char dir[] = "/tmp/modelc_shape_XXXXXX", path[512], cmd[2048], *main_c;
  float x[24], v = -3.5f;
  int64_t idx[3] = {2, -1, 0};
  const void *ins[3] = {x, idx, &v};
  interp_ctx ic;
  pass_options po;
  emit_options eo;
  size_t cap = 1 << 16, used = 0;
  FILE *f;
  int i, j;
  (void)state;
  ot_need_compilers();   /* before anything is allocated: a skip leaks nothing */
  for (i = 0; i < 24; i++) x[i] = (float)((i * 7) % 11) * 0.5f - 2.0f + (float)i * 0.01f;
  build_emit_graph();
  pass_options_default(&po);
  if (pass_infer(G, &po) < 0 || pass_plan(G) < 0) fail_msg("passes: %s", ir_last_error());
  if (interp_run(&ic, G, ins) < 0) fail_msg("interp: %s", ir_last_error());
  assert_non_null(mkdtemp(dir));
  memset(&eo, 0, sizeof eo);
  eo.name = "shp";
  if (emit_c(G, &eo, dir) < 0) fail_msg("emit: %s", ir_last_error());

  /* a main that runs shp_infer on the same inputs and dumps every output */
  main_c = malloc(cap);
  used += (size_t)snprintf(main_c + used, cap - used,
                           "#include <stdio.h>\n#include <stdint.h>\n#include \"shp.h\"\n"
                           "int main(int argc, char **argv) {\n  static const float x[24] = {");
  for (i = 0; i < 24; i++) used += (size_t)snprintf(main_c + used, cap - used, "%a, ", (double)x[i]);
  used += (size_t)snprintf(main_c + used, cap - used, "};\n  static const int64_t idx[3] = {2, -1, 0};\n"
                                                      "  static const float v = %a;\n", (double)v);
  for (j = 0; j < G->n_outputs; j++)
    used += (size_t)snprintf(main_c + used, cap - used, "  static %s o%d[%lld];\n", ir_dtype_ctype(G->outputs[j]->dtype),
                             j, (long long)ir_numel(G->outputs[j]));
  used += (size_t)snprintf(main_c + used, cap - used, "  FILE *f;\n  (void)argc;\n  if (shp_infer(x, idx, &v");
  for (j = 0; j < G->n_outputs; j++) used += (size_t)snprintf(main_c + used, cap - used, ", o%d", j);
  used += (size_t)snprintf(main_c + used, cap - used, ", NULL)) return 1;\n  f = fopen(argv[1], \"wb\");\n");
  for (j = 0; j < G->n_outputs; j++)
    used += (size_t)snprintf(main_c + used, cap - used, "  fwrite(o%d, 1, sizeof o%d, f);\n", j, j);
  snprintf(main_c + used, cap - used, "  return fclose(f) != 0;\n}\n");
  snprintf(path, sizeof path, "%s/main.c", dir);
  assert_int_equal(ot_write_file(path, main_c), 0);
  free(main_c);

  {
    const char *compilers[] = {"cc", "clang"};
    size_t k;
    for (k = 0; k < 2; k++) {
      const char *cc = compilers[k];
      char *got, *want;
      long total = 0;
      snprintf(cmd, sizeof cmd,
               "cd %s && %s -std=c99 -Wall -Wextra -Werror -pedantic -O2 -o shp_test shp.c shp_weights.c main.c -lm "
               "&& ./shp_test out.bin", dir, cc);
      if (system(cmd) != 0) fail_msg("%s: the generated code did not build or run (%s)", cc, dir);
      snprintf(path, sizeof path, "%s/out.bin", dir);
      f = fopen(path, "rb");
      assert_non_null(f);
      for (j = 0; j < G->n_outputs; j++) total += (long)ir_nbytes(G->outputs[j]);
      got = malloc((size_t)total);
      assert_int_equal(fread(got, 1, (size_t)total, f), (size_t)total);
      fclose(f);
      want = got;
      for (j = 0; j < G->n_outputs; j++) {
        const ir_tensor *t = G->outputs[j];
        const unsigned char *ref = interp_value(&ic, t);
        int64_t e, m = ir_numel(t);
        assert_non_null(ref);
        for (e = 0; e < m; e++) {
          if (t->dtype == IR_F32) {
            float a, b;
            memcpy(&a, want + e * 4, 4);
            memcpy(&b, ref + e * 4, 4);
            if (!(a - b <= 1e-5f * (1 + (b < 0 ? -b : b)) && b - a <= 1e-5f * (1 + (b < 0 ? -b : b))))
              fail_msg("%s: output '%s' element %lld: C %.9g, interpreter %.9g", cc, t->name, (long long)e, a, b);
          } else if (memcmp(want + e * 8, ref + e * 8, 8)) {
            fail_msg("%s: output '%s' element %lld differs", cc, t->name, (long long)e);
          }
        }
        want += ir_nbytes(t);
      }
      free(got);
    }
  }
  if (getenv("KEEP_SHAPE_TEST")) return;
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) print_message("could not remove %s\n", dir);
  interp_free(&ic);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reshape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reshape_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reshape_allowzero, setup, teardown),
      cmocka_unit_test_setup_teardown(test_flatten_squeeze_unsqueeze, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transpose, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concat, setup, teardown),
      cmocka_unit_test_setup_teardown(test_split, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gather, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reduce, setup, teardown),
      cmocka_unit_test_setup_teardown(test_argmax, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pad, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pad_wrap_int, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expand_tile, setup, teardown),
      cmocka_unit_test_setup_teardown(test_value_ops, setup, teardown),
      cmocka_unit_test_setup_teardown(test_emit_matches_interp, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
