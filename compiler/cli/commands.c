/*
 * commands.c - compile, run, check, info and graph.
 *
 * `check` is the tool for finding wrong numbers: it builds the generated C,
 * runs it and the interpreter on the same inputs, and when an output
 * differs it rebuilds with every intermediate tensor exported to name the
 * first one (in schedule order) where the two disagree.
 */
#include "cli.h"
#include "../backend/emit.h"
#include "../ops/op.h"
#include "../ops/epilogue.h"
#include "../passes/plan.h"
#include "../../runtime/interp.h"
#include "../../runtime/tensor_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int fail(void) {
  fprintf(stderr, "modelc: %s\n", ir_last_error());
  return 1;
}

int cli_mkdir_p(const char *dir) {
  char tmp[1024];
  cli_fmt(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(tmp, 0777) < 0 && errno != EEXIST) return ir_error("%s: cannot create folder: %s", tmp, strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0777) < 0 && errno != EEXIST) return ir_error("%s: cannot create folder: %s", tmp, strerror(errno));
  return 0;
}

/* NAME from --name or the model file's stem, as a C identifier. */
void cli_model_name(const cli_opts *o, const char *model, char *buf, size_t n) {
  if (o->name) {
    emit_c_ident(buf, n, o->name);
    return;
  }
  const char *base = strrchr(model, '/');
  base = base ? base + 1 : model;
  char stem[256];
  cli_fmt(stem, sizeof stem, "%s", base);
  char *dot = strrchr(stem, '.');
  if (dot && dot != stem) *dot = 0;
  emit_c_ident(buf, n, stem);
}

int cmd_compile(cli_opts *o) {
  ir_graph *g = cli_load(o, o->pos[0], 1);
  if (!g) return fail();
  char name[256];
  cli_model_name(o, o->pos[0], name, sizeof name);
  emit_options eo = {name, o->emit_main, o->threads, o->profile};
  int rc = cli_mkdir_p(o->outdir) < 0 || emit_c(g, &eo, o->outdir) < 0;
  ir_graph_free(g);
  if (rc) return fail();
  printf("wrote %s/%s.h, %s.c, %s_weights.c%s%s%s\n", o->outdir, name, name, name, o->emit_main ? ", " : "",
         o->emit_main ? name : "", o->emit_main ? "_main.c" : "");
  return 0;
}

/* The file names g's outputs are written under (tensor_io.h): the same
 * ones the generated harness uses. */
static char **output_files(const ir_graph *g) {
  const char **names = ir_alloc(sizeof *names * (size_t)(g->n_outputs + 1));
  for (int i = 0; i < g->n_outputs; i++) names[i] = g->outputs[i]->name;
  char **files = tio_output_file_names(g->n_outputs, names);
  free(names);
  return files;
}

/* dir/file.npy, malloc'd: never cut, however long the tensor's name. */
static char *npy_path(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 6;
  char *p = ir_alloc(n);
  snprintf(p, n, "%s/%s.npy", dir, file);
  return p;
}

static int save_tensor(const char *dir, const char *file, const ir_tensor *t, const void *data) {
  char *path = npy_path(dir, file);
  int rc = tio_save_npy(path, t->dtype, t->rank, t->shape, data);
  free(path);
  return rc;
}

int cmd_run(cli_opts *o) {
  ir_graph *g = cli_load(o, o->pos[0], 1);
  if (!g) return fail();
  void *bufs[256];
  interp_ctx ic;
  const char *dir = o->outdir ? o->outdir : ".";
  if (g->n_inputs > 256 || cli_inputs(o, g, bufs) < 0) {
    ir_graph_free(g);
    return fail();
  }
  int rc = interp_run(&ic, g, (const void *const *)bufs) < 0 || cli_mkdir_p(dir) < 0;
  char **files = output_files(g);
  for (int i = 0; !rc && i < g->n_outputs; i++) {
    const ir_tensor *t = g->outputs[i];
    char shape[128];
    if (save_tensor(dir, files[i], t, interp_value(&ic, t)) < 0) rc = 1;
    else printf("%s %s %s -> %s.npy\n", t->name, ir_dtype_name(t->dtype), ir_shape_str(t, shape, sizeof shape), files[i]);
  }
  tio_free_file_names(g->n_outputs, files);
  interp_free(&ic);
  cli_free_inputs(g, bufs);
  ir_graph_free(g);
  return rc ? fail() : 0;
}

