/*
 * test_gemm.c - the GEMM core (compiler/backend/kl_gemm.c) at its edges:
 * Gemm, MatMul and Conv nodes whose shapes hit the cases the blocked
 * kernel treats apart (M, N, K of 1, MR and NR plus or minus one, K past
 * one KC block, transposed and strided operands, batched broadcast
 * MatMul, the matrix-vector kernel, the fused bias + activation + residual
 * epilogue, 1x1, strided, padded, grouped, depthwise and dilated
 * convolution, the implicit convolution over bands of a padded,
 * phase-split copy (whole, and in bands as small as a scratch cap asks, in
 * one part or several), whole output rows over the copy, and the im2col
 * one; the transposed tile for few output pixels; a weight that is not
 * constant packed at run time for them; the weight gradient with few
 * output channels (dY as A); RNN, GRU and LSTM with
 * constant weights, whose projections and recurrences run on the core),
 * each emitted, built and run, and compared with the reference
 * interpreter (runtime/), which shares no code with the backend.
 *
 * Weights are constants where the core packs them at compile time and
 * graph inputs where it reads them in place, so both paths run.  Every
 * graph is built four ways: gcc with the vector path at AVX2 width
 * (-mavx2 -mfma) and at the machine's own (-march=native, 16-wide with
 * AVX-512), gcc with -DMODELC_NO_VECTOR (the plain C99 path), and clang
 * under ASan+UBSan with the AVX2 vector path (no stray read of a packed
 * panel or an edge tile goes unnoticed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/backend/emit.h"
#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/passes.h"
#include "compiler/passes/plan.h"
#include "runtime/kernels/kutil.h"
#include "optest.h"

/* The builds every graph goes through; -march=native runs only when the
 * compiler can target the machine it runs on (always, for gcc on x86). */
static const char *const builds[] = {
    "gcc -std=c99 -Wall -Wextra -Werror -pedantic -Wdouble-promotion -O1 -mavx2 -mfma",
    "gcc -std=c99 -Wall -Wextra -Werror -pedantic -Wdouble-promotion -O3 -march=native",
    "gcc -std=c99 -Wall -Wextra -Werror -pedantic -Wdouble-promotion -O1 -DMODELC_NO_VECTOR",
    ("clang -std=c99 -Wall -Wextra -Werror -pedantic -Wdouble-promotion -g -O1 -mavx2 -mfma "
     "-fsanitize=address,undefined -fno-sanitize-recover=all"),
};

static int counter;
/* Text the emitted C must hold where not NULL: which kernel, which B, a shape selects. */
static const char *want_in_c[2];

/* When not 0, the floats of an activation beside the node, dead at its
 * step: a graph of one node has an empty arena, so the planner caps the
 * node's scratch at 0 (PLAN_SCRATCH_CAP_ATTR) and a convolution gives up its
 * padded copy; this leaves it room. */
static int64_t ballast;

/* Each test starts with no text wanted and no ballast: a case that fails
 * jumps out of its test before the test could clear what it set, and the
 * next test would look for it (cmocka's per-test setup). */
static int clear_wants(void **state) {
  (void)state;
  want_in_c[0] = want_in_c[1] = NULL;
  ballast = 0;
  return 0;
}

/* A constant (const_w) or graph-input tensor of random values. */
static ir_tensor *operand(ir_graph *g, const char *name, int is_const, int rank, const int64_t *dims, double **vals) {
  int64_t cnt = ir_numel_dims(rank, dims);
  double *v = malloc(sizeof(double) * (size_t)(cnt + 1));
  for (int64_t i = 0; i < cnt; i++) v[i] = ot_rnd();
  ir_tensor *t = is_const ? ot_const(g, name, IR_F32, rank, dims, v) : ot_input(g, name, IR_F32, rank, dims);
  *vals = v;
  return t;
}

/* The plan ot_emit_tmp makes, rather than a cap of emit_capped. */
#define OWN_PLAN (-2)

/* g planned, then node n's scratch asked for under cap bytes (-1: none) as
 * the planner asks a node where the activations leave only that much free
 * (a lone node's own plan has no activations around it, so it caps at 0),
 * placed at the start of an arena of its size, and emitted into dir. */
