/*
 * ir_bind.c - --shape, --dim and --const on a built graph (see ir_bind.h).
 *
 * Three phases:
 *   1. every binding is checked against the declared inputs and the symbol
 *      table is derived (--dim first, then the symbols --shape and --const
 *      imply, each checked against the values already fixed);
 *   2. every tensor of the graph and its subgraphs whose dimension names a
 *      bound symbol gets that value;
 *   3. bound inputs get their shape; --const inputs become IR_CONST with a
 *      copy of the data and leave the list of runtime inputs.
 * Nothing is changed before phase 1 has accepted every binding.
 */
#include "ir_bind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sym {
  char *name;
  int64_t value;
} sym;

typedef struct symtab {
  sym *v;
  int n;
} symtab;

static const char *S(const char *s) { return s ? s : ""; }

static int bind_sym(symtab *st, const char *what, const char *name, int64_t v) {
  for (int k = 0; k < st->n; k++)
    if (strcmp(st->v[k].name, name) == 0) {
      if (st->v[k].value == v) return 0;
      return ir_error("%s: dimension '%s' would be %lld, but it is already fixed to %lld", what, name,
                      (long long)v, (long long)st->v[k].value);
    }
  st->v = ir_realloc(st->v, (size_t)(st->n + 1) * sizeof *st->v);
  st->v[st->n].name = ir_strdup(name);   /* name may be a dim_param that phase 2 frees */
  st->v[st->n++].value = v;
  return 0;
}

/* Does any tensor of g (or of its subgraphs) carry a dimension named s? */
static int mentions(const ir_graph *g, const char *s) {
  for (int i = 0; i < g->n_tensors; i++)
    for (int d = 0; d < g->tensors[i]->rank; d++)
      if (g->tensors[i]->dim_param[d] && strcmp(g->tensors[i]->dim_param[d], s) == 0) return 1;
  for (int i = 0; i < g->n_nodes; i++)
    for (int j = 0; j < g->nodes[i]->n_attr; j++)
      if (g->nodes[i]->attrs[j].g && mentions(g->nodes[i]->attrs[j].g, s)) return 1;
  return 0;
}

static ir_tensor *find_input(const ir_graph *g, const char *name) {
  for (int i = 0; i < g->n_inputs; i++)
    if (strcmp(g->inputs[i]->name, name) == 0) return g->inputs[i];
  return NULL;
}

/* A declared input against a given shape: rank and fixed dims must agree;
 * symbolic dims get bound. */
static int match_decl(symtab *st, const char *what, const ir_tensor *t, int rank, const int64_t *dims) {
  if (rank < 0 || rank > IR_MAX_RANK) return ir_error("%s: rank %d is not supported", what, rank);
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0) return ir_error("%s: negative dimension %lld", what, (long long)dims[i]);
  if (t->rank < 0) return 0;
  if (t->rank != rank) return ir_error("%s: the model declares rank %d, got %d dimensions", what, t->rank, rank);
  for (int i = 0; i < rank; i++) {
    if (t->shape[i] >= 0 && t->shape[i] != dims[i])
      return ir_error("%s: dimension %d is %lld in the model, got %lld", what, i, (long long)t->shape[i],
                      (long long)dims[i]);
    if (t->shape[i] < 0 && t->dim_param[i] && bind_sym(st, what, t->dim_param[i], dims[i])) return -1;
  }
  return 0;
}

