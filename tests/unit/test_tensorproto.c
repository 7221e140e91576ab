/*
 * test_tensorproto.c - TensorProto decoding (runtime/tensorproto.c).
 *
 * Real .pb files from ONNX's backend test data are compared against .npy
 * fixtures that onnx.numpy_helper.to_array produced for them
 * (tests/data/io/tp_*.npy, see make_fixtures.py there).  The typed-field
 * forms, the many ways a message can lie about its size, and the external
 * data path rules use TensorProto structs built here in C.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "runtime/npy.h"
#include "runtime/tensorproto.h"

#define DATA "tests/data/io/"
#define NODE "/usr/share/libonnx-testdata/data/node/"

static char tmpdir[64];

static void tmppath(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static int setup(void **state) {
  char p[256], q[256];
  unsigned char bytes[64];
  int i;
  (void)state;
  strcpy(tmpdir, "/tmp/modelc_tp_XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  /* tmpdir/model/ is the model directory; tmpdir/outside.bin lies beside it. */
  for (i = 0; i < 64; i++) bytes[i] = (unsigned char)i;
  tmppath(p, sizeof p, "model");
  if (mkdir(p, 0700) != 0) return -1;
  tmppath(p, sizeof p, "model/sub");
  if (mkdir(p, 0700) != 0) return -1;
  tmppath(p, sizeof p, "model/weights.bin");
  write_file(p, bytes, 64);
  tmppath(p, sizeof p, "model/sub/w.bin");
  write_file(p, bytes, 16);
  tmppath(p, sizeof p, "outside.bin");
  write_file(p, bytes, 64);
  tmppath(p, sizeof p, "outside.bin");
  tmppath(q, sizeof q, "model/link_out.bin");
  if (symlink(p, q) != 0) return -1;
  tmppath(q, sizeof q, "model/link_in.bin");
  if (symlink("weights.bin", q) != 0) return -1;
  return 0;
}

