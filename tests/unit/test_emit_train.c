/*
 * test_emit_train.c - the C backend's training side (emit_c_train in
 * compiler/backend/emit.c) and the --train harness
 * (compiler/backend/harness_train.inc).
 *
 * Two small models are built by hand, each as an inference graph and a
 * training-step graph with hand-written gradients and optimizer updates
 * recorded with ir_graph_add_update (the train pass lives elsewhere):
 *   - regression: y = Sigmoid(x W + b), loss mean((y - t)^2), W by SGD with
 *     momentum (an IR_OPTSTATE buffer), b by plain SGD;
 *   - classification: logits = x W + b, SoftmaxCrossEntropyLoss with int64
 *     class ids, W by ONNX's Momentum op (its step counter an int64
 *     IR_OPTSTATE), b by SGD.
 * The regression's step also lists the prediction, the loss and an update
 * value as graph outputs, the classification's none.
 * Both go through the pass pipeline (training on), are emitted with
 * emit_c_train and built with cc under -std=c99 -pedantic -Werror (and
 * clang with ASan/UBSan).  The harness then trains; its per-step losses
 * (--log) and saved parameters (--save) are compared with the interpreter
 * running the same steps (updates applied by hand between runs), with
 * PyTorch (train_reference.py) and, for the regression, with the plain
 * double-precision arithmetic below.  Then
 * --load/--save round trips, --shuffle (against the documented permutation
 * recomputed here), accuracy and --test, and the refusals of bad input
 * (one line on stderr, exit 1).
 */
#include <dirent.h>
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
#include "compiler/passes/passes.h"
#include "compiler/passes/plan.h"
#include "optest.h"
#include "runtime/interp.h"
#include "runtime/npy.h"
#include "runtime/npz.h"

enum { B = 4, I = 3, O = 2, S = 12, EPOCHS = 2, STEPS = EPOCHS * S / B };
static const double LR = 0.5, MU = 0.9;
static const double W0[I * O] = {0.2, -0.3, 0.1, 0.4, -0.5, 0.25};
static const double B0[O] = {0.05, -0.1};

static char tmp[64];
static float X[S * I], T[S * O];
static int64_t L[S];

/* ---- small helpers ------------------------------------------------------------ */

static void write_npy(const char *name, const char *descr, int rank, const int64_t *shape, const void *data) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", tmp, name);
  ot_write_npy(path, descr, rank, shape, data);
}

static ir_tensor *param(ir_graph *g, const char *name, int rank, const int64_t *dims, const double *v) {
  ir_tensor *t = ot_const(g, name, IR_F32, rank, dims, v);
  t->role = IR_PARAM;
  return t;
}

static ir_tensor *op1(ir_graph *g, const char *op, ir_tensor *a) { return ot_node(g, op, 18, 1, IN(a), 1)->out[0]; }
static ir_tensor *op2(ir_graph *g, const char *op, ir_tensor *a, ir_tensor *b) {
  return ot_node(g, op, 18, 2, IN(a, b), 1)->out[0];
}
static ir_tensor *scalar(ir_graph *g, const char *name, double v) { return ot_const(g, name, IR_F32, 0, NULL, D(v)); }

/* ---- the models ------------------------------------------------------------------ */

/* x W + b, through Sigmoid for the regression. */
static ir_tensor *forward(ir_graph *g, ir_tensor *x, ir_tensor **w, ir_tensor **b, int cls) {
  *w = param(g, "fc.weight", 2, DIMS(I, O), W0);
  *b = param(g, "fc.bias", 1, DIMS(O), B0);
  ir_tensor *z = op2(g, "Add", op2(g, "MatMul", x, *w), *b);
  return cls ? z : op1(g, "Sigmoid", z);
}

static ir_graph *infer_graph(int cls) {
  ir_graph *g = ir_graph_new(cls ? "cls" : "reg", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(B, I)), *w, *b;
  ir_graph_add_output(g, forward(g, x, &w, &b, cls));
  return g;
}

