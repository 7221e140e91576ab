/*
 * emit.c - the C backend's driver: turns a planned graph into NAME.h, NAME.c,
 * NAME_weights.c and (with emit_main) the NAME_main.c harness.
 *
 * Each node becomes one static function whose body its op's emit callback
 * writes through emit_line/emit_in/emit_out (see emit.h).  The body is
 * written first, into a buffer; only then is the signature built, with just
 * the parameters the body asked for and uses, so that no parameter is ever
 * unused and a missing optional input costs nothing.  NAME_infer then calls
 * the node functions in schedule order with one pointer per parameter: the
 * caller's input or output buffer, a weight array, or a place in the arena
 * chosen by the memory planner (compiler/passes/plan.c).
 *
 * Conventions:
 *  - Everything is numbered by tensor and node ids, never by pointers or hash
 *    order, so the same graph and options give byte-identical files.
 *  - Weights are written as integer bit patterns (a union with a float view
 *    for float32/float64), so they read back exactly, NaN payloads and -0
 *    included, and big models still compile quickly.
 *  - Generated code is C99 with <stdint.h> <stddef.h> <string.h> <math.h>
 *    only, clean under -std=c99 -Wall -Wextra -pedantic for gcc and clang.
 *  - A --train build (emit_c_train) adds NAME_train_step, whose node
 *    functions are named step_<id>_<op>, and the parameter access
 *    functions; the parameters it trains and the optimizer's state become
 *    writable arrays that both functions read (docs/training_harness.md).
 *    One emit_ctx serves both graphs, so helpers, packed weights and fresh
 *    names are shared and unique in the file; an inference build is
 *    written exactly as before.
 *  - The static arena (for arena == NULL) sits behind #ifndef
 *    NAME_NO_STATIC_ARENA, so a product that always passes its own arena
 *    can drop it from .bss; NAME_infer(..., NULL) then returns
 *    NAME_ERR_NO_ARENA instead of running.
 */
#include "emit.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "../ops/epilogue.h"
#include "../passes/plan.h"
#include "../passes/passes.h"   /* pass_plan_with: a --train build re-plans when a weight becomes state */
#include "../passes/train.h"    /* TRAIN_STEP_NAME, the step counter the harness resumes from */
#include "npy_src.h"
#include "npz_src.h"
#include "train_src.h"
#include "../../runtime/tensor_io.h"   /* the .npy descr of a dtype, one table for all */

/* ---- growable text buffer ------------------------------------------------ */

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_grow(sbuf *b, size_t more) {
  if (b->n + more + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + more + 1) cap *= 2;
  b->p = ir_realloc(b->p, cap);
  b->cap = cap;
}

static void sb_putn(sbuf *b, const char *s, size_t n) {
  sb_grow(b, n);
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_vprintf(sbuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int len = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (len < 0) return;
  sb_grow(b, (size_t)len);
  vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
  b->n += (size_t)len;
}

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sb_vprintf(b, fmt, ap);
  va_end(ap);
}

static void sb_free(sbuf *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}

/* ---- the context an op's emitter sees ------------------------------------ */

struct emit_ctx {
  const emit_options *opt;
  ir_graph *g;
  sbuf body;                 /* the current node's function body */
  int indent;
  const ir_node *node;       /* the node being emitted */
  unsigned char *in_asked;   /* per input of node: emit_in was called */
  unsigned char *out_asked;
  int scratch_asked;
  int parts_asked;           /* emit_parts was called */
  int team_ok;               /* the part's calls may run in a team NAME_infer opens (emit_team) */
  int team;                  /* the current node's code runs on every thread of that team */
  char **pool;               /* strings handed out to emitters, freed at the end */
  int n_pool, cap_pool;
  int fresh;                 /* counter behind emit_fresh: unique in the file */
  sbuf helpers;
  char **helper_keys;
  int n_helpers;
  sbuf packed_externs, packed_defs;   /* emit_packed_f32's arrays */
  int n_packed;
  const char *fn_prefix;     /* node functions: "node" (NAME_infer's), "step" (NAME_train_step's) */
  const int64_t *planned_scratch;  /* per node id: its scratch as the plan saw it (trained data present) */
  const char *kernel;        /* emit_kernel's label for the current node, NULL: "loop" */
};

static const char *pool_add(emit_ctx *e, const char *s) {
  if (e->n_pool == e->cap_pool) {
    e->cap_pool = e->cap_pool ? 2 * e->cap_pool : 64;
    e->pool = ir_realloc(e->pool, sizeof(char *) * (size_t)e->cap_pool);
  }
  return e->pool[e->n_pool++] = ir_strdup(s);
}

void emit_line(emit_ctx *e, const char *fmt, ...) {
  va_list ap;
  for (int i = 0; i < e->indent; i++) sb_puts(&e->body, "  ");
  va_start(ap, fmt);
  sb_vprintf(&e->body, fmt, ap);
  va_end(ap);
  sb_puts(&e->body, "\n");
}

void emit_indent(emit_ctx *e, int delta) {
  e->indent += delta;
  if (e->indent < 1) e->indent = 1;  /* never out of the function body */
}

void emit_int_table(emit_ctx *e, const char *ctype, const char *name, const int64_t *v, int64_t cnt, int per_line) {
  char line[1024];   /* 32 values of at most 21 characters and a space a line */
  size_t len = 0;
  if (per_line < 1 || per_line > 32) per_line = 32;
  emit_line(e, "static const %s %s[%lld] = {", ctype, name, (long long)cnt);
  emit_indent(e, 1);
  for (int64_t i = 0; i < cnt; i++) {
    len += (size_t)snprintf(line + len, sizeof line - len, "%lld,", (long long)v[i]);
    if (i % per_line == per_line - 1 || i == cnt - 1) emit_line(e, "%s", line), len = 0;
    else line[len++] = ' ', line[len] = 0;
  }
  emit_indent(e, -1);
  emit_line(e, "};");
}

const char *emit_in(emit_ctx *e, int i) {
  char buf[32];
  if (!e->node || i < 0 || i >= e->node->n_in || !e->node->in[i]) return NULL;
  e->in_asked[i] = 1;
  snprintf(buf, sizeof buf, "x%d", i);
  return pool_add(e, buf);
}

const char *emit_out(emit_ctx *e, int j) {
  char buf[32];
  if (!e->node || j < 0 || j >= e->node->n_out || !e->node->out[j]) return NULL;
  e->out_asked[j] = 1;
  snprintf(buf, sizeof buf, "y%d", j);
  return pool_add(e, buf);
}

const char *emit_scratch(emit_ctx *e) {
  e->scratch_asked = 1;
  return "scratch";
}

int emit_team(emit_ctx *e) {
  if (e->team_ok && e->opt->threads > 1) e->team = 1;
  return e->team;
}

int emit_in_team(const emit_ctx *e) { return e->team; }

const char *emit_parts(emit_ctx *e, int64_t *stride) {
  if (!e->node || !ir_attr_find(e->node, PLAN_PARTS_ATTR)) return NULL;
  *stride = ir_attr_int(e->node, PLAN_PART_STRIDE_ATTR, 0);
  e->parts_asked = 1;
  return "parts";
}

void emit_kernel(emit_ctx *e, const char *label) { e->kernel = pool_add(e, label); }

const char *emit_fresh(emit_ctx *e, const char *prefix) {
  char buf[96];
  size_t len = strlen(prefix);
  /* "x"/"y" + digits would shadow a parameter, and a prefix ending in a digit
   * could meet another prefix's name ("a1"+"2" vs "a"+"12"): add a '_'. */
  int sep = len == 0 || strcmp(prefix, "x") == 0 || strcmp(prefix, "y") == 0 ||
            (prefix[len - 1] >= '0' && prefix[len - 1] <= '9');
  snprintf(buf, sizeof buf, "%.64s%s%d", len ? prefix : "v", sep ? "_" : "", e->fresh++);
  return pool_add(e, buf);
}

void emit_helper(emit_ctx *e, const char *key, const char *code) {
  for (int i = 0; i < e->n_helpers; i++)
    if (strcmp(e->helper_keys[i], key) == 0) return;
  e->helper_keys = ir_realloc(e->helper_keys, sizeof(char *) * (size_t)(e->n_helpers + 1));
  e->helper_keys[e->n_helpers++] = ir_strdup(key);
  sb_puts(&e->helpers, code);
  if (e->helpers.n && e->helpers.p[e->helpers.n - 1] != '\n') sb_puts(&e->helpers, "\n");
  sb_puts(&e->helpers, "\n");
}

const emit_options *emit_opts(const emit_ctx *e) { return e->opt; }

const ir_graph *emit_graph(const emit_ctx *e) { return e->g; }

/* ---- literals and identifiers -------------------------------------------- */

char *emit_literal(char *buf, size_t n, ir_dtype t, double v) {
  if (!ir_dtype_is_float(t)) {
    if (v != v) v = 0;  /* callers never ask for this; keep it defined */
    if (t == IR_U64 && v >= 9223372036854775808.0) {
      snprintf(buf, n, "%" PRIu64 "ULL", v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v);
      return buf;
    }
    int64_t iv = v >= 9223372036854775807.0 ? INT64_MAX : v <= -9223372036854775808.0 ? INT64_MIN
                                                                                       : (int64_t)v;
    return emit_literal_i64(buf, n, t, iv);
  }
  int is_double = t == IR_F64;
  if (v != v)
    snprintf(buf, n, "%s", is_double ? "((double)NAN)" : "NAN");
  else if (isinf(v))
    snprintf(buf, n, "%s%s", is_double ? "(double)" : "", v < 0 ? "(-INFINITY)" : "INFINITY");
  else if (is_double)
    snprintf(buf, n, signbit(v) ? "(%a)" : "%a", v);
  else {
    /* f16/bf16 are computed in float, so they get float literals too */
    double f = (double)(float)v;
    snprintf(buf, n, signbit(f) ? "(%af)" : "%af", f);
  }
  return buf;
}

char *emit_literal_i64(char *buf, size_t n, ir_dtype t, int64_t v) {
  switch (t) {
  case IR_F32: case IR_F64: case IR_F16: case IR_BF16:
    return emit_literal(buf, n, t, (double)v);
  case IR_I64:
    if (v == INT64_MIN) snprintf(buf, n, "(-9223372036854775807LL-1)");
    else snprintf(buf, n, v < 0 ? "(%" PRId64 "LL)" : "%" PRId64 "LL", v);
    break;
  case IR_U64:
    snprintf(buf, n, "%" PRIu64 "ULL", (uint64_t)v);
    break;
  case IR_I32:
    if (v == INT32_MIN) snprintf(buf, n, "(-2147483647-1)");
    else snprintf(buf, n, v < 0 ? "(%" PRId64 ")" : "%" PRId64, v);
    break;
  case IR_U32:
    snprintf(buf, n, "%" PRIu32 "u", (uint32_t)v);
    break;
  default:  /* narrow types and bool: an int literal converts without warning */
    snprintf(buf, n, v < 0 ? "(%" PRId64 ")" : "%" PRId64, v);
    break;
  }
  return buf;
}

void emit_c_ident(char *buf, size_t n, const char *s) {
  size_t k = 0;
  if (n == 0) return;
  if (s[0] >= '0' && s[0] <= '9' && k + 1 < n) buf[k++] = '_';
  for (; *s && k + 1 < n; s++) {
    char c = *s;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    buf[k++] = ok ? c : '_';
  }
  if (k == 0 && n > 1) buf[k++] = '_';  /* "" is no identifier */
  buf[k] = '\0';
}

/* ---- small writers --------------------------------------------------------- */

/* s as a C string literal (octal escapes: they cannot run into the next char). */
static void put_cstring(sbuf *b, const char *s) {
  sb_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') sb_printf(b, "\\%c", *p);
    else if (*p < 32 || *p >= 127 || *p == '?') sb_printf(b, "\\%03o", *p);  /* '?': no trigraphs */
    else sb_putn(b, (const char *)p, 1);
  }
  sb_puts(b, "\"");
}

/* s inside a comment: printable ASCII only, and never closing the comment. */
static void put_comment(sbuf *b, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '*' && p[1] == '/') sb_puts(b, "*_");
    else if (*p < 32 || *p >= 127) sb_puts(b, "?");
    else if (*p == '?' && p[1] == '?') sb_puts(b, "?_");  /* no trigraphs either */
    else sb_putn(b, (const char *)p, 1);
  }
}

static void put_shape(sbuf *b, const ir_tensor *t) {
  sb_puts(b, "[");
  for (int i = 0; i < t->rank; i++) sb_printf(b, i ? ",%" PRId64 : "%" PRId64, t->shape[i]);
  sb_puts(b, "]");
}

