/*
 * dsl_build.c - from the syntax tree to IR, and the frontend's entry points.
 *
 * The builder walks the file in phases:
 *   1. settings (model, seed, weights), wherever they are written;
 *   2. declared inputs, then the --shape/--dim/--const bindings
 *      (ir_bind_inputs), then the default sizes of named dimensions that no
 *      binding fixed (input x: f32[N=1, 784]);
 *   3. parameters, each with its initializer or its values from a .npz;
 *   4. assignments in file order: an op of the op table by name, or a
 *      layer shorthand that makes its own parameters (dense, conv2d, ...).
 *      Each node is validated (op_validate) and its output shapes inferred
 *      as soon as it is built, so a shorthand knows the sizes of its input
 *      and an op whose inputs do not fit is reported at its line;
 *   5. outputs and the train block (validated into the graph's ir_train).
 * Then fe_finish as for every frontend (the bindings are applied already).
 *
 * A name must be defined before it is used.  A name used before the line
 * that defines it is either a cycle (its definition depends on this line)
 * or an ordering mistake, and the message says which.  A statement that
 * fails marks its targets as failed, and statements that use a failed name
 * fail silently, so every independent error is reported once.
 *
 * Nodes are named after their statement's first target ("h1"; the inner
 * nodes of a shorthand "h1/conv", "h1/relu"), shorthand parameters after
 * it too ("h1.weight", "h1.bias"), as PyTorch names them; dsl_explain uses
 * this to find the statement behind a later stage's error.
 */
#include "dsl_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "runtime/npz.h"
#include "runtime/tensor_io.h"

#define DSL_OPSET 17          /* ai.onnx opset of every node (and of `modelc export`) */

typedef struct builder {
  dsl_src *src;
  const fe_opts *o;
  const char *base_dir;       /* NULL: no file may be read */
  dsl_file *f;
  ir_graph *g;
  uint64_t seed;
  int weights_stmt;           /* index of the weights statement, -1 if none */
  npz_file weights;
  int64_t max_bytes, used;
  char **failed;              /* targets of statements that failed */
  int n_failed;
  int cur;                    /* index of the assignment being built */
} builder;

/* ---- small helpers -------------------------------------------------------- */

static void mark_failed(builder *b, const dsl_stmt *s) {
  for (int i = 0; i < s->n_names; i++) {
    b->failed = ir_realloc(b->failed, (size_t)(b->n_failed + 1) * sizeof *b->failed);
    b->failed[b->n_failed++] = s->names[i].name;
  }
}

static int is_failed(const builder *b, const char *name) {
  for (int i = 0; i < b->n_failed; i++)
    if (strcmp(b->failed[i], name) == 0) return 1;
  return 0;
}

static const char *shape_str(const ir_tensor *t, char *buf, size_t n) {
  if (t->rank < 0) return "of unknown shape";
  return ir_shape_str(t, buf, n);
}

static const struct {
  const char *name, *longname;
  ir_dtype dt;
} dtypes[] = {
    {"f32", "float32", IR_F32}, {"f64", "float64", IR_F64}, {"f16", "float16", IR_F16},
    {"i8", "int8", IR_I8},      {"i16", "int16", IR_I16},   {"i32", "int32", IR_I32},
    {"i64", "int64", IR_I64},   {"u8", "uint8", IR_U8},     {"u16", "uint16", IR_U16},
    {"u32", "uint32", IR_U32},  {"u64", "uint64", IR_U64},  {"bool", "bool", IR_BOOL},
};

static ir_dtype dtype_of(builder *b, const dsl_type *t) {
  for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
    if (!strcmp(t->dtype, dtypes[i].name) || !strcmp(t->dtype, dtypes[i].longname)) return dtypes[i].dt;
  dsl_report(b->src, t->pos, "unknown dtype '%s' (f32, f64, f16, i8, i16, i32, i64, u8, u16, u32, u64, bool)", t->dtype);
  return IR_UNDEF;
}

/* Statement index defining name (an assignment target), or -1. */
static int definer(const builder *b, const char *name) {
  for (int i = 0; i < b->f->n_stmts; i++) {
    const dsl_stmt *s = b->f->stmts[i];
    if (s->kind != S_ASSIGN) continue;
    for (int k = 0; k < s->n_names; k++)
      if (!strcmp(s->names[k].name, name)) return i;
  }
  return -1;
}

/* Does expression e (or what the names in it are computed from) use a
 * target of statement `of`?  seen[] guards against cycles not through it. */
static int uses_target(const builder *b, const dsl_expr *e, int of, char *seen) {
  if (!e) return 0;
  if (e->kind == E_NAME) {
    const dsl_stmt *s = b->f->stmts[of];
    for (int k = 0; k < s->n_names; k++)
      if (!strcmp(s->names[k].name, e->text)) return 1;
    int d = definer(b, e->text);
    if (d < 0 || seen[d]) return 0;
    seen[d] = 1;
    return uses_target(b, b->f->stmts[d]->value, of, seen);
  }
  for (int i = 0; i < e->n; i++)
    if (uses_target(b, e->items[i], of, seen)) return 1;
  for (int i = 0; i < e->n_kw; i++)
    if (uses_target(b, e->kw[i].value, of, seen)) return 1;
  return 0;
}

/* The tensor a name refers to at this point, or NULL after an error (none
 * printed when the name's own statement failed). */
static ir_tensor *lookup(builder *b, const char *name, dsl_pos pos) {
  if (is_failed(b, name)) return NULL;
  ir_tensor *t = ir_find_tensor(b->g, name);
  if (t) return t;
  int d = definer(b, name);
  if (d >= 0 && d >= b->cur) {
    char *seen = ir_alloc((size_t)b->f->n_stmts);
    int cyc = d == b->cur || uses_target(b, b->f->stmts[d]->value, b->cur, seen);
    free(seen);
    if (cyc)
      dsl_report(b->src, pos, "'%s' (line %d) depends on the result of this statement: the graph would have a cycle",
                name, b->f->stmts[d]->pos.line);
    else
      dsl_report(b->src, pos, "'%s' is used before its definition on line %d", name, b->f->stmts[d]->pos.line);
    return NULL;
  }
  dsl_report(b->src, pos, "undefined name '%s'", name);
  return NULL;
}

/* ---- argument lists ------------------------------------------------------- */

/* Match a call's arguments to the names a layer or initializer takes:
 * positional ones in order, keywords by name.  out[k] is NULL when absent. */
static int bind_args(builder *b, const dsl_expr *c, const char *what, const char *const *names, int n,
                     const dsl_expr **out) {
  for (int k = 0; k < n; k++) out[k] = NULL;
  if (c->kind != E_CALL) return 0;
  if (c->n > n) return dsl_error(b->src, c->items[n]->pos, "%s '%s' takes at most %d arguments", what, c->text, n);
  for (int i = 0; i < c->n; i++) out[i] = c->items[i];
  for (int i = 0; i < c->n_kw; i++) {
    int k = 0;
    while (k < n && strcmp(names[k], c->kw[i].name)) k++;
    if (k == n) {
      char list[512] = "";
      size_t len = 0;
      for (int j = 0; j < n; j++) len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s", j ? ", " : "", names[j]);
      return dsl_error(b->src, c->kw[i].pos, "%s '%s' has no argument '%s' (it takes: %s)", what, c->text, c->kw[i].name, list);
    }
    if (out[k]) return dsl_error(b->src, c->kw[i].pos, "argument '%s' of '%s' is given twice", names[k], c->text);
    out[k] = c->kw[i].value;
  }
  return 0;
}

static int want_int(builder *b, const dsl_expr *e, const char *what, int64_t *v) {
  if (e->kind != E_NUMBER || !e->is_int) return dsl_error(b->src, e->pos, "%s must be an integer", what);
  *v = e->ival;
  return 0;
}

static int want_pos_int(builder *b, const dsl_expr *e, const char *what, int64_t *v) {
  if (want_int(b, e, what, v)) return -1;
  if (*v <= 0 || *v > ((int64_t)1 << 40)) return dsl_error(b->src, e->pos, "%s must be a positive integer", what);
  return 0;
}

static int want_float(builder *b, const dsl_expr *e, const char *what, double *v) {
  if (e->kind != E_NUMBER) return dsl_error(b->src, e->pos, "%s must be a number", what);
  *v = e->fval;
  return 0;
}

/* An integer or a list of n positive integers ("kernel=3" or "kernel=[3, 5]"). */
static int want_pair(builder *b, const dsl_expr *e, const char *what, int n, int64_t *v, int allow_zero) {
  if (e->kind == E_NUMBER && e->is_int) {
    for (int i = 0; i < n; i++) v[i] = e->ival;
  } else if (e->kind == E_LIST && e->n == n) {
    for (int i = 0; i < n; i++) {
      if (e->items[i]->kind != E_NUMBER || !e->items[i]->is_int)
        return dsl_error(b->src, e->items[i]->pos, "%s must be integers", what);
      v[i] = e->items[i]->ival;
    }
  } else {
    return dsl_error(b->src, e->pos, "%s must be an integer or a list of %d integers", what, n);
  }
  for (int i = 0; i < n; i++)
    if (v[i] < (allow_zero ? 0 : 1) || v[i] > 65536) return dsl_error(b->src, e->pos, "%s out of range", what);
  return 0;
}

