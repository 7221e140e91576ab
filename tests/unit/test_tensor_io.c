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
#include "runtime/npy.h"
#include "runtime/tensor_io.h"

#define DATA "tests/data/io/"
#define TEST_MAX ((int64_t)1 << 30) /* bytes of data a test file may hold */
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
  assert_int_equal(tio_load(DATA "i8_2x3.npy", TEST_MAX, &a), 0);
  assert_int_equal(a.dtype, IR_I64);
  assert_int_equal(a.rank, 2);
  assert_int_equal(a.shape[0], 2);
  assert_int_equal(a.shape[1], 3);
  assert_int_equal(a.nbytes, 48);
  assert_memory_equal(a.data, want_i8, 48);
  tio_free(&a);
  tio_free(&a);

  /* the relu input as TensorProto and as numpy's own .npy of it */
  assert_int_equal(tio_load(RELU_PB, TEST_MAX, &a), 0);
  assert_int_equal(tio_load(DATA "relu_input_0.npy", TEST_MAX, &b), 0);
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
  assert_int_equal(tio_load(path, TEST_MAX, &b), 0);
  assert_memory_equal(a.data, b.data, 240);
  tio_free(&b);
  tmppath(path, sizeof path, "actually_npy.pb");
  copy_file(DATA "relu_input_0.npy", path);
  assert_int_equal(tio_load(path, TEST_MAX, &b), 0);
  assert_memory_equal(a.data, b.data, 240);
  tio_free(&b);
  tio_free(&a);
}

static void test_load_errors(void **state) {
  tio_tensor t;
  char path[256];
  FILE *f;
  (void)state;
  assert_int_equal(tio_load(DATA "missing.npy", TEST_MAX, &t), -1);
  assert_non_null(strstr(ir_last_error(), DATA "missing.npy"));
  assert_null(t.data);
  assert_int_equal(tio_load(DATA "fortran_f4_2x3.npy", TEST_MAX, &t), -1);
  assert_non_null(strstr(ir_last_error(), "fortran_f4_2x3.npy"));
  assert_non_null(strstr(ir_last_error(), "fortran_order"));
  assert_null(t.data);
  assert_int_equal(tio_load(DATA "bigendian_f4_2.npy", TEST_MAX, &t), -1);
  assert_non_null(strstr(ir_last_error(), "big-endian"));
  tmppath(path, sizeof path, "text.txt");
  f = fopen(path, "wb");
  fputs("hello, world\n1 2 3\n", f);
  fclose(f);
  assert_int_equal(tio_load(path, TEST_MAX, &t), -1);
  assert_non_null(strstr(ir_last_error(), "text.txt"));
  assert_null(t.data);
  tmppath(path, sizeof path, "empty.pb");
  f = fopen(path, "wb");
  fclose(f);
  assert_int_equal(tio_load(path, TEST_MAX, &t), -1);
  assert_non_null(strstr(ir_last_error(), "empty.pb"));
  assert_int_equal(tio_load(tmpdir, TEST_MAX, &t), -1); /* a directory */
  assert_null(t.data);
  tmppath(path, sizeof path, "short.npy");
  f = fopen(path, "wb");
  fputs("\x93NUMPY\x01", f);
  fclose(f);
  assert_int_equal(tio_load(path, TEST_MAX, &t), -1);
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
    assert_int_equal(tio_load(path, TEST_MAX, &t), 0);
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

/* A file of `size` bytes (sparse past what is written) starting with head. */
static void sparse_file(const char *path, const void *head, size_t n, long long size) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(head, 1, n, f), n);
  fclose(f);
  assert_int_equal(truncate(path, (off_t)size), 0);
}

/* The byte limit is checked against what a file declares before anything
 * is allocated, and a refusal reports the declared dtype and shape. */
