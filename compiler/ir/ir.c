/*
 * ir.c - graphs, tensors, nodes and attributes (see ir.h).
 *
 * Boring by design: growable arrays owned by the graph, lookups by linear
 * scan over names (graphs are at most a few thousand tensors; a name index
 * can come when a profile asks for it), and one static error buffer that
 * every stage writes its single-line diagnostic into.
 */
#include "ir.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ------------------------------------------------------ */

/* The last error, whole: as long as its message (an error listing every
 * unsupported op of a model must not be cut). */
static char *err_buf;

const char *ir_last_error(void) { return err_buf && err_buf[0] ? err_buf : "unknown error"; }
void ir_clear_error(void) {
  if (err_buf) err_buf[0] = 0;
}

int ir_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *msg = ir_alloc((size_t)(n > 0 ? n : 0) + 1);   /* before freeing: an argument may be the last error */
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)   /* one line, always */
    if (*p == '\n' || *p == '\r') *p = ' ';
  free(err_buf);
  err_buf = msg;
  return -1;
}

/* ---- memory ----------------------------------------------------------- */

static void oom(void) {
  fputs("modelc: out of memory\n", stderr);
  exit(1);
}

void *ir_alloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) oom();
  return p;
}

void *ir_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom();
  return q;
}

char *ir_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = ir_alloc(n);
  memcpy(d, s, n);
  return d;
}

/* ---- dtypes ----------------------------------------------------------- */

static const struct {
  const char *name, *ctype;
  size_t size;
  int onnx;
} dtypes[IR_DTYPE_COUNT] = {
  [IR_UNDEF] = {"undefined", "void", 0, 0},
  [IR_F32] = {"float32", "float", 4, 1},
  [IR_F64] = {"float64", "double", 8, 11},
  [IR_F16] = {"float16", "uint16_t", 2, 10},
  [IR_BF16] = {"bfloat16", "uint16_t", 2, 16},
  [IR_I8] = {"int8", "int8_t", 1, 3},
  [IR_I16] = {"int16", "int16_t", 2, 5},
  [IR_I32] = {"int32", "int32_t", 4, 6},
  [IR_I64] = {"int64", "int64_t", 8, 7},
  [IR_U8] = {"uint8", "uint8_t", 1, 2},
  [IR_U16] = {"uint16", "uint16_t", 2, 4},
  [IR_U32] = {"uint32", "uint32_t", 4, 12},
  [IR_U64] = {"uint64", "uint64_t", 8, 13},
  [IR_BOOL] = {"bool", "uint8_t", 1, 9},
  [IR_STRING] = {"string", "char *", 0, 8},
};

static int dt_ok(ir_dtype t) { return (int)t >= 0 && t < IR_DTYPE_COUNT; }
size_t ir_dtype_size(ir_dtype t) { return dt_ok(t) ? dtypes[t].size : 0; }
const char *ir_dtype_name(ir_dtype t) { return dt_ok(t) ? dtypes[t].name : "invalid"; }
const char *ir_dtype_ctype(ir_dtype t) { return dt_ok(t) ? dtypes[t].ctype : "void"; }
int ir_dtype_is_float(ir_dtype t) { return t == IR_F32 || t == IR_F64 || t == IR_F16 || t == IR_BF16; }
int ir_dtype_is_int(ir_dtype t) { return t >= IR_I8 && t <= IR_U64; }
int ir_dtype_is_signed(ir_dtype t) { return t >= IR_I8 && t <= IR_I64; }

ir_dtype ir_dtype_from_onnx(int e) {
  for (int t = 1; t < IR_DTYPE_COUNT; t++)
    if (dtypes[t].onnx == e) return (ir_dtype)t;
  return IR_UNDEF;
}

int ir_dtype_to_onnx(ir_dtype t) { return dt_ok(t) ? dtypes[t].onnx : 0; }

/* ---- tensors ---------------------------------------------------------- */

int ir_shape_known(const ir_tensor *t) {
  if (t->rank < 0) return 0;
  for (int i = 0; i < t->rank; i++)
    if (t->shape[i] < 0) return 0;
  return 1;
}

