/*
 * grad_shape.c - gradient builders of the shape group: ops that move
 * elements (their backward moves g back: the inverse reshape or
 * permutation, a slice of a concatenation, a scatter of a gather) and the
 * Sum/Mean reductions (their backward spreads g over the reduced axes).
 *
 * Shapes are static, so every index list the backward needs (shapes,
 * pads, slice bounds, scatter positions of a strided Slice) is a constant
 * computed here from the forward node through ops_shape.h, the same
 * semantics the interpreter and the backend read.  Gather's backward is a
 * ScatterElements with reduction "add", so repeated indices sum; so are
 * those of the index ops GatherElements and GatherND (ops_index.c), beside
 * CumSum and Trilu (ops_math.c), whose backward is the same op on g.
 */
#include "grad_shape.h"
#include "op.h"
#include "ops_shape.h"

#include <stdlib.h>

#define OUT (n->out[0])
#define MAXR IR_MAX_RANK

#define GRAD_OR_DONE(g)            \
  ir_tensor *g = grad_of(gc, OUT); \
  if (!g) return 0

static ir_tensor *node2(grad_ctx *gc, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  return grad_node(gc, op, 2, in);
}

/* t reshaped to (rank, dims). */
static ir_tensor *reshape(grad_ctx *gc, ir_tensor *t, int rank, const int64_t *dims) {
  return node2(gc, "Reshape", t, grad_const_i64(gc, rank, dims));
}

/* t (whose shape broadcasts to x's) expanded to x's shape. */
static ir_tensor *expand_to(grad_ctx *gc, ir_tensor *t, const ir_tensor *x) {
  return node2(gc, "Expand", t, grad_const_i64(gc, x->rank, x->shape));
}

/* Set an int attribute on t's producer (after grad_node validated it). */
static ir_tensor *with_int(ir_tensor *t, const char *name, int64_t v) {
  if (t) ir_attr_set_int(t->producer, name, v);
  return t;
}

/* Reshape, Flatten, Squeeze, Unsqueeze relabel the elements: dx = g in x's shape. */
int grad_reshape_like(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  const ir_tensor *x = n->in[0];
  return grad_add(gc, x, reshape(gc, g, x->rank, x->shape), x);
}

/* y = transpose(x, perm): dx = transpose(g, perm^-1) */
int grad_Transpose(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  int perm[MAXR];
  int64_t inv[MAXR];
  if (ops_shape_perm(n, perm) < 0) return -1;
  for (int k = 0; k < n->in[0]->rank; k++) inv[perm[k]] = k;
  ir_tensor *t = grad_node(gc, "Transpose", 1, &g);
  if (!t) return -1;
  ir_attr_set_ints(t->producer, "perm", n->in[0]->rank, inv);
  return grad_add(gc, n->in[0], t, n->in[0]);
}

/* Input i's part of g along the axis: a Slice [off, off + extent). */
int grad_Concat(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  int axis;
  if (ops_shape_axis(n, OUT->rank, &axis) < 0) return -1;
  int64_t off = 0, ax = axis;
  for (int i = 0; i < n->n_in; i++) {
    const ir_tensor *x = n->in[i];
    int64_t end = off + x->shape[axis];
    ir_tensor *in[4] = {g, grad_const_i64(gc, 1, &off), grad_const_i64(gc, 1, &end), grad_const_i64(gc, 1, &ax)};
    if (grad_add(gc, x, grad_node(gc, "Slice", 4, in), x) < 0) return -1;
    off = end;
  }
  return 0;
}

