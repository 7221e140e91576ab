#!/bin/sh
# aarch64.sh MODELC - the emitted C gives the same outputs on 64-bit ARM as
# on x86-64 (issue 8).  For the nets of bench/models and every bundled model
# of tests/e2e/models.list, on the model's test inputs: NAME.c, its weights
# and the harness built with aarch64-linux-gnu-gcc -std=c99 -O2 -static
# -DMODELC_NO_FMA (-Wall -Wextra -Werror -pedantic), run under qemu-aarch64, must be within
# rtol 1e-3, atol 1e-4 of the x86-64 build (gcc, same flags) and of the
# interpreter; the line per model says whether ARM and x86-64 agree to the
# bit.  With MODELC_NO_FMA the emitted C asks GCC to fuse no a*b+c into a
# multiply-add, so the arithmetic is the same; the nets that differ in their
# last bits call libm's expf/tanhf (Tanh, Sigmoid, GRU), whose glibc
# implementations differ between the two.  ResNet-8 is also built as users
# build it, without MODELC_NO_FMA (the emitted C then fuses, with ARM's
# fmadd), and its difference is reported, held to the same tolerance.
# Exit 77 (ctest: skipped) only when aarch64-linux-gnu-gcc or qemu-aarch64
# is missing (apt install gcc-aarch64-linux-gnu qemu-user; CI has them).
# Run from the repository root.
set -u
modelc=$1
. "$(dirname "$0")/models_lib.sh"
ARMCC=aarch64-linux-gnu-gcc
QEMU=qemu-aarch64
for tool in $ARMCC $QEMU; do
  command -v $tool > /dev/null || {
    echo "SKIPPED: $tool not found (apt install gcc-aarch64-linux-gnu qemu-user)"
    exit 77
  }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
FLAGS="-std=c99 -O2 -Wall -Wextra -Werror -pedantic -DMODELC_NO_FMA"

e2e_models mlp lenet5_mnist resnet8 mobilenetv2_96 gru > "$tmp/models"
while read -r m dir opts; do
  o=$tmp/$m
  mkdir -p "$o"
  e2e_inputs "$dir" "$opts" "$o" || { fail "$m: its test inputs"; continue; }
  # shellcheck disable=SC2086
  "$modelc" compile "$dir/model.onnx" -o "$o/c" --name m --emit-main $opts > /dev/null || { fail "$m: compile"; continue; }
  src="$o/c/m.c $o/c/m_weights.c $o/c/m_main.c"
  # shellcheck disable=SC2086
  gcc $FLAGS -o "$o/x86" $src -lm || { fail "$m: gcc"; continue; }
  # shellcheck disable=SC2086
  $ARMCC $FLAGS -static -o "$o/arm" $src -lm || { fail "$m: $ARMCC"; continue; }
  # shellcheck disable=SC2046
  "$o/x86" $(cat "$o/harness_args") -o "$o/out_x86" > /dev/null || { fail "$m: the x86-64 build failed"; continue; }
  # shellcheck disable=SC2046
  $QEMU "$o/arm" $(cat "$o/harness_args") -o "$o/out_arm" > "$o/arm.log" 2>&1 || { fail "$m: the aarch64 build failed under $QEMU: $(tail -n 2 "$o/arm.log")"; continue; }
  # shellcheck disable=SC2046,SC2086
  "$modelc" run "$dir/model.onnx" $opts $(cat "$o/run_args") -o "$o/interp" > /dev/null || { fail "$m: modelc run"; continue; }
  same=bit-identical
  for f in "$o"/out_x86/*.npy; do cmp -s "$f" "$o/out_arm/$(basename "$f")" || same="not bit-identical"; done
  vs_x86=$(e2e_close "$o/out_x86" "$o/out_arm" 2>&1) || fail "$m: aarch64 against x86-64: $vs_x86"
  vs_interp=$(e2e_close "$o/interp" "$o/out_arm" 2>&1) || fail "$m: aarch64 against the interpreter: $vs_interp"
  echo "$m: aarch64 vs x86-64 $same ($vs_x86); vs the interpreter: $vs_interp"
  if [ "$m" = resnet8 ]; then
    # shellcheck disable=SC2086
    $ARMCC $(echo "$FLAGS" | sed 's/ -DMODELC_NO_FMA//') -static -o "$o/arm_fma" $src -lm || { fail "$m: $ARMCC with fused multiply-adds"; continue; }
    # shellcheck disable=SC2046
    $QEMU "$o/arm_fma" $(cat "$o/harness_args") -o "$o/out_fma" > /dev/null 2>&1 || { fail "$m: the fused multiply-add build failed"; continue; }
    fma=$(e2e_close "$o/out_x86" "$o/out_fma" 2>&1) || fail "$m: aarch64 with fused multiply-adds against x86-64: $fma"
    echo "$m: aarch64 with fused multiply-adds (fmadd) vs x86-64: $fma"
  fi
done < "$tmp/models"
[ $fails = 0 ] && echo "aarch64: all passed"
[ $fails = 0 ]
