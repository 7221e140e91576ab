/*
 * tensorproto.c - TensorProto to raw elements (see tensorproto.h).
 *
 * A TensorProto carries its elements in exactly one of: raw_data (fixed
 * width, little-endian), a typed repeated field (float_data, int32_data for
 * every type of 16 bits or less, int64_data, double_data, uint64_data for
 * uint32/uint64), or an external file named by external_data.  We decode
 * whichever is present into one malloc'd buffer in the IR's dtype, refusing
 * a message that holds two of them, values that do not fit the declared
 * type, and any count that disagrees with dims.  This code assumes a
 * little-endian host, like the rest of modelc.
 *
 * External data is the one place where a model file names other files, so
 * the path rules are strict: relative, no ".." component, and after
 * resolving symlinks (realpath) still inside the model's directory and a
 * regular file.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath() */
#endif
#include "tensorproto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

static const char *tname(const Onnx__TensorProto *tp) {
  return tp->name && tp->name[0] ? tp->name : "(unnamed)";
}

/* Strict decimal for external_data's offset and length. */
static int parse_count(const char *s, int64_t *v) {
  int64_t x = 0;
  if (!s || !*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    if (x > (INT64_MAX - (*s - '0')) / 10) return -1;
    x = x * 10 + (*s - '0');
  }
  *v = x;
  return 0;
}

/* A location is acceptable when it is relative and no component is "..";
 * both separators count, since models are also written on Windows. */
static int safe_location(const char *loc) {
  const char *p = loc;
  if (!*loc || loc[0] == '/' || loc[0] == '\\') return 0;
  while (*p) {
    size_t n = strcspn(p, "/\\");
    if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
    p += n;
    if (*p) p++;
  }
  return 1;
}

/* Is the resolved path f strictly inside the resolved directory d? */
static int path_inside(const char *d, const char *f) {
  size_t n = strlen(d);
  if (n == 1 && d[0] == '/') return f[0] == '/' && f[1] != '\0';
  return strncmp(d, f, n) == 0 && f[n] == '/' && f[n + 1] != '\0';
}

/* Read the external bytes of tp into out, which holds exactly want bytes. */
static int read_external(const Onnx__TensorProto *tp, const char *base_dir, size_t want, void *out) {
  const char *loc = NULL, *off_s = NULL, *len_s = NULL;
  char *rdir = NULL, *rfile = NULL, *joined = NULL;
  int64_t off = 0, len = -1;
  struct stat st;
  FILE *f = NULL;
  size_t i, jn;
  int rc = -1;

  for (i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (!e || !e->key) continue;
    if (strcmp(e->key, "location") == 0) loc = e->value;
    else if (strcmp(e->key, "offset") == 0) off_s = e->value;
    else if (strcmp(e->key, "length") == 0) len_s = e->value;
  }
  if (!base_dir)
    return ir_error("tensor '%s': external data is not allowed here (no model directory)", tname(tp));
  if (!loc || !*loc) return ir_error("tensor '%s': external data without a location", tname(tp));
  if (!safe_location(loc))
    return ir_error("tensor '%s': external data location '%s' must be a relative path without '..'",
                    tname(tp), loc);
  if (off_s && parse_count(off_s, &off) != 0)
    return ir_error("tensor '%s': bad external data offset '%s'", tname(tp), off_s);
  if (len_s && parse_count(len_s, &len) != 0)
    return ir_error("tensor '%s': bad external data length '%s'", tname(tp), len_s);

  jn = strlen(base_dir) + strlen(loc) + 2;
  joined = ir_alloc(jn);
  snprintf(joined, jn, "%s/%s", base_dir, loc);
  rdir = realpath(base_dir, NULL);
  rfile = realpath(joined, NULL);
  if (!rdir) {
    ir_error("tensor '%s': cannot resolve model directory '%s': %s", tname(tp), base_dir, strerror(errno));
    goto done;
  }
  if (!rfile) {
    ir_error("tensor '%s': cannot open external data '%s': %s", tname(tp), joined, strerror(errno));
    goto done;
  }
  if (!path_inside(rdir, rfile)) {
    ir_error("tensor '%s': external data '%s' resolves outside the model directory", tname(tp), loc);
    goto done;
  }
  if (stat(rfile, &st) != 0 || !S_ISREG(st.st_mode)) {
    ir_error("tensor '%s': external data '%s' is not a regular file", tname(tp), loc);
    goto done;
  }
  if (off > (int64_t)st.st_size) {
    ir_error("tensor '%s': external data offset %lld is past the end of '%s' (%lld bytes)", tname(tp),
             (long long)off, loc, (long long)st.st_size);
    goto done;
  }
  if (len < 0) len = (int64_t)st.st_size - off;
  if (len > (int64_t)st.st_size - off) {
    ir_error("tensor '%s': external data '%s' holds %lld bytes after offset %lld, length says %lld",
             tname(tp), loc, (long long)((int64_t)st.st_size - off), (long long)off, (long long)len);
    goto done;
  }
  if ((uint64_t)len != (uint64_t)want) {
    ir_error("tensor '%s': external data is %lld bytes, its dims and type need %llu", tname(tp),
             (long long)len, (unsigned long long)want);
    goto done;
  }
  f = fopen(rfile, "rb");
  if (!f || fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(out, 1, want, f) != want) {
    ir_error("tensor '%s': cannot read external data '%s'", tname(tp), loc);
    goto done;
  }
  rc = 0;
done:
  if (f) fclose(f);
  free(rdir);
  free(rfile);
  free(joined);
  return rc;
}

