/*
 * grad_nn.c - gradient builders of the neural-network ops: Gemm, MatMul,
 * Conv, ConvTranspose, the pools, Softmax/LogSoftmax and the two
 * classification losses (see compiler/passes/autodiff.h).
 *
 * The forward node is already shape-inferred, so its geometry attributes
 * are explicit (kernel_shape, strides, pads, dilations, group, ...), and
 * builders copy them onto the backward nodes.  The backward is written in
 * existing ops where they express it and run well, so that float32 GEMM
 * work lands on the GEMM core (kl_gemm.h):
 *   - Gemm: Gemms with the trans flags set; MatMul with 2-D weights: two
 *     Gemms over the flattened rows; other MatMuls: batched MatMuls with a
 *     Transpose of the last two axes, then the broadcast batch summed;
 *   - Conv dX: a Conv with the flipped kernel (stride 1), else
 *     ConvTranspose; ConvTranspose dX: Conv (its adjoint);
 *   - biases: ReduceSum;
 *   - Softmax/LogSoftmax: the closed forms with a ReduceSum;
 *     SoftmaxCrossEntropyLoss: the NLL gradient, then LogSoftmax's.
 * What they do not express well is an internal op of domain ai.modelc
 * (ops_grad.c): ConvWeightGrad (the weight gradients, on the GEMM
 * core for float32; grouped and depthwise included), MaxPoolGrad (ties: the whole gradient goes to the first
 * maximum in window order, as PyTorch does), AveragePoolGrad and
 * NegativeLogLikelihoodLossGrad.  Gradients go to float inputs only: loss
 * weights and labels get none.
 *
 * Shapes of gradient tensors are not known while building (pass_infer
 * infers them afterwards); dL/dy has the forward output's shape, so
 * builders read ranks and dims from the forward tensors.
 */
#include "grad_nn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "epilogue.h"
#include "op.h"

#define OUT (n->out[0])
#define MAXSP (IR_MAX_RANK - 2)

#define GRAD_OR_DONE(g)            \
  ir_tensor *g = grad_of(gc, OUT); \
  if (!g) return 0

static const char *const window_attrs[] = {"kernel_shape", "strides", "pads", "dilations", NULL};

/* ---- shared mechanics ------------------------------------------------------ */

/* The ints attributes names[] of `from`, copied onto n. */
static void copy_ints(ir_node *n, const ir_node *from, const char *const *names) {
  for (; *names; names++) {
    const int64_t *v;
    int cnt = ir_attr_ints(from, *names, &v);
    if (cnt >= 0) ir_attr_set_ints(n, *names, cnt, v);
  }
}

/* Bind a node built with grad_node_unbound; its output, or NULL. */
static ir_tensor *bind(ir_node *n) { return op_validate(n) < 0 ? NULL : n->out[0]; }

/* An ai.modelc node (ops_grad.c) with the window attributes of `from`, unbound. */
static ir_node *internal(grad_ctx *gc, const char *op, int n_in, ir_tensor *const *in, const ir_node *from) {
  ir_node *b = grad_internal(gc, op, n_in, in, 1);
  if (from) copy_ints(b, from, window_attrs);
  return b;
}

static ir_tensor *node2(grad_ctx *gc, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  return grad_node(gc, op, 2, in);
}

/* A scalar constant of dtype dt (float32 or float64). */
static ir_tensor *scale(grad_ctx *gc, ir_tensor *t, ir_dtype dt, double v) {
  return v == 1.0 ? t : node2(gc, "Mul", t, grad_scalar(gc, dt, v));
}

/* ReduceSum of t over axes[cnt] (keepdims as given). */
static ir_tensor *reduce_sum(grad_ctx *gc, ir_tensor *t, int cnt, const int64_t *axes, int keepdims) {
  ir_tensor *in[2] = {t, grad_const_i64(gc, cnt, axes)};
  ir_node *r = grad_node_unbound(gc, "ReduceSum", 2, in);
  ir_attr_set_int(r, "keepdims", keepdims);
  return bind(r);
}

static ir_tensor *reshape(grad_ctx *gc, ir_tensor *t, int rank, const int64_t *dims) {
  return node2(gc, "Reshape", t, grad_const_i64(gc, rank, dims));
}

