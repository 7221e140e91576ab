/*
 * interp_image.c - reference kernels for the image group: Resize/Upsample,
 * DepthToSpace/SpaceToDepth, ConvTranspose, LpPool, GlobalLpPool,
 * MaxUnpool, GridSample, LayerNormalization, InstanceNormalization, LRN,
 * MeanVarianceNormalization and LpNormalization.
 *
 * The plainest loops that follow the ONNX definitions: every output element
 * of Resize is computed on its own from the coordinate formula of its
 * transformation mode; ConvTranspose scatters each input element into the
 * output window it touches; normalizations take a mean pass, a variance
 * pass and an output pass.  Arithmetic is in double through kutil.
 */
#include "interp_image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/ops/op.h"
#include "kutil.h"

static int64_t clampi(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* ---- Resize ------------------------------------------------------------------ */

typedef struct rs_axis {
  int cnt;                /* taps: 1 nearest, 2 linear, 4 cubic; 0 = extrapolate */
  int64_t idx[4];
  double w[4];
} rs_axis;

/* The ONNX cubic convolution weights for the 4 taps around a point at
 * distance ratio (in (0,1]) right of the second tap. */
static void cubic_w(double t, double A, double *w) {
  double u = 1 - t;
  w[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
  w[3] = ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A;
}

static int rs_taps(const ir_node *n, int axis, int64_t o, int64_t in, int64_t out, rs_axis *t) {
  const char *mode = ir_attr_string(n, "_mode", "nearest"), *ctm = ir_attr_string(n, "_ctm", "");
  const char *nm = ir_attr_string(n, "_nearest", "round_prefer_floor");
  const double *sc, *roi;
  int r = n->in[0]->rank;
  if (ir_attr_floats(n, "_scales", &sc) != r) return op_fail(n, "scales were not resolved by shape inference");
  double s = sc[axis], lw = s * (double)in, x, xo = (double)o;
  if (!strcmp(ctm, "half_pixel")) {
    x = (xo + 0.5) / s - 0.5;
  } else if (!strcmp(ctm, "half_pixel_symmetric")) {
    double adj = (double)out / lw, off = (double)in / 2 * (1 - adj);
    x = off + (xo + 0.5) / s - 0.5;
  } else if (!strcmp(ctm, "pytorch_half_pixel")) {
    x = lw > 1 ? (xo + 0.5) / s - 0.5 : 0.0;
  } else if (!strcmp(ctm, "align_corners")) {
    x = lw == 1 ? 0.0 : xo * (double)(in - 1) / (lw - 1);
  } else if (!strcmp(ctm, "asymmetric")) {
    x = xo / s;
  } else if (!strcmp(ctm, "tf_half_pixel_for_nn")) {
    x = (xo + 0.5) / s;
  } else if (!strcmp(ctm, "tf_crop_and_resize")) {
    if (ir_attr_floats(n, "_roi", &roi) != 2 * r) return op_fail(n, "roi was not resolved by shape inference");
    double st = roi[axis], en = roi[r + axis];
    x = lw > 1 ? st * (in - 1) + xo * (en - st) * (double)(in - 1) / (lw - 1) : 0.5 * (st + en) * (in - 1);
    if (x < 0 || x > (double)(in - 1)) {
      t->cnt = 0;
      return 0;
    }
  } else {
    return op_fail(n, "unsupported coordinate transformation '%s'", ctm);
  }
  double fl = floor(x), fr = x - fl;
  if (!strcmp(mode, "nearest")) {
    int64_t i;
    if (!strcmp(nm, "simple")) i = (int64_t)(s < 1 ? ceil(x) : fl);
    else if (fr == 0) i = (int64_t)fl;
    else if (!strcmp(nm, "round_prefer_floor")) i = (int64_t)(fr <= 0.5 ? fl : fl + 1);
    else if (!strcmp(nm, "round_prefer_ceil")) i = (int64_t)(fr < 0.5 ? fl : fl + 1);
    else if (!strcmp(nm, "floor")) i = (int64_t)fl;
    else i = (int64_t)fl + 1;   /* ceil of a non-integer */
    t->cnt = 1;
    t->idx[0] = clampi(i, 0, in - 1);
    t->w[0] = 1;
  } else if (!strcmp(mode, "linear")) {
    t->cnt = 2;
    t->idx[0] = clampi((int64_t)fl, 0, in - 1);
    t->idx[1] = clampi((int64_t)fl + 1, 0, in - 1);
    t->w[0] = 1 - fr;
    t->w[1] = fr;
  } else {
    int64_t i0 = (int64_t)fl;
    double A = ir_attr_float(n, "cubic_coeff_a", -0.75), sum = 0;
    if (fr == 0) i0 -= 1, fr = 1;   /* the reference leans left: ratio in (0, 1] */
    cubic_w(fr, A, t->w);
    t->cnt = 4;
    for (int k = 0; k < 4; k++) {
      int64_t i = i0 - 1 + k;
      if (ir_attr_int(n, "exclude_outside", 0) && (i < 0 || i >= in)) t->w[k] = 0;
      sum += t->w[k];
      t->idx[k] = clampi(i, 0, in - 1);
    }
    if (ir_attr_int(n, "exclude_outside", 0))
      for (int k = 0; k < 4; k++) t->w[k] /= sum;
  }
  return 0;
}

INTERP_IMAGE_FN(interp_image_resize) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  int r = X->rank;
  int64_t total = ir_numel(Y), co[IR_MAX_RANK], st[IR_MAX_RANK];
  double ext = ir_attr_float(n, "extrapolation_value", 0.0);
  rs_axis ax[IR_MAX_RANK];
  (void)c;
  kstrides(r, X->shape, st);
  for (int64_t f = 0; f < total; f++) {
    int extrap = 0, k, tap[IR_MAX_RANK];
    kunravel(f, r, Y->shape, co);
    for (k = 0; k < r; k++) {
      if (rs_taps(n, k, co[k], X->shape[k], Y->shape[k], &ax[k])) return -1;
      if (ax[k].cnt == 0) extrap = 1;
      tap[k] = 0;
    }
    if (extrap) {
      kstore_f(Y->dtype, out[0], f, ext);
      continue;
    }
    /* sum over every combination of per-axis taps (odometer over tap[]) */
    double acc = 0;
    for (;;) {
      double w = 1;
      int64_t off = 0;
      for (k = 0; k < r; k++) w *= ax[k].w[tap[k]], off += ax[k].idx[tap[k]] * st[k];
      acc += w * kload_f(X->dtype, in[0], off);
      for (k = r - 1; k >= 0 && ++tap[k] == ax[k].cnt; k--) tap[k] = 0;
      if (k < 0) break;
    }
    kstore_f(Y->dtype, out[0], f, acc);
  }
  return 0;
}

/* ---- DepthToSpace / SpaceToDepth ---------------------------------------------------- */

static void copy_elem(ir_dtype t, void *dst, int64_t di, const void *src, int64_t si) {
  size_t sz = ir_dtype_size(t);
  memcpy((char *)dst + di * sz, (const char *)src + si * sz, sz);
}

INTERP_IMAGE_FN(interp_image_depth_to_space) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  int64_t b = ir_attr_int(n, "blocksize", 1), C = X->shape[1], H = X->shape[2], W = X->shape[3];
  int64_t Co = Y->shape[1], co[4];
  int crd = strcmp(ir_attr_string(n, "mode", "DCR"), "CRD") == 0;
  (void)c;
  for (int64_t f = 0; f < ir_numel(Y); f++) {
    kunravel(f, 4, Y->shape, co);
    int64_t h = co[2] / b, i = co[2] % b, w = co[3] / b, j = co[3] % b;
    int64_t ch = crd ? co[1] * b * b + i * b + j : (i * b + j) * Co + co[1];
    copy_elem(Y->dtype, out[0], f, in[0], ((co[0] * C + ch) * H + h) * W + w);
  }
  return 0;
}

