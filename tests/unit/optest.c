/*
 * optest.c - the shared helpers of the op tests; see optest.h for what each
 * one promises.  Written once from the copies the test programs carried;
 * where the copies differed, the difference is a parameter (ot_cc_opts) or
 * a second entry point (ot_expect_vals / ot_expect_rel).
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
#include <unistd.h>
#include <sys/wait.h>

#include "compiler/backend/emit.h"
#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/plan.h"
#include "runtime/interp.h"
#include "runtime/kernels/kutil.h"
#include "runtime/npy.h"
#include "optest.h"

enum { OT_MAX_IN = 16, OT_MAX_OUT = 8 };

/* ---- graph building ------------------------------------------------------- */

ir_tensor *ot_tensor_as(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, ir_role role) {
  ir_tensor *t = ir_add_tensor(g, name, dt, role);
  assert_non_null(t);
  ir_set_shape(t, rank, dims);
  return t;
}

ir_tensor *ot_tensor(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims) {
  return ot_tensor_as(g, name, dt, rank, dims, IR_INPUT);
}

ir_tensor *ot_input(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims) {
  ir_tensor *t = ot_tensor(g, name, dt, rank, dims);
  ir_graph_add_input(g, t);
  return t;
}

ir_tensor *ot_const(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const double *vals) {
  ir_tensor *t = ot_tensor_as(g, name, dt, rank, dims, IR_CONST);
  int64_t cnt = ir_numel(t);
  void *buf = calloc((size_t)cnt + 1, ir_dtype_size(dt));
  for (int64_t i = 0; i < cnt; i++) kstore_f(dt, buf, i, vals[i]);
  ir_tensor_set_data(t, buf, (size_t)ir_nbytes(t));
  free(buf);
  return t;
}

ir_tensor *ot_const_raw(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const void *data) {
  ir_tensor *t = ot_tensor_as(g, name, dt, rank, dims, IR_CONST);
  ir_tensor_set_data(t, data, (size_t)ir_nbytes(t));
  return t;
}

ir_tensor *ot_const_ints(ir_graph *g, const char *name, int cnt, const int64_t *v) {
  int64_t d = cnt;
  return ot_const_raw(g, name, IR_I64, 1, &d, v);
}

ir_node *ot_gradient(ir_graph *g, const ir_tensor *y, int nx, ir_tensor *const *xs, ir_tensor *const *dxs) {
  ir_node *gn = ir_add_node(g, "Gradient", "grad");
  free(gn->domain);
  gn->domain = ir_strdup("ai.onnx.preview.training");
  gn->opset = 1;
  ir_node_set_io(gn, nx, xs, nx, dxs);
  ir_attr *a = ir_attr_add(gn, "xs", IR_ATTR_STRINGS);
  a->n = nx;
  a->strings = ir_alloc((size_t)(nx + 1) * sizeof *a->strings);
  for (int i = 0; i < nx; i++) a->strings[i] = ir_strdup(xs[i]->name);
  ir_attr_set_string(gn, "y", y->name);
  if (op_validate(gn) < 0) fail_msg("%s", ir_last_error());
  return gn;
}

ir_node *ot_node_named(ir_graph *g, const char *name, const char *op, int opset, int n_in, ir_tensor *const *in,
                       int n_out, const char *const *outs) {
  ir_tensor *out[OT_MAX_OUT];
  assert_true(n_out <= OT_MAX_OUT);
  for (int j = 0; j < n_out; j++) out[j] = ir_add_tensor(g, outs[j], IR_UNDEF, IR_ACTIVATION);
  ir_node *n = ir_add_node(g, op, name);
  ir_node_set_io(n, n_in, in, n_out, out);
  n->opset = opset;
  return n;
}

ir_node *ot_node(ir_graph *g, const char *op, int opset, int n_in, ir_tensor *const *in, int n_out) {
  static int count;
  char name[32], outs[OT_MAX_OUT][48];
  const char *po[OT_MAX_OUT];
  assert_true(n_out <= OT_MAX_OUT);
  snprintf(name, sizeof name, "n%d", count++);
  for (int j = 0; j < n_out; j++) {
    snprintf(outs[j], sizeof outs[j], "%s_y%d", name, j);
    po[j] = outs[j];
  }
  return ot_node_named(g, name, op, opset, n_in, in, n_out, po);
}

/* ---- validation and inference --------------------------------------------- */

