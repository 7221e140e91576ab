#!/bin/sh
# mutate_cli.sh - seeded mutants of the real models through the modelc
# binary: `modelc info` and `modelc compile` on each must exit 0 or 1
# (never a crash, a sanitizer report or a hang past 60 s).
# usage: sh mutate_cli.sh MODELC N MODEL...   (N mutants per model)
set -u
modelc=$1 per=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for m in "$@"; do
  /usr/bin/python3 - "$m" "$per" "$tmp" <<'PY'
import random, sys
src = open(sys.argv[1], "rb").read()
r = random.Random(len(src))
for i in range(int(sys.argv[2])):
    b = bytearray(src)
    for _ in range(r.randint(1, 8)):
        at = r.randrange(len(b)) if r.random() < 0.5 else r.randrange(min(len(b), 4096))
        k = r.randrange(4)
        if k == 0: b[at] ^= 1 << r.randrange(8)
        elif k == 1: b[at] = r.choice([0, 0xff, 0x7f, 0x80])
        elif k == 2: b[at:at + 9] = b"\xff" * 9
        else: del b[at:at + r.randint(1, 64)]
    open("%s/mut_%03d.onnx" % (sys.argv[3], i), "wb").write(b)
PY
  for f in "$tmp"/mut_*.onnx; do
    for cmd in info compile; do
      if [ $cmd = info ]; then timeout 60 "$modelc" info "$f" > /dev/null 2> "$tmp/err"
      else timeout 60 "$modelc" compile "$f" -o "$tmp/gen" > /dev/null 2> "$tmp/err"; fi
      rc=$?
      if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1))
        cp "$f" "$tmp/../mutant_failed_$(basename "$m" .onnx)_$(basename "$f")" 2>/dev/null
        echo "FAIL $cmd on mutant $(basename "$f") of $m: exit $rc"
        head -c 1500 "$tmp/err" | sed 's/^/    /'
      fi
      rm -rf "$tmp/gen"
    done
  done
  rm -f "$tmp"/mut_*.onnx
done
echo "mutate_cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
