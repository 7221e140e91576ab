/*
 * kl_map.c - loops for elementwise maps (see kl_map.h).
 *
 * 1. Give every operand (output first, then the inputs) a stride per output
 *    axis: its C-order stride, or 0 where it is broadcast.
 * 2. Drop output axes of extent 1, then merge axis a into a+1 when every
 *    operand has stride[a] == stride[a+1] * dims[a+1] (contiguous across
 *    the pair, or broadcast along both).
 * 3. Write one loop per remaining axis; the body loads each input at its
 *    index, evaluates the template, applies the epilogue and stores.
 * The whole map sits in its own block so that its locals never collide
 * with other code in the node's function.
 */
#include "kl_map.h"

#include <string.h>

#include "../ops/op.h"
#include "kl_par.h"

void kl_map_add_input(kl_map *m, const char *name, const ir_tensor *t) {
  kl_map_in *in = &m->in[m->n_in++];
  in->name = name;
  in->dtype = t->dtype;
  in->rank = t->rank;
  for (int a = 0; a < t->rank; a++) in->dims[a] = t->shape[a];
}

void kl_map_init(emit_ctx *e, const ir_node *n, int j, kl_map *m) {
  memset(m, 0, sizeof *m);
  const ir_tensor *y = n->out[j];
  m->out = emit_out(e, j);
  m->out_dtype = y->dtype;
  m->rank = y->rank;
  for (int a = 0; a < y->rank; a++) m->dims[a] = y->shape[a];
}

int kl_map_from_node(emit_ctx *e, const ir_node *n, int j, kl_map *m) {
  kl_map_init(e, n, j, m);
  if (n->n_in > KL_MAP_MAX_IN) return op_fail(n, "more than %d inputs to one map", KL_MAP_MAX_IN);
  for (int i = 0; i < n->n_in; i++) {
    if (!n->in[i]) return op_fail(n, "input %d is missing", i);
    kl_map_add_input(m, emit_in(e, i), n->in[i]);
  }
  return 0;
}

static int emittable(ir_dtype t) {
  return t != IR_UNDEF && t != IR_STRING && t < IR_DTYPE_COUNT;
}

static int is_half(ir_dtype t) { return t == IR_F16 || t == IR_BF16; }
ir_dtype kl_map_value_type(ir_dtype t) { return is_half(t) ? IR_F32 : t; }

const char *kl_map_expand(char *buf, size_t n, const char *tmpl, ir_dtype dt) {
  size_t k = 0;
  dt = kl_map_value_type(dt);
  for (const char *p = tmpl; *p && k + 2 < n; p++) {
    if (*p == '@') {
      if (dt == IR_F32) buf[k++] = 'f';
    } else {
      buf[k++] = *p;
    }
  }
  buf[k] = '\0';
  return buf;
}

const char *kl_map_literal(char *buf, size_t n, ir_dtype dt, double v) {
  return emit_literal(buf, n, kl_map_value_type(dt), v);
}

int kl_map_node(emit_ctx *e, const ir_node *n, const char *tmpl, ir_dtype at) {
  kl_map m;
  char expr[2048];
  if (kl_map_from_node(e, n, 0, &m) < 0) return -1;
  m.expr = kl_map_expand(expr, sizeof expr, tmpl, at);
  if (ir_dtype_is_float(m.out_dtype) && kl_epilogue_from_node(e, n, &m.ep) < 0) return -1;
  return kl_map_emit(e, &m) < 0 ? op_fail(n, "%s", ir_last_error()) : 0;
}

/* Software half conversions (round to nearest even), each emitted once per
 * file and only when a map reads or writes float16/bfloat16, so that no
 * unused static function trips -Werror in the generated code. */
static const char h_f16_to_f32[] =
  "static float mc_f16_to_f32(uint16_t h) {\n"
  "  int e = (h >> 10) & 0x1f, m = h & 0x3ff;\n"
  "  float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 0x400), e - 25);\n"
  "  return (h & 0x8000) ? -v : v;\n"
  "}\n";
