/*
 * ops_image.c - op table entries for resampling, layout and normalization
 * ops: Resize/Upsample, DepthToSpace/SpaceToDepth, ConvTranspose,
 * MaxUnpool, GridSample, RoiAlign, LpPool/GlobalLpPool and the normalizations
 * (LayerNormalization, InstanceNormalization, LRN,
 * MeanVarianceNormalization, LpNormalization), with ONNX semantics.
 *
 * As in ops_nn.c, infer resolves everything that depends on opset,
 * defaults or constant inputs once and writes it back on the node, so the
 * interpreter and the backend read one plain form:
 *  - Resize/Upsample get "_mode" (nearest|linear|cubic), "_ctm" (the
 *    coordinate transformation), "_nearest" (rounding; "simple" is the
 *    opset-10 rule: floor when enlarging an axis, ceil when shrinking),
 *    "_scales" (one per axis: the scale used in the coordinate formula,
 *    out/in when sizes were given) and, for tf_crop_and_resize, "_roi"
 *    (starts then ends, one per axis).  Scales, sizes and roi must be
 *    compile-time constants.
 *  - ConvTranspose and LpPool get explicit kernel_shape, strides,
 *    dilations and pads (auto_pad and output_shape resolved); ConvTranspose
 *    also group and output_padding.
 *  - The normalizations get their axes and epsilons as plain attributes.
 * Re-running infer on a resolved node is a no-op.
 */
#include <math.h>
#include <string.h>

#include "op.h"
#include "grad_nn.h"
#include "grad_norm.h"
#include "../../runtime/kernels/interp_image.h"
#include "../backend/emit_image.h"

#define SP_MAX (IR_MAX_RANK - 2)

/* ---- shared checks -------------------------------------------------------- */

static int need_rank_at_least(const ir_node *n, int i, int r) {
  if (n->in[i]->rank < r)
    return op_fail(n, "input %d ('%s') has rank %d; at least %d needed", i, n->in[i]->name,
                   n->in[i]->rank, r);
  return 0;
}

static int one_of(const char *s, const char *const *list) {
  for (int k = 0; list[k]; k++)
    if (strcmp(s, list[k]) == 0) return 1;
  return 0;
}

static void same_out(ir_node *n, int j, const ir_tensor *like) {
  n->out[j]->dtype = like->dtype;
  ir_set_shape(n->out[j], like->rank, like->shape);
}

/* ---- Resize / Upsample ------------------------------------------------------ */

static const char *const resize_modes[] = {"nearest", "linear", "cubic", "bilinear", NULL};
static const char *const resize_ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                          "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                                          "tf_crop_and_resize", NULL};
static const char *const nearest_modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                            "ceil", NULL};

/* Upsample and opset-10 Resize: (X, scales), asymmetric coordinates. */
static int resize_is_old(const ir_node *n) {
  return strcmp(n->op_type, "Upsample") == 0 || n->opset < 11;
}

static int resize_validate(ir_node *n) {
  const char *m = ir_attr_string(n, "mode", "nearest");
  if (!one_of(m, resize_modes)) return op_fail(n, "unknown mode '%s'", m);
  if (resize_is_old(n)) {
    if (!strcmp(m, "cubic")) return op_fail(n, "mode 'cubic' needs Resize from opset 11");
    if (n->n_in > 2 && n->in[2]) return op_fail(n, "takes (X, scales) at opset %d", n->opset);
    return 0;
  }
  const char *c = ir_attr_string(n, "coordinate_transformation_mode", "half_pixel");
  const char *nm = ir_attr_string(n, "nearest_mode", "round_prefer_floor");
  const char *ka = ir_attr_string(n, "keep_aspect_ratio_policy", "stretch");
  if (!one_of(c, resize_ctms)) return op_fail(n, "unknown coordinate_transformation_mode '%s'", c);
  if (!one_of(nm, nearest_modes)) return op_fail(n, "unknown nearest_mode '%s'", nm);
  if (strcmp(ka, "stretch") && strcmp(ka, "not_larger") && strcmp(ka, "not_smaller"))
    return op_fail(n, "unknown keep_aspect_ratio_policy '%s'", ka);
  if (ir_attr_int(n, "antialias", 0) != 0) return op_fail(n, "antialias=1 is unsupported");
  int64_t ex = ir_attr_int(n, "exclude_outside", 0);
  if (ex != 0 && ex != 1) return op_fail(n, "exclude_outside=%lld must be 0 or 1", (long long)ex);
  return 0;
}

/* A present, non-empty input. */
static const ir_tensor *given(const ir_node *n, int i) {
  if (i >= n->n_in || !n->in[i]) return NULL;
  if (ir_numel(n->in[i]) == 0) return NULL;
  return n->in[i];
}

