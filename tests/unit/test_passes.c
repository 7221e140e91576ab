/*
 * test_passes.c - the IR core and the pass pipeline: topological sorting and
 * its errors, shape inference with constant propagation (the Shape ->
 * Gather -> Concat -> Reshape chains exporters write), splicing an If whose
 * condition is constant, dead-node elimination, and the interpreter driver.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/passes.h"
#include "runtime/interp.h"

static ir_tensor *input(ir_graph *g, const char *name, int rank, const int64_t *dims) {
  ir_tensor *t = ir_add_tensor(g, name, IR_F32, IR_INPUT);
  ir_set_shape(t, rank, dims);
  ir_graph_add_input(g, t);
  return t;
}

static ir_tensor *const_i64(ir_graph *g, const char *name, int n, const int64_t *v) {
  ir_tensor *t = ir_add_tensor(g, name, IR_I64, IR_CONST);
  int64_t d = n;
  ir_set_shape(t, 1, &d);
  ir_tensor_set_data(t, v, (size_t)n * sizeof *v);
  return t;
}

static ir_node *node(ir_graph *g, const char *op, int nin, ir_tensor **in, ir_tensor *out) {
  ir_node *n = ir_add_node(g, op, NULL);
  n->opset = 13;
  ir_node_set_io(n, nin, in, 1, &out);
  return n;
}

static ir_tensor *act(ir_graph *g, const char *name) { return ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION); }

static void bind_all(ir_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) assert_int_equal(op_validate(g->nodes[i]), 0);
}

static void test_toposort_orders_and_finds_cycles(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {2};
  ir_tensor *x = input(g, "x", 1, d), *a = act(g, "a"), *b = act(g, "b");
  node(g, "Relu", 1, &a, b);   /* reads a before the node writing a */
  node(g, "Relu", 1, &x, a);
  assert_int_equal(ir_graph_toposort(g), 0);
  assert_ptr_equal(g->nodes[0]->out[0], a);
  assert_ptr_equal(g->nodes[1]->out[0], b);
  ir_graph_free(g);

  g = ir_graph_new("g", NULL);
  a = act(g, "a");
  b = act(g, "b");
  node(g, "Relu", 1, &a, b);
  node(g, "Relu", 1, &b, a);
  assert_int_equal(ir_graph_toposort(g), -1);
  assert_non_null(strstr(ir_last_error(), "cycle"));
  ir_graph_free(g);
}

static void test_duplicate_tensor_and_writer(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {2};
  ir_tensor *x = input(g, "x", 1, d), *a = act(g, "a");
  assert_null(ir_add_tensor(g, "a", IR_F32, IR_ACTIVATION));
  assert_non_null(strstr(ir_last_error(), "duplicate"));
  node(g, "Relu", 1, &x, a);
  node(g, "Relu", 1, &x, a);
  assert_int_equal(ir_graph_toposort(g), -1);
  assert_non_null(strstr(ir_last_error(), "written by both"));
  ir_graph_free(g);
}

/* x[2,3,4] -> Shape -> Gather(0) -> Concat with [12] -> Reshape(x): [2,12]
 * The shape arithmetic folds away even with float folding off. */
static void test_shape_arithmetic_folds(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {2, 3, 4}, zero = 0, twelve = 12;
  ir_tensor *x = input(g, "x", 3, d);
  ir_tensor *shp = act(g, "shp"), *idx = const_i64(g, "idx", 1, &zero), *b = act(g, "b");
  ir_tensor *rest = const_i64(g, "rest", 1, &twelve), *newshape = act(g, "newshape"), *y = act(g, "y");
  node(g, "Shape", 1, &x, shp);
  ir_tensor *gin[] = {shp, idx};
  node(g, "Gather", 2, gin, b);
  ir_tensor *cin[] = {b, rest};
  ir_attr_set_int(node(g, "Concat", 2, cin, newshape), "axis", 0);
  ir_tensor *rin[] = {x, newshape};
  node(g, "Reshape", 2, rin, y);
  ir_graph_add_output(g, y);
  bind_all(g);
  pass_options o;
  pass_options_default(&o);
  o.fold = 0;
  assert_int_equal(pass_run_all(g, &o), 0);
  assert_int_equal(g->n_nodes, 1);   /* only the Reshape is left */
  assert_string_equal(g->nodes[0]->op_type, "Reshape");
  assert_int_equal(y->rank, 2);
  assert_int_equal(y->shape[0], 2);
  assert_int_equal(y->shape[1], 12);
  assert_non_null(newshape->data);
  assert_int_equal(((int64_t *)newshape->data)[0], 2);

  /* and the interpreter runs what is left */
  float in[24], *out;
  for (int i = 0; i < 24; i++) in[i] = (float)i - 5.0f;
  const void *ins[] = {in};
  interp_ctx c;
  assert_int_equal(interp_run(&c, g, ins), 0);
  out = interp_value(&c, y);
  for (int i = 0; i < 24; i++) assert_true(out[i] == (float)i - 5.0f);
  interp_free(&c);
  ir_graph_free(g);
}

