/*
 * test_npy.c - the .npy reader and writer (runtime/npy.c).
 *
 * Fixtures in tests/data/io/ were written by numpy 1.24 (np.save and
 * numpy.lib.format.write_array for versions 2.0 and 3.0); the expected
 * values below are the ones numpy printed for them.  Our writer must
 * reproduce numpy's files byte for byte, and hostile inputs (every
 * truncation, header mutations, absurd shapes) must be refused cleanly; run
 * under MODELC_SANITIZE this also proves they never read out of bounds.
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

#include "runtime/npy.h"

#define DATA "tests/data/io/"

static char tmpdir[64];

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  long n;
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void tmppath(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static int setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/modelc_npy_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  char cmd[128];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Read fixture, check header fields, then rewrite it and compare bytes. */
static npy_array read_fixture(const char *name, const char *descr, int rank, const int64_t *shape) {
  char path[256], out[256], err[256];
  npy_array a;
  unsigned char *want, *got;
  size_t nw, ng;
  int i;
  snprintf(path, sizeof path, DATA "%s", name);
  if (npy_read(path, &a, err, sizeof err) != 0) fail_msg("%s: %s", name, err);
  assert_string_equal(a.descr, descr);
  assert_int_equal(a.rank, rank);
  for (i = 0; i < rank; i++) assert_int_equal(a.shape[i], shape[i]);
  tmppath(out, sizeof out, name);
  if (npy_write(out, a.descr, a.rank, a.shape, a.data, err, sizeof err) != 0) fail_msg("%s", err);
  want = slurp(path, &nw);
  got = slurp(out, &ng);
  assert_int_equal(ng, nw);
  assert_memory_equal(got, want, nw);
  free(want);
  free(got);
  return a;
}

static const int64_t s23[2] = {2, 3};

static void test_numpy_floats(void **state) {
  static const float f4[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  static const double f8[6] = {-1.0, -0.5, 0.0, 0.5, 1.0, 1.5};
  static const uint16_t f2[6] = {0xBC00, 0xB800, 0x0000, 0x3800, 0x3C00, 0x3E00};
  npy_array a;
  (void)state;
  a = read_fixture("f4_2x3.npy", "<f4", 2, s23);
  assert_int_equal(a.nbytes, 24);
  assert_memory_equal(a.data, f4, 24);
  npy_free(&a);
  a = read_fixture("f8_2x3.npy", "<f8", 2, s23);
  assert_int_equal(a.nbytes, 48);
  assert_memory_equal(a.data, f8, 48);
  npy_free(&a);
  a = read_fixture("f2_2x3.npy", "<f2", 2, s23);
  assert_int_equal(a.nbytes, 12);
  assert_memory_equal(a.data, f2, 12);
  npy_free(&a);
  assert_null(a.data);
  npy_free(&a); /* twice is harmless */
}

static void test_numpy_ints(void **state) {
  static const int8_t i1[6] = {-20, -13, -6, 1, 8, 15};
  static const int16_t i2[6] = {-20, -13, -6, 1, 8, 15};
  static const int32_t i4[6] = {-20, -13, -6, 1, 8, 15};
  static const int64_t i8[6] = {-20, -13, -6, 1, 8, 15};
  static const uint8_t u1[6] = {250, 1, 8, 15, 22, 29};
  static const uint16_t u2[6] = {250, 257, 264, 271, 278, 285};
  static const uint32_t u4[6] = {250, 257, 264, 271, 278, 285};
  static const uint64_t u8[6] = {250, 257, 264, 271, 278, 285};
  static const uint8_t b1[6] = {1, 0, 1, 0, 0, 1};
  struct {
    const char *file, *descr;
    const void *want;
    size_t nbytes;
  } cases[] = {
      {"i1_2x3.npy", "|i1", i1, 6},  {"i2_2x3.npy", "<i2", i2, 12}, {"i4_2x3.npy", "<i4", i4, 24},
      {"i8_2x3.npy", "<i8", i8, 48}, {"u1_2x3.npy", "|u1", u1, 6},  {"u2_2x3.npy", "<u2", u2, 12},
      {"u4_2x3.npy", "<u4", u4, 24}, {"u8_2x3.npy", "<u8", u8, 48}, {"b1_2x3.npy", "|b1", b1, 6},
  };
  size_t k;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    npy_array a = read_fixture(cases[k].file, cases[k].descr, 2, s23);
    assert_int_equal(a.nbytes, cases[k].nbytes);
    assert_memory_equal(a.data, cases[k].want, cases[k].nbytes);
    npy_free(&a);
  }
}

