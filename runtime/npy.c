/*
 * npy.c - the .npy reader and writer declared in npy.h.
 *
 * A .npy file is the magic "\x93NUMPY", a major and minor version byte, the
 * header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), a
 * header that is a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and a newline so that the data starts at a multiple of
 * 64, and then the raw elements.  The header is parsed by a small recursive
 * reader that accepts exactly the literals numpy writes (either quote kind,
 * Python 2 "3L" integers) and nothing else.
 *
 * This file is embedded verbatim into generated harnesses after npy.h, so
 * the include below is guarded by the header's own macro, every helper is
 * static with an npy_ prefix, and only the C99 library is used.  It assumes
 * a little-endian host, like the rest of modelc.
 */
#ifndef MODELC_NPY_H
#include "npy.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Largest element count we accept, so that byte counts and strides computed
 * from it by callers cannot overflow int64_t. */
#define NPY_MAX_NUMEL (INT64_MAX / 16)
/* Longest header we read: numpy writes a few hundred bytes and by default
 * refuses to load more than 10000. */
#define NPY_MAX_HEADER ((size_t)1 << 20)

static int npy_fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Canonical form of descr into out (e.g. "f4" -> "<f4"); element size or 0. */
static size_t npy_canon_descr(const char *descr, char out[8]) {
  char order = '=', kind;
  size_t size;
  const char *p = descr;
  if (!p) return 0;
  if (*p == '<' || *p == '>' || *p == '|' || *p == '=') order = *p++;
  kind = *p;
  if (kind == '\0') return 0;
  p++;
  if (kind == '?') { /* numpy's one-character code for bool */
    if (*p != '\0') return 0;
    kind = 'b';
    size = 1;
  } else {
    if (*p < '1' || *p > '8' || p[1] != '\0') return 0;
    size = (size_t)(*p - '0');
  }
  switch (kind) {
  case 'b': if (size != 1) return 0; break;
  case 'f': if (size != 2 && size != 4 && size != 8) return 0; break;
  case 'i':
  case 'u': if (size != 1 && size != 2 && size != 4 && size != 8) return 0; break;
  default: return 0;
  }
  if (size > 1 && (order == '>' || order == '|')) return 0;
  out[0] = size == 1 ? '|' : '<';
  out[1] = kind;
  out[2] = (char)('0' + (int)size);
  out[3] = '\0';
  return size;
}

size_t npy_descr_size(const char *descr) {
  char c[8];
  return npy_canon_descr(descr, c);
}

/* ---- header dict reader ------------------------------------------------ */

typedef struct npy_cursor {
  const char *p, *end;
} npy_cursor;

static void npy_skip_ws(npy_cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static int npy_eat(npy_cursor *c, char ch) {
  npy_skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A quoted string without escapes into out[cap]; 0 on success. */
static int npy_string(npy_cursor *c, char *out, size_t cap) {
  char q;
  size_t n = 0;
  npy_skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
  q = *c->p++;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= cap) return -1;
    out[n++] = *c->p++;
  }
  if (c->p >= c->end) return -1;
  c->p++;
  out[n] = '\0';
  return 0;
}

static int npy_word(npy_cursor *c, const char *w) {
  size_t n = strlen(w);
  npy_skip_ws(c);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return 1;
  }
  return 0;
}

/* A non-negative decimal integer (optionally with Python 2's 'L'). */
static int npy_uint(npy_cursor *c, int64_t *v) {
  int64_t x = 0;
  int any = 0;
  npy_skip_ws(c);
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    int d = *c->p++ - '0';
    if (x > (INT64_MAX - d) / 10) return -1;
    x = x * 10 + d;
    any = 1;
  }
  if (!any) return -1;
  if (c->p < c->end && *c->p == 'L') c->p++;
  *v = x;
  return 0;
}

