/*
 * test_onnx.c - `modelc test-onnx DIR...`: ONNX backend-test folders
 * (model.onnx + test_data_set_N/input_N.pb, output_N.pb) through both the
 * interpreter and the compiled C.
 *
 * A test passes only when both match every output of every data set.
 * Anything modelc lacks (an op, an attribute, a dtype, a sequence value) is
 * UNSUPPORTED with the reason; FAIL is kept for wrong numbers, crashes and
 * bugs.  One line per test in the order given, then
 * `N passed, N failed, N skipped`; with -v, each test also gets its main op
 * ("  op: Conv") and the inputs specialized from the data, which is what
 * tests/onnx/update.sh builds docs/conformance.md from.
 *
 * Speed: the folders are cut into batches of BATCH tests, and each batch is
 * one worker process (MODELC_JOBS of them at a time, default 2) that
 * prepares its tests (test_onnx_case.c) and builds all of their C into one
 * program (test_onnx_batch.c).  A worker that crashes or hangs in the
 * compiler or the interpreter costs the test it was on a FAIL; the rest of
 * its batch is run again by a new worker.
 */
#include "test_onnx.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH 48
#define CASE_TIMEOUT 120   /* seconds to load, interpret and emit one test */

typedef struct batch {
  int n, *idx;
  int retried;   /* already rerun after a crash in the batch phase */
} batch;

typedef struct worker {
  pid_t pid;
  batch b;
  char dir[1200];
} worker;

/* Tabs and newlines would break the results file's lines. */
static void flat(char *s) {
  for (; *s; s++)
    if (*s == '\t' || *s == '\n' || *s == '\r') *s = ' ';
}

static void put_result(FILE *f, const to_case *c) {
  char why[sizeof c->why], note[sizeof c->note];
  cli_fmt(why, sizeof why, "%s", c->why);
  cli_fmt(note, sizeof note, "%s", c->note);
  flat(why);
  flat(note);
  fprintf(f, "%d\t%d\t%s\t%s\n", c->idx, c->status, note, why);
  fflush(f);
}

static void set_current(const char *bdir, const char *what) {
  char path[1300];
  cli_fmt(path, sizeof path, "%s/current", bdir);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(what, f);
    fclose(f);
  }
}

/* The worker: prepare each test, build and run the batch, write results. */
static void work(const cli_opts *o, const to_case *all, const batch *b, const char *bdir) {
  char path[1300];
  cli_fmt(path, sizeof path, "%s/results", bdir);
  FILE *res = fopen(path, "w");
  if (!res) _exit(3);
  to_case **cs = ir_alloc(sizeof *cs * (size_t)b->n);
  for (int k = 0; k < b->n; k++) {
    to_case *c = cs[k] = ir_alloc(sizeof *c);
    c->idx = all[b->idx[k]].idx;
    c->dir = all[b->idx[k]].dir;
    char cur[32];
    cli_fmt(cur, sizeof cur, "%d", c->idx);
    set_current(bdir, cur);
    alarm(CASE_TIMEOUT);
    to_prepare(o, c, bdir);
    alarm(0);
    if (c->status != TO_PENDING) put_result(res, c);
  }
  set_current(bdir, "C");
  int *pending = ir_alloc(sizeof(int) * (size_t)b->n);
  for (int k = 0; k < b->n; k++) pending[k] = cs[k]->status == TO_PENDING;
  to_run_batch(o, cs, b->n, bdir);
  for (int k = 0; k < b->n; k++)
    if (pending[k]) put_result(res, cs[k]);
  fclose(res);
  fflush(stdout);
  _exit(0);
}

static int read_int(const char *path, int *v) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fscanf(f, "%d", v) == 1;
  fclose(f);
  return ok ? 0 : -1;
}

/* Read a finished worker's results into cases. */
static void collect(to_case *cases, const worker *w) {
  char path[1300], line[2048];
  cli_fmt(path, sizeof path, "%s/results", w->dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *field[4];
    int nf = 0;
    for (char *p = line; nf < 4; nf++) {
      field[nf] = p;
      char *tab = strchr(p, '\t');
      if (!tab) {
        nf++;
        break;
      }
      *tab = 0;
      p = tab + 1;
    }
    if (nf < 4) continue;
    int idx = atoi(field[0]);
    to_case *c = &cases[idx];
    c->status = atoi(field[1]);
    cli_fmt(c->note, sizeof c->note, "%s", field[2]);
    cli_fmt(c->why, sizeof c->why, "%s", field[3]);
  }
  fclose(f);
}

static const char *base_name(const char *dir, char *buf, size_t n) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  cli_fmt(buf, n, "%.*s", (int)len, dir);
  const char *b = strrchr(buf, '/');
  return b ? b + 1 : buf;
}

