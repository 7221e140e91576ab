/*
 * test_ops_train.c - the optimizer ops of ai.onnx.preview.training
 * (compiler/ops/ops_train.c): validation errors through the op table, and
 * each op as a one-node graph run by the interpreter
 * (runtime/kernels/interp_train.c) and as emitted C
 * (compiler/backend/emit_train.c, compiled with strict flags, under
 * clang's sanitizers when clang is present), both checked against values
 * computed offline with numpy from the spec's pseudo code.
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

#include "compiler/backend/emit.h"
#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/plan.h"
#include "runtime/interp.h"
#include "runtime/kernels/kutil.h"
#include "optest.h"

#define DOMAIN "ai.onnx.preview.training"

/* cc with -g, then clang under the sanitizers when present. */
static const ot_cc_opts CC = {"test_ops_train", NULL, "-g", 1, 0, NULL};

/* Graph: R (float32 scalar), T (int64 scalar), then n_vec float64 [2]
 * inputs; one node of `op` with n_out outputs. */
static ir_node *build(ir_graph *g, const char *op, int n_vec, int n_out) {
  ir_tensor *in[12], *out[8];
  int64_t two = 2;
  char name[32];
  in[0] = ir_add_tensor(g, "R", IR_F32, IR_INPUT);
  in[1] = ir_add_tensor(g, "T", IR_I64, IR_INPUT);
  ir_set_shape(in[0], 0, NULL);
  ir_set_shape(in[1], 0, NULL);
  for (int i = 0; i < n_vec; i++) {
    snprintf(name, sizeof name, "in%d", i);
    in[2 + i] = ir_add_tensor(g, name, IR_F64, IR_INPUT);
    ir_set_shape(in[2 + i], 1, &two);
  }
  for (int i = 0; i < 2 + n_vec; i++) ir_graph_add_input(g, in[i]);
  ir_node *n = ir_add_node(g, op, "opt");
  for (int j = 0; j < n_out; j++) {
    snprintf(name, sizeof name, "out%d", j);
    out[j] = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ir_node_set_io(n, 2 + n_vec, in, n_out, out);
  free(n->domain);
  n->domain = ir_strdup(DOMAIN);
  n->opset = 1;
  return n;
}

static void near(const char *who, const ir_node *n, int j, int k, double got, double want) {
  if (!(fabs(got - want) <= 1e-9 * (1 + fabs(want))))
    fail_msg("%s %s: output %d[%d] = %.12g, want %.12g", n->op_type, who, j, k, got, want);
}

/* Run the graph through the interpreter and the compiled C; output j
 * (two values each) must match want[2j], want[2j+1]. */
static void check(ir_graph *g, ir_node *n, float r, int64_t t, const double *vecs, const double *want) {
  void *inputs[12];
  interp_ctx c;
  ot_ok(g, n);
  inputs[0] = &r;
  inputs[1] = &t;
  for (int i = 2; i < n->n_in; i++) inputs[i] = (void *)(vecs + 2 * (i - 2));
  for (int j = 0; j < n->n_out; j++) ir_graph_add_output(g, n->out[j]);
  assert_int_equal(ir_graph_toposort(g), 0);
  if (interp_run(&c, g, (const void *const *)inputs) < 0) fail_msg("interp: %s", ir_last_error());
  for (int j = 0; j < n->n_out; j++) {
    const double *y = interp_value(&c, n->out[j]);
    for (int k = 0; k < 2; k++) near("interp", n, j, k, y[k], want[2 * j + k]);
  }
  interp_free(&c);

  ot_need_compilers();   /* the interpreter half passed; the C half cannot run without cc and clang */
  char dir[64];
  ot_emit_tmp(g, CC.tag, dir);
  ot_write_driver(g, dir, inputs);
  ot_build_run(dir, &CC);
  for (int j = 0; j < n->n_out; j++) {
    double *y = ot_read_output(g, dir, j);
    for (int k = 0; k < 2; k++) near("C", n, j, k, y[k], want[2 * j + k]);
    free(y);
  }
  ot_cleanup(dir, NULL);
}

/* Every case: x = [1, -2], g = [0.5, 1], then the state tensors; R = 0.5. */
static void test_adagrad(void **state) {
  static const double vecs[] = {1, -2, 0.5, 1, 1, 0};
  static const double want[] = {0.8393578259567112, -2.3121098626716603, 1.36, 0.64};
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *n = build(g, "Adagrad", 3, 2);
  ir_attr_set_float(n, "decay_factor", 0.2);
  ir_attr_set_float(n, "norm_coefficient", 0.1);
  ir_attr_set_float(n, "epsilon", 1e-3);
  check(g, n, 0.5f, 3, vecs, want);
  ir_graph_free(g);
}

static void test_adam(void **state) {
  static const double vecs[] = {1, -2, 0.5, 1, 0.2, -0.1, 0.3, 0.4};
  static const double want[] = {0.7956509019847938, -1.8944413528956416, 0.24, -0.01, 0.3006, 0.4024};
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *n = build(g, "Adam", 4, 3);
  ir_attr_set_float(n, "alpha", 0.9);
  ir_attr_set_float(n, "beta", 0.99);
  ir_attr_set_float(n, "epsilon", 1e-4);
  ir_attr_set_float(n, "norm_coefficient", 0.1);
  ir_attr_set_float(n, "norm_coefficient_post", 0.05);
  check(g, n, 0.5f, 2, vecs, want);   /* T > 0: the bias-corrected rate */
  ir_graph_free(g);
}

static ir_node *momentum(ir_graph *g, const char *mode) {
  ir_node *n = build(g, "Momentum", 3, 2);
  ir_attr_set_float(n, "alpha", 0.9);
  ir_attr_set_float(n, "beta", 0.5);
  ir_attr_set_float(n, "norm_coefficient", 0.1);
  ir_attr_set_string(n, "mode", mode);
  return n;
}

static void test_momentum(void **state) {
  static const double vecs[] = {1, -2, 0.5, 1, 0.2, -0.1};
  static const double want1[] = {0.76, -2.155, 0.48, 0.31};
  static const double want0[] = {0.61, -2.355, 0.78, 0.71};   /* T = 0: beta taken as 1 */
  static const double wantn[] = {0.484, -2.5395, 0.48, 0.31};
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  check(g, momentum(g, "standard"), 0.5f, 1, vecs, want1);
  ir_graph_free(g);
  g = ir_graph_new("t", NULL);
  check(g, momentum(g, "standard"), 0.5f, 0, vecs, want0);
  ir_graph_free(g);
  g = ir_graph_new("t", NULL);
  check(g, momentum(g, "nesterov"), 0.5f, 1, vecs, wantn);
  ir_graph_free(g);
}

/* One case in a fresh graph (build() names its tensors R, T, in0...). */
static void fails(const char *op, int n_vec, int n_out, const char *mode, int bad_shape, const char *what) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_node *n = mode ? momentum(g, mode) : build(g, op, n_vec, n_out);
  if (bad_shape) g->inputs[3]->shape[0] = 3;   /* G's shape differs from X's */
  ot_fails(g, n, what);
  ir_graph_free(g);
}

