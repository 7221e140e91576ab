#!/bin/sh
# run.sh - the whole test suite from a clean clone: installs what is
# missing, builds modelc and its tests with warnings as errors
# (MODELC_WERROR=ON), and runs them all under ctest, the build matrix
# (tests/build_matrix.sh: other compilers and build types, no CMocka,
# install) among them as the ctest build.matrix, so that its result is in
# the summary that ends this script's output.
# Then a second, sanitized build (build-asan: clang, ASan with leak
# checking, UBSan, -DMODELC_SANITIZE=ON) runs the unit tests, the hostile
# model corpus, the mutation tests and a short smoke run of each libFuzzer
# target (docs/fuzzing.md); the slow end-to-end tests run only in the
# first build.
set -eu
cd "$(dirname "$0")/.."
sh tests/install_deps.sh
jobs="$(nproc)"
[ "$jobs" -gt 2 ] || jobs=2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODELC_WERROR=ON -DMODELC_TEST_BUILD_MATRIX=ON > /dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODELC_SANITIZE=ON -DMODELC_WERROR=ON \
      -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link > /dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure -j"$jobs" -R '^(unit|hostile|fuzz)\.')
