/*
 * test_tensor_io.c - the CLI's tensor loader (runtime/tensor_io.c).
 *
 * Format detection by content, dtype mapping both ways, save/load round
 * trips for every dtype numpy has, and errors that name the file.  Expected
 * values come from numpy-written fixtures in tests/data/io/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "runtime/tensor_io.h"

#define DATA "tests/data/io/"
#define RELU_PB "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb"

static char tmpdir[64];

static void tmppath(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  int c;
  assert_non_null(a);
  assert_non_null(b);
  while ((c = fgetc(a)) != EOF) fputc(c, b);
  fclose(a);
  fclose(b);
}

static int setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/modelc_tio_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  char cmd[128];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_descr_mapping(void **state) {
  static const struct {
    ir_dtype dt;
    const char *descr;
  } m[] = {
      {IR_F32, "<f4"}, {IR_F64, "<f8"}, {IR_F16, "<f2"}, {IR_I8, "|i1"},  {IR_I16, "<i2"}, {IR_I32, "<i4"},
      {IR_I64, "<i8"}, {IR_U8, "|u1"},  {IR_U16, "<u2"}, {IR_U32, "<u4"}, {IR_U64, "<u8"}, {IR_BOOL, "|b1"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof m / sizeof m[0]; i++) {
    assert_string_equal(tio_npy_descr(m[i].dt), m[i].descr);
    assert_int_equal(tio_dtype_from_descr(m[i].descr), m[i].dt);
  }
  assert_null(tio_npy_descr(IR_BF16));
  assert_null(tio_npy_descr(IR_STRING));
  assert_null(tio_npy_descr(IR_UNDEF));
  assert_int_equal(tio_dtype_from_descr("f4"), IR_F32);
  assert_int_equal(tio_dtype_from_descr("=i8"), IR_I64);
  assert_int_equal(tio_dtype_from_descr("?"), IR_BOOL);
  assert_int_equal(tio_dtype_from_descr("<u1"), IR_U8);
  assert_int_equal(tio_dtype_from_descr(">f4"), IR_UNDEF);
  assert_int_equal(tio_dtype_from_descr("<c8"), IR_UNDEF);
  assert_int_equal(tio_dtype_from_descr("<U5"), IR_UNDEF);
  assert_int_equal(tio_dtype_from_descr(""), IR_UNDEF);
  assert_int_equal(tio_dtype_from_descr(NULL), IR_UNDEF);
}

static void test_load_both_formats(void **state) {
  static const int64_t want_i8[6] = {-20, -13, -6, 1, 8, 15};
  tio_tensor a, b;
  char path[256];
  (void)state;
  assert_int_equal(tio_load(DATA "i8_2x3.npy", &a), 0);
  assert_int_equal(a.dtype, IR_I64);
  assert_int_equal(a.rank, 2);
  assert_int_equal(a.shape[0], 2);
  assert_int_equal(a.shape[1], 3);
  assert_int_equal(a.nbytes, 48);
  assert_memory_equal(a.data, want_i8, 48);
  tio_free(&a);
  tio_free(&a);

  /* the relu input as TensorProto and as numpy's own .npy of it */
  assert_int_equal(tio_load(RELU_PB, &a), 0);
  assert_int_equal(tio_load(DATA "relu_input_0.npy", &b), 0);
  assert_int_equal(a.dtype, IR_F32);
  assert_int_equal(a.rank, 3);
  assert_int_equal(a.shape[0], 3);
  assert_int_equal(a.shape[1], 4);
  assert_int_equal(a.shape[2], 5);
  assert_int_equal(b.dtype, a.dtype);
  assert_int_equal(b.rank, a.rank);
  assert_memory_equal(b.shape, a.shape, 3 * sizeof(int64_t));
  assert_int_equal(a.nbytes, 240);
  assert_memory_equal(a.data, b.data, 240);
  tio_free(&b);

  /* content decides, not the name */
  tmppath(path, sizeof path, "actually_pb.npy");
  copy_file(RELU_PB, path);
  assert_int_equal(tio_load(path, &b), 0);
  assert_memory_equal(a.data, b.data, 240);
  tio_free(&b);
  tmppath(path, sizeof path, "actually_npy.pb");
  copy_file(DATA "relu_input_0.npy", path);
  assert_int_equal(tio_load(path, &b), 0);
  assert_memory_equal(a.data, b.data, 240);
  tio_free(&b);
  tio_free(&a);
}

