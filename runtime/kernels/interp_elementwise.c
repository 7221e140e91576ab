/*
 * interp_elementwise.c - reference kernels of the elementwise group.
 *
 * Every op goes through one of a few drivers: nary() for broadcasting
 * arithmetic, comparisons, logic and the unary functions, clip(), where(),
 * cast(), softmax().  Values are loaded through kutil.h as double when the
 * op computes on floats, as int64 for signed integers and bool, and as
 * uint64 for IR_U64 (the only type whose order and division differ from
 * int64's).  Integer Add/Sub/Mul/Neg wrap modulo 2^64 and are then
 * narrowed, as numpy does; integer Div truncates toward zero (numpy's
 * result for the non-negative operands ONNX tests) and gives 0 for a zero
 * divisor instead of trapping.  A node carrying a fused epilogue
 * ("_act"/"_residual", see kutil.h) gets it applied to float outputs.
 */
#include "interp_elementwise.h"
#include "interp_random.h"
#include "../../compiler/ops/ops_random.h"

#include <math.h>
#include <string.h>

#include "../../compiler/ops/op.h"
#include "kutil.h"

typedef enum ew {
  EW_ADD, EW_SUB, EW_MUL, EW_DIV, EW_POW, EW_MAX, EW_MIN, EW_SUM, EW_MEAN,
  EW_RELU, EW_LEAKY_RELU, EW_SIGMOID, EW_TANH, EW_HARD_SIGMOID, EW_HARD_SWISH, EW_ELU,
  EW_SELU, EW_SOFTPLUS, EW_SOFTSIGN,
  EW_SQRT, EW_EXP, EW_LOG, EW_ERF, EW_ABS, EW_NEG, EW_RECIPROCAL, EW_FLOOR, EW_CEIL,
  EW_SIN, EW_COS, EW_TAN, EW_ASIN, EW_ACOS, EW_ATAN, EW_SINH, EW_COSH, EW_ASINH, EW_ACOSH,
  EW_ATANH, EW_SIGN, EW_ROUND, EW_PRELU,
  EW_EQUAL, EW_LESS, EW_GREATER, EW_LESS_EQ, EW_GREATER_EQ, EW_NOT, EW_AND, EW_OR, EW_XOR
} ew;

/* ---- scalar semantics ------------------------------------------------------ */

static double fmaxnan(double a, double b) { return (a != a || a > b) ? a : b; }  /* NaN wins */
static double fminnan(double a, double b) { return (a != a || a < b) ? a : b; }

