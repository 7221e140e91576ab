/*
 * test_plan.c - the memory planner (compiler/passes/plan.c).
 *
 * Graphs are built by hand; lifetimes and the live-bytes lower bound are
 * recomputed here from the schedule independently of the planner, and every
 * pair of blocks live at the same step is checked for overlap.  Nodes carry
 * a stand-in op whose only callback is scratch_bytes (read from the node's
 * "scratch" attribute), since the planner needs nothing else from the op.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler/ir/ir.h"
#include "compiler/ops/op.h"
#include "compiler/passes/plan.h"

static int64_t fake_scratch(const ir_node *n) { return ir_attr_int(n, "scratch", 0); }
static const op_def fake_op = {.name = "Fake", .domain = "", .min_in = 0, .max_in = -1, .min_out = 0,
                               .max_out = -1, .scratch_bytes = fake_scratch};

/* The parallel parts' slices: "parts" of "part" bytes each, within "scratch". */
static int64_t fake_parts(const ir_node *n, int *parts) {
  *parts = (int)ir_attr_int(n, "parts", 0);
  return ir_attr_int(n, "part", 0);
}
static const op_def fake_par = {.name = "FakePar", .domain = "", .min_in = 0, .max_in = -1, .min_out = 0,
                                .max_out = -1, .scratch_bytes = fake_scratch, .part_bytes = fake_parts};

/* Parts over the rows of a [1][C][H][W] output ("parts" of them), each
 * reading its rows of input 0 and one more above and below (a 3x3
 * convolution's halo). */
static int fake_rows(const ir_node *n, op_part_rows *r) {
  int parts = (int)ir_attr_int(n, "parts", 0);
  int64_t H = n->out[0]->shape[2];
  if (parts < 2) return 0;
  r->parts = parts;
  for (int p = 0; p < parts; p++) {
    int64_t o0 = p * H / parts, o1 = (p + 1) * H / parts;
    r->out[p][0] = o0, r->out[p][1] = o1;
    for (int i = 0; i < OP_ROWS_IN; i++) r->in[i][p][0] = r->in[i][p][1] = -1;
    r->in[0][p][0] = o0 > 0 ? o0 - 1 : 0, r->in[0][p][1] = o1 < H ? o1 + 1 : H;
  }
  return 1;
}
static const op_def fake_rowop = {.name = "FakeRows", .domain = "", .min_in = 0, .max_in = -1, .min_out = 0,
                                  .max_out = -1, .part_rows = fake_rows};

static const op_def fake_ew = {.name = "FakeMap", .domain = "", .min_in = 1, .max_in = -1, .min_out = 1,
                               .max_out = 1, .flags = OP_ELEMENTWISE};
static const op_def fake_alias = {.name = "FakeView", .domain = "", .min_in = 1, .max_in = 1, .min_out = 1,
                                  .max_out = 1, .flags = OP_ALIAS};

static ir_tensor *tensor(ir_graph *g, const char *name, ir_dtype dt, int64_t n) {
  ir_tensor *t = ir_add_tensor(g, name, dt, IR_ACTIVATION);
  ir_set_shape(t, 1, &n);
  return t;
}

static ir_node *node(ir_graph *g, const char *name, int n_in, ir_tensor **in, int n_out, ir_tensor **out) {
  ir_node *n = ir_add_node(g, "Fake", name);
  n->op = &fake_op;
  ir_node_set_io(n, n_in, in, n_out, out);
  return n;
}