static ir_graph *train_graph(int cls) {
  ir_graph *g = ir_graph_new(cls ? "cls" : "reg", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(B, I)), *w, *b, *gz, *loss;
  ir_tensor *t = cls ? ot_input(g, "label", IR_I64, 1, DIMS(B)) : ot_input(g, "target", IR_F32, 2, DIMS(B, O));
  ir_tensor *y = forward(g, x, &w, &b, cls);
  if (cls) {   /* d mean(CE)/d logits = (softmax - onehot) / B */
    loss = ot_node(g, "SoftmaxCrossEntropyLoss", 13, 2, IN(y, t), 1)->out[0];
    ir_node *sm = ot_node(g, "Softmax", 13, 1, IN(y), 1);
    ir_attr_set_int(sm, "axis", 1);
    ir_tensor *depth = ot_const(g, "depth", IR_I64, 0, NULL, D(O));
    ir_tensor *vals = ot_const(g, "onehot_values", IR_F32, 1, DIMS(2), D(0, 1));
    ir_tensor *oh = ot_node(g, "OneHot", 11, 3, IN(t, depth, vals), 1)->out[0];
    gz = op2(g, "Mul", op2(g, "Sub", sm->out[0], oh), scalar(g, "inv_b", 1.0 / B));
  } else {     /* d mean((y-t)^2)/dz = 2 (y - t) / (B O) * y (1 - y) */
    ir_tensor *d = op2(g, "Sub", y, t);
    ir_node *rm = ot_node(g, "ReduceMean", 18, 1, IN(op2(g, "Mul", d, d)), 1);
    ir_attr_set_int(rm, "keepdims", 0);
    loss = rm->out[0];
    ir_tensor *gy = op2(g, "Mul", d, scalar(g, "two_over_n", 2.0 / (B * O)));
    ir_tensor *s = op2(g, "Mul", y, op2(g, "Sub", scalar(g, "one", 1.0), y));
    gz = op2(g, "Mul", gy, s);
  }
  ir_node *tr = ot_node(g, "Transpose", 13, 1, IN(x), 1);
  ir_attr_set_ints(tr, "perm", 2, DIMS(1, 0));
  ir_tensor *gw = op2(g, "MatMul", tr->out[0], gz);
  ir_node *rs = ot_node(g, "ReduceSum", 13, 2, IN(gz, ot_const_ints(g, "axis0", 1, DIMS(0))), 1);
  ir_attr_set_int(rs, "keepdims", 0);
  ir_tensor *gb = rs->out[0];
  ir_tensor *lr = scalar(g, "lr", LR);
  if (cls) {   /* ONNX's Momentum op, with its step counter (int64 state) and velocity */
    double zeros[I * O] = {0};
    ir_tensor *steps = ot_const(g, "optimizer/step", IR_I64, 0, NULL, D(0));
    ir_tensor *vel = ot_const(g, "optimizer/fc.weight/momentum", IR_F32, 2, DIMS(I, O), zeros);
    steps->role = vel->role = IR_OPTSTATE;
    ir_node *mo = ot_node(g, "Momentum", 1, 5, IN(lr, steps, w, gw, vel), 2);
    free(mo->domain);
    mo->domain = ir_strdup("ai.onnx.preview.training");
    ir_attr_set_float(mo, "alpha", MU);
    ir_attr_set_float(mo, "beta", 1.0);
    ir_attr_set_float(mo, "norm_coefficient", 0.0);
    ir_attr_set_string(mo, "mode", "standard");
    ir_graph_add_update(g, w, mo->out[0]);
    ir_graph_add_update(g, vel, mo->out[1]);
    ir_graph_add_update(g, steps, op2(g, "Add", steps, ot_const(g, "one_step", IR_I64, 0, NULL, D(1))));
  } else {     /* momentum: v = mu v + g; W -= lr v */
    double zeros[I * O] = {0};
    ir_tensor *v = ot_const(g, "optimizer/fc.weight/velocity", IR_F32, 2, DIMS(I, O), zeros);
    v->role = IR_OPTSTATE;
    ir_tensor *v2 = op2(g, "Add", op2(g, "Mul", v, scalar(g, "mu", MU)), gw);
    ir_graph_add_update(g, w, op2(g, "Sub", w, op2(g, "Mul", v2, lr)));
    ir_graph_add_update(g, v, v2);
    /* graph outputs of a step (a train pass may keep what it needs so)
     * live past the plan: the loss and an update value among them */
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, loss);
    ir_graph_add_output(g, v2);
  }
  ir_graph_add_update(g, b, op2(g, "Sub", b, op2(g, "Mul", gb, lr)));
  g->loss = loss;
  g->n_labels = 1;
  return g;
}

/* ---- references ------------------------------------------------------------------ */

/* The regression's steps in double precision over the batches `order`
 * (sample indices, B per step): losses[STEPS], final W, b and W's
 * momentum v. */
static void reference(const int64_t *order, double *losses, double *w, double *b, double *v) {
  memset(v, 0, sizeof(double) * I * O);
  memcpy(w, W0, sizeof W0);
  memcpy(b, B0, sizeof B0);
  for (int s = 0; s < STEPS; s++) {
    double gw[I * O] = {0}, gb[O] = {0}, loss = 0;
    for (int r = 0; r < B; r++) {
      int64_t k = order[s * B + r];
      for (int o = 0; o < O; o++) {
        double z = b[o];
        for (int i = 0; i < I; i++) z += X[k * I + i] * w[i * O + o];
        double y = 1 / (1 + exp(-z)), d = y - T[k * O + o];
        loss += d * d / (B * O);
        double gz = 2 * d / (B * O) * y * (1 - y);
        gb[o] += gz;
        for (int i = 0; i < I; i++) gw[i * O + o] += X[k * I + i] * gz;
      }
    }
    for (int q = 0; q < I * O; q++) v[q] = MU * v[q] + gw[q], w[q] -= LR * v[q];
    for (int o = 0; o < O; o++) b[o] -= LR * gb[o];
    losses[s] = loss;
  }
}

/* The interpreter running train's steps over `order` from the parameters'
 * initial data, each update applied by hand: losses[STEPS]; the final
 * parameters stay in train's tensors. */
static void interp_steps(ir_graph *train, const int64_t *order, int cls, double *losses) {
  float xb[B * I], tb[B * O];
  int64_t lb[B];
  for (int s = 0; s < STEPS; s++) {
    for (int r = 0; r < B; r++) {
      int64_t k = order[s * B + r];
      memcpy(xb + r * I, X + k * I, sizeof(float) * I);
      memcpy(tb + r * O, T + k * O, sizeof(float) * O);
      lb[r] = L[k];
    }
    const void *in[2] = {xb, cls ? (const void *)lb : (const void *)tb};
    interp_ctx c;
    if (interp_run(&c, train, in) != 0) fail_msg("interp: %s", ir_last_error());
    losses[s] = *(const float *)interp_value(&c, train->loss);
    for (int u = 0; u < train->n_updates; u++)
      memcpy(train->updates[u].target->data, interp_value(&c, train->updates[u].value),
             (size_t)ir_nbytes(train->updates[u].target));
    interp_free(&c);
  }
}

