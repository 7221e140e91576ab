#!/bin/sh
# train_ort.sh MODELC [CC] - a model trained in the generated C and written back by update-weights
# computes in ONNX Runtime what the C computes (issue 10).
#
# The golden MLP (models/train/golden/mlp.onnx, batch 4) is compiled with --train (softmax
# cross-entropy, SGD lr 0.05 momentum 0.9), trained for one epoch of its golden data in C
# (NAME_main --train ... --save W.npz), and written back with `modelc update-weights`. Then, on a
# seeded input, ONNX Runtime (bench/ort/ort_bench.c on the library of the npm package
# onnxruntime-node) runs the written model, and the C runs NAME_infer with the trained weights
# (NAME_main --load W.npz IN.npy); the outputs must agree within rtol 1e-5 (atol 1e-6 for values
# near zero). So that the check cannot pass on untouched weights, ONNX Runtime on the original
# model must differ from the trained one by far more than that.
#
# Skips (exit 77) only when ONNX Runtime is absent: no bench/ort/node_modules/onnxruntime-node
# (tests/install_deps.sh installs it) or no library in it for this machine. Run from the
# repository root.
set -u
modelc=$1
cc=${2:-gcc}
gold=models/train/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/train_lib.sh"

case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "SKIP: no ONNX Runtime binary in onnxruntime-node for $(uname -m)"; exit 77 ;;
esac
[ -d bench/ort/node_modules/onnxruntime-node ] || {
  echo "SKIP: ONNX Runtime is not installed (tests/install_deps.sh installs onnxruntime-node)"
  exit 77
}
lib=$(find bench/ort/node_modules/onnxruntime-node/bin -path "*/linux/$arch/libonnxruntime.so*" | sort | head -n 1)
[ -n "$lib" ] || { echo "SKIP: no libonnxruntime.so for linux/$arch in onnxruntime-node"; exit 77; }

$cc -std=c99 -O2 -Iruntime -o "$tmp/ort" bench/ort/ort_bench.c runtime/npy.c -ldl > "$tmp/log" 2>&1 ||
  fail "building ort_bench: $(head -n 1 "$tmp/log")"
train_build "$gold/mlp.onnx" "$tmp/c" sgd:lr=0.05,momentum=0.9 mlp
"$tmp/c/m_main" --train "$gold/mlp_x.npy" "$gold/mlp_y.npy" --epochs 1 --batch 4 --save "$tmp/w.npz" > "$tmp/log" 2>&1 ||
  fail "training: $(tail -n 1 "$tmp/log")"
"$modelc" update-weights "$gold/mlp.onnx" "$tmp/w.npz" -o "$tmp/trained.onnx" > "$tmp/log" 2>&1 ||
  fail "update-weights: $(tail -n 1 "$tmp/log")"

/usr/bin/python3 -c '
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(20261129).standard_normal((4, 20), dtype=np.float32))' "$tmp/in.npy" ||
  fail "writing the input"
mkdir -p "$tmp/o_c" "$tmp/o_ort" "$tmp/o_orig"
"$tmp/c/m_main" --load "$tmp/w.npz" "$tmp/in.npy" -o "$tmp/o_c" > "$tmp/log" 2>&1 || fail "C inference: $(tail -n 1 "$tmp/log")"
"$tmp/ort" --lib "$lib" "$tmp/trained.onnx" -o "$tmp/o_ort" "$tmp/in.npy" > "$tmp/log" 2>&1 ||
  fail "ONNX Runtime on the trained model: $(tail -n 1 "$tmp/log")"
"$tmp/ort" --lib "$lib" "$gold/mlp.onnx" -o "$tmp/o_orig" "$tmp/in.npy" > "$tmp/log" 2>&1 ||
  fail "ONNX Runtime on the original model: $(tail -n 1 "$tmp/log")"

/usr/bin/python3 - "$tmp" << 'EOF' || fail "the outputs differ (above)"
import sys, numpy as np
t = sys.argv[1]
c, o, u = (np.load("%s/%s/logits.npy" % (t, d)) for d in ("o_c", "o_ort", "o_orig"))
assert c.shape == o.shape == (4, 10) and c.dtype == o.dtype == np.float32, (c.shape, o.shape, c.dtype, o.dtype)
diff = float(np.max(np.abs(c - o)))
if not np.allclose(c, o, rtol=1e-5, atol=1e-6):
    print("C and ONNX Runtime differ: max |diff| %.3g\nC:\n%s\nORT:\n%s" % (diff, c, o))
    sys.exit(1)
moved = float(np.max(np.abs(u - o)))
if moved < 1e-3:
    print("the trained model computes what the untrained one does (max |diff| %.3g): no weights written back" % moved)
    sys.exit(1)
print("ok: C and ONNX Runtime on the trained MLP agree, max |diff| %.3g (training moved the logits by up to %.3g)" % (diff, moved))
EOF