int64_t ir_numel_dims(int rank, const int64_t *dims) {
  const int64_t limit = INT64_MAX / 16;   /* leaves room to multiply by a dtype size */
  int64_t n = 1;
  if (rank < 0) return -1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] != 0 && n > limit / dims[i]) return -2;
    n *= dims[i];
  }
  return n;
}

int64_t ir_numel(const ir_tensor *t) { return ir_numel_dims(t->rank, t->shape); }

int64_t ir_nbytes(const ir_tensor *t) {
  int64_t n = ir_numel(t);
  return n < 0 ? n : n * (int64_t)ir_dtype_size(t->dtype);
}

void ir_set_shape(ir_tensor *t, int rank, const int64_t *dims) {
  t->rank = rank;
  for (int i = 0; i < IR_MAX_RANK; i++) {
    t->shape[i] = i < rank ? dims[i] : 0;
    if (i < rank && dims[i] >= 0 && t->dim_param[i]) {
      free(t->dim_param[i]);
      t->dim_param[i] = NULL;
    }
  }
}

int ir_same_shape(const ir_tensor *a, const ir_tensor *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->shape[i] != b->shape[i]) return 0;
  return 1;
}

char *ir_shape_str(const ir_tensor *t, char *buf, size_t n) {
  size_t k = 0;
  if (!n) return buf;
  buf[0] = 0;
  if (t->rank < 0) {
    snprintf(buf, n, "[?]");
    return buf;
  }
  k += (size_t)snprintf(buf + k, n - k, "[");
  for (int i = 0; i < t->rank && k < n; i++) {
    if (t->shape[i] >= 0)
      k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    else
      k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "", t->dim_param[i] ? t->dim_param[i] : "?");
  }
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}

double ir_const_f64(const ir_tensor *t, int64_t i) { return ir_value_f64(t->dtype, t->data, i); }

/* IEEE half and bfloat16 bit patterns to double, exactly. */
static double half_bits(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m | 0x400, e - 25);
  return (h & 0x8000) ? -v : v;
}

static double bf16_bits(uint16_t h) {
  uint32_t b = (uint32_t)h << 16;
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

double ir_value_f64(ir_dtype dt, const void *d, int64_t i) {
  switch (dt) {
  case IR_F16: return half_bits(((const uint16_t *)d)[i]);
  case IR_BF16: return bf16_bits(((const uint16_t *)d)[i]);
  case IR_F32: return ((const float *)d)[i];
  case IR_F64: return ((const double *)d)[i];
  case IR_I8: return ((const int8_t *)d)[i];
  case IR_I16: return ((const int16_t *)d)[i];
  case IR_I32: return ((const int32_t *)d)[i];
  case IR_I64: return (double)((const int64_t *)d)[i];
  case IR_U8: case IR_BOOL: return ((const uint8_t *)d)[i];
  case IR_U16: return ((const uint16_t *)d)[i];
  case IR_U32: return ((const uint32_t *)d)[i];
  case IR_U64: return (double)((const uint64_t *)d)[i];
  default: return NAN;
  }
}

int64_t ir_const_i64(const ir_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->dtype) {
  case IR_I8: return ((const int8_t *)d)[i];
  case IR_I16: return ((const int16_t *)d)[i];
  case IR_I32: return ((const int32_t *)d)[i];
  case IR_I64: return ((const int64_t *)d)[i];
  case IR_U8: case IR_BOOL: return ((const uint8_t *)d)[i];
  case IR_U16: return ((const uint16_t *)d)[i];
  case IR_U32: return ((const uint32_t *)d)[i];
  case IR_U64: return (int64_t)((const uint64_t *)d)[i];
  default: {
    double v = ir_const_f64(t, i);
    if (!(v >= -9.2e18 && v <= 9.2e18)) return v > 0 ? INT64_MAX : INT64_MIN;
    return (int64_t)v;
  }
  }
}

/* ---- graphs ----------------------------------------------------------- */

