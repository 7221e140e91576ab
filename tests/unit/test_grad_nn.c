/*
 * test_grad_nn.c - gradient builders of the neural-network ops
 * (compiler/ops/grad_nn.c) and the backward ops they emit (ops_grad.c).
 *
 * Each case is one forward node y = op(x...) with its attributes, run in
 * float64.  The graph differentiates z = y * (y + 0.7) (so dL/dy = 2y + 0.7
 * differs from element to element and a wrong routing of the gradient
 * shows) with ONNX's Gradient node over every float input, runs the pass
 * pipeline and the interpreter, and compares each gradient element with
 * the central finite difference (sum z(x+h) - sum z(x-h)) / 2h of the
 * forward graph alone in the interpreter.  Inputs are distinct random
 * values, so MaxPool has no ties and its gradient is defined.
 *
 * Then the emitted C of backward graphs (float32: a small conv net's
 * gradient with respect to its weights, pools, losses) is compiled and
 * compared with the interpreter on the same graph.
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
#include "runtime/kernels/kutil.h"
#include "optest.h"

#define MAX_IN 4

/* One input of a case: a float input to differentiate (dims), an int64
 * constant (labels), or absent. */
typedef struct in_spec {
  int rank;
  int64_t dims[6];
  const int64_t *labels;   /* non-NULL: an int64 constant with these values */
  int absent;
  int weights;             /* a float constant 0.5, 0.75, 1, ... (loss weights: not differentiated) */
} in_spec;

typedef struct spec {
  const char *op;
  int opset;
  int n_in;
  in_spec in[MAX_IN];
  const char *attrs;   /* "name=3 name=[1,2] name=0.5 name=text" */
  int n_out, out_j;    /* outputs the node has; the one differentiated */
} spec;

/* ---- building ---------------------------------------------------------------- */

static void set_attrs(ir_node *n, const char *text) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", text ? text : "");
  for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
    char *eq = strchr(tok, '=');
    assert_non_null(eq);
    *eq = 0;
    char *v = eq + 1;
    if (*v == '[') {
      int64_t vals[16];
      int cnt = 0;
      char *end = v;
      while (*end && *end != ']' && cnt < 16) vals[cnt++] = strtoll(end + 1, &end, 10);   /* end: at ',' or ']' */
      ir_attr_set_ints(n, tok, cnt, vals);
    } else if (strchr(v, '.')) {
      ir_attr_set_float(n, tok, atof(v));
    } else if ((*v >= '0' && *v <= '9') || *v == '-') {
      ir_attr_set_int(n, tok, strtoll(v, NULL, 10));
    } else {
      ir_attr_set_string(n, tok, v);
    }
  }
}

static ir_node *node(ir_graph *g, const char *op, int opset, int n_in, ir_tensor *const *in, int n_out,
                     const char *attrs) {
  ir_node *n = ot_node(g, op, opset, n_in, in, n_out);
  set_attrs(n, attrs);
  if (op_validate(n) < 0) fail_msg("%s", ir_last_error());
  return n;
}

/* ONNX's Gradient of y over xs[nx], into new graph outputs grads[nx]. */
static void add_gradient(ir_graph *g, ir_tensor *y, int nx, ir_tensor *const *xs, ir_tensor **grads) {
  for (int i = 0; i < nx; i++) {
    char name[32];
    snprintf(name, sizeof name, "d_%s", xs[i]->name);
    grads[i] = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  }
  ot_gradient(g, y, nx, xs, grads);
  for (int i = 0; i < nx; i++) ir_graph_add_output(g, grads[i]);
}

typedef struct built {
  ir_graph *g;
  int nx;
  ir_tensor *xs[MAX_IN], *z, *grads[MAX_IN];
} built;

/* The forward graph z = y * (y + 0.7) of the case in dtype dt, with a
 * Gradient over the float inputs when with_grad. */
