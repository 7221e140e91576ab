/*
 * ops_train.c - the optimizer ops of ai.onnx.preview.training: Adagrad,
 * Adam and Momentum.  Each takes a learning rate R and an update count T
 * (scalars), then k groups of tensors laid out group by group:
 *     Adagrad   R T X1..Xk G1..Gk H1..Hk           -> X1_new..Xk_new H1_new..Hk_new
 *     Adam      R T X1..Xk G1..Gk V1..Vk H1..Hk    -> X*_new V*_new H*_new
 *     Momentum  R T X1..Xk G1..Gk V1..Vk           -> X*_new V*_new
 * so input 2 + g*k + i is group g of tensor i, and output g*k + i its
 * update.  The update of one element depends on that element alone, so the
 * state tensors must have their X's shape (the specs speak of broadcasting,
 * but every tensor of a group describes the same variable).
 *
 * validate makes every attribute explicit (Momentum's have no defaults and
 * are required) and stores the group count as "_k"; infer checks dtypes
 * (R and X float32/float64, T int64) and shapes.  The kernels read R and T
 * at run time, so these ops never need compile-time constants.
 *
 * The train pass (passes/train.c) needs PyTorch's rules, which these do not
 * all follow (ONNX's Adam adds eps to sqrt(v) before bias correction and
 * applies its post-decay after the step), so the modelc domain "ai.modelc"
 * adds one entry per PyTorch optimizer, updating one parameter tensor each,
 * hyper-parameters as attributes (compile-time constants):
 *     SGD    X G [B]        -> X_new [B_new]     torch.optim.SGD, dampening 0
 *     AdamW  X G M V T      -> X_new M_new V_new torch.optim.Adam (decoupled 0)
 *                                                 or AdamW (decoupled 1)
 * SGD has the momentum buffer B exactly when momentum != 0.  With "_outer"
 * (pass_fuse, a weight gradient at batch 1) G is not given whole: X is
 * [M, N], input 1 holds M values u and input 3 N values v, and G[m][n] =
 * u[m] * v[n], the one rounded product the Gemm with K = 1 it replaces
 * computed; the weight is updated without G ever being stored.  torch's first
 * step sets B = g; the buffer starts at zeros, and momentum*0 + g is g
 * exactly, so no step counter is needed.  AdamW's T (int64, one value) is
 * the number of this step, counted from 1, for the bias corrections.
 */
#include "op.h"
#include "../passes/passes.h"

#include <string.h>

#include "../backend/emit_train.h"
#include "../../runtime/kernels/interp_train.h"

/* Inputs per tensor beyond R and T, and outputs per tensor, of each op. */
static int groups_in(const ir_node *n) { return strcmp(n->op_type, "Adam") == 0 ? 4 : 3; }
static int groups_out(const ir_node *n) { return strcmp(n->op_type, "Adagrad") == 0 || strcmp(n->op_type, "Momentum") == 0 ? 2 : 3; }

static int check_counts(ir_node *n) {
  int gi = groups_in(n), go = groups_out(n), k = (n->n_in - 2) / gi;
  if (n->n_in < 2 + gi || (n->n_in - 2) % gi != 0)
    return op_fail(n, "takes R, T and %d inputs per optimized tensor, got %d inputs", gi, n->n_in);
  if (n->n_out != go * k)
    return op_fail(n, "optimizes %d tensor(s), so it has %d outputs, got %d", k, go * k, n->n_out);
  for (int i = 0; i < n->n_in; i++)
    if (!n->in[i]) return op_fail(n, "input %d is missing", i);
  for (int j = 0; j < n->n_out; j++)
    if (!n->out[j]) return op_fail(n, "output %d is missing (optional outputs are not supported)", j);
  ir_attr_set_int(n, "_k", k);
  return 0;
}

static int validate_adagrad(ir_node *n) {
  op_default_float(n, "decay_factor", 0.0);
  op_default_float(n, "epsilon", 1e-6);
  op_default_float(n, "norm_coefficient", 0.0);
  return check_counts(n);
}

static int validate_adam(ir_node *n) {
  op_default_float(n, "alpha", 0.9);
  op_default_float(n, "beta", 0.999);
  op_default_float(n, "epsilon", 1e-6);
  op_default_float(n, "norm_coefficient", 0.0);
  op_default_float(n, "norm_coefficient_post", 0.0);
  return check_counts(n);
}

static int validate_momentum(ir_node *n) {
  static const char *const req[] = {"alpha", "beta", "norm_coefficient", "mode"};
  for (int i = 0; i < 4; i++)
    if (!ir_attr_find(n, req[i])) return op_fail(n, "attribute '%s' is required", req[i]);
  const char *mode = ir_attr_string(n, "mode", "");
  if (strcmp(mode, "standard") != 0 && strcmp(mode, "nesterov") != 0)
    return op_fail(n, "mode '%s' is not supported (standard, nesterov)", mode);
  return check_counts(n);
}

