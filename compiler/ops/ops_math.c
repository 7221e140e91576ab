/*
 * ops_math.c - op table entries of the math group: elementwise math that
 * the elementwise group does not cover (Mod, BitShift, ThresholdedRelu,
 * Shrink, Celu, Mish, IsInf, IsNaN), selection and scans along an axis
 * (Trilu, Hardmax, CumSum, TopK, ReverseSequence), tensors built from
 * shapes (OneHot, EyeLike), Einsum, Det, NonZero and Compress.
 *
 * validate makes attribute defaults explicit.  infer checks dtypes, sets
 * the outputs, and turns what the kernels need from constant inputs or
 * rank-dependent attributes into plain attributes (see ops_math.h), so the
 * interpreter and the emitters never re-derive them.  Values that decide an
 * output's shape (TopK's K, OneHot's depth) and scalars that change the loop
 * structure (Trilu's k, CumSum's axis) must be compile-time constants.
 * NonZero's output shape is its input's nonzero count: it is supported only
 * for a constant input, which then folds.  Compress's is its condition's
 * count of true values: the condition must be a constant.
 */
#include "ops_math.h"
#include "grad_shape.h"
#include "grad_elementwise.h"

#include <math.h>
#include <string.h>

#include "../backend/emit_math.h"
#include "../../runtime/kernels/interp_math.h"

/* Output 0 like input 0 (dtype dt, or input 0's when IR_UNDEF). */
static int same_as_x(const ir_node *n, unsigned mask, ir_dtype dt) {
  if (op_check_dtype(n, 0, mask) < 0) return -1;
  op_set_out(n->out[0], dt ? dt : n->in[0]->dtype, n->in[0]->rank, n->in[0]->shape);
  return 0;
}

/* One integer from constant input i (a scalar or a 1-element tensor). */
static int const_int(const ir_node *n, int i, int64_t *v) {
  int64_t vals[1];
  int cnt;
  if (op_const_ints(n, i, vals, 1, &cnt) < 0) return -1;
  if (cnt != 1) return op_fail(n, "input %d must hold exactly one value", i);
  *v = vals[0];
  return 0;
}

/* ---- elementwise ------------------------------------------------------------ */

static int infer_binary_num(ir_graph *g, ir_node *n, unsigned mask) {
  int r;
  int64_t dims[IR_MAX_RANK];
  (void)g;
  if (op_check_dtype(n, 0, mask) < 0 || op_check_dtype(n, 1, mask) < 0) return -1;
  if (n->in[1]->dtype != n->in[0]->dtype)
    return op_fail(n, "inputs are %s and %s, expected one dtype", ir_dtype_name(n->in[0]->dtype),
                   ir_dtype_name(n->in[1]->dtype));
  if (op_broadcast(n, n->in[0]->rank, n->in[0]->shape, n->in[1]->rank, n->in[1]->shape, &r, dims) < 0)
    return -1;
  op_set_out(n->out[0], n->in[0]->dtype, r, dims);
  return 0;
}

static int validate_mod(ir_node *n) {
  int64_t f = ir_attr_int(n, "fmod", 0);
  if (f != 0 && f != 1) return op_fail(n, "fmod must be 0 or 1, got %lld", (long long)f);
  ir_attr_set_int(n, "fmod", f);
  return 0;
}
static int infer_mod(ir_graph *g, ir_node *n) { return infer_binary_num(g, n, OP_NUM); }

static int validate_bitshift(ir_node *n) {
  const char *d = ir_attr_string(n, "direction", NULL);
  if (!d) return op_fail(n, "attribute 'direction' is required");
  if (strcmp(d, "LEFT") != 0 && strcmp(d, "RIGHT") != 0)
    return op_fail(n, "direction '%s' is not supported (LEFT, RIGHT)", d);
  return 0;
}
static int infer_bitshift(ir_graph *g, ir_node *n) { return infer_binary_num(g, n, OP_UINT); }

static int validate_alpha1(ir_node *n) { op_default_float(n, "alpha", 1.0); return 0; }
static int validate_celu(ir_node *n) {
  op_default_float(n, "alpha", 1.0);
  if (ir_attr_float(n, "alpha", 1.0) == 0.0) return op_fail(n, "alpha must not be 0");
  return 0;
}
static int validate_shrink(ir_node *n) {
  op_default_float(n, "bias", 0.0);
  op_default_float(n, "lambd", 0.5);
  return 0;
}
static int validate_isinf(ir_node *n) {
  op_default_int(n, "detect_negative", 1);
  op_default_int(n, "detect_positive", 1);
  return 0;
}

