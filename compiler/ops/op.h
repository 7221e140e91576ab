/*
 * op.h - the op table: one entry per operator, and everything a stage needs
 * to know about an op goes through its entry.
 *
 * An entry knows how to
 *   - validate and normalize its node's attributes (defaults made explicit,
 *     auto_pad resolved to pads, ...), so later stages read plain attributes;
 *   - infer output dtypes and shapes (it may read the data of constant
 *     inputs: a Reshape's shape, a Slice's starts);
 *   - run in the reference interpreter (runtime/kernels/, plain kernels);
 *   - emit C through the backend's kernel layer (compiler/backend/);
 *   - build its gradient as ordinary IR (filled in by the training work).
 * No stage switches on op names: adding an op means adding one entry.
 *
 * Inputs are in the normalized (newest opset) form: attributes that later
 * opsets turned into inputs (Reshape shape, Squeeze/Unsqueeze/Reduce axes,
 * Clip min/max, Split sizes, Slice starts/ends/axes/steps, Pad pads/value)
 * arrive as inputs; the ONNX frontend converts older models.  Semantics that
 * changed between opsets without such a move (Softmax's axis meaning) are
 * handled by the entry from node->opset.
 */
#ifndef MODELC_OP_H
#define MODELC_OP_H

#include "../ir/ir.h"

struct interp_ctx;   /* runtime/interp.h */
struct emit_ctx;     /* compiler/backend/emit.h */
struct grad_ctx;     /* the autodiff pass */
struct pass_options; /* compiler/passes/passes.h */
struct op_part_rows;  /* below */

/* One attribute an op accepts.  Attributes a node carries that are not in
 * its op's list are refused by op_validate() with the node, op and name. */
typedef struct op_attr_spec {
  const char *name;
  ir_attr_type type;
} op_attr_spec;

enum {
  OP_ELEMENTWISE = 1u << 0,   /* out[i] depends on in[i] only (after broadcast) */
  OP_ALIAS = 1u << 1,         /* output is a relabelled view of input 0 (Reshape, Flatten, Squeeze, Identity...) */
  OP_NO_FOLD = 1u << 2,       /* never constant-fold (random ops, ...) */
  OP_SHAPE_ONLY = 1u << 3,    /* outputs depend on the input shapes alone (Shape, Size): fold always */
  OP_EPILOGUE = 1u << 4,      /* may carry a fused epilogue (epilogue.h); other ops refuse one */
  OP_OPTIONAL_OUTPUTS = 1u << 5  /* outputs past min_out may be missing (NULL) and the kernels skip them:
                                    prune.c drops those nothing reads (an RNN's Y when only Y_h is used) */
};

typedef struct op_def {
  const char *name;           /* ONNX op_type */
  const char *domain;         /* "" for ai.onnx */
  int min_in, max_in;         /* max_in -1: variadic */
  int min_out, max_out;
  const op_attr_spec *attrs;  /* terminated by {NULL, 0} */
  unsigned flags;

  /* Check attribute values and make defaults explicit.  Runs once, before
   * shape inference, when only input dtypes/ranks may be known.  May be NULL. */
  int (*validate)(ir_node *n);
  /* Set every output's dtype and shape from the inputs (their shapes are
   * known when this runs).  Returns -1 via ir_error() naming node and op. */
  int (*infer)(ir_graph *g, ir_node *n);
  /* Reference kernel: in[i] is NULL for a missing optional input. */
  int (*interp)(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out);
  /* Write the node's C through the kernel layer. */
  int (*emit)(struct emit_ctx *e, const ir_node *n);
  /* Arena scratch the emitted kernel needs, in bytes (NULL: none). */
  int64_t (*scratch_bytes)(const ir_node *n);
  /* Append the node's backward as IR (NULL until the training work). */
  int (*grad)(struct grad_ctx *gc, const ir_node *n);
  /* Multiply-accumulates of one run, for `modelc info` (NULL: none to speak of). */
  int64_t (*macs)(const ir_node *n);
  /* Nodes that rewrite the graph instead of being computed (control flow,
   * Gradient): called by shape inference when it reaches node k, before
   * infer.  Returns 1 after a rewrite, with *next the schedule position
   * inference goes on from; 0 when the node is to be inferred as it is;
   * -1 on error.  NULL: never. */
  int (*expand)(ir_graph *g, int k, const struct pass_options *o, int *next);
  /* The input whose bytes the output (output 0 of several) may take when
   * that input dies at this node (the memory planner, plan.c): the emitted
   * kernel reads each of its values before it stores the output's value at
   * the same place.  -1: none.
   * NULL: none, except that alias and elementwise ops share input 0. */
  int (*share_input)(const ir_node *n);
  /* The scratch of the node's parallel parts (compile --threads): the bytes
   * of each part's own slice, *parts the number of slices; 0 (or NULL):
   * none.  The slices are counted in scratch_bytes; the planner takes them
   * out of the node's scratch into its parts area (PLAN_PARTS_ATTR), where
   * part p finds the same page-aligned slice at every node. */
  int64_t (*part_bytes)(const ir_node *n, int *parts);
  /* The output rows of the node's parallel parts (compile --threads), when
   * each part writes whole rows of output 0, a [1][C][H][W] tensor: 1 with
   * *r filled (op_part_rows), else 0 (or NULL).  The planner gives a
   * tensor that such nodes alone write and read one copy per part (plan.h,
   * row replicas). */
  int (*part_rows)(const ir_node *n, struct op_part_rows *r);
} op_def;

