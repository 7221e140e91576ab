/*
 * ops_quant.c - op table entries of the quantized-inference group:
 * QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul,
 * MatMulInteger, QLinearConv and ConvInteger.
 *
 * Quantization parameters (scales, zero points) are per tensor when they
 * hold one element, and otherwise per channel along the axis the op
 * defines: the `axis` attribute for (De)QuantizeLinear, the output channel
 * for a convolution's weight, the row of A and the column of B for the
 * matmuls.  infer checks every such length against that axis, so the
 * kernels index parameters as `numel == 1 ? 0 : channel` without checks.
 *
 * The convolutions resolve their geometry here (auto_pad into pads,
 * defaults for strides and dilations, kernel_shape from the weight) and
 * write it back on the node, so the interpreter and the emitter read
 * kernel_shape, strides, dilations, pads and group as plain attributes.
 * The matmuls follow numpy: 1-D operands are promoted and the batch
 * dimensions broadcast; the kernels recompute that from the shapes.
 */
#include "op.h"

#include <string.h>

#include "../backend/emit_quant.h"
#include "../../runtime/kernels/interp_quant.h"

#define QMAX_SP (IR_MAX_RANK - 2)

static int is_q8(ir_dtype t) { return t == IR_U8 || t == IR_I8; }

static int need_dtype(const ir_node *n, int i, int ok, const char *what) {
  if (!ok)
    return op_fail(n, "input %d ('%s') has dtype %s; it must be %s", i, n->in[i]->name,
                   ir_dtype_name(n->in[i]->dtype), what);
  return 0;
}

static const ir_tensor *opt_in(const ir_node *n, int i) { return i < n->n_in ? n->in[i] : NULL; }

/* A quantization parameter (input i, may be absent): one element, or `len`
 * elements in a tensor of rank <= 1 (rank 2 [len,1] / [1,len] also taken). */
static int check_param(const ir_node *n, int i, int64_t len, const char *axis_name) {
  const ir_tensor *t = opt_in(n, i);
  if (!t) return 0;
  int64_t cnt = ir_numel(t);
  if (cnt == 1) return 0;
  if (cnt == len) return 0;
  return op_fail(n, "input %d ('%s') has %lld elements; it must be a scalar or have one per %s (%lld)",
                 i, t->name, (long long)cnt, axis_name, (long long)len);
}

/* Zero point i, when present, must have dtype dt. */
static int check_zp(const ir_node *n, int i, ir_dtype dt) {
  const ir_tensor *t = opt_in(n, i);
  if (!t || t->dtype == dt) return 0;
  return op_fail(n, "zero point input %d ('%s') is %s but its data is %s", i, t->name,
                 ir_dtype_name(t->dtype), ir_dtype_name(dt));
}

static int check_scale(const ir_node *n, int i) {
  const ir_tensor *t = n->in[i];
  if (t->dtype != IR_F32)
    return op_fail(n, "scale input %d ('%s') is %s; only float32 scales are supported", i, t->name,
                   ir_dtype_name(t->dtype));
  return 0;
}

/* ---- QuantizeLinear / DequantizeLinear -------------------------------------- */

static int validate_axis(ir_node *n) {
  if (!ir_attr_find(n, "axis")) ir_attr_set_int(n, "axis", 1);
  if (ir_attr_find(n, "saturate") && ir_attr_int(n, "saturate", 1) != 1)
    return op_fail(n, "saturate=0 only applies to float8 outputs, which are not supported");
  return 0;
}

/* Per-axis parameters: the normalized axis and its length (per-tensor
 * parameters leave any axis, even of a scalar input, alone). */
static int check_axis_params(const ir_node *n) {
  const ir_tensor *x = n->in[0], *s = n->in[1];
  if (ir_numel(s) == 1 && (!opt_in(n, 2) || ir_numel(n->in[2]) == 1)) return 0;
  if (s->rank != 1) return op_fail(n, "scale '%s' must be a scalar or 1-D", s->name);
  int axis;
  if (op_axis(n, ir_attr_int(n, "axis", 1), x->rank, &axis) < 0) return -1;
  if (check_param(n, 1, x->shape[axis], "element of the axis") < 0) return -1;
  return check_param(n, 2, x->shape[axis], "element of the axis");
}