int cmd_test_onnx(cli_opts *o) {
  static const char *label[] = {"PASS", "FAIL", "UNSUPPORTED"};
  int n = o->n_pos, counts[3] = {0, 0, 0};
  to_case *cases = ir_alloc(sizeof *cases * (size_t)n);
  for (int i = 0; i < n; i++) {
    cases[i].idx = i;
    char *d = ir_strdup(o->pos[i]);   /* "dir/" -> "dir", for messages */
    for (size_t len = strlen(d); len > 1 && d[len - 1] == '/';) d[--len] = 0;
    cases[i].dir = d;
    cases[i].status = TO_PENDING;
  }
  int jobs = 2;
  const char *env = getenv("MODELC_JOBS");
  if (env && atoi(env) > 0) jobs = atoi(env);
  int bsz = (n + jobs - 1) / jobs;   /* small runs: one batch per job */
  if (bsz > BATCH) bsz = BATCH;
  if (bsz < 1) bsz = 1;

  char root[1024];
  if (cli_tmpdir(root, sizeof root, "modelc-test") < 0) {
    fprintf(stderr, "modelc: %s\n", ir_last_error());
    return 1;
  }
  /* the queue of batches; crashed batches come back with what is left */
  int qcap = n / bsz + 8, qn = 0, qhead = 0, n_dirs = 0;
  batch *queue = ir_alloc(sizeof *queue * (size_t)qcap);
  for (int i = 0; i < n; i += bsz) {
    batch *b = &queue[qn++];
    b->n = i + bsz <= n ? bsz : n - i;
    b->idx = ir_alloc(sizeof(int) * (size_t)b->n);
    for (int k = 0; k < b->n; k++) b->idx[k] = i + k;
  }
  worker *ws = ir_alloc(sizeof *ws * (size_t)jobs);
  int running = 0, next_print = 0;
  while (qhead < qn || running) {
    while (running < jobs && qhead < qn) {   /* start workers */
      worker *w = &ws[running];
      w->b = queue[qhead++];
      cli_fmt(w->dir, sizeof w->dir, "%s/b%d", root, n_dirs++);
      if (mkdir(w->dir, 0777) < 0) {
        fprintf(stderr, "modelc: %s: %s\n", w->dir, strerror(errno));
        return 1;
      }
      fflush(stdout);
      fflush(stderr);
      w->pid = fork();
      if (w->pid < 0) {
        fprintf(stderr, "modelc: fork: %s\n", strerror(errno));
        return 1;
      }
      if (w->pid == 0) work(o, cases, &w->b, w->dir);
      running++;
    }
    int st;
    pid_t pid = wait(&st);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int k = 0;
    while (k < running && ws[k].pid != pid) k++;
    if (k == running) continue;
    worker w = ws[k];
    ws[k] = ws[--running];
    collect(cases, &w);
    int cur = -1, sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    char path[1300], why[200];
    cli_fmt(path, sizeof path, "%s/current", w.dir);
    if (read_int(path, &cur) < 0) cur = -1;   /* "C": in the batch phase */
    if (sig == SIGALRM) cli_fmt(why, sizeof why, "timed out after %d s in the compiler or the interpreter", CASE_TIMEOUT);
    else if (sig) cli_fmt(why, sizeof why, "crashed (signal %d) in the compiler or the interpreter", sig);
    else cli_fmt(why, sizeof why, "the test worker ended (exit %d) without a result", WEXITSTATUS(st));
    if (sig && cur < 0)
      cli_fmt(why, sizeof why, "the test worker crashed (signal %d) while building or checking the C", sig);
    batch rest = {0, ir_alloc(sizeof(int) * (size_t)w.b.n), cur < 0};
    for (int j = 0; j < w.b.n; j++) {
      to_case *c = &cases[w.b.idx[j]];
      if (c->status != TO_PENDING) continue;
      /* a crash on one test fails it and reruns the others; a crash in the
       * batch phase reruns the batch once */
      if (!sig || c->idx == cur || (cur < 0 && w.b.retried)) {
        c->status = TO_FAIL;
        cli_fmt(c->why, sizeof c->why, "%s", why);
      } else {
        rest.idx[rest.n++] = c->idx;
      }
    }
    if (rest.n) {
      if (qn == qcap) queue = realloc(queue, sizeof *queue * (size_t)(qcap *= 2));
      if (!queue) abort();
      queue[qn++] = rest;
    } else {
      free(rest.idx);
    }
    free(w.b.idx);
    for (; next_print < n && cases[next_print].status != TO_PENDING; next_print++) {
      const to_case *c = &cases[next_print];
      char buf[1200];
      counts[c->status]++;
      printf("%s %s%s%s\n", label[c->status], base_name(c->dir, buf, sizeof buf), c->why[0] ? ": " : "", c->why);
      if (o->verbose) {
        char op[64];
        to_main_op(c->dir, op, sizeof op);
        printf("  op: %s\n", op);
      }
      if (o->verbose && c->note[0]) printf("  %s\n", c->note);
    }
    fflush(stdout);
  }
  printf("%d passed, %d failed, %d skipped\n", counts[TO_PASS], counts[TO_FAIL], counts[TO_UNSUPPORTED]);
  if (o->keep) {
    printf("build folder: %s\n", root);
  } else {
    char cmd[200];
    cli_fmt(cmd, sizeof cmd, "rm -rf '%s'", root);
    cli_system(cmd);
  }
  free(queue);
  free(ws);
  for (int i = 0; i < n; i++) free((char *)cases[i].dir);
  free(cases);
  return counts[TO_FAIL] ? 1 : 0;
}
