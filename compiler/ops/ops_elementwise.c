/*
 * ops_elementwise.c - op table entries of the elementwise group:
 * broadcasting arithmetic (Add..Mean, variadic Max/Min/Sum/Mean),
 * activations, unary math, Identity/Dropout, Cast, comparisons and logic,
 * Where, Softmax/LogSoftmax.
 *
 * Each entry's infer checks the input dtypes against what the op accepts
 * (a dtype class of op.h per op) and broadcasts the input shapes with
 * op_broadcast.  validate makes attribute defaults explicit so that later
 * stages (fusion reading a LeakyRelu's alpha, the emitters) read plain
 * attributes; Softmax's default axis depends on the node's opset (1 before
 * opset 13, -1 from 13 on) and is fixed here too.  Clip's min/max arrive as
 * optional inputs (the frontend moves the old attributes there).
 */
#include "op.h"
#include "grad_elementwise.h"
#include "grad_nn.h"

#include <string.h>

#include "../backend/emit_elementwise.h"
#include "../../runtime/kernels/interp_elementwise.h"

/* Inputs [from, to) present must have input `from`'s dtype. */
static int check_same(const ir_node *n, int from, int to) {
  for (int i = from + 1; i < to && i < n->n_in; i++)
    if (op_same_dtype(n, from, i) < 0) return -1;
  return 0;
}

/* Output 0 gets dtype dt and the broadcast of inputs [from, to). */
static int set_broadcast(const ir_node *n, int from, int to, ir_dtype dt) {
  int r = 0;
  int64_t dims[IR_MAX_RANK] = {0};
  for (int i = from; i < to && i < n->n_in; i++) {
    if (!n->in[i]) continue;
    int64_t prev[IR_MAX_RANK];   /* op_broadcast must not read what it writes */
    memcpy(prev, dims, sizeof prev);
    if (op_broadcast(n, r, prev, n->in[i]->rank, n->in[i]->shape, &r, dims) < 0) return -1;
  }
  op_set_out(n->out[0], dt, r, dims);
  return 0;
}

static int infer_class(const ir_node *n, unsigned mask, ir_dtype out_dt) {
  for (int i = 0; i < n->n_in; i++)
    if (op_check_dtype(n, i, mask) < 0) return -1;
  if (check_same(n, 0, n->n_in) < 0) return -1;
  return set_broadcast(n, 0, n->n_in, out_dt ? out_dt : n->in[0]->dtype);
}

/* ---- infer ------------------------------------------------------------------ */

static int infer_num(ir_graph *g, ir_node *n) { (void)g; return infer_class(n, OP_NUM, IR_UNDEF); }
static int infer_float(ir_graph *g, ir_node *n) { (void)g; return infer_class(n, OP_FLOAT, IR_UNDEF); }
static int infer_signed(ir_graph *g, ir_node *n) {   /* Relu, Abs, Neg */
  (void)g;
  return infer_class(n, OP_FLOAT | OP_SINT | (strcmp(n->op_type, "Neg") ? OP_INT : 0), IR_UNDEF);
}
static int infer_compare(ir_graph *g, ir_node *n) {
  (void)g;
  return infer_class(n, strcmp(n->op_type, "Equal") == 0 ? OP_ANY : OP_NUM, IR_BOOL);
}
static int infer_logic(ir_graph *g, ir_node *n) { (void)g; return infer_class(n, OP_BOOL, IR_BOOL); }

static int infer_pow(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_FLOAT | OP_DT(IR_I32) | OP_DT(IR_I64)) < 0 || op_check_dtype(n, 1, OP_NUM) < 0) return -1;
  return set_broadcast(n, 0, 2, n->in[0]->dtype);
}

static int infer_clip(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_NUM) < 0 || check_same(n, 0, 3) < 0) return -1;
  for (int i = 1; i < n->n_in && i < 3; i++)
    if (n->in[i] && ir_numel(n->in[i]) != 1)
      return op_fail(n, "bound input %d ('%s') must be a scalar", i, n->in[i]->name);
  return set_broadcast(n, 0, 1, n->in[0]->dtype);
}

static int infer_same(ir_graph *g, ir_node *n) {     /* Identity, Dropout */
  (void)g;
  if (op_check_dtype(n, 0, OP_ANY) < 0) return -1;
  if (set_broadcast(n, 0, 1, n->in[0]->dtype) < 0) return -1;
  if (n->n_out > 1 && n->out[1]) {
    n->out[1]->dtype = IR_BOOL;
    ir_set_shape(n->out[1], n->in[0]->rank, n->in[0]->shape);
  }
  return 0;
}

static int infer_cast(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_ANY) < 0) return -1;
  return set_broadcast(n, 0, 1, ir_dtype_from_onnx((int)ir_attr_int(n, "to", 0)));
}

static int infer_cast_like(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_ANY) < 0 || op_check_dtype(n, 1, OP_ANY) < 0) return -1;
  return set_broadcast(n, 0, 1, n->in[1]->dtype);
}

/* PRelu: slope broadcasts to x (unidirectionally).  Before opset 7 a 1-D
 * slope of length C applies along axis 1 (per channel): it is replaced by a
 * constant copy of shape [C,1,...,1] so that numpy broadcasting holds. */
