/*
 * kl_par.c - threads in the kernel layer (kl_par.h).
 *
 * The emitted C stays C99 and builds unchanged without OpenMP: a parallel
 * loop is preceded by the macro MC_PARALLEL_FOR, which the file defines as
 *     _Pragma("omp parallel for num_threads(N) schedule(static)")
 * only under #ifdef _OPENMP, and as nothing otherwise, so a build without
 * -fopenmp sees no pragma at all (no -Wunknown-pragmas).  N is --threads.
 *
 * The GEMM core is split into parts that each own a range of the output:
 * NR-column panels of N, or MR-row tiles of M when N has fewer panels than
 * threads (tiles of 2*NR rows for the transposed tile).  Over a padded
 * copy (KL_MM_B_PADDED) the parts over N take whole bands of it instead
 * (block() makes the bands a multiple of the parts, and the transposed
 * tile's parts each copy only the band of their own output rows): each
 * part then copies just the rows it reads, mostly ones its own core wrote
 * in the node before.  Every output value is the same k-loop and epilogue
 * whatever tile or part computes it, so the result is the same bits
 * whatever the number of parts.  Each part packs B (and A's last rows) into its own
 * slice of scratch; a part's index picks the slice, not the OpenMP thread
 * number, so nothing depends on which thread runs what.  The planner puts
 * the slices of every node in one parts area (plan.h, PLAN_PARTS_ATTR),
 * where part p has the same pages at every node (emit_parts); where it did
 * not (a capped plan in a test), they follow the node's own scratch.
 *
 * A node whose parallel parts are all its code writes outside locals (the
 * GEMM core without A packed at run time, depthwise channels) commits to
 * emit_team: its loops are then worksharing loops (MC_FOR) of the team
 * NAME_infer opens once for a run of such nodes (MC_PARALLEL around their
 * calls), every thread running the rest of its code alike; kl_par_for and
 * kl_par_pad_once write that form.  Other loops fork and join their own
 * team (MC_PARALLEL_FOR).
 * Kernels over the whole padded copy (the transposed tile split over M,
 * mc_convr) instead share one copy, made before the parallel loop: each
 * part making its own did the copying twice and took twice the scratch,
 * which the planner's cap then refused to the transposed tile (ResNet-8's
 * /b3/conv1 fell back to the standard tile on 8-pixel rows, 2.4x slower
 * on 2 threads than 1).
 */
#include "kl_par.h"

#include <stdio.h>

#include "../passes/passes.h"

int kl_par_threads(const ir_node *n) {
  int64_t t = ir_attr_int(n, PASS_THREADS_ATTR, 1);
  return t > 1 ? (int)t : 1;
}

int64_t kl_par_parts(int threads, int64_t units, int64_t work) {
  int64_t t = threads > 1 ? threads : 1;
  if (work < KL_PAR_MIN_WORK) return 1;
  return units < t ? (units > 1 ? units : 1) : t;
}

static void use_region_macros(emit_ctx *e);

void kl_par_for(emit_ctx *e) {
  char def[256];
  if (emit_in_team(e)) {   /* the caller's team runs the node: share out its loop */
    use_region_macros(e);
    emit_line(e, "MC_FOR");
    return;
  }
  snprintf(def, sizeof def,
           "/* ---- threads (modelc compile --threads %d): OpenMP builds only ---- */\n"
           "#ifdef _OPENMP\n"
           "#define MC_PARALLEL_FOR _Pragma(\"omp parallel for num_threads(%d) schedule(static)\")\n"
           "#else\n"
           "#define MC_PARALLEL_FOR\n"
           "#endif\n",
           emit_opts(e)->threads, emit_opts(e)->threads);
  emit_helper(e, "mc_parallel_for", def);
  emit_line(e, "MC_PARALLEL_FOR");
}

