/*
 * test_train.c - the training step (compiler/passes/train.c) run by the
 * interpreter (interp_train_step), checked against PyTorch.
 *
 * The model is pred = tanh(x * w + b) with x [4,3] and the parameters w, b
 * [3]; three steps of each optimizer are run and the loss of each step and
 * the final parameters compared with torch.optim on the same numbers
 * (tests/unit/train_ref.py printed the tables below).  An MLP (Gemm,
 * Relu, MatMul) with cross-entropy, and BatchNormalization in training
 * mode (its running statistics as updates; trained through) and Dropout
 * in training mode, likewise.
 * Then what must not happen when training (a parameter folded,
 * a trained bias fused as a copy), and the spec's errors: unknown
 * optimizers and keys, missing lr, --freeze of a stranger, no loss.
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
#include "compiler/passes/plan.h"
#include "compiler/passes/train.h"
#include "runtime/interp.h"

/* ---- tests/unit/train_ref.py ---- */
/* sgd */
static const double sgd_loss[] = {0.220357493, 0.203683093, 0.193878829};
static const double sgd_w[] = {0.560249746, -0.273890585, 0.86546278};
static const double sgd_b[] = {-0.0540949069, 0.0631186366, -0.248147786};
/* sgd_wd */
static const double sgd_wd_loss[] = {0.220357493, 0.200277507, 0.188312694};
static const double sgd_wd_w[] = {0.488370657, -0.238442734, 0.731523275};
static const double sgd_wd_b[] = {-0.0569640324, 0.0590167046, -0.214621916};
/* momentum */
static const double momentum_loss[] = {0.220357493, 0.203683093, 0.186035678};
static const double momentum_w[] = {0.614639044, -0.29464674, 0.747227609};
static const double momentum_b[] = {-0.201207548, 0.12312685, -0.293971747};
/* nesterov */
static const double nesterov_loss[] = {0.220357493, 0.189803541, 0.173314169};
static const double nesterov_w[] = {0.55507803, -0.267633408, 0.481509805};
static const double nesterov_b[] = {-0.200324327, 0.117752396, -0.23850669};
/* frozen */
static const double frozen_loss[] = {0.220357493, 0.214876249, 0.204983965};
static const double frozen_w[] = {0.621806443, -0.291795909, 0.74119395};
static const double frozen_b[] = {0.100000001, 0, -0.200000003};
/* adam */
static const double adam_loss[] = {0.220357493, 0.208743572, 0.200585738};
static const double adam_w[] = {0.432641059, -0.182044968, 0.850737035};
static const double adam_b[] = {-0.0454468727, 0.113536902, -0.261770666};
/* adam_default */
static const double adam_default_loss[] = {0.220357493, 0.219952956, 0.21955061};
static const double adam_default_w[] = {0.502999723, -0.252999753, 0.997000158};
static const double adam_default_b[] = {0.0970004648, 0.00299893459, -0.202998921};
/* adamw */
static const double adamw_loss[] = {0.220357493, 0.202716947, 0.190574899};
static const double adamw_w[] = {0.647879362, -0.398695797, 0.849234998};
static const double adamw_b[] = {-0.0466892347, 0.132112578, -0.326719165};
/* adagrad */
static const double adagrad_loss[] = {0.220357493, 0.233189031, 0.168237224};
static const double adagrad_w[] = {0.409870446, -0.203915477, 0.434220254};
static const double adagrad_b[] = {-0.107972533, 0.0847575217, -0.158760458};
/* adagrad_default */
static const double adagrad_default_loss[] = {0.220357493, 0.216407701, 0.213812396};
static const double adagrad_default_w[] = {0.52260524, -0.272639871, 0.977283299};
static const double adagrad_default_b[] = {0.0775600001, 0.0219059996, -0.221865863};
/* bce */
static const double bce_loss[] = {0.720435381, 0.711037397, 0.702295482};
static const double bce_w[] = {0.555426836, -0.246430203, 0.913279533};
static const double bce_b[] = {-0.028713882, 0.00148843788, -0.313628912};

enum { N = 4, F = 3, STEPS = 3 };
#define DIMS2(a, b) ((const int64_t[]){a, b})

typedef struct model {
  ir_graph *g;
  ir_tensor *w, *b;
} model;

static ir_tensor *node(ir_graph *g, const char *op, ir_tensor *a, ir_tensor *c) {
  char name[32];
  snprintf(name, sizeof name, "t%d", g->n_tensors);
  ir_tensor *y = ir_add_tensor(g, name, IR_UNDEF, IR_ACTIVATION);
  ir_tensor *in[2] = {a, c};
  ir_node *n = ir_add_node(g, op, name);
  n->opset = 14;
  ir_node_set_io(n, c ? 2 : 1, in, 1, &y);
  assert_int_equal(op_validate(n), 0);
  return y;
}