static int resize_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0];
  int r = x->rank, old = resize_is_old(n), k, cnt = 0, axes[IR_MAX_RANK], nax;
  const int sc_i = old ? 1 : 2, sz_i = 3;
  double scales[IR_MAX_RANK], roi[2 * IR_MAX_RANK];
  int64_t out[IR_MAX_RANK], vals[IR_MAX_RANK];
  const int64_t *av;
  const char *mode, *ctm, *nm;
  (void)g;
  if (ir_attr_find(n, "_scales")) return 0;   /* resolved already: the output is set */
  if (op_check_dtype(n, 0, OP_F32_F64)) return -1;
  if (r < 1) return op_fail(n, "input '%s' must have rank >= 1", x->name);
  /* axes (opset 18): the listed axes resize, the others keep scale 1 */
  nax = ir_attr_ints(n, "axes", &av);
  if (nax < 0) {
    nax = r;
    for (k = 0; k < r; k++) axes[k] = k;
  } else {
    if (nax > r) return op_fail(n, "axes has %d values for rank %d", nax, r);
    for (k = 0; k < nax; k++) {
      if (op_axis(n, av[k], r, &axes[k])) return -1;
      for (int j = 0; j < k; j++)
        if (axes[j] == axes[k]) return op_fail(n, "axis %d is listed twice", axes[k]);
    }
  }
  for (k = 0; k < r; k++) scales[k] = 1.0, out[k] = x->shape[k], roi[k] = 0.0, roi[r + k] = 1.0;
  mode = ir_attr_string(n, "mode", "nearest");
  if (!strcmp(mode, "bilinear")) mode = "linear";
  ctm = old ? "asymmetric" : ir_attr_string(n, "coordinate_transformation_mode", "half_pixel");
  nm = old ? "simple" : ir_attr_string(n, "nearest_mode", "round_prefer_floor");
  if (!strcmp(ctm, "tf_crop_and_resize")) {
    const ir_tensor *t = given(n, 1);
    if (!t) return op_fail(n, "tf_crop_and_resize needs the roi input");
    if (!t->data) return op_fail(n, "input 1 ('%s', roi) must be a compile-time constant (use --const)", t->name);
    if (ir_numel(t) != 2 * nax)
      return op_fail(n, "roi '%s' has %lld values; %d axes need %d", t->name, (long long)ir_numel(t),
                     nax, 2 * nax);
    for (k = 0; k < nax; k++) {
      roi[axes[k]] = ir_const_f64(t, k);
      roi[r + axes[k]] = ir_const_f64(t, nax + k);
    }
  }
  if (!old && given(n, sz_i)) {
    const char *ka = ir_attr_string(n, "keep_aspect_ratio_policy", "stretch");
    if (given(n, sc_i)) return op_fail(n, "takes scales or sizes, not both");
    if (op_const_ints(n, sz_i, vals, IR_MAX_RANK, &cnt)) return -1;
    if (cnt != nax) return op_fail(n, "sizes has %d values for %d axes", cnt, nax);
    for (k = 0; k < nax; k++) {
      if (vals[k] < 0) return op_fail(n, "sizes[%d]=%lld is negative", k, (long long)vals[k]);
      if (x->shape[axes[k]] == 0) return op_fail(n, "cannot resize an empty axis %d", axes[k]);
    }
    if (strcmp(ka, "stretch") == 0) {
      for (k = 0; k < nax; k++) {
        out[axes[k]] = vals[k];
        scales[axes[k]] = (double)vals[k] / (double)x->shape[axes[k]];
      }
    } else {
      double s = (double)vals[0] / (double)x->shape[axes[0]];
      for (k = 1; k < nax; k++) {
        double t = (double)vals[k] / (double)x->shape[axes[k]];
        if (!strcmp(ka, "not_larger") ? t < s : t > s) s = t;
      }
      for (k = 0; k < nax; k++) {
        scales[axes[k]] = s;
        out[axes[k]] = (int64_t)floor(s * (double)x->shape[axes[k]] + 0.5);
      }
    }
  } else if (given(n, sc_i)) {
    const ir_tensor *t = n->in[sc_i];
    if (!t->data)
      return op_fail(n, "input %d ('%s', scales) must be a compile-time constant (use --const)", sc_i, t->name);
    if (!ir_dtype_is_float(t->dtype))
      return op_fail(n, "scales '%s' must be a float tensor, got %s", t->name, ir_dtype_name(t->dtype));
    if (ir_numel(t) != nax)
      return op_fail(n, "scales '%s' has %lld values for %d axes", t->name, (long long)ir_numel(t), nax);
    for (k = 0; k < nax; k++) {
      double s = ir_const_f64(t, k);
      int a = axes[k];
      if (!(s > 0)) return op_fail(n, "scales[%d]=%g must be positive", k, s);
      scales[a] = s;
      double len = (double)x->shape[a];
      if (!strcmp(ctm, "tf_crop_and_resize")) len *= roi[r + a] - roi[a];
      out[a] = (int64_t)floor(len * s);
    }
  } else {
    return op_fail(n, "needs a scales or a sizes input");
  }
  if (!strcmp(mode, "nearest") && !strcmp(nm, "simple") && strcmp(n->op_type, "Upsample") == 0)
    nm = "floor";   /* Upsample repeats elements: floor(x / scale) */
  ir_attr_set_string(n, "_mode", mode);
  ir_attr_set_string(n, "_ctm", ctm);
  ir_attr_set_string(n, "_nearest", nm);
  ir_attr_set_floats(n, "_scales", r, scales);
  if (!strcmp(ctm, "tf_crop_and_resize")) ir_attr_set_floats(n, "_roi", 2 * r, roi);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], r, out);
  return 0;
}

