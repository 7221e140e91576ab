/*
 * kl_gemm.c - the GEMM core: Gemm, MatMul and Conv (float32) lowered to one
 * packed, register-blocked matrix product, plus a matrix-vector kernel for
 * M = 1 and a depthwise-convolution kernel (descriptors in kl_gemm.h).
 *
 * The emitted kernel.  Y[M][N] = act(alpha*A*B + beta*bias + rscale*res) is
 * computed in MR x NR = 6 x 16 tiles, the six rows of A broadcast against a
 * 16-float row of B (two 8-float vectors with AVX, one 16-float vector with
 * AVX-512; GCC/Clang vector extensions behind #if, with a plain C99 loop
 * nest beside them that compilers vectorize themselves, and that
 * MODELC_NO_VECTOR selects).  Loops are blocked as in BLIS/GotoBLAS: N by
 * NC, K by KC (so that a KC x NR panel of B stays in L1), M by MC, then NR
 * panels and MR tiles.  A tile's epilogue runs on the accumulators before
 * they are stored: full tiles in vector registers, edge tiles (M, N not
 * multiples of MR, NR) through a small array.  The kernel is written once
 * per activation into the model's C as static helpers (mc_gemm, mc_gemv,
 * mc_dw with the activation's suffix) that take their sizes from a struct
 * the node fills with literals.
 *
 * Packing.  A constant operand (not a parameter a training step changes:
 * is_state) is packed at compile time into the layout
 * the micro-kernel reads and emitted as its own weights array (emit.h,
 * emit_packed_f32); the original weight is then no longer referenced and
 * not emitted.  A constant A: panels [M/MR][K][MR]; a constant B: panels
 * [N/NR][K][NR] (rows [K][N] for the matrix-vector kernel), each padded
 * with zeros.  A B that is not constant is read in place when its rows are
 * contiguous (only the last, partial panel is copied), otherwise packed one
 * KC x NC block at a time into arena scratch; convolution's im2col matrix is
 * never built whole, only block by block.  A that is not constant is read in
 * place (its values are broadcast, so packing it buys little); only its last,
 * partial MR rows are copied, so that the micro-kernel always reads MR rows.
 *
 * Lowering before planning.  kl_mm_lower_* is a pure function of the node
 * (with the planner's attributes on it: the scratch cap that sizes the B
 * block, see block(), and PLAN_IN_PLACE_ATTR for the in-place depthwise
 * kernel), and the op table's scratch_bytes for Conv, Gemm and MatMul call it: the
 * memory planner places exactly the scratch the lowered descriptor asks
 * for, and the renderer lowers the node again to the same descriptor.  This
 * was chosen over storing descriptors on nodes because the planner already
 * asks the op table for scratch (plan.c), `check` re-plans the same graph,
 * and the interpreter, which runs the same graph, must not see packed
 * weights.  Rendering (kl_mm_render) only turns a descriptor into text.
 */
#include "kl_gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "../passes/plan.h"
#include "kl_par.h"

/* ---- the emitted helpers (C text; '@' stands for the activation's suffix) ---- */

static const char src_common[] =
    "/* ---- the GEMM core (float32; kl_gemm.c) ---- */\n"
    "/* Vector extensions where the compiler has them (MODELC_NO_VECTOR: plain C\n"
    " * only): a row of a tile is one 16-float vector with AVX-512, two 8-float\n"
    " * ones otherwise (GCC splits 64-byte vectors badly without AVX-512). */\n"
    "#if defined(__GNUC__) && defined(__AVX__) && !defined(MODELC_NO_VECTOR)\n"
    "__extension__ typedef float mc_v8 __attribute__((vector_size(32)));\n"
    "#if defined(__AVX512F__)\n"
    "#define MC_VEC 16\n"
    "__extension__ typedef float mc_v16 __attribute__((vector_size(64)));\n"
    "#else\n"
    "#define MC_VEC 8\n"
    "#endif\n"
    "#else\n"
    "#define MC_VEC 0\n"
    "#endif\n"
    "enum { MC_MR = 6, MC_NR = 16 };\n"
    "enum { MC_FIRST = 1, MC_LAST = 2 };\n"
    "/* Where B comes from: packed panels [N/NR][K][NR] (a constant packed by\n"
    " * modelc), rows (B(k,n) = p[k*ks + n]), any strides, or the im2col view of\n"
    " * a convolution input (one channel group, C x H x W). */\n"
    "enum { MC_B_PACKED, MC_B_ROWS, MC_B_STRIDED, MC_B_IM2COL };\n"
    "typedef struct mc_gemm_args {\n"
    "  int64_t M, N, K, MC, NC, KC;\n"
    "  const float *apk;              /* A packed [M/MR][K][MR], or NULL: A(m,k) = a[m*ars + k*aks] */\n"
    "  const float *a;\n"
    "  int64_t ars, aks;\n"
    "  int bkind;\n"
    "  const float *b;\n"
    "  int64_t bks, bns;\n"
    "  int64_t C, H, W, KH, KW, SH, SW, DH, DW, PH, PW, OW;   /* MC_B_IM2COL */\n"
    "  float *y;\n"
    "  int64_t ldy;\n"
    "  float alpha;                   /* y = act(alpha*AB + beta*bias + rscale*res) */\n"
    "  int bias_mode;                 /* 0 none, 1 bias[m], 2 bias[n], 3 bias[0] */\n"
    "  const float *bias;\n"
    "  float beta;\n"
    "  const float *res;\n"
    "  int64_t ldr;\n"
    "  float rscale;\n"
    "  float *scratch;                /* KC * NC floats (MC_B_ROWS: KC * NR) */\n"
    "  float *ascratch;               /* KC * MR floats, when A is not packed */\n"
    "} mc_gemm_args;\n";

static const char src_epi[] =
    "/* The epilogue of the values of row m, columns n..n+cnt-1, in t, scaled by\n"
    " * alpha: plus the partial sums y of the K blocks before, or (y NULL: the\n"
    " * first K block) plus bias and residual, each residual value read before\n"
    " * its y is stored, so y may take the residual's bytes; the activation in\n"
    " * the last K block. */\n"
    "static void mc_epi@(const mc_gemm_args *g, float *t, const float *y, int64_t m, int64_t n, int64_t cnt, int last) {\n"
    "  int64_t j;\n"
    "  float bm = g->bias_mode == 1 ? g->beta * g->bias[m] : g->bias_mode == 3 ? g->beta * g->bias[0] : 0.0f;\n"
    "  for (j = 0; j < cnt; j++) {\n"
    "    float v = g->alpha * t[j];\n"
    "    if (y) {\n"
    "      v += y[j];\n"
    "    } else {\n"
    "      v += bm;\n"
    "      if (g->bias_mode == 2) v += g->beta * g->bias[n + j];\n"
    "      if (g->res) v += g->rscale * g->res[m * g->ldr + n + j];\n"
    "    }\n"
    "    t[j] = last ? mc_act@(v) : v;\n"
    "  }\n"
    "}\n";