/* Emit g into dir as "m" with the harness, build it, run it on inputs (files
 * dir/in_<i>.npy) writing dir/out/<output>.npy. */
static int build_and_run(const cli_opts *o, ir_graph *g, const char *dir, void **bufs) {
  emit_options eo = {"m", 1, 0};
  char cmd[16384], path[1024];
  if (emit_c(g, &eo, dir) < 0 || cli_build(o->cc, dir, "m") < 0) return -1;
  int k = cli_fmt(cmd, sizeof cmd, "cd '%s' && ./m_main", dir);
  for (int i = 0; i < g->n_inputs; i++) {
    cli_fmt(path, sizeof path, "%s/in_%d.npy", dir, i);
    const ir_tensor *t = g->inputs[i];
    if (tio_save_npy(path, t->dtype, t->rank, t->shape, bufs[i]) < 0) return -1;
    k += cli_fmt(cmd + k, sizeof cmd - (size_t)k, " in_%d.npy", i);
  }
  cli_fmt(cmd + k, sizeof cmd - (size_t)k, " -o out");
  cli_fmt(path, sizeof path, "%s/out", dir);
  if (cli_mkdir_p(path) < 0) return -1;
  cli_fmt(path, sizeof path, "%s/run.log", dir);
  int rc = cli_system_log(cmd, path);
  if (rc != 0) return ir_error("the generated program failed (exit %d); see %s/run.log", rc, dir);
  return 0;
}

/* Compare output tensor t of the compiled program (dir/out/file.npy) with want. */
static int compare_file(const cli_opts *o, const char *dir, const char *file, const ir_tensor *t, const void *want,
                        char *why, size_t nwhy) {
  char out[1100];
  cli_fmt(out, sizeof out, "%s/out", dir);
  char *path = npy_path(out, file);
  tio_tensor v;
  int rc = tio_load(path, ir_nbytes(t) > 0 ? ir_nbytes(t) : 1, &v);
  free(path);
  if (rc != 0) {
    cli_fmt(why, nwhy, "%s", ir_last_error());
    return 0;
  }
  double max_abs;
  int64_t bad;
  int ok = v.dtype == t->dtype && (int64_t)v.nbytes == ir_nbytes(t);
  if (!ok) cli_fmt(why, nwhy, "tensor '%s': the program wrote %s data of %zu bytes", t->name, ir_dtype_name(v.dtype), v.nbytes);
  else if (!cli_close(t->dtype, v.data, want, ir_numel(t), o->rtol, o->atol, &max_abs, &bad))
    cli_fmt(why, nwhy, "tensor '%s' differs: max abs diff %g; first at element %lld: C %.9g vs interpreter %.9g",
             t->name, max_abs, (long long)bad, ir_value_f64(t->dtype, v.data, bad), ir_value_f64(t->dtype, want, bad)), ok = 0;
  else if (o->verbose)
    printf("  %s: max abs diff %g\n", t->name, max_abs);
  tio_free(&v);
  return ok;
}

/* Where g's output t was written by the program in dir: dir/out/<file>.npy. */
static int output_index(const ir_graph *g, const ir_tensor *t) {
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == t) return i;
  return -1;
}

/* One check of o's configuration: 0 when every output is close, 1 when one
 * differs (why says which; with locate, the first differing tensor in
 * schedule order), -1 when something failed on the way (ir_last_error). */