static int infer_prelu(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0], *s = n->in[1];
  if (n->opset < 7 && s->rank == 1 && x->rank > 2 && s->shape[0] == x->shape[1] && s->shape[0] != 1) {
    if (!s->data) return op_fail(n, "a per-channel slope (opset %d) must be a compile-time constant", n->opset);
    int64_t dims[IR_MAX_RANK];
    for (int d = 0; d < x->rank - 1; d++) dims[d] = d == 0 ? s->shape[0] : 1;
    ir_tensor *c = ir_add_tensor_unique(g, s->name, s->dtype, IR_CONST);
    ir_set_shape(c, x->rank - 1, dims);
    ir_tensor_set_data(c, s->data, (size_t)ir_nbytes(s));
    n->in[1] = c;
  }
  if (infer_class(n, OP_FLOAT | OP_DT(IR_I32) | OP_DT(IR_I64), IR_UNDEF) < 0) return -1;
  if (!ir_same_shape(n->out[0], n->in[0]))
    return op_fail(n, "slope does not broadcast to the shape of X");
  return 0;
}

static int infer_where(ir_graph *g, ir_node *n) {
  (void)g;
  if (op_check_dtype(n, 0, OP_BOOL) < 0 || op_check_dtype(n, 1, OP_ANY) < 0 || check_same(n, 1, 3) < 0)
    return -1;
  return set_broadcast(n, 0, 3, n->in[1]->dtype);
}

static int infer_softmax(ir_graph *g, ir_node *n) {
  (void)g;
  int axis;
  if (op_check_dtype(n, 0, OP_FLOAT) < 0) return -1;
  if (op_axis(n, ir_attr_int(n, "axis", -1), n->in[0]->rank, &axis) < 0) return -1;
  return set_broadcast(n, 0, 1, n->in[0]->dtype);
}

/* ---- validate --------------------------------------------------------------- */

static int validate_leaky(ir_node *n) { op_default_float(n, "alpha", 0.01); return 0; }
static int validate_elu(ir_node *n) { op_default_float(n, "alpha", 1.0); return 0; }
static int validate_hard_sigmoid(ir_node *n) {
  op_default_float(n, "alpha", 0.2);
  op_default_float(n, "beta", 0.5);
  return 0;
}
static int validate_selu(ir_node *n) {
  op_default_float(n, "alpha", 1.67326319217681884765625);
  op_default_float(n, "gamma", 1.05070102214813232421875);
  return 0;
}

static int validate_softmax(ir_node *n) {
  if (!ir_attr_find(n, "axis")) ir_attr_set_int(n, "axis", n->opset < 13 ? 1 : -1);
  return 0;
}

static int validate_cast(ir_node *n) {
  if (!ir_attr_find(n, "to")) return op_fail(n, "attribute 'to' is required");
  int64_t to = ir_attr_int(n, "to", 0);
  ir_dtype dt = ir_dtype_from_onnx((int)to);
  if (dt == IR_UNDEF || dt == IR_STRING)
    return op_fail(n, "cast to ONNX type %lld is not supported", (long long)to);
  return 0;
}

static int validate_dropout(ir_node *n) {
  /* opset < 7 had is_test; 12+ has training_mode as input 2.  Training
   * mode draws its mask from the generator of docs/random.md; the ratio
   * must then be a constant in [0, 1), and input 3 (modelc's extension,
   * ops_random.h) is the optional step. */
  if (ir_attr_find(n, "is_test") && ir_attr_int(n, "is_test", 1) == 0)
    return op_fail(n, "training mode (is_test=0) is not supported, only inference");
  const ir_tensor *tm = n->n_in > 2 ? n->in[2] : NULL, *r = n->n_in > 1 ? n->in[1] : NULL;
  const ir_tensor *step = n->n_in > 3 ? n->in[3] : NULL;
  if (step && !tm) return op_fail(n, "a step input without training_mode");
  if (tm) {
    if (!tm->data)
      return op_fail(n, "input 2 ('%s') must be a compile-time constant (training_mode)", tm->name);
    if (ir_numel(tm) != 1) return op_fail(n, "training_mode must hold one value");
    if (ir_const_i64(tm, 0) != 0) {
      if (r && !r->data)
        return op_fail(n, "input 1 ('%s') must be a compile-time constant (ratio, in training mode)", r->name);
      if (r && ir_numel(r) != 1) return op_fail(n, "ratio must hold one value");
      double ratio = r ? ir_const_f64(r, 0) : 0.5;
      if (!(ratio >= 0.0 && ratio < 1.0)) return op_fail(n, "ratio %g is outside [0, 1)", ratio);
    }
  }
  if (step && (step->dtype != IR_I64 || (ir_shape_known(step) && ir_numel(step) != 1)))
    return op_fail(n, "input 3 ('%s', the step) must be an int64 scalar", step->name);
  return 0;
}

/* ---- the table -------------------------------------------------------------- */

