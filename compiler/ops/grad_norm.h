/*
 * grad_norm.h - gradient builders of the normalizations (see
 * compiler/passes/autodiff.h): LayerNormalization and BatchNormalization
 * (inference mode with given statistics, training mode through the batch
 * statistics).
 */
#ifndef MODELC_GRAD_NORM_H
#define MODELC_GRAD_NORM_H

#include "../passes/autodiff.h"

int grad_LayerNormalization(grad_ctx *gc, const ir_node *n);
int grad_BatchNormalization(grad_ctx *gc, const ir_node *n);
int grad_InstanceNormalization(grad_ctx *gc, const ir_node *n);

#endif
