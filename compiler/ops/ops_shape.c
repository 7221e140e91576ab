/*
 * ops_shape.c - op table entries of the shape group: ops that move, select
 * or relabel elements (Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
 * Concat, Split, Slice, Gather, Pad, Expand, Tile), reductions (Reduce*,
 * ArgMax/ArgMin) and ops whose value follows from shapes or attributes
 * alone (Shape, Size, Constant, ConstantOfShape, Range).
 *
 * Conventions:
 *  - Inputs arrive in the newest-opset form (axes, pads, starts... as
 *    inputs).  Where an older opset carried them as an attribute and the
 *    frontend left it there, the attribute is read as a fallback.
 *  - Every such int list must be a compile-time constant (op_const_ints):
 *    shapes are static.  Pad's constant value is the one runtime input.
 *  - Element moves work for every dtype (ir_dtype_size bytes each);
 *    reductions take float32/float64, and Sum/Max/Min/Prod also int32/int64.
 *  - The semantics shared by interpreter and backend (slice bounds, reduced
 *    axes, pad index mapping) live here, declared in ops_shape.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op.h"
#include "ops_shape.h"
#include "grad_shape.h"
#include "../../runtime/kernels/interp_shape.h"
#include "../backend/emit_shape.h"

#define MAXR IR_MAX_RANK

/* "[2,3,-1]" of a raw int list into buf. */
static const char *ints_str(char *buf, size_t cap, int k, const int64_t *v)
{
  size_t used = 0;
  int i;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, cap, "[");
  for (i = 0; i < k && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", (long long)v[i]);
  if (used < cap) snprintf(buf + used, cap - used, "]");
  return buf;
}

/* Int list from constant input i, else from attribute attr (older opsets).
 * *cnt is -1 when neither is present. */
static int get_ints(const ir_node *n, int i, const char *attr, int64_t *v, int max, int *cnt)
{
  const int64_t *a;
  int k;
  *cnt = -1;
  if (i < n->n_in && n->in[i]) return op_const_ints(n, i, v, max, cnt);
  if (attr && (k = ir_attr_ints(n, attr, &a)) >= 0) {
    if (k > max) return op_fail(n, "attribute '%s' has %d values, at most %d allowed", attr, k, max);
    if (k) memcpy(v, a, (size_t)k * sizeof *v);
    *cnt = k;
  }
  return 0;
}

static int need_shape(const ir_node *n, const ir_tensor *t)
{
  if (!t || !ir_shape_known(t)) return op_fail(n, "input '%s' has an unknown shape", t ? t->name : "?");
  return 0;
}

int ops_shape_axis(const ir_node *n, int rank, int *axis)
{
  return op_axis(n, ir_attr_int(n, "axis", 0), rank, axis);
}

/* ---- Flatten, Reshape, Squeeze, Unsqueeze ------------------------------ */

static int flatten_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t axis = ir_attr_int(n, "axis", 1), d[2] = {1, 1};
  int k;
  (void)g;
  if (need_shape(n, x)) return -1;
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis > x->rank)
    return op_fail(n, "axis %lld out of range for rank %d", (long long)ir_attr_int(n, "axis", 1), x->rank);
  for (k = 0; k < x->rank; k++) d[k < axis ? 0 : 1] *= x->shape[k];
  op_set_out(n->out[0], x->dtype, 2, d);
  return 0;
}

