#!/bin/sh
# train_resume.sh MODELC [CC] - training resumed from a save goes on as if it had not stopped
# (issue 10: the optimizer's state is saved and loaded).
#
# For each case (a net of models/train/golden, batch 4, 10 steps an epoch; an optimizer; with or
# without --shuffle) the harness trains 4 epochs in one run, and 2 epochs, --save, then 2 more
# epochs from that --load. The two final .npz (parameters, optimizer state, step counter) must be
# the same bytes, and the two logs the same rows: the C is deterministic, so anything short of
# bit-for-bit means some state was lost. The cases cover SGD with momentum (its buffers), Adam (m,
# v and the step its bias corrections read), BatchNorm's running statistics, --shuffle (the epoch's
# permutation follows the saved step counter) and Dropout under plain SGD (the step counter seeds
# its masks, and is all the state there is; no --shuffle, so only the masks can tell). So that the check cannot pass when the state does not
# matter, the second half is also run from the parameters alone (the state keys stripped by
# numpy): the harness must say so once on stderr and end with other parameters.
# Run from the repository root.
set -u
modelc=$1
cc=${2:-gcc}
gold=models/train/golden
here=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
. "$(dirname "$0")/train_lib.sh"

# the golden MLP with a Dropout (ratio 0.3) after its first ReLU
/usr/bin/python3 - "$gold/mlp.onnx" "$tmp/mlp_dropout.onnx" << 'EOF' || { echo "FAIL: writing the Dropout model"; exit 1; }
import sys, onnx
from onnx import helper, numpy_helper
import numpy as np
m = onnx.load(sys.argv[1])
g = m.graph
relu = [n for n in g.node if n.op_type == "Relu"][0]
old = relu.output[0]
for n in g.node:
    for i, v in enumerate(n.input):
        if v == old:
            n.input[i] = old + "_dropped"
g.initializer.append(numpy_helper.from_array(np.array(0.3, np.float32), "drop_ratio"))
k = list(g.node).index(relu)
g.node.insert(k + 1, helper.make_node("Dropout", [old, "drop_ratio"], [old + "_dropped"], name="drop", seed=7))
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
EOF

# name model data spec shuffle-args
while read -r name model data spec shuffle; do
  [ "$shuffle" = - ] && shuffle=
  o=$tmp/$name
  mkdir -p "$o"
  [ "$model" = dropout ] && model=$tmp/mlp_dropout.onnx || model=$gold/$model.onnx
  train_build "$model" "$o" "$spec" "$name" || continue
  run() {   # run ARGS...: train on the net's data; stdout and stderr to $o/out, $o/err
    (cd "$o" && ./m_main --train "$here/$gold/${data}_x.npy" "$here/$gold/${data}_y.npy" --batch 4 $shuffle "$@" \
      > out 2> err) || { fail "$name: m_main $*: $(tail -1 "$o/err")"; return 1; }
  }
  run --epochs 4 --log all.csv --save all.npz || continue
  run --epochs 2 --log half1.csv --save half1.npz || continue
  [ -s "$o/err" ] && fail "$name: a plain run wrote to stderr: $(cat "$o/err")"
  run --epochs 2 --load half1.npz --log half2.csv --save half2.npz || continue
  [ -s "$o/err" ] && fail "$name: a load with the state wrote to stderr: $(cat "$o/err")"
  tail -n +2 "$o/half2.csv" > "$o/half2.rows"
  if ! cmp -s "$o/all.npz" "$o/half2.npz"; then
    fail "$name: 2 + 2 epochs (--save, --load) saved other bytes than 4 epochs in one run"
  elif ! cat "$o/half1.csv" "$o/half2.rows" | cmp -s - "$o/all.csv"; then
    fail "$name: the logs of 2 + 2 epochs are not the log of 4"
  fi
  # the parameters alone: a note, and another result
  if ! /usr/bin/python3 -c "
import sys, numpy as np
z = np.load(sys.argv[1])
state = [k for k in z.files if k.startswith('optimizer/')]
assert 'optimizer/step' in state and int(z['optimizer/step']) == 20, z.files
np.savez(sys.argv[2], **{k: z[k] for k in z.files if k not in state})" "$o/half1.npz" "$o/params.npz"; then
    fail "$name: the save holds no step counter of 20 steps, or numpy cannot read it"
    continue
  fi
  run --epochs 2 --load params.npz --log fresh.csv --save fresh.npz || continue
  if [ "$(wc -l < "$o/err")" -ne 1 ] || ! grep -q "note: --load params.npz holds parameters only" "$o/err"; then
    fail "$name: a load without state: want one note on stderr, got: $(cat "$o/err")"
  elif ! /usr/bin/python3 -c "
import sys, numpy as np
a, f = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(0 if any(not np.array_equal(a[k], f[k]) for k in a.files if not k.startswith('optimizer/')) else 1)" \
      "$o/all.npz" "$o/fresh.npz"; then
    fail "$name: without the saved state the run ends the same: the check above proves nothing"
  elif [ "$(sed -n 2p "$o/fresh.csv" | cut -d, -f1)" != 1 ]; then
    fail "$name: without a step counter the log should number steps from 1: $(sed -n 2p "$o/fresh.csv")"
  else
    echo "ok: $name: 2 + 2 epochs through --save/--load = 4 epochs, to the bit; without the state they differ"
  fi
done << 'EOF'
mlp_sgd mlp mlp sgd:lr=0.05,momentum=0.9 -
mlp_sgd_shuffle mlp mlp sgd:lr=0.05,momentum=0.9 --shuffle 3
mlp_adam_shuffle mlp mlp adam:lr=0.003 --shuffle 5
cnn_bn_adam cnn_bn cnn_bn adam:lr=0.003,eps=0.001 --shuffle 1
dropout_sgd dropout mlp sgd:lr=0.05 -
EOF

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