static const op_attr_spec none[] = {{NULL, 0}};
static const op_attr_spec alpha[] = {{"alpha", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec alpha_beta[] = {{"alpha", IR_ATTR_FLOAT}, {"beta", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec selu[] = {{"alpha", IR_ATTR_FLOAT}, {"gamma", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec axis[] = {{"axis", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec cast[] = {{"to", IR_ATTR_INT}, {"saturate", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec dropout[] = {
  {"ratio", IR_ATTR_FLOAT}, {"seed", IR_ATTR_INT}, {"is_test", IR_ATTR_INT}, {NULL, 0}};

#define EW OP_ELEMENTWISE
#define EWE (OP_ELEMENTWISE | OP_EPILOGUE)   /* float maps: the interpreter and the C apply a fused epilogue */
#define E(name, min_in, max_in, max_out, attrs, flags, validate, infer) \
  {#name, "", min_in, max_in, 1, max_out, attrs, flags, validate, infer, \
   interp_ew_##name, emit_ew_##name, NULL, NULL, NULL}
/* The same, with a gradient builder (grad_elementwise.c, grad_nn.c). */
#define EG(name, min_in, max_in, max_out, attrs, flags, validate, infer) \
  {#name, "", min_in, max_in, 1, max_out, attrs, flags, validate, infer, \
   interp_ew_##name, emit_ew_##name, NULL, grad_##name, NULL}

const op_def ops_elementwise[] = {
  EG(Add, 2, 2, 1, none, EWE, NULL, infer_num),
  EG(Sub, 2, 2, 1, none, EWE, NULL, infer_num),
  EG(Mul, 2, 2, 1, none, EWE, NULL, infer_num),
  EG(Div, 2, 2, 1, none, EWE, NULL, infer_num),
  EG(Pow, 2, 2, 1, none, EWE, NULL, infer_pow),
  EG(Max, 1, -1, 1, none, EWE, NULL, infer_num),
  EG(Min, 1, -1, 1, none, EWE, NULL, infer_num),
  EG(Sum, 1, -1, 1, none, EWE, NULL, infer_float),
  EG(Mean, 1, -1, 1, none, EWE, NULL, infer_float),

  EG(Relu, 1, 1, 1, none, EWE, NULL, infer_signed),
  EG(LeakyRelu, 1, 1, 1, alpha, EWE, validate_leaky, infer_float),
  EG(Sigmoid, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Tanh, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(HardSigmoid, 1, 1, 1, alpha_beta, EWE, validate_hard_sigmoid, infer_float),
  EG(HardSwish, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Elu, 1, 1, 1, alpha, EWE, validate_elu, infer_float),
  EG(Selu, 1, 1, 1, selu, EWE, validate_selu, infer_float),
  EG(Softplus, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Softsign, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Clip, 1, 3, 1, none, EWE, NULL, infer_clip),

  EG(Sqrt, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Exp, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Log, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Erf, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Abs, 1, 1, 1, none, EWE, NULL, infer_signed),
  EG(Neg, 1, 1, 1, none, EWE, NULL, infer_signed),
  EG(Reciprocal, 1, 1, 1, none, EWE, NULL, infer_float),
  E(Floor, 1, 1, 1, none, EWE, NULL, infer_float),
  E(Ceil, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Sin, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Cos, 1, 1, 1, none, EWE, NULL, infer_float),

  EG(Identity, 1, 1, 1, none, EW | OP_ALIAS, NULL, infer_same),
  EG(Dropout, 1, 4, 2, dropout, EW, validate_dropout, infer_same),
  EG(Cast, 1, 1, 1, cast, EW, validate_cast, infer_cast),

  E(Equal, 2, 2, 1, none, EW, NULL, infer_compare),
  E(Less, 2, 2, 1, none, EW, NULL, infer_compare),
  E(Greater, 2, 2, 1, none, EW, NULL, infer_compare),
  E(LessOrEqual, 2, 2, 1, none, EW, NULL, infer_compare),
  E(GreaterOrEqual, 2, 2, 1, none, EW, NULL, infer_compare),
  E(Not, 1, 1, 1, none, EW, NULL, infer_logic),
  E(And, 2, 2, 1, none, EW, NULL, infer_logic),
  E(Or, 2, 2, 1, none, EW, NULL, infer_logic),
  E(Xor, 2, 2, 1, none, EW, NULL, infer_logic),
  EG(Where, 3, 3, 1, none, EW, NULL, infer_where),

  EG(Tan, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Asin, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Acos, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Atan, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Sinh, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Cosh, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Asinh, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Acosh, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(Atanh, 1, 1, 1, none, EWE, NULL, infer_float),
  E(Sign, 1, 1, 1, none, EWE, NULL, infer_float),
  E(Round, 1, 1, 1, none, EWE, NULL, infer_float),
  EG(PRelu, 2, 2, 1, none, EWE, NULL, infer_prelu),
  E(CastLike, 2, 2, 1, cast, EW, NULL, infer_cast_like),

  EG(Softmax, 1, 1, 1, axis, 0, validate_softmax, infer_softmax),
  EG(LogSoftmax, 1, 1, 1, axis, 0, validate_softmax, infer_softmax),
  {NULL, NULL, 0, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL}
};
