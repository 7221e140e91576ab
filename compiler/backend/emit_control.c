/*
 * emit_control.c - C emission for If.
 *
 * By the time an If reaches the backend the inference pass has predicated
 * it (compiler/passes/infer.c): the nodes of both branches are ordinary
 * nodes of the graph whose calls the driver wraps in `if (cond[0])` /
 * `if (!cond[0])`, and the If is left as a select with inputs
 * [cond, then outputs..., else outputs...].  Its function copies the taken
 * branch's outputs; the other branch's buffers are never read.
 */
#include "emit_control.h"

#include "../ops/op.h"

int emit_if(emit_ctx *e, const ir_node *n) {
  if (!ir_attr_int(n, "_select", 0))
    return op_fail(n, "the If was not predicated by the inference pass (its branches are still subgraphs)");
  const char *cond = emit_in(e, 0);
  for (int b = 0; b < 2; b++) {
    emit_line(e, b ? "} else {" : "if (%s[0]) {", cond);
    emit_indent(e, 1);
    for (int j = 0; j < n->n_out; j++) {
      const char *y = emit_out(e, j);
      if (y) emit_line(e, "memcpy(%s, %s, %lld);", y, emit_in(e, 1 + b * n->n_out + j), (long long)ir_nbytes(n->out[j]));
    }
    emit_indent(e, -1);
  }
  emit_line(e, "}");
  return 0;
}