static double fop(ew op, const ir_node *n, double a, double b) {
  switch (op) {
  case EW_ADD: case EW_SUM: case EW_MEAN: return a + b;
  case EW_SUB: return a - b;
  case EW_MUL: return a * b;
  case EW_DIV: return a / b;
  case EW_POW: return pow(a, b);
  case EW_MAX: return fmaxnan(a, b);
  case EW_MIN: return fminnan(a, b);
  case EW_RELU: return kact_apply(OP_ACT_RELU, 0, 0, a);
  case EW_LEAKY_RELU: return kact_apply(OP_ACT_LEAKY_RELU, ir_attr_float(n, "alpha", 0.01), 0, a);
  case EW_SIGMOID: return kact_apply(OP_ACT_SIGMOID, 0, 0, a);
  case EW_TANH: return tanh(a);
  case EW_HARD_SIGMOID:
    return kact_apply(OP_ACT_HARD_SIGMOID, ir_attr_float(n, "alpha", 0.2), ir_attr_float(n, "beta", 0.5), a);
  case EW_HARD_SWISH: return kact_apply(OP_ACT_HARD_SWISH, 1.0 / 6.0, 0.5, a);
  case EW_ELU: return a < 0 ? ir_attr_float(n, "alpha", 1.0) * (exp(a) - 1.0) : a;
  case EW_SELU: {
    double al = ir_attr_float(n, "alpha", 1.67326319217681884765625);
    double ga = ir_attr_float(n, "gamma", 1.05070102214813232421875);
    return a <= 0 ? ga * (al * exp(a) - al) : ga * a;
  }
  case EW_SOFTPLUS: return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a));  /* log(1 + e^a), no overflow */
  case EW_SOFTSIGN: return a / (1.0 + fabs(a));
  case EW_SQRT: return sqrt(a);
  case EW_EXP: return exp(a);
  case EW_LOG: return log(a);
  case EW_ERF: return erf(a);
  case EW_ABS: return fabs(a);
  case EW_NEG: return -a;
  case EW_RECIPROCAL: return 1.0 / a;
  case EW_FLOOR: return floor(a);
  case EW_CEIL: return ceil(a);
  case EW_SIN: return sin(a);
  case EW_COS: return cos(a);
  case EW_TAN: return tan(a);
  case EW_ASIN: return asin(a);
  case EW_ACOS: return acos(a);
  case EW_ATAN: return atan(a);
  case EW_SINH: return sinh(a);
  case EW_COSH: return cosh(a);
  case EW_ASINH: return asinh(a);
  case EW_ACOSH: return acosh(a);
  case EW_ATANH: return atanh(a);
  case EW_SIGN: return a > 0 ? 1.0 : a < 0 ? -1.0 : a;   /* 0 and NaN stay */
  case EW_ROUND: return nearbyint(a);                      /* half to even */
  case EW_PRELU: return a < 0 ? b * a : a;
  case EW_EQUAL: return a == b;
  case EW_LESS: return a < b;
  case EW_GREATER: return a > b;
  case EW_LESS_EQ: return a <= b;
  case EW_GREATER_EQ: return a >= b;
  case EW_NOT: return a == 0;
  case EW_AND: return a != 0 && b != 0;
  case EW_OR: return a != 0 || b != 0;
  case EW_XOR: return (a != 0) != (b != 0);
  }
  return 0;
}

static int64_t iop(ew op, int64_t a, int64_t b) {
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;     /* wrapping arithmetic */
  switch (op) {
  case EW_ADD: case EW_SUM: return (int64_t)(ua + ub);
  case EW_SUB: return (int64_t)(ua - ub);
  case EW_MUL: return (int64_t)(ua * ub);
  case EW_DIV:
    if (b == 0) return 0;
    if (b == -1) return (int64_t)(0 - ua);          /* INT64_MIN / -1 wraps */
    return a / b;                                   /* C truncates toward zero */
  case EW_MAX: return a > b ? a : b;
  case EW_MIN: return a < b ? a : b;
  case EW_RELU: return a < 0 ? 0 : a;
  case EW_ABS: return a < 0 ? (int64_t)(0 - ua) : a;
  case EW_NEG: return (int64_t)(0 - ua);
  case EW_SIGN: return (a > 0) - (a < 0);
  case EW_PRELU: return a < 0 ? (int64_t)(ub * ua) : a;
  case EW_EQUAL: return a == b;
  case EW_LESS: return a < b;
  case EW_GREATER: return a > b;
  case EW_LESS_EQ: return a <= b;
  case EW_GREATER_EQ: return a >= b;
  case EW_NOT: return a == 0;
  case EW_AND: return a && b;
  case EW_OR: return a || b;
  case EW_XOR: return !a != !b;
  default: return 0;
  }
}

static uint64_t uop(ew op, uint64_t a, uint64_t b) {
  switch (op) {
  case EW_DIV: return b ? a / b : 0;
  case EW_MAX: return a > b ? a : b;
  case EW_MIN: return a < b ? a : b;
  case EW_RELU: case EW_ABS: return a;
  case EW_LESS: return a < b;
  case EW_GREATER: return a > b;
  case EW_LESS_EQ: return a <= b;
  case EW_GREATER_EQ: return a >= b;
  default: return (uint64_t)iop(op, (int64_t)a, (int64_t)b);
  }
}

/* ---- drivers --------------------------------------------------------------- */

