/*
 * interp_quant.c - reference kernels of the quantized group.
 *
 * ONNX defines these ops in float32 and int32: a quantized value is
 * saturate(round(v / scale) + zero_point) with rounding half to even, and
 * products of (q - zero_point) terms accumulate in int32.  The kernels do
 * exactly that in `float` (not double, as the other kernels do): a
 * different precision would round a different set of halfway cases than
 * the spec's, and ONNX Runtime's, float computation.  The requantizing
 * multiplier of the QLinear ops is (in_scale * w_scale) / out_scale, in
 * that order.  Accumulators are int64 and are reduced to int32 with
 * wraparound, which is the int32 result whenever the spec's own int32
 * accumulator does not overflow.
 *
 * Parameters (scale, zero point) hold one element or one per channel;
 * ops_quant.c checked which, so param() indexes them without checks.  A
 * missing zero point is 0.  NaN quantizes to 0.
 */
#include "interp_quant.h"

#include <math.h>
#include <string.h>

#include "../../compiler/ops/op.h"
#include "kutil.h"

static const ir_tensor *opt_in(const ir_node *n, int i) { return i < n->n_in ? n->in[i] : NULL; }

/* Element ch of a per-tensor or per-channel parameter (input i); 0 when absent. */
static double param(const ir_node *n, const void *const *in, int i, int64_t ch) {
  const ir_tensor *t = opt_in(n, i);
  if (!t || !in[i]) return 0;
  return kload_f(t->dtype, in[i], ir_numel(t) == 1 ? 0 : ch);
}

static int64_t iparam(const ir_node *n, const void *const *in, int i, int64_t ch) {
  const ir_tensor *t = opt_in(n, i);
  if (!t || !in[i]) return 0;
  return kload_i(t->dtype, in[i], ir_numel(t) == 1 ? 0 : ch);
}

/* Saturate an already rounded value into uint8 or int8. */
static int64_t qsat(float v, ir_dtype t) {
  float lo = t == IR_U8 ? 0.0f : -128.0f, hi = t == IR_U8 ? 255.0f : 127.0f;
  if (v != v) return 0;
  if (v < lo) return (int64_t)lo;
  if (v > hi) return (int64_t)hi;
  return (int64_t)v;
}

static int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

/* Channel of flat index i along `axis` of t (0 for per-tensor parameters). */
static int64_t channel(const ir_node *n, const ir_tensor *t, int64_t i) {
  const ir_tensor *s = n->in[1];
  int axis;
  if (ir_numel(s) == 1 && (!opt_in(n, 2) || ir_numel(n->in[2]) == 1)) return 0;
  if (op_axis(n, ir_attr_int(n, "axis", 1), t->rank, &axis) < 0) return 0;
  int64_t inner = 1;
  for (int a = axis + 1; a < t->rank; a++) inner *= t->shape[a];
  return (i / inner) % t->shape[axis];
}

/* ---- QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear -------------- */

int interp_quant_QuantizeLinear(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t total = ir_numel(x);
  for (int64_t i = 0; i < total; i++) {
    int64_t ch = channel(n, x, i);
    float s = (float)param(n, in, 1, ch), zp = (float)iparam(n, in, 2, ch);
    float v = (float)kload_f(x->dtype, in[0], i) / s;
    kstore_i(y->dtype, out[0], i, qsat(nearbyintf(v) + zp, y->dtype));
  }
  return 0;
}

int interp_quant_DequantizeLinear(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t total = ir_numel(x);
  for (int64_t i = 0; i < total; i++) {
    int64_t ch = channel(n, x, i);
    float s = (float)param(n, in, 1, ch);
    int64_t d = kload_i(x->dtype, in[0], i) - iparam(n, in, 2, ch);
    kstore_f(y->dtype, out[0], i, (double)((float)d * s));
  }
  return 0;
}

