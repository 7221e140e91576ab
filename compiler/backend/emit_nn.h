/*
 * emit_nn.h - C emitters of the nn group (ops_nn.c).  Each fills a kl_nn.h
 * descriptor from its node and lets the kernel layer write the loops.
 * Signatures are op_def.emit's.
 */
#ifndef MODELC_EMIT_NN_H
#define MODELC_EMIT_NN_H

#include "emit.h"

struct op_part_rows;   /* ../ops/op.h */

int emit_nn_conv(emit_ctx *e, const ir_node *n);
int emit_nn_maxpool(emit_ctx *e, const ir_node *n);
int emit_nn_avgpool(emit_ctx *e, const ir_node *n);
int emit_nn_global_avgpool(emit_ctx *e, const ir_node *n);
int emit_nn_global_maxpool(emit_ctx *e, const ir_node *n);
int emit_nn_gemm(emit_ctx *e, const ir_node *n);
int emit_nn_matmul(emit_ctx *e, const ir_node *n);
int emit_nn_batchnorm(emit_ctx *e, const ir_node *n);
/* The backward ops of ops_grad.c (domain ai.modelc). */
int emit_nn_conv_wgrad(emit_ctx *e, const ir_node *n);
int emit_nn_maxpool_grad(emit_ctx *e, const ir_node *n);
int emit_nn_avgpool_grad(emit_ctx *e, const ir_node *n);
int emit_nn_batchnorm_grad(emit_ctx *e, const ir_node *n);
int emit_nn_relu_grad(emit_ctx *e, const ir_node *n);
/* Arena scratch of the kernels Conv, Gemm and MatMul lower to (kl_gemm.h),
 * for op_def.scratch_bytes. */
int64_t emit_nn_conv_scratch(const ir_node *n);
int64_t emit_nn_gemm_scratch(const ir_node *n);
int64_t emit_nn_matmul_scratch(const ir_node *n);
/* ConvWeightGrad's, on the GEMM core (kl_wgrad.h). */
int64_t emit_nn_conv_wgrad_scratch(const ir_node *n);
/* The input whose bytes the output may take, for op_def.share_input. */
int emit_nn_conv_share(const ir_node *n);
int emit_nn_gemm_share(const ir_node *n);
int emit_nn_matmul_share(const ir_node *n);
/* op_def.part_bytes of Conv, Gemm and MatMul (kl_mm_part_bytes). */
int64_t emit_nn_conv_parts(const ir_node *n, int *parts);
int64_t emit_nn_gemm_parts(const ir_node *n, int *parts);
int64_t emit_nn_matmul_parts(const ir_node *n, int *parts);
/* op_def.part_rows of Conv (kl_par_rows). */
int emit_nn_conv_rows(const ir_node *n, struct op_part_rows *r);

#endif