static const char src_tile[] =
    "/* One MR x NR tile of y at (m, n): the kc-long product of A rows (pointers\n"
    " * a, stride ars between rows, aks along k; mr valid rows) and the B panel b\n"
    " * (bks along k, NR contiguous columns, nr valid), scaled by alpha, added\n"
    " * to y unless FIRST (then bias and residual instead, see mc_epi), through\n"
    " * the activation when LAST. */\n"
    "static void mc_tile@(const mc_gemm_args *g, int64_t kc, const float *a, int64_t ars, int64_t aks, int mr,\n"
    "                     const float *b, int64_t bks, int nr, int64_t m, int64_t n, int flags) {\n"
    "  float t[MC_MR * MC_NR];\n"
    "  float *y = g->y + m * g->ldy + n;\n"
    "  int64_t k;\n"
    "  int i, j;\n"
    "  const float *p = a, *q = a + 3 * ars;   /* rows 0-2 and 3-5: every row readable (see mc_gemm) */\n"
    "  const int64_t r2 = 2 * ars;\n"
    "#if MC_VEC == 16\n"
    "  mc_v16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};\n"
    "  for (k = 0; k < kc; k++) {\n"
    "    mc_v16 bv;\n"
    "    memcpy(&bv, b, sizeof bv);\n"
    "    c0 += p[0] * bv;\n"
    "    c1 += p[ars] * bv;\n"
    "    c2 += p[r2] * bv;\n"
    "    c3 += q[0] * bv;\n"
    "    c4 += q[ars] * bv;\n"
    "    c5 += q[r2] * bv;\n"
    "    p += aks;\n"
    "    q += aks;\n"
    "    b += bks;\n"
    "  }\n"
    "  if (mr == MC_MR && nr == MC_NR) {   /* a full tile: the epilogue in registers */\n"
    "    mc_v16 acc[MC_MR];\n"
    "    acc[0] = c0; acc[1] = c1; acc[2] = c2; acc[3] = c3; acc[4] = c4; acc[5] = c5;\n"
    "    for (i = 0; i < MC_MR; i++) {\n"
    "      mc_v16 v = acc[i] * g->alpha, w;\n"
    "      float *yp = y + i * g->ldy;\n"
    "      if (!(flags & MC_FIRST)) {\n"
    "        memcpy(&w, yp, sizeof w);\n"
    "        v += w;\n"
    "      } else {\n"
    "        if (g->bias_mode == 1 || g->bias_mode == 3)\n"
    "          v += g->beta * g->bias[g->bias_mode == 1 ? m + i : 0];\n"
    "        else if (g->bias_mode == 2) {\n"
    "          memcpy(&w, g->bias + n, sizeof w);\n"
    "          v += g->beta * w;\n"
    "        }\n"
    "        if (g->res) {\n"
    "          memcpy(&w, g->res + (m + i) * g->ldr + n, sizeof w);\n"
    "          v += g->rscale * w;\n"
    "        }\n"
    "      }\n"
    "      if (flags & MC_LAST) {\n"
    "        int l;\n"
    "        for (l = 0; l < MC_NR; l++) v[l] = mc_act@(v[l]);\n"
    "      }\n"
    "      memcpy(yp, &v, sizeof v);\n"
    "    }\n"
    "    return;\n"
    "  }\n"
    "  memcpy(t + 0, &c0, sizeof c0);\n"
    "  memcpy(t + 16, &c1, sizeof c1);\n"
    "  memcpy(t + 32, &c2, sizeof c2);\n"
    "  memcpy(t + 48, &c3, sizeof c3);\n"
    "  memcpy(t + 64, &c4, sizeof c4);\n"
    "  memcpy(t + 80, &c5, sizeof c5);\n"
    "#elif MC_VEC == 8\n"
    "  mc_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};\n"
    "  mc_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};\n"
    "  for (k = 0; k < kc; k++) {\n"
    "    mc_v8 b0, b1, s;\n"
    "    float x;\n"
    "    memcpy(&b0, b, sizeof b0);\n"
    "    memcpy(&b1, b + 8, sizeof b1);\n"
    "    x = p[0]; s = (mc_v8){x, x, x, x, x, x, x, x}; c00 += s * b0; c01 += s * b1;\n"
    "    x = p[ars]; s = (mc_v8){x, x, x, x, x, x, x, x}; c10 += s * b0; c11 += s * b1;\n"
    "    x = p[r2]; s = (mc_v8){x, x, x, x, x, x, x, x}; c20 += s * b0; c21 += s * b1;\n"
    "    x = q[0]; s = (mc_v8){x, x, x, x, x, x, x, x}; c30 += s * b0; c31 += s * b1;\n"
    "    x = q[ars]; s = (mc_v8){x, x, x, x, x, x, x, x}; c40 += s * b0; c41 += s * b1;\n"
    "    x = q[r2]; s = (mc_v8){x, x, x, x, x, x, x, x}; c50 += s * b0; c51 += s * b1;\n"
    "    p += aks;\n"
    "    q += aks;\n"
    "    b += bks;\n"
    "  }\n"
    "  if (mr == MC_MR && nr == MC_NR) {   /* a full tile: the epilogue in registers */\n"
    "    mc_v8 acc[12];\n"
    "    acc[0] = c00; acc[1] = c01; acc[2] = c10; acc[3] = c11; acc[4] = c20; acc[5] = c21;\n"
    "    acc[6] = c30; acc[7] = c31; acc[8] = c40; acc[9] = c41; acc[10] = c50; acc[11] = c51;\n"
    "    for (i = 0; i < MC_MR; i++)\n"
    "      for (j = 0; j < 2; j++) {\n"
    "        mc_v8 v = acc[2 * i + j], w;\n"
    "        float *yp = y + i * g->ldy + 8 * j, x = g->alpha, bm;\n"
    "        v *= (mc_v8){x, x, x, x, x, x, x, x};\n"
    "        if (!(flags & MC_FIRST)) {\n"
    "          memcpy(&w, yp, sizeof w);\n"
    "          v += w;\n"
    "        } else {\n"
    "          if (g->bias_mode == 1 || g->bias_mode == 3) {\n"
    "            bm = g->beta * g->bias[g->bias_mode == 1 ? m + i : 0];\n"
    "            v += (mc_v8){bm, bm, bm, bm, bm, bm, bm, bm};\n"
    "          } else if (g->bias_mode == 2) {\n"
    "            x = g->beta;\n"
    "            memcpy(&w, g->bias + n + 8 * j, sizeof w);\n"
    "            v += (mc_v8){x, x, x, x, x, x, x, x} * w;\n"
    "          }\n"
    "          if (g->res) {\n"
    "            x = g->rscale;\n"
    "            memcpy(&w, g->res + (m + i) * g->ldr + n + 8 * j, sizeof w);\n"
    "            v += (mc_v8){x, x, x, x, x, x, x, x} * w;\n"
    "          }\n"
    "        }\n"
    "        if (flags & MC_LAST) {\n"
    "          int l;\n"
    "          for (l = 0; l < 8; l++) v[l] = mc_act@(v[l]);\n"
    "        }\n"
    "        memcpy(yp, &v, sizeof v);\n"
    "      }\n"
    "    return;\n"
    "  }\n"
    "  memcpy(t + 0, &c00, 32); memcpy(t + 8, &c01, 32); memcpy(t + 16, &c10, 32); memcpy(t + 24, &c11, 32);\n"
    "  memcpy(t + 32, &c20, 32); memcpy(t + 40, &c21, 32); memcpy(t + 48, &c30, 32); memcpy(t + 56, &c31, 32);\n"
    "  memcpy(t + 64, &c40, 32); memcpy(t + 72, &c41, 32); memcpy(t + 80, &c50, 32); memcpy(t + 88, &c51, 32);\n"
    "#else\n"
    "  for (i = 0; i < MC_MR * MC_NR; i++) t[i] = 0.0f;\n"
    "  for (k = 0; k < kc; k++) {\n"
    "    const float x0 = p[0], x1 = p[ars], x2 = p[r2], x3 = q[0], x4 = q[ars], x5 = q[r2];\n"
    "    for (j = 0; j < MC_NR; j++) {\n"
    "      const float bj = b[j];\n"
    "      t[j] += x0 * bj;\n"
    "      t[MC_NR + j] += x1 * bj;\n"
    "      t[2 * MC_NR + j] += x2 * bj;\n"
    "      t[3 * MC_NR + j] += x3 * bj;\n"
    "      t[4 * MC_NR + j] += x4 * bj;\n"
    "      t[5 * MC_NR + j] += x5 * bj;\n"
    "    }\n"
    "    p += aks;\n"
    "    q += aks;\n"
    "    b += bks;\n"
    "  }\n"
    "#endif\n"
    "  for (i = 0; i < mr; i++) {\n"
    "    float *yr = y + i * g->ldy, *tr = t + i * MC_NR;\n"
    "    mc_epi@(g, tr, flags & MC_FIRST ? NULL : yr, m + i, n, nr, flags & MC_LAST);\n"
    "    for (j = 0; j < nr; j++) yr[j] = tr[j];\n"
    "  }\n"
    "}\n";

