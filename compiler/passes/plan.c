/*
 * plan.c - memory planning: one arena for every activation and scratch area.
 *
 * require: g->nodes is the schedule (node i runs at step i; dead nodes are
 *          skipped), every tensor a node writes or reads has a known shape,
 *          and op->scratch_bytes, where present, can be asked about each node.
 * guarantee: every arena tensor (plan_in_arena) that some node writes gets
 *          t->offset, a multiple of PLAN_ALIGN; every other tensor gets -1
 *          (graph inputs and outputs live in the caller's buffers, constants
 *          and parameters in the weights).  A node with scratch carries
 *          PLAN_SCRATCH_ATTR (and PLAN_SCRATCH_CAP_ATTR when it was asked
 *          to fit in less).  Two blocks whose lifetimes share a step never
 *          share a byte.  g->arena_bytes and g->arena_lower_bound are set.
 *          The value of each of g->updates lives to the end of the run,
 *          unless it is written into its target (stored_in, kept only
 *          where ir_stored_in_ok holds): then it is no arena tensor.
 *          Subgraphs (If branches) are not planned; a tensor of g that a
 *          subgraph reads counts as read by the node that owns the subgraph.
 *
 *          With o->inplace, tensors share a block: an alias op (OP_ALIAS:
 *          Reshape, Flatten, Squeeze, Unsqueeze, Identity) of a graph input
 *          (or of such a view) leaves its output in the caller's buffer
 *          (PLAN_INPUT_VIEW_ATTR, no arena bytes); the output of any other
 *          alias op always shares its input's; the output of an elementwise
 *          op shares its input 0's, and that of an op whose kernel names an
 *          input through op_def.share_input (the GEMM core's residual, a
 *          depthwise convolution's X; output 0 of BatchNormalizationGrad's
 *          three) that input's (PLAN_IN_PLACE_ATTR),
 *          when that input's block dies at this node, has the output's size
 *          and is not read through another input too.  plan_check() holds
 *          after it.
 *
 * A block (a group of tensors sharing bytes, or a scratch area) lives over
 * the steps [start, end]: from its first producer's step to the last read
 * of any member (a training step's update values and loss are read after
 * its last node, when the updates are applied).  A tensor nobody reads still needs its bytes during its
 * producer's step; a node's scratch lives during that node's step only.
 * The activations' blocks are packed twice, largest first (the "greedy by
 * size" of TFLite) and in order of birth, each at the lowest aligned offset
 * free of every already placed block whose lifetime overlaps its own (first
 * fit); the smaller arena wins.  Then each node's scratch goes in the
 * largest gap left at its step below that arena, its kernel told the gap
 * (PLAN_SCRATCH_CAP_ATTR) so that it can shrink to fit (not in a training
 * step, whose kernels keep the scratch they ask for); where a kernel's
 * floor does not fit, everything is packed together once more and the
 * smaller arena kept.  With --threads, the slices each parallel part of a
 * node packs into (op_def.part_bytes) are no part of the node's scratch:
 * every such node shares one parts area, placed last on whole pages, where
 * part p always has the same slice (plan.h, PLAN_PARTS_ATTR); and a tensor
 * that only parts over its rows write and read gets a copy per part past
 * the whole arena (plan.h, row replicas).  plan_with_buffers hands the blocks back as
 * plan_buffers, for `modelc info` to list and draw.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "plan.h"
#include "../ops/op.h"
#include "../ops/epilogue.h"

typedef struct block {
  int64_t size, off;
  int start, end;      /* steps, inclusive */
  int seq;             /* creation order: the last tie-breaker, for determinism */
  ir_tensor *t;        /* NULL for a node's scratch */
  ir_node *n;          /* the node owning the scratch */
  int parts;           /* the parallel parts' scratch area (t and n NULL) */
} block;

