/*
 * test_emit.c - the C backend driver (compiler/backend/emit.c).
 *
 * A tiny graph is built by hand on stand-in ops defined here (their emit
 * callbacks write plain loops through emit_line/emit_in/emit_out), so the
 * test depends on no op group.  It is planned, emitted twice (the two file
 * sets must be byte-identical), compiled with the system C compiler under
 * -std=c99 -pedantic -Werror, and run: through the generated harness on .npy
 * files (values checked against hand-computed ones, --bench's last line, a
 * wrong input refused with exit 1) and through a small driver of our own that
 * uses the static arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "compiler/backend/emit.h"
#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/plan.h"
#include "runtime/npy.h"
#include "optest.h"

/* ---- stand-in ops --------------------------------------------------------- */

static int emit_relu(emit_ctx *e, const ir_node *n) {
  const char *x = emit_in(e, 0), *y = emit_out(e, 0), *i = emit_fresh(e, "i");
  char zero[32];
  emit_literal(zero, sizeof zero, IR_F32, 0.0);
  emit_line(e, "for (int64_t %s = 0; %s < %lld; %s++) {", i, i, (long long)ir_numel(n->out[0]), i);
  emit_indent(e, 1);
  emit_line(e, "%s[%s] = %s[%s] > %s ? %s[%s] : %s;", y, i, x, i, zero, x, i, zero);
  emit_indent(e, -1);
  emit_line(e, "}");
  return 0;
}

/* y = x0 + x1 (+ x2 when present), staged through scratch to exercise it. */
static int emit_add(emit_ctx *e, const ir_node *n) {
  const char *a = emit_in(e, 0), *b = emit_in(e, 1), *c = emit_in(e, 2), *y = emit_out(e, 0);
  const char *s = emit_scratch(e), *i = emit_fresh(e, "i");
  long long len = (long long)ir_numel(n->out[0]);
  emit_helper(e, "add_f32", "static float add_f32(float p, float q) { return p + q; }");
  emit_helper(e, "add_f32", "this text must not appear");
  emit_line(e, "float *t = (float *)(void *)%s;", s);
  emit_line(e, "for (int64_t %s = 0; %s < %lld; %s++) t[%s] = %s[%s];", i, i, len, i, i, a, i);
  emit_line(e, "for (int64_t %s = 0; %s < %lld; %s++)", i, i, len, i);
  if (c) emit_line(e, "  %s[%s] = add_f32(add_f32(t[%s], %s[%s]), %s[%s]);", y, i, i, b, i, c, i);
  else emit_line(e, "  %s[%s] = add_f32(t[%s], %s[%s]);", y, i, i, b, i);
  return 0;
}

static int64_t add_scratch(const ir_node *n) { return ir_nbytes(n->out[0]); }

static const op_def relu_op = {.name = "MyRelu", .domain = "", .min_in = 1, .max_in = 1, .min_out = 1,
                               .max_out = 1, .emit = emit_relu};
static const op_def add_op = {.name = "MyAdd", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1,
                              .max_out = 1, .emit = emit_add, .scratch_bytes = add_scratch};
static const op_def mute_op = {.name = "Mute", .domain = "", .min_in = 1, .max_in = 1, .min_out = 1,
                               .max_out = 1};

static ir_node *node(ir_graph *g, const op_def *op, const char *name, int n_in, ir_tensor **in, ir_tensor *out) {
  ir_node *n = ir_add_node(g, op->name, name);
  n->op = op;
  ir_node_set_io(n, n_in, in, 1, &out);
  return n;
}

static const float x_val[6] = {-1.0f, 2.0f, -3.0f, 4.0f, 0.5f, -0.25f};
static const float w_val[6] = {0.5f, -1.0f, -0.0f, 2.0f, 3.25f, -4.0f};
/* relu(2 * (relu(x) + w)), by hand */
static const float y_val[6] = {1.0f, 2.0f, 0.0f, 12.0f, 7.5f, 0.0f};

