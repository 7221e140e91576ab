/*
 * emit_train.c - C for the optimizer ops: ONNX's (ai.onnx.preview.training)
 * and PyTorch's (ai.modelc SGD and AdamW, at the end of the file, whose
 * bias corrections are computed once per step in double before the loop).
 *
 * Everything computes in float, or in double when R or an optimized tensor
 * is float64 (opt_dtype).  R and T are read once at run time; the scalar
 * factors that
 * depend only on them (Adagrad's decayed rate, Adam's bias-corrected rate,
 * Momentum's first-step beta) are computed before the loops.  Then one flat
 * loop per optimized tensor loads X, G and the state, updates and
 * stores every output of that element.  Attributes become hex literals, so
 * the C computes with exactly the values the interpreter uses.
 */
#include "emit_train.h"

#include <string.h>

#include "../ops/op.h"
#include "kernels.h"

static const char *lit(char *buf, size_t n, ir_dtype dt, double v) { return emit_literal(buf, n, dt, v); }

/* The type the update computes in: double if R or any optimized tensor is
 * float64, else float. */
static ir_dtype opt_dtype(const ir_node *n) {
  int k = (int)ir_attr_int(n, "_k", 1);
  if (n->in[0]->dtype == IR_F64) return IR_F64;
  for (int i = 0; i < k; i++)
    if (n->in[2 + i]->dtype == IR_F64) return IR_F64;
  return IR_F32;
}

/* Opens the block, loads R into `r` and T into `t`; -1 for a dtype the
 * loops cannot write. */
static int open_opt(emit_ctx *e, const ir_node *n) {
  int k = (int)ir_attr_int(n, "_k", 1);
  for (int i = 0; i < k; i++)
    if (n->in[2 + i]->dtype != IR_F32 && n->in[2 + i]->dtype != IR_F64)
      return op_fail(n, "the C backend: %s is not supported", ir_dtype_name(n->in[2 + i]->dtype));
  kl_block(e);
  kl_line(e, opt_dtype(n), "const $T r = ($T)%s[0];", emit_in(e, 0));
  emit_line(e, "const int64_t t = %s[0];", emit_in(e, 1));
  emit_line(e, "(void)t;");
  return 0;
}

/* Opens the element loop of tensor i and loads x = X[e], g = G[e] + nc*x. */
static const char *open_elem(emit_ctx *e, const ir_node *n, ir_dtype dt, int i, double nc) {
  char b[64];
  int k = (int)ir_attr_int(n, "_k", 1);
  const char *v = kl_for(e, ir_numel(n->in[2 + i]));
  kl_line(e, dt, "const $T x = ($T)%s[%s];", emit_in(e, 2 + i), v);
  kl_line(e, dt, "const $T g = %s * x + ($T)%s[%s];", lit(b, sizeof b, dt, nc), emit_in(e, 2 + k + i), v);
  return v;
}

int emit_train_Adagrad(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = opt_dtype(n);
  char nc[64], eps[64], df[64];
  int k = (int)ir_attr_int(n, "_k", 1);
  double ncv = ir_attr_float(n, "norm_coefficient", 0);
  lit(nc, sizeof nc, dt, ncv);
  lit(eps, sizeof eps, dt, ir_attr_float(n, "epsilon", 1e-6));
  lit(df, sizeof df, dt, ir_attr_float(n, "decay_factor", 0));
  if (open_opt(e, n) < 0) return -1;
  kl_line(e, dt, "const $T ra = r / (1.0@ + ($T)t * %s);", df);
  for (int i = 0; i < k; i++) {
    const char *ct = ir_dtype_ctype(n->in[2 + i]->dtype);
    const char *v = open_elem(e, n, dt, i, ncv);
    kl_line(e, dt, "const $T h = ($T)%s[%s] + g * g;", emit_in(e, 2 + 2 * k + i), v);
    kl_line(e, dt, "%s[%s] = (%s)(x - ra * g / (sqrt@(h) + %s));", emit_out(e, i), v, ct, eps);
    emit_line(e, "%s[%s] = (%s)h;", emit_out(e, k + i), v, ct);
    kl_end(e);
  }
  kl_end(e);
  return 0;
}