static const char src_packb[] =
    "/* cnt values of src (zeros when src is NULL) into B-panel columns j.. of\n"
    " * one k row at d: column j is panel j >> 4 (ps floats apart), lane j & 15. */\n"
    "static void mc_put(float *d, int64_t ps, int64_t j, const float *src, int64_t cnt) {\n"
    "  while (cnt > 0) {\n"
    "    int64_t lane = j & 15, take = MC_NR - lane < cnt ? MC_NR - lane : cnt, t;\n"
    "    float *p = d + (j >> 4) * ps + lane;\n"
    "    if (src) {   /* a loop, not memcpy: the calls cost more than these short copies */\n"
    "      for (t = 0; t < take; t++) p[t] = src[t];\n"
    "      src += take;\n"
    "    } else {\n"
    "      for (t = 0; t < take; t++) p[t] = 0.0f;\n"
    "    }\n"
    "    j += take;\n"
    "    cnt -= take;\n"
    "  }\n"
    "}\n"
    "\n"
    "\n"
    "/* B rows k0..k0+kc-1, columns n0..n0+nc-1 into panels [nc/NR][kc][NR] at\n"
    " * dst, the columns past nc zero.  Shared by every GEMM of the file. */\n"
    "static void mc_packb(const mc_gemm_args *g, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *dst) {\n"
    "  int64_t k, j, np = (nc + MC_NR - 1) / MC_NR;\n"
    "  if (g->bkind == MC_B_IM2COL) {\n"
    "    /* row k of B is the input plane of channel c shifted by (ki, kj):\n"
    "     * copied one output row at a time, zeros where the window is outside;\n"
    "     * column j goes to panel j >> 4, lane j & 15 (NR = 16) */\n"
    "    int64_t khw = g->KH * g->KW, ps = kc * MC_NR;\n"
    "    for (k = 0; k < kc; k++) {\n"
    "      int64_t kk = k0 + k, c = kk / khw, r = kk % khw, ki = r / g->KW, kj = r % g->KW;\n"
    "      int64_t off = kj * g->DW - g->PW, lo, hi;   /* iw = ow * SW + off */\n"
    "      const float *xc = g->b + c * g->H * g->W;\n"
    "      float *d = dst + k * MC_NR;\n"
    "      int64_t oh = n0 / g->OW, ow = n0 % g->OW;\n"
    "      lo = off < 0 ? (-off + g->SW - 1) / g->SW : 0;\n"
    "      hi = g->W - off <= 0 ? 0 : (g->W - off + g->SW - 1) / g->SW;\n"
    "      if (hi > g->OW) hi = g->OW;\n"
    "      for (j = 0; j < nc;) {\n"
    "        int64_t ih = oh * g->SH - g->PH + ki * g->DH, end = j + (g->OW - ow), e;\n"
    "        if (end > nc) end = nc;\n"
    "        if (ih < 0 || ih >= g->H) {\n"
    "          mc_put(d, ps, j, NULL, end - j);\n"
    "          j = end;\n"
    "        } else {\n"
    "          const float *xr = xc + ih * g->W;\n"
    "          e = j + (lo > ow ? lo - ow : 0);   /* left of the input */\n"
    "          if (e > end) e = end;\n"
    "          mc_put(d, ps, j, NULL, e - j);\n"
    "          ow += e - j;\n"
    "          j = e;\n"
    "          e = j + (hi > ow ? hi - ow : 0);   /* inside */\n"
    "          if (e > end) e = end;\n"
    "          if (g->SW == 1) {\n"
    "            mc_put(d, ps, j, xr + ow + off, e - j);\n"
    "            ow += e - j;\n"
    "            j = e;\n"
    "          } else {\n"
    "            for (; j < e; j++, ow++) d[(j >> 4) * ps + (j & 15)] = xr[ow * g->SW + off];\n"
    "          }\n"
    "          mc_put(d, ps, j, NULL, end - j);   /* right of it */\n"
    "          j = end;\n"
    "        }\n"
    "        ow = 0;\n"
    "        oh++;\n"
    "      }\n"
    "      mc_put(d, ps, j, NULL, np * MC_NR - j);   /* the last panel's padding */\n"
    "    }\n"
    "    return;\n"
    "  }\n"
    "  for (k = 0; k < kc; k++) {\n"
    "    const float *src = g->b + (k0 + k) * g->bks + n0 * g->bns;\n"
    "    for (j = 0; j < np * MC_NR; j++)\n"
    "      dst[(j / MC_NR) * kc * MC_NR + k * MC_NR + j % MC_NR] = j < nc ? src[j * g->bns] : 0.0f;\n"
    "  }\n"
    "}\n";

