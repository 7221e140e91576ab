/*
 * interp_index.c - reference kernels of the index group.
 *
 * Each kernel follows the op's definition literally: walk the indices
 * element by element, turn the flat position into coordinates, replace the
 * indexed coordinate(s) by the index value (negative ones counted from the
 * end) and move ir_dtype_size bytes, or combine values through kutil.h's
 * double/int64/uint64 accessors for the scatter reductions.  Every index is
 * range-checked: an out-of-range index is an error naming the node, never a
 * read or write outside a buffer.  The losses accumulate in double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp_index.h"
#include "kutil.h"
#include "../../compiler/ops/op.h"

#define MAXR IR_MAX_RANK
#define ESZ(t) ((int64_t)ir_dtype_size((t)->dtype))
#define AT(p, i, sz) ((unsigned char *)(p) + (i) * (sz))
#define CAT(p, i, sz) ((const unsigned char *)(p) + (i) * (sz))

/* Element i of index tensor ix, wrapped into [0, dim); -1 via op_fail when
 * outside [-dim, dim). */
static int load_index(const ir_node *n, const ir_tensor *ix, const void *p, int64_t i, int64_t dim, int axis,
                      int64_t *out)
{
  int64_t v = kload_i(ix->dtype, p, i);
  if (v < -dim || v >= dim)
    return op_fail(n, "index %lld (element %lld of '%s') is out of range for axis %d of extent %lld", (long long)v,
                   (long long)i, ix->name, axis, (long long)dim);
  *out = v < 0 ? v + dim : v;
  return 0;
}

typedef enum red { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } red;

static int reduction_of(const ir_node *n, red *r)
{
  const char *s = ir_attr_string(n, "reduction", "none");
  if (strcmp(s, "none") == 0) *r = RED_NONE;
  else if (strcmp(s, "add") == 0) *r = RED_ADD;
  else if (strcmp(s, "mul") == 0) *r = RED_MUL;
  else if (strcmp(s, "max") == 0) *r = RED_MAX;
  else if (strcmp(s, "min") == 0) *r = RED_MIN;
  else return op_fail(n, "reduction '%s' is not supported", s);
  return 0;
}

/* dst[di] = dst[di] (r) src[si] for one element of dtype dt. */
static void combine(red r, ir_dtype dt, void *dst, int64_t di, const void *src, int64_t si)
{
  int64_t sz = (int64_t)ir_dtype_size(dt);
  if (r == RED_NONE) {
    memcpy(AT(dst, di, sz), CAT(src, si, sz), (size_t)sz);
  } else if (ir_dtype_is_float(dt)) {
    double a = kload_f(dt, dst, di), b = kload_f(dt, src, si);
    double v = r == RED_ADD ? a + b : r == RED_MUL ? a * b : r == RED_MAX ? (b > a ? b : a) : (b < a ? b : a);
    kstore_f(dt, dst, di, v);
  } else if (ir_dtype_is_signed(dt)) {
    int64_t a = kload_i(dt, dst, di), b = kload_i(dt, src, si), v;
    if (r == RED_ADD) v = (int64_t)((uint64_t)a + (uint64_t)b);      /* wraps like the dtype */
    else if (r == RED_MUL) v = (int64_t)((uint64_t)a * (uint64_t)b);
    else v = r == RED_MAX ? (b > a ? b : a) : (b < a ? b : a);
    kstore_i(dt, dst, di, v);
  } else {
    uint64_t a = kload_u(dt, dst, di), b = kload_u(dt, src, si), v;
    v = r == RED_ADD ? a + b : r == RED_MUL ? a * b : r == RED_MAX ? (b > a ? b : a) : (b < a ? b : a);
    kstore_u(dt, dst, di, v);
  }
}

/* ---- GatherElements / ScatterElements ---------------------------------------- */

INTERP_INDEX_FN(interp_index_gather_elements)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t idx[MAXR], i, m = ir_numel(ix), sz = ESZ(x);
  int axis;
  (void)c;
  if (op_axis(n, ir_attr_int(n, "axis", 0), x->rank, &axis)) return -1;
  for (i = 0; i < m; i++) {
    kunravel(i, ix->rank, ix->shape, idx);
    if (load_index(n, ix, in[1], i, x->shape[axis], axis, &idx[axis])) return -1;
    memcpy(AT(out[0], i, sz), CAT(in[0], kravel(x->rank, x->shape, idx), sz), (size_t)sz);
  }
  return 0;
}