/* ---- DepthToSpace / SpaceToDepth -------------------------------------------- */

static int d2s_validate(ir_node *n) {
  int64_t b = ir_attr_int(n, "blocksize", 0);
  if (b < 1) return op_fail(n, "blocksize=%lld must be a positive integer", (long long)b);
  if (strcmp(n->op_type, "DepthToSpace") == 0) {
    const char *m = ir_attr_string(n, "mode", "DCR");
    if (strcmp(m, "DCR") && strcmp(m, "CRD")) return op_fail(n, "unknown mode '%s'", m);
    if (!ir_attr_find(n, "mode")) ir_attr_set_string(n, "mode", "DCR");
  }
  return 0;
}

static int d2s_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t b = ir_attr_int(n, "blocksize", 1), d[4];
  int to_space = strcmp(n->op_type, "DepthToSpace") == 0;
  (void)g;
  if (x->dtype == IR_UNDEF || x->dtype == IR_STRING)
    return op_fail(n, "input '%s' has unsupported dtype %s", x->name, ir_dtype_name(x->dtype));
  if (x->rank != 4) return op_fail(n, "input '%s' must be 4-D [N,C,H,W], has rank %d", x->name, x->rank);
  d[0] = x->shape[0];
  if (to_space) {
    if (x->shape[1] % (b * b))
      return op_fail(n, "channels %lld are not divisible by blocksize^2=%lld", (long long)x->shape[1],
                     (long long)(b * b));
    d[1] = x->shape[1] / (b * b), d[2] = x->shape[2] * b, d[3] = x->shape[3] * b;
  } else {
    if (x->shape[2] % b || x->shape[3] % b)
      return op_fail(n, "spatial dims %lldx%lld are not divisible by blocksize=%lld",
                     (long long)x->shape[2], (long long)x->shape[3], (long long)b);
    d[1] = x->shape[1] * b * b, d[2] = x->shape[2] / b, d[3] = x->shape[3] / b;
  }
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], 4, d);
  return 0;
}

/* ---- window geometry (ConvTranspose, LpPool, MaxUnpool) --------------------- */

static int check_ap(const ir_node *n) {
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER"))
    return op_fail(n, "unknown auto_pad value '%s'", ap);
  return 0;
}

/* An ints attribute of r values (default def for every one); -1 if the count is wrong. */
static int read_ints(const ir_node *n, const char *name, int r, int64_t def, int64_t minv, int64_t *out) {
  const int64_t *v;
  int cnt = ir_attr_ints(n, name, &v);
  for (int k = 0; k < r; k++) out[k] = def;
  if (cnt < 0) return 0;
  if (cnt != r) return op_fail(n, "%s has %d values for %d spatial dimensions", name, cnt, r);
  for (int k = 0; k < r; k++) {
    if (v[k] < minv) return op_fail(n, "%s[%d]=%lld is below %lld", name, k, (long long)v[k], (long long)minv);
    out[k] = v[k];
  }
  return 0;
}

static int window_validate(ir_node *n) {
  const int64_t *v;
  int cnt = ir_attr_ints(n, "kernel_shape", &v);
  if (check_ap(n)) return -1;
  for (int k = 0; k < cnt; k++)
    if (v[k] <= 0) return op_fail(n, "kernel_shape[%d]=%lld must be positive", k, (long long)v[k]);
  if (ir_attr_int(n, "group", 1) < 1) return op_fail(n, "group must be at least 1");
  return 0;
}

/* ---- ConvTranspose ------------------------------------------------------------ */

