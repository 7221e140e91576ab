/*
 * pipeline.c - the pass pipeline as the CLI runs it, and its options.
 *
 * require: a graph as a frontend leaves it (nodes bound, topologically
 *          sorted, input shapes fixed).
 * guarantee: the passes of passes.h have run in order, each skipped when
 *          its option is off; with o->threads above 1 every node carries
 *          PASS_THREADS_ATTR; the graph is planned when o->plan.
 */
#include "passes.h"

void pass_options_default(pass_options *o) {
  o->fold = 1;
  o->dce = 1;
  o->identity = 1;
  o->bnfold = 1;
  o->fuse = 1;
  o->padfold = 1;
  o->transfold = 1;
  o->schedule = 1;
  o->inplace = 1;
  o->prune = 1;
  o->plan = 1;
  o->training = 0;
  o->threads = 0;
}

#define SWITCH(f, opt, what) {#f, offsetof(pass_options, f), opt, what}
const pass_switch pass_switches[] = {
    SWITCH(fold, 0, "constant folding of float computations (shape arithmetic always folds)"),
    SWITCH(dce, 0, "dead-node elimination"),
    SWITCH(identity, 1, "Identity and inference-Dropout removal"),
    SWITCH(bnfold, 1, "BatchNormalization folded into Conv/Gemm"),
    SWITCH(fuse, 1, "bias, residual and activation fused into their producer"),
    SWITCH(padfold, 1, "constant Pad folded into Conv and pooling"),
    SWITCH(transfold, 1, "2-D Transpose folded into Gemm"),
    SWITCH(schedule, 1, "a node order with fewer bytes live"),
    SWITCH(inplace, 1, "aliases and in-place outputs sharing arena bytes"),
    SWITCH(prune, 1, "optional outputs nothing reads (an RNN's Y) left unwritten"),
    {NULL, 0, 0, NULL}};
#undef SWITCH

int *pass_switch_flag(pass_options *o, const pass_switch *s) { return (int *)((char *)o + s->offset); }

int pass_run_all(ir_graph *g, const pass_options *o) {
  if (pass_infer(g, o) < 0) return -1;
  if (o->identity && pass_identity(g, o) < 0) return -1;
  if (o->dce && pass_dce(g) < 0) return -1;
  if (o->bnfold && pass_bnfold(g, o) < 0) return -1;
  if (o->padfold && pass_padfold(g, o) < 0) return -1;
  if (o->transfold && pass_transfold(g, o) < 0) return -1;
  if (o->fuse && pass_fuse(g, o) < 0) return -1;
  if ((o->bnfold || o->fuse) && o->dce && pass_dce(g) < 0) return -1;   /* weights nobody reads now */
  if (o->prune && pass_prune(g) < 0) return -1;
  if (o->schedule && pass_schedule(g, o) < 0) return -1;
  for (int k = 0; k < g->n_nodes && o->threads > 1; k++) ir_attr_set_int(g->nodes[k], PASS_THREADS_ATTR, o->threads);
  if (o->plan && pass_plan_with(g, o->inplace) < 0) return -1;
  return 0;
}
