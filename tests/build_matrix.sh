#!/bin/sh
# build_matrix.sh - does modelc build for people who do not build it the one
# way CI's main build does?  Each configuration configures from scratch in
# its own folder under WORKDIR and builds every target, tests included,
# with MODELC_WERROR=ON, so a warning any of these compilers or build types
# finds fails here:
#   gcc-release     gcc, Release (-O3): the flow analysis that -O3 adds
#   gcc-debug-san   gcc, Debug, MODELC_SANITIZE=ON (ASan+UBSan)
#   clang-release   clang, Release
# then two checks of a user's build:
#   no-cmocka       CMocka hidden from pkg-config: configure must say the
#                   unit tests are off (not fail), and modelc must build;
#   install         cmake --install of that build, with --prefix and with
#                   DESTDIR: bin/modelc lands there and runs from PATH.
# Usage: sh tests/build_matrix.sh [WORKDIR]  (default build-matrix/).
# Prints one PASS/FAIL/SKIP line per configuration (with its seconds), the
# tail of the log of each failure, and last "build matrix: N passed, N
# failed, N skipped".  Exit 0 all passed, 1 any failed, 77 (ctest's
# SKIP_RETURN_CODE) when none failed but a compiler or CMocka was missing.
set -u
src="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$src/build-matrix}"
jobs="${MODELC_MATRIX_JOBS:-2}"   # the CI machine has 2 cores
mkdir -p "$work"
work="$(cd "$work" && pwd)"
# The matrix states every flag itself; a caller's environment must not add any.
unset CFLAGS CPPFLAGS LDFLAGS CC
passed=0 failed=0 skipped=0

have() { command -v "$1" > /dev/null 2>&1; }

# report NAME STATUS SECONDS [WHY]
report() {
  printf '%-4s %-14s %4ss %s\n' "$2" "$1" "$3" "${4:-}"
  case $2 in
    PASS) passed=$((passed + 1)) ;;
    SKIP) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)); echo "---- last lines of $work/$1.log:"; tail -n 25 "$work/$1.log"; echo "----" ;;
  esac
}

# matrix NAME CC CMAKE-ARGS...: configure from scratch, build all targets.
matrix() {
  name=$1 cc=$2
  shift 2
  if ! have "$cc"; then report "$name" SKIP 0 "($cc not found)"; return; fi
  if ! pkg-config --exists cmocka; then report "$name" SKIP 0 "(CMocka not found: the unit tests cannot be built)"; return; fi
  t0=$(date +%s)
  rm -rf "${work:?}/$name"
  if cmake -S "$src" -B "$work/$name" -DCMAKE_C_COMPILER="$cc" -DMODELC_WERROR=ON "$@" > "$work/$name.log" 2>&1 &&
     cmake --build "$work/$name" -j"$jobs" >> "$work/$name.log" 2>&1; then
    report "$name" PASS $(($(date +%s) - t0))
  else
    report "$name" FAIL $(($(date +%s) - t0)) "(configure or build failed)"
  fi
}

matrix gcc-release gcc -DCMAKE_BUILD_TYPE=Release
matrix gcc-debug-san gcc -DCMAKE_BUILD_TYPE=Debug -DMODELC_SANITIZE=ON
matrix clang-release clang -DCMAKE_BUILD_TYPE=Release

# no-cmocka: a pkg-config search path holding every .pc file this machine
# has except cmocka's, so pkg_check_modules finds protobuf-c and not CMocka.
name=no-cmocka
t0=$(date +%s)
log="$work/$name.log"
rm -rf "${work:?}/$name" "$work/pc-no-cmocka"
mkdir -p "$work/pc-no-cmocka"
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
  for pc in "$d"/*.pc; do
    [ -f "$pc" ] && [ "$(basename "$pc")" != cmocka.pc ] && ln -sf "$pc" "$work/pc-no-cmocka/"
  done
done
ok=1
if PKG_CONFIG_LIBDIR="$work/pc-no-cmocka" PKG_CONFIG_PATH="" pkg-config --exists cmocka; then
  echo "CMocka is still visible through $work/pc-no-cmocka" > "$log"
  ok=0
elif ! PKG_CONFIG_LIBDIR="$work/pc-no-cmocka" PKG_CONFIG_PATH="" \
       cmake -S "$src" -B "$work/$name" -DCMAKE_C_COMPILER=gcc > "$log" 2>&1; then
  echo "configure failed without CMocka" >> "$log"
  ok=0
elif ! grep -q "unit tests: OFF (CMocka not found" "$log"; then
  echo "configure did not say that the unit tests are off" >> "$log"
  ok=0
elif ! cmake --build "$work/$name" -j"$jobs" >> "$log" 2>&1; then
  echo "build failed without CMocka" >> "$log"
  ok=0
elif [ ! -x "$work/$name/modelc" ] || [ -e "$work/$name/tests/test_npy" ]; then
  echo "expected modelc built and no unit test program" >> "$log"
  ok=0
fi
if [ $ok = 1 ]; then report "$name" PASS $(($(date +%s) - t0)); else report "$name" FAIL $(($(date +%s) - t0)); fi

# install: the no-cmocka build, into a prefix and into a DESTDIR.
name=install
t0=$(date +%s)
log="$work/$name.log"
: > "$log"
ok=1
if [ ! -x "$work/no-cmocka/modelc" ]; then
  echo "no build to install (no-cmocka failed)" >> "$log"
  ok=0
else
  rm -rf "${work:?}/prefix" "${work:?}/destdir"
  prefix_default="$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$work/no-cmocka/CMakeCache.txt")"
  bindir="$(sed -n 's/^CMAKE_INSTALL_BINDIR:PATH=//p' "$work/no-cmocka/CMakeCache.txt")"
  if ! cmake --install "$work/no-cmocka" --prefix "$work/prefix" >> "$log" 2>&1; then
    echo "cmake --install --prefix failed" >> "$log"
    ok=0
  elif ! DESTDIR="$work/destdir" cmake --install "$work/no-cmocka" >> "$log" 2>&1; then
    echo "DESTDIR=... cmake --install failed" >> "$log"
    ok=0
  fi
  for dir in "$work/prefix/$bindir" "$work/destdir$prefix_default/$bindir"; do
    [ $ok = 1 ] || break
    # Found on PATH, by name, from outside the source tree, and it works.
    if ! (cd /tmp && PATH="$dir:/usr/bin:/bin" modelc info "$src/models/lenet5/model.onnx") >> "$log" 2>&1; then
      echo "modelc from $dir (on PATH) did not run: $(ls "$dir" 2>&1)" >> "$log"
      ok=0
    elif [ "$(PATH="$dir:/usr/bin:/bin" command -v modelc)" != "$dir/modelc" ]; then
      echo "modelc on PATH is not the installed one" >> "$log"
      ok=0
    fi
  done
fi
if [ $ok = 1 ]; then report "$name" PASS $(($(date +%s) - t0)); else report "$name" FAIL $(($(date +%s) - t0)); fi

echo "build matrix: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] || exit 1
[ $skipped -eq 0 ] || exit 77
exit 0
