/*
 * emit_quant.c - C for the quantized group, as plain loops.
 *
 * The arithmetic follows the spec's precision, as the interpreter's does
 * (runtime/kernels/interp_quant.c explains why): float32 for scaling and
 * rounding (nearbyintf, half to even in the default rounding mode), int64
 * accumulators reduced to int32 with wraparound by mc_wrap32, and
 * saturation by mc_qsat_u8/mc_qsat_i8, helpers emitted once per file.
 * Integer multiply-accumulate loops are written out directly: these ops are
 * rare enough in our models that the float GEMM/conv kernels of kl_nn.h
 * are not worth bending to integers.
 *
 * Geometry (convolution attributes, per-channel parameter lengths) was
 * resolved and checked by compiler/ops/ops_quant.c; every bound here is a
 * literal.
 */
#include "emit_quant.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "kernels.h"

#define LL(v) ((long long)(v))

static const char sat_u8[] =
  "static uint8_t mc_qsat_u8(float v) {\n"
  "  if (v != v) return 0;\n"
  "  if (v < 0.0f) return 0;\n"
  "  if (v > 255.0f) return 255;\n"
  "  return (uint8_t)v;\n"
  "}\n";
static const char sat_i8[] =
  "static int8_t mc_qsat_i8(float v) {\n"
  "  if (v != v) return 0;\n"
  "  if (v < -128.0f) return -128;\n"
  "  if (v > 127.0f) return 127;\n"
  "  return (int8_t)v;\n"
  "}\n";
/* int64 -> int32 modulo 2^32 without implementation-defined conversions. */
static const char wrap32[] =
  "static int32_t mc_wrap32(int64_t v) {\n"
  "  uint32_t u = (uint32_t)(uint64_t)v;\n"
  "  return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;\n"
  "}\n";

/* Name of the saturating helper for dtype t, emitted on first use. */
static const char *sat_fn(emit_ctx *e, ir_dtype t) {
  if (t == IR_U8) {
    emit_helper(e, "mc_qsat_u8", sat_u8);
    return "mc_qsat_u8";
  }
  emit_helper(e, "mc_qsat_i8", sat_i8);
  return "mc_qsat_i8";
}

static void use_wrap32(emit_ctx *e) { emit_helper(e, "mc_wrap32", wrap32); }

static const ir_tensor *opt_in(const ir_node *n, int i) { return i < n->n_in ? n->in[i] : NULL; }

/* Expression for parameter input i at channel `ch` (a C expression), as
 * `cast` applied; "0" when the input is absent. */
static const char *param(emit_ctx *e, const ir_node *n, int i, const char *ch, const char *cast, char *buf,
                         size_t cap) {
  const ir_tensor *t = opt_in(n, i);
  if (!t) {
    snprintf(buf, cap, "%s0", cast);
    return buf;
  }
  snprintf(buf, cap, "%s%s[%s]", cast, emit_in(e, i), ir_numel(t) == 1 ? "0" : ch);
  return buf;
}

/* ---- QuantizeLinear / DequantizeLinear -------------------------------------- */

/* x seen as [outer, C, inner] around the parameters' axis (C = 1 per tensor). */
static int axis_split(const ir_node *n, int64_t *outer, int64_t *C, int64_t *inner) {
  const ir_tensor *x = n->in[0];
  int64_t total = ir_numel(x);
  int axis;
  *outer = 1, *C = 1, *inner = total;
  if (ir_numel(n->in[1]) == 1 && (!opt_in(n, 2) || ir_numel(n->in[2]) == 1)) return 0;
  if (op_axis(n, ir_attr_int(n, "axis", 1), x->rank, &axis) < 0) return -1;
  *C = x->shape[axis];
  *inner = ir_numel_dims(x->rank - axis - 1, x->shape + axis + 1);
  *outer = total / (*C * *inner > 0 ? *C * *inner : 1);
  return 0;
}

