/*
 * dsl_parse.c - recursive descent from tokens to the syntax tree.
 *
 * One function per rule of the grammar in docs/dsl.md; each reads from the
 * current token p->tok and leaves p->tok on the first token it did not use.
 * A rule that fails has reported the error and returns NULL; the statement
 * loop then skips to the end of the line and goes on, so one run reports
 * every broken line.
 *
 * Statements start with a keyword (model, seed, weights, input, param,
 * output, train, freeze) unless the word is followed by '=' or ',', which
 * makes it an assignment target: `loss = cross_entropy(...)` and even
 * `output = Relu(x)` stay assignments.
 *
 * Comments are not in the grammar: next() files a comment on a line of its
 * own under the following statement and one after code under the statement
 * on that line, for the formatter.
 */
#include "dsl_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
  dsl_src *src;
  dsl_lexer lx;
  dsl_tok tok;
  char **pending;               /* comment lines waiting for their statement */
  int n_pending;
  dsl_stmt *cur;                /* statement being parsed, for trailing comments */
  dsl_stmt *last;               /* last statement finished, for trailing comments */
  int line_has_code;            /* a token other than a comment on this line */
  int saw_blank;
  int depth;                    /* expression nesting */
  int in_train;
} parser;

static char *dup_n(const char *s, int n) {
  char *d = ir_alloc((size_t)n + 1);
  memcpy(d, s, (size_t)n);
  return d;
}

static void push_str(char ***v, int *n, char *s) {
  *v = ir_realloc(*v, (size_t)(*n + 1) * sizeof **v);
  (*v)[(*n)++] = s;
}

static void next(parser *p) {
  for (;;) {
    p->tok = dsl_lex_next(&p->lx);
    if (p->tok.kind == T_COMMENT) {
      int n = p->tok.len;
      while (n > 1 && (p->tok.start[n - 1] == ' ' || p->tok.start[n - 1] == '\t' || p->tok.start[n - 1] == '\r')) n--;
      char *c = dup_n(p->tok.start, n);
      dsl_stmt *s = p->cur ? p->cur : p->last;
      if (p->line_has_code && s && !s->trailing) s->trailing = c;
      else if (p->line_has_code && s) {   /* a second comment in one wrapped statement */
        size_t a = strlen(s->trailing), b = strlen(c);
        s->trailing = ir_realloc(s->trailing, a + b + 2);
        s->trailing[a] = ' ';
        memcpy(s->trailing + a + 1, c, b + 1);
        free(c);
      } else {
        push_str(&p->pending, &p->n_pending, c);
      }
      continue;
    }
    if (p->tok.kind == T_NEWLINE) {
      p->line_has_code = 0;
      if (p->tok.blank_before) p->saw_blank = 1;
    } else if (p->tok.kind != T_EOF) {
      p->line_has_code = 1;
    }
    return;
  }
}

static int is_punct(const parser *p, char c) {
  return p->tok.kind == T_PUNCT && p->tok.start[0] == c;
}

static int is_word(const dsl_tok *t, const char *w) {
  return t->kind == T_NAME && (int)strlen(w) == t->len && memcmp(t->start, w, (size_t)t->len) == 0;
}

static const char *tok_desc(const dsl_tok *t, char *buf, size_t n) {
  switch (t->kind) {
  case T_EOF: return "the end of the file";
  case T_NEWLINE: return "the end of the line";
  default: snprintf(buf, n, "'%.*s'", t->len > 40 ? 40 : t->len, t->start); return buf;
  }
}

static int expect(parser *p, char c, const char *what) {
  if (is_punct(p, c)) {
    next(p);
    return 0;
  }
  char b[64];
  if (p->tok.kind == T_ERROR) return -1;   /* already reported */
  if (p->tok.bol && p->lx.depth > 0)   /* a statement on the next line: a bracket was left open */
    return dsl_error(p->src, p->tok.pos, "expected %s, found %s on a new line: is a bracket left open?", what,
                     tok_desc(&p->tok, b, sizeof b));
  return dsl_error(p->src, p->tok.pos, "expected %s, found %s", what, tok_desc(&p->tok, b, sizeof b));
}

