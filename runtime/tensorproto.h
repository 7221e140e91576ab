/*
 * tensorproto.h - decode an ONNX TensorProto into raw little-endian
 * elements of the IR's dtype.
 *
 * Used by the ONNX frontend for initializers and Constant values, and by
 * tensor_io.c for the .pb files of ONNX's test data.  The decoder trusts
 * nothing in the message: dims, element counts, byte totals and data
 * lengths are all checked, and external data is read only from regular
 * files that really lie inside the model's directory.
 *
 * Conventions: 0 on success; -1 after ir_error() with a one-line message
 * naming the tensor.  Data returned is malloc'd (release with free()); for
 * an empty tensor it is still a valid non-NULL pointer.  A max_bytes <= 0
 * means no limit.
 */
#ifndef MODELC_TENSORPROTO_H
#define MODELC_TENSORPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../compiler/ir/ir.h"
#include "onnx.pb-c.h"

/* What tp_decode and tp_read_file return when the tensor holds more than
 * max_bytes: *dt, *rank and dims are set to what it declares, no data. */
#define TP_TOO_LARGE (-2)

/* Decode tp.  dims must hold IR_MAX_RANK entries.  base_dir is the directory
 * of the model file, against which external data locations are resolved;
 * NULL refuses external data. */
int tp_decode(const Onnx__TensorProto *tp, const char *base_dir, int64_t max_bytes, ir_dtype *dt,
              int *rank, int64_t *dims, void **data, size_t *nbytes);

/* Read a .pb file holding one serialized TensorProto (as in ONNX test data
 * sets), or a pipe or device holding one: it is read field by field, each
 * length held to the limit before its bytes are read, never slurped whole.
 * External data is resolved against the file's own directory.
 * *name receives a malloc'd copy of the tensor's name ("" if it has none). */
int tp_read_file(const char *path, int64_t max_bytes, char **name, ir_dtype *dt, int *rank,
                 int64_t *dims, void **data, size_t *nbytes);
/* The same from f, open at the start of the message; path is for messages. */
int tp_read_stream(FILE *f, const char *path, int64_t max_bytes, char **name, ir_dtype *dt, int *rank,
                   int64_t *dims, void **data, size_t *nbytes);

#endif