static int want_bool(builder *b, const dsl_expr *e, const char *what, int *v) {
  if (e->kind == E_NAME && (!strcmp(e->text, "true") || !strcmp(e->text, "false"))) {
    *v = e->text[0] == 't';
    return 0;
  }
  return dsl_error(b->src, e->pos, "%s must be true or false", what);
}

static ir_tensor *want_tensor(builder *b, const dsl_expr *e, const char *what) {
  if (!e) return NULL;
  if (e->kind == E_CALL) {
    dsl_report(b->src, e->pos, "calls do not nest: give %s(...) a line of its own and use its name here", e->text);
    return NULL;
  }
  if (e->kind != E_NAME) {
    dsl_report(b->src, e->pos, "%s must name a tensor", what);
    return NULL;
  }
  return lookup(b, e->text, e->pos);
}

/* ---- constants and parameters ---------------------------------------------- */

static int charge(builder *b, dsl_pos pos, const char *name, int64_t bytes) {
  if (bytes < 0 || bytes > b->max_bytes - b->used)
    return dsl_error(b->src, pos, "'%s' takes the model past its limit of %lld bytes of weights", name, (long long)b->max_bytes);
  b->used += bytes;
  return 0;
}

/* Read the .npz named by string e (relative to the model's folder, which it
 * may not leave: no absolute paths, no "..") into z. */
static int read_npz(builder *b, const dsl_expr *e, npz_file *z) {
  const char *f = e->text;
  int up = f[0] == '/' || !f[0];
  for (const char *q = f; *q && !up; q = strchr(q, '/') ? strchr(q, '/') + 1 : q + strlen(q))
    up = q[0] == '.' && q[1] == '.' && (q[2] == '/' || !q[2]);
  if (up) return dsl_error(b->src, e->pos, "'%s': weights are read from the model's folder and below only", f);
  if (!b->base_dir) return dsl_error(b->src, e->pos, "files cannot be read here");
  char path[4096], err[1024];
  snprintf(path, sizeof path, "%s/%s", b->base_dir, f);
  if (npz_read(path, b->max_bytes, z, err, sizeof err)) return dsl_error(b->src, e->pos, "%s", err);
  return 0;
}

static ir_tensor *new_const(builder *b, const char *base, ir_dtype dt, int rank, const int64_t *dims, const void *data) {
  ir_tensor *t = ir_add_tensor_unique(b->g, base, dt, IR_CONST);
  ir_set_shape(t, rank, dims);
  ir_tensor_set_data(t, data, (size_t)ir_nbytes(t));
  return t;
}

static const char *const init_names[] = {"zeros", "ones", "constant", "uniform", "normal", "xavier", "glorot",
                                         "xavier_normal", "glorot_normal", "kaiming", "he", "kaiming_normal",
                                         "he_normal", "load"};

/* Values of parameter `name` of the given shape from initializer e (NULL:
 * the default `def`).  A parameter the weights file holds comes from it. */
static ir_tensor *make_param(builder *b, const char *name, dsl_pos pos, int rank, const int64_t *dims,
                             const dsl_expr *e, dsl_init_kind def) {
  if (ir_find_tensor(b->g, name) || definer(b, name) >= 0) {
    dsl_report(b->src, pos, "'%s' is already defined", name);
    return NULL;
  }
  int64_t n = ir_numel_dims(rank, dims);
  if (n < 0 || charge(b, pos, name, n * 4)) {
    if (n < 0) dsl_report(b->src, pos, "'%s' has too many elements", name);
    return NULL;
  }
  const npz_member *m = NULL;
  const char *file = NULL;
  npz_file own;
  memset(&own, 0, sizeof own);
  dsl_init in = {def, def == INIT_KAIMING_UNIFORM ? sqrt(2.0) : 1.0, 0, dsl_default_seed(b->seed, name)};
  int explicit_load = e && e->kind == E_CALL && !strcmp(e->text, "load");
  if (!explicit_load && b->weights.n && (m = npz_find(&b->weights, name))) {
    file = b->f->stmts[b->weights_stmt]->value->text;   /* the weights file wins over initializers */
  } else if (e) {
    const char *kind = e->kind == E_CALL || e->kind == E_NAME ? e->text : "";
    int k = 0, nk = (int)(sizeof init_names / sizeof *init_names);
    while (k < nk && strcmp(init_names[k], kind)) k++;
    if (k == nk) {
      dsl_report(b->src, e->pos, "unknown initializer%s%s%s (zeros, ones, constant, uniform, normal, xavier, glorot, "
                "xavier_normal, kaiming, he, kaiming_normal, load)", kind[0] ? " '" : "", kind, kind[0] ? "'" : "");
      return NULL;
    }
    const char *what = init_names[k];
    if (!strcmp(what, "load")) {
      static const char *const a[] = {"file", "key"};
      const dsl_expr *v[2];
      if (bind_args(b, e, "initializer", a, 2, v)) return NULL;
      if (!v[0] || v[0]->kind != E_STRING) {
        dsl_report(b->src, e->pos, "load takes the .npz file name in quotes: load(\"weights.npz\")");
        return NULL;
      }
      if (v[1] && v[1]->kind != E_STRING) {
        dsl_report(b->src, v[1]->pos, "key must be a string");
        return NULL;
      }
      if (read_npz(b, v[0], &own)) return NULL;
      file = v[0]->text;
      const char *key = v[1] ? v[1]->text : name;
      if (!(m = npz_find(&own, key))) {
        dsl_report(b->src, e->pos, "%s holds no array named '%s'", file, key);
        npz_free(&own);
        return NULL;
      }
    } else {
      const char *names[4] = {"value", NULL, "seed", "gain"};
      int is_unif = !strcmp(what, "uniform"), is_norm = !strcmp(what, "normal");
      if (is_unif) names[0] = "low", names[1] = "high";
      if (is_norm) names[0] = "mean", names[1] = "std";
      const dsl_expr *v[4];
      /* positional: the values first (constant 1, uniform/normal 2), then seed */
      int nvals = !strcmp(what, "constant") ? 1 : is_unif || is_norm ? 2 : 0;
      const char *sig[4];
      int ns = 0;
      for (int i = 0; i < nvals; i++) sig[ns++] = names[i];
      if (strcmp(what, "zeros") && strcmp(what, "ones") && strcmp(what, "constant")) sig[ns++] = "seed";
      if (!nvals && strcmp(what, "zeros") && strcmp(what, "ones")) sig[ns++] = "gain";
      if (bind_args(b, e, "initializer", sig, ns, v)) return NULL;
      double vals[2] = {is_norm ? 0 : -1, 1};
      for (int i = 0; i < nvals; i++) {
        if (!v[i] && !strcmp(what, "constant")) {
          dsl_report(b->src, e->pos, "constant needs its value: constant(0.1)");
          return NULL;
        }
        if (v[i] && want_float(b, v[i], sig[i], &vals[i])) return NULL;
      }
      for (int i = nvals; i < ns; i++) {
        if (!v[i]) continue;
        if (!strcmp(sig[i], "seed")) {
          int64_t s = 0;
          if (want_int(b, v[i], "seed", &s)) return NULL;
          in.seed = (uint64_t)s;
        } else if (want_float(b, v[i], "gain", &in.a)) {
          return NULL;
        }
      }
      if (!strcmp(what, "zeros")) in.kind = INIT_ZEROS;
      else if (!strcmp(what, "ones")) in.kind = INIT_ONES;
      else if (!strcmp(what, "constant")) in.kind = INIT_CONSTANT, in.a = vals[0];
      else if (is_unif || is_norm) {
        in.kind = is_unif ? INIT_UNIFORM : INIT_NORMAL, in.a = vals[0], in.b = vals[1];
        if (is_norm ? in.b < 0 : in.b < in.a) {
          dsl_report(b->src, e->pos, is_norm ? "std must not be negative" : "high must not be below low");
          return NULL;
        }
      } else {
        int normal = strstr(what, "normal") != NULL, kaiming = what[0] == 'k' || what[0] == 'h';
        in.kind = kaiming ? (normal ? INIT_KAIMING_NORMAL : INIT_KAIMING_UNIFORM)
                          : (normal ? INIT_XAVIER_NORMAL : INIT_XAVIER_UNIFORM);
        if (kaiming && !v[ns - 1]) in.a = sqrt(2.0);   /* ReLU's gain, as torch.nn.init.kaiming_* */
        if (!kaiming && !v[ns - 1]) in.a = 1.0;
      }
    }
  }
  ir_tensor *t = ir_add_tensor(b->g, name, IR_F32, IR_PARAM);
  ir_set_shape(t, rank, dims);
  t->data = ir_alloc((size_t)(n * 4));
  if (m) {
    ir_dtype dt = tio_dtype_from_descr(m->a.descr);
    int same = dt == IR_F32 && m->a.rank == rank;
    for (int i = 0; same && i < rank; i++) same = m->a.shape[i] == dims[i];
    if (!same) {
      ir_tensor tmp;
      memset(&tmp, 0, sizeof tmp);
      tmp.rank = m->a.rank;
      memcpy(tmp.shape, m->a.shape, sizeof tmp.shape);
      char want[128], got[128];
      dsl_report(b->src, pos, "parameter '%s' is float32 %s, but %s holds %s %s", name, ir_shape_str(t, want, sizeof want),
                file, dt == IR_UNDEF ? m->a.descr : ir_dtype_name(dt), ir_shape_str(&tmp, got, sizeof got));
      npz_free(&own);
      return NULL;
    }
    memcpy(t->data, m->a.data, (size_t)(n * 4));
  } else {
    dsl_init_fill(&in, rank, dims, t->data, n);
  }
  npz_free(&own);
  return t;
}