/* x -> a -> b -> c -> d -> y: four equal arena tensors, two buffers suffice. */
static void test_chain_reuses(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("chain", NULL);
  ir_tensor *x = tensor(g, "x", IR_F32, 1000);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *t[4];
  const char *names[4] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++) t[i] = tensor(g, names[i], IR_F32, 1000);  /* 4000 bytes -> 4032 */
  ir_tensor *y = tensor(g, "y", IR_F32, 1000);
  ir_graph_add_output(g, y);
  node(g, "n0", 1, &x, 1, &t[0]);
  node(g, "n1", 1, &t[0], 1, &t[1]);
  node(g, "n2", 1, &t[1], 1, &t[2]);
  node(g, "n3", 1, &t[2], 1, &t[3]);
  node(g, "n4", 1, &t[3], 1, &y);
  x->offset = y->offset = 123;  /* the planner must reset these */
  assert_int_equal(pass_plan(g), 0);
  assert_int_equal(g->arena_bytes, 2 * 4032);
  assert_int_equal(g->arena_lower_bound, 2 * 4032);
  assert_int_equal(x->offset, -1);
  assert_int_equal(y->offset, -1);
  for (int i = 0; i < 4; i++) {
    assert_true(t[i]->offset == 0 || t[i]->offset == 4032);
    if (i) assert_true(t[i]->offset != t[i - 1]->offset);
  }
  ir_graph_free(g);
}

/* Odd sizes still land on 64-byte boundaries; an unread output keeps its
 * bytes during its producer's step; scratch lives during its node's step. */
static void test_alignment_unread_scratch(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("align", NULL);
  ir_tensor *x = tensor(g, "x", IR_U8, 3);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *a = tensor(g, "a", IR_U8, 3);
  ir_tensor *unread = tensor(g, "unread", IR_U8, 5);
  ir_tensor *b = tensor(g, "b", IR_U8, 70);
  ir_tensor *y = tensor(g, "y", IR_U8, 1);
  ir_graph_add_output(g, y);
  ir_tensor *w = ir_add_tensor(g, "w", IR_U8, IR_CONST);
  int64_t one = 1;
  ir_set_shape(w, 1, &one);
  unsigned char wv = 7;
  ir_tensor_set_data(w, &wv, 1);
  ir_tensor *o0[2] = {a, unread};
  node(g, "n0", 1, &x, 2, o0);
  ir_tensor *i1[2] = {a, w};
  ir_node *n1 = node(g, "n1", 2, i1, 1, &b);
  ir_attr_set_int(n1, "scratch", 100);
  node(g, "n2", 1, &b, 1, &y);
  assert_int_equal(pass_plan(g), 0);
  assert_int_equal(w->offset, -1);
  assert_int_equal(a->offset % 64, 0);
  assert_int_equal(unread->offset % 64, 0);
  assert_int_equal(b->offset % 64, 0);
  assert_true(a->offset != unread->offset);  /* both live at step 0 */
  int64_t s = ir_attr_int(n1, PLAN_SCRATCH_ATTR, -1);
  assert_true(s >= 0 && s % 64 == 0);
  /* at step 1, a (3 bytes), b (70) and the scratch (100) are live: 64+128+128 */
  assert_int_equal(g->arena_lower_bound, 320);
  assert_int_equal(g->arena_bytes, 320);
  assert_true(s != a->offset && s != b->offset && a->offset != b->offset);
  assert_int_equal(g->arena_bytes % 64, 0);
  /* a second run gives the same plan, and no scratch attribute elsewhere */
  int64_t before = b->offset;
  assert_int_equal(pass_plan(g), 0);
  assert_int_equal(b->offset, before);
  assert_null(ir_attr_find(g->nodes[0], PLAN_SCRATCH_ATTR));
  ir_graph_free(g);
}

/* Random DAGs: no two blocks live at the same step share a byte. */
typedef struct blk {
  int64_t off, size;
  int start, end;
} blk;

static unsigned rnd_state = 12345u;
static unsigned rnd(unsigned n) {
  rnd_state = rnd_state * 1103515245u + 12345u;
  return (rnd_state >> 16) % n;
}

