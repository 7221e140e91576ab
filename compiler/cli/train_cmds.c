/*
 * train_cmds.c - the training side of the CLI: `compile --train`, `info
 * --train`, `check --train` and `update-weights`.
 *
 * A --train build has two graphs, both through the whole pipeline with
 * pass_options.training (no parameter is a constant): the inference graph
 * of NAME_infer, and the training step (passes/train.c) of
 * NAME_train_step.  The spec comes from --loss/--optimizer/--freeze, or
 * from the model's train block for what the flags leave out; a spec that
 * cannot train the model is a usage error (exit 2).
 *
 * `check --train` runs the step K times in the interpreter
 * (interp_train_step), printing each loss, then the compiled harness
 * (`m_main --train X Y --epochs K --batch N --log --save`, DESIGN.md) on
 * the same batch, and compares the loss of every step and the final
 * parameters and optimizer state, naming the first that differs.
 */
#include "cli.h"
#include "../backend/emit.h"
#include "../onnx/onnx_write.h"
#include "../passes/plan.h"
#include "../../runtime/interp.h"
#include "../../runtime/npz.h"
#include "../../runtime/tensor_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(int code) {
  fprintf(stderr, "modelc: %s\n", ir_last_error());
  return code;
}

/* The spec: the flags, and the model's train block for what they leave out. */
static int merge_spec(const cli_opts *o, const ir_graph *g, train_spec *s) {
  *s = o->spec;
  if (!g->train) return 0;
  train_spec d;
  memset(&d, 0, sizeof d);
  int rc = train_spec_from_model(&d, g);
  if (rc < 0 && !o->optimizer_set) return -1;
  if (!o->loss_set) {
    s->loss = d.loss;
    s->prediction = d.prediction;
    s->label = d.label;
    s->label_dtype = d.label_dtype;
    s->label_rank = d.label_rank;
    memcpy(s->label_shape, d.label_shape, sizeof s->label_shape);
  }
  if (!o->optimizer_set) s->opt = d.opt;
  for (int i = 0; i < d.n_frozen && s->n_frozen < TRAIN_MAX_FROZEN; i++) s->frozen[s->n_frozen++] = d.frozen[i];
  return 0;
}

ir_graph *cli_load_train(const cli_opts *o, const char *model, int *usage) {
  cli_opts lo = *o;
  train_spec s;
  lo.passes.training = 1;
  *usage = 0;
  ir_graph *g = cli_load(&lo, model, 0);
  if (!g) return NULL;
  if (merge_spec(o, g, &s) < 0 || train_check_spec(g, &s) < 0) {
    *usage = 1;
  } else if (pass_infer(g, &lo.passes) == 0 && pass_train(g, &s, &lo.passes) == 0 &&
             pass_run_all(g, &lo.passes) == 0) {
    return g;
  }
  ir_graph_free(g);
  return NULL;
}

/* The inference graph of a --train build: parameters stay variables. */
static ir_graph *load_inference(const cli_opts *o) {
  cli_opts lo = *o;
  lo.passes.training = 1;
  return cli_load(&lo, o->pos[0], 1);
}

int cmd_compile_train(cli_opts *o) {
  int usage;
  ir_graph *t = cli_load_train(o, o->pos[0], &usage);
  if (!t) return fail(usage ? 2 : 1);
  ir_graph *g = load_inference(o);
  char name[256];
  cli_model_name(o, o->pos[0], name, sizeof name);
  emit_options eo = {name, o->emit_main, o->threads, o->profile};
  int rc = !g || cli_mkdir_p(o->outdir) < 0 || emit_c_train(g, t, &eo, o->outdir) < 0;
  ir_graph_free(g);
  ir_graph_free(t);
  if (rc) return fail(1);
  printf("wrote %s/%s.h, %s.c, %s_weights.c%s%s%s (with %s_train_step)\n", o->outdir, name, name, name,
         o->emit_main ? ", " : "", o->emit_main ? name : "", o->emit_main ? "_main.c" : "", name);
  return 0;
}

/* ---- info --train --------------------------------------------------------- */

/* Which part of the step computes t: the forward, the backward (autodiff's
 * nodes are "grad/..."), or the loss and optimizer ("train/..."). */
enum { PART_FORWARD, PART_BACKWARD, PART_STEP };
static int part_of(const ir_tensor *t) {
  const char *n = t->producer ? t->producer->name : "";
  return !strncmp(n, "grad/", 5) ? PART_BACKWARD : !strncmp(n, "train/", 6) ? PART_STEP : PART_FORWARD;
}

