/*
 * emit_rnn.c - C emission for RNN, LSTM and GRU.
 *
 * Per direction, the input projections of every step and batch entry,
 * X W^T, are one GEMM through the kernel layer (kl_gemm) into scratch;
 * the recurrence then walks each batch entry's own sequence (its length
 * from sequence_lens, read at run time) with plain loops: the gate
 * pre-activations of one step (projection + biases + R h), then the gate
 * equations of the op.  When the planner caps the node's scratch
 * (PLAN_SCRATCH_CAP_ATTR) below that, each step projects its own row of X
 * just before its gates instead ("per step": xw holds one row; on the fast
 * path below by the core's GEMV over W^T packed as rows).  Scratch
 * layout, in elements of the node's dtype:
 *     xw [rows = T*B][G*H]   projections, row of (t, b) in X's own order (one row per step)
 *     h  [B][H], c [B][H]    running state
 *     tmp[H]                 GRU: r (.) h before the candidate's product
 *     g  [G*H]               one step's gate values
 * The activation formulas are written here (kl_act_expr knows only the
 * fusion set); the attributes are the explicit ones of ops_rnn.h.
 *
 * The fast path (float32 with constant W and R, the usual case of a
 * trained model; not parameters a training step changes, is_state, and not
 * under a scratch cap below every row's projection at once) runs on the GEMM core (kl_gemm.h): W^T is packed at
 * compile time into B panels and the projections of all steps are one
 * blocked GEMM; R^T is packed into rows [H][G*H] and each step's R h is the
 * core's matrix-vector kernel, which streams those rows once, with the
 * step's projection added in its epilogue.  Its sigmoid and tanh are the
 * core's branch-free ones (kl_mm_use_fast_act), so that the gate loops
 * vectorize.  Then
 *     xw [T*B][G*H] ... g [G*H], core scratch (A's edge rows, kl_mm)
 * Otherwise the projections go through kl_gemm and R h is a dot product
 * per gate value.
 */
#include "emit_rnn.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "../ops/ops_rnn.h"
#include "../passes/plan.h"
#include "kl_gemm.h"
#include "kl_nn.h"

typedef struct shape {
  int kind;                  /* gates: 1 RNN, 3 GRU, 4 LSTM */
  int64_t T, B, I, H;
  int layout, nd, reverse_only, slots;
} shape;

static void read_shape(const ir_node *n, shape *s) {
  const ir_tensor *X = n->in[0];
  const char *dir = ir_attr_string(n, "direction", "forward");
  s->kind = strcmp(n->op_type, "LSTM") == 0 ? 4 : strcmp(n->op_type, "GRU") == 0 ? 3 : 1;
  s->slots = s->kind == 4 ? 3 : s->kind == 3 ? 2 : 1;
  s->layout = (int)ir_attr_int(n, "layout", 0);
  s->T = s->layout ? X->shape[1] : X->shape[0];
  s->B = s->layout ? X->shape[0] : X->shape[1];
  s->I = X->shape[2];
  s->H = ir_attr_int(n, "hidden_size", 0);
  s->nd = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
  s->reverse_only = strcmp(dir, "reverse") == 0;
}

/* W, R read as constants: not a parameter a training step changes (is_state). */
static int is_const_f32(const ir_tensor *t) {
  return t && (t->role == IR_CONST || t->role == IR_PARAM) && t->data && !t->is_state && t->dtype == IR_F32;
}

/* The fast path's operands: float32, W and R constants (see the top of the file). */
static int fast_operands(const ir_node *n) {
  return n->in[0]->dtype == IR_F32 && is_const_f32(n->in[1]) && is_const_f32(n->in[2]);
}

/* The projections' GEMM on the core. */
static void plan_proj(const shape *s, kl_mm *d) {
  kl_mm_plan_const_b(d, KL_MM_GEMM, s->T * s->B, s->kind * s->H, s->I, s->I);
}

/* Scratch bytes with xw of `rows` rows. */
static int64_t scratch_for(const ir_node *n, const shape *s, int64_t rows) {
  int64_t G = s->kind;
  return (rows * G * s->H + 2 * s->B * s->H + s->H + G * s->H) * (int64_t)ir_dtype_size(n->in[0]->dtype);
}

/* Bytes of the fast path's scratch before the core's own (a multiple of 64). */
static int64_t state_bytes(const ir_node *n, const shape *s) { return (scratch_for(n, s, s->T * s->B) + 63) / 64 * 64; }

