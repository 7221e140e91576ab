/*
 * ops_math.c - math, selection and sorting ops.  (Empty until their entries land.)
 */
#include "op.h"

const op_def ops_math[] = {{.name = NULL}};
