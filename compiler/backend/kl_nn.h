/*
 * kl_nn.h - kernel layer for the dense nn kernels: GEMM (also batched and
 * broadcast, for MatMul), direct convolution, pooling, the per-channel
 * affine map of an unfolded BatchNormalization, its training mode and its
 * training-mode backward.
 *
 * An op fills a descriptor with static sizes, strides and buffer names
 * (from emit_in/emit_out) and the layer writes the loops.  Sizes and
 * strides are in elements.  Producers (GEMM, convolution) end in the
 * kernels.h epilogue: y = act(acc + bias + residual[i]), the residual read
 * at the output's own flat index.
 *
 * These loops are plain (GEMM in i-k-j order so the inner loop runs along
 * N, accumulating in the output's own type).  Float32 Gemm, MatMul and Conv
 * go to the packed, register-blocked core of kl_gemm.h instead; what it
 * does not take (F64, 3-D convolution, rare Gemm C shapes) comes here.
 */
#ifndef MODELC_KL_NN_H
#define MODELC_KL_NN_H

#include "kernels.h"

#define KL_NN_MAX_SP (IR_MAX_RANK - 2)

/* y[batch..., m, n] = act(alpha * sum_k A(m,k) B(k,n) + beta * C(m,n) + residual)
 * with y contiguous ([batch..., M, N] in C order) and
 *   A(m,k) = a[sum_t bi_t * a_bs[t] + m * a_rs + k * a_cs]   (likewise B),
 *   C(m,n) = c[m * c_rs + n * c_cs]  (strides 0 broadcast; same for every batch).
 * A batch dim where an operand broadcasts has stride 0 there. */
typedef struct kl_gemm_desc {
  ir_dtype dt;                         /* IR_F32 or IR_F64 */
  int64_t M, N, K;
  int batch_rank;                      /* 0: a single product */
  int64_t batch[IR_MAX_RANK];
  const char *a;
  int64_t a_rs, a_cs, a_bs[IR_MAX_RANK];
  const char *b;
  int64_t b_rs, b_cs, b_bs[IR_MAX_RANK];
  const char *y;
  double alpha;
  const char *c;                       /* NULL: no C term */
  int64_t c_rs, c_cs;
  double beta;
  kl_epilogue ep;
} kl_gemm_desc;

int kl_gemm(emit_ctx *e, const kl_gemm_desc *d);

/* Direct convolution, NC<spatial> layout, weights [M, C/group, k...]:
 * y[b,m,o] = act(bias[m] + sum_{ic,kk} x[b, g*C/group+ic, o*s - pb + kk*d] w[m,ic,kk] + residual)
 * with input positions outside [0, in) reading as zero. */
typedef struct kl_conv_desc {
  ir_dtype dt;
  int64_t N, C, M, group;
  int r;                               /* spatial rank */
  int64_t in[KL_NN_MAX_SP], out[KL_NN_MAX_SP];
  int64_t k[KL_NN_MAX_SP], s[KL_NN_MAX_SP], d[KL_NN_MAX_SP], pb[KL_NN_MAX_SP];
  const char *x, *w, *bias, *y;        /* bias: [M] or NULL */
  kl_epilogue ep;
} kl_conv_desc;

int kl_conv(emit_ctx *e, const kl_conv_desc *d);

typedef enum kl_pool_kind { KL_POOL_MAX, KL_POOL_AVG } kl_pool_kind;

/* Pooling over NC planes (N*C of them).  Window positions outside the input
 * are skipped; AVG divides by the number of positions inside the input, or
 * with count_include_pad by those inside [-pb, in + pe). */
typedef struct kl_pool_desc {
  ir_dtype dt;                         /* F32/F64; MAX also I8/U8 */
  kl_pool_kind kind;
  int count_include_pad;
  int64_t NC;
  int r;
  int64_t in[KL_NN_MAX_SP], out[KL_NN_MAX_SP];
  int64_t k[KL_NN_MAX_SP], s[KL_NN_MAX_SP], d[KL_NN_MAX_SP], pb[KL_NN_MAX_SP], pe[KL_NN_MAX_SP];
  const char *x, *y;
  /* MAX only: MaxPool's Indices output (int64, y's layout) or NULL; each
   * entry is the flat index into x of the maximum taken, with the spatial
   * part column-major when storage_order is 1; -1 for an empty window. */
  const char *idx;
  int storage_order;
} kl_pool_desc;

int kl_pool(emit_ctx *e, const kl_pool_desc *d);

/* y[b,c,i] = (x[b,c,i] - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c]
 * over x [N, C, S] (BatchNormalization in inference mode). */
typedef struct kl_chan_affine_desc {
  ir_dtype dt;
  int64_t N, C, S;
  const char *x, *scale, *bias, *mean, *var, *y;
  double eps;
} kl_chan_affine_desc;

int kl_chan_affine(emit_ctx *e, const kl_chan_affine_desc *d);

/* BatchNormalization in training mode over x [N, C, S]: per channel, the
 * batch mean m and population variance v (in double), then
 *     y = (x - m) / sqrt(v + eps) * scale[c] + bias[c]
 *     run_mean[c] = mean[c] * momentum + m * (1 - momentum)   (when run_mean)
 *     run_var[c]  = var[c] * momentum + v * var_scale * (1 - momentum)    (when run_var)
 * var_scale 1 is ONNX's rule; n / (n - 1) (n = N * S) PyTorch's unbiased one.
 *     batch_mean[c] = m, batch_var[c] = v   (when set: for the backward) */
typedef struct kl_bn_train_desc {
  kl_chan_affine_desc bn;   /* the node's operands; mean and var are the running ones */
  const char *run_mean, *run_var, *batch_mean, *batch_var;
  double momentum, var_scale;
} kl_bn_train_desc;

int kl_bn_train(emit_ctx *e, const kl_bn_train_desc *d);

/* Backward of BatchNormalization in training mode over x [N, C, S]
 * (BatchNormalizationGrad, ops_grad.c): per channel the batch mean m and
 * variance v, read from mean and var when set (the forward's), else
 * computed as kl_bn_train computes them; r = 1/sqrt(v + eps), n = N*S,
 * and g = dy, or dy where relu_y > 0 and 0 elsewhere when relu_y is set
 * (the output of a Relu of the BatchNormalization's y):
 *     dbias[c] = sum g,   dscale[c] = r * sum g*(x - m)
 *     dx = scale[c] * r * (g - sum g / n - (x - m) * r*r * sum g*(x - m) / n)
 * dscale and dbias may be NULL. */
typedef struct kl_bn_grad_desc {
  ir_dtype dt;
  int64_t N, C, S;
  const char *dy, *x, *scale, *relu_y, *mean, *var, *dx, *dscale, *dbias;
  double eps;
} kl_bn_grad_desc;

int kl_bn_grad(emit_ctx *e, const kl_bn_grad_desc *d);

/* Backward kernels of ops_grad.c ------------------------------------------- */

/* Weight gradient of the convolution d describes (bias, epilogue unused),
 * with d->y read as dY and d->w written:
 *   dW[m,ic,kk] = sum_{b,o} dY[b,m,o] x[b, g*C/group+ic, o*s - pb + kk*d]. */
int kl_conv_wgrad(emit_ctx *e, const kl_conv_desc *d);
/* Input gradient of the pooling d describes (MAX or AVG; idx unused, x read
 * by MAX only), with d->y read as dY: dx (x's layout) gets each dY element at its window's
 * first maximum (the forward's argmax), or spread over its window divided
 * by the forward's divisor. */
int kl_pool_grad(emit_ctx *e, const kl_pool_desc *d, const char *dx);

#endif
