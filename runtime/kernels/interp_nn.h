/*
 * interp_nn.h - reference kernels of the nn group (ops_nn.c): Conv, the
 * pools, Gemm, MatMul, BatchNormalization and the backward ops of
 * ops_grad.c.  Signatures are op_def.interp's.  They read the explicit attributes that the entries'
 * infer wrote (kernel_shape, strides, dilations, pads, group) and the
 * output shapes, and compute in double.
 */
#ifndef MODELC_INTERP_NN_H
#define MODELC_INTERP_NN_H

#include "../interp.h"

#define INTERP_NN_FN(name) \
  int name(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out)

INTERP_NN_FN(interp_nn_conv);
INTERP_NN_FN(interp_nn_maxpool);
INTERP_NN_FN(interp_nn_avgpool);
INTERP_NN_FN(interp_nn_global_avgpool);
INTERP_NN_FN(interp_nn_global_maxpool);
INTERP_NN_FN(interp_nn_gemm);
INTERP_NN_FN(interp_nn_matmul);
INTERP_NN_FN(interp_nn_batchnorm);
/* The backward ops of ops_grad.c (domain ai.modelc). */
INTERP_NN_FN(interp_nn_conv_wgrad);
INTERP_NN_FN(interp_nn_maxpool_grad);
INTERP_NN_FN(interp_nn_avgpool_grad);
INTERP_NN_FN(interp_nn_batchnorm_grad);
INTERP_NN_FN(interp_nn_relu_grad);

#endif
