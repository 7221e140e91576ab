#!/usr/bin/python3
"""Regenerate the tensor I/O fixtures in this folder (numpy 1.24, onnx 1.x).

Run from this folder with /usr/bin/python3.  The files are small and
committed; the tests compare against the values numpy and onnx report here.
  - <kind>_2x3.npy: one file per numpy dtype the npy reader supports
  - v2_f8_3.npy, v3_i4_2x2.npy: format versions 2.0 and 3.0
  - scalar, empty, rank 4, and the refused fortran-order / big-endian files
  - relu_input_0.npy, tp_*.npy: onnx.numpy_helper.to_array of ONNX test data .pb
"""
import numpy as np
import onnx
from numpy.lib import format as fm
from onnx import numpy_helper

NODE = "/usr/share/libonnx-testdata/data/node/"

for k, d in {'f4': '<f4', 'f8': '<f8', 'f2': '<f2', 'i1': '|i1', 'i2': '<i2', 'i4': '<i4', 'i8': '<i8',
             'u1': '|u1', 'u2': '<u2', 'u4': '<u4', 'u8': '<u8', 'b1': '|b1'}.items():
    if k == 'b1':
        a = np.array([[True, False, True], [False, False, True]])
    elif k[0] == 'f':
        a = (np.arange(6).reshape(2, 3) * 0.5 - 1).astype(d)
    elif k[0] == 'i':
        a = (np.arange(6).reshape(2, 3) * 7 - 20).astype(d)
    else:
        a = (np.arange(6).reshape(2, 3) * 7 + 250).astype(d)  # u1 wraps to 250, 1, 8, ...
    np.save(f'{k}_2x3.npy', a)

with open('v2_f8_3.npy', 'wb') as f:
    fm.write_array(f, np.array([1.5, -2.25, 1e300]), version=(2, 0))
with open('v3_i4_2x2.npy', 'wb') as f:
    fm.write_array(f, np.array([[1, -2], [3, 2147483647]], dtype='<i4'), version=(3, 0))
np.save('scalar_f4.npy', np.float32(3.25))
np.save('empty_f4_0x3.npy', np.zeros((0, 3), np.float32))
np.save('fortran_f4_2x3.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save('bigendian_f4_2.npy', np.array([1, 2], dtype='>f4'))
np.save('rank4_f4.npy', np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4))


def pb_array(rel):
    t = onnx.TensorProto()
    with open(NODE + rel, 'rb') as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


np.save('relu_input_0.npy', pb_array('test_relu/test_data_set_0/input_0.pb'))
for test in ['test_reduce_log_sum_exp_keepdims_random', 'test_min_uint64', 'test_mod_uint32', 'test_min_int16',
             'test_clip_default_int8_max', 'test_cast_FLOAT16_to_FLOAT', 'test_add_uint8', 'test_and_bcast3v1d',
             'test_min_uint16', 'test_min_int32']:
    np.save('tp_' + test[5:] + '.npy', pb_array(test + '/test_data_set_0/input_0.pb'))
np.save('tp_pow_types_float32_int64_in1.npy', pb_array('test_pow_types_float32_int64/test_data_set_0/input_1.pb'))