static void expect_near(double got, double want, double tol, const char *what, int k) {
  if (!(fabs(got - want) <= tol * (1 + fabs(want)))) fail_msg("%s %d: %.9g, expected %.9g", what, k, got, want);
}

/* step,loss rows of dir/file into losses[]; returns the row count. */
static int read_log(const char *file, double *losses, int max) {
  char path[256], line[256];
  snprintf(path, sizeof path, "%s/%s", tmp, file);
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("no %s", path);
  if (!fgets(line, sizeof line, f) || strcmp(line, "step,loss\n") != 0) fail_msg("%s: bad header", path);
  int n = 0;
  long step;
  double v;
  while (fgets(line, sizeof line, f) && n < max) {
    if (sscanf(line, "%ld,%lf", &step, &v) != 2 || step != n + 1) fail_msg("%s: bad row '%s'", path, line);
    losses[n++] = v;
  }
  fclose(f);
  return n;
}

/* Parameter `key` of dir/file (an .npz) as floats. */
static void npz_param(const char *file, const char *key, const int64_t *shape, int rank, float *out) {
  char path[256], err[256];
  npz_file z;
  snprintf(path, sizeof path, "%s/%s", tmp, file);
  if (npz_read(path, 1 << 20, &z, err, sizeof err) != 0) fail_msg("%s", err);
  const npz_member *m = npz_find(&z, key);
  if (!m) fail_msg("%s: no key %s", path, key);
  assert_string_equal(m->a.descr, "<f4");
  assert_int_equal(m->a.rank, rank);
  for (int k = 0; k < rank; k++) assert_int_equal(m->a.shape[k], shape[k]);
  memcpy(out, m->a.data, m->a.nbytes);
  assert_int_equal(z.n, 3);   /* the regression's two parameters and W's momentum: nothing else */
  npz_free(&z);
}

/* ---- building --------------------------------------------------------------------- */

/* Emit model cls (0 regression, 1 classification) into tmp/<name> and
 * build its harness; returns the training graph (for the interpreter). */
static ir_graph *build(int cls, const char *name, ir_graph **inf) {
  pass_options o;
  pass_options_default(&o);
  o.training = 1;
  ir_graph *g = infer_graph(cls), *t = train_graph(cls);
  if (pass_run_all(g, &o) < 0 || pass_run_all(t, &o) < 0) fail_msg("passes: %s", ir_last_error());
  assert_int_equal(plan_check(t), 0);
  emit_options eo = {name, 1, 0};
  static const char *const files[] = {".h", ".c", "_weights.c", "_main.c"};
  char dir[128], again[160];
  snprintf(dir, sizeof dir, "%s/%s", tmp, name);
  assert_int_equal(ot_sh("mkdir -p %s", dir), 0);
  if (emit_c_train(g, t, &eo, dir) < 0) fail_msg("emit_c_train: %s", ir_last_error());
  /* deterministic: emitting again gives the same bytes */
  assert_int_equal(ot_sh("mkdir -p %s/again", dir), 0);
  snprintf(again, sizeof again, "%s/again", dir);
  if (emit_c_train(g, t, &eo, again) < 0) fail_msg("emit_c_train: %s", ir_last_error());
  for (int k = 0; k < 4; k++)
    if (ot_sh("cmp -s %s/%s%s %s/%s%s", dir, name, files[k], again, name, files[k]) != 0)
      fail_msg("%s%s differs between two emissions", name, files[k]);
  if (ot_sh("cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -o %s/prog %s/%s.c %s/%s_weights.c %s/%s_main.c -lm", dir,
         dir, name, dir, name, dir, name) != 0)
    fail_msg("cc rejects the emitted C in %s", dir);
  if (ot_sh("clang -std=c99 -Wall -Wextra -Werror -pedantic -g -fsanitize=address,undefined "
         "-fno-sanitize-recover=all -o %s/prog_san %s/%s.c %s/%s_weights.c %s/%s_main.c -lm", dir, dir, name, dir,
         name, dir, name) != 0)
    fail_msg("clang (sanitizers) rejects the emitted C in %s", dir);
  *inf = g;
  return t;
}

static int setup(void **state) {
  (void)state;
  strcpy(tmp, "/tmp/test_emit_train_XXXXXX");
  if (!mkdtemp(tmp)) return -1;
  ot_rnd_seed(11);
  for (int k = 0; k < S * I; k++) X[k] = (float)(ot_rnd() / 3);
  for (int k = 0; k < S * O; k++) T[k] = (float)(ot_rnd() / 6 + 0.5);
  for (int k = 0; k < S; k++) L[k] = (k * 7 + 3) % O;
  write_npy("x.npy", "<f4", 2, DIMS(S, I), X);
  write_npy("t.npy", "<f4", 2, DIMS(S, O), T);
  write_npy("l.npy", "<i8", 1, DIMS(S), L);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (!getenv("MODELC_KEEP")) ot_sh("/bin/rm -rf %s", tmp);   /* absolute: the no-cc run empties PATH */
  return 0;
}

/* Run the harness (prog under tmp/<model>/) in tmp with args; stdout to
 * tmp/out.txt, stderr to tmp/err.txt; returns the exit status. */
static int harness(const char *model, const char *prog, const char *args) {
  return ot_sh("cd %s && %s/%s %s > out.txt 2> err.txt", tmp, model, prog, args);
}