/* Range [min(0, x), max(0, x)] onto uint8: scale = range / 255, zero point
 * round(-min / scale).  An all-zero x gives scale 0, zero point 0, y 0. */
int interp_quant_DynamicQuantizeLinear(interp_ctx *c, const ir_node *n, const void *const *in,
                                       void *const *out) {
  (void)c;
  const float *x = in[0];
  int64_t total = ir_numel(n->in[0]);
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < total; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  float scale = (hi - lo) / 255.0f;
  int64_t zp = scale != 0.0f ? qsat(nearbyintf((0.0f - lo) / scale), IR_U8) : 0;
  for (int64_t i = 0; i < total; i++) {
    int64_t q = scale != 0.0f ? qsat(nearbyintf(x[i] / scale) + (float)zp, IR_U8) : 0;
    ((uint8_t *)out[0])[i] = (uint8_t)q;
  }
  if (n->n_out > 1 && out[1]) ((float *)out[1])[0] = scale;
  if (n->n_out > 2 && out[2]) ((uint8_t *)out[2])[0] = (uint8_t)zp;
  return 0;
}

/* ---- matmuls -------------------------------------------------------------------- */

/* Operands a (input ia) and b (input ib) with their zero points (inputs
 * za, zb: per row of a, per column of b).  Calls back per output element
 * with the int64 accumulator. */
typedef void (*mm_store)(const ir_node *n, const void *const *in, void *const *out, int64_t yi,
                         int64_t row, int64_t col, int64_t acc);

static void matmul(const ir_node *n, const void *const *in, void *const *out, int ia, int za, int ib,
                   int zb, mm_store store) {
  const ir_tensor *a = n->in[ia], *b = n->in[ib], *y = n->out[0];
  int64_t K = a->shape[a->rank - 1];
  int64_t M = a->rank >= 2 ? a->shape[a->rank - 2] : 1, N = b->rank >= 2 ? b->shape[b->rank - 1] : 1;
  int rb = y->rank - (a->rank >= 2) - (b->rank >= 2);   /* batch rank of the output */
  int64_t batch = ir_numel_dims(rb, y->shape);
  for (int64_t bi = 0; bi < batch; bi++) {
    int64_t ab = kbcast_index(rb, y->shape, a->rank > 2 ? a->rank - 2 : 0, a->shape, bi);
    int64_t bb = kbcast_index(rb, y->shape, b->rank > 2 ? b->rank - 2 : 0, b->shape, bi);
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        int64_t acc = 0, azp = iparam(n, in, za, i), bzp = iparam(n, in, zb, j);
        for (int64_t k = 0; k < K; k++) {
          int64_t av = kload_i(a->dtype, in[ia], ab * M * K + i * K + k);
          int64_t bv = kload_i(b->dtype, in[ib], bb * K * N + k * N + j);
          acc += (av - azp) * (bv - bzp);
        }
        store(n, in, out, bi * M * N + i * N + j, i, j, acc);
      }
  }
}

static void store_int32(const ir_node *n, const void *const *in, void *const *out, int64_t yi, int64_t row,
                        int64_t col, int64_t acc) {
  (void)n, (void)in, (void)row, (void)col;
  ((int32_t *)out[0])[yi] = wrap32(acc);
}

/* QLinearMatMul: y = sat(round(acc * (a_scale * b_scale / y_scale)) + y_zp). */
static void store_qlinear(const ir_node *n, const void *const *in, void *const *out, int64_t yi, int64_t row,
                          int64_t col, int64_t acc) {
  float mult = (float)param(n, in, 1, row) * (float)param(n, in, 4, col) / (float)param(n, in, 6, row);
  float v = nearbyintf((float)wrap32(acc) * mult) + (float)iparam(n, in, 7, row);
  kstore_i(n->out[0]->dtype, out[0], yi, qsat(v, n->out[0]->dtype));
}

int interp_quant_MatMulInteger(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  matmul(n, in, out, 0, 2, 1, 3, store_int32);
  return 0;
}