/* dx = concat(g_0, ..., g_k) along the axis, zeros for outputs without a gradient. */
int grad_Split(grad_ctx *gc, const ir_node *n) {
  int axis, any = 0;
  ir_tensor **parts = calloc((size_t)n->n_out + 1, sizeof *parts);
  if (ops_shape_axis(n, n->in[0]->rank, &axis) < 0) {
    free(parts);
    return -1;
  }
  for (int j = 0; j < n->n_out; j++) {
    if (!n->out[j]) {
      free(parts);
      return op_fail(n, "output %d is missing, so its part of the gradient has no shape", j);
    }
    parts[j] = grad_of(gc, n->out[j]);
    any |= parts[j] != NULL;
    if (!parts[j]) parts[j] = grad_zeros_like(gc, n->out[j]);
  }
  int rc = 0;
  if (any) {
    ir_tensor *dx = with_int(grad_node(gc, "Concat", n->n_out, parts), "axis", axis);
    rc = grad_add(gc, n->in[0], dx, n->in[0]);
  }
  free(parts);
  return rc;
}

/* Unit steps: dx = g padded back with zeros (Pad, begin = start, end = the
 * rest).  Other steps: g scattered (ScatterND) onto zeros at the positions
 * the slice read, computed here. */
int grad_Slice(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  const ir_tensor *x = n->in[0];
  int64_t start[MAXR], step[MAXR], len[MAXR], pads[2 * MAXR];
  int r = x->rank, unit = 1;
  if (ops_shape_slice(n, start, step, len) < 0) return -1;
  for (int k = 0; k < r; k++) {
    unit &= step[k] == 1;
    pads[k] = start[k];
    pads[r + k] = x->shape[k] - start[k] - len[k];
  }
  ir_tensor *dx;
  if (unit) {
    dx = node2(gc, "Pad", g, grad_const_i64(gc, 2 * r, pads));
  } else {
    int64_t cnt = ir_numel(OUT), idims[MAXR + 1], ctr[MAXR] = {0};
    int64_t *pos = malloc(sizeof *pos * (size_t)(cnt * r + 1));
    for (int64_t e = 0; e < cnt; e++) {   /* output element e, in C order, read x at start + step*ctr */
      for (int k = 0; k < r; k++) pos[e * r + k] = start[k] + step[k] * ctr[k];
      for (int k = r - 1; k >= 0 && ++ctr[k] == len[k]; k--) ctr[k] = 0;
    }
    for (int k = 0; k < r; k++) idims[k] = len[k];
    idims[r] = r;
    ir_tensor *idx = grad_const_i64(gc, (int)(cnt * r), pos);
    free(pos);
    ir_set_shape(idx, r + 1, idims);
    ir_tensor *in[3] = {grad_zeros_like(gc, x), idx, g};
    dx = grad_node(gc, "ScatterND", 3, in);
  }
  return grad_add(gc, x, dx, x);
}

/* y = gather(x, idx, axis): dx = scatter-add of g onto zeros along the
 * axis.  ScatterElements wants indices and updates of x's rank: g is
 * reshaped to x's shape with the axis holding all m = numel(idx) picks,
 * and idx reshaped to [1..m..1] and expanded to that shape. */
int grad_Gather(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  const ir_tensor *x = n->in[0];
  ir_tensor *ix = n->in[1];
  int axis;
  if (ops_shape_axis(n, x->rank, &axis) < 0) return -1;
  int64_t gd[MAXR], id[MAXR];
  for (int k = 0; k < x->rank; k++) {
    gd[k] = k == axis ? ir_numel(ix) : x->shape[k];
    id[k] = k == axis ? ir_numel(ix) : 1;
  }
  ir_tensor *g2 = reshape(gc, g, x->rank, gd);
  ir_tensor *i2 = node2(gc, "Expand", reshape(gc, ix, x->rank, id), grad_const_i64(gc, x->rank, gd));
  ir_tensor *in[3] = {grad_zeros_like(gc, x), i2, g2};
  ir_tensor *dx = grad_node(gc, "ScatterElements", 3, in);
  if (!dx) return -1;
  ir_attr_set_int(dx->producer, "axis", axis);
  ir_attr_set_string(dx->producer, "reduction", "add");
  return grad_add(gc, x, dx, x);
}

/* y = x broadcast: grad_add sums the broadcast axes away. */
int grad_Expand(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], g, OUT);
}

