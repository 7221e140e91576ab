/*
 * ir.h - the one intermediate representation every stage of modelc shares.
 *
 * A graph owns tensors and nodes.  Tensors carry a dtype, a static shape
 * (dimensions may be symbolic until --shape/--dim fix them), a role and, for
 * constants and parameters, their data.  Nodes carry an op (an entry of the
 * op table, see compiler/ops/op.h), ordered inputs and outputs and typed
 * attributes.  Frontends only build this; passes only rewrite it; the backend
 * and the interpreter only read it.  Nothing here knows about ONNX, the DSL,
 * C emission or the interpreter: the IR depends on nothing else.
 *
 * Conventions:
 *  - Every allocation made through a graph is owned by it and freed by
 *    ir_graph_free (names, data, attribute payloads, subgraphs).
 *  - A missing optional input is a NULL entry in node->in.
 *  - Errors are reported through ir_diag: one line, naming what is wrong.
 *    Functions that can fail return 0 on success and -1 on failure after
 *    calling ir_error().
 */
#ifndef MODELC_IR_H
#define MODELC_IR_H

#include <stddef.h>
#include <stdint.h>

#define IR_MAX_RANK 8
/* Attributes of one node: found by a linear scan, so a frontend refuses more
 * (no ONNX op has more than a few dozen). */
#define IR_MAX_ATTRS 1024

typedef enum ir_dtype {
  IR_UNDEF = 0,
  IR_F32, IR_F64, IR_F16, IR_BF16,
  IR_I8, IR_I16, IR_I32, IR_I64,
  IR_U8, IR_U16, IR_U32, IR_U64,
  IR_BOOL,
  IR_STRING,          /* only so that loaders can name it in an error */
  IR_DTYPE_COUNT
} ir_dtype;

typedef enum ir_role {
  IR_ACTIVATION = 0,  /* computed by a node, lives in the arena */
  IR_INPUT,           /* graph input, given by the caller */
  IR_PARAM,           /* trainable weight (ONNX initializer) */
  IR_CONST,           /* compile-time constant (Constant node, folded value) */
  IR_GRADIENT,
  IR_OPTSTATE
} ir_role;

typedef struct ir_graph ir_graph;
typedef struct ir_node ir_node;

typedef struct ir_tensor {
  char *name;
  int id;                         /* index in graph->tensors */
  ir_dtype dtype;
  int rank;                       /* -1 while unknown */
  int64_t shape[IR_MAX_RANK];     /* -1 for a dimension not yet known */
  char *dim_param[IR_MAX_RANK];   /* symbolic name of a dimension, or NULL */
  ir_role role;
  int is_output;                  /* listed in graph->outputs */
  int is_state;                   /* a training step changes it (an update target, or the same
                                     parameter in the inference graph of a --train build): its
                                     data is only its initial value, never a compile-time constant */
  struct ir_tensor *stored_in;    /* the value of an update that its producer writes straight into
                                     the update's target (see ir_update), or NULL: then it has no
                                     bytes of its own and the step copies nothing when it ends */
  void *data;                     /* IR_CONST/IR_PARAM: numel*dtype_size bytes */
  ir_node *producer;              /* node writing it, NULL for inputs/consts */
  /* Filled by the memory planner. */
  int64_t offset;                 /* byte offset in the arena, -1 if none */
  int replicated;                 /* one copy per parallel part (plan.h, row replicas) */
} ir_tensor;

typedef enum ir_attr_type {
  IR_ATTR_INT, IR_ATTR_FLOAT, IR_ATTR_STRING,
  IR_ATTR_INTS, IR_ATTR_FLOATS, IR_ATTR_STRINGS,
  IR_ATTR_TENSOR, IR_ATTR_GRAPH
} ir_attr_type;

typedef struct ir_attr {
  char *name;
  ir_attr_type type;
  int64_t i;
  double f;
  char *s;
  int n;                /* element count of ints/floats/strings */
  int64_t *ints;
  double *floats;
  char **strings;
  ir_tensor *t;         /* IR_ATTR_TENSOR: a tensor not listed in any graph */
  ir_graph *g;          /* IR_ATTR_GRAPH: a subgraph whose parent is the node's graph */
} ir_attr;

struct op_def;          /* compiler/ops/op.h */

