/*
 * emit_rnn.h - C emitter of the recurrent group (ops_rnn.c): RNN, LSTM and
 * GRU, and the arena scratch it needs.  Signatures are op_def's.
 */
#ifndef MODELC_EMIT_RNN_H
#define MODELC_EMIT_RNN_H

#include "emit.h"

int emit_rnn(emit_ctx *e, const ir_node *n);
int64_t emit_rnn_scratch(const ir_node *n);

#endif