/* ---- nodes ------------------------------------------------------------------ */

/* A new node of op `op` for the current statement, named `name`, with its
 * outputs (NULL entries: unused optional outputs). */
static ir_node *add_node(builder *b, const char *op, const char *name, int n_in, ir_tensor *const *in, int n_out,
                         ir_tensor *const *out) {
  char nm[600];
  snprintf(nm, sizeof nm, "%s", name);
  for (int k = 1; ; k++) {   /* node names are unique */
    int clash = 0;
    for (int i = 0; i < b->g->n_nodes && !clash; i++) clash = !strcmp(b->g->nodes[i]->name, nm);
    if (!clash) break;
    snprintf(nm, sizeof nm, "%s_%d", name, k);
  }
  ir_node *n = ir_add_node(b->g, op, nm);
  n->opset = DSL_OPSET;
  ir_node_set_io(n, n_in, in, n_out, out);
  return n;
}

/* Validate n and infer its outputs now, so that errors point at the line.
 * This runs on a copy of the node: validation makes attribute defaults
 * explicit, and the graph keeps the attributes as written (fe_finish
 * validates again, and `modelc export` writes them as written). */
static int settle(builder *b, ir_node *n, dsl_pos pos) {
  ir_node c = *n;
  c.attrs = NULL;
  c.n_attr = 0;
  for (int i = 0; i < n->n_attr; i++) {
    const ir_attr *a = &n->attrs[i];
    switch (a->type) {
    case IR_ATTR_INT: ir_attr_set_int(&c, a->name, a->i); break;
    case IR_ATTR_FLOAT: ir_attr_set_float(&c, a->name, a->f); break;
    case IR_ATTR_STRING: ir_attr_set_string(&c, a->name, a->s); break;
    case IR_ATTR_INTS: ir_attr_set_ints(&c, a->name, a->n, a->ints); break;
    case IR_ATTR_FLOATS: ir_attr_set_floats(&c, a->name, a->n, a->floats); break;
    case IR_ATTR_STRINGS: {
      ir_attr *d = ir_attr_add(&c, a->name, IR_ATTR_STRINGS);
      d->strings = ir_alloc((size_t)(a->n + 1) * sizeof *d->strings);
      for (int j = 0; j < a->n; j++) d->strings[d->n++] = ir_strdup(a->strings[j]);
      break;
    }
    default: break;   /* the language writes no tensors or graphs */
    }
  }
  int rc = 0;
  if (op_validate(&c)) rc = dsl_error(b->src, pos, "%s", ir_last_error());
  else if (c.op->infer && !c.op->expand) {
    int known = 1;
    for (int i = 0; i < c.n_in; i++)
      if (c.in[i] && !ir_shape_known(c.in[i])) known = 0;   /* later: shape inference */
    /* a value that constant folding computes later is left to shape inference */
    if (known && c.op->infer(b->g, &c) && !strstr(ir_last_error(), "compile-time constant"))
      rc = dsl_error(b->src, pos, "%s", ir_last_error());
  }
  while (c.n_attr) ir_attr_remove(&c, c.attrs[0].name);
  free(c.attrs);
  return rc;
}

static ir_tensor *new_out(builder *b, const dsl_name *nm) {
  if (ir_find_tensor(b->g, nm->name)) {
    dsl_report(b->src, nm->pos, "'%s' is already defined", nm->name);
    return NULL;
  }
  return ir_add_tensor(b->g, nm->name, IR_UNDEF, IR_ACTIVATION);
}

/* An intermediate tensor of a shorthand: "<target>/<part>". */
static ir_tensor *tmp_tensor(builder *b, const char *target, const char *part) {
  char nm[600];
  snprintf(nm, sizeof nm, "%s/%s", target, part);
  return ir_add_tensor_unique(b->g, nm, IR_UNDEF, IR_ACTIVATION);
}

/* An op of the op table called by name: positional arguments are its
 * inputs (a list of integers or a number becomes a constant, _ a missing
 * input), keywords its attributes, checked against the op's attribute specs. */
static int build_op(builder *b, const dsl_stmt *s, const op_def *d) {
  const dsl_expr *c = s->value;
  if (c->n < d->min_in || (d->max_in >= 0 && c->n > d->max_in)) {
    if (d->max_in < 0) return dsl_error(b->src, c->pos, "%s takes at least %d inputs, got %d", d->name, d->min_in, c->n);
    if (d->min_in == d->max_in) return dsl_error(b->src, c->pos, "%s takes %d inputs, got %d", d->name, d->min_in, c->n);
    return dsl_error(b->src, c->pos, "%s takes %d to %d inputs, got %d", d->name, d->min_in, d->max_in, c->n);
  }
  if (s->n_names < d->min_out || (d->max_out >= 0 && s->n_names > d->max_out))
    return dsl_error(b->src, s->pos, "%s has %d to %d outputs, %d are assigned", d->name, d->min_out, d->max_out, s->n_names);
  /* attributes first: they are checked without looking at the inputs */
  ir_node tmp;
  memset(&tmp, 0, sizeof tmp);
  for (int i = 0; i < c->n_kw; i++) {
    const dsl_kwarg *k = &c->kw[i];
    const op_attr_spec *a = d->attrs;
    while (a && a->name && strcmp(a->name, k->name)) a++;
    if (!a || !a->name || k->name[0] == '_') {
      char list[600] = "";
      size_t len = 0;
      for (const op_attr_spec *q = d->attrs; q && q->name; q++)
        if (q->name[0] != '_')
          len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s", len ? ", " : "", q->name);
      dsl_report(b->src, k->pos, "%s has no attribute '%s' (%s%s)", d->name, k->name, len ? "it takes: " : "it takes none",
                list);
      goto fail;
    }
    const dsl_expr *v = k->value;
    switch (a->type) {
    case IR_ATTR_INT: {
      int64_t x = 0;
      int bv = 0;
      if (v->kind == E_NAME && !want_bool(b, v, k->name, &bv)) {
        ir_attr_set_int(&tmp, k->name, bv);
        break;
      }
      if (v->kind == E_NAME) goto fail;
      if (want_int(b, v, k->name, &x)) goto fail;
      ir_attr_set_int(&tmp, k->name, x);
      break;
    }
    case IR_ATTR_FLOAT: {
      double x = 0;
      if (want_float(b, v, k->name, &x)) goto fail;
      ir_attr_set_float(&tmp, k->name, x);
      break;
    }
    case IR_ATTR_STRING:
      if (v->kind != E_STRING && v->kind != E_NAME) {
        dsl_report(b->src, v->pos, "%s must be a string", k->name);
        goto fail;
      }
      ir_attr_set_string(&tmp, k->name, v->text);
      break;
    case IR_ATTR_INTS:
    case IR_ATTR_FLOATS:
    case IR_ATTR_STRINGS: {
      int n = v->kind == E_LIST ? v->n : 1;
      const dsl_expr *const *it = v->kind == E_LIST ? (const dsl_expr *const *)v->items : &v;
      int64_t *iv = ir_alloc((size_t)(n + 1) * sizeof *iv);
      double *fv = ir_alloc((size_t)(n + 1) * sizeof *fv);
      int bad = 0;
      for (int j = 0; j < n && !bad; j++) {
        if (a->type == IR_ATTR_STRINGS) bad = it[j]->kind != E_STRING;
        else if (a->type == IR_ATTR_INTS) bad = it[j]->kind != E_NUMBER || !it[j]->is_int;
        else bad = it[j]->kind != E_NUMBER;
        if (!bad) iv[j] = it[j]->ival, fv[j] = it[j]->fval;
        if (bad)
          dsl_report(b->src, it[j]->pos, "%s takes a list of %s", k->name,
                    a->type == IR_ATTR_STRINGS ? "strings" : a->type == IR_ATTR_INTS ? "integers" : "numbers");
      }
      if (!bad && a->type == IR_ATTR_INTS) ir_attr_set_ints(&tmp, k->name, n, iv);
      if (!bad && a->type == IR_ATTR_FLOATS) ir_attr_set_floats(&tmp, k->name, n, fv);
      if (!bad && a->type == IR_ATTR_STRINGS) {
        ir_attr *at = ir_attr_add(&tmp, k->name, IR_ATTR_STRINGS);
        at->strings = ir_alloc((size_t)(n + 1) * sizeof *at->strings);
        for (int j = 0; j < n; j++) at->strings[at->n++] = ir_strdup(it[j]->text);
      }
      free(iv);
      free(fv);
      if (bad) goto fail;
      break;
    }
    default:
      dsl_report(b->src, k->pos, "attribute '%s' of %s holds a %s, which the model language cannot write", k->name,
                d->name, ir_attr_type_name(a->type));
      goto fail;
    }
  }
  {
    /* inputs */
    ir_tensor **in = ir_alloc((size_t)(c->n + 1) * sizeof *in);
    ir_dtype first = IR_UNDEF;
    for (int i = 0; i < c->n && first == IR_UNDEF; i++)
      if (c->items[i]->kind == E_NAME) {
        ir_tensor *t = ir_find_tensor(b->g, c->items[i]->text);
        if (t) first = t->dtype;
      }
    int rc = 0;
    for (int i = 0; i < c->n && rc == 0; i++) {
      const dsl_expr *a = c->items[i];
      char base[600];
      snprintf(base, sizeof base, "%s/in%d", s->names[0].name, i);
      if (a->kind == E_NONE) {
        if (i < d->min_in) rc = dsl_error(b->src, a->pos, "input %d of %s is required", i, d->name);
      } else if (a->kind == E_NAME) {
        if (!(in[i] = lookup(b, a->text, a->pos))) rc = -1;
      } else if (a->kind == E_NUMBER) {
        /* a scalar takes the dtype of the op's first tensor input */
        ir_dtype dt = ir_dtype_is_float(first) || (first == IR_UNDEF && !a->is_int) ? IR_F32 : a->is_int ? IR_I64 : IR_F32;
        if (first == IR_F64) dt = IR_F64;
        int64_t iv = a->ival;
        float f = (float)a->fval;
        double dv = a->fval;
        in[i] = new_const(b, base, dt, 0, NULL, dt == IR_I64 ? (void *)&iv : dt == IR_F64 ? (void *)&dv : (void *)&f);
      } else if (a->kind == E_LIST) {
        int ints = 1;
        for (int j = 0; j < a->n; j++) {
          if (a->items[j]->kind != E_NUMBER) {
            rc = dsl_error(b->src, a->items[j]->pos, "a constant list holds numbers only");
            break;
          }
          ints &= a->items[j]->is_int;
        }
        if (rc) break;
        int64_t len = a->n;
        void *data = ir_alloc((size_t)(len + 1) * 8);
        for (int j = 0; j < a->n; j++) {
          if (ints) ((int64_t *)data)[j] = a->items[j]->ival;
          else ((float *)data)[j] = (float)a->items[j]->fval;
        }
        in[i] = new_const(b, base, ints ? IR_I64 : IR_F32, 1, &len, data);
        free(data);
      } else if (a->kind == E_CALL) {
        rc = dsl_error(b->src, a->pos, "calls do not nest: give %s(...) a line of its own and use its name here", a->text);
      } else {
        rc = dsl_error(b->src, a->pos, "an input must name a tensor, or be a number, a list of numbers or _");
      }
    }
    ir_tensor **out = ir_alloc((size_t)(s->n_names + 1) * sizeof *out);
    for (int i = 0; i < s->n_names && rc == 0; i++)
      if (!(out[i] = new_out(b, &s->names[i]))) rc = -1;
    if (rc == 0) {
      ir_node *n = add_node(b, d->name, s->names[0].name, c->n, in, s->n_names, out);
      for (int i = 0; i < tmp.n_attr; i++) {   /* move the checked attributes over */
        n->attrs = ir_realloc(n->attrs, (size_t)(n->n_attr + 1) * sizeof *n->attrs);
        n->attrs[n->n_attr++] = tmp.attrs[i];
      }
      free(tmp.attrs);
      tmp.attrs = NULL;
      tmp.n_attr = 0;
      rc = settle(b, n, c->pos);
    }
    free(in);
    free(out);
    if (rc == 0) return 0;
  }
fail:
  while (tmp.n_attr) ir_attr_remove(&tmp, tmp.attrs[0].name);
  free(tmp.attrs);
  return -1;
}

