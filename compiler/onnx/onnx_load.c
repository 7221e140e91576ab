/*
 * onnx_load.c - ModelProto (parsed by protobuf-c from ONNX's own
 * onnx.proto) to IR graph.
 *
 * A graph is built in phases, the same for the main graph and for every
 * subgraph (If/Loop bodies, built recursively with the node's graph as
 * parent):
 *   1. initializers become IR_PARAM tensors (decoded by tp_decode);
 *   2. declared inputs become IR_INPUT tensors (the main graph applies the
 *      --shape/--dim/--const bindings here);
 *   3. the node list is flattened: calls to the model's local functions are
 *      inlined into plain node records with renamed internal tensors;
 *   4. every node's outputs are created first (Constant nodes become
 *      IR_CONST tensors right away), so inputs may refer to any of them;
 *   5. nodes are added with attributes and inputs, then normalized to the
 *      newest opset form (onnx_opset.c);
 *   6. declared outputs are marked.
 * Then, for the whole model: one error listing every node without an op
 * table entry, topological sort and binding to the op table.
 *
 * The file may be hostile: every count, name and dimension is checked, and
 * tensor bytes are limited to max_bytes over the whole model.  Strings of
 * protobuf-c messages may be NULL when absent; S() reads them as "".
 * Temporary strings (inlined names) live in a pool freed after the load.
 */
#include "onnx_load.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "onnx.pb-c.h"
#include "onnx_internal.h"
#include "runtime/tensorproto.h"

#define MAX_OPSET 21                      /* newest ai.onnx opset we know */
#define MAX_DEPTH 32                      /* nesting of subgraphs and function calls */
#define MAX_FILE_BYTES ((size_t)INT32_MAX) /* protobuf's own message limit */
#define MAX_COUNT (1 << 24)               /* inputs/outputs/attributes of one node */

typedef Onnx__AttributeProto attr_proto;

static const char *S(const char *s) { return s ? s : ""; }

static const char *norm_domain(const char *d) {
  return !d || strcmp(d, "ai.onnx") == 0 ? "" : d;
}

typedef struct sym {
  const char *name;
  int64_t value;
} sym;

/* An attribute as a node record sees it: the name it has at this node
 * (function attribute references rename) and the proto holding the value. */
typedef struct nattr {
  const char *name;
  const attr_proto *a;
} nattr;

typedef struct nrec {
  const char *op_type, *domain, *name;
  int opset;
  int n_in, n_out, n_attr;
  const char **in, **out;   /* "" for a missing optional input/output */
  nattr *attr;
} nrec;

typedef struct nlist {
  nrec *v;
  int n, cap;
} nlist;

typedef struct ctx {
  const Onnx__ModelProto *m;
  const onnx_load_opts *o;
  const char *base_dir;
  int64_t max_bytes, used;
  sym *syms;
  int n_syms;
  void **pool;
  int n_pool, cap_pool;
} ctx;

static int build_graph(ctx *c, ir_graph *g, const Onnx__GraphProto *gp, int depth, int is_main);

/* ---- temporary allocations -------------------------------------------- */

static void *pool_alloc(ctx *c, size_t n) {
  if (c->n_pool == c->cap_pool) {
    c->cap_pool = c->cap_pool ? 2 * c->cap_pool : 256;
    c->pool = ir_realloc(c->pool, (size_t)c->cap_pool * sizeof *c->pool);
  }
  return c->pool[c->n_pool++] = ir_alloc(n);
}

static char *pool_printf(ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static char *pool_printf(ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = pool_alloc(c, (size_t)(n > 0 ? n : 0) + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
  va_end(ap);
  return s;
}

static void pool_free(ctx *c) {
  for (int i = 0; i < c->n_pool; i++) free(c->pool[i]);
  free(c->pool);
}

/* ---- tensors and types ------------------------------------------------ */

/* tp_decode under the model-wide byte budget; errors prefixed by `who`. */
static int decode(ctx *c, const Onnx__TensorProto *tp, const char *who, ir_dtype *dt, int *rank,
                  int64_t *dims, void **data) {
  size_t nb = 0;
  int64_t left = c->max_bytes - c->used;
  *data = NULL;
  /* tp_decode reads a limit <= 0 as none; an exhausted budget still limits. */
  if (tp_decode(tp, c->base_dir, left > 0 ? left : 1, dt, rank, dims, data, &nb) != 0)
    return ir_error("%s: %s", who, ir_last_error());
  if (*rank < 0 || *rank > IR_MAX_RANK) {
    free(*data);
    return ir_error("%s: rank %d is not supported (at most %d)", who, *rank, IR_MAX_RANK);
  }
  for (int i = 0; i < *rank; i++)
    if (dims[i] < 0) {
      free(*data);
      return ir_error("%s: negative dimension %lld", who, (long long)dims[i]);
    }
  c->used += (int64_t)nb;
  if (c->used > c->max_bytes) {
    free(*data);
    return ir_error("%s: the model's tensor data exceeds the limit of %lld bytes", who,
                    (long long)c->max_bytes);
  }
  if (!*data) *data = ir_alloc(1);   /* empty tensors still count as constant */
  return 0;
}

/* Give t its declared shape (dims -1 where symbolic/unknown) and symbols. */
static void set_decl_shape(ctx *c, ir_tensor *t, int rank, const int64_t *dims, const char *const *params) {
  ir_set_shape(t, rank, dims);
  for (int i = 0; i < rank; i++) {
    if (dims[i] >= 0 || !params[i]) continue;
    int bound = 0;
    for (int k = 0; k < c->n_syms; k++)
      if (strcmp(c->syms[k].name, params[i]) == 0) {
        t->shape[i] = c->syms[k].value;   /* --dim, or implied by --shape */
        bound = 1;
      }
    if (!bound) {
      free(t->dim_param[i]);
      t->dim_param[i] = ir_strdup(params[i]);
    }
  }
}

/* Declared type of a value: dtype (IR_UNDEF if absent), rank (-1 if no
 * shape), dims (-1 unknown) and symbol names.  `lenient` accepts a missing
 * type or element type. */
static int read_type(const Onnx__ValueInfoProto *vi, const char *what, int lenient, ir_dtype *dt,
                     int *rank, int64_t *dims, const char **params) {
  const char *name = S(vi->name);
  *dt = IR_UNDEF;
  *rank = -1;
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) {
    if (lenient) return 0;
    return ir_error("%s '%s' has no type", what, name);
  }
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
    const char *kind = tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE   ? "a sequence"
                       : tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE      ? "a map"
                       : tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? "an optional"
                                                                                  : "a sparse tensor";
    return ir_error("%s '%s' is %s: only tensors are supported", what, name, kind);
  }
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (!tt || !tt->has_elem_type || tt->elem_type == 0) {
    if (!lenient) return ir_error("%s '%s' has no element type", what, name);
  } else {
    *dt = ir_dtype_from_onnx(tt->elem_type);
    if (tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__STRING)
      return ir_error("%s '%s' holds strings: unsupported", what, name);
    if (*dt == IR_UNDEF || *dt == IR_STRING || ir_dtype_size(*dt) == 0)
      return ir_error("%s '%s' has unsupported element type %d", what, name, (int)tt->elem_type);
  }
  if (!tt || !tt->shape) return 0;
  if (tt->shape->n_dim > IR_MAX_RANK)
    return ir_error("%s '%s' has rank %zu: at most %d is supported", what, name, tt->shape->n_dim,
                    IR_MAX_RANK);
  *rank = (int)tt->shape->n_dim;
  for (int i = 0; i < *rank; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    dims[i] = -1;
    params[i] = NULL;
    if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      if (d->dim_value < 0)
        return ir_error("%s '%s' has negative dimension %d (%lld)", what, name, i, (long long)d->dim_value);
      dims[i] = d->dim_value;
    } else if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param &&
               d->dim_param[0]) {
      params[i] = d->dim_param;
    }
  }
  return 0;
}

