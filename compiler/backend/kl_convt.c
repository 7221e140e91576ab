/*
 * kl_convt.c - 2-D ConvTranspose (float32) on the GEMM core, by output
 * phases (a convolution's strided input gradient is one).
 *
 *   y[m, oh, ow] = sum over c, (ih, ki), (iw, kj) with oh = ih*SH + ki*DH - PH,
 *                  ow = iw*SW + kj*DW - PW  of  x[c, ih, iw] w[c, m, ki, kj]
 *
 * Output row oh = a + SH*r (phase a < SH) is reached by the taps ki with
 * a + PH - ki*DH divisible by SH, from input row ih = r + oi, oi = (a + PH -
 * ki*DH) / SH; columns alike.  So each phase (a, b) of the output is a
 * stride-1 correlation of x with its own subset of the taps (a 3x3 stride-2
 * kernel splits into 1, 2, 2 and 4 taps; a 1x1 stride-2 one leaves three
 * phases no tap reaches, which take the bias or zeros): per phase, one
 * product on the core's MR x NT tile (mc_tile), A = the phase's w^T over
 * (c, tap) packed at run time into panels (the weight of a training step
 * changes every step), B(k, v) = xp[ko[k] + v] over a grid of the phase's
 * output rows, vw columns wide, through a tap table.  xp holds one copy of
 * x's channels per distinct column shift oj, each shifted by it and with
 * zero rows above (top) and below, so that every tap's row of B is one
 * contiguous run and a strip of the tile may run across grid rows (no
 * column of a vector is wasted on 8-pixel rows); x itself serves when that
 * copy would equal it.  The product of a band of the phase's rows goes to
 * scratch and is then stored into every SH-th row and SW-th column of y with
 * the bias (two column phases interleaved row by row at stride 2): each y
 * value is written once, where the col2im of
 * emit_image.c adds each of K*K tap products into y (on ResNet-8's
 * backward that add cost about as much as its product).  A 1x1 kernel
 * stays on that path (see kl_convt_lower).
 */
#include "kl_convt.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "kl_gemm.h"
#include "kernels.h"

#define CT_BAND_FLOATS 16384   /* a band of the phase's product: 64 KiB */

