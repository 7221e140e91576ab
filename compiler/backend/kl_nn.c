/*
 * kl_nn.c - writes the loops of GEMM, direct convolution, pooling and the
 * BatchNormalization channel map, training-mode statistics and backward
 * (descriptors in kl_nn.h).
 *
 * Conventions of the emitted text: every bound and stride is a literal;
 * loop counters are int64_t (kl_for); sub-buffers are named by fresh
 * pointer locals (pa, pb, py...) set once per outer iteration, so the inner
 * index expressions stay short; accumulation is in the output's own type
 * (float for f32).  Index expressions drop terms whose stride is 0 and
 * factors of 1, so the C reads like hand-written loops.
 */
#include "kl_nn.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "kl_par.h"

typedef struct sbuf {
  char s[1024];
} sbuf;

static const char *fctype(ir_dtype dt) { return dt == IR_F32 ? "float" : "double"; }

static int need_float_dt(ir_dtype dt, const char *what) {
  if (dt != IR_F32 && dt != IR_F64)
    return ir_error("%s: dtype %s is not supported by the kernel layer", what, ir_dtype_name(dt));
  return 0;
}

/* Append " + v*stride" to an index expression (nothing for stride 0). */
static void term(sbuf *b, const char *v, int64_t stride) {
  size_t l = strlen(b->s);
  if (stride == 0) return;
  if (stride == 1)
    snprintf(b->s + l, sizeof b->s - l, "%s%s", l ? " + " : "", v);
  else
    snprintf(b->s + l, sizeof b->s - l, "%s%s * %lld", l ? " + " : "", v, (long long)stride);
}

/* The offset of output channel m's input group: m / Mg (m itself for
 * depthwise) groups of `stride` elements; nothing for one group. */
static void group_term(sbuf *b, const char *m, int64_t groups, int64_t Mg, int64_t stride) {
  char gv[64];
  if (groups <= 1) return;
  if (Mg == 1) snprintf(gv, sizeof gv, "%s", m);
  else snprintf(gv, sizeof gv, "(%s / %lld)", m, (long long)Mg);
  term(b, gv, stride);
}

static void constant(sbuf *b, int64_t c) {
  size_t l = strlen(b->s);
  if (c == 0) return;
  if (l == 0)
    snprintf(b->s, sizeof b->s, "%lld", (long long)c);
  else
    snprintf(b->s + l, sizeof b->s - l, " %s %lld", c < 0 ? "-" : "+", (long long)(c < 0 ? -c : c));
}

static const char *expr(sbuf *b) { return b->s[0] ? b->s : "0"; }

/* "base" or "base + off" */
static const char *offset_ptr(char *buf, size_t n, const char *base, sbuf *off) {
  if (off->s[0])
    snprintf(buf, n, "%s + %s", base, off->s);
  else
    snprintf(buf, n, "%s", base);
  return buf;
}

/* v is a plain variable of type dt; writes dst = act(v [+ res[ridx]]). */
static void epilogue_store(emit_ctx *e, const kl_epilogue *ep, ir_dtype dt, const char *v,
                           const char *res_ptr, const char *ridx, const char *dst) {
  char act[1024];
  if (res_ptr) emit_line(e, "%s += %s[%s];", v, res_ptr, ridx);
  emit_line(e, "%s = %s;", dst, kl_act_expr(act, sizeof act, ep, dt, v));
}

/* ---- GEMM ----------------------------------------------------------------- */

int kl_gemm(emit_ctx *e, const kl_gemm_desc *d) {
  const char *T = fctype(d->dt), *bi[IR_MAX_RANK], *pa, *pb, *py, *pr = NULL, *pc = NULL;
  const char *i, *k, *j, *v, *yrow = NULL;
  sbuf ao = {""}, bo = {""}, yo = {""}, t1, t2;
  char buf[1200], lit[64];
  int64_t ystride = d->M * d->N, ys[IR_MAX_RANK];
  int b, dot;
  if (need_float_dt(d->dt, "GEMM")) return -1;
  for (b = 0; b < d->batch_rank; b++) bi[b] = kl_for(e, d->batch[b]);
  for (b = d->batch_rank - 1; b >= 0; b--) {
    ys[b] = ystride;
    ystride *= d->batch[b];
  }
  for (b = 0; b < d->batch_rank; b++) {
    term(&ao, bi[b], d->a_bs[b]);
    term(&bo, bi[b], d->b_bs[b]);
    term(&yo, bi[b], ys[b]);
  }
  pa = emit_fresh(e, "pa");
  pb = emit_fresh(e, "pb");
  py = emit_fresh(e, "py");
  emit_line(e, "const %s *%s = %s;", T, pa, offset_ptr(buf, sizeof buf, d->a, &ao));
  emit_line(e, "const %s *%s = %s;", T, pb, offset_ptr(buf, sizeof buf, d->b, &bo));
  emit_line(e, "%s *%s = %s;", T, py, offset_ptr(buf, sizeof buf, d->y, &yo));
  if (d->ep.residual) {
    pr = emit_fresh(e, "pr");
    emit_line(e, "const %s *%s = %s;", T, pr, offset_ptr(buf, sizeof buf, d->ep.residual, &yo));
  }
  if (d->c) pc = d->c;
  /* B with unit stride along K only (transB): dot products, contiguous in K */
  dot = d->b_cs != 1 && d->b_rs == 1;
  i = kl_for(e, d->M);
  if (!dot) {
    const char *yr = emit_fresh(e, "yr"), *av, *br;
    yrow = yr;
    emit_line(e, "%s *%s = %s + %s * %lld;", T, yr, py, i, (long long)d->N);
    j = kl_for(e, d->N);
    emit_line(e, "%s[%s] = %s;", yr, j, emit_literal(lit, sizeof lit, d->dt, 0.0));
    kl_end(e);
    k = kl_for(e, d->K);
    av = emit_fresh(e, "av");
    br = emit_fresh(e, "br");
    t1.s[0] = 0;
    term(&t1, i, d->a_rs);
    term(&t1, k, d->a_cs);
    emit_line(e, "const %s %s = %s[%s];", T, av, pa, expr(&t1));
    t1.s[0] = 0;
    term(&t1, k, d->b_rs);
    emit_line(e, "const %s *%s = %s + %s;", T, br, pb, expr(&t1));
    j = kl_for(e, d->N);
    t1.s[0] = 0;
    term(&t1, j, d->b_cs);
    emit_line(e, "%s[%s] += %s * %s[%s];", yr, j, av, br, expr(&t1));
    kl_end(e);
    kl_end(e);
    j = kl_for(e, d->N);
    v = emit_fresh(e, "v");
    if (d->alpha != 1.0)
      emit_line(e, "%s %s = %s * %s[%s];", T, v, emit_literal(lit, sizeof lit, d->dt, d->alpha), yr, j);
    else
      emit_line(e, "%s %s = %s[%s];", T, v, yr, j);
  } else {
    const char *acc;
    j = kl_for(e, d->N);
    acc = emit_fresh(e, "acc");
    emit_line(e, "%s %s = %s;", T, acc, emit_literal(lit, sizeof lit, d->dt, 0.0));
    k = kl_for(e, d->K);
    t1.s[0] = t2.s[0] = 0;
    term(&t1, i, d->a_rs);
    term(&t1, k, d->a_cs);
    term(&t2, j, d->b_cs);
    term(&t2, k, d->b_rs);
    emit_line(e, "%s += %s[%s] * %s[%s];", acc, pa, expr(&t1), pb, expr(&t2));
    kl_end(e);
    v = emit_fresh(e, "v");
    if (d->alpha != 1.0)
      emit_line(e, "%s %s = %s * %s;", T, v, emit_literal(lit, sizeof lit, d->dt, d->alpha), acc);
    else
      emit_line(e, "%s %s = %s;", T, v, acc);
  }
  if (pc) {
    t1.s[0] = 0;
    term(&t1, i, d->c_rs);
    term(&t1, j, d->c_cs);
    if (d->beta != 1.0)
      emit_line(e, "%s += %s * %s[%s];", v, emit_literal(lit, sizeof lit, d->dt, d->beta), pc, expr(&t1));
    else
      emit_line(e, "%s += %s[%s];", v, pc, expr(&t1));
  }
  t2.s[0] = 0;
  term(&t2, i, d->N);
  term(&t2, j, 1);
  if (yrow) snprintf(buf, sizeof buf, "%s[%s]", yrow, j);
  else snprintf(buf, sizeof buf, "%s[%s]", py, expr(&t2));
  epilogue_store(e, &d->ep, d->dt, v, pr, expr(&t2), buf);
  kl_end(e);   /* j */
  kl_end(e);   /* i */
  for (b = 0; b < d->batch_rank; b++) kl_end(e);
  return 0;
}