static void build(built *b, const spec *s, ir_dtype dt, int with_grad) {
  ir_tensor *in[MAX_IN] = {0};
  memset(b, 0, sizeof *b);
  b->g = ir_graph_new("g", NULL);
  for (int i = 0; i < s->n_in; i++) {
    char name[16];
    const in_spec *is = &s->in[i];
    snprintf(name, sizeof name, "x%d", i);
    if (is->absent) continue;
    if (is->labels) {
      ir_tensor *t = ir_add_tensor(b->g, name, IR_I64, IR_CONST);
      ir_set_shape(t, is->rank, is->dims);
      ir_tensor_set_data(t, is->labels, (size_t)ir_numel(t) * sizeof(int64_t));
      in[i] = t;
    } else if (is->weights) {
      double w[64];
      for (int k = 0; k < 64; k++) w[k] = 0.5 + 0.25 * k;
      in[i] = ot_const(b->g, name, dt, is->rank, is->dims, w);
    } else {
      in[i] = b->xs[b->nx++] = ot_input(b->g, name, dt, is->rank, is->dims);
    }
  }
  ir_node *n = node(b->g, s->op, s->opset, s->n_in, in, s->n_out ? s->n_out : 1, s->attrs);
  ir_tensor *y = n->out[s->out_j];
  ir_tensor *c = ot_const(b->g, "c07", dt, 0, NULL, D(0.7));
  ir_tensor *yc = node(b->g, "Add", 13, 2, IN(y, c), 1, NULL)->out[0];
  b->z = node(b->g, "Mul", 13, 2, IN(y, yc), 1, NULL)->out[0];
  ir_graph_add_output(b->g, b->z);
  if (with_grad) add_gradient(b->g, b->z, b->nx, b->xs, b->grads);
}

static void run_passes(ir_graph *g, int plan) {
  pass_options o;
  pass_options_default(&o);
  o.plan = plan;
  if (pass_run_all(g, &o) < 0) fail_msg("%s", ir_last_error());
}

/* ---- finite differences ------------------------------------------------------- */

static double sum_z(const spec *s, double *const *vals) {
  built b;
  interp_ctx ic;
  build(&b, s, IR_F64, 0);
  run_passes(b.g, 0);
  if (interp_run(&ic, b.g, (const void *const *)vals) < 0) fail_msg("%s", ir_last_error());
  const double *z = interp_value(&ic, b.z);
  double t = 0;
  for (int64_t i = 0; i < ir_numel(b.z); i++) t += z[i];
  interp_free(&ic);
  ir_graph_free(b.g);
  return t;
}

/* Distinct values in [-2, 2): a permutation of a grid, shuffled by ot_rnd. */
static void fill_distinct(double *v, int64_t cnt) {
  for (int64_t i = 0; i < cnt; i++) v[i] = -2.0 + 4.0 * ((double)i + 0.5) / (double)cnt;
  for (int64_t i = cnt - 1; i > 0; i--) {
    int64_t j = (int64_t)((ot_rnd() + 3.0) / 6.0 * (double)(i + 1));
    double t = v[i];
    if (j > i) j = i;
    v[i] = v[j];
    v[j] = t;
  }
}

static void check_fd(const spec *s) {
  built b;
  interp_ctx ic;
  double *vals[MAX_IN] = {0};
  ot_rnd_seed(7);
  build(&b, s, IR_F64, 1);
  for (int i = 0; i < b.nx; i++) {
    vals[i] = malloc((size_t)ir_numel(b.xs[i]) * sizeof(double) + 8);
    fill_distinct(vals[i], ir_numel(b.xs[i]));
  }
  run_passes(b.g, 1);
  if (interp_run(&ic, b.g, (const void *const *)vals) < 0) fail_msg("%s", ir_last_error());
  const double h = 1e-6;
  for (int i = 0; i < b.nx; i++) {
    const double *gr = interp_value(&ic, b.grads[i]);
    assert_true(ir_same_shape(b.grads[i], b.xs[i]));
    for (int64_t k = 0; k < ir_numel(b.xs[i]); k++) {
      double keep = vals[i][k];
      vals[i][k] = keep + h;
      double up = sum_z(s, vals);
      vals[i][k] = keep - h;
      double down = sum_z(s, vals);
      vals[i][k] = keep;
      double fd = (up - down) / (2 * h);
      if (fabs(gr[k] - fd) > 1e-5 * (1 + fabs(fd)))
        fail_msg("%s [%s]: d/dx%d[%lld]: autodiff %.12g, finite differences %.12g", s->op,
                 s->attrs ? s->attrs : "", i, (long long)k, gr[k], fd);
    }
  }
  interp_free(&ic);
  ir_graph_free(b.g);
  for (int i = 0; i < MAX_IN; i++) free(vals[i]);
}