/* Constant mode: dx = g with the pads negated (crops what was added, and
 * pads zeros where the forward cropped).  The constant value gets the sum
 * of g over the padded positions: sum(g) - sum(dx). */
int grad_Pad(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  const ir_tensor *x = n->in[0];
  ir_tensor *v = n->n_in > 2 ? n->in[2] : NULL;
  int64_t b[MAXR], e[MAXR], pads[2 * MAXR];
  ops_pad_mode mode;
  int r = x->rank;
  if (ops_shape_pads(n, b, e, &mode) < 0) return -1;
  if (mode != OPS_PAD_CONSTANT) return op_fail(n, "gradient of Pad: only mode 'constant' is supported");
  for (int k = 0; k < r; k++) {
    pads[k] = -b[k];
    pads[r + k] = -e[k];
  }
  ir_tensor *dx = node2(gc, "Pad", g, grad_const_i64(gc, 2 * r, pads));
  if (grad_add(gc, x, dx, x) < 0) return -1;
  if (!v || !ir_dtype_is_float(v->dtype)) return 0;
  ir_tensor *sg = with_int(grad_node(gc, "ReduceSum", 1, &g), "keepdims", 0);
  ir_tensor *sx = with_int(grad_node(gc, "ReduceSum", 1, &dx), "keepdims", 0);
  return grad_add(gc, v, reshape(gc, node2(gc, "Sub", sg, sx), v->rank, v->shape), v);
}

/* The reductions: with G = g and Y = y in keepdims shape expanded back over
 * the reduced axes (n elements reduced per output),
 *   Sum: dx = G          Mean: dx = G/n        SumSquare: dx = 2xG
 *   L2: dx = xG/Y        LogSumExp: dx = G e^(x - Y)
 *   Max, Min: dx = G [x = Y] / (the count of x = Y in the group): ties
 *   share the gradient evenly, as PyTorch's amax/amin
 * An identity (noop_with_empty_axes with no axes: the output equals the
 * input, as the spec says and the kernels do, for every kind) passes g
 * through. */
typedef enum { R_SUM, R_MEAN, R_SUMSQ, R_L2, R_LSE, R_EXTREME } reduce_kind;

static int grad_reduce(grad_ctx *gc, const ir_node *n, reduce_kind kind) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  int mask[MAXR], noop;
  int64_t kd[MAXR], axes[MAXR], cnt = 1;
  int na = 0;
  if (ops_shape_reduce_axes(n, mask, &noop) < 0) return -1;
  if (noop) return grad_add(gc, x, g, x);
  for (int k = 0; k < x->rank; k++) {
    kd[k] = mask[k] ? 1 : x->shape[k];
    if (mask[k]) {
      cnt *= x->shape[k];
      axes[na++] = k;
    }
  }
  ir_tensor *dx = expand_to(gc, reshape(gc, g, x->rank, kd), x), *y = NULL, *hit, *ties;
  if (kind == R_L2 || kind == R_LSE || kind == R_EXTREME) y = expand_to(gc, reshape(gc, OUT, x->rank, kd), x);
  switch (kind) {
  case R_SUM: break;
  case R_MEAN: dx = node2(gc, "Div", dx, grad_scalar(gc, x->dtype, (double)cnt)); break;
  case R_SUMSQ: dx = node2(gc, "Mul", dx, node2(gc, "Add", x, x)); break;
  case R_L2: dx = node2(gc, "Mul", dx, node2(gc, "Div", x, y)); break;
  case R_LSE: dx = node2(gc, "Mul", dx, grad_node(gc, "Exp", 1, (ir_tensor *[]){node2(gc, "Sub", x, y)})); break;
  case R_EXTREME:
    hit = grad_node(gc, "Where", 3, (ir_tensor *[]){node2(gc, "Equal", x, y), grad_scalar(gc, x->dtype, 1),
                                                    grad_scalar(gc, x->dtype, 0)});
    ties = node2(gc, "ReduceSum", hit, grad_const_i64(gc, na, axes));   /* keepdims: broadcasts over the group */
    dx = node2(gc, "Div", node2(gc, "Mul", dx, hit), ties);
    break;
  }
  return grad_add(gc, x, dx, x);
}

