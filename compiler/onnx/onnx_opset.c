/*
 * onnx_opset.c - rewrite old-opset nodes into the newest form.
 *
 * Several ONNX ops moved attributes to inputs over time (Reshape's shape in
 * opset 5, Slice's starts/ends in 10, Clip's min/max and Pad's pads in 11,
 * the axes of Squeeze/Unsqueeze/ReduceSum in 13 and of the other reductions
 * in 18, ...).  Every stage after the frontend sees only the input form, so
 * this file turns such attributes into IR_CONST tensors (int64, or float32
 * for Clip's bounds, Pad's value and Upsample's scales) placed at the input
 * position the newest opset uses, and removes the attribute.  An attribute
 * that was optional and is absent stays a missing (NULL) input, so the op's
 * default applies; nothing is materialized for it.  Legacy attributes that
 * mean nothing at inference time are dropped.
 *
 * The node keeps its original opset number: ops whose semantics changed
 * without a change of form (Softmax's axis) still need it.
 */
#include "onnx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"

int onnx_set_input(const ir_node *n, onnx_inputs *in, int idx, ir_tensor *t) {
  if (idx >= in->cap) {
    int cap = idx + 4;
    in->v = ir_realloc(in->v, (size_t)cap * sizeof *in->v);
    for (int i = in->cap; i < cap; i++) in->v[i] = NULL;
    in->cap = cap;
  }
  while (in->n <= idx) in->v[in->n++] = NULL;
  if (in->v[idx])
    return op_fail(n, "input %d is given both as an input and as an attribute", idx);
  in->v[idx] = t;
  return 0;
}

/* A new constant of g named after the node and the attribute it replaces. */
static ir_tensor *new_const(ir_graph *g, const ir_node *n, const char *attr, ir_dtype dt, int rank,
                            int64_t len, const void *data) {
  char base[256];
  snprintf(base, sizeof base, "%s_%s", n->name, attr);
  ir_tensor *t = ir_add_tensor_unique(g, base, dt, IR_CONST);
  if (!t) return NULL;
  ir_set_shape(t, rank, &len);
  ir_tensor_set_data(t, data, (size_t)len * ir_dtype_size(dt));
  t->role = IR_CONST;
  return t;
}

/* Attribute `attr` (ints) becomes int64 input idx: 1-D, or a [1] tensor
 * when it was a single int (TopK's k). */
static int move_ints(ir_graph *g, ir_node *n, onnx_inputs *in, const char *attr, int idx) {
  ir_attr *a = ir_attr_find(n, attr);
  if (!a) return 0;
  ir_tensor *t;
  if (a->type == IR_ATTR_INTS) {
    t = new_const(g, n, attr, IR_I64, 1, a->n, a->ints);
  } else if (a->type == IR_ATTR_INT) {
    t = new_const(g, n, attr, IR_I64, 1, 1, &a->i);
  } else {
    return op_fail(n, "attribute '%s' is %s, expected ints", attr, ir_attr_type_name(a->type));
  }
  if (!t || onnx_set_input(n, in, idx, t)) return -1;
  ir_attr_remove(n, attr);
  return 0;
}

/* Float attribute or list becomes float32 input idx: a scalar for a single
 * float (Clip's bounds, Pad's value), 1-D for a list (Upsample's scales). */
static int move_floats(ir_graph *g, ir_node *n, onnx_inputs *in, const char *attr, int idx) {
  ir_attr *a = ir_attr_find(n, attr);
  if (!a) return 0;
  ir_tensor *t;
  if (a->type == IR_ATTR_FLOAT || a->type == IR_ATTR_INT) {
    float v = a->type == IR_ATTR_FLOAT ? (float)a->f : (float)a->i;
    t = new_const(g, n, attr, IR_F32, 0, 1, &v);
  } else if (a->type == IR_ATTR_FLOATS) {
    float *v = ir_alloc((size_t)(a->n > 0 ? a->n : 1) * sizeof *v);
    for (int i = 0; i < a->n; i++) v[i] = (float)a->floats[i];
    t = new_const(g, n, attr, IR_F32, 1, a->n, v);
    free(v);
  } else {
    return op_fail(n, "attribute '%s' is %s, expected float", attr, ir_attr_type_name(a->type));
  }
  if (!t || onnx_set_input(n, in, idx, t)) return -1;
  ir_attr_remove(n, attr);
  return 0;
}

static int is_op(const ir_node *n, const char *op) { return strcmp(n->op_type, op) == 0; }

static int is_late_reduce(const ir_node *n) {
  static const char *const ops[] = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                                    "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                                    "ReduceSumSquare"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (is_op(n, ops[i])) return 1;
  return 0;
}

/* Opsets 1-6 broadcast binary ops only when asked (broadcast=1), aligning
 * B at `axis` of A; opset 7 made numpy's right-aligned rule implicit.  The
 * two agree when B ends at A's last axis; a constant B that ends earlier is
 * given trailing 1s.  Anything else cannot be decided before shape
 * inference and is refused by name. */
