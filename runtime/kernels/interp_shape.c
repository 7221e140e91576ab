/*
 * interp_shape.c - reference kernels of the shape group.
 *
 * The plainest code that is obviously right: every kernel walks its output
 * element by element, turns the flat index into coordinates, computes the
 * input coordinates the op's definition names and copies ir_dtype_size
 * bytes (reductions go through kutil.h's double/int64 accessors).  Speed is
 * the backend's business; this file is the oracle it is checked against.
 * The op-level semantics (slice bounds, reduced axes, pad index mapping)
 * come from compiler/ops/ops_shape.h, which never touches a kernel.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp_shape.h"
#include "kutil.h"
#include "../../compiler/ops/op.h"
#include "../../compiler/ops/ops_shape.h"

#define MAXR IR_MAX_RANK

#define ESZ(t) ((int64_t)ir_dtype_size((t)->dtype))
#define AT(p, i, sz) ((unsigned char *)(p) + (i) * (sz))
#define CAT(p, i, sz) ((const unsigned char *)(p) + (i) * (sz))

/* ---- pure moves ---------------------------------------------------------- */

INTERP_SHAPE_FN(interp_shape_copy)
{
  (void)c;
  if (ir_nbytes(n->out[0]) > 0) memcpy(out[0], in[0], (size_t)ir_nbytes(n->out[0]));
  return 0;
}

INTERP_SHAPE_FN(interp_shape_transpose)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t ist[MAXR], idx[MAXR], i, m = ir_numel(y), sz = ESZ(x);
  int perm[MAXR], k;
  (void)c;
  if (ops_shape_perm(n, perm)) return -1;
  kstrides(x->rank, x->shape, ist);
  for (i = 0; i < m; i++) {
    int64_t src = 0;
    kunravel(i, y->rank, y->shape, idx);
    for (k = 0; k < y->rank; k++) src += idx[k] * ist[perm[k]];  /* out axis k is input axis perm[k] */
    memcpy(AT(out[0], i, sz), CAT(in[0], src, sz), (size_t)sz);
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_concat)
{
  const ir_tensor *y = n->out[0];
  int64_t idx[MAXR], off = 0, sz = ESZ(y);
  int axis, j;
  (void)c;
  if (ops_shape_axis(n, y->rank, &axis)) return -1;
  for (j = 0; j < n->n_in; j++) {
    const ir_tensor *x = n->in[j];
    int64_t i, m = ir_numel(x);
    for (i = 0; i < m; i++) {
      kunravel(i, x->rank, x->shape, idx);
      idx[axis] += off;
      memcpy(AT(out[0], kravel(y->rank, y->shape, idx), sz), CAT(in[j], i, sz), (size_t)sz);
    }
    off += x->shape[axis];
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_split)
{
  const ir_tensor *x = n->in[0];
  int64_t idx[MAXR], off = 0, sz = ESZ(x);
  int axis, j;
  (void)c;
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  for (j = 0; j < n->n_out; j++) {
    const ir_tensor *y = n->out[j];
    int64_t i, m;
    if (!y) continue;
    m = ir_numel(y);
    for (i = 0; i < m; i++) {
      kunravel(i, y->rank, y->shape, idx);
      idx[axis] += off;
      memcpy(AT(out[j], i, sz), CAT(in[0], kravel(x->rank, x->shape, idx), sz), (size_t)sz);
    }
    off += y->shape[axis];
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_slice)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t start[MAXR], step[MAXR], len[MAXR], idx[MAXR], i, m = ir_numel(y), sz = ESZ(x);
  int k;
  (void)c;
  if (ops_shape_slice(n, start, step, len)) return -1;
  for (i = 0; i < m; i++) {
    kunravel(i, y->rank, y->shape, idx);
    for (k = 0; k < y->rank; k++) idx[k] = start[k] + idx[k] * step[k];
    memcpy(AT(out[0], i, sz), CAT(in[0], kravel(x->rank, x->shape, idx), sz), (size_t)sz);
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_gather)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t outer = 1, inner = 1, dim, nidx = ir_numel(ix), o, j, sz = ESZ(x);
  int axis, k;
  (void)c;
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  for (k = 0; k < axis; k++) outer *= x->shape[k];
  for (k = axis + 1; k < x->rank; k++) inner *= x->shape[k];
  dim = x->shape[axis];
  for (o = 0; o < outer; o++)
    for (j = 0; j < nidx; j++) {
      int64_t v = kload_i(ix->dtype, in[1], j);
      if (v < -dim || v >= dim)
        return op_fail(n, "index %lld out of range for axis %d of extent %lld", (long long)v, axis, (long long)dim);
      if (v < 0) v += dim;
      memcpy(AT(out[0], (o * nidx + j) * inner, sz), CAT(in[0], (o * dim + v) * inner, sz), (size_t)(inner * sz));
    }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_pad)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t b[MAXR], e[MAXR], idx[MAXR], i, m = ir_numel(y), sz = ESZ(x);
  unsigned char cval[16] = {0};
  ops_pad_mode mode;
  int k;
  (void)c;
  if (ops_shape_pads(n, b, e, &mode)) return -1;
  if (n->n_in > 2 && in[2]) memcpy(cval, in[2], (size_t)sz);
  else if (ir_attr_find(n, "value")) kstore_f(x->dtype, cval, 0, ir_attr_float(n, "value", 0));
  for (i = 0; i < m; i++) {
    int inside = 1;
    kunravel(i, y->rank, y->shape, idx);
    for (k = 0; k < y->rank; k++) {
      idx[k] = ops_shape_pad_src(mode, idx[k], b[k], x->shape[k]);
      if (idx[k] < 0) inside = 0;
    }
    memcpy(AT(out[0], i, sz), inside ? CAT(in[0], kravel(x->rank, x->shape, idx), sz) : cval, (size_t)sz);
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_expand)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t i, m = ir_numel(y), sz = ESZ(x);
  (void)c;
  for (i = 0; i < m; i++)
    memcpy(AT(out[0], i, sz), CAT(in[0], kbcast_index(y->rank, y->shape, x->rank, x->shape, i), sz), (size_t)sz);
  return 0;
}

