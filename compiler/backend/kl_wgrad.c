/*
 * kl_wgrad.c - a convolution's weight gradient on the GEMM core.
 *
 *   dW[g*M + m, (c, ki, kj)] = sum over b, (oh, ow) of
 *       dY[b, g*M + m, oh, ow] * X[b, g*C + c, oh*SH - PH + ki*DH, ow*SW - PW + kj*DW]
 *
 * is, per group, one matrix product whose K runs over the batch and the
 * output positions together: dW^T[tap][m] = im2col(X)[tap][k] . dY^T[k][m].
 * The taps (C*KH*KW of them, tens to hundreds) are the product's M and the
 * output channels its N, in that order because the core's A is read in place
 * (broadcast, not packed): the im2col rows are built contiguous along k, which
 * is a plain copy of input rows, while dY, the small side, is packed into B
 * panels.  The other way round (dY as A, im2col^T as B) packs every im2col
 * value into a panel lane, a gather as costly as the product when M is 16.
 * K is cut into blocks of KB positions (across sample boundaries, so small
 * planes still make long blocks): each block's im2col rows ([taps][KB]) and
 * dY panels ([M/NR][KB][NR]) go to scratch, and mc_gemm adds the block's
 * product to the accumulator dW^T (its residual: read before it is stored).
 * The accumulator is transposed into dW once per group.  The block is sized
 * to stay in L2 and to the planner's scratch cap (PLAN_SCRATCH_CAP_ATTR).
 */
#include "kl_wgrad.h"

#include <stdio.h>
#include <string.h>

#include "../passes/plan.h"

#define WG_BLOCK_FLOATS 131072   /* the im2col block's goal: 512 KiB, a quarter of L2 */
#define WG_KB_MIN 32             /* under a cap, blocks shorten down to this many positions */

