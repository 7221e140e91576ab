/*
 * mutate_models.c - seeded mutations of the real models through the
 * loader and every pass.
 *
 * usage: mutate_models N MODEL...   (N mutants per model, default 1000)
 *
 * The libFuzzer targets start from small test models; this takes the
 * real models of models/ (megabytes of weights, hundreds of nodes) and
 * for each makes N mutants with a fixed-seed generator: bit flips, bytes
 * set to 0x00/0xff/0x7f/0x80, varint bytes made huge, slices duplicated
 * or removed, truncation.  Each goes through onnx_load_buffer and
 * pass_run_all in this process (thousands per second, where launching
 * `modelc` under ASan would take minutes); a crash, a sanitizer report or
 * more than 20 s on one mutant (SIGALRM) fails the test and prints the
 * model and mutant number to reproduce it.  tests/fuzz/mutate_cli.sh runs
 * a sample through the modelc binary itself.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/onnx/onnx_load.h"
#include "compiler/passes/passes.h"

static const char *cur_model;
static volatile int cur_mutant;

static void on_alarm(int sig) {
  (void)sig;
  char msg[512];
  int n = snprintf(msg, sizeof msg, "mutate_models: mutant %d of %s took over 20 s\n", cur_mutant, cur_model);
  if (n > 0) (void)!write(2, msg, (size_t)n);
  _exit(3);
}

static uint64_t rng = 1;
static uint64_t next(void) {   /* xorshift64*: portable and seeded */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* One to eight edits of a copy of src into dst (capacity 2 * len). */
static size_t mutate(const unsigned char *src, size_t len, unsigned char *dst) {
  memcpy(dst, src, len);
  size_t n = len;
  int edits = 1 + (int)(next() % 8);
  for (int k = 0; k < edits && n > 0; k++) {
    size_t at = (size_t)(next() % n);
    /* Bias half the edits to the first 4 KiB: graph structure lives near
     * the front in most exporters, weights at the back. */
    if (next() & 1) at %= n < 4096 ? n : 4096;
    switch (next() % 7) {
    case 0: dst[at] ^= (unsigned char)(1u << (next() % 8)); break;
    case 1: {
      static const unsigned char v[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
      dst[at] = v[next() % sizeof v];
      break;
    }
    case 2: /* a huge varint: 9 continuation bytes */
      for (size_t j = at; j < n && j < at + 9; j++) dst[j] = 0xff;
      break;
    case 3: { /* duplicate a slice (bounded by the 2 * len buffer) */
      size_t l = 1 + (size_t)(next() % 64);
      if (at + l > n) l = n - at;
      if (n + l > 2 * len) break;
      memmove(dst + at + l, dst + at, n - at);
      n += l;
      break;
    }
    case 4: { /* remove a slice */
      size_t l = 1 + (size_t)(next() % 64);
      if (at + l > n) l = n - at;
      memmove(dst + at, dst + at + l, n - at - l);
      n -= l;
      break;
    }
    case 5: n = at; break;   /* truncate */
    default: dst[at] = (unsigned char)next(); break;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mutate_models N MODEL...\n");
    return 2;
  }
  int per = atoi(argv[1]);
  signal(SIGALRM, on_alarm);
  long loaded = 0, refused = 0, total = 0;
  for (int a = 2; a < argc; a++) {
    size_t len;
    unsigned char *src = read_all(argv[a], &len);
    if (!src) {
      fprintf(stderr, "mutate_models: cannot read %s\n", argv[a]);
      return 2;
    }
    unsigned char *buf = malloc(2 * len + 1);
    cur_model = argv[a];
    rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)len;
    for (int i = 0; i < per; i++) {
      cur_mutant = i;
      size_t n = mutate(src, len, buf);
      alarm(20);
      fe_opts o = {0};
      o.max_bytes = (int64_t)256 << 20;
      ir_graph *g = onnx_load_buffer(buf, n, NULL, &o);
      if (g) {
        pass_options po;
        pass_options_default(&po);
        if (pass_run_all(g, &po) == 0) loaded++;
        else refused++;
        ir_graph_free(g);
      } else {
        refused++;
      }
      alarm(0);
      total++;
    }
    free(buf);
    free(src);
  }
  printf("mutate_models: %ld mutants, %ld passed every pass, %ld refused with an error\n", total, loaded,
         refused);
  return 0;
}