ir_graph *ir_graph_new(const char *name, ir_graph *parent) {
  ir_graph *g = ir_alloc(sizeof *g);
  g->name = ir_strdup(name ? name : "graph");
  g->parent = parent;
  return g;
}

static void tensor_free(ir_tensor *t) {
  if (!t) return;
  free(t->name);
  for (int i = 0; i < IR_MAX_RANK; i++) free(t->dim_param[i]);
  free(t->data);
  free(t);
}

static void attr_free(ir_attr *a) {
  free(a->name);
  free(a->s);
  free(a->ints);
  free(a->floats);
  for (int i = 0; a->strings && i < a->n; i++) free(a->strings[i]);
  free(a->strings);
  tensor_free(a->t);
  if (a->g) ir_graph_free(a->g);
  memset(a, 0, sizeof *a);
}

static void node_free(ir_node *n) {
  free(n->name);
  free(n->op_type);
  free(n->domain);
  free(n->in);
  free(n->out);
  for (int i = 0; i < n->n_attr; i++) attr_free(&n->attrs[i]);
  free(n->attrs);
  free(n);
}

void ir_graph_free(ir_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->n_nodes; i++) node_free(g->nodes[i]);
  for (int i = 0; i < g->n_tensors; i++) tensor_free(g->tensors[i]);
  free(g->nodes);
  free(g->tensors);
  free(g->inputs);
  free(g->outputs);
  free(g->updates);
  free(g->name);
  ir_train_free(g->train);
  free(g);
}

void ir_train_free(ir_train *t) {
  if (!t) return;
  free(t->loss);
  free(t->prediction);
  free(t->label);
  free(t->optimizer);
  for (int i = 0; i < t->n_hyper; i++) free(t->hyper_names[i]);
  free(t->hyper_names);
  free(t->hyper_values);
  for (int i = 0; i < t->n_frozen; i++) free(t->frozen[i]);
  free(t->frozen);
  free(t);
}

ir_tensor *ir_find_tensor(const ir_graph *g, const char *name) {
  for (int i = 0; i < g->n_tensors; i++)
    if (strcmp(g->tensors[i]->name, name) == 0) return g->tensors[i];
  return NULL;
}

ir_tensor *ir_lookup_tensor(const ir_graph *g, const char *name) {
  for (; g; g = g->parent) {
    ir_tensor *t = ir_find_tensor(g, name);
    if (t) return t;
  }
  return NULL;
}

ir_tensor *ir_add_tensor(ir_graph *g, const char *name, ir_dtype dt, ir_role role) {
  if (ir_find_tensor(g, name)) {
    ir_error("duplicate tensor name '%s'", name);
    return NULL;
  }
  if (g->n_tensors == g->cap_tensors) {
    g->cap_tensors = g->cap_tensors ? 2 * g->cap_tensors : 64;
    g->tensors = ir_realloc(g->tensors, (size_t)g->cap_tensors * sizeof *g->tensors);
  }
  ir_tensor *t = ir_alloc(sizeof *t);
  t->name = ir_strdup(name);
  t->id = g->n_tensors;
  t->dtype = dt;
  t->rank = -1;
  t->role = role;
  t->offset = -1;
  g->tensors[g->n_tensors++] = t;
  return t;
}

ir_tensor *ir_add_tensor_unique(ir_graph *g, const char *base, ir_dtype dt, ir_role role) {
  size_t n = strlen(base) + 24;
  char *name = ir_alloc(n);
  snprintf(name, n, "%s", base);
  for (int k = 1; ir_lookup_tensor(g, name); k++) snprintf(name, n, "%s_%d", base, k);
  ir_tensor *t = ir_add_tensor(g, name, dt, role);
  free(name);
  return t;
}

int ir_tensor_set_data(ir_tensor *t, const void *data, size_t nbytes) {
  free(t->data);
  t->data = ir_alloc(nbytes);
  if (nbytes) memcpy(t->data, data, nbytes);
  if (t->role != IR_PARAM) t->role = IR_CONST;
  return 0;
}

