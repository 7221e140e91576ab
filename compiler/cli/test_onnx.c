/*
 * test_onnx.c - `modelc test-onnx DIR...`: ONNX backend-test folders
 * (model.onnx + test_data_set_N/input_N.pb, output_N.pb) through both the
 * interpreter and the compiled C.
 *
 * A test passes only when both match every output of every data set.
 * Input shapes are fixed from the first data set; anything the compiler
 * refuses (an op or attribute it lacks) is UNSUPPORTED with the reason,
 * never a pass.  One line per test, then `N passed, N failed, N skipped`.
 */
#include "cli.h"
#include "../backend/emit.h"
#include "../../runtime/interp.h"
#include "../../runtime/tensor_io.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SETS 16
#define MAX_IO 64

typedef struct data_set {
  int n_in, n_out;
  tio_tensor in[MAX_IO], out[MAX_IO];
} data_set;

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static int load_set(const char *dir, data_set *s) {
  char path[1200];
  memset(s, 0, sizeof *s);
  for (s->n_in = 0; s->n_in < MAX_IO; s->n_in++) {
    cli_fmt(path, sizeof path, "%s/input_%d.pb", dir, s->n_in);
    if (!file_exists(path)) break;
    if (tio_load(path, &s->in[s->n_in]) < 0) return -1;
  }
  for (s->n_out = 0; s->n_out < MAX_IO; s->n_out++) {
    cli_fmt(path, sizeof path, "%s/output_%d.pb", dir, s->n_out);
    if (!file_exists(path)) break;
    if (tio_load(path, &s->out[s->n_out]) < 0) return -1;
  }
  return 0;
}