static int reshape_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t req[MAXR], d[MAXR], known = 1, numel;
  int k, cnt, infer_at = -1, allowzero = (int)ir_attr_int(n, "allowzero", 0);
  char b1[128], b2[128];
  (void)g;
  if (need_shape(n, x)) return -1;
  if (op_const_ints(n, 1, req, MAXR, &cnt)) return -1;
  numel = ir_numel(x);
  for (k = 0; k < cnt; k++) {
    if (req[k] == 0 && !allowzero) {
      if (k >= x->rank)
        return op_fail(n, "shape %s copies dim %d, but the input %s has rank %d",
                       ints_str(b1, sizeof b1, cnt, req), k, ir_shape_str(x, b2, sizeof b2), x->rank);
      d[k] = x->shape[k];
    } else if (req[k] == -1) {
      if (infer_at >= 0) return op_fail(n, "shape %s has more than one -1", ints_str(b1, sizeof b1, cnt, req));
      if (allowzero) {
        int j;
        for (j = 0; j < cnt; j++)
          if (req[j] == 0) return op_fail(n, "shape %s has both 0 and -1 with allowzero=1", ints_str(b1, sizeof b1, cnt, req));
      }
      infer_at = k;
      d[k] = 1;
      continue;
    } else if (req[k] < -1) {
      return op_fail(n, "shape %s has a negative dimension", ints_str(b1, sizeof b1, cnt, req));
    } else {
      d[k] = req[k];
    }
    if (d[k] != 0 && known > INT64_MAX / d[k])   /* hostile shapes must not overflow */
      return op_fail(n, "shape %s is too large", ints_str(b1, sizeof b1, cnt, req));
    known *= d[k];
  }
  if (infer_at >= 0) {
    if (known == 0 || numel % known != 0)
      return op_fail(n, "cannot reshape %s into %s", ir_shape_str(x, b2, sizeof b2), ints_str(b1, sizeof b1, cnt, req));
    d[infer_at] = numel / known;
    known *= d[infer_at];
  }
  if (known != numel)
    return op_fail(n, "cannot reshape %s into %s", ir_shape_str(x, b2, sizeof b2), ints_str(b1, sizeof b1, cnt, req));
  op_set_out(n->out[0], x->dtype, cnt, d);
  return 0;
}

static int squeeze_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t axes[MAXR], d[MAXR];
  int mask[MAXR] = {0}, k, cnt, r = 0;
  (void)g;
  if (need_shape(n, x)) return -1;
  if (get_ints(n, 1, "axes", axes, MAXR, &cnt)) return -1;
  if (cnt <= 0) {
    for (k = 0; k < x->rank; k++) mask[k] = x->shape[k] == 1;
  } else {
    for (k = 0; k < cnt; k++) {
      int a;
      if (op_axis(n, axes[k], x->rank, &a)) return -1;
      if (x->shape[a] != 1)
        return op_fail(n, "cannot squeeze axis %d of extent %lld", a, (long long)x->shape[a]);
      mask[a] = 1;
    }
  }
  for (k = 0; k < x->rank; k++)
    if (!mask[k]) d[r++] = x->shape[k];
  op_set_out(n->out[0], x->dtype, r, d);
  return 0;
}

static int unsqueeze_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t axes[MAXR], d[MAXR];
  int mask[MAXR] = {0}, k, cnt, r, j = 0;
  (void)g;
  if (need_shape(n, x)) return -1;
  if (get_ints(n, 1, "axes", axes, MAXR, &cnt)) return -1;
  if (cnt < 0) return op_fail(n, "missing axes");
  r = x->rank + cnt;
  if (r > MAXR) return op_fail(n, "output rank %d exceeds %d", r, MAXR);
  for (k = 0; k < cnt; k++) {
    int a;
    if (op_axis(n, axes[k], r, &a)) return -1;
    if (mask[a]) return op_fail(n, "axis %d repeated", a);
    mask[a] = 1;
  }
  for (k = 0; k < r; k++) d[k] = mask[k] ? 1 : x->shape[j++];
  op_set_out(n->out[0], x->dtype, r, d);
  return 0;
}

/* ---- Transpose ---------------------------------------------------------- */

int ops_shape_perm(const ir_node *n, int *perm)
{
  const ir_tensor *x = n->in[0];
  const int64_t *p;
  int k, cnt = ir_attr_ints(n, "perm", &p), seen[MAXR] = {0};
  if (cnt < 0) {
    for (k = 0; k < x->rank; k++) perm[k] = x->rank - 1 - k;
    return 0;
  }
  if (cnt != x->rank) return op_fail(n, "perm has %d entries for an input of rank %d", cnt, x->rank);
  for (k = 0; k < cnt; k++) {
    if (p[k] < 0 || p[k] >= cnt || seen[p[k]]) return op_fail(n, "perm is not a permutation of 0..%d", cnt - 1);
    seen[p[k]] = 1;
    perm[k] = (int)p[k];
  }
  return 0;
}

static int transpose_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int perm[MAXR], k;
  int64_t d[MAXR];
  (void)g;
  if (need_shape(n, x) || ops_shape_perm(n, perm)) return -1;
  for (k = 0; k < x->rank; k++) d[k] = x->shape[perm[k]];
  op_set_out(n->out[0], x->dtype, x->rank, d);
  return 0;
}

/* ---- Concat, Split ------------------------------------------------------ */

