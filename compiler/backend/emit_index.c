/*
 * emit_index.c - C emitters of the index group.
 *
 * Each emitter reads its node's shapes and attributes into a kl_index.h
 * descriptor; the scatters first copy the data input into the output
 * through kl_copy.h (one memcpy), then scatter into it.  Runtime indices
 * are not range-checked by the emitted code (a node function cannot
 * fail): kl_index.h writes the precondition above each loop, and indices
 * known at compile time were checked by the op's infer.
 */
#include "emit_index.h"

#include <string.h>

#include "kl_copy.h"
#include "kl_index.h"
#include "../ops/op.h"

static int red_of(const ir_node *n, kl_red *r)
{
  const char *s = ir_attr_string(n, "reduction", "none");
  if (strcmp(s, "none") == 0) *r = KL_RED_NONE;
  else if (strcmp(s, "add") == 0) *r = KL_RED_ADD;
  else if (strcmp(s, "mul") == 0) *r = KL_RED_MUL;
  else if (strcmp(s, "max") == 0) *r = KL_RED_MAX;
  else if (strcmp(s, "min") == 0) *r = KL_RED_MIN;
  else return op_fail(n, "reduction '%s' is not supported", s);
  return 0;
}

/* out = data, one contiguous copy. */
static int copy_data(emit_ctx *e, const ir_node *n)
{
  kl_copy c;
  kl_copy_init(&c, emit_out(e, 0), emit_in(e, 0), n->in[0]->dtype);
  if (kl_copy_axis(&c, ir_numel(n->in[0]), 1, 1, NULL)) return -1;
  return kl_copy_emit(e, &c);
}

/* Data, indices (and updates) of a gather or scatter; a scatter first
 * copies the data into its output. */
static int gather_io(emit_ctx *e, const ir_node *n, int scatter, kl_gather_io *io)
{
  if (scatter && (red_of(n, &io->red) || copy_data(e, n))) return -1;
  io->dst = emit_out(e, 0);
  io->src = emit_in(e, scatter ? 2 : 0);
  io->idx = emit_in(e, 1);
  io->dtype = n->in[0]->dtype;
  io->idx_dtype = n->in[1]->dtype;
  io->scatter = scatter;
  return 0;
}

static int elements(emit_ctx *e, const ir_node *n, int scatter)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  kl_elements k;
  memset(&k, 0, sizeof k);
  if (op_axis(n, ir_attr_int(n, "axis", 0), x->rank, &k.axis)) return -1;
  if (gather_io(e, n, scatter, &k.io)) return -1;
  k.rank = x->rank;
  memcpy(k.data_dims, x->shape, sizeof k.data_dims);
  memcpy(k.idx_dims, ix->shape, sizeof k.idx_dims);
  return kl_elements_emit(e, &k);
}

int emit_index_gather_elements(emit_ctx *e, const ir_node *n) { return elements(e, n, 0); }
int emit_index_scatter_elements(emit_ctx *e, const ir_node *n) { return elements(e, n, 1); }

static int nd(emit_ctx *e, const ir_node *n, int scatter)
{
  const ir_tensor *x = n->in[0], *ix = n->in[1];
  int b = scatter ? 0 : (int)ir_attr_int(n, "batch_dims", 0), j;
  kl_nd k;
  memset(&k, 0, sizeof k);
  if (gather_io(e, n, scatter, &k.io)) return -1;
  k.k = ix->shape[ix->rank - 1];
  k.batches = k.tuples = k.slice = k.block = 1;
  for (j = 0; j < b; j++) k.batches *= x->shape[j];
  for (j = b; j < ix->rank - 1; j++) k.tuples *= ix->shape[j];
  for (j = b + (int)k.k; j < x->rank; j++) k.slice *= x->shape[j];
  for (j = b; j < x->rank; j++) k.block *= x->shape[j];
  for (j = 0; j < (int)k.k; j++) k.dims[j] = x->shape[b + j];
  return kl_nd_emit(e, &k);
}

int emit_index_gather_nd(emit_ctx *e, const ir_node *n) { return nd(e, n, 0); }
int emit_index_scatter_nd(emit_ctx *e, const ir_node *n) { return nd(e, n, 1); }

/* The loss's shape, target, weight and attributes; x (the scores, or for
 * the gradient the scores its dL goes with) is input xi. */
static void nll_desc(emit_ctx *e, const ir_node *n, int xi, kl_nll *k) {
  const ir_tensor *x = n->in[xi];
  const char *red = ir_attr_string(n, "reduction", "mean");
  int a;
  memset(k, 0, sizeof *k);
  k->dst = emit_out(e, 0);
  k->target = emit_in(e, xi + 1);
  k->weight = n->n_in > xi + 2 && n->in[xi + 2] ? emit_in(e, xi + 2) : NULL;
  k->dtype = x->dtype;
  k->target_dtype = n->in[xi + 1]->dtype;
  k->n = x->shape[0];
  k->c = x->shape[1];
  k->d = 1;
  for (a = 2; a < x->rank; a++) k->d *= x->shape[a];
  k->has_ii = ir_attr_find(n, "ignore_index") != NULL;
  k->ii = ir_attr_int(n, "ignore_index", 0);
  k->reduction = strcmp(red, "none") == 0 ? 0 : strcmp(red, "sum") == 0 ? 1 : 2;
}

static int loss(emit_ctx *e, const ir_node *n, int softmax) {
  kl_nll k;
  nll_desc(e, n, 0, &k);
  k.logp = softmax && n->n_out > 1 && n->out[1] ? emit_out(e, 1) : NULL;
  k.x = emit_in(e, 0);
  k.softmax = softmax;
  return kl_nll_emit(e, &k);
}

int emit_index_nll_loss(emit_ctx *e, const ir_node *n) { return loss(e, n, 0); }
int emit_index_sce_loss(emit_ctx *e, const ir_node *n) { return loss(e, n, 1); }

/* NegativeLogLikelihoodLossGrad(dL, X, target[, weight]) -> dX. */
int emit_index_nll_loss_grad(emit_ctx *e, const ir_node *n) {
  kl_nll k;
  nll_desc(e, n, 1, &k);
  k.x = emit_in(e, 0);   /* dL */
  return kl_nll_grad_emit(e, &k);
}