static int is_f(ir_dtype t) { return t == IR_F32 || t == IR_F64; }

static int infer_opt(ir_graph *g, ir_node *n) {
  const ir_tensor *r = n->in[0], *t = n->in[1];
  int gi = groups_in(n), go = groups_out(n), k = (int)ir_attr_int(n, "_k", 1);
  (void)g;
  if (!is_f(r->dtype) || ir_numel(r) != 1)
    return op_fail(n, "R ('%s') must be one float32/float64 value, got %s with %lld elements", r->name,
                   ir_dtype_name(r->dtype), (long long)ir_numel(r));
  if (t->dtype != IR_I64 || ir_numel(t) != 1)
    return op_fail(n, "T ('%s') must be one int64 value, got %s with %lld elements", t->name,
                   ir_dtype_name(t->dtype), (long long)ir_numel(t));
  for (int i = 0; i < k; i++) {
    const ir_tensor *x = n->in[2 + i];
    if (!is_f(x->dtype))
      return op_fail(n, "input '%s': dtype %s is not supported (float32, float64)", x->name, ir_dtype_name(x->dtype));
    for (int gr = 1; gr < gi; gr++) {
      const ir_tensor *s = n->in[2 + gr * k + i];
      if (s->dtype != x->dtype || !ir_same_shape(s, x))
        return op_fail(n, "input '%s' must have the dtype and shape of '%s'", s->name, x->name);
    }
    for (int gr = 0; gr < go; gr++) {
      ir_tensor *y = n->out[gr * k + i];
      y->dtype = x->dtype;
      ir_set_shape(y, x->rank, x->shape);
    }
  }
  return 0;
}