static ir_tensor *param(ir_graph *g, const char *name, const float *v) {
  int64_t d = F;
  ir_tensor *t = ir_add_tensor(g, name, IR_F32, IR_PARAM);
  ir_set_shape(t, 1, &d);
  ir_tensor_set_data(t, v, sizeof(float) * F);
  return t;
}

/* x [N,F] -> tanh(x*w + b) (or the logits x*w + b) */
static model build(int logits) {
  static const float w0[F] = {0.5f, -0.25f, 1.0f}, b0[F] = {0.1f, 0.0f, -0.2f};
  int64_t d[2] = {N, F};
  model m;
  m.g = ir_graph_new("tiny", NULL);
  ir_tensor *x = ir_add_tensor(m.g, "x", IR_F32, IR_INPUT);
  ir_set_shape(x, 2, d);
  ir_graph_add_input(m.g, x);
  m.w = param(m.g, "w", w0);
  m.b = param(m.g, "b", b0);
  ir_tensor *z = node(m.g, "Add", node(m.g, "Mul", x, m.w), m.b);
  ir_graph_add_output(m.g, logits ? z : node(m.g, "Tanh", z, NULL));
  return m;
}

/* The inputs of train_ref.py: x and the label (y, or y > 0 for bce). */
static void data(float *x, float *y, int binary) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < F; j++) {
      x[i * F + j] = (float)(0.1 * (i * F + j) - 0.5);
      y[i * F + j] = (float)(0.3 * ((i + 2 * j) % 5) - 0.6);
      if (binary) y[i * F + j] = y[i * F + j] > 0 ? 1.0f : 0.0f;
    }
}

static pass_options training_opts(void) {
  pass_options o;
  pass_options_default(&o);
  o.training = 1;
  return o;
}

/* Build the training step of m; 0, or -1 with the error kept. */
static int make_step(model *m, const train_spec *s) {
  pass_options o = training_opts();
  if (pass_infer(m->g, &o) < 0 || pass_train(m->g, s, &o) < 0) return -1;
  return pass_run_all(m->g, &o);
}

static void expect_close(const char *what, const double *got, const double *want, int n, double tol) {
  for (int i = 0; i < n; i++)
    if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i]))))
      fail_msg("%s[%d]: got %.9g, torch %.9g", what, i, got[i], want[i]);
}

/* STEPS steps of spec s on the tiny model against torch's numbers. */
static void steps_vs_torch(const train_spec *s, int logits, const double *loss, const double *w, const double *b) {
  model m = build(logits);
  float x[N * F], y[N * F];
  data(x, y, logits);
  if (make_step(&m, s) < 0) {
    fail_msg("%s", ir_last_error());
  }
  assert_int_equal(m.g->n_labels, 1);
  assert_int_equal(m.g->n_inputs, 2);
  assert_ptr_equal(m.g->outputs[0], m.g->loss);
  const void *in[2] = {x, y};
  double got[STEPS], gw[F], gb[F];
  for (int k = 0; k < STEPS; k++) assert_int_equal(interp_train_step(m.g, in, &got[k]), 0);
  for (int i = 0; i < F; i++) {
    gw[i] = ((const float *)m.w->data)[i];
    gb[i] = ((const float *)m.b->data)[i];
  }
  expect_close("loss", got, loss, STEPS, 1e-5);
  expect_close("w", gw, w, F, 1e-5);
  expect_close("b", gb, b, F, 1e-5);
  ir_graph_free(m.g);
}

static train_spec spec(const char *loss, const char *opt) {
  train_spec s;
  memset(&s, 0, sizeof s);
  s.loss = loss;
  if (train_parse_optimizer(&s, opt) < 0) fail_msg("%s: %s", opt, ir_last_error());
  return s;
}

static void test_sgd(void **st) {
  (void)st;
  train_spec s = spec("mse", "sgd:lr=0.5");
  steps_vs_torch(&s, 0, sgd_loss, sgd_w, sgd_b);
  s = spec("mse", "sgd:lr=0.5,weight_decay=0.1");
  steps_vs_torch(&s, 0, sgd_wd_loss, sgd_wd_w, sgd_wd_b);
}

