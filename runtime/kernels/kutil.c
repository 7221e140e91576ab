/*
 * kutil.c - dtype accessors and broadcast maps for the interpreter kernels
 * (see kutil.h for the conversion rules).  Plain switches: the interpreter
 * values obviousness over speed.
 */
#include "kutil.h"

#include <math.h>
#include <string.h>

#include "../../compiler/ops/op.h"

float kf16_to_f32(uint16_t h) {
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  float v;
  if (exp == 0)
    v = ldexpf((float)mant, -24);                 /* zero and subnormals */
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = ldexpf((float)(mant | 0x400), exp - 25);  /* 1.mant * 2^(exp-15) */
  return (h & 0x8000) ? -v : v;
}

uint16_t kf32_to_f16(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
  int exp = (int)((bits >> 23) & 0xff);
  uint32_t mant = bits & 0x7fffff;
  if (exp == 255)
    return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
  int e = exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return sign;                     /* below half the smallest subnormal */
    mant |= 0x800000;
    int shift = 14 - e;
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = ((uint32_t)e << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;  /* a carry may reach inf: right */
  return (uint16_t)(sign | half);
}

float kbf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t kf32_to_bf16(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return (uint16_t)((bits >> 16) | 0x40);  /* quiet NaN */
  bits += 0x7fff + ((bits >> 16) & 1);
  return (uint16_t)(bits >> 16);
}

uint16_t kf32_to_bf16_trunc(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return (uint16_t)((bits >> 16) | 0x40);  /* a NaN, not inf */
  return (uint16_t)(bits >> 16);
}

double kload_f(ir_dtype t, const void *p, int64_t i) {
  switch (t) {
  case IR_F32: return ((const float *)p)[i];
  case IR_F64: return ((const double *)p)[i];
  case IR_F16: return kf16_to_f32(((const uint16_t *)p)[i]);
  case IR_BF16: return kbf16_to_f32(((const uint16_t *)p)[i]);
  case IR_U64: return (double)((const uint64_t *)p)[i];
  default: return (double)kload_i(t, p, i);
  }
}

int64_t kload_i(ir_dtype t, const void *p, int64_t i) {
  switch (t) {
  case IR_I8: return ((const int8_t *)p)[i];
  case IR_I16: return ((const int16_t *)p)[i];
  case IR_I32: return ((const int32_t *)p)[i];
  case IR_I64: return ((const int64_t *)p)[i];
  case IR_U8: return ((const uint8_t *)p)[i];
  case IR_U16: return ((const uint16_t *)p)[i];
  case IR_U32: return ((const uint32_t *)p)[i];
  case IR_U64: return (int64_t)((const uint64_t *)p)[i];   /* wraps above INT64_MAX */
  case IR_BOOL: return ((const uint8_t *)p)[i] != 0;
  case IR_F32: case IR_F64: case IR_F16: case IR_BF16: {
    double v = kload_f(t, p, i);
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
  }
  default: return 0;
  }
}

uint64_t kload_u(ir_dtype t, const void *p, int64_t i) {
  if (t == IR_U64) return ((const uint64_t *)p)[i];
  if (ir_dtype_is_float(t)) {
    double v = kload_f(t, p, i);
    if (v != v) return 0;
    if (v < 0) return (uint64_t)kload_i(t, p, i);   /* negative: wrap like an int64 */
    if (v >= 18446744073709551615.0) return UINT64_MAX;
    return (uint64_t)v;
  }
  return (uint64_t)kload_i(t, p, i);
}

void kstore_i(ir_dtype t, void *p, int64_t i, int64_t v) {
  switch (t) {
  /* Narrowing through the unsigned type is defined (modulo 2^bits); the
   * final signed conversion is the usual two's-complement one. */
  case IR_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)v; break;
  case IR_I16: ((int16_t *)p)[i] = (int16_t)(uint16_t)v; break;
  case IR_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)v; break;
  case IR_I64: ((int64_t *)p)[i] = v; break;
  case IR_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case IR_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case IR_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
  case IR_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
  case IR_BOOL: ((uint8_t *)p)[i] = v != 0; break;
  case IR_F32: ((float *)p)[i] = (float)v; break;
  case IR_F64: ((double *)p)[i] = (double)v; break;
  case IR_F16: ((uint16_t *)p)[i] = kf32_to_f16((float)v); break;
  case IR_BF16: ((uint16_t *)p)[i] = kf32_to_bf16((float)v); break;
  default: break;
  }
}

void kstore_u(ir_dtype t, void *p, int64_t i, uint64_t v) {
  switch (t) {
  case IR_U64: ((uint64_t *)p)[i] = v; break;
  case IR_F32: ((float *)p)[i] = (float)v; break;
  case IR_F64: ((double *)p)[i] = (double)v; break;
  case IR_F16: ((uint16_t *)p)[i] = kf32_to_f16((float)v); break;
  case IR_BF16: ((uint16_t *)p)[i] = kf32_to_bf16((float)v); break;
  default: kstore_i(t, p, i, (int64_t)v); break;
  }
}

