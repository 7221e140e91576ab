/*
 * emit_index.h - C emitters of the index group (ops_index.c).  Each fills
 * a kl_index.h descriptor (plus a kl_copy.h copy of the data for the
 * scatters).  Signatures are op_def.emit's.
 */
#ifndef MODELC_EMIT_INDEX_H
#define MODELC_EMIT_INDEX_H

#include "emit.h"

int emit_index_gather_elements(emit_ctx *e, const ir_node *n);
int emit_index_scatter_elements(emit_ctx *e, const ir_node *n);   /* ScatterElements and Scatter */
int emit_index_gather_nd(emit_ctx *e, const ir_node *n);
int emit_index_scatter_nd(emit_ctx *e, const ir_node *n);
int emit_index_nll_loss(emit_ctx *e, const ir_node *n);
int emit_index_sce_loss(emit_ctx *e, const ir_node *n);
int emit_index_nll_loss_grad(emit_ctx *e, const ir_node *n);   /* ai.modelc NegativeLogLikelihoodLossGrad */

#endif