static void test_momentum(void **st) {
  (void)st;
  train_spec s = spec("mse", "sgd:lr=0.5,momentum=0.9");
  steps_vs_torch(&s, 0, momentum_loss, momentum_w, momentum_b);
  s = spec("mse", "sgd:lr=0.5,momentum=0.9,nesterov=1,weight_decay=0.05");
  steps_vs_torch(&s, 0, nesterov_loss, nesterov_w, nesterov_b);
}

static void test_frozen(void **st) {
  (void)st;
  train_spec s = spec("mse", "sgd:lr=0.5,momentum=0.9");
  s.n_frozen = 1;
  s.frozen[0] = "b";
  steps_vs_torch(&s, 0, frozen_loss, frozen_w, frozen_b);
  /* b is no update's target and keeps its exact bits */
  model m = build(0);
  assert_int_equal(make_step(&m, &s), 0);
  for (int i = 0; i < m.g->n_updates; i++) assert_ptr_not_equal(m.g->updates[i].target, m.b);
  ir_graph_free(m.g);
}

static void test_adam(void **st) {
  (void)st;
  train_spec s = spec("mse", "adam:lr=0.05,beta1=0.8,beta2=0.99,eps=1e-6,weight_decay=0.1");
  steps_vs_torch(&s, 0, adam_loss, adam_w, adam_b);
  s = spec("mse", "adam");
  steps_vs_torch(&s, 0, adam_default_loss, adam_default_w, adam_default_b);
  s = spec("mse", "adam:lr=0.05,decoupled=1");   /* AdamW, weight_decay 0.01 by default */
  assert_true(s.opt.weight_decay == 0.01);
  steps_vs_torch(&s, 0, adamw_loss, adamw_w, adamw_b);
}

/* The step of the position of node n in the schedule. */
static int step_of(const ir_graph *g, const ir_node *n) {
  for (int s = 0; s < g->n_nodes; s++)
    if (g->nodes[s] == n) return s;
  fail_msg("node '%s' is not in the schedule", n->name);
  return -1;
}

/* The optimizer writes each parameter and its state in place: no arena
 * bytes, its node after the loss and after every other reader of what it
 * writes, and its gradient's bytes free right after it.  The plan keeps
 * every other update's value (Adam's step counter) to the end of the step
 * (its bytes are copied into the target after the last node), and nothing
 * else then shares them; DCE kept the nodes computing them. */
static void test_plan_keeps_updates(void **st) {
  (void)st;
  train_spec s = spec("mse", "adam");
  model m = build(0);
  assert_int_equal(make_step(&m, &s), 0);
  plan_buffer *bufs = NULL;
  int nb = 0, found = 0, in_place = 0;
  assert_int_equal(plan_with_buffers(m.g, 1, &bufs, &nb), 0);
  for (int u = 0; u < m.g->n_updates; u++) {
    const ir_tensor *v = m.g->updates[u].value, *t = m.g->updates[u].target;
    assert_non_null(v->producer);
    if (v->stored_in) {
      int at = step_of(m.g, v->producer);
      assert_ptr_equal(v->stored_in, t);
      assert_true(v->offset < 0);
      assert_true(step_of(m.g, m.g->loss->producer) < at);
      for (int k = at + 1; k < m.g->n_nodes; k++)
        for (int i = 0; i < m.g->nodes[k]->n_in; i++)
          if (m.g->nodes[k]->in[i] == t) fail_msg("'%s' reads '%s' after its update", m.g->nodes[k]->name, t->name);
      for (int i = 0; i < nb; i++)
        for (int j = 0; j < bufs[i].n_members; j++) {
          if (bufs[i].members[j] == v) fail_msg("'%s' is written in place but has arena bytes", v->name);
          for (int q = 0; q < v->producer->n_in; q++)
            if (bufs[i].members[j] == v->producer->in[q] && v->producer->in[q]->role == IR_GRADIENT)
              assert_int_equal(bufs[i].last, at);
        }
      in_place++;
      continue;
    }
    for (int i = 0; i < nb; i++)
      for (int j = 0; j < bufs[i].n_members; j++) {
        if (bufs[i].members[j] != v) continue;
        found++;
        assert_int_equal(bufs[i].last, m.g->n_nodes);
        for (int k = 0; k < nb; k++)   /* no other buffer on these bytes at the end */
          if (k != i && bufs[k].last >= bufs[i].first && bufs[k].offset < bufs[i].offset + bufs[i].size &&
              bufs[i].offset < bufs[k].offset + bufs[k].size)
            fail_msg("'%s' shares bytes with buffer %d while it lives", v->name, k);
      }
  }
  assert_int_equal(in_place, m.g->n_updates - 1);   /* all but the step counter */
  assert_int_equal(found, 1);
  plan_buffers_free(bufs, nb);
  ir_graph_free(m.g);
}

