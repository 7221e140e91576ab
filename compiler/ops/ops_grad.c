/*
 * ops_grad.c - op table entries of modelc's own backward ops (domain
 * ai.modelc), which the gradient builders of grad_nn.c emit where no ONNX
 * op expresses the backward well.  They never come from a model file.
 *
 *   ConvWeightGrad(X, dY) -> dW [M, C/group, kernel...]
 *       dW[m, ic, k] = sum_{b, o} dY[b, m, o] * X[b, g(m)*C/group + ic, o*s - pb + k*d]
 *       (positions outside X read as zero); attributes kernel_shape,
 *       strides, pads, dilations, group as Conv's, all explicit.
 *   MaxPoolGrad(X, dY) -> dX: each dY element goes to the first maximum of
 *       its window (window order, as the forward's argmax), summed.
 *   AveragePoolGrad(dY, shape) -> dX of that shape (a constant int64 input):
 *       each dY element spread over its window's positions inside X,
 *       divided by the forward's divisor (count_include_pad as AveragePool).
 *   NegativeLogLikelihoodLossGrad(dL, X, target[, weight]) -> dX:
 *       dX[i, t_i, d] = -w[t_i] * dL (dL[i, d] for reduction none, divided
 *       by the total weight for mean); 0 elsewhere and where t = ignore_index.
 *   BatchNormalizationGrad(dY, X, scale[, Y, mean, var]) -> dX[, dScale, dBias]:
 *       the backward of training-mode BatchNormalization over X [N, C, ...]
 *       (attribute epsilon), in a few passes per channel instead of a chain
 *       of elementwise and reduce nodes.  mean and var [C] are the batch
 *       statistics the forward saved (its outputs 3-4); without them they
 *       are recomputed from X as the forward computes them.  With Y, the
 *       output of a Relu applied to the BatchNormalization's, dY counts
 *       only where Y > 0: the Relu's backward folded in.  dScale and dBias
 *       [C] are optional.
 *   ReluGrad(dY, Y) -> dX = dY where Y > 0, else 0 (Y a Relu's output,
 *       dY of its shape): one pass, in place of dY when the planner can.
 */
#include <string.h>

#include "op.h"
#include "../../runtime/kernels/interp_index.h"
#include "../../runtime/kernels/interp_nn.h"
#include "../backend/emit_index.h"
#include "../backend/emit_nn.h"

#define MAXSP (IR_MAX_RANK - 2)
#define MAX_WINDOW ((int64_t)1 << 31)   /* kernel, stride, dilation and pad bound: the shape arithmetic cannot overflow */

/* The window attributes, explicit and of the spatial rank of input 0. */
static int window_check(const ir_node *n, int r) {
  static const char *const names[] = {"kernel_shape", "strides", "dilations"};
  const int64_t *v;
  for (int k = 0; k < 3; k++) {
    if (ir_attr_ints(n, names[k], &v) != r) return op_fail(n, "%s must hold %d values", names[k], r);
    for (int i = 0; i < r; i++)
      if (v[i] < 1 || v[i] > MAX_WINDOW)
        return op_fail(n, "%s[%d]=%lld must be in [1, %lld]", names[k], i, (long long)v[i], (long long)MAX_WINDOW);
  }
  if (ir_attr_ints(n, "pads", &v) != 2 * r) return op_fail(n, "pads must hold %d values", 2 * r);
  for (int i = 0; i < 2 * r; i++)
    if (v[i] < 0 || v[i] > MAX_WINDOW)
      return op_fail(n, "pads[%d]=%lld must be in [0, %lld]", i, (long long)v[i], (long long)MAX_WINDOW);
  return 0;
}

/* dY's spatial dims are those a window of this geometry gives over X's
 * (floor or ceil mode): a mismatch would read past the buffers. */
static int window_fits(const ir_node *n, int rank, const int64_t *xs, const ir_tensor *dy) {
  const int64_t *k, *s, *d, *p;
  int r = rank - 2;
  ir_attr_ints(n, "kernel_shape", &k);
  ir_attr_ints(n, "strides", &s);
  ir_attr_ints(n, "dilations", &d);
  ir_attr_ints(n, "pads", &p);
  for (int i = 0; i < r; i++) {
    int64_t num = xs[2 + i] + p[i] + p[r + i] - (d[i] * (k[i] - 1) + 1);
    if (num < 0 || (dy->shape[2 + i] != num / s[i] + 1 && dy->shape[2 + i] != (num + s[i] - 1) / s[i] + 1))
      return op_fail(n, "dY spatial dim %d is %lld; the window over X gives %lld", i,
                     (long long)dy->shape[2 + i], (long long)(num < 0 ? 0 : num / s[i] + 1));
  }
  return 0;
}