INTERP_IMAGE_FN(interp_image_space_to_depth) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  int64_t b = ir_attr_int(n, "blocksize", 1), C = X->shape[1], H = X->shape[2], W = X->shape[3], co[4];
  (void)c;
  for (int64_t f = 0; f < ir_numel(Y); f++) {
    kunravel(f, 4, Y->shape, co);
    int64_t blk = co[1] / C, ch = co[1] % C, i = blk / b, j = blk % b;
    copy_elem(Y->dtype, out[0], f, in[0], ((co[0] * C + ch) * H + co[2] * b + i) * W + co[3] * b + j);
  }
  return 0;
}

/* ---- ConvTranspose ----------------------------------------------------------------- */

static int read_geom(const ir_node *n, const char *name, int cnt, int64_t *v) {
  const int64_t *a;
  if (ir_attr_ints(n, name, &a) != cnt) return op_fail(n, "%s was not resolved by shape inference", name);
  memcpy(v, a, sizeof(int64_t) * cnt);
  return 0;
}

/* Flat offset within dims[r] of tap kk of kernel k when the window sits at
 * co: per axis co*s + kc*d - p (kc: the tap's coordinates); -1 when that
 * falls outside dims.  ConvTranspose scatters through it, LpPool gathers. */
static int64_t tap_offset(int r, const int64_t *co, int64_t kk, const int64_t *k, const int64_t *s,
                          const int64_t *d, const int64_t *p, const int64_t *dims) {
  int64_t kc[IR_MAX_RANK], off = 0;
  kunravel(kk, r, k, kc);
  for (int t = 0; t < r; t++) {
    int64_t pos = co[t] * s[t] + kc[t] * d[t] - p[t];
    if (pos < 0 || pos >= dims[t]) return -1;
    off = off * dims[t] + pos;
  }
  return off;
}

