#!/bin/sh
# make_seeds.sh - build the (uncommitted) seed corpora for the fuzzers.
#
# usage: sh tests/fuzz/make_seeds.sh OUTDIR
# OUTDIR/onnx gets every small model of ONNX's backend test data
# (/usr/share/libonnx-testdata/data, from Debian's libonnx-testdata) and the
# small models of models/; OUTDIR/tensorproto every input/output .pb of the
# same; OUTDIR/npy the .npy files of the repo.  The committed seeds under
# tests/fuzz/seeds/ are copied too.  Files are named by content hash, as
# libFuzzer names its own, so reruns add nothing twice.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: make_seeds.sh OUTDIR}"
td=/usr/share/libonnx-testdata/data
mkdir -p "$out/onnx" "$out/tensorproto" "$out/npy"

put() {   # put FILE KIND: copy FILE under its sha1, skipping big ones
  sz=$(wc -c < "$1")
  [ "$sz" -le "${3:-1048576}" ] || return 0
  h=$(sha1sum "$1" | cut -c1-40)
  [ -e "$out/$2/$h" ] || cp "$1" "$out/$2/$h"
}

for k in onnx tensorproto npy; do
  for f in "$root"/tests/fuzz/seeds/$k/*; do [ -f "$f" ] && put "$f" $k; done
done
if [ -d "$td" ]; then
  find "$td" -name model.onnx | while read -r f; do put "$f" onnx 262144; done
  find "$td" -name '*.pb' | while read -r f; do put "$f" tensorproto 65536; done
fi
for f in "$root"/models/*/model.onnx; do put "$f" onnx 1048576; done
find "$root/models" "$root/tests/data" -name '*.pb' | while read -r f; do put "$f" tensorproto 131072; done
find "$root/models" "$root/tests/data" -name '*.npy' | while read -r f; do put "$f" npy 131072; done
for k in onnx tensorproto npy; do
  echo "$k: $(ls "$out/$k" | wc -l) seeds"
done