/* X (of shape xs[rank]) and dY are [N, C, spatial...] of one rank and
 * batch, and the window attributes fit them. */
static int xdy_check(const ir_node *n, int rank, const int64_t *xs, const ir_tensor *dy) {
  if (rank < 3 || rank > IR_MAX_RANK || dy->rank != rank || dy->shape[0] != xs[0])
    return op_fail(n, "X and dY must be [N, C, spatial...] of the same rank and batch");
  return window_check(n, rank - 2) || window_fits(n, rank, xs, dy);
}

static int cwg_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *dy = n->in[1];
  int64_t grp = ir_attr_int(n, "group", 1), dims[IR_MAX_RANK];
  const int64_t *k;
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1) || xdy_check(n, x->rank, x->shape, dy)) return -1;
  if (grp < 1 || x->shape[1] % grp || dy->shape[1] % grp)
    return op_fail(n, "channels (X %lld, dY %lld) are not divisible by group=%lld", (long long)x->shape[1],
                   (long long)dy->shape[1], (long long)grp);
  ir_attr_ints(n, "kernel_shape", &k);
  dims[0] = dy->shape[1];
  dims[1] = x->shape[1] / grp;
  memcpy(dims + 2, k, sizeof *k * (size_t)(x->rank - 2));
  op_set_out(n->out[0], x->dtype, x->rank, dims);
  return 0;
}

static int64_t cwg_macs(const ir_node *n) {
  if (!ir_shape_known(n->out[0]) || !ir_shape_known(n->in[1]) || n->in[1]->shape[1] == 0) return 0;
  return ir_numel(n->out[0]) * (ir_numel(n->in[1]) / n->in[1]->shape[1]);
}

static int count_include_pad(const ir_node *n) {
  int64_t cip = ir_attr_int(n, "count_include_pad", 0);
  if (cip != 0 && cip != 1) return op_fail(n, "count_include_pad=%lld must be 0 or 1", (long long)cip);
  return 0;
}

static int maxpool_grad_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *dy = n->in[1];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1) || xdy_check(n, x->rank, x->shape, dy)) return -1;
  if (dy->shape[1] != x->shape[1]) return op_fail(n, "dY and X have different channel counts");
  op_set_out(n->out[0], x->dtype, x->rank, x->shape);
  return 0;
}

/* AveragePoolGrad reads only X's shape (a constant input), so the
 * forward's input need not stay alive for it. */
static int avgpool_grad_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *dy = n->in[0];
  int64_t xs[IR_MAX_RANK];
  int rank;
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_const_ints(n, 1, xs, IR_MAX_RANK, &rank)) return -1;
  for (int i = 0; i < rank; i++)
    if (xs[i] < 0 || xs[i] > MAX_WINDOW) return op_fail(n, "shape[%d]=%lld is out of range", i, (long long)xs[i]);
  if (xdy_check(n, rank, xs, dy) || count_include_pad(n)) return -1;
  if (dy->shape[1] != xs[1]) return op_fail(n, "dY and X have different channel counts");
  op_set_out(n->out[0], dy->dtype, rank, xs);
  return 0;
}

static int nll_grad_validate(ir_node *n) {
  const char *red = ir_attr_string(n, "reduction", "mean");
  if (strcmp(red, "none") && strcmp(red, "sum") && strcmp(red, "mean"))
    return op_fail(n, "reduction '%s' must be none, sum or mean", red);
  return 0;
}

static int nll_grad_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *dl = n->in[0], *x = n->in[1], *t = n->in[2], *w = n->n_in > 3 ? n->in[3] : NULL;
  int none = strcmp(ir_attr_string(n, "reduction", "mean"), "none") == 0;
  (void)g;
  if (op_check_dtype(n, 1, OP_F32_F64) || op_same_dtype(n, 1, 0) || (w && op_same_dtype(n, 1, 3))) return -1;
  if (op_check_dtype(n, 2, OP_DT(IR_I32) | OP_DT(IR_I64))) return -1;
  if (x->rank < 2 || t->rank != x->rank - 1) return op_fail(n, "X must be [N, C, d...] and target [N, d...]");
  if (none ? (dl->rank != t->rank || ir_numel(dl) != ir_numel(t)) : dl->rank != 0)
    return op_fail(n, "dL must have the loss's shape (%s)", none ? "the target's" : "a scalar");
  if (w && (w->rank != 1 || w->shape[0] != x->shape[1])) return op_fail(n, "weight must have shape [C]");
  op_set_out(n->out[0], x->dtype, x->rank, x->shape);
  return 0;
}

