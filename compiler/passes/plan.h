/*
 * plan.h - the memory planner (plan.c): arena offsets for activations and
 * per-node scratch, from lifetimes over the schedule.
 *
 * After pass_plan(g):
 *  - every arena tensor t has t->offset >= 0 (a multiple of PLAN_ALIGN);
 *    tensors that live elsewhere (graph inputs and outputs, constants,
 *    parameters) have offset -1;
 *  - a node whose op needs scratch carries the int attribute
 *    PLAN_SCRATCH_ATTR with the scratch area's arena offset (and
 *    PLAN_SCRATCH_CAP_ATTR when its scratch was asked to fit in less);
 *  - with --threads, nodes whose parallel parts each need scratch share
 *    one parts area (PLAN_PARTS_ATTR, PLAN_PART_STRIDE_ATTR);
 *  - g->arena_bytes is the arena size (a multiple of PLAN_ALIGN) and
 *    g->arena_lower_bound the most bytes live at any step of the schedule.
 */
#ifndef MODELC_PLAN_H
#define MODELC_PLAN_H

#include "../ir/ir.h"
#include "../ops/op.h"

#define PLAN_ALIGN 64
#define PLAN_SCRATCH_ATTR "_scratch_offset"
/* Set by the planner on a node whose kernel would like more scratch than
 * the bytes free at its step under the peak of the activations alone: those
 * bytes.  A kernel that can work in less (the GEMM core's packed B block)
 * sizes its scratch to it, so that scratch does not raise the arena. */
#define PLAN_SCRATCH_CAP_ATTR "_scratch_cap"
/* Set by the planner (when it shares bytes) on an alias op (Reshape,
 * Flatten...) whose input is a graph input or such a view of one: its output
 * is the caller's input buffer relabelled, gets no arena bytes, and the
 * backend names the input instead and writes no copy. */
#define PLAN_INPUT_VIEW_ATTR "_input_view"
/* Set by the planner on a node whose output it put on the bytes of one of
 * the node's inputs through op_def.share_input: that input's index.  A
 * kernel that must save what it still reads (the depthwise kernel copies an
 * input plane to scratch) knows it from this. */
#define PLAN_IN_PLACE_ATTR "_in_place"

/* Set by the planner (compile --threads) on a node whose op puts its
 * parallel parts' scratch in slices (op_def.part_bytes): the arena offset
 * of the parts area, a multiple of PLAN_PAGE, where part p's slice starts
 * at p * PLAN_PART_STRIDE_ATTR bytes.  Every such node gets the same area
 * and stride, so that a part (a thread) writes the same pages of scratch at
 * every node: they stay in its own core's cache.  When the node's scratch
 * had the slices at the end of its own block (slices of differing sizes at
 * different places at every node), the two cores' caches handed scratch
 * lines to each other at every node, and the prefetchers of one core took
 * lines from the other's slice next to its own: ResNet-8 ran 8% slower. */
#define PLAN_PARTS_ATTR "_parts_offset"
#define PLAN_PART_STRIDE_ATTR "_part_stride"
#define PLAN_PAGE 4096

/* Row replicas (compile --threads, replica.c): an activation that only
 * nodes cut into parts over its rows write and read (op_def.part_rows) has
 * a copy per part.  Part p's copy of such a tensor t is at t->offset plus
 * 0 for part 0, else g->replica_base + (p - 1) * g->replica_stride: the
 * stride covers every replicated tensor's bytes, the base is past all the
 * arena's other areas, on whole pages (t->replicated, g->replicas).  The
 * part writes its output rows into its own copy, then copies from the other
 * parts' copies the rows it reads of theirs (replica_rows_t.need past
 * .own), so that its core's cache lines stay its own. */
typedef struct replica_rows_t {
  int parts;
  int64_t own[OP_PARTS_MAX][2];    /* the rows part p writes */
  int64_t need[OP_PARTS_MAX][2];   /* the rows its copy must hold: its own and those its readers read */
  int row_readers;                 /* nodes that read it by rows in as many parts */
  int whole;                       /* a node reads it otherwise: part 0's copy must hold every row */
} replica_rows_t;
/* The rows of t's replicas: the number of parts (r filled), or 0 when t
 * cannot have replicas (its producer is not cut into parts over rows, it is
 * not a [1][C][H][W] float arena tensor, a subgraph may read it, or g is a
 * training step).  The planner gives t replicas only when some tensor in
 * its bytes has row_readers. */
int replica_rows(const ir_graph *g, const ir_tensor *t, replica_rows_t *r);
/* Whether node n's part p reads t in part p's copy: t has replicas and n
 * reads it by rows in as many parts as t's producer writes it (else n
 * reads part 0's copy). */
int replica_read_by_rows(const ir_node *n, const ir_tensor *t);

int pass_plan(ir_graph *g);
/* pass_plan, with tensors sharing blocks (aliases, in-place) only when
 * inplace; pass_plan shares. */
int pass_plan_with(ir_graph *g, int inplace);

/* One arena buffer of a plan, as the planner placed it: a group of tensors
 * sharing bytes (its first member is the one whose producer runs first; the
 * others are aliases or in-place outputs of it) or a node's scratch. */
typedef struct plan_buffer {
  int64_t offset, size;          /* bytes; size unaligned */
  int first, last;               /* schedule steps it is live over, inclusive */
  const ir_node *scratch_of;     /* the node whose scratch this is, or NULL */
  int parts;                     /* the parallel parts' scratch area (PLAN_PARTS_ATTR) */
  int n_members;
  const ir_tensor **members;     /* the tensors in it (none for scratch) */
} plan_buffer;

/* pass_plan_with, also handing back the buffers it placed, in the order
 * they were made (tensors by id, then scratch by step): *bufs is malloc'd
 * (free with plan_buffers_free).  Planning a planned graph again with the
 * same inplace gives the same plan. */
int plan_with_buffers(ir_graph *g, int inplace, plan_buffer **bufs, int *n_bufs);
void plan_buffers_free(plan_buffer *bufs, int n_bufs);
/* The most bytes of bufs (each rounded up to PLAN_ALIGN) live at one step,
 * scratch counted or not: without scratch, in a plan with nothing shared,
 * it is the arena of a compiler that gives every activation its own bytes
 * for its lifetime and its kernels no scratch (onnx2c's, docs/memory.md). */
int64_t plan_peak_bytes(const plan_buffer *bufs, int n_bufs, int with_scratch);

/* Check a planned graph independently of how the planner got there: every
 * arena tensor and scratch area aligned and inside the arena; no two of them
 * that are live at one step share a byte, unless one is made from the other
 * in place (then the older is not read once the newer is written) or as an
 * alias (the same values); no arena tensor read before its producer ran.
 * 0, or -1 with an error naming the two tensors. */
int plan_check(const ir_graph *g);

/* The bytes of node n's own scratch block: op->scratch_bytes, less its
 * parallel parts' slices when the planner moved them to the parts area
 * (PLAN_PARTS_ATTR). */
int64_t plan_own_scratch(const ir_node *n);

/* Whether the planner gives t an arena offset (an activation of g that is
 * not a graph output, nor a view of a graph input, PLAN_INPUT_VIEW_ATTR,
 * nor an update value written into its target, ir_tensor.stored_in).
 * The backend uses the same rule to find them. */
int plan_in_arena(const ir_tensor *t);
/* The graph input whose bytes t is a view of (PLAN_INPUT_VIEW_ATTR on its
 * producer, through any chain of such views), else NULL. */
const ir_tensor *plan_input_view(const ir_tensor *t);

#endif
