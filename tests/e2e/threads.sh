#!/bin/sh
# threads.sh MODELC - `modelc compile --threads N` (issue 8): OpenMP pragmas
# on the outer loops of the GEMM core and of depthwise convolution must not
# change a bit.  For ResNet-8 and the MobileNetV2 net of bench/models and
# every bundled model of tests/e2e/models.list, on the model's test inputs,
# and a net of big elementwise maps and pooling (made here):
#  - `--threads 1` emits no pragma (the C of a normal build); `--threads 2`
#    emits them (for the two bench nets, the map net and the inverted
#    residual block dw_rows, at least one), and ResNet-8's m_infer runs its
#    convolutions in one team (one region), its activations between them
#    with row replicas (plan.h), as do the MobileNet net's and dw_rows's,
#    their depthwise convolutions by parts of their rows;
#  - the --threads 2 C built by gcc with -fopenmp, without it, with -fopenmp
#    under ASan and UBSan, by clang with -fopenmp (libomp-dev), by clang with
#    -fopenmp under ThreadSanitizer (no data race: a node that runs on the
#    whole team of NAME_infer's parallel region writes nothing shared outside
#    its worksharing loops) and by clang under ASan and UBSan without OpenMP,
#    gives outputs byte for byte those of its build without OpenMP (and so
#    does --threads 3 and 12 on ResNet-8, both also within the tolerance
#    below of the interpreter, and its --threads 2 C on a team of one
#    thread, OMP_THREAD_LIMIT=1): the pragmas change no bit;
#  - the --threads 1 and the --threads 2 builds are within rtol 1e-3, atol
#    1e-4 of the interpreter.  (Across thread counts the bytes may differ:
#    the memory plan may give a GEMM's parts, each with its own packing
#    scratch, shorter K blocks than one part gets, which moves the bias's
#    addition in the sums, and a part's last tile of 16 columns sums k in
#    another order than a tile of 32.)
# Every build is C99 with -Wall -Wextra -Werror -pedantic.  Exit 77 (ctest:
# skipped) when gcc cannot build and run an OpenMP program.  Run from the
# repository root.
set -u
modelc=$1
. "$(dirname "$0")/models_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

STRICT="-std=c99 -Wall -Wextra -Werror -pedantic"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
printf '#include <stdio.h>\nint main(void) {\n  int s = 0, i;\n#pragma omp parallel for reduction(+ : s)\n  for (i = 0; i < 4; i++) s += i;\n  printf("%%d\\n", s);\n  return 0;\n}\n' > "$tmp/omp.c"
if ! gcc -fopenmp -o "$tmp/omp" "$tmp/omp.c" 2> /dev/null || [ "$("$tmp/omp")" != 6 ]; then
  echo "SKIPPED: gcc -fopenmp cannot build and run a program here (gcc's libgomp is missing)"
  exit 77
fi

# ThreadSanitizer watches the emitted C, not libomp (uninstrumented: its own
# locks read as races, now and then)
TSAN_OPTIONS="ignore_noninstrumented_modules=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export TSAN_OPTIONS

# name, how to build: the --threads 2 C under each of these
BUILDS="seq|gcc $STRICT -O2
omp|gcc $STRICT -O2 -fopenmp
omp_san|gcc $STRICT -O1 -fopenmp $SAN
clang_omp|clang $STRICT -O2 -fopenmp
clang_tsan|clang $STRICT -O1 -fopenmp -fsanitize=thread
clang_san|clang $STRICT -O1 $SAN"

