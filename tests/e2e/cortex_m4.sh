#!/bin/sh
# cortex_m4.sh MODELC [--node-only|--models-only] - float models must not
# pull in double arithmetic (issue 7, item 11).  A Cortex-M4F has a
# single-precision FPU: every double operation becomes a call to a soft
# double helper (__aeabi_dadd, __aeabi_f2d, ...), slow and large.
#
#  1. Every model of tests/e2e/models.list: its NAME.c and NAME_weights.c
#     built with arm-none-eabi-gcc for a Cortex-M4F with -Wdouble-promotion
#     -Werror must reference no double helper; NAME.c is built again with
#     -DNAME_NO_STATIC_ARENA, and both .bss sizes are printed (the second
#     must be smaller than the arena).
#  2. Every test of ONNX's node suite whose model modelc compiles and whose
#     inputs and outputs hold no float64 (float32, integer and bool tests):
#     its NAME.c built the same way (-Werror for -Wdouble-promotion only) must
#     reference no double helper.  Covers the float path of
#     nearly every op, not just those of the bundled models.  DFT and STFT
#     are the one exception, by design (compiler/backend/emit_signal.c says
#     why): their tests are listed as DOUBLE, not failed.
# Exit 77 (ctest: skipped) when arm-none-eabi-gcc is not installed.  Run
# from the repository root.
set -u
modelc=$1
part=${2:-all}
DATA=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
CC=arm-none-eabi-gcc
command -v $CC > /dev/null && command -v arm-none-eabi-nm > /dev/null && command -v arm-none-eabi-size > /dev/null || {
  echo "SKIPPED: $CC, arm-none-eabi-nm or arm-none-eabi-size not found (apt install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
  exit 77
}
FLAGS="-std=c99 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -Wall -Wextra -Wdouble-promotion"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# The double helpers an object calls: EABI names (__aeabi_dadd, __aeabi_f2d,
# __aeabi_i2d, __aeabi_d2iz, __aeabi_dcmplt...) and libgcc's (__adddf3,
# __extendsfdf2, __floatsidf, __fixdfsi...).
doubles() {
  arm-none-eabi-nm -u "$1" | awk '{ print $NF }' |
    grep -E '^__aeabi_(d[a-z0-9]*|[a-z0-9]*2d[a-z]*)$|^__[a-z]*df[0-9a-z]*$' | tr '\n' ' '
}

if [ "$part" != --node-only ]; then
  grep -v '^#' tests/e2e/models.list | while read -r m opts; do
    [ -n "$m" ] || continue
    name=$(printf '%s' "$m" | tr -c 'A-Za-z0-9_\n' '_')
    o=$tmp/$m
    # shellcheck disable=SC2086
    "$modelc" compile "models/$m/model.onnx" -o "$o" --name "$name" $opts > /dev/null || { echo "FAIL: $m: modelc compile"; exit 1; }
    arena=$(sed -n "s/^#define ${name}_ARENA_BYTES \([0-9]*\).*/\1/p" "$o/$name.h")
    # shellcheck disable=SC2086
    $CC $FLAGS -Werror -c "$o/$name.c" -o "$o/a.o" && $CC $FLAGS -Werror -c "$o/${name}_weights.c" -o "$o/w.o" &&
      $CC $FLAGS -Werror -D"${name}_NO_STATIC_ARENA" -c "$o/$name.c" -o "$o/b.o" || { echo "FAIL: $m: $CC"; exit 1; }
    bad="$(doubles "$o/a.o")$(doubles "$o/w.o")"
    bss=$(arm-none-eabi-size "$o/a.o" | awk 'NR == 2 { print $3 }')
    bss0=$(arm-none-eabi-size "$o/b.o" | awk 'NR == 2 { print $3 }')
    echo "$m: .bss $bss bytes, $bss0 with -D${name}_NO_STATIC_ARENA (arena $arena); text $(arm-none-eabi-size "$o/a.o" | awk 'NR == 2 { print $1 }') bytes"
    [ -z "$bad" ] || { echo "FAIL: $m calls double helpers: $bad"; exit 1; }
    [ "$bss0" -lt "$arena" ] || { echo "FAIL: $m: -D${name}_NO_STATIC_ARENA left the arena in .bss"; exit 1; }
  done || fails=$((fails + 1))
fi

if [ "$part" != --models-only ]; then
  if [ ! -d "$DATA/node" ]; then
    echo "SKIPPED: node tests: no ONNX test data at $DATA (apt install libonnx-testdata)"
  else
    n=0 leaks=0
    for d in "$DATA"/node/*/; do
      t=$(basename "$d")
      o=$tmp/node
      rm -rf "$o"
      "$modelc" compile "$d/model.onnx" -o "$o" --name m > /dev/null 2>&1 || continue   # unsupported: not our business here
      grep -q '_DTYPE "float64"' "$o/m.h" && continue                                   # double is the model's own
      # shellcheck disable=SC2086
      $CC $FLAGS -Werror=double-promotion -c "$o/m.c" -o "$o/m.o" 2> "$o/err" || { echo "FAIL: node/$t: $CC:"; head -5 "$o/err"; leaks=$((leaks + 1)); continue; }
      n=$((n + 1))
      bad=$(doubles "$o/m.o")
      case $t in
        test_dft*|test_stft*) [ -z "$bad" ] || echo "DOUBLE: node/$t (by design: emit_signal.c)"; continue ;;
      esac
      [ -z "$bad" ] || { echo "FAIL: node/$t calls double helpers: $bad"; leaks=$((leaks + 1)); }
    done
    echo "node tests: $n without float64 built for the Cortex-M4F, $leaks calling double helpers or failing to build"
    [ $leaks = 0 ] || fails=$((fails + 1))
  fi
fi
[ $fails = 0 ] && echo "cortex_m4: no double arithmetic in float models"
[ $fails = 0 ]
