/*
 * emit_shape.c - C emitters of the shape group.
 *
 * Each emitter turns its node into a kl_copy.h descriptor: element strides
 * of the input seen from the output's loops (Transpose permutes them,
 * Slice scales them by the step, Expand zeroes them, Tile splits each axis
 * in two), an offset (Concat, Split, Slice), or a reduction's snippets.
 * Ops whose value is known at compile time (Constant, Shape, Size,
 * ConstantOfShape, Range) write literals.  Inputs an emitter does not read
 * (a Reshape's shape, a Slice's starts) are never named, so the driver
 * leaves them out of the node function's parameters.
 *
 * Gather with runtime indices requires indices in [-dim, dim): the node
 * function has no way to report an error, so it does not check (constant
 * indices are checked at compile time by the op's infer).
 */
#include "emit_shape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_copy.h"
#include "kl_map.h"
#include "../ops/op.h"
#include "../ops/ops_shape.h"

#define MAXR IR_MAX_RANK

/* ---- moves ---------------------------------------------------------------- */

int emit_shape_copy(emit_ctx *e, const ir_node *n)
{
  kl_copy c;
  int64_t m = ir_numel(n->out[0]);
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), n->out[0]->dtype);
  if (kl_copy_axis(&c, m, 1, 1, NULL)) return -1;
  return kl_copy_emit(e, &c);
}

int emit_shape_transpose(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t xst[MAXR], sst[MAXR];
  int perm[MAXR], k;
  kl_copy c;
  if (ops_shape_perm(n, perm)) return -1;
  kl_strides(x->rank, x->shape, xst);
  for (k = 0; k < y->rank; k++) sst[k] = xst[perm[k]];
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), x->dtype);
  if (kl_copy_dense(&c, y->rank, y->shape, sst)) return -1;
  return kl_copy_emit(e, &c);
}

int emit_shape_concat(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *y = n->out[0];
  int64_t yst[MAXR], off = 0;
  int axis, j, k;
  if (ops_shape_axis(n, y->rank, &axis)) return -1;
  kl_strides(y->rank, y->shape, yst);
  for (j = 0; j < n->n_in; j++) {
    const ir_tensor *x = n->in[j];
    kl_copy c;
    kl_copy_init(&c, emit_out(e, 0), emit_in(e, j), y->dtype);
    c.dst_off = off * yst[axis];
    for (k = 0; k < x->rank; k++) {
      int64_t s = 1, m;
      for (m = k + 1; m < x->rank; m++) s *= x->shape[m];
      if (kl_copy_axis(&c, x->shape[k], yst[k], s, NULL)) return -1;
    }
    if (kl_copy_emit(e, &c)) return -1;
    off += x->shape[axis];
  }
  return 0;
}

int emit_shape_split(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t xst[MAXR], off = 0;
  int axis, j;
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  kl_strides(x->rank, x->shape, xst);
  for (j = 0; j < n->n_out; j++) {
    const ir_tensor *y = n->out[j];
    kl_copy c;
    if (!y) continue;
    kl_copy_init(&c, emit_out(e, j), emit_in(e, 0), x->dtype);
    c.src_off = off * xst[axis];
    if (kl_copy_dense(&c, y->rank, y->shape, xst) || kl_copy_emit(e, &c)) return -1;
    off += y->shape[axis];
  }
  return 0;
}

int emit_shape_slice(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t start[MAXR], step[MAXR], len[MAXR], xst[MAXR], sst[MAXR];
  int k;
  kl_copy c;
  if (ops_shape_slice(n, start, step, len)) return -1;
  kl_strides(x->rank, x->shape, xst);
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), x->dtype);
  for (k = 0; k < x->rank; k++) {
    sst[k] = xst[k] * step[k];
    c.src_off += start[k] * xst[k];
  }
  if (kl_copy_dense(&c, y->rank, y->shape, sst)) return -1;
  return kl_copy_emit(e, &c);
}

