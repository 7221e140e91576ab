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
 * (broadcast, not packed): the im2col rows are plain copies, while dY, the
 * small side, is packed into B panels.  The other way round (dY as A,
 * im2col^T as B) packs every im2col value into a panel lane, a gather as
 * costly as the product when M is 16 (323 against 269 us for LeNet's second
 * layer at batch 32).  But under 16 output channels most of B's panel is
 * zeros, and mc_wgrad_dya takes that other way: dW = dY . im2col^T, M the
 * output channels (6 for LeNet's first layer, one MR tile), dY's rows read
 * in place as A, N the taps, B's rows (one per output position) copied
 * from the padded copy one window row at a time (a run of taps, one 8-float
 * move), K the output positions of a sample in blocks of KC.  On LeNet's
 * first layer at batch 32 (the node alone, min of 200 runs) that is 155 us
 * (the product 69 us, ~110 GFLOP/s; the rest building B) against 320 us
 * for the Conv over the batch between Transposes grad_nn.c built before.
 * It is chosen when a window row gives runs of 3 taps or more (stride and
 * dilation 1 along it): with runs of one tap (a 1x1 convolution, 32 input
 * and 8 output channels) each tap costs a copy per position, and it took
 * 8.1 ms against 3.2-4.2 ms the first way; with depthwise 3x3s (one
 * channel a group) 17-20 ms against 34 ms.
 * Each sample's input is copied by mc_band, one band of the whole grid, as
 * for the forward's implicit GEMM (zero padded, split by stride phase): on
 * its grid, vw columns wide, im2col row t is one contiguous run at the tap's offset, so a block's A is
 * one memcpy per tap (one copy per output row cost more than the product
 * on small planes); the grid's columns past OW get zeros in B, so what A
 * holds there adds nothing.  A's rows are rounded up to whole MR tiles
 * (zeros), so no tile copies its edge rows.  The grid is cut into blocks of
 * KB positions: each block's im2col rows and dY panels ([M/NR][KB][NR]) go
 * to scratch, and mc_gemm adds the block's product to the accumulator dW^T
 * (its residual: read before it is stored).  The accumulator is transposed
 * into dW once per group.  The block is sized to stay in L2 and to the
 * planner's scratch cap (PLAN_SCRATCH_CAP_ATTR).  A 1x1 kernel without
 * padding takes the product the other way round instead (mc_wgrad1, below).
 */
#include "kl_wgrad.h"

#include <stdio.h>
#include <string.h>

#include "../passes/plan.h"

#define WG_BLOCK_FLOATS 131072   /* the im2col block's goal: 512 KiB, a quarter of L2 */
#define WG_KB_MIN 32             /* under a cap, blocks shorten down to this many positions */
#define WG_DYA_KB KL_MM_KC     /* mc_wgrad_dya: output positions of a block, one K block of the GEMM */
#define WG_DYA_RUN_MIN 3        /* mc_wgrad_dya: taps a window row gives one copy at least */
#define WG_PAD_MAX_FLOATS (4 * KL_MM_PAD_MAX_FLOATS)   /* the largest padded copy of one sample's group, 1 MiB */

static const char src_wgrad_args[] =
    "/* ---- a convolution's weight gradient on the GEMM core (kl_wgrad.c) ---- */\n"
    "typedef struct mc_wgrad_args {\n"
    "  int64_t NB, G, C, M, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;\n"
    "  int64_t vh, vw, xps, KB;          /* the padded copy's grid and floats; positions of a block */\n"
    "  int64_t nb;                       /* mc_wgrad_dya: B's row, the taps rounded up to NR */\n"
    "  const float *x, *dy;\n"
    "  float *dw;\n"
    "  /* scratch: dW^T [taps][M], the padded copy (and its tap table), the im2col\n"
    "   * block [taps rounded up to MR][KB], dY's block [M/NR][KB][NR]; mc_wgrad1:\n"
    "   * A's edge rows in a, X's block [C/NR][KB][NR] in b */\n"
    "  float *acc, *xp, *a, *b;\n"
    "} mc_wgrad_args;\n";

static const char src_wgrad_copy[] =
    "/* The geometry mc_band and mc_taps read for one sample's padded copy (one\n"
    " * band, the whole grid) into p, and the copy's padding zeroed: every\n"
    " * sample then writes the same places.  For mc_wgrad and mc_wgrad_dya. */\n"
    "static void mc_wgrad_copy(const mc_wgrad_args *w, mc_gemm_args *p) {\n"
    "  memset(p, 0, sizeof *p);\n"
    "  p->C = w->C, p->H = w->H, p->W = w->W, p->KH = w->KH, p->KW = w->KW, p->SH = w->SH, p->SW = w->SW;\n"
    "  p->DH = w->DH, p->DW = w->DW, p->PH = w->PH, p->PW = w->PW, p->vh = w->vh, p->vw = w->vw, p->xps = w->xps;\n"
    "  p->bh = p->xh = w->vh;\n"
    "  memset(w->xp, 0, sizeof(float) * (size_t)w->xps);\n"
    "}\n";

static const char src_wgrad[] =
    "/* dW of one group: for each sample, the input copied by mc_band (zero\n"
    " * padded, split by stride phase), on whose grid row t of im2col (tap t)\n"
    " * is one contiguous run, xp + ko[t]; the grid's columns past OW get zeros\n"
    " * in B, so what A holds there adds nothing. */\n"
    "static void mc_wgrad(const mc_wgrad_args *w) {\n"
    "  const int64_t taps = w->C * w->KH * w->KW, osz = w->OH * w->OW, grid = (w->OH - 1) * w->vw + w->OW;\n"
    "  const int64_t rows = (taps + MC_MR - 1) / MC_MR * MC_MR;   /* whole tiles: A's rows past taps are zeros */\n"
    "  const int64_t np = (w->M + MC_NR - 1) / MC_NR;\n"
    "  int32_t *ko = (int32_t *)(void *)(w->xp + w->xps);\n"
    "  mc_gemm_args p;\n"
    "  int64_t g, n, v0, m, t, j;\n"
    "  mc_wgrad_copy(w, &p);\n"
    "  mc_taps(&p, ko);\n"
    "  for (g = 0; g < w->G; g++) {\n"
    "    for (n = 0; n < w->NB; n++) {\n"
    "      const float *dyn = w->dy + (n * w->G + g) * w->M * osz;\n"
    "      p.b = w->x + (n * w->G + g) * w->C * w->H * w->W;\n"
    "      mc_band(&p, w->xp, 0, 0);\n"
    "      for (v0 = 0; v0 < grid; v0 += w->KB) {\n"
    "        const int64_t kb = grid - v0 < w->KB ? grid - v0 : w->KB;\n"
    "        int64_t oh = v0 / w->vw, ow = v0 % w->vw;\n"
    "        mc_gemm_args a;\n"
    "        for (t = 0; t < taps; t++) memcpy(w->a + t * kb, w->xp + ko[t] + v0, sizeof(float) * (size_t)kb);\n"
    "        memset(w->a + taps * kb, 0, sizeof(float) * (size_t)((rows - taps) * kb));\n"
    "        /* dY at grid position (oh, ow) into lane m % NR of row j of panel m / NR; zeros\n"
    "         * past M and past OW: the row zeroed whole (one vector store), then the values\n"
    "         * stored one by one (a row built on the stack and copied whole stalls on store\n"
    "         * forwarding) */\n"
    "        for (j = 0; j < kb; j++) {\n"
    "          for (t = 0; t < np; t++) {\n"
    "            float *d = w->b + (t * kb + j) * MC_NR;\n"
    "            const int64_t cnt = w->M - t * MC_NR < MC_NR ? w->M - t * MC_NR : MC_NR;\n"
    "            for (m = 0; m < MC_NR; m++) d[m] = 0.0f;\n"
    "            if (ow < w->OW)\n"
    "              for (m = 0; m < cnt; m++) d[m] = dyn[(t * MC_NR + m) * osz + oh * w->OW + ow];\n"
    "          }\n"
    "          if (++ow == w->vw) ow = 0, oh++;\n"
    "        }\n"
    "        memset(&a, 0, sizeof a);\n"
    "        a.M = rows, a.N = w->M, a.K = kb;\n"
    "        a.MC = MC_WG_MC, a.KC = MC_WG_KC, a.NC = np * MC_NR;\n"
    "        a.a = w->a, a.ars = kb, a.aks = 1;\n"
    "        a.bkind = MC_B_PACKED, a.b = w->b;\n"
    "        a.y = w->acc, a.ldy = w->M, a.alpha = 1.0f;\n"
    "        if (n || v0) a.res = w->acc, a.ldr = w->M, a.rscale = 1.0f;   /* the blocks before, summed */\n"
    "        mc_gemm(&a, 0, rows, 0, w->M);\n"
    "      }\n"
    "    }\n"
    "    for (m = 0; m < w->M; m++)\n"
    "      for (t = 0; t < taps; t++) w->dw[(g * w->M + m) * taps + t] = w->acc[t * w->M + m];\n"
    "  }\n"
    "}\n";

static const char src_wgrad_dya[] =
    "/* dW of one group the other way round, for few output channels: dW = dY .\n"
    " * im2col^T, M the channels (dY's rows of one sample read in place as A),\n"
    " * N the taps.  Row q of B (output position q) is the taps' values at that\n"
    " * position on the padded copy's grid, xp + ko[t] + v: taps whose offsets\n"
    " * follow one another (a window row, without stride or dilation) make\n"
    " * runs of up to 8, each copied as 8 floats (a fixed-size memcpy, one\n"
    " * vector move): what spills past a run's end lands on taps the next run\n"
    " * writes (runs go one after another, each over every row of the block)\n"
    " * or on the row's pad columns, whose sums are not read; a run whose 8\n"
    " * floats would reach the next row copies its own length.  Run by run,\n"
    " * not row by row: the run's offsets stay in registers (a memcpy's stores\n"
    " * may alias the table, which a row-by-row loop then reads again per run;\n"
    " * 2.3x slower on LeNet's first layer).  The sum goes to acc [M][nb]. */\n"
    "static void mc_wgrad_dya(const mc_wgrad_args *w) {\n"
    "  const int64_t taps = w->C * w->KH * w->KW, osz = w->OH * w->OW, nb = w->nb;\n"
    "  int32_t *ko = (int32_t *)(void *)(w->xp + w->xps), *rs = ko + taps, *rd = rs + taps, *rl = rd + taps;\n"
    "  mc_gemm_args p;\n"
    "  int64_t g, n, q0, m, t, j, r, c, nr = 0;\n"
    "  mc_wgrad_copy(w, &p);\n"
    "  memset(w->b, 0, sizeof(float) * (size_t)(w->KB * nb));   /* the pad columns: zeros but for spills */\n"
    "  mc_taps(&p, ko);\n"
    "  for (t = 0; t < taps; t++) {   /* the runs: source offset, first tap, length */\n"
    "    if (nr && ko[t] == rs[nr - 1] + rl[nr - 1] && rl[nr - 1] < 8) {\n"
    "      rl[nr - 1]++;\n"
    "    } else {\n"
    "      rs[nr] = ko[t], rd[nr] = (int32_t)t, rl[nr] = 1;\n"
    "      nr++;\n"
    "    }\n"
    "  }\n"
    "  for (g = 0; g < w->G; g++) {\n"
    "    for (n = 0; n < w->NB; n++) {\n"
    "      const float *dyn = w->dy + (n * w->G + g) * w->M * osz;\n"
    "      p.b = w->x + (n * w->G + g) * w->C * w->H * w->W;\n"
    "      mc_band(&p, w->xp, 0, 0);\n"
    "      for (q0 = 0; q0 < osz; q0 += w->KB) {\n"
    "        const int64_t kb = osz - q0 < w->KB ? osz - q0 : w->KB;\n"
    "        const int64_t oh = q0 / w->OW, ow = q0 % w->OW;\n"
    "        mc_gemm_args a;\n"
    "        for (r = 0; r < nr; r++) {   /* run by run: its place in B's rows and its length in registers */\n"
    "          const float *s = w->xp + oh * w->vw + ow + rs[r];\n"
    "          const int64_t len = rl[r], OW = w->OW, skip = w->vw - OW;\n"
    "          float *d = w->b + rd[r];\n"
    "          int64_t o = ow, e, i;\n"
    "          for (j = 0; j < kb; j += e, d += e * nb, s += e + skip, o = 0) {   /* what is left of an output row */\n"
    "            e = kb - j < OW - o ? kb - j : OW - o;\n"
    "            if (rd[r] + 8 <= nb)\n"
    "              for (i = 0; i < e; i++) memcpy(d + i * nb, s + i, 8 * sizeof(float));\n"
    "            else   /* a run whose 8 floats would reach the next row (written before): its own length */\n"
    "              for (i = 0; i < e; i++)\n"
    "                for (c = 0; c < len; c++) d[i * nb + c] = s[i + c];\n"
    "          }\n"
    "        }\n"
    "        memset(&a, 0, sizeof a);\n"
    "        a.M = w->M, a.N = nb, a.K = kb;\n"
    "        a.MC = MC_WG_MC, a.KC = MC_WG_KC, a.NC = nb;\n"
    "        a.a = dyn + q0, a.ars = osz, a.aks = 1, a.ascratch = w->a;\n"
    "        a.bkind = MC_B_ROWS, a.b = w->b, a.bks = nb;\n"
    "        a.y = w->acc, a.ldy = nb, a.alpha = 1.0f;\n"
    "        if (n || q0) a.res = w->acc, a.ldr = nb, a.rscale = 1.0f;   /* the blocks before, summed */\n"
    "        mc_gemm(&a, 0, w->M, 0, nb);\n"
    "      }\n"
    "    }\n"
    "    for (m = 0; m < w->M; m++)\n"
    "      for (t = 0; t < taps; t++) w->dw[(g * w->M + m) * taps + t] = w->acc[m * nb + t];\n"
    "  }\n"
    "}\n";

/* A 1x1 convolution without padding: dW[m][c] = sum dY[m][p] X[c][p*S], the
 * product the other way round, dY as A read in place (its rows are
 * contiguous along the positions) and X's subsampled positions, transposed,
 * as B panels, so dW is written as it is stored: no band copy, no im2col
 * rows, no accumulator to transpose, and the transpose packs C values a
 * position where dY's would be M (ResNet-8's stride-2 shortcuts, M = 2C,
 * batch 32, alone, min of 100: 270 -> 184 us for 16 -> 32 channels, 177 ->
 * 110 us for 32 -> 64). */
static const char src_wgrad1[] =
    "static void mc_wgrad1(const mc_wgrad_args *w) {\n"
    "  const int64_t osz = w->OH * w->OW, isz = w->H * w->W, np = (w->C + MC_NR - 1) / MC_NR;\n"
    "  mc_gemm_args a;\n"
    "  int64_t g, n, p0, t, j, c;\n"
    "  memset(&a, 0, sizeof a);\n"
    "  a.M = w->M, a.N = w->C, a.MC = MC_WG_MC, a.KC = MC_WG_KC, a.NC = np * MC_NR;\n"
    "  a.ars = osz, a.aks = 1, a.bkind = MC_B_PACKED, a.b = w->b, a.ldy = w->C, a.alpha = 1.0f;\n"
    "  a.ascratch = w->a;\n"
    "  for (g = 0; g < w->G; g++) {\n"
    "    a.y = w->dw + g * w->M * w->C;\n"
    "    for (n = 0; n < w->NB; n++) {\n"
    "      const float *xn = w->x + (n * w->G + g) * w->C * isz;\n"
    "      for (p0 = 0; p0 < osz; p0 += w->KB) {\n"
    "        const int64_t kb = osz - p0 < w->KB ? osz - p0 : w->KB;\n"
    "        /* B: position p0 + j's channels into row j of the panels, zeros past C */\n"
    "        for (t = 0; t < np; t++) {\n"
    "          const int64_t cnt = w->C - t * MC_NR < MC_NR ? w->C - t * MC_NR : MC_NR;\n"
    "          const float *xt = xn + t * MC_NR * isz;\n"
    "          float *d = w->b + t * kb * MC_NR;\n"
    "          int64_t oh = p0 / w->OW, ow = p0 % w->OW;\n"
    "          for (j = 0; j < kb; j++, d += MC_NR) {   /* one row of 16 lanes at a time (a gather) */\n"
    "            const float *xp = xt + oh * w->SH * w->W + ow * w->SW;\n"
    "            if (cnt == MC_NR)\n"
    "              for (c = 0; c < MC_NR; c++) d[c] = xp[c * isz];\n"
    "            else\n"
    "              for (c = 0; c < MC_NR; c++) d[c] = c < cnt ? xp[c * isz] : 0.0f;\n"
    "            if (++ow == w->OW) ow = 0, oh++;\n"
    "          }\n"
    "        }\n"
    "        a.K = kb;\n"
    "        a.a = w->dy + (n * w->G + g) * w->M * osz + p0;\n"
    "        a.res = n || p0 ? a.y : NULL, a.ldr = w->C, a.rscale = 1.0f;   /* the blocks before, summed */\n"
    "        mc_gemm(&a, 0, w->M, 0, w->C);\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

static int64_t round16(int64_t x) { return (x + 15) / 16 * 16; }

int kl_wgrad_lower(const ir_node *n, const kl_conv_desc *c, kl_wgrad *w) {
  int64_t cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1), taps, rows, grid, per, fixed;
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
  /* the padded copy's grid and floats, as kl_mm_lower_conv sizes them (all phases: at least
   * the mc_phases mc_band holds) */
  w->vw = w->OW + (w->KW - 1) * w->DW / w->SW;
  w->vh = w->OH + (w->KH - 1) * w->DH / w->SH;
  w->xps = w->SH * w->SW * w->C * w->vh * w->vw + 32;
  grid = (w->OH - 1) * w->vw + w->OW;
  if (w->NB <= 0 || w->C <= 0 || w->M <= 0 || taps <= 0 || grid <= 0) return -1;
  if (w->KH == 1 && w->KW == 1 && w->PH == 0 && w->PW == 0 && (w->OH - 1) * w->SH < w->H &&
      (w->OW - 1) * w->SW < w->W) {   /* every position inside x */
    /* mc_wgrad1: scratch for A's edge rows and a block of B panels, KB positions */
    w->one = 1;
    w->KB = WG_BLOCK_FLOATS / 4 / round16(w->C);
    if (cap >= 0 && w->KB * round16(w->C) > cap / (int64_t)sizeof(float) - KL_MM_KC * KL_MM_MR - 32)
      w->KB = (cap / (int64_t)sizeof(float) - KL_MM_KC * KL_MM_MR - 32) / round16(w->C);
    if (w->KB < WG_KB_MIN) w->KB = WG_KB_MIN;
    if (w->KB > w->OH * w->OW) w->KB = w->OH * w->OW;
    w->acc = w->xp = 0;
    w->a = KL_MM_KC * KL_MM_MR;
    w->b = round16(w->C) * w->KB;
    return 0;
  }
  if (w->xps > WG_PAD_MAX_FLOATS) return -1;
  w->nb = round16(taps);
  if (w->M < KL_MM_NR && w->SW == 1 && w->DW == 1 && w->KW >= WG_DYA_RUN_MIN) {   /* dY as A, B's rows the taps: a block's B rows, A's last rows, the runs' table */
    w->acc = w->M * w->nb;
    w->xp = w->xps + 4 * taps;
    w->KB = WG_DYA_KB;
    if (cap >= 0) {
      fixed = round16(w->acc) + round16(w->xp) + round16(KL_MM_KC * KL_MM_MR) + 3 * 16;
      if (w->KB * w->nb > cap / (int64_t)sizeof(float) - fixed)
        w->KB = (cap / (int64_t)sizeof(float) - fixed) / w->nb > WG_KB_MIN ? (cap / (int64_t)sizeof(float) - fixed) / w->nb
                                                                          : WG_KB_MIN;
    }
    if (w->KB > w->OH * w->OW) w->KB = w->OH * w->OW;
    w->a = KL_MM_KC * KL_MM_MR;
    w->b = w->KB * w->nb;
    w->dya = 1;
    return 0;
  }
  /* floats per position of a block: an im2col column and a row of dY panels */
  per = (taps + KL_MM_MR - 1) / KL_MM_MR * KL_MM_MR + round16(w->M);
  rows = (taps + KL_MM_MR - 1) / KL_MM_MR * KL_MM_MR;   /* A's edge rows zeros, not copied per tile */
  w->acc = rows * w->M;
  w->xp = w->xps + taps;   /* the tap table: an int32 per tap */
  w->KB = WG_BLOCK_FLOATS / taps;
  if (w->KB < WG_KB_MIN) w->KB = WG_KB_MIN;
  if (cap >= 0) {   /* the cap less the fixed parts and each part's rounding to 16 floats */
    fixed = round16(w->acc) + round16(w->xp) + 2 * 16;
    if (w->KB * per > cap / (int64_t)sizeof(float) - fixed)
      w->KB = (cap / (int64_t)sizeof(float) - fixed) / per > WG_KB_MIN ? (cap / (int64_t)sizeof(float) - fixed) / per
                                                                         : WG_KB_MIN;
  }
  if (w->KB > grid) w->KB = grid;
  w->a = rows * w->KB;
  w->b = round16(w->M) * w->KB;
  return 0;
}

