/*
 * epilogue.h - the fused-epilogue vocabulary, beside the op table: the one
 * place that names the attributes a fused node carries, the activations an
 * epilogue may apply and their ONNX defaults.
 *
 * A node whose entry has OP_EPILOGUE may carry
 *     "_act"       string  an activation below, by its ONNX op name (absent: none)
 *     "_act_alpha" float   LeakyRelu alpha, Clip min, HardSigmoid/HardSwish alpha
 *     "_act_beta"  float   Clip max, HardSigmoid/HardSwish beta
 *     "_residual"  int     index of the node input added before the activation
 * and then computes y = act(v + residual[i]) for each value v it would have
 * stored.  A kernel may store partial values in y before that (the plain
 * loops of a GEMM do; the GEMM core adds the residual in its first K block,
 * the depthwise kernel after the sums), so y shares the residual's bytes
 * only where op_def.share_input says so.  op_validate refuses these attributes on any other op, so a wrong
 * fusion fails loudly instead of being ignored.  The interpreter
 * (runtime/kernels/kutil.c) and the backend (compiler/backend/kernels.c)
 * read an epilogue through op_epilogue_read and each apply it with its own
 * code.
 */
#ifndef MODELC_EPILOGUE_H
#define MODELC_EPILOGUE_H

#include "../ir/ir.h"

#define OP_EPI_ACT "_act"
#define OP_EPI_ALPHA "_act_alpha"
#define OP_EPI_BETA "_act_beta"
#define OP_EPI_RESIDUAL "_residual"
/* A record for people, read by no kernel: the op a pass folded into this
 * node's weights (BatchNormalization, by bnfold), which op_epilogue_label
 * names.  Like every '_' attribute it is never written to ONNX. */
#define OP_FOLDED "_folded"

typedef enum op_act {
  OP_ACT_NONE = 0, OP_ACT_RELU, OP_ACT_LEAKY_RELU, OP_ACT_CLIP, OP_ACT_SIGMOID, OP_ACT_TANH,
  OP_ACT_HARD_SIGMOID, OP_ACT_HARD_SWISH,
  OP_ACT_COUNT
} op_act;

typedef struct op_epilogue {
  op_act act;
  double alpha, beta;     /* the defaults of act unless the node gives them */
  int residual;           /* input index, -1 for none */
} op_epilogue;

/* The ONNX op name of a ("" for OP_ACT_NONE). */
const char *op_act_name(op_act a);
/* The activation an ONNX op name stands for; OP_ACT_NONE when none does. */
op_act op_act_from_name(const char *name);
/* ONNX's default alpha and beta of a (0 where it has none). */
void op_act_defaults(op_act a, double *alpha, double *beta);
/* Whether name is one of the epilogue's attribute names. */
int op_epilogue_attr(const char *name);
/* Read and check n's epilogue: a known activation, a residual that names a
 * present input.  -1 via op_fail otherwise. */
int op_epilogue_read(const ir_node *n, op_epilogue *ep);
/* What was fused into n, for people: " +OP" for an op folded into its
 * weights (OP_FOLDED), then " +residual" and " +ACT" (ONNX names) in the
 * order they apply, "" when none; -1 via op_fail on an
 * epilogue op_epilogue_read refuses. */
int op_epilogue_label(const ir_node *n, char *buf, size_t size);
/* Whether n carries any epilogue attribute. */
int op_epilogue_present(const ir_node *n);

#endif