/* t (of rank `rank`) with axes a and b swapped. */
static ir_tensor *swap_axes(grad_ctx *gc, ir_tensor *t, int rank, int a, int b) {
  int64_t perm[IR_MAX_RANK];
  for (int i = 0; i < rank; i++) perm[i] = i;
  perm[a] = b;
  perm[b] = a;
  ir_node *tn = grad_node_unbound(gc, "Transpose", 1, &t);
  ir_attr_set_ints(tn, "perm", rank, perm);
  return bind(tn);
}

/* A node with a fused epilogue was rewritten by fusion, which runs after
 * autodiff: meeting one means the passes ran in an order this does not know. */
static int refuse_epilogue(const ir_node *n) {
  for (int i = 0; i < n->n_attr; i++)
    if (op_epilogue_attr(n->attrs[i].name))
      return op_fail(n, "carries a fused epilogue ('%s'); differentiate before fusion", n->attrs[i].name);
  return 0;
}

/* ---- Gemm, MatMul ------------------------------------------------------------ */

static ir_tensor *gemm(grad_ctx *gc, ir_tensor *a, ir_tensor *b, int ta, int tb, double alpha) {
  ir_tensor *in[2] = {a, b};
  ir_node *m = grad_node_unbound(gc, "Gemm", 2, in);
  ir_attr_set_int(m, "transA", ta);
  ir_attr_set_int(m, "transB", tb);
  ir_attr_set_float(m, "alpha", alpha);
  return bind(m);
}

/* Y = alpha op(A) op(B) + beta C:  d op(A) = alpha G op(B)^T, d op(B) = alpha op(A)^T G,
 * each written in the trans flags so no operand is transposed in memory. */
int grad_Gemm(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *A = n->in[0], *B = n->in[1], *C = n->n_in > 2 ? n->in[2] : NULL;
  int ta = (int)ir_attr_int(n, "transA", 0), tb = (int)ir_attr_int(n, "transB", 0);
  double alpha = ir_attr_float(n, "alpha", 1.0), beta = ir_attr_float(n, "beta", 1.0);
  if (refuse_epilogue(n)) return -1;
  ir_tensor *dA = ta ? gemm(gc, B, g, tb, 1, alpha) : gemm(gc, g, B, 0, !tb, alpha);
  ir_tensor *dB = tb ? gemm(gc, g, A, 1, ta, alpha) : gemm(gc, A, g, !ta, 0, alpha);
  if (grad_add(gc, A, dA, A) || grad_add(gc, B, dB, B)) return -1;
  return C && beta != 0 ? grad_add(gc, C, scale(gc, g, OUT->dtype, beta), OUT) : 0;
}

/* A [rows..., K] times a 2-D B [K, N] (a layer's weights): one product each,
 * with A and G seen as [rows, K] and [rows, N] (reshapes are free), so
 * dB = A^T G sums over the rows inside the GEMM instead of after it. */
static int matmul_2d_grad(grad_ctx *gc, const ir_node *n, ir_tensor *g) {
  ir_tensor *A = n->in[0], *B = n->in[1];
  int64_t K = B->shape[0], N = B->shape[1], rows = ir_numel(A) / (K ? K : 1);
  ir_tensor *Af = A->rank > 2 ? reshape(gc, A, 2, (int64_t[]){rows, K}) : A;
  ir_tensor *gf = A->rank > 2 ? reshape(gc, g, 2, (int64_t[]){rows, N}) : g;
  ir_tensor *dA = gemm(gc, gf, B, 0, 1, 1.0);
  if (A->rank > 2) dA = reshape(gc, dA, A->rank, A->shape);
  if (grad_add(gc, A, dA, A)) return -1;
  return grad_add(gc, B, gemm(gc, Af, gf, 1, 0, 1.0), B);
}

/* Y[b..., M, N] = A[b..., M, K] B[b..., K, N]: dA = G B^T, dB = A^T G, summed
 * over the batch dims each operand broadcasts.  1-D operands are first
 * made a row [1, K] (A) or a column [K, 1] (B), and G gets that axis back. */