/* numpy descr of a dtype, NULL when .npy has none */
static int write_file(const char *dir, const char *name, const char *suffix, const sbuf *b) {
  size_t len = strlen(dir) + strlen(name) + strlen(suffix) + 2;
  char *path = ir_alloc(len);
  snprintf(path, len, "%s/%s%s", dir, name, suffix);
  FILE *f = fopen(path, "wb");
  int rc = 0;
  if (!f) rc = ir_error("cannot write %s: %s", path, strerror(errno));
  else {
    if (b->n && fwrite(b->p, 1, b->n, f) != b->n) rc = ir_error("cannot write %s: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == 0) rc = ir_error("cannot write %s: %s", path, strerror(errno));
  }
  free(path);
  return rc;
}

/* ---- the driver -------------------------------------------------------------- */

/* Where a tensor lives, as seen from NAME_infer. */
typedef struct drv {
  ir_graph *g;
  const char *name;
  char **in_param;       /* per graph input position: "input_x" */
  char **out_param;      /* per graph output position: "output_y" */
  int *input_pos;        /* per tensor id: its position in g->inputs, or -1 */
  int *output_pos;       /* per tensor id: first position in g->outputs, or -1 */
  int *weight;           /* per tensor id: k of NAME_w<k>, or -1 */
  int *out_direct;       /* per output position: a node writes the caller's buffer */
  int64_t *out_off;      /* training step: per output position, its arena offset (past the plan), or -1 */
  int profile;           /* --profile: the function calls NAME_profile around each node call */
  int n_profiled;        /* the node calls it times */
  const struct call *calls;   /* its calls, for the profiler's table */
  int64_t arena_align;   /* of the static arena and the harness's: 64, or PLAN_PAGE with a parts area */
} drv;

/* A graph's node functions and the statements of the function that runs
 * them: NAME_infer for the inference graph, NAME_train_step for a training
 * step.  A step has no output buffers: its graph outputs, if any, live in
 * the arena past the plan (tail bytes from g->arena_bytes). */
typedef struct call call;
typedef struct part {
  drv d;
  call *calls;
  int n_calls;
  sbuf funcs, calltext;
  size_t check_at;       /* training step: where in calltext the loss is checked (before the first
                            node writing a parameter or state, ir_tensor.stored_in; else the end) */
  unsigned char *flags;
  int64_t tail;
} part;

static int64_t align64(int64_t x) { return (x + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN; }

static int is_weight_role(const ir_tensor *t) { return t->role == IR_CONST || t->role == IR_PARAM; }
static int has_float_view(ir_dtype t) { return t == IR_F32 || t == IR_F64; }

static int owned(const ir_graph *g, const ir_tensor *t) {
  return t && t->id >= 0 && t->id < g->n_tensors && g->tensors[t->id] == t;
}

/* The C expression for t's memory in NAME_infer, cast to const or mutable T *. */
static int tensor_ref(const drv *d, const ir_tensor *t, int write, sbuf *out) {
  const char *ct = ir_dtype_ctype(t->dtype);
  const ir_tensor *view = plan_input_view(t);
  if (t->stored_in && owned(d->g, t->stored_in) && d->weight[t->stored_in->id] >= 0) {   /* its target's array */
    sb_printf(out, has_float_view(t->dtype) ? "%s_w%d.v" : "%s_w%d", d->name, d->weight[t->stored_in->id]);
  } else if (view && view != t && owned(d->g, view) && d->input_pos[view->id] >= 0) {   /* the caller's input, relabelled */
    if (write) return ir_error("tensor '%s' is a view of graph input '%s' but a node writes it", t->name, view->name);
    sb_printf(out, "(const %s *)(const void *)%s", ct, d->in_param[d->input_pos[view->id]]);
  } else if (d->input_pos[t->id] >= 0) {
    if (write) return ir_error("tensor '%s' is a graph input but a node writes it", t->name);
    sb_puts(out, d->in_param[d->input_pos[t->id]]);
  } else if (d->weight[t->id] >= 0) {
    if (write) return ir_error("tensor '%s' is a constant but a node writes it", t->name);
    sb_printf(out, has_float_view(t->dtype) ? "%s_w%d.v" : "%s_w%d", d->name, d->weight[t->id]);
  } else if (d->output_pos[t->id] >= 0 && d->out_off && d->out_off[d->output_pos[t->id]] >= 0) {
    sb_printf(out, "(%s%s *)(void *)(A + %" PRId64 ")", write ? "" : "const ", ct, d->out_off[d->output_pos[t->id]]);
  } else if (d->output_pos[t->id] >= 0 && d->out_direct[d->output_pos[t->id]]) {
    sb_puts(out, d->out_param[d->output_pos[t->id]]);
  } else if (plan_in_arena(t) && t->offset >= 0) {
    sb_printf(out, "(%s%s *)(void *)(A + %" PRId64 ")", write ? "" : "const ", ct, t->offset);
  } else if (is_weight_role(t)) {
    return ir_error("constant '%s' has no data", t->name);
  } else {
    return ir_error("tensor '%s' has no place in memory (was the graph memory-planned?)", t->name);
  }
  return 0;
}

/* Does identifier id occur as a whole token in s? */
static int has_token(const char *s, const char *id) {
  size_t len = strlen(id);
  for (const char *p = strstr(s, id); p; p = strstr(p + 1, id)) {
    int before = p > s && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z') ||
                           (p[-1] >= '0' && p[-1] <= '9'));
    char c = p[len];
    int after = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!before && !after) return 1;
  }
  return 0;
}

/* Is t's memory given to node n more than once (inputs and outputs
 * together: t itself twice, or another tensor the planner put on t's
 * arena bytes, an alias or an in-place output)?  Then no restrict. */
static int same_memory(const ir_tensor *a, const ir_tensor *b) {
  return a == b || (a && b && (a->stored_in == b || b->stored_in == a)) ||
         (a && b && plan_in_arena(a) && plan_in_arena(b) && a->offset >= 0 && a->offset == b->offset);
}
static int given_twice(const ir_node *n, const ir_tensor *t) {
  int c = 0;
  for (int i = 0; i < n->n_in; i++) c += same_memory(n->in[i], t);
  for (int j = 0; j < n->n_out; j++) c += same_memory(n->out[j], t);
  return c > 1;
}

/* A node function's call in NAME_infer: which tensor each parameter gets
 * (t NULL: the scratch at arena offset `scratch`).  Calls are written only
 * after every node is emitted, once the weights they use are numbered. */
typedef struct call_arg {
  const ir_tensor *t;
  int write;
  int64_t scratch;   /* or the parts area's offset */
} call_arg;

struct call {
  char fn[96];
  int n;
  call_arg *args;
  const ir_node *node;
  const char *kernel;   /* emit_kernel's label, for --profile */
  int team;             /* called by every thread of the team (emit_team) */
};

/* A runtime If is predicated by the inference pass: the nodes of its branches
 * carry "_guard", a list of "+NAME"/"-NAME" (run only when bool tensor NAME
 * is true/false).  The tensor named by guard string k of n, or NULL. */
static ir_tensor *guard_tensor(const ir_graph *g, const ir_node *n, int k, int *positive) {
  const ir_attr *a = ir_attr_find(n, "_guard");
  if (!a || a->type != IR_ATTR_STRINGS || k >= a->n || !a->strings[k][0]) return NULL;
  *positive = a->strings[k][0] == '+';
  return ir_lookup_tensor(g, a->strings[k] + 1);
}

/* Emit node n: its function into funcs, its call into cl. */
static int emit_node(emit_ctx *e, ir_node *n, sbuf *funcs, call *cl) {
  char opid[64];
  if (!n->op) return ir_error("node '%s' (%s): not bound to an op", n->name, n->op_type);
  if (!n->op->emit)
    return ir_error("node '%s' (%s): the C backend has no emitter for this op", n->name, n->op_type);
  int64_t scratch_bytes = n->op->scratch_bytes ? n->op->scratch_bytes(n) : 0;
  int64_t scratch_off = ir_attr_int(n, PLAN_SCRATCH_ATTR, -1);
  if (e->planned_scratch && n->id >= 0 && n->id < e->g->n_nodes && e->planned_scratch[n->id] != scratch_bytes)
    return ir_error("node '%s' (%s): its kernel asks for %lld bytes of scratch with the trained tensors' data "
                    "hidden, %lld as planned (a trained tensor taken for a constant?)", n->name, n->op_type,
                    (long long)scratch_bytes, (long long)e->planned_scratch[n->id]);
  int64_t own_bytes = plan_own_scratch(n);
  if (own_bytes > 0 && scratch_off < 0)
    return ir_error("node '%s' (%s): its scratch has no arena offset (was the graph memory-planned?)",
                    n->name, n->op_type);

  e->node = n;
  e->indent = 1;
  e->body.n = 0;
  if (e->body.p) e->body.p[0] = '\0';
  e->in_asked = ir_alloc((size_t)n->n_in + 1);
  e->out_asked = ir_alloc((size_t)n->n_out + 1);
  e->scratch_asked = 0;
  e->parts_asked = 0;
  e->team = 0;
  e->kernel = NULL;
  int rc = n->op->emit(e, n);
  cl->kernel = e->kernel ? e->kernel : "loop";
  cl->team = e->team;
  if (rc == 0) {
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && !owned(e->g, n->in[i]))
        rc = ir_error("node '%s' (%s): input '%s' does not belong to graph '%s'", n->name, n->op_type,
                      n->in[i]->name, e->g->name ? e->g->name : "");
  }
  if (rc == 0) {
    const char *body = e->body.p ? e->body.p : "";
    int first = 1;
    emit_c_ident(opid, sizeof opid, n->op_type);
    /* a comment naming the node and its tensors */
    sb_puts(funcs, "/* ");
    put_comment(funcs, n->name);
    sb_printf(funcs, " (%s):", n->op_type);
    for (int i = 0; i < n->n_in; i++) {
      sb_puts(funcs, i ? ", " : " ");
      if (!n->in[i]) { sb_puts(funcs, "-"); continue; }
      put_comment(funcs, n->in[i]->name);
      put_shape(funcs, n->in[i]);
    }
    sb_puts(funcs, " ->");
    for (int j = 0; j < n->n_out; j++) {
      sb_puts(funcs, j ? ", " : " ");
      if (!n->out[j]) { sb_puts(funcs, "-"); continue; }   /* a missing optional output */
      put_comment(funcs, n->out[j]->name);
      put_shape(funcs, n->out[j]);
    }
    sb_puts(funcs, " */\n");
    snprintf(cl->fn, sizeof cl->fn, "%s_%d_%s", e->fn_prefix ? e->fn_prefix : "node", n->id, opid);
    cl->node = n;
    sb_printf(funcs, "static void %s(", cl->fn);
    cl->args = ir_alloc(sizeof(call_arg) * (size_t)(n->n_in + n->n_out + 2));   /* + scratch, parts */
    cl->n = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
      int count = pass == 0 ? n->n_in : n->n_out;
      for (int i = 0; i < count && rc == 0; i++) {
        const ir_tensor *t = pass == 0 ? n->in[i] : n->out[i];
        char pname[32];
        if (!t || !(pass == 0 ? e->in_asked[i] : e->out_asked[i])) continue;
        snprintf(pname, sizeof pname, "%c%d", pass == 0 ? 'x' : 'y', i);
        if (!has_token(body, pname)) continue;  /* asked for but never used */
        if (t->dtype == IR_UNDEF || t->dtype == IR_STRING || ir_dtype_size(t->dtype) == 0)
          rc = ir_error("node '%s' (%s): tensor '%s' has dtype %s, which C code cannot hold", n->name,
                        n->op_type, t->name, ir_dtype_name(t->dtype));
        else {
          sb_printf(funcs, "%s%s%s *%s%s", first ? "" : ", ", pass == 0 ? "const " : "",
                    ir_dtype_ctype(t->dtype), given_twice(n, t) ? "" : "restrict ", pname);
          cl->args[cl->n++] = (call_arg){t, pass == 1, -1};
          first = 0;
        }
      }
    }
    if (rc == 0 && e->scratch_asked && has_token(body, "scratch")) {
      if (own_bytes <= 0)
        rc = ir_error("node '%s' (%s): the emitter uses scratch but the op declares none", n->name,
                      n->op_type);
      sb_printf(funcs, "%sunsigned char *restrict scratch", first ? "" : ", ");
      cl->args[cl->n++] = (call_arg){NULL, 1, scratch_off};
      first = 0;
    }
    if (rc == 0 && e->parts_asked && has_token(body, "parts")) {
      sb_printf(funcs, "%sunsigned char *restrict parts", first ? "" : ", ");
      cl->args[cl->n++] = (call_arg){NULL, 1, ir_attr_int(n, PLAN_PARTS_ATTR, -1)};
      first = 0;
    }
    if (first) sb_puts(funcs, "void");
    sb_puts(funcs, ")\n{\n");
    sb_puts(funcs, body);
    sb_puts(funcs, "}\n\n");
  }
  free(e->in_asked);
  free(e->out_asked);
  e->in_asked = e->out_asked = NULL;
  e->node = NULL;
  return rc;
}