static int legacy_broadcast(ir_graph *g, ir_node *n, onnx_inputs *in) {
  const ir_attr *b = ir_attr_find(n, "broadcast");
  if (!b) return 0;
  const ir_attr *ax = ir_attr_find(n, "axis");
  if (b->type == IR_ATTR_INT && b->i && ax) {
    ir_tensor *A = in->n > 0 ? in->v[0] : NULL, *B = in->n > 1 ? in->v[1] : NULL;
    if (!A || !B || A->rank < 0 || B->rank < 0 || ax->type != IR_ATTR_INT)
      return op_fail(n, "legacy broadcast along 'axis' needs both input ranks known when loading");
    int64_t axis = ax->i < 0 ? ax->i + A->rank : ax->i;
    if (axis < 0 || axis + B->rank > A->rank)
      return op_fail(n, "legacy broadcast axis %lld does not fit ranks %d and %d", (long long)ax->i, A->rank,
                     B->rank);
    if (axis + B->rank < A->rank) {
      if (!B->data || !ir_shape_known(B))
        return op_fail(n, "legacy broadcast of '%s' along axis %lld needs it constant", B->name, (long long)ax->i);
      int64_t dims[IR_MAX_RANK];
      int r = (int)(A->rank - axis);
      for (int i = 0; i < r; i++) dims[i] = i < B->rank ? B->shape[i] : 1;
      char base[256];
      snprintf(base, sizeof base, "%s_bcast", B->name);
      ir_tensor *t = ir_add_tensor_unique(g, base, B->dtype, IR_CONST);
      if (!t) return -1;
      ir_set_shape(t, r, dims);
      ir_tensor_set_data(t, B->data, (size_t)ir_nbytes(B));
      t->role = IR_CONST;
      in->v[1] = t;
    }
    ir_attr_remove(n, "axis");
  }
  ir_attr_remove(n, "broadcast");
  return 0;
}

static int is_legacy_binary(const ir_node *n) {
  static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor",
                                    "Equal", "Greater", "Less"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strcmp(n->op_type, ops[i]) == 0) return 1;
  return 0;
}

int onnx_normalize(ir_graph *g, ir_node *n, onnx_inputs *in) {
  if (n->domain[0]) return 0;   /* only ai.onnx ops moved attributes */
  int v = n->opset;
  if (v <= 6) ir_attr_remove(n, "consumed_inputs");   /* opsets 1-5 memory hint */

  if (v < 7 && is_legacy_binary(n)) return legacy_broadcast(g, n, in);
  if (v < 7 && is_op(n, "Gemm")) ir_attr_remove(n, "broadcast");   /* C broadcasts since opset 7 */

  if (is_op(n, "Reshape") && v < 5) return move_ints(g, n, in, "shape", 1);
  if ((is_op(n, "Squeeze") || is_op(n, "Unsqueeze") || is_op(n, "ReduceSum")) && v < 13)
    return move_ints(g, n, in, "axes", 1);
  if (is_late_reduce(n) && v < 18) return move_ints(g, n, in, "axes", 1);
  if (is_op(n, "Split") && v < 13) return move_ints(g, n, in, "split", 1);
  if (is_op(n, "TopK") && v < 10) return move_ints(g, n, in, "k", 1);
  if (is_op(n, "Slice") && v < 10) {
    if (move_ints(g, n, in, "starts", 1) || move_ints(g, n, in, "ends", 2) ||
        move_ints(g, n, in, "axes", 3))
      return -1;
    return 0;
  }
  if (is_op(n, "Clip") && v < 11)   /* absent bounds stay missing inputs (no clipping) */
    return move_floats(g, n, in, "min", 1) || move_floats(g, n, in, "max", 2) ? -1 : 0;
  if (is_op(n, "Pad") && v < 11) {
    /* Pad-1 called it 'paddings'; same layout as 'pads'. */
    if (move_ints(g, n, in, "pads", 1) || move_ints(g, n, in, "paddings", 1) ||
        move_floats(g, n, in, "value", 2))
      return -1;
    return 0;
  }
  if (is_op(n, "Upsample") && v < 9) return move_floats(g, n, in, "scales", 1);
  if (is_op(n, "Dropout")) {
    if (v < 12) ir_attr_remove(n, "ratio");   /* inference ignores it */
    if (v < 7) ir_attr_remove(n, "is_test");
    return 0;
  }
  if (is_op(n, "BatchNormalization")) {
    ir_attr_remove(n, "is_test");
    const ir_attr *a = ir_attr_find(n, "spatial");
    if (a && a->type == IR_ATTR_INT && a->i == 1) ir_attr_remove(n, "spatial");
    return 0;   /* spatial=0 stays, so the op refuses it by name */
  }
  return 0;
}
