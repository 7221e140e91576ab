/*
 * test_grad_ops.c - gradient builders of the elementwise activations and
 * math (grad_elementwise.c), the shape and reduction ops (grad_shape.c)
 * and the normalizations (grad_norm.c), each checked against central
 * finite differences of its forward graph in the float64 interpreter.
 *
 * A case is a forward body over float64 inputs x_0..x_k (each with its
 * own shape and value range, chosen away from kinks).  The harness runs
 * the forward once to learn y's shape, then builds L = sum(y * W) with W a
 * fixed non-uniform weight (so a gradient that lands on the wrong element,
 * as a wrong permutation would, shows), differentiates L with ONNX's
 * Gradient op (expanded by the pass pipeline into the builders' nodes),
 * and compares every dL/dx_i[e] with (L(x + h e) - L(x - h e)) / 2h on the
 * forward graph.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/passes.h"
#include "runtime/interp.h"
#include "optest.h"

#define MAXX 5

typedef ir_tensor *(*body_fn)(ir_graph *g, ir_tensor *const *x, int variant);

typedef struct gspec {
  body_fn body;
  int variant;
  int n_x;
  int rank[MAXX];
  int64_t dims[MAXX][IR_MAX_RANK];
  double lo[MAXX], hi[MAXX];   /* input i's values are uniform in [lo, hi) */
  double tol;                  /* 0: 1e-6 (relative, + 1e-6 absolute) */
} gspec;

/* ---- building bodies -------------------------------------------------------- */

static ir_node *mk(ir_graph *g, const char *op, int n_in, ir_tensor *const *in, int n_out) {
  return ot_node(g, op, 18, n_in, in, n_out);
}

static ir_tensor *fin(ir_node *n) {
  if (op_validate(n) < 0) fail_msg("%s", ir_last_error());
  return n->out[0];
}

static ir_tensor *op1(ir_graph *g, const char *op, ir_tensor *a) { return fin(mk(g, op, 1, &a, 1)); }
static ir_tensor *op2(ir_graph *g, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  return fin(mk(g, op, 2, in, 1));
}

static ir_tensor *f64c(ir_graph *g, double v) {
  static int k;
  char name[32];
  snprintf(name, sizeof name, "k%d", k++);
  return ot_const(g, name, IR_F64, 0, NULL, &v);
}

static ir_tensor *ints(ir_graph *g, int cnt, const int64_t *v) {
  static int k;
  char name[32];
  snprintf(name, sizeof name, "i%d", k++);
  return ot_const_ints(g, name, cnt, v);
}

/* ---- the harness ------------------------------------------------------------ */

typedef struct built {
  ir_graph *g;
  ir_tensor *x[MAXX], *y, *dx[MAXX];
} built;

