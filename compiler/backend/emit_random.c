/*
 * emit_random.c - the random generator of docs/random.md as emitted C (the
 * interpreter's own implementation is runtime/kernels/interp_random.c), and
 * the bodies of the random ops.
 *
 * The generator is three static helpers written once per file
 * (mc_rng_mix, mc_rng_uniform, mc_rng_normal, each only when a node uses
 * it, so no unused-function warning).  A node's body computes its base from
 * the seed (a literal) and its step input at run time, then one flat loop
 * computes every element in double, one operation per statement so that
 * no compiler contracts a multiply-add, and stores it once.
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

static const char uniform_code[] =
    "/* u(j) in [0, 1): the top 24 bits of draw j of the stream at base */\n"
    "static double mc_rng_uniform(uint64_t base, int64_t j) {\n"
    "  return (double)(mc_rng_mix(base + (uint64_t)j * UINT64_C(0x9E3779B97F4A7C15)) >> 40) * 0x1p-24;\n"
    "}\n";

static const char normal_code[] =
    "/* Box-Muller, cosine half: element i from draws 2i and 2i+1 */\n"
    "static double mc_rng_normal(uint64_t base, int64_t i) {\n"
    "  const double u1 = (double)((mc_rng_mix(base + (uint64_t)(2 * i) * UINT64_C(0x9E3779B97F4A7C15)) >> 40) + 1) * 0x1p-24;\n"
    "  const double u2 = mc_rng_uniform(base, 2 * i + 1);\n"
    "  const double l = log(u1);\n"
    "  const double r = sqrt(-2.0 * l);\n"
    "  const double a = 6.283185307179586 * u2;\n"
    "  const double c = cos(a);\n"
    "  return r * c;\n"
    "}\n";

void emit_rng_open(emit_ctx *e, const ir_node *n, int want_normal) {
  const ir_tensor *s = ops_random_step(n);
  emit_helper(e, "mc_rng_mix", mix_code);
  emit_helper(e, "mc_rng_uniform", uniform_code);
  if (want_normal) emit_helper(e, "mc_rng_normal", normal_code);
  char step[96];
  if (s) snprintf(step, sizeof step, "(uint64_t)%s[0]", emit_in(e, ops_random_step_index(n)));
  else snprintf(step, sizeof step, "0");
  emit_line(e, "const uint64_t base = mc_rng_mix(mc_rng_mix(UINT64_C(0x%016llx)) + %s);",
            (unsigned long long)ops_random_seed(n), step);
}

/* Outputs the loops below can store (validated; float16 would need conversions). */
static int need_store_dtype(const ir_node *n) {
  ir_dtype dt = n->out[0]->dtype;
  if (dt == IR_F16 || dt == IR_BF16 || dt == IR_STRING || dt == IR_UNDEF)
    return op_fail(n, "the C backend: output dtype %s is not supported", ir_dtype_name(dt));
  return 0;
}

/* y = a + u*b (uniform: a = low, b = high - low) or a + b*z (normal: a = mean, b = scale). */
static int emit_affine(emit_ctx *e, const ir_node *n, int normal) {
  char a[64], b[64];
  double lo = ir_attr_float(n, normal ? "mean" : "low", 0), hi = ir_attr_float(n, normal ? "scale" : "high", 1);
  if (need_store_dtype(n) < 0) return -1;
  emit_literal(a, sizeof a, IR_F64, lo);
  emit_literal(b, sizeof b, IR_F64, normal ? hi : hi - lo);
  kl_block(e);
  emit_rng_open(e, n, normal);
  const char *i = kl_for(e, ir_numel(n->out[0]));
  emit_line(e, "const double t = %s(base, %s) * %s;", normal ? "mc_rng_normal" : "mc_rng_uniform", i, b);
  emit_line(e, "%s[%s] = (%s)(%s + t);", emit_out(e, 0), i, ir_dtype_ctype(n->out[0]->dtype), a);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_random_uniform(emit_ctx *e, const ir_node *n) { return emit_affine(e, n, 0); }
int emit_random_normal(emit_ctx *e, const ir_node *n) { return emit_affine(e, n, 1); }

int emit_random_bernoulli(emit_ctx *e, const ir_node *n) {
  if (need_store_dtype(n) < 0) return -1;
  kl_block(e);
  emit_rng_open(e, n, 0);
  const char *i = kl_for(e, ir_numel(n->out[0]));
  emit_line(e, "%s[%s] = (%s)(mc_rng_uniform(base, %s) < (double)%s[%s]);", emit_out(e, 0), i,
            ir_dtype_ctype(n->out[0]->dtype), i, emit_in(e, 0), i);
  kl_end(e);
  kl_end(e);
  return 0;
}