INTERP_INDEX_FN(interp_index_scatter_elements)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t idx[MAXR], i, m = ir_numel(ix);
  int axis;
  red r;
  (void)c;
  if (op_axis(n, ir_attr_int(n, "axis", 0), x->rank, &axis) || reduction_of(n, &r)) return -1;
  if (ir_nbytes(x) > 0) memcpy(out[0], in[0], (size_t)ir_nbytes(x));
  for (i = 0; i < m; i++) {
    kunravel(i, ix->rank, ix->shape, idx);
    if (load_index(n, ix, in[1], i, x->shape[axis], axis, &idx[axis])) return -1;
    combine(r, x->dtype, out[0], kravel(x->rank, x->shape, idx), in[2], i);   /* updates share indices' layout */
  }
  return 0;
}

/* ---- GatherND / ScatterND ------------------------------------------------------ */

/* Flat element offset within data axes [b, b+k) of tuple t (k components
 * starting at element t*k of the indices), in units of those axes. */
static int tuple_offset(const ir_node *n, const ir_tensor *x, const ir_tensor *ix, const void *p, int b, int64_t k,
                        int64_t t, int64_t *off)
{
  int64_t j, o = 0, v = 0;
  for (j = 0; j < k; j++) {
    if (load_index(n, ix, p, t * k + j, x->shape[b + j], b + (int)j, &v)) return -1;
    o = o * x->shape[b + j] + v;
  }
  *off = o;
  return 0;
}

INTERP_INDEX_FN(interp_index_gather_nd)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int b = (int)ir_attr_int(n, "batch_dims", 0), j;
  int64_t k = ix->shape[ix->rank - 1], nb = 1, nt = 1, slice = 1, block = 1, bi, t, off, sz = ESZ(x);
  (void)c;
  for (j = 0; j < b; j++) nb *= x->shape[j];
  for (j = b; j < ix->rank - 1; j++) nt *= ix->shape[j];        /* tuples per batch */
  for (j = b + (int)k; j < x->rank; j++) slice *= x->shape[j];   /* elements each tuple selects */
  for (j = b; j < x->rank; j++) block *= x->shape[j];            /* data elements per batch */
  for (bi = 0; bi < nb; bi++)
    for (t = 0; t < nt; t++) {
      if (tuple_offset(n, x, ix, in[1], b, k, bi * nt + t, &off)) return -1;
      if (slice > 0)
        memcpy(AT(out[0], (bi * nt + t) * slice, sz), CAT(in[0], bi * block + off * slice, sz), (size_t)(slice * sz));
    }
  return 0;
}

INTERP_INDEX_FN(interp_index_scatter_nd)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t k = ix->shape[ix->rank - 1], nt = ir_numel(ix) / (k ? k : 1), slice = 1, t, s, off;
  int j;
  red r;
  (void)c;
  if (reduction_of(n, &r)) return -1;
  if (ir_numel(ix) == 0) nt = 0;
  for (j = (int)k; j < x->rank; j++) slice *= x->shape[j];
  if (ir_nbytes(x) > 0) memcpy(out[0], in[0], (size_t)ir_nbytes(x));
  for (t = 0; t < nt; t++) {
    if (tuple_offset(n, x, ix, in[1], 0, k, t, &off)) return -1;
    for (s = 0; s < slice; s++) combine(r, x->dtype, out[0], off * slice + s, in[2], t * slice + s);
  }
  return 0;
}

/* ---- losses -------------------------------------------------------------------- */

/* loss = -logp[n, t, d] * w[t] per position (0 with weight 0 where t is
 * ignore_index), then none / sum / mean (sum over the total weight).
 * logp is (N, C, D) in double. */
static int nll(const ir_node *n, const double *logp, const void *const *in, void *out)
{
  const ir_tensor *x = n->in[0], *tg = n->in[1], *w = n->n_in > 2 ? n->in[2] : NULL;
  const char *red = ir_attr_string(n, "reduction", "mean");
  int has_ii = ir_attr_find(n, "ignore_index") != NULL, k;
  int64_t ii = ir_attr_int(n, "ignore_index", 0), N = x->shape[0], C = x->shape[1], D = 1, i, d;
  double sum = 0, wsum = 0;
  for (k = 2; k < x->rank; k++) D *= x->shape[k];
  for (i = 0; i < N; i++)
    for (d = 0; d < D; d++) {
      int64_t t = kload_i(tg->dtype, in[1], i * D + d);
      double l = 0, wt = 0;
      if (!has_ii || t != ii) {
        if (t < 0 || t >= C)
          return op_fail(n, "target %lld (element %lld) is outside [0, %lld)", (long long)t, (long long)(i * D + d),
                         (long long)C);
        wt = w ? kload_f(w->dtype, in[2], t) : 1.0;
        l = -logp[(i * C + t) * D + d] * wt;
      }
      if (strcmp(red, "none") == 0) kstore_f(x->dtype, out, i * D + d, l);
      sum += l;
      wsum += wt;
    }
  if (strcmp(red, "sum") == 0) kstore_f(x->dtype, out, 0, sum);
  else if (strcmp(red, "mean") == 0) kstore_f(x->dtype, out, 0, sum / wsum);   /* 0/0 is NaN, as in ONNX */
  return 0;
}

