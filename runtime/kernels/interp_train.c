/*
 * interp_train.c - reference kernels of the optimizer ops, written straight
 * from the pseudo code of the ONNX specs, in double.  Input 2 + g*k + i is
 * group g (X, G, then V and/or H) of tensor i, output g*k + i its update
 * (ops_train.c; k is the "_k" attribute).  SGD and AdamW (ai.modelc) are
 * written from PyTorch's documented update rules, one parameter each.
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

/* ai.modelc SGD: torch.optim.SGD with dampening 0, as its documentation
 * writes it (ops_train.c). */
int interp_train_SGD(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  double lr = ir_attr_float(n, "lr", 0), mom = ir_attr_float(n, "momentum", 0);
  double wd = ir_attr_float(n, "weight_decay", 0);
  int nesterov = (int)ir_attr_int(n, "nesterov", 0);
  ir_dtype dt = n->in[0]->dtype;
  int64_t cols = n->in[0]->rank == 2 ? n->in[0]->shape[1] : 1;
  int outer = ir_attr_int(n, "_outer", 0) != 0;   /* G[m][n] = in1[m] * in3[n], rounded once as stored */
  (void)c;
  for (int64_t e = 0; e < ir_numel(n->in[0]); e++) {
    double gv = outer ? kload_f(dt, in[1], e / cols) * kload_f(dt, in[3], e % cols) : kload_f(dt, in[1], e);
    if (outer) gv = dt == IR_F32 ? (double)(float)gv : gv;
    double p = kload_f(dt, in[0], e), g = gv + wd * p;
    if (mom != 0) {
      double b = mom * kload_f(dt, in[2], e) + g;   /* the buffer starts at 0: b = g on step 1 */
      g = nesterov ? g + mom * b : b;
      kstore_f(dt, out[1], e, b);
    }
    kstore_f(dt, out[0], e, p - lr * g);
  }
  return 0;
}

/* ai.modelc AdamW: torch.optim.Adam (decoupled 0) or AdamW (decoupled 1). */
int interp_train_AdamW(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  double lr = ir_attr_float(n, "lr", 0), b1 = ir_attr_float(n, "beta1", 0.9), b2 = ir_attr_float(n, "beta2", 0.999);
  double eps = ir_attr_float(n, "eps", 1e-8), wd = ir_attr_float(n, "weight_decay", 0);
  int decoupled = (int)ir_attr_int(n, "decoupled", 0);
  double t = (double)kload_i(n->in[4]->dtype, in[4], 0);
  double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
  ir_dtype dt = n->in[0]->dtype;
  (void)c;
  for (int64_t e = 0; e < ir_numel(n->in[0]); e++) {
    double p = kload_f(dt, in[0], e), g = kload_f(dt, in[1], e);
    if (decoupled) p *= 1.0 - lr * wd;
    else g += wd * p;
    double m = b1 * kload_f(dt, in[2], e) + (1.0 - b1) * g;
    double v = b2 * kload_f(dt, in[3], e) + (1.0 - b2) * g * g;
    kstore_f(dt, out[0], e, p - lr / bc1 * m / (sqrt(v / bc2) + eps));
    kstore_f(dt, out[1], e, m);
    kstore_f(dt, out[2], e, v);
  }
  return 0;
}
