#!/bin/sh
# profile.sh MODELC MODEL_DIR... - `modelc compile --emit-main --profile` (issue 8).
# For each model folder (model.onnx and either test_data_set_0/input_0.pb or
# input_0.npy; one input):
#  - `NAME_main --profile 3 IN.npy` prints one row per node whose names are
#    those `modelc graph` lists, each with an op, a kernel, microseconds, a
#    share and GFLOP/s; the shares sum to 100% (within the rounding of the
#    printed digits); the total comes last, and its GFLOP/s is 2 x the MACs
#    `modelc info` counts over its microseconds;
#  - the profile build's outputs are byte for byte the normal build's;
#  - the normal build's NAME.c and NAME.h never mention the hook, and its
#    object calls no clock; the profile build's NAME.c includes only the
#    C99 headers and leaves the hook to the program (an undefined symbol);
#  - a --train --profile build's `--bench-train N` prints the step's table.
# Built with gcc -std=c99 -Wall -Wextra -Werror -pedantic.  Run from the
# repository root.
set -u
modelc=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
CC="gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic"

for dir in "$@"; do
  m=$(basename "$dir")
  o=$tmp/$m
  mkdir -p "$o"
  if [ -f "$dir/test_data_set_0/input_0.pb" ]; then
    "$modelc" convert "$dir/test_data_set_0/input_0.pb" "$o/in.npy" || { fail "$m: convert"; continue; }
  else
    cp "$dir/input_0.npy" "$o/in.npy"
  fi
  "$modelc" compile "$dir/model.onnx" -o "$o/n" --name m --emit-main > /dev/null &&
    "$modelc" compile "$dir/model.onnx" -o "$o/p" --name m --emit-main --profile > /dev/null || { fail "$m: compile"; continue; }
  ok=1
  for b in n p; do
    $CC -c "$o/$b/m.c" -o "$o/$b/m.o" && $CC -o "$o/$b/m_main" "$o/$b/m.o" "$o/$b/m_weights.c" "$o/$b/m_main.c" -lm ||
      { fail "$m: gcc ($b)"; ok=0; }
  done
  [ $ok = 1 ] || continue

  # 1. no timer in a normal build; the hook left to the program in a profile build
  if grep -q "profile" "$o/n/m.c" "$o/n/m.h"; then fail "$m: the normal build's C mentions the profile hook"; fi
  if nm "$o/n/m.o" | grep -qiE "profile|clock|time"; then fail "$m: the normal build's object has a timer symbol: $(nm "$o/n/m.o" | grep -iE 'profile|clock|time' | head -n 1)"; fi
  nm -u "$o/p/m.o" | grep -qw m_profile || fail "$m: the profile build's object does not call m_profile"
  if nm "$o/p/m.o" | grep -qiE "clock|time"; then fail "$m: the profile build's NAME.c calls a clock itself"; fi
  bad=$(grep '^#include <' "$o/p/m.c" | grep -vE '<(stdint|stddef|string|math)\.h>')
  [ -z "$bad" ] || fail "$m: the profile build's NAME.c includes $bad"

  # 2. the same outputs
  "$o/n/m_main" "$o/in.npy" -o "$o/out_n" > /dev/null && "$o/p/m_main" "$o/in.npy" -o "$o/out_p" > /dev/null ||
    { fail "$m: running the harness"; continue; }
  for f in "$o"/out_n/*.npy; do
    cmp -s "$f" "$o/out_p/$(basename "$f")" || fail "$m: $(basename "$f") differs between the normal and the profile build"
  done

  # 3. the table
  "$o/p/m_main" --profile 3 "$o/in.npy" > "$o/table" || { fail "$m: --profile 3 failed"; continue; }
  # node names from `modelc graph`: "  k OP [+fused...] NAME (inputs) -> ..."; the name is the word before " ("
  "$modelc" graph "$dir/model.onnx" | sed -n 's/^ *[0-9][0-9]* .* \([^ ]*\) (.*/\1/p' | sort > "$o/graph_names"
  awk -F '  +' 'NR > 1 && $1 != "total" { print $1 }' "$o/table" | sort > "$o/table_names"
  cmp -s "$o/graph_names" "$o/table_names" || { fail "$m: the table's nodes are not modelc graph's:"; diff "$o/graph_names" "$o/table_names" | head -n 5; }
  macs=$("$modelc" info "$dir/model.onnx" | sed -n 's/^MACs: //p')
  awk -F '  +' -v macs="$macs" -v m="$m" '
    NR == 1 { if ($1 != "node" || $3 != "kernel" || $4 != "us" || $5 != "share" || $6 != "GFLOP/s") { print "FAIL: " m ": header " $0; bad = 1 }; next }
    $1 == "total" { total_seen = NR; tus = $2; tshare = $3; tgf = $4; next }
    {
      if (total_seen) { print "FAIL: " m ": a row after the total"; bad = 1 }
      if (NF != 6 || $2 == "" || $3 == "" || $4 !~ /^[0-9.]+$/ || $5 !~ /%$/) { print "FAIL: " m ": bad row: " $0; bad = 1 }
      if (rows && $4 + 0 > prev + 0) { print "FAIL: " m ": not sorted by time at " $1; bad = 1 }
      prev = $4; rows++; share += $5; us += $4
    }
    END {
      if (!total_seen || total_seen != NR) { print "FAIL: " m ": the total is not the last row"; exit 1 }
      if (share < 100 - 0.005 * rows - 0.01 || share > 100 + 0.005 * rows + 0.01) { print "FAIL: " m ": shares sum to " share "%"; bad = 1 }
      if (us < tus - 0.001 * rows - 0.001 || us > tus + 0.001 * rows + 0.001) { print "FAIL: " m ": rows sum to " us " us, total says " tus; bad = 1 }
      gf = 2 * macs / tus / 1e3
      if (tgf < gf * 0.999 - 0.01 || tgf > gf * 1.001 + 0.01) { print "FAIL: " m ": total GFLOP/s " tgf ", 2 x " macs " MACs over " tus " us is " gf; bad = 1 }
      printf "%s: %d nodes profiled, shares sum to %.2f%%, %.1f us, %.2f GFLOP/s\n", m, rows, share, tus, tgf
      exit bad
    }' "$o/table" || fails=$((fails + 1))
  # the GEMM core names its kernel: every Conv and Gemm row says gemm (its tile, t: transposed), gemv or depthwise
  awk -F '  +' -v m="$m" 'NR > 1 && $2 ~ /^(Conv|Gemm)/ && $3 !~ /^(gemm [0-9]+x[0-9]+t? |gemv|depthwise)/ { print "FAIL: " m ": " $1 " (" $2 ") runs kernel \"" $3 "\""; bad = 1 } END { exit bad }' "$o/table" ||
    fails=$((fails + 1))
