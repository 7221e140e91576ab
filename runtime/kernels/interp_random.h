/*
 * interp_random.h - the interpreter's side of the random generator of
 * docs/random.md, and the reference kernels of the random ops
 * (compiler/ops/ops_random.c).  Dropout's training mode
 * (interp_elementwise.c) draws its mask through interp_rng_base and
 * interp_rng_dropout.
 */
#ifndef MODELC_INTERP_RANDOM_H
#define MODELC_INTERP_RANDOM_H

#include "../interp.h"

/* base = mix(mix(seed) + step) of node n, the step read from its step input in in[] (0 when absent). */
uint64_t interp_rng_base(const ir_node *n, const void *const *in);
/* Training Dropout of cnt elements of x (float32 or float64 dt): y, and
 * the mask (dtype mask_dt) unless mask is NULL. */
void interp_rng_dropout(uint64_t base, ir_dtype dt, double ratio, int64_t cnt, const void *x, void *y,
                        ir_dtype mask_dt, void *mask);

int interp_random_uniform(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_random_normal(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
int interp_random_bernoulli(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);

#endif
