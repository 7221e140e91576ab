/*
 * kl_index.c - writes the loops of kl_index.h: element gathers/scatters,
 * N-d tuple gathers/scatters and the loss loops.
 *
 * Loops come from kl_for (fresh variable names, copied at once); axes of
 * extent 1 get no loop, their coordinate being 0.  Fixed local names
 * (t, off, mx, ...) only live inside the innermost block, where nothing
 * else can be called that.  Reductions other than plain assignment are
 * written as C compound statements on the element type, so they wrap and
 * round exactly as the dtype does.
 */
#include "kl_index.h"

#include <stdio.h>
#include <string.h>

typedef char vname[32];

/* "a*s" appended to buf (skipped for stride 0 and coordinate "0"). */
static void add_term(char *buf, size_t cap, const char *v, int64_t stride)
{
  size_t used = strlen(buf);
  if (stride == 0 || strcmp(v, "0") == 0 || used >= cap) return;
  if (stride == 1) snprintf(buf + used, cap - used, "%s%s", used ? " + " : "", v);
  else snprintf(buf + used, cap - used, "%s%s*%lld", used ? " + " : "", v, (long long)stride);
}

static void finish(char *buf, size_t cap)
{
  if (!buf[0]) snprintf(buf, cap, "0");
}

/* dst (red)= src as one statement. */
static void red_stmt(emit_ctx *e, kl_red r, const char *dst, const char *src)
{
  switch (r) {
  case KL_RED_NONE: emit_line(e, "%s = %s;", dst, src); break;
  case KL_RED_ADD: emit_line(e, "%s += %s;", dst, src); break;
  case KL_RED_MUL: emit_line(e, "%s *= %s;", dst, src); break;
  case KL_RED_MAX: emit_line(e, "if (%s > %s) %s = %s;", src, dst, dst, src); break;
  case KL_RED_MIN: emit_line(e, "if (%s < %s) %s = %s;", src, dst, dst, src); break;
  }
}

int kl_elements_emit(emit_ctx *e, const kl_elements *k)
{
  int64_t ist[IR_MAX_RANK], dst_[IR_MAX_RANK];
  vname v[IR_MAX_RANK];
  char flat[512] = "", pos[512] = "", lhs[600], rhs[600];
  int a, loops = 0;
  for (a = 0; a < k->rank; a++)
    if (k->idx_dims[a] == 0) return 0;
  kl_strides(k->rank, k->idx_dims, ist);
  kl_strides(k->rank, k->data_dims, dst_);
  emit_line(e, "/* %s along axis %d; requires every index in [-%lld, %lld) */",
            k->io.scatter ? "scatter" : "gather", k->axis, (long long)k->data_dims[k->axis],
            (long long)k->data_dims[k->axis]);
  kl_block(e);
  for (a = 0; a < k->rank; a++) {
    if (k->idx_dims[a] == 1) {
      snprintf(v[a], sizeof v[a], "0");
      continue;
    }
    snprintf(v[a], sizeof v[a], "%s", kl_for(e, k->idx_dims[a]));
    loops++;
  }
  for (a = 0; a < k->rank; a++) {
    add_term(flat, sizeof flat, v[a], ist[a]);
    if (a != k->axis) add_term(pos, sizeof pos, v[a], dst_[a]);
  }
  add_term(pos, sizeof pos, "t", dst_[k->axis]);
  finish(flat, sizeof flat);
  finish(pos, sizeof pos);
  emit_line(e, "int64_t t = (int64_t)%s[%s];", k->io.idx, flat);
  emit_line(e, "if (t < 0) t += %lld;", (long long)k->data_dims[k->axis]);
  if (k->io.scatter) {
    snprintf(lhs, sizeof lhs, "%s[%s]", k->io.dst, pos);
    snprintf(rhs, sizeof rhs, "%s[%s]", k->io.src, flat);
    red_stmt(e, k->io.red, lhs, rhs);
  } else {
    emit_line(e, "%s[%s] = %s[%s];", k->io.dst, flat, k->io.src, pos);
  }
  while (loops-- > 0) kl_end(e);
  kl_end(e);
  return 0;
}

