/*
 * optable.c - the op table as one list, binding and generic validation, and
 * the small helpers every entry uses (messages, broadcasting, axes,
 * compile-time constant inputs).
 *
 * The entries themselves live in the group files (ops_nn.c, ops_shape.c,
 * ...).  Binding a node checks what can be checked without knowing the op:
 * input/output counts and attribute names and types against the entry's
 * list.  Attributes whose names start with '_' are modelc's own (fusion,
 * memory plan) and are not part of any ONNX op; the fused-epilogue ones
 * (epilogue.h) are accepted only by ops flagged OP_EPILOGUE.
 */
#include "op.h"
#include "epilogue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const op_def *const groups[] = {ops_nn, ops_elementwise, ops_shape, ops_control,
                                       ops_index, ops_image, ops_rnn, ops_quant, ops_math, ops_signal,
                                       ops_train, ops_grad, ops_random};
#define N_GROUPS ((int)(sizeof groups / sizeof *groups))

static int is_default_domain(const char *d) { return !d || !*d || strcmp(d, "ai.onnx") == 0; }

const op_def *op_find(const char *domain, const char *op_type) {
  for (int g = 0; g < N_GROUPS; g++)
    for (const op_def *d = groups[g]; d->name; d++) {
      if (strcmp(d->name, op_type) != 0) continue;
      if (is_default_domain(domain) ? is_default_domain(d->domain) : (d->domain && strcmp(d->domain, domain) == 0))
        return d;
    }
  return NULL;
}

int op_count(void) {
  int k = 0;
  for (int g = 0; g < N_GROUPS; g++)
    for (const op_def *d = groups[g]; d->name; d++) k++;
  return k;
}

const op_def *op_at(int i) {
  for (int g = 0; g < N_GROUPS; g++)
    for (const op_def *d = groups[g]; d->name; d++)
      if (i-- == 0) return d;
  return NULL;
}

int op_fail(const ir_node *n, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ir_error("node '%s' (%s): %s", n->name, n->op_type, msg);
}

int op_validate(ir_node *n) {
  const op_def *d = op_find(n->domain, n->op_type);
  if (!d) {
    if (is_default_domain(n->domain)) return op_fail(n, "unsupported op");
    return op_fail(n, "unsupported op in domain '%s'", n->domain);
  }
  n->op = d;
  /* Trailing missing optional inputs do not count. */
  int n_in = n->n_in;
  while (n_in > 0 && !n->in[n_in - 1]) n_in--;
  if (n_in < d->min_in || (d->max_in >= 0 && n_in > d->max_in)) {
    if (d->max_in < 0) return op_fail(n, "takes at least %d inputs, got %d", d->min_in, n_in);
    return op_fail(n, "takes %d to %d inputs, got %d", d->min_in, d->max_in, n_in);
  }
  for (int i = 0; i < d->min_in; i++)
    if (!n->in[i]) return op_fail(n, "required input %d is missing", i);
  if (n->n_out < d->min_out || (d->max_out >= 0 && n->n_out > d->max_out))
    return op_fail(n, "has %d outputs, op allows %d to %d", n->n_out, d->min_out, d->max_out);
  for (int i = 0; i < n->n_attr; i++) {
    const ir_attr *a = &n->attrs[i];
    if (op_epilogue_attr(a->name)) {
      if (!(d->flags & OP_EPILOGUE))
        return op_fail(n, "takes no fused epilogue, but carries '%s'", a->name);
      int want = !strcmp(a->name, OP_EPI_ACT) ? IR_ATTR_STRING : !strcmp(a->name, OP_EPI_RESIDUAL) ? IR_ATTR_INT : IR_ATTR_FLOAT;
      if ((int)a->type != want && !(want == IR_ATTR_FLOAT && a->type == IR_ATTR_INT))
        return op_fail(n, "attribute '%s' is %s, expected %s", a->name, ir_attr_type_name(a->type),
                       ir_attr_type_name((ir_attr_type)want));
      continue;
    }
    if (a->name[0] == '_') continue;   /* modelc's own, written by the entries themselves */
    const op_attr_spec *s = d->attrs;
    while (s && s->name && strcmp(s->name, a->name) != 0) s++;
    if (!s || !s->name) return op_fail(n, "unsupported attribute '%s'", a->name);
    int ok = a->type == s->type || (s->type == IR_ATTR_FLOAT && a->type == IR_ATTR_INT);
    if (!ok)
      return op_fail(n, "attribute '%s' is %s, expected %s", a->name, ir_attr_type_name(a->type),
                     ir_attr_type_name(s->type));
  }
  op_epilogue ep;
  if (op_epilogue_present(n) && op_epilogue_read(n, &ep) < 0) return -1;
  return d->validate ? d->validate(n) : 0;
}