static int infer_float(ir_graph *g, ir_node *n) { (void)g; return same_as_x(n, OP_FLOAT, IR_UNDEF); }
static int infer_num(ir_graph *g, ir_node *n) { (void)g; return same_as_x(n, OP_NUM, IR_UNDEF); }
static int infer_is(ir_graph *g, ir_node *n) { (void)g; return same_as_x(n, OP_FLOAT, IR_BOOL); }

/* ---- Trilu ------------------------------------------------------------------ */

static int validate_trilu(ir_node *n) {
  int64_t u = ir_attr_int(n, "upper", 1);
  if (u != 0 && u != 1) return op_fail(n, "upper must be 0 or 1, got %lld", (long long)u);
  ir_attr_set_int(n, "upper", u);
  return 0;
}

static int infer_trilu(ir_graph *g, ir_node *n) {
  int64_t k = 0;
  (void)g;
  if (n->in[0]->rank < 2) return op_fail(n, "input must have rank >= 2, got %d", n->in[0]->rank);
  if (n->n_in > 1 && n->in[1] && const_int(n, 1, &k) < 0) return -1;
  ir_attr_set_int(n, "_k", k);
  return same_as_x(n, OP_ANY, IR_UNDEF);
}

/* ---- Hardmax ---------------------------------------------------------------- */

static int validate_hardmax(ir_node *n) {
  op_default_int(n, "axis", n->opset < 13 ? 1 : -1);
  return 0;
}

static int infer_hardmax(ir_graph *g, ir_node *n) {
  int axis;
  (void)g;
  if (op_axis(n, ir_attr_int(n, "axis", -1), n->in[0]->rank, &axis) < 0) return -1;
  ir_attr_set_int(n, "axis", axis);
  return same_as_x(n, OP_FLOAT, IR_UNDEF);
}

/* ---- CumSum ----------------------------------------------------------------- */

static int validate_cumsum(ir_node *n) {
  op_default_int(n, "exclusive", 0);
  op_default_int(n, "reverse", 0);
  return 0;
}

static int infer_cumsum(ir_graph *g, ir_node *n) {
  int64_t a = 0;
  int axis;
  (void)g;
  if (op_check_dtype(n, 1, OP_DT(IR_I32) | OP_DT(IR_I64)) < 0) return -1;
  if (const_int(n, 1, &a) < 0) return -1;
  if (n->in[0]->rank < 1) return op_fail(n, "input must have rank >= 1");
  if (op_axis(n, a, n->in[0]->rank, &axis) < 0) return -1;
  ir_attr_set_int(n, "_axis", axis);
  return same_as_x(n, OP_FLOAT | OP_DT(IR_I32) | OP_DT(IR_I64) | OP_DT(IR_U32) | OP_DT(IR_U64), IR_UNDEF);
}

/* ---- TopK ------------------------------------------------------------------- */

static int validate_topk(ir_node *n) {
  op_default_int(n, "axis", -1);
  op_default_int(n, "largest", 1);
  op_default_int(n, "sorted", 1);
  return 0;
}

static int infer_topk(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t k = 0, dims[IR_MAX_RANK];
  int axis;
  (void)g;
  if (op_check_dtype(n, 0, OP_NUM) < 0) return -1;
  if (n->n_in > 1 && n->in[1]) {
    if (const_int(n, 1, &k) < 0) return -1;
  } else if (ir_attr_find(n, "k")) {   /* opset 1 */
    k = ir_attr_int(n, "k", 0);
  } else {
    return op_fail(n, "K is missing (input 1, or attribute 'k' before opset 10)");
  }
  if (x->rank < 1) return op_fail(n, "input must have rank >= 1");
  if (op_axis(n, ir_attr_int(n, "axis", -1), x->rank, &axis) < 0) return -1;
  if (k < 0 || k > x->shape[axis])
    return op_fail(n, "K=%lld is out of range for axis %d of extent %lld", (long long)k, axis,
                   (long long)x->shape[axis]);
  ir_attr_set_int(n, "axis", axis);
  ir_attr_set_int(n, "_k", k);
  memcpy(dims, x->shape, sizeof dims);
  dims[axis] = k;
  op_set_out(n->out[0], x->dtype, x->rank, dims);
  if (n->n_out > 1 && n->out[1]) op_set_out(n->out[1], IR_I64, x->rank, dims);
  return 0;
}

