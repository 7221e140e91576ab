/*
 * test_ops_control.c - If, Loop and Scan (ops_control.c, the predication in
 * passes/infer.c, the unrolling in passes/unroll.c, the interpreter's
 * kernel and driver).  Graphs are built by hand; expected values are worked
 * out by hand in the comments.  The emitted C of predicated Ifs and unrolled
 * loops is checked by `modelc test-onnx` (node tests test_if, test_loop11,
 * test_scan*_sum and the silero VAD model).
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
#include "compiler/passes/passes.h"
#include "runtime/interp.h"
#include "optest.h"

static ir_tensor *cf32(ir_graph *g, const char *name, float v) {
  ir_tensor *t = ot_tensor_as(g, name, IR_F32, 0, NULL, IR_CONST);
  ir_tensor_set_data(t, &v, sizeof v);
  return t;
}

static ir_node *binop(ir_graph *g, const char *op, const char *name, ir_tensor *a, ir_tensor *b, ir_tensor *y) {
  ir_tensor *in[] = {a, b};
  ir_node *n = ir_add_node(g, op, name);
  ir_node_set_io(n, 2, in, 1, &y);
  n->opset = 14;
  return n;
}

/* Branch graph of g: out = x OP k, with outer x read by pointer; out has `len` elements. */
static ir_graph *branch(ir_graph *g, const char *name, const char *op, ir_tensor *x, float k, int64_t len) {
  ir_graph *b = ir_graph_new(name, g);
  ir_tensor *y = ot_tensor_as(b, "out", IR_F32, 1, &len, IR_ACTIVATION);
  y->rank = -1;   /* left to inference */
  binop(b, op, name, x, cf32(b, "k", k), y);
  ir_graph_add_output(b, y);
  return b;
}

/* inputs cond (bool scalar), x [3]; y = If(cond) then x + 1 else x * 2 (else out of else_len elements) */
static ir_graph *if_graph(int64_t else_len) {
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t d3 = 3;
  ir_tensor *cond = ot_tensor_as(g, "cond", IR_BOOL, 0, NULL, IR_INPUT), *x = ot_tensor_as(g, "x", IR_F32, 1, &d3, IR_INPUT);
  ir_graph_add_input(g, cond);
  ir_graph_add_input(g, x);
  ir_tensor *y = ir_add_tensor(g, "y", IR_UNDEF, IR_ACTIVATION);
  ir_node *n = ir_add_node(g, "If", "n0");
  ir_node_set_io(n, 1, &cond, 1, &y);
  n->opset = 13;
  ir_attr_add(n, "then_branch", IR_ATTR_GRAPH)->g = branch(g, "then", "Add", x, 1.0f, 3);
  ir_tensor *xe = x;
  if (else_len != 3) {   /* a branch of another shape: reads a constant of else_len elements */
    xe = ot_tensor_as(g, "xe", IR_F32, 1, &else_len, IR_CONST);
    float *v = calloc((size_t)else_len, sizeof(float));
    ir_tensor_set_data(xe, v, sizeof(float) * (size_t)else_len);
    free(v);
  }
  ir_attr_add(n, "else_branch", IR_ATTR_GRAPH)->g = branch(g, "else", "Mul", xe, 2.0f, else_len);
  ir_graph_add_output(g, y);
  assert_int_equal(ir_graph_toposort(g), 0);
  for (int a = 0; a < n->n_attr; a++) {
    ir_graph *b = n->attrs[a].g;
    for (int i = 0; i < b->n_nodes; i++) assert_int_equal(op_validate(b->nodes[i]), 0);
  }
  assert_int_equal(op_validate(n), 0);
  return g;
}

static void run_if(ir_graph *g, int cond, const float *want) {
  unsigned char c = (unsigned char)cond;
  float x[] = {1.0f, -2.0f, 0.5f};
  const void *in[] = {&c, x};
  interp_ctx ic;
  if (interp_run(&ic, g, in) < 0) fail_msg("interp: %s", ir_last_error());
  const float *y = interp_value(&ic, g->outputs[0]);
  assert_non_null(y);
  for (int i = 0; i < 3; i++)
    if (y[i] != want[i]) fail_msg("cond %d, element %d: got %g, expected %g", cond, i, y[i], want[i]);
  interp_free(&ic);
}

static const float want_then[] = {2.0f, -1.0f, 1.5f}, want_else[] = {2.0f, -4.0f, 1.0f};

/* An If still holding its branches: the interpreter runs the taken one. */
static void test_if_interp_branches(void **state) {
  (void)state;
  ir_graph *g = if_graph(3);
  ir_node *n = g->nodes[0];
  pass_options o;
  pass_options_default(&o);
  for (int a = 0; a < n->n_attr; a++) assert_int_equal(pass_infer(n->attrs[a].g, &o), 0);
  int64_t d3 = 3;
  ir_set_shape(n->out[0], 1, &d3);
  n->out[0]->dtype = IR_F32;
  run_if(g, 1, want_then);
  run_if(g, 0, want_else);
  ir_graph_free(g);
}

/* Inference predicates a runtime If: both branches' nodes move into the
 * graph with guards, the If becomes a select. */
static void test_if_predicated(void **state) {
  (void)state;
  ir_graph *g = if_graph(3);
  pass_options o;
  pass_options_default(&o);
  assert_int_equal(pass_infer(g, &o), 0);
  assert_int_equal(g->n_nodes, 3);   /* Add (then), Mul (else), the select */
  const ir_attr *ga = ir_attr_find(g->nodes[0], "_guard"), *gb = ir_attr_find(g->nodes[1], "_guard");
  assert_non_null(ga);
  assert_non_null(gb);
  assert_string_equal(ga->strings[0], "+cond");
  assert_string_equal(gb->strings[0], "-cond");
  assert_int_equal(ir_attr_int(g->nodes[2], "_select", 0), 1);
  assert_int_equal(g->outputs[0]->rank, 1);
  run_if(g, 1, want_then);
  run_if(g, 0, want_else);
  ir_graph_free(g);
}