/* ---- layer shorthands ------------------------------------------------------- */

typedef struct layer layer;
typedef int (*layer_fn)(builder *b, const dsl_stmt *s, const dsl_expr **v);

struct layer {
  const char *name;
  int max_targets;
  layer_fn build;
  const char *args[10];       /* NULL-terminated */
};

/* act=relu|sigmoid|tanh|softmax after the layer's last node: y becomes the target. */
static int activation(builder *b, const dsl_stmt *s, const dsl_expr *act, ir_tensor *x, ir_tensor *y) {
  static const char *const names[][2] = {{"relu", "Relu"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"softmax", "Softmax"}};
  int k = 0;
  while (k < 4 && strcmp(names[k][0], act->text ? act->text : "")) k++;
  if (act->kind != E_NAME || k == 4) return dsl_error(b->src, act->pos, "act must be relu, sigmoid, tanh or softmax");
  char nm[600];
  snprintf(nm, sizeof nm, "%s/%s", s->names[0].name, names[k][0]);
  return settle(b, add_node(b, names[k][1], nm, 1, &x, 1, &y), act->pos);
}

/* Input 0 of a layer with its rank checked: "shape does not fit" at the argument. */
static ir_tensor *layer_input(builder *b, const dsl_stmt *s, const dsl_expr *e, int rank, const char *layout) {
  if (!e) {
    dsl_report(b->src, s->value->pos, "%s needs its input tensor", s->value->text);
    return NULL;
  }
  ir_tensor *x = want_tensor(b, e, "the input");
  if (!x) return NULL;
  char sh[128];
  if (x->rank != rank || !ir_shape_known(x)) {
    dsl_report(b->src, e->pos, "%s takes a %s input; '%s' is %s", s->value->text, layout, x->name, shape_str(x, sh, sizeof sh));
    return NULL;
  }
  if (x->dtype != IR_F32) {
    dsl_report(b->src, e->pos, "%s takes float32 input; '%s' is %s", s->value->text, x->name, ir_dtype_name(x->dtype));
    return NULL;
  }
  for (int i = 0; i < rank; i++)
    if (x->shape[i] == 0) {
      dsl_report(b->src, e->pos, "%s takes a non-empty input; '%s' is %s", s->value->text, x->name, shape_str(x, sh, sizeof sh));
      return NULL;
    }
  return x;
}

static char *pname(const dsl_stmt *s, const char *what) {
  size_t n = strlen(s->names[0].name) + strlen(what) + 2;
  char *p = ir_alloc(n);
  snprintf(p, n, "%s.%s", s->names[0].name, what);
  return p;
}

/* The layer's parameter "<target>.<what>", freed name included. */
static ir_tensor *lparam(builder *b, const dsl_stmt *s, const char *what, int rank, const int64_t *dims,
                         const dsl_expr *init, dsl_init_kind def) {
  char *nm = pname(s, what);
  ir_tensor *t = make_param(b, nm, s->names[0].pos, rank, dims, init, def);
  free(nm);
  return t;
}

static int opt_bias(builder *b, const dsl_expr *e, int *bias) {
  *bias = 1;
  return e ? want_bool(b, e, "bias", bias) : 0;
}

/* dense(x, units, act, bias, init): Gemm with weight [units, in] (transB=1). */
static int l_dense(builder *b, const dsl_stmt *s, const dsl_expr **v) {
  ir_tensor *x = layer_input(b, s, v[0], 2, "[batch, features]");
  int64_t units;
  int bias;
  if (!x) return -1;
  if (!v[1]) return dsl_error(b->src, s->value->pos, "dense needs its number of units: dense(x, 10)");
  if (want_pos_int(b, v[1], "units", &units) || opt_bias(b, v[3], &bias)) return -1;
  int64_t wd[2] = {units, x->shape[1]};
  ir_tensor *in[3] = {x, lparam(b, s, "weight", 2, wd, v[4], INIT_XAVIER_UNIFORM), NULL};
  if (!in[1]) return -1;
  if (bias && !(in[2] = lparam(b, s, "bias", 1, &units, NULL, INIT_ZEROS))) return -1;
  ir_tensor *y = v[2] ? tmp_tensor(b, s->names[0].name, "gemm") : new_out(b, &s->names[0]);
  if (!y) return -1;
  char nm[600];
  snprintf(nm, sizeof nm, v[2] ? "%s/gemm" : "%s", s->names[0].name);
  ir_node *n = add_node(b, "Gemm", nm, bias ? 3 : 2, in, 1, &y);
  ir_attr_set_int(n, "transB", 1);
  if (settle(b, n, s->value->pos)) return -1;
  if (!v[2]) return 0;
  ir_tensor *z = new_out(b, &s->names[0]);
  return z ? activation(b, s, v[2], y, z) : -1;
}

static int pads_of(builder *b, const dsl_expr *e, int64_t *pads, int *same) {
  *same = 0;
  for (int i = 0; i < 4; i++) pads[i] = 0;
  if (!e) return 0;
  if ((e->kind == E_STRING || e->kind == E_NAME) && !strcmp(e->text, "same")) {
    *same = 1;
    return 0;
  }
  int64_t p[2];
  if (want_pair(b, e, "pad (an integer, [h, w] or \"same\")", 2, p, 1)) return -1;
  pads[0] = pads[2] = p[0];
  pads[1] = pads[3] = p[1];
  return 0;
}

