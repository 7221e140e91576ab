/*
 * emit_image.c - C emission for the image group: Resize/Upsample,
 * DepthToSpace/SpaceToDepth, ConvTranspose, LpPool, GlobalLpPool,
 * MaxUnpool, GridSample and the normalizations.
 *
 * Every shape and attribute is static, so what can be decided at compile
 * time is: Resize's coordinate transformation is evaluated here, per axis,
 * into static tables of source indices and weights (only the taps with a
 * nonzero weight are kept), and the generated loop is a weighted gather.
 * DepthToSpace/SpaceToDepth are strided copies through kl_copy.  The
 * normalizations share one writer (norm_emit) that walks the kept axes
 * outside and the normalized axes inside, in three passes (mean, variance,
 * output), in the tensor's own float type with blocked sums (kernels.h).  2-D float32
 * ConvTranspose runs on the GEMM core by output phases (kl_convt.c); other 2-D ones are a
 * GEMM into arena scratch plus a col2im scatter-add (conv_transpose_fast);
 * other ranks scatter each input element into its output window.  Literal
 * bounds everywhere.
 */
#include "emit_image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "../passes/plan.h"
#include "kernels.h"
#include "kl_convt.h"
#include "kl_copy.h"

#define SP_MAX (IR_MAX_RANK - 2)

static int need_float_out(const ir_node *n) {
  ir_dtype dt = n->out[0]->dtype;
  if (dt != IR_F32 && dt != IR_F64)
    return op_fail(n, "the C backend supports this op on float32 and float64, not %s", ir_dtype_name(dt));
  return 0;
}

static const char *lit(char *buf, size_t n, ir_dtype dt, double v) { return emit_literal(buf, n, dt, v); }

static int get_ints(const ir_node *n, const char *name, int cnt, int64_t *v) {
  const int64_t *a;
  if (ir_attr_ints(n, name, &a) != cnt) return op_fail(n, "%s was not resolved by shape inference", name);
  memcpy(v, a, sizeof(int64_t) * cnt);
  return 0;
}

/* A table of weights in dt's C type (float for float32: no double on the
 * hot path), computed here in double and rounded once. */
static void table_w(emit_ctx *e, const char *name, const double *v, int64_t cnt, ir_dtype dt) {
  char line[512], b[64];
  size_t len = 0;
  emit_line(e, "static const %s %s[%lld] = {", ir_dtype_ctype(dt), name, (long long)cnt);
  emit_indent(e, 1);
  for (int64_t i = 0; i < cnt; i++) {
    len += (size_t)snprintf(line + len, sizeof line - len, "%s,", lit(b, sizeof b, dt, v[i]));
    if (i % 4 == 3 || i == cnt - 1) emit_line(e, "%s", line), len = 0;
    else line[len++] = ' ', line[len] = 0;
  }
  emit_indent(e, -1);
  emit_line(e, "};");
}

/* "((v0) * d1 + v1) * d2 + v2": the C-order flat index of r coordinates. */
static void flat_expr(char *buf, size_t n, int r, const char *const *v, const int64_t *dims) {
  size_t l = 0;
  buf[0] = 0;
  for (int t = 1; t < r && l + 1 < n; t++) buf[l++] = '(', buf[l] = 0;
  l += (size_t)snprintf(buf + l, n - l, "%s", v[0]);
  for (int t = 1; t < r && l < n; t++)
    l += (size_t)snprintf(buf + l, n - l, ") * %lld + %s", (long long)dims[t], v[t]);
}

/* ---- Resize ---------------------------------------------------------------------- */

/* One axis's taps for every output position: K slots each (unused slots
 * index 0 with weight 0), and whether the position extrapolates. */
typedef struct rs_tab {
  int64_t out, K;
  int64_t *idx;
  double *w;
  unsigned char *valid;
  int identity, unit_w, any_invalid;
} rs_tab;

static double cubic_a(double A, double t, int k) {
  double u = 1 - t;
  switch (k) {
  case 0: return ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  case 1: return ((A + 2) * t - (A + 3)) * t * t + 1;
  case 2: return ((A + 2) * u - (A + 3)) * u * u + 1;
  default: return ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A;
  }
}

static int64_t clamp64(int64_t v, int64_t hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

/* Source coordinate of output position o (see the ONNX Resize spec); sets
 * *ext when tf_crop_and_resize falls outside the input. */
static double rs_coord(const char *ctm, double o, int64_t in, int64_t out, double s, const double *roi, int *ext) {
  double lw = s * (double)in, x;
  *ext = 0;
  if (!strcmp(ctm, "half_pixel")) return (o + 0.5) / s - 0.5;
  if (!strcmp(ctm, "half_pixel_symmetric"))
    return (double)in / 2 * (1 - (double)out / lw) + (o + 0.5) / s - 0.5;
  if (!strcmp(ctm, "pytorch_half_pixel")) return lw > 1 ? (o + 0.5) / s - 0.5 : 0.0;
  if (!strcmp(ctm, "align_corners")) return lw == 1 ? 0.0 : o * (double)(in - 1) / (lw - 1);
  if (!strcmp(ctm, "asymmetric")) return o / s;
  if (!strcmp(ctm, "tf_half_pixel_for_nn")) return (o + 0.5) / s;
  /* tf_crop_and_resize */
  x = lw > 1 ? roi[0] * (double)(in - 1) + o * (roi[1] - roi[0]) * (double)(in - 1) / (lw - 1)
             : 0.5 * (roi[0] + roi[1]) * (double)(in - 1);
  *ext = x < 0 || x > (double)(in - 1);
  return x;
}

static void rs_build(const ir_node *n, int a, rs_tab *t) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const char *mode = ir_attr_string(n, "_mode", "nearest"), *ctm = ir_attr_string(n, "_ctm", "half_pixel");
  const char *nm = ir_attr_string(n, "_nearest", "round_prefer_floor");
  const double *sc, *roi = NULL;
  int r = X->rank, ex = (int)ir_attr_int(n, "exclude_outside", 0);
  double A = ir_attr_float(n, "cubic_coeff_a", -0.75), rr[2] = {0, 1};
  int64_t in = X->shape[a], out = Y->shape[a], full = !strcmp(mode, "nearest") ? 1 : !strcmp(mode, "linear") ? 2 : 4;
  ir_attr_floats(n, "_scales", &sc);
  if (ir_attr_floats(n, "_roi", &roi) == 2 * r) rr[0] = roi[a], rr[1] = roi[r + a];
  t->out = out;
  t->idx = ir_alloc(sizeof(int64_t) * (size_t)(out * full));
  t->w = ir_alloc(sizeof(double) * (size_t)(out * full));
  t->valid = ir_alloc((size_t)out);
  t->K = 0;
  for (int64_t o = 0; o < out; o++) {
    int extr, k, cnt = 0;
    int64_t ti[4];
    double tw[4];
    double x = rs_coord(ctm, (double)o, in, out, sc[a], rr, &extr), fl = floor(x), fr = x - fl;
    t->valid[o] = !extr;
    if (extr) continue;
    if (full == 1) {
      int64_t i;
      if (!strcmp(nm, "simple")) i = (int64_t)(sc[a] < 1 ? ceil(x) : fl);
      else if (fr == 0 || !strcmp(nm, "floor")) i = (int64_t)fl;
      else if (!strcmp(nm, "ceil")) i = (int64_t)fl + 1;
      else if (!strcmp(nm, "round_prefer_ceil")) i = (int64_t)fl + (fr >= 0.5);
      else i = (int64_t)fl + (fr > 0.5);
      ti[0] = clamp64(i, in - 1), tw[0] = 1;
    } else if (full == 2) {
      ti[0] = clamp64((int64_t)fl, in - 1), tw[0] = 1 - fr;
      ti[1] = clamp64((int64_t)fl + 1, in - 1), tw[1] = fr;
    } else {
      int64_t i0 = (int64_t)fl;
      double sum = 0;
      if (fr == 0) i0--, fr = 1;   /* ONNX's reference takes the ratio in (0, 1] */
      for (k = 0; k < 4; k++) {
        int64_t i = i0 - 1 + k;
        tw[k] = (ex && (i < 0 || i >= in)) ? 0 : cubic_a(A, fr, k);
        ti[k] = clamp64(i, in - 1);
        sum += tw[k];
      }
      if (ex)
        for (k = 0; k < 4; k++) tw[k] /= sum;
    }
    /* keep the taps with a weight, merging those that clamp to one index */
    for (k = 0; k < full; k++) {
      int j;
      if (tw[k] == 0) continue;
      for (j = 0; j < cnt && t->idx[o * full + j] != ti[k]; j++) {}
      if (j == cnt) t->idx[o * full + cnt] = ti[k], t->w[o * full + cnt++] = tw[k];
      else t->w[o * full + j] += tw[k];
    }
    if (cnt > t->K) t->K = cnt;
  }
  if (t->K == 0) t->K = 1;
  /* compact rows from `full` slots to K */
  for (int64_t o = 0; o < out; o++)
    for (int64_t k = 0; k < t->K; k++) {
      int64_t from = o * full + k;
      int used = k < full && t->valid[o] && (k == 0 || t->w[from] != 0);
      t->idx[o * t->K + k] = used ? t->idx[from] : 0;
      t->w[o * t->K + k] = used ? t->w[from] : 0;
    }
  t->identity = t->K == 1 && in == out;
  t->unit_w = t->K == 1;
  t->any_invalid = 0;
  for (int64_t o = 0; o < out; o++) {
    if (!t->valid[o]) t->any_invalid = 1;
    if (t->w[o * t->K] != 1 && t->valid[o]) t->unit_w = 0;
    if (t->idx[o * t->K] != o || t->w[o * t->K] != 1 || !t->valid[o]) t->identity = 0;
  }
}

