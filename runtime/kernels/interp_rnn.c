/*
 * interp_rnn.c - reference kernel for RNN, LSTM and GRU.
 *
 * The plainest reading of the ONNX equations: for each direction, each
 * batch entry and each time step of that entry's sequence, every gate value
 * is its own dot product computed in double.  The attributes are the
 * explicit ones the entry's validate/infer wrote (ops_rnn.h): hidden_size,
 * layout, direction, and one activation code/alpha/beta per slot.
 *
 * Notation: T steps, B batch, I input size, H hidden size, G gates; gate
 * blocks of W, R and B follow ONNX's order (RNN: -, GRU: z r h,
 * LSTM: i o f c).  A sequence of length L covers steps 0..L-1; the reverse
 * direction walks them from L-1 down to 0.  Y past a sequence's end is 0;
 * Y_h/Y_c hold the state after the last step walked.
 */
#include "interp_rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/ops/op.h"
#include "../../compiler/ops/ops_rnn.h"
#include "kutil.h"

static double act(int code, double a, double b, double x) {
  switch (code) {
  case RNN_ACT_RELU: return x > 0 ? x : 0;
  case RNN_ACT_TANH: return tanh(x);
  case RNN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
  case RNN_ACT_AFFINE: return a * x + b;
  case RNN_ACT_LEAKY_RELU: return x >= 0 ? x : a * x;
  case RNN_ACT_THRESHOLDED_RELU: return x > a ? x : 0;
  case RNN_ACT_SCALED_TANH: return a * tanh(b * x);
  case RNN_ACT_HARD_SIGMOID: {
    double v = a * x + b;
    return v < 0 ? 0 : v > 1 ? 1 : v;
  }
  case RNN_ACT_ELU: return x >= 0 ? x : a * (exp(x) - 1);
  case RNN_ACT_SOFTSIGN: return x / (1 + fabs(x));
  case RNN_ACT_SOFTPLUS: return log(1 + exp(x));
  default: return NAN;
  }
}

typedef struct rnn {
  int kind;                 /* 1 RNN, 3 GRU, 4 LSTM: the gate count */
  int64_t T, B, I, H;
  int layout, nd, reverse_only;
  double clip;              /* 0: none */
  int lbr, input_forget;
  const int64_t *code;
  const double *alpha, *beta;
  ir_dtype dt;
  const void *X, *W, *R, *Bias, *P, *h0, *c0;
} rnn;

static double clipv(const rnn *r, double v) {
  if (r->clip > 0) v = v < -r->clip ? -r->clip : v > r->clip ? r->clip : v;
  return v;
}

/* activation slot s of direction d */
static double f_slot(const rnn *r, int d, int s, double x) {
  int k = d * (r->kind == 4 ? 3 : r->kind == 3 ? 2 : 1) + s;
  return act((int)r->code[k], r->alpha[k], r->beta[k], x);
}

/* Flat index of X[t, b, i] and of state[d, b, j] (initial_h, Y_h) under the layout. */
static int64_t x_at(const rnn *r, int64_t t, int64_t b, int64_t i) {
  return r->layout ? (b * r->T + t) * r->I + i : (t * r->B + b) * r->I + i;
}
static int64_t s_at(const rnn *r, int d, int64_t b, int64_t j) {
  return r->layout ? (b * r->nd + d) * r->H + j : ((int64_t)d * r->B + b) * r->H + j;
}
static int64_t y_at(const rnn *r, int64_t t, int d, int64_t b, int64_t j) {
  return r->layout ? ((b * r->T + t) * r->nd + d) * r->H + j : ((t * r->nd + d) * r->B + b) * r->H + j;
}

