/*
 * test_dsl.c - the model language's frontend (compiler/dsl/) and the .npz
 * reader it loads weights with (runtime/npz.c).
 *
 * Errors: every kind of bad input gets its message at its line and column,
 * with the source line and a caret under the column, and several errors
 * are reported in one run.  Values: a model's output is checked against the
 * same arithmetic written out in plain loops here, with weights from a
 * fixture numpy wrote (tests/data/dsl/make_dsl_data.py: p = arange(6)/4).
 * The formatter's canonical layout is spelled out by hand and must be a
 * fixed point.  Under MODELC_SANITIZE the hostile cases also prove that no
 * input reads out of bounds.
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

#include "compiler/dsl/dsl.h"
#include "compiler/passes/passes.h"
#include "runtime/interp.h"
#include "runtime/npz.h"

#define DATA "tests/data/dsl"

/* Load src as "t.nn" with weights read from DATA; diagnostics into *diag. */
static ir_graph *load(const char *src, const fe_opts *o, char **diag) {
  size_t n;
  FILE *f = open_memstream(diag, &n);
  assert_non_null(f);
  ir_graph *g = dsl_load_buffer(src, strlen(src), "t.nn", DATA, o, f);
  fclose(f);
  return g;
}

/* src must fail with `want` ("t.nn:L:C: message" start) in its diagnostics,
 * followed by the source line and a caret at column C. */
static void expect_diag(const char *src, const char *want) {
  char *diag = NULL;
  ir_graph *g = load(src, NULL, &diag);
  if (g || !strstr(diag, want)) fail_msg("want '%s', got:\n%s", want, diag);
  /* the caret: column C of the line quoted below the message */
  const char *m = strstr(diag, want);
  int line, col;
  assert_int_equal(sscanf(m, "t.nn:%d:%d:", &line, &col), 2);
  const char *quote = strchr(m, '\n') + 1, *caret = strchr(quote, '\n') + 1;
  const char *l = src;
  for (int k = 1; k < line; k++) l = strchr(l, '\n') + 1;
  assert_memory_equal(quote, "  ", 2);
  assert_memory_equal(quote + 2, l, (size_t)(strchr(l, '\n') - l));
  for (int i = 0; i < col + 1; i++) assert_int_equal(caret[i], ' ');
  assert_int_equal(caret[col + 1], '^');
  assert_true(strstr(ir_last_error(), "t.nn: ") != NULL);
  free(diag);
}

static void test_syntax_errors(void **state) {
  (void)state;
  /* a broken line: the open bracket ran into the next statement */
  expect_diag("input x: f32[2, 3]\nh = Relu(x\noutput h\n",
              "t.nn:3:1: expected ',' or ')', found 'output' on a new line: is a bracket left open?");
  expect_diag("input x: f32[2, 3]\nh = Relu(x))\noutput h\n",
              "t.nn:2:12: expected the end of the statement, found ')'");
  expect_diag("input x f32[2, 3]\n", "t.nn:1:9: expected ':' and a type, found 'f32'");
  expect_diag("input x: f32[2, 3]\nh = x\n", "t.nn:2:5: expected a call such as Relu(x) or dense(x, 10)");
  expect_diag("input x: f32[2, 3]\ny = Relu(x) $\n", "t.nn:2:13: unexpected character '$'");
  expect_diag("param p: f32[2] = uniform(1.5.5)\n", "t.nn:1:30: unexpected character '.'");
  expect_diag("input x: f32[2, 3]\ny = Relu(x, 99999999999999999999)\n", "t.nn:2:13: integer 99999999999999999999 does not fit");
  expect_diag("input x: f32[2, 3]\ntrain {\n  loss = mse(x, x)\n", "t.nn:2:1: train block is not closed");
  expect_diag("weights \"w.npz\n", "t.nn:1:9: unterminated string");
}

static void test_several_errors_in_one_run(void **state) {
  (void)state;
  /* syntax errors on three lines: each reported, the parser resumes at the next line */
  char *diag = NULL;
  assert_null(load("input x: f32[2, 3]\ny = Relu(x,, )\nz = = Relu(x)\ninput : f32[1]\noutput y\n", NULL, &diag));
  assert_non_null(strstr(diag, "t.nn:2:12: expected a value, found ','"));
  assert_non_null(strstr(diag, "t.nn:3:5: expected a value, found '='"));
  assert_non_null(strstr(diag, "t.nn:4:7: expected a name, found ':'"));
  assert_string_equal(ir_last_error(), "t.nn: 3 errors");
  free(diag);
  /* semantic errors: each independent one once; users of a failed name stay quiet */
  diag = NULL;
  assert_null(load("input x: f32[2, 3]\na = Rellu(x)\nb = Relu(a)\nc = Relu(nope)\nd = Relu(x, alpha=1.0)\noutput b\n",
                   NULL, &diag));
  if (!strstr(diag, "t.nn:2:5: unknown op or layer 'Rellu' (did you mean 'Relu'?)")) fail_msg("%s", diag);
  assert_null(strstr(diag, "t.nn:3:"));
  assert_non_null(strstr(diag, "t.nn:4:10: undefined name 'nope'"));
  assert_non_null(strstr(diag, "t.nn:5:13: Relu has no attribute 'alpha' (it takes none)"));
  assert_string_equal(ir_last_error(), "t.nn: 3 errors");
  free(diag);
}