/* Parse the header text into a's descr/rank/shape; *nbytes gets the data size. */
static int npy_parse_header(const char *text, size_t len, npy_array *a, size_t *nbytes, char *err,
                            size_t errlen) {
  npy_cursor c;
  char key[32], descr[32];
  int have_descr = 0, have_order = 0, have_shape = 0, i;
  size_t esize;
  uint64_t numel = 1;
  int any_zero = 0;

  c.p = text;
  c.end = text + len;
  if (!npy_eat(&c, '{')) return npy_fail(err, errlen, "npy: header is not a dict");
  while (!npy_eat(&c, '}')) {
    if (npy_string(&c, key, sizeof key) != 0 || !npy_eat(&c, ':'))
      return npy_fail(err, errlen, "npy: malformed header");
    if (strcmp(key, "descr") == 0 && !have_descr) {
      npy_skip_ws(&c);
      if (c.p < c.end && *c.p == '[')
        return npy_fail(err, errlen, "npy: structured dtypes are not supported");
      if (npy_string(&c, descr, sizeof descr) != 0)
        return npy_fail(err, errlen, "npy: malformed descr in header");
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
      if (npy_word(&c, "True"))
        return npy_fail(err, errlen, "npy: fortran_order True is not supported (save a C-order array)");
      if (!npy_word(&c, "False")) return npy_fail(err, errlen, "npy: malformed fortran_order");
      have_order = 1;
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      if (!npy_eat(&c, '(')) return npy_fail(err, errlen, "npy: malformed shape");
      a->rank = 0;
      while (!npy_eat(&c, ')')) {
        int64_t d;
        if (a->rank >= NPY_MAX_RANK)
          return npy_fail(err, errlen, "npy: rank above %d is not supported", NPY_MAX_RANK);
        if (npy_uint(&c, &d) != 0) return npy_fail(err, errlen, "npy: malformed shape");
        a->shape[a->rank++] = d;
        if (!npy_eat(&c, ',')) {
          if (!npy_eat(&c, ')')) return npy_fail(err, errlen, "npy: malformed shape");
          break;
        }
      }
      have_shape = 1;
    } else {
      return npy_fail(err, errlen, "npy: unexpected or repeated header key '%s'", key);
    }
    if (!npy_eat(&c, ',')) {
      if (!npy_eat(&c, '}')) return npy_fail(err, errlen, "npy: malformed header");
      break;
    }
  }
  npy_skip_ws(&c);
  if (c.p != c.end) return npy_fail(err, errlen, "npy: trailing characters after header dict");
  if (!have_descr || !have_order || !have_shape)
    return npy_fail(err, errlen, "npy: header lacks descr, fortran_order or shape");

  esize = npy_canon_descr(descr, a->descr);
  if (esize == 0) {
    if (descr[0] == '>')
      return npy_fail(err, errlen, "npy: big-endian dtype '%s' is not supported (use '<')", descr);
    return npy_fail(err, errlen, "npy: unsupported dtype '%s'", descr);
  }
  for (i = 0; i < a->rank; i++) {
    uint64_t d = (uint64_t)a->shape[i];
    if (d == 0) {
      any_zero = 1;
      continue;
    }
    if (numel > (uint64_t)NPY_MAX_NUMEL / d)
      return npy_fail(err, errlen, "npy: shape is too large");
    numel *= d;
  }
  if (any_zero) numel = 0;
  if (numel > (uint64_t)(SIZE_MAX / esize)) return npy_fail(err, errlen, "npy: shape is too large");
  *nbytes = (size_t)numel * esize;
  return 0;
}

static uint32_t npy_le(const unsigned char *p, int n) {
  uint32_t v = 0;
  while (n-- > 0) v = (v << 8) | p[n];
  return v;
}

/* Check the magic and version in pre[0..12) (n bytes available) and find the
 * header: it starts at *hoff and is *hlen bytes long. */