/* out[0] = fold(op, in[0], in[1], ...) with broadcasting; unary ops read in[0]. */
static int nary(const ir_node *n, const void *const *in, void *const *out, ew op) {
  const ir_tensor *y = n->out[0];
  ir_dtype ct = n->in[0]->dtype;          /* the type the op computes in */
  int nin = n->n_in;
  kbcast bc[16];
  kepi ep;
  if (nin > 16) return op_fail(n, "too many inputs");
  if (kepi_from_node(n, &ep) < 0) return -1;
  const ir_tensor *res = ep.residual >= 0 ? n->in[ep.residual] : NULL;
  int epi = ep.act != OP_ACT_NONE || res;
  int unary = op > EW_MEAN && nin == 1;   /* a variadic op of one input is a copy */
  if (epi && !ir_dtype_is_float(y->dtype)) return op_fail(n, "fused epilogue on a non-float output");
  for (int k = 0; k < nin; k++) kbcast_tensors(&bc[k], y, n->in[k]);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    if (ir_dtype_is_float(ct) || op == EW_POW) {
      double v = kload_f(n->in[0]->dtype, in[0], kbcast_map(&bc[0], i));
      if (unary) v = fop(op, n, v, 0);
      for (int k = 1; k < nin; k++)
        v = fop(op, n, v, kload_f(n->in[k]->dtype, in[k], kbcast_map(&bc[k], i)));
      if (op == EW_MEAN) v /= nin;
      if (epi) v = kepi_apply(&ep, v, res ? kload_f(res->dtype, in[ep.residual], i) : 0);
      kstore_f(y->dtype, out[0], i, v);
    } else if (ct == IR_U64) {
      uint64_t v = kload_u(ct, in[0], kbcast_map(&bc[0], i));
      if (unary) v = uop(op, v, 0);
      for (int k = 1; k < nin; k++) v = uop(op, v, kload_u(ct, in[k], kbcast_map(&bc[k], i)));
      kstore_u(y->dtype, out[0], i, v);
    } else {
      int64_t v = kload_i(ct, in[0], kbcast_map(&bc[0], i));
      if (unary) v = iop(op, v, 0);
      for (int k = 1; k < nin; k++) v = iop(op, v, kload_i(ct, in[k], kbcast_map(&bc[k], i)));
      kstore_i(y->dtype, out[0], i, v);
    }
  }
  return 0;
}

static int clip(const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0], *y = n->out[0];
  const ir_tensor *tlo = n->n_in > 1 ? n->in[1] : NULL, *thi = n->n_in > 2 ? n->in[2] : NULL;
  int64_t total = ir_numel(y);
  kepi ep;
  if (kepi_from_node(n, &ep) < 0) return -1;
  if (ir_dtype_is_float(x->dtype)) {
    double lo = tlo ? kload_f(tlo->dtype, in[1], 0) : -INFINITY;
    double hi = thi ? kload_f(thi->dtype, in[2], 0) : INFINITY;
    for (int64_t i = 0; i < total; i++) {
      double v = kact_apply(OP_ACT_CLIP, lo, hi, kload_f(x->dtype, in[0], i));
      v = kepi_apply(&ep, v, ep.residual >= 0 ? kload_f(n->in[ep.residual]->dtype, in[ep.residual], i) : 0);
      kstore_f(y->dtype, out[0], i, v);
    }
  } else if (x->dtype == IR_U64) {
    uint64_t lo = tlo ? kload_u(tlo->dtype, in[1], 0) : 0;
    uint64_t hi = thi ? kload_u(thi->dtype, in[2], 0) : UINT64_MAX;
    for (int64_t i = 0; i < total; i++) {
      uint64_t v = kload_u(x->dtype, in[0], i);
      v = v < lo ? lo : v;
      kstore_u(y->dtype, out[0], i, v > hi ? hi : v);
    }
  } else {
    int64_t lo = tlo ? kload_i(tlo->dtype, in[1], 0) : INT64_MIN;
    int64_t hi = thi ? kload_i(thi->dtype, in[2], 0) : INT64_MAX;
    for (int64_t i = 0; i < total; i++) {
      int64_t v = kload_i(x->dtype, in[0], i);
      v = v < lo ? lo : v;
      kstore_i(y->dtype, out[0], i, v > hi ? hi : v);
    }
  }
  return 0;
}