static int teardown(void **state) {
  char cmd[128];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* ---- real ONNX test data ------------------------------------------------ */

static void test_onnx_test_data(void **state) {
  static const struct {
    const char *pb, *npy, *name;
    ir_dtype dt;
  } cases[] = {
      {"test_relu/test_data_set_0/input_0.pb", "relu_input_0.npy", "x", IR_F32},
      {"test_reduce_log_sum_exp_keepdims_random/test_data_set_0/input_0.pb",
       "tp_reduce_log_sum_exp_keepdims_random.npy", "data", IR_F64},
      {"test_min_uint64/test_data_set_0/input_0.pb", "tp_min_uint64.npy", "data_0", IR_U64},
      {"test_mod_uint32/test_data_set_0/input_0.pb", "tp_mod_uint32.npy", "x", IR_U32},
      {"test_min_uint16/test_data_set_0/input_0.pb", "tp_min_uint16.npy", "data_0", IR_U16},
      {"test_min_int16/test_data_set_0/input_0.pb", "tp_min_int16.npy", "data_0", IR_I16},
      {"test_min_int32/test_data_set_0/input_0.pb", "tp_min_int32.npy", "data_0", IR_I32},
      {"test_pow_types_float32_int64/test_data_set_0/input_1.pb", "tp_pow_types_float32_int64_in1.npy", "y",
       IR_I64},
      {"test_clip_default_int8_max/test_data_set_0/input_0.pb", "tp_clip_default_int8_max.npy", "x", IR_I8},
      {"test_cast_FLOAT16_to_FLOAT/test_data_set_0/input_0.pb", "tp_cast_FLOAT16_to_FLOAT.npy", "input",
       IR_F16},
      {"test_add_uint8/test_data_set_0/input_0.pb", "tp_add_uint8.npy", "x", IR_U8},
      {"test_and_bcast3v1d/test_data_set_0/input_0.pb", "tp_and_bcast3v1d.npy", "x", IR_BOOL},
  };
  size_t k;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char pb[512], npy[256], err[256], *name;
    int64_t dims[IR_MAX_RANK];
    void *data;
    size_t nbytes;
    ir_dtype dt;
    int rank, i;
    npy_array want;
    snprintf(pb, sizeof pb, NODE "%s", cases[k].pb);
    snprintf(npy, sizeof npy, DATA "%s", cases[k].npy);
    if (tp_read_file(pb, 0, &name, &dt, &rank, dims, &data, &nbytes) != 0)
      fail_msg("%s: %s", pb, ir_last_error());
    if (npy_read(npy, &want, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(name, cases[k].name);
    assert_int_equal(dt, cases[k].dt);
    assert_int_equal(rank, want.rank);
    for (i = 0; i < rank; i++) assert_int_equal(dims[i], want.shape[i]);
    assert_int_equal(nbytes, want.nbytes);
    assert_memory_equal(data, want.data, nbytes);
    npy_free(&want);
    free(data);
    free(name);
  }
}

static void test_read_file_refusals(void **state) {
  char *name, path[256];
  int64_t dims[IR_MAX_RANK];
  void *data;
  size_t nbytes, len, cut;
  ir_dtype dt;
  int rank;
  unsigned char *buf;
  FILE *f;
  long n;
  (void)state;
  assert_int_equal(tp_read_file(DATA "nope.pb", 0, &name, &dt, &rank, dims, &data, &nbytes), -1);
  assert_non_null(strstr(ir_last_error(), "nope.pb"));
  /* a .npy file is not a TensorProto */
  assert_int_equal(tp_read_file(DATA "f4_2x3.npy", 0, &name, &dt, &rank, dims, &data, &nbytes), -1);
  assert_null(data);
  assert_null(name);
  /* the relu input is 240 bytes of floats: a 200-byte limit refuses it */
  assert_int_equal(tp_read_file(NODE "test_relu/test_data_set_0/input_0.pb", 200, &name, &dt, &rank, dims,
                                &data, &nbytes),
                   TP_TOO_LARGE);
  assert_non_null(strstr(ir_last_error(), "limit"));
  /* every truncation of a real file is refused */
  f = fopen(NODE "test_relu/test_data_set_0/input_0.pb", "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  len = (size_t)n;
  buf = malloc(len);
  assert_int_equal(fread(buf, 1, len, f), len);
  fclose(f);
  tmppath(path, sizeof path, "cut.pb");
  for (cut = 0; cut < len; cut++) {
    write_file(path, buf, cut);
    if (tp_read_file(path, 0, &name, &dt, &rank, dims, &data, &nbytes) == 0)
      fail_msg("truncation to %d bytes accepted", (int)cut);
    assert_non_null(strstr(ir_last_error(), "cut.pb"));
  }
  free(buf);
  /* ONNX's SequenceProto files parse as a TensorProto without data: refused */
  assert_int_equal(tp_read_file(NODE "test_sequence_insert_at_front/test_data_set_0/output_0.pb", 0, &name,
                                &dt, &rank, dims, &data, &nbytes),
                   -1);
}

/* ---- messages built in C ------------------------------------------------ */

typedef struct decoded {
  int rc;
  ir_dtype dt;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *data;
  size_t nbytes;
} decoded;

static decoded decode(const Onnx__TensorProto *tp, const char *base, int64_t max_bytes) {
  decoded d;
  memset(&d, 0, sizeof d);
  d.rc = tp_decode(tp, base, max_bytes, &d.dt, &d.rank, d.dims, &d.data, &d.nbytes);
  if (d.rc != 0) assert_null(d.data);
  return d;
}

static Onnx__TensorProto make(const char *name, int onnx_type, int rank, int64_t *dims) {
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  tp.name = (char *)name;
  tp.has_data_type = 1;
  tp.data_type = onnx_type;
  tp.n_dims = (size_t)rank;
  tp.dims = dims;
  return tp;
}

/* Mutate the first bytes of a real message (tags, lengths, dims, type):
 * whatever protobuf-c accepts must decode to a self-consistent tensor or be
 * refused, never crash (run under MODELC_SANITIZE to see overreads). */
static void test_mutations(void **state) {
  static const uint8_t vals[] = {0x00, 0x01, 0x08, 0x10, 0x7f, 0x80, 0xff};
  FILE *f = fopen(NODE "test_relu/test_data_set_0/input_0.pb", "rb");
  uint8_t buf[512], copy[512];
  size_t len, i, v;
  (void)state;
  assert_non_null(f);
  len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_true(len > 32 && len < sizeof buf);
  for (i = 0; i < 32; i++) {
    for (v = 0; v < sizeof vals; v++) {
      Onnx__TensorProto *tp;
      decoded d;
      memcpy(copy, buf, len);
      copy[i] = vals[v];
      tp = onnx__tensor_proto__unpack(NULL, len, copy);
      if (!tp) continue;
      d = decode(tp, NULL, 1 << 20);
      if (d.rc == 0) {
        int64_t n = ir_numel_dims(d.rank, d.dims);
        assert_true(n >= 0);
        assert_int_equal(d.nbytes, (size_t)n * ir_dtype_size(d.dt));
        free(d.data);
      }
      onnx__tensor_proto__free_unpacked(tp, NULL);
    }
  }
}

static void test_typed_fields(void **state) {
  int64_t d23[2] = {2, 3}, d3[1] = {3}, d2[1] = {2};
  float f[6] = {1, -2, 3.5f, 0, 1e30f, -0.0f};
  double g[3] = {1.25, -1e300, 3};
  int64_t l[3] = {INT64_MIN, 0, INT64_MAX};
  uint64_t u[3] = {0, 4294967295u, 123};
  uint64_t big[2] = {UINT64_MAX, 1};
  int32_t i8v[3] = {-128, 127, 5}, u16v[2] = {65535, 0}, boolv[3] = {1, 0, 1}, f16v[2] = {0x3C00, 0xC000};
  const int8_t want_i8[3] = {-128, 127, 5};
  const uint16_t want_u16[2] = {65535, 0}, want_f16[2] = {0x3C00, 0xC000};
  const uint8_t want_bool[3] = {1, 0, 1};
  const uint32_t want_u32[3] = {0, 4294967295u, 123};
  Onnx__TensorProto tp;
  decoded d;
  (void)state;

  tp = make("f", 1, 2, d23);
  tp.n_float_data = 6;
  tp.float_data = f;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_F32);
  assert_int_equal(d.rank, 2);
  assert_int_equal(d.dims[0], 2);
  assert_int_equal(d.dims[1], 3);
  assert_int_equal(d.nbytes, 24);
  assert_memory_equal(d.data, f, 24);
  free(d.data);

  tp = make("d", 11, 1, d3);
  tp.n_double_data = 3;
  tp.double_data = g;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_F64);
  assert_memory_equal(d.data, g, 24);
  free(d.data);

  tp = make("l", 7, 1, d3);
  tp.n_int64_data = 3;
  tp.int64_data = l;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_I64);
  assert_memory_equal(d.data, l, 24);
  free(d.data);

  tp = make("u64", 13, 1, d3);
  tp.n_uint64_data = 3;
  tp.uint64_data = u;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_U64);
  assert_memory_equal(d.data, u, 24);
  free(d.data);

  tp = make("u32", 12, 1, d3);
  tp.n_uint64_data = 3;
  tp.uint64_data = u;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_U32);
  assert_int_equal(d.nbytes, 12);
  assert_memory_equal(d.data, want_u32, 12);
  free(d.data);
  tp = make("u32big", 12, 1, d2);
  tp.n_uint64_data = 2;
  tp.uint64_data = big;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, -1);
  assert_non_null(strstr(ir_last_error(), "u32big"));

  tp = make("i8", 3, 1, d3);
  tp.n_int32_data = 3;
  tp.int32_data = i8v;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_I8);
  assert_int_equal(d.nbytes, 3);
  assert_memory_equal(d.data, want_i8, 3);
  free(d.data);
  i8v[2] = 128; /* out of int8's range */
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, -1);
  assert_non_null(strstr(ir_last_error(), "'i8'"));
  i8v[2] = 5;

  tp = make("u16", 4, 1, d2);
  tp.n_int32_data = 2;
  tp.int32_data = u16v;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_U16);
  assert_memory_equal(d.data, want_u16, 4);
  free(d.data);

  tp = make("h", 10, 1, d2); /* float16 bit patterns: 1.0, -2.0 */
  tp.n_int32_data = 2;
  tp.int32_data = f16v;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_F16);
  assert_memory_equal(d.data, want_f16, 4);
  free(d.data);

  tp = make("bf", 16, 1, d2);
  tp.n_int32_data = 2;
  tp.int32_data = f16v;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_BF16);
  assert_memory_equal(d.data, want_f16, 4);
  free(d.data);

  tp = make("b", 9, 1, d3);
  tp.n_int32_data = 3;
  tp.int32_data = boolv;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.dt, IR_BOOL);
  assert_memory_equal(d.data, want_bool, 3);
  free(d.data);
  boolv[0] = 2;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  boolv[0] = 1;
}

