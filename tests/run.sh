#!/bin/sh
# run.sh - the whole test suite from a clean clone: installs what is
# missing, builds modelc and its tests, and runs them all under ctest.
set -eu
cd "$(dirname "$0")/.."
sh tests/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)"
cd build && ctest --output-on-failure -j"$(nproc)"
