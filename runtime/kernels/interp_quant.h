/*
 * interp_quant.h - reference kernels of the quantized group
 * (compiler/ops/ops_quant.c).  One function per op with op_def.interp's
 * signature, named interp_quant_<Op>.
 */
#ifndef MODELC_INTERP_QUANT_H
#define MODELC_INTERP_QUANT_H

#include "../interp.h"

#define INTERP_QUANT_OPS(X) \
  X(QuantizeLinear) X(DequantizeLinear) X(DynamicQuantizeLinear) \
  X(MatMulInteger) X(QLinearMatMul) X(ConvInteger) X(QLinearConv)

#define INTERP_QUANT_DECL(op) \
  int interp_quant_##op(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
INTERP_QUANT_OPS(INTERP_QUANT_DECL)
#undef INTERP_QUANT_DECL

#endif