/* Spatial attributes shared by convolutions and pooling. */
static int spatial(builder *b, ir_node *n, const dsl_expr *kernel, const dsl_expr *stride, const dsl_expr *pad,
                   const dsl_expr *dil, int stride_default_kernel) {
  int64_t k[2], st[2] = {1, 1}, d[2] = {1, 1}, pads[4];
  int same;
  if (want_pair(b, kernel, "kernel", 2, k, 0)) return -1;
  if (stride_default_kernel) st[0] = k[0], st[1] = k[1];
  if (stride && want_pair(b, stride, "stride", 2, st, 0)) return -1;
  if (dil && want_pair(b, dil, "dilation", 2, d, 0)) return -1;
  if (pads_of(b, pad, pads, &same)) return -1;
  ir_attr_set_ints(n, "kernel_shape", 2, k);
  ir_attr_set_ints(n, "strides", 2, st);
  if (dil) ir_attr_set_ints(n, "dilations", 2, d);
  if (same) ir_attr_set_string(n, "auto_pad", "SAME_UPPER");
  else ir_attr_set_ints(n, "pads", 4, pads);
  return 0;
}

/* conv2d(x, filters, kernel, stride, pad, dilation, groups, act, bias, init)
 * and depthwise(x, kernel, stride, pad, multiplier, act, bias, init):
 * Conv with weight [filters, channels/groups, kh, kw]. */
static int conv(builder *b, const dsl_stmt *s, ir_tensor *x, int64_t filters, int64_t groups, const dsl_expr *kernel,
                const dsl_expr *stride, const dsl_expr *pad, const dsl_expr *dil, const dsl_expr *act,
                const dsl_expr *biasx, const dsl_expr *init) {
  int bias;
  int64_t k[2];
  if (!kernel) return dsl_error(b->src, s->value->pos, "%s needs kernel=", s->value->text);
  if (want_pair(b, kernel, "kernel", 2, k, 0) || opt_bias(b, biasx, &bias)) return -1;
  if (x->shape[1] % groups || filters % groups)
    return dsl_error(b->src, s->value->pos, "groups=%lld does not divide the %lld input channels and %lld filters",
                     (long long)groups, (long long)x->shape[1], (long long)filters);
  int64_t wd[4] = {filters, x->shape[1] / groups, k[0], k[1]};
  ir_tensor *in[3] = {x, lparam(b, s, "weight", 4, wd, init, INIT_KAIMING_UNIFORM), NULL};
  if (!in[1]) return -1;
  if (bias && !(in[2] = lparam(b, s, "bias", 1, &filters, NULL, INIT_ZEROS))) return -1;
  ir_tensor *y = act ? tmp_tensor(b, s->names[0].name, "conv") : new_out(b, &s->names[0]);
  if (!y) return -1;
  char nm[600];
  snprintf(nm, sizeof nm, act ? "%s/conv" : "%s", s->names[0].name);
  ir_node *n = add_node(b, "Conv", nm, bias ? 3 : 2, in, 1, &y);
  ir_attr_set_int(n, "group", groups);
  if (spatial(b, n, kernel, stride, pad, dil, 0) || settle(b, n, s->value->pos)) return -1;
  if (!act) return 0;
  ir_tensor *z = new_out(b, &s->names[0]);
  return z ? activation(b, s, act, y, z) : -1;
}

static int l_conv2d(builder *b, const dsl_stmt *s, const dsl_expr **v) {
  ir_tensor *x = layer_input(b, s, v[0], 4, "[batch, channels, height, width]");
  int64_t filters, groups = 1;
  if (!x) return -1;
  if (!v[1]) return dsl_error(b->src, s->value->pos, "conv2d needs its number of filters: conv2d(x, 16, kernel=3)");
  if (want_pos_int(b, v[1], "filters", &filters) || (v[6] && want_pos_int(b, v[6], "groups", &groups))) return -1;
  return conv(b, s, x, filters, groups, v[2], v[3], v[4], v[5], v[7], v[8], v[9]);
}

static int l_depthwise(builder *b, const dsl_stmt *s, const dsl_expr **v) {
  ir_tensor *x = layer_input(b, s, v[0], 4, "[batch, channels, height, width]");
  int64_t mult = 1;
  if (!x) return -1;
  if (v[4] && want_pos_int(b, v[4], "multiplier", &mult)) return -1;
  if (mult > (INT64_C(1) << 40) / x->shape[1]) return dsl_error(b->src, v[4]->pos, "multiplier is too large");
  return conv(b, s, x, x->shape[1] * mult, x->shape[1], v[1], v[2], v[3], NULL, v[5], v[6], v[7]);
}

/* maxpool/avgpool(x, kernel, stride=kernel, pad); globalavgpool/globalmaxpool(x). */
static int pool(builder *b, const dsl_stmt *s, const dsl_expr **v, const char *op) {
  ir_tensor *x = layer_input(b, s, v[0], 4, "[batch, channels, height, width]");
  if (!x) return -1;
  ir_tensor *y = new_out(b, &s->names[0]);
  if (!y) return -1;
  ir_node *n = add_node(b, op, s->names[0].name, 1, &x, 1, &y);
  if (!strncmp(op, "Global", 6)) return settle(b, n, s->value->pos);
  if (!v[1]) return dsl_error(b->src, s->value->pos, "%s needs kernel=", s->value->text);
  if (spatial(b, n, v[1], v[2], v[3], NULL, 1)) return -1;
  return settle(b, n, s->value->pos);
}
static int l_maxpool(builder *b, const dsl_stmt *s, const dsl_expr **v) { return pool(b, s, v, "MaxPool"); }
static int l_avgpool(builder *b, const dsl_stmt *s, const dsl_expr **v) { return pool(b, s, v, "AveragePool"); }
static int l_gavgpool(builder *b, const dsl_stmt *s, const dsl_expr **v) { return pool(b, s, v, "GlobalAveragePool"); }
static int l_gmaxpool(builder *b, const dsl_stmt *s, const dsl_expr **v) { return pool(b, s, v, "GlobalMaxPool"); }

/* batchnorm(x, eps, momentum): scale, bias, mean, var parameters per channel. */
static int l_batchnorm(builder *b, const dsl_stmt *s, const dsl_expr **v) {
  if (!v[0]) return dsl_error(b->src, s->value->pos, "batchnorm needs its input tensor");
  ir_tensor *x = want_tensor(b, v[0], "the input");
  char sh[128];
  if (!x) return -1;
  if (x->rank < 2 || !ir_shape_known(x))
    return dsl_error(b->src, v[0]->pos, "batchnorm takes a [batch, channels, ...] input; '%s' is %s", x->name,
                     shape_str(x, sh, sizeof sh));
  double eps = 1e-5, mom = 0.9;
  if ((v[1] && want_float(b, v[1], "eps", &eps)) || (v[2] && want_float(b, v[2], "momentum", &mom))) return -1;
  int64_t c = x->shape[1];
  ir_tensor *in[5] = {x, lparam(b, s, "scale", 1, &c, NULL, INIT_ONES), lparam(b, s, "bias", 1, &c, NULL, INIT_ZEROS),
                      lparam(b, s, "mean", 1, &c, NULL, INIT_ZEROS), lparam(b, s, "var", 1, &c, NULL, INIT_ONES)};
  for (int i = 1; i < 5; i++)
    if (!in[i]) return -1;
  ir_tensor *y = new_out(b, &s->names[0]);
  if (!y) return -1;
  ir_node *n = add_node(b, "BatchNormalization", s->names[0].name, 5, in, 1, &y);
  ir_attr_set_float(n, "epsilon", eps);
  ir_attr_set_float(n, "momentum", mom);
  return settle(b, n, s->value->pos);
}

/* dropout(x, rate): Dropout with its ratio as a constant input (identity at inference). */
static int l_dropout(builder *b, const dsl_stmt *s, const dsl_expr **v) {
  if (!v[0]) return dsl_error(b->src, s->value->pos, "dropout needs its input tensor");
  ir_tensor *x = want_tensor(b, v[0], "the input");
  double rate = 0.5;
  if (!x || (v[1] && want_float(b, v[1], "rate", &rate))) return -1;
  if (!(rate >= 0 && rate < 1)) return dsl_error(b->src, v[1]->pos, "rate must be in [0, 1)");
  char base[600];
  snprintf(base, sizeof base, "%s/ratio", s->names[0].name);
  float r = (float)rate;
  ir_tensor *in[2] = {x, new_const(b, base, IR_F32, 0, NULL, &r)};
  ir_tensor *y = new_out(b, &s->names[0]);
  if (!y) return -1;
  return settle(b, add_node(b, "Dropout", s->names[0].name, 2, in, 1, &y), s->value->pos);
}

/* rnn/lstm/gru(x, hidden, init): x is [seq, batch, features] (ONNX layout);
 * one target gets the last hidden state [batch, hidden], two get the whole
 * sequence [seq, batch, hidden] and the last state. */
