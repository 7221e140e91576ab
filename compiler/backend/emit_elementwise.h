/*
 * emit_elementwise.h - C emitters of the elementwise group
 * (compiler/ops/ops_elementwise.c).  One function per op with op_def.emit's
 * signature, named emit_ew_<Op>; maps go through kl_map.h, Softmax writes
 * its three-pass loops through kernels.h.
 */
#ifndef MODELC_EMIT_ELEMENTWISE_H
#define MODELC_EMIT_ELEMENTWISE_H

#include "emit.h"

#define EMIT_EW_OPS(X) \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Max) X(Min) X(Sum) X(Mean) \
  X(Relu) X(LeakyRelu) X(Sigmoid) X(Tanh) X(HardSigmoid) X(HardSwish) X(Elu) X(Selu) \
  X(Softplus) X(Softsign) X(Clip) \
  X(Sqrt) X(Exp) X(Log) X(Erf) X(Abs) X(Neg) X(Reciprocal) X(Floor) X(Ceil) X(Sin) X(Cos) \
  X(Identity) X(Dropout) X(Cast) \
  X(Equal) X(Less) X(Greater) X(LessOrEqual) X(GreaterOrEqual) X(Not) X(And) X(Or) X(Xor) \
  X(Where) X(Softmax) X(LogSoftmax) X(PRelu) X(CastLike) \
  X(Tan) X(Asin) X(Acos) X(Atan) X(Sinh) X(Cosh) X(Asinh) X(Acosh) X(Atanh) X(Sign) X(Round)

#define EMIT_EW_DECL(op) int emit_ew_##op(emit_ctx *e, const ir_node *n);
EMIT_EW_OPS(EMIT_EW_DECL)
#undef EMIT_EW_DECL

#endif