int emit_image_resize(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  ir_dtype dt = Y->dtype;
  int r = X->rank, a;
  rs_tab tab[IR_MAX_RANK];
  int64_t st[IR_MAX_RANK];
  char nm[48], b[64], idx_expr[1024], w_expr[1024], cond[512];
  const char *ov[IR_MAX_RANK], *tv[IR_MAX_RANK];
  if (need_float_out(n)) return -1;
  if (ir_numel(Y) == 0) return 0;
  if (ir_attr_floats(n, "_scales", (const double **)&tab[0].w) != r)
    return op_fail(n, "scales were not resolved by shape inference");
  kl_strides(r, X->shape, st);
  kl_block(e);
  for (a = 0; a < r; a++) {
    rs_build(n, a, &tab[a]);
    if (tab[a].identity) continue;
    snprintf(nm, sizeof nm, "ri%d", a);
    emit_int_table(e, "int32_t", nm, tab[a].idx, tab[a].out * tab[a].K, 8);
    if (!tab[a].unit_w) {
      snprintf(nm, sizeof nm, "rw%d", a);
      table_w(e, nm, tab[a].w, tab[a].out * tab[a].K, dt);
    }
    if (tab[a].any_invalid) {
      int64_t *v = ir_alloc(sizeof(int64_t) * (size_t)tab[a].out);
      for (int64_t o = 0; o < tab[a].out; o++) v[o] = tab[a].valid[o];
      snprintf(nm, sizeof nm, "rv%d", a);
      emit_int_table(e, "int32_t", nm, v, tab[a].out, 8);
      free(v);
    }
  }
  emit_line(e, "int64_t yo = 0;");
  for (a = 0; a < r; a++) ov[a] = kl_for(e, Y->shape[a]);
  cond[0] = 0;
  for (a = 0; a < r; a++)
    if (tab[a].any_invalid) {
      size_t l = strlen(cond);
      snprintf(cond + l, sizeof cond - l, "%s!rv%d[%s]", l ? " || " : "", a, ov[a]);
    }
  if (cond[0]) {
    emit_line(e, "if (%s) {", cond);
    emit_line(e, "  %s[yo++] = %s;", emit_out(e, 0), lit(b, sizeof b, dt, ir_attr_float(n, "extrapolation_value", 0)));
    emit_line(e, "  continue;");
    emit_line(e, "}");
  }
  emit_line(e, "%s acc = 0;", ir_dtype_ctype(dt));   /* at most 4 taps an axis: no blocked sum needed */
  int opened = 0;
  for (a = 0; a < r; a++) {
    char slot[96];
    tv[a] = NULL;
    if (tab[a].identity) continue;
    if (tab[a].K > 1) {
      tv[a] = kl_for(e, tab[a].K);
      opened++;
      snprintf(slot, sizeof slot, "%s * %lld + %s", ov[a], (long long)tab[a].K, tv[a]);
    } else {
      snprintf(slot, sizeof slot, "%s", ov[a]);
    }
    emit_line(e, "const int64_t j%d = %s;", a, slot);
  }
  idx_expr[0] = w_expr[0] = 0;
  for (a = 0; a < r; a++) {
    size_t l = strlen(idx_expr), lw = strlen(w_expr);
    if (tab[a].identity) snprintf(idx_expr + l, sizeof idx_expr - l, "%s%s * %lld", l ? " + " : "", ov[a], (long long)st[a]);
    else snprintf(idx_expr + l, sizeof idx_expr - l, "%sri%d[j%d] * %lld", l ? " + " : "", a, a, (long long)st[a]);
    if (!tab[a].identity && !tab[a].unit_w)
      snprintf(w_expr + lw, sizeof w_expr - lw, "rw%d[j%d] * ", a, a);
  }
  emit_line(e, "acc += %s%s[%s];", w_expr, emit_in(e, 0), idx_expr);
  while (opened--) kl_end(e);
  emit_line(e, "%s[yo++] = (%s)acc;", emit_out(e, 0), ir_dtype_ctype(dt));
  for (a = 0; a < r; a++) kl_end(e);
  kl_end(e);
  for (a = 0; a < r; a++) free(tab[a].idx), free(tab[a].w), free(tab[a].valid);
  return 0;
}

/* ---- DepthToSpace / SpaceToDepth (strided copies) --------------------------------- */

static int copy6(emit_ctx *e, const ir_node *n, const int64_t *dims, const int64_t *src_st) {
  kl_copy cp;
  int64_t dst_st[6];
  kl_strides(6, dims, dst_st);
  kl_copy_init(&cp, emit_out(e, 0), emit_in(e, 0), n->out[0]->dtype);
  for (int k = 0; k < 6; k++)
    if (kl_copy_axis(&cp, dims[k], dst_st[k], src_st[k], NULL)) return op_fail(n, "%s", ir_last_error());
  return kl_copy_emit(e, &cp) ? op_fail(n, "%s", ir_last_error()) : 0;
}

int emit_image_depth_to_space(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  int64_t b = ir_attr_int(n, "blocksize", 1), C = X->shape[1], H = X->shape[2], W = X->shape[3], Co = C / (b * b);
  int crd = !strcmp(ir_attr_string(n, "mode", "DCR"), "CRD");
  /* y[n, c, h*b+i, w*b+j] walked as (n, c, h, i, w, j) */
  int64_t dims[6] = {X->shape[0], Co, H, b, W, b};
  int64_t dcr[6] = {C * H * W, H * W, W, b * Co * H * W, 1, Co * H * W};
  int64_t crdst[6] = {C * H * W, b * b * H * W, W, b * H * W, 1, H * W};
  if (ir_numel(n->out[0]) == 0) return 0;
  return copy6(e, n, dims, crd ? crdst : dcr);
}

