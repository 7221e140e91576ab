/*
 * fuzz_dsl.c - libFuzzer target for the model language's frontend, its
 * formatter and the passes.
 *
 * Any byte string goes through dsl_load_buffer (no file may be read:
 * base_dir NULL, and a small byte limit so that a huge parameter is an
 * error, not an out-of-memory report) and, when it loads, pass_run_all.
 * The formatter is checked for its promise: when a text formats, its
 * formatted form formats to itself (abort otherwise, so libFuzzer keeps
 * the input).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/dsl/dsl.h"
#include "compiler/passes/passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *format(const char *src, size_t len, size_t *n) {
  char *out = NULL;
  FILE *f = open_memstream(&out, n);
  if (!f) abort();
  int rc = dsl_format_buffer(src, len, "<fuzz>", f, NULL);
  fclose(f);
  if (rc == 0) return out;
  free(out);
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fe_opts o;
  memset(&o, 0, sizeof o);
  o.max_bytes = (int64_t)64 << 20;
  ir_graph *g = dsl_load_buffer((const char *)data, size, "<fuzz>", NULL, &o, NULL);
  if (g) {
    pass_options po;
    pass_options_default(&po);
    (void)pass_run_all(g, &po);
    ir_graph_free(g);
  }
  size_t n1, n2;
  char *once = format((const char *)data, size, &n1);
  if (once) {
    char *twice = format(once, n1, &n2);
    if (!twice || n1 != n2 || memcmp(once, twice, n1) != 0) abort();   /* fmt must be a fixed point */
    free(twice);
    free(once);
  }
  return 0;
}
