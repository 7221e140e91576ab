/*
 * test_onnx_case.c - preparing one ONNX backend test for `modelc test-onnx`:
 * model, data, compile-time specialization, interpreter, emitted C.
 *
 * The model is loaded before the data, so that a model modelc refuses (an
 * op, an attribute, a sequence-typed input) is UNSUPPORTED before a data
 * file it cannot read is even opened.  Data-set input k feeds the model's
 * graph input k, as in ONNX's own runner.
 *
 * Specialization: some ops need an input's value at compile time (Reshape's
 * shape, Slice's starts, TopK's K...).  When the passes fail with "must be a
 * compile-time constant" naming a graph input, that input is bound from the
 * data set as a user would with --const, and loading is retried.  When the
 * message names a tensor computed from inputs instead, the integer inputs
 * are bound, and as a last resort all inputs.  Data sets are then grouped
 * by the values of those inputs (and the shapes of the others): each group
 * is one compiled variant.
 */
#include "test_onnx.h"
#include "../backend/emit.h"
#include "../ops/ops_random.h"
#include "../../runtime/interp.h"
#include "onnx.pb-c.h"

#include <ctype.h>
#include <math.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

int to_is_unsupported(const char *msg) {
  static const char *const keys[] = {
      "unsupported",   "not supported",         "compile-time constant", "only tensors",
      "holds strings", "has no emitter",        "has no kernel",         "cannot hold",
      "supports this op on", "only inference",  "not implemented",       "no supported value attribute",
      "unknown dimension",   "no static shape", "no static size",
  };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strstr(msg, keys[i])) return 1;
  return 0;
}

static void settle(to_case *c, int status, const char *prefix, const char *msg) {
  c->status = status;
  cli_fmt(c->why, sizeof c->why, "%s%s", prefix, msg);
}

/* Settle from ir_last_error(): UNSUPPORTED when it says we lack something. */
static void settle_err(to_case *c, const char *prefix) {
  const char *msg = ir_last_error();
  settle(c, to_is_unsupported(msg) ? TO_UNSUPPORTED : TO_FAIL, prefix, msg);
}

/* An IEEE half or a bfloat16 bit pattern as a float. */
static float half_value(ir_dtype dt, uint16_t h) {
  if (dt == IR_BF16) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  int e = (h >> 10) & 31, m = h & 1023;
  float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}

/* ONNX's test data stores bfloat16 tensors as uint16: take the model's word. */
static void retag(tio_tensor *t, ir_dtype want) {
  if (t->dtype == IR_U16 && (want == IR_BF16 || want == IR_F16)) t->dtype = want;
}

int to_match(const cli_opts *o, const char *who, const char *tname, ir_dtype dt, int rank, const int64_t *shape,
             const void *got, const tio_tensor *want, char *why, size_t n) {
  int same = want->rank == rank && want->dtype == dt;
  for (int d = 0; same && d < rank; d++) same = want->shape[d] == shape[d];
  if (!same) {
    char s1[160], s2[160];
    ir_tensor a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.rank = rank;
    memcpy(a.shape, shape, sizeof(int64_t) * (size_t)rank);
    b.rank = want->rank;
    memcpy(b.shape, want->shape, sizeof b.shape);
    cli_fmt(why, n, "%s: output '%s' is %s %s, expected %s %s", who, tname, ir_dtype_name(dt),
            ir_shape_str(&a, s1, sizeof s1), ir_dtype_name(want->dtype), ir_shape_str(&b, s2, sizeof s2));
    return 0;
  }
  double max_abs;
  int64_t bad, numel = ir_numel_dims(rank, shape);
  const void *g = got, *w = want->data;
  float *gf = NULL, *wf = NULL;
  if (dt == IR_F16 || dt == IR_BF16) {   /* compare half floats as floats */
    gf = ir_alloc(sizeof(float) * (size_t)(numel ? numel : 1));
    wf = ir_alloc(sizeof(float) * (size_t)(numel ? numel : 1));
    for (int64_t i = 0; i < numel; i++) {
      gf[i] = half_value(dt, ((const uint16_t *)got)[i]);
      wf[i] = half_value(dt, ((const uint16_t *)want->data)[i]);
    }
    g = gf, w = wf, dt = IR_F32;
  }
  int ok = cli_close(dt, g, w, numel, o->rtol, o->atol, &max_abs, &bad);
  if (!ok)
    cli_fmt(why, n, "%s: output '%s' differs at element %lld: %.9g vs expected %.9g", who, tname, (long long)bad,
            ir_value_f64(dt, g, bad), ir_value_f64(dt, w, bad));
  free(gf);
  free(wf);
  return ok;
}