static int64_t emit_capped(ir_graph *g, ir_node *n, int64_t cap, char *dir) {
  snprintf(dir, 64, "/tmp/gemm_XXXXXX");
  assert_non_null(mkdtemp(dir));
  if (pass_plan(g) < 0) fail_msg("plan: %s", ir_last_error());
  if (cap >= 0) ir_attr_set_int(n, PLAN_SCRATCH_CAP_ATTR, cap);
  else if (ir_attr_find(n, PLAN_SCRATCH_CAP_ATTR)) ir_attr_remove(n, PLAN_SCRATCH_CAP_ATTR);
  int64_t bytes = n->op->scratch_bytes(n), arena = bytes;
  int np = 0;
  int64_t pb = n->op->part_bytes ? n->op->part_bytes(n, &np) : 0;
  if (ir_attr_find(n, PLAN_PARTS_ATTR) && pb > 0 && np > 1) {   /* the parts' slices after the node's own, on pages */
    int64_t stride = (pb + PLAN_PAGE - 1) / PLAN_PAGE * PLAN_PAGE, own = bytes - np * pb;
    int64_t at = (own + PLAN_PAGE - 1) / PLAN_PAGE * PLAN_PAGE;
    ir_attr_set_int(n, PLAN_PARTS_ATTR, at);
    ir_attr_set_int(n, PLAN_PART_STRIDE_ATTR, stride);
    arena = at + np * stride;
  } else if (ir_attr_find(n, PLAN_PARTS_ATTR)) {   /* under the cap the parts share their scratch */
    ir_attr_remove(n, PLAN_PARTS_ATTR);
    ir_attr_remove(n, PLAN_PART_STRIDE_ATTR);
  }
  if (bytes > 0) ir_attr_set_int(n, PLAN_SCRATCH_ATTR, 0);
  g->arena_bytes = (arena + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
  emit_options opt;
  memset(&opt, 0, sizeof opt);
  opt.name = "m";
  if (emit_c(g, &opt, dir) < 0) fail_msg("emit: %s", ir_last_error());
  return bytes;
}

/* dir/m.c, the emitted C, malloc'd (the test fails when it is missing). */
static char *emitted_c(const char *dir) {
  char path[128];
  snprintf(path, sizeof path, "%s/m.c", dir);
  char *text = ot_slurp(path, NULL);
  assert_non_null(text);
  return text;
}

/* The value the emitted m.c in dir sets `field` to ("bh" in ".bh = 3;"),
 * or -1 when it sets none. */
static int64_t emitted(const char *dir, const char *field) {
  char pat[32];
  snprintf(pat, sizeof pat, ".%s = ", field);
  char *text = emitted_c(dir);
  const char *p = strstr(text, pat);
  int64_t v = p ? strtoll(p + strlen(pat), NULL, 10) : -1;
  free(text);
  return v;
}

/* Prepare node n of g, run it in the interpreter on vals (per input; NULL
 * for constants), then emit g (its own plan, or under cap: emit_capped) and
 * compare every build's output with it.  got (when not NULL) receives the
 * output rows of the implicit convolution's bands (-1 for another kernel)
 * and, under a cap, the scratch bytes the node took. */
static void compare_capped(ir_graph *g, ir_node *n, double **vals, int64_t cap, int64_t got_bh_scratch[2]) {
  char dir[64], cmd[2048];
  void *inputs[16];
  assert_int_equal(ot_prepare(g, n), 0);
  double *want = ot_run(n, 0, (const double *const *)vals);
  int64_t cnt = ir_numel(n->out[0]);
  int yo = g->n_outputs;   /* n's output's position (a node before n may have one) */
  ir_graph_add_output(g, n->out[0]);
  if (ballast) {   /* z -> Relu -> Relu, after n: the first Relu's output takes the arena */
    ir_tensor *z = ot_input(g, "ballast", IR_F32, 1, &ballast);
    ir_node *r1 = ot_node(g, "Relu", 14, 1, &z, 1);
    ir_node *r2 = ot_node(g, "Relu", 14, 1, r1->out, 1);
    assert_int_equal(ot_prepare(g, r1), 0);
    assert_int_equal(ot_prepare(g, r2), 0);
    ir_graph_add_output(g, r2->out[0]);
  }
  for (int i = 0; i < g->n_inputs; i++) {   /* the driver's inputs: the graph inputs, as floats (the ballast 0) */
    int k = 0;
    inputs[i] = calloc((size_t)(ir_numel(g->inputs[i]) + 1), sizeof(float));
    if (strcmp(g->inputs[i]->name, "ballast") == 0) continue;
    while (n->in[k] != g->inputs[i]) k++;
    for (int64_t j = 0; j < ir_numel(g->inputs[i]); j++) ((float *)inputs[i])[j] = (float)vals[k][j];
  }
  int64_t scratch = -1;
  if (cap == OWN_PLAN) ot_emit_tmp(g, "gemm", dir);
  else scratch = emit_capped(g, n, cap, dir);
  if (got_bh_scratch) got_bh_scratch[0] = emitted(dir, "bh"), got_bh_scratch[1] = scratch;
  ot_write_driver(g, dir, inputs);
  if (want_in_c[0]) {
    char *src = emitted_c(dir);
    for (int w = 0; w < 2; w++)
      if (want_in_c[w] && !strstr(src, want_in_c[w])) fail_msg("the emitted C has no '%s' (in %s)", want_in_c[w], dir);
    free(src);
  }
  for (size_t b = 0; b < sizeof builds / sizeof builds[0]; b++) {
    if (strncmp(builds[b], "clang", 5) == 0 && !ot_have("clang")) continue;
    snprintf(cmd, sizeof cmd, "%s -o %s/prog %s/m.c %s/m_weights.c %s/drv.c -lm && %s/prog", builds[b], dir, dir,
             dir, dir, dir);
    if (system(cmd) != 0) fail_msg("build or run failed: %s (in %s)", builds[b], dir);
    float *got = ot_read_output(g, dir, yo);
    for (int64_t i = 0; i < cnt; i++)
      if (!(fabs((double)got[i] - want[i]) <= 1e-4 * (1 + fabs(want[i]))))
        fail_msg("%s: element %lld: C %.9g, interpreter %.9g (in %s)", builds[b], (long long)i, (double)got[i],
                 want[i], dir);
    free(got);
  }
  ot_cleanup(dir, "MODELC_KEEP_TEST");
  for (int i = 0; i < g->n_inputs; i++) free(inputs[i]);
  free(want);
  counter++;
}

static void compare(ir_graph *g, ir_node *n, double **vals) { compare_capped(g, n, vals, OWN_PLAN, NULL); }

static void free_vals(double **vals, int cnt) {
  for (int i = 0; i < cnt; i++) free(vals[i]);
}

/* Gemm of [M,K] x [K,N] (as transposed operands when asked, A constant
 * when const_a) + C: none (c 0), [N] (1), [M,N] (2), [M,1] (3) or [1] (4). */
static void gemm_case_a(int64_t M, int64_t N, int64_t K, int ta, int tb, int const_a, int const_b, int64_t c) {
  ir_graph *g = ir_graph_new("t", NULL);
  double *vals[4] = {0};
  int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
  int64_t cd[2] = {c == 2 || c == 3 ? M : N, c == 3 ? 1 : N}, c_rank = c == 1 || c == 4 ? 1 : c ? 2 : 0;
  ir_tensor *in[3] = {operand(g, "a", const_a, 2, ad, &vals[0]), operand(g, "b", const_b, 2, bd, &vals[1]), NULL};
  if (c == 4) cd[1] = 1;
  if (c) in[2] = operand(g, "c", 1, (int)c_rank, c_rank == 2 ? cd : cd + 1, &vals[2]);
  ir_node *n = ot_node(g, "Gemm", 13, c_rank ? 3 : 2, in, 1);
  ir_attr_set_int(n, "transA", ta);
  ir_attr_set_int(n, "transB", tb);
  ir_attr_set_float(n, "alpha", 0.5);
  ir_attr_set_float(n, "beta", c == 2 ? -1.25 : 2.0);
  compare(g, n, vals);
  free_vals(vals, 4);
  ir_graph_free(g);
}

static void gemm_case(int64_t M, int64_t N, int64_t K, int ta, int tb, int const_b, int64_t c_rank) {
  gemm_case_a(M, N, K, ta, tb, 0, const_b, c_rank);
}

static void test_gemm_edges(void **state) {
  (void)state;
  /* M, N, K of 1; MR = 6 and NR = 16 and one either side; K past KC = 256 */
  const int64_t mnk[][3] = {{1, 1, 1}, {2, 1, 3}, {5, 15, 7}, {6, 16, 8}, {7, 17, 9},
                            {13, 33, 300}, {12, 32, 256}, {1, 40, 70}, {3, 47, 513}};
  for (size_t i = 0; i < sizeof mnk / sizeof mnk[0]; i++) {
    gemm_case(mnk[i][0], mnk[i][1], mnk[i][2], 0, 0, 1, 1);             /* B packed at compile time */
    if (i % 2) gemm_case(mnk[i][0], mnk[i][1], mnk[i][2], 0, 0, 0, 1);  /* B read in place */
  }
}

static void test_gemm_transposed(void **state) {
  (void)state;
  for (int ta = 0; ta <= 1; ta++)
    for (int tb = 0; tb <= 1; tb++) {
      gemm_case(7, 17, 9, ta, tb, ta, 1);    /* B constant (packed at compile time) or not */
      gemm_case(7, 17, 9, ta, tb, !ta, 1);
      gemm_case(1, 33, 20, ta, tb, tb, 0);   /* the matrix-vector kernel */
    }
  /* B transposed and not constant (a trained weight [N][K]): the dot-product
   * matrix-vector kernel, over column groups of 4 and 32 with edges, K past
   * its 16 lanes with a tail or not, with a bias */
  gemm_case(1, 33, 20, 0, 1, 0, 1);
  gemm_case(1, 70, 301, 0, 1, 0, 1);
  gemm_case(1, 3, 7, 0, 1, 0, 0);
  gemm_case(1, 64, 32, 0, 1, 0, 1);
  gemm_case(9, 18, 5, 1, 1, 1, 2);   /* C [M,N], like a residual */
  gemm_case(9, 18, 5, 0, 1, 0, 2);
}

/* A constant times a B of fewer than NR columns: the transposed tile
 * (mc_gemmt), B rows read in place or by strides (transB), M past one and
 * two 32-row tiles and under one 16-row panel, N under and at the 8 (6)
 * column group, K odd and past KC, every kind of C; a batched MatMul. */
static void test_gemm_small_n(void **state) {
  (void)state;
  const int64_t mnk[][3] = {{40, 3, 7}, {33, 8, 300}, {70, 15, 33}, {7, 9, 5}, {64, 1, 20}};
  want_in_c[0] = "mc_gemmt(&";
  for (size_t i = 0; i < sizeof mnk / sizeof mnk[0]; i++)
    for (int c = 0; c <= 4; c++) {
      if (c > 1 && i != 0 && i != 2) continue;   /* every C once on a tail group, once on full ones */
      want_in_c[1] = c % 2 ? "MC_B_STRIDED;" : "MC_B_ROWS;";
      gemm_case_a(mnk[i][0], mnk[i][1], mnk[i][2], (int)(i % 2), c % 2, 1, 0, c);
    }
  {   /* MatMul: one constant A for a batch of three B */
    ir_graph *g = ir_graph_new("t", NULL);
    double *vals[2] = {0};
    const int64_t ad[] = {37, 9}, bd[] = {3, 9, 5};
    ir_tensor *in[] = {operand(g, "a", 1, 2, ad, &vals[0]), operand(g, "b", 0, 3, bd, &vals[1])};
    want_in_c[1] = "MC_B_ROWS;";
    compare(g, ot_node(g, "MatMul", 13, 2, in, 1), vals);
    free_vals(vals, 2);
    ir_graph_free(g);
  }
}

/* bias + Relu + residual, on full tiles and edge tiles, GEMM and GEMV; the
 * other activations (Relu and Clip also as the vector tile's clamp) */
static void test_gemm_epilogue(void **state) {
  (void)state;
  const int64_t mnk[][3] = {{12, 32, 10}, {13, 35, 270}, {1, 40, 9}};
  const char *acts[] = {"Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSwish", "Clip"};   /* the last: a max only */
  for (size_t i = 0; i < sizeof mnk / sizeof mnk[0]; i++)
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
      if (a > 0 && i != 1) continue;   /* every activation once, on edge tiles and K blocks */
      ir_graph *g = ir_graph_new("t", NULL);
      double *vals[4] = {0};
      int64_t ad[] = {mnk[i][0], mnk[i][2]}, bd[] = {mnk[i][2], mnk[i][1]}, cd[] = {mnk[i][1]};
      int64_t yd[] = {mnk[i][0], mnk[i][1]};
      ir_tensor *in[] = {operand(g, "a", 0, 2, ad, &vals[0]), operand(g, "b", 1, 2, bd, &vals[1]),
                         operand(g, "c", 1, 1, cd, &vals[2]), operand(g, "r", 0, 2, yd, &vals[3])};
      ir_node *n = ot_node(g, "Gemm", 13, 4, in, 1);
      ir_attr_set_string(n, "_act", acts[a]);
      if (a == 2) ir_attr_set_float(n, "_act_alpha", -0.5);
      if (a == 2 || a == 5) ir_attr_set_float(n, "_act_beta", 1.5);
      ir_attr_set_int(n, "_residual", 3);
      compare(g, n, vals);
      free_vals(vals, 4);
      ir_graph_free(g);
    }
}

