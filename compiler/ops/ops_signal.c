/*
 * ops_signal.c - signal-processing ops.  (Empty until their entries land.)
 */
#include "op.h"

const op_def ops_signal[] = {{.name = NULL}};
