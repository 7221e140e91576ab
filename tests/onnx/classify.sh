#!/bin/sh
# classify.sh MODELC - does `modelc test-onnx` classify right?
#
# Runs the tiny folders of tests/data/onnx/ (made by make.py there): the
# prefix of each folder's name is the status it must get (pass_, fail_,
# unsupported_), and the specialized Reshape must say which input it bound.
# Run from the repository root.
set -u
MODELC=${1:?usage: classify.sh MODELC}
DATA=tests/data/onnx
out=$("$MODELC" test-onnx -v "$DATA"/*/)
status=0
for d in "$DATA"/*/; do
  name=$(basename "$d")
  case $name in
    pass_*) want=PASS ;;
    fail_*) want=FAIL ;;
    unsupported_*) want=UNSUPPORTED ;;
    *) continue ;;
  esac
  line=$(printf '%s\n' "$out" | grep -E "^[A-Z]+ $name(:|\$)")
  got=${line%% *}
  if [ "$got" != "$want" ]; then
    echo "classify: $name should be $want, got: $line"
    status=1
  fi
done
printf '%s\n' "$out" | grep -q "specialized from the data: shape; 2 compiled variants" || {
  echo "classify: pass_reshape_specialized did not report its specialization"
  status=1
}
printf '%s\n' "$out" | tail -n 1 | grep -Eq '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' || {
  echo "classify: the last line is not 'N passed, N failed, N skipped'"
  status=1
}
[ $status = 0 ] && echo "classify: all $(ls -d "$DATA"/*/ | wc -l) folders classified as expected"
exit $status
