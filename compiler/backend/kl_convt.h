/*
 * kl_convt.h - 2-D ConvTranspose (float32) on the GEMM core by output
 * phases, see kl_convt.c.
 *
 * As kl_gemm.h, lowering and rendering are two steps: kl_convt_lower is a
 * pure function of the node, so that the op table's scratch_bytes and the
 * renderer agree.
 */
#ifndef MODELC_KL_CONVT_H
#define MODELC_KL_CONVT_H

#include "emit.h"
#include "../ir/ir.h"

#define KL_CT_MAX_PHASES 16   /* strides up to 4x4 (more: the plain path) */

typedef struct kl_convt {
  int64_t N, G, C, M;                    /* batch, groups, input and output channels per group */
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
  int np;                                /* output phases (a, b) with outputs, rows first */
  int64_t pa[KL_CT_MAX_PHASES], pb[KL_CT_MAX_PHASES];
  int64_t top, vh, vw, nj;               /* the copies of x: zero rows above, rows, columns, how many */
  int64_t oj[KL_CT_MAX_PHASES];          /* the column shift of each copy */
  int in_place;                          /* x read as it is (one unshifted copy would equal it) */
  int64_t rb;                            /* output rows of a phase per GEMM band */
  int64_t sa, sx, sy;                    /* scratch floats: packed A of every phase, the copies, a band of y */
} kl_convt;

/* 0 with c filled, or -1 when the node is not for this kernel (not
 * float32, not 2-D, strides past 4, offsets past int32): then
 * emit_image.c's paths. */
int kl_convt_lower(const ir_node *n, kl_convt *c);
int64_t kl_convt_scratch_bytes(const kl_convt *c);
/* The kernel for node n (inputs x, w, optional bias; output y). */
int kl_convt_render(emit_ctx *e, const ir_node *n, const kl_convt *c);

#endif