static const char h_f32_to_f16[] =
  "static uint16_t mc_f32_to_f16(float f) {\n"
  "  uint32_t b, mant, half, rem, mid;\n"
  "  uint16_t sign;\n"
  "  int e, shift;\n"
  "  memcpy(&b, &f, 4);\n"
  "  sign = (uint16_t)((b >> 16) & 0x8000);\n"
  "  mant = b & 0x7fffff;\n"
  "  if (((b >> 23) & 0xff) == 255) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));\n"
  "  e = (int)((b >> 23) & 0xff) - 112;\n"
  "  if (e >= 31) return (uint16_t)(sign | 0x7c00);\n"
  "  if (e <= 0) {\n"
  "    if (e < -10) return sign;\n"
  "    mant |= 0x800000;\n"
  "    shift = 14 - e;\n"
  "    half = mant >> shift;\n"
  "    rem = mant & ((1u << shift) - 1);\n"
  "    mid = 1u << (shift - 1);\n"
  "  } else {\n"
  "    half = ((uint32_t)e << 10) | (mant >> 13);\n"
  "    rem = mant & 0x1fff;\n"
  "    mid = 0x1000;\n"
  "  }\n"
  "  if (rem > mid || (rem == mid && (half & 1))) half++;\n"
  "  return (uint16_t)(sign | half);\n"
  "}\n";
static const char h_bf16_to_f32[] =
  "static float mc_bf16_to_f32(uint16_t h) {\n"
  "  uint32_t b = (uint32_t)h << 16;\n"
  "  float f;\n"
  "  memcpy(&f, &b, 4);\n"
  "  return f;\n"
  "}\n";
static const char h_f32_to_bf16[] =
  "static uint16_t mc_f32_to_bf16(float f) {\n"
  "  uint32_t b;\n"
  "  memcpy(&b, &f, 4);\n"
  "  if ((b & 0x7fffffff) > 0x7f800000) return (uint16_t)((b >> 16) | 0x40);\n"
  "  b += 0x7fff + ((b >> 16) & 1);\n"
  "  return (uint16_t)(b >> 16);\n"
  "}\n";

/* Name of the helper converting dt to float (to_float) or back, emitted. */
static const char *half_conv(emit_ctx *e, ir_dtype dt, int to_float) {
  static const char *const key[] = {"mc_f16_to_f32", "mc_f32_to_f16", "mc_bf16_to_f32", "mc_f32_to_bf16"};
  static const char *const code[] = {h_f16_to_f32, h_f32_to_f16, h_bf16_to_f32, h_f32_to_bf16};
  int k = (dt == IR_BF16 ? 2 : 0) + (to_float ? 0 : 1);
  emit_helper(e, key[k], code[k]);
  return key[k];
}

static int uses_input(const char *expr, int k) {
  for (const char *p = expr; *p; p++)
    if (p[0] == '$' && p[1] - '0' == k) return 1;
  return 0;
}

