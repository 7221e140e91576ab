/*
 * interp_control.c - reference kernel for If.
 *
 * Two forms reach it.  An If still holding its branches (a graph that did
 * not go through the inference pass's predication, e.g. in a unit test) runs
 * the taken branch as a nested interpreter run that reads the outer tensors
 * through the caller's context, then copies the branch's outputs.  A
 * predicated If ("_select", see compiler/passes/infer.c) has had its branch
 * nodes moved into the graph, guarded; it only copies the taken branch's
 * outputs: inputs are [cond, then outputs..., else outputs...].
 */
#include "interp_control.h"

#include <string.h>

#include "../../compiler/ops/op.h"

int interp_if(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out) {
  int taken = ((const unsigned char *)in[0])[0] != 0;
  if (ir_attr_int(n, "_select", 0)) {
    for (int j = 0; j < n->n_out; j++)
      if (out[j]) memcpy(out[j], in[1 + (taken ? 0 : n->n_out) + j], (size_t)ir_nbytes(n->out[j]));
    return 0;
  }
  const ir_attr *a = ir_attr_find(n, taken ? "then_branch" : "else_branch");
  if (!a || !a->g) return op_fail(n, "has no %s", taken ? "then_branch" : "else_branch");
  if (!c || !c->g) return op_fail(n, "a branch can only run inside a graph run");
  interp_ctx sub;
  if (interp_run_sub(&sub, a->g, c, NULL) < 0) {
    interp_free(&sub);
    return -1;
  }
  int rc = 0;
  for (int j = 0; j < n->n_out && rc == 0; j++) {
    const ir_tensor *t = a->g->outputs[j];
    const void *v = interp_value(&sub, t);
    if (!out[j]) continue;
    if (!v) rc = op_fail(n, "branch output '%s' has no value", t->name);
    else if (ir_nbytes(t) != ir_nbytes(n->out[j]) || t->dtype != n->out[j]->dtype)
      rc = op_fail(n, "branch output '%s' does not match the node's output '%s'", t->name, n->out[j]->name);
    else memcpy(out[j], v, (size_t)ir_nbytes(t));
  }
  interp_free(&sub);
  return rc;
}