INTERP_IMAGE_FN(interp_image_conv_transpose) {
  const ir_tensor *X = n->in[0], *Wt = n->in[1], *Y = n->out[0];
  int r = X->rank - 2;
  int64_t k[IR_MAX_RANK], s[IR_MAX_RANK], d[IR_MAX_RANK], p[2 * IR_MAX_RANK];
  int64_t grp = ir_attr_int(n, "group", 1), N = X->shape[0], C = X->shape[1], M = Y->shape[1];
  int64_t Cg = C / grp, Mg = M / grp, isp = ir_numel_dims(r, X->shape + 2), osp = ir_numel_dims(r, Y->shape + 2);
  int64_t ksp = ir_numel_dims(r, k), ic[IR_MAX_RANK];
  const void *B = n->n_in > 2 ? in[2] : NULL;
  (void)c;
  if (read_geom(n, "kernel_shape", r, k) || read_geom(n, "strides", r, s) || read_geom(n, "dilations", r, d) ||
      read_geom(n, "pads", 2 * r, p))
    return -1;
  ksp = ir_numel_dims(r, k);
  for (int64_t b = 0; b < N; b++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t o = 0; o < osp; o++)
        kstore_f(Y->dtype, out[0], (b * M + m) * osp + o, B ? kload_f(Y->dtype, B, m) : 0.0);
  /* y[b, g*Mg+m, i*s + kk*d - pb] += x[b, g*Cg+ci, i] * w[g*Cg+ci, m, kk] */
  for (int64_t b = 0; b < N; b++)
    for (int64_t ch = 0; ch < C; ch++) {
      int64_t g = ch / Cg;
      for (int64_t i = 0; i < isp; i++) {
        double xv = kload_f(X->dtype, in[0], (b * C + ch) * isp + i);
        kunravel(i, r, X->shape + 2, ic);
        for (int64_t kk = 0; kk < ksp; kk++) {
          int64_t o = tap_offset(r, ic, kk, k, s, d, p, Y->shape + 2);
          if (o < 0) continue;
          for (int64_t m = 0; m < Mg; m++) {
            int64_t yi = (b * M + g * Mg + m) * osp + o;
            double wv = kload_f(Wt->dtype, in[1], (ch * Mg + m) * ksp + kk);
            kstore_f(Y->dtype, out[0], yi, kload_f(Y->dtype, out[0], yi) + xv * wv);
          }
        }
      }
    }
  return 0;
}