static void test_load_limits(void **state) {
  static const int64_t relu_shape[3] = {3, 4, 5}; /* ONNX's test_relu input: float32 */
  unsigned char hdr[128];
  size_t hlen;
  char path[256], err[128];
  int64_t huge[1] = {(int64_t)1 << 31};           /* 8 GiB of float32 */
  tio_tensor t;
  (void)state;
  assert_int_equal(tio_load(DATA "f4_2x3.npy", 23, &t), TIO_TOO_LARGE);
  assert_int_equal(t.dtype, IR_F32);
  assert_int_equal(t.rank, 2);
  assert_int_equal(t.shape[0], 2);
  assert_int_equal(t.shape[1], 3);
  assert_null(t.data);
  assert_non_null(strstr(ir_last_error(), "f4_2x3.npy"));
  assert_int_equal(tio_load(DATA "f4_2x3.npy", 24, &t), 0); /* exactly at the limit */
  tio_free(&t);

  assert_int_equal(tio_load(RELU_PB, 239, &t), TIO_TOO_LARGE);
  assert_int_equal(t.dtype, IR_F32);
  assert_int_equal(t.rank, 3);
  assert_memory_equal(t.shape, relu_shape, sizeof relu_shape);
  assert_null(t.data);
  assert_int_equal(tio_load(RELU_PB, 240, &t), 0);
  tio_free(&t);

  /* A sparse 8 GiB .npy whose header is honest about its size. */
  assert_int_equal(npy_format_header("<f4", 1, huge, hdr, sizeof hdr, &hlen, err, sizeof err), 0);
  tmppath(path, sizeof path, "huge.npy");
  sparse_file(path, hdr, hlen, (long long)hlen + ((long long)1 << 33));
  assert_int_equal(tio_load(path, (int64_t)4 << 30, &t), TIO_TOO_LARGE);
  assert_int_equal(t.shape[0], (int64_t)1 << 31);
  assert_null(t.data);
  /* ... and one that claims a small shape: refused by its size, unread. */
  huge[0] = 2;
  assert_int_equal(npy_format_header("<f4", 1, huge, hdr, sizeof hdr, &hlen, err, sizeof err), 0);
  sparse_file(path, hdr, hlen, (long long)1 << 33);
  assert_int_equal(tio_load(path, (int64_t)4 << 30, &t), -1);
  assert_non_null(strstr(ir_last_error(), "header says 8"));
  /* A sparse 8 GiB .pb: refused by its size before a byte is read. */
  tmppath(path, sizeof path, "huge.pb");
  sparse_file(path, "\x08\x02", 2, (long long)1 << 33);
  assert_int_equal(tio_load(path, 1 << 20, &t), -1);
  assert_non_null(strstr(ir_last_error(), "8589934592 bytes"));
  remove(path);
  tmppath(path, sizeof path, "huge.npy");
  remove(path);
}

/* Devices and pipes are read front to back and never past what they
 * declare; /dev/zero is no tensor and fails at its first bytes. */
static void test_load_streams(void **state) {
  tio_tensor t, want;
  char cmd[512];
  FILE *p;
  (void)state;
  assert_int_equal(tio_load("/dev/zero", (int64_t)4 << 30, &t), -1);
  assert_non_null(strstr(ir_last_error(), "/dev/zero: not a serialized ONNX TensorProto"));
  assert_int_equal(tio_load("/dev/null", (int64_t)4 << 30, &t), -1);
  assert_non_null(strstr(ir_last_error(), "empty"));
  /* the same tensor through a pipe, as .npy and as .pb */
  const char *files[2] = {DATA "relu_input_0.npy", RELU_PB};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(tio_load(files[i], 240, &want), 0);
    snprintf(cmd, sizeof cmd, "mkfifo %s/fifo && (cat %s > %s/fifo &)", tmpdir, files[i], tmpdir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/fifo", tmpdir);
    assert_int_equal(tio_load(cmd, 240, &t), 0);
    assert_int_equal(t.nbytes, 240);
    assert_memory_equal(t.data, want.data, 240);
    tio_free(&t);
    tio_free(&want);
    remove(cmd);
  }
  /* a .npy stream with more data than its header says */
  snprintf(cmd, sizeof cmd, "mkfifo %s/fifo && ((cat %s; echo extra) > %s/fifo &)", tmpdir, files[0], tmpdir);
  assert_int_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s/fifo", tmpdir);
  assert_int_equal(tio_load(cmd, 1000, &t), -1);
  assert_non_null(strstr(ir_last_error(), "more data than"));
  remove(cmd);
  (void)p;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descr_mapping),
      cmocka_unit_test(test_load_both_formats),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_load_limits),
      cmocka_unit_test(test_load_streams),
      cmocka_unit_test(test_save_round_trips),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