static void test_load_errors(void **state) {
  tio_tensor t;
  char path[256];
  FILE *f;
  (void)state;
  assert_int_equal(tio_load(DATA "missing.npy", &t), -1);
  assert_non_null(strstr(ir_last_error(), DATA "missing.npy"));
  assert_null(t.data);
  assert_int_equal(tio_load(DATA "fortran_f4_2x3.npy", &t), -1);
  assert_non_null(strstr(ir_last_error(), "fortran_f4_2x3.npy"));
  assert_non_null(strstr(ir_last_error(), "fortran_order"));
  assert_null(t.data);
  assert_int_equal(tio_load(DATA "bigendian_f4_2.npy", &t), -1);
  assert_non_null(strstr(ir_last_error(), "big-endian"));
  tmppath(path, sizeof path, "text.txt");
  f = fopen(path, "wb");
  fputs("hello, world\n1 2 3\n", f);
  fclose(f);
  assert_int_equal(tio_load(path, &t), -1);
  assert_non_null(strstr(ir_last_error(), "text.txt"));
  assert_null(t.data);
  tmppath(path, sizeof path, "empty.pb");
  f = fopen(path, "wb");
  fclose(f);
  assert_int_equal(tio_load(path, &t), -1);
  assert_non_null(strstr(ir_last_error(), "empty.pb"));
  assert_int_equal(tio_load(tmpdir, &t), -1); /* a directory */
  assert_null(t.data);
  tmppath(path, sizeof path, "short.npy");
  f = fopen(path, "wb");
  fputs("\x93NUMPY\x01", f);
  fclose(f);
  assert_int_equal(tio_load(path, &t), -1);
  assert_non_null(strstr(ir_last_error(), "short.npy"));
}

static void test_save_round_trips(void **state) {
  static const ir_dtype dts[] = {IR_F32, IR_F64, IR_F16, IR_I8,  IR_I16, IR_I32,
                                 IR_I64, IR_U8,  IR_U16, IR_U32, IR_U64, IR_BOOL};
  static const int64_t shape[3] = {2, 1, 3};
  unsigned char data[48];
  char path[256];
  size_t k, i, n;
  tio_tensor t;
  (void)state;
  tmppath(path, sizeof path, "out.npy");
  for (k = 0; k < sizeof dts / sizeof dts[0]; k++) {
    n = 6 * ir_dtype_size(dts[k]);
    for (i = 0; i < n; i++) data[i] = (unsigned char)(dts[k] == IR_BOOL ? i & 1 : i * 29 + k);
    assert_int_equal(tio_save_npy(path, dts[k], 3, shape, data), 0);
    assert_int_equal(tio_load(path, &t), 0);
    assert_int_equal(t.dtype, dts[k]);
    assert_int_equal(t.rank, 3);
    assert_memory_equal(t.shape, shape, sizeof shape);
    assert_int_equal(t.nbytes, n);
    assert_memory_equal(t.data, data, n);
    tio_free(&t);
  }
  /* numpy's own file for the same f32 values, byte for byte */
  {
    static const float f4[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    static const int64_t s23[2] = {2, 3};
    FILE *a, *b;
    int ca, cb;
    assert_int_equal(tio_save_npy(path, IR_F32, 2, s23, f4), 0);
    a = fopen(path, "rb");
    b = fopen(DATA "f4_2x3.npy", "rb");
    do {
      ca = fgetc(a);
      cb = fgetc(b);
      assert_int_equal(ca, cb);
    } while (ca != EOF);
    fclose(a);
    fclose(b);
  }
  assert_int_equal(tio_save_npy(path, IR_BF16, 3, shape, data), -1);
  assert_non_null(strstr(ir_last_error(), "out.npy"));
  assert_int_equal(tio_save_npy("/nonexistent_dir/o.npy", IR_F32, 3, shape, data), -1);
  assert_non_null(strstr(ir_last_error(), "/nonexistent_dir/o.npy"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descr_mapping),
      cmocka_unit_test(test_load_both_formats),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_save_round_trips),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
