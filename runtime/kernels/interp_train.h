/*
 * interp_train.h - reference kernels of the optimizer ops
 * (compiler/ops/ops_train.c): Adagrad, Adam, Momentum, SGD, AdamW, named
 * interp_train_<Op>, with op_def.interp's signature.
 */
#ifndef MODELC_INTERP_TRAIN_H
#define MODELC_INTERP_TRAIN_H

#include "../interp.h"

int interp_train_Adagrad(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_train_Adam(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_train_Momentum(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
/* ai.modelc: PyTorch's SGD and Adam/AdamW (compiler/ops/ops_train.c). */
int interp_train_SGD(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_train_AdamW(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);

#endif
