#!/bin/sh
# cli_sweep.sh MODELC [DATA_DIR]
# Every command over every model of ONNX's backend test data (the node,
# pytorch-converted, pytorch-operator and simple folders of Debian's
# libonnx-testdata): info, graph, graph --format dot, compile and run
# (inputs seeded random) must exit 0, 1 or 2, with exactly one line on
# stderr when they fail and none when they succeed: never a signal, a hang
# (120 s per command: the sanitized build on a loaded machine needs 30 s
# for the biggest model) or a sanitizer report.  Models run two at a time.
#   cli_sweep.sh --one MODELC MODEL   sweeps one model (used through xargs)
set -u
if [ "${1:-}" = --one ]; then
  modelc=$2 model=$3
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for cmd in info graph dot compile run; do
    case $cmd in
    dot) set -- graph "$model" --format dot ;;
    compile) set -- compile "$model" -o "$tmp/c" ;;
    run) set -- run "$model" -o "$tmp/r" ;;
    *) set -- "$cmd" "$model" ;;
    esac
    timeout 120 "$modelc" "$@" > /dev/null 2> "$tmp/err"
    rc=$?
    lines=$(wc -l < "$tmp/err")
    why=""
    if [ "$rc" -gt 2 ]; then why="exit $rc (a signal, a hang or a sanitizer abort)"
    elif grep -q -E "Sanitizer|runtime error:" "$tmp/err"; then why="a sanitizer report"
    elif [ "$rc" -ne 0 ] && [ "$lines" -ne 1 ]; then why="exit $rc with $lines stderr lines"
    elif [ "$rc" -eq 0 ] && [ -s "$tmp/err" ]; then why="exit 0 with output on stderr"
    fi
    if [ -n "$why" ]; then
      echo "FAIL: modelc $*: $why"
      head -c 1500 "$tmp/err"
    fi
  done
  exit 0
fi
modelc=$1
data=${2:-/usr/share/libonnx-testdata/data}
if [ ! -d "$data/node" ]; then
  echo "SKIPPED: no ONNX backend test data in $data (install libonnx-testdata)"
  exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ls "$data"/node/*/model.onnx "$data"/pytorch-converted/*/model.onnx "$data"/pytorch-operator/*/model.onnx \
   "$data"/simple/*/model.onnx > "$out.list"
n=$(wc -l < "$out.list")
xargs -P 2 -n 1 sh "$0" --one "$modelc" < "$out.list" > "$out"
rm -f "$out.list"
fails=$(grep -c "^FAIL" "$out")
cat "$out"
echo "$n models x 5 commands: $fails failed"
[ "$fails" -eq 0 ]
