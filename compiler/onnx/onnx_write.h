/*
 * onnx_write.h - an IR graph out as an ONNX model file (`modelc export`).
 *
 * The graph is written as the frontend built it (before the passes):
 * inputs, outputs, every node with its attributes (modelc's own '_'
 * attributes left out), and parameters and constants as initializers with
 * their data.  The model imports ai.onnx at the newest opset of its nodes.
 */
#ifndef MODELC_ONNX_WRITE_H
#define MODELC_ONNX_WRITE_H

#include "../ir/ir.h"

/* 0 on success; -1 with ir_last_error() (a subgraph, a dtype ONNX lacks, I/O). */
int onnx_write_file(const ir_graph *g, const char *path);

#endif