/* Hex digits of the low `digits` nibbles of v, as "0x...u". */
static char *hex_lit(char *p, uint64_t v, int digits) {
  static const char hx[] = "0123456789abcdef";
  *p++ = '0';
  *p++ = 'x';
  for (int i = digits - 1; i >= 0; i--) *p++ = hx[(v >> (4 * i)) & 15];
  *p++ = 'u';
  return p;
}

/* One weight: its declaration for NAME.c (into externs) and its definition
 * with its values (into defs).  The float views are unions declared in both
 * files with the same members, which makes them compatible types. */
static void emit_weight(const char *name, const ir_tensor *t, int writable, sbuf *externs, sbuf *defs) {
  const char *cq = writable ? "" : "const ";
  int64_t numel = ir_numel(t);
  int64_t len = numel > 0 ? numel : 1;  /* C has no zero-size arrays */
  size_t es = ir_dtype_size(t->dtype);
  const unsigned char *data = t->data;

  sbuf head = {0};
  sb_puts(&head, "/* ");
  put_comment(&head, t->name);
  put_shape(&head, t);
  sb_printf(&head, " %s */\n", ir_dtype_name(t->dtype));
  if (has_float_view(t->dtype)) {
    const char *bits = t->dtype == IR_F32 ? "uint32_t" : "uint64_t";
    const char *ft = t->dtype == IR_F32 ? "float" : "double";
    sb_printf(&head, "union %s_u { %s u[%" PRId64 "]; %s v[%" PRId64 "]; };\n", name, bits, len, ft, len);
    sb_puts(externs, head.p);
    sb_printf(externs, "extern %sunion %s_u %s;\n", cq, name, name);
    sb_puts(defs, head.p);
    sb_printf(defs, "%sunion %s_u %s = {{", cq, name, name);
  } else {
    const char *ct = ir_dtype_ctype(t->dtype);
    sb_puts(externs, head.p);
    sb_printf(externs, "extern %s%s %s[%" PRId64 "];\n", cq, ct, name, len);
    sb_puts(defs, head.p);
    sb_printf(defs, "%s%s %s[%" PRId64 "] = {", cq, ct, name, len);
  }
  sb_free(&head);

  char buf[64];
  for (int64_t i = 0; i < len; i++) {
    if (i % 12 == 0) sb_puts(defs, "\n  ");
    char *p = buf;
    if (numel <= 0) {
      *p++ = '0';
    } else {
      const unsigned char *src = data + (size_t)i * es;
      uint64_t u = 0;
      int64_t s = 0;
      switch (t->dtype) {
      case IR_F32: { uint32_t v; memcpy(&v, src, 4); p = hex_lit(p, v, 8); break; }
      case IR_F64: { uint64_t v; memcpy(&v, src, 8); p = hex_lit(p, v, 16); *p++ = 'L'; *p++ = 'L'; break; }
      case IR_F16: case IR_BF16: { uint16_t v; memcpy(&v, src, 2); p = hex_lit(p, v, 4); break; }
      case IR_U16: { uint16_t v; memcpy(&v, src, 2); u = v; goto unsigned_dec; }
      case IR_U8: case IR_BOOL: u = src[0]; goto unsigned_dec;
      case IR_U32: { uint32_t v; memcpy(&v, src, 4); u = v; goto unsigned_dec; }
      case IR_U64: { memcpy(&u, src, 8); p += sprintf(p, "%" PRIu64 "ULL", u); break; }
      case IR_I8: { int8_t v; memcpy(&v, src, 1); s = v; goto signed_dec; }
      case IR_I16: { int16_t v; memcpy(&v, src, 2); s = v; goto signed_dec; }
      case IR_I32: { int32_t v; memcpy(&v, src, 4); s = v; goto signed_dec; }
      case IR_I64: { memcpy(&s, src, 8); goto signed_dec; }
      default: *p++ = '0'; break;
      unsigned_dec:
        p += sprintf(p, "%" PRIu64 "%s", u, t->dtype == IR_U32 ? "u" : "");
        break;
      signed_dec:
        emit_literal_i64(p, sizeof buf, t->dtype, s);
        p += strlen(p);
        break;
      }
    }
    *p = '\0';
    sb_puts(defs, buf);
    if (i + 1 < len) sb_puts(defs, i % 12 == 11 ? "," : ", ");
  }
  sb_puts(defs, has_float_view(t->dtype) ? "\n}};\n\n" : "\n};\n\n");
}

const char *emit_packed_f32(emit_ctx *e, const char *what, const float *v, int64_t n) {
  char name[320], expr[330];
  ir_tensor t;
  memset(&t, 0, sizeof t);
  t.name = (char *)what;
  t.dtype = IR_F32;
  t.rank = 1;
  t.shape[0] = n;
  t.data = (void *)v;
  snprintf(name, sizeof name, "%s_p%d", e->opt->name, e->n_packed++);
  emit_weight(name, &t, 0, &e->packed_externs, &e->packed_defs);
  snprintf(expr, sizeof expr, "%s.v", name);
  return pool_add(e, expr);
}

/* Prototype parameters of NAME_infer: "const float *input_x, float *output_y, void *arena". */
static void put_params(const drv *d, sbuf *b) {
  ir_graph *g = d->g;
  for (int i = 0; i < g->n_inputs; i++)
    sb_printf(b, "const %s *%s, ", ir_dtype_ctype(g->inputs[i]->dtype), d->in_param[i]);
  for (int j = 0; j < g->n_outputs; j++)
    sb_printf(b, "%s *%s, ", ir_dtype_ctype(g->outputs[j]->dtype), d->out_param[j]);
  sb_puts(b, "void *arena");
}

/* A parameter name made from prefix and t's name, unique among taken[0..n). */
static char *unique_param(const char *prefix, const ir_tensor *t, char **taken, int n) {
  char ident[200], buf[260];
  emit_c_ident(ident, sizeof ident, t->name);
  snprintf(buf, sizeof buf, "%s_%s", prefix, ident);
  for (int k = 0;; k++) {
    int clash = 0;
    for (int i = 0; i < n; i++) clash |= strcmp(taken[i], buf) == 0;
    if (!clash) return ir_strdup(buf);
    if (k == 0) snprintf(buf, sizeof buf, "%s_%s_%d", prefix, ident, t->id);
    else snprintf(buf, sizeof buf, "%s_%s_%d_%d", prefix, ident, t->id, k);
  }
}

static void put_io_macros(sbuf *h, const char *name, const char *kind, int i, const ir_tensor *t) {
  sb_printf(h, "#define %s_%s_%d_NAME ", name, kind, i);
  put_cstring(h, t->name);
  sb_printf(h, "\n#define %s_%s_%d_DTYPE \"%s\"\n", name, kind, i, ir_dtype_name(t->dtype));
  sb_printf(h, "#define %s_%s_%d_RANK %d\n", name, kind, i, t->rank);
  sb_printf(h, "#define %s_%s_%d_SHAPE {", name, kind, i);
  if (t->rank == 0) sb_puts(h, "1");  /* C has no empty initializer: a scalar reads as {1} */
  for (int k = 0; k < t->rank; k++) sb_printf(h, k ? ",%" PRId64 : "%" PRId64, t->shape[k]);
  sb_printf(h, "}\n#define %s_%s_%d_SIZE %" PRId64 "\n", name, kind, i, ir_numel(t));
}

/* The --train part of NAME.h: the step, its labels, the parameter access. */
static void put_train_header(const part *tp, sbuf *h) {
  const ir_graph *t = tp->d.g;
  const char *nm = tp->d.name;
  int n_in = t->n_inputs - t->n_labels;
  sb_printf(h, "#define %s_NUM_LABELS %d\n", nm, t->n_labels);
  for (int i = n_in; i < t->n_inputs; i++) put_io_macros(h, nm, "LABEL", i - n_in, t->inputs[i]);
  sb_printf(h, "\nint %s_train_step(", nm);
  for (int i = 0; i < t->n_inputs; i++)
    sb_printf(h, "const %s *%s, ", ir_dtype_ctype(t->inputs[i]->dtype), tp->d.in_param[i]);
  sb_puts(h, "float *loss, void *arena);\n\n");
  for (int k = 0; k < 2; k++) {
    const char *kind = k ? "state" : "param";
    sb_printf(h, "int %s_%s_count(void);\n"
                 "const char *%s_%s_name(int i);\n"
                 "const char *%s_%s_dtype(int i);\n"
                 "int %s_%s_rank(int i);\n"
                 "const int64_t *%s_%s_shape(int i);\n"
                 "int64_t %s_%s_numel(int i);\n"
                 "void *%s_%s_data(int i);\n"
                 "int %s_%s_find(const char *name);\n\n", nm, kind, nm, kind, nm, kind, nm, kind, nm, kind, nm, kind,
              nm, kind, nm, kind);
  }
  if (tp->d.profile)
    sb_printf(h, "/* Built with --profile: %s_train_step calls %s_train_profile(k, 0) before\n"
                 " * node k of the step and %s_train_profile(k, 1) after it, k = 0 ..\n"
                 " * %s_TRAIN_PROFILE_NODES - 1 in schedule order; %s_main.c defines it. */\n"
                 "#define %s_TRAIN_PROFILE_NODES %d\n"
                 "void %s_train_profile(int node, int end);\n\n",
              nm, nm, nm, nm, nm, nm, tp->d.n_profiled, nm);
}