static void test_unknown_dim_is_named(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {-1, 3};
  ir_tensor *x = input(g, "x", 2, d), *y = act(g, "y");
  x->dim_param[0] = ir_strdup("batch");
  node(g, "Relu", 1, &x, y);
  ir_graph_add_output(g, y);
  bind_all(g);
  pass_options o;
  pass_options_default(&o);
  assert_int_equal(pass_run_all(g, &o), -1);
  assert_non_null(strstr(ir_last_error(), "'x'"));
  assert_non_null(strstr(ir_last_error(), "batch"));
  ir_graph_free(g);
}

/* If(cond=false) { then: Relu(x) } else { Neg(x) } spliced to Neg. */
static void test_constant_if_is_spliced(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {3};
  ir_tensor *x = input(g, "x", 1, d), *y = act(g, "y");
  ir_tensor *cond = ir_add_tensor(g, "cond", IR_BOOL, IR_CONST);
  uint8_t f = 0;
  ir_set_shape(cond, 0, NULL);
  ir_tensor_set_data(cond, &f, 1);
  ir_node *n = ir_add_node(g, "If", "the_if");
  n->opset = 13;
  ir_node_set_io(n, 1, &cond, 1, &y);
  const char *ops[] = {"Relu", "Neg"};
  const char *attrs[] = {"then_branch", "else_branch"};
  for (int k = 0; k < 2; k++) {
    ir_graph *b = ir_graph_new(attrs[k], g);
    ir_tensor *o = ir_add_tensor(b, "y", IR_UNDEF, IR_ACTIVATION);   /* same name as outer: renamed on splice */
    ir_node *bn = ir_add_node(b, ops[k], NULL);
    bn->opset = 13;
    ir_node_set_io(bn, 1, &x, 1, &o);
    ir_graph_add_output(b, o);
    ir_attr_add(n, attrs[k], IR_ATTR_GRAPH)->g = b;
    assert_int_equal(op_validate(bn), 0);
  }
  ir_graph_add_output(g, y);
  assert_int_equal(op_validate(n), 0);
  pass_options o;
  pass_options_default(&o);
  o.identity = 0;   /* the splice itself: the branch's nodes, then an Identity per output */
  assert_int_equal(pass_run_all(g, &o), 0);
  assert_int_equal(g->n_nodes, 2);
  assert_string_equal(g->nodes[0]->op_type, "Neg");
  assert_string_equal(g->nodes[1]->op_type, "Identity");
  float in[3] = {1, -2, 3};
  const void *ins[] = {in};
  interp_ctx c;
  assert_int_equal(interp_run(&c, g, ins), 0);
  float *out = interp_value(&c, y);
  assert_true(out[0] == -1 && out[1] == 2 && out[2] == -3);
  interp_free(&c);
  ir_graph_free(g);
}

static void test_dce_drops_unused(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {4};
  ir_tensor *x = input(g, "x", 1, d), *y = act(g, "y"), *unused = act(g, "unused");
  node(g, "Relu", 1, &x, y);
  node(g, "Neg", 1, &x, unused);
  ir_graph_add_output(g, y);
  bind_all(g);
  pass_options o;
  pass_options_default(&o);
  assert_int_equal(pass_run_all(g, &o), 0);
  assert_int_equal(g->n_nodes, 1);
  assert_null(ir_find_tensor(g, "unused"));
  ir_graph_free(g);
}

static void test_attribute_errors_name_node(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {4};
  ir_tensor *x = input(g, "x", 1, d), *y = act(g, "y");
  ir_node *n = node(g, "Relu", 1, &x, y);
  free(n->name);
  n->name = ir_strdup("my_relu");
  ir_attr_set_int(n, "bogus", 3);
  assert_int_equal(op_validate(n), -1);
  assert_non_null(strstr(ir_last_error(), "my_relu"));
  assert_non_null(strstr(ir_last_error(), "Relu"));
  assert_non_null(strstr(ir_last_error(), "bogus"));
  ir_node *m = node(g, "NoSuchOp", 1, &x, act(g, "z"));
  assert_int_equal(op_validate(m), -1);
  assert_non_null(strstr(ir_last_error(), "unsupported op"));
  ir_graph_free(g);
}


/* Def-use lists: readers in schedule order, each once per node, graph
 * outputs flagged, dead nodes left out; ir_replace_uses rewires them. */
