/*
 * interp_nn.c - reference kernels for Conv, MaxPool, AveragePool, the
 * global pools, Gemm, MatMul and BatchNormalization.
 *
 * These are the oracle for the backend, so they are the plainest loops that
 * are obviously right: every output element is computed on its own from
 * the ONNX definition, window positions are checked against the input
 * bounds one by one (padding is never materialized), and arithmetic is in
 * double through kutil's accessors.  Spatial positions of any rank are
 * walked as flat indices decomposed into coordinates.
 *
 * The producers (Conv, Gemm, MatMul) also apply the fused epilogue that a
 * fusion pass may attach (kernels.h): y = act(acc + bias + residual).  The
 * activation formulas are written here again, independently of the
 * backend's kl_act_expr.
 */
#include "interp_nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/ops/op.h"
#include "kutil.h"

#define MAXSP IR_MAX_RANK

/* ---- fused epilogue ------------------------------------------------------- */

typedef struct epi {
  kepi ep;                  /* what to apply (compiler/ops/epilogue.h) */
  const void *res;          /* residual buffer (output layout) or NULL */
  ir_dtype res_dt;
} epi;

static int epi_read(const ir_node *n, const void *const *in, epi *e) {
  memset(e, 0, sizeof *e);
  if (kepi_from_node(n, &e->ep) < 0) return -1;
  if (e->ep.residual >= 0) {
    if (!in[e->ep.residual]) return op_fail(n, "fused residual input %d is missing", e->ep.residual);
    e->res = in[e->ep.residual];
    e->res_dt = n->in[e->ep.residual]->dtype;
  }
  return 0;
}

/* act(v + residual[i]) */
static double epi_apply(const epi *e, double v, int64_t i) {
  return kepi_apply(&e->ep, v, e->res ? kload_f(e->res_dt, e->res, i) : 0.0);
}

/* ---- window geometry ------------------------------------------------------ */

typedef struct win {
  int r;                                  /* spatial rank */
  int64_t in[MAXSP], out[MAXSP];          /* spatial dims */
  int64_t k[MAXSP], s[MAXSP], d[MAXSP], pb[MAXSP], pe[MAXSP];
} win;

/* Read the explicit geometry attributes (defaults: stride/dilation 1, no pads). */
static int win_read(const ir_node *n, const ir_tensor *x, const ir_tensor *y, const int64_t *kern,
                    win *w) {
  const int64_t *v;
  int i, cnt;
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") != 0)
    return op_fail(n, "auto_pad=%s was not resolved by shape inference", ap);
  w->r = x->rank - 2;
  for (i = 0; i < w->r; i++) {
    w->in[i] = x->shape[2 + i];
    w->out[i] = y->shape[2 + i];
    w->k[i] = kern[i];
    w->s[i] = w->d[i] = 1;
    w->pb[i] = w->pe[i] = 0;
  }
  if ((cnt = ir_attr_ints(n, "strides", &v)) >= 0) {
    if (cnt != w->r) return op_fail(n, "strides has %d values for %d spatial dims", cnt, w->r);
    for (i = 0; i < w->r; i++) w->s[i] = v[i];
  }
  if ((cnt = ir_attr_ints(n, "dilations", &v)) >= 0) {
    if (cnt != w->r) return op_fail(n, "dilations has %d values for %d spatial dims", cnt, w->r);
    for (i = 0; i < w->r; i++) w->d[i] = v[i];
  }
  if ((cnt = ir_attr_ints(n, "pads", &v)) >= 0) {
    if (cnt != 2 * w->r) return op_fail(n, "pads has %d values for %d spatial dims", cnt, w->r);
    for (i = 0; i < w->r; i++) w->pb[i] = v[i], w->pe[i] = v[w->r + i];
  }
  return 0;
}

/* Input spatial flat offset of window position kc for output position oc;
 * -1 when it falls in the padding (or beyond, for ceil_mode windows).
 * *in_padded counts whether it lies inside [-pb, in+pe) in every dim. */
