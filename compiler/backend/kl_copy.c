/*
 * kl_copy.c - writes the loops of kl_copy.h's copies, gathers and
 * reductions.
 *
 * Loop variables come from emit_fresh and are copied into local buffers at
 * once (the returned text is only borrowed).  Index expressions are built
 * as text "off + i0*s0 + i1*s1" with literal strides, leaving strength
 * reduction to the C compiler.  Snippet variables of reductions (`acc`,
 * `v`) live in their own block, so fixed names cannot collide.
 */
#include "kl_copy.h"

#include <stdio.h>
#include <string.h>

#include "../ops/op.h"

typedef char vname[32];

/* "off + v0*s0 + ..." for n loop variables (a map replaces v by map[v]). */
static void index_expr(char *buf, size_t cap, int64_t off, int n, vname *vars, const int64_t *stride,
                       vname *maps)
{
  size_t used = 0;
  int k;
  buf[0] = '\0';
  if (off != 0) used = (size_t)snprintf(buf, cap, "%lld", (long long)off);
  for (k = 0; k < n && used < cap; k++) {
    char v[80];
    if (stride[k] == 0) continue;
    if (maps && maps[k][0]) snprintf(v, sizeof v, "%s[%s]", maps[k], vars[k]);
    else snprintf(v, sizeof v, "%s", vars[k]);
    if (stride[k] == 1) used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? " + " : "", v);
    else used += (size_t)snprintf(buf + used, cap - used, "%s%s*%lld", used ? " + " : "", v, (long long)stride[k]);
  }
  if (!used) snprintf(buf, cap, "0");
}

static void open_loop(emit_ctx *e, int64_t extent, vname out)
{
  snprintf(out, sizeof(vname), "%s", kl_for(e, extent));
}

void kl_copy_init(kl_copy *c, const char *dst, const char *src, ir_dtype dt)
{
  memset(c, 0, sizeof *c);
  c->dst = dst;
  c->src = src;
  c->dtype = dt;
}

int kl_copy_axis(kl_copy *c, int64_t extent, int64_t dst_stride, int64_t src_stride, const int64_t *map)
{
  if (c->rank >= KL_COPY_MAX_RANK) return ir_error("kl_copy: more than %d axes", KL_COPY_MAX_RANK);
  c->dims[c->rank] = extent;
  c->dst_stride[c->rank] = dst_stride;
  c->src_stride[c->rank] = src_stride;
  c->map[c->rank] = map;
  c->rank++;
  return 0;
}

int kl_copy_dense(kl_copy *c, int rank, const int64_t *dims, const int64_t *src_stride)
{
  int64_t st[KL_COPY_MAX_RANK];
  int k;
  kl_strides(rank, dims, st);
  for (k = 0; k < rank; k++)
    if (kl_copy_axis(c, dims[k], st[k], src_stride ? src_stride[k] : st[k], NULL)) return -1;
  return 0;
}

