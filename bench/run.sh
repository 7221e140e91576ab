#!/bin/sh
# bench/run.sh [MODELC] - the speed of modelc's generated C beside ONNX Runtime and PyTorch,
# measured in one run on one machine, on the benchmark set of issue 8 (bench/models.list, then
# the bundled models of tests/e2e/models.list). Writes bench/RESULTS.md.
#
# Why it is built this way:
#  - Ratios measured in the same run are what compare across machines and days; absolute times
#    are kept for context. ratio = modelc's time / ONNX Runtime's (C API, one thread), below 1 is
#    faster than ONNX Runtime.
#  - No time is reported for a wrong answer: every engine's outputs are first checked against the
#    reference (PyTorch's output for the bench nets, the bundled ONNX Runtime output for the
#    others; rtol 1e-3, atol 1e-4). An engine that fails shows "wrong" and the script exits 1.
#  - Engines alternate: each round runs every engine on every model once (BENCH_RUNS timed runs
#    after a warm-up, the process's median), so a burst of noise hits all engines alike; the
#    table holds the median of the BENCH_ROUNDS round medians, and the spread of those. The
#    one-thread engines of round r run pinned to one CPU, the first of the process's two in odd
#    rounds and the second in even ones (where taskset and two CPUs are there): on a VM whose
#    cores differ in speed, a process the scheduler puts on the slow one would otherwise lose to
#    one it puts on the other.
#  - Engines: modelc (NAME_main --bench, built with $CC $CFLAGS), ONNX Runtime at 1 and 2 intra-op
#    threads (bench/ort/ort_bench.c on the C API of the library in the onnxruntime-node npm
#    package), PyTorch (bench/torch_bench.py, one thread; only models with a PyTorch source here),
#    modelc built with -DMODELC_NO_VECTOR (the plain C path), and modelc compiled with --threads 2
#    and built with -fopenmp (only when modelc emits OpenMP pragmas; n/a otherwise).
#  - Installs what it lacks (apt-get, npm ci --ignore-scripts) and builds modelc if MODELC is
#    missing, so that it runs on a fresh Debian 12 as root.
#
# Knobs (environment): BENCH_RUNS (timed runs per process, default 300), BENCH_ROUNDS (default 5),
# BENCH_MODELS (names to run, default all), BENCH_OUT (default bench/RESULTS.md), BENCH_NOTE (a
# line for the report), BENCH_JOBS (build parallelism, default 2), BENCH_KEEP=1 (keep the work
# folder), CC, CFLAGS.
set -eu
cd "$(dirname "$0")/.."
# the command as given, for the report: the knobs set in the environment, then the arguments
cmd="sh bench/run.sh${1:+ $1}"
for v in BENCH_NOTE CFLAGS CC BENCH_MODELS BENCH_ROUNDS BENCH_RUNS; do
  if eval "[ -n \"\${$v+x}\" ]"; then
    val=$(eval "printf '%s' \"\$$v\"")
    cmd="$v='$val' $cmd"
  fi
done
MODELC=${1:-build/modelc}
N=${BENCH_RUNS:-300}
ROUNDS=${BENCH_ROUNDS:-5}
ONLY=${BENCH_MODELS:-}
OUT=${BENCH_OUT:-bench/RESULTS.md}
JOBS=${BENCH_JOBS:-2}
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O3 -march=native}
PY=/usr/bin/python3 # Debian's, with python3-torch; never the first python3 on PATH
RTOL=1e-3
ATOL=1e-4

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
case $N in '' | *[!0-9]*) die "BENCH_RUNS must be a positive integer, not '$N'" ;; esac
case $ROUNDS in '' | *[!0-9]*) die "BENCH_ROUNDS must be a positive integer, not '$ROUNDS'" ;; esac
if [ "$N" -lt 1 ] || [ "$ROUNDS" -lt 1 ]; then die "BENCH_RUNS and BENCH_ROUNDS must be at least 1"; fi

