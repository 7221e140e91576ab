/*
 * infer.c - shape and dtype inference, the sweep that also folds constants
 * and lowers control flow as it meets them.
 *
 * require: nodes bound to op entries (op_validate), graph topologically
 *          sorted, input shapes fixed (by the model or --shape/--dim).
 * guarantee: every tensor has a dtype and a fully known static shape, no
 *          larger than the graph's --max-bytes; every node the sweep
 *          reaches has been offered to constant folding (fold.c) right after
 *          its inference, and every node with an expand hook (If, Loop,
 *          Scan: control.c; Gradient: gradient.c) has been expanded.
 *
 * Shapes and constants are done in one sweep because they depend on each
 * other: a Reshape's output shape needs the value of its shape input, which
 * an earlier node computed from another tensor's shape.  The folding and the
 * lowering themselves live in their own files; this one only walks.
 */
#include "passes.h"
#include "../ops/op.h"

#include <stdlib.h>

int pass_check_known(const ir_node *n, const ir_tensor *t) {
  if (t->rank < 0) {
    if (!n) return ir_error("graph input '%s' has an unknown rank: fix it with --shape %s=...", t->name, t->name);
    return op_fail(n, "tensor '%s' has an unknown rank", t->name);
  }
  for (int d = 0; d < t->rank; d++)
    if (t->shape[d] < 0) {
      if (t->dim_param[d])
        return ir_error("tensor '%s' has unknown dimension %d ('%s'): fix it with --shape %s=... or --dim %s=N",
                        t->name, d, t->dim_param[d], t->name, t->dim_param[d]);
      return ir_error("tensor '%s' has unknown dimension %d: fix it with --shape %s=...", t->name, d, t->name);
    }
  if (ir_numel(t) == -2) return ir_error("tensor '%s' is too large (element count overflows)", t->name);
  return 0;
}

#define DEFAULT_MAX_BYTES ((int64_t)4 << 30)

/* The byte limit of g's outermost graph (subgraphs share it). */
int64_t pass_max_bytes(const ir_graph *g) {
  while (g->parent) g = g->parent;
  return g->max_bytes > 0 ? g->max_bytes : DEFAULT_MAX_BYTES;
}

/* A computed tensor larger than the limit is refused before anything
 * allocates it: shape arithmetic in a hostile model (a ConstantOfShape,
 * Expand, Tile or Range to 1e12 elements) must not become a huge malloc. */
static int check_size(const ir_graph *g, const ir_node *n, const ir_tensor *t) {
  int64_t nb = ir_nbytes(t), lim = pass_max_bytes(g);
  if (nb > lim && !n)
    return ir_error("input '%s' would take %lld bytes, above the limit of %lld (--max-bytes)", t->name,
                    (long long)nb, (long long)lim);
  if (nb > lim)
    return op_fail(n, "output '%s' would take %lld bytes, above the limit of %lld (--max-bytes)", t->name,
                   (long long)nb, (long long)lim);
  return 0;
}

int pass_inputs_known(const ir_node *n) {
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && pass_check_known(n, n->in[i]) < 0) return -1;
  return 0;
}

int pass_infer(ir_graph *g, const pass_options *o) {
  int64_t folded = 0;
  for (int i = 0; i < g->n_inputs; i++)
    if (pass_check_known(NULL, g->inputs[i]) < 0 || check_size(g, NULL, g->inputs[i]) < 0) return -1;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *n = g->nodes[k];
    if (n->dead) continue;
    if (!n->op && op_validate(n) < 0) return -1;
    if (n->op->expand) {
      int next = k, rc = n->op->expand(g, k, o, &next);
      if (rc < 0) return -1;
      if (rc > 0) {
        k = next - 1;   /* the loop's k++ lands on next */
        continue;
      }
    }
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && pass_check_known(n, n->in[i]) < 0) return -1;
    /* Op infer functions write output 0; only ops whose outputs are all
     * optional (min_out 0 and several outputs, as LSTM's) may leave it empty. */
    if (n->n_out == 0) return op_fail(n, "has no outputs");
    if (!n->out[0] && !(n->op->min_out == 0 && n->op->max_out > 1)) return op_fail(n, "output 0 is empty");
    ir_clear_error();
    if (n->op->infer(g, n) < 0) return -1;
    for (int j = 0; j < n->n_out; j++) {
      ir_tensor *t = n->out[j];
      if (!t) continue;
      if (t->dtype == IR_UNDEF) return op_fail(n, "output '%s' got no dtype", t->name);
      if (pass_check_known(n, t) < 0 || check_size(g, n, t) < 0) return -1;
    }
    if (pass_fold_node(g, n, o, &folded) < 0) return -1;   /* fold.c */
  }
  ir_graph_compact(g);
  return 0;
}