int op_broadcast(const ir_node *n, int ra, const int64_t *a, int rb, const int64_t *b, int *rout,
                 int64_t *out) {
  int r = ra > rb ? ra : rb;
  if (r > IR_MAX_RANK) return op_fail(n, "rank %d exceeds the supported %d", r, IR_MAX_RANK);
  for (int i = 0; i < r; i++) {
    int64_t da = i < r - ra ? 1 : a[i - (r - ra)];
    int64_t db = i < r - rb ? 1 : b[i - (r - rb)];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return op_fail(n, "shapes are not broadcastable: dimension %d is %lld vs %lld", i, (long long)da,
                     (long long)db);
    }
  }
  *rout = r;
  return 0;
}

int op_axis(const ir_node *n, int64_t axis, int rank, int *out) {
  if (axis < -rank || axis >= (rank > 0 ? rank : 1))
    return op_fail(n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return 0;
}

int op_check_dtype(const ir_node *n, int i, unsigned mask) {
  const ir_tensor *t = i < n->n_in ? n->in[i] : NULL;
  if (!t) return op_fail(n, "input %d is missing", i);   /* an empty name in the model */
  if (t->dtype > IR_UNDEF && t->dtype < IR_DTYPE_COUNT && (mask & OP_DT(t->dtype))) return 0;
  char ok[256] = "";
  size_t len = 0;
  for (int d = IR_UNDEF + 1; d < IR_DTYPE_COUNT; d++)
    if ((mask & OP_DT(d)) && len < sizeof ok)
      len += (size_t)snprintf(ok + len, sizeof ok - len, "%s%s", len ? ", " : "", ir_dtype_name((ir_dtype)d));
  return op_fail(n, "input %d ('%s'): dtype %s is not supported by this op (it takes %s)", i, t->name,
                 ir_dtype_name(t->dtype), ok);
}

int op_same_dtype(const ir_node *n, int i, int j) {
  if (j < n->n_in && n->in[j] && n->in[i]->dtype != n->in[j]->dtype)
    return op_fail(n, "input %d ('%s') is %s but input %d ('%s') is %s", j, n->in[j]->name,
                   ir_dtype_name(n->in[j]->dtype), i, n->in[i]->name, ir_dtype_name(n->in[i]->dtype));
  return 0;
}

void op_default_float(ir_node *n, const char *name, double v) {
  if (!ir_attr_find(n, name)) ir_attr_set_float(n, name, v);
}

void op_default_int(ir_node *n, const char *name, int64_t v) {
  if (!ir_attr_find(n, name)) ir_attr_set_int(n, name, v);
}

void op_set_out(ir_tensor *y, ir_dtype dt, int rank, const int64_t *dims) {
  y->dtype = dt;
  ir_set_shape(y, rank, dims);
}

int op_const_ints(const ir_node *n, int i, int64_t *vals, int max, int *n_out) {
  const ir_tensor *t = i < n->n_in ? n->in[i] : NULL;
  if (!t) return op_fail(n, "input %d is missing", i);
  if (!t->data) return op_fail(n, "input %d ('%s') must be a compile-time constant (use --const)", i, t->name);
  if (ir_dtype_is_float(t->dtype) || t->dtype == IR_UNDEF)
    return op_fail(n, "input %d ('%s') must be an integer tensor, got %s", i, t->name, ir_dtype_name(t->dtype));
  int64_t cnt = ir_numel(t);
  if (cnt < 0 || cnt > max) return op_fail(n, "input %d ('%s') has too many elements (%lld)", i, t->name, (long long)cnt);
  for (int64_t k = 0; k < cnt; k++) vals[k] = ir_const_i64(t, k);
  *n_out = (int)cnt;
  return 0;
}