int interp_quant_QLinearMatMul(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  matmul(n, in, out, 0, 2, 3, 5, store_qlinear);
  return 0;
}

/* ---- convolutions ---------------------------------------------------------------- */

/* x (input ix) [N,C,sp..] * w (input iw) [M,C/group,k..] with zero points
 * (inputs zx: per tensor, zw: per output channel), geometry from the node's
 * attributes (made explicit by ops_quant.c).  Padding holds x's zero point,
 * so it adds nothing to the accumulator. */
static int conv(const ir_node *n, const void *const *in, void *const *out, int ix, int zx, int iw, int zw,
                mm_store store) {
  const ir_tensor *x = n->in[ix], *w = n->in[iw], *y = n->out[0];
  const int64_t *strides, *dil, *pads;
  int r = x->rank - 2;
  if (ir_attr_ints(n, "strides", &strides) != r || ir_attr_ints(n, "dilations", &dil) != r ||
      ir_attr_ints(n, "pads", &pads) != 2 * r)
    return op_fail(n, "geometry attributes were not resolved");
  int64_t grp = ir_attr_int(n, "group", 1);
  int64_t N = x->shape[0], C = x->shape[1], M = w->shape[0], cg = C / grp, mg = M / grp;
  int64_t osz = ir_numel_dims(r, y->shape + 2), ksz = ir_numel_dims(r, w->shape + 2);
  int64_t isz = ir_numel_dims(r, x->shape + 2);
  int64_t xzp = iparam(n, in, zx, 0);
  for (int64_t b = 0; b < N; b++)
    for (int64_t m = 0; m < M; m++) {
      int64_t wzp = iparam(n, in, zw, m), g = m / mg;
      for (int64_t o = 0; o < osz; o++) {
        int64_t od[IR_MAX_RANK], rem = o, acc = 0;
        for (int d = r - 1; d >= 0; d--) od[d] = rem % y->shape[2 + d], rem /= y->shape[2 + d];
        for (int64_t ci = 0; ci < cg; ci++)
          for (int64_t kk = 0; kk < ksz; kk++) {
            int64_t xoff = 0, krem = kk, inside = 1, mul = 1;
            for (int d = r - 1; d >= 0; d--) {
              int64_t kd = krem % w->shape[2 + d];
              krem /= w->shape[2 + d];
              int64_t id = od[d] * strides[d] - pads[d] + kd * dil[d];
              if (id < 0 || id >= x->shape[2 + d]) inside = 0;
              xoff += id * mul;
              mul *= x->shape[2 + d];
            }
            if (!inside) continue;
            int64_t xv = kload_i(x->dtype, in[ix], (b * C + g * cg + ci) * isz + xoff);
            int64_t wv = kload_i(w->dtype, in[iw], (m * cg + ci) * ksz + kk);
            acc += (xv - xzp) * (wv - wzp);
          }
        store(n, in, out, (b * M + m) * osz + o, m, m, acc);
      }
    }
  return 0;
}

/* QLinearConv: per output channel m, y = sat(round((acc + B[m]) * mult[m]) + y_zp). */
static void store_qconv(const ir_node *n, const void *const *in, void *const *out, int64_t yi, int64_t m,
                        int64_t col, int64_t acc) {
  (void)col;
  if (opt_in(n, 8) && in[8]) acc += ((const int32_t *)in[8])[m];
  float mult = (float)param(n, in, 1, 0) * (float)param(n, in, 4, m) / (float)param(n, in, 6, 0);
  float v = nearbyintf((float)wrap32(acc) * mult) + (float)iparam(n, in, 7, 0);
  kstore_i(n->out[0]->dtype, out[0], yi, qsat(v, n->out[0]->dtype));
}

int interp_quant_ConvInteger(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return conv(n, in, out, 0, 2, 1, 3, store_int32);
}

int interp_quant_QLinearConv(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  return conv(n, in, out, 0, 2, 3, 5, store_qconv);
}