static int infer_quantize(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0], *zp = opt_in(n, 2);
  if (need_dtype(n, 0, x->dtype == IR_F32 || x->dtype == IR_I32, "float32 or int32") < 0) return -1;
  if (check_scale(n, 1) < 0) return -1;
  ir_dtype out = zp ? zp->dtype : IR_U8;
  if (!is_q8(out))
    return op_fail(n, "zero point '%s' is %s; only uint8 and int8 outputs are supported", zp->name,
                   ir_dtype_name(out));
  if (check_axis_params(n) < 0) return -1;
  n->out[0]->dtype = out;
  ir_set_shape(n->out[0], x->rank, x->shape);
  return 0;
}

static int infer_dequantize(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0];
  if (need_dtype(n, 0, is_q8(x->dtype) || x->dtype == IR_I32, "uint8, int8 or int32") < 0) return -1;
  if (check_scale(n, 1) < 0 || check_zp(n, 2, x->dtype) < 0) return -1;
  if (check_axis_params(n) < 0) return -1;
  n->out[0]->dtype = n->in[1]->dtype;
  ir_set_shape(n->out[0], x->rank, x->shape);
  return 0;
}

static int infer_dynamic(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0];
  if (need_dtype(n, 0, x->dtype == IR_F32, "float32") < 0) return -1;
  n->out[0]->dtype = IR_U8;
  ir_set_shape(n->out[0], x->rank, x->shape);
  for (int j = 1; j < n->n_out; j++) {
    if (!n->out[j]) continue;
    n->out[j]->dtype = j == 1 ? IR_F32 : IR_U8;
    ir_set_shape(n->out[j], 0, NULL);
  }
  return 0;
}

/* ---- matmuls ------------------------------------------------------------------ */

/* numpy matmul shape of a [.., M, K] x b [.., K, N] (1-D operands promoted
 * and their unit dimension dropped again) into the output; M and N out. */
static int matmul_shape(const ir_node *n, const ir_tensor *a, const ir_tensor *b, ir_tensor *y,
                        int64_t *M, int64_t *N) {
  int64_t dims[IR_MAX_RANK];
  int rb, ro;
  char sa[96], sb[96];
  if (a->rank < 1 || b->rank < 1) return op_fail(n, "operands must have rank >= 1");
  int64_t K = a->shape[a->rank - 1], K2 = b->shape[b->rank == 1 ? 0 : b->rank - 2];
  if (K != K2)
    return op_fail(n, "inner dimensions differ: A %s, B %s", ir_shape_str(a, sa, sizeof sa),
                   ir_shape_str(b, sb, sizeof sb));
  if (op_broadcast(n, a->rank > 2 ? a->rank - 2 : 0, a->shape, b->rank > 2 ? b->rank - 2 : 0, b->shape,
                   &rb, dims) < 0)
    return -1;
  ro = rb;
  *M = a->rank >= 2 ? a->shape[a->rank - 2] : 1;
  *N = b->rank >= 2 ? b->shape[b->rank - 1] : 1;
  if (a->rank >= 2) dims[ro++] = *M;
  if (b->rank >= 2) dims[ro++] = *N;
  if (ro > IR_MAX_RANK) return op_fail(n, "result rank %d exceeds %d", ro, IR_MAX_RANK);
  ir_set_shape(y, ro, dims);
  return 0;
}