static void test_errors(void **state) {
  (void)state;
  fails("Adagrad", 4, 2, NULL, 0, "inputs per optimized tensor");
  fails("Adam", 8, 3, NULL, 0, "so it has 6 outputs, got 3");
  fails("Momentum", 3, 2, NULL, 0, "attribute 'alpha' is required");
  fails("Momentum", 3, 2, "heavy", 0, "mode 'heavy' is not supported");
  fails("Adagrad", 3, 2, NULL, 1, "must have the dtype and shape of");
}

/* ---- ai.modelc SGD and AdamW: the C against the interpreter (which
 * tests/unit/test_train.c checks against torch.optim) ---- */

/* One ai.modelc node on float32 [5] inputs (and AdamW's int64 T = 3). */
static void torch_opt_case(const char *op, int n_vec, int n_out, const char *const *keys, const double *vals,
                           int n_attr) {
  ir_graph *g = ir_graph_new("t", NULL);
  ir_tensor *in[6], *out[3];
  int64_t five = 5, t = 3;
  float v[5][5];
  void *inputs[6];
  char name[32];
  for (int i = 0; i < n_vec + (n_vec == 4); i++) {
    snprintf(name, sizeof name, "in%d", i);
    in[i] = ir_add_tensor(g, name, i < n_vec ? IR_F32 : IR_I64, IR_INPUT);
    ir_set_shape(in[i], i < n_vec ? 1 : 0, &five);
    ir_graph_add_input(g, in[i]);
    for (int e = 0; e < 5 && i < n_vec; e++) v[i][e] = (float)(0.37 * (e + 1) * (i % 2 ? -1 : 1) + 0.1 * i);
    inputs[i] = i < n_vec ? (void *)v[i] : (void *)&t;
  }
  for (int e = 0; e < 5 && n_vec == 4; e++) v[3][e] = (float)fabs(v[3][e]);   /* a second moment is >= 0 */
  for (int j = 0; j < n_out; j++) {
    snprintf(name, sizeof name, "out%d", j);
    out[j] = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ir_node *n = ir_add_node(g, op, "opt");
  ir_node_set_io(n, n_vec + (n_vec == 4), in, n_out, out);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  n->opset = 1;
  for (int k = 0; k < n_attr; k++) {
    if (!strcmp(keys[k], "nesterov") || !strcmp(keys[k], "decoupled")) ir_attr_set_int(n, keys[k], (int64_t)vals[k]);
    else ir_attr_set_float(n, keys[k], vals[k]);
  }
  ot_ok(g, n);
  for (int j = 0; j < n_out; j++) ir_graph_add_output(g, out[j]);
  assert_int_equal(ir_graph_toposort(g), 0);
  interp_ctx c;
  if (interp_run(&c, g, (const void *const *)inputs) < 0) fail_msg("interp: %s", ir_last_error());
  ot_need_compilers();
  char dir[64];
  ot_emit_tmp(g, CC.tag, dir);
  ot_write_driver(g, dir, inputs);
  ot_build_run(dir, &CC);
  for (int j = 0; j < n_out; j++) {
    float *y = ot_read_output(g, dir, j);
    const float *w = interp_value(&c, out[j]);
    for (int e = 0; e < 5; e++)
      if (!(fabs(y[e] - w[e]) <= 1e-6 * (1 + fabs(w[e]))))
        fail_msg("%s output %d[%d]: C %.9g, interpreter %.9g", op, j, e, y[e], w[e]);
    free(y);
  }
  interp_free(&c);
  ot_cleanup(dir, NULL);
  ir_graph_free(g);
}

static void test_torch_sgd(void **state) {
  static const char *const k[] = {"lr", "momentum", "nesterov", "weight_decay"};
  (void)state;
  torch_opt_case("SGD", 2, 1, k, D(0.1, 0, 0, 0.01), 4);
  torch_opt_case("SGD", 3, 2, k, D(0.1, 0.9, 0, 0.01), 4);
  torch_opt_case("SGD", 3, 2, k, D(0.1, 0.9, 1, 0.01), 4);
}

static void test_torch_adamw(void **state) {
  static const char *const k[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "decoupled"};
  (void)state;
  torch_opt_case("AdamW", 4, 3, k, D(0.01, 0.8, 0.99, 1e-6, 0.1, 0), 6);
  torch_opt_case("AdamW", 4, 3, k, D(0.01, 0.9, 0.999, 1e-8, 0.01, 1), 6);
}

/* SGD takes its momentum buffer exactly when momentum is not 0. */
static void test_torch_errors(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t two = 2;
  ir_tensor *x = ir_add_tensor(g, "x", IR_F32, IR_INPUT), *y = ir_add_tensor(g, "y", IR_UNDEF, IR_ACTIVATION);
  ir_set_shape(x, 1, &two);
  ir_tensor *in[2] = {x, x};
  ir_node *n = ir_add_node(g, "SGD", "sgd");
  ir_node_set_io(n, 2, in, 1, &y);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  ot_fails(g, n, "'lr' is required");
  ir_attr_set_float(n, "lr", 0.1);
  ir_attr_set_float(n, "momentum", 0.9);
  ot_fails(g, n, "momentum buffer");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_adagrad), cmocka_unit_test(test_adam), cmocka_unit_test(test_momentum),
    cmocka_unit_test(test_errors), cmocka_unit_test(test_torch_sgd), cmocka_unit_test(test_torch_adamw),
    cmocka_unit_test(test_torch_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