static void test_random_dags(void **state) {
  (void)state;
  for (int trial = 0; trial < 60; trial++) {
    ir_graph *g = ir_graph_new("rand", NULL);
    ir_tensor *pool[400];
    int np = 0;
    char name[32];
    ir_tensor *x = tensor(g, "x", IR_F32, 16);
    x->role = IR_INPUT;
    ir_graph_add_input(g, x);
    pool[np++] = x;
    int nn = 5 + (int)rnd(40);
    for (int k = 0; k < nn; k++) {
      ir_tensor *in[3], *out[2];
      int nin = 1 + (int)rnd(3), nout = 1 + (int)rnd(2);
      for (int i = 0; i < nin; i++) in[i] = pool[rnd((unsigned)np)];
      for (int j = 0; j < nout; j++) {
        snprintf(name, sizeof name, "t%d_%d", k, j);
        static const int64_t sizes[] = {0, 1, 3, 16, 17, 64, 100, 1000, 4096, 12345};
        out[j] = tensor(g, name, rnd(4) ? IR_F32 : IR_U8, sizes[rnd(10)]);
        if (rnd(10) == 0) ir_graph_add_output(g, out[j]);
        pool[np++] = out[j];
      }
      snprintf(name, sizeof name, "n%d", k);
      ir_node *n = node(g, name, nin, in, nout, out);
      if (rnd(4) == 0) ir_attr_set_int(n, "scratch", (int64_t)rnd(3000));
    }
    if (pass_plan(g) != 0) fail_msg("%s", ir_last_error());
    assert_int_equal(plan_check(g), 0);

    /* lifetimes, recomputed here */
    blk b[800];
    int nb = 0;
    for (int i = 0; i < g->n_tensors; i++) {
      ir_tensor *t = g->tensors[i];
      if (t->role != IR_ACTIVATION || t->is_output) {
        assert_int_equal(t->offset, -1);
        continue;
      }
      int start = t->producer->id, end = start;
      for (int s = 0; s < g->n_nodes; s++)
        for (int k = 0; k < g->nodes[s]->n_in; k++)
          if (g->nodes[s]->in[k] == t && s > end) end = s;
      assert_true(t->offset >= 0);
      b[nb++] = (blk){t->offset, ir_nbytes(t), start, end};
    }
    for (int s = 0; s < g->n_nodes; s++) {
      int64_t sz = ir_attr_int(g->nodes[s], "scratch", 0);
      if (sz > 0) b[nb++] = (blk){ir_attr_int(g->nodes[s], PLAN_SCRATCH_ATTR, -1), sz, s, s};
      else assert_null(ir_attr_find(g->nodes[s], PLAN_SCRATCH_ATTR));
    }
    int64_t peak = 0;
    for (int s = 0; s < g->n_nodes; s++) {
      int64_t live = 0;
      for (int i = 0; i < nb; i++)
        if (b[i].start <= s && s <= b[i].end) live += (b[i].size + 63) / 64 * 64;
      if (live > peak) peak = live;
    }
    assert_int_equal(g->arena_lower_bound, peak);
    assert_true(g->arena_bytes >= peak);
    assert_int_equal(g->arena_bytes % 64, 0);
    for (int i = 0; i < nb; i++) {
      assert_true(b[i].off >= 0);
      assert_int_equal(b[i].off % 64, 0);
      assert_true(b[i].off + b[i].size <= g->arena_bytes);
      for (int j = i + 1; j < nb; j++) {
        int live_together = b[i].start <= b[j].end && b[j].start <= b[i].end;
        int share = b[i].off < b[j].off + b[j].size && b[j].off < b[i].off + b[i].size;
        assert_false(live_together && share);
      }
    }
    ir_graph_free(g);
  }
}

/* A tensor read only inside a subgraph (an If branch) lives until the step
 * of the node that owns the subgraph. */
static void test_subgraph_reads(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("outer", NULL);
  ir_tensor *x = tensor(g, "x", IR_F32, 16);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *a = tensor(g, "a", IR_F32, 16), *b = tensor(g, "b", IR_F32, 16);
  ir_tensor *y = tensor(g, "y", IR_F32, 16);
  ir_graph_add_output(g, y);
  node(g, "make_a", 1, &x, 1, &a);
  node(g, "make_b", 1, &x, 1, &b);
  ir_node *n = node(g, "if", 1, &b, 1, &y);
  ir_graph *sg = ir_graph_new("then", g);
  ir_tensor *z = tensor(sg, "z", IR_F32, 16);
  ir_node *inner = ir_add_node(sg, "Fake", "inner");
  ir_node_set_io(inner, 1, &a, 1, &z);
  ir_graph_add_output(sg, z);
  ir_attr_add(n, "then_branch", IR_ATTR_GRAPH)->g = sg;
  assert_int_equal(pass_plan(g), 0);
  assert_true(a->offset >= 0 && b->offset >= 0);
  assert_true(a->offset != b->offset);
  assert_int_equal(g->arena_lower_bound, 128);
  assert_int_equal(z->offset, -1);  /* subgraphs are not planned here */
  ir_graph_free(g);
}

