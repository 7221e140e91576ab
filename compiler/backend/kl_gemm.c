/*
 * kl_gemm.c - the GEMM core: Gemm, MatMul and Conv (float32) lowered to one
 * packed, register-blocked matrix product, plus a matrix-vector kernel for
 * M = 1 and a depthwise-convolution kernel (descriptors in kl_gemm.h).
 *
 * The emitted kernel.  Y[M][N] = act(alpha*A*B + beta*bias + rscale*res) is
 * computed in tiles of MR = 6 rows by NT columns, the six rows of A broadcast
 * against a row of B: NT = 32 with AVX-512 (two 16-float vectors a row, 12
 * accumulators, B read from two NR = 16 panels), else 16 (two 8-float
 * vectors with AVX; GCC/Clang vector extensions behind #if, with a plain C99
 * loop nest beside them that compilers vectorize themselves, and that
 * MODELC_NO_VECTOR selects).  Loops are blocked as in BLIS/GotoBLAS: N by
 * NC, K by KC (so that a KC x NT strip of B stays in L1), M by MC, then NT
 * strips and MR tiles.  A tile's epilogue (alpha, bias, residual) runs on
 * the accumulators before they are stored: full tiles in vector registers,
 * edge tiles (M, N not multiples of MR, NT) through a small array; bias and
 * residual are added in the first K block (later blocks add the partial
 * sums from y), each residual value read before its y is stored, so y may
 * take the residual's bytes (kl_mm_share_input).  The
 * activation then runs on the stored tile while it is in L1, as a plain loop
 * over floats (mc_act_rows_*, one small helper per distinct activation,
 * reached through a pointer in the arguments): a loop compilers vectorize,
 * where applying it lane by lane to a vector register was scalar code with
 * shuffles, slower than the plain path.  So each file holds one copy of
 * each kernel (mc_gemm, mc_gemv, mc_dw), which take their sizes from a
 * struct the node fills with literals.
 *
 * The transposed tile.  When N is small (a convolution over a few output
 * pixels, e.g. Silero's STFT convolution: 258 channels, 4 positions) the
 * NT-wide vectors along N are mostly padding.  mc_gemmt then swaps the
 * roles: 32 rows of y (16 without AVX-512) along the vector, A packed
 * as panels [M/NR][K][NR] (its transpose packed as a B is), 8
 * columns of B (6 without) broadcast, each column's offset in B computed
 * apart (so a padded grid's extra columns cost nothing, and a convolution
 * whose windows stay inside its input reads it in place through a tap
 * table, mc_taps_in), and the tile stored transposed through mc_epi's sums in
 * mc_epi's order, along columns.  transpose_tile chooses it by shape,
 * where it measured faster.
 *
 * Convolution.  1x1 stride 1 reads X's channel planes in place as B's rows.
 * Other convolutions are implicit GEMMs: the input is copied with its zero
 * padding into scratch, split into one plane per stride phase (only the
 * phases some tap reads), the GEMM runs over a grid as wide as a phase's
 * rows, and row k = (c, ki, kj) of B is then a contiguous run of that copy
 * at a tap offset (an int32 table), so no im2col is built; the grid columns
 * past OW are skipped, and with AVX-512 two rows of 16 outputs make one
 * 32-wide strip.  A grid no wider than the output (vw = OW: a 1x1 strided
 * convolution, whose copy is the one phase it reads) has no columns to
 * skip, so its strips run across output rows (ResNet-8's 8x8 shortcut ran
 * 8-column strips, a quarter of each vector, at 13 GFLOP/s).  The copy is
 * made one band at a time (mc_band): for bh output rows, the input rows
 * they read (with the halo) of every channel of the group; the GEMM runs over each band's columns with every row of A
 * (band outermost, so each copy serves all output channels), and the rows
 * two bands share are moved up rather than copied again.  bh is as many
 * rows as fit in KL_MM_PAD_MAX_FLOATS and the planner's cap, down to one;
 * only a convolution whose one-row band does not fit packs its im2col view
 * one KC x NC block at a time (about 3x slower on ResNet-8's 3x3s, see
 * block()).  Depthwise 3x3 copies each output row's three
 * input rows with their padding to the stack and runs one nine-tap loop
 * along the row; other windows (5x5, dilated) copy each row an output
 * row reads with its padding and add tap by tap along it (mc_dwk).
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
 * place (its values are broadcast); only its last, partial MR rows are
 * copied, so that the micro-kernel always reads MR rows.  But a
 * convolution's weight that is not constant (a trained parameter, or the
 * data gradient's flipped copy of one) is packed at run time (KL_MM_A_RUN,
 * mc_panels: the layout pack_panels writes at compile time) into arena
 * scratch, once per call, before the loops over images and groups and any
 * parallel part, which all read it: the transposed tile and whole rows need
 * the panels, and over a batch of images the standard tile gains from them
 * (a_run_pays).
 *
 * Lowering before planning.  kl_mm_lower_* is a pure function of the node
 * (with the planner's attributes on it: the scratch cap that sizes the B
 * block or the band of the padded copy, see block(), and
 * PLAN_IN_PLACE_ATTR for the in-place depthwise kernel, which copies each
 * channel plane to scratch before writing over it), and the op table's
 * scratch_bytes for Conv, Gemm and MatMul call it: the
 * memory planner places exactly the scratch the lowered descriptor asks
 * for, and the renderer lowers the node again to the same descriptor.  This
 * was chosen over storing descriptors on nodes because the planner already
 * asks the op table for scratch (plan.c), `check` re-plans the same graph,
 * and the interpreter, which runs the same graph, must not see packed
 * weights.  Rendering (kl_mm_render) only turns a descriptor into text.
 */
#include "kl_gemm.h"

#include <math.h>
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
    " * only).  A tile is MR rows by NT columns: 32 with AVX-512 (two 16-float\n"
    " * vectors a row, 12 accumulators), else 16 (two 8-float vectors a row with\n"
    " * AVX, 12 accumulators; GCC splits 64-byte vectors badly without AVX-512). */\n"
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
    "enum { MC_MR = 6, MC_NR = 16, MC_NT = MC_VEC == 16 ? 32 : 16 };\n"
    "enum { MC_FIRST = 1, MC_LAST = 2 };\n"
    "/* Where B comes from: packed panels [N/NR][K][NR] (a constant packed by\n"
    " * modelc), rows (B(k,n) = p[k*ks + n]), any strides, the im2col view of\n"
    " * a convolution input (one channel group, C x H x W), the implicit view\n"
    " * of a convolution over bands of a zero-padded, phase-split copy of the\n"
    " * input (see mc_band), or the input itself through a tap table\n"
    " * (mc_taps_in). */\n"
    "enum { MC_B_PACKED, MC_B_ROWS, MC_B_STRIDED, MC_B_IM2COL, MC_B_PADDED, MC_B_TAPS };\n"
    "/* The activation of rows x cols values at y (row stride ldy), in place. */\n"
    "typedef void (*mc_act_fn)(float *y, int64_t ldy, int64_t rows, int64_t cols);\n"
    "typedef struct mc_gemm_args {\n"
    "  int64_t M, N, K, MC, NC, KC;\n"
    "  const float *apk;              /* A packed [M/MR][K][MR], or NULL: A(m,k) = a[m*ars + k*aks] */\n"
    "  const float *a;\n"
    "  int64_t ars, aks;\n"
    "  int bkind;\n"
    "  const float *b;\n"
    "  int64_t bks, bns;\n"
    "  int64_t C, H, W, KH, KW, SH, SW, DH, DW, PH, PW, OW;   /* MC_B_IM2COL, MC_B_PADDED */\n"
    "  int64_t vh, vw, bh, xh, xps;   /* MC_B_PADDED: the grid, a band's output and grid rows, its floats */\n"
    "  float *y;\n"
    "  int64_t ldy;\n"
    "  float alpha;                   /* y = act(alpha*AB + beta*bias + rscale*res) */\n"
    "  int bias_mode;                 /* 0 none, 1 bias[m], 2 bias[n], 3 bias[0] */\n"
    "  const float *bias;\n"
    "  float beta;\n"
    "  const float *res;\n"
    "  int64_t ldr;\n"
    "  float rscale;\n"
    "  mc_act_fn act;                 /* NULL: none */\n"
    "  int clamp;                     /* the activation is a clamp: 1 below lo, 2 above hi, both (act as well) */\n"
    "  float lo, hi;\n"
    "  float *scratch;                /* KC * NC floats (MC_B_ROWS: KC * NR; MC_B_PADDED: a band, xps, + K) */\n"
    "  float *ascratch;               /* KC * MR floats, when A is not packed */\n"
    "  int padded;                    /* the whole padded copy is in scratch already (mc_pad_whole, once for all parts) */\n"
    "} mc_gemm_args;\n";

static const char src_epi[] =
    "/* The epilogue but the activation, on the values of row m, columns\n"
    " * n..n+cnt-1, in t, scaled by alpha: plus the partial sums y of the K\n"
    " * blocks before, or (y NULL: the first K block) plus bias and residual,\n"
    " * each residual value read before its y is stored, so y may take the\n"
    " * residual's bytes. */\n"
    "static void mc_epi(const mc_gemm_args *g, float *t, const float *y, int64_t m, int64_t n, int64_t cnt) {\n"
    "  int64_t j;\n"
    "  float bm = g->bias_mode == 1 ? g->beta * g->bias[m] : g->bias_mode == 3 ? g->beta * g->bias[0] : 0.0f;\n"
    "  if (y) {\n"
    "    for (j = 0; j < cnt; j++) t[j] = g->alpha * t[j] + y[j];\n"
    "    return;\n"
    "  }\n"
    "  for (j = 0; j < cnt; j++) t[j] = g->alpha * t[j] + bm;\n"
    "  if (g->bias_mode == 2)\n"
    "    for (j = 0; j < cnt; j++) t[j] += g->beta * g->bias[n + j];\n"
    "  if (g->res)\n"
    "    for (j = 0; j < cnt; j++) t[j] += g->rscale * g->res[m * g->ldr + n + j];\n"
    "}\n";

/* One activation: a loop over rows of plain floats that compilers vectorize
 * (a lane-by-lane activation of a vector register does not). */
static const char src_act[] =
    "static float mc_act@(float v) { return %s; }\n"
    "static void mc_act_rows@(float *y, int64_t ldy, int64_t rows, int64_t cols) {\n"
    "  int64_t i, j;\n"
    "  for (i = 0; i < rows; i++, y += ldy)\n"
    "    for (j = 0; j < cols; j++) y[j] = mc_act@(y[j]);\n"
    "}\n";

/* An activation that is v times a gate of v (kl_act_gate): the gates of up to
 * 64 values, then the products, two loops that GCC vectorizes where it left
 * one over v * gate(v) scalar, with a branch per value (ch_ppocr's 1x1
 * convolutions with HardSwish ran at 12 GFLOP/s, those without at 29). */
static const char src_act_gated[] =
    "static float mc_gate@(float v) { return %s; }\n"
    "static void mc_act_rows@(float *y, int64_t ldy, int64_t rows, int64_t cols) {\n"
    "  float t[64];\n"
    "  int64_t i, j, j0, n;\n"
    "  for (i = 0; i < rows; i++, y += ldy)\n"
    "    for (j0 = 0; j0 < cols; j0 += n) {\n"
    "      n = cols - j0 < 64 ? cols - j0 : 64;\n"
    "      for (j = 0; j < n; j++) t[j] = mc_gate@(y[j0 + j]);\n"
    "      for (j = 0; j < n; j++) y[j0 + j] *= t[j];\n"
    "    }\n"
    "}\n";

/* A float in every lane of an AVX vector: for both tiles. */
static const char src_splat[] =
    "#if MC_VEC == 8\n"
    "static mc_v8 mc_splat8(float x) { mc_v8 v = {x, x, x, x, x, x, x, x}; return v; }\n"
    "#endif\n";

/* The standard tile's clamp activation (g->clamp) on a vector of @W floats,
 * written for both widths by clamp_src. */
static const char src_clamp[] =
    "/* g->clamp's activation on a vector: hi above hi, then lo below lo, each\n"
    " * lane chosen by a mask (vector extensions have no ?: in C), as the\n"
    " * activation's scalar text does: a NaN stays. */\n"
    "__extension__ typedef int32_t mc_i@W __attribute__((vector_size(@W * 4)));\n"
    "static mc_v@W mc_clamp@W(const mc_gemm_args *g, mc_v@W v) {\n"
    "  mc_v@W lo, hi;\n"
    "  mc_i@W r, m, c;\n"
    "  int i;\n"
    "  for (i = 0; i < @W; i++) lo[i] = g->lo, hi[i] = g->hi;\n"
    "  memcpy(&r, &v, sizeof r);\n"
    "  if (g->clamp & 2) {\n"
    "    m = v > hi;\n"
    "    memcpy(&c, &hi, sizeof c);\n"
    "    r = (r & ~m) | (c & m);\n"
    "  }\n"
    "  if (g->clamp & 1) {\n"
    "    m = v < lo;\n"
    "    memcpy(&c, &lo, sizeof c);\n"
    "    r = (r & ~m) | (c & m);\n"
    "  }\n"
    "  memcpy(&v, &r, sizeof v);\n"
    "  return v;\n"
    "}\n";

/* The k loops of the AVX-512 tile; @K, @J, @L stand for B's row k, row k+1
 * and b1's row k, written twice by tile_src: through the tap table ko and
 * by strides, so that no loop tests ko at every step. */
static const char src_tile_loops[] =
    "    if (nr > 16) {\n"
    "      for (k = 0; k < kc; k++) {\n"
    "        mc_v16 bv, bw;\n"
    "        float x;\n"
    "        memcpy(&bv, @K, sizeof bv);\n"
    "        memcpy(&bw, @L, sizeof bw);\n"
    "        x = p[0]; c0 += x * bv; d0 += x * bw;\n"
    "        x = p[ars]; c1 += x * bv; d1 += x * bw;\n"
    "        x = p[r2]; c2 += x * bv; d2 += x * bw;\n"
    "        x = q[0]; c3 += x * bv; d3 += x * bw;\n"
    "        x = q[ars]; c4 += x * bv; d4 += x * bw;\n"
    "        x = q[r2]; c5 += x * bv; d5 += x * bw;\n"
    "        p += aks;\n"
    "        q += aks;\n"
    "      }\n"
    "    } else {   /* 16 columns: k by two, into c and d, so that 12 FMA chains hide the latency */\n"
    "      for (k = 0; k + 1 < kc; k += 2) {\n"
    "        mc_v16 bv, bw;\n"
    "        memcpy(&bv, @K, sizeof bv);\n"
    "        memcpy(&bw, @J, sizeof bw);\n"
    "        c0 += p[0] * bv; d0 += p[aks] * bw;\n"
    "        c1 += p[ars] * bv; d1 += p[ars + aks] * bw;\n"
    "        c2 += p[r2] * bv; d2 += p[r2 + aks] * bw;\n"
    "        c3 += q[0] * bv; d3 += q[aks] * bw;\n"
    "        c4 += q[ars] * bv; d4 += q[ars + aks] * bw;\n"
    "        c5 += q[r2] * bv; d5 += q[r2 + aks] * bw;\n"
    "        p += 2 * aks;\n"
    "        q += 2 * aks;\n"
    "      }\n"
    "      if (k < kc) {\n"
    "        mc_v16 bv;\n"
    "        memcpy(&bv, @K, sizeof bv);\n"
    "        c0 += p[0] * bv;\n"
    "        c1 += p[ars] * bv;\n"
    "        c2 += p[r2] * bv;\n"
    "        c3 += q[0] * bv;\n"
    "        c4 += q[ars] * bv;\n"
    "        c5 += q[r2] * bv;\n"
    "      }\n"
    "    }\n";

