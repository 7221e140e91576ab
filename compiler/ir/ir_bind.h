/*
 * ir_bind.h - the user's --shape, --dim and --const bindings, applied to a
 * graph a frontend has built, whatever format it came from.
 *
 * A frontend builds its graph with the shapes the model declares: a known
 * dimension is a number, a named one is -1 with its symbol in dim_param.
 * ir_bind_inputs then checks every binding against the declared inputs
 * (rank, fixed dimensions, dtype), derives the value of every symbol (from
 * --dim and from the dimensions --shape and --const imply), writes those
 * values into every tensor of the graph and its subgraphs that names the
 * symbol, gives bound inputs their shape and turns --const inputs into
 * IR_CONST tensors that are no longer runtime inputs.
 *
 * The arrays are the caller's; what the graph keeps is copied.
 */
#ifndef MODELC_IR_BIND_H
#define MODELC_IR_BIND_H

#include "ir.h"

/* --shape NAME=d0,d1,...: fix a graph input's shape. */
typedef struct ir_shape_binding {
  const char *name;
  int rank;
  int64_t dims[IR_MAX_RANK];
} ir_shape_binding;

/* --dim SYMBOL=N: fix a symbolic dimension wherever it appears. */
typedef struct ir_dim_binding {
  const char *name;
  int64_t value;
} ir_dim_binding;

/* --const NAME=FILE, the file already read: the input becomes IR_CONST with
 * a copy of data (numel * ir_dtype_size(dtype) bytes, C order). */
typedef struct ir_const_binding {
  const char *name;
  ir_dtype dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  const void *data;
} ir_const_binding;

typedef struct ir_bindings {
  int n_shapes;
  const ir_shape_binding *shapes;
  int n_dims;
  const ir_dim_binding *dims;
  int n_consts;
  const ir_const_binding *consts;
} ir_bindings;

/* Check and apply b to g (b may be NULL: nothing to do).  A name that
 * matches no input, a symbol no dimension carries, a rank or dimension
 * that contradicts the declaration, or two bindings that imply different
 * values for one symbol: -1 with ir_last_error() naming the option. */
int ir_bind_inputs(ir_graph *g, const ir_bindings *b);

#endif
