/*
 * emit.h - what an op's emit function sees of the C backend.
 *
 * The backend driver (emit.c) writes NAME.h, NAME.c, NAME_weights.c and
 * optionally NAME_main.c.  Every node becomes one static function in NAME.c
 *
 *     static void node_12_Conv(const float *restrict x0, const float *restrict x1,
 *                              const float *restrict x2, float *restrict y0,
 *                              unsigned char *restrict scratch)
 *
 * whose body the op's entry writes, and NAME_infer calls those functions in
 * schedule order with pointers into the arena, the weights, or the caller's
 * input and output buffers.  Inside the body the op refers to its buffers
 * only by the names emit_in()/emit_out() return; which memory they are is
 * the driver's and the memory plan's business.  Every shape is static, so
 * bodies use literal loop bounds.
 *
 * An op writes loops through the kernel layer (kernels.h and kl_*.h) rather
 * than printing whole kernels itself, so that tiling, vectorization and
 * fusion change the kernel layer and not every op.
 */
#ifndef MODELC_EMIT_H
#define MODELC_EMIT_H

#include <stdio.h>
#include "../ir/ir.h"

typedef struct emit_ctx emit_ctx;

/* Text into the current node's function body, at the current indentation;
 * emit_line adds the newline. */
void emit_line(emit_ctx *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void emit_indent(emit_ctx *e, int delta);   /* +1 after "{", -1 before "}" */

/* Names of the node's buffers inside its function: input i ("x0"; NULL for
 * a missing optional input), output j ("y0"), the scratch area ("scratch",
 * an unsigned char * of op->scratch_bytes(n) bytes, 64-byte aligned). */
const char *emit_in(emit_ctx *e, int i);
const char *emit_out(emit_ctx *e, int j);
const char *emit_scratch(emit_ctx *e);
/* The parallel parts' scratch area ("parts", an unsigned char *, a multiple
 * of 4096 bytes into the arena) when the planner gave the node one
 * (PLAN_PARTS_ATTR: its op's part_bytes slices, *stride bytes apart), else
 * NULL: the slices are then in the node's own scratch. */
const char *emit_parts(emit_ctx *e, int64_t *stride);

/* With --threads, whether the node's code may run on every thread of a
 * team NAME_infer opens once for a run of such nodes (not in a training
 * step, nor with --profile): 1 commits the kernel to write its parallel
 * loops as worksharing loops (MC_FOR, kl_par.h) and nothing shared outside
 * them, everything else being locals each thread sets alike.  0: its loops
 * open their own parallel regions (MC_PARALLEL_FOR). */
int emit_team(emit_ctx *e);
/* Whether the current node committed to that (emit_team returned 1). */
int emit_in_team(const emit_ctx *e);

/* The kernel the node's code runs, as --profile's table names it ("gemm
 * 6x16 packed", "depthwise", ...); a node that says nothing runs "loop". */
void emit_kernel(emit_ctx *e, const char *label);

/* A fresh identifier with the given prefix, unique in the file ("i3"). */
const char *emit_fresh(emit_ctx *e, const char *prefix);

/* Emit `code` once at file scope before any node function (helpers shared
 * by kernels: a generic GEMM, half-float conversion...).  `key` identifies
 * it; later calls with the same key do nothing. */
void emit_helper(emit_ctx *e, const char *key, const char *code);

/* A constant the kernel derives from the model's weights at compile time
 * (weights packed into the layout a kernel reads): written to
 * NAME_weights.c as its own array, `what` in its comment.  Returns the C
 * expression naming its n floats in NAME.c ("NAME_p0.v"), which the body
 * uses directly (it is no parameter).  Numbered in emission order, so the
 * output stays deterministic. */
const char *emit_packed_f32(emit_ctx *e, const char *what, const float *v, int64_t n);

/* A table of integers at the current place in the node's body:
 * `static const CTYPE name[cnt] = {...};`, per_line (1..32) values a line. */
void emit_int_table(emit_ctx *e, const char *ctype, const char *name, const int64_t *v, int64_t cnt, int per_line);

/* A C literal of dtype t that reads back as exactly v: hex floats for
 * float/double ("0x1.8p+1f"), INFINITY/NAN forms, integer literals with
 * the right suffix.  Returns buf. */
char *emit_literal(char *buf, size_t n, ir_dtype t, double v);
char *emit_literal_i64(char *buf, size_t n, ir_dtype t, int64_t v);

/* Options the driver was given that kernels may consult. */
typedef struct emit_options {
  const char *name;        /* C prefix, e.g. "lenet" */
  int emit_main;
  int threads;             /* --threads: 0 = no OpenMP pragmas */
  int profile;             /* --profile: NAME_infer calls NAME_profile around every node */
} emit_options;
const emit_options *emit_opts(const emit_ctx *e);
/* The graph being emitted (its plan: offsets, row replicas). */
const ir_graph *emit_graph(const emit_ctx *e);

/* ---- the driver ---------------------------------------------------------- */
/* Write DIR/NAME.h, DIR/NAME.c, DIR/NAME_weights.c (and DIR/NAME_main.c with
 * emit_main) for a graph that has been shape-inferred and memory-planned.
 * Deterministic: the same graph and options give byte-identical files. */
int emit_c(ir_graph *g, const emit_options *opt, const char *dir);

/* emit_c for a --train build: g is the inference graph and train the
 * training-step graph of the same model (ir_graph's updates, n_labels,
 * loss), both through the passes and memory-planned.  Adds to the files
 * NAME_train_step, the parameter access functions (NAME.h documents them)
 * and, with emit_main, the harness's --train mode.  The parameters train
 * updates (matched by name in g) and its optimizer state become writable
 * arrays shared by both functions; they are marked is_state first, and a
 * graph whose kernels then ask for other scratch (a trained GEMM weight is
 * no longer packed at compile time) is planned again.  Constants stay const.
 * Call ir_mark_trained_params(g, train) before g's passes to spare that. */
int emit_c_train(ir_graph *g, ir_graph *train, const emit_options *opt, const char *dir);

/* "conv1/weight:0" -> "conv1_weight_0": a C identifier fragment. */
void emit_c_ident(char *buf, size_t n, const char *s);

#endif