/* Scratch bytes with every row projected up front (fast path or not). */
static int64_t full_bytes(const ir_node *n, const shape *s) {
  kl_mm d;
  if (!fast_operands(n)) return scratch_for(n, s, s->T * s->B);
  plan_proj(s, &d);
  return state_bytes(n, s) + kl_mm_scratch_bytes(&d);
}

/* Each step projects its own row (plain loops): the planner's cap is below
 * every row at once. */
static int per_step(const ir_node *n, const shape *s) {
  int64_t cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1);
  return cap >= 0 && full_bytes(n, s) > cap;
}


int64_t emit_rnn_scratch(const ir_node *n) {
  shape s;
  read_shape(n, &s);
  return per_step(n, &s) ? scratch_for(n, &s, 1) : full_bytes(n, &s);
}

/* C text of activation `code` applied to the plain variable v. */
static const char *act_expr(char *buf, size_t len, int code, double alpha, double beta, ir_dtype dt,
                            int fast, const char *v) {
  char a[64], b[64], z[64], one[64];
  const char *f = dt == IR_F32 ? "f" : "";
  emit_literal(a, sizeof a, dt, alpha);
  emit_literal(b, sizeof b, dt, beta);
  emit_literal(z, sizeof z, dt, 0.0);
  emit_literal(one, sizeof one, dt, 1.0);
  int w = 0;
  switch (code) {
  case RNN_ACT_RELU: w = snprintf(buf, len, "(%s > %s ? %s : %s)", v, z, v, z); break;
  case RNN_ACT_TANH:
    w = fast ? snprintf(buf, len, "mc_tanhf(%s)", v) : snprintf(buf, len, "tanh%s(%s)", f, v);
    break;
  case RNN_ACT_SIGMOID:
    w = fast ? snprintf(buf, len, "mc_sigmoidf(%s)", v)
             : snprintf(buf, len, "(%s / (%s + exp%s(-%s)))", one, one, f, v);
    break;
  case RNN_ACT_AFFINE: w = snprintf(buf, len, "(%s * %s + %s)", a, v, b); break;
  case RNN_ACT_LEAKY_RELU: w = snprintf(buf, len, "(%s >= %s ? %s : %s * %s)", v, z, v, a, v); break;
  case RNN_ACT_THRESHOLDED_RELU: w = snprintf(buf, len, "(%s > %s ? %s : %s)", v, a, v, z); break;
  case RNN_ACT_SCALED_TANH: w = snprintf(buf, len, "(%s * tanh%s(%s * %s))", a, f, b, v); break;
  case RNN_ACT_HARD_SIGMOID:
    w = snprintf(buf, len, "(%s * %s + %s < %s ? %s : (%s * %s + %s > %s ? %s : %s * %s + %s))", a, v, b, z, z,
             a, v, b, one, one, a, v, b);
    break;
  case RNN_ACT_ELU: w = snprintf(buf, len, "(%s >= %s ? %s : %s * (exp%s(%s) - %s))", v, z, v, a, f, v, one); break;
  case RNN_ACT_SOFTSIGN: w = snprintf(buf, len, "(%s / (%s + fabs%s(%s)))", v, one, f, v); break;
  case RNN_ACT_SOFTPLUS:   /* log(1 + e^v) without overflowing for large v */
    w = snprintf(buf, len, "(%s > %s ? %s + log1p%s(exp%s(-%s)) : log1p%s(exp%s(%s)))", v, z, v, f, f, v, f, f, v);
    break;
  default: return NULL;
  }
  if (w < 0 || (size_t)w >= len) return NULL;   /* never emit a cut expression */
  return buf;
}

typedef struct ectx {
  emit_ctx *e;
  const ir_node *n;
  shape s;
  ir_dtype dt;
  const char *T;             /* "float" / "double" */
  const int64_t *code;
  const double *alpha, *beta;
  double clip;
  int has_bias;
  const char *rt;            /* fast path: R^T packed as rows [H][G*H] for this direction; else NULL */
} ectx;