/* Adagrad runs as ONNX's Adagrad op, which is torch's (lr_decay through
 * the steps done, weight decay into the gradient). */
static void test_adagrad(void **st) {
  (void)st;
  train_spec s = spec("mse", "adagrad:lr=0.3,lr_decay=0.05,weight_decay=0.1,eps=1e-6");
  steps_vs_torch(&s, 0, adagrad_loss, adagrad_w, adagrad_b);
  s = spec("mse", "adagrad");
  steps_vs_torch(&s, 0, adagrad_default_loss, adagrad_default_w, adagrad_default_b);
}

/* The step's state: Adam keeps m, v per parameter and one step counter. */
static void test_adam_state(void **st) {
  (void)st;
  train_spec s = spec("mse", "adam");
  model m = build(0);
  assert_int_equal(make_step(&m, &s), 0);
  assert_int_equal(m.g->n_updates, 2 * 3 + 1);
  const ir_tensor *t = ir_find_tensor(m.g, "optimizer/step");
  assert_non_null(t);
  assert_int_equal(t->role, IR_OPTSTATE);
  assert_non_null(ir_find_tensor(m.g, "optimizer/w/exp_avg"));
  assert_non_null(ir_find_tensor(m.g, "optimizer/b/exp_avg_sq"));
  float x[N * F], y[N * F];
  data(x, y, 0);
  const void *in[2] = {x, y};
  for (int k = 0; k < STEPS; k++) assert_int_equal(interp_train_step(m.g, in, NULL), 0);
  assert_int_equal(*(const int64_t *)t->data, STEPS);
  ir_graph_free(m.g);
}

static void test_bce(void **st) {
  (void)st;
  train_spec s = spec("bce_with_logits", "sgd:lr=0.5");
  steps_vs_torch(&s, 1, bce_loss, bce_w, bce_b);
}

/* softmax_cross_entropy on the tiny model's [4,3] logits with class ids:
 * torch.nn.functional.cross_entropy(x*w + b, labels) and one SGD step. */
static void test_cross_entropy(void **st) {
  (void)st;
  /* train_ref.py's last line */
  static const double ce_loss = 1.11843765, ce_w[F] = {0.444566697, -0.22121197, 1.04092073},
                      ce_b[F] = {0.0487902798, -0.0403345786, -0.108455695};
  train_spec s = spec("softmax_cross_entropy", "sgd:lr=0.5");
  model m = build(1);
  if (make_step(&m, &s) < 0) {
    fail_msg("%s", ir_last_error());
  }
  assert_int_equal(m.g->inputs[1]->dtype, IR_I64);
  float x[N * F], y[N * F];
  int64_t lab[N] = {0, 2, 1, 2};
  data(x, y, 0);
  const void *in[2] = {x, lab};
  double loss, gw[F], gb[F];
  assert_int_equal(interp_train_step(m.g, in, &loss), 0);
  for (int i = 0; i < F; i++) {
    gw[i] = ((const float *)m.w->data)[i];
    gb[i] = ((const float *)m.b->data)[i];
  }
  expect_close("loss", &loss, &ce_loss, 1, 1e-5);
  expect_close("w", gw, ce_w, F, 1e-5);
  expect_close("b", gb, ce_b, F, 1e-5);
  ir_graph_free(m.g);
}

/* Parameters are no constants when training: nothing folds w, even where
 * every input of a node is data (w * 2 would fold for inference). */
static void test_params_not_folded(void **st) {
  (void)st;
  model m = build(0);
  ir_tensor *two = ir_add_tensor(m.g, "two", IR_F32, IR_CONST);
  float v = 2.0f;
  ir_set_shape(two, 0, NULL);
  ir_tensor_set_data(two, &v, sizeof v);
  ir_tensor *w2 = node(m.g, "Mul", m.w, two);
  ir_node *mul = m.g->nodes[0];   /* x * w reads w2 instead */
  mul->in[1] = w2;
  assert_int_equal(ir_graph_toposort(m.g), 0);
  pass_options o = training_opts();
  assert_int_equal(pass_infer(m.g, &o), 0);
  assert_non_null(w2->producer);
  assert_int_not_equal(w2->role, IR_CONST);
  ir_graph_free(m.g);
  m = build(0);
  two = ir_add_tensor(m.g, "two", IR_F32, IR_CONST);
  ir_set_shape(two, 0, NULL);
  ir_tensor_set_data(two, &v, sizeof v);
  w2 = node(m.g, "Mul", m.w, two);
  m.g->nodes[0]->in[1] = w2;
  assert_int_equal(ir_graph_toposort(m.g), 0);
  pass_options_default(&o);   /* inference: it folds */
  assert_int_equal(pass_infer(m.g, &o), 0);
  assert_int_equal(w2->role, IR_CONST);
  ir_graph_free(m.g);
}