static int bn_grad_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *dy = n->in[0], *x = n->in[1], *y = n->n_in > 3 ? n->in[3] : NULL;
  int stats = n->n_in > 4 ? 2 : 0;   /* mean and var given */
  (void)g;
  if (op_check_dtype(n, 1, OP_F32_F64) || op_same_dtype(n, 1, 0) || op_same_dtype(n, 1, 2) || op_same_dtype(n, 1, 3) ||
      op_same_dtype(n, 1, 4) || op_same_dtype(n, 1, 5))
    return -1;
  if (x->rank < 2 || !ir_same_shape(dy, x) || (y && !ir_same_shape(y, x)))
    return op_fail(n, "dY%s and X must be [N, C, ...] of one shape", y ? ", Y" : "");
  if (n->n_in == 5 || (stats && (!n->in[4] || !n->in[5]))) return op_fail(n, "mean and var come together");
  static const int vec[3] = {2, 4, 5};   /* scale, mean, var */
  for (int k = 0; k < 1 + stats; k++) {
    const ir_tensor *t = n->in[vec[k]];
    if (t->rank != 1 || t->shape[0] != x->shape[1]) return op_fail(n, "input %d must have shape [C]", vec[k]);
  }
  op_set_out(n->out[0], x->dtype, x->rank, x->shape);
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j]) op_set_out(n->out[j], x->dtype, 1, n->in[2]->shape);
  return 0;
}

/* dX may take dY's bytes: kl_bn_grad's last pass reads dY[k] before it stores dX[k]. */
static int bn_grad_share(const ir_node *n) {
  (void)n;
  return 0;
}

static int relu_grad_infer(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1)) return -1;
  if (!ir_same_shape(n->in[0], n->in[1])) return op_fail(n, "dY and Y must have one shape");
  op_set_out(n->out[0], n->in[0]->dtype, n->in[0]->rank, n->in[0]->shape);
  return 0;
}

static const op_attr_spec cwg_attrs[] = {
    {"kernel_shape", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {"pads", IR_ATTR_INTS},
    {"dilations", IR_ATTR_INTS},    {"group", IR_ATTR_INT},    {NULL, 0}};
static const op_attr_spec pool_attrs[] = {
    {"kernel_shape", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS},         {"pads", IR_ATTR_INTS},
    {"dilations", IR_ATTR_INTS},    {"count_include_pad", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec bn_grad_attrs[] = {{"epsilon", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec no_attrs[] = {{NULL, 0}};
static const op_attr_spec loss_attrs[] = {{"ignore_index", IR_ATTR_INT}, {"reduction", IR_ATTR_STRING}, {NULL, 0}};

const op_def ops_grad[] = {
    {.name = "ConvWeightGrad", .domain = "ai.modelc", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
     .attrs = cwg_attrs, .infer = cwg_infer, .interp = interp_nn_conv_wgrad, .emit = emit_nn_conv_wgrad,
     .macs = cwg_macs, .scratch_bytes = emit_nn_conv_wgrad_scratch},
    {.name = "MaxPoolGrad", .domain = "ai.modelc", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
     .attrs = pool_attrs, .infer = maxpool_grad_infer, .interp = interp_nn_maxpool_grad,
     .emit = emit_nn_maxpool_grad},
    {.name = "AveragePoolGrad", .domain = "ai.modelc", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
     .attrs = pool_attrs, .infer = avgpool_grad_infer, .interp = interp_nn_avgpool_grad,
     .emit = emit_nn_avgpool_grad},
    {.name = "NegativeLogLikelihoodLossGrad", .domain = "ai.modelc", .min_in = 3, .max_in = 4, .min_out = 1,
     .max_out = 1, .attrs = loss_attrs, .validate = nll_grad_validate, .infer = nll_grad_infer,
     .interp = interp_index_nll_loss_grad, .emit = emit_index_nll_loss_grad},
    {.name = "BatchNormalizationGrad", .domain = "ai.modelc", .min_in = 3, .max_in = 6, .min_out = 1, .max_out = 3,
     .attrs = bn_grad_attrs, .flags = OP_OPTIONAL_OUTPUTS, .infer = bn_grad_infer,
     .interp = interp_nn_batchnorm_grad, .emit = emit_nn_batchnorm_grad, .share_input = bn_grad_share},
    {.name = "ReluGrad", .domain = "ai.modelc", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
     .attrs = no_attrs, .flags = OP_ELEMENTWISE, .infer = relu_grad_infer, .interp = interp_nn_relu_grad,
     .emit = emit_nn_relu_grad},
    {.name = NULL}};