int64_t kl_wgrad_scratch_bytes(const kl_wgrad *w) {
  return (int64_t)sizeof(float) * (round16(w->acc) + round16(w->xp) + round16(w->a) + w->b);
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
  emit_helper(e, "mc_wgrad_args", src_wgrad_args);
  if (w->one) {
    emit_helper(e, "mc_wgrad1", src_wgrad1);
  } else {
    emit_helper(e, "mc_wgrad_copy", src_wgrad_copy);
    emit_helper(e, w->dya ? "mc_wgrad_dya" : "mc_wgrad", w->dya ? src_wgrad_dya : src_wgrad);
  }
  emit_kernel(e, w->one ? "gemm 6x32 wgrad 1x1" : w->dya ? "gemm 6x32 wgrad dy-rows" : "gemm 6x32 wgrad");
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
  emit_line(e, "%s.DH = %lld, %s.DW = %lld, %s.PH = %lld, %s.PW = %lld;", g, (long long)w->DH, g, (long long)w->DW,
            g, (long long)w->PH, g, (long long)w->PW);
  emit_line(e, "%s.vh = %lld, %s.vw = %lld, %s.xps = %lld, %s.KB = %lld;", g, (long long)w->vh, g, (long long)w->vw, g,
            (long long)w->xps, g, (long long)w->KB);
  emit_line(e, "%s.nb = %lld;", g, (long long)w->nb);
  emit_line(e, "%s.x = %s, %s.dy = %s, %s.dw = %s;", g, x, g, dy, g, dw);
  emit_line(e, "%s.acc = (float *)(void *)%s;", g, s);
  emit_line(e, "%s.xp = %s.acc + %lld;", g, g, (long long)round16(w->acc));
  emit_line(e, "%s.a = %s.xp + %lld;", g, g, (long long)round16(w->xp));
  emit_line(e, "%s.b = %s.a + %lld;", g, g, (long long)round16(w->a));
  emit_line(e, "%s(&%s);", w->one ? "mc_wgrad1" : w->dya ? "mc_wgrad_dya" : "mc_wgrad", g);
  kl_end(e);
  return 0;
}
