/*
 * frontend.h - what every frontend (ONNX, the DSL) shares once it has built
 * its graph: the load options the CLI passes to any of them, and the one
 * call that turns a freshly built graph into one the passes accept.
 *
 * A frontend reads its format and builds IR with the shapes the model
 * declares, nothing more.  It then calls fe_finish, which
 *   1. applies the --shape/--dim/--const bindings (ir_bind_inputs);
 *   2. reports every node without an op table entry in one error;
 *   3. sorts the nodes of every graph topologically (inner graphs too);
 *   4. binds each node to its op table entry and validates its attributes
 *      (op_validate).
 * With no_bind, steps 2 and 4 are skipped (inspection, tests).
 */
#ifndef MODELC_FRONTEND_H
#define MODELC_FRONTEND_H

#include <stdint.h>

#include "../ir/ir_bind.h"

typedef struct fe_opts {
  ir_bindings bind;
  int64_t max_bytes;      /* limit on all weight/constant bytes; 0 = 4 GiB */
  int no_bind;            /* skip the op table (unsupported-op check, op_validate) */
} fe_opts;

#define FE_DEFAULT_MAX_BYTES ((int64_t)4 << 30)

/* Steps 1-4 above; o may be NULL.  -1 with ir_last_error() set. */
int fe_finish(ir_graph *g, const fe_opts *o);

/* Step 2 alone: -1 naming every node whose op modelc lacks. */
int fe_check_supported(const ir_graph *g);

#endif