static void build(built *b, const gspec *s, const ir_tensor *shape_of_y) {
  b->g = ir_graph_new("g", NULL);
  for (int i = 0; i < s->n_x; i++) {
    char name[16];
    snprintf(name, sizeof name, "x%d", i);
    b->x[i] = ot_input(b->g, name, IR_F64, s->rank[i], s->dims[i]);
  }
  b->y = s->body(b->g, b->x, s->variant);
  if (!shape_of_y) return;
  /* L = sum(y * W) */
  int64_t cnt = ir_numel(shape_of_y);
  double *w = malloc(sizeof *w * (size_t)(cnt + 1));
  for (int64_t e = 0; e < cnt; e++) w[e] = 0.5 + 0.25 * (double)((e * 7) % 11);
  ir_tensor *wt = ot_const(b->g, "W", IR_F64, shape_of_y->rank, shape_of_y->shape, w);
  free(w);
  b->y = op2(b->g, "Mul", b->y, wt);
  ir_graph_add_output(b->g, b->y);
  ir_tensor *out[MAXX];
  for (int i = 0; i < s->n_x; i++) {
    char name[16];
    snprintf(name, sizeof name, "d%d", i);
    out[i] = b->dx[i] = ir_add_tensor(b->g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ot_gradient(b->g, b->y, s->n_x, b->x, out);
  for (int i = 0; i < s->n_x; i++) ir_graph_add_output(b->g, out[i]);
}

static void run_passes(ir_graph *g) {
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  o.training = 1;
  if (pass_run_all(g, &o) < 0) fail_msg("%s", ir_last_error());
}

static double sum_of(const built *b, double *const *xv) {
  interp_ctx ic;
  if (interp_run(&ic, b->g, (const void *const *)xv) < 0) fail_msg("%s", ir_last_error());
  const double *y = interp_value(&ic, b->y);
  double s = 0;
  for (int64_t e = 0; e < ir_numel(b->y); e++) s += y[e];
  interp_free(&ic);
  return s;
}

static void check(const gspec *s, const char *what) {
  /* 1. the forward alone, for y's shape */
  built f;
  build(&f, s, NULL);
  ir_graph_add_output(f.g, f.y);
  run_passes(f.g);
  ir_tensor yshape = *f.y;
  /* 2. L = sum(y * W), forward only (finite differences) and with its gradient */
  built fd, ad;
  build(&fd, s, &yshape);
  build(&ad, s, &yshape);
  ir_graph_free(f.g);
  run_passes(fd.g);
  run_passes(ad.g);
  double *xv[MAXX];
  ot_rnd_seed(17);
  for (int i = 0; i < s->n_x; i++) {
    int64_t cnt = ir_numel(ad.x[i]);
    xv[i] = malloc(sizeof(double) * (size_t)(cnt + 1));
    for (int64_t e = 0; e < cnt; e++) xv[i][e] = s->lo[i] + (s->hi[i] - s->lo[i]) * (ot_rnd() + 3) / 6;
  }
  interp_ctx ic;
  if (interp_run(&ic, ad.g, (const void *const *)xv) < 0) fail_msg("%s: %s", what, ir_last_error());
  const double h = 1e-6, tol = s->tol > 0 ? s->tol : 1e-6;
  for (int i = 0; i < s->n_x; i++) {
    if (!ir_same_shape(ad.dx[i], ad.x[i])) fail_msg("%s: d%d has the wrong shape", what, i);
    const double *got = interp_value(&ic, ad.dx[i]);
    for (int64_t e = 0; e < ir_numel(ad.x[i]); e++) {
      double keep = xv[i][e];
      xv[i][e] = keep + h;
      double up = sum_of(&fd, xv);
      xv[i][e] = keep - h;
      double down = sum_of(&fd, xv);
      xv[i][e] = keep;
      double want = (up - down) / (2 * h);
      if (!(fabs(got[e] - want) <= tol * (1 + fabs(want))))
        fail_msg("%s: dL/dx%d[%lld]: autodiff %.12g, finite differences %.12g", what, i, (long long)e, got[e], want);
    }
  }
  interp_free(&ic);
  for (int i = 0; i < s->n_x; i++) free(xv[i]);
  ir_graph_free(fd.g);
  ir_graph_free(ad.g);
}

/* One input of shape dims in [lo, hi). */
static gspec one(body_fn body, int variant, int rank, const int64_t *dims, double lo, double hi) {
  gspec s;
  memset(&s, 0, sizeof s);
  s.body = body;
  s.variant = variant;
  s.n_x = 1;
  s.rank[0] = rank;
  if (rank) memcpy(s.dims[0], dims, sizeof(int64_t) * (size_t)rank);
  s.lo[0] = lo;
  s.hi[0] = hi;
  return s;
}

/* Add input i of shape dims in [lo, hi) to s. */
static gspec *with_x(gspec *s, int rank, const int64_t *dims, double lo, double hi) {
  int i = s->n_x++;
  assert_true(i < MAXX);
  s->rank[i] = rank;
  if (rank) memcpy(s->dims[i], dims, sizeof(int64_t) * (size_t)rank);   /* a scalar's dims may be NULL */
  s->lo[i] = lo;
  s->hi[i] = hi;
  return s;
}

/* ---- elementwise ------------------------------------------------------------ */

static const char *const unary_ops[] = {"LeakyRelu", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus",
                                        "Abs", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Sin", "Cos",
                                        "Softsign", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
                                        "Acosh", "Atanh", "Celu", "Mish", "ThresholdedRelu", "Shrink"};

/* The input range of unary_ops[v]: inside the domain, across the kinks. */
static void unary_range(const char *op, double *lo, double *hi) {
  *lo = -2;
  *hi = 2;
  if (!strcmp(op, "Log") || !strcmp(op, "Sqrt") || !strcmp(op, "Reciprocal")) *lo = 0.3;
  if (!strcmp(op, "HardSwish") || !strcmp(op, "HardSigmoid")) *lo = -(*hi = 5);
  if (!strcmp(op, "Tan")) *lo = -(*hi = 1.2);
  if (!strcmp(op, "Asin") || !strcmp(op, "Acos") || !strcmp(op, "Atanh")) *lo = -(*hi = 0.9);
  if (!strcmp(op, "Acosh")) *lo = 1.2, *hi = 3;
}

/* variant: index into unary_ops, with non-default attributes where the op has them */
static ir_tensor *body_unary(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n = mk(g, unary_ops[v], 1, x, 1);
  if (!strcmp(unary_ops[v], "LeakyRelu")) ir_attr_set_float(n, "alpha", 0.15);
  if (!strcmp(unary_ops[v], "HardSigmoid")) {
    ir_attr_set_float(n, "alpha", 0.3);
    ir_attr_set_float(n, "beta", 0.4);
  }
  if (!strcmp(unary_ops[v], "Elu")) ir_attr_set_float(n, "alpha", 0.7);
  if (!strcmp(unary_ops[v], "Selu")) ir_attr_set_float(n, "alpha", 1.3);
  if (!strcmp(unary_ops[v], "Celu")) ir_attr_set_float(n, "alpha", 0.8);
  if (!strcmp(unary_ops[v], "ThresholdedRelu")) ir_attr_set_float(n, "alpha", 0.3);
  if (!strcmp(unary_ops[v], "Shrink")) {
    ir_attr_set_float(n, "lambd", 0.4);
    ir_attr_set_float(n, "bias", 0.4);   /* continuous at the thresholds */
  }
  /* a second use of x, so contributions must add up */
  return op2(g, "Mul", fin(n), op1(g, "Sigmoid", x[0]));
}

static void test_unary(void **state) {
  (void)state;
  for (int v = 0; v < (int)(sizeof unary_ops / sizeof *unary_ops); v++) {
    double lo, hi;
    unary_range(unary_ops[v], &lo, &hi);
    gspec s = one(body_unary, v, 2, DIMS(3, 4), lo, hi);
    check(&s, unary_ops[v]);
  }
}

/* Clip: variant bit 0 min present, bit 1 max present, bit 2 bounds are inputs x1, x2 */
static ir_tensor *body_clip(ir_graph *g, ir_tensor *const *x, int v) {
  ir_tensor *lo = NULL, *hi = NULL;
  if (v & 4) {
    lo = x[1];
    hi = x[2];
  } else {
    if (v & 1) lo = f64c(g, -0.7);
    if (v & 2) hi = f64c(g, 0.9);
  }
  ir_tensor *in[3] = {x[0], lo, hi};
  return fin(mk(g, "Clip", (v & 2) || (v & 4) ? 3 : (v & 1) ? 2 : 1, in, 1));
}

static void test_clip(void **state) {
  (void)state;
  for (int v = 0; v < 4; v++) {
    gspec s = one(body_clip, v, 2, DIMS(4, 5), -2, 2);
    check(&s, "Clip");
  }
  gspec s = one(body_clip, 4, 2, DIMS(4, 5), -2, 2);
  with_x(&s, 0, NULL, -0.8, -0.5);
  with_x(&s, 0, NULL, 0.5, 0.8);
  check(&s, "Clip with bound inputs");
}

/* Pow: variant 0 a^b broadcast (b a row), 1 a^3 with an int64 exponent, 2 b scalar */
static ir_tensor *body_pow(ir_graph *g, ir_tensor *const *x, int v) {
  if (v == 1) {
    int64_t three = 3;
    return op2(g, "Pow", x[0], ot_const_raw(g, "three", IR_I64, 0, NULL, &three));
  }
  return op2(g, "Pow", x[0], x[1]);
}

static void test_pow(void **state) {
  (void)state;
  gspec s = one(body_pow, 0, 2, DIMS(2, 3), 0.5, 2);
  check(with_x(&s, 1, DIMS(3), -1.5, 1.5), "Pow broadcast");
  s = one(body_pow, 1, 2, DIMS(2, 3), -2, 2);
  check(&s, "Pow int exponent");
  s = one(body_pow, 2, 1, DIMS(4), 0.5, 2);
  check(with_x(&s, 0, NULL, 1.5, 2.5), "Pow scalar exponent");
}


/* At the kinks, where finite differences say nothing, the builders pick
 * PyTorch's one-sided values: d sum(f(x))/dx from torch.autograd (2.x) at
 * x = -3, -1, 0, 1, 3, -0.7, 0.9, 4, -4. */
static void test_kinks_as_pytorch(void **state) {
  (void)state;
  static const struct {
    const char *op;
    double alpha, beta;
    double want[9];
  } cases[] = {
    {"LeakyRelu", 0.15, 0, {0.15, 0.15, 0.15, 1, 1, 0.15, 1, 1, 0.15}},
    {"Clip", -0.7, 0.9, {0, 0, 1, 0, 0, 1, 1, 0, 0}},
    {"HardSwish", 0, 0, {-0.5, 0.16666666666666669, 0.5, 0.8333333333333333, 1, 0.2666666666666667, 0.8, 1, 0}},
    {"HardSigmoid", 1.0 / 6, 0.5, {0, 1.0 / 6, 1.0 / 6, 1.0 / 6, 0, 1.0 / 6, 1.0 / 6, 0, 0}},
    {"Elu", 0.7, 0, {0.03485094785750476, 0.2575156088200096, 0.7, 1, 1, 0.34760971265398666, 1, 1, 0.012820947222113924}},
    {"Abs", 0, 0, {-1, -1, 0, 1, 1, -1, 1, 1, -1}},
    {"Relu", 0, 0, {0, 0, 0, 1, 1, 0, 1, 1, 0}},
    {"PRelu", 0.25, 0, {0.25, 0.25, 0.25, 1, 1, 0.25, 1, 1, 0.25}},
  };
  static const double xv[9] = {-3, -1, 0, 1, 3, -0.7, 0.9, 4, -4};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    ir_graph *g = ir_graph_new("g", NULL);
    ir_tensor *x = ot_input(g, "x", IR_F64, 1, DIMS(9));
    ir_node *n;
    if (!strcmp(cases[c].op, "Clip"))
      n = mk(g, "Clip", 3, IN(x, f64c(g, cases[c].alpha), f64c(g, cases[c].beta)), 1);
    else if (!strcmp(cases[c].op, "PRelu"))
      n = mk(g, "PRelu", 2, IN(x, f64c(g, cases[c].alpha)), 1);
    else
      n = mk(g, cases[c].op, 1, &x, 1);
    if (!strcmp(cases[c].op, "LeakyRelu") || !strcmp(cases[c].op, "Elu")) ir_attr_set_float(n, "alpha", cases[c].alpha);
    if (!strcmp(cases[c].op, "HardSigmoid")) {
      ir_attr_set_float(n, "alpha", cases[c].alpha);
      ir_attr_set_float(n, "beta", cases[c].beta);
    }
    ir_tensor *y = fin(n), *dx = ir_add_tensor(g, "dx", IR_UNDEF, IR_ACTIVATION);
    ot_gradient(g, y, 1, &x, &dx);
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, dx);
    run_passes(g);
    interp_ctx ic;
    const void *in[1] = {xv};
    if (interp_run(&ic, g, in) < 0) fail_msg("%s", ir_last_error());
    const double *got = interp_value(&ic, dx);
    for (int i = 0; i < 9; i++)
      if (fabs(got[i] - cases[c].want[i]) > 1e-12)
        fail_msg("%s at x = %g: %.17g, PyTorch %.17g", cases[c].op, xv[i], got[i], cases[c].want[i]);
    interp_free(&ic);
    ir_graph_free(g);
  }
}

