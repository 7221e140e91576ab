/*
 * main.c - `modelc`: argument parsing and dispatch to the subcommands.
 *
 * Exit codes (DESIGN.md): 0 success, 1 bad input (a model, a file, a
 * failed check), 2 bad usage.  Every error is one line on stderr.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage: modelc COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  compile MODEL -o DIR [--name NAME] [--emit-main]   emit DIR/NAME.h, NAME.c, NAME_weights.c\n"
    "  run     MODEL [--input NAME=FILE]... [-o DIR]       run the reference interpreter\n"
    "  check   MODEL [--input NAME=FILE]... [--rtol R] [--atol A] [--cc CC]\n"
    "                                                      compile, build and compare with the interpreter\n"
    "  info    MODEL                                       ops, shapes, parameters, MACs, memory plan\n"
    "  graph   MODEL [--format dot]                        the graph after the passes\n"
    "  test-onnx DIR...                                    run ONNX backend-test folders\n"
    "  ops                                                 the supported ops, as a Markdown table\n"
    "  convert IN OUT.npy                                  a tensor file (.pb or .npy) to .npy\n"
    "\n"
    "options for every command that reads a model:\n"
    "  --shape NAME=d0,d1,...   fix an input's shape\n"
    "  --dim SYMBOL=N           fix a symbolic dimension everywhere\n"
    "  --const NAME=FILE        make an input a compile-time constant (.npy or .pb)\n"
    "  --max-bytes N            limit on weight bytes (default 4 GiB)\n"
    "  --no-fold, --no-dce      switch a pass off (to bisect a wrong result); also\n"
    "  --no-identity, --no-bnfold, --no-fuse, --no-padfold, --no-transfold,\n"
    "  --no-schedule, --no-inplace\n"
    "  --seed N                 seed for random inputs (default 1)\n"
    "  --keep                   check/test-onnx: keep the build folder and print it\n"
    "  -h, --help               this text\n";

static const char *cmd_help(const char *cmd) {
  if (!strcmp(cmd, "compile"))
    return "usage: modelc compile MODEL -o DIR [--name NAME] [--emit-main] [--threads N] [model options]\n"
           "Writes DIR/NAME.h, DIR/NAME.c and DIR/NAME_weights.c (NAME defaults to the model file's stem);\n"
           "--emit-main adds DIR/NAME_main.c, a harness built with `cc -O3 DIR/*.c -lm`:\n"
           "  NAME_main IN.npy... [-o OUTDIR]   and   NAME_main --bench N IN.npy...\n";
  if (!strcmp(cmd, "run"))
    return "usage: modelc run MODEL [--input NAME=FILE]... [-o DIR] [model options]\n"
           "Runs the reference interpreter and writes DIR/<output>.npy (DIR defaults to '.').\n"
           "Inputs not given are filled with seeded random values.\n";
  if (!strcmp(cmd, "check"))
    return "usage: modelc check MODEL [--input NAME=FILE]... [--rtol R] [--atol A] [--cc CC] [model options]\n"
           "Compiles MODEL, builds the C with CC (default cc), runs it and the interpreter on the same\n"
           "inputs and compares every output (defaults: rtol 1e-3, atol 1e-4). On a mismatch it names\n"
           "the first differing tensor in schedule order. Exit 0 only when every output is close.\n";
  if (!strcmp(cmd, "info"))
    return "usage: modelc info MODEL [model options]\n"
           "Prints the ops, inputs and outputs with shapes, parameter count, MACs and the memory plan.\n";
  if (!strcmp(cmd, "graph"))
    return "usage: modelc graph MODEL [--format text|dot] [model options]\n"
           "Prints the graph after the passes.\n";
  if (!strcmp(cmd, "convert"))
    return "usage: modelc convert IN OUT.npy\n"
           "Writes the tensor of IN (an ONNX TensorProto .pb, as in ONNX's test data, or a .npy) as a\n"
           ".npy file, e.g. to feed ONNX test inputs to a generated NAME_main harness.\n";
  if (!strcmp(cmd, "ops"))
    return "usage: modelc ops\n"
           "Prints every op of the op table as a Markdown table (docs/ops.md is this output).\n";
  if (!strcmp(cmd, "test-onnx"))
    return "usage: modelc test-onnx DIR... [--cc CC] [--rtol R] [--atol A]\n"
           "Runs each ONNX backend-test folder (model.onnx + test_data_set_*) through the interpreter\n"
           "and the compiled C; prints PASS/FAIL/UNSUPPORTED per test and 'N passed, N failed, N skipped'.\n";
  return NULL;
}

static int bad_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "modelc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see modelc --help)\n");
  return 2;
}

/* "NAME=VALUE" split at the first '='; NULL when there is none. */
static char *split_eq(char *s) {
  char *eq = strchr(s, '=');
  if (!eq || eq == s) return NULL;
  *eq = 0;
  return eq + 1;
}

static int parse_int64(const char *s, int64_t *v) {
  char *end;
  long long x = strtoll(s, &end, 10);
  if (end == s || *end) return -1;
  *v = x;
  return 0;
}

static int parse_dims(char *s, onnx_binding *b) {
  b->rank = 0;
  if (!*s) return 0;   /* "NAME=" is a scalar */
  for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
    if (b->rank == IR_MAX_RANK || parse_int64(tok, &b->dims[b->rank]) < 0 || b->dims[b->rank] < 0) return -1;
    b->rank++;
  }
  return 0;
}

