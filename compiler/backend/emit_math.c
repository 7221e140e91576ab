/*
 * emit_math.c - C for the math group.
 *
 * The elementwise ops (Mod, BitShift, ThresholdedRelu, Shrink, Celu, Mish,
 * IsInf, IsNaN) are kl_map templates: "$k" is input k's loaded value and
 * "@" the libm suffix of the op's float type (see kl_map.h).
 * Integer Mod by zero gives 0 and a shift by 64 or more gives 0, so no
 * input makes the generated code trap or hit undefined behaviour.
 *
 * The other ops write plain loops with literal bounds: an op working along
 * an axis loops over [outer, inner] and then along the axis with stride
 * inner.  Sums accumulate in the float type itself (float32 in float: no
 * double on a single-precision FPU) or uint64_t (integers, so that they wrap
 * instead of overflowing).  TopK selects
 * the K best by repeated scans that each take the best element ordered
 * after the previous pick (value, then lower index first), so it needs no
 * scratch.  Einsum becomes one loop per output label around an
 * accumulator and one loop per summed label around the product.  Det runs
 * Gaussian elimination with partial pivoting in arena scratch (M*M values
 * of the input's type).  These loop ops take float32/float64 and the integer types;
 * float16/bfloat16 are refused by name.
 */
#include "emit_math.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "../ops/ops_math.h"
#include "kernels.h"
#include "kl_map.h"

/* ---- helpers ---------------------------------------------------------------- */

/* out[0] = tmpl(in...) over all of the node's inputs; "@" for input 0's type. */
static int map_node(emit_ctx *e, const ir_node *n, const char *tmpl) {
  return kl_map_node(e, n, tmpl, n->in[0]->dtype);
}

/* The loop ops: float32/float64 and integers. */
static int plain_dtype(const ir_node *n, ir_dtype dt) {
  if (dt == IR_F32 || dt == IR_F64 || ir_dtype_is_int(dt) || dt == IR_BOOL) return 0;
  return op_fail(n, "the C backend: this op on %s is not supported", ir_dtype_name(dt));
}

static void split3(const ir_tensor *x, int axis, int whole_tail, int64_t *outer, int64_t *len, int64_t *inner) {
  *outer = *len = *inner = 1;
  for (int a = 0; a < x->rank; a++) {
    if (a < axis) *outer *= x->shape[a];
    else if (a == axis || whole_tail) *len *= x->shape[a];
    else *inner *= x->shape[a];
  }
}

/* ---- elementwise ------------------------------------------------------------ */

int emit_math_Mod(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = n->out[0]->dtype;
  int fm = (int)ir_attr_int(n, "fmod", 0);
  if (ir_dtype_is_float(dt)) {
    if (fm) return map_node(e, n, "fmod@($0, $1)");
    return map_node(e, n, "((fmod@($0, $1) != 0 && ((fmod@($0, $1) < 0) != ($1 < 0))) ? fmod@($0, $1) + $1 : fmod@($0, $1))");
  }
  if (!ir_dtype_is_signed(dt)) return map_node(e, n, "($1 == 0 ? 0 : $0 % $1)");
  /* x % -1 is 0 but INT_MIN % -1 traps: answer it without dividing */
  if (fm) return map_node(e, n, "(($1 == 0 || $1 == -1) ? 0 : $0 % $1)");
  return map_node(e, n, "(($1 == 0 || $1 == -1) ? 0 : ($0 % $1 != 0 && (($0 % $1 < 0) != ($1 < 0))) ? $0 % $1 + $1 : $0 % $1)");
}

int emit_math_BitShift(emit_ctx *e, const ir_node *n) {
  if (strcmp(ir_attr_string(n, "direction", "LEFT"), "LEFT") == 0)
    return map_node(e, n, "($1 > 63 ? 0 : (uint64_t)$0 << $1)");   /* the store truncates to the width */
  return map_node(e, n, "($1 > 63 ? 0 : (uint64_t)$0 >> $1)");
}

int emit_math_ThresholdedRelu(emit_ctx *e, const ir_node *n) {
  char a[64], expr[256];
  kl_map_literal(a, sizeof a, n->in[0]->dtype, ir_attr_float(n, "alpha", 1.0));
  snprintf(expr, sizeof expr, "($0 > %s ? $0 : 0.0@)", a);
  return map_node(e, n, expr);
}