/* ---- window loops shared by convolution and pooling ------------------------ */

/* Open the window loops of r spatial dims; p[t] receives the input
 * position variable of dim t.  lo_chk/hi_chk: emit the bound checks
 * "p < 0" / "p >= hi[t]" (per dim, decided by the caller). */
static void open_window(emit_ctx *e, int r, const int64_t *k, const int64_t *s, const int64_t *dl,
                        const int64_t *pb, const char *const *o, const int *lo_chk,
                        const int64_t *hi, const int *hi_chk, const char **kk, const char **p) {
  int t;
  for (t = 0; t < r; t++) {
    sbuf pe = {""};
    kk[t] = kl_for(e, k[t]);
    p[t] = emit_fresh(e, "p");
    term(&pe, o[t], s[t]);
    term(&pe, kk[t], dl[t]);
    constant(&pe, -pb[t]);
    emit_line(e, "const int64_t %s = %s;", p[t], expr(&pe));
    if (lo_chk[t] && hi_chk[t])
      emit_line(e, "if (%s < 0 || %s >= %lld) continue;", p[t], p[t], (long long)hi[t]);
    else if (lo_chk[t])
      emit_line(e, "if (%s < 0) continue;", p[t]);
    else if (hi_chk[t])
      emit_line(e, "if (%s >= %lld) continue;", p[t], (long long)hi[t]);
  }
}

/* Flat C-order index over dims[r] of the coordinate variables v[r]. */
static void flat(sbuf *b, int r, const int64_t *dims, const char *const *v) {
  int64_t st[IR_MAX_RANK], acc = 1;
  int t;
  b->s[0] = 0;
  for (t = r - 1; t >= 0; t--) {
    st[t] = acc;
    acc *= dims[t];
  }
  for (t = 0; t < r; t++) term(b, v[t], st[t]);
}

/* ---- convolution ---------------------------------------------------------- */