static void test_errors(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("bad", NULL);
  ir_tensor *x = tensor(g, "x", IR_F32, 4);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *a = ir_add_tensor(g, "mystery", IR_F32, IR_ACTIVATION);  /* rank -1 */
  ir_tensor *y = tensor(g, "y", IR_F32, 4);
  ir_graph_add_output(g, y);
  node(g, "n0", 1, &x, 1, &a);
  node(g, "n1", 1, &a, 1, &y);
  assert_int_equal(pass_plan(g), -1);
  assert_non_null(strstr(ir_last_error(), "'mystery'"));
  ir_graph_free(g);

  /* a reader scheduled before the writer */
  g = ir_graph_new("order", NULL);
  x = tensor(g, "x", IR_F32, 4);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  a = tensor(g, "a", IR_F32, 4);
  y = tensor(g, "y", IR_F32, 4);
  ir_graph_add_output(g, y);
  node(g, "reader", 1, &a, 1, &y);
  node(g, "writer", 1, &x, 1, &a);
  assert_int_equal(pass_plan(g), -1);
  assert_non_null(strstr(ir_last_error(), "'a'"));
  assert_non_null(strstr(ir_last_error(), "'reader'"));
  ir_graph_free(g);
}


/* Sharing: x -> n0 -> a -map-> b -view-> c -map-> d -> y.  b is written in
 * place over a (a dies there), c is a view of b, d in place over c: one
 * block for all four.  Not firing: e reads a after the map, so the map's
 * output must not land on a.  plan_check accepts both plans and refuses a
 * plan where two live tensors are put on each other's bytes. */
static void test_inplace_and_alias(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("share", NULL);
  ir_tensor *x = tensor(g, "x", IR_F32, 100);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *a = tensor(g, "a", IR_F32, 100), *b = tensor(g, "b", IR_F32, 100);
  ir_tensor *c = tensor(g, "c", IR_F32, 100), *d = tensor(g, "d", IR_F32, 100);
  ir_tensor *y = tensor(g, "y", IR_F32, 100);
  ir_graph_add_output(g, y);
  node(g, "n0", 1, &x, 1, &a);
  node(g, "map1", 1, &a, 1, &b)->op = &fake_ew;
  node(g, "view", 1, &b, 1, &c)->op = &fake_alias;
  node(g, "map2", 1, &c, 1, &d)->op = &fake_ew;
  node(g, "n4", 1, &d, 1, &y);
  assert_int_equal(pass_plan(g), 0);
  assert_int_equal(g->arena_bytes, 448);
  assert_true(a->offset == b->offset && b->offset == c->offset && c->offset == d->offset);
  assert_int_equal(plan_check(g), 0);
  /* without sharing, two buffers alternate */
  assert_int_equal(pass_plan_with(g, 0), 0);
  assert_int_equal(g->arena_bytes, 2 * 448);
  ir_graph_free(g);

  g = ir_graph_new("noshare", NULL);
  x = tensor(g, "x", IR_F32, 100);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  a = tensor(g, "a", IR_F32, 100);
  b = tensor(g, "b", IR_F32, 100);
  ir_tensor *e = tensor(g, "e", IR_F32, 100);
  y = tensor(g, "y", IR_F32, 100);
  ir_graph_add_output(g, y);
  node(g, "n0", 1, &x, 1, &a);
  node(g, "map", 1, &a, 1, &b)->op = &fake_ew;
  node(g, "late", 1, &a, 1, &e);    /* a is still needed after the map */
  ir_tensor *be[2] = {b, e};
  node(g, "join", 2, be, 1, &y);
  assert_int_equal(pass_plan(g), 0);
  assert_true(a->offset != b->offset);
  assert_int_equal(plan_check(g), 0);
  b->offset = a->offset;            /* what a wrong planner would do */
  assert_int_equal(plan_check(g), -1);
  assert_non_null(strstr(ir_last_error(), "'a' is read at step 2 after 'b' overwrote"));
  b->offset = e->offset;            /* b and e are both live at the join */
  assert_int_equal(plan_check(g), -1);
  assert_non_null(strstr(ir_last_error(), "overlap") ? strstr(ir_last_error(), "overlap")
                                                       : strstr(ir_last_error(), "neither is made"));
  ir_graph_free(g);
}