# ---- 1. what the machine lacks -----------------------------------------------------------------
# libopenblas0: libtorch recommends it; without it Debian's PyTorch runs on the reference BLAS
# and its times would say nothing about PyTorch.
need="cmake make gcc pkg-config libprotobuf-c-dev protobuf-c-compiler libonnx-dev
      python3 python3-numpy python3-onnx python3-torch libopenblas0"
missing=""
for p in $need; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm by command: a NodeSource nodejs brings its own npm, which Debian's npm conflicts with
command -v node > /dev/null && command -v npm > /dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  say "installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends $missing > /dev/null
fi
if [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
  say "installing onnxruntime-node (npm ci --ignore-scripts)"
  (cd bench/ort && npm ci --ignore-scripts --silent)
fi
case $(uname -m) in
  x86_64) ort_arch=x64 ;;
  aarch64) ort_arch=arm64 ;;
  *) die "no ONNX Runtime binary in onnxruntime-node for $(uname -m)" ;;
esac
ORT_LIB=$(find bench/ort/node_modules/onnxruntime-node/bin -path "*/linux/$ort_arch/libonnxruntime.so*" | sort | head -n 1)
[ -n "$ORT_LIB" ] || die "no libonnxruntime.so for linux/$ort_arch under bench/ort/node_modules/onnxruntime-node/bin"
if [ ! -x "$MODELC" ]; then
  [ "$MODELC" = build/modelc ] || die "$MODELC is not an executable"
  say "building modelc (cmake, Release)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build -j"$JOBS" --target modelc > /dev/null
fi

tmp=$(mktemp -d /tmp/modelc-bench-XXXXXX)
if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work folder: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
load_start=$(cut -d' ' -f1 /proc/loadavg)

$CC -std=c99 -O2 -Wall -Wextra -Iruntime -o "$tmp/ort_bench" bench/ort/ort_bench.c runtime/npy.c -ldl
ORT="$tmp/ort_bench --lib $ORT_LIB"
ort_version=$($ORT --version)
# torch.set_num_threads does not reach a BLAS PyTorch was not built with: pin that one too
# ($TORCH_ENV, $ORT, $all_ins and $c_ins are word lists: left unquoted on purpose)
TORCH_ENV="OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1"
# shellcheck disable=SC2086
torch_version=$(env $TORCH_ENV $PY bench/torch_bench.py --version)

# --threads 2 is timed only when modelc accepts it and emits OpenMP pragmas
threads_note=""
if ! "$MODELC" compile bench/models/resnet8/model.onnx -o "$tmp/probe" --name p --threads 2 > /dev/null 2>&1; then
  threads_note="modelc compile refuses --threads"
elif ! grep -q "omp parallel" "$tmp/probe/p.c"; then
  threads_note="modelc compile accepts --threads 2 but emits no OpenMP pragma"
fi

# ---- 2. the set: "name folder options" ---------------------------------------------------------
: > "$tmp/set"
grep -v '^#' bench/models.list | while read -r m opts; do
  if [ -n "$m" ]; then echo "$m bench/models/$m $opts"; fi
done >> "$tmp/set"
grep -v '^#' tests/e2e/models.list | while read -r m opts; do
  if [ -n "$m" ]; then echo "$m models/$m $opts"; fi
done >> "$tmp/set"
if [ -n "$ONLY" ]; then
  for m in $ONLY; do grep -q "^$m " "$tmp/set" || die "BENCH_MODELS: no model '$m' in the set"; done
  awk -v only=" $ONLY " 'index(only, " " $1 " ")' "$tmp/set" > "$tmp/set2"
  mv "$tmp/set2" "$tmp/set"
fi

# the order of a round: modelc's two builds back to back, so that the 2-thread speed-up is a ratio
# of two times taken seconds apart, not across the whole round (see "Issue 8 targets" below)
ENGINES="modelc mt2 ort1 ort2 torch novec"
status=0
san() { printf '%s' "$1" | sed 's/[^A-Za-z0-9._-]/_/g'; }

# writes $w/run_<engine>: a command that takes [--bench N] [-o DIR]
engine_script() { # engine, command words (already quoted where needed)
  e=$1
  shift
  printf '#!/bin/sh\nexec %s "$@"\n' "$*" > "$w/run_$e"
}

