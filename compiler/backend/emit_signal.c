/*
 * emit_signal.c - C for the signal group, as plain loops.
 *
 * Windows compute in the output's float type (float for float32 and the
 * integer types).  DFT and STFT alone compute in double whatever their
 * type: their exact-zero bins come out of the cancellation of n products,
 * and float leaves ~|x| * 1e-7 * sqrt(n) there, far above ONNX's tests'
 * atol of 1e-7 (the reference runs numpy's FFT in double).  On a target
 * without a double FPU they cost soft-double calls; they usually fold to
 * constants before the backend sees them.
 *
 * Windows are a loop over cos(); DFT and STFT the direct O(n^2) sums with
 * the angle from (k*t mod n), as in the interpreter
 * (runtime/kernels/interp_signal.c states the formulas); MelWeightMatrix,
 * whose every input is a compile-time constant, is computed here and
 * written as a table.  These ops usually fold into constants before the
 * backend sees them (their shape-deciding inputs must be constant anyway);
 * the emitters are there for graphs compiled without folding.
 *
 * Outputs of float32, float64 and the integer types are written; float16
 * and bfloat16 outputs are refused (the interpreter handles them).
 */
#include "emit_signal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "kernels.h"

#define LL(v) ((long long)(v))
#define TWO_PI 6.283185307179586476925286766559

static int out_ok(const ir_node *n, ir_dtype t) {
  if (t == IR_F16 || t == IR_BF16)
    return op_fail(n, "the C backend does not write %s outputs for this op", ir_dtype_name(t));
  return 0;
}

/* A literal of the type dt's values are computed in (kl_float_ctype). */
static const char *tlit(char *buf, size_t cap, ir_dtype dt, double v) {
  return emit_literal(buf, cap, dt == IR_F64 ? IR_F64 : IR_F32, v);
}

/* ---- windows ------------------------------------------------------------------ */

static int window(emit_ctx *e, const ir_node *n, double a0, double a1, double a2) {
  const ir_tensor *y = n->out[0];
  int64_t size = y->shape[0];
  double N = (double)(ir_attr_int(n, "periodic", 1) ? size : size - 1);
  char b0[64], b1[64], b2[64], bn[64];
  if (out_ok(n, y->dtype) < 0) return -1;
  if (size == 0) return 0;
  const char *Y = emit_out(e, 0);
  ir_dtype dt = y->dtype;
  emit_line(e, "for (int64_t i = 0; i < %lld; i++) {", LL(size));
  if (N > 0)
    kl_line(e, dt, "  const $T t = %s * ($T)i / %s;", tlit(b0, sizeof b0, dt, TWO_PI), tlit(bn, sizeof bn, dt, N));
  else
    kl_line(e, dt, "  const $T t = 0 * ($T)i;");
  kl_line(e, dt, "  %s[i] = (%s)(%s - %s * cos@(t) + %s * cos@(2 * t));", Y, ir_dtype_ctype(y->dtype),
          tlit(b0, sizeof b0, dt, a0), tlit(b1, sizeof b1, dt, a1), tlit(b2, sizeof b2, dt, a2));
  emit_line(e, "}");
  return 0;
}