/* ---- node list: flattening and function inlining ------------------------ */

static int find_opset(Onnx__OperatorSetIdProto *const *imp, size_t n, const char *dom, int64_t *v) {
  for (size_t i = 0; i < n; i++)
    if (imp[i] && strcmp(norm_domain(S(imp[i]->domain)), dom) == 0) {
      *v = imp[i]->version;
      return 1;
    }
  return 0;
}

static const Onnx__FunctionProto *find_function(const ctx *c, const char *dom, const char *op) {
  for (size_t i = 0; i < c->m->n_functions; i++) {
    const Onnx__FunctionProto *f = c->m->functions[i];
    if (f && strcmp(norm_domain(S(f->domain)), dom) == 0 && strcmp(S(f->name), op) == 0) return f;
  }
  return NULL;
}

static int add_rec(ctx *c, nlist *l, const Onnx__FunctionProto *scope, const nrec *r, int depth);

/* r for node k of a graph (prefix NULL) or of a function body inlined at
 * the call named prefix: op, domain, its name (or OP_k when it has none;
 * under "prefix/" inside a call), counts, and room for the inputs, outputs
 * and attributes that the caller fills. */
static int rec_init(ctx *c, const Onnx__NodeProto *np, size_t k, const char *prefix, nrec *r) {
  memset(r, 0, sizeof *r);
  r->op_type = S(np->op_type);
  r->domain = norm_domain(S(np->domain));
  if (np->name && np->name[0]) r->name = prefix ? pool_printf(c, "%s/%s", prefix, np->name) : np->name;
  else if (prefix) r->name = pool_printf(c, "%s/%s_%zu", prefix, r->op_type, k);
  else r->name = pool_printf(c, "%s_%zu", r->op_type, k);
  if (np->n_input > MAX_COUNT || np->n_output > MAX_COUNT || np->n_attribute > MAX_COUNT)
    return ir_error("node '%s' (%s): too many inputs, outputs or attributes", r->name, r->op_type);
  r->n_in = (int)np->n_input;
  r->n_out = (int)np->n_output;
  r->in = pool_alloc(c, (np->n_input + 1) * sizeof *r->in);
  r->out = pool_alloc(c, (np->n_output + 1) * sizeof *r->out);
  r->attr = pool_alloc(c, (np->n_attribute + 1) * sizeof *r->attr);
  return 0;
}

/* Name of a function body's tensor at the call site. */
static const char *rename_fn(ctx *c, const Onnx__FunctionProto *f, const nrec *call, const char *name) {
  if (!name[0]) return "";
  for (size_t j = 0; j < f->n_input; j++)
    if (strcmp(S(f->input[j]), name) == 0) return (int)j < call->n_in ? call->in[j] : "";
  for (size_t j = 0; j < f->n_output; j++)
    if (strcmp(S(f->output[j]), name) == 0 && (int)j < call->n_out && call->out[j][0]) return call->out[j];
  return pool_printf(c, "%s/%s", call->name, name);   /* internal: unique per call */
}