static int check_once(const cli_opts *o, int locate, char *why, size_t nwhy) {
  ir_graph *g = cli_load(o, o->pos[0], 1);
  if (!g) return -1;
  void *bufs[256];
  interp_ctx ic;
  memset(&ic, 0, sizeof ic);
  char dir[1024];
  char **files = NULL;
  int rc = -1, keep = o->keep, n_files = 0;
  if (g->n_inputs > 256 || cli_inputs(o, g, bufs) < 0) goto out_graph;
  if (cli_tmpdir(dir, sizeof dir, "modelc-check") < 0) goto out_inputs;
  if (interp_run(&ic, g, (const void *const *)bufs) < 0) goto out_run;
  if (build_and_run(o, g, dir, bufs) < 0) {
    keep = 1;   /* the error names the log in it */
    goto out_run;
  }
  int bad_outputs = 0;
  files = output_files(g);
  n_files = g->n_outputs;
  for (int i = 0; i < g->n_outputs; i++) {
    const ir_tensor *t = g->outputs[i];
    char w[1024];
    if (!compare_file(o, dir, files[i], t, interp_value(&ic, t), w, sizeof w)) {
      if (!bad_outputs) cli_fmt(why, nwhy, "%s", w);
      bad_outputs++;
    }
  }
  rc = bad_outputs > 0;
  if (!bad_outputs) {
    printf("check passed: %d output%s within rtol %g, atol %g\n", g->n_outputs, g->n_outputs == 1 ? "" : "s", o->rtol,
           o->atol);
    goto out_run;
  }
  char first[1024];
  cli_fmt(first, sizeof first, "%s", why);
  cli_fmt(why, nwhy, "%d output%s differ; %s", bad_outputs, bad_outputs == 1 ? "" : "s", first);
  if (!locate) goto out_run;
  /* Bisect: export every intermediate tensor and find the first that differs. */
  char dir2[1100];
  cli_fmt(dir2, sizeof dir2, "%s/all", dir);
  if (cli_mkdir_p(dir2) == 0) {
    for (int k = 0; k < g->n_nodes; k++)
      for (int j = 0; j < g->nodes[k]->n_out; j++) {
        ir_tensor *t = g->nodes[k]->out[j];
        if (t && !t->is_output) ir_graph_add_output(g, t);
      }
    tio_free_file_names(n_files, files);
    files = output_files(g);   /* names over the bigger output list, as the harness has them */
    n_files = g->n_outputs;
    if (pass_plan(g) == 0 && build_and_run(o, g, dir2, bufs) == 0) {
      for (int k = 0; k < g->n_nodes; k++) {
        const ir_node *n = g->nodes[k];
        int found = 0;
        for (int j = 0; j < n->n_out && !found; j++) {
          char w[1024];
          int i = n->out[j] ? output_index(g, n->out[j]) : -1;
          if (i >= 0 && !compare_file(o, dir2, files[i], n->out[j], interp_value(&ic, n->out[j]), w, sizeof w)) {
            cli_fmt(why, nwhy, "%d output%s differ; first difference at node '%.200s' (%.60s): %.700s", bad_outputs,
                    bad_outputs == 1 ? "" : "s", n->name, n->op_type, w);
            found = 1;
          }
        }
        if (found) break;
      }
    }
  }
out_run:
  if (keep) printf("build folder: %s\n", dir);
  else {
    char cmd[1200];
    cli_fmt(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cli_system(cmd);
  }
  tio_free_file_names(n_files, files);
  interp_free(&ic);
out_inputs:
  cli_free_inputs(g, bufs);
out_graph:
  ir_graph_free(g);
  return rc;
}

/* --bisect: the first pass of pass_switches (among those on) whose
 * switch-off alone makes the check pass; NULL when none does.  A rerun that
 * fails on the way (the model may need a pass to compile at all) counts as
 * not passing, and says why on stdout. */
static const pass_switch *bisect_pass(const cli_opts *o) {
  for (const pass_switch *p = pass_switches; p->name; p++) {
    cli_opts c = *o;
    if (!*pass_switch_flag(&c.passes, p)) continue;
    *pass_switch_flag(&c.passes, p) = 0;
    c.keep = c.verbose = 0;
    char w[1024];
    printf("bisect: --no-%s: ", p->name);
    fflush(stdout);
    int rc = check_once(&c, 0, w, sizeof w);
    if (rc < 0) printf("did not run: %s\n", ir_last_error());
    if (rc == 1) printf("still differs\n");
    if (rc == 0) return p;
  }
  return NULL;
}

int cmd_check(cli_opts *o) {
  char why[1024] = "";
  int rc = check_once(o, 1, why, sizeof why);
  if (rc <= 0) return rc < 0 ? fail() : 0;
  if (o->bisect) {
    char first[1024];
    cli_fmt(first, sizeof first, "%s", why);
    const pass_switch *p = bisect_pass(o);
    if (p) cli_fmt(why, sizeof why, "%s; pass '%s' breaks the result (it passes with --no-%s)", first, p->name, p->name);
    else cli_fmt(why, sizeof why, "%s; no single pass switched off makes it pass", first);
  }
  ir_error("check failed: %s", why);
  return fail();
}

int cmd_info(cli_opts *o) {
  ir_graph *g = cli_load(o, o->pos[0], 1);
  if (!g) return fail();
  char shape[256];
  printf("model: %s\n", o->pos[0]);
  for (int i = 0; i < g->n_inputs; i++)
    printf("input  %-24s %-8s %s\n", g->inputs[i]->name, ir_dtype_name(g->inputs[i]->dtype),
           ir_shape_str(g->inputs[i], shape, sizeof shape));
  for (int i = 0; i < g->n_outputs; i++)
    printf("output %-24s %-8s %s\n", g->outputs[i]->name, ir_dtype_name(g->outputs[i]->dtype),
           ir_shape_str(g->outputs[i], shape, sizeof shape));
  int64_t params = 0, pbytes = 0;
  for (int i = 0; i < g->n_tensors; i++) {
    const ir_tensor *t = g->tensors[i];
    if (t->data && (t->role == IR_PARAM || t->role == IR_CONST)) {
      params += ir_numel(t);
      pbytes += ir_nbytes(t);
    }
  }
  printf("nodes: %d\n", g->n_nodes);
  /* op histogram in first-seen order */
  for (int k = 0; k < g->n_nodes; k++) {
    int seen = 0, cnt = 0;
    for (int j = 0; j < k; j++) seen |= !strcmp(g->nodes[j]->op_type, g->nodes[k]->op_type);
    if (seen) continue;
    for (int j = k; j < g->n_nodes; j++) cnt += !strcmp(g->nodes[j]->op_type, g->nodes[k]->op_type);
    printf("  %-24s %d\n", g->nodes[k]->op_type, cnt);
  }
  int64_t macs = 0;
  for (int k = 0; k < g->n_nodes; k++)
    if (g->nodes[k]->op->macs) macs += g->nodes[k]->op->macs(g->nodes[k]);
  printf("parameters: %lld values, %lld bytes\n", (long long)params, (long long)pbytes);
  printf("MACs: %lld\n", (long long)macs);
  printf("arena: %lld bytes (lower bound for this schedule: %lld)\n", (long long)g->arena_bytes,
         (long long)g->arena_lower_bound);
  /* the plan once more, the same (plan.h), now with its buffers handed back */
  plan_buffer *bufs = NULL;
  int n_bufs = 0;
  if (plan_with_buffers(g, o->passes.inplace, &bufs, &n_bufs) < 0) {
    ir_graph_free(g);
    return fail();
  }
  cli_sort_buffers(bufs, n_bufs);
  cli_print_buffers(bufs, n_bufs);
  int svg_rc = o->memory_svg ? cli_memory_svg(o->memory_svg, g, bufs, n_bufs) : 0;
  plan_buffers_free(bufs, n_bufs);
  if (svg_rc < 0) {
    ir_graph_free(g);
    return fail();
  }
  cli_print_train(g);
  /* the yardstick: the most bytes live in the model's own node order, nothing shared or fused */
  cli_opts own = *o;
  for (const pass_switch *p = pass_switches; p->name; p++)
    if (p->optimizing) *pass_switch_flag(&own.passes, p) = 0;
  ir_graph *g0 = cli_load(&own, o->pos[0], 1);
  if (g0 && g0->arena_lower_bound > 0)
    printf("max live in the model's own order: %lld bytes (arena %.3f of it)\n", (long long)g0->arena_lower_bound,
           (double)g->arena_bytes / (double)g0->arena_lower_bound);
  /* the same without the kernels' scratch: what onnx2c's arena would be */
  if (g0 && plan_with_buffers(g0, own.passes.inplace, &bufs, &n_bufs) == 0) {
    int64_t act = plan_peak_bytes(bufs, n_bufs, 0);
    plan_buffers_free(bufs, n_bufs);
    if (act > 0)
      printf("activations alone in the model's own order: %lld bytes (arena %.3f of it)\n", (long long)act,
             (double)g->arena_bytes / (double)act);
  }
  ir_graph_free(g0);
  ir_graph_free(g);
  return 0;
}

/* s inside a DOT double-quoted string: '"' and '\\' escaped (a lone
 * backslash would start an escape such as \n), line breaks as \n. */
static void put_dot_string(const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if (*s == '\n') fputs("\\n", stdout);
    else if (*s != '\r') putchar(*s);
  }
}

