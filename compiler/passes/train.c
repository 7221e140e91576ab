/*
 * train.c - the training step as a graph: a forward graph becomes the graph
 * of one optimizer step, `loss, new parameters = step(inputs, labels)`.
 *
 * require: g is a forward graph inferred with o->training set (pass_infer:
 *          float parameters were not folded), topologically sorted, with no
 *          training step yet (g->loss NULL).
 * guarantee: g computes one training step, inferred and sorted:
 *          - BatchNormalization runs in training mode (batch statistics,
 *            which it also outputs for its backward; its running mean and
 *            variance are updated through g->updates, the variance
 *            unbiased as PyTorch keeps it) and Dropout gets
 *            training_mode=true and the step counter, so each step draws a
 *            new mask (docs/random.md);
 *          - the label input is appended to g->inputs and g->n_labels is 1;
 *          - g->loss is the scalar loss (built on the prediction, or the
 *            model's own loss op) and g's only output;
 *          - for every trainable parameter (float IR_PARAM, not frozen, not
 *            a running statistic, read on a path to the loss and getting a
 *            gradient there: torch.optim skips a None grad) autodiff's
 *            backward nodes compute its gradient and one optimizer node
 *            (ai.modelc SGD or AdamW, or ONNX's Adagrad, which is
 *            torch's; compiler/ops/ops_train.c) its new
 *            value and new state; each new value is recorded with
 *            ir_graph_add_update, beside its target: the parameter or an
 *            IR_OPTSTATE tensor whose data (zeros) is its value before the
 *            first step, and marked written into it (stored_in).  The
 *            step counter (Adam's and Adagrad's T, the random draws' step)
 *            is one int64 IR_OPTSTATE scalar, TRAIN_STEP_NAME, counting the
 *            steps done, kept by every optimizer.  State is named as
 *            train.h says.
 *
 * 1. switch BatchNormalization and Dropout to training mode;
 * 2. the label input and the loss;
 * 3. the trainable parameters;
 * 4. the backward (autodiff.c);
 * 5. one optimizer node per parameter, and the updates; then inference
 *    over the backward and the optimizer nodes.
 *
 * Losses built from per-element terms (mse, bce_with_logits) differentiate
 * those terms scaled by 1/count, with autodiff's seed of ones: that is the
 * gradient of their mean, the loss, and needs no reduction's gradient.
 */
#include "train.h"
#include "autodiff.h"
#include "../ops/op.h"
#include "../ops/ops_random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the spec ------------------------------------------------------------ */

static const char *const losses[] = {"softmax_cross_entropy", "mse", "bce_with_logits", NULL};

int train_check_loss(const char *name) {
  for (int i = 0; losses[i]; i++)
    if (!strcmp(name, losses[i])) return 0;
  return ir_error("unknown loss '%s' (softmax_cross_entropy, mse, bce_with_logits)", name);
}

/* The optimizers, each with its keys (docs/training.md gives the rules). */
static const struct {
  const char *name;
  train_optimizer kind;
  const char *keys;
} optimizers[] = {
    {"sgd", TRAIN_SGD, "lr, momentum, nesterov, weight_decay"},
    {"adam", TRAIN_ADAM, "lr, beta1, beta2, eps, weight_decay, decoupled"},
    {"adagrad", TRAIN_ADAGRAD, "lr, lr_decay, eps, weight_decay"},
};
#define N_OPTIMIZERS (int)(sizeof optimizers / sizeof optimizers[0])

static int optimizer_index(const char *name) {
  for (int i = 0; i < N_OPTIMIZERS; i++)
    if (!strcmp(optimizers[i].name, name)) return i;
  return -1;
}

/* key is one of the ", "-separated words of keys */
static int has_key(const char *keys, const char *key) {
  size_t n = strlen(key);
  for (const char *p = keys; (p = strstr(p, key)) != NULL; p += n)
    if ((p == keys || p[-1] == ' ') && (p[n] == ',' || !p[n])) return 1;
  return 0;
}