ir_node *ir_add_node(ir_graph *g, const char *op_type, const char *name) {
  if (g->n_nodes == g->cap_nodes) {
    g->cap_nodes = g->cap_nodes ? 2 * g->cap_nodes : 64;
    g->nodes = ir_realloc(g->nodes, (size_t)g->cap_nodes * sizeof *g->nodes);
  }
  ir_node *n = ir_alloc(sizeof *n);
  n->op_type = ir_strdup(op_type);
  n->domain = ir_strdup("");
  n->name = ir_strdup(name ? name : op_type);
  n->id = g->n_nodes;
  g->nodes[g->n_nodes++] = n;
  return n;
}

void ir_node_set_io(ir_node *n, int n_in, ir_tensor *const *in, int n_out, ir_tensor *const *out) {
  free(n->in);
  free(n->out);
  n->n_in = n_in;
  n->n_out = n_out;
  n->in = ir_alloc((size_t)(n_in > 0 ? n_in : 1) * sizeof *n->in);
  n->out = ir_alloc((size_t)(n_out > 0 ? n_out : 1) * sizeof *n->out);
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  for (int i = 0; i < n_out; i++) {
    n->out[i] = out[i];
    if (out[i]) out[i]->producer = n;
  }
}

static void push_tensor(ir_tensor ***arr, int *count, ir_tensor *t) {
  *arr = ir_realloc(*arr, (size_t)(*count + 1) * sizeof **arr);
  (*arr)[(*count)++] = t;
}

void ir_graph_add_input(ir_graph *g, ir_tensor *t) { push_tensor(&g->inputs, &g->n_inputs, t); }

void ir_graph_add_output(ir_graph *g, ir_tensor *t) {
  t->is_output = 1;
  push_tensor(&g->outputs, &g->n_outputs, t);
}

void ir_graph_add_update(ir_graph *g, ir_tensor *target, ir_tensor *value) {
  g->updates = ir_realloc(g->updates, sizeof *g->updates * (size_t)(g->n_updates + 1));
  g->updates[g->n_updates].target = target;
  g->updates[g->n_updates].value = value;
  g->n_updates++;
  target->is_state = 1;
}

int ir_mark_trained_params(ir_graph *g, const ir_graph *train) {
  int marked = 0;
  for (int u = 0; u < train->n_updates; u++) {
    const ir_tensor *p = train->updates[u].target;
    ir_tensor *t = p->role == IR_PARAM ? ir_find_tensor(g, p->name) : NULL;
    if (!t || t->role != IR_PARAM || t->is_state) continue;
    t->is_state = 1;
    marked++;
  }
  return marked;
}

int ir_kept(const ir_graph *g, const ir_tensor *t) {
  if (t->is_output || t == g->loss) return 1;
  for (int i = 0; i < g->n_updates; i++)
    if (g->updates[i].value == t) return 1;
  return 0;
}