struct ir_node {
  char *name;           /* never NULL: frontends invent one when the model has none */
  char *op_type;        /* as written in the model, e.g. "Conv" */
  char *domain;         /* "" for the default ONNX domain */
  const struct op_def *op;  /* op table entry, NULL until bound */
  int opset;            /* opset version of the node's domain */
  int n_in, n_out;
  ir_tensor **in;
  ir_tensor **out;
  int n_attr;
  ir_attr *attrs;
  int id;               /* index in graph->nodes (schedule order after scheduling) */
  int dead;             /* marked by passes, removed by ir_graph_compact */
};

/* The training setup a model carries (the DSL's train block) for --train:
 * kept with the graph, untouched by the passes. */
typedef struct ir_train {
  char *loss;                   /* "cross_entropy" or "mse" */
  char *prediction;             /* the tensor the loss reads */
  char *label;                  /* the training-only input holding the targets */
  ir_dtype label_dtype;
  int label_rank;
  int64_t label_shape[IR_MAX_RANK];
  char *optimizer;              /* "sgd", "adam", "adagrad" */
  int n_hyper;
  char **hyper_names;           /* "lr", "momentum", "epochs", "batch", ... */
  double *hyper_values;
  int n_frozen;
  char **frozen;                /* parameters the optimizer leaves alone */
} ir_train;

/* One state change of a training step: when the step ends, `target` (an
 * IR_PARAM or IR_OPTSTATE tensor, whose storage outlives the step) holds the
 * bytes that `value` (a tensor the step computes, same dtype and shape) has.
 * When value->stored_in is target, value's producer (an elementwise optimizer
 * op: each element of target read before it is written) writes target itself,
 * and must run after every other reader of target and after the loss's
 * producer (ir_stored_in_ok), so that a step refused for its loss changes
 * nothing; the schedule puts it there, the planner checks it. */
typedef struct ir_update {
  ir_tensor *target;
  ir_tensor *value;
} ir_update;

struct ir_graph {
  char *name;
  ir_train *train;      /* NULL unless the model says how to train it */
  ir_graph *parent;     /* enclosing graph of a subgraph, else NULL */
  int n_tensors, cap_tensors;
  ir_tensor **tensors;
  int n_nodes, cap_nodes;
  ir_node **nodes;
  int n_inputs, n_outputs;
  ir_tensor **inputs;   /* runtime inputs in declaration order */
  ir_tensor **outputs;
  int64_t max_bytes;    /* limit on any one tensor and on constant data (frontend's
                           --max-bytes); 0 = the 4 GiB default */
  /* A training-step graph (built for --train) says what the step changes.
   * Inference graphs have none of these (0/NULL). */
  int n_updates;
  ir_update *updates;   /* applied in order when the step ends */
  int n_labels;         /* the last n_labels of inputs are the targets the loss reads */
  ir_tensor *loss;      /* the scalar the step minimizes, NULL when not training */
  int64_t arena_bytes;  /* set by the memory planner */
  int64_t arena_lower_bound;
  /* Row replicas (plan.h): replicas - 1 copies past the arena of the bytes
   * below replica_stride, the one of part p >= 1 at replica_base +
   * (p - 1) * replica_stride; replicas 0 when there are none. */
  int replicas;
  int64_t replica_base, replica_stride;
};

/* ---- diagnostics ------------------------------------------------------ */
/* The last error message (one line, no trailing newline). */
const char *ir_last_error(void);
/* Record an error; always returns -1 so that `return ir_error(...)` works. */
int ir_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void ir_clear_error(void);

/* ---- dtypes ----------------------------------------------------------- */
size_t ir_dtype_size(ir_dtype t);          /* bytes per element, 0 for UNDEF/STRING */
const char *ir_dtype_name(ir_dtype t);     /* "float32", "int64", ... (numpy names) */
const char *ir_dtype_ctype(ir_dtype t);    /* "float", "int64_t", "uint8_t" (bool), "uint16_t" (f16) */
int ir_dtype_is_float(ir_dtype t);         /* F32, F64, F16, BF16 */
int ir_dtype_is_int(ir_dtype t);           /* signed and unsigned integers (not bool) */
int ir_dtype_is_signed(ir_dtype t);
ir_dtype ir_dtype_from_onnx(int onnx_elem_type);   /* IR_UNDEF when unknown */
int ir_dtype_to_onnx(ir_dtype t);