static void check_all(const spec *cases, int n) {
  for (int i = 0; i < n; i++) check_fd(&cases[i]);
}

#define X(...) {.rank = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .dims = {__VA_ARGS__}}
#define LABELS(v, ...) {.rank = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .dims = {__VA_ARGS__}, .labels = v}
#define W(c) {.rank = 1, .dims = {c}, .weights = 1}

/* ---- the cases ---------------------------------------------------------------- */

static void test_gemm(void **state) {
  (void)state;
  const spec cases[] = {
      {"Gemm", 13, 3, {X(3, 4), X(4, 5), X(5)}, NULL, 0, 0},
      {"Gemm", 13, 3, {X(3, 4), X(4, 5), X(3, 5)}, "alpha=0.5 beta=0.25", 0, 0},
      {"Gemm", 13, 3, {X(4, 3), X(5, 4), X(3, 1)}, "transA=1 transB=1 alpha=0.5 beta=1.5", 0, 0},
      {"Gemm", 13, 3, {X(3, 4), X(5, 4), X(1, 1)}, "transB=1 beta=-2.0", 0, 0},
      {"Gemm", 13, 2, {X(4, 3), X(4, 2)}, "transA=1 alpha=2.0", 0, 0},
  };
  check_all(cases, 5);
}

static void test_matmul(void **state) {
  (void)state;
  const spec cases[] = {
      {"MatMul", 13, 2, {X(3, 4), X(4, 2)}, NULL, 0, 0},
      {"MatMul", 13, 2, {X(2, 3, 4), X(4, 5)}, NULL, 0, 0},         /* batched A, 2-D weights */
      {"MatMul", 13, 2, {X(2, 1, 3, 4), X(3, 4, 2)}, NULL, 0, 0},   /* batch broadcast both ways */
      {"MatMul", 13, 2, {X(4), X(2, 4, 3)}, NULL, 0, 0},             /* 1-D A */
      {"MatMul", 13, 2, {X(2, 3, 4), X(4)}, NULL, 0, 0},             /* 1-D B */
      {"MatMul", 13, 2, {X(4), X(4)}, NULL, 0, 0},                   /* dot product */
  };
  check_all(cases, 6);
}

static void test_conv(void **state) {
  (void)state;
  const spec cases[] = {
      {"Conv", 13, 3, {X(2, 2, 5, 5), X(3, 2, 3, 3), X(3)}, NULL, 0, 0},
      {"Conv", 13, 3, {X(1, 2, 7, 6), X(4, 2, 3, 2), X(4)}, "strides=[2,2] pads=[1,0,1,1]", 0, 0},
      {"Conv", 13, 2, {X(2, 2, 8, 8), X(3, 2, 3, 3)}, "strides=[2,2]", 0, 0},   /* the last input row unread */
      {"Conv", 13, 2, {X(1, 4, 6, 6), X(4, 1, 3, 3)}, "group=4 pads=[1,1,1,1]", 0, 0},   /* depthwise */
      /* stride 1: dX as a Conv with the flipped kernel; per group channel swap, multiplier 2, and a pad beyond
       * the kernel's reach, where ConvTranspose takes over */
      {"Conv", 13, 3, {X(1, 4, 5, 5), X(6, 2, 3, 3), X(6)}, "group=2 pads=[1,0,2,1] dilations=[1,2]", 0, 0},
      {"Conv", 13, 2, {X(1, 2, 5, 5), X(4, 1, 3, 3)}, "group=2 pads=[0,1,1,0]", 0, 0},
      {"Conv", 13, 2, {X(1, 2, 4, 4), X(3, 2, 1, 1)}, "pads=[1,1,1,1]", 0, 0},
      {"Conv", 13, 3, {X(1, 2, 4, 5, 4), X(2, 2, 2, 3, 2), X(2)}, "strides=[2,1,1] pads=[0,1,1,1,0,0]", 0, 0},   /* 3-D */
      {"Conv", 13, 2, {X(2, 4, 7, 7), X(2, 2, 2, 2)}, "group=2 dilations=[2,2] strides=[2,1]", 0, 0},
      {"Conv", 13, 3, {X(2, 3, 9), X(2, 3, 3), X(2)}, "strides=[3] pads=[2,1] dilations=[2]", 0, 0},   /* 1-D */
  };
  check_all(cases, 10);
}