/* The token after the current one, without consuming anything. */
static dsl_tok peek2(parser *p) {
  dsl_lexer save = p->lx;
  FILE *d = p->src->diag;
  int errs = p->src->errors;
  p->src->diag = NULL;
  dsl_tok t;
  do t = dsl_lex_next(&p->lx); while (t.kind == T_COMMENT);
  p->lx = save;
  p->src->diag = d;
  p->src->errors = errs;
  return t;
}

/* ---- expressions -------------------------------------------------------- */

static dsl_expr *expr(parser *p);

static dsl_expr *new_expr(dsl_expr_kind k, dsl_pos pos) {
  dsl_expr *e = ir_alloc(sizeof *e);
  e->kind = k;
  e->pos = pos;
  return e;
}

static void free_expr(dsl_expr *e) {
  if (!e) return;
  free(e->text);
  for (int i = 0; i < e->n; i++) free_expr(e->items[i]);
  free(e->items);
  for (int i = 0; i < e->n_kw; i++) {
    free(e->kw[i].name);
    free_expr(e->kw[i].value);
  }
  free(e->kw);
  free(e);
}

static int add_item(parser *p, dsl_expr *e, dsl_expr *item) {
  if (e->n >= DSL_MAX_ITEMS) {
    free_expr(item);
    return dsl_error(p->src, e->pos, "more than %d items", DSL_MAX_ITEMS);
  }
  e->items = ir_realloc(e->items, (size_t)(e->n + 1) * sizeof *e->items);
  e->items[e->n++] = item;
  return 0;
}

/* '(' [arg {',' arg}] ')' after a callee; arg = expr | NAME '=' expr */
static dsl_expr *call_args(parser *p, dsl_expr *e) {
  next(p);   /* '(' */
  while (!is_punct(p, ')')) {
    if (p->tok.kind == T_NAME) {
      dsl_tok t2 = peek2(p);
      if (t2.kind == T_PUNCT && t2.start[0] == '=') {
        for (int i = 0; i < e->n_kw; i++)
          if ((int)strlen(e->kw[i].name) == p->tok.len && !memcmp(e->kw[i].name, p->tok.start, (size_t)p->tok.len)) {
            dsl_report(p->src, p->tok.pos, "keyword '%.*s' is given twice", p->tok.len, p->tok.start);
            free_expr(e);
            return NULL;
          }
        if (e->n_kw >= DSL_MAX_ITEMS) {
          dsl_report(p->src, p->tok.pos, "more than %d keyword arguments", DSL_MAX_ITEMS);
          free_expr(e);
          return NULL;
        }
        e->kw = ir_realloc(e->kw, (size_t)(e->n_kw + 1) * sizeof *e->kw);
        dsl_kwarg *k = &e->kw[e->n_kw++];
        k->name = dup_n(p->tok.start, p->tok.len);
        k->pos = p->tok.pos;
        k->value = NULL;
        next(p);
        next(p);   /* '=' */
        if (!(k->value = expr(p))) {
          free_expr(e);
          return NULL;
        }
        goto sep;
      }
    }
    if (e->n_kw) {
      dsl_report(p->src, p->tok.pos, "positional argument after keyword arguments");
      free_expr(e);
      return NULL;
    }
    dsl_expr *a = expr(p);
    if (!a || add_item(p, e, a)) {
      free_expr(e);
      return NULL;
    }
  sep:
    if (is_punct(p, ',')) {
      next(p);
      continue;
    }
    if (!is_punct(p, ')')) {
      expect(p, ')', "',' or ')'");
      free_expr(e);
      return NULL;
    }
  }
  next(p);   /* ')' */
  return e;
}