/* ---- Softmax / LogSoftmax -------------------------------------------------- */

/* The tensor seen as [outer, n, inner], normalized along n.  Opset < 13:
 * coerced to 2-D at axis, so n is the whole trailing block and inner is 1;
 * opset >= 13: n is the single axis. */
static int softmax(const ir_node *n, const void *const *in, void *const *out, int logsm) {
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int axis;
  if (op_axis(n, ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), x->rank, &axis) < 0) return -1;
  int64_t outer = 1, len = 1, inner = 1;
  for (int a = 0; a < x->rank; a++) {
    if (a < axis) outer *= x->shape[a];
    else if (a == axis || n->opset < 13) len *= x->shape[a];
    else inner *= x->shape[a];
  }
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * len * inner + j;
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < len; k++) m = fmaxnan(m, kload_f(x->dtype, in[0], base + k * inner));
      for (int64_t k = 0; k < len; k++) s += exp(kload_f(x->dtype, in[0], base + k * inner) - m);
      for (int64_t k = 0; k < len; k++) {
        double d = kload_f(x->dtype, in[0], base + k * inner) - m;
        kstore_f(y->dtype, out[0], base + k * inner, logsm ? d - log(s) : exp(d) / s);
      }
    }
  return 0;
}

/* ---- the entries ----------------------------------------------------------- */

#define NARY(name, code) \
  int interp_ew_##name(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) { \
    (void)c; \
    return nary(n, in, out, code); \
  }
NARY(Add, EW_ADD) NARY(Sub, EW_SUB) NARY(Mul, EW_MUL) NARY(Div, EW_DIV) NARY(Pow, EW_POW)
NARY(Max, EW_MAX) NARY(Min, EW_MIN) NARY(Sum, EW_SUM) NARY(Mean, EW_MEAN)
NARY(Relu, EW_RELU) NARY(LeakyRelu, EW_LEAKY_RELU) NARY(Sigmoid, EW_SIGMOID) NARY(Tanh, EW_TANH)
NARY(HardSigmoid, EW_HARD_SIGMOID) NARY(HardSwish, EW_HARD_SWISH) NARY(Elu, EW_ELU)
NARY(Selu, EW_SELU) NARY(Softplus, EW_SOFTPLUS) NARY(Softsign, EW_SOFTSIGN)
NARY(Sqrt, EW_SQRT) NARY(Exp, EW_EXP) NARY(Log, EW_LOG) NARY(Erf, EW_ERF) NARY(Abs, EW_ABS)
NARY(Neg, EW_NEG) NARY(Reciprocal, EW_RECIPROCAL) NARY(Floor, EW_FLOOR) NARY(Ceil, EW_CEIL)
NARY(Sin, EW_SIN) NARY(Cos, EW_COS)
NARY(Equal, EW_EQUAL) NARY(Less, EW_LESS) NARY(Greater, EW_GREATER)
NARY(LessOrEqual, EW_LESS_EQ) NARY(GreaterOrEqual, EW_GREATER_EQ)
NARY(Not, EW_NOT) NARY(And, EW_AND) NARY(Or, EW_OR) NARY(Xor, EW_XOR)
NARY(Tan, EW_TAN) NARY(Asin, EW_ASIN) NARY(Acos, EW_ACOS) NARY(Atan, EW_ATAN) NARY(Sinh, EW_SINH)
NARY(Cosh, EW_COSH) NARY(Asinh, EW_ASINH) NARY(Acosh, EW_ACOSH) NARY(Atanh, EW_ATANH)
NARY(Sign, EW_SIGN) NARY(Round, EW_ROUND) NARY(PRelu, EW_PRELU)
#undef NARY

int interp_ew_Clip(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return clip(n, in, out);
}

int interp_ew_Identity(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  int64_t nb = ir_nbytes(n->out[0]);
  if (nb > 0 && out[0] != in[0]) memcpy(out[0], in[0], (size_t)nb);
  return 0;
}