# "reference produced" pairs for the engine $1: modelc's outputs are named after the model's
# outputs (the order of modelc info), the others' by index
output_pairs() {
  k=0
  for r in $refs; do
    if [ "$1" = modelc ] || [ "$1" = novec ] || [ "$1" = mt2 ]; then
      nm=$(sed -n "$((k + 1))p" "$w/outnames")
      echo "$r $w/o_$1/$(san "${nm:-output $k is not in modelc info}").npy"
    else
      echo "$r $w/o_$1/output_$k.npy"
    fi
    k=$((k + 1))
  done
}

# runs engine $1 once with -o, checks its outputs, and admits it to the timing if they match
try_engine() {
  e=$1
  mkdir -p "$w/o_$e"
  if ! sh "$w/run_$e" -o "$w/o_$e" > "$w/o_$e.log" 2>&1 < /dev/null; then
    say "$m: $e failed: $(grep -v '^$' "$w/o_$e.log" | tail -n 1)"
    echo "failed" > "$w/check_$e"
    echo "$m: $e failed: $(grep -v '^$' "$w/o_$e.log" | tail -n 1)" >> "$tmp/notes"
    status=1
    return 0
  fi
  # shellcheck disable=SC2046
  if $PY bench/compare.py "$e" --rtol $RTOL --atol $ATOL $(output_pairs "$e") > "$w/cmp_$e" 2>&1 < /dev/null; then
    sed -n 's/.*max |diff| //p' "$w/cmp_$e" > "$w/check_$e"
    echo "$e" >> "$w/engines"
  else
    say "$m: $(tail -n 1 "$w/cmp_$e")"
    echo "wrong" > "$w/check_$e"
    echo "$m: $(tail -n 1 "$w/cmp_$e")" >> "$tmp/notes"
    status=1
  fi
}