static int concat_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x0 = n->in[0];
  int64_t d[MAXR];
  int i, k, axis;
  (void)g;
  for (i = 0; i < n->n_in; i++) {
    if (!n->in[i]) return op_fail(n, "input %d is missing", i);
    if (need_shape(n, n->in[i])) return -1;
  }
  if (x0->rank < 1) return op_fail(n, "cannot concatenate scalars");
  if (ops_shape_axis(n, x0->rank, &axis)) return -1;
  memcpy(d, x0->shape, sizeof d);
  d[axis] = 0;
  for (i = 0; i < n->n_in; i++) {
    const ir_tensor *x = n->in[i];
    if (x->dtype != x0->dtype)
      return op_fail(n, "input '%s' is %s, input '%s' is %s", x->name, ir_dtype_name(x->dtype), x0->name, ir_dtype_name(x0->dtype));
    if (x->rank != x0->rank) return op_fail(n, "input '%s' has rank %d, expected %d", x->name, x->rank, x0->rank);
    for (k = 0; k < x->rank; k++)
      if (k != axis && x->shape[k] != x0->shape[k])
        return op_fail(n, "input '%s' has extent %lld on axis %d, expected %lld", x->name,
                       (long long)x->shape[k], k, (long long)x0->shape[k]);
    d[axis] += x->shape[axis];
  }
  op_set_out(n->out[0], x0->dtype, x0->rank, d);
  return 0;
}

static int split_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t sizes[256], d[MAXR], total = 0, dim;
  int k, cnt, axis, nout = n->n_out;
  (void)g;
  if (need_shape(n, x)) return -1;
  if (x->rank < 1) return op_fail(n, "cannot split a scalar");
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  if (nout > 256) return op_fail(n, "more than 256 outputs");
  dim = x->shape[axis];
  if (get_ints(n, 1, "split", sizes, 256, &cnt)) return -1;
  if (cnt >= 0) {
    if (cnt != nout) return op_fail(n, "split has %d sizes for %d outputs", cnt, nout);
  } else if (ir_attr_find(n, "num_outputs")) {
    int64_t no = ir_attr_int(n, "num_outputs", 0), chunk;
    if (no != nout) return op_fail(n, "num_outputs=%lld but the node has %d outputs", (long long)no, nout);
    chunk = (dim + nout - 1) / nout;   /* opset 18: equal chunks, the last one smaller */
    for (k = 0; k < nout; k++) {
      int64_t left = dim - chunk * k;
      sizes[k] = left < 0 ? 0 : (left < chunk ? left : chunk);
    }
  } else {
    if (dim % nout) return op_fail(n, "axis %d of extent %lld does not split evenly into %d outputs", axis, (long long)dim, nout);
    for (k = 0; k < nout; k++) sizes[k] = dim / nout;
  }
  for (k = 0; k < nout; k++) {
    if (sizes[k] < 0) return op_fail(n, "negative split size %lld", (long long)sizes[k]);
    total += sizes[k];
  }
  if (total != dim)
    return op_fail(n, "split sizes sum to %lld, but axis %d has extent %lld", (long long)total, axis, (long long)dim);
  for (k = 0; k < nout; k++) {
    memcpy(d, x->shape, sizeof d);
    d[axis] = sizes[k];
    if (!n->out[k]) continue;
    op_set_out(n->out[k], x->dtype, x->rank, d);
  }
  return 0;
}

/* ---- Slice -------------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

int ops_shape_slice(const ir_node *n, int64_t *start, int64_t *step, int64_t *len)
{
  const ir_tensor *x = n->in[0];
  int64_t st[MAXR], en[MAXR], ax[MAXR], sp[MAXR];
  int k, ns, ne, na, np, seen[MAXR] = {0};
  if (get_ints(n, 1, "starts", st, MAXR, &ns) || get_ints(n, 2, "ends", en, MAXR, &ne) ||
      get_ints(n, 3, "axes", ax, MAXR, &na) || get_ints(n, 4, NULL, sp, MAXR, &np))
    return -1;
  if (ns < 0 || ne < 0) return op_fail(n, "missing starts or ends");
  if (ne != ns || (na >= 0 && na != ns) || (np >= 0 && np != ns))
    return op_fail(n, "starts, ends, axes and steps differ in length");
  for (k = 0; k < x->rank; k++) {
    start[k] = 0;
    step[k] = 1;
    len[k] = x->shape[k];
  }
  for (k = 0; k < ns; k++) {
    int a;
    int64_t s = st[k], e = en[k], p = np >= 0 ? sp[k] : 1, d;
    if (op_axis(n, na >= 0 ? ax[k] : k, x->rank, &a)) return -1;
    if (seen[a]) return op_fail(n, "axis %d repeated", a);
    seen[a] = 1;
    if (p == 0) return op_fail(n, "step 0 on axis %d", a);
    d = x->shape[a];
    /* A step beyond the extent takes one element at most: clamp it so that
     * the length and stride arithmetic cannot overflow. */
    if (p > d + 1) p = d + 1;
    if (p < -d - 1) p = -d - 1;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (p > 0) {
      s = clamp64(s, 0, d);
      e = clamp64(e, 0, d);
      len[a] = e > s ? (e - s + p - 1) / p : 0;
    } else {
      s = clamp64(s, 0, d - 1);
      e = clamp64(e, -1, d - 1);
      len[a] = s > e ? (s - e - p - 1) / -p : 0;
      if (d == 0) s = 0;
    }
    start[a] = s;
    step[a] = p;
  }
  return 0;
}

