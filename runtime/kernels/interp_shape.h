/*
 * interp_shape.h - reference kernels of the shape group (ops_shape.c):
 * data movement (Reshape, Transpose, Concat, Slice, Gather, Pad, ...),
 * reductions and the ops whose value is known from shapes alone (Shape,
 * Size, Constant, ConstantOfShape, Range).  Signatures are op_def.interp's.
 */
#ifndef MODELC_INTERP_SHAPE_H
#define MODELC_INTERP_SHAPE_H

#include "../interp.h"

#define INTERP_SHAPE_FN(name) \
  int name(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out)

INTERP_SHAPE_FN(interp_shape_copy);         /* Reshape, Flatten, Squeeze, Unsqueeze */
INTERP_SHAPE_FN(interp_shape_transpose);
INTERP_SHAPE_FN(interp_shape_concat);
INTERP_SHAPE_FN(interp_shape_split);
INTERP_SHAPE_FN(interp_shape_slice);
INTERP_SHAPE_FN(interp_shape_constant);
INTERP_SHAPE_FN(interp_shape_shape);
INTERP_SHAPE_FN(interp_shape_size);
INTERP_SHAPE_FN(interp_shape_gather);
INTERP_SHAPE_FN(interp_shape_pad);
INTERP_SHAPE_FN(interp_shape_expand);
INTERP_SHAPE_FN(interp_shape_tile);
INTERP_SHAPE_FN(interp_shape_constant_of_shape);
INTERP_SHAPE_FN(interp_shape_range);
INTERP_SHAPE_FN(interp_shape_argmax);
INTERP_SHAPE_FN(interp_shape_argmin);
INTERP_SHAPE_FN(interp_shape_reduce_sum);
INTERP_SHAPE_FN(interp_shape_reduce_mean);
INTERP_SHAPE_FN(interp_shape_reduce_max);
INTERP_SHAPE_FN(interp_shape_reduce_min);
INTERP_SHAPE_FN(interp_shape_reduce_prod);
INTERP_SHAPE_FN(interp_shape_reduce_l1);
INTERP_SHAPE_FN(interp_shape_reduce_l2);
INTERP_SHAPE_FN(interp_shape_reduce_sum_square);
INTERP_SHAPE_FN(interp_shape_reduce_log_sum_exp);
INTERP_SHAPE_FN(interp_shape_reduce_log_sum);

#endif
