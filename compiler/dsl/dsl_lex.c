/*
 * dsl_lex.c - the model language's tokens, and its diagnostics.
 *
 * The lexer is a plain loop over bytes, called by the parser one token at a
 * time.  Newlines end statements, except inside ( ) and [ ] where they are
 * spaces, as in Python, so long calls can wrap.  Comments run from '#' to
 * the end of the line and come back as tokens, because the formatter keeps
 * them.  Names may contain dots (c1.weight names a layer's parameter).
 *
 * Diagnostics print the source line of the error with a caret under the
 * column, as C compilers do; the line is cut at 200 bytes and control bytes
 * are shown as '?', so a hostile file cannot flood or garble a terminal.
 */
#include "dsl_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void dsl_report(dsl_src *s, dsl_pos p, const char *fmt, ...) {
  s->errors++;
  if (!s->diag) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(s->diag, "%s:%d:%d: %s\n", s->file, p.line, p.col, msg);
  /* the source line */
  const char *l = s->text;
  for (int k = 1; k < p.line && l; k++) {
    l = strchr(l, '\n');
    if (l) l++;
  }
  if (!l) return;
  int n = 0;
  while (l[n] && l[n] != '\n' && n < 200) n++;
  fputs("  ", s->diag);
  for (int i = 0; i < n; i++) fputc(l[i] == '\t' || isprint((unsigned char)l[i]) ? l[i] : '?', s->diag);
  fputs("\n  ", s->diag);
  for (int i = 1; i < p.col && i <= n; i++) fputc(l[i - 1] == '\t' ? '\t' : ' ', s->diag);
  fputs("^\n", s->diag);
}

void dsl_lex_init(dsl_lexer *lx, dsl_src *src) {
  memset(lx, 0, sizeof *lx);
  lx->src = src;
  lx->line = 1;
  lx->col = 1;
}

static int peekc(const dsl_lexer *lx, size_t k) {
  return lx->at + k < lx->src->len ? (unsigned char)lx->src->text[lx->at + k] : -1;
}

static void advance(dsl_lexer *lx) {
  if (lx->src->text[lx->at] == '\n') {
    lx->line++;
    lx->col = 1;
  } else {
    lx->col++;
  }
  lx->at++;
}

static int is_name_start(int c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_name_char(int c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '.'; }

static dsl_tok number(dsl_lexer *lx, dsl_tok t) {
  int is_float = 0;
  while (isdigit(peekc(lx, 0))) advance(lx);
  if (peekc(lx, 0) == '.' && isdigit(peekc(lx, 1))) {
    is_float = 1;
    advance(lx);
    while (isdigit(peekc(lx, 0))) advance(lx);
  }
  if ((peekc(lx, 0) == 'e' || peekc(lx, 0) == 'E') &&
      (isdigit(peekc(lx, 1)) || ((peekc(lx, 1) == '-' || peekc(lx, 1) == '+') && isdigit(peekc(lx, 2))))) {
    is_float = 1;
    advance(lx);
    advance(lx);
    while (isdigit(peekc(lx, 0))) advance(lx);
  }
  t.len = (int)(lx->src->text + lx->at - t.start);
  if (is_name_char(peekc(lx, 0)) && peekc(lx, 0) != '.') {
    dsl_report(lx->src, t.pos, "malformed number");
    while (is_name_char(peekc(lx, 0))) advance(lx);
    t.kind = T_ERROR;
    return t;
  }
  char buf[64];
  if (t.len >= (int)sizeof buf) {
    dsl_report(lx->src, t.pos, "number too long");
    t.kind = T_ERROR;
    return t;
  }
  memcpy(buf, t.start, (size_t)t.len);
  buf[t.len] = 0;
  errno = 0;
  t.fval = strtod(buf, NULL);
  if (!is_float) {
    t.kind = T_INT;
    t.ival = strtoll(buf, NULL, 10);
    if (errno == ERANGE) {
      dsl_report(lx->src, t.pos, "integer %s does not fit in 64 bits", buf);
      t.kind = T_ERROR;
    }
  } else {
    t.kind = T_FLOAT;
    if (!isfinite(t.fval)) {
      dsl_report(lx->src, t.pos, "number %s is out of range", buf);
      t.kind = T_ERROR;
    }
  }
  return t;
}

dsl_tok dsl_lex_next(dsl_lexer *lx) {
  dsl_tok t;
  for (;;) {
    int c = peekc(lx, 0);
    if (c == ' ' || c == '\t' || c == '\r' || (c == '\n' && lx->depth > 0)) {
      advance(lx);
      continue;
    }
    if (c == '\\' && peekc(lx, 1) == '\n') {   /* explicit line continuation */
      advance(lx);
      advance(lx);
      continue;
    }
    break;
  }
  memset(&t, 0, sizeof t);
  t.pos.line = lx->line;
  t.pos.col = lx->col;
  t.bol = lx->line != lx->line_seen;
  lx->line_seen = lx->line;
  t.start = lx->src->text + lx->at;
  int c = peekc(lx, 0);
  if (c < 0) {
    t.kind = T_EOF;
    return t;
  }
  if (c == '\n') {
    advance(lx);
    t.kind = T_NEWLINE;
    t.len = 1;
    /* an empty line next? (only spaces before the following newline) */
    size_t k = lx->at;
    while (k < lx->src->len && (lx->src->text[k] == ' ' || lx->src->text[k] == '\t' || lx->src->text[k] == '\r')) k++;
    t.blank_before = k < lx->src->len && lx->src->text[k] == '\n';
    return t;
  }
  if (c == '#') {
    while (peekc(lx, 0) >= 0 && peekc(lx, 0) != '\n') advance(lx);
    t.kind = T_COMMENT;
    t.len = (int)(lx->src->text + lx->at - t.start);
    return t;
  }
  if (is_name_start(c)) {
    while (is_name_char(peekc(lx, 0))) advance(lx);
    t.kind = T_NAME;
    t.len = (int)(lx->src->text + lx->at - t.start);
    return t;
  }
  if (isdigit(c)) return number(lx, t);
  if (c == '"') {
    advance(lx);
    while (peekc(lx, 0) >= 0 && peekc(lx, 0) != '"' && peekc(lx, 0) != '\n') advance(lx);
    if (peekc(lx, 0) != '"') {
      dsl_report(lx->src, t.pos, "unterminated string");
      t.kind = T_ERROR;
      t.len = (int)(lx->src->text + lx->at - t.start);
      return t;
    }
    advance(lx);
    t.kind = T_STRING;
    t.len = (int)(lx->src->text + lx->at - t.start);
    return t;
  }
  if (strchr("()[]{},:=-", c)) {
    if (c == '(' || c == '[') lx->depth++;
    if ((c == ')' || c == ']') && lx->depth > 0) lx->depth--;
    advance(lx);
    t.kind = T_PUNCT;
    t.len = 1;
    return t;
  }
  if (isprint(c)) dsl_report(lx->src, t.pos, "unexpected character '%c'", c);
  else dsl_report(lx->src, t.pos, "unexpected byte 0x%02x", c);
  advance(lx);
  t.kind = T_ERROR;
  t.len = 1;
  return t;
}