int cmd_graph(cli_opts *o) {
  int usage = 0;
  ir_graph *g = o->train ? cli_load_train(o, o->pos[0], &usage) : cli_load(o, o->pos[0], 1);
  if (!g) return fail() + usage;   /* a training spec that cannot be: 2 */
  int dot = o->format && !strcmp(o->format, "dot");
  if (o->format && !dot && strcmp(o->format, "text")) {
    ir_graph_free(g);
    fprintf(stderr, "modelc: unknown --format '%s' (text or dot)\n", o->format);
    return 2;
  }
  char shape[256];
  if (dot) printf("digraph model {\n  node [shape=box, fontname=monospace];\n");
  for (int k = 0; k < g->n_nodes; k++) {
    const ir_node *n = g->nodes[k];
    char fused[64];
    if (op_epilogue_label(n, fused, sizeof fused) < 0) {
      ir_graph_free(g);
      return fail();
    }
    if (dot) {
      printf("  n%d [label=\"", k);
      put_dot_string(n->name);
      fputs("\\n", stdout);
      put_dot_string(n->op_type);
      put_dot_string(fused);
      printf("\"];\n");
      for (int i = 0; i < n->n_in; i++)
        if (n->in[i] && n->in[i]->producer && !n->in[i]->data)
          printf("  n%d -> n%d [label=\"%s\"];\n", n->in[i]->producer->id, k,
                 ir_shape_str(n->in[i], shape, sizeof shape));
      continue;
    }
    char op[128];
    cli_fmt(op, sizeof op, "%s%s", n->op_type, fused);
    printf("%4d %-20s %s (", k, op, n->name);
    for (int i = 0; i < n->n_in; i++) printf("%s%s", i ? ", " : "", n->in[i] ? n->in[i]->name : "-");
    printf(") -> ");
    for (int j = 0; j < n->n_out; j++)
      if (!n->out[j]) printf("%s-", j ? ", " : "");   /* an optional output left out */
      else printf("%s%s %s", j ? ", " : "", n->out[j]->name, ir_shape_str(n->out[j], shape, sizeof shape));
    printf("\n");
  }
  if (dot) printf("}\n");
  ir_graph_free(g);
  return 0;
}