void ir_graph_compact(ir_graph *g) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i]->dead) {
      node_free(g->nodes[i]);
      continue;
    }
    g->nodes[k] = g->nodes[i];
    g->nodes[k]->id = k;
    k++;
  }
  g->n_nodes = k;

  /* A tensor stays when a node, a graph input/output or (for subgraphs'
   * outer references) anything else names it. */
  unsigned char *used = ir_alloc((size_t)g->n_tensors + 1);
  for (int i = 0; i < g->n_nodes; i++) {
    ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_in; j++)
      if (n->in[j] && n->in[j]->id < g->n_tensors && g->tensors[n->in[j]->id] == n->in[j]) used[n->in[j]->id] = 1;
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j]) used[n->out[j]->id] = 1;
  }
  for (int i = 0; i < g->n_inputs; i++) used[g->inputs[i]->id] = 1;
  for (int i = 0; i < g->n_outputs; i++) used[g->outputs[i]->id] = 1;
  for (int i = 0; i < g->n_updates; i++) used[g->updates[i].target->id] = used[g->updates[i].value->id] = 1;
  if (g->loss) used[g->loss->id] = 1;
  /* Subgraphs may read outer tensors by pointer: keep those too. */
  for (int i = 0; i < g->n_nodes; i++) {
    ir_node *n = g->nodes[i];
    for (int a = 0; a < n->n_attr; a++) {
      ir_graph *sg = n->attrs[a].g;
      if (!sg) continue;
      for (int s = 0; s < sg->n_nodes; s++)
        for (int j = 0; j < sg->nodes[s]->n_in; j++) {
          ir_tensor *t = sg->nodes[s]->in[j];
          if (t && t->id < g->n_tensors && g->tensors[t->id] == t) used[t->id] = 1;
        }
      for (int o = 0; o < sg->n_outputs; o++) {
        ir_tensor *t = sg->outputs[o];
        if (t->id < g->n_tensors && g->tensors[t->id] == t) used[t->id] = 1;
      }
    }
  }
  k = 0;
  for (int i = 0; i < g->n_tensors; i++) {
    if (!used[i]) {
      tensor_free(g->tensors[i]);
      continue;
    }
    g->tensors[k] = g->tensors[i];
    g->tensors[k]->id = k;
    k++;
  }
  g->n_tensors = k;
  free(used);
}

int ir_graph_toposort(ir_graph *g) {
  int nn = g->n_nodes, nt = g->n_tensors;
  /* 1. producers, refusing a tensor written twice */
  ir_node **prod = ir_alloc((size_t)(nt + 1) * sizeof *prod);
  for (int i = 0; i < nn; i++) {
    ir_node *n = g->nodes[i];
    n->id = i;
    for (int j = 0; j < n->n_out; j++) {
      ir_tensor *t = n->out[j];
      if (!t) continue;
      if (prod[t->id]) {
        ir_error("tensor '%s' is written by both node '%s' and node '%s'", t->name, prod[t->id]->name, n->name);
        free(prod);
        return -1;
      }
      prod[t->id] = n;
      t->producer = n;
    }
  }
  /* 2. depth-first emission in original order; state 1 = on stack */
  unsigned char *state = ir_alloc((size_t)nn + 1);
  ir_node **order = ir_alloc((size_t)(nn + 1) * sizeof *order);
  int *stack = ir_alloc((size_t)(nn + 1) * sizeof *stack);
  int *next_in = ir_alloc((size_t)(nn + 1) * sizeof *next_in);
  int k = 0, rc = 0;
  for (int r = 0; r < nn && rc == 0; r++) {
    if (state[r]) continue;
    int sp = 0;
    stack[sp++] = r;
    state[r] = 1;
    next_in[r] = 0;
    while (sp && rc == 0) {
      ir_node *n = g->nodes[stack[sp - 1]];
      if (next_in[n->id] < n->n_in) {
        ir_tensor *t = n->in[next_in[n->id]++];
        /* Only tensors of this graph have producers here. */
        if (!t || t->id >= nt || g->tensors[t->id] != t || !prod[t->id]) continue;
        ir_node *p = prod[t->id];
        if (state[p->id] == 1) {
          rc = ir_error("graph has a cycle through tensor '%s' (node '%s')", t->name, p->name);
        } else if (state[p->id] == 0) {
          state[p->id] = 1;
          next_in[p->id] = 0;
          stack[sp++] = p->id;
        }
      } else {
        state[n->id] = 2;
        order[k++] = n;
        sp--;
      }
    }
  }
  if (rc == 0) {
    for (int i = 0; i < nn; i++) {
      g->nodes[i] = order[i];
      g->nodes[i]->id = i;
    }
  }
  free(prod);
  free(state);
  free(order);
  free(stack);
  free(next_in);
  return rc;
}

int ir_consumers(const ir_graph *g, const ir_tensor *t, ir_node **out, int max) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    ir_node *n = g->nodes[i];
    for (int j = 0; j < n->n_in; j++)
      if (n->in[j] == t) {
        if (k < max) out[k] = n;
        k++;
        break;
      }
  }
  return k;
}

/* ---- attributes ------------------------------------------------------- */

