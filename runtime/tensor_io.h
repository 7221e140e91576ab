/*
 * tensor_io.h - load and save the tensor files a user hands the CLI.
 *
 * Input files are .npy (format 1.0-3.0) or ONNX TensorProto .pb, told apart
 * by content (the .npy magic) rather than by name; outputs are written as
 * .npy.  Errors go through ir_error() and name the file; functions return 0
 * on success and -1 on failure.
 */
#ifndef MODELC_TENSOR_IO_H
#define MODELC_TENSOR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "../compiler/ir/ir.h"

typedef struct tio_tensor {
  ir_dtype dtype;
  int rank;
  int64_t shape[IR_MAX_RANK];
  void *data;       /* nbytes of C-order little-endian elements, malloc'd; non-NULL after a load */
  size_t nbytes;
} tio_tensor;

/* Load a .npy or .pb file into t, refusing more than max_bytes (> 0) of
 * data before allocating it: the limit is the model's size for the tensor
 * where that is known, else --max-bytes.  The file may be a pipe or a
 * device: it is read front to back, never past what its header declares.
 * Returns 0; TIO_TOO_LARGE with t's dtype, rank and shape set to what the
 * file declares (data NULL), for the caller's message; or -1 (t zeroed). */
#define TIO_TOO_LARGE (-2)
int tio_load(const char *path, int64_t max_bytes, tio_tensor *t);
/* Write a .npy file; dtypes without a numpy equivalent (bfloat16) are refused. */
int tio_save_npy(const char *path, ir_dtype dt, int rank, const int64_t *shape, const void *data);
/* Release t's data and zero it; safe to call twice. */
void tio_free(tio_tensor *t);

/* The file names (without ".npy") that n output tensors are written under:
 * each name with every character outside [A-Za-z0-9._-] as '_' (DESIGN.md);
 * when several outputs map to the same file name, the first in output order
 * keeps it and each later one gets the first of ".2", ".3", ... that no
 * other output's file name uses ("y/1" and "y:1": y_1.npy and y_1.2.npy).
 * The CLI (run, check) and the generated harness both use these names.
 * Returns n malloc'd strings in a malloc'd array; tio_free_file_names. */
char **tio_output_file_names(int n, const char *const *names);
void tio_free_file_names(int n, char **files);

/* "<f4", "|u1", "|b1", ... or NULL when numpy has no such dtype. */
const char *tio_npy_descr(ir_dtype dt);
/* The IR dtype of a numpy descr ("<f4", "f4", "|b1", "?"), IR_UNDEF if unsupported. */
ir_dtype tio_dtype_from_descr(const char *descr);

#endif