/* Narrow int32_data into a type of 16 bits or less, checking each value. */
static int from_int32(const Onnx__TensorProto *tp, ir_dtype dt, size_t n, void *out) {
  int32_t lo, hi;
  size_t i;
  switch (dt) {
  case IR_I8: lo = INT8_MIN, hi = INT8_MAX; break;
  case IR_I16: lo = INT16_MIN, hi = INT16_MAX; break;
  case IR_U8: lo = 0, hi = UINT8_MAX; break;
  case IR_U16: case IR_F16: case IR_BF16: lo = 0, hi = UINT16_MAX; break; /* f16/bf16: the bit pattern */
  case IR_BOOL: lo = 0, hi = 1; break;
  default: lo = INT32_MIN, hi = INT32_MAX; break;
  }
  for (i = 0; i < n; i++) {
    int32_t v = tp->int32_data[i];
    if (v < lo || v > hi)
      return ir_error("tensor '%s': int32_data[%lu] = %ld does not fit %s", tname(tp), (unsigned long)i,
                      (long)v, ir_dtype_name(dt));
    switch (dt) {
    case IR_I8: ((int8_t *)out)[i] = (int8_t)v; break;
    case IR_I16: ((int16_t *)out)[i] = (int16_t)v; break;
    case IR_U8: case IR_BOOL: ((uint8_t *)out)[i] = (uint8_t)v; break;
    case IR_U16: case IR_F16: case IR_BF16: ((uint16_t *)out)[i] = (uint16_t)v; break;
    default: ((int32_t *)out)[i] = v; break;
    }
  }
  return 0;
}

/* The typed field dt's values live in, with its element count. */
static const char *typed_field(const Onnx__TensorProto *tp, ir_dtype dt, size_t *count) {
  switch (dt) {
  case IR_F32: *count = tp->n_float_data; return "float_data";
  case IR_F64: *count = tp->n_double_data; return "double_data";
  case IR_I64: *count = tp->n_int64_data; return "int64_data";
  case IR_U32: case IR_U64: *count = tp->n_uint64_data; return "uint64_data";
  default: *count = tp->n_int32_data; return "int32_data";
  }
}