static int slice_infer(ir_graph *g, ir_node *n)
{
  int64_t start[MAXR], step[MAXR], len[MAXR];
  (void)g;
  if (need_shape(n, n->in[0]) || ops_shape_slice(n, start, step, len)) return -1;
  op_set_out(n->out[0], n->in[0]->dtype, n->in[0]->rank, len);
  return 0;
}

/* ---- Constant, Shape, Size, ConstantOfShape, Range ----------------------- */

static int constant_infer(ir_graph *g, ir_node *n)
{
  const char *names[] = {"value", "value_float", "value_floats", "value_int", "value_ints",
                         "value_string", "value_strings", "sparse_value"};
  const ir_attr *a = NULL;
  int k, found = 0;
  (void)g;
  for (k = 0; k < 8; k++)
    if (ir_attr_find(n, names[k])) {
      a = ir_attr_find(n, names[k]);
      found++;
    }
  if (found != 1) return op_fail(n, "needs exactly one value attribute, has %d", found);
  if (!strcmp(a->name, "value")) {
    const ir_tensor *t = a->t;
    if (a->type != IR_ATTR_TENSOR || !t || !t->data || t->rank < 0 || ir_dtype_size(t->dtype) == 0)
      return op_fail(n, "attribute 'value' is not a tensor with data of a supported dtype");
    op_set_out(n->out[0], t->dtype, t->rank, t->shape);
  } else if (!strcmp(a->name, "value_float") || !strcmp(a->name, "value_int")) {
    op_set_out(n->out[0], a->name[6] == 'f' ? IR_F32 : IR_I64, 0, NULL);
  } else if (!strcmp(a->name, "value_floats") || !strcmp(a->name, "value_ints")) {
    int64_t d = a->n;
    op_set_out(n->out[0], a->name[6] == 'f' ? IR_F32 : IR_I64, 1, &d);
  } else {
    return op_fail(n, "attribute '%s' is not supported (string and sparse constants)", a->name);
  }
  return 0;
}

static int shape_range(const ir_node *n, int *s, int *e)
{
  int r = n->in[0]->rank;
  int64_t a = ir_attr_int(n, "start", 0), b = ir_attr_int(n, "end", r);
  if (a < 0) a += r;
  if (b < 0) b += r;
  *s = (int)clamp64(a, 0, r);
  *e = (int)clamp64(b, 0, r);
  if (*e < *s) *e = *s;
  return 0;
}

static int shape_infer(ir_graph *g, ir_node *n)
{
  int s, e;
  int64_t d;
  (void)g;
  if (need_shape(n, n->in[0])) return -1;
  shape_range(n, &s, &e);
  d = e - s;
  op_set_out(n->out[0], IR_I64, 1, &d);
  return 0;
}

static int size_infer(ir_graph *g, ir_node *n)
{
  (void)g;
  if (need_shape(n, n->in[0])) return -1;
  op_set_out(n->out[0], IR_I64, 0, NULL);
  return 0;
}

static int constant_of_shape_infer(ir_graph *g, ir_node *n)
{
  const ir_attr *a = ir_attr_find(n, "value");
  int64_t d[MAXR];
  int k, cnt;
  ir_dtype dt = IR_F32;
  (void)g;
  if (op_const_ints(n, 0, d, MAXR, &cnt)) return -1;
  for (k = 0; k < cnt; k++)
    if (d[k] < 0) return op_fail(n, "negative dimension %lld", (long long)d[k]);
  if (a) {
    if (a->type != IR_ATTR_TENSOR || !a->t || !a->t->data || ir_numel(a->t) != 1 || ir_dtype_size(a->t->dtype) == 0)
      return op_fail(n, "attribute 'value' must be a one-element tensor");
    dt = a->t->dtype;
  }
  op_set_out(n->out[0], dt, cnt, d);
  return 0;
}