/* MatMul: batched with broadcast on either side, constant B shared by a batch, vector operands */
static void test_matmul_batched(void **state) {
  (void)state;
  const struct { int ra, rb; int64_t a[4], b[4]; int cb; } cases[] = {
      {4, 3, {2, 3, 7, 9}, {3, 9, 17}, 0},   /* A's batch broadcast over B's */
      {3, 4, {1, 5, 9}, {2, 1, 9, 16}, 0},   /* both broadcast */
      {3, 2, {2, 5, 9}, {9, 17}, 1},         /* one constant B for every batch */
      {3, 3, {2, 7, 9}, {2, 9, 17}, 1},      /* a constant B per batch */
      {1, 2, {9}, {9, 17}, 1},               /* a vector times a matrix */
      {2, 1, {7, 9}, {9}, 0},                /* a matrix times a vector */
      {3, 3, {2, 1, 20}, {2, 20, 33}, 0},    /* M = 1 per batch */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ir_graph *g = ir_graph_new("t", NULL);
    double *vals[2] = {0};
    ir_tensor *in[] = {operand(g, "a", 0, cases[i].ra, cases[i].a, &vals[0]),
                       operand(g, "b", cases[i].cb, cases[i].rb, cases[i].b, &vals[1])};
    ir_node *n = ot_node(g, "MatMul", 13, 2, in, 1);
    compare(g, n, vals);
    free_vals(vals, 2);
    ir_graph_free(g);
  }
}

typedef struct conv_case {
  int r;
  int64_t x[5], w[5];
  int64_t group, stride, pad, dil;
  int const_w, bias, fuse;   /* const_w 2: a trained parameter (is_state); fuse: 1 Relu and a residual, 2 Tanh alone */
  int room;                  /* an arena with room for the padded copy (see conv_run) */
} conv_case;

/* Conv c (its GEMM cut into `threads` parts) under a cap of 1/div of the
 * scratch it asks for without one (div 0: its own plan); compare_capped's
 * got. */