int ot_prepare(ir_graph *g, ir_node *n) {
  if (op_validate(n) < 0) return -1;
  return n->op->infer(g, n);
}

void ot_ok(ir_graph *g, ir_node *n) {
  if (ot_prepare(g, n) < 0) fail_msg("%s", ir_last_error());
}

void ot_fails(ir_graph *g, ir_node *n, const char *part) {
  if (ot_prepare(g, n) == 0) fail_msg("%s: expected an error containing '%s'", n->op_type, part);
  if (!strstr(ir_last_error(), part)) fail_msg("error '%s' lacks '%s'", ir_last_error(), part);
}

void ot_expect_error(const char *needle, const char *node_name) {
  const char *msg = ir_last_error();
  if (!strstr(msg, needle)) fail_msg("error '%s' does not mention '%s'", msg, needle);
  if (!strstr(msg, node_name)) fail_msg("error '%s' does not name the node", msg);
}

/* ---- running the interpreter ---------------------------------------------- */

double *ot_run(const ir_node *n, int j, const double *const *vals) {
  const void *in[OT_MAX_IN] = {0};
  void *out[OT_MAX_OUT] = {0}, *bufs[OT_MAX_IN] = {0};
  assert_true(n->n_in <= OT_MAX_IN && n->n_out <= OT_MAX_OUT);
  for (int i = 0; i < n->n_in; i++) {
    const ir_tensor *t = n->in[i];
    if (!t) continue;
    if (t->data) {
      in[i] = t->data;
      continue;
    }
    int64_t cnt = ir_numel(t);
    bufs[i] = calloc((size_t)cnt + 1, ir_dtype_size(t->dtype));
    for (int64_t k = 0; k < cnt; k++) kstore_f(t->dtype, bufs[i], k, vals[i][k]);
    in[i] = bufs[i];
  }
  for (int k = 0; k < n->n_out; k++) out[k] = calloc((size_t)ir_nbytes(n->out[k]) + 1, 1);
  interp_ctx c;
  memset(&c, 0, sizeof c);
  if (interp_node(&c, n, in, out) < 0) fail_msg("interp: %s", ir_last_error());
  int64_t cnt = ir_numel(n->out[j]);
  double *r = malloc(sizeof(double) * (size_t)(cnt + 1));
  for (int64_t k = 0; k < cnt; k++) r[k] = kload_f(n->out[j]->dtype, out[j], k);
  for (int i = 0; i < OT_MAX_IN; i++) free(bufs[i]);
  for (int k = 0; k < n->n_out; k++) free(out[k]);
  return r;
}

int ot_interp(const ir_node *n, const void *const *in, void *const *out) {
  interp_ctx c;
  memset(&c, 0, sizeof c);
  return n->op->interp(&c, n, in, out);
}

/* ---- comparing ------------------------------------------------------------ */

void ot_expect_vals(double *got, const double *want, int cnt, double tol) {
  for (int i = 0; i < cnt; i++)
    if (!(fabs(got[i] - want[i]) <= tol) && !(isnan(got[i]) && isnan(want[i])))
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
  free(got);
}

void ot_expect_rel(const double *got, const double *want, int cnt, double tol) {
  for (int i = 0; i < cnt; i++)
    if (!(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i]))))
      fail_msg("element %d: got %.17g, expected %.17g", i, got[i], want[i]);
}

void ot_expect_floats(const float *got, const double *want, int cnt) {
  for (int i = 0; i < cnt; i++)
    if (!(fabs(got[i] - want[i]) < 1e-5)) fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
}

void ot_expect_i64s(const int64_t *got, const int64_t *want, int cnt) {
  for (int i = 0; i < cnt; i++)
    if (got[i] != want[i]) fail_msg("element %d: got %lld, want %lld", i, (long long)got[i], (long long)want[i]);
}

void ot_expect_shape(const ir_tensor *t, int rank, const int64_t *dims) {
  char a[128];
  assert_int_equal(t->rank, rank);
  for (int i = 0; i < rank; i++)
    if (t->shape[i] != dims[i])
      fail_msg("shape %s, dim %d expected %lld", ir_shape_str(t, a, sizeof a), i, (long long)dims[i]);
}

/* ---- emitted C against the interpreter ------------------------------------ */

static unsigned rnd_state = 12345;

void ot_rnd_seed(unsigned seed) { rnd_state = seed; }

