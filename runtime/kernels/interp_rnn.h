/*
 * interp_rnn.h - reference kernel of the recurrent group (ops_rnn.c): RNN,
 * LSTM and GRU in one function.  Signature is op_def.interp's.
 */
#ifndef MODELC_INTERP_RNN_H
#define MODELC_INTERP_RNN_H

#include "../interp.h"

int interp_rnn(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);

#endif