int kl_nd_emit(emit_ctx *e, const kl_nd *k)
{
  vname b, t, s;
  char tup[160], lhs[400], rhs[400];
  const char *ct = ir_dtype_ctype(k->io.dtype);
  int64_t j;
  if (k->batches == 0 || k->tuples == 0 || k->slice == 0) return 0;
  emit_line(e, "/* %s of %lld-index tuples; requires component j of every tuple in [-dim_j, dim_j) */",
            k->io.scatter ? "scatter" : "gather", (long long)k->k);
  kl_block(e);
  if (k->batches > 1) snprintf(b, sizeof b, "%s", kl_for(e, k->batches));
  else snprintf(b, sizeof b, "0");
  if (k->tuples > 1) snprintf(t, sizeof t, "%s", kl_for(e, k->tuples));
  else snprintf(t, sizeof t, "0");
  /* tup: flat tuple number */
  if (k->batches > 1) snprintf(tup, sizeof tup, "(%s*%lld + %s)", b, (long long)k->tuples, t);
  else snprintf(tup, sizeof tup, "%s", t);
  emit_line(e, "int64_t off = 0;");
  for (j = 0; j < k->k; j++) {
    kl_block(e);
    emit_line(e, "int64_t v = (int64_t)%s[%s*%lld + %lld];", k->io.idx, tup, (long long)k->k, (long long)j);
    emit_line(e, "if (v < 0) v += %lld;", (long long)k->dims[j]);
    emit_line(e, "off = off*%lld + v;", (long long)k->dims[j]);
    kl_end(e);
  }
  if (!k->io.scatter) {
    char src0[200];
    if (k->batches > 1) snprintf(src0, sizeof src0, "%s*%lld + off*%lld", b, (long long)k->block, (long long)k->slice);
    else snprintf(src0, sizeof src0, "off*%lld", (long long)k->slice);
    if (k->slice == 1)
      emit_line(e, "%s[%s] = %s[%s];", k->io.dst, tup, k->io.src, src0);
    else
      emit_line(e, "memcpy(&%s[%s*%lld], &%s[%s], %lld * sizeof(%s));", k->io.dst, tup, (long long)k->slice, k->io.src,
                src0, (long long)k->slice, ct);
  } else if (k->slice == 1) {
    snprintf(lhs, sizeof lhs, "%s[off]", k->io.dst);
    snprintf(rhs, sizeof rhs, "%s[%s]", k->io.src, tup);
    red_stmt(e, k->io.red, lhs, rhs);
  } else {
    snprintf(s, sizeof s, "%s", kl_for(e, k->slice));
    snprintf(lhs, sizeof lhs, "%s[off*%lld + %s]", k->io.dst, (long long)k->slice, s);
    snprintf(rhs, sizeof rhs, "%s[%s*%lld + %s]", k->io.src, tup, (long long)k->slice, s);
    red_stmt(e, k->io.red, lhs, rhs);
    kl_end(e);
  }
  if (k->tuples > 1) kl_end(e);
  if (k->batches > 1) kl_end(e);
  kl_end(e);
  return 0;
}

