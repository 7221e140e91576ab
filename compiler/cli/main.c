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

#ifndef MODELC_VERSION
#error "MODELC_VERSION comes from CMake's project version (CMakeLists.txt)"
#endif

static const char *usage_text =
    "usage: modelc COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  compile MODEL -o DIR [--name NAME] [--emit-main] [--profile] [--threads N]\n"
    "                                                      emit DIR/NAME.h, NAME.c, NAME_weights.c\n"
    "  run     MODEL [--input NAME=FILE]... [-o DIR]       run the reference interpreter\n"
    "  check   MODEL [--input NAME=FILE]... [--rtol R] [--atol A] [--cc CC]\n"
    "                                                      compile, build and compare with the interpreter\n"
    "  info    MODEL [--memory-svg FILE]                   ops, shapes, parameters, MACs, memory plan\n"
    "  graph   MODEL [--format dot]                        the graph after the passes\n"
    "  test-onnx DIR...                                    run ONNX backend-test folders\n"
    "  ops                                                 the supported ops, as a Markdown table\n"
    "  fmt     FILE.nn                                     print a model file in the canonical layout\n"
    "  export  MODEL -o OUT.onnx                           write the model as an ONNX file\n"
    "  update-weights MODEL W.npz -o OUT.onnx              the model with the weights of W.npz (NAME_main --save)\n"
    "  convert IN OUT.npy                                  a tensor file (.pb or .npy) to .npy\n"
    "\n"
    "options for every command that reads a model:\n"
    "  --shape NAME=d0,d1,...   fix an input's shape\n"
    "  --dim SYMBOL=N           fix a symbolic dimension everywhere\n"
    "  --const NAME=FILE        make an input a compile-time constant (.npy or .pb)\n"
    "  --max-bytes N            limit on weight bytes and on a tensor file's data (default 4 GiB)\n"
    "  --no-PASS                switch a pass off (to bisect a wrong result); the passes are below\n"
    "\n"
    "training (compile, info, check, graph; docs/training.md):\n"
    "  --train                  the training step: compile emits NAME_train_step, info lists its memory,\n"
    "                           check runs --steps K (default 2) steps in the interpreter and the C,\n"
    "                           graph prints it\n"
    "  --loss L                 softmax_cross_entropy, mse or bce_with_logits on the first output\n"
    "                           (none when the model ends in its loss op or its train block names one)\n"
    "  --optimizer O[:k=v,...]  sgd:lr=..,momentum=..,nesterov=0|1,weight_decay=..  or\n"
    "                           adam:lr=..,beta1=..,beta2=..,eps=..,weight_decay=..,decoupled=0|1  or\n"
    "                           adagrad:lr=..,lr_decay=..,eps=..,weight_decay=..  (PyTorch's rules)\n"
    "  --freeze NAME,...        parameters the optimizer leaves alone\n"
    "\n"
    "other options:\n"
    "  --seed N                 run/check: seed for random inputs (default 1)\n"
    "  --keep                   check/test-onnx: keep the build folder and print it\n"
    "  -v, --verbose            check/test-onnx: say more\n"
    "  --bisect                 check: on a mismatch, rerun with each pass off in turn and name the first\n"
    "                           whose switch-off makes the check pass\n"
    "  -h, --help               this text (modelc COMMAND --help: that command's)\n"
    "  --version                modelc's version\n"
    "An option that does not apply to a command is refused.\n";

