/*
 * ops_math.h - op-level semantics of the math group (ops_math.c) that both
 * the interpreter (runtime/kernels/interp_math.c) and the C backend
 * (compiler/backend/emit_math.c) need.
 *
 * Most of the group's nodes carry what their kernels need as attributes
 * once infer has run: infer normalizes "axis" (TopK, Hardmax, OneHot) to a
 * non-negative value and stores values that arrive as constant inputs in
 * modelc's own attributes ("_k" for Trilu and TopK, "_axis" for CumSum).
 * Einsum's equation is parsed here, once for both sides.
 */
#ifndef MODELC_OPS_MATH_H
#define MODELC_OPS_MATH_H

#include "op.h"

#define OPS_EINSUM_MAX_IN 8
#define OPS_EINSUM_MAX_LABELS (52 + IR_MAX_RANK)   /* letters, then ellipsis dims */

/* An Einsum as loops: every label is one loop of extent dim[l]; the output
 * labels come first (out_rank of them, in output order), the summed ones
 * after.  Input k's axis a is indexed by label lab[k][a]; an input axis of
 * extent 1 under a label of a larger extent (a broadcast ellipsis dim) is
 * read at index 0. */
typedef struct ops_einsum {
  int n_in;
  int n_labels;                 /* loops: out_rank output labels, then summed ones */
  int64_t dim[OPS_EINSUM_MAX_LABELS];
  int rank[OPS_EINSUM_MAX_IN];
  int lab[OPS_EINSUM_MAX_IN][IR_MAX_RANK];
  int out_rank;
} ops_einsum;

/* Parse the node's equation against its input shapes; -1 via op_fail. */
int ops_math_einsum(const ir_node *n, ops_einsum *es);

#endif