static void expect_parse_error(const char *text, const char *part) {
  train_spec s;
  memset(&s, 0, sizeof s);
  assert_int_equal(train_parse_optimizer(&s, text), -1);
  if (!strstr(ir_last_error(), part)) fail_msg("'%s': error '%s' lacks '%s'", text, ir_last_error(), part);
}

static void test_spec_errors(void **st) {
  (void)st;
  expect_parse_error("rmsprop:lr=1", "unknown optimizer 'rmsprop' (sgd, adam, adagrad)");
  expect_parse_error("adagrad:beta1=0.9", "no key 'beta1' (lr, lr_decay, eps, weight_decay)");
  expect_parse_error("adagrad:lr_decay=-1", "lr_decay must not be negative");
  expect_parse_error("sgd:lr=0.1,lr_decay=0.1", "no key 'lr_decay'");
  expect_parse_error("sgd", "needs a learning rate");
  expect_parse_error("sgd:lr=0.1,beta1=0.9", "no key 'beta1'");
  expect_parse_error("adam:momentum=0.9", "no key 'momentum'");
  expect_parse_error("sgd:lr=x", "bad value 'x'");
  expect_parse_error("sgd:lr=0.1,nesterov=1", "nesterov=1 needs a momentum");
  expect_parse_error("sgd:lr=0.1,nesterov=2", "takes 0 or 1");
  expect_parse_error("adam:beta2=1", "beta2 must be in [0, 1)");
  expect_parse_error("sgd:lr=-1", "lr must not be negative");
  expect_parse_error("sgd:lr", "no KEY=VALUE");
  assert_int_equal(train_check_loss("hinge"), -1);
  assert_non_null(strstr(ir_last_error(), "unknown loss 'hinge'"));
  train_spec s;
  memset(&s, 0, sizeof s);
  assert_int_equal(train_parse_optimizer(&s, "adam"), 0);
  assert_true(s.opt.lr == 1e-3 && s.opt.beta1 == 0.9 && s.opt.beta2 == 0.999 && s.opt.eps == 1e-8 && s.opt.weight_decay == 0);
}

static void test_graph_errors(void **st) {
  (void)st;
  train_spec s = spec("mse", "sgd:lr=0.1");
  s.n_frozen = 1;
  s.frozen[0] = "nope";
  model m = build(0);
  assert_int_equal(make_step(&m, &s), -1);
  assert_non_null(strstr(ir_last_error(), "--freeze: 'nope' is not a parameter"));
  ir_graph_free(m.g);
  s = spec(NULL, "sgd:lr=0.1");   /* no --loss, and the model ends in no loss op */
  m = build(0);
  assert_int_equal(make_step(&m, &s), -1);
  assert_non_null(strstr(ir_last_error(), "does not end in a loss"));
  ir_graph_free(m.g);
  s = spec("mse", "sgd:lr=0.1");   /* everything frozen */
  s.n_frozen = 2;
  s.frozen[0] = "w";
  s.frozen[1] = "b";
  m = build(0);
  assert_int_equal(make_step(&m, &s), -1);
  assert_non_null(strstr(ir_last_error(), "no parameter to train"));
  ir_graph_free(m.g);
}

/* A model ending in SoftmaxCrossEntropyLoss trains as it is: its labels
 * input moves last, its output is the loss; --loss on it is refused. */
static void test_model_with_loss(void **st) {
  (void)st;
  for (int with_flag = 0; with_flag < 2; with_flag++) {
    model m = build(1);
    int64_t d = N;
    ir_tensor *lab = ir_add_tensor(m.g, "classes", IR_I64, IR_INPUT);
    ir_set_shape(lab, 1, &d);
    ir_graph_add_input(m.g, lab);
    ir_graph_add_input(m.g, ir_add_tensor(m.g, "unused", IR_F32, IR_INPUT));
    ir_set_shape(m.g->inputs[2], 0, NULL);
    ir_tensor *l = node(m.g, "SoftmaxCrossEntropyLoss", m.g->outputs[0], lab);
    m.g->outputs[0]->is_output = 0;
    m.g->n_outputs = 0;
    ir_graph_add_output(m.g, l);
    train_spec s = spec(with_flag ? "mse" : NULL, "sgd:lr=0.1");
    int rc = make_step(&m, &s);
    if (with_flag) {
      assert_int_equal(rc, -1);
      assert_non_null(strstr(ir_last_error(), "already ends in a loss"));
    } else if (rc < 0) {
      fail_msg("%s", ir_last_error());
    } else {
      assert_ptr_equal(m.g->inputs[m.g->n_inputs - 1], lab);
      assert_int_equal(m.g->n_labels, 1);
      assert_ptr_equal(m.g->loss, l);
    }
    ir_graph_free(m.g);
  }
}