/* ---- Einsum ----------------------------------------------------------------- */

/* Raw label of a letter: 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51 (ASCII
 * order, which the implicit output form sorts by); ellipsis dim j -> 52+j. */
static int letter(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + c - 'a';
  return -1;
}

int ops_math_einsum(const ir_node *n, ops_einsum *es) {
  const char *eq = ir_attr_string(n, "equation", NULL);
  char s[512];
  size_t len = 0;
  int raw_in[OPS_EINSUM_MAX_IN][IR_MAX_RANK], raw_out[IR_MAX_RANK], count[OPS_EINSUM_MAX_LABELS];
  int64_t rawdim[OPS_EINSUM_MAX_LABELS];
  int ell = 0, out_rank = 0, k = 0;
  memset(es, 0, sizeof *es);
  if (!eq) return op_fail(n, "attribute 'equation' is required");
  for (const char *p = eq; *p; p++)
    if (*p != ' ' && *p != '\t') {
      if (len + 1 >= sizeof s) return op_fail(n, "equation is too long");
      s[len++] = *p;
    }
  s[len] = '\0';
  if (n->n_in > OPS_EINSUM_MAX_IN) return op_fail(n, "at most %d inputs are supported", OPS_EINSUM_MAX_IN);
  es->n_in = n->n_in;
  for (int l = 0; l < OPS_EINSUM_MAX_LABELS; l++) rawdim[l] = -1, count[l] = 0;

  /* 1. the input terms; ellipsis dims are right-aligned across inputs */
  const char *arrow = strstr(s, "->");
  const char *p = s;
  int ell_of[OPS_EINSUM_MAX_IN];
  for (k = 0; k < n->n_in; k++) {
    const ir_tensor *x = n->in[k];
    int explicit_n = 0, has_ell = 0;
    const char *q;
    for (q = p; *q && *q != ',' && q != arrow; q++) {
      if (letter(*q) >= 0) explicit_n++;
      else if (q[0] == '.' && q[1] == '.' && q[2] == '.' && !has_ell) has_ell = 1, q += 2;
      else return op_fail(n, "equation '%s': unexpected '%c'", eq, *q);
    }
    int e = x->rank - explicit_n;
    if (e < 0 || (!has_ell && e != 0))
      return op_fail(n, "equation '%s': term %d names %d axes, input '%s' has rank %d", eq, k, explicit_n,
                     x->name, x->rank);
    ell_of[k] = e;
    if (e > ell) ell = e;
    es->rank[k] = x->rank;
    int a = 0;
    for (q = p; *q && *q != ',' && q != arrow; q++) {
      if (*q == '.') {
        for (int j = 0; j < e; j++) raw_in[k][a++] = -1 - j;   /* ellipsis dim j, fixed below */
        q += 2;
      } else {
        raw_in[k][a++] = letter(*q);
      }
    }
    if (k < n->n_in - 1) {
      if (*q != ',') return op_fail(n, "equation '%s' has fewer terms than the %d inputs", eq, n->n_in);
      p = q + 1;
    } else if (*q == ',') {
      return op_fail(n, "equation '%s' has more terms than the %d inputs", eq, n->n_in);
    }
  }
  for (k = 0; k < n->n_in; k++)
    for (int a = 0; a < es->rank[k]; a++) {
      int r = raw_in[k][a];
      if (r < 0) r = raw_in[k][a] = 52 + (ell - ell_of[k]) + (-1 - r);
      int64_t d = n->in[k]->shape[a];
      if (rawdim[r] < 0 || rawdim[r] == 1) rawdim[r] = d;
      else if (d != rawdim[r] && d != 1)
        return op_fail(n, "equation '%s': a label has extents %lld and %lld", eq, (long long)rawdim[r], (long long)d);
      count[r]++;
    }

  /* 2. the output term: explicit, or ellipsis then once-seen letters sorted */
  if (arrow) {
    int has_ell = 0;
    for (const char *q = arrow + 2; *q; q++) {
      int r;
      if (q[0] == '.' && q[1] == '.' && q[2] == '.' && !has_ell) {
        has_ell = 1;
        q += 2;
        for (int j = 0; j < ell; j++) raw_out[out_rank++] = 52 + j;
        continue;
      }
      r = letter(*q);
      if (r < 0) return op_fail(n, "equation '%s': unexpected '%c' in the output", eq, *q);
      if (!count[r]) return op_fail(n, "equation '%s': output label '%c' is in no input", eq, *q);
      for (int j = 0; j < out_rank; j++)
        if (raw_out[j] == r) return op_fail(n, "equation '%s': output label '%c' repeats", eq, *q);
      if (out_rank >= IR_MAX_RANK) return op_fail(n, "output rank exceeds %d", IR_MAX_RANK);
      raw_out[out_rank++] = r;
    }
  } else {
    for (int j = 0; j < ell; j++) raw_out[out_rank++] = 52 + j;
    for (int r = 0; r < 52; r++)
      if (count[r] == 1) {
        if (out_rank >= IR_MAX_RANK) return op_fail(n, "output rank exceeds %d", IR_MAX_RANK);
        raw_out[out_rank++] = r;
      }
  }

  /* 3. number the loops: output labels, then the summed ones */
  int map[OPS_EINSUM_MAX_LABELS];
  for (int r = 0; r < OPS_EINSUM_MAX_LABELS; r++) map[r] = -1;
  for (int j = 0; j < out_rank; j++) {
    map[raw_out[j]] = j;
    es->dim[j] = rawdim[raw_out[j]];
  }
  es->n_labels = out_rank;
  for (int r = 0; r < OPS_EINSUM_MAX_LABELS; r++)
    if (count[r] && map[r] < 0) {
      map[r] = es->n_labels;
      es->dim[es->n_labels++] = rawdim[r];
    }
  es->out_rank = out_rank;
  for (k = 0; k < n->n_in; k++)
    for (int a = 0; a < es->rank[k]; a++) es->lab[k][a] = map[raw_in[k][a]];
  return 0;
}