/* ---- LpPool / GlobalLpPool ------------------------------------------------------------ */

static double lp_root(double sum, double p) {
  return p == 1 ? sum : (p == 2 ? sqrt(sum) : pow(sum, 1.0 / p));
}

static double lp_pow(double v, double p) {
  v = fabs(v);
  return p == 1 ? v : (p == 2 ? v * v : pow(v, p));
}

INTERP_IMAGE_FN(interp_image_lp_pool) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  int r = X->rank - 2;
  int64_t k[IR_MAX_RANK], s[IR_MAX_RANK], d[IR_MAX_RANK], p[2 * IR_MAX_RANK], oc[IR_MAX_RANK];
  double pw = ir_attr_float(n, "p", 2.0);
  (void)c;
  if (read_geom(n, "kernel_shape", r, k) || read_geom(n, "strides", r, s) || read_geom(n, "dilations", r, d) ||
      read_geom(n, "pads", 2 * r, p))
    return -1;
  int64_t NC = X->shape[0] * X->shape[1], isp = ir_numel_dims(r, X->shape + 2);
  int64_t osp = ir_numel_dims(r, Y->shape + 2), ksp = ir_numel_dims(r, k);
  for (int64_t pl = 0; pl < NC; pl++)
    for (int64_t o = 0; o < osp; o++) {
      double sum = 0;
      kunravel(o, r, Y->shape + 2, oc);
      for (int64_t kk = 0; kk < ksp; kk++) {
        int64_t off = tap_offset(r, oc, kk, k, s, d, p, X->shape + 2);
        if (off >= 0) sum += lp_pow(kload_f(X->dtype, in[0], pl * isp + off), pw);   /* padding adds 0 */
      }
      kstore_f(Y->dtype, out[0], pl * osp + o, lp_root(sum, pw));
    }
  return 0;
}

INTERP_IMAGE_FN(interp_image_global_lp_pool) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  int64_t NC = X->shape[0] * X->shape[1], S = ir_numel(X) / (NC ? NC : 1);
  double pw = ir_attr_float(n, "p", 2.0);
  (void)c;
  for (int64_t pl = 0; pl < NC; pl++) {
    double sum = 0;
    for (int64_t i = 0; i < S; i++) sum += lp_pow(kload_f(X->dtype, in[0], pl * S + i), pw);
    kstore_f(Y->dtype, out[0], pl, lp_root(sum, pw));
  }
  return 0;
}

/* ---- MaxUnpool --------------------------------------------------------------------- */

/* Indices are flat over the default output shape _index_shape (as
 * MaxPool's Indices output gives them); each lands at the same coordinates
 * of Y.  One outside is an error rather than a wild write. */
INTERP_IMAGE_FN(interp_image_max_unpool) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const int64_t *ish;
  int64_t total = ir_numel(Y), co[IR_MAX_RANK], lim;
  int r = Y->rank;
  (void)c;
  if (ir_attr_ints(n, "_index_shape", &ish) != r) return op_fail(n, "index shape was not resolved by shape inference");
  lim = ir_numel_dims(r, ish);
  for (int64_t i = 0; i < total; i++) kstore_f(Y->dtype, out[0], i, 0.0);
  for (int64_t i = 0; i < ir_numel(X); i++) {
    int64_t at = kload_i(IR_I64, in[1], i), yi = 0;
    int inside = at >= 0 && at < lim;
    if (inside) kunravel(at, r, ish, co);
    for (int k = 0; inside && k < r; k++) {
      if (co[k] >= Y->shape[k]) inside = 0;
      yi = yi * Y->shape[k] + co[k];
    }
    if (!inside)
      return op_fail(n, "index %lld at position %lld is outside the output", (long long)at, (long long)i);
    kstore_f(Y->dtype, out[0], yi, kload_f(X->dtype, in[0], i));
  }
  return 0;
}

/* ---- GridSample (PyTorch's grid_sample semantics, 4-D) -------------------------------- */

static double gs_unnorm(double v, int64_t size, int ac) {
  return ac ? (v + 1) / 2 * (double)(size - 1) : ((v + 1) * (double)size - 1) / 2;
}

