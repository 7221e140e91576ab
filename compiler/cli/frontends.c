/*
 * frontends.c - which frontend reads a model file.
 *
 * A small registry: each entry names its format, the file extension that
 * selects it and a test on the file's first bytes for files whose name says
 * nothing.  The extension decides first (.onnx, .nn); otherwise the content
 * does (a DSL file is text that starts with a statement or a comment; an
 * ONNX model is protobuf); a file neither recognizes goes to ONNX, whose
 * error ("not an ONNX model") says what was expected.  Every entry's loader
 * ends in fe_finish, so what comes out is the same kind of graph.
 */
#include "cli.h"
#include "../dsl/dsl.h"

#include <stdio.h>
#include <string.h>

static ir_graph *load_onnx(const char *path, const fe_opts *o) { return onnx_load_file(path, o); }
static ir_graph *load_dsl(const char *path, const fe_opts *o) { return dsl_load_file(path, o, stderr); }
static int explain_dsl(const char *path, const char *msg) { return dsl_explain(path, msg, stderr); }

static const cli_frontend frontends[] = {
    {"onnx", ".onnx", NULL, load_onnx, NULL},
    {"dsl", ".nn", dsl_sniff, load_dsl, explain_dsl},
};
#define N_FRONTENDS ((int)(sizeof frontends / sizeof *frontends))

static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), k = strlen(ext);
  return n > k && strcmp(path + n - k, ext) == 0;
}

const cli_frontend *cli_frontend_for(const char *path) {
  for (int i = 0; i < N_FRONTENDS; i++)
    if (has_ext(path, frontends[i].ext)) return &frontends[i];
  unsigned char head[512];
  size_t n = 0;
  FILE *f = fopen(path, "rb");
  if (f) {
    n = fread(head, 1, sizeof head, f);
    fclose(f);
  }
  for (int i = 0; i < N_FRONTENDS; i++)
    if (frontends[i].sniff && frontends[i].sniff(head, n)) return &frontends[i];
  return &frontends[0];
}