static int npy_prefix(const unsigned char *pre, size_t n, size_t *hoff, size_t *hlen, char *err,
                      size_t errlen) {
  if (n < 10 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    return npy_fail(err, errlen, "npy: not a .npy file (bad magic)");
  if (pre[6] == 1) {
    *hoff = 10;
    *hlen = npy_le(pre + 8, 2);
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (n < 12) return npy_fail(err, errlen, "npy: truncated header");
    *hoff = 12;
    *hlen = npy_le(pre + 8, 4);
  } else {
    return npy_fail(err, errlen, "npy: unsupported format version %d.%d", pre[6], pre[7]);
  }
  return 0;
}

static void npy_fix_bools(npy_array *a) {
  size_t i;
  unsigned char *b = (unsigned char *)a->data;
  if (strcmp(a->descr, "|b1") != 0) return;
  for (i = 0; i < a->nbytes; i++) b[i] = b[i] != 0; /* numpy reads any non-zero byte as True */
}

int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t errlen) {
  size_t hoff, hlen, nbytes;
  npy_array a;
  memset(out, 0, sizeof *out);
  memset(&a, 0, sizeof a);
  if (!buf) return npy_fail(err, errlen, "npy: no data");
  if (npy_prefix(buf, len, &hoff, &hlen, err, errlen) != 0) return -1;
  if (hlen > len - hoff) return npy_fail(err, errlen, "npy: truncated header");
  if (npy_parse_header((const char *)buf + hoff, hlen, &a, &nbytes, err, errlen) != 0) return -1;
  if (len - hoff - hlen != nbytes)
    return npy_fail(err, errlen, "npy: data is %lu bytes but the header says %lu",
                    (unsigned long)(len - hoff - hlen), (unsigned long)nbytes);
  a.data = malloc(nbytes ? nbytes : 1);
  if (!a.data) return npy_fail(err, errlen, "npy: out of memory for %lu bytes", (unsigned long)nbytes);
  if (nbytes) memcpy(a.data, buf + hoff + hlen, nbytes);
  a.nbytes = nbytes;
  npy_fix_bools(&a);
  *out = a;
  return 0;
}

int npy_fread(FILE *f, const char *path, size_t max_bytes, npy_array *out, char *err, size_t errlen) {
  unsigned char pre[12];
  size_t got, hoff, hlen, nbytes, have;
  char *header = NULL;
  long size;
  int rc = -1;
  npy_array a;

  memset(out, 0, sizeof *out);
  memset(&a, 0, sizeof a);
  got = fread(pre, 1, sizeof pre, f);
  if (npy_prefix(pre, got, &hoff, &hlen, err, errlen) != 0) goto fail;
  /* Everything is read front to back, so that a pipe or a device works
   * like a file and nothing is allocated before it is known to be sane. */
  if (hlen > NPY_MAX_HEADER) {
    npy_fail(err, errlen, "npy: header of %lu bytes is longer than %lu (not a .npy file?)", (unsigned long)hlen,
             (unsigned long)NPY_MAX_HEADER);
    goto fail;
  }
  header = (char *)malloc(hlen ? hlen : 1);
  if (!header) {
    npy_fail(err, errlen, "npy: out of memory for the header of '%s'", path);
    goto fail;
  }
  have = got - hoff < hlen ? got - hoff : hlen; /* pre[] may hold the first bytes of the header */
  memcpy(header, pre + hoff, have);
  if (have < got - hoff || fread(header + have, 1, hlen - have, f) != hlen - have) {
    npy_fail(err, errlen, "npy: truncated header");
    goto fail;
  }
  if (npy_parse_header(header, hlen, &a, &nbytes, err, errlen) != 0) goto fail;
  if (max_bytes && nbytes > max_bytes) {
    memcpy(out->descr, a.descr, sizeof a.descr); /* what the header declares, for the caller's message */
    out->rank = a.rank;
    memcpy(out->shape, a.shape, sizeof a.shape);
    npy_fail(err, errlen, "npy: the header declares %lu bytes of data, above the limit of %lu", (unsigned long)nbytes,
             (unsigned long)max_bytes);
    rc = NPY_TOO_LARGE;
    goto fail;
  }
  /* A seekable file's size is checked before allocating; a stream (or a
   * device, whose "size" is 0) is read for exactly nbytes and then must end. */
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= (long)(hoff + hlen)) {
    if ((unsigned long)size - hoff - hlen != nbytes) {
      npy_fail(err, errlen, "npy: data is %lu bytes but the header says %lu", (unsigned long)size - hoff - hlen,
               (unsigned long)nbytes);
      goto fail;
    }
    if (fseek(f, (long)(hoff + hlen), SEEK_SET) != 0) {
      npy_fail(err, errlen, "npy: cannot seek in '%s'", path);
      goto fail;
    }
  }
  clearerr(f);
  a.data = malloc(nbytes ? nbytes : 1);
  if (!a.data) {
    npy_fail(err, errlen, "npy: out of memory for %lu bytes", (unsigned long)nbytes);
    goto fail;
  }
  if (fread(a.data, 1, nbytes, f) != nbytes) {
    npy_fail(err, errlen, "npy: data of '%s' is shorter than the %lu bytes the header says", path,
             (unsigned long)nbytes);
    goto fail;
  }
  if (fgetc(f) != EOF) {
    npy_fail(err, errlen, "npy: '%s' holds more data than the %lu bytes the header says", path, (unsigned long)nbytes);
    goto fail;
  }
  a.nbytes = nbytes;
  npy_fix_bools(&a);
  free(header);
  *out = a;
  return 0;