static int infer_einsum(ir_graph *g, ir_node *n) {
  ops_einsum es;
  int64_t dims[IR_MAX_RANK];
  (void)g;
  for (int k = 0; k < n->n_in; k++) {
    if (op_check_dtype(n, k, OP_NUM) < 0) return -1;
    if (n->in[k]->dtype != n->in[0]->dtype)
      return op_fail(n, "input %d is %s, input 0 is %s", k, ir_dtype_name(n->in[k]->dtype),
                     ir_dtype_name(n->in[0]->dtype));
  }
  if (ops_math_einsum(n, &es) < 0) return -1;
  for (int j = 0; j < es.out_rank; j++) dims[j] = es.dim[j];
  op_set_out(n->out[0], n->in[0]->dtype, es.out_rank, dims);
  return 0;
}

/* ---- OneHot / EyeLike ------------------------------------------------------- */

static int validate_onehot(ir_node *n) { op_default_int(n, "axis", -1); return 0; }

static int infer_onehot(ir_graph *g, ir_node *n) {
  const ir_tensor *ix = n->in[0], *dp = n->in[1], *v = n->in[2];
  int64_t dims[IR_MAX_RANK];
  int axis;
  (void)g;
  if (op_check_dtype(n, 0, OP_NUM) < 0 || op_check_dtype(n, 1, OP_NUM) < 0 || op_check_dtype(n, 2, OP_ANY) < 0) return -1;
  if (!dp->data) return op_fail(n, "input 1 ('%s', depth) must be a compile-time constant (use --const)", dp->name);
  if (ir_numel(dp) != 1) return op_fail(n, "depth must hold exactly one value");
  if (ir_numel(v) != 2) return op_fail(n, "values must hold two elements [off, on], has %lld", (long long)ir_numel(v));
  double d = ir_const_f64(dp, 0);
  if (!(d >= 1 && d <= 1e12)) return op_fail(n, "depth %g is not a positive count", d);
  int64_t depth = (int64_t)d;   /* a float depth truncates, as numpy's astype */
  if (ix->rank + 1 > IR_MAX_RANK) return op_fail(n, "output rank exceeds %d", IR_MAX_RANK);
  if (op_axis(n, ir_attr_int(n, "axis", -1), ix->rank + 1, &axis) < 0) return -1;
  ir_attr_set_int(n, "axis", axis);
  for (int a = 0, s = 0; a <= ix->rank; a++) dims[a] = a == axis ? depth : ix->shape[s++];
  op_set_out(n->out[0], v->dtype, ix->rank + 1, dims);
  return 0;
}