/* Reflect v into [lo2/2, hi2/2] (bounds given doubled, as PyTorch does). */
static double gs_reflect(double v, double lo2, double hi2) {
  if (lo2 == hi2) return 0;
  double mn = lo2 / 2, span = (hi2 - lo2) / 2;
  v = fabs(v - mn);
  double extra = fmod(v, span);
  int64_t flips = (int64_t)floor(v / span);
  return flips % 2 == 0 ? extra + mn : span - extra + mn;
}

/* Apply the padding mode to a coordinate (border clips, reflection reflects then clips). */
static double gs_pad(double v, int64_t size, int pad, int ac) {
  double hi = (double)(size - 1);
  if (pad == 2) v = ac ? gs_reflect(v, 0, 2 * hi) : gs_reflect(v, -1, 2 * (double)size - 1);
  if (pad >= 1) v = v < 0 ? 0 : (v > hi ? hi : v);
  return v;
}

static double gs_at(const ir_tensor *X, const void *x, int64_t plane, int64_t yy, int64_t xx) {
  int64_t H = X->shape[2], W = X->shape[3];
  if (yy < 0 || yy >= H || xx < 0 || xx >= W) return 0;
  return kload_f(X->dtype, x, plane * H * W + yy * W + xx);
}

static void gs_cubic(double t, double *w) {
  const double A = -0.75;
  double u = t + 1, v = 1 - t, z = 2 - t;
  w[0] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * v - (A + 3)) * v * v + 1;
  w[3] = ((A * z - 5 * A) * z + 8 * A) * z - 4 * A;
}

INTERP_IMAGE_FN(interp_image_grid_sample) {
  const ir_tensor *X = n->in[0], *G = n->in[1], *Y = n->out[0];
  const char *mode = ir_attr_string(n, "mode", "bilinear"), *pm = ir_attr_string(n, "padding_mode", "zeros");
  int ac = (int)ir_attr_int(n, "align_corners", 0);
  int pad = !strcmp(pm, "zeros") ? 0 : (!strcmp(pm, "border") ? 1 : 2);
  int64_t N = X->shape[0], C = X->shape[1], H = X->shape[2], W = X->shape[3];
  int64_t Ho = Y->shape[2], Wo = Y->shape[3];
  (void)c;
  for (int64_t b = 0; b < N; b++)
    for (int64_t oy = 0; oy < Ho; oy++)
      for (int64_t ox = 0; ox < Wo; ox++) {
        int64_t gi = ((b * Ho + oy) * Wo + ox) * 2;
        double gx = gs_unnorm(kload_f(G->dtype, in[1], gi), W, ac);
        double gy = gs_unnorm(kload_f(G->dtype, in[1], gi + 1), H, ac);
        for (int64_t ch = 0; ch < C; ch++) {
          int64_t plane = b * C + ch;
          double v = 0;
          if (!strcmp(mode, "bicubic")) {
            /* the taps are padded one by one; the centre is not */
            double fx = floor(gx), fy = floor(gy), wx[4], wy[4];
            gs_cubic(gx - fx, wx);
            gs_cubic(gy - fy, wy);
            for (int i = 0; i < 4; i++)
              for (int j = 0; j < 4; j++) {
                double ty = gs_pad(fy - 1 + i, H, pad, ac), tx = gs_pad(fx - 1 + j, W, pad, ac);
                v += wy[i] * wx[j] * gs_at(X, in[0], plane, (int64_t)ty, (int64_t)tx);
              }
          } else {
            double px = gs_pad(gx, W, pad, ac), py = gs_pad(gy, H, pad, ac);
            if (!strcmp(mode, "nearest")) {
              v = gs_at(X, in[0], plane, (int64_t)nearbyint(py), (int64_t)nearbyint(px));
            } else {
              double fx = floor(px), fy = floor(py), tx = px - fx, ty = py - fy;
              int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
              v = (1 - ty) * ((1 - tx) * gs_at(X, in[0], plane, y0, x0) + tx * gs_at(X, in[0], plane, y0, x0 + 1)) +
                  ty * ((1 - tx) * gs_at(X, in[0], plane, y0 + 1, x0) + tx * gs_at(X, in[0], plane, y0 + 1, x0 + 1));
            }
          }
          kstore_f(Y->dtype, out[0], (plane * Ho + oy) * Wo + ox, v);
        }
      }
  return 0;
}