# ---- 3. per model: build, run each engine once, check its outputs -------------------------------
while read -r m dir opts; do
  w=$tmp/$m
  mkdir -p "$w"
  say "$m: building and checking"
  onnx=$dir/model.onnx
  : > "$w/engines"
  : > "$w/outnames"
  # inputs (all for ONNX Runtime, the non-constant ones for modelc) and reference outputs
  all_ins="" c_ins="" refs=""
  if [ -d "$dir/test_data_set_0" ]; then
    i=0
    while [ -f "$dir/test_data_set_0/input_$i.pb" ]; do
      pb=$dir/test_data_set_0/input_$i.pb
      "$MODELC" convert "$pb" "$w/in_$i.npy" < /dev/null
      all_ins="$all_ins $w/in_$i.npy"
      case " $opts " in
        *"=$pb "*) ;; # made a compile-time constant by --const
        *) c_ins="$c_ins $w/in_$i.npy" ;;
      esac
      i=$((i + 1))
    done
    i=0
    while [ -f "$dir/test_data_set_0/output_$i.pb" ]; do
      "$MODELC" convert "$dir/test_data_set_0/output_$i.pb" "$w/ref_$i.npy" < /dev/null
      refs="$refs $w/ref_$i.npy"
      i=$((i + 1))
    done
  else
    i=0
    while [ -f "$dir/input_$i.npy" ]; do
      all_ins="$all_ins $dir/input_$i.npy"
      i=$((i + 1))
    done
    c_ins=$all_ins
    i=0
    while [ -f "$dir/output_$i.npy" ]; do
      refs="$refs $dir/output_$i.npy"
      i=$((i + 1))
    done
  fi
  if [ -z "$all_ins" ] || [ -z "$refs" ]; then die "$m: no inputs or reference outputs in $dir"; fi

  # modelc: compile once, build with the vector path on and off; compile again for 2 threads
  # shellcheck disable=SC2086
  if "$MODELC" info "$onnx" $opts > "$w/info" 2> "$w/info.err" < /dev/null &&
    "$MODELC" compile "$onnx" -o "$w/c" --name m --emit-main $opts > /dev/null 2> "$w/compile.err" < /dev/null; then
    macs=$(sed -n 's/^MACs: //p' "$w/info")
    [ -n "$macs" ] || die "$m: modelc info printed no MACs line"
    echo "$macs" > "$w/macs"
    if [ -f "$dir/macs" ] && [ "$(cat "$dir/macs")" != "$macs" ]; then
      echo "$m: modelc info counts $macs MACs, bench/make_models.py $(cat "$dir/macs"); GFLOP/s uses modelc's" >> "$tmp/notes"
    fi
    awk '$1 == "output" { print $2 }' "$w/info" > "$w/outnames"
    # shellcheck disable=SC2086
    if $CC $CFLAGS -o "$w/c/m_main" "$w/c/m.c" "$w/c/m_weights.c" "$w/c/m_main.c" -lm 2> "$w/cc.err" &&
      $CC $CFLAGS -DMODELC_NO_VECTOR -o "$w/c/m_main_novec" "$w/c/m.c" "$w/c/m_weights.c" "$w/c/m_main.c" -lm 2>> "$w/cc.err"; then
      engine_script modelc "'$w/c/m_main'" $c_ins
      engine_script novec "'$w/c/m_main_novec'" $c_ins
      try_engine modelc
      try_engine novec
      grep -q MODELC_NO_VECTOR "$w/c/m.c" || echo "$m" >> "$tmp/novec_inert"
    else
      echo "$m: $CC failed on the emitted C: $(head -n 1 "$w/cc.err")" >> "$tmp/notes"
      echo "cc failed" > "$w/check_modelc"
      echo "cc failed" > "$w/check_novec"
      status=1
    fi
    if [ -z "$threads_note" ]; then
      # shellcheck disable=SC2086
      if "$MODELC" compile "$onnx" -o "$w/t" --name m --emit-main --threads 2 $opts > /dev/null 2> "$w/compile_t.err" < /dev/null &&
        $CC $CFLAGS -fopenmp -o "$w/t/m_main" "$w/t/m.c" "$w/t/m_weights.c" "$w/t/m_main.c" -lm 2> "$w/cc_t.err"; then
        engine_script mt2 env OMP_NUM_THREADS=2 "'$w/t/m_main'" $c_ins
        try_engine mt2
      else
        echo "$m: the --threads 2 build failed: $(cat "$w/compile_t.err" "$w/cc_t.err" 2> /dev/null | head -n 1)" >> "$tmp/notes"
        echo "build failed" > "$w/check_mt2"
        status=1
      fi
    fi
  else
    echo "$m: modelc: $(cat "$w/info.err" "$w/compile.err" 2> /dev/null | head -n 1)" >> "$tmp/notes"
    echo "not compiled" > "$w/check_modelc"
    echo "not compiled" > "$w/check_novec"
    status=1
  fi
  # ONNX Runtime, 1 and 2 intra-op threads
  # shellcheck disable=SC2086
  engine_script ort1 "$ORT" "'$onnx'" --threads 1 --by-index $all_ins
  # shellcheck disable=SC2086
  engine_script ort2 "$ORT" "'$onnx'" --threads 2 --by-index $all_ins
  try_engine ort1
  try_engine ort2
  # PyTorch, where this repository has the model's source (exit 3: it has not)
  # shellcheck disable=SC2086
  if env $TORCH_ENV $PY bench/torch_bench.py "$m" --has < /dev/null; then
    first_in=${all_ins# }
    # shellcheck disable=SC2086
    engine_script torch env $TORCH_ENV $PY bench/torch_bench.py "$m" "${first_in%% *}"
    try_engine torch
  else
    [ $? -eq 3 ] || die "$m: bench/torch_bench.py --has failed"
  fi
done < "$tmp/set"

# ---- 4. timing: rounds of every engine on every model -------------------------------------------
# For the nets with a 2-thread target, modelc's 1-thread build also runs pinned (taskset) on the
# first CPU this script may use, then the second, before and after the back-to-back pair modelc /
# modelc 2t: the report lists those times by round, so that a VM whose cores change speed (see
# bench/README.md) shows on the page next to the speed-up it gives.
PROBED="resnet8 mobilenetv2_96"
PROBE_RUNS=$((N / 6 > 20 ? N / 6 : 20))
probe_note=""
# the first two CPUs of this process's affinity list ("0-3,6" and the like), if it has two
cpus=$(taskset -cp $$ 2> /dev/null | sed 's/.*: //' | tr ',' '\n' |
  awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2) && n < 2; c++) { printf "%s%d", n ? " " : "", c; n++ } }')
