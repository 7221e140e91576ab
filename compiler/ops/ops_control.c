/*
 * ops_control.c - control flow: If.
 *
 * An If whose condition is a compile-time constant is replaced by its taken
 * branch during inference (passes/infer.c, splice_if).  An If with a runtime
 * condition is predicated there: both branches are inferred, must give each
 * output one dtype and static shape, and their nodes move into the graph
 * guarded by the condition ("_guard"); the If stays as a select
 * ("_select" = 1, inputs [cond, then outputs..., else outputs...]) that
 * copies the taken branch's outputs.  The interpreter also runs an If that
 * still holds its branches, by running the taken branch.
 *
 * Loop and Scan: inference unrolls them (passes/unroll.c) when the trip
 * count is known at compile time, so their entries only bind and check the
 * node; nothing downstream ever sees one.
 */
#include "op.h"
#include "../passes/passes.h"
#include "../../runtime/kernels/interp_control.h"
#include "../backend/emit_control.h"

static const op_attr_spec if_attrs[] = {
  {"then_branch", IR_ATTR_GRAPH}, {"else_branch", IR_ATTR_GRAPH}, {NULL, 0}};

static int if_validate(ir_node *n) {
  if (ir_attr_int(n, "_select", 0)) {
    if (n->n_in != 1 + 2 * n->n_out)
      return op_fail(n, "a predicated If has %d inputs for %d outputs", n->n_in, n->n_out);
    return 0;
  }
  const ir_attr *t = ir_attr_find(n, "then_branch"), *e = ir_attr_find(n, "else_branch");
  if (!t || !e) return op_fail(n, "needs both then_branch and else_branch");
  if (n->n_in != 1) return op_fail(n, "takes 1 input, got %d", n->n_in);
  if (t->g->n_outputs != n->n_out || e->g->n_outputs != n->n_out)
    return op_fail(n, "branches give %d and %d outputs, node has %d", t->g->n_outputs, e->g->n_outputs, n->n_out);
  return 0;
}

static int if_infer(ir_graph *g, ir_node *n) {
  (void)g;
  if (!ir_attr_int(n, "_select", 0))
    return op_fail(n, "the If must be predicated or spliced by the inference pass before this");
  if (n->in[0]->dtype != IR_BOOL || ir_numel(n->in[0]) != 1)
    return op_fail(n, "condition '%s' must be one bool", n->in[0]->name);
  for (int j = 0; j < n->n_out; j++) {
    const ir_tensor *a = n->in[1 + j], *b = n->in[1 + n->n_out + j];
    if (a->dtype != b->dtype || !ir_same_shape(a, b))
      return op_fail(n, "output %d: the branches give '%s' and '%s' of different dtype or shape", j, a->name, b->name);
    if (!n->out[j]) continue;
    n->out[j]->dtype = a->dtype;
    ir_set_shape(n->out[j], a->rank, a->shape);
  }
  return 0;
}

static const op_attr_spec loop_attrs[] = {{"body", IR_ATTR_GRAPH}, {NULL, 0}};
static const op_attr_spec scan_attrs[] = {
  {"body", IR_ATTR_GRAPH}, {"num_scan_inputs", IR_ATTR_INT}, {"scan_input_axes", IR_ATTR_INTS},
  {"scan_input_directions", IR_ATTR_INTS}, {"scan_output_axes", IR_ATTR_INTS},
  {"scan_output_directions", IR_ATTR_INTS}, {"directions", IR_ATTR_INTS}, {NULL, 0}};

static int body_validate(ir_node *n) {
  const ir_attr *b = ir_attr_find(n, "body");
  if (!b || !b->g) return op_fail(n, "needs a body graph");
  if (ir_attr_find(n, "num_scan_inputs") || n->op_type[0] == 'S') {
    if (ir_attr_int(n, "num_scan_inputs", 0) < 1) return op_fail(n, "num_scan_inputs must be at least 1");
  }
  return 0;
}

static int body_infer(ir_graph *g, ir_node *n) {
  (void)g;
  return op_fail(n, "must be unrolled by the inference pass (trip count known at compile time)");
}

const op_def ops_control[] = {
  {.name = "If", .domain = "", .min_in = 1, .max_in = -1, .min_out = 1, .max_out = -1, .attrs = if_attrs,
   .flags = OP_NO_FOLD, .validate = if_validate, .infer = if_infer, .interp = interp_if, .emit = emit_if,
   .expand = pass_expand_if},
  {.name = "Loop", .domain = "", .min_in = 0, .max_in = -1, .min_out = 0, .max_out = -1, .attrs = loop_attrs,
   .flags = OP_NO_FOLD, .validate = body_validate, .infer = body_infer, .expand = pass_expand_loop},
  {.name = "Scan", .domain = "", .min_in = 0, .max_in = -1, .min_out = 0, .max_out = -1, .attrs = scan_attrs,
   .flags = OP_NO_FOLD, .validate = body_validate, .infer = body_infer, .expand = pass_expand_scan},
  {.name = NULL},
};
