/*
 * emit_random.h - the C backend's side of the random generator of
 * docs/random.md: the emitters of the random ops (compiler/ops/ops_random.c)
 * and, for Dropout's training mode (emit_elementwise.c), the opening of a
 * node's stream.
 */
#ifndef MODELC_EMIT_RANDOM_H
#define MODELC_EMIT_RANDOM_H

#include "emit.h"

/* Write the generator's helpers (once per file) and, inside the node's
 * body, `const uint64_t base = ...;` for node n; then a loop may call
 * mc_rng_uniform(base, j) (and mc_rng_normal(base, i) when want_normal). */
void emit_rng_open(emit_ctx *e, const ir_node *n, int want_normal);

int emit_random_uniform(emit_ctx *e, const ir_node *n);
int emit_random_normal(emit_ctx *e, const ir_node *n);
int emit_random_bernoulli(emit_ctx *e, const ir_node *n);

#endif