/* PyTorch's defaults; SGD's lr has none (NAN: required). */
static void optimizer_defaults(train_spec *s, train_optimizer k) {
  memset(&s->opt, 0, sizeof s->opt);
  s->opt.kind = k;
  s->opt.lr = k == TRAIN_SGD ? NAN : k == TRAIN_ADAM ? 1e-3 : 1e-2;
  s->opt.beta1 = 0.9;
  s->opt.beta2 = 0.999;
  s->opt.eps = k == TRAIN_ADAM ? 1e-8 : 1e-10;
}

static int check_optimizer(const train_spec *s) {
  const char *name = optimizers[s->opt.kind - 1].name;
  if (isnan(s->opt.lr)) return ir_error("optimizer sgd needs a learning rate: sgd:lr=0.01");
  if (!(s->opt.lr >= 0)) return ir_error("optimizer %s: lr must not be negative", name);
  if (!(s->opt.weight_decay >= 0)) return ir_error("optimizer %s: weight_decay must not be negative", name);
  if (!(s->opt.momentum >= 0)) return ir_error("optimizer sgd: momentum must not be negative");
  if (s->opt.nesterov && s->opt.momentum == 0) return ir_error("optimizer sgd: nesterov=1 needs a momentum");
  if (!(s->opt.beta1 >= 0 && s->opt.beta1 < 1)) return ir_error("optimizer adam: beta1 must be in [0, 1)");
  if (!(s->opt.beta2 >= 0 && s->opt.beta2 < 1)) return ir_error("optimizer adam: beta2 must be in [0, 1)");
  if (!(s->opt.eps >= 0)) return ir_error("optimizer %s: eps must not be negative", name);
  if (!(s->opt.lr_decay >= 0)) return ir_error("optimizer adagrad: lr_decay must not be negative");
  return 0;
}

int train_parse_optimizer(train_spec *s, const char *text) {
  char buf[512];
  if (strlen(text) >= sizeof buf) return ir_error("--optimizer: '%.40s...' is too long", text);
  strcpy(buf, text);
  char *colon = strchr(buf, ':');
  if (colon) *colon = 0;
  int k = optimizer_index(buf), wd_set = 0;
  if (k < 0) return ir_error("unknown optimizer '%s' (sgd, adam, adagrad)", buf);
  optimizer_defaults(s, optimizers[k].kind);
  for (char *kv = colon ? strtok(colon + 1, ",") : NULL; kv; kv = strtok(NULL, ",")) {
    char *eq = strchr(kv, '='), *end;
    if (!eq) return ir_error("optimizer %s: '%s' is no KEY=VALUE", buf, kv);
    *eq = 0;
    if (!has_key(optimizers[k].keys, kv)) return ir_error("optimizer %s has no key '%s' (%s)", buf, kv, optimizers[k].keys);
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end || !isfinite(v)) return ir_error("optimizer %s: bad value '%s' for %s", buf, eq + 1, kv);
    int flag = !strcmp(kv, "nesterov") || !strcmp(kv, "decoupled");
    if (flag && v != 0 && v != 1) return ir_error("optimizer %s: %s takes 0 or 1", buf, kv);
    struct train_opt *o = &s->opt;
    if (!strcmp(kv, "nesterov")) o->nesterov = (int)v;
    else if (!strcmp(kv, "decoupled")) o->decoupled = (int)v;
    else
      *(!strcmp(kv, "lr") ? &o->lr : !strcmp(kv, "momentum") ? &o->momentum : !strcmp(kv, "beta1") ? &o->beta1
        : !strcmp(kv, "beta2") ? &o->beta2 : !strcmp(kv, "eps") ? &o->eps : !strcmp(kv, "lr_decay") ? &o->lr_decay
        : &o->weight_decay) = v;
    wd_set |= !strcmp(kv, "weight_decay");
  }
  if (s->opt.decoupled && !wd_set) s->opt.weight_decay = 0.01;   /* torch.optim.AdamW's default */
  return check_optimizer(s);
}

static double hyper(const ir_train *t, const char *name, double def) {
  for (int i = 0; i < t->n_hyper; i++)
    if (!strcmp(t->hyper_names[i], name)) return t->hyper_values[i];
  return def;
}

