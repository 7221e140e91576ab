#!/bin/sh
# cli_errors.sh MODELC
# Bad input gets one line on stderr naming what is wrong and exit 1; bad
# usage exit 2; never a crash.  Inputs come from tests/data/bad/make_bad.py.
set -u
modelc=$1
bad=tests/data/bad
fails=0
n=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

. "$(dirname "$0")/expect_lib.sh"   # expect CODE PATTERN -- ARGS...

expect 1 "no/such/model.onnx" -- info no/such/model.onnx
expect 1 "not an ONNX model" -- info $bad/not_onnx.onnx
expect 1 "first_foo.*FooOp.*second_bar.*BarOp" -- compile $bad/unknown_ops.onnx -o /tmp/modelc-never
expect 1 "conv_bad_pad.*Conv.*auto_pad" -- info $bad/bad_attr.onnx
expect 1 "reshape_bad.*Reshape" -- info $bad/bad_reshape.onnx
expect 1 "relu_orphan.*nowhere" -- info $bad/missing_tensor.onnx
expect 1 "expected float32 \[1,1,32,32\]" -- run models/lenet5/model.onnx --input input=$bad/wrong_shape.npy -o /tmp/modelc-never
expect 1 "expected float32 \[1,1,32,32\], got float64" -- check models/lenet5/model.onnx --input input=$bad/wrong_dtype.npy
expect 1 "no/such.npy" -- run models/lenet5/model.onnx --input input=no/such.npy
expect 1 "p2o.DynamicDimension" -- info models/ch_ppocr_mobile_v2.0_cls_infer/model.onnx
expect 1 "shape" -- info models/lenet5/model.onnx --shape input=1,2,3
expect 2 "unknown option" -- info models/lenet5/model.onnx --frobnicate
expect 2 "unknown command" -- frobnicate
expect 2 "needs -o DIR" -- compile models/lenet5/model.onnx
for t in 0 -2 two 2x 1025 ""; do
  expect 2 "threads takes a number from 1 to" -- compile models/lenet5/model.onnx -o /tmp/modelc-never --threads "$t"
done


# 60 unknown op types: one line that names every one (it was cut at 900 chars)
expect 1 "; 60 op types in 80 nodes" -- info $bad/many_unknown_ops.onnx
n=$((n + 1))
"$modelc" info $bad/many_unknown_ops.onnx 2> "$err"
missing=""
for i in $(seq 0 59); do
  op=$(printf 'UnknownOperatorNumber%02d' "$i")
  grep -q "node 'a_node_with_a_rather_long_name_$(printf %02d "$i")' ($op" "$err" || missing="$missing $op"
done
if [ -n "$missing" ]; then
  echo "FAIL: the unsupported-ops error does not name:$missing"
  fails=$((fails + 1))
else
  echo "ok: all 60 unknown op types named"
fi

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