int kl_map_emit(emit_ctx *e, const kl_map *m) {
  enum { MAXOP = KL_MAP_MAX_IN + 1 };
  int nop = m->n_in + 1, r = 0;
  int64_t dims[IR_MAX_RANK], st[MAXOP][IR_MAX_RANK];
  ir_dtype compute = kl_map_value_type(m->compute ? m->compute : m->out_dtype);

  if (!emittable(m->out_dtype) || !emittable(compute))
    return ir_error("kl_map: cannot emit a map producing %s", ir_dtype_name(m->out_dtype));
  if ((m->ep.act || m->ep.residual) && !ir_dtype_is_float(compute))
    return ir_error("kl_map: a fused epilogue needs a float output, not %s",
                    ir_dtype_name(compute));

  /* 1. strides per output axis, 0 where an operand is broadcast */
  for (int k = 0; k < nop; k++) {
    int rank = k ? m->in[k - 1].rank : m->rank;
    const int64_t *d = k ? m->in[k - 1].dims : m->dims;
    if (k && !emittable(m->in[k - 1].dtype))
      return ir_error("kl_map: cannot emit a map reading %s", ir_dtype_name(m->in[k - 1].dtype));
    if (rank > m->rank) return ir_error("kl_map: input %d has a higher rank than the output", k - 1);
    int64_t s = 1;
    for (int a = m->rank - 1; a >= 0; a--) {
      int ia = a - (m->rank - rank);
      int64_t da = ia >= 0 ? d[ia] : 1;
      if (da != m->dims[a] && da != 1)
        return ir_error("kl_map: input %d does not broadcast to the output", k - 1);
      st[k][a] = (da == 1 && m->dims[a] != 1) ? 0 : s;
      s *= da;
    }
  }
  /* 2. drop extent-1 axes, merge compatible neighbours */
  for (int a = 0; a < m->rank; a++) {
    if (m->dims[a] == 1) continue;
    int merge = r > 0;
    for (int k = 0; k < nop && merge; k++)
      if (st[k][r - 1] != st[k][a] * m->dims[a]) merge = 0;
    if (merge) {
      dims[r - 1] *= m->dims[a];
      for (int k = 0; k < nop; k++) st[k][r - 1] = st[k][a];
    } else {
      dims[r] = m->dims[a];
      for (int k = 0; k < nop; k++) st[k][r] = st[k][a];
      r++;
    }
  }
  for (int a = 0; a < m->rank; a++)
    if (m->dims[a] == 0) return 0;      /* empty output: nothing to write */

  /* 3. loops and body */
  kl_block(e);
  const char *iv[IR_MAX_RANK];
  if (r > 0 && kl_par_parts(emit_opts(e)->threads, dims[0], ir_numel_dims(r, dims)) > 1)
    kl_par_for(e);   /* a big map: its outer loop in parallel */
  for (int a = 0; a < r; a++) iv[a] = kl_for(e, dims[a]);
  char idx[MAXOP][256];
  for (int k = 0; k < nop; k++) {
    size_t len = 0;
    idx[k][0] = '\0';
    for (int a = 0; a < r; a++) {
      if (!st[k][a]) continue;
      if (st[k][a] == 1)
        len += (size_t)snprintf(idx[k] + len, sizeof idx[k] - len, "%s%s", len ? " + " : "", iv[a]);
      else
        len += (size_t)snprintf(idx[k] + len, sizeof idx[k] - len, "%s%s * %lld", len ? " + " : "",
                                iv[a], (long long)st[k][a]);
      if (len >= sizeof idx[k]) return ir_error("kl_map: index expression too long");
    }
    if (!len) strcpy(idx[k], "0");
  }
  for (int k = 1; k < nop; k++)
    if (uses_input(m->expr, k - 1))   /* inputs only the epilogue reads stay unloaded */
      {
      ir_dtype dt = m->in[k - 1].dtype;
      if (is_half(dt))
        emit_line(e, "const float u%d = %s(%s[%s]);", k - 1, half_conv(e, dt, 1), m->in[k - 1].name, idx[k]);
      else
        emit_line(e, "const %s u%d = %s[%s];", ir_dtype_ctype(dt), k - 1, m->in[k - 1].name, idx[k]);
    }

  /* the template, with $k replaced by uk */
  char body[2048];
  size_t bl = 0;
  for (const char *p = m->expr; *p; p++) {
    if (bl + 8 >= sizeof body) return ir_error("kl_map: expression too long");
    if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
      if (p[1] - '0' >= m->n_in) return ir_error("kl_map: template uses $%c beyond the inputs", p[1]);
      body[bl++] = 'u';
      body[bl++] = *++p;
    } else {
      body[bl++] = *p;
    }
  }
  body[bl] = '\0';
  const char *ct = ir_dtype_ctype(compute);
  emit_line(e, "%s v = (%s)(%s);", ct, ct, body);
  if (m->ep.residual && is_half(m->out_dtype))
    emit_line(e, "v += %s(%s[%s]);", half_conv(e, m->out_dtype, 1), m->ep.residual, idx[0]);
  else if (m->ep.residual)
    emit_line(e, "v += %s[%s];", m->ep.residual, idx[0]);
  if (m->ep.act) {
    char act[1024];
    kl_act_expr(act, sizeof act, &m->ep, compute, "v");
    emit_line(e, "v = %s;", act);
  }
  if (is_half(m->out_dtype))
    emit_line(e, "%s[%s] = %s((float)v);", m->out, idx[0], half_conv(e, m->out_dtype, 0));
  else
    emit_line(e, "%s[%s] = (%s)v;", m->out, idx[0], ir_dtype_ctype(m->out_dtype));
  for (int a = 0; a < r; a++) kl_end(e);
  kl_end(e);
  return 0;
}