/* "dst = act_slot(v)" for slot k of direction d, after clipping v in place when clip. */
static int put_act(ectx *c, int d, int slot, int clip, const char *dst, const char *v) {
  char buf[512], lim[64], nlim[64];
  int k = d * c->s.slots + slot;
  if (clip && c->clip > 0) {
    emit_literal(lim, sizeof lim, c->dt, c->clip);
    emit_literal(nlim, sizeof nlim, c->dt, -c->clip);
    emit_line(c->e, "%s = %s < %s ? %s : (%s > %s ? %s : %s);", v, v, nlim, nlim, v, lim, lim, v);
  }
  if (c->rt && (c->code[k] == RNN_ACT_SIGMOID || c->code[k] == RNN_ACT_TANH))
    kl_mm_use_fast_act(c->e, c->code[k] == RNN_ACT_TANH);
  if (!act_expr(buf, sizeof buf, (int)c->code[k], c->alpha[k], c->beta[k], c->dt, c->rt != NULL, v))
    return op_fail(c->n, "unknown activation code %lld", (long long)c->code[k]);
  emit_line(c->e, "%s = %s;", dst, buf);
  return 0;
}

/* for j in [lo, hi): g[j] = xr[j] + Wb[j] (+ Rb[j]) (+ R[j] . vec) */
static void put_pre(ectx *c, int64_t lo, int64_t hi, int with_rb, const char *vec) {
  emit_ctx *e = c->e;
  if (c->rt && vec) {   /* the core's GEMV: g = R^T rows . vec + xr, then the biases */
    const char *g = emit_fresh(e, "gv");
    kl_block(e);
    emit_line(e, "mc_gemm_args %s;", g);
    emit_line(e, "memset(&%s, 0, sizeof %s);", g, g);
    emit_line(e, "%s.M = 1; %s.N = %lld; %s.K = %lld;", g, g, (long long)(hi - lo), g, (long long)c->s.H);
    emit_line(e, "%s.a = %s; %s.aks = 1;", g, vec, g);
    emit_line(e, "%s.bkind = MC_B_ROWS; %s.b = %s + %lld; %s.bks = %lld; %s.bns = 1;", g, g, c->rt, (long long)lo, g,
              (long long)(c->s.kind * c->s.H), g);
    emit_line(e, "%s.y = rg + %lld; %s.ldy = %lld;", g, (long long)lo, g, (long long)(hi - lo));
    emit_line(e, "%s.alpha = 1.0f; %s.res = rxr + %lld; %s.rscale = 1.0f;", g, g, (long long)lo, g);
    emit_line(e, "mc_gemv(&%s);", g);
    kl_end(e);
    if (c->has_bias)
      emit_line(e, "for (int64_t rj = %lld; rj < %lld; rj++) rg[rj] += rbw[rj]%s;", (long long)lo, (long long)hi,
                with_rb ? " + rbr[rj]" : "");
    return;
  }
  emit_line(e, "for (int64_t rj = %lld; rj < %lld; rj++) {", (long long)lo, (long long)hi);
  emit_indent(e, 1);
  emit_line(e, "%s acc = rxr[rj]%s%s;", c->T, c->has_bias ? " + rbw[rj]" : "",
            c->has_bias && with_rb ? " + rbr[rj]" : "");
  if (vec) {
    emit_line(e, "const %s *rrow = rR + rj * %lld;", c->T, (long long)c->s.H);
    emit_line(e, "for (int64_t rk = 0; rk < %lld; rk++) acc += rrow[rk] * %s[rk];", (long long)c->s.H, vec);
  }
  emit_line(e, "rg[rj] = acc;");
  kl_end(e);
}

