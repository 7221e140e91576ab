/*
 * ort_bench.c - runs an ONNX model with ONNX Runtime through its C API, to time it beside
 * modelc's generated C in bench/run.sh and to write its outputs for the correctness check.
 *
 *   ort_bench --lib LIBONNXRUNTIME MODEL.onnx [--threads T] [--bench N] [--warmup W]
 *             [-o OUTDIR [--by-index]] IN.npy...
 *   ort_bench --lib LIBONNXRUNTIME --version
 *
 * Why C and not the Node binding (run_ort.mjs): the binding adds about 15 us to every call, as
 * much as a whole small model takes. Here the timed region is one OrtApi Run call, like the one
 * NAME_infer call timed by modelc's harness.
 *
 * Design:
 *  - The library is the libonnxruntime.so shipped inside the npm package onnxruntime-node, opened
 *    with dlopen; nothing is linked against it and no ONNX Runtime header is used. The OrtApi is a
 *    table of function pointers; we take the few slots we call by index (SLOT_* below), with our
 *    own prototypes. The indices and prototypes follow the public header
 *    include/onnxruntime/core/session/onnxruntime_c_api.h of ONNX Runtime 1.30 (ORT_API_VERSION
 *    30); every slot used is below 102, in the part of the table that has been frozen since API
 *    version 1 (ONNX Runtime asserts that ReleaseCustomOpDomain stays slot 101). At start we
 *    check the library's version string and round-trip a status through slots 0, 1, 2 and 93, so a
 *    library whose table differs fails loudly instead of calling the wrong function.
 *  - Session: intra-op threads T (default 1), inter-op 1, sequential execution, all graph
 *    optimizations; everything else is ONNX Runtime's default (its thread pool spins between runs).
 *  - Inputs are .npy files in the session's input order; each must have the dtype of its input
 *    and, where the model fixes a dimension, that dimension. The first warm-up run lets ONNX
 *    Runtime allocate the outputs; later runs write into those same values, as the generated C
 *    writes into caller buffers.
 *  - Output: OUTDIR/<output name>.npy, the name with every character outside [A-Za-z0-9._-]
 *    written as '_' (like NAME_main), or OUTDIR/output_<i>.npy with --by-index, from the last
 *    run. Then "runs", "min_us" and, last, "median_us: X" (microseconds per Run).
 *  - Every failure is one line on stderr and exit status 1 (2 for bad usage).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npy.h"

#define ORT_EXPECTED_VERSION "1.30." /* the major.minor our slot table follows */
#define ORT_API_LEVEL 30u            /* ORT_API_VERSION of that release */
#define MAX_IO 64

/* ---- the part of the ONNX Runtime 1.30 C API we call (see the comment atop) ---- */

/* Opaque handles. */
typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtAllocator OrtAllocator;
typedef struct OrtRunOptions OrtRunOptions;

/* Enum arguments are passed as int: a C enum with these small values is an int in the ABI. */
enum { ORT_LOGGING_LEVEL_WARNING = 2 };
enum { ORT_SEQUENTIAL = 0 };
enum { ORT_ENABLE_ALL = 99 };
enum { OrtArenaAllocator = 1 };
enum { OrtMemTypeDefault = 0 };
enum { ORT_FAIL = 1 };

typedef struct OrtApiBase {
  const void *(*GetApi)(uint32_t version);
  const char *(*GetVersionString)(void);
} OrtApiBase;

/* Slot indices in struct OrtApi. */
enum {
  SLOT_CreateStatus = 0,
  SLOT_GetErrorCode = 1,
  SLOT_GetErrorMessage = 2,
  SLOT_CreateEnv = 3,
  SLOT_CreateSession = 7,
  SLOT_Run = 9,
  SLOT_CreateSessionOptions = 10,
  SLOT_SetSessionExecutionMode = 13,
  SLOT_SetSessionGraphOptimizationLevel = 23,
  SLOT_SetIntraOpNumThreads = 24,
  SLOT_SetInterOpNumThreads = 25,
  SLOT_SessionGetInputCount = 30,
  SLOT_SessionGetOutputCount = 31,
  SLOT_SessionGetInputTypeInfo = 33,
  SLOT_SessionGetInputName = 36,
  SLOT_SessionGetOutputName = 37,
  SLOT_CreateTensorWithDataAsOrtValue = 49,
  SLOT_GetTensorMutableData = 51,
  SLOT_CastTypeInfoToTensorInfo = 55,
  SLOT_GetTensorElementType = 60,
  SLOT_GetDimensionsCount = 61,
  SLOT_GetDimensions = 62,
  SLOT_GetTensorTypeAndShape = 65,
  SLOT_CreateCpuMemoryInfo = 69,
  SLOT_AllocatorFree = 76,
  SLOT_GetAllocatorWithDefaultOptions = 78,
  SLOT_ReleaseEnv = 92,
  SLOT_ReleaseStatus = 93,
  SLOT_ReleaseMemoryInfo = 94,
  SLOT_ReleaseSession = 95,
  SLOT_ReleaseValue = 96,
  SLOT_ReleaseTypeInfo = 98,
  SLOT_ReleaseTensorTypeAndShapeInfo = 99,
  SLOT_ReleaseSessionOptions = 100
};