static int inline_call(ctx *c, nlist *l, const Onnx__FunctionProto *f, const nrec *call, int depth) {
  for (size_t k = 0; k < f->n_node; k++) {
    const Onnx__NodeProto *np = f->node[k];
    nrec r;
    if (rec_init(c, np, k, call->name, &r)) return -1;
    for (int j = 0; j < r.n_in; j++) r.in[j] = rename_fn(c, f, call, S(np->input[j]));
    for (int j = 0; j < r.n_out; j++) r.out[j] = rename_fn(c, f, call, S(np->output[j]));
    for (size_t j = 0; j < np->n_attribute; j++) {
      const attr_proto *a = np->attribute[j];
      if (!a) continue;
      if (a->ref_attr_name && a->ref_attr_name[0]) {
        /* Takes the call's attribute of that name; absent means the op's default. */
        for (int q = 0; q < call->n_attr; q++)
          if (strcmp(call->attr[q].name, a->ref_attr_name) == 0) {
            r.attr[r.n_attr].name = S(a->name);
            r.attr[r.n_attr++].a = call->attr[q].a;
          }
        continue;
      }
      if (a->g || a->n_graphs)
        return ir_error("node '%s' (%s): subgraphs inside local function '%s' are not supported", r.name,
                        r.op_type, S(f->name));
      r.attr[r.n_attr].name = S(a->name);
      r.attr[r.n_attr++].a = a;
    }
    if (add_rec(c, l, f, &r, depth)) return -1;
  }
  return 0;
}

/* Append r to l, or inline it when it calls a local function.  `scope` is
 * the function whose body r comes from (its opset_import applies first). */
static int add_rec(ctx *c, nlist *l, const Onnx__FunctionProto *scope, const nrec *r, int depth) {
  if (!r->op_type[0]) return ir_error("node '%s' has no op_type", r->name);
  const Onnx__FunctionProto *f = find_function(c, r->domain, r->op_type);
  if (f) {
    if (depth >= MAX_DEPTH)
      return ir_error("node '%s' (%s): local functions nest too deeply (recursive?)", r->name, r->op_type);
    return inline_call(c, l, f, r, depth + 1);
  }
  int64_t v = 0;
  int found = scope && find_opset(scope->opset_import, scope->n_opset_import, r->domain, &v);
  if (!found) found = find_opset(c->m->opset_import, c->m->n_opset_import, r->domain, &v);
  if (!found && !r->domain[0] && c->m->n_opset_import == 0) {
    v = 1;   /* IR version 1-2 models predate opset_import */
    found = 1;
  }
  if (!found)
    return ir_error("node '%s' (%s): domain '%s' is not imported by the model", r->name, r->op_type,
                    r->domain[0] ? r->domain : "ai.onnx");
  if (!r->domain[0] && v > MAX_OPSET)
    return ir_error("node '%s' (%s): opset %lld of ai.onnx is newer than the newest supported (%d)", r->name,
                    r->op_type, (long long)v, MAX_OPSET);
  if (v < 1 || v > INT_MAX)
    return ir_error("node '%s' (%s): invalid opset version %lld for domain '%s'", r->name, r->op_type,
                    (long long)v, r->domain);
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = ir_realloc(l->v, (size_t)l->cap * sizeof *l->v);
  }
  l->v[l->n] = *r;
  l->v[l->n++].opset = (int)v;
  return 0;
}

static int flatten(ctx *c, const Onnx__GraphProto *gp, nlist *l, int depth) {
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    nrec r;
    if (rec_init(c, np, i, NULL, &r)) return -1;
    for (int j = 0; j < r.n_in; j++) r.in[j] = S(np->input[j]);
    for (int j = 0; j < r.n_out; j++) r.out[j] = S(np->output[j]);
    for (size_t j = 0; j < np->n_attribute; j++) {
      const attr_proto *a = np->attribute[j];
      if (!a) continue;
      if (a->ref_attr_name && a->ref_attr_name[0])
        return ir_error("node '%s' (%s): attribute '%s' refers to a function attribute outside a function",
                        r.name, r.op_type, S(a->name));
      r.attr[r.n_attr].name = S(a->name);
      r.attr[r.n_attr++].a = a;
    }
    if (add_rec(c, l, NULL, &r, depth)) return -1;
  }
  return 0;
}

/* ---- Constant nodes ----------------------------------------------------- */

static int is_constant(const nrec *r) { return !r->domain[0] && strcmp(r->op_type, "Constant") == 0; }

static int constant_tensor(ctx *c, ir_graph *g, const nrec *r) {
  if (r->n_out != 1 || !r->out[0][0])
    return ir_error("node '%s' (Constant): needs exactly one output", r->name);
  if (r->n_attr != 1)
    return ir_error("node '%s' (Constant): needs exactly one value attribute, got %d", r->name, r->n_attr);
  const char *an = r->attr[0].name;
  const attr_proto *a = r->attr[0].a;
  ir_dtype dt = IR_UNDEF;
  int rank = 0;
  int64_t dims[IR_MAX_RANK] = {0};
  void *data = NULL;
  size_t nb = 0;
  char who[300];
  snprintf(who, sizeof who, "node '%s' (Constant)", r->name);
  if (strcmp(an, "value") == 0) {
    if (!a->t) return ir_error("%s: attribute 'value' holds no tensor", who);
    if (decode(c, a->t, who, &dt, &rank, dims, &data)) return -1;
  } else if (strcmp(an, "value_float") == 0) {
    float f = a->f;
    dt = IR_F32;
    data = ir_alloc(nb = sizeof f);
    memcpy(data, &f, nb);
  } else if (strcmp(an, "value_int") == 0) {
    int64_t i = a->i;
    dt = IR_I64;
    data = ir_alloc(nb = sizeof i);
    memcpy(data, &i, nb);
  } else if (strcmp(an, "value_floats") == 0) {
    dt = IR_F32;
    rank = 1;
    dims[0] = (int64_t)a->n_floats;
    data = ir_alloc(nb = a->n_floats * sizeof(float));
    if (a->n_floats) memcpy(data, a->floats, nb);
  } else if (strcmp(an, "value_ints") == 0) {
    dt = IR_I64;
    rank = 1;
    dims[0] = (int64_t)a->n_ints;
    data = ir_alloc(nb = a->n_ints * sizeof(int64_t));
    if (a->n_ints) memcpy(data, a->ints, nb);
  } else if (strcmp(an, "sparse_value") == 0 || strcmp(an, "value_string") == 0 ||
             strcmp(an, "value_strings") == 0) {
    return ir_error("%s: attribute '%s' is unsupported", who, an);
  } else {
    return ir_error("%s: unknown attribute '%s'", who, an);
  }
  c->used += (int64_t)nb;   /* decode() counted 'value' already; lists are small */
  ir_tensor *t = ir_add_tensor(g, r->out[0], dt, IR_CONST);
  if (!t) {
    free(data);
    return ir_error("%s: output '%s' is already defined", who, r->out[0]);
  }
  ir_set_shape(t, rank, dims);
  t->data = data;
  return 0;
}