static const char src_gemm[] =
    "/* Rows m0..m1-1, columns n0..n1-1 (on tile boundaries) of y = epilogue(A B):\n"
    " * blocked over N (NC), K (KC) and M (MC), then NR-wide panels and MR-high\n"
    " * tiles (the loop order of BLIS). */\n"
    "static void mc_gemm@(const mc_gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {\n"
    "  int64_t jc, pc, ic, jr, ir;\n"
    "  for (jc = n0; jc < n1; jc += g->NC) {\n"
    "    int64_t nc = n1 - jc < g->NC ? n1 - jc : g->NC;\n"
    "    for (pc = 0; pc < g->K; pc += g->KC) {\n"
    "      int64_t kc = g->K - pc < g->KC ? g->K - pc : g->KC;\n"
    "      int flags = (pc == 0 ? MC_FIRST : 0) | (pc + kc == g->K ? MC_LAST : 0);\n"
    "      const float *bp = NULL;\n"
    "      int64_t bps = 0, bks = MC_NR;   /* panel stride, k stride */\n"
    "      if (g->bkind == MC_B_PACKED) {\n"
    "        bp = g->b + jc * g->K + pc * MC_NR;\n"
    "        bps = g->K * MC_NR;\n"
    "      } else if (g->bkind == MC_B_ROWS) {\n"
    "        bp = g->b + pc * g->bks + jc;\n"
    "        bps = MC_NR;\n"
    "        bks = g->bks;\n"
    "        if (nc % MC_NR)   /* the last, partial panel: packed, so no read runs past a row */\n"
    "          mc_packb(g, pc, kc, jc + nc / MC_NR * MC_NR, nc % MC_NR, g->scratch);\n"
    "      } else {\n"
    "        mc_packb(g, pc, kc, jc, nc, g->scratch);\n"
    "        bp = g->scratch;\n"
    "        bps = kc * MC_NR;\n"
    "      }\n"
    "      for (ic = m0; ic < m1; ic += g->MC) {\n"
    "        int64_t mc = m1 - ic < g->MC ? m1 - ic : g->MC;\n"
    "        for (jr = 0; jr < nc; jr += MC_NR) {\n"
    "          int nr = nc - jr < MC_NR ? (int)(nc - jr) : MC_NR;\n"
    "          const float *b = bp + jr / MC_NR * bps;\n"
    "          int64_t bk = bks;\n"
    "          if (g->bkind == MC_B_ROWS && nr < MC_NR) b = g->scratch, bk = MC_NR;\n"
    "          for (ir = 0; ir < mc; ir += MC_MR) {\n"
    "            int mr = mc - ir < MC_MR ? (int)(mc - ir) : MC_MR;\n"
    "            int64_t m = ic + ir;\n"
    "            const float *a = g->apk ? g->apk + m * g->K + pc * MC_MR : g->a + m * g->ars + pc * g->aks;\n"
    "            int64_t ars = g->apk ? 1 : g->ars, aks = g->apk ? MC_MR : g->aks;\n"
    "            if (!g->apk && mr < MC_MR) {   /* the last rows, copied so that the tile reads MR rows */\n"
    "              int64_t i, k;\n"
    "              for (k = 0; k < kc; k++)\n"
    "                for (i = 0; i < MC_MR; i++) g->ascratch[k * MC_MR + i] = i < mr ? a[i * ars + k * aks] : 0.0f;\n"
    "              a = g->ascratch;\n"
    "              ars = 1;\n"
    "              aks = MC_MR;\n"
    "            }\n"
    "            mc_tile@(g, kc, a, ars, aks, mr, b, bk, nr, m, jc + jr, flags);\n"
    "          }\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

static const char src_gemv[] =
    "/* M = 1: y[n] = epilogue(sum_k A(0,k) B(k,n)) with B rows streamed once in\n"
    " * storage order, 32 columns (4 vectors) at a time, k unrolled by 2. */\n"
    "static void mc_gemv@(const mc_gemm_args *g) {\n"
    "  int64_t n = 0, k;\n"
    "  float t[32];\n"
    "  int j;\n"
    "#if MC_VEC\n"
    "  for (; n + 32 <= g->N; n += 32) {\n"
    "    mc_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0}, w, v;\n"
    "    const float *b = g->b + n;\n"
    "    for (k = 0; k + 2 <= g->K; k += 2, b += 2 * g->bks) {\n"
    "      float x = g->a[k * g->aks], z = g->a[(k + 1) * g->aks];\n"
    "      v = (mc_v8){x, x, x, x, x, x, x, x};\n"
    "      memcpy(&w, b, 32); s0 += v * w;\n"
    "      memcpy(&w, b + 8, 32); s1 += v * w;\n"
    "      memcpy(&w, b + 16, 32); s2 += v * w;\n"
    "      memcpy(&w, b + 24, 32); s3 += v * w;\n"
    "      v = (mc_v8){z, z, z, z, z, z, z, z};\n"
    "      memcpy(&w, b + g->bks, 32); u0 += v * w;\n"
    "      memcpy(&w, b + g->bks + 8, 32); u1 += v * w;\n"
    "      memcpy(&w, b + g->bks + 16, 32); u2 += v * w;\n"
    "      memcpy(&w, b + g->bks + 24, 32); u3 += v * w;\n"
    "    }\n"
    "    if (k < g->K) {\n"
    "      float x = g->a[k * g->aks];\n"
    "      v = (mc_v8){x, x, x, x, x, x, x, x};\n"
    "      memcpy(&w, b, 32); s0 += v * w;\n"
    "      memcpy(&w, b + 8, 32); s1 += v * w;\n"
    "      memcpy(&w, b + 16, 32); s2 += v * w;\n"
    "      memcpy(&w, b + 24, 32); s3 += v * w;\n"
    "    }\n"
    "    s0 += u0; s1 += u1; s2 += u2; s3 += u3;\n"
    "    memcpy(t, &s0, 32); memcpy(t + 8, &s1, 32); memcpy(t + 16, &s2, 32); memcpy(t + 24, &s3, 32);\n"
    "    mc_epi@(g, t, NULL, 0, n, 32, 1);\n"
    "    memcpy(g->y + n, t, sizeof t);\n"
    "  }\n"
    "#endif\n"
    "  for (; n < g->N; n += 32) {\n"
    "    int cnt = g->N - n < 32 ? (int)(g->N - n) : 32;\n"
    "    for (j = 0; j < cnt; j++) t[j] = 0.0f;\n"
    "    for (k = 0; k < g->K; k++) {\n"
    "      float x = g->a[k * g->aks];\n"
    "      const float *b = g->b + k * g->bks + n;\n"
    "      for (j = 0; j < cnt; j++) t[j] += x * b[j];\n"
    "    }\n"
    "    mc_epi@(g, t, NULL, 0, n, cnt, 1);\n"
    "    for (j = 0; j < cnt; j++) g->y[n + j] = t[j];\n"
    "  }\n"
    "}\n";

static const char src_dw[] =
    "/* Depthwise convolution of one channel plane (group == C == M): each\n"
    " * output row accumulates kernel-row by kernel-row over the output columns\n"
    " * whose window position lies inside the input, so the inner loop has no\n"
    " * test and runs along contiguous memory when the stride is 1. */\n"
    "static void mc_dw@(const mc_gemm_args *g, const float *x, const float *w, float *y, int64_t OH, int64_t m) {\n"
    "  int64_t oh, ki, kj, ow;\n"
    "  if (g->scratch) {   /* y over x (in place): x's plane read from a copy */\n"
    "    memcpy(g->scratch, x, sizeof(float) * (size_t)(g->H * g->W));\n"
    "    x = g->scratch;\n"
    "  }\n"
    "  for (oh = 0; oh < OH; oh++) {\n"
    "    float *yr = y + oh * g->OW;\n"
    "    for (ow = 0; ow < g->OW; ow++) yr[ow] = 0.0f;\n"
    "    for (ki = 0; ki < g->KH; ki++) {\n"
    "      int64_t ih = oh * g->SH - g->PH + ki * g->DH;\n"
    "      if (ih < 0 || ih >= g->H) continue;\n"
    "      for (kj = 0; kj < g->KW; kj++) {\n"
    "        const float wv = w[ki * g->KW + kj];\n"
    "        int64_t off = kj * g->DW - g->PW, lo = 0, hi = g->OW;   /* iw = ow*SW + off in [0, W) */\n"
    "        const float *xr = x + ih * g->W;\n"
    "        if (off < 0) lo = (-off + g->SW - 1) / g->SW;\n"
    "        if (g->W - off <= 0) hi = 0;\n"
    "        else if ((g->W - off + g->SW - 1) / g->SW < hi) hi = (g->W - off + g->SW - 1) / g->SW;\n"
    "        if (g->SW == 1)\n"
    "          for (ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow + off];\n"
    "        else\n"
    "          for (ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * g->SW + off];\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  mc_epi@(g, y, NULL, m, 0, OH * g->OW, 1);\n"
    "}\n";