int cmd_info_train(cli_opts *o) {
  int usage;
  ir_graph *g = cli_load_train(o, o->pos[0], &usage);
  if (!g) return fail(usage ? 2 : 1);
  char shape[256];
  printf("model: %s (training step)\n", o->pos[0]);
  for (int i = 0; i < g->n_inputs; i++)
    printf("%-6s %-24s %-8s %s\n", i >= g->n_inputs - g->n_labels ? "label" : "input", g->inputs[i]->name,
           ir_dtype_name(g->inputs[i]->dtype), ir_shape_str(g->inputs[i], shape, sizeof shape));
  printf("loss   %-24s %-8s %s\n", g->loss->name, ir_dtype_name(g->loss->dtype), ir_shape_str(g->loss, shape, sizeof shape));
  int n_par = 0, n_trained = 0, n_state = 0, n_part[3] = {0, 0, 0}, n_kept = 0;
  int64_t par = 0, trained = 0, state = 0, part[3] = {0, 0, 0}, kept = 0;
  for (int i = 0; i < g->n_tensors; i++) {
    const ir_tensor *t = g->tensors[i];
    if (t->role == IR_PARAM && t->data) n_par++, par += ir_nbytes(t);
    if (t->role == IR_OPTSTATE) n_state++, state += ir_nbytes(t);
    if (t->offset < 0 || !plan_in_arena(t)) continue;
    n_part[part_of(t)]++;
    part[part_of(t)] += ir_nbytes(t);
  }
  for (int i = 0; i < g->n_updates; i++)
    if (g->updates[i].target->role == IR_PARAM) n_trained++, trained += ir_nbytes(g->updates[i].target);
  /* forward activations that a backward node reads: kept for the backward */
  unsigned char *read = ir_alloc((size_t)g->n_tensors + 1);
  for (int k = 0; k < g->n_nodes; k++)
    for (int i = 0; !strncmp(g->nodes[k]->name, "grad/", 5) && i < g->nodes[k]->n_in; i++)
      if (ir_owns(g, g->nodes[k]->in[i])) read[g->nodes[k]->in[i]->id] = 1;
  for (int i = 0; i < g->n_tensors; i++) {
    const ir_tensor *t = g->tensors[i];
    if (read[i] && t->offset >= 0 && plan_in_arena(t) && part_of(t) == PART_FORWARD) n_kept++, kept += ir_nbytes(t);
  }
  free(read);
  printf("nodes: %d\n", g->n_nodes);
  /* the optimizer: the update op of the first trained parameter, with its hyper-parameters */
  for (int i = 0; i < g->n_updates; i++) {
    const ir_node *n = g->updates[i].value->producer;
    if (g->updates[i].target->role != IR_PARAM || !n || strncmp(n->name, "train/", 6)) continue;
    printf("optimizer: %s", n->op_type);
    if (n->in[0]->role == IR_CONST && ir_numel(n->in[0]) == 1)   /* ONNX's Adagrad: R */
      printf(" lr=%g", ir_const_f64(n->in[0], 0));
    for (int k = 0; k < n->n_attr; k++) {
      const ir_attr *a = &n->attrs[k];
      if (a->name[0] == '_') continue;
      if (a->type == IR_ATTR_FLOAT) printf(" %s=%g", a->name, a->f);
      else if (a->type == IR_ATTR_INT) printf(" %s=%lld", a->name, (long long)a->i);
    }
    printf("\n");
    break;
  }
  printf("parameters: %d tensors, %lld bytes; trained: %d tensors, %lld bytes\n", n_par, (long long)par, n_trained,
         (long long)trained);
  printf("optimizer state: %d tensors, %lld bytes\n", n_state, (long long)state);
  printf("arena: %lld bytes (lower bound for this schedule: %lld)\n", (long long)g->arena_bytes,
         (long long)g->arena_lower_bound);
  printf("  forward activations: %d tensors, %lld bytes; kept for the backward: %d tensors, %lld bytes\n",
         n_part[PART_FORWARD], (long long)part[PART_FORWARD], n_kept, (long long)kept);
  printf("  gradients (backward): %d tensors, %lld bytes\n", n_part[PART_BACKWARD], (long long)part[PART_BACKWARD]);
  printf("  loss and optimizer step: %d tensors, %lld bytes\n", n_part[PART_STEP], (long long)part[PART_STEP]);
  printf("  (tensor bytes before the plan shares them)\n");
  plan_buffer *bufs = NULL;
  int n_bufs = 0;
  if (plan_with_buffers(g, o->passes.inplace, &bufs, &n_bufs) < 0) {
    ir_graph_free(g);
    return fail(1);
  }
  cli_sort_buffers(bufs, n_bufs);
  cli_print_buffers(bufs, n_bufs);
  int rc = o->memory_svg ? cli_memory_svg(o->memory_svg, g, bufs, n_bufs) : 0;
  plan_buffers_free(bufs, n_bufs);
  ir_graph_free(g);
  return rc < 0 ? fail(1) : 0;
}

