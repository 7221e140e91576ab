/*
 * interp_random.c - the random generator of docs/random.md, the
 * interpreter's implementation (the C backend has its own in
 * compiler/backend/emit_random.c; tests/unit/test_random.c checks that the
 * two agree bit for bit), and the kernels of the random ops.
 *
 * Elements are computed in the float type of the output (float for
 * float32, double for float64: a float model draws without double
 * arithmetic, which a Cortex-M4F would emulate), one operation per
 * statement so that no compiler contracts a multiply-add into an fma
 * (the emitted C does not either).  RNG_FUNCS writes the float and the
 * double version of the same formulas.
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

/* The top 24 bits of draw j of the stream at base. */
static uint32_t bits24(uint64_t base, int64_t j) { return (uint32_t)(mix(base + (uint64_t)j * GOLDEN) >> 40); }

#define RNG_FUNCS(T, SUF, LOG, SQRT, COS)                                   \
  static T uniform_##SUF(uint64_t base, int64_t j) { return (T)bits24(base, j) * (T)0x1p-24; } \
  static T normal_##SUF(uint64_t base, int64_t i) {                         \
    T u1 = (T)(bits24(base, 2 * i) + 1u) * (T)0x1p-24; /* (0, 1]: finite log */ \
    T u2 = uniform_##SUF(base, 2 * i + 1);                                  \
    T l = LOG(u1);                                                          \
    T r = SQRT((T)-2.0 * l);                                                \
    T a = (T)0x1.921fb54442d18p+2 * u2; /* 2 pi */                          \
    T c = COS(a);                                                           \
    return r * c;                                                           \
  }
RNG_FUNCS(float, f, logf, sqrtf, cosf)
RNG_FUNCS(double, d, log, sqrt, cos)

/* Dropout of x (dtype dt) with ratio: y and the mask of docs/random.md. */
void interp_rng_dropout(uint64_t base, ir_dtype dt, double ratio, int64_t cnt, const void *x, void *y,
                        ir_dtype mask_dt, void *mask) {
  float rf = (float)ratio, sf = 1.0f / (1.0f - rf);
  double sd = 1.0 / (1.0 - ratio);
  for (int64_t i = 0; i < cnt; i++) {
    int keep;
    if (dt == IR_F64) {
      keep = uniform_d(base, i) >= ratio;
      ((double *)y)[i] = keep ? ((const double *)x)[i] * sd : 0.0;
    } else {
      keep = uniform_f(base, i) >= rf;
      ((float *)y)[i] = keep ? ((const float *)x)[i] * sf : 0.0f;
    }
    if (mask) kstore_i(mask_dt, mask, i, keep);
  }
}

static int need_float(const ir_node *n, ir_dtype dt) {
  if (dt != IR_F32 && dt != IR_F64) return op_fail(n, "the interpreter draws float32 or float64, not %s", ir_dtype_name(dt));
  return 0;
}

int interp_random_uniform(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  uint64_t base = interp_rng_base(n, in);
  double lo = ir_attr_float(n, "low", 0), hi = ir_attr_float(n, "high", 1);
  ir_dtype dt = n->out[0]->dtype;
  (void)c;
  if (need_float(n, dt) < 0) return -1;
  for (int64_t i = 0; i < ir_numel(n->out[0]); i++) {
    if (dt == IR_F64) {
      double span = hi - lo, t = uniform_d(base, i) * span;
      ((double *)out[0])[i] = lo + t;
    } else {
      float span = (float)hi - (float)lo, t = uniform_f(base, i) * span;
      ((float *)out[0])[i] = (float)lo + t;
    }
  }
  return 0;
}

int interp_random_normal(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  uint64_t base = interp_rng_base(n, in);
  double mean = ir_attr_float(n, "mean", 0), scale = ir_attr_float(n, "scale", 1);
  ir_dtype dt = n->out[0]->dtype;
  (void)c;
  if (need_float(n, dt) < 0) return -1;
  for (int64_t i = 0; i < ir_numel(n->out[0]); i++) {
    if (dt == IR_F64) {
      double t = scale * normal_d(base, i);
      ((double *)out[0])[i] = mean + t;
    } else {
      float t = (float)scale * normal_f(base, i);
      ((float *)out[0])[i] = (float)mean + t;
    }
  }
  return 0;
}

/* u < p in the dtype of the probabilities (u is exact in float, so the
 * comparison is exact either way). */
int interp_random_bernoulli(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  uint64_t base = interp_rng_base(n, in);
  ir_dtype pt = n->in[0]->dtype;
  (void)c;
  if (need_float(n, pt) < 0) return -1;
  for (int64_t i = 0; i < ir_numel(n->out[0]); i++) {
    int one = pt == IR_F64 ? uniform_d(base, i) < ((const double *)in[0])[i]
                           : uniform_f(base, i) < ((const float *)in[0])[i];
    kstore_i(n->out[0]->dtype, out[0], i, one);
  }
  return 0;
}