int main(int argc, char **argv) {
  static cli_opts o;
  memset(&o, 0, sizeof o);
  o.cc = "cc";
  o.rtol = 1e-3;
  o.atol = 1e-4;
  o.seed = 1;
  pass_options_default(&o.passes);
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  o.cmd = argv[1];
  o.pos = calloc((size_t)argc, sizeof *o.pos);
  if (!o.pos) return 1;
  if (!cmd_help(o.cmd)) return bad_usage("unknown command '%s'", o.cmd);
  int rtol_set = 0, atol_set = 0;
  for (int i = 2; i < argc; i++) {
    char *a = argv[i];
    const char *need = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT()                                                   \
  do {                                                           \
    if (!need) return bad_usage("option %s needs a value", a);   \
    i++;                                                         \
  } while (0)
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(cmd_help(o.cmd), stdout);
      return 0;
    } else if (!strcmp(a, "-o")) {
      NEXT();
      o.outdir = argv[i];
    } else if (!strcmp(a, "--name")) {
      NEXT();
      o.name = argv[i];
    } else if (!strcmp(a, "--cc")) {
      NEXT();
      o.cc = argv[i];
    } else if (!strcmp(a, "--format")) {
      NEXT();
      o.format = argv[i];
    } else if (!strcmp(a, "--emit-main")) {
      o.emit_main = 1;
    } else if (!strcmp(a, "--keep")) {
      o.keep = 1;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o.verbose = 1;
    } else if (!strcmp(a, "--no-fold")) {
      o.passes.fold = 0;
    } else if (!strcmp(a, "--no-dce")) {
      o.passes.dce = 0;
    } else if (!strcmp(a, "--no-identity")) {
      o.passes.identity = 0;
    } else if (!strcmp(a, "--no-bnfold")) {
      o.passes.bnfold = 0;
    } else if (!strcmp(a, "--no-fuse")) {
      o.passes.fuse = 0;
    } else if (!strcmp(a, "--no-padfold")) {
      o.passes.padfold = 0;
    } else if (!strcmp(a, "--no-transfold")) {
      o.passes.transfold = 0;
    } else if (!strcmp(a, "--no-schedule")) {
      o.passes.schedule = 0;
    } else if (!strcmp(a, "--no-inplace")) {
      o.passes.inplace = 0;
    } else if (!strcmp(a, "--threads") || !strcmp(a, "--seed") || !strcmp(a, "--max-bytes")) {
      int64_t v;
      NEXT();
      if (parse_int64(argv[i], &v) < 0 || v < 0) return bad_usage("bad number '%s'", argv[i]);
      if (a[2] == 't') o.threads = (int)v;
      else if (a[2] == 's') o.seed = (uint64_t)v;
      else o.max_bytes = v;
    } else if (!strcmp(a, "--rtol") || !strcmp(a, "--atol")) {
      char *end;
      NEXT();
      double v = strtod(argv[i], &end);
      if (end == argv[i] || *end || !(v >= 0)) return bad_usage("bad tolerance '%s'", argv[i]);
      if (a[2] == 'r') o.rtol = v, rtol_set = 1;
      else o.atol = v, atol_set = 1;
    } else if (!strcmp(a, "--shape")) {
      NEXT();
      char *val = split_eq(argv[i]);
      if (!val || o.n_shapes == CLI_MAX_BIND) return bad_usage("--shape takes NAME=d0,d1,... (got '%s')", argv[i]);
      onnx_binding *b = &o.shapes[o.n_shapes++];
      b->name = argv[i];
      if (parse_dims(val, b) < 0) return bad_usage("bad dimensions in --shape %s", argv[i]);
    } else if (!strcmp(a, "--dim")) {
      NEXT();
      char *val = split_eq(argv[i]);
      int64_t v;
      if (!val || o.n_dims == CLI_MAX_BIND || parse_int64(val, &v) < 0 || v < 0)
        return bad_usage("--dim takes SYMBOL=N (got '%s')", argv[i]);
      o.dims[o.n_dims].name = argv[i];
      o.dims[o.n_dims++].value = v;
    } else if (!strcmp(a, "--const") || !strcmp(a, "--input")) {
      NEXT();
      char *val = split_eq(argv[i]);
      int is_const = a[2] == 'c';
      int *cnt = is_const ? &o.n_consts : &o.n_inputs;
      cli_file_binding *arr = is_const ? o.consts : o.inputs;
      if (!val || *cnt == CLI_MAX_BIND) return bad_usage("%s takes NAME=FILE", a);
      arr[*cnt].name = argv[i];
      arr[(*cnt)++].file = val;
    } else if (a[0] == '-' && a[1]) {
      return bad_usage("unknown option '%s'", a);
    } else {
      o.pos[o.n_pos++] = a;
    }
#undef NEXT
  }
  if (!strcmp(o.cmd, "test-onnx")) {
    if (!rtol_set) o.rtol = 1e-3;
    if (!atol_set) o.atol = 1e-7;
    if (o.n_pos < 1) return bad_usage("%s needs at least one DIR", o.cmd);
    return cmd_test_onnx(&o);
  }
  if (!strcmp(o.cmd, "convert")) {
    if (o.n_pos != 2) return bad_usage("%s needs IN and OUT.npy", o.cmd);
    return cmd_convert(&o);
  }
  if (!strcmp(o.cmd, "ops")) {
    if (o.n_pos) return bad_usage("%s takes no arguments", o.cmd);
    return cmd_ops(&o);
  }
  if (o.n_pos != 1) return bad_usage("%s needs exactly one MODEL", o.cmd);
  if (!strcmp(o.cmd, "compile")) {
    if (!o.outdir) return bad_usage("%s needs -o DIR", o.cmd);
    return cmd_compile(&o);
  }
  if (!strcmp(o.cmd, "run")) return cmd_run(&o);
  if (!strcmp(o.cmd, "check")) return cmd_check(&o);
  if (!strcmp(o.cmd, "info")) return cmd_info(&o);
  return cmd_graph(&o);
}
