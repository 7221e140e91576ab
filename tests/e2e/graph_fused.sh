#!/bin/sh
# graph_fused.sh MODELC
# `modelc graph` (text and dot) labels a fused node with what was fused in:
# "Conv +BatchNormalization +residual +Relu".  The reference is the ONNX
# model itself, read with the onnx package: every Conv followed by a
# BatchNormalization shows "+BatchNormalization"; every Add of resnet_small
# (Conv-BN + shortcut, then Relu) shows up as one "+residual +Relu" node,
# every Relu that follows a Conv's BatchNorm directly as a "+Relu" one, and
# the Relu after the lone final BatchNorm stays a Relu node.  With
# --no-fuse no label names a residual or an activation; with --no-bnfold
# none names BatchNormalization.  Skipped (77) without python3-onnx.
set -u
modelc=$1
model=models/resnet_small/model.onnx
/usr/bin/python3 -c "import onnx" 2> /dev/null || { echo "SKIP: python3-onnx missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
"$modelc" graph $model > "$tmp/text" && "$modelc" graph $model --format dot > "$tmp/dot" &&
  "$modelc" graph $model --no-fuse > "$tmp/nofuse" && "$modelc" graph $model --no-bnfold > "$tmp/nobn" ||
  { echo "FAIL: modelc graph failed"; exit 1; }
/usr/bin/python3 - $model "$tmp/text" "$tmp/dot" "$tmp/nofuse" "$tmp/nobn" <<'PY' || fails=1
import re, sys, onnx
m = onnx.load(sys.argv[1])
producer = {o: n for n in m.graph.node for o in n.output}
def made_by(t, *ops):   # the op chain that made t, read backwards
    n = producer.get(t)
    return n is not None and n.op_type == ops[0] and (len(ops) == 1 or made_by(n.input[0], *ops[1:]))
relus = [n for n in m.graph.node if n.op_type == "Relu"]
residual = sum(made_by(r.input[0], "Add") for r in relus)
plain = sum(made_by(r.input[0], "BatchNormalization", "Conv") for r in relus)
conv_bn = sum(made_by(n.input[0], "Conv") for n in m.graph.node if n.op_type == "BatchNormalization")
assert residual == 3 and plain == 4 and conv_bn == 8, (residual, plain, conv_bn)   # as the model is built
text = open(sys.argv[2]).read()
labels = re.findall(r"^ *\d+ (\S+(?: \+\S+)*) ", text, re.M)
want = {"Conv +BatchNormalization +residual +Relu": residual, "Conv +BatchNormalization +Relu": plain}
for label, count in want.items():
    assert labels.count(label) == count, ("text", label, labels)
assert sum(l.startswith("Conv +BatchNormalization") for l in labels) == conv_bn, labels
assert labels.count("Relu") == len(relus) - residual - plain, labels
dot = re.findall(r'label="[^"]*\\n([^"]*)"', open(sys.argv[3]).read())
for label, count in want.items():
    assert dot.count(label) == count, ("dot", label, dot)
nofuse = re.findall(r"^ *\d+ (\S+(?: \+\S+)*) ", open(sys.argv[4]).read(), re.M)
assert not [l for l in nofuse if "+residual" in l or "+Relu" in l], nofuse
nobn = re.findall(r"^ *\d+ (\S+(?: \+\S+)*) ", open(sys.argv[5]).read(), re.M)
assert not [l for l in nobn if "BatchNormalization" in l and l != "BatchNormalization"], nobn
print("graph labels: %d BatchNormalizations folded, %d x '+residual +Relu', %d x '+Relu', as in the ONNX model"
      % (conv_bn, residual, plain))
PY
exit $fails
