/*
 * unroll.c - Loop and Scan with trip counts known at compile time, unrolled
 * into the graph during shape inference (called by pass_infer).
 *
 * require: the node's inputs are inferred (they precede it in the
 *          schedule); a Loop's trip count M is a compile-time constant, or
 *          absent with a condition that becomes false at compile time; every
 *          iteration's condition folds to a constant; bodies hold no nested
 *          subgraphs.
 * guarantee: the node is replaced by one copy of its body per iteration,
 *          each inferred and constant-folded on its own (so the next
 *          iteration sees static shapes), followed by the nodes that make
 *          the node's outputs: Identity for loop-carried values, Unsqueeze +
 *          Concat for scan outputs.  Those last nodes are left uninferred
 *          at the returned position, for pass_infer's sweep to take over.
 *
 * A body copy binds the body's inputs to tensors of the enclosing graph
 * (iteration number and condition as constants, carried values, the
 * iteration's slice of each scan input, made with Gather); tensors the body
 * reads from outer scopes stay shared; its constants are copied.  Each copy
 * is built in a scratch graph whose parent is the enclosing graph, inferred
 * there, then spliced (pass_splice).
 */
#include "passes.h"
#include "../ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITERS 4096      /* an unbounded Loop must stop by then */

static ir_tensor *const_i64(ir_graph *g, const char *base, int rank, const int64_t *vals, int64_t cnt) {
  ir_tensor *t = ir_add_tensor_unique(g, base, IR_I64, IR_CONST);
  int64_t dims[1] = {cnt};
  ir_set_shape(t, rank, dims);
  ir_tensor_set_data(t, vals, sizeof(int64_t) * (size_t)cnt);
  return t;
}

/* A fresh node of g with the given io, bound to the op table. */
static ir_node *add(ir_graph *g, const char *op, const char *name, int opset, int n_in, ir_tensor **in, ir_tensor *out) {
  ir_node *n = ir_add_node(g, op, name);
  n->opset = opset;
  ir_node_set_io(n, n_in, in, 1, &out);
  return op_validate(n) < 0 ? NULL : n;
}

/* The tensor of `it` standing for body tensor t (created on first use). */
static ir_tensor *mapped(ir_graph *body, ir_graph *it, ir_tensor **map, ir_tensor *t) {
  if (!t || !ir_owns(body, t)) return t;   /* missing, or read from an outer scope */
  if (!map[t->id]) {
    ir_tensor *c = ir_add_tensor_unique(it, t->name, t->dtype, t->data ? IR_CONST : IR_ACTIVATION);
    if (t->data) {
      ir_set_shape(c, t->rank, t->shape);
      ir_tensor_set_data(c, t->data, (size_t)ir_nbytes(t));
    }
    map[t->id] = c;
  }
  return map[t->id];
}

/* Copy body's nodes into `it` with its inputs bound to bind[]; the copies of
 * its outputs go to outs[] and become outputs of `it` (kept by compaction). */
static int clone_body(const ir_node *loop, ir_graph *body, ir_graph *it, ir_tensor **bind, ir_tensor **outs) {
  ir_tensor **map = ir_alloc(sizeof(ir_tensor *) * (size_t)(body->n_tensors + 1));
  int rc = 0;
  for (int i = 0; i < body->n_inputs; i++) map[body->inputs[i]->id] = bind[i];
  for (int s = 0; s < body->n_nodes && rc == 0; s++) {
    const ir_node *b = body->nodes[s];
    ir_node *n = ir_add_node(it, b->op_type, b->name);
    free(n->domain);
    n->domain = ir_strdup(b->domain);
    n->opset = b->opset;
    n->op = b->op;
    for (int a = 0; a < b->n_attr && rc == 0; a++) {
      if (b->attrs[a].type == IR_ATTR_GRAPH) {
        rc = op_fail(loop, "body node '%s' (%s) holds a subgraph: nested control flow is not supported",
                     b->name, b->op_type);
        break;
      }
      ir_attr_copy(ir_attr_add(n, b->attrs[a].name, b->attrs[a].type), &b->attrs[a]);
    }
    ir_tensor **in = ir_alloc(sizeof(ir_tensor *) * (size_t)(b->n_in + 1));
    ir_tensor **out = ir_alloc(sizeof(ir_tensor *) * (size_t)(b->n_out + 1));
    for (int i = 0; i < b->n_in; i++) in[i] = mapped(body, it, map, b->in[i]);
    for (int j = 0; j < b->n_out; j++) out[j] = mapped(body, it, map, b->out[j]);
    ir_node_set_io(n, b->n_in, in, b->n_out, out);
    free(in);
    free(out);
  }
  for (int j = 0; j < body->n_outputs && rc == 0; j++) {
    outs[j] = mapped(body, it, map, body->outputs[j]);
    if (ir_owns(it, outs[j]) && !outs[j]->is_output) ir_graph_add_output(it, outs[j]);
  }
  free(map);
  return rc;
}