static int recurrent(builder *b, const dsl_stmt *s, const dsl_expr **v, const char *op, int gates) {
  ir_tensor *x = layer_input(b, s, v[0], 3, "[sequence, batch, features]");
  int64_t h;
  if (!x) return -1;
  if (!v[1]) return dsl_error(b->src, s->value->pos, "%s needs its hidden size: %s(x, 64)", s->value->text, s->value->text);
  if (want_pos_int(b, v[1], "hidden", &h)) return -1;
  int64_t wd[3] = {1, gates * h, x->shape[2]}, rd[3] = {1, gates * h, h}, bd[2] = {1, 2 * gates * h};
  ir_tensor *in[3] = {x, lparam(b, s, "W", 3, wd, v[2], INIT_XAVIER_UNIFORM), lparam(b, s, "R", 3, rd, v[2], INIT_XAVIER_UNIFORM)};
  if (!in[1] || !in[2]) return -1;
  ir_tensor *bias = lparam(b, s, "B", 2, bd, NULL, INIT_ZEROS);
  if (!bias) return -1;
  ir_tensor *all[4] = {x, in[1], in[2], bias};
  const char *tn = s->names[0].name;
  ir_tensor *outs[2] = {s->n_names == 2 ? tmp_tensor(b, tn, "Y") : NULL, tmp_tensor(b, tn, "Y_h")};
  char nm[600];
  snprintf(nm, sizeof nm, "%s/%s", tn, s->value->text);
  ir_node *n = add_node(b, op, nm, 4, all, 2, outs);
  ir_attr_set_int(n, "hidden_size", h);
  if (settle(b, n, s->value->pos)) return -1;
  /* Squeeze away the direction axis: Y [seq,1,batch,h] at 1, Y_h [1,batch,h] at 0 */
  for (int k = 0; k < s->n_names; k++) {
    int from = s->n_names == 2 ? k : 1;
    int64_t axis = from == 0 ? 1 : 0, one = 1;
    char base[600];
    snprintf(base, sizeof base, "%s/axes", tn);
    ir_tensor *sq[2] = {outs[from], new_const(b, base, IR_I64, 1, &one, &axis)};
    ir_tensor *y = new_out(b, &s->names[k]);
    if (!y) return -1;
    snprintf(nm, sizeof nm, "%s/squeeze%d", tn, k);
    if (settle(b, add_node(b, "Squeeze", k == s->n_names - 1 ? s->names[k].name : nm, 2, sq, 1, &y), s->value->pos))
      return -1;
  }
  return 0;
}
static int l_rnn(builder *b, const dsl_stmt *s, const dsl_expr **v) { return recurrent(b, s, v, "RNN", 1); }
static int l_lstm(builder *b, const dsl_stmt *s, const dsl_expr **v) { return recurrent(b, s, v, "LSTM", 4); }
static int l_gru(builder *b, const dsl_stmt *s, const dsl_expr **v) { return recurrent(b, s, v, "GRU", 3); }

static const layer layers[] = {
    {"dense", 1, l_dense, {"x", "units", "act", "bias", "init"}},
    {"conv2d", 1, l_conv2d, {"x", "filters", "kernel", "stride", "pad", "dilation", "groups", "act", "bias", "init"}},
    {"depthwise", 1, l_depthwise, {"x", "kernel", "stride", "pad", "multiplier", "act", "bias", "init"}},
    {"maxpool", 1, l_maxpool, {"x", "kernel", "stride", "pad"}},
    {"avgpool", 1, l_avgpool, {"x", "kernel", "stride", "pad"}},
    {"globalavgpool", 1, l_gavgpool, {"x"}},
    {"globalmaxpool", 1, l_gmaxpool, {"x"}},
    {"batchnorm", 1, l_batchnorm, {"x", "eps", "momentum"}},
    {"dropout", 1, l_dropout, {"x", "rate"}},
    {"rnn", 2, l_rnn, {"x", "hidden", "init"}},
    {"lstm", 2, l_lstm, {"x", "hidden", "init"}},
    {"gru", 2, l_gru, {"x", "hidden", "init"}},
};
#define N_LAYERS ((int)(sizeof layers / sizeof *layers))

/* Edit distance between a and b ignoring case, capped: names past 63
 * bytes are never close. */
static int distance(const char *a, const char *b) {
  int n = (int)strlen(a), m = (int)strlen(b), row[64];
  if (n > 63 || m > 63) return 99;
  for (int j = 0; j <= m; j++) row[j] = j;
  for (int i = 1; i <= n; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= m; j++) {
      int up = row[j], cost = (a[i - 1] | 32) != (b[j - 1] | 32);
      row[j] = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
      if (diag + cost < row[j]) row[j] = diag + cost;
      diag = up;
    }
  }
  return row[m];
}

/* The op or layer name closest to a misspelt one (within 2 edits, and
 * fewer than a third of its letters), or NULL. */
static const char *near_miss(const char *name) {
  const char *best = NULL;
  int bd = 3;
  for (int i = 0; i < N_LAYERS; i++) {
    int d = distance(layers[i].name, name);
    if (d < bd) bd = d, best = layers[i].name;
  }
  for (int i = 0; i < op_count(); i++) {
    const op_def *o = op_at(i);
    if (o->domain && o->domain[0]) continue;
    int d = distance(o->name, name);
    if (d < bd) bd = d, best = o->name;
  }
  return best && 3 * bd < (int)strlen(name) ? best : NULL;
}

static int build_assign(builder *b, const dsl_stmt *s) {
  const dsl_expr *c = s->value;
  for (int i = 0; i < N_LAYERS; i++) {
    const layer *l = &layers[i];
    if (strcmp(l->name, c->text)) continue;
    if (s->n_names > l->max_targets)
      return dsl_error(b->src, s->names[l->max_targets].pos, "%s gives %d result%s", l->name, l->max_targets,
                       l->max_targets > 1 ? "s" : "");
    int n = 0;
    while (n < 10 && l->args[n]) n++;
    const dsl_expr *v[10];
    if (bind_args(b, c, "layer", l->args, n, v)) return -1;
    return l->build(b, s, v);
  }
  const op_def *d = op_find("", c->text);
  if (d) return build_op(b, s, d);
  const char *hint = near_miss(c->text);
  if (hint) return dsl_error(b->src, c->pos, "unknown op or layer '%s' (did you mean '%s'?)", c->text, hint);
  return dsl_error(b->src, c->pos, "unknown op or layer '%s' (`modelc ops` lists the ops; docs/dsl.md the layers)", c->text);
}

/* ---- phases 1-3: settings, inputs, parameters ---------------------------- */

static void settings(builder *b) {
  int model = -1, seed = -1;
  for (int i = 0; i < b->f->n_stmts; i++) {
    const dsl_stmt *s = b->f->stmts[i];
    int *seen = s->kind == S_MODEL ? &model : s->kind == S_SEED ? &seed : s->kind == S_WEIGHTS ? &b->weights_stmt : NULL;
    if (!seen) continue;
    if (*seen >= 0) {
      dsl_report(b->src, s->pos, "a second '%s' statement (the first is on line %d)",
                s->kind == S_MODEL ? "model" : s->kind == S_SEED ? "seed" : "weights", b->f->stmts[*seen]->pos.line);
      continue;
    }
    *seen = i;
    if (s->kind == S_MODEL) {
      free(b->g->name);
      b->g->name = ir_strdup(s->names[0].name);
    } else if (s->kind == S_SEED) {
      if (s->value->ival < 0) dsl_report(b->src, s->value->pos, "the seed must not be negative");
      b->seed = (uint64_t)s->value->ival;
    } else {
      read_npz(b, s->value, &b->weights);
    }
  }
}

/* Declared input t of statement s: named dims become symbols for the bindings. */
static void declare_input(builder *b, const dsl_stmt *s) {
  ir_dtype dt = dtype_of(b, &s->type);
  if (dt == IR_UNDEF) return;
  if (ir_find_tensor(b->g, s->names[0].name)) {
    dsl_report(b->src, s->names[0].pos, "'%s' is already defined", s->names[0].name);
    return;
  }
  ir_tensor *t = ir_add_tensor(b->g, s->names[0].name, dt, IR_INPUT);
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < s->type.rank; i++) dims[i] = s->type.dims[i].name ? -1 : s->type.dims[i].value;
  ir_set_shape(t, s->type.rank, dims);
  for (int i = 0; i < s->type.rank; i++)
    if (s->type.dims[i].name) t->dim_param[i] = ir_strdup(s->type.dims[i].name);
  ir_graph_add_input(b->g, t);
}

/* The size of named dimension `name`: from a bound input, else its default. */
static int64_t dim_value(builder *b, const char *name) {
  for (int i = 0; i < b->f->n_stmts; i++) {
    const dsl_stmt *s = b->f->stmts[i];
    if (s->kind != S_INPUT) continue;
    const ir_tensor *t = ir_find_tensor(b->g, s->names[0].name);
    for (int d = 0; d < s->type.rank; d++)
      if (s->type.dims[d].name && !strcmp(s->type.dims[d].name, name)) {
        if (t && t->rank == s->type.rank && t->shape[d] >= 0) return t->shape[d];
        if (s->type.dims[d].value >= 0) return s->type.dims[d].value;
      }
  }
  return -1;
}