static void emit_header(const drv *d, const part *tp, sbuf *h) {
  ir_graph *g = d->g;
  const char *nm = d->name;
  int64_t arena = g->arena_bytes > 64 ? g->arena_bytes : 64;
  int64_t step_arena = tp ? align64(tp->d.g->arena_bytes) + tp->tail : 0;
  if (step_arena > arena) arena = step_arena;
  sb_printf(h, "/*\n * %s.h - %s for model '", nm, tp ? "inference and training" : "inference");
  put_comment(h, g->name ? g->name : nm);
  sb_puts(h, "'.\n * Generated by modelc; do not edit.\n *\n");
  sb_printf(h, " * int %s_infer(<inputs>, <outputs>, void *arena);\n", nm);
  sb_puts(h, " *   Runs the model once.  Each input and output is a dense C-order array of\n"
             " *   the dtype and shape given by the macros below; they must not overlap.\n");
  sb_printf(h, " *   arena: %s_ARENA_BYTES bytes, 64-byte aligned, for the intermediate values\n"
               " *   (its contents need not persist between calls), or NULL to use a static\n"
               " *   arena inside %s.c.  With a caller's arena the function is reentrant:\n"
               " *   concurrent calls need distinct arenas.  Returns 0, or\n"
               " *   %s_ERR_NO_ARENA when arena is NULL and %s.c was compiled with\n"
               " *   -D%s_NO_STATIC_ARENA.\n%s"
               " *\n"
               " * %s_NO_STATIC_ARENA: define it while compiling %s.c to reserve no static\n"
               " *   arena (%s_ARENA_BYTES of RAM saved) when every caller passes its own.\n%s",
            nm, nm, nm, nm, nm,
            d->arena_align > 64 ? " *   Threads run faster on an arena aligned to 4096 bytes, as the static\n"
                                  " *   one is: each thread's scratch is then whole pages of its own.\n" : "",
            nm, nm, nm, tp ? "" : " */\n");
  if (tp) {
    sb_printf(h, " *\n"
                 " * Training (a --train build):\n"
                 " * int %s_train_step(<inputs>, <labels>, float *loss, void *arena);\n"
                 " *   One optimizer step on one batch: runs the training graph (forward, loss,\n"
                 " *   gradients, optimizer), writes the batch's loss to *loss as soon as it is\n"
                 " *   known, and stores the new values of the trained parameters and of the\n"
                 " *   optimizer's state (each as soon as its gradient is complete).\n"
                 " *   Inputs are %s_infer's, labels as the LABEL macros say.  arena as for\n"
                 " *   %s_infer (the same %s_ARENA_BYTES; NULL: the same static arena, so\n"
                 " *   no call may overlap another).  Returns 0; %s_ERR_NO_ARENA as above;\n"
                 " *   %s_ERR_LOSS_NOT_FINITE when the loss is NaN or infinite, and then\n"
                 " *   nothing is stored: the parameters keep the values the step began with.\n"
                 " *   The parameters live in writable arrays shared with %s_infer, which\n"
                 " *   therefore computes with the latest trained values; neither function is\n"
                 " *   reentrant with respect to them (one model, one trainer).\n"
                 " *\n"
                 " * Parameter access, for saving and loading (i from 0 to %s_param_count() - 1;\n"
                 " * out of range: NULL or -1):\n"
                 " *   %s_param_name(i)   the model's name for it (an ONNX initializer name)\n"
                 " *   %s_param_dtype(i)  \"float32\" (numpy name); _rank(i), _shape(i), _numel(i)\n"
                 " *   %s_param_data(i)   its numel elements, C order, writable: loading is a\n"
                 " *                       memcpy into it between steps\n"
                 " *   %s_param_find(name) its index, or -1\n"
                 " * Only trained parameters are listed; frozen ones and constants stay const.\n"
                 " * The optimizer's state (momentum, Adam's moments, the step counter that\n"
                 " * also seeds random ops) has the same functions, %s_state_count() and so\n"
                 " * on; its names (\"optimizer/<parameter>/exp_avg\", \"optimizer/step\") are\n"
                 " * never a parameter's, so one .npz can hold both.  Saving and loading both\n"
                 " * resumes training exactly where it stopped.\n */\n",
              nm, nm, nm, nm, nm, nm, nm, nm, nm, nm, nm, nm, nm);
  }
  sb_printf(h, "#ifndef %s_H_INCLUDED\n#define %s_H_INCLUDED\n\n#include <stdint.h>\n\n", nm, nm);
  sb_puts(h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  sb_printf(h, "#define %s_ARENA_BYTES %" PRId64 "\n", nm, arena);
  sb_printf(h, "/* most bytes live at once for this schedule: %" PRId64 " */\n\n", g->arena_lower_bound);
  if (tp) {
    sb_printf(h, "/* the arena each function needs; %s_ARENA_BYTES is the larger */\n"
                 "#define %s_INFER_ARENA_BYTES %" PRId64 "\n"
                 "#define %s_TRAIN_ARENA_BYTES %" PRId64 "\n"
                 "/* most bytes live at once in the training step: %" PRId64 " */\n\n",
              nm, nm, g->arena_bytes > 64 ? g->arena_bytes : 64, nm, step_arena, tp->d.g->arena_lower_bound);
  }
  sb_printf(h, "#define %s_ERR_NO_ARENA 1  /* arena NULL, static arena compiled out */\n\n", nm);
  if (tp) sb_printf(h, "#define %s_ERR_LOSS_NOT_FINITE 2  /* train_step: NaN or infinite loss, nothing updated */\n\n", nm);
  sb_printf(h, "#define %s_NUM_INPUTS %d\n", nm, g->n_inputs);
  sb_printf(h, "#define %s_NUM_OUTPUTS %d\n\n", nm, g->n_outputs);
  for (int i = 0; i < g->n_inputs; i++) put_io_macros(h, nm, "INPUT", i, g->inputs[i]);
  if (g->n_inputs) sb_puts(h, "\n");
  for (int j = 0; j < g->n_outputs; j++) put_io_macros(h, nm, "OUTPUT", j, g->outputs[j]);
  if (g->n_outputs) sb_puts(h, "\n");
  if (d->profile)
    sb_printf(h, "/* Built with --profile: %s_infer calls %s_profile(k, 0) before node k and\n"
                 " * %s_profile(k, 1) after it, k = 0 .. %s_PROFILE_NODES - 1 in schedule order\n"
                 " * (the numbering of `modelc graph`).  The program defines it: %s_main.c\n"
                 " * does, timing each node with a clock. */\n"
                 "#define %s_PROFILE_NODES %d\n"
                 "void %s_profile(int node, int end);\n\n",
              nm, nm, nm, nm, nm, nm, d->n_profiled, nm);
  sb_printf(h, "int %s_infer(", nm);
  put_params(d, h);
  sb_puts(h, ");\n\n");
  if (tp) put_train_header(tp, h);
  sb_puts(h, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

/* --profile's part of the harness, once: the table's row type and the table
 * `--profile N` prints (for NAME_infer, and for NAME_train_step in a --train
 * build: `NAME_main --train X.npy Y.npy --batch B --profile N`). */
static void emit_profiler_common(sbuf *m) {
  sb_puts(m,
          "/* ---- --profile: NAME_infer (and NAME_train_step) call a hook around each node ---- */\n"
          "typedef struct prof_node {\n"
          "  const char *name, *op, *kernel;\n"
          "  long long macs;   /* multiply-accumulates of one run, as modelc info counts them */\n"
          "} prof_node;\n\n"
          "static double prof_start;\n"
          "static const double *prof_sort_us;   /* the times cmp_prof orders by */\n\n"
          "/* slowest first; ties in schedule order */\n"
          "static int cmp_prof(const void *a, const void *b) {\n"
          "  int x = *(const int *)a, y = *(const int *)b;\n"
          "  if (prof_sort_us[x] != prof_sort_us[y]) return prof_sort_us[x] < prof_sort_us[y] ? 1 : -1;\n"
          "  return x - y;\n"
          "}\n\n"
          "/* GFLOP/s of macs multiply-accumulates in us microseconds, \"-\" for none */\n"
          "static void put_gflops(char *buf, size_t n, long long macs, double us) {\n"
          "  if (macs > 0 && us > 0) snprintf(buf, n, \"%.2f\", 2.0 * (double)macs / us / 1e3);\n"
          "  else snprintf(buf, n, \"-\");\n"
          "}\n\n"
          "/* The table of --profile N: per node of nodes[0..count) its mean time over\n"
          " * the runs (us: summed over them), its share of the total and its GFLOP/s,\n"
          " * slowest first; the total last. */\n"
          "static void print_profile(const prof_node *nodes, const double *us_sum, int count, long runs) {\n"
          "  int *order = malloc(sizeof(int) * (size_t)(count + 1)), k, wn = 4, wo = 2, wk = 6;\n"
          "  double total = 0;\n"
          "  long long macs = 0;\n"
          "  char gf[32];\n"
          "  if (!order) return;\n"
          "  for (k = 0; k < count; k++) {\n"
          "    const prof_node *p = &nodes[k];\n"
          "    order[k] = k;\n"
          "    total += us_sum[k];\n"
          "    macs += p->macs;\n"
          "    if ((int)strlen(p->name) > wn) wn = (int)strlen(p->name);\n"
          "    if ((int)strlen(p->op) > wo) wo = (int)strlen(p->op);\n"
          "    if ((int)strlen(p->kernel) > wk) wk = (int)strlen(p->kernel);\n"
          "  }\n"
          "  prof_sort_us = us_sum;\n"
          "  qsort(order, (size_t)count, sizeof order[0], cmp_prof);\n"
          "  printf(\"%-*s  %-*s  %-*s  %12s  %7s  %8s\\n\", wn, \"node\", wo, \"op\", wk, \"kernel\", \"us\", \"share\",\n"
          "         \"GFLOP/s\");\n"
          "  for (k = 0; k < count; k++) {\n"
          "    const prof_node *p = &nodes[order[k]];\n"
          "    double us = us_sum[order[k]] / (double)runs;\n"
          "    put_gflops(gf, sizeof gf, p->macs, us);\n"
          "    printf(\"%-*s  %-*s  %-*s  %12.3f  %6.2f%%  %8s\\n\", wn, p->name, wo, p->op, wk, p->kernel, us,\n"
          "           total > 0 ? 100.0 * us_sum[order[k]] / total : 0.0, gf);\n"
          "  }\n"
          "  put_gflops(gf, sizeof gf, macs, total / (double)runs);\n"
          "  printf(\"%-*s  %-*s  %-*s  %12.3f  %6.2f%%  %8s\\n\", wn, \"total\", wo, \"\", wk, \"\", total / (double)runs,\n"
          "         100.0, gf);\n"
          "  free(order);\n"
          "}\n\n");
}

/* One profiled function's part: its nodes' table (TAB_nodes), their summed
 * times (TAB_us) and the hook it calls around each node (NAME_profile for
 * NAME_infer, NAME_train_profile for NAME_train_step). */
static void emit_profiler(const drv *d, const call *calls, const char *tab, const char *hook, sbuf *m) {
  const char *nm = d->name;
  sb_printf(m, "static const prof_node %s_nodes[%d] = {\n", tab, d->n_profiled + 1);
  for (int k = 0; k < d->n_profiled; k++) {
    const ir_node *n = calls[k].node;
    char fused[64], op[160];
    if (op_epilogue_label(n, fused, sizeof fused) < 0) fused[0] = '\0';
    snprintf(op, sizeof op, "%s%s", n->op_type, fused);
    sb_puts(m, "  {");
    put_cstring(m, n->name);
    sb_puts(m, ", ");
    put_cstring(m, op);
    sb_puts(m, ", ");
    put_cstring(m, calls[k].kernel);
    sb_printf(m, ", %" PRId64 "LL},\n", n->op->macs ? n->op->macs(n) : 0);
  }
  sb_puts(m, "  {NULL, NULL, NULL, 0}  /* C has no empty arrays */\n};\n");
  sb_printf(m, "static double %s_us[%d];\n\n", tab, d->n_profiled + 1);
  sb_printf(m,
            "void %s_%s(int node, int end) {\n"
            "  double t = now_us();\n"
            "  if (end) %s_us[node] += t - prof_start;\n"
            "  else prof_start = t;\n"
            "}\n\n", nm, hook, tab);
}

/* The harness: one generic main over tables describing the inputs and outputs. */
/* One io_desc row: name, output file (NULL for inputs), dtype, shape, size. */
static void put_io_desc(sbuf *m, const ir_tensor *t, const char *file) {
  const char *descr = tio_npy_descr(t->dtype);
  sb_puts(m, "  {");
  put_cstring(m, t->name);
  sb_puts(m, ", ");
  if (file) put_cstring(m, file);
  else sb_puts(m, "NULL");
  sb_printf(m, ", \"%s\", \"%s\", %d, {", ir_dtype_name(t->dtype), descr ? descr : "", t->rank);
  for (int k = 0; k < t->rank; k++) sb_printf(m, k ? ", %" PRId64 : "%" PRId64, t->shape[k]);
  if (t->rank == 0) sb_puts(m, "0");
  sb_printf(m, "}, %" PRId64 "},\n", ir_numel(t));
}

/* The --train glue of the harness: the labels' table, the step's call and
 * the names harness_train.inc uses, then that file. */
static void put_train_glue(const part *tp, sbuf *m) {
  const ir_graph *t = tp->d.g;
  const char *nm = tp->d.name;
  int n_in = t->n_inputs - t->n_labels;
  sb_puts(m, "/* ---- --train: the model's side ---- */\n\nstatic const io_desc tr_labels[] = {\n");
  for (int i = n_in; i < t->n_inputs; i++) put_io_desc(m, t->inputs[i], NULL);
  sb_puts(m, "  {NULL, NULL, NULL, NULL, 0, {0}, 0}\n};\n\n");
  sb_printf(m, "#define TR_PROG \"%s_main\"\n#define TR_N_LABELS %d\n#define TR_ARENA_BYTES %s_ARENA_BYTES\n"
               "#define TR_ERR_LOSS %s_ERR_LOSS_NOT_FINITE\n", nm, t->n_labels, nm, nm);
  if (tp->d.profile)   /* --profile N in the --train mode: the step's table */
    sb_puts(m, "#define TR_PROFILE_RESET() memset(prof_step_us, 0, sizeof prof_step_us)\n"
               "#define TR_PROFILE_PRINT(runs) \\\n"
               "  print_profile(prof_step_nodes, prof_step_us, (int)(sizeof prof_step_nodes / sizeof prof_step_nodes[0]) - 1, runs)\n");
  static const char *const fns[] = {"COUNT", "count", "NAME", "name", "DTYPE", "dtype", "RANK", "rank",
                                    "SHAPE", "shape", "NUMEL", "numel", "DATA", "data", "FIND", "find"};
  for (int k = 0; k < 16; k += 2)
    sb_printf(m, "#define TR_PARAM_%s %s_param_%s\n#define TR_STATE_%s %s_state_%s\n", fns[k], nm, fns[k + 1], fns[k],
              nm, fns[k + 1]);
  sb_puts(m, "#define TR_STEP_NAME \"" TRAIN_STEP_NAME "\"\n");
  sb_printf(m, "\nstatic int tr_step(void *const *in, void *const *lab, float *loss, void *arena) {\n");
  if (!n_in) sb_puts(m, "  (void)in;\n");
  if (!t->n_labels) sb_puts(m, "  (void)lab;\n");
  sb_printf(m, "  return %s_train_step(", nm);
  for (int i = 0; i < t->n_inputs; i++)
    sb_printf(m, "(const %s *)%s[%d], ", ir_dtype_ctype(t->inputs[i]->dtype), i < n_in ? "in" : "lab",
              i < n_in ? i : i - n_in);
  sb_puts(m, "loss, arena);\n}\n\n");
  sb_puts(m, "/* ---- the --train loop (compiler/backend/harness_train.inc) ---- */\n");
  sb_puts(m, modelc_train_src);
  sb_puts(m, "/* ---- end of the --train loop ---- */\n\n");
}

/* Whether a node of g has its parallel parts' scratch in the parts area,
 * or g has row replicas: then its arena is page-aligned where modelc
 * allocates it, so that the parts' slices and copies are whole pages. */
static int has_parts_area(const ir_graph *g) {
  if (g->replicas > 1) return 1;
  for (int i = 0; i < g->n_nodes; i++)
    if (ir_attr_find(g->nodes[i], PLAN_PARTS_ATTR)) return 1;
  return 0;
}

static void emit_harness(const drv *d, const part *tp, sbuf *m) {
  ir_graph *g = d->g;
  const char *nm = d->name;
  sb_printf(m, "/*\n * %s_main.c - command-line harness for %s_infer.\n", nm, nm);
  sb_puts(m, " * Generated by modelc; do not edit.\n *\n");
  sb_printf(m, " *   %s_main IN.npy... [-o OUTDIR]     one .npy per input, in input order;\n"
               " *                                       writes OUTDIR/<output>.npy\n"
               " *   %s_main --bench N IN.npy...       N timed runs after a warm-up;\n"
               " *                                       last line: median_us: X\n"
               "%s%s%s%s"
               " * Build: cc -O3 %s.c %s_weights.c %s_main.c -lm\n */\n", nm, nm,
            d->profile ? " *   " : "", d->profile ? nm : "",
            d->profile ? "_main --profile N IN.npy...     N runs after a warm-up; per node its\n"
                         " *                                       mean time, share and GFLOP/s\n" : "",
            tp ? " *   ... --load W.npz ...              any run above, with trained parameters\n"
                 " *   --train X.npy Y.npy --epochs E --batch B [--shuffle SEED] [--log L.csv]\n"
                 " *     [--save W.npz] [--load W.npz] [--test XT.npy YT.npy] [--max-bytes N]\n"
                 " *                                       trains the model (see harness_train.inc\n"
                 " *                                       below and docs/training_harness.md)\n" : "",
            nm, nm, nm);
  sb_puts(m, "#ifndef _POSIX_C_SOURCE\n#define _POSIX_C_SOURCE 200809L /* clock_gettime */\n#endif\n\n");
  sb_printf(m, "#include <errno.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
             "#include <sys/stat.h>\n#include <time.h>\n%s\n", tp ? "#include <stdarg.h>\n#include <unistd.h>\n" : "");
  sb_printf(m, "#include \"%s.h\"\n\n", nm);
  sb_puts(m, "/* ---- modelc's .npy reader and writer (runtime/npy.h, runtime/npy.c) ---- */\n");
  sb_puts(m, modelc_npy_src);
  sb_puts(m, "/* ---- end of npy ---- */\n\n");
  if (tp) {
    sb_puts(m, "/* ---- modelc's .npz reader (runtime/npz.h, runtime/npz.c) ---- */\n");
    sb_puts(m, modelc_npz_src);
    sb_puts(m, "/* ---- end of npz ---- */\n\n");
  }
  sb_puts(m,
          "typedef struct io_desc {\n"
          "  const char *name, *file, *dtype, *descr;  /* file: OUTDIR/<file>.npy (outputs) */\n"
          "  int rank;\n"
          "  int64_t shape[8];\n"
          "  int64_t size;\n"
          "} io_desc;\n\n");
  /* output file names as modelc run and check write and read them (tensor_io.h) */
  const char **onames = ir_alloc(sizeof *onames * (size_t)(g->n_outputs + 1));
  for (int j = 0; j < g->n_outputs; j++) onames[j] = g->outputs[j]->name;
  char **ofiles = tio_output_file_names(g->n_outputs, onames);
  for (int pass = 0; pass < 2; pass++) {
    int count = pass ? g->n_outputs : g->n_inputs;
    sb_printf(m, "static const io_desc %s[] = {\n", pass ? "outs" : "ins");
    for (int i = 0; i < count; i++) put_io_desc(m, pass ? g->outputs[i] : g->inputs[i], pass ? ofiles[i] : NULL);
    sb_puts(m, "  {NULL, NULL, NULL, NULL, 0, {0}, 0}  /* C has no empty arrays */\n};\n\n");
  }
  tio_free_file_names(g->n_outputs, ofiles);
  free(onames);
  sb_printf(m, "#define N_IN %d\n#define N_OUT %d\n\n", g->n_inputs, g->n_outputs);
  sb_puts(m,
          "static const char *const dtype_names[][2] = {\n"
          "  {\"<f4\", \"float32\"}, {\"<f8\", \"float64\"}, {\"<f2\", \"float16\"}, {\"|i1\", \"int8\"},\n"
          "  {\"<i2\", \"int16\"}, {\"<i4\", \"int32\"}, {\"<i8\", \"int64\"}, {\"|u1\", \"uint8\"},\n"
          "  {\"<u2\", \"uint16\"}, {\"<u4\", \"uint32\"}, {\"<u8\", \"uint64\"}, {\"|b1\", \"bool\"}\n"
          "};\n\n"
          "static const char *dtype_of(const char *descr) {\n"
          "  size_t i;\n"
          "  for (i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)\n"
          "    if (strcmp(dtype_names[i][0], descr) == 0) return dtype_names[i][1];\n"
          "  return descr;\n"
          "}\n\n"
          "static void put_shape(char *buf, size_t n, int rank, const int64_t *shape) {\n"
          "  size_t k = 0;\n"
          "  int i;\n"
          "  k += (size_t)snprintf(buf + k, n - k, \"[\");\n"
          "  for (i = 0; i < rank && k < n; i++)\n"
          "    k += (size_t)snprintf(buf + k, n - k, i ? \",%lld\" : \"%lld\", (long long)shape[i]);\n"
          "  if (k < n) snprintf(buf + k, n - k, \"]\");\n"
          "}\n\n");
  sb_puts(m,
          "/* mkdir -p: the -o folder and its parents (POSIX, like modelc's own -o). */\n"
          "static int make_dirs(const char *dir, char *err, size_t errlen) {\n"
          "  size_t n = strlen(dir), k;\n"
          "  char *p = malloc(n + 1);\n"
          "  int rc = 0;\n"
          "  if (!p) return snprintf(err, errlen, \"out of memory\"), -1;\n"
          "  memcpy(p, dir, n + 1);\n"
          "  for (k = 1; k <= n && rc == 0; k++) {\n"
          "    if (p[k] != '/' && p[k] != '\\0') continue;\n"
          "    p[k] = '\\0';\n"
          "    if (mkdir(p, 0777) != 0 && errno != EEXIST) {\n"
          "      snprintf(err, errlen, \"cannot create folder '%s': %s\", p, strerror(errno));\n"
          "      rc = -1;\n"
          "    }\n"
          "    p[k] = k < n ? '/' : '\\0';\n"
          "  }\n"
          "  free(p);\n"
          "  return rc;\n"
          "}\n\n");
  sb_printf(m,
            "static int usage(void) {\n"
            "  fprintf(stderr, \"usage: %s_main IN.npy... [-o OUTDIR]\\n"
            "       %s_main --bench N IN.npy...\\n%s%s%s%s\");\n"
            "  return 2;\n"
            "}\n\n", nm, nm, d->profile ? "       " : "", d->profile ? nm : "",
            d->profile ? "_main --profile N IN.npy...\\n" : "",
            tp ? "       --train X.npy Y.npy --epochs E --batch B ... (see --train alone)\\n" : "");
  /* the call, with one cast argument per input and output */
  sb_puts(m, "static int run(void *const *in, void *const *out, void *arena) {\n");
  if (!g->n_inputs) sb_puts(m, "  (void)in;\n");
  if (!g->n_outputs) sb_puts(m, "  (void)out;\n");
  sb_printf(m, "  return %s_infer(", nm);
  for (int i = 0; i < g->n_inputs; i++)
    sb_printf(m, "(const %s *)in[%d], ", ir_dtype_ctype(g->inputs[i]->dtype), i);
  for (int j = 0; j < g->n_outputs; j++)
    sb_printf(m, "(%s *)out[%d], ", ir_dtype_ctype(g->outputs[j]->dtype), j);
  sb_puts(m, "arena);\n}\n\n");
  sb_puts(m,
          "static int cmp_double(const void *a, const void *b) {\n"
          "  double x = *(const double *)a, y = *(const double *)b;\n"
          "  return x < y ? -1 : x > y;\n"
          "}\n\n"
          "static double now_us(void) {\n"
          "  struct timespec ts;\n"
          "  clock_gettime(CLOCK_MONOTONIC, &ts);\n"
          "  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;\n"
          "}\n\n");
  if (d->profile) {
    emit_profiler_common(m);
    emit_profiler(d, d->calls, "prof", "profile", m);
    if (tp) emit_profiler(&tp->d, tp->d.calls, "prof_step", "train_profile", m);
  }
  if (tp) put_train_glue(tp, m);
  sb_printf(m,
            "int main(int argc, char **argv) {\n"
            "  const char *prog = \"%s_main\", *outdir = \".\", *files[N_IN + 1];\n"
            "  npy_array arrs[N_IN + 1];\n"
            "  void *in[N_IN + 1], *out[N_OUT + 1];\n"
            "  unsigned char *arena_mem, *arena;\n"
            "  char err[512];\n"
            "  long bench = -1%s;\n"
            "  int nfiles = 0, i, rc = 0;\n"
            "%s"
            "  memset(arrs, 0, sizeof arrs);\n"
            "  memset(out, 0, sizeof out);\n"
            "  for (i = 1; i < argc; i++) {\n"
            "    if (strcmp(argv[i], \"-o\") == 0) {\n"
            "      if (++i >= argc) return usage();\n"
            "      outdir = argv[i];\n"
            "    } else if (strcmp(argv[i], \"--bench\") == 0) {\n"
            "      char *end;\n"
            "      if (++i >= argc) return usage();\n"
            "      bench = strtol(argv[i], &end, 10);\n"
            "      if (*end || bench < 1) return usage();\n"
            "%s"
            "    } else if (argv[i][0] == '-' && argv[i][1]) {\n"
            "      return usage();\n"
            "    } else {\n"
            "      if (nfiles >= N_IN) {\n"
            "        fprintf(stderr, \"%%s: expected %%d input file(s), got more\\n\", prog, N_IN);\n"
            "        return 2;\n"
            "      }\n"
            "      files[nfiles++] = argv[i];\n"
            "    }\n"
            "  }\n"
            "  if (nfiles != N_IN) {\n"
            "    fprintf(stderr, \"%%s: expected %%d input file(s), got %%d\\n\", prog, N_IN, nfiles);\n"
            "    return 2;\n"
            "  }\n", nm, d->profile ? ", profile = -1" : "",
            tp ? "  for (i = 1; i < argc; i++)   /* --train anywhere: the training loop */\n"
                 "    if (strcmp(argv[i], \"--train\") == 0) return train_main(argc, argv);\n"
                 "  if (tr_take_load(&argc, argv) != 0) return 1;   /* --load W.npz: infer with trained weights */\n" : "",
            d->profile ? "    } else if (strcmp(argv[i], \"--profile\") == 0) {\n"
                         "      char *end;\n"
                         "      if (++i >= argc) return usage();\n"
                         "      profile = strtol(argv[i], &end, 10);\n"
                         "      if (*end || profile < 1) return usage();\n"
                       : "");
  sb_puts(m,
          "  for (i = 0; i < N_IN; i++) {\n"
          "    const io_desc *d = &ins[i];\n"
          "    int ok, k;\n"
          "    if (npy_read(files[i], &arrs[i], err, sizeof err) != 0) {\n"
          "      fprintf(stderr, \"%s: input '%s' (%s): %s\\n\", prog, d->name, files[i], err);\n"
          "      rc = 1;\n"
          "      goto done;\n"
          "    }\n"
          "    ok = strcmp(arrs[i].descr, d->descr) == 0 && arrs[i].rank == d->rank;\n"
          "    for (k = 0; ok && k < d->rank; k++) ok = arrs[i].shape[k] == d->shape[k];\n"
          "    if (!ok) {\n"
          "      char want[200], got[200];\n"
          "      put_shape(want, sizeof want, d->rank, d->shape);\n"
          "      put_shape(got, sizeof got, arrs[i].rank, arrs[i].shape);\n"
          "      fprintf(stderr, \"%s: input '%s' (%s): expected %s %s, got %s %s\\n\", prog, d->name,\n"
          "              files[i], d->dtype, want, dtype_of(arrs[i].descr), got);\n"
          "      rc = 1;\n"
          "      goto done;\n"
          "    }\n"
          "    in[i] = arrs[i].data;\n"
          "  }\n"
          "  for (i = 0; i < N_OUT; i++) {\n"
          "    size_t bytes = (size_t)outs[i].size * npy_descr_size(outs[i].descr);\n"
          "    out[i] = calloc(bytes ? bytes : 1, 1);\n"
          "    if (!out[i]) {\n"
          "      fprintf(stderr, \"%s: out of memory\\n\", prog);\n"
          "      rc = 1;\n"
          "      goto done;\n"
          "    }\n"
          "  }\n");
  sb_printf(m,
            "  arena_mem = malloc((size_t)%s_ARENA_BYTES + %" PRId64 ");\n"
            "  if (!arena_mem) {\n"
            "    fprintf(stderr, \"%%s: out of memory\\n\", prog);\n"
            "    rc = 1;\n"
            "    goto done;\n"
            "  }\n"
            "  arena = arena_mem + (%" PRId64 " - (uintptr_t)arena_mem %% %" PRId64 ") %% %" PRId64 ";\n", nm,
            d->arena_align, d->arena_align, d->arena_align, d->arena_align);
  if (d->profile)
    sb_puts(m,
            "  if (profile > 0) {\n"
            "    long r;\n"
            "    rc = run(in, out, arena);  /* warm-up */\n"
            "    memset(prof_us, 0, sizeof prof_us);\n"
            "    for (r = 0; r < profile && rc == 0; r++) rc = run(in, out, arena);\n"
            "    if (rc == 0) {\n"
            "      print_profile(prof_nodes, prof_us, (int)(sizeof prof_nodes / sizeof prof_nodes[0]) - 1, profile);\n"
            "    } else {\n"
            "      fprintf(stderr, \"%s: inference failed (%d)\\n\", prog, rc);\n"
            "      rc = 1;\n"
            "    }\n"
            "  } else ");
  else
    sb_puts(m, "  ");
  sb_puts(m,
          "if (bench > 0) {\n"
          "    double *t = malloc(sizeof(double) * (size_t)bench);\n"
          "    long r;\n"
          "    if (!t) {\n"
          "      fprintf(stderr, \"%s: out of memory\\n\", prog);\n"
          "      rc = 1;\n"
          "    } else {\n"
          "      rc = run(in, out, arena);  /* warm-up */\n"
          "      for (r = 0; r < bench && rc == 0; r++) {\n"
          "        double t0 = now_us();\n"
          "        rc = run(in, out, arena);\n"
          "        t[r] = now_us() - t0;\n"
          "      }\n"
          "      if (rc == 0) {\n"
          "        qsort(t, (size_t)bench, sizeof *t, cmp_double);\n"
          "        printf(\"runs: %ld\\nmin_us: %.3f\\n\", bench, t[0]);\n"
          "        printf(\"median_us: %.3f\\n\", bench % 2 ? t[bench / 2] : (t[bench / 2 - 1] + t[bench / 2]) / 2);\n"
          "      } else {\n"
          "        fprintf(stderr, \"%s: inference failed (%d)\\n\", prog, rc);\n"
          "        rc = 1;\n"
          "      }\n"
          "      free(t);\n"
          "    }\n"
          "  } else if ((rc = run(in, out, arena)) != 0) {\n"
          "    fprintf(stderr, \"%s: inference failed (%d)\\n\", prog, rc);\n"
          "    rc = 1;\n"
          "  } else if (make_dirs(outdir, err, sizeof err) != 0) {\n"
          "    fprintf(stderr, \"%s: %s\\n\", prog, err);\n"
          "    rc = 1;\n"
          "  } else {\n"
          "    for (i = 0; i < N_OUT && rc == 0; i++) {\n"
          "      size_t len = strlen(outdir) + strlen(outs[i].file) + 8;\n"
          "      char *path = malloc(len);\n"
          "      if (!path) {\n"
          "        fprintf(stderr, \"%s: out of memory\\n\", prog);\n"
          "        rc = 1;\n"
          "        break;\n"
          "      }\n"
          "      snprintf(path, len, \"%s/%s.npy\", outdir, outs[i].file);\n"
          "      if (npy_write(path, outs[i].descr, outs[i].rank, outs[i].shape, out[i], err, sizeof err) != 0) {\n"
          "        fprintf(stderr, \"%s: output '%s': %s\\n\", prog, outs[i].name, err);\n"
          "        rc = 1;\n"
          "      } else {\n"
          "        printf(\"wrote %s\\n\", path);\n"
          "      }\n"
          "      free(path);\n"
          "    }\n"
          "  }\n"
          "  free(arena_mem);\n"
          "done:\n"
          "  for (i = 0; i < N_IN; i++) npy_free(&arrs[i]);\n"
          "  for (i = 0; i < N_OUT; i++) free(out[i]);\n"
          "  return rc;\n"
          "}\n");
}

static int valid_c_name(const char *s) {
  if (!s || !*s || (*s >= '0' && *s <= '9')) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return 0;
  return 1;
}

/* ---- the weights of one or two graphs ---------------------------------------- */

/* The arrays of NAME_weights.c that stand for tensors, numbered in the order
 * the graphs (then tensor ids) first use them.  A --train build puts both
 * graphs' weights here: a parameter the step trains (is_state) once, writable,
 * read by both functions; a constant the training graph shares with the
 * inference graph (same name, dtype, shape and bytes) once too. */
typedef struct wtab {
  const ir_tensor **t;
  int n;
  sbuf externs, defs;
} wtab;

static int same_weight(const ir_tensor *a, const ir_tensor *b) {
  if (strcmp(a->name, b->name) != 0 || a->dtype != b->dtype || !ir_same_shape(a, b) || a->is_state != b->is_state)
    return 0;
  return a->is_state || ir_numel(a) == 0 || (a->data && b->data && memcmp(a->data, b->data, (size_t)ir_nbytes(a)) == 0);
}

/* The index k of NAME_w<k> for t, emitting the array unless one of the
 * first `shared` entries (an earlier graph's) is the same weight. */
static int weight_index(wtab *wt, const char *nm, const ir_tensor *t, int shared) {
  char wname[80];
  for (int k = 0; k < shared; k++)
    if (same_weight(wt->t[k], t)) return k;
  wt->t = ir_realloc(wt->t, sizeof *wt->t * (size_t)(wt->n + 1));
  wt->t[wt->n] = t;
  snprintf(wname, sizeof wname, "%s_w%d", nm, wt->n);
  emit_weight(wname, t, t->is_state, &wt->externs, &wt->defs);
  return wt->n++;
}

/* NAME_w<k> as the C expression of its elements. */
static void put_weight(sbuf *b, const char *nm, const ir_tensor *t, int k) {
  sb_printf(b, has_float_view(t->dtype) ? "%s_w%d.v" : "%s_w%d", nm, k);
}

/* ---- one graph's share of NAME.c ------------------------------------------- */


static void part_free(part *p) {
  for (int i = 0; p->d.in_param && i < p->d.g->n_inputs; i++) free(p->d.in_param[i]);
  for (int j = 0; p->d.out_param && j < p->d.g->n_outputs; j++) free(p->d.out_param[j]);
  free(p->d.in_param);
  free(p->d.out_param);
  free(p->d.input_pos);
  free(p->d.output_pos);
  free(p->d.weight);
  free(p->d.out_direct);
  free(p->d.out_off);
  free(p->flags);
  for (int k = 0; k < p->n_calls; k++) free(p->calls[k].args);
  free(p->calls);
  sb_free(&p->funcs);
  sb_free(&p->calltext);
}


/* Emit graph g into p: node functions, weights (into wt; the first `shared`
 * entries are an earlier graph's), calls.  A training step (train) names
 * its last g->n_labels inputs "label_..." and keeps its outputs in the tail. */
static int emit_part(emit_ctx *e, part *p, ir_graph *g, wtab *wt, int shared, int train) {
  int nt = g->n_tensors, rc = 0;
  drv *d = &p->d;
  memset(p, 0, sizeof *p);
  d->g = g;
  d->name = e->opt->name;
  d->in_param = ir_alloc(sizeof(char *) * (size_t)(g->n_inputs + 1));
  d->out_param = ir_alloc(sizeof(char *) * (size_t)(g->n_outputs + 1));
  d->input_pos = ir_alloc(sizeof(int) * (size_t)(nt + 1));
  d->output_pos = ir_alloc(sizeof(int) * (size_t)(nt + 1));
  d->weight = ir_alloc(sizeof(int) * (size_t)(nt + 1));
  d->out_direct = ir_alloc(sizeof(int) * (size_t)(g->n_outputs + 1));
  if (train) d->out_off = ir_alloc(sizeof(int64_t) * (size_t)(g->n_outputs + 1));
  e->g = g;
  e->fn_prefix = train ? "step" : "node";
  e->team_ok = !train && !e->opt->profile;   /* a profile times each node on its own */
  enum { WRITTEN = 1, USED = 2 };  /* per tensor: a node writes it; a call or an output uses it */
  p->flags = ir_alloc((size_t)nt + 1);
  p->calls = ir_alloc(sizeof(call) * (size_t)(g->n_nodes + 1));
  unsigned char *flags = p->flags;

  /* 1. who is who: inputs, outputs, parameter names */
  for (int i = 0; i < nt; i++) d->input_pos[i] = d->output_pos[i] = d->weight[i] = -1;
  for (int s = 0; s < g->n_nodes; s++) {
    ir_node *n = g->nodes[s];
    if (n->dead) continue;
    for (int j = 0; j < n->n_out; j++)
      if (owned(g, n->out[j])) flags[n->out[j]->id] |= WRITTEN;
  }
  for (int i = 0; i < g->n_inputs && rc == 0; i++) {
    ir_tensor *t = g->inputs[i];
    if (!owned(g, t)) { rc = ir_error("graph input %d is not a tensor of the graph", i); break; }
    if (d->input_pos[t->id] < 0) d->input_pos[t->id] = i;
    d->in_param[i] = unique_param(train && i >= g->n_inputs - g->n_labels ? "label" : "input", t, d->in_param, i);
  }
  for (int j = 0; j < g->n_outputs && rc == 0; j++) {
    ir_tensor *t = g->outputs[j];
    if (!owned(g, t)) { rc = ir_error("graph output %d is not a tensor of the graph", j); break; }
    d->out_param[j] = unique_param("output", t, d->out_param, j);
    if (train) d->out_off[j] = -1;
    if (d->output_pos[t->id] < 0) {
      int computed = (flags[t->id] & WRITTEN) && d->input_pos[t->id] < 0 && !is_weight_role(t);
      d->output_pos[t->id] = j;
      if (!train) d->out_direct[j] = computed;
      else if (computed) {
        d->out_off[j] = align64(g->arena_bytes) + p->tail;
        p->tail += align64(ir_nbytes(t));
      }
    }
  }
  for (int k = 0; k < g->n_inputs + g->n_outputs && rc == 0; k++) {
    const ir_tensor *t = k < g->n_inputs ? g->inputs[k] : g->outputs[k - g->n_inputs];
    if (!ir_shape_known(t) || ir_dtype_size(t->dtype) == 0) {
      char buf[128];
      rc = ir_error("graph %s '%s' needs a static shape and a numeric dtype (has %s %s)",
                    k < g->n_inputs ? "input" : "output", t->name, ir_dtype_name(t->dtype),
                    ir_shape_str(t, buf, sizeof buf));
    }
  }

  /* 2. one function per node, in schedule order.  A trained tensor's data
   * is hidden meanwhile: it is a starting value, which no kernel may take
   * for a constant (one that needs a constant then says so). */
  void **hidden = ir_alloc(sizeof(void *) * (size_t)(nt + 1));
  int64_t *planned = ir_alloc(sizeof(int64_t) * (size_t)(g->n_nodes + 1));
  for (int s = 0; s < g->n_nodes; s++) {   /* by node id, which emit_node knows */
    const ir_node *n = g->nodes[s];
    if (n->id >= 0 && n->id < g->n_nodes)
      planned[n->id] = !n->dead && n->op && n->op->scratch_bytes ? n->op->scratch_bytes(n) : 0;
  }
  for (int i = 0; i < nt; i++)
    if (g->tensors[i]->is_state) hidden[i] = g->tensors[i]->data, g->tensors[i]->data = NULL;
  e->planned_scratch = planned;   /* the kernels must not see the difference */
  for (int s = 0; s < g->n_nodes && rc == 0; s++) {
    call *cl = &p->calls[p->n_calls];
    if (g->nodes[s]->dead) continue;
    p->n_calls++;
    if (ir_attr_int(g->nodes[s], PLAN_INPUT_VIEW_ATTR, 0)) {   /* the input itself: nothing to run (fn "") */
      cl->node = g->nodes[s];
      cl->kernel = "view of an input";
    } else {
      rc = emit_node(e, g->nodes[s], &p->funcs, cl);
    }
  }
  e->planned_scratch = NULL;
  for (int i = 0; i < nt; i++)
    if (g->tensors[i]->is_state) g->tensors[i]->data = hidden[i];
  free(hidden);
  free(planned);

  /* 3. the weights: constants some call, output or update uses, numbered by tensor id */
  for (int k = 0; k < p->n_calls; k++)
    for (int a = 0; a < p->calls[k].n; a++)
      if (p->calls[k].args[a].t) flags[p->calls[k].args[a].t->id] |= USED;
  for (int j = 0; j < g->n_outputs; j++) flags[g->outputs[j]->id] |= USED;
  for (int u = 0; train && u < g->n_updates; u++) {
    if (owned(g, g->updates[u].target)) flags[g->updates[u].target->id] |= USED;
    if (owned(g, g->updates[u].value)) flags[g->updates[u].value->id] |= USED;
  }
  if (train && owned(g, g->loss)) flags[g->loss->id] |= USED;
  for (int k = 0; k < p->n_calls; k++) {
    const ir_attr *ga = p->calls[k].node ? ir_attr_find(p->calls[k].node, "_guard") : NULL;
    for (int q = 0; ga && q < ga->n; q++) {
      int pos;
      ir_tensor *t = guard_tensor(g, p->calls[k].node, q, &pos);
      if (owned(g, t)) flags[t->id] |= USED;
    }
  }
  for (int i = 0; i < nt && rc == 0; i++) {
    ir_tensor *t = g->tensors[i];
    if (!is_weight_role(t) && !t->is_state) continue;
    if (d->input_pos[i] >= 0 || !(flags[i] & USED)) continue;
    if (ir_numel(t) < 0) { rc = ir_error("constant '%s' has no static shape", t->name); break; }
    if (!t->data && ir_numel(t) != 0) { rc = ir_error("constant '%s' has no data", t->name); break; }
    d->weight[i] = weight_index(wt, d->name, t, shared);
  }
  for (int j = 0; j < g->n_outputs && rc == 0; j++) {
    const ir_tensor *t = g->outputs[j];
    if (d->output_pos[t->id] == j && !d->out_direct[j] && !(train && d->out_off[j] >= 0) && d->input_pos[t->id] < 0 &&
        d->weight[t->id] < 0)
      rc = ir_error("graph output '%s' is computed by no node", t->name);
  }

  /* 4. the calls (with --profile, each between two calls of the hook:
   * NAME_profile in NAME_infer, NAME_train_profile in NAME_train_step);
   * each run of calls of nodes whose code runs on a whole team (emit_team)
   * inside one parallel region: its threads go from one node's worksharing
   * loop to the next through the loop's barrier, where a parallel region
   * per node forked and joined them (0.6 us more a node: ResNet-8 at two
   * threads took 7 us less in one region) */
  const char *hook = train ? "train_profile" : "profile";
  d->profile = e->opt->profile;
  d->n_profiled = p->n_calls;
  d->calls = p->calls;
  p->check_at = (size_t)-1;
  int in_team = 0;
  for (int k = 0; k < p->n_calls && rc == 0; k++) {
    const ir_attr *ga = ir_attr_find(p->calls[k].node, "_guard");
    if (p->calls[k].fn[0] && p->calls[k].team != in_team) {
      sb_puts(&p->calltext, in_team ? "  }\n" : "  MC_PARALLEL\n  {\n");
      in_team = p->calls[k].team;
    }
    for (int j = 0; train && p->check_at == (size_t)-1 && j < p->calls[k].node->n_out; j++)
      if (p->calls[k].node->out[j] && p->calls[k].node->out[j]->stored_in) p->check_at = p->calltext.n;
    if (d->profile) sb_printf(&p->calltext, "  %s_%s(%d, 0);\n", d->name, hook, k);
    if (!p->calls[k].fn[0]) {   /* a view: no call (its row of the profile reads ~0) */
      if (d->profile) sb_printf(&p->calltext, "  %s_%s(%d, 1);\n", d->name, hook, k);
      continue;
    }
    sb_puts(&p->calltext, "  ");
    for (int q = 0; ga && q < ga->n && rc == 0; q++) {   /* a predicated branch node: "if (c[0]) f(...);" */
      int pos = 1;
      ir_tensor *t = guard_tensor(g, p->calls[k].node, q, &pos);
      if (!owned(g, t) || t->dtype != IR_BOOL) {
        rc = ir_error("node '%s' (%s): guard '%s' names no bool tensor of the graph", p->calls[k].node->name,
                      p->calls[k].node->op_type, ga->strings[q]);
        break;
      }
      sb_puts(&p->calltext, q ? " && " : "if (");
      sb_puts(&p->calltext, pos ? "(" : "!(");
      rc = tensor_ref(d, t, 0, &p->calltext);
      sb_puts(&p->calltext, ")[0]");
      if (q == ga->n - 1) sb_puts(&p->calltext, ") ");
    }
    sb_printf(&p->calltext, "%s(", p->calls[k].fn);
    for (int a = 0; a < p->calls[k].n && rc == 0; a++) {
      const call_arg *ca = &p->calls[k].args[a];
      if (a) sb_puts(&p->calltext, ", ");
      if (ca->t) rc = tensor_ref(d, ca->t, ca->write, &p->calltext);
      else sb_printf(&p->calltext, "A + %" PRId64, ca->scratch);
    }
    sb_puts(&p->calltext, ");\n");
    if (d->profile) sb_printf(&p->calltext, "  %s_%s(%d, 1);\n", d->name, hook, k);
  }
  if (in_team) sb_puts(&p->calltext, "  }\n");
  return rc;
}

/* "(void)x;" for each name of names[0..n) that no statement of `all` uses. */
static void put_unused(sbuf *c, const char *all, char *const *names, int n) {
  for (int k = 0; k < n; k++)
    if (!has_token(all, names[k])) sb_printf(c, "  (void)%s;\n", names[k]);
}

/* The arena pointer A at the top of NAME_infer and NAME_train_step. */
static void put_arena_pick(sbuf *c, const char *nm) {
  sb_printf(c,
            "#ifdef %s_NO_STATIC_ARENA\n"
            "  unsigned char *A = (unsigned char *)arena;\n"
            "  if (!A) return %s_ERR_NO_ARENA;  /* no static arena to fall back on */\n"
            "#else\n"
            "  unsigned char *A = arena ? (unsigned char *)arena : %s_STATIC_ARENA;\n"
            "#endif\n", nm, nm, nm);
}

/* The entries of wt that are state of role `role`, in wt order: the trained
 * parameters (IR_PARAM) or the optimizer's state (IR_OPTSTATE). */
static int state_entries(const wtab *wt, ir_role role, int *idx) {
  int n = 0;
  for (int k = 0; k < wt->n; k++)
    if (wt->t[k]->is_state && wt->t[k]->role == role) idx[n++] = k;
  return n;
}

/* The table NAME_<kind>s of the entries idx[0..n) of wt and its accessors
 * NAME_<kind>_count, _name, ..., _find (declared by put_train_header). */
static void put_access(sbuf *c, const char *nm, const char *kind, const wtab *wt, const int *idx, int n) {
  sb_printf(c, "static const struct {\n  const char *name, *dtype;\n  int rank;\n  int64_t numel, shape[%d];\n"
               "  void *data;\n} %s_%ss[%d] = {\n", IR_MAX_RANK, nm, kind, n + 1);
  for (int q = 0; q < n; q++) {
    const ir_tensor *p = wt->t[idx[q]];
    sb_puts(c, "  {");
    put_cstring(c, p->name);
    sb_printf(c, ", \"%s\", %d, %" PRId64 ", {", ir_dtype_name(p->dtype), p->rank, ir_numel(p));
    for (int k = 0; k < p->rank; k++) sb_printf(c, k ? ", %" PRId64 : "%" PRId64, p->shape[k]);
    if (p->rank == 0) sb_puts(c, "0");
    sb_puts(c, "}, ");
    put_weight(c, nm, p, idx[q]);
    sb_puts(c, "},\n");
  }
  sb_puts(c, "  {NULL, NULL, 0, 0, {0}, NULL}  /* C has no empty arrays */\n};\n\n");
  sb_printf(c, "int %s_%s_count(void) { return %d; }\n", nm, kind, n);
  static const char *const fields[][3] = {{"const char *", "name", "NULL"}, {"const char *", "dtype", "NULL"},
                                          {"int ", "rank", "-1"}, {"const int64_t *", "shape", "NULL"},
                                          {"int64_t ", "numel", "-1"}, {"void *", "data", "NULL"}};
  for (int f = 0; f < 6; f++)
    sb_printf(c, "%s%s_%s_%s(int i) { return i >= 0 && i < %d ? %s_%ss[i].%s : %s; }\n", fields[f][0], nm, kind,
              fields[f][1], n, nm, kind, fields[f][1], fields[f][2]);
  sb_printf(c, "int %s_%s_find(const char *name)\n{\n  int i;\n"
               "  for (i = 0; name && i < %d; i++)\n"
               "    if (strcmp(%s_%ss[i].name, name) == 0) return i;\n  return -1;\n}\n",
            nm, kind, n, nm, kind);
}

/* NAME_train_step and the parameter table, into c. */
static int put_train_step(const part *tp, const wtab *wt, sbuf *c) {
  const drv *d = &tp->d;
  const ir_graph *t = d->g;
  const char *nm = d->name;
  int rc = 0;
  sbuf body = {0};
  size_t at = tp->check_at < tp->calltext.n ? tp->check_at : tp->calltext.n;
  sb_puts(&body, "");
  if (at) sb_printf(&body, "%.*s", (int)at, tp->calltext.p);
  /* 1. the loss, refused when not finite before any node writes a parameter
   * or optimizer state (the schedule computes the loss before those): then
   * they are left as they were */
  sb_puts(&body, "  {\n    const float l = (float)(");
  rc = tensor_ref(d, t->loss, 0, &body);
  sb_printf(&body, ")[0];\n    *loss = l;\n    if (isnan(l) || isinf(l)) return %s_ERR_LOSS_NOT_FINITE;\n  }\n", nm);
  if (tp->calltext.n > at) sb_puts(&body, tp->calltext.p + at);
  /* 2. the updates not written in place by their node, in order */
  for (int u = 0; u < t->n_updates && rc == 0; u++) {
    const ir_update *up = &t->updates[u];
    if (up->value->stored_in == up->target) continue;
    sb_puts(&body, "  memcpy(");
    put_weight(&body, nm, up->target, d->weight[up->target->id]);
    sb_puts(&body, ", ");
    rc = tensor_ref(d, up->value, 0, &body);
    sb_printf(&body, ", %" PRId64 ");  /* ", ir_nbytes(up->target));
    put_comment(&body, up->target->name);
    sb_puts(&body, " := ");
    put_comment(&body, up->value->name);
    sb_puts(&body, " */\n");
  }
  if (rc == 0) {
    sb_printf(c, "\nint %s_train_step(", nm);
    for (int i = 0; i < t->n_inputs; i++)
      sb_printf(c, "const %s *%s, ", ir_dtype_ctype(t->inputs[i]->dtype), d->in_param[i]);
    sb_puts(c, "float *loss, void *arena)\n{\n");
    put_arena_pick(c, nm);
    put_unused(c, body.p, d->in_param, t->n_inputs);
    sb_puts(c, body.p);
    sb_puts(c, "  return 0;\n}\n");
  }
  sb_free(&body);

  /* 3. the tables of the trained parameters and of the optimizer's state */
  int *idx = ir_alloc(sizeof(int) * (size_t)(wt->n + 1));
  sb_puts(c, "\n/* ---- the trained parameters and the optimizer's state, for saving and loading ---- */\n\n");
  put_access(c, nm, "param", wt, idx, state_entries(wt, IR_PARAM, idx));
  sb_puts(c, "\n");
  put_access(c, nm, "state", wt, idx, state_entries(wt, IR_OPTSTATE, idx));
  free(idx);
  return rc;
}
/* GCC fuses no a*b+c into a multiply-add in ISO C mode (-std=c99 implies
 * -ffp-contract=off), which costs the GEMM core about a third of its speed;
 * GNU C mode and Clang fuse by default.  The pragma makes a -std=c99 build
 * as fast as a GNU C one and give the same bits; MODELC_NO_FMA keeps every
 * product rounded on its own, as the interpreter computes. */
static const char fma_pragma[] =
    "/* Fused multiply-adds also in ISO C mode (MODELC_NO_FMA: none). */\n"
    "#if defined(__GNUC__) && !defined(__clang__) && !defined(MODELC_NO_FMA)\n"
    "#pragma GCC optimize(\"fp-contract=fast\")\n"
    "#endif\n\n";


/* Write the files for g and, in a --train build, its training step. */
static int emit_build(ir_graph *g, ir_graph *train, const emit_options *opt, const char *dir) {
  if (!opt || !valid_c_name(opt->name))
    return ir_error("model name '%s' is not a C identifier", opt && opt->name ? opt->name : "");
  int rc = 0;
  emit_ctx e;
  memset(&e, 0, sizeof e);
  e.opt = opt;
  wtab wt;
  memset(&wt, 0, sizeof wt);
  part ip, tp;
  memset(&tp, 0, sizeof tp);
  sbuf h = {0}, c = {0}, w = {0}, m = {0};

  rc = emit_part(&e, &ip, g, &wt, 0, 0);
  int shared = wt.n;
  if (rc == 0 && train) rc = emit_part(&e, &tp, train, &wt, shared, 1);
  ip.d.arena_align = has_parts_area(g) || (train && has_parts_area(train)) ? PLAN_PAGE : PLAN_ALIGN;
  const drv *dp = &ip.d;

  if (rc == 0) {
    const char *nm = dp->name;
    /* NAME.h */
    emit_header(dp, train ? &tp : NULL, &h);

    /* NAME.c */
    sb_printf(&c, train ? "/*\n * %s.c - inference and training code for model '" : "/*\n * %s.c - inference code for model '", nm);
    put_comment(&c, g->name ? g->name : nm);
    sb_printf(&c, "'.\n * Generated by modelc; do not edit.  Weights are in %s_weights.c.\n */\n", nm);
    sb_printf(&c, "#include <stdint.h>\n#include <stddef.h>\n#include <string.h>\n#include <math.h>\n\n"
                  "#include \"%s.h\"\n\n", nm);
    sb_puts(&c, fma_pragma);
    if (wt.n || e.n_packed) {
      sb_printf(&c, "/* ---- weights, defined in %s_weights.c ---- */\n", nm);
      if (wt.externs.n) sb_puts(&c, wt.externs.p);
      if (e.packed_externs.n) sb_puts(&c, e.packed_externs.p);
      sb_puts(&c, "\n");
    }
    if (e.helpers.n) {
      sb_puts(&c, "/* ---- helpers ---- */\n");
      sb_puts(&c, e.helpers.p);
    }
    sb_puts(&c, "/* ---- one function per node, in schedule order ---- */\n\n");
    if (ip.funcs.n) sb_puts(&c, ip.funcs.p);
    if (train) {
      sb_printf(&c, "/* ---- the training step's nodes (%s_train_step), in schedule order ---- */\n\n", nm);
      if (tp.funcs.n) sb_puts(&c, tp.funcs.p);
    }
    int64_t al = dp->arena_align;
    sb_printf(&c,
              "#ifndef %s_NO_STATIC_ARENA\n"
              "#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n"
              "static _Alignas(%" PRId64 ") unsigned char %s_static_arena[%s_ARENA_BYTES];\n"
              "#define %s_STATIC_ARENA %s_static_arena\n"
              "#else\n"
              "/* C99 cannot ask for alignment: over-allocate, align at run time. */\n"
              "static unsigned char %s_static_arena[%s_ARENA_BYTES + %" PRId64 "];\n"
              "#define %s_STATIC_ARENA (%s_static_arena + (%" PRId64 " - (uintptr_t)%s_static_arena %% %" PRId64
              ") %% %" PRId64 ")\n"
              "#endif\n"
              "#endif\n\n", nm, al, nm, nm, nm, nm, nm, nm, al, nm, nm, al, nm, al, al);
    sb_printf(&c, "int %s_infer(", nm);
    put_params(dp, &c);
    sb_puts(&c, ")\n{\n");
    put_arena_pick(&c, nm);
    /* outputs not written by a node: copies of inputs, constants or other outputs */
    sbuf copies = {0};
    for (int j = 0; j < g->n_outputs; j++) {
      const ir_tensor *t = g->outputs[j];
      if (dp->output_pos[t->id] == j && dp->out_direct[j]) continue;
      sb_printf(&copies, "  memcpy(%s, ", dp->out_param[j]);
      if (dp->input_pos[t->id] >= 0) sb_puts(&copies, dp->in_param[dp->input_pos[t->id]]);
      else if (dp->weight[t->id] >= 0) put_weight(&copies, nm, t, dp->weight[t->id]);
      else sb_puts(&copies, dp->out_param[dp->output_pos[t->id]]);
      sb_printf(&copies, ", %" PRId64 ");\n", ir_nbytes(t));
    }
    sbuf all = {0};  /* every statement, to find the parameters nothing uses */
    sb_puts(&all, "");
    if (ip.calltext.n) sb_puts(&all, ip.calltext.p);
    if (copies.n) sb_puts(&all, copies.p);
    if (!has_token(all.p, "A")) sb_puts(&c, "  (void)A;\n");
    put_unused(&c, all.p, dp->in_param, g->n_inputs);
    put_unused(&c, all.p, dp->out_param, g->n_outputs);
    if (ip.calltext.n) sb_puts(&c, ip.calltext.p);
    if (copies.n) sb_puts(&c, copies.p);
    sb_free(&copies);
    sb_free(&all);
    sb_puts(&c, "  return 0;\n}\n");
    if (train) rc = put_train_step(&tp, &wt, &c);

    /* NAME_weights.c */
    sb_printf(&w, "/*\n * %s_weights.c - the constants of model '", nm);
    put_comment(&w, g->name ? g->name : nm);
    sb_printf(&w, "', as integer bit patterns (exact,\n * NaN payloads and -0 included), "
                  "read by %s.c.  Generated by modelc; do not edit.\n", nm);
    if (train) sb_puts(&w, " * The trained parameters and the optimizer's state are writable: they hold\n"
                           " * their initial values until a training step or a load changes them.\n");
    sb_puts(&w, " */\n#include <stdint.h>\n\n");
    if (wt.defs.n) sb_puts(&w, wt.defs.p);
    if (e.packed_defs.n) sb_puts(&w, e.packed_defs.p);
    if (!wt.n && !e.n_packed) sb_printf(&w, "/* the model has no constants */\ntypedef int %s_no_weights;\n", nm);

    if (opt->emit_main) emit_harness(dp, train ? &tp : NULL, &m);

    if (rc == 0) rc = write_file(dir, nm, ".h", &h);
    if (rc == 0) rc = write_file(dir, nm, ".c", &c);
    if (rc == 0) rc = write_file(dir, nm, "_weights.c", &w);
    if (rc == 0 && opt->emit_main) rc = write_file(dir, nm, "_main.c", &m);
  }

  part_free(&ip);
  if (train) part_free(&tp);
  free(wt.t);
  sb_free(&wt.externs);
  sb_free(&wt.defs);
  for (int i = 0; i < e.n_pool; i++) free(e.pool[i]);
  free(e.pool);
  for (int i = 0; i < e.n_helpers; i++) free(e.helper_keys[i]);
  free(e.helper_keys);
  sb_free(&e.helpers);
  sb_free(&e.packed_externs);
  sb_free(&e.packed_defs);
  sb_free(&e.body);
  sb_free(&h);
  sb_free(&c);
  sb_free(&w);
  sb_free(&m);
  return rc;
}

int emit_c(ir_graph *g, const emit_options *opt, const char *dir) { return emit_build(g, NULL, opt, dir); }

/* ---- --train builds --------------------------------------------------------- */

static int64_t node_scratch(const ir_node *n) {
  return !n->dead && n->op && n->op->scratch_bytes ? n->op->scratch_bytes(n) : 0;
}

/* Mark G's trained tensors is_state (in the training graph its update
 * targets, in the inference graph the parameters of those names), and when
 * that changes what a kernel asks for scratch (the GEMM core reads a trained
 * weight at run time instead of packing it), plan G again as it was planned
 * (with or without in-place sharing, found by planning again with it). */
static int mark_state(ir_graph *G, const ir_graph *train) {
  int nn = G->n_nodes, nt = G->n_tensors, n_new = 0, changed = 0, rc = 0;
  int64_t *before = ir_alloc(sizeof(int64_t) * (size_t)(nn + 1));
  ir_tensor **marked = ir_alloc(sizeof(ir_tensor *) * (size_t)(train->n_updates + 1));
  for (int s = 0; s < nn; s++) before[s] = node_scratch(G->nodes[s]);
  for (int u = 0; u < train->n_updates; u++) {
    ir_tensor *t = train->updates[u].target;
    if (G != train) t = t->role == IR_PARAM ? ir_find_tensor(G, t->name) : NULL;
    if (t && !t->is_state && (G == train || t->role == IR_PARAM)) t->is_state = 1, marked[n_new++] = t;
  }
  for (int s = 0; s < nn && n_new; s++) changed |= node_scratch(G->nodes[s]) != before[s];
  if (changed) {
    int64_t *off = ir_alloc(sizeof(int64_t) * (size_t)(nt + 1)), arena = G->arena_bytes;
    int same = 1;
    for (int i = 0; i < nt; i++) off[i] = G->tensors[i]->offset;
    for (int k = 0; k < n_new; k++) marked[k]->is_state = 0;
    rc = pass_plan_with(G, 1);
    for (int i = 0; i < nt && rc == 0; i++) same &= G->tensors[i]->offset == off[i];
    same &= G->arena_bytes == arena;
    for (int k = 0; k < n_new; k++) marked[k]->is_state = 1;
    if (rc == 0) rc = pass_plan_with(G, same);
    if (rc == 0) rc = plan_check(G);
    free(off);
  }
  free(before);
  free(marked);
  return rc;
}

int emit_c_train(ir_graph *g, ir_graph *train, const emit_options *opt, const char *dir) {
  char b1[128], b2[128];
  if (!train || !train->loss || train->n_updates < 1)
    return ir_error("the training graph has no loss or no updates");
  if (!ir_owns(train, train->loss) || ir_numel(train->loss) != 1 || !ir_dtype_is_float(train->loss->dtype) ||
      train->loss->dtype == IR_F16 || train->loss->dtype == IR_BF16)
    return ir_error("the loss '%s' must be a float32 or float64 scalar of the training graph", train->loss->name);
  int n_in = train->n_inputs - train->n_labels;
  if (train->n_labels < 0 || n_in != g->n_inputs)
    return ir_error("the training graph has %d inputs and %d labels, the model %d inputs", train->n_inputs,
                    train->n_labels, g->n_inputs);
  for (int i = 0; i < n_in; i++) {
    const ir_tensor *a = g->inputs[i], *b = train->inputs[i];
    if (strcmp(a->name, b->name) != 0 || a->dtype != b->dtype || !ir_same_shape(a, b))
      return ir_error("input %d of the training graph ('%s' %s %s) is not the model's ('%s' %s %s)", i, b->name,
                      ir_dtype_name(b->dtype), ir_shape_str(b, b1, sizeof b1), a->name, ir_dtype_name(a->dtype),
                      ir_shape_str(a, b2, sizeof b2));
  }
  for (int u = 0; u < train->n_updates; u++) {
    const ir_tensor *t = train->updates[u].target, *v = train->updates[u].value;
    if (!ir_owns(train, t) || !ir_owns(train, v))
      return ir_error("update %d: its target and value must be tensors of the training graph", u);
    if (t->role != IR_PARAM && t->role != IR_OPTSTATE)
      return ir_error("update target '%s' is no parameter or optimizer state", t->name);
    if (t->dtype != v->dtype || !ir_same_shape(t, v) || !ir_shape_known(t))
      return ir_error("update of '%s' (%s %s) by '%s' (%s %s): dtype or shape differ", t->name, ir_dtype_name(t->dtype),
                      ir_shape_str(t, b1, sizeof b1), v->name, ir_dtype_name(v->dtype), ir_shape_str(v, b2, sizeof b2));
    if (!t->data && ir_numel(t) != 0) return ir_error("update target '%s' has no initial data", t->name);
    if (v->role == IR_PARAM || v->role == IR_OPTSTATE || v->role == IR_CONST || v->role == IR_INPUT)
      return ir_error("update of '%s': its value '%s' is no tensor the step computes", t->name, v->name);
    for (int q = 0; q < u; q++)
      if (train->updates[q].target == t) return ir_error("parameter '%s' is updated twice", t->name);
    const ir_tensor *p = t->role == IR_PARAM ? ir_find_tensor(g, t->name) : NULL;
    if (t->role == IR_PARAM && (!p || p->role != IR_PARAM))   /* else NAME_infer would keep a stale copy */
      return ir_error("parameter '%s' is trained but the inference graph has no parameter of that name "
                      "(folded into a constant? run its passes with training on)", t->name);
    if (p && (p->dtype != t->dtype || !ir_same_shape(p, t)))
      return ir_error("parameter '%s' is %s %s in the model but %s %s in the training graph", t->name,
                      ir_dtype_name(p->dtype), ir_shape_str(p, b1, sizeof b1), ir_dtype_name(t->dtype),
                      ir_shape_str(t, b2, sizeof b2));
  }
  if (mark_state(train, train) < 0 || mark_state(g, train) < 0) return -1;
  return emit_build(g, train, opt, dir);
}