/* ---- an MLP: Gemm, Relu, MatMul, Add; softmax_cross_entropy ---- */

static ir_tensor *param_nd(ir_graph *g, const char *name, int rank, const int64_t *d, const float *v) {
  ir_tensor *t = ir_add_tensor(g, name, IR_F32, IR_PARAM);
  ir_set_shape(t, rank, d);
  ir_tensor_set_data(t, v, sizeof(float) * (size_t)ir_numel(t));
  return t;
}

/* train_ref.py: relu(x @ W1^T + b1) @ W2 + b2, labels [1,0,1,1], SGD lr 0.1 momentum 0.9, 2 steps */
static void test_mlp(void **st) {
  static const double mlp_loss[] = {0.729529977, 0.707606077};
  static const double mlp_W1[] = {-0.307827979, -0.206262395, -0.104696788, 0.00765717262, 0.110746779,
                                  0.213836372, 0.307793975, -0.29376483, -0.195323616, -0.102443911,
                                  -0.00576142874, 0.0909210518, 0.210302368, 0.312079608, -0.286143214};
  static const double mlp_W2[] = {-0.306346864, 0.106346853, -0.106108993, 0.306108981, 0.0989374816,
                                  -0.2989375, 0.294533342, -0.0945333466, -0.30844155, 0.108441517};
  float w1[15], b1[5], w2[10], b2[2] = {0.1f, -0.1f};
  (void)st;
  for (int i = 0; i < 5; i++) {
    b1[i] = (float)(0.05 * i - 0.1);
    for (int j = 0; j < 3; j++) w1[i * 3 + j] = (float)(0.1 * ((3 * i + j) % 7) - 0.3);
    for (int j = 0; j < 2; j++) w2[i * 2 + j] = (float)(0.2 * ((i + 2 * j) % 4) - 0.3);
  }
  ir_graph *g = ir_graph_new("mlp", NULL);
  int64_t dx[2] = {N, F};
  ir_tensor *x = ir_add_tensor(g, "x", IR_F32, IR_INPUT);
  ir_set_shape(x, 2, dx);
  ir_graph_add_input(g, x);
  ir_tensor *W1 = param_nd(g, "W1", 2, DIMS2(5, 3), w1), *B1 = param_nd(g, "b1", 1, DIMS2(5, 0), b1);
  ir_tensor *W2 = param_nd(g, "W2", 2, DIMS2(5, 2), w2), *B2 = param_nd(g, "b2", 1, DIMS2(2, 0), b2);
  ir_tensor *h = ir_add_tensor(g, "h", IR_UNDEF, IR_ACTIVATION), *gin[3] = {x, W1, B1};
  ir_node *gemm = ir_add_node(g, "Gemm", "fc1");
  gemm->opset = 13;
  ir_node_set_io(gemm, 3, gin, 1, &h);
  ir_attr_set_int(gemm, "transB", 1);
  assert_int_equal(op_validate(gemm), 0);
  ir_graph_add_output(g, node(g, "Add", node(g, "MatMul", node(g, "Relu", h, NULL), W2), B2));
  train_spec s = spec("softmax_cross_entropy", "sgd:lr=0.1,momentum=0.9");
  model m = {g, W1, W2};
  if (make_step(&m, &s) < 0) {
    fail_msg("%s", ir_last_error());
  }
  float xv[N * F], yv[N * F];
  int64_t lab[N] = {1, 0, 1, 1};
  data(xv, yv, 0);
  const void *in[2] = {xv, lab};
  double loss[2], got1[15], got2[10];
  for (int k = 0; k < 2; k++) assert_int_equal(interp_train_step(g, in, &loss[k]), 0);
  for (int i = 0; i < 15; i++) got1[i] = ((const float *)W1->data)[i];
  for (int i = 0; i < 10; i++) got2[i] = ((const float *)W2->data)[i];
  expect_close("loss", loss, mlp_loss, 2, 1e-5);
  expect_close("W1", got1, mlp_W1, 15, 1e-5);
  expect_close("W2", got2, mlp_W2, 10, 1e-5);
  ir_graph_free(g);
}