e2e_models resnet8 mobilenetv2_96 > "$tmp/models"
# and a net of big maps and pooling (their loops go parallel too), then a MatMul
# of two activations (47 rows: the GEMM core copies A's last rows and packs B's
# last panel, each part into its own scratch): x[1,16,94,94] -> MaxPool 3x3
# pad 1 -> Sigmoid -> + x -> AveragePool 2x2 stride 2 -> p @ p
if /usr/bin/python3 - "$tmp/map_pool" << 'EOF'
import os, sys
import numpy as np
from onnx import TensorProto, helper, save
d = sys.argv[1]
os.makedirs(d)
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 94, 94])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 47, 47])
nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Sigmoid", ["p"], ["s"]),
         helper.make_node("Add", ["s", "x"], ["a"]),
         helper.make_node("AveragePool", ["a"], ["q"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("MatMul", ["q", "q"], ["y"])]
save(helper.make_model(helper.make_graph(nodes, "map_pool", [x], [y]), opset_imports=[helper.make_opsetid("", 13)]),
     os.path.join(d, "model.onnx"))
np.save(os.path.join(d, "input_0.npy"), np.random.default_rng(8).standard_normal((1, 16, 94, 94)).astype(np.float32))
EOF
then echo "map_pool $tmp/map_pool" >> "$tmp/models"
else fail "map_pool: making the model (python3-onnx, python3-numpy)"
fi
# and an inverted residual block whose parts all go by rows (row replicas
# between them): 1x1 16->48 + Relu, depthwise 3x3 + Relu (in place), depthwise
# 5x5 stride 2 (not the 3x3 kernel), 1x1 48->16 (15 rows: a part's last panel
# is short), 1x1 16->16 + that (a residual)
if /usr/bin/python3 - "$tmp/dw_rows" << 'EOF'
import os, sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save
d = sys.argv[1]
os.makedirs(d)
rng = np.random.default_rng(9)
def w(name, *shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 30, 30])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 15, 15])
inits = [w("w0", 48, 16, 1, 1), w("b0", 48), w("w1", 48, 1, 3, 3), w("b1", 48), w("w2", 48, 1, 5, 5), w("b2", 48),
         w("w3", 16, 48, 1, 1), w("b3", 16), w("w4", 16, 16, 1, 1), w("b4", 16)]
nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], kernel_shape=[1, 1]),
         helper.make_node("Relu", ["c0"], ["r0"]),
         helper.make_node("Conv", ["r0", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=48),
         helper.make_node("Relu", ["c1"], ["r1"]),
         helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[2, 2],
                          group=48),
         helper.make_node("Conv", ["c2", "w3", "b3"], ["c3"], kernel_shape=[1, 1]),
         helper.make_node("Conv", ["c3", "w4", "b4"], ["c4"], kernel_shape=[1, 1]),
         helper.make_node("Add", ["c4", "c3"], ["y"])]
save(helper.make_model(helper.make_graph(nodes, "dw_rows", [x], [y], inits), opset_imports=[helper.make_opsetid("", 13)]),
     os.path.join(d, "model.onnx"))