/* Row `row` of W[d] dotted with x_t, plus row of R[d] dotted with h. */
static double wx(const rnn *r, int d, int64_t row, int64_t t, int64_t b) {
  double s = 0;
  int64_t G = r->kind;
  for (int64_t i = 0; i < r->I; i++)
    s += kload_f(r->dt, r->W, ((int64_t)d * G * r->H + row) * r->I + i) * kload_f(r->dt, r->X, x_at(r, t, b, i));
  return s;
}
static double rh(const rnn *r, int d, int64_t row, const double *h) {
  double s = 0;
  int64_t G = r->kind;
  for (int64_t k = 0; k < r->H; k++) s += kload_f(r->dt, r->R, ((int64_t)d * G * r->H + row) * r->H + k) * h[k];
  return s;
}
/* Wb (which 0) or Rb (which 1) of gate row `row`. */
static double bias(const rnn *r, int d, int which, int64_t row) {
  if (!r->Bias) return 0;
  int64_t G = r->kind;
  return kload_f(r->dt, r->Bias, (int64_t)d * 2 * G * r->H + which * G * r->H + row);
}
static double peep(const rnn *r, int d, int gate, int64_t j) {
  return r->P ? kload_f(r->dt, r->P, ((int64_t)d * 3 + gate) * r->H + j) : 0;
}

/* One step of direction d for batch entry b at time t: h (and c) updated in place. */
static void step(const rnn *r, int d, int64_t t, int64_t b, double *h, double *c, double *nh, double *nc,
                 double *tmp) {
  int64_t H = r->H;
  if (r->kind == 1) {
    for (int64_t j = 0; j < H; j++)
      nh[j] = f_slot(r, d, 0, clipv(r, wx(r, d, j, t, b) + rh(r, d, j, h) + bias(r, d, 0, j) + bias(r, d, 1, j)));
  } else if (r->kind == 3) {   /* GRU: z r h */
    double *z = tmp, *rg = tmp + H;
    for (int64_t j = 0; j < H; j++) {
      z[j] = f_slot(r, d, 0, clipv(r, wx(r, d, j, t, b) + rh(r, d, j, h) + bias(r, d, 0, j) + bias(r, d, 1, j)));
      rg[j] = f_slot(r, d, 0, clipv(r, wx(r, d, H + j, t, b) + rh(r, d, H + j, h) + bias(r, d, 0, H + j) +
                                           bias(r, d, 1, H + j)));
    }
    for (int64_t j = 0; j < H; j++) {
      double a = wx(r, d, 2 * H + j, t, b) + bias(r, d, 0, 2 * H + j);
      if (r->lbr) {
        a += rg[j] * (rh(r, d, 2 * H + j, h) + bias(r, d, 1, 2 * H + j));
      } else {
        double s = 0;
        for (int64_t k = 0; k < H; k++)
          s += kload_f(r->dt, r->R, ((int64_t)d * 3 * H + 2 * H + j) * H + k) * rg[k] * h[k];
        a += s + bias(r, d, 1, 2 * H + j);
      }
      double hh = f_slot(r, d, 1, clipv(r, a));
      nh[j] = (1 - z[j]) * hh + z[j] * h[j];
    }
  } else {                     /* LSTM: i o f c */
    for (int64_t j = 0; j < H; j++) {
      double pre[4];
      for (int q = 0; q < 4; q++)
        pre[q] = wx(r, d, q * H + j, t, b) + rh(r, d, q * H + j, h) + bias(r, d, 0, q * H + j) +
                 bias(r, d, 1, q * H + j);
      double ig = f_slot(r, d, 0, clipv(r, pre[0] + peep(r, d, 0, j) * c[j]));
      double fg = r->input_forget ? 1 - ig : f_slot(r, d, 0, clipv(r, pre[2] + peep(r, d, 2, j) * c[j]));
      double cg = f_slot(r, d, 1, clipv(r, pre[3]));
      nc[j] = fg * c[j] + ig * cg;
      double og = f_slot(r, d, 0, clipv(r, pre[1] + peep(r, d, 1, j) * nc[j]));
      nh[j] = og * f_slot(r, d, 2, nc[j]);
    }
    memcpy(c, nc, sizeof(double) * (size_t)H);
  }
  memcpy(h, nh, sizeof(double) * (size_t)H);
}