fail:
  free(header);
  free(a.data);
  return rc;
}

int npy_read_max(const char *path, size_t max_bytes, npy_array *out, char *err, size_t errlen) {
  int rc;
  FILE *f = fopen(path, "rb");
  if (!f) {
    memset(out, 0, sizeof *out);
    return npy_fail(err, errlen, "npy: cannot open '%s'", path);
  }
  rc = npy_fread(f, path, max_bytes, out, err, errlen);
  fclose(f);
  return rc;
}

int npy_read(const char *path, npy_array *out, char *err, size_t errlen) {
  return npy_read_max(path, 0, out, err, errlen);
}

int npy_format_header(const char *descr, int rank, const int64_t *shape, unsigned char *buf,
                      size_t cap, size_t *hlen, char *err, size_t errlen) {
  char canon[8], dict[512];
  size_t n, pre, total;
  int i, k;

  if (npy_canon_descr(descr, canon) == 0)
    return npy_fail(err, errlen, "npy: unsupported dtype '%s'", descr ? descr : "(null)");
  if (rank < 0 || rank > NPY_MAX_RANK)
    return npy_fail(err, errlen, "npy: rank %d is not supported", rank);
  k = sprintf(dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", canon);
  for (i = 0; i < rank; i++) {
    if (shape[i] < 0) return npy_fail(err, errlen, "npy: negative dimension %d", i);
    k += sprintf(dict + k, i ? ", %lld" : "%lld", (long long)shape[i]);
  }
  k += sprintf(dict + k, rank == 1 ? ",), }" : "), }");
  n = (size_t)k + 1; /* dict text and the final newline */
  /* Format 1.0 stores the header length in 2 bytes; 2.0 in 4. */
  pre = 10;
  total = (pre + n + 63) / 64 * 64;
  if (total - pre > 65535) {
    pre = 12;
    total = (pre + n + 63) / 64 * 64;
  }
  if (total > cap) return npy_fail(err, errlen, "npy: header buffer too small");
  memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
  buf[6] = pre == 10 ? 1 : 2;
  buf[7] = 0;
  for (i = 0; i < (int)pre - 8; i++) buf[8 + i] = (unsigned char)(((total - pre) >> (8 * i)) & 0xff);
  memcpy(buf + pre, dict, (size_t)k);
  memset(buf + pre + k, ' ', total - pre - (size_t)k - 1);
  buf[total - 1] = '\n';
  *hlen = total;
  return 0;
}

int npy_write(const char *path, const char *descr, int rank, const int64_t *shape,
              const void *data, char *err, size_t errlen) {
  unsigned char hdr[640];
  size_t hlen, esize, nbytes;
  uint64_t numel = 1;
  int i, bad;
  FILE *f;

  if (npy_format_header(descr, rank, shape, hdr, sizeof hdr, &hlen, err, errlen) != 0) return -1;
  esize = npy_descr_size(descr);
  for (i = 0; i < rank; i++) {
    uint64_t d = (uint64_t)shape[i];
    if (d != 0 && numel > (uint64_t)NPY_MAX_NUMEL / d)
      return npy_fail(err, errlen, "npy: shape is too large");
    numel *= d;
  }
  if (numel > (uint64_t)(SIZE_MAX / esize)) return npy_fail(err, errlen, "npy: shape is too large");
  nbytes = (size_t)numel * esize;
  if (nbytes && !data) return npy_fail(err, errlen, "npy: no data to write");
  f = fopen(path, "wb");
  if (!f) return npy_fail(err, errlen, "npy: cannot create '%s'", path);
  bad = fwrite(hdr, 1, hlen, f) != hlen;
  if (!bad && nbytes) bad = fwrite(data, 1, nbytes, f) != nbytes;
  if (fclose(f) != 0) bad = 1;
  if (bad) {
    remove(path);
    return npy_fail(err, errlen, "npy: cannot write '%s'", path);
  }
  return 0;
}

void npy_free(npy_array *a) {
  if (!a) return;
  free(a->data);
  memset(a, 0, sizeof *a);
}