static void test_versions_and_shapes(void **state) {
  static const double v2[3] = {1.5, -2.25, 1e300};
  static const int32_t v3[4] = {1, -2, 3, 2147483647};
  static const int64_t s3[1] = {3}, s22[2] = {2, 2}, s03[2] = {0, 3}, s1234[4] = {1, 2, 3, 4};
  char err[256];
  npy_array a;
  float x;
  int i;
  (void)state;
  assert_int_equal(npy_read(DATA "v2_f8_3.npy", &a, err, sizeof err), 0);
  assert_string_equal(a.descr, "<f8");
  assert_int_equal(a.rank, 1);
  assert_int_equal(a.shape[0], s3[0]);
  assert_memory_equal(a.data, v2, sizeof v2);
  npy_free(&a);
  assert_int_equal(npy_read(DATA "v3_i4_2x2.npy", &a, err, sizeof err), 0);
  assert_string_equal(a.descr, "<i4");
  assert_int_equal(a.rank, 2);
  assert_int_equal(a.shape[0], s22[0]);
  assert_int_equal(a.shape[1], s22[1]);
  assert_memory_equal(a.data, v3, sizeof v3);
  npy_free(&a);
  a = read_fixture("scalar_f4.npy", "<f4", 0, NULL);
  memcpy(&x, a.data, 4);
  assert_true(x == 3.25f);
  npy_free(&a);
  a = read_fixture("empty_f4_0x3.npy", "<f4", 2, s03);
  assert_int_equal(a.nbytes, 0);
  assert_non_null(a.data);
  npy_free(&a);
  a = read_fixture("rank4_f4.npy", "<f4", 4, s1234);
  for (i = 0; i < 24; i++) {
    memcpy(&x, (char *)a.data + 4 * i, 4);
    assert_true(x == (float)i);
  }
  npy_free(&a);
}

static void test_refusals_with_messages(void **state) {
  char err[256];
  npy_array a;
  (void)state;
  assert_int_equal(npy_read(DATA "fortran_f4_2x3.npy", &a, err, sizeof err), -1);
  assert_non_null(strstr(err, "fortran_order"));
  assert_null(a.data);
  assert_int_equal(npy_read(DATA "bigendian_f4_2.npy", &a, err, sizeof err), -1);
  assert_non_null(strstr(err, "big-endian"));
  assert_int_equal(npy_read(DATA "no_such_file.npy", &a, err, sizeof err), -1);
  assert_non_null(strstr(err, "no_such_file.npy"));
  assert_int_equal(npy_read(DATA "relu_input_0.npy", &a, NULL, 0), 0); /* err may be NULL */
  npy_free(&a);
}

/* Every dtype, every interesting rank, through write and read. */
static void test_round_trips(void **state) {
  static const char *descrs[] = {"<f4", "<f8", "<f2", "|i1", "<i2", "<i4",
                                 "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"};
  static const int64_t shapes[4][8] = {{0}, {5}, {2, 1, 3}, {1, 2, 1, 2, 1, 2, 1, 2}};
  static const int ranks[4] = {0, 1, 3, 8};
  unsigned char data[256];
  char path[256], err[256];
  size_t d, s, i, es, n;
  (void)state;
  for (d = 0; d < 12; d++) {
    es = npy_descr_size(descrs[d]);
    assert_true(es > 0);
    for (s = 0; s < 4; s++) {
      npy_array a;
      int r;
      n = es;
      for (r = 0; r < ranks[s]; r++) n *= (size_t)shapes[s][r];
      for (i = 0; i < n; i++) data[i] = (unsigned char)(d == 11 ? (i % 3 == 0) : i * 37 + d);
      tmppath(path, sizeof path, "rt.npy");
      assert_int_equal(npy_write(path, descrs[d], ranks[s], shapes[s], data, err, sizeof err), 0);
      if (npy_read(path, &a, err, sizeof err) != 0) fail_msg("%s: %s", descrs[d], err);
      assert_string_equal(a.descr, descrs[d]);
      assert_int_equal(a.rank, ranks[s]);
      for (r = 0; r < ranks[s]; r++) assert_int_equal(a.shape[r], shapes[s][r]);
      assert_int_equal(a.nbytes, n);
      assert_memory_equal(a.data, data, n);
      npy_free(&a);
    }
  }
}