/* A kernel that can work in less scratch (PLAN_SCRATCH_CAP_ATTR), down to
 * its "floor" attribute, like the GEMM core's packed B block. */
static int64_t capped_scratch(const ir_node *n) {
  int64_t want = ir_attr_int(n, "scratch", 0), cap = ir_attr_int(n, PLAN_SCRATCH_CAP_ATTR, -1);
  int64_t floor = ir_attr_int(n, "floor", 0);
  if (cap < 0 || want <= cap) return want;
  return cap > floor ? cap : floor;
}
static const op_def fake_capped = {.name = "FakeCapped", .domain = "", .min_in = 0, .max_in = -1, .min_out = 0,
                                   .max_out = -1, .scratch_bytes = capped_scratch};

/* x -> a -> b -> c -> y, the scratch of b -> c wanting 8000 bytes: the
 * activations peak at step 1 (a and b, 2 x 4032); at step 2 the largest gap
 * under that peak is 3968 bytes, which the node is told, and the arena stays
 * at the activations' 8064.  A floor of 6000 does not fit the gap: the
 * arena grows, to the live bytes of that step when packed together. */
static void test_scratch_cap(void **state) {
  (void)state;
  for (int with_floor = 0; with_floor < 2; with_floor++) {
    ir_graph *g = ir_graph_new("cap", NULL);
    ir_tensor *x = tensor(g, "x", IR_F32, 1000);
    x->role = IR_INPUT;
    ir_graph_add_input(g, x);
    ir_tensor *a = tensor(g, "a", IR_F32, 1000), *b = tensor(g, "b", IR_F32, 1000), *c = tensor(g, "c", IR_F32, 16);
    ir_tensor *y = tensor(g, "y", IR_F32, 16);
    ir_graph_add_output(g, y);
    ir_node *n0 = node(g, "n0", 1, &x, 1, &a);
    ir_attr_set_int(n0, "scratch", 500);   /* fits the gap at step 0: not capped */
    n0->op = &fake_capped;
    node(g, "n1", 1, &a, 1, &b);
    ir_node *n2 = node(g, "n2", 1, &b, 1, &c);
    n2->op = &fake_capped;
    ir_attr_set_int(n2, "scratch", 8000);
    if (with_floor) ir_attr_set_int(n2, "floor", 6000);
    node(g, "n3", 1, &c, 1, &y);
    assert_int_equal(pass_plan(g), 0);
    assert_null(ir_attr_find(n0, PLAN_SCRATCH_CAP_ATTR));
    assert_int_equal(ir_attr_int(n2, PLAN_SCRATCH_CAP_ATTR, -1), 3968);
    assert_int_equal(g->arena_bytes, with_floor ? 4032 + 64 + 6016 : 8064);
    assert_int_equal(g->arena_bytes, g->arena_lower_bound);
    assert_int_equal(plan_check(g), 0);
    /* planned again: the same cap, the same arena */
    int64_t arena = g->arena_bytes;
    assert_int_equal(pass_plan(g), 0);
    assert_int_equal(ir_attr_int(n2, PLAN_SCRATCH_CAP_ATTR, -1), 3968);
    assert_int_equal(g->arena_bytes, arena);
    ir_graph_free(g);
  }
}

/* A kernel that names the input its output may take (op_def.share_input),
 * like the GEMM core's fused residual: input 1. */
static int share_second(const ir_node *n) { return n->n_in > 1 ? 1 : -1; }
static const op_def fake_res = {.name = "FakeResidual", .domain = "", .min_in = 2, .max_in = 2, .min_out = 1,
                                .max_out = 1, .share_input = share_second};