static dsl_expr *expr(parser *p) {
  char b[64];
  if (++p->depth > DSL_MAX_DEPTH) {
    dsl_report(p->src, p->tok.pos, "expression nests more than %d deep", DSL_MAX_DEPTH);
    p->depth--;
    return NULL;
  }
  dsl_expr *e = NULL;
  dsl_tok t = p->tok;
  int neg = 0;
  if (is_punct(p, '-')) {
    neg = 1;
    next(p);
    if (p->tok.kind != T_INT && p->tok.kind != T_FLOAT) {
      if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected a number after '-', found %s", tok_desc(&p->tok, b, sizeof b));
      p->depth--;
      return NULL;
    }
  }
  switch (p->tok.kind) {
  case T_INT:
  case T_FLOAT:
    e = new_expr(E_NUMBER, t.pos);
    e->is_int = p->tok.kind == T_INT;
    e->ival = neg ? -p->tok.ival : p->tok.ival;
    e->fval = neg ? -p->tok.fval : p->tok.fval;
    e->text = ir_alloc((size_t)p->tok.len + 2);
    if (neg) e->text[0] = '-';
    memcpy(e->text + neg, p->tok.start, (size_t)p->tok.len);
    next(p);
    break;
  case T_STRING:
    e = new_expr(E_STRING, t.pos);
    e->text = dup_n(p->tok.start + 1, p->tok.len - 2);
    next(p);
    break;
  case T_NAME:
    if (p->tok.len == 1 && p->tok.start[0] == '_') {
      e = new_expr(E_NONE, t.pos);
      next(p);
      break;
    }
    e = new_expr(E_NAME, t.pos);
    e->text = dup_n(p->tok.start, p->tok.len);
    next(p);
    if (is_punct(p, '(')) {
      e->kind = E_CALL;
      e = call_args(p, e);
    }
    break;
  case T_PUNCT:
    if (is_punct(p, '[')) {
      e = new_expr(E_LIST, t.pos);
      next(p);
      while (!is_punct(p, ']')) {
        dsl_expr *a = expr(p);
        if (!a || add_item(p, e, a)) {
          free_expr(e);
          e = NULL;
          break;
        }
        if (is_punct(p, ',')) next(p);
        else if (!is_punct(p, ']')) {
          expect(p, ']', "',' or ']'");
          free_expr(e);
          e = NULL;
          break;
        }
      }
      if (e) next(p);
      break;
    }
    /* fall through */
  default:
    if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected a value, found %s", tok_desc(&p->tok, b, sizeof b));
    break;
  }
  p->depth--;
  return e;
}

/* ---- statements --------------------------------------------------------- */

static dsl_stmt *new_stmt(parser *p, dsl_stmt_kind k) {
  dsl_stmt *s = ir_alloc(sizeof *s);
  s->kind = k;
  s->pos = p->tok.pos;
  s->comments = p->pending;
  s->n_comments = p->n_pending;
  p->pending = NULL;
  p->n_pending = 0;
  s->blank_before = p->saw_blank;
  p->saw_blank = 0;
  p->cur = s;
  return s;
}

static void free_stmt(dsl_stmt *s) {
  if (!s) return;
  for (int i = 0; i < s->n_names; i++) free(s->names[i].name);
  free(s->names);
  free(s->type.dtype);
  for (int i = 0; i < s->type.rank; i++) free(s->type.dims[i].name);
  free_expr(s->value);
  for (int i = 0; i < s->n_body; i++) free_stmt(s->body[i]);
  free(s->body);
  for (int i = 0; i < s->n_comments; i++) free(s->comments[i]);
  free(s->comments);
  free(s->trailing);
  free(s);
}

static int add_name(parser *p, dsl_stmt *s) {
  char b[64];
  if (p->tok.kind != T_NAME) {
    if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected a name, found %s", tok_desc(&p->tok, b, sizeof b));
    return -1;
  }
  if (s->n_names >= DSL_MAX_ITEMS) return dsl_error(p->src, p->tok.pos, "more than %d names", DSL_MAX_ITEMS);
  s->names = ir_realloc(s->names, (size_t)(s->n_names + 1) * sizeof *s->names);
  s->names[s->n_names].name = dup_n(p->tok.start, p->tok.len);
  s->names[s->n_names++].pos = p->tok.pos;
  next(p);
  return 0;
}

static int name_list(parser *p, dsl_stmt *s) {
  if (add_name(p, s)) return -1;
  while (is_punct(p, ',')) {
    next(p);
    if (add_name(p, s)) return -1;
  }
  return 0;
}