int emit_image_space_to_depth(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  int64_t b = ir_attr_int(n, "blocksize", 1), C = X->shape[1], H = X->shape[2], W = X->shape[3];
  /* y[n, (i*b+j)*C + c, h, w] = x[n, c, h*b+i, w*b+j], walked as (n, i, j, c, h, w) */
  int64_t dims[6] = {X->shape[0], b, b, C, H / b, W / b};
  int64_t src[6] = {C * H * W, W, 1, H * W, b * W, b};
  if (ir_numel(n->out[0]) == 0) return 0;
  return copy6(e, n, dims, src);
}

/* ---- ConvTranspose ------------------------------------------------------------------ */

/* The fast path: 2-D, any group/stride/pad/dilation/output_padding, per
 * (image, group, tile of input rows, tile of columns) a GEMM into arena
 * scratch, col[r, p] = sum_c w[c, r] x[c, p] over r = (m, kh, kw) and the
 * tile's input pixels p, then col2im: each col[r, p] is added at the
 * output position tap r of pixel p reaches.  The GEMM is a 4x16 register
 * tile over k = c, whose inner 16-wide loops vectorize; the col2im rows
 * are clipped to the output once per (r, input row).  The scratch is at
 * most CT_BUDGET bytes, or the planner's cap (PLAN_SCRATCH_CAP_ATTR: the
 * bytes free under the activations' peak) but not below CT_FLOOR, unless
 * one input row times 4 taps alone is larger. */
#define CT_BUDGET 65536
#define CT_FLOOR 32768
typedef struct ct_plan {
  int64_t R, HW, th, rt;   /* rows (Mg*kh*kw), input pixels, input rows a tile, col rows a tile */
} ct_plan;

static int ct_fast(const ir_node *n, ct_plan *pl) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const int64_t *k;
  if (X->rank != 4 || (Y->dtype != IR_F32 && Y->dtype != IR_F64) || !ir_shape_known(X) || !ir_shape_known(Y) ||
      ir_numel(Y) == 0 || ir_numel(X) == 0 || ir_attr_ints(n, "kernel_shape", &k) != 2)
    return 0;
  int64_t sz = Y->dtype == IR_F32 ? 4 : 8, budget = CT_BUDGET / sz, H = X->shape[2], W = X->shape[3];
  int64_t cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1);
  if (cap >= 0 && cap < CT_FLOOR) cap = CT_FLOOR;   /* smaller tiles cost more than the bytes save */
  if (cap >= 0 && cap / sz < budget) budget = cap / sz;
  int64_t grp = ir_attr_int(n, "group", 1), R = Y->shape[1] / grp * k[0] * k[1];
  pl->R = R, pl->HW = H * W;
  if (R * W <= budget) {
    pl->rt = R;
    pl->th = budget / (R * W);
    if (pl->th > H) pl->th = H;
    /* tiles of whole 16-pixel register blocks where some smaller row count gives them */
    for (int64_t t = pl->th; t > 1 && pl->th < H; t--)
      if (t * W % 16 == 0) {
        pl->th = t;
        break;
      }
  } else {
    pl->th = 1;
    pl->rt = budget / W / 4 * 4;
    if (pl->rt < 4) pl->rt = 4;
    if (pl->rt > R) pl->rt = R;
  }
  return 1;
}

int64_t emit_image_conv_transpose_scratch(const ir_node *n) {
  ct_plan pl;
  kl_convt ct;
  if (kl_convt_lower(n, &ct) == 0) return kl_convt_scratch_bytes(&ct);
  if (!ct_fast(n, &pl)) return 0;
  return pl.rt * pl.th * n->in[0]->shape[3] * (n->out[0]->dtype == IR_F32 ? 4 : 8);
}

/* col[r * ldc + p] = sum_{c < K} w[c * ldw + r] * x[c * ldx + p], r < R, p < P. */
static const char ct_gemm_src[] =
    "static void modelc_ct_gemm_$T(int64_t R, int64_t P, int64_t K, const $T *restrict w, int64_t ldw,\n"
    "                           const $T *restrict x, int64_t ldx, $T *restrict col, int64_t ldc) {\n"
    "  const int64_t R4 = R / 4 * 4, P16 = P / 16 * 16;\n"
    "  int64_t r, p, c, i, j;\n"
    "  for (r = 0; r < R4; r += 4) {\n"
    "    for (p = 0; p < P16; p += 16) {\n"
    "      $T a0[16], a1[16], a2[16], a3[16];\n"
    "      for (j = 0; j < 16; j++) a0[j] = 0, a1[j] = 0, a2[j] = 0, a3[j] = 0;\n"
    "      for (c = 0; c < K; c++) {\n"
    "        const $T *restrict xc = x + c * ldx + p, *restrict wc = w + c * ldw + r;\n"
    "        const $T w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3];\n"
    "        for (j = 0; j < 16; j++) {\n"
    "          a0[j] += w0 * xc[j];\n"
    "          a1[j] += w1 * xc[j];\n"
    "          a2[j] += w2 * xc[j];\n"
    "          a3[j] += w3 * xc[j];\n"
    "        }\n"
    "      }\n"
    "      for (j = 0; j < 16; j++) {\n"
    "        col[r * ldc + p + j] = a0[j];\n"
    "        col[(r + 1) * ldc + p + j] = a1[j];\n"
    "        col[(r + 2) * ldc + p + j] = a2[j];\n"
    "        col[(r + 3) * ldc + p + j] = a3[j];\n"
    "      }\n"
    "    }\n"
    "    for (i = r; i < r + 4; i++)\n"
    "      for (j = P16; j < P; j++) col[i * ldc + j] = 0;\n"
    "    for (c = 0; c < K; c++)\n"
    "      for (i = r; i < r + 4; i++) {\n"
    "        const $T wv = w[c * ldw + i];\n"
    "        for (j = P16; j < P; j++) col[i * ldc + j] += wv * x[c * ldx + j];\n"
    "      }\n"
    "  }\n"
    "  for (r = R4; r < R; r++) {\n"
    "    for (j = 0; j < P; j++) col[r * ldc + j] = 0;\n"
    "    for (c = 0; c < K; c++) {\n"
    "      const $T wv = w[c * ldw + r];\n"
    "      for (j = 0; j < P; j++) col[r * ldc + j] += wv * x[c * ldx + j];\n"
    "    }\n"
    "  }\n"
    "}\n";

static void ct_helper(emit_ctx *e, const char *T) {
  char key[64], src[sizeof ct_gemm_src + 256];
  size_t o = 0;
  for (const char *c = ct_gemm_src; *c && o + 8 < sizeof src; c++) {
    if (*c == '$' && c[1] == 'T') o += (size_t)snprintf(src + o, sizeof src - o, "%s", T), c++;
    else src[o++] = *c;
  }
  src[o] = 0;
  snprintf(key, sizeof key, "modelc_ct_gemm_%s", T);
  emit_helper(e, key, src);
}

