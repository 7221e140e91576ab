/*
 * emit_elementwise.c - C for the elementwise group, through kl_map.
 *
 * Each emitter picks a C expression template for its op and dtype and lets
 * kl_map write the loops.  In templates "$k" is input k's loaded value and
 * "@" is the libm suffix of the op's float type ("f" for float32, nothing
 * for float64; see kl_map.h), so "exp@($0)" becomes expf(u0) or exp(u0)
 * and "1.0@" a literal of the right type.  Activations take their formula from
 * kl_act_expr, the same text a fused epilogue writes.  Float maps also
 * honour the node's own fused epilogue (kl_epilogue_from_node).
 *
 * Integer arithmetic is done in uint64_t and converted back, so that
 * overflow wraps (as numpy's does) instead of being undefined; integer
 * division by zero gives 0 rather than a trap.  Variadic Max/Min/Sum/Mean
 * are a chain of binary maps that accumulate in the output buffer.
 */
#include "emit_elementwise.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "kernels.h"
#include "kl_map.h"
#include "emit_random.h"
#include "../ops/ops_random.h"

/* ---- helpers ---------------------------------------------------------------- */

static int kl_fail(const ir_node *n) { return op_fail(n, "%s", ir_last_error()); }

/* out[0] = tmpl(in...) over all of the node's inputs; "@" for the output's type. */
static int map_node(emit_ctx *e, const ir_node *n, const char *tmpl) {
  return kl_map_node(e, n, tmpl, n->out[0]->dtype);
}

/* The activation `act` of the node itself applied to $0. */
static int map_act(emit_ctx *e, const ir_node *n, kl_act act, double alpha, double beta) {
  kl_epilogue own;
  char expr[1024];
  ir_dtype dt = kl_map_value_type(n->out[0]->dtype);
  if (dt != IR_F32 && dt != IR_F64)
    return op_fail(n, "the C backend supports this op on float types, not %s", ir_dtype_name(dt));
  memset(&own, 0, sizeof own);
  own.act = act;
  own.alpha = alpha;
  own.beta = beta;
  kl_act_expr(expr, sizeof expr, &own, dt, "$0");
  return map_node(e, n, expr);
}

static int is_uint(ir_dtype t) { return ir_dtype_is_int(t) && !ir_dtype_is_signed(t); }

/* ---- arithmetic ----------------------------------------------------------- */

static int arith(emit_ctx *e, const ir_node *n, char opch) {
  ir_dtype dt = n->out[0]->dtype;
  char expr[256];
  if (ir_dtype_is_float(dt)) {
    snprintf(expr, sizeof expr, "$0 %c $1", opch);
  } else if (opch == '/') {
    if (is_uint(dt))
      snprintf(expr, sizeof expr, "($1 == 0 ? 0 : $0 / $1)");
    else   /* -1 separately: INT_MIN / -1 overflows */
      snprintf(expr, sizeof expr, "($1 == 0 ? 0 : $1 == -1 ? (%s)(0 - (uint64_t)$0) : $0 / $1)",
               ir_dtype_ctype(dt));
  } else {
    snprintf(expr, sizeof expr, "(uint64_t)$0 %c (uint64_t)$1", opch);
  }
  return map_node(e, n, expr);
}

int emit_ew_Add(emit_ctx *e, const ir_node *n) { return arith(e, n, '+'); }
int emit_ew_Sub(emit_ctx *e, const ir_node *n) { return arith(e, n, '-'); }
int emit_ew_Mul(emit_ctx *e, const ir_node *n) { return arith(e, n, '*'); }
int emit_ew_Div(emit_ctx *e, const ir_node *n) { return arith(e, n, '/'); }

/* Integer powers exactly, by squaring, wrapping as the other integer ops
 * do (a double pow would round past 2^53, and costs a soft-double library on
 * a single-precision FPU).  A negative exponent gives what pow would after
 * truncation: 0, or +-1 for a base of +-1. */