/* Infer `it` and splice it into g at *pos (advanced past it). */
static int stage(ir_graph *g, int *pos, ir_graph *it, const pass_options *o) {
  int rc = pass_infer(it, o);
  if (rc == 0) *pos += pass_splice(g, *pos, it);
  ir_graph_free(it);
  return rc;
}

/* out = Concat over parts[0..n) of Unsqueeze(part, axis), along axis; into fin. */
static int stack(ir_graph *fin, const ir_node *n, ir_tensor **parts, int cnt, int64_t axis, ir_tensor *out) {
  if (cnt == 0) return op_fail(n, "runs no iteration, so its scan output '%s' has no shape", out->name);
  int rank = parts[0]->rank;   /* -1 for parts not inferred yet (opset 8's batch stacking, axis 0) */
  if (axis < 0 && rank >= 0) axis += rank + 1;
  if (axis < 0 || (rank >= 0 && axis > rank)) return op_fail(n, "scan output axis %lld is out of range", (long long)axis);
  ir_tensor *ax = const_i64(fin, "axes", 1, &axis, 1);
  ir_tensor **un = ir_alloc(sizeof(ir_tensor *) * (size_t)cnt);
  char name[300];
  for (int i = 0; i < cnt; i++) {
    ir_tensor *in[2] = {parts[i], ax};
    un[i] = ir_add_tensor_unique(fin, out->name, IR_UNDEF, IR_ACTIVATION);
    snprintf(name, sizeof name, "%s_unsqueeze%d", n->name, i);
    if (!add(fin, "Unsqueeze", name, 13, 2, in, un[i])) {
      free(un);
      return -1;
    }
  }
  snprintf(name, sizeof name, "%s_concat", n->name);
  ir_node *c = add(fin, "Concat", name, 13, cnt, un, out);
  free(un);
  if (!c) return -1;
  ir_attr_set_int(c, "axis", axis);
  return 0;
}

static int identity(ir_graph *fin, const ir_node *n, ir_tensor *src, ir_tensor *out, int j) {
  char name[300];
  snprintf(name, sizeof name, "%s_out%d", n->name, j);
  return add(fin, "Identity", name, 13, 1, &src, out) ? 0 : -1;
}

/* The graph the final nodes go to: spliced uninferred, pass_infer infers them. */
static int finish(ir_graph *g, ir_node *n, int pos, ir_graph *fin) {
  int first = pos;
  pass_splice(g, pos, fin);
  ir_graph_free(fin);
  n->dead = 1;
  return first;
}