/* MatMulInteger: A, B, a_zero_point, b_zero_point -> int32. */
static int infer_matmul_integer(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *a = n->in[0], *b = n->in[1];
  int64_t M, N;
  if (need_dtype(n, 0, is_q8(a->dtype), "uint8 or int8") < 0) return -1;
  if (need_dtype(n, 1, is_q8(b->dtype), "uint8 or int8") < 0) return -1;
  if (check_zp(n, 2, a->dtype) < 0 || check_zp(n, 3, b->dtype) < 0) return -1;
  if (matmul_shape(n, a, b, n->out[0], &M, &N) < 0) return -1;
  if (check_param(n, 2, M, "row of A") < 0 || check_param(n, 3, N, "column of B") < 0) return -1;
  n->out[0]->dtype = IR_I32;
  return 0;
}

/* QLinearMatMul: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp. */
static int infer_qlinear_matmul(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *a = n->in[0], *b = n->in[3];
  int64_t M, N;
  if (need_dtype(n, 0, is_q8(a->dtype), "uint8 or int8") < 0) return -1;
  if (need_dtype(n, 3, is_q8(b->dtype), "uint8 or int8") < 0) return -1;
  if (need_dtype(n, 7, is_q8(n->in[7]->dtype), "uint8 or int8") < 0) return -1;
  if (check_scale(n, 1) < 0 || check_scale(n, 4) < 0 || check_scale(n, 6) < 0) return -1;
  if (check_zp(n, 2, a->dtype) < 0 || check_zp(n, 5, b->dtype) < 0) return -1;
  if (matmul_shape(n, a, b, n->out[0], &M, &N) < 0) return -1;
  if (check_param(n, 1, M, "row of A") < 0 || check_param(n, 2, M, "row of A") < 0 ||
      check_param(n, 4, N, "column of B") < 0 || check_param(n, 5, N, "column of B") < 0 ||
      check_param(n, 6, M, "output row") < 0 || check_param(n, 7, M, "output row") < 0)
    return -1;
  n->out[0]->dtype = n->in[7]->dtype;
  return 0;
}

/* ---- convolutions ------------------------------------------------------------ */

static int validate_conv(ir_node *n) {
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER"))
    return op_fail(n, "unknown auto_pad value '%s'", ap);
  if (ir_attr_int(n, "group", 1) < 1) return op_fail(n, "group must be at least 1");
  return 0;
}

/* Fill a positive list attribute of r values (default 1) into v. */
static int conv_list(const ir_node *n, const char *name, int r, int64_t *v) {
  const int64_t *a;
  int cnt = ir_attr_ints(n, name, &a);
  for (int i = 0; i < r; i++) v[i] = 1;
  if (cnt < 0) return 0;
  if (cnt != r) return op_fail(n, "%s has %d values for %d spatial dimensions", name, cnt, r);
  for (int i = 0; i < r; i++) {
    if (a[i] <= 0) return op_fail(n, "%s[%d]=%lld must be positive", name, i, (long long)a[i]);
    v[i] = a[i];
  }
  return 0;
}

/* x [N,C,sp..], w [M,C/group,k..]: resolve the geometry, write it back on
 * the node and set the output shape [N,M,out..] (dtype left to the caller). */