/* Write `src` with every '@' replaced by sfx as helper `key`. */
static void helper(emit_ctx *e, const char *key, const char *src, const char *sfx) {
  size_t n = 1, ls = strlen(sfx), k = 0;
  const char *p;
  char *out;
  for (p = src; *p; p++) n += *p == '@' ? ls : 1;
  out = ir_alloc(n);
  for (p = src; *p; p++) {
    if (*p == '@') {
      memcpy(out + k, sfx, ls);
      k += ls;
    } else {
      out[k++] = *p;
    }
  }
  out[k] = '\0';
  emit_helper(e, key, out);
  free(out);
}

/* The helpers kind d needs for activation ep; sfx receives their suffix:
 * "" without an activation, else one derived from the activation's text. */
static void use_helpers(emit_ctx *e, const kl_mm *d, const kl_epilogue *ep, char *sfx, size_t nsfx) {
  char act[1024], code[1200], key[96];
  uint32_t h = 2166136261u;   /* FNV-1a of the activation's C text: same text, same helpers */
  const char *p;
  kl_act_expr(act, sizeof act, ep, IR_F32, "v");
  for (p = act; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
  if (ep->act == OP_ACT_NONE) snprintf(sfx, nsfx, "%s", "");
  else snprintf(sfx, nsfx, "_%08x", (unsigned)h);
  emit_helper(e, "mc_gemm_common", src_common);
  snprintf(code, sizeof code, "static float mc_act%s(float v) { return %s; }\n", sfx, act);
  snprintf(key, sizeof key, "mc_act%s", sfx);
  emit_helper(e, key, code);
  snprintf(key, sizeof key, "mc_epi%s", sfx);
  helper(e, key, src_epi, sfx);
  if (d->kind == KL_MM_GEMM) {
    char *both = ir_alloc(sizeof src_tile + sizeof src_gemm + 2);
    emit_helper(e, "mc_packb", src_packb);
    snprintf(both, sizeof src_tile + sizeof src_gemm + 2, "%s\n%s", src_tile, src_gemm);
    snprintf(key, sizeof key, "mc_gemm%s", sfx);
    helper(e, key, both, sfx);
    free(both);
  } else if (d->kind == KL_MM_GEMV) {
    snprintf(key, sizeof key, "mc_gemv%s", sfx);
    helper(e, key, src_gemv, sfx);
  } else {
    snprintf(key, sizeof key, "mc_dw%s", sfx);
    helper(e, key, src_dw, sfx);
  }
}

/* ---- lowering --------------------------------------------------------------- */

/* Packed at compile time: a constant, or a parameter no training step changes
 * (a trained one, is_state, is read at run time like an activation). */
static int is_const(const ir_tensor *t) {
  return t && (t->role == IR_CONST || t->role == IR_PARAM) && t->data && !t->is_state && t->dtype == IR_F32;
}

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Blocking and scratch of a GEMM of node n whose sizes and operands are
 * set.  A B block packed at run time is KC x NC floats; when the planner
 * caps n's scratch (PLAN_SCRATCH_CAP_ATTR: the bytes free at n's step under
 * the arena's peak of activations) and the block would not fit, K blocks
 * shorten first, into equal parts of at least KL_MM_KC_MIN (each extra
 * block passes partial sums through y: ResNet-8 with every KC at 32 ran
 * about 3% slower), then the block narrows to at least KL_MM_NC_MIN
 * columns (packing's per-row setup repeats per block: NC 64 cost about 4%,
 * 32 about 19%, 16 about 48%).  The block never goes below that floor, so
 * a cap is a wish, not a promise.  With --threads each part of the
 * product packs into its own slice of that size: the blocking (and so the
 * order of every sum) must not depend on the thread count. */
static void block(const ir_node *n, kl_mm *d) {
  int64_t cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1);
  kl_par_split_gemm(n, d);
  d->KC = min64(d->K, KL_MM_KC);
  d->MC = KL_MM_MC;
  d->scratch_b = 0;
  if (d->bkind == KL_MM_B_STRIDED || d->bkind == KL_MM_B_IM2COL) {
    int64_t nc = KL_MM_B_BLOCK_FLOATS / d->KC / KL_MM_NR * KL_MM_NR;
    d->NC = min64(min64(nc < KL_MM_NR ? KL_MM_NR : nc, round_up(d->N, KL_MM_NR)), KL_MM_NC_MAX);
    if (cap >= 0) {
      /* floats for the block: the cap less A's edge rows and the block's rounding */
      int64_t fit = cap / (int64_t)sizeof(float) - 16 - (!d->a_pack && d->M % KL_MM_MR ? d->KC * KL_MM_MR : 0);
      if (d->KC * d->NC > fit) {
        /* one panel wide (N <= NR: a tiny product, as in Silero's convolutions
         * over 1 to 4 frames) may shorten further, its time matters little */
        int64_t kmin = d->NC > KL_MM_NR ? KL_MM_KC_MIN : KL_MM_KC_MIN / 4, parts;
        int64_t kc = fit / d->NC > kmin ? fit / d->NC : kmin;
        if (kc < d->KC) {
          parts = (d->K + kc - 1) / kc;
          d->KC = (d->K + parts - 1) / parts;   /* equal parts, none longer than kc */
        }
        if (d->KC * d->NC > fit) {
          nc = fit / d->KC / KL_MM_NR * KL_MM_NR;
          d->NC = nc > min64(d->NC, KL_MM_NC_MIN) ? nc : min64(d->NC, KL_MM_NC_MIN);
        }
      }
    }
    d->scratch_b = d->KC * d->NC;
  } else {
    d->NC = min64(round_up(d->N, KL_MM_NR), KL_MM_NC_MAX);
    if (d->bkind == KL_MM_B_ROWS && d->N % KL_MM_NR) d->scratch_b = d->KC * KL_MM_NR;
  }
  d->scratch_a = !d->a_pack && d->M % KL_MM_MR ? d->KC * KL_MM_MR : 0;
}

/* Drop outer loops of extent 1. */
static void squeeze_outer(kl_mm *d) {
  int t, k = 0;
  for (t = 0; t < d->n_outer; t++) {
    if (d->outer[t] == 1) continue;
    d->outer[k] = d->outer[t];
    d->a_os[k] = d->a_os[t];
    d->b_os[k] = d->b_os[t];
    d->y_os[k] = d->y_os[t];
    d->bias_os[k] = d->bias_os[t];
    d->res_os[k] = d->res_os[t];
    k++;
  }
  d->n_outer = k;
}