int emit_rnn(emit_ctx *e, const ir_node *n) {
  ectx c;
  memset(&c, 0, sizeof c);
  c.e = e;
  c.n = n;
  read_shape(n, &c.s);
  c.dt = n->in[0]->dtype;
  if (c.dt != IR_F32 && c.dt != IR_F64)
    return op_fail(n, "dtype %s is not supported (float32, float64)", ir_dtype_name(c.dt));
  c.T = c.dt == IR_F32 ? "float" : "double";
  int total = c.s.nd * c.s.slots;
  if (ir_attr_ints(n, "_rnn_act", &c.code) != total || ir_attr_floats(n, "_rnn_alpha", &c.alpha) != total ||
      ir_attr_floats(n, "_rnn_beta", &c.beta) != total)
    return op_fail(n, "activations were not normalized (validate did not run)");
  c.clip = ir_attr_float(n, "clip", 0);
  const shape *s = &c.s;
  int64_t G = s->kind, H = s->H, GH = G * H, T = s->T, B = s->B, I = s->I;
  int lbr = (int)ir_attr_int(n, "linear_before_reset", 0);
  int input_forget = (int)ir_attr_int(n, "input_forget", 0);
  int fast = fast_operands(n);
  if (fast) emit_kernel(e, per_step(n, s) ? "rnn gemv" : "rnn gemm+gemv");
  const char *X = emit_in(e, 0), *W = fast ? NULL : emit_in(e, 1), *R = fast ? NULL : emit_in(e, 2);
  const char *Bias = n->n_in > 3 ? emit_in(e, 3) : NULL, *lens = n->n_in > 4 ? emit_in(e, 4) : NULL;
  const char *h0 = n->n_in > 5 ? emit_in(e, 5) : NULL, *c0 = n->n_in > 6 ? emit_in(e, 6) : NULL;
  const char *P = n->n_in > 7 ? emit_in(e, 7) : NULL;
  const char *Y = n->n_out > 0 ? emit_out(e, 0) : NULL, *Yh = n->n_out > 1 ? emit_out(e, 1) : NULL;
  const char *Yc = n->n_out > 2 ? emit_out(e, 2) : NULL;
  const char *sc = emit_scratch(e), *Tn = c.T;
  c.has_bias = Bias != NULL;
  char zero[64], one[64];
  emit_literal(zero, sizeof zero, c.dt, 0.0);
  emit_literal(one, sizeof one, c.dt, 1.0);

  emit_line(e, "%s *rxw = (%s *)(void *)%s;", Tn, Tn, sc);
  int step_rows = per_step(n, s);
  emit_line(e, "%s *rh = rxw + %lld;", Tn, (long long)((step_rows ? 1 : T * B) * GH));
  emit_line(e, "%s *rc = rh + %lld;", Tn, (long long)(B * H));
  emit_line(e, "%s *rtmp = rc + %lld;", Tn, (long long)(B * H));
  emit_line(e, "%s *rg = rtmp + %lld;", Tn, (long long)H);
  if (G != 4 || !Yc) emit_line(e, "(void)rc;");
  if (G != 3) emit_line(e, "(void)rtmp;");
  if (Y && lens) emit_line(e, "memset(%s, 0, %lld);", Y, (long long)ir_nbytes(n->out[0]));

  for (int d = 0; d < s->nd; d++) {
    int backward = s->reverse_only || d == 1;
    emit_line(e, "/* direction %d (%s) */", d, backward ? "reverse" : "forward");
    kl_block(e);
    if (!fast) {
      emit_line(e, "const %s *rW = %s + %lld;", Tn, W, (long long)(d * GH * I));
      emit_line(e, "const %s *rR = %s + %lld;", Tn, R, (long long)(d * GH * H));
    }
    if (Bias) {
      emit_line(e, "const %s *rbw = %s + %lld;", Tn, Bias, (long long)(d * 2 * GH));
      emit_line(e, "const %s *rbr = rbw + %lld;", Tn, (long long)GH);
    }
    if (P && G == 4) emit_line(e, "const %s *rP = %s + %lld;", Tn, P, (long long)(d * 3 * H));
    /* xw[row][n] = sum_k X[row][k] W[n][k] */
    const char *wrows = NULL;   /* fast path per step: W^T packed as rows [I][G*H] for the core's GEMV */
    if (fast && step_rows) {
      kl_mm wd, rd;
      char what[300];
      kl_mm_plan_const_b(&wd, KL_MM_GEMV, 1, GH, I, I);
      kl_mm_plan_const_b(&rd, KL_MM_GEMV, 1, GH, H, H);
      kl_mm_use(e, &wd);
      snprintf(what, sizeof what, "%.200s[%d] packed as rows of W^T: [%lld][%lld]", n->in[1]->name, d,
               (long long)I, (long long)GH);
      wrows = kl_mm_pack_const_b(e, &wd, what, (const float *)n->in[1]->data + d * GH * I, 1, I);
      snprintf(what, sizeof what, "%.200s[%d] packed as rows of R^T: [%lld][%lld]", n->in[2]->name, d,
               (long long)H, (long long)GH);
      c.rt = kl_mm_pack_const_b(e, &rd, what, (const float *)n->in[2]->data + d * GH * H, 1, H);
    } else if (fast) {
      kl_mm pd, rd;
      char what[300];
      const char *wt, *g = emit_fresh(e, "gp");
      plan_proj(s, &pd);
      kl_mm_plan_const_b(&rd, KL_MM_GEMV, 1, GH, H, H);
      kl_mm_use(e, &pd);
      kl_mm_use(e, &rd);
      snprintf(what, sizeof what, "%.200s[%d] packed as B^T: [%lld][%lld][16]", n->in[1]->name, d,
               (long long)((GH + 15) / 16), (long long)I);
      wt = kl_mm_pack_const_b(e, &pd, what, (const float *)n->in[1]->data + d * GH * I, 1, I);
      snprintf(what, sizeof what, "%.200s[%d] packed as rows of R^T: [%lld][%lld]", n->in[2]->name, d,
               (long long)H, (long long)GH);
      c.rt = kl_mm_pack_const_b(e, &rd, what, (const float *)n->in[2]->data + d * GH * H, 1, H);
      kl_block(e);
      emit_line(e, "mc_gemm_args %s;", g);
      emit_line(e, "memset(&%s, 0, sizeof %s);", g, g);
      emit_line(e, "%s.M = %lld; %s.N = %lld; %s.K = %lld;", g, (long long)pd.M, g, (long long)pd.N, g,
                (long long)pd.K);
      emit_line(e, "%s.MC = %lld; %s.NC = %lld; %s.KC = %lld;", g, (long long)pd.MC, g, (long long)pd.NC, g,
                (long long)pd.KC);
      emit_line(e, "%s.a = %s; %s.ars = %lld; %s.aks = 1;", g, X, g, (long long)I, g);
      emit_line(e, "%s.bkind = MC_B_PACKED; %s.b = %s;", g, g, wt);
      emit_line(e, "%s.y = rxw; %s.ldy = %lld; %s.alpha = 1.0f;", g, g, (long long)GH, g);
      if (pd.scratch_a)
        emit_line(e, "%s.ascratch = (float *)(void *)(%s + %lld);", g, sc, (long long)state_bytes(n, s));
      emit_line(e, "mc_gemm(&%s, 0, %lld, 0, %lld);", g, (long long)pd.M, (long long)pd.N);
      kl_end(e);
    } else {
      kl_gemm_desc gd;
      memset(&gd, 0, sizeof gd);
      gd.dt = c.dt;
      gd.M = T * B;
      gd.N = GH;
      gd.K = I;
      gd.a = X;
      gd.a_rs = I;
      gd.a_cs = 1;
      gd.b = "rW";
      gd.b_rs = 1;
      gd.b_cs = I;
      gd.y = "rxw";
      gd.alpha = 1.0;
      if (!step_rows) {   /* else each step projects its own row (per step, below) */
        kl_block(e);
        if (kl_gemm(e, &gd)) return op_fail(n, "%s", ir_last_error());
        kl_end(e);
      }
    }

    emit_line(e, "for (int64_t rb = 0; rb < %lld; rb++) {", (long long)B);
    emit_indent(e, 1);
    if (lens) {
      emit_line(e, "int64_t rL = (int64_t)%s[rb];", lens);
      emit_line(e, "if (rL < 0) rL = 0;");
      emit_line(e, "if (rL > %lld) rL = %lld;", (long long)T, (long long)T);
    } else {
      emit_line(e, "const int64_t rL = %lld;", (long long)T);
    }
    emit_line(e, "%s *rhb = rh + rb * %lld;", Tn, (long long)H);
    emit_line(e, "%s *rcb = rc + rb * %lld;", Tn, (long long)H);
    if (G != 4) emit_line(e, "(void)rcb;");
    /* state index of (d, b, j) for initial_h/initial_c and Y_h/Y_c */
    char sidx[160];
    if (s->layout) snprintf(sidx, sizeof sidx, "(rb * %lld + %d) * %lld + rj", (long long)s->nd, d, (long long)H);
    else snprintf(sidx, sizeof sidx, "(%lld + rb) * %lld + rj", (long long)(d * B), (long long)H);
    emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)H);
    emit_indent(e, 1);
    if (h0) emit_line(e, "rhb[rj] = %s[%s];", h0, sidx);
    else emit_line(e, "rhb[rj] = %s;", zero);
    if (G == 4) {
      if (c0) emit_line(e, "rcb[rj] = %s[%s];", c0, sidx);
      else emit_line(e, "rcb[rj] = %s;", zero);
    }
    kl_end(e);

    emit_line(e, "for (int64_t rs = 0; rs < rL; rs++) {");
    emit_indent(e, 1);
    emit_line(e, "const int64_t rt = %s;", backward ? "rL - 1 - rs" : "rs");
    if (step_rows) {   /* this step's row of X W^T, into xw's one row */
      if (s->layout) emit_line(e, "const %s *rxx = %s + (rb * %lld + rt) * %lld;", Tn, X, (long long)T, (long long)I);
      else emit_line(e, "const %s *rxx = %s + (rt * %lld + rb) * %lld;", Tn, X, (long long)B, (long long)I);
      emit_line(e, "%s *rxr = rxw;", Tn);
      if (wrows) {   /* X row . W^T rows by the core's GEMV */
        const char *g = emit_fresh(e, "gw");
        kl_block(e);
        emit_line(e, "mc_gemm_args %s;", g);
        emit_line(e, "memset(&%s, 0, sizeof %s);", g, g);
        emit_line(e, "%s.M = 1; %s.N = %lld; %s.K = %lld;", g, g, (long long)GH, g, (long long)I);
        emit_line(e, "%s.a = rxx; %s.aks = 1;", g, g);
        emit_line(e, "%s.bkind = MC_B_ROWS; %s.b = %s; %s.bks = %lld; %s.bns = 1;", g, g, wrows, g, (long long)GH, g);
        emit_line(e, "%s.y = rxr; %s.ldy = %lld; %s.alpha = 1.0f;", g, g, (long long)GH, g);
        emit_line(e, "mc_gemv(&%s);", g);
        kl_end(e);
      } else {
        emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)GH);
        emit_indent(e, 1);
        emit_line(e, "const %s *wrow = rW + rj * %lld;", Tn, (long long)I);
        emit_line(e, "%s acc = %s;", Tn, zero);
        emit_line(e, "for (int64_t rk = 0; rk < %lld; rk++) acc += wrow[rk] * rxx[rk];", (long long)I);
        emit_line(e, "rxr[rj] = acc;");
        kl_end(e);
      }
    } else if (s->layout) {
      emit_line(e, "const %s *rxr = rxw + (rb * %lld + rt) * %lld;", Tn, (long long)T, (long long)GH);
    } else {
      emit_line(e, "const %s *rxr = rxw + (rt * %lld + rb) * %lld;", Tn, (long long)B, (long long)GH);
    }
    if (G == 1) {
      put_pre(&c, 0, H, 1, "rhb");
      emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)H);
      emit_indent(e, 1);
      emit_line(e, "%s v = rg[rj];", Tn);
      if (put_act(&c, d, 0, 1, "rhb[rj]", "v")) return -1;
      kl_end(e);
    } else if (G == 3) {   /* GRU: z r h */
      put_pre(&c, 0, 2 * H, 1, "rhb");
      emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)(2 * H));
      emit_indent(e, 1);
      emit_line(e, "%s v = rg[rj];", Tn);
      if (put_act(&c, d, 0, 1, "rg[rj]", "v")) return -1;
      kl_end(e);
      if (!lbr) {
        /* candidate: g(xw + Wb + Rb + R_h . (r * h)) */
        emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) rtmp[rj] = rg[%lld + rj] * rhb[rj];", (long long)H,
                  (long long)H);
        put_pre(&c, 2 * H, 3 * H, 1, "rtmp");
      } else if (fast) {
        /* candidate: g(xw + Wb + r * (R_h . h + Rb)), R_h . h by the core into tmp */
        const char *g = emit_fresh(e, "gv");
        kl_block(e);
        emit_line(e, "mc_gemm_args %s;", g);
        emit_line(e, "memset(&%s, 0, sizeof %s);", g, g);
        emit_line(e, "%s.M = 1; %s.N = %lld; %s.K = %lld;", g, g, (long long)H, g, (long long)H);
        emit_line(e, "%s.a = rhb; %s.aks = 1;", g, g);
        emit_line(e, "%s.bkind = MC_B_ROWS; %s.b = %s + %lld; %s.bks = %lld; %s.bns = 1;", g, g, c.rt,
                  (long long)(2 * H), g, (long long)GH, g);
        emit_line(e, "%s.y = rtmp; %s.ldy = %lld; %s.alpha = 1.0f;", g, g, (long long)H, g);
        emit_line(e, "mc_gemv(&%s);", g);
        kl_end(e);
        emit_line(e, "for (int64_t rj = %lld; rj < %lld; rj++)", (long long)(2 * H), (long long)(3 * H));
        emit_line(e, "  rg[rj] = rxr[rj]%s + rg[rj - %lld] * (rtmp[rj - %lld]%s);", Bias ? " + rbw[rj]" : "",
                  (long long)H, (long long)(2 * H), Bias ? " + rbr[rj]" : "");
      } else {
        /* candidate: g(xw + Wb + r * (R_h . h + Rb)) */
        emit_line(e, "for (int64_t rj = %lld; rj < %lld; rj++) {", (long long)(2 * H), (long long)(3 * H));
        emit_indent(e, 1);
        emit_line(e, "const %s *rrow = rR + rj * %lld;", Tn, (long long)H);
        emit_line(e, "%s acc = %s;", Tn, Bias ? "rbr[rj]" : zero);
        emit_line(e, "for (int64_t rk = 0; rk < %lld; rk++) acc += rrow[rk] * rhb[rk];", (long long)H);
        emit_line(e, "rg[rj] = rxr[rj]%s + rg[rj - %lld] * acc;", Bias ? " + rbw[rj]" : "", (long long)H);
        kl_end(e);
      }
      emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)H);
      emit_indent(e, 1);
      emit_line(e, "%s v = rg[%lld + rj], hh;", Tn, (long long)(2 * H));
      if (put_act(&c, d, 1, 1, "hh", "v")) return -1;
      emit_line(e, "rhb[rj] = (%s - rg[rj]) * hh + rg[rj] * rhb[rj];", one);
      kl_end(e);
    } else {               /* LSTM: i o f c */
      put_pre(&c, 0, 4 * H, 1, "rhb");
      emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)H);
      emit_indent(e, 1);
      emit_line(e, "const %s cp = rcb[rj];", Tn);
      emit_line(e, "%s ig, fg, cg, og, cn, ch, v;", Tn);
      emit_line(e, "v = rg[rj]%s;", P ? " + rP[rj] * cp" : "");
      if (put_act(&c, d, 0, 1, "ig", "v")) return -1;
      if (input_forget) {
        emit_line(e, "fg = %s - ig;", one);
      } else {
        if (P) emit_line(e, "v = rg[%lld + rj] + rP[%lld + rj] * cp;", (long long)(2 * H), (long long)(2 * H));
        else emit_line(e, "v = rg[%lld + rj];", (long long)(2 * H));
        if (put_act(&c, d, 0, 1, "fg", "v")) return -1;
      }
      emit_line(e, "v = rg[%lld + rj];", (long long)(3 * H));
      if (put_act(&c, d, 1, 1, "cg", "v")) return -1;
      emit_line(e, "cn = fg * cp + ig * cg;");
      if (P) emit_line(e, "v = rg[%lld + rj] + rP[%lld + rj] * cn;", (long long)H, (long long)H);
      else emit_line(e, "v = rg[%lld + rj];", (long long)H);
      if (put_act(&c, d, 0, 1, "og", "v")) return -1;
      if (put_act(&c, d, 2, 0, "ch", "cn")) return -1;   /* h(C) is not clipped */
      emit_line(e, "rcb[rj] = cn;");
      emit_line(e, "rhb[rj] = og * ch;");
      kl_end(e);
    }
    if (Y) {
      if (s->layout)
        emit_line(e, "%s *ry = %s + ((rb * %lld + rt) * %lld + %d) * %lld;", Tn, Y, (long long)T, (long long)s->nd, d,
                  (long long)H);
      else
        emit_line(e, "%s *ry = %s + ((rt * %lld + %d) * %lld + rb) * %lld;", Tn, Y, (long long)s->nd, d, (long long)B,
                  (long long)H);
      emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) ry[rj] = rhb[rj];", (long long)H);
    }
    kl_end(e);
    if (Yh || Yc) {
      emit_line(e, "for (int64_t rj = 0; rj < %lld; rj++) {", (long long)H);
      emit_indent(e, 1);
      if (Yh) emit_line(e, "%s[%s] = rhb[rj];", Yh, sidx);
      if (Yc) emit_line(e, "%s[%s] = rcb[rj];", Yc, sidx);
      kl_end(e);
    }
    kl_end(e);
    kl_end(e);
  }
  return 0;
}