int emit_shape_gather(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  kl_gather g;
  int axis, k;
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  memset(&g, 0, sizeof g);
  g.dst = emit_out(e, 0);
  g.src = emit_in(e, 0);
  g.idx = emit_in(e, 1);
  g.dtype = x->dtype;
  g.idx_dtype = ix->dtype;
  g.outer = g.inner = 1;
  for (k = 0; k < axis; k++) g.outer *= x->shape[k];
  for (k = axis + 1; k < x->rank; k++) g.inner *= x->shape[k];
  g.dim = x->shape[axis];
  g.nidx = ir_numel(ix);
  return kl_gather_emit(e, &g);
}

int emit_shape_pad(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t b[MAXR], en[MAXR], xst[MAXR], yst[MAXR], *maps[MAXR] = {0};
  ops_pad_mode mode;
  kl_copy c;
  int k, rc = 0;
  if (ops_shape_pads(n, b, en, &mode)) return -1;
  kl_strides(x->rank, x->shape, xst);
  kl_strides(y->rank, y->shape, yst);
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), x->dtype);
  if (mode == OPS_PAD_CONSTANT) {
    char v[64];
    if (n->n_in > 2 && n->in[2]) snprintf(v, sizeof v, "%s[0]", emit_in(e, 2));
    else if (ir_dtype_is_float(x->dtype) && x->dtype != IR_F16 && x->dtype != IR_BF16)
      emit_literal(v, sizeof v, x->dtype, ir_attr_float(n, "value", 0));
    else
      emit_literal_i64(v, sizeof v, x->dtype == IR_F16 || x->dtype == IR_BF16 ? IR_U16 : x->dtype,
                       (int64_t)ir_attr_float(n, "value", 0));
    if (x->dtype == IR_F16 || x->dtype == IR_BF16) {
      if (ir_attr_float(n, "value", 0) != 0 && !(n->n_in > 2 && n->in[2]))
        return op_fail(n, "a nonzero pad value attribute for %s is not supported", ir_dtype_name(x->dtype));
    }
    kl_fill_emit(e, emit_out(e, 0), ir_numel(y), v);
    /* then the part of the input that lands inside the output */
    for (k = 0; k < x->rank; k++) {
      int64_t lo = b[k] > 0 ? b[k] : 0, hi = b[k] + x->shape[k];
      if (hi > y->shape[k]) hi = y->shape[k];
      if (hi <= lo) return 0;
      c.dst_off += lo * yst[k];
      c.src_off += (lo - b[k]) * xst[k];
      if (kl_copy_axis(&c, hi - lo, yst[k], xst[k], NULL)) return -1;
    }
    return kl_copy_emit(e, &c);
  }
  for (k = 0; k < x->rank && !rc; k++) {
    if (b[k] != 0 || en[k] != 0) {
      int64_t o;
      maps[k] = ir_alloc((size_t)(y->shape[k] ? y->shape[k] : 1) * sizeof(int64_t));
      for (o = 0; o < y->shape[k]; o++) maps[k][o] = ops_shape_pad_src(mode, o, b[k], x->shape[k]);
    }
    rc = kl_copy_axis(&c, y->shape[k], yst[k], xst[k], maps[k]);
  }
  if (!rc) rc = kl_copy_emit(e, &c);
  for (k = 0; k < x->rank; k++) free(maps[k]);
  return rc;
}

int emit_shape_expand(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t xst[MAXR], sst[MAXR];
  int k, lead = y->rank - x->rank;
  kl_copy c;
  kl_strides(x->rank, x->shape, xst);
  for (k = 0; k < y->rank; k++)
    sst[k] = k < lead || x->shape[k - lead] == 1 ? 0 : xst[k - lead];   /* broadcast axes repeat */
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), x->dtype);
  if (kl_copy_dense(&c, y->rank, y->shape, sst)) return -1;
  return kl_copy_emit(e, &c);
}