int pass_unroll_loop(ir_graph *g, int k, const pass_options *o) {
  ir_node *n = g->nodes[k];
  ir_graph *body = ir_attr_find(n, "body")->g;
  int nc = n->n_in - 2, nscan = body->n_outputs - 1 - nc;   /* carried values, scan outputs */
  if (nc < 0 || body->n_inputs != nc + 2 || nscan < 0 || n->n_out != nc + nscan)
    return op_fail(n, "body has %d inputs and %d outputs for %d carried values", body->n_inputs, body->n_outputs, nc);
  int64_t trip = MAX_ITERS;
  int bounded = 0;
  if (n->in[0]) {
    if (!n->in[0]->data)
      return op_fail(n, "trip count '%s' must be a compile-time constant (use --const)", n->in[0]->name);
    trip = ir_const_i64(n->in[0], 0);
    bounded = 1;
  }
  if (n->in[1] && !n->in[1]->data)
    return op_fail(n, "condition '%s' must be a compile-time constant (use --const)", n->in[1]->name);
  int go = n->in[1] ? ir_const_f64(n->in[1], 0) != 0 : 1;
  ir_tensor **carried = ir_alloc(sizeof(ir_tensor *) * (size_t)(nc + 1));
  int cap = nscan * 16 + 1, iters = 0, rc = 0, pos = k;
  ir_tensor **scans = ir_alloc(sizeof(ir_tensor *) * (size_t)cap);
  ir_tensor **bind = ir_alloc(sizeof(ir_tensor *) * (size_t)(nc + 2));
  ir_tensor **outs = ir_alloc(sizeof(ir_tensor *) * (size_t)(body->n_outputs + 1));
  for (int j = 0; j < nc; j++) carried[j] = n->in[2 + j];
  for (int64_t i = 0; i < trip && go && rc == 0; i++, iters++) {
    if (!bounded && i + 1 >= MAX_ITERS) {
      rc = op_fail(n, "the loop does not stop within %d iterations at compile time", MAX_ITERS);
      break;
    }
    ir_graph *it = ir_graph_new("loop_iteration", g);
    unsigned char yes = 1;
    ir_tensor *cond = ir_add_tensor_unique(it, "cond", IR_BOOL, IR_CONST);
    ir_set_shape(cond, 0, NULL);
    ir_tensor_set_data(cond, &yes, 1);
    bind[0] = const_i64(it, "iteration", 0, &i, 1);
    bind[1] = cond;
    for (int j = 0; j < nc; j++) bind[2 + j] = carried[j];
    rc = clone_body(n, body, it, bind, outs);
    if (rc == 0) rc = stage(g, &pos, it, o);
    else ir_graph_free(it);
    if (rc) break;
    if (!outs[0]->data) {
      rc = op_fail(n, "the loop condition '%s' is computed at run time; only loops whose condition folds at "
                   "compile time are supported", outs[0]->name);
      break;
    }
    go = ir_const_f64(outs[0], 0) != 0;
    for (int j = 0; j < nc; j++) carried[j] = outs[1 + j];
    while ((iters + 1) * nscan >= cap) {
      cap *= 2;
      scans = ir_realloc(scans, sizeof(ir_tensor *) * (size_t)cap);
    }
    for (int j = 0; j < nscan; j++) scans[iters * nscan + j] = outs[1 + nc + j];
  }
  ir_graph *fin = ir_graph_new("loop_outputs", g);
  for (int j = 0; j < n->n_out && rc == 0; j++) {
    if (!n->out[j]) continue;
    if (j < nc) {
      rc = identity(fin, n, carried[j], n->out[j], j);
    } else {
      ir_tensor **parts = ir_alloc(sizeof(ir_tensor *) * (size_t)(iters + 1));
      for (int i = 0; i < iters; i++) parts[i] = scans[i * nscan + (j - nc)];
      rc = stack(fin, n, parts, iters, 0, n->out[j]);
      free(parts);
    }
  }
  free(carried);
  free(scans);
  free(bind);
  free(outs);
  if (rc) {
    ir_graph_free(fin);
    return -1;
  }
  return finish(g, n, pos, fin);
}

/* Opset 9+ Scan over states[0..ns) and scan inputs xs[0..nx); results into
 * fin-made nodes writing outs (states then scan outputs). */
