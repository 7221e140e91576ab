#!/bin/sh
# cli_options.sh MODELC
# An option either works for a command or is refused: every command is
# given every option, and those that do not apply to it (per the usage in
# DESIGN.md and `modelc COMMAND --help`, written out again below) must exit
# 2 with one stderr line naming the option and the command; the others must
# get past option parsing (the model does not exist, so they stop there).
# --threads applies to compile only.  Also:
# `modelc --version` prints the project version from CMakeLists.txt.
set -u
modelc=$1
fails=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

model_opts="--shape --dim --const --no-fold --no-dce --no-identity --no-bnfold --no-fuse --no-padfold --no-transfold --no-schedule --no-inplace --max-bytes"
applies() {   # applies COMMAND: the options it takes
  case $1 in
  compile) echo "-o --name --emit-main --profile --threads $model_opts" ;;
  run) echo "-o --input --seed $model_opts" ;;
  check) echo "--input --seed --cc --rtol --atol --keep --verbose -v --bisect $model_opts" ;;
  info) echo "--memory-svg $model_opts" ;;
  graph) echo "--format $model_opts" ;;
  test-onnx) echo "--cc --rtol --atol --keep --verbose -v $model_opts" ;;
  ops) echo "" ;;
  convert) echo "--max-bytes" ;;
  fmt) echo "" ;;
  export) echo "-o $model_opts" ;;
  esac
}
value() {   # a well-formed value for an option, "" for a flag
  case $1 in
  -o) echo "$tmp/out" ;;
  --memory-svg) echo "$tmp/plan.svg" ;;
  --name) echo net ;;
  --format) echo dot ;;
  --input | --const) echo "x=$tmp/none.npy" ;;
  --shape) echo x=1,2 ;;
  --dim) echo N=2 ;;
  --seed | --threads | --max-bytes) echo 7 ;;
  --cc) echo cc ;;
  --rtol | --atol) echo 0.5 ;;
  *) echo "" ;;
  esac
}
all="-o --name --emit-main --profile --threads --format --input --seed --cc --rtol --atol --keep --verbose -v --bisect --memory-svg $model_opts"

for cmd in compile run check info graph test-onnx ops convert fmt export; do
  case $cmd in
  ops) pos="" ;;
  convert) pos="$tmp/no.pb $tmp/o.npy" ;;
  fmt) pos="$tmp/no_model.nn" ;;
  *) pos="$tmp/no_model.onnx" ;;
  esac
  for opt in $all; do
    n=$((n + 1))
    val=$(value "$opt")
    # shellcheck disable=SC2086
    if [ -n "$val" ]; then "$modelc" $cmd $pos "$opt" "$val" > /dev/null 2> "$tmp/err"
    else "$modelc" $cmd $pos "$opt" > /dev/null 2> "$tmp/err"; fi
    got=$?
    lines=$(wc -l < "$tmp/err")
    if printf ' %s ' "$(applies $cmd)" | grep -q -- " $opt "; then
      ok=$(grep -q "does not apply\|unknown option" "$tmp/err" || echo y)
      want="accepted"
    else
      ok=$([ "$got" -eq 2 ] && [ "$lines" -eq 1 ] &&
           grep -q -- "option $opt does not apply to 'modelc $cmd'" "$tmp/err" && echo y)
      want="refused with exit 2"
    fi
    if [ "$ok" != y ]; then
      echo "FAIL: modelc $cmd $pos $opt $val: exit $got, want $want:"
      cat "$tmp/err"
      fails=$((fails + 1))
    fi
  done
done
echo "$n command x option pairs checked"

n=$((n + 1))
want=$(sed -n 's/^project(modelc VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
got=$("$modelc" --version)
if [ -z "$want" ] || [ "$got" != "modelc $want" ]; then
  echo "FAIL: modelc --version printed '$got', CMakeLists.txt says '$want'"
  fails=$((fails + 1))
else
  echo "ok: modelc --version -> $got"
fi
echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