done
# The training step (issue 10): a --train --profile build times NAME_train_step's nodes; the table
# of `--train X Y --batch B --profile N` has one row per node the step runs (NAME_TRAIN_PROFILE_NODES),
# shares summing to 100%, the total last, and the weight gradient on the GEMM core; the profile
# build's losses are the normal build's, byte for byte.
o=$tmp/train
mkdir -p "$o"
/usr/bin/python3 -c "
import numpy as np
r = np.random.default_rng(7)
np.save('$o/x.npy', r.standard_normal((4, 1, 28, 28)).astype(np.float32))
np.save('$o/y.npy', r.integers(0, 10, 4).astype(np.int64))" || fail "train: the data"
for b in n p; do
  flag=""
  [ $b = p ] && flag=--profile
  "$modelc" compile models/train/golden/lenet5.onnx --dim batch=2 -o "$o/$b" --name m --emit-main --train \
    --loss softmax_cross_entropy --optimizer sgd:lr=0.05,momentum=0.9 $flag > /dev/null &&
    $CC -o "$o/$b/m_main" "$o/$b/m.c" "$o/$b/m_weights.c" "$o/$b/m_main.c" -lm &&
    "$o/$b/m_main" --train "$o/x.npy" "$o/y.npy" --epochs 1 --batch 2 --log "$o/$b/loss.csv" > /dev/null ||
    fail "train: build or run ($b)"
done
cmp -s "$o/n/loss.csv" "$o/p/loss.csv" || fail "train: the profile build's losses differ"
if "$o/p/m_main" --train "$o/x.npy" "$o/y.npy" --batch 2 --profile 3 > "$o/table"; then
  nodes=$(sed -n 's/^#define m_TRAIN_PROFILE_NODES //p' "$o/p/m.h")
  awk -F '  +' -v nodes="$nodes" '
    NR == 1 { if ($1 != "node" || $3 != "kernel" || $4 != "us") { print "FAIL: train: header " $0; bad = 1 }; next }
    $1 == "total" { total = NR; next }
    { rows++; share += $5; if ($2 == "ConvWeightGrad" && $3 !~ /^gemm /) { print "FAIL: train: " $1 " runs " $3; bad = 1 } }
    END {
      if (total != NR) { print "FAIL: train: the total is not the last row"; bad = 1 }
      if (rows != nodes) { print "FAIL: train: " rows " rows, the step has " nodes " nodes"; bad = 1 }
      if (share < 100 - 0.005 * rows - 0.01 || share > 100 + 0.005 * rows + 0.01) { print "FAIL: train: shares sum to " share "%"; bad = 1 }
      printf "train step: %d nodes profiled, shares sum to %.2f%%\n", rows, share
      exit bad
    }' "$o/table" || fails=$((fails + 1))
  grep -q "ConvWeightGrad" "$o/table" || fail "train: no ConvWeightGrad row"
else
  fail "train: --profile 3 failed"
fi
[ $fails = 0 ] && echo "profile: all passed"
[ $fails = 0 ]
