#!/bin/sh
# train_cli.sh MODELC
# The training flags and update-weights refuse what they cannot do with one
# line on stderr: bad usage (a loss, optimizer or key modelc does not know,
# --freeze of a stranger, --train with no loss to minimize, a training flag
# without --train) exits 2; a bad weight set exits 1 naming the key.
set -u
modelc=$1
d=$(mktemp -d)
err=$d/err
trap 'rm -rf "$d"' EXIT
/usr/bin/python3 tests/e2e/train_models.py "$d" || exit 1
fails=0
n=0

. "$(dirname "$0")/expect_lib.sh"   # expect CODE PATTERN -- ARGS...

m=$d/tiny.onnx
expect 2 "unknown loss 'hinge' (softmax_cross_entropy, mse, bce_with_logits)" -- compile $m -o $d/o --train --loss hinge --optimizer adam
expect 2 "unknown optimizer 'rmsprop' (sgd, adam, adagrad)" -- compile $m -o $d/o --train --loss mse --optimizer rmsprop:lr=1
expect 2 "optimizer sgd has no key 'beta1'" -- info $m --train --loss mse --optimizer sgd:lr=0.1,beta1=0.9
expect 2 "optimizer adam: bad value 'fast' for lr" -- info $m --train --loss mse --optimizer adam:lr=fast
expect 2 "optimizer sgd needs a learning rate" -- check $m --train --loss mse --optimizer sgd
expect 2 "nesterov=1 needs a momentum" -- check $m --train --loss mse --optimizer sgd:lr=0.1,nesterov=1
expect 2 "beta1 must be in \[0, 1)" -- check $m --train --loss mse --optimizer adam:beta1=1.5
expect 2 "--freeze: 'nope' is not a parameter" -- compile $m -o $d/o --train --loss mse --optimizer adam --freeze w,nope
expect 2 "does not end in a loss.*give --loss" -- compile $m -o $d/o --train --optimizer adam
expect 2 "needs an optimizer" -- info $m --train --loss mse
expect 2 "needs an optimizer" -- graph $m --train --loss mse
expect 2 "go with --train" -- compile $m -o $d/o --loss mse --optimizer adam
expect 2 "already ends in a loss" -- info $d/classes.onnx --train --loss mse --optimizer adam
expect 2 "check --train has no --bisect" -- check $m --train --loss mse --optimizer adam --bisect
expect 2 "--steps takes a count" -- check $m --train --loss mse --optimizer adam --steps 0
expect 2 "does not apply to 'modelc run'" -- run $m --train
expect 2 "update-weights needs MODEL and W.npz" -- update-weights $m -o $d/n.onnx
expect 2 "needs -o OUT.onnx" -- update-weights $m $d/w_new.npz
expect 1 "no key 'b' (a parameter of" -- update-weights $m $d/w_missing.npz -o $d/n.onnx
expect 1 "key 'c' is no parameter of" -- update-weights $m $d/w_extra.npz -o $d/n.onnx
expect 1 "key 'w' is float32 \[4\], the parameter is float32 \[3\]" -- update-weights $m $d/w_shape.npz -o $d/n.onnx
expect 1 "key 'w' is float64 \[3\], the parameter is float32 \[3\]" -- update-weights $m $d/w_dtype.npz -o $d/n.onnx
expect 1 "no/such.npz" -- update-weights $m no/such.npz -o $d/n.onnx

# graph --train prints the step: the loss, one AdamW per parameter
n=$((n + 1))
out=$("$modelc" graph $m --train --loss mse --optimizer adam 2>&1)
if [ "$(printf '%s\n' "$out" | grep -c ' AdamW ')" -ne 2 ] || ! printf '%s\n' "$out" | grep -q -- '-> loss \[\]'; then
  echo "FAIL: graph --train: want two AdamW nodes and the loss:"
  printf '%s\n' "$out"
  fails=$((fails + 1))
else
  echo "ok: graph --train shows the loss and two AdamW nodes"
fi

# A NaN loss is refused before the optimizer, which writes parameters and momentum in place, changes
# any: a finite step, a refused one (the parameters as after the first), a finite one (finite values:
# a NaN momentum buffer would spread to them).
n=$((n + 1))
"$modelc" compile $m -o $d/nan --name m --train --loss mse --optimizer sgd:lr=0.1,momentum=0.9 > /dev/null
cat > $d/nan/drive.c << 'EOF'
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "m.h"
static float *param(const char *name) { return (float *)m_param_data(m_param_find(name)); }
int main(void) {
  float x[12], y[12], loss, w[3], b[3];
  int i, rc;
  for (i = 0; i < 12; i++) x[i] = 0.1f * (float)i - 0.5f, y[i] = 0.3f * (float)(i % 5) - 0.6f;
  if (m_train_step(x, y, &loss, NULL) != 0) return printf("step 1 failed\n"), 1;
  memcpy(w, param("w"), sizeof w);
  memcpy(b, param("b"), sizeof b);
  x[5] = NAN;
  rc = m_train_step(x, y, &loss, NULL);
  if (rc != m_ERR_LOSS_NOT_FINITE || !isnan(loss)) return printf("step 2: rc %d, loss %g\n", rc, loss), 1;
  if (memcmp(w, param("w"), sizeof w) || memcmp(b, param("b"), sizeof b))
    return printf("step 2 was refused but changed a parameter\n"), 1;
  x[5] = 0.0f;
  if (m_train_step(x, y, &loss, NULL) != 0) return printf("step 3 failed\n"), 1;
  for (i = 0; i < 3; i++)
    if (!isfinite(param("w")[i]) || !isfinite(param("b")[i]) || param("w")[i] == w[i])
      return printf("step 3: w[%d] %g, b[%d] %g\n", i, param("w")[i], i, param("b")[i]), 1;
  return 0;
}
EOF
if ! sed -n '/^int m_train_step/,/^}/p' $d/nan/m.c | grep -q 'SGD(m_w[0-9]*\.v, .*, m_w[0-9]*\.v, m_w[0-9]*\.v)'; then
  echo "FAIL: the step's SGD nodes do not write the parameters in place"
  fails=$((fails + 1))
elif ! cc -std=c99 -Wall -Wextra -Werror -o $d/nan/drive $d/nan/drive.c $d/nan/m.c $d/nan/m_weights.c -lm ||
  ! $d/nan/drive; then
  echo "FAIL: a NaN loss with in-place updates"
  fails=$((fails + 1))
else
  echo "ok: a NaN loss leaves the parameters written in place as they were"
fi

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
