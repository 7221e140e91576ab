/*
 * ops_rnn.c - op table entries for the recurrent ops RNN, LSTM and GRU,
 * with ONNX semantics: forward, reverse and bidirectional directions,
 * custom gate activations (with their alpha/beta), clip, per-batch
 * sequence_lens, both layouts (0: [seq, batch, ...], 1: [batch, seq, ...]),
 * initial_h/initial_c, LSTM peepholes and input_forget, GRU
 * linear_before_reset, and every output optional.  float32 and float64.
 *
 * validate normalizes the activation lists into per-slot codes and
 * constants (see ops_rnn.h); infer checks every input shape against
 * X, W and hidden_size and writes the explicit attributes, so the
 * interpreter (runtime/kernels/interp_rnn.c) and the emitter
 * (compiler/backend/emit_rnn.c) read one form.
 */
#include <stdio.h>
#include <string.h>

#include "op.h"
#include "ops_rnn.h"
#include "grad_rnn.h"
#include "../../runtime/kernels/interp_rnn.h"
#include "../backend/emit_rnn.h"

/* Gates per op, activation slots per direction. */
static int n_gates(const ir_node *n) {
  return strcmp(n->op_type, "LSTM") == 0 ? 4 : strcmp(n->op_type, "GRU") == 0 ? 3 : 1;
}
static int n_slots(const ir_node *n) {
  return strcmp(n->op_type, "LSTM") == 0 ? 3 : strcmp(n->op_type, "GRU") == 0 ? 2 : 1;
}

static const struct {
  const char *name;
  int code;
  int takes_alpha, takes_beta;
  double alpha, beta;            /* ONNX defaults of the matching operators */
} acts[] = {
  {"Relu", RNN_ACT_RELU, 0, 0, 0, 0},
  {"Tanh", RNN_ACT_TANH, 0, 0, 0, 0},
  {"Sigmoid", RNN_ACT_SIGMOID, 0, 0, 0, 0},
  {"Affine", RNN_ACT_AFFINE, 1, 1, 1.0, 0.0},
  {"LeakyRelu", RNN_ACT_LEAKY_RELU, 1, 0, 0.01, 0},
  {"ThresholdedRelu", RNN_ACT_THRESHOLDED_RELU, 1, 0, 1.0, 0},
  {"ScaledTanh", RNN_ACT_SCALED_TANH, 1, 1, 1.0, 1.0},
  {"HardSigmoid", RNN_ACT_HARD_SIGMOID, 1, 1, 0.2, 0.5},
  {"Elu", RNN_ACT_ELU, 1, 0, 1.0, 0},
  {"Softsign", RNN_ACT_SOFTSIGN, 0, 0, 0, 0},
  {"Softplus", RNN_ACT_SOFTPLUS, 0, 0, 0, 0},
};
#define N_ACTS ((int)(sizeof acts / sizeof acts[0]))

/* ONNX runtimes match activation names without regard to case. */
static int same_name(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
    char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
    if (x != y) return 0;
  }
  return *a == *b;
}

/* 1 or 2; 0 (after op_fail) for an unknown direction.  Returning the count
 * rather than filling an out-parameter leaves callers no path on which it
 * is unset, which gcc -O3 cannot otherwise prove through op_fail. */
static int num_directions(const ir_node *n) {
  const char *dir = ir_attr_string(n, "direction", "forward");
  if (strcmp(dir, "forward") == 0 || strcmp(dir, "reverse") == 0) return 1;
  if (strcmp(dir, "bidirectional") == 0) return 2;
  op_fail(n, "unknown direction '%s'", dir);
  return 0;
}