/* ---- the main op, for reports ------------------------------------------- */

static Onnx__ModelProto *read_model(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  for (size_t k; buf && (k = fread(buf + len, 1, cap - len, f)) > 0;) {
    len += k;
    if (len == cap) {
      unsigned char *nb = realloc(buf, cap *= 2);
      if (!nb) free(buf);
      buf = nb;
    }
  }
  fclose(f);
  if (!buf) return NULL;
  Onnx__ModelProto *m = onnx_unpack_model(buf, len, path);   /* depth-checked, as the loader */
  free(buf);
  return m;
}

/* "test_Layer_norm_2d" -> "layernorm2d" */
static void squash(char *dst, size_t n, const char *s) {
  size_t k = 0;
  for (; *s && k + 1 < n; s++)
    if (*s != '_') dst[k++] = (char)tolower((unsigned char)*s);
  dst[k] = 0;
}

void to_main_op(const char *dir, char *buf, size_t n) {
  char path[1200], name[300];
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  cli_fmt(path, sizeof path, "%.*s", (int)len, dir);
  const char *base = strrchr(path, '/');
  cli_fmt(name, sizeof name, "%s", base ? base + 1 : path);
  const char *plain = strncmp(name, "test_", 5) ? name : name + 5;
  char *ex = strstr(path, "_expanded");
  if (ex && ex > path + (base ? base - path : 0)) {   /* the unexpanded sibling names the op */
    char sib[1300];
    cli_fmt(sib, sizeof sib, "%.*s/model.onnx", (int)(ex - path), path);
    if (file_exists(sib)) {
      sib[strlen(sib) - strlen("/model.onnx")] = 0;
      to_main_op(sib, buf, n);
      return;
    }
  }
  cli_fmt(buf, n, "%s", plain);
  strcat(path, "/model.onnx");
  Onnx__ModelProto *m = read_model(path);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return;
  }
  const Onnx__GraphProto *g = m->graph;
  const char *only = NULL, *best = NULL;
  int distinct = 0;
  size_t best_len = 0;
  char key[300], op[128];
  squash(key, sizeof key, plain);
  for (size_t i = 0; i < g->n_node; i++) {
    const char *t = g->node[i]->op_type ? g->node[i]->op_type : "";
    if (!strcmp(t, "Constant") && g->n_node > 1) continue;
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = g->node[j]->op_type && !strcmp(g->node[j]->op_type, t);
    if (!seen) distinct++, only = t;
    squash(op, sizeof op, t);
    if (!strncmp(key, op, strlen(op)) && strlen(op) > best_len) best = t, best_len = strlen(op);
  }
  if (only && distinct == 1) cli_fmt(buf, n, "%s", only);
  else if (best) cli_fmt(buf, n, "%s", best);
  onnx__model_proto__free_unpacked(m, NULL);
}

/* ---- data sets ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int load_set(const char *dir, int64_t max_bytes, to_set *s) {
  char path[1400];
  for (s->n_in = 0; s->n_in < TO_MAX_IO; s->n_in++) {
    cli_fmt(path, sizeof path, "%s/%s/input_%d.pb", dir, s->name, s->n_in);
    if (!file_exists(path)) break;
    if (tio_load(path, max_bytes, &s->in[s->n_in]) != 0) return -1;
  }
  for (s->n_out = 0; s->n_out < TO_MAX_IO; s->n_out++) {
    cli_fmt(path, sizeof path, "%s/%s/output_%d.pb", dir, s->name, s->n_out);
    if (!file_exists(path)) break;
    if (tio_load(path, max_bytes, &s->out[s->n_out]) != 0) return -1;
  }
  return 0;
}

/* ---- specialization ------------------------------------------------------ */

static int same_tensor(const tio_tensor *a, const tio_tensor *b, int with_data) {
  if (a->dtype != b->dtype || a->rank != b->rank || a->nbytes != b->nbytes) return 0;
  for (int d = 0; d < a->rank; d++)
    if (a->shape[d] != b->shape[d]) return 0;
  return !with_data || !a->nbytes || !memcmp(a->data, b->data, a->nbytes);
}

/* The tensor named in a "... ('NAME') must be a compile-time constant" or
 * "the condition 'NAME' is not a compile-time constant" message: the last
 * quoted name before the phrase.  0 when there is none. */