int train_spec_from_model(train_spec *s, const ir_graph *g) {
  const ir_train *t = g->train;
  if (!t) return ir_error("the model has no train block");
  s->loss = !strcmp(t->loss, "cross_entropy") ? "softmax_cross_entropy" : t->loss;
  if (train_check_loss(s->loss) < 0) return -1;
  s->prediction = t->prediction;
  s->label = t->label;
  s->label_dtype = t->label_dtype;
  s->label_rank = t->label_rank;
  memcpy(s->label_shape, t->label_shape, sizeof s->label_shape);
  if (t->n_frozen > TRAIN_MAX_FROZEN) return ir_error("train block: more than %d frozen parameters", TRAIN_MAX_FROZEN);
  s->n_frozen = t->n_frozen;
  for (int i = 0; i < t->n_frozen; i++) s->frozen[i] = t->frozen[i];
  int k = optimizer_index(t->optimizer);
  if (k < 0) return ir_error("train block: optimizer %s is not supported by --train (sgd, adam, adagrad)", t->optimizer);
  optimizer_defaults(s, optimizers[k].kind);
  s->opt.lr = hyper(t, "lr", s->opt.lr);
  s->opt.momentum = hyper(t, "momentum", 0);
  s->opt.nesterov = hyper(t, "nesterov", 0) != 0;
  s->opt.weight_decay = hyper(t, "weight_decay", 0);
  s->opt.beta1 = hyper(t, "beta1", s->opt.beta1);
  s->opt.beta2 = hyper(t, "beta2", s->opt.beta2);
  s->opt.eps = hyper(t, "eps", s->opt.eps);
  return check_optimizer(s);
}

/* ---- building ------------------------------------------------------------ */

/* A new node op(in...) with one output, validated and inferred at once. */
static ir_tensor *add(ir_graph *g, const char *op, int n_in, ir_tensor *const *in, const char *key, int64_t kv) {
  char name[96];
  snprintf(name, sizeof name, "train/%s_%d", op, g->n_nodes);
  ir_tensor *y = ir_add_tensor_unique(g, name, IR_UNDEF, IR_ACTIVATION);
  ir_node *n = ir_add_node(g, op, name);
  n->opset = 18;
  ir_node_set_io(n, n_in, in, 1, &y);
  if (key) ir_attr_set_int(n, key, kv);
  if (op_validate(n) < 0 || n->op->infer(g, n) < 0) return NULL;
  return y;
}

static ir_tensor *add1(ir_graph *g, const char *op, ir_tensor *a) { return a ? add(g, op, 1, &a, NULL, 0) : NULL; }
static ir_tensor *add2(ir_graph *g, const char *op, ir_tensor *a, ir_tensor *b) {
  ir_tensor *in[2] = {a, b};
  return a && b ? add(g, op, 2, in, NULL, 0) : NULL;
}

/* A scalar constant of like's dtype. */
static ir_tensor *scalar(ir_graph *g, const ir_tensor *like, double v) {
  float f = (float)v;
  return ir_add_const_like(g, like, "_c", 0, NULL, like->dtype == IR_F64 ? (const void *)&v : (const void *)&f);
}

/* A state tensor of the step (IR_OPTSTATE), zeros before the first step. */
static ir_tensor *state(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims) {
  ir_tensor *t = ir_add_tensor_unique(g, name, dt, IR_OPTSTATE);
  ir_set_shape(t, rank, dims);
  void *zeros = ir_alloc((size_t)ir_nbytes(t) + 1);
  ir_tensor_set_data(t, zeros, (size_t)ir_nbytes(t));
  free(zeros);
  t->role = IR_OPTSTATE;   /* set_data made it a constant */
  return t;
}