int emit_signal_HannWindow(emit_ctx *e, const ir_node *n) { return window(e, n, 0.5, 0.5, 0.0); }
int emit_signal_HammingWindow(emit_ctx *e, const ir_node *n) { return window(e, n, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
int emit_signal_BlackmanWindow(emit_ctx *e, const ir_node *n) { return window(e, n, 0.42, 0.5, 0.08); }

/* ---- DFT / STFT ------------------------------------------------------------------ */

/* Inside the loop over t: input element xi as xr + i*xm (xm 0 for a real
 * signal, cx 1) and the twiddle cr + i*ci = exp(-2*pi*i*k*t/len), or
 * exp(+...) when inverse. */
static void dft_term(emit_ctx *e, ir_dtype dt, const char *X, int64_t cx, int64_t len, int inverse) {
  char b[64], bl[64];
  kl_line(e, dt, "  const $T xr = ($T)%s[xi];", X);
  if (cx == 2) kl_line(e, dt, "  const $T xm = ($T)%s[xi + 1];", X);
  else kl_line(e, dt, "  const $T xm = 0;");
  kl_line(e, dt, "  const $T ang = %s * ($T)((k * t) %% %lld) / %s;", tlit(b, sizeof b, dt, TWO_PI), LL(len),
          tlit(bl, sizeof bl, dt, (double)len));   /* (k*t) mod len: the angle stays small and exact */
  kl_line(e, dt, "  const $T cr = cos@(ang), ci = %ssin@(ang);", inverse ? "" : "-");
}

/* After the loop over t: sr + i*si (each divided by the literal scale,
 * when given) into the pair at element yi of Y, then the three loops
 * around it closed. */
static void dft_store(emit_ctx *e, const char *Y, const char *T, const char *yi, const char *scale) {
  emit_line(e, "{");
  emit_line(e, "  const int64_t yi = %s;", yi);
  if (scale) {
    emit_line(e, "  %s[yi] = (%s)(sr / %s);", Y, T, scale);
    emit_line(e, "  %s[yi + 1] = (%s)(si / %s);", Y, T, scale);
  } else {
    emit_line(e, "  %s[yi] = (%s)sr;", Y, T);
    emit_line(e, "  %s[yi + 1] = (%s)si;", Y, T);
  }
  emit_line(e, "}");
  emit_indent(e, -3);
  emit_line(e, "    }");
}

int emit_signal_DFT(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int axis = (int)ir_attr_int(n, "_axis", 1), inverse = (int)ir_attr_int(n, "inverse", 0);
  int64_t len = ir_attr_int(n, "_dft_length", x->shape[axis]), L = x->shape[axis], olen = y->shape[axis];
  int64_t cx = x->shape[x->rank - 1], outer = ir_numel_dims(axis, x->shape);
  int64_t inner = ir_numel_dims(x->rank - axis - 2, x->shape + axis + 1);
  char bl[64], yi[128];
  if (out_ok(n, y->dtype) < 0) return -1;
  if (ir_numel(y) == 0) return 0;
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(y->dtype);
  emit_line(e, "for (int64_t o = 0; o < %lld; o++)", LL(outer));
  emit_line(e, "  for (int64_t k = 0; k < %lld; k++)", LL(olen));
  emit_line(e, "    for (int64_t j = 0; j < %lld; j++) {", LL(inner));
  emit_indent(e, 3);
  ir_dtype dt = IR_F64;   /* see the top of the file */
  int64_t nt = len < L ? len : L, blk = kl_sum_block(dt, nt);
  kl_sum_decl(e, kl_float_ctype(dt), "sr", "0", blk);
  kl_sum_decl(e, kl_float_ctype(dt), "si", "0", blk);
  emit_line(e, "for (int64_t t = 0; t < %lld; t++) {", LL(nt));
  emit_line(e, "  const int64_t xi = (o * %lld + j) * %lld + t * %lld;", LL(L * inner), LL(cx), LL(inner * cx));
  dft_term(e, dt, X, cx, len, inverse);
  emit_line(e, "  sr += xr * cr - xm * ci;");
  emit_line(e, "  si += xr * ci + xm * cr;");
  kl_sum_step(e, "sr", blk);
  kl_sum_step(e, "si", blk);
  emit_line(e, "}");
  kl_sum_done(e, "sr", blk);
  kl_sum_done(e, "si", blk);
  snprintf(yi, sizeof yi, "((o * %lld + k) * %lld + j) * 2", LL(olen), LL(inner));
  dft_store(e, Y, T, yi, inverse ? tlit(bl, sizeof bl, dt, (double)len) : NULL);
  return 0;
}

int emit_signal_STFT(emit_ctx *e, const ir_node *n) {
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int64_t step = ir_attr_int(n, "_frame_step", 1), flen = ir_attr_int(n, "_frame_length", 1);
  int64_t L = x->shape[1], cx = x->shape[2], frames = y->shape[1], bins = y->shape[2];
  char yi[128];
  if (out_ok(n, y->dtype) < 0) return -1;
  if (ir_numel(y) == 0) return 0;
  const char *X = emit_in(e, 0), *Y = emit_out(e, 0), *T = ir_dtype_ctype(y->dtype);
  const char *W = n->n_in > 2 && n->in[2] ? emit_in(e, 2) : NULL;
  emit_line(e, "for (int64_t b = 0; b < %lld; b++)", LL(x->shape[0]));
  emit_line(e, "  for (int64_t f = 0; f < %lld; f++)", LL(frames));
  emit_line(e, "    for (int64_t k = 0; k < %lld; k++) {", LL(bins));
  emit_indent(e, 3);
  ir_dtype dt = IR_F64;   /* see the top of the file */
  int64_t blk = kl_sum_block(dt, flen);
  kl_sum_decl(e, kl_float_ctype(dt), "sr", "0", blk);
  kl_sum_decl(e, kl_float_ctype(dt), "si", "0", blk);
  emit_line(e, "for (int64_t t = 0; t < %lld; t++) {", LL(flen));
  emit_line(e, "  const int64_t xi = (b * %lld + f * %lld + t) * %lld;", LL(L), LL(step), LL(cx));
  if (W) kl_line(e, dt, "  const $T w = ($T)%s[t];", W);
  else kl_line(e, dt, "  const $T w = 1;");
  dft_term(e, dt, X, cx, flen, 0);
  emit_line(e, "  sr += w * (xr * cr - xm * ci);");
  emit_line(e, "  si += w * (xr * ci + xm * cr);");
  kl_sum_step(e, "sr", blk);
  kl_sum_step(e, "si", blk);
  emit_line(e, "}");
  kl_sum_done(e, "sr", blk);
  kl_sum_done(e, "si", blk);
  snprintf(yi, sizeof yi, "((b * %lld + f) * %lld + k) * 2", LL(frames), LL(bins));
  dft_store(e, Y, T, yi, NULL);
  return 0;
}

/* ---- MelWeightMatrix ----------------------------------------------------------- */

/* Triangle filters on the FFT bins (see interp_signal.c for the recipe),
 * computed here from the constant inputs into w[nspec * nmel]. */
static void mel_table(double *w, int64_t nspec, int64_t nmel, int64_t dft, int64_t rate, double lo, double hi) {
  double mlo = 2595.0 * log10(1.0 + lo / 700.0), mhi = 2595.0 * log10(1.0 + hi / 700.0);
  double step = (mhi - mlo) / (double)(nmel + 2);
  for (int64_t i = 0; i < nspec * nmel; i++) w[i] = 0.0;
  for (int64_t m = 0; m < nmel; m++) {
    int64_t p[3];
    for (int k = 0; k < 3; k++)
      p[k] = (int64_t)floor((double)(dft + 1) * 700.0 * (pow(10.0, ((double)(m + k) * step + mlo) / 2595.0) - 1.0) /
                            (double)rate);
    for (int64_t j = p[0]; j <= p[1]; j++)   /* rising edge, 1 at the center */
      if (j >= 0 && j < nspec) w[j * nmel + m] = p[1] == p[0] ? 1.0 : (double)(j - p[0]) / (double)(p[1] - p[0]);
    for (int64_t j = p[1]; j < p[2]; j++)    /* falling edge */
      if (j >= 0 && j < nspec) w[j * nmel + m] = (double)(p[2] - j) / (double)(p[2] - p[1]);
  }
}

int emit_signal_MelWeightMatrix(emit_ctx *e, const ir_node *n) {
  const ir_tensor *y = n->out[0];
  char buf[64];
  if (out_ok(n, y->dtype) < 0) return -1;
  for (int i = 0; i < 5; i++)
    if (!n->in[i]->data) return op_fail(n, "input %d ('%s') must be a compile-time constant", i, n->in[i]->name);
  int64_t nspec = y->shape[0], nmel = y->shape[1], total = nspec * nmel;
  if (total == 0) return 0;
  double *w = ir_alloc(sizeof(double) * (size_t)total);
  mel_table(w, nspec, nmel, ir_const_i64(n->in[1], 0), ir_const_i64(n->in[2], 0), ir_const_f64(n->in[3], 0),
            ir_const_f64(n->in[4], 0));
  const char *Y = emit_out(e, 0), *T = ir_dtype_ctype(y->dtype);
  emit_line(e, "static const %s mel[%lld] = {", T, LL(total));
  for (int64_t i = 0; i < total; i++) {
    if (ir_dtype_is_float(y->dtype)) emit_literal(buf, sizeof buf, y->dtype, w[i]);
    else emit_literal_i64(buf, sizeof buf, y->dtype, (int64_t)w[i]);
    emit_line(e, "  %s%s", buf, i + 1 < total ? "," : "");
  }
  emit_line(e, "};");
  emit_line(e, "memcpy(%s, mel, sizeof mel);", Y);
  free(w);
  return 0;
}