static const char src_convt[] =
    "/* ---- ConvTranspose by output phases on the GEMM core (kl_convt.c) ---- */\n"
    "typedef struct mc_convt_phase {\n"
    "  int64_t a, b, OHa, OWb, K;      /* the phase, its output rows and columns, taps x channels */\n"
    "  const int32_t *ko, *wo;         /* per k: B's row in the copies, w's offset (group 0, m 0) */\n"
    "} mc_convt_phase;\n"
    "typedef struct mc_convt_args {\n"
    "  int64_t N, G, C, M, H, W, OH, OW, SH, SW, KHW;   /* C, M: channels per group */\n"
    "  int64_t top, vh, vw, nj, RB;\n"
    "  const int64_t *oj;               /* each copy's column shift */\n"
    "  int np;\n"
    "  const mc_convt_phase *ph;\n"
    "  const float *x, *w, *bias;\n"
    "  float *y;\n"
    "  float *apk, *xp, *yb;            /* scratch: A panels of every phase, the copies (NULL: x in place), a band */\n"
    "} mc_convt_args;\n"
    "\n"
    "static void mc_convt(const mc_convt_args *t) {\n"
    "  const int64_t MP = (t->M + MC_MR - 1) / MC_MR * MC_MR, plane = t->vh * t->vw, osz = t->OH * t->OW;\n"
    "  const int64_t isz = t->H * t->W;\n"
    "  mc_gemm_args g;\n"
    "  int64_t gi, n, p, pe, i, k, m, j, c, r, r0, v;\n"
    "  (void)mc_gemm;   /* emitted with the tile, unused here */\n"
    "  memset(&g, 0, sizeof g);\n"
    "  g.alpha = 1.0f;\n"
    "  /* the copies' zeros (rows above and below x, columns a shift leaves) are the same for every image */\n"
    "  if (t->xp) memset(t->xp, 0, sizeof(float) * (size_t)(t->nj * t->C * plane + 32));\n"
    "  for (gi = 0; gi < t->G; gi++) {\n"
    "    const float *wg = t->w + gi * t->C * t->M * t->KHW;\n"
    "    float *ap = t->apk;\n"
    "    for (p = 0; p < t->np; p++) {   /* A of phase p: panels [MP/MR][K][MR], zeros past M */\n"
    "      const mc_convt_phase *q = t->ph + p;\n"
    "      for (m = 0; m < MP; m++)\n"
    "        for (k = 0; k < q->K; k++)\n"
    "          ap[(m / MC_MR) * q->K * MC_MR + k * MC_MR + m % MC_MR] = m < t->M ? wg[q->wo[k] + m * t->KHW] : 0.0f;\n"
    "      ap += MP * q->K;\n"
    "    }\n"
    "    for (n = 0; n < t->N; n++) {\n"
    "      const float *xn = t->x + (n * t->G + gi) * t->C * isz, *xb = xn;\n"
    "      float *yn = t->y + (n * t->G + gi) * t->M * osz;\n"
    "      const float *bn = t->bias ? t->bias + gi * t->M : NULL;\n"
    "      if (t->xp) {   /* copy j: xp[j][c][r][s] = x[c][r - top][s + oj[j]], zeros outside */\n"
    "        for (j = 0; j < t->nj; j++) {\n"
    "          const int64_t o = t->oj[j], s0 = o < 0 ? -o : 0, s1 = t->W - o < t->vw ? t->W - o : t->vw;\n"
    "          if (s1 <= s0) continue;\n"
    "          for (c = 0; c < t->C; c++)\n"
    "            for (r = 0; r < t->H && r + t->top < t->vh; r++) {   /* a loop: memcpy of a short row costs more */\n"
    "              float *d = t->xp + (j * t->C + c) * plane + (r + t->top) * t->vw;\n"
    "              const float *sx = xn + c * isz + r * t->W + o;\n"
    "              int64_t u;\n"
    "              for (u = s0; u < s1; u++) d[u] = sx[u];\n"
    "            }\n"
    "        }\n"
    "        xb = t->xp;\n"
    "      }\n"
    "      for (p = 0; p < t->np; p++) {   /* rows with a phase no tap reaches: the bias (or 0) whole */\n"
    "        const mc_convt_phase *q = t->ph + p;\n"
    "        if (q->K || (p && t->ph[p - 1].a == q->a && !t->ph[p - 1].K)) continue;   /* each row phase once */\n"
    "        for (m = 0; m < t->M; m++)\n"
    "          for (r = q->a; r < t->OH; r += t->SH)\n"
    "            for (c = 0; c < t->OW; c++) yn[m * osz + r * t->OW + c] = bn ? bn[m] : 0.0f;\n"
    "      }\n"
    "      ap = t->apk;\n"
    "      for (p = 0; p < t->np; p = pe) {   /* the phases of output row phase a together */\n"
    "        const int64_t a = t->ph[p].a, oha = t->ph[p].OHa, slot = t->M * t->RB * t->vw;\n"
    "        for (pe = p; pe < t->np && t->ph[pe].a == a; pe++) continue;\n"
    "        for (r0 = 0; r0 < oha; r0 += t->RB) {   /* a band of their rows: each one's product, then stored */\n"
    "          const int64_t r1 = oha - r0 < t->RB ? oha : r0 + t->RB, v0 = r0 * t->vw, v1 = r1 * t->vw;\n"
    "          const float *aq = ap;\n"
    "          g.ldy = v1 - v0;\n"
    "          for (i = p; i < pe; aq += MP * t->ph[i].K, i++) {\n"
    "            const mc_convt_phase *q = t->ph + i;\n"
    "            if (!q->K) continue;   /* filled above */\n"
    "            g.y = t->yb + (i - p) * slot;\n"
    "            for (v = v0; v < v1; v += MC_NT) {\n"
    "              const int nr = v1 - v < MC_NT ? (int)(v1 - v) : MC_NT;\n"
    "              for (m = 0; m < t->M; m += MC_MR)\n"
    "                mc_tile(&g, q->K, aq + m * q->K, 1, MC_MR, t->M - m < MC_MR ? (int)(t->M - m) : MC_MR, xb + v, 0,\n"
    "                        xb + v + MC_NR, 0, nr, m, v - v0, v - v0 + MC_NR, MC_FIRST | MC_LAST, q->ko);\n"
    "            }\n"
    "          }\n"
    "          for (m = 0; m < t->M; m++) {\n"
    "            const float bm = bn ? bn[m] : 0.0f;\n"
    "            for (r = r0; r < r1; r++) {\n"
    "              const int64_t so = m * g.ldy + (r - r0) * t->vw;\n"
    "              float *d = yn + m * osz + (a + r * t->SH) * t->OW;\n"
    "              if (t->SW == 2 && pe - p == 2 && t->ph[p].K && t->ph[p + 1].K) {   /* both columns: interleaved */\n"
    "                const float *s0 = t->yb + so, *s1 = s0 + slot;\n"
    "                for (c = 0; c < t->OW / 2; c++) {\n"
    "                  d[2 * c] = s0[c] + bm;\n"
    "                  d[2 * c + 1] = s1[c] + bm;\n"
    "                }\n"
    "                if (t->OW % 2) d[t->OW - 1] = s0[t->OW / 2] + bm;\n"
    "                continue;\n"
    "              }\n"
    "              for (i = p; i < pe; i++) {\n"
    "                const mc_convt_phase *q = t->ph + i;\n"
    "                const float *sq = t->yb + (i - p) * slot + so;\n"
    "                if (q->K)\n"
    "                  for (c = 0; c < q->OWb; c++) d[q->b + c * t->SW] = sq[c] + bm;\n"
    "              }\n"
    "            }\n"
    "          }\n"
    "        }\n"
    "        for (i = p; i < pe; i++) ap += MP * t->ph[i].K;\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* The taps of one axis that reach output phase a: ki with a + P - ki*D a
 * multiple of S, each from input offset (a + P - ki*D) / S.  Returns how many. */