static void none(kl_mm *d) {
  memset(d, 0, sizeof *d);
  d->kind = KL_MM_NONE;
  d->bias_in = d->res_in = -1;
}

void kl_mm_lower_gemm(const ir_node *n, const kl_gemm_desc *g, int is_matmul, kl_mm *d) {
  int64_t r = ir_attr_int(n, "_residual", -1), ys = g->M * g->N;
  int t;
  none(d);
  if (g->dt != IR_F32 || g->M <= 0 || g->N <= 0 || g->K <= 0) return;
  d->M = g->M;
  d->N = g->N;
  d->K = g->K;
  d->ldy = g->N;
  d->alpha = g->alpha;
  d->beta = g->beta;
  d->rscale = 1.0;
  d->a_in = 0;
  d->b_in = 1;
  d->a_rs = g->a_rs;
  d->a_cs = g->a_cs;
  d->b_ks = g->b_rs;
  d->b_ns = g->b_cs;
  if (r >= 0) {
    d->res_in = (int)r;
    d->ldr = g->N;
  }
  if (!is_matmul && n->n_in > 2 && n->in[2]) {   /* Gemm's C: a bias, or a full matrix like a residual */
    d->bias_in = 2;
    if (g->c_rs == 0 && g->c_cs == 0) d->bias_mode = 3;
    else if (g->c_rs == 0 && g->c_cs == 1) d->bias_mode = 2;
    else if (g->c_rs == 1 && g->c_cs == 0) d->bias_mode = 1;
    else if (g->c_rs == g->N && g->c_cs == 1 && r < 0) {
      d->bias_in = -1;
      d->res_in = 2;
      d->ldr = g->N;
      d->rscale = g->beta;
    } else {
      none(d);
      return;
    }
  }
  d->n_outer = g->batch_rank;
  for (t = g->batch_rank - 1; t >= 0; t--) {
    d->outer[t] = g->batch[t];
    d->a_os[t] = g->a_bs[t];
    d->b_os[t] = g->b_bs[t];
    d->y_os[t] = d->res_os[t] = ys;
    ys *= g->batch[t];
  }
  squeeze_outer(d);
  d->b_pack = is_const(n->in[1]);
  if (d->M == 1 && (d->b_pack || d->b_ns == 1)) {
    d->kind = KL_MM_GEMV;
    d->bkind = KL_MM_B_ROWS;   /* a constant is packed as rows [K][N] */
    return;
  }
  d->kind = KL_MM_GEMM;
  d->a_pack = is_const(n->in[0]);
  d->bkind = d->b_pack ? KL_MM_B_PACKED : d->b_ns == 1 ? KL_MM_B_ROWS : KL_MM_B_STRIDED;
  block(n, d);
}

void kl_mm_lower_conv(const ir_node *n, const kl_conv_desc *c, kl_mm *d) {
  int64_t r = ir_attr_int(n, "_residual", -1), Cg, Mg, ksz, isz, osz;
  int t, unit = 1, nopad = 1;
  none(d);
  if (c->dt != IR_F32 || c->r < 1 || c->r > 2 || c->group < 1 || c->C % c->group || c->M % c->group) return;
  Cg = c->C / c->group;
  Mg = c->M / c->group;
  ksz = ir_numel_dims(c->r, c->k);
  isz = ir_numel_dims(c->r, c->in);
  osz = ir_numel_dims(c->r, c->out);
  if (c->N <= 0 || c->M <= 0 || Cg <= 0 || ksz <= 0 || osz <= 0 || isz <= 0) return;
  for (t = 0; t < c->r; t++) {
    unit &= c->k[t] == 1 && c->s[t] == 1;
    nopad &= c->pb[t] == 0;
  }
  /* the geometry as 2-D (a 1-D convolution has H = 1) */
  d->C = Cg;
  d->H = c->r == 2 ? c->in[0] : 1;
  d->W = c->in[c->r - 1];
  d->OH = c->r == 2 ? c->out[0] : 1;
  d->OW = c->out[c->r - 1];
  d->KH = c->r == 2 ? c->k[0] : 1;
  d->KW = c->k[c->r - 1];
  d->SH = c->r == 2 ? c->s[0] : 1;
  d->SW = c->s[c->r - 1];
  d->DH = c->r == 2 ? c->d[0] : 1;
  d->DW = c->d[c->r - 1];
  d->PH = c->r == 2 ? c->pb[0] : 0;
  d->PW = c->pb[c->r - 1];
  d->alpha = d->beta = d->rscale = 1.0;
  if (n->n_in > 2 && n->in[2]) d->bias_in = 2;
  d->res_in = (int)r;
  d->a_in = 1;   /* W */
  d->b_in = 0;   /* X */
  if (c->group > 1 && Cg == 1 && Mg == 1) {   /* depthwise: its own loop, no GEMM */
    d->kind = KL_MM_DW;
    /* y over x (PLAN_IN_PLACE_ATTR): each channel plane of x copied to scratch first */
    if (ir_attr_int(n, PLAN_IN_PLACE_ATTR, -1) == 0) d->scratch_b = isz;
    d->bias_mode = d->bias_in >= 0 ? 1 : 0;
    d->n_outer = 2;
    d->outer[0] = c->N, d->outer[1] = c->M;
    d->a_os[0] = 0, d->a_os[1] = ksz;
    d->b_os[0] = c->C * isz, d->b_os[1] = isz;
    d->y_os[0] = c->M * osz, d->y_os[1] = osz;
    d->res_os[0] = c->M * osz, d->res_os[1] = 0;
    d->ldr = osz;
    /* channels in parallel, unless in place: the one plane of scratch is shared */
    d->slots = d->scratch_b ? 1 : (int)kl_par_parts(kl_par_threads(n), c->M, c->N * c->M * osz * ksz);
    return;
  }
  if (isz == 1 && osz == 1 && ksz == 1 && c->group == 1 && nopad) {
    /* a dense layer on a 1x1 plane: Y[b][m] = sum_c X[b][c] W[m][c], W^T as B */
    d->M = c->N;
    d->N = c->M;
    d->K = c->C;
    d->a_in = 0, d->a_rs = c->C, d->a_cs = 1;
    d->b_in = 1, d->b_ks = 1, d->b_ns = c->C;
    d->ldy = d->ldr = c->M;
    d->bias_mode = d->bias_in >= 0 ? 2 : 0;
    d->b_pack = is_const(n->in[1]);
    if (d->M == 1 && d->b_pack) {
      d->kind = KL_MM_GEMV;
      d->bkind = KL_MM_B_ROWS;
      return;
    }
    d->kind = KL_MM_GEMM;
    d->bkind = d->b_pack ? KL_MM_B_PACKED : KL_MM_B_STRIDED;
    block(n, d);
    return;
  }
  d->kind = KL_MM_GEMM;
  d->M = Mg;
  d->N = osz;
  d->K = Cg * ksz;
  d->a_rs = Cg * ksz;
  d->a_cs = 1;
  d->a_pack = is_const(n->in[1]);
  d->ldy = d->ldr = osz;
  d->bias_mode = d->bias_in >= 0 ? 1 : 0;
  if (unit && nopad && isz == osz) {   /* 1x1, stride 1: X's channel planes are B's rows */
    d->bkind = KL_MM_B_ROWS;
    d->b_ks = isz;
    d->b_ns = 1;
  } else {
    d->bkind = KL_MM_B_IM2COL;
  }
  d->n_outer = 2;
  d->outer[0] = c->N, d->outer[1] = c->group;
  d->a_os[0] = 0, d->a_os[1] = Mg * Cg * ksz;
  d->b_os[0] = c->C * isz, d->b_os[1] = Cg * isz;
  d->y_os[0] = d->res_os[0] = c->M * osz;
  d->y_os[1] = d->res_os[1] = Mg * osz;
  d->bias_os[0] = 0, d->bias_os[1] = Mg;
  squeeze_outer(d);
  block(n, d);
}