/* What op_def.part_rows tells: part p (of `parts`) writes rows
 * [out[p][0], out[p][1]) of output 0 and reads rows [in[i][p][0],
 * in[i][p][1]) of input i (i < OP_ROWS_IN), a [1][C][H][W] tensor read row
 * by row; in[i][p][0] == -1 when it reads input i otherwise (whole, or not
 * by rows).  The parts' output rows are ascending and cover every row. */
#define OP_PARTS_MAX 8
#define OP_ROWS_IN 4
typedef struct op_part_rows {
  int parts;
  int64_t out[OP_PARTS_MAX][2];
  int64_t in[OP_ROWS_IN][OP_PARTS_MAX][2];
} op_part_rows;

/* Entry for op_type in domain ("" and "ai.onnx" are the same); NULL if none. */
const op_def *op_find(const char *domain, const char *op_type);
/* Every entry, for `modelc info --ops` and the README's list. */
int op_count(void);
const op_def *op_at(int i);

/* Bind n->op and check arity and attribute names/types against the entry,
 * then call its validate.  Errors name the node, the op and what is wrong. */
int op_validate(ir_node *n);

/* Helpers for entries ------------------------------------------------------ */
/* "node 'conv1' (Conv): " prefix for messages. */
int op_fail(const ir_node *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Numpy-style broadcast of a and b into out (rank, dims); -1 via op_fail. */
int op_broadcast(const ir_node *n, int ra, const int64_t *a, int rb, const int64_t *b,
                 int *rout, int64_t *out);
/* Normalize a possibly negative axis against rank; -1 via op_fail when out of range. */
int op_axis(const ir_node *n, int64_t axis, int rank, int *out);
/* Dtype classes: masks of OP_DT(dtype) bits, for op_check_dtype. */
#define OP_DT(t) (1u << (t))
#define OP_FLOAT (OP_DT(IR_F32) | OP_DT(IR_F64) | OP_DT(IR_F16) | OP_DT(IR_BF16))
#define OP_F32_F64 (OP_DT(IR_F32) | OP_DT(IR_F64))
#define OP_SINT (OP_DT(IR_I8) | OP_DT(IR_I16) | OP_DT(IR_I32) | OP_DT(IR_I64))
#define OP_UINT (OP_DT(IR_U8) | OP_DT(IR_U16) | OP_DT(IR_U32) | OP_DT(IR_U64))
#define OP_INT (OP_SINT | OP_UINT)
#define OP_NUM (OP_FLOAT | OP_INT)
#define OP_BOOL OP_DT(IR_BOOL)
#define OP_ANY (OP_NUM | OP_BOOL)
/* Input i must be present with a dtype in mask; -1 via op_fail naming the
 * input, its dtype and the dtypes the op supports. */
int op_check_dtype(const ir_node *n, int i, unsigned mask);
/* Input j, when present, must have input i's dtype; -1 via op_fail. */
int op_same_dtype(const ir_node *n, int i, int j);
/* Make an attribute's default explicit: set name to v unless the node has it. */
void op_default_float(ir_node *n, const char *name, double v);
void op_default_int(ir_node *n, const char *name, int64_t v);
/* Output y gets dtype dt and shape (rank, dims). */
void op_set_out(ir_tensor *y, ir_dtype dt, int rank, const int64_t *dims);
/* Data of constant input i as int64 values (count into *n_out); -1 via
 * op_fail naming the input when it is not a compile-time constant. */
int op_const_ints(const ir_node *n, int i, int64_t *vals, int max, int *n_out);

/* The groups of entries, each defined in compiler/ops/ops_<group>.c. */
extern const op_def ops_nn[];          /* Conv, pools, Gemm, MatMul, BatchNormalization */
extern const op_def ops_elementwise[]; /* arithmetic, activations, Softmax, Cast, compare */
extern const op_def ops_shape[];       /* Reshape..Pad, Gather, Reduce*, Constant, Shape */
extern const op_def ops_control[];     /* If, Loop, Scan */
extern const op_def ops_index[];       /* GatherElements/ND, Scatter*, OneHot, TopK, CumSum, Trilu, losses, ... */
extern const op_def ops_image[];       /* Resize, DepthToSpace, normalizations, ConvTranspose, LpPool, ... */
extern const op_def ops_rnn[];         /* RNN, LSTM, GRU */
extern const op_def ops_quant[];       /* QuantizeLinear, QLinearConv, MatMulInteger, ... */
extern const op_def ops_math[];        /* Trilu, Mod, BitShift, CumSum, TopK, Einsum, OneHot, Hardmax, ... */
extern const op_def ops_signal[];      /* window functions, DFT, STFT, MelWeightMatrix */
extern const op_def ops_train[];       /* ai.onnx.preview.training optimizers: Adagrad, Adam, Momentum; ai.modelc SGD, AdamW */
extern const op_def ops_grad[];        /* ai.modelc backward ops of grad_nn.c: ConvWeightGrad, MaxPoolGrad, ... */
extern const op_def ops_random[];      /* RandomUniform(Like), RandomNormal(Like), Bernoulli */
/* Each group ends with an entry whose name is NULL. */

#endif
