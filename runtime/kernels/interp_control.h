/*
 * interp_control.h - reference kernels of the control-flow group
 * (ops_control.c).  Signatures are op_def.interp's.
 */
#ifndef MODELC_INTERP_CONTROL_H
#define MODELC_INTERP_CONTROL_H

#include "../interp.h"

int interp_if(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);

#endif