static int range_infer(ir_graph *g, ir_node *n)
{
  ir_dtype dt = n->in[0]->dtype;
  int64_t len;
  int i;
  (void)g;
  for (i = 0; i < 3; i++) {
    const ir_tensor *t = n->in[i];
    if (!t || !t->data) return op_fail(n, "input %d must be a compile-time constant", i);
    if (ir_numel(t) != 1) return op_fail(n, "input '%s' must be a scalar", t->name);
    if (t->dtype != dt) return op_fail(n, "inputs differ in dtype");
  }
  if (ir_dtype_is_float(dt) && dt != IR_F16 && dt != IR_BF16) {
    double s = ir_const_f64(n->in[0], 0), l = ir_const_f64(n->in[1], 0), de = ir_const_f64(n->in[2], 0);
    double c;
    if (de == 0) return op_fail(n, "delta is 0");
    c = ceil((l - s) / de);
    if (c > 9e18 || c != c) return op_fail(n, "output length is too large or not a number");
    len = c > 0 ? (int64_t)c : 0;
  } else if (dt == IR_I16 || dt == IR_I32 || dt == IR_I64) {
    int64_t s = ir_const_i64(n->in[0], 0), l = ir_const_i64(n->in[1], 0), de = ir_const_i64(n->in[2], 0);
    if (de == 0) return op_fail(n, "delta is 0");
    /* In unsigned arithmetic: the span of a hostile range overflows int64. */
    uint64_t span = de > 0 ? (l > s ? (uint64_t)l - (uint64_t)s : 0) : (s > l ? (uint64_t)s - (uint64_t)l : 0);
    uint64_t step = de > 0 ? (uint64_t)de : 0 - (uint64_t)de;
    uint64_t cnt = span / step + (span % step != 0);
    if (cnt > (uint64_t)INT64_MAX) return op_fail(n, "output length is too large");
    len = (int64_t)cnt;
  } else {
    return op_fail(n, "dtype %s is not supported", ir_dtype_name(dt));
  }
  op_set_out(n->out[0], dt, 1, &len);
  return 0;
}

/* ---- Gather ------------------------------------------------------------- */

static int gather_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t d[MAXR], dim;
  int axis, k, r = 0;
  (void)g;
  if (need_shape(n, x) || need_shape(n, ix)) return -1;
  if (x->rank < 1) return op_fail(n, "cannot gather from a scalar");
  if (ix->dtype != IR_I32 && ix->dtype != IR_I64)
    return op_fail(n, "indices are %s, expected int32 or int64", ir_dtype_name(ix->dtype));
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  if (x->rank - 1 + ix->rank > MAXR) return op_fail(n, "output rank exceeds %d", MAXR);
  dim = x->shape[axis];
  if (ix->data) {
    int64_t i, m = ir_numel(ix);
    for (i = 0; i < m; i++) {
      int64_t v = ir_const_i64(ix, i);
      if (v < -dim || v >= dim)
        return op_fail(n, "index %lld out of range for axis %d of extent %lld", (long long)v, axis, (long long)dim);
    }
  }
  for (k = 0; k < axis; k++) d[r++] = x->shape[k];
  for (k = 0; k < ix->rank; k++) d[r++] = ix->shape[k];
  for (k = axis + 1; k < x->rank; k++) d[r++] = x->shape[k];
  op_set_out(n->out[0], x->dtype, r, d);
  return 0;
}

/* ---- Reductions ----------------------------------------------------------- */

int ops_shape_reduce_axes(const ir_node *n, int *mask, int *noop)
{
  const ir_tensor *x = n->in[0];
  int64_t axes[MAXR];
  int k, cnt;
  *noop = 0;
  if (get_ints(n, 1, "axes", axes, MAXR, &cnt)) return -1;
  for (k = 0; k < x->rank; k++) mask[k] = cnt <= 0;
  if (cnt <= 0 && ir_attr_int(n, "noop_with_empty_axes", 0)) {
    for (k = 0; k < x->rank; k++) mask[k] = 0;
    *noop = 1;
  }
  for (k = 0; k < cnt; k++) {
    int a;
    if (op_axis(n, axes[k], x->rank, &a)) return -1;
    mask[a] = 1;
  }
  return 0;
}