/* x [2,3], unused [1] -> outputs "y:0" [2,3], x (an input), w (a constant) */
static ir_graph *tiny_graph(void) {
  ir_graph *g = ir_graph_new("tiny graph", NULL);
  int64_t shape[2] = {2, 3}, one = 1;
  ir_tensor *x = ir_add_tensor(g, "x", IR_F32, IR_INPUT);
  ir_tensor *unused = ir_add_tensor(g, "unused", IR_F32, IR_INPUT);
  ir_tensor *w = ir_add_tensor(g, "w", IR_F32, IR_CONST);
  ir_tensor *a = ir_add_tensor(g, "a", IR_F32, IR_ACTIVATION);
  ir_tensor *b = ir_add_tensor(g, "b", IR_F32, IR_ACTIVATION);
  ir_tensor *c = ir_add_tensor(g, "c", IR_F32, IR_ACTIVATION);
  ir_tensor *y = ir_add_tensor(g, "y:0", IR_F32, IR_ACTIVATION);
  ir_tensor *all[] = {x, w, a, b, c, y};
  for (int i = 0; i < 6; i++) ir_set_shape(all[i], 2, shape);
  ir_set_shape(unused, 1, &one);
  ir_tensor_set_data(w, w_val, sizeof w_val);
  ir_graph_add_input(g, x);
  ir_graph_add_input(g, unused);
  node(g, &relu_op, "relu/1", 1, &x, a);
  ir_tensor *ab[2] = {a, w};
  node(g, &add_op, "add_w", 2, ab, b);
  ir_tensor *bb[3] = {b, b, NULL};  /* the same tensor twice, a missing optional input */
  node(g, &add_op, "double", 3, bb, c);
  node(g, &relu_op, "relu/2", 1, &c, y);
  ir_graph_add_output(g, y);
  ir_graph_add_output(g, x);
  ir_graph_add_output(g, w);
  return g;
}

/* ---- helpers ---------------------------------------------------------------- */

static char tmp[64];

static int setup(void **state) {
  (void)state;
  strcpy(tmp, "/tmp/test_emit_XXXXXX");
  if (!mkdtemp(tmp)) return -1;
  ir_graph *g = tiny_graph();
  emit_options opt = {.name = "tiny", .emit_main = 1};
  int rc = pass_plan(g);
  if (rc == 0 && (ot_sh("mkdir -p %s/a %s/b %s/out", tmp, tmp, tmp) != 0)) rc = -1;
  char dir[128];
  snprintf(dir, sizeof dir, "%s/a", tmp);
  if (rc == 0) rc = emit_c(g, &opt, dir);
  snprintf(dir, sizeof dir, "%s/b", tmp);
  if (rc == 0) rc = emit_c(g, &opt, dir);
  if (rc) fprintf(stderr, "setup: %s\n", ir_last_error());
  ir_graph_free(g);
  return rc;
}