static int quant_linear(emit_ctx *e, const ir_node *n, int dequant) {
  int64_t outer, C, inner;
  char s[128], z[128];
  if (ir_numel(n->in[0]) == 0) return 0;
  if (axis_split(n, &outer, &C, &inner) < 0) return -1;
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0);
  emit_line(e, "for (int64_t o = 0; o < %lld; o++) {", LL(outer));
  emit_line(e, "  for (int64_t c = 0; c < %lld; c++) {", LL(C));
  emit_line(e, "    const float s = %s;", param(e, n, 1, "c", "", s, sizeof s));
  if (dequant) {
    emit_line(e, "    const int64_t zp = %s;", param(e, n, 2, "c", "(int64_t)", z, sizeof z));
    emit_line(e, "    for (int64_t k = 0; k < %lld; k++) {", LL(inner));
    emit_line(e, "      const int64_t i = (o * %lld + c) * %lld + k;", LL(C), LL(inner));
    emit_line(e, "      %s[i] = (float)((int64_t)%s[i] - zp) * s;", Y, X);
  } else {
    emit_line(e, "    const float zp = %s;", param(e, n, 2, "c", "(float)", z, sizeof z));
    emit_line(e, "    for (int64_t k = 0; k < %lld; k++) {", LL(inner));
    emit_line(e, "      const int64_t i = (o * %lld + c) * %lld + k;", LL(C), LL(inner));
    emit_line(e, "      %s[i] = %s(nearbyintf((float)%s[i] / s) + zp);", Y, sat_fn(e, n->out[0]->dtype), X);
  }
  emit_line(e, "    }");
  emit_line(e, "  }");
  emit_line(e, "}");
  return 0;
}

int emit_quant_QuantizeLinear(emit_ctx *e, const ir_node *n) { return quant_linear(e, n, 0); }
int emit_quant_DequantizeLinear(emit_ctx *e, const ir_node *n) { return quant_linear(e, n, 1); }

int emit_quant_DynamicQuantizeLinear(emit_ctx *e, const ir_node *n) {
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0);
  int64_t total = ir_numel(n->in[0]);
  emit_line(e, "float lo = 0.0f, hi = 0.0f;");
  emit_line(e, "for (int64_t i = 0; i < %lld; i++) {", LL(total));
  emit_line(e, "  if (%s[i] < lo) lo = %s[i];", X, X);
  emit_line(e, "  if (%s[i] > hi) hi = %s[i];", X, X);
  emit_line(e, "}");
  emit_line(e, "const float scale = (hi - lo) / 255.0f;");
  const char *sat = sat_fn(e, IR_U8);
  emit_line(e, "const uint8_t zp = scale != 0.0f ? %s(nearbyintf((0.0f - lo) / scale)) : 0;", sat);
  emit_line(e, "for (int64_t i = 0; i < %lld; i++)", LL(total));
  emit_line(e, "  %s[i] = scale != 0.0f ? %s(nearbyintf(%s[i] / scale) + (float)zp) : 0;", Y, sat, X);
  if (n->n_out > 1 && n->out[1]) emit_line(e, "%s[0] = scale;", emit_out(e, 1));
  if (n->n_out > 2 && n->out[2]) emit_line(e, "%s[0] = zp;", emit_out(e, 2));
  return 0;
}

/* ---- matmuls ---------------------------------------------------------------------- */

/* Batch loops of y = a @ b (numpy broadcasting), leaving `ao`/`bo` (element
 * offsets of the current a and b matrices) and `yo` in scope; returns the
 * number of braces to close. */
static int batch_open(emit_ctx *e, const ir_tensor *a, const ir_tensor *b, const ir_tensor *y, int64_t M,
                      int64_t N, int64_t K) {
  int rb = y->rank - (a->rank >= 2) - (b->rank >= 2);
  int ra = a->rank > 2 ? a->rank - 2 : 0, rbb = b->rank > 2 ? b->rank - 2 : 0;
  int64_t batch = ir_numel_dims(rb, y->shape);
  emit_line(e, "for (int64_t bi = 0; bi < %lld; bi++) {", LL(batch));
  emit_indent(e, 1);
  emit_line(e, "int64_t ao = 0, bo = 0, rem = bi;");
  emit_line(e, "const int64_t yo = bi * %lld;", LL(M * N));
  int64_t sa = M * K, sb = K * N;
  for (int d = rb - 1; d >= 0; d--) {
    int da = d - (rb - ra), db = d - (rb - rbb);   /* the operand's own batch axis, < 0 if missing */
    int64_t ea = da >= 0 ? a->shape[da] : 1, eb = db >= 0 ? b->shape[db] : 1;
    emit_line(e, "{ const int64_t q = rem %% %lld; rem /= %lld; ao += q * %lld; bo += q * %lld; (void)q; }",
              LL(y->shape[d]), LL(y->shape[d]), LL(ea == 1 ? 0 : sa), LL(eb == 1 ? 0 : sb));
    sa *= ea, sb *= eb;
  }
  emit_line(e, "(void)rem;");
  return 1;
}

