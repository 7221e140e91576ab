/*
 * kernels.h - the backend's kernel layer: shared pieces.
 *
 * Ops do not print whole kernels.  They fill a descriptor (kl_nn.h: GEMM,
 * convolution, pooling; kl_gemm.h: the packed, register-blocked float32
 * GEMM core that Gemm, MatMul and Conv lower to; kl_map.h: elementwise maps
 * with broadcasting; kl_copy.h: strided copies and reductions) and call the
 * kernel layer, which decides how the loops are written without touching
 * the ops.
 *
 * Every producer kernel (GEMM, convolution, elementwise map) ends in an
 * epilogue applied to each output value before it is stored:
 *     y = act(acc + bias[channel] + residual[i])
 * The fusion pass fills the epilogue from node attributes, whose names,
 * activations and defaults compiler/ops/epilogue.h defines.
 */
#ifndef MODELC_KERNELS_H
#define MODELC_KERNELS_H

#include <stddef.h>
#include "emit.h"
#include "../ops/epilogue.h"

typedef op_act kl_act;   /* OP_ACT_* */

typedef struct kl_epilogue {
  kl_act act;
  double alpha, beta;
  const char *residual;   /* buffer name of the same layout as the output, or NULL */
} kl_epilogue;

/* Fill ep from a node's fused epilogue (op_epilogue_read).  Returns -1 with
 * an error for a malformed one. */
int kl_epilogue_from_node(emit_ctx *e, const ir_node *n, kl_epilogue *ep);
/* Write into buf a float expression applying ep's activation to expression v
 * (v is textually repeated; pass a plain variable).  dt: IR_F32 or IR_F64. */
char *kl_act_expr(char *buf, size_t n, const kl_epilogue *ep, ir_dtype dt, const char *v);
/* For an activation that is v times a gate of v (HardSwish: the gate is
 * HardSigmoid's clamp), write the gate's expression into buf and return buf;
 * NULL for the others.  GCC vectorizes a loop over the gate, and one over
 * y *= gate, but not one over v * gate(v) (it moves the product into the
 * clamp's branches, where a product may trap), so a loop that wants vectors
 * computes the two apart. */
char *kl_act_gate(char *buf, size_t n, const kl_epilogue *ep, ir_dtype dt, const char *v);

/* Open "for (int64_t i = 0; i < extent; i++) {" with a fresh variable whose
 * name is returned, and close it. */
const char *kl_for(emit_ctx *e, int64_t extent);
void kl_end(emit_ctx *e);
/* Open a bare block "{" (scoping the locals of what follows); kl_end closes it. */
void kl_block(emit_ctx *e);

/* C-order element strides of dims[rank] into st. */
void kl_strides(int rank, const int64_t *dims, int64_t *st);

/* Float sums stay in float (a Cortex-M4F has no double unit), blocked so
 * that a long sum keeps float's accuracy: the running sum `acc` is added to
 * `acc_tot` every `block` terms and restarted, so the rounding error grows
 * like (block + n / block) ulps instead of n.  Usage, around a loop nest of
 * n terms that each do `acc += term;`:
 *     int64_t b = kl_sum_block(dt, n);
 *     kl_sum_decl(e, "float", "acc", "0", b);   before the loops
 *     ... acc += term; kl_sum_step(e, "acc", b);   inside, after each add
 *     kl_sum_done(e, "acc", b);                   after them: acc is the sum
 * kl_sum_block gives 0 (no blocking, the three calls write only the
 * declaration) for double and for short sums. */
int64_t kl_sum_block(ir_dtype acc, int64_t n);
void kl_sum_decl(emit_ctx *e, const char *ctype, const char *acc, const char *init, int64_t block);
void kl_sum_step(emit_ctx *e, const char *acc, int64_t block);
void kl_sum_done(emit_ctx *e, const char *acc, int64_t block);
/* A run of a sum along contiguous memory: acc += the sum of term over
 * row[0..len), term a C expression of `v` (row[j], of type ctype), taken in
 * KL_SUM_LANES partial sums, a loop compilers vectorize (the blocked sum
 * above, one element at a time, does not).  Each partial sum has len/16
 * terms; the caller blocks over the runs (kl_sum_step after it).  Worth it
 * from KL_SUM_RUN_MIN elements. */
#define KL_SUM_LANES 16
#define KL_SUM_RUN_MIN 64
void kl_sum_run(emit_ctx *e, const char *ctype, const char *acc, const char *row, int64_t len, const char *term);
/* The same for n <= KL_SUM_MAX sums over one run of several rows: at each
 * index j, `const ctype name = row[j];` for every source, then acc[k]
 * gets term[k] (an expression of those names).  kl_sum_run is one sum
 * of one source named v. */
#define KL_SUM_MAX 4
typedef struct kl_sum_src {
  const char *name, *row;
} kl_sum_src;
void kl_sum_runs(emit_ctx *e, const char *ctype, int n_src, const kl_sum_src *src, int n, const char *const *acc,
                 const char *const *term, int64_t len);
/* The C type float math on dtype dt is done in: "double" for float64, else
 * "float" (float32, and float16/bfloat16 whose values are float). */
const char *kl_float_ctype(ir_dtype dt);
/* Code written once for float and double: kl_expand_typed copies text to
 * out with "$T" replaced by kl_float_ctype(dt) and "@" by the libm and
 * literal suffix ("f" or nothing); kl_line is emit_line followed by that
 * expansion, so "$T s = sqrt@(v) + 1.0@;" is float math for
 * float32.  Dies (returns -1 via ir_error) when the line is too long. */
int kl_expand_typed(char *out, size_t n, const char *text, ir_dtype dt);
/* emit_helper of code written with "$T"/"@", once per file for each type
 * (the key gets the type's name appended). */
int kl_helper_typed(emit_ctx *e, const char *key, const char *code, ir_dtype dt);
int kl_line(emit_ctx *e, ir_dtype dt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
