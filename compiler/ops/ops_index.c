/*
 * ops_index.c - op table entries of the index group: element-wise gathers
 * and scatters along one axis (GatherElements, ScatterElements and its
 * deprecated alias Scatter), the N-d tuple forms (GatherND, ScatterND) and
 * the two classification losses built on an index lookup
 * (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).
 *
 * Conventions:
 *  - Indices are int32 or int64; a negative index counts from the end of
 *    its axis (not for loss targets, which must lie in [0, C) unless they
 *    equal ignore_index).  Indices known at compile time are range-checked
 *    here; runtime indices are checked by the interpreter, and the emitted
 *    code documents them as a precondition (a node function cannot fail).
 *  - Gathers and plain scatters move ir_dtype_size bytes, so any dtype
 *    works; scatter reductions (add, mul, max, min) need a numeric dtype
 *    that C computes on directly (not float16/bfloat16/bool); the losses
 *    take float32/float64.
 *  - validate makes every default explicit (axis 0, batch_dims 0,
 *    reduction "none" for scatters and "mean" for losses) so the kernels read
 *    plain attributes.  ignore_index stays absent when the model has none.
 */
#include "op.h"
#include "grad_nn.h"
#include "grad_shape.h"

#include <string.h>

#include "../../runtime/kernels/interp_index.h"
#include "../backend/emit_index.h"

#define MAXR IR_MAX_RANK

static int need_shape(const ir_node *n, const ir_tensor *t)
{
  if (!t || !ir_shape_known(t)) return op_fail(n, "input '%s' has an unknown shape", t ? t->name : "?");
  return 0;
}

static int need_index_dtype(const ir_node *n, const ir_tensor *t, const char *what)
{
  if (t->dtype != IR_I32 && t->dtype != IR_I64)
    return op_fail(n, "%s ('%s') are %s, expected int32 or int64", what, t->name, ir_dtype_name(t->dtype));
  return 0;
}

static int need_loss_dtype(const ir_node *n, const ir_tensor *t)
{
  if (t->dtype != IR_F32 && t->dtype != IR_F64)
    return op_fail(n, "input '%s' is %s; this op supports float32 and float64", t->name, ir_dtype_name(t->dtype));
  return 0;
}

/* Constant index element i must lie in [-dim, dim). */
static int check_const_index(const ir_node *n, const ir_tensor *ix, int64_t i, int64_t dim, int axis)
{
  int64_t v = ir_const_i64(ix, i);
  if (v < -dim || v >= dim)
    return op_fail(n, "index %lld (element %lld of '%s') is out of range for axis %d of extent %lld", (long long)v,
                   (long long)i, ix->name, axis, (long long)dim);
  return 0;
}

static int default_string(ir_node *n, const char *name, const char *def, const char *const *allowed)
{
  const char *s;
  int k;
  if (!ir_attr_find(n, name)) ir_attr_set_string(n, name, def);
  s = ir_attr_string(n, name, def);
  for (k = 0; allowed[k]; k++)
    if (strcmp(s, allowed[k]) == 0) return 0;
  return op_fail(n, "%s '%s' is not supported", name, s);
}

static const char *const scatter_reductions[] = {"none", "add", "mul", "max", "min", NULL};
static const char *const loss_reductions[] = {"none", "sum", "mean", NULL};

/* ---- validate --------------------------------------------------------------- */

static int validate_axis(ir_node *n)
{
  if (!ir_attr_find(n, "axis")) ir_attr_set_int(n, "axis", 0);
  return 0;
}

static int validate_scatter_elements(ir_node *n)
{
  validate_axis(n);
  if (strcmp(n->op_type, "Scatter") == 0) return 0;    /* the deprecated alias has no reduction */
  return default_string(n, "reduction", "none", scatter_reductions);
}

static int validate_gather_nd(ir_node *n)
{
  if (!ir_attr_find(n, "batch_dims")) ir_attr_set_int(n, "batch_dims", 0);
  if (ir_attr_int(n, "batch_dims", 0) < 0)
    return op_fail(n, "batch_dims %lld is negative", (long long)ir_attr_int(n, "batch_dims", 0));
  return 0;
}

static int validate_scatter_nd(ir_node *n) { return default_string(n, "reduction", "none", scatter_reductions); }

static int validate_loss(ir_node *n) { return default_string(n, "reduction", "mean", loss_reductions); }

/* ---- GatherElements / ScatterElements --------------------------------------- */

/* Shared checks: indices (input 1) of data's rank, no larger than data off
 * the axis, constant ones in range.  *axis receives the normalized axis. */
