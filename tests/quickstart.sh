#!/bin/sh
# quickstart.sh - the main job on a bundled model: compile LeNet-5 to C,
# build the C with the system's compiler, run it, and check it: against the
# reference interpreter (check) and against ONNX Runtime's output (test-onnx).
set -eu
cd "$(dirname "$0")/.."
sh tests/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" --target modelc > /dev/null
set -x
build/modelc compile models/lenet5/model.onnx -o out/lenet5 --name lenet5 --emit-main
cc -std=c99 -O3 -o out/lenet5/lenet5_main out/lenet5/*.c -lm
out/lenet5/lenet5_main models/lenet5/sample_input.npy -o out/lenet5
out/lenet5/lenet5_main --bench 1000 models/lenet5/sample_input.npy
build/modelc check models/lenet5/model.onnx --input input=models/lenet5/sample_input.npy
build/modelc test-onnx models/lenet5 --atol 1e-4
