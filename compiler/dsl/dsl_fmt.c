/*
 * dsl_fmt.c - the canonical layout of a model file (`modelc fmt`).
 *
 * The layout is a function of the syntax tree alone, so formatting is
 * idempotent: one statement per line; one space after ':' and around '='
 * of statements, none around '=' of keyword arguments; ", " between
 * items; the train block's statements indented by two spaces; at most one
 * empty line where the source had one or more; comments where they were
 * (above a statement, or after it on its line, one space before the '#').
 * Numbers and strings are printed as written.
 */
#include "dsl_internal.h"

#include <stdlib.h>
#include <string.h>

void dsl_print_expr(const dsl_expr *e, FILE *out) {
  switch (e->kind) {
  case E_NAME:
  case E_NUMBER: fputs(e->text, out); break;
  case E_STRING: fprintf(out, "\"%s\"", e->text); break;
  case E_NONE: fputc('_', out); break;
  case E_LIST:
    fputc('[', out);
    for (int i = 0; i < e->n; i++) {
      if (i) fputs(", ", out);
      dsl_print_expr(e->items[i], out);
    }
    fputc(']', out);
    break;
  case E_CALL:
    fprintf(out, "%s(", e->text);
    for (int i = 0; i < e->n; i++) {
      if (i) fputs(", ", out);
      dsl_print_expr(e->items[i], out);
    }
    for (int i = 0; i < e->n_kw; i++) {
      if (i || e->n) fputs(", ", out);
      fprintf(out, "%s=", e->kw[i].name);
      dsl_print_expr(e->kw[i].value, out);
    }
    fputc(')', out);
    break;
  }
}

static void print_type(const dsl_type *t, FILE *out) {
  fprintf(out, "%s[", t->dtype);
  for (int i = 0; i < t->rank; i++) {
    if (i) fputs(", ", out);
    const dsl_dim *d = &t->dims[i];
    if (!d->name) fprintf(out, "%lld", (long long)d->value);
    else if (d->value >= 0) fprintf(out, "%s=%lld", d->name, (long long)d->value);
    else fputs(d->name, out);
  }
  fputc(']', out);
}

static void print_names(const dsl_stmt *s, FILE *out) {
  for (int i = 0; i < s->n_names; i++) fprintf(out, "%s%s", i ? ", " : "", s->names[i].name);
}

static void print_stmt(const dsl_stmt *s, int indent, int first, FILE *out) {
  if (s->blank_before && !first) fputc('\n', out);
  for (int i = 0; i < s->n_comments; i++) fprintf(out, "%*s%s\n", indent, "", s->comments[i]);
  fprintf(out, "%*s", indent, "");
  switch (s->kind) {
  case S_MODEL: fprintf(out, "model %s", s->names[0].name); break;
  case S_SEED: fputs("seed ", out); dsl_print_expr(s->value, out); break;
  case S_WEIGHTS: fputs("weights ", out); dsl_print_expr(s->value, out); break;
  case S_INPUT:
  case S_PARAM:
    fprintf(out, "%s %s: ", s->kind == S_INPUT ? "input" : "param", s->names[0].name);
    print_type(&s->type, out);
    if (s->kind == S_PARAM) {
      fputs(" = ", out);
      dsl_print_expr(s->value, out);
    }
    break;
  case S_ASSIGN:
  case S_SET:
    print_names(s, out);
    fputs(" = ", out);
    dsl_print_expr(s->value, out);
    break;
  case S_OUTPUT: fputs("output ", out); print_names(s, out); break;
  case S_FREEZE: fputs("freeze ", out); print_names(s, out); break;
  case S_TRAIN:
    fputs("train {", out);
    if (s->trailing) fprintf(out, " %s", s->trailing);
    fputc('\n', out);
    for (int i = 0; i < s->n_body; i++) print_stmt(s->body[i], indent + 2, i == 0, out);
    fprintf(out, "%*s}\n", indent, "");
    return;
  }
  if (s->trailing) fprintf(out, "  %s", s->trailing);
  fputc('\n', out);
}

void dsl_print_file(const dsl_file *f, FILE *out) {
  for (int i = 0; i < f->n_stmts; i++) print_stmt(f->stmts[i], 0, i == 0, out);
  if (f->n_comments && f->n_stmts) fputc('\n', out);
  for (int i = 0; i < f->n_comments; i++) fprintf(out, "%s\n", f->comments[i]);
}
