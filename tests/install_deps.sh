#!/bin/sh
# install_deps.sh - installs, with apt-get, whatever the build and the tests
# need and this machine lacks.  Used by both quick-start commands and CI.
set -eu
need="cmake make gcc clang libomp-dev pkg-config libprotobuf-c-dev protobuf-c-compiler libonnx-dev libcmocka-dev libclang-rt-14-dev libonnx-testdata python3 python3-numpy python3-onnx python3-torch gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user graphviz chromium"
missing=""
for p in $need; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm may come from elsewhere than apt: only their absence counts.
command -v node > /dev/null && command -v npm > /dev/null || missing="$missing nodejs npm"
ort="$(dirname "$0")/../bench/ort"
install_ort() {   # ONNX Runtime for tests/e2e/dsl.py, pinned by bench/ort/package-lock.json
  [ -d "$ort/node_modules/onnxruntime-node" ] || (cd "$ort" && npm ci --ignore-scripts --silent)
}
[ -z "$missing" ] && { install_ort; exit 0; }
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing > /dev/null
install_ort
