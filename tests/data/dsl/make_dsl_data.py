#!/usr/bin/python3
# make_dsl_data.py - fixtures of tests/unit/test_dsl.c, written by numpy itself:
#   weights.npz     np.savez: p = arange(6).reshape(2, 3) / 4 (float32), q = [1.5, -2] (float64)
#   compressed.npz  np.savez_compressed of the same arrays (must be refused)
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
p = (np.arange(6, dtype=np.float32).reshape(2, 3) / 4).astype(np.float32)
q = np.array([1.5, -2.0], dtype=np.float64)
np.savez(os.path.join(here, "weights.npz"), p=p, q=q)
np.savez_compressed(os.path.join(here, "compressed.npz"), p=p, q=q)
