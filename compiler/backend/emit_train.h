/*
 * emit_train.h - C emitters of the optimizer ops (ai.onnx.preview.training, ai.modelc)
 * (compiler/ops/ops_train.c), named emit_train_<Op>, with op_def.emit's
 * signature.
 */
#ifndef MODELC_EMIT_TRAIN_H
#define MODELC_EMIT_TRAIN_H

#include "emit.h"

int emit_train_Adagrad(emit_ctx *e, const ir_node *n);
int emit_train_Adam(emit_ctx *e, const ir_node *n);
int emit_train_Momentum(emit_ctx *e, const ir_node *n);
/* ai.modelc: PyTorch's SGD and Adam/AdamW. */
int emit_train_SGD(emit_ctx *e, const ir_node *n);
int emit_train_AdamW(emit_ctx *e, const ir_node *n);

#endif
