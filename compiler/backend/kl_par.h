/*
 * kl_par.h - threads in the kernel layer: OpenMP pragmas on outer loops
 * (`modelc compile --threads N`), see kl_par.c.
 *
 * A kernel asks kl_par_threads how many threads its node's code is written
 * for (1 without --threads), decides whether a loop is worth splitting
 * (kl_par_worth), and writes kl_par_for just before that loop.  The loop's
 * iterations must write disjoint outputs, each computing exactly what the
 * sequential loop computes (never a share of a sum), so that the same C
 * gives the same bits with and without OpenMP, whatever team runs it;
 * locals an iteration writes are declared inside its body.  (Across thread
 * counts a GEMM value may be summed in another order: a part's last tile
 * of 16 columns sums k by two, its K blocks may be shorter.)
 */
#ifndef MODELC_KL_PAR_H
#define MODELC_KL_PAR_H

#include "kl_gemm.h"

struct op_part_rows;   /* ../ops/op.h */

/* Work (multiply-adds or elements) below which a loop stays sequential:
 * forking and joining threads costs a few microseconds. */
#define KL_PAR_MIN_WORK 65536

/* The threads node n's code is written for (PASS_THREADS_ATTR; 1 without):
 * what a kernel whose scratch depends on it must use, since the memory plan
 * did.  A loop without scratch may read emit_opts(e)->threads instead. */
int kl_par_threads(const ir_node *n);
/* How many parallel parts to make of `units` independent ones of `work` in
 * total for `threads` threads: min(threads, units), or 1 when that is 1 or
 * the work is small. */
int64_t kl_par_parts(int threads, int64_t units, int64_t work);
/* Write the pragma (through the MC_PARALLEL_FOR macro, which only an OpenMP
 * build defines as one) for the loop written next. */
void kl_par_for(emit_ctx *e);

/* The GEMM core (kl_gemm.h): cut a lowered GEMM into d->slots parts, panels
 * of N when N has enough of them, else row tiles of M; each part packs into
 * its own scratch (kl_mm_scratch_bytes counts them all).  Over a padded
 * copy, kl_par_gemm_call cuts N at whole bands of it where there are as
 * many bands as parts. */
void kl_par_split_gemm(const ir_node *n, kl_mm *d);
/* When d's parts share one padded copy (kl_mm_shared_copy): g.padded
 * set, so that no part makes it again, then a parallel region opened
 * (MC_PARALLEL, a block) whose first worksharing loop (MC_FOR) makes the
 * copy by parts of its channels (mc_pad_chans); the loop of the parts
 * follows in the region after that loop's barrier (kl_par_loop), and the
 * caller closes the block.  Returns 1 when it opened the region.  Without
 * OpenMP the block runs the copy, then the parts, in order. */
int kl_par_pad_once(emit_ctx *e, const kl_mm *d, const char *g);
/* The pragma for the parallel loop written next: MC_PARALLEL_FOR, or
 * MC_FOR inside a region kl_par_pad_once opened (in_region). */
void kl_par_loop(emit_ctx *e, int in_region);
/* The call of the GEMM described by g (a mc_gemm_args variable) with the
 * helpers' suffix sfx: one call, or one per part in a parallel loop, part
 * p's scratch p * per floats past g's (the parts area's slices, or the
 * node's scratch's; 0 when the parts share one padded copy). */
void kl_par_gemm_call(emit_ctx *e, const ir_node *n, const kl_mm *d, const char *g, const char *sfx, int64_t per);
/* op_def.part_rows of a lowered GEMM (op.h): 1 when its parts each write
 * whole output rows of a convolution (the parts over N by whole bands of
 * its padded copy, the transposed tile's over pixels reading its input in
 * place, or whole rows of a 1x1 convolution's plane), with the input rows
 * each part reads; 0 otherwise.  The depthwise kernel's, too: parts of its
 * output rows, every channel (kl_par_dw_by_rows).  The part
 * loop of kl_par_gemm_call then points each part at its own copies of the
 * tensors with row replicas (plan.h). */
int kl_par_rows(const kl_mm *d, struct op_part_rows *r);
/* Part p's share of d: columns (split_n) or rows of the product of the
 * GEMM core, output rows of the depthwise kernel, [*lo, *hi).  The one
 * place a split is decided: kl_par_rows, the scratch and the emitted loops
 * all take it from here. */
void kl_par_part(const kl_mm *d, int p, int64_t *lo, int64_t *hi);
/* Write `static const int64_t cutN[slots + 1]`, part p's share from
 * cutN[p] to cutN[p + 1] (kl_par_part), and return its name. */
const char *kl_par_cuts(emit_ctx *e, const kl_mm *d);
/* Whether the parts of d's split over N cut a panel of NR columns short
 * where they end, other than at N's end (then each part packs its last
 * panel: scratch). */
int kl_par_cuts_panels(const kl_mm *d);
/* Move the pointers b, res and y of s (a mc_gemm_args variable) of node n's
 * part p (a C expression) to part p's copies of the tensors with row
 * replicas that the part reads or writes. */
void kl_par_to_replicas(emit_ctx *e, const ir_node *n, const kl_mm *d, const char *s, const char *p);
/* Whether the depthwise kernel d of node n runs by parts of its output rows
 * (kl_par_rows) rather than of its channels: when a tensor it reads or
 * writes has row replicas.  Otherwise by channels: for an in-place one a
 * part's rows would overwrite the rows next to them that another part reads
 * (replicas share their sharing group's fate, so in place both or neither). */
int kl_par_dw_by_rows(const ir_node *n, const kl_mm *d);
/* After node n's parts, when its output has row replicas: each part copies
 * into its own copy the rows it will read that other parts wrote
 * (replica_rows), in a loop over the parts with the node's schedule. */
void kl_par_rows_exchange(emit_ctx *e, const ir_node *n);

#endif