int emit_train_Adam(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = opt_dtype(n);
  char a[64], b[64], eps[64], post[64];
  int k = (int)ir_attr_int(n, "_k", 1);
  double ncv = ir_attr_float(n, "norm_coefficient", 0);
  lit(a, sizeof a, dt, ir_attr_float(n, "alpha", 0.9));
  lit(b, sizeof b, dt, ir_attr_float(n, "beta", 0.999));
  lit(eps, sizeof eps, dt, ir_attr_float(n, "epsilon", 1e-6));
  lit(post, sizeof post, dt, ir_attr_float(n, "norm_coefficient_post", 0));
  if (open_opt(e, n) < 0) return -1;
  kl_line(e, dt, "const $T ra = t > 0 ? r * sqrt@(1.0@ - pow@(%s, ($T)t)) / (1.0@ - pow@(%s, ($T)t)) : r;", b, a);
  for (int i = 0; i < k; i++) {
    const char *ct = ir_dtype_ctype(n->in[2 + i]->dtype);
    const char *v = open_elem(e, n, dt, i, ncv);
    kl_line(e, dt, "const $T m = %s * ($T)%s[%s] + (1.0@ - %s) * g;", a, emit_in(e, 2 + 2 * k + i), v, a);
    kl_line(e, dt, "const $T h = %s * ($T)%s[%s] + (1.0@ - %s) * g * g;", b, emit_in(e, 2 + 3 * k + i), v, b);
    kl_line(e, dt, "%s[%s] = (%s)((1.0@ - %s) * (x - ra * m / (sqrt@(h) + %s)));", emit_out(e, i), v, ct, post, eps);
    emit_line(e, "%s[%s] = (%s)m;", emit_out(e, k + i), v, ct);
    emit_line(e, "%s[%s] = (%s)h;", emit_out(e, 2 * k + i), v, ct);
    kl_end(e);
  }
  kl_end(e);
  return 0;
}

int emit_train_Momentum(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = opt_dtype(n);
  char a[64], b[64];
  int k = (int)ir_attr_int(n, "_k", 1);
  int nesterov = strcmp(ir_attr_string(n, "mode", "standard"), "nesterov") == 0;
  double ncv = ir_attr_float(n, "norm_coefficient", 0);
  lit(a, sizeof a, dt, ir_attr_float(n, "alpha", 0));
  lit(b, sizeof b, dt, ir_attr_float(n, "beta", 0));
  if (open_opt(e, n) < 0) return -1;
  kl_line(e, dt, "const $T beta = t > 0 ? %s : 1.0@;   /* the first step takes the whole gradient */", b);
  for (int i = 0; i < k; i++) {
    const char *ct = ir_dtype_ctype(n->in[2 + i]->dtype);
    const char *v = open_elem(e, n, dt, i, ncv);
    kl_line(e, dt, "const $T m = %s * ($T)%s[%s] + beta * g;", a, emit_in(e, 2 + 2 * k + i), v);
    if (nesterov) emit_line(e, "%s[%s] = (%s)(x - r * (g + %s * m));", emit_out(e, i), v, ct, a);
    else emit_line(e, "%s[%s] = (%s)(x - r * m);", emit_out(e, i), v, ct);
    emit_line(e, "%s[%s] = (%s)m;", emit_out(e, k + i), v, ct);
    kl_end(e);
  }
  kl_end(e);
  return 0;
}

/* ---- ai.modelc: PyTorch's optimizers, one flat loop over the parameter ---- */