int tp_decode(const Onnx__TensorProto *tp, const char *base_dir, int64_t max_bytes, ir_dtype *dt,
              int *rank, int64_t *dims, void **data, size_t *nbytes) {
  ir_dtype t;
  size_t esize, count, other, want, i;
  int64_t numel;
  int external, r;
  const char *field;
  void *buf;

  *data = NULL;
  *nbytes = 0;
  t = ir_dtype_from_onnx(tp->data_type);
  if (tp->data_type == 8 || t == IR_STRING)
    return ir_error("tensor '%s': string tensors are not supported", tname(tp));
  if (t == IR_UNDEF || (esize = ir_dtype_size(t)) == 0)
    return ir_error("tensor '%s': unsupported data type %d", tname(tp), (int)tp->data_type);
  if (tp->segment) return ir_error("tensor '%s': segmented tensors are not supported", tname(tp));
  if (tp->n_dims > IR_MAX_RANK)
    return ir_error("tensor '%s': rank %lu is above the limit of %d", tname(tp), (unsigned long)tp->n_dims,
                    IR_MAX_RANK);
  r = (int)tp->n_dims;
  for (i = 0; i < tp->n_dims; i++) {
    if (tp->dims[i] < 0)
      return ir_error("tensor '%s': dimension %lu is negative (%lld)", tname(tp), (unsigned long)i,
                      (long long)tp->dims[i]);
    dims[i] = tp->dims[i];
  }
  numel = ir_numel_dims(r, dims);
  if (numel < 0 || (uint64_t)numel > SIZE_MAX / esize)
    return ir_error("tensor '%s': element count overflows", tname(tp));
  want = (size_t)numel * esize;
  if (max_bytes > 0 && (uint64_t)want > (uint64_t)max_bytes) {
    *dt = t;   /* what the message declares, for the caller's message */
    *rank = r;
    ir_error("tensor '%s': %llu bytes is above the limit of %lld bytes", tname(tp), (unsigned long long)want,
             (long long)max_bytes);
    return TP_TOO_LARGE;
  }

  /* Exactly one source of data (none at all is fine for an empty tensor). */
  external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  field = typed_field(tp, t, &count);
  other = tp->n_float_data + tp->n_double_data + tp->n_int64_data + tp->n_uint64_data +
          tp->n_int32_data + tp->n_string_data - count;
  if (other > 0)
    return ir_error("tensor '%s': typed data in a field other than %s for %s", tname(tp), field,
                    ir_dtype_name(t));
  if ((external ? 1 : 0) + (tp->has_raw_data ? 1 : 0) + (count ? 1 : 0) > 1)
    return ir_error("tensor '%s': data given in more than one form (raw_data, %s, external)", tname(tp),
                    field);

  /* Check the sizes before allocating: the message must hold what it
   * claims, so a file that is no TensorProto at all (a SequenceProto parsed
   * as one has garbage dims) cannot ask for terabytes. */
  if (!external && tp->has_raw_data && tp->raw_data.len != want)
    return ir_error("tensor '%s': raw_data is %llu bytes, its dims and type need %llu", tname(tp),
                    (unsigned long long)tp->raw_data.len, (unsigned long long)want);
  if (!external && !tp->has_raw_data && count != (size_t)numel)
    return ir_error("tensor '%s': %s holds %llu values, its dims need %lld", tname(tp), field,
                    (unsigned long long)count, (long long)numel);
  buf = malloc(want ? want : 1);
  if (!buf) return ir_error("tensor '%s': out of memory for %llu bytes", tname(tp), (unsigned long long)want);
  if (external) {
    if (read_external(tp, base_dir, want, buf) != 0) goto fail;
  } else if (tp->has_raw_data) {
    if (tp->raw_data.len != want) {
      ir_error("tensor '%s': raw_data is %llu bytes, its dims and type need %llu", tname(tp),
               (unsigned long long)tp->raw_data.len, (unsigned long long)want);
      goto fail;
    }
    if (want) memcpy(buf, tp->raw_data.data, want);
  } else {
    if (count != (size_t)numel) {
      ir_error("tensor '%s': %s holds %llu values, its dims need %lld", tname(tp), field,
               (unsigned long long)count, (long long)numel);
      goto fail;
    }
    switch (t) {
    case IR_F32: if (want) memcpy(buf, tp->float_data, want); break;
    case IR_F64: if (want) memcpy(buf, tp->double_data, want); break;
    case IR_I64: if (want) memcpy(buf, tp->int64_data, want); break;
    case IR_U64: if (want) memcpy(buf, tp->uint64_data, want); break;
    case IR_U32:
      for (i = 0; i < count; i++) {
        if (tp->uint64_data[i] > UINT32_MAX) {
          ir_error("tensor '%s': uint64_data[%lu] does not fit uint32", tname(tp), (unsigned long)i);
          goto fail;
        }
        ((uint32_t *)buf)[i] = (uint32_t)tp->uint64_data[i];
      }
      break;
    default:
      if (from_int32(tp, t, count, buf) != 0) goto fail;
      break;
    }
  }
  if (t == IR_BOOL)
    for (i = 0; i < want; i++) ((uint8_t *)buf)[i] = ((uint8_t *)buf)[i] != 0;
  *dt = t;
  *rank = r;
  *data = buf;
  *nbytes = want;
  return 0;
fail:
  free(buf);
  return -1;
}

/* ---- reading a .pb file ------------------------------------------------- */

/* A .pb file is read by following the protobuf framing of its top-level
 * fields: each length is known before its bytes are read and is held to the
 * limit, so a file that is no message at all (/dev/zero starts with the
 * invalid field number 0) fails at its first bytes, and a huge one is
 * refused before it is read, whether it is a regular file or a stream. */
typedef struct tp_in {
  FILE *f;
  unsigned char *buf;
  size_t len, cap;
  uint64_t limit;   /* most bytes the file may hold */
} tp_in;

/* Append n bytes of the file: 0, 1 at end of file, -1 past the limit. */
static int in_take(tp_in *in, uint64_t n) {
  if (n > in->limit - in->len) return -1;
  while (n > 0) {
    size_t chunk = n < ((size_t)1 << 20) ? (size_t)n : (size_t)1 << 20, got;   /* memory follows what is read */
    if (in->cap - in->len < chunk) {
      size_t cap = in->cap ? in->cap : 4096;
      while (cap - in->len < chunk) cap *= 2;
      in->buf = ir_realloc(in->buf, cap);
      in->cap = cap;
    }
    got = fread(in->buf + in->len, 1, chunk, in->f);
    in->len += got;
    n -= got;
    if (got < chunk) return 1;
  }
  return 0;
}

