/*
 * emit_signal.h - C emitters of the signal group
 * (compiler/ops/ops_signal.c).  One function per op with op_def.emit's
 * signature, named emit_signal_<Op>.
 */
#ifndef MODELC_EMIT_SIGNAL_H
#define MODELC_EMIT_SIGNAL_H

#include "emit.h"

#define EMIT_SIGNAL_OPS(X) \
  X(HannWindow) X(HammingWindow) X(BlackmanWindow) X(DFT) X(STFT) X(MelWeightMatrix)

#define EMIT_SIGNAL_DECL(op) int emit_signal_##op(emit_ctx *e, const ir_node *n);
EMIT_SIGNAL_OPS(EMIT_SIGNAL_DECL)
#undef EMIT_SIGNAL_DECL

#endif
