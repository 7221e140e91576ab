/*
 * grad_nn.h - gradient builders of the neural-network ops (see
 * compiler/passes/autodiff.h and grad_nn.c), hooked into their op table
 * entries; the internal ops some of them emit are in ops_grad.c.
 */
#ifndef MODELC_GRAD_NN_H
#define MODELC_GRAD_NN_H

#include "../passes/autodiff.h"

int grad_Gemm(grad_ctx *gc, const ir_node *n);
int grad_MatMul(grad_ctx *gc, const ir_node *n);
int grad_Conv(grad_ctx *gc, const ir_node *n);
int grad_ConvTranspose(grad_ctx *gc, const ir_node *n);
int grad_MaxPool(grad_ctx *gc, const ir_node *n);
int grad_AveragePool(grad_ctx *gc, const ir_node *n);
int grad_GlobalAveragePool(grad_ctx *gc, const ir_node *n);
int grad_GlobalMaxPool(grad_ctx *gc, const ir_node *n);
int grad_Softmax(grad_ctx *gc, const ir_node *n);
int grad_LogSoftmax(grad_ctx *gc, const ir_node *n);
int grad_NegativeLogLikelihoodLoss(grad_ctx *gc, const ir_node *n);
int grad_SoftmaxCrossEntropyLoss(grad_ctx *gc, const ir_node *n);

#endif