case $cpus in
  *" "*) ;;
  *)
    probe_note="no taskset or fewer than 2 CPUs: no pinned 1-thread times"
    PROBED=""
    ;;
esac
# the one-thread engines' CPU in round r, when they can be pinned: the first CPU in odd rounds
pin_cpu() { if [ -z "$probe_note" ]; then echo "$cpus" | cut -d' ' -f$((($1 - 1) % 2 + 1)); fi; }
probe() { # the medians of modelc's 1-thread build pinned on each of the two CPUs, appended to $w/probe
  for c in $cpus; do
    taskset -c "$c" sh "$w/run_modelc" --bench "$PROBE_RUNS" < /dev/null 2> /dev/null | sed -n 's/^median_us: //p' | tail -n 1
  done | tr '\n' ' ' >> "$w/probe"
}
r=1
while [ "$r" -le "$ROUNDS" ]; do
  say "round $r of $ROUNDS ($N runs per engine and model)"
  while read -r m dir opts; do
    w=$tmp/$m
    probed=0
    case " $PROBED " in *" $m "*) grep -qx mt2 "$w/engines" && grep -qx modelc "$w/engines" && probed=1 ;; esac
    for e in $ENGINES; do
      grep -qx "$e" "$w/engines" || continue
      [ "$e" != modelc ] || [ $probed = 0 ] || probe
      pin=""
      case $e in mt2 | ort2) ;; *) [ -z "$(pin_cpu "$r")" ] || pin="taskset -c $(pin_cpu "$r")" ;; esac
      # shellcheck disable=SC2086
      t=$($pin sh "$w/run_$e" --bench "$N" < /dev/null 2> "$w/timing_$e.err" | sed -n 's/^median_us: //p' | tail -n 1)
      [ -n "$t" ] || die "$m: $e printed no median_us: $(tail -n 1 "$w/timing_$e.err")"
      echo "$t" >> "$w/t_$e"
      if [ "$e" = mt2 ] && [ $probed = 1 ]; then
        probe
        echo >> "$w/probe"
      fi
    done
  done < "$tmp/set"
  r=$((r + 1))
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

# ---- 5. the report -------------------------------------------------------------------------------
median_of() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# the time cell of engine $2 for model dir $1: median of round medians, or why there is none
cell() {
  if [ -f "$1/t_$2" ]; then
    printf '%.1f' "$(median_of "$1/t_$2")"
  elif [ -f "$1/check_$2" ]; then
    cat "$1/check_$2"
  else
    echo "n/a"
  fi
}