static int convt_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
  int64_t grp = ir_attr_int(n, "group", 1), k[SP_MAX], s[SP_MAX], d[SP_MAX], p[2 * SP_MAX],
          op[SP_MAX], os[SP_MAX], dims[IR_MAX_RANK];
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  const int64_t *v;
  int r, i, cnt;
  char a[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1) || (b && op_same_dtype(n, 0, 2))) return -1;
  if (x->rank < 3 || x->rank > IR_MAX_RANK)
    return op_fail(n, "input X '%s' has rank %d; needs [N,C,spatial...]", x->name, x->rank);
  r = x->rank - 2;
  if (w->rank != x->rank)
    return op_fail(n, "weight '%s' %s must have rank %d", w->name, ir_shape_str(w, a, sizeof a), x->rank);
  if (grp < 1 || x->shape[1] % grp || w->shape[0] != x->shape[1])
    return op_fail(n, "weight '%s' %s needs %lld input channels (X has %lld) divisible by group=%lld",
                   w->name, ir_shape_str(w, a, sizeof a), (long long)w->shape[0],
                   (long long)x->shape[1], (long long)grp);
  if (b && (b->rank != 1 || b->shape[0] != w->shape[1] * grp))
    return op_fail(n, "bias '%s' %s must have shape [%lld]", b->name, ir_shape_str(b, a, sizeof a),
                   (long long)(w->shape[1] * grp));
  if (read_ints(n, "kernel_shape", r, 0, 1, k) || read_ints(n, "strides", r, 1, 1, s) ||
      read_ints(n, "dilations", r, 1, 1, d) || read_ints(n, "output_padding", r, 0, INT64_MIN, op))
    return -1;
  for (i = 0; i < r; i++) {
    if (ir_attr_find(n, "kernel_shape") && k[i] != w->shape[2 + i])
      return op_fail(n, "kernel_shape[%d]=%lld does not match weight '%s' %s", i, (long long)k[i],
                     w->name, ir_shape_str(w, a, sizeof a));
    k[i] = w->shape[2 + i];
  }
  for (i = 0; i < 2 * r; i++) p[i] = 0;
  if ((cnt = ir_attr_ints(n, "pads", &v)) >= 0 && !strcmp(ap, "NOTSET")) {
    if (cnt != 2 * r) return op_fail(n, "pads has %d values; %d spatial dimensions need %d", cnt, r, 2 * r);
    memcpy(p, v, sizeof(int64_t) * 2 * r);
  }
  cnt = ir_attr_ints(n, "output_shape", &v);
  if (cnt >= 0 && cnt != r && cnt != r + 2)
    return op_fail(n, "output_shape has %d values for %d spatial dimensions", cnt, r);
  if (cnt >= 0 || !strncmp(ap, "SAME", 4)) {
    for (i = 0; i < r; i++) {
      int64_t full = s[i] * (x->shape[2 + i] - 1) + op[i] + d[i] * (k[i] - 1) + 1, tot;
      os[i] = cnt >= 0 ? v[cnt - r + i] : x->shape[2 + i] * s[i];
      tot = full - os[i];
      if (tot < 0) tot = 0;   /* a larger output: the extra positions only get the bias */
      if (!strcmp(ap, "SAME_UPPER")) p[i] = tot / 2, p[r + i] = tot - tot / 2;
      else p[i] = tot - tot / 2, p[r + i] = tot / 2;
      op[i] = os[i] - (full - op[i] - p[i] - p[r + i]);   /* absorb what the pads do not */
    }
  }
  dims[0] = x->shape[0];
  dims[1] = w->shape[1] * grp;
  for (i = 0; i < r; i++) {
    dims[2 + i] = s[i] * (x->shape[2 + i] - 1) + op[i] + d[i] * (k[i] - 1) + 1 - p[i] - p[r + i];
    if (dims[2 + i] < 0) return op_fail(n, "negative output size in spatial dim %d", i);
  }
  ir_attr_remove(n, "auto_pad");
  ir_attr_remove(n, "output_shape");
  ir_attr_set_ints(n, "kernel_shape", r, k);
  ir_attr_set_ints(n, "strides", r, s);
  ir_attr_set_ints(n, "dilations", r, d);
  ir_attr_set_ints(n, "pads", 2 * r, p);
  ir_attr_set_ints(n, "output_padding", r, op);
  ir_attr_set_int(n, "group", grp);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

static int64_t convt_macs(const ir_node *n) {
  if (!ir_shape_known(n->in[0]) || !ir_shape_known(n->in[1]) || n->in[1]->shape[0] == 0) return 0;
  return ir_numel(n->in[0]) * (ir_numel(n->in[1]) / n->in[1]->shape[0]);
}

/* ---- LpPool / GlobalLpPool ---------------------------------------------------- */

static int lp_validate(ir_node *n) {
  double p = ir_attr_float(n, "p", 2.0);
  if (!(p > 0)) return op_fail(n, "p=%g must be positive", p);
  if (strcmp(n->op_type, "LpPool") == 0) {
    const int64_t *v;
    if (ir_attr_ints(n, "kernel_shape", &v) < 0) return op_fail(n, "missing required attribute kernel_shape");
    int64_t cm = ir_attr_int(n, "ceil_mode", 0);
    if (cm != 0 && cm != 1) return op_fail(n, "ceil_mode=%lld must be 0 or 1", (long long)cm);
    if (window_validate(n)) return -1;
  }
  ir_attr_set_float(n, "p", p);
  return 0;
}