static void test_conv_transpose(void **state) {
  (void)state;
  const spec cases[] = {
      {"ConvTranspose", 13, 3, {X(1, 2, 3, 3), X(2, 3, 3, 3), X(3)}, NULL, 0, 0},
      {"ConvTranspose", 13, 2, {X(2, 2, 3, 4), X(2, 2, 3, 2)}, "strides=[2,2] pads=[1,0,0,1] output_padding=[1,1]", 0, 0},
      {"ConvTranspose", 13, 3, {X(1, 4, 3, 3), X(4, 1, 2, 2), X(4)}, "group=4 dilations=[2,2]", 0, 0},
      {"ConvTranspose", 13, 2, {X(1, 2, 4), X(2, 2, 3)}, "strides=[3] pads=[1,2] output_padding=[2]", 0, 0},
      /* output_padding past the stride (allowed below the dilation): the rows it adds get only the bias */
      {"ConvTranspose", 13, 3, {X(1, 2, 3, 3), X(2, 2, 2, 2), X(2)}, "dilations=[3,2] output_padding=[2,1]", 0, 0},
  };
  check_all(cases, 5);
}

static void test_pools(void **state) {
  (void)state;
  const spec cases[] = {
      {"MaxPool", 12, 1, {X(1, 2, 5, 5)}, "kernel_shape=[2,2]", 0, 0},
      {"MaxPool", 12, 1, {X(2, 1, 6, 7)}, "kernel_shape=[3,3] strides=[2,2] pads=[1,1,1,1]", 0, 0},
      {"MaxPool", 12, 1, {X(1, 2, 7, 7)}, "kernel_shape=[2,2] strides=[2,2] ceil_mode=1 dilations=[2,1]", 0, 0},
      {"MaxPool", 12, 1, {X(1, 2, 8)}, "kernel_shape=[3] strides=[2]", 0, 0},
      {"MaxPool", 12, 1, {X(1, 2, 4, 5, 4)}, "kernel_shape=[2,2,2] strides=[2,1,2] pads=[0,1,0,1,0,1]", 0, 0},
      {"AveragePool", 19, 1, {X(1, 2, 5, 5)}, "kernel_shape=[3,3] pads=[1,1,1,1] count_include_pad=1", 0, 0},
      {"AveragePool", 19, 1, {X(1, 2, 5, 5)}, "kernel_shape=[3,3] pads=[1,1,1,1] count_include_pad=0", 0, 0},
      {"AveragePool", 19, 1, {X(2, 1, 6, 7)}, "kernel_shape=[2,3] strides=[2,2] ceil_mode=1", 0, 0},
      {"AveragePool", 19, 1, {X(1, 1, 7, 7)}, "kernel_shape=[3,3] strides=[2,2] pads=[0,1,2,0] ceil_mode=1 count_include_pad=1", 0, 0},
      {"GlobalAveragePool", 13, 1, {X(2, 3, 3, 4)}, NULL, 0, 0},
      {"GlobalMaxPool", 13, 1, {X(2, 3, 3, 4)}, NULL, 0, 0},
  };
  check_all(cases, 11);
}

static void test_softmax(void **state) {
  (void)state;
  const spec cases[] = {
      {"Softmax", 13, 1, {X(3, 5)}, NULL, 0, 0},
      {"Softmax", 13, 1, {X(2, 3, 4)}, "axis=1", 0, 0},
      {"Softmax", 11, 1, {X(2, 3, 4)}, "axis=1", 0, 0},   /* opset < 13: over axes 1 and 2 together */
      {"LogSoftmax", 13, 1, {X(2, 3, 4)}, "axis=-1", 0, 0},
      {"LogSoftmax", 11, 1, {X(2, 3, 4)}, NULL, 0, 0},
  };
  check_all(cases, 5);
}

static const int64_t lab6[] = {2, 0, 1, 2, 3, 1};
static const int64_t lab6ii[] = {2, -1, 1, 2, -1, 0};