static void test_semantic_errors(void **state) {
  (void)state;
  /* unknown op, unknown attribute (listing the op table's attribute specs) */
  expect_diag("input x: f32[1, 1, 4, 4]\ny = Convolution(x)\n",
              "t.nn:2:5: unknown op or layer 'Convolution' (`modelc ops` lists the ops");
  expect_diag("input x: f32[1, 1, 4, 4]\nparam w: f32[1, 1, 3, 3] = ones\ny = Conv(x, w, stride=[2, 2])\n",
              "t.nn:3:16: Conv has no attribute 'stride' (it takes: auto_pad, dilations, group, kernel_shape, pads, strides)");
  expect_diag("input x: f32[1, 1, 4, 4]\nparam w: f32[1, 1, 3, 3] = ones\ny = Conv(x, w, strides=2.5)\n",
              "t.nn:3:24: strides takes a list of integers");
  expect_diag("input x: f32[1, 8]\ny = dense(x, 4, units=3)\n", "t.nn:2:17: argument 'units' of 'dense' is given twice");
  expect_diag("input x: f32[1, 8]\ny = dense(x, 4, activation=relu)\n",
              "t.nn:2:17: layer 'dense' has no argument 'activation' (it takes: x, units, act, bias, init)");
  /* shapes that do not fit: the op table's inference, and a layer's input */
  expect_diag("input a: f32[2, 3]\ninput b: f32[2, 3]\ny = MatMul(a, b)\noutput y\n", "t.nn:3:5: node 'y' (MatMul):");
  expect_diag("input x: f32[1, 1, 4, 4]\ny = dense(x, 10)\n",
              "t.nn:2:11: dense takes a [batch, features] input; 'x' is [1,1,4,4]");
  expect_diag("input x: f32[2, 3]\ny = Add(x, [1.0, 2.0])\n",
              "t.nn:2:5: node 'y' (Add): shapes are not broadcastable");
  /* a parameter file of the wrong shape, and a missing key */
  expect_diag("param p: f32[3, 2] = load(\"weights.npz\")\n",
              "t.nn:1:7: parameter 'p' is float32 [3,2], but weights.npz holds float32 [2,3]");
  expect_diag("param q: f32[2] = load(\"weights.npz\")\n",
              "t.nn:1:7: parameter 'q' is float32 [2], but weights.npz holds float64 [2]");
  expect_diag("param r: f32[2] = load(\"weights.npz\")\n", "t.nn:1:19: weights.npz holds no array named 'r'");
  expect_diag("param r: f32[2] = load(\"compressed.npz\")\n",
              "t.nn:1:24: tests/data/dsl/compressed.npz: member 'p' is compressed: write the file with np.savez, not np.savez_compressed");
  expect_diag("weights \"weights.npz\"\nparam p: f32[3, 2] = xavier\n",
              "t.nn:2:7: parameter 'p' is float32 [3,2], but weights.npz holds float32 [2,3]");
  expect_diag("weights \"../dsl/weights.npz\"\n", "t.nn:1:9: '../dsl/weights.npz': weights are read from the model's folder and below only");
  expect_diag("param r: f32[2] = load(\"/etc/passwd\")\n", "t.nn:1:24: '/etc/passwd': weights are read from the model's folder");
  /* a cycle, and a name used before its definition without one */
  expect_diag("input x: f32[2]\na = Add(x, b)\nb = Relu(a)\noutput b\n",
              "t.nn:2:12: 'b' (line 3) depends on the result of this statement: the graph would have a cycle");
  expect_diag("input x: f32[2]\na = Relu(b)\nb = Relu(x)\noutput a\n", "t.nn:2:10: 'b' is used before its definition on line 3");
  expect_diag("input x: f32[2]\na = Relu(a)\noutput a\n", "t.nn:2:10: 'a' (line 2) depends on the result");
  /* undefined names, twice-defined ones, types */
  expect_diag("input x: f32[2]\ny = Relu(z)\noutput y\n", "t.nn:2:10: undefined name 'z'");
  expect_diag("input x: f32[2]\noutput y\n", "t.nn:2:8: undefined name 'y'");
  expect_diag("input x: f32[2]\nx = Relu(x)\n", "t.nn:2:1: 'x' is already defined");
  expect_diag("input x: f17[2]\n", "t.nn:1:10: unknown dtype 'f17'");
  expect_diag("input x: f32[N, 2]\ny = Relu(x)\noutput y\n", "t.nn:1:14: dimension 'N' has no size: give it one here (N=1)");
  expect_diag("input x: f32[2]\ny = Relu(Relu(x))\n", "t.nn:2:10: calls do not nest");
  expect_diag("input x: f32[2]\ny = Relu(x)\n", "t.nn:2:1: the model has no output statement");
  expect_diag("input x: f32[2]\ny, z = dense(x, 3)\n", "t.nn:2:4: dense gives 1 result");
}

