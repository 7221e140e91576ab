/*
 * train.h - the training step as a graph (train.c) and how it is asked for:
 * a loss, an optimizer with PyTorch's rules and defaults, the parameters to
 * leave alone.  The spec comes from the CLI (--loss, --optimizer, --freeze)
 * or from a DSL model's train block (train_spec_from_model); docs/training.md
 * says what each loss and optimizer computes.
 */
#ifndef MODELC_TRAIN_H
#define MODELC_TRAIN_H

#include "../ir/ir.h"
#include "passes.h"

#define TRAIN_MAX_FROZEN 256

/* The names of the optimizer's state tensors, which are also their keys in
 * the .npz a --train harness saves (docs/training_harness.md):
 * "optimizer/<parameter>/<what torch calls it>" (momentum_buffer, exp_avg,
 * exp_avg_sq, sum) and TRAIN_STEP_NAME, the count of steps done.  Being
 * tensor names of the step they never equal a parameter's; the prefix lets
 * update-weights tell them from parameters a model lacks. */
#define TRAIN_STATE_PREFIX "optimizer/"
#define TRAIN_STEP_NAME TRAIN_STATE_PREFIX "step"

typedef enum train_optimizer { TRAIN_SGD = 1, TRAIN_ADAM, TRAIN_ADAGRAD } train_optimizer;   /* 1 + index in train.c's table */

typedef struct train_spec {
  const char *loss;          /* "softmax_cross_entropy", "mse", "bce_with_logits"; NULL: the model ends in its loss */
  const char *prediction;    /* the tensor the loss reads; NULL: the model's first output */
  const char *label;         /* the label input's name; NULL: "label" */
  ir_dtype label_dtype;      /* IR_UNDEF: int64 [N] for cross-entropy, else the prediction's */
  int label_rank;
  int64_t label_shape[IR_MAX_RANK];
  struct train_opt {
    train_optimizer kind;    /* 0 until one is set */
    double lr, momentum, weight_decay, beta1, beta2, eps, lr_decay;
    int nesterov, decoupled;
  } opt;
  int n_frozen;
  const char *frozen[TRAIN_MAX_FROZEN];   /* names, owned by the caller */
} train_spec;

/* 0 when name is a loss train.c builds; -1 with an error listing them. */
int train_check_loss(const char *name);
/* Parse "sgd:lr=0.1,momentum=0.9", "adam" / "adam:lr=..,decoupled=1" or "adagrad:..." into
 * s with PyTorch's defaults; -1 with a one-line error (a usage error). */
int train_parse_optimizer(train_spec *s, const char *text);
/* The spec of a model's train block (g->train); -1 with an error for what
 * --train cannot do, with the loss and frozen names filled in. */
int train_spec_from_model(train_spec *s, const ir_graph *g);

/* Whether s can train g: an optimizer, a loss (given, or the model's own
 * loss op), --freeze naming parameters; -1 with a one-line error. */
int train_check_spec(const ir_graph *g, const train_spec *s);
/* train.c: make g, an inferred forward graph, its training step (see there). */
int pass_train(ir_graph *g, const train_spec *s, const pass_options *o);

#endif
