/*
 * interp_elementwise.h - reference kernels of the elementwise group
 * (compiler/ops/ops_elementwise.c): arithmetic with broadcasting,
 * activations, unary math, Identity/Dropout, Cast, comparisons and logic,
 * Where, Softmax/LogSoftmax.  One function per op, each with op_def.interp's
 * signature, named interp_ew_<Op>.
 */
#ifndef MODELC_INTERP_ELEMENTWISE_H
#define MODELC_INTERP_ELEMENTWISE_H

#include "../interp.h"

#define INTERP_EW_OPS(X) \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Max) X(Min) X(Sum) X(Mean) \
  X(Relu) X(LeakyRelu) X(Sigmoid) X(Tanh) X(HardSigmoid) X(HardSwish) X(Elu) X(Selu) \
  X(Softplus) X(Softsign) X(Clip) \
  X(Sqrt) X(Exp) X(Log) X(Erf) X(Abs) X(Neg) X(Reciprocal) X(Floor) X(Ceil) X(Sin) X(Cos) \
  X(Identity) X(Dropout) X(Cast) \
  X(Equal) X(Less) X(Greater) X(LessOrEqual) X(GreaterOrEqual) X(Not) X(And) X(Or) X(Xor) \
  X(Where) X(Softmax) X(LogSoftmax) X(PRelu) X(CastLike) \
  X(Tan) X(Asin) X(Acos) X(Atan) X(Sinh) X(Cosh) X(Asinh) X(Acosh) X(Atanh) X(Sign) X(Round)

#define INTERP_EW_DECL(op) \
  int interp_ew_##op(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
INTERP_EW_OPS(INTERP_EW_DECL)
#undef INTERP_EW_DECL

#endif
