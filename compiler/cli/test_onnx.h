/*
 * test_onnx.h - the pieces of `modelc test-onnx` (compiler/cli/test_onnx*.c).
 *
 * A test goes through two phases.  Preparing it (test_onnx_case.c) loads the
 * model, then the data sets, specializes the inputs an op needs at compile
 * time, runs the interpreter on every data set and emits one C model per
 * distinct set of compile-time values ("variant") into a shared batch
 * folder.  The batch (test_onnx_batch.c) then builds every variant of ~50
 * tests into one program with a generated dispatcher, runs it on each data
 * set and compares.  test_onnx.c schedules batches over worker processes and
 * prints the results in the order the folders were given.
 */
#ifndef MODELC_TEST_ONNX_H
#define MODELC_TEST_ONNX_H

#include "cli.h"
#include "../../runtime/tensor_io.h"

#define TO_MAX_SETS 16
#define TO_MAX_IO 64

enum { TO_PASS, TO_FAIL, TO_UNSUPPORTED, TO_PENDING };

typedef struct to_set {
  char *name;                       /* "test_data_set_0" */
  int n_in, n_out;
  tio_tensor in[TO_MAX_IO], out[TO_MAX_IO];
} to_set;

/* One compiled model: the data sets that share its compile-time values. */
typedef struct to_variant {
  char cname[48];                   /* C prefix in the batch folder: "t12_0" */
  int n_sets, sets[TO_MAX_SETS];
  int n_in, in_map[TO_MAX_IO];      /* runtime input k is data-set input in_map[k] */
  int64_t in_bytes[TO_MAX_IO];
  int n_out;
  ir_dtype out_dt[TO_MAX_IO];
  int out_rank[TO_MAX_IO];
  int64_t out_shape[TO_MAX_IO][IR_MAX_RANK];
  char *out_name[TO_MAX_IO];
  int driver_idx;                   /* entry in the batch's dispatcher, -1 if not built */
} to_variant;

typedef struct to_case {
  int idx;                          /* position on the command line */
  const char *dir;
  int status;                       /* TO_PASS ... TO_PENDING */
  char why[700];
  char note[300];                   /* verbose: inputs specialized from the data */
  int n_sets;
  to_set *sets;
  int n_var;
  to_variant var[TO_MAX_SETS];
} to_case;

/* Phase 1: everything up to emitting C into bdir.  Leaves c->status
 * TO_PENDING when the compiled C still has to be run. */
void to_prepare(const cli_opts *o, to_case *c, const char *bdir);
/* Does an error message say that modelc lacks something (rather than a bug)? */
int to_is_unsupported(const char *msg);
/* The test's main op: the single node's op_type, the op the folder is named
 * after, the op of the unexpanded sibling of an *_expanded test, or else the
 * folder name. */
void to_main_op(const char *dir, char *buf, size_t n);
/* Compare got (dtype dt, shape rank/shape) against want; fills why. */
int to_match(const cli_opts *o, const char *who, const char *tname, ir_dtype dt, int rank, const int64_t *shape,
             const void *got, const tio_tensor *want, char *why, size_t n);

/* Phase 2: build the pending cases' variants in bdir as one program, run
 * them on their data sets and settle every pending case. */
void to_run_batch(const cli_opts *o, to_case **cases, int n, const char *bdir);

#endif
