/*
 * ops_nn.c - op table entries for the neural-network ops: Conv, MaxPool,
 * AveragePool, GlobalAveragePool, GlobalMaxPool, Gemm, MatMul and
 * BatchNormalization (inference form, and training_mode from opset 14), with ONNX semantics;
 * in training mode modelc's outputs 3-4, the batch's mean and population
 * variance, which train.c adds for the backward (BatchNormalizationGrad).
 *
 * Conventions:
 *  - validate checks what can be checked from attributes alone (auto_pad
 *    spelling, list lengths, positive strides, unsupported modes);
 *  - infer, which sees the input shapes, resolves the window geometry and
 *    writes it back as plain attributes: kernel_shape (taken from the weight
 *    when absent), strides, dilations, pads (begins then ends, as in ONNX)
 *    and group are always present afterwards and auto_pad is removed, so the
 *    interpreter and the backend read one form.  Running infer again is a
 *    no-op on an already resolved node.
 *  - Producers (Conv, Gemm, MatMul) take a fused epilogue (epilogue.h).  The residual is
 *    always the input right after the op's own ones: index 3 for Conv and
 *    Gemm (with a NULL bias/C at 2 when there is none), 2 for MatMul; an
 *    extra input is refused unless _residual names it.
 */
#include <string.h>
#include "op.h"
#include "grad_norm.h"
#include "epilogue.h"
#include "grad_nn.h"
#include "../../runtime/kernels/interp_nn.h"
#include "../backend/emit_nn.h"

#define NN_MAX_ATTR ((int64_t)1 << 31)   /* kernel, stride, dilation and pad limit */

#define NN_MAX_SP (IR_MAX_RANK - 2)

/* ---- shared checks -------------------------------------------------------- */

static int is_float(ir_dtype t) { return t == IR_F32 || t == IR_F64; }

/* The epilogue itself is checked by op_validate (epilogue.h); here only
 * where a producer whose own inputs number at most own_max keeps its residual. */
static int check_epilogue(const ir_node *n, int own_max) {
  int64_t res = ir_attr_int(n, OP_EPI_RESIDUAL, -1);
  if (ir_attr_find(n, OP_EPI_RESIDUAL) && res < own_max && n->n_in <= own_max)
    return op_fail(n, OP_EPI_RESIDUAL "=%lld names one of the op's own inputs", (long long)res);
  if (n->n_in > own_max && (res != own_max || n->n_in != own_max + 1))
    return op_fail(n, "has %d inputs; more than %d only with " OP_EPI_RESIDUAL " naming the last", n->n_in,
                   own_max);
  return 0;
}

/* The residual input must have the output's shape and dtype (infer time). */
static int check_residual(const ir_node *n) {
  int64_t res = ir_attr_int(n, OP_EPI_RESIDUAL, -1);
  char a[96], b[96];
  if (res < 0) return 0;
  if (!ir_same_shape(n->in[res], n->out[0]) || n->in[res]->dtype != n->out[0]->dtype)
    return op_fail(n, "residual '%s' %s does not match the output %s", n->in[res]->name,
                   ir_shape_str(n->in[res], a, sizeof a), ir_shape_str(n->out[0], b, sizeof b));
  return 0;
}

/* ---- window geometry (Conv and the pools) --------------------------------- */

static int spatial_rank_hint(const ir_node *n) {
  const int64_t *v;
  int k = ir_attr_ints(n, "kernel_shape", &v);
  if (k >= 0) return k;
  if (n->n_in > 1 && n->in[1] && n->in[1]->rank >= 3 && strcmp(n->op_type, "Conv") == 0)
    return n->in[1]->rank - 2;
  if (n->in[0] && n->in[0]->rank >= 3) return n->in[0]->rank - 2;
  return -1;
}

/* Attribute `name`, when given, holds r values (r < 0: not known yet), each
 * in [1, NN_MAX_ATTR]: the bound keeps shape arithmetic from overflowing. */
