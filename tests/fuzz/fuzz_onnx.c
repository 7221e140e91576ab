/*
 * fuzz_onnx.c - libFuzzer target for the ONNX frontend and the passes.
 *
 * Every model modelc compiles was downloaded from somewhere, so the loader
 * and shape inference (with constant folding, which runs interpreter
 * kernels on the model's own constants) must survive any byte string: the
 * input is loaded with onnx_load_buffer and, when that succeeds, run
 * through pass_run_all (infer, dce, plan).  External data is refused
 * (base_dir NULL) and the byte limit is kept small so that a model asking
 * for a huge tensor is an error rather than an out-of-memory report.
 */
#include <stddef.h>
#include <stdint.h>

#include "compiler/onnx/onnx_load.h"
#include "compiler/passes/passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fe_opts o = {0};
  o.max_bytes = (int64_t)64 << 20;
  ir_graph *g = onnx_load_buffer(data, size, NULL, &o);
  if (!g) return 0;
  pass_options po;
  pass_options_default(&po);
  (void)pass_run_all(g, &po);
  ir_graph_free(g);
  return 0;
}