int kl_conv(emit_ctx *e, const kl_conv_desc *d) {
  const char *T = fctype(d->dt), *bv, *mv, *o[KL_NN_MAX_SP], *kk[KL_NN_MAX_SP], *p[KL_NN_MAX_SP];
  const char *xg, *wm, *ym, *rm = NULL, *acc, *ic, *xc, *wc;
  int64_t Cg = d->C / d->group, Mg = d->M / d->group, isz, ksz, osz;
  int lo[KL_NN_MAX_SP], hi[KL_NN_MAX_SP], t;
  sbuf off = {""}, xi, wi;
  char buf[1200], lit[64];
  if (need_float_dt(d->dt, "convolution")) return -1;
  if (d->r < 1 || d->r > KL_NN_MAX_SP || d->group < 1 || d->C % d->group || d->M % d->group)
    return ir_error("convolution: bad descriptor");
  isz = ir_numel_dims(d->r, d->in);
  ksz = ir_numel_dims(d->r, d->k);
  osz = ir_numel_dims(d->r, d->out);
  for (t = 0; t < d->r; t++) {
    int64_t last = (d->out[t] - 1) * d->s[t] - d->pb[t] + (d->k[t] - 1) * d->d[t];
    lo[t] = d->pb[t] > 0;          /* only padding can reach below 0 */
    hi[t] = last >= d->in[t];      /* the end pad (or a long window) reaches past the input */
  }
  bv = kl_for(e, d->N);
  mv = kl_for(e, d->M);
  xg = emit_fresh(e, "xg");
  wm = emit_fresh(e, "wm");
  ym = emit_fresh(e, "ym");
  term(&off, bv, d->C * isz);
  group_term(&off, mv, d->group, Mg, Cg * isz);
  emit_line(e, "const %s *%s = %s;", T, xg, offset_ptr(buf, sizeof buf, d->x, &off));
  off.s[0] = 0;
  term(&off, mv, Cg * ksz);
  emit_line(e, "const %s *%s = %s;", T, wm, offset_ptr(buf, sizeof buf, d->w, &off));
  off.s[0] = 0;
  term(&off, bv, d->M * osz);
  term(&off, mv, osz);
  emit_line(e, "%s *%s = %s;", T, ym, offset_ptr(buf, sizeof buf, d->y, &off));
  if (d->ep.residual) {
    rm = emit_fresh(e, "rm");
    emit_line(e, "const %s *%s = %s;", T, rm, offset_ptr(buf, sizeof buf, d->ep.residual, &off));
  }
  for (t = 0; t < d->r; t++) o[t] = kl_for(e, d->out[t]);
  acc = emit_fresh(e, "acc");
  if (d->bias)
    emit_line(e, "%s %s = %s[%s];", T, acc, d->bias, mv);
  else
    emit_line(e, "%s %s = %s;", T, acc, emit_literal(lit, sizeof lit, d->dt, 0.0));
  ic = kl_for(e, Cg);
  xc = emit_fresh(e, "xc");
  wc = emit_fresh(e, "wc");
  emit_line(e, "const %s *%s = %s + %s * %lld;", T, xc, xg, ic, (long long)isz);
  emit_line(e, "const %s *%s = %s + %s * %lld;", T, wc, wm, ic, (long long)ksz);
  open_window(e, d->r, d->k, d->s, d->d, d->pb, o, lo, d->in, hi, kk, p);
  flat(&xi, d->r, d->in, p);
  flat(&wi, d->r, d->k, kk);
  emit_line(e, "%s += %s[%s] * %s[%s];", acc, xc, expr(&xi), wc, expr(&wi));
  for (t = 0; t < d->r; t++) kl_end(e);
  kl_end(e);   /* ic */
  flat(&xi, d->r, d->out, o);
  snprintf(buf, sizeof buf, "%s[%s]", ym, expr(&xi));
  epilogue_store(e, &d->ep, d->dt, acc, rm, expr(&xi), buf);
  for (t = 0; t < d->r; t++) kl_end(e);
  kl_end(e);   /* m */
  kl_end(e);   /* b */
  return 0;
}

/* ---- pooling -------------------------------------------------------------- */

/* MaxPool (float, no Indices) whose windows tile the input (2-D, stride =
 * kernel, no pad or dilation; LeNet's 2x2/2): per output row, the window
 * read at constant offsets and each value taken by a select, not a
 * branch, in window order (a NaN taking over, as the loops below), so
 * that compilers unroll the window and vectorize along the row (stride-2
 * loads): 19.6 against 24.7 us, 20.7 against 38.9 us for LeNet's two at
 * batch 32.  Returns 1 when d is not such a pool. */
static int max_pool_tiled(emit_ctx *e, const kl_pool_desc *d) {
  const char *T, *bc, *oh, *ow;
  int64_t W, KH, KW, OW;
  if (d->kind != KL_POOL_MAX || d->r != 2 || d->idx || (d->dt != IR_F32 && d->dt != IR_F64)) return 1;
  for (int t = 0; t < 2; t++)
    if (d->s[t] != d->k[t] || d->d[t] != 1 || d->pb[t] != 0 || d->out[t] * d->s[t] > d->in[t]) return 1;
  T = fctype(d->dt);
  W = d->in[1], KH = d->k[0], KW = d->k[1], OW = d->out[1];
  if (kl_par_parts(emit_opts(e)->threads, d->NC, d->NC * d->out[0] * OW * KH * KW) > 1)
    kl_par_for(e);   /* the planes in parallel */
  bc = kl_for(e, d->NC);
  oh = kl_for(e, d->out[0]);
  emit_line(e, "const %s *xr = %s + %s * %lld + %s * %lld;", T, d->x, bc, (long long)(d->in[0] * W), oh,
            (long long)(KH * W));
  emit_line(e, "%s *yr = %s + %s * %lld + %s * %lld;", T, d->y, bc, (long long)(d->out[0] * OW), oh, (long long)OW);
  ow = kl_for(e, OW);
  emit_line(e, "%s best = -INFINITY;", T);
  emit_line(e, "int ki, kj;");
  emit_line(e, "for (ki = 0; ki < %lld; ki++)", (long long)KH);
  emit_line(e, "  for (kj = 0; kj < %lld; kj++) {", (long long)KW);
  emit_line(e, "    const %s v = xr[ki * %lld + %s * %lld + kj];", T, (long long)W, ow, (long long)KW);
  emit_line(e, "    best = ((v > best) | (v != v)) ? v : best;");
  emit_line(e, "  }");
  emit_line(e, "yr[%s] = best;", ow);
  kl_end(e);
  kl_end(e);
  kl_end(e);   /* bc */
  return 0;
}

/* AveragePool whose one window is the whole plane (GlobalAveragePool):
 * each plane summed in 16 lanes (lane l takes the values l mod 16), the
 * lanes then added in order: a loop compilers vectorize, where one running
 * sum waits on each add (ResNet-8's pool of 64 planes of 8x8 took 5 us,
 * ch_ppocr's of 200 of 2x96 30 us).  In the tensor's type: lanes of double
 * for float, closer to the interpreter's sum, are emulated in software on
 * a Cortex-M4.  Returns 1 when d is not such a pool. */
static int avg_pool_plane(emit_ctx *e, const kl_pool_desc *d) {
  const char *T, *bc;
  int64_t isz;
  if (d->kind != KL_POOL_AVG || (d->dt != IR_F32 && d->dt != IR_F64)) return 1;
  for (int t = 0; t < d->r; t++)
    if (d->k[t] != d->in[t] || d->out[t] != 1 || d->d[t] != 1 || d->pb[t] != 0 || d->pe[t] != 0) return 1;
  T = fctype(d->dt);
  isz = ir_numel_dims(d->r, d->in);
  if (kl_par_parts(emit_opts(e)->threads, d->NC, d->NC * isz) > 1) kl_par_for(e);   /* the planes in parallel */
  bc = kl_for(e, d->NC);
  emit_line(e, "const %s *xp = %s + %s * %lld;", T, d->x, bc, (long long)isz);
  emit_line(e, "%s s[16] = {0}, sum = 0;", T);
  emit_line(e, "int64_t k;");
  emit_line(e, "int l;");
  emit_line(e, "for (k = 0; k + 16 <= %lld; k += 16)", (long long)isz);
  emit_line(e, "  for (l = 0; l < 16; l++) s[l] += xp[k + l];");
  emit_line(e, "for (l = 0; k + l < %lld; l++) s[l] += xp[k + l];", (long long)isz);
  emit_line(e, "for (l = 0; l < 16; l++) sum += s[l];");
  emit_line(e, "%s[%s] = sum / (%s)%lld;", d->y, bc, T, (long long)isz);
  kl_end(e);
  return 0;
}