int kl_copy_emit(emit_ctx *e, const kl_copy *c0)
{
  kl_copy c;
  vname vars[KL_COPY_MAX_RANK], maps[KL_COPY_MAX_RANK];
  char di[512], si[512];
  const char *ct = ir_dtype_ctype(c0->dtype);
  int k, r = 0, run = 0, loops;

  /* 1. drop extent-1 axes (their index is always 0), stop on empty copies */
  c = *c0;
  c.rank = 0;
  for (k = 0; k < c0->rank; k++) {
    if (c0->dims[k] == 0) return 0;
    if (c0->dims[k] == 1) {
      if (c0->map[k]) c.src_off += c0->map[k][0] * c0->src_stride[k];
      continue;
    }
    c.dims[c.rank] = c0->dims[k];
    c.dst_stride[c.rank] = c0->dst_stride[k];
    c.src_stride[c.rank] = c0->src_stride[k];
    c.map[c.rank] = c0->map[k];
    c.rank++;
  }
  /* 2. merge axis k into k-1 when both sides step over it contiguously */
  for (k = 0; k < c.rank; k++) {
    if (r > 0 && !c.map[k] && !c.map[r - 1] &&
        c.dst_stride[r - 1] == c.dst_stride[k] * c.dims[k] &&
        c.src_stride[r - 1] == c.src_stride[k] * c.dims[k]) {
      c.dims[r - 1] *= c.dims[k];
      c.dst_stride[r - 1] = c.dst_stride[k];
      c.src_stride[r - 1] = c.src_stride[k];
      continue;
    }
    c.dims[r] = c.dims[k];
    c.dst_stride[r] = c.dst_stride[k];
    c.src_stride[r] = c.src_stride[k];
    c.map[r] = c.map[k];
    r++;
  }
  c.rank = r;
  /* 3. a unit-stride innermost run on both sides becomes one memcpy */
  if (r > 0 && !c.map[r - 1] && c.dst_stride[r - 1] == 1 && c.src_stride[r - 1] == 1) run = 1;
  loops = r - run;

  kl_block(e);
  for (k = 0; k < loops; k++) {
    maps[k][0] = '\0';
    if (c.map[k]) {
      snprintf(maps[k], sizeof(vname), "%s", emit_fresh(e, "map"));
      emit_int_table(e, "int64_t", maps[k], c.map[k], c.dims[k], 16);
    }
  }
  for (k = 0; k < loops; k++) open_loop(e, c.dims[k], vars[k]);
  index_expr(di, sizeof di, c.dst_off, loops, vars, c.dst_stride, NULL);
  index_expr(si, sizeof si, c.src_off, loops, vars, c.src_stride, maps);
  if (run) {
    /* A whole-buffer copy may be an in-place alias once the planner shares memory. */
    if (loops == 0 && c.dst_off == 0 && c.src_off == 0)
      emit_line(e, "if ((const void *)%s != (const void *)%s) memcpy(%s, %s, %lld * sizeof(%s));", c.dst, c.src,
                c.dst, c.src, (long long)c.dims[r - 1], ct);
    else
      emit_line(e, "memcpy(&%s[%s], &%s[%s], %lld * sizeof(%s));", c.dst, di, c.src, si, (long long)c.dims[r - 1], ct);
  } else {
    emit_line(e, "%s[%s] = %s[%s];", c.dst, di, c.src, si);
  }
  for (k = 0; k < loops; k++) kl_end(e);
  kl_end(e);
  return 0;
}

void kl_fill_emit(emit_ctx *e, const char *dst, int64_t count, const char *value)
{
  vname i;
  if (count <= 0) return;
  if (count == 1) {
    emit_line(e, "%s[0] = %s;", dst, value);
    return;
  }
  open_loop(e, count, i);
  emit_line(e, "%s[%s] = %s;", dst, i, value);
  kl_end(e);
}

int kl_gather_emit(emit_ctx *e, const kl_gather *g)
{
  vname o, j, t;
  const char *ct = ir_dtype_ctype(g->dtype);
  char di[160], si[160];
  if (g->outer == 0 || g->nidx == 0 || g->inner == 0) return 0;
  kl_block(e);
  if (g->outer > 1) open_loop(e, g->outer, o);
  else snprintf(o, sizeof o, "0");
  open_loop(e, g->nidx, j);
  snprintf(t, sizeof t, "%s", emit_fresh(e, "t"));
  emit_line(e, "int64_t %s = (int64_t)%s[%s];", t, g->idx, j);
  emit_line(e, "if (%s < 0) %s += %lld;", t, t, (long long)g->dim);
  snprintf(di, sizeof di, "(%s*%lld + %s)*%lld", o, (long long)g->nidx, j, (long long)g->inner);
  snprintf(si, sizeof si, "(%s*%lld + %s)*%lld", o, (long long)g->dim, t, (long long)g->inner);
  if (g->inner == 1)
    emit_line(e, "%s[%s] = %s[%s];", g->dst, di, g->src, si);
  else
    emit_line(e, "memcpy(&%s[%s], &%s[%s], %lld * sizeof(%s));", g->dst, di, g->src, si, (long long)g->inner, ct);
  kl_end(e);
  if (g->outer > 1) kl_end(e);
  kl_end(e);
  return 0;
}

