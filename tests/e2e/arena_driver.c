/*
 * arena_driver.c - calls one compiled model's M_infer (M given with -DM=name)
 * (its header named by -DM_HEADER) on a float32 input .npy and compares its float32 output with an expected
 * .npy (ONNX Runtime's output, converted by `modelc convert`), rtol 1e-3,
 * atol 1e-4: once with NULL (the static arena) and once with an arena of its
 * own.  Built with -DM_NO_STATIC_ARENA, the NULL call must return
 * M_ERR_NO_ARENA and write nothing; otherwise it must return 0 and the right
 * output.  Used by no_static_arena.sh; prints OK or FAIL lines, exits 1 on
 * any FAIL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#include M_HEADER   /* -DM_HEADER='"name.h"' */

#define P(x) CAT(M, x)

/* The data of a little-endian float32 .npy (version 1 header), n floats. */
static int read_npy(const char *path, float *dst, long n) {
  unsigned char head[10];
  FILE *f = fopen(path, "rb");
  if (!f) return fprintf(stderr, "FAIL: cannot open %s\n", path), -1;
  if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY\x01", 7) ||
      fseek(f, 10L + (head[8] | head[9] << 8), SEEK_SET) || fread(dst, sizeof *dst, (size_t)n, f) != (size_t)n) {
    fclose(f);
    return fprintf(stderr, "FAIL: %s is not a float32 .npy of %ld values\n", path, n), -1;
  }
  fclose(f);
  return 0;
}

static int compare(const char *what, const float *got, const float *want, long n) {
  for (long i = 0; i < n; i++)
    if (!(fabsf(got[i] - want[i]) <= 1e-4f + 1e-3f * fabsf(want[i]))) {
      printf("FAIL: %s: element %ld is %g, ONNX Runtime says %g\n", what, i, got[i], want[i]);
      return 1;
    }
  printf("OK: %s: %ld outputs match ONNX Runtime\n", what, n);
  return 0;
}

static float in[P(_INPUT_0_SIZE)], want[P(_OUTPUT_0_SIZE)], out[P(_OUTPUT_0_SIZE)];

int main(int argc, char **argv) {
  int fails = 0, rc;
  if (argc != 3) return fprintf(stderr, "usage: arena_driver IN.npy WANT.npy\n"), 2;
  if (read_npy(argv[1], in, P(_INPUT_0_SIZE)) || read_npy(argv[2], want, P(_OUTPUT_0_SIZE))) return 1;

  for (long i = 0; i < P(_OUTPUT_0_SIZE); i++) out[i] = -12345.0f;
  rc = P(_infer)(in, out, NULL);
#ifdef NO_STATIC
  if (rc != P(_ERR_NO_ARENA) || rc == 0) printf("FAIL: infer(NULL) returned %d, want %d\n", rc, P(_ERR_NO_ARENA)), fails++;
  else if (out[0] != -12345.0f) printf("FAIL: infer(NULL) returned an error but wrote the output\n"), fails++;
  else printf("OK: infer(NULL) returns %d without a static arena\n", rc);
#else
  if (rc != 0) printf("FAIL: infer(NULL) returned %d\n", rc), fails++;
  else fails += compare("static arena", out, want, P(_OUTPUT_0_SIZE));
#endif

  void *arena = malloc((size_t)P(_ARENA_BYTES) + 64);
  unsigned char *al = (unsigned char *)arena + (64 - (uintptr_t)arena % 64) % 64;   /* 64-byte aligned */
  if (!arena) return fprintf(stderr, "FAIL: out of memory\n"), 1;
  memset(out, 0, sizeof out);
  rc = P(_infer)(in, out, al);
  if (rc != 0) printf("FAIL: infer(arena) returned %d\n", rc), fails++;
  else fails += compare("caller's arena", out, want, P(_OUTPUT_0_SIZE));
  free(arena);
  return fails ? 1 : 0;
}
