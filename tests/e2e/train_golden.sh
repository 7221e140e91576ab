#!/bin/sh
# train_golden.sh MODELC [CC] - training in the generated C against PyTorch (issue 10, check 5).
# For every run of models/train/golden/recipe.txt (net, optimizer, modelc's --optimizer spec;
# made by models/train/make_golden.py): compiles the net with --train --loss
# softmax_cross_entropy and that optimizer, builds its harness with CC (default gcc), trains one
# epoch of 10 steps of 4 samples in file order, and compares the per-step losses (--log) and the
# parameters after the last step (--save) with PyTorch's, |got - want| <= 1e-4 + 1e-4 |want|.
# Run from the repository root.
set -u
modelc=$1
cc=${2:-gcc}
gold=models/train/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
. "$(dirname "$0")/train_lib.sh"

while read -r net opt spec; do
  o=$tmp/${net}_$opt
  train_build "$gold/$net.onnx" "$o" "$spec" "$net $opt" || continue
  if ! "$o/m_main" --train "$gold/${net}_x.npy" "$gold/${net}_y.npy" --epochs 1 --batch 4 \
      --log "$o/loss.csv" --save "$o/w.npz" > "$o.log" 2>&1; then
    fail "$net $opt: training: $(tail -1 "$o.log")"
    continue
  fi
  if /usr/bin/python3 tests/e2e/train_golden.py "$gold/${net}_$opt.npz" "$o/loss.csv" "$o/w.npz"; then
    echo "ok: $net $opt"
  else
    fail "$net $opt: differs from PyTorch"
  fi
done < "$gold/recipe.txt"

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
