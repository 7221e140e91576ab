/*
 * readme_driver.c - runs the README's C example (tests/docs/readme_example.sh
 * extracts it from README.md and builds it beside this file) on a real
 * input and checks its answer against ONNX Runtime's.
 *
 * Usage: readme_driver INPUT.npy EXPECTED.npy.  INPUT is one image in the
 * model's input shape; EXPECTED is ONNX Runtime's output for it (the test
 * data shipped with the model).  classify() must return EXPECTED's argmax.
 * The model is compiled as "net", the name the README uses.
 */
#include <stdio.h>

#include "net.h"
#include "runtime/npy.h"

int classify(const float image[net_INPUT_0_SIZE]);   /* the README's function */

/* f32 .npy with exactly `count` elements, or -1 with a message. */
static int load(const char *path, long count, npy_array *a) {
  char err[256];
  if (npy_read(path, a, err, sizeof err) != 0) {
    fprintf(stderr, "readme_driver: %s\n", err);
    return -1;
  }
  if (a->nbytes != (size_t)count * sizeof(float) || a->descr[1] != 'f' || a->descr[2] != '4') {
    fprintf(stderr, "readme_driver: %s: want %ld float32 values, has %s of %lu bytes\n", path, count, a->descr,
            (unsigned long)a->nbytes);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  npy_array in, want;
  const float *y;
  int best = 0, second, got, i, rc;
  if (argc != 3) {
    fprintf(stderr, "usage: readme_driver INPUT.npy EXPECTED.npy\n");
    return 2;
  }
  if (load(argv[1], net_INPUT_0_SIZE, &in) != 0 || load(argv[2], net_OUTPUT_0_SIZE, &want) != 0) return 1;
  y = (const float *)want.data;
  for (i = 1; i < net_OUTPUT_0_SIZE; i++)
    if (y[i] > y[best]) best = i;
  second = best == 0 ? 1 : 0;
  for (i = 0; i < net_OUTPUT_0_SIZE; i++)
    if (i != best && y[i] > y[second]) second = i;
  /* a class decided by less than the e2e tolerance would test rounding, not the example */
  if (y[best] - y[second] < 1e-3f) {
    fprintf(stderr, "readme_driver: %s does not decide a class (top two %g, %g)\n", argv[2], (double)y[best],
            (double)y[second]);
    return 1;
  }
  got = classify((const float *)in.data);
  printf("classify: %d, ONNX Runtime's argmax: %d (logit %g)\n", got, best, (double)y[best]);
  rc = got == best ? 0 : 1;
  npy_free(&in);
  npy_free(&want);
  return rc;
}
