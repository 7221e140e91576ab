/*
 * grad_rnn.c - gradient builders of RNN, GRU and LSTM: backpropagation
 * through time as ordinary IR nodes, so the backward of a recurrence is
 * planned, fused and emitted like anything else.
 *
 * Conventions: T steps, batch B, input size I, hidden size H, G gates
 * (RNN 1, GRU 3 in ONNX's order z r h, LSTM 4 in order i o f c), one
 * direction d at a time.  "Bulk" tensors hold every step, [T, B, *] in time
 * order; "step" tensors are one step, [1, B, *].  dG is the gradient of a
 * cell's gate pre-activations, [*, B, G*H] in ONNX's gate order.
 *
 * Per direction:
 *  1. recompute, in bulk, what the backward needs.  The forward's Y gives
 *     h_{t-1} of every step (Y shifted by one, initial_h at the end the
 *     direction starts from), so the projections X W^T + Wb and
 *     Hprev R^T + Rb of all steps are two Gemms, and every gate activation
 *     follows elementwise without a sequential chain.  Only LSTM's cell
 *     state needs one: c_t = f_t c_{t-1} + i_t g_t, two elementwise nodes a
 *     step (with peepholes, i_t and f_t read c_{t-1} and join the chain).
 *     The activations' derivatives, from their outputs (sigmoid s - s*s,
 *     tanh 1 - t*t, relu sign(r)), are folded into per-step factors K so
 *     that the recurrence below is short.
 *  2. the backward recurrence, unrolled in the reverse of processing order:
 *     dH_t = dY_t + carry, dG_t from dH_t (and LSTM's dC_t) times the
 *     factors of step t, carry = dG_t R (+ the direct terms).  dL/dY_h and
 *     dL/dY_c seed the carries of the step processed last.
 *  3. the parameter gradients over all steps at once: dG of every step
 *     concatenated to [T*B, G*H], then dX = dG W, dW = dG^T X,
 *     dR = dG_R^T Hprev, dB = column sums; the carries left after the step
 *     processed first are dL/dinitial_h and dL/dinitial_c.
 * GRU keeps two dG's: dG_W (what multiplies X and W) and dG_R (what
 * multiplies R's input and Rb), which differ in the h gate: with
 * linear_before_reset the h gate's recurrent part is scaled by r, without
 * it R's h rows read r (.) Hprev instead of Hprev.
 *
 * Layout 1 is transposed to layout 0 on the way in and back on the way out.
 * Activations: Tanh, Sigmoid and Relu in any slot (PyTorch's RNN exports
 * Relu).  With clip, the gates' pre-activations are clipped in the
 * recompute and their derivatives masked where the clip bites.  LSTM's
 * input_forget (f = 1 - i) is supported.  sequence_lens must be a
 * constant: where a batch entry's sequence is shorter, constant masks make
 * its missing steps pass the carries through with no gradient of their own
 * (and a reverse direction start from the initial state at its own last
 * step).  Other activations are refused with a message naming the node.
 *
 * Size: a GRU of 28 steps is about 230 nodes after the passes, forward
 * included (tests/unit/test_grad_rnn.c checks the bound).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grad_rnn.h"
#include "op.h"
#include "ops_rnn.h"

enum { CELL_RNN, CELL_GRU, CELL_LSTM };

typedef struct bptt {
  grad_ctx *gc;
  const ir_node *n;
  int cell, G, nd, lbr;
  int slots;               /* activations per direction: RNN 1, GRU 2, LSTM 3 */
  int input_forget;        /* LSTM: f = 1 - i */
  const int64_t *act;      /* RNN_ACT_* per direction and slot (ops_rnn.h) */
  int64_t T, B, I, H;
  ir_dtype dt;
  int err;                 /* a node could not be made (the error is set) */
  ir_tensor *in[8];        /* the node's inputs, X, initial_h and initial_c in layout 0; NULL: missing */
  ir_tensor *Y;            /* forward Y [T, nd, B, H] */
  ir_tensor *Xf;           /* X as [T*B, I] */
  ir_tensor *zeros;        /* [1, B, H] */
  ir_tensor *one, *zero;   /* scalars */
  ir_tensor *clip;         /* scalar clip, or NULL */
  int64_t *lens;           /* sequence_lens when some are shorter than T, else NULL */
  ir_tensor *V, *NV;       /* with lens, [T, B, 1]: step t of batch entry b runs (1) or not (0); 1 - V */
  ir_tensor *A, *NA;       /* with lens, [T, B, 1]: t < lens[b] - 1, where a reverse step's state is
                              the next step's output rather than the initial state; 1 - A */
} bptt;