/* ---- shape ops -------------------------------------------------------------- */

/* x0 [2,3,4] through one relabelling op (then Tanh, so g is not W alone) */
static ir_tensor *body_relabel(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n;
  switch (v) {
  case 0: n = mk(g, "Reshape", 2, IN(x[0], ints(g, 2, DIMS(4, -1))), 1); break;
  case 1: n = mk(g, "Flatten", 1, x, 1); ir_attr_set_int(n, "axis", 2); break;
  case 2: n = mk(g, "Flatten", 1, x, 1); ir_attr_set_int(n, "axis", 0); break;
  case 3: n = mk(g, "Unsqueeze", 2, IN(x[0], ints(g, 2, DIMS(0, -1))), 1); break;
  case 4: n = mk(g, "Squeeze", 2, IN(op2(g, "Reshape", x[0], ints(g, 4, DIMS(2, 1, 3, 4))), ints(g, 1, DIMS(-3))), 1); break;
  case 5: n = mk(g, "Transpose", 1, x, 1); ir_attr_set_ints(n, "perm", 3, DIMS(2, 0, 1)); break;
  case 6: n = mk(g, "Transpose", 1, x, 1); break;   /* default perm: reversed */
  default: n = mk(g, "Expand", 2, IN(op2(g, "ReduceSum", x[0], ints(g, 1, DIMS(1))), ints(g, 4, DIMS(3, 2, 3, 4))), 1); break;
  }
  return op1(g, "Tanh", fin(n));
}

static void test_relabel(void **state) {
  (void)state;
  for (int v = 0; v < 8; v++) {
    gspec s = one(body_relabel, v, 3, DIMS(2, 3, 4), -1.5, 1.5);
    char what[32];
    snprintf(what, sizeof what, "relabel variant %d", v);
    check(&s, what);
  }
}

/* Concat of x0 [2,3], x1 [2,1], x0 again along -1 (v 0); x0 [2,3], x1 [1,3] along 0 (v 1) */
static ir_tensor *body_concat(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n = mk(g, "Concat", 3, IN(x[0], x[1], x[0]), 1);
  ir_attr_set_int(n, "axis", v == 0 ? -1 : 0);
  return op1(g, "Sigmoid", fin(n));
}

/* Split x0 [6,2] along 0 into [2,1,3]: y = 2*y0 - y2 (y1 unused: its part is zero) */
static ir_tensor *body_split(ir_graph *g, ir_tensor *const *x, int v) {
  (void)v;
  ir_node *n = mk(g, "Split", 2, IN(x[0], ints(g, 3, DIMS(2, 1, 2))), 3);
  ir_attr_set_int(n, "axis", 0);
  fin(n);
  return op2(g, "Sub", op2(g, "Mul", n->out[0], f64c(g, 2)), op1(g, "Exp", n->out[2]));
}

static void test_concat_split(void **state) {
  (void)state;
  gspec s = one(body_concat, 0, 2, DIMS(2, 3), -1, 1);
  check(with_x(&s, 2, DIMS(2, 1), -1, 1), "Concat axis -1");
  s = one(body_concat, 1, 2, DIMS(2, 3), -1, 1);
  check(with_x(&s, 2, DIMS(1, 3), -1, 1), "Concat axis 0");
  s = one(body_split, 0, 2, DIMS(5, 2), -1, 1);
  check(&s, "Split");
}

/* Slice of x0 [4,5]: v 0 unit steps, v 1 steps 2 and -1, v 2 negative axes and step -2, v 3 one axis */
static ir_tensor *body_slice(ir_graph *g, ir_tensor *const *x, int v) {
  static const int64_t st[4][2] = {{1, 0}, {0, 4}, {-1, 3}, {1, 0}}, en[4][2] = {{3, -1}, {4, 0}, {-100, 0}, {-1, 0}};
  static const int64_t ax[4][2] = {{0, 1}, {0, 1}, {-1, -2}, {1, 0}}, sp[4][2] = {{1, 1}, {2, -1}, {-2, -1}, {2, 1}};
  int k = v == 3 ? 1 : 2;
  ir_tensor *in[5] = {x[0], ints(g, k, st[v]), ints(g, k, en[v]), ints(g, k, ax[v]), ints(g, k, sp[v])};
  return op1(g, "Tanh", fin(mk(g, "Slice", 5, in, 1)));
}

static void test_slice(void **state) {
  (void)state;
  for (int v = 0; v < 4; v++) {
    gspec s = one(body_slice, v, 2, DIMS(4, 5), -1.5, 1.5);
    char what[32];
    snprintf(what, sizeof what, "Slice variant %d", v);
    check(&s, what);
  }
}

/* Gather from x0 [4,3]: v 0 axis 0 indices [[0,2],[2,-1]] (2 and -1 repeat rows), v 1 axis -1 a scalar index,
 * v 2 axis 1 indices [2,2,0] */
static ir_tensor *body_gather(ir_graph *g, ir_tensor *const *x, int v) {
  ir_tensor *ix;
  if (v == 0) {
    ix = ot_const_ints(g, "ix", 4, DIMS(0, 2, 2, -1));
    ir_set_shape(ix, 2, DIMS(2, 2));
  } else if (v == 1) {
    ix = ot_const_raw(g, "ix", IR_I64, 0, NULL, DIMS(1));
  } else {
    ix = ot_const_ints(g, "ix", 3, DIMS(2, 2, 0));
  }
  ir_node *n = mk(g, "Gather", 2, IN(x[0], ix), 1);
  ir_attr_set_int(n, "axis", v == 0 ? 0 : v == 1 ? -1 : 1);
  return op1(g, "Sigmoid", fin(n));
}

static void test_gather(void **state) {
  (void)state;
  for (int v = 0; v < 3; v++) {
    gspec s = one(body_gather, v, 2, DIMS(4, 3), -1.5, 1.5);
    char what[32];
    snprintf(what, sizeof what, "Gather variant %d", v);
    check(&s, what);
  }
}

/* Pad x0 [3,4] (constant mode): v 0 pads (1,0,2,1) value 0.5; v 1 pads (1,-1,-1,2); v 2 value is input x1 */
static ir_tensor *body_pad(ir_graph *g, ir_tensor *const *x, int v) {
  static const int64_t pads[3][4] = {{1, 0, 2, 1}, {1, -1, -1, 2}, {0, 2, 1, 0}};
  ir_tensor *val = v == 2 ? x[1] : f64c(g, 0.5);
  return op1(g, "Tanh", fin(mk(g, "Pad", 3, IN(x[0], ints(g, 4, pads[v]), val), 1)));
}