static int scan_core(ir_graph *g, int *pos, const ir_node *n, ir_graph *body, ir_tensor **states, int ns,
                     ir_tensor **xs, int nx, ir_graph *fin, ir_tensor **finals, ir_tensor **scan_out,
                     const pass_options *o) {
  const int64_t *in_axes = NULL, *in_dirs = NULL, *out_axes = NULL, *out_dirs = NULL;
  int n_ia = ir_attr_ints(n, "scan_input_axes", &in_axes), n_id = ir_attr_ints(n, "scan_input_directions", &in_dirs);
  int n_oa = ir_attr_ints(n, "scan_output_axes", &out_axes), n_od = ir_attr_ints(n, "scan_output_directions", &out_dirs);
  int nso = body->n_outputs - ns, rc = 0;
  if (body->n_inputs != ns + nx || nso < 0) return op_fail(n, "body inputs/outputs do not match the Scan's");
  int64_t T = -1;
  int axis[IR_MAX_RANK * 4];
  if (nx > IR_MAX_RANK * 4) return op_fail(n, "too many scan inputs");
  for (int j = 0; j < nx; j++) {
    int64_t a = j < n_ia ? in_axes[j] : 0;
    if (op_axis(n, a, xs[j]->rank, &axis[j]) < 0) return -1;
    if (T >= 0 && xs[j]->shape[axis[j]] != T) return op_fail(n, "scan inputs have different lengths");
    T = xs[j]->shape[axis[j]];
  }
  if (T < 0) return op_fail(n, "has no scan input");
  ir_tensor **cur = ir_alloc(sizeof(ir_tensor *) * (size_t)(ns + 1));
  ir_tensor **bind = ir_alloc(sizeof(ir_tensor *) * (size_t)(ns + nx + 1));
  ir_tensor **outs = ir_alloc(sizeof(ir_tensor *) * (size_t)(body->n_outputs + 1));
  ir_tensor **per = ir_alloc(sizeof(ir_tensor *) * (size_t)(nso * T + 1));
  for (int j = 0; j < ns; j++) cur[j] = states[j];
  for (int64_t i = 0; i < T && rc == 0; i++) {
    ir_graph *it = ir_graph_new("scan_iteration", g);
    for (int j = 0; j < ns; j++) bind[j] = cur[j];
    for (int j = 0; j < nx && rc == 0; j++) {
      int64_t idx = j < n_id && in_dirs[j] ? T - 1 - i : i;
      ir_tensor *in[2] = {xs[j], const_i64(it, "index", 0, &idx, 1)};
      char name[300];
      snprintf(name, sizeof name, "%s_slice%d_%lld", n->name, j, (long long)i);
      bind[ns + j] = ir_add_tensor_unique(it, xs[j]->name, IR_UNDEF, IR_ACTIVATION);
      ir_node *gn = add(it, "Gather", name, 13, 2, in, bind[ns + j]);
      if (!gn) rc = -1;
      else ir_attr_set_int(gn, "axis", axis[j]);
    }
    if (rc == 0) rc = clone_body(n, body, it, bind, outs);
    if (rc == 0) rc = stage(g, pos, it, o);
    else ir_graph_free(it);
    for (int j = 0; j < ns && rc == 0; j++) cur[j] = outs[j];
    for (int j = 0; j < nso && rc == 0; j++) per[j * T + i] = outs[ns + j];
  }
  for (int j = 0; j < ns && rc == 0; j++) finals[j] = cur[j];
  for (int j = 0; j < nso && rc == 0; j++) {
    ir_tensor **parts = per + j * T;
    if (!scan_out[j]) continue;   /* an output the node leaves out */
    if (j < n_od && out_dirs[j])   /* reverse: the last iteration's value first */
      for (int64_t a = 0, b = T - 1; a < b; a++, b--) {
        ir_tensor *t = parts[a];
        parts[a] = parts[b];
        parts[b] = t;
      }
    rc = stack(fin, n, parts, (int)T, j < n_oa ? out_axes[j] : 0, scan_out[j]);
  }
  free(cur);
  free(bind);
  free(outs);
  free(per);
  return rc;
}