static int matmul(emit_ctx *e, const ir_node *n, int ia, int za, int ib, int zb, int qlinear) {
  const ir_tensor *a = n->in[ia], *b = n->in[ib], *y = n->out[0];
  int64_t K = a->shape[a->rank - 1];
  int64_t M = a->rank >= 2 ? a->shape[a->rank - 2] : 1, N = b->rank >= 2 ? b->shape[b->rank - 1] : 1;
  char p1[128], p2[128], p3[128];
  if (ir_numel(y) == 0) return 0;
  const char *A = emit_in(e, ia), *B = emit_in(e, ib), *Y = emit_out(e, 0);
  use_wrap32(e);
  int close = batch_open(e, a, b, y, M, N, K);
  emit_line(e, "for (int64_t i = 0; i < %lld; i++) {", LL(M));
  emit_line(e, "  const int64_t azp = %s;", param(e, n, za, "i", "(int64_t)", p1, sizeof p1));
  emit_line(e, "  for (int64_t j = 0; j < %lld; j++) {", LL(N));
  emit_line(e, "    const int64_t bzp = %s;", param(e, n, zb, "j", "(int64_t)", p1, sizeof p1));
  emit_line(e, "    int64_t acc = 0;");
  emit_line(e, "    for (int64_t k = 0; k < %lld; k++)", LL(K));
  emit_line(e, "      acc += ((int64_t)%s[ao + i * %lld + k] - azp) * ((int64_t)%s[bo + k * %lld + j] - bzp);", A,
            LL(K), B, LL(N));
  if (qlinear) {
    emit_line(e, "    const float mult = %s * %s / %s;", param(e, n, 1, "i", "", p1, sizeof p1),
              param(e, n, 4, "j", "", p2, sizeof p2), param(e, n, 6, "i", "", p3, sizeof p3));
    emit_line(e, "    %s[yo + i * %lld + j] = %s(nearbyintf((float)mc_wrap32(acc) * mult) + %s);", Y, LL(N),
              sat_fn(e, y->dtype), param(e, n, 7, "i", "(float)", p1, sizeof p1));
  } else {
    emit_line(e, "    %s[yo + i * %lld + j] = mc_wrap32(acc);", Y, LL(N));
  }
  emit_line(e, "  }");
  emit_line(e, "}");
  while (close--) {
    kl_end(e);
  }
  return 0;
}

int emit_quant_MatMulInteger(emit_ctx *e, const ir_node *n) { return matmul(e, n, 0, 2, 1, 3, 0); }
int emit_quant_QLinearMatMul(emit_ctx *e, const ir_node *n) { return matmul(e, n, 0, 2, 3, 5, 1); }

/* ---- convolutions ------------------------------------------------------------------ */

/* acc = "(acc * ext + <var><d>)": the row-major index one axis deeper. */
static int nest(const ir_node *n, char *acc, size_t cap, int64_t ext, char var, int d) {
  char t[1024];
  int k = snprintf(t, sizeof t, "(%s * %lld + %c%d)", acc, LL(ext), var, d);
  if (k < 0 || (size_t)k >= cap) return op_fail(n, "index expression too long");
  memcpy(acc, t, (size_t)k + 1);
  return 0;
}

/* Loops: batch, output channel, output positions (o0..), input channel of
 * the group, kernel positions (k0..); taps falling in the padding are
 * skipped (they hold x's zero point and add nothing). */