INTERP_INDEX_FN(interp_index_nll_loss)
{
  const ir_tensor *x = n->in[0];
  int64_t i, m = ir_numel(x);
  double *v = malloc((size_t)(m > 0 ? m : 1) * sizeof *v);
  int rc;
  (void)c;
  if (!v) return op_fail(n, "out of memory");
  for (i = 0; i < m; i++) v[i] = kload_f(x->dtype, in[0], i);
  rc = nll(n, v, in, out[0]);
  free(v);
  return rc;
}

/* NegativeLogLikelihoodLossGrad (ops_grad.c): dX of the NLL above for dL,
 * -w[t] * dL at each target (divided by the total weight for mean). */
INTERP_INDEX_FN(interp_index_nll_loss_grad)
{
  const ir_tensor *dl = n->in[0], *x = n->in[1], *tg = n->in[2], *w = n->n_in > 3 ? n->in[3] : NULL;
  const char *red = ir_attr_string(n, "reduction", "mean");
  int has_ii = ir_attr_find(n, "ignore_index") != NULL, none = strcmp(red, "none") == 0, k;
  int64_t ii = ir_attr_int(n, "ignore_index", 0), N = x->shape[0], C = x->shape[1], D = 1, i, d, m = ir_numel(x);
  double wsum = 0;
  (void)c;
  for (k = 2; k < x->rank; k++) D *= x->shape[k];
  for (i = 0; i < m; i++) kstore_f(x->dtype, out[0], i, 0.0);
  for (i = 0; i < N * D; i++) {
    int64_t t = kload_i(tg->dtype, in[2], i);
    if (has_ii && t == ii) continue;
    if (t < 0 || t >= C)
      return op_fail(n, "target %lld (element %lld) is outside [0, %lld)", (long long)t, (long long)i, (long long)C);
    wsum += w ? kload_f(w->dtype, in[3], t) : 1.0;
  }
  for (i = 0; i < N; i++)
    for (d = 0; d < D; d++) {
      int64_t t = kload_i(tg->dtype, in[2], i * D + d);
      double g = kload_f(dl->dtype, in[0], none ? i * D + d : 0);
      if (has_ii && t == ii) continue;
      if (strcmp(red, "mean") == 0) g /= wsum;
      kstore_f(x->dtype, out[0], (i * C + t) * D + d, -g * (w ? kload_f(w->dtype, in[3], t) : 1.0));
    }
  return 0;
}

/* log_softmax over axis 1, then the NLL above; output 1 (when asked)
 * receives the log-probabilities. */
INTERP_INDEX_FN(interp_index_sce_loss)
{
  const ir_tensor *x = n->in[0];
  int64_t m = ir_numel(x), N = x->shape[0], C = x->shape[1], D = 1, i, d, j;
  double *v = malloc((size_t)(m > 0 ? m : 1) * sizeof *v);
  int k, rc;
  (void)c;
  if (!v) return op_fail(n, "out of memory");
  for (k = 2; k < x->rank; k++) D *= x->shape[k];
  for (i = 0; i < N; i++)
    for (d = 0; d < D; d++) {
      double mx = -INFINITY, s = 0, lse;
      for (j = 0; j < C; j++) mx = fmax(mx, kload_f(x->dtype, in[0], (i * C + j) * D + d));
      for (j = 0; j < C; j++) s += exp(kload_f(x->dtype, in[0], (i * C + j) * D + d) - mx);
      lse = mx + log(s);
      for (j = 0; j < C; j++) v[(i * C + j) * D + d] = kload_f(x->dtype, in[0], (i * C + j) * D + d) - lse;
    }
  rc = nll(n, v, in, out[0]);
  if (!rc && n->n_out > 1 && n->out[1] && out[1])
    for (i = 0; i < m; i++) kstore_f(x->dtype, out[1], i, v[i]);
  free(v);
  return rc;
}