static void test_train_block(void **state) {
  (void)state;
  const char *head = "input x: f32[N=4, 3]\nz = dense(x, 2)\noutput z\n";
  char src[1024], *diag = NULL;
  snprintf(src, sizeof src, "%strain {\n  input y: i64[N]\n  loss = cross_entropy(z, y)\n"
           "  optimizer = adam(lr=0.01, beta2=0.99)\n  epochs = 3\n  freeze z.bias\n}\n", head);
  ir_graph *g = load(src, NULL, &diag);
  if (!g) fail_msg("%s", diag);
  const ir_train *t = g->train;
  assert_non_null(t);
  assert_string_equal(t->loss, "cross_entropy");
  assert_string_equal(t->prediction, "z");
  assert_string_equal(t->label, "y");
  assert_int_equal(t->label_dtype, IR_I64);
  assert_true(t->label_rank == 1 && t->label_shape[0] == 4);
  assert_string_equal(t->optimizer, "adam");
  /* given values, defaults made explicit, then epochs */
  const char *names[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "epochs"};
  const double vals[] = {0.01, 0.9, 0.99, 1e-8, 0, 3};
  assert_int_equal(t->n_hyper, 6);
  for (int i = 0; i < 6; i++) {
    assert_string_equal(t->hyper_names[i], names[i]);
    assert_true(t->hyper_values[i] == vals[i]);
  }
  assert_true(t->n_frozen == 1 && !strcmp(t->frozen[0], "z.bias"));
  ir_graph_free(g);
  free(diag);

  snprintf(src, sizeof src, "%strain {\n  input y: i64[N]\n  loss = cross_entropy(z, y)\n  optimizer = rmsprop(lr=1)\n}\n", head);
  expect_diag(src, "t.nn:7:15: unknown optimizer (sgd, adam, adagrad)");
  snprintf(src, sizeof src, "%strain {\n  input y: i64[N]\n  loss = cross_entropy(z, y)\n  optimizer = sgd(lr=0.1)\n  freeze z\n}\n", head);
  expect_diag(src, "t.nn:8:10: freeze: 'z' is not a parameter");
  snprintf(src, sizeof src, "%strain {\n  input y: f32[N]\n  loss = cross_entropy(z, y)\n  optimizer = sgd(lr=0.1)\n}\n", head);
  expect_diag(src, "t.nn:6:27: cross_entropy takes integer class ids as its target");
  snprintf(src, sizeof src, "%strain {\n  optimizer = sgd(lr=0.1)\n}\n", head);
  expect_diag(src, "t.nn:4:1: the train block has no loss");
  snprintf(src, sizeof src, "%strain {\n  h = Relu(x)\n}\n", head);
  expect_diag(src, "t.nn:5:3: a train block holds: input (the labels), loss, optimizer, epochs, batch, freeze");
  expect_diag("input x: f32[2]\nfreeze x\n", "t.nn:2:1: 'freeze' belongs in a train block");
}

/* Runs g (after the passes) on in, returns output 0's data (malloc'd copy). */
static float *run(ir_graph *g, const float *in) {
  pass_options po;
  pass_options_default(&po);
  if (pass_run_all(g, &po)) fail_msg("%s", ir_last_error());
  interp_ctx ic;
  const void *inputs[1] = {in};
  if (interp_run(&ic, g, inputs)) fail_msg("%s", ir_last_error());
  size_t nb = (size_t)ir_nbytes(g->outputs[0]);
  float *out = malloc(nb);
  memcpy(out, interp_value(&ic, g->outputs[0]), nb);
  interp_free(&ic);
  return out;
}