/* The run failed with exit 1 and one line on stderr containing `needle`. */
static void expect_refusal(const char *model, const char *args, const char *needle) {
  char path[256];
  int rc = harness(model, "prog_san", args);
  snprintf(path, sizeof path, "%s/err.txt", tmp);
  char *err = ot_slurp(path, NULL);
  assert_non_null(err);
  if (rc != 1) fail_msg("'%s': exit %d, expected 1 (stderr: %s)", args, rc, err);
  char *nl = strchr(err, '\n');
  if (!nl || nl[1] != '\0') fail_msg("'%s': expected one line on stderr, got '%s'", args, err);
  if (!strstr(err, needle)) fail_msg("'%s': '%s' does not say '%s'", args, err, needle);
  free(err);
}

/* PyTorch trains `model` from the harness's initial parameters (saved
 * with --epochs 0) and compares (train_reference.py beside this file);
 * skipped without torch. */
static void torch_agrees(const char *model) {
  char script[512];
  const char *slash;
  if (ot_sh("/usr/bin/python3 -c 'import torch' 2>/dev/null") != 0) {
    fprintf(stderr, "note: no PyTorch, %s not compared with it\n", model);
    return;
  }
  slash = strrchr(__FILE__, '/');
  snprintf(script, sizeof script, "%.*s/train_reference.py", slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
  if (ot_sh("/usr/bin/python3 %s %s %s %d %d %.17g %.17g", script, model, tmp, EPOCHS, B, LR, MU) != 0)
    fail_msg("%s: the harness and PyTorch disagree", model);
}

static void file_order(int64_t *order) {
  for (int k = 0; k < STEPS * B; k++) order[k] = k % S;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_regression_steps(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g, *t = build(0, "reg", &g);
  int64_t order[STEPS * B];
  double ref_loss[STEPS], ref_w[I * O], ref_b[O], ref_v[I * O], it_loss[STEPS], log_loss[STEPS + 1];
  float w[I * O], b[O], v[I * O];
  file_order(order);
  assert_int_equal(harness("reg", "prog", "--train x.npy t.npy --epochs 0 --batch 4 --save init_reg.npz"), 0);
  assert_int_equal(harness("reg", "prog_san", "--train x.npy t.npy --epochs 2 --batch 4 --log reg.csv --save reg.npz"), 0);
  torch_agrees("reg");
  reference(order, ref_loss, ref_w, ref_b, ref_v);
  interp_steps(t, order, 0, it_loss);
  assert_int_equal(read_log("reg.csv", log_loss, STEPS + 1), STEPS);
  for (int s = 0; s < STEPS; s++) {
    expect_near(log_loss[s], it_loss[s], 1e-5, "loss vs interpreter, step", s + 1);
    expect_near(log_loss[s], ref_loss[s], 1e-5, "loss vs reference, step", s + 1);
  }
  for (int s = 0; s < S / B; s++) assert_true(log_loss[s + S / B] < log_loss[s]);   /* it learns: each batch's loss fell */
  npz_param("reg.npz", "fc.weight", DIMS(I, O), 2, w);
  npz_param("reg.npz", "fc.bias", DIMS(O), 1, b);
  npz_param("reg.npz", "optimizer/fc.weight/velocity", DIMS(I, O), 2, v);   /* the optimizer's state is saved too */
  const float *iw = ir_find_tensor(t, "fc.weight")->data, *ib = ir_find_tensor(t, "fc.bias")->data;
  const float *iv = ir_find_tensor(t, "optimizer/fc.weight/velocity")->data;
  for (int q = 0; q < I * O; q++) {
    expect_near(w[q], iw[q], 1e-5, "fc.weight vs interpreter", q);
    expect_near(w[q], ref_w[q], 1e-5, "fc.weight vs reference", q);
    expect_near(v[q], iv[q], 1e-5, "velocity vs interpreter", q);
    expect_near(v[q], ref_v[q], 1e-5, "velocity vs reference", q);
  }
  for (int o = 0; o < O; o++) {
    expect_near(b[o], ib[o], 1e-5, "fc.bias vs interpreter", o);
    expect_near(b[o], ref_b[o], 1e-5, "fc.bias vs reference", o);
  }
  /* one line per epoch, its loss the mean of its steps' */
  char path[256];
  snprintf(path, sizeof path, "%s/out.txt", tmp);
  char *out = ot_slurp(path, NULL), *p = out;
  for (int ep = 0; ep < EPOCHS; ep++) {
    int e, n;
    double mean = 0, v;
    assert_non_null(p);
    assert_int_equal(sscanf(p, "epoch %d/%d: loss %lf", &e, &n, &v), 3);
    assert_int_equal(e, ep + 1);
    assert_int_equal(n, EPOCHS);
    for (int s = 0; s < S / B; s++) mean += log_loss[ep * S / B + s] / (S / B);
    expect_near(v, mean, 1e-5, "epoch loss", ep + 1);
    assert_null(strstr(p, "accuracy"));  /* float labels: no accuracy */
    p = strchr(p, '\n');
    if (p) p++;
  }
  assert_string_equal(p, "");
  free(out);
  /* the save left no temporary file behind */
  DIR *dir = opendir(tmp);
  struct dirent *de;
  while ((de = readdir(dir)))
    if (strstr(de->d_name, ".tmp")) fail_msg("temporary file %s left behind", de->d_name);
  closedir(dir);
  /* the header and the storage classes */
  snprintf(path, sizeof path, "%s/reg/reg.h", tmp);
  char *h = ot_slurp(path, NULL);
  assert_non_null(strstr(h, "int reg_train_step(const float *input_x, const float *label_target, float *loss, void *arena);"));
  assert_non_null(strstr(h, "int reg_param_count(void);"));
  assert_non_null(strstr(h, "int reg_state_count(void);"));
  assert_non_null(strstr(h, "void *reg_state_data(int i);"));
  assert_non_null(strstr(h, "#define reg_LABEL_0_NAME \"target\""));
  assert_non_null(strstr(h, "#define reg_ERR_LOSS_NOT_FINITE 2"));
  free(h);
  snprintf(path, sizeof path, "%s/reg/reg_weights.c", tmp);
  char *wc = ot_slurp(path, NULL);
  for (int k = 0; k < 2; k++)   /* trained weight, bias and velocity: writable */
    for (const char *q = wc; (q = strstr(q, k ? "/* optimizer/" : "/* fc.")); q++) {
      const char *line = strstr(strchr(q, '\n') + 1, "\n") + 1;
      if (strncmp(line, "const ", 6) == 0) fail_msg("trained tensor stored const: %.60s", q);
    }
  assert_null(strstr(wc, "packed"));   /* no compile-time packing of a trained weight */
  assert_non_null(strstr(wc, "const union"));   /* the constants stay const */
  free(wc);
  ir_graph_free(t);
  ir_graph_free(g);
}

static void test_save_load(void **state) {
  (void)state;
  ot_need_compilers();
  char a[256], b[256];
  ir_graph *g, *t = build(0, "rs", &g);
  char path[256];
  assert_int_equal(harness("rs", "prog", "--train x.npy t.npy --epochs 1 --batch 4 --save rs1.npz"), 0);
  /* load then save: the same keys, shapes and values */
  assert_int_equal(harness("rs", "prog_san", "--train x.npy t.npy --epochs 0 --batch 4 --load rs1.npz --save rs2.npz"), 0);
  float w1[I * O], w2[I * O], b1[O], b2[O];
  npz_param("rs1.npz", "fc.weight", DIMS(I, O), 2, w1);
  npz_param("rs2.npz", "fc.weight", DIMS(I, O), 2, w2);
  npz_param("rs1.npz", "fc.bias", DIMS(O), 1, b1);
  npz_param("rs2.npz", "fc.bias", DIMS(O), 1, b2);
  assert_memory_equal(w1, w2, sizeof w1);
  assert_memory_equal(b1, b2, sizeof b1);
  snprintf(a, sizeof a, "%s/rs1.npz", tmp);
  snprintf(b, sizeof b, "%s/rs2.npz", tmp);
  assert_int_equal(ot_sh("cmp -s %s %s", a, b), 0);   /* deterministic bytes */
  assert_memory_not_equal(w1, ir_find_tensor(t, "fc.weight")->data, sizeof w1);   /* trained, not initial */
  /* inference with the loaded parameters, and without them (the initial ones) */
  write_npy("xin.npy", "<f4", 2, DIMS(B, I), X);
  for (int load = 0; load < 2; load++) {
    char args[128], err[256];
    npy_array y;
    snprintf(args, sizeof args, "%s xin.npy -o inf%d", load ? "--load rs1.npz" : "", load);
    assert_int_equal(harness("rs", "prog_san", args), 0);
    snprintf(path, sizeof path, "%s/inf%d/%s.npy", tmp, load, g->outputs[0]->name);
    if (npy_read(path, &y, err, sizeof err) != 0) fail_msg("%s", err);
    for (int r = 0; r < B; r++)
      for (int o = 0; o < O; o++) {
        double z = load ? b1[o] : B0[o];
        for (int i = 0; i < I; i++) z += X[r * I + i] * (load ? w1[i * O + o] : W0[i * O + o]);
        expect_near(((const float *)y.data)[r * O + o], 1 / (1 + exp(-z)), 1e-5, "inference output", r * O + o);
      }
    npy_free(&y);
  }
  expect_refusal("rs", "--load missing_file.npz xin.npy", "missing_file.npz");
  /* numpy reads what the harness writes, and what numpy writes loads */
  if (ot_sh("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0) {
    assert_int_equal(ot_sh("cd %s && /usr/bin/python3 -c \"import numpy as np; z = np.load('rs1.npz'); "
                        "assert sorted(z.files) == ['fc.bias', 'fc.weight', 'optimizer/fc.weight/velocity'] and "
                        "z['fc.weight'].shape == (3, 2); "
                        "np.savez('np.npz', **{k: z[k] for k in z.files}); "
                        "np.savez('missing.npz', **{'fc.weight': z['fc.weight']}); "
                        "np.savez('extra.npz', extra=z['fc.bias'], **{k: z[k] for k in z.files}); "
                        "np.savez('shape.npz', **{'fc.weight': np.ascontiguousarray(z['fc.weight'].T), 'fc.bias': z['fc.bias']})\"", tmp), 0);
    assert_int_equal(harness("rs", "prog_san", "--train x.npy t.npy --epochs 0 --batch 4 --load np.npz --save rs3.npz"), 0);
    snprintf(b, sizeof b, "%s/rs3.npz", tmp);
    assert_int_equal(ot_sh("cmp -s %s %s", a, b), 0);
    expect_refusal("rs", "--train x.npy t.npy --epochs 1 --batch 4 --load missing.npz", "'fc.bias' is missing");
    expect_refusal("rs", "--train x.npy t.npy --epochs 1 --batch 4 --load extra.npz", "'extra'");
    expect_refusal("rs", "--train x.npy t.npy --epochs 1 --batch 4 --load shape.npz", "'fc.weight' is float32 [2,3]");
    /* the optimizer's state: of its shape, or absent (a note, and it starts afresh) */
    assert_int_equal(ot_sh("cd %s && /usr/bin/python3 -c \"import numpy as np; z = np.load('rs1.npz'); "
                        "np.savez('params.npz', **{k: z[k] for k in ('fc.weight', 'fc.bias')}); "
                        "np.savez('vshape.npz', **{'optimizer/fc.weight/velocity': np.zeros(6, np.float32), "
                        "'fc.weight': z['fc.weight'], 'fc.bias': z['fc.bias']})\"", tmp), 0);
    expect_refusal("rs", "--train x.npy t.npy --epochs 1 --batch 4 --load vshape.npz",
                   "key 'optimizer/fc.weight/velocity' is float32 [6], the model's optimizer state is float32 [3,2]");
    /* one epoch from a save of one equals two epochs in one run, to the bit; from the parameters alone
     * (the momentum lost) it does not */
    assert_int_equal(harness("rs", "prog", "--train x.npy t.npy --epochs 2 --batch 4 --save two.npz"), 0);
    assert_int_equal(harness("rs", "prog_san", "--train x.npy t.npy --epochs 1 --batch 4 --load rs1.npz --save resumed.npz"), 0);
    snprintf(path, sizeof path, "%s/err.txt", tmp);
    char *err = ot_slurp(path, NULL);
    assert_string_equal(err, "");
    free(err);
    assert_int_equal(ot_sh("cmp -s %s/two.npz %s/resumed.npz", tmp, tmp), 0);
    assert_int_equal(harness("rs", "prog_san", "--train x.npy t.npy --epochs 1 --batch 4 --load params.npz --save fresh.npz"), 0);
    err = ot_slurp(path, NULL);
    if (!strstr(err, "rs_main: note: --load params.npz holds parameters only") || strchr(err, '\n') != err + strlen(err) - 1)
      fail_msg("a load without state: want one note on stderr, got '%s'", err);
    free(err);
    float wf[I * O], w2e[I * O];
    npz_param("fresh.npz", "fc.weight", DIMS(I, O), 2, wf);
    npz_param("two.npz", "fc.weight", DIMS(I, O), 2, w2e);
    assert_memory_not_equal(wf, w2e, sizeof wf);
  }
  expect_refusal("rs", "--train x.npy t.npy --epochs 1 --batch 4 --load nothere.npz", "nothere.npz");
  ir_graph_free(t);
  ir_graph_free(g);
}

/* splitmix64 and Fisher-Yates as docs/training_harness.md states them. */
static void documented_order(uint64_t seed, int64_t *order) {
  uint64_t st = seed;
  for (int ep = 0; ep < EPOCHS; ep++) {
    int64_t *p = order + ep * S;
    for (int k = 0; k < S; k++) p[k] = k;
    for (int k = S - 1; k > 0; k--) {
      uint64_t z = (st += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      int64_t j = (int64_t)(z % (uint64_t)(k + 1)), tmpv = p[k];
      p[k] = p[j];
      p[j] = tmpv;
    }
  }
}

static void test_shuffle(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g, *t = build(0, "sh", &g);
  double l1[STEPS + 1], l2[STEPS + 1], l0[STEPS + 1], it[STEPS];
  int64_t order[STEPS * B];
  assert_int_equal(harness("sh", "prog", "--train x.npy t.npy --epochs 2 --batch 4 --shuffle 42 --log s1.csv"), 0);
  assert_int_equal(harness("sh", "prog", "--train x.npy t.npy --epochs 2 --batch 4 --shuffle 42 --log s2.csv"), 0);
  assert_int_equal(harness("sh", "prog", "--train x.npy t.npy --epochs 2 --batch 4 --log s0.csv"), 0);
  assert_int_equal(read_log("s1.csv", l1, STEPS + 1), STEPS);
  assert_int_equal(read_log("s2.csv", l2, STEPS + 1), STEPS);
  assert_int_equal(read_log("s0.csv", l0, STEPS + 1), STEPS);
  assert_memory_equal(l1, l2, sizeof(double) * STEPS);
  assert_memory_not_equal(l1, l0, sizeof(double) * STEPS);
  documented_order(42, order);
  interp_steps(t, order, 0, it);
  for (int s = 0; s < STEPS; s++) expect_near(l1[s], it[s], 1e-5, "shuffled loss vs interpreter, step", s + 1);
  ir_graph_free(t);
  ir_graph_free(g);
}

/* Classification: losses, accuracy before each step and test accuracy
 * after each epoch against the interpreter. */
static void test_classification(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g, *t = build(1, "cls", &g);
  int64_t order[STEPS * B];
  double it_loss[STEPS], log_loss[STEPS + 1], acc[EPOCHS] = {0}, test_acc[EPOCHS] = {0};
  enum { NT = 10 };   /* test samples: two batches and a padded half */
  write_npy("xt.npy", "<f4", 2, DIMS(NT, I), X);
  write_npy("lt.npy", "<i8", 1, DIMS(NT), L);
  file_order(order);
  assert_int_equal(harness("cls", "prog", "--train x.npy l.npy --epochs 0 --batch 4 --save init_cls.npz"), 0);
  assert_int_equal(harness("cls", "prog_san", "--train x.npy l.npy --epochs 2 --batch 4 --log cls.csv --test xt.npy lt.npy --save cls.npz"), 0);
  torch_agrees("cls");
  /* the interpreter, step by step, with the inference graph on the parameters of the moment */
  ir_tensor *pw = ir_find_tensor(g, "fc.weight"), *pb = ir_find_tensor(g, "fc.bias");
  ir_tensor *tw = ir_find_tensor(t, "fc.weight"), *tb = ir_find_tensor(t, "fc.bias");
  assert_non_null(pw);
  assert_non_null(pb);
  for (int s = 0; s < STEPS; s++) {
    float xb[B * I];
    for (int r = 0; r < B; r++) memcpy(xb + r * I, X + order[s * B + r] * I, sizeof(float) * I);
    memcpy(pw->data, tw->data, sizeof(float) * I * O);
    memcpy(pb->data, tb->data, sizeof(float) * O);
    const void *in[1] = {xb};
    interp_ctx c;
    assert_int_equal(interp_run(&c, g, in), 0);
    const float *lg = interp_value(&c, g->outputs[0]);
    for (int r = 0; r < B; r++) acc[s / (S / B)] += ((lg[r * O + 1] > lg[r * O]) == L[order[s * B + r]]) / (double)S;
    interp_free(&c);
    /* one step of the training graph */
    double l;
    {
      int64_t lb[B];
      for (int r = 0; r < B; r++) lb[r] = L[order[s * B + r]];
      const void *tin[2] = {xb, lb};
      interp_ctx ct;
      assert_int_equal(interp_run(&ct, t, tin), 0);
      l = *(const float *)interp_value(&ct, t->loss);
      for (int u = 0; u < t->n_updates; u++)
        memcpy(t->updates[u].target->data, interp_value(&ct, t->updates[u].value),
               (size_t)ir_nbytes(t->updates[u].target));
      interp_free(&ct);
    }
    it_loss[s] = l;
    if ((s + 1) % (S / B) == 0) {   /* end of an epoch: test accuracy, the last batch padded */
      int ep = s / (S / B);
      memcpy(pw->data, tw->data, sizeof(float) * I * O);
      memcpy(pb->data, tb->data, sizeof(float) * O);
      for (int k0 = 0; k0 < NT; k0 += B) {
        float tx[B * I] = {0};
        for (int r = 0; r < B && k0 + r < NT; r++) memcpy(tx + r * I, X + (k0 + r) * I, sizeof(float) * I);
        const void *tin[1] = {tx};
        interp_ctx c2;
        assert_int_equal(interp_run(&c2, g, tin), 0);
        const float *lg2 = interp_value(&c2, g->outputs[0]);
        for (int r = 0; r < B && k0 + r < NT; r++) test_acc[ep] += ((lg2[r * O + 1] > lg2[r * O]) == L[k0 + r]) / (double)NT;
        interp_free(&c2);
      }
    }
  }
  assert_int_equal(read_log("cls.csv", log_loss, STEPS + 1), STEPS);
  for (int s = 0; s < STEPS; s++) expect_near(log_loss[s], it_loss[s], 1e-5, "loss vs interpreter, step", s + 1);
  char path[256];
  snprintf(path, sizeof path, "%s/out.txt", tmp);
  char *out = ot_slurp(path, NULL), *p = out;
  for (int ep = 0; ep < EPOCHS; ep++) {
    int e, n;
    double v, a, ta;
    assert_int_equal(sscanf(p, "epoch %d/%d: loss %lf, accuracy %lf, test accuracy %lf", &e, &n, &v, &a, &ta), 5);
    expect_near(a, acc[ep], 1e-4, "accuracy, epoch", ep + 1);
    expect_near(ta, test_acc[ep], 1e-4, "test accuracy, epoch", ep + 1);
    p = strchr(p, '\n') + 1;
  }
  free(out);
  /* labels out of range, or not class ids */
  int64_t bad[S];
  memcpy(bad, L, sizeof bad);
  bad[5] = O;
  write_npy("lbad.npy", "<i8", 1, DIMS(S), bad);
  expect_refusal("cls", "--train x.npy lbad.npy --epochs 1 --batch 4", "label 2 of sample 5 is out of range [0, 2)");
  expect_refusal("cls", "--train x.npy t.npy --epochs 1 --batch 4", "expected int64 values, got float32");
  /* resumed from a save, a shuffled run goes on as one run would: the saved step counter (Momentum's T)
   * picks the epoch's permutation and numbers the log's steps */
  assert_int_equal(harness("cls", "prog", "--train x.npy l.npy --epochs 2 --batch 4 --shuffle 9 --log sa.csv --save sa.npz"), 0);
  assert_int_equal(harness("cls", "prog", "--train x.npy l.npy --epochs 1 --batch 4 --shuffle 9 --log sb1.csv --save sb1.npz"), 0);
  assert_int_equal(harness("cls", "prog_san", "--train x.npy l.npy --epochs 1 --batch 4 --shuffle 9 --load sb1.npz "
                                             "--log sb2.csv --save sb2.npz"), 0);
  assert_int_equal(ot_sh("cd %s && cmp -s sa.npz sb2.npz && tail -n +2 sb2.csv > sb2.rows && cat sb1.csv sb2.rows | cmp -s - sa.csv", tmp), 0);
  /* state in part is refused: the step counter missing */
  if (ot_sh("cd %s && /usr/bin/python3 -c \"import numpy as np; z = np.load('sb1.npz'); "
         "np.savez('nostep.npz', **{k: z[k] for k in z.files if k != 'optimizer/step'})\"", tmp) == 0)
    expect_refusal("cls", "--train x.npy l.npy --epochs 1 --batch 4 --load nostep.npz", "key 'optimizer/step' is missing");
  ir_graph_free(t);
  ir_graph_free(g);
}

static void test_bad_input(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g, *t = build(0, "bad", &g);
  float xn[S * I];
  memcpy(xn, X, sizeof xn);
  xn[5 * I + 1] = NAN;   /* sample 5: step 2 */
  write_npy("xnan.npy", "<f4", 2, DIMS(S, I), xn);
  write_npy("x10.npy", "<f4", 2, DIMS(10, I), X);
  write_npy("t10.npy", "<f4", 2, DIMS(10, O), T);
  static float xwide[S * (I + 1)];   /* samples one value too wide (zeros) */
  write_npy("xwide.npy", "<f4", 2, DIMS(S, I + 1), xwide);
  expect_refusal("bad", "--train x.npy l.npy --epochs 1 --batch 4", "expected float32 values, got int64");
  expect_refusal("bad", "--train x.npy t10.npy --epochs 1 --batch 4", "x.npy has 12 samples but t10.npy has 10 labels");
  expect_refusal("bad", "--train x10.npy t10.npy --epochs 1 --batch 4", "no whole number of batches of 4");
  expect_refusal("bad", "--train x.npy t.npy --epochs 1 --batch 3", "compiled for batch 4");
  expect_refusal("bad", "--train xwide.npy t.npy --epochs 1 --batch 4", "expected samples shaped [3]");
  expect_refusal("bad", "--train x.npy t.npy --epochs 1 --batch 4 --max-bytes 100", "--max-bytes");
  expect_refusal("bad", "--train nofile.npy t.npy --epochs 1 --batch 4", "nofile.npy");
  expect_refusal("bad", "--train xnan.npy t.npy --epochs 2 --batch 4 --save nan.npz", "the loss is NaN at step 2 (epoch 1)");
  char path[256];
  snprintf(path, sizeof path, "%s/nan.npz", tmp);
  assert_null(fopen(path, "rb"));   /* stopped before saving */
  assert_int_equal(harness("bad", "prog", "--train x.npy t.npy --batch 4"), 2);   /* usage: no --epochs */
  ir_graph_free(t);
  ir_graph_free(g);
}

/* Parameters (with training on) and optimizer state never fold into
 * constants, even when nothing marked them is_state before the passes. */
static void test_state_not_folded(void **state) {
  (void)state;
  pass_options o;
  pass_options_default(&o);
  o.training = 1;
  ir_graph *t = train_graph(0);
  for (int i = 0; i < t->n_tensors; i++) t->tensors[i]->is_state = 0;
  assert_int_equal(pass_run_all(t, &o), 0);
  const char *names[] = {"fc.weight", "fc.bias", "optimizer/fc.weight/velocity"};
  for (int k = 0; k < 3; k++) {
    const ir_tensor *p = ir_find_tensor(t, names[k]);
    int read = 0;
    assert_non_null(p);
    for (int s = 0; s < t->n_nodes; s++)
      for (int i = 0; i < t->nodes[s]->n_in; i++) read |= t->nodes[s]->in[i] == p;
    if (!read) fail_msg("'%s' was folded away", names[k]);
  }
  ir_graph_free(t);
}

/* emit_c_train refuses training graphs it cannot emit, naming what is wrong. */
static void expect_emit_error(ir_graph *g, ir_graph *t, const char *needle) {
  pass_options o;
  pass_options_default(&o);
  o.training = 1;
  emit_options eo = {"bad", 0, 0};
  if (pass_run_all(g, &o) < 0 || pass_run_all(t, &o) < 0) fail_msg("passes: %s", ir_last_error());
  assert_int_equal(emit_c_train(g, t, &eo, tmp), -1);
  if (!strstr(ir_last_error(), needle)) fail_msg("'%s' does not say '%s'", ir_last_error(), needle);
  ir_graph_free(g);
  ir_graph_free(t);
}

static void test_emit_refusals(void **state) {
  (void)state;
  ir_graph *g = infer_graph(0), *t = train_graph(0);
  t->loss = NULL;
  expect_emit_error(g, t, "no loss");
  g = infer_graph(0), t = train_graph(0);
  t->n_labels = 0;
  expect_emit_error(g, t, "the training graph has 2 inputs and 0 labels, the model 1 inputs");
  g = infer_graph(0), t = train_graph(0);
  ir_tensor *pb = ir_find_tensor(g, "fc.bias");
  free(pb->name);
  pb->name = ir_strdup("other.bias");
  expect_emit_error(g, t, "parameter 'fc.bias' is trained but the inference graph has no parameter of that name");
  g = infer_graph(0), t = train_graph(0);
  t->updates[0].value = t->updates[t->n_updates - 1].value;   /* fc.weight [3,2] := a [2] value */
  expect_emit_error(g, t, "dtype or shape differ");
  g = infer_graph(0), t = train_graph(0);
  t->updates[0].value = t->updates[0].target;   /* fc.weight := fc.weight */
  expect_emit_error(g, t, "no tensor the step computes");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_regression_steps), cmocka_unit_test(test_save_load), cmocka_unit_test(test_shuffle),
      cmocka_unit_test(test_classification), cmocka_unit_test(test_bad_input), cmocka_unit_test(test_state_not_folded),
      cmocka_unit_test(test_emit_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