static void test_losses(void **state) {
  (void)state;
  const spec cases[] = {
      {"SoftmaxCrossEntropyLoss", 13, 2, {X(6, 4), LABELS(lab6, 6)}, NULL, 0, 0},
      {"SoftmaxCrossEntropyLoss", 13, 3, {X(6, 4), LABELS(lab6, 6), W(4)}, "reduction=sum", 0, 0},
      {"SoftmaxCrossEntropyLoss", 13, 3, {X(6, 4), LABELS(lab6ii, 6), W(4)}, "ignore_index=-1", 0, 0},
      {"SoftmaxCrossEntropyLoss", 13, 2, {X(2, 4, 3), LABELS(lab6ii, 2, 3)}, "reduction=none ignore_index=-1", 0, 0},
      {"SoftmaxCrossEntropyLoss", 13, 2, {X(2, 4, 3), LABELS(lab6, 2, 3)}, "reduction=mean", 2, 1},   /* log_prob */
      {"NegativeLogLikelihoodLoss", 13, 2, {X(6, 4), LABELS(lab6, 6)}, NULL, 0, 0},
      {"NegativeLogLikelihoodLoss", 13, 3, {X(2, 4, 3), LABELS(lab6ii, 2, 3), W(4)}, "ignore_index=-1", 0, 0},
      {"NegativeLogLikelihoodLoss", 13, 3, {X(6, 4), LABELS(lab6, 6), W(4)}, "reduction=none", 0, 0},
  };
  check_all(cases, 8);
}

/* ---- emitted C of backward graphs against the interpreter ------------------------ */

/* A float32 training graph: its forward ends in a scalar loss; the
 * gradient of the loss over every graph input is added as outputs. */
typedef ir_tensor *(*net_fn)(ir_graph *g);

static ir_tensor *in32(ir_graph *g, const char *name, int rank, const int64_t *dims) {
  return ot_input(g, name, IR_F32, rank, dims);
}

/* Conv (stride 2, pads) -> Relu -> MaxPool -> grouped Conv (dilation) ->
 * AveragePool (count_include_pad) -> GlobalAveragePool -> cross-entropy. */
static ir_tensor *net_conv(ir_graph *g) {
  static const int64_t labels[2] = {1, 3};
  ir_tensor *x = in32(g, "x", 4, DIMS(2, 3, 12, 12)), *w1 = in32(g, "w1", 4, DIMS(8, 3, 3, 3));
  ir_tensor *b1 = in32(g, "b1", 1, DIMS(8)), *w2 = in32(g, "w2", 4, DIMS(4, 4, 3, 3));
  ir_tensor *t = ot_const_raw(g, "labels", IR_I64, 3, DIMS(2, 1, 1), labels);
  ir_tensor *h = node(g, "Conv", 13, 3, IN(x, w1, b1), 1, "strides=[2,2] pads=[1,1,1,1]")->out[0];
  h = node(g, "Relu", 13, 1, IN(h), 1, NULL)->out[0];
  h = node(g, "MaxPool", 12, 1, IN(h), 1, "kernel_shape=[2,2] strides=[1,1]")->out[0];
  h = node(g, "Conv", 13, 2, IN(h, w2), 1, "group=2 dilations=[2,2] pads=[2,2,2,2]")->out[0];
  h = node(g, "AveragePool", 19, 1, IN(h), 1, "kernel_shape=[3,3] strides=[2,2] pads=[1,1,1,1] count_include_pad=1")->out[0];
  h = node(g, "GlobalAveragePool", 13, 1, IN(h), 1, NULL)->out[0];
  return node(g, "SoftmaxCrossEntropyLoss", 13, 2, IN(h, t), 1, NULL)->out[0];
}

/* ConvTranspose (stride 2, output_padding) -> AveragePool (ceil_mode) ->
 * LogSoftmax over channels -> NegativeLogLikelihoodLoss with weights and
 * ignore_index. */
