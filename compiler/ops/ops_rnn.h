/*
 * ops_rnn.h - what the RNN, LSTM and GRU entries (ops_rnn.c) leave on a
 * node for the interpreter and the backend to read.
 *
 * ONNX spells the gate activations as names with optional alpha/beta lists
 * that are consumed in order by the activations that take them.  validate
 * turns that into one code, one alpha and one beta per activation slot,
 * direction-major (forward's f, g, h then reverse's), with ONNX's defaults
 * filled in:
 *     "_rnn_act"   ints    RNN_ACT_* codes, num_directions * slots
 *     "_rnn_alpha" floats  same length
 *     "_rnn_beta"  floats  same length
 * Slots per direction: RNN 1 (f), GRU 2 (f, g), LSTM 3 (f, g, h).
 * infer makes hidden_size, layout and direction explicit attributes.
 */
#ifndef MODELC_OPS_RNN_H
#define MODELC_OPS_RNN_H

typedef enum rnn_act {
  RNN_ACT_RELU = 0, RNN_ACT_TANH, RNN_ACT_SIGMOID, RNN_ACT_AFFINE, RNN_ACT_LEAKY_RELU,
  RNN_ACT_THRESHOLDED_RELU, RNN_ACT_SCALED_TANH, RNN_ACT_HARD_SIGMOID, RNN_ACT_ELU,
  RNN_ACT_SOFTSIGN, RNN_ACT_SOFTPLUS, RNN_ACT_COUNT
} rnn_act;

#define RNN_MAX_SLOTS 6   /* 2 directions * 3 activations */

#endif