int kl_pool(emit_ctx *e, const kl_pool_desc *d) {
  const char *T, *bc, *xp, *yp, *o[KL_NN_MAX_SP], *kk[KL_NN_MAX_SP], *p[KL_NN_MAX_SP];
  const char *acc, *cnt = NULL, *v, *arg = NULL;
  int64_t isz, osz, hi_v[KL_NN_MAX_SP];
  int lo[KL_NN_MAX_SP], hi[KL_NN_MAX_SP], t, is_f = d->dt == IR_F32 || d->dt == IR_F64;
  int cip = d->kind == KL_POOL_AVG && d->count_include_pad;
  sbuf xi;
  char lit[64];
  if (d->dt == IR_I8) T = "int8_t";
  else if (d->dt == IR_U8) T = "uint8_t";
  else if (is_f) T = fctype(d->dt);
  else return ir_error("pooling: dtype %s is not supported", ir_dtype_name(d->dt));
  if (!is_f && d->kind != KL_POOL_MAX) return ir_error("pooling: average needs a float dtype");
  if (d->r < 1 || d->r > KL_NN_MAX_SP) return ir_error("pooling: bad descriptor");
  if (max_pool_tiled(e, d) == 0 || avg_pool_plane(e, d) == 0) return 0;
  isz = ir_numel_dims(d->r, d->in);
  osz = ir_numel_dims(d->r, d->out);
  for (t = 0; t < d->r; t++) {
    int64_t last = (d->out[t] - 1) * d->s[t] - d->pb[t] + (d->k[t] - 1) * d->d[t];
    if (cip) {
      /* per dim, only the bound of the padded input; the real bounds are
       * checked after counting */
      lo[t] = 0;
      hi_v[t] = d->in[t] + d->pe[t];
      hi[t] = last >= hi_v[t];
    } else {
      lo[t] = d->pb[t] > 0;
      hi_v[t] = d->in[t];
      hi[t] = last >= d->in[t];
    }
  }
  if (kl_par_parts(emit_opts(e)->threads, d->NC, d->NC * osz * ir_numel_dims(d->r, d->k)) > 1)
    kl_par_for(e);   /* the planes in parallel */
  bc = kl_for(e, d->NC);
  xp = emit_fresh(e, "xp");
  yp = emit_fresh(e, "yp");
  emit_line(e, "const %s *%s = %s + %s * %lld;", T, xp, d->x, bc, (long long)isz);
  emit_line(e, "%s *%s = %s + %s * %lld;", T, yp, d->y, bc, (long long)osz);
  for (t = 0; t < d->r; t++) o[t] = kl_for(e, d->out[t]);
  acc = emit_fresh(e, "acc");
  if (d->kind == KL_POOL_MAX) {
    if (is_f) emit_line(e, "%s %s = -INFINITY;", T, acc);
    else emit_line(e, "%s %s = %s;", T, acc, d->dt == IR_I8 ? "-128" : "0");
    if (d->idx) {
      arg = emit_fresh(e, "arg");
      emit_line(e, "int64_t %s = -1;", arg);
    }
  } else {
    emit_line(e, "%s %s = %s;", T, acc, emit_literal(lit, sizeof lit, d->dt, 0.0));
    cnt = emit_fresh(e, "cnt");
    emit_line(e, "int64_t %s = 0;", cnt);
  }
  open_window(e, d->r, d->k, d->s, d->d, d->pb, o, lo, hi_v, hi, kk, p);
  if (cip) {
    sbuf c = {""};
    size_t l;
    emit_line(e, "%s++;", cnt);
    for (t = 0; t < d->r; t++) {
      /* with no end pad the per-dim check above already stopped at in[t] */
      int need_lo = d->pb[t] > 0, need_hi = d->pe[t] > 0 && (d->out[t] - 1) * d->s[t] - d->pb[t] +
                                                                (d->k[t] - 1) * d->d[t] >= d->in[t];
      l = strlen(c.s);
      if (need_lo) snprintf(c.s + l, sizeof c.s - l, "%s%s < 0", l ? " || " : "", p[t]);
      l = strlen(c.s);
      if (need_hi)
        snprintf(c.s + l, sizeof c.s - l, "%s%s >= %lld", l ? " || " : "", p[t], (long long)d->in[t]);
    }
    if (c.s[0]) emit_line(e, "if (%s) continue;", c.s);
  } else if (cnt) {
    emit_line(e, "%s++;", cnt);
  }
  flat(&xi, d->r, d->in, p);
  v = emit_fresh(e, "v");
  emit_line(e, "const %s %s = %s[%s];", T, v, xp, expr(&xi));
  if (d->kind == KL_POOL_MAX && arg) {
    sbuf ai;
    const char *rp[KL_NN_MAX_SP];
    int64_t rd[KL_NN_MAX_SP];
    if (d->storage_order == 1) {   /* column-major: flatten with the dims reversed */
      for (t = 0; t < d->r; t++) rp[t] = p[d->r - 1 - t], rd[t] = d->in[d->r - 1 - t];
      flat(&ai, d->r, rd, rp);
    } else {
      flat(&ai, d->r, d->in, p);
    }
    if (is_f)
      emit_line(e, "if (%s > %s || %s != %s) { %s = %s; %s = %s; }", v, acc, v, v, acc, v, arg, expr(&ai));
    else
      emit_line(e, "if (%s > %s || %s < 0) { %s = %s; %s = %s; }", v, acc, arg, acc, v, arg, expr(&ai));
  } else if (d->kind == KL_POOL_MAX) {
    if (is_f)   /* a NaN in the window wins, as np.max */
      emit_line(e, "if (%s > %s || %s != %s) %s = %s;", v, acc, v, v, acc, v);
    else
      emit_line(e, "if (%s > %s) %s = %s;", v, acc, acc, v);
  } else {
    emit_line(e, "%s += %s;", acc, v);
  }
  for (t = 0; t < d->r; t++) kl_end(e);
  flat(&xi, d->r, d->out, o);
  if (arg)
    emit_line(e, "%s[%s * %lld + %s] = %s < 0 ? -1 : %s * %lld + %s;", d->idx, bc, (long long)osz, expr(&xi), arg,
              bc, (long long)isz, arg);
  if (d->kind == KL_POOL_MAX)
    emit_line(e, "%s[%s] = %s;", yp, expr(&xi), acc);
  else
    emit_line(e, "%s[%s] = %s / (%s)%s;", yp, expr(&xi), acc, T, cnt);
  for (t = 0; t < d->r; t++) kl_end(e);
  kl_end(e);   /* bc */
  return 0;
}