static void test_raw_and_empty(void **state) {
  int64_t d2[1] = {2}, d0[2] = {4, 0}, scalar[1] = {0};
  uint8_t raw[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}; /* 1.0f, -2.0f */
  uint8_t rawb[3] = {0, 7, 1};
  const float want[2] = {1.0f, -2.0f};
  const uint8_t wantb[3] = {0, 1, 1};
  int64_t d3[1] = {3};
  Onnx__TensorProto tp;
  decoded d;
  float one = 4.5f;
  (void)state;
  (void)scalar;

  tp = make("r", 1, 1, d2);
  tp.has_raw_data = 1;
  tp.raw_data.len = 8;
  tp.raw_data.data = raw;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_memory_equal(d.data, want, 8);
  free(d.data);
  d = decode(&tp, NULL, 8); /* exactly at the limit */
  assert_int_equal(d.rc, 0);
  free(d.data);
  assert_int_equal(decode(&tp, NULL, 7).rc, TP_TOO_LARGE);
  tp.raw_data.len = 7;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  assert_non_null(strstr(ir_last_error(), "raw_data"));
  tp.raw_data.len = 8;

  tp = make("rb", 9, 1, d3); /* raw bools normalized to 0/1 */
  tp.has_raw_data = 1;
  tp.raw_data.len = 3;
  tp.raw_data.data = rawb;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_memory_equal(d.data, wantb, 3);
  free(d.data);

  tp = make("empty", 1, 2, d0); /* no data at all is right for 4x0 */
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.nbytes, 0);
  assert_int_equal(d.rank, 2);
  assert_non_null(d.data);
  free(d.data);

  tp = make("scalar", 1, 0, NULL);
  tp.n_float_data = 1;
  tp.float_data = &one;
  d = decode(&tp, NULL, 0);
  assert_int_equal(d.rc, 0);
  assert_int_equal(d.rank, 0);
  assert_int_equal(d.nbytes, 4);
  assert_true(*(float *)d.data == 4.5f);
  free(d.data);
  tp.n_float_data = 0; /* a scalar with no value */
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
}