static const char *cmd_help(const char *cmd) {
  if (!strcmp(cmd, "compile"))
    return "usage: modelc compile MODEL -o DIR [--name NAME] [--emit-main] [--profile] [--threads N]\n"
           "                      [--train [--loss L] [--optimizer O] [--freeze NAMES]] [model options]\n"
           "Writes DIR/NAME.h, DIR/NAME.c and DIR/NAME_weights.c (NAME defaults to the model file's stem);\n"
           "--emit-main adds DIR/NAME_main.c, a harness built with `cc -O3 DIR/*.c -lm`:\n"
           "  NAME_main IN.npy... [-o OUTDIR]   and   NAME_main --bench N IN.npy...\n"
           "--profile makes NAME_infer call NAME_profile(k, 0|1) around node k (declared in NAME.h);\n"
           "NAME_main.c then defines it, and `NAME_main --profile N IN.npy...` prints per node its\n"
           "mean time over N runs, share of the total, kernel and GFLOP/s, slowest first; with --train\n"
           "also NAME_train_step (NAME_train_profile): `NAME_main --train X.npy Y.npy --batch B --profile N`.\n"
           "--threads N (1 to 1024) writes OpenMP pragmas, num_threads(N), on the outer loops of the GEMM\n"
           "core, depthwise convolution, pooling and big elementwise maps: build with -fopenmp to use them\n"
           "(without it the same C runs on one thread); outputs are bit-identical either way.\n"
           "--train adds NAME_train_step (forward, loss, backward, one optimizer step) and the\n"
           "harness's --train mode; the losses and optimizers are in docs/training.md.\n";
  if (!strcmp(cmd, "update-weights"))
    return "usage: modelc update-weights MODEL W.npz -o OUT.onnx\n"
           "Writes MODEL as ONNX with its parameters taken from W.npz (keys: parameter names, as\n"
           "NAME_main --save writes them). Every float parameter needs its key, with its dtype and shape.\n";
  if (!strcmp(cmd, "run"))
    return "usage: modelc run MODEL [--input NAME=FILE]... [-o DIR] [model options]\n"
           "Runs the reference interpreter and writes DIR/<output>.npy (DIR defaults to '.').\n"
           "Inputs not given are filled with seeded random values.\n";
  if (!strcmp(cmd, "check"))
    return "usage: modelc check MODEL [--input NAME=FILE]... [--rtol R] [--atol A] [--cc CC] [--bisect] [model options]\n"
           "       modelc check MODEL --train [--loss L] [--optimizer O] [--freeze NAMES] [--steps K]\n"
           "Compiles MODEL, builds the C with CC (default cc), runs it and the interpreter on the same\n"
           "inputs and compares every output (defaults: rtol 1e-3, atol 1e-4). On a mismatch it names\n"
           "the first differing tensor in schedule order; with --bisect it then reruns with each pass\n"
           "switched off in turn (the order of --help) and names the first whose switch-off makes the\n"
           "check pass. Exit 0 only when every output is close.\n"
           "With --train: K training steps (default 2) in the interpreter and in the compiled C on the same\n"
           "seeded inputs and labels; compares the loss of each step and the final parameters.\n";
  if (!strcmp(cmd, "info"))
    return "usage: modelc info MODEL [--memory-svg FILE] [--train ...] [model options]\n"
           "Prints the ops, inputs and outputs with shapes, parameter count, MACs and the memory plan:\n"
           "each arena buffer's offset, bytes, lifetime (first-last schedule step, as `modelc graph`\n"
           "numbers the nodes) and the tensors sharing it. --memory-svg draws the plan into FILE:\n"
           "steps across, offsets down, one rectangle per buffer (its tooltip gives the numbers).\n"
           "With --train: the training step's memory: activations kept for backward, gradients,\n"
           "optimizer state and parameter bytes, and its arena plan.\n";
  if (!strcmp(cmd, "graph"))
    return "usage: modelc graph MODEL [--format text|dot] [--train ...] [model options]\n"
           "Prints the graph after the passes (with --train: the training step's).\n";
  if (!strcmp(cmd, "convert"))
    return "usage: modelc convert IN OUT.npy [--max-bytes N]\n"
           "Writes the tensor of IN (an ONNX TensorProto .pb, as in ONNX's test data, or a .npy) as a\n"
           ".npy file, e.g. to feed ONNX test inputs to a generated NAME_main harness.\n";
  if (!strcmp(cmd, "fmt"))
    return "usage: modelc fmt FILE.nn\n"
           "Prints the model file in the canonical layout (docs/dsl.md); formatting twice changes nothing.\n";
  if (!strcmp(cmd, "export"))
    return "usage: modelc export MODEL -o OUT.onnx [model options]\n"
           "Writes MODEL (a DSL file, or an ONNX file after the bindings) as an ONNX model with its weights.\n";
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

/* ---- which command takes which option ----------------------------------- */

enum {
  C_COMPILE = 1 << 0, C_RUN = 1 << 1, C_CHECK = 1 << 2, C_INFO = 1 << 3, C_GRAPH = 1 << 4,
  C_TEST_ONNX = 1 << 5, C_OPS = 1 << 6, C_CONVERT = 1 << 7, C_FMT = 1 << 8, C_EXPORT = 1 << 9, C_UPDATE = 1 << 10,
  C_TRAIN = C_COMPILE | C_INFO | C_CHECK | C_GRAPH,   /* commands that take --train */
  C_MODEL = C_COMPILE | C_RUN | C_CHECK | C_INFO | C_GRAPH | C_TEST_ONNX | C_EXPORT   /* commands that read a model */
};

static const struct {
  const char *name;
  unsigned bit;
} commands[] = {
    {"compile", C_COMPILE}, {"run", C_RUN}, {"check", C_CHECK}, {"info", C_INFO},
    {"graph", C_GRAPH}, {"test-onnx", C_TEST_ONNX}, {"ops", C_OPS}, {"convert", C_CONVERT},
    {"fmt", C_FMT}, {"export", C_EXPORT}, {"update-weights", C_UPDATE},
};

typedef enum {
  O_OUT, O_NAME, O_CC, O_FORMAT, O_EMIT_MAIN, O_PROFILE, O_KEEP, O_VERBOSE, O_BISECT, O_MEMORY_SVG, O_NO_PASS, O_THREADS, O_SEED,
  O_MAX_BYTES, O_RTOL, O_ATOL, O_SHAPE, O_DIM, O_CONST, O_INPUT, O_TRAIN, O_LOSS, O_OPTIMIZER, O_FREEZE, O_STEPS
} opt_id;

/* Every option, with the commands it applies to: any other command refuses
 * it (exit 2) rather than ignore it.  An option that is not implemented yet
 * applies to no command and says why here. */
static const struct {
  opt_id id;
  const char *name, *alias;
  int has_value;
  unsigned cmds;
  const char *not_yet;
} options[] = {
    {O_OUT, "-o", NULL, 1, C_COMPILE | C_RUN | C_EXPORT | C_UPDATE, NULL},
    {O_NAME, "--name", NULL, 1, C_COMPILE, NULL},
    {O_EMIT_MAIN, "--emit-main", NULL, 0, C_COMPILE, NULL},
    {O_PROFILE, "--profile", NULL, 0, C_COMPILE, NULL},
    {O_THREADS, "--threads", NULL, 1, C_COMPILE, NULL},
    {O_FORMAT, "--format", NULL, 1, C_GRAPH, NULL},
    {O_INPUT, "--input", NULL, 1, C_RUN | C_CHECK, NULL},
    {O_SEED, "--seed", NULL, 1, C_RUN | C_CHECK, NULL},
    {O_CC, "--cc", NULL, 1, C_CHECK | C_TEST_ONNX, NULL},
    {O_RTOL, "--rtol", NULL, 1, C_CHECK | C_TEST_ONNX, NULL},
    {O_ATOL, "--atol", NULL, 1, C_CHECK | C_TEST_ONNX, NULL},
    {O_KEEP, "--keep", NULL, 0, C_CHECK | C_TEST_ONNX, NULL},
    {O_VERBOSE, "--verbose", "-v", 0, C_CHECK | C_TEST_ONNX, NULL},
    {O_BISECT, "--bisect", NULL, 0, C_CHECK, NULL},
    {O_MEMORY_SVG, "--memory-svg", NULL, 1, C_INFO, NULL},
    {O_SHAPE, "--shape", NULL, 1, C_MODEL, NULL},
    {O_DIM, "--dim", NULL, 1, C_MODEL, NULL},
    {O_CONST, "--const", NULL, 1, C_MODEL, NULL},
    {O_NO_PASS, "--no-PASS", NULL, 0, C_MODEL, NULL},   /* --no-NAME for each of pass_switches */
    {O_MAX_BYTES, "--max-bytes", NULL, 1, C_MODEL | C_CONVERT | C_UPDATE, NULL},
    {O_TRAIN, "--train", NULL, 0, C_TRAIN, NULL},
    {O_LOSS, "--loss", NULL, 1, C_TRAIN, NULL},
    {O_OPTIMIZER, "--optimizer", NULL, 1, C_TRAIN, NULL},
    {O_FREEZE, "--freeze", NULL, 1, C_TRAIN, NULL},
    {O_STEPS, "--steps", NULL, 1, C_CHECK, NULL},
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

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

static int parse_dims(char *s, ir_shape_binding *b) {
  b->rank = 0;
  if (!*s) return 0;   /* "NAME=" is a scalar */
  for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
    if (b->rank == IR_MAX_RANK || parse_int64(tok, &b->dims[b->rank]) < 0 || b->dims[b->rank] < 0) return -1;
    b->rank++;
  }
  return 0;
}

/* "--no-NAME" for a pass of pass_switches. */
static int is_pass_switch(const char *a) {
  if (strncmp(a, "--no-", 5)) return 0;
  for (const pass_switch *p = pass_switches; p->name; p++)
    if (!strcmp(a + 5, p->name)) return 1;
  return 0;
}

static void usage(FILE *f) {
  fputs(usage_text, f);
  fputs("\npasses (--no-PASS switches one off):\n", f);
  for (const pass_switch *p = pass_switches; p->name; p++) fprintf(f, "  %-24s %s\n", p->name, p->what);
}

/* Apply option k with its value val (NULL for a flag); 0 or exit status 2. */
static int apply_option(cli_opts *o, int k, const char *a, char *val) {
  int64_t v;
  char *end;
  double d;
  switch (options[k].id) {
  case O_OUT: o->outdir = val; break;
  case O_NAME: o->name = val; break;
  case O_CC: o->cc = val; break;
  case O_FORMAT: o->format = val; break;
  case O_EMIT_MAIN: o->emit_main = 1; break;
  case O_PROFILE: o->profile = 1; break;
  case O_KEEP: o->keep = 1; break;
  case O_VERBOSE: o->verbose = 1; break;
  case O_BISECT: o->bisect = 1; break;
  case O_MEMORY_SVG: o->memory_svg = val; break;
  case O_NO_PASS:
    for (const pass_switch *p = pass_switches; p->name; p++)
      if (!strcmp(a + 5, p->name)) *pass_switch_flag(&o->passes, p) = 0;
    break;
  case O_TRAIN: o->train = 1; break;
  case O_LOSS:
    if (train_check_loss(val) < 0) return bad_usage("%s", ir_last_error());
    o->spec.loss = val;
    o->loss_set = 1;
    break;
  case O_OPTIMIZER:
    if (train_parse_optimizer(&o->spec, val) < 0) return bad_usage("%s", ir_last_error());
    o->optimizer_set = 1;
    break;
  case O_FREEZE:
    for (char *tok = strtok(val, ","); tok; tok = strtok(NULL, ",")) {
      if (o->spec.n_frozen == TRAIN_MAX_FROZEN) return bad_usage("--freeze: more than %s names", "256");
      o->spec.frozen[o->spec.n_frozen++] = tok;
    }
    break;
  case O_STEPS:
    if (parse_int64(val, &v) < 0 || v < 1 || v > 1000000) return bad_usage("--steps takes a count from 1 (got '%s')", val);
    o->steps = (int)v;
    break;
  case O_THREADS:
    if (parse_int64(val, &v) < 0 || v < 1 || v > CLI_MAX_THREADS) {
      char fmt[96];
      cli_fmt(fmt, sizeof fmt, "--threads takes a number from 1 to %d, not '%%s'", CLI_MAX_THREADS);
      return bad_usage(fmt, val);
    }
    o->threads = o->passes.threads = (int)v;
    break;
  case O_SEED:
  case O_MAX_BYTES:
    if (parse_int64(val, &v) < 0 || v < 0 || (options[k].id == O_MAX_BYTES && v == 0))
      return bad_usage("bad number '%s'", val);
    if (options[k].id == O_SEED) o->seed = (uint64_t)v;
    else o->max_bytes = v;
    break;
  case O_RTOL:
  case O_ATOL:
    d = strtod(val, &end);
    if (end == val || *end || !(d >= 0)) return bad_usage("bad tolerance '%s'", val);
    if (options[k].id == O_RTOL) o->rtol = d;
    else o->atol = d;
    break;
  case O_SHAPE: {
    char *dims = split_eq(val);
    if (!dims || o->n_shapes == CLI_MAX_BIND) return bad_usage("--shape takes NAME=d0,d1,... (got '%s')", val);
    ir_shape_binding *b = &o->shapes[o->n_shapes++];
    b->name = val;
    if (parse_dims(dims, b) < 0) return bad_usage("bad dimensions in --shape %s", val);
    break;
  }
  case O_DIM: {
    char *n = split_eq(val);
    if (!n || o->n_dims == CLI_MAX_BIND || parse_int64(n, &v) < 0 || v < 0)
      return bad_usage("--dim takes SYMBOL=N (got '%s')", val);
    o->dims[o->n_dims].name = val;
    o->dims[o->n_dims++].value = v;
    break;
  }
  case O_CONST:
  case O_INPUT: {
    char *file = split_eq(val);
    int is_const = options[k].id == O_CONST;
    int *cnt = is_const ? &o->n_consts : &o->n_inputs;
    cli_file_binding *arr = is_const ? o->consts : o->inputs;
    if (!file || *cnt == CLI_MAX_BIND) return bad_usage("%s takes NAME=FILE", a);
    arr[*cnt].name = val;
    arr[(*cnt)++].file = file;
    break;
  }
  }
  return 0;
}

int main(int argc, char **argv) {
  static cli_opts o;
  unsigned bit = 0;
  memset(&o, 0, sizeof o);
  o.cc = "cc";
  o.rtol = 1e-3;
  o.atol = 1e-4;
  o.seed = 1;
  o.max_bytes = FE_DEFAULT_MAX_BYTES;
  pass_options_default(&o.passes);
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("modelc %s\n", MODELC_VERSION);
    return 0;
  }
  o.cmd = argv[1];
  o.pos = calloc((size_t)argc, sizeof *o.pos);
  if (!o.pos) return 1;
  for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
    if (!strcmp(commands[c].name, o.cmd)) bit = commands[c].bit;
  if (!bit) return bad_usage("unknown command '%s'", o.cmd);
  int rtol_set = 0, atol_set = 0;
  for (int i = 2; i < argc; i++) {
    char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(cmd_help(o.cmd), stdout);
      return 0;
    }
    if (a[0] != '-' || !a[1]) {
      o.pos[o.n_pos++] = a;
      continue;
    }
    int k = 0;
    while (k < N_OPTIONS && !(options[k].id == O_NO_PASS
                                  ? is_pass_switch(a)
                                  : !strcmp(a, options[k].name) || (options[k].alias && !strcmp(a, options[k].alias))))
      k++;
    if (k == N_OPTIONS) return bad_usage("unknown option '%s'", a);
    if (options[k].not_yet) {
      fprintf(stderr, "modelc: option %s is not implemented yet (%s)\n", a, options[k].not_yet);
      return 2;
    }
    if (!(options[k].cmds & bit)) {
      fprintf(stderr, "modelc: option %s does not apply to 'modelc %s' (see modelc %s --help)\n", a, o.cmd, o.cmd);
      return 2;
    }
    char *val = NULL;
    if (options[k].has_value) {
      if (i + 1 >= argc) return bad_usage("option %s needs a value", a);
      val = argv[++i];
    }
    int rc = apply_option(&o, k, a, val);
    if (rc) return rc;
    rtol_set |= options[k].id == O_RTOL;
    atol_set |= options[k].id == O_ATOL;
  }
  if (!o.train && (o.loss_set || o.optimizer_set || o.spec.n_frozen || o.steps))
    return bad_usage("--loss, --optimizer, --freeze and --steps go with --train (%s)", "docs/training.md");
  if (o.train && o.bisect) return bad_usage("check --train has no --bisect yet%s", "");
  if (!strcmp(o.cmd, "update-weights")) {
    if (o.n_pos != 2) return bad_usage("%s needs MODEL and W.npz", o.cmd);
    if (!o.outdir) return bad_usage("%s needs -o OUT.onnx", o.cmd);
    return cmd_update_weights(&o);
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
  if (!strcmp(o.cmd, "fmt")) {
    if (o.n_pos != 1) return bad_usage("%s needs exactly one FILE", o.cmd);
    return cmd_fmt(&o);
  }
  if (o.n_pos != 1) return bad_usage("%s needs exactly one MODEL", o.cmd);
  if (!strcmp(o.cmd, "export")) {
    if (!o.outdir) return bad_usage("%s needs -o OUT.onnx", o.cmd);
    return cmd_export(&o);
  }
  if (!strcmp(o.cmd, "compile")) {
    if (!o.outdir) return bad_usage("%s needs -o DIR", o.cmd);
    return o.train ? cmd_compile_train(&o) : cmd_compile(&o);
  }
  if (!strcmp(o.cmd, "run")) return cmd_run(&o);
  if (!strcmp(o.cmd, "check")) return o.train ? cmd_check_train(&o) : cmd_check(&o);
  if (!strcmp(o.cmd, "info")) return o.train ? cmd_info_train(&o) : cmd_info(&o);
  return cmd_graph(&o);
}
