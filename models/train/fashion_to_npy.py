#!/usr/bin/python3
"""fashion_to_npy.py OUTDIR: Fashion-MNIST (Debian's dataset-fashion-mnist, gzipped idx files under
/usr/share/datasets/fashion-mnist/) as .npy files for `NAME_main --train`:
  train_x.npy float32 [60000, 1, 28, 28], pixels / 255 (as torchvision's ToTensor), train_y.npy
  int64 [60000]; test_x.npy, test_y.npy the same for the 10000 test images;
  train_rows_x.npy, test_rows_x.npy float32 [N, 28, 28]: each image as 28 steps of one row, for
  the recurrent demo.
Files that exist are kept."""

import gzip
import os
import sys

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"


def idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        data = f.read()
    head = np.frombuffer(data, ">u4", 1 + ndim)
    if head[0] != magic:
        sys.exit("%s: not an idx file of the expected kind (magic %#x)" % (path, head[0]))
    return np.frombuffer(data, np.uint8, offset=4 * (1 + ndim)).reshape(tuple(int(d) for d in head[1:]))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for split, stem in (("train", "train"), ("test", "t10k")):
        images = idx(os.path.join(SRC, stem + "-images-idx3-ubyte.gz"), 0x803, 3)
        labels = idx(os.path.join(SRC, stem + "-labels-idx1-ubyte.gz"), 0x801, 1)
        x = (images.astype(np.float32) / np.float32(255))
        for name, value in (("%s_x.npy" % split, x[:, None]), ("%s_rows_x.npy" % split, x),
                            ("%s_y.npy" % split, labels.astype(np.int64))):
            path = os.path.join(out, name)
            if not os.path.exists(path):
                np.save(path, value)


if __name__ == "__main__":
    main()