/* 1. training mode for the ops that have one */
static int training_mode(ir_graph *g) {
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->dead) continue;
    if (ir_node_is(n, "BatchNormalization")) {
      ir_tensor *out[5] = {n->out[0]}, *in[5];
      if (n->n_in != 5) return op_fail(n, "needs its 5 inputs");
      for (int i = 0; i < 5; i++) in[i] = n->in[i];   /* ir_node_set_io frees n->in */
      for (int j = 1; j < 5; j++) {   /* new running mean, variance; the batch's, for the backward */
        char nm[300];
        snprintf(nm, sizeof nm, "%.270s.%s", n->in[j < 3 ? 2 + j : j]->name, j < 3 ? "new" : "batch");
        out[j] = ir_add_tensor_unique(g, nm, IR_UNDEF, IR_ACTIVATION);
      }
      ir_node_set_io(n, 5, in, 5, out);
      ir_attr_set_int(n, "training_mode", 1);
      ir_attr_set_int(n, "unbiased_running_var", 1);   /* running statistics as PyTorch keeps them */
      if (n->opset < 15) n->opset = 15;
      if (op_validate(n) < 0 || n->op->infer(g, n) < 0) return -1;
      for (int j = 1; j < 3; j++) {
        if (n->in[2 + j]->role != IR_PARAM)
          return op_fail(n, "the running statistic '%s' must be a parameter to be updated", n->in[2 + j]->name);
        ir_graph_add_update(g, n->in[2 + j], out[j]);
      }
    } else if (ir_node_is(n, "Dropout")) {
      unsigned char yes = 1;
      ir_tensor *tm = ir_add_tensor_unique(g, "train/training_mode", IR_BOOL, IR_CONST);
      ir_set_shape(tm, 0, NULL);
      ir_tensor_set_data(tm, &yes, 1);
      ir_node_set_input(n, 2, tm);
      if (op_validate(n) < 0 || n->op->infer(g, n) < 0) return -1;
    }
  }
  return 0;
}

/* The node computing t when it is a loss op of the model. */
static ir_node *loss_op(const ir_tensor *t) {
  ir_node *p = t->producer;
  if (!p || p->dead) return NULL;
  return ir_node_is(p, "SoftmaxCrossEntropyLoss") || ir_node_is(p, "NegativeLogLikelihoodLoss") ? p : NULL;
}

/* Move input t to the end of g->inputs: it is the label. */
static int label_last(ir_graph *g, ir_tensor *t) {
  int i = 0;
  while (i < g->n_inputs && g->inputs[i] != t) i++;
  if (i == g->n_inputs) return ir_error("the model's loss reads its labels from '%s', which is no graph input", t->name);
  for (; i + 1 < g->n_inputs; i++) g->inputs[i] = g->inputs[i + 1];
  g->inputs[g->n_inputs - 1] = t;
  g->n_labels = 1;
  return 0;
}

/* 2. the label and the loss; *target is what autodiff differentiates. */
static int build_loss(ir_graph *g, const train_spec *s, ir_tensor **target) {
  ir_tensor *out0 = g->n_outputs ? g->outputs[0] : NULL;
  ir_node *own = out0 ? loss_op(out0) : NULL;
  if (!out0) return ir_error("the model has no output to train");
  if (!s->loss) {
    if (ir_numel(out0) != 1 || !ir_dtype_is_float(out0->dtype))
      return op_fail(own, "its loss '%s' is not one float value (reduction 'none'?)", out0->name);
    if (label_last(g, own->in[1]) < 0) return -1;
    g->loss = *target = out0;
    return 0;
  }
  ir_tensor *pred = s->prediction ? ir_find_tensor(g, s->prediction) : out0;
  if (!pred) return ir_error("the loss reads '%s', which the model does not compute", s->prediction);
  if (!ir_dtype_is_float(pred->dtype))
    return ir_error("the loss reads '%s', which is %s, not float", pred->name, ir_dtype_name(pred->dtype));
  int sce = !strcmp(s->loss, "softmax_cross_entropy");
  ir_tensor *label = ir_add_tensor_unique(g, s->label ? s->label : "label", IR_UNDEF, IR_INPUT);
  if (s->label_dtype != IR_UNDEF) {
    label->dtype = s->label_dtype;
    ir_set_shape(label, s->label_rank, s->label_shape);
  } else if (sce) {
    int64_t d[IR_MAX_RANK];
    if (pred->rank < 2)
      return ir_error("softmax_cross_entropy reads '%s' of rank %d; it needs [N, C, ...]", pred->name, pred->rank);
    d[0] = pred->shape[0];
    for (int a = 2; a < pred->rank; a++) d[a - 1] = pred->shape[a];
    label->dtype = IR_I64;
    ir_set_shape(label, pred->rank - 1, d);
  } else {
    label->dtype = pred->dtype;
    ir_set_shape(label, pred->rank, pred->shape);
  }
  ir_graph_add_input(g, label);
  g->n_labels = 1;
  if (sce) {
    ir_tensor *in[2] = {pred, label};
    ir_tensor *l = add(g, "SoftmaxCrossEntropyLoss", 2, in, NULL, 0);
    if (!l) return -1;
    g->loss = *target = l;
    return 0;
  }
  if (!ir_same_shape(label, pred) || label->dtype != pred->dtype) {
    char a[128], b[128];
    return ir_error("%s: the label '%s' (%s %s) must have the prediction's dtype and shape (%s %s)", s->loss,
                    label->name, ir_dtype_name(label->dtype), ir_shape_str(label, a, sizeof a),
                    ir_dtype_name(pred->dtype), ir_shape_str(pred, b, sizeof b));
  }
  ir_tensor *terms;
  if (!strcmp(s->loss, "mse")) {
    ir_tensor *d = add2(g, "Sub", pred, label);
    terms = add2(g, "Mul", d, d);
  } else {   /* bce_with_logits: softplus(x) - x*y.  Softplus computes log(1 + e^x) without
              * overflow, and its gradient sigmoid(x) - y holds at x = 0 too, where the
              * kinks of the written-out max(x, 0) + log(1 + e^-|x|) would give -y */
    terms = add2(g, "Sub", add1(g, "Softplus", pred), add2(g, "Mul", pred, label));
  }
  if (!terms) return -1;
  ir_tensor *l = add(g, "ReduceMean", 1, &terms, "keepdims", 0);
  *target = add2(g, "Mul", terms, scalar(g, pred, 1.0 / (double)ir_numel(pred)));
  if (!l || !*target) return -1;
  g->loss = l;
  return 0;
}