static int lppool_infer(ir_graph *g, ir_node *n) {
  ir_tensor *x = n->in[0];
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  int64_t k[SP_MAX], s[SP_MAX], d[SP_MAX], p[2 * SP_MAX], dims[IR_MAX_RANK];
  int cm = (int)ir_attr_int(n, "ceil_mode", 0), r, i, same = !strncmp(ap, "SAME", 4);
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 3)) return -1;
  r = x->rank - 2;
  if (read_ints(n, "kernel_shape", r, 1, 1, k) || read_ints(n, "strides", r, 1, 1, s) ||
      read_ints(n, "dilations", r, 1, 1, d))
    return -1;
  if (!strcmp(ap, "NOTSET")) {
    const int64_t *v;
    int cnt = ir_attr_ints(n, "pads", &v);
    for (i = 0; i < 2 * r; i++) p[i] = cnt == 2 * r ? v[i] : 0;
    if (cnt >= 0 && cnt != 2 * r) return op_fail(n, "pads has %d values; needs %d", cnt, 2 * r);
  } else {
    for (i = 0; i < 2 * r; i++) p[i] = 0;
  }
  dims[0] = x->shape[0];
  dims[1] = x->shape[1];
  for (i = 0; i < r; i++) {
    int64_t ek = d[i] * (k[i] - 1) + 1, in = x->shape[2 + i], o;
    if (same) {
      o = (in + s[i] - 1) / s[i];
      int64_t tot = (o - 1) * s[i] + ek - in;
      if (tot < 0) tot = 0;
      if (!strcmp(ap, "SAME_UPPER")) p[i] = tot / 2, p[r + i] = tot - tot / 2;
      else p[r + i] = tot / 2, p[i] = tot - tot / 2;
    } else {
      int64_t num = in + p[i] + p[r + i] - ek;
      if (num < 0) return op_fail(n, "window larger than the padded input in spatial dim %d", i);
      o = (cm ? (num + s[i] - 1) / s[i] : num / s[i]) + 1;
      if (cm && (o - 1) * s[i] >= in + p[i]) o--;
    }
    dims[2 + i] = o;
  }
  ir_attr_remove(n, "auto_pad");
  ir_attr_set_ints(n, "kernel_shape", r, k);
  ir_attr_set_ints(n, "strides", r, s);
  ir_attr_set_ints(n, "dilations", r, d);
  ir_attr_set_ints(n, "pads", 2 * r, p);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

static int global_lp_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t dims[IR_MAX_RANK];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 3)) return -1;
  for (int i = 0; i < x->rank; i++) dims[i] = i < 2 ? x->shape[i] : 1;
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

/* ---- MaxUnpool ---------------------------------------------------------------- */

static int unpool_validate(ir_node *n) {
  const int64_t *v;
  if (ir_attr_ints(n, "kernel_shape", &v) < 0) return op_fail(n, "missing required attribute kernel_shape");
  return window_validate(n);
}

static int unpool_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t k[SP_MAX], s[SP_MAX], p[2 * SP_MAX], dims[IR_MAX_RANK];
  int r, i, cnt;
  char a[96], b[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 3)) return -1;
  if (ix->dtype != IR_I64) return op_fail(n, "indices '%s' must be int64", ix->name);
  if (!ir_same_shape(x, ix))
    return op_fail(n, "indices %s must have the shape of X %s", ir_shape_str(ix, a, sizeof a),
                   ir_shape_str(x, b, sizeof b));
  r = x->rank - 2;
  if (read_ints(n, "kernel_shape", r, 1, 1, k) || read_ints(n, "strides", r, 1, 1, s)) return -1;
  for (i = 0; i < 2 * r; i++) p[i] = 0;
  const int64_t *v;
  if ((cnt = ir_attr_ints(n, "pads", &v)) >= 0) {
    if (cnt != 2 * r) return op_fail(n, "pads has %d values; needs %d", cnt, 2 * r);
    memcpy(p, v, sizeof(int64_t) * 2 * r);
  }
  /* the indices address the default output [N, C, (in-1)*s + k - pads]; an
   * explicit output_shape keeps each index's coordinates (extra space at the end) */
  dims[0] = x->shape[0];
  dims[1] = x->shape[1];
  for (i = 0; i < r; i++) dims[2 + i] = (x->shape[2 + i] - 1) * s[i] + k[i] - p[i] - p[r + i];
  ir_attr_set_ints(n, "_index_shape", x->rank, dims);
  if (n->n_in > 2 && n->in[2]) {
    if (op_const_ints(n, 2, dims, IR_MAX_RANK, &cnt)) return -1;
    if (cnt != x->rank) return op_fail(n, "output_shape has %d values for rank %d", cnt, x->rank);
    if (dims[0] != x->shape[0] || dims[1] != x->shape[1])
      return op_fail(n, "output_shape must keep N and C of X");
  }
  for (i = 0; i < x->rank; i++)
    if (dims[i] < 0) return op_fail(n, "negative output dimension %d", i);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

/* ---- GridSample ------------------------------------------------------------------ */

static int grid_validate(ir_node *n) {
  static const char *const modes[] = {"bilinear", "nearest", "bicubic", "linear", "cubic", NULL};
  static const char *const pads[] = {"zeros", "border", "reflection", NULL};
  const char *m = ir_attr_string(n, "mode", "bilinear"), *p = ir_attr_string(n, "padding_mode", "zeros");
  if (!one_of(m, modes)) return op_fail(n, "unknown mode '%s'", m);
  if (!one_of(p, pads)) return op_fail(n, "unknown padding_mode '%s'", p);
  /* m and p may point into the attributes being replaced: set from literals */
  if (!strcmp(m, "linear") || !ir_attr_find(n, "mode")) ir_attr_set_string(n, "mode", "bilinear");
  else if (!strcmp(m, "cubic")) ir_attr_set_string(n, "mode", "bicubic");
  if (!ir_attr_find(n, "padding_mode")) ir_attr_set_string(n, "padding_mode", "zeros");
  ir_attr_set_int(n, "align_corners", ir_attr_int(n, "align_corners", 0) != 0);
  return 0;
}

