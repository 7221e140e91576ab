/*
 * passes.h - the pass pipeline.  Each pass is one file in compiler/passes/
 * and states at its top what it requires and what it guarantees.  Every pass
 * can be switched off from the CLI so that `modelc check` can bisect a wrong
 * result to one pass.
 */
#ifndef MODELC_PASSES_H
#define MODELC_PASSES_H

#include <stddef.h>

#include "../ir/ir.h"

typedef struct pass_options {
  int fold;     /* constant-fold float computations (shape arithmetic always folds) */
  int dce;      /* dead-node elimination */
  int identity; /* Identity and inference-Dropout removal (identity.c) */
  int bnfold;   /* BatchNormalization folded into Conv/Gemm (bnfold.c) */
  int fuse;     /* bias, residual and activation fusion (fuse.c) */
  int padfold;  /* constant Pad folded into Conv and pooling (padfold.c) */
  int transfold; /* 2-D Transpose folded into Gemm's transA/transB (transfold.c) */
  int schedule; /* a node order with fewer bytes live (schedule.c) */
  int inplace;  /* aliases and in-place outputs share arena bytes (plan.c) */
  int prune;    /* optional outputs nobody reads left unwritten (prune.c) */
  int plan;     /* memory planning (always needed before emission) */
  int training; /* the graph will be trained: statistics are no constants (no bnfold) */
  int threads;  /* the OpenMP threads the emitted C runs on (compile --threads; 0 or 1: one):
                   before planning, every node gets PASS_THREADS_ATTR, so that kernels size
                   their per-thread scratch for it */
} pass_options;

/* The node attribute (int) holding pass_options.threads when above 1. */
#define PASS_THREADS_ATTR "_threads"


void pass_options_default(pass_options *o);

/* The passes a user can switch off (`--no-NAME`), each with its flag in
 * pass_options: the CLI's switches and its help come from this table, and
 * so can a bisection over the passes.  Ends with a NULL name. */
typedef struct pass_switch {
  const char *name;
  size_t offset;     /* of its int flag in pass_options */
  int optimizing;    /* rewrites the graph or shares bytes beyond what the model says: off for
                        the yardstick of `info` (the most bytes live in the model's own order) */
  const char *what;
} pass_switch;
extern const pass_switch pass_switches[];
int *pass_switch_flag(pass_options *o, const pass_switch *s);

/* infer.c: shape and dtype inference, folding (fold.c) and lowering
 * control flow (control.c, gradient.c) as the sweep meets them. */
int pass_infer(ir_graph *g, const pass_options *o);
/* infer.c: t's shape is fully known (n: the node reading it, NULL for a
 * graph input); -1 with an error naming the tensor and the unknown dimension. */
int pass_check_known(const ir_node *n, const ir_tensor *t);
/* infer.c: pass_check_known on each input of n. */
int pass_inputs_known(const ir_node *n);
/* infer.c: the byte limit of g's outermost graph (--max-bytes, 4 GiB by default). */
int64_t pass_max_bytes(const ir_graph *g);
/* fold.c: whether t is a compile-time constant: it has data and is neither
 * optimizer state nor, when o->training, a float parameter (which the
 * optimizer changes every step).  Integer parameters (shapes, axes) stay
 * constants.  Every pass asks this, never t->data alone. */
int pass_is_const(const ir_tensor *t, const pass_options *o);
/* fold.c: fold node n when its inputs are constants (see there): 1 when
 * folded, 0 when not, -1 on error; *folded counts the bytes made constant. */
int pass_fold_node(ir_graph *g, ir_node *n, const pass_options *o, int64_t *folded);
/* fold.c: pass_fold_node over the whole schedule, then compaction. */
int pass_fold(ir_graph *g, const pass_options *o);
/* control.c: move every node and tensor of subgraph `sub` (whose parent is g)
 * into g, the nodes inserted at position pos; returns how many.  sub is left
 * empty, for the caller to free. */
int pass_splice(ir_graph *g, int pos, ir_graph *sub);
/* unroll.c: replace Loop/Scan node k by its unrolled iterations (see there);
 * returns the index where inference goes on, -1 on error. */
int pass_unroll_loop(ir_graph *g, int k, const pass_options *o);
int pass_unroll_scan(ir_graph *g, int k, const pass_options *o);

/* The op table's expand hooks (control.c; Gradient: gradient.c) (op_def.expand) of the ops that rewrite the
 * graph during inference: If (spliced or predicated), Loop and Scan
 * (unrolled), Gradient (differentiated, autodiff.c). */
int pass_expand_if(ir_graph *g, int k, const pass_options *o, int *next);
int pass_expand_loop(ir_graph *g, int k, const pass_options *o, int *next);
int pass_expand_scan(ir_graph *g, int k, const pass_options *o, int *next);
int pass_expand_gradient(ir_graph *g, int k, const pass_options *o, int *next);
/* dce.c: drop nodes whose outputs nobody needs, and unreferenced tensors. */
int pass_dce(ir_graph *g);
/* prune.c: drop optional outputs nobody reads (OP_OPTIONAL_OUTPUTS). */
int pass_prune(ir_graph *g);
/* identity.c, bnfold.c, fuse.c, padfold.c, transfold.c, schedule.c: see
 * each file's guarantee. */
int pass_identity(ir_graph *g, const pass_options *o);
int pass_bnfold(ir_graph *g, const pass_options *o);
int pass_fuse(ir_graph *g, const pass_options *o);
int pass_padfold(ir_graph *g, const pass_options *o);
int pass_transfold(ir_graph *g, const pass_options *o);
int pass_schedule(ir_graph *g, const pass_options *o);
/* plan.c: arena offsets from lifetimes over the schedule. */
int pass_plan(ir_graph *g);
int pass_plan_with(ir_graph *g, int inplace);

/* pipeline.c: the whole pipeline in order, as the CLI runs it. */
int pass_run_all(ir_graph *g, const pass_options *o);

#endif
