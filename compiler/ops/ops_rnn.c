/*
 * ops_rnn.c - recurrent ops.  (Empty until their entries land.)
 */
#include "op.h"

const op_def ops_rnn[] = {{.name = NULL}};