static int conv_transpose_fast(emit_ctx *e, const ir_node *n, const ct_plan *pl) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const char *T = ir_dtype_ctype(Y->dtype), *x = emit_in(e, 0), *w = emit_in(e, 1), *y = emit_out(e, 0);
  const char *bias = n->n_in > 2 && n->in[2] ? emit_in(e, 2) : NULL;
  int64_t k[2], s[2], d[2], p[4], grp = ir_attr_int(n, "group", 1);
  if (get_ints(n, "kernel_shape", 2, k) || get_ints(n, "strides", 2, s) || get_ints(n, "dilations", 2, d) ||
      get_ints(n, "pads", 4, p))
    return -1;
  long long N = X->shape[0], C = X->shape[1], H = X->shape[2], W = X->shape[3], M = Y->shape[1],
            OH = Y->shape[2], OW = Y->shape[3], Cg = C / grp, Mg = M / grp, KW = k[1], KS = k[0] * k[1],
            R = pl->R, HW = pl->HW, TH = pl->th, RT = pl->rt, OSP = OH * OW, G = grp;
  char z[64];
  ct_helper(e, T);
  emit_kernel(e, "convt gemm+col2im");
  lit(z, sizeof z, Y->dtype, 0);
  emit_line(e, "/* per image and group: cols[%lld taps, pixels] = W^T x X over %lld channels in scratch, then col2im */", R, Cg);
  emit_line(e, "{");
  emit_indent(e, 1);
  emit_line(e, "%s *restrict col = (%s *)(void *)%s;", T, T, emit_scratch(e));
  emit_line(e, "int64_t b, g, o, h0, r0, r, i, iw;");
  emit_line(e, "for (b = 0; b < %lld; b++)", N * M);
  if (bias)
    emit_line(e, "  for (o = 0; o < %lld; o++) %s[b * %lld + o] = %s[b %% %lld];", OSP, y, OSP, bias, M);
  else
    emit_line(e, "  for (o = 0; o < %lld; o++) %s[b * %lld + o] = %s;", OSP, y, OSP, z);
  emit_line(e, "for (b = 0; b < %lld; b++)", N);
  emit_line(e, "  for (g = 0; g < %lld; g++)", G);
  emit_line(e, "    for (h0 = 0; h0 < %lld; h0 += %lld)", H, TH);
  emit_line(e, "      for (r0 = 0; r0 < %lld; r0 += %lld) {", R, RT);
  emit_indent(e, 4);
  emit_line(e, "const int64_t th = %lld - h0 < %lld ? %lld - h0 : %lld, rt = %lld - r0 < %lld ? %lld - r0 : %lld;",
            H, TH, H, TH, R, RT, R, RT);
  emit_line(e, "modelc_ct_gemm_%s(rt, th * %lld, %lld, %s + g * %lld + r0, %lld, %s + (b * %lld + g * %lld) * %lld + h0 * %lld,"
            " %lld, col, th * %lld);",
            T, W, Cg, w, Cg * R, R, x, C, Cg, HW, W, HW, W);
  emit_line(e, "for (r = 0; r < rt; r++) {");
  emit_indent(e, 1);
  emit_line(e, "const int64_t mm = (r0 + r) / %lld, ki = (r0 + r) %% %lld / %lld, kj = (r0 + r) %% %lld;", (long long)KS,
            (long long)KS, KW, KW);
  emit_line(e, "const int64_t lo = %lld - kj * %lld, hi = %lld - kj * %lld;", (long long)p[1], (long long)d[1],
            OW - 1 + p[1], (long long)d[1]);
  emit_line(e, "const int64_t iw0 = lo > 0 ? (lo + %lld) / %lld : 0, iw1t = hi < 0 ? 0 : hi / %lld + 1;",
            (long long)s[1] - 1, (long long)s[1], (long long)s[1]);
  emit_line(e, "const int64_t iw1 = iw1t < %lld ? iw1t : %lld;", W, W);
  emit_line(e, "const int64_t yb = (b * %lld + g * %lld + mm) * %lld + kj * %lld - %lld;", M, Mg, OSP,
            (long long)d[1], (long long)p[1]);
  emit_line(e, "const %s *restrict cr = col + r * th * %lld;", T, W);
  emit_line(e, "for (i = 0; i < th; i++) {");
  emit_indent(e, 1);
  emit_line(e, "const int64_t oh = (h0 + i) * %lld + ki * %lld - %lld;", (long long)s[0], (long long)d[0],
            (long long)p[0]);
  emit_line(e, "if (oh < 0 || oh >= %lld) continue;", OH);
  emit_line(e, "for (iw = iw0; iw < iw1; iw++) %s[yb + oh * %lld + iw * %lld] += cr[i * %lld + iw];", y, OW, (long long)s[1], W);
  emit_indent(e, -1);
  emit_line(e, "}");
  emit_indent(e, -1);
  emit_line(e, "}");
  emit_indent(e, -4);
  emit_line(e, "      }");
  emit_indent(e, -1);
  emit_line(e, "}");
  return 0;
}

int emit_image_conv_transpose(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  ct_plan pl;
  kl_convt ct;
  if (kl_convt_lower(n, &ct) == 0) return kl_convt_render(e, n, &ct);
  if (ct_fast(n, &pl)) return conv_transpose_fast(e, n, &pl);
  ir_dtype dt = Y->dtype;
  const char *T = ir_dtype_ctype(dt), *x = emit_in(e, 0), *w = emit_in(e, 1), *y = emit_out(e, 0);
  const char *bias = n->n_in > 2 && n->in[2] ? emit_in(e, 2) : NULL;
  int r = X->rank - 2, t;
  int64_t k[SP_MAX], s[SP_MAX], d[SP_MAX], p[2 * SP_MAX], grp = ir_attr_int(n, "group", 1);
  int64_t N = X->shape[0], C = X->shape[1], M = Y->shape[1], Cg, Mg, isp, osp, ksp;
  char ix[512], kx[512], ox[512];
  const char *iv[SP_MAX] = {0}, *kv[SP_MAX] = {0};
  if (need_float_out(n)) return -1;
  if (get_ints(n, "kernel_shape", r, k) || get_ints(n, "strides", r, s) || get_ints(n, "dilations", r, d) ||
      get_ints(n, "pads", 2 * r, p))
    return -1;
  Cg = C / grp, Mg = M / grp;
  isp = ir_numel_dims(r, X->shape + 2), osp = ir_numel_dims(r, Y->shape + 2), ksp = ir_numel_dims(r, k);
  if (ir_numel(Y) == 0) return 0;
  kl_block(e);
  /* y = bias (or 0), then every x[b, ch, i] adds x * w[ch, m, kk] at i*s + kk*d - pb */
  {
    const char *bb = kl_for(e, N), *m = kl_for(e, M), *o = kl_for(e, osp);
    char bv[64];
    if (bias) snprintf(bv, sizeof bv, "%s[%s]", bias, m);
    else lit(bv, sizeof bv, dt, 0);
    emit_line(e, "%s[(%s * %lld + %s) * %lld + %s] = %s;", y, bb, (long long)M, m, (long long)osp, o, bv);
    kl_end(e), kl_end(e), kl_end(e);
  }
  const char *bb = kl_for(e, N), *ch = kl_for(e, C);
  emit_line(e, "const int64_t g = %s / %lld;", ch, (long long)Cg);
  for (t = 0; t < r; t++) iv[t] = kl_for(e, X->shape[2 + t]);
  flat_expr(ix, sizeof ix, r, iv, X->shape + 2);
  emit_line(e, "const %s xv = %s[(%s * %lld + %s) * %lld + %s];", T, x, bb, (long long)C, ch, (long long)isp, ix);
  for (t = 0; t < r; t++) {
    kv[t] = kl_for(e, k[t]);
    emit_line(e, "const int64_t q%d = %s * %lld + %s * %lld - %lld;", t, iv[t], (long long)s[t], kv[t],
              (long long)d[t], (long long)p[t]);
    emit_line(e, "if (q%d < 0 || q%d >= %lld) continue;", t, t, (long long)Y->shape[2 + t]);
  }
  {
    const char *qv[SP_MAX] = {"q0", "q1", "q2", "q3", "q4", "q5"};
    flat_expr(kx, sizeof kx, r, kv, k);
    flat_expr(ox, sizeof ox, r, qv, Y->shape + 2);
  }
  const char *m = kl_for(e, Mg);
  emit_line(e, "%s[(%s * %lld + g * %lld + %s) * %lld + %s] += xv * %s[(%s * %lld + %s) * %lld + %s];", y, bb,
            (long long)M, (long long)Mg, m, (long long)osp, ox, w, ch, (long long)Mg, m, (long long)ksp, kx);
  kl_end(e);
  for (t = 0; t < 2 * r; t++) kl_end(e);
  kl_end(e), kl_end(e);
  kl_end(e);
  return 0;
}