int pass_unroll_scan(ir_graph *g, int k, const pass_options *o) {
  ir_node *n = g->nodes[k];
  ir_graph *body = ir_attr_find(n, "body")->g;
  int nx = (int)ir_attr_int(n, "num_scan_inputs", 0), pos = k, rc = 0;
  if (n->n_out > body->n_outputs) return op_fail(n, "has %d outputs, its body only %d", n->n_out, body->n_outputs);
  /* One entry per body output: trailing outputs the node leaves out are NULL. */
  ir_tensor **outv = ir_alloc(sizeof(ir_tensor *) * (size_t)(body->n_outputs + 1));
  for (int j = 0; j < n->n_out; j++) outv[j] = n->out[j];
  ir_graph *fin = ir_graph_new("scan_outputs", g);
  if (n->opset >= 9) {
    int ns = n->n_in - nx;
    if (nx <= 0 || ns < 0) {
      ir_graph_free(fin);
      return op_fail(n, "num_scan_inputs=%d does not fit %d inputs", nx, n->n_in);
    }
    ir_tensor **fins = ir_alloc(sizeof(ir_tensor *) * (size_t)(ns + 1));
    rc = scan_core(g, &pos, n, body, n->in, ns, n->in + ns, nx, fin, fins, outv + ns, o);
    for (int j = 0; j < ns && rc == 0; j++)
      if (outv[j]) rc = identity(fin, n, fins[j], outv[j], j);
    free(fins);
  } else {
    /* opset 8: a batch axis 0 in front of everything, scan axis 1, optional
     * sequence_lens first: one opset-9 scan per batch entry, stacked */
    int ns = n->n_in - 1 - nx;
    const int64_t *dirs;
    int nd = ir_attr_ints(n, "directions", &dirs);
    for (int j = 0; j < nd; j++)
      if (dirs[j]) rc = op_fail(n, "reverse directions of an opset-8 Scan are not supported");
    if (rc) {
    } else if (n->in[0]) rc = op_fail(n, "sequence_lens is not supported (a compile-time length per batch entry)");
    else if (nx <= 0 || ns < 0 || ns + nx == 0) rc = op_fail(n, "num_scan_inputs=%d does not fit %d inputs", nx, n->n_in);
    if (!rc && !n->in[1]) rc = op_fail(n, "scan input 1 is missing");
    int64_t Bn = rc ? 0 : n->in[1]->shape[0];
    int nso = body->n_outputs - ns;
    ir_tensor **per = ir_alloc(sizeof(ir_tensor *) * (size_t)((ns + nso) * (Bn + 1) + 1));
    ir_tensor **sl = ir_alloc(sizeof(ir_tensor *) * (size_t)(ns + nx + 1));
    for (int64_t b = 0; b < Bn && rc == 0; b++) {
      ir_graph *pre = ir_graph_new("scan_batch", g);
      for (int j = 0; j < ns + nx && rc == 0; j++) {
        ir_tensor *in[2] = {n->in[1 + j], const_i64(pre, "batch", 0, &b, 1)};
        char name[300];
        snprintf(name, sizeof name, "%s_batch%lld_%d", n->name, (long long)b, j);
        sl[j] = ir_add_tensor_unique(pre, n->in[1 + j]->name, IR_UNDEF, IR_ACTIVATION);
        ir_node *gn = add(pre, "Gather", name, 13, 2, in, sl[j]);
        if (!gn) rc = -1;
        else ir_attr_set_int(gn, "axis", 0);
      }
      for (int j = 0; j < ns + nx && rc == 0; j++)
        if (!sl[j]->is_output) ir_graph_add_output(pre, sl[j]);
      if (rc == 0) rc = stage(g, &pos, pre, o);
      else ir_graph_free(pre);
      if (rc) break;
      ir_tensor **fins = per + b * (ns + nso), **souts = fins + ns;
      for (int j = 0; j < nso; j++) souts[j] = ir_add_tensor_unique(fin, "scan_out", IR_UNDEF, IR_ACTIVATION);
      rc = scan_core(g, &pos, n, body, sl, ns, sl + ns, nx, fin, fins, souts, o);
    }
    ir_tensor **parts = ir_alloc(sizeof(ir_tensor *) * (size_t)(Bn + 1));
    for (int j = 0; j < ns + nso && rc == 0; j++) {
      if (!outv[j]) continue;
      for (int64_t b = 0; b < Bn; b++) parts[b] = per[b * (ns + nso) + j];
      rc = stack(fin, n, parts, (int)Bn, 0, outv[j]);
    }
    free(parts);
    free(per);
    free(sl);
  }
  free(outv);
  if (rc) {
    ir_graph_free(fin);
    return -1;
  }
  return finish(g, n, pos, fin);
}