static void free_set(data_set *s) {
  for (int i = 0; i < s->n_in; i++) tio_free(&s->in[i]);
  for (int i = 0; i < s->n_out; i++) tio_free(&s->out[i]);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Does got (of tensor t) match the expected tensor?  Fills why when not. */
static int match(const cli_opts *o, const ir_tensor *t, const void *got, const tio_tensor *want, const char *who,
                 char *why, size_t n) {
  double max_abs;
  int64_t bad;
  int same_shape = want->rank == t->rank;
  for (int d = 0; same_shape && d < t->rank; d++) same_shape = want->shape[d] == t->shape[d];
  if (want->dtype != t->dtype || !same_shape) {
    char s1[128];
    cli_fmt(why, n, "%s: output '%s' is %s %s, expected %s of %zu bytes", who, t->name, ir_dtype_name(t->dtype),
             ir_shape_str(t, s1, sizeof s1), ir_dtype_name(want->dtype), want->nbytes);
    return 0;
  }
  if (!cli_close(t->dtype, got, want->data, ir_numel(t), o->rtol, o->atol, &max_abs, &bad)) {
    cli_fmt(why, n, "%s: output '%s' differs at element %lld: %.9g vs expected %.9g", who, t->name, (long long)bad,
             cli_value(t->dtype, got, bad), cli_value(t->dtype, want->data, bad));
    return 0;
  }
  return 1;
}

enum { R_PASS, R_FAIL, R_UNSUPPORTED };

static int is_unsupported(const char *msg) {
  return strstr(msg, "unsupported") || strstr(msg, "not supported") || strstr(msg, "must be a compile-time constant");
}

static int run_one(cli_opts *o, const char *dir, char *why, size_t nwhy) {
  char path[1200];
  char *sets[MAX_SETS];
  int n_sets = 0, result = R_FAIL;
  DIR *d = opendir(dir);
  if (!d) {
    cli_fmt(why, nwhy, "%s: %s", dir, strerror(errno));
    return R_FAIL;
  }
  for (struct dirent *e; (e = readdir(d)) && n_sets < MAX_SETS;)
    if (!strncmp(e->d_name, "test_data_set_", 14)) sets[n_sets++] = ir_strdup(e->d_name);
  closedir(d);
  qsort(sets, (size_t)n_sets, sizeof *sets, cmp_str);
  data_set *ds = ir_alloc(sizeof *ds * (size_t)(n_sets ? n_sets : 1));
  ir_graph *g = NULL;
  interp_ctx ic;
  memset(&ic, 0, sizeof ic);
  char build[] = "/tmp/modelc-test-XXXXXX";
  int have_build = 0;
  cli_fmt(path, sizeof path, "%s/model.onnx", dir);
  for (int s = 0; s < n_sets; s++) {
    char sd[1400];
    cli_fmt(sd, sizeof sd, "%s/%s", dir, sets[s]);
    if (load_set(sd, &ds[s]) < 0) {
      cli_fmt(why, nwhy, "%s", ir_last_error());
      goto done;
    }
  }
  if (!n_sets) {
    cli_fmt(why, nwhy, "no test_data_set_* folder");
    goto done;
  }
  /* 1. learn the input names, then load again with the shapes of set 0
   *    fixed and the --const inputs made constant (as a user would). */
  int map[MAX_IO], n_rt = 0;   /* g's runtime input k is data-set input map[k] */
  cli_opts lo = *o;
  lo.n_shapes = lo.n_consts = lo.n_dims = 0;
  ir_graph *g0 = cli_load(&lo, path, 0);
  if (g0) {
    if (g0->n_inputs != ds[0].n_in || g0->n_inputs > MAX_IO) {
      cli_fmt(why, nwhy, "the model has %d runtime inputs, the data set %d", g0->n_inputs, ds[0].n_in);
      ir_graph_free(g0);
      goto done;
    }
    lo.n_consts = o->n_consts;
    for (int i = 0; i < g0->n_inputs; i++) {
      int is_const = 0;
      for (int k = 0; k < o->n_consts; k++) is_const |= !strcmp(o->consts[k].name, g0->inputs[i]->name);
      if (is_const) continue;
      onnx_binding *b = &lo.shapes[lo.n_shapes++];
      b->name = g0->inputs[i]->name;
      b->rank = ds[0].in[i].rank;
      memcpy(b->dims, ds[0].in[i].shape, sizeof b->dims);
      map[n_rt++] = i;
    }
    g = cli_load(&lo, path, 1);   /* lo.shapes names point into g0: free it after */
    ir_graph_free(g0);
  }
  if (!g) {
    cli_fmt(why, nwhy, "%s", ir_last_error());
    result = is_unsupported(why) ? R_UNSUPPORTED : R_FAIL;
    goto done;
  }
  if (g->n_inputs != n_rt) {
    cli_fmt(why, nwhy, "the model has %d runtime inputs after binding, expected %d", g->n_inputs, n_rt);
    goto done;
  }
  for (int s = 0; s < n_sets; s++) {
    if (ds[s].n_in != ds[0].n_in || ds[s].n_out != g->n_outputs) {
      cli_fmt(why, nwhy, "%s: %d inputs and %d outputs, the model has %d and %d", sets[s], ds[s].n_in, ds[s].n_out,
               ds[0].n_in, g->n_outputs);
      goto done;
    }
    for (int k = 0; k < g->n_inputs; k++)
      if ((int64_t)ds[s].in[map[k]].nbytes != ir_nbytes(g->inputs[k]) || ds[s].in[map[k]].dtype != g->inputs[k]->dtype) {
        cli_fmt(why, nwhy, "%s: input %d differs in dtype or shape from the first data set", sets[s], map[k]);
        result = R_UNSUPPORTED;
        goto done;
      }
  }
  /* 2. the interpreter on every data set */
  for (int s = 0; s < n_sets; s++) {
    const void *ins[MAX_IO];
    for (int k = 0; k < g->n_inputs; k++) ins[k] = ds[s].in[map[k]].data;
    if (interp_run(&ic, g, ins) < 0) {
      cli_fmt(why, nwhy, "interpreter: %s", ir_last_error());
      result = is_unsupported(why) ? R_UNSUPPORTED : R_FAIL;
      goto done;
    }
    for (int j = 0; j < g->n_outputs; j++)
      if (!match(o, g->outputs[j], interp_value(&ic, g->outputs[j]), &ds[s].out[j], "interpreter", why, nwhy))
        goto done;
    interp_free(&ic);
  }
  /* 3. the compiled C on every data set */
  if (!mkdtemp(build)) {
    cli_fmt(why, nwhy, "cannot create a temporary folder");
    goto done;
  }
  have_build = 1;
  emit_options eo = {"m", 1, 0};
  if (emit_c(g, &eo, build) < 0 || cli_build(o->cc, build, "m") < 0) {
    cli_fmt(why, nwhy, "C: %s", ir_last_error());
    result = is_unsupported(why) ? R_UNSUPPORTED : R_FAIL;
    goto done;
  }
  for (int s = 0; s < n_sets; s++) {
    char cmd[8192];
    int k = cli_fmt(cmd, sizeof cmd, "cd '%s' && mkdir -p out%d && ./m_main", build, s);
    for (int i = 0; i < g->n_inputs; i++) {
      char f[1400];
      cli_fmt(f, sizeof f, "%s/in%d_%d.npy", build, s, i);
      const tio_tensor *t = &ds[s].in[map[i]];
      if (tio_save_npy(f, t->dtype, t->rank, t->shape, t->data) < 0) {
        cli_fmt(why, nwhy, "%s", ir_last_error());
        goto done;
      }
      k += cli_fmt(cmd + k, sizeof cmd - (size_t)k, " in%d_%d.npy", s, i);
    }
    cli_fmt(cmd + k, sizeof cmd - (size_t)k, " -o out%d > run%d.log 2>&1", s, s);
    int rc = cli_system(cmd);
    if (rc != 0) {
      cli_fmt(why, nwhy, "C: the generated program failed (exit %d) on %s", rc, sets[s]);
      goto done;
    }
    for (int j = 0; j < g->n_outputs; j++) {
      char fname[512], f[1600];
      tio_tensor got;
      cli_file_name(fname, sizeof fname, g->outputs[j]->name);
      cli_fmt(f, sizeof f, "%s/out%d/%s.npy", build, s, fname);
      if (tio_load(f, &got) < 0) {
        cli_fmt(why, nwhy, "C: %s", ir_last_error());
        goto done;
      }
      int ok = match(o, g->outputs[j], got.data, &ds[s].out[j], "C", why, nwhy);
      tio_free(&got);
      if (!ok) goto done;
    }
  }
  result = R_PASS;
done:
  interp_free(&ic);
  if (have_build && !o->keep) {
    char cmd[200];
    cli_fmt(cmd, sizeof cmd, "rm -rf '%s'", build);
    cli_system(cmd);
  } else if (have_build) {
    printf("  build folder: %s\n", build);
  }
  for (int s = 0; s < n_sets; s++) {
    free_set(&ds[s]);
    free(sets[s]);
  }
  free(ds);
  ir_graph_free(g);
  return result;
}

int cmd_test_onnx(cli_opts *o) {
  int counts[3] = {0, 0, 0};
  static const char *label[] = {"PASS", "FAIL", "UNSUPPORTED"};
  for (int i = 0; i < o->n_pos; i++) {
    char why[2048] = "";
    const char *dir = o->pos[i];
    size_t len = strlen(dir);
    char name[1024];
    cli_fmt(name, sizeof name, "%s", dir);
    while (len > 1 && name[len - 1] == '/') name[--len] = 0;
    const char *base = strrchr(name, '/');
    int r = run_one(o, dir, why, sizeof why);
    counts[r]++;
    printf("%s %s%s%s\n", label[r], base ? base + 1 : name, why[0] ? ": " : "", why);
    fflush(stdout);
  }
  printf("%d passed, %d failed, %d skipped\n", counts[R_PASS], counts[R_FAIL], counts[R_UNSUPPORTED]);
  return counts[R_FAIL] ? 1 : 0;
}
