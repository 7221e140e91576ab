/*
 * common.c - the pieces every subcommand uses: loading a model with the
 * user's bindings and the passes, input tensors, tolerance comparisons,
 * and building generated C with the system's compiler.
 */
#include "cli.h"
#include "../../runtime/tensor_io.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

ir_graph *cli_load(const cli_opts *o, const char *model, int run_passes) {
  static ir_const_binding consts[CLI_MAX_BIND];
  static tio_tensor loaded[CLI_MAX_BIND];
  for (int i = 0; i < o->n_consts; i++) {
    if (tio_load(o->consts[i].file, o->max_bytes, &loaded[i]) != 0) {
      while (i-- > 0) tio_free(&loaded[i]);
      return NULL;
    }
    consts[i].name = o->consts[i].name;
    consts[i].dtype = loaded[i].dtype;
    consts[i].rank = loaded[i].rank;
    memcpy(consts[i].dims, loaded[i].shape, sizeof consts[i].dims);
    consts[i].data = loaded[i].data;
  }
  fe_opts lo;
  memset(&lo, 0, sizeof lo);
  lo.bind.n_shapes = o->n_shapes;
  lo.bind.shapes = o->shapes;
  lo.bind.n_dims = o->n_dims;
  lo.bind.dims = o->dims;
  lo.bind.n_consts = o->n_consts;
  lo.bind.consts = consts;
  lo.max_bytes = o->max_bytes;
  lo.no_bind = o->no_bind;
  const cli_frontend *fe = cli_frontend_for(model);
  ir_graph *g = fe->load(model, &lo);
  for (int i = 0; i < o->n_consts; i++) tio_free(&loaded[i]);
  if (!g) return NULL;
  if (run_passes && pass_run_all(g, &o->passes) < 0) {
    ir_graph_free(g);
    /* A later stage failed on a node: formats with positions point at its source. */
    if (fe->explain && fe->explain(model, ir_last_error())) ir_error("%s: 1 error", model);
    return NULL;
  }
  return g;
}

/* splitmix64: small, seedable, the same on every platform. */
static uint64_t next_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void fill_random(ir_dtype dt, void *buf, int64_t n, uint64_t *s) {
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = next_rand(s);
    double u = (double)(r >> 11) / 9007199254740992.0;   /* [0,1) */
    switch (dt) {
    case IR_F32: ((float *)buf)[i] = (float)(2 * u - 1); break;
    case IR_F64: ((double *)buf)[i] = 2 * u - 1; break;
    case IR_I8: ((int8_t *)buf)[i] = (int8_t)(r % 4); break;
    case IR_I16: ((int16_t *)buf)[i] = (int16_t)(r % 4); break;
    case IR_I32: ((int32_t *)buf)[i] = (int32_t)(r % 4); break;
    case IR_I64: ((int64_t *)buf)[i] = (int64_t)(r % 4); break;
    case IR_U8: ((uint8_t *)buf)[i] = (uint8_t)(r % 4); break;
    case IR_U16: ((uint16_t *)buf)[i] = (uint16_t)(r % 4); break;
    case IR_U32: ((uint32_t *)buf)[i] = (uint32_t)(r % 4); break;
    case IR_U64: ((uint64_t *)buf)[i] = r % 4; break;
    case IR_BOOL: ((uint8_t *)buf)[i] = (uint8_t)(r & 1); break;
    default: memset((char *)buf + i * (int64_t)ir_dtype_size(dt), 0, ir_dtype_size(dt)); break;
    }
  }
}

int cli_inputs(const cli_opts *o, const ir_graph *g, void **bufs) {
  uint64_t seed = o->seed;
  for (int i = 0; i < g->n_inputs; i++) bufs[i] = NULL;
  for (int k = 0; k < o->n_inputs; k++) {
    int found = 0;
    for (int i = 0; i < g->n_inputs; i++)
      if (!strcmp(g->inputs[i]->name, o->inputs[k].name)) found = 1;
    if (!found) return ir_error("--input %s: the model has no runtime input of that name", o->inputs[k].name);
  }
  for (int i = 0; i < g->n_inputs; i++) {
    const ir_tensor *t = g->inputs[i];
    const char *file = NULL;
    for (int k = 0; k < o->n_inputs; k++)
      if (!strcmp(o->inputs[k].name, t->name)) file = o->inputs[k].file;
    int64_t n = ir_numel(t);
    bufs[i] = ir_alloc((size_t)ir_nbytes(t));
    if (!file) {
      fill_random(t->dtype, bufs[i], n, &seed);
      continue;
    }
    tio_tensor v;
    /* held to the model's size for this input: a bigger file is refused unread */
    int rc = tio_load(file, ir_nbytes(t) > 0 ? ir_nbytes(t) : 1, &v);
    if (rc != 0 && rc != TIO_TOO_LARGE) return -1;
    int ok = rc == 0 && v.dtype == t->dtype && v.rank == t->rank;
    for (int d = 0; ok && d < t->rank; d++) ok = v.shape[d] == t->shape[d];
    if (!ok) {
      char want[128], got[128];
      ir_tensor tmp;
      memset(&tmp, 0, sizeof tmp);
      tmp.rank = v.rank;
      memcpy(tmp.shape, v.shape, sizeof tmp.shape);
      ir_shape_str(t, want, sizeof want);
      ir_shape_str(&tmp, got, sizeof got);
      ir_error("input '%s' (%s): expected %s %s, got %s %s", t->name, file, ir_dtype_name(t->dtype), want,
               ir_dtype_name(v.dtype), got);
      tio_free(&v);
      return -1;
    }
    memcpy(bufs[i], v.data, (size_t)ir_nbytes(t));
    tio_free(&v);
  }
  return 0;
}