int emit_shape_tile(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t xst[MAXR], yst[MAXR];
  int k;
  kl_copy c;
  kl_strides(x->rank, x->shape, xst);
  kl_strides(y->rank, y->shape, yst);
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), x->dtype);
  for (k = 0; k < x->rank; k++) {
    int64_t rep = x->shape[k] ? y->shape[k] / x->shape[k] : 0;
    /* output index along k = r*d + j: r repeats the whole input extent */
    if (kl_copy_axis(&c, rep, x->shape[k] * yst[k], 0, NULL) ||
        kl_copy_axis(&c, x->shape[k], yst[k], xst[k], NULL))
      return -1;
  }
  return kl_copy_emit(e, &c);
}

/* ---- values known at compile time --------------------------------------- */

/* Literal of element i of a tensor's data (16-bit floats as their bits). */
static void elem_literal(char *buf, size_t cap, const ir_tensor *t, int64_t i)
{
  if (t->dtype == IR_F32 || t->dtype == IR_F64) {
    emit_literal(buf, cap, t->dtype, ir_const_f64(t, i));
  } else if (t->dtype == IR_F16 || t->dtype == IR_BF16) {
    uint16_t h;
    memcpy(&h, (const unsigned char *)t->data + 2 * i, 2);
    emit_literal_i64(buf, cap, IR_U16, h);
  } else {
    emit_literal_i64(buf, cap, t->dtype, ir_const_i64(t, i));
  }
}

/* static const T name[count] = {lit(0), ...}; memcpy(dst, name, sizeof name); */
typedef void (*lit_fn)(char *buf, size_t cap, const void *ctx, int64_t i);

static void emit_table(emit_ctx *e, const char *dst, ir_dtype dt, int64_t count, lit_fn lit, const void *ctx)
{
  char name[32], line[1024], v[64];
  int64_t i, j;
  if (count <= 0) return;
  if (count == 1) {
    lit(v, sizeof v, ctx, 0);
    emit_line(e, "%s[0] = %s;", dst, v);
    return;
  }
  snprintf(name, sizeof name, "%s", emit_fresh(e, "k"));
  kl_block(e);
  emit_line(e, "static const %s %s[%lld] = {", ir_dtype_ctype(dt), name, (long long)count);
  emit_indent(e, 1);
  for (i = 0; i < count; i += 8) {
    size_t used = 0;
    line[0] = '\0';
    for (j = i; j < count && j < i + 8; j++) {
      lit(v, sizeof v, ctx, j);
      used += (size_t)snprintf(line + used, sizeof line - used, "%s, ", v);
    }
    emit_line(e, "%s", line);
  }
  emit_indent(e, -1);
  emit_line(e, "};");
  emit_line(e, "memcpy(%s, %s, sizeof %s);", dst, name, name);
  kl_end(e);
}

static void lit_tensor(char *buf, size_t cap, const void *ctx, int64_t i) { elem_literal(buf, cap, ctx, i); }
static void lit_floats(char *buf, size_t cap, const void *ctx, int64_t i)
{
  emit_literal(buf, cap, IR_F32, ((const double *)ctx)[i]);
}
static void lit_ints(char *buf, size_t cap, const void *ctx, int64_t i)
{
  emit_literal_i64(buf, cap, IR_I64, ((const int64_t *)ctx)[i]);
}

int emit_shape_constant(emit_ctx *e, const ir_node *n)
{
  const char *y = emit_out(e, 0);
  const ir_attr *a;
  double f;
  if ((a = ir_attr_find(n, "value")))
    emit_table(e, y, a->t->dtype, ir_numel(a->t), lit_tensor, a->t);
  else if ((a = ir_attr_find(n, "value_float"))) {
    f = a->f;
    emit_table(e, y, IR_F32, 1, lit_floats, &f);
  } else if ((a = ir_attr_find(n, "value_int")))
    emit_table(e, y, IR_I64, 1, lit_ints, &a->i);
  else if ((a = ir_attr_find(n, "value_floats")))
    emit_table(e, y, IR_F32, a->n, lit_floats, a->floats);
  else if ((a = ir_attr_find(n, "value_ints")))
    emit_table(e, y, IR_I64, a->n, lit_ints, a->ints);
  else
    return op_fail(n, "no supported value attribute");
  return 0;
}