static int window_ints(const ir_node *n, const char *name, int r) {
  const int64_t *v;
  int cnt = ir_attr_ints(n, name, &v);
  if (cnt >= 0 && r >= 0 && cnt != r)
    return op_fail(n, "%s has %d values for %d spatial dimensions", name, cnt, r);
  for (int k = 0; k < cnt; k++)
    if (v[k] <= 0 || v[k] > NN_MAX_ATTR)
      return op_fail(n, "%s[%d]=%lld must be positive and at most %lld", name, k, (long long)v[k],
                     (long long)NN_MAX_ATTR);
  return 0;
}

static int validate_window(ir_node *n, int is_conv) {
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  const int64_t *v;
  int r = spatial_rank_hint(n), k, cnt;
  if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") &&
      strcmp(ap, "SAME_LOWER"))
    return op_fail(n, "unknown auto_pad value '%s'", ap);
  if (!is_conv && ir_attr_ints(n, "kernel_shape", &v) < 0)
    return op_fail(n, "missing required attribute kernel_shape");
  if (r > NN_MAX_SP) return op_fail(n, "%d spatial dimensions (at most %d)", r, NN_MAX_SP);
  if (r == 0) return op_fail(n, "needs at least one spatial dimension");
  /* r comes from kernel_shape when it is given, so its count always matches */
  if (window_ints(n, "kernel_shape", r) || window_ints(n, "strides", r) || window_ints(n, "dilations", r))
    return -1;
  cnt = ir_attr_ints(n, "pads", &v);
  if (cnt >= 0 && r >= 0 && cnt != 2 * r)
    return op_fail(n, "pads has %d values; %d spatial dimensions need %d", cnt, r, 2 * r);
  for (k = 0; k < cnt; k++)
    if (v[k] < 0) return op_fail(n, "pads[%d]=%lld is negative", k, (long long)v[k]);
    else if (v[k] > NN_MAX_ATTR) return op_fail(n, "pads[%d]=%lld is above %lld", k, (long long)v[k], (long long)NN_MAX_ATTR);
  if (cnt >= 0 && strcmp(ap, "NOTSET") != 0) {
    for (k = 0; k < cnt; k++)
      if (v[k] != 0) return op_fail(n, "pads given together with auto_pad=%s", ap);
  }
  if (is_conv) {
    if (ir_attr_int(n, "group", 1) < 1)
      return op_fail(n, "group=%lld must be at least 1", (long long)ir_attr_int(n, "group", 1));
  } else {
    int64_t cm = ir_attr_int(n, "ceil_mode", 0);
    if (cm != 0 && cm != 1) return op_fail(n, "ceil_mode=%lld must be 0 or 1", (long long)cm);
  }
  return 0;
}

/* Resolve the geometry against input spatial dims in[r] and kernel k[r],
 * fill out[r], and store the explicit attributes back on the node. */