static int reduce_shape(ir_node *n, ir_dtype out_dt, const int *mask)
{
  const ir_tensor *x = n->in[0];
  int64_t d[MAXR];
  int k, r = 0, keep = (int)ir_attr_int(n, "keepdims", 1);
  for (k = 0; k < x->rank; k++) {
    if (!mask[k]) d[r++] = x->shape[k];
    else if (keep) d[r++] = 1;
  }
  op_set_out(n->out[0], out_dt, r, d);
  return 0;
}

static int reduce_infer_common(ir_node *n, int ints_ok)
{
  const ir_tensor *x = n->in[0];
  int mask[MAXR], noop;
  if (need_shape(n, x)) return -1;
  if (!(x->dtype == IR_F32 || x->dtype == IR_F64 || (ints_ok && (x->dtype == IR_I32 || x->dtype == IR_I64))))
    return op_fail(n, "dtype %s is not supported", ir_dtype_name(x->dtype));
  if (ops_shape_reduce_axes(n, mask, &noop)) return -1;
  return reduce_shape(n, x->dtype, mask);
}

static int reduce_infer_any(ir_graph *g, ir_node *n) { (void)g; return reduce_infer_common(n, 1); }
static int reduce_infer_float(ir_graph *g, ir_node *n) { (void)g; return reduce_infer_common(n, 0); }

static int arg_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int mask[MAXR] = {0}, axis;
  (void)g;
  if (need_shape(n, x)) return -1;
  if (!(x->dtype == IR_F32 || x->dtype == IR_F64 || x->dtype == IR_I32 || x->dtype == IR_I64))
    return op_fail(n, "dtype %s is not supported", ir_dtype_name(x->dtype));
  if (x->rank < 1) return op_fail(n, "input is a scalar");
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  if (x->shape[axis] == 0) return op_fail(n, "axis %d is empty", axis);
  mask[axis] = 1;
  return reduce_shape(n, IR_I64, mask);
}

/* ---- Pad ---------------------------------------------------------------- */

static int pad_mode(const ir_node *n, ops_pad_mode *mode)
{
  const char *m = ir_attr_string(n, "mode", "constant");
  if (!strcmp(m, "constant")) *mode = OPS_PAD_CONSTANT;
  else if (!strcmp(m, "reflect")) *mode = OPS_PAD_REFLECT;
  else if (!strcmp(m, "edge")) *mode = OPS_PAD_EDGE;
  else if (!strcmp(m, "wrap")) *mode = OPS_PAD_WRAP;
  else return op_fail(n, "mode '%s' is not supported (constant, reflect, edge, wrap)", m);
  return 0;
}

static int pad_validate(ir_node *n)
{
  ops_pad_mode m;
  return pad_mode(n, &m);
}

int ops_shape_pads(const ir_node *n, int64_t *begin, int64_t *end, ops_pad_mode *mode)
{
  const ir_tensor *x = n->in[0];
  int64_t pads[2 * MAXR], axes[MAXR];
  int k, cnt, na;
  if (pad_mode(n, mode)) return -1;
  if (get_ints(n, 1, "pads", pads, 2 * MAXR, &cnt) || get_ints(n, 3, NULL, axes, MAXR, &na)) return -1;
  if (cnt < 0) return op_fail(n, "missing pads");
  if (na < 0) {
    na = x->rank;
    for (k = 0; k < na; k++) axes[k] = k;
  }
  if (cnt != 2 * na) return op_fail(n, "%d pads for %d axes", cnt, na);
  for (k = 0; k < x->rank; k++) begin[k] = end[k] = 0;
  for (k = 0; k < na; k++) {
    int a;
    if (op_axis(n, axes[k], x->rank, &a)) return -1;
    begin[a] = pads[k];
    end[a] = pads[k + na];
  }
  return 0;
}

int64_t ops_shape_pad_src(ops_pad_mode mode, int64_t o, int64_t b, int64_t d)
{
  int64_t i = o - b, p;
  if (i >= 0 && i < d) return i;
  switch (mode) {
  case OPS_PAD_EDGE: return i < 0 ? 0 : d - 1;
  case OPS_PAD_WRAP: return ((i % d) + d) % d;
  case OPS_PAD_REFLECT:
    if (d == 1) return 0;
    p = 2 * (d - 1);                     /* reflection repeats with this period */
    i = ((i % p) + p) % p;
    return i < d ? i : p - i;
  default: return -1;
  }
}

