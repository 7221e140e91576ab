/*
 * emit_nn.c - C emission for Conv, the pools, Gemm, MatMul and
 * BatchNormalization (inference and training mode) and the backward ops of
 * ops_grad.c: each function turns its node (shapes static,
 * geometry attributes made explicit by the entry's infer) into a kl_nn.h
 * descriptor and hands it to the kernel layer.  No loops are printed here.
 */
#include "emit_nn.h"

#include <string.h>

#include "../ops/op.h"
#include "kl_gemm.h"
#include "kl_map.h"
#include "kl_par.h"
#include "kl_nn.h"
#include "kl_wgrad.h"

/* Buffer names when rendering; NULL while lowering for the planner (e NULL). */
static const char *in_name(emit_ctx *e, int i) { return e ? emit_in(e, i) : NULL; }
static const char *out_name(emit_ctx *e, int j) { return e ? emit_out(e, j) : NULL; }

/* Spatial geometry from the explicit attributes written by infer. */
static int read_window(const ir_node *n, int r, const int64_t *kern, int64_t *k, int64_t *s,
                       int64_t *d, int64_t *pb, int64_t *pe) {
  const int64_t *v;
  int t, cnt;
  if (ir_attr_find(n, "auto_pad") && strcmp(ir_attr_string(n, "auto_pad", "NOTSET"), "NOTSET"))
    return op_fail(n, "auto_pad was not resolved by shape inference");
  if (r < 1 || r > KL_NN_MAX_SP) return op_fail(n, "%d spatial dimensions are not supported", r);
  for (t = 0; t < r; t++) k[t] = kern[t], s[t] = d[t] = 1, pb[t] = pe[t] = 0;
  if ((cnt = ir_attr_ints(n, "strides", &v)) == r) memcpy(s, v, sizeof(int64_t) * r);
  else if (cnt >= 0) return op_fail(n, "strides has %d values for %d spatial dims", cnt, r);
  if ((cnt = ir_attr_ints(n, "dilations", &v)) == r) memcpy(d, v, sizeof(int64_t) * r);
  else if (cnt >= 0) return op_fail(n, "dilations has %d values for %d spatial dims", cnt, r);
  if ((cnt = ir_attr_ints(n, "pads", &v)) == 2 * r) {
    memcpy(pb, v, sizeof(int64_t) * r);
    memcpy(pe, v + r, sizeof(int64_t) * r);
  } else if (cnt >= 0) {
    return op_fail(n, "pads has %d values for %d spatial dims", cnt, r);
  }
  return 0;
}

/* The plain kernel's descriptor of a Conv node and its lowering to the
 * GEMM core (kl_gemm.h); e NULL: sizes only, for the planner. */
static int conv_desc(emit_ctx *e, const ir_node *n, kl_conv_desc *d, kl_mm *mm) {
  const ir_tensor *X = n->in[0], *W = n->in[1], *Y = n->out[0];
  int64_t pe[KL_NN_MAX_SP];
  memset(d, 0, sizeof *d);
  d->dt = Y->dtype;
  d->r = X->rank - 2;
  if (read_window(n, d->r, W->shape + 2, d->k, d->s, d->d, d->pb, pe)) return -1;
  memcpy(d->in, X->shape + 2, sizeof(int64_t) * d->r);
  memcpy(d->out, Y->shape + 2, sizeof(int64_t) * d->r);
  d->N = X->shape[0];
  d->C = X->shape[1];
  d->M = W->shape[0];
  d->group = ir_attr_int(n, "group", 1);
  kl_mm_lower_conv(n, d, mm);
  if (!e || mm->kind != KL_MM_NONE) return 0;
  d->x = emit_in(e, 0);
  d->w = emit_in(e, 1);
  d->bias = n->n_in > 2 && n->in[2] ? emit_in(e, 2) : NULL;
  d->y = emit_out(e, 0);
  return kl_epilogue_from_node(e, n, &d->ep);
}