static int const_culprit(const char *msg, char *name, size_t n) {
  const char *at = strstr(msg, "compile-time constant");
  if (!at) return 0;
  const char *close = NULL;
  for (const char *p = msg; p < at; p++)
    if (*p == '\'' && p > msg && p[-1] != '(' && p[-1] != ' ') close = p;
  if (!close) return 0;
  const char *open = close - 1;
  while (open > msg && *open != '\'') open--;
  if (*open != '\'' || open == close - 1) return 0;
  cli_fmt(name, n, "%.*s", (int)(close - open - 1), open + 1);
  return 1;
}

static int user_const(const cli_opts *o, const char *name) {
  for (int k = 0; k < o->n_consts; k++)
    if (!strcmp(o->consts[k].name, name)) return 1;
  return 0;
}

static int user_shape(const cli_opts *o, const char *name) {
  for (int k = 0; k < o->n_shapes; k++)
    if (!strcmp(o->shapes[k].name, name)) return 1;
  return 0;
}

/* Load the model for the data set s0 with the inputs marked in is_k bound
 * from that set and the others' shapes fixed from it. */
static ir_graph *load_variant(const cli_opts *o, const char *model, const to_case *c, const ir_graph *g0,
                              const int *is_k, int s0) {
  static cli_opts lo;
  static char files[TO_MAX_IO][1400];
  lo = *o;
  for (int i = 0; i < g0->n_inputs; i++) {
    const char *name = g0->inputs[i]->name;
    if (user_const(o, name)) continue;
    if (is_k[i]) {
      if (lo.n_consts == CLI_MAX_BIND) break;
      cli_fmt(files[i], sizeof files[i], "%s/%s/input_%d.pb", c->dir, c->sets[s0].name, i);
      lo.consts[lo.n_consts].name = name;
      lo.consts[lo.n_consts++].file = files[i];
    } else if (!user_shape(o, name) && lo.n_shapes < CLI_MAX_BIND) {
      ir_shape_binding *b = &lo.shapes[lo.n_shapes++];
      const tio_tensor *t = &c->sets[s0].in[i];
      b->name = name;
      b->rank = t->rank;
      memcpy(b->dims, t->shape, sizeof b->dims);
    }
  }
  return cli_load(&lo, model, 1);
}

static int write_raw(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return ir_error("%s: cannot create: %s", path, strerror(errno));
  int ok = fwrite(data, 1, n, f) == n;
  ok &= fclose(f) == 0;
  return ok ? 0 : ir_error("%s: cannot write", path);
}

/* Does a node of g draw random numbers (ops_random.h)? */
static int draws_random(const ir_graph *g) {
  for (int k = 0; k < g->n_nodes; k++)
    if (!g->nodes[k]->dead && ops_random_draws(g->nodes[k])) return 1;
  return 0;
}

/* Interpreter on the variant's data sets, then C into bdir.  0 when the
 * case stays pending, -1 when it is settled. */
