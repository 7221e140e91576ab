/*
 * interp_random.c - the random generator of docs/random.md, the
 * interpreter's implementation (the C backend has its own in
 * compiler/backend/emit_random.c; tests/unit/test_random.c checks that the
 * two agree bit for bit), and the kernels of the random ops.
 *
 * Every element is computed in double, one operation per statement (so no
 * compiler contracts a multiply-add into an fma, which the emitted C does
 * not do either), then stored once in the output dtype.
 */
#include "interp_random.h"
#include "kutil.h"
#include "../../compiler/ops/ops_random.h"

#include <math.h>

#define GOLDEN 0x9E3779B97F4A7C15u

static uint64_t mix(uint64_t z) {
  z += GOLDEN;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

uint64_t interp_rng_base(const ir_node *n, const void *const *in) {
  const ir_tensor *s = ops_random_step(n);
  uint64_t step = s ? (uint64_t)kload_i(s->dtype, in[ops_random_step_index(n)], 0) : 0;
  return mix(mix(ops_random_seed(n)) + step);
}

static uint64_t draw(uint64_t base, int64_t j) { return mix(base + (uint64_t)j * GOLDEN); }

double interp_rng_uniform(uint64_t base, int64_t j) { return (double)(draw(base, j) >> 40) * 0x1p-24; }

double interp_rng_normal(uint64_t base, int64_t i) {
  double u1 = (double)((draw(base, 2 * i) >> 40) + 1) * 0x1p-24;   /* (0, 1]: log is finite */
  double u2 = interp_rng_uniform(base, 2 * i + 1);
  double l = log(u1);
  double r = sqrt(-2.0 * l);
  double a = 6.283185307179586 * u2;
  double c = cos(a);
  return r * c;
}

int interp_random_uniform(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  uint64_t base = interp_rng_base(n, in);
  double lo = ir_attr_float(n, "low", 0), span = ir_attr_float(n, "high", 1) - lo;
  (void)c;
  for (int64_t i = 0; i < ir_numel(n->out[0]); i++) {
    double t = interp_rng_uniform(base, i) * span;
    kstore_f(n->out[0]->dtype, out[0], i, lo + t);
  }
  return 0;
}

int interp_random_normal(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  uint64_t base = interp_rng_base(n, in);
  double mean = ir_attr_float(n, "mean", 0), scale = ir_attr_float(n, "scale", 1);
  (void)c;
  for (int64_t i = 0; i < ir_numel(n->out[0]); i++) {
    double t = scale * interp_rng_normal(base, i);
    kstore_f(n->out[0]->dtype, out[0], i, mean + t);
  }
  return 0;
}

int interp_random_bernoulli(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  uint64_t base = interp_rng_base(n, in);
  (void)c;
  for (int64_t i = 0; i < ir_numel(n->out[0]); i++)
    kstore_i(n->out[0]->dtype, out[0], i, interp_rng_uniform(base, i) < kload_f(n->in[0]->dtype, in[0], i));
  return 0;
}