int grad_MatMul(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *A = n->in[0], *B = n->in[1];
  if (refuse_epilogue(n)) return -1;
  if (A->rank >= 2 && B->rank == 2) return matmul_2d_grad(gc, n, g);
  int ra = A->rank, rb = B->rank, nb = OUT->rank - (ra >= 2) - (rb >= 2);
  int ra2 = ra == 1 ? 2 : ra, rb2 = rb == 1 ? 2 : rb;   /* ranks of A2, B2 below */
  int64_t K = A->shape[ra - 1], M = ra >= 2 ? A->shape[ra - 2] : 1, N = rb >= 2 ? B->shape[rb - 1] : 1;
  int64_t d[IR_MAX_RANK + 2];
  ir_tensor *A2 = ra == 1 ? reshape(gc, A, 2, (int64_t[]){1, K}) : A;
  ir_tensor *B2 = rb == 1 ? reshape(gc, B, 2, (int64_t[]){K, 1}) : B;
  memcpy(d, OUT->shape, sizeof *d * (size_t)nb);
  d[nb] = M;
  d[nb + 1] = N;
  ir_tensor *g2 = ra == 1 || rb == 1 ? reshape(gc, g, nb + 2, d) : g;
  /* dA: [b..., M, K]; a 1-D A drops the M axis again */
  ir_tensor *dA = node2(gc, "MatMul", g2, swap_axes(gc, B2, rb2, rb2 - 2, rb2 - 1));
  d[nb] = M;
  d[nb + 1] = K;
  if (ra == 1) {
    d[nb] = K;
    dA = reshape(gc, dA, nb + 1, d);
  }
  if (grad_add_dims(gc, A, dA, ra == 1 ? nb + 1 : nb + 2, d)) return -1;
  /* dB: [b..., K, N]; a 1-D B drops the N axis */
  ir_tensor *dB = node2(gc, "MatMul", swap_axes(gc, A2, ra2, ra2 - 2, ra2 - 1), g2);
  d[nb] = K;
  d[nb + 1] = N;
  if (rb == 1) dB = reshape(gc, dB, nb + 1, d);
  return grad_add_dims(gc, B, dB, rb == 1 ? nb + 1 : nb + 2, d);
}

/* ---- Conv, ConvTranspose ------------------------------------------------------ */

/* dBias[m] = sum of G over the batch and spatial axes. */
static int bias_grad(grad_ctx *gc, const ir_node *n, ir_tensor *g) {
  const ir_tensor *b = n->n_in > 2 ? n->in[2] : NULL;
  int64_t axes[IR_MAX_RANK];
  int cnt = 0;
  if (!b) return 0;
  for (int a = 0; a < OUT->rank; a++)
    if (a != 1) axes[cnt++] = a;
  return grad_add(gc, b, reduce_sum(gc, g, cnt, axes, 0), b);
}

/* t's spatial axes (2...) cut to their first k[] elements. */
static ir_tensor *crop_spatial(grad_ctx *gc, ir_tensor *t, int r, const int64_t *k) {
  int64_t starts[MAXSP] = {0}, axes[MAXSP];
  for (int i = 0; i < r; i++) axes[i] = 2 + i;
  ir_tensor *in[4] = {t, grad_const_i64(gc, r, starts), grad_const_i64(gc, r, k), grad_const_i64(gc, r, axes)};
  return grad_node(gc, "Slice", 4, in);
}

/* The weight gradient of a convolution with n's geometry that reads x
 * (shaped like xs) and gives dy (shaped like ys):
 *   dW[m, c, k] = sum_{b, o} dy[b, m, o] x[b, c, o*s + k*d - pb],
 * the internal ConvWeightGrad, which runs on the GEMM core (kl_wgrad.c: per
 * group one product over the batch and output positions; dy's channels as
 * its N, or under 16 of them as its M, dY's rows read in place).  A Conv
 * over the batch between Transposes, which this built for one group and
 * under 16 channels when ConvWeightGrad had only the first orientation,
 * took 320 us for LeNet's first layer at batch 32 against ConvWeightGrad's
 * 155 us now, and 37-45 ms against 1.6-2.7 ms for a 1x1 convolution from
 * 32 channels to 8 on 32x32 at batch 16.  This also serves ConvTranspose, whose weight gradient is
 * the same sum with its input and output in swapped
 * roles; there x (the output's gradient) may reach past the last window
 * (output_padding beyond the stride), so ConvWeightGrad's end pads are
 * those that make the window fit x, and x is cropped to the rows the
 * windows read when it holds a whole stride more (less is the floor of the
 * output size's division: no copy for it). */
