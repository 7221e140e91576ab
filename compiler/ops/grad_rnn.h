/*
 * grad_rnn.h - gradient builder of the recurrent ops RNN, GRU and LSTM
 * (see compiler/passes/autodiff.h): backpropagation through time, appended
 * as ordinary nodes.
 */
#ifndef MODELC_GRAD_RNN_H
#define MODELC_GRAD_RNN_H

#include "../passes/autodiff.h"

/* One builder for the three entries; it reads the cell from n->op_type. */
int grad_rnn(grad_ctx *gc, const ir_node *n);

#endif
