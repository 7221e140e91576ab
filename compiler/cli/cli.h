/*
 * cli.h - what the subcommands of `modelc` share: parsed options, model
 * loading through the passes, input files, and comparing tensors.
 * Only the CLI knows every stage; this is where they are wired together.
 */
#ifndef MODELC_CLI_H
#define MODELC_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../ir/ir.h"
#include "../onnx/onnx_load.h"
#include "../passes/passes.h"
#include "../passes/train.h"

#define CLI_MAX_BIND 64
#define CLI_MAX_THREADS 1024       /* compile --threads: more is surely a typo */

typedef struct cli_file_binding {
  const char *name, *file;
} cli_file_binding;

typedef struct cli_opts {
  const char *cmd;
  int n_pos;
  const char **pos;                /* positional arguments (MODEL, DIR...), argc entries */
  const char *outdir, *name, *cc, *format;
  const char *memory_svg;          /* info: draw the memory plan into this SVG file */
  ir_shape_binding shapes[CLI_MAX_BIND];
  int n_shapes;
  ir_dim_binding dims[CLI_MAX_BIND];
  int n_dims;
  cli_file_binding consts[CLI_MAX_BIND], inputs[CLI_MAX_BIND];
  int n_consts, n_inputs;
  int emit_main, threads, keep, verbose;
  int profile;                     /* compile: NAME_infer calls a timing hook around each node */
  int bisect;                      /* check: name the pass whose switch-off makes it pass */
  int no_bind;                     /* load without the op table (export writes attributes as written) */
  double rtol, atol;
  int64_t max_bytes;
  uint64_t seed;
  pass_options passes;
  /* --train (compile, info, check): the spec from --loss/--optimizer/--freeze */
  int train, loss_set, optimizer_set, steps;
  train_spec spec;
} cli_opts;

/* A model format: the extension that selects it, a test on the file's first
 * bytes (NULL: none), its loader (which ends in fe_finish), and, for
 * formats with source positions, a way to point at the source when a later
 * stage fails with msg (returns 1 when it printed a located diagnostic). */
typedef struct cli_frontend {
  const char *name, *ext;
  int (*sniff)(const unsigned char *head, size_t n);
  ir_graph *(*load)(const char *path, const fe_opts *o);
  int (*explain)(const char *path, const char *msg);
} cli_frontend;
/* The frontend for a model file (frontends.c): by extension, then content. */
const cli_frontend *cli_frontend_for(const char *path);

/* Load MODEL with the --shape/--dim/--const bindings and run the passes. */
ir_graph *cli_load(const cli_opts *o, const char *model, int run_passes);
/* Values for g's runtime inputs: from --input files (checked against the
 * model's dtype and shape) or seeded random.  bufs[i] malloc'ed. */
int cli_inputs(const cli_opts *o, const ir_graph *g, void **bufs);
void cli_free_inputs(const ir_graph *g, void **bufs);

/* Compare got against want (n elements of dt) with |g-w| <= atol + rtol*|w|
 * (exact for integers and bools).  Returns 1 when within tolerance; fills
 * the largest absolute difference and the index of the first bad element. */
int cli_close(ir_dtype dt, const void *got, const void *want, int64_t n, double rtol, double atol,
              double *max_abs, int64_t *first_bad);

/* snprintf without gcc's truncation warnings: what is built here is cut at
 * n.  Returns the characters written (not counting the NUL). */
int cli_fmt(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* mkdir -p (commands.c); 0 or -1 with an error naming the folder. */
int cli_mkdir_p(const char *dir);
/* NAME of the generated files: --name or the model file's stem, as a C identifier (commands.c). */
void cli_model_name(const cli_opts *o, const char *model, char *buf, size_t n);

/* Run a shell command; returns its exit status (or -1). */
int cli_system(const char *cmd);
/* Run a shell command with its stdout and stderr (the shell's own included)
 * in the file log; returns its exit status, 128+N for signal N, or -1. */
int cli_system_log(const char *cmd, const char *log);
/* Create a fresh folder $TMPDIR/PREFIX-XXXXXX (/tmp without TMPDIR) into buf. */
int cli_tmpdir(char *buf, size_t n, const char *prefix);
/* Build the C files of a compiled model (NAME.c, NAME_weights.c, NAME_main.c) in DIR into DIR/NAME_main.
 * On failure the error quotes the log's telling line and names DIR/build.log, which is kept. */
int cli_build(const char *cc, const char *dir, const char *name);

int cmd_compile(cli_opts *o);
int cmd_run(cli_opts *o);
int cmd_check(cli_opts *o);
int cmd_info(cli_opts *o);
int cmd_graph(cli_opts *o);
int cmd_test_onnx(cli_opts *o);
int cmd_ops(cli_opts *o);
int cmd_convert(cli_opts *o);
int cmd_fmt(cli_opts *o);      /* dsl_tools.c */
/* `info`'s line on the training setup a model carries (nothing without one). */
void cli_print_train(const ir_graph *g);
int cmd_export(cli_opts *o);

/* train_cmds.c: --train and update-weights. */
/* The training step of MODEL (train.c) after the passes, from the flags or
 * the model's train block; NULL with *usage set when the spec is wrong
 * (exit 2), else unset (bad input, exit 1). */
ir_graph *cli_load_train(const cli_opts *o, const char *model, int *usage);
int cmd_compile_train(cli_opts *o);
int cmd_info_train(cli_opts *o);
int cmd_check_train(cli_opts *o);
int cmd_update_weights(cli_opts *o);

/* The memory plan as people see it (plan_view.c): the planner's buffers
 * sorted by offset, listed by `info`, drawn as an SVG file. */
struct plan_buffer;
void cli_sort_buffers(struct plan_buffer *bufs, int n);
void cli_print_buffers(const struct plan_buffer *bufs, int n);
int cli_memory_svg(const char *path, const ir_graph *g, const struct plan_buffer *bufs, int n);

#endif
