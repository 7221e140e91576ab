/*
 * emit_quant.h - C emitters of the quantized group
 * (compiler/ops/ops_quant.c).  One function per op with op_def.emit's
 * signature, named emit_quant_<Op>.
 */
#ifndef MODELC_EMIT_QUANT_H
#define MODELC_EMIT_QUANT_H

#include "emit.h"

#define EMIT_QUANT_OPS(X) \
  X(QuantizeLinear) X(DequantizeLinear) X(DynamicQuantizeLinear) \
  X(MatMulInteger) X(QLinearMatMul) X(ConvInteger) X(QLinearConv)

#define EMIT_QUANT_DECL(op) int emit_quant_##op(emit_ctx *e, const ir_node *n);
EMIT_QUANT_OPS(EMIT_QUANT_DECL)
#undef EMIT_QUANT_DECL

#endif