int kl_reduce_emit(emit_ctx *e, const kl_reduce *r)
{
  int64_t dims[IR_MAX_RANK], st[IR_MAX_RANK], ost[IR_MAX_RANK], s = 1;
  int mask[IR_MAX_RANK], k, n = 0, nk = 0;
  vname kv[IR_MAX_RANK], rv[IR_MAX_RANK];
  int64_t kst[IR_MAX_RANK], rst[IR_MAX_RANK], kost[IR_MAX_RANK];
  int nr = 0;
  char oi[512], si[512];
  const char *oct = ir_dtype_ctype(r->out_dtype);

  /* 1. drop extent-1 axes, merge neighbours that both fold or both stay */
  for (k = 0; k < r->rank; k++) {
    if (r->dims[k] == 0) return 0;   /* no output element or an empty group: nothing written */
    if (r->dims[k] == 1) continue;
    if (n > 0 && mask[n - 1] == r->mask[k]) {
      dims[n - 1] *= r->dims[k];
      continue;
    }
    dims[n] = r->dims[k];
    mask[n] = r->mask[k];
    n++;
  }
  kl_strides(n, dims, st);
  for (k = n - 1; k >= 0; k--) {
    ost[k] = mask[k] ? 0 : s;
    if (!mask[k]) s *= dims[k];
  }
  kl_block(e);
  /* 2. kept axes outside, in order, so the output is written contiguously */
  for (k = 0; k < n; k++)
    if (!mask[k]) {
      open_loop(e, dims[k], kv[nk]);
      kst[nk] = st[k];
      kost[nk] = ost[k];
      nk++;
    }
  /* A float32 sum whose last axis folds (contiguous, as a bias gradient's
   * [N, C, H, W] over all but C): each run along it by kl_sum_run (one
   * element at a time through the blocked sum ran near 2 ns an element),
   * the runs' sums blocked as usual. */
  int lanes = r->in_dtype == IR_F32 && !strcmp(r->acc_type, "float") && !strcmp(r->step, "acc += v;") && n > 0 &&
              mask[n - 1] && dims[n - 1] >= KL_SUM_RUN_MIN;
  int64_t block = r->block;
  if (lanes) {
    int64_t rows = 1;
    for (k = 0; k < n - 1; k++)
      if (mask[k]) rows *= dims[k];
    block = kl_sum_block(IR_F32, rows);
  }
  kl_sum_decl(e, r->acc_type, "acc", r->init, block);
  for (k = 0; k < n - lanes; k++)
    if (mask[k]) {
      open_loop(e, dims[k], rv[nr]);
      rst[nr] = st[k];
      nr++;
    }
  {
    vname all[2 * IR_MAX_RANK];
    int64_t ast[2 * IR_MAX_RANK];
    for (k = 0; k < nk; k++) {
      memcpy(all[k], kv[k], sizeof(vname));
      ast[k] = kst[k];
    }
    for (k = 0; k < nr; k++) {
      memcpy(all[nk + k], rv[k], sizeof(vname));
      ast[nk + k] = rst[k];
    }
    index_expr(si, sizeof si, 0, nk + nr, all, ast, NULL);
  }
  index_expr(oi, sizeof oi, 0, nk, kv, kost, NULL);
  kl_block(e);
  if (lanes) {
    char row[600];
    snprintf(row, sizeof row, "(&%s[%s])", r->src, si[0] ? si : "0");
    kl_sum_run(e, "float", "acc", row, dims[n - 1], "v");
  } else {
    emit_line(e, "const %s v = (%s)%s[%s];", r->acc_type, r->acc_type, r->src, si);
    emit_line(e, "%s", r->step);
  }
  kl_sum_step(e, "acc", block);
  kl_end(e);
  for (k = 0; k < nr; k++) kl_end(e);
  kl_sum_done(e, "acc", block);
  emit_line(e, "%s[%s] = (%s)(%s);", r->dst, oi, oct, r->final);
  for (k = 0; k < nk; k++) kl_end(e);
  kl_end(e);
  return 0;
}

int kl_arg_emit(emit_ctx *e, const char *dst, const char *src, ir_dtype dt,
                int64_t outer, int64_t dim, int64_t inner, const char *cmp, int last)
{
  vname o, t, j;
  const char *ct = ir_dtype_ctype(dt);
  char base[128];
  if (outer == 0 || inner == 0) return 0;
  kl_block(e);
  if (outer > 1) open_loop(e, outer, o);
  else snprintf(o, sizeof o, "0");
  if (inner > 1) open_loop(e, inner, t);
  else snprintf(t, sizeof t, "0");
  snprintf(base, sizeof base, "%s*%lld + %s", o, (long long)(dim * inner), t);
  emit_line(e, "int64_t best = 0;");
  emit_line(e, "%s bv = %s[%s];", ct, src, base);
  open_loop(e, dim - 1, j);
  emit_line(e, "const %s v = %s[%s + (%s + 1)*%lld];", ct, src, base, j, (long long)inner);
  if (last) emit_line(e, "if (v %s bv || v == bv) { bv = v; best = %s + 1; }", cmp, j);
  else emit_line(e, "if (v %s bv) { bv = v; best = %s + 1; }", cmp, j);
  kl_end(e);
  emit_line(e, "%s[%s*%lld + %s] = best;", dst, o, (long long)inner, t);
  if (inner > 1) kl_end(e);
  if (outer > 1) kl_end(e);
  kl_end(e);
  return 0;
}
