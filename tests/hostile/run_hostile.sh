#!/bin/sh
# run_hostile.sh - every model of tests/hostile/models must be refused.
#
# usage: sh tests/hostile/run_hostile.sh MODELC
# For each model below, `MODELC info M` and `MODELC compile M -o DIR` must
# exit 1 with exactly one line on stderr containing the listed fragment,
# within 60 s, and print no sanitizer report (run it with a modelc built
# with -DMODELC_SANITIZE=ON to make that mean something).  Files named
# ok_* may be accepted or refused, but not crash.  The external-data
# models run from a scratch copy of the folder that also holds w.bin
# (24 bytes), link.bin, a symlink to a file outside it, and fifo.bin, a FIFO.
set -u
modelc=$1
case $modelc in /*) ;; *) modelc="$PWD/$modelc" ;; esac
here="$(cd "$(dirname "$0")" && pwd)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/m" "$scratch/outside" "$scratch/m/sub"
cp "$here"/models/*.onnx "$scratch/m/"
head -c 24 /dev/zero > "$scratch/m/w.bin"
head -c 64 /dev/zero > "$scratch/outside/secret.bin"
ln -s "$scratch/outside/secret.bin" "$scratch/m/link.bin"
mkfifo "$scratch/m/fifo.bin"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98"

pass=0 fail=0
check() {   # check FILE FRAGMENT [extra modelc options]
  f=$1 frag=$2
  shift 2
  for cmd in info compile; do
    out="$scratch/out.$cmd"
    rm -rf "$scratch/gen"
    if [ $cmd = info ]; then
      (cd "$scratch/m" && timeout 60 "$modelc" info "$f" "$@") > "$out.stdout" 2> "$out"
    else
      (cd "$scratch/m" && timeout 60 "$modelc" compile "$f" -o "$scratch/gen" "$@") > "$out.stdout" 2> "$out"
    fi
    rc=$?
    lines=$(wc -l < "$out")
    why=""
    if [ $rc -ne 1 ]; then why="exit $rc"
    elif [ "$lines" -ne 1 ]; then why="$lines lines on stderr"
    elif ! grep -qF -- "$frag" "$out"; then why="message lacks '$frag'"
    fi
    if [ -n "$why" ]; then
      fail=$((fail + 1))
      echo "FAIL $cmd $f: $why"
      head -c 2000 "$out" | sed 's/^/    /'
    else
      pass=$((pass + 1))
    fi
  done
}

check truncated.onnx "protobuf parse failed"
check empty_file.onnx "not an ONNX model (empty)"
check random_bytes.onnx "not an ONNX model"
check npy_not_onnx.onnx "not an ONNX model"
check no_graph.onnx "no graph"
check unknown_op.onnx "unsupported ops: node 'FrobnicateTensor_0'"
check unknown_domain.onnx "domain 'com.evil' is not imported"
check unknown_domain_imported.onnx "unsupported ops: node 'Relu_0' (Relu, domain com.evil)"
check empty_op_type.onnx "has no op_type"
check missing_tensor.onnx "input 'nowhere' is not defined"
check missing_output.onnx "output 'y' is not computed by any node"
check cycle.onnx "graph has a cycle"
check self_loop.onnx "graph has a cycle"
check duplicate_producer.onnx "output 'y' is already defined"
check duplicate_initializer.onnx "initializer 'w' is defined twice"
check duplicate_input.onnx "input 'x' is declared twice"
check empty_graph.onnx "has no outputs"
check no_outputs.onnx "has no outputs"
check constant_no_value.onnx "needs exactly one value attribute"
check sequence_input.onnx "only tensors are supported"
check string_input.onnx "holds strings"
check too_many_inputs.onnx "takes 1 to 1 inputs, got 3"
check future_opset.onnx "opset 99 of ai.onnx is newer than the newest supported"
check negative_opset.onnx "invalid opset version -3"
check huge_dim_input.onnx "too large"
check overflow_dims_input.onnx "too large"
check negative_dim_input.onnx "negative dimension"
check rank9_input.onnx "rank 9"
check short_initializer.onnx "raw_data is 20 bytes, its dims and type need 24"
check long_initializer.onnx "raw_data is 28 bytes, its dims and type need 24"
check short_typed_initializer.onnx "float_data holds 2 values, its dims need 6"
check negative_dim_initializer.onnx "negative"
check huge_initializer.onnx "overflows"
check overflow_initializer.onnx "overflows"
check rank9_initializer.onnx "rank 9"
check bad_dtype_initializer.onnx "unsupported data type 999"
check string_initializer.onnx "string tensors are not supported"
check over_max_bytes.onnx "limit of 16 bytes" --max-bytes 16
check mismatched_weights.onnx "inner dimensions differ"
check mismatched_conv_weights.onnx "input channels"
check impossible_reshape.onnx "cannot reshape [2,3] into [4]"
check impossible_reshape_two_minus1.onnx "more than one -1"
check broadcast_mismatch.onnx "not broadcastable"
check constantofshape_huge.onnx "above the limit of 4294967296"
check constantofshape_overflow.onnx "too large"
check constantofshape_negative.onnx "negative dimension -4"
check expand_huge.onnx "above the limit of 4294967296"
check tile_huge.onnx "above the limit of 4294967296"
check reshape_huge.onnx "cannot reshape [1] into [1000000,1000000]"
check range_huge.onnx "above the limit of 4294967296"
check pad_huge.onnx "too large"
check constant_huge_dims.onnx "above the limit"
check wrong_attr_type.onnx "attribute 'alpha' is string, expected float"
check wrong_attr_type_list.onnx "attribute 'perm' is floats, expected ints"
check huge_attr_list.onnx "perm has 100000 entries"
check many_attrs.onnx "more than the 1024 modelc takes"
check undefined_attr.onnx "attribute 'ghost' has unsupported type"
check axis_huge.onnx "out of range"
check transpose_perm_oob.onnx "not a permutation"
check conv_zero_stride.onnx "must be positive"
check conv_kernel_too_big.onnx "larger than the padded input"
check maxpool_negative_pads.onnx "is negative"
check gather_oob_const.onnx "out of range"
check gather_oob_input.onnx "out of range"
check nested_subgraphs_10000.onnx "nest more than"
check nested_types_50000.onnx "nest more than"
check nested_subgraphs_40.onnx "subgraphs nest too deeply"
check recursive_function.onnx "nest too deeply"
check mutual_recursive_functions.onnx "nest too deeply"
check external_absolute.onnx "must be a relative path without '..'"
check external_device.onnx "must be a relative path without '..'"
check external_dotdot.onnx "must be a relative path without '..'"
check external_dotdot_inner.onnx "must be a relative path without '..'"
check external_symlink.onnx "outside the model directory"
check external_dir.onnx "external data"
check external_fifo.onnx "is not a regular file"
check external_subdir.onnx "is not a regular file"
check external_missing.onnx "cannot open external data"
check external_offset_past_end.onnx "external data"
check external_offset_negative.onnx "bad external data offset '-8'"
check external_length_short.onnx "external data"
check external_length_past_end.onnx "external data"
check external_offset_garbage.onnx "bad external data offset '12abc'"

# Every model in the folder must be listed above (or be an ok_* file).
for f in "$here"/models/*.onnx; do
  b=$(basename "$f")
  case $b in ok_*) continue ;; esac
  grep -q "^check $b " "$0" || { echo "FAIL $b is not listed in run_hostile.sh"; fail=$((fail + 1)); }
done

# ok_*: legal but nasty; any exit but a crash, a sanitizer report or a hang.
for f in "$here"/models/ok_*.onnx; do
  [ -e "$f" ] || continue
  b=$(basename "$f")
  (cd "$scratch/m" && timeout 60 "$modelc" compile "$b" -o "$scratch/gen") > /dev/null 2> "$scratch/ok.err"
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    fail=$((fail + 1))
    echo "FAIL $b: exit $rc"
    head -c 2000 "$scratch/ok.err" | sed 's/^/    /'
  else
    pass=$((pass + 1))
  fi
done

echo "hostile: $pass passed, $fail failed"
[ $fail -eq 0 ]