static int grid_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *gr = n->in[1];
  int64_t dims[4];
  char a[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1)) return -1;
  if (x->rank != 4) return op_fail(n, "only 4-D input [N,C,H,W] is supported (got rank %d)", x->rank);
  if (gr->rank != 4 || gr->shape[0] != x->shape[0] || gr->shape[3] != 2)
    return op_fail(n, "grid '%s' %s must be [N,H_out,W_out,2]", gr->name, ir_shape_str(gr, a, sizeof a));
  dims[0] = x->shape[0], dims[1] = x->shape[1], dims[2] = gr->shape[1], dims[3] = gr->shape[2];
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], 4, dims);
  return 0;
}

/* ---- RoiAlign -------------------------------------------------------------------- */

/* Defaults made explicit; coordinate_transformation_mode arrived in opset
 * 16, and before it the op behaved as output_half_pixel. */
static int roi_validate(ir_node *n) {
  static const char *const modes[] = {"avg", "max", NULL}, *const ctms[] = {"half_pixel", "output_half_pixel", NULL};
  const char *m = ir_attr_string(n, "mode", "avg");
  const char *c = ir_attr_string(n, "coordinate_transformation_mode", n->opset < 16 ? "output_half_pixel" : "half_pixel");
  if (!one_of(m, modes)) return op_fail(n, "unknown mode '%s' (avg, max)", m);
  if (!one_of(c, ctms)) return op_fail(n, "unknown coordinate_transformation_mode '%s'", c);
  if (!ir_attr_find(n, "mode")) ir_attr_set_string(n, "mode", "avg");
  if (!ir_attr_find(n, "coordinate_transformation_mode"))
    ir_attr_set_string(n, "coordinate_transformation_mode", n->opset < 16 ? "output_half_pixel" : "half_pixel");
  ir_attr_set_int(n, "output_height", ir_attr_int(n, "output_height", 1));
  ir_attr_set_int(n, "output_width", ir_attr_int(n, "output_width", 1));
  ir_attr_set_int(n, "sampling_ratio", ir_attr_int(n, "sampling_ratio", 0));
  ir_attr_set_float(n, "spatial_scale", ir_attr_float(n, "spatial_scale", 1.0));
  if (ir_attr_int(n, "output_height", 1) < 1 || ir_attr_int(n, "output_width", 1) < 1)
    return op_fail(n, "output_height and output_width must be positive");
  if (ir_attr_int(n, "sampling_ratio", 0) < 0 || ir_attr_int(n, "sampling_ratio", 0) > 1000000)
    return op_fail(n, "sampling_ratio=%lld is out of range", (long long)ir_attr_int(n, "sampling_ratio", 0));
  return 0;
}

static int roi_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *r = n->in[1], *b = n->in[2];
  int64_t dims[4];
  char a[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || op_same_dtype(n, 0, 1)) return -1;
  if (x->rank != 4) return op_fail(n, "input must be [N,C,H,W] (got rank %d)", x->rank);
  if (r->rank != 2 || r->shape[1] != 4)
    return op_fail(n, "rois '%s' %s must be [num_rois,4]", r->name, ir_shape_str(r, a, sizeof a));
  if (b->dtype != IR_I64 || b->rank != 1 || b->shape[0] != r->shape[0])
    return op_fail(n, "batch_indices '%s' must be int64 [%lld]", b->name, (long long)r->shape[0]);
  dims[0] = r->shape[0], dims[1] = x->shape[1];
  dims[2] = ir_attr_int(n, "output_height", 1), dims[3] = ir_attr_int(n, "output_width", 1);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], 4, dims);
  return 0;
}

/* ---- normalizations ------------------------------------------------------------- */

/* Scale/B of LayerNormalization: broadcastable to the normalized trailing dims. */
static int check_trailing(const ir_node *n, int i, int axis) {
  const ir_tensor *t = n->in[i], *x = n->in[0];
  char a[96], b[96];
  if (!t) return 0;
  if (op_same_dtype(n, 0, i)) return -1;
  if (t->rank > x->rank - axis) goto bad;
  for (int k = 0; k < t->rank; k++) {
    int64_t want = x->shape[x->rank - t->rank + k];
    if (t->shape[k] != want && t->shape[k] != 1) goto bad;
  }
  return 0;
bad:
  return op_fail(n, "input %d ('%s') %s does not broadcast to the normalized dims of X %s", i, t->name,
                 ir_shape_str(t, a, sizeof a), ir_shape_str(x, b, sizeof b));
}

