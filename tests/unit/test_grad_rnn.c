/*
 * test_grad_rnn.c - backpropagation through time of RNN, GRU and LSTM
 * (compiler/ops/grad_rnn.c).
 *
 * 1. Finite differences: for each cell (GRU with both linear_before_reset
 *    values), direction, with and without B and initial_h/initial_c, and a
 *    loss through Y only, Y_h only (the node then has no Y output, so the
 *    builder recomputes it) and every output, the gradients of
 *    L = sum(Y cY + Y_h cH + Y_c cC) (random weights c, broadcast over T)
 *    w.r.t. every input match central differences of L computed by the
 *    interpreter on the forward graph alone, in float64.
 * 2. PyTorch: a bidirectional GRU and LSTM with their gradients from
 *    torch.autograd in float32 (tests/data/grad_rnn/torch_ref.py wrote the
 *    .npy files, converting PyTorch's gate order and bias split to ONNX's).
 * 3. The emitted C of a GRU backward graph (float32) against the
 *    interpreter, built with cc and clang under ASan/UBSan.
 * 4. Relu and other non-default choices of Tanh/Sigmoid/Relu per slot;
 *    clip; LSTM's input_forget.
 * 5. sequence_lens, equal to the sequence length or shorter (0 too); what
 *    is refused is an error naming the node and what is missing.
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
#include "runtime/npy.h"
#include "optest.h"

enum { LOSS_Y = 1, LOSS_YH = 2, LOSS_YC = 4 };

typedef struct rnn_case {
  const char *op;         /* RNN, GRU, LSTM */
  int lbr;                /* GRU linear_before_reset */
  const char *dir;
  int with_b, with_h0;    /* with_h0: initial_h, and initial_c for LSTM */
  int loss;               /* LOSS_* bits: outputs the loss reads (and the node writes) */
  ir_dtype dt;
  int64_t T, B, I, H;
  const char *torch;      /* NULL, or the prefix of torch_ref.py's files: loss weights from there */
  int layout;
  void (*tweak)(ir_graph *g, ir_node *n);   /* changes the node before validation, or NULL */
  int with_p;             /* LSTM peepholes */
} rnn_case;

#define DATA "tests/data/grad_rnn"

/* DATA/<prefix>_<name>.npy, which must hold float32 of n elements. */
static float *load(const char *prefix, const char *name, int64_t n) {
  char path[256], err[256];
  npy_array a;
  snprintf(path, sizeof path, DATA "/%s_%s.npy", prefix, name);
  if (npy_read(path, &a, err, sizeof err) < 0) fail_msg("%s", err);
  if (strcmp(a.descr, "<f4") != 0 || a.nbytes != (size_t)n * sizeof(float))
    fail_msg("%s: %s with %zu bytes, expected float32 of %lld elements", path, a.descr, a.nbytes, (long long)n);
  return a.data;
}

/* The graph of one case and its float inputs, in the node's input order. */
typedef struct rnn_graph {
  ir_graph *g;
  ir_node *rnn;
  ir_tensor *y;             /* the loss tensor; L = sum(y) */
  int n_x;
  ir_tensor *xs[8];         /* graph inputs: X W R [B] [initial_h] [initial_c] */
  ir_tensor *dxs[8];        /* their gradients (Gradient's outputs) */
} rnn_graph;

static int gates(const char *op) { return strcmp(op, "LSTM") == 0 ? 4 : strcmp(op, "GRU") == 0 ? 3 : 1; }
static int ndir(const rnn_case *c) { return strcmp(c->dir, "bidirectional") == 0 ? 2 : 1; }

static void describe(const rnn_case *c, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s %s%s%s%s%s loss%s%s%s", c->op, strcmp(c->op, "GRU") ? "" : c->lbr ? "(lbr=1)" : "(lbr=0)",
           c->dir, c->layout ? " layout=1" : "", c->with_b ? " +B" : "", c->with_h0 ? " +initial" : "",
           c->with_p ? " +P" : "",
           c->loss & LOSS_Y ? " Y" : "",
           c->loss & LOSS_YH ? " Y_h" : "", c->loss & LOSS_YC ? " Y_c" : "");
}