static int conv(emit_ctx *e, const ir_node *n, int ix, int zx, int iw, int zw, int qlinear) {
  const ir_tensor *x = n->in[ix], *w = n->in[iw], *y = n->out[0];
  const int64_t *st, *dil, *pads;
  int r = x->rank - 2;
  char p1[128], p2[128], p3[128], idx[512], widx[512], yidx[512];
  if (ir_attr_ints(n, "strides", &st) != r || ir_attr_ints(n, "dilations", &dil) != r ||
      ir_attr_ints(n, "pads", &pads) != 2 * r)
    return op_fail(n, "geometry attributes were not resolved");
  int64_t grp = ir_attr_int(n, "group", 1);
  int64_t C = x->shape[1], M = w->shape[0], cg = C / grp, mg = M / grp;
  if (ir_numel(y) == 0) return 0;
  const char *X = emit_in(e, ix), *W = emit_in(e, iw), *Y = emit_out(e, 0);
  use_wrap32(e);
  emit_line(e, "const int64_t xzp = %s;", param(e, n, zx, "0", "(int64_t)", p1, sizeof p1));
  emit_line(e, "for (int64_t b = 0; b < %lld; b++) {", LL(x->shape[0]));
  emit_line(e, "  for (int64_t m = 0; m < %lld; m++) {", LL(M));
  emit_line(e, "    const int64_t wzp = %s, g = m / %lld;", param(e, n, zw, "m", "(int64_t)", p1, sizeof p1), LL(mg));
  emit_indent(e, 2);
  snprintf(yidx, sizeof yidx, "(b * %lld + m)", LL(M));
  for (int d = 0; d < r; d++) {
    emit_line(e, "for (int64_t o%d = 0; o%d < %lld; o%d++) {", d, d, LL(y->shape[2 + d]), d);
    emit_indent(e, 1);
    if (nest(n, yidx, sizeof yidx, y->shape[2 + d], 'o', d) < 0) return -1;
  }
  if (qlinear && opt_in(n, 8)) emit_line(e, "int64_t acc = %s[m];", emit_in(e, 8));
  else emit_line(e, "int64_t acc = 0;");
  emit_line(e, "for (int64_t ci = 0; ci < %lld; ci++) {", LL(cg));
  emit_indent(e, 1);
  snprintf(idx, sizeof idx, "(b * %lld + g * %lld + ci)", LL(C), LL(cg));
  snprintf(widx, sizeof widx, "(m * %lld + ci)", LL(cg));
  for (int d = 0; d < r; d++) {
    emit_line(e, "for (int64_t k%d = 0; k%d < %lld; k%d++) {", d, d, LL(w->shape[2 + d]), d);
    emit_indent(e, 1);
    emit_line(e, "const int64_t i%d = o%d * %lld - %lld + k%d * %lld;", d, d, LL(st[d]), LL(pads[d]), d, LL(dil[d]));
    emit_line(e, "if (i%d < 0 || i%d >= %lld) continue;", d, d, LL(x->shape[2 + d]));
    if (nest(n, idx, sizeof idx, x->shape[2 + d], 'i', d) < 0 || nest(n, widx, sizeof widx, w->shape[2 + d], 'k', d) < 0)
      return -1;
  }
  emit_line(e, "acc += ((int64_t)%s[%s] - xzp) * ((int64_t)%s[%s] - wzp);", X, idx, W, widx);
  for (int d = 0; d < r; d++) {
    kl_end(e);
  }
  kl_end(e);
  if (qlinear) {
    emit_line(e, "const float mult = %s * %s / %s;", param(e, n, 1, "0", "", p1, sizeof p1),
              param(e, n, 4, "m", "", p2, sizeof p2), param(e, n, 6, "0", "", p3, sizeof p3));
    emit_line(e, "%s[%s] = %s(nearbyintf((float)mc_wrap32(acc) * mult) + %s);", Y, yidx, sat_fn(e, y->dtype),
              param(e, n, 7, "0", "(float)", p1, sizeof p1));
  } else {
    emit_line(e, "%s[%s] = mc_wrap32(acc);", Y, yidx);
  }
  for (int d = 0; d < r; d++) {
    kl_end(e);
  }
  emit_indent(e, -2);
  emit_line(e, "  }");
  emit_line(e, "}");
  return 0;
}

int emit_quant_ConvInteger(emit_ctx *e, const ir_node *n) { return conv(e, n, 0, 2, 1, 3, 0); }
int emit_quant_QLinearConv(emit_ctx *e, const ir_node *n) { return conv(e, n, 0, 2, 3, 5, 1); }