static void test_pad(void **state) {
  (void)state;
  gspec s = one(body_pad, 0, 2, DIMS(3, 4), -1.5, 1.5);
  check(&s, "Pad");
  s = one(body_pad, 1, 2, DIMS(3, 4), -1.5, 1.5);
  check(&s, "Pad cropping");
  s = one(body_pad, 2, 2, DIMS(3, 4), -1.5, 1.5);
  check(with_x(&s, 0, NULL, -1, 1), "Pad value input");
}

/* ---- reductions ------------------------------------------------------------- */

/* ReduceSum (v < 5) / ReduceMean (v >= 5) of x0 [2,3,4]: axes [1] keepdims 1; [-1,0] keepdims 0;
 * no axes (all) keepdims 0; no axes with noop_with_empty_axes; [2] keepdims 0 */
static ir_tensor *body_reduce(ir_graph *g, ir_tensor *const *x, int v) {
  static const int64_t axes[5][2] = {{1}, {-1, 0}, {0}, {0}, {2}};
  static const int n_axes[5] = {1, 2, 0, 0, 1}, keep[5] = {1, 0, 0, 1, 0};
  int k = v % 5;
  ir_node *n = n_axes[k] ? mk(g, v < 5 ? "ReduceSum" : "ReduceMean", 2, IN(x[0], ints(g, n_axes[k], axes[k])), 1)
                         : mk(g, v < 5 ? "ReduceSum" : "ReduceMean", 1, x, 1);
  ir_attr_set_int(n, "keepdims", keep[k]);
  if (k == 3) ir_attr_set_int(n, "noop_with_empty_axes", 1);
  return op1(g, "Tanh", fin(n));
}

static void test_reduce(void **state) {
  (void)state;
  for (int v = 0; v < 10; v++) {
    gspec s = one(body_reduce, v, 3, DIMS(2, 3, 4), -1, 1);
    char what[32];
    snprintf(what, sizeof what, "Reduce%s variant %d", v < 5 ? "Sum" : "Mean", v % 5);
    check(&s, what);
  }
}


/* PRelu with a per-column slope x1 [4] (v 0) or a scalar one (v 1); Where(x0 > 0.2, x0*x1, x2) broadcasting (v 2);
 * Sum(x0, x1, x0) and Mean (v 3, 4) broadcasting x1 [4]; Cast to float64 (v 5) */
static ir_tensor *body_misc(ir_graph *g, ir_tensor *const *x, int v) {
  switch (v) {
  case 0:
  case 1: return op2(g, "PRelu", x[0], x[1]);
  case 2: {
    ir_tensor *c = op2(g, "Greater", x[0], f64c(g, 0.2));
    return fin(mk(g, "Where", 3, IN(c, op2(g, "Mul", x[0], x[1]), x[2]), 1));
  }
  case 3:
  case 4: return fin(mk(g, v == 3 ? "Sum" : "Mean", 3, IN(x[0], x[1], x[0]), 1));
  default: {
    ir_node *n = mk(g, "Cast", 1, x, 1);
    ir_attr_set_int(n, "to", 11);
    return op1(g, "Tanh", fin(n));
  }
  }
}

static void test_misc(void **state) {
  (void)state;
  gspec s = one(body_misc, 0, 2, DIMS(3, 4), -2, 2);
  check(with_x(&s, 1, DIMS(4), 0.1, 0.5), "PRelu per column");
  s = one(body_misc, 1, 2, DIMS(3, 4), -2, 2);
  check(with_x(&s, 0, NULL, 0.1, 0.5), "PRelu scalar slope");
  s = one(body_misc, 2, 2, DIMS(3, 4), -2, 2);
  with_x(&s, 1, DIMS(4), -1, 1);
  check(with_x(&s, 2, DIMS(3, 1), -1, 1), "Where");
  for (int v = 3; v < 5; v++) {
    s = one(body_misc, v, 2, DIMS(3, 4), -2, 2);
    check(with_x(&s, 1, DIMS(4), -1, 1), v == 3 ? "Sum" : "Mean");
  }
  s = one(body_misc, 5, 2, DIMS(3, 4), -2, 2);
  check(&s, "Cast");
}

/* ReduceSumSquare (v < 4), ReduceL2 (v < 8), ReduceLogSumExp of x0 [2,3,4]: axes [1] keepdims 1,
 * [-1,0] keepdims 0, all, noop_with_empty_axes */
static ir_tensor *body_reduce2(ir_graph *g, ir_tensor *const *x, int v) {
  static const char *const ops[3] = {"ReduceSumSquare", "ReduceL2", "ReduceLogSumExp"};
  static const int64_t axes[2][2] = {{1}, {-1, 0}};
  int k = v % 4;
  ir_node *n = k < 2 ? mk(g, ops[v / 4], 2, IN(x[0], ints(g, k ? 2 : 1, axes[k])), 1) : mk(g, ops[v / 4], 1, x, 1);
  ir_attr_set_int(n, "keepdims", k == 0);
  if (k == 3) ir_attr_set_int(n, "noop_with_empty_axes", 1);
  return op1(g, "Tanh", fin(n));
}

/* Tile x0 [2,3]: repeats (2,1), (3,2); x0 [2,1,3]: (2,3,1) */
static ir_tensor *body_tile(ir_graph *g, ir_tensor *const *x, int v) {
  static const int64_t rep[3][3] = {{2, 1}, {3, 2}, {2, 3, 1}};
  return op1(g, "Sigmoid", op2(g, "Tile", x[0], ints(g, v == 2 ? 3 : 2, rep[v])));
}

static void test_reduce_tile(void **state) {
  (void)state;
  for (int v = 0; v < 12; v++) {
    gspec s = one(body_reduce2, v, 3, DIMS(2, 3, 4), 0.2, 1.5);   /* positive: L2 has a kink at 0 */
    char what[48];
    snprintf(what, sizeof what, "reduce variant %d", v);
    check(&s, what);
  }
  for (int v = 0; v < 3; v++) {
    gspec s = v == 2 ? one(body_tile, v, 3, DIMS(2, 1, 3), -1, 1) : one(body_tile, v, 2, DIMS(2, 3), -1, 1);
    check(&s, "Tile");
  }
}

/* Max/Min of x0 [3,4], x1 [4], x2 [3,1] (v 0, 1); ReduceMax/ReduceMin of x0 over [1] keepdims 1 (v 2, 3),
 * over all axes keepdims 0 (v 4, 5) */
static ir_tensor *body_extreme(ir_graph *g, ir_tensor *const *x, int v) {
  if (v < 2) return op1(g, "Tanh", fin(mk(g, v ? "Min" : "Max", 3, x, 1)));
  ir_node *n = v < 4 ? mk(g, v % 2 ? "ReduceMin" : "ReduceMax", 2, IN(x[0], ints(g, 1, DIMS(1))), 1)
                     : mk(g, v % 2 ? "ReduceMin" : "ReduceMax", 1, x, 1);
  ir_attr_set_int(n, "keepdims", v < 4);
  return op1(g, "Tanh", fin(n));
}

/* Ties share the gradient evenly, as torch.maximum and torch.amax/amin do:
 * d sum(max(a, b)) at a = (1, 2, 3), b = (1, 1, 4) is (0.5, 1, 0), (0.5, 0, 1);
 * d sum(amax(x, 1)) at x = ((1, 3, 3), (2, 0, 1)) is ((0, .5, .5), (1, 0, 0)), and
 * d sum(amin(x, 0)) is ((1, 0, 0), (0, 1, 1)) (PyTorch 2.x). */