INTERP_SHAPE_FN(interp_shape_tile)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t idx[MAXR], i, m = ir_numel(y), sz = ESZ(x);
  int k;
  (void)c;
  for (i = 0; i < m; i++) {
    kunravel(i, y->rank, y->shape, idx);
    for (k = 0; k < y->rank; k++) idx[k] %= x->shape[k];
    memcpy(AT(out[0], i, sz), CAT(in[0], kravel(x->rank, x->shape, idx), sz), (size_t)sz);
  }
  return 0;
}

/* ---- values known from attributes and shapes ------------------------------ */

INTERP_SHAPE_FN(interp_shape_constant)
{
  const ir_tensor *y = n->out[0];
  const ir_attr *a;
  int k;
  (void)c;
  (void)in;
  if ((a = ir_attr_find(n, "value"))) {
    if (ir_nbytes(y) > 0) memcpy(out[0], a->t->data, (size_t)ir_nbytes(y));
  } else if ((a = ir_attr_find(n, "value_float"))) {
    kstore_f(IR_F32, out[0], 0, a->f);
  } else if ((a = ir_attr_find(n, "value_int"))) {
    kstore_i(IR_I64, out[0], 0, a->i);
  } else if ((a = ir_attr_find(n, "value_floats"))) {
    for (k = 0; k < a->n; k++) kstore_f(IR_F32, out[0], k, a->floats[k]);
  } else if ((a = ir_attr_find(n, "value_ints"))) {
    for (k = 0; k < a->n; k++) kstore_i(IR_I64, out[0], k, a->ints[k]);
  } else {
    return op_fail(n, "no supported value attribute");
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_shape)
{
  const ir_tensor *x = n->in[0];
  int64_t k, s = 0;
  (void)c;
  (void)in;
  if (ir_numel(n->out[0]) > 0) {
    int64_t len = n->out[0]->shape[0], r = x->rank, st = ir_attr_int(n, "start", 0);
    if (st < 0) st += r;             /* same clamping as the op's infer */
    s = st < 0 ? 0 : (st > r ? r : st);
    for (k = 0; k < len; k++) kstore_i(IR_I64, out[0], k, x->shape[s + k]);
  }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_size)
{
  (void)c;
  (void)in;
  kstore_i(IR_I64, out[0], 0, ir_numel(n->in[0]));
  return 0;
}

INTERP_SHAPE_FN(interp_shape_constant_of_shape)
{
  const ir_tensor *y = n->out[0];
  const ir_attr *a = ir_attr_find(n, "value");
  int64_t i, m = ir_numel(y), sz = ESZ(y);
  unsigned char v[16] = {0};          /* default: float 0 */
  (void)c;
  (void)in;
  if (a) memcpy(v, a->t->data, (size_t)sz);
  for (i = 0; i < m; i++) memcpy(AT(out[0], i, sz), v, (size_t)sz);
  return 0;
}

INTERP_SHAPE_FN(interp_shape_range)
{
  const ir_tensor *y = n->out[0];
  ir_dtype dt = y->dtype;
  int64_t i, m = ir_numel(y);
  (void)c;
  if (ir_dtype_is_float(dt)) {
    double s = kload_f(dt, in[0], 0), d = kload_f(dt, in[2], 0);
    for (i = 0; i < m; i++) kstore_f(dt, out[0], i, s + (double)i * d);
  } else {
    int64_t s = kload_i(dt, in[0], 0), d = kload_i(dt, in[2], 0);
    /* i * d may overflow where s + i * d does not: wrap in unsigned. */
    for (i = 0; i < m; i++) kstore_i(dt, out[0], i, (int64_t)((uint64_t)s + (uint64_t)i * (uint64_t)d));
  }
  return 0;
}

/* ---- reductions ----------------------------------------------------------- */

typedef enum rkind { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SSQ, R_LSE, R_LS } rkind;

/* Output flat index of every input element: the input coordinates with the
 * reduced ones dropped, raveled over the kept extents. */
static int64_t reduce_target(const ir_tensor *x, const int *mask, int64_t i)
{
  int64_t idx[MAXR], o = 0;
  int k;
  kunravel(i, x->rank, x->shape, idx);
  for (k = 0; k < x->rank; k++)
    if (!mask[k]) o = o * x->shape[k] + idx[k];
  return o;
}

static int reduce(const ir_node *n, const void *const *in, void *const *out, rkind kind)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t nin = ir_numel(x), nout = ir_numel(y), i, group;
  int mask[MAXR], noop;
  if (ops_shape_reduce_axes(n, mask, &noop)) return -1;
  if (noop) {
    if (ir_nbytes(y) > 0) memcpy(out[0], in[0], (size_t)ir_nbytes(y));
    return 0;
  }
  if (nout == 0) return 0;
  group = nin / nout;
  if (ir_dtype_is_float(x->dtype)) {
    double *acc = malloc((size_t)nout * sizeof *acc);
    if (!acc) return op_fail(n, "out of memory");
    for (i = 0; i < nout; i++)
      acc[i] = kind == R_MAX ? -INFINITY : kind == R_MIN ? INFINITY : kind == R_PROD ? 1.0 : 0.0;
    for (i = 0; i < nin; i++) {
      double v = kload_f(x->dtype, in[0], i), *a = &acc[reduce_target(x, mask, i)];
      switch (kind) {
      case R_MAX: if (v > *a || v != v) *a = v; break;   /* NaN wins, as in numpy */
      case R_MIN: if (v < *a || v != v) *a = v; break;
      case R_PROD: *a *= v; break;
      case R_L1: *a += fabs(v); break;
      case R_L2: case R_SSQ: *a += v * v; break;
      case R_LSE: *a += exp(v); break;
      default: *a += v; break;
      }
    }
    for (i = 0; i < nout; i++) {
      double v = acc[i];
      if (kind == R_MEAN) v /= (double)group;
      else if (kind == R_L2) v = sqrt(v);
      else if (kind == R_LSE || kind == R_LS) v = log(v);
      kstore_f(y->dtype, out[0], i, v);
    }
    free(acc);
  } else {
    int64_t *acc = malloc((size_t)nout * sizeof *acc);
    if (!acc) return op_fail(n, "out of memory");
    for (i = 0; i < nout; i++) acc[i] = kind == R_MAX ? INT64_MIN : kind == R_MIN ? INT64_MAX : kind == R_PROD ? 1 : 0;
    for (i = 0; i < nin; i++) {
      int64_t v = kload_i(x->dtype, in[0], i), *a = &acc[reduce_target(x, mask, i)];
      switch (kind) {
      case R_MAX: if (v > *a) *a = v; break;
      case R_MIN: if (v < *a) *a = v; break;
      case R_PROD: *a = (int64_t)((uint64_t)*a * (uint64_t)v); break;   /* wraps like the dtype */
      default: *a = (int64_t)((uint64_t)*a + (uint64_t)v); break;
      }
    }
    for (i = 0; i < nout; i++) kstore_i(y->dtype, out[0], i, acc[i]);
    free(acc);
  }
  return 0;
}