/* DTYPE '[' [dim {',' dim}] ']' ; dim = INT | NAME ['=' INT] */
static int type(parser *p, dsl_type *t) {
  char b[64];
  t->pos = p->tok.pos;
  if (p->tok.kind != T_NAME) {
    if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected a dtype (f32, i64, ...), found %s", tok_desc(&p->tok, b, sizeof b));
    return -1;
  }
  t->dtype = dup_n(p->tok.start, p->tok.len);
  next(p);
  if (expect(p, '[', "'[' and the shape")) return -1;
  while (!is_punct(p, ']')) {
    if (t->rank == IR_MAX_RANK) return dsl_error(p->src, p->tok.pos, "more than %d dimensions", IR_MAX_RANK);
    dsl_dim *d = &t->dims[t->rank];
    d->pos = p->tok.pos;
    d->value = -1;
    if (p->tok.kind == T_INT) {
      d->value = p->tok.ival;
      next(p);
    } else if (p->tok.kind == T_NAME) {
      d->name = dup_n(p->tok.start, p->tok.len);
      next(p);
      if (is_punct(p, '=')) {
        next(p);
        if (p->tok.kind != T_INT) {
          t->rank++;
          return dsl_error(p->src, p->tok.pos, "expected the default size of dimension '%s'", d->name);
        }
        d->value = p->tok.ival;
        next(p);
      }
    } else {
      if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected a dimension (a size or a name), found %s", tok_desc(&p->tok, b, sizeof b));
      return -1;
    }
    t->rank++;
    if (is_punct(p, ',')) next(p);
    else if (!is_punct(p, ']')) return expect(p, ']', "',' or ']'");
  }
  next(p);
  return 0;
}

static dsl_stmt *statement(parser *p);

static int end_of_statement(parser *p) {
  char b[64];
  if (p->tok.kind == T_NEWLINE || p->tok.kind == T_EOF || (p->in_train && is_punct(p, '}'))) return 0;
  if (p->tok.kind == T_ERROR) return -1;
  return dsl_error(p->src, p->tok.pos, "expected the end of the statement, found %s", tok_desc(&p->tok, b, sizeof b));
}

static dsl_stmt *train_block(parser *p, dsl_stmt *s) {
  if (p->in_train) {
    dsl_report(p->src, s->pos, "a train block cannot contain another");
    return NULL;
  }
  next(p);   /* 'train' */
  if (expect(p, '{', "'{' after train")) return NULL;
  p->in_train = 1;
  for (;;) {
    while (p->tok.kind == T_NEWLINE) next(p);
    if (is_punct(p, '}') || p->tok.kind == T_EOF) break;
    dsl_stmt *b = statement(p);
    p->cur = s;
    if (b) {
      s->body = ir_realloc(s->body, (size_t)(s->n_body + 1) * sizeof *s->body);
      s->body[s->n_body++] = b;
    }
  }
  p->in_train = 0;
  if (p->tok.kind == T_EOF) {
    dsl_report(p->src, s->pos, "train block is not closed: '}' missing");
    return NULL;
  }
  next(p);   /* '}' */
  return s;
}

