/*
 * onnx_write.c - IR graph to ModelProto, packed by protobuf-c (see
 * onnx_write.h).
 *
 * Every message is allocated from one pool and freed together after
 * packing; the protobuf-c structs only point into the graph's strings and
 * data, which outlive the call.  Tensor data goes in raw_data, which is
 * little-endian C order exactly as the IR holds it.
 */
#include "onnx_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define IR_VERSION 8   /* ONNX 1.10+; opset 17 needs at least 8 */

typedef struct pool {
  void **v;
  int n, cap;
} pool;

static void *palloc(pool *p, size_t n) {
  if (p->n == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 256;
    p->v = ir_realloc(p->v, (size_t)p->cap * sizeof *p->v);
  }
  return p->v[p->n++] = ir_alloc(n);
}

static Onnx__ValueInfoProto *value_info(pool *p, const ir_tensor *t) {
  Onnx__ValueInfoProto *vi = palloc(p, sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = t->name;
  Onnx__TypeProto *tp = palloc(p, sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = palloc(p, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = ir_dtype_to_onnx(t->dtype);
  if (t->rank >= 0) {
    Onnx__TensorShapeProto *sh = palloc(p, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)t->rank;
    sh->dim = palloc(p, (size_t)(t->rank + 1) * sizeof *sh->dim);
    for (int i = 0; i < t->rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = palloc(p, sizeof *d);
      onnx__tensor_shape_proto__dimension__init(d);
      if (t->shape[i] >= 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = t->shape[i];
      } else if (t->dim_param[i]) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = t->dim_param[i];
      }
      sh->dim[i] = d;
    }
    tt->shape = sh;
  }
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

static Onnx__TensorProto *tensor(pool *p, const ir_tensor *t) {
  Onnx__TensorProto *tp = palloc(p, sizeof *tp);
  onnx__tensor_proto__init(tp);
  tp->name = t->name;
  tp->has_data_type = 1;
  tp->data_type = ir_dtype_to_onnx(t->dtype);
  tp->n_dims = (size_t)t->rank;
  tp->dims = palloc(p, (size_t)(t->rank + 1) * sizeof *tp->dims);
  for (int i = 0; i < t->rank; i++) tp->dims[i] = t->shape[i];
  tp->has_raw_data = 1;
  tp->raw_data.len = (size_t)ir_nbytes(t);
  tp->raw_data.data = t->data;
  return tp;
}

static int attribute(pool *p, const ir_node *n, const ir_attr *a, Onnx__AttributeProto **out) {
  Onnx__AttributeProto *ap = palloc(p, sizeof *ap);
  onnx__attribute_proto__init(ap);
  ap->name = a->name;
  ap->has_type = 1;
  switch (a->type) {
  case IR_ATTR_INT: ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, ap->has_i = 1, ap->i = a->i; break;
  case IR_ATTR_FLOAT: ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, ap->has_f = 1, ap->f = (float)a->f; break;
  case IR_ATTR_STRING:
    ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    ap->has_s = 1;
    ap->s.data = (uint8_t *)a->s;
    ap->s.len = strlen(a->s);
    break;
  case IR_ATTR_INTS:
    ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    ap->n_ints = (size_t)a->n;
    ap->ints = a->ints;
    break;
  case IR_ATTR_FLOATS:
    ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    ap->n_floats = (size_t)a->n;
    ap->floats = palloc(p, (size_t)(a->n + 1) * sizeof *ap->floats);
    for (int i = 0; i < a->n; i++) ap->floats[i] = (float)a->floats[i];
    break;
  case IR_ATTR_STRINGS:
    ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    ap->n_strings = (size_t)a->n;
    ap->strings = palloc(p, (size_t)(a->n + 1) * sizeof *ap->strings);
    for (int i = 0; i < a->n; i++) ap->strings[i].data = (uint8_t *)a->strings[i], ap->strings[i].len = strlen(a->strings[i]);
    break;
  case IR_ATTR_TENSOR:
    ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    ap->t = tensor(p, a->t);
    break;
  default:
    return ir_error("node '%s' (%s): attribute '%s' holds a subgraph, which export does not write", n->name, n->op_type,
                    a->name);
  }
  *out = ap;
  return 0;
}

int onnx_write_file(const ir_graph *g, const char *path) {
  pool p = {NULL, 0, 0};
  int rc = 0;
  Onnx__GraphProto gp;
  onnx__graph_proto__init(&gp);
  gp.name = g->name;
  gp.node = palloc(&p, (size_t)(g->n_nodes + 1) * sizeof *gp.node);
  int opset = 1;
  for (int i = 0; i < g->n_nodes && rc == 0; i++) {
    const ir_node *n = g->nodes[i];
    if (n->domain[0]) rc = ir_error("node '%s' (%s): domain '%s' is not exported", n->name, n->op_type, n->domain);
    if (n->opset > opset) opset = n->opset;
    Onnx__NodeProto *np = palloc(&p, sizeof *np);
    onnx__node_proto__init(np);
    np->name = n->name;
    np->op_type = n->op_type;
    np->n_input = (size_t)n->n_in;
    np->input = palloc(&p, (size_t)(n->n_in + 1) * sizeof *np->input);
    for (int j = 0; j < n->n_in; j++) np->input[j] = n->in[j] ? n->in[j]->name : "";
    np->n_output = (size_t)n->n_out;
    np->output = palloc(&p, (size_t)(n->n_out + 1) * sizeof *np->output);
    for (int j = 0; j < n->n_out; j++) np->output[j] = n->out[j] ? n->out[j]->name : "";
    np->attribute = palloc(&p, (size_t)(n->n_attr + 1) * sizeof *np->attribute);
    for (int j = 0; j < n->n_attr && rc == 0; j++)
      if (n->attrs[j].name[0] != '_') rc = attribute(&p, n, &n->attrs[j], &np->attribute[np->n_attribute++]);
    gp.node[gp.n_node++] = np;
  }
  gp.initializer = palloc(&p, (size_t)(g->n_tensors + 1) * sizeof *gp.initializer);
  for (int i = 0; i < g->n_tensors && rc == 0; i++) {
    const ir_tensor *t = g->tensors[i];
    if ((t->role != IR_PARAM && t->role != IR_CONST) || !t->data) continue;
    if (ir_dtype_to_onnx(t->dtype) <= 0) rc = ir_error("tensor '%s': %s has no ONNX type", t->name, ir_dtype_name(t->dtype));
    gp.initializer[gp.n_initializer++] = tensor(&p, t);
  }
  gp.input = palloc(&p, (size_t)(g->n_inputs + 1) * sizeof *gp.input);
  for (int i = 0; i < g->n_inputs; i++) gp.input[gp.n_input++] = value_info(&p, g->inputs[i]);
  gp.output = palloc(&p, (size_t)(g->n_outputs + 1) * sizeof *gp.output);
  for (int i = 0; i < g->n_outputs; i++) gp.output[gp.n_output++] = value_info(&p, g->outputs[i]);

  Onnx__OperatorSetIdProto os;
  onnx__operator_set_id_proto__init(&os);
  os.domain = "";
  os.has_version = 1;
  os.version = opset;
  Onnx__OperatorSetIdProto *osp = &os;
  Onnx__ModelProto m;
  onnx__model_proto__init(&m);
  m.has_ir_version = 1;
  m.ir_version = IR_VERSION;
  m.producer_name = "modelc";
  m.n_opset_import = 1;
  m.opset_import = &osp;
  m.graph = &gp;
  if (rc == 0) {
    size_t len = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = ir_alloc(len);
    onnx__model_proto__pack(&m, buf);
    FILE *f = fopen(path, "wb");
    if (!f) rc = ir_error("%s: %s", path, strerror(errno));
    else {
      if (fwrite(buf, 1, len, f) != len) rc = ir_error("%s: write failed", path);
      if (fclose(f) != 0 && rc == 0) rc = ir_error("%s: write failed", path);
    }
    free(buf);
  }
  for (int i = 0; i < p.n; i++) free(p.v[i]);
  free(p.v);
  return rc;
}
