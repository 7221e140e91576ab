#!/bin/sh
# run_fuzz.sh - the fuzzers' ctest driver.
#   run_fuzz.sh replay FUZZER DIR          run every file of DIR once (regressions)
#   run_fuzz.sh smoke FUZZER WORK SEEDS N  fuzz for N seconds from SEEDS, new
#                                          inputs kept in WORK (not committed)
# A crash, leak, timeout or out-of-memory makes libFuzzer exit non-zero and
# leaves the input as WORK.artifacts/crash-* (copy it to regressions/ once
# fixed).
set -eu
mode=$1 fuzzer=$2
opts="-rss_limit_mb=2048 -timeout=10 -print_final_stats=1"
case $mode in
replay)
  dir=$3
  set -- "$dir"/*
  [ -e "$1" ] || { echo "no regression inputs in $dir"; exit 0; }
  exec "$fuzzer" $opts -runs=1 "$@" ;;
smoke)
  work=$3 seeds=$4 secs=$5
  mkdir -p "$work" "$work.artifacts"
  cd "$work"
  exec "$fuzzer" $opts -max_total_time="$secs" -artifact_prefix="$work.artifacts/" "$work" "$seeds" ;;
*) echo "usage: run_fuzz.sh replay|smoke ..." >&2; exit 2 ;;
esac