/* ---- normalizations ------------------------------------------------------------------ */

/* Mean and (biased) variance of x over the elements at base + offs[0..cnt)
 * (offs NULL: the cnt contiguous elements from base). */
static void moments(ir_dtype t, const void *x, int64_t base, const int64_t *offs, int64_t cnt, double *mean,
                    double *var) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < cnt; i++) s += kload_f(t, x, base + (offs ? offs[i] : i));
  *mean = cnt ? s / (double)cnt : 0;
  for (int64_t i = 0; i < cnt; i++) {
    double dv = kload_f(t, x, base + (offs ? offs[i] : i)) - *mean;
    q += dv * dv;
  }
  *var = cnt ? q / (double)cnt : 0;
}

INTERP_IMAGE_FN(interp_image_layer_norm) {
  const ir_tensor *X = n->in[0];
  int axis = (int)ir_attr_int(n, "axis", -1), r = X->rank;
  int64_t outer = ir_numel_dims(axis, X->shape), S = ir_numel_dims(r - axis, X->shape + axis);
  double eps = ir_attr_float(n, "epsilon", 1e-5);
  const ir_tensor *Sc = n->in[1], *B = n->n_in > 2 ? n->in[2] : NULL;
  (void)c;
  for (int64_t o = 0; o < outer; o++) {
    double mean, var;
    moments(X->dtype, in[0], o * S, NULL, S, &mean, &var);
    double inv = 1.0 / sqrt(var + eps);
    for (int64_t i = 0; i < S; i++) {
      /* Scale and B broadcast against the normalized dims X[axis:] */
      double sc = kload_f(Sc->dtype, in[1], kbcast_index(r - axis, X->shape + axis, Sc->rank, Sc->shape, i));
      double bv = B && in[2] ? kload_f(B->dtype, in[2], kbcast_index(r - axis, X->shape + axis, B->rank, B->shape, i)) : 0;
      kstore_f(X->dtype, out[0], o * S + i, (kload_f(X->dtype, in[0], o * S + i) - mean) * inv * sc + bv);
    }
    if (n->n_out > 1 && out[1]) kstore_f(n->out[1]->dtype, out[1], o, mean);
    if (n->n_out > 2 && out[2]) kstore_f(n->out[2]->dtype, out[2], o, inv);
  }
  return 0;
}

INTERP_IMAGE_FN(interp_image_instance_norm) {
  const ir_tensor *X = n->in[0];
  int64_t N = X->shape[0], C = X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2);
  double eps = ir_attr_float(n, "epsilon", 1e-5);
  (void)c;
  for (int64_t b = 0; b < N; b++)
    for (int64_t ch = 0; ch < C; ch++) {
      int64_t base = (b * C + ch) * S;
      double mean, var;
      moments(X->dtype, in[0], base, NULL, S, &mean, &var);
      double sc = kload_f(X->dtype, in[1], ch), bv = kload_f(X->dtype, in[2], ch);
      for (int64_t i = 0; i < S; i++)
        kstore_f(X->dtype, out[0], base + i, (kload_f(X->dtype, in[0], base + i) - mean) / sqrt(var + eps) * sc + bv);
    }
  return 0;
}

/* y = x / (bias + alpha/size * sum of x^2 over the channels
 *          [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta */
INTERP_IMAGE_FN(interp_image_lrn) {
  const ir_tensor *X = n->in[0];
  int64_t N = X->shape[0], C = X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2);
  int64_t size = ir_attr_int(n, "size", 1), lo = (size - 1) / 2, hi = size - 1 - lo;
  double alpha = ir_attr_float(n, "alpha", 1e-4), beta = ir_attr_float(n, "beta", 0.75);
  double bias = ir_attr_float(n, "bias", 1.0);
  (void)c;
  for (int64_t b = 0; b < N; b++)
    for (int64_t ch = 0; ch < C; ch++)
      for (int64_t i = 0; i < S; i++) {
        double sq = 0;
        for (int64_t k = ch - lo; k <= ch + hi; k++)
          if (k >= 0 && k < C) {
            double v = kload_f(X->dtype, in[0], (b * C + k) * S + i);
            sq += v * v;
          }
        int64_t at = (b * C + ch) * S + i;
        kstore_f(X->dtype, out[0], at, kload_f(X->dtype, in[0], at) / pow(bias + alpha / (double)size * sq, beta));
      }
  return 0;
}

/* y = (x - mean) / (std + 1e-9), moments over `axes` (ONNX's function body). */
INTERP_IMAGE_FN(interp_image_mvn) {
  const ir_tensor *X = n->in[0];
  const int64_t *axes;
  int na = ir_attr_ints(n, "axes", &axes), r = X->rank, red[IR_MAX_RANK] = {0};
  int64_t st[IR_MAX_RANK], kd[IR_MAX_RANK], rd[IR_MAX_RANK], ks[IR_MAX_RANK], rs[IR_MAX_RANK], co[IR_MAX_RANK];
  int nk = 0, nr = 0;
  (void)c;
  for (int k = 0; k < na; k++) red[axes[k]] = 1;
  kstrides(r, X->shape, st);
  for (int k = 0; k < r; k++) {
    if (red[k]) rd[nr] = X->shape[k], rs[nr++] = st[k];
    else kd[nk] = X->shape[k], ks[nk++] = st[k];
  }
  int64_t K = ir_numel_dims(nk, kd), R = ir_numel_dims(nr, rd);
  int64_t *offs = ir_alloc(sizeof(int64_t) * (size_t)(R ? R : 1));
  for (int64_t i = 0; i < R; i++) {
    kunravel(i, nr, rd, co);
    offs[i] = 0;
    for (int t = 0; t < nr; t++) offs[i] += co[t] * rs[t];
  }
  for (int64_t kf = 0; kf < K; kf++) {
    int64_t base = 0;
    double mean, var;
    kunravel(kf, nk, kd, co);
    for (int t = 0; t < nk; t++) base += co[t] * ks[t];
    moments(X->dtype, in[0], base, offs, R, &mean, &var);
    for (int64_t i = 0; i < R; i++)
      kstore_f(X->dtype, out[0], base + offs[i], (kload_f(X->dtype, in[0], base + offs[i]) - mean) / (sqrt(var) + 1e-9));
  }
  free(offs);
  return 0;
}

INTERP_IMAGE_FN(interp_image_lp_norm) {
  const ir_tensor *X = n->in[0];
  int axis = (int)ir_attr_int(n, "axis", -1);
  int64_t p = ir_attr_int(n, "p", 2), len = X->shape[axis];
  int64_t outer = ir_numel_dims(axis, X->shape), inner = ir_numel_dims(X->rank - axis - 1, X->shape + axis + 1);
  (void)c;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      double s = 0;
      for (int64_t k = 0; k < len; k++) {
        double v = kload_f(X->dtype, in[0], (o * len + k) * inner + j);
        s += p == 1 ? fabs(v) : v * v;
      }
      double norm = p == 1 ? s : sqrt(s);
      for (int64_t k = 0; k < len; k++) {
        int64_t at = (o * len + k) * inner + j;
        kstore_f(X->dtype, out[0], at, kload_f(X->dtype, in[0], at) / norm);
      }
    }
  return 0;
}

/* ---- RoiAlign ------------------------------------------------------------------ */

/* RoiAlign as ONNX's reference and ONNX Runtime compute it: each output bin
 * of a roi averages (or maxes) a grid of sample points; a sample outside
 * [-1, H] x [-1, W] (or NaN) contributes 0, one inside is clamped to the
 * image and read bilinearly.  In max mode the value of a sample is not its
 * interpolation but the largest of its four weighted corners
 * max(w1*v1, ..., w4*v4) -- the reference's definition (see onnx/onnx
 * issue 4764), kept so that results match it. */