static int validate_eyelike(ir_node *n) {
  op_default_int(n, "k", 0);
  if (ir_attr_find(n, "dtype")) {
    ir_dtype dt = ir_dtype_from_onnx((int)ir_attr_int(n, "dtype", 0));
    if (dt == IR_UNDEF || dt == IR_STRING)
      return op_fail(n, "dtype %lld is not supported", (long long)ir_attr_int(n, "dtype", 0));
  }
  return 0;
}

static int infer_eyelike(ir_graph *g, ir_node *n) {
  ir_dtype dt = IR_UNDEF;
  (void)g;
  if (n->in[0]->rank != 2) return op_fail(n, "input must have rank 2, got %d", n->in[0]->rank);
  if (ir_attr_find(n, "dtype")) dt = ir_dtype_from_onnx((int)ir_attr_int(n, "dtype", 0));
  return same_as_x(n, OP_ANY, dt);
}

/* ---- ReverseSequence / Det / NonZero ---------------------------------------- */

static int validate_revseq(ir_node *n) {
  op_default_int(n, "batch_axis", 1);
  op_default_int(n, "time_axis", 0);
  return 0;
}

static int infer_revseq(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *sl = n->in[1];
  int64_t b = ir_attr_int(n, "batch_axis", 1), t = ir_attr_int(n, "time_axis", 0);
  (void)g;
  if (x->rank < 2) return op_fail(n, "input must have rank >= 2");
  if (!((b == 0 && t == 1) || (b == 1 && t == 0)))
    return op_fail(n, "batch_axis/time_axis must be 0/1 or 1/0, got %lld/%lld", (long long)b, (long long)t);
  if (op_check_dtype(n, 1, OP_DT(IR_I64)) < 0) return -1;
  if (sl->rank != 1 || sl->shape[0] != x->shape[b])
    return op_fail(n, "sequence_lens must have shape [%lld]", (long long)x->shape[b]);
  return same_as_x(n, OP_ANY, IR_UNDEF);
}

static int infer_det(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  (void)g;
  if (op_check_dtype(n, 0, OP_FLOAT) < 0) return -1;
  if (x->rank < 2 || x->shape[x->rank - 1] != x->shape[x->rank - 2])
    return op_fail(n, "input must be [..., M, M]");
  op_set_out(n->out[0], x->dtype, x->rank - 2, x->shape);
  return 0;
}

static int64_t det_scratch(const ir_node *n) {
  int64_t m = n->in[0]->shape[n->in[0]->rank - 1];
  return m * m * (int64_t)sizeof(double);
}

static int infer_nonzero(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  int64_t dims[2], cnt = 0, total = ir_numel(x);
  (void)g;
  if (op_check_dtype(n, 0, OP_ANY) < 0) return -1;
  if (!x->data)   /* the runner (and --const) make a named input constant on this wording */
    return op_fail(n, "input 0 ('%s') must be a compile-time constant: the output shape depends on its values",
                   x->name);
  for (int64_t i = 0; i < total; i++) cnt += ir_const_f64(x, i) != 0.0;
  dims[0] = x->rank;
  dims[1] = cnt;
  op_set_out(n->out[0], IR_I64, 2, dims);
  return 0;
}

/* ---- Compress --------------------------------------------------------------- */

/* The condition decides the output's extent, so it must be a constant.
 * "_axis" is the normalized axis, or -1 for the flattened input. */
static int infer_compress(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *cd = n->in[1];
  int64_t dims[IR_MAX_RANK], len, cnt = 0;
  int axis = -1;
  (void)g;
  if (op_check_dtype(n, 0, OP_ANY) < 0 || op_check_dtype(n, 1, OP_ANY) < 0) return -1;
  if (cd->rank != 1) return op_fail(n, "condition ('%s') must be 1-D, has rank %d", cd->name, cd->rank);
  if (!cd->data)
    return op_fail(n, "input 1 ('%s') must be a compile-time constant: the output shape depends on its values",
                   cd->name);
  if (ir_attr_find(n, "axis")) {
    if (x->rank < 1) return op_fail(n, "input must have rank >= 1 with an axis");
    if (op_axis(n, ir_attr_int(n, "axis", 0), x->rank, &axis) < 0) return -1;
    len = x->shape[axis];
  } else {
    len = ir_numel(x);
  }
  for (int64_t j = 0; j < cd->shape[0]; j++) {
    if (ir_const_f64(cd, j) == 0.0) continue;
    if (j >= len)
      return op_fail(n, "condition selects index %lld, past the extent %lld", (long long)j, (long long)len);
    cnt++;
  }
  ir_attr_set_int(n, "_axis", axis);
  if (axis < 0) {
    op_set_out(n->out[0], x->dtype, 1, &cnt);
  } else {
    memcpy(dims, x->shape, sizeof dims);
    dims[axis] = cnt;
    op_set_out(n->out[0], x->dtype, x->rank, dims);
  }
  return 0;
}

