/*
 * interp_train.c - reference kernels of the optimizer ops, written straight
 * from the pseudo code of the ONNX specs, in double.  Input 2 + g*k + i is
 * group g (X, G, then V and/or H) of tensor i, output g*k + i its update
 * (ops_train.c; k is the "_k" attribute).
 */
#include "interp_train.h"

#include <math.h>

#include "kutil.h"

/* R and T, and the element count and dtype of tensor i. */
static double rate(const ir_node *n, const void *const *in) { return kload_f(n->in[0]->dtype, in[0], 0); }
static int64_t count(const ir_node *n, const void *const *in) { return kload_i(n->in[1]->dtype, in[1], 0); }

int interp_train_Adagrad(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  int k = (int)ir_attr_int(n, "_k", 1);
  double nc = ir_attr_float(n, "norm_coefficient", 0), eps = ir_attr_float(n, "epsilon", 1e-6);
  double r = rate(n, in) / (1.0 + (double)count(n, in) * ir_attr_float(n, "decay_factor", 0));
  (void)c;
  for (int i = 0; i < k; i++) {
    ir_dtype dt = n->in[2 + i]->dtype;
    const void *X = in[2 + i], *G = in[2 + k + i], *H = in[2 + 2 * k + i];
    for (int64_t e = 0; e < ir_numel(n->in[2 + i]); e++) {
      double x = kload_f(dt, X, e);
      double g = nc * x + kload_f(dt, G, e);
      double h = kload_f(dt, H, e) + g * g;
      kstore_f(dt, out[i], e, x - r * g / (sqrt(h) + eps));
      kstore_f(dt, out[k + i], e, h);
    }
  }
  return 0;
}

int interp_train_Adam(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  int k = (int)ir_attr_int(n, "_k", 1);
  double nc = ir_attr_float(n, "norm_coefficient", 0), post = ir_attr_float(n, "norm_coefficient_post", 0);
  double alpha = ir_attr_float(n, "alpha", 0.9), beta = ir_attr_float(n, "beta", 0.999);
  double eps = ir_attr_float(n, "epsilon", 1e-6), r = rate(n, in);
  int64_t t = count(n, in);
  (void)c;
  if (t > 0) r = r * sqrt(1.0 - pow(beta, (double)t)) / (1.0 - pow(alpha, (double)t));
  for (int i = 0; i < k; i++) {
    ir_dtype dt = n->in[2 + i]->dtype;
    const void *X = in[2 + i], *G = in[2 + k + i], *V = in[2 + 2 * k + i], *H = in[2 + 3 * k + i];
    for (int64_t e = 0; e < ir_numel(n->in[2 + i]); e++) {
      double x = kload_f(dt, X, e);
      double g = nc * x + kload_f(dt, G, e);
      double v = alpha * kload_f(dt, V, e) + (1.0 - alpha) * g;
      double h = beta * kload_f(dt, H, e) + (1.0 - beta) * g * g;
      double xn = x - r * v / (sqrt(h) + eps);
      kstore_f(dt, out[i], e, (1.0 - post) * xn);
      kstore_f(dt, out[k + i], e, v);
      kstore_f(dt, out[2 * k + i], e, h);
    }
  }
  return 0;
}

int interp_train_Momentum(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  int k = (int)ir_attr_int(n, "_k", 1);
  int nesterov = ir_attr_string(n, "mode", "standard")[0] == 'n';
  double nc = ir_attr_float(n, "norm_coefficient", 0), alpha = ir_attr_float(n, "alpha", 0);
  double r = rate(n, in), beta = count(n, in) > 0 ? ir_attr_float(n, "beta", 0) : 1.0;
  (void)c;
  for (int i = 0; i < k; i++) {
    ir_dtype dt = n->in[2 + i]->dtype;
    const void *X = in[2 + i], *G = in[2 + k + i], *V = in[2 + 2 * k + i];
    for (int64_t e = 0; e < ir_numel(n->in[2 + i]); e++) {
      double x = kload_f(dt, X, e);
      double g = nc * x + kload_f(dt, G, e);
      double v = alpha * kload_f(dt, V, e) + beta * g;
      kstore_f(dt, out[i], e, nesterov ? x - r * (g + alpha * v) : x - r * v);
      kstore_f(dt, out[k + i], e, v);
    }
  }
  return 0;
}