static void test_extreme_ties(void **state) {
  (void)state;
  static const char *const ops[3] = {"Max", "ReduceMax", "ReduceMin"};
  static const double want[3][6] = {{0.5, 1, 0, 0.5, 0, 1}, {0, 0.5, 0.5, 1, 0, 0}, {1, 0, 0, 0, 1, 1}};
  static const double av[6] = {1, 2, 3, 1, 1, 4}, xv[6] = {1, 3, 3, 2, 0, 1};
  for (int c = 0; c < 3; c++) {
    ir_graph *g = ir_graph_new("g", NULL);
    ir_tensor *a = ot_input(g, "a", IR_F64, c ? 2 : 1, c ? DIMS(2, 3) : DIMS(3)), *b = NULL, *y;
    if (c == 0) {
      b = ot_input(g, "b", IR_F64, 1, DIMS(3));
      y = op2(g, "Max", a, b);
    } else {
      ir_node *n = mk(g, ops[c], 2, IN(a, ints(g, 1, c == 1 ? DIMS(1) : DIMS(0))), 1);
      ir_attr_set_int(n, "keepdims", 0);
      y = fin(n);
    }
    ir_tensor *xs[2] = {a, b}, *d[2] = {ir_add_tensor(g, "da", IR_UNDEF, IR_ACTIVATION),
                                        ir_add_tensor(g, "db", IR_UNDEF, IR_ACTIVATION)};
    int nx = c ? 1 : 2;
    ot_gradient(g, y, nx, xs, d);
    ir_graph_add_output(g, y);
    for (int i = 0; i < nx; i++) ir_graph_add_output(g, d[i]);
    run_passes(g);
    interp_ctx ic;
    const void *in[2] = {c ? xv : av, av + 3};
    if (interp_run(&ic, g, in) < 0) fail_msg("%s", ir_last_error());
    for (int i = 0; i < nx; i++) {
      const double *got = interp_value(&ic, d[i]);
      for (int k = 0; k < (c ? 6 : 3); k++)
        if (fabs(got[k] - want[c][i * 3 + k]) > 1e-12)
          fail_msg("%s: d%c[%d] = %g, PyTorch %g", ops[c], "ab"[i], k, got[k], want[c][i * 3 + k]);
    }
    interp_free(&ic);
    ir_graph_free(g);
  }
}

static void test_extreme(void **state) {
  (void)state;
  for (int v = 0; v < 6; v++) {
    gspec s = one(body_extreme, v, 2, DIMS(3, 4), -2, 2);
    if (v < 2) with_x(with_x(&s, 1, DIMS(4), -2, 2), 2, DIMS(3, 1), -2, 2);
    char what[32];
    snprintf(what, sizeof what, "Max/Min variant %d", v);
    check(&s, what);
  }
}

/* x0 [3,4] through: GatherElements axis 1 with repeats (v 0) and axis 0 with a negative index (v 1);
 * GatherND picking elements with a repeat (v 2) and rows (v 3); CumSum along 1 plain, exclusive,
 * reverse, both, and along -2 (v 4..8); Trilu upper k=1 (v 9) and lower k=-1 (v 10) */
static ir_tensor *body_index(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n;
  ir_tensor *ix;
  if (v < 2) {
    ix = ot_const_ints(g, "ix", 6, v ? DIMS(0, -1, 2, 1, 1, 0) : DIMS(0, 0, 3, 1, 2, 1));
    ir_set_shape(ix, 2, v ? DIMS(2, 3) : DIMS(2, 3));
    n = mk(g, "GatherElements", 2, IN(x[0], ix), 1);
    ir_attr_set_int(n, "axis", v ? 0 : 1);
  } else if (v < 4) {
    ix = v == 2 ? ot_const_ints(g, "ix", 6, DIMS(0, 1, 2, 3, 0, 1)) : ot_const_ints(g, "ix", 2, DIMS(1, 1));
    ir_set_shape(ix, 2, v == 2 ? DIMS(3, 2) : DIMS(2, 1));
    n = mk(g, "GatherND", 2, IN(x[0], ix), 1);
  } else if (v < 9) {
    n = mk(g, "CumSum", 2, IN(x[0], ot_const_ints(g, "axis", 1, v == 8 ? DIMS(-2) : DIMS(1))), 1);
    ir_attr_set_int(n, "exclusive", v == 5 || v == 7);
    ir_attr_set_int(n, "reverse", v == 6 || v == 7);
    ir_set_shape(n->in[1], 0, NULL);
  } else {
    n = mk(g, "Trilu", 2, IN(x[0], ot_const_ints(g, "k", 1, v == 9 ? DIMS(1) : DIMS(-1))), 1);
    ir_set_shape(n->in[1], 0, NULL);
    ir_attr_set_int(n, "upper", v == 9);
  }
  return op1(g, "Tanh", fin(n));
}

static void test_index_ops(void **state) {
  (void)state;
  for (int v = 0; v < 11; v++) {
    gspec s = one(body_index, v, 2, DIMS(3, 4), -1.5, 1.5);
    char what[32];
    snprintf(what, sizeof what, "index variant %d", v);
    check(&s, what);
  }
}

/* ---- normalizations --------------------------------------------------------- */

/* LayerNormalization of x0 [2,3,4] with scale x1, bias x2: v 0 axis -1, v 1 axis 1, v 2 axis -2 without bias */
static ir_tensor *body_layernorm(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n = mk(g, "LayerNormalization", v == 2 ? 2 : 3, x, 1);
  ir_attr_set_int(n, "axis", v == 0 ? -1 : v == 1 ? 1 : -2);
  ir_attr_set_float(n, "epsilon", 1e-3);
  return op1(g, "Tanh", fin(n));
}

static void test_layernorm(void **state) {
  (void)state;
  gspec s = one(body_layernorm, 0, 3, DIMS(2, 3, 4), -2, 2);
  with_x(&s, 1, DIMS(4), 0.5, 1.5);
  check(with_x(&s, 1, DIMS(4), -0.5, 0.5), "LayerNormalization axis -1");
  s = one(body_layernorm, 1, 3, DIMS(2, 3, 4), -2, 2);
  with_x(&s, 2, DIMS(3, 4), 0.5, 1.5);
  check(with_x(&s, 1, DIMS(4), -0.5, 0.5), "LayerNormalization axis 1, broadcast bias");
  s = one(body_layernorm, 2, 3, DIMS(2, 3, 4), -2, 2);
  check(with_x(&s, 2, DIMS(3, 4), 0.5, 1.5), "LayerNormalization without bias");
}

/* BatchNormalization of x0 [3,2,2,2] (v 4: [6,2]) with scale x1, B x2,
 * mean x3, var x4: v 0 training mode (batch statistics; mean and var only
 * feed the running statistics, so their gradients are zero: the fused
 * BatchNormalizationGrad), v 1 inference mode; in training mode v 2 a Relu
 * of the output (folded into BatchNormalizationGrad), v 3 a Relu of the
 * output plus x0 (the ReluGrad feeds the fused node and x0's gradient),
 * v 4 rank 2 with a Relu; v 5 and 6 as 0 and 2 with the forward's batch
 * statistics (outputs 3-4, as train.c adds them) read by the backward.
 * B shifts the Relu's input away from its kink. */
static ir_tensor *body_batchnorm(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n = ot_node(g, "BatchNormalization", 15, 5, x, v >= 5 ? 5 : 1);
  if (v >= 5) v = v == 5 ? 0 : 2;
  ir_attr_set_int(n, "training_mode", v != 1);
  ir_attr_set_float(n, "epsilon", 1e-2);
  ir_tensor *y = fin(n);
  if (v == 3) y = op2(g, "Add", y, x[0]);
  return op1(g, "Tanh", v >= 2 ? op1(g, "Relu", y) : y);
}

