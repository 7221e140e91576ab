#!/bin/sh
# fashion_mnist.sh [MODELC] [lenet5|gru] [EPOCHS] - train on Fashion-MNIST in the generated C.
#   lenet5 (the default): LeNet-5 from scratch (models/train/golden/lenet5.onnx),
#          softmax cross-entropy, SGD lr 0.05 momentum 0.9, batch 32, 2 epochs;
#   gru:   a GRU classifier over the 28 rows of each image (models/train/demo/gru_rows.onnx),
#          Adam lr 0.003, batch 32, 2 epochs.
# Installs what is missing (Debian: dataset-fashion-mnist, python3-numpy for the conversion, a C
# compiler), converts the idx files to .npy once (under $FMNIST, default /tmp/fashion-mnist-npy),
# compiles the model with --train, builds the C with cc -O3 -march=native, and trains: one line
# per epoch with the training loss, the test accuracy and the time. PyTorch's figures for the same
# recipe: /usr/bin/python3 models/train/fashion_torch.py DATA NET.
# Run from the repository root as root (for apt-get), after building modelc (README).
set -eu
modelc=${1:-build/modelc}
net=${2:-lenet5}
epochs=${3:-2}
data=${FMNIST:-/tmp/fashion-mnist-npy}
here=$(dirname "$0")

missing=""
[ -d /usr/share/datasets/fashion-mnist ] || missing="$missing dataset-fashion-mnist"
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing="$missing python3 python3-numpy"
command -v cc > /dev/null || missing="$missing gcc"
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing > /dev/null
fi
/usr/bin/python3 "$here/fashion_to_npy.py" "$data"

case $net in
  lenet5)
    model=$here/golden/lenet5.onnx opt="sgd:lr=0.05,momentum=0.9" rows="" ;;
  gru)
    model=$here/demo/gru_rows.onnx opt="adam:lr=0.003" rows="_rows" ;;
  *) echo "fashion_mnist.sh: unknown net '$net' (lenet5 or gru)" >&2; exit 2 ;;
esac
out=${TMPDIR:-/tmp}/fashion-$net
"$modelc" compile "$model" --dim batch=32 -o "$out" --name fashion --emit-main --train \
  --loss softmax_cross_entropy --optimizer "$opt"
cc -std=c99 -O3 -march=native "$out"/*.c -lm -o "$out/fashion_main"
"$out/fashion_main" --train "$data/train${rows}_x.npy" "$data/train_y.npy" --epochs "$epochs" --batch 32 \
  --shuffle 1 --test "$data/test${rows}_x.npy" "$data/test_y.npy" --log "$out/loss.csv"