static void test_values(void **state) {
  (void)state;
  /* y = relu(x @ p^T + c) with p from numpy's file and c a constant list:
   * the same arithmetic in plain loops below. */
  const char *src = "# comment\nmodel tiny\ninput x: f32[2, 3]\nparam p: f32[2, 3] = load(\"weights.npz\")\n"
                    "h = Gemm(x, p, [0.5, -3.0], transB=1)\ny = Relu(h)\noutput y\n";
  char *diag = NULL;
  ir_graph *g = load(src, NULL, &diag);
  if (!g) fail_msg("%s", diag);
  assert_string_equal(g->name, "tiny");
  const float x[6] = {1, -2, 3, 0.5f, 0.25f, -1};
  float *y = run(g, x);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      double acc = j == 0 ? 0.5 : -3.0;
      for (int k = 0; k < 3; k++) acc += x[i * 3 + k] * ((j * 3 + k) / 4.0);   /* p = arange(6)/4 */
      assert_float_equal(y[i * 2 + j], acc > 0 ? acc : 0, 1e-6);
    }
  free(y);
  ir_graph_free(g);
  free(diag);
}

static void test_bindings(void **state) {
  (void)state;
  const char *src = "input x: f32[N=2, 3]\ny = Relu(x)\noutput y\n";
  char *diag = NULL;
  ir_graph *g = load(src, NULL, &diag);
  assert_non_null(g);
  assert_true(g->inputs[0]->shape[0] == 2 && g->outputs[0]->shape[0] == 2);
  ir_graph_free(g);
  free(diag);
  fe_opts o;
  memset(&o, 0, sizeof o);
  ir_dim_binding dm = {"N", 5};
  o.bind.n_dims = 1;
  o.bind.dims = &dm;
  g = load(src, &o, &diag);
  assert_non_null(g);
  assert_true(g->inputs[0]->shape[0] == 5 && g->outputs[0]->shape[0] == 5);
  ir_graph_free(g);
  free(diag);
  ir_shape_binding sh = {"x", 2, {7, 4}};
  memset(&o, 0, sizeof o);
  o.bind.n_shapes = 1;
  o.bind.shapes = &sh;
  assert_null(load(src, &o, &diag));
  assert_non_null(strstr(diag, "t.nn: --shape x: dimension 1 is 3 in the model, got 4"));
  free(diag);
}