/* ---- node helpers: each returns NULL after any failure (b->err) --------- */

static ir_tensor *mk(bptt *b, const char *op, int n_in, ir_tensor *const *in) {
  if (b->err) return NULL;
  for (int i = 0; i < n_in; i++)
    if (!in[i]) {   /* a builder bug, not the model's: say so rather than fail silently */
      op_fail(b->n, "gradient: internal error: input %d of a %s node is missing", i, op);
      return b->err = 1, NULL;
    }
  ir_tensor *t = grad_node(b->gc, op, n_in, in);
  if (!t) b->err = 1;
  return t;
}

static ir_tensor *op2(bptt *b, const char *op, ir_tensor *x, ir_tensor *y) {
  ir_tensor *in[2] = {x, y};
  return mk(b, op, 2, in);
}
static ir_tensor *op1(bptt *b, const char *op, ir_tensor *x) { return mk(b, op, 1, &x); }
static ir_tensor *add(bptt *b, ir_tensor *x, ir_tensor *y) { return op2(b, "Add", x, y); }
static ir_tensor *mul(bptt *b, ir_tensor *x, ir_tensor *y) { return op2(b, "Mul", x, y); }
static ir_tensor *sub(bptt *b, ir_tensor *x, ir_tensor *y) { return op2(b, "Sub", x, y); }

static void set_int(ir_tensor *t, const char *name, int64_t v) {
  if (t) ir_attr_set_int(t->producer, name, v);
}

static ir_tensor *ints(bptt *b, int cnt, const int64_t *v) { return grad_const_i64(b->gc, cnt, v); }

/* x[..., start:end, ...] along axis. */
static ir_tensor *slice(bptt *b, ir_tensor *x, int64_t axis, int64_t start, int64_t end) {
  ir_tensor *in[4] = {x, ints(b, 1, &start), ints(b, 1, &end), ints(b, 1, &axis)};
  return mk(b, "Slice", 4, in);
}