/* Loss weights: PyTorch's for its cases, else a fixed function of the
 * position, so every element counts differently. */
static ir_tensor *weights_like(ir_graph *g, const rnn_case *rc, int j, const ir_tensor *t) {
  static const char *const names[3] = {"cY", "cH", "cC"};
  int64_t cnt = ir_numel(t);
  double *v = malloc((size_t)cnt * sizeof *v);
  float *f = rc->torch ? load(rc->torch, names[j], cnt) : NULL;
  for (int64_t k = 0; k < cnt; k++) v[k] = f ? f[k] : sin(0.7 * (double)k + j) + 0.3;
  ir_tensor *c = ot_const(g, names[j], rc->dt, t->rank, t->shape, v);
  free(f);
  free(v);
  return c;
}

static ir_tensor *node2(ir_graph *g, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_node *n = ot_node(g, op, 13, 2, IN(a, b), 1);
  assert_int_equal(op_validate(n), 0);
  return n->out[0];
}

static void build(rnn_graph *r, const rnn_case *c, int with_gradient) {
  int64_t nd = ndir(c), GH = gates(c->op) * c->H, T = c->T, B = c->B, I = c->I, H = c->H;
  int lstm = strcmp(c->op, "LSTM") == 0;
  memset(r, 0, sizeof *r);
  r->g = ir_graph_new("g", NULL);
  ir_tensor *in[8] = {NULL};
  in[0] = ot_input(r->g, "X", c->dt, 3, c->layout ? DIMS(B, T, I) : DIMS(T, B, I));
  in[1] = ot_input(r->g, "W", c->dt, 3, DIMS(nd, GH, I));
  in[2] = ot_input(r->g, "R", c->dt, 3, DIMS(nd, GH, H));
  if (c->with_b) in[3] = ot_input(r->g, "B", c->dt, 2, DIMS(nd, 2 * GH));
  const int64_t *hd = c->layout ? DIMS(B, nd, H) : DIMS(nd, B, H);
  if (c->with_h0) in[5] = ot_input(r->g, "initial_h", c->dt, 3, hd);
  if (c->with_h0 && lstm) in[6] = ot_input(r->g, "initial_c", c->dt, 3, hd);
  if (c->with_p) in[7] = ot_input(r->g, "P", c->dt, 2, DIMS(nd, 3 * H));
  for (int i = 0; i < 8; i++)
    if (in[i]) r->xs[r->n_x++] = in[i];
  int n_in = in[7] ? 8 : in[6] ? 7 : in[5] ? 6 : in[3] ? 4 : 3;
  if (c->tweak && n_in < 5) n_in = 5;   /* room for sequence_lens */

  ir_tensor *out[3] = {NULL};
  static const char *const out_names[3] = {"Y", "Y_h", "Y_c"};
  for (int j = 0; j < 3; j++)
    if (c->loss & (1 << j)) out[j] = ir_add_tensor(r->g, out_names[j], IR_UNDEF, IR_ACTIVATION);
  r->rnn = ir_add_node(r->g, c->op, "rnn");
  r->rnn->opset = 14;
  ir_node_set_io(r->rnn, n_in, in, lstm ? 3 : 2, out);
  ir_attr_set_int(r->rnn, "hidden_size", H);
  ir_attr_set_string(r->rnn, "direction", c->dir);
  if (strcmp(c->op, "GRU") == 0) ir_attr_set_int(r->rnn, "linear_before_reset", c->lbr);
  if (c->layout) ir_attr_set_int(r->rnn, "layout", 1);
  if (c->tweak) c->tweak(r->g, r->rnn);
  assert_int_equal(op_validate(r->rnn), 0);
  if (r->rnn->op->infer(r->g, r->rnn) < 0) fail_msg("%s", ir_last_error());

  for (int j = 0; j < 3; j++) {
    if (!out[j]) continue;
    ir_tensor *term = node2(r->g, "Mul", out[j], weights_like(r->g, c, j, out[j]));
    r->y = r->y ? node2(r->g, "Add", r->y, term) : term;   /* Y_h, Y_c broadcast over Y's T */
  }
  ir_graph_add_output(r->g, r->y);
  if (!with_gradient) return;
  for (int i = 0; i < r->n_x; i++) {
    char name[64];
    snprintf(name, sizeof name, "d_%s", r->xs[i]->name);
    r->dxs[i] = ir_add_tensor(r->g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ot_gradient(r->g, r->y, r->n_x, r->xs, r->dxs);
  for (int i = 0; i < r->n_x; i++) ir_graph_add_output(r->g, r->dxs[i]);
}

static void run_passes(ir_graph *g) {
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  if (pass_run_all(g, &o) < 0) fail_msg("%s", ir_last_error());
}

/* Random float64 inputs of a case, small enough that the gates do not saturate. */
static double **random_inputs(const rnn_graph *r) {
  double **v = calloc(8, sizeof *v);
  for (int i = 0; i < r->n_x; i++) {
    int64_t cnt = ir_numel(r->xs[i]);
    v[i] = malloc((size_t)cnt * sizeof **v);
    for (int64_t k = 0; k < cnt; k++) v[i][k] = ot_rnd() / 4;
  }
  return v;
}

static void free_inputs(double **v) {
  for (int i = 0; i < 8; i++) free(v[i]);
  free(v);
}

static double loss_of(ir_graph *g, const ir_tensor *y, double *const *vals) {
  interp_ctx ic;
  if (interp_run(&ic, g, (const void *const *)vals) < 0) fail_msg("%s", ir_last_error());
  const double *yv = interp_value(&ic, y);
  double s = 0;
  for (int64_t k = 0; k < ir_numel(y); k++) s += yv[k];
  interp_free(&ic);
  return s;
}

static void check_fd(const rnn_case *c) {
  char what[128];
  describe(c, what, sizeof what);
  rnn_graph fwd, bwd;
  build(&fwd, c, 0);
  run_passes(fwd.g);
  build(&bwd, c, 1);
  run_passes(bwd.g);
  double **vals = random_inputs(&fwd);
  interp_ctx ic;
  if (interp_run(&ic, bwd.g, (const void *const *)vals) < 0) fail_msg("%s: %s", what, ir_last_error());
  const double h = 1e-6;
  for (int i = 0; i < fwd.n_x; i++) {
    const double *got = interp_value(&ic, bwd.dxs[i]);
    assert_non_null(got);
    assert_true(ir_same_shape(bwd.dxs[i], bwd.xs[i]));
    for (int64_t k = 0; k < ir_numel(fwd.xs[i]); k++) {
      double keep = vals[i][k];
      vals[i][k] = keep + h;
      double up = loss_of(fwd.g, fwd.y, vals);
      vals[i][k] = keep - h;
      double down = loss_of(fwd.g, fwd.y, vals);
      vals[i][k] = keep;
      double fd = (up - down) / (2 * h);
      if (!(fabs(got[k] - fd) <= 1e-6 * (1 + fabs(fd))))
        fail_msg("%s: dL/d%s[%lld]: autodiff %.12g, finite differences %.12g", what, fwd.xs[i]->name,
                 (long long)k, got[k], fd);
    }
  }
  interp_free(&ic);
  free_inputs(vals);
  ir_graph_free(fwd.g);
  ir_graph_free(bwd.g);
}

/* Every direction, with and without the optional inputs, and the losses. */
static void check_all(const char *op, int lbr) {
  static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
  int lstm = strcmp(op, "LSTM") == 0;
  const int losses[] = {LOSS_Y, LOSS_YH, LOSS_Y | LOSS_YH | (lstm ? LOSS_YC : 0), LOSS_YC};
  ot_rnd_seed(7);
  for (int d = 0; d < 3; d++)
    for (int opt = 0; opt < 2; opt++)
      for (int l = 0; l < (lstm ? 4 : 3); l++) {
        rnn_case c = {op, lbr, dirs[d], opt, opt, losses[l], IR_F64, 3, 2, 3, 2, NULL};
        check_fd(&c);
      }
}

static void test_rnn_finite_differences(void **state) {
  (void)state;
  check_all("RNN", 0);
}

static void test_gru_finite_differences(void **state) {
  (void)state;
  check_all("GRU", 0);
}

static void test_gru_lbr_finite_differences(void **state) {
  (void)state;
  check_all("GRU", 1);
}

static void test_lstm_finite_differences(void **state) {
  (void)state;
  check_all("LSTM", 0);
}

/* Partial optional inputs: B without initial_h and the reverse, one step, batch 1;
 * layout 1 with every input. */
static void test_odd_shapes(void **state) {
  (void)state;
  static const char *const ops[] = {"RNN", "GRU", "GRU", "LSTM"};
  ot_rnd_seed(11);
  for (int k = 0; k < 4; k++) {
    rnn_case a = {ops[k], k == 2, "bidirectional", 1, 0, LOSS_Y | LOSS_YH, IR_F64, 1, 1, 2, 3, NULL};
    rnn_case b = {ops[k], k == 2, "reverse", 0, 1, LOSS_Y, IR_F64, 4, 1, 1, 3, NULL};
    /* layout 1's Y [B, T, nd, H] does not broadcast with Y_h [B, nd, H]: one loss each */
    rnn_case l = {ops[k], k == 2, "bidirectional", 1, 1, LOSS_Y, IR_F64, 3, 2, 2, 3, NULL, 1, NULL};
    rnn_case lh = {ops[k], k == 2, "reverse", 1, 1, LOSS_YH | LOSS_YC * (k == 3), IR_F64, 3, 2, 2, 3, NULL, 1, NULL};
    check_fd(&a);
    check_fd(&b);
    check_fd(&l);
    check_fd(&lh);
  }
}

/* A bidirectional cell with every input against torch.autograd in float32. */
static void check_torch(const char *op, const char *prefix) {
  int lstm = strcmp(op, "LSTM") == 0;
  rnn_case c = {op, 1, "bidirectional", 1, 1, LOSS_Y | LOSS_YH | (lstm ? LOSS_YC : 0), IR_F32, 5, 3, 4, 3, prefix};
  rnn_graph r;
  build(&r, &c, 1);
  run_passes(r.g);
  float *vals[8] = {NULL};
  for (int i = 0; i < r.n_x; i++) vals[i] = load(prefix, r.xs[i]->name, ir_numel(r.xs[i]));
  interp_ctx ic;
  if (interp_run(&ic, r.g, (const void *const *)vals) < 0) fail_msg("%s", ir_last_error());
  for (int i = 0; i < r.n_x; i++) {
    char name[64];
    int64_t cnt = ir_numel(r.xs[i]);
    snprintf(name, sizeof name, "d%s", r.xs[i]->name);
    float *want = load(prefix, name, cnt);
    const float *got = interp_value(&ic, r.dxs[i]);
    for (int64_t k = 0; k < cnt; k++)
      if (!(fabs((double)got[k] - want[k]) <= 1e-4 * (1 + fabs((double)want[k]))))
        fail_msg("%s: dL/d%s[%lld]: modelc %.8g, PyTorch %.8g", op, r.xs[i]->name, (long long)k, got[k], want[k]);
    free(want);
  }
  interp_free(&ic);
  for (int i = 0; i < r.n_x; i++) free(vals[i]);
  ir_graph_free(r.g);
}

static void test_gru_against_pytorch(void **state) {
  (void)state;
  check_torch("GRU", "gru");
}

static void test_lstm_against_pytorch(void **state) {
  (void)state;
  check_torch("LSTM", "lstm");
}

static void seq_3_1(ir_graph *g, ir_node *n);

/* The emitted C of a GRU backward graph (float32) against the interpreter. */
static void emit_and_compare(const rnn_case *c) {
  char what[128], dir[64];
  static const ot_cc_opts cc = {"test_grad_rnn", "MODELC_KEEP", "-O2", 1, 0, NULL};
  describe(c, what, sizeof what);
  rnn_graph r;
  build(&r, c, 1);
  pass_options o;
  pass_options_default(&o);
  if (pass_run_all(r.g, &o) < 0) fail_msg("%s: %s", what, ir_last_error());
  ot_rnd_seed(5);
  float *vals[8] = {NULL};
  for (int i = 0; i < r.n_x; i++) {
    vals[i] = malloc((size_t)ir_numel(r.xs[i]) * sizeof(float));
    for (int64_t k = 0; k < ir_numel(r.xs[i]); k++) vals[i][k] = (float)(ot_rnd() / 4);
  }
  interp_ctx ic;
  if (interp_run(&ic, r.g, (const void *const *)vals) < 0) fail_msg("%s: %s", what, ir_last_error());
  ot_emit_tmp(r.g, cc.tag, dir);
  ot_write_driver(r.g, dir, (void *const *)vals);
  ot_build_run(dir, &cc);
  for (int j = 0; j < r.g->n_outputs; j++) {
    const ir_tensor *t = r.g->outputs[j];
    float *got = ot_read_output(r.g, dir, j);
    const float *want = interp_value(&ic, t);
    for (int64_t k = 0; k < ir_numel(t); k++)
      if (!(fabsf(got[k] - want[k]) <= 1e-5f * (1 + fabsf(want[k]))))
        fail_msg("%s: %s[%lld]: C %.9g, interpreter %.9g (files in %s)", what, t->name, (long long)k, got[k],
                 want[k], dir);
    free(got);
  }
  ot_cleanup(dir, cc.keep_env);
  interp_free(&ic);
  for (int i = 0; i < r.n_x; i++) free(vals[i]);
  ir_graph_free(r.g);
}

static void test_emit_gru_backward(void **state) {
  (void)state;
  ot_need_compilers();
  rnn_case a = {"GRU", 1, "bidirectional", 1, 1, LOSS_Y | LOSS_YH, IR_F32, 4, 2, 3, 3, NULL};
  rnn_case b = {"GRU", 0, "forward", 1, 0, LOSS_YH, IR_F32, 3, 2, 4, 3, NULL, 0, seq_3_1, 0};
  emit_and_compare(&a);
  emit_and_compare(&b);
}

/* 28 steps (a row-by-row MNIST GRU) stay a graph of a few hundred nodes. */
static void test_gru_28_steps_size(void **state) {
  (void)state;
  rnn_case c = {"GRU", 1, "forward", 1, 0, LOSS_YH, IR_F32, 28, 4, 28, 32, NULL};
  rnn_graph r;
  build(&r, &c, 1);
  run_passes(r.g);
  int live = 0;
  for (int k = 0; k < r.g->n_nodes; k++) live += !r.g->nodes[k]->dead;
  print_message("GRU, 28 steps, forward + backward: %d nodes\n", live);
  assert_true(live < 600);
  ir_graph_free(r.g);
}

/* LSTM peepholes: P's gradient and its effect on every other one. */
static void test_lstm_peepholes(void **state) {
  (void)state;
  static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
  ot_rnd_seed(3);
  for (int d = 0; d < 3; d++)
    for (int l = 0; l < 3; l++) {
      rnn_case c = {"LSTM", 0, dirs[d], l != 1, l != 2, l == 0 ? LOSS_Y : l == 1 ? LOSS_YC : LOSS_Y | LOSS_YH | LOSS_YC,
                    IR_F64, 3, 2, 3, 2, NULL, d == 2 && l == 1, NULL, 1};
      check_fd(&c);
    }
}

/* ---- sequence_lens, and what is refused --------------------------------- */

static void seq_full(ir_graph *g, ir_node *n) { n->in[4] = ot_const_ints(g, "seq", 2, DIMS(3, 3)); }
static void seq_3_1(ir_graph *g, ir_node *n) { n->in[4] = ot_const_ints(g, "seq", 2, DIMS(3, 1)); }
static void seq_0_2(ir_graph *g, ir_node *n) { n->in[4] = ot_const_ints(g, "seq", 2, DIMS(0, 2)); }
static void seq_runtime(ir_graph *g, ir_node *n) { n->in[4] = ot_tensor(g, "seq", IR_I64, 1, DIMS(2)); }
/* 0.3 bites: pre-activations of these inputs reach about 1. */
static void clip(ir_graph *g, ir_node *n) {
  (void)g;
  ir_attr_set_float(n, "clip", 0.3);
}
static void set_acts(ir_node *n, int cnt, const char *const *names) {
  ir_attr *a = ir_attr_add(n, "activations", IR_ATTR_STRINGS);
  a->n = cnt;
  a->strings = ir_alloc((size_t)cnt * sizeof *a->strings);
  for (int k = 0; k < cnt; k++) a->strings[k] = ir_strdup(names[k]);
}
static void hard_sigmoid(ir_graph *g, ir_node *n) {
  (void)g;
  set_acts(n, 2, (const char *const[]){"HardSigmoid", "Tanh"});
}
/* Non-default activations (the gradient supports Tanh, Sigmoid, Relu anywhere). */
static void rnn_relu_tanh(ir_graph *g, ir_node *n) {
  (void)g;
  set_acts(n, 2, (const char *const[]){"Relu", "Tanh"});
}
static void gru_mixed(ir_graph *g, ir_node *n) {
  (void)g;
  set_acts(n, 4, (const char *const[]){"Sigmoid", "Relu", "Tanh", "Sigmoid"});
}
static void lstm_mixed(ir_graph *g, ir_node *n) {
  (void)g;
  set_acts(n, 6, (const char *const[]){"Sigmoid", "Relu", "Tanh", "Tanh", "Tanh", "Sigmoid"});
}

static void test_other_activations(void **state) {
  (void)state;
  ot_rnd_seed(17);
  rnn_case r = {"RNN", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YH, IR_F64, 3, 2, 3, 2, NULL, 0, rnn_relu_tanh, 0};
  rnn_case g0 = {"GRU", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YH, IR_F64, 3, 2, 3, 2, NULL, 0, gru_mixed, 0};
  rnn_case g1 = {"GRU", 1, "bidirectional", 1, 0, LOSS_Y, IR_F64, 3, 2, 3, 2, NULL, 0, gru_mixed, 0};
  rnn_case l = {"LSTM", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YH | LOSS_YC, IR_F64, 3, 2, 3, 2, NULL, 0,
                lstm_mixed, 1};
  check_fd(&r);
  check_fd(&g0);
  check_fd(&g1);
  check_fd(&l);
}
static void input_forget(ir_graph *g, ir_node *n) {
  (void)g;
  ir_attr_set_int(n, "input_forget", 1);
}

/* sequence_lens equal to the sequence length everywhere changes nothing. */
static void test_full_sequence_lens(void **state) {
  (void)state;
  rnn_case c = {"GRU", 1, "bidirectional", 1, 1, LOSS_Y | LOSS_YH, IR_F64, 3, 2, 3, 2, NULL, 0, seq_full, 0};
  check_fd(&c);
}

/* Shorter sequences in the batch, 0 included. */
static void test_ragged_sequence_lens(void **state) {
  (void)state;
  static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
  static const char *const ops[] = {"RNN", "GRU", "GRU", "LSTM"};
  ot_rnd_seed(31);
  for (int k = 0; k < 4; k++)
    for (int d = 0; d < 3; d++) {
      int all = LOSS_Y | LOSS_YH | (k == 3 ? LOSS_YC : 0);
      rnn_case a = {ops[k], k == 2, dirs[d], 1, 1, all, IR_F64, 3, 2, 3, 2, NULL, 0, seq_3_1, 0};
      /* reverse in layout 1, where Y and Y_h do not broadcast together */
      rnn_case b = {ops[k], k == 1, dirs[d], 0, 1, d == 1 ? all & ~LOSS_Y : all, IR_F64, 3, 2, 2, 3, NULL, d == 1,
                    seq_0_2, k == 3};
      check_fd(&a);
      check_fd(&b);
    }
}

static void expect_refused(const char *op, void (*tweak)(ir_graph *, ir_node *), const char *needle) {
  rnn_case c = {op, 0, "forward", 1, 1, LOSS_Y, IR_F64, 3, 2, 3, 2, NULL, 0, tweak, 0};
  rnn_graph r;
  build(&r, &c, 1);
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  assert_int_equal(pass_run_all(r.g, &o), -1);
  ot_expect_error(needle, "'rnn'");
  ot_expect_error("gradient", "'rnn'");
  ir_graph_free(r.g);
}

/* clip: zero gradient where a gate's pre-activation is clipped. */
static void input_forget_clip(ir_graph *g, ir_node *n) {
  input_forget(g, n);
  clip(g, n);
}

/* LSTM's input_forget: f = 1 - i, alone, with peepholes, with clip. */
static void test_lstm_input_forget(void **state) {
  (void)state;
  ot_rnd_seed(29);
  rnn_case a = {"LSTM", 0, "forward", 1, 1, LOSS_Y | LOSS_YH | LOSS_YC, IR_F64, 3, 2, 3, 2, NULL, 0, input_forget, 0};
  rnn_case p = {"LSTM", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YC, IR_F64, 3, 2, 3, 2, NULL, 0, input_forget, 1};
  rnn_case c = {"LSTM", 0, "reverse", 0, 1, LOSS_Y | LOSS_YC, IR_F64, 3, 2, 3, 2, NULL, 0, input_forget_clip, 1};
  check_fd(&a);
  check_fd(&p);
  check_fd(&c);
}

static void test_clip(void **state) {
  (void)state;
  ot_rnd_seed(23);
  rnn_case r = {"RNN", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YH, IR_F64, 3, 2, 3, 2, NULL, 0, clip, 0};
  rnn_case g0 = {"GRU", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YH, IR_F64, 3, 2, 3, 2, NULL, 0, clip, 0};
  rnn_case g1 = {"GRU", 1, "reverse", 1, 1, LOSS_Y, IR_F64, 3, 2, 3, 2, NULL, 0, clip, 0};
  rnn_case l = {"LSTM", 0, "forward", 1, 1, LOSS_Y | LOSS_YH | LOSS_YC, IR_F64, 3, 2, 3, 2, NULL, 0, clip, 0};
  rnn_case lp = {"LSTM", 0, "bidirectional", 1, 1, LOSS_Y | LOSS_YC, IR_F64, 3, 2, 3, 2, NULL, 0, clip, 1};
  check_fd(&r);
  check_fd(&g0);
  check_fd(&g1);
  check_fd(&l);
  check_fd(&lp);
}

static void test_refusals(void **state) {
  (void)state;
  expect_refused("GRU", seq_runtime, "sequence_lens must be a compile-time constant");
  expect_refused("GRU", hard_sigmoid, "activation 'HardSigmoid' is not supported (only Tanh, Sigmoid and Relu)");
}

/* The other cells' backward graphs compile too: an LSTM with peepholes and
 * clip in layout 1, and an RNN with Relu. */
static void test_emit_lstm_rnn_backward(void **state) {
  (void)state;
  ot_need_compilers();
  rnn_case l = {"LSTM", 0, "reverse", 1, 1, LOSS_Y, IR_F32, 3, 2, 3, 4, NULL, 1, clip, 1};
  rnn_case r = {"RNN", 0, "bidirectional", 0, 1, LOSS_Y | LOSS_YH, IR_F32, 4, 3, 2, 3, NULL, 0, rnn_relu_tanh, 0};
  emit_and_compare(&l);
  emit_and_compare(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rnn_finite_differences),
    cmocka_unit_test(test_gru_finite_differences),
    cmocka_unit_test(test_gru_lbr_finite_differences),
    cmocka_unit_test(test_lstm_finite_differences),
    cmocka_unit_test(test_odd_shapes),
    cmocka_unit_test(test_lstm_peepholes),
    cmocka_unit_test(test_full_sequence_lens),
    cmocka_unit_test(test_clip),
    cmocka_unit_test(test_lstm_input_forget),
    cmocka_unit_test(test_ragged_sequence_lens),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_other_activations),
    cmocka_unit_test(test_emit_lstm_rnn_backward),
    cmocka_unit_test(test_gru_against_pytorch),
    cmocka_unit_test(test_lstm_against_pytorch),
    cmocka_unit_test(test_emit_gru_backward),
    cmocka_unit_test(test_gru_28_steps_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