static ir_tensor *weight_grad(grad_ctx *gc, const ir_node *n, ir_tensor *x, const ir_tensor *xs, ir_tensor *dy,
                              const ir_tensor *ys) {
  int64_t grp = ir_attr_int(n, "group", 1), pads[2 * MAXSP], keep[MAXSP];
  int r = xs->rank - 2, crop = 0;
  const int64_t *k, *s, *d, *p;
  ir_attr_ints(n, "kernel_shape", &k);
  ir_attr_ints(n, "strides", &s);
  ir_attr_ints(n, "dilations", &d);
  ir_attr_ints(n, "pads", &p);
  for (int i = 0; i < r; i++) {
    keep[i] = s[i] * (ys->shape[2 + i] - 1) + d[i] * (k[i] - 1) + 1 - p[i];   /* x's rows the last window reaches */
    pads[i] = p[i];
    pads[r + i] = keep[i] > xs->shape[2 + i] ? keep[i] - xs->shape[2 + i] : 0;
    if (xs->shape[2 + i] - keep[i] >= s[i]) crop = 1;
    else keep[i] = xs->shape[2 + i];
  }
  ir_tensor *in[2] = {crop ? crop_spatial(gc, x, r, keep) : x, dy};
  ir_node *w = internal(gc, "ConvWeightGrad", 2, in, n);
  ir_attr_set_ints(w, "pads", 2 * r, pads);
  ir_attr_set_int(w, "group", grp);
  return bind(w);
}

/* With stride 1 and pads within the dilated kernel's reach, a
 * convolution's input gradient is a convolution too (on the GEMM core):
 * dY padded by d(k-1) - pads, with the kernel flipped and its two channel
 * axes swapped within each group.  NULL (and no error) otherwise. */
static ir_tensor *input_grad_as_conv(grad_ctx *gc, const ir_node *n, ir_tensor *g) {
  const ir_tensor *W = n->in[1];
  int64_t grp = ir_attr_int(n, "group", 1), M = W->shape[0], Cg = W->shape[1], Mg = M / grp;
  int64_t pads[2 * MAXSP], starts[MAXSP], ends[MAXSP], axes[MAXSP], steps[MAXSP], dims[IR_MAX_RANK + 1];
  int r = W->rank - 2;
  const int64_t *k, *s, *d, *p;
  ir_attr_ints(n, "kernel_shape", &k);
  ir_attr_ints(n, "strides", &s);
  ir_attr_ints(n, "dilations", &d);
  ir_attr_ints(n, "pads", &p);
  for (int i = 0; i < r; i++) {
    int64_t reach = d[i] * (k[i] - 1);
    if (s[i] != 1 || p[i] > reach || p[r + i] > reach) return NULL;
    pads[i] = reach - p[i];
    pads[r + i] = reach - p[r + i];
    starts[i] = -1, ends[i] = INT64_MIN, axes[i] = 2 + i, steps[i] = -1;
  }
  /* w [G*Mg, Cg, k...] -> [G*Cg, Mg, k...] */
  ir_tensor *wt = n->in[1];
  if (grp == 1) {
    wt = swap_axes(gc, wt, W->rank, 0, 1);
  } else if (Mg > 1 && Cg > 1) {
    int64_t perm[IR_MAX_RANK + 1] = {0, 2, 1};
    dims[0] = grp, dims[1] = Mg, dims[2] = Cg;
    for (int i = 0; i < r; i++) dims[3 + i] = k[i], perm[3 + i] = 3 + i;
    ir_node *tn = grad_node_unbound(gc, "Transpose", 1, (ir_tensor *[]){reshape(gc, wt, W->rank + 1, dims)});
    ir_attr_set_ints(tn, "perm", W->rank + 1, perm);
    wt = bind(tn);
  }
  if (grp > 1) {   /* with Mg or Cg 1, swapping them is only a new shape */
    dims[0] = grp * Cg, dims[1] = Mg;
    for (int i = 0; i < r; i++) dims[2 + i] = k[i];
    wt = reshape(gc, wt, W->rank, dims);
  }
  ir_tensor *fin[5] = {wt, grad_const_i64(gc, r, starts), grad_const_i64(gc, r, ends), grad_const_i64(gc, r, axes),
                       grad_const_i64(gc, r, steps)};
  ir_tensor *in[2] = {g, grad_node(gc, "Slice", 5, fin)};
  ir_node *c = grad_node_unbound(gc, "Conv", 2, in);
  ir_attr_set_ints(c, "dilations", r, d);
  ir_attr_set_ints(c, "pads", 2 * r, pads);
  ir_attr_set_int(c, "group", grp);
  return bind(c);
}