int emit_math_Shrink(emit_ctx *e, const ir_node *n) {
  char l[64], b[64], expr[512];
  ir_dtype dt = n->in[0]->dtype;
  double lv = ir_attr_float(n, "lambd", 0.5), bv = ir_attr_float(n, "bias", 0.0);
  if (ir_dtype_is_float(dt)) {
    kl_map_literal(l, sizeof l, dt, lv);
    kl_map_literal(b, sizeof b, dt, bv);
    snprintf(expr, sizeof expr, "($0 < -%s ? $0 + %s : $0 > %s ? $0 - %s : 0.0@)", l, b, l, b);
  } else {   /* integers: compare and shift in double, as the interpreter */
    emit_literal(l, sizeof l, IR_F64, lv);
    emit_literal(b, sizeof b, IR_F64, bv);
    snprintf(expr, sizeof expr,
             "(int64_t)((double)$0 < -%s ? (double)$0 + %s : (double)$0 > %s ? (double)$0 - %s : 0.0)", l, b, l, b);
  }
  return map_node(e, n, expr);
}

int emit_math_Celu(emit_ctx *e, const ir_node *n) {
  char a[64], neg[256], expr[768];
  kl_map_literal(a, sizeof a, n->in[0]->dtype, ir_attr_float(n, "alpha", 1.0));
  snprintf(neg, sizeof neg, "%s * (exp@($0 / %s) - 1.0@)", a, a);
  snprintf(expr, sizeof expr, "(($0 > 0.0@ ? $0 : 0.0@) + (%s < 0.0@ ? %s : 0.0@))", neg, neg);
  return map_node(e, n, expr);
}

int emit_math_Mish(emit_ctx *e, const ir_node *n) {
  return map_node(e, n, "($0 * tanh@($0 > 0.0@ ? $0 + log1p@(exp@(-$0)) : log1p@(exp@($0))))");
}

int emit_math_IsInf(emit_ctx *e, const ir_node *n) {
  int pos = ir_attr_int(n, "detect_positive", 1) != 0, neg = ir_attr_int(n, "detect_negative", 1) != 0;
  if (pos && neg) return map_node(e, n, "(isinf($0) != 0)");
  if (pos) return map_node(e, n, "(isinf($0) && $0 > 0)");
  if (neg) return map_node(e, n, "(isinf($0) && $0 < 0)");
  return map_node(e, n, "(isinf($0) && 0)");
}

int emit_math_IsNaN(emit_ctx *e, const ir_node *n) { return map_node(e, n, "(isnan($0) != 0)"); }

/* ---- Trilu, EyeLike --------------------------------------------------------- */

