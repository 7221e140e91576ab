/*
 * test_ops_rnn.c - the recurrent entries (ops_rnn.c): validation errors,
 * shape inference for both layouts and directions, and the reference
 * kernel on one step with known weights.  Expected values are computed by
 * hand (RNN) or with numpy offline from the ONNX equations (GRU both ways
 * of linear_before_reset, LSTM with peepholes, with and without clip), and
 * pasted here.  The emitted C is checked against the interpreter by
 * `modelc test-onnx` on the ONNX node tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "runtime/interp.h"
#include "optest.h"

/* A node named n0 reading in[] (NULL: missing) and writing n_out outputs. */
static ir_node *node(ir_graph *g, const char *op, int n_in, ir_tensor *const *in, int n_out) {
  return ot_node_named(g, "n0", op, 14, n_in, in, n_out, (const char *const[]){"Y", "Y_h", "Y_c"});
}

static void run(const ir_node *n, const double *const *in, double **out) {
  interp_ctx c;
  memset(&c, 0, sizeof c);
  void *o[3] = {NULL, NULL, NULL};
  const void *ins[8] = {NULL};
  for (int j = 0; j < n->n_out; j++) o[j] = out[j] = calloc((size_t)ir_numel(n->out[j]) + 1, sizeof(double));
  for (int i = 0; i < n->n_in; i++) ins[i] = in[i];
  if (interp_node(&c, n, ins, o) < 0) fail_msg("interp: %s", ir_last_error());
}

static void expect_error(const char *needle) { ot_expect_error(needle, "n0"); }

/* The weights of the numpy computation: W[k] = 0.1 k - 0.7, R rows reversed
 * from 0.05 k - 0.35, B[k] = 0.05 k - 0.4. */