static int teardown(void **state) {
  (void)state;
  ot_sh("rm -rf %s", tmp);
  return 0;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_deterministic(void **state) {
  (void)state;
  const char *files[] = {"tiny.h", "tiny.c", "tiny_weights.c", "tiny_main.c"};
  for (int i = 0; i < 4; i++) {
    char pa[128], pb[128];
    size_t la, lb;
    snprintf(pa, sizeof pa, "%s/a/%s", tmp, files[i]);
    snprintf(pb, sizeof pb, "%s/b/%s", tmp, files[i]);
    char *a = ot_slurp(pa, &la), *b = ot_slurp(pb, &lb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
  }
}

static void test_header_and_weights(void **state) {
  (void)state;
  char p[128];
  snprintf(p, sizeof p, "%s/a/tiny.h", tmp);
  char *h = ot_slurp(p, NULL);
  assert_non_null(h);
  assert_non_null(strstr(h, "int tiny_infer(const float *input_x, const float *input_unused, "
                            "float *output_y_0, float *output_x, float *output_w, void *arena);"));
  assert_non_null(strstr(h, "#define tiny_NUM_INPUTS 2\n"));
  assert_non_null(strstr(h, "#define tiny_NUM_OUTPUTS 3\n"));
  assert_non_null(strstr(h, "#define tiny_INPUT_0_NAME \"x\"\n"));
  assert_non_null(strstr(h, "#define tiny_INPUT_0_DTYPE \"float32\"\n"));
  assert_non_null(strstr(h, "#define tiny_INPUT_0_RANK 2\n"));
  assert_non_null(strstr(h, "#define tiny_INPUT_0_SHAPE {2,3}\n"));
  assert_non_null(strstr(h, "#define tiny_INPUT_0_SIZE 6\n"));
  assert_non_null(strstr(h, "#define tiny_OUTPUT_0_NAME \"y:0\"\n"));
  assert_non_null(strstr(h, "#define tiny_ARENA_BYTES "));
  free(h);
  snprintf(p, sizeof p, "%s/a/tiny_weights.c", tmp);
  char *w = ot_slurp(p, NULL);
  assert_non_null(w);
  /* 0.5, -1, -0, 2, 3.25, -4 as IEEE bit patterns */
  assert_non_null(strstr(w, "0x3f000000u, 0xbf800000u, 0x80000000u, 0x40000000u, 0x40500000u, 0xc0800000u"));
  free(w);
  snprintf(p, sizeof p, "%s/a/tiny.c", tmp);
  char *c = ot_slurp(p, NULL);
  assert_non_null(c);
  assert_non_null(strstr(c, "(void)input_unused;"));
  assert_non_null(strstr(c, "static float add_f32"));
  assert_null(strstr(c, "this text must not appear"));
  /* the node given b twice has no restrict on those parameters */
  assert_non_null(strstr(c, "static void node_2_MyAdd(const float *x0, const float *x1, float *restrict y0, "
                            "unsigned char *restrict scratch)"));
  free(c);
}

static void test_compile_and_run(void **state) {
  (void)state;
  const char *cc = "cc -std=c99 -Wall -Wextra -Werror -pedantic -O1";
  int64_t shape[2] = {2, 3}, one = 1;
  float unused = 0.0f;
  char p[256], err[256];
  assert_int_equal(ot_sh("%s -o %s/tiny_main %s/a/tiny.c %s/a/tiny_weights.c %s/a/tiny_main.c -lm", cc, tmp, tmp,
                      tmp, tmp), 0);
  snprintf(p, sizeof p, "%s/x.npy", tmp);
  ot_write_npy(p, "<f4", 2, shape, x_val);
  snprintf(p, sizeof p, "%s/u.npy", tmp);
  ot_write_npy(p, "<f4", 1, &one, &unused);
  assert_int_equal(ot_sh("%s/tiny_main %s/x.npy %s/u.npy -o %s/out", tmp, tmp, tmp, tmp), 0);

  const char *names[3] = {"y_0", "x", "w"};
  const float *want[3] = {y_val, x_val, w_val};
  for (int k = 0; k < 3; k++) {
    npy_array arr;
    memset(&arr, 0, sizeof arr);
    snprintf(p, sizeof p, "%s/out/%s.npy", tmp, names[k]);
    assert_int_equal(npy_read(p, &arr, err, sizeof err), 0);
    assert_string_equal(arr.descr, "<f4");
    assert_int_equal(arr.rank, 2);
    assert_int_equal(arr.shape[0], 2);
    assert_int_equal(arr.shape[1], 3);
    assert_int_equal(arr.nbytes, 24);
    assert_memory_equal(arr.data, want[k], 24);  /* bit-exact, -0 included */
    npy_free(&arr);
  }

  /* --bench: the last line is median_us: X */
  snprintf(p, sizeof p, "%s/bench.txt", tmp);
  assert_int_equal(ot_sh("%s/tiny_main --bench 5 %s/x.npy %s/u.npy > %s", tmp, tmp, tmp, p), 0);
  char *out = ot_slurp(p, NULL);
  assert_non_null(out);
  size_t len = strlen(out);
  assert_true(len > 0 && out[len - 1] == '\n');
  out[len - 1] = '\0';
  char *last = strrchr(out, '\n');
  last = last ? last + 1 : out;
  assert_int_equal(strncmp(last, "median_us: ", 11), 0);
  char *end;
  double us = strtod(last + 11, &end);
  assert_true(end != last + 11 && *end == '\0' && us >= 0);
  free(out);
}

static void test_wrong_input_refused(void **state) {
  (void)state;
  int64_t shape[2] = {3, 2}, one = 1;
  double d6[6] = {0};
  float f6[6] = {0}, unused = 0;
  char p[256];
  assert_int_equal(ot_sh("cc -std=c99 -Wall -Wextra -Werror -pedantic -o %s/tiny_main2 %s/a/tiny.c "
                      "%s/a/tiny_weights.c %s/a/tiny_main.c -lm", tmp, tmp, tmp, tmp), 0);
  snprintf(p, sizeof p, "%s/bad.npy", tmp);
  ot_write_npy(p, "<f4", 2, shape, f6);
  snprintf(p, sizeof p, "%s/u.npy", tmp);
  ot_write_npy(p, "<f4", 1, &one, &unused);
  assert_int_equal(ot_sh("%s/tiny_main2 %s/bad.npy %s/u.npy -o %s/out 2> %s/err.txt", tmp, tmp, tmp, tmp, tmp), 1);
  snprintf(p, sizeof p, "%s/err.txt", tmp);
  char *msg = ot_slurp(p, NULL), want[512];
  snprintf(want, sizeof want, "tiny_main: input 'x' (%s/bad.npy): expected float32 [2,3], got float32 [3,2]\n", tmp);
  assert_string_equal(msg, want);
  free(msg);

  shape[0] = 2;
  shape[1] = 3;
  snprintf(p, sizeof p, "%s/bad64.npy", tmp);
  ot_write_npy(p, "<f8", 2, shape, d6);
  assert_int_equal(ot_sh("%s/tiny_main2 %s/bad64.npy %s/u.npy 2> %s/err.txt", tmp, tmp, tmp, tmp), 1);
  snprintf(p, sizeof p, "%s/err.txt", tmp);
  msg = ot_slurp(p, NULL);
  snprintf(want, sizeof want, "tiny_main: input 'x' (%s/bad64.npy): expected float32 [2,3], got float64 [2,3]\n", tmp);
  assert_string_equal(msg, want);
  free(msg);
  /* too few files is a usage error */
  assert_int_equal(ot_sh("%s/tiny_main2 %s/u.npy 2> /dev/null", tmp, tmp), 2);
}

/* Our own driver: the static arena (NULL), and a C11 build of NAME.c. */
static void test_static_arena_driver(void **state) {
  (void)state;
  char p[256];
  snprintf(p, sizeof p, "%s/driver.c", tmp);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fprintf(f,
          "#include <stdio.h>\n#include <string.h>\n#include \"tiny.h\"\n"
          "int main(void) {\n"
          "  static const float x[tiny_INPUT_0_SIZE] = {-1.0f, 2.0f, -3.0f, 4.0f, 0.5f, -0.25f};\n"
          "  static const float want[6] = {1.0f, 2.0f, 0.0f, 12.0f, 7.5f, 0.0f};\n"
          "  float u[1] = {0}, y[tiny_OUTPUT_0_SIZE], xo[6], w[6];\n"
          "  const long long shape[] = tiny_INPUT_0_SHAPE;\n"
          "  if (shape[0] != 2 || shape[1] != 3 || tiny_ARENA_BYTES %% 64) return 3;\n"
          "  if (tiny_infer(x, u, y, xo, w, NULL) != 0) return 4;\n"
          "  if (memcmp(y, want, sizeof y) || memcmp(xo, x, sizeof xo)) return 5;\n"
          "  return w[2] == 0.0f && 1.0f / w[2] < 0.0f ? 0 : 6;  /* -0 survived */\n"
          "}\n");
  fclose(f);
  assert_int_equal(ot_sh("cc -std=c99 -Wall -Wextra -Werror -pedantic -I%s/a -o %s/driver %s/driver.c %s/a/tiny.c "
                      "%s/a/tiny_weights.c -lm", tmp, tmp, tmp, tmp, tmp), 0);
  assert_int_equal(ot_sh("%s/driver", tmp), 0);
  assert_int_equal(ot_sh("cc -std=c11 -Wall -Wextra -Werror -pedantic -I%s/a -o %s/driver11 %s/driver.c %s/a/tiny.c "
                      "%s/a/tiny_weights.c -lm", tmp, tmp, tmp, tmp, tmp), 0);
  assert_int_equal(ot_sh("%s/driver11", tmp), 0);
}

/* Constants of every dtype, written out through a graph with no inputs and
 * no nodes (each output a copy of a constant): the bytes must survive
 * exactly, NaN payloads, -0, INT64_MIN, scalars and empty tensors included. */
typedef struct cst {
  const char *name, *descr;
  ir_dtype dt;
  int rank;
  int64_t shape[2];
  const void *data;
  size_t nbytes;
} cst;

static void test_weights_exact(void **state) {
  (void)state;
  static uint32_t f32[30];
  for (int i = 0; i < 30; i++) f32[i] = 0x3f800000u + (uint32_t)i * 0x1234567u;
  f32[3] = 0x7fc00123u;  /* NaN with a payload */
  f32[4] = 0xff800000u;  /* -inf */
  f32[5] = 0x80000000u;  /* -0 */
  static const uint64_t f64[3] = {0x7ff0000000000123ull, 0x8000000000000000ull, 0x3fb999999999999aull};
  static const uint16_t f16[2] = {0x3c00, 0x7e01};
  static const int64_t i64[3] = {INT64_MIN, INT64_MAX, -1};
  static const int32_t i32[3] = {INT32_MIN, -1, 7};
  static const int16_t i16[2] = {-32768, 32767};
  static const int8_t i8[2] = {-128, 127};
  static const uint64_t u64[1] = {UINT64_MAX};
  static const uint32_t u32[1] = {4000000000u};
  static const uint16_t u16[1] = {65535};
  static const uint8_t u8[2] = {0, 255};
  static const uint8_t bl[3] = {1, 0, 1};
  static const float scalar = 2.5f;
  const cst cs[] = {
    {"f32 values", "<f4", IR_F32, 2, {5, 6}, f32, sizeof f32},
    {"f64", "<f8", IR_F64, 1, {3, 0}, f64, sizeof f64},
    {"f16", "<f2", IR_F16, 1, {2, 0}, f16, sizeof f16},
    {"i64", "<i8", IR_I64, 1, {3, 0}, i64, sizeof i64},
    {"i32", "<i4", IR_I32, 1, {3, 0}, i32, sizeof i32},
    {"i16", "<i2", IR_I16, 1, {2, 0}, i16, sizeof i16},
    {"i8", "|i1", IR_I8, 1, {2, 0}, i8, sizeof i8},
    {"u64", "<u8", IR_U64, 1, {1, 0}, u64, sizeof u64},
    {"u32", "<u4", IR_U32, 1, {1, 0}, u32, sizeof u32},
    {"u16", "<u2", IR_U16, 1, {1, 0}, u16, sizeof u16},
    {"u8", "|u1", IR_U8, 1, {2, 0}, u8, sizeof u8},
    {"bool", "|b1", IR_BOOL, 1, {3, 0}, bl, sizeof bl},
    {"scalar", "<f4", IR_F32, 0, {0, 0}, &scalar, sizeof scalar},
    {"empty", "<f4", IR_F32, 2, {0, 3}, NULL, 0},
  };
  int nc = (int)(sizeof cs / sizeof cs[0]);
  ir_graph *g = ir_graph_new("consts", NULL);
  for (int i = 0; i < nc; i++) {
    ir_tensor *t = ir_add_tensor(g, cs[i].name, cs[i].dt, IR_CONST);
    ir_set_shape(t, cs[i].rank, cs[i].shape);
    ir_tensor_set_data(t, cs[i].data, cs[i].nbytes);
    ir_graph_add_output(g, t);
  }
  char dir[128], p[256], err[256];
  snprintf(dir, sizeof dir, "%s/consts", tmp);
  assert_int_equal(ot_sh("mkdir -p %s/out", dir), 0);
  assert_int_equal(pass_plan(g), 0);
  emit_options opt = {.name = "consts", .emit_main = 1};
  assert_int_equal(emit_c(g, &opt, dir), 0);
  ir_graph_free(g);
  const char *flags = "-Wall -Wextra -Werror -pedantic";
  assert_int_equal(ot_sh("gcc -std=c99 -O2 %s -o %s/m1 %s/consts.c %s/consts_weights.c %s/consts_main.c -lm", flags,
                      dir, dir, dir, dir), 0);
  assert_int_equal(ot_sh("clang -std=c99 %s -fsanitize=address,undefined -o %s/m2 %s/consts.c %s/consts_weights.c "
                      "%s/consts_main.c -lm", flags, dir, dir, dir, dir), 0);
  for (int run = 0; run < 2; run++) {
    assert_int_equal(ot_sh("%s/m%d -o %s/out", dir, run + 1, dir), 0);
    for (int i = 0; i < nc; i++) {
      npy_array arr;
      memset(&arr, 0, sizeof arr);
      char fname[32];
      snprintf(fname, sizeof fname, "%s", cs[i].name);
      for (char *q = fname; *q; q++)
        if (*q == ' ') *q = '_';
      snprintf(p, sizeof p, "%s/out/%s.npy", dir, fname);
      assert_int_equal(npy_read(p, &arr, err, sizeof err), 0);
      assert_string_equal(arr.descr, cs[i].descr);
      assert_int_equal(arr.rank, cs[i].rank);
      for (int k = 0; k < cs[i].rank; k++) assert_int_equal(arr.shape[k], cs[i].shape[k]);
      assert_int_equal(arr.nbytes, cs[i].nbytes);
      if (cs[i].nbytes) assert_memory_equal(arr.data, cs[i].data, cs[i].nbytes);
      npy_free(&arr);
    }
  }
}

static void test_no_emitter(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("mute", NULL);
  int64_t two = 2;
  ir_tensor *x = ir_add_tensor(g, "x", IR_F32, IR_INPUT);
  ir_tensor *y = ir_add_tensor(g, "y", IR_F32, IR_ACTIVATION);
  ir_set_shape(x, 1, &two);
  ir_set_shape(y, 1, &two);
  ir_graph_add_input(g, x);
  node(g, &mute_op, "quiet", 1, &x, y);
  ir_graph_add_output(g, y);
  assert_int_equal(pass_plan(g), 0);
  emit_options opt = {.name = "mute"};
  assert_int_equal(emit_c(g, &opt, tmp), -1);
  assert_non_null(strstr(ir_last_error(), "'quiet'"));
  assert_non_null(strstr(ir_last_error(), "Mute"));
  opt.name = "not a name";
  assert_int_equal(emit_c(g, &opt, tmp), -1);
  ir_graph_free(g);
}

static void test_literals_and_idents(void **state) {
  (void)state;
  char b[64];
  assert_string_equal(emit_literal(b, sizeof b, IR_F32, 1.5), "0x1.8p+0f");
  assert_string_equal(emit_literal(b, sizeof b, IR_F32, 0.1), "0x1.99999ap-4f");  /* (float)0.1 */
  assert_string_equal(emit_literal(b, sizeof b, IR_F64, 0.1), "0x1.999999999999ap-4");
  assert_string_equal(emit_literal(b, sizeof b, IR_F32, -2.0), "(-0x1p+1f)");
  assert_string_equal(emit_literal(b, sizeof b, IR_F32, NAN), "NAN");
  assert_string_equal(emit_literal(b, sizeof b, IR_F32, INFINITY), "INFINITY");
  assert_string_equal(emit_literal(b, sizeof b, IR_F32, -INFINITY), "(-INFINITY)");
  assert_string_equal(emit_literal(b, sizeof b, IR_I64, 7.0), "7LL");
  assert_string_equal(emit_literal_i64(b, sizeof b, IR_I64, INT64_MIN), "(-9223372036854775807LL-1)");
  assert_string_equal(emit_literal_i64(b, sizeof b, IR_I64, -5), "(-5LL)");
  assert_string_equal(emit_literal_i64(b, sizeof b, IR_I32, INT32_MIN), "(-2147483647-1)");
  assert_string_equal(emit_literal_i64(b, sizeof b, IR_U64, -1), "18446744073709551615ULL");
  assert_string_equal(emit_literal_i64(b, sizeof b, IR_U32, 4000000000LL), "4000000000u");
  emit_c_ident(b, sizeof b, "conv1/weight:0");
  assert_string_equal(b, "conv1_weight_0");
  emit_c_ident(b, sizeof b, "3x.y");
  assert_string_equal(b, "_3x_y");
  emit_c_ident(b, sizeof b, "");
  assert_string_equal(b, "_");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_deterministic),
    cmocka_unit_test(test_header_and_weights),
    cmocka_unit_test(test_compile_and_run),
    cmocka_unit_test(test_wrong_input_refused),
    cmocka_unit_test(test_static_arena_driver),
    cmocka_unit_test(test_weights_exact),
    cmocka_unit_test(test_no_emitter),
    cmocka_unit_test(test_literals_and_idents),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