static ir_tensor *reshape(bptt *b, ir_tensor *x, int rank, const int64_t *dims) {
  ir_tensor *in[2] = {x, ints(b, rank, dims)};
  return mk(b, "Reshape", 2, in);
}
#define RESHAPE(b, x, ...) \
  reshape(b, x, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

static ir_tensor *concat(bptt *b, int cnt, ir_tensor *const *xs, int64_t axis) {
  if (cnt == 1) return xs[0];
  ir_tensor *t = mk(b, "Concat", cnt, xs);
  set_int(t, "axis", axis);
  return t;
}
#define CONCAT(b, axis, ...) \
  concat(b, (int)(sizeof((ir_tensor *[]){__VA_ARGS__}) / sizeof(ir_tensor *)), (ir_tensor *[]){__VA_ARGS__}, axis)

/* op(A) op(B) (+ C when given), op = transpose where ta / tb. */
static ir_tensor *gemm(bptt *b, ir_tensor *A, ir_tensor *Bm, ir_tensor *C, int ta, int tb) {
  ir_tensor *in[3] = {A, Bm, C};
  ir_tensor *t = mk(b, "Gemm", C ? 3 : 2, in);
  set_int(t, "transA", ta);
  set_int(t, "transB", tb);
  return t;
}

/* Column sums of a matrix: [M, N] -> [N]. */
static ir_tensor *colsum(bptt *b, ir_tensor *x) {
  int64_t axis = 0;
  ir_tensor *t = op2(b, "ReduceSum", x, ints(b, 1, &axis));
  set_int(t, "keepdims", 0);
  return t;
}

/* A constant of the node's float dtype: vals, or every element v when vals is NULL. */
static ir_tensor *fconst(bptt *b, int rank, const int64_t *dims, double v, const double *vals) {
  char base[256];
  snprintf(base, sizeof base, "%srnn_const", b->gc->prefix);
  ir_tensor *t = ir_add_tensor_unique(b->gc->g, base, b->dt, IR_CONST);
  ir_set_shape(t, rank, dims);
  int64_t cnt = ir_numel(t);
  size_t es = ir_dtype_size(b->dt);
  unsigned char *buf = ir_alloc((size_t)cnt * es + 1);
  for (int64_t k = 0; k < cnt; k++) {
    double x = vals ? vals[k] : v;
    if (b->dt == IR_F32) ((float *)buf)[k] = (float)x;
    else ((double *)buf)[k] = x;
  }
  ir_tensor_set_data(t, buf, (size_t)cnt * es);
  free(buf);
  return t;
}

/* The activation of slot `slot` (f, g, h) of direction d applied to the
 * pre-activation x.  With clip, a gate's x is clipped first (mask != NULL):
 * *mask is 1 where |x| < clip, else 0, the clip's derivative. */
static ir_tensor *act(bptt *b, int d, int slot, ir_tensor *x, ir_tensor **mask) {
  int64_t code = b->act[d * b->slots + slot];
  if (mask && b->clip) {
    ir_tensor *inside = op2(b, "Less", op1(b, "Abs", x), b->clip), *in[3] = {inside, b->one, b->zero};
    *mask = mk(b, "Where", 3, in);
    ir_tensor *cin[3] = {x, op1(b, "Neg", b->clip), b->clip};
    x = mk(b, "Clip", 3, cin);
  }
  return op1(b, code == RNN_ACT_SIGMOID ? "Sigmoid" : code == RNN_ACT_TANH ? "Tanh" : "Relu", x);
}
/* Its derivative from its output y: sigmoid' = y - y*y, tanh' = 1 - y*y,
 * relu' = sign(y) (1 where y > 0, else 0); times the clip's mask if any. */
static ir_tensor *dact(bptt *b, int d, int slot, ir_tensor *y, ir_tensor *mask) {
  int64_t code = b->act[d * b->slots + slot];
  ir_tensor *dy = code == RNN_ACT_RELU ? op1(b, "Sign", y) : sub(b, code == RNN_ACT_SIGMOID ? y : b->one, mul(b, y, y));
  return mask ? mul(b, dy, mask) : dy;
}

/* Gate k of a [*, B, G*H] tensor. */
static ir_tensor *gate(bptt *b, ir_tensor *x, int k) { return slice(b, x, 2, k * b->H, (k + 1) * b->H); }
/* Step t of a bulk tensor. */
static ir_tensor *at(bptt *b, ir_tensor *x, int64_t t) { return slice(b, x, 0, t, t + 1); }

/* The state before each step, in time order: seq [T, B, H] shifted by one
 * step against the processing order, init ([1, B, H]) where it starts. */
static ir_tensor *shift(bptt *b, ir_tensor *seq, ir_tensor *init, int rev) {
  if (b->T == 1) return init;
  if (!rev) return CONCAT(b, 0, init, slice(b, seq, 0, 0, b->T - 1));
  ir_tensor *sh = CONCAT(b, 0, slice(b, seq, 0, 1, b->T), init);
  /* a shorter sequence starts at its own last step, from init */
  return b->lens ? add(b, mul(b, sh, b->A), mul(b, init, b->NA)) : sh;
}

/* The constant masks of sequence_lens (see bptt). */
static void step_masks(bptt *b) {
  int64_t T = b->T, B = b->B, dims[3] = {T, B, 1};
  double *m = ir_alloc(sizeof *m * (size_t)(4 * T * B));
  for (int64_t t = 0; t < T; t++)
    for (int64_t e = 0; e < B; e++) {
      m[t * B + e] = t < b->lens[e];
      m[T * B + t * B + e] = t >= b->lens[e];
      m[2 * T * B + t * B + e] = t < b->lens[e] - 1;
      m[3 * T * B + t * B + e] = t >= b->lens[e] - 1;
    }
  b->V = fconst(b, 3, dims, 0, m);
  b->NV = fconst(b, 3, dims, 0, m + T * B);
  b->A = fconst(b, 3, dims, 0, m + 2 * T * B);
  b->NA = fconst(b, 3, dims, 0, m + 3 * T * B);
  free(m);
}

/* Direction d's slice of a [nd, ...] input, or NULL when it is missing. */
static ir_tensor *dir_of(bptt *b, int i, int d) { return b->in[i] ? slice(b, b->in[i], 0, d, d + 1) : NULL; }

/* Layout 1 <-> layout 0: x with its axes permuted. */
static ir_tensor *transpose(bptt *b, ir_tensor *x, int rank, const int64_t *perm) {
  ir_tensor *t = x ? op1(b, "Transpose", x) : NULL;
  if (t) ir_attr_set_ints(t->producer, "perm", rank, perm);
  return t;
}
static const int64_t SWAP01[3] = {1, 0, 2};          /* [B, T, I] <-> [T, B, I], [B, nd, H] <-> [nd, B, H] */
static const int64_t Y_TO_L0[4] = {1, 2, 0, 3};      /* Y [B, T, nd, H] -> [T, nd, B, H] */

/* ---- what is refused ----------------------------------------------------- */

static int check_supported(bptt *b) {
  const ir_node *n = b->n;
  if (ir_attr_ints(n, "_rnn_act", &b->act) != b->nd * b->slots) return op_fail(n, "activations not normalized");
  for (int k = 0; k < b->nd * b->slots; k++) {
    int64_t c = b->act[k];
    if (c != RNN_ACT_TANH && c != RNN_ACT_SIGMOID && c != RNN_ACT_RELU) {
      const ir_attr *a = ir_attr_find(n, "activations");
      return op_fail(n, "gradient: activation '%s' is not supported (only Tanh, Sigmoid and Relu)",
                     a && a->n ? a->strings[k % a->n] : "?");
    }
  }
  if (n->n_in > 4 && n->in[4]) {
    const ir_tensor *s = n->in[4];
    int ragged = 0;
    if (!s->data) return op_fail(n, "gradient: sequence_lens must be a compile-time constant (use --const)");
    for (int64_t k = 0; k < ir_numel(s); k++) {
      int64_t L = ir_const_i64(s, k);
      if (L < 0 || L > b->T)
        return op_fail(n, "gradient: sequence_lens[%lld]=%lld is outside [0, %lld]", (long long)k, (long long)L,
                       (long long)b->T);
      ragged |= L != b->T;
    }
    if (ragged) {
      b->lens = ir_alloc(sizeof *b->lens * (size_t)b->B);
      for (int64_t k = 0; k < b->B; k++) b->lens[k] = ir_const_i64(s, k);
    }
  }
  return 0;
}

/* The forward Y when the node does not output it: a copy of the node that does. */
static ir_tensor *forward_y(bptt *b) {
  const ir_node *n = b->n;
  ir_tensor *y = b->err ? NULL : grad_node(b->gc, n->op_type, n->n_in, n->in);   /* optional inputs may be NULL */
  if (!y) return b->err = 1, NULL;
  ir_node *m = y->producer;
  m->opset = n->opset;
  for (int k = 0; k < n->n_attr; k++) {
    const ir_attr *a = &n->attrs[k];
    ir_attr_remove(m, a->name);
    ir_attr_copy(ir_attr_add(m, a->name, a->type), a);
  }
  return y;
}

/* ---- one direction ------------------------------------------------------- */

/* What a direction contributes: parameter gradients with a leading [1]. */
typedef struct dir_grads {
  ir_tensor *dX;               /* [T, B, I] */
  ir_tensor *dW, *dR, *dB, *dh0, *dc0, *dP;
} dir_grads;

/* Bulk tensors of one direction (those a cell does not use stay NULL). */
typedef struct dir_bulk {
  ir_tensor *Hprev, *Hf;       /* [T, B, H] and as [T*B, H] */
  ir_tensor *Wd;               /* W [GH, I] */
  ir_tensor *Rd, *Rzr, *Rh;    /* R [GH, H]; GRU without lbr: its z r rows and h rows */
  ir_tensor *z, *r;            /* GRU */
  ir_tensor *C, *Cprev;        /* LSTM: c_t, c_{t-1} */
  ir_tensor *K;                /* RNN: f'(h_t); GRU lbr=1: dG_R = [dH dH dH] * K; LSTM: dG = [dC dH dC dC] * K */
  ir_tensor *Kz, *Kn, *Kr;     /* GRU: dz = dH Kz, dn = dH Kn; without lbr dr = (dn Rh) Kr */
  ir_tensor *Kc, *Kcc;         /* LSTM: dC_t = carry + dH Kc, dc_{t-1} = dC_t Kcc */
  ir_tensor *rHf;              /* GRU without lbr: r (.) Hprev as [T*B, H] */
} dir_bulk;

static void recompute(bptt *b, int d, int rev, dir_bulk *k) {
  int64_t T = b->T, B = b->B, H = b->H, GH = b->G * b->H, TB = T * B;
  ir_tensor *Yd = RESHAPE(b, slice(b, b->Y, 1, d, d + 1), T, B, H);
  ir_tensor *h0 = dir_of(b, 5, d);
  k->Hprev = shift(b, Yd, h0 ? h0 : b->zeros, rev);
  k->Hf = RESHAPE(b, k->Hprev, TB, H);
  k->Wd = RESHAPE(b, dir_of(b, 1, d), GH, b->I);
  k->Rd = RESHAPE(b, dir_of(b, 2, d), GH, H);
  ir_tensor *Bd = dir_of(b, 3, d), *Wb = NULL, *Rb = NULL;
  if (Bd) {
    Wb = RESHAPE(b, slice(b, Bd, 1, 0, GH), GH);
    Rb = RESHAPE(b, slice(b, Bd, 1, GH, 2 * GH), GH);
  }
  ir_tensor *XW = RESHAPE(b, gemm(b, b->Xf, k->Wd, Wb, 0, 1), T, B, GH);

  if (b->cell == CELL_RNN) {
    ir_tensor *mask = NULL;
    if (b->clip)   /* the mask needs the pre-activations; without clip Y alone gives tanh' */
      act(b, d, 0, add(b, XW, RESHAPE(b, gemm(b, k->Hf, k->Rd, Rb, 0, 1), T, B, GH)), &mask);
    k->K = dact(b, d, 0, Yd, mask);
    return;
  }
  if (b->cell == CELL_GRU) {
    ir_tensor *hn, *nn, *mz = NULL, *mr = NULL, *mn = NULL;   /* masks of clip */
    if (b->lbr) {
      ir_tensor *HR = RESHAPE(b, gemm(b, k->Hf, k->Rd, Rb, 0, 1), T, B, GH);
      k->z = act(b, d, 0, add(b, gate(b, XW, 0), gate(b, HR, 0)), &mz);
      k->r = act(b, d, 0, add(b, gate(b, XW, 1), gate(b, HR, 1)), &mr);
      hn = gate(b, HR, 2);
      nn = act(b, d, 1, add(b, gate(b, XW, 2), mul(b, k->r, hn)), &mn);
    } else {
      k->Rzr = slice(b, k->Rd, 0, 0, 2 * H);
      k->Rh = slice(b, k->Rd, 0, 2 * H, 3 * H);
      ir_tensor *Rbzr = Rb ? slice(b, Rb, 0, 0, 2 * H) : NULL, *Rbh = Rb ? slice(b, Rb, 0, 2 * H, 3 * H) : NULL;
      ir_tensor *HR = RESHAPE(b, gemm(b, k->Hf, k->Rzr, Rbzr, 0, 1), T, B, 2 * H);
      k->z = act(b, d, 0, add(b, gate(b, XW, 0), gate(b, HR, 0)), &mz);
      k->r = act(b, d, 0, add(b, gate(b, XW, 1), gate(b, HR, 1)), &mr);
      k->rHf = RESHAPE(b, mul(b, k->r, k->Hprev), TB, H);
      hn = RESHAPE(b, gemm(b, k->rHf, k->Rh, Rbh, 0, 1), T, B, H);
      nn = act(b, d, 1, add(b, gate(b, XW, 2), hn), &mn);
    }
    /* h_t = n + z (h_{t-1} - n) */
    k->Kz = mul(b, sub(b, k->Hprev, nn), dact(b, d, 0, k->z, mz));
    k->Kn = mul(b, sub(b, b->one, k->z), dact(b, d, 1, nn, mn));
    if (b->lbr) {
      k->Kr = mul(b, mul(b, k->Kn, hn), dact(b, d, 0, k->r, mr));
      k->K = CONCAT(b, 2, k->Kz, k->Kr, mul(b, k->Kn, k->r));
    } else {
      k->Kr = mul(b, k->Hprev, dact(b, d, 0, k->r, mr));
    }
    return;
  }
  /* LSTM; with peepholes i and f read c_{t-1}, so they join the cell state's chain */
  ir_tensor *pre = add(b, XW, RESHAPE(b, gemm(b, k->Hf, k->Rd, Rb, 0, 1), T, B, GH));
  ir_tensor *Pd = dir_of(b, 7, d), *Pi = NULL, *Po = NULL, *Pf = NULL;
  if (Pd) {
    Pi = RESHAPE(b, slice(b, Pd, 1, 0, H), H);
    Po = RESHAPE(b, slice(b, Pd, 1, H, 2 * H), H);
    Pf = RESHAPE(b, slice(b, Pd, 1, 2 * H, 3 * H), H);
  }
  ir_tensor *mi = NULL, *mo = NULL, *mf = NULL, *mg = NULL;   /* masks of clip */
  ir_tensor *g = act(b, d, 1, gate(b, pre, 3), &mg), *i = NULL, *f = NULL, *ig = NULL, *pre_i = NULL, *pre_f = NULL;
  if (Pd) {
    pre_i = gate(b, pre, 0);
    pre_f = gate(b, pre, 2);
  } else {
    i = act(b, d, 0, gate(b, pre, 0), &mi);
    f = b->input_forget ? sub(b, b->one, i) : act(b, d, 0, gate(b, pre, 2), &mf);
    ig = mul(b, i, g);
  }
  ir_tensor *c0 = dir_of(b, 6, d), *c = c0 ? c0 : b->zeros;
  ir_tensor **cs = ir_alloc(sizeof *cs * (size_t)T * 5), **is = cs + T, **fs = cs + 2 * T;
  ir_tensor **mis = cs + 3 * T, **mfs = cs + 4 * T;
  for (int64_t s = 0; s < T; s++) {
    int64_t t = rev ? T - 1 - s : s;
    if (b->lens && rev && s > 0)   /* as shift(): a shorter sequence starts from c0 */
      c = add(b, mul(b, c, at(b, b->A, t)), mul(b, c0 ? c0 : b->zeros, at(b, b->NA, t)));
    if (Pd) {
      is[t] = act(b, d, 0, add(b, at(b, pre_i, t), mul(b, Pi, c)), &mis[t]);
      fs[t] = b->input_forget ? sub(b, b->one, is[t]) : act(b, d, 0, add(b, at(b, pre_f, t), mul(b, Pf, c)), &mfs[t]);
      c = cs[t] = add(b, mul(b, fs[t], c), mul(b, is[t], at(b, g, t)));
    } else {
      c = cs[t] = add(b, mul(b, at(b, f, t), c), at(b, ig, t));
    }
  }
  if (Pd) {
    i = concat(b, (int)T, is, 0);
    f = concat(b, (int)T, fs, 0);
    if (b->clip) mi = concat(b, (int)T, mis, 0);
    if (b->clip && !b->input_forget) mf = concat(b, (int)T, mfs, 0);
  }
  k->C = b->err ? NULL : concat(b, (int)T, cs, 0);
  free(cs);
  k->Cprev = shift(b, k->C, c0 ? c0 : b->zeros, rev);
  ir_tensor *tc = act(b, d, 2, k->C, NULL), *pre_o = gate(b, pre, 1);   /* h(c_t) is not clipped */
  ir_tensor *o = act(b, d, 0, Pd ? add(b, pre_o, mul(b, Po, k->C)) : pre_o, &mo);
  ir_tensor *Ki, *Ko = mul(b, tc, dact(b, d, 0, o, mo)), *Kf;
  if (b->input_forget) {   /* f = 1 - i: c_t = c_{t-1} + i (g - c_{t-1}), and f has no gate of its own */
    Ki = mul(b, sub(b, g, k->Cprev), dact(b, d, 0, i, mi));
    Kf = mul(b, k->Cprev, b->zero);
  } else {
    Ki = mul(b, g, dact(b, d, 0, i, mi));
    Kf = mul(b, k->Cprev, dact(b, d, 0, f, mf));
  }
  k->K = CONCAT(b, 2, Ki, Ko, Kf, mul(b, i, dact(b, d, 1, g, mg)));
  /* dC_t = carry + dH (o h'(c_t) + Ko Po); dc_{t-1} = dC_t (f + Ki Pi + Kf Pf) */
  k->Kc = mul(b, o, dact(b, d, 2, tc, NULL));
  k->Kcc = f;
  if (Pd) {
    k->Kc = add(b, k->Kc, mul(b, Ko, Po));
    k->Kcc = add(b, f, add(b, mul(b, Ki, Pi), mul(b, Kf, Pf)));
  }
}

/* One step of the backward recurrence at time t: dG_R of the step; the
 * carries become dL/dh_{t-1} (and dL/dc_{t-1}). */
static ir_tensor *step(bptt *b, const dir_bulk *k, int64_t t, ir_tensor *dH, ir_tensor **carry_h, ir_tensor **carry_c) {
  ir_tensor *dG;
  if (b->cell == CELL_RNN) {
    dG = mul(b, dH, at(b, k->K, t));
    *carry_h = op2(b, "MatMul", dG, k->Rd);
  } else if (b->cell == CELL_GRU && b->lbr) {
    dG = mul(b, CONCAT(b, 2, dH, dH, dH), at(b, k->K, t));
    *carry_h = add(b, mul(b, dH, at(b, k->z, t)), op2(b, "MatMul", dG, k->Rd));
  } else if (b->cell == CELL_GRU) {
    ir_tensor *dz = mul(b, dH, at(b, k->Kz, t)), *dn = mul(b, dH, at(b, k->Kn, t));
    ir_tensor *u = op2(b, "MatMul", dn, k->Rh);          /* dL/d(r (.) h_{t-1}) */
    ir_tensor *dr = mul(b, u, at(b, k->Kr, t));
    dG = CONCAT(b, 2, dz, dr, dn);
    ir_tensor *direct = add(b, mul(b, dH, at(b, k->z, t)), mul(b, u, at(b, k->r, t)));
    *carry_h = add(b, direct, op2(b, "MatMul", CONCAT(b, 2, dz, dr), k->Rzr));
  } else {
    ir_tensor *dC = mul(b, dH, at(b, k->Kc, t));
    if (*carry_c) dC = add(b, *carry_c, dC);
    dG = mul(b, CONCAT(b, 2, dC, dH, dC, dC), at(b, k->K, t));
    *carry_h = op2(b, "MatMul", dG, k->Rd);
    *carry_c = mul(b, dC, at(b, k->Kcc, t));
  }
  return dG;
}

static void direction(bptt *b, int d, ir_tensor *gY, ir_tensor *gYh, ir_tensor *gYc, dir_grads *out) {
  const ir_node *n = b->n;
  int64_t T = b->T, B = b->B, H = b->H, GH = b->G * b->H, TB = T * B;
  int rev = b->nd == 2 ? d == 1 : strcmp(ir_attr_string(n, "direction", "forward"), "reverse") == 0;
  dir_bulk k;
  memset(&k, 0, sizeof k);
  recompute(b, d, rev, &k);

  /* 2. the recurrence, from the step processed last to the first */
  ir_tensor *gYd = gY ? RESHAPE(b, slice(b, gY, 1, d, d + 1), T, B, H) : NULL;
  ir_tensor *carry_h = gYh ? slice(b, gYh, 0, d, d + 1) : NULL;
  ir_tensor *carry_c = gYc ? slice(b, gYc, 0, d, d + 1) : NULL;
  ir_tensor **dHs = ir_alloc(sizeof *dHs * (size_t)T), **dGs = ir_alloc(sizeof *dGs * (size_t)T);
  for (int64_t s = 0; s < T && !b->err; s++) {
    int64_t t = rev ? s : T - 1 - s;
    ir_tensor *dH = gYd ? at(b, gYd, t) : NULL;
    if (dH && carry_h) dH = add(b, dH, carry_h);
    else if (!dH) dH = carry_h ? carry_h : b->zeros;
    ir_tensor *hold = carry_h, *cold = carry_c;
    if (b->lens) {   /* a step that does not run passes the carries through and gets no gradient */
      dH = mul(b, dH, at(b, b->V, t));
      if (carry_c) carry_c = mul(b, carry_c, at(b, b->V, t));
    }
    dHs[t] = dH;
    dGs[t] = step(b, &k, t, dH, &carry_h, &carry_c);
    if (b->lens && hold) carry_h = add(b, carry_h, mul(b, hold, at(b, b->NV, t)));
    if (b->lens && cold) carry_c = add(b, carry_c, mul(b, cold, at(b, b->NV, t)));
  }

  /* 3. all steps at once */
  ir_tensor *dGR = RESHAPE(b, b->err ? NULL : concat(b, (int)T, dGs, 0), TB, GH), *dGW = dGR;
  if (b->cell == CELL_GRU && b->lbr && !b->err) {
    ir_tensor *dn = mul(b, concat(b, (int)T, dHs, 0), k.Kn);
    dGW = CONCAT(b, 1, slice(b, dGR, 1, 0, 2 * H), RESHAPE(b, dn, TB, H));
  }
  free(dHs);
  free(dGs);
  out->dX = RESHAPE(b, op2(b, "MatMul", dGW, k.Wd), T, B, b->I);
  out->dW = RESHAPE(b, gemm(b, dGW, b->Xf, NULL, 1, 0), 1, GH, b->I);
  ir_tensor *dR;
  if (b->cell == CELL_GRU && !b->lbr)
    dR = CONCAT(b, 0, gemm(b, slice(b, dGR, 1, 0, 2 * H), k.Hf, NULL, 1, 0),
                gemm(b, slice(b, dGR, 1, 2 * H, 3 * H), k.rHf, NULL, 1, 0));
  else
    dR = gemm(b, dGR, k.Hf, NULL, 1, 0);
  out->dR = RESHAPE(b, dR, 1, GH, H);
  out->dB = RESHAPE(b, CONCAT(b, 0, colsum(b, dGW), colsum(b, dGR)), 1, 2 * GH);
  if (b->in[7]) {   /* peepholes: dP = sums of da_i c_{t-1}, da_o c_t, da_f c_{t-1} */
    ir_tensor *Cf = RESHAPE(b, k.C, TB, H), *Cpf = RESHAPE(b, k.Cprev, TB, H);
    out->dP = RESHAPE(b, CONCAT(b, 0, colsum(b, mul(b, slice(b, dGR, 1, 0, H), Cpf)),
                                colsum(b, mul(b, slice(b, dGR, 1, H, 2 * H), Cf)),
                                colsum(b, mul(b, slice(b, dGR, 1, 2 * H, 3 * H), Cpf))), 1, 3 * H);
  }
  out->dh0 = carry_h;
  out->dc0 = carry_c ? carry_c : b->zeros;
}

/* ---- the entry ------------------------------------------------------------ */

static ir_tensor *out_of(const ir_node *n, int j) { return j < n->n_out ? n->out[j] : NULL; }

int grad_rnn(grad_ctx *gc, const ir_node *n) {
  ir_tensor *gY = grad_of(gc, out_of(n, 0)), *gYh = grad_of(gc, out_of(n, 1)), *gYc = NULL;
  bptt b;
  memset(&b, 0, sizeof b);
  b.gc = gc;
  b.n = n;
  b.cell = strcmp(n->op_type, "LSTM") == 0 ? CELL_LSTM : strcmp(n->op_type, "GRU") == 0 ? CELL_GRU : CELL_RNN;
  b.G = b.cell == CELL_LSTM ? 4 : b.cell == CELL_GRU ? 3 : 1;
  b.slots = b.cell == CELL_LSTM ? 3 : b.cell == CELL_GRU ? 2 : 1;
  if (b.cell == CELL_LSTM) gYc = grad_of(gc, out_of(n, 2));
  if (!gY && !gYh && !gYc) return 0;
  ir_tensor *X = n->in[0];
  int layout = (int)ir_attr_int(n, "layout", 0);
  b.dt = X->dtype;
  b.nd = (int)n->in[1]->shape[0];
  b.lbr = (int)ir_attr_int(n, "linear_before_reset", 0);
  b.input_forget = b.cell == CELL_LSTM && ir_attr_int(n, "input_forget", 0);
  b.T = X->shape[layout ? 1 : 0];
  b.B = X->shape[layout ? 0 : 1];
  b.I = X->shape[2];
  b.H = ir_attr_int(n, "hidden_size", 0);
  if (check_supported(&b) < 0) return -1;
  int64_t bh[3] = {1, b.B, b.H};
  b.zeros = fconst(&b, 3, bh, 0.0, NULL);
  b.one = fconst(&b, 0, NULL, 1.0, NULL);
  b.zero = fconst(&b, 0, NULL, 0.0, NULL);
  if (ir_attr_find(n, "clip")) b.clip = fconst(&b, 0, NULL, ir_attr_float(n, "clip", 0), NULL);
  if (b.lens) step_masks(&b);
  for (int i = 0; i < 8; i++) b.in[i] = i < n->n_in ? n->in[i] : NULL;
  b.Y = out_of(n, 0) ? out_of(n, 0) : forward_y(&b);
  if (layout) {   /* work in layout 0: transpose what comes in, and the gradients going out */
    b.in[0] = transpose(&b, b.in[0], 3, SWAP01);
    b.in[5] = transpose(&b, b.in[5], 3, SWAP01);
    b.in[6] = transpose(&b, b.in[6], 3, SWAP01);
    b.Y = transpose(&b, b.Y, 4, Y_TO_L0);
    gY = transpose(&b, gY, 4, Y_TO_L0);
    gYh = transpose(&b, gYh, 3, SWAP01);
    gYc = transpose(&b, gYc, 3, SWAP01);
  }
  b.Xf = RESHAPE(&b, b.in[0], b.T * b.B, b.I);

  dir_grads dg[2];
  memset(dg, 0, sizeof dg);
  for (int d = 0; d < b.nd; d++) direction(&b, d, gY, gYh, gYc, &dg[d]);
  free(b.lens);
  if (b.err) return -1;
#define GATHER(field) (b.nd == 2 ? CONCAT(&b, 0, dg[0].field, dg[1].field) : dg[0].field)
  ir_tensor *dX = b.nd == 2 ? add(&b, dg[0].dX, dg[1].dX) : dg[0].dX;
  struct { int i; ir_tensor *d; } to[7] = {{0, dX}, {1, GATHER(dW)}, {2, GATHER(dR)}, {3, GATHER(dB)},
                                           {5, GATHER(dh0)}, {6, GATHER(dc0)}, {7, b.in[7] ? GATHER(dP) : NULL}};
#undef GATHER
  if (layout)
    for (int k = 0; k < 6; k++)
      if (to[k].i == 0 || to[k].i == 5 || to[k].i == 6) to[k].d = transpose(&b, to[k].d, 3, SWAP01);
  for (int k = 0; k < 7 && !b.err; k++) {
    const ir_tensor *x = to[k].i < n->n_in ? n->in[to[k].i] : NULL;
    if (x && grad_add(gc, x, to[k].d, x) < 0) return -1;
  }
  return b.err ? -1 : 0;
}