/* y = Conv(x, w) + b.  dx = a Conv when input_grad_as_conv takes it, else
 * ConvTranspose(G, w) with the same geometry and the output_padding that
 * gives back x's size; dw: weight_grad. */
int grad_Conv(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *X = n->in[0], *W = n->in[1];
  int r = X->rank - 2;
  const int64_t *k, *s, *d, *p;
  int64_t op[MAXSP];
  if (refuse_epilogue(n)) return -1;
  if (ir_attr_ints(n, "kernel_shape", &k) != r || ir_attr_ints(n, "strides", &s) != r ||
      ir_attr_ints(n, "dilations", &d) != r || ir_attr_ints(n, "pads", &p) != 2 * r)
    return op_fail(n, "geometry attributes are not resolved (shape inference must run first)");
  ir_tensor *dx = input_grad_as_conv(gc, n, g);
  if (!dx) {
    for (int i = 0; i < r; i++)   /* the rows and columns the forward stride skipped at the end */
      op[i] = X->shape[2 + i] - (s[i] * (OUT->shape[2 + i] - 1) + d[i] * (k[i] - 1) + 1 - p[i] - p[r + i]);
    ir_tensor *in[2] = {g, W};
    ir_node *ct = grad_node_unbound(gc, "ConvTranspose", 2, in);
    copy_ints(ct, n, window_attrs);
    ir_attr_set_ints(ct, "output_padding", r, op);
    ir_attr_set_int(ct, "group", ir_attr_int(n, "group", 1));
    dx = bind(ct);
  }
  if (grad_add(gc, X, dx, X) || grad_add(gc, W, weight_grad(gc, n, X, X, g, OUT), W)) return -1;
  return bias_grad(gc, n, g);
}

/* y = ConvTranspose(x, w) + b.  dx = Conv(G, w) with the same geometry (Conv
 * is the adjoint), cropped to x's size when output_padding reached a
 * whole stride past it; dw: weight_grad with input and output swapped. */
int grad_ConvTranspose(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *X = n->in[0], *W = n->in[1];
  const int64_t *s, *op;
  int r = X->rank - 2, crop = 0;
  if (ir_attr_ints(n, "strides", &s) != r || ir_attr_ints(n, "output_padding", &op) != r)
    return op_fail(n, "geometry attributes are not resolved (shape inference must run first)");
  for (int i = 0; i < r; i++) crop |= op[i] >= s[i];
  ir_tensor *in[2] = {g, W};
  ir_node *cv = grad_node_unbound(gc, "Conv", 2, in);
  copy_ints(cv, n, window_attrs);
  ir_attr_set_int(cv, "group", ir_attr_int(n, "group", 1));
  ir_tensor *dx = bind(cv);
  if (crop) dx = crop_spatial(gc, dx, r, X->shape + 2);
  if (grad_add(gc, X, dx, X) || grad_add(gc, W, weight_grad(gc, n, g, OUT, X, X), W)) return -1;
  return bias_grad(gc, n, g);
}

/* ---- pools ------------------------------------------------------------------- */

/* op(a, b) with the pool n's window; MaxPoolGrad(X, G), AveragePoolGrad(G, X's shape). */
static ir_tensor *pool_grad(grad_ctx *gc, const char *op, const ir_node *n, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  ir_node *p = internal(gc, op, 2, in, n);
  if (ir_attr_find(n, "count_include_pad")) ir_attr_set_int(p, "count_include_pad", ir_attr_int(n, "count_include_pad", 0));
  return bind(p);
}

int grad_MaxPool(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], pool_grad(gc, "MaxPoolGrad", n, n->in[0], g), n->in[0]);
}

int grad_AveragePool(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *X = n->in[0];
  return grad_add(gc, X, pool_grad(gc, "AveragePoolGrad", n, g, grad_const_i64(gc, X->rank, X->shape)), X);
}

/* Every input element gets G / (spatial size): G scaled, then expanded. */
int grad_GlobalAveragePool(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *X = n->in[0];
  double S = (double)ir_numel_dims(X->rank - 2, X->shape + 2);
  ir_tensor *d = node2(gc, "Expand", scale(gc, g, X->dtype, 1.0 / S), grad_const_i64(gc, X->rank, X->shape));
  return grad_add(gc, X, d, X);
}