/* ---- backward: convolution weights, pooling --------------------------------- */

/* lo[t]/hi[t]: whether window positions of dim t can fall below 0 / at or
 * past hi_v[t] (the bound checks the loops need). */
static void window_bounds(int r, const int64_t *out, const int64_t *k, const int64_t *s, const int64_t *dl,
                          const int64_t *pb, const int64_t *hi_v, int *lo, int *hi) {
  for (int t = 0; t < r; t++) {
    lo[t] = pb[t] > 0;
    hi[t] = (out[t] - 1) * s[t] - pb[t] + (k[t] - 1) * dl[t] >= hi_v[t];
  }
}

int kl_conv_wgrad(emit_ctx *e, const kl_conv_desc *d) {
  const char *T = fctype(d->dt), *mv, *ic, *bv, *kk[KL_NN_MAX_SP], *o[KL_NN_MAX_SP], *p[KL_NN_MAX_SP];
  const char *xg, *dym, *xb, *dyb;
  int64_t Cg = d->C / d->group, Mg = d->M / d->group, isz, ksz, osz;
  int lo[KL_NN_MAX_SP], hi[KL_NN_MAX_SP], t, L = d->r - 1;
  sbuf off = {""}, xi, oi, ki;
  char buf[1200];
  if (need_float_dt(d->dt, "convolution weight gradient")) return -1;
  if (d->r < 1 || d->r > KL_NN_MAX_SP || d->group < 1 || d->C % d->group || d->M % d->group)
    return ir_error("convolution weight gradient: bad descriptor");
  isz = ir_numel_dims(d->r, d->in);
  ksz = ir_numel_dims(d->r, d->k);
  osz = ir_numel_dims(d->r, d->out);
  window_bounds(d->r, d->out, d->k, d->s, d->d, d->pb, d->in, lo, hi);
  mv = kl_for(e, d->M);
  xg = emit_fresh(e, "xg");
  dym = emit_fresh(e, "dym");
  group_term(&off, mv, d->group, Mg, Cg * isz);
  emit_line(e, "const %s *%s = %s;", T, xg, offset_ptr(buf, sizeof buf, d->x, &off));
  emit_line(e, "const %s *%s = %s + %s * %lld;", T, dym, d->y, mv, (long long)osz);
  ic = kl_for(e, Cg);
  for (t = 0; t < d->r; t++) kk[t] = kl_for(e, d->k[t]);
  emit_line(e, "%s part[8] = {0};", T);   /* eight partial sums: one vector, no dependency chain */
  bv = kl_for(e, d->N);
  xb = emit_fresh(e, "xb");
  dyb = emit_fresh(e, "dyb");
  emit_line(e, "const %s *%s = %s + %s * %lld + %s * %lld;", T, xb, xg, bv, (long long)(d->C * isz), ic,
            (long long)isz);
  emit_line(e, "const %s *%s = %s + %s * %lld;", T, dyb, dym, bv, (long long)(d->M * osz));
  for (t = 0; t < L; t++) {   /* the outer spatial dims, checked position by position */
    sbuf pe = {""};
    o[t] = kl_for(e, d->out[t]);
    p[t] = emit_fresh(e, "p");
    term(&pe, o[t], d->s[t]);
    term(&pe, kk[t], d->d[t]);
    constant(&pe, -d->pb[t]);
    emit_line(e, "const int64_t %s = %s;", p[t], expr(&pe));
    if (lo[t] && hi[t]) emit_line(e, "if (%s < 0 || %s >= %lld) continue;", p[t], p[t], (long long)d->in[t]);
    else if (lo[t]) emit_line(e, "if (%s < 0) continue;", p[t]);
    else if (hi[t]) emit_line(e, "if (%s >= %lld) continue;", p[t], (long long)d->in[t]);
  }
  /* the last dim: input position ow*s + q, inside [0, in) for ow in [lo, hi) */
  {
    sbuf qe = {""};
    const char *q = emit_fresh(e, "q"), *lov = emit_fresh(e, "lo"), *hiv = emit_fresh(e, "hi"), *ow = emit_fresh(e, "ow");
    const char *j = emit_fresh(e, "j");
    int64_t sL = d->s[L];
    term(&qe, kk[L], d->d[L]);
    constant(&qe, -d->pb[L]);
    emit_line(e, "const int64_t %s = %s;", q, expr(&qe));
    emit_line(e, "const int64_t %s = %s >= 0 ? 0 : (%lld - %s) / %lld;", lov, q, (long long)(sL - 1), q, (long long)sL);
    emit_line(e, "int64_t %s = %s >= %lld ? 0 : (%lld - %s) / %lld + 1;", hiv, q, (long long)d->in[L],
              (long long)(d->in[L] - 1), q, (long long)sL);
    emit_line(e, "if (%s > %lld) %s = %lld;", hiv, (long long)d->out[L], hiv, (long long)d->out[L]);
    flat(&oi, L, d->out, o);
    flat(&xi, L, d->in, p);
    emit_line(e, "const %s *dyr = %s + (%s) * %lld;", T, dyb, expr(&oi), (long long)d->out[L]);
    emit_line(e, "const %s *xr = %s + (%s) * %lld;", T, xb, expr(&xi), (long long)d->in[L]);
    emit_line(e, "int64_t %s = %s;", ow, lov);
    emit_line(e, "for (; %s + 8 <= %s; %s += 8)", ow, hiv, ow);
    emit_line(e, "  for (int %s = 0; %s < 8; %s++) part[%s] += dyr[%s + %s] * xr[(%s + %s) * %lld + %s];", j, j, j, j,
              ow, j, ow, j, (long long)sL, q);
    emit_line(e, "for (; %s < %s; %s++) part[0] += dyr[%s] * xr[%s * %lld + %s];", ow, hiv, ow, ow, ow, (long long)sL, q);
  }
  for (t = 0; t < L; t++) kl_end(e);
  kl_end(e);   /* b */
  emit_line(e, "const %s acc = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));", T);
  flat(&ki, d->r, d->k, kk);
  emit_line(e, "%s[(%s * %lld + %s) * %lld + %s] = acc;", d->w, mv, (long long)Cg, ic, (long long)ksz, expr(&ki));
  for (t = 0; t < d->r; t++) kl_end(e);
  kl_end(e);   /* ic */
  kl_end(e);   /* m */
  return 0;
}