int64_t kl_mm_scratch_bytes(const kl_mm *d) {
  if (d->kind == KL_MM_DW) return (int64_t)sizeof(float) * d->scratch_b;
  if (d->kind != KL_MM_GEMM) return 0;
  if (d->slots > 1)   /* one 64-byte aligned slice per part */
    return (int64_t)sizeof(float) * d->slots * round_up(round_up(d->scratch_b, 16) + d->scratch_a, 16);
  return (int64_t)sizeof(float) * (round_up(d->scratch_b, 16) + d->scratch_a);
}

int kl_mm_share_input(const kl_mm *d) {
  if (d->kind == KL_MM_DW)   /* x, when y has its size: the plane is copied to scratch first */
    return d->C == 1 && d->H * d->W == d->OH * d->OW && d->res_in < 0 ? d->b_in : -1;
  return d->kind == KL_MM_GEMM || d->kind == KL_MM_GEMV ? d->res_in : -1;
}

/* ---- packing constants at compile time ------------------------------------ */

static float const_at(const ir_tensor *t, int64_t i) {
  float v;
  memcpy(&v, (const unsigned char *)t->data + i * (int64_t)sizeof v, sizeof v);
  return v;
}

/* Pack every distinct outer slice of constant operand t (element offsets
 * os[] per outer loop; slice floats each) with fn; pk[] receives the packed
 * slices' offsets per outer loop.  Returns the packed array (*cnt floats). */
typedef void (*pack_fn)(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst);

static float *pack_slices(const kl_mm *d, const ir_tensor *t, const int64_t *os, int64_t slice, pack_fn fn,
                          int64_t *pk, int64_t *cnt) {
  int64_t acc = 1, idx[KL_MM_MAX_OUTER] = {0}, total = 1, i;
  int q;
  float *dst;
  unsigned char *done;
  for (q = d->n_outer - 1; q >= 0; q--) {
    pk[q] = os[q] ? acc * slice : 0;
    if (os[q]) acc *= d->outer[q];
    total *= d->outer[q];
  }
  *cnt = acc * slice;
  dst = ir_alloc(sizeof(float) * (size_t)(*cnt > 0 ? *cnt : 1));
  done = ir_alloc((size_t)acc + 1);
  for (i = 0; i < total; i++) {
    int64_t src = 0, s = 0, rem = i;
    for (q = d->n_outer - 1; q >= 0; q--) {
      idx[q] = rem % d->outer[q];
      rem /= d->outer[q];
      src += idx[q] * os[q];
      s += idx[q] * pk[q];
    }
    if (done[s / slice]) continue;
    done[s / slice] = 1;
    fn(d, t, src, dst + s);
  }
  free(done);
  return dst;
}

static void pack_a(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst) {
  int64_t ip, k, i;
  for (ip = 0; ip < (d->M + KL_MM_MR - 1) / KL_MM_MR; ip++)
    for (k = 0; k < d->K; k++)
      for (i = 0; i < KL_MM_MR; i++) {
        int64_t m = ip * KL_MM_MR + i;
        *dst++ = m < d->M ? const_at(t, off + m * d->a_rs + k * d->a_cs) : 0.0f;
      }
}

/* B(k,n) of the lowered strides before packing. */
static void pack_b(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst) {
  int64_t jp, k, j;
  for (jp = 0; jp < (d->N + KL_MM_NR - 1) / KL_MM_NR; jp++)
    for (k = 0; k < d->K; k++)
      for (j = 0; j < KL_MM_NR; j++) {
        int64_t nn = jp * KL_MM_NR + j;
        *dst++ = nn < d->N ? const_at(t, off + k * d->b_ks + nn * d->b_ns) : 0.0f;
      }
}

/* For the matrix-vector kernel: rows [K][N]. */
static void pack_rows(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst) {
  int64_t k, j;
  for (k = 0; k < d->K; k++)
    for (j = 0; j < d->N; j++) *dst++ = const_at(t, off + k * d->b_ks + j * d->b_ns);
}

/* ---- rendering -------------------------------------------------------------- */

/* "base + v0 * s0 + ..." over the outer loop variables (terms of stride 0 dropped). */
static const char *ptr_expr(char *buf, size_t n, const char *base, const kl_mm *d, const char *const *iv,
                            const int64_t *os) {
  size_t l;
  int t;
  snprintf(buf, n, "%s", base);
  for (t = 0; t < d->n_outer; t++) {
    if (!os[t]) continue;
    l = strlen(buf);
    snprintf(buf + l, n - l, " + %s * %lld", iv[t], (long long)os[t]);
  }
  return buf;
}

static void set_i(emit_ctx *e, const char *g, const char *field, int64_t v) {
  emit_line(e, "%s.%s = %lld;", g, field, (long long)v);
}

static void set_f(emit_ctx *e, const char *g, const char *field, double v) {
  char lit[64];
  emit_line(e, "%s.%s = %s;", g, field, emit_literal(lit, sizeof lit, IR_F32, v));
}

/* What --profile's table calls the kernel: "gemm 6x16 im2col", "gemv", "depthwise". */
static const char *kernel_label(const kl_mm *d, char *buf, size_t n) {
  static const char *const bsrc[] = {"packed", "rows", "strided", "im2col"};
  if (d->kind == KL_MM_GEMM) snprintf(buf, n, "gemm %dx%d %s", KL_MM_MR, KL_MM_NR, bsrc[d->bkind]);
  else snprintf(buf, n, "%s", d->kind == KL_MM_GEMV ? "gemv" : "depthwise");
  return buf;
}