/* ---- tensors ---------------------------------------------------------- */
int ir_shape_known(const ir_tensor *t);    /* rank >= 0 and every dim >= 0 */
/* Element count; -1 when unknown, -2 on overflow past INT64_MAX/16. */
int64_t ir_numel(const ir_tensor *t);
int64_t ir_numel_dims(int rank, const int64_t *dims);
int64_t ir_nbytes(const ir_tensor *t);
void ir_set_shape(ir_tensor *t, int rank, const int64_t *dims);
int ir_same_shape(const ir_tensor *a, const ir_tensor *b);
/* "[1,3,224,224]" into buf; returns buf. */
char *ir_shape_str(const ir_tensor *t, char *buf, size_t n);

/* Element i of a buffer of dtype t as a double (NaN for types without a value). */
double ir_value_f64(ir_dtype t, const void *data, int64_t i);
/* Value of element i of a constant tensor, converted (no bounds check beyond numel). */
double ir_const_f64(const ir_tensor *t, int64_t i);
int64_t ir_const_i64(const ir_tensor *t, int64_t i);

/* ---- graphs ----------------------------------------------------------- */
ir_graph *ir_graph_new(const char *name, ir_graph *parent);
void ir_graph_free(ir_graph *g);
void ir_train_free(ir_train *t);
/* Lookup by name in g only (not parents); NULL when absent. */
ir_tensor *ir_find_tensor(const ir_graph *g, const char *name);
/* Lookup in g, then its parents (subgraphs see outer-scope tensors). */
ir_tensor *ir_lookup_tensor(const ir_graph *g, const char *name);
/* New tensor owned by g; name is copied.  Fails (NULL) on a duplicate name. */
ir_tensor *ir_add_tensor(ir_graph *g, const char *name, ir_dtype dt, ir_role role);
/* A fresh unique name built from base ("base", "base_1", ...), copied into g. */
ir_tensor *ir_add_tensor_unique(ir_graph *g, const char *base, ir_dtype dt, ir_role role);
/* Give a tensor data it owns (copied); sets role to IR_CONST unless it is IR_PARAM. */
int ir_tensor_set_data(ir_tensor *t, const void *data, size_t nbytes);
/* New node appended to g.  Inputs/outputs are set with ir_node_set_io. */
ir_node *ir_add_node(ir_graph *g, const char *op_type, const char *name);
void ir_node_set_io(ir_node *n, int n_in, ir_tensor *const *in, int n_out, ir_tensor *const *out);
void ir_graph_add_input(ir_graph *g, ir_tensor *t);
void ir_graph_add_output(ir_graph *g, ir_tensor *t);
/* Record that a training step ends with target := value (see ir_update);
 * marks target is_state. */
void ir_graph_add_update(ir_graph *g, ir_tensor *target, ir_tensor *value);
/* Whether t must hold its value when a run of g ends: a graph output, the
 * training loss or the value of an update (passes keep its producer and
 * its bytes). */
int ir_kept(const ir_graph *g, const ir_tensor *t);
/* Mark is_state every IR_PARAM of g named like a parameter that train (a
 * training-step graph of the same model) updates; returns how many were not
 * marked yet.  Call it on the inference graph of a --train build before its
 * passes, so that no pass or kernel takes a trained parameter for a constant. */
int ir_mark_trained_params(ir_graph *g, const ir_graph *train);
/* Drop nodes marked dead and tensors nobody references; renumber ids. */
void ir_graph_compact(ir_graph *g);
/* Sort nodes topologically (stable for already sorted graphs) and set
 * producers.  Fails naming a tensor on a cycle or on a tensor written twice. */
int ir_graph_toposort(ir_graph *g);
/* Nodes reading t (in schedule order) into out[], returns the count. */
int ir_consumers(const ir_graph *g, const ir_tensor *t, ir_node **out, int max);

/* ---- graph surgery (ir_surgery.c) -------------------------------------- */
/* Whether t is one of g's own tensors (not an outer scope's, not another graph's). */
int ir_owns(const ir_graph *g, const ir_tensor *t);
/* Move tensor t (owned by a subgraph being dissolved) into g, renamed
 * "NAME_k" when g or a parent already has its name; it is no output of g. */
void ir_adopt_tensor(ir_graph *g, ir_tensor *t);
/* Deep copy of an attribute's payload into d (name and type already set). */
void ir_attr_copy(ir_attr *d, const ir_attr *s);
/* Every live node of g reading `from` reads `to` instead; returns how many inputs changed. */
int ir_replace_uses(ir_graph *g, const ir_tensor *from, ir_tensor *to);
/* Move the nodes at [from, to) of the schedule to stand at position at (at <= from); renumbers ids. */
void ir_graph_move_nodes(ir_graph *g, int from, int to, int at);