static void test_def_use_lists(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {4};
  ir_tensor *x = input(g, "x", 1, d), *a = act(g, "a"), *b = act(g, "b"), *c = act(g, "c");
  node(g, "Relu", 1, &x, a);
  ir_tensor *twice[] = {a, a};
  ir_node *add = node(g, "Add", 2, twice, b);
  ir_node *neg = node(g, "Neg", 1, &a, c);
  ir_node *dead = node(g, "Neg", 1, &b, act(g, "gone"));
  dead->dead = 1;
  ir_graph_add_output(g, b);
  ir_graph_add_output(g, c);
  ir_uses u;
  ir_uses_build(g, &u);
  assert_int_equal(ir_uses_count(&u, a), 2);
  assert_ptr_equal(ir_uses_of(&u, a)[0], add);
  assert_ptr_equal(ir_uses_of(&u, a)[1], neg);
  assert_int_equal(ir_uses_count(&u, b), 0);   /* its only reader is dead */
  assert_true(u.output[b->id]);
  assert_false(ir_uses_only(&u, a, add));
  assert_int_equal(ir_uses_count(&u, x), 1);
  ir_uses_free(&u);
  assert_int_equal(ir_replace_uses(g, a, x), 3);
  ir_uses_build(g, &u);
  assert_int_equal(ir_uses_count(&u, a), 0);
  assert_int_equal(ir_uses_count(&u, x), 3);
  assert_true(ir_owns(g, x));
  ir_graph *other = ir_graph_new("o", NULL);
  assert_false(ir_owns(other, x));
  ir_graph_free(other);
  ir_uses_free(&u);
  ir_graph_free(g);
}


/* The epilogue vocabulary (compiler/ops/epilogue.h): an op without
 * OP_EPILOGUE refuses every epilogue attribute, and an op that takes one
 * refuses an unknown activation, a mistyped attribute or a residual that
 * names no input. */
static void test_epilogue_refused_where_not_taken(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  int64_t d[] = {1, 1, 4, 4};
  ir_tensor *x = input(g, "x", 4, d);
  ir_node *sm = node(g, "Softmax", 1, &x, act(g, "s"));
  assert_int_equal(op_validate(sm), 0);
  ir_attr_set_string(sm, "_act", "Relu");
  assert_int_equal(op_validate(sm), -1);
  assert_non_null(strstr(ir_last_error(), "takes no fused epilogue"));
  ir_node *cast = node(g, "Identity", 1, &x, act(g, "i"));
  ir_attr_set_int(cast, "_residual", 0);
  assert_int_equal(op_validate(cast), -1);
  assert_non_null(strstr(ir_last_error(), "_residual"));

  ir_node *relu = node(g, "Relu", 1, &x, act(g, "r"));
  ir_attr_set_string(relu, "_act", "Clip");
  assert_int_equal(op_validate(relu), 0);
  ir_attr_set_string(relu, "_act", "Gelu");
  assert_int_equal(op_validate(relu), -1);
  assert_non_null(strstr(ir_last_error(), "unknown fused activation"));
  ir_attr_remove(relu, "_act");
  ir_attr_set_int(relu, "_act_alpha", 2);   /* an int where a float goes is fine, as for ONNX attributes */
  assert_int_equal(op_validate(relu), 0);
  ir_attr_set_string(relu, "_act_beta", "6");
  assert_int_equal(op_validate(relu), -1);
  assert_non_null(strstr(ir_last_error(), "_act_beta"));
  ir_attr_remove(relu, "_act_beta");
  ir_attr_set_int(relu, "_residual", 5);
  assert_int_equal(op_validate(relu), -1);
  assert_non_null(strstr(ir_last_error(), "does not name an input"));
  ir_graph_free(g);
}

static void test_numel_overflow(void **state) {
  (void)state;
  int64_t big[] = {INT64_C(1) << 40, INT64_C(1) << 40};
  assert_int_equal(ir_numel_dims(2, big), -2);
  int64_t neg[] = {3, -1};
  assert_int_equal(ir_numel_dims(2, neg), -1);
  int64_t ok[] = {3, 0, 7};
  assert_int_equal(ir_numel_dims(3, ok), 0);
}

/* float16/bfloat16 values read back exactly (check and test-onnx compare
 * half outputs through this). */
static void test_half_values(void **state) {
  (void)state;
  const uint16_t h[] = {0x3C00, 0xC000, 0x7C00, 0x0001, 0x7BFF, 0x7E00};
  assert_true(ir_value_f64(IR_F16, h, 0) == 1.0);
  assert_true(ir_value_f64(IR_F16, h, 1) == -2.0);
  assert_true(ir_value_f64(IR_F16, h, 2) == INFINITY);
  assert_true(ir_value_f64(IR_F16, h, 3) == 0x1p-24);
  assert_true(ir_value_f64(IR_F16, h, 4) == 65504.0);
  assert_true(isnan(ir_value_f64(IR_F16, h, 5)));
  const uint16_t b[] = {0x3F80, 0xC0A0, 0x0000};
  assert_true(ir_value_f64(IR_BF16, b, 0) == 1.0);
  assert_true(ir_value_f64(IR_BF16, b, 1) == -5.0);
  assert_true(ir_value_f64(IR_BF16, b, 2) == 0.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_toposort_orders_and_finds_cycles),
    cmocka_unit_test(test_duplicate_tensor_and_writer),
    cmocka_unit_test(test_shape_arithmetic_folds),
    cmocka_unit_test(test_unknown_dim_is_named),
    cmocka_unit_test(test_constant_if_is_spliced),
    cmocka_unit_test(test_dce_drops_unused),
    cmocka_unit_test(test_attribute_errors_name_node),
    cmocka_unit_test(test_def_use_lists),
    cmocka_unit_test(test_epilogue_refused_where_not_taken),
    cmocka_unit_test(test_numel_overflow),
    cmocka_unit_test(test_half_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