static void rename_tensor(ir_tensor *t, const char *name) {
  free(t->name);
  t->name = ir_strdup(name);
}

static int frozen(const train_spec *s, const char *name) {
  for (int i = 0; i < s->n_frozen; i++)
    if (!strcmp(s->frozen[i], name)) return 1;
  return 0;
}

/* 3. the float parameters on a path to y (not through a shape-only op) that
 * are neither frozen nor the target of an update already (statistics). */
static int trainable(ir_graph *g, const train_spec *s, const ir_tensor *y, ir_tensor **params) {
  unsigned char *need = ir_alloc((size_t)g->n_tensors + 1);
  need[y->id] = 1;
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    const ir_node *n = g->nodes[k];
    int live = 0;
    for (int j = 0; j < n->n_out; j++) live |= n->out[j] && need[n->out[j]->id];
    if (n->dead || !live || (n->op->flags & OP_SHAPE_ONLY)) continue;
    for (int i = 0; i < n->n_in; i++)
      if (ir_owns(g, n->in[i])) need[n->in[i]->id] = 1;
  }
  int np = 0;
  for (int i = 0; i < g->n_tensors; i++) {
    ir_tensor *t = g->tensors[i];
    int updated = 0;
    for (int u = 0; u < g->n_updates; u++) updated |= g->updates[u].target == t;
    if (need[i] && t->role == IR_PARAM && ir_dtype_is_float(t->dtype) && !frozen(s, t->name) && !updated)
      params[np++] = t;
  }
  free(need);
  return np;
}

/* 5. the optimizer node of parameter p with gradient gp.  step: the steps
 * done before this one (int64), next: step + 1, for Adagrad and Adam.  Each
 * kind's inputs:
 *     SGD      p g [momentum_buffer]                 (ai.modelc)
 *     AdamW    p g exp_avg exp_avg_sq step+1          (ai.modelc)
 *     Adagrad  lr step p g sum                        (ONNX's, which is torch's Adagrad:
 *              lr / (1 + step * lr_decay), the weight decay added to g, sum += g^2) */