ir_attr *ir_attr_find(const ir_node *n, const char *name) {
  for (int i = 0; i < n->n_attr; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

ir_attr *ir_attr_add(ir_node *n, const char *name, ir_attr_type type) {
  ir_attr *a = ir_attr_find(n, name);
  if (a) {
    attr_free(a);
  } else {
    n->attrs = ir_realloc(n->attrs, (size_t)(n->n_attr + 1) * sizeof *n->attrs);
    a = &n->attrs[n->n_attr++];
  }
  memset(a, 0, sizeof *a);
  a->name = ir_strdup(name);
  a->type = type;
  return a;
}

void ir_attr_remove(ir_node *n, const char *name) {
  ir_attr *a = ir_attr_find(n, name);
  if (!a) return;
  attr_free(a);
  int i = (int)(a - n->attrs);
  memmove(&n->attrs[i], &n->attrs[i + 1], (size_t)(n->n_attr - i - 1) * sizeof *n->attrs);
  n->n_attr--;
}

static const ir_attr *typed(const ir_node *n, const char *name, ir_attr_type t) {
  const ir_attr *a = ir_attr_find(n, name);
  if (a && a->type != t) {
    ir_error("node '%s' (%s): attribute '%s' is %s, expected %s", n->name, n->op_type, name,
             ir_attr_type_name(a->type), ir_attr_type_name(t));
    return NULL;
  }
  return a;
}

int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def) {
  const ir_attr *a = typed(n, name, IR_ATTR_INT);
  return a ? a->i : def;
}

double ir_attr_float(const ir_node *n, const char *name, double def) {
  const ir_attr *a = ir_attr_find(n, name);
  if (a && a->type == IR_ATTR_INT) return (double)a->i;   /* ONNX writers sometimes do this */
  a = typed(n, name, IR_ATTR_FLOAT);
  return a ? a->f : def;
}

const char *ir_attr_string(const ir_node *n, const char *name, const char *def) {
  const ir_attr *a = typed(n, name, IR_ATTR_STRING);
  return a ? a->s : def;
}

int ir_attr_ints(const ir_node *n, const char *name, const int64_t **out) {
  const ir_attr *a = typed(n, name, IR_ATTR_INTS);
  *out = a ? a->ints : NULL;
  return a ? a->n : -1;
}

int ir_attr_floats(const ir_node *n, const char *name, const double **out) {
  const ir_attr *a = typed(n, name, IR_ATTR_FLOATS);
  *out = a ? a->floats : NULL;
  return a ? a->n : -1;
}

void ir_attr_set_int(ir_node *n, const char *name, int64_t v) { ir_attr_add(n, name, IR_ATTR_INT)->i = v; }
void ir_attr_set_float(ir_node *n, const char *name, double v) { ir_attr_add(n, name, IR_ATTR_FLOAT)->f = v; }

void ir_attr_set_string(ir_node *n, const char *name, const char *v) {
  ir_attr_add(n, name, IR_ATTR_STRING)->s = ir_strdup(v);
}

void ir_attr_set_ints(ir_node *n, const char *name, int count, const int64_t *v) {
  ir_attr *a = ir_attr_add(n, name, IR_ATTR_INTS);
  a->n = count;
  a->ints = ir_alloc((size_t)(count > 0 ? count : 1) * sizeof *a->ints);
  if (count > 0) memcpy(a->ints, v, (size_t)count * sizeof *a->ints);
}

void ir_attr_set_floats(ir_node *n, const char *name, int count, const double *v) {
  ir_attr *a = ir_attr_add(n, name, IR_ATTR_FLOATS);
  a->n = count;
  a->floats = ir_alloc((size_t)(count > 0 ? count : 1) * sizeof *a->floats);
  if (count > 0) memcpy(a->floats, v, (size_t)count * sizeof *a->floats);
}

const char *ir_attr_type_name(ir_attr_type t) {
  static const char *names[] = {"int", "float", "string", "ints", "floats", "strings", "tensor", "graph"};
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : "invalid";
}