/* x -> a, x -> r, (a, r) -> y1: y1 takes r's bytes, r dying there, and the
 * node is marked PLAN_IN_PLACE_ATTR = 1.  Not firing: r read after it. */
static void test_share_input(void **state) {
  (void)state;
  for (int late = 0; late < 2; late++) {
    ir_graph *g = ir_graph_new("res", NULL);
    ir_tensor *x = tensor(g, "x", IR_F32, 100);
    x->role = IR_INPUT;
    ir_graph_add_input(g, x);
    ir_tensor *a = tensor(g, "a", IR_F32, 100), *r = tensor(g, "r", IR_F32, 100), *y1 = tensor(g, "y1", IR_F32, 100);
    ir_tensor *e = tensor(g, "e", IR_F32, 100), *y = tensor(g, "y", IR_F32, 100);
    ir_graph_add_output(g, y);
    node(g, "n0", 1, &x, 1, &a);
    node(g, "n1", 1, &x, 1, &r);
    ir_tensor *ar[2] = {a, r};
    ir_node *res = node(g, "res", 2, ar, 1, &y1);
    res->op = &fake_res;
    ir_tensor *ye[2] = {y1, late ? r : x};
    node(g, "late", 2, ye, 1, &e);
    node(g, "n4", 1, &e, 1, &y);
    assert_int_equal(pass_plan(g), 0);
    assert_int_equal(plan_check(g), 0);
    if (late) {
      assert_true(y1->offset != r->offset);
      assert_null(ir_attr_find(res, PLAN_IN_PLACE_ATTR));
    } else {
      assert_int_equal(y1->offset, r->offset);
      assert_int_equal(ir_attr_int(res, PLAN_IN_PLACE_ATTR, -1), 1);
      assert_true(y1->offset != a->offset);
    }
    /* without sharing, nothing is marked */
    assert_int_equal(pass_plan_with(g, 0), 0);
    assert_null(ir_attr_find(res, PLAN_IN_PLACE_ATTR));
    assert_true(y1->offset != r->offset);
    ir_graph_free(g);
  }
}

/* --threads: the parts' slices of every node go to one parts area on whole
 * pages, the same slice for a part at every node, sized for the largest;
 * what is left of a node's scratch stays its own. */
static void test_parts_area(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("parts", NULL);
  ir_tensor *x = tensor(g, "x", IR_F32, 1000);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *a = tensor(g, "a", IR_F32, 3000), *b = tensor(g, "b", IR_F32, 3000), *y = tensor(g, "y", IR_F32, 10);
  ir_graph_add_output(g, y);
  ir_node *n[3] = {node(g, "n0", 1, &x, 1, &a), node(g, "n1", 1, &a, 1, &b), node(g, "n2", 1, &b, 1, &y)};
  const int64_t scratch[3] = {2 * 5000 + 640, 2 * 9000, 777}, part[3] = {5000, 9000, 0};
  for (int i = 0; i < 3; i++) {
    n[i]->op = &fake_par;
    ir_attr_set_int(n[i], "scratch", scratch[i]);
    ir_attr_set_int(n[i], "part", part[i]);
    ir_attr_set_int(n[i], "parts", 2);
  }
  assert_int_equal(pass_plan(g), 0);
  int64_t at = ir_attr_int(n[0], PLAN_PARTS_ATTR, -1);
  assert_true(at >= 0 && at % PLAN_PAGE == 0);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(ir_attr_int(n[i], PLAN_PARTS_ATTR, -1), at);
    assert_int_equal(ir_attr_int(n[i], PLAN_PART_STRIDE_ATTR, -1), 3 * PLAN_PAGE);   /* 9000 bytes: 3 pages */
  }
  assert_null(ir_attr_find(n[2], PLAN_PARTS_ATTR));   /* no slices */
  assert_int_equal(plan_own_scratch(n[0]), 640);
  assert_int_equal(plan_own_scratch(n[1]), 0);
  assert_null(ir_attr_find(n[1], PLAN_SCRATCH_ATTR));
  assert_int_equal(plan_own_scratch(n[2]), 777);
  assert_true(g->arena_bytes >= at + 2 * 3 * PLAN_PAGE);
  /* the activations and the own scratch are below the parts area */
  assert_true(a->offset + 12000 <= at && b->offset + 12000 <= at);
  assert_true(ir_attr_int(n[0], PLAN_SCRATCH_ATTR, -1) + 640 <= at);
  assert_int_equal(plan_check(g), 0);
  /* the buffers name the area once */
  plan_buffer *bufs;
  int nb, seen = 0;
  assert_int_equal(plan_with_buffers(g, 1, &bufs, &nb), 0);
  for (int i = 0; i < nb; i++)
    if (bufs[i].parts) {
      seen++;
      assert_int_equal(bufs[i].offset, at);
      assert_int_equal(bufs[i].size, 2 * 3 * PLAN_PAGE);
    }
  assert_int_equal(seen, 1);
  plan_buffers_free(bufs, nb);
  /* one part: nothing to share, every slice in the node's scratch */
  for (int i = 0; i < 3; i++) ir_attr_set_int(n[i], "parts", 1);
  assert_int_equal(pass_plan(g), 0);
  for (int i = 0; i < 3; i++) {
    assert_null(ir_attr_find(n[i], PLAN_PARTS_ATTR));
    assert_int_equal(plan_own_scratch(n[i]), scratch[i]);
  }
  ir_graph_free(g);
}