static int conv_geometry(ir_node *n, const ir_tensor *x, const ir_tensor *w) {
  int64_t kern[QMAX_SP], s[QMAX_SP], d[QMAX_SP], p[2 * QMAX_SP], dims[IR_MAX_RANK];
  const int64_t *v;
  char a[96], c[96];
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  int64_t grp = ir_attr_int(n, "group", 1);
  if (x->rank < 3) return op_fail(n, "input X '%s' has rank %d; it needs [N,C,spatial...]", x->name, x->rank);
  int r = x->rank - 2;
  if (w->rank != x->rank)
    return op_fail(n, "weight '%s' %s has rank %d but X %s has rank %d", w->name, ir_shape_str(w, a, sizeof a),
                   w->rank, ir_shape_str(x, c, sizeof c), x->rank);
  int nk = ir_attr_ints(n, "kernel_shape", &v);
  if (nk >= 0 && nk != r) return op_fail(n, "kernel_shape has %d values for %d spatial dimensions", nk, r);
  for (int i = 0; i < r; i++) {
    kern[i] = w->shape[2 + i];
    if (nk >= 0 && v[i] != kern[i])
      return op_fail(n, "kernel_shape[%d]=%lld does not match weight '%s'", i, (long long)v[i], w->name);
  }
  if (x->shape[1] % grp || w->shape[0] % grp || w->shape[1] * grp != x->shape[1])
    return op_fail(n, "X has %lld channels, weight '%s' %s does not fit group=%lld", (long long)x->shape[1],
                   w->name, ir_shape_str(w, a, sizeof a), (long long)grp);
  if (conv_list(n, "strides", r, s) < 0 || conv_list(n, "dilations", r, d) < 0) return -1;
  for (int i = 0; i < 2 * r; i++) p[i] = 0;
  int np = ir_attr_ints(n, "pads", &v);
  if (np >= 0 && !strcmp(ap, "NOTSET")) {
    if (np != 2 * r) return op_fail(n, "pads has %d values; %d spatial dimensions need %d", np, r, 2 * r);
    for (int i = 0; i < 2 * r; i++) {
      if (v[i] < 0) return op_fail(n, "pads[%d]=%lld is negative", i, (long long)v[i]);
      p[i] = v[i];
    }
  }
  dims[0] = x->shape[0];
  dims[1] = w->shape[0];
  for (int i = 0; i < r; i++) {
    int64_t in = x->shape[2 + i], ek = d[i] * (kern[i] - 1) + 1;   /* dilated window extent */
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
      int64_t o = (in + s[i] - 1) / s[i], tot = (o - 1) * s[i] + ek - in;
      if (tot < 0) tot = 0;
      if (!strcmp(ap, "SAME_UPPER")) p[i] = tot / 2, p[r + i] = tot - tot / 2;
      else p[r + i] = tot / 2, p[i] = tot - tot / 2;
      dims[2 + i] = o;
    } else {
      int64_t num = in + p[i] + p[r + i] - ek;
      if (num < 0) return op_fail(n, "window is larger than the padded input in spatial dim %d", i);
      dims[2 + i] = num / s[i] + 1;
    }
  }
  ir_attr_remove(n, "auto_pad");
  ir_attr_set_ints(n, "kernel_shape", r, kern);
  ir_attr_set_ints(n, "strides", r, s);
  ir_attr_set_ints(n, "dilations", r, d);
  ir_attr_set_ints(n, "pads", 2 * r, p);
  ir_attr_set_int(n, "group", grp);
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

/* ConvInteger: x, w, x_zero_point, w_zero_point -> int32. */
static int infer_conv_integer(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0], *w = n->in[1];
  if (need_dtype(n, 0, is_q8(x->dtype), "uint8 or int8") < 0) return -1;
  if (need_dtype(n, 1, is_q8(w->dtype), "uint8 or int8") < 0) return -1;
  if (check_zp(n, 2, x->dtype) < 0 || check_zp(n, 3, w->dtype) < 0) return -1;
  if (conv_geometry(n, x, w) < 0) return -1;
  if (check_param(n, 2, 1, "tensor") < 0 || check_param(n, 3, w->shape[0], "output channel") < 0) return -1;
  n->out[0]->dtype = IR_I32;
  return 0;
}