static int64_t win_pos(const win *w, const int64_t *oc, const int64_t *kc, int *in_padded) {
  int64_t off = 0;
  int i, inside = 1;
  *in_padded = 1;
  for (i = 0; i < w->r; i++) {
    int64_t p = oc[i] * w->s[i] - w->pb[i] + kc[i] * w->d[i];
    if (p < -w->pb[i] || p >= w->in[i] + w->pe[i]) *in_padded = 0;
    if (p < 0 || p >= w->in[i]) inside = 0;
    off = off * w->in[i] + p;
  }
  return inside ? off : -1;
}

/* ---- Conv ----------------------------------------------------------------- */

INTERP_NN_FN(interp_nn_conv) {
  const ir_tensor *X = n->in[0], *W = n->in[1], *Y = n->out[0];
  const void *B = n->n_in > 2 ? in[2] : NULL;
  int64_t grp = ir_attr_int(n, "group", 1), N, C, M, Cg, Mg, osz, ksz, isz, b, m, o, ic, kk;
  int64_t oc[MAXSP], kc[MAXSP];
  win w;
  epi e;
  (void)c;
  if (win_read(n, X, Y, W->shape + 2, &w) || epi_read(n, in, &e)) return -1;
  N = X->shape[0];
  C = X->shape[1];
  M = W->shape[0];
  if (grp < 1 || C % grp || M % grp) return op_fail(n, "channels are not divisible by group");
  Cg = C / grp;
  Mg = M / grp;
  osz = ir_numel_dims(w.r, w.out);
  ksz = ir_numel_dims(w.r, w.k);
  isz = ir_numel_dims(w.r, w.in);
  for (b = 0; b < N; b++)
    for (m = 0; m < M; m++) {
      int64_t g = m / Mg;
      for (o = 0; o < osz; o++) {
        double acc = B ? kload_f(n->in[2]->dtype, B, m) : 0.0;
        int64_t yi = (b * M + m) * osz + o;
        kunravel(o, w.r, w.out, oc);
        for (ic = 0; ic < Cg; ic++) {
          int64_t ch = g * Cg + ic;
          for (kk = 0; kk < ksz; kk++) {
            int inpad;
            int64_t p;
            kunravel(kk, w.r, w.k, kc);
            p = win_pos(&w, oc, kc, &inpad);
            if (p < 0) continue;   /* zero padding */
            acc += kload_f(X->dtype, in[0], (b * C + ch) * isz + p) *
                   kload_f(W->dtype, in[1], (m * Cg + ic) * ksz + kk);
          }
        }
        kstore_f(Y->dtype, out[0], yi, epi_apply(&e, acc, yi));
      }
    }
  return 0;
}

/* ---- pools ---------------------------------------------------------------- */

static int pool(const ir_node *n, const void *const *in, void *const *out, int is_max) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const int64_t *ks;
  int64_t NC, osz, ksz, isz, bc, o, kk, oc[MAXSP], kc[MAXSP];
  int cip = (int)ir_attr_int(n, "count_include_pad", 0);
  win w;
  if (ir_attr_ints(n, "kernel_shape", &ks) != X->rank - 2)
    return op_fail(n, "kernel_shape does not match the input rank");
  if (win_read(n, X, Y, ks, &w)) return -1;
  NC = X->shape[0] * X->shape[1];
  osz = ir_numel_dims(w.r, w.out);
  ksz = ir_numel_dims(w.r, w.k);
  isz = ir_numel_dims(w.r, w.in);
  for (bc = 0; bc < NC; bc++)
    for (o = 0; o < osz; o++) {
      double best = -INFINITY, sum = 0.0;
      int64_t cnt = 0, arg = -1;
      kunravel(o, w.r, w.out, oc);
      for (kk = 0; kk < ksz; kk++) {
        int inpad;
        int64_t p;
        double v;
        kunravel(kk, w.r, w.k, kc);
        p = win_pos(&w, oc, kc, &inpad);
        if (cip && inpad) cnt++;   /* divisor counts pads, but not past the end pad */
        if (p < 0) continue;
        if (!cip) cnt++;
        v = kload_f(X->dtype, in[0], bc * isz + p);
        if (v > best || v != v) best = v, arg = p;   /* NaN propagates, as np.max */
        sum += v;
      }
      if (is_max && n->n_out > 1 && n->out[1]) {
        /* Indices: flat over [N, C, spatial]; storage_order 1 numbers the
         * spatial position column-major (the last dim varies slowest) */
        int64_t pc[MAXSP], idx = arg;
        if (arg >= 0 && ir_attr_int(n, "storage_order", 0) == 1) {
          kunravel(arg, w.r, w.in, pc);
          idx = 0;
          for (int t = w.r - 1; t >= 0; t--) idx = idx * w.in[t] + pc[t];
        }
        kstore_i(IR_I64, out[1], bc * osz + o, idx < 0 ? -1 : bc * isz + idx);
      }
      if (is_max)
        kstore_f(Y->dtype, out[0], bc * osz + o, best);
      else
        kstore_f(Y->dtype, out[0], bc * osz + o, sum / (double)cnt);
    }
  return 0;
}