static const double Wv[16] = {-0.7, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0,
                              0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
static const double Rv[16] = {0.35, 0.4, 0.25, 0.3, 0.15, 0.2, 0.05, 0.1,
                              -0.05, 0.0, -0.15, -0.1, -0.25, -0.2, -0.35, -0.3};
static double Bv[16];
static const double xv[2] = {0.5, -1.0}, h0v[2] = {0.3, -0.2}, c0v[2] = {0.1, 0.4};
static const double Pv[6] = {0.2, -0.1, 0.3, 0.05, -0.25, 0.15};

static void fill_bias(void) {
  for (int k = 0; k < 16; k++) Bv[k] = 0.05 * k - 0.4;
}

/* ---- RNN: one step by hand ---------------------------------------------- */

static void test_rnn_one_step(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t xd[] = {1, 1, 2}, wd[] = {1, 2, 2}, bd[] = {1, 4};
  ir_tensor *in[] = {ot_tensor(g, "X", IR_F64, 3, xd), ot_tensor(g, "W", IR_F64, 3, wd), ot_tensor(g, "R", IR_F64, 3, wd),
                     ot_tensor(g, "B", IR_F64, 2, bd)};
  ir_node *n = node(g, "RNN", 4, in, 2);
  assert_int_equal(ot_prepare(g, n), 0);
  assert_int_equal(n->out[0]->rank, 4);
  assert_int_equal(ir_attr_int(n, "hidden_size", 0), 2);   /* taken from W */
  static const double X[] = {1, 2}, W[] = {0.5, -0.25, 0.1, 0.2}, R[] = {9, 9, 9, 9}, B[] = {0.1, 0, 0, -0.3};
  const double *ins[] = {X, W, R, B};
  double *out[3];
  run(n, ins, out);
  /* h = tanh(W x + Wb + Rb) with h0 = 0: tanh(0.1), tanh(0.2) */
  static const double want[] = {0.099667994624955819, 0.19737532022490401};
  ot_expect_rel(out[0], want, 2, 1e-14);
  ot_expect_rel(out[1], want, 2, 1e-14);
  free(out[0]);
  free(out[1]);
  ir_graph_free(g);
}

/* ---- GRU: one step against numpy -------------------------------------------- */

static void test_gru_one_step(void **state) {
  (void)state;
  fill_bias();
  for (int lbr = 0; lbr <= 1; lbr++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {1, 1, 2}, wd[] = {1, 6, 2}, bd[] = {1, 12}, hd[] = {1, 1, 2};
    ir_tensor *in[] = {ot_tensor(g, "X", IR_F64, 3, xd), ot_tensor(g, "W", IR_F64, 3, wd), ot_tensor(g, "R", IR_F64, 3, wd),
                       ot_tensor(g, "B", IR_F64, 2, bd), NULL, ot_tensor(g, "h0", IR_F64, 3, hd)};
    ir_node *n = node(g, "GRU", 6, in, 2);
    ir_attr_set_int(n, "hidden_size", 2);
    ir_attr_set_int(n, "linear_before_reset", lbr);
    assert_int_equal(ot_prepare(g, n), 0);
    const double *ins[] = {xv, Wv, Rv, Bv, NULL, h0v};
    double *out[3];
    run(n, ins, out);
    static const double want[2][2] = {{-0.006418905106265416, -0.23085862343337554},
                                      {-0.03520607160189482, -0.273894159639933}};
    ot_expect_rel(out[0], want[lbr], 2, 1e-12);
    ot_expect_rel(out[1], want[lbr], 2, 1e-12);
    free(out[0]);
    free(out[1]);
    ir_graph_free(g);
  }
}

/* ---- LSTM: one step with peepholes, with and without clip ------------------ */

static void test_lstm_one_step(void **state) {
  (void)state;
  fill_bias();
  for (int clip = 0; clip <= 1; clip++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd[] = {1, 1, 2}, wd[] = {1, 8, 2}, bd[] = {1, 16}, hd[] = {1, 1, 2}, pd[] = {1, 6}, sd[] = {1};
    ir_tensor *in[] = {ot_tensor(g, "X", IR_F64, 3, xd), ot_tensor(g, "W", IR_F64, 3, wd), ot_tensor(g, "R", IR_F64, 3, wd),
                       ot_tensor(g, "B", IR_F64, 2, bd), ot_tensor(g, "lens", IR_I32, 1, sd), ot_tensor(g, "h0", IR_F64, 3, hd),
                       ot_tensor(g, "c0", IR_F64, 3, hd), ot_tensor(g, "P", IR_F64, 2, pd)};
    ir_node *n = node(g, "LSTM", 8, in, 3);
    if (clip) ir_attr_set_float(n, "clip", 0.1);
    assert_int_equal(ot_prepare(g, n), 0);
    int32_t lens[] = {1};
    const double *ins[] = {xv, Wv, Rv, Bv, (const double *)(const void *)lens, h0v, c0v, Pv};
    double *out[3];
    run(n, ins, out);
    static const double wh[2][2] = {{-0.019062050330875695, 0.04639422772789272},
                                    {7.491527664247183e-05, 0.06731229628127544}};
    static const double wc[2][2] = {{-0.04139755048780879, 0.1006332591245448},
                                    {0.00015770946301485456, 0.14266395321933287}};
    ot_expect_rel(out[0], wh[clip], 2, 1e-12);
    ot_expect_rel(out[1], wh[clip], 2, 1e-12);
    ot_expect_rel(out[2], wc[clip], 2, 1e-12);
    for (int j = 0; j < 3; j++) free(out[j]);
    ir_graph_free(g);
  }
}

/* ---- sequence_lens, reverse, layout 1 ---------------------------------------- */

/* RNN with identity-like weights and Affine(1, 0): h_t = x_t + h_{t-1}, so
 * Y holds running sums, by hand.  Batch 0 has length 3, batch 1 length 1. */
static void test_rnn_lens_reverse_layout(void **state) {
  (void)state;
  for (int layout = 0; layout <= 1; layout++) {
    ir_graph *g = ir_graph_new("t", NULL);
    int64_t xd0[] = {3, 2, 1}, xd1[] = {2, 3, 1}, wd[] = {2, 1, 1}, sd[] = {2};
    ir_tensor *in[] = {ot_tensor(g, "X", IR_F64, 3, layout ? xd1 : xd0), ot_tensor(g, "W", IR_F64, 3, wd),
                       ot_tensor(g, "R", IR_F64, 3, wd), NULL, ot_tensor(g, "lens", IR_I32, 1, sd)};
    ir_node *n = node(g, "RNN", 5, in, 2);
    ir_attr_set_string(n, "direction", "bidirectional");
    ir_attr_set_int(n, "layout", layout);
    const char *acts[] = {"Affine", "affine"};   /* names match without regard to case */
    ir_attr *a = ir_attr_add(n, "activations", IR_ATTR_STRINGS);
    a->n = 2;
    a->strings = malloc(2 * sizeof(char *));
    for (int k = 0; k < 2; k++) a->strings[k] = ir_strdup(acts[k]);
    assert_int_equal(ot_prepare(g, n), 0);
    /* x[t][b]: batch 0 = 1, 2, 3; batch 1 = 10 (then padding 20, 30) */
    double X0[] = {1, 10, 2, 20, 3, 30}, X1[] = {1, 2, 3, 10, 20, 30}, W[] = {1, 1}, R[] = {1, 1};
    int32_t lens[] = {3, 1};
    const double *ins[] = {layout ? X1 : X0, W, R, NULL, (const double *)(const void *)lens};
    double *out[3];
    run(n, ins, out);
    /* Y[t][d][b] (layout 0): forward sums 1,3,6 | 10,0,0; reverse sums from the end 6,5,3 | 10,0,0 */
    static const double y0[] = {1, 10, 6, 10, 3, 0, 5, 0, 6, 0, 3, 0};
    /* Y[b][t][d] (layout 1) */
    static const double y1[] = {1, 6, 3, 5, 6, 3, 10, 10, 0, 0, 0, 0};
    ot_expect_rel(out[0], layout ? y1 : y0, 12, 0);
    /* Y_h: forward's last step, reverse's first step */
    static const double h0[] = {6, 10, 6, 10}, h1[] = {6, 6, 10, 10};
    ot_expect_rel(out[1], layout ? h1 : h0, 4, 0);
    free(out[0]);
    free(out[1]);
    ir_graph_free(g);
  }
}

/* ---- validation ----------------------------------------------------------- */

static void test_rnn_errors(void **state) {
  (void)state;
  int64_t xd[] = {1, 1, 2}, wd[] = {1, 2, 2}, bad[] = {1, 3, 2};
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *in[] = {ot_tensor(g, "X", IR_F32, 3, xd), ot_tensor(g, "W", IR_F32, 3, wd), ot_tensor(g, "R", IR_F32, 3, wd),
                     ot_tensor(g, "Wbad", IR_F32, 3, bad)};
  ir_node *n = node(g, "RNN", 3, in, 1);
  ir_attr_set_string(n, "direction", "sideways");
  assert_int_equal(op_validate(n), -1);
  expect_error("direction");
  ir_attr_set_string(n, "direction", "forward");
  ir_attr *a = ir_attr_add(n, "activations", IR_ATTR_STRINGS);
  a->n = 1;
  a->strings = malloc(sizeof(char *));
  a->strings[0] = ir_strdup("Swish");
  assert_int_equal(op_validate(n), -1);
  expect_error("Swish");
  strcpy(a->strings[0], "Tanh");
  assert_int_equal(op_validate(n), 0);
  ir_attr_set_int(n, "hidden_size", 3);   /* W says 2 */
  assert_int_equal(n->op->infer(g, n), -1);
  expect_error("W");
  ir_graph_free(g);

  g = ir_graph_new("t", NULL);
  ir_tensor *in2[] = {ot_tensor(g, "X", IR_F32, 3, xd), ot_tensor(g, "W", IR_F32, 3, wd), ot_tensor(g, "R", IR_F32, 3, wd)};
  n = node(g, "GRU", 3, in2, 1);
  ir_attr_set_string(n, "direction", "bidirectional");
  a = ir_attr_add(n, "activations", IR_ATTR_STRINGS);
  a->n = 3;   /* GRU takes 2 per direction: 2 or 4 */
  a->strings = malloc(3 * sizeof(char *));
  for (int k = 0; k < 3; k++) a->strings[k] = ir_strdup("Tanh");
  assert_int_equal(op_validate(n), -1);
  expect_error("activations");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rnn_one_step),
    cmocka_unit_test(test_gru_one_step),
    cmocka_unit_test(test_lstm_one_step),
    cmocka_unit_test(test_rnn_lens_reverse_layout),
    cmocka_unit_test(test_rnn_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