static int resolve_window(ir_node *n, int r, const int64_t *in, const int64_t *kern, int ceil_mode,
                          int64_t *out) {
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  int64_t s[NN_MAX_SP], d[NN_MAX_SP], p[2 * NN_MAX_SP];
  const int64_t *v;
  int i, cnt, same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER");
  for (i = 0; i < r; i++) s[i] = d[i] = 1, p[i] = p[r + i] = 0;
  if ((cnt = ir_attr_ints(n, "strides", &v)) >= 0) {
    if (cnt != r) return op_fail(n, "strides has %d values for %d spatial dimensions", cnt, r);
    memcpy(s, v, sizeof(int64_t) * r);
  }
  if ((cnt = ir_attr_ints(n, "dilations", &v)) >= 0) {
    if (cnt != r) return op_fail(n, "dilations has %d values for %d spatial dimensions", cnt, r);
    memcpy(d, v, sizeof(int64_t) * r);
  }
  if ((cnt = ir_attr_ints(n, "pads", &v)) >= 0 && !strcmp(ap, "NOTSET")) {
    if (cnt != 2 * r) return op_fail(n, "pads has %d values; %d spatial dimensions need %d", cnt, r, 2 * r);
    memcpy(p, v, sizeof(int64_t) * 2 * r);
  }
  for (i = 0; i < r; i++) {
    int64_t ek = d[i] * (kern[i] - 1) + 1;   /* extent of the dilated window */
    if (same) {
      int64_t o = (in[i] + s[i] - 1) / s[i], tot = (o - 1) * s[i] + ek - in[i];
      if (tot < 0) tot = 0;
      if (!strcmp(ap, "SAME_UPPER")) p[i] = tot / 2, p[r + i] = tot - tot / 2;
      else p[r + i] = tot / 2, p[i] = tot - tot / 2;   /* SAME_LOWER: the extra pad at the start */
      out[i] = o;
    } else {
      int64_t num = in[i] + p[i] + p[r + i] - ek;
      if (num < 0)
        return op_fail(n, "window of extent %lld is larger than the padded input (%lld) in spatial dim %d",
                       (long long)ek, (long long)(in[i] + p[i] + p[r + i]), i);
      out[i] = (ceil_mode ? (num + s[i] - 1) / s[i] : num / s[i]) + 1;
      /* ceil_mode: the last window must start inside the input or the begin pad */
      if (ceil_mode && (out[i] - 1) * s[i] >= in[i] + p[i]) out[i]--;
    }
  }
  ir_attr_remove(n, "auto_pad");
  if (same && ir_attr_find(n, "ceil_mode")) ir_attr_set_int(n, "ceil_mode", 0);
  ir_attr_set_ints(n, "kernel_shape", r, kern);
  ir_attr_set_ints(n, "strides", r, s);
  ir_attr_set_ints(n, "dilations", r, d);
  ir_attr_set_ints(n, "pads", 2 * r, p);
  return 0;
}

/* ---- Conv ----------------------------------------------------------------- */

static int conv_validate(ir_node *n) {
  if (validate_window(n, 1)) return -1;
  return check_epilogue(n, 3);
}

static int conv_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
  int64_t grp = ir_attr_int(n, "group", 1), kern[NN_MAX_SP], osp[NN_MAX_SP], dims[IR_MAX_RANK];
  const int64_t *ks;
  int r, i, nk;
  char a[96], c[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1)) return -1;
  if (b && op_same_dtype(n, 0, 2)) return -1;
  if (x->rank < 3 || x->rank > IR_MAX_RANK)
    return op_fail(n, "input X '%s' has rank %d; Conv needs [N,C,spatial...] with 1 to %d spatial dims",
                   x->name, x->rank, NN_MAX_SP);
  r = x->rank - 2;
  if (w->rank != x->rank)
    return op_fail(n, "weight '%s' %s has rank %d but X %s has rank %d", w->name,
                   ir_shape_str(w, a, sizeof a), w->rank, ir_shape_str(x, c, sizeof c), x->rank);
  nk = ir_attr_ints(n, "kernel_shape", &ks);
  if (nk >= 0 && nk != r) return op_fail(n, "kernel_shape has %d values for %d spatial dimensions", nk, r);
  for (i = 0; i < r; i++) {
    kern[i] = w->shape[2 + i];
    if (nk >= 0 && ks[i] != kern[i])
      return op_fail(n, "kernel_shape[%d]=%lld does not match weight '%s' %s", i, (long long)ks[i],
                     w->name, ir_shape_str(w, a, sizeof a));
  }
  if (x->shape[1] % grp != 0 || w->shape[0] % grp != 0)
    return op_fail(n, "channels (in %lld, out %lld) are not divisible by group=%lld",
                   (long long)x->shape[1], (long long)w->shape[0], (long long)grp);
  if (w->shape[1] * grp != x->shape[1])
    return op_fail(n, "weight '%s' %s expects %lld input channels per group but X has %lld channels and group=%lld",
                   w->name, ir_shape_str(w, a, sizeof a), (long long)w->shape[1],
                   (long long)x->shape[1], (long long)grp);
  if (b && (b->rank != 1 || b->shape[0] != w->shape[0]))
    return op_fail(n, "bias '%s' %s must have shape [%lld]", b->name, ir_shape_str(b, a, sizeof a),
                   (long long)w->shape[0]);
  if (resolve_window(n, r, x->shape + 2, kern, 0, osp)) return -1;
  ir_attr_set_int(n, "group", grp);
  dims[0] = x->shape[0];
  dims[1] = w->shape[0];
  for (i = 0; i < r; i++) dims[2 + i] = osp[i];
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return check_residual(n);
}

