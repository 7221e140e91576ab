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
 * The options carry the CLI's --shape, --dim and --const bindings as plain
 * arrays the caller owns (the loader copies what it keeps).  A name that
 * matches nothing in the model is an error.
 */
#ifndef MODELC_ONNX_LOAD_H
#define MODELC_ONNX_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../ir/ir.h"

/* --shape NAME=d0,d1,...: fix a graph input's shape. */
typedef struct onnx_binding {
  const char *name;
  int rank;
  int64_t dims[IR_MAX_RANK];
} onnx_binding;

/* --dim SYMBOL=N: fix a symbolic dimension wherever it appears. */
typedef struct onnx_dim_binding {
  const char *name;
  int64_t value;
} onnx_dim_binding;

/* --const NAME=FILE, the file already read: the input becomes IR_CONST with
 * a copy of data (numel * ir_dtype_size(dtype) bytes, C order). */
typedef struct onnx_const_binding {
  const char *name;
  ir_dtype dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  const void *data;
} onnx_const_binding;

/* The limit on a model's bytes (and on a tensor file's) when none is given. */
#define ONNX_DEFAULT_MAX_BYTES ((int64_t)4 << 30)

typedef struct onnx_load_opts {
  int n_shapes;
  const onnx_binding *shapes;
  int n_dims;
  const onnx_dim_binding *dims;
  int n_consts;
  const onnx_const_binding *consts;
  int64_t max_bytes;      /* limit on all initializer/constant bytes; 0 = 4 GiB */
  int no_bind;            /* skip the op table (unsupported-op check, op_validate):
                             for inspecting models and for tests */
} onnx_load_opts;

/* Unpack a ModelProto with protobuf-c after checking that its messages do
 * not nest deeper than the stack can take (protobuf-c recurses without
 * limit).  NULL with ir_last_error() set when too deep or not protobuf.
 * Free with onnx__model_proto__free_unpacked.  For readers of model files
 * other than the loader (test-onnx looks at input types). */
struct Onnx__ModelProto *onnx_unpack_model(const void *buf, size_t len, const char *what);

/* Load a model file.  External tensor data is read from the model's own
 * folder only.  o may be NULL.  Returns NULL with ir_last_error() set. */
ir_graph *onnx_load_file(const char *path, const onnx_load_opts *o);

/* Load a model held in memory.  base_dir is the folder external data is
 * resolved against; NULL forbids external data. */
ir_graph *onnx_load_buffer(const void *buf, size_t len, const char *base_dir, const onnx_load_opts *o);

#endif