/* ---- check --train -------------------------------------------------------- */

/* Class ids must name a class: labels read by a loss op as class ids are
 * taken modulo the class count (input 0's dimension 1). */
static void fit_labels(const ir_graph *g, void **bufs) {
  for (int i = g->n_inputs - g->n_labels; i < g->n_inputs; i++) {
    const ir_tensor *t = g->inputs[i];
    if (t->dtype != IR_I64 && t->dtype != IR_I32) continue;
    for (int k = 0; k < g->n_nodes; k++) {
      const ir_node *n = g->nodes[k];
      if (n->n_in < 2 || n->in[1] != t || n->in[0]->rank < 2) continue;
      int64_t c = n->in[0]->shape[1];
      for (int64_t e = 0; c > 0 && e < ir_numel(t); e++) {
        if (t->dtype == IR_I64) ((int64_t *)bufs[i])[e] %= c;
        else ((int32_t *)bufs[i])[e] %= (int32_t)c;
      }
    }
  }
}

/* The loss of each step from the harness's --log CSV (rows "step,loss"). */
static int read_log(const char *path, double *loss, int k) {
  FILE *f = fopen(path, "r");
  char line[256];
  int n = 0;
  if (!f) return ir_error("check --train: the harness wrote no log %s", path);
  while (n < k && fgets(line, sizeof line, f)) {
    long step;
    double v;
    if (sscanf(line, "%ld,%lf", &step, &v) == 2) loss[n++] = v;
  }
  fclose(f);
  return n == k ? 0 : ir_error("check --train: %s holds %d loss rows, want %d", path, n, k);
}

/* The compiled side: emit (weights as the model has them), build, run. */
static int compiled_steps(const cli_opts *o, void **bufs, int k, double *loss, const char *dir) {
  int usage;
  char cmd[4096], path[1024];
  ir_graph *t = cli_load_train(o, o->pos[0], &usage), *g = load_inference(o);
  emit_options eo = {"m", 1, 0};
  int rc = !t || !g ? -1 : emit_c_train(g, t, &eo, dir);
  if (rc == 0) rc = cli_build(o->cc, dir, "m");
  for (int i = 0; rc == 0 && i < 2; i++) {
    const ir_tensor *x = t->inputs[i];
    cli_fmt(path, sizeof path, "%s/%s.npy", dir, i ? "y" : "x");
    rc = tio_save_npy(path, x->dtype, x->rank, x->shape, bufs[i]);
  }
  if (rc == 0) {
    cli_fmt(cmd, sizeof cmd, "cd '%s' && ./m_main --train x.npy y.npy --epochs %d --batch %lld --log loss.csv --save w.npz",
            dir, k, (long long)t->inputs[0]->shape[0]);
    cli_fmt(path, sizeof path, "%s/run.log", dir);
    int st = cli_system_log(cmd, path);
    if (st != 0) rc = ir_error("the generated program failed (exit %d); see %s/run.log", st, dir);
  }
  if (rc == 0) {
    cli_fmt(path, sizeof path, "%s/loss.csv", dir);
    rc = read_log(path, loss, k);
  }
  ir_graph_free(t);
  ir_graph_free(g);
  return rc;
}

