#!/bin/sh
# memory_figures.sh MODELC - the arena figures of issue 9 (docs/memory.md), and its invariant.
#
# For every bundled model (tests/e2e/models.list) and benchmark net (bench/models.list), with
# the options those lists give, prints one markdown table row from `modelc info`:
#   model | arena | max live in the model's own order | activations alone | arena / max live
#         | arena / activations alone
# then the geometric means of the two ratios. "Max live in the model's own order" is the
# yardstick `modelc info` prints (every optimizing pass off, nothing shared, the kernels'
# scratch counted); "activations alone" is the same without scratch, the arena of a compiler
# that gives each activation its own bytes for its lifetime and whose kernels take no scratch
# (onnx2c's; see docs/memory.md).
#
# Fails (exit 1) when a model's arena exceeds either figure (both invariants now: the kernels'
# scratch fits in bytes the activations leave free, or shrinks to), or when the geometric mean
# of arena / max live exceeds 0.8, the goal of issue 9. Run from the repository root.
set -u
modelc=${1:?usage: memory_figures.sh MODELC}
fails=0
logs=0
logsa=0
n=0
echo "| model | arena | max live, own order | activations alone, own order | arena / max live | arena / activations alone |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
rows() {   # list folder
  grep -v '^#' "$1" | grep -v '^[[:space:]]*$' | while read -r m opts; do echo "$2/$m $opts"; done
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{ rows tests/e2e/models.list models; rows bench/models.list bench/models; } > "$tmp"
while read -r dir opts; do
  # shellcheck disable=SC2086  # opts are separate arguments, as in the lists
  out=$("$modelc" info "$dir/model.onnx" $opts) || { echo "FAIL: $dir: modelc info"; fails=$((fails + 1)); continue; }
  arena=$(printf '%s\n' "$out" | sed -n 's/^arena: \([0-9]*\) bytes.*/\1/p')
  live=$(printf '%s\n' "$out" | sed -n "s/^max live in the model's own order: \([0-9]*\) bytes.*/\1/p")
  act=$(printf '%s\n' "$out" | sed -n "s/^activations alone in the model's own order: \([0-9]*\) bytes.*/\1/p")
  if [ -z "$arena" ] || [ -z "$live" ] || [ -z "$act" ]; then
    echo "FAIL: $dir: info printed no arena or yardstick"
    fails=$((fails + 1))
    continue
  fi
  r=$(awk -v a="$arena" -v b="$live" 'BEGIN { printf "%.3f", a / b }')
  ra=$(awk -v a="$arena" -v b="$act" 'BEGIN { printf "%.3f", a / b }')
  echo "| $(basename "$dir") | $arena | $live | $act | $r | $ra |"
  [ "$arena" -le "$live" ] || { echo "FAIL: $dir: arena $arena > max live $live"; fails=$((fails + 1)); }
  [ "$arena" -le "$act" ] || { echo "FAIL: $dir: arena $arena > activations alone $act"; fails=$((fails + 1)); }
  echo "$r $ra" >> "$tmp.r"
done < "$tmp"
if [ -s "$tmp.r" ]; then
  awk '{ l += log($1); la += log($2); n++ } END {
    printf "geometric mean over %d models: arena / max live %.3f, arena / activations alone %.3f\n", n, exp(l / n), exp(la / n)
    if (exp(l / n) > 0.8) { printf "FAIL: the geometric mean of arena / max live is above 0.8\n"; exit 1 } }' "$tmp.r" ||
    fails=$((fails + 1))
fi
rm -f "$tmp.r"
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