static int axis_taps(int64_t a, int64_t S, int64_t D, int64_t P, int64_t K, int64_t *ki, int64_t *off) {
  int cnt = 0;
  for (int64_t k = 0; k < K; k++) {
    int64_t num = a + P - k * D;
    if (((num % S) + S) % S) continue;
    if (ki) ki[cnt] = k;
    if (off) off[cnt] = num / S;
    cnt++;
  }
  return cnt;
}

/* Outputs of phase a of an axis of n outputs, stride S. */
static int64_t phase_len(int64_t a, int64_t S, int64_t n) { return a < n ? (n - a + S - 1) / S : 0; }

static int64_t round_mr(int64_t m) { return (m + KL_MM_MR - 1) / KL_MM_MR * KL_MM_MR; }

int kl_convt_lower(const ir_node *n, kl_convt *c) {
  const ir_tensor *X = n->in[0], *Wt = n->in[1], *Y = n->out[0];
  const int64_t *k, *s, *d, *p;
  int64_t grp = ir_attr_int(n, "group", 1), off[64], maxoh = 0, taps = 0;
  memset(c, 0, sizeof *c);
  if (X->rank != 4 || Y->dtype != IR_F32 || X->dtype != IR_F32 || !ir_shape_known(X) || !ir_shape_known(Y) ||
      !ir_shape_known(Wt) || ir_numel(Y) == 0 || ir_numel(X) == 0 || grp < 1)
    return -1;
  if (ir_attr_ints(n, "kernel_shape", &k) != 2 || ir_attr_ints(n, "strides", &s) != 2 ||
      ir_attr_ints(n, "dilations", &d) != 2 || ir_attr_ints(n, "pads", &p) != 4)
    return -1;
  c->N = X->shape[0], c->G = grp, c->C = X->shape[1] / grp, c->M = Y->shape[1] / grp;
  c->H = X->shape[2], c->W = X->shape[3], c->OH = Y->shape[2], c->OW = Y->shape[3];
  c->KH = k[0], c->KW = k[1], c->SH = s[0], c->SW = s[1], c->DH = d[0], c->DW = d[1], c->PH = p[0], c->PW = p[1];
  if (c->C * grp != X->shape[1] || c->M * grp != Y->shape[1] || c->SH < 1 || c->SW < 1 ||
      c->SH * c->SW > KL_CT_MAX_PHASES || c->KH < 1 || c->KW < 1 || c->KH > 64 || c->KW > 64 || c->DH < 1 ||
      c->DW < 1 || Wt->rank != 4 || Wt->shape[0] != X->shape[1] || Wt->shape[1] != c->M)
    return -1;
  /* one tap (1x1): each phase is the plain product or zeros, where emit_image.c's GEMM and
   * scatter measured faster (ResNet-8's stride-2 shortcuts: 276 against 322 us at batch 32) */
  if (c->KH * c->KW == 1) return -1;
  /* the phases with outputs; the copies' rows (zeros above: top) and columns, and their shifts */
  c->top = 0;
  for (int64_t a = 0; a < c->SH; a++) {
    int cnt = axis_taps(a, c->SH, c->DH, c->PH, c->KH, NULL, off);
    for (int i = 0; i < cnt; i++)
      if (-off[i] > c->top) c->top = -off[i];
  }
  c->vh = 0;
  for (int64_t a = 0; a < c->SH; a++) {
    int64_t len = phase_len(a, c->SH, c->OH);
    int cnt = axis_taps(a, c->SH, c->DH, c->PH, c->KH, NULL, off);
    if (len > maxoh) maxoh = len;
    for (int i = 0; i < cnt && len > 0; i++)
      if (len + off[i] + c->top > c->vh) c->vh = len + off[i] + c->top;
  }
  c->vw = phase_len(0, c->SW, c->OW);
  c->nj = 0;
  for (int64_t b = 0; b < c->SW; b++) {
    int cnt = axis_taps(b, c->SW, c->DW, c->PW, c->KW, NULL, off);
    if (phase_len(b, c->SW, c->OW) == 0) continue;
    for (int i = 0; i < cnt; i++) {
      int64_t j = 0;
      while (j < c->nj && c->oj[j] != off[i]) j++;
      if (j == c->nj) {
        if (c->nj == KL_CT_MAX_PHASES) return -1;
        c->oj[c->nj++] = off[i];
      }
    }
  }
  c->np = 0;
  for (int64_t a = 0; a < c->SH; a++)
    for (int64_t b = 0; b < c->SW; b++) {
      if (!phase_len(a, c->SH, c->OH) || !phase_len(b, c->SW, c->OW)) continue;
      c->pa[c->np] = a, c->pb[c->np] = b, c->np++;
      taps += axis_taps(a, c->SH, c->DH, c->PH, c->KH, NULL, NULL) * axis_taps(b, c->SW, c->DW, c->PW, c->KW, NULL, NULL);
    }
  c->in_place = c->nj == 1 && c->oj[0] == 0 && c->top == 0 && c->vh <= c->H && c->vw == c->W && c->W % 16 == 0;
  if (c->in_place) c->vh = c->H;   /* B's rows are x's planes */
  c->sa = round_mr(c->M) * c->C * taps;
  c->sx = c->in_place ? 0 : c->nj * c->C * c->vh * c->vw + 32;
  c->rb = CT_BAND_FLOATS / (c->M * c->vw);
  if (c->rb < 1) c->rb = 1;
  if (c->rb > maxoh) c->rb = maxoh;
  c->sy = c->SW * c->M * c->rb * c->vw;   /* a slot for each column phase of a row phase */
  /* tap offsets are int32 */
  if ((c->in_place ? c->C * c->H * c->W : c->sx) >= INT32_MAX || c->C * c->M * c->KH * c->KW >= INT32_MAX) return -1;
  return 0;
}