static ir_tensor *image(ir_graph *g, const char *name) {
  const int64_t shape[4] = {1, 2, 8, 16};
  ir_tensor *t = ir_add_tensor(g, name, IR_F32, IR_ACTIVATION);
  ir_set_shape(t, 4, shape);
  return t;
}

/* x -n0-> a -n1-> b -n2-> y, n0 and n1 in two parts over rows: a, which
 * only such parts write and read, has a copy per part past the rest of the
 * arena; b, read whole by n2, has none.  Part 0 of a's reader needs row 4,
 * part 1 row 3: the halo.  Once n2 reads b by rows too, b has copies; once
 * a node reads a whole, part 0's copy must hold all of a (whole). */
static void test_row_replicas(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("rows", NULL);
  ir_tensor *x = image(g, "x"), *a = image(g, "a"), *b = image(g, "b"), *y = image(g, "y");
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_graph_add_output(g, y);
  ir_node *n[3] = {node(g, "n0", 1, &x, 1, &a), node(g, "n1", 1, &a, 1, &b), node(g, "n2", 1, &b, 1, &y)};
  for (int i = 0; i < 2; i++) {
    n[i]->op = &fake_rowop;
    ir_attr_set_int(n[i], "parts", 2);
  }
  assert_int_equal(pass_plan(g), 0);
  assert_true(a->replicated);
  assert_false(b->replicated);   /* n2 reads it whole: nothing to gain */
  assert_int_equal(g->replicas, 2);
  assert_int_equal(g->replica_base % PLAN_PAGE, 0);
  assert_int_equal(g->replica_stride, PLAN_PAGE);   /* a's 1 KiB, on a page */
  assert_true(a->offset + 1024 <= g->replica_stride && b->offset + 1024 <= g->replica_base);
  assert_int_equal(g->arena_bytes, g->replica_base + g->replica_stride);
  assert_int_equal(plan_check(g), 0);
  replica_rows_t r;
  assert_int_equal(replica_rows(g, a, &r), 2);
  assert_int_equal(r.own[0][0], 0), assert_int_equal(r.own[0][1], 4);
  assert_int_equal(r.own[1][0], 4), assert_int_equal(r.own[1][1], 8);
  assert_int_equal(r.need[0][0], 0), assert_int_equal(r.need[0][1], 5);
  assert_int_equal(r.need[1][0], 3), assert_int_equal(r.need[1][1], 8);
  assert_int_equal(r.row_readers, 1);
  assert_false(r.whole);
  assert_true(replica_read_by_rows(n[1], a));
  /* a stride too short for a: the check sees a's copy past it */
  int64_t stride = g->replica_stride;
  g->replica_stride = 512;
  assert_int_equal(plan_check(g), -1);
  g->replica_stride = stride;
  /* n2 by rows too: b has copies as well */
  n[2]->op = &fake_rowop;
  ir_attr_set_int(n[2], "parts", 2);
  assert_int_equal(pass_plan(g), 0);
  assert_true(a->replicated && b->replicated);
  assert_int_equal(plan_check(g), 0);
  /* a node reading a whole: part 0's copy gets every row */
  ir_tensor *c = image(g, "c");
  ir_graph_add_output(g, c);
  ir_node *w = node(g, "w", 1, &a, 1, &c);
  (void)w;
  assert_int_equal(pass_plan(g), 0);
  assert_true(a->replicated);
  assert_int_equal(replica_rows(g, a, &r), 2);
  assert_true(r.whole);
  assert_false(replica_read_by_rows(w, a));
  /* parts of another count read it: n1 in three parts, a read whole by it */
  ir_attr_set_int(n[1], "parts", 3);
  assert_int_equal(pass_plan(g), 0);
  assert_false(a->replicated);   /* no reader by rows in as many parts */
  /* a training step has no copies */
  ir_attr_set_int(n[1], "parts", 2);
  g->loss = y;
  assert_int_equal(pass_plan(g), 0);
  assert_false(a->replicated);
  assert_int_equal(g->replicas, 0);
  g->loss = NULL;
  ir_graph_free(g);
}