/* GlobalMaxPool is MaxPool with the whole plane as its window. */
int grad_GlobalMaxPool(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  ir_tensor *X = n->in[0], *in[2] = {X, g};
  int r = X->rank - 2;
  int64_t ones[2 * MAXSP], zeros[2 * MAXSP] = {0};
  for (int i = 0; i < r; i++) ones[i] = 1;
  ir_node *b = internal(gc, "MaxPoolGrad", 2, in, NULL);
  ir_attr_set_ints(b, "kernel_shape", r, X->shape + 2);
  ir_attr_set_ints(b, "strides", r, ones);
  ir_attr_set_ints(b, "dilations", r, ones);
  ir_attr_set_ints(b, "pads", 2 * r, zeros);
  return grad_add(gc, X, bind(b), X);
}

/* ---- Softmax, LogSoftmax, losses ------------------------------------------------ */

/* The axes Softmax normalizes over: axis alone from opset 13, before it the
 * whole trailing block from axis on. */
static int softmax_axes(const ir_node *n, int64_t *axes) {
  int rank = n->in[0]->rank, axis, cnt = 0;
  if (op_axis(n, ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), rank, &axis) < 0) return -1;
  for (int a = axis; a < (n->opset < 13 ? rank : axis + 1); a++) axes[cnt++] = a;
  return cnt;
}

/* y = softmax(x): dx = y * (G - sum(G * y)) */
int grad_Softmax(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  int64_t axes[IR_MAX_RANK];
  int cnt = softmax_axes(n, axes);
  if (cnt < 0) return -1;
  ir_tensor *s = reduce_sum(gc, node2(gc, "Mul", g, OUT), cnt, axes, 1);
  return grad_add(gc, n->in[0], node2(gc, "Mul", OUT, node2(gc, "Sub", g, s)), OUT);
}

/* y = log_softmax(x) with gradient g: dx = g - exp(y) * sum(g). */
static ir_tensor *log_softmax_back(grad_ctx *gc, ir_tensor *y, ir_tensor *g, int cnt, const int64_t *axes) {
  ir_tensor *s = reduce_sum(gc, g, cnt, axes, 1);
  return node2(gc, "Sub", g, node2(gc, "Mul", grad_node(gc, "Exp", 1, &y), s));
}

int grad_LogSoftmax(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  int64_t axes[IR_MAX_RANK];
  int cnt = softmax_axes(n, axes);
  if (cnt < 0) return -1;
  return grad_add(gc, n->in[0], log_softmax_back(gc, OUT, g, cnt, axes), OUT);
}

/* d loss / d input of NegativeLogLikelihoodLoss(x, target[, weight]) given G. */
static ir_tensor *nll_grad(grad_ctx *gc, const ir_node *n, ir_tensor *g) {
  ir_tensor *in[4] = {g, n->in[0], n->in[1], n->n_in > 2 ? n->in[2] : NULL};
  ir_node *b = internal(gc, "NegativeLogLikelihoodLossGrad", in[3] ? 4 : 3, in, NULL);
  ir_attr_set_string(b, "reduction", ir_attr_string(n, "reduction", "mean"));
  if (ir_attr_find(n, "ignore_index")) ir_attr_set_int(b, "ignore_index", ir_attr_int(n, "ignore_index", 0));
  return bind(b);
}

int grad_NegativeLogLikelihoodLoss(grad_ctx *gc, const ir_node *n) {
  GRAD_OR_DONE(g);
  return grad_add(gc, n->in[0], nll_grad(gc, n, g), n->in[0]);
}

/* SoftmaxCrossEntropyLoss is NLL of log_softmax(scores, axis 1); its second
 * output, when present, is that log_softmax (and may have a gradient too). */
int grad_SoftmaxCrossEntropyLoss(grad_ctx *gc, const ir_node *n) {
  ir_tensor *g = grad_of(gc, OUT), *x = n->in[0];
  ir_tensor *lp = n->n_out > 1 ? n->out[1] : NULL, *glp = grad_of(gc, lp);
  const int64_t axis1 = 1;
  if (!g && !glp) return 0;
  ir_tensor *d = g ? nll_grad(gc, n, g) : NULL;
  if (glp) d = d ? node2(gc, "Add", d, glp) : glp;
  if (!lp) {
    ir_node *ls = grad_node_unbound(gc, "LogSoftmax", 1, &x);
    ir_attr_set_int(ls, "axis", 1);
    lp = bind(ls);
  }
  return grad_add(gc, x, log_softmax_back(gc, lp, d, 1, &axis1), x);
}