int grad_ReduceSum(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_SUM); }
int grad_ReduceMean(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_MEAN); }
int grad_ReduceSumSquare(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_SUMSQ); }
int grad_ReduceL2(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_L2); }
int grad_ReduceLogSumExp(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_LSE); }
int grad_ReduceMax(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_EXTREME); }
int grad_ReduceMin(grad_ctx *gc, const ir_node *n) { return grad_reduce(gc, n, R_EXTREME); }

/* y = tile(x, r): g seen as [r0, d0, r1, d1, ...] (axes with r = 1 kept
 * whole) summed over the repeat axes. */
int grad_Tile(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  int64_t rep[MAXR], split[MAXR], axes[MAXR];
  int cnt, r = 0, na = 0;
  if (op_const_ints(n, 1, rep, MAXR, &cnt) < 0) return -1;
  for (int k = 0; k < x->rank; k++) {
    if (rep[k] != 1) {
      if (r == MAXR) return op_fail(n, "gradient of Tile: more than %d axes once the repeats are split out", MAXR);
      axes[na++] = r;
      split[r++] = rep[k];
    }
    if (r == MAXR) return op_fail(n, "gradient of Tile: more than %d axes once the repeats are split out", MAXR);
    split[r++] = x->shape[k];
  }
  ir_tensor *s = reshape(gc, g, r, split);
  if (na) {
    s = node2(gc, "ReduceSum", s, grad_const_i64(gc, na, axes));
    if (!s) return -1;
    ir_attr_set_int(s->producer, "keepdims", 0);
  }
  return grad_add(gc, x, reshape(gc, s, x->rank, x->shape), x);
}

/* ---- index ops -------------------------------------------------------------- */

/* y = gather_elements(x, idx, axis): dx = scatter-add of g at idx (repeats sum). */
int grad_GatherElements(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  ir_tensor *in[3] = {grad_zeros_like(gc, x), n->in[1], g};
  ir_tensor *dx = grad_node(gc, "ScatterElements", 3, in);
  if (!dx) return -1;
  ir_attr_set_int(dx->producer, "axis", ir_attr_int(n, "axis", 0));
  ir_attr_set_string(dx->producer, "reduction", "add");
  return grad_add(gc, x, dx, x);
}

/* y = gather_nd(x, idx) (batch_dims 0): dx = ScatterND of g at idx, adding. */
int grad_GatherND(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *x = n->in[0];
  if (ir_attr_int(n, "batch_dims", 0) != 0)
    return op_fail(n, "gradient of GatherND: only batch_dims 0 is supported");
  ir_tensor *in[3] = {grad_zeros_like(gc, x), n->in[1], g};
  ir_tensor *dx = grad_node(gc, "ScatterND", 3, in);
  if (!dx) return -1;
  ir_attr_set_string(dx->producer, "reduction", "add");
  return grad_add(gc, x, dx, x);
}

/* y = cumsum(x) along an axis: dx is the cumulative sum of g the other way
 * (reverse flipped, exclusive kept). */
int grad_CumSum(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *dx = node2(gc, "CumSum", g, n->in[1]);
  if (!dx) return -1;
  ir_attr_set_int(dx->producer, "exclusive", ir_attr_int(n, "exclusive", 0));
  ir_attr_set_int(dx->producer, "reverse", !ir_attr_int(n, "reverse", 0));
  return grad_add(gc, n->in[0], dx, n->in[0]);
}

/* y = the triangle of x: dx = the same triangle of g. */
int grad_Trilu(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *in[2] = {g, n->n_in > 1 ? n->in[1] : NULL};
  ir_tensor *dx = grad_node(gc, "Trilu", in[1] ? 2 : 1, in);
  if (!dx) return -1;
  ir_attr_set_int(dx->producer, "upper", ir_attr_int(n, "upper", 1));
  return grad_add(gc, n->in[0], dx, n->in[0]);
}
