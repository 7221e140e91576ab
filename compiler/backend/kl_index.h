/*
 * kl_index.h - kernel layer for data-dependent indexing: element gathers
 * and scatters along one axis, N-d tuple gathers and scatters, and the
 * NLL / softmax-cross-entropy loss loops.
 *
 * Indices are read at run time from a buffer of idx_dtype (int32/int64);
 * a negative index counts from the end of its axis.  The emitted code does
 * not check ranges: every index must lie in [-dim, dim) and every loss
 * target in [0, C) or equal ignore_index.  Each writer states that
 * precondition in a comment above its loops.  Bounds are literals and
 * indices int64_t, as in kl_copy.h.
 */
#ifndef MODELC_KL_INDEX_H
#define MODELC_KL_INDEX_H

#include "kernels.h"

typedef enum kl_red { KL_RED_NONE = 0, KL_RED_ADD, KL_RED_MUL, KL_RED_MAX, KL_RED_MIN } kl_red;

/* The operands of every gather and scatter: a scatter's dst already holds
 * the data and takes src's values (combined by red); a gather's has the
 * layout its op gives. */
typedef struct kl_gather_io {
  const char *dst, *src, *idx;
  ir_dtype dtype, idx_dtype;
  int scatter;
  kl_red red;
} kl_gather_io;

/* i walks the indices' shape in C order; pos(i) is i's coordinates read
 * in data's shape with the axis coordinate replaced by idx[i].
 *   gather  (scatter 0): dst[i] = src[pos(i)]        (dst: indices layout)
 *   scatter (scatter 1): dst[pos(i)] (red)= src[i]    (dst: data layout, already holding data) */
typedef struct kl_elements {
  kl_gather_io io;
  int rank, axis;
  int64_t data_dims[IR_MAX_RANK];
  int64_t idx_dims[IR_MAX_RANK];
} kl_elements;
int kl_elements_emit(emit_ctx *e, const kl_elements *k);

/* Tuples of k indices (the last axis of idx) address data axes [b, b+k)
 * of extents dims[]; each selects `slice` contiguous elements.
 *   gather:  dst[(bi*tuples + t)*slice + s] = src[bi*block + off(bi, t)*slice + s]
 *   scatter: dst[off(t)*slice + s] (red)= src[t*slice + s]   (batches 1) */
typedef struct kl_nd {
  kl_gather_io io;
  int64_t batches, tuples, k, slice, block;
  int64_t dims[IR_MAX_RANK];
} kl_nd;
int kl_nd_emit(emit_ctx *e, const kl_nd *k);

/* Negative log-likelihood over x viewed as (n, c, d) with targets (n, d):
 * loss = -x[i, t, j] * weight[t] (weight NULL: 1), 0 with weight 0 where
 * t == ignore_index (has_ii).  With softmax, x holds scores and
 * log_softmax over c is taken first, written to logp when that is not
 * NULL.  reduction: 0 none (dst has n*d elements), 1 sum, 2 mean (over
 * the summed weights); sums are kept in double. */
typedef struct kl_nll {
  const char *dst, *logp, *x, *target, *weight;
  ir_dtype dtype, target_dtype;
  int64_t n, c, d;
  int has_ii;
  int64_t ii;
  int reduction;
  int softmax;
} kl_nll;
int kl_nll_emit(emit_ctx *e, const kl_nll *k);
/* Its gradient with respect to x, given the loss's gradient in k->x (n*d
 * elements for reduction none, else one): dst (x's layout) is 0 except
 * dst[i, t, j] = -dL * weight[t] (divided by the summed weights for mean)
 * where t is not ignore_index.  logp and softmax are unused. */
int kl_nll_grad_emit(emit_ctx *e, const kl_nll *k);

#endif
