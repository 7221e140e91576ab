/*
 * interp_index.h - reference kernels of the index group (ops_index.c):
 * GatherElements, ScatterElements (and Scatter), GatherND, ScatterND and
 * the NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss losses.
 * Signatures are op_def.interp's.
 */
#ifndef MODELC_INTERP_INDEX_H
#define MODELC_INTERP_INDEX_H

#include "../interp.h"

#define INTERP_INDEX_FN(name) \
  int name(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out)

INTERP_INDEX_FN(interp_index_gather_elements);
INTERP_INDEX_FN(interp_index_scatter_elements);   /* ScatterElements and Scatter */
INTERP_INDEX_FN(interp_index_gather_nd);
INTERP_INDEX_FN(interp_index_scatter_nd);
INTERP_INDEX_FN(interp_index_nll_loss);
INTERP_INDEX_FN(interp_index_sce_loss);
INTERP_INDEX_FN(interp_index_nll_loss_grad);   /* ai.modelc NegativeLogLikelihoodLossGrad */

#endif
