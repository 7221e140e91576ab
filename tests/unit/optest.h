/*
 * optest.h - the helpers every op test program (tests/unit/test_ops_*.c)
 * used to carry its own copy of: building one-node graphs, validate +
 * infer, running a node through the interpreter, comparing values, and
 * emitting a graph as C, compiling it with cc (and clang) and comparing
 * the result with the interpreter.
 *
 * Conventions: everything here fails the running CMocka test (fail_msg)
 * rather than returning an error, except the ot_prepare/ot_interp pair,
 * whose result the tests assert on.  Values cross the API as doubles and
 * are converted to and from each tensor's dtype with kutil's kstore_f /
 * kload_f, so one table of numbers serves every dtype.  The library is
 * built once (tests/CMakeLists.txt) and linked into every unit test; its
 * name does not start with test_ so the glob does not take it for a test.
 *
 * Include it after <cmocka.h> and its prerequisites.
 */
#ifndef OPTEST_H
#define OPTEST_H

#include <stdint.h>
#include <stdio.h>

#include "compiler/ir/ir.h"

/* Compound literals for tables in calls: values, dims and input lists. */
#define D(...) ((const double[]){__VA_ARGS__})
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((ir_tensor *[]){__VA_ARGS__})

/* ---- graph building ------------------------------------------------------- */

/* A tensor of `role` with a fixed shape (rank 0: scalar). */
ir_tensor *ot_tensor_as(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, ir_role role);
/* An IR_INPUT tensor that is not (yet) a graph input. */
ir_tensor *ot_tensor(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims);
/* An IR_INPUT tensor added to the graph's inputs. */
ir_tensor *ot_input(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims);
/* A constant from doubles, converted to dt (ir_numel values read). */
ir_tensor *ot_const(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const double *vals);
/* A constant from raw bytes already in dt's layout. */
ir_tensor *ot_const_raw(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const void *data);
/* A 1-D int64 constant of cnt elements. */
ir_tensor *ot_const_ints(ir_graph *g, const char *name, int cnt, const int64_t *v);
/* A node named n<k> (k counts up over the program) reading in[] (NULL:
 * missing) and writing n_out fresh tensors n<k>_y0.. of undefined type. */
ir_node *ot_node(ir_graph *g, const char *op, int opset, int n_in, ir_tensor *const *in, int n_out);
/* A node with the given name and output names (n_out of them). */
ir_node *ot_node_named(ir_graph *g, const char *name, const char *op, int opset, int n_in, ir_tensor *const *in,
                       int n_out, const char *const *outs);

/* ONNX's Gradient node (ai.onnx.preview.training) writing dy/dxs[i] into
 * dxs[i] (tensors the caller made), validated; a failure fails the test. */
ir_node *ot_gradient(ir_graph *g, const ir_tensor *y, int nx, ir_tensor *const *xs, ir_tensor *const *dxs);

/* ---- validation and inference --------------------------------------------- */

/* op_validate + the entry's infer; returns their result. */
int ot_prepare(ir_graph *g, ir_node *n);
/* ot_prepare must succeed. */
void ot_ok(ir_graph *g, ir_node *n);
/* ot_prepare must fail with a message containing `part`. */
void ot_fails(ir_graph *g, ir_node *n, const char *part);
/* The last error must mention `needle` and name the node `node_name`. */
void ot_expect_error(const char *needle, const char *node_name);

/* ---- running the interpreter ---------------------------------------------- */

/* Run n with its runtime inputs given as doubles (vals[i], converted to
 * input i's dtype; constants use their data); returns output j as doubles
 * (malloc, freed by ot_expect_vals). */
double *ot_run(const ir_node *n, int j, const double *const *vals);
/* n's interp entry on raw buffers; returns its result. */
int ot_interp(const ir_node *n, const void *const *in, void *const *out);

/* ---- comparing ------------------------------------------------------------ */

/* |got - want| <= tol element by element (NaN matches NaN), then frees got. */
void ot_expect_vals(double *got, const double *want, int cnt, double tol);
/* |got - want| <= tol * (1 + |want|); got is left alone. */
void ot_expect_rel(const double *got, const double *want, int cnt, double tol);
/* float results against doubles: |got - want| < 1e-5. */
void ot_expect_floats(const float *got, const double *want, int cnt);
void ot_expect_i64s(const int64_t *got, const int64_t *want, int cnt);
void ot_expect_shape(const ir_tensor *t, int rank, const int64_t *dims);

/* ---- emitted C against the interpreter ------------------------------------ */

typedef struct ot_cc_opts {
  const char *tag;       /* the work folder is /tmp/<tag>_XXXXXX */
  const char *keep_env;  /* when this variable is set, the folder is kept */
  const char *cc_flags;  /* optimisation/debug flags for cc, "-O2" */
  int clang_sanitize;    /* 1: build and run under clang's ASan+UBSan; 0: clang -c m.c only */
  int nan_equal;         /* NaN from both sides counts as a match */
  double (*rnd)(void);   /* random input values; NULL: ot_rnd */
} ot_cc_opts;

/* Uniform in [-3, 3) from a fixed LCG; ot_rnd_seed restarts the stream. */
double ot_rnd(void);
void ot_rnd_seed(unsigned seed);
/* `cmd --version` runs. */
int ot_have(const char *cmd);
/* cc and clang both run, or the current test is skipped (cmocka skip()):
 * a test that builds emitted C and cannot must say SKIPPED, not OK. */
void ot_need_compilers(void);
/* Writes text to path; 0 or -1. */
int ot_write_file(const char *path, const char *text);
/* The whole file, NUL-terminated, malloc'd (its length in *len when len is
 * not NULL); NULL when it cannot be opened. */
char *ot_slurp(const char *path, size_t *len);
/* system() on the printf-formatted command: its exit status, -1 when it did not exit. */
int ot_sh(const char *fmt, ...);
/* path as a .npy (descr "<f4", "<i8", ...), or the current test fails with npy_write's message. */
void ot_write_npy(const char *path, const char *descr, int rank, const int64_t *shape, const void *data);

/* The pieces of ot_compile_and_compare, for tests with their own inputs:
 * plan + emit g as model "m" into a fresh /tmp/<tag>_XXXXXX (dir holds 64). */
void ot_emit_tmp(ir_graph *g, const char *tag, char *dir);
/* dir/drv.c: m_infer on `inputs` as literal arrays, all outputs raw to dir/y.bin. */
void ot_write_driver(const ir_graph *g, const char *dir, void *const *inputs);
/* Build m.c + m_weights.c + drv.c with cc (strict flags) and run it; then clang as opts says.
 * Skips the test (ot_need_compilers) when either compiler is missing. */
void ot_build_run(const char *dir, const ot_cc_opts *o);
/* dir/y.bin, output j of g: a malloc'd buffer of its bytes. */
void *ot_read_output(const ir_graph *g, const char *dir, int j);
/* Remove dir unless keep_env (may be NULL) is set. */
void ot_cleanup(const char *dir, const char *keep_env);

/* g holds one inferred node whose inputs are all graph inputs: random
 * inputs (integers in [-6, 6), unsigned ones non-negative, bools from the
 * sign), the interpreter, emit, cc, clang, compare every output within
 * tol * (1 + |interpreter|).  Skipped (cmocka skip()) without cc or clang. */
void ot_compile_and_compare(ir_graph *g, double tol, const ot_cc_opts *o);

#endif