double ot_rnd(void) {
  rnd_state = rnd_state * 1103515245u + 12345u;
  return ((rnd_state >> 8) & 0xffff) / 65536.0 * 6.0 - 3.0;
}

int ot_have(const char *cmd) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s --version > /dev/null 2>&1", cmd);
  return system(buf) == 0;
}

void ot_need_compilers(void) {
  static const char *const need[] = {"cc", "clang"};
  static const char *missing;   /* PATH does not change within a run: probe once */
  static int probed;
  for (size_t k = 0; !probed && k < sizeof need / sizeof need[0]; k++)
    if (!ot_have(need[k])) missing = need[k];
  probed = 1;
  if (missing) {
    print_message("no %s on PATH: the emitted C cannot be built, so this test is skipped\n", missing);
    skip();   /* longjmps out: reported SKIPPED, never OK */
  }
}

int ot_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

void ot_emit_tmp(ir_graph *g, const char *tag, char *dir) {
  snprintf(dir, 64, "/tmp/%s_XXXXXX", tag);
  assert_non_null(mkdtemp(dir));
  if (pass_plan(g) < 0) fail_msg("plan: %s", ir_last_error());
  emit_options opt;
  memset(&opt, 0, sizeof opt);
  opt.name = "m";
  if (emit_c(g, &opt, dir) < 0) fail_msg("emit: %s", ir_last_error());
}

/* One element as a C literal of its dtype: hex floats keep every bit. */
static void print_value(FILE *f, ir_dtype dt, const void *p, int64_t k) {
  if (dt == IR_F32) fprintf(f, "%af,", kload_f(dt, p, k));
  else if (dt == IR_F64) fprintf(f, "%a,", kload_f(dt, p, k));
  else if (dt == IR_U64) fprintf(f, "%lluu,", (unsigned long long)kload_u(dt, p, k));
  else fprintf(f, "%lld,", (long long)kload_i(dt, p, k));
}

void ot_write_driver(const ir_graph *g, const char *dir, void *const *inputs) {
  char path[512];
  snprintf(path, sizeof path, "%s/drv.c", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "#include <stdio.h>\n#include <stdint.h>\n#include \"m.h\"\n");
  for (int i = 0; i < g->n_inputs; i++) {
    const ir_tensor *t = g->inputs[i];
    fprintf(f, "static const %s in%d[] = {", ir_dtype_ctype(t->dtype), i);
    for (int64_t k = 0; k < ir_numel(t); k++) print_value(f, t->dtype, inputs[i], k);
    fprintf(f, "0};\n");   /* the 0 keeps a scalar's array non-empty and the list valid C */
  }
  for (int j = 0; j < g->n_outputs; j++)
    fprintf(f, "static %s out%d[%lld];\n", ir_dtype_ctype(g->outputs[j]->dtype), j,
            (long long)ir_numel(g->outputs[j]) + 1);
  fprintf(f, "int main(void) {\n  FILE *f = fopen(\"%s/y.bin\", \"wb\");\n  if (!f || m_infer(", dir);
  for (int i = 0; i < g->n_inputs; i++) fprintf(f, "in%d, ", i);
  for (int j = 0; j < g->n_outputs; j++) fprintf(f, "out%d, ", j);
  fprintf(f, "NULL) != 0) return 1;\n");
  for (int j = 0; j < g->n_outputs; j++)
    fprintf(f, "  fwrite(out%d, %lld, 1, f);\n", j, (long long)ir_nbytes(g->outputs[j]));
  fprintf(f, "  return fclose(f) != 0;\n}\n");
  fclose(f);
}

void ot_build_run(const char *dir, const ot_cc_opts *o) {
  char cmd[3072];
  ot_need_compilers();
  snprintf(cmd, sizeof cmd,
           "cc -std=c99 -Wall -Wextra -Werror -pedantic %s -o %s/prog %s/m.c %s/m_weights.c %s/drv.c -lm "
           "&& %s/prog",
           o->cc_flags, dir, dir, dir, dir, dir);
  if (system(cmd) != 0) fail_msg("compiling or running the emitted C in %s failed", dir);
  if (o->clang_sanitize) {   /* the same under clang's sanitizers: no UB, no stray access */
    snprintf(cmd, sizeof cmd,
             "clang -std=c99 -Wall -Wextra -Werror -pedantic -g -fsanitize=address,undefined "
             "-fno-sanitize-recover=all -o %s/prog_san %s/m.c %s/m_weights.c %s/drv.c -lm && %s/prog_san",
             dir, dir, dir, dir, dir);
    if (system(cmd) != 0) fail_msg("clang (sanitizers) rejects or traps on the emitted C in %s", dir);
  } else {
    snprintf(cmd, sizeof cmd, "clang -std=c99 -Wall -Wextra -Werror -pedantic -c -o %s/m.o %s/m.c", dir, dir);
    if (system(cmd) != 0) fail_msg("clang rejects the emitted C in %s", dir);
  }
}