static ir_tensor *net_deconv(ir_graph *g) {
  static const int64_t labels[1 * 4 * 4] = {0, 1, 2, -1, 2, 2, 1, 0, -1, 0, 1, 2, 1, 1, 0, 2};
  ir_tensor *x = in32(g, "x", 4, DIMS(1, 4, 4, 4)), *w = in32(g, "w", 4, DIMS(4, 3, 3, 3));
  ir_tensor *b = in32(g, "b", 1, DIMS(3));
  ir_tensor *t = ot_const_raw(g, "labels", IR_I64, 3, DIMS(1, 4, 4), labels);
  ir_tensor *cw = ot_const(g, "cw", IR_F32, 1, DIMS(3), D(0.5, 1.0, 2.0));
  ir_tensor *h = node(g, "ConvTranspose", 13, 3, IN(x, w, b), 1, "strides=[2,2] pads=[1,1,1,1] output_padding=[1,1]")->out[0];
  h = node(g, "AveragePool", 19, 1, IN(h), 1, "kernel_shape=[3,3] strides=[2,2] ceil_mode=1")->out[0];
  h = node(g, "LogSoftmax", 13, 1, IN(h), 1, "axis=1")->out[0];
  return node(g, "NegativeLogLikelihoodLoss", 13, 3, IN(h, t, cw), 1, "ignore_index=-1")->out[0];
}

/* Batched MatMul with broadcasting -> Gemm (transB, C) -> Softmax -> a
 * weighted sum through Mul (the loss need not be a loss op). */
static ir_tensor *net_dense(ir_graph *g) {
  ir_tensor *x = in32(g, "x", 2, DIMS(5, 8)), *w = in32(g, "w", 2, DIMS(6, 8)), *c = in32(g, "c", 1, DIMS(6));
  ir_tensor *a = in32(g, "a", 3, DIMS(2, 5, 6)), *m = in32(g, "m", 2, DIMS(6, 4));
  ir_tensor *h = node(g, "Gemm", 13, 3, IN(x, w, c), 1, "transB=1 alpha=0.5")->out[0];
  h = node(g, "Tanh", 13, 1, IN(h), 1, NULL)->out[0];
  h = node(g, "Mul", 13, 2, IN(a, h), 1, NULL)->out[0];   /* [2,5,6] */
  h = node(g, "MatMul", 13, 2, IN(h, m), 1, NULL)->out[0];   /* [2,5,4] */
  return node(g, "Softmax", 13, 1, IN(h), 1, "axis=-1")->out[0];
}

static void check_emitted(net_fn net, const char *tag) {
  ot_need_compilers();
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *grads[8];
  ir_tensor *loss = net(g);
  ir_graph_add_output(g, loss);
  int nx = g->n_inputs;
  assert_true(nx >= 1 && nx <= 8);
  add_gradient(g, loss, nx, g->inputs, grads);
  run_passes(g, 0);
  ot_rnd_seed(11);
  void **inputs = calloc(sizeof grads / sizeof grads[0], sizeof *inputs);   /* nx <= 8 of them used */
  for (int i = 0; i < nx; i++) {
    inputs[i] = calloc((size_t)ir_nbytes(g->inputs[i]) + 1, 1);
    for (int64_t k = 0; k < ir_numel(g->inputs[i]); k++) ((float *)inputs[i])[k] = (float)(ot_rnd() / 3.0);
  }
  interp_ctx c;
  char dir[64];
  if (interp_run(&c, g, (const void *const *)inputs) < 0) fail_msg("interp: %s", ir_last_error());
  ot_emit_tmp(g, tag, dir);
  ot_write_driver(g, dir, inputs);
  ot_cc_opts o = {.tag = tag, .keep_env = "MODELC_KEEP", .cc_flags = "-O2", .clang_sanitize = 1};
  ot_build_run(dir, &o);
  for (int j = 0; j < g->n_outputs; j++) {
    const ir_tensor *y = g->outputs[j];
    float *got = ot_read_output(g, dir, j);
    const float *want = interp_value(&c, y);
    double scale = 0;
    for (int64_t k = 0; k < ir_numel(y); k++) scale = fmax(scale, fabs(want[k]));
    for (int64_t k = 0; k < ir_numel(y); k++)
      if (!(fabs(got[k] - want[k]) <= 1e-4 * (1 + scale)))
        fail_msg("%s: output %s element %lld: C %.9g, interpreter %.9g (files in %s)", tag, y->name, (long long)k,
                 got[k], want[k], dir);
    free(got);
  }
  interp_free(&c);
  for (int i = 0; i < nx; i++) free(inputs[i]);
  free(inputs);
  ot_cleanup(dir, o.keep_env);
  ir_graph_free(g);
}