static const char ipow_helper[] =
    "static int64_t mc_ipow(int64_t b, int64_t x) {\n"
    "  uint64_t r = 1, p = (uint64_t)b;\n"
    "  if (x < 0) return b == 1 ? 1 : b == -1 ? ((x & 1) ? -1 : 1) : 0;\n"
    "  for (; x; x >>= 1, p *= p)\n"
    "    if (x & 1) r *= p;\n"
    "  return (int64_t)r;\n"
    "}\n";

/* A float power by a constant scalar exponent that needs no pow (Silero's
 * squares cost it two libm calls a value, about 8 us): 1, 2 and -1 as
 * multiplication or division, 0.5 as a square root (with pow's +0 at -0
 * and +inf at -inf), each one rounding of the exact power as pow's double
 * result rounded to float (the interpreter's) is; 3 as two products, within
 * an ulp of it.  NULL for other exponents, and for one a training step
 * changes (is_state). */
static const char *pow_by_const(const ir_node *n) {
  const ir_tensor *x = n->in[1];
  double p;
  if ((x->role != IR_CONST && x->role != IR_PARAM) || !x->data || x->is_state || ir_numel(x) != 1) return NULL;
  p = ir_const_f64(x, 0);
  if (p == 1) return "$0";
  if (p == 2) return "$0 * $0";
  if (p == 3) return "$0 * $0 * $0";
  if (p == -1) return "1.0@ / $0";
  if (p == 0.5) return "($0 == -INFINITY ? INFINITY : sqrt@($0 + 0.0@))";
  return NULL;
}

int emit_ew_Pow(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = n->out[0]->dtype;
  if (ir_dtype_is_float(dt)) {
    char expr[64];
    const char *small = pow_by_const(n);
    if (small) return map_node(e, n, small);
    snprintf(expr, sizeof expr, "pow@($0, (%s)$1)", ir_dtype_ctype(kl_map_value_type(dt)));
    return map_node(e, n, expr);
  }
  ir_dtype et = n->in[1]->dtype;
  if (ir_dtype_is_float(et)) {   /* an integer base to a float power: in the exponent's type */
    char expr[64];
    snprintf(expr, sizeof expr, "pow@((%s)$0, $1)", ir_dtype_ctype(kl_map_value_type(et)));
    return kl_map_node(e, n, expr, et);
  }
  emit_helper(e, "mc_ipow", ipow_helper);
  return map_node(e, n, "mc_ipow((int64_t)$0, (int64_t)$1)");
}

/* Max/Min/Sum/Mean: y = x0 op x1, then y = y op xk for k >= 2. */
static int variadic(emit_ctx *e, const ir_node *n, const char *ftmpl, const char *itmpl, int mean) {
  ir_dtype dt = n->out[0]->dtype;
  const char *tmpl = ir_dtype_is_float(dt) ? ftmpl : itmpl;
  char last[512], expr[512], nl[64];
  if (n->n_in == 1) return map_node(e, n, "$0");
  for (int k = 1; k < n->n_in; k++) {
    kl_map m;
    kl_map_init(e, n, 0, &m);
    if (k == 1) kl_map_add_input(&m, emit_in(e, 0), n->in[0]);
    else kl_map_add_input(&m, m.out, n->out[0]);     /* accumulate in y */
    kl_map_add_input(&m, emit_in(e, k), n->in[k]);
    const char *t = tmpl;
    if (k == n->n_in - 1) {
      if (mean) {
        snprintf(last, sizeof last, "(%s) / %s", tmpl, kl_map_literal(nl, sizeof nl, dt, (double)n->n_in));
        t = last;
      }
      if (ir_dtype_is_float(dt) && kl_epilogue_from_node(e, n, &m.ep) < 0) return -1;
    }
    m.expr = kl_map_expand(expr, sizeof expr, t, dt);
    if (kl_map_emit(e, &m) < 0) return kl_fail(n);
  }
  return 0;
}