/* ---- pools ---------------------------------------------------------------- */

static int maxpool_validate(ir_node *n) {
  int64_t so = ir_attr_int(n, "storage_order", 0);
  if (so != 0 && so != 1) return op_fail(n, "storage_order=%lld must be 0 or 1", (long long)so);
  return validate_window(n, 0);
}

static int avgpool_validate(ir_node *n) {
  int64_t cip = ir_attr_int(n, "count_include_pad", 0);
  if (cip != 0 && cip != 1) return op_fail(n, "count_include_pad=%lld must be 0 or 1", (long long)cip);
  return validate_window(n, 0);
}

static int pool_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0];
  int64_t osp[NN_MAX_SP], dims[IR_MAX_RANK];
  const int64_t *ks;
  int r, i, nk, ismax = !strcmp(n->op_type, "MaxPool");
  (void)g;
  if (!is_float(x->dtype) && !(ismax && (x->dtype == IR_I8 || x->dtype == IR_U8)))
    return op_fail(n, "input '%s' has unsupported dtype %s", x->name, ir_dtype_name(x->dtype));
  if (x->rank < 3)
    return op_fail(n, "input '%s' has rank %d; pooling needs [N,C,spatial...]", x->name, x->rank);
  r = x->rank - 2;
  nk = ir_attr_ints(n, "kernel_shape", &ks);
  if (nk != r) return op_fail(n, "kernel_shape has %d values for %d spatial dimensions", nk, r);
  memcpy(dims, ks, sizeof(int64_t) * r);   /* ks points into the node; copy before rewriting */
  if (resolve_window(n, r, x->shape + 2, dims, (int)ir_attr_int(n, "ceil_mode", 0), osp)) return -1;
  if (!ismax) ir_attr_set_int(n, "count_include_pad", ir_attr_int(n, "count_include_pad", 0));
  dims[0] = x->shape[0];
  dims[1] = x->shape[1];
  for (i = 0; i < r; i++) dims[2 + i] = osp[i];
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  if (ismax && n->n_out > 1 && n->out[1]) {   /* Indices: int64, flat into X */
    n->out[1]->dtype = IR_I64;
    ir_set_shape(n->out[1], x->rank, dims);
  }
  return 0;
}

static int global_pool_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0];
  int64_t dims[IR_MAX_RANK];
  int i;
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64)) return -1;
  if (x->rank < 3)
    return op_fail(n, "input '%s' has rank %d; pooling needs [N,C,spatial...]", x->name, x->rank);
  dims[0] = x->shape[0];
  dims[1] = x->shape[1];
  for (i = 2; i < x->rank; i++) dims[i] = 1;
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

/* ---- Gemm ----------------------------------------------------------------- */

static int gemm_validate(ir_node *n) {
  int64_t ta = ir_attr_int(n, "transA", 0), tb = ir_attr_int(n, "transB", 0);
  if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
    return op_fail(n, "transA=%lld/transB=%lld must be 0 or 1", (long long)ta, (long long)tb);
  ir_attr_set_int(n, "transA", ta);
  ir_attr_set_int(n, "transB", tb);
  ir_attr_set_float(n, "alpha", ir_attr_float(n, "alpha", 1.0));
  ir_attr_set_float(n, "beta", ir_attr_float(n, "beta", 1.0));
  return check_epilogue(n, 3);
}