void cli_free_inputs(const ir_graph *g, void **bufs) {
  for (int i = 0; i < g->n_inputs; i++) free(bufs[i]);
}

int cli_close(ir_dtype dt, const void *got, const void *want, int64_t n, double rtol, double atol,
              double *max_abs, int64_t *first_bad) {
  int ok = 1;
  size_t es = ir_dtype_size(dt);
  *max_abs = 0;
  *first_bad = -1;
  for (int64_t i = 0; i < n; i++) {
    int good;
    double g = ir_value_f64(dt, got, i), w = ir_value_f64(dt, want, i);
    if (!ir_dtype_is_float(dt)) {   /* exact: compare the bytes (int64 exceeds double) */
      good = memcmp((const char *)got + i * (int64_t)es, (const char *)want + i * (int64_t)es, es) == 0;
    } else if (isnan(w) || isnan(g)) {
      good = isnan(w) && isnan(g);
    } else if (isinf(w) || isinf(g)) {
      good = g == w;
    } else {
      double d = fabs(g - w);
      if (d > *max_abs) *max_abs = d;
      good = d <= atol + rtol * fabs(w);
    }
    if (!good) {
      if (ok) *first_bad = i;
      ok = 0;
      if (!ir_dtype_is_float(dt) && fabs(g - w) > *max_abs) *max_abs = fabs(g - w);
      if (isnan(g) != isnan(w) || isinf(g) || isinf(w)) *max_abs = INFINITY;
    }
  }
  return ok;
}

int cli_fmt(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  if (k < 0) k = 0;
  return n == 0 ? 0 : (size_t)k >= n ? (int)n - 1 : k;
}

int cli_system(const char *cmd) {
  fflush(stdout);
  int st = system(cmd);
  if (st == -1) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int cli_system_log(const char *cmd, const char *log) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {   /* the shell's own complaints (a bad --cc) go to the log too */
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
    close(fd);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int cli_tmpdir(char *buf, size_t n, const char *prefix) {
  const char *root = getenv("TMPDIR");
  if (!root || !*root) root = "/tmp";
  if (cli_fmt(buf, n, "%s/%s-XXXXXX", root, prefix) >= (int)n - 1)
    return ir_error("TMPDIR '%s' is too long for a temporary folder", root);
  if (!mkdtemp(buf)) return ir_error("cannot create a temporary folder in '%s': %s", root, strerror(errno));
  return 0;
}

/* The line of a build log that says most: the first one with "error",
 * else the last one that is not empty. */
static void telling_line(const char *log, char *out, size_t n) {
  const char *best = NULL, *last = NULL;
  for (const char *p = log; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len) last = p;
    if (!best && len && strstr(p, "error") && (!e || strstr(p, "error") < e)) best = p;
    p += len + (e ? 1 : 0);
  }
  const char *pick = best ? best : last ? last : "(nothing in the log)";
  size_t len = strcspn(pick, "\n");
  cli_fmt(out, n, "%.*s", (int)(len < n ? len : n - 1), pick);
}

int cli_build(const char *cc, const char *dir, const char *name) {
  char cmd[4096], path[1024];
  int k = cli_fmt(cmd, sizeof cmd, "%s -std=c99 -O2 -o '%s/%s_main' '%s/%s.c' '%s/%s_weights.c' '%s/%s_main.c' -lm",
                  cc, dir, name, dir, name, dir, name, dir, name);
  if (k >= (int)sizeof cmd - 1 || cli_fmt(path, sizeof path, "%s/build.log", dir) >= (int)sizeof path - 1)
    return ir_error("the build command for %s is too long", dir);
  int rc = cli_system_log(cmd, path);
  if (rc != 0) {
    char log[65536] = "", line[512];
    FILE *f = fopen(path, "r");
    if (f) {   /* its last 64 KiB: errors come last when there are many warnings */
      if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof log - 1) fseek(f, -(long)(sizeof log - 1), SEEK_END);
      else rewind(f);
      size_t got = fread(log, 1, sizeof log - 1, f);
      log[got] = 0;
      fclose(f);
    }
    telling_line(log, line, sizeof line);
    return ir_error("building the generated C with %s failed (exit %d): %s; full log: %s", cc, rc, line, path);
  }
  return 0;
}