static struct {
  OrtStatus *(*CreateStatus)(int code, const char *msg);
  int (*GetErrorCode)(const OrtStatus *status);
  const char *(*GetErrorMessage)(const OrtStatus *status);
  OrtStatus *(*CreateEnv)(int log_severity_level, const char *logid, OrtEnv **out);
  OrtStatus *(*CreateSession)(const OrtEnv *env, const char *model_path, const OrtSessionOptions *options,
                              OrtSession **out);
  OrtStatus *(*Run)(OrtSession *session, const OrtRunOptions *run_options, const char *const *input_names,
                    const OrtValue *const *inputs, size_t input_len, const char *const *output_names,
                    size_t output_names_len, OrtValue **outputs);
  OrtStatus *(*CreateSessionOptions)(OrtSessionOptions **options);
  OrtStatus *(*SetSessionExecutionMode)(OrtSessionOptions *options, int execution_mode);
  OrtStatus *(*SetSessionGraphOptimizationLevel)(OrtSessionOptions *options, int level);
  OrtStatus *(*SetIntraOpNumThreads)(OrtSessionOptions *options, int n);
  OrtStatus *(*SetInterOpNumThreads)(OrtSessionOptions *options, int n);
  OrtStatus *(*SessionGetInputCount)(const OrtSession *session, size_t *out);
  OrtStatus *(*SessionGetOutputCount)(const OrtSession *session, size_t *out);
  OrtStatus *(*SessionGetInputTypeInfo)(const OrtSession *session, size_t index, OrtTypeInfo **type_info);
  OrtStatus *(*SessionGetInputName)(const OrtSession *session, size_t index, OrtAllocator *allocator, char **value);
  OrtStatus *(*SessionGetOutputName)(const OrtSession *session, size_t index, OrtAllocator *allocator, char **value);
  OrtStatus *(*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo *info, void *p_data, size_t p_data_len,
                                               const int64_t *shape, size_t shape_len, int type, OrtValue **out);
  OrtStatus *(*GetTensorMutableData)(OrtValue *value, void **out);
  OrtStatus *(*CastTypeInfoToTensorInfo)(const OrtTypeInfo *type_info, const OrtTensorTypeAndShapeInfo **out);
  OrtStatus *(*GetTensorElementType)(const OrtTensorTypeAndShapeInfo *info, int *out);
  OrtStatus *(*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo *info, size_t *out);
  OrtStatus *(*GetDimensions)(const OrtTensorTypeAndShapeInfo *info, int64_t *dim_values, size_t dim_values_length);
  OrtStatus *(*GetTensorTypeAndShape)(const OrtValue *value, OrtTensorTypeAndShapeInfo **out);
  OrtStatus *(*CreateCpuMemoryInfo)(int type, int mem_type, OrtMemoryInfo **out);
  OrtStatus *(*AllocatorFree)(OrtAllocator *allocator, void *p);
  OrtStatus *(*GetAllocatorWithDefaultOptions)(OrtAllocator **out);
  void (*ReleaseEnv)(OrtEnv *);
  void (*ReleaseStatus)(OrtStatus *);
  void (*ReleaseMemoryInfo)(OrtMemoryInfo *);
  void (*ReleaseSession)(OrtSession *);
  void (*ReleaseValue)(OrtValue *);
  void (*ReleaseTypeInfo)(OrtTypeInfo *);
  void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo *);
  void (*ReleaseSessionOptions)(OrtSessionOptions *);
} ort;

/* ONNX TensorProto element types (ONNXTensorElementDataType) and their .npy descrs. */
static const struct {
  int type;
  const char *descr;
} elem_types[] = {
    {1, "<f4"}, {2, "|u1"}, {3, "|i1"}, {4, "<u2"}, {5, "<i2"}, {6, "<i4"}, {7, "<i8"},
    {9, "|b1"}, {10, "<f2"}, {11, "<f8"}, {12, "<u4"}, {13, "<u8"},
};

/* ---- helpers ---- */

