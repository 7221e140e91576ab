#!/bin/sh
# bench/run.sh [MODELC] - inference speed of modelc's generated C against
# ONNX Runtime (onnxruntime-node, one thread), measured in the same run on
# the same inputs, for every model in tests/e2e/models.list.  Writes the
# table to bench/RESULTS.md.  Ratios, not absolute times, are what compare
# across machines: ratio = modelc median / ONNX Runtime median (below 1 is
# faster than ONNX Runtime).
set -eu
cd "$(dirname "$0")/.."
MODELC=${1:-build/modelc}
N=${BENCH_RUNS:-300}
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O3 -march=native}
[ -x "$MODELC" ] || { echo "bench: build modelc first (cmake --build build)"; exit 1; }
if [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
  command -v npm > /dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm > /dev/null; }
  (cd bench/ort && npm ci --silent)
fi
tmp=$(mktemp -d /tmp/modelc-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rows=""
grep -v '^#' tests/e2e/models.list | while read -r m opts; do
  [ -n "$m" ] || continue
  d=models/$m
  out=$tmp/$m
  # shellcheck disable=SC2086
  "$MODELC" compile "$d/model.onnx" -o "$out" --name m --emit-main $opts > /dev/null
  $CC $CFLAGS -o "$out/m_main" "$out"/m.c "$out"/m_weights.c "$out"/m_main.c -lm
  # inputs the compiled model still takes, in order (those not made --const)
  ins="" pbs=""
  i=0
  while [ -f "$d/test_data_set_0/input_$i.pb" ]; do
    pb=$d/test_data_set_0/input_$i.pb
    pbs="$pbs $pb"
    case " $opts " in
      *"=$pb "*) ;;   # made a compile-time constant by --const
      *) "$MODELC" convert "$pb" "$out/in$i.npy"
         ins="$ins $out/in$i.npy" ;;
    esac
    i=$((i + 1))
  done
  # shellcheck disable=SC2086
  c_us=$("$out/m_main" --bench "$N" $ins | sed -n 's/^median_us: //p')
  # shellcheck disable=SC2086
  ort_us=$(node bench/ort/run_ort.mjs "$d/model.onnx" "$tmp/ort-$m" $pbs --bench "$N" | sed -n 's/^median_us: //p')
  ratio=$(awk -v a="$c_us" -v b="$ort_us" 'BEGIN { printf "%.2f", a / b }')
  echo "| $m | $c_us | $ort_us | $ratio |"
done > "$tmp/rows.md"
{
  echo "# Benchmarks"
  echo
  echo "Inference time of one run, median of $N after a warm-up, single thread. modelc: the"
  echo "generated C built with \`$CC $CFLAGS\`; ONNX Runtime: onnxruntime-node $(node -p "require('./bench/ort/node_modules/onnxruntime-node/package.json').version"), intra-op"
  echo "threads 1, on the same inputs (each model's test_data_set_0). Ratio = modelc / ONNX Runtime."
  echo
  echo "Made by \`sh bench/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')."
  echo
  echo "| model | modelc median µs | ONNX Runtime median µs | ratio |"
  echo "|---|---:|---:|---:|"
  cat "$tmp/rows.md"
} > bench/RESULTS.md
cat bench/RESULTS.md