int interp_rnn(struct interp_ctx *ic, const ir_node *n, const void *const *in, void *const *out) {
  (void)ic;
  rnn r;
  memset(&r, 0, sizeof r);
  r.kind = strcmp(n->op_type, "LSTM") == 0 ? 4 : strcmp(n->op_type, "GRU") == 0 ? 3 : 1;
  r.layout = (int)ir_attr_int(n, "layout", 0);
  const char *dir = ir_attr_string(n, "direction", "forward");
  r.nd = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
  r.reverse_only = strcmp(dir, "reverse") == 0;
  r.clip = ir_attr_float(n, "clip", 0);
  r.lbr = (int)ir_attr_int(n, "linear_before_reset", 0);
  r.input_forget = (int)ir_attr_int(n, "input_forget", 0);
  int slots = r.kind == 4 ? 3 : r.kind == 3 ? 2 : 1;
  if (ir_attr_ints(n, "_rnn_act", &r.code) != r.nd * slots || ir_attr_floats(n, "_rnn_alpha", &r.alpha) != r.nd * slots ||
      ir_attr_floats(n, "_rnn_beta", &r.beta) != r.nd * slots)
    return op_fail(n, "activations were not normalized (validate did not run)");
  const ir_tensor *X = n->in[0];
  r.dt = X->dtype;
  r.T = r.layout ? X->shape[1] : X->shape[0];
  r.B = r.layout ? X->shape[0] : X->shape[1];
  r.I = X->shape[2];
  r.H = ir_attr_int(n, "hidden_size", 0);
  r.X = in[0];
  r.W = in[1];
  r.R = in[2];
  r.Bias = n->n_in > 3 ? in[3] : NULL;
  const void *lens = n->n_in > 4 ? in[4] : NULL;
  r.h0 = n->n_in > 5 ? in[5] : NULL;
  r.c0 = n->n_in > 6 ? in[6] : NULL;
  r.P = n->n_in > 7 ? in[7] : NULL;
  void *Y = n->n_out > 0 ? out[0] : NULL, *Yh = n->n_out > 1 ? out[1] : NULL, *Yc = n->n_out > 2 ? out[2] : NULL;

  int64_t H = r.H;
  double *buf = calloc((size_t)(7 * H + 1), sizeof(double));
  if (!buf) return op_fail(n, "out of memory");
  double *h = buf, *c = buf + H, *nh = buf + 2 * H, *nc = buf + 3 * H, *tmp = buf + 4 * H;
  if (Y)
    for (int64_t i = 0; i < ir_numel(n->out[0]); i++) kstore_f(r.dt, Y, i, 0.0);
  for (int d = 0; d < r.nd; d++) {
    int backward = r.reverse_only || d == 1;
    for (int64_t b = 0; b < r.B; b++) {
      int64_t L = lens ? kload_i(n->in[4]->dtype, lens, b) : r.T;
      if (L < 0 || L > r.T) {
        free(buf);
        return op_fail(n, "sequence_lens[%lld]=%lld is outside [0, %lld]", (long long)b, (long long)L, (long long)r.T);
      }
      for (int64_t j = 0; j < H; j++) {
        h[j] = r.h0 ? kload_f(r.dt, r.h0, s_at(&r, d, b, j)) : 0;
        c[j] = r.c0 ? kload_f(r.dt, r.c0, s_at(&r, d, b, j)) : 0;
      }
      for (int64_t s = 0; s < L; s++) {
        int64_t t = backward ? L - 1 - s : s;
        step(&r, d, t, b, h, c, nh, nc, tmp);
        if (Y)
          for (int64_t j = 0; j < H; j++) kstore_f(r.dt, Y, y_at(&r, t, d, b, j), h[j]);
      }
      for (int64_t j = 0; j < H; j++) {
        if (Yh) kstore_f(r.dt, Yh, s_at(&r, d, b, j), h[j]);
        if (Yc) kstore_f(r.dt, Yc, s_at(&r, d, b, j), c[j]);
      }
    }
  }
  free(buf);
  return 0;
}