static void test_batchnorm(void **state) {
  static const char *const what[] = {"BatchNormalization training", "BatchNormalization inference",
                                     "BatchNormalization training + Relu", "BatchNormalization training + x0 + Relu",
                                     "BatchNormalization training [6,2] + Relu",
                                     "BatchNormalization training, batch statistics saved",
                                     "BatchNormalization training + Relu, batch statistics saved"};
  (void)state;
  for (int v = 0; v < 7; v++) {
    gspec s = v == 4 ? one(body_batchnorm, v, 2, DIMS(6, 2), -2, 2) : one(body_batchnorm, v, 4, DIMS(3, 2, 2, 2), -2, 2);
    with_x(with_x(&s, 1, DIMS(2), 0.5, 1.5), 1, DIMS(2), -0.5, 0.5);
    with_x(with_x(&s, 1, DIMS(2), -0.3, 0.3), 1, DIMS(2), 0.5, 1.5);
    check(&s, what[v]);
  }
}

/* ReluGrad and BatchNormalizationGrad are what the builders make: no
 * Sign/Mul chain is left for a Relu, nor ReduceMean for a training-mode
 * BatchNormalization, and the Relu after it is folded in (no ReluGrad). */
static void test_batchnorm_relu_nodes(void **state) {
  (void)state;
  for (int v = 2; v <= 6; v += 4) {   /* statistics recomputed (6 inputs: saved) */
    gspec s = one(body_batchnorm, v, 4, DIMS(3, 2, 2, 2), -2, 2);
    with_x(with_x(&s, 1, DIMS(2), 0.5, 1.5), 1, DIMS(2), -0.5, 0.5);
    with_x(with_x(&s, 1, DIMS(2), -0.3, 0.3), 1, DIMS(2), 0.5, 1.5);
    built f;
    build(&f, &s, NULL);
    ir_graph_add_output(f.g, f.y);
    run_passes(f.g);
    ir_tensor yshape = *f.y;
    ir_graph_free(f.g);
    built ad;
    build(&ad, &s, &yshape);
    run_passes(ad.g);
    int bng = 0, relug = 0, other = 0;
    for (int k = 0; k < ad.g->n_nodes; k++) {
      const ir_node *n = ad.g->nodes[k];
      if (n->dead) continue;
      bng += !strcmp(n->op_type, "BatchNormalizationGrad") && n->n_in == (v == 6 ? 6 : 4);
      relug += !strcmp(n->op_type, "ReluGrad");
      other += !strcmp(n->op_type, "ReduceMean") || !strcmp(n->op_type, "Sign");
    }
    assert_int_equal(bng, 1);
    assert_int_equal(relug, 0);
    assert_int_equal(other, 0);
    ir_graph_free(ad.g);
  }
}

/* InstanceNormalization of x0 [2,3,2,2] with scale x1 [3] and B x2 [3] */
static ir_tensor *body_instnorm(ir_graph *g, ir_tensor *const *x, int v) {
  ir_node *n = ot_node(g, "InstanceNormalization", 6, 3, x, 1);
  ir_attr_set_float(n, "epsilon", v ? 1e-5 : 0.05);
  return op1(g, "Tanh", fin(n));
}

static void test_instnorm(void **state) {
  (void)state;
  for (int v = 0; v < 2; v++) {
    gspec s = v ? one(body_instnorm, v, 3, DIMS(1, 3, 5), -2, 2) : one(body_instnorm, v, 4, DIMS(2, 3, 2, 2), -2, 2);
    with_x(with_x(&s, 1, DIMS(3), 0.5, 1.5), 1, DIMS(3), -0.5, 0.5);
    check(&s, "InstanceNormalization");
  }
}

/* The training-mode forward (opset 15, momentum 0.9 in ONNX's convention)
 * against PyTorch's F.batch_norm(training=True, momentum=0.1): the same Y
 * and running mean.  The running variance differs by design: ONNX
 * specifies the population (biased) batch variance, PyTorch uses the
 * unbiased one (times n/(n-1), n = N*H*W = 8 here): both are written out. */
static void test_batchnorm_training_forward(void **state) {
  (void)state;
  static const double x[24] = {-1.1, -0.73, -0.36, 0.01, 0.38, 0.75, 1.12, -0.81, -0.44, -0.07, 0.3, 0.67,
                               1.04, -0.89, -0.52, -0.15, 0.22, 0.59, 0.96, -0.97, -0.6, -0.23, 0.14, 0.51};
  static const double y_torch[24] = {
      -0.5097044868797858, -0.21384788341025038, 0.08200872005928503, 0.37786532352882035, 0.0058157367130259345,
      0.767333962551224,   1.528852188389421,    -2.4433915301719886, 1.4273314354098305,  0.5491995804590155,
      -0.3289322744917996, -1.2070641294426148,  1.201466138592662,   -0.34178587409977923, -0.045929270630243726,
      0.24992733283929178, -0.32348944202781577, 0.4380287838103823,  1.1995470096485803,  -2.7726967089128296,
      1.8070641294426135,  0.9289322744918006,   0.05080041954098342, -0.8273314354098296};
  static const double mean_torch[3] = {0.14625, -0.062, 0.04850000000000004};
  static const double var_onnx[3] = {1.119099375, 0.7731150000000001, 0.4677525};      /* 0.9 v + 0.1 pop. var */
  static const double var_torch[3] = {1.1246850000000002, 0.7807028571428573, 0.47028857142857144};   /* unbiased */
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *in[5] = {ot_input(g, "x", IR_F64, 4, DIMS(2, 3, 2, 2)), ot_const(g, "s", IR_F64, 1, DIMS(3), D(0.5, 1.5, -1.0)),
                      ot_const(g, "b", IR_F64, 1, DIMS(3), D(0.1, -0.2, 0.3)),
                      ot_const(g, "m", IR_F64, 1, DIMS(3), D(0.2, -0.1, 0.05)),
                      ot_const(g, "v", IR_F64, 1, DIMS(3), D(1.2, 0.8, 0.5))};
  ir_node *n = ot_node(g, "BatchNormalization", 15, 5, in, 3);
  ir_attr_set_int(n, "training_mode", 1);
  fin(n);
  for (int j = 0; j < 3; j++) ir_graph_add_output(g, n->out[j]);
  run_passes(g);
  interp_ctx ic;
  const void *xin[1] = {x};
  if (interp_run(&ic, g, xin) < 0) fail_msg("%s", ir_last_error());
  ot_expect_rel(interp_value(&ic, n->out[0]), y_torch, 24, 1e-12);
  ot_expect_rel(interp_value(&ic, n->out[1]), mean_torch, 3, 1e-12);
  ot_expect_rel(interp_value(&ic, n->out[2]), var_onnx, 3, 1e-12);
  const double *rv = interp_value(&ic, n->out[2]);
  assert_true(fabs(rv[0] - var_torch[0]) > 1e-3);   /* the ONNX/PyTorch difference is real */
  interp_free(&ic);
  ir_graph_free(g);
}

/* ---- Dropout in training mode ---------------------------------------------- */

/* Dropout(x0 [4,6], ratio 0.4, training) with an explicit seed, so the
 * finite-difference graph draws the same mask: linear in x given the mask,
 * so the gradient is exact. */
static ir_tensor *body_dropout(ir_graph *g, ir_tensor *const *x, int v) {
  double ratio = 0.4;
  uint8_t on = 1;
  ir_tensor *in[3] = {x[0], ot_const(g, "ratio", IR_F64, 0, NULL, &ratio), ot_const_raw(g, "tm", IR_BOOL, 0, NULL, &on)};
  ir_node *n = mk(g, "Dropout", 3, in, 1);
  ir_attr_set_int(n, "seed", 1234 + v);
  return op2(g, "Mul", fin(n), op1(g, "Tanh", x[0]));
}

