#!/bin/sh
# bench/train_bench.sh [MODELC] - the time of one training step (softmax cross-entropy, SGD lr 0.01
# momentum 0.9) in modelc's generated C beside PyTorch, at batch 1 and 32, for the MLP, LeNet-5 and
# ResNet-8 of bench/make_models.py, measured in one run. Writes the section "Training step" of
# bench/RESULTS.md (replacing it when there, the rest of the file kept).
#
# Why it is built this way:
#  - The nets are exported by bench/train_torch.py into the work folder, in training mode with a
#    symbolic batch dimension (the committed bench/models/*/model.onnx are eval-mode exports with
#    BatchNorm folded, which cannot train as the PyTorch module does). The export depends only on
#    the seeds; nothing binary is committed for it.
#  - modelc: `modelc compile --train --dim batch=B --emit-main`, built with $CC $CFLAGS (default
#    -O3 -march=native), one thread; timed by the harness's `--bench-train N` (NAME_train_step alone
#    on the batches in file order, after one untimed step). PyTorch: eager, one thread
#    (bench/train_torch.py time: zero_grad, forward, cross_entropy, backward, optimizer.step).
#  - No time is reported for a wrong step: first each net and batch trains one epoch of 4 batches in
#    both, and every step's loss must agree within rtol 1e-3 (the harness's --log against
#    train_torch.py losses); a pair that disagrees shows "wrong" and the script exits 1.
#  - Engines alternate: each round runs modelc then PyTorch on every net and batch (N timed steps,
#    the process's median), so a burst of noise hits both; the table holds the median of the
#    TRAIN_ROUNDS round medians.
#
# Knobs (environment): TRAIN_STEPS (timed steps per process, default 50 at batch 1 and 20 at batch
# 32), TRAIN_ROUNDS (default 3), TRAIN_NETS (default "mlp lenet5_mnist resnet8"), TRAIN_BATCHES
# (default "1 32"), BENCH_OUT (default bench/RESULTS.md), CC, CFLAGS, BENCH_KEEP=1 (keep the work
# folder). Needs python3-torch, python3-onnx, python3-numpy and a C compiler (bench/run.sh installs
# them).
set -eu
cd "$(dirname "$0")/.."
MODELC=${1:-build/modelc}
ROUNDS=${TRAIN_ROUNDS:-3}
NETS=${TRAIN_NETS:-mlp lenet5_mnist resnet8}
BATCHES=${TRAIN_BATCHES:-1 32}
OUT=${BENCH_OUT:-bench/RESULTS.md}
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O3 -march=native}
PY=/usr/bin/python3
OPT="sgd:lr=0.01,momentum=0.9"
TORCH_ENV="OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1"

die() { echo "train_bench: $*" >&2; exit 1; }
say() { echo "train_bench: $*" >&2; }
case $ROUNDS in '' | *[!0-9]*) die "TRAIN_ROUNDS must be a positive integer, not '$ROUNDS'" ;; esac
[ "$ROUNDS" -ge 1 ] || die "TRAIN_ROUNDS must be at least 1"
[ -x "$MODELC" ] || die "$MODELC is not an executable (build modelc first, see README.md)"
steps_for() { # batch
  if [ -n "${TRAIN_STEPS:-}" ]; then echo "$TRAIN_STEPS"; elif [ "$1" -ge 8 ]; then echo 20; else echo 50; fi
}

tmp=$(mktemp -d /tmp/modelc-train-bench-XXXXXX)
if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work folder: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
load_start=$(cut -d' ' -f1 /proc/loadavg)
# shellcheck disable=SC2086
torch_version=$(env $TORCH_ENV $PY bench/train_torch.py --version)
status=0

# ---- 1. export, compile, build, check every step's loss against PyTorch's --------------------------
: > "$tmp/set"
for n in $NETS; do
  for b in $BATCHES; do
    w=$tmp/${n}_b$b
    say "$n, batch $b: exporting, compiling, checking"
    # shellcheck disable=SC2086
    env $TORCH_ENV $PY bench/train_torch.py export "$n" "$w" "$b" < /dev/null || die "$n: the export failed"
    if ! "$MODELC" compile "$w/model.onnx" --dim batch="$b" -o "$w/c" --name m --emit-main --train \
      --loss softmax_cross_entropy --optimizer "$OPT" > /dev/null 2> "$w/compile.err" < /dev/null; then
      echo "not compiled: $(head -n 1 "$w/compile.err")" > "$w/check"
      status=1
      continue
    fi
    # shellcheck disable=SC2086
    if ! $CC $CFLAGS -o "$w/m_main" "$w/c/m.c" "$w/c/m_weights.c" "$w/c/m_main.c" -lm 2> "$w/cc.err"; then
      echo "cc failed: $(head -n 1 "$w/cc.err")" > "$w/check"
      status=1
      continue
    fi
    "$w/m_main" --train "$w/x.npy" "$w/y.npy" --epochs 1 --batch "$b" --log "$w/loss.csv" > /dev/null < /dev/null ||
      die "$n, batch $b: the harness failed"
    # shellcheck disable=SC2086
    env $TORCH_ENV $PY bench/train_torch.py losses "$n" "$w" "$b" > "$w/torch_losses" < /dev/null
    tail -n +2 "$w/loss.csv" | cut -d, -f2 > "$w/c_losses"
    if paste "$w/c_losses" "$w/torch_losses" | awk 'NF != 2 { bad = 1 }
         { d = $1 - $2; if (d < 0) d = -d; r = $2 < 0 ? -$2 : $2; if (d > 1e-3 * r + 1e-6) bad = 1
           if (d > m) m = d }
         END { printf "%.2g\n", m; exit bad || NR != 4 }' > "$w/check"; then
      echo "$n $b" >> "$tmp/set"
    else
      say "$n, batch $b: the losses differ from PyTorch's: $(tr '\n' ' ' < "$w/c_losses")/ $(tr '\n' ' ' < "$w/torch_losses")"
      echo "wrong" > "$w/check"
      status=1
    fi
  done
