#!/bin/sh
# cli_outputs.sh MODELC
# What modelc and its generated harness write, checked against numpy and
# graphviz (models from tests/data/cli/make_cli.py):
#  - outputs whose names map to one file name ('y/1', 'y:1') get distinct
#    files (y_1.npy, y_1.3.npy: .2 is output 'y_1.2''s own), with the same
#    names from `run` and from the harness, each holding its own values;
#    and `check` passes on that model;
#  - the harness creates its -o folder (and its parents);
#  - `graph --format dot` escapes '"' and '\' in names: dot parses it and
#    renders the names as they are in the model;
#  - `check` builds in $TMPDIR, and reports a failed C build once, on one
#    line quoting the compiler's error, keeping the log it names;
#  - `modelc ops` does not call Loop and Scan unsupported when ONNX's tests
#    of them pass (they are unrolled at compile time).
set -u
modelc=$1
fails=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
data=tests/data/cli

ok() { n=$((n + 1)); echo "ok: $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "FAIL: $1"; }

# 1. colliding output names: run, then the harness, against numpy
$py -c "import numpy as np; np.save('$tmp/x.npy', np.array([[-2, -1, 0], [1, 2, 3.5]], np.float32))"
if "$modelc" run $data/collide.onnx --input x="$tmp/x.npy" -o "$tmp/run" > /dev/null 2> "$tmp/err"; then ok "run collide.onnx"
else bad "run collide.onnx: $(cat "$tmp/err")"; fi
"$modelc" compile $data/collide.onnx -o "$tmp/c" --emit-main > /dev/null &&
  cc -std=c99 -O1 -o "$tmp/c/collide_main" "$tmp/c"/*.c -lm &&
  "$tmp/c/collide_main" "$tmp/x.npy" -o "$tmp/harness/deep/er" > /dev/null 2> "$tmp/err" ||
  bad "the harness of collide.onnx did not run: $(cat "$tmp/err")"
for d in run harness/deep/er; do
  if $py - "$tmp/x.npy" "$tmp/$d" <<'PY'
import sys, os, numpy as np
x = np.load(sys.argv[1]); d = sys.argv[2]
want = {"y_1.npy": -x, "y_1.3.npy": np.abs(x), "y_1.2.npy": np.maximum(x, 0)}
assert sorted(os.listdir(d)) == sorted(want), sorted(os.listdir(d))
for f, w in want.items():
    np.testing.assert_array_equal(np.load(os.path.join(d, f)), w, err_msg=f)
PY
  then ok "$d: y/1 -> y_1.npy, y:1 -> y_1.3.npy, y_1.2 -> y_1.2.npy, each with its values"
  else bad "$d: output files are not as numpy says"; fi
done
if "$modelc" check $data/collide.onnx > "$tmp/out" 2> "$tmp/err" && grep -q "check passed: 3 outputs" "$tmp/out"; then
  ok "check collide.onnx passes"
else bad "check collide.onnx: $(cat "$tmp/out" "$tmp/err")"; fi

# 2. graph --format dot with quotes and backslashes in names
if ! command -v dot > /dev/null; then
  echo "SKIPPED: graphviz's dot is missing (tests/install_deps.sh installs it)"
else
  "$modelc" graph $data/dot_names.onnx --format dot > "$tmp/g.dot" &&
    dot -Tsvg "$tmp/g.dot" > "$tmp/g.svg" 2> "$tmp/err"
  if $py - $data/dot_names.onnx "$tmp/g.svg" <<'PY'
import sys, re, html, onnx
m = onnx.load(sys.argv[1])
want = []
for node in m.graph.node:
    want += [node.name, node.op_type]
got = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", open(sys.argv[2]).read())]
got = [t for t in got if not t.startswith("[")]   # edge labels are shapes
assert got == want, (got, want)
PY
  then ok "graph --format dot: dot renders the names as in the model"
  else bad "graph --format dot: names with '\"' or '\\' do not survive dot: $(cat "$tmp/err")"; fi
fi

# 3. check: $TMPDIR, a failed build reported once with its log kept
mkdir "$tmp/t"
TMPDIR="$tmp/t" "$modelc" check models/lenet5/model.onnx --keep > "$tmp/out" 2>&1
if grep -q "build folder: $tmp/t/modelc-check-" "$tmp/out"; then ok "check builds in \$TMPDIR"
else bad "check ignores TMPDIR: $(cat "$tmp/out")"; fi
echo "int broken(" > "$tmp/broken.h"   # every generated file then fails to compile
TMPDIR="$tmp/t" "$modelc" check models/lenet5/model.onnx --cc "cc -include $tmp/broken.h" > "$tmp/out" 2> "$tmp/err"
rc=$?
log=$(sed -n 's/.*full log: \(.*build\.log\)$/\1/p' "$tmp/err")
if [ "$rc" -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "failed (exit 1): .*error" "$tmp/err" &&
   [ -n "$log" ] && [ -s "$log" ] && case $log in "$tmp/t/"*) true ;; *) false ;; esac; then
  ok "a failed build: one line, the error quoted, the log kept ($(cat "$tmp/err"))"
else
  bad "a failed build: exit $rc, stderr:"
  cat "$tmp/err"
fi

# 4. modelc ops (docs/ops.md) tells the truth about Loop and Scan: their
#    ONNX node tests pass in the interpreter and the C, so not "C: no"
node=/usr/share/libonnx-testdata/data/node
if [ ! -d "$node/test_loop11" ]; then
  echo "SKIPPED: no ONNX node tests (libonnx-testdata)"
else
  for op in Loop Scan; do
    row=$("$modelc" ops | grep "^| $op | ai.onnx |")
    case $row in
    *"| no |"* | *"| no") bad "modelc ops says $op does not run: $row" ;;
    *) ok "modelc ops: $row" ;;
    esac
  done
  if "$modelc" test-onnx "$node/test_loop11" "$node/test_scan9_sum" | grep -q "^2 passed, 0 failed"; then
    ok "ONNX's test_loop11 and test_scan9_sum pass"
  else bad "ONNX's test_loop11 and test_scan9_sum do not both pass"; fi
fi

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