/* last_read[id] = max(last_read[id], step) for every tensor of g that
 * subgraph sg (or a subgraph of it) reads by pointer. */
void ir_mark_subgraph_reads(const ir_graph *g, const ir_graph *sg, int step, int *last_read);
/* Whether update value v (v->stored_in set) may be written into its target
 * in g's schedule: its producer runs after the loss's producer and after
 * every other node reading the target. */
int ir_stored_in_ok(const ir_graph *g, const ir_tensor *v);
/* Whether node q must run before a node that writes target in place: q
 * reads target or computes g's loss.  The one rule behind ir_stored_in_ok
 * and the schedule's placing of such writers. */
int ir_reads_before_write(const ir_graph *g, const ir_node *q, const ir_tensor *target);
/* last_read[id] = max(last_read[id], step) for every update value and the
 * loss of a training-step graph g: the step reads them when it ends. */
void ir_mark_step_end_reads(const ir_graph *g, int step, int *last_read);
/* Set input i of n, growing its inputs with missing (NULL) ones as needed. */
void ir_node_set_input(ir_node *n, int i, ir_tensor *t);
/* Fusion: p writes n's output 0 as its output j from now on, and n is dead
 * (holding p's old output, which nothing reads, until compaction). */
void ir_node_take_output(ir_node *p, int j, ir_node *n);
/* Whether n holds a subgraph attribute; whether any node of g does. */
int ir_node_has_subgraph(const ir_node *n);
int ir_graph_has_subgraphs(const ir_graph *g);
/* Whether n is the ONNX (default-domain) op op_type. */
int ir_node_is(const ir_node *n, const char *op_type);
/* A new constant of like's dtype named after it (like's name + suffix, made
 * unique), with shape (rank, dims) and a copy of data. */
ir_tensor *ir_add_const_like(ir_graph *g, const ir_tensor *like, const char *suffix, int rank, const int64_t *dims,
                             const void *data);

/* Def-use lists: the live nodes reading each tensor of g, in schedule order. */
typedef struct ir_uses {
  int n_tensors;
  int *start;              /* readers of tensor id t: readers[start[t] .. start[t+1]) */
  ir_node **readers;
  unsigned char *output;   /* output[t]: t is kept past the run (ir_kept: an output, the loss, an update's value) */
} ir_uses;
void ir_uses_build(const ir_graph *g, ir_uses *u);
int ir_uses_count(const ir_uses *u, const ir_tensor *t);
ir_node *const *ir_uses_of(const ir_uses *u, const ir_tensor *t);
/* t is read by n and nothing else (no other node, not a graph output). */
int ir_uses_only(const ir_uses *u, const ir_tensor *t, const ir_node *n);
void ir_uses_free(ir_uses *u);

/* ---- attributes ------------------------------------------------------- */
ir_attr *ir_attr_find(const ir_node *n, const char *name);
ir_attr *ir_attr_add(ir_node *n, const char *name, ir_attr_type type);
void ir_attr_remove(ir_node *n, const char *name);
/* Typed getters with a default for an absent attribute.  A present
 * attribute of the wrong type is an error; these record it and return the
 * default, and ir_attr_check_types() reports it at validation time. */
int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def);
double ir_attr_float(const ir_node *n, const char *name, double def);
const char *ir_attr_string(const ir_node *n, const char *name, const char *def);
/* ints: number of elements, or -1 when absent; *out points into the node. */
int ir_attr_ints(const ir_node *n, const char *name, const int64_t **out);
int ir_attr_floats(const ir_node *n, const char *name, const double **out);
void ir_attr_set_int(ir_node *n, const char *name, int64_t v);
void ir_attr_set_float(ir_node *n, const char *name, double v);
void ir_attr_set_string(ir_node *n, const char *name, const char *v);
void ir_attr_set_ints(ir_node *n, const char *name, int count, const int64_t *v);
void ir_attr_set_floats(ir_node *n, const char *name, int count, const double *v);
const char *ir_attr_type_name(ir_attr_type t);

/* ---- utilities -------------------------------------------------------- */
char *ir_strdup(const char *s);            /* aborts on OOM like every allocator here */
void *ir_alloc(size_t n);                  /* zeroed; aborts on OOM */
void *ir_realloc(void *p, size_t n);

#endif
