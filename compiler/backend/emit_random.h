/*
 * emit_random.h - the C backend's side of the random generator of
 * docs/random.md: the emitters of the random ops (compiler/ops/ops_random.c)
 * and, for Dropout's training mode (emit_elementwise.c), the opening of a
 * node's stream.
 */
#ifndef MODELC_EMIT_RANDOM_H
#define MODELC_EMIT_RANDOM_H

#include "emit.h"

/* Write the generator's helpers for float type dt (once per file), open a
 * block and, inside it, `const uint64_t base = ...;` for node n; then a
 * loop may call mc_rng_uniform_T(base, j) (and mc_rng_normal_T(base, i)
 * when want_normal), T being float or double.  The caller closes the block
 * (kl_end).  -1 for a dtype other than float32/float64. */
int emit_rng_open(emit_ctx *e, const ir_node *n, ir_dtype dt, int want_normal);
/* The body of a training Dropout with this ratio (emit_elementwise.c). */
int emit_rng_dropout(emit_ctx *e, const ir_node *n, double ratio);

int emit_random_uniform(emit_ctx *e, const ir_node *n);
int emit_random_normal(emit_ctx *e, const ir_node *n);
int emit_random_bernoulli(emit_ctx *e, const ir_node *n);

#endif