static int cmp_op(const void *a, const void *b) {
  const op_def *x = *(const op_def *const *)a, *y = *(const op_def *const *)b;
  int d = strcmp(x->domain ? x->domain : "", y->domain ? y->domain : "");
  return d ? d : strcmp(x->name, y->name);
}

int cmd_ops(cli_opts *o) {
  (void)o;
  int n = op_count();
  const op_def **ops = ir_alloc((size_t)(n + 1) * sizeof *ops);
  for (int i = 0; i < n; i++) ops[i] = op_at(i);
  qsort(ops, (size_t)n, sizeof *ops, cmp_op);
  printf("# Supported ops\n\n"
         "Generated by `modelc ops`; `tests/e2e/generated.sh` keeps it current.\n"
         "Every op has a reference-interpreter kernel and a C emitter unless the table says otherwise.\n"
         "*expanded*: the op is rewritten into other ops at compile time, during shape inference (Loop and\n"
         "Scan are unrolled when their trip counts are known then, Gradient becomes the backward graph);\n"
         "the interpreter and the C run what it becomes.\n\n"
         "| op | domain | inputs | interpreter | C |\n|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    const op_def *d = ops[i];
    char in[32];
    if (d->max_in < 0) cli_fmt(in, sizeof in, "%d+", d->min_in);
    else if (d->max_in == d->min_in) cli_fmt(in, sizeof in, "%d", d->min_in);
    else cli_fmt(in, sizeof in, "%d-%d", d->min_in, d->max_in);
    const char *none = d->expand ? "expanded" : "no";   /* an expanded op runs as what it becomes */
    printf("| %s | %s | %s | %s | %s |\n", d->name, d->domain && *d->domain ? d->domain : "ai.onnx", in,
           d->interp ? "yes" : none, d->emit ? "yes" : none);
  }
  printf("\n%d ops.\n", n);
  free(ops);
  return 0;
}

int cmd_convert(cli_opts *o) {
  tio_tensor t;
  if (tio_load(o->pos[0], o->max_bytes, &t) != 0) return fail();
  int rc = tio_save_npy(o->pos[1], t.dtype, t.rank, t.shape, t.data);
  tio_free(&t);
  return rc < 0 ? fail() : 0;
}