/* ---- BatchNormalization runs in training mode: its running statistics
 * are updates, not trained.  Here its output is a second output the loss
 * does not read, so no BatchNormalization gradient is needed. ---- */
static void test_batchnorm_stats(void **st) {
  /* train_ref.py: torch's running mean and variance (unbiased: the train pass
   * sets the node's unbiased_running_var, as PyTorch updates it) */
  static const double bn_mean[] = {0.0714999884, -0.152500004, 0.271499991};
  static const double bn_var[] = {0.838499904, 0.433499962, 1.64849985};
  static const float one[F] = {1, 1, 1}, zero[F] = {0, 0, 0}, mean0[F] = {0.1f, -0.2f, 0.3f}, var0[F] = {1.0f, 0.5f, 2.0f};
  (void)st;
  model m = build(0);
  ir_tensor *bin[5] = {m.g->inputs[0], param(m.g, "bn.scale", one), param(m.g, "bn.bias", zero),
                       param(m.g, "bn.mean", mean0), param(m.g, "bn.var", var0)};
  ir_tensor *y = ir_add_tensor(m.g, "bn_y", IR_UNDEF, IR_ACTIVATION);
  ir_node *bn = ir_add_node(m.g, "BatchNormalization", "bn");
  bn->opset = 15;
  ir_node_set_io(bn, 5, bin, 1, &y);
  assert_int_equal(op_validate(bn), 0);
  ir_graph_add_output(m.g, y);
  train_spec s = spec("mse", "sgd:lr=0.5");
  if (make_step(&m, &s) < 0) fail_msg("%s", ir_last_error());
  int stats = 0;
  for (int i = 0; i < m.g->n_updates; i++) {
    const ir_tensor *t = m.g->updates[i].target;
    stats += t == bin[3] || t == bin[4];
    assert_ptr_not_equal(t, bin[1]);   /* the loss does not read the BatchNormalization */
  }
  assert_int_equal(stats, 2);
  float x[N * F], lab[N * F];
  data(x, lab, 0);
  const void *in[2] = {x, lab};
  double loss[2], mean[F], var[F];
  for (int k = 0; k < 2; k++) assert_int_equal(interp_train_step(m.g, in, &loss[k]), 0);
  for (int i = 0; i < F; i++) {
    mean[i] = ((const float *)bin[3]->data)[i];
    var[i] = ((const float *)bin[4]->data)[i];
  }
  expect_close("running mean", mean, bn_mean, F, 1e-5);
  expect_close("running var", var, bn_var, F, 1e-5);
  expect_close("loss", loss, sgd_loss, 2, 1e-5);   /* the rest trains as without it */
  ir_graph_free(m.g);
}

/* Through the BatchNormalization: tanh(BN(x*w + b)), its scale and bias
 * trained too (train_ref.py, torch's BatchNorm1d in training mode). */
static void test_batchnorm_train(void **st) {
  static const double bnt_loss[] = {0.638764083, 0.620526254};
  static const double bnt_w[] = {0.499935776, -0.249236375, 0.999988556};
  static const double bnt_scale[] = {1.43916738, 1.40921032, 1.41309619};
  static const double bnt_bias[] = {-0.135053352, -0.0130162947, -0.194304988};
  static const float sc[F] = {1.5f, 1.5f, 1.5f}, bi[F] = {-0.1f, -0.1f, -0.1f}, zero[F] = {0, 0, 0},
                     one[F] = {1, 1, 1};
  (void)st;
  model m = build(1);
  ir_tensor *z = m.g->outputs[0];
  ir_tensor *bin[5] = {z, param(m.g, "bn.scale", sc), param(m.g, "bn.bias", bi), param(m.g, "bn.mean", zero),
                       param(m.g, "bn.var", one)};
  ir_tensor *y = ir_add_tensor(m.g, "bn_y", IR_UNDEF, IR_ACTIVATION);
  ir_node *bn = ir_add_node(m.g, "BatchNormalization", "bn");
  bn->opset = 15;
  ir_node_set_io(bn, 5, bin, 1, &y);
  assert_int_equal(op_validate(bn), 0);
  z->is_output = 0;
  m.g->n_outputs = 0;
  ir_graph_add_output(m.g, node(m.g, "Tanh", y, NULL));
  train_spec s = spec("mse", "sgd:lr=0.5");
  if (make_step(&m, &s) < 0) {
    fail_msg("%s", ir_last_error());
  }
  float x[N * F], lab[N * F];
  data(x, lab, 0);
  const void *in[2] = {x, lab};
  double loss[2], w[F], scale[F], bias[F];
  for (int k = 0; k < 2; k++) assert_int_equal(interp_train_step(m.g, in, &loss[k]), 0);
  for (int i = 0; i < F; i++) {
    w[i] = ((const float *)m.w->data)[i];
    scale[i] = ((const float *)bin[1]->data)[i];
    bias[i] = ((const float *)bin[2]->data)[i];
  }
  expect_close("loss", loss, bnt_loss, 2, 1e-5);
  expect_close("w", w, bnt_w, F, 1e-5);
  expect_close("scale", scale, bnt_scale, F, 1e-5);
  expect_close("bias", bias, bnt_bias, F, 1e-5);
  ir_graph_free(m.g);
}

