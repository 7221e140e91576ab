/*
 * grad_elementwise.h - gradient builders of the elementwise ops (see
 * compiler/passes/autodiff.h): each appends ordinary nodes computing its
 * inputs' gradients from its outputs'.
 */
#ifndef MODELC_GRAD_ELEMENTWISE_H
#define MODELC_GRAD_ELEMENTWISE_H

#include "../passes/autodiff.h"

int grad_Add(grad_ctx *gc, const ir_node *n);
int grad_Sub(grad_ctx *gc, const ir_node *n);
int grad_Mul(grad_ctx *gc, const ir_node *n);
int grad_Div(grad_ctx *gc, const ir_node *n);
int grad_Neg(grad_ctx *gc, const ir_node *n);
int grad_Identity(grad_ctx *gc, const ir_node *n);
int grad_Relu(grad_ctx *gc, const ir_node *n);
int grad_Sigmoid(grad_ctx *gc, const ir_node *n);
int grad_Tanh(grad_ctx *gc, const ir_node *n);
int grad_LeakyRelu(grad_ctx *gc, const ir_node *n);
int grad_Clip(grad_ctx *gc, const ir_node *n);
int grad_HardSigmoid(grad_ctx *gc, const ir_node *n);
int grad_HardSwish(grad_ctx *gc, const ir_node *n);
int grad_Elu(grad_ctx *gc, const ir_node *n);
int grad_Selu(grad_ctx *gc, const ir_node *n);
int grad_Softplus(grad_ctx *gc, const ir_node *n);
int grad_Abs(grad_ctx *gc, const ir_node *n);
int grad_Exp(grad_ctx *gc, const ir_node *n);
int grad_Log(grad_ctx *gc, const ir_node *n);
int grad_Sqrt(grad_ctx *gc, const ir_node *n);
int grad_Reciprocal(grad_ctx *gc, const ir_node *n);
int grad_Pow(grad_ctx *gc, const ir_node *n);
int grad_Dropout(grad_ctx *gc, const ir_node *n);
int grad_Erf(grad_ctx *gc, const ir_node *n);
int grad_Sin(grad_ctx *gc, const ir_node *n);
int grad_Cos(grad_ctx *gc, const ir_node *n);
int grad_Softsign(grad_ctx *gc, const ir_node *n);
int grad_PRelu(grad_ctx *gc, const ir_node *n);
int grad_Where(grad_ctx *gc, const ir_node *n);
int grad_Cast(grad_ctx *gc, const ir_node *n);
int grad_Sum(grad_ctx *gc, const ir_node *n);
int grad_Mean(grad_ctx *gc, const ir_node *n);
int grad_Max(grad_ctx *gc, const ir_node *n);
int grad_Min(grad_ctx *gc, const ir_node *n);
int grad_Tan(grad_ctx *gc, const ir_node *n);
int grad_Asin(grad_ctx *gc, const ir_node *n);
int grad_Acos(grad_ctx *gc, const ir_node *n);
int grad_Atan(grad_ctx *gc, const ir_node *n);
int grad_Sinh(grad_ctx *gc, const ir_node *n);
int grad_Cosh(grad_ctx *gc, const ir_node *n);
int grad_Asinh(grad_ctx *gc, const ir_node *n);
int grad_Acosh(grad_ctx *gc, const ir_node *n);
int grad_Atanh(grad_ctx *gc, const ir_node *n);
int grad_Celu(grad_ctx *gc, const ir_node *n);
int grad_Mish(grad_ctx *gc, const ir_node *n);
int grad_ThresholdedRelu(grad_ctx *gc, const ir_node *n);
int grad_Shrink(grad_ctx *gc, const ir_node *n);

#endif