#define REDUCE_FN(fn, kind) \
  INTERP_SHAPE_FN(fn) { (void)c; return reduce(n, in, out, kind); }
REDUCE_FN(interp_shape_reduce_sum, R_SUM)
REDUCE_FN(interp_shape_reduce_mean, R_MEAN)
REDUCE_FN(interp_shape_reduce_max, R_MAX)
REDUCE_FN(interp_shape_reduce_min, R_MIN)
REDUCE_FN(interp_shape_reduce_prod, R_PROD)
REDUCE_FN(interp_shape_reduce_l1, R_L1)
REDUCE_FN(interp_shape_reduce_l2, R_L2)
REDUCE_FN(interp_shape_reduce_sum_square, R_SSQ)
REDUCE_FN(interp_shape_reduce_log_sum_exp, R_LSE)
REDUCE_FN(interp_shape_reduce_log_sum, R_LS)

/* ArgMax (sign 1) / ArgMin (sign -1): first extreme, or last with
 * select_last_index. */
static int arg(const ir_node *n, const void *const *in, void *const *out, int sign)
{
  const ir_tensor *x = n->in[0];
  int64_t outer = 1, inner = 1, dim, o, t, j;
  int axis, k, last = (int)ir_attr_int(n, "select_last_index", 0);
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  for (k = 0; k < axis; k++) outer *= x->shape[k];
  for (k = axis + 1; k < x->rank; k++) inner *= x->shape[k];
  dim = x->shape[axis];
  for (o = 0; o < outer; o++)
    for (t = 0; t < inner; t++) {
      int64_t best = 0;
      double bv = sign * kload_f(x->dtype, in[0], o * dim * inner + t);
      for (j = 1; j < dim; j++) {
        double v = sign * kload_f(x->dtype, in[0], (o * dim + j) * inner + t);
        if (v > bv || (last && v == bv)) {
          bv = v;
          best = j;
        }
      }
      kstore_i(IR_I64, out[0], o * inner + t, best);
    }
  return 0;
}

INTERP_SHAPE_FN(interp_shape_argmax) { (void)c; return arg(n, in, out, 1); }
INTERP_SHAPE_FN(interp_shape_argmin) { (void)c; return arg(n, in, out, -1); }
