/*
 * emit_control.h - C emitter of the control-flow group (ops_control.c).
 * Signatures are op_def.emit's.
 */
#ifndef MODELC_EMIT_CONTROL_H
#define MODELC_EMIT_CONTROL_H

#include "emit.h"

int emit_if(emit_ctx *e, const ir_node *n);

#endif