/* MaxPool's gradient when the windows tile the input (2-D, stride = kernel,
 * no pad or dilation; LeNet's 2x2/2): each window's argmax found without a
 * branch (which position wins is data: a branch on it mispredicts), then
 * every position of the window written once, dY at the argmax and 0
 * elsewhere; no scatter-add and no zeroing pass but for the rows and
 * columns no window covers.  Returns 1 when d is not such a pool. */
static int max_pool_grad_tiled(emit_ctx *e, const kl_pool_desc *d, const char *dx) {
  const char *T = fctype(d->dt), *bc, *oh, *ow, *ki, *kj;
  int64_t H, W, KH, KW, isz, osz;
  char lit[64];
  if (d->kind != KL_POOL_MAX || d->r != 2) return 1;
  for (int t = 0; t < 2; t++)
    if (d->s[t] != d->k[t] || d->d[t] != 1 || d->pb[t] != 0 || d->out[t] * d->s[t] > d->in[t]) return 1;
  H = d->in[0], W = d->in[1], KH = d->k[0], KW = d->k[1];
  isz = H * W;
  osz = d->out[0] * d->out[1];
  emit_literal(lit, sizeof lit, d->dt, 0.0);
  if (d->out[0] * KH != H || d->out[1] * KW != W) {   /* rows or columns past the last window: zeros */
    const char *i = kl_for(e, d->NC * isz);
    emit_line(e, "%s[%s] = %s;", dx, i, lit);
    kl_end(e);
  }
  bc = kl_for(e, d->NC);
  emit_line(e, "const %s *xp = %s + %s * %lld;", T, d->x, bc, (long long)isz);
  emit_line(e, "const %s *dyp = %s + %s * %lld;", T, d->y, bc, (long long)osz);
  emit_line(e, "%s *dxp = %s + %s * %lld;", T, dx, bc, (long long)isz);
  oh = kl_for(e, d->out[0]);
  ow = kl_for(e, d->out[1]);
  emit_line(e, "const int64_t base = %s * %lld + %s * %lld;", oh, (long long)(KH * W), ow, (long long)KW);
  emit_line(e, "const %s g = dyp[%s * %lld + %s];", T, oh, (long long)d->out[1], ow);
  emit_line(e, "%s best = -INFINITY;", T);
  emit_line(e, "int64_t arg = -1;");
  ki = kl_for(e, KH);
  kj = kl_for(e, KW);
  emit_line(e, "const int64_t q = base + %s * %lld + %s;", ki, (long long)W, kj);
  emit_line(e, "const %s v = xp[q];", T);
  emit_line(e, "const int take = (v > best) | (v != v);   /* the first maximum, a NaN taking over */");
  emit_line(e, "best = take ? v : best;");
  emit_line(e, "arg = take ? q : arg;");
  kl_end(e);
  kl_end(e);
  ki = kl_for(e, KH);
  kj = kl_for(e, KW);
  emit_line(e, "const int64_t q = base + %s * %lld + %s;", ki, (long long)W, kj);
  emit_line(e, "dxp[q] = q == arg ? g : %s;", lit);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  kl_end(e);   /* bc */
  return 0;
}

int kl_pool_grad(emit_ctx *e, const kl_pool_desc *d, const char *dx) {
  const char *T = fctype(d->dt), *bc, *i, *xp, *dyp, *dxp, *o[KL_NN_MAX_SP], *kk[KL_NN_MAX_SP], *p[KL_NN_MAX_SP];
  int64_t isz, osz, hi_v[KL_NN_MAX_SP] = {0};
  int lo[KL_NN_MAX_SP], hi[KL_NN_MAX_SP], t, cip = d->kind == KL_POOL_AVG && d->count_include_pad;
  sbuf xi, oi;
  char lit[64];
  if (need_float_dt(d->dt, "pooling gradient")) return -1;
  if (d->r < 1 || d->r > KL_NN_MAX_SP) return ir_error("pooling gradient: bad descriptor");
  if (max_pool_grad_tiled(e, d, dx) == 0) return 0;
  isz = ir_numel_dims(d->r, d->in);
  osz = ir_numel_dims(d->r, d->out);
  i = kl_for(e, d->NC * isz);
  emit_line(e, "%s[%s] = %s;", dx, i, emit_literal(lit, sizeof lit, d->dt, 0.0));
  kl_end(e);
  bc = kl_for(e, d->NC);
  xp = emit_fresh(e, "xp");
  dyp = emit_fresh(e, "dyp");
  dxp = emit_fresh(e, "dxp");
  if (d->kind == KL_POOL_MAX) emit_line(e, "const %s *%s = %s + %s * %lld;", T, xp, d->x, bc, (long long)isz);
  emit_line(e, "const %s *%s = %s + %s * %lld;", T, dyp, d->y, bc, (long long)osz);
  emit_line(e, "%s *%s = %s + %s * %lld;", T, dxp, dx, bc, (long long)isz);
  for (t = 0; t < d->r; t++) o[t] = kl_for(e, d->out[t]);
  flat(&oi, d->r, d->out, o);
  if (d->kind == KL_POOL_MAX) {
    /* the forward's argmax: the first maximum, a NaN taking over */
    emit_line(e, "%s best = -INFINITY;", T);
    emit_line(e, "int64_t arg = -1;");
    window_bounds(d->r, d->out, d->k, d->s, d->d, d->pb, d->in, lo, hi);
    open_window(e, d->r, d->k, d->s, d->d, d->pb, o, lo, d->in, hi, kk, p);
    flat(&xi, d->r, d->in, p);
    emit_line(e, "const %s v = %s[%s];", T, xp, expr(&xi));
    emit_line(e, "if (v > best || v != v) { best = v; arg = %s; }", expr(&xi));
    for (t = 0; t < d->r; t++) kl_end(e);
    emit_line(e, "if (arg >= 0) %s[arg] += %s[%s];", dxp, dyp, expr(&oi));
  } else {
    /* the forward's divisor: window positions inside the input, or inside
     * the padded input with count_include_pad */
    for (t = 0; t < d->r; t++) hi_v[t] = cip ? d->in[t] + d->pe[t] : d->in[t];
    window_bounds(d->r, d->out, d->k, d->s, d->d, d->pb, hi_v, lo, hi);
    if (cip)
      for (t = 0; t < d->r; t++) lo[t] = 0;   /* a window never starts before -pb */
    emit_line(e, "int64_t cnt = 0;");
    open_window(e, d->r, d->k, d->s, d->d, d->pb, o, lo, hi_v, hi, kk, p);
    for (t = 0; t < d->r; t++)
      if (!lo[t] && !hi[t]) emit_line(e, "(void)%s;", p[t]);   /* no bound to check in this dim */
    emit_line(e, "cnt++;");
    for (t = 0; t < d->r; t++) kl_end(e);
    emit_line(e, "const %s share = %s[%s] / (%s)cnt;", T, dyp, expr(&oi), T);
    window_bounds(d->r, d->out, d->k, d->s, d->d, d->pb, d->in, lo, hi);
    open_window(e, d->r, d->k, d->s, d->d, d->pb, o, lo, d->in, hi, kk, p);
    flat(&xi, d->r, d->in, p);
    emit_line(e, "%s[%s] += share;", dxp, expr(&xi));
    for (t = 0; t < d->r; t++) kl_end(e);
  }
  for (t = 0; t < d->r; t++) kl_end(e);
  kl_end(e);   /* bc */
  return 0;
}

