/*
 * npz.h - read NumPy .npz weight sets: a zip archive of .npy members, as
 * np.savez writes it (stored, not compressed; zip64 records understood).
 *
 * The whole archive is read into memory (up to max_bytes) and every member
 * is parsed with npy_parse, so a member's key is its file name without the
 * ".npy".  np.savez_compressed archives are refused with a message saying
 * so.  Hostile archives (offsets past the end, overlapping sizes, absurd
 * counts) are errors, never crashes.
 */
#ifndef MODELC_NPZ_H
#define MODELC_NPZ_H

#include <stddef.h>
#include <stdint.h>

#ifndef MODELC_NPY_H   /* pasted after npy.h into --train harnesses */
#include "npy.h"
#endif

typedef struct npz_member {
  char *key;                /* "fc1.weight" for the member "fc1.weight.npy" */
  npy_array a;
} npz_member;

typedef struct npz_file {
  int n;
  npz_member *m;
} npz_file;

/* 0 on success; -1 with a one-line message in err. */
int npz_read(const char *path, int64_t max_bytes, npz_file *z, char *err, size_t errlen);
/* The member named key, or NULL. */
const npz_member *npz_find(const npz_file *z, const char *key);
void npz_free(npz_file *z);

#endif