/* ---- LpPool / GlobalLpPool ---------------------------------------------------------- */

/* C statements for |v|^p accumulation and the p-th root, in dt's float type. */
static void lp_exprs(double p, ir_dtype dt, char *acc, size_t na, char *root, size_t nr) {
  char b[64], b2[64];
  const char *f = dt == IR_F64 ? "" : "f";
  if (p == 1) {
    snprintf(acc, na, "s += fabs%s(v);", f);
    snprintf(root, nr, "s");
  } else if (p == 2) {
    snprintf(acc, na, "s += v * v;");
    snprintf(root, nr, "sqrt%s(s)", f);
  } else {
    snprintf(acc, na, "s += pow%s(fabs%s(v), %s);", f, f, lit(b, sizeof b, dt, p));
    snprintf(root, nr, "pow%s(s, %s)", f, lit(b2, sizeof b2, dt, 1.0 / p));
  }
}

int emit_image_lp_pool(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  int r = X->rank - 2, t;
  int64_t k[SP_MAX], s[SP_MAX], d[SP_MAX], p[2 * SP_MAX];
  char acc[160], root[160], ix[512], ox[512];
  const char *ov[SP_MAX] = {0}, *kv[SP_MAX] = {0};
  if (need_float_out(n)) return -1;
  if (get_ints(n, "kernel_shape", r, k) || get_ints(n, "strides", r, s) || get_ints(n, "dilations", r, d) ||
      get_ints(n, "pads", 2 * r, p))
    return -1;
  if (ir_numel(Y) == 0) return 0;
  const char *T = ir_dtype_ctype(Y->dtype);
  lp_exprs(ir_attr_float(n, "p", 2.0), Y->dtype, acc, sizeof acc, root, sizeof root);
  int64_t isp = ir_numel_dims(r, X->shape + 2), osp = ir_numel_dims(r, Y->shape + 2);
  int64_t blk = kl_sum_block(Y->dtype, ir_numel_dims(r, k));
  kl_block(e);
  const char *pl = kl_for(e, X->shape[0] * X->shape[1]);
  for (t = 0; t < r; t++) ov[t] = kl_for(e, Y->shape[2 + t]);
  kl_sum_decl(e, T, "s", "0", blk);
  for (t = 0; t < r; t++) {
    kv[t] = kl_for(e, k[t]);
    emit_line(e, "const int64_t q%d = %s * %lld - %lld + %s * %lld;", t, ov[t], (long long)s[t], (long long)p[t],
              kv[t], (long long)d[t]);
    emit_line(e, "if (q%d < 0 || q%d >= %lld) continue;   /* padding adds 0 */", t, t, (long long)X->shape[2 + t]);
  }
  {
    const char *qv[SP_MAX] = {"q0", "q1", "q2", "q3", "q4", "q5"};
    flat_expr(ix, sizeof ix, r, qv, X->shape + 2);
    flat_expr(ox, sizeof ox, r, ov, Y->shape + 2);
  }
  emit_line(e, "const %s v = %s[%s * %lld + %s];", T, emit_in(e, 0), pl, (long long)isp, ix);
  emit_line(e, "%s", acc);
  kl_sum_step(e, "s", blk);
  for (t = 0; t < r; t++) kl_end(e);
  kl_sum_done(e, "s", blk);
  emit_line(e, "%s[%s * %lld + %s] = %s;", emit_out(e, 0), pl, (long long)osp, ox, root);
  for (t = 0; t < r; t++) kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_image_global_lp_pool(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  char acc[160], root[160];
  int64_t NC = X->shape[0] * X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2);
  if (need_float_out(n)) return -1;
  if (NC == 0) return 0;
  const char *T = ir_dtype_ctype(Y->dtype);
  int64_t blk = kl_sum_block(Y->dtype, S);
  lp_exprs(ir_attr_float(n, "p", 2.0), Y->dtype, acc, sizeof acc, root, sizeof root);
  const char *pl = kl_for(e, NC);
  kl_sum_decl(e, T, "s", "0", blk);
  const char *i = kl_for(e, S);
  emit_line(e, "const %s v = %s[%s * %lld + %s];", T, emit_in(e, 0), pl, (long long)S, i);
  emit_line(e, "%s", acc);
  kl_sum_step(e, "s", blk);
  kl_end(e);
  kl_sum_done(e, "s", blk);
  emit_line(e, "%s[%s] = %s;", emit_out(e, 0), pl, root);
  kl_end(e);
  return 0;
}

/* ---- MaxUnpool ------------------------------------------------------------------------ */

int emit_image_max_unpool(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const int64_t *ish;
  char b[64];
  int64_t total = ir_numel(Y);
  int r = Y->rank, same = 1;
  if (need_float_out(n)) return -1;
  if (ir_attr_ints(n, "_index_shape", &ish) != r) return op_fail(n, "index shape was not resolved by shape inference");
  for (int k = 0; k < r; k++) same &= ish[k] == Y->shape[k];
  kl_fill_emit(e, emit_out(e, 0), total, lit(b, sizeof b, Y->dtype, 0));
  if (ir_numel(X) == 0 || total == 0) return 0;
  const char *i = kl_for(e, ir_numel(X));
  emit_line(e, "int64_t at = %s[%s];", emit_in(e, 1), i);
  /* an index outside the output is dropped rather than written wild */
  emit_line(e, "if (at < 0 || at >= %lld) continue;", (long long)ir_numel_dims(r, ish));
  if (!same) {
    /* re-address the coordinates of the default shape in Y's */
    emit_line(e, "int64_t yi = 0, mul = 1;");
    for (int k = r - 1; k >= 0; k--) {
      emit_line(e, "{ const int64_t q = at %% %lld; at /= %lld; if (q >= %lld) continue; yi += q * mul; mul *= %lld; }",
                (long long)ish[k], (long long)ish[k], (long long)Y->shape[k], (long long)Y->shape[k]);
    }
    emit_line(e, "at = yi;");
  }
  emit_line(e, "%s[at] = %s[%s];", emit_out(e, 0), emit_in(e, 0), i);
  kl_end(e);
  return 0;
}

/* ---- GridSample ------------------------------------------------------------------------ */

/* Written once for float and double (kernels.h: "$T", "@"). */
static const char gs_helpers[] =
    "/* GridSample (PyTorch grid_sample semantics): coordinate padding and cubic weights. */\n"
    "static $T mc_gs_reflect@($T v, $T lo2, $T hi2) {\n"
    "  if (lo2 == hi2) return 0;\n"
    "  const $T mn = lo2 / 2, span = (hi2 - lo2) / 2;\n"
    "  v = fabs@(v - mn);\n"
    "  const $T extra = fmod@(v, span);\n"
    "  const int64_t flips = (int64_t)floor@(v / span);\n"
    "  return flips % 2 == 0 ? extra + mn : span - extra + mn;\n"
    "}\n"
    "static $T mc_gs_pad@($T v, int64_t size, int pad, int ac) {\n"
    "  const $T hi = ($T)(size - 1);\n"
    "  if (pad == 2) v = ac ? mc_gs_reflect@(v, 0, 2 * hi) : mc_gs_reflect@(v, -1, 2 * ($T)size - 1);\n"
    "  if (pad >= 1) v = v < 0 ? 0 : (v > hi ? hi : v);\n"
    "  return v;\n"
    "}\n";

static const char gs_cubic_helper[] =
    "static void mc_gs_cubic@($T t, $T *w) {\n"
    "  const $T A = -0.75@, u = t + 1, v = 1 - t, z = 2 - t;\n"
    "  w[0] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;\n"
    "  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;\n"
    "  w[2] = ((A + 2) * v - (A + 3)) * v * v + 1;\n"
    "  w[3] = ((A * z - 5 * A) * z + 8 * A) * z - 4 * A;\n"
    "}\n";