/* x (graph input) -view-> v -view-> w -map-> m -> y: v and w stay in the
 * caller's buffer (no arena bytes, PLAN_INPUT_VIEW_ATTR on both views,
 * plan_input_view names x), and the map does not write over them.  Without
 * sharing both views get arena bytes. */
static void test_input_view(void **state) {
  (void)state;
  ir_graph *g = ir_graph_new("view", NULL);
  ir_tensor *x = tensor(g, "x", IR_F32, 100);
  x->role = IR_INPUT;
  ir_graph_add_input(g, x);
  ir_tensor *v = tensor(g, "v", IR_F32, 100), *w = tensor(g, "w", IR_F32, 100), *m = tensor(g, "m", IR_F32, 100);
  ir_tensor *y = tensor(g, "y", IR_F32, 100);
  ir_graph_add_output(g, y);
  ir_node *view1 = node(g, "view1", 1, &x, 1, &v), *view2 = node(g, "view2", 1, &v, 1, &w);
  view1->op = view2->op = &fake_alias;
  node(g, "map", 1, &w, 1, &m)->op = &fake_ew;
  node(g, "n3", 1, &m, 1, &y);
  assert_int_equal(pass_plan(g), 0);
  assert_int_equal(ir_attr_int(view1, PLAN_INPUT_VIEW_ATTR, 0), 1);
  assert_int_equal(ir_attr_int(view2, PLAN_INPUT_VIEW_ATTR, 0), 1);
  assert_ptr_equal(plan_input_view(w), x);
  assert_ptr_equal(plan_input_view(v), x);
  assert_null(plan_input_view(m));
  assert_false(plan_in_arena(v));
  assert_false(plan_in_arena(w));
  assert_int_equal(v->offset, -1);
  assert_int_equal(w->offset, -1);
  assert_int_equal(m->offset, 0);      /* its own bytes, the only ones */
  assert_int_equal(g->arena_bytes, 448);
  assert_int_equal(plan_check(g), 0);
  assert_int_equal(pass_plan_with(g, 0), 0);
  assert_null(ir_attr_find(view1, PLAN_INPUT_VIEW_ATTR));
  assert_true(plan_in_arena(v) && v->offset >= 0 && w->offset >= 0);
  assert_int_equal(plan_check(g), 0);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_chain_reuses),
    cmocka_unit_test(test_alignment_unread_scratch),
    cmocka_unit_test(test_random_dags),
    cmocka_unit_test(test_subgraph_reads),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_inplace_and_alias),
    cmocka_unit_test(test_scratch_cap),
    cmocka_unit_test(test_share_input),
    cmocka_unit_test(test_input_view),
    cmocka_unit_test(test_parts_area),
    cmocka_unit_test(test_row_replicas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