int emit_nn_conv(emit_ctx *e, const ir_node *n) {
  kl_conv_desc d;
  kl_mm mm;
  if (conv_desc(e, n, &d, &mm)) return -1;
  if (mm.kind != KL_MM_NONE) return kl_mm_render(e, n, &mm) ? op_fail(n, "%s", ir_last_error()) : 0;
  return kl_conv(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}

int64_t emit_nn_conv_scratch(const ir_node *n) {
  kl_conv_desc d;
  kl_mm mm;
  return conv_desc(NULL, n, &d, &mm) ? -1 : kl_mm_scratch_bytes(&mm);
}

int emit_nn_conv_share(const ir_node *n) {
  kl_conv_desc d;
  kl_mm mm;
  return conv_desc(NULL, n, &d, &mm) ? -1 : kl_mm_share_input(&mm);
}

static int emit_pool(emit_ctx *e, const ir_node *n, kl_pool_kind kind, int global) {
  const ir_tensor *X = n->in[0], *Y = n->out[0];
  kl_pool_desc d;
  const int64_t *ks;
  memset(&d, 0, sizeof d);
  d.dt = Y->dtype;
  d.kind = kind;
  d.r = X->rank - 2;
  d.NC = X->shape[0] * X->shape[1];
  if (global) {
    if (read_window(n, d.r, X->shape + 2, d.k, d.s, d.d, d.pb, d.pe)) return -1;
  } else {
    if (ir_attr_ints(n, "kernel_shape", &ks) != d.r)
      return op_fail(n, "kernel_shape does not match the input rank");
    if (read_window(n, d.r, ks, d.k, d.s, d.d, d.pb, d.pe)) return -1;
  }
  memcpy(d.in, X->shape + 2, sizeof(int64_t) * d.r);
  memcpy(d.out, Y->shape + 2, sizeof(int64_t) * d.r);
  d.count_include_pad = (int)ir_attr_int(n, "count_include_pad", 0);
  d.x = emit_in(e, 0);
  d.y = emit_out(e, 0);
  if (kind == KL_POOL_MAX && !global && n->n_out > 1 && n->out[1]) {   /* MaxPool's Indices */
    d.idx = emit_out(e, 1);
    d.storage_order = (int)ir_attr_int(n, "storage_order", 0);
  }
  return kl_pool(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}

int emit_nn_maxpool(emit_ctx *e, const ir_node *n) { return emit_pool(e, n, KL_POOL_MAX, 0); }
int emit_nn_avgpool(emit_ctx *e, const ir_node *n) { return emit_pool(e, n, KL_POOL_AVG, 0); }
int emit_nn_global_avgpool(emit_ctx *e, const ir_node *n) { return emit_pool(e, n, KL_POOL_AVG, 1); }
int emit_nn_global_maxpool(emit_ctx *e, const ir_node *n) { return emit_pool(e, n, KL_POOL_MAX, 1); }

/* ConvWeightGrad(X, dY) -> dW: the convolution's descriptor (sizes only;
 * the emitter names dY in y and dW in w). */
static int wgrad_desc(const ir_node *n, kl_conv_desc *d) {
  const ir_tensor *X = n->in[0], *DY = n->in[1];
  const int64_t *ks;
  int64_t pe[KL_NN_MAX_SP];
  memset(d, 0, sizeof *d);
  d->dt = X->dtype;
  d->r = X->rank - 2;
  if (ir_attr_ints(n, "kernel_shape", &ks) != d->r) return op_fail(n, "kernel_shape does not match the input rank");
  if (read_window(n, d->r, ks, d->k, d->s, d->d, d->pb, pe)) return -1;
  memcpy(d->in, X->shape + 2, sizeof(int64_t) * d->r);
  memcpy(d->out, DY->shape + 2, sizeof(int64_t) * d->r);
  d->N = X->shape[0];
  d->C = X->shape[1];
  d->M = DY->shape[1];
  d->group = ir_attr_int(n, "group", 1);
  return 0;
}

/* On the GEMM core (kl_wgrad.h) when it takes the node, else kl_nn.h's loops. */
int emit_nn_conv_wgrad(emit_ctx *e, const ir_node *n) {
  kl_conv_desc d;
  kl_wgrad w;
  if (wgrad_desc(n, &d)) return -1;
  if (kl_wgrad_lower(n, &d, &w) == 0) return kl_wgrad_render(e, &w, emit_in(e, 0), emit_in(e, 1), emit_out(e, 0));
  d.x = emit_in(e, 0);
  d.y = emit_in(e, 1);
  d.w = emit_out(e, 0);
  return kl_conv_wgrad(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}

int64_t emit_nn_conv_wgrad_scratch(const ir_node *n) {
  kl_conv_desc d;
  kl_wgrad w;
  return wgrad_desc(n, &d) == 0 && kl_wgrad_lower(n, &d, &w) == 0 ? kl_wgrad_scratch_bytes(&w) : 0;
}

/* MaxPoolGrad(X, dY) / AveragePoolGrad(dY, shape) -> dX: the pool's
 * descriptor with dY in y (and x only for MAX). */
static int emit_pool_grad(emit_ctx *e, const ir_node *n, kl_pool_kind kind) {
  int is_max = kind == KL_POOL_MAX;
  const ir_tensor *X = n->out[0], *DY = n->in[is_max ? 1 : 0];
  const int64_t *ks;
  kl_pool_desc d;
  memset(&d, 0, sizeof d);
  d.dt = X->dtype;
  d.kind = kind;
  d.r = X->rank - 2;
  d.NC = X->shape[0] * X->shape[1];
  if (ir_attr_ints(n, "kernel_shape", &ks) != d.r) return op_fail(n, "kernel_shape does not match the input rank");
  if (read_window(n, d.r, ks, d.k, d.s, d.d, d.pb, d.pe)) return -1;
  memcpy(d.in, X->shape + 2, sizeof(int64_t) * d.r);
  memcpy(d.out, DY->shape + 2, sizeof(int64_t) * d.r);
  d.count_include_pad = (int)ir_attr_int(n, "count_include_pad", 0);
  d.x = is_max ? emit_in(e, 0) : NULL;
  d.y = emit_in(e, is_max ? 1 : 0);
  return kl_pool_grad(e, &d, emit_out(e, 0)) ? op_fail(n, "%s", ir_last_error()) : 0;
}

int emit_nn_maxpool_grad(emit_ctx *e, const ir_node *n) { return emit_pool_grad(e, n, KL_POOL_MAX); }
int emit_nn_avgpool_grad(emit_ctx *e, const ir_node *n) { return emit_pool_grad(e, n, KL_POOL_AVG); }

/* The plain kernel's descriptor of a Gemm node (strides and sizes even
 * without e) and its lowering to the GEMM core. */
static int gemm_desc(emit_ctx *e, const ir_node *n, kl_gemm_desc *dp, kl_mm *mm) {
  const ir_tensor *A = n->in[0], *C = n->n_in > 2 ? n->in[2] : NULL;
  int ta = (int)ir_attr_int(n, "transA", 0), tb = (int)ir_attr_int(n, "transB", 0);
  kl_gemm_desc d;
  memset(&d, 0, sizeof d);
  d.dt = n->out[0]->dtype;
  d.M = n->out[0]->shape[0];
  d.N = n->out[0]->shape[1];
  d.K = A->shape[ta ? 0 : 1];
  d.a = in_name(e, 0);
  d.a_rs = ta ? 1 : d.K;
  d.a_cs = ta ? d.M : 1;
  d.b = in_name(e, 1);
  d.b_rs = tb ? 1 : d.N;
  d.b_cs = tb ? d.K : 1;
  d.y = out_name(e, 0);
  d.alpha = ir_attr_float(n, "alpha", 1.0);
  d.beta = ir_attr_float(n, "beta", 1.0);
  if (C) {
    /* C right-aligned against [M,N]; a dim of 1 (or a missing one) repeats */
    d.c = in_name(e, 2);
    if (C->rank == 1) d.c_cs = C->shape[0] == 1 ? 0 : 1;
    if (C->rank == 2) {
      d.c_rs = C->shape[0] == 1 ? 0 : C->shape[1];
      d.c_cs = C->shape[1] == 1 ? 0 : 1;
    }
  }
  kl_mm_lower_gemm(n, &d, 0, mm);
  *dp = d;
  return e && mm->kind == KL_MM_NONE ? kl_epilogue_from_node(e, n, &dp->ep) : 0;
}

/* The same for MatMul. */
static int matmul_desc(emit_ctx *e, const ir_node *n, kl_gemm_desc *dp, kl_mm *mm) {
  const ir_tensor *A = n->in[0], *B = n->in[1], *Y = n->out[0];
  int ra = A->rank, rb = B->rank, t;
  int abr = ra > 2 ? ra - 2 : 0, bbr = rb > 2 ? rb - 2 : 0;
  int64_t sa, sb;
  kl_gemm_desc d;
  memset(&d, 0, sizeof d);
  d.dt = Y->dtype;
  d.M = ra >= 2 ? A->shape[ra - 2] : 1;   /* A [K] is a row */
  d.K = A->shape[ra - 1];
  d.N = rb >= 2 ? B->shape[rb - 1] : 1;   /* B [K] is a column */
  d.batch_rank = Y->rank - (ra >= 2) - (rb >= 2);
  memcpy(d.batch, Y->shape, sizeof(int64_t) * d.batch_rank);
  /* batch strides, operands right-aligned against the output's batch dims */
  sa = d.M * d.K;
  sb = d.K * d.N;
  for (t = d.batch_rank - 1; t >= 0; t--) {
    int ta = t - (d.batch_rank - abr), tb = t - (d.batch_rank - bbr);
    if (ta >= 0) {
      d.a_bs[t] = A->shape[ta] == 1 ? 0 : sa;
      sa *= A->shape[ta];
    }
    if (tb >= 0) {
      d.b_bs[t] = B->shape[tb] == 1 ? 0 : sb;
      sb *= B->shape[tb];
    }
  }
  d.a = in_name(e, 0);
  d.a_rs = d.K;
  d.a_cs = 1;
  d.b = in_name(e, 1);
  d.b_rs = d.N;
  d.b_cs = 1;
  d.y = out_name(e, 0);
  d.alpha = 1.0;
  kl_mm_lower_gemm(n, &d, 1, mm);
  *dp = d;
  return e && mm->kind == KL_MM_NONE ? kl_epilogue_from_node(e, n, &dp->ep) : 0;
}

/* Gemm and MatMul: the GEMM core when it takes the node, else the plain loops. */
static int emit_mm(emit_ctx *e, const ir_node *n, int is_matmul) {
  kl_gemm_desc d;
  kl_mm mm;
  if ((is_matmul ? matmul_desc : gemm_desc)(e, n, &d, &mm)) return -1;
  if (mm.kind != KL_MM_NONE) return kl_mm_render(e, n, &mm) ? op_fail(n, "%s", ir_last_error()) : 0;
  return kl_gemm(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}

int emit_nn_gemm(emit_ctx *e, const ir_node *n) { return emit_mm(e, n, 0); }
int emit_nn_matmul(emit_ctx *e, const ir_node *n) { return emit_mm(e, n, 1); }

int64_t emit_nn_gemm_scratch(const ir_node *n) {
  kl_gemm_desc d;
  kl_mm mm;
  return gemm_desc(NULL, n, &d, &mm) ? -1 : kl_mm_scratch_bytes(&mm);
}

int64_t emit_nn_matmul_scratch(const ir_node *n) {
  kl_gemm_desc d;
  kl_mm mm;
  return matmul_desc(NULL, n, &d, &mm) ? -1 : kl_mm_scratch_bytes(&mm);
}

int emit_nn_gemm_share(const ir_node *n) {
  kl_gemm_desc d;
  kl_mm mm;
  return gemm_desc(NULL, n, &d, &mm) ? -1 : kl_mm_share_input(&mm);
}

int emit_nn_matmul_share(const ir_node *n) {
  kl_gemm_desc d;
  kl_mm mm;
  return matmul_desc(NULL, n, &d, &mm) ? -1 : kl_mm_share_input(&mm);
}

int64_t emit_nn_conv_parts(const ir_node *n, int *parts) {
  kl_conv_desc d;
  kl_mm mm;
  *parts = 0;
  return conv_desc(NULL, n, &d, &mm) ? 0 : kl_mm_part_bytes(&mm, parts);
}

int emit_nn_conv_rows(const ir_node *n, struct op_part_rows *r) {
  kl_conv_desc d;
  kl_mm mm;
  return conv_desc(NULL, n, &d, &mm) ? 0 : kl_par_rows(&mm, r);
}

int64_t emit_nn_gemm_parts(const ir_node *n, int *parts) {
  kl_gemm_desc d;
  kl_mm mm;
  *parts = 0;
  return gemm_desc(NULL, n, &d, &mm) ? 0 : kl_mm_part_bytes(&mm, parts);
}

int64_t emit_nn_matmul_parts(const ir_node *n, int *parts) {
  kl_gemm_desc d;
  kl_mm mm;
  *parts = 0;
  return matmul_desc(NULL, n, &d, &mm) ? 0 : kl_mm_part_bytes(&mm, parts);
}



/* The operands common to inference and training mode. */
static void bn_desc(emit_ctx *e, const ir_node *n, kl_chan_affine_desc *d) {
  const ir_tensor *X = n->in[0];
  memset(d, 0, sizeof *d);
  d->dt = n->out[0]->dtype;
  d->N = X->shape[0];
  d->C = X->shape[1];
  d->S = ir_numel_dims(X->rank - 2, X->shape + 2);
  d->x = emit_in(e, 0);
  d->scale = emit_in(e, 1);
  d->bias = emit_in(e, 2);
  d->mean = emit_in(e, 3);
  d->var = emit_in(e, 4);
  d->y = emit_out(e, 0);
  d->eps = ir_attr_float(n, "epsilon", 1e-5);
}

static int emit_bn_train(emit_ctx *e, const ir_node *n) {
  kl_bn_train_desc d;
  memset(&d, 0, sizeof d);
  bn_desc(e, n, &d.bn);
  d.run_mean = n->n_out > 1 && n->out[1] ? emit_out(e, 1) : NULL;
  d.run_var = n->n_out > 2 && n->out[2] ? emit_out(e, 2) : NULL;
  d.batch_mean = n->n_out > 3 && n->out[3] ? emit_out(e, 3) : NULL;
  d.batch_var = n->n_out > 4 && n->out[4] ? emit_out(e, 4) : NULL;
  d.momentum = ir_attr_float(n, "momentum", 0.9);
  int64_t cnt = d.bn.N * d.bn.S;
  d.var_scale = ir_attr_int(n, "unbiased_running_var", 0) && cnt > 1 ? (double)cnt / (double)(cnt - 1) : 1.0;
  return kl_bn_train(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}

/* BatchNormalizationGrad(dY, X, scale[, Y, mean, var]) -> dX[, dScale, dBias]. */
int emit_nn_batchnorm_grad(emit_ctx *e, const ir_node *n) {
  const ir_tensor *X = n->in[1];
  kl_bn_grad_desc d;
  memset(&d, 0, sizeof d);
  d.dt = X->dtype;
  d.N = X->shape[0];
  d.C = X->shape[1];
  d.S = ir_numel_dims(X->rank - 2, X->shape + 2);
  d.dy = emit_in(e, 0);
  d.x = emit_in(e, 1);
  d.scale = emit_in(e, 2);
  d.relu_y = n->n_in > 3 ? emit_in(e, 3) : NULL;
  d.mean = n->n_in > 5 ? emit_in(e, 4) : NULL;
  d.var = n->n_in > 5 ? emit_in(e, 5) : NULL;
  d.dx = emit_out(e, 0);
  d.dscale = n->n_out > 1 && n->out[1] ? emit_out(e, 1) : NULL;
  d.dbias = n->n_out > 2 && n->out[2] ? emit_out(e, 2) : NULL;
  d.eps = ir_attr_float(n, "epsilon", 1e-5);
  return kl_bn_grad(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}

/* ReluGrad(dY, Y) -> dX, one map. */
int emit_nn_relu_grad(emit_ctx *e, const ir_node *n) {
  return kl_map_node(e, n, "($1 > 0.0@ ? $0 : 0.0@)", n->out[0]->dtype);
}

int emit_nn_batchnorm(emit_ctx *e, const ir_node *n) {
  kl_chan_affine_desc d;
  if (ir_attr_int(n, "training_mode", 0)) return emit_bn_train(e, n);
  bn_desc(e, n, &d);
  return kl_chan_affine(e, &d) ? op_fail(n, "%s", ir_last_error()) : 0;
}
