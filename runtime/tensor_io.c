/*
 * tensor_io.c - the CLI's tensor file loader (see tensor_io.h).
 *
 * A thin layer over npy.c and tensorproto.c: it picks the format from the
 * first bytes of the file, maps numpy descr strings to IR dtypes and turns
 * the npy module's error strings into ir_error() messages naming the file.
 */
#include "tensor_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "tensorproto.h"

static const struct {
  ir_dtype dt;
  const char *descr;
} descr_map[] = {
    {IR_F32, "<f4"}, {IR_F64, "<f8"}, {IR_F16, "<f2"}, {IR_I8, "|i1"},  {IR_I16, "<i2"}, {IR_I32, "<i4"},
    {IR_I64, "<i8"}, {IR_U8, "|u1"},  {IR_U16, "<u2"}, {IR_U32, "<u4"}, {IR_U64, "<u8"}, {IR_BOOL, "|b1"},
};
#define N_DESCR (sizeof descr_map / sizeof descr_map[0])

const char *tio_npy_descr(ir_dtype dt) {
  size_t i;
  for (i = 0; i < N_DESCR; i++)
    if (descr_map[i].dt == dt) return descr_map[i].descr;
  return NULL;
}

ir_dtype tio_dtype_from_descr(const char *descr) {
  char canon[8];
  size_t i;
  /* npy_descr_size accepts exactly the descrs npy.c reads (and refuses
   * big-endian ones); past that, match kind and size without the order mark. */
  if (!descr || npy_descr_size(descr) == 0) return IR_UNDEF;
  if (descr[0] == '?') return IR_BOOL;
  snprintf(canon, sizeof canon, "%s", descr + (strchr("<>|=", descr[0]) ? 1 : 0));
  for (i = 0; i < N_DESCR; i++)
    if (strcmp(descr_map[i].descr + 1, canon) == 0) return descr_map[i].dt;
  return IR_UNDEF;
}

void tio_free(tio_tensor *t) {
  if (!t) return;
  free(t->data);
  memset(t, 0, sizeof *t);
}

static int load_npy(FILE *f, const char *path, int64_t max_bytes, tio_tensor *t) {
  npy_array a;
  char err[256];
  ir_dtype dt;
  int rc = npy_fread(f, path, (size_t)max_bytes, &a, err, sizeof err);
  if (rc == NPY_TOO_LARGE) {   /* report what the header declares */
    t->dtype = tio_dtype_from_descr(a.descr);
    t->rank = a.rank < IR_MAX_RANK ? a.rank : IR_MAX_RANK;
    memcpy(t->shape, a.shape, (size_t)t->rank * sizeof a.shape[0]);
    ir_error("%s: %s", path, err);
    return TIO_TOO_LARGE;
  }
  if (rc != 0) return ir_error("%s: %s", path, err);
  dt = tio_dtype_from_descr(a.descr);
  if (dt == IR_UNDEF || a.rank > IR_MAX_RANK) { /* npy.c reads nothing else; kept for safety */
    npy_free(&a);
    return ir_error("%s: unsupported dtype '%s' or rank %d", path, a.descr, a.rank);
  }
  t->dtype = dt;
  t->rank = a.rank;
  memcpy(t->shape, a.shape, (size_t)a.rank * sizeof a.shape[0]);
  t->data = a.data;  /* ownership moves to t */
  t->nbytes = a.nbytes;
  return 0;
}

int tio_load(const char *path, int64_t max_bytes, tio_tensor *t) {
  FILE *f;
  char *name = NULL;
  int rc, first;

  memset(t, 0, sizeof *t);
  if (max_bytes <= 0) return ir_error("%s: internal error: no byte limit for reading it", path);
  f = fopen(path, "rb");
  if (!f) return ir_error("%s: cannot open", path);
  /* Opened once, so that a pipe works: the first byte tells the formats
   * apart, since .npy's 0x93 would start a protobuf group, which a
   * TensorProto never holds. */
  first = fgetc(f);
  if (first != EOF) ungetc(first, f);
  if (first == 0x93) rc = load_npy(f, path, max_bytes, t);
  else rc = tp_read_stream(f, path, max_bytes, &name, &t->dtype, &t->rank, t->shape, &t->data, &t->nbytes);
  fclose(f);
  free(name);
  if (rc == TP_TOO_LARGE) rc = TIO_TOO_LARGE;
  if (rc != 0) {   /* keep only what the header declared */
    free(t->data);
    t->data = NULL;
    t->nbytes = 0;
    if (rc != TIO_TOO_LARGE) memset(t, 0, sizeof *t);
  }
  return rc;
}

static void sanitize(char *out, const char *s) {
  for (; *s; s++) {
    char c = *s;
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
             c == '-';
    *out++ = ok ? c : '_';
  }
  *out = 0;
}

char **tio_output_file_names(int n, const char *const *names) {
  char **plain = ir_alloc(sizeof *plain * (size_t)(n ? n : 1));
  char **files = ir_alloc(sizeof *files * (size_t)(n ? n : 1));
  int i, j;
  for (i = 0; i < n; i++) {
    plain[i] = ir_alloc(strlen(names[i]) + 1);
    sanitize(plain[i], names[i]);
  }
  for (i = 0; i < n; i++) {
    size_t cap = strlen(plain[i]) + 24;
    int k = 1, taken;
    files[i] = ir_alloc(cap);
    do {   /* a suffix must not hit an earlier file nor any output's plain name */
      if (k == 1) snprintf(files[i], cap, "%s", plain[i]);
      else snprintf(files[i], cap, "%s.%d", plain[i], k);
      taken = 0;
      for (j = 0; j < i && !taken; j++) taken = strcmp(files[j], files[i]) == 0;
      for (j = 0; k > 1 && j < n && !taken; j++) taken = strcmp(plain[j], files[i]) == 0;
      k++;
    } while (taken);
  }
  tio_free_file_names(n, plain);
  return files;
}

void tio_free_file_names(int n, char **files) {
  int i;
  if (!files) return;
  for (i = 0; i < n; i++) free(files[i]);
  free(files);
}

int tio_save_npy(const char *path, ir_dtype dt, int rank, const int64_t *shape, const void *data) {
  const char *descr = tio_npy_descr(dt);
  char err[256];
  if (!descr) return ir_error("%s: %s tensors cannot be saved as .npy", path, ir_dtype_name(dt));
  if (npy_write(path, descr, rank, shape, data, err, sizeof err) != 0) return ir_error("%s: %s", path, err);
  return 0;
}