static int64_t round16(int64_t x) { return (x + 15) / 16 * 16; }

int64_t kl_convt_scratch_bytes(const kl_convt *c) {
  return (int64_t)sizeof(float) * (round16(c->sa) + round16(c->sx) + round16(c->sy));
}

int kl_convt_render(emit_ctx *e, const ir_node *n, const kl_convt *c) {
  kl_mm mm;
  const char *x = emit_in(e, 0), *w = emit_in(e, 1), *y = emit_out(e, 0);
  const char *bias = n->n_in > 2 && n->in[2] ? emit_in(e, 2) : NULL;
  const char *t, *s, *ph, *oj;
  char names[KL_CT_MAX_PHASES][2][32];
  int64_t plane = c->vh * c->vw, ki[64], kj[64], oi[64], ojs[64];
  memset(&mm, 0, sizeof mm);
  mm.kind = KL_MM_GEMM;
  kl_mm_use(e, &mm);   /* mc_tile and its kin */
  emit_helper(e, "mc_convt", src_convt);
  emit_kernel(e, "gemm 6x32 convt phases");
  kl_block(e);
  emit_line(e, "/* %d output phases of stride %lldx%lld, each a product over its taps (kl_convt.c) */", c->np,
            (long long)c->SH, (long long)c->SW);
  for (int q = 0; q < c->np; q++) {   /* the tap tables of each phase: k = (channel, row tap, column tap) */
    int na = axis_taps(c->pa[q], c->SH, c->DH, c->PH, c->KH, ki, oi);
    int nb = axis_taps(c->pb[q], c->SW, c->DW, c->PW, c->KW, kj, ojs);
    int64_t K = c->C * na * nb, i = 0;
    int64_t *ko, *wo;
    if (!K) continue;
    ko = malloc(sizeof *ko * (size_t)K), wo = malloc(sizeof *wo * (size_t)K);
    if (!ko || !wo) {
      free(ko), free(wo);
      return op_fail(n, "out of memory");
    }
    for (int64_t ch = 0; ch < c->C; ch++)
      for (int u = 0; u < na; u++)
        for (int v = 0; v < nb; v++, i++) {
          int64_t j = 0;
          while (c->oj[j] != ojs[v]) j++;
          ko[i] = (j * c->C + ch) * plane + (oi[u] + c->top) * c->vw;
          wo[i] = ch * c->M * c->KH * c->KW + ki[u] * c->KW + kj[v];
        }
    snprintf(names[q][0], sizeof names[q][0], "%s", emit_fresh(e, "ko"));
    snprintf(names[q][1], sizeof names[q][1], "%s", emit_fresh(e, "wo"));
    emit_int_table(e, "int32_t", names[q][0], ko, K, 8);   /* int32: kl_convt_lower bounds them */
    emit_int_table(e, "int32_t", names[q][1], wo, K, 8);
    free(ko), free(wo);
  }
  oj = emit_fresh(e, "oj");
  emit_int_table(e, "int64_t", oj, c->oj, c->nj ? c->nj : 1, 8);   /* oj[0] is 0 when nj is */
  ph = emit_fresh(e, "ph");
  emit_line(e, "static const mc_convt_phase %s[%d] = {", ph, c->np);
  for (int q = 0; q < c->np; q++) {
    int na = axis_taps(c->pa[q], c->SH, c->DH, c->PH, c->KH, NULL, NULL);
    int nb = axis_taps(c->pb[q], c->SW, c->DW, c->PW, c->KW, NULL, NULL);
    int64_t K = c->C * na * nb;
    emit_line(e, "  {%lld, %lld, %lld, %lld, %lld, %s, %s},", (long long)c->pa[q], (long long)c->pb[q],
              (long long)phase_len(c->pa[q], c->SH, c->OH), (long long)phase_len(c->pb[q], c->SW, c->OW),
              (long long)K, K ? names[q][0] : "NULL", K ? names[q][1] : "NULL");
  }
  emit_line(e, "};");
  t = emit_fresh(e, "ct");
  s = emit_scratch(e);
  emit_line(e, "mc_convt_args %s;", t);
  emit_line(e, "%s.N = %lld, %s.G = %lld, %s.C = %lld, %s.M = %lld;", t, (long long)c->N, t, (long long)c->G, t,
            (long long)c->C, t, (long long)c->M);
  emit_line(e, "%s.H = %lld, %s.W = %lld, %s.OH = %lld, %s.OW = %lld;", t, (long long)c->H, t, (long long)c->W, t,
            (long long)c->OH, t, (long long)c->OW);
  emit_line(e, "%s.SH = %lld, %s.SW = %lld, %s.KHW = %lld;", t, (long long)c->SH, t, (long long)c->SW, t,
            (long long)(c->KH * c->KW));
  emit_line(e, "%s.top = %lld, %s.vh = %lld, %s.vw = %lld, %s.nj = %lld, %s.RB = %lld;", t, (long long)c->top, t,
            (long long)c->vh, t, (long long)c->vw, t, (long long)c->nj, t, (long long)c->rb);
  emit_line(e, "%s.oj = %s, %s.np = %d, %s.ph = %s;", t, oj, t, c->np, t, ph);
  emit_line(e, "%s.x = %s, %s.w = %s, %s.bias = %s, %s.y = %s;", t, x, t, w, t, bias ? bias : "NULL", t, y);
  emit_line(e, "%s.apk = (float *)(void *)%s;", t, s);
  if (c->in_place) emit_line(e, "%s.xp = NULL;", t);
  else emit_line(e, "%s.xp = %s.apk + %lld;", t, t, (long long)round16(c->sa));
  emit_line(e, "%s.yb = %s.apk + %lld;", t, t, (long long)(round16(c->sa) + round16(c->sx)));
  emit_line(e, "mc_convt(&%s);", t);
  kl_end(e);
  return 0;
}