/* Inference (or ratio 0): y = x, nothing dropped.  Training: the mask of
 * docs/random.md, kept elements scaled by 1/(1 - ratio). */
int interp_ew_Dropout(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  double ratio;
  int64_t cnt = ir_numel(n->out[0]);
  int want_mask = n->n_out > 1 && n->out[1] && out[1];
  if (!ops_dropout_trains(n, &ratio)) {
    interp_ew_Identity(c, n, in, out);
    for (int64_t i = 0; want_mask && i < cnt; i++) kstore_i(n->out[1]->dtype, out[1], i, 1);
    return 0;
  }
  if (n->in[0]->dtype != IR_F32 && n->in[0]->dtype != IR_F64)
    return op_fail(n, "training Dropout on %s is not supported (float32, float64)", ir_dtype_name(n->in[0]->dtype));
  interp_rng_dropout(interp_rng_base(n, in), n->in[0]->dtype, ratio, cnt, in[0], out[0],
                     want_mask ? n->out[1]->dtype : IR_BOOL, want_mask ? out[1] : NULL);
  return 0;
}

/* double -> float rounded to odd: truncated, with the last mantissa bit set
 * when inexact.  Rounding that to float16/bfloat16 (far fewer bits) then
 * equals rounding the double directly, without double rounding. */
static float f64_to_f32_odd(double d) {
  float f = (float)d;
  uint32_t b;
  if (d != d || (double)f == d) return f;
  if (fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f);
  memcpy(&b, &f, 4);
  b |= 1;
  memcpy(&f, &b, 4);
  return f;
}

int interp_ew_Cast(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  ir_dtype from = n->in[0]->dtype, to = n->out[0]->dtype;
  int64_t total = ir_numel(n->out[0]);
  /* Cast to bfloat16 rounds to nearest even from opset 19 on (the spec, ONNX
   * Runtime, PyTorch); before it the ONNX reference truncated the float's
   * low 16 bits, and the test data of that era (test_cast_FLOAT_to_BFLOAT16)
   * expects truncation.  (CastLike 15-18 follows Cast 13-18.) */
  int bf16_trunc = to == IR_BF16 && n->opset < 19;
  for (int64_t i = 0; i < total; i++) {
    if (bf16_trunc)
      ((uint16_t *)out[0])[i] = kf32_to_bf16_trunc((float)kload_f(from, in[0], i));
    else if (from == IR_F64 && (to == IR_F16 || to == IR_BF16))
      kstore_f(to, out[0], i, f64_to_f32_odd(kload_f(from, in[0], i)));
    else if (ir_dtype_is_float(from))
      kstore_f(to, out[0], i, kload_f(from, in[0], i));   /* truncation toward zero for ints */
    else if (ir_dtype_is_float(to))
      kstore_f(to, out[0], i, kload_f(from, in[0], i));   /* u64 above 2^63 stays positive */
    else
      kstore_i(to, out[0], i, kload_i(from, in[0], i));   /* ints wrap, nonzero -> true */
  }
  return 0;
}

/* CastLike: Cast to input 1's dtype, which infer gave the output. */
int interp_ew_CastLike(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  return interp_ew_Cast(c, n, in, out);
}

int interp_ew_Where(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  const ir_tensor *y = n->out[0];
  kbcast bc[3];
  for (int k = 0; k < 3; k++) kbcast_tensors(&bc[k], y, n->in[k]);
  size_t es = ir_dtype_size(y->dtype);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    int k = kload_i(n->in[0]->dtype, in[0], kbcast_map(&bc[0], i)) ? 1 : 2;
    memcpy((char *)out[0] + i * (int64_t)es, (const char *)in[k] + kbcast_map(&bc[k], i) * (int64_t)es, es);
  }
  return 0;
}

int interp_ew_Softmax(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return softmax(n, in, out, 0);
}

int interp_ew_LogSoftmax(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return softmax(n, in, out, 1);
}