done

# ---- 2. timing: rounds of both engines on every net and batch ----------------------------------------
r=1
while [ "$r" -le "$ROUNDS" ]; do
  say "round $r of $ROUNDS"
  while read -r n b; do
    w=$tmp/${n}_b$b
    k=$(steps_for "$b")
    t=$("$w/m_main" --train "$w/x.npy" "$w/y.npy" --batch "$b" --bench-train "$k" < /dev/null | sed -n 's/^median_us: //p')
    [ -n "$t" ] || die "$n, batch $b: the harness printed no median_us"
    echo "$t" >> "$w/t_modelc"
    # shellcheck disable=SC2086
    t=$(env $TORCH_ENV $PY bench/train_torch.py time "$n" "$w" "$b" --steps "$k" < /dev/null | sed -n 's/^median_us: //p')
    [ -n "$t" ] || die "$n, batch $b: train_torch.py printed no median_us"
    echo "$t" >> "$w/t_torch"
  done < "$tmp/set"
  r=$((r + 1))
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

# ---- 3. the section -----------------------------------------------------------------------------------
median_of() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
  echo "## Training step"
  echo
  echo "\`sh bench/train_bench.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $load_start at the start,"
  echo "$load_end at the end$(awk -v a="$load_start" -v b="$load_end" 'BEGIN { if (a >= 0.5 || b >= 0.5) printf ": a busy machine, the times are noisy" }'))."
  echo "Time of one training step (forward, softmax cross-entropy, backward, SGD lr 0.01 momentum 0.9) in"
  echo "microseconds: the median over $ROUNDS rounds of each round's median step (one untimed step first);"
  echo "engines alternate within every round. Nets: bench/make_models.py's, exported in training mode"
  echo "(BatchNorm on batch statistics) with a symbolic batch by bench/train_torch.py. Before timing, four"
  echo "steps of each ran in both engines and every loss agreed (max |diff| in the last column)."
  echo
  echo "- **modelc**: \`modelc compile --train --dim batch=B --emit-main\`, built with \`$CC $CFLAGS\`, one"
  echo "  thread, \`NAME_main --bench-train N\`."
  echo "- **PyTorch**: $torch_version, eager, one thread (zero_grad, forward, loss, backward, step)."
  echo "- **ratio** = modelc / PyTorch (below 1: modelc is faster). Targets: at most 0.5 at batch 1, at"
  echo "  most 1.0 at batch 32."
  echo
  echo "| net | batch | modelc µs | PyTorch µs | ratio | loss check |"
  echo "|---|---:|---:|---:|---:|---:|"
  for n in $NETS; do
    for b in $BATCHES; do
      w=$tmp/${n}_b$b
      if [ -f "$w/t_modelc" ]; then
        c=$(median_of "$w/t_modelc")
        p=$(median_of "$w/t_torch")
        printf '| %s | %s | %.1f | %.1f | %.2f | %s |\n' "$n" "$b" "$c" "$p" "$(awk -v a="$c" -v b="$p" 'BEGIN { print a / b }')" "$(cat "$w/check")"
      else
        echo "| $n | $b | | | | $(cat "$w/check" 2> /dev/null || echo "not run") |"
      fi
    done
  done
  echo
} > "$tmp/section"

# replace the section in $OUT (from its heading to the next "## " heading), or append it
if [ -f "$OUT" ]; then
  awk -v sec="$tmp/section" '
    /^## Training step$/ { while ((getline l < sec) > 0) print l; skip = 1; next }
    skip && /^## / { skip = 0 }
    !skip { print }
    END { }' "$OUT" > "$tmp/out"
  grep -q '^## Training step$' "$OUT" || { echo; cat "$tmp/section"; } >> "$tmp/out"
else
  { echo "# Benchmarks"; echo; cat "$tmp/section"; } > "$tmp/out"
fi
cp "$tmp/out" "$OUT"
cat "$tmp/section"
say "wrote the section \"Training step\" of $OUT"
exit $status