static void inputs(builder *b) {
  for (int i = 0; i < b->f->n_stmts; i++)
    if (b->f->stmts[i]->kind == S_INPUT) declare_input(b, b->f->stmts[i]);
  if (b->src->errors) return;
  if (ir_bind_inputs(b->g, &b->o->bind)) {
    b->src->errors++;
    if (b->src->diag) fprintf(b->src->diag, "%s: %s\n", b->src->file, ir_last_error());
    return;
  }
  /* named dimensions no binding fixed take their default */
  for (int i = 0; i < b->f->n_stmts; i++) {
    const dsl_stmt *s = b->f->stmts[i];
    if (s->kind != S_INPUT) continue;
    ir_tensor *t = ir_find_tensor(b->g, s->names[0].name);
    for (int d = 0; t && d < t->rank && d < s->type.rank; d++) {
      if (t->shape[d] >= 0) continue;
      int64_t v = dim_value(b, s->type.dims[d].name);
      if (v < 0) {
        dsl_report(b->src, s->type.dims[d].pos,
                  "dimension '%s' has no size: give it one here (%s=1) or on the command line (--dim %s=SIZE)",
                  s->type.dims[d].name, s->type.dims[d].name, s->type.dims[d].name);
        continue;
      }
      t->shape[d] = v;
      free(t->dim_param[d]);
      t->dim_param[d] = NULL;
    }
    if (t && ir_shape_known(t) && (ir_numel(t) < 0 || ir_nbytes(t) > b->max_bytes))
      dsl_report(b->src, s->type.pos, "input '%s' has too many elements", t->name);
  }
}

static void params(builder *b) {
  for (int i = 0; i < b->f->n_stmts; i++) {
    const dsl_stmt *s = b->f->stmts[i];
    if (s->kind != S_PARAM) continue;
    ir_dtype dt = dtype_of(b, &s->type);
    if (dt == IR_UNDEF) continue;
    if (dt != IR_F32) {
      dsl_report(b->src, s->type.pos, "parameters are f32");
      continue;
    }
    int64_t dims[IR_MAX_RANK];
    int ok = 1;
    for (int d = 0; d < s->type.rank; d++) {
      dims[d] = s->type.dims[d].name ? dim_value(b, s->type.dims[d].name) : s->type.dims[d].value;
      if (s->type.dims[d].name && s->type.dims[d].value >= 0) dims[d] = s->type.dims[d].value;
      if (dims[d] < 0) {
        dsl_report(b->src, s->type.dims[d].pos, "dimension '%s' of a parameter needs a size", s->type.dims[d].name);
        ok = 0;
      }
    }
    if (ok) make_param(b, s->names[0].name, s->names[0].pos, s->type.rank, dims, s->value, INIT_ZEROS);
  }
}

/* ---- phase 5: outputs and the train block --------------------------------- */

static void outputs(builder *b) {
  int any = 0;
  for (int i = 0; i < b->f->n_stmts; i++) {
    const dsl_stmt *s = b->f->stmts[i];
    if (s->kind != S_OUTPUT) continue;
    any = 1;
    b->cur = b->f->n_stmts;   /* every assignment is behind us */
    for (int k = 0; k < s->n_names; k++) {
      ir_tensor *t = lookup(b, s->names[k].name, s->names[k].pos);
      if (!t) continue;
      if (t->is_output) dsl_report(b->src, s->names[k].pos, "'%s' is an output already", t->name);
      else ir_graph_add_output(b->g, t);
    }
  }
  if (!any) {
    dsl_pos end = {b->f->n_stmts ? b->f->stmts[b->f->n_stmts - 1]->pos.line : 1, 1};
    dsl_report(b->src, end, "the model has no output statement (output NAME, ...)");
  }
}

static void push_hyper(ir_train *t, const char *name, double v) {
  for (int i = 0; i < t->n_hyper; i++)
    if (!strcmp(t->hyper_names[i], name)) {
      t->hyper_values[i] = v;
      return;
    }
  t->hyper_names = ir_realloc(t->hyper_names, (size_t)(t->n_hyper + 1) * sizeof *t->hyper_names);
  t->hyper_values = ir_realloc(t->hyper_values, (size_t)(t->n_hyper + 1) * sizeof *t->hyper_values);
  t->hyper_names[t->n_hyper] = ir_strdup(name);
  t->hyper_values[t->n_hyper++] = v;
}

static const struct {
  const char *name;
  const char *args[6];
  double defs[6];
} optimizers[] = {
    {"sgd", {"lr", "momentum", "weight_decay", "nesterov"}, {0.01, 0, 0, 0}},
    {"adam", {"lr", "beta1", "beta2", "eps", "weight_decay"}, {0.001, 0.9, 0.999, 1e-8, 0}},
    {"adagrad", {"lr", "eps", "weight_decay"}, {0.01, 1e-10, 0}},
};

static void train_block(builder *b, const dsl_stmt *blk) {
  ir_train *t = ir_alloc(sizeof *t);
  const dsl_stmt *loss = NULL, *label = NULL;
  int ok = 1;
  b->cur = b->f->n_stmts;
  for (int i = 0; i < blk->n_body; i++) {
    const dsl_stmt *s = blk->body[i];
    if (s->kind == S_INPUT) {
      if (label) ok = dsl_error(b->src, s->pos, "a train block declares one label input (the first is on line %d)", label->pos.line) + 2;
      label = s;
      ir_dtype dt = dtype_of(b, &s->type);
      if (dt == IR_UNDEF) ok = 0;
      if (ir_find_tensor(b->g, s->names[0].name)) ok = dsl_error(b->src, s->names[0].pos, "'%s' is already defined", s->names[0].name) + 1;
      free(t->label);
      t->label = ir_strdup(s->names[0].name);
      t->label_dtype = dt;
      t->label_rank = s->type.rank;
      for (int d = 0; d < s->type.rank; d++) {
        const dsl_dim *dm = &s->type.dims[d];
        t->label_shape[d] = dm->name ? dim_value(b, dm->name) : dm->value;
        if (t->label_shape[d] < 0) ok = dsl_error(b->src, dm->pos, "dimension '%s' has no size", dm->name) + 1;
      }
    } else if (s->kind == S_FREEZE) {
      for (int k = 0; k < s->n_names; k++) {
        const ir_tensor *p = ir_find_tensor(b->g, s->names[k].name);
        if (!p || p->role != IR_PARAM) {
          ok = dsl_error(b->src, s->names[k].pos, "freeze: '%s' is not a parameter", s->names[k].name) + 1;
          continue;
        }
        t->frozen = ir_realloc(t->frozen, (size_t)(t->n_frozen + 1) * sizeof *t->frozen);
        t->frozen[t->n_frozen++] = ir_strdup(s->names[k].name);
      }
    } else if (s->kind == S_SET && !strcmp(s->names[0].name, "loss")) {
      loss = s;
    } else if (s->kind == S_SET && !strcmp(s->names[0].name, "optimizer")) {
      const dsl_expr *c = s->value;
      int k = 0, nk = (int)(sizeof optimizers / sizeof *optimizers);
      while (k < nk && (c->kind != E_CALL && c->kind != E_NAME ? 1 : strcmp(optimizers[k].name, c->text))) k++;
      if (k == nk) {
        ok = dsl_error(b->src, c->pos, "unknown optimizer (sgd, adam, adagrad)") + 1;
        continue;
      }
      int n = 0;
      while (n < 6 && optimizers[k].args[n]) n++;
      const dsl_expr *v[6];
      if (bind_args(b, c, "optimizer", optimizers[k].args, n, v)) {
        ok = 0;
        continue;
      }
      free(t->optimizer);
      t->optimizer = ir_strdup(optimizers[k].name);
      for (int j = 0; j < n; j++) {
        double x = optimizers[k].defs[j];
        int bv;
        if (v[j] && !strcmp(optimizers[k].args[j], "nesterov")) {
          if (want_bool(b, v[j], "nesterov", &bv)) ok = 0;
          else x = bv;
        } else if (v[j] && want_float(b, v[j], optimizers[k].args[j], &x)) {
          ok = 0;
        } else if (v[j] && x < 0) {
          ok = dsl_error(b->src, v[j]->pos, "%s must not be negative", optimizers[k].args[j]) + 1;
        }
        push_hyper(t, optimizers[k].args[j], x);
      }
    } else if (s->kind == S_SET && (!strcmp(s->names[0].name, "epochs") || !strcmp(s->names[0].name, "batch"))) {
      int64_t x;
      if (want_pos_int(b, s->value, s->names[0].name, &x)) ok = 0;
      else push_hyper(t, s->names[0].name, (double)x);
    } else {
      ok = dsl_error(b->src, s->pos, "a train block holds: input (the labels), loss, optimizer, epochs, batch, freeze") + 1;
    }
  }
  if (loss) {
    const dsl_expr *c = loss->value;
    static const char *const args[] = {"prediction", "target"};
    const dsl_expr *v[2];
    if (c->kind != E_CALL || (strcmp(c->text, "cross_entropy") && strcmp(c->text, "mse"))) {
      ok = dsl_error(b->src, c->pos, "unknown loss (cross_entropy, mse)") + 1;
    } else if (bind_args(b, c, "loss", args, 2, v)) {
      ok = 0;
    } else if (!v[0] || !v[1]) {
      ok = dsl_error(b->src, c->pos, "%s takes the prediction and the target: %s(logits, y)", c->text, c->text) + 1;
    } else {
      ir_tensor *p = want_tensor(b, v[0], "the prediction");
      if (!p) ok = 0;
      if (v[1]->kind != E_NAME || !t->label || strcmp(v[1]->text, t->label))
        ok = dsl_error(b->src, v[1]->pos, "the target must be the train block's label input") + 1;
      else if (!strcmp(c->text, "cross_entropy") && !ir_dtype_is_int(t->label_dtype))
        ok = dsl_error(b->src, v[1]->pos, "cross_entropy takes integer class ids as its target") + 1;
      else if (!strcmp(c->text, "mse") && !ir_dtype_is_float(t->label_dtype))
        ok = dsl_error(b->src, v[1]->pos, "mse takes a floating-point target") + 1;
      t->loss = ir_strdup(c->text);
      if (p) t->prediction = ir_strdup(p->name);
    }
  } else {
    ok = dsl_error(b->src, blk->pos, "the train block has no loss (loss = cross_entropy(logits, y))") + 1;
  }
  if (!t->optimizer) ok = dsl_error(b->src, blk->pos, "the train block has no optimizer (optimizer = sgd(lr=0.01))") + 1;
  if (ok && !b->g->train) b->g->train = t;
  else {
    if (ok) dsl_report(b->src, blk->pos, "a second train block");
    ir_train_free(t);
  }
}