/* ---- attributes --------------------------------------------------------- */

static int attr_type(const attr_proto *a) {
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return (int)a->type;
  /* Very old writers left the type out; infer it from the field that is set. */
  if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static char *bytes_str(ProtobufCBinaryData b) {
  char *s = ir_alloc(b.len + 1);
  if (b.len) memcpy(s, b.data, b.len);
  return s;
}

static int convert_attr(ctx *c, ir_graph *g, ir_node *n, const char *name, const attr_proto *a, int depth) {
  if (!name[0]) return op_fail(n, "attribute without a name");
  if (ir_attr_find(n, name)) return op_fail(n, "attribute '%s' is given twice", name);
  switch (attr_type(a)) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    ir_attr_set_float(n, name, a->f);
    return 0;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
    ir_attr_set_int(n, name, a->i);
    return 0;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
    ir_attr_add(n, name, IR_ATTR_STRING)->s = bytes_str(a->s);
    return 0;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    if (a->n_ints > MAX_COUNT) return op_fail(n, "attribute '%s' has too many values", name);
    ir_attr_set_ints(n, name, (int)a->n_ints, a->ints);
    return 0;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: {
    if (a->n_floats > MAX_COUNT) return op_fail(n, "attribute '%s' has too many values", name);
    double *v = ir_alloc((a->n_floats + 1) * sizeof *v);
    for (size_t i = 0; i < a->n_floats; i++) v[i] = a->floats[i];
    ir_attr_set_floats(n, name, (int)a->n_floats, v);
    free(v);
    return 0;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
    if (a->n_strings > MAX_COUNT) return op_fail(n, "attribute '%s' has too many values", name);
    ir_attr *at = ir_attr_add(n, name, IR_ATTR_STRINGS);
    at->strings = ir_alloc((a->n_strings + 1) * sizeof *at->strings);
    for (size_t i = 0; i < a->n_strings; i++) at->strings[at->n++] = bytes_str(a->strings[i]);
    return 0;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
    if (!a->t) return op_fail(n, "attribute '%s' holds no tensor", name);
    char who[300];
    snprintf(who, sizeof who, "node '%s' (%s): attribute '%s'", n->name, n->op_type, name);
    ir_tensor *t = ir_alloc(sizeof *t);
    int64_t dims[IR_MAX_RANK] = {0};
    int rank = 0;
    ir_dtype dt = IR_UNDEF;
    void *data = NULL;
    if (decode(c, a->t, who, &dt, &rank, dims, &data)) {
      free(t);
      return -1;
    }
    t->name = ir_strdup(a->t->name && a->t->name[0] ? a->t->name : name);
    t->id = -1;
    t->dtype = dt;
    ir_set_shape(t, rank, dims);
    t->role = IR_CONST;
    t->data = data;
    t->offset = -1;
    ir_attr_add(n, name, IR_ATTR_TENSOR)->t = t;
    return 0;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: {
    if (!a->g) return op_fail(n, "attribute '%s' holds no graph", name);
    if (depth >= MAX_DEPTH) return op_fail(n, "subgraphs nest too deeply");
    const char *gname = a->g->name && a->g->name[0] ? a->g->name : name;
    ir_graph *sub = ir_graph_new(gname, g);
    ir_attr_add(n, name, IR_ATTR_GRAPH)->g = sub;   /* owned by the node from here on */
    return build_graph(c, sub, a->g, depth + 1, 0);
  }
  default: {
    static const char *const kinds[] = {"undefined", "float", "int", "string", "tensor", "graph",
                                        "floats", "ints", "strings", "tensors", "graphs",
                                        "sparse_tensor", "sparse_tensors", "type_proto", "type_protos"};
    int k = attr_type(a);
    return op_fail(n, "attribute '%s' has unsupported type %s", name,
                   k >= 0 && k < (int)(sizeof kinds / sizeof *kinds) ? kinds[k] : "unknown");
  }
  }
}

/* ---- --shape / --dim / --const ------------------------------------------ */

static int dims_mention(const Onnx__ValueInfoProto *const *v, size_t n, const char *sym) {
  for (size_t i = 0; i < n; i++) {
    const Onnx__TypeProto *tp = v[i] ? v[i]->type : NULL;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type ||
        !tp->tensor_type->shape)
      continue;
    const Onnx__TensorShapeProto *s = tp->tensor_type->shape;
    for (size_t k = 0; k < s->n_dim; k++)
      if (s->dim[k] && s->dim[k]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
          strcmp(S(s->dim[k]->dim_param), sym) == 0)
        return 1;
  }
  return 0;
}

static int bind_sym(ctx *c, const char *what, const char *name, int64_t v) {
  for (int k = 0; k < c->n_syms; k++)
    if (strcmp(c->syms[k].name, name) == 0) {
      if (c->syms[k].value == v) return 0;
      return ir_error("%s: dimension '%s' would be %lld, but it is already fixed to %lld", what, name,
                      (long long)v, (long long)c->syms[k].value);
    }
  c->syms = ir_realloc(c->syms, (size_t)(c->n_syms + 1) * sizeof *c->syms);
  c->syms[c->n_syms].name = name;
  c->syms[c->n_syms++].value = v;
  return 0;
}

/* A declared input (rank, dims, symbols) against a given shape: rank and
 * fixed dims must agree; symbolic dims get bound. */
