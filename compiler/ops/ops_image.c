/*
 * ops_image.c - resampling, layout and normalization ops.  (Empty until their entries land.)
 */
#include "op.h"

const op_def ops_image[] = {{.name = NULL}};