/* ---- entry points ------------------------------------------------------------- */

static ir_graph *build(dsl_src *src, dsl_file *f, const char *base_dir, const fe_opts *o) {
  static const fe_opts none;
  builder b;
  memset(&b, 0, sizeof b);
  b.src = src;
  b.o = o ? o : &none;
  b.base_dir = base_dir;
  b.f = f;
  b.weights_stmt = -1;
  b.max_bytes = b.o->max_bytes > 0 ? b.o->max_bytes : FE_DEFAULT_MAX_BYTES;
  const char *stem = strrchr(src->file, '/');
  b.g = ir_graph_new(stem ? stem + 1 : src->file, NULL);
  b.g->max_bytes = b.max_bytes;
  settings(&b);
  inputs(&b);
  if (src->errors == 0) {
    params(&b);
    for (int i = 0; i < f->n_stmts; i++) {
      const dsl_stmt *s = f->stmts[i];
      if (s->kind == S_FREEZE || s->kind == S_SET) {
        dsl_report(src, s->pos, "'%s' belongs in a train block", s->kind == S_FREEZE ? "freeze" : s->names[0].name);
        continue;
      }
      if (s->kind != S_ASSIGN) continue;
      b.cur = i;
      if (build_assign(&b, s)) mark_failed(&b, s);
    }
    outputs(&b);
    for (int i = 0; i < f->n_stmts; i++)
      if (f->stmts[i]->kind == S_TRAIN) train_block(&b, f->stmts[i]);
  }
  npz_free(&b.weights);
  free(b.failed);
  if (src->errors == 0) {
    fe_opts rest = *b.o;
    memset(&rest.bind, 0, sizeof rest.bind);   /* applied in phase 2 */
    if (fe_finish(b.g, &rest)) {
      src->errors++;
      if (src->diag) fprintf(src->diag, "%s: %s\n", src->file, ir_last_error());
    }
  }
  if (src->errors) {
    ir_graph_free(b.g);
    return NULL;
  }
  return b.g;
}

static int fail_count(const dsl_src *src) {
  return ir_error("%s: %d error%s", src->file, src->errors, src->errors == 1 ? "" : "s");
}

ir_graph *dsl_load_buffer(const char *text, size_t len, const char *file, const char *base_dir, const fe_opts *o,
                          FILE *diag) {
  if (len > DSL_MAX_SOURCE) {
    ir_error("%s: larger than the %zu bytes a model file may have", file, DSL_MAX_SOURCE);
    return NULL;
  }
  char *copy = ir_alloc(len + 1);
  if (len) memcpy(copy, text, len);
  dsl_src src = {file, copy, len, diag, 0};
  if (memchr(copy, 0, len)) {
    dsl_pos p = {1, 1};
    dsl_report(&src, p, "not a text file (it holds NUL bytes)");
    free(copy);
    fail_count(&src);
    return NULL;
  }
  dsl_file *f = dsl_parse(&src);
  ir_graph *g = src.errors ? NULL : build(&src, f, base_dir, o);
  dsl_free_file(f);
  free(copy);
  if (!g) fail_count(&src);
  return g;
}

/* The whole file into a NUL-terminated buffer, at most DSL_MAX_SOURCE bytes. */
static char *read_source(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    ir_error("%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 14, n = 0;
  char *buf = ir_alloc(cap + 1);
  for (;;) {
    if (n == cap) {
      if (cap > DSL_MAX_SOURCE) break;
      cap *= 2;
      buf = ir_realloc(buf, cap + 1);
    }
    size_t k = fread(buf + n, 1, cap - n, fp);
    n += k;
    if (k == 0) break;
  }
  int err = ferror(fp);
  fclose(fp);
  if (err || n > DSL_MAX_SOURCE) {
    free(buf);
    if (err) ir_error("%s: read error", path);
    else ir_error("%s: larger than the %zu bytes a model file may have", path, DSL_MAX_SOURCE);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

static char *dir_of(const char *path) {
  char *dir = ir_strdup(path);
  char *slash = strrchr(dir, '/');
  if (!slash) {
    free(dir);
    return ir_strdup(".");
  }
  slash[slash == dir ? 1 : 0] = 0;
  return dir;
}

ir_graph *dsl_load_file(const char *path, const fe_opts *o, FILE *diag) {
  size_t len;
  char *text = read_source(path, &len);
  if (!text) return NULL;
  char *dir = dir_of(path);
  ir_graph *g = dsl_load_buffer(text, len, path, dir, o, diag);
  free(dir);
  free(text);
  return g;
}

int dsl_sniff(const unsigned char *head, size_t n) {
  static const char *const words[] = {"model", "input", "param", "seed", "weights", "output", "train"};
  size_t i = 0;
  if (memchr(head, 0, n)) return 0;
  for (;;) {   /* skip blank and comment lines */
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) i++;
    if (i < n && head[i] == '#') {
      while (i < n && head[i] != '\n') i++;
      continue;
    }
    break;
  }
  for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
    size_t w = strlen(words[k]);
    if (n - i > w && !memcmp(head + i, words[k], w) && (head[i + w] == ' ' || head[i + w] == '\t')) return 1;
  }
  return 0;
}

int dsl_explain(const char *path, const char *msg, FILE *diag) {
  const char *q = strstr(msg, "node '");
  if (!q) q = strstr(msg, "tensor '");
  if (!q) return 0;
  q = strchr(q, '\'') + 1;
  const char *e = strchr(q, '\'');
  if (!e || e - q >= 512) return 0;
  char name[512];
  memcpy(name, q, (size_t)(e - q));
  name[e - q] = 0;
  char *cut = strchr(name, '/');   /* "h1/conv": a shorthand's inner node */
  if (cut) *cut = 0;
  size_t len;
  char *text = read_source(path, &len);
  if (!text) return 0;
  dsl_src src = {path, text, len, NULL, 0};
  dsl_file *f = dsl_parse(&src);
  int found = 0;
  for (int pass = 0; pass < 2 && !found; pass++) {
    if (pass) {   /* "h1.weight": a shorthand's parameter */
      char *dot = strrchr(name, '.');
      if (!dot) break;
      *dot = 0;
    }
    for (int i = 0; i < f->n_stmts && !found; i++) {
      const dsl_stmt *s = f->stmts[i];
      for (int k = 0; k < s->n_names && !found; k++)
        if ((s->kind == S_ASSIGN || s->kind == S_INPUT || s->kind == S_PARAM) && !strcmp(s->names[k].name, name)) {
          src.diag = diag;
          dsl_report(&src, s->kind == S_ASSIGN ? s->value->pos : s->pos, "%s", msg);
          found = 1;
        }
    }
  }
  dsl_free_file(f);
  free(text);
  return found;
}

int dsl_format_buffer(const char *text, size_t len, const char *file, FILE *out, FILE *diag) {
  char *copy = ir_alloc(len + 1);
  if (len) memcpy(copy, text, len);
  dsl_src src = {file, copy, len, diag, 0};
  if (len > DSL_MAX_SOURCE || memchr(copy, 0, len)) {
    free(copy);
    return ir_error("%s: not a model file (too large or not text)", file);
  }
  dsl_file *f = dsl_parse(&src);
  if (!src.errors) dsl_print_file(f, out);
  dsl_free_file(f);
  free(copy);
  return src.errors ? fail_count(&src) : 0;
}

int dsl_format_file(const char *path, FILE *out, FILE *diag) {
  size_t len;
  char *text = read_source(path, &len);
  if (!text) return -1;
  int rc = dsl_format_buffer(text, len, path, out, diag);
  free(text);
  return rc;
}