static void test_emit_conv_net(void **state) {
  (void)state;
  check_emitted(net_conv, "grad_conv");
}

static void test_emit_deconv_net(void **state) {
  (void)state;
  check_emitted(net_deconv, "grad_deconv");
}

static void test_emit_dense_net(void **state) {
  (void)state;
  check_emitted(net_dense, "grad_dense");
}

/* The internal backward ops refuse inconsistent operands with a message
 * naming the node and the op, rather than reading past a buffer. */
static void test_internal_ops_refuse(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 4, DIMS(1, 2, 5, 5)), *dy = ot_input(g, "dy", IR_F32, 4, DIMS(1, 3, 4, 4));
  ir_node *n = ot_node(g, "ConvWeightGrad", 1, 2, IN(x, dy), 1);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  set_attrs(n, "kernel_shape=[3,3] strides=[1,1] pads=[0,0,0,0] dilations=[1,1] group=1");
  ot_fails(g, n, "dY spatial dim 0 is 4; the window over X gives 3");
  ir_tensor *lp = ot_input(g, "lp", IR_F32, 2, DIMS(4, 3)), *dl = ot_input(g, "dl", IR_F32, 1, DIMS(4));
  ir_tensor *t = ot_input(g, "t", IR_I64, 1, DIMS(4));
  n = ot_node(g, "NegativeLogLikelihoodLossGrad", 1, 3, IN(dl, lp, t), 1);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  set_attrs(n, "reduction=mean");
  ot_fails(g, n, "dL must have the loss's shape (a scalar)");
  ir_graph_free(g);
}

/* Ties in MaxPool: the whole gradient goes to the first maximum in window
 * order.  Expected values from PyTorch (max_pool2d(x, 2, 1) backward with
 * these x and dy), in the interpreter and in the emitted C. */
static void test_maxpool_ties(void **state) {
  (void)state;
  const float xv[9] = {1, 1, 0, 1, 1, 0, 0, 0, 0}, dyv[4] = {1, 10, 100, 1000};
  const double want[9] = {1, 10, 0, 100, 1000, 0, 0, 0, 0};
  ot_need_compilers();
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *x = ot_input(g, "x", IR_F32, 4, DIMS(1, 1, 3, 3)), *dy = ot_input(g, "dy", IR_F32, 4, DIMS(1, 1, 2, 2));
  ir_node *n = ot_node(g, "MaxPoolGrad", 1, 2, IN(x, dy), 1);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  set_attrs(n, "kernel_shape=[2,2] strides=[1,1] pads=[0,0,0,0] dilations=[1,1]");
  ot_ok(g, n);
  ir_graph_add_output(g, n->out[0]);
  void *inputs[2] = {(void *)xv, (void *)dyv};
  interp_ctx c;
  char dir[64];
  if (interp_run(&c, g, (const void *const *)inputs) < 0) fail_msg("%s", ir_last_error());
  ot_expect_floats(interp_value(&c, n->out[0]), want, 9);
  ot_emit_tmp(g, "grad_ties", dir);
  ot_write_driver(g, dir, inputs);
  ot_cc_opts o = {.tag = "grad_ties", .keep_env = "MODELC_KEEP", .cc_flags = "-O2", .clang_sanitize = 1};
  ot_build_run(dir, &o);
  float *got = ot_read_output(g, dir, 0);
  ot_expect_floats(got, want, 9);
  free(got);
  interp_free(&c);
  ot_cleanup(dir, o.keep_env);
  ir_graph_free(g);
}

/* Each backward op alone, emitted C against the interpreter on random
 * inputs, over geometries the nets above do not reach (1-D and 3-D,
 * strides with dilations, asymmetric pads, ceil_mode windows). */
static void emit_one(const char *op, int rank, const int64_t *xd, const int64_t *dyd, const char *attrs) {
  ir_graph *g = ir_graph_new("g", NULL);
  ir_tensor *dy = ot_input(g, "dy", IR_F32, rank, dyd), *x;
  int avg = !strcmp(op, "AveragePoolGrad");   /* (dY, X's shape); the others (X, dY) */
  x = avg ? ot_const_ints(g, "xshape", rank, xd) : ot_input(g, "x", IR_F32, rank, xd);
  ir_node *n = ot_node(g, op, 1, 2, avg ? IN(dy, x) : IN(x, dy), 1);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  set_attrs(n, attrs);
  ot_ok(g, n);
  ot_cc_opts o = {.tag = "grad_op", .keep_env = "MODELC_KEEP", .cc_flags = "-O2", .clang_sanitize = 1};
  ot_compile_and_compare(g, 1e-4, &o);
  ir_graph_free(g);
}