static int gemm_infer(ir_graph *g, ir_node *n) {
  ir_tensor *A = n->in[0], *B = n->in[1], *C = n->n_in > 2 ? n->in[2] : NULL;
  int ta = (int)ir_attr_int(n, "transA", 0), tb = (int)ir_attr_int(n, "transB", 0), i;
  int64_t M, K, K2, N, dims[2];
  char a[96], b[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1)) return -1;
  if (C && op_same_dtype(n, 0, 2)) return -1;
  if (A->rank != 2 || B->rank != 2)
    return op_fail(n, "A %s and B %s must both be 2-D", ir_shape_str(A, a, sizeof a),
                   ir_shape_str(B, b, sizeof b));
  M = A->shape[ta ? 1 : 0];
  K = A->shape[ta ? 0 : 1];
  K2 = B->shape[tb ? 1 : 0];
  N = B->shape[tb ? 0 : 1];
  if (K != K2)
    return op_fail(n, "inner dimensions differ: A %s (transA=%d), B %s (transB=%d)",
                   ir_shape_str(A, a, sizeof a), ta, ir_shape_str(B, b, sizeof b), tb);
  if (C) {
    if (C->rank > 2) return op_fail(n, "C %s has rank > 2", ir_shape_str(C, a, sizeof a));
    for (i = 0; i < C->rank; i++) {
      int64_t want = (C->rank - i == 1) ? N : M;   /* right-aligned against [M,N] */
      if (C->shape[i] != 1 && C->shape[i] != want)
        return op_fail(n, "C %s is not unidirectionally broadcastable to [%lld,%lld]",
                       ir_shape_str(C, a, sizeof a), (long long)M, (long long)N);
    }
  }
  dims[0] = M;
  dims[1] = N;
  n->out[0]->dtype = A->dtype;
  ir_set_shape(n->out[0], 2, dims);
  return check_residual(n);
}

/* ---- MatMul --------------------------------------------------------------- */

static int matmul_validate(ir_node *n) { return check_epilogue(n, 2); }

static int matmul_infer(ir_graph *g, ir_node *n) {
  ir_tensor *A = n->in[0], *B = n->in[1];
  int64_t dims[IR_MAX_RANK], K, K2;
  int rb, ro = 0;
  char a[96], b[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1)) return -1;
  if (A->rank < 1 || B->rank < 1)
    return op_fail(n, "operands must have rank >= 1 (A %s, B %s)", ir_shape_str(A, a, sizeof a),
                   ir_shape_str(B, b, sizeof b));
  K = A->shape[A->rank - 1];
  K2 = B->shape[B->rank == 1 ? 0 : B->rank - 2];
  if (K != K2)
    return op_fail(n, "inner dimensions differ: A %s, B %s", ir_shape_str(A, a, sizeof a),
                   ir_shape_str(B, b, sizeof b));
  /* batch dims: all but the last two (1-D operands have none) */
  if (op_broadcast(n, A->rank > 2 ? A->rank - 2 : 0, A->shape, B->rank > 2 ? B->rank - 2 : 0,
                   B->shape, &rb, dims))
    return -1;
  ro = rb;
  if (A->rank >= 2) dims[ro++] = A->shape[A->rank - 2];
  if (B->rank >= 2) dims[ro++] = B->shape[B->rank - 1];
  if (ro > IR_MAX_RANK) return op_fail(n, "result rank %d exceeds %d", ro, IR_MAX_RANK);
  n->out[0]->dtype = A->dtype;
  ir_set_shape(n->out[0], ro, dims);
  return check_residual(n);
}