int emit_image_grid_sample(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  const char *mode = ir_attr_string(n, "mode", "bilinear"), *pm = ir_attr_string(n, "padding_mode", "zeros");
  int ac = (int)ir_attr_int(n, "align_corners", 0);
  int pad = !strcmp(pm, "zeros") ? 0 : (!strcmp(pm, "border") ? 1 : 2);
  int64_t C = X->shape[1], H = X->shape[2], W = X->shape[3], Ho = Y->shape[2], Wo = Y->shape[3];
  const char *x = emit_in(e, 0), *gr = emit_in(e, 1), *y = emit_out(e, 0), *T = ir_dtype_ctype(Y->dtype);
  if (need_float_out(n)) return -1;
  if (ir_numel(Y) == 0) return 0;
  ir_dtype dt = Y->dtype;
  if (kl_helper_typed(e, "mc_gridsample", gs_helpers, dt) < 0) return -1;
  if (!strcmp(mode, "bicubic") && kl_helper_typed(e, "mc_gridsample_cubic", gs_cubic_helper, dt) < 0) return -1;
  kl_block(e);
  /* AT(yy, xx): the input pixel of the current plane, zero outside */
  kl_line(e, dt, "#define AT(yy, xx) ((yy) < 0 || (yy) >= %lld || (xx) < 0 || (xx) >= %lld ? ($T)0 : ($T)xp[(yy) * %lld + (xx)])",
            (long long)H, (long long)W, (long long)W);
  const char *b = kl_for(e, X->shape[0]), *oy = kl_for(e, Ho), *ox = kl_for(e, Wo);
  emit_line(e, "const %s *gp = %s + ((%s * %lld + %s) * %lld + %s) * 2;", T, gr, b, (long long)Ho, oy, (long long)Wo, ox);
  if (ac) {
    kl_line(e, dt, "const $T gx = (($T)gp[0] + 1) / 2 * %lld.0@;", (long long)(W - 1));
    kl_line(e, dt, "const $T gy = (($T)gp[1] + 1) / 2 * %lld.0@;", (long long)(H - 1));
  } else {
    kl_line(e, dt, "const $T gx = ((($T)gp[0] + 1) * %lld.0@ - 1) / 2;", (long long)W);
    kl_line(e, dt, "const $T gy = ((($T)gp[1] + 1) * %lld.0@ - 1) / 2;", (long long)H);
  }
  if (!strcmp(mode, "bicubic")) {
    kl_line(e, dt, "const $T fx = floor@(gx), fy = floor@(gy);");
    kl_line(e, dt, "$T wx[4], wy[4];");
    kl_line(e, dt, "mc_gs_cubic@(gx - fx, wx);");
    kl_line(e, dt, "mc_gs_cubic@(gy - fy, wy);");
    emit_line(e, "int64_t ty[4], tx[4];");
    emit_line(e, "for (int k = 0; k < 4; k++) {");
    kl_line(e, dt, "  ty[k] = (int64_t)mc_gs_pad@(fy - 1 + k, %lld, %d, %d);", (long long)H, pad, ac);
    kl_line(e, dt, "  tx[k] = (int64_t)mc_gs_pad@(fx - 1 + k, %lld, %d, %d);", (long long)W, pad, ac);
    emit_line(e, "}");
  } else {
    kl_line(e, dt, "const $T px = mc_gs_pad@(gx, %lld, %d, %d), py = mc_gs_pad@(gy, %lld, %d, %d);", (long long)W,
              pad, ac, (long long)H, pad, ac);
    if (!strcmp(mode, "nearest")) {
      kl_line(e, dt, "const int64_t nx = (int64_t)nearbyint@(px), ny = (int64_t)nearbyint@(py);");
    } else {
      kl_line(e, dt, "const $T fx = floor@(px), fy = floor@(py), tx = px - fx, ty = py - fy;");
      emit_line(e, "const int64_t cx = (int64_t)fx, cy = (int64_t)fy;");
    }
  }
  const char *ch = kl_for(e, C);
  emit_line(e, "const %s *xp = %s + (%s * %lld + %s) * %lld;", T, x, b, (long long)C, ch, (long long)(H * W));
  if (!strcmp(mode, "bicubic")) {
    kl_line(e, dt, "$T v = 0;");
    emit_line(e, "for (int i = 0; i < 4; i++)");
    emit_line(e, "  for (int j = 0; j < 4; j++) v += wy[i] * wx[j] * AT(ty[i], tx[j]);");
  } else if (!strcmp(mode, "nearest")) {
    kl_line(e, dt, "const $T v = AT(ny, nx);");
  } else {
    kl_line(e, dt, "const $T v = (1 - ty) * ((1 - tx) * AT(cy, cx) + tx * AT(cy, cx + 1)) +");
    emit_line(e, "                 ty * ((1 - tx) * AT(cy + 1, cx) + tx * AT(cy + 1, cx + 1));");
  }
  emit_line(e, "%s[((%s * %lld + %s) * %lld + %s) * %lld + %s] = (%s)v;", y, b, (long long)C, ch, (long long)Ho, oy,
            (long long)Wo, ox, T);
  kl_end(e), kl_end(e), kl_end(e), kl_end(e);
  emit_line(e, "#undef AT");
  kl_end(e);
  return 0;
}

/* ---- normalizations ------------------------------------------------------------------------ */

/* y = (x - mean) * inv * scale + bias with mean and variance over the axes
 * marked in red[], for every index of the other (kept) axes.  scale/bias
 * are read at sum_a i_a * sst[a] (strides 0 where they broadcast). */
typedef struct norm_desc {
  ir_dtype dt;
  int rank;
  int64_t dims[IR_MAX_RANK];
  int red[IR_MAX_RANK];
  const char *x, *y, *scale, *bias, *mean_out, *inv_out;
  ir_dtype stat_dt;
  int64_t sst[IR_MAX_RANK], bst[IR_MAX_RANK];
  const char *inv;   /* C expression of inv over `var` */
} norm_desc;

static void offset_expr(char *buf, size_t n, int rank, const char *const *v, const int64_t *st) {
  size_t l = 0;
  buf[0] = 0;
  for (int a = 0; a < rank; a++)
    if (st[a] != 0 && v[a]) l += (size_t)snprintf(buf + l, n - l, "%s%s * %lld", l ? " + " : "", v[a], (long long)st[a]);
  if (!l) snprintf(buf, n, "0");
}