/* Phase 1. */
static int check(const ir_graph *g, const ir_bindings *b, symtab *st) {
  char what[300];
  for (int i = 0; i < b->n_dims; i++) {
    const char *name = S(b->dims[i].name);
    snprintf(what, sizeof what, "--dim %s", name);
    if (b->dims[i].value < 0) return ir_error("%s: negative value %lld", what, (long long)b->dims[i].value);
    if (!mentions(g, name)) return ir_error("%s: no dimension of the model is named '%s'", what, name);
    if (bind_sym(st, what, name, b->dims[i].value)) return -1;
  }
  for (int pass = 0; pass < 2; pass++) {
    int cnt = pass ? b->n_consts : b->n_shapes;
    for (int i = 0; i < cnt; i++) {
      const char *name = S(pass ? b->consts[i].name : b->shapes[i].name);
      int rank = pass ? b->consts[i].rank : b->shapes[i].rank;
      const int64_t *dims = pass ? b->consts[i].dims : b->shapes[i].dims;
      snprintf(what, sizeof what, "%s %s", pass ? "--const" : "--shape", name);
      const ir_tensor *t = find_input(g, name);
      if (!t) {
        const ir_tensor *p = ir_find_tensor(g, name);
        if (p && p->role == IR_PARAM) return ir_error("%s: '%s' is an initializer, not an input", what, name);
        return ir_error("%s: the model has no input named '%s'", what, name);
      }
      if (pass) {
        ir_dtype dt = b->consts[i].dtype;
        if (ir_dtype_size(dt) == 0) return ir_error("%s: unsupported dtype", what);
        if (t->dtype != IR_UNDEF && t->dtype != dt)
          return ir_error("%s: the input is %s, the value is %s", what, ir_dtype_name(t->dtype), ir_dtype_name(dt));
        if (!b->consts[i].data) return ir_error("%s: no data", what);
      }
      if (match_decl(st, what, t, rank, dims)) return -1;
      if (pass && ir_numel_dims(rank, dims) < 0) return ir_error("%s: too many elements", what);
    }
  }
  /* --shape and --const of the same input must agree. */
  for (int i = 0; i < b->n_shapes; i++)
    for (int j = 0; j < b->n_consts; j++) {
      const ir_shape_binding *s = &b->shapes[i];
      const ir_const_binding *k = &b->consts[j];
      if (strcmp(S(s->name), S(k->name)) != 0) continue;
      int same = s->rank == k->rank;
      for (int q = 0; same && q < s->rank; q++) same = s->dims[q] == k->dims[q];
      if (!same) return ir_error("--const %s: shape differs from --shape %s", S(k->name), S(s->name));
    }
  return 0;
}

/* Phase 2. */
static void substitute(ir_graph *g, const symtab *st) {
  for (int i = 0; i < g->n_tensors; i++) {
    ir_tensor *t = g->tensors[i];
    for (int d = 0; d < t->rank; d++) {
      if (!t->dim_param[d]) continue;
      for (int k = 0; k < st->n; k++)
        if (strcmp(st->v[k].name, t->dim_param[d]) == 0) {
          t->shape[d] = st->v[k].value;
          free(t->dim_param[d]);
          t->dim_param[d] = NULL;
          break;
        }
    }
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int j = 0; j < g->nodes[i]->n_attr; j++)
      if (g->nodes[i]->attrs[j].g) substitute(g->nodes[i]->attrs[j].g, st);
}

int ir_bind_inputs(ir_graph *g, const ir_bindings *b) {
  if (!b || (b->n_shapes == 0 && b->n_dims == 0 && b->n_consts == 0)) return 0;
  symtab st = {NULL, 0};
  int rc = check(g, b, &st);
  if (rc == 0) substitute(g, &st);
  for (int k = 0; k < st.n; k++) free(st.v[k].name);
  free(st.v);
  if (rc) return -1;
  /* Phase 3. */
  for (int i = 0; i < b->n_shapes; i++) {
    ir_tensor *t = find_input(g, S(b->shapes[i].name));
    ir_set_shape(t, b->shapes[i].rank, b->shapes[i].dims);
  }
  for (int i = 0; i < b->n_consts; i++) {
    const ir_const_binding *k = &b->consts[i];
    ir_tensor *t = find_input(g, S(k->name));
    if (!t) continue;   /* named twice: the first --const took it */
    t->dtype = k->dtype;
    ir_set_shape(t, k->rank, k->dims);
    ir_tensor_set_data(t, k->data, (size_t)ir_nbytes(t));
    t->role = IR_CONST;
  }
  int n = 0;   /* drop the inputs that became constants, keeping the order */
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i]->role == IR_INPUT) g->inputs[n++] = g->inputs[i];
  g->n_inputs = n;
  return 0;
}
