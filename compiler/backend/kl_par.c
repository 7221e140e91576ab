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
 * in the node before; a 1x1 convolution's parts take whole rows of its
 * plane the same way (the last panel of a part's rows packed when short).
 * Depthwise convolutions split their channels, or, when what they read or
 * write has row replicas, their output rows (kl_par_dw_by_rows): then an
 * inverted residual block (1x1, depthwise 3x3, 1x1) hands on only halo
 * rows between the cores, where a split by channels between two splits by
 * pixels sent half of every expanded activation across (MobileNetV2's
 * 1x1 projections ran no faster on two threads than on one).
 * A part computes each output value as one part would, so the same C gives
 * the same bits whatever team runs it.  Each part packs B (and A's last rows) into its own
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
 * A part over whole output rows (kl_par_rows) reads and writes its own
 * copy of every tensor with row replicas (plan.h), and after the node's
 * loop a second loop over the parts copies the rows each part's readers
 * will want from the parts that wrote them (kl_par_rows_exchange): both
 * loops have the same count and static schedule, so each part keeps its
 * thread and its cache.
 */
#include "kl_par.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../passes/passes.h"
#include "../passes/plan.h"

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
  char def[400];
  snprintf(def, sizeof def,
           "/* ---- a parallel region of worksharing loops (--threads %d): OpenMP builds only ---- */\n"
           "#ifdef _OPENMP\n"
           "#define MC_PARALLEL _Pragma(\"omp parallel num_threads(%d)\")\n"
           "#define MC_FOR _Pragma(\"omp for schedule(static)\")\n"
           "#define MC_FOR_NOWAIT _Pragma(\"omp for schedule(static) nowait\")\n"
           "#else\n"
           "#define MC_PARALLEL\n"
           "#define MC_FOR\n"
           "#define MC_FOR_NOWAIT\n"
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

/* Whether d is a 1x1 convolution (stride 1, no padding) of one image whose
 * B rows are its input's channel planes, with at least a row per part: the
 * parts then take whole rows of the plane. */
static int plane_rows(const kl_mm *d) {
  return d->kind == KL_MM_GEMM && d->split_n && d->bkind == KL_MM_B_ROWS && !d->tposed && d->n_outer == 0 &&
         d->OW > 0 && d->OH >= d->slots && d->N == d->OH * d->OW && d->H == d->OH && d->W == d->OW;
}

/* The columns (N) or rows (M) parts take whole of: unit of them, *units in all. */
static int64_t split_unit(const kl_mm *d, int64_t *units) {
  int64_t unit = d->split_n ? KL_MM_NR : d->tposed ? 2 * KL_MM_NR : KL_MM_MR;
  if (d->split_n && d->bkind == KL_MM_B_PADDED && (d->OH + d->bh - 1) / d->bh >= d->slots)
    unit = d->bh * (d->tposed ? d->OW : d->vw);   /* whole bands of the padded copy (grid columns, or pixels) */
  else if (plane_rows(d))
    unit = d->OW;   /* whole rows of the plane, panels cut where a part's rows end */
  *units = ((d->split_n ? d->N : d->M) + unit - 1) / unit;
  return unit;
}

void kl_par_part(const kl_mm *d, int p, int64_t *lo, int64_t *hi) {
  int64_t units, unit;
  if (d->kind == KL_MM_DW) {   /* output rows */
    *lo = p * d->OH / d->slots, *hi = (p + 1) * d->OH / d->slots;
    return;
  }
  unit = split_unit(d, &units);
  *lo = p * units / d->slots * unit;
  *hi = p + 1 == d->slots ? (d->split_n ? d->N : d->M) : (p + 1) * units / d->slots * unit;
}

const char *kl_par_cuts(emit_ctx *e, const kl_mm *d) {
  const char *c = emit_fresh(e, "cut");
  int64_t *v = ir_alloc(sizeof(int64_t) * (size_t)(d->slots + 1));   /* aborts on OOM */
  for (int p = 0; p < d->slots; p++) kl_par_part(d, p, &v[p], &v[p + 1]);
  emit_int_table(e, "int64_t", c, v, d->slots + 1, 16);
  free(v);
  return c;
}

int kl_par_cuts_panels(const kl_mm *d) {
  int64_t lo, hi;
  for (int p = 0; d->split_n && p < d->slots; p++) {
    kl_par_part(d, p, &lo, &hi);
    if ((hi - lo) % KL_MM_NR) return 1;
  }
  return 0;
}

/* The depthwise kernel's parts over output rows (kl_par_dw_by_rows). */
static int dw_rows(const kl_mm *d, op_part_rows *r) {
  if (d->slots < 2 || d->slots > OP_PARTS_MAX || d->outer[0] != 1 || d->OH < d->slots || d->scratch_b ||
      d->b_in >= OP_ROWS_IN || d->res_in >= OP_ROWS_IN)
    return 0;
  for (int p = 0; p < d->slots; p++) {
    int64_t o0, o1, i0, i1;
    kl_par_part(d, p, &o0, &o1);
    i0 = o0 * d->SH - d->PH, i1 = (o1 - 1) * d->SH - d->PH + (d->KH - 1) * d->DH + 1;
    r->out[p][0] = o0, r->out[p][1] = o1;
    for (int i = 0; i < OP_ROWS_IN; i++) r->in[i][p][0] = r->in[i][p][1] = -1;
    r->in[d->b_in][p][0] = i0 < 0 ? 0 : i0 > d->H ? d->H : i0;
    r->in[d->b_in][p][1] = i1 < 0 ? 0 : i1 > d->H ? d->H : i1;
    if (d->res_in >= 0) r->in[d->res_in][p][0] = o0, r->in[d->res_in][p][1] = o1;
  }
  r->parts = d->slots;
  return 1;
}

int kl_par_rows(const kl_mm *d, op_part_rows *r) {
  int64_t per_row = d->tposed || d->bkind == KL_MM_B_ROWS ? d->OW : d->vw;   /* N's columns to an output row */
  memset(r, 0, sizeof *r);
  if (d->kind == KL_MM_DW) return dw_rows(d, r);
  if (d->kind != KL_MM_GEMM || d->slots < 2 || d->slots > OP_PARTS_MAX || !d->split_n || d->a_pack == KL_MM_A_RUN ||
      d->n_outer != 0 || d->rows || kl_mm_shared_copy(d) || d->b_in >= OP_ROWS_IN || d->res_in >= OP_ROWS_IN ||
      (d->bkind != KL_MM_B_PADDED && !(d->bkind == KL_MM_B_TAPS && d->tposed) && !plane_rows(d)))
    return 0;
  for (int p = 0; p < d->slots; p++) {   /* part p's columns: what kl_par_gemm_call's loop computes */
    int64_t lo, hi, o0, o1, i0, i1;
    kl_par_part(d, p, &lo, &hi);
    o0 = lo / per_row, o1 = p + 1 == d->slots ? d->OH : hi / per_row;
    if (lo % per_row || (p + 1 < d->slots && hi % per_row) || o1 <= o0) return 0;   /* not whole rows */
    r->out[p][0] = o0, r->out[p][1] = o1;
    for (int i = 0; i < OP_ROWS_IN; i++) r->in[i][p][0] = r->in[i][p][1] = -1;
    if (d->bkind == KL_MM_B_ROWS) {   /* 1x1, stride 1: the same rows */
      i0 = o0, i1 = o1;
    } else if (d->bkind == KL_MM_B_PADDED) {
      /* what mc_band copies: grid rows o0 up to the last band's, its phases */
      int64_t pa = d->DH == 1 && d->KH < d->SH ? d->KH : d->SH;
      int64_t last = o0 + (o1 - o0 - 1) / d->bh * d->bh + d->bh + d->vh - d->OH - 1;
      if (last > d->vh - 1) last = d->vh - 1;
      i0 = o0 * d->SH - d->PH;
      i1 = last * d->SH + pa - d->PH;
    } else {   /* the taps, in place */
      i0 = o0 * d->SH;
      i1 = (o1 - 1) * d->SH + (d->KH - 1) * d->DH + 1;
    }
    r->in[d->b_in][p][0] = i0 < 0 ? 0 : i0 > d->H ? d->H : i0;
    r->in[d->b_in][p][1] = i1 < 0 ? 0 : i1 > d->H ? d->H : i1;
    if (d->res_in >= 0) r->in[d->res_in][p][0] = o0, r->in[d->res_in][p][1] = o1;
  }
  r->parts = d->slots;
  return 1;
}

/* Floats from part 0's copy of a tensor with row replicas to part q's (plan.h). */
static int64_t replica_floats(const ir_graph *g, int64_t q) {
  return q ? (g->replica_base + (q - 1) * g->replica_stride) / (int64_t)sizeof(float) : 0;
}

/* "if (p) s.field += ...;": the pointer moved to part p's copy (p a C expression). */
static void to_replica(emit_ctx *e, const char *s, const char *field, const char *p) {
  const ir_graph *g = emit_graph(e);
  int64_t stride = g->replica_stride / (int64_t)sizeof(float);
  emit_line(e, "if (%s) %s.%s += %lld + %s * %lld;", p, s, field, (long long)(replica_floats(g, 1) - stride), p,
            (long long)stride);
}

void kl_par_to_replicas(emit_ctx *e, const ir_node *n, const kl_mm *d, const char *s, const char *p) {
  if (replica_read_by_rows(n, n->in[d->b_in])) to_replica(e, s, "b", p);
  if (d->res_in >= 0 && replica_read_by_rows(n, n->in[d->res_in])) to_replica(e, s, "res", p);
  if (n->out[0]->replicated) to_replica(e, s, "y", p);
}

int kl_par_dw_by_rows(const ir_node *n, const kl_mm *d) {
  op_part_rows r;
  if (d->kind != KL_MM_DW || !kl_par_rows(d, &r)) return 0;
  return n->out[0]->replicated || replica_read_by_rows(n, n->in[d->b_in]) ||
         (d->res_in >= 0 && replica_read_by_rows(n, n->in[d->res_in]));
}

void kl_par_gemm_call(emit_ctx *e, const ir_node *n, const kl_mm *d, const char *g, const char *sfx, int64_t per) {
  const char *t, *s, *c;
  int reg;
  if (d->slots <= 1) {
    emit_line(e, "mc_gemm%s(&%s, 0, %lld, 0, %lld);", sfx, g, (long long)d->M, (long long)d->N);
    return;
  }
  reg = kl_par_pad_once(e, d, g);
  c = kl_par_cuts(e, d);
  kl_par_loop(e, reg);
  t = kl_for(e, d->slots);
  s = emit_fresh(e, "g");
  emit_line(e, "mc_gemm_args %s = %s;", s, g);
  if (d->scratch_b && per) emit_line(e, "%s.scratch += %s * %lld;", s, t, (long long)per);
  if (d->scratch_a && per) emit_line(e, "%s.ascratch += %s * %lld;", s, t, (long long)per);
  kl_par_to_replicas(e, n, d, s, t);
  if (d->split_n)
    emit_line(e, "mc_gemm%s(&%s, 0, %lld, %s[%s], %s[%s + 1]);", sfx, s, (long long)d->M, c, t, c, t);
  else
    emit_line(e, "mc_gemm%s(&%s, %s[%s], %s[%s + 1], 0, %lld);", sfx, s, c, t, c, t, (long long)d->N);
  kl_end(e);
  if (reg) kl_end(e);   /* the parallel region */
}

/* mc_rows: n floats at each of c planes of plane floats, from src to dst. */
static void use_rows_helper(emit_ctx *e) {
  emit_helper(e, "mc_rows",
              "/* Floats [at, at + n) of each of c planes of `plane` floats, src's into dst\n"
              " * (a part's copy of rows another part wrote: row replicas). */\n"
              "static void mc_rows(float *dst, const float *src, int64_t c, int64_t plane, int64_t at, int64_t n) {\n"
              "  int64_t i;\n"
              "  for (i = 0; i < c; i++) memcpy(dst + i * plane + at, src + i * plane + at, sizeof(float) * (size_t)n);\n"
              "}\n");
}

void kl_par_rows_exchange(emit_ctx *e, const ir_node *n) {
  const ir_graph *g = emit_graph(e);
  const ir_tensor *t = n->n_out > 0 ? n->out[0] : NULL;
  replica_rows_t rr;
  const char *y, *p;
  int64_t C, H, W, any = 0;
  int after = -1, wait = !emit_in_team(e);
  if (!t || !t->replicated || replica_rows(g, t, &rr) < 2) return;
  wait |= rr.whole;   /* a whole reader in the team reads part 0's copy next */
  for (int q = 0; q < rr.parts; q++) any |= rr.need[q][0] < rr.own[q][0] || rr.need[q][1] > rr.own[q][1];
  if (!any && !rr.whole) return;   /* every part reads only rows it wrote */
  C = t->shape[1], H = t->shape[2], W = t->shape[3];
  /* no barrier after the copies unless the next node writes t's bytes: its
   * part could overwrite rows another part is still copying (parts keep
   * their thread from loop to loop: the same static schedule, the same count) */
  for (int s = 0; s < g->n_nodes; s++)
    if (g->nodes[s] == n) after = s + 1;
  while (after >= 0 && after < g->n_nodes && g->nodes[after]->dead) after++;
  for (int j = 0; after >= 0 && after < g->n_nodes && j < g->nodes[after]->n_out; j++) {
    const ir_tensor *o = g->nodes[after]->out[j];
    if (o && plan_in_arena(o) && o->offset < t->offset + ir_nbytes(t) && t->offset < o->offset + ir_nbytes(o))
      wait = 1;
  }
  use_rows_helper(e);
  y = emit_out(e, 0);
  emit_line(e, "/* the rows each part reads that other parts wrote, into its own copy (row replicas) */");
  if (emit_in_team(e)) {
    use_region_macros(e);
    emit_line(e, wait ? "MC_FOR" : "MC_FOR_NOWAIT");
  } else {
    kl_par_for(e);
  }
  p = kl_for(e, rr.parts);
  for (int q = 0; q < rr.parts; q++)
    for (int side = 0; side < 2 && !(rr.whole && q == 0); side++) {   /* with a whole reader, part 0's copy gets all */
      /* rows [a, b) below the part's own, then above them, from the parts that wrote them */
      int64_t a = side ? rr.own[q][1] : rr.need[q][0], b = side ? rr.need[q][1] : rr.own[q][0];
      for (int u = 0; u < rr.parts && a < b; u++) {
        int64_t lo = a > rr.own[u][0] ? a : rr.own[u][0], hi = b < rr.own[u][1] ? b : rr.own[u][1];
        if (u == q || lo >= hi) continue;
        emit_line(e, "if (%s == %d) mc_rows(%s + %lld, %s + %lld, %lld, %lld, %lld, %lld);", p, q, y,
                  (long long)replica_floats(g, q), y, (long long)replica_floats(g, u), (long long)C, (long long)(H * W),
                  (long long)(lo * W), (long long)((hi - lo) * W));
      }
    }
  for (int q = 1; rr.whole && q < rr.parts; q++)   /* its own rows into part 0's copy, for the whole readers */
    emit_line(e, "if (%s == %d) mc_rows(%s, %s + %lld, %lld, %lld, %lld, %lld);", p, q, y, y,
              (long long)replica_floats(g, q), (long long)C, (long long)(H * W), (long long)(rr.own[q][0] * W),
              (long long)((rr.own[q][1] - rr.own[q][0]) * W));
  kl_end(e);
}