INTERP_NN_FN(interp_nn_maxpool) {
  (void)c;
  return pool(n, in, out, 1);
}

INTERP_NN_FN(interp_nn_avgpool) {
  (void)c;
  return pool(n, in, out, 0);
}

static int global_pool(const ir_node *n, const void *const *in, void *const *out, int is_max) {
  const ir_tensor *X = n->in[0];
  int64_t NC = X->shape[0] * X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2), bc, i;
  for (bc = 0; bc < NC; bc++) {
    double best = -INFINITY, sum = 0.0;
    for (i = 0; i < S; i++) {
      double v = kload_f(X->dtype, in[0], bc * S + i);
      if (v > best || v != v) best = v;
      sum += v;
    }
    kstore_f(n->out[0]->dtype, out[0], bc, is_max ? best : sum / (double)S);
  }
  return 0;
}

INTERP_NN_FN(interp_nn_global_avgpool) {
  (void)c;
  return global_pool(n, in, out, 0);
}

INTERP_NN_FN(interp_nn_global_maxpool) {
  (void)c;
  return global_pool(n, in, out, 1);
}

/* ---- backward ops (ops_grad.c) --------------------------------------------- */

/* dW[m, ic, k] = sum over batch and dY positions of dY * the X element the
 * forward multiplied by W[m, ic, k]; the window is read from dY's side. */
INTERP_NN_FN(interp_nn_conv_wgrad) {
  const ir_tensor *X = n->in[0], *DY = n->in[1], *DW = n->out[0];
  const int64_t *ks;
  int64_t grp = ir_attr_int(n, "group", 1), N, C, M, Cg, Mg, osz, ksz, isz, b, m, ic, kk, o;
  int64_t oc[MAXSP], kc[MAXSP];
  win w;
  (void)c;
  if (ir_attr_ints(n, "kernel_shape", &ks) != X->rank - 2 || win_read(n, X, DY, ks, &w)) return -1;
  N = X->shape[0];
  C = X->shape[1];
  M = DY->shape[1];
  Cg = C / grp;
  Mg = M / grp;
  osz = ir_numel_dims(w.r, w.out);
  ksz = ir_numel_dims(w.r, w.k);
  isz = ir_numel_dims(w.r, w.in);
  for (m = 0; m < M; m++)
    for (ic = 0; ic < Cg; ic++)
      for (kk = 0; kk < ksz; kk++) {
        double acc = 0.0;
        int64_t ch = (m / Mg) * Cg + ic;
        kunravel(kk, w.r, w.k, kc);
        for (b = 0; b < N; b++)
          for (o = 0; o < osz; o++) {
            int inpad;
            int64_t p;
            kunravel(o, w.r, w.out, oc);
            p = win_pos(&w, oc, kc, &inpad);
            if (p < 0) continue;
            acc += kload_f(DY->dtype, in[1], (b * M + m) * osz + o) * kload_f(X->dtype, in[0], (b * C + ch) * isz + p);
          }
        kstore_f(DW->dtype, out[0], (m * Cg + ic) * ksz + kk, acc);
      }
  return 0;
}