/* Dropout runs in training mode (training_mode=true); with ratio 0 it drops
 * nothing, so the steps are test_sgd's. */
static void test_dropout(void **st) {
  (void)st;
  model m = build(1);
  ir_tensor *z = m.g->outputs[0], *ratio = ir_add_tensor(m.g, "ratio", IR_F32, IR_CONST);
  float zero = 0.0f;
  ir_set_shape(ratio, 0, NULL);
  ir_tensor_set_data(ratio, &zero, sizeof zero);
  ir_tensor *dropped = node(m.g, "Dropout", z, ratio);
  ir_node *dn = dropped->producer;
  z->is_output = 0;
  m.g->n_outputs = 0;
  ir_graph_add_output(m.g, node(m.g, "Tanh", dropped, NULL));
  train_spec s = spec("mse", "sgd:lr=0.5");
  pass_options o = training_opts();
  assert_int_equal(pass_infer(m.g, &o), 0);
  int rc = pass_train(m.g, &s, &o);
  assert_true(dn->n_in == 3 && dn->in[2] && dn->in[2]->dtype == IR_BOOL && ir_const_i64(dn->in[2], 0) == 1);
  if (rc < 0) {
    fail_msg("%s", ir_last_error());
  }
  assert_int_equal(pass_run_all(m.g, &o), 0);
  float x[N * F], y[N * F];
  data(x, y, 0);
  const void *in[2] = {x, y};
  double loss[STEPS], w[F];
  for (int k = 0; k < STEPS; k++) assert_int_equal(interp_train_step(m.g, in, &loss[k]), 0);
  for (int i = 0; i < F; i++) w[i] = ((const float *)m.w->data)[i];
  expect_close("loss", loss, sgd_loss, STEPS, 1e-5);
  expect_close("w", w, sgd_w, F, 1e-5);
  ir_graph_free(m.g);
}

/* ---- fusion leaves a trained bias alone: Gemm + Add(parameter) stays two
 * nodes when training (inference fuses a copy of the bias into the Gemm) ---- */
static void test_no_bias_fusion(void **st) {
  (void)st;
  for (int training = 0; training < 2; training++) {
    static const float w[F * F] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, bias[F] = {1, 2, 3};
    ir_graph *g = ir_graph_new("gemm", NULL);
    int64_t dx[2] = {N, F};
    ir_tensor *x = ir_add_tensor(g, "x", IR_F32, IR_INPUT);
    ir_set_shape(x, 2, dx);
    ir_graph_add_input(g, x);
    ir_tensor *b = param(g, "bias", bias);
    ir_tensor *y = node(g, "Add", node(g, "Gemm", x, param_nd(g, "W", 2, DIMS2(F, F), w)), b);
    ir_graph_add_output(g, y);
    pass_options o = training ? training_opts() : (pass_options_default(&o), o);
    assert_int_equal(pass_run_all(g, &o), 0);
    int adds = 0;
    for (int k = 0; k < g->n_nodes; k++) adds += ir_node_is(g->nodes[k], "Add");
    assert_int_equal(adds, training ? 1 : 0);
    ir_graph_free(g);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgd),          cmocka_unit_test(test_momentum),
      cmocka_unit_test(test_frozen),       cmocka_unit_test(test_adam),
      cmocka_unit_test(test_adam_state), cmocka_unit_test(test_adagrad),
      cmocka_unit_test(test_plan_keeps_updates),   cmocka_unit_test(test_bce),
      cmocka_unit_test(test_cross_entropy), cmocka_unit_test(test_params_not_folded),
      cmocka_unit_test(test_spec_errors),  cmocka_unit_test(test_graph_errors),
      cmocka_unit_test(test_model_with_loss), cmocka_unit_test(test_mlp),
      cmocka_unit_test(test_batchnorm_stats), cmocka_unit_test(test_batchnorm_train),
      cmocka_unit_test(test_dropout), cmocka_unit_test(test_no_bias_fusion),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
