#!/bin/sh
# readme_example.sh MODELC - the C example in README.md, exactly as printed,
# must be correct C99.  Takes the first ```c block of README.md, compiles
# models/lenet5 with MODELC as "net" (the README's name), and builds the
# example with gcc and with clang under -std=c99 -Wall -Wextra -Werror,
# linked with tests/docs/readme_driver.c, which feeds it
# models/lenet5/sample_input.npy and requires classify() to return the
# argmax of ONNX Runtime's output for that image
# (test_data_set_0/output_0.pb).  Exit 77 (skipped) without gcc or clang.
set -u
modelc=$1
src="$(cd "$(dirname "$0")/../.." && pwd)"
for cc in gcc clang; do
  command -v $cc > /dev/null 2>&1 || { echo "SKIPPED: no $cc"; exit 77; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The block between the first line "```c" and the next "```".
awk '/^```c$/ && !done { on = 1; next } on && /^```$/ { on = 0; done = 1 } on' "$src/README.md" > "$tmp/example.c"
grep -q "classify" "$tmp/example.c" || fail "no \`\`\`c block defining classify() in README.md"
m="$src/models/lenet5"
"$modelc" compile "$m/model.onnx" -o "$tmp/out" --name net || fail "modelc compile"
# ONNX Runtime's expected output, from ONNX's TensorProto into .npy for the driver.
"$modelc" convert "$m/test_data_set_0/output_0.pb" "$tmp/expected.npy" || fail "modelc convert"
flags="-std=c99 -Wall -Wextra -Werror"
for cc in gcc clang; do
  # shellcheck disable=SC2086
  $cc $flags -I"$tmp/out" -c "$tmp/example.c" -o "$tmp/example_$cc.o" ||
    fail "$cc $flags rejects the README's example"
  # shellcheck disable=SC2086
  $cc $flags -O2 -I"$tmp/out" -I"$src" -o "$tmp/prog_$cc" "$tmp/example_$cc.o" "$src/tests/docs/readme_driver.c" \
      "$src/runtime/npy.c" "$tmp/out/net.c" "$tmp/out/net_weights.c" -lm || fail "$cc: linking the example"
  "$tmp/prog_$cc" "$m/sample_input.npy" "$tmp/expected.npy" || fail "$cc: classify() is wrong"
done
echo "README example: gcc and clang, -std=c99 -Wall -Wextra -Werror, classify() matches ONNX Runtime"
