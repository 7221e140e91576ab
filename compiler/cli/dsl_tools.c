/*
 * dsl_tools.c - `modelc fmt` and `modelc export`: the tools that come with
 * the model language.  fmt prints a DSL file in its canonical layout;
 * export writes any model the CLI can load (a DSL file above all) as an
 * ONNX file, as the frontend built it, so that it runs in ONNX Runtime and
 * opens in Netron.
 */
#include "cli.h"
#include "../dsl/dsl.h"
#include "../onnx/onnx_write.h"

#include <stdio.h>
#include <string.h>

void cli_print_train(const ir_graph *g) {
  const ir_train *t = g->train;
  if (!t) return;
  char shape[128];
  ir_tensor lab;
  memset(&lab, 0, sizeof lab);
  lab.rank = t->label_rank;
  memcpy(lab.shape, t->label_shape, sizeof lab.shape);
  printf("training: loss %s(%s, %s) with label %s %s %s; optimizer %s(", t->loss, t->prediction, t->label, t->label,
         ir_dtype_name(t->label_dtype), ir_shape_str(&lab, shape, sizeof shape), t->optimizer);
  for (int i = 0; i < t->n_hyper; i++) printf("%s%s=%g", i ? ", " : "", t->hyper_names[i], t->hyper_values[i]);
  printf(")");
  for (int i = 0; i < t->n_frozen; i++) printf("%s%s", i ? ", " : "; frozen: ", t->frozen[i]);
  printf("\n");
}

int cmd_fmt(cli_opts *o) {
  if (dsl_format_file(o->pos[0], stdout, stderr) < 0) {
    fprintf(stderr, "modelc: %s\n", ir_last_error());
    return 1;
  }
  return 0;
}

int cmd_export(cli_opts *o) {
  o->no_bind = 1;   /* attributes as written, not with validation's defaults */
  ir_graph *g = cli_load(o, o->pos[0], 0);
  int rc = !g || onnx_write_file(g, o->outdir) < 0;
  ir_graph_free(g);
  if (rc) {
    fprintf(stderr, "modelc: %s\n", ir_last_error());
    return 1;
  }
  printf("wrote %s\n", o->outdir);
  return 0;
}