/* QLinearConv: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B. */
static int infer_qlinear_conv(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0], *w = n->in[3], *b = opt_in(n, 8);
  char a[96];
  if (need_dtype(n, 0, is_q8(x->dtype), "uint8 or int8") < 0) return -1;
  if (need_dtype(n, 3, is_q8(w->dtype), "uint8 or int8") < 0) return -1;
  if (need_dtype(n, 7, is_q8(n->in[7]->dtype), "uint8 or int8") < 0) return -1;
  if (check_scale(n, 1) < 0 || check_scale(n, 4) < 0 || check_scale(n, 6) < 0) return -1;
  if (check_zp(n, 2, x->dtype) < 0 || check_zp(n, 5, w->dtype) < 0) return -1;
  if (conv_geometry(n, x, w) < 0) return -1;
  if (check_param(n, 1, 1, "tensor") < 0 || check_param(n, 2, 1, "tensor") < 0 ||
      check_param(n, 4, w->shape[0], "output channel") < 0 || check_param(n, 5, w->shape[0], "output channel") < 0 ||
      check_param(n, 6, 1, "tensor") < 0 || check_param(n, 7, 1, "tensor") < 0)
    return -1;
  if (b && (b->dtype != IR_I32 || ir_numel(b) != w->shape[0]))
    return op_fail(n, "bias '%s' %s %s must be int32 with %lld elements", b->name, ir_dtype_name(b->dtype),
                   ir_shape_str(b, a, sizeof a), (long long)w->shape[0]);
  n->out[0]->dtype = n->in[7]->dtype;
  return 0;
}

/* ---- multiply-accumulates --------------------------------------------------- */

static int64_t conv_macs(const ir_node *n) {
  const ir_tensor *w = n->in[strcmp(n->op_type, "QLinearConv") == 0 ? 3 : 1];
  return ir_numel(n->out[0]) * (ir_numel(w) / (w->shape[0] > 0 ? w->shape[0] : 1));
}

static int64_t matmul_macs(const ir_node *n) {
  const ir_tensor *a = n->in[0];
  return ir_numel(n->out[0]) * a->shape[a->rank - 1];
}

/* ---- the table ---------------------------------------------------------------- */

static const op_attr_spec none[] = {{NULL, 0}};
static const op_attr_spec qaxis[] = {{"axis", IR_ATTR_INT}, {"saturate", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec conv[] = {
  {"auto_pad", IR_ATTR_STRING}, {"dilations", IR_ATTR_INTS}, {"group", IR_ATTR_INT},
  {"kernel_shape", IR_ATTR_INTS}, {"pads", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {NULL, 0}};

const op_def ops_quant[] = {
  {.name = "QuantizeLinear", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
   .attrs = qaxis, .validate = validate_axis, .infer = infer_quantize,
   .interp = interp_quant_QuantizeLinear, .emit = emit_quant_QuantizeLinear},
  {.name = "DequantizeLinear", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
   .attrs = qaxis, .validate = validate_axis, .infer = infer_dequantize,
   .interp = interp_quant_DequantizeLinear, .emit = emit_quant_DequantizeLinear},
  {.name = "DynamicQuantizeLinear", .domain = "", .min_in = 1, .max_in = 1, .min_out = 3, .max_out = 3,
   .attrs = none, .infer = infer_dynamic,
   .interp = interp_quant_DynamicQuantizeLinear, .emit = emit_quant_DynamicQuantizeLinear},
  {.name = "MatMulInteger", .domain = "", .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1,
   .attrs = none, .infer = infer_matmul_integer,
   .interp = interp_quant_MatMulInteger, .emit = emit_quant_MatMulInteger, .macs = matmul_macs},
  {.name = "QLinearMatMul", .domain = "", .min_in = 8, .max_in = 8, .min_out = 1, .max_out = 1,
   .attrs = none, .infer = infer_qlinear_matmul,
   .interp = interp_quant_QLinearMatMul, .emit = emit_quant_QLinearMatMul, .macs = matmul_macs},
  {.name = "ConvInteger", .domain = "", .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1,
   .attrs = conv, .validate = validate_conv, .infer = infer_conv_integer,
   .interp = interp_quant_ConvInteger, .emit = emit_quant_ConvInteger, .macs = conv_macs},
  {.name = "QLinearConv", .domain = "", .min_in = 8, .max_in = 9, .min_out = 1, .max_out = 1,
   .attrs = conv, .validate = validate_conv, .infer = infer_qlinear_conv,
   .interp = interp_quant_QLinearConv, .emit = emit_quant_QLinearConv, .macs = conv_macs},
  {.name = NULL}};