/* A varint of at most 10 bytes: 0, 1 at end of file, -2 malformed. */
static int in_varint(tp_in *in, uint64_t *v) {
  int i, rc;
  *v = 0;
  for (i = 0; i < 10; i++) {
    if ((rc = in_take(in, 1)) != 0) return rc;
    *v |= (uint64_t)(in->buf[in->len - 1] & 0x7f) << (7 * i);
    if (!(in->buf[in->len - 1] & 0x80)) return 0;
  }
  return -2;
}

/* Read the message into in->buf: 0, or -1 after ir_error(). */
static int read_framed(const char *path, tp_in *in) {
  for (;;) {
    uint64_t tag, n;
    size_t start = in->len;
    int rc = in_varint(in, &tag);
    if (rc == 1 && in->len == start) {   /* the end, between two fields */
      if (start == 0) return ir_error("%s: empty file, not a TensorProto", path);
      return 0;
    }
    if (rc == 0 && (tag >> 3) == 0) rc = -2;
    if (rc == 0) {
      switch (tag & 7) {
      case 0: rc = in_varint(in, &n); break;
      case 1: rc = in_take(in, 8); break;
      case 5: rc = in_take(in, 4); break;
      case 2:
        rc = in_varint(in, &n);
        if (rc == 0) rc = in_take(in, n);
        break;
      default: rc = -2; break;
      }
    }
    if (rc == 1) return ir_error("%s: truncated, or not a serialized ONNX TensorProto", path);
    if (rc == -2) return ir_error("%s: not a serialized ONNX TensorProto", path);
    if (rc < 0) break;
  }
  return ir_error("%s: more than %llu bytes, too large for the tensor it may hold", path,
                  (unsigned long long)in->limit);
}

int tp_read_file(const char *path, int64_t max_bytes, char **name, ir_dtype *dt, int *rank,
                 int64_t *dims, void **data, size_t *nbytes) {
  int rc;
  FILE *f = fopen(path, "rb");
  *name = NULL;
  *data = NULL;
  *nbytes = 0;
  if (!f) return ir_error("%s: cannot open: %s", path, strerror(errno));
  rc = tp_read_stream(f, path, max_bytes, name, dt, rank, dims, data, nbytes);
  fclose(f);
  return rc;
}

int tp_read_stream(FILE *f, const char *path, int64_t max_bytes, char **name, ir_dtype *dt, int *rank,
                   int64_t *dims, void **data, size_t *nbytes) {
  unsigned char *buf;
  size_t size;
  Onnx__TensorProto *tp;
  char *dir, *slash, msg[512];
  struct stat st;
  tp_in in;
  int rc;

  *name = NULL;
  *data = NULL;
  *nbytes = 0;
  memset(&in, 0, sizeof in);
  /* Typed fields are varints of up to 10 bytes per element of at least 1
   * byte; names, dims and the rest get 1 MiB. */
  in.limit = max_bytes > 0 && (uint64_t)max_bytes < (UINT64_MAX >> 8) ? (uint64_t)max_bytes * 10 + ((uint64_t)1 << 20)
                                                                      : SIZE_MAX;
  if (in.limit > SIZE_MAX) in.limit = SIZE_MAX;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) return ir_error("%s: is a folder, not a tensor file", path);
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > in.limit) {
    return ir_error("%s: %llu bytes, more than the %llu a TensorProto of at most %lld bytes of data takes", path,
                    (unsigned long long)st.st_size, (unsigned long long)in.limit, (long long)max_bytes);
  }
  in.f = f;
  rc = read_framed(path, &in);
  if (rc == 0 && ferror(f)) rc = ir_error("%s: cannot read: %s", path, strerror(errno));
  buf = in.buf;
  size = in.len;
  if (rc != 0) {
    free(buf);
    return -1;
  }
  tp = onnx__tensor_proto__unpack(NULL, size, buf);
  free(buf);
  if (!tp)
    return ir_error("%s: not a serialized ONNX TensorProto (a sequence, map or optional value is not supported)",
                    path);
  if (!tp->has_data_type) {
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return ir_error("%s: not a TensorProto (no data_type)", path);
  }

  if (tp->segment) {   /* what a SequenceProto's tensor_values look like when read as a TensorProto */
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return ir_error("%s: a segmented tensor, or not a TensorProto at all (sequence, map and optional values are "
                    "not supported)", path);
  }
  dir = ir_strdup(path);
  slash = strrchr(dir, '/');
  if (!slash) strcpy(dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  rc = tp_decode(tp, dir, max_bytes, dt, rank, dims, data, nbytes);
  free(dir);
  if (rc != 0) {   /* TP_TOO_LARGE passes through with dt, rank and dims */
    snprintf(msg, sizeof msg, "%s", ir_last_error());
    ir_error("%s: %s", path, msg);
  } else {
    *name = ir_strdup(tp->name ? tp->name : "");
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return rc;
}
