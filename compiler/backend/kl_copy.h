/*
 * kl_copy.h - kernel layer for data movement and reductions.
 *
 * Copies: an op describes an N-d copy
 *     dst[dst_off + sum_k i_k*dst_stride_k] = src[src_off + sum_k f_k(i_k)*src_stride_k]
 * for 0 <= i_k < dims_k, where f_k is the identity or, for an axis given a
 * map, a compile-time table (Pad's reflect/edge/wrap).  Strides are in
 * elements and may be zero (broadcast) or negative (reversed slices).  The
 * layer drops axes of extent 1, merges adjacent axes that are contiguous on
 * both sides and turns a unit-stride innermost run into memcpy, so Reshape
 * is one memcpy, Concat/Split a loop of memcpys and Transpose plain loops.
 *
 * Reductions: an op gives the input dims, which axes fold, and three C
 * snippets over the accumulator `acc` (of acc_type) and the loaded value
 * `v` (of acc_type): init (an expression), step (a statement) and final
 * (an expression, converted to the output's C type).  Kept axes become the
 * outer loops in order (the output is written contiguously), folded axes
 * the inner ones.
 *
 * Gather (runtime indices) and ArgMax/ArgMin have their own small writers.
 * Everything is written with literal bounds and int64_t indices.
 */
#ifndef MODELC_KL_COPY_H
#define MODELC_KL_COPY_H

#include "kernels.h"

#define KL_COPY_MAX_RANK (2 * IR_MAX_RANK)   /* Tile splits each axis in two */

typedef struct kl_copy {
  const char *dst, *src;          /* buffer names (emit_out / emit_in) */
  ir_dtype dtype;
  int rank;
  int64_t dims[KL_COPY_MAX_RANK];
  int64_t dst_off, src_off;
  int64_t dst_stride[KL_COPY_MAX_RANK];
  int64_t src_stride[KL_COPY_MAX_RANK];
  const int64_t *map[KL_COPY_MAX_RANK];   /* NULL, or dims[k] source indices */
} kl_copy;

void kl_copy_init(kl_copy *c, const char *dst, const char *src, ir_dtype dt);
/* Append an axis (outermost first).  map may be NULL; it must stay valid
 * until kl_copy_emit.  -1 via ir_error past KL_COPY_MAX_RANK axes. */
int kl_copy_axis(kl_copy *c, int64_t extent, int64_t dst_stride, int64_t src_stride, const int64_t *map);
/* Append the C-order axes of dims with contiguous dst strides and the
 * given src strides (NULL: contiguous too). */
int kl_copy_dense(kl_copy *c, int rank, const int64_t *dims, const int64_t *src_stride);
int kl_copy_emit(emit_ctx *e, const kl_copy *c);

/* dst[i] = value (a C expression) for i < count. */
void kl_fill_emit(emit_ctx *e, const char *dst, int64_t count, const char *value);

/* dst[o][j][t] = src[o][idx[j] (+dim if negative)][t], indices of idx_dtype.
 * The indices must be in [-dim, dim): the generated code does not check. */
typedef struct kl_gather {
  const char *dst, *src, *idx;
  ir_dtype dtype, idx_dtype;
  int64_t outer, dim, nidx, inner;
} kl_gather;
int kl_gather_emit(emit_ctx *e, const kl_gather *g);

typedef struct kl_reduce {
  const char *dst, *src;
  ir_dtype in_dtype, out_dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  int mask[IR_MAX_RANK];          /* 1: folded */
  const char *acc_type;           /* "float", "double", "int64_t" */
  const char *init, *step, *final;
  int64_t block;                  /* a sum: kl_sum_block's blocking, 0 for none */
} kl_reduce;
int kl_reduce_emit(emit_ctx *e, const kl_reduce *r);

/* Index of the first (or with last, the last) extreme along the middle axis
 * of src viewed as [outer, dim, inner]; dst holds int64_t.  cmp is "<" for
 * ArgMin, ">" for ArgMax. */
int kl_arg_emit(emit_ctx *e, const char *dst, const char *src, ir_dtype dt,
                int64_t outer, int64_t dim, int64_t inner, const char *cmp, int last);

#endif