static const char src_wgrad[] =
    "/* ---- a convolution's weight gradient on the GEMM core (kl_wgrad.c) ---- */\n"
    "typedef struct mc_wgrad_args {\n"
    "  int64_t NB, G, C, M, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW, KB;\n"
    "  const float *x, *dy;\n"
    "  float *dw;\n"
    "  float *acc, *a, *b, *ascratch;   /* scratch: dW^T [taps][M], im2col [taps][KB], dY [M/NR][KB][NR], A's edge */\n"
    "} mc_wgrad_args;\n"
    "\n"
    "/* Positions k0..k0+kb-1 (batch and output flattened) of group g: the\n"
    " * im2col rows into w->a (row t = tap (c, ki, kj), kb long), zeros where\n"
    " * the window is outside X, and dY's columns into B panels at w->b. */\n"
    "static void mc_wgrad_block(const mc_wgrad_args *w, int64_t g, int64_t k0, int64_t kb) {\n"
    "  const int64_t khw = w->KH * w->KW, osz = w->OH * w->OW, isz = w->H * w->W, np = (w->M + MC_NR - 1) / MC_NR;\n"
    "  const int64_t b0 = k0 / osz, oh0 = k0 % osz / w->OW, ow0 = k0 % w->OW;\n"
    "  int64_t t, m, j, q, b, oh, ow;\n"
    "  for (t = 0; t < w->C * khw; t++) {\n"
    "    const int64_t c = t / khw, ki = t % khw / w->KW, kj = t % w->KW, off = kj * w->DW - w->PW;\n"
    "    /* the output columns [lo, hi) whose input column ow*SW + off is inside */\n"
    "    int64_t lo = off < 0 ? (-off + w->SW - 1) / w->SW : 0;\n"
    "    int64_t hi = w->W - off <= 0 ? 0 : (w->W - off + w->SW - 1) / w->SW;\n"
    "    float *d = w->a + t * kb;\n"
    "    if (hi > w->OW) hi = w->OW;\n"
    "    if (lo > hi) lo = hi;\n"
    "    /* one output row (or what of it the block holds) at a time: (b, oh, ow) steps along */\n"
    "    for (j = 0, b = b0, oh = oh0, ow = ow0; j < kb; j += w->OW - ow, ow = 0) {\n"
    "      const int64_t cnt = w->OW - ow < kb - j ? w->OW - ow : kb - j, ih = oh * w->SH - w->PH + ki * w->DH;\n"
    "      int64_t q0 = lo - ow, q1 = hi - ow;\n"
    "      float *dr = d + j;\n"
    "      if (ih < 0 || ih >= w->H) q0 = q1 = cnt;\n"
    "      q0 = q0 < 0 ? 0 : q0 > cnt ? cnt : q0;\n"
    "      q1 = q1 < q0 ? q0 : q1 > cnt ? cnt : q1;\n"
    "      for (q = 0; q < q0; q++) dr[q] = 0.0f;\n"
    "      if (q1 > q0) {   /* a loop, not memcpy: the calls cost more than these short copies */\n"
    "        const float *xr = w->x + ((b * w->G + g) * w->C + c) * isz + ih * w->W + ow * w->SW + off;\n"
    "        if (w->SW == 1)\n"
    "          for (q = q0; q < q1; q++) dr[q] = xr[q];\n"
    "        else\n"
    "          for (q = q0; q < q1; q++) dr[q] = xr[q * w->SW];\n"
    "      }\n"
    "      for (q = q1; q < cnt; q++) dr[q] = 0.0f;\n"
    "      if (++oh == w->OH) oh = 0, b++;\n"
    "    }\n"
    "  }\n"
    "  /* dY: position k's M values into lane m % NR of row k of panel m / NR, the lanes\n"
    "   * past M zero: the row zeroed whole (one vector store; a loop of a variable count\n"
    "   * became rep stos), then the values stored one by one (a row built on the stack\n"
    "   * and copied whole stalls on store forwarding) */\n"
    "  for (j = 0, b = b0, q = k0 % osz; j < kb; j++) {\n"
    "    const float *s = w->dy + (b * w->G + g) * w->M * osz + q;\n"
    "    for (t = 0; t < np; t++) {\n"
    "      float *d = w->b + (t * kb + j) * MC_NR;\n"
    "      const int64_t cnt = w->M - t * MC_NR < MC_NR ? w->M - t * MC_NR : MC_NR;\n"
    "      for (m = 0; m < MC_NR; m++) d[m] = 0.0f;\n"
    "      for (m = 0; m < cnt; m++) d[m] = s[(t * MC_NR + m) * osz];\n"
    "    }\n"
    "    if (++q == osz) q = 0, b++;\n"
    "  }\n"
    "}\n"
    "\n"
    "static void mc_wgrad(const mc_wgrad_args *w) {\n"
    "  const int64_t taps = w->C * w->KH * w->KW, total = w->NB * w->OH * w->OW;\n"
    "  int64_t g, k0, m, t;\n"
    "  for (g = 0; g < w->G; g++) {\n"
    "    for (k0 = 0; k0 < total; k0 += w->KB) {\n"
    "      const int64_t kb = total - k0 < w->KB ? total - k0 : w->KB;\n"
    "      mc_gemm_args a;\n"
    "      mc_wgrad_block(w, g, k0, kb);\n"
    "      memset(&a, 0, sizeof a);\n"
    "      a.M = taps, a.N = w->M, a.K = kb;\n"
    "      a.MC = MC_WG_MC, a.KC = MC_WG_KC, a.NC = (w->M + MC_NR - 1) / MC_NR * MC_NR;\n"
    "      a.a = w->a, a.ars = kb, a.aks = 1;\n"
    "      a.bkind = MC_B_PACKED, a.b = w->b;\n"
    "      a.y = w->acc, a.ldy = w->M, a.alpha = 1.0f;\n"
    "      if (k0) a.res = w->acc, a.ldr = w->M, a.rscale = 1.0f;   /* the blocks before, summed */\n"
    "      a.ascratch = w->ascratch;\n"
    "      mc_gemm(&a, 0, taps, 0, w->M);\n"
    "    }\n"
    "    for (m = 0; m < w->M; m++)\n"
    "      for (t = 0; t < taps; t++) w->dw[(g * w->M + m) * taps + t] = w->acc[t * w->M + m];\n"
    "  }\n"
    "}\n";

static int64_t round16(int64_t x) { return (x + 15) / 16 * 16; }

