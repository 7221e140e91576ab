/*
 * ops_control.c - control flow.
 *
 * If: a node with two subgraphs.  When its condition is a compile-time
 * constant the inference pass splices the taken branch into the graph
 * (passes/infer.c), so an If that reaches this entry has a runtime
 * condition.  Both branches must then produce outputs of one dtype and
 * shape; the interpreter runs the taken branch.  Emitting both branches with
 * a runtime branch in C is the conformance work's; until then the backend
 * refuses such a node with a message that says how to fold it.
 */
#include "op.h"


static const op_attr_spec if_attrs[] = {
  {"then_branch", IR_ATTR_GRAPH}, {"else_branch", IR_ATTR_GRAPH}, {NULL, 0}};

static int if_validate(ir_node *n) {
  const ir_attr *t = ir_attr_find(n, "then_branch"), *e = ir_attr_find(n, "else_branch");
  if (!t || !e) return op_fail(n, "needs both then_branch and else_branch");
  if (t->g->n_outputs != n->n_out || e->g->n_outputs != n->n_out)
    return op_fail(n, "branches give %d and %d outputs, node has %d", t->g->n_outputs, e->g->n_outputs, n->n_out);
  return 0;
}

static int if_infer(ir_graph *g, ir_node *n) {
  (void)g;
  return op_fail(n, "the condition '%s' is not a compile-time constant; runtime If is not supported yet "
                 "(fix it with --const %s=FILE)", n->in[0]->name, n->in[0]->name);
}

const op_def ops_control[] = {
  {"If", "", 1, 1, 1, -1, if_attrs, OP_NO_FOLD, if_validate, if_infer, NULL, NULL, NULL, NULL},
  {NULL, NULL, 0, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL},
};