static int run_variant(const cli_opts *o, to_case *c, to_variant *v, ir_graph *g, const ir_graph *g0,
                       const char *bdir) {
  v->n_in = g->n_inputs;
  v->n_out = g->n_outputs;
  if (g->n_inputs > TO_MAX_IO || g->n_outputs > TO_MAX_IO) {
    settle(c, TO_UNSUPPORTED, "", "more than 64 inputs or outputs");
    return -1;
  }
  for (int j = 0; j < g->n_inputs; j++) {
    v->in_map[j] = -1;
    for (int i = 0; i < g0->n_inputs; i++)
      if (!strcmp(g0->inputs[i]->name, g->inputs[j]->name)) v->in_map[j] = i;
    if (v->in_map[j] < 0) {
      cli_fmt(c->why, sizeof c->why, "runtime input '%s' is not a graph input of the model", g->inputs[j]->name);
      c->status = TO_FAIL;
      return -1;
    }
    v->in_bytes[j] = ir_nbytes(g->inputs[j]);
  }
  for (int j = 0; j < g->n_outputs; j++) {
    const ir_tensor *t = g->outputs[j];
    v->out_dt[j] = t->dtype;
    v->out_rank[j] = t->rank;
    memcpy(v->out_shape[j], t->shape, sizeof v->out_shape[j]);
    v->out_name[j] = ir_strdup(t->name);
  }
  const void *ins[TO_MAX_IO];
  for (int k = 0; k < v->n_sets; k++) {
    const to_set *s = &c->sets[v->sets[k]];
    if (s->n_out != g->n_outputs) {
      cli_fmt(c->why, sizeof c->why, "%s has %d outputs, the model %d", s->name, s->n_out, g->n_outputs);
      c->status = TO_FAIL;
      return -1;
    }
    for (int j = 0; j < g->n_inputs; j++) {
      const tio_tensor *t = &s->in[v->in_map[j]];
      const ir_tensor *want = g->inputs[j];
      if (t->dtype != want->dtype || (int64_t)t->nbytes != ir_nbytes(want)) {
        char sh[128];
        cli_fmt(c->why, sizeof c->why, "%s: input %d is %s of %zu bytes, the model wants %s %s", s->name,
                v->in_map[j], ir_dtype_name(t->dtype), t->nbytes, ir_dtype_name(want->dtype),
                ir_shape_str(want, sh, sizeof sh));
        c->status = TO_FAIL;
        return -1;
      }
      ins[j] = t->data;
    }
    interp_ctx ic;
    memset(&ic, 0, sizeof ic);
    if (interp_run(&ic, g, ins) < 0) {
      interp_free(&ic);
      settle_err(c, "interpreter: ");
      return -1;
    }
    for (int j = 0; j < g->n_outputs; j++) {
      const void *got = interp_value(&ic, g->outputs[j]);
      retag(&c->sets[v->sets[k]].out[j], v->out_dt[j]);
      if (!got) {
        cli_fmt(c->why, sizeof c->why, "interpreter: output '%s' was not computed", g->outputs[j]->name);
        c->status = TO_FAIL;
        interp_free(&ic);
        return -1;
      }
      if (!to_match(o, "interpreter", v->out_name[j], v->out_dt[j], v->out_rank[j], v->out_shape[j], got, &s->out[j],
                    c->why, sizeof c->why)) {
        c->status = TO_FAIL;
        if (draws_random(g)) {   /* no wrong number: a different generator (docs/random.md) */
          char why[sizeof c->why];
          cli_fmt(why, sizeof why, "random values: the test expects numpy's generator, modelc has its own (%s)", c->why);
          memcpy(c->why, why, sizeof why);
          c->status = TO_UNSUPPORTED;
        }
        interp_free(&ic);
        return -1;
      }
    }
    interp_free(&ic);
  }
  emit_options eo = {v->cname, 0, 0};
  if (emit_c(g, &eo, bdir) < 0) {
    settle_err(c, "C: ");
    return -1;
  }
  for (int k = 0; k < v->n_sets; k++) {
    char d[1200], f[1300];
    cli_fmt(d, sizeof d, "%s/%s.s%d", bdir, v->cname, v->sets[k]);
    if (mkdir(d, 0777) < 0 && errno != EEXIST) {
      cli_fmt(c->why, sizeof c->why, "%s: cannot create: %s", d, strerror(errno));
      c->status = TO_FAIL;
      return -1;
    }
    for (int j = 0; j < g->n_inputs; j++) {
      const tio_tensor *t = &c->sets[v->sets[k]].in[v->in_map[j]];
      cli_fmt(f, sizeof f, "%s/in%d.bin", d, j);
      if (write_raw(f, t->data, t->nbytes) < 0) {
        settle_err(c, "");
        return -1;
      }
    }
  }
  return 0;
}

