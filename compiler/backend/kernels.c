/*
 * kernels.c - the shared pieces of the backend's kernel layer: the fused
 * epilogue (read through compiler/ops/epilogue.h), the C text of each activation, and loop helpers.
 *
 * kl_act_expr is the one place that knows how an activation is written in
 * C: standalone activation ops and the epilogues of GEMM, convolution and
 * elementwise maps all call it, so a fused and an unfused model compute the
 * same formula.  Activations are written with comparisons rather than
 * fmaxf/fminf so that a NaN propagates as it does in ONNX's numpy reference.
 * Constants are hex float literals so that they read back exactly.
 *
 * Float paths never touch double (tests/e2e/cortex_m4.sh checks the
 * objects for soft-double helpers): sums use the blocked float sum below.
 */
#include "kernels.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../ops/op.h"

int kl_epilogue_from_node(emit_ctx *e, const ir_node *n, kl_epilogue *ep) {
  op_epilogue oe;
  memset(ep, 0, sizeof *ep);
  if (op_epilogue_read(n, &oe) < 0) return -1;
  ep->act = oe.act;
  ep->alpha = oe.alpha;
  ep->beta = oe.beta;
  if (oe.residual >= 0) ep->residual = emit_in(e, oe.residual);
  return 0;
}

/* A literal of dtype dt (F32 or F64) that reads back as exactly v. */
static const char *lit(char *buf, size_t n, ir_dtype dt, double v) {
  const char *suf = dt == IR_F32 ? "f" : "";
  if (v != v)
    snprintf(buf, n, "%sNAN", dt == IR_F32 ? "" : "(double)");
  else if (isinf(v))
    snprintf(buf, n, "%s%sINFINITY", v < 0 ? "-" : "", dt == IR_F32 ? "" : "(double)");
  else if (dt == IR_F32)
    snprintf(buf, n, "%a%s", (double)(float)v, suf);
  else
    snprintf(buf, n, "%a", v);
  return buf;
}

char *kl_act_expr(char *buf, size_t n, const kl_epilogue *ep, ir_dtype dt, const char *v) {
  char a[48], b[48], z[48], one[48];
  const char *f = dt == IR_F32 ? "f" : "";     /* libm suffix */
  lit(z, sizeof z, dt, 0.0);
  lit(one, sizeof one, dt, 1.0);
  lit(a, sizeof a, dt, ep->alpha);
  lit(b, sizeof b, dt, ep->beta);
  switch (ep->act) {
  case OP_ACT_NONE:
  case OP_ACT_COUNT:   /* not an activation: op_epilogue_read never gives it */
    snprintf(buf, n, "%s", v);
    break;
  case OP_ACT_RELU:          /* max(v, 0), NaN passes */
    snprintf(buf, n, "(%s < %s ? %s : %s)", v, z, z, v);
    break;
  case OP_ACT_LEAKY_RELU:
    snprintf(buf, n, "(%s < %s ? %s * %s : %s)", v, z, a, v, v);
    break;
  case OP_ACT_CLIP: {
    int lo = !isinf(ep->alpha) || ep->alpha > 0, hi = !isinf(ep->beta) || ep->beta < 0;
    if (lo && hi)
      /* max(min(v, ...)) order: min > max gives max, as ONNX says */
      snprintf(buf, n, "(%s < %s ? (%s > %s ? %s : %s) : (%s > %s ? %s : %s))", v, a, a, b, b, a, v,
               b, b, v);
    else if (lo)
      snprintf(buf, n, "(%s < %s ? %s : %s)", v, a, a, v);
    else if (hi)
      snprintf(buf, n, "(%s > %s ? %s : %s)", v, b, b, v);
    else
      snprintf(buf, n, "%s", v);
    break;
  }
  case OP_ACT_SIGMOID:
    snprintf(buf, n, "(%s / (%s + exp%s(-%s)))", one, one, f, v);
    break;
  case OP_ACT_TANH:
    snprintf(buf, n, "tanh%s(%s)", f, v);
    break;
  case OP_ACT_HARD_SIGMOID: {   /* clamp(alpha*v + beta, 0, 1) */
    char t[160];
    snprintf(t, sizeof t, "(%s * %s + %s)", a, v, b);
    snprintf(buf, n, "(%s < %s ? %s : (%s > %s ? %s : %s))", t, z, z, t, one, one, t);
    break;
  }
  case OP_ACT_HARD_SWISH: {   /* v * clamp(alpha*v + beta, 0, 1) */
    char g[512];
    snprintf(buf, n, "(%s * %s)", v, kl_act_gate(g, sizeof g, ep, dt, v));
    break;
  }
  }
  return buf;
}

char *kl_act_gate(char *buf, size_t n, const kl_epilogue *ep, ir_dtype dt, const char *v) {
  kl_epilogue hs = *ep;
  if (ep->act != OP_ACT_HARD_SWISH) return NULL;
  hs.act = OP_ACT_HARD_SIGMOID;   /* with HardSwish's alpha and beta */
  return kl_act_expr(buf, n, &hs, dt, v);
}

const char *kl_for(emit_ctx *e, int64_t extent) {
  const char *i = emit_fresh(e, "i");
  emit_line(e, "for (int64_t %s = 0; %s < %lld; %s++) {", i, i, (long long)extent, i);
  emit_indent(e, 1);
  return i;
}

void kl_end(emit_ctx *e) {
  emit_indent(e, -1);
  emit_line(e, "}");
}

void kl_block(emit_ctx *e) {
  emit_line(e, "{");
  emit_indent(e, 1);
}

