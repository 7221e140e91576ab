/*
 * fuzz_npy.c - libFuzzer target for the .npy reader (runtime/npy.c).
 *
 * npy_parse reads the inputs of `modelc run` and, pasted into every
 * generated harness, the inputs of compiled models: its header parser and
 * size arithmetic must hold against any byte string.  A parsed array is
 * written back and parsed again, which must give the same array.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy_array a;
  char err[256];
  memset(&a, 0, sizeof a);
  if (npy_parse(data, size, &a, err, sizeof err) != 0) return 0;
  /* Re-encode the header and check that the round trip agrees. */
  unsigned char hdr[4096];
  size_t hlen = 0;
  if (npy_format_header(a.descr, a.rank, a.shape, hdr, sizeof hdr, &hlen, err, sizeof err) == 0 &&
      a.nbytes <= ((size_t)16 << 20)) {
    unsigned char *img = malloc(hlen + a.nbytes + 1);
    if (img) {
      memcpy(img, hdr, hlen);
      if (a.nbytes) memcpy(img + hlen, a.data, a.nbytes);
      npy_array b;
      memset(&b, 0, sizeof b);
      if (npy_parse(img, hlen + a.nbytes, &b, err, sizeof err) != 0 || b.nbytes != a.nbytes ||
          b.rank != a.rank || strcmp(a.descr, b.descr) != 0 ||
          (a.nbytes && memcmp(a.data, b.data, a.nbytes) != 0))
        abort();   /* a reader/writer disagreement is a finding */
      npy_free(&b);
      free(img);
    }
  }
  npy_free(&a);
  return 0;
}