void kstore_f(ir_dtype t, void *p, int64_t i, double v) {
  switch (t) {
  case IR_F32: ((float *)p)[i] = (float)v; break;
  case IR_F64: ((double *)p)[i] = v; break;
  case IR_F16: ((uint16_t *)p)[i] = kf32_to_f16((float)v); break;
  case IR_BF16: ((uint16_t *)p)[i] = kf32_to_bf16((float)v); break;
  case IR_BOOL: ((uint8_t *)p)[i] = v != 0; break;   /* NaN != 0: true, as numpy */
  case IR_U64:
    if (v >= 0 && v < 18446744073709551615.0) ((uint64_t *)p)[i] = (uint64_t)v;
    else if (v >= 18446744073709551615.0) ((uint64_t *)p)[i] = UINT64_MAX;
    else kstore_i(t, p, i, v != v ? 0 : v <= -9223372036854775808.0 ? INT64_MIN : (int64_t)v);
    break;
  default: {
    int64_t x;
    if (v != v) x = 0;
    else if (v >= 9223372036854775807.0) x = INT64_MAX;
    else if (v <= -9223372036854775808.0) x = INT64_MIN;
    else x = (int64_t)v;              /* C truncation toward zero */
    kstore_i(t, p, i, x);
    break;
  }
  }
}

void kbcast_init(kbcast *b, int out_rank, const int64_t *out_dims, int in_rank,
                 const int64_t *in_dims) {
  int64_t s = 1;
  b->rank = out_rank;
  b->identity = in_rank == out_rank;
  for (int a = out_rank - 1; a >= 0; a--) {
    int ia = a - (out_rank - in_rank);          /* right-aligned input axis */
    int64_t d = ia >= 0 ? in_dims[ia] : 1;
    b->dims[a] = out_dims[a];
    b->stride[a] = (d == 1 && out_dims[a] != 1) ? 0 : s;
    if (d != out_dims[a]) b->identity = 0;
    s *= d;
  }
}

int64_t kbcast_map(const kbcast *b, int64_t out_i) {
  if (b->identity) return out_i;
  int64_t r = 0;
  for (int a = b->rank - 1; a >= 0; a--) {
    int64_t d = b->dims[a];
    if (d <= 0) return 0;
    r += (out_i % d) * b->stride[a];
    out_i /= d;
  }
  return r;
}

void kbcast_tensors(kbcast *b, const ir_tensor *out, const ir_tensor *in) {
  kbcast_init(b, out->rank, out->shape, in->rank, in->shape);
}

int64_t kbcast_index(int out_rank, const int64_t *out_dims, int in_rank,
                     const int64_t *in_dims, int64_t out_i) {
  kbcast b;
  kbcast_init(&b, out_rank, out_dims, in_rank, in_dims);
  return kbcast_map(&b, out_i);
}

int kepi_from_node(const ir_node *n, kepi *ep) { return op_epilogue_read(n, ep); }

/* NaN passes through every comparison-based activation, as in numpy. */
double kact_apply(op_act a, double alpha, double beta, double v) {
  switch (a) {
  case OP_ACT_NONE: return v;
  case OP_ACT_RELU: return v < 0 ? 0 : v;
  case OP_ACT_LEAKY_RELU: return v < 0 ? alpha * v : v;
  case OP_ACT_CLIP:
    if (v < alpha) v = alpha;
    return v > beta ? beta : v;        /* min > max gives max, as ONNX says */
  case OP_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
  case OP_ACT_TANH: return tanh(v);
  case OP_ACT_HARD_SIGMOID: {
    double t = alpha * v + beta;
    return t < 0 ? 0 : t > 1 ? 1 : t;
  }
  case OP_ACT_HARD_SWISH: {
    double t = alpha * v + beta;
    return v * (t < 0 ? 0 : t > 1 ? 1 : t);
  }
  case OP_ACT_COUNT: break;
  }
  return v;
}

double kepi_apply(const kepi *ep, double v, double residual) {
  if (ep->residual >= 0) v += residual;
  return kact_apply(ep->act, ep->alpha, ep->beta, v);
}

void kunravel(int64_t i, int rank, const int64_t *dims, int64_t *idx) {
  for (int k = rank - 1; k >= 0; k--) {
    idx[k] = dims[k] ? i % dims[k] : 0;
    i = dims[k] ? i / dims[k] : 0;
  }
}

int64_t kravel(int rank, const int64_t *dims, const int64_t *idx) {
  int64_t i = 0;
  for (int k = 0; k < rank; k++) i = i * dims[k] + idx[k];
  return i;
}

void kstrides(int rank, const int64_t *dims, int64_t *st) {
  int64_t s = 1;
  for (int k = rank - 1; k >= 0; k--) {
    st[k] = s;
    s *= dims[k];
  }
}
