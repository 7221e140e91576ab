/*
 * interp_signal.c - reference kernels of the signal group.
 *
 * Plain double arithmetic throughout.  The DFT is the O(n^2) sum
 *     X[k] = sum_t x[t] * exp(-+2*pi*i * k*t / n)
 * with the angle taken from (k*t mod n) so that it stays accurate for long
 * transforms; the inverse divides by n.  Geometry resolved by
 * compiler/ops/ops_signal.c arrives as the node attributes "_axis",
 * "_dft_length" (DFT) and "_frame_step", "_frame_length" (STFT).
 *
 * Windows (n = 0 .. size-1, N = size when periodic, size - 1 otherwise):
 *     Hann      0.5 - 0.5 cos(2 pi n / N)
 *     Hamming   25/46 - 21/46 cos(2 pi n / N)
 *     Blackman  0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
 * A symmetric window of size 1 (N = 0) is evaluated at angle 0.
 *
 * MelWeightMatrix follows the ONNX reference: num_mel_bins + 2 points
 * evenly spaced in mel (mel(f) = 2595 log10(1 + f/700)) over
 * [lower, upper], with the step the range divided by num_mel_bins + 2,
 * mapped back to hertz and to FFT bins floor((dft_length + 1) f / rate);
 * triangle i rises from bin[i] to 1 at bin[i+1] and falls to bin[i+2].
 */
#include "interp_signal.h"

#include <math.h>
#include <string.h>

#include "../../compiler/ops/op.h"
#include "kutil.h"

#define TWO_PI 6.283185307179586476925286766559

/* ---- windows ------------------------------------------------------------------ */

static int window(const ir_node *n, void *const *out, double a0, double a1, double a2) {
  const ir_tensor *y = n->out[0];
  int64_t size = y->shape[0];
  double N = (double)(ir_attr_int(n, "periodic", 1) ? size : size - 1);
  for (int64_t i = 0; i < size; i++) {
    double t = N > 0 ? TWO_PI * (double)i / N : 0.0;
    kstore_f(y->dtype, out[0], i, a0 - a1 * cos(t) + a2 * cos(2.0 * t));
  }
  return 0;
}

int interp_signal_HannWindow(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c, (void)in;
  return window(n, out, 0.5, 0.5, 0.0);
}

int interp_signal_HammingWindow(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c, (void)in;
  return window(n, out, 25.0 / 46.0, 21.0 / 46.0, 0.0);
}

int interp_signal_BlackmanWindow(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c, (void)in;
  return window(n, out, 0.42, 0.5, 0.08);
}

/* ---- DFT / STFT ------------------------------------------------------------------ */

/* Bin k of the length-`len` DFT (sign -1 forward, +1 inverse) of the
 * sequence x[base + t*tstride] (re, then im when x is complex), t < avail
 * (zero beyond), each term weighted by window wt[t] when given. */
static void bin(double *re, double *im, int64_t k, int64_t len, int64_t avail, int sign, const ir_tensor *x,
                const void *xp, int64_t base, int64_t tstride, const ir_tensor *wt, const void *wp) {
  int complex = x->shape[x->rank - 1] == 2;
  double sr = 0, si = 0;
  for (int64_t t = 0; t < len && t < avail; t++) {
    int64_t xi = base + t * tstride;
    double xr = kload_f(x->dtype, xp, xi), xim = complex ? kload_f(x->dtype, xp, xi + 1) : 0.0;
    double w = wt ? kload_f(wt->dtype, wp, t) : 1.0;
    double ang = TWO_PI * (double)((k * t) % len) / (double)len;
    double cr = cos(ang), ci = sign * sin(ang);
    sr += w * (xr * cr - xim * ci);
    si += w * (xr * ci + xim * cr);
  }
  *re = sr;
  *im = si;
}

int interp_signal_DFT(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  const ir_tensor *x = n->in[0], *y = n->out[0];
  int axis = (int)ir_attr_int(n, "_axis", 1), inverse = (int)ir_attr_int(n, "inverse", 0);
  int64_t len = ir_attr_int(n, "_dft_length", x->shape[axis]), L = x->shape[axis], olen = y->shape[axis];
  int64_t cx = x->shape[x->rank - 1], outer = ir_numel_dims(axis, x->shape);
  int64_t inner = ir_numel_dims(x->rank - axis - 2, x->shape + axis + 1);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < olen; k++)
      for (int64_t j = 0; j < inner; j++) {
        double re, im;
        bin(&re, &im, k, len, L, inverse ? 1 : -1, x, in[0], (o * L * inner + j) * cx, inner * cx, NULL, NULL);
        if (inverse) re /= (double)len, im /= (double)len;
        int64_t yi = ((o * olen + k) * inner + j) * 2;
        kstore_f(y->dtype, out[0], yi, re);
        kstore_f(y->dtype, out[0], yi + 1, im);
      }
  return 0;
}

int interp_signal_STFT(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  const ir_tensor *x = n->in[0], *y = n->out[0], *w = n->n_in > 2 ? n->in[2] : NULL;
  int64_t step = ir_attr_int(n, "_frame_step", 1), flen = ir_attr_int(n, "_frame_length", 1);
  int64_t L = x->shape[1], cx = x->shape[2], frames = y->shape[1], bins = y->shape[2];
  for (int64_t b = 0; b < x->shape[0]; b++)
    for (int64_t f = 0; f < frames; f++)
      for (int64_t k = 0; k < bins; k++) {
        double re, im;
        bin(&re, &im, k, flen, flen, -1, x, in[0], (b * L + f * step) * cx, cx, w, w ? in[2] : NULL);
        int64_t yi = ((b * frames + f) * bins + k) * 2;
        kstore_f(y->dtype, out[0], yi, re);
        kstore_f(y->dtype, out[0], yi + 1, im);
      }
  return 0;
}

/* ---- MelWeightMatrix ----------------------------------------------------------- */

int interp_signal_MelWeightMatrix(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  (void)c;
  const ir_tensor *y = n->out[0];
  int64_t nmel = kload_i(n->in[0]->dtype, in[0], 0), dft = kload_i(n->in[1]->dtype, in[1], 0);
  int64_t rate = kload_i(n->in[2]->dtype, in[2], 0), nspec = y->shape[0];
  double lo = kload_f(n->in[3]->dtype, in[3], 0), hi = kload_f(n->in[4]->dtype, in[4], 0);
  double mlo = 2595.0 * log10(1.0 + lo / 700.0), mhi = 2595.0 * log10(1.0 + hi / 700.0);
  double step = (mhi - mlo) / (double)(nmel + 2);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) kstore_f(y->dtype, out[0], i, 0.0);
  int64_t pts[3];
  for (int64_t m = 0; m < nmel; m++) {
    for (int p = 0; p < 3; p++) {
      double hz = 700.0 * (pow(10.0, ((double)(m + p) * step + mlo) / 2595.0) - 1.0);
      pts[p] = (int64_t)floor((double)(dft + 1) * hz / (double)rate);
    }
    int64_t left = pts[0], center = pts[1], right = pts[2];
    if (center == left) {
      if (center >= 0 && center < nspec) kstore_f(y->dtype, out[0], center * nmel + m, 1.0);
    } else {
      for (int64_t j = left; j <= center; j++)
        if (j >= 0 && j < nspec)
          kstore_f(y->dtype, out[0], j * nmel + m, (double)(j - left) / (double)(center - left));
    }
    for (int64_t j = center; j < right; j++)
      if (j >= 0 && j < nspec)
        kstore_f(y->dtype, out[0], j * nmel + m, (double)(right - j) / (double)(right - center));
  }
  return 0;
}
