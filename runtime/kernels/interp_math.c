/*
 * interp_math.c - reference kernels of the math group.
 *
 * Plain loops over flat indices.  Floats are computed in double, signed
 * integers in int64 (wrapping through uint64 where they could overflow),
 * IR_U64 and the shifts in uint64; kutil.h converts on load and store.
 * Where ONNX leaves a value undefined, the kernels pick one that never
 * traps: integer Mod by zero is 0 (numpy's result), a shift by 64 or more
 * gives 0, ReverseSequence clamps a sequence length into [0, T].  Ops that
 * work along an axis view their input as [outer, len, inner].  What infer
 * put into attributes (ops_math.h: normalized "axis", "_k", "_axis") is read
 * from there.
 */
#include "interp_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/ops/ops_math.h"
#include "kutil.h"

/* x viewed as [outer, len, inner] around axis (with whole_tail: len is the
 * product of every axis from `axis` on, inner 1). */
static void split3(const ir_tensor *x, int axis, int whole_tail, int64_t *outer, int64_t *len, int64_t *inner) {
  *outer = *len = *inner = 1;
  for (int a = 0; a < x->rank; a++) {
    if (a < axis) *outer *= x->shape[a];
    else if (a == axis || whole_tail) *len *= x->shape[a];
    else *inner *= x->shape[a];
  }
}

/* A double as int64 the way numpy's astype does for finite in-range values;
 * NaN and out-of-range values give INT64_MIN. */
static int64_t to_i64(double v) {
  return (v > -9.2e18 && v < 9.2e18) ? (int64_t)v : INT64_MIN;
}

/* ---- elementwise ------------------------------------------------------------ */

typedef enum mop { M_MOD, M_SHL, M_SHR } mop;

static int binary(const ir_node *n, const void *const *in, void *const *out, mop op) {
  const ir_tensor *a = n->in[0], *b = n->in[1], *y = n->out[0];
  ir_dtype dt = a->dtype;
  int fm = (int)ir_attr_int(n, "fmod", 0);
  kbcast ba, bb;
  kbcast_tensors(&ba, y, a);
  kbcast_tensors(&bb, y, b);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    int64_t ia = kbcast_map(&ba, i), ib = kbcast_map(&bb, i);
    if (op != M_MOD) {
      uint64_t x = kload_u(dt, in[0], ia), s = kload_u(dt, in[1], ib);
      uint64_t r = s >= 64 ? 0 : op == M_SHL ? x << s : x >> s;
      kstore_u(dt, out[0], i, r);   /* wraps to the type's width */
    } else if (ir_dtype_is_float(dt)) {
      double x = kload_f(dt, in[0], ia), d = kload_f(dt, in[1], ib);
      double r = fmod(x, d);
      if (!fm && r != 0 && (r < 0) != (d < 0)) r += d;   /* sign of the divisor, as Python's % */
      kstore_f(dt, out[0], i, r);
    } else if (!ir_dtype_is_signed(dt)) {
      uint64_t x = kload_u(dt, in[0], ia), d = kload_u(dt, in[1], ib);
      kstore_u(dt, out[0], i, d == 0 ? 0 : x % d);
    } else {
      int64_t x = kload_i(dt, in[0], ia), d = kload_i(dt, in[1], ib);
      int64_t r = (d == 0 || d == -1) ? 0 : x % d;      /* C: sign of the dividend */
      if (!fm && r != 0 && (r < 0) != (d < 0)) r += d;
      kstore_i(dt, out[0], i, r);
    }
  }
  return 0;
}

int interp_math_Mod(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return binary(n, in, out, M_MOD);
}

int interp_math_BitShift(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return binary(n, in, out, strcmp(ir_attr_string(n, "direction", "LEFT"), "LEFT") == 0 ? M_SHL : M_SHR);
}

typedef enum uop { U_THRELU, U_SHRINK, U_CELU, U_MISH, U_ISINF, U_ISNAN } uop;

static double unary1(const ir_node *n, uop op, double x) {
  switch (op) {
  case U_THRELU: return x > ir_attr_float(n, "alpha", 1.0) ? x : 0.0;
  case U_SHRINK: {
    double l = ir_attr_float(n, "lambd", 0.5), b = ir_attr_float(n, "bias", 0.0);
    return x < -l ? x + b : x > l ? x - b : 0.0;
  }
  case U_CELU: {
    double a = ir_attr_float(n, "alpha", 1.0), neg = a * (exp(x / a) - 1.0);
    return (x > 0 ? x : 0.0) + (neg < 0 ? neg : 0.0);
  }
  case U_MISH: {
    double sp = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));   /* softplus without overflow */
    return x * tanh(sp);
  }
  case U_ISINF:
    return isinf(x) && ((x > 0 && ir_attr_int(n, "detect_positive", 1)) ||
                        (x < 0 && ir_attr_int(n, "detect_negative", 1)));
  case U_ISNAN: return isnan(x);
  }
  return 0;
}