static const char *prog = "ort_bench";

static void die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

/* Dies with ONNX Runtime's message when a call returned a status. */
static void check(OrtStatus *st, const char *what) {
  if (st) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ort.GetErrorMessage(st));
    ort.ReleaseStatus(st);
    die("%s: %s", what, msg);
  }
}

static const char *descr_of(int type) {
  size_t i;
  for (i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (elem_types[i].type == type) return elem_types[i].descr;
  return NULL;
}

static int type_of(const char *descr) {
  size_t i;
  for (i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (!strcmp(elem_types[i].descr, descr)) return elem_types[i].type;
  return 0;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long parse_count(const char *s, const char *opt, long min) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end || v < min) {
    fprintf(stderr, "%s: %s wants an integer >= %ld, got '%s'\n", prog, opt, min, s);
    exit(2);
  }
  return v;
}

static int usage(void) {
  fprintf(stderr,
          "usage: %s --lib LIBONNXRUNTIME MODEL.onnx [--threads T] [--bench N] [--warmup W]\n"
          "           [-o OUTDIR [--by-index]] IN.npy...\n"
          "       %s --lib LIBONNXRUNTIME --version\n",
          prog, prog);
  return 2;
}

/* Opens the library, checks its version and the slot layout, fills `ort`. */
static const char *load(const char *lib) {
  const OrtApiBase *(*get_base)(void);
  const OrtApiBase *base;
  const char *version;
  void (*const *slot)(void);
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  OrtStatus *st;
  void *sym;
  if (!h) die("cannot open ONNX Runtime: %s", dlerror());
  sym = dlsym(h, "OrtGetApiBase");
  if (!sym) die("%s has no OrtGetApiBase", lib);
  memcpy(&get_base, &sym, sizeof get_base); /* POSIX: dlsym's pointer may be used as a function pointer */
  base = get_base();
  version = base->GetVersionString();
  if (strncmp(version, ORT_EXPECTED_VERSION, strlen(ORT_EXPECTED_VERSION)) != 0)
    die("%s is ONNX Runtime %s; this runner's OrtApi layout is for " ORT_EXPECTED_VERSION "x", lib, version);
  slot = (void (*const *)(void))base->GetApi(ORT_API_LEVEL);
  if (!slot) die("ONNX Runtime %s refuses API version %u", version, ORT_API_LEVEL);
  /* every slot is a function pointer of the same size; memcpy gives it its prototype */
#define TAKE(f) memcpy(&ort.f, &slot[SLOT_##f], sizeof ort.f)
  TAKE(CreateStatus);
  TAKE(GetErrorCode);
  TAKE(GetErrorMessage);
  TAKE(CreateEnv);
  TAKE(CreateSession);
  TAKE(Run);
  TAKE(CreateSessionOptions);
  TAKE(SetSessionExecutionMode);
  TAKE(SetSessionGraphOptimizationLevel);
  TAKE(SetIntraOpNumThreads);
  TAKE(SetInterOpNumThreads);
  TAKE(SessionGetInputCount);
  TAKE(SessionGetOutputCount);
  TAKE(SessionGetInputTypeInfo);
  TAKE(SessionGetInputName);
  TAKE(SessionGetOutputName);
  TAKE(CreateTensorWithDataAsOrtValue);
  TAKE(GetTensorMutableData);
  TAKE(CastTypeInfoToTensorInfo);
  TAKE(GetTensorElementType);
  TAKE(GetDimensionsCount);
  TAKE(GetDimensions);
  TAKE(GetTensorTypeAndShape);
  TAKE(CreateCpuMemoryInfo);
  TAKE(AllocatorFree);
  TAKE(GetAllocatorWithDefaultOptions);
  TAKE(ReleaseEnv);
  TAKE(ReleaseStatus);
  TAKE(ReleaseMemoryInfo);
  TAKE(ReleaseSession);
  TAKE(ReleaseValue);
  TAKE(ReleaseTypeInfo);
  TAKE(ReleaseTensorTypeAndShapeInfo);
  TAKE(ReleaseSessionOptions);
#undef TAKE
  /* the layout self-test: a status made by slot 0 must read back through slots 1 and 2 */
  st = ort.CreateStatus(ORT_FAIL, "modelc layout probe");
  if (!st || ort.GetErrorCode(st) != ORT_FAIL || strcmp(ort.GetErrorMessage(st), "modelc layout probe") != 0)
    die("the OrtApi table of %s does not have the layout of ONNX Runtime %s", lib, ORT_EXPECTED_VERSION "x");
  ort.ReleaseStatus(st);
  return version;
}

/* OUTDIR/<name with unsafe characters as '_'>.npy */
static void output_path(char *buf, size_t n, const char *dir, const char *name) {
  size_t k = (size_t)snprintf(buf, n, "%s/", dir), i;
  for (i = 0; name[i] && k + 5 < n; i++, k++) {
    char c = name[i];
    int safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
    buf[k] = safe ? c : '_';
  }
  if (name[i]) die("output name too long: %s", name);
  snprintf(buf + k, n - k, ".npy");
}

int main(int argc, char **argv) {
  const char *lib = NULL, *model = NULL, *outdir = NULL, *files[MAX_IO], *version;
  long threads = 1, bench = 0, warmup = 10, r;
  int nfiles = 0, want_version = 0, by_index = 0, i;
  size_t n_in, n_out, k;
  OrtEnv *env;
  OrtSessionOptions *opts;
  OrtSession *sess;
  OrtAllocator *alloc;
  OrtMemoryInfo *mem;
  char *in_names[MAX_IO], *out_names[MAX_IO];
  npy_array arrs[MAX_IO];
  OrtValue *inputs[MAX_IO], *outputs[MAX_IO];
  double *t = NULL;
  char err[512], what[256];

  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--lib") && i + 1 < argc) lib = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = parse_count(argv[++i], "--threads", 1);
    else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench = parse_count(argv[++i], "--bench", 1);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = parse_count(argv[++i], "--warmup", 1);
    else if (!strcmp(argv[i], "-o") && i + 1 < argc) outdir = argv[++i];
    else if (!strcmp(argv[i], "--version")) want_version = 1;
    else if (!strcmp(argv[i], "--by-index")) by_index = 1;
    else if (argv[i][0] == '-') return usage();
    else if (!model) model = argv[i];
    else if (nfiles < MAX_IO) files[nfiles++] = argv[i];
    else die("more than %d input files", MAX_IO);
  }
  if (!lib) return usage();
  version = load(lib);
  if (want_version) {
    printf("%s\n", version);
    return 0;
  }
  if (!model) return usage();

  check(ort.CreateEnv(ORT_LOGGING_LEVEL_WARNING, "ort_bench", &env), "CreateEnv");
  check(ort.CreateSessionOptions(&opts), "CreateSessionOptions");
  check(ort.SetIntraOpNumThreads(opts, (int)threads), "SetIntraOpNumThreads");
  check(ort.SetInterOpNumThreads(opts, 1), "SetInterOpNumThreads");
  check(ort.SetSessionExecutionMode(opts, ORT_SEQUENTIAL), "SetSessionExecutionMode");
  check(ort.SetSessionGraphOptimizationLevel(opts, ORT_ENABLE_ALL), "SetSessionGraphOptimizationLevel");
  snprintf(what, sizeof what, "loading %s", model);
  check(ort.CreateSession(env, model, opts, &sess), what);
  check(ort.GetAllocatorWithDefaultOptions(&alloc), "GetAllocatorWithDefaultOptions");
  check(ort.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mem), "CreateCpuMemoryInfo");
  check(ort.SessionGetInputCount(sess, &n_in), "SessionGetInputCount");
  check(ort.SessionGetOutputCount(sess, &n_out), "SessionGetOutputCount");
  if (n_in > MAX_IO || n_out > MAX_IO) die("%s has more than %d inputs or outputs", model, MAX_IO);
  if ((size_t)nfiles != n_in) die("%s takes %zu input(s), got %d file(s)", model, n_in, nfiles);

  /* inputs: read, check against the session's declared type, wrap without copying */
  for (k = 0; k < n_in; k++) {
    OrtTypeInfo *ti;
    const OrtTensorTypeAndShapeInfo *tsi;
    int type, d;
    size_t rank;
    int64_t dims[NPY_MAX_RANK];
    check(ort.SessionGetInputName(sess, k, alloc, &in_names[k]), "SessionGetInputName");
    if (npy_read(files[k], &arrs[k], err, sizeof err) != 0) die("%s: %s", files[k], err);
    check(ort.SessionGetInputTypeInfo(sess, k, &ti), "SessionGetInputTypeInfo");
    check(ort.CastTypeInfoToTensorInfo(ti, &tsi), "CastTypeInfoToTensorInfo");
    if (!tsi) die("input '%s' is not a tensor", in_names[k]);
    check(ort.GetTensorElementType(tsi, &type), "GetTensorElementType");
    check(ort.GetDimensionsCount(tsi, &rank), "GetDimensionsCount");
    if (rank > NPY_MAX_RANK) die("input '%s' has a rank over %d", in_names[k], NPY_MAX_RANK);
    check(ort.GetDimensions(tsi, dims, rank), "GetDimensions");
    if (!descr_of(type) || strcmp(descr_of(type), arrs[k].descr) != 0)
      die("input %zu '%s' wants dtype %s, %s holds %s", k, in_names[k],
          descr_of(type) ? descr_of(type) : "(one .npy cannot hold)", files[k], arrs[k].descr);
    if ((int)rank != arrs[k].rank)
      die("input %zu '%s' has rank %zu, %s has rank %d", k, in_names[k], rank, files[k], arrs[k].rank);
    for (d = 0; d < arrs[k].rank; d++)
      if (dims[d] >= 0 && dims[d] != arrs[k].shape[d])
        die("input %zu '%s': dimension %d is %lld, %s has %lld", k, in_names[k], d, (long long)dims[d], files[k],
            (long long)arrs[k].shape[d]);
    ort.ReleaseTypeInfo(ti);
    check(ort.CreateTensorWithDataAsOrtValue(mem, arrs[k].data, arrs[k].nbytes, arrs[k].shape,
                                             (size_t)arrs[k].rank, type_of(arrs[k].descr), &inputs[k]),
          "CreateTensorWithDataAsOrtValue");
  }
  for (k = 0; k < n_out; k++) {
    check(ort.SessionGetOutputName(sess, k, alloc, &out_names[k]), "SessionGetOutputName");
    outputs[k] = NULL; /* the first run allocates them; later runs reuse them */
  }

  /* warm-up, then the timed runs */
  for (r = 0; r < warmup; r++)
    check(ort.Run(sess, NULL, (const char *const *)in_names, (const OrtValue *const *)inputs, n_in,
                  (const char *const *)out_names, n_out, outputs),
          "Run");
  if (bench > 0) {
    t = malloc(sizeof *t * (size_t)bench);
    if (!t) die("out of memory");
    for (r = 0; r < bench; r++) {
      double t0 = now_us();
      OrtStatus *st = ort.Run(sess, NULL, (const char *const *)in_names, (const OrtValue *const *)inputs, n_in,
                              (const char *const *)out_names, n_out, outputs);
      t[r] = now_us() - t0;
      check(st, "Run");
    }
  }

  if (outdir) {
    for (k = 0; k < n_out; k++) {
      OrtTensorTypeAndShapeInfo *tsi;
      int type;
      size_t rank;
      int64_t dims[NPY_MAX_RANK];
      void *data;
      char path[4096];
      check(ort.GetTensorTypeAndShape(outputs[k], &tsi), "GetTensorTypeAndShape");
      check(ort.GetTensorElementType(tsi, &type), "GetTensorElementType");
      check(ort.GetDimensionsCount(tsi, &rank), "GetDimensionsCount");
      if (rank > NPY_MAX_RANK) die("output '%s' has a rank over %d", out_names[k], NPY_MAX_RANK);
      check(ort.GetDimensions(tsi, dims, rank), "GetDimensions");
      ort.ReleaseTensorTypeAndShapeInfo(tsi);
      if (!descr_of(type)) die("output '%s' has a dtype (%d) this runner cannot write", out_names[k], type);
      check(ort.GetTensorMutableData(outputs[k], &data), "GetTensorMutableData");
      if (by_index) snprintf(path, sizeof path, "%s/output_%zu.npy", outdir, k);
      else output_path(path, sizeof path, outdir, out_names[k]);
      if (npy_write(path, descr_of(type), (int)rank, dims, data, err, sizeof err) != 0) die("%s: %s", path, err);
    }
  }

  printf("ort_version: %s\nintra_op_threads: %ld\n", version, threads);
  if (bench > 0) {
    qsort(t, (size_t)bench, sizeof *t, cmp_double);
    printf("runs: %ld\nmin_us: %.3f\n", bench, t[0]);
    printf("median_us: %.3f\n", bench % 2 ? t[bench / 2] : (t[bench / 2 - 1] + t[bench / 2]) / 2);
    free(t);
  }

  for (k = 0; k < n_in; k++) {
    ort.ReleaseValue(inputs[k]);
    npy_free(&arrs[k]);
    check(ort.AllocatorFree(alloc, in_names[k]), "AllocatorFree");
  }
  for (k = 0; k < n_out; k++) {
    ort.ReleaseValue(outputs[k]);
    check(ort.AllocatorFree(alloc, out_names[k]), "AllocatorFree");
  }
  ort.ReleaseMemoryInfo(mem);
  ort.ReleaseSession(sess);
  ort.ReleaseSessionOptions(opts);
  ort.ReleaseEnv(env);
  return 0;
}