static void test_descr_sizes(void **state) {
  (void)state;
  assert_int_equal(npy_descr_size("<f4"), 4);
  assert_int_equal(npy_descr_size("f8"), 8);
  assert_int_equal(npy_descr_size("=i2"), 2);
  assert_int_equal(npy_descr_size("|b1"), 1);
  assert_int_equal(npy_descr_size("?"), 1);
  assert_int_equal(npy_descr_size(">u1"), 1); /* byte order is moot for one byte */
  assert_int_equal(npy_descr_size("<u8"), 8);
  assert_int_equal(npy_descr_size(">f4"), 0);
  assert_int_equal(npy_descr_size("|f4"), 0);
  assert_int_equal(npy_descr_size("<f16"), 0);
  assert_int_equal(npy_descr_size("<c8"), 0);
  assert_int_equal(npy_descr_size("<U3"), 0);
  assert_int_equal(npy_descr_size("<i3"), 0);
  assert_int_equal(npy_descr_size("<b2"), 0);
  assert_int_equal(npy_descr_size("<"), 0);
  assert_int_equal(npy_descr_size(""), 0);
  assert_int_equal(npy_descr_size(NULL), 0);
}

static void test_write_refusals(void **state) {
  static const int64_t neg[1] = {-1}, huge[3] = {INT64_MAX, 4, 4}, one[1] = {1};
  char path[256], err[256];
  float x = 1;
  (void)state;
  tmppath(path, sizeof path, "bad.npy");
  assert_int_equal(npy_write(path, ">f4", 1, one, &x, err, sizeof err), -1);
  assert_int_equal(npy_write(path, "<c8", 1, one, &x, err, sizeof err), -1);
  assert_int_equal(npy_write(path, "<f4", 1, neg, &x, err, sizeof err), -1);
  assert_int_equal(npy_write(path, "<f4", 9, huge, &x, err, sizeof err), -1);
  assert_int_equal(npy_write(path, "<f4", 3, huge, &x, err, sizeof err), -1);
  assert_int_equal(npy_write(path, "<f4", 1, one, NULL, err, sizeof err), -1);
  assert_int_equal(npy_write("/nonexistent_dir/x.npy", "<f4", 1, one, &x, err, sizeof err), -1);
  assert_non_null(strstr(err, "/nonexistent_dir/x.npy"));
}

/* A hand-made v1.0 image with the given header text and n data bytes. */
static size_t make_npy(unsigned char *buf, const char *header, size_t ndata) {
  size_t hl = strlen(header);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)(hl & 0xff);
  buf[9] = (unsigned char)(hl >> 8);
  memcpy(buf + 10, header, hl);
  memset(buf + 10 + hl, 0x3f, ndata);
  return 10 + hl + ndata;
}