static int check_elements(const ir_node *n, int *axis)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int k;
  if (need_shape(n, x) || need_shape(n, ix) || need_index_dtype(n, ix, "indices")) return -1;
  if (x->rank < 1) return op_fail(n, "data must have rank >= 1");
  if (ix->rank != x->rank)
    return op_fail(n, "indices have rank %d but data has rank %d", ix->rank, x->rank);
  if (op_axis(n, ir_attr_int(n, "axis", 0), x->rank, axis)) return -1;
  for (k = 0; k < x->rank; k++)
    if (k != *axis && ix->shape[k] > x->shape[k])
      return op_fail(n, "indices dimension %d is %lld, larger than data's %lld", k, (long long)ix->shape[k],
                     (long long)x->shape[k]);
  if (ix->data) {
    int64_t i, m = ir_numel(ix);
    for (i = 0; i < m; i++)
      if (check_const_index(n, ix, i, x->shape[*axis], *axis)) return -1;
  }
  return 0;
}

/* A reduction other than "none" needs arithmetic on the dtype. */
static int check_reduction_dtype(const ir_node *n, ir_dtype dt)
{
  const char *r = ir_attr_string(n, "reduction", "none");
  if (strcmp(r, "none") == 0) return 0;
  if (dt == IR_F16 || dt == IR_BF16 || dt == IR_BOOL || dt == IR_UNDEF || dt == IR_STRING)
    return op_fail(n, "reduction '%s' on %s data is not supported", r, ir_dtype_name(dt));
  return 0;
}

static int infer_gather_elements(ir_graph *g, ir_node *n)
{
  int axis;
  (void)g;
  if (check_elements(n, &axis)) return -1;
  op_set_out(n->out[0], n->in[0]->dtype, n->in[1]->rank, n->in[1]->shape);
  return 0;
}

static int infer_scatter_elements(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1], *u = n->in[2];
  int axis;
  (void)g;
  if (check_elements(n, &axis) || need_shape(n, u)) return -1;
  if (!ir_same_shape(u, ix)) return op_fail(n, "updates '%s' must have the shape of indices '%s'", u->name, ix->name);
  if (u->dtype != x->dtype)
    return op_fail(n, "updates are %s but data is %s", ir_dtype_name(u->dtype), ir_dtype_name(x->dtype));
  if (check_reduction_dtype(n, x->dtype)) return -1;
  op_set_out(n->out[0], x->dtype, x->rank, x->shape);
  return 0;
}

/* ---- GatherND / ScatterND --------------------------------------------------- */

/* Index tuple length k = last dim of indices, addressing data axes
 * [b, b+k); constant tuples are range-checked per component. */
static int check_nd(const ir_node *n, int b, int64_t *k_out)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t k;
  int j;
  if (need_shape(n, x) || need_shape(n, ix) || need_index_dtype(n, ix, "indices")) return -1;
  if (x->rank < 1 || ix->rank < 1) return op_fail(n, "data and indices must have rank >= 1");
  if (b >= x->rank || b >= ix->rank)
    return op_fail(n, "batch_dims %d must be less than the ranks of data (%d) and indices (%d)", b, x->rank, ix->rank);
  for (j = 0; j < b; j++)
    if (x->shape[j] != ix->shape[j])
      return op_fail(n, "batch dimension %d differs: data %lld, indices %lld", j, (long long)x->shape[j],
                     (long long)ix->shape[j]);
  k = ix->shape[ix->rank - 1];
  if (k < 1 || k > x->rank - b)
    return op_fail(n, "index tuples have length %lld; expected 1 to %d", (long long)k, x->rank - b);
  if (ix->data) {
    int64_t i, m = ir_numel(ix);
    for (i = 0; i < m; i++)
      if (check_const_index(n, ix, i, x->shape[b + i % k], b + (int)(i % k))) return -1;
  }
  *k_out = k;
  return 0;
}

static int infer_gather_nd(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int64_t d[MAXR], k = 0;
  int b = (int)ir_attr_int(n, "batch_dims", 0), r = 0, j;
  (void)g;
  if (check_nd(n, b, &k)) return -1;
  if (ix->rank - 1 + x->rank - b - (int)k > MAXR) return op_fail(n, "output rank exceeds %d", MAXR);
  for (j = 0; j < ix->rank - 1; j++) d[r++] = ix->shape[j];
  for (j = b + (int)k; j < x->rank; j++) d[r++] = x->shape[j];
  op_set_out(n->out[0], x->dtype, r, d);
  return 0;
}

static int infer_scatter_nd(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1], *u = n->in[2];
  int64_t d[2 * MAXR], k = 0;
  int r = 0, j;
  (void)g;
  if (check_nd(n, 0, &k) || need_shape(n, u)) return -1;
  for (j = 0; j < ix->rank - 1; j++) d[r++] = ix->shape[j];
  for (j = (int)k; j < x->rank; j++) d[r++] = x->shape[j];
  if (u->rank != r) return op_fail(n, "updates have rank %d, expected %d", u->rank, r);
  for (j = 0; j < r; j++)
    if (u->shape[j] != d[j])
      return op_fail(n, "updates dimension %d is %lld, expected %lld", j, (long long)u->shape[j], (long long)d[j]);
  if (u->dtype != x->dtype)
    return op_fail(n, "updates are %s but data is %s", ir_dtype_name(u->dtype), ir_dtype_name(x->dtype));
  if (check_reduction_dtype(n, x->dtype)) return -1;
  op_set_out(n->out[0], x->dtype, x->rank, x->shape);
  return 0;
}