static int64_t align_up(int64_t x) { return (x + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN; }

int plan_in_arena(const ir_tensor *t) {
  /* Gradients are computed by nodes like activations (the training work);
   * an update value written into its target (stored_in) has its bytes. */
  return (t->role == IR_ACTIVATION || t->role == IR_GRADIENT) && !t->is_output && !t->stored_in && !plan_input_view(t);
}

const ir_tensor *plan_input_view(const ir_tensor *t) {
  while (t && t->producer && t->producer->n_in > 0 && ir_attr_int(t->producer, PLAN_INPUT_VIEW_ATTR, 0))
    t = t->producer->in[0];
  return t && t->role == IR_INPUT && !t->producer ? t : NULL;
}

/* Node n relabels a graph input (or a view of one) as its output, which can
 * then stay in the caller's buffer: an alias op whose output, of the same
 * bytes, is an activation that is not a graph output. */
static int views_input(const ir_graph *g, const ir_node *n) {
  if (!n->op || !(n->op->flags & OP_ALIAS) || n->n_in < 1 || n->n_out != 1) return 0;
  const ir_tensor *x = n->in[0], *y = n->out[0];
  if (!ir_owns(g, x) || !ir_owns(g, y) || !plan_input_view(x) || ir_nbytes(x) != ir_nbytes(y)) return 0;
  return y->role == IR_ACTIVATION && !y->is_output && y->producer == n;
}

static int by_size_desc(const void *pa, const void *pb) {
  const block *a = *(const block *const *)pa, *b = *(const block *const *)pb;
  if (a->size != b->size) return a->size > b->size ? -1 : 1;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int by_offset(const void *pa, const void *pb) {
  const block *a = *(const block *const *)pa, *b = *(const block *const *)pb;
  if (a->off != b->off) return a->off < b->off ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int by_start(const void *pa, const void *pb) {
  const block *a = *(const block *const *)pa, *b = *(const block *const *)pb;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  if (a->size != b->size) return a->size > b->size ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* b at the lowest aligned offset free of the m placed blocks near[] that
 * are live with it (sorted here by offset). */
static void place(block *b, block **near, int m) {
  if (m > 1) qsort(near, (size_t)m, sizeof *near, by_offset);
  int64_t off = 0;
  for (int j = 0; j < m; j++) {
    if (off + b->size <= near[j]->off) break;  /* fits in the gap below near[j] */
    int64_t end = align_up(near[j]->off + near[j]->size);
    if (end > off) off = end;
  }
  b->off = off;
}

/* Place the blocks in the given order, each at the lowest aligned offset
 * free of the already placed blocks live at the same time; the arena size. */
static int64_t pack(block **order, int nb, block **near) {
  int64_t arena = 0;
  for (int i = 0; i < nb; i++) {
    block *b = order[i];
    int m = 0;
    for (int j = 0; j < i; j++)
      if (order[j]->start <= b->end && b->start <= order[j]->end) near[m++] = order[j];
    place(b, near, m);
    if (b->off + b->size > arena) arena = b->off + b->size;
  }
  return arena;
}

/* blocks[0..nb) packed largest first and in order of birth, the smaller
 * kept (saved: room for nb offsets); the arena size. */
static int64_t pack_best(block *blocks, int nb, block **order, block **near, int64_t *saved) {
  for (int i = 0; i < nb; i++) order[i] = &blocks[i];
  if (nb > 1) qsort(order, (size_t)nb, sizeof *order, by_start);
  int64_t by_birth = pack(order, nb, near);
  for (int i = 0; i < nb; i++) saved[i] = blocks[i].off;
  if (nb > 1) qsort(order, (size_t)nb, sizeof *order, by_size_desc);
  int64_t arena = pack(order, nb, near);
  if (by_birth >= arena) return arena;
  for (int i = 0; i < nb; i++) blocks[i].off = saved[i];
  return by_birth;
}

/* The placed blocks[0..nb) live at step s, into near[]; their count. */
static int live_at(block *blocks, int nb, int s, block **near) {
  int m = 0;
  for (int i = 0; i < nb; i++)
    if (blocks[i].start <= s && s <= blocks[i].end) near[m++] = &blocks[i];
  return m;
}

/* The largest aligned gap below arena between the m blocks near[]. */
static int64_t largest_gap(block **near, int m, int64_t arena) {
  int64_t off = 0, best = 0;
  if (m > 1) qsort(near, (size_t)m, sizeof *near, by_offset);
  for (int j = 0; j < m; j++) {
    if (near[j]->off - off > best) best = near[j]->off - off;
    int64_t end = align_up(near[j]->off + near[j]->size);
    if (end > off) off = end;
  }
  return arena - off > best ? arena - off : best;
}

static int find(int *root, int i) {
  while (root[i] != i) i = root[i] = root[root[i]];
  return i;
}

/* The input whose bytes node n's output may take: input 0 of an alias or
 * elementwise op, else the one its kernel names (op_def.share_input: the
 * fused residual of the GEMM core); -1 for none. */
static int source_input(const ir_node *n) {
  if (n->op->flags & (OP_ALIAS | OP_ELEMENTWISE)) return 0;
  return n->op->share_input ? n->op->share_input(n) : -1;
}

/* Node n at step s may write its output (output 0 of an op with several
 * whose share_input names an input) into the block of input *src. */
static int shares_input(const ir_graph *g, const ir_node *n, int s, int *root, const int *group_end, int *src) {
  int si = n->op ? source_input(n) : -1;
  if (si < 0 || (n->n_out != 1 && !n->op->share_input) || si >= n->n_in || !ir_owns(g, n->in[si]) ||
      !ir_owns(g, n->out[0]))
    return 0;
  const ir_tensor *x = n->in[si], *y = n->out[0];
  *src = si;
  if (!plan_in_arena(x) || !plan_in_arena(y) || ir_nbytes(x) != ir_nbytes(y)) return 0;
  if (n->op->flags & OP_ALIAS) return 1;   /* the same bytes, relabelled */
  if (!ir_same_shape(x, y) || ir_dtype_size(x->dtype) != ir_dtype_size(y->dtype)) return 0;
  int r = find(root, x->id);
  if (group_end[r] != s) return 0;         /* the source's bytes are still needed later */
  for (int k = 0; k < n->n_in; k++)        /* another input on the same bytes (a broadcast view) */
    if (k != si && ir_owns(g, n->in[k]) && plan_in_arena(n->in[k]) && find(root, n->in[k]->id) == r) return 0;
  return 1;
}

int pass_plan(ir_graph *g) { return pass_plan_with(g, 1); }

int pass_plan_with(ir_graph *g, int inplace) { return plan_with_buffers(g, inplace, NULL, NULL); }

void plan_buffers_free(plan_buffer *bufs, int n_bufs) {
  for (int i = 0; bufs && i < n_bufs; i++) free(bufs[i].members);
  free(bufs);
}

int64_t plan_own_scratch(const ir_node *n) {
  int parts = 0;
  int64_t bytes = !n->dead && n->op && n->op->scratch_bytes ? n->op->scratch_bytes(n) : 0;
  if (bytes > 0 && n->op->part_bytes && ir_attr_find(n, PLAN_PARTS_ATTR)) {
    int64_t each = n->op->part_bytes(n, &parts);
    bytes -= parts * each;
  }
  return bytes;
}

/* x bytes rounded up to a multiple of unit. */
static int64_t round_to(int64_t x, int64_t unit) { return (x + unit - 1) / unit * unit; }

/* A node's scratch or the parts area: no tensor's bytes. */
static int is_scratch(const plan_buffer *b) { return b->scratch_of || b->parts; }

int64_t plan_peak_bytes(const plan_buffer *bufs, int n_bufs, int with_scratch) {
  int64_t peak = 0;
  for (int i = 0; i < n_bufs; i++) {   /* the peak is at some buffer's first step */
    int64_t live = 0;
    for (int j = 0; j < n_bufs; j++)
      if ((with_scratch || !is_scratch(&bufs[j])) && bufs[j].first <= bufs[i].first && bufs[i].first <= bufs[j].last)
        live += align_up(bufs[j].size);
    if ((with_scratch || !is_scratch(&bufs[i])) && live > peak) peak = live;
  }
  return peak;
}

/* The report of plan_with_buffers: the blocks as buffers, with their
 * members (tensors in id order, so the group's root, made first, leads). */
static int report(const ir_graph *g, const block *blocks, int nb, int *root, block **group_block,
                  plan_buffer **bufs, int *n_bufs) {
  plan_buffer *r = calloc((size_t)nb + 1, sizeof *r);
  if (!r) return ir_error("memory planner: out of memory");
  for (int i = 0; i < nb; i++) {
    r[i].offset = blocks[i].off;
    r[i].size = blocks[i].size;
    r[i].first = blocks[i].start;
    r[i].last = blocks[i].end;
    r[i].scratch_of = blocks[i].n;
    r[i].parts = blocks[i].parts;
    r[i].members = calloc((size_t)g->n_tensors + 1, sizeof *r[i].members);
    if (!r[i].members) {
      plan_buffers_free(r, i + 1);
      return ir_error("memory planner: out of memory");
    }
  }
  *bufs = r;
  *n_bufs = nb;
  for (int i = 0; i < g->n_tensors; i++) {
    const block *b = plan_in_arena(g->tensors[i]) ? group_block[find(root, i)] : NULL;
    if (b) r[b - blocks].members[r[b - blocks].n_members++] = g->tensors[i];
  }
  return 0;
}

int plan_with_buffers(ir_graph *g, int inplace, plan_buffer **bufs, int *n_bufs) {
  int nt = g->n_tensors, nn = g->n_nodes, rc = -1, nb = 0;
  int *first_write = malloc(sizeof(int) * (size_t)(nt ? nt : 1));
  int *last_read = malloc(sizeof(int) * (size_t)(nt ? nt : 1));
  int *first_read = malloc(sizeof(int) * (size_t)(nt ? nt : 1));
  block *blocks = malloc(sizeof(block) * (size_t)(nt + nn + 1));
  block **order = malloc(sizeof(block *) * (size_t)(nt + nn + 1));
  block **near = malloc(sizeof(block *) * (size_t)(nt + nn + 1));
  int64_t *delta = calloc((size_t)nn + 2, sizeof(int64_t)), *saved = NULL;
  int *root = malloc(sizeof(int) * (size_t)(nt ? nt : 1));
  int *group_end = malloc(sizeof(int) * (size_t)(nt ? nt : 1));
  block **group_block = calloc((size_t)(nt ? nt : 1), sizeof(block *));
  int *rep_parts = calloc((size_t)(nt ? nt : 1), sizeof(int));   /* per sharing group: its replicas, -1 none */
  int *rep_rows = calloc((size_t)(nt ? nt : 1), sizeof(int));    /* ... and whether a node reads it by rows */
  if (!first_write || !last_read || !first_read || !blocks || !order || !near || !delta || !root || !group_end ||
      !group_block || !rep_parts || !rep_rows) {
    ir_error("memory planner: out of memory");
    goto out;
  }

  /* 0. an update value is written into its target (stored_in) only where
   * the schedule allows it; elsewhere it is an arena tensor, copied when
   * the step ends */
  for (int i = 0; i < nt; i++)
    if (g->tensors[i]->stored_in && !ir_stored_in_ok(g, g->tensors[i])) g->tensors[i]->stored_in = NULL;

  /* 1. lifetimes over the schedule */
  for (int i = 0; i < nt; i++) {
    g->tensors[i]->offset = -1;
    first_write[i] = last_read[i] = first_read[i] = -1;
  }
  for (int s = 0; s < nn; s++) {
    ir_node *n = g->nodes[s];
    if (n->dead) continue;
    for (int k = 0; k < n->n_in; k++) {
      ir_tensor *t = n->in[k];
      if (!ir_owns(g, t)) continue;
      if (first_read[t->id] < 0) first_read[t->id] = s;
      last_read[t->id] = s;
    }
    for (int k = 0; k < n->n_attr; k++)
      if (n->attrs[k].type == IR_ATTR_GRAPH && n->attrs[k].g) {
        ir_mark_subgraph_reads(g, n->attrs[k].g, s, last_read);
        /* a subgraph read counts as a first read too, for the order check */
        for (int i = 0; i < nt; i++)
          if (last_read[i] == s && first_read[i] < 0) first_read[i] = s;
      }
    for (int k = 0; k < n->n_out; k++) {
      ir_tensor *t = n->out[k];
      if (!ir_owns(g, t)) continue;
      if (first_write[t->id] >= 0) {
        ir_error("memory planner: tensor '%s' is written by node '%s' and node '%s'", t->name,
                 g->nodes[first_write[t->id]]->name, n->name);
        goto out;
      }
      first_write[t->id] = s;
    }
  }

  /* a training step's update values and loss are read after the last node
   * (step nn): nothing takes their bytes */
  ir_mark_step_end_reads(g, nn, last_read);

  /* 2. views of graph inputs stay in the caller's buffer; sharing groups:
   * aliases and in-place outputs join their input 0's */
  for (int s = 0; s < nn; s++) {
    ir_node *n = g->nodes[s];
    if (ir_attr_find(n, PLAN_INPUT_VIEW_ATTR)) ir_attr_remove(n, PLAN_INPUT_VIEW_ATTR);
    if (inplace && !n->dead && views_input(g, n)) ir_attr_set_int(n, PLAN_INPUT_VIEW_ATTR, 1);
  }
  for (int i = 0; i < nt; i++) {
    root[i] = i;
    group_end[i] = last_read[i] > first_write[i] ? last_read[i] : first_write[i];
  }
  for (int s = 0; s < nn; s++) {
    ir_node *n = g->nodes[s];
    int src;
    if (ir_attr_find(n, PLAN_IN_PLACE_ATTR)) ir_attr_remove(n, PLAN_IN_PLACE_ATTR);
    if (!inplace || n->dead || !shares_input(g, n, s, root, group_end, &src)) continue;
    int r = find(root, n->in[src]->id), y = n->out[0]->id;
    if (first_write[r] < 0 || first_write[y] != s) continue;   /* a graph input's bytes are not the arena's */
    if (!(n->op->flags & (OP_ALIAS | OP_ELEMENTWISE))) ir_attr_set_int(n, PLAN_IN_PLACE_ATTR, src);
    root[y] = r;
    if (group_end[y] > group_end[r]) group_end[r] = group_end[y];
  }

  /* 3. one block per group of arena tensors and per node scratch */
  for (int i = 0; i < nt; i++) {
    ir_tensor *t = g->tensors[i];
    if (!plan_in_arena(t)) continue;
    if (first_write[i] < 0) {
      if (first_read[i] >= 0) {
        ir_error("memory planner: tensor '%s' is read by node '%s' but no node writes it", t->name,
                 g->nodes[first_read[i]]->name);
        goto out;
      }
      continue;  /* unreferenced: no bytes */
    }
    if (first_read[i] >= 0 && first_read[i] <= first_write[i]) {
      ir_error("memory planner: tensor '%s' is read by node '%s' before node '%s' writes it "
               "(nodes not in schedule order)", t->name, g->nodes[first_read[i]]->name,
               g->nodes[first_write[i]]->name);
      goto out;
    }
    int64_t bytes = ir_shape_known(t) ? ir_nbytes(t) : -1;
    if (bytes < 0) {
      char buf[128];
      ir_error("memory planner: tensor '%s' has no static size (shape %s)", t->name,
               ir_shape_str(t, buf, sizeof buf));
      goto out;
    }
    if (find(root, i) != i) continue;   /* a member: placed with its group's root */
    block *b = &blocks[nb];
    b->size = bytes;
    b->start = first_write[i];
    b->end = group_end[i];
    b->seq = nb;
    b->t = t;
    b->n = NULL;
    b->parts = 0;
    b->off = -1;
    group_block[i] = b;
    nb++;
  }

  /* 4. pack the activations, largest first and in order of birth; keep the smaller */
  int nbt = nb;
  saved = malloc(sizeof(int64_t) * (size_t)(nt + nn + 1));
  if (!saved) {
    ir_error("memory planner: out of memory");
    goto out;
  }
  int64_t arena = pack_best(blocks, nbt, order, near, saved), arena_t = arena;

  /* 5. each node's scratch in the largest gap the activations leave at its
   * step under that arena: a kernel that can work in less is told the gap
   * (PLAN_SCRATCH_CAP_ATTR) and sizes its scratch to it.  Not in a training
   * step (g->loss): there its gradients free their bytes early, the gaps are
   * small, and a capped backward convolution fell back from its padded copy
   * to im2col blocks, several times slower, to save a few kilobytes; its
   * scratch gets what it asks for, where it fits */
  int64_t stride = 0;   /* the parts area: n_parts slices of stride bytes */
  int n_parts = 0;
  for (int s = 0; s < nn; s++) {
    ir_node *n = g->nodes[s];
    int64_t bytes = 0;
    if (ir_attr_find(n, PLAN_SCRATCH_CAP_ATTR)) ir_attr_remove(n, PLAN_SCRATCH_CAP_ATTR);
    if (ir_attr_find(n, PLAN_PARTS_ATTR)) ir_attr_remove(n, PLAN_PARTS_ATTR);
    if (ir_attr_find(n, PLAN_PART_STRIDE_ATTR)) ir_attr_remove(n, PLAN_PART_STRIDE_ATTR);
    if (!n->dead && n->op && n->op->scratch_bytes) bytes = n->op->scratch_bytes(n);
    int m = bytes > 0 ? live_at(blocks, nbt, s, near) : 0;
    int64_t gap = bytes > 0 ? largest_gap(near, m, arena) : 0;
    if (bytes > gap && !g->loss) {
      ir_attr_set_int(n, PLAN_SCRATCH_CAP_ATTR, gap);
      bytes = n->op->scratch_bytes(n);
    }
    if (bytes < 0) {
      ir_error("memory planner: node '%s' (%s): scratch size unknown", n->name, n->op_type);
      goto out;
    }
    int np = 0;
    int64_t pb = bytes > 0 && n->op->part_bytes ? n->op->part_bytes(n, &np) : 0;
    if (pb > 0 && np > 1) {   /* the parts' slices go to the parts area */
      ir_attr_set_int(n, PLAN_PARTS_ATTR, 0);   /* its offset is known once everything else is placed */
      bytes -= np * pb;
      if (round_to(pb, PLAN_PAGE) > stride) stride = round_to(pb, PLAN_PAGE);
      if (np > n_parts) n_parts = np;
    }
    if (bytes == 0) {
      if (ir_attr_find(n, PLAN_SCRATCH_ATTR)) ir_attr_remove(n, PLAN_SCRATCH_ATTR);
      continue;
    }
    block *b = &blocks[nb];
    b->size = bytes;
    b->start = b->end = s;
    b->seq = nb;
    b->t = NULL;
    b->n = n;
    b->parts = 0;
    place(b, near, m);
    if (b->off + b->size > arena) arena = b->off + b->size;
    nb++;
  }

  /* 6. where a scratch floor did not fit, packing everything together may do
   * better: keep the smaller */
  if (nb > nbt && arena > arena_t) {
    int64_t *first = malloc(sizeof(int64_t) * (size_t)(nb + 1));
    if (!first) {
      ir_error("memory planner: out of memory");
      goto out;
    }
    for (int i = 0; i < nb; i++) first[i] = blocks[i].off;
    int64_t together = pack_best(blocks, nb, order, near, saved);
    if (together < arena) arena = together;
    else for (int i = 0; i < nb; i++) blocks[i].off = first[i];
    free(first);
  }

  /* 7. the parts area, on whole pages above everything else, live through
   * the run: each part's slice is its own pages (plan.h, PLAN_PARTS_ATTR) */
  if (stride > 0) {
    block *b = &blocks[nb++];
    b->off = round_to(arena, PLAN_PAGE);
    b->size = n_parts * stride;
    b->start = 0;
    b->end = nn > 0 ? nn - 1 : 0;
    b->seq = nb - 1;
    b->t = NULL;
    b->n = NULL;
    b->parts = 1;
    arena = b->off + b->size;
    for (int s = 0; s < nn; s++)
      if (ir_attr_find(g->nodes[s], PLAN_PARTS_ATTR)) {
        ir_attr_set_int(g->nodes[s], PLAN_PARTS_ATTR, b->off);
        ir_attr_set_int(g->nodes[s], PLAN_PART_STRIDE_ATTR, stride);
      }
  }

  /* 8. row replicas (plan.h): the copies of the tensors that parts over rows
   * hand on, one per part past the first, on whole pages past the arena */
  int reps = 0;
  int64_t span = 0;
  for (int i = 0; i < nt; i++) {
    ir_tensor *t = g->tensors[i];
    replica_rows_t rr;
    int r = find(root, i);
    t->replicated = 0;
    if (!plan_in_arena(t) || !group_block[r]) continue;
    int parts = replica_rows(g, t, &rr);
    if (rep_parts[r] == 0) rep_parts[r] = parts > 0 ? parts : -1;
    else if (rep_parts[r] != parts) rep_parts[r] = -1;   /* a tensor in the same bytes can have none */
    if (parts > 0 && rr.row_readers) rep_rows[r] = 1;
  }
  for (int i = 0; i < nt; i++) {
    ir_tensor *t = g->tensors[i];
    int r = find(root, i);
    if (!plan_in_arena(t) || !group_block[r] || rep_parts[r] <= 1 || !rep_rows[r]) continue;   /* nothing to gain */
    t->replicated = 1;
    if (rep_parts[r] > reps) reps = rep_parts[r];
    if (group_block[r]->off + group_block[r]->size > span) span = group_block[r]->off + group_block[r]->size;
  }
  g->replicas = 0;
  g->replica_base = g->replica_stride = 0;
  if (reps > 1) {
    g->replicas = reps;
    g->replica_base = round_to(arena, PLAN_PAGE);
    g->replica_stride = round_to(span, PLAN_PAGE);
    arena = g->replica_base + (reps - 1) * g->replica_stride;
  }

  /* 9. publish offsets, sizes and the lower bound for this schedule */
  for (int i = 0; i < nt; i++)
    if (plan_in_arena(g->tensors[i]) && group_block[find(root, i)])
      g->tensors[i]->offset = group_block[find(root, i)]->off;
  for (int i = 0; i < nb; i++) {
    block *b = &blocks[i];
    if (b->t) b->t->offset = b->off;
    else if (b->n) ir_attr_set_int(b->n, PLAN_SCRATCH_ATTR, b->off);
    delta[b->start] += align_up(b->size);
    delta[b->end + 1] -= align_up(b->size);
  }
  int64_t live = 0, peak = 0;
  for (int s = 0; s <= nn; s++) {
    live += delta[s];
    if (live > peak) peak = live;
  }
  g->arena_bytes = align_up(arena);
  g->arena_lower_bound = peak;
  rc = bufs ? report(g, blocks, nb, root, group_block, bufs, n_bufs) : 0;

out:
  free(first_write);
  free(last_read);
  free(first_read);
  free(blocks);
  free(order);
  free(near);
  free(delta);
  free(saved);
  free(root);
  free(group_end);
  free(group_block);
  free(rep_parts);
  free(rep_rows);
  if (rc == 0 && plan_check(g) < 0) return -1;   /* loud, never a quiet overlap */
  return rc;
}