static void test_initializers(void **state) {
  (void)state;
  const char *src = "seed 9\nparam a: f32[64, 32] = xavier\nparam b: f32[64, 32] = xavier\n"
                    "param c: f32[64, 32] = uniform(-0.25, 0.25, seed=4)\nparam d: f32[3] = constant(0.5)\n"
                    "param e: f32[4000] = normal(1, 2, seed=1)\ninput x: f32[1]\ny = Relu(x)\noutput y\n";
  char *diag = NULL;
  ir_graph *g = load(src, NULL, &diag);
  if (!g) fail_msg("%s", diag);
  free(diag);
  ir_graph *g2 = load(src, NULL, &diag);
  const float *a = ir_find_tensor(g, "a")->data, *b = ir_find_tensor(g, "b")->data;
  const float *c = ir_find_tensor(g, "c")->data, *d = ir_find_tensor(g, "d")->data;
  const float *e = ir_find_tensor(g, "e")->data;
  /* deterministic; a parameter's default seed comes from its name */
  assert_memory_equal(a, ir_find_tensor(g2, "a")->data, 64 * 32 * 4);
  assert_memory_not_equal(a, b, 64 * 32 * 4);
  double bound = sqrt(6.0 / (32 + 64)), lo = 1, hi = -1, sum = 0, sq = 0;
  for (int i = 0; i < 64 * 32; i++) {
    assert_true(fabs(a[i]) <= bound && fabs(c[i]) <= 0.25);
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  assert_true(lo < -0.9 * bound && hi > 0.9 * bound);   /* the whole range is used */
  for (int i = 0; i < 3; i++) assert_true(d[i] == 0.5f);
  for (int i = 0; i < 4000; i++) sum += e[i], sq += (e[i] - 1.0) * (e[i] - 1.0);
  assert_float_equal(sum / 4000, 1.0, 0.1);
  assert_float_equal(sqrt(sq / 4000), 2.0, 0.1);
  ir_graph_free(g);
  ir_graph_free(g2);
  free(diag);
}

static char *format(const char *src) {
  char *out = NULL;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  if (dsl_format_buffer(src, strlen(src), "t.nn", f, NULL)) fail_msg("%s", ir_last_error());
  fclose(f);
  return out;
}

static void test_fmt(void **state) {
  (void)state;
  const char *messy = "# LeNet-ish\n\n\n  model   m\ninput x :f32[ N=1,1 , 28,28 ]   # the image\n\n\n"
                      "# first block\nc1=conv2d( x,6,\n   kernel = 5 , act=relu)\nparam w:f32[2]=constant( -0.5 )\n"
                      "output c1\ntrain{\n  input y:i64[N]\n\n loss=cross_entropy(c1,y)\n optimizer = sgd( lr=0.1 )\n"
                      "   freeze c1.weight,c1.bias\n}\n# the end\n";
  const char *canon = "# LeNet-ish\nmodel m\ninput x: f32[N=1, 1, 28, 28]  # the image\n\n"
                      "# first block\nc1 = conv2d(x, 6, kernel=5, act=relu)\nparam w: f32[2] = constant(-0.5)\n"
                      "output c1\ntrain {\n  input y: i64[N]\n\n  loss = cross_entropy(c1, y)\n  optimizer = sgd(lr=0.1)\n"
                      "  freeze c1.weight, c1.bias\n}\n\n# the end\n";
  char *once = format(messy);
  assert_string_equal(once, canon);
  char *twice = format(once);
  assert_string_equal(twice, once);
  free(once);
  free(twice);
  /* syntax errors: no output, the error counted */
  char *out = NULL;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  assert_int_equal(dsl_format_buffer("input x f32[1]\n", 15, "t.nn", f, NULL), -1);
  fclose(f);
  assert_string_equal(out, "");
  assert_string_equal(ir_last_error(), "t.nn: 1 error");
  free(out);
}

static void test_sniff(void **state) {
  (void)state;
  assert_true(dsl_sniff((const unsigned char *)"# hi\n\nmodel x\n", 14));
  assert_true(dsl_sniff((const unsigned char *)"input x: f32[1]", 15));
  assert_false(dsl_sniff((const unsigned char *)"\x08\x07\x12\x04", 4));   /* protobuf */
  assert_false(dsl_sniff((const unsigned char *)"hello world", 11));
  assert_false(dsl_sniff((const unsigned char *)"model\0x", 7));
}

static void test_npz(void **state) {
  (void)state;
  npz_file z;
  char err[512];
  if (npz_read(DATA "/weights.npz", 0, &z, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(z.n, 2);
  const npz_member *p = npz_find(&z, "p"), *q = npz_find(&z, "q");
  assert_non_null(p);
  assert_non_null(q);
  assert_string_equal(p->a.descr, "<f4");
  assert_true(p->a.rank == 2 && p->a.shape[0] == 2 && p->a.shape[1] == 3);
  for (int i = 0; i < 6; i++) assert_true(((float *)p->a.data)[i] == i / 4.0f);
  assert_string_equal(q->a.descr, "<f8");
  assert_true(((double *)q->a.data)[0] == 1.5 && ((double *)q->a.data)[1] == -2.0);
  assert_null(npz_find(&z, "r"));
  npz_free(&z);
  assert_int_equal(npz_read(DATA "/compressed.npz", 0, &z, err, sizeof err), -1);
  assert_non_null(strstr(err, "member 'p' is compressed: write the file with np.savez"));
  assert_int_equal(npz_read(DATA "/weights.npz", 100, &z, err, sizeof err), -1);
  assert_non_null(strstr(err, "larger than the byte limit"));
  /* every truncation and every single-byte change of the file: refused or
   * read, never a crash (ASan checks the reads) */
  FILE *f = fopen(DATA "/weights.npz", "rb");
  unsigned char buf[4096];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char path[] = "/tmp/modelc-npz-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  for (size_t cut = 0; cut <= len; cut++)
    for (int flip = -1; flip < (cut == len ? (int)len : 0); flip++) {
      unsigned char m[4096];
      memcpy(m, buf, cut);
      if (flip >= 0) m[flip] ^= 0xA5;
      f = fopen(path, "wb");
      fwrite(m, 1, cut, f);
      fclose(f);
      if (npz_read(path, 0, &z, err, sizeof err) == 0) npz_free(&z);
      else assert_true(strlen(err) > 0);
    }
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_syntax_errors), cmocka_unit_test(test_several_errors_in_one_run),
      cmocka_unit_test(test_semantic_errors), cmocka_unit_test(test_train_block),
      cmocka_unit_test(test_values), cmocka_unit_test(test_bindings),
      cmocka_unit_test(test_initializers), cmocka_unit_test(test_fmt),
      cmocka_unit_test(test_sniff), cmocka_unit_test(test_npz),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
