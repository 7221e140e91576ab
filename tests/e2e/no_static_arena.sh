#!/bin/sh
# no_static_arena.sh MODELC MODEL... - NAME_NO_STATIC_ARENA compiles the
# static arena out (issue 7, item 10).  For each model folder under models/
# (one float32 input, one float32 output): compiles its C with gcc twice,
# with and without -DNAME_NO_STATIC_ARENA, and checks that
#  - without it, the object holds NAME_static_arena in .bss (at least
#    NAME_ARENA_BYTES), and infer(NULL) gives ONNX Runtime's outputs;
#  - with it, the symbol is gone and .bss is smaller than the arena,
#    infer(NULL) returns NAME_ERR_NO_ARENA, and a caller's arena still gives
#    ONNX Runtime's outputs (test_data_set_0, rtol 1e-3, atol 1e-4).
# Run from the repository root.
set -u
modelc=$1
shift
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for m in "$@"; do
  name=$(printf '%s' "$m" | tr -c 'A-Za-z0-9_\n' '_')
  d=models/$m/test_data_set_0
  o=$tmp/$m
  "$modelc" compile "models/$m/model.onnx" -o "$o" --name "$name" > /dev/null || { fail "$m: compile"; continue; }
  "$modelc" convert "$d/input_0.pb" "$o/in.npy" && "$modelc" convert "$d/output_0.pb" "$o/want.npy" || { fail "$m: convert"; continue; }
  arena=$(sed -n "s/^#define ${name}_ARENA_BYTES \([0-9]*\).*/\1/p" "$o/$name.h")
  for mode in static none; do
    def=""
    [ $mode = none ] && def="-D${name}_NO_STATIC_ARENA -DNO_STATIC"
    # shellcheck disable=SC2086
    gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic $def -c "$o/$name.c" -o "$o/$name.o" || { fail "$m ($mode): gcc"; continue; }
    bss=$(size "$o/$name.o" | awk 'NR == 2 { print $3 }')
    has=$(nm "$o/$name.o" | grep -c "${name}_static_arena")
    echo "$m ($mode): .bss $bss bytes, arena $arena bytes"
    if [ $mode = static ]; then
      [ "$has" -ge 1 ] && [ "$bss" -ge "$arena" ] || fail "$m: the static arena is missing from .bss"
    else
      [ "$has" -eq 0 ] && [ "$bss" -lt "$arena" ] || fail "$m: -D${name}_NO_STATIC_ARENA left the arena in .bss"
    fi
    # shellcheck disable=SC2086
    gcc -std=c99 -O2 $def -DM="$name" -DM_HEADER="\"$name.h\"" -I"$o" "$here/arena_driver.c" "$o/$name.o" "$o/${name}_weights.c" -lm \
        -o "$o/drv" || { fail "$m ($mode): driver build"; continue; }
    "$o/drv" "$o/in.npy" "$o/want.npy" || fail "$m ($mode): outputs"
  done
done
[ $fails = 0 ] && echo "no_static_arena: all passed"
[ $fails = 0 ]