static void test_dropout(void **state) {
  (void)state;
  gspec s = one(body_dropout, 0, 2, DIMS(4, 6), -1, 1);
  check(&s, "Dropout training");
}

/* ---- unsupported cases are named --------------------------------------------- */

/* Gradient of sum(op(x)) must fail with a message naming the op and `part`. */
static void expect_refused(body_fn body, int variant, const char *op, const char *part) {
  gspec s = one(body, variant, 2, DIMS(3, 4), -1, 1);
  built b;
  ir_tensor like;
  build(&b, &s, NULL);
  ir_graph_add_output(b.g, b.y);
  run_passes(b.g);
  like = *b.y;
  ir_graph_free(b.g);
  build(&b, &s, &like);
  pass_options o;
  pass_options_default(&o);
  o.plan = 0;
  assert_int_equal(pass_run_all(b.g, &o), -1);
  if (!strstr(ir_last_error(), op) || !strstr(ir_last_error(), part))
    fail_msg("expected an error naming %s and '%s', got: %s", op, part, ir_last_error());
  ir_graph_free(b.g);
}

static ir_tensor *body_pad_reflect(ir_graph *g, ir_tensor *const *x, int v) {
  (void)v;
  ir_node *n = mk(g, "Pad", 2, IN(x[0], ints(g, 4, DIMS(1, 0, 1, 0))), 1);
  ir_attr_set_string(n, "mode", "reflect");
  return fin(n);
}

/* LayerNormalization's InvStdDev output used in the loss */
static ir_tensor *body_ln_stats(ir_graph *g, ir_tensor *const *x, int v) {
  (void)v;
  ir_node *n = mk(g, "LayerNormalization", 2, IN(x[0], ot_const(g, "s", IR_F64, 1, DIMS(4), D(1, 2, 3, 4))), 3);
  ir_attr_set_int(n, "stash_type", 11);   /* statistics in float64, as x */
  fin(n);
  return op2(g, "Add", n->out[0], n->out[2]);
}

static void test_refusals(void **state) {
  (void)state;
  expect_refused(body_pad_reflect, 0, "Pad", "only mode 'constant'");
  expect_refused(body_ln_stats, 0, "LayerNormalization", "is not supported");
}

/* ---- the backward graph compiles ----------------------------------------------- */

/* A float32 graph using the builders above (Gather with runtime indices,
 * strided Slice, Concat, Transpose, LayerNormalization, BatchNormalization
 * in training mode, HardSwish, Clip, Pow, Pad, ReduceMean, a training
 * Dropout with a step input), differentiated with respect to x, the table
 * and the LayerNorm scale, emitted as C, built with gcc and clang (ASan,
 * UBSan) and compared with the interpreter. */
static int bn_grad_in_place;

/* Append Gradient(y) with respect to xs[0..nx) to g, make y and the
 * gradients outputs, run the passes, run the interpreter on inputs, emit,
 * build with gcc and clang (ASan/UBSan), and compare every float32 output. */
static void compile_and_compare_backward(ir_graph *g, ir_tensor *y, int nx, ir_tensor *const *xs, void **inputs) {
  ir_tensor *ds[MAXX];
  ir_graph_add_output(g, y);
  for (int i = 0; i < nx; i++) {
    char name[16];
    snprintf(name, sizeof name, "d%d", i);
    ds[i] = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ot_gradient(g, y, nx, xs, ds);
  for (int i = 0; i < nx; i++) ir_graph_add_output(g, ds[i]);
  run_passes(g);
  interp_ctx ic;
  if (interp_run(&ic, g, (const void *const *)inputs) < 0) fail_msg("%s", ir_last_error());
  char dir[64];
  const ot_cc_opts o = {"test_grad_ops", "TEST_GRAD_OPS_KEEP", "-O2", 1, 0, NULL};
  ot_emit_tmp(g, o.tag, dir);
  bn_grad_in_place = 0;   /* planned now: BatchNormalizationGrads whose dX took dY's bytes */
  for (int k = 0; k < g->n_nodes; k++) {
    const ir_node *n = g->nodes[k];
    bn_grad_in_place += !n->dead && !strcmp(n->op_type, "BatchNormalizationGrad") && n->out[0]->offset >= 0 &&
                        n->out[0]->offset == n->in[0]->offset;
  }
  ot_write_driver(g, dir, inputs);
  ot_build_run(dir, &o);
  for (int j = 0; j < g->n_outputs; j++) {
    const float *got = ot_read_output(g, dir, j), *want = interp_value(&ic, g->outputs[j]);
    double mx = 0;
    for (int64_t k = 0; k < ir_numel(g->outputs[j]); k++) {
      mx = fmax(mx, fabs(want[k]));
      if (fabsf(got[k] - want[k]) > 1e-4f * (1 + fabsf(want[k])))
        fail_msg("output %s[%lld]: C %g, interpreter %g (files in %s)", g->outputs[j]->name, (long long)k, got[k],
                 want[k], dir);
    }
    if (j > 0 && mx == 0) fail_msg("gradient %s is all zeros", g->outputs[j]->name);
    free((void *)got);
  }
  interp_free(&ic);
  ot_cleanup(dir, o.keep_env);
}

static void test_backward_compiles(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 2, DIMS(4, 6));
  ir_tensor *table = ot_input(g, "table", IR_F32, 2, DIMS(5, 3));
  ir_tensor *idx = ot_input(g, "idx", IR_I64, 2, DIMS(2, 3));
  ir_tensor *sc = ot_input(g, "sc", IR_F32, 1, DIMS(12));
  ir_tensor *step = ot_input(g, "step", IR_I64, 0, NULL);
  ir_tensor *e = op2(g, "Reshape", fin(mk(g, "Gather", 2, IN(table, idx), 1)), ints(g, 2, DIMS(2, 9)));
  ir_tensor *sl = fin(mk(g, "Slice", 5, IN(x, ints(g, 2, DIMS(0, 5)), ints(g, 2, DIMS(4, -100)), ints(g, 2, DIMS(0, 1)),
                                           ints(g, 2, DIMS(2, -2))), 1));
  ir_node *cn = mk(g, "Concat", 2, IN(e, sl), 1);
  ir_attr_set_int(cn, "axis", 1);
  ir_tensor *c = fin(cn);
  ir_tensor *ln = fin(mk(g, "LayerNormalization", 2, IN(c, sc), 1));
  float f2 = 2, lo = -0.5f, hi = 2, one5 = 1.5f, ratio = 0.25f;
  uint8_t on = 1;
  ir_tensor *two = ot_const_raw(g, "two", IR_F32, 0, NULL, &f2);
  ir_tensor *cl = fin(mk(g, "Clip", 3, IN(op1(g, "HardSwish", ln), ot_const_raw(g, "lo", IR_F32, 0, NULL, &lo),
                                        ot_const_raw(g, "hi", IR_F32, 0, NULL, &hi)), 1));
  ir_tensor *pw = op2(g, "Pow", op2(g, "Add", cl, ot_const_raw(g, "c15", IR_F32, 0, NULL, &one5)), two);
  ir_tensor *dr = fin(mk(g, "Dropout", 4, IN(pw, ot_const_raw(g, "ratio", IR_F32, 0, NULL, &ratio),
                                           ot_const_raw(g, "tm", IR_BOOL, 0, NULL, &on), step), 1));
  ir_tensor *pd = fin(mk(g, "Pad", 2, IN(op1(g, "Transpose", dr), ints(g, 4, DIMS(0, 1, 0, 0))), 1));
  ir_node *bn = ot_node(g, "BatchNormalization", 15, 5,
                        IN(op2(g, "Reshape", pd, ints(g, 4, DIMS(2, 3, 3, 2))),
                           ot_const(g, "bs", IR_F32, 1, DIMS(3), D(1, 0.5, 2)), ot_const(g, "bb", IR_F32, 1, DIMS(3), D(0, 1, -1)),
                           ot_const(g, "bm", IR_F32, 1, DIMS(3), D(0, 0, 0)), ot_const(g, "bv", IR_F32, 1, DIMS(3), D(1, 1, 1))), 1);
  ir_attr_set_int(bn, "training_mode", 1);
  ir_tensor *y = op1(g, "Tanh", fin(mk(g, "ReduceMean", 2, IN(fin(bn), ints(g, 1, DIMS(-1))), 1)));
  float xv[24], tv[15], sv[12];
  int64_t iv[6] = {0, 4, 2, 4, -1, 1}, stv = 3;   /* 4 and -1 pick the same row thrice */
  ot_rnd_seed(99);
  for (int i = 0; i < 24; i++) xv[i] = (float)ot_rnd() / 2;
  for (int i = 0; i < 15; i++) tv[i] = (float)ot_rnd() / 2;
  for (int i = 0; i < 12; i++) sv[i] = 0.5f + (float)i / 12;
  void *inputs[5] = {xv, tv, iv, sv, &stv};
  compile_and_compare_backward(g, y, 3, (ir_tensor *[]){x, table, sc}, inputs);
  ir_graph_free(g);
}