static int match_decl(ctx *c, const char *what, int drank, const int64_t *ddims, const char *const *params,
                      int rank, const int64_t *dims) {
  if (rank < 0 || rank > IR_MAX_RANK) return ir_error("%s: rank %d is not supported", what, rank);
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0) return ir_error("%s: negative dimension %lld", what, (long long)dims[i]);
  if (drank < 0) return 0;
  if (drank != rank) return ir_error("%s: the model declares rank %d, got %d dimensions", what, drank, rank);
  for (int i = 0; i < rank; i++) {
    if (ddims[i] >= 0 && ddims[i] != dims[i])
      return ir_error("%s: dimension %d is %lld in the model, got %lld", what, i, (long long)ddims[i],
                      (long long)dims[i]);
    if (ddims[i] < 0 && params[i] && bind_sym(c, what, params[i], dims[i])) return -1;
  }
  return 0;
}

typedef struct decl {
  const Onnx__ValueInfoProto *vi;
  ir_dtype dt;
  int rank;
  int64_t dims[IR_MAX_RANK];
  const char *params[IR_MAX_RANK];
} decl;

static int find_decl(const decl *d, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(S(d[i].vi->name), name) == 0) return i;
  return -1;
}

/* Check every binding and derive the symbol table (phase 2 of the main
 * graph, before the input tensors get their shapes). */
static int check_bindings(ctx *c, const ir_graph *g, const Onnx__GraphProto *gp, const decl *d, int nd) {
  const onnx_load_opts *o = c->o;
  char what[300];
  for (int i = 0; i < o->n_dims; i++) {
    const char *name = S(o->dims[i].name);
    snprintf(what, sizeof what, "--dim %s", name);
    if (o->dims[i].value < 0) return ir_error("%s: negative value %lld", what, (long long)o->dims[i].value);
    if (!dims_mention((const Onnx__ValueInfoProto *const *)gp->input, gp->n_input, name) &&
        !dims_mention((const Onnx__ValueInfoProto *const *)gp->output, gp->n_output, name) &&
        !dims_mention((const Onnx__ValueInfoProto *const *)gp->value_info, gp->n_value_info, name))
      return ir_error("%s: no dimension of the model is named '%s'", what, name);
    if (bind_sym(c, what, name, o->dims[i].value)) return -1;
  }
  for (int pass = 0; pass < 2; pass++) {
    int cnt = pass ? o->n_consts : o->n_shapes;
    for (int i = 0; i < cnt; i++) {
      const char *name = S(pass ? o->consts[i].name : o->shapes[i].name);
      int rank = pass ? o->consts[i].rank : o->shapes[i].rank;
      const int64_t *dims = pass ? o->consts[i].dims : o->shapes[i].dims;
      snprintf(what, sizeof what, "%s %s", pass ? "--const" : "--shape", name);
      int k = find_decl(d, nd, name);
      if (k < 0) {
        const ir_tensor *t = ir_find_tensor(g, name);
        if (t && t->role == IR_PARAM) return ir_error("%s: '%s' is an initializer, not an input", what, name);
        return ir_error("%s: the model has no input named '%s'", what, name);
      }
      if (pass) {
        ir_dtype dt = o->consts[i].dtype;
        if (ir_dtype_size(dt) == 0) return ir_error("%s: unsupported dtype", what);
        if (d[k].dt != IR_UNDEF && d[k].dt != dt)
          return ir_error("%s: the input is %s, the value is %s", what, ir_dtype_name(d[k].dt), ir_dtype_name(dt));
        if (!o->consts[i].data) return ir_error("%s: no data", what);
      }
      if (match_decl(c, what, d[k].rank, d[k].dims, d[k].params, rank, dims)) return -1;
      if (pass && ir_numel_dims(rank, dims) < 0) return ir_error("%s: too many elements", what);
    }
  }
  /* --shape and --const of the same input must agree. */
  for (int i = 0; i < o->n_shapes; i++)
    for (int j = 0; j < o->n_consts; j++) {
      const onnx_binding *s = &o->shapes[i];
      const onnx_const_binding *k = &o->consts[j];
      if (strcmp(S(s->name), S(k->name)) != 0) continue;
      int same = s->rank == k->rank;
      for (int q = 0; same && q < s->rank; q++) same = s->dims[q] == k->dims[q];
      if (!same) return ir_error("--const %s: shape differs from --shape %s", S(k->name), S(s->name));
    }
  return 0;
}

static void apply_bindings(ctx *c, ir_tensor *t) {
  const onnx_load_opts *o = c->o;
  for (int i = 0; i < o->n_shapes; i++)
    if (strcmp(S(o->shapes[i].name), t->name) == 0) ir_set_shape(t, o->shapes[i].rank, o->shapes[i].dims);
  for (int i = 0; i < o->n_consts; i++) {
    const onnx_const_binding *k = &o->consts[i];
    if (strcmp(S(k->name), t->name) != 0) continue;
    t->dtype = k->dtype;
    ir_set_shape(t, k->rank, k->dims);
    ir_tensor_set_data(t, k->data, (size_t)ir_nbytes(t));
    t->role = IR_CONST;
  }
}

/* ---- one graph ---------------------------------------------------------- */

