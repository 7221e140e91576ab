#!/bin/sh
# skips_without_cc.sh PROGRAM TEST... - a unit test that builds emitted C
# and lacks a compiler it needs must say so.  Runs the CMocka program
# PROGRAM twice: with a PATH on which neither cc nor clang exists (an empty
# folder; system() still finds /bin/sh by its absolute path), then with one
# that holds cc alone.  Each time every named TEST must be reported
# "[  SKIPPED ]" and none "[       OK ]", and the program must fail
# nothing.  Before the skip was reported, these tests returned early
# without cc, or left clang's half out, and CMocka counted them as passed.
set -u
# A skip leaves its test by longjmp, as a failure does, so the graph that
# test built is never freed: in a sanitized build LeakSanitizer would fail
# the program for that, which is not what this test is about.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
prog=$1
shift
bad=0
path_dir="$(mktemp -d)"
for have in none cc-only; do
  if [ $have = cc-only ]; then
    real_cc="$(command -v cc)" || { echo "SKIPPED: no cc to put on the cc-only PATH"; rm -rf "$path_dir"; exit 77; }
    ln -s "$real_cc" "$path_dir/cc"
  fi
  out="$(PATH="$path_dir" "$prog" 2>&1)"
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "FAIL ($have): $prog exited $rc (a skip is not a failure)"
    bad=1
  fi
  for t in "$@"; do
    if printf '%s\n' "$out" | grep -qF "[       OK ] $t"; then
      echo "FAIL ($have): $t reported OK though its C could not be built by both compilers"
      bad=1
    elif ! printf '%s\n' "$out" | grep -qF "[  SKIPPED ] $t"; then
      echo "FAIL ($have): $t not reported SKIPPED"
      bad=1
    else
      echo "ok ($have): $t SKIPPED"
    fi
  done
  [ $bad -eq 0 ] || printf '%s\n' "---- output of $prog, compilers on PATH: $have" "$out"
done
rm -rf "$path_dir"
[ $bad -eq 0 ] || exit 1
echo "all $# tests report SKIPPED without cc and clang, and with cc but no clang"