/* ---- BatchNormalization --------------------------------------------------- */

static int bn_validate(ir_node *n) {
  int j;
  int64_t tm = ir_attr_int(n, "training_mode", 0);
  if (tm != 0 && tm != 1) return op_fail(n, "training_mode=%lld must be 0 or 1", (long long)tm);
  /* training_mode (opset 14+): Y from the batch's statistics, outputs 1-2
   * the updated running mean and variance, 3-4 (modelc's, ONNX has none
   * there) the batch mean and population variance.  Before opset 14 the
   * extra outputs (saved mean/variance) meant training: still refused. */
  if (tm && n->opset < 14) return op_fail(n, "training_mode=1 before opset 14 is unsupported");
  for (j = 1; j < n->n_out; j++)
    if (n->out[j] && !tm)
      return op_fail(n, "output %d (running statistics, training mode) is unsupported", j);
  if (tm) ir_attr_set_float(n, "momentum", ir_attr_float(n, "momentum", 0.9));
  if (ir_attr_int(n, "unbiased_running_var", 0) && !tm)
    return op_fail(n, "unbiased_running_var needs training_mode=1");
  if (ir_attr_int(n, "spatial", 1) != 1)
    return op_fail(n, "spatial=0 (per-element statistics) is unsupported");
  ir_attr_set_float(n, "epsilon", ir_attr_float(n, "epsilon", 1e-5));
  return 0;
}

static int bn_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0];
  int i;
  char a[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64)) return -1;
  if (x->rank < 2) return op_fail(n, "input '%s' has rank %d; needs [N,C,...]", x->name, x->rank);
  for (i = 1; i < 5; i++) {
    if (op_same_dtype(n, 0, i)) return -1;
    if (n->in[i]->rank != 1 || n->in[i]->shape[0] != x->shape[1])
      return op_fail(n, "input %d ('%s') %s must have shape [%lld]", i, n->in[i]->name,
                     ir_shape_str(n->in[i], a, sizeof a), (long long)x->shape[1]);
  }
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, x->shape);
  for (i = 1; i < n->n_out; i++)   /* running mean, variance; batch mean, variance (training_mode) */
    if (n->out[i]) {
      n->out[i]->dtype = x->dtype;
      ir_set_shape(n->out[i], 1, n->in[1]->shape);
    }
  return 0;
}

/* ---- multiply-accumulate counts (modelc info) ----------------------------- */

static int64_t conv_macs(const ir_node *n) {
  const ir_tensor *w = n->in[1];
  /* every output element sums C/group * prod(kernel) products: W's numel / M */
  if (!ir_shape_known(n->out[0]) || !ir_shape_known(w) || w->shape[0] == 0) return 0;
  return ir_numel(n->out[0]) * (ir_numel(w) / w->shape[0]);
}

static int64_t gemm_macs(const ir_node *n) {
  const ir_tensor *a = n->in[0];
  if (!ir_shape_known(n->out[0]) || a->rank != 2) return 0;
  return ir_numel(n->out[0]) * a->shape[ir_attr_int(n, "transA", 0) ? 0 : 1];
}

static int64_t matmul_macs(const ir_node *n) {
  const ir_tensor *a = n->in[0];
  if (!ir_shape_known(n->out[0]) || a->rank < 1) return 0;
  return ir_numel(n->out[0]) * a->shape[a->rank - 1];
}

/* ---- the table ------------------------------------------------------------ */