static void test_hostile_headers(void **state) {
  static const struct {
    const char *header;
    size_t ndata;
    int ok;
  } cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, 1},
      {"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L,)}", 8, 1},
      {"{'shape': (), 'fortran_order': False, 'descr': '|u1'}", 1, 1},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 7, 0},   /* short data */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 9, 0},   /* extra data */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 0, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1), }", 4, 1},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 24, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,3,,), }", 24, 0},
      {"{'descr': '<f4', 'fortran_order': False}", 4, 0},                       /* no shape */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}", 4, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", 4, 0},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4, 0},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", 4, 0},
      {"{'descr': '<f4\\n', 'fortran_order': False, 'shape': (1,), }", 4, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4, 0},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1", 4, 0},
      {"{'descr': '<f4", 0, 0},
      {"[1, 2]", 0, 0},
      {"", 0, 0},
  };
  unsigned char buf[512];
  char err[256];
  size_t k, n;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    npy_array a;
    int rc;
    n = make_npy(buf, cases[k].header, cases[k].ndata);
    err[0] = '\0';
    rc = npy_parse(buf, n, &a, err, sizeof err);
    if (rc != (cases[k].ok ? 0 : -1)) fail_msg("case %d: rc %d (%s)", (int)k, rc, err);
    if (rc == 0) npy_free(&a);
    else assert_true(strlen(err) > 0 && strchr(err, '\n') == NULL);
  }
  /* bad magic, unknown version, header length past the end */
  n = make_npy(buf, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", 1);
  buf[1] = 'X';
  assert_int_equal(npy_parse(buf, n, &(npy_array){0}, err, sizeof err), -1);
  buf[1] = 'N';
  buf[6] = 4;
  assert_int_equal(npy_parse(buf, n, &(npy_array){0}, err, sizeof err), -1);
  buf[6] = 1;
  buf[9] = 0xff;
  assert_int_equal(npy_parse(buf, n, &(npy_array){0}, err, sizeof err), -1);
  buf[9] = 0;
  buf[6] = 2; /* as 2.0 the 4-byte length field reads the header's first bytes: absurd */
  assert_int_equal(npy_parse(buf, n, &(npy_array){0}, err, sizeof err), -1);
  assert_int_equal(npy_parse(NULL, 0, &(npy_array){0}, err, sizeof err), -1);
}

/* Every prefix of real files must be refused; the complete ones accepted. */
static void test_truncations(void **state) {
  static const char *files[] = {DATA "f4_2x3.npy", DATA "v2_f8_3.npy", DATA "v3_i4_2x2.npy",
                                DATA "scalar_f4.npy"};
  char err[256], path[256];
  size_t f, len, cut;
  (void)state;
  for (f = 0; f < 4; f++) {
    unsigned char *buf = slurp(files[f], &len);
    npy_array a;
    for (cut = 0; cut < len; cut++) {
      unsigned char *copy = malloc(cut + 1); /* exact size, so ASan sees any overread */
      FILE *o;
      memcpy(copy, buf, cut);
      assert_int_equal(npy_parse(copy, cut, &a, err, sizeof err), -1);
      free(copy);
      if (cut % 7 == 0 || cut + 1 == len) { /* and through files, a sample of cuts */
        tmppath(path, sizeof path, "cut.npy");
        o = fopen(path, "wb");
        assert_int_equal(fwrite(buf, 1, cut, o), cut);
        fclose(o);
        assert_int_equal(npy_read(path, &a, err, sizeof err), -1);
      }
    }
    assert_int_equal(npy_parse(buf, len, &a, err, sizeof err), 0);
    npy_free(&a);
    free(buf);
  }
}

/* Flip each header byte to a few values: any outcome but a crash is fine,
 * and an accepted image must describe exactly the bytes it holds. */
static void test_header_mutations(void **state) {
  static const unsigned char vals[] = {0, ' ', '\'', '(', ')', ',', '9', '{', '}', 0xff};
  size_t len, i, v;
  unsigned char *orig = slurp(DATA "f4_2x3.npy", &len);
  char err[256];
  (void)state;
  for (i = 0; i < 128 && i < len; i++) {
    for (v = 0; v < sizeof vals; v++) {
      unsigned char *copy = malloc(len);
      npy_array a;
      memcpy(copy, orig, len);
      copy[i] = vals[v];
      if (npy_parse(copy, len, &a, err, sizeof err) == 0) {
        assert_true(a.nbytes <= len);
        npy_free(&a);
      }
      free(copy);
    }
  }
  free(orig);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numpy_floats),
      cmocka_unit_test(test_numpy_ints),
      cmocka_unit_test(test_versions_and_shapes),
      cmocka_unit_test(test_refusals_with_messages),
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_descr_sizes),
      cmocka_unit_test(test_write_refusals),
      cmocka_unit_test(test_hostile_headers),
      cmocka_unit_test(test_truncations),
      cmocka_unit_test(test_header_mutations),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
