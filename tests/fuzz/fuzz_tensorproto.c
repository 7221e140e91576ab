/*
 * fuzz_tensorproto.c - libFuzzer target for the TensorProto decoder
 * (runtime/tensorproto.c).
 *
 * tp_decode turns initializers, Constant values and the .pb files of test
 * data into raw elements; it checks dims, counts, byte totals and data
 * lengths itself, so any message protobuf-c accepts must decode or fail
 * cleanly.  External data is refused here (base_dir NULL): the hostile
 * corpus covers the file-system side.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "onnx.pb-c.h"
#include "runtime/tensorproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
  if (!tp) return 0;
  ir_dtype dt;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *out = NULL;
  size_t nbytes = 0;
  if (tp_decode(tp, NULL, (int64_t)64 << 20, &dt, &rank, dims, &out, &nbytes) == 0) {
    /* Touch every byte so ASan sees a short buffer. */
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < nbytes; i++) sink ^= ((const unsigned char *)out)[i];
    (void)sink;
    free(out);
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return 0;
}
