/*
 * emit_math.h - C emitters of the math group (compiler/ops/ops_math.c),
 * named emit_math_<Op>, with op_def.emit's signature.
 */
#ifndef MODELC_EMIT_MATH_H
#define MODELC_EMIT_MATH_H

#include "emit.h"

#define EMIT_MATH_OPS(X) \
  X(Mod) X(BitShift) X(ThresholdedRelu) X(Shrink) X(Celu) X(Mish) X(IsInf) X(IsNaN) \
  X(Trilu) X(Hardmax) X(CumSum) X(TopK) X(Einsum) X(OneHot) X(EyeLike) X(ReverseSequence) \
  X(Det) X(NonZero) X(Compress)

#define EMIT_MATH_DECL(op) int emit_math_##op(emit_ctx *e, const ir_node *n);
EMIT_MATH_OPS(EMIT_MATH_DECL)
#undef EMIT_MATH_DECL

#endif