/* Parse one statement; on a syntax error skip to the end of its line. */
static dsl_stmt *statement(parser *p) {
  dsl_tok t = p->tok;
  dsl_tok t2 = peek2(p);
  int target = t2.kind == T_PUNCT && (t2.start[0] == '=' || t2.start[0] == ',');
  dsl_stmt *s = NULL;
  int rc = -1;
  char b[64];
  if (t.kind == T_NAME && !target && is_word(&t, "train")) {
    s = new_stmt(p, S_TRAIN);
    if (!train_block(p, s)) goto fail;
    rc = end_of_statement(p);
  } else if (t.kind == T_NAME && !target && (is_word(&t, "input") || is_word(&t, "param"))) {
    s = new_stmt(p, is_word(&t, "input") ? S_INPUT : S_PARAM);
    next(p);
    if (add_name(p, s) || expect(p, ':', "':' and a type") || type(p, &s->type)) goto fail;
    if (s->kind == S_PARAM) {
      if (expect(p, '=', "'=' and an initializer") || !(s->value = expr(p))) goto fail;
    }
    rc = end_of_statement(p);
  } else if (t.kind == T_NAME && !target && (is_word(&t, "output") || is_word(&t, "freeze") || is_word(&t, "model"))) {
    s = new_stmt(p, is_word(&t, "output") ? S_OUTPUT : is_word(&t, "freeze") ? S_FREEZE : S_MODEL);
    next(p);
    if (s->kind == S_MODEL ? add_name(p, s) : name_list(p, s)) goto fail;
    rc = end_of_statement(p);
  } else if (t.kind == T_NAME && !target && (is_word(&t, "seed") || is_word(&t, "weights"))) {
    s = new_stmt(p, is_word(&t, "seed") ? S_SEED : S_WEIGHTS);
    next(p);
    if (s->kind == S_SEED && p->tok.kind != T_INT) {
      if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected the seed (an integer), found %s", tok_desc(&p->tok, b, sizeof b));
      goto fail;
    }
    if (s->kind == S_WEIGHTS && p->tok.kind != T_STRING) {
      if (p->tok.kind != T_ERROR) dsl_report(p->src, p->tok.pos, "expected a file name in quotes, found %s", tok_desc(&p->tok, b, sizeof b));
      goto fail;
    }
    if (!(s->value = expr(p))) goto fail;
    rc = end_of_statement(p);
  } else if (t.kind == T_NAME) {
    s = new_stmt(p, S_ASSIGN);
    if (name_list(p, s) || expect(p, '=', "'='")) goto fail;
    if (p->in_train && s->n_names == 1) {
      s->kind = S_SET;
      if (!(s->value = expr(p))) goto fail;
    } else {
      dsl_pos at = p->tok.pos;
      if (!(s->value = expr(p))) goto fail;
      if (s->value->kind != E_CALL) {
        dsl_report(p->src, at, "expected a call such as Relu(x) or dense(x, 10)");
        goto fail;
      }
    }
    rc = end_of_statement(p);
  } else {
    if (t.kind != T_ERROR) dsl_report(p->src, t.pos, "expected a statement, found %s", tok_desc(&t, b, sizeof b));
  }
  if (rc == 0) {
    p->cur = NULL;
    p->last = s;
    return s;
  }
fail:
  /* Recover: forget open brackets and skip the rest of the line (a line
   * an open bracket ran into starts the next statement). */
  p->lx.depth = 0;
  while (p->tok.kind != T_NEWLINE && p->tok.kind != T_EOF && !(p->in_train && is_punct(p, '}')) &&
         !(p->tok.bol && p->tok.pos.line > t.pos.line))
    next(p);
  p->cur = NULL;
  free_stmt(s);
  p->last = NULL;
  return NULL;
}

dsl_file *dsl_parse(dsl_src *src) {
  parser p;
  memset(&p, 0, sizeof p);
  p.src = src;
  dsl_lex_init(&p.lx, src);
  dsl_file *f = ir_alloc(sizeof *f);
  next(&p);
  for (;;) {
    while (p.tok.kind == T_NEWLINE) next(&p);
    if (p.tok.kind == T_EOF) break;
    if (is_punct(&p, '}')) {
      dsl_report(src, p.tok.pos, "'}' without a train block");
      next(&p);
      continue;
    }
    dsl_stmt *s = statement(&p);
    if (!s) continue;
    if (f->n_stmts >= DSL_MAX_ITEMS) {
      dsl_report(src, s->pos, "more than %d statements", DSL_MAX_ITEMS);
      free_stmt(s);
      break;
    }
    f->stmts = ir_realloc(f->stmts, (size_t)(f->n_stmts + 1) * sizeof *f->stmts);
    f->stmts[f->n_stmts++] = s;
  }
  f->comments = p.pending;
  f->n_comments = p.n_pending;
  return f;
}

void dsl_free_file(dsl_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n_stmts; i++) free_stmt(f->stmts[i]);
  free(f->stmts);
  for (int i = 0; i < f->n_comments; i++) free(f->comments[i]);
  free(f->comments);
  free(f);
}