int cmd_check_train(cli_opts *o) {
  int usage, k = o->steps ? o->steps : 2;
  ir_graph *g = cli_load_train(o, o->pos[0], &usage);
  if (!g) return fail(usage ? 2 : 1);
  void *bufs[256];
  double *want = ir_alloc(sizeof(double) * (size_t)k), *got = ir_alloc(sizeof(double) * (size_t)k);
  char dir[1024] = "", path[1200];
  int rc = 0;
  if (g->n_inputs - g->n_labels != 1 || g->n_labels != 1)
    rc = ir_error("check --train: the harness trains models with one input and one label (X.npy Y.npy); "
                  "this one has %d inputs and %d labels", g->n_inputs - g->n_labels, g->n_labels);
  if (rc == 0) rc = cli_inputs(o, g, bufs);
  if (rc < 0) {
    ir_graph_free(g);
    free(want);
    free(got);
    return fail(1);
  }
  fit_labels(g, bufs);
  /* 1. the interpreter: k steps */
  for (int s = 0; rc == 0 && s < k; s++) {
    rc = interp_train_step(g, (const void *const *)bufs, &want[s]);
    if (rc == 0) printf("step %d: loss %.9g (interpreter)\n", s + 1, want[s]);
  }
  /* 2. the compiled C, from the model's weights again, on the same batch */
  if (rc == 0) rc = cli_tmpdir(dir, sizeof dir, "modelc-train");
  if (rc == 0) rc = compiled_steps(o, bufs, k, got, dir);
  /* 3. the losses, then every trained parameter and state tensor */
  for (int s = 0; rc == 0 && s < k; s++) {
    double d;
    int64_t bad;
    float w = (float)want[s], c = (float)got[s];
    if (!cli_close(IR_F32, &c, &w, 1, o->rtol, o->atol, &d, &bad))
      rc = ir_error("check --train failed: the loss of step %d differs: C %.9g, interpreter %.9g", s + 1, got[s],
                    want[s]);
  }
  npz_file z;
  memset(&z, 0, sizeof z);
  if (rc == 0) {
    char err[512];
    cli_fmt(path, sizeof path, "%s/w.npz", dir);
    if (npz_read(path, o->max_bytes, &z, err, sizeof err) < 0) rc = ir_error("check --train: %s", err);
  }
  for (int i = 0; rc == 0 && i < g->n_updates; i++) {   /* the harness saves state under its tensor name too */
    const ir_tensor *t = g->updates[i].target;
    const char *what = t->role == IR_PARAM ? "parameter" : "optimizer state";
    const npz_member *m = npz_find(&z, t->name);
    double d;
    int64_t bad;
    if (!m || m->a.nbytes != (size_t)ir_nbytes(t) || tio_dtype_from_descr(m->a.descr) != t->dtype)
      rc = ir_error("check --train failed: the harness saved no %s %s '%s'", ir_dtype_name(t->dtype), what, t->name);
    else if (!cli_close(t->dtype, m->a.data, t->data, ir_numel(t), o->rtol, o->atol, &d, &bad))
      rc = ir_error("check --train failed: %s '%s' differs after %d steps at element %lld (max abs diff %g)", what,
                    t->name, k, (long long)bad, d);
  }
  npz_free(&z);
  if (*dir) {   /* kept with --keep, or when it holds C to look at */
    cli_fmt(path, sizeof path, "%s/m.c", dir);
    FILE *mc = fopen(path, "r");
    if (mc) fclose(mc);
    if (o->keep || (rc < 0 && mc)) {
      printf("build folder: %s\n", dir);
    } else {
      cli_fmt(path, sizeof path, "rm -rf '%s'", dir);
      cli_system(path);
    }
  }
  if (rc == 0)
    printf("check --train passed: %d steps, losses, parameters and optimizer state within rtol %g, atol %g\n", k,
           o->rtol, o->atol);
  cli_free_inputs(g, bufs);
  ir_graph_free(g);
  free(want);
  free(got);
  return rc < 0 ? fail(1) : 0;
}

/* ---- update-weights ------------------------------------------------------- */

int cmd_update_weights(cli_opts *o) {
  o->no_bind = 1;   /* written back as the model has it, as export does */
  ir_graph *g = cli_load(o, o->pos[0], 0);
  if (!g) return fail(1);
  npz_file z;
  char err[512], a[128], b[128];
  int rc = 0;
  if (npz_read(o->pos[1], o->max_bytes, &z, err, sizeof err) < 0) {
    ir_graph_free(g);
    ir_error("%s", err);
    return fail(1);
  }
  for (int i = 0; rc == 0 && i < z.n; i++) {
    const npz_member *m = &z.m[i];
    ir_tensor *t = ir_find_tensor(g, m->key);
    ir_tensor got;
    int param = t && t->role == IR_PARAM && t->data;
    if (!param && !strncmp(m->key, TRAIN_STATE_PREFIX, strlen(TRAIN_STATE_PREFIX))) continue;   /* optimizer state */
    memset(&got, 0, sizeof got);
    got.dtype = tio_dtype_from_descr(m->a.descr);
    ir_set_shape(&got, m->a.rank, m->a.shape);
    if (!param)
      rc = ir_error("%s: key '%s' is no parameter of %s", o->pos[1], m->key, o->pos[0]);
    else if (got.dtype != t->dtype || !ir_same_shape(&got, t))
      rc = ir_error("%s: key '%s' is %s %s, the parameter is %s %s", o->pos[1], m->key, ir_dtype_name(got.dtype),
                    ir_shape_str(&got, a, sizeof a), ir_dtype_name(t->dtype), ir_shape_str(t, b, sizeof b));
    else memcpy(t->data, m->a.data, (size_t)ir_nbytes(t));
  }
  for (int i = 0; rc == 0 && i < g->n_tensors; i++) {
    const ir_tensor *t = g->tensors[i];
    if (t->role == IR_PARAM && t->data && ir_dtype_is_float(t->dtype) && !npz_find(&z, t->name))
      rc = ir_error("%s: no key '%s' (a parameter of %s)", o->pos[1], t->name, o->pos[0]);
  }
  npz_free(&z);
  if (rc == 0) rc = onnx_write_file(g, o->outdir);
  ir_graph_free(g);
  if (rc < 0) return fail(1);
  printf("wrote %s\n", o->outdir);
  return 0;
}