static int optimizer_step(ir_graph *g, const train_spec *s, ir_tensor *p, ir_tensor *gp, ir_tensor *step,
                          ir_tensor *next) {
  static const char *const op[] = {"", "SGD", "AdamW", "Adagrad"};
  static const char *const names[][2] = {{"", ""}, {"momentum_buffer", ""}, {"exp_avg", "exp_avg_sq"}, {"sum", ""}};
  const struct train_opt *o = &s->opt;
  char nm[300];
  int n_state = o->kind == TRAIN_SGD ? o->momentum != 0 : o->kind == TRAIN_ADAM ? 2 : 1;
  int first = o->kind == TRAIN_ADAGRAD ? 2 : 0;   /* where p stands among the inputs */
  ir_tensor *in[5], *out[3] = {NULL, NULL, NULL};
  if (o->kind == TRAIN_ADAGRAD) {
    in[0] = scalar(g, p, o->lr);
    in[1] = step;
  }
  in[first] = p;
  in[first + 1] = gp;
  for (int j = 0; j < n_state; j++) {
    snprintf(nm, sizeof nm, TRAIN_STATE_PREFIX "%.250s/%s", p->name, names[o->kind][j]);
    in[first + 2 + j] = state(g, nm, p->dtype, p->rank, p->shape);
  }
  if (o->kind == TRAIN_ADAM) in[4] = next;   /* the number of this step, from 1 */
  for (int j = 0; j <= n_state; j++) {
    snprintf(nm, sizeof nm, "%.250s.%s.new", p->name, j ? names[o->kind][j - 1] : "value");
    out[j] = ir_add_tensor_unique(g, nm, IR_UNDEF, IR_ACTIVATION);
  }
  snprintf(nm, sizeof nm, "train/%s_%.250s", op[o->kind], p->name);
  ir_node *n = ir_add_node(g, op[o->kind], nm);
  free(n->domain);
  n->domain = ir_strdup(o->kind == TRAIN_ADAGRAD ? "ai.onnx.preview.training" : "ai.modelc");
  n->opset = 1;
  ir_node_set_io(n, first + 2 + n_state + (o->kind == TRAIN_ADAM), in, 1 + n_state, out);
  if (o->kind == TRAIN_ADAGRAD) {
    ir_attr_set_float(n, "decay_factor", o->lr_decay);
    ir_attr_set_float(n, "epsilon", o->eps);
    ir_attr_set_float(n, "norm_coefficient", o->weight_decay);
  } else {
    ir_attr_set_float(n, "lr", o->lr);
    ir_attr_set_float(n, "weight_decay", o->weight_decay);
  }
  if (o->kind == TRAIN_SGD) {
    ir_attr_set_float(n, "momentum", o->momentum);
    ir_attr_set_int(n, "nesterov", o->nesterov);
  } else if (o->kind == TRAIN_ADAM) {
    ir_attr_set_float(n, "beta1", o->beta1);
    ir_attr_set_float(n, "beta2", o->beta2);
    ir_attr_set_float(n, "eps", o->eps);
    ir_attr_set_int(n, "decoupled", o->decoupled);
  }
  if (op_validate(n) < 0) return -1;   /* inferred with the backward, by pass_infer */
  /* the op is one elementwise loop, so it may write the parameter and its
   * state in place (stored_in) once nothing else reads their old values:
   * then no copy ends the step, and the gradient's bytes are free as soon
   * as the schedule (schedule.c) runs it, right after its last reader */
  ir_graph_add_update(g, p, out[0]);
  out[0]->stored_in = p;
  for (int j = 0; j < n_state; j++) {
    ir_graph_add_update(g, in[first + 2 + j], out[1 + j]);
    out[1 + j]->stored_in = in[first + 2 + j];
  }
  return 0;
}

int train_check_spec(const ir_graph *g, const train_spec *s) {
  if (!s->opt.kind) return ir_error("--train needs an optimizer (--optimizer sgd:lr=0.01, adam or adagrad)");
  if (s->loss && train_check_loss(s->loss) < 0) return -1;
  for (int i = 0; i < s->n_frozen; i++) {
    const ir_tensor *t = ir_find_tensor(g, s->frozen[i]);
    if (!t || t->role != IR_PARAM) return ir_error("--freeze: '%s' is not a parameter of the model", s->frozen[i]);
  }
  const ir_node *own = g->n_outputs ? loss_op(g->outputs[0]) : NULL;
  if (own && s->loss)
    return ir_error("the model already ends in a loss (%s '%s'): train it without --loss", own->op_type, own->name);
  if (!s->loss && !own)
    return ir_error("the model does not end in a loss (SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss): "
                    "give --loss (softmax_cross_entropy, mse, bce_with_logits)");
  return 0;
}