int kl_wgrad_lower(const ir_node *n, const kl_conv_desc *c, kl_wgrad *w) {
  int64_t cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1), taps, total, per, fixed;
  memset(w, 0, sizeof *w);
  if (c->dt != IR_F32 || c->r < 1 || c->r > 2 || c->group < 1 || c->C % c->group || c->M % c->group) return -1;
  w->NB = c->N;
  w->G = c->group;
  w->C = c->C / c->group;
  w->M = c->M / c->group;
  w->H = c->r == 2 ? c->in[0] : 1;
  w->W = c->in[c->r - 1];
  w->OH = c->r == 2 ? c->out[0] : 1;
  w->OW = c->out[c->r - 1];
  w->KH = c->r == 2 ? c->k[0] : 1;
  w->KW = c->k[c->r - 1];
  w->SH = c->r == 2 ? c->s[0] : 1;
  w->SW = c->s[c->r - 1];
  w->DH = c->r == 2 ? c->d[0] : 1;
  w->DW = c->d[c->r - 1];
  w->PH = c->r == 2 ? c->pb[0] : 0;
  w->PW = c->pb[c->r - 1];
  taps = w->C * w->KH * w->KW;
  total = w->NB * w->OH * w->OW;
  if (w->NB <= 0 || w->C <= 0 || w->M <= 0 || taps <= 0 || total <= 0) return -1;
  /* floats per position of a block: an im2col column and a row of dY panels */
  per = taps + round16(w->M);
  w->acc = taps * w->M;
  w->as = taps % KL_MM_MR ? KL_MM_KC * KL_MM_MR : 0;
  w->KB = WG_BLOCK_FLOATS / taps;
  if (w->KB < WG_KB_MIN) w->KB = WG_KB_MIN;
  if (cap >= 0) {   /* the cap less the fixed parts and each part's rounding to 16 floats */
    fixed = round16(w->acc) + w->as + 3 * 16;
    if (w->KB * per > cap / (int64_t)sizeof(float) - fixed)
      w->KB = (cap / (int64_t)sizeof(float) - fixed) / per > WG_KB_MIN ? (cap / (int64_t)sizeof(float) - fixed) / per
                                                                         : WG_KB_MIN;
  }
  if (w->KB > total) w->KB = total;
  w->a = taps * w->KB;
  w->b = round16(w->M) * w->KB;
  return 0;
}

int64_t kl_wgrad_scratch_bytes(const kl_wgrad *w) {
  return (int64_t)sizeof(float) * (round16(w->acc) + round16(w->a) + round16(w->b) + w->as);
}

int kl_wgrad_render(emit_ctx *e, const kl_wgrad *w, const char *x, const char *dy, const char *dw) {
  char def[128];
  kl_mm mm;
  const char *s, *g;
  /* the GEMM core's helpers (mc_gemm for a product of A in place, B packed) */
  memset(&mm, 0, sizeof mm);
  mm.kind = KL_MM_GEMM;
  kl_mm_use(e, &mm);
  snprintf(def, sizeof def, "enum { MC_WG_MC = %d, MC_WG_KC = %d };\n", KL_MM_MC, KL_MM_KC);
  emit_helper(e, "mc_wgrad_blocking", def);
  emit_helper(e, "mc_wgrad", src_wgrad);
  emit_kernel(e, "gemm 6x32 wgrad");
  kl_block(e);
  g = emit_fresh(e, "w");
  s = emit_scratch(e);
  emit_line(e, "mc_wgrad_args %s;", g);
  emit_line(e, "%s.NB = %lld, %s.G = %lld, %s.C = %lld, %s.M = %lld;", g, (long long)w->NB, g, (long long)w->G, g,
            (long long)w->C, g, (long long)w->M);
  emit_line(e, "%s.H = %lld, %s.W = %lld, %s.OH = %lld, %s.OW = %lld;", g, (long long)w->H, g, (long long)w->W, g,
            (long long)w->OH, g, (long long)w->OW);
  emit_line(e, "%s.KH = %lld, %s.KW = %lld, %s.SH = %lld, %s.SW = %lld;", g, (long long)w->KH, g, (long long)w->KW, g,
            (long long)w->SH, g, (long long)w->SW);
  emit_line(e, "%s.DH = %lld, %s.DW = %lld, %s.PH = %lld, %s.PW = %lld, %s.KB = %lld;", g, (long long)w->DH, g,
            (long long)w->DW, g, (long long)w->PH, g, (long long)w->PW, g, (long long)w->KB);
  emit_line(e, "%s.x = %s, %s.dy = %s, %s.dw = %s;", g, x, g, dy, g, dw);
  emit_line(e, "%s.acc = (float *)(void *)%s;", g, s);
  emit_line(e, "%s.a = %s.acc + %lld;", g, g, (long long)round16(w->acc));
  emit_line(e, "%s.b = %s.a + %lld;", g, g, (long long)round16(w->a));
  emit_line(e, "%s.ascratch = %s.b + %lld;", g, g, (long long)round16(w->b));
  emit_line(e, "mc_wgrad(&%s);", g);
  kl_end(e);
  return 0;
}
