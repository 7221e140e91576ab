/*
 * kutil.h - element access shared by every interpreter kernel.
 *
 * The interpreter's kernels are written once over doubles (floats) or
 * int64 (integers) and reach the tensor's real dtype only through these
 * accessors: kload_f/kstore_f convert any dtype to and from double,
 * kload_i/kstore_i to and from int64, kload_u/kstore_u to and from uint64
 * (for uint64 values above INT64_MAX).  float16 and bfloat16 are converted
 * in software.  Stores never invoke undefined behaviour: a double stored
 * into an integer dtype truncates toward zero like C, stores 0 for NaN,
 * saturates at the int64 range (uint64 for IR_U64) and then wraps modulo
 * 2^bits into narrower types, as an int64 store does (numpy's astype does
 * the same for in-range values).  Any nonzero value (NaN included) stored
 * into bool is 1; bool loads as 0 or 1.
 *
 * Broadcasting (numpy rules, shapes right-aligned) is done with a kbcast
 * map: built once from the output dims and one input's dims, it turns an
 * output flat index into that input's flat index.  kbcast_index is the
 * one-shot form for code that does not care about speed.
 *
 * Nothing here belongs to the backend: the interpreter is the oracle and
 * shares no kernel code with the emitted C.
 */
#ifndef MODELC_KUTIL_H
#define MODELC_KUTIL_H

#include <stdint.h>
#include "../../compiler/ir/ir.h"
#include "../../compiler/ops/epilogue.h"

/* Element i of buffer p holding dtype t. */
double kload_f(ir_dtype t, const void *p, int64_t i);
int64_t kload_i(ir_dtype t, const void *p, int64_t i);
uint64_t kload_u(ir_dtype t, const void *p, int64_t i);
void kstore_f(ir_dtype t, void *p, int64_t i, double v);
void kstore_i(ir_dtype t, void *p, int64_t i, int64_t v);
void kstore_u(ir_dtype t, void *p, int64_t i, uint64_t v);

/* IEEE half and bfloat16 bit patterns (round to nearest even on the way in). */
float kf16_to_f32(uint16_t h);
uint16_t kf32_to_f16(float f);
float kbf16_to_f32(uint16_t h);
uint16_t kf32_to_bf16(float f);
/* bfloat16 by dropping the low 16 bits (NaN stays a quiet NaN): what Cast
 * to bfloat16 did before opset 19 (interp_ew_Cast). */
uint16_t kf32_to_bf16_trunc(float f);

/* Output flat index -> input flat index under numpy broadcasting.  The
 * input's dims are right-aligned against the output's; a dim of 1 (or a
 * missing leading dim) repeats. */
typedef struct kbcast {
  int rank;                          /* output rank */
  int64_t dims[IR_MAX_RANK];         /* output dims */
  int64_t stride[IR_MAX_RANK];       /* input stride per output axis, 0 where broadcast */
  int identity;                      /* input has the output's shape: index maps to itself */
} kbcast;

void kbcast_init(kbcast *b, int out_rank, const int64_t *out_dims, int in_rank,
                 const int64_t *in_dims);
int64_t kbcast_map(const kbcast *b, int64_t out_i);
/* Convenience: kbcast for tensors out and in. */
void kbcast_tensors(kbcast *b, const ir_tensor *out, const ir_tensor *in);
int64_t kbcast_index(int out_rank, const int64_t *out_dims, int in_rank,
                     const int64_t *in_dims, int64_t out_i);

/* C-order coordinates: flat index i -> idx[rank] over dims (an extent of 0
 * gives coordinate 0), idx -> flat index, and the element strides of dims. */
void kunravel(int64_t i, int rank, const int64_t *dims, int64_t *idx);
int64_t kravel(int rank, const int64_t *dims, const int64_t *idx);
void kstrides(int rank, const int64_t *dims, int64_t *st);

/* Fused epilogue, the interpreter's side: the vocabulary (attribute names,
 * activations, defaults) is compiler/ops/epilogue.h; the arithmetic here is
 * the interpreter's own.  y = act(v + residual[i]): kepi_from_node reads a
 * node's epilogue (-1 via op_fail when it is malformed); kepi_apply applies
 * it to one value (pass the residual element, or 0 when ep->residual < 0). */
typedef op_epilogue kepi;
int kepi_from_node(const ir_node *n, kepi *ep);
double kepi_apply(const kepi *ep, double v, double residual);
/* The activation alone (also used by the standalone activation kernels). */
double kact_apply(op_act a, double alpha, double beta, double v);

#endif