/* dX of MaxPool(X, dY) (each dY to its window's first maximum, as the
 * forward's argmax) or AveragePool(dY, shape) (each dY over its window,
 * divided as the forward); dX has X's shape. */
static int pool_grad(const ir_node *n, const void *const *in, void *const *out, int is_max) {
  const ir_tensor *X = n->out[0], *DY = n->in[is_max ? 1 : 0], *DX = n->out[0];
  const void *dyv = in[is_max ? 1 : 0];
  const int64_t *ks;
  int64_t NC, osz, ksz, isz, bc, o, kk, i, oc[MAXSP], kc[MAXSP];
  int cip = (int)ir_attr_int(n, "count_include_pad", 0);
  double *acc;
  win w;
  if (ir_attr_ints(n, "kernel_shape", &ks) != X->rank - 2 || win_read(n, X, DY, ks, &w)) return -1;
  NC = X->shape[0] * X->shape[1];
  osz = ir_numel_dims(w.r, w.out);
  ksz = ir_numel_dims(w.r, w.k);
  isz = ir_numel_dims(w.r, w.in);
  acc = calloc((size_t)(NC * isz + 1), sizeof *acc);
  if (!acc) return op_fail(n, "out of memory");
  for (bc = 0; bc < NC; bc++)
    for (o = 0; o < osz; o++) {
      double best = -INFINITY, dy = kload_f(DY->dtype, dyv, bc * osz + o);
      int64_t cnt = 0, arg = -1;
      kunravel(o, w.r, w.out, oc);
      for (kk = 0; kk < ksz; kk++) {   /* the forward's pass: argmax and divisor */
        int inpad;
        int64_t p;
        kunravel(kk, w.r, w.k, kc);
        p = win_pos(&w, oc, kc, &inpad);
        if (cip && inpad) cnt++;
        if (p < 0) continue;
        if (!cip) cnt++;
        if (!is_max) continue;
        double v = kload_f(n->in[0]->dtype, in[0], bc * isz + p);
        if (v > best || v != v) best = v, arg = p;   /* as the forward */
      }
      if (is_max) {
        if (arg >= 0) acc[bc * isz + arg] += dy;
        continue;
      }
      for (kk = 0; kk < ksz; kk++) {
        int inpad;
        int64_t p;
        kunravel(kk, w.r, w.k, kc);
        p = win_pos(&w, oc, kc, &inpad);
        if (p >= 0) acc[bc * isz + p] += dy / (double)cnt;
      }
    }
  for (i = 0; i < NC * isz; i++) kstore_f(DX->dtype, out[0], i, acc[i]);
  free(acc);
  return 0;
}

INTERP_NN_FN(interp_nn_maxpool_grad) {
  (void)c;
  return pool_grad(n, in, out, 1);
}

INTERP_NN_FN(interp_nn_avgpool_grad) {
  (void)c;
  return pool_grad(n, in, out, 0);
}

/* ---- Gemm ----------------------------------------------------------------- */

INTERP_NN_FN(interp_nn_gemm) {
  const ir_tensor *A = n->in[0], *Bt = n->in[1], *Ct = n->n_in > 2 && in[2] ? n->in[2] : NULL;
  int ta = (int)ir_attr_int(n, "transA", 0), tb = (int)ir_attr_int(n, "transB", 0);
  double alpha = ir_attr_float(n, "alpha", 1.0), beta = ir_attr_float(n, "beta", 1.0);
  int64_t M = n->out[0]->shape[0], N = n->out[0]->shape[1], K = A->shape[ta ? 0 : 1], i, j, k;
  epi e;
  (void)c;
  if (epi_read(n, in, &e)) return -1;
  for (i = 0; i < M; i++)
    for (j = 0; j < N; j++) {
      double acc = 0.0, v;
      for (k = 0; k < K; k++) {
        double a = kload_f(A->dtype, in[0], ta ? k * M + i : i * K + k);
        double b = kload_f(Bt->dtype, in[1], tb ? j * K + k : k * N + j);
        acc += a * b;
      }
      v = alpha * acc;
      if (Ct) {
        /* C broadcast to [M,N]: right-aligned, dims of 1 repeat */
        int64_t ci = 0;
        if (Ct->rank == 1) ci = Ct->shape[0] == 1 ? 0 : j;
        if (Ct->rank == 2) ci = (Ct->shape[0] == 1 ? 0 : i) * Ct->shape[1] + (Ct->shape[1] == 1 ? 0 : j);
        v += beta * kload_f(Ct->dtype, in[2], ci);
      }
      kstore_f(n->out[0]->dtype, out[0], i * N + j, epi_apply(&e, v, i * N + j));
    }
  return 0;
}

