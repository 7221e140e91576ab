/*
 * dsl_init.c - seeded parameter initializers.
 *
 * The generator is splitmix64 (Steele, Lea and Flood 2014; the same one
 * `modelc run` uses for random inputs): 64-bit integer arithmetic only, so
 * every platform draws the same bits.  A uniform draw is the top 53 bits
 * times 2^-53, in [0, 1), exact in a double.  A normal draw is Box-Muller,
 * sqrt(-2 ln(1 - u1)) * cos(2 pi u2) from two uniform draws (the sine half
 * is discarded, so the k-th value always uses draws 2k and 2k+1).  Values
 * are computed in double and rounded once to float32.
 *
 * Fans follow PyTorch's torch.nn.init: for a shape [o, i, k...] with
 * receptive field r = prod(k...), fan_in = i*r and fan_out = o*r; a vector
 * has fan_in = fan_out = its length.
 */
#include "dsl_internal.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) { return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }

static double normal01(uint64_t *s) {
  double u1 = uniform01(s), u2 = uniform01(s);
  return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

uint64_t dsl_default_seed(uint64_t model_seed, const char *name) {
  uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
  uint64_t s = h ^ model_seed;
  return splitmix64(&s);
}

void dsl_init_fill(const dsl_init *in, int rank, const int64_t *shape, float *out, int64_t n) {
  double fan_in = 1, fan_out = 1;
  if (rank == 1) fan_in = fan_out = (double)shape[0];
  else if (rank >= 2) {
    double r = 1;
    for (int i = 2; i < rank; i++) r *= (double)shape[i];
    fan_in = (double)shape[1] * r;
    fan_out = (double)shape[0] * r;
  }
  if (fan_in < 1) fan_in = 1;
  if (fan_out < 1) fan_out = 1;
  uint64_t s = in->seed;
  double lo = 0, hi = 0, mean = 0, std = 0;
  int normal = 0;
  switch (in->kind) {
  case INIT_ZEROS: lo = hi = 0; break;
  case INIT_ONES: lo = hi = 1; break;
  case INIT_CONSTANT: lo = hi = in->a; break;
  case INIT_UNIFORM: lo = in->a, hi = in->b; break;
  case INIT_NORMAL: normal = 1, mean = in->a, std = in->b; break;
  case INIT_XAVIER_UNIFORM: hi = in->a * sqrt(6.0 / (fan_in + fan_out)), lo = -hi; break;
  case INIT_XAVIER_NORMAL: normal = 1, std = in->a * sqrt(2.0 / (fan_in + fan_out)); break;
  case INIT_KAIMING_UNIFORM: hi = in->a * sqrt(3.0 / fan_in), lo = -hi; break;
  case INIT_KAIMING_NORMAL: normal = 1, std = in->a / sqrt(fan_in); break;
  }
  for (int64_t i = 0; i < n; i++) {
    if (normal) out[i] = (float)(mean + std * normal01(&s));
    else if (lo == hi) out[i] = (float)lo;
    else out[i] = (float)(lo + (hi - lo) * uniform01(&s));
  }
}