static void conv_capped(const conv_case *c, int threads, int64_t div, int64_t got[2]) {
  ir_graph *g = ir_graph_new("t", NULL);
  double *vals[4] = {0};
  int64_t bd[] = {c->w[0]};
  int64_t st[2] = {c->stride, c->stride}, dl[2] = {c->dil, c->dil}, pd[4] = {c->pad, c->pad, c->pad, c->pad};
  ir_tensor *in[4] = {operand(g, "x", 0, c->r + 2, c->x, &vals[0]), operand(g, "w", c->const_w, c->r + 2, c->w, &vals[1]),
                      NULL, NULL};
  int n_in = 2;
  if (c->const_w == 2) in[1]->is_state = 1;   /* a training step changes it: not packed at compile time */
  if (c->bias) in[2] = operand(g, "b", 1, 1, bd, &vals[2]), n_in = 3;
  ir_node *n;
  if (c->fuse == 1) {   /* the residual has the output's shape: build it from a first inference */
    ir_graph *probe = ir_graph_new("p", NULL);
    double *pv[3] = {0};
    ir_tensor *pin[3] = {operand(probe, "x", 0, c->r + 2, c->x, &pv[0]), operand(probe, "w", 0, c->r + 2, c->w, &pv[1]),
                         NULL};
    ir_node *pn = ot_node(probe, "Conv", 13, 2, pin, 1);
    ir_attr_set_int(pn, "group", c->group);
    ir_attr_set_ints(pn, "strides", c->r, st);
    ir_attr_set_ints(pn, "dilations", c->r, dl);
    ir_attr_set_ints(pn, "pads", 2 * c->r, pd);
    assert_int_equal(ot_prepare(probe, pn), 0);
    in[3] = operand(g, "res", 0, pn->out[0]->rank, pn->out[0]->shape, &vals[3]);
    n_in = 4;
    free_vals(pv, 3);
    ir_graph_free(probe);
  }
  if (c->room) {
    /* Alone, the convolution's scratch is capped at the arena of activations
     * the graph has, none, and the padded copy gives way to im2col blocks: a
     * node before it whose output (x tiled 2x2, read by nobody) dies before
     * it leaves it that room. */
    const int64_t reps[4] = {1, 1, 2, 2}, rd[1] = {c->r + 2};
    ir_tensor *tin[2] = {in[0], ot_const_raw(g, "reps", IR_I64, 1, rd, reps + (2 - c->r))};
    assert_int_equal(ot_prepare(g, ot_node(g, "Tile", 13, 2, tin, 1)), 0);
  }
  n = ot_node(g, "Conv", 13, n_in, in, 1);
  ir_attr_set_int(n, "group", c->group);
  ir_attr_set_ints(n, "strides", c->r, st);
  ir_attr_set_ints(n, "dilations", c->r, dl);
  ir_attr_set_ints(n, "pads", 2 * c->r, pd);
  if (c->fuse) ir_attr_set_string(n, "_act", c->fuse == 1 ? "Relu" : "Tanh");
  if (c->fuse == 1) ir_attr_set_int(n, "_residual", 3);
  if (threads > 1) ir_attr_set_int(n, PASS_THREADS_ATTR, threads);
  int64_t cap = OWN_PLAN;
  if (div > 0) {
    assert_int_equal(ot_prepare(g, n), 0);
    cap = n->op->scratch_bytes(n) / div;
  }
  int64_t r[2];
  compare_capped(g, n, vals, cap, r);
  if (cap >= 0 && r[0] > 1 && r[1] > cap)   /* bands of more than one row: within the cap */
    fail_msg("bands of %lld rows in %lld bytes of scratch, the cap %lld", (long long)r[0], (long long)r[1],
             (long long)cap);
  if (got) got[0] = r[0], got[1] = r[1];
  free_vals(vals, 4);
  ir_graph_free(g);
}

static void conv_run(const conv_case *c) { conv_capped(c, 1, 0, NULL); }