int emit_shape_shape(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *x = n->in[0];
  int64_t r = x->rank, st = ir_attr_int(n, "start", 0);
  if (st < 0) st += r;
  st = st < 0 ? 0 : (st > r ? r : st);
  emit_table(e, emit_out(e, 0), IR_I64, n->out[0]->shape[0], lit_ints, x->shape + st);
  return 0;
}

int emit_shape_size(emit_ctx *e, const ir_node *n)
{
  int64_t m = ir_numel(n->in[0]);
  emit_table(e, emit_out(e, 0), IR_I64, 1, lit_ints, &m);
  return 0;
}

int emit_shape_constant_of_shape(emit_ctx *e, const ir_node *n)
{
  const ir_attr *a = ir_attr_find(n, "value");
  char v[64];
  if (a) elem_literal(v, sizeof v, a->t, 0);
  else emit_literal(v, sizeof v, IR_F32, 0.0);
  kl_fill_emit(e, emit_out(e, 0), ir_numel(n->out[0]), v);
  return 0;
}

int emit_shape_range(emit_ctx *e, const ir_node *n)
{
  const ir_tensor *y = n->out[0];
  ir_dtype dt = y->dtype;
  char s[64], d[64], v[200];
  if (ir_numel(y) <= 0) return 0;
  if (ir_dtype_is_float(dt)) {
    ir_dtype ct = dt == IR_F64 ? IR_F64 : IR_F32;   /* float16 values computed in float */
    emit_literal(s, sizeof s, ct, ir_const_f64(n->in[0], 0));
    emit_literal(d, sizeof d, ct, ir_const_f64(n->in[2], 0));
    snprintf(v, sizeof v, "(%s)(%s + (%s)i * %s)", ir_dtype_ctype(dt), s, kl_float_ctype(dt), d);
  } else {
    emit_literal_i64(s, sizeof s, IR_I64, ir_const_i64(n->in[0], 0));
    emit_literal_i64(d, sizeof d, IR_I64, ir_const_i64(n->in[2], 0));
    snprintf(v, sizeof v, "(%s)(%s + i * %s)", ir_dtype_ctype(dt), s, d);
  }
  emit_line(e, "for (int64_t i = 0; i < %lld; i++) %s[i] = %s;", (long long)ir_numel(y), emit_out(e, 0), v);
  return 0;
}

/* ---- reductions ------------------------------------------------------------ */

typedef enum rkind { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SSQ, R_LSE, R_LS } rkind;

