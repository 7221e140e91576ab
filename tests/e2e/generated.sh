#!/bin/sh
# generated.sh MODELC [--check|--update]
# Emits the C of every model in tests/e2e/models.list into generated/<model>/
# and the op list into docs/ops.md (--update), or into a scratch folder and
# compares them byte for byte with the committed copies (--check, the
# default): generated code is part of the product, so any change to it shows
# up in review.
set -eu
modelc=$1
mode=${2:---check}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$modelc" ops > "$tmp/ops.md"
if [ "$mode" = --update ]; then
  mkdir -p "$root/docs"
  cp "$tmp/ops.md" "$root/docs/ops.md"
  echo "updated docs/ops.md"
elif ! cmp -s "$tmp/ops.md" "$root/docs/ops.md"; then
  echo "docs/ops.md is stale: regenerate with tests/e2e/generated.sh build/modelc --update"
  exit 1
fi
grep -v '^#' tests/e2e/models.list | while read -r m opts; do
  [ -n "$m" ] || continue
  name=$(printf '%s' "$m" | tr -c 'A-Za-z0-9_\n' '_')
  out=$tmp/$m
  # shellcheck disable=SC2086
  "$modelc" compile "models/$m/model.onnx" -o "$out" --name "$name" --emit-main $opts > /dev/null
  if [ "$mode" = --update ]; then
    rm -rf "$root/generated/$m"
    mkdir -p "$root/generated"
    cp -r "$out" "$root/generated/$m"
    echo "updated generated/$m"
  elif ! diff -r "$out" "$root/generated/$m" > "$tmp/diff.txt" 2>&1; then
    echo "generated/$m is stale: regenerate with tests/e2e/generated.sh build/modelc --update"
    head -20 "$tmp/diff.txt"
    exit 1
  else
    echo "generated/$m is current"
  fi
done
