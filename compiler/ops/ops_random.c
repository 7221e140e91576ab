/*
 * ops_random.c - op table entries of the random ops: RandomUniform,
 * RandomNormal (shape from an attribute), RandomUniformLike,
 * RandomNormalLike, Bernoulli (shape of their input); and the node-level
 * facts that Dropout in training mode shares with them (ops_random.h).
 *
 * The numbers come from the counter-based generator of docs/random.md: a
 * pure function of the node's seed, a step and the element index, so the
 * ops are never constant-folded (OP_NO_FOLD: folding would freeze a tensor
 * that training redraws each step) but need no state.  Each takes one
 * optional trailing int64 scalar input beyond ONNX's arity, the step,
 * which the training pass feeds so that every step draws anew.
 *
 * Output dtypes: float32 or float64 for the Random ops (attribute dtype;
 * for the Like ops the input's dtype by default); Bernoulli reads float32 or
 * float64 probabilities and writes any numeric dtype or bool.
 */
#include "op.h"
#include "ops_random.h"

#include <stdint.h>
#include <string.h>

#include "../backend/emit_random.h"
#include "../../runtime/kernels/interp_random.h"

/* ---- shared facts ------------------------------------------------------------ */

uint64_t ops_random_seed(const ir_node *n) {
  const ir_attr *a = ir_attr_find(n, "seed");
  if (a && a->type == IR_ATTR_INT) return (uint64_t)a->i;
  if (a && a->type == IR_ATTR_FLOAT) {   /* truncated toward zero, saturated (NaN: 0): no UB on a hostile seed */
    double f = a->f;
    if (!(f == f)) return 0;
    if (f >= 9223372036854775807.0) return (uint64_t)INT64_MAX;
    if (f <= -9223372036854775808.0) return (uint64_t)INT64_MIN;
    return (uint64_t)(int64_t)f;
  }
  uint64_t h = 0xcbf29ce484222325u;                                     /* FNV-1a 64 */
  for (const unsigned char *p = (const unsigned char *)(n->name ? n->name : ""); *p; p++) {
    h ^= *p;
    h *= 0x100000001b3u;
  }
  return h;
}

int ops_random_step_index(const ir_node *n) {
  if (!strcmp(n->op_type, "Dropout")) return 3;
  if (!strcmp(n->op_type, "RandomUniform") || !strcmp(n->op_type, "RandomNormal")) return 0;
  return 1;
}

const ir_tensor *ops_random_step(const ir_node *n) {
  int i = ops_random_step_index(n);
  return i < n->n_in ? n->in[i] : NULL;
}

int ops_dropout_trains(const ir_node *n, double *ratio) {
  const ir_tensor *tm = n->n_in > 2 ? n->in[2] : NULL, *r = n->n_in > 1 ? n->in[1] : NULL;
  *ratio = r && r->data ? ir_const_f64(r, 0) : 0.5;
  return tm && tm->data && ir_const_i64(tm, 0) != 0 && *ratio != 0.0;
}

int ops_random_draws(const ir_node *n) {
  double ratio;
  if (!strcmp(n->op_type, "Dropout")) return ops_dropout_trains(n, &ratio);
  for (const op_def *d = ops_random; d->name; d++)
    if (n->op == d) return 1;
  return 0;
}

/* ---- validate and infer ------------------------------------------------------ */

static int check_step(const ir_node *n) {
  const ir_tensor *s = ops_random_step(n);
  if (s && (s->dtype != IR_I64 || (ir_shape_known(s) && ir_numel(s) != 1)))
    return op_fail(n, "input %d ('%s', the step) must be an int64 scalar", ops_random_step_index(n), s->name);
  return 0;
}

/* Output dtype: attribute dtype, else `def`; float32/float64 unless any_ok. */
static int out_dtype(const ir_node *n, ir_dtype def, int any_ok, ir_dtype *dt) {
  const ir_attr *a = ir_attr_find(n, "dtype");
  *dt = a ? ir_dtype_from_onnx((int)a->i) : def;
  if (*dt == IR_F32 || *dt == IR_F64) return 0;
  if (any_ok && *dt != IR_UNDEF && *dt != IR_STRING && *dt != IR_F16 && *dt != IR_BF16) return 0;
  return op_fail(n, "output dtype %s is not supported (float32, float64%s)", a ? ir_dtype_name(*dt) : "?",
                 any_ok ? ", integers, bool" : "");
}