static int layernorm_validate(ir_node *n) {
  int64_t st = ir_attr_int(n, "stash_type", 1);
  if (st != 1 && st != 11) return op_fail(n, "stash_type=%lld is unsupported (float or double only)", (long long)st);
  ir_attr_set_float(n, "epsilon", ir_attr_float(n, "epsilon", 1e-5));
  ir_attr_set_int(n, "stash_type", st);
  return 0;
}

static int layernorm_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  int axis, j;
  int64_t dims[IR_MAX_RANK];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 1)) return -1;
  if (op_axis(n, ir_attr_int(n, "axis", -1), x->rank, &axis)) return -1;
  if (check_trailing(n, 1, axis) || (n->n_in > 2 && check_trailing(n, 2, axis))) return -1;
  ir_attr_set_int(n, "axis", axis);
  same_out(n, 0, x);
  for (int k = 0; k < x->rank; k++) dims[k] = k < axis ? x->shape[k] : 1;
  for (j = 1; j < n->n_out; j++) {
    if (!n->out[j]) continue;
    n->out[j]->dtype = ir_attr_int(n, "stash_type", 1) == 11 ? IR_F64 : IR_F32;
    ir_set_shape(n->out[j], x->rank, dims);
  }
  return 0;
}

static int instnorm_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  char a[96];
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 3)) return -1;
  for (int i = 1; i < 3; i++) {
    if (op_same_dtype(n, 0, i)) return -1;
    if (n->in[i]->rank != 1 || n->in[i]->shape[0] != x->shape[1])
      return op_fail(n, "input %d ('%s') %s must have shape [%lld]", i, n->in[i]->name,
                     ir_shape_str(n->in[i], a, sizeof a), (long long)x->shape[1]);
  }
  ir_attr_set_float(n, "epsilon", ir_attr_float(n, "epsilon", 1e-5));
  same_out(n, 0, x);
  return 0;
}

static int lrn_validate(ir_node *n) {
  int64_t size = ir_attr_int(n, "size", 0);
  if (size < 1) return op_fail(n, "size=%lld must be a positive integer (it is required)", (long long)size);
  ir_attr_set_float(n, "alpha", ir_attr_float(n, "alpha", 1e-4));
  ir_attr_set_float(n, "beta", ir_attr_float(n, "beta", 0.75));
  ir_attr_set_float(n, "bias", ir_attr_float(n, "bias", 1.0));
  return 0;
}

static int lrn_infer(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 2)) return -1;
  same_out(n, 0, n->in[0]);
  return 0;
}

static int mvn_infer(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  static const int64_t def[3] = {0, 2, 3};
  const int64_t *v;
  int64_t axes[IR_MAX_RANK];
  int cnt = ir_attr_ints(n, "axes", &v), seen[IR_MAX_RANK] = {0}, a;
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64)) return -1;
  if (cnt < 0) {
    if (x->rank != 4) return op_fail(n, "default axes [0,2,3] need a 4-D input (got rank %d)", x->rank);
    v = def, cnt = 3;
  }
  if (cnt > x->rank) return op_fail(n, "axes has %d values for rank %d", cnt, x->rank);
  for (int k = 0; k < cnt; k++) {
    if (op_axis(n, v[k], x->rank, &a)) return -1;
    if (seen[a]++) return op_fail(n, "axis %d is listed twice", a);
    axes[k] = a;
  }
  ir_attr_set_ints(n, "axes", cnt, axes);
  same_out(n, 0, x);
  return 0;
}

static int lpnorm_validate(ir_node *n) {
  int64_t p = ir_attr_int(n, "p", 2);
  if (p != 1 && p != 2) return op_fail(n, "p=%lld is unsupported (1 or 2)", (long long)p);
  ir_attr_set_int(n, "p", p);
  return 0;
}

static int lpnorm_infer(ir_graph *g, ir_node *n) {
  int axis;
  (void)g;
  if (op_check_dtype(n, 0, OP_F32_F64) || need_rank_at_least(n, 0, 1)) return -1;
  if (op_axis(n, ir_attr_int(n, "axis", -1), n->in[0]->rank, &axis)) return -1;
  ir_attr_set_int(n, "axis", axis);
  same_out(n, 0, n->in[0]);
  return 0;
}

/* ---- the table ------------------------------------------------------------------ */

static const op_attr_spec resize_attrs[] = {
    {"mode", IR_ATTR_STRING}, {"coordinate_transformation_mode", IR_ATTR_STRING},
    {"nearest_mode", IR_ATTR_STRING}, {"cubic_coeff_a", IR_ATTR_FLOAT},
    {"exclude_outside", IR_ATTR_INT}, {"extrapolation_value", IR_ATTR_FLOAT},
    {"antialias", IR_ATTR_INT}, {"axes", IR_ATTR_INTS}, {"keep_aspect_ratio_policy", IR_ATTR_STRING},
    {NULL, 0}};