static void test_malformed(void **state) {
  int64_t neg[2] = {2, -1}, huge[3] = {INT64_MAX / 2, 4, 4}, d2[1] = {2};
  int64_t r9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  float f[2] = {1, 2};
  int32_t iv[2] = {1, 2};
  uint8_t raw[8] = {0};
  ProtobufCBinaryData s[2];
  Onnx__TensorProto__Segment seg = ONNX__TENSOR_PROTO__SEGMENT__INIT;
  Onnx__TensorProto tp;
  (void)state;

  tp = make("neg", 1, 2, neg);
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  assert_non_null(strstr(ir_last_error(), "'neg'"));
  assert_non_null(strstr(ir_last_error(), "negative"));
  tp = make("huge", 1, 3, huge);
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  tp = make("r9", 1, 9, r9);
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  tp = make("count", 1, 1, d2); /* one float for two elements */
  tp.n_float_data = 1;
  tp.float_data = f;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  assert_non_null(strstr(ir_last_error(), "float_data"));
  tp.n_float_data = 2;
  tp.has_raw_data = 1; /* raw and typed at once */
  tp.raw_data.len = 8;
  tp.raw_data.data = raw;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  tp = make("wrongfield", 1, 1, d2); /* float tensor with int32_data */
  tp.n_int32_data = 2;
  tp.int32_data = iv;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  tp = make("str", 8, 1, d2);
  s[0].len = 1;
  s[0].data = (uint8_t *)"a";
  s[1] = s[0];
  tp.n_string_data = 2;
  tp.string_data = s;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  assert_non_null(strstr(ir_last_error(), "string"));
  tp = make("c64", 14, 1, d2);
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  tp = make("undef", 0, 1, d2);
  tp.has_data_type = 0;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  tp = make("unknown", 999, 1, d2);
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
  assert_non_null(strstr(ir_last_error(), "999"));
  tp = make("seg", 1, 1, d2);
  tp.n_float_data = 2;
  tp.float_data = f;
  tp.segment = &seg;
  assert_int_equal(decode(&tp, NULL, 0).rc, -1);
}

/* ---- external data ------------------------------------------------------ */

static decoded decode_ext(const char *name, int64_t *dims, int rank, const char *loc, const char *off,
                          const char *len, int with_base) {
  Onnx__StringStringEntryProto e[3] = {ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                       ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                       ONNX__STRING_STRING_ENTRY_PROTO__INIT};
  Onnx__StringStringEntryProto *ep[3];
  Onnx__TensorProto tp = make(name, 1, rank, dims);
  char base[256];
  size_t n = 0;
  tmppath(base, sizeof base, "model");
  if (loc) {
    e[n].key = "location";
    e[n].value = (char *)loc;
    ep[n] = &e[n];
    n++;
  }
  if (off) {
    e[n].key = "offset";
    e[n].value = (char *)off;
    ep[n] = &e[n];
    n++;
  }
  if (len) {
    e[n].key = "length";
    e[n].value = (char *)len;
    ep[n] = &e[n];
    n++;
  }
  tp.n_external_data = n;
  tp.external_data = ep;
  tp.has_data_location = 1;
  tp.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  return decode(&tp, with_base ? base : NULL, 0);
}