/* NaN wins, as numpy's maximum/minimum. */
int emit_ew_Max(emit_ctx *e, const ir_node *n) {
  return variadic(e, n, "(($0 > $1 || $0 != $0) ? $0 : $1)", "($0 > $1 ? $0 : $1)", 0);
}
int emit_ew_Min(emit_ctx *e, const ir_node *n) {
  return variadic(e, n, "(($0 < $1 || $0 != $0) ? $0 : $1)", "($0 < $1 ? $0 : $1)", 0);
}
int emit_ew_Sum(emit_ctx *e, const ir_node *n) { return variadic(e, n, "$0 + $1", "$0 + $1", 0); }
int emit_ew_Mean(emit_ctx *e, const ir_node *n) { return variadic(e, n, "$0 + $1", "$0 + $1", 1); }

/* ---- activations ---------------------------------------------------------- */

int emit_ew_Relu(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = n->out[0]->dtype;
  if (is_uint(dt)) return map_node(e, n, "$0");
  if (ir_dtype_is_int(dt)) return map_node(e, n, "($0 < 0 ? 0 : $0)");
  return map_act(e, n, OP_ACT_RELU, 0, 0);
}
int emit_ew_LeakyRelu(emit_ctx *e, const ir_node *n) {
  return map_act(e, n, OP_ACT_LEAKY_RELU, ir_attr_float(n, "alpha", 0.01), 0);
}
int emit_ew_Sigmoid(emit_ctx *e, const ir_node *n) { return map_act(e, n, OP_ACT_SIGMOID, 0, 0); }
int emit_ew_Tanh(emit_ctx *e, const ir_node *n) { return map_act(e, n, OP_ACT_TANH, 0, 0); }
int emit_ew_HardSigmoid(emit_ctx *e, const ir_node *n) {
  return map_act(e, n, OP_ACT_HARD_SIGMOID, ir_attr_float(n, "alpha", 0.2), ir_attr_float(n, "beta", 0.5));
}
int emit_ew_HardSwish(emit_ctx *e, const ir_node *n) {
  return map_act(e, n, OP_ACT_HARD_SWISH, 1.0 / 6.0, 0.5);
}

int emit_ew_Elu(emit_ctx *e, const ir_node *n) {
  char a[64], expr[512];
  kl_map_literal(a, sizeof a, n->out[0]->dtype, ir_attr_float(n, "alpha", 1.0));
  snprintf(expr, sizeof expr, "($0 < 0.0@ ? %s * (exp@($0) - 1.0@) : $0)", a);
  return map_node(e, n, expr);
}

int emit_ew_Selu(emit_ctx *e, const ir_node *n) {
  char a[64], g[64], expr[512];
  ir_dtype dt = n->out[0]->dtype;
  kl_map_literal(a, sizeof a, dt, ir_attr_float(n, "alpha", 1.67326319217681884765625));
  kl_map_literal(g, sizeof g, dt, ir_attr_float(n, "gamma", 1.05070102214813232421875));
  snprintf(expr, sizeof expr, "($0 <= 0.0@ ? %s * (%s * exp@($0) - %s) : %s * $0)", g, a, a, g);
  return map_node(e, n, expr);
}

/* log(1 + e^x) without overflow for large x. */
int emit_ew_Softplus(emit_ctx *e, const ir_node *n) {
  return map_node(e, n, "($0 > 0.0@ ? $0 + log1p@(exp@(-$0)) : log1p@(exp@($0)))");
}
int emit_ew_Softsign(emit_ctx *e, const ir_node *n) {
  return map_node(e, n, "($0 / (1.0@ + fabs@($0)))");
}

/* Bounds are optional scalar inputs, constant or not; missing means none.
 * min > max gives max, as ONNX specifies. */