static void test_conv(void **state) {
  (void)state;
  const conv_case cases[] = {
      /* r  x                w               grp st pad dil cw bias fuse */
      {2, {1, 8, 5, 7}, {12, 8, 1, 1}, 1, 1, 0, 1, 1, 1, 0},      /* 1x1: a GEMM on the planes, N edge */
      {2, {2, 8, 4, 4}, {7, 8, 1, 1}, 1, 1, 0, 1, 0, 1, 0},       /* 1x1, runtime W, two images */
      {2, {2, 3, 9, 11}, {7, 3, 3, 3}, 1, 2, 1, 1, 1, 1, 0},      /* 3x3 stride 2 pad 1 */
      {2, {1, 3, 9, 11}, {7, 3, 3, 3}, 1, 2, 1, 1, 0, 0, 0},      /* the same, runtime W, no bias */
      {2, {1, 20, 18, 18}, {13, 20, 3, 3}, 1, 1, 1, 1, 1, 1, 1},  /* K = 180, N = 324: several NC blocks, fused */
      {2, {1, 40, 9, 9}, {8, 40, 3, 3}, 1, 1, 0, 1, 1, 1, 0},     /* K = 360 > KC (stride 1: implicit, one row a band) */
      {2, {1, 40, 40, 40}, {7, 40, 3, 3}, 1, 1, 1, 1, 1, 1, 0},   /* im2col at stride 1: its floor below a band's */
      {2, {1, 40, 40, 40}, {5, 40, 3, 3}, 1, 2, 1, 1, 1, 1, 1},   /* the same at stride 2, fused */
      {1, {2, 6, 37}, {5, 6, 4}, 1, 1, 2, 1, 1, 1, 1},            /* 1-D stride 1: implicit, wider grid, fused */
      {2, {1, 4, 6, 6}, {6, 2, 3, 3}, 2, 1, 1, 1, 1, 1, 0},       /* 2 groups */
      {2, {2, 6, 7, 5}, {9, 2, 3, 3}, 3, 1, 0, 1, 0, 1, 1},       /* 3 groups, runtime W, fused */
      {2, {1, 5, 7, 8}, {5, 1, 3, 3}, 5, 1, 1, 1, 1, 1, 0},       /* depthwise */
      {2, {2, 5, 9, 8}, {5, 1, 3, 3}, 5, 2, 1, 1, 1, 1, 1},       /* depthwise stride 2, fused */
      {2, {1, 4, 8, 9}, {4, 1, 5, 5}, 4, 1, 2, 2, 0, 0, 0},       /* depthwise 5x5 dilated, runtime W */
      {2, {1, 3, 11, 37}, {3, 1, 5, 5}, 3, 2, 2, 1, 1, 1, 1},     /* depthwise 5x5 stride 2: OW 19, fused */
      {2, {1, 2, 3, 21}, {2, 1, 7, 7}, 2, 1, 3, 1, 0, 1, 0},      /* 7x7 on 3 rows: rows outside skipped, runtime W */
      {2, {1, 3, 11, 19}, {3, 1, 3, 3}, 3, 1, 1, 1, 1, 1, 1},    /* depthwise, rows 16+ wide: four a step, 3 left */
      {2, {1, 2, 9, 21}, {2, 1, 3, 3}, 2, 1, 0, 1, 0, 1, 0},      /* the same unpadded (OW 19, OH 7), runtime W */
      {2, {1, 2, 21, 37}, {2, 1, 3, 3}, 2, 2, 1, 1, 1, 1, 1},     /* the same at stride 2: OW 19, OH 11, fused */
      {2, {1, 2, 17, 40}, {2, 1, 3, 3}, 2, 2, 0, 1, 1, 0, 0},     /* stride 2 unpadded: OW 19, OH 8 */
      {2, {1, 6, 5, 5}, {12, 1, 3, 3}, 6, 1, 1, 1, 1, 1, 0},      /* channel multiplier 2: grouped GEMM */
      {2, {1, 3, 10, 10}, {4, 3, 3, 3}, 1, 1, 0, 2, 1, 1, 0},     /* dilation 2 */
      {2, {1, 3, 6, 6}, {4, 3, 3, 3}, 1, 3, 3, 1, 1, 1, 0},       /* padding wider than the window reaches */
      {2, {1, 30, 1, 1}, {20, 30, 1, 1}, 1, 1, 0, 1, 1, 1, 1},    /* 1x1 on 1x1: a dense layer (GEMV) */
      {2, {7, 30, 1, 1}, {20, 30, 1, 1}, 1, 1, 0, 1, 1, 1, 0},    /* the same on a batch of 7 */
      {1, {1, 9, 20}, {10, 9, 3}, 1, 2, 1, 1, 1, 1, 0},           /* 1-D */
      /* by whole output rows (mc_convr): OW past 16, not a multiple of it; with room */
      {2, {1, 1, 32, 32}, {6, 1, 5, 5}, 1, 1, 0, 1, 1, 1, 2, 1},  /* LeNet-5's first: OW 28, Tanh */
      {2, {2, 3, 23, 41}, {8, 3, 3, 3}, 1, 2, 1, 1, 1, 1, 2, 1},  /* stride 2, OW 21, M past MR, two images */
      {2, {1, 2, 12, 52}, {7, 2, 3, 3}, 1, 1, 0, 1, 1, 0, 0, 1},  /* OW 50: four halves, the last overlapping */
      {2, {1, 2, 9, 40}, {5, 2, 3, 3}, 1, 1, 1, 2, 1, 1, 2, 1},   /* OW 36, dilated */
      {1, {1, 3, 40}, {5, 3, 3}, 1, 1, 1, 1, 1, 1, 2, 1},         /* 1-D: one row of 40 */
      {2, {1, 1, 32, 32}, {6, 1, 5, 5}, 1, 1, 0, 1, 1, 1, 1, 1},  /* OW 28 with a residual: the GEMM, padded */
      {2, {1, 3, 9, 11}, {7, 3, 3, 3}, 1, 2, 1, 1, 1, 1, 0, 1},   /* OW 6: the GEMM, padded, phase-split */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_run(&cases[i]);
}

/* The implicit convolution in bands of output rows, their height set by a
 * scratch cap of 1/div of the scratch the node asks for without one (0:
 * the node's own plan, which caps a lone node at 0: bands of one row,
 * unless the im2col blocks' floor is smaller), the GEMM in one part or
 * several (each making its own bands from a column in mid-row).  Under a
 * cap each must take bands (more than one) and fit its scratch in the cap. */
static void test_conv_bands(void **state) {
  (void)state;
  const struct { conv_case c; int threads; int64_t div; } cases[] = {
      /* r  x                  w                grp st pad dil cw bias fuse  threads div */
      {{2, {1, 16, 32, 32}, {16, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 1}, 1, 2},   /* ResNet's 3x3, residual + Relu */
      {{2, {1, 16, 32, 32}, {16, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 1}, 1, 5},
      {{2, {1, 16, 32, 32}, {16, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 1}, 1, 0},   /* one row a band */
      {{2, {1, 16, 32, 32}, {20, 16, 3, 3}, 1, 2, 1, 1, 0, 1, 0}, 1, 3},   /* stride 2, 16 wide, runtime W, M % 6 */
      {{2, {1, 16, 32, 32}, {20, 16, 3, 3}, 1, 2, 1, 1, 0, 1, 0}, 2, 3},   /* the same in two parts */
      {{2, {1, 16, 31, 32}, {10, 16, 1, 1}, 1, 2, 0, 1, 1, 0, 0}, 1, 2},   /* 1x1 stride 2: one phase of four */
      {{2, {1, 6, 21, 19}, {8, 6, 3, 3}, 1, 2, 2, 2, 1, 1, 1}, 1, 2},      /* dilation 2, stride 2, pads 2, fused */
      {{2, {1, 6, 21, 19}, {8, 6, 3, 3}, 1, 2, 2, 2, 1, 1, 1}, 1, 0},
      {{2, {2, 8, 14, 13}, {12, 4, 3, 3}, 2, 1, 1, 1, 1, 1, 0}, 1, 3},     /* 2 groups, 2 images */
      {{2, {2, 8, 30, 29}, {12, 4, 3, 3}, 2, 1, 1, 1, 0, 1, 1}, 3, 3},     /* larger, in three parts, fused */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const conv_case *c = &cases[i].c;
    int64_t got[2], oh = (c->x[2] + 2 * c->pad - c->dil * (c->w[2] - 1) - 1) / c->stride + 1;
    conv_capped(c, cases[i].threads, cases[i].div, got);
    if (got[0] < 1) fail_msg("case %d: not the implicit convolution", (int)i);
    if (cases[i].div > 0 && !(got[0] < oh))
      fail_msg("case %d: bands of %lld rows, the whole %lld", (int)i, (long long)got[0], (long long)oh);
  }
}

/* Convolutions over a few output pixels with constant weights: the
 * transposed tile, B through the padded copy (implicit) or the input read
 * in place through the tap table (no padding inside the windows), or X's
 * planes as rows (1x1, N under NR).  Output channels past one 32-row tile
 * and under one 16-row panel, pixel groups with tails and of four pixels
 * or fewer, K tails, bias, Relu and residual, groups, strides, dilation,
 * 1-D (Silero's STFT-like convolution, shrunk). */
static void test_conv_small_n(void **state) {
  (void)state;
  const struct { conv_case c; const char *bkind; } cases[] = {
      /* r  x                w                 grp st pad dil cw bias fuse */
      {{2, {1, 20, 5, 5}, {40, 20, 3, 3}, 1, 1, 1, 1, 1, 1, 1}, "MC_B_PADDED;"},    /* N 25: groups 8, 8, 8, 1 */
      {{2, {2, 9, 9, 11}, {64, 9, 3, 3}, 1, 2, 1, 1, 1, 1, 0}, "MC_B_PADDED;"},     /* stride 2, two images */
      {{2, {1, 40, 4, 4}, {7, 40, 3, 3}, 1, 1, 1, 1, 1, 0, 1}, "MC_B_PADDED;"},     /* K 360, 7 rows, fused */
      {{2, {1, 5, 6, 6}, {48, 5, 3, 3}, 1, 1, 2, 2, 1, 1, 1}, "MC_B_PADDED;"},      /* dilated, padded */
      {{2, {1, 8, 4, 4}, {36, 4, 3, 3}, 2, 1, 1, 1, 1, 1, 1}, "MC_B_PADDED;"},      /* 2 groups of 18 rows */
      {{2, {1, 3, 3, 3}, {50, 3, 2, 2}, 1, 1, 0, 1, 1, 1, 1}, "MC_B_TAPS;"},        /* 4 pixels: the half loop */
      {{2, {2, 6, 12, 10}, {20, 6, 5, 5}, 1, 1, 0, 1, 1, 1, 0}, "MC_B_TAPS;"},      /* lenet-like, 8x6 outputs */
      {{2, {1, 16, 9, 9}, {33, 16, 1, 1}, 1, 2, 0, 1, 1, 1, 1}, "MC_B_TAPS;"},      /* 1x1 stride 2 */
      {{2, {1, 4, 6, 6}, {34, 2, 3, 3}, 2, 2, 0, 1, 1, 1, 1}, "MC_B_TAPS;"},        /* groups, stride 2 */
      {{1, {1, 1, 70}, {50, 1, 16}, 1, 8, 0, 1, 1, 0, 0}, "MC_B_TAPS;"},            /* 1-D, STFT-like: 7 outputs */
      {{1, {1, 6, 20}, {33, 6, 4}, 1, 1, 0, 1, 1, 1, 1}, "MC_B_TAPS;"},             /* 1-D, 17 outputs, fused */
      {{1, {1, 29, 4}, {20, 29, 3}, 1, 1, 1, 1, 1, 1, 1}, "MC_B_PADDED;"},          /* 1-D padded, 4 outputs */
      {{2, {1, 70, 3, 3}, {17, 70, 1, 1}, 1, 1, 0, 1, 1, 1, 1}, "MC_B_ROWS;"},        /* 1x1: 9 columns, fused */
      {{2, {3, 19, 2, 2}, {32, 19, 1, 1}, 1, 1, 0, 1, 1, 0, 0}, "MC_B_ROWS;"},        /* three images of 4 pixels */
  };
  want_in_c[0] = "mc_gemmt(&";
  ballast = 1 << 14;   /* room for the padded copies */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    want_in_c[1] = cases[i].bkind;
    conv_run(&cases[i].c);
  }
}

/* The transposed tile over the padded copy in parts over N (--threads):
 * each part copies only the band of its own output rows into its own
 * scratch (kl_par.c), the bands of ceil(OH / parts) rows, the last part's
 * shorter; odd OH, stride 2, two images, a residual, three parts. */
static void test_conv_small_n_parts(void **state) {
  (void)state;
  const struct { conv_case c; int threads; } cases[] = {
      /* r  x                w                 grp st pad dil cw bias fuse  threads */
      {{2, {1, 20, 8, 8}, {40, 20, 3, 3}, 1, 1, 1, 1, 1, 1, 1}, 2},    /* 8x8: bands of 4 rows, fused */
      {{2, {1, 20, 8, 8}, {40, 20, 3, 3}, 1, 1, 1, 1, 1, 1, 0}, 3},    /* bands of 3, 3 and 2 rows */
      {{2, {2, 9, 9, 11}, {64, 9, 3, 3}, 1, 2, 1, 1, 1, 1, 0}, 2},     /* 5x6, stride 2, two images */
      {{2, {1, 12, 7, 7}, {33, 12, 3, 3}, 1, 1, 2, 2, 1, 0, 1}, 2},    /* dilated, M past one tile, fused */
  };
  want_in_c[0] = "mc_gemmt(&";
  want_in_c[1] = "scratch += ";   /* a slice of scratch per part: no shared copy */
  ballast = 1 << 14;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_capped(&cases[i].c, cases[i].threads, 0, NULL);
}

/* Convolutions whose weight is not a constant, a graph input or a trained
 * parameter (is_state): packed at run time (mc_panels) into the panels a
 * constant gets, once before the loop over images (and groups: a packed
 * slice each), for the transposed tile (the padded copy or taps, 16 output
 * channels and more), whole output rows, and the standard tile over a
 * batch; in one part or two. */
static void test_conv_run_pack(void **state) {
  (void)state;
  const struct { conv_case c; const char *call; int threads; } cases[] = {
      /* r  x                  w                grp st pad dil cw bias fuse room      kernel      threads */
      {{2, {2, 16, 8, 8}, {40, 16, 3, 3}, 1, 1, 1, 1, 0, 1, 1}, "mc_gemmt(&", 1},         /* ResNet's 8x8 stage, fused */
      {{2, {2, 16, 8, 8}, {40, 16, 3, 3}, 1, 1, 1, 1, 2, 1, 0}, "mc_gemmt(&", 2},         /* trained, two parts */
      {{2, {2, 6, 12, 10}, {20, 6, 5, 5}, 1, 1, 0, 1, 2, 1, 0}, "mc_gemmt(&", 1},         /* LeNet's second: taps */
      {{2, {3, 8, 4, 4}, {36, 4, 3, 3}, 2, 1, 1, 1, 0, 0, 1}, "mc_gemmt(&", 1},           /* 2 groups, 3 images */
      {{2, {2, 1, 32, 32}, {6, 1, 5, 5}, 1, 1, 0, 1, 2, 1, 2, 1}, "mc_convr(&", 1},       /* LeNet's first, Tanh */
      {{2, {2, 1, 32, 32}, {6, 1, 5, 5}, 1, 1, 0, 1, 0, 1, 0, 1}, "mc_convr(&", 2},       /* in two parts */
      {{2, {2, 4, 23, 41}, {16, 2, 3, 3}, 2, 2, 1, 1, 0, 1, 0, 1}, "mc_convr(&", 1},      /* 2 groups, M past MR */
      {{2, {3, 5, 9, 11}, {7, 5, 3, 3}, 1, 2, 1, 1, 2, 1, 1, 1}, "mc_gemm(&", 1},         /* the standard tile, M % MR */
      {{2, {2, 3, 16, 16}, {13, 3, 3, 3}, 1, 1, 1, 1, 0, 1, 0, 1}, "mc_gemm(&", 2},       /* in two parts */
  };
  ballast = 1 << 14;   /* room for the padded copies */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    want_in_c[0] = "mc_panels(x1";   /* W, input 1 of the Conv, packed */
    want_in_c[1] = cases[i].call;
    conv_capped(&cases[i].c, cases[i].threads, 0, NULL);
  }
}

/* ConvWeightGrad (kl_wgrad.c) with under 16 output channels a group:
 * dW = dY . im2col^T, dY's rows in place as A (M past MR and under it:
 * A's last rows copied), B's rows built run by run from the padded copy
 * (window rows split at 8 taps; a last run whose 8 floats would pass the
 * row copied by its length), K blocks that start mid-row (ballast: 256
 * positions; none: the planner's cap of 0 leaves 32), groups, strides and
 * dilations along H (along W they make runs of one tap: the first way),
 * asymmetric pads, 1-D. */
typedef struct wgrad_case {
  int r;
  int64_t x[4], dy[4], k[2], s[2], d[2], p[4], group;
} wgrad_case;

static void wgrad_run(const wgrad_case *c) {
  ir_graph *g = ir_graph_new("t", NULL);
  double *vals[2] = {0};
  ir_tensor *in[2] = {operand(g, "x", 0, c->r + 2, c->x, &vals[0]), operand(g, "dy", 0, c->r + 2, c->dy, &vals[1])};
  ir_node *n = ot_node(g, "ConvWeightGrad", 1, 2, in, 1);
  free(n->domain);
  n->domain = ir_strdup("ai.modelc");
  ir_attr_set_ints(n, "kernel_shape", c->r, c->k);
  ir_attr_set_ints(n, "strides", c->r, c->s);
  ir_attr_set_ints(n, "dilations", c->r, c->d);
  ir_attr_set_ints(n, "pads", 2 * c->r, c->p);
  ir_attr_set_int(n, "group", c->group);
  compare(g, n, vals);
  free_vals(vals, 2);
  ir_graph_free(g);
}

static void test_wgrad_few_channels(void **state) {
  (void)state;
  const wgrad_case cases[] = {
      /* r  x                 dy               k       s       d       pads          group */
      {2, {2, 1, 28, 28}, {2, 6, 28, 28}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 1},     /* LeNet's first: M one MR */
      {2, {2, 4, 9, 11}, {2, 6, 5, 10}, {3, 3}, {2, 1}, {1, 1}, {1, 0, 1, 1}, 2},      /* 2 groups of 3, stride 2 */
      {2, {3, 1, 10, 10}, {3, 5, 10, 10}, {4, 4}, {1, 1}, {1, 1}, {1, 2, 2, 1}, 1},    /* 16 taps: the last run short */
      {2, {1, 2, 11, 9}, {1, 7, 5, 10}, {3, 3}, {2, 1}, {2, 1}, {2, 1, 1, 2}, 1},      /* M 7, dilated, stride 2 */
      {1, {2, 3, 30}, {2, 4, 30}, {11}, {1}, {1}, {5, 5}, 1},                           /* 1-D, runs of 8 and 3 */
      {2, {2, 6, 7, 8}, {2, 3, 7, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 3},        /* 3 groups of 1 channel */
  };
  want_in_c[0] = "mc_wgrad_dya(&";
  for (int room = 0; room < 2; room++) {
    ballast = room ? 1 << 16 : 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) wgrad_run(&cases[i]);
  }
}

/* A constant of random values in [-scale, scale). */
static ir_tensor *weights(ir_graph *g, const char *name, int rank, const int64_t *dims, double scale, double **vals) {
  int64_t cnt = ir_numel_dims(rank, dims);
  double *v = malloc(sizeof(double) * (size_t)(cnt + 1));
  for (int64_t i = 0; i < cnt; i++) v[i] = ot_rnd() / 3.0 * scale;
  *vals = v;
  return ot_const(g, name, IR_F32, rank, dims, v);
}

/* RNN, GRU (both linear_before_reset) and LSTM with constant W, R, B: the
 * projections as one GEMM (T*B rows, not a multiple of MR), the recurrence
 * as a GEMV per step, the gates through mc_expf.  Weights of a trained
 * net's size (1/sqrt(H)): with weights of 3 the recurrence is chaotic and
 * float rounding, in any summation order, grows past the tolerance. */
/* A ConvTranspose (kl_convt.c, by output phases) or a ConvWeightGrad
 * (kl_wgrad.c) of x and a second operand b, both graph inputs (a training
 * step's weights and gradients), with the given geometry (2-D; op_pad:
 * ConvTranspose's output_padding), built and compared as every case here;
 * want: a call the emitted C must make. */
static void strided_case(const char *op, const int64_t *x, const int64_t *b, const int64_t *k, const int64_t *s,
                         const int64_t *pads, const int64_t *d, const int64_t *op_pad, int64_t group, int bias,
                         const char *want) {
  ir_graph *g = ir_graph_new("t", NULL);
  double *vals[3] = {0};
  int wg = !strcmp(op, "ConvWeightGrad");
  int64_t bd[1] = {b[1] * group};
  ir_tensor *in[3] = {operand(g, "x", 0, 4, x, &vals[0]), operand(g, "b", 0, 4, b, &vals[1]), NULL};
  if (bias) in[2] = operand(g, "bias", 1, 1, bd, &vals[2]);
  ir_node *n = ot_node(g, op, wg ? 1 : 11, bias ? 3 : 2, in, 1);
  if (wg) {
    free(n->domain);
    n->domain = ir_strdup("ai.modelc");
  }
  ir_attr_set_ints(n, "kernel_shape", 2, k);
  ir_attr_set_ints(n, "strides", 2, s);
  ir_attr_set_ints(n, "pads", 4, pads);
  ir_attr_set_ints(n, "dilations", 2, d);
  ir_attr_set_int(n, "group", group);
  if (op_pad) ir_attr_set_ints(n, "output_padding", 2, op_pad);
  want_in_c[0] = want;
  compare(g, n, vals);
  want_in_c[0] = NULL;
  free_vals(vals, 3);
  ir_graph_free(g);
}

/* The stride-2 paths of ResNet's shortcuts and of a strided convolution's
 * backward, with trained (graph-input) weights: a 1x1 stride-2 Conv whose
 * grid is no wider than its output (strips across output rows, a last
 * partial one, M % MR rows from registers, residual and Relu); the weight
 * gradient of 1x1 kernels (mc_wgrad1: channels filling a B panel or past
 * it, dY's rows past MR tiles, groups, a sample's positions in several
 * blocks); ConvTranspose by output phases (3x3 stride 2 as a strided
 * convolution's input gradient, uneven strides with dilation, groups,
 * pads and output_padding, an odd output width; x read in place). */
static void test_strided(void **state) {
  (void)state;
  const conv_case convs[] = {
      /* r  x                  w                grp st pad dil cw bias fuse room */
      {2, {2, 12, 16, 16}, {14, 12, 1, 1}, 1, 2, 0, 1, 0, 1, 0, 1},   /* 8x8 outputs: two 32-wide strips */
      {2, {1, 8, 13, 11}, {14, 8, 1, 1}, 1, 2, 0, 1, 0, 1, 1, 1},     /* 7x6: strips 32 and 10, fused */
  };
  const int64_t k1[2] = {1, 1}, k3[2] = {3, 3}, s1[2] = {1, 1}, s2[2] = {2, 2}, p0[4] = {0, 0, 0, 0};
  const int64_t p1[4] = {1, 1, 1, 1}, d1[2] = {1, 1}, op1[2] = {1, 1};
  /* under 16 output channels, so that the transposed tile (which a weight packed at run time
   * takes from 16 on) leaves them to the strips across rows */
  want_in_c[0] = "MC_B_PADDED;";
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) conv_run(&convs[i]);
  want_in_c[0] = NULL;
  strided_case("ConvWeightGrad", (int64_t[]){2, 16, 16, 16}, (int64_t[]){2, 32, 8, 8}, k1, s2, p0, d1, NULL, 1, 0,
               "mc_wgrad1(&");
  strided_case("ConvWeightGrad", (int64_t[]){3, 20, 9, 7}, (int64_t[]){3, 7, 5, 4}, k1, s2, p0, d1, NULL, 1, 0,
               "mc_wgrad1(&");
  strided_case("ConvWeightGrad", (int64_t[]){2, 8, 6, 6}, (int64_t[]){2, 10, 6, 6}, k1, s1, p0, d1, NULL, 2, 0,
               "mc_wgrad1(&");
  strided_case("ConvWeightGrad", (int64_t[]){1, 40, 100, 99}, (int64_t[]){1, 6, 50, 50}, k1, s2, p0, d1, NULL, 1,
               0, "mc_wgrad1(&");   /* 2500 positions, blocks of 682 */
  strided_case("ConvTranspose", (int64_t[]){2, 12, 8, 8}, (int64_t[]){12, 10, 3, 3}, k3, s2, p1, d1, op1, 1, 1,
               "mc_convt(&");
  strided_case("ConvTranspose", (int64_t[]){1, 6, 5, 7}, (int64_t[]){6, 4, 3, 2}, (int64_t[]){3, 2},
               (int64_t[]){3, 2}, (int64_t[]){1, 0, 2, 1}, (int64_t[]){2, 1}, op1, 2, 1, "mc_convt(&");
  strided_case("ConvTranspose", (int64_t[]){1, 3, 4, 5}, (int64_t[]){3, 5, 3, 3}, k3, s2, p1, d1, NULL, 1, 0,
               "mc_convt(&");   /* 7x9 outputs: the interleaved rows end on an even column */
  strided_case("ConvTranspose", (int64_t[]){1, 5, 4, 16}, (int64_t[]){5, 7, 2, 2}, (int64_t[]){2, 2}, s2, p0, d1,
               NULL, 1, 0, "xp = NULL;");   /* one tap a phase, at offset 0: x in place */
}

static void test_rnn_core(void **state) {
  (void)state;
  const struct { const char *op; int gates, lbr; const char *dir; int64_t T, B, I, H; } cases[] = {
      {"GRU", 3, 0, "forward", 5, 1, 7, 20},
      {"GRU", 3, 1, "bidirectional", 4, 2, 9, 33},
      {"LSTM", 4, 0, "reverse", 3, 2, 5, 17},
      {"RNN", 1, 0, "forward", 7, 1, 3, 40},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t nd = strcmp(cases[i].dir, "bidirectional") == 0 ? 2 : 1, GH = cases[i].gates * cases[i].H;
    int64_t xd[] = {cases[i].T, cases[i].B, cases[i].I}, wd[] = {nd, GH, cases[i].I}, rd[] = {nd, GH, cases[i].H};
    int64_t bd[] = {nd, 2 * GH};
    ir_graph *g = ir_graph_new("t", NULL);
    double *vals[4] = {0};
    double sc = 1.0 / sqrt((double)cases[i].H);
    ir_tensor *in[] = {operand(g, "x", 0, 3, xd, &vals[0]), weights(g, "w", 3, wd, sc, &vals[1]),
                       weights(g, "r", 3, rd, sc, &vals[2]), weights(g, "bias", 2, bd, sc, &vals[3])};
    ir_node *n = ot_node(g, cases[i].op, 14, 4, in, 1);
    ir_attr_set_int(n, "hidden_size", cases[i].H);
    ir_attr_set_string(n, "direction", cases[i].dir);
    if (cases[i].lbr) ir_attr_set_int(n, "linear_before_reset", 1);
    compare(g, n, vals);
    free_vals(vals, 4);
    ir_graph_free(g);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_gemm_edges, clear_wants),     cmocka_unit_test_setup(test_gemm_transposed, clear_wants),
      cmocka_unit_test_setup(test_gemm_epilogue, clear_wants),  cmocka_unit_test_setup(test_matmul_batched, clear_wants),
      cmocka_unit_test_setup(test_conv, clear_wants),           cmocka_unit_test_setup(test_conv_bands, clear_wants),
      cmocka_unit_test_setup(test_rnn_core, clear_wants),       cmocka_unit_test_setup(test_gemm_small_n, clear_wants),
      cmocka_unit_test_setup(test_conv_small_n, clear_wants),   cmocka_unit_test_setup(test_conv_small_n_parts, clear_wants),
      cmocka_unit_test_setup(test_conv_run_pack, clear_wants),
      cmocka_unit_test_setup(test_wgrad_few_channels, clear_wants),
      cmocka_unit_test_setup(test_strided, clear_wants),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  printf("%d graphs built %d ways each\n", counter, (int)(sizeof builds / sizeof builds[0]));
  return rc;
}