int kl_mm_render(emit_ctx *e, const ir_node *n, const kl_mm *d) {
  static const char *const bkinds[] = {"MC_B_PACKED", "MC_B_ROWS", "MC_B_STRIDED", "MC_B_IM2COL"};
  kl_epilogue ep;
  char sfx[16], buf[1024], what[300];
  const char *iv[KL_MM_MAX_OUTER], *a, *b, *y, *bias = NULL, *res = NULL, *g;
  int64_t apk[KL_MM_MAX_OUTER], bpk[KL_MM_MAX_OUTER], cnt;
  int t;
  if (d->kind == KL_MM_NONE) return ir_error("node '%s': not lowered to the GEMM core", n->name);
  if (kl_epilogue_from_node(e, n, &ep)) return -1;
  use_helpers(e, d, &ep, sfx, sizeof sfx);
  emit_kernel(e, kernel_label(d, buf, sizeof buf));
  if (d->a_pack) {
    float *p = pack_slices(d, n->in[d->a_in], d->a_os, round_up(d->M, KL_MM_MR) * d->K, pack_a, apk, &cnt);
    snprintf(what, sizeof what, "%.200s packed as A: [%lld][%lld][%d]", n->in[d->a_in]->name,
             (long long)((d->M + KL_MM_MR - 1) / KL_MM_MR), (long long)d->K, KL_MM_MR);
    a = emit_packed_f32(e, what, p, cnt);
    free(p);
  } else {
    a = emit_in(e, d->a_in);
  }
  if (d->b_pack && d->kind == KL_MM_GEMV) {
    float *p = pack_slices(d, n->in[d->b_in], d->b_os, d->K * d->N, pack_rows, bpk, &cnt);
    snprintf(what, sizeof what, "%.200s packed as rows: [%lld][%lld]", n->in[d->b_in]->name, (long long)d->K,
             (long long)d->N);
    b = emit_packed_f32(e, what, p, cnt);
    free(p);
  } else if (d->b_pack) {
    float *p = pack_slices(d, n->in[d->b_in], d->b_os, round_up(d->N, KL_MM_NR) * d->K, pack_b, bpk, &cnt);
    snprintf(what, sizeof what, "%.200s packed as B: [%lld][%lld][%d]", n->in[d->b_in]->name,
             (long long)((d->N + KL_MM_NR - 1) / KL_MM_NR), (long long)d->K, KL_MM_NR);
    b = emit_packed_f32(e, what, p, cnt);
    free(p);
  } else {
    b = emit_in(e, d->b_in);
  }
  if (!a || !b) return ir_error("node '%s': an operand of the GEMM core is missing", n->name);
  y = emit_out(e, 0);
  if (d->bias_in >= 0) bias = emit_in(e, d->bias_in);
  if (d->res_in >= 0) res = emit_in(e, d->res_in);

  kl_block(e);
  g = emit_fresh(e, "g");
  emit_line(e, "mc_gemm_args %s;", g);
  emit_line(e, "memset(&%s, 0, sizeof %s);", g, g);
  if (d->kind == KL_MM_DW) {
    set_i(e, g, "H", d->H), set_i(e, g, "W", d->W), set_i(e, g, "OW", d->OW);
    set_i(e, g, "KH", d->KH), set_i(e, g, "KW", d->KW), set_i(e, g, "SH", d->SH), set_i(e, g, "SW", d->SW);
    set_i(e, g, "DH", d->DH), set_i(e, g, "DW", d->DW), set_i(e, g, "PH", d->PH), set_i(e, g, "PW", d->PW);
  } else {
    set_i(e, g, "M", d->M), set_i(e, g, "N", d->N), set_i(e, g, "K", d->K);
    if (d->kind == KL_MM_GEMM) set_i(e, g, "MC", d->MC), set_i(e, g, "NC", d->NC), set_i(e, g, "KC", d->KC);
    if (!d->a_pack) set_i(e, g, "ars", d->a_rs), set_i(e, g, "aks", d->a_cs);
    emit_line(e, "%s.bkind = %s;", g, bkinds[d->bkind]);
    if (d->b_pack && d->kind == KL_MM_GEMV) {
      set_i(e, g, "bks", d->N), set_i(e, g, "bns", 1);
    } else if (!d->b_pack) {
      set_i(e, g, "bks", d->b_ks), set_i(e, g, "bns", d->b_ns);
    }
    if (d->bkind == KL_MM_B_IM2COL) {
      set_i(e, g, "C", d->C), set_i(e, g, "H", d->H), set_i(e, g, "W", d->W), set_i(e, g, "OW", d->OW);
      set_i(e, g, "KH", d->KH), set_i(e, g, "KW", d->KW), set_i(e, g, "SH", d->SH), set_i(e, g, "SW", d->SW);
      set_i(e, g, "DH", d->DH), set_i(e, g, "DW", d->DW), set_i(e, g, "PH", d->PH), set_i(e, g, "PW", d->PW);
    }
    set_i(e, g, "ldy", d->ldy);
  }
  set_f(e, g, "alpha", d->alpha);
  if (bias) {
    set_i(e, g, "bias_mode", d->bias_mode);
    set_f(e, g, "beta", d->beta);
  }
  if (res) {
    set_i(e, g, "ldr", d->ldr);
    set_f(e, g, "rscale", d->rscale);
  }
  if (kl_mm_scratch_bytes(d) > 0) {
    const char *s = emit_scratch(e);
    if (d->scratch_b) emit_line(e, "%s.scratch = (float *)(void *)%s;", g, s);
    if (d->scratch_a)
      emit_line(e, "%s.ascratch = (float *)(void *)(%s + %lld);", g, s,
                (long long)(sizeof(float) * round_up(d->scratch_b, 16)));
  }
  if (bias && d->n_outer == 0) emit_line(e, "%s.bias = %s;", g, bias);
  for (t = 0; t < d->n_outer; t++) {
    if (d->kind == KL_MM_DW && d->slots > 1 && t == 1) kl_par_for(e);   /* over the channels */
    iv[t] = kl_for(e, d->outer[t]);
  }
  if (d->kind == KL_MM_DW && d->slots > 1) {   /* each channel sets its own copy of the arguments */
    const char *own = emit_fresh(e, "g");
    emit_line(e, "mc_gemm_args %s = %s;", own, g);
    g = own;
  }
  if (bias && d->n_outer > 0) emit_line(e, "%s.bias = %s;", g, ptr_expr(buf, sizeof buf, bias, d, iv, d->bias_os));
  if (res) emit_line(e, "%s.res = %s;", g, ptr_expr(buf, sizeof buf, res, d, iv, d->res_os));
  if (d->kind == KL_MM_DW) {
    char xs[300], ws[300];
    ptr_expr(xs, sizeof xs, b, d, iv, d->b_os);
    ptr_expr(ws, sizeof ws, a, d, iv, d->a_os);
    emit_line(e, "mc_dw%s(&%s, %s, %s, %s, %lld, %s);", sfx, g, xs, ws, ptr_expr(buf, sizeof buf, y, d, iv, d->y_os),
              (long long)d->OH, iv[1]);
  } else {
    emit_line(e, "%s.%s = %s;", g, d->a_pack ? "apk" : "a", ptr_expr(buf, sizeof buf, a, d, iv, d->a_pack ? apk : d->a_os));
    emit_line(e, "%s.b = %s;", g, ptr_expr(buf, sizeof buf, b, d, iv, d->b_pack ? bpk : d->b_os));
    emit_line(e, "%s.y = %s;", g, ptr_expr(buf, sizeof buf, y, d, iv, d->y_os));
    if (d->kind == KL_MM_GEMV) emit_line(e, "mc_gemv%s(&%s);", sfx, g);
    else kl_par_gemm_call(e, d, g, sfx);
  }
  for (t = 0; t < d->n_outer; t++) kl_end(e);
  kl_end(e);
  return 0;
}
