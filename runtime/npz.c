/*
 * npz.c - .npz archives (see npz.h).
 *
 * Only the central directory is trusted for names, sizes and offsets: it is
 * found from the end-of-central-directory record (the last 22+ bytes; an
 * archive comment may sit after it), zip64 sizes and offsets come from the
 * entries' extra fields when the 32-bit ones are 0xFFFFFFFF, and each
 * member's data starts after its local header, whose name and extra lengths
 * are read there.  Every range is checked against the file size first.
 */
#ifndef MODELC_NPZ_H   /* also pasted after npz.h into --train harnesses (compiler/backend/harness_train.inc) */
#include "npz.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rd16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int fail(char *err, size_t n, const char *path, const char *msg) {
  if (err && n) snprintf(err, n, "%s: %s", path, msg);
  return -1;
}

void npz_free(npz_file *z) {
  for (int i = 0; i < z->n; i++) {
    free(z->m[i].key);
    npy_free(&z->m[i].a);
  }
  free(z->m);
  memset(z, 0, sizeof *z);
}

const npz_member *npz_find(const npz_file *z, const char *key) {
  for (int i = 0; i < z->n; i++)
    if (strcmp(z->m[i].key, key) == 0) return &z->m[i];
  return NULL;
}

static int parse(const unsigned char *b, size_t len, const char *path, npz_file *z, char *err, size_t errlen) {
  /* 1. the end-of-central-directory record, searched backwards */
  if (len < 22) return fail(err, errlen, path, "not a .npz file (too short for a zip archive)");
  size_t eocd = (size_t)-1;
  for (size_t k = len - 22 + 1; k-- > 0 && len - k <= 22 + 65535;)
    if (rd32(b + k) == 0x06054b50) {
      eocd = k;
      break;
    }
  if (eocd == (size_t)-1) return fail(err, errlen, path, "not a .npz file (no zip directory)");
  uint64_t count = rd16(b + eocd + 10), cd_size = rd32(b + eocd + 12), cd_off = rd32(b + eocd + 16);
  if (eocd >= 20 && rd32(b + eocd - 20) == 0x07064b50) {   /* zip64 locator */
    uint64_t z64 = rd64(b + eocd - 20 + 8);
    if (z64 > len - 56 || rd32(b + z64) != 0x06064b50) return fail(err, errlen, path, "bad zip64 directory record");
    count = rd64(b + z64 + 32);
    cd_size = rd64(b + z64 + 40);
    cd_off = rd64(b + z64 + 48);
  }
  if (cd_off > len || cd_size > len - cd_off || count > cd_size / 46)
    return fail(err, errlen, path, "corrupt zip directory");
  z->m = calloc((size_t)count + 1, sizeof *z->m);
  if (!z->m) return fail(err, errlen, path, "out of memory");
  /* 2. the central directory entries */
  size_t at = (size_t)cd_off, end = (size_t)(cd_off + cd_size);
  for (uint64_t i = 0; i < count; i++) {
    if (end - at < 46 || rd32(b + at) != 0x02014b50) return fail(err, errlen, path, "corrupt zip directory entry");
    unsigned method = rd16(b + at + 10), nlen = rd16(b + at + 28), xlen = rd16(b + at + 30), clen = rd16(b + at + 32);
    uint64_t csize = rd32(b + at + 20), usize = rd32(b + at + 24), loff = rd32(b + at + 42);
    if ((size_t)46 + nlen + xlen + clen > end - at) return fail(err, errlen, path, "corrupt zip directory entry");
    const unsigned char *name = b + at + 46, *x = name + nlen;
    for (unsigned k = 0; k + 4 <= xlen;) {   /* zip64 extra: the fields that overflowed, in this order */
      unsigned id = rd16(x + k), sz = rd16(x + k + 2);
      if (k + 4 + sz > xlen) break;
      if (id == 1) {
        unsigned q = k + 4;
        if (usize == 0xFFFFFFFFu && q + 8 <= k + 4 + sz) usize = rd64(x + q), q += 8;
        if (csize == 0xFFFFFFFFu && q + 8 <= k + 4 + sz) csize = rd64(x + q), q += 8;
        if (loff == 0xFFFFFFFFu && q + 8 <= k + 4 + sz) loff = rd64(x + q), q += 8;
      }
      k += 4 + sz;
    }
    at += (size_t)46 + nlen + xlen + clen;
    char key[512];
    if (nlen >= sizeof key) return fail(err, errlen, path, "member name too long");
    memcpy(key, name, nlen);
    key[nlen] = 0;
    if (nlen > 4 && strcmp(key + nlen - 4, ".npy") == 0) key[nlen - 4] = 0;
    if (method != 0) {
      char msg[600];
      snprintf(msg, sizeof msg, "member '%s' is compressed: write the file with np.savez, not np.savez_compressed", key);
      return fail(err, errlen, path, msg);
    }
    if (csize != usize) return fail(err, errlen, path, "corrupt zip directory entry (sizes differ)");
    /* 3. the local header before the data */
    if (loff > len || len - loff < 30 || rd32(b + loff) != 0x04034b50) return fail(err, errlen, path, "corrupt zip member header");
    size_t data = (size_t)loff + 30 + rd16(b + loff + 26) + rd16(b + loff + 28);
    if (data > len || csize > len - data) return fail(err, errlen, path, "zip member runs past the end of the file");
    char perr[256];
    npz_member *m = &z->m[z->n];
    if (npy_parse(b + data, (size_t)csize, &m->a, perr, sizeof perr) != 0) {
      char msg[900];
      snprintf(msg, sizeof msg, "member '%s': %s", key, perr);
      return fail(err, errlen, path, msg);
    }
    m->key = malloc(strlen(key) + 1);
    if (!m->key) {
      npy_free(&m->a);
      return fail(err, errlen, path, "out of memory");
    }
    strcpy(m->key, key);
    z->n++;
  }
  return 0;
}

int npz_read(const char *path, int64_t max_bytes, npz_file *z, char *err, size_t errlen) {
  memset(z, 0, sizeof *z);
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, errlen, path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return fail(err, errlen, path, "cannot seek (not a regular file?)");
  }
  long sz = ftell(f);
  if (sz < 0 || (max_bytes > 0 && sz > max_bytes)) {
    fclose(f);
    return fail(err, errlen, path, sz < 0 ? "cannot tell its size" : "larger than the byte limit");
  }
  rewind(f);
  unsigned char *b = malloc((size_t)sz + 1);
  if (!b) {
    fclose(f);
    return fail(err, errlen, path, "out of memory");
  }
  size_t got = fread(b, 1, (size_t)sz, f);
  fclose(f);
  if (got != (size_t)sz) {
    free(b);
    return fail(err, errlen, path, "short read");
  }
  int rc = parse(b, (size_t)sz, path, z, err, errlen);
  free(b);
  if (rc) npz_free(z);
  return rc;
}