void *ot_read_output(const ir_graph *g, const char *dir, int j) {
  char path[512];
  long skip = 0;
  for (int i = 0; i < j; i++) skip += (long)ir_nbytes(g->outputs[i]);
  size_t nb = (size_t)ir_nbytes(g->outputs[j]);
  snprintf(path, sizeof path, "%s/y.bin", dir);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, skip, SEEK_SET), 0);
  unsigned char *got = malloc(nb + 1);
  assert_int_equal(fread(got, 1, nb, f), nb);
  fclose(f);
  return got;
}

char *ot_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc((size_t)(n < 0 ? 0 : n) + 1);
  size_t got = n > 0 ? fread(p, 1, (size_t)n, f) : 0;
  fclose(f);
  p[got] = '\0';
  if (len) *len = got;
  return p;
}

int ot_sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof cmd) fail_msg("command too long: %.60s...", cmd);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void ot_write_npy(const char *path, const char *descr, int rank, const int64_t *shape, const void *data) {
  char err[256];
  if (npy_write(path, descr, rank, shape, data, err, sizeof err) != 0) fail_msg("%s", err);
}

void ot_cleanup(const char *dir, const char *keep_env) {
  char cmd[600];
  if (keep_env && getenv(keep_env)) {
    print_message("emitted C kept in %s\n", dir);
    return;
  }
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) print_message("could not remove %s\n", dir);
}

void ot_compile_and_compare(ir_graph *g, double tol, const ot_cc_opts *o) {
  char dir[64];
  interp_ctx c;
  double (*rnd)(void) = o->rnd ? o->rnd : ot_rnd;
  ot_need_compilers();
  void **inputs = calloc((size_t)g->n_inputs + 1, sizeof(void *));
  for (int i = 0; i < g->n_inputs; i++) {
    ir_tensor *t = g->inputs[i];
    int64_t cnt = ir_numel(t);
    inputs[i] = calloc((size_t)ir_nbytes(t) + 1, 1);
    for (int64_t k = 0; k < cnt; k++) {
      double v = rnd();
      if (ir_dtype_is_int(t->dtype)) v = floor(v * 2);
      if (ir_dtype_is_int(t->dtype) && !ir_dtype_is_signed(t->dtype)) v = fabs(v);
      if (t->dtype == IR_BOOL) v = v > 0;
      kstore_f(t->dtype, inputs[i], k, v);
    }
  }
  for (int j = 0; j < g->nodes[0]->n_out; j++) ir_graph_add_output(g, g->nodes[0]->out[j]);
  assert_int_equal(ir_graph_toposort(g), 0);
  if (interp_run(&c, g, (const void *const *)inputs) < 0) fail_msg("interp: %s", ir_last_error());
  ot_emit_tmp(g, o->tag, dir);
  ot_write_driver(g, dir, inputs);
  ot_build_run(dir, o);
  for (int j = 0; j < g->n_outputs; j++) {
    ir_tensor *yt = g->outputs[j];
    unsigned char *got = ot_read_output(g, dir, j);
    const void *want = interp_value(&c, yt);
    for (int64_t k = 0; k < ir_numel(yt); k++) {
      double gv = kload_f(yt->dtype, got, k), wv = kload_f(yt->dtype, want, k);
      if (!(fabs(gv - wv) <= tol * (1.0 + fabs(wv))) && !(o->nan_equal && isnan(gv) && isnan(wv)))
        fail_msg("%s: output %d element %lld: C %.9g, interpreter %.9g (files in %s)", g->nodes[0]->op_type, j,
                 (long long)k, gv, wv, dir);
    }
    free(got);
  }
  interp_free(&c);
  for (int i = 0; i < g->n_inputs; i++) free(inputs[i]);
  free(inputs);
  ot_cleanup(dir, o->keep_env);
}
