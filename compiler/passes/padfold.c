/*
 * padfold.c - a constant Pad folded into the Conv or pooling that reads it.
 *
 * require: graph inferred and topologically sorted, nodes bound (window
 *          attributes resolved: pads, strides, kernel_shape present).
 * guarantee: a Pad in constant mode that pads only spatial axes (never the
 *          batch or channel axis), by non-negative amounts, whose output
 *          only input 0 of one node reads, is gone when that node is
 *            - a Conv and the pad value is 0 (the zeros take part in the
 *              sums exactly as implicit padding does);
 *            - an AveragePool with ceil_mode 0, the value 0, and either
 *              count_include_pad=1 or no padding of its own: the padded
 *              zeros were data the divisor counted, so the pool gets
 *              count_include_pad=1 (with its own pads, count_include_pad=0
 *              would have excluded those and cannot be merged);
 *            - a MaxPool with one output, ceil_mode 0, the value -inf and
 *              every total pad below the kernel extent (no window lies
 *              wholly in padding, so -inf never wins where a value exists);
 *          that node then reads the Pad's input with the pads added to its
 *          own.  Under a runtime If's guard nothing changes.
 */
#include "passes.h"
#include "../ops/op.h"
#include "../ops/ops_shape.h"

#include <math.h>
#include <string.h>

/* The pad value of Pad node p (0 when absent); 0 when it is no constant. */
static int pad_value(const ir_node *p, double *v, const pass_options *o) {
  const ir_tensor *c = p->n_in > 2 ? p->in[2] : NULL;
  *v = 0.0;
  if (!c) return 1;
  if (!pass_is_const(c, o) || ir_numel(c) != 1) return 0;
  *v = ir_const_f64(c, 0);
  return 1;
}

/* 1. may window node w take Pad p's padding? */
static int window_takes(const ir_node *w, double v, const int64_t *begin, const int64_t *end, int sp) {
  const int64_t *pads, *kern, *dil;
  if (ir_attr_ints(w, "pads", &pads) != 2 * sp || ir_attr_ints(w, "kernel_shape", &kern) != sp) return 0;
  if (ir_node_is(w, "Conv")) return v == 0.0;
  if (ir_attr_int(w, "ceil_mode", 0) != 0) return 0;
  if (ir_node_is(w, "AveragePool")) {
    int own = 0;
    for (int k = 0; k < 2 * sp; k++) own |= pads[k] != 0;
    return v == 0.0 && (!own || ir_attr_int(w, "count_include_pad", 0) == 1);
  }
  if (!ir_node_is(w, "MaxPool") || w->n_out > 1 || !(isinf(v) && v < 0)) return 0;
  int nd = ir_attr_ints(w, "dilations", &dil);
  for (int k = 0; k < sp; k++) {
    int64_t extent = (kern[k] - 1) * (nd == sp ? dil[k] : 1) + 1;
    if (begin[k + 2] + pads[k] >= extent || end[k + 2] + pads[sp + k] >= extent) return 0;
  }
  return 1;
}

int pass_padfold(ir_graph *g, const pass_options *o) {
  if (ir_graph_has_subgraphs(g)) return 0;   /* outer reads by name: left alone */
  ir_uses u;
  ir_uses_build(g, &u);
  int folded = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    ir_node *p = g->nodes[k];
    if (p->dead || !ir_node_is(p, "Pad") || ir_attr_find(p, "_guard") || !p->out[0]) continue;
    const ir_tensor *x = p->in[0], *y = p->out[0];
    if (ir_uses_count(&u, y) != 1 || u.output[y->id] || x->rank < 3 || x->rank > IR_MAX_RANK) continue;
    ir_node *w = ir_uses_of(&u, y)[0];
    if (w->dead || ir_attr_find(w, "_guard") || w->in[0] != y) continue;
    int dup = 0;
    for (int i = 1; i < w->n_in; i++) dup |= w->in[i] == y;
    int64_t begin[IR_MAX_RANK], end[IR_MAX_RANK];
    ops_pad_mode mode;
    double v;
    ir_clear_error();
    if (dup || ops_shape_pads(p, begin, end, &mode) < 0 || mode != OPS_PAD_CONSTANT || !pad_value(p, &v, o)) {
      ir_clear_error();
      continue;
    }
    int sp = x->rank - 2, ok = begin[0] == 0 && end[0] == 0 && begin[1] == 0 && end[1] == 0;
    for (int d = 2; d < x->rank; d++) ok &= begin[d] >= 0 && end[d] >= 0;
    if (!ok || !window_takes(w, v, begin, end, sp)) continue;
    /* 2. the window node reads x with the pads added to its own */
    const int64_t *pads;
    int64_t np[2 * IR_MAX_RANK];
    ir_attr_ints(w, "pads", &pads);
    for (int d = 0; d < sp; d++) {
      np[d] = pads[d] + begin[d + 2];
      np[sp + d] = pads[sp + d] + end[d + 2];
    }
    ir_attr_set_ints(w, "pads", 2 * sp, np);
    if (ir_node_is(w, "AveragePool")) ir_attr_set_int(w, "count_include_pad", 1);
    w->in[0] = p->in[0];
    p->dead = 1;
    folded++;
  }
  ir_uses_free(&u);
  if (folded) ir_graph_compact(g);
  return 0;
}
