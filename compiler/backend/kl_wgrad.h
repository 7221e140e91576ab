/*
 * kl_wgrad.h - a convolution's weight gradient (ConvWeightGrad, float32,
 * 1-D and 2-D) on the GEMM core, see kl_wgrad.c.
 *
 * As kl_gemm.h, lowering and rendering are two steps: kl_wgrad_lower is a
 * pure function of the node (with the planner's scratch cap on it), so that
 * the op table's scratch_bytes and the renderer agree.
 */
#ifndef MODELC_KL_WGRAD_H
#define MODELC_KL_WGRAD_H

#include "kl_gemm.h"

typedef struct kl_wgrad {
  int64_t NB, G, C, M;                   /* batch, groups, channels of X and of dY per group */
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;   /* the geometry as 2-D (1-D: H = OH = KH = 1) */
  int64_t vh, vw, xps;                   /* the padded copy's grid (the forward's implicit GEMM's) and floats */
  int64_t KB;                            /* grid positions per block (dya, one: output positions) */
  int64_t nb;                            /* dya: B's rows, the taps rounded up to NR */
  int dya;                               /* dW = dY . im2col^T (few output channels), not dW^T = im2col . dY^T */
  int one;                               /* a 1x1 kernel without padding: mc_wgrad1 (see kl_wgrad.c) */
  int64_t acc, xp, a, b;                 /* scratch floats: dW^T, the padded copy and its tap table, the
                                          * im2col block, dY's block */
} kl_wgrad;

/* 0 with w filled, or -1 when the core does not take the node (F64, 3-D,
 * a padded copy of one sample past WG_PAD_MAX_FLOATS, but a 1x1 kernel):
 * then kl_nn.h's kl_conv_wgrad loops. */
int kl_wgrad_lower(const ir_node *n, const kl_conv_desc *c, kl_wgrad *w);
int64_t kl_wgrad_scratch_bytes(const kl_wgrad *w);
/* The kernel, reading x and dy, writing dw (C expressions). */
int kl_wgrad_render(emit_ctx *e, const kl_wgrad *w, const char *x, const char *dy, const char *dw);

#endif
