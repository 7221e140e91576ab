/*
 * emit_random.c - the random generator of docs/random.md as emitted C (the
 * interpreter's own implementation is runtime/kernels/interp_random.c), and
 * the bodies of the random ops.
 *
 * The generator is static helpers written once per file, each only when a
 * node uses it (no unused-function warning): mc_rng_mix, and per float
 * type T (float for float32, double for float64, so a float model does no
 * double arithmetic) mc_rng_uniform_T and mc_rng_normal_T.  A node's body
 * computes its base from the seed (a literal) and its step input at run
 * time, then one flat loop computes every element in T, one operation per
 * statement so that no compiler contracts a multiply-add.  Constants that
 * depend only on attributes (the uniform span, Dropout's scale) are
 * computed here in T, as the interpreter computes them, and written as
 * exact literals.
 */
#include "emit_random.h"

#include <stdio.h>

#include "../ops/op.h"
#include "../ops/ops_random.h"
#include "kernels.h"

static const char mix_code[] =
    "/* The counter-based generator of modelc's docs/random.md (SplitMix64). */\n"
    "static uint64_t mc_rng_mix(uint64_t z) {\n"
    "  z += UINT64_C(0x9E3779B97F4A7C15);\n"
    "  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);\n"
    "  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);\n"
    "  return z ^ (z >> 31);\n"
    "}\n";

/* "$T" and "@" as kl_expand_typed has them */
static const char uniform_code[] =
    "/* u(j) in [0, 1): the top 24 bits of draw j of the stream at base */\n"
    "static $T mc_rng_uniform_$T(uint64_t base, int64_t j) {\n"
    "  return ($T)(uint32_t)(mc_rng_mix(base + (uint64_t)j * UINT64_C(0x9E3779B97F4A7C15)) >> 40) * 0x1p-24@;\n"
    "}\n";

static const char normal_code[] =
    "/* Box-Muller, cosine half: element i from draws 2i and 2i+1 */\n"
    "static $T mc_rng_normal_$T(uint64_t base, int64_t i) {\n"
    "  const $T u1 = ($T)((uint32_t)(mc_rng_mix(base + (uint64_t)(2 * i) * UINT64_C(0x9E3779B97F4A7C15)) >> 40) + 1u) * "
    "0x1p-24@;\n"
    "  const $T u2 = mc_rng_uniform_$T(base, 2 * i + 1);\n"
    "  const $T l = log@(u1);\n"
    "  const $T r = sqrt@(-2.0@ * l);\n"
    "  const $T a = 0x1.921fb54442d18p+2@ * u2;\n"
    "  const $T c = cos@(a);\n"
    "  return r * c;\n"
    "}\n";

int emit_rng_open(emit_ctx *e, const ir_node *n, ir_dtype dt, int want_normal) {
  const ir_tensor *s = ops_random_step(n);
  char step[96];
  if (dt != IR_F32 && dt != IR_F64)
    return op_fail(n, "the C backend draws float32 or float64 numbers, not %s", ir_dtype_name(dt));
  emit_helper(e, "mc_rng_mix", mix_code);
  if (kl_helper_typed(e, "mc_rng_uniform", uniform_code, dt) < 0) return -1;
  if (want_normal && kl_helper_typed(e, "mc_rng_normal", normal_code, dt) < 0) return -1;
  if (s) snprintf(step, sizeof step, "(uint64_t)%s[0]", emit_in(e, ops_random_step_index(n)));
  else snprintf(step, sizeof step, "0");
  kl_block(e);
  emit_line(e, "const uint64_t base = mc_rng_mix(mc_rng_mix(UINT64_C(0x%016llx)) + %s);",
            (unsigned long long)ops_random_seed(n), step);
  return 0;
}

/* y = a + u*b (uniform: a = low, b = high - low) or a + b*z (normal: a =
 * mean, b = scale), in the output's float type. */
static int emit_affine(emit_ctx *e, const ir_node *n, int normal) {
  ir_dtype dt = n->out[0]->dtype;
  double a = ir_attr_float(n, normal ? "mean" : "low", 0), b = ir_attr_float(n, normal ? "scale" : "high", 1);
  char al[64], bl[64];
  if (emit_rng_open(e, n, dt, normal) < 0) return -1;
  emit_literal(al, sizeof al, dt, a);
  if (normal) emit_literal(bl, sizeof bl, dt, b);
  else if (dt == IR_F64) emit_literal(bl, sizeof bl, dt, b - a);
  else emit_literal(bl, sizeof bl, dt, (double)((float)b - (float)a));   /* the span in float, as the interpreter */
  const char *i = kl_for(e, ir_numel(n->out[0]));
  if (normal) kl_line(e, dt, "const $T t = %s * mc_rng_normal_$T(base, %s);", bl, i);
  else kl_line(e, dt, "const $T t = mc_rng_uniform_$T(base, %s) * %s;", i, bl);
  emit_line(e, "%s[%s] = %s + t;", emit_out(e, 0), i, al);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_random_uniform(emit_ctx *e, const ir_node *n) { return emit_affine(e, n, 0); }
int emit_random_normal(emit_ctx *e, const ir_node *n) { return emit_affine(e, n, 1); }

/* u < p in the probabilities' type, stored as the output dtype. */
int emit_random_bernoulli(emit_ctx *e, const ir_node *n) {
  ir_dtype pt = n->in[0]->dtype, yt = n->out[0]->dtype;
  if (yt == IR_F16 || yt == IR_BF16) return op_fail(n, "the C backend: output dtype %s is not supported", ir_dtype_name(yt));
  if (emit_rng_open(e, n, pt, 0) < 0) return -1;
  const char *i = kl_for(e, ir_numel(n->out[0]));
  kl_line(e, pt, "%s[%s] = (%s)(mc_rng_uniform_$T(base, %s) < %s[%s]);", emit_out(e, 0), i, ir_dtype_ctype(yt), i,
          emit_in(e, 0), i);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_rng_dropout(emit_ctx *e, const ir_node *n, double ratio) {
  ir_dtype dt = n->in[0]->dtype;
  char r[64], sc[64];
  if (emit_rng_open(e, n, dt, 0) < 0) return -1;
  if (dt == IR_F64) {
    emit_literal(r, sizeof r, dt, ratio);
    emit_literal(sc, sizeof sc, dt, 1.0 / (1.0 - ratio));
  } else {   /* in float, as the interpreter */
    float rf = (float)ratio, sf = 1.0f / (1.0f - rf);
    emit_literal(r, sizeof r, dt, rf);
    emit_literal(sc, sizeof sc, dt, sf);
  }
  const char *i = kl_for(e, ir_numel(n->out[0]));
  kl_line(e, dt, "const int keep = mc_rng_uniform_$T(base, %s) >= %s;", i, r);
  kl_line(e, dt, "%s[%s] = keep ? %s[%s] * %s : 0.0@;", emit_out(e, 0), i, emit_in(e, 0), i, sc);
  if (n->n_out > 1 && n->out[1]) emit_line(e, "%s[%s] = (uint8_t)keep;", emit_out(e, 1), i);
  kl_end(e);
  kl_end(e);
  return 0;
}
