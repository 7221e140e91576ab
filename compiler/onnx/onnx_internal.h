/*
 * onnx_internal.h - what the ONNX frontend's files share and nobody else
 * needs: the growable input list a node is assembled in before
 * ir_node_set_io, and the opset normalization entry point.
 */
#ifndef MODELC_ONNX_INTERNAL_H
#define MODELC_ONNX_INTERNAL_H

#include "../ir/ir.h"

/* Inputs of a node under construction; NULL entries are missing inputs. */
typedef struct onnx_inputs {
  ir_tensor **v;
  int n, cap;
} onnx_inputs;

/* Put t at input position idx (growing the list with NULLs).  -1 naming
 * the node when the position is already taken. */
int onnx_set_input(const ir_node *n, onnx_inputs *in, int idx, ir_tensor *t);

/* Rewrite node n (already carrying op_type, domain, opset and attributes,
 * its inputs in `in`) into the newest opset's form: attributes that later
 * opsets turned into inputs become new IR_CONST tensors of g, legacy
 * attributes without meaning are dropped.  n->opset is left unchanged. */
int onnx_normalize(ir_graph *g, ir_node *n, onnx_inputs *in);

#endif