/* The k loop of the AVX tile, written twice like the AVX-512 ones (@K: B's
 * row k), so that no step tests ko.  On a core that shares its front end
 * with another thread the loop is bound by instructions, not FMAs: without
 * the test a 16-channel 3x3 convolution ran in 95 us rather than 115.  Not
 * k by two: twelve accumulators, two B rows and a broadcast fill the
 * sixteen registers, and with two steps in flight GCC folded B's loads
 * into the FMAs, six loads of each row where one did (MobileNet's 1x1
 * 32 -> 192 took 1150 us rather than 870). */
static const char src_tile_loops8[] =
    "    for (k = 0; k < kc; k++) {\n"
    "      mc_v8 b0, bb, s;\n"
    "      memcpy(&b0, @K, sizeof b0);\n"
    "      memcpy(&bb, @K + 8, sizeof bb);\n"
    "      s = mc_splat8(p[0]); c00 += s * b0; c01 += s * bb;\n"
    "      s = mc_splat8(p[ars]); c10 += s * b0; c11 += s * bb;\n"
    "      s = mc_splat8(p[r2]); c20 += s * b0; c21 += s * bb;\n"
    "      s = mc_splat8(q[0]); c30 += s * b0; c31 += s * bb;\n"
    "      s = mc_splat8(q[ars]); c40 += s * b0; c41 += s * bb;\n"
    "      s = mc_splat8(q[r2]); c50 += s * b0; c51 += s * bb;\n"
    "      p += aks;\n"
    "      q += aks;\n"
    "    }\n";

static const char src_tile[] =
    "/* One MR x NT tile of y at (m, n): the kc-long product of A rows (pointers\n"
    " * a, stride ars between rows, aks along k; mr valid rows) and B (columns\n"
    " * 0-15 at b, 16-31 at b1, bks and bks1 along k, or row k at ko[k] from\n"
    " * them when ko is not NULL; nr valid columns; y's columns n.. for the\n"
    " * first 16, n1.. for the rest: n + 16 unless a strip spans two rows), added\n"
    " * to y unless FIRST, through the epilogue (but the activation) when LAST;\n"
    " * a tile of whole vectors applies a clamp activation (g->clamp: Relu,\n"
    " * Clip) in registers too, and returns 1 (the caller then does not).\n"
    " * The accumulators stay in registers; tiles of whole vectors (any mr) are\n"
    " * finished from them, only a strip's last, partial vector through t (a\n"
    " * tile of 4 rows through t and its copy loop took most of a 64-channel\n"
    " * convolution's time). */\n"
    "static int mc_tile(const mc_gemm_args *g, int64_t kc, const float *a, int64_t ars, int64_t aks, int mr,\n"
    "                   const float *b, int64_t bks, const float *b1, int64_t bks1, int nr, int64_t m, int64_t n,\n"
    "                   int64_t n1, int flags, const int32_t *ko) {\n"
    "  float t[MC_MR * MC_NT];\n"
    "  int64_t k;\n"
    "  int i, j, h;\n"
    "  const float *p = a, *q = a + 3 * ars;   /* rows 0-2 and 3-5: every row readable (see mc_gemm) */\n"
    "  const int64_t r2 = 2 * ars;\n"
    "#if MC_VEC == 16\n"
    "  mc_v16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};\n"
    "  mc_v16 d0 = {0}, d1 = {0}, d2 = {0}, d3 = {0}, d4 = {0}, d5 = {0}, z = {0};\n"
    "  if (ko) {\n"
    "@KO"
    "  } else {\n"
    "@ST"
    "  }\n"
    "  if (nr <= 16) {\n"
    "    c0 += d0, c1 += d1, c2 += d2, c3 += d3, c4 += d4, c5 += d5;\n"
    "    d0 = d1 = d2 = d3 = d4 = d5 = z;   /* columns 16-31 are none of the tile's */\n"
    "  }\n"
    "  /* whole vectors (mr rows of them): the epilogue in registers; a bias along\n"
    "   * n with mr < MR takes the path below (GCC cannot see that such a tile of\n"
    "   * 16 columns never comes with a bias shorter than 16 and warns) */\n"
    "  if ((nr == 16 || nr == 32) && (mr == MC_MR || g->bias_mode != 2)) {\n"
    "    const int clamp = g->clamp && (flags & MC_LAST);   /* the activation too, here */\n"
    "    mc_v16 acc[2 * MC_MR];\n"
    "    acc[0] = c0; acc[1] = c1; acc[2] = c2; acc[3] = c3; acc[4] = c4; acc[5] = c5;\n"
    "    acc[6] = d0; acc[7] = d1; acc[8] = d2; acc[9] = d3; acc[10] = d4; acc[11] = d5;\n"
    "    for (j = 0; j < nr; j += 16)\n"
    "      for (i = 0; i < mr; i++) {\n"
    "        mc_v16 v = acc[j / 16 * MC_MR + i], w;\n"
    "        int64_t col = j ? n1 : n;\n"
    "        float *yp = g->y + (m + i) * g->ldy + col;\n"
    "        v *= g->alpha;\n"
    "        if (!(flags & MC_FIRST)) {\n"
    "          memcpy(&w, yp, sizeof w);\n"
    "          v += w;\n"
    "        } else {   /* bias and residual in the first K block: y may take res's bytes */\n"
    "          if (g->bias_mode == 1 || g->bias_mode == 3) {\n"
    "            v += g->beta * g->bias[g->bias_mode == 1 ? m + i : 0];\n"
    "          } else if (g->bias_mode == 2) {\n"
    "            memcpy(&w, g->bias + col, sizeof w);\n"
    "            v += g->beta * w;\n"
    "          }\n"
    "          if (g->res) {\n"
    "            memcpy(&w, g->res + (m + i) * g->ldr + col, sizeof w);\n"
    "            v += g->rscale * w;\n"
    "          }\n"
    "        }\n"
    "        if (clamp) v = mc_clamp16(g, v);\n"
    "        memcpy(yp, &v, sizeof v);\n"
    "      }\n"
    "    return clamp;\n"
    "  }\n"
    "  memcpy(t + 0, &c0, 64); memcpy(t + 16, &d0, 64); memcpy(t + 32, &c1, 64); memcpy(t + 48, &d1, 64);\n"
    "  memcpy(t + 64, &c2, 64); memcpy(t + 80, &d2, 64); memcpy(t + 96, &c3, 64); memcpy(t + 112, &d3, 64);\n"
    "  memcpy(t + 128, &c4, 64); memcpy(t + 144, &d4, 64); memcpy(t + 160, &c5, 64); memcpy(t + 176, &d5, 64);\n"
    "#elif MC_VEC == 8\n"
    "  mc_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};\n"
    "  mc_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};\n"
    "  (void)b1, (void)bks1, (void)n1;\n"
    "  if (ko) {\n"
    "@V8KO"
    "  } else {\n"
    "@V8ST"
    "  }\n"
    "  if (nr == MC_NT && (mr == MC_MR || g->bias_mode != 2)) {   /* as above */\n"
    "    const int clamp = g->clamp && (flags & MC_LAST);   /* the activation too, here */\n"
    "    mc_v8 acc[2 * MC_MR];\n"
    "    acc[0] = c00; acc[1] = c01; acc[2] = c10; acc[3] = c11; acc[4] = c20; acc[5] = c21;\n"
    "    acc[6] = c30; acc[7] = c31; acc[8] = c40; acc[9] = c41; acc[10] = c50; acc[11] = c51;\n"
    "    for (i = 0; i < mr; i++)\n"
    "      for (j = 0; j < 16; j += 8) {\n"
    "        mc_v8 v = acc[2 * i + j / 8], w;\n"
    "        float *yp = g->y + (m + i) * g->ldy + n + j;\n"
    "        v *= mc_splat8(g->alpha);\n"
    "        if (!(flags & MC_FIRST)) {\n"
    "          memcpy(&w, yp, sizeof w);\n"
    "          v += w;\n"
    "        } else {   /* bias and residual in the first K block: y may take res's bytes */\n"
    "          if (g->bias_mode == 1 || g->bias_mode == 3) {\n"
    "            v += mc_splat8(g->beta * g->bias[g->bias_mode == 1 ? m + i : 0]);\n"
    "          } else if (g->bias_mode == 2) {\n"
    "            memcpy(&w, g->bias + n + j, sizeof w);\n"
    "            v += mc_splat8(g->beta) * w;\n"
    "          }\n"
    "          if (g->res) {\n"
    "            memcpy(&w, g->res + (m + i) * g->ldr + n + j, sizeof w);\n"
    "            v += mc_splat8(g->rscale) * w;\n"
    "          }\n"
    "        }\n"
    "        if (clamp) v = mc_clamp8(g, v);\n"
    "        memcpy(yp, &v, sizeof v);\n"
    "      }\n"
    "    return clamp;\n"
    "  }\n"
    "  memcpy(t + 0, &c00, 32); memcpy(t + 8, &c01, 32); memcpy(t + 16, &c10, 32); memcpy(t + 24, &c11, 32);\n"
    "  memcpy(t + 32, &c20, 32); memcpy(t + 40, &c21, 32); memcpy(t + 48, &c30, 32); memcpy(t + 56, &c31, 32);\n"
    "  memcpy(t + 64, &c40, 32); memcpy(t + 72, &c41, 32); memcpy(t + 80, &c50, 32); memcpy(t + 88, &c51, 32);\n"
    "#else\n"
    "  (void)b1, (void)bks1, (void)n1;\n"
    "  for (i = 0; i < MC_MR * MC_NT; i++) t[i] = 0.0f;\n"
    "  for (k = 0; k < kc; k++) {\n"
    "    const float x0 = p[0], x1 = p[ars], x2 = p[r2], x3 = q[0], x4 = q[ars], x5 = q[r2];\n"
    "    float bq[MC_NT];   /* a copy: the loop below then vectorizes whatever B is */\n"
    "    memcpy(bq, ko ? b + ko[k] : b + k * bks, sizeof bq);\n"
    "    for (j = 0; j < MC_NT; j++) {\n"
    "      const float bj = bq[j];\n"
    "      t[j] += x0 * bj;\n"
    "      t[MC_NT + j] += x1 * bj;\n"
    "      t[2 * MC_NT + j] += x2 * bj;\n"
    "      t[3 * MC_NT + j] += x3 * bj;\n"
    "      t[4 * MC_NT + j] += x4 * bj;\n"
    "      t[5 * MC_NT + j] += x5 * bj;\n"
    "    }\n"
    "    p += aks;\n"
    "    q += aks;\n"
    "  }\n"
    "#endif\n"
    "  for (i = 0; i < mr; i++)\n"
    "    for (h = 0; h < nr; h += 16) {   /* columns 0-15 at n, 16-31 at n1 */\n"
    "      int cnt = nr - h < 16 ? nr - h : 16;\n"
    "      int64_t col = h ? n1 : n;\n"
    "      float *yr = g->y + (m + i) * g->ldy + col, *tr = t + i * MC_NT + h;\n"
    "      mc_epi(g, tr, flags & MC_FIRST ? NULL : yr, m + i, col, cnt);\n"
    "      for (j = 0; j < cnt; j++) yr[j] = tr[j];\n"
    "    }\n"
    "  return 0;\n"
    "}\n";

/* The panel layout at run time: pack_panels writes it at compile time. */
static const char src_panels[] =
    "/* Rows 0..rows-1 of a matrix, row i, column k at src[i*rs + k*cs], as\n"
    " * panels [rows/P][K][P] at dst, the rows past `rows` zero: the layout\n"
    " * the tiles read (B and A's transpose: P = NR; A: P = MR), as modelc\n"
    " * packs constants at compile time.  Along each row, so that a row-major\n"
    " * source is read in order. */\n"
    "static void mc_panels(const float *src, int64_t rs, int64_t cs, int64_t rows, int64_t K, int64_t P, float *dst) {\n"
    "  int64_t i, k, i0;\n"
    "  for (i0 = 0; i0 < rows; i0 += P)\n"
    "    for (i = 0; i < P; i++) {\n"
    "      float *d = dst + i0 * K + i;\n"
    "      if (i0 + i < rows)\n"
    "        for (k = 0; k < K; k++) d[k * P] = src[(i0 + i) * rs + k * cs];\n"
    "      else\n"
    "        for (k = 0; k < K; k++) d[k * P] = 0.0f;\n"
    "    }\n"
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
    "  mc_panels(g->b + k0 * g->bks + n0 * g->bns, g->bns, g->bks, nc, kc, MC_NR, dst);\n"
    "}\n";

static const char src_pad[] =
    "/* MC_B_PADDED: a convolution computed on a grid of vh x vw positions\n"
    " * (vw = OW + (KW-1)*DW/SW, vh likewise) over the input split by stride\n"
    " * phase with its zero padding: plane (a, b) of channel c is xp[r][s] =\n"
    " * x[c][r*SH + a - PH][s*SW + b - PW], or 0 outside x.  Tap (ki, kj) reads\n"
    " * phase (ki*DH % SH, kj*DW % SW) at offset (ki*DH / SH, kj*DW / SW), so\n"
    " * B(k, v) = xp[ko[k] + v]: every row of B is a contiguous run of the copy\n"
    " * and no im2col is built; the grid columns past OW are skipped.  The copy\n"
    " * is made one band at a time into scratch: grid rows r0..r0+xh-1 of every\n"
    " * plane, the xh = bh + (KH-1)*DH/SH rows that output rows r0..r0+bh-1\n"
    " * read.  Of the phases of an axis only those below mc_phases are held: the\n"
    " * K first without dilation (a 1x1 stride-2 convolution reads one of four),\n"
    " * all S with it. */\n"
    "static int64_t mc_phases(int64_t S, int64_t D, int64_t K) { return D == 1 && K < S ? K : S; }\n"
    "\n"
    "/* The tap table: ko[k] for k = (c, ki, kj), offsets into a band. */\n"
    "static void mc_taps(const mc_gemm_args *g, int32_t *ko) {\n"
    "  int64_t a, b, c, k, khw = g->KH * g->KW, plane = g->xh * g->vw, pb = mc_phases(g->SW, g->DW, g->KW);\n"
    "  for (a = 0; a < g->KH; a++)   /* no division per entry */\n"
    "    for (b = 0; b < g->KW; b++) {\n"
    "      int64_t ti = a * g->DH, tj = b * g->DW;\n"
    "      int64_t o = (ti % g->SH * pb + tj % g->SW) * g->C * plane + ti / g->SH * g->vw + tj / g->SW;\n"
    "      for (c = 0, k = a * g->KW + b; c < g->C; c++, k += khw) ko[k] = (int32_t)(o + c * plane);\n"
    "    }\n"
    "}\n"
    "\n"
    "/* Grid rows r0..r0+xh-1 into the band at xp, whose columns of padding\n"
    " * and phases no tap reads hold zeros already (mc_gemm zeroes the band\n"
    " * once).  The first `keep` rows of each plane are the last ones of the band\n"
    " * before: moved up, one run a plane, rather than copied from x again. */\n"
    "static void mc_band_chans(const mc_gemm_args *g, float *xp, int64_t r0, int64_t keep, int64_t c0, int64_t c1) {\n"
    "  int64_t a, b, c, i, s, t, plane = g->xh * g->vw;\n"
    "  int64_t pa = mc_phases(g->SH, g->DH, g->KH), pb = mc_phases(g->SW, g->DW, g->KW);\n"
    "  for (a = 0; a < pa; a++)\n"
    "    for (b = 0; b < pb; b++) {\n"
    "      /* does a tap read this phase? (with dilation not all do) */\n"
    "      int ua = g->DH == 1, ub = g->DW == 1;\n"
    "      /* the grid columns s whose input column s*SW + b - PW is inside */\n"
    "      int64_t s0 = g->PW - b > 0 ? (g->PW - b + g->SW - 1) / g->SW : 0;\n"
    "      int64_t s1 = g->W - 1 + g->PW - b < 0 ? 0 : (g->W - 1 + g->PW - b) / g->SW + 1;\n"
    "      for (t = 0; !ua && t < g->KH; t++) ua = t * g->DH % g->SH == a;\n"
    "      for (t = 0; !ub && t < g->KW; t++) ub = t * g->DW % g->SW == b;\n"
    "      if (s1 > g->vw) s1 = g->vw;\n"
    "      if (!ua || !ub || s1 <= s0) continue;\n"
    "      for (c = c0; c < c1; c++) {\n"
    "        float *p = xp + ((a * pb + b) * g->C + c) * plane;\n"
    "        if (keep) memmove(p, p + (g->xh - keep) * g->vw, sizeof(float) * (size_t)(keep * g->vw));\n"
    "        for (i = keep; i < g->xh; i++) {\n"
    "          int64_t r = r0 + i, ih = r * g->SH + a - g->PH;\n"
    "          float *d = p + i * g->vw;\n"
    "          if (r >= g->vh || ih < 0 || ih >= g->H)\n"
    "            for (s = s0; s < s1; s++) d[s] = 0.0f;\n"
    "          else if (g->SW == 1)\n"
    "            memcpy(d + s0, g->b + (c * g->H + ih) * g->W + s0 - g->PW, sizeof(float) * (size_t)(s1 - s0));\n"
    "          else\n"
    "            for (s = s0; s < s1; s++) d[s] = g->b[(c * g->H + ih) * g->W + s * g->SW + b - g->PW];\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* Every channel (mc_band_chans does channels c0..c1-1 only). */\n"
    "static void mc_band(const mc_gemm_args *g, float *xp, int64_t r0, int64_t keep) {\n"
    "  mc_band_chans(g, xp, r0, keep, 0, g->C);\n"
    "}\n";

