/*
 * npy.h - read and write NumPy .npy files (format 1.0 and 2.0; 3.0 headers
 * are read too), little-endian, C order.
 *
 * This header and npy.c are also pasted verbatim (header first) into every
 * generated NAME_main.c harness, so both depend on the C99 library alone,
 * compile cleanly under -std=c99 -pedantic -Wall -Wextra, and every symbol
 * they define carries the npy_ prefix.
 *
 * Conventions:
 *  - A dtype is a numpy descr string.  Supported: <f4 <f8 <f2 |i1 <i2 <i4
 *    <i8 |u1 <u2 <u4 <u8 |b1.  One-byte types may be written with any
 *    byte-order mark; wider ones with '<' or '=' (this is little-endian
 *    code).  Arrays returned by npy_parse/npy_read carry the canonical form
 *    above.  Big-endian ('>') data and fortran_order True are refused.
 *  - Every function returns 0 on success and -1 on failure with a one-line
 *    message (no trailing newline) in err[errlen]; err may be NULL.
 *  - Hostile input (truncated files, absurd shapes, malformed headers) is an
 *    error, never a crash.
 */
#ifndef MODELC_NPY_H
#define MODELC_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPY_MAX_RANK 8

typedef struct npy_array {
  char descr[8];            /* canonical descr, e.g. "<f4", "|u1", "|b1" */
  int rank;                 /* 0 for a scalar */
  int64_t shape[NPY_MAX_RANK];
  void *data;               /* nbytes of C-order little-endian elements (malloc'd, never NULL after success) */
  size_t nbytes;
} npy_array;

/* Bytes per element of a descr, 0 if unsupported (big-endian included). */
size_t npy_descr_size(const char *descr);

/* Parse a whole .npy image held in memory.  Copies the data out of buf. */
int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t errlen);

/* Read a .npy file (or a pipe or device holding one). */
int npy_read(const char *path, npy_array *out, char *err, size_t errlen);

/* npy_read refusing data above max_bytes (0: no limit) before allocating
 * it: then it returns NPY_TOO_LARGE with out's descr, rank and shape set to
 * what the header declares (data NULL), for the caller's message. */
#define NPY_TOO_LARGE (-2)
int npy_read_max(const char *path, size_t max_bytes, npy_array *out, char *err, size_t errlen);
/* The same from f, open at the start of a .npy image; path is for messages. */
int npy_fread(FILE *f, const char *path, size_t max_bytes, npy_array *out, char *err, size_t errlen);

/* Write a .npy file: format 1.0, or 2.0 if the header needs it. */
int npy_write(const char *path, const char *descr, int rank, const int64_t *shape,
              const void *data, char *err, size_t errlen);

/* Format the magic, version, header length and header of a .npy image into
 * buf[cap]; *hlen receives its size (a multiple of 64).  The element data
 * follows it directly.  For writers of other containers, such as .npz. */
int npy_format_header(const char *descr, int rank, const int64_t *shape, unsigned char *buf,
                      size_t cap, size_t *hlen, char *err, size_t errlen);

/* Release a's data and zero it; safe on a zeroed or already freed array. */
void npy_free(npy_array *a);

#endif
