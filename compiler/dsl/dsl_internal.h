/*
 * dsl_internal.h - what the files of the DSL frontend share: source and
 * diagnostics (dsl_lex.c), tokens, the syntax tree the parser builds
 * (dsl_parse.c) and that the builder (dsl_build.c) and the formatter
 * (dsl_fmt.c) walk, and the seeded initializers (dsl_init.c).
 *
 * Conventions: every tree node carries the position of its first token; the
 * tree owns its strings (freed by dsl_free_file); counts are ints checked
 * against DSL_MAX_* limits, so hostile files end in an error, not a crash.
 */
#ifndef MODELC_DSL_INTERNAL_H
#define MODELC_DSL_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "dsl.h"

#define DSL_MAX_DEPTH 64        /* nesting of calls and lists in one expression */
#define DSL_MAX_ITEMS 100000    /* arguments, list items, statements... of one kind */

/* ---- source and diagnostics (dsl_lex.c) ------------------------------- */

typedef struct dsl_pos {
  int line, col;                /* 1-based; col counts bytes */
} dsl_pos;

typedef struct dsl_src {
  const char *file;             /* as named in messages */
  const char *text;             /* NUL-terminated copy of the source */
  size_t len;
  FILE *diag;                   /* where errors go; NULL: counted only */
  int errors;
} dsl_src;