static int pad_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0], *v = n->n_in > 2 ? n->in[2] : NULL;
  int64_t b[MAXR], e[MAXR], d[MAXR];
  ops_pad_mode mode;
  int k;
  (void)g;
  if (need_shape(n, x) || ops_shape_pads(n, b, e, &mode)) return -1;
  if (v) {
    if (v->dtype != x->dtype) return op_fail(n, "constant_value is %s, data is %s", ir_dtype_name(v->dtype), ir_dtype_name(x->dtype));
    if (ir_numel(v) != 1) return op_fail(n, "constant_value must hold one element");
  }
  for (k = 0; k < x->rank; k++) {
    d[k] = x->shape[k] + b[k] + e[k];
    if (d[k] < 0) return op_fail(n, "pads crop axis %d below zero", k);
    if (mode != OPS_PAD_CONSTANT && x->shape[k] == 0 && d[k] > 0)
      return op_fail(n, "cannot pad the empty axis %d in this mode", k);
  }
  op_set_out(n->out[0], x->dtype, x->rank, d);
  return 0;
}

/* ---- Expand, Tile --------------------------------------------------------- */

static int expand_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t s[MAXR], d[MAXR];
  int cnt, r;
  (void)g;
  if (need_shape(n, x) || op_const_ints(n, 1, s, MAXR, &cnt)) return -1;
  if (op_broadcast(n, x->rank, x->shape, cnt, s, &r, d)) return -1;
  op_set_out(n->out[0], x->dtype, r, d);
  return 0;
}

static int tile_infer(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t rep[MAXR], d[MAXR];
  int cnt, k;
  (void)g;
  if (need_shape(n, x) || op_const_ints(n, 1, rep, MAXR, &cnt)) return -1;
  if (cnt != x->rank) return op_fail(n, "%d repeats for an input of rank %d", cnt, x->rank);
  for (k = 0; k < cnt; k++) {
    if (rep[k] < 0) return op_fail(n, "negative repeat %lld", (long long)rep[k]);
    if (rep[k] && x->shape[k] > INT64_MAX / 16 / rep[k])   /* hostile repeats must not overflow */
      return op_fail(n, "repeat %lld of dimension %lld is too large", (long long)rep[k], (long long)x->shape[k]);
    d[k] = x->shape[k] * rep[k];
  }
  op_set_out(n->out[0], x->dtype, x->rank, d);
  return 0;
}

/* ---- the table ------------------------------------------------------------ */

