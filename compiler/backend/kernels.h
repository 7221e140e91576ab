/*
 * kernels.h - the backend's kernel layer: shared pieces.
 *
 * Ops do not print whole kernels.  They fill a descriptor (kl_nn.h: GEMM,
 * convolution, pooling; kl_map.h: elementwise maps with broadcasting;
 * kl_copy.h: strided copies and reductions) and call the kernel layer, which
 * decides how the loops are written: plain loops today, tiled and
 * vectorized later, without touching the ops.
 *
 * Every producer kernel (GEMM, convolution, elementwise map) ends in an
 * epilogue applied to each output value before it is stored:
 *     y = act(acc + bias[channel] + residual[i])
 * The fusion pass fills the epilogue from node attributes, whose names,
 * activations and defaults compiler/ops/epilogue.h defines.
 */
#ifndef MODELC_KERNELS_H
#define MODELC_KERNELS_H

#include <stddef.h>
#include "emit.h"
#include "../ops/epilogue.h"

typedef op_act kl_act;   /* OP_ACT_* */

typedef struct kl_epilogue {
  kl_act act;
  double alpha, beta;
  const char *residual;   /* buffer name of the same layout as the output, or NULL */
} kl_epilogue;

/* Fill ep from a node's fused epilogue (op_epilogue_read).  Returns -1 with
 * an error for a malformed one. */
int kl_epilogue_from_node(emit_ctx *e, const ir_node *n, kl_epilogue *ep);
/* Write into buf a float expression applying ep's activation to expression v
 * (v is textually repeated; pass a plain variable).  dt: IR_F32 or IR_F64. */
char *kl_act_expr(char *buf, size_t n, const kl_epilogue *ep, ir_dtype dt, const char *v);

/* Open "for (int64_t i = 0; i < extent; i++) {" with a fresh variable whose
 * name is returned, and close it. */
const char *kl_for(emit_ctx *e, int64_t extent);
void kl_end(emit_ctx *e);
/* Open a bare block "{" (scoping the locals of what follows); kl_end closes it. */
void kl_block(emit_ctx *e);

/* C-order element strides of dims[rank] into st. */
void kl_strides(int rank, const int64_t *dims, int64_t *st);

#endif
