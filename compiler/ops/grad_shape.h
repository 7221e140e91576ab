/*
 * grad_shape.h - gradient builders of the shape group (element moves and
 * reductions; see compiler/passes/autodiff.h): each appends ordinary nodes
 * computing its inputs' gradients from its outputs'.
 */
#ifndef MODELC_GRAD_SHAPE_H
#define MODELC_GRAD_SHAPE_H

#include "../passes/autodiff.h"

int grad_reshape_like(grad_ctx *gc, const ir_node *n);   /* Reshape, Flatten, Squeeze, Unsqueeze */
int grad_Transpose(grad_ctx *gc, const ir_node *n);
int grad_Concat(grad_ctx *gc, const ir_node *n);
int grad_Split(grad_ctx *gc, const ir_node *n);
int grad_Slice(grad_ctx *gc, const ir_node *n);
int grad_Gather(grad_ctx *gc, const ir_node *n);
int grad_Expand(grad_ctx *gc, const ir_node *n);
int grad_Pad(grad_ctx *gc, const ir_node *n);
int grad_ReduceSum(grad_ctx *gc, const ir_node *n);
int grad_ReduceMean(grad_ctx *gc, const ir_node *n);
int grad_ReduceSumSquare(grad_ctx *gc, const ir_node *n);
int grad_ReduceL2(grad_ctx *gc, const ir_node *n);
int grad_ReduceLogSumExp(grad_ctx *gc, const ir_node *n);
int grad_ReduceMax(grad_ctx *gc, const ir_node *n);
int grad_ReduceMin(grad_ctx *gc, const ir_node *n);
int grad_Tile(grad_ctx *gc, const ir_node *n);
int grad_GatherElements(grad_ctx *gc, const ir_node *n);
int grad_GatherND(grad_ctx *gc, const ir_node *n);
int grad_CumSum(grad_ctx *gc, const ir_node *n);
int grad_Trilu(grad_ctx *gc, const ir_node *n);

#endif
