/*
 * ops_quant.c - quantized inference ops.  (Empty until their entries land.)
 */
#include "op.h"

const op_def ops_quant[] = {{.name = NULL}};