/* The same for the second batch of builders: Max, ReduceMax, ReduceL2,
 * Where, Erf, Tile, Split, InstanceNormalization, Expand, Softsign. */
static void test_backward_compiles_more(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *a = ot_input(g, "a", IR_F32, 4, DIMS(2, 3, 2, 2));
  ir_tensor *b = ot_input(g, "b", IR_F32, 1, DIMS(2));
  ir_tensor *sc = ot_input(g, "sc", IR_F32, 1, DIMS(3));
  ir_tensor *bias = ot_const(g, "bias", IR_F32, 1, DIMS(3), D(0.1, -0.2, 0.3));
  ir_tensor *in = fin(ot_node(g, "InstanceNormalization", 6, 3, IN(a, sc, bias), 1));
  ir_tensor *m = op2(g, "Max", in, b);                                   /* broadcast over the last axis */
  ir_tensor *w = fin(mk(g, "Where", 3, IN(op2(g, "Greater", m, ot_const(g, "z", IR_F32, 0, NULL, D(0))), op1(g, "Erf", m),
                                        op1(g, "Softsign", m)), 1));
  ir_node *sp = mk(g, "Split", 2, IN(w, ints(g, 2, DIMS(1, 2))), 2);
  ir_attr_set_int(sp, "axis", 1);
  fin(sp);
  ir_tensor *t = op2(g, "Tile", sp->out[0], ints(g, 4, DIMS(1, 2, 1, 1)));   /* [2,2,2,2] */
  ir_tensor *r1 = fin(mk(g, "ReduceMax", 2, IN(t, ints(g, 1, DIMS(-1))), 1));
  ir_tensor *r2 = fin(mk(g, "ReduceL2", 2, IN(sp->out[1], ints(g, 1, DIMS(-1))), 1));
  ir_tensor *e = op2(g, "Expand", op2(g, "Add", r1, r2), ints(g, 4, DIMS(2, 2, 2, 3)));
  ir_tensor *y = op1(g, "Tanh", e);
  float av[24], bv[2] = {-0.1f, 0.2f}, sv[3] = {0.8f, 1.2f, 1.5f};
  ot_rnd_seed(5);
  for (int i = 0; i < 24; i++) av[i] = (float)ot_rnd() / 2;
  void *inputs[3] = {av, bv, sv};
  compile_and_compare_backward(g, y, 3, (ir_tensor *[]){a, b, sc}, inputs);
  ir_graph_free(g);
}

/* BatchNormalizationGrad's C, dX in place of dY, on planes long enough for
 * the vectorized runs (S = 72: 4 blocks of 16 and a tail of 8): a
 * BatchNorm whose batch statistics are saved (outputs 3-4) with a Tanh
 * after it, then one that recomputes them with a folded Relu after an Add
 * of its output and x (whose ReluGrad also feeds x's gradient), then one
 * over [48, 3, 3] (short planes: sums element by element, blocked);
 * gradients of x, the first scale and bias. */
static void test_backward_compiles_bn(void **state) {
  (void)state;
  ot_need_compilers();
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 4, DIMS(2, 3, 9, 8));
  ir_tensor *sc = ot_input(g, "sc", IR_F32, 1, DIMS(3));
  ir_tensor *bb = ot_input(g, "bb", IR_F32, 1, DIMS(3));
  ir_tensor *y = x;
  for (int k = 0; k < 3; k++) {
    char nm[4][8];
    if (k == 2) y = op2(g, "Reshape", y, ints(g, 3, DIMS(48, 3, 3)));   /* 144 values a channel, S = 9: blocked sums */
    for (int j = 0; j < 4; j++) snprintf(nm[j], sizeof nm[j], "%c%d", "smvb"[j], k);
    ir_node *bn = ot_node(g, "BatchNormalization", 15, 5,
                          IN(y, k ? ot_const(g, nm[0], IR_F32, 1, DIMS(3), D(0.7, 1.3, -0.9)) : sc,
                             k ? ot_const(g, nm[3], IR_F32, 1, DIMS(3), D(0.2, -0.1, 0)) : bb,
                             ot_const(g, nm[1], IR_F32, 1, DIMS(3), D(0, 0, 0)), ot_const(g, nm[2], IR_F32, 1, DIMS(3), D(1, 1, 1))),
                          k ? 1 : 5);
    ir_attr_set_int(bn, "training_mode", 1);
    y = k == 1 ? op1(g, "Relu", op2(g, "Add", fin(bn), x)) : op1(g, "Tanh", fin(bn));
  }
  ir_tensor *out = op1(g, "Tanh", fin(mk(g, "ReduceMean", 2, IN(op2(g, "Mul", y, y), ints(g, 1, DIMS(-1))), 1)));
  float xv[432], sv[3] = {0.8f, 1.2f, 1.5f}, bv[3] = {0.1f, -0.2f, 0.3f};
  ot_rnd_seed(11);
  for (int i = 0; i < 432; i++) xv[i] = (float)ot_rnd() / 2 + 0.05f * (float)(i % 3);
  void *inputs[3] = {xv, sv, bv};
  compile_and_compare_backward(g, out, 3, (ir_tensor *[]){x, sc, bb}, inputs);
  assert_true(bn_grad_in_place >= 1);   /* the emitted C ran with dX on dY's bytes */
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_unary),
    cmocka_unit_test(test_clip),
    cmocka_unit_test(test_pow),
    cmocka_unit_test(test_kinks_as_pytorch),
    cmocka_unit_test(test_relabel),
    cmocka_unit_test(test_concat_split),
    cmocka_unit_test(test_slice),
    cmocka_unit_test(test_gather),
    cmocka_unit_test(test_pad),
    cmocka_unit_test(test_reduce),
    cmocka_unit_test(test_misc),
    cmocka_unit_test(test_reduce_tile),
    cmocka_unit_test(test_extreme),
    cmocka_unit_test(test_extreme_ties),
    cmocka_unit_test(test_index_ops),
    cmocka_unit_test(test_layernorm),
    cmocka_unit_test(test_batchnorm),
    cmocka_unit_test(test_batchnorm_relu_nodes),
    cmocka_unit_test(test_instnorm),
    cmocka_unit_test(test_batchnorm_training_forward),
    cmocka_unit_test(test_dropout),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_backward_compiles),
    cmocka_unit_test(test_backward_compiles_more),
    cmocka_unit_test(test_backward_compiles_bn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