static const op_attr_spec upsample_attrs[] = {{"mode", IR_ATTR_STRING}, {NULL, 0}};
static const op_attr_spec d2s_attrs[] = {{"blocksize", IR_ATTR_INT}, {"mode", IR_ATTR_STRING}, {NULL, 0}};
static const op_attr_spec s2d_attrs[] = {{"blocksize", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec convt_attrs[] = {
    {"auto_pad", IR_ATTR_STRING}, {"dilations", IR_ATTR_INTS}, {"group", IR_ATTR_INT},
    {"kernel_shape", IR_ATTR_INTS}, {"output_padding", IR_ATTR_INTS}, {"output_shape", IR_ATTR_INTS},
    {"pads", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec lppool_attrs[] = {
    {"auto_pad", IR_ATTR_STRING}, {"kernel_shape", IR_ATTR_INTS}, {"p", IR_ATTR_FLOAT},
    {"pads", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {"dilations", IR_ATTR_INTS},
    {"ceil_mode", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec glp_attrs[] = {{"p", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec unpool_attrs[] = {
    {"kernel_shape", IR_ATTR_INTS}, {"pads", IR_ATTR_INTS}, {"strides", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec grid_attrs[] = {
    {"mode", IR_ATTR_STRING}, {"padding_mode", IR_ATTR_STRING}, {"align_corners", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec roi_attrs[] = {
    {"coordinate_transformation_mode", IR_ATTR_STRING}, {"mode", IR_ATTR_STRING}, {"output_height", IR_ATTR_INT},
    {"output_width", IR_ATTR_INT}, {"sampling_ratio", IR_ATTR_INT}, {"spatial_scale", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec ln_attrs[] = {
    {"axis", IR_ATTR_INT}, {"epsilon", IR_ATTR_FLOAT}, {"stash_type", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec in_attrs[] = {{"epsilon", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec lrn_attrs[] = {
    {"alpha", IR_ATTR_FLOAT}, {"beta", IR_ATTR_FLOAT}, {"bias", IR_ATTR_FLOAT}, {"size", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec mvn_attrs[] = {{"axes", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec lpn_attrs[] = {{"axis", IR_ATTR_INT}, {"p", IR_ATTR_INT}, {NULL, 0}};

#define ENTRY(nm, lo, hi, olo, ohi, at, val, inf, fn)                                              \
  {.name = nm, .domain = "", .min_in = lo, .max_in = hi, .min_out = olo, .max_out = ohi, .attrs = at, \
   .validate = val, .infer = inf, .interp = interp_image_##fn, .emit = emit_image_##fn}

const op_def ops_image[] = {
    ENTRY("Resize", 1, 4, 1, 1, resize_attrs, resize_validate, resize_infer, resize),
    ENTRY("Upsample", 2, 2, 1, 1, upsample_attrs, resize_validate, resize_infer, resize),
    ENTRY("DepthToSpace", 1, 1, 1, 1, d2s_attrs, d2s_validate, d2s_infer, depth_to_space),
    ENTRY("SpaceToDepth", 1, 1, 1, 1, s2d_attrs, d2s_validate, d2s_infer, space_to_depth),
    {.name = "ConvTranspose", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
     .attrs = convt_attrs, .validate = window_validate, .infer = convt_infer,
     .interp = interp_image_conv_transpose, .emit = emit_image_conv_transpose, .macs = convt_macs,
     .scratch_bytes = emit_image_conv_transpose_scratch,
     .grad = grad_ConvTranspose},
    ENTRY("LpPool", 1, 1, 1, 1, lppool_attrs, lp_validate, lppool_infer, lp_pool),
    ENTRY("GlobalLpPool", 1, 1, 1, 1, glp_attrs, lp_validate, global_lp_infer, global_lp_pool),
    ENTRY("MaxUnpool", 2, 3, 1, 1, unpool_attrs, unpool_validate, unpool_infer, max_unpool),
    ENTRY("GridSample", 2, 2, 1, 1, grid_attrs, grid_validate, grid_infer, grid_sample),
    ENTRY("RoiAlign", 3, 3, 1, 1, roi_attrs, roi_validate, roi_infer, roi_align),
    {.name = "LayerNormalization", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 3,
     .attrs = ln_attrs, .validate = layernorm_validate, .infer = layernorm_infer,
     .interp = interp_image_layer_norm, .emit = emit_image_layer_norm, .grad = grad_LayerNormalization},
    {.name = "InstanceNormalization", .domain = "", .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
     .attrs = in_attrs, .infer = instnorm_infer, .interp = interp_image_instance_norm,
     .emit = emit_image_instance_norm, .grad = grad_InstanceNormalization},
    ENTRY("LRN", 1, 1, 1, 1, lrn_attrs, lrn_validate, lrn_infer, lrn),
    ENTRY("MeanVarianceNormalization", 1, 1, 1, 1, mvn_attrs, NULL, mvn_infer, mvn),
    ENTRY("LpNormalization", 1, 1, 1, 1, lpn_attrs, lpnorm_validate, lpnorm_infer, lp_norm),
    {.name = NULL}};