static void norm_emit(emit_ctx *e, const norm_desc *d) {
  const char *v[IR_MAX_RANK];
  int64_t st[IR_MAX_RANK], R = 1;
  char xo[512], so[512], bo[512], sc[560], bs[560], rl[64];
  int a, pass;
  kl_strides(d->rank, d->dims, st);
  for (a = 0; a < d->rank; a++)
    if (d->red[a]) R *= d->dims[a];
  int64_t blk = kl_sum_block(d->dt, R);
  lit(rl, sizeof rl, d->dt, (double)R);
  kl_block(e);
  if (d->mean_out || d->inv_out) emit_line(e, "int64_t kf = 0;");
  for (a = 0; a < d->rank; a++) v[a] = d->red[a] ? NULL : kl_for(e, d->dims[a]);
  kl_sum_decl(e, kl_float_ctype(d->dt), "s", "0", blk);
  kl_sum_decl(e, kl_float_ctype(d->dt), "q", "0", blk);
  for (pass = 0; pass < 3; pass++) {
    if (pass == 1) {
      kl_sum_done(e, "s", blk);
      kl_line(e, d->dt, "const $T mean = s / %s;", rl);
    }
    if (pass == 2) {
      kl_sum_done(e, "q", blk);
      kl_line(e, d->dt, "const $T var = q / %s;", rl);
      kl_line(e, d->dt, "const $T inv = %s;", d->inv);
    }
    int opened = 0;
    for (a = 0; a < d->rank; a++)
      if (d->red[a]) v[a] = kl_for(e, d->dims[a]), opened++;
    offset_expr(xo, sizeof xo, d->rank, v, st);
    if (pass == 0) {
      emit_line(e, "s += %s[%s];", d->x, xo);
      kl_sum_step(e, "s", blk);
    } else if (pass == 1) {
      kl_line(e, d->dt, "const $T dv = %s[%s] - mean;", d->x, xo);
      emit_line(e, "q += dv * dv;");
      kl_sum_step(e, "q", blk);
    } else {
      offset_expr(so, sizeof so, d->rank, v, d->sst);
      offset_expr(bo, sizeof bo, d->rank, v, d->bst);
      if (d->scale) snprintf(sc, sizeof sc, " * %s[%s]", d->scale, so);
      else sc[0] = 0;
      if (d->bias) snprintf(bs, sizeof bs, " + %s[%s]", d->bias, bo);
      else bs[0] = 0;
      emit_line(e, "%s[%s] = (%s)((%s[%s] - mean) * inv%s%s);", d->y, xo, ir_dtype_ctype(d->dt), d->x, xo, sc, bs);
    }
    while (opened--) kl_end(e);
  }
  if (d->mean_out) emit_line(e, "%s[kf] = (%s)mean;", d->mean_out, ir_dtype_ctype(d->stat_dt));
  if (d->inv_out) emit_line(e, "%s[kf] = (%s)inv;", d->inv_out, ir_dtype_ctype(d->stat_dt));
  if (d->mean_out || d->inv_out) emit_line(e, "kf++;");
  for (a = 0; a < d->rank; a++)
    if (!d->red[a]) kl_end(e);
  kl_end(e);
}

static void norm_init(norm_desc *d, emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  memset(d, 0, sizeof *d);
  d->dt = n->out[0]->dtype;
  d->rank = X->rank;
  memcpy(d->dims, X->shape, sizeof(int64_t) * (size_t)X->rank);
  d->x = emit_in(e, 0);
  d->y = emit_out(e, 0);
}

/* Strides of t broadcast against X's trailing dims (0 where it repeats). */
static void trailing_strides(const ir_tensor *X, const ir_tensor *t, int64_t *st) {
  int64_t s = 1;
  for (int a = X->rank - 1; a >= 0; a--) {
    int ta = a - (X->rank - t->rank);
    st[a] = 0;
    if (ta >= 0 && t->shape[ta] != 1) st[a] = s;
    if (ta >= 0) s *= t->shape[ta];
  }
}

int emit_image_layer_norm(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  norm_desc d;
  char eps[64], inv[128];
  int axis = (int)ir_attr_int(n, "axis", -1);
  if (need_float_out(n)) return -1;
  if (ir_numel(X) == 0) return 0;
  norm_init(&d, e, n);
  for (int a = 0; a < X->rank; a++) d.red[a] = a >= axis;
  d.scale = emit_in(e, 1);
  trailing_strides(X, n->in[1], d.sst);
  if (n->n_in > 2 && n->in[2]) {
    d.bias = emit_in(e, 2);
    trailing_strides(X, n->in[2], d.bst);
  }
  if (n->n_out > 1 && n->out[1]) d.mean_out = emit_out(e, 1), d.stat_dt = n->out[1]->dtype;
  if (n->n_out > 2 && n->out[2]) d.inv_out = emit_out(e, 2), d.stat_dt = n->out[2]->dtype;
  snprintf(inv, sizeof inv, "1 / sqrt@(var + %s)", lit(eps, sizeof eps, d.dt, ir_attr_float(n, "epsilon", 1e-5)));
  d.inv = inv;
  norm_emit(e, &d);
  return 0;
}

int emit_image_instance_norm(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  norm_desc d;
  char eps[64], inv[128];
  if (need_float_out(n)) return -1;
  if (ir_numel(X) == 0) return 0;
  norm_init(&d, e, n);
  for (int a = 2; a < X->rank; a++) d.red[a] = 1;
  d.scale = emit_in(e, 1);
  d.bias = emit_in(e, 2);
  d.sst[1] = d.bst[1] = 1;   /* per channel */
  snprintf(inv, sizeof inv, "1 / sqrt@(var + %s)", lit(eps, sizeof eps, d.dt, ir_attr_float(n, "epsilon", 1e-5)));
  d.inv = inv;
  norm_emit(e, &d);
  return 0;
}

int emit_image_mvn(emit_ctx *e, const ir_node *n) {
  const int64_t *axes;
  int na = ir_attr_ints(n, "axes", &axes);
  norm_desc d;
  if (need_float_out(n)) return -1;
  if (ir_numel(n->in[0]) == 0) return 0;
  norm_init(&d, e, n);
  for (int k = 0; k < na; k++) d.red[axes[k]] = 1;
  d.inv = "1 / (sqrt@(var) + 1e-9@)";   /* ONNX's function body: (x - mean) / (std + 1e-9) */
  norm_emit(e, &d);
  return 0;
}

int emit_image_lrn(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  int64_t C = X->shape[1], S = ir_numel_dims(X->rank - 2, X->shape + 2);
  int64_t size = ir_attr_int(n, "size", 1), lo = (size - 1) / 2, hi = size - 1 - lo;
  char a[64], bs[64], be[64];
  if (need_float_out(n)) return -1;
  if (ir_numel(X) == 0) return 0;
  ir_dtype dt = X->dtype;
  lit(a, sizeof a, dt, ir_attr_float(n, "alpha", 1e-4) / (double)size);
  lit(bs, sizeof bs, dt, ir_attr_float(n, "bias", 1.0));
  lit(be, sizeof be, dt, ir_attr_float(n, "beta", 0.75));
  const char *x = emit_in(e, 0), *y = emit_out(e, 0);
  const char *b = kl_for(e, X->shape[0]), *ch = kl_for(e, C), *i = kl_for(e, S);
  emit_line(e, "const int64_t k0 = %s < %lld ? 0 : %s - %lld, k1 = %s + %lld >= %lld ? %lld : %s + %lld;", ch,
            (long long)lo, ch, (long long)lo, ch, (long long)hi, (long long)C, (long long)(C - 1), ch, (long long)hi);
  kl_line(e, dt, "$T sq = 0;");   /* at most `size` terms */
  emit_line(e, "for (int64_t k = k0; k <= k1; k++) {");
  kl_line(e, dt, "  const $T v = %s[(%s * %lld + k) * %lld + %s];", x, b, (long long)C, (long long)S, i);
  emit_line(e, "  sq += v * v;");
  emit_line(e, "}");
  emit_line(e, "const int64_t at = (%s * %lld + %s) * %lld + %s;", b, (long long)C, ch, (long long)S, i);
  kl_line(e, dt, "%s[at] = %s[at] / pow@(%s + %s * sq, %s);", y, x, bs, a, be);
  kl_end(e), kl_end(e), kl_end(e);
  return 0;
}

