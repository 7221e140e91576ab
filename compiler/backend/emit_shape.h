/*
 * emit_shape.h - C emitters of the shape group (ops_shape.c).  Each writes
 * its node's function body through kl_copy.h.  Signatures are op_def.emit's.
 */
#ifndef MODELC_EMIT_SHAPE_H
#define MODELC_EMIT_SHAPE_H

#include "emit.h"

int emit_shape_copy(emit_ctx *e, const ir_node *n);       /* Reshape, Flatten, Squeeze, Unsqueeze */
int emit_shape_transpose(emit_ctx *e, const ir_node *n);
int emit_shape_concat(emit_ctx *e, const ir_node *n);
int emit_shape_split(emit_ctx *e, const ir_node *n);
int emit_shape_slice(emit_ctx *e, const ir_node *n);
int emit_shape_constant(emit_ctx *e, const ir_node *n);
int emit_shape_shape(emit_ctx *e, const ir_node *n);
int emit_shape_size(emit_ctx *e, const ir_node *n);
int emit_shape_constant_of_shape(emit_ctx *e, const ir_node *n);
int emit_shape_range(emit_ctx *e, const ir_node *n);
int emit_shape_gather(emit_ctx *e, const ir_node *n);
int emit_shape_pad(emit_ctx *e, const ir_node *n);
int emit_shape_expand(emit_ctx *e, const ir_node *n);
int emit_shape_tile(emit_ctx *e, const ir_node *n);
int emit_shape_argmax(emit_ctx *e, const ir_node *n);
int emit_shape_argmin(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_sum(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_mean(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_max(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_min(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_prod(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_l1(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_l2(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_sum_square(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_log_sum_exp(emit_ctx *e, const ir_node *n);
int emit_shape_reduce_log_sum(emit_ctx *e, const ir_node *n);

#endif