{
  echo "# Benchmarks"
  echo
  if awk -v a="$load_start" -v b="$load_end" 'BEGIN { exit !(a >= 0.5 || b >= 0.5) }'; then
    echo "**Measured on a busy machine (load average $load_start at the start, $load_end at the end): the"
    echo "times are noisy; do not quote them.**"
    echo
  fi
  [ -z "${BENCH_NOTE:-}" ] || { echo "$BENCH_NOTE"; echo; }
  echo "Time of one inference at batch 1 in microseconds: the median over $ROUNDS rounds of each round's"
  echo "median of $N timed runs after a warm-up (1 run for modelc's harness, 10 for ONNX Runtime and"
  if [ -z "$probe_note" ]; then
    echo "PyTorch); engines alternate within every round, the one-thread ones pinned to one CPU (CPU $(pin_cpu 1) in"
    echo "odd rounds, CPU $(pin_cpu 2) in even ones), the two-thread ones free. Every engine's"
  else
    echo "PyTorch); engines alternate within every round. Every engine's"
  fi
  echo "outputs were checked against the reference before it was timed (rtol $RTOL, atol $ATOL)."
  echo
  echo "- **modelc**: the generated C (\`modelc compile --emit-main\`, then \`NAME_main --bench\`) built with"
  echo "  \`$CC $CFLAGS\`, one thread. **GFLOP/s** = 2 x the MACs \`modelc info\` counts / time."
  echo "- **ORT 1t / 2t**: ONNX Runtime $ort_version (the library of the npm package onnxruntime-node) through"
  echo "  its C API (\`bench/ort/ort_bench.c\`), intra-op threads 1 or 2, sequential, all graph optimizations."
  echo "- **PyTorch**: $torch_version (Debian python3-torch), eager, one thread, \`torch.inference_mode\`,"
  echo "  BLAS \`$(readlink -f /usr/lib/"$(gcc -print-multiarch)"/libblas.so.3 2> /dev/null || echo unknown)\`; only the models"
  echo "  whose PyTorch source is in this repository."
  echo "- **novec**: modelc's C built with \`-DMODELC_NO_VECTOR\` as well (the plain C path)."
  if [ -n "$threads_note" ]; then
    echo "- **modelc 2t**: n/a: $threads_note."
  else
    echo "- **modelc 2t**: compiled with \`--threads 2\`, built with \`-fopenmp\`, OMP_NUM_THREADS=2."
  fi
  echo "- **ratio** = modelc / ORT 1t (below 1: modelc is faster); **spread**: (slowest - fastest) / median"
  echo "  of the round medians, the worst over the row's engines."
  echo
  echo "| model | MFLOP | modelc µs | GFLOP/s | ORT 1t µs | ORT 2t µs | PyTorch µs | novec µs | modelc 2t µs | ratio | spread |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  while read -r m dir opts; do
    w=$tmp/$m
    mflop="?" gflops="" ratio=""
    if [ -f "$w/macs" ]; then mflop=$(awk -v x="$(cat "$w/macs")" 'BEGIN { printf "%.2f", 2 * x / 1e6 }'); fi
    c=$(cell "$w" modelc)
    if [ -f "$w/t_modelc" ] && [ -f "$w/macs" ]; then
      gflops=$(awk -v x="$(cat "$w/macs")" -v t="$c" 'BEGIN { printf "%.1f", 2 * x / t / 1e3 }')
    fi
    if [ -f "$w/t_modelc" ] && [ -f "$w/t_ort1" ]; then
      ratio=$(awk -v a="$c" -v b="$(cell "$w" ort1)" 'BEGIN { printf "%.2f", a / b }')
      echo "$m $ratio" >> "$tmp/ratios"
    fi
    spread=$(for e in $ENGINES; do
      [ -f "$w/t_$e" ] && sort -g "$w/t_$e" | awk -v med="$(median_of "$w/t_$e")" \
        '{ v[NR] = $1 } END { printf "%.4f\n", (v[NR] - v[1]) / med }'
    done | sort -g | tail -n 1)
    [ -z "$spread" ] || spread=$(awk -v s="$spread" 'BEGIN { printf "%.0f%%", 100 * s }')
    nv=$(cell "$w" novec)
    if [ -f "$w/t_novec" ] && [ -f "$tmp/novec_inert" ] && grep -qx "$m" "$tmp/novec_inert"; then nv="$nv ‡"; fi
    echo "| $m | $mflop | $c | $gflops | $(cell "$w" ort1) | $(cell "$w" ort2) | $(cell "$w" torch) | $nv | $(cell "$w" mt2) | $ratio | $spread |"
  done < "$tmp/set"
  if [ -f "$tmp/ratios" ]; then
    geo=$(awk '{ s += log($2); n++ } END { printf "%.2f", exp(s / n) }' "$tmp/ratios")
    echo "| **geometric mean** | | | | | | | | | **$geo** | |"
  fi
  echo
  if [ -f "$tmp/novec_inert" ]; then
    echo "‡ The emitted C does not test \`MODELC_NO_VECTOR\` yet: this build is the same code as modelc's."
    echo
  fi
  echo "## Issue 8 targets (for when the kernels are fast; measured, never asserted)"
  echo
  if [ -f "$tmp/ratios" ]; then
    nr=$(wc -l < "$tmp/ratios")
    echo "- geometric mean of modelc / ORT 1t over the $nr models timed: **$geo** (target: at most 1.0)"
    echo "- worst model: **$(sort -k2 -g "$tmp/ratios" | tail -n 1 | awk '{ print $1 ", " $2 }')** (target: none above 1.5)"
  fi
  w=$tmp/resnet8
  if [ -f "$w/t_modelc" ] && [ -f "$w/macs" ]; then
    echo "- ResNet-8: **$(awk -v x="$(cat "$w/macs")" -v t="$(cell "$w" modelc)" 'BEGIN { printf "%.1f", 2 * x / t / 1e3 }') GFLOP/s** (target: at least 70)"
  fi
  for m in resnet8 mobilenetv2_96; do
    w=$tmp/$m
    [ -d "$w" ] || continue
    if [ -f "$w/t_mt2" ] && [ -f "$w/t_modelc" ]; then
      # per round: modelc's time / modelc 2t's, measured back to back; the median and the range
      paste "$w/t_modelc" "$w/t_mt2" | awk '{ print $1 / $2 }' > "$w/speedup"
      echo "- $m, 2 threads: **$(printf '%.2f' "$(median_of "$w/speedup")")x** the speed of 1 thread (target: at least 1.6; the median of the rounds' paired ratios, $(sort -g "$w/speedup" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f to %.2f", lo, hi }'))"
      if [ -f "$w/probe" ]; then
        # by round: its speed-up, then the pinned 1-thread times (first CPU/second CPU, before; after)
        sp=$(paste -d' ' "$w/speedup" "$w/probe" | awk 'NF == 5 { printf "%s%.2fx: %.0f/%.0f, %.0f/%.0f", (NR > 1 ? "; " : ""), $1, $2, $3, $4, $5 }')
        echo "  - by round, the speed-up, then 1-thread µs pinned on CPU $(pin_cpu 1)/CPU $(pin_cpu 2) before and after the pair: $sp"
      elif [ -n "$probe_note" ]; then
        echo "  - $probe_note"
      fi
    else
      echo "- $m, 2 threads: n/a${threads_note:+ ($threads_note)} (target: at least 1.6x the speed of 1 thread)"
    fi
  done
  echo
  echo "## Checks"
  echo
  echo "Largest |difference| from the reference over all outputs (PyTorch's outputs for the bench nets,"
  echo "the bundled ONNX Runtime outputs for the others); \"wrong\" means beyond tolerance, not timed."
  echo
  echo "| model | modelc | novec | modelc 2t | ORT 1t | ORT 2t | PyTorch |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  while read -r m dir opts; do
    w=$tmp/$m
    row="| $m"
    for e in modelc novec mt2 ort1 ort2 torch; do
      if [ -f "$w/check_$e" ]; then row="$row | $(cat "$w/check_$e")"; else row="$row | n/a"; fi
    done
    echo "$row |"
  done < "$tmp/set"
  if [ -f "$tmp/notes" ]; then
    echo
    echo "Notes:"
    echo
    sed 's/^/- /' "$tmp/notes"
  fi
  echo
  echo "## Machine and versions"
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') (family $(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //'), model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | sed 's/.*: //')), $(nproc) cores; SIMD: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f' | tr '\n' ' ' | sed 's/ $//')"
  echo "- load average: $load_start at the start, $load_end at the end"
  echo "- OS: Debian $(cat /etc/debian_version 2> /dev/null || echo '?'), Linux $(uname -r)"
  echo "- compiler: $($CC --version | head -n 1)"
  echo "- modelc: $(git rev-parse --short HEAD 2> /dev/null || echo '?')$(git diff --quiet HEAD -- . ':!bench/RESULTS.md' 2> /dev/null || echo ' (with uncommitted changes)')"
  echo "- ONNX Runtime $ort_version, PyTorch $torch_version"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- command: \`$cmd\`"
} > "$tmp/RESULTS.md"
cp "$tmp/RESULTS.md" "$OUT"
cat "$OUT"
[ "$status" -eq 0 ] || die "some engine failed or computed wrong outputs (see the Checks table)"