/* Branches of different shapes cannot be emitted with a runtime condition. */
static void test_if_shape_mismatch(void **state) {
  (void)state;
  ir_graph *g = if_graph(4);
  pass_options o;
  pass_options_default(&o);
  assert_int_equal(pass_infer(g, &o), -1);
  const char *msg = ir_last_error();
  if (!strstr(msg, "n0") || !strstr(msg, "--const cond")) fail_msg("unexpected error '%s'", msg);
  ir_graph_free(g);
}

/* A constant condition still splices the taken branch: no select remains. */
static void test_if_constant(void **state) {
  (void)state;
  ir_graph *g = if_graph(3);
  unsigned char no = 0;
  ir_tensor_set_data(g->inputs[0], &no, 1);
  pass_options o;
  pass_options_default(&o);
  assert_int_equal(pass_infer(g, &o), 0);
  for (int i = 0; i < g->n_nodes; i++) assert_string_not_equal(g->nodes[i]->op_type, "If");
  run_if(g, 0, want_else);
  ir_graph_free(g);
}

/* Loop M=3 over v (carried, [2]): v' = v + iter, scan output v'.
 * v0 = (1, 5): v = (1,5) -> (1,5) -> (2,6) -> (4,8); scans (1,5), (2,6), (4,8). */
static void test_loop_unrolled(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("t", NULL);
  int64_t d2 = 2, three = 3;
  ir_tensor *v0 = ot_tensor_as(g, "v0", IR_F32, 1, &d2, IR_INPUT);
  ir_graph_add_input(g, v0);
  ir_tensor *m = ot_tensor_as(g, "M", IR_I64, 0, NULL, IR_CONST);
  ir_tensor_set_data(m, &three, sizeof three);
  ir_tensor *vn = ir_add_tensor(g, "vN", IR_UNDEF, IR_ACTIVATION), *sc = ir_add_tensor(g, "scans", IR_UNDEF, IR_ACTIVATION);
  ir_node *n = ir_add_node(g, "Loop", "n0");
  ir_tensor *in[] = {m, NULL, v0}, *out[] = {vn, sc};
  ir_node_set_io(n, 3, in, 2, out);
  n->opset = 13;
  ir_graph *b = ir_graph_new("body", g);
  ir_tensor *it = ot_tensor_as(b, "i", IR_I64, 0, NULL, IR_INPUT), *ci = ot_tensor_as(b, "c", IR_BOOL, 0, NULL, IR_INPUT);
  ir_tensor *vi = ot_tensor_as(b, "v", IR_F32, 1, &d2, IR_INPUT);
  ir_graph_add_input(b, it);
  ir_graph_add_input(b, ci);
  ir_graph_add_input(b, vi);
  ir_tensor *fi = ir_add_tensor(b, "fi", IR_UNDEF, IR_ACTIVATION), *vo = ir_add_tensor(b, "vo", IR_UNDEF, IR_ACTIVATION);
  ir_tensor *so = ir_add_tensor(b, "so", IR_UNDEF, IR_ACTIVATION), *co = ir_add_tensor(b, "co", IR_UNDEF, IR_ACTIVATION);
  ir_node *cast = ir_add_node(b, "Cast", "cast");
  ir_node_set_io(cast, 1, &it, 1, &fi);
  cast->opset = 13;
  ir_attr_set_int(cast, "to", 1);
  binop(b, "Add", "add", vi, fi, vo);
  ir_node *id1 = ir_add_node(b, "Identity", "id1"), *id2 = ir_add_node(b, "Identity", "id2");
  ir_node_set_io(id1, 1, &vo, 1, &so);
  ir_node_set_io(id2, 1, &ci, 1, &co);
  id1->opset = id2->opset = 13;
  ir_graph_add_output(b, co);
  ir_graph_add_output(b, vo);
  ir_graph_add_output(b, so);
  for (int i = 0; i < b->n_nodes; i++) assert_int_equal(op_validate(b->nodes[i]), 0);
  ir_attr_add(n, "body", IR_ATTR_GRAPH)->g = b;
  assert_int_equal(op_validate(n), 0);
  ir_graph_add_output(g, vn);
  ir_graph_add_output(g, sc);
  pass_options o;
  pass_options_default(&o);
  if (pass_infer(g, &o) < 0) fail_msg("infer: %s", ir_last_error());
  for (int i = 0; i < g->n_nodes; i++) assert_string_not_equal(g->nodes[i]->op_type, "Loop");
  assert_int_equal(sc->rank, 2);
  assert_int_equal(sc->shape[0], 3);
  assert_int_equal(sc->shape[1], 2);
  float x[] = {1.0f, 5.0f};
  const void *ins[] = {x};
  interp_ctx ic;
  if (interp_run(&ic, g, ins) < 0) fail_msg("interp: %s", ir_last_error());
  const float *yv = interp_value(&ic, vn), *ys = interp_value(&ic, sc);
  static const float wv[] = {4, 8}, ws[] = {1, 5, 2, 6, 4, 8};
  for (int i = 0; i < 2; i++) assert_true(yv[i] == wv[i]);
  for (int i = 0; i < 6; i++) assert_true(ys[i] == ws[i]);
  interp_free(&ic);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_if_interp_branches),
    cmocka_unit_test(test_if_predicated),
    cmocka_unit_test(test_if_shape_mismatch),
    cmocka_unit_test(test_if_constant),
    cmocka_unit_test(test_loop_unrolled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
