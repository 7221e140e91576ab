/*
 * onnx_load.h - the ONNX frontend: a ModelProto file or buffer in, an IR
 * graph out (compiler/ir/ir.h).
 *
 * The loader builds the graph and nothing more: graph inputs become
 * IR_INPUT tensors, initializers IR_PARAM tensors, Constant nodes IR_CONST
 * tensors, every other node an IR node bound to its op table entry.  Old
 * opsets are rewritten into the newest form (attributes that later became
 * inputs arrive as constant inputs), local functions are inlined, and the
 * nodes are sorted topologically.  Shapes beyond the declared ones are left
 * to shape inference.
 *
 * The graph then goes through fe_finish (compiler/frontend/frontend.h):
 * the options carry the CLI's --shape, --dim and --const bindings, applied
 * there as for every frontend.
 */
#ifndef MODELC_ONNX_LOAD_H
#define MODELC_ONNX_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../frontend/frontend.h"

/* Unpack a ModelProto with protobuf-c after checking that its messages do
 * not nest deeper than the stack can take (protobuf-c recurses without
 * limit).  NULL with ir_last_error() set when too deep or not protobuf.
 * Free with onnx__model_proto__free_unpacked.  For readers of model files
 * other than the loader (test-onnx looks at input types). */
struct Onnx__ModelProto *onnx_unpack_model(const void *buf, size_t len, const char *what);

/* Load a model file.  External tensor data is read from the model's own
 * folder only.  o may be NULL.  Returns NULL with ir_last_error() set. */
ir_graph *onnx_load_file(const char *path, const fe_opts *o);

/* Load a model held in memory.  base_dir is the folder external data is
 * resolved against; NULL forbids external data. */
ir_graph *onnx_load_buffer(const void *buf, size_t len, const char *base_dir, const fe_opts *o);

#endif