int emit_train_SGD(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = n->in[0]->dtype;
  char lr[64], mom[64], wd[64];
  double momv = ir_attr_float(n, "momentum", 0);
  const char *ct = ir_dtype_ctype(dt);
  if (dt != IR_F32 && dt != IR_F64) return op_fail(n, "the C backend: %s is not supported", ir_dtype_name(dt));
  lit(lr, sizeof lr, dt, ir_attr_float(n, "lr", 0));
  lit(mom, sizeof mom, dt, momv);
  lit(wd, sizeof wd, dt, ir_attr_float(n, "weight_decay", 0));
  const char *v;
  if (ir_attr_int(n, "_outer", 0)) {   /* G[m][n] = in1[m] * in3[n], row by row */
    int64_t cols = n->in[0]->shape[1];
    const char *m = kl_for(e, n->in[0]->shape[0]), *c = kl_for(e, cols);
    v = emit_fresh(e, "i");
    emit_line(e, "const int64_t %s = %s * %lld + %s;", v, m, (long long)cols, c);
    kl_line(e, dt, "const $T p = %s[%s];", emit_in(e, 0), v);
    kl_line(e, dt, "$T g = ($T)(%s[%s] * %s[%s]) + %s * p;", emit_in(e, 1), m, emit_in(e, 3), c, wd);
  } else {
    v = kl_for(e, ir_numel(n->in[0]));
    kl_line(e, dt, "const $T p = %s[%s];", emit_in(e, 0), v);
    kl_line(e, dt, "$T g = %s[%s] + %s * p;", emit_in(e, 1), v, wd);
  }
  if (momv != 0) {
    kl_line(e, dt, "const $T b = %s * %s[%s] + g;   /* the buffer starts at 0: b = g on step 1 */", mom,
            emit_in(e, 2), v);
    if (ir_attr_int(n, "nesterov", 0)) kl_line(e, dt, "g = g + %s * b;", mom);
    else emit_line(e, "g = b;");
    emit_line(e, "%s[%s] = (%s)b;", emit_out(e, 1), v, ct);
  }
  emit_line(e, "%s[%s] = (%s)(p - %s * g);", emit_out(e, 0), v, ct, lr);
  if (ir_attr_int(n, "_outer", 0)) kl_end(e);
  kl_end(e);
  return 0;
}

int emit_train_AdamW(emit_ctx *e, const ir_node *n) {
  ir_dtype dt = n->in[0]->dtype;
  char lr[64], b1[64], b2[64], eps[64], wd[64], b1d[64], b2d[64], lrd[64];
  const char *ct = ir_dtype_ctype(dt);
  if (dt != IR_F32 && dt != IR_F64) return op_fail(n, "the C backend: %s is not supported", ir_dtype_name(dt));
  double lrv = ir_attr_float(n, "lr", 0), wdv = ir_attr_float(n, "weight_decay", 0);
  lit(lr, sizeof lr, dt, lrv);
  lit(b1, sizeof b1, dt, ir_attr_float(n, "beta1", 0.9));
  lit(b2, sizeof b2, dt, ir_attr_float(n, "beta2", 0.999));
  lit(eps, sizeof eps, dt, ir_attr_float(n, "eps", 1e-8));
  lit(wd, sizeof wd, dt, wdv);
  lit(b1d, sizeof b1d, IR_F64, ir_attr_float(n, "beta1", 0.9));
  lit(b2d, sizeof b2d, IR_F64, ir_attr_float(n, "beta2", 0.999));
  lit(lrd, sizeof lrd, IR_F64, lrv);
  kl_block(e);
  /* the bias corrections of step t, once, in double */
  emit_line(e, "const double t = (double)%s[0];", emit_in(e, 4));
  kl_line(e, dt, "const $T step = ($T)(%s / (1.0 - pow(%s, t)));", lrd, b1d);
  kl_line(e, dt, "const $T bc2 = ($T)(1.0 - pow(%s, t));", b2d);
  const char *v = kl_for(e, ir_numel(n->in[0]));
  kl_line(e, dt, "$T p = %s[%s];", emit_in(e, 0), v);
  if (ir_attr_int(n, "decoupled", 0)) {
    kl_line(e, dt, "const $T g = %s[%s];", emit_in(e, 1), v);
    kl_line(e, dt, "p = p * (1.0@ - %s * %s);", lr, wd);
  } else {
    kl_line(e, dt, "const $T g = %s[%s] + %s * p;", emit_in(e, 1), v, wd);
  }
  kl_line(e, dt, "const $T m = %s * %s[%s] + (1.0@ - %s) * g;", b1, emit_in(e, 2), v, b1);
  kl_line(e, dt, "const $T s = %s * %s[%s] + (1.0@ - %s) * g * g;", b2, emit_in(e, 3), v, b2);
  kl_line(e, dt, "%s[%s] = (%s)(p - step * m / (sqrt@(s / bc2) + %s));", emit_out(e, 0), v, ct, eps);
  emit_line(e, "%s[%s] = (%s)m;", emit_out(e, 1), v, ct);
  emit_line(e, "%s[%s] = (%s)s;", emit_out(e, 2), v, ct);
  kl_end(e);
  kl_end(e);
  return 0;
}
