/*
 * ops_shape.h - op-level semantics of the shape group that both the
 * interpreter (runtime/kernels/interp_shape.c) and the C backend
 * (compiler/backend/emit_shape.c) need: where a Slice starts, which axes a
 * Reduce folds, how a Pad maps indices.  These read only the node, its
 * attributes and its constant inputs, never a kernel, so the interpreter
 * stays an independent oracle of the emitted code.
 *
 * Every function here may assume the node passed op_validate and its op's
 * infer (output shapes are set); each still returns -1 via op_fail on
 * inconsistent input rather than trusting that.
 */
#ifndef MODELC_OPS_SHAPE_H
#define MODELC_OPS_SHAPE_H

#include "op.h"

/* Slice over every axis of input 0: start[k], step[k], len[k] (len is the
 * output extent; untouched axes get 0, 1, dim). */
int ops_shape_slice(const ir_node *n, int64_t *start, int64_t *step, int64_t *len);
/* Transpose permutation (out axis k reads input axis perm[k]). */
int ops_shape_perm(const ir_node *n, int *perm);
/* Reduced axes of a Reduce* node as mask[k] (0/1 per input axis); *noop
 * set when the node is an identity (empty axes with noop_with_empty_axes). */
int ops_shape_reduce_axes(const ir_node *n, int *mask, int *noop);

typedef enum ops_pad_mode { OPS_PAD_CONSTANT, OPS_PAD_REFLECT, OPS_PAD_EDGE, OPS_PAD_WRAP } ops_pad_mode;
/* Pads of input 0 per axis: begin[k] and end[k] (negative crops). */
int ops_shape_pads(const ir_node *n, int64_t *begin, int64_t *end, ops_pad_mode *mode);
/* Input index along an axis of extent d for output index o of a Pad with
 * begin padding b; -1 for a constant-mode position outside the input. */
int64_t ops_shape_pad_src(ops_pad_mode mode, int64_t o, int64_t b, int64_t d);

/* The node's "axis" attribute (default 0) normalized against rank
 * (Concat, Split, Gather, ArgMax/ArgMin). */
int ops_shape_axis(const ir_node *n, int rank, int *axis);

#endif