int emit_ew_Clip(emit_ctx *e, const ir_node *n) {
  kl_map m;
  ir_dtype dt = n->out[0]->dtype;
  const ir_tensor *lo = n->n_in > 1 ? n->in[1] : NULL, *hi = n->n_in > 2 ? n->in[2] : NULL;
  kl_map_init(e, n, 0, &m);
  kl_map_add_input(&m, emit_in(e, 0), n->in[0]);
  if (lo) kl_map_add_input(&m, emit_in(e, 1), lo);
  if (hi) kl_map_add_input(&m, emit_in(e, 2), hi);
  /* Scalar bounds of rank 1 against a rank-0 input: read them as rank 0. */
  for (int k = 1; k < m.n_in; k++)
    if (m.in[k].rank > m.rank) m.in[k].rank = 0;
  if (lo && hi) m.expr = "($0 < $1 ? ($1 > $2 ? $2 : $1) : ($0 > $2 ? $2 : $0))";
  else if (lo) m.expr = "($0 < $1 ? $1 : $0)";
  else if (hi) m.expr = "($0 > $1 ? $1 : $0)";
  else m.expr = "$0";
  if (ir_dtype_is_float(dt) && kl_epilogue_from_node(e, n, &m.ep) < 0) return -1;
  return kl_map_emit(e, &m) < 0 ? kl_fail(n) : 0;
}

/* ---- unary math ----------------------------------------------------------- */

#define FLOAT_MAP(name, tmpl) \
  int emit_ew_##name(emit_ctx *e, const ir_node *n) { return map_node(e, n, tmpl); }
FLOAT_MAP(Sqrt, "sqrt@($0)")
FLOAT_MAP(Exp, "exp@($0)")
FLOAT_MAP(Log, "log@($0)")
FLOAT_MAP(Erf, "erf@($0)")
FLOAT_MAP(Reciprocal, "(1.0@ / $0)")
FLOAT_MAP(Floor, "floor@($0)")
FLOAT_MAP(Ceil, "ceil@($0)")
FLOAT_MAP(Sin, "sin@($0)")
FLOAT_MAP(Cos, "cos@($0)")
FLOAT_MAP(Tan, "tan@($0)")
FLOAT_MAP(Asin, "asin@($0)")
FLOAT_MAP(Acos, "acos@($0)")
FLOAT_MAP(Atan, "atan@($0)")
FLOAT_MAP(Sinh, "sinh@($0)")
FLOAT_MAP(Cosh, "cosh@($0)")
FLOAT_MAP(Asinh, "asinh@($0)")
FLOAT_MAP(Acosh, "acosh@($0)")
FLOAT_MAP(Atanh, "atanh@($0)")
FLOAT_MAP(Round, "nearbyint@($0)")               /* half to even, as ONNX */
FLOAT_MAP(Sign, "($0 > 0 ? 1.0@ : $0 < 0 ? -1.0@ : $0)")
#undef FLOAT_MAP

int emit_ew_Abs(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = n->out[0]->dtype;
  char expr[128];
  if (ir_dtype_is_float(dt)) return map_node(e, n, "fabs@($0)");
  if (is_uint(dt)) return map_node(e, n, "$0");
  snprintf(expr, sizeof expr, "($0 < 0 ? (%s)(0 - (uint64_t)$0) : $0)", ir_dtype_ctype(dt));
  return map_node(e, n, expr);
}

int emit_ew_Neg(emit_ctx *e, const ir_node *n) {
  if (ir_dtype_is_float(n->out[0]->dtype)) return map_node(e, n, "-$0");
  return map_node(e, n, "0 - (uint64_t)$0");
}

/* ---- copies and casts ----------------------------------------------------- */

int emit_ew_Identity(emit_ctx *e, const ir_node *n) {
  int64_t nb = ir_nbytes(n->out[0]);
  const char *x = emit_in(e, 0), *y = emit_out(e, 0);
  if (nb > 0)   /* the planner may have put y on x */
    emit_line(e, "if ((const void *)%s != (const void *)%s) memcpy(%s, %s, %lld);", y, x, y, x,
              (long long)nb);
  return 0;
}

/* Inference (or ratio 0): a copy, mask all true.  Training: the mask of
 * docs/random.md (emit_random.c), kept elements scaled by 1/(1 - ratio). */
