/*
 * dsl.h - the model language's frontend: a `.nn` text file in, an IR graph
 * out (docs/dsl.md is the language reference).
 *
 * Like the ONNX frontend it only builds IR: declared inputs become IR_INPUT
 * tensors, parameters IR_PARAM tensors with their initial values, every
 * call an IR node (a layer shorthand a few), and the training block the
 * graph's ir_train record.  Then fe_finish, as for every frontend.
 *
 * Errors are reported the way compilers do: `file:line:col: message`, the
 * source line and a caret under the column, written to `diag` (NULL: not
 * written).  The parser recovers at the next statement and the builder
 * skips statements that depend on a failed one, so one run reports every
 * independent error.  On failure ir_last_error() says how many there were.
 */
#ifndef MODELC_DSL_H
#define MODELC_DSL_H

#include <stddef.h>
#include <stdio.h>

#include "../frontend/frontend.h"

#define DSL_MAX_SOURCE ((size_t)16 << 20)   /* bytes of one model file */

/* Load a model file; parameter files (.npz) are read relative to its folder. */
ir_graph *dsl_load_file(const char *path, const fe_opts *o, FILE *diag);
/* Load source held in memory, named `file` in messages.  base_dir is the
 * folder .npz files are read from; NULL forbids reading files. */
ir_graph *dsl_load_buffer(const char *src, size_t len, const char *file, const char *base_dir,
                          const fe_opts *o, FILE *diag);

/* 1 when the first bytes look like a model in this language: text whose
 * first word (after comments) starts a statement. */
int dsl_sniff(const unsigned char *head, size_t n);

/* A later stage failed with msg naming a node or tensor ("node 'h1' ...",
 * "tensor 'h1'"): re-read path and print msg at the statement that made it.
 * Returns 1 when it printed a located diagnostic, 0 otherwise. */
int dsl_explain(const char *path, const char *msg, FILE *diag);

/* `modelc fmt`: print the canonical layout of a model file to out
 * (comments kept).  Formatting the output again gives the same text.
 * -1 with the syntax errors on diag when the file does not parse. */
int dsl_format_file(const char *path, FILE *out, FILE *diag);
int dsl_format_buffer(const char *src, size_t len, const char *file, FILE *out, FILE *diag);

#endif