static const op_attr_spec conv_attrs[] = {
    {"auto_pad", IR_ATTR_STRING}, {"dilations", IR_ATTR_INTS}, {"group", IR_ATTR_INT},
    {"kernel_shape", IR_ATTR_INTS}, {"pads", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec maxpool_attrs[] = {
    {"auto_pad", IR_ATTR_STRING}, {"ceil_mode", IR_ATTR_INT}, {"dilations", IR_ATTR_INTS},
    {"kernel_shape", IR_ATTR_INTS}, {"pads", IR_ATTR_INTS}, {"storage_order", IR_ATTR_INT},
    {"strides", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec avgpool_attrs[] = {
    {"auto_pad", IR_ATTR_STRING}, {"ceil_mode", IR_ATTR_INT}, {"count_include_pad", IR_ATTR_INT},
    {"dilations", IR_ATTR_INTS}, /* opset 19 */
    {"kernel_shape", IR_ATTR_INTS}, {"pads", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec no_attrs[] = {{NULL, 0}};
static const op_attr_spec gemm_attrs[] = {
    {"alpha", IR_ATTR_FLOAT}, {"beta", IR_ATTR_FLOAT}, {"transA", IR_ATTR_INT},
    {"transB", IR_ATTR_INT},
    {"broadcast", IR_ATTR_INT},   /* opset <= 6; C broadcasts either way */ {NULL, 0}};
static const op_attr_spec matmul_attrs[] = {{NULL, 0}};
static const op_attr_spec bn_attrs[] = {
    {"epsilon", IR_ATTR_FLOAT}, {"momentum", IR_ATTR_FLOAT}, {"training_mode", IR_ATTR_INT},
    {"unbiased_running_var", IR_ATTR_INT},   /* modelc: PyTorch's running variance (train.c sets it) */
    {"spatial", IR_ATTR_INT},          /* opset 7-9 */
    {"is_test", IR_ATTR_INT},          /* opset <= 6 */
    {"consumed_inputs", IR_ATTR_INTS}, /* opset 1 */
    {NULL, 0}};

const op_def ops_nn[] = {
    {"Conv", "", 2, 4, 1, 1, conv_attrs, OP_EPILOGUE, conv_validate, conv_infer, interp_nn_conv,
     emit_nn_conv, emit_nn_conv_scratch, grad_Conv, conv_macs, NULL, emit_nn_conv_share, emit_nn_conv_parts,
     emit_nn_conv_rows},
    {"MaxPool", "", 1, 1, 1, 2, maxpool_attrs, 0, maxpool_validate, pool_infer, interp_nn_maxpool,
     emit_nn_maxpool, NULL, grad_MaxPool, NULL},
    {"AveragePool", "", 1, 1, 1, 1, avgpool_attrs, 0, avgpool_validate, pool_infer,
     interp_nn_avgpool, emit_nn_avgpool, NULL, grad_AveragePool, NULL},
    {"GlobalAveragePool", "", 1, 1, 1, 1, no_attrs, 0, NULL, global_pool_infer,
     interp_nn_global_avgpool, emit_nn_global_avgpool, NULL, grad_GlobalAveragePool, NULL},
    {"GlobalMaxPool", "", 1, 1, 1, 1, no_attrs, 0, NULL, global_pool_infer,
     interp_nn_global_maxpool, emit_nn_global_maxpool, NULL, grad_GlobalMaxPool, NULL},
    {"Gemm", "", 2, 4, 1, 1, gemm_attrs, OP_EPILOGUE, gemm_validate, gemm_infer, interp_nn_gemm,
     emit_nn_gemm, emit_nn_gemm_scratch, grad_Gemm, gemm_macs, NULL, emit_nn_gemm_share, emit_nn_gemm_parts},
    {"MatMul", "", 2, 3, 1, 1, matmul_attrs, OP_EPILOGUE, matmul_validate, matmul_infer, interp_nn_matmul,
     emit_nn_matmul, emit_nn_matmul_scratch, grad_MatMul, matmul_macs, NULL, emit_nn_matmul_share, emit_nn_matmul_parts},
    {"BatchNormalization", "", 5, 5, 1, 5, bn_attrs, 0, bn_validate, bn_infer,
     interp_nn_batchnorm, emit_nn_batchnorm, NULL, grad_BatchNormalization, NULL},
    {NULL, NULL, 0, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