static int unary(const ir_node *n, const void *const *in, void *const *out, uop op) {
  int64_t total = ir_numel(n->out[0]);
  for (int64_t i = 0; i < total; i++)
    kstore_f(n->out[0]->dtype, out[0], i, unary1(n, op, kload_f(n->in[0]->dtype, in[0], i)));
  return 0;
}

#define UNARY(name, code) \
  int interp_math_##name(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) { \
    (void)c; \
    return unary(n, in, out, code); \
  }
UNARY(ThresholdedRelu, U_THRELU) UNARY(Shrink, U_SHRINK) UNARY(Celu, U_CELU) UNARY(Mish, U_MISH)
UNARY(IsInf, U_ISINF) UNARY(IsNaN, U_ISNAN)
#undef UNARY

/* ---- Trilu, EyeLike --------------------------------------------------------- */

int interp_math_Trilu(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int64_t rows = x->shape[x->rank - 2], cols = x->shape[x->rank - 1], k = ir_attr_int(n, "_k", 0);
  int upper = (int)ir_attr_int(n, "upper", 1);
  size_t es = ir_dtype_size(x->dtype);
  int64_t total = ir_numel(x);
  (void)c;
  for (int64_t i = 0; i < total; i++) {
    int64_t col = i % cols, row = (i / cols) % rows;
    int keep = upper ? col - row >= k : col - row <= k;
    if (keep) memcpy((char *)out[0] + i * (int64_t)es, (const char *)in[0] + i * (int64_t)es, es);
    else memset((char *)out[0] + i * (int64_t)es, 0, es);
  }
  return 0;
}

int interp_math_EyeLike(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *y = n->out[0];
  int64_t rows = y->shape[0], cols = y->shape[1], k = ir_attr_int(n, "k", 0);
  (void)c;
  (void)in;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t q = 0; q < cols; q++) kstore_i(y->dtype, out[0], r * cols + q, q - r == k);
  return 0;
}

/* ---- Hardmax, CumSum, TopK -------------------------------------------------- */

/* numpy's argmax: the first maximum, a NaN counting as the maximum. */
int interp_math_Hardmax(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int64_t outer, len, inner;
  (void)c;
  split3(x, (int)ir_attr_int(n, "axis", -1), n->opset < 13, &outer, &len, &inner);
  if (len == 0) return 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * len * inner + j, best = 0;
      double bv = kload_f(x->dtype, in[0], base);
      for (int64_t k = 1; k < len && !isnan(bv); k++) {
        double v = kload_f(x->dtype, in[0], base + k * inner);
        if (v > bv || isnan(v)) bv = v, best = k;
      }
      for (int64_t k = 0; k < len; k++) kstore_f(x->dtype, out[0], base + k * inner, k == best);
    }
  return 0;
}

int interp_math_CumSum(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int64_t outer, len, inner;
  int excl = (int)ir_attr_int(n, "exclusive", 0), rev = (int)ir_attr_int(n, "reverse", 0);
  (void)c;
  split3(x, (int)ir_attr_int(n, "_axis", 0), 0, &outer, &len, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      double facc = 0;
      uint64_t iacc = 0;   /* integers wrap, as numpy's cumsum */
      for (int64_t s = 0; s < len; s++) {
        int64_t at = o * len * inner + (rev ? len - 1 - s : s) * inner + j;
        if (ir_dtype_is_float(x->dtype)) {
          double v = kload_f(x->dtype, in[0], at);
          if (!excl) facc += v;
          kstore_f(x->dtype, out[0], at, facc);
          if (excl) facc += v;
        } else {
          uint64_t v = kload_u(x->dtype, in[0], at);
          if (!excl) iacc += v;
          kstore_u(x->dtype, out[0], at, iacc);
          if (excl) iacc += v;
        }
      }
    }
  return 0;
}

/* Selection: the r-th output is the best element not yet taken; ties go to
 * the lower index (the scan is ascending and the comparison strict). */