static int validate_random(ir_node *n) {
  if (strstr(n->op_type, "Like") == NULL && strcmp(n->op_type, "Bernoulli") && !ir_attr_find(n, "shape"))
    return op_fail(n, "attribute 'shape' is required");
  if (strstr(n->op_type, "Uniform")) {
    op_default_float(n, "low", 0.0);
    op_default_float(n, "high", 1.0);
  } else if (strstr(n->op_type, "Normal")) {
    op_default_float(n, "mean", 0.0);
    op_default_float(n, "scale", 1.0);
  }
  return 0;
}

static int infer_random(ir_graph *g, ir_node *n) {   /* RandomUniform, RandomNormal */
  const int64_t *shape;
  int rank = ir_attr_ints(n, "shape", &shape);
  ir_dtype dt;
  (void)g;
  if (check_step(n) < 0 || out_dtype(n, IR_F32, 0, &dt) < 0) return -1;
  if (rank < 0 || rank > IR_MAX_RANK) return op_fail(n, "shape must list at most %d extents", IR_MAX_RANK);
  for (int k = 0; k < rank; k++)
    if (shape[k] < 0) return op_fail(n, "shape has the negative extent %lld", (long long)shape[k]);
  op_set_out(n->out[0], dt, rank, shape);
  return 0;
}

static int infer_like(ir_graph *g, ir_node *n) {     /* RandomUniformLike, RandomNormalLike, Bernoulli */
  const ir_tensor *x = n->in[0];
  int bern = !strcmp(n->op_type, "Bernoulli");
  ir_dtype dt;
  (void)g;
  if (check_step(n) < 0) return -1;
  if (bern && op_check_dtype(n, 0, OP_F32_F64) < 0) return -1;
  if (out_dtype(n, x->dtype, bern, &dt) < 0) return -1;
  op_set_out(n->out[0], dt, x->rank, x->shape);
  return 0;
}

/* The Like ops read only their input's shape, and Bernoulli's draw has no
 * derivative in p (PyTorch's is zero too): no contribution to the input. */
static int grad_nothing(struct grad_ctx *gc, const ir_node *n) {
  (void)gc;
  (void)n;
  return 0;
}

/* ---- the table --------------------------------------------------------------- */

static const op_attr_spec a_uniform[] = {{"dtype", IR_ATTR_INT}, {"high", IR_ATTR_FLOAT}, {"low", IR_ATTR_FLOAT},
                                         {"seed", IR_ATTR_FLOAT}, {"shape", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec a_normal[] = {{"dtype", IR_ATTR_INT}, {"mean", IR_ATTR_FLOAT}, {"scale", IR_ATTR_FLOAT},
                                        {"seed", IR_ATTR_FLOAT}, {"shape", IR_ATTR_INTS}, {NULL, 0}};
static const op_attr_spec a_bernoulli[] = {{"dtype", IR_ATTR_INT}, {"seed", IR_ATTR_FLOAT}, {NULL, 0}};

#define R(nm, lo, hi, at, inf, fn)                                                                         \
  {.name = nm, .domain = "", .min_in = lo, .max_in = hi, .min_out = 1, .max_out = 1, .attrs = at,          \
   .flags = OP_NO_FOLD, .validate = validate_random, .infer = inf, .interp = interp_random_##fn, \
   .emit = emit_random_##fn, .grad = grad_nothing}

const op_def ops_random[] = {
    R("RandomUniform", 0, 1, a_uniform, infer_random, uniform),
    R("RandomNormal", 0, 1, a_normal, infer_random, normal),
    R("RandomUniformLike", 1, 2, a_uniform, infer_like, uniform),
    R("RandomNormalLike", 1, 2, a_normal, infer_like, normal),
    R("Bernoulli", 1, 2, a_bernoulli, infer_like, bernoulli),
    {.name = NULL}};
