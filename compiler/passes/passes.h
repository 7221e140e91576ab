/*
 * passes.h - the pass pipeline.  Each pass is one file in compiler/passes/
 * and states at its top what it requires and what it guarantees.  Every pass
 * can be switched off from the CLI so that `modelc check` can bisect a wrong
 * result to one pass.
 */
#ifndef MODELC_PASSES_H
#define MODELC_PASSES_H

#include "../ir/ir.h"

typedef struct pass_options {
  int fold;     /* constant-fold float computations (shape arithmetic always folds) */
  int dce;      /* dead-node elimination */
  int plan;     /* memory planning (always needed before emission) */
} pass_options;

void pass_options_default(pass_options *o);

/* infer.c: shape and dtype inference with constant propagation; splices
 * If nodes with constant conditions. */
int pass_infer(ir_graph *g, const pass_options *o);
/* dce.c: drop nodes whose outputs nobody needs, and unreferenced tensors. */
int pass_dce(ir_graph *g);
/* plan.c: arena offsets from lifetimes over the schedule. */
int pass_plan(ir_graph *g);

/* The whole pipeline in order, as the CLI runs it. */
int pass_run_all(ir_graph *g, const pass_options *o);

#endif