int interp_math_TopK(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int64_t outer, len, inner, k = ir_attr_int(n, "_k", 0);
  int largest = (int)ir_attr_int(n, "largest", 1);
  int has_idx = n->n_out > 1 && n->out[1] && out[1];
  (void)c;
  split3(x, (int)ir_attr_int(n, "axis", -1), 0, &outer, &len, &inner);
  char *used = malloc((size_t)len + 1);
  if (!used) return op_fail(n, "out of memory");
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      memset(used, 0, (size_t)len + 1);
      for (int64_t r = 0; r < k; r++) {
        int64_t best = -1;
        double bv = 0;
        for (int64_t q = 0; q < len; q++) {
          if (used[q]) continue;
          double v = kload_f(x->dtype, in[0], o * len * inner + q * inner + j);
          if (best < 0 || (largest ? v > bv : v < bv)) best = q, bv = v;
        }
        used[best] = 1;
        int64_t src = o * len * inner + best * inner + j, dst = o * k * inner + r * inner + j;
        size_t es = ir_dtype_size(x->dtype);
        memcpy((char *)out[0] + dst * (int64_t)es, (const char *)in[0] + src * (int64_t)es, es);
        if (has_idx) kstore_i(n->out[1]->dtype, out[1], dst, best);
      }
    }
  free(used);
  return 0;
}

/* ---- Einsum ----------------------------------------------------------------- */

/* For every output element, the sum over every value of the summed labels
 * of the product of the inputs at those label values. */
int interp_math_Einsum(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  ops_einsum es;
  const ir_tensor *y = n->out[0];
  int64_t idx[OPS_EINSUM_MAX_LABELS];
  int isf = ir_dtype_is_float(y->dtype);
  (void)c;
  if (ops_math_einsum(n, &es) < 0) return -1;
  int64_t n_out = 1, n_sum = 1;
  for (int l = 0; l < es.n_labels; l++) *(l < es.out_rank ? &n_out : &n_sum) *= es.dim[l];
  for (int64_t o = 0; o < n_out; o++) {
    int64_t rest = o;
    for (int l = es.out_rank - 1; l >= 0; l--) idx[l] = rest % es.dim[l], rest /= es.dim[l];
    double facc = 0;
    uint64_t iacc = 0;
    for (int64_t s = 0; s < n_sum; s++) {
      rest = s;
      for (int l = es.n_labels - 1; l >= es.out_rank; l--) idx[l] = rest % es.dim[l], rest /= es.dim[l];
      double fp = 1;
      uint64_t ip = 1;
      for (int k = 0; k < es.n_in; k++) {
        const ir_tensor *x = n->in[k];
        int64_t off = 0;
        for (int a = 0; a < x->rank; a++)
          off = off * x->shape[a] + (x->shape[a] == 1 ? 0 : idx[es.lab[k][a]]);
        if (isf) fp *= kload_f(x->dtype, in[k], off);
        else ip *= kload_u(x->dtype, in[k], off);
      }
      facc += fp;
      iacc += ip;
    }
    if (isf) kstore_f(y->dtype, out[0], o, facc);
    else kstore_u(y->dtype, out[0], o, iacc);
  }
  return 0;
}

/* ---- OneHot, ReverseSequence ------------------------------------------------ */

int interp_math_OneHot(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *ix = n->in[0], *y = n->out[0];
  int axis = (int)ir_attr_int(n, "axis", -1);
  int64_t depth = y->shape[axis], pre = 1, post = 1;
  size_t es = ir_dtype_size(y->dtype);
  (void)c;
  for (int a = 0; a < ix->rank; a++) *(a < axis ? &pre : &post) *= ix->shape[a];
  for (int64_t p = 0; p < pre; p++)
    for (int64_t d = 0; d < depth; d++)
      for (int64_t q = 0; q < post; q++) {
        int64_t at = p * post + q;
        int64_t v = ir_dtype_is_float(ix->dtype) ? to_i64(kload_f(ix->dtype, in[0], at)) : kload_i(ix->dtype, in[0], at);
        if (v < 0 && v >= -depth) v += depth;
        int on = v == d;
        memcpy((char *)out[0] + ((p * depth + d) * post + q) * (int64_t)es, (const char *)in[2] + on * (int64_t)es, es);
      }
  return 0;
}

