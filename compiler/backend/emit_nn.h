/*
 * emit_nn.h - C emitters of the nn group (ops_nn.c).  Each fills a kl_nn.h
 * descriptor from its node and lets the kernel layer write the loops.
 * Signatures are op_def.emit's.
 */
#ifndef MODELC_EMIT_NN_H
#define MODELC_EMIT_NN_H

#include "emit.h"

int emit_nn_conv(emit_ctx *e, const ir_node *n);
int emit_nn_maxpool(emit_ctx *e, const ir_node *n);
int emit_nn_avgpool(emit_ctx *e, const ir_node *n);
int emit_nn_global_avgpool(emit_ctx *e, const ir_node *n);
int emit_nn_global_maxpool(emit_ctx *e, const ir_node *n);
int emit_nn_gemm(emit_ctx *e, const ir_node *n);
int emit_nn_matmul(emit_ctx *e, const ir_node *n);
int emit_nn_batchnorm(emit_ctx *e, const ir_node *n);

#endif