/* ---- losses ----------------------------------------------------------------- */

/* input (N, C, d1..dk), target (N, d1..dk), optional weight (C). */
static int infer_loss(ir_graph *g, ir_node *n)
{
  const ir_tensor *x = n->in[0], *t = n->in[1], *w = n->n_in > 2 ? n->in[2] : NULL;
  int k, has_ii = ir_attr_find(n, "ignore_index") != NULL;
  int64_t ii = ir_attr_int(n, "ignore_index", 0), c;
  (void)g;
  if (need_shape(n, x) || need_shape(n, t) || need_loss_dtype(n, x) || need_index_dtype(n, t, "targets"))
    return -1;
  if (x->rank < 2) return op_fail(n, "input must have rank >= 2 (N, C, ...), got %d", x->rank);
  if (t->rank != x->rank - 1) return op_fail(n, "target has rank %d, expected %d", t->rank, x->rank - 1);
  for (k = 0; k < t->rank; k++)
    if (t->shape[k] != x->shape[k ? k + 1 : 0])
      return op_fail(n, "target dimension %d is %lld, expected %lld", k, (long long)t->shape[k],
                     (long long)x->shape[k ? k + 1 : 0]);
  c = x->shape[1];
  if (w) {
    if (need_shape(n, w)) return -1;
    if (w->dtype != x->dtype) return op_fail(n, "weight is %s but input is %s", ir_dtype_name(w->dtype), ir_dtype_name(x->dtype));
    if (w->rank != 1 || w->shape[0] != c) return op_fail(n, "weight must have shape [%lld]", (long long)c);
  }
  if (t->data) {
    int64_t i, m = ir_numel(t);
    for (i = 0; i < m; i++) {
      int64_t v = ir_const_i64(t, i);
      if ((!has_ii || v != ii) && (v < 0 || v >= c))
        return op_fail(n, "target %lld (element %lld) is outside [0, %lld)", (long long)v, (long long)i, (long long)c);
    }
  }
  if (strcmp(ir_attr_string(n, "reduction", "mean"), "none") == 0) op_set_out(n->out[0], x->dtype, t->rank, t->shape);
  else op_set_out(n->out[0], x->dtype, 0, NULL);
  if (n->n_out > 1 && n->out[1]) op_set_out(n->out[1], x->dtype, x->rank, x->shape);
  return 0;
}

/* ---- the table -------------------------------------------------------------- */

static const op_attr_spec axis_attrs[] = {{"axis", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec scatter_attrs[] = {{"axis", IR_ATTR_INT}, {"reduction", IR_ATTR_STRING}, {NULL, 0}};
static const op_attr_spec gather_nd_attrs[] = {{"batch_dims", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec scatter_nd_attrs[] = {{"reduction", IR_ATTR_STRING}, {NULL, 0}};
static const op_attr_spec loss_attrs[] = {{"ignore_index", IR_ATTR_INT}, {"reduction", IR_ATTR_STRING}, {NULL, 0}};

const op_def ops_index[] = {
  {.name = "GatherElements", .domain = "", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
   .attrs = axis_attrs, .validate = validate_axis, .infer = infer_gather_elements,
   .interp = interp_index_gather_elements, .emit = emit_index_gather_elements, .grad = grad_GatherElements},
  {.name = "ScatterElements", .domain = "", .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
   .attrs = scatter_attrs, .validate = validate_scatter_elements, .infer = infer_scatter_elements,
   .interp = interp_index_scatter_elements, .emit = emit_index_scatter_elements},
  {.name = "Scatter", .domain = "", .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
   .attrs = axis_attrs, .validate = validate_scatter_elements, .infer = infer_scatter_elements,
   .interp = interp_index_scatter_elements, .emit = emit_index_scatter_elements},
  {.name = "GatherND", .domain = "", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
   .attrs = gather_nd_attrs, .validate = validate_gather_nd, .infer = infer_gather_nd,
   .interp = interp_index_gather_nd, .emit = emit_index_gather_nd, .grad = grad_GatherND},
  {.name = "ScatterND", .domain = "", .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
   .attrs = scatter_nd_attrs, .validate = validate_scatter_nd, .infer = infer_scatter_nd,
   .interp = interp_index_scatter_nd, .emit = emit_index_scatter_nd},
  {.name = "NegativeLogLikelihoodLoss", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
   .attrs = loss_attrs, .validate = validate_loss, .infer = infer_loss,
   .interp = interp_index_nll_loss, .emit = emit_index_nll_loss, .grad = grad_NegativeLogLikelihoodLoss},
  {.name = "SoftmaxCrossEntropyLoss", .domain = "", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 2,
   .attrs = loss_attrs, .validate = validate_loss, .infer = infer_loss,
   .interp = interp_index_sce_loss, .emit = emit_index_sce_loss, .grad = grad_SoftmaxCrossEntropyLoss},
  {.name = NULL}
};