int emit_ew_Dropout(emit_ctx *e, const ir_node *n) {
  double ratio;
  if (ops_dropout_trains(n, &ratio)) return emit_rng_dropout(e, n, ratio);
  if (emit_ew_Identity(e, n) < 0) return -1;
  if (n->n_out > 1 && n->out[1]) {
    int64_t cnt = ir_numel(n->out[1]);
    if (cnt > 0) emit_line(e, "memset(%s, 1, %lld);", emit_out(e, 1), (long long)cnt);  /* keep all */
  }
  return 0;
}

int emit_ew_Cast(emit_ctx *e, const ir_node *n) {
  ir_dtype from = n->in[0]->dtype, to = n->out[0]->dtype;
  kl_map m;
  kl_map_init(e, n, 0, &m);
  kl_map_add_input(&m, emit_in(e, 0), n->in[0]);   /* CastLike's input 1 only gives the type */
  if (to == IR_BF16 && n->opset < 19) {
    /* Before opset 19 Cast to bfloat16 truncated (the ONNX reference of that
     * era and its test data, test_cast_FLOAT_to_BFLOAT16); 19+ rounds to
     * nearest even like ONNX Runtime and PyTorch.  The map stores the bits
     * as uint16 itself, bypassing the layer's rounding store. */
    emit_helper(e, "mc_f32_to_bf16_trunc",
                "static uint16_t mc_f32_to_bf16_trunc(float f) {\n"
                "  uint32_t b;\n"
                "  memcpy(&b, &f, 4);\n"
                "  if ((b & 0x7fffffff) > 0x7f800000) return (uint16_t)((b >> 16) | 0x40);\n"
                "  return (uint16_t)(b >> 16);\n"
                "}\n");
    m.out_dtype = IR_U16;
    m.expr = "mc_f32_to_bf16_trunc((float)$0)";
  } else if (from == IR_F64 && (to == IR_F16 || to == IR_BF16)) {
    /* round to odd into float first, so the float -> half store does not round twice */
    emit_helper(e, "mc_f64_to_f32_odd",
                "static float mc_f64_to_f32_odd(double d) {\n"
                "  float f = (float)d;\n"
                "  uint32_t b;\n"
                "  if (d != d || (double)f == d) return f;\n"
                "  if (fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f);\n"
                "  memcpy(&b, &f, 4);\n"
                "  b |= 1;\n"
                "  memcpy(&f, &b, 4);\n"
                "  return f;\n"
                "}\n");
    m.expr = "mc_f64_to_f32_odd($0)";
  } else if (to == IR_BOOL)
    m.expr = "$0 != 0";
  else if (ir_dtype_is_float(from) && ir_dtype_is_int(to) && to != IR_I64 && to != IR_U64)
    m.expr = "(int64_t)$0";   /* C truncates toward zero; the narrowing then wraps, not UB */
  else
    m.expr = "$0";
  return kl_map_emit(e, &m) < 0 ? kl_fail(n) : 0;
}

int emit_ew_CastLike(emit_ctx *e, const ir_node *n) { return emit_ew_Cast(e, n); }

/* y = x < 0 ? slope * x : x, slope broadcast to x. */
int emit_ew_PRelu(emit_ctx *e, const ir_node *n) {
  if (ir_dtype_is_float(n->out[0]->dtype)) return map_node(e, n, "($0 < 0.0@ ? $1 * $0 : $0)");
  return map_node(e, n, "($0 < 0 ? (uint64_t)$1 * (uint64_t)$0 : (uint64_t)$0)");
}

/* ---- comparisons and logic ------------------------------------------------ */

#define BOOL_MAP(name, tmpl) \
  int emit_ew_##name(emit_ctx *e, const ir_node *n) { return map_node(e, n, tmpl); }