static int add_inputs(ctx *c, ir_graph *g, const Onnx__GraphProto *gp, int is_main) {
  decl *d = ir_alloc((gp->n_input + 1) * sizeof *d);
  int nd = 0, rc = 0;
  for (size_t i = 0; i < gp->n_input && rc == 0; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    const char *name = vi ? S(vi->name) : "";
    if (!name[0]) {
      rc = ir_error("graph '%s': input %zu has no name", g->name, i);
      break;
    }
    decl *x = &d[nd];
    x->vi = vi;
    if (read_type(vi, "input", !is_main, &x->dt, &x->rank, x->dims, x->params)) {
      rc = -1;
      break;
    }
    ir_tensor *t = ir_find_tensor(g, name);
    if (t && t->role == IR_PARAM) {
      /* Older IR versions list initializers among the inputs. */
      if (x->dt != IR_UNDEF && x->dt != t->dtype)
        rc = ir_error("input '%s' is declared %s, its initializer is %s", name, ir_dtype_name(x->dt),
                      ir_dtype_name(t->dtype));
      else if (x->rank >= 0 && x->rank != t->rank)
        rc = ir_error("input '%s' is declared with rank %d, its initializer has rank %d", name, x->rank, t->rank);
      for (int k = 0; rc == 0 && k < x->rank; k++)
        if (x->dims[k] >= 0 && x->dims[k] != t->shape[k])
          rc = ir_error("input '%s': dimension %d is declared %lld, its initializer has %lld", name, k,
                        (long long)x->dims[k], (long long)t->shape[k]);
      continue;
    }
    if (t || find_decl(d, nd, name) >= 0) {
      rc = ir_error("graph '%s': input '%s' is declared twice", g->name, name);
      break;
    }
    nd++;
  }
  if (rc == 0 && is_main) rc = check_bindings(c, g, gp, d, nd);
  for (int i = 0; i < nd && rc == 0; i++) {
    ir_tensor *t = ir_add_tensor(g, S(d[i].vi->name), d[i].dt, IR_INPUT);
    if (!t) {
      rc = -1;
      break;
    }
    if (d[i].rank >= 0) set_decl_shape(c, t, d[i].rank, d[i].dims, d[i].params);
    if (is_main) apply_bindings(c, t);
    if (t->role == IR_INPUT) ir_graph_add_input(g, t);
  }
  free(d);
  return rc;
}

static int add_initializers(ctx *c, ir_graph *g, const Onnx__GraphProto *gp) {
  if (gp->n_sparse_initializer) return ir_error("graph '%s': sparse initializers are unsupported", g->name);
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    const char *name = tp ? S(tp->name) : "";
    if (!name[0]) return ir_error("graph '%s': initializer %zu has no name", g->name, i);
    char who[300];
    snprintf(who, sizeof who, "initializer '%s'", name);
    ir_dtype dt;
    int rank;
    int64_t dims[IR_MAX_RANK];
    void *data;
    if (decode(c, tp, who, &dt, &rank, dims, &data)) return -1;
    ir_tensor *t = ir_add_tensor(g, name, dt, IR_PARAM);
    if (!t) {
      free(data);
      return ir_error("%s is defined twice", who);
    }
    ir_set_shape(t, rank, dims);
    t->data = data;
  }
  return 0;
}

static int add_nodes(ctx *c, ir_graph *g, const nlist *l, int depth) {
  /* Outputs first, so that inputs may name any of them. */
  for (int i = 0; i < l->n; i++) {
    const nrec *r = &l->v[i];
    if (is_constant(r)) {
      if (constant_tensor(c, g, r)) return -1;
      continue;
    }
    for (int j = 0; j < r->n_out; j++)
      if (r->out[j][0] && !ir_add_tensor(g, r->out[j], IR_UNDEF, IR_ACTIVATION))
        return ir_error("node '%s' (%s): output '%s' is already defined", r->name, r->op_type, r->out[j]);
  }
  for (int i = 0; i < l->n; i++) {
    const nrec *r = &l->v[i];
    if (is_constant(r)) continue;
    ir_node *n = ir_add_node(g, r->op_type, r->name);
    free(n->domain);
    n->domain = ir_strdup(r->domain);
    n->opset = r->opset;
    for (int j = 0; j < r->n_attr; j++)
      if (convert_attr(c, g, n, r->attr[j].name, r->attr[j].a, depth)) return -1;
    onnx_inputs in = {NULL, 0, 0};
    int rc = 0;
    for (int j = 0; j < r->n_in && rc == 0; j++) {
      ir_tensor *t = NULL;
      if (r->in[j][0] && !(t = ir_lookup_tensor(g, r->in[j])))
        rc = op_fail(n, "input '%s' is not defined", r->in[j]);
      else
        rc = onnx_set_input(n, &in, j, t);
    }
    if (rc == 0) rc = onnx_normalize(g, n, &in);
    if (rc == 0) {
      ir_tensor **out = ir_alloc((size_t)(r->n_out + 1) * sizeof *out);
      for (int j = 0; j < r->n_out; j++) out[j] = r->out[j][0] ? ir_find_tensor(g, r->out[j]) : NULL;
      ir_node_set_io(n, in.n, in.v, r->n_out, out);
      free(out);
    }
    free(in.v);
    if (rc) return -1;
  }
  return 0;
}

static int add_outputs(ctx *c, ir_graph *g, const Onnx__GraphProto *gp) {
  if (gp->n_output == 0) return ir_error("graph '%s' has no outputs", g->name);
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    const char *name = vi ? S(vi->name) : "";
    if (!name[0]) return ir_error("graph '%s': output %zu has no name", g->name, i);
    ir_dtype dt;
    int rank;
    int64_t dims[IR_MAX_RANK];
    const char *params[IR_MAX_RANK];
    if (read_type(vi, "output", 1, &dt, &rank, dims, params)) return -1;
    ir_tensor *t = ir_find_tensor(g, name);
    if (!t && g->parent && ir_lookup_tensor(g->parent, name)) {
      /* A subgraph returning an outer value: copy it in with an Identity. */
      ir_tensor *src = ir_lookup_tensor(g->parent, name);
      t = ir_add_tensor(g, name, src->dtype, IR_ACTIVATION);
      char nm[300];
      snprintf(nm, sizeof nm, "%s_identity", name);
      ir_node *n = ir_add_node(g, "Identity", nm);
      int64_t v = 1;
      find_opset(c->m->opset_import, c->m->n_opset_import, "", &v);
      n->opset = (int)(v > 0 && v <= MAX_OPSET ? v : 1);
      ir_node_set_io(n, 1, &src, 1, &t);
    }
    if (!t) return ir_error("graph '%s': output '%s' is not computed by any node", g->name, name);
    if (t->is_output) return ir_error("graph '%s': output '%s' is listed twice", g->name, name);
    if (dt != IR_UNDEF) {
      if (t->dtype == IR_UNDEF)
        t->dtype = dt;
      else if (t->dtype != dt)
        return ir_error("graph '%s': output '%s' is declared %s but is %s", g->name, name, ir_dtype_name(dt),
                        ir_dtype_name(t->dtype));
    }
    if (rank >= 0 && t->rank < 0 && t->role == IR_ACTIVATION) set_decl_shape(c, t, rank, dims, params);
    ir_graph_add_output(g, t);
  }
  return 0;
}