/* ---- MatMul --------------------------------------------------------------- */

INTERP_NN_FN(interp_nn_matmul) {
  const ir_tensor *A = n->in[0], *B = n->in[1], *Y = n->out[0];
  int ra = A->rank, rb = B->rank;
  /* 1-D operands: A [K] is a row [1,K], B [K] a column [K,1] */
  int64_t M = ra >= 2 ? A->shape[ra - 2] : 1, K = A->shape[ra - 1];
  int64_t N = rb >= 2 ? B->shape[rb - 1] : 1;
  int abr = ra > 2 ? ra - 2 : 0, bbr = rb > 2 ? rb - 2 : 0;
  int ybr = Y->rank - (ra >= 2) - (rb >= 2);
  int64_t nb = ir_numel_dims(ybr, Y->shape), bi, i, j, k;
  epi e;
  (void)c;
  if (epi_read(n, in, &e)) return -1;
  for (bi = 0; bi < nb; bi++) {
    int64_t ab = kbcast_index(ybr, Y->shape, abr, A->shape, bi);
    int64_t bb = kbcast_index(ybr, Y->shape, bbr, B->shape, bi);
    for (i = 0; i < M; i++)
      for (j = 0; j < N; j++) {
        double acc = 0.0;
        int64_t yi = (bi * M + i) * N + j;
        for (k = 0; k < K; k++)
          acc += kload_f(A->dtype, in[0], ab * M * K + i * K + k) *
                 kload_f(B->dtype, in[1], bb * K * N + k * N + j);
        kstore_f(Y->dtype, out[0], yi, epi_apply(&e, acc, yi));
      }
  }
  return 0;
}

/* ---- BatchNormalization (inference) --------------------------------------- */

INTERP_NN_FN(interp_nn_batchnorm) {
  const ir_tensor *X = n->in[0];
  double eps = ir_attr_float(n, "epsilon", 1e-5);
  int64_t N = X->shape[0], C = X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2), b, ch, i;
  int train = ir_attr_int(n, "training_mode", 0) != 0;
  double mom = ir_attr_float(n, "momentum", 0.9);
  (void)c;
  for (b = 0; b < N; b++)
    for (ch = 0; ch < C; ch++) {
      double sc = kload_f(n->in[1]->dtype, in[1], ch), bias = kload_f(n->in[2]->dtype, in[2], ch);
      double mean = kload_f(n->in[3]->dtype, in[3], ch), var = kload_f(n->in[4]->dtype, in[4], ch);
      if (train) {   /* the batch's mean and (population) variance over N and the spatial dims */
        double s = 0, ss = 0, cnt = (double)(N * S);
        int64_t b2;
        for (b2 = 0; b2 < N; b2++)
          for (i = 0; i < S; i++) s += kload_f(X->dtype, in[0], (b2 * C + ch) * S + i);
        s /= cnt;
        for (b2 = 0; b2 < N; b2++)
          for (i = 0; i < S; i++) {
            double d = kload_f(X->dtype, in[0], (b2 * C + ch) * S + i) - s;
            ss += d * d;
          }
        ss /= cnt;
        if (b == 0 && n->n_out > 1 && n->out[1]) kstore_f(n->out[1]->dtype, out[1], ch, mean * mom + s * (1 - mom));
        if (b == 0 && n->n_out > 2 && n->out[2]) {   /* unbiased_running_var: PyTorch's rule, ss * n / (n - 1) */
          double rv = ir_attr_int(n, "unbiased_running_var", 0) && cnt > 1 ? ss * cnt / (cnt - 1) : ss;
          kstore_f(n->out[2]->dtype, out[2], ch, var * mom + rv * (1 - mom));
        }
        if (b == 0 && n->n_out > 3 && n->out[3]) kstore_f(n->out[3]->dtype, out[3], ch, s);
        if (b == 0 && n->n_out > 4 && n->out[4]) kstore_f(n->out[4]->dtype, out[4], ch, ss);
        mean = s;
        var = ss;
      }
      for (i = 0; i < S; i++) {
        int64_t xi = (b * C + ch) * S + i;
        double x = kload_f(X->dtype, in[0], xi);
        kstore_f(n->out[0]->dtype, out[0], xi, (x - mean) / sqrt(var + eps) * sc + bias);
      }
    }
  return 0;
}