static const op_attr_spec a_none[] = {{NULL, 0}};
static const op_attr_spec a_axis[] = {{"axis", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_reshape[] = {{"allowzero", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_axes[] = {{"axes", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec a_perm[] = {{"perm", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec a_split[] = {{"axis", IR_ATTR_INT}, {"split", IR_ATTR_INTS}, {"num_outputs", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_slice[] = {{"starts", IR_ATTR_INTS}, {"ends", IR_ATTR_INTS}, {"axes", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec a_constant[] = {
    {"value", IR_ATTR_TENSOR}, {"value_float", IR_ATTR_FLOAT}, {"value_floats", IR_ATTR_FLOATS},
    {"value_int", IR_ATTR_INT}, {"value_ints", IR_ATTR_INTS}, {"value_string", IR_ATTR_STRING},
    {"value_strings", IR_ATTR_STRINGS}, {"sparse_value", IR_ATTR_TENSOR}, {NULL, 0}};
static const op_attr_spec a_shape[] = {{"start", IR_ATTR_INT}, {"end", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_cos[] = {{"value", IR_ATTR_TENSOR}, {NULL, 0}};
static const op_attr_spec a_reduce[] = {{"keepdims", IR_ATTR_INT}, {"noop_with_empty_axes", IR_ATTR_INT},
                                        {"axes", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec a_arg[] = {{"axis", IR_ATTR_INT}, {"keepdims", IR_ATTR_INT}, {"select_last_index", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_pad[] = {{"mode", IR_ATTR_STRING}, {"pads", IR_ATTR_INTS}, {"value", IR_ATTR_FLOAT}, {NULL, 0}};

/* Designated initializers: fields added to op_def later stay NULL here. */
#define OP(nm, lo, hi, olo, ohi, at, fl, val, inf, fn)                                              \
  {.name = nm, .domain = "", .min_in = lo, .max_in = hi, .min_out = olo, .max_out = ohi, .attrs = at, \
   .flags = fl, .validate = val, .infer = inf, .interp = interp_shape_##fn, .emit = emit_shape_##fn}
#define REDUCE(nm, inf, fn) OP(nm, 1, 2, 1, 1, a_reduce, 0, NULL, inf, fn)
/* The same, with a gradient builder (grad_shape.c). */
#define OPG(nm, lo, hi, olo, ohi, at, fl, val, inf, fn, gr)                                         \
  {.name = nm, .domain = "", .min_in = lo, .max_in = hi, .min_out = olo, .max_out = ohi, .attrs = at, \
   .flags = fl, .validate = val, .infer = inf, .interp = interp_shape_##fn, .emit = emit_shape_##fn, \
   .grad = gr}
#define REDUCEG(nm, inf, fn, gr) OPG(nm, 1, 2, 1, 1, a_reduce, 0, NULL, inf, fn, gr)

const op_def ops_shape[] = {
    OPG("Flatten", 1, 1, 1, 1, a_axis, OP_ALIAS, NULL, flatten_infer, copy, grad_reshape_like),
    OPG("Reshape", 2, 2, 1, 1, a_reshape, OP_ALIAS, NULL, reshape_infer, copy, grad_reshape_like),
    OPG("Squeeze", 1, 2, 1, 1, a_axes, OP_ALIAS, NULL, squeeze_infer, copy, grad_reshape_like),
    OPG("Unsqueeze", 1, 2, 1, 1, a_axes, OP_ALIAS, NULL, unsqueeze_infer, copy, grad_reshape_like),
    OPG("Transpose", 1, 1, 1, 1, a_perm, 0, NULL, transpose_infer, transpose, grad_Transpose),
    OPG("Concat", 1, -1, 1, 1, a_axis, 0, NULL, concat_infer, concat, grad_Concat),
    OPG("Split", 1, 2, 1, -1, a_split, 0, NULL, split_infer, split, grad_Split),
    OPG("Slice", 1, 5, 1, 1, a_slice, 0, NULL, slice_infer, slice, grad_Slice),
    OP("Constant", 0, 0, 1, 1, a_constant, 0, NULL, constant_infer, constant),
    OP("Shape", 1, 1, 1, 1, a_shape, OP_SHAPE_ONLY, NULL, shape_infer, shape),
    OP("Size", 1, 1, 1, 1, a_none, OP_SHAPE_ONLY, NULL, size_infer, size),
    OP("ConstantOfShape", 1, 1, 1, 1, a_cos, 0, NULL, constant_of_shape_infer, constant_of_shape),
    OP("Range", 3, 3, 1, 1, a_none, 0, NULL, range_infer, range),
    OPG("Gather", 2, 2, 1, 1, a_axis, 0, NULL, gather_infer, gather, grad_Gather),
    OPG("Pad", 1, 4, 1, 1, a_pad, 0, pad_validate, pad_infer, pad, grad_Pad),
    OPG("Expand", 2, 2, 1, 1, a_none, 0, NULL, expand_infer, expand, grad_Expand),
    OPG("Tile", 2, 2, 1, 1, a_none, 0, NULL, tile_infer, tile, grad_Tile),
    OP("ArgMax", 1, 1, 1, 1, a_arg, 0, NULL, arg_infer, argmax),
    OP("ArgMin", 1, 1, 1, 1, a_arg, 0, NULL, arg_infer, argmin),
    REDUCEG("ReduceSum", reduce_infer_any, reduce_sum, grad_ReduceSum),
    REDUCEG("ReduceMean", reduce_infer_float, reduce_mean, grad_ReduceMean),
    REDUCEG("ReduceMax", reduce_infer_any, reduce_max, grad_ReduceMax),
    REDUCEG("ReduceMin", reduce_infer_any, reduce_min, grad_ReduceMin),
    REDUCE("ReduceProd", reduce_infer_any, reduce_prod),
    REDUCE("ReduceL1", reduce_infer_float, reduce_l1),
    REDUCEG("ReduceL2", reduce_infer_float, reduce_l2, grad_ReduceL2),
    REDUCEG("ReduceSumSquare", reduce_infer_float, reduce_sum_square, grad_ReduceSumSquare),
    REDUCEG("ReduceLogSumExp", reduce_infer_float, reduce_log_sum_exp, grad_ReduceLogSumExp),
    REDUCE("ReduceLogSum", reduce_infer_float, reduce_log_sum),
    {.name = NULL}};