int emit_math_Trilu(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t rows = x->shape[x->rank - 2], cols = x->shape[x->rank - 1], k = ir_attr_int(n, "_k", 0);
  int64_t batch = ir_numel(x) / (rows * cols > 0 ? rows * cols : 1);
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0);
  if (ir_numel(x) == 0) return 0;
  kl_block(e);
  const char *b = kl_for(e, batch), *r = kl_for(e, rows), *q = kl_for(e, cols);
  emit_line(e, "const int64_t at = (%s * %lld + %s) * %lld + %s;", b, (long long)rows, r, (long long)cols, q);
  emit_line(e, "%s[at] = %s - %s %s %lld ? %s[at] : 0;", Y, q, r, ir_attr_int(n, "upper", 1) ? ">=" : "<=",
            (long long)k, X);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_math_EyeLike(emit_ctx *e, const ir_node *n) {
  const ir_tensor *y = n->out[0];
  const char *one = y->dtype == IR_F16 ? "0x3C00" : y->dtype == IR_BF16 ? "0x3F80" : "1";   /* 1.0 bits */
  if (ir_numel(y) == 0) return 0;
  kl_block(e);
  const char *r = kl_for(e, y->shape[0]), *q = kl_for(e, y->shape[1]);
  emit_line(e, "%s[%s * %lld + %s] = %s - %s == %lld ? %s : 0;", emit_out(e, 0), r, (long long)y->shape[1], q, q, r,
            (long long)ir_attr_int(n, "k", 0), one);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

/* ---- Hardmax, CumSum, TopK -------------------------------------------------- */

/* Loops over [outer, inner]; declares `base`, the flat index of the row's
 * first element.  Returns the number of loops opened. */
static int row_loops(emit_ctx *e, int64_t outer, int64_t len, int64_t inner, const char *base) {
  const char *o = kl_for(e, outer);
  if (inner > 1) {
    const char *j = kl_for(e, inner);
    emit_line(e, "const int64_t %s = %s * %lld + %s;", base, o, (long long)(len * inner), j);
    return 2;
  }
  emit_line(e, "const int64_t %s = %s * %lld;", base, o, (long long)len);
  return 1;
}

/* numpy's argmax: the first maximum, a NaN counting as the maximum. */
int emit_math_Hardmax(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(x->dtype);
  int64_t outer, len, inner;
  if (x->dtype != IR_F32 && x->dtype != IR_F64)
    return op_fail(n, "the C backend: this op on %s is not supported", ir_dtype_name(x->dtype));
  split3(x, (int)ir_attr_int(n, "axis", -1), n->opset < 13, &outer, &len, &inner);
  if (outer * len * inner == 0) return 0;
  kl_block(e);
  int loops = row_loops(e, outer, len, inner, "base");
  emit_line(e, "int64_t best = 0;");
  emit_line(e, "%s bv = %s[base];", T, X);
  const char *k = kl_for(e, len);
  emit_line(e, "const %s v = %s[base + %s * %lld];", T, X, k, (long long)inner);
  emit_line(e, "if (bv != bv) break;");
  emit_line(e, "if (v > bv || v != v) {");
  emit_line(e, "  bv = v;");
  emit_line(e, "  best = %s;", k);
  emit_line(e, "}");
  kl_end(e);
  k = kl_for(e, len);
  emit_line(e, "%s[base + %s * %lld] = %s == best ? 1 : 0;", Y, k, (long long)inner, k);
  kl_end(e);
  while (loops--) kl_end(e);
  kl_end(e);
  return 0;
}

int emit_math_CumSum(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(x->dtype);
  int64_t outer, len, inner;
  int excl = (int)ir_attr_int(n, "exclusive", 0), rev = (int)ir_attr_int(n, "reverse", 0);
  int isf = ir_dtype_is_float(x->dtype);
  if (plain_dtype(n, x->dtype) < 0) return -1;
  split3(x, (int)ir_attr_int(n, "_axis", 0), 0, &outer, &len, &inner);
  if (outer * len * inner == 0) return 0;
  kl_block(e);
  int loops = row_loops(e, outer, len, inner, "base");
  const char *at = isf ? kl_float_ctype(x->dtype) : "uint64_t";   /* integers wrap */
  emit_line(e, "%s acc = 0;", at);
  const char *s = kl_for(e, len);
  if (rev) emit_line(e, "const int64_t at = base + (%lld - %s) * %lld;", (long long)(len - 1), s, (long long)inner);
  else emit_line(e, "const int64_t at = base + %s * %lld;", s, (long long)inner);
  emit_line(e, "const %s v = %s[at];", T, X);
  if (excl) emit_line(e, "%s[at] = (%s)acc;", Y, T);
  emit_line(e, "acc += (%s)v;", at);
  if (!excl) emit_line(e, "%s[at] = (%s)acc;", Y, T);
  kl_end(e);
  while (loops--) kl_end(e);
  kl_end(e);
  return 0;
}

int emit_math_TopK(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(x->dtype);
  const char *I = n->n_out > 1 && n->out[1] ? emit_out(e, 1) : NULL;
  int64_t outer, len, inner, k = ir_attr_int(n, "_k", 0);
  int largest = (int)ir_attr_int(n, "largest", 1);
  const char *worse = largest ? "<" : ">", *better = largest ? ">" : "<";
  if (plain_dtype(n, x->dtype) < 0) return -1;
  split3(x, (int)ir_attr_int(n, "axis", -1), 0, &outer, &len, &inner);
  if (outer * k * inner == 0) return 0;
  kl_block(e);
  const char *o = kl_for(e, outer);
  const char *j = inner > 1 ? kl_for(e, inner) : "0";
  emit_line(e, "const int64_t base = %s * %lld + %s;", o, (long long)(len * inner), j);
  emit_line(e, "const int64_t obase = %s * %lld + %s;", o, (long long)(k * inner), j);
  emit_line(e, "int64_t pi = -1;");
  emit_line(e, "%s pv = 0;", T);
  const char *r = kl_for(e, k);
  emit_line(e, "int64_t bi = -1;");
  emit_line(e, "%s bv = 0;", T);
  const char *q = kl_for(e, len);
  emit_line(e, "const %s v = %s[base + %s * %lld];", T, X, q, (long long)inner);
  /* only elements ordered after the previous pick: worse, or equal and later */
  emit_line(e, "if (pi >= 0 && !(v %s pv || (v == pv && %s > pi))) continue;", worse, q);
  emit_line(e, "if (bi < 0 || v %s bv) {", better);
  emit_line(e, "  bi = %s;", q);
  emit_line(e, "  bv = v;");
  emit_line(e, "}");
  kl_end(e);
  emit_line(e, "%s[obase + %s * %lld] = bv;", Y, r, (long long)inner);
  if (I) emit_line(e, "%s[obase + %s * %lld] = bi;", I, r, (long long)inner);
  emit_line(e, "pi = bi;");
  emit_line(e, "pv = bv;");
  kl_end(e);
  if (inner > 1) kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

/* ---- Einsum ----------------------------------------------------------------- */

int emit_math_Einsum(emit_ctx *e, const ir_node *n) {
  ops_einsum es;
  const ir_tensor *y = n->out[0];
  const char *var[OPS_EINSUM_MAX_LABELS];
  char idx[512], prod[4096], term[640];
  int isf = ir_dtype_is_float(y->dtype);
  if (plain_dtype(n, y->dtype) < 0) return -1;
  if (ops_math_einsum(n, &es) < 0) return -1;
  if (ir_numel(y) == 0) return 0;
  kl_block(e);
  const char *at = isf ? kl_float_ctype(y->dtype) : "uint64_t";   /* integers wrap */
  int64_t terms = 1;
  for (int l = es.out_rank; l < es.n_labels; l++) terms *= es.dim[l];
  int64_t blk = isf ? kl_sum_block(y->dtype, terms) : 0;
  for (int l = 0; l < es.out_rank; l++) var[l] = kl_for(e, es.dim[l]);
  kl_sum_decl(e, at, "acc", "0", blk);
  for (int l = es.out_rank; l < es.n_labels; l++) var[l] = kl_for(e, es.dim[l]);
  prod[0] = '\0';
  for (int k = 0; k < es.n_in; k++) {
    const ir_tensor *x = n->in[k];
    int64_t stride = 1;
    size_t len = 0;
    idx[0] = '\0';
    for (int a = x->rank - 1; a >= 0; a--) {
      if (x->shape[a] != 1)   /* an extent-1 axis is read at 0 (broadcast) */
        len += (size_t)snprintf(idx + len, sizeof idx - len, "%s%s * %lld", len ? " + " : "", var[es.lab[k][a]],
                                (long long)stride);
      if (len >= sizeof idx) return op_fail(n, "index expression too long");
      stride *= x->shape[a];
    }
    snprintf(term, sizeof term, "%s(%s)%s[%s]", k ? " * " : "", at, emit_in(e, k),
             len ? idx : "0");
    if (strlen(prod) + strlen(term) + 1 >= sizeof prod) return op_fail(n, "product expression too long");
    strcat(prod, term);
  }
  emit_line(e, "acc += %s;", prod);
  kl_sum_step(e, "acc", blk);
  for (int l = es.out_rank; l < es.n_labels; l++) kl_end(e);
  kl_sum_done(e, "acc", blk);
  {
    int64_t stride = 1;
    size_t len = 0;
    idx[0] = '\0';
    for (int l = es.out_rank - 1; l >= 0; l--) {
      len += (size_t)snprintf(idx + len, sizeof idx - len, "%s%s * %lld", len ? " + " : "", var[l], (long long)stride);
      if (len >= sizeof idx) return op_fail(n, "index expression too long");
      stride *= es.dim[l];
    }
    emit_line(e, "%s[%s] = (%s)acc;", emit_out(e, 0), len ? idx : "0", ir_dtype_ctype(y->dtype));
  }
  for (int l = 0; l < es.out_rank; l++) kl_end(e);
  kl_end(e);
  return 0;
}

/* ---- OneHot, ReverseSequence ------------------------------------------------ */

int emit_math_OneHot(emit_ctx *e, const ir_node *n) {
  const ir_tensor *ix = n->in[0], *y = n->out[0];
  int axis = (int)ir_attr_int(n, "axis", -1);
  int64_t depth = y->shape[axis], pre = 1, post = 1;
  const char *X = emit_in(e, 0), *V = emit_in(e, 2), *Y = emit_out(e, 0);
  if (ix->dtype != IR_F32 && ix->dtype != IR_F64 && !ir_dtype_is_int(ix->dtype))
    return op_fail(n, "the C backend: indices of %s are not supported", ir_dtype_name(ix->dtype));
  for (int a = 0; a < ix->rank; a++) *(a < axis ? &pre : &post) *= ix->shape[a];
  if (ir_numel(y) == 0) return 0;
  kl_block(e);
  const char *p = kl_for(e, pre), *q = kl_for(e, post);
  if (ir_dtype_is_float(ix->dtype)) {   /* NaN and out-of-range floats: no class, never UB */
    kl_line(e, ix->dtype, "const $T dv = %s[%s * %lld + %s];", X, p, (long long)post, q);
    kl_line(e, ix->dtype, "int64_t v = (dv > -9.2e18@ && dv < 9.2e18@) ? (int64_t)dv : INT64_MIN;");
  } else {
    emit_line(e, "int64_t v = (int64_t)%s[%s * %lld + %s];", X, p, (long long)post, q);
  }
  emit_line(e, "if (v < 0 && v >= -%lld) v += %lld;", (long long)depth, (long long)depth);
  const char *d = kl_for(e, depth);
  emit_line(e, "%s[(%s * %lld + %s) * %lld + %s] = %s[v == %s];", Y, p, (long long)depth, d, (long long)post, q, V, d);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

int emit_math_ReverseSequence(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  int ta = (int)ir_attr_int(n, "time_axis", 0);
  int64_t rest = 1, T = x->shape[ta];
  const char *X = emit_in(e, 0), *L = emit_in(e, 1), *Y = emit_out(e, 0);
  for (int a = 2; a < x->rank; a++) rest *= x->shape[a];
  if (ir_numel(x) == 0) return 0;
  kl_block(e);
  const char *a0 = kl_for(e, x->shape[0]), *a1 = kl_for(e, x->shape[1]);
  const char *t = ta == 0 ? a0 : a1, *b = ta == 0 ? a1 : a0;
  emit_line(e, "int64_t len = %s[%s];", L, b);
  emit_line(e, "len = len < 0 ? 0 : len > %lld ? %lld : len;", (long long)T, (long long)T);   /* never read outside */
  emit_line(e, "const int64_t st = %s < len ? len - 1 - %s : %s;", t, t, t);
  if (ta == 0) emit_line(e, "const int64_t src = (st * %lld + %s) * %lld;", (long long)x->shape[1], b, (long long)rest);
  else emit_line(e, "const int64_t src = (%s * %lld + st) * %lld;", b, (long long)T, (long long)rest);
  emit_line(e, "const int64_t dst = (%s * %lld + %s) * %lld;", a0, (long long)x->shape[1], a1, (long long)rest);
  const char *r = kl_for(e, rest);
  emit_line(e, "%s[dst + %s] = %s[src + %s];", Y, r, X, r);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}

/* ---- Det, NonZero ----------------------------------------------------------- */

int emit_math_Det(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t m = x->shape[x->rank - 1], count = ir_numel(n->out[0]);
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(x->dtype);
  if (x->dtype != IR_F32 && x->dtype != IR_F64)
    return op_fail(n, "the C backend: this op on %s is not supported", ir_dtype_name(x->dtype));
  if (count == 0) return 0;
  kl_block(e);
  if (m == 0) {   /* the determinant of an empty matrix is 1 */
    const char *b = kl_for(e, count);
    emit_line(e, "%s[%s] = 1;", Y, b);
    kl_end(e);
    kl_end(e);
    return 0;
  }
  kl_line(e, x->dtype, "$T *restrict a = ($T *)(void *)%s;", emit_scratch(e));
  const char *b = kl_for(e, count);
  const char *i = kl_for(e, m * m);
  emit_line(e, "a[%s] = %s[%s * %lld + %s];", i, X, b, (long long)(m * m), i);
  kl_end(e);
  kl_line(e, x->dtype, "$T det = 1;");
  const char *c = kl_for(e, m);
  emit_line(e, "int64_t piv = %s;", c);
  emit_line(e, "for (int64_t r = %s + 1; r < %lld; r++)", c, (long long)m);
  kl_line(e, x->dtype, "  if (fabs@(a[r * %lld + %s]) > fabs@(a[piv * %lld + %s])) piv = r;", (long long)m, c, (long long)m, c);
  emit_line(e, "if (piv != %s) {", c);
  emit_line(e, "  for (int64_t q = 0; q < %lld; q++) {", (long long)m);
  kl_line(e, x->dtype, "    const $T t = a[%s * %lld + q];", c, (long long)m);
  emit_line(e, "    a[%s * %lld + q] = a[piv * %lld + q];", c, (long long)m, (long long)m);
  emit_line(e, "    a[piv * %lld + q] = t;", (long long)m);
  emit_line(e, "  }");
  emit_line(e, "  det = -det;");
  emit_line(e, "}");
  kl_line(e, x->dtype, "const $T p = a[%s * %lld + %s];", c, (long long)m, c);
  emit_line(e, "det *= p;");
  kl_line(e, x->dtype, "if (p == 0) break;");
  emit_line(e, "for (int64_t r = %s + 1; r < %lld; r++) {", c, (long long)m);
  kl_line(e, x->dtype, "  const $T f = a[r * %lld + %s] / p;", (long long)m, c);
  emit_line(e, "  for (int64_t q = %s; q < %lld; q++) a[r * %lld + q] -= f * a[%s * %lld + q];", c, (long long)m,
            (long long)m, c, (long long)m);
  emit_line(e, "}");
  kl_end(e);
  emit_line(e, "%s[%s] = (%s)det;", Y, b, T);
  kl_end(e);
  kl_end(e);
  return 0;
}

/* NonZero folds away when its input is constant (the only supported case);
 * an unfolded node with a constant input still writes its known value. */
int emit_math_NonZero(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t total = ir_numel(x), cnt = n->out[0]->shape[1], found = 0;
  if (!x->data) return op_fail(n, "not supported: the output shape depends on input values");
  for (int64_t i = 0; i < total && found < cnt; i++) {
    if (ir_const_f64(x, i) == 0.0) continue;
    int64_t rest = i;
    for (int d = x->rank - 1; d >= 0; d--) {
      emit_line(e, "%s[%lld] = %lld;", emit_out(e, 0), (long long)(d * cnt + found), (long long)(rest % x->shape[d]));
      rest /= x->shape[d];
    }
    found++;
  }
  return 0;
}

/* Compress: the kept indices of the constant condition become a table,
 * and one loop nest copies [outer, kept, inner]. */
int emit_math_Compress(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0], *cd = n->in[1];
  int axis = (int)ir_attr_int(n, "_axis", -1);
  int64_t outer = 1, len = ir_numel(x), inner = 1, cnt = ir_numel(n->out[0]), k = 0;
  const char *T = ir_dtype_ctype(x->dtype);
  if (!cd->data) return op_fail(n, "the condition must be a compile-time constant");
  if (axis >= 0) split3(x, axis, 0, &outer, &len, &inner);
  if (cnt == 0) return 0;
  cnt /= outer * inner;
  kl_block(e);
  emit_line(e, "static const int64_t sel[%lld] = {", (long long)cnt);
  emit_indent(e, 1);
  for (int64_t j = 0; j < cd->shape[0] && j < len; j++)
    if (ir_const_f64(cd, j) != 0.0) emit_line(e, "%lld%s", (long long)j, ++k < cnt ? "," : "");
  emit_indent(e, -1);
  emit_line(e, "};");
  if (k != cnt) return op_fail(n, "the condition selects %lld slices, not the inferred %lld", (long long)k, (long long)cnt);
  const char *o = kl_for(e, outer), *q = kl_for(e, cnt), *i = kl_for(e, inner);
  emit_line(e, "%s[(%s * %lld + %s) * %lld + %s] = (%s)%s[(%s * %lld + sel[%s]) * %lld + %s];", emit_out(e, 0), o,
            (long long)cnt, q, (long long)inner, i, T, emit_in(e, 0), o, (long long)len, q, (long long)inner, i);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  kl_end(e);
  return 0;
}