/* ---- BatchNormalizationGrad, ReluGrad (ops_grad.c) ------------------------- */

/* dX, dScale, dBias of training-mode BatchNormalization from dY, X, scale
 * (and a following Relu's output Y: dY counts where Y > 0), with the batch
 * statistics given (inputs 4-5) or recomputed from X, the formula of grad_norm.c:
 *   dX = scale * r * (g - mean(g) - xh * mean(g * xh)), xh = (x - mu) * r. */
INTERP_NN_FN(interp_nn_batchnorm_grad) {
  const ir_tensor *dY = n->in[0], *X = n->in[1];
  int relu = n->n_in > 3 && in[3], given = n->n_in > 5 && in[4] && in[5];
  double eps = ir_attr_float(n, "epsilon", 1e-5);
  int64_t N = X->shape[0], C = X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2), b, ch, i;
  double cnt = (double)(N * S);
  (void)c;
  for (ch = 0; ch < C; ch++) {
    double mu = 0, var = 0, sg = 0, sgx = 0, r, sc = kload_f(n->in[2]->dtype, in[2], ch);
    for (b = 0; b < N; b++)
      for (i = 0; i < S; i++) mu += kload_f(X->dtype, in[1], (b * C + ch) * S + i);
    mu = given ? kload_f(n->in[4]->dtype, in[4], ch) : cnt > 0 ? mu / cnt : 0;
    for (b = 0; b < N; b++)
      for (i = 0; i < S; i++) {
        double d = kload_f(X->dtype, in[1], (b * C + ch) * S + i) - mu;
        var += d * d;
      }
    var = given ? kload_f(n->in[5]->dtype, in[5], ch) : cnt > 0 ? var / cnt : 0;
    r = 1 / sqrt(var + eps);
    for (b = 0; b < N; b++)
      for (i = 0; i < S; i++) {
        int64_t k = (b * C + ch) * S + i;
        double g = !relu || kload_f(n->in[3]->dtype, in[3], k) > 0 ? kload_f(dY->dtype, in[0], k) : 0;
        sg += g;
        sgx += g * (kload_f(X->dtype, in[1], k) - mu) * r;
      }
    if (n->n_out > 1 && n->out[1]) kstore_f(n->out[1]->dtype, out[1], ch, sgx);
    if (n->n_out > 2 && n->out[2]) kstore_f(n->out[2]->dtype, out[2], ch, sg);
    for (b = 0; b < N; b++)
      for (i = 0; i < S; i++) {
        int64_t k = (b * C + ch) * S + i;
        double g = !relu || kload_f(n->in[3]->dtype, in[3], k) > 0 ? kload_f(dY->dtype, in[0], k) : 0;
        double xh = (kload_f(X->dtype, in[1], k) - mu) * r;
        kstore_f(n->out[0]->dtype, out[0], k, sc * r * (g - sg / cnt - xh * sgx / cnt));
      }
  }
  return 0;
}

/* dX = dY where Y (a Relu's output) > 0, else 0. */
INTERP_NN_FN(interp_nn_relu_grad) {
  int64_t cnt = ir_numel(n->out[0]), k;
  (void)c;
  for (k = 0; k < cnt; k++)
    kstore_f(n->out[0]->dtype, out[0], k, kload_f(n->in[1]->dtype, in[1], k) > 0 ? kload_f(n->in[0]->dtype, in[0], k) : 0);
  return 0;
}
