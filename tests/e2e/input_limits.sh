#!/bin/sh
# input_limits.sh MODELC
# Tensor files are held to a byte limit before anything is allocated:
# `run --input`, `--const` and `convert` given /dev/zero, or a sparse 8 GiB
# .npy whose header declares its size honestly, must fail with exit 1 and
# one line on stderr, in under a second, under a 200 MB address-space cap
# (without the limit they would read until the machine runs out of memory).
set -u
modelc=$1
fails=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v prlimit > /dev/null || ! command -v timeout > /dev/null; then
  echo "SKIPPED: prlimit or timeout is missing"
  exit 0
fi
# A sparse 8 GiB .npy: a float32 header for 2^31 elements, then a hole.
/usr/bin/python3 - "$tmp/huge.npy" <<'PY'
import sys, numpy as np
path = sys.argv[1]
with open(path, "wb") as f:
    np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (1 << 31,)})
    f.truncate(f.tell() + (1 << 33))
PY

ms() { echo $(($(date +%s%N) / 1000000)); }

# expect PATTERN -- ARGS...: exit 1, one stderr line matching PATTERN, < 1 s
expect() {
  pattern=$1
  shift 2
  n=$((n + 1))
  t0=$(ms)
  prlimit --as=200000000 timeout 10 "$modelc" "$@" > /dev/null 2> "$tmp/err"
  got=$?
  dt=$(($(ms) - t0))
  lines=$(wc -l < "$tmp/err")
  if [ "$got" -ne 1 ] || [ "$lines" -ne 1 ] || [ "$dt" -ge 1000 ] || ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: modelc $*: exit $got (want 1), $lines stderr lines, $dt ms, want /$pattern/:"
    head -c 2000 "$tmp/err"
    fails=$((fails + 1))
  else
    echo "ok ($dt ms): modelc $* -> $(cat "$tmp/err")"
  fi
}

lenet=models/lenet5/model.onnx
expect "/dev/zero: not a serialized ONNX TensorProto" -- run $lenet --input input=/dev/zero -o "$tmp/out"
expect "/dev/zero: not a serialized ONNX TensorProto" -- check $lenet --input input=/dev/zero
expect "/dev/zero: not a serialized ONNX TensorProto" -- run $lenet --const input=/dev/zero -o "$tmp/out"
expect "/dev/zero: not a serialized ONNX TensorProto" -- convert /dev/zero "$tmp/zero.npy"
expect "expected float32 \[1,1,32,32\], got float32 \[2147483648\]" -- run $lenet --input input="$tmp/huge.npy" -o "$tmp/out"
expect "huge.npy: npy: the header declares 8589934592 bytes of data, above the limit of 4294967296" -- run $lenet --const input="$tmp/huge.npy"
expect "huge.npy: npy: the header declares 8589934592 bytes of data, above the limit of 4294967296" -- convert "$tmp/huge.npy" "$tmp/h.npy"
expect "above the limit of 1000000" -- convert "$tmp/huge.npy" "$tmp/h.npy" --max-bytes 1000000

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