static int build_graph(ctx *c, ir_graph *g, const Onnx__GraphProto *gp, int depth, int is_main) {
  if (add_initializers(c, g, gp) || add_inputs(c, g, gp, is_main)) return -1;
  nlist l = {NULL, 0, 0};
  int rc = flatten(c, gp, &l, depth);
  if (rc == 0) rc = add_nodes(c, g, &l, depth);
  free(l.v);
  if (rc == 0) rc = add_outputs(c, g, gp);
  return rc;
}

/* ---- whole model -------------------------------------------------------- */

/* The unsupported op types of a model, each with its first node and its
 * node count, in the order they are met: the error names every one. */
typedef struct unsup {
  const ir_node **first;
  int *count;
  int n, cap, nodes;
} unsup;

static void collect_unsupported(const ir_graph *g, unsup *u) {
  for (int i = 0; i < g->n_nodes; i++) {
    const ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_attr; j++)
      if (n->attrs[j].g) collect_unsupported(n->attrs[j].g, u);
    if (op_find(n->domain, n->op_type)) continue;
    u->nodes++;
    int k = 0;
    while (k < u->n && (strcmp(u->first[k]->op_type, n->op_type) || strcmp(u->first[k]->domain, n->domain))) k++;
    if (k < u->n) {
      u->count[k]++;
      continue;
    }
    if (u->n == u->cap) {
      u->cap = u->cap ? 2 * u->cap : 16;
      u->first = ir_realloc(u->first, sizeof *u->first * (size_t)u->cap);
      u->count = ir_realloc(u->count, sizeof *u->count * (size_t)u->cap);
    }
    u->first[u->n] = n;
    u->count[u->n++] = 1;
  }
}

/* "unsupported ops: node 'a' (Foo), node 'b' (Bar, domain x; 3 nodes); 2 op
 * types in 4 nodes": 0
 * when there are none, else -1 after ir_error(). */
static int report_unsupported(const ir_graph *g) {
  unsup u;
  memset(&u, 0, sizeof u);
  collect_unsupported(g, &u);
  if (!u.n) return 0;
  size_t len = 64;
  for (int k = 0; k < u.n; k++)
    len += strlen(u.first[k]->name) + strlen(u.first[k]->op_type) + strlen(u.first[k]->domain) + 64;
  char *buf = ir_alloc(len);
  size_t at = (size_t)snprintf(buf, len, "unsupported ops: ");
  for (int k = 0; k < u.n; k++) {
    const ir_node *n = u.first[k];
    char more[40] = "";
    if (u.count[k] > 1) snprintf(more, sizeof more, "; %d nodes", u.count[k]);
    at += (size_t)snprintf(buf + at, len - at, "%snode '%s' (%s%s%s%s)", k ? ", " : "", n->name, n->op_type,
                           n->domain[0] ? ", domain " : "", n->domain, more);
  }
  if (u.nodes > u.n)   /* some type has several nodes: say how many in all */
    snprintf(buf + at, len - at, "; %d op type%s in %d nodes", u.n, u.n == 1 ? "" : "s", u.nodes);
  ir_error("%s", buf);
  free(buf);
  free(u.first);
  free(u.count);
  return -1;
}

/* Sort every graph (inner ones first) and bind its nodes to the op table. */
static int finish(ir_graph *g) {
  if (ir_graph_toposort(g)) return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_attr; j++)
      if (n->attrs[j].g && finish(n->attrs[j].g)) return -1;
    if (op_validate(n)) return -1;
  }
  return 0;
}

static int toposort_all(ir_graph *g) {
  if (ir_graph_toposort(g)) return -1;
  for (int i = 0; i < g->n_nodes; i++)
    for (int j = 0; j < g->nodes[i]->n_attr; j++)
      if (g->nodes[i]->attrs[j].g && toposort_all(g->nodes[i]->attrs[j].g)) return -1;
  return 0;
}

/* ---- nesting depth before protobuf-c -------------------------------- */

/* protobuf-c unpacks nested messages by recursion with no depth limit, so a
 * model with subgraphs (or sequence types) nested 100000 deep would
 * overflow the stack inside onnx__model_proto__unpack.  This walks the
 * wire format first, without recursion, following only the fields of
 * onnx.proto through which messages can nest, and refuses deep files.
 * Malformed bytes are left for protobuf-c to reject. */
enum { W_MODEL, W_GRAPH, W_NODE, W_ATTR, W_FUNC, W_VINFO, W_TYPE, W_TSEQ, W_TMAP, W_TOPT, W_TRAIN, W_NONE };
#define MAX_WIRE_DEPTH 400   /* messages; MAX_DEPTH subgraphs need about 5 each */