static const char src_gemm[] =
    "/* Rows m0..m1-1, columns n0..n1-1 (on tile boundaries; MC_B_PADDED: grid\n"
    " * columns) of y = epilogue(A B): blocked over N (NC), K (KC) and M (MC),\n"
    " * then NT-wide column strips (one or two NR panels) and MR-high tiles (the\n"
    " * loop order of BLIS); MC_B_PADDED runs that on one band of the copy at a\n"
    " * time, so that each band serves every row of A.  The activation runs on\n"
    " * each finished tile while it is in L1.  A part of a parallel product\n"
    " * (kl_par.c) makes its own bands in its own scratch. */\n"
    "static void mc_gemm(const mc_gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {\n"
    "  int64_t jc, pc, ic, jr, ir, r0 = 0, r1 = 1, bh = 1, v0 = n0, v1 = n1, base = 0;\n"
    "  float *xp = NULL;\n"
    "  const int32_t *ko = NULL;\n"
    "  if (g->bkind == MC_B_PADDED) {   /* the grid rows of columns n0..n1-1, bh at a time */\n"
    "    int32_t *t = (int32_t *)(void *)(g->scratch + g->xps);\n"
    "    xp = g->scratch;\n"
    "    memset(xp, 0, sizeof(float) * (size_t)g->xps);   /* padding, phases no tap reads, what tiles read past */\n"
    "    mc_taps(g, t);\n"
    "    ko = t;\n"
    "    r0 = n0 / g->vw;\n"
    "    r1 = (n1 - 1) / g->vw + 1;\n"
    "    bh = g->bh;\n"
    "  }\n"
    "  for (; r0 < r1; r0 += bh) {\n"
    "    if (xp) {   /* the band's columns, base its first */\n"
    "      base = r0 * g->vw;\n"
    "      v0 = n0 > base ? n0 : base;\n"
    "      v1 = n1 < base + bh * g->vw ? n1 : base + bh * g->vw;\n"
    "      mc_band(g, xp, r0, r0 > n0 / g->vw && g->xh > bh ? g->xh - bh : 0);   /* rows two bands share: kept */\n"
    "    }\n"
    "    for (jc = v0; jc < v1; jc += g->NC) {\n"
    "      int64_t nc = v1 - jc < g->NC ? v1 - jc : g->NC;\n"
    "      for (pc = 0; pc < g->K; pc += g->KC) {\n"
    "        int64_t kc = g->K - pc < g->KC ? g->K - pc : g->KC;\n"
    "        int flags = (pc == 0 ? MC_FIRST : 0) | (pc + kc == g->K ? MC_LAST : 0);\n"
    "        const float *bp = NULL;\n"
    "        int64_t bps = 0, bks = MC_NR;   /* panel stride, k stride */\n"
    "        if (g->bkind == MC_B_PACKED) {\n"
    "          bp = g->b + jc * g->K + pc * MC_NR;\n"
    "          bps = g->K * MC_NR;\n"
    "        } else if (g->bkind == MC_B_ROWS) {\n"
    "          bp = g->b + pc * g->bks + jc;\n"
    "          bps = MC_NR;\n"
    "          bks = g->bks;\n"
    "          if (nc % MC_NR)   /* the last, partial panel: packed, so no read runs past a row */\n"
    "            mc_packb(g, pc, kc, jc + nc / MC_NR * MC_NR, nc % MC_NR, g->scratch);\n"
    "        } else if (xp) {\n"
    "          bp = xp + (jc - base);\n"
    "          bps = MC_NR;\n"
    "        } else {\n"
    "          mc_packb(g, pc, kc, jc, nc, g->scratch);\n"
    "          bp = g->scratch;\n"
    "          bps = kc * MC_NR;\n"
    "        }\n"
    "        for (ic = m0; ic < m1; ic += g->MC) {\n"
    "          int64_t mc = m1 - ic < g->MC ? m1 - ic : g->MC;\n"
    "          int nr;\n"
    "          int64_t adv;\n"
    "          for (jr = 0; jr < nc; jr += adv) {\n"
    "            const float *b, *b1;\n"
    "            int64_t bk = bks, bk1 = bks, n = jc + jr, n1;   /* n: the column of y */\n"
    "            nr = nc - jr < MC_NT ? (int)(nc - jr) : MC_NT;\n"
    "            if (xp) {   /* grid column jc + jr: an output when its column in the row is below OW */\n"
    "              int64_t col = (jc + jr) % g->vw;\n"
    "              if (col >= g->OW) {\n"
    "                adv = g->vw - col < nc - jr ? g->vw - col : nc - jr;\n"
    "                continue;\n"
    "              }\n"
    "              if (g->vw > g->OW && nr > g->OW - col) nr = (int)(g->OW - col);   /* vw == OW: strips run on */\n"
    "              n = (jc + jr) / g->vw * g->OW + col;\n"
    "              b = bp + jr;\n"
    "              b1 = b + MC_NR;\n"
    "              n1 = n + MC_NR;\n"
    "              adv = nr;\n"
    "              if (MC_NT == 2 * MC_NR && g->OW == MC_NR && col == 0 && jr + g->vw + MC_NR <= nc) {\n"
    "                nr = MC_NT;   /* rows of 16 outputs: one strip of two rows */\n"
    "                b1 = b + g->vw;\n"
    "                n1 = n + g->OW;\n"
    "                adv = g->vw + MC_NR;\n"
    "              }\n"
    "            } else {\n"
    "              b = bp + jr / MC_NR * bps;\n"
    "              b1 = nr > MC_NR ? b + bps : b;\n"
    "              n1 = n + MC_NR;\n"
    "              adv = nr;\n"
    "            }\n"
    "            if (g->bkind == MC_B_ROWS && nc % MC_NR) {   /* the partial panel is in scratch */\n"
    "              if (jr + nr == nc && nr <= MC_NR) b = g->scratch, bk = MC_NR;\n"
    "              else if (jr + nr == nc) b1 = g->scratch, bk1 = MC_NR;\n"
    "            }\n"
    "            for (ir = 0; ir < mc; ir += MC_MR) {\n"
    "              int mr = mc - ir < MC_MR ? (int)(mc - ir) : MC_MR;\n"
    "              int64_t m = ic + ir;\n"
    "              const float *a = g->apk ? g->apk + m * g->K + pc * MC_MR : g->a + m * g->ars + pc * g->aks;\n"
    "              int64_t ars = g->apk ? 1 : g->ars, aks = g->apk ? MC_MR : g->aks;\n"
    "              if (!g->apk && mr < MC_MR) {   /* the last rows, copied so that the tile reads MR rows */\n"
    "                int64_t i, k;\n"
    "                for (k = 0; k < kc; k++)\n"
    "                  for (i = 0; i < MC_MR; i++) g->ascratch[k * MC_MR + i] = i < mr ? a[i * ars + k * aks] : 0.0f;\n"
    "                a = g->ascratch;\n"
    "                ars = 1;\n"
    "                aks = MC_MR;\n"
    "              }\n"
    "              if (!mc_tile(g, kc, a, ars, aks, mr, b, bk, b1, bk1, nr, m, n, n1, flags, ko ? ko + pc : NULL) &&\n"
    "                  (flags & MC_LAST) && g->act) {\n"
    "                if (nr > MC_NR && n1 != n + MC_NR) {\n"
    "                  g->act(g->y + m * g->ldy + n, g->ldy, mr, MC_NR);\n"
    "                  g->act(g->y + m * g->ldy + n1, g->ldy, mr, nr - MC_NR);\n"
    "                } else {\n"
    "                  g->act(g->y + m * g->ldy + n, g->ldy, mr, nr);\n"
    "                }\n"
    "              }\n"
    "            }\n"
    "          }\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* The transposed tile, for a product whose N is small (a convolution over a
 * few output pixels): the vector runs over MT rows of y (output channels)
 * and NP columns (pixels) of B are broadcast, so no lane is padding when N
 * is 4 or 8.  A is packed (at compile time, or at run time by mc_panels)
 * as panels [M/NR][K][NR] (A's transpose packed as B is); the tile reads
 * two of them with AVX-512 (MT = 32, NP = 8: 16 accumulators), one
 * otherwise (MT = 16, NP = 6: 12 with AVX, a loop compilers vectorize
 * without).  The k loops, written twice by
 * tilet_src: @B is B's row k through the tap table ko or by its stride. */
static const char src_tilet_loops[] =
    "    if (mr > 16 && np > 4) {\n"
    "      for (k = 0; k < kc; k++) {\n"
    "        const float *bk = @B;\n"
    "        mc_v16 av, aw;\n"
    "        float x;\n"
    "        memcpy(&av, a + k * MC_NR, sizeof av);\n"
    "        memcpy(&aw, a1 + k * MC_NR, sizeof aw);\n"
    "        x = bk[o0]; c0 += x * av; d0 += x * aw;\n"
    "        x = bk[o1]; c1 += x * av; d1 += x * aw;\n"
    "        x = bk[o2]; c2 += x * av; d2 += x * aw;\n"
    "        x = bk[o3]; c3 += x * av; d3 += x * aw;\n"
    "        x = bk[o4]; c4 += x * av; d4 += x * aw;\n"
    "        x = bk[o5]; c5 += x * av; d5 += x * aw;\n"
    "        x = bk[o6]; c6 += x * av; d6 += x * aw;\n"
    "        x = bk[o7]; c7 += x * av; d7 += x * aw;\n"
    "      }\n"
    "    } else if (mr > 16) {   /* four pixels or fewer: half the work */\n"
    "      for (k = 0; k < kc; k++) {\n"
    "        const float *bk = @B;\n"
    "        mc_v16 av, aw;\n"
    "        float x;\n"
    "        memcpy(&av, a + k * MC_NR, sizeof av);\n"
    "        memcpy(&aw, a1 + k * MC_NR, sizeof aw);\n"
    "        x = bk[o0]; c0 += x * av; d0 += x * aw;\n"
    "        x = bk[o1]; c1 += x * av; d1 += x * aw;\n"
    "        x = bk[o2]; c2 += x * av; d2 += x * aw;\n"
    "        x = bk[o3]; c3 += x * av; d3 += x * aw;\n"
    "      }\n"
    "    } else {   /* sixteen rows or fewer: one panel */\n"
    "      for (k = 0; k < kc; k++) {\n"
    "        const float *bk = @B;\n"
    "        mc_v16 av;\n"
    "        memcpy(&av, a + k * MC_NR, sizeof av);\n"
    "        c0 += bk[o0] * av; c1 += bk[o1] * av; c2 += bk[o2] * av; c3 += bk[o3] * av;\n"
    "        c4 += bk[o4] * av; c5 += bk[o5] * av; c6 += bk[o6] * av; c7 += bk[o7] * av;\n"
    "      }\n"
    "    }\n";

/* The AVX transposed tile's k loop, written twice as the tile's is (@B:
 * B's row k), so that no step tests ko. */
static const char src_tilet_loops8[] =
    "    for (k = 0; k < kc; k++) {\n"
    "      const float *bk = @B;\n"
    "      mc_v8 a0, a8, s;\n"
    "      memcpy(&a0, a + k * MC_NR, sizeof a0);\n"
    "      memcpy(&a8, a + k * MC_NR + 8, sizeof a8);\n"
    "      s = mc_splat8(bk[o0]); c00 += s * a0; c01 += s * a8;\n"
    "      s = mc_splat8(bk[o1]); c10 += s * a0; c11 += s * a8;\n"
    "      s = mc_splat8(bk[o2]); c20 += s * a0; c21 += s * a8;\n"
    "      s = mc_splat8(bk[o3]); c30 += s * a0; c31 += s * a8;\n"
    "      s = mc_splat8(bk[o4]); c40 += s * a0; c41 += s * a8;\n"
    "      s = mc_splat8(bk[o5]); c50 += s * a0; c51 += s * a8;\n"
    "    }\n";

static const char src_tilet[] =
    "enum { MC_MT = MC_VEC == 16 ? 32 : 16, MC_NP = MC_VEC == 16 ? 8 : 6 };\n"
    "/* One transposed tile: rows m..m+mr-1 (mr <= MT) by columns n..n+np-1\n"
    " * (np <= NP) of y, the product over all of K of A (panel a for rows 0-15,\n"
    " * a1 for 16-31, NR floats per k) and B(k, column j) = b[ko[k] + po[j]], or\n"
    " * b[k * bks + po[j]] when ko is NULL (po[j] for j >= np repeats a valid\n"
    " * column, so every read stays inside B).  The epilogue is mc_epi's, sum\n"
    " * for sum in its order, but along a column of t (a pixel's channels, a\n"
    " * loop that vectorizes) as the tile is stored transposed; then the\n"
    " * activation. */\n"
    "static void mc_tilet(const mc_gemm_args *g, const float *a, const float *a1, int mr, const float *b,\n"
    "                     int64_t bks, const int32_t *ko, const int64_t *po, int np, int64_t m, int64_t n) {\n"
    "  float t[MC_NP * MC_MT];\n"
    "  const int64_t kc = g->K;\n"
    "  int64_t k;\n"
    "  int i, j;\n"
    "#if MC_VEC == 16\n"
    "  const int64_t o0 = po[0], o1 = po[1], o2 = po[2], o3 = po[3], o4 = po[4], o5 = po[5], o6 = po[6], o7 = po[7];\n"
    "  mc_v16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0}, c6 = {0}, c7 = {0};\n"
    "  mc_v16 d0 = {0}, d1 = {0}, d2 = {0}, d3 = {0}, d4 = {0}, d5 = {0}, d6 = {0}, d7 = {0};\n"
    "  if (ko) {\n"
    "@KO"
    "  } else {\n"
    "@ST"
    "  }\n"
    "  memcpy(t + 0, &c0, 64); memcpy(t + 16, &d0, 64); memcpy(t + 32, &c1, 64); memcpy(t + 48, &d1, 64);\n"
    "  memcpy(t + 64, &c2, 64); memcpy(t + 80, &d2, 64); memcpy(t + 96, &c3, 64); memcpy(t + 112, &d3, 64);\n"
    "  memcpy(t + 128, &c4, 64); memcpy(t + 144, &d4, 64); memcpy(t + 160, &c5, 64); memcpy(t + 176, &d5, 64);\n"
    "  memcpy(t + 192, &c6, 64); memcpy(t + 208, &d6, 64); memcpy(t + 224, &c7, 64); memcpy(t + 240, &d7, 64);\n"
    "#elif MC_VEC == 8\n"
    "  const int64_t o0 = po[0], o1 = po[1], o2 = po[2], o3 = po[3], o4 = po[4], o5 = po[5];\n"
    "  mc_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};\n"
    "  mc_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};\n"
    "  (void)a1;\n"
    "  if (ko) {\n"
    "@V8KO"
    "  } else {\n"
    "@V8ST"
    "  }\n"
    "  memcpy(t + 0, &c00, 32); memcpy(t + 8, &c01, 32); memcpy(t + 16, &c10, 32); memcpy(t + 24, &c11, 32);\n"
    "  memcpy(t + 32, &c20, 32); memcpy(t + 40, &c21, 32); memcpy(t + 48, &c30, 32); memcpy(t + 56, &c31, 32);\n"
    "  memcpy(t + 64, &c40, 32); memcpy(t + 72, &c41, 32); memcpy(t + 80, &c50, 32); memcpy(t + 88, &c51, 32);\n"
    "#else\n"
    "  (void)a1;\n"
    "  for (i = 0; i < MC_NP * MC_MT; i++) t[i] = 0.0f;\n"
    "  for (k = 0; k < kc; k++) {\n"
    "    const float *bk = ko ? b + ko[k] : b + k * bks, *ak = a + k * MC_NR;\n"
    "    for (j = 0; j < MC_NP; j++) {\n"
    "      const float x = bk[po[j]];\n"
    "      for (i = 0; i < MC_MT; i++) t[j * MC_MT + i] += x * ak[i];\n"
    "    }\n"
    "  }\n"
    "#endif\n"
    "  for (j = 0; j < np; j++) {   /* column n + j of y: row m + i takes t[j][i] */\n"
    "    float *tj = t + j * MC_MT, *yc = g->y + m * g->ldy + n + j;\n"
    "    const float bm = g->bias_mode == 3 ? g->beta * g->bias[0] : 0.0f;\n"
    "    if (g->bias_mode == 1)\n"
    "      for (i = 0; i < mr; i++) tj[i] = g->alpha * tj[i] + g->beta * g->bias[m + i];\n"
    "    else\n"
    "      for (i = 0; i < mr; i++) tj[i] = g->alpha * tj[i] + bm;\n"
    "    if (g->bias_mode == 2)\n"
    "      for (i = 0; i < mr; i++) tj[i] += g->beta * g->bias[n + j];\n"
    "    if (g->res)   /* each value read before its y is stored: y may take res's bytes */\n"
    "      for (i = 0; i < mr; i++) tj[i] += g->rscale * g->res[(m + i) * g->ldr + n + j];\n"
    "    for (i = 0; i < mr; i++) yc[i * g->ldy] = tj[i];\n"
    "  }\n"
    "  if (g->act) g->act(g->y + m * g->ldy + n, g->ldy, mr, np);\n"
    "}\n";

static const char src_pad_whole[] =
    "/* MC_B_PADDED for the transposed tile and mc_convr: the padded copy as\n"
    " * one band, grid rows r0..r0+xh-1, its tap table after it.  The whole\n"
    " * copy (bh = OH, xh = vh, r0 = 0), made once before the parts of a\n"
    " * parallel product that then all read it (g->padded), or a part's own\n"
    " * rows in its own scratch (the transposed tile's parts over N). */\n"
    "static const float *mc_pad_whole(const mc_gemm_args *g, int64_t r0) {\n"
    "  if (g->padded) return g->scratch;\n"
    "  memset(g->scratch, 0, sizeof(float) * (size_t)g->xps);\n"
    "  mc_taps(g, (int32_t *)(void *)(g->scratch + g->xps));\n"
    "  mc_band(g, g->scratch, r0, 0);\n"
    "  return g->scratch;\n"
    "}\n";

static const char src_pad_chans[] =
    "/* Channels c0..c1-1 of mc_pad_whole's copy (the same values, planes apart), for\n"
    " * parts that make it together: the first part with channels writes the\n"
    " * tap table, the last one the floats after the planes. */\n"
    "static void mc_pad_chans(const mc_gemm_args *g, int64_t c0, int64_t c1) {\n"
    "  int64_t plane = g->xh * g->vw, ph, np = mc_phases(g->SH, g->DH, g->KH) * mc_phases(g->SW, g->DW, g->KW);\n"
    "  if (c1 <= c0) return;\n"
    "  for (ph = 0; ph < np; ph++)\n"
    "    memset(g->scratch + (ph * g->C + c0) * plane, 0, sizeof(float) * (size_t)((c1 - c0) * plane));\n"
    "  if (c1 == g->C) memset(g->scratch + np * g->C * plane, 0, sizeof(float) * (size_t)(g->xps - np * g->C * plane));\n"
    "  if (c0 == 0) mc_taps(g, (int32_t *)(void *)(g->scratch + g->xps));\n"
    "  mc_band_chans(g, g->scratch, 0, 0, c0, c1);\n"
    "}\n";

static const char src_gemmt[] =
    "/* MC_B_TAPS: a convolution whose windows all lie inside its input, read\n"
    " * in place: B(k, pixel) = x[ko[k] + (pixel's window origin)], the tap\n"
    " * table ko (k = (c, ki, kj)) in scratch.  Only the transposed tile reads\n"
    " * B this way: it broadcasts B's values one by one, at any stride. */\n"
    "static const int32_t *mc_taps_in(const mc_gemm_args *g) {\n"
    "  int32_t *ko = (int32_t *)(void *)g->scratch;\n"
    "  int64_t c, a, b, k = 0;\n"
    "  for (c = 0; c < g->C; c++)\n"
    "    for (a = 0; a < g->KH; a++)\n"
    "      for (b = 0; b < g->KW; b++) ko[k++] = (int32_t)((c * g->H + a * g->DH) * g->W + b * g->DW);\n"
    "  return ko;\n"
    "}\n"
    "\n"
    "/* Rows m0..m1-1 (m0 a multiple of MT), columns n0..n1-1 (a convolution's\n"
    " * output pixels, not grid columns) of y = epilogue(A B) by transposed\n"
    " * tiles: MT-row tiles, each over NP-column groups, with B read in place\n"
    " * (MC_B_ROWS, MC_B_STRIDED), from the padded copy (MC_B_PADDED, mc_pad_whole) or\n"
    " * from the input itself (MC_B_TAPS) at each column's offset po.  The parts\n"
    " * of a parallel product over M share one padded copy, made before them;\n"
    " * over N (n0 starts an output row) each copies the band of its rows. */\n"
    "static void mc_gemmt(const mc_gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {\n"
    "  int64_t r0 = g->bkind == MC_B_PADDED && !g->padded ? n0 / g->OW : 0;   /* the copy's first grid row */\n"
    "  const float *b = g->bkind == MC_B_PADDED ? mc_pad_whole(g, r0) : g->b;\n"
    "  const int32_t *ko = g->bkind == MC_B_PADDED  ? (const int32_t *)(const void *)(g->scratch + g->xps)\n"
    "                      : g->bkind == MC_B_TAPS ? mc_taps_in(g)\n"
    "                                              : NULL;\n"
    "  int64_t ic, jr;\n"
    "  for (ic = m0; ic < m1; ic += MC_MT) {\n"
    "    int mr = m1 - ic < MC_MT ? (int)(m1 - ic) : MC_MT;\n"
    "    const float *a = g->apk + ic * g->K, *a1 = mr > MC_NR ? a + MC_NR * g->K : a;\n"
    "    for (jr = n0; jr < n1; jr += MC_NP) {\n"
    "      int np = n1 - jr < MC_NP ? (int)(n1 - jr) : MC_NP, j;\n"
    "      int64_t po[MC_NP];\n"
    "      for (j = 0; j < MC_NP; j++) {\n"
    "        int64_t p = jr + (j < np ? j : np - 1);   /* past np: the last column again */\n"
    "        if (g->bkind == MC_B_PADDED)   /* the window's origin on the grid, or in the input */\n"
    "          po[j] = (p / g->OW - r0) * g->vw + p % g->OW;\n"
    "        else if (g->bkind == MC_B_TAPS)\n"
    "          po[j] = p / g->OW * g->SH * g->W + p % g->OW * g->SW;\n"
    "        else\n"
    "          po[j] = p * g->bns;\n"
    "      }\n"
    "      mc_tilet(g, a, a1, mr, b, g->bks, ko, po, np, ic, jr);\n"
    "    }\n"
    "  }\n"
    "}\n";

static const char src_convr[] =
    "/* A convolution by whole output rows (kl_mm.rows): over the padded copy\n"
    " * of mc_pad_whole, each output row of an MR-channel tile is covered by full\n"
    " * 16-column halves, the last one moved left to end at OW (it recomputes a\n"
    " * few columns, storing the same values again), so no tile takes the edge\n"
    " * path; K fits one block and y is no input's bytes, so a column computed\n"
    " * twice is the same sum.  The activation runs on each channel's band of\n"
    " * output rows, a long run rather than rows of OW.  Output rows oh0..oh1-1. */\n"
    "static void mc_convr(const mc_gemm_args *g, int64_t oh0, int64_t oh1) {\n"
    "  const float *xp = mc_pad_whole(g, 0);\n"
    "  const int32_t *ko = (const int32_t *)(const void *)(g->scratch + g->xps);\n"
    "  int64_t band = g->OW < 256 ? 256 / g->OW : 1, ob, oe, oh, m, h;   /* rows whose outputs stay in L1 */\n"
    "  (void)mc_gemm;   /* emitted with every standard tile, maybe unused in this file otherwise */\n"
    "  for (ob = oh0; ob < oh1; ob = oe) {\n"
    "    oe = oh1 - ob < band ? oh1 : ob + band;\n"
    "    for (m = 0; m < g->M; m += MC_MR) {\n"
    "      int mr = g->M - m < MC_MR ? (int)(g->M - m) : MC_MR, done = 1;   /* done: every tile applied the activation */\n"
    "      for (oh = ob; oh < oe; oh++) {\n"
    "        const float *xr = xp + oh * g->vw;\n"
    "        for (h = 0; h < g->OW; h += MC_NT) {\n"
    "          int64_t c0 = h + MC_NR <= g->OW ? h : g->OW - MC_NR, c1 = c0;\n"
    "          int nr = MC_NR;\n"
    "          if (MC_NT == 2 * MC_NR && h + MC_NR < g->OW) {\n"
    "            nr = MC_NT;\n"
    "            c1 = h + 2 * MC_NR <= g->OW ? h + MC_NR : g->OW - MC_NR;\n"
    "          }\n"
    "          done &= mc_tile(g, g->K, g->apk + m * g->K, 1, MC_MR, mr, xr + c0, 0, xr + c1, 0, nr, m,\n"
    "                          oh * g->OW + c0, oh * g->OW + c1, MC_FIRST | MC_LAST, ko);\n"
    "        }\n"
    "      }\n"
    "      if (g->act && !done) g->act(g->y + m * g->ldy + ob * g->OW, g->ldy, mr, (oe - ob) * g->OW);\n"
    "    }\n"
    "  }\n"
    "}\n";

static const char src_gemv[] =
    "/* M = 1: y[n] = epilogue(sum_k A(0,k) B(k,n)) with B rows streamed once in\n"
    " * storage order, 32 columns (4 vectors) at a time, k unrolled by 2. */\n"
    "static void mc_gemv(const mc_gemm_args *g) {\n"
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
    "    mc_epi(g, t, NULL, 0, n, 32);\n"
    "    memcpy(g->y + n, t, sizeof t);\n"
    "    if (g->act) g->act(g->y + n, 0, 1, 32);\n"
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
    "    mc_epi(g, t, NULL, 0, n, cnt);\n"
    "    for (j = 0; j < cnt; j++) g->y[n + j] = t[j];\n"
    "    if (g->act) g->act(g->y + n, 0, 1, cnt);\n"
    "  }\n"
    "}\n";

static const char src_gemv_dot[] =
    "/* M = 1 with B's columns contiguous (B(k,n) = b[n*bns + k]: a weight [N][K]\n"
    " * used transposed and not packed, as a trained one): y[n] = epilogue(A row .\n"
    " * column n), the weight streamed once in storage order, four columns at a\n"
    " * time.  Each sum is kept in 16 lanes (lane l adds the k = l mod 16), a loop\n"
    " * compilers vectorize without reordering a sum, then added up in order. */\n"
    "static void mc_gemv_dot(const mc_gemm_args *g) {\n"
    "  int64_t n, k, K = g->K;\n"
    "  float t[32];\n"
    "  int j, l, r;\n"
    "  for (n = 0; n < g->N; n += 32) {\n"
    "    int cnt = g->N - n < 32 ? (int)(g->N - n) : 32;\n"
    "    for (j = 0; j < cnt; j += 4) {\n"
    "      const float *a = g->a, *b0 = g->b + (n + j) * g->bns, *b1, *b2, *b3;\n"
    "      float s0[16], s1[16], s2[16], s3[16];\n"
    "      r = cnt - j < 4 ? cnt - j : 4;   /* the columns past the last read column j again */\n"
    "      b1 = r > 1 ? b0 + g->bns : b0;\n"
    "      b2 = r > 2 ? b0 + 2 * g->bns : b0;\n"
    "      b3 = r > 3 ? b0 + 3 * g->bns : b0;\n"
    "      for (l = 0; l < 16; l++) s0[l] = s1[l] = s2[l] = s3[l] = 0.0f;\n"
    "      for (k = 0; k + 16 <= K; k += 16)\n"
    "        for (l = 0; l < 16; l++) {\n"
    "          float x = a[k + l];\n"
    "          s0[l] += x * b0[k + l];\n"
    "          s1[l] += x * b1[k + l];\n"
    "          s2[l] += x * b2[k + l];\n"
    "          s3[l] += x * b3[k + l];\n"
    "        }\n"
    "      for (l = 0; l < 16 && k + l < K; l++) {   /* the last K mod 16 */\n"
    "        s0[l] += a[k + l] * b0[k + l];\n"
    "        s1[l] += a[k + l] * b1[k + l];\n"
    "        s2[l] += a[k + l] * b2[k + l];\n"
    "        s3[l] += a[k + l] * b3[k + l];\n"
    "      }\n"
    "      for (l = 1; l < 16; l++) s0[0] += s0[l], s1[0] += s1[l], s2[0] += s2[l], s3[0] += s3[l];\n"
    "      t[j] = s0[0];\n"
    "      if (r > 1) t[j + 1] = s1[0];\n"
    "      if (r > 2) t[j + 2] = s2[0];\n"
    "      if (r > 3) t[j + 3] = s3[0];\n"
    "    }\n"
    "    mc_epi(g, t, NULL, 0, n, cnt);\n"
    "    for (j = 0; j < cnt; j++) g->y[n + j] = t[j];\n"
    "    if (g->act) g->act(g->y + n, 0, 1, cnt);\n"
    "  }\n"
    "}\n";

static const char src_dw[] =
    "enum { MC_DW_ROW = 512, MC_DW_R = 4 };   /* the widest padded row mc_dw3 takes (KL_MM_DW_ROW); rows a step */\n"
    "/* Depthwise 3x3, dilation 1, one plane: the input rows an output row reads\n"
    " * sit with their padding (zeros) in a ring of row buffers, each input row\n"
    " * copied once (three times, once per output row reading it, cost\n"
    " * MobileNet's 48x48 stride-1 layer a sixth of its time), so that every\n"
    " * output column is the same nine-tap sum, a loop that vectorizes along\n"
    " * the row.  At stride 2 a row buffer holds the row's even padded columns,\n"
    " * then (from half its width) its odd ones, copied by pairs of input\n"
    " * columns in one loop, so that the sum reads all three taps of a row\n"
    " * contiguously: the 48x48 -> 24x24 layer of the MobileNet net took 146 us,\n"
    " * copying and summing with stride-2 loads, and took 75 then.  A row's\n"
    " * nine-tap sum is a chain of dependent multiply-adds, and a 24-wide row one\n"
    " * or two vectors of them, so the core waited on each: at stride 1 or 2,\n"
    " * rows 16 or more wide, the loop sums four output rows at once, four\n"
    " * chains in flight, from a ring of 6 (9) shorter rows in the same 6 KiB of\n"
    " * stack as the three rows of MC_DW_ROW that one output row a step uses\n"
    " * (the MobileNet net's 24x24 layer took 85 us alone, 49 with four chains,\n"
    " * its 48x48 -> 24x24 one 65 and 59; narrower rows fail the compiler's\n"
    " * run-time overlap test between the four rows and would run one column at\n"
    " * a time).  Each value is the same sum in the same order either way.  Each\n"
    " * new input row goes into the ring's next slot, over its oldest row (the\n"
    " * slot as ih mod their count, a division per row, made the 24x24 layer 59\n"
    " * us, not 49); every input row is copied before the output row of its\n"
    " * index is written, so y may be x (in place) at stride 1 with no copy of\n"
    " * the plane, also for output rows [oh0, oh1) alone (a part of the rows,\n"
    " * --threads): the rows it reads outside them are ones it does not write. */\n"
    "/* a nine-tap sum over padded rows a, b, c, a row's taps at columns i, j, k (i, i + 1, i + 2 at\n"
    " * stride 1; at stride 2 i, half + i, i + 1: the odd columns sit from half on); constant offsets\n"
    " * where they are known (offsets in variables made the 48x48 layer a sixth slower) */\n"
    "#define MC_DW_SUM(a, b, c, i, j, k) \\\n"
    "  (k0 * a[i] + k1 * a[j] + k2 * a[k] + k3 * b[i] + k4 * b[j] + k5 * b[k] + k6 * c[i] + k7 * c[j] + k8 * c[k])\n"
    "static void mc_dw3(const mc_gemm_args *g, const float *x, const float *w, float *y, int64_t oh0, int64_t oh1) {\n"
    "  float r[3 * MC_DW_ROW];   /* the ring: ns rows of sw floats */\n"
    "  const float k0 = w[0], k1 = w[1], k2 = w[2], k3 = w[3], k4 = w[4], k5 = w[5], k6 = w[6], k7 = w[7], k8 = w[8];\n"
    "  int64_t oh, ow, ih, j, S = g->SW, OW = g->OW, wp = (OW - 1) * S + 3;   /* padded columns read */\n"
    "  int64_t hi = g->PW + g->W < wp ? g->PW + g->W : wp;\n"
    "  /* four output rows a step at stride 1 or 2 (both ways), rows 16 or more wide, when the ring's rows\n"
    "     for them (6 or 9) fit in its 3 * MC_DW_ROW floats: one row a step takes three of MC_DW_ROW */\n"
    "  int64_t most = S == g->SH && S <= 2 && OW >= 16 && wp < 3 * MC_DW_ROW / ((MC_DW_R - 1) * S + 3) ? MC_DW_R : 1;\n"
    "  int64_t ns = (most - 1) * S + 3, sw = 3 * MC_DW_ROW / ns, half = sw / 2;   /* the ring's rows, their width */\n"
    "  const float *p[(MC_DW_R - 1) * 2 + 3];\n"
    "  int64_t top = -1 - g->PH - ns, ts = ns - 1;   /* the last row copied (none yet) and its slot */\n"
    "  for (j = 0; j < ns; j++) {\n"
    "    int64_t c;\n"
    "    for (c = 0; c < (S == 2 ? (wp + 1) / 2 : wp); c++) r[j * sw + c] = 0.0f;\n"
    "    for (c = 0; S == 2 && c < wp / 2; c++) r[j * sw + half + c] = 0.0f;\n"
    "  }\n"
    "  for (oh = oh0; oh < oh1; oh += most) {\n"
    "    int64_t nr = oh1 - oh < most ? oh1 - oh : most, ih0 = oh * g->SH - g->PH;\n"
    "    for (ih = ih0; ih < ih0 + (nr - 1) * g->SH + 3; ih++) {   /* input row ih: in the ring already, or copied */\n"
    "      int64_t s = ts - (top - ih);   /* rows in the ring sit in consecutive slots, up to top's */\n"
    "      float *d;\n"
    "      if (ih <= top) {\n"
    "        p[ih - ih0] = r + (s < 0 ? s + ns : s) * sw;\n"
    "        continue;\n"
    "      }\n"
    "      s = ts + 1 == ns ? 0 : ts + 1;   /* the next row: the next slot, over the oldest row */\n"
    "      top = ih, ts = s;\n"
    "      p[ih - ih0] = d = r + s * sw;\n"
    "      if (S == 2) {   /* padded column c at d[c / 2], or d[half + c / 2] when odd */\n"
    "        int64_t n = hi - g->PW, odd = g->PW & 1;\n"
    "        float *a = odd ? d + half + (g->PW - 1) / 2 : d + g->PW / 2;   /* input column 2j goes to a[j] */\n"
    "        float *b = odd ? d + (g->PW + 1) / 2 : d + half + g->PW / 2;   /* and 2j + 1 to b[j] */\n"
    "        const float *xr = x + ih * g->W;\n"
    "        if (ih < 0 || ih >= g->H) {\n"
    "          for (j = 0; j < (n + 1) / 2; j++) a[j] = 0.0f;\n"
    "          for (j = 0; j < n / 2; j++) b[j] = 0.0f;\n"
    "        } else {\n"
    "          for (j = 0; j < n / 2; j++) {\n"
    "            a[j] = xr[2 * j];\n"
    "            b[j] = xr[2 * j + 1];\n"
    "          }\n"
    "          if (n & 1) a[n / 2] = xr[n - 1];\n"
    "        }\n"
    "      } else if (ih < 0 || ih >= g->H) {\n"
    "        for (j = g->PW; j < hi; j++) d[j] = 0.0f;\n"
    "      } else {\n"
    "        for (j = g->PW; j < hi; j++) d[j] = x[ih * g->W + j - g->PW];\n"
    "      }\n"
    "    }\n"
    "    if (nr == MC_DW_R && S == 1) {   /* four output rows, four sums in flight */\n"
    "      const float *a = p[0], *b = p[1], *c = p[2], *d = p[3], *e = p[4], *f = p[5];\n"
    "      float *y0 = y + oh * OW, *y1 = y0 + OW, *y2 = y1 + OW, *y3 = y2 + OW;\n"
    "      for (ow = 0; ow < OW; ow++) {\n"
    "        y0[ow] = MC_DW_SUM(a, b, c, ow, ow + 1, ow + 2);\n"
    "        y1[ow] = MC_DW_SUM(b, c, d, ow, ow + 1, ow + 2);\n"
    "        y2[ow] = MC_DW_SUM(c, d, e, ow, ow + 1, ow + 2);\n"
    "        y3[ow] = MC_DW_SUM(d, e, f, ow, ow + 1, ow + 2);\n"
    "      }\n"
    "      continue;\n"
    "    }\n"
    "    if (nr == MC_DW_R) {   /* the same at stride 2: padded columns 2ow, 2ow + 1 (from half on), 2ow + 2 */\n"
    "      float *y0 = y + oh * OW, *y1 = y0 + OW, *y2 = y1 + OW, *y3 = y2 + OW;\n"
    "      for (ow = 0; ow < OW; ow++) {\n"
    "        y0[ow] = MC_DW_SUM(p[0], p[1], p[2], ow, half + ow, ow + 1);\n"
    "        y1[ow] = MC_DW_SUM(p[2], p[3], p[4], ow, half + ow, ow + 1);\n"
    "        y2[ow] = MC_DW_SUM(p[4], p[5], p[6], ow, half + ow, ow + 1);\n"
    "        y3[ow] = MC_DW_SUM(p[6], p[7], p[8], ow, half + ow, ow + 1);\n"
    "      }\n"
    "      continue;\n"
    "    }\n"
    "    for (j = 0; j < nr; j++) {   /* one output row */\n"
    "      const float *r0 = p[j * g->SH], *r1 = p[j * g->SH + 1], *r2 = p[j * g->SH + 2];\n"
    "      float *yr = y + (oh + j) * OW;\n"
    "      if (S == 1) {\n"
    "        for (ow = 0; ow < OW; ow++) yr[ow] = MC_DW_SUM(r0, r1, r2, ow, ow + 1, ow + 2);\n"
    "      } else if (S == 2) {\n"
    "        for (ow = 0; ow < OW; ow++) yr[ow] = MC_DW_SUM(r0, r1, r2, ow, half + ow, ow + 1);\n"
    "      } else {\n"
    "        for (ow = 0; ow < OW; ow++) yr[ow] = MC_DW_SUM(r0, r1, r2, ow * S, ow * S + 1, ow * S + 2);\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "/* Depthwise, any other window (5x5, dilated, strides apart), one plane:\n"
    " * for each output row, each input row it reads is copied with its padding\n"
    " * (zeros) to a stack buffer of MC_DW_ROWS floats (rows above or below the\n"
    " * input are skipped: their taps add nothing), then each of its taps adds\n"
    " * its weight times a run of it to the whole output row: a loop with no\n"
    " * test of the window's bounds, that compilers vectorize.  mc_dw takes it\n"
    " * when a row fits; ch_ppocr's 5x5 on 2x96 planes ran tap by tap with the\n"
    " * bounds of each, at 14 GFLOP/s. */\n"
    "enum { MC_DW_ROWS = 3 * MC_DW_ROW };\n"
    "static int64_t mc_dwk_row(const mc_gemm_args *g) { return (g->OW - 1) * g->SW + (g->KW - 1) * g->DW + 1; }\n"
    "static void mc_dwk(const mc_gemm_args *g, const float *x, const float *w, float *y, int64_t oh0, int64_t oh1) {\n"
    "  float r[MC_DW_ROWS];\n"
    "  const int64_t rs = mc_dwk_row(g), OW = g->OW, SW = g->SW, KW = g->KW;   /* rs: every column read */\n"
    "  const int64_t c0 = g->PW < rs ? g->PW : rs, c1 = g->PW + g->W < rs ? g->PW + g->W : rs;\n"
    "  int64_t oh, ki, kj, ow, c;\n"
    "  for (c = 0; c < c0; c++) r[c] = 0.0f;   /* column c: x[ih][c - PW], zero outside */\n"
    "  for (c = c1; c < rs; c++) r[c] = 0.0f;\n"
    "  for (oh = oh0; oh < oh1; oh++) {\n"
    "    float *yr = y + oh * OW;\n"
    "    for (ow = 0; ow < OW; ow++) yr[ow] = 0.0f;\n"
    "    for (ki = 0; ki < g->KH; ki++) {\n"
    "      int64_t ih = oh * g->SH - g->PH + ki * g->DH;\n"
    "      if (ih < 0 || ih >= g->H || c1 <= c0) continue;\n"
    "      memcpy(r + c0, x + ih * g->W + (c0 - g->PW), sizeof(float) * (size_t)(c1 - c0));\n"
    "      for (kj = 0; kj < KW; kj++) {\n"
    "        const float wv = w[ki * KW + kj], *s = r + kj * g->DW;\n"
    "        if (SW == 1)\n"
    "          for (ow = 0; ow < OW; ow++) yr[ow] += wv * s[ow];\n"
    "        else\n"
    "          for (ow = 0; ow < OW; ow++) yr[ow] += wv * s[ow * SW];\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "/* Depthwise convolution of one channel plane (group == C == M).  3x3 with\n"
    " * dilation 1 by mc_dw3 when its rows fit, other windows by mc_dwk when a\n"
    " * row does; otherwise each output row accumulates kernel-row\n"
    " * by kernel-row over the output columns whose window position lies inside\n"
    " * the input, so the inner loop has no test and runs along contiguous\n"
    " * memory when the stride is 1.  Then the epilogue on the rows.  Output rows\n"
    " * [oh0, oh1) of channel m's plane (all of them but in a part of the rows). */\n"
    "static void mc_dw(const mc_gemm_args *g, const float *x, const float *w, float *y, int64_t oh0, int64_t oh1,\n"
    "                  int64_t m) {\n"
    "  int64_t oh, ki, kj, ow;\n"
    "  if (g->scratch) {   /* y over x (in place): x's plane read from a copy */\n"
    "    memcpy(g->scratch, x, sizeof(float) * (size_t)(g->H * g->W));\n"
    "    x = g->scratch;\n"
    "  }\n"
    "  if (g->KH == 3 && g->KW == 3 && g->DH == 1 && g->DW == 1 && (g->OW - 1) * g->SW + 3 <= MC_DW_ROW) {\n"
    "    mc_dw3(g, x, w, y, oh0, oh1);\n"
    "  } else if (mc_dwk_row(g) <= MC_DW_ROWS) {\n"
    "    mc_dwk(g, x, w, y, oh0, oh1);\n"
    "  } else {\n"
    "    for (oh = oh0; oh < oh1; oh++) {\n"
    "      float *yr = y + oh * g->OW;\n"
    "      for (ow = 0; ow < g->OW; ow++) yr[ow] = 0.0f;\n"
    "      for (ki = 0; ki < g->KH; ki++) {\n"
    "        int64_t ih = oh * g->SH - g->PH + ki * g->DH;\n"
    "        if (ih < 0 || ih >= g->H) continue;\n"
    "        for (kj = 0; kj < g->KW; kj++) {\n"
    "          const float wv = w[ki * g->KW + kj];\n"
    "          int64_t off = kj * g->DW - g->PW, lo = 0, hi = g->OW;   /* iw = ow*SW + off in [0, W) */\n"
    "          const float *xr = x + ih * g->W;\n"
    "          if (off < 0) lo = (-off + g->SW - 1) / g->SW;\n"
    "          if (g->W - off <= 0) hi = 0;\n"
    "          else if ((g->W - off + g->SW - 1) / g->SW < hi) hi = (g->W - off + g->SW - 1) / g->SW;\n"
    "          if (g->SW == 1)\n"
    "            for (ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow + off];\n"
    "          else\n"
    "            for (ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * g->SW + off];\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  mc_epi(g, y + oh0 * g->OW, NULL, m, oh0 * g->OW, (oh1 - oh0) * g->OW);\n"
    "  if (g->act) g->act(y + oh0 * g->OW, 0, 1, (oh1 - oh0) * g->OW);\n"
    "}\n";

/* e^x for float32 without libm (and sigmoid, tanh on it): Cody-Waite reduction by ln 2 and a degree-6
 * polynomial (the coefficients of Cephes' expf), within a few ulp on
 * [-87, 88] (clamped outside), written so that loops over it vectorize with
 * GCC as well as Clang: x is clamped on its bits (an unsigned min of |x|
 * and the bound), because GCC threads every later branch through a float
 * clamp's constant paths and then gives up on the loop; floor is a
 * truncation less one below it, because floorf does not vectorize without
 * -fno-trapping-math.  Bit-identical to the clamp-and-floorf form on every
 * float but NaN (checked exhaustively against it when this was written).
 * Inline, as are sigmoid and tanh: called from two places (a GRU's gates),
 * GCC -O3 kept it out of line, a call per value and no vector loop (the
 * GRU bench net took 51 us rather than 24). */
static const char src_expf[] =
    "static inline float mc_expf(float x) {\n"
    "  float t, r, p, s;\n"
    "  uint32_t u, m, lim;\n"
    "  int32_t n;\n"
    "  memcpy(&u, &x, sizeof u);\n"
    "  m = u & 0x7fffffffu;\n"
    "  lim = 0x42b00000u - (u >> 31) * 0x20000u;   /* the bits of 88, or of 87 when x < 0 */\n"
    "  m = m < lim ? m : lim;\n"
    "  u = (u & 0x80000000u) | m;\n"
    "  memcpy(&x, &u, sizeof x);\n"
    "  t = x * 1.44269504088896341f + 0.5f;\n"
    "  n = (int32_t)t;\n"
    "  n -= (float)n > t;   /* floor(t) */\n"
    "  r = x - (float)n * 0.693359375f + (float)n * 2.12194440e-4f;\n"
    "  p = 1.9875691500e-4f;\n"
    "  p = p * r + 1.3981999507e-3f;\n"
    "  p = p * r + 8.3334519073e-3f;\n"
    "  p = p * r + 4.1665795894e-2f;\n"
    "  p = p * r + 1.6666665459e-1f;\n"
    "  p = p * r + 5.0000001201e-1f;\n"
    "  p = p * r * r + r + 1.0f;\n"
    "  n = (n + 127) << 23;   /* 2^n as float bits (n + 127 is in 1..254) */\n"
    "  memcpy(&s, &n, sizeof s);\n"
    "  return p * s;\n"
    "}\n";
static const char src_sigmoidf[] = "static inline float mc_sigmoidf(float x) { return 1.0f / (1.0f + mc_expf(-x)); }\n";
static const char src_tanhf[] =
    "static inline float mc_tanhf(float x) { return 1.0f - 2.0f / (1.0f + mc_expf(2.0f * x)); }\n";

const char *kl_mm_use_fast_act(emit_ctx *e, int tanh_not_sigmoid) {
  emit_helper(e, "mc_expf", src_expf);
  if (tanh_not_sigmoid) {
    emit_helper(e, "mc_tanhf", src_tanhf);
    return "mc_tanhf";
  }
  emit_helper(e, "mc_sigmoidf", src_sigmoidf);
  return "mc_sigmoidf";
}

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

/* s with every `from` replaced by `to` (a fresh string). */
static char *subst(const char *s, const char *from, const char *to) {
  size_t lf = strlen(from), lt = strlen(to), n = 1, k = 0;
  const char *p;
  char *out;
  for (p = s; *p;) {
    if (strncmp(p, from, lf) == 0) n += lt, p += lf;
    else n++, p++;
  }
  out = ir_alloc(n);
  for (p = s; *p;) {
    if (strncmp(p, from, lf) == 0) {
      memcpy(out + k, to, lt);
      k += lt;
      p += lf;
    } else {
      out[k++] = *p++;
    }
  }
  out[k] = '\0';
  return out;
}

/* The tile's text: src_tile with its k loops written through ko (@KO, and
 * @V8KO for AVX) and by strides (@ST, @V8ST). */
static char *tile_src(void) {
  static const char *const forms[2][3] = {{"b + ko[k]", "b + ko[k + 1]", "b1 + ko[k]"},
                                          {"b + k * bks", "b + (k + 1) * bks", "b1 + k * bks1"}};
  static const char *const marks[2] = {"@KO", "@ST"};
  static const char *const marks8[2] = {"@V8KO", "@V8ST"};
  char *t = ir_strdup(src_tile);
  int f;
  for (f = 0; f < 2; f++) {   /* the AVX loops */
    char *a = subst(src_tile_loops8, "@K", forms[f][0]), *u = subst(t, marks8[f], a);
    free(a), free(t);
    t = u;
  }
  for (f = 0; f < 2; f++) {
    char *a = subst(src_tile_loops, "@K", forms[f][0]), *b = subst(a, "@J", forms[f][1]);
    char *c = subst(b, "@L", forms[f][2]), *u = subst(t, marks[f], c);
    free(a), free(b), free(c), free(t);
    t = u;
  }
  return t;
}

/* The transposed tile's text: src_tilet with its k loops written through
 * ko (@KO, @V8KO for AVX) and by strides (@ST, @V8ST). */
static char *tilet_src(void) {
  char *ko8 = subst(src_tilet_loops8, "@B", "b + ko[k]"), *st8 = subst(src_tilet_loops8, "@B", "b + k * bks");
  char *ko = subst(src_tilet_loops, "@B", "b + ko[k]"), *st = subst(src_tilet_loops, "@B", "b + k * bks");
  char *a8 = subst(src_tilet, "@V8KO", ko8), *t8 = subst(a8, "@V8ST", st8);
  char *a = subst(t8, "@KO", ko), *t = subst(a, "@ST", st);
  free(ko8), free(st8), free(a8), free(t8), free(ko), free(st), free(a);
  return t;
}

/* The clamp's text for AVX (mc_clamp8) and AVX-512 (mc_clamp16). */
static char *clamp_src(void) {
  char *c8 = subst(src_clamp, "@W", "8"), *c16 = subst(src_clamp, "@W", "16");
  size_t n = strlen(c8) + strlen(c16) + 64;
  char *t = ir_alloc(n);
  snprintf(t, n, "#if MC_VEC == 8\n%s#elif MC_VEC == 16\n%s#endif\n", c8, c16);
  free(c8), free(c16);
  return t;
}

/* The helpers kind d needs for activation ep: one kernel of each kind per
 * file, and per distinct activation a small mc_act_rows helper whose name
 * (derived from the helper's C text) goes to act; "" without one. */
static void use_helpers(emit_ctx *e, const kl_mm *d, const kl_epilogue *ep, char *act_fn, size_t nact) {
  char act[1024], code[sizeof src_act_gated + 1024], key[96], sfx[16];
  const char *tmpl = src_act;
  uint32_t h = 2166136261u;   /* FNV-1a of the helper's C text: same text, same helper */
  const char *p;
  emit_helper(e, "mc_gemm_common", src_common);
  if (!d->tposed) emit_helper(e, "mc_epi", src_epi);   /* the transposed tile has its own, by columns */
  if (d->kind == KL_MM_GEMM) {
    char *t = d->tposed ? tilet_src() : tile_src();
    emit_helper(e, "mc_splat8", src_splat);
    if (!d->tposed) {
      char *c = clamp_src();
      emit_helper(e, "mc_clamp", c);
      free(c);
    }
    if (!d->tposed || d->a_pack == KL_MM_A_RUN) emit_helper(e, "mc_panels", src_panels);
    if (!d->tposed) emit_helper(e, "mc_packb", src_packb);
    emit_helper(e, "mc_band", src_pad);
    emit_helper(e, d->tposed ? "mc_tilet" : "mc_tile", t);
    free(t);
    if (d->tposed) {
      emit_helper(e, "mc_pad_whole", src_pad_whole);
      emit_helper(e, "mc_gemmt", src_gemmt);
    } else {
      emit_helper(e, "mc_gemm", src_gemm);
    }
    if (d->rows) {
      emit_helper(e, "mc_pad_whole", src_pad_whole);
      emit_helper(e, "mc_convr", src_convr);
    }
    if (d->slots > 1 && kl_mm_shared_copy(d)) emit_helper(e, "mc_pad_chans", src_pad_chans);   /* kl_par_pad_once */
  } else if (d->kind == KL_MM_GEMV && d->bkind == KL_MM_B_STRIDED) {
    emit_helper(e, "mc_gemv_dot", src_gemv_dot);
  } else if (d->kind == KL_MM_GEMV) {
    emit_helper(e, "mc_gemv", src_gemv);
  } else {
    emit_helper(e, "mc_dw", src_dw);
  }
  act_fn[0] = '\0';
  if (ep->act == OP_ACT_NONE) return;
  if (ep->act == OP_ACT_SIGMOID || ep->act == OP_ACT_TANH)   /* not libm's: a loop over these vectorizes */
    snprintf(act, sizeof act, "%s(v)", kl_mm_use_fast_act(e, ep->act == OP_ACT_TANH));
  else if (kl_act_gate(act, sizeof act, ep, IR_F32, "v"))
    tmpl = src_act_gated;
  else
    kl_act_expr(act, sizeof act, ep, IR_F32, "v");
  snprintf(code, sizeof code, tmpl, act);
  for (p = code; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
  snprintf(sfx, sizeof sfx, "_%08x", (unsigned)h);
  snprintf(key, sizeof key, "mc_act%s", sfx);
  helper(e, key, code, sfx);
  snprintf(act_fn, nact, "mc_act_rows%s", sfx);
}

/* ---- lowering --------------------------------------------------------------- */

/* Packed at compile time: a constant, or a parameter no training step changes
 * (a trained one, is_state, is read at run time like an activation). */
static int is_const(const ir_tensor *t) {
  return t && (t->role == IR_CONST || t->role == IR_PARAM) && t->data && !t->is_state && t->dtype == IR_F32;
}

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The rows of a panel of packed A: NR for the transposed tile (A's
 * transpose packed as a B is), MR for the standard one; and the floats of
 * one packed slice of A. */
static int64_t a_panel(const kl_mm *d) { return d->tposed ? KL_MM_NR : KL_MM_MR; }
static int64_t a_slice(const kl_mm *d) { return round_up(d->M, a_panel(d)) * d->K; }

/* The offsets pk[] of the packed slices of `slice` floats per outer loop of
 * an operand whose element offsets are os[]: a loop that does not move it
 * (a convolution's batch) reads one packed slice.  Returns the number of
 * distinct slices. */
static int64_t slice_offsets(const kl_mm *d, const int64_t *os, int64_t slice, int64_t *pk) {
  int64_t acc = 1;
  int q;
  for (q = d->n_outer - 1; q >= 0; q--) {
    pk[q] = os[q] ? acc * slice : 0;
    if (os[q]) acc *= d->outer[q];
  }
  return acc;
}

/* The floats of A packed at run time (KL_MM_A_RUN): every distinct slice. */
static int64_t a_run_floats(const kl_mm *d) {
  int64_t pk[KL_MM_MAX_OUTER];
  return d->a_pack == KL_MM_A_RUN ? slice_offsets(d, d->a_os, a_slice(d), pk) * a_slice(d) : 0;
}

/* The phases of one axis a padded copy holds (mc_phases in the emitted C). */
static int64_t held_phases(int64_t S, int64_t D, int64_t K) { return D == 1 && K < S ? K : S; }

/* Floats of a band of bh output rows of d's padded copy (mc_band), with
 * the 32 that a last tile's vector reads run past it. */
static int64_t band_floats(const kl_mm *d, int64_t bh) {
  return held_phases(d->SH, d->DH, d->KH) * held_phases(d->SW, d->DW, d->KW) * d->C * (bh + d->vh - d->OH) * d->vw +
         32;
}

/* Scratch bytes of d with bands of bh rows (and their tap table) and sa
 * floats of A's edge rows, as kl_mm_scratch_bytes counts them. */
static int64_t band_bytes(const kl_mm *d, int64_t bh, int64_t sa) {
  kl_mm e = *d;
  e.scratch_b = band_floats(d, bh) + d->K;
  e.scratch_a = sa;
  return kl_mm_scratch_bytes(&e);
}

/* Whether d (KL_MM_B_PADDED) is run by whole output rows (mc_convr) when
 * its copy is one band of every row: see the end of kl_mm_lower_conv. */
static int convr_fits(const kl_mm *d) {
  return d->bkind == KL_MM_B_PADDED && !d->tposed && d->a_pack && d->res_in < 0 && d->K <= KL_MM_KC &&
         d->OW > KL_MM_NR && d->OW % KL_MM_NR;
}

/* The output rows of a band of d's padded copy: as many as fit in
 * KL_MM_PAD_MAX_FLOATS and, under a cap, in it (0: not one row), then
 * evened out over the bands that makes.  Parallel parts over N (kl_par.c)
 * take whole bands, so the bands are then a multiple of the parts: no
 * part's band straddles another's rows (a band copied for a few rows, or
 * a 6x32 tile's row pair cut: ResNet-8's /b2/conv1 ran 1.15x faster on 2
 * threads than on 1 with 4-row bands cut mid-row, 1.5x on whole bands;
 * MobileNetV2's stem, whose one band of every row both parts copied,
 * 1.25x, then 1.8x).  A band's height changes no sum. */
static int64_t band_rows(const kl_mm *d, int64_t cap, int64_t sa) {
  int64_t row = band_floats(d, 1) - band_floats(d, 0), bh = (KL_MM_PAD_MAX_FLOATS - band_floats(d, 0)) / row, bands;
  if (cap >= 0) {   /* an estimate from above, then exact */
    int64_t fit = cap / (int64_t)sizeof(float) / (d->slots > 1 ? d->slots : 1) - sa - d->K - band_floats(d, 0);
    bh = min64(bh, fit / row);
  }
  bh = min64(bh, d->OH);
  while (bh > 0 && cap >= 0 && band_bytes(d, bh, sa) > cap) bh--;
  if (bh < 1) return 0;
  bands = (d->OH + bh - 1) / bh;
  if (d->slots > 1 && d->split_n && d->OH >= d->slots && !convr_fits(d)) bands = round_up(bands, d->slots);
  return (d->OH + bands - 1) / bands;
}

/* d (KL_MM_B_PADDED) as the im2col view over the output's own columns. */
static void to_im2col(const ir_node *n, kl_mm *d) {
  d->bkind = KL_MM_B_IM2COL;
  d->N = d->OH * d->OW;
  d->vh = d->vw = d->bh = d->xps = 0;
  kl_par_split_gemm(n, d);   /* N changed: the parts again */
}

/* The B block and A's edge rows of d (any kind but KL_MM_B_PADDED) under
 * cap (-1: none): see block(). */
static void block_b(kl_mm *d, int64_t cap) {
  if (d->bkind == KL_MM_B_STRIDED || d->bkind == KL_MM_B_IM2COL) {
    int64_t nc = KL_MM_B_BLOCK_FLOATS / d->KC / KL_MM_NR * KL_MM_NR;
    d->NC = min64(min64(nc < KL_MM_NR ? KL_MM_NR : nc, round_up(d->N, KL_MM_NR)), KL_MM_NC_MAX);
    if (cap >= 0) {
      /* floats for the block: the cap less A's edge rows and the block's rounding */
      int64_t fit = cap / (int64_t)sizeof(float) - 16 - (!d->a_pack && d->M % KL_MM_MR ? d->KC * KL_MM_MR : 0) -
                    round_up(d->scratch_pk, 16);
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
    /* the partial panel at the end of N, or of a part's columns, is packed */
    if (d->bkind == KL_MM_B_ROWS && (d->N % KL_MM_NR || kl_par_cuts_panels(d))) d->scratch_b = d->KC * KL_MM_NR;
  }
  d->scratch_a = !d->a_pack && d->M % KL_MM_MR ? d->KC * KL_MM_MR : 0;
}

/* Blocking and scratch of a GEMM of node n (NULL: a kernel that drives the
 * core itself, one part, no cap) whose sizes and operands are set.  A B
 * block packed at run time is KC x NC floats; when the planner caps n's
 * scratch (PLAN_SCRATCH_CAP_ATTR: the bytes free at n's step under the
 * arena's peak of activations) and the block would not fit, K blocks
 * shorten first, into equal parts of at least KL_MM_KC_MIN (each extra
 * block passes partial sums through y: ResNet-8 with every KC at 32 ran
 * about 3% slower), then the block narrows to at least KL_MM_NC_MIN
 * columns (packing's per-row setup repeats per block: NC 64 cost about 4%,
 * 32 about 19%, 16 about 48%).  The block never goes below that floor, so
 * a cap is a wish, not a promise.  A padded copy (KL_MM_B_PADDED) is made
 * one band of output rows at a time, as many rows as fit (band_rows), down
 * to one; only where not even that fits under the cap does the convolution
 * pack its im2col view block by block instead (which ran about 3x slower
 * on ResNet-8's convolutions), and then only if that floor is the smaller,
 * so that small-memory plans stay small.  With --threads each part of the
 * product packs into its own slice of that size: the blocking (and so the
 * order of every sum) must not depend on the thread count. */
static void block(const ir_node *n, kl_mm *d) {
  int64_t cap = n ? ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1) : -1;
  if (n) {
    kl_par_split_gemm(n, d);
  } else {
    d->slots = 1;
    d->split_n = 1;
  }
  d->KC = min64(d->K, KL_MM_KC);
  d->MC = KL_MM_MC;
  d->scratch_b = 0;
  d->scratch_pk = a_run_floats(d);   /* counted in every size under the cap below */
  if (d->bkind == KL_MM_B_PADDED) {   /* a band of the padded copy, then K tap offsets (int32, one float each) */
    int64_t sa = !d->a_pack && d->M % KL_MM_MR ? d->KC * KL_MM_MR : 0, bh = band_rows(d, cap, sa);
    if (bh < 1) {   /* not one row under the cap: im2col blocks, if their floor is the smaller */
      kl_mm e = *d;
      to_im2col(n, &e);
      block_b(&e, cap);
      if (kl_mm_scratch_bytes(&e) < band_bytes(d, 1, sa)) {
        *d = e;
        return;
      }
      bh = 1;
    }
    d->bh = bh;
    d->NC = d->vw * (KL_MM_NC_MAX / d->vw > 1 ? KL_MM_NC_MAX / d->vw : 1);   /* whole grid rows: no row split */
    d->xps = band_floats(d, bh);
    d->scratch_b = d->xps + d->K;
    d->scratch_a = sa;
    return;
  }
  block_b(d, cap);
}

/* The transposed tile (mc_gemmt) in place of the MR x NT one, for a
 * product of a packed A (a constant, or a convolution's weight packed at
 * run time when it has NR rows or more: with 6, as LeNet's data gradients,
 * the 32-row tile was mostly padding, 1.5-3x the standard tile's time)
 * with a B of few columns (npix: a convolution over
 * a few output pixels, a constant times a thin matrix), where NT-wide
 * vectors along N would be mostly padding and vectors along M are full.
 * B is read as the standard tile reads it, but by output pixel: a column's
 * offset is computed apart, so a convolution's padded grid costs no lanes,
 * and a convolution whose windows all lie inside its input reads that in
 * place through a tap table (KL_MM_B_TAPS: no copy).  The tile sums all of
 * K at once (no K blocks, no partial sums through y), so B must be read in
 * place: a convolution left to im2col blocks (a padded copy over the
 * scratch cap) keeps the standard tile, as packing those for the
 * transposed one measured slower.  Where it pays (ResNet-8's 3x3 64 and
 * 128 channel convolutions, alone after a pooling, --bench minimum, a
 * loaded machine): through the padded copy or taps, 0.2-0.45x the time
 * up to 8x8 outputs, 0.6x at 10x10 to 12x12, 0.75x at 14x14, 1.0-1.1x at
 * 16x16 (KL_MM_T_MAX_N); rows read in place (1x1 stride 1) have no grid to
 * waste: 0.75x at 4 pixels, 0.9x at 9, 1.05-1.1x from 16 (KL_MM_NR). */
static void transpose_tile(const ir_node *n, kl_mm *d, int64_t npix) {
  int64_t cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1);
  kl_mm t = *d;
  if (d->kind != KL_MM_GEMM || !d->a_pack || d->b_pack || npix > KL_MM_T_MAX_N) return;
  if (d->a_pack == KL_MM_A_RUN && d->M < KL_MM_NR) return;
  if ((t.bkind == KL_MM_B_ROWS || t.bkind == KL_MM_B_STRIDED) && npix >= KL_MM_NR) return;
  if ((t.bkind == KL_MM_B_IM2COL || t.bkind == KL_MM_B_PADDED) && t.PH == 0 && t.PW == 0 &&
      (t.OW - 1) * t.SW + (t.KW - 1) * t.DW < t.W && (t.OH - 1) * t.SH + (t.KH - 1) * t.DH < t.H) {
    t.bkind = KL_MM_B_TAPS;   /* every window inside the input: read in place */
    t.vh = t.vw = t.xps = 0;
  }
  if (t.bkind == KL_MM_B_IM2COL) return;
  if (t.bkind == KL_MM_B_PADDED) {   /* no bands: the whole copy, one band of every output row */
    t.bh = t.OH;
    t.xps = band_floats(&t, t.OH);
  }
  t.tposed = 1;
  t.N = t.NC = npix;
  t.KC = t.K;
  t.scratch_a = 0;   /* A is packed */
  t.scratch_pk = a_run_floats(&t);   /* in panels of NR */
  kl_par_split_gemm(n, &t);
  t.scratch_b = t.bkind == KL_MM_B_TAPS ? t.K : t.bkind == KL_MM_B_PADDED ? t.xps + t.K : 0;
  if (t.bkind == KL_MM_B_PADDED && t.slots > 1 && t.split_n && t.OH >= t.slots) {
    /* parts over N take whole output rows and copy only the band of theirs,
     * each in its own scratch, from input rows its core mostly wrote: one
     * shared copy, made by parts of its channels, had each part read half
     * of it from the other core's cache (ResNet-8's /b3 convolutions ran
     * 1.0x and 1.2x faster on 2 threads than on 1 with it, 1.1x and 1.4x
     * with a band each, per-node minimum times) */
    kl_mm b = t;
    b.bh = (t.OH + t.slots - 1) / t.slots;
    b.slots = (int)((t.OH + b.bh - 1) / b.bh);
    b.xps = band_floats(&b, b.bh);
    b.scratch_b = b.xps + b.K;
    if (cap < 0 || kl_mm_scratch_bytes(&b) <= cap) t = b;
  }
  if (t.bkind == KL_MM_B_PADDED && cap >= 0 && kl_mm_scratch_bytes(&t) > cap) return;   /* the parts' copies */
  *d = t;
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
  if (d->M == 1 && d->b_ks == 1 && d->a_cs == 1) {   /* a weight [N][K] used transposed, read as it is stored */
    d->kind = KL_MM_GEMV;
    d->bkind = KL_MM_B_STRIDED;
    return;
  }
  d->kind = KL_MM_GEMM;
  d->a_pack = is_const(n->in[0]);
  d->bkind = d->b_pack ? KL_MM_B_PACKED : d->b_ns == 1 ? KL_MM_B_ROWS : KL_MM_B_STRIDED;
  block(n, d);
  transpose_tile(n, d, d->N);
}

/* Whether a convolution's weight that is not a constant (a trained
 * parameter, or a weight the training step computes, as the data
 * gradient's flipped copy) is packed at run time (KL_MM_A_RUN), once per
 * call into the constant's panels, for the kernels that need them: the
 * transposed tile (ResNet-8's 8x8 stage at batch 32, a training step's
 * profile, minimum of 3: /b3/conv2 4.1 -> 1.2 ms, its data gradient 3.9 ->
 * 1.15 ms, /b3/conv1 2.3 -> 0.9 ms; LeNet's /c2 0.46 -> 0.16 ms) and whole
 * rows (LeNet's /c1 0.35 -> 0.075 ms); and for the standard tile over a
 * batch of images, which all read the one copy in storage order rather
 * than six rows K apart (ResNet-8's 16x16 and 32x32 convolutions 0.85-0.9x
 * the time).  Not for a product of one image (LeNet's first weight
 * gradient, a Conv of K = 25088: a 600 KB copy, 1.2-1.5x the time). */
static int a_run_pays(const kl_mm *d) {
  int t;
  if (d->tposed || d->rows) return 1;
  for (t = 0; t < d->n_outer; t++)
    if (!d->a_os[t]) return 1;   /* a batch of images: one packed copy for all */
  return 0;
}

static void conv_kernel(const ir_node *n, kl_mm *d, int64_t osz);

/* Whether mc_dw runs the depthwise plane through mc_dw3 (the same test as
 * its own): 3x3, dilation 1, a padded row of at most KL_MM_DW_ROW. */
static int dw_ring(const kl_mm *d) {
  return d->KH == 3 && d->KW == 3 && d->DH == 1 && d->DW == 1 && (d->OW - 1) * d->SW + 3 <= KL_MM_DW_ROW;
}

void kl_mm_lower_conv(const ir_node *n, const kl_conv_desc *c, kl_mm *d) {
  int64_t r = ir_attr_int(n, "_residual", -1), Cg, Mg, ksz, isz, osz;
  kl_mm e;
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
    /* y over x (PLAN_IN_PLACE_ATTR): each channel plane of x copied to scratch
     * first, unless mc_dw3's ring of rows holds every row it still reads */
    if (ir_attr_int(n, PLAN_IN_PLACE_ATTR, -1) == 0 && !(dw_ring(d) && d->SH == 1 && d->SW == 1)) d->scratch_b = isz;
    d->bias_mode = d->bias_in >= 0 ? 1 : 0;
    d->n_outer = 2;
    d->outer[0] = c->N, d->outer[1] = c->M;
    d->a_os[0] = 0, d->a_os[1] = ksz;
    d->b_os[0] = c->C * isz, d->b_os[1] = isz;
    d->y_os[0] = c->M * osz, d->y_os[1] = osz;
    d->res_os[0] = c->M * osz, d->res_os[1] = 0;
    d->ldr = osz;
    /* channels in parallel; in place, parts of them, each copying its planes
     * into its own slice of scratch (MobileNetV2's largest depthwise
     * convolutions are in place and ran on one thread) */
    d->slots = (int)kl_par_parts(kl_par_threads(n), c->M, c->N * c->M * osz * ksz);
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
  d->a_pack = is_const(n->in[1]) ? KL_MM_A_CONST : KL_MM_A_RUN;
  d->ldy = d->ldr = osz;
  d->bias_mode = d->bias_in >= 0 ? 1 : 0;
  if (unit && nopad && isz == osz) {   /* 1x1, stride 1: X's channel planes are B's rows */
    d->bkind = KL_MM_B_ROWS;
    d->b_ks = isz;
    d->b_ns = 1;
  } else {
    /* implicit: the GEMM on a grid vw wide, B rows read from bands of the padded copy (mc_band) */
    d->vw = d->OW + (d->KW - 1) * d->DW / d->SW;
    d->vh = d->OH + (d->KH - 1) * d->DH / d->SH;
    if (band_floats(d, 1) <= KL_MM_PAD_MAX_FLOATS) {
      d->bkind = KL_MM_B_PADDED;
      d->N = (d->OH - 1) * d->vw + d->OW;
    } else {
      d->bkind = KL_MM_B_IM2COL;
      d->vh = d->vw = 0;
    }
  }
  d->n_outer = 2;
  d->outer[0] = c->N, d->outer[1] = c->group;
  d->a_os[0] = 0, d->a_os[1] = Mg * Cg * ksz;
  d->b_os[0] = c->C * isz, d->b_os[1] = Cg * isz;
  d->y_os[0] = d->res_os[0] = c->M * osz;
  d->y_os[1] = d->res_os[1] = Mg * osz;
  d->bias_os[0] = 0, d->bias_os[1] = Mg;
  squeeze_outer(d);
  e = *d;
  conv_kernel(n, d, osz);
  if (d->a_pack == KL_MM_A_RUN && !a_run_pays(d)) {   /* A read in place after all */
    *d = e;
    d->a_pack = 0;
    conv_kernel(n, d, osz);
  }
}

/* The kernel of a convolution lowered to a GEMM (kl_mm_lower_conv): the
 * blocking, the transposed tile where it pays, or whole rows. */
static void conv_kernel(const ir_node *n, kl_mm *d, int64_t osz) {
  block(n, d);
  transpose_tile(n, d, osz);
  /* Output rows wider than a 16-column half but not a multiple of it (LeNet's
   * 28): by whole rows (mc_convr), whose last half overlaps the one before
   * instead of taking the edge path; parts of the rows in parallel.  Only
   * where the padded copy is one band of every row (mc_pad_whole). */
  if (convr_fits(d) && d->bh >= d->OH) {
    d->rows = 1;
    d->split_n = 0;
    if (d->slots > d->OH) d->slots = (int)d->OH;   /* no more parts than block() gave scratch for */
  }
}

int kl_mm_shared_copy(const kl_mm *d) {
  return d->kind == KL_MM_GEMM && d->bkind == KL_MM_B_PADDED && ((d->tposed && d->bh >= d->OH) || d->rows);
}

/* Floats of one part's own slice of the scratch, when the parts of a
 * parallel product (slots > 1) each pack into their own; 0 when they share. */
static int64_t part_floats(const kl_mm *d) {
  if (d->kind != KL_MM_GEMM || d->slots <= 1 || kl_mm_shared_copy(d)) return 0;
  return round_up(round_up(d->scratch_b, 16) + d->scratch_a, 16);   /* 64-byte aligned */
}

/* The bytes of A packed at run time, first in the node's scratch, 64-byte aligned. */
static int64_t pk_bytes(const kl_mm *d) { return (int64_t)sizeof(float) * round_up(d->scratch_pk, 16); }

int64_t kl_mm_part_bytes(const kl_mm *d, int *parts) {
  *parts = 0;
  if (d->kind == KL_MM_DW && d->slots > 1 && d->scratch_b) {
    *parts = d->slots;
    return (int64_t)sizeof(float) * d->scratch_b;
  }
  if (!part_floats(d)) return 0;
  *parts = d->slots;
  return (int64_t)sizeof(float) * part_floats(d);
}

int64_t kl_mm_scratch_bytes(const kl_mm *d) {
  int64_t pk = pk_bytes(d);
  if (d->kind == KL_MM_DW) return (int64_t)sizeof(float) * d->scratch_b * (d->slots > 1 ? d->slots : 1);
  if (d->kind != KL_MM_GEMM) return 0;
  if (part_floats(d)) return pk + (int64_t)sizeof(float) * d->slots * part_floats(d);
  return pk + (int64_t)sizeof(float) * (round_up(d->scratch_b, 16) + d->scratch_a);
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
  int64_t acc = slice_offsets(d, os, slice, pk), idx[KL_MM_MAX_OUTER] = {0}, total = 1, i;
  int q;
  float *dst;
  unsigned char *done;
  for (q = 0; q < d->n_outer; q++) total *= d->outer[q];
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

/* Rows 0..rows-1 of a matrix, row i, column k at t[off + i*rs + k*cs], as
 * panels [rows/P][K][P], the rows past `rows` zero: the layout the tiles
 * read, which mc_panels (src_panels) writes at run time. */
static void pack_panels(const ir_tensor *t, int64_t off, int64_t rs, int64_t cs, int64_t rows, int64_t K, int64_t P,
                        float *dst) {
  int64_t i0, k, i;
  for (i0 = 0; i0 < rows; i0 += P)
    for (k = 0; k < K; k++)
      for (i = 0; i < P; i++) *dst++ = i0 + i < rows ? const_at(t, off + (i0 + i) * rs + k * cs) : 0.0f;
}

/* A's panels: of a_panel(d) rows of A (for the transposed tile, A's
 * transpose packed as a B is). */
static void pack_a(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst) {
  pack_panels(t, off, d->a_rs, d->a_cs, d->M, d->K, a_panel(d), dst);
}

/* B(k,n) of the lowered strides before packing: panels of NR columns. */
static void pack_b(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst) {
  pack_panels(t, off, d->b_ns, d->b_ks, d->N, d->K, KL_MM_NR, dst);
}

/* For the matrix-vector kernel: rows [K][N]. */
static void pack_rows(const kl_mm *d, const ir_tensor *t, int64_t off, float *dst) {
  int64_t k, j;
  for (k = 0; k < d->K; k++)
    for (j = 0; j < d->N; j++) *dst++ = const_at(t, off + k * d->b_ks + j * d->b_ns);
}

void kl_mm_plan_const_b(kl_mm *d, kl_mm_kind kind, int64_t M, int64_t N, int64_t K, int64_t a_rs) {
  none(d);
  d->kind = kind;
  d->M = M, d->N = N, d->K = K;
  d->a_rs = a_rs, d->a_cs = 1;
  d->b_pack = 1;
  d->bkind = kind == KL_MM_GEMM ? KL_MM_B_PACKED : KL_MM_B_ROWS;
  d->ldy = N;
  d->alpha = d->beta = d->rscale = 1.0;
  if (kind == KL_MM_GEMM) block(NULL, d);
}

void kl_mm_use(emit_ctx *e, const kl_mm *d) {
  kl_epilogue ep;
  char act_fn[32];
  memset(&ep, 0, sizeof ep);
  ep.act = OP_ACT_NONE;
  use_helpers(e, d, &ep, act_fn, sizeof act_fn);
}

const char *kl_mm_pack_const_b(emit_ctx *e, const kl_mm *d, const char *what, const float *src, int64_t ks,
                               int64_t ns) {
  kl_mm q = *d;
  ir_tensor t;
  int64_t cnt = d->kind == KL_MM_GEMM ? round_up(d->N, KL_MM_NR) * d->K : d->K * d->N;
  float *p = ir_alloc(sizeof(float) * (size_t)(cnt > 0 ? cnt : 1));
  const char *name;
  memset(&t, 0, sizeof t);
  t.data = (void *)(uintptr_t)src;
  q.b_ks = ks, q.b_ns = ns;
  if (d->kind == KL_MM_GEMM) pack_b(&q, &t, 0, p);
  else pack_rows(&q, &t, 0, p);
  name = emit_packed_f32(e, what, p, cnt);
  free(p);
  return name;
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

/* KL_MM_A_RUN: A (at a) packed into its panels at the start of the node's scratch (s),
 * every distinct slice of the outer loops (pk[], slice_offsets) once, before
 * those loops and before any parallel part; returns the packed copy's name. */
static const char *pack_a_run(emit_ctx *e, const kl_mm *d, const char *a, const char *s, const int64_t *pk) {
  const char *iv[KL_MM_MAX_OUTER] = {0}, *apk = emit_fresh(e, "apk");
  char src[300], dst[300];
  int t, loops = 0;
  emit_line(e, "float *%s = (float *)(void *)%s;", apk, s);
  for (t = 0; t < d->n_outer; t++) {
    iv[t] = d->a_os[t] ? kl_for(e, d->outer[t]) : "0";
    loops += d->a_os[t] != 0;
  }
  emit_line(e, "mc_panels(%s, %lld, %lld, %lld, %lld, %lld, %s);", ptr_expr(src, sizeof src, a, d, iv, d->a_os),
            (long long)d->a_rs, (long long)d->a_cs, (long long)d->M, (long long)d->K, (long long)a_panel(d),
            ptr_expr(dst, sizeof dst, apk, d, iv, pk));
  while (loops--) kl_end(e);
  return apk;
}

static void set_i(emit_ctx *e, const char *g, const char *field, int64_t v) {
  emit_line(e, "%s.%s = %lld;", g, field, (long long)v);
}

static void set_f(emit_ctx *e, const char *g, const char *field, double v) {
  char lit[64];
  emit_line(e, "%s.%s = %s;", g, field, emit_literal(lit, sizeof lit, IR_F32, v));
}

/* A Relu or Clip (its bounds in order) after the standard tile is also
 * described as a clamp, which the vector tile applies in registers;
 * the act helper stays for the tiles and kernels that do not. */
static void clamp_fields(emit_ctx *e, const char *g, const kl_mm *d, const kl_epilogue *ep) {
  double lo, hi;
  int bits;
  if (d->kind != KL_MM_GEMM || d->tposed || (ep->act != OP_ACT_RELU && ep->act != OP_ACT_CLIP)) return;
  lo = ep->act == OP_ACT_RELU ? 0.0 : ep->alpha;
  hi = ep->act == OP_ACT_RELU ? INFINITY : ep->beta;
  bits = (isinf(lo) ? 0 : 1) | (isinf(hi) ? 0 : 2);
  if (!(lo <= hi) || bits == 0) return;   /* Clip's min above its max: the scalar text's order decides */
  emit_line(e, "%s.clamp = %d;", g, bits);
  if (bits & 1) set_f(e, g, "lo", lo);
  if (bits & 2) set_f(e, g, "hi", hi);
}

/* What --profile's table calls the kernel: "gemm 6x32 implicit", "gemm
 * 32x8t direct", "gemv", "depthwise 3x3".  The tile is 6x32 with AVX-512,
 * 6x16 otherwise, the transposed one (t) 32x8, else 16x6 (the C compiler
 * decides); the label names the widest. */
static const char *kernel_label(const kl_mm *d, char *buf, size_t n) {
  static const char *const bsrc[] = {"packed", "rows", "strided", "im2col", "implicit", "direct"};
  if (d->kind == KL_MM_GEMM && d->tposed) snprintf(buf, n, "gemm %dx8t %s", 2 * KL_MM_NR, bsrc[d->bkind]);
  else if (d->kind == KL_MM_GEMM)
    snprintf(buf, n, "gemm %dx%d %s%s", KL_MM_MR, 2 * KL_MM_NR, bsrc[d->bkind], d->rows ? " rows" : "");
  else if (d->kind == KL_MM_GEMV) snprintf(buf, n, d->bkind == KL_MM_B_STRIDED ? "gemv dot" : "gemv");
  else
    snprintf(buf, n, "%s",
             dw_ring(d) ? "depthwise 3x3" : "depthwise");
  return buf;
}

/* mc_convr over all output rows, or over `slots` parts of them in parallel,
 * all reading the one padded copy made before them (kl_par_pad_once). */
static void convr_call(emit_ctx *e, const kl_mm *d, const char *g) {
  const char *t, *s;
  int reg;
  if (d->slots <= 1) {
    emit_line(e, "mc_convr(&%s, 0, %lld);", g, (long long)d->OH);
    return;
  }
  reg = kl_par_pad_once(e, d, g);
  kl_par_loop(e, reg);
  t = kl_for(e, d->slots);
  s = emit_fresh(e, "g");
  emit_line(e, "mc_gemm_args %s = %s;", s, g);
  emit_line(e, "mc_convr(&%s, %s * %lld / %d, (%s + 1) * %lld / %d);", s, t, (long long)d->OH, d->slots, t,
            (long long)d->OH, d->slots);
  kl_end(e);
  if (reg) kl_end(e);   /* the parallel region */
}

/* The depthwise kernel by parts of its output rows (kl_par_dw_by_rows):
 * part p runs rows [o0, o1) of every channel plane, in its own copies of
 * the tensors with row replicas. */
static void dw_rows_call(emit_ctx *e, const ir_node *n, const kl_mm *d, const char *g, const char *a, const char *b,
                         const char *y, const char *bias, const char *res) {
  const char *p, *gp, *cut, *c;
  cut = kl_par_cuts(e, d);
  kl_par_for(e);
  p = kl_for(e, d->slots);
  gp = emit_fresh(e, "g");
  emit_line(e, "mc_gemm_args %s = %s;", gp, g);
  emit_line(e, "%s.b = %s;", gp, b);
  emit_line(e, "%s.y = %s;", gp, y);
  if (bias) emit_line(e, "%s.bias = %s;", gp, bias);
  if (res) emit_line(e, "%s.res = %s;", gp, res);
  kl_par_to_replicas(e, n, d, gp, p);
  c = kl_for(e, d->outer[1]);
  emit_line(e, "mc_dw(&%s, %s.b + %s * %lld, %s + %s * %lld, %s.y + %s * %lld, %s[%s], %s[%s + 1], %s);", gp, gp, c,
            (long long)d->b_os[1], a, c, (long long)d->a_os[1], gp, c, (long long)d->y_os[1], cut, p, cut, p, c);
  kl_end(e);
  kl_end(e);
}

int kl_mm_render(emit_ctx *e, const ir_node *n, const kl_mm *d) {
  static const char *const bkinds[] = {"MC_B_PACKED", "MC_B_ROWS",   "MC_B_STRIDED",
                                       "MC_B_IM2COL", "MC_B_PADDED", "MC_B_TAPS"};
  kl_epilogue ep;
  char act_fn[32], buf[1024], what[300];
  const char *iv[KL_MM_MAX_OUTER], *a, *b, *y, *bias = NULL, *res = NULL, *g;
  int64_t apk[KL_MM_MAX_OUTER], bpk[KL_MM_MAX_OUTER], cnt;
  int64_t stride = 0;   /* bytes from one part's scratch slice to the next */
  int t;
  if (d->kind == KL_MM_NONE) return ir_error("node '%s': not lowered to the GEMM core", n->name);
  if (kl_epilogue_from_node(e, n, &ep)) return -1;
  use_helpers(e, d, &ep, act_fn, sizeof act_fn);
  /* parts in parallel and nothing shared written outside them (the A packed
   * at run time is, before the parts): the caller's team may run the node */
  if (d->slots > 1 && d->a_pack != KL_MM_A_RUN && (d->kind == KL_MM_GEMM || (d->kind == KL_MM_DW && d->n_outer > 1)))
    emit_team(e);
  emit_kernel(e, kernel_label(d, buf, sizeof buf));
  if (d->a_pack == KL_MM_A_CONST) {   /* panels [M/MR][K][MR], or A's transpose packed as a B is: [M/NR][K][NR] */
    float *p = pack_slices(d, n->in[d->a_in], d->a_os, a_slice(d), pack_a, apk, &cnt);
    snprintf(what, sizeof what, "%.200s packed as A%s: [%lld][%lld][%lld]", n->in[d->a_in]->name,
             d->tposed ? "'s transpose" : "", (long long)((d->M + a_panel(d) - 1) / a_panel(d)), (long long)d->K,
             (long long)a_panel(d));
    a = emit_packed_f32(e, what, p, cnt);
    free(p);
  } else {
    a = emit_in(e, d->a_in);
    if (d->a_pack == KL_MM_A_RUN) slice_offsets(d, d->a_os, a_slice(d), apk);
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
    if (d->bkind == KL_MM_B_IM2COL || d->bkind == KL_MM_B_PADDED || d->bkind == KL_MM_B_TAPS) {
      set_i(e, g, "C", d->C), set_i(e, g, "H", d->H), set_i(e, g, "W", d->W), set_i(e, g, "OW", d->OW);
      set_i(e, g, "KH", d->KH), set_i(e, g, "KW", d->KW), set_i(e, g, "SH", d->SH), set_i(e, g, "SW", d->SW);
      set_i(e, g, "DH", d->DH), set_i(e, g, "DW", d->DW), set_i(e, g, "PH", d->PH), set_i(e, g, "PW", d->PW);
    }
    if (d->bkind == KL_MM_B_PADDED) {
      set_i(e, g, "vh", d->vh), set_i(e, g, "vw", d->vw), set_i(e, g, "bh", d->bh);
      set_i(e, g, "xh", d->bh + d->vh - d->OH), set_i(e, g, "xps", d->xps);
    }
    set_i(e, g, "ldy", d->ldy);
  }
  set_f(e, g, "alpha", d->alpha);
  if (bias) {
    set_i(e, g, "bias_mode", d->bias_mode);
    set_f(e, g, "beta", d->beta);
  }
  if (act_fn[0]) emit_line(e, "%s.act = %s;", g, act_fn);
  clamp_fields(e, g, d, &ep);
  if (res) {
    set_i(e, g, "ldr", d->ldr);
    set_f(e, g, "rscale", d->rscale);
  }
  if (kl_mm_scratch_bytes(d) > 0) {
    /* the parts' slices: in the parts area where the planner made one, else
     * after the run-time packed A in the node's scratch */
    int np;
    int64_t each = kl_mm_part_bytes(d, &np);   /* 0: the parts share their scratch, or there is one */
    const char *s = each > 0 ? emit_parts(e, &stride) : NULL;
    int64_t at = 0;
    if (!s) {
      s = emit_scratch(e);
      at = pk_bytes(d);
      stride = each;
    }
    if (d->scratch_b) emit_line(e, "%s.scratch = (float *)(void *)(%s + %lld);", g, s, (long long)at);
    if (d->scratch_a)
      emit_line(e, "%s.ascratch = (float *)(void *)(%s + %lld);", g, s,
                (long long)(at + (int64_t)sizeof(float) * round_up(d->scratch_b, 16)));
    if (d->a_pack == KL_MM_A_RUN) a = pack_a_run(e, d, a, emit_scratch(e), apk);
  }
  if (bias && d->n_outer == 0) emit_line(e, "%s.bias = %s;", g, bias);
  if (kl_par_dw_by_rows(n, d)) {
    dw_rows_call(e, n, d, g, a, b, y, bias, res);
    kl_end(e);
    kl_par_rows_exchange(e, n);
    return 0;
  }
  for (t = 0; t < d->n_outer; t++) {
    if (d->kind == KL_MM_DW && d->slots > 1 && t == 1 && d->scratch_b) {   /* parts of the channels */
      const char *p, *gp, *ch;
      kl_par_for(e);
      p = kl_for(e, d->slots);
      gp = emit_fresh(e, "g");
      emit_line(e, "mc_gemm_args %s = %s;", gp, g);
      emit_line(e, "%s.scratch += %s * %lld;", gp, p, (long long)(stride / (int64_t)sizeof(float)));
      g = gp;
      ch = emit_fresh(e, "i");
      emit_line(e, "for (int64_t %s = %s * %lld / %d; %s < (%s + 1) * %lld / %d; %s++) {", ch, p,
                (long long)d->outer[1], d->slots, ch, p, (long long)d->outer[1], d->slots, ch);
      emit_indent(e, 1);
      iv[t] = ch;
      continue;
    }
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
    emit_line(e, "mc_dw(&%s, %s, %s, %s, 0, %lld, %s);", g, xs, ws, ptr_expr(buf, sizeof buf, y, d, iv, d->y_os),
              (long long)d->OH, iv[1]);
  } else {
    emit_line(e, "%s.%s = %s;", g, d->a_pack ? "apk" : "a", ptr_expr(buf, sizeof buf, a, d, iv, d->a_pack ? apk : d->a_os));
    emit_line(e, "%s.b = %s;", g, ptr_expr(buf, sizeof buf, b, d, iv, d->b_pack ? bpk : d->b_os));
    emit_line(e, "%s.y = %s;", g, ptr_expr(buf, sizeof buf, y, d, iv, d->y_os));
    if (d->kind == KL_MM_GEMV) emit_line(e, "%s(&%s);", d->bkind == KL_MM_B_STRIDED ? "mc_gemv_dot" : "mc_gemv", g);
    else if (d->rows) convr_call(e, d, g);
    else kl_par_gemm_call(e, n, d, g, d->tposed ? "t" : "", stride / (int64_t)sizeof(float));
  }
  for (t = 0; t < d->n_outer; t++) kl_end(e);
  if (d->kind == KL_MM_DW && d->slots > 1 && d->scratch_b) kl_end(e);   /* the parts */
  kl_end(e);
  kl_par_rows_exchange(e, n);
  return 0;
}