static void test_emit_backward_ops(void **state) {
  (void)state;
  ot_need_compilers();
  emit_one("ConvWeightGrad", 3, DIMS(2, 4, 11), DIMS(2, 6, 4),
           "kernel_shape=[3] strides=[3] pads=[2,1] dilations=[2] group=2");
  emit_one("ConvWeightGrad", 4, DIMS(1, 3, 9, 20), DIMS(1, 3, 5, 10),
           "kernel_shape=[3,3] strides=[2,2] pads=[1,0,1,1] dilations=[1,1] group=3");
  /* the GEMM core's (kl_wgrad.c): 576 taps make blocks of 227 grid positions, so each sample's grid
   * of 358 (18 rows 20 wide) takes two, the sum running on across them and the samples; 20 channels
   * fill one B panel and 4 lanes of another */
  emit_one("ConvWeightGrad", 4, DIMS(2, 64, 18, 18), DIMS(2, 20, 18, 18),
           "kernel_shape=[3,3] strides=[1,1] pads=[1,1,1,1] dilations=[1,1] group=1");
  /* 63 taps (A's last tile 3 rows), strides with dilations, pads on every side */
  emit_one("ConvWeightGrad", 4, DIMS(3, 7, 11, 9), DIMS(3, 3, 5, 4),
           "kernel_shape=[3,3] strides=[2,2] pads=[2,1,1,2] dilations=[2,2] group=1");
  emit_one("ConvWeightGrad", 5, DIMS(1, 2, 4, 5, 6), DIMS(1, 4, 2, 3, 6),
           "kernel_shape=[2,2,3] strides=[2,2,1] pads=[0,0,1,0,0,1] dilations=[1,1,1] group=2");
  emit_one("MaxPoolGrad", 4, DIMS(1, 2, 7, 7), DIMS(1, 2, 4, 2),
           "kernel_shape=[2,3] strides=[2,2] pads=[1,0,0,0] dilations=[1,2]");
  emit_one("MaxPoolGrad", 3, DIMS(2, 3, 10), DIMS(2, 3, 5), "kernel_shape=[3] strides=[2] pads=[1,1] dilations=[1]");
  /* windows that tile the input (each position written once): exactly, and with a row and a
   * column past the last window */
  emit_one("MaxPoolGrad", 4, DIMS(2, 3, 8, 6), DIMS(2, 3, 4, 3), "kernel_shape=[2,2] strides=[2,2] pads=[0,0,0,0] dilations=[1,1]");
  emit_one("MaxPoolGrad", 4, DIMS(1, 2, 7, 10), DIMS(1, 2, 2, 3), "kernel_shape=[3,3] strides=[3,3] pads=[0,0,0,0] dilations=[1,1]");
  emit_one("AveragePoolGrad", 4, DIMS(1, 2, 7, 7), DIMS(1, 2, 4, 4),
           "kernel_shape=[3,3] strides=[2,2] pads=[0,1,2,0] dilations=[1,1] count_include_pad=1");
  emit_one("AveragePoolGrad", 4, DIMS(1, 2, 6, 8), DIMS(1, 2, 3, 4),   /* ceil_mode: the last window overhangs */
           "kernel_shape=[2,3] strides=[2,2] pads=[0,0,0,0] dilations=[1,1] count_include_pad=0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gemm),          cmocka_unit_test(test_matmul), cmocka_unit_test(test_conv),
      cmocka_unit_test(test_conv_transpose), cmocka_unit_test(test_pools), cmocka_unit_test(test_softmax),
      cmocka_unit_test(test_losses),        cmocka_unit_test(test_emit_conv_net),
      cmocka_unit_test(test_emit_deconv_net), cmocka_unit_test(test_emit_dense_net),
      cmocka_unit_test(test_internal_ops_refuse), cmocka_unit_test(test_maxpool_ties),
      cmocka_unit_test(test_emit_backward_ops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