void kl_par_split_gemm(const ir_node *n, kl_mm *d) {
  int64_t mu = d->tposed ? 2 * KL_MM_NR : KL_MM_MR;   /* M's unit: a tile (the transposed one's widest) */
  int64_t panels = (d->N + KL_MM_NR - 1) / KL_MM_NR, tiles = (d->M + mu - 1) / mu;
  int64_t work = d->M * d->N * d->K;
  d->split_n = panels >= kl_par_threads(n) || panels >= tiles;
  d->slots = (int)kl_par_parts(kl_par_threads(n), d->split_n ? panels : tiles, work);
}

static void use_region_macros(emit_ctx *e) {
  char def[320];
  snprintf(def, sizeof def,
           "/* ---- a parallel region of worksharing loops (--threads %d): OpenMP builds only ---- */\n"
           "#ifdef _OPENMP\n"
           "#define MC_PARALLEL _Pragma(\"omp parallel num_threads(%d)\")\n"
           "#define MC_FOR _Pragma(\"omp for schedule(static)\")\n"
           "#else\n"
           "#define MC_PARALLEL\n"
           "#define MC_FOR\n"
           "#endif\n",
           emit_opts(e)->threads, emit_opts(e)->threads);
  emit_helper(e, "mc_parallel_region", def);
}

int kl_par_pad_once(emit_ctx *e, const kl_mm *d, const char *g) {
  const char *p;
  if (d->slots <= 1 || !kl_mm_shared_copy(d)) return 0;
  use_region_macros(e);
  emit_line(e, "%s.padded = 1;", g);
  if (!emit_in_team(e)) emit_line(e, "MC_PARALLEL");   /* else the caller's team runs the block */
  kl_block(e);
  emit_line(e, "MC_FOR");
  p = kl_for(e, d->slots);
  emit_line(e, "mc_pad_chans(&%s, %s * %lld / %d, (%s + 1) * %lld / %d);", g, p, (long long)d->C, d->slots, p,
            (long long)d->C, d->slots);
  kl_end(e);
  return 1;
}

void kl_par_loop(emit_ctx *e, int in_region) {
  if (in_region) emit_line(e, "MC_FOR");
  else kl_par_for(e);   /* MC_FOR too in a team */
}

void kl_par_gemm_call(emit_ctx *e, const kl_mm *d, const char *g, const char *sfx, int64_t per) {
  int64_t unit = d->split_n ? KL_MM_NR : d->tposed ? 2 * KL_MM_NR : KL_MM_MR, units;
  const char *t, *s;
  int reg;
  if (d->slots <= 1) {
    emit_line(e, "mc_gemm%s(&%s, 0, %lld, 0, %lld);", sfx, g, (long long)d->M, (long long)d->N);
    return;
  }
  if (d->split_n && d->bkind == KL_MM_B_PADDED && (d->OH + d->bh - 1) / d->bh >= d->slots)
    unit = d->bh * (d->tposed ? d->OW : d->vw);   /* whole bands of the padded copy (grid columns, or pixels) */
  units = ((d->split_n ? d->N : d->M) + unit - 1) / unit;
  reg = kl_par_pad_once(e, d, g);
  kl_par_loop(e, reg);
  t = kl_for(e, d->slots);
  s = emit_fresh(e, "g");
  emit_line(e, "mc_gemm_args %s = %s;", s, g);
  emit_line(e, "int64_t lo = %s * %lld / %d * %lld, hi = %s + 1 == %d ? %lld : (%s + 1) * %lld / %d * %lld;", t,
            (long long)units, d->slots, (long long)unit, t, d->slots, (long long)(d->split_n ? d->N : d->M), t,
            (long long)units, d->slots, (long long)unit);
  if (d->scratch_b && per) emit_line(e, "%s.scratch += %s * %lld;", s, t, (long long)per);
  if (d->scratch_a && per) emit_line(e, "%s.ascratch += %s * %lld;", s, t, (long long)per);
  if (d->split_n)
    emit_line(e, "mc_gemm%s(&%s, 0, %lld, lo, hi);", sfx, s, (long long)d->M);
  else
    emit_line(e, "mc_gemm%s(&%s, lo, hi, 0, %lld);", sfx, s, (long long)d->N);
  kl_end(e);
  if (reg) kl_end(e);   /* the parallel region */
}
