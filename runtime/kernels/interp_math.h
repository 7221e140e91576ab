/*
 * interp_math.h - reference kernels of the math group (compiler/ops/ops_math.c):
 * Mod, BitShift, ThresholdedRelu, Shrink, Celu, Mish, IsInf, IsNaN, Trilu,
 * Hardmax, CumSum, TopK, Einsum, OneHot, EyeLike, ReverseSequence, Det,
 * NonZero, Compress.  One function per op, each with op_def.interp's signature, named
 * interp_math_<Op>.
 */
#ifndef MODELC_INTERP_MATH_H
#define MODELC_INTERP_MATH_H

#include "../interp.h"

#define INTERP_MATH_OPS(X) \
  X(Mod) X(BitShift) X(ThresholdedRelu) X(Shrink) X(Celu) X(Mish) X(IsInf) X(IsNaN) \
  X(Trilu) X(Hardmax) X(CumSum) X(TopK) X(Einsum) X(OneHot) X(EyeLike) X(ReverseSequence) \
  X(Det) X(NonZero) X(Compress)

#define INTERP_MATH_DECL(op) \
  int interp_math_##op(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
INTERP_MATH_OPS(INTERP_MATH_DECL)
#undef INTERP_MATH_DECL

#endif
