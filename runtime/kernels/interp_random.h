/*
 * interp_random.h - the interpreter's side of the random generator of
 * docs/random.md, and the reference kernels of the random ops
 * (compiler/ops/ops_random.c).  Dropout's training mode
 * (interp_elementwise.c) draws its mask through interp_rng_base and
 * interp_rng_uniform.
 */
#ifndef MODELC_INTERP_RANDOM_H
#define MODELC_INTERP_RANDOM_H

#include "../interp.h"

/* base = mix(mix(seed) + step) of node n, the step read from its step input in in[] (0 when absent). */
uint64_t interp_rng_base(const ir_node *n, const void *const *in);
/* u(j) in [0, 1) and the Box-Muller normal of element i (docs/random.md). */
double interp_rng_uniform(uint64_t base, int64_t j);
double interp_rng_normal(uint64_t base, int64_t i);

int interp_random_uniform(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_random_normal(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_random_bernoulli(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);

#endif