/* "file:line:col: message", the source line and a caret; counts the error. */
void dsl_report(dsl_src *s, dsl_pos p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* dsl_report, then -1, so that `return dsl_error(...)` works.  A macro, so
 * that the compiler sees the -1: an out-parameter left unset on an error
 * path is then plainly unread (gcc -O3 warns otherwise). */
#define dsl_error(...) (dsl_report(__VA_ARGS__), -1)

/* ---- tokens ------------------------------------------------------------ */

typedef enum dsl_tok_kind {
  T_EOF, T_NEWLINE, T_NAME, T_INT, T_FLOAT, T_STRING, T_PUNCT, T_COMMENT, T_ERROR
} dsl_tok_kind;

typedef struct dsl_tok {
  dsl_tok_kind kind;
  dsl_pos pos;
  const char *start;            /* into the source */
  int len;
  int64_t ival;                 /* T_INT */
  double fval;                  /* T_INT and T_FLOAT */
  int blank_before;             /* T_NEWLINE: an empty line follows this one */
  int bol;                      /* first token on its line */
} dsl_tok;

typedef struct dsl_lexer {
  dsl_src *src;
  size_t at;
  int line, col;
  int depth;                    /* open ( and [: newlines inside them are spaces */
  int line_seen;                /* line of the last token returned */
} dsl_lexer;

void dsl_lex_init(dsl_lexer *lx, dsl_src *src);
/* Next token; comments are returned as T_COMMENT (the parser keeps them
 * for the formatter).  Bad characters give T_ERROR after a diagnostic. */
dsl_tok dsl_lex_next(dsl_lexer *lx);

/* ---- syntax tree ------------------------------------------------------- */

typedef enum dsl_expr_kind {
  E_NAME,      /* x, c1.weight */
  E_NUMBER,    /* 3, -0.5, 1e-3 (text kept as written) */
  E_STRING,    /* "file.npz" */
  E_LIST,      /* [a, b, ...] */
  E_CALL,      /* f(a, b, key=value) */
  E_NONE       /* _ : a missing optional input */
} dsl_expr_kind;

typedef struct dsl_expr dsl_expr;

typedef struct dsl_kwarg {
  char *name;
  dsl_pos pos;
  dsl_expr *value;
} dsl_kwarg;

struct dsl_expr {
  dsl_expr_kind kind;
  dsl_pos pos;
  char *text;                   /* NAME, callee, STRING value, NUMBER as written */
  int is_int;                   /* NUMBER without '.', 'e' */
  int64_t ival;
  double fval;
  int n;                        /* positional arguments / list items */
  dsl_expr **items;
  int n_kw;
  dsl_kwarg *kw;
};

/* One dimension of a declared type: a number, or a name with an optional
 * default value (N, N=1). */
typedef struct dsl_dim {
  dsl_pos pos;
  char *name;                   /* NULL for a number */
  int64_t value;                /* the number, or the default (-1: none) */
} dsl_dim;

typedef struct dsl_type {
  dsl_pos pos;
  char *dtype;                  /* f32, i64, ... as written */
  int rank;
  dsl_dim dims[IR_MAX_RANK];
} dsl_type;

typedef enum dsl_stmt_kind {
  S_MODEL,     /* model NAME */
  S_SEED,      /* seed INT */
  S_WEIGHTS,   /* weights "file.npz" */
  S_INPUT,     /* input NAME: TYPE */
  S_PARAM,     /* param NAME: TYPE = INIT */
  S_ASSIGN,    /* a, b = CALL */
  S_OUTPUT,    /* output a, b */
  S_FREEZE,    /* freeze a, b          (train block only) */
  S_SET,       /* key = expr           (train block only: loss, optimizer, epochs, batch) */
  S_TRAIN      /* train { ... } */
} dsl_stmt_kind;

typedef struct dsl_stmt dsl_stmt;

typedef struct dsl_name {
  char *name;
  dsl_pos pos;
} dsl_name;

struct dsl_stmt {
  dsl_stmt_kind kind;
  dsl_pos pos;
  int n_names;                  /* MODEL/INPUT/PARAM: 1; ASSIGN targets; OUTPUT/FREEZE list; SET: key */
  dsl_name *names;
  dsl_type type;                /* INPUT, PARAM */
  dsl_expr *value;              /* PARAM init, ASSIGN call, SET value, SEED/WEIGHTS literal */
  int n_body;                   /* TRAIN */
  dsl_stmt **body;
  /* For the formatter. */
  int n_comments;               /* comment lines just above the statement */
  char **comments;
  char *trailing;               /* comment after it on the same line, or NULL */
  int blank_before;             /* an empty line separates it from the previous one */
};

typedef struct dsl_file {
  int n_stmts;
  dsl_stmt **stmts;
  int n_comments;               /* comments after the last statement */
  char **comments;
} dsl_file;

/* Parse the whole source; syntax errors go to src->diag, and the statements
 * that parsed are kept.  Never NULL. */
dsl_file *dsl_parse(dsl_src *src);
void dsl_free_file(dsl_file *f);

/* Write f in the canonical layout (dsl_fmt.c). */
void dsl_print_file(const dsl_file *f, FILE *out);
/* An expression in the canonical layout into out. */
void dsl_print_expr(const dsl_expr *e, FILE *out);

/* ---- seeded initializers (dsl_init.c) ---------------------------------- */

typedef enum dsl_init_kind {
  INIT_ZEROS, INIT_ONES, INIT_CONSTANT, INIT_UNIFORM, INIT_NORMAL,
  INIT_XAVIER_UNIFORM, INIT_XAVIER_NORMAL, INIT_KAIMING_UNIFORM, INIT_KAIMING_NORMAL
} dsl_init_kind;

typedef struct dsl_init {
  dsl_init_kind kind;
  double a, b;                  /* constant: a; uniform: [a, b); normal: mean a, std b; gain for xavier/kaiming: a */
  uint64_t seed;
} dsl_init;

/* The seed of a parameter without an explicit one: FNV-1a of its name mixed
 * with the model's seed, so that adding a layer changes no other layer. */
uint64_t dsl_default_seed(uint64_t model_seed, const char *param_name);
/* Fill n float32 values of a tensor of the given shape (fan-in and fan-out
 * from it, as PyTorch computes them). */
void dsl_init_fill(const dsl_init *in, int rank, const int64_t *shape, float *out, int64_t n);

#endif