static int wire_child(int kind, uint64_t field) {
  switch (kind) {
  case W_MODEL: return field == 7 ? W_GRAPH : field == 25 ? W_FUNC : field == 20 ? W_TRAIN : W_NONE;
  case W_TRAIN: return field == 1 || field == 2 ? W_GRAPH : W_NONE;
  case W_GRAPH: return field == 1 ? W_NODE : field >= 11 && field <= 13 ? W_VINFO : W_NONE;
  case W_NODE: return field == 5 ? W_ATTR : W_NONE;
  case W_ATTR: return field == 6 || field == 11 ? W_GRAPH : field == 14 || field == 15 ? W_TYPE : W_NONE;
  case W_FUNC: return field == 7 ? W_NODE : W_NONE;
  case W_VINFO: return field == 2 ? W_TYPE : W_NONE;
  case W_TYPE: return field == 4 ? W_TSEQ : field == 5 ? W_TMAP : field == 9 ? W_TOPT : W_NONE;
  case W_TSEQ: case W_TOPT: return field == 1 ? W_TYPE : W_NONE;
  case W_TMAP: return field == 2 ? W_TYPE : W_NONE;
  default: return W_NONE;
  }
}

static int wire_varint(const unsigned char *p, size_t end, size_t *pos, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= end) return -1;
    unsigned char b = p[(*pos)++];
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 0;
  }
  return -1;
}

/* 0 if nesting stays within MAX_WIRE_DEPTH (or the bytes are malformed). */
static int wire_depth_ok(const unsigned char *p, size_t len) {
  size_t ends[MAX_WIRE_DEPTH];
  int kinds[MAX_WIRE_DEPTH];
  int top = 0;
  size_t pos = 0;
  ends[0] = len;
  kinds[0] = W_MODEL;
  for (;;) {
    while (top > 0 && pos >= ends[top]) top--;
    if (pos >= ends[top]) return 0;
    uint64_t key, v;
    if (wire_varint(p, ends[top], &pos, &key)) return 0;
    switch (key & 7) {
    case 0: if (wire_varint(p, ends[top], &pos, &v)) return 0; break;
    case 1: if (ends[top] - pos < 8) return 0; pos += 8; break;
    case 5: if (ends[top] - pos < 4) return 0; pos += 4; break;
    case 2: {
      if (wire_varint(p, ends[top], &pos, &v) || v > ends[top] - pos) return 0;
      int child = wire_child(kinds[top], key >> 3);
      if (child == W_NONE || v == 0) {
        pos += (size_t)v;
        break;
      }
      if (top + 1 >= MAX_WIRE_DEPTH) return -1;
      top++;
      ends[top] = pos + (size_t)v;
      kinds[top] = child;
      break;
    }
    default: return 0;   /* groups and bad wire types: protobuf-c decides */
    }
  }
}

Onnx__ModelProto *onnx_unpack_model(const void *buf, size_t len, const char *what) {
  if (wire_depth_ok(buf, len) != 0) {
    ir_error("%s: messages nest more than %d deep (subgraphs or types nested too deeply)", what,
             MAX_WIRE_DEPTH);
    return NULL;
  }
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  if (!m) ir_error("%s: not an ONNX model (protobuf parse failed)", what);
  return m;
}

static ir_graph *load(const void *buf, size_t len, const char *base_dir, const onnx_load_opts *o,
                      const char *what) {
  static const onnx_load_opts no_opts;
  if (!o) o = &no_opts;
  if (len == 0) {
    ir_error("%s: not an ONNX model (empty)", what);
    return NULL;
  }
  Onnx__ModelProto *m = onnx_unpack_model(buf, len, what);
  if (!m) return NULL;
  if (!m->graph) {
    onnx__model_proto__free_unpacked(m, NULL);
    ir_error("%s: not an ONNX model (no graph)", what);
    return NULL;
  }
  ctx c;
  memset(&c, 0, sizeof c);
  c.m = m;
  c.o = o;
  c.base_dir = base_dir;
  c.max_bytes = o->max_bytes > 0 ? o->max_bytes : ONNX_DEFAULT_MAX_BYTES;
  ir_graph *g = ir_graph_new(m->graph->name && m->graph->name[0] ? m->graph->name : "main", NULL);
  g->max_bytes = c.max_bytes;   /* shape inference holds computed tensors to it too */
  int rc = build_graph(&c, g, m->graph, 0, 1);
  if (rc == 0 && o->no_bind) rc = toposort_all(g);
  else if (rc == 0) {
    rc = report_unsupported(g);
    if (rc == 0) rc = finish(g);
  }
  pool_free(&c);
  free(c.syms);
  onnx__model_proto__free_unpacked(m, NULL);
  if (rc) {
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

ir_graph *onnx_load_buffer(const void *buf, size_t len, const char *base_dir, const onnx_load_opts *o) {
  return load(buf, len, base_dir, o, "<buffer>");
}

ir_graph *onnx_load_file(const char *path, const onnx_load_opts *o) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    ir_error("%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = ir_alloc(cap);
  for (;;) {
    if (len == cap) {
      if (cap > MAX_FILE_BYTES) break;
      cap *= 2;
      buf = ir_realloc(buf, cap);
    }
    size_t k = fread(buf + len, 1, cap - len, f);
    len += k;
    if (k == 0) break;
  }
  int err = ferror(f) ? errno : 0;
  fclose(f);
  if (err) {
    free(buf);
    ir_error("%s: %s", path, strerror(err));
    return NULL;
  }
  if (len > MAX_FILE_BYTES) {
    free(buf);
    ir_error("%s: not an ONNX model (larger than protobuf's 2 GiB limit)", path);
    return NULL;
  }
  /* External data is looked up beside the model file only. */
  char *dir = ir_strdup(path);
  char *slash = strrchr(dir, '/');
  if (!slash) {
    free(dir);
    dir = ir_strdup(".");
  } else {
    slash[slash == dir ? 1 : 0] = 0;
  }
  ir_graph *g = load(buf, len, dir, o, path);
  free(dir);
  free(buf);
  return g;
}