int pass_train(ir_graph *g, const train_spec *s, const pass_options *o) {
  ir_tensor *target = NULL;
  if (g->loss) return ir_error("internal: the graph is a training step already");
  if (train_check_spec(g, s) < 0) return -1;
  if (ir_graph_has_subgraphs(g)) return ir_error("--train: models with control flow (If, Loop, Scan) are not supported");
  /* 1, 2 */
  if (training_mode(g) < 0 || build_loss(g, s, &target) < 0) return -1;
  if (s->loss && !ir_find_tensor(g, "loss")) rename_tensor(g->loss, "loss");   /* the loss built here: a name to read */
  for (int i = 0; i < g->n_outputs; i++) g->outputs[i]->is_output = 0;
  g->outputs[0] = g->loss;
  g->n_outputs = 1;
  g->loss->is_output = 1;
  /* 3 */
  ir_tensor **params = ir_alloc(sizeof *params * (size_t)(g->n_tensors + 1));
  ir_tensor **grads = ir_alloc(sizeof *grads * (size_t)(g->n_tensors + 1));
  int np = trainable(g, s, target, params), rc = np < 0 ? -1 : 0;
  /* the steps done so far: Adam's and Adagrad's bias corrections read it,
   * and so do the random draws (Dropout), which need a new mask each step;
   * every optimizer keeps it, so that a run resumed from a save goes on
   * with the shuffle of the epoch it reached (harness_train.inc) */
  ir_tensor *step = NULL, *next = NULL;
  int draws = 0;
  for (int k = 0; k < g->n_nodes; k++) draws |= !g->nodes[k]->dead && ops_random_draws(g->nodes[k]);
  if (rc == 0) {
    int64_t one = 1;
    step = state(g, TRAIN_STEP_NAME, IR_I64, 0, NULL);
    next = add2(g, "Add", step, ir_add_const_like(g, step, "_one", 0, NULL, &one));
    if (!next) rc = -1;
    else ir_graph_add_update(g, step, next);
  }
  for (int k = 0; rc == 0 && draws && k < g->n_nodes; k++)
    if (!g->nodes[k]->dead && ops_random_draws(g->nodes[k]) && !ops_random_step(g->nodes[k]))
      ir_node_set_input(g->nodes[k], ops_random_step_index(g->nodes[k]), step);
  if (np == 0) rc = ir_error("--train: no parameter to train (every one frozen, or none reaches the loss)");
  /* 4 */
  for (int i = 0; rc == 0 && i < np; i++) {
    char nm[300];
    snprintf(nm, sizeof nm, "%.280s.grad", params[i]->name);
    grads[i] = ir_add_tensor_unique(g, nm, IR_UNDEF, IR_GRADIENT);
  }
  if (rc == 0) rc = autodiff(g, g->n_nodes, target, np, params, grads);
  /* a parameter the loss reads only where no gradient flows (autodiff gave
   * it constant zeros) has no gradient, and torch.optim skips those */
  int kept = 0;
  for (int i = 0; rc == 0 && i < np; i++) {
    const ir_node *p = grads[i]->producer;
    if (!(p && ir_node_is(p, "Identity") && p->in[0]->role == IR_CONST)) {
      params[kept] = params[i];
      grads[kept++] = grads[i];
    }
  }
  np = kept;
  if (rc == 0 && np == 0) rc = ir_error("--train: no parameter has a gradient (the loss does not depend on any)");
  /* 5: the optimizer nodes read the gradients before anything infers (and
   * may fold and compact) the backward, so no gradient is left unread */
  for (int i = 0; rc == 0 && i < np; i++) rc = optimizer_step(g, s, params[i], grads[i], step, next);
  free(params);
  free(grads);
  if (rc == 0) rc = ir_graph_toposort(g);
  if (rc == 0) rc = pass_infer(g, o);
  return rc;
}