INTERP_IMAGE_FN(interp_image_roi_align) {
  const ir_tensor *X = n->in[0], *R = n->in[1], *Y = n->out[0];
  int64_t N = X->shape[0], C = X->shape[1], H = X->shape[2], W = X->shape[3];
  int64_t OH = Y->shape[2], OW = Y->shape[3], sr = ir_attr_int(n, "sampling_ratio", 0);
  int half = strcmp(ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"), "half_pixel") == 0;
  int is_max = strcmp(ir_attr_string(n, "mode", "avg"), "max") == 0;
  double scale = ir_attr_float(n, "spatial_scale", 1.0), off = half ? 0.5 : 0.0;
  (void)c;
  for (int64_t r = 0; r < R->shape[0]; r++) {
    int64_t b = kload_i(IR_I64, in[2], r);
    if (b < 0 || b >= N) return op_fail(n, "batch index %lld of roi %lld is outside [0, %lld)", (long long)b, (long long)r, (long long)N);
    double sx = kload_f(R->dtype, in[1], r * 4 + 0) * scale - off, sy = kload_f(R->dtype, in[1], r * 4 + 1) * scale - off;
    double rw = kload_f(R->dtype, in[1], r * 4 + 2) * scale - off - sx;
    double rh = kload_f(R->dtype, in[1], r * 4 + 3) * scale - off - sy;
    if (!half) {   /* output_half_pixel: a roi is at least one pixel */
      if (!(rw >= 1.0)) rw = 1.0;
      if (!(rh >= 1.0)) rh = 1.0;
    }
    double bh = rh / (double)OH, bw = rw / (double)OW;
    double qh = ceil(bh), qw = ceil(bw);
    int64_t gh = sr > 0 ? sr : (qh >= 1.0 ? (qh < 1e6 ? (int64_t)qh : 1000000) : 0);
    int64_t gw = sr > 0 ? sr : (qw >= 1.0 ? (qw < 1e6 ? (int64_t)qw : 1000000) : 0);
    double cnt = gh * gw > 1 ? (double)(gh * gw) : 1.0;
    for (int64_t ch = 0; ch < C; ch++)
      for (int64_t ph = 0; ph < OH; ph++)
        for (int64_t pw = 0; pw < OW; pw++) {
          double acc = 0.0;
          int first = 1;
          for (int64_t iy = 0; iy < gh; iy++)
            for (int64_t ix = 0; ix < gw; ix++) {
              double y = sy + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
              double x = sx + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
              double wv[4] = {0, 0, 0, 0};
              if (y >= -1.0 && y <= (double)H && x >= -1.0 && x <= (double)W) {
                int64_t y0, x0, y1, x1;
                if (y < 0) y = 0;
                if (x < 0) x = 0;
                y0 = (int64_t)y;
                x0 = (int64_t)x;
                if (y0 >= H - 1) y0 = y1 = H - 1, y = (double)y0;
                else y1 = y0 + 1;
                if (x0 >= W - 1) x0 = x1 = W - 1, x = (double)x0;
                else x1 = x0 + 1;
                double ly = y - (double)y0, lx = x - (double)x0, hy = 1.0 - ly, hx = 1.0 - lx;
                int64_t base = (b * C + ch) * H * W;
                wv[0] = hy * hx * kload_f(X->dtype, in[0], base + y0 * W + x0);
                wv[1] = hy * lx * kload_f(X->dtype, in[0], base + y0 * W + x1);
                wv[2] = ly * hx * kload_f(X->dtype, in[0], base + y1 * W + x0);
                wv[3] = ly * lx * kload_f(X->dtype, in[0], base + y1 * W + x1);
              }
              if (!is_max) {
                acc += wv[0] + wv[1] + wv[2] + wv[3];
                continue;
              }
              for (int k = 0; k < 4; k++) {
                if (first || wv[k] > acc) acc = wv[k];
                first = 0;
              }
            }
          kstore_f(Y->dtype, out[0], ((r * C + ch) * OH + ph) * OW + pw, is_max ? acc : acc / cnt);
        }
  }
  return 0;
}
