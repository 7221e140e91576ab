/*
 * interp_signal.h - reference kernels of the signal group
 * (compiler/ops/ops_signal.c).  One function per op with op_def.interp's
 * signature, named interp_signal_<Op>.
 */
#ifndef MODELC_INTERP_SIGNAL_H
#define MODELC_INTERP_SIGNAL_H

#include "../interp.h"

#define INTERP_SIGNAL_OPS(X) \
  X(HannWindow) X(HammingWindow) X(BlackmanWindow) X(DFT) X(STFT) X(MelWeightMatrix)

#define INTERP_SIGNAL_DECL(op) \
  int interp_signal_##op(interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
INTERP_SIGNAL_OPS(INTERP_SIGNAL_DECL)
#undef INTERP_SIGNAL_DECL

#endif