static const op_attr_spec a_adagrad[] = {
  {"decay_factor", IR_ATTR_FLOAT}, {"epsilon", IR_ATTR_FLOAT}, {"norm_coefficient", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec a_adam[] = {
  {"alpha", IR_ATTR_FLOAT}, {"beta", IR_ATTR_FLOAT}, {"epsilon", IR_ATTR_FLOAT},
  {"norm_coefficient", IR_ATTR_FLOAT}, {"norm_coefficient_post", IR_ATTR_FLOAT}, {NULL, 0}};
static const op_attr_spec a_momentum[] = {
  {"alpha", IR_ATTR_FLOAT}, {"beta", IR_ATTR_FLOAT}, {"mode", IR_ATTR_STRING},
  {"norm_coefficient", IR_ATTR_FLOAT}, {NULL, 0}};

#define OP(nm, lo, olo, at, val) \
  {.name = #nm, .domain = "ai.onnx.preview.training", .min_in = lo, .max_in = -1, .min_out = olo, \
   .max_out = -1, .attrs = at, .validate = val, .infer = infer_opt, .interp = interp_train_##nm, \
   .emit = emit_train_##nm}

/* Gradient(xs..., zs...; xs, zs, y): dy/dx for each x of xs.  The inference
 * pass expands it into ordinary nodes with autodiff (passes/autodiff.c)
 * once y's shape is known, so the entry only checks the node's form. */
static const op_attr_spec a_gradient[] = {{"xs", IR_ATTR_STRINGS}, {"zs", IR_ATTR_STRINGS}, {"y", IR_ATTR_STRING}, {NULL, 0}};

static int validate_gradient(ir_node *n) {
  const ir_attr *xs = ir_attr_find(n, "xs"), *zs = ir_attr_find(n, "zs");
  if (!xs || !ir_attr_find(n, "y")) return op_fail(n, "needs the attributes xs and y");
  int nz = zs ? zs->n : 0;
  if (n->n_in != xs->n + nz)
    return op_fail(n, "has %d inputs but xs and zs name %d tensors", n->n_in, xs->n + nz);
  if (n->n_out > xs->n) return op_fail(n, "has %d outputs for %d tensors in xs", n->n_out, xs->n);
  for (int i = 0; i < xs->n; i++)
    if (!n->in[i] || strcmp(n->in[i]->name, xs->strings[i]) != 0)
      return op_fail(n, "input %d must be xs[%d] '%s'", i, i, xs->strings[i]);
  return 0;
}

static int infer_gradient(ir_graph *g, ir_node *n) {
  (void)g;
  return op_fail(n, "internal: Gradient reached shape inference without being expanded");
}

/* ---- ai.modelc: PyTorch's optimizers ------------------------------------ */

static int validate_sgd(ir_node *n) {
  if (!ir_attr_find(n, "lr")) return op_fail(n, "attribute 'lr' is required");
  op_default_float(n, "momentum", 0.0);
  op_default_int(n, "nesterov", 0);
  op_default_float(n, "weight_decay", 0.0);
  int mom = ir_attr_float(n, "momentum", 0) != 0;
  if (ir_attr_int(n, "nesterov", 0) && !mom) return op_fail(n, "nesterov needs a momentum");
  if ((n->n_in > 2 && n->in[2]) != mom || (n->n_out > 1 && n->out[1]) != mom)
    return op_fail(n, "takes the momentum buffer B (input 2, output 1) exactly when momentum is not 0");
  if ((n->n_in > 3 && n->in[3]) != (ir_attr_int(n, "_outer", 0) != 0))
    return op_fail(n, "takes input 3 (G's row factor) exactly with _outer");
  return 0;
}

static int validate_adamw(ir_node *n) {
  if (!ir_attr_find(n, "lr")) return op_fail(n, "attribute 'lr' is required");
  op_default_float(n, "beta1", 0.9);
  op_default_float(n, "beta2", 0.999);
  op_default_float(n, "eps", 1e-8);
  op_default_float(n, "weight_decay", 0.0);
  op_default_int(n, "decoupled", 0);
  for (int i = 0; i < 5; i++)
    if (!n->in[i]) return op_fail(n, "input %d is missing", i);
  for (int j = 0; j < n->n_out; j++)
    if (!n->out[j]) return op_fail(n, "output %d is missing", j);
  return 0;
}

/* X (input 0) float; the other inputs but T are X's dtype and shape; each
 * output gets them too. */
static int infer_torch_opt(ir_graph *g, ir_node *n) {
  const ir_tensor *x = n->in[0];
  int n_state = strcmp(n->op_type, "SGD") == 0 ? n->n_in : 4;   /* AdamW: X G M V, then T */
  int outer = ir_attr_int(n, "_outer", 0) != 0;   /* SGD's G as input 1 (x) input 3 */
  (void)g;
  if (!is_f(x->dtype))
    return op_fail(n, "input '%s': dtype %s is not supported (float32, float64)", x->name, ir_dtype_name(x->dtype));
  if (outer && (x->rank != 2 || n->in[1]->dtype != x->dtype || n->in[3]->dtype != x->dtype ||
                ir_numel(n->in[1]) != x->shape[0] || ir_numel(n->in[3]) != x->shape[1]))
    return op_fail(n, "with _outer, X is [M, N] and inputs 1 and 3 hold M and N values of its dtype");
  for (int i = 1; i < n_state; i++) {
    const ir_tensor *s = n->in[i];
    if (s && !(outer && (i == 1 || i == 3)) && (s->dtype != x->dtype || !ir_same_shape(s, x)))
      return op_fail(n, "input '%s' must have the dtype and shape of '%s'", s->name, x->name);
  }
  if (n_state == 4 && (n->in[4]->dtype != IR_I64 || ir_numel(n->in[4]) != 1))
    return op_fail(n, "T ('%s') must be one int64 value", n->in[4]->name);
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j]) op_set_out(n->out[j], x->dtype, x->rank, x->shape);
  return 0;
}

static const op_attr_spec a_sgd[] = {
  {"lr", IR_ATTR_FLOAT}, {"momentum", IR_ATTR_FLOAT}, {"nesterov", IR_ATTR_INT}, {"weight_decay", IR_ATTR_FLOAT},
  {NULL, 0}};
static const op_attr_spec a_adamw[] = {
  {"lr", IR_ATTR_FLOAT}, {"beta1", IR_ATTR_FLOAT}, {"beta2", IR_ATTR_FLOAT}, {"eps", IR_ATTR_FLOAT},
  {"weight_decay", IR_ATTR_FLOAT}, {"decoupled", IR_ATTR_INT}, {NULL, 0}};

const op_def ops_train[] = {
  {.name = "Gradient", .domain = "ai.onnx.preview.training", .min_in = 1, .max_in = -1, .min_out = 1,
   .max_out = -1, .attrs = a_gradient, .flags = OP_NO_FOLD, .validate = validate_gradient,
   .infer = infer_gradient, .expand = pass_expand_gradient},
  OP(Adagrad, 5, 2, a_adagrad, validate_adagrad),
  OP(Adam, 6, 3, a_adam, validate_adam),
  OP(Momentum, 5, 2, a_momentum, validate_momentum),
  {.name = "SGD", .domain = "ai.modelc", .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 2, .attrs = a_sgd,
   .flags = OP_NO_FOLD, .validate = validate_sgd, .infer = infer_torch_opt, .interp = interp_train_SGD,
   .emit = emit_train_SGD},
  {.name = "AdamW", .domain = "ai.modelc", .min_in = 5, .max_in = 5, .min_out = 3, .max_out = 3, .attrs = a_adamw,
   .flags = OP_NO_FOLD, .validate = validate_adamw, .infer = infer_torch_opt, .interp = interp_train_AdamW,
   .emit = emit_train_AdamW},
  {.name = NULL}
};