np.save(os.path.join(d, "input_0.npy"), rng.standard_normal((1, 16, 30, 30)).astype(np.float32))
EOF
then echo "dw_rows $tmp/dw_rows" >> "$tmp/models"
else fail "dw_rows: making the model (python3-onnx, python3-numpy)"
fi
while read -r m dir opts; do
  o=$tmp/$m
  mkdir -p "$o"
  e2e_inputs "$dir" "$opts" "$o" || { fail "$m: its test inputs"; continue; }
  ok=1
  for t in 1 2 3 12; do
    [ $t -le 2 ] || [ "$m" = resnet8 ] || continue
    # shellcheck disable=SC2086
    "$modelc" compile "$dir/model.onnx" -o "$o/t$t" --name m --emit-main --threads $t $opts > /dev/null || { fail "$m: compile --threads $t"; ok=0; }
  done
  [ $ok = 1 ] || continue
  if grep -q "MC_PARALLEL_FOR\|_OPENMP\|pragma omp\|_Pragma" "$o/t1/m.c"; then fail "$m: --threads 1 emits OpenMP"; fi
  # a loop with its own parallel region, or a worksharing loop in a team NAME_infer opens
  pragmas=$(grep -c "^ *MC_PARALLEL_FOR$\|^ *MC_FOR$" "$o/t2/m.c")
  case $m in resnet8 | mobilenetv2_96 | map_pool | dw_rows) [ "$pragmas" -gt 0 ] || fail "$m: --threads 2 parallelizes no loop" ;; esac
  # ResNet-8's convolutions all run in one team: m_infer opens one parallel region
  if [ "$m" = resnet8 ] && [ "$(sed -n '/^int m_infer/,/^}/p' "$o/t2/m.c" | grep -c '^  MC_PARALLEL$')" != 1 ]; then
    fail "$m: m_infer does not run its convolutions in one team"
  fi
  # and its activations between them have row replicas: a part copies the halo rows other parts wrote
  if [ "$m" = resnet8 ] && ! grep -q "mc_rows(y0" "$o/t2/m.c"; then fail "$m: --threads 2 has no row replicas"; fi
  # in the MobileNet net and dw_rows the depthwise convolutions go by parts of their rows too (mc_dw on
  # a part's copies, rows o0 to o1), and hand on halo rows
  case $m in mobilenetv2_96 | dw_rows)
    dw=$(grep -c "^ *mc_dw(&g[0-9]*, g[0-9]*\.b + " "$o/t2/m.c")
    [ "$dw" -ge 2 ] || fail "$m: --threads 2 runs $dw depthwise convolution(s) by rows, not 2 or more"
    grep -q "mc_rows(y0" "$o/t2/m.c" || fail "$m: --threads 2 has no row replicas"
    ;;
  esac

  # the reference: --threads 1, then the interpreter
  gcc $STRICT -O2 -o "$o/t1/m_main" "$o/t1/m.c" "$o/t1/m_weights.c" "$o/t1/m_main.c" -lm || { fail "$m: gcc (--threads 1)"; continue; }
  # shellcheck disable=SC2046
  "$o/t1/m_main" $(cat "$o/harness_args") -o "$o/out_t1" > /dev/null || { fail "$m: the --threads 1 build failed"; continue; }
  # shellcheck disable=SC2046,SC2086
  "$modelc" run "$dir/model.onnx" $opts $(cat "$o/run_args") -o "$o/interp" > /dev/null || { fail "$m: modelc run"; continue; }
  close=$(e2e_close "$o/interp" "$o/out_t1" 2>&1) || fail "$m: the --threads 1 build against the interpreter: $close"

  runs() {   # runs TAG REF BUILD_DIR CC...: build BUILD_DIR's C with CC, run it, compare its outputs with REF's
    tag=$1 ref=$2 bd=$3
    shift 3
    "$@" -o "$o/$tag" "$bd/m.c" "$bd/m_weights.c" "$bd/m_main.c" -lm || { fail "$m: $tag: $*"; return; }
    # shellcheck disable=SC2046
    "$o/$tag" $(cat "$o/harness_args") -o "$o/out_$tag" > "$o/$tag.log" 2>&1 || { fail "$m: $tag failed: $(tail -n 3 "$o/$tag.log")"; return; }
    for f in "$o/out_$ref"/*.npy; do
      cmp -s "$f" "$o/out_$tag/$(basename "$f")" || fail "$m: $tag: $(basename "$f") is not bit-identical to the $ref build's"
    done
  }
  while IFS='|' read -r tag cc; do
    # shellcheck disable=SC2086
    runs "t2_$tag" t2_seq "$o/t2" $cc
  done << EOF
$BUILDS
EOF
  close2=$(e2e_close "$o/interp" "$o/out_t2_seq" 2>&1) || fail "$m: the --threads 2 build against the interpreter: $close2"
  if [ "$m" = resnet8 ]; then
    runs t3_seq t3_seq "$o/t3" gcc $STRICT -O2
    runs t3_omp t3_seq "$o/t3" gcc $STRICT -O2 -fopenmp
    # more parts than OP_PARTS_MAX (and than cores): every part's range still computed
    runs t12_seq t12_seq "$o/t12" gcc $STRICT -O2
    runs t12_omp t12_seq "$o/t12" gcc $STRICT -O2 -fopenmp
    for t in 3 12; do
      c=$(e2e_close "$o/interp" "$o/out_t${t}_seq" 2>&1) || fail "$m: the --threads $t build against the interpreter: $c"
    done
    # a team of fewer threads than parts (one thread runs both parts of every loop, in order)
    # shellcheck disable=SC2046
    OMP_THREAD_LIMIT=1 "$o/t2_omp" $(cat "$o/harness_args") -o "$o/out_t2_one" > /dev/null 2>&1 || fail "$m: OMP_THREAD_LIMIT=1 failed"
    for f in "$o/out_t2_seq"/*.npy; do
      cmp -s "$f" "$o/out_t2_one/$(basename "$f")" || fail "$m: one thread for two parts: $(basename "$f") differs"
    done
  fi
  echo "$m: $pragmas parallel loop(s) at --threads 2; $(echo "$BUILDS" | wc -l) builds bit-identical to the one without OpenMP; $close2"
done < "$tmp/models"
[ $fails = 0 ] && echo "threads: all passed"
[ $fails = 0 ]
