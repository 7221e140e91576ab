#!/bin/sh
# graph_fused.sh MODELC
# `modelc graph` (text and dot) labels a fused node with what was fused in:
# "Conv +residual +Relu".  The reference is the ONNX model itself, read
# with the onnx package: every Add of resnet_small (Conv-BN + shortcut,
# then Relu) must show up as one "+residual +Relu" node, every Relu that
# follows a Conv's BatchNorm directly as a "Conv +Relu" one, and the Relu
# after the lone final BatchNorm stays a Relu node.  With --no-fuse no
# label says "+".  Skipped (77) without python3-onnx.
set -u
modelc=$1
model=models/resnet_small/model.onnx
/usr/bin/python3 -c "import onnx" 2> /dev/null || { echo "SKIP: python3-onnx missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
"$modelc" graph $model > "$tmp/text" && "$modelc" graph $model --format dot > "$tmp/dot" &&
  "$modelc" graph $model --no-fuse > "$tmp/nofuse" || { echo "FAIL: modelc graph failed"; exit 1; }
/usr/bin/python3 - $model "$tmp/text" "$tmp/dot" "$tmp/nofuse" <<'PY' || fails=1
import re, sys, onnx
m = onnx.load(sys.argv[1])
producer = {o: n for n in m.graph.node for o in n.output}
def made_by(t, *ops):   # the op chain that made t, read backwards
    n = producer.get(t)
    return n is not None and n.op_type == ops[0] and (len(ops) == 1 or made_by(n.input[0], *ops[1:]))
relus = [n for n in m.graph.node if n.op_type == "Relu"]
residual = sum(made_by(r.input[0], "Add") for r in relus)
plain = sum(made_by(r.input[0], "BatchNormalization", "Conv") for r in relus)
assert residual == 3 and plain == 4, (residual, plain)   # three blocks with shortcuts; stem, two conv1s, one dw
text = open(sys.argv[2]).read()
labels = re.findall(r"^ *\d+ (\S+(?: \+\S+)*) ", text, re.M)
want = {"Conv +residual +Relu": residual, "Conv +Relu": plain}
for label, count in want.items():
    assert labels.count(label) == count, ("text", label, labels)
assert labels.count("Relu") == len(relus) - residual - plain, labels
dot = re.findall(r'label="[^"]*\\n([^"]*)"', open(sys.argv[3]).read())
for label, count in want.items():
    assert dot.count(label) == count, ("dot", label, dot)
nofuse = re.findall(r"^ *\d+ (\S+(?: \+\S+)*) ", open(sys.argv[4]).read(), re.M)
assert not [l for l in nofuse if "+" in l], nofuse
print("graph labels: %d x 'Conv +residual +Relu', %d x 'Conv +Relu', as the ONNX model has them" % (residual, plain))
PY
exit $fails