void to_prepare(const cli_opts *o, to_case *c, const char *bdir) {
  char model[1200];
  ir_graph *g0 = NULL, *gs[TO_MAX_SETS];
  int n_gs = 0;
  cli_fmt(model, sizeof model, "%s/model.onnx", c->dir);
  c->status = TO_FAIL;

  /* 1. the model alone, to learn its inputs (nothing bound yet) */
  cli_opts lo = *o;
  lo.n_shapes = lo.n_consts = lo.n_dims = 0;
  g0 = cli_load(&lo, model, 0);
  if (!g0 && strstr(ir_last_error(), "compile-time constant")) {
    /* an op's validation wants an input's value: learn the inputs without
     * the op table; the specialization below binds it */
    fe_opts nb;
    memset(&nb, 0, sizeof nb);
    nb.no_bind = 1;
    nb.max_bytes = o->max_bytes;
    g0 = onnx_load_file(model, &nb);
  }
  if (!g0) {
    settle_err(c, "");
    return;
  }
  if (g0->n_inputs > TO_MAX_IO) {
    settle(c, TO_UNSUPPORTED, "", "more than 64 inputs");
    goto done;
  }

  /* 2. the data sets */
  {
    char *names[TO_MAX_SETS];
    int n = 0;
    DIR *d = opendir(c->dir);
    if (!d) {
      cli_fmt(c->why, sizeof c->why, "%s: %s", c->dir, strerror(errno));
      goto done;
    }
    for (struct dirent *e; (e = readdir(d)) && n < TO_MAX_SETS;)
      if (!strncmp(e->d_name, "test_data_set_", 14)) names[n++] = ir_strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    c->sets = ir_alloc(sizeof *c->sets * (size_t)(n ? n : 1));
    c->n_sets = n;
    for (int s = 0; s < n; s++) c->sets[s].name = names[s];
  }
  if (!c->n_sets) {
    settle(c, TO_FAIL, "", "no test_data_set_* folder");
    goto done;
  }
  for (int s = 0; s < c->n_sets; s++) {
    if (load_set(c->dir, o->max_bytes, &c->sets[s]) < 0) {
      settle_err(c, "");
      goto done;
    }
    for (int i = 0; i < c->sets[s].n_in && i < g0->n_inputs; i++) retag(&c->sets[s].in[i], g0->inputs[i]->dtype);
    if (c->sets[s].n_in != g0->n_inputs) {
      cli_fmt(c->why, sizeof c->why, "%s has %d inputs, the model %d", c->sets[s].name, c->sets[s].n_in,
              g0->n_inputs);
      goto done;
    }
  }

  /* 3. specialize until every variant loads */
  int is_k[TO_MAX_IO] = {0}, fallback = 0;
  for (int attempt = 0;; attempt++) {
    for (int k = 0; k < n_gs; k++) ir_graph_free(gs[k]);
    n_gs = 0;
    c->n_var = 0;
    for (int s = 0; s < c->n_sets; s++) {   /* group the sets */
      int v = 0;
      for (; v < c->n_var; v++) {
        const to_set *a = &c->sets[c->var[v].sets[0]], *b = &c->sets[s];
        int same = 1;
        for (int i = 0; same && i < g0->n_inputs; i++) same = same_tensor(&a->in[i], &b->in[i], is_k[i]);
        if (same) break;
      }
      if (v == c->n_var) {
        to_variant *nv = &c->var[c->n_var++];
        memset(nv, 0, sizeof *nv);
        cli_fmt(nv->cname, sizeof nv->cname, "t%d_%d", c->idx, v);
        nv->driver_idx = -1;
      }
      c->var[v].sets[c->var[v].n_sets++] = s;
    }
    int retry = 0;
    for (int v = 0; v < c->n_var && !retry; v++) {
      ir_graph *g = load_variant(o, model, c, g0, is_k, c->var[v].sets[0]);
      if (g) {
        gs[n_gs++] = g;
        continue;
      }
      char culprit[256];
      const char *msg = ir_last_error();
      if (!strstr(msg, "compile-time constant") || attempt > g0->n_inputs + 2) break;
      if (const_culprit(msg, culprit, sizeof culprit)) {
        for (int i = 0; i < g0->n_inputs; i++)
          if (!strcmp(g0->inputs[i]->name, culprit) && !is_k[i] && !user_const(o, culprit)) is_k[i] = retry = 1;
      }
      /* a tensor computed from the inputs: bind the integer ones, then all */
      for (; !retry && fallback < 2; fallback++)
        for (int i = 0; i < g0->n_inputs; i++)
          if (!is_k[i] && !user_const(o, g0->inputs[i]->name) &&
              (fallback == 1 || !ir_dtype_is_float(g0->inputs[i]->dtype)))
            is_k[i] = retry = 1;
    }
    if (!retry) break;
  }
  if (n_gs < c->n_var) {
    const char *msg = ir_last_error();
    char name[256];
    /* our own --shape from the data contradicts a declared shape: modelc
     * holds the model to its declaration, ONNX Runtime does not */
    if (!strncmp(msg, "--shape ", 8) && sscanf(msg + 8, "%255[^:]", name) == 1 && !user_shape(o, name)) {
      settle(c, TO_UNSUPPORTED, "the data set's shape for an input contradicts the model's declared shape: ", msg);
      goto done;
    }
    settle_err(c, "");
    goto done;
  }
  int nk = 0;
  for (int i = 0; i < g0->n_inputs; i++) {
    if (!is_k[i]) continue;
    size_t len = strlen(c->note);
    cli_fmt(c->note + len, sizeof c->note - len, "%s%s", nk++ ? ", " : "specialized from the data: ",
            g0->inputs[i]->name);
  }
  if (c->n_var > 1) {
    size_t len = strlen(c->note);
    cli_fmt(c->note + len, sizeof c->note - len, "%s%d compiled variants", nk ? "; " : "", c->n_var);
  }

  /* 4. interpreter and C, variant by variant */
  for (int v = 0; v < c->n_var; v++)
    if (run_variant(o, c, &c->var[v], gs[v], g0, bdir) < 0) goto done;
  c->status = TO_PENDING;
done:
  for (int k = 0; k < n_gs; k++) ir_graph_free(gs[k]);
  ir_graph_free(g0);
}