static void test_external_good(void **state) {
  int64_t d4[1] = {4}, d16[1] = {16}, d1[1] = {1};
  uint8_t want[16];
  decoded d;
  int i;
  (void)state;
  for (i = 0; i < 16; i++) want[i] = (uint8_t)(16 + i);
  d = decode_ext("w", d4, 1, "weights.bin", "16", "16", 1);
  if (d.rc != 0) fail_msg("%s", ir_last_error());
  assert_int_equal(d.nbytes, 16);
  assert_memory_equal(d.data, want, 16);
  free(d.data);
  /* no length: the rest of the file, which must then fit dims exactly */
  d = decode_ext("w", d4, 1, "weights.bin", "48", NULL, 1);
  assert_int_equal(d.rc, 0);
  assert_int_equal(((uint8_t *)d.data)[0], 48);
  free(d.data);
  d = decode_ext("w", d16, 1, "weights.bin", NULL, NULL, 1);
  assert_int_equal(d.rc, 0);
  assert_int_equal(((uint8_t *)d.data)[63], 63);
  free(d.data);
  d = decode_ext("w", d4, 1, "sub/w.bin", NULL, NULL, 1);
  assert_int_equal(d.rc, 0);
  free(d.data);
  d = decode_ext("w", d4, 1, "./sub/w.bin", "0", "16", 1);
  assert_int_equal(d.rc, 0);
  free(d.data);
  /* a symlink that stays inside the model directory is fine */
  d = decode_ext("w", d1, 1, "link_in.bin", "4", "4", 1);
  assert_int_equal(d.rc, 0);
  assert_int_equal(((uint8_t *)d.data)[0], 4);
  free(d.data);
}

static void test_external_refused(void **state) {
  int64_t d4[1] = {4}, d1[1] = {1};
  char abs[256];
  (void)state;
  tmppath(abs, sizeof abs, "model/weights.bin");
  assert_int_equal(decode_ext("abs", d4, 1, abs, NULL, "16", 1).rc, -1);
  assert_non_null(strstr(ir_last_error(), "'abs'"));
  assert_int_equal(decode_ext("up", d4, 1, "../outside.bin", NULL, "16", 1).rc, -1);
  assert_non_null(strstr(ir_last_error(), ".."));
  assert_int_equal(decode_ext("upmid", d4, 1, "sub/../weights.bin", NULL, "16", 1).rc, -1);
  assert_int_equal(decode_ext("upwin", d4, 1, "sub\\..\\weights.bin", NULL, "16", 1).rc, -1);
  assert_int_equal(decode_ext("symout", d1, 1, "link_out.bin", "0", "4", 1).rc, -1);
  assert_non_null(strstr(ir_last_error(), "outside"));
  assert_int_equal(decode_ext("nobase", d4, 1, "weights.bin", "0", "16", 0).rc, -1);
  assert_int_equal(decode_ext("noloc", d4, 1, NULL, "0", "16", 1).rc, -1);
  assert_int_equal(decode_ext("emptyloc", d4, 1, "", "0", "16", 1).rc, -1);
  assert_int_equal(decode_ext("missing", d4, 1, "absent.bin", NULL, NULL, 1).rc, -1);
  assert_int_equal(decode_ext("dir", d4, 1, "sub", NULL, NULL, 1).rc, -1);
  assert_int_equal(decode_ext("dot", d4, 1, ".", NULL, NULL, 1).rc, -1);
  assert_int_equal(decode_ext("pastend", d4, 1, "weights.bin", "65", NULL, 1).rc, -1);
  assert_int_equal(decode_ext("longlen", d4, 1, "weights.bin", "56", "16", 1).rc, -1);
  assert_int_equal(decode_ext("wronglen", d4, 1, "weights.bin", "0", "12", 1).rc, -1);
  assert_int_equal(decode_ext("rest", d4, 1, "weights.bin", "0", NULL, 1).rc, -1); /* 64 bytes, 16 wanted */
  assert_int_equal(decode_ext("badoff", d4, 1, "weights.bin", "1x", "16", 1).rc, -1);
  assert_int_equal(decode_ext("negoff", d4, 1, "weights.bin", "-1", "16", 1).rc, -1);
  assert_int_equal(decode_ext("hugeoff", d4, 1, "weights.bin", "99999999999999999999", "16", 1).rc, -1);
  assert_int_equal(decode_ext("hugelen", d4, 1, "weights.bin", "0", "9223372036854775807", 1).rc, -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_onnx_test_data),  cmocka_unit_test(test_read_file_refusals),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_typed_fields),    cmocka_unit_test(test_raw_and_empty),
      cmocka_unit_test(test_malformed),       cmocka_unit_test(test_external_good),
      cmocka_unit_test(test_external_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