BOOL_MAP(Equal, "$0 == $1")
BOOL_MAP(Less, "$0 < $1")
BOOL_MAP(Greater, "$0 > $1")
BOOL_MAP(LessOrEqual, "$0 <= $1")
BOOL_MAP(GreaterOrEqual, "$0 >= $1")
BOOL_MAP(Not, "!$0")
BOOL_MAP(And, "$0 && $1")
BOOL_MAP(Or, "$0 || $1")
BOOL_MAP(Xor, "!$0 != !$1")
BOOL_MAP(Where, "$0 ? $1 : $2")
#undef BOOL_MAP

/* ---- Softmax / LogSoftmax ------------------------------------------------- */

/* The tensor as [outer, len, inner] normalized along len (opset < 13: the
 * whole trailing block from axis, inner = 1).  Three passes per row: max,
 * sum of exp(x - max) (a blocked sum in the row's own type, kernels.h), then
 * the normalization. */
static int softmax(emit_ctx *e, const ir_node *n, int logsm) {
  const ir_tensor *x = n->in[0];
  ir_dtype dt = n->out[0]->dtype;
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(dt);
  const char *f = dt == IR_F32 ? "f" : "";
  int axis;
  if (dt != IR_F32 && dt != IR_F64)
    return op_fail(n, "the C backend supports this op on float32 and float64, not %s", ir_dtype_name(dt));
  if (op_axis(n, ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), x->rank, &axis) < 0) return -1;
  int64_t outer = 1, len = 1, inner = 1;
  for (int a = 0; a < x->rank; a++) {
    if (a < axis) outer *= x->shape[a];
    else if (a == axis || n->opset < 13) len *= x->shape[a];
    else inner *= x->shape[a];
  }
  if (outer * len * inner == 0) return 0;
  char base[128], at[192];
  kl_block(e);
  const char *o = kl_for(e, outer);
  const char *j = inner > 1 ? kl_for(e, inner) : NULL;
  if (j) snprintf(base, sizeof base, "%s * %lld + %s", o, (long long)(len * inner), j);
  else snprintf(base, sizeof base, "%s * %lld", o, (long long)len);
  emit_line(e, "const %s *restrict xr = %s + %s;", T, X, base);
  emit_line(e, "%s *restrict yr = %s + %s;", T, Y, base);
  emit_line(e, "%s m = xr[0];", T);
  int64_t blk = kl_sum_block(dt, len);
  kl_sum_decl(e, T, "s", "0", blk);
  const char *k = kl_for(e, len);
  if (inner > 1) snprintf(at, sizeof at, "[%s * %lld]", k, (long long)inner);
  else snprintf(at, sizeof at, "[%s]", k);
  emit_line(e, "if (xr%s > m || xr%s != xr%s) m = xr%s;", at, at, at, at);  /* NaN wins */
  kl_end(e);
  k = kl_for(e, len);
  if (inner > 1) snprintf(at, sizeof at, "[%s * %lld]", k, (long long)inner);
  else snprintf(at, sizeof at, "[%s]", k);
  if (logsm) {
    emit_line(e, "s += exp%s(xr%s - m);", f, at);
  } else {
    emit_line(e, "yr%s = exp%s(xr%s - m);", at, f, at);
    emit_line(e, "s += yr%s;", at);
  }
  kl_sum_step(e, "s", blk);
  kl_end(e);
  kl_sum_done(e, "s", blk);
  if (logsm) emit_line(e, "const %s ls = log%s(s);", T, f);
  else emit_line(e, "const %s r = s;", T);
  k = kl_for(e, len);
  if (inner > 1) snprintf(at, sizeof at, "[%s * %lld]", k, (long long)inner);
  else snprintf(at, sizeof at, "[%s]", k);
  if (logsm) emit_line(e, "yr%s = xr%s - m - ls;", at, at);
  else emit_line(e, "yr%s = yr%s / r;", at, at);
  kl_end(e);
  if (j) kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_ew_Softmax(emit_ctx *e, const ir_node *n) { return softmax(e, n, 0); }
int emit_ew_LogSoftmax(emit_ctx *e, const ir_node *n) { return softmax(e, n, 1); }