/* ---- the table -------------------------------------------------------------- */

static const op_attr_spec a_none[] = {{NULL, 0}};
static const op_attr_spec a_mod[] = {{"fmod", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_bitshift[] = {{"direction", IR_ATTR_STRING}, {NULL, 0}};
static const op_attr_spec a_alpha[] = {{"alpha", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec a_shrink[] = {{"bias", IR_ATTR_FLOAT}, {"lambd", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec a_isinf[] = {{"detect_negative", IR_ATTR_INT}, {"detect_positive", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_trilu[] = {{"upper", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_axis[] = {{"axis", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_cumsum[] = {{"exclusive", IR_ATTR_INT}, {"reverse", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_topk[] = {
  {"axis", IR_ATTR_INT}, {"largest", IR_ATTR_INT}, {"sorted", IR_ATTR_INT}, {"k", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_einsum[] = {{"equation", IR_ATTR_STRING}, {NULL, 0}};
static const op_attr_spec a_eyelike[] = {{"dtype", IR_ATTR_INT}, {"k", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec a_revseq[] = {{"batch_axis", IR_ATTR_INT}, {"time_axis", IR_ATTR_INT}, {NULL, 0}};

#define EW OP_ELEMENTWISE
#define OP(nm, lo, hi, ohi, at, fl, val, inf) \
  {.name = #nm, .domain = "", .min_in = lo, .max_in = hi, .min_out = 1, .max_out = ohi, .attrs = at, \
   .flags = fl, .validate = val, .infer = inf, .interp = interp_math_##nm, .emit = emit_math_##nm}

/* The same, with a gradient builder (grad_shape.c, grad_elementwise.c). */
#define OPG(nm, lo, hi, ohi, at, fl, val, inf) \
  {.name = #nm, .domain = "", .min_in = lo, .max_in = hi, .min_out = 1, .max_out = ohi, .attrs = at, \
   .flags = fl, .validate = val, .infer = inf, .interp = interp_math_##nm, .emit = emit_math_##nm, .grad = grad_##nm}

const op_def ops_math[] = {
  OP(Mod, 2, 2, 1, a_mod, EW, validate_mod, infer_mod),
  OP(BitShift, 2, 2, 1, a_bitshift, EW, validate_bitshift, infer_bitshift),
  OPG(ThresholdedRelu, 1, 1, 1, a_alpha, EW, validate_alpha1, infer_float),
  OPG(Shrink, 1, 1, 1, a_shrink, EW, validate_shrink, infer_num),
  OPG(Celu, 1, 1, 1, a_alpha, EW, validate_celu, infer_float),
  OPG(Mish, 1, 1, 1, a_none, EW, NULL, infer_float),
  OP(IsInf, 1, 1, 1, a_isinf, EW, validate_isinf, infer_is),
  OP(IsNaN, 1, 1, 1, a_none, EW, NULL, infer_is),
  OPG(Trilu, 1, 2, 1, a_trilu, 0, validate_trilu, infer_trilu),
  OP(Hardmax, 1, 1, 1, a_axis, 0, validate_hardmax, infer_hardmax),
  OPG(CumSum, 2, 2, 1, a_cumsum, 0, validate_cumsum, infer_cumsum),
  OP(TopK, 1, 2, 2, a_topk, 0, validate_topk, infer_topk),
  OP(Einsum, 1, -1, 1, a_einsum, 0, NULL, infer_einsum),
  OP(OneHot, 3, 3, 1, a_axis, 0, validate_onehot, infer_onehot),
  OP(EyeLike, 1, 1, 1, a_eyelike, 0, validate_eyelike, infer_eyelike),
  OP(ReverseSequence, 2, 2, 1, a_revseq, 0, validate_revseq, infer_revseq),
  {.name = "Det", .domain = "", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .attrs = a_none,
   .infer = infer_det, .interp = interp_math_Det, .emit = emit_math_Det, .scratch_bytes = det_scratch},
  OP(NonZero, 1, 1, 1, a_none, 0, NULL, infer_nonzero),
  OP(Compress, 2, 2, 1, a_axis, 0, NULL, infer_compress),
  {.name = NULL}
};
