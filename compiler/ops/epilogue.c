/*
 * epilogue.c - the fused-epilogue vocabulary (see epilogue.h): names,
 * defaults and the one reader every stage uses.
 */
#include "epilogue.h"
#include "op.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* In op_act order: ONNX op names. */
static const char *const act_names[OP_ACT_COUNT] = {
  "", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish"
};

const char *op_act_name(op_act a) { return a >= 0 && a < OP_ACT_COUNT ? act_names[a] : ""; }

op_act op_act_from_name(const char *name) {
  for (int a = 1; a < OP_ACT_COUNT; a++)
    if (name && strcmp(name, act_names[a]) == 0) return (op_act)a;
  return OP_ACT_NONE;
}

void op_act_defaults(op_act a, double *alpha, double *beta) {
  *alpha = 0.0;
  *beta = 0.0;
  switch (a) {
  case OP_ACT_LEAKY_RELU: *alpha = 0.01; break;
  case OP_ACT_CLIP: *alpha = -INFINITY; *beta = INFINITY; break;
  case OP_ACT_HARD_SIGMOID: *alpha = 0.2; *beta = 0.5; break;
  case OP_ACT_HARD_SWISH: *alpha = 1.0 / 6.0; *beta = 0.5; break;
  default: break;
  }
}

int op_epilogue_attr(const char *name) {
  return !strcmp(name, OP_EPI_ACT) || !strcmp(name, OP_EPI_ALPHA) || !strcmp(name, OP_EPI_BETA) ||
         !strcmp(name, OP_EPI_RESIDUAL);
}

int op_epilogue_present(const ir_node *n) {
  for (int i = 0; i < n->n_attr; i++)
    if (op_epilogue_attr(n->attrs[i].name)) return 1;
  return 0;
}

int op_epilogue_read(const ir_node *n, op_epilogue *ep) {
  const char *name = ir_attr_string(n, OP_EPI_ACT, NULL);
  ep->act = OP_ACT_NONE;
  if (name) {
    ep->act = op_act_from_name(name);
    if (ep->act == OP_ACT_NONE) return op_fail(n, "unknown fused activation " OP_EPI_ACT "='%s'", name);
  }
  op_act_defaults(ep->act, &ep->alpha, &ep->beta);
  if (ir_attr_find(n, OP_EPI_ALPHA)) ep->alpha = ir_attr_float(n, OP_EPI_ALPHA, ep->alpha);
  if (ir_attr_find(n, OP_EPI_BETA)) ep->beta = ir_attr_float(n, OP_EPI_BETA, ep->beta);
  int64_t r = ir_attr_int(n, OP_EPI_RESIDUAL, -1);
  if (ir_attr_find(n, OP_EPI_RESIDUAL) && (r < 0 || r >= n->n_in || !n->in[r]))
    return op_fail(n, "fused residual " OP_EPI_RESIDUAL "=%lld does not name an input", (long long)r);
  ep->residual = (int)r;
  return 0;
}

int op_epilogue_label(const ir_node *n, char *buf, size_t size) {
  op_epilogue ep = {OP_ACT_NONE, 0.0, 0.0, -1};
  const char *folded = ir_attr_string(n, OP_FOLDED, NULL);
  if (op_epilogue_present(n) && op_epilogue_read(n, &ep) < 0) return -1;
  snprintf(buf, size, "%s%s%s%s%s", folded ? " +" : "", folded ? folded : "", ep.residual >= 0 ? " +residual" : "",
           ep.act != OP_ACT_NONE ? " +" : "", op_act_name(ep.act));
  return 0;
}