void kl_strides(int rank, const int64_t *dims, int64_t *st) {
  int64_t s = 1;
  for (int k = rank - 1; k >= 0; k--) {
    st[k] = s;
    s *= dims[k];
  }
}

/* ---- blocked float sums (see kernels.h) ---- */

#define KL_SUM_SHORT 64   /* up to this many terms, a plain float sum is as good */

int64_t kl_sum_block(ir_dtype acc, int64_t n) {
  if (acc == IR_F64 || n <= KL_SUM_SHORT) return 0;
  int64_t b = (int64_t)ceil(sqrt((double)n));   /* balances block and n / block */
  return b < KL_SUM_SHORT ? KL_SUM_SHORT : b;
}

void kl_sum_decl(emit_ctx *e, const char *ctype, const char *acc, const char *init, int64_t block) {
  emit_line(e, "%s %s = %s;", ctype, acc, init);
  if (block) emit_line(e, "%s %s_tot = 0; int64_t %s_cnt = 0;", ctype, acc, acc);
}

void kl_sum_step(emit_ctx *e, const char *acc, int64_t block) {
  if (block)
    emit_line(e, "if (++%s_cnt == %lld) { %s_tot += %s; %s = 0; %s_cnt = 0; }", acc, (long long)block, acc, acc, acc,
              acc);
}

void kl_sum_done(emit_ctx *e, const char *acc, int64_t block) {
  if (block) emit_line(e, "%s += %s_tot;", acc, acc);
}

void kl_sum_runs(emit_ctx *e, const char *ctype, int n_src, const kl_sum_src *src, int n, const char *const *acc,
                 const char *const *term, int64_t len) {
  const char *part[KL_SUM_MAX], *s[KL_SUM_MAX], *j, *l;
  for (int k = 0; k < n; k++) part[k] = emit_fresh(e, "part"), s[k] = emit_fresh(e, "s");
  j = emit_fresh(e, "j");
  l = emit_fresh(e, "l");
  kl_block(e);
  for (int k = 0; k < n; k++) emit_line(e, "%s %s[%d] = {0}, %s = 0;", ctype, part[k], KL_SUM_LANES, s[k]);
  emit_line(e, "int64_t %s, %s;", j, l);
  emit_line(e, "for (%s = 0; %s + %d <= %lld; %s += %d)", j, j, KL_SUM_LANES, (long long)len, j, KL_SUM_LANES);
  emit_line(e, "  for (%s = 0; %s < %d; %s++) {", l, l, KL_SUM_LANES, l);
  for (int q = 0; q < n_src; q++) emit_line(e, "    const %s %s = %s[%s + %s];", ctype, src[q].name, src[q].row, j, l);
  for (int k = 0; k < n; k++) emit_line(e, "    %s[%s] += %s;", part[k], l, term[k]);
  emit_line(e, "  }");
  for (int k = 0; k < n; k++) emit_line(e, "for (%s = 0; %s < %d; %s++) %s += %s[%s];", l, l, KL_SUM_LANES, l, s[k], part[k], l);
  if (len % KL_SUM_LANES) {   /* the tail, from its constant start: a dead tail loop after the
                               * blocks made gcc -O2 warn of an iteration past the end */
    emit_line(e, "for (%s = %lld; %s < %lld; %s++) {", j, (long long)(len - len % KL_SUM_LANES), j, (long long)len, j);
    for (int q = 0; q < n_src; q++) emit_line(e, "  const %s %s = %s[%s];", ctype, src[q].name, src[q].row, j);
    for (int k = 0; k < n; k++) emit_line(e, "  %s += %s;", s[k], term[k]);
    emit_line(e, "}");
  }
  for (int k = 0; k < n; k++) emit_line(e, "%s += %s;", acc[k], s[k]);
  kl_end(e);
}

void kl_sum_run(emit_ctx *e, const char *ctype, const char *acc, const char *row, int64_t len, const char *term) {
  const kl_sum_src v = {"v", row};
  kl_sum_runs(e, ctype, 1, &v, 1, &acc, &term, len);
}

const char *kl_float_ctype(ir_dtype dt) { return dt == IR_F64 ? "double" : "float"; }

int kl_expand_typed(char *out, size_t n, const char *text, ir_dtype dt) {
  const char *T = kl_float_ctype(dt), *f = dt == IR_F64 ? "" : "f";
  size_t k = 0;
  for (const char *p = text; *p; p++) {
    char one[2] = {*p, 0};
    const char *put = one;
    if (p[0] == '$' && p[1] == 'T') put = T, p++;
    else if (*p == '@') put = f;
    size_t pl = strlen(put);
    if (k + pl >= n) return ir_error("kl_expand_typed: text too long");
    memcpy(out + k, put, pl);
    k += pl;
  }
  out[k] = 0;
  return 0;
}

int kl_line(emit_ctx *e, ir_dtype dt, const char *fmt, ...) {
  char raw[2048], out[2560];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t)len >= sizeof raw) return ir_error("kl_line: line too long");
  if (kl_expand_typed(out, sizeof out, raw, dt) < 0) return -1;
  emit_line(e, "%s", out);
  return 0;
}

int kl_helper_typed(emit_ctx *e, const char *key, const char *code, ir_dtype dt) {
  char k[96], text[8192];
  snprintf(k, sizeof k, "%s_%s", key, kl_float_ctype(dt));
  if (kl_expand_typed(text, sizeof text, code, dt) < 0) return -1;
  emit_helper(e, k, text);
  return 0;
}
