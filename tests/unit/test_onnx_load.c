/*
 * test_onnx_load.c - the ONNX frontend on hand-built ModelProtos and on two
 * real files.
 *
 * Models are assembled here from protobuf-c structs (the small builders
 * below keep every allocation in one list freed after each test), packed
 * with onnx__model_proto__pack and loaded with onnx_load_buffer.  Expected
 * values are the ones written into the model, or counted by hand from the
 * real files with onnx's Python API.  Tests that need no op table entries
 * load with no_bind so that they test the frontend alone.
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

#include "compiler/onnx/onnx_load.h"
#include "onnx.pb-c.h"

/* ---- builders ------------------------------------------------------------ */

static void *allocs[4096];
static int n_allocs;

static void *A(size_t n) {
  void *p = calloc(1, n ? n : 1);
  assert_non_null(p);
  assert_true(n_allocs < 4096);
  allocs[n_allocs++] = p;
  return p;
}

static void free_all(void) {
  while (n_allocs) free(allocs[--n_allocs]);
}

static char *str(const char *s) {
  char *d = A(strlen(s) + 1);
  strcpy(d, s);
  return d;
}

#define CAP 32   /* every repeated field gets room for this many entries */

static Onnx__ModelProto *model(int opset) {
  Onnx__ModelProto *m = A(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = 8;
  m->opset_import = A(CAP * sizeof *m->opset_import);
  Onnx__OperatorSetIdProto *op = A(sizeof *op);
  onnx__operator_set_id_proto__init(op);
  op->domain = str("");
  op->has_version = 1;
  op->version = opset;
  m->opset_import[m->n_opset_import++] = op;
  Onnx__GraphProto *g = A(sizeof *g);
  onnx__graph_proto__init(g);
  g->name = str("test");
  g->node = A(CAP * sizeof *g->node);
  g->initializer = A(CAP * sizeof *g->initializer);
  g->input = A(CAP * sizeof *g->input);
  g->output = A(CAP * sizeof *g->output);
  m->graph = g;
  return m;
}

static Onnx__GraphProto *subgraph(const char *name) {
  Onnx__GraphProto *g = A(sizeof *g);
  onnx__graph_proto__init(g);
  g->name = str(name);
  g->node = A(CAP * sizeof *g->node);
  g->initializer = A(CAP * sizeof *g->initializer);
  g->input = A(CAP * sizeof *g->input);
  g->output = A(CAP * sizeof *g->output);
  return g;
}

static void import(Onnx__ModelProto *m, const char *domain, int version) {
  Onnx__OperatorSetIdProto *op = A(sizeof *op);
  onnx__operator_set_id_proto__init(op);
  op->domain = str(domain);
  op->has_version = 1;
  op->version = version;
  m->opset_import[m->n_opset_import++] = op;
}

/* A tensor value: elem type and dims; dims given as "2,3" ("" for a
 * scalar), each entry either a number or a symbol. */
static Onnx__ValueInfoProto *value_info(const char *name, int elem, const char *dims) {
  Onnx__ValueInfoProto *vi = A(sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = str(name);
  if (elem < 0) return vi;   /* no type at all */
  Onnx__TypeProto *tp = A(sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = A(sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = elem;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  if (!dims) return vi;      /* unknown rank */
  Onnx__TensorShapeProto *sh = A(sizeof *sh);
  onnx__tensor_shape_proto__init(sh);
  sh->dim = A(CAP * sizeof *sh->dim);
  tt->shape = sh;
  char *copy = str(dims);
  for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
    Onnx__TensorShapeProto__Dimension *d = A(sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '-') {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = atoll(tok);
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = str(tok);
    }
    sh->dim[sh->n_dim++] = d;
  }
  return vi;
}

static void input(Onnx__GraphProto *g, const char *name, int elem, const char *dims) {
  g->input[g->n_input++] = value_info(name, elem, dims);
}

static void output(Onnx__GraphProto *g, const char *name, int elem, const char *dims) {
  g->output[g->n_output++] = value_info(name, elem, dims);
}

static Onnx__TensorProto *tensor_f32(const char *name, int rank, const int64_t *dims, int n, const float *v) {
  Onnx__TensorProto *t = A(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = str(name);
  t->has_data_type = 1;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_dims = (size_t)rank;
  t->dims = A(IR_MAX_RANK * sizeof *t->dims);
  memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  t->n_float_data = (size_t)n;
  t->float_data = A((size_t)n * sizeof(float));
  memcpy(t->float_data, v, (size_t)n * sizeof(float));
  return t;
}

static Onnx__TensorProto *tensor_i64_raw(const char *name, int rank, const int64_t *dims, int n, const int64_t *v) {
  Onnx__TensorProto *t = A(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = str(name);
  t->has_data_type = 1;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  t->n_dims = (size_t)rank;
  t->dims = A(IR_MAX_RANK * sizeof *t->dims);
  memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  t->has_raw_data = 1;
  t->raw_data.len = (size_t)n * 8;
  t->raw_data.data = A(t->raw_data.len);
  for (int i = 0; i < n; i++)   /* raw data is little-endian */
    for (int b = 0; b < 8; b++) t->raw_data.data[8 * i + b] = (uint8_t)((uint64_t)v[i] >> (8 * b));
  return t;
}

static void initializer(Onnx__GraphProto *g, Onnx__TensorProto *t) { g->initializer[g->n_initializer++] = t; }

/* node(g, "Add", "n0", "a,b", "c"): comma-separated names, an empty entry
 * is a missing optional input ("x,,z"). */
static void split_names(const char *list, size_t *n, char ***out) {
  *out = A(CAP * sizeof **out);
  *n = 0;
  if (!list || !list[0]) return;
  const char *p = list;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char *s = A(len + 1);
    memcpy(s, p, len);
    (*out)[(*n)++] = s;
    if (!e) break;
    p = e + 1;
  }
}

static Onnx__NodeProto *node_in(Onnx__NodeProto **arr, size_t *count, const char *op, const char *name,
                                const char *ins, const char *outs) {
  Onnx__NodeProto *n = A(sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = str(op);
  n->name = str(name);
  split_names(ins, &n->n_input, &n->input);
  split_names(outs, &n->n_output, &n->output);
  n->attribute = A(CAP * sizeof *n->attribute);
  arr[(*count)++] = n;
  return n;
}

static Onnx__NodeProto *node(Onnx__GraphProto *g, const char *op, const char *name, const char *ins,
                             const char *outs) {
  return node_in(g->node, &g->n_node, op, name, ins, outs);
}

static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name, int type) {
  Onnx__AttributeProto *a = A(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = str(name);
  a->has_type = 1;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static void attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

static void attr_float(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}

static void attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = (size_t)count;
  a->ints = A((size_t)count * sizeof *a->ints);
  memcpy(a->ints, v, (size_t)count * sizeof *v);
}

static void attr_floats(Onnx__NodeProto *n, const char *name, int count, const float *v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  a->n_floats = (size_t)count;
  a->floats = A((size_t)count * sizeof *a->floats);
  memcpy(a->floats, v, (size_t)count * sizeof *v);
}

static void attr_string(Onnx__NodeProto *n, const char *name, const char *v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.data = (uint8_t *)str(v);
  a->s.len = strlen(v);
}

static ir_graph *load_opts(Onnx__ModelProto *m, const fe_opts *o) {
  size_t n = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = A(n);
  onnx__model_proto__pack(m, buf);
  return onnx_load_buffer(buf, n, NULL, o);
}

static ir_graph *load_raw(Onnx__ModelProto *m) {
  fe_opts o;
  memset(&o, 0, sizeof o);
  o.no_bind = 1;
  return load_opts(m, &o);
}

static ir_node *find_node(const ir_graph *g, const char *name) {
  for (int i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i]->name, name) == 0) return g->nodes[i];
  return NULL;
}

static void expect_error(ir_graph *g, const char *needle) {
  if (g) ir_graph_free(g);
  assert_null(g);
  if (!strstr(ir_last_error(), needle)) fail_msg("error '%s' lacks '%s'", ir_last_error(), needle);
}

static float f32_at(const ir_tensor *t, int i) { return ((const float *)t->data)[i]; }
static int64_t i64_at(const ir_tensor *t, int i) { return ((const int64_t *)t->data)[i]; }

enum { F32 = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, I64 = ONNX__TENSOR_PROTO__DATA_TYPE__INT64 };

/* ---- tests --------------------------------------------------------------- */

/* x[N,3] @ W + B + const -> y; B is also listed as an input (old IR style). */
static Onnx__ModelProto *small_model(void) {
  Onnx__ModelProto *m = model(13);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", F32, "N,3");
  input(g, "B", F32, "2");
  const int64_t wd[2] = {3, 2}, bd[1] = {2};
  const float w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {0.5f, -0.5f};
  initializer(g, tensor_f32("W", 2, wd, 6, w));
  initializer(g, tensor_f32("B", 1, bd, 2, b));
  Onnx__NodeProto *c = node(g, "Constant", "c0", "", "k");
  const float kv[2] = {1.5f, 2.5f};
  attr_floats(c, "value_floats", 2, kv);
  node(g, "MatMul", "", "x,W", "m");
  node(g, "Add", "add1", "m,B", "a");
  node(g, "Add", "add2", "a,k", "y");
  output(g, "y", F32, "N,2");
  return m;
}

static void test_inputs_params_consts(void **state) {
  (void)state;
  ir_graph *g = load_raw(small_model());
  if (!g) fail_msg("%s", ir_last_error());
  assert_int_equal(g->n_inputs, 1);
  ir_tensor *x = g->inputs[0];
  assert_string_equal(x->name, "x");
  assert_int_equal(x->role, IR_INPUT);
  assert_int_equal(x->dtype, IR_F32);
  assert_int_equal(x->rank, 2);
  assert_true(x->shape[0] == -1);
  assert_string_equal(x->dim_param[0], "N");
  assert_true(x->shape[1] == 3);

  ir_tensor *w = ir_find_tensor(g, "W"), *b = ir_find_tensor(g, "B"), *k = ir_find_tensor(g, "k");
  assert_non_null(w);
  assert_int_equal(w->role, IR_PARAM);
  assert_int_equal(w->rank, 2);
  assert_true(w->shape[0] == 3 && w->shape[1] == 2);
  assert_true(f32_at(w, 5) == 6.0f);
  assert_int_equal(b->role, IR_PARAM);
  assert_true(f32_at(b, 1) == -0.5f);
  /* The Constant node became a tensor, not a node. */
  assert_non_null(k);
  assert_int_equal(k->role, IR_CONST);
  assert_int_equal(k->dtype, IR_F32);
  assert_int_equal(k->rank, 1);
  assert_true(k->shape[0] == 2);
  assert_true(f32_at(k, 0) == 1.5f && f32_at(k, 1) == 2.5f);
  assert_null(k->producer);

  assert_int_equal(g->n_nodes, 3);
  ir_node *mm = find_node(g, "MatMul_1");   /* invented: op_type and proto index */
  assert_non_null(mm);
  assert_string_equal(mm->domain, "");
  assert_int_equal(mm->opset, 13);
  assert_ptr_equal(mm->in[0], x);
  assert_ptr_equal(mm->in[1], w);
  assert_int_equal(mm->out[0]->role, IR_ACTIVATION);
  ir_node *a2 = find_node(g, "add2");
  assert_ptr_equal(a2->in[1], k);
  assert_ptr_equal(a2->in[0], find_node(g, "add1")->out[0]);

  assert_int_equal(g->n_outputs, 1);
  ir_tensor *y = g->outputs[0];
  assert_string_equal(y->name, "y");
  assert_true(y->is_output);
  assert_int_equal(y->dtype, IR_F32);
  assert_ptr_equal(y->producer, a2);
  /* Nodes come out in dependency order. */
  assert_true(mm->id < find_node(g, "add1")->id && find_node(g, "add1")->id < a2->id);
  /* x, B, W, k, m, a, y */
  assert_int_equal(g->n_tensors, 7);
  ir_graph_free(g);
  free_all();
}

static void test_bound_small_model(void **state) {
  (void)state;
  ir_graph *g = load_opts(small_model(), NULL);
  if (!g) fail_msg("%s", ir_last_error());
  for (int i = 0; i < g->n_nodes; i++) assert_non_null(g->nodes[i]->op);
  ir_graph_free(g);
  free_all();
}

static void test_attribute_types(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", F32, "2");
  Onnx__NodeProto *n = node(g, "Foo", "foo", "x", "y");
  attr_int(n, "i", -7);
  attr_float(n, "f", 0.25f);
  attr_string(n, "s", "hello");
  const int64_t iv[3] = {1, -2, 3};
  attr_ints(n, "is", 3, iv);
  const float fv[2] = {0.5f, -1.0f};
  attr_floats(n, "fs", 2, fv);
  Onnx__AttributeProto *ss = attr(n, "ss", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
  ss->n_strings = 2;
  ss->strings = A(2 * sizeof *ss->strings);
  ss->strings[0].data = (uint8_t *)str("ab");
  ss->strings[0].len = 2;
  ss->strings[1].data = (uint8_t *)str("c");
  ss->strings[1].len = 1;
  Onnx__AttributeProto *ta = attr(n, "t", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  const int64_t td[2] = {2, 2}, tv[4] = {10, 20, 30, 40};
  ta->t = tensor_i64_raw("", 2, td, 4, tv);
  output(g, "y", F32, NULL);

  ir_graph *ir = load_raw(m);
  if (!ir) fail_msg("%s", ir_last_error());
  ir_node *f = find_node(ir, "foo");
  assert_non_null(f);
  assert_int_equal(f->n_attr, 7);
  assert_true(ir_attr_int(f, "i", 0) == -7);
  assert_true(ir_attr_float(f, "f", 0) == 0.25);
  assert_string_equal(ir_attr_string(f, "s", ""), "hello");
  const int64_t *ints;
  assert_int_equal(ir_attr_ints(f, "is", &ints), 3);
  assert_true(ints[0] == 1 && ints[1] == -2 && ints[2] == 3);
  const double *floats;
  assert_int_equal(ir_attr_floats(f, "fs", &floats), 2);
  assert_true(floats[0] == 0.5 && floats[1] == -1.0);
  ir_attr *a = ir_attr_find(f, "ss");
  assert_int_equal(a->type, IR_ATTR_STRINGS);
  assert_int_equal(a->n, 2);
  assert_string_equal(a->strings[0], "ab");
  assert_string_equal(a->strings[1], "c");
  a = ir_attr_find(f, "t");
  assert_int_equal(a->type, IR_ATTR_TENSOR);
  assert_non_null(a->t);
  assert_int_equal(a->t->dtype, IR_I64);
  assert_int_equal(a->t->rank, 2);
  assert_true(i64_at(a->t, 3) == 40);
  assert_string_equal(a->t->name, "t");
  ir_graph_free(ir);
  free_all();
}

static void test_unsupported_attribute_types(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  input(m->graph, "x", F32, "2");
  Onnx__NodeProto *n = node(m->graph, "Foo", "foo", "x", "y");
  attr(n, "gs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
  output(m->graph, "y", F32, NULL);
  ir_graph *g = load_raw(m);
  expect_error(g, "node 'foo' (Foo): attribute 'gs' has unsupported type graphs");
  free_all();
}

static void test_constant_forms(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  Onnx__GraphProto *g = m->graph;
  attr_int(node(g, "Constant", "c1", "", "ci"), "value_int", 42);
  const int64_t iv[2] = {-1, 5};
  attr_ints(node(g, "Constant", "c2", "", "cis"), "value_ints", 2, iv);
  attr_float(node(g, "Constant", "c3", "", "cf"), "value_float", -2.5f);
  Onnx__AttributeProto *a = attr(node(g, "Constant", "c4", "", "ct"), "value",
                                 ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  const int64_t d3[1] = {3}, tv[3] = {7, 8, 9};
  a->t = tensor_i64_raw("", 1, d3, 3, tv);
  node(g, "Concat", "cat", "cis,ct", "y");
  output(g, "y", I64, NULL);
  ir_graph *ir = load_raw(m);
  if (!ir) fail_msg("%s", ir_last_error());
  assert_int_equal(ir->n_nodes, 1);
  ir_tensor *t = ir_find_tensor(ir, "ci");
  assert_int_equal(t->role, IR_CONST);
  assert_int_equal(t->dtype, IR_I64);
  assert_int_equal(t->rank, 0);
  assert_true(i64_at(t, 0) == 42);
  t = ir_find_tensor(ir, "cis");
  assert_int_equal(t->rank, 1);
  assert_true(t->shape[0] == 2 && i64_at(t, 0) == -1 && i64_at(t, 1) == 5);
  t = ir_find_tensor(ir, "cf");
  assert_int_equal(t->dtype, IR_F32);
  assert_int_equal(t->rank, 0);
  assert_true(f32_at(t, 0) == -2.5f);
  t = ir_find_tensor(ir, "ct");
  assert_true(t->rank == 1 && t->shape[0] == 3 && i64_at(t, 2) == 9);
  ir_graph_free(ir);
  free_all();

  m = model(13);
  Onnx__NodeProto *n = node(m->graph, "Constant", "cs", "", "s");
  attr_string(n, "value_string", "nope");
  output(m->graph, "s", -1, NULL);
  expect_error(load_raw(m), "node 'cs' (Constant): attribute 'value_string' is unsupported");
  free_all();
}

static void test_opset11_squeeze_axes(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(11);
  input(m->graph, "x", F32, "1,3,1");
  const int64_t axes[2] = {0, -1};
  attr_ints(node(m->graph, "Squeeze", "sq", "x", "y"), "axes", 2, axes);
  output(m->graph, "y", F32, NULL);
  ir_graph *g = load_raw(m);
  if (!g) fail_msg("%s", ir_last_error());
  ir_node *n = find_node(g, "sq");
  assert_int_equal(n->opset, 11);
  assert_null(ir_attr_find(n, "axes"));
  assert_int_equal(n->n_in, 2);
  ir_tensor *ax = n->in[1];
  assert_int_equal(ax->role, IR_CONST);
  assert_int_equal(ax->dtype, IR_I64);
  assert_int_equal(ax->rank, 1);
  assert_true(ax->shape[0] == 2 && i64_at(ax, 0) == 0 && i64_at(ax, 1) == -1);
  ir_graph_free(g);
  free_all();
}

static void test_old_opset_forms(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(6);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", F32, "4,4");
  attr_float(node(g, "Clip", "clip", "x", "c"), "max", 6.0f);   /* min absent: stays missing */
  Onnx__NodeProto *sl = node(g, "Slice", "slice", "c", "s");
  const int64_t st[1] = {1}, en[1] = {3};
  attr_ints(sl, "starts", 1, st);
  attr_ints(sl, "ends", 1, en);
  Onnx__NodeProto *pd = node(g, "Pad", "pad", "s", "p");
  const int64_t pads[4] = {0, 1, 0, 1};
  attr_ints(pd, "pads", 4, pads);
  attr_string(pd, "mode", "constant");
  Onnx__NodeProto *dr = node(g, "Dropout", "drop", "p", "d");
  attr_float(dr, "ratio", 0.3f);
  attr_int(dr, "is_test", 1);
  Onnx__NodeProto *rs = node(g, "Reshape", "resh", "d", "r");   /* opset 6: already an input? no: */
  (void)rs;
  Onnx__NodeProto *bn = node(g, "Relu", "relu", "r", "y");
  const int64_t ci[1] = {0};
  attr_ints(bn, "consumed_inputs", 1, ci);
  output(g, "y", F32, NULL);
  /* Reshape-6 takes its shape as an input already; give it one. */
  rs->n_input = 2;
  rs->input[1] = str("shp");
  input(g, "shp", I64, "2");
  ir_graph *ir = load_raw(m);
  if (!ir) fail_msg("%s", ir_last_error());

  ir_node *n = find_node(ir, "clip");
  assert_int_equal(n->n_attr, 0);
  assert_int_equal(n->n_in, 3);
  assert_null(n->in[1]);
  assert_int_equal(n->in[2]->dtype, IR_F32);
  assert_int_equal(n->in[2]->rank, 0);
  assert_true(f32_at(n->in[2], 0) == 6.0f);

  n = find_node(ir, "slice");
  assert_int_equal(n->n_attr, 0);
  assert_int_equal(n->n_in, 3);   /* axes absent */
  assert_true(i64_at(n->in[1], 0) == 1 && i64_at(n->in[2], 0) == 3);

  n = find_node(ir, "pad");
  assert_int_equal(n->n_attr, 1);
  assert_string_equal(ir_attr_string(n, "mode", ""), "constant");
  assert_int_equal(n->n_in, 2);
  assert_true(n->in[1]->shape[0] == 4 && i64_at(n->in[1], 3) == 1);

  n = find_node(ir, "drop");
  assert_int_equal(n->n_attr, 0);
  assert_int_equal(n->n_in, 1);
  assert_int_equal(find_node(ir, "relu")->n_attr, 0);
  ir_graph_free(ir);
  free_all();

  /* TopK-1 k, Split-2 split, ReduceMean-13 axes, Reshape-1 shape, Upsample-7 scales. */
  m = model(1);
  g = m->graph;
  m->opset_import[0]->version = 7;
  input(g, "x", F32, "4,4");
  Onnx__NodeProto *tk = node(g, "TopK", "topk", "x", "v,i");
  attr_int(tk, "k", 2);
  output(g, "v", F32, NULL);
  output(g, "i", I64, NULL);
  const float sc[2] = {2.0f, 3.0f};
  attr_floats(node(g, "Upsample", "up", "x", "u"), "scales", 2, sc);
  output(g, "u", F32, NULL);
  const int64_t sp[2] = {1, 3};
  attr_ints(node(g, "Split", "split", "x", "s1,s2"), "split", 2, sp);
  output(g, "s1", F32, NULL);
  output(g, "s2", F32, NULL);
  ir = load_raw(m);
  if (!ir) fail_msg("%s", ir_last_error());
  n = find_node(ir, "topk");
  assert_true(n->n_in == 2 && n->in[1]->rank == 1 && n->in[1]->shape[0] == 1 && i64_at(n->in[1], 0) == 2);
  n = find_node(ir, "up");
  assert_true(n->n_in == 2 && n->in[1]->dtype == IR_F32 && f32_at(n->in[1], 1) == 3.0f);
  n = find_node(ir, "split");
  assert_true(n->n_in == 2 && n->n_attr == 0 && i64_at(n->in[1], 1) == 3);
  ir_graph_free(ir);
  free_all();
}

/* Opset-6 Add with broadcast=1: B aligned at axis 0 of a [2,3] A becomes a
 * [2,1] constant; aligned at the last axes the attributes just go. */
static void test_legacy_broadcast(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(6);
  Onnx__GraphProto *g = m->graph;
  input(g, "a", F32, "2,3");
  input(g, "c", F32, "3");
  const int64_t bd[1] = {2};
  const float bv[2] = {10, 20};
  initializer(g, tensor_f32("b", 1, bd, 2, bv));
  Onnx__NodeProto *n = node(g, "Add", "add0", "a,b", "s");
  attr_int(n, "broadcast", 1);
  attr_int(n, "axis", 0);
  n = node(g, "Add", "add1", "a,c", "y");
  attr_int(n, "broadcast", 1);
  attr_int(n, "axis", 1);
  output(g, "s", F32, NULL);
  output(g, "y", F32, NULL);
  ir_graph *ir = load_raw(m);
  if (!ir) fail_msg("%s", ir_last_error());
  ir_node *a0 = find_node(ir, "add0"), *a1 = find_node(ir, "add1");
  assert_int_equal(a0->n_attr, 0);
  assert_int_equal(a1->n_attr, 0);
  ir_tensor *b = a0->in[1];
  assert_string_equal(b->name, "b_bcast");
  assert_int_equal(b->role, IR_CONST);
  assert_true(b->rank == 2 && b->shape[0] == 2 && b->shape[1] == 1);
  assert_true(f32_at(b, 0) == 10.0f && f32_at(b, 1) == 20.0f);
  assert_ptr_equal(a1->in[1], ir_find_tensor(ir, "c"));
  ir_graph_free(ir);
  free_all();
}

static void test_unsupported_ops_listed(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  import(m, "com.x", 1);
  import(m, "com.unused", 1);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", F32, "2");
  node(g, "Foo", "n1", "x", "a");
  node(g, "Relu", "n2", "a", "b");
  Onnx__NodeProto *bar = node(g, "Bar", "n7", "b", "y");
  bar->domain = str("com.x");
  output(g, "y", F32, NULL);
  ir_graph *ir = load_opts(m, NULL);
  if (ir) ir_graph_free(ir);
  assert_null(ir);
  assert_string_equal(ir_last_error(), "unsupported ops: node 'n1' (Foo), node 'n7' (Bar, domain com.x)");
  free_all();
}

static void test_undefined_input(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  input(m->graph, "x", F32, "2");
  node(m->graph, "Add", "plus", "x,nope", "y");
  output(m->graph, "y", F32, NULL);
  expect_error(load_raw(m), "node 'plus' (Add): input 'nope' is not defined");
  free_all();
}

static Onnx__ModelProto *bind_model(void) {
  Onnx__ModelProto *m = model(13);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", F32, "N,3");
  input(g, "z", F32, "N,M");
  input(g, "s", I64, "2");
  node(g, "Foo", "f", "x,z,s", "y");
  output(g, "y", F32, "N,M");
  return m;
}

static void test_shape_dim_const(void **state) {
  (void)state;
  ir_shape_binding sh = {"x", 2, {5, 3}};
  ir_dim_binding dm = {"M", 4};
  const int64_t sv[2] = {7, 8};
  ir_const_binding cb = {"s", IR_I64, 1, {2}, sv};
  fe_opts o;
  memset(&o, 0, sizeof o);
  o.no_bind = 1;
  o.bind.n_shapes = 1;
  o.bind.shapes = &sh;
  o.bind.n_dims = 1;
  o.bind.dims = &dm;
  o.bind.n_consts = 1;
  o.bind.consts = &cb;
  ir_graph *g = load_opts(bind_model(), &o);
  if (!g) fail_msg("%s", ir_last_error());
  assert_int_equal(g->n_inputs, 2);   /* s became a constant */
  ir_tensor *x = ir_find_tensor(g, "x"), *z = ir_find_tensor(g, "z"), *s = ir_find_tensor(g, "s");
  assert_true(x->rank == 2 && x->shape[0] == 5 && x->shape[1] == 3);
  assert_null(x->dim_param[0]);
  /* N is implied by --shape x, M is given by --dim: both fixed everywhere. */
  assert_true(z->rank == 2 && z->shape[0] == 5 && z->shape[1] == 4);
  assert_int_equal(s->role, IR_CONST);
  assert_true(i64_at(s, 0) == 7 && i64_at(s, 1) == 8);
  ir_tensor *y = ir_find_tensor(g, "y");
  assert_true(y->rank == 2 && y->shape[0] == 5 && y->shape[1] == 4);
  ir_graph_free(g);
  free_all();

  /* --dim alone leaves the other symbol in place */
  memset(&o, 0, sizeof o);
  o.no_bind = 1;
  o.bind.n_dims = 1;
  o.bind.dims = &dm;
  g = load_opts(bind_model(), &o);
  if (!g) fail_msg("%s", ir_last_error());
  z = ir_find_tensor(g, "z");
  assert_true(z->shape[0] == -1 && z->shape[1] == 4);
  assert_string_equal(z->dim_param[0], "N");
  ir_graph_free(g);
  free_all();
}

static void test_binding_errors(void **state) {
  (void)state;
  fe_opts o;
  ir_shape_binding sh = {"x", 3, {5, 3, 1}};
  memset(&o, 0, sizeof o);
  o.no_bind = 1;
  o.bind.n_shapes = 1;
  o.bind.shapes = &sh;
  expect_error(load_opts(bind_model(), &o), "--shape x: the model declares rank 2, got 3 dimensions");
  free_all();
  sh.rank = 2;
  sh.dims[1] = 4;
  expect_error(load_opts(bind_model(), &o), "--shape x: dimension 1 is 3 in the model, got 4");
  free_all();
  sh.name = "q";
  expect_error(load_opts(bind_model(), &o), "--shape q: the model has no input named 'q'");
  free_all();

  ir_dim_binding dm = {"batch", 2};
  memset(&o, 0, sizeof o);
  o.bind.n_dims = 1;
  o.bind.dims = &dm;
  expect_error(load_opts(bind_model(), &o), "--dim batch: no dimension of the model is named 'batch'");
  free_all();

  const float fv[2] = {1, 2};
  ir_const_binding cb = {"s", IR_F32, 1, {2}, fv};
  memset(&o, 0, sizeof o);
  o.bind.n_consts = 1;
  o.bind.consts = &cb;
  expect_error(load_opts(bind_model(), &o), "--const s: the input is int64, the value is float32");
  free_all();

  /* --shape implying N=5 conflicts with --dim N=6 */
  ir_shape_binding sh2 = {"x", 2, {5, 3}};
  ir_dim_binding dn = {"N", 6};
  memset(&o, 0, sizeof o);
  o.bind.n_shapes = 1;
  o.bind.shapes = &sh2;
  o.bind.n_dims = 1;
  o.bind.dims = &dn;
  expect_error(load_opts(bind_model(), &o), "already fixed to 6");
  free_all();
}

static void test_hostile_models(void **state) {
  (void)state;
  const char junk[] = "\xff\xff\xff\xff garbage that is not protobuf";
  expect_error(onnx_load_buffer(junk, sizeof junk, NULL, NULL), "<buffer>: not an ONNX model (protobuf parse failed)");
  expect_error(onnx_load_file("/nonexistent/m.onnx", NULL), "/nonexistent/m.onnx: No such file or directory");

  Onnx__ModelProto *m = model(13);
  m->graph = NULL;
  expect_error(load_raw(m), "no graph");
  free_all();

  m = model(13);
  input(m->graph, "x", F32, "2");
  expect_error(load_raw(m), "has no outputs");
  free_all();

  m = model(13);
  input(m->graph, "x", F32, "2,-3");
  node(m->graph, "Relu", "r", "x", "y");
  output(m->graph, "y", F32, NULL);
  expect_error(load_raw(m), "negative dimension");
  free_all();

  m = model(13);
  input(m->graph, "x", F32, "2");
  node(m->graph, "Relu", "r1", "x", "y");
  node(m->graph, "Relu", "r2", "x", "y");
  output(m->graph, "y", F32, NULL);
  expect_error(load_raw(m), "node 'r2' (Relu): output 'y' is already defined");
  free_all();

  m = model(13);
  const int64_t d[1] = {4};
  const float v[4] = {1, 2, 3, 4};
  initializer(m->graph, tensor_f32("w", 1, d, 4, v));
  initializer(m->graph, tensor_f32("w", 1, d, 4, v));
  node(m->graph, "Relu", "r", "w", "y");
  output(m->graph, "y", F32, NULL);
  expect_error(load_raw(m), "initializer 'w' is defined twice");
  free_all();

  /* 16 bytes of initializers against a 12-byte budget */
  m = model(13);
  initializer(m->graph, tensor_f32("w", 1, d, 4, v));
  node(m->graph, "Relu", "r", "w", "y");
  output(m->graph, "y", F32, NULL);
  fe_opts o;
  memset(&o, 0, sizeof o);
  o.no_bind = 1;
  o.max_bytes = 12;
  ir_graph *g = load_opts(m, &o);
  if (g) ir_graph_free(g);
  assert_null(g);
  free_all();

  m = model(22);
  input(m->graph, "x", F32, "2");
  node(m->graph, "Relu", "r", "x", "y");
  output(m->graph, "y", F32, NULL);
  expect_error(load_raw(m), "node 'r' (Relu): opset 22 of ai.onnx is newer than the newest supported (21)");
  free_all();

  m = model(13);
  input(m->graph, "x", F32, "2");
  Onnx__NodeProto *n = node(m->graph, "Relu", "r", "x", "y");
  n->domain = str("com.nowhere");
  output(m->graph, "y", F32, NULL);
  expect_error(load_raw(m), "domain 'com.nowhere' is not imported");
  free_all();

  m = model(13);   /* declared output type disagrees with the input it names */
  input(m->graph, "x", F32, "2");
  output(m->graph, "x", I64, NULL);
  expect_error(load_raw(m), "output 'x' is declared int64 but is float32");
  free_all();
}

/* If whose branches read the outer x; else_branch returns x itself. */
static void test_subgraph(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  Onnx__GraphProto *g = m->graph;
  input(g, "c", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, "");
  input(g, "x", F32, "3");
  Onnx__NodeProto *iff = node(g, "If", "if", "c", "y");
  Onnx__GraphProto *th = subgraph("then");
  node(th, "Relu", "inner", "x", "t");
  output(th, "t", F32, NULL);
  Onnx__GraphProto *el = subgraph("else");
  output(el, "x", F32, NULL);
  Onnx__AttributeProto *a = attr(iff, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = th;
  a = attr(iff, "else_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = el;
  output(g, "y", F32, NULL);
  ir_graph *ir = load_raw(m);
  if (!ir) fail_msg("%s", ir_last_error());
  ir_node *n = find_node(ir, "if");
  ir_attr *t = ir_attr_find(n, "then_branch"), *e = ir_attr_find(n, "else_branch");
  assert_int_equal(t->type, IR_ATTR_GRAPH);
  ir_graph *tg = t->g, *eg = e->g;
  assert_ptr_equal(tg->parent, ir);
  assert_ptr_equal(eg->parent, ir);
  assert_int_equal(tg->n_nodes, 1);
  assert_ptr_equal(tg->nodes[0]->in[0], ir_find_tensor(ir, "x"));   /* outer tensor */
  assert_int_equal(tg->n_outputs, 1);
  assert_string_equal(tg->outputs[0]->name, "t");
  /* Returning an outer value goes through an Identity inside the branch. */
  assert_int_equal(eg->n_nodes, 1);
  assert_string_equal(eg->nodes[0]->op_type, "Identity");
  assert_ptr_equal(eg->nodes[0]->in[0], ir_find_tensor(ir, "x"));
  assert_ptr_equal(eg->outputs[0], eg->nodes[0]->out[0]);
  assert_null(ir_find_tensor(tg, "x"));
  ir_graph_free(ir);
  free_all();

  /* An inner name that exists nowhere is an error naming the inner node. */
  m = model(13);
  g = m->graph;
  input(g, "c", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, "");
  iff = node(g, "If", "if", "c", "y");
  th = subgraph("then");
  node(th, "Relu", "inner", "ghost", "t");
  output(th, "t", F32, NULL);
  attr(iff, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = th;
  output(g, "y", F32, NULL);
  expect_error(load_raw(m), "node 'inner' (Relu): input 'ghost' is not defined");
  free_all();
}

/* Local function local.AddScaled(a, b) -> (c), attribute alpha:
 *   t = Mul(a, b); u = LeakyRelu(t, alpha=@alpha); c = Add(u, a) */
static void test_function_inlining(void **state) {
  (void)state;
  Onnx__ModelProto *m = model(13);
  import(m, "local", 1);
  Onnx__FunctionProto *f = A(sizeof *f);
  onnx__function_proto__init(f);
  f->name = str("AddScaled");
  f->domain = str("local");
  split_names("a,b", &f->n_input, &f->input);
  split_names("c", &f->n_output, &f->output);
  split_names("alpha", &f->n_attribute, &f->attribute);
  f->node = A(CAP * sizeof *f->node);
  node_in(f->node, &f->n_node, "Mul", "mul", "a,b", "t");
  Onnx__NodeProto *lr = node_in(f->node, &f->n_node, "LeakyRelu", "", "t", "u");
  Onnx__AttributeProto *ra = attr(lr, "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  ra->ref_attr_name = str("alpha");
  node_in(f->node, &f->n_node, "Add", "add", "u,a", "c");
  m->functions = A(sizeof *m->functions);
  m->functions[m->n_functions++] = f;

  Onnx__GraphProto *g = m->graph;
  input(g, "x", F32, "2");
  input(g, "y", F32, "2");
  Onnx__NodeProto *c1 = node(g, "AddScaled", "call1", "x,y", "z1");
  c1->domain = str("local");
  attr_float(c1, "alpha", 0.5f);
  Onnx__NodeProto *c2 = node(g, "AddScaled", "call2", "z1,x", "z2");
  c2->domain = str("local");
  output(g, "z2", F32, NULL);

  ir_graph *ir = load_opts(m, NULL);   /* binds to the op table too */
  if (!ir) fail_msg("%s", ir_last_error());
  ir_graph_free(ir);
  ir = load_raw(m);   /* before op validation makes defaults explicit */
  if (!ir) fail_msg("%s", ir_last_error());
  assert_int_equal(ir->n_nodes, 6);
  ir_node *mul = find_node(ir, "call1/mul"), *lrelu = find_node(ir, "call1/LeakyRelu_1");
  ir_node *add2 = find_node(ir, "call2/add");
  assert_non_null(mul);
  assert_non_null(lrelu);
  assert_non_null(add2);
  assert_ptr_equal(mul->in[0], ir_find_tensor(ir, "x"));
  assert_ptr_equal(mul->in[1], ir_find_tensor(ir, "y"));
  assert_string_equal(mul->out[0]->name, "call1/t");
  assert_true(ir_attr_float(lrelu, "alpha", 0) == 0.5);
  /* The second call gives no alpha: the op's default applies. */
  assert_null(ir_attr_find(find_node(ir, "call2/LeakyRelu_1"), "alpha"));
  assert_string_equal(find_node(ir, "call1/add")->out[0]->name, "z1");
  assert_ptr_equal(find_node(ir, "call2/mul")->in[0], ir_find_tensor(ir, "z1"));
  assert_ptr_equal(add2->in[1], ir_find_tensor(ir, "z1"));   /* function input a */
  assert_ptr_equal(add2->out[0], ir->outputs[0]);
  for (int i = 0; i < ir->n_nodes; i++) assert_string_equal(ir->nodes[i]->domain, "");
  ir_graph_free(ir);
  free_all();
}

static Onnx__StringStringEntryProto *kv(const char *k, const char *v) {
  Onnx__StringStringEntryProto *e = A(sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = str(k);
  e->value = str(v);
  return e;
}

/* An initializer in a file beside the model: found from onnx_load_file,
 * refused from a buffer (no folder to resolve it against). */
static void test_external_data(void **state) {
  (void)state;
  char dir[] = "/tmp/test_onnx_load_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], wpath[256];
  snprintf(wpath, sizeof wpath, "%s/w.bin", dir);
  const float wv[3] = {1.25f, -2.0f, 8.0f};
  FILE *f = fopen(wpath, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(wv, sizeof wv, 1, f), 1);
  fclose(f);

  Onnx__ModelProto *m = model(13);
  Onnx__TensorProto *t = A(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = str("w");
  t->has_data_type = 1;
  t->data_type = F32;
  t->n_dims = 1;
  t->dims = A(sizeof *t->dims);
  t->dims[0] = 3;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  t->n_external_data = 1;
  t->external_data = A(sizeof *t->external_data);
  t->external_data[0] = kv("location", "w.bin");
  initializer(m->graph, t);
  node(m->graph, "Relu", "r", "w", "y");
  output(m->graph, "y", F32, NULL);
  size_t n = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = A(n);
  onnx__model_proto__pack(m, buf);
  snprintf(path, sizeof path, "%s/m.onnx", dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, n, 1, f), 1);
  fclose(f);

  ir_graph *g = onnx_load_file(path, NULL);
  if (!g) fail_msg("%s", ir_last_error());
  ir_tensor *w = ir_find_tensor(g, "w");
  assert_int_equal(w->role, IR_PARAM);
  assert_true(f32_at(w, 0) == 1.25f && f32_at(w, 2) == 8.0f);
  ir_graph_free(g);
  g = onnx_load_buffer(buf, n, NULL, NULL);
  if (g) ir_graph_free(g);
  assert_null(g);
  assert_non_null(strstr(ir_last_error(), "initializer 'w'"));
  remove(path);
  remove(wpath);
  rmdir(dir);
  free_all();
}

static int count_op(const ir_graph *g, const char *op) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) k += strcmp(g->nodes[i]->op_type, op) == 0;
  return k;
}

static void test_real_hello_deepa(void **state) {
  (void)state;
  ir_shape_binding sh = {"onnx::Flatten_0", 3, {1, 25, 96}};
  fe_opts o;
  memset(&o, 0, sizeof o);
  o.bind.n_shapes = 1;
  o.bind.shapes = &sh;
  ir_graph *g = onnx_load_file("/work/shared/models/hello_deepa/model.onnx", &o);
  if (!g) fail_msg("%s", ir_last_error());
  /* 29 nodes of which 4 Constants; 1 input + 10 initializers + 29 node
   * outputs + 4 ReduceMean axes moved to inputs (opset 13 < 18). */
  assert_int_equal(g->n_nodes, 25);
  assert_int_equal(g->n_tensors, 44);
  assert_int_equal(count_op(g, "ReduceMean"), 4);
  assert_int_equal(count_op(g, "Gemm"), 3);
  assert_int_equal(count_op(g, "Add"), 4);
  assert_int_equal(count_op(g, "Constant"), 0);
  assert_int_equal(g->n_inputs, 1);
  assert_true(g->inputs[0]->rank == 3 && g->inputs[0]->shape[2] == 96);
  assert_int_equal(g->n_outputs, 1);
  assert_string_equal(g->outputs[0]->name, "39");
  ir_tensor *w = ir_find_tensor(g, "layer1.weight");
  assert_int_equal(w->role, IR_PARAM);
  assert_true(w->rank == 2 && w->shape[0] == 32 && w->shape[1] == 2400);
  ir_tensor *eps = ir_find_tensor(g, "/layernorm1/Constant_1_output_0");
  assert_int_equal(eps->role, IR_CONST);
  assert_true(fabsf(f32_at(eps, 0) - 1e-5f) < 1e-12f);
  ir_node *rm = find_node(g, "/layernorm1/ReduceMean");
  assert_int_equal(rm->n_in, 2);
  assert_true(rm->in[1]->dtype == IR_I64 && i64_at(rm->in[1], 0) == -1);
  for (int i = 0; i < g->n_nodes; i++) assert_non_null(g->nodes[i]->op);
  ir_graph_free(g);
}

static void test_real_conv(void **state) {
  (void)state;
  ir_graph *g = onnx_load_file("/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx", NULL);
  if (!g) fail_msg("%s", ir_last_error());
  assert_int_equal(g->n_nodes, 1);
  assert_int_equal(g->n_inputs, 2);
  assert_string_equal(g->inputs[1]->name, "W");
  assert_true(g->inputs[1]->rank == 4 && g->inputs[1]->shape[2] == 3);
  ir_node *n = g->nodes[0];
  assert_string_equal(n->op_type, "Conv");
  assert_int_equal(n->opset, 11);
  const int64_t *v;
  assert_int_equal(ir_attr_ints(n, "strides", &v), 2);
  assert_true(v[0] == 2 && v[1] == 2);
  assert_int_equal(ir_attr_ints(n, "kernel_shape", &v), 2);
  assert_true(v[0] == 3 && v[1] == 3);
  assert_int_equal(ir_attr_ints(n, "pads", &v), 4);
  assert_true(v[0] == 1 && v[3] == 1);
  assert_string_equal(g->outputs[0]->name, "y");
  assert_true(g->outputs[0]->rank == 4 && g->outputs[0]->shape[2] == 4 && g->outputs[0]->shape[3] == 3);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inputs_params_consts),
      cmocka_unit_test(test_bound_small_model),
      cmocka_unit_test(test_attribute_types),
      cmocka_unit_test(test_unsupported_attribute_types),
      cmocka_unit_test(test_constant_forms),
      cmocka_unit_test(test_opset11_squeeze_axes),
      cmocka_unit_test(test_old_opset_forms),
      cmocka_unit_test(test_legacy_broadcast),
      cmocka_unit_test(test_unsupported_ops_listed),
      cmocka_unit_test(test_undefined_input),
      cmocka_unit_test(test_shape_dim_const),
      cmocka_unit_test(test_binding_errors),
      cmocka_unit_test(test_hostile_models),
      cmocka_unit_test(test_subgraph),
      cmocka_unit_test(test_function_inlining),
      cmocka_unit_test(test_external_data),
      cmocka_unit_test(test_real_hello_deepa),
      cmocka_unit_test(test_real_conv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