int emit_image_lp_norm(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0];
  int axis = (int)ir_attr_int(n, "axis", -1);
  int64_t p = ir_attr_int(n, "p", 2), len = X->shape[axis];
  int64_t outer = ir_numel_dims(axis, X->shape), inner = ir_numel_dims(X->rank - axis - 1, X->shape + axis + 1);
  if (need_float_out(n)) return -1;
  if (ir_numel(X) == 0) return 0;
  const char *x = emit_in(e, 0), *y = emit_out(e, 0);
  ir_dtype dt = X->dtype;
  int64_t blk = kl_sum_block(dt, len);
  const char *o = kl_for(e, outer), *j = kl_for(e, inner);
  kl_sum_decl(e, kl_float_ctype(dt), "s", "0", blk);
  const char *k = kl_for(e, len);
  kl_line(e, dt, "const $T v = %s[(%s * %lld + %s) * %lld + %s];", x, o, (long long)len, k, (long long)inner, j);
  kl_line(e, dt, p == 1 ? "s += fabs@(v);" : "s += v * v;");
  kl_sum_step(e, "s", blk);
  kl_end(e);
  kl_sum_done(e, "s", blk);
  kl_line(e, dt, "const $T norm = %s;", p == 1 ? "s" : "sqrt@(s)");
  k = kl_for(e, len);
  emit_line(e, "const int64_t at = (%s * %lld + %s) * %lld + %s;", o, (long long)len, k, (long long)inner, j);
  emit_line(e, "%s[at] = %s[at] / norm;", y, x);
  kl_end(e);
  kl_end(e), kl_end(e);
  return 0;
}

/* ---- RoiAlign ------------------------------------------------------------------------ */

/* The interpreter's algorithm (interp_image.c, with the reference's max
 * mode), in the output's float type: grid sizes depend on each roi's size at run time, so
 * the sample loops have run-time bounds.  A batch index outside [0, N)
 * gives zeros for that roi (the interpreter refuses it) rather than a
 * read outside X. */
int emit_image_roi_align(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  long long N = X->shape[0], C = X->shape[1], H = X->shape[2], W = X->shape[3];
  long long OH = Y->shape[2], OW = Y->shape[3], sr = ir_attr_int(n, "sampling_ratio", 0);
  int half = strcmp(ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"), "half_pixel") == 0;
  int is_max = strcmp(ir_attr_string(n, "mode", "avg"), "max") == 0;
  const char *x = emit_in(e, 0), *rois = emit_in(e, 1), *bi = emit_in(e, 2), *y = emit_out(e, 0);
  const char *T = ir_dtype_ctype(Y->dtype);
  char sc[64], off[64];
  if (need_float_out(n)) return -1;
  if (ir_numel(Y) == 0) return 0;
  lit(sc, sizeof sc, Y->dtype, ir_attr_float(n, "spatial_scale", 1.0));
  lit(off, sizeof off, Y->dtype, half ? 0.5 : 0.0);
  emit_line(e, "for (int64_t r = 0; r < %lld; r++) {", (long long)n->in[1]->shape[0]);
  emit_indent(e, 1);
  emit_line(e, "const int64_t b = %s[r];", bi);
  kl_line(e, Y->dtype, "const $T sx = ($T)%s[r * 4] * %s - %s, sy = ($T)%s[r * 4 + 1] * %s - %s;", rois, sc, off,
            rois, sc, off);
  kl_line(e, Y->dtype, "$T rw = ($T)%s[r * 4 + 2] * %s - %s - sx, rh = ($T)%s[r * 4 + 3] * %s - %s - sy;", rois,
            sc, off, rois, sc, off);
  if (!half) {   /* output_half_pixel: a roi is at least one pixel */
    kl_line(e, Y->dtype, "if (!(rw >= 1.0@)) rw = 1.0@;");
    kl_line(e, Y->dtype, "if (!(rh >= 1.0@)) rh = 1.0@;");
  }
  kl_line(e, Y->dtype, "const $T bh = rh / %lld.0@, bw = rw / %lld.0@, qh = ceil@(bh), qw = ceil@(bw);", OH, OW);
  if (sr > 0) {
    emit_line(e, "const int64_t gh = %lld, gw = %lld;", sr, sr);
  } else {   /* ceil of the bin size, kept in range before the conversion */
    kl_line(e, Y->dtype, "const int64_t gh = qh >= 1.0@ ? (qh < 1e6@ ? (int64_t)qh : 1000000) : 0;");
    kl_line(e, Y->dtype, "const int64_t gw = qw >= 1.0@ ? (qw < 1e6@ ? (int64_t)qw : 1000000) : 0;");
  }
  kl_line(e, Y->dtype, "const $T cnt = gh * gw > 1 ? ($T)(gh * gw) : 1.0@;");
  emit_line(e, "(void)qh; (void)qw; (void)cnt;");
  emit_line(e, "for (int64_t c = 0; c < %lld; c++) {", C);
  emit_indent(e, 1);
  emit_line(e, "%s *yp = %s + (r * %lld + c) * %lld;", T, y, C, OH * OW);
  emit_line(e, "if (b < 0 || b >= %lld) {", N);
  emit_line(e, "  for (int64_t k = 0; k < %lld; k++) yp[k] = 0;", OH * OW);
  emit_line(e, "  continue;");
  emit_line(e, "}");
  emit_line(e, "const %s *xp = %s + (b * %lld + c) * %lld;", T, x, C, H * W);
  emit_line(e, "for (int64_t ph = 0; ph < %lld; ph++)", OH);
  emit_line(e, "for (int64_t pw = 0; pw < %lld; pw++) {", OW);
  emit_indent(e, 1);
  kl_line(e, Y->dtype, "$T acc = 0;");
  if (is_max) emit_line(e, "int first = 1;");
  emit_line(e, "for (int64_t iy = 0; iy < gh; iy++)");
  emit_line(e, "for (int64_t ix = 0; ix < gw; ix++) {");
  emit_indent(e, 1);
  kl_line(e, Y->dtype, "$T yy = sy + ($T)ph * bh + (($T)iy + 0.5@) * bh / ($T)gh;");
  kl_line(e, Y->dtype, "$T xx = sx + ($T)pw * bw + (($T)ix + 0.5@) * bw / ($T)gw;");
  kl_line(e, Y->dtype, "$T w0 = 0, w1 = 0, w2 = 0, w3 = 0;");
  kl_line(e, Y->dtype, "if (yy >= -1.0@ && yy <= %lld.0@ && xx >= -1.0@ && xx <= %lld.0@) {", H, W);
  emit_indent(e, 1);
  emit_line(e, "int64_t y0, x0, y1, x1;");
  emit_line(e, "if (yy < 0) yy = 0;");
  emit_line(e, "if (xx < 0) xx = 0;");
  emit_line(e, "y0 = (int64_t)yy;");
  emit_line(e, "x0 = (int64_t)xx;");
  kl_line(e, Y->dtype, "if (y0 >= %lld) { y0 = y1 = %lld; yy = ($T)y0; } else { y1 = y0 + 1; }", H - 1, H - 1);
  kl_line(e, Y->dtype, "if (x0 >= %lld) { x0 = x1 = %lld; xx = ($T)x0; } else { x1 = x0 + 1; }", W - 1, W - 1);
  kl_line(e, Y->dtype, "const $T ly = yy - ($T)y0, lx = xx - ($T)x0, hy = 1.0@ - ly, hx = 1.0@ - lx;");
  kl_line(e, Y->dtype, "w0 = hy * hx * ($T)xp[y0 * %lld + x0];", W);
  kl_line(e, Y->dtype, "w1 = hy * lx * ($T)xp[y0 * %lld + x1];", W);
  kl_line(e, Y->dtype, "w2 = ly * hx * ($T)xp[y1 * %lld + x0];", W);
  kl_line(e, Y->dtype, "w3 = ly * lx * ($T)xp[y1 * %lld + x1];", W);
  kl_end(e);
  if (is_max) {   /* the reference's max: the largest weighted corner */
    emit_line(e, "if (first || w0 > acc) acc = w0;");
    emit_line(e, "first = 0;");
    emit_line(e, "if (w1 > acc) acc = w1;");
    emit_line(e, "if (w2 > acc) acc = w2;");
    emit_line(e, "if (w3 > acc) acc = w3;");
  } else {
    emit_line(e, "acc += w0 + w1 + w2 + w3;");
  }
  kl_end(e);
  emit_line(e, "yp[ph * %lld + pw] = (%s)(%s);", OW, T, is_max ? "acc" : "acc / cnt");
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}
