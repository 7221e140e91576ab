#!/bin/sh
# harness_inputs.sh - the generated NAME_main.c refuses bad .npy inputs.
#
# usage: sh tests/hostile/harness_inputs.sh MODELC
# Compiles models/lenet5 with --emit-main, builds the harness with clang
# under ASan/UBSan (plain cc if clang is missing), and feeds it a .npy of
# the wrong dtype, the wrong shape, a truncated one, random bytes and too
# few/many files: each must exit non-zero with a one-line message, and the
# right input must still run.
set -u
modelc=$1
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$modelc" compile "$root/models/lenet5/model.onnx" -o "$tmp" --name net --emit-main > /dev/null || exit 1
cc="cc -std=c99"
command -v clang > /dev/null && cc="clang -std=c99 -fsanitize=address,undefined -fno-sanitize-recover=all"
$cc -O1 -o "$tmp/net_main" "$tmp"/net_main.c "$tmp"/net.c "$tmp"/net_weights.c -lm || exit 1
bad="$root/tests/data/bad"
head -c 100 "$root/models/lenet5/sample_input.npy" > "$tmp/truncated.npy"
head -c 4096 /dev/urandom > "$tmp/random.npy"
pass=0 fail=0
expect() {   # expect FRAGMENT ARGS...
  frag=$1
  shift
  (cd "$tmp" && ./net_main "$@") > /dev/null 2> "$tmp/err"
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 64 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -qF -- "$frag" "$tmp/err"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL net_main $*: exit $rc, wanted one line with '$frag':"
    head -c 1500 "$tmp/err" | sed 's/^/    /'
  fi
}
expect "expected float32 [1,1,32,32], got float64" "$bad/wrong_dtype.npy"
expect "expected float32 [1,1,32,32]" "$bad/wrong_shape.npy"
expect "truncated.npy" "$tmp/truncated.npy"
expect "random.npy" "$tmp/random.npy"
expect "expected 1 input file(s), got 0"
expect "expected 1 input file(s), got more" "$root/models/lenet5/sample_input.npy" "$root/models/lenet5/sample_input.npy"
expect "nothere.npy" "$tmp/nothere.npy"
if (cd "$tmp" && ./net_main "$root/models/lenet5/sample_input.npy" -o "$tmp") > /dev/null 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1))
  echo "FAIL net_main on the right input"
fi
echo "harness_inputs: $pass passed, $fail failed"
[ $fail -eq 0 ]