static int rnn_validate(ir_node *n) {
  int nd = num_directions(n), slots = n_slots(n), total;
  int64_t codes[RNN_MAX_SLOTS];
  double alpha[RNN_MAX_SLOTS], beta[RNN_MAX_SLOTS];
  static const char *const defaults[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
  if (!nd) return -1;
  total = nd * slots;
  int64_t layout = ir_attr_int(n, "layout", 0);
  if (layout != 0 && layout != 1) return op_fail(n, "layout=%lld must be 0 or 1", (long long)layout);
  if (ir_attr_find(n, "hidden_size") && ir_attr_int(n, "hidden_size", 0) <= 0)
    return op_fail(n, "hidden_size=%lld must be positive", (long long)ir_attr_int(n, "hidden_size", 0));
  if (ir_attr_find(n, "clip") && !(ir_attr_float(n, "clip", 0) > 0))
    return op_fail(n, "clip=%g must be positive", ir_attr_float(n, "clip", 0));
  int64_t lbr = ir_attr_int(n, "linear_before_reset", 0), inf = ir_attr_int(n, "input_forget", 0);
  if ((lbr != 0 && lbr != 1) || (inf != 0 && inf != 1))
    return op_fail(n, "linear_before_reset and input_forget must be 0 or 1");

  /* activation names: the model's, or the defaults; one list may serve both directions */
  const ir_attr *a = ir_attr_find(n, "activations");
  const char *names[RNN_MAX_SLOTS];
  if (a && a->n) {
    if (a->n != total && !(nd == 2 && a->n == slots))
      return op_fail(n, "activations has %d names; %s needs %d", a->n, n->op_type, total);
    for (int k = 0; k < total; k++) names[k] = a->strings[k % a->n];
  } else {
    for (int k = 0; k < total; k++) names[k] = defaults[slots - 1][k % slots];
  }
  const double *av = NULL, *bv = NULL;
  int na = ir_attr_floats(n, "activation_alpha", &av), nb = ir_attr_floats(n, "activation_beta", &bv);
  int ia = 0, ib = 0;
  for (int k = 0; k < total; k++) {
    int j;
    for (j = 0; j < N_ACTS; j++)
      if (same_name(names[k], acts[j].name)) break;
    if (j == N_ACTS) return op_fail(n, "unsupported activation '%s'", names[k]);
    codes[k] = acts[j].code;
    alpha[k] = acts[j].alpha;
    beta[k] = acts[j].beta;
    /* alphas and betas are consumed in order by the activations that take them */
    if (acts[j].takes_alpha && ia < na) alpha[k] = av[ia++];
    if (acts[j].takes_beta && ib < nb) beta[k] = bv[ib++];
  }
  ir_attr_set_ints(n, "_rnn_act", total, codes);
  ir_attr_set_floats(n, "_rnn_alpha", total, alpha);
  ir_attr_set_floats(n, "_rnn_beta", total, beta);
  return 0;
}

static int want_shape(const ir_node *n, int i, int rank, const int64_t *dims, const char *what) {
  const ir_tensor *t = n->in[i];
  char got[128];
  int ok = t->rank == rank;
  for (int k = 0; ok && k < rank; k++) ok = t->shape[k] == dims[k];
  if (!ok) {
    char want[128];
    int p = 0;
    want[p++] = '[';
    for (int k = 0; k < rank; k++) p += snprintf(want + p, sizeof want - (size_t)p, k ? ",%lld" : "%lld", (long long)dims[k]);
    snprintf(want + p, sizeof want - (size_t)p, "]");
    return op_fail(n, "%s '%s' has shape %s, expected %s", what, t->name, ir_shape_str(t, got, sizeof got), want);
  }
  return 0;
}

static int rnn_infer(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *X = n->in[0], *W = n->in[1];
  int nd = num_directions(n), G = n_gates(n);
  if (!nd) return -1;
  ir_dtype dt = X->dtype;
  if (dt != IR_F32 && dt != IR_F64)
    return op_fail(n, "X has dtype %s; only float32 and float64 are supported", ir_dtype_name(dt));
  static const char *const names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  for (int i = 1; i < n->n_in; i++) {
    if (!n->in[i] || i == 4) continue;
    if (n->in[i]->dtype != dt)
      return op_fail(n, "input %s is %s but X is %s", names[i], ir_dtype_name(n->in[i]->dtype), ir_dtype_name(dt));
  }
  if (X->rank != 3) return op_fail(n, "X must have rank 3, has %d", X->rank);
  if (W->rank != 3) return op_fail(n, "W must have rank 3, has %d", W->rank);
  int64_t layout = ir_attr_int(n, "layout", 0);
  int64_t T = layout ? X->shape[1] : X->shape[0], B = layout ? X->shape[0] : X->shape[1], I = X->shape[2];
  int64_t H = ir_attr_int(n, "hidden_size", -1);
  if (H < 0) {
    if (W->shape[1] % G) return op_fail(n, "W's dimension 1 (%lld) is not a multiple of %d", (long long)W->shape[1], G);
    H = W->shape[1] / G;
  }
  if (H <= 0 || T <= 0 || B <= 0 || I <= 0) return op_fail(n, "empty sequence, batch, input or hidden size");
  int64_t wd[] = {nd, G * H, I}, rd[] = {nd, G * H, H}, bd[] = {nd, 2 * G * H}, sd[] = {B};
  int64_t hd0[] = {nd, B, H}, hd1[] = {B, nd, H}, pd[] = {nd, 3 * H};
  if (want_shape(n, 1, 3, wd, "W") || want_shape(n, 2, 3, rd, "R")) return -1;
  if (n->n_in > 3 && n->in[3] && want_shape(n, 3, 2, bd, "B")) return -1;
  if (n->n_in > 4 && n->in[4]) {
    if (n->in[4]->dtype != IR_I32 && n->in[4]->dtype != IR_I64)
      return op_fail(n, "sequence_lens has dtype %s, expected int32", ir_dtype_name(n->in[4]->dtype));
    if (want_shape(n, 4, 1, sd, "sequence_lens")) return -1;
  }
  for (int i = 5; i <= 6 && i < n->n_in; i++)
    if (n->in[i] && want_shape(n, i, 3, layout ? hd1 : hd0, i == 5 ? "initial_h" : "initial_c")) return -1;
  if (n->n_in > 7 && n->in[7] && want_shape(n, 7, 2, pd, "P")) return -1;

  int64_t yd0[] = {T, nd, B, H}, yd1[] = {B, T, nd, H};
  for (int j = 0; j < n->n_out; j++) {
    ir_tensor *t = n->out[j];
    if (!t) continue;
    t->dtype = dt;
    if (j == 0) ir_set_shape(t, 4, layout ? yd1 : yd0);
    else ir_set_shape(t, 3, layout ? hd1 : hd0);
  }
  ir_node *m = n;
  ir_attr_set_int(m, "hidden_size", H);
  ir_attr_set_int(m, "layout", layout);
  if (!ir_attr_find(n, "direction")) ir_attr_set_string(m, "direction", "forward");
  return 0;
}

static int64_t rnn_macs(const ir_node *n) {
  const ir_tensor *X = n->in[0], *W = n->in[1], *R = n->in[2];
  int64_t T = ir_attr_int(n, "layout", 0) ? X->shape[1] : X->shape[0];
  int64_t B = ir_numel(X) / (T * X->shape[2]);
  return T * B * (ir_numel(W) + ir_numel(R));
}

static const op_attr_spec rnn_attrs[] = {
  {"activation_alpha", IR_ATTR_FLOATS}, {"activation_beta", IR_ATTR_FLOATS},
  {"activations", IR_ATTR_STRINGS}, {"clip", IR_ATTR_FLOAT}, {"direction", IR_ATTR_STRING},
  {"hidden_size", IR_ATTR_INT}, {"layout", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec lstm_attrs[] = {
  {"activation_alpha", IR_ATTR_FLOATS}, {"activation_beta", IR_ATTR_FLOATS},
  {"activations", IR_ATTR_STRINGS}, {"clip", IR_ATTR_FLOAT}, {"direction", IR_ATTR_STRING},
  {"hidden_size", IR_ATTR_INT}, {"layout", IR_ATTR_INT}, {"input_forget", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec gru_attrs[] = {
  {"activation_alpha", IR_ATTR_FLOATS}, {"activation_beta", IR_ATTR_FLOATS},
  {"activations", IR_ATTR_STRINGS}, {"clip", IR_ATTR_FLOAT}, {"direction", IR_ATTR_STRING},
  {"hidden_size", IR_ATTR_INT}, {"layout", IR_ATTR_INT}, {"linear_before_reset", IR_ATTR_INT}, {NULL, 0}};

#define RNN_ENTRY(nm, nin, nout, at)                                                                \
  {.name = nm, .domain = "", .min_in = 3, .max_in = nin, .min_out = 0, .max_out = nout,           \
   .flags = OP_OPTIONAL_OUTPUTS, .attrs = at, .validate = rnn_validate, .infer = rnn_infer, .interp = interp_rnn,               \
   .emit = emit_rnn, .scratch_bytes = emit_rnn_scratch, .grad = grad_rnn, .macs = rnn_macs}

const op_def ops_rnn[] = {
  RNN_ENTRY("RNN", 6, 2, rnn_attrs),
  RNN_ENTRY("GRU", 6, 2, gru_attrs),
  RNN_ENTRY("LSTM", 8, 3, lstm_attrs),
  {.name = NULL},
};