int kl_nll_emit(emit_ctx *e, const kl_nll *k)
{
  vname i, d, j;
  char at[200], xt[260], pos[160], lit[64];
  const char *ct = ir_dtype_ctype(k->dtype), *ft = kl_float_ctype(k->dtype);
  int64_t C = k->c, D = k->d;
  int64_t blk = kl_sum_block(k->dtype, k->n * D), cblk = kl_sum_block(k->dtype, C);   /* float sums in float */
  if (k->n == 0 || D == 0) {
    if (k->reduction == 1) emit_line(e, "%s[0] = 0;", k->dst);
    else if (k->reduction == 2) emit_line(e, "%s[0] = (%s)NAN;", k->dst, ct);   /* mean of nothing */
    return 0;
  }
  emit_line(e, "/* requires every target in [0, %lld)%s */", (long long)C,
            k->has_ii ? " or equal to ignore_index" : "");
  kl_block(e);
  if (k->reduction) kl_sum_decl(e, ft, "sum", "0", blk);
  if (k->reduction == 2) kl_sum_decl(e, ft, "wsum", "0", blk);
  if (k->n > 1) snprintf(i, sizeof i, "%s", kl_for(e, k->n));
  else snprintf(i, sizeof i, "0");
  if (D > 1) snprintf(d, sizeof d, "%s", kl_for(e, D));
  else snprintf(d, sizeof d, "0");
  /* pos: flat (n, d) position; at: x's flat index of class c_expr "%s" */
  if (D > 1) snprintf(pos, sizeof pos, "%s*%lld + %s", i, (long long)D, d);
  else snprintf(pos, sizeof pos, "%s", i);
  if (k->softmax) {
    /* log_softmax over c at this position: x - (max + log(sum exp(x - max))) */
    emit_line(e, "%s mx = -INFINITY, lse;", ft);
    kl_sum_decl(e, ft, "se", "0", cblk);
    snprintf(j, sizeof j, "%s", kl_for(e, C));
    snprintf(at, sizeof at, "%s[(%s*%lld + %s)*%lld + %s]", k->x, i, (long long)C, j, (long long)D, d);
    emit_line(e, "if (%s > mx) mx = %s;", at, at);
    kl_end(e);
    snprintf(j, sizeof j, "%s", kl_for(e, C));
    snprintf(at, sizeof at, "%s[(%s*%lld + %s)*%lld + %s]", k->x, i, (long long)C, j, (long long)D, d);
    kl_line(e, k->dtype, "se += exp@(%s - mx);", at);
    kl_sum_step(e, "se", cblk);
    kl_end(e);
    kl_sum_done(e, "se", cblk);
    kl_line(e, k->dtype, "lse = mx + log@(se);");
    if (k->logp) {
      char lp[200];
      snprintf(j, sizeof j, "%s", kl_for(e, C));
      snprintf(at, sizeof at, "%s[(%s*%lld + %s)*%lld + %s]", k->x, i, (long long)C, j, (long long)D, d);
      snprintf(lp, sizeof lp, "%s[(%s*%lld + %s)*%lld + %s]", k->logp, i, (long long)C, j, (long long)D, d);
      emit_line(e, "%s = (%s)(%s - lse);", lp, ct, at);
      kl_end(e);
    }
  }
  emit_line(e, "int64_t tg = (int64_t)%s[%s];", k->target, pos);
  emit_line(e, "%s l = 0%s;", ft, k->reduction == 2 ? ", w = 0" : "");
  if (k->has_ii) emit_line(e, "if (tg != %s) {", emit_literal_i64(lit, sizeof lit, IR_I64, k->ii));
  else emit_line(e, "{");
  emit_indent(e, 1);
  snprintf(at, sizeof at, "%s[(%s*%lld + tg)*%lld + %s]", k->x, i, (long long)C, (long long)D, d);
  if (k->softmax) snprintf(xt, sizeof xt, "(%s - lse)", at);
  else snprintf(xt, sizeof xt, "%s", at);
  if (k->reduction == 2) {
    if (k->weight) emit_line(e, "w = %s[tg];", k->weight);
    else emit_line(e, "w = 1;");
    emit_line(e, "l = -%s * w;", xt);
  } else if (k->weight) {
    emit_line(e, "l = -%s * %s[tg];", xt, k->weight);
  } else {
    emit_line(e, "l = -%s;", xt);
  }
  kl_end(e);
  if (k->reduction == 0) emit_line(e, "%s[%s] = (%s)l;", k->dst, pos, ct);
  else emit_line(e, "sum += l;");
  if (k->reduction) kl_sum_step(e, "sum", blk);
  if (k->reduction == 2) {
    emit_line(e, "wsum += w;");
    kl_sum_step(e, "wsum", blk);
  }
  if (D > 1) kl_end(e);
  if (k->n > 1) kl_end(e);
  if (k->reduction) kl_sum_done(e, "sum", blk);
  if (k->reduction == 2) kl_sum_done(e, "wsum", blk);
  if (k->reduction == 1) emit_line(e, "%s[0] = (%s)sum;", k->dst, ct);
  if (k->reduction == 2) emit_line(e, "%s[0] = (%s)(sum / wsum);", k->dst, ct);   /* 0/0 is NaN, as in ONNX */
  kl_end(e);
  return 0;
}

int kl_nll_grad_emit(emit_ctx *e, const kl_nll *k)
{
  const char *ct = ir_dtype_ctype(k->dtype), *i;
  char lit[64], skip[128] = "", w[160];
  int64_t C = k->c, D = k->d, m = k->n * C * D;
  if (m == 0) return 0;
  if (k->has_ii) snprintf(skip, sizeof skip, "if (tg == %s) continue;", emit_literal_i64(lit, sizeof lit, IR_I64, k->ii));
  if (k->weight) snprintf(w, sizeof w, "(double)%s[tg]", k->weight);
  else snprintf(w, sizeof w, "1.0");
  emit_line(e, "/* requires every target in [0, %lld)%s */", (long long)C,
            k->has_ii ? " or equal to ignore_index" : "");
  kl_block(e);
  i = kl_for(e, m);
  emit_line(e, "%s[%s] = 0;", k->dst, i);
  kl_end(e);
  emit_line(e, "double scale = 1.0;");
  if (k->reduction == 2 && !k->weight && !k->has_ii) {   /* mean over every position */
    emit_line(e, "scale = 1.0 / %lld;", (long long)(k->n * D));
  } else if (k->reduction == 2) {   /* mean: over the summed weights of the positions counted */
    emit_line(e, "double wsum = 0;");
    i = kl_for(e, k->n * D);
    emit_line(e, "const int64_t tg = (int64_t)%s[%s];", k->target, i);
    if (skip[0]) emit_line(e, "%s", skip);
    emit_line(e, "wsum += %s;", w);
    kl_end(e);
    emit_line(e, "scale = 1.0 / wsum;");
  }
  i = kl_for(e, k->n * D);
  emit_line(e, "const int64_t tg = (int64_t)%s[%s];", k->target, i);
  if (skip[0]) emit_line(e, "%s", skip);
  emit_line(e, "%s[(%s / %lld * %lld + tg) * %lld + %s %% %lld] = (%s)(-(double)%s[%s] * %s * scale);", k->dst, i,
            (long long)D, (long long)C, (long long)D, i, (long long)D, ct, k->x, k->reduction == 0 ? i : "0", w);
  kl_end(e);
  kl_end(e);
  return 0;
}