/* ---- BatchNormalization channel map --------------------------------------- */

int kl_chan_affine(emit_ctx *e, const kl_chan_affine_desc *d) {
  const char *T = fctype(d->dt), *b, *c, *i, *mu, *sc, *bi, *xp, *yp;
  char lit[64];
  if (need_float_dt(d->dt, "BatchNormalization")) return -1;
  b = kl_for(e, d->N);
  c = kl_for(e, d->C);
  mu = emit_fresh(e, "mu");
  sc = emit_fresh(e, "sc");
  bi = emit_fresh(e, "bi");
  xp = emit_fresh(e, "xp");
  yp = emit_fresh(e, "yp");
  emit_line(e, "const %s %s = %s[%s];", T, mu, d->mean, c);
  emit_line(e, "const %s %s = %s[%s] / sqrt%s(%s[%s] + %s);", T, sc, d->scale, c,
            d->dt == IR_F32 ? "f" : "", d->var, c, emit_literal(lit, sizeof lit, d->dt, d->eps));
  emit_line(e, "const %s %s = %s[%s];", T, bi, d->bias, c);
  emit_line(e, "const %s *%s = %s + (%s * %lld + %s) * %lld;", T, xp, d->x, b, (long long)d->C, c,
            (long long)d->S);
  emit_line(e, "%s *%s = %s + (%s * %lld + %s) * %lld;", T, yp, d->y, b, (long long)d->C, c,
            (long long)d->S);
  i = kl_for(e, d->S);
  emit_line(e, "%s[%s] = (%s[%s] - %s) * %s + %s;", yp, i, xp, i, mu, sc, bi);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

/* acc[k] = the sum of term[k] over channel c's N*S elements of x [N, C, S]
 * (declared here, in the data's own type), each term reading the sources
 * src[q] (name = row[element], row the base of a [N, C, S] array).  A plane
 * of S >= KL_SUM_RUN_MIN values is summed by kl_sum_runs (partial sums that
 * vectorize), the planes' sums blocked over N; smaller ones element by
 * element, blocked over all N*S. */
static void chan_sums(emit_ctx *e, ir_dtype dt, int64_t N, int64_t C, int64_t S, const char *c, int n_src,
                      const kl_sum_src *src, int n, const char *const *acc, const char *const *term) {
  const char *T = fctype(dt), *b, *i;
  char rows[KL_SUM_MAX][256];
  kl_sum_src at[KL_SUM_MAX];
  int runs = S >= KL_SUM_RUN_MIN;
  int64_t blk = kl_sum_block(dt, runs ? N : N * S);
  for (int k = 0; k < n; k++) kl_sum_decl(e, T, acc[k], "0", blk);
  b = kl_for(e, N);
  for (int q = 0; q < n_src; q++) {
    snprintf(rows[q], sizeof rows[q], "(%s + (%s * %lld + %s) * %lld)", src[q].row, b, (long long)C, c, (long long)S);
    at[q].name = src[q].name;
    at[q].row = rows[q];
  }
  if (runs) {
    kl_sum_runs(e, T, n_src, at, n, acc, term, S);
  } else {
    i = kl_for(e, S);
    for (int q = 0; q < n_src; q++) emit_line(e, "const %s %s = %s[%s];", T, at[q].name, at[q].row, i);
    for (int k = 0; k < n; k++) emit_line(e, "%s += %s;", acc[k], term[k]);
  }
  for (int k = 0; k < n; k++) kl_sum_step(e, acc[k], blk);
  if (!runs) kl_end(e);
  kl_end(e);
  for (int k = 0; k < n; k++) kl_sum_done(e, acc[k], blk);
}

/* Channel c's batch mean into m and population variance into v, two
 * passes over its N*S values of x (the mean, then the squared deviations:
 * no cancellation).  Forward and backward compute them with this code. */
static void bn_stats(emit_ctx *e, ir_dtype dt, int64_t N, int64_t C, int64_t S, const char *x, const char *c,
                     const char *m, const char *v) {
  char cnt[64], dev[96];
  const kl_sum_src src = {"xv", x};
  const char *t0 = "xv", *t1 = dev;
  emit_literal(cnt, sizeof cnt, dt, (double)(N * S));
  snprintf(dev, sizeof dev, "(xv - %s) * (xv - %s)", m, m);
  chan_sums(e, dt, N, C, S, c, 1, &src, 1, &m, &t0);
  emit_line(e, "%s /= %s;", m, cnt);
  chan_sums(e, dt, N, C, S, c, 1, &src, 1, &v, &t1);
  emit_line(e, "%s /= %s;", v, cnt);
}

/* The statistics (bn_stats), then a third pass for y. */
int kl_bn_train(emit_ctx *e, const kl_bn_train_desc *t) {
  const kl_chan_affine_desc *d = &t->bn;
  const char *T = fctype(d->dt), *c, *b, *i, *m, *v, *sc, *sh;
  char eps[64], mom[64], vs[64];
  if (need_float_dt(d->dt, "BatchNormalization")) return -1;
  if (d->N * d->S == 0) return 0;
  emit_literal(eps, sizeof eps, d->dt, d->eps);
  emit_literal(mom, sizeof mom, d->dt, t->momentum);
  emit_literal(vs, sizeof vs, d->dt, t->var_scale);
  c = kl_for(e, d->C);
  m = emit_fresh(e, "m");
  v = emit_fresh(e, "v");
  bn_stats(e, d->dt, d->N, d->C, d->S, d->x, c, m, v);
  sc = emit_fresh(e, "sc");
  sh = emit_fresh(e, "sh");
  kl_line(e, d->dt, "const $T %s = %s[%s] / sqrt@(%s + %s);", sc, d->scale, c, v, eps);
  emit_line(e, "const %s %s = %s[%s];", T, sh, d->bias, c);
  b = kl_for(e, d->N);
  i = kl_for(e, d->S);
  emit_line(e, "const int64_t k = (%s * %lld + %s) * %lld + %s;", b, (long long)d->C, c, (long long)d->S, i);
  emit_line(e, "%s[k] = (%s[k] - %s) * %s + %s;", d->y, d->x, m, sc, sh);
  kl_end(e);
  kl_end(e);
  if (t->run_mean)
    emit_line(e, "%s[%s] = %s[%s] * %s + %s * (1 - %s);", t->run_mean, c, d->mean, c, mom, m, mom);
  if (t->run_var && t->var_scale != 1)
    emit_line(e, "%s[%s] = %s[%s] * %s + %s * %s * (1 - %s);", t->run_var, c, d->var, c, mom, v, vs, mom);
  else if (t->run_var)
    emit_line(e, "%s[%s] = %s[%s] * %s + %s * (1 - %s);", t->run_var, c, d->var, c, mom, v, mom);
  if (t->batch_mean) emit_line(e, "%s[%s] = %s;", t->batch_mean, c, m);
  if (t->batch_var) emit_line(e, "%s[%s] = %s;", t->batch_var, c, v);
  kl_end(e);
  return 0;
}

/* Per channel: the statistics (the forward's, or bn_stats again), one
 * pass for the two sums of g, one for dx.  The channels are independent:
 * with threads, each is one part. */
int kl_bn_grad(emit_ctx *e, const kl_bn_grad_desc *d) {
  const char *T = fctype(d->dt), *c, *b, *i, *m, *v, *r, *sg, *sgx, *k, *a, *q;
  char eps[64], cnt[64], g[64], gx[128];
  if (need_float_dt(d->dt, "BatchNormalizationGrad")) return -1;
  if (d->N * d->S == 0) {   /* no elements: sums of nothing */
    if (!d->dscale && !d->dbias) return 0;
    c = kl_for(e, d->C);
    if (d->dscale) emit_line(e, "%s[%s] = 0;", d->dscale, c);
    if (d->dbias) emit_line(e, "%s[%s] = 0;", d->dbias, c);
    kl_end(e);
    return 0;
  }
  emit_literal(eps, sizeof eps, d->dt, d->eps);
  emit_literal(cnt, sizeof cnt, d->dt, (double)(d->N * d->S));
  /* g: dY, or dY where the Relu's output is positive */
  kl_expand_typed(g, sizeof g, d->relu_y ? "(yv > 0 ? gv : 0.0@)" : "gv", d->dt);
  if (kl_par_parts(emit_opts(e)->threads, d->C, 4 * d->C * d->N * d->S) > 1) kl_par_for(e);
  c = kl_for(e, d->C);
  m = emit_fresh(e, "m");
  v = emit_fresh(e, "v");
  if (d->mean && d->var) {
    emit_line(e, "const %s %s = %s[%s], %s = %s[%s];", T, m, d->mean, c, v, d->var, c);
  } else {
    bn_stats(e, d->dt, d->N, d->C, d->S, d->x, c, m, v);
  }
  r = emit_fresh(e, "r");
  kl_line(e, d->dt, "const $T %s = 1 / sqrt@(%s + %s);", r, v, eps);
  sg = emit_fresh(e, "sg");
  sgx = emit_fresh(e, "sgx");
  snprintf(gx, sizeof gx, "%s * (xv - %s)", g, m);
  {
    const kl_sum_src src[3] = {{"xv", d->x}, {"gv", d->dy}, {"yv", d->relu_y}};
    const char *acc[2] = {sg, sgx}, *term[2] = {g, gx};
    chan_sums(e, d->dt, d->N, d->C, d->S, c, d->relu_y ? 3 : 2, src, 2, acc, term);
  }
  if (d->dbias) emit_line(e, "%s[%s] = %s;", d->dbias, c, sg);
  if (d->dscale) emit_line(e, "%s[%s] = %s * %s;", d->dscale, c, sgx, r);
  k = emit_fresh(e, "k");
  a = emit_fresh(e, "a");
  q = emit_fresh(e, "q");
  emit_line(e, "const %s %s = %s[%s] * %s;", T, k, d->scale, c, r);
  emit_line(e, "const %s %s = %s / %s;", T, a, sg, cnt);
  emit_line(e, "const %s %s = %s * %s * %s / %s;", T, q, sgx, r, r, cnt);
  b = kl_for(e, d->N);
  i = kl_for(e, d->S);
  emit_line(e, "const int64_t o = (%s * %lld + %s) * %lld + %s;", b, (long long)d->C, c, (long long)d->S, i);
  emit_line(e, "const %s xv = %s[o], gv = %s[o]%s%s%s;", T, d->x, d->dy, d->relu_y ? ", yv = " : "",
            d->relu_y ? d->relu_y : "", d->relu_y ? "[o]" : "");
  emit_line(e, "%s[o] = %s * (%s - %s - (xv - %s) * %s);", d->dx, k, g, a, m, q);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}