int interp_math_ReverseSequence(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int ta = (int)ir_attr_int(n, "time_axis", 0), ba = (int)ir_attr_int(n, "batch_axis", 1);
  int64_t rest = 1, total = ir_numel(x);
  size_t es = ir_dtype_size(x->dtype);
  (void)c;
  for (int a = 2; a < x->rank; a++) rest *= x->shape[a];
  int64_t T = x->shape[ta], B = x->shape[ba];
  for (int64_t i = 0; i < total; i++) {
    /* i = (a0 * d1 + a1) * rest + r with {a0, a1} = {t, b} in axis order */
    int64_t r = i % rest, a1 = (i / rest) % x->shape[1], a0 = i / rest / x->shape[1];
    int64_t t = ta == 0 ? a0 : a1, b = ta == 0 ? a1 : a0;
    int64_t L = kload_i(n->in[1]->dtype, in[1], b);
    L = L < 0 ? 0 : L > T ? T : L;
    int64_t st = t < L ? L - 1 - t : t;
    int64_t src = ((ta == 0 ? st * B + b : b * T + st) * rest) + r;
    memcpy((char *)out[0] + i * (int64_t)es, (const char *)in[0] + src * (int64_t)es, es);
  }
  return 0;
}

/* ---- Det, NonZero ----------------------------------------------------------- */

/* Gaussian elimination with partial pivoting; det = sign * prod(pivots). */
int interp_math_Det(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int64_t m = x->shape[x->rank - 1], count = ir_numel(n->out[0]);
  double *a = malloc(sizeof(double) * (size_t)(m * m + 1));
  (void)c;
  if (!a) return op_fail(n, "out of memory");
  for (int64_t b = 0; b < count; b++) {
    for (int64_t i = 0; i < m * m; i++) a[i] = kload_f(x->dtype, in[0], b * m * m + i);
    double det = 1;
    for (int64_t col = 0; col < m; col++) {
      int64_t piv = col;
      for (int64_t r = col + 1; r < m; r++)
        if (fabs(a[r * m + col]) > fabs(a[piv * m + col])) piv = r;
      if (piv != col) {
        for (int64_t q = 0; q < m; q++) {
          double t = a[col * m + q];
          a[col * m + q] = a[piv * m + q];
          a[piv * m + q] = t;
        }
        det = -det;
      }
      double p = a[col * m + col];
      det *= p;
      if (p == 0) break;
      for (int64_t r = col + 1; r < m; r++) {
        double f = a[r * m + col] / p;
        for (int64_t q = col; q < m; q++) a[r * m + q] -= f * a[col * m + q];
      }
    }
    kstore_f(n->out[0]->dtype, out[0], b, det);
  }
  free(a);
  return 0;
}

/* Row d of the output holds coordinate d of each nonzero, in C order. */
int interp_math_NonZero(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0];
  int64_t total = ir_numel(x), cnt = n->out[0]->shape[1], found = 0;
  (void)c;
  for (int64_t i = 0; i < total; i++) {
    if (kload_f(x->dtype, in[0], i) == 0.0) continue;
    if (found >= cnt) return op_fail(n, "input has more nonzeros than inferred");
    int64_t rest = i;
    for (int d = x->rank - 1; d >= 0; d--) {
      kstore_i(IR_I64, out[0], d * cnt + found, rest % x->shape[d]);
      rest /= x->shape[d];
    }
    found++;
  }
  return found == cnt ? 0 : op_fail(n, "input has fewer nonzeros than inferred");
}

/* Compress: x viewed as [outer, len, inner] (len the whole of x without an
 * axis); slice j of the middle axis is kept when condition[j] is nonzero. */
int interp_math_Compress(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  const ir_tensor *x = n->in[0], *cd = n->in[1];
  int axis = (int)ir_attr_int(n, "_axis", -1);
  int64_t outer = 1, len = ir_numel(x), inner = 1, cnt = 0;
  size_t es = ir_dtype_size(x->dtype);
  (void)c;
  if (axis >= 0) split3(x, axis, 0, &outer, &len, &inner);
  for (int64_t j = 0; j < cd->shape[0] && j < len; j++) cnt += kload_f(cd->dtype, in[1], j) != 0.0;
  if (axis >= 0 ? cnt != n->out[0]->shape[axis] : cnt != n->out[0]->shape[0])
    return op_fail(n, "the condition selects %lld slices, not the inferred count", (long long)cnt);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0, k = 0; j < cd->shape[0] && j < len; j++) {
      if (kload_f(cd->dtype, in[1], j) == 0.0) continue;
      memcpy((char *)out[0] + ((o * cnt + k) * inner) * es, (const char *)in[0] + ((o * len + j) * inner) * es,
             (size_t)inner * es);
      k++;
    }
  return 0;
}
