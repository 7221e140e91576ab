/*
 * kl_map.h - kernel layer for elementwise maps with numpy broadcasting.
 *
 * An op describes y[i] = epilogue(expr(x0[j0(i)], x1[j1(i)], ...)) and the
 * layer writes the loops.  The expression is a C template over the loaded
 * input values: "$0" .. "$9" stand for input k's value (a const local of
 * input k's C type), so Add on floats is "$0 + $1" and Less is
 * "($0 < $1)".  The template's result is converted to the output's C type
 * (`compute`, when set, names the type the template is evaluated in before
 * the epilogue, for example float for an f32 activation).
 *
 * Loops have literal bounds.  Axes of extent 1 are dropped and adjacent
 * axes along which every operand is either contiguous or broadcast are
 * merged, so the common cases become one flat loop (no broadcasting, or a
 * scalar operand) or two loops (a per-channel operand).  The innermost loop
 * has unit or zero strides wherever the data allow it.
 *
 * float16 and bfloat16 operands are converted to float on load and back
 * on store by software helpers the layer emits once per file; their values
 * (and the template) are float.
 *
 * The epilogue (kernels.h) applies to the value before the store:
 *     y = act(v + residual[i])
 * and needs a float output (IR_F32/IR_F64); it is ignored when empty.
 */
#ifndef MODELC_KL_MAP_H
#define MODELC_KL_MAP_H

#include "kernels.h"

#define KL_MAP_MAX_IN 10

typedef struct kl_map_in {
  const char *name;               /* buffer name, from emit_in() */
  ir_dtype dtype;
  int rank;                       /* right-aligned against the output */
  int64_t dims[IR_MAX_RANK];
} kl_map_in;

typedef struct kl_map {
  const char *out;                /* buffer name, from emit_out() */
  ir_dtype out_dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  int n_in;
  kl_map_in in[KL_MAP_MAX_IN];
  const char *expr;               /* template over $0..$9 */
  ir_dtype compute;               /* IR_UNDEF: the output's dtype */
  kl_epilogue ep;                 /* zeroed: none */
} kl_map;

/* Zero *m and fill m->out/out_dtype/rank/dims from output j of n; the
 * inputs are left for kl_map_add_input. */
void kl_map_init(emit_ctx *e, const ir_node *n, int j, kl_map *m);
/* kl_map_init, then m->in[] from n's inputs (skipping none: a NULL input is
 * an error).  expr and ep are left for the caller. */
int kl_map_from_node(emit_ctx *e, const ir_node *n, int j, kl_map *m);
/* Add one input (used for inputs beyond a node's own, or to reorder). */
void kl_map_add_input(kl_map *m, const char *name, const ir_tensor *t);
/* Write the loops.  -1 via ir_error on a dtype the layer cannot write. */
int kl_map_emit(emit_ctx *e, const kl_map *m);

/* Templates written once for every float type: "@" stands for the libm
 * suffix of the type the values are held in ("f" for float32, and for
 * float16/bfloat16, whose values are float; nothing for float64), so
 * "exp@($0)" becomes expf(u0) or exp(u0) and "1.0@" a literal of that
 * type. */
/* The type a value of dtype t is held in: float for float16/bfloat16. */
ir_dtype kl_map_value_type(ir_dtype t);
/* tmpl with each "@" replaced for dt, into buf. */
const char *kl_map_expand(char *buf, size_t n, const char *tmpl, ir_dtype dt);
/* A literal v of dt's value type, exact (emit_literal). */
const char *kl_map_literal(char *buf, size_t n, ir_dtype dt, double v);
/* Map the node: out[0] = tmpl over all of n's inputs with "@" expanded for
 * dtype at, under n's fused epilogue when the output is a float type.
 * Returns -1 via op_fail naming the node. */
int kl_map_node(emit_ctx *e, const ir_node *n, const char *tmpl, ir_dtype at);

#endif