static int reduce(emit_ctx *e, const ir_node *n, rkind kind)
{
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int is_f = ir_dtype_is_float(x->dtype), noop, k;
  int64_t group = 1;
  char fin[96], stp[64];
  kl_reduce r;
  memset(&r, 0, sizeof r);
  if (ops_shape_reduce_axes(n, r.mask, &noop)) return -1;
  if (noop) {
    kl_copy c;
    kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), x->dtype);
    return kl_copy_axis(&c, ir_numel(y), 1, 1, NULL) || kl_copy_emit(e, &c) ? -1 : 0;
  }
  if (!is_f && x->dtype != IR_I32 && x->dtype != IR_I64)
    return op_fail(n, "dtype %s is not supported", ir_dtype_name(x->dtype));
  r.dst = emit_out(e, 0);
  r.src = emit_in(e, 0);
  r.in_dtype = x->dtype;
  r.out_dtype = y->dtype;
  r.rank = x->rank;
  for (k = 0; k < x->rank; k++) {
    r.dims[k] = x->shape[k];
    if (r.mask[k]) group *= x->shape[k];
  }
  r.acc_type = is_f ? kl_float_ctype(x->dtype) : "int64_t";   /* float sums in float, blocked */
  r.init = "0";
  r.final = "acc";
  switch (kind) {
  case R_SUM: case R_MEAN:
    r.step = is_f ? "acc += v;" : "acc = (int64_t)((uint64_t)acc + (uint64_t)v);";
    if (kind == R_MEAN) {
      char g[64];
      if (is_f) kl_map_literal(g, sizeof g, x->dtype, (double)group);
      else snprintf(g, sizeof g, "%lld", (long long)group);
      snprintf(fin, sizeof fin, "acc / %s", g);
      r.final = fin;
    }
    break;
  case R_MAX:
    r.init = is_f ? "-INFINITY" : "INT64_MIN";
    r.step = is_f ? "if (v > acc || v != v) acc = v;" : "if (v > acc) acc = v;";   /* NaN wins */
    break;
  case R_MIN:
    r.init = is_f ? "INFINITY" : "INT64_MAX";
    r.step = is_f ? "if (v < acc || v != v) acc = v;" : "if (v < acc) acc = v;";
    break;
  case R_PROD:
    r.init = "1";
    r.step = is_f ? "acc *= v;" : "acc = (int64_t)((uint64_t)acc * (uint64_t)v);";
    break;
  case R_L1: r.step = kl_map_expand(stp, sizeof stp, "acc += fabs@(v);", x->dtype); break;
  case R_L2: r.step = "acc += v * v;"; r.final = kl_map_expand(fin, sizeof fin, "sqrt@(acc)", x->dtype); break;
  case R_SSQ: r.step = "acc += v * v;"; break;
  case R_LSE:
    r.step = kl_map_expand(stp, sizeof stp, "acc += exp@(v);", x->dtype);
    r.final = kl_map_expand(fin, sizeof fin, "log@(acc)", x->dtype);
    break;
  case R_LS: r.step = "acc += v;"; r.final = kl_map_expand(fin, sizeof fin, "log@(acc)", x->dtype); break;
  }
  if (is_f && kind != R_MAX && kind != R_MIN && kind != R_PROD) r.block = kl_sum_block(x->dtype, group);
  return kl_reduce_emit(e, &r);
}

#define REDUCE_FN(fn, kind) \
  int fn(emit_ctx *e, const ir_node *n) { return reduce(e, n, kind); }
REDUCE_FN(emit_shape_reduce_sum, R_SUM)
REDUCE_FN(emit_shape_reduce_mean, R_MEAN)
REDUCE_FN(emit_shape_reduce_max, R_MAX)
REDUCE_FN(emit_shape_reduce_min, R_MIN)
REDUCE_FN(emit_shape_reduce_prod, R_PROD)
REDUCE_FN(emit_shape_reduce_l1, R_L1)
REDUCE_FN(emit_shape_reduce_l2, R_L2)
REDUCE_FN(emit_shape_reduce_sum_square, R_SSQ)
REDUCE_FN(emit_shape_reduce_log_sum_exp, R_LSE)
REDUCE_FN(emit_shape_reduce_log_sum, R_LS)

static int arg(emit_ctx *e, const ir_node *n, const char *cmp)
{
  const ir_tensor *x = n->in[0];
  int64_t outer = 1, inner = 1;
  int axis, k;
  if (ops_shape_axis(n, x->rank, &axis)) return -1;
  for (k = 0; k < axis; k++) outer *= x->shape[k];
  for (k = axis + 1; k < x->rank; k++) inner *= x->shape[k];
  return kl_arg_emit(e, emit_out(e, 0), emit_in(e, 0), x->dtype, outer, x->shape[axis], inner, cmp,
                     (int)ir_attr_int(n, "select_last_index", 0));
}

int emit_shape_argmax(emit_ctx *e, const ir_node *n) { return arg(e, n, ">"); }
int emit_shape_argmin(emit_ctx *e, const ir_node *n) { return arg(e, n, "<"); }
