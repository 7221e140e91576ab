/*
 * test_autodiff.c - reverse-mode gradients (passes/autodiff.c and the
 * builders of compiler/ops/grad_*.c), checked against central finite
 * differences of the same forward graph in the interpreter.
 *
 * Each case builds y = f(a, b) with broadcasting, adds ONNX's Gradient
 * node (xs = [a, b]), runs the pass pipeline (which expands Gradient into
 * ordinary nodes) and the interpreter, and compares dsum(y)/da, dsum(y)/db
 * with (L(x+h) - L(x-h)) / 2h evaluated on the forward outputs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/passes.h"
#include "runtime/interp.h"
#include "optest.h"

typedef struct graph_case {
  ir_graph *g;
  ir_tensor *a, *b, *y, *da, *db;
} graph_case;

static ir_tensor *add_node(ir_graph *g, const char *op, ir_tensor *x, ir_tensor *z) {
  char name[64];
  snprintf(name, sizeof name, "t%d", g->n_tensors);
  ir_tensor *out = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  ir_tensor *in[2] = {x, z};
  ir_node *n = ir_add_node(g, op, NULL);
  n->opset = 13;
  ir_node_set_io(n, z ? 2 : 1, in, 1, &out);
  assert_int_equal(op_validate(n), 0);
  return out;
}

static ir_tensor *scalar(ir_graph *g, double v) {
  char name[64];
  snprintf(name, sizeof name, "c%d", g->n_tensors);
  ir_tensor *t = ir_add_tensor(g, name, IR_F64, IR_CONST);
  ir_set_shape(t, 0, NULL);
  ir_tensor_set_data(t, &v, sizeof v);
  return t;
}

/* The forward body of each case: y from a [2,3] and b [3]. */
typedef ir_tensor *(*body_fn)(ir_graph *g, ir_tensor *a, ir_tensor *b);

static ir_tensor *body_arith(ir_graph *g, ir_tensor *a, ir_tensor *b) {
  ir_tensor *s = add_node(g, "Add", a, b);                 /* broadcast over rows */
  ir_tensor *m = add_node(g, "Mul", s, a);                  /* a used twice: sums */
  ir_tensor *d = add_node(g, "Div", m, add_node(g, "Add", b, scalar(g, 3.0)));
  return add_node(g, "Sub", add_node(g, "Neg", d, NULL), add_node(g, "Identity", b, NULL));
}

static ir_tensor *body_act(ir_graph *g, ir_tensor *a, ir_tensor *b) {
  ir_tensor *h = add_node(g, "Sigmoid", add_node(g, "Mul", a, b), NULL);
  ir_tensor *r = add_node(g, "Relu", add_node(g, "Sub", a, b), NULL);
  return add_node(g, "Tanh", add_node(g, "Add", h, r), NULL);
}

static void build(graph_case *c, body_fn body, int with_gradient) {
  int64_t da[2] = {2, 3}, db[1] = {3};
  c->g = ir_graph_new("g", NULL);
  c->a = ir_add_tensor(c->g, "a", IR_F64, IR_INPUT);
  ir_set_shape(c->a, 2, da);
  ir_graph_add_input(c->g, c->a);
  c->b = ir_add_tensor(c->g, "b", IR_F64, IR_INPUT);
  ir_set_shape(c->b, 1, db);
  ir_graph_add_input(c->g, c->b);
  c->y = body(c->g, c->a, c->b);
  ir_graph_add_output(c->g, c->y);
  c->da = c->db = NULL;
  if (!with_gradient) return;
  c->da = ir_add_tensor(c->g, "da", IR_UNDEF, IR_ACTIVATION);
  c->db = ir_add_tensor(c->g, "db", IR_UNDEF, IR_ACTIVATION);
  ir_tensor *in[2] = {c->a, c->b}, *out[2] = {c->da, c->db};
  ot_gradient(c->g, c->y, 2, in, out);
  ir_graph_add_output(c->g, c->da);
  ir_graph_add_output(c->g, c->db);
}

static double loss(body_fn body, const double *a, const double *b) {
  graph_case c;
  build(&c, body, 0);
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  if (pass_run_all(c.g, &o) < 0) fail_msg("%s", ir_last_error());
  const void *in[2] = {a, b};
  interp_ctx ic;
  if (interp_run(&ic, c.g, in) < 0) fail_msg("%s", ir_last_error());
  const double *y = interp_value(&ic, c.y);
  double s = 0;
  for (int64_t i = 0; i < ir_numel(c.y); i++) s += y[i];
  interp_free(&ic);
  ir_graph_free(c.g);
  return s;
}

static void check_case(body_fn body) {
  double a[6] = {0.3, -1.2, 0.8, 1.5, -0.4, 0.05}, b[3] = {0.7, -0.9, 0.25};
  graph_case c;
  build(&c, body, 1);
  pass_options o;
  pass_options_default(&o);
  if (pass_run_all(c.g, &o) < 0) fail_msg("%s", ir_last_error());
  const void *in[2] = {a, b};
  interp_ctx ic;
  if (interp_run(&ic, c.g, in) < 0) fail_msg("%s", ir_last_error());
  assert_int_equal(c.da->rank, 2);
  assert_int_equal(c.db->rank, 1);
  const double *ga = interp_value(&ic, c.da), *gb = interp_value(&ic, c.db);
  const double h = 1e-6;
  for (int k = 0; k < 9; k++) {
    double *x = k < 6 ? &a[k] : &b[k - 6], keep = *x;
    *x = keep + h;
    double up = loss(body, a, b);
    *x = keep - h;
    double down = loss(body, a, b);
    *x = keep;
    double fd = (up - down) / (2 * h), got = k < 6 ? ga[k] : gb[k - 6];
    if (fabs(got - fd) > 1e-6 * (1 + fabs(fd)))
      fail_msg("d/d%s[%d]: autodiff %.12g, finite differences %.12g", k < 6 ? "a" : "b", k < 6 ? k : k - 6, got, fd);
  }
  interp_free(&ic);
  ir_graph_free(c.g);
}

static void test_arithmetic_with_broadcast(void **state) {
  (void)state;
  check_case(body_arith);
}

static void test_activations(void **state) {
  (void)state;
  check_case(body_act);
}

/* An op without a builder on the path is an error naming it. */
static ir_tensor *body_floor(ir_graph *g, ir_tensor *a, ir_tensor *b) {
  return add_node(g, "Floor", add_node(g, "Add", a, b), NULL);
}

static void test_missing_builder_is_named(void **state) {
  (void)state;
  graph_case c;
  build(&c, body_floor, 1);
  pass_options o;
  pass_options_default(&o);
  assert_int_equal(pass_run_all(c.g, &o), -1);
  assert_non_null(strstr(ir_last_error(), "Floor"));
  assert_non_null(strstr(ir_last_error(), "gradient"));
  ir_graph_free(c.g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_arithmetic_with_broadcast),
    cmocka_unit_test(test_activations),
    cmocka_unit_test(test_missing_builder_is_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
