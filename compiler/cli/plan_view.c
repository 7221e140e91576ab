/*
 * plan_view.c - the memory plan as people see it: `modelc info` lists the
 * arena's buffers and `modelc info --memory-svg FILE` draws them.
 *
 * Both read the buffers the planner hands back (plan_with_buffers), so the
 * list and the picture show the same plan the C was emitted from.  A step is
 * a node's index in the schedule (the numbers `modelc graph` prints).  In
 * the drawing time runs across (one column per step) and offsets down (0 at
 * the top, the arena's end at the bottom): each buffer is one rectangle over
 * the steps it is live and the bytes it holds, carrying a <title> (the
 * browser's tooltip) and data-* attributes with the numbers `info` prints.
 */
#include "cli.h"
#include "../passes/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers by offset, then by first step. */
static int by_place(const void *pa, const void *pb) {
  const plan_buffer *a = pa, *b = pb;
  if (a->offset != b->offset) return a->offset < b->offset ? -1 : 1;
  return (a->first > b->first) - (a->first < b->first);
}

void cli_sort_buffers(plan_buffer *bufs, int n) {
  if (n > 1) qsort(bufs, (size_t)n, sizeof *bufs, by_place);
}

void cli_print_buffers(const plan_buffer *bufs, int n) {
  printf("buffers: %d (offset and bytes in the arena, live over schedule steps first-last)\n", n);
  for (int i = 0; i < n; i++) {
    const plan_buffer *b = &bufs[i];
    printf("  offset %10lld  bytes %10lld  steps %d-%d  ", (long long)b->offset, (long long)b->size, b->first, b->last);
    if (b->scratch_of) {
      printf("scratch of node '%s' (%s)\n", b->scratch_of->name, b->scratch_of->op_type);
      continue;
    }
    if (b->parts) {
      printf("scratch of the parallel parts, one slice each (--threads)\n");
      continue;
    }
    printf("tensor '%s'", b->members[0]->name);
    for (int k = 1; k < b->n_members; k++) printf("%s'%s'", k == 1 ? " shared with " : ", ", b->members[k]->name);
    printf("\n");
  }
}

/* s as XML character data or attribute text. */
static void put_xml(FILE *f, const char *s) {
  for (; *s; s++) switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&apos;", f); break;
    default:
      if ((unsigned char)*s >= 0x20 || *s == '\t') fputc(*s, f);   /* control bytes are not XML */
    }
}

/* What a buffer holds, as one name: its first tensor or its node's scratch. */
static void put_buffer_name(FILE *f, const plan_buffer *b) {
  if (b->scratch_of) {
    fputs("scratch of ", f);
    put_xml(f, b->scratch_of->name);
  } else if (b->parts) fputs("scratch of the parallel parts", f);
  else put_xml(f, b->members[0]->name);
}

enum { SVG_LEFT = 110, SVG_TOP = 50, SVG_PLOT_W = 1000, SVG_PLOT_H = 600, SVG_RIGHT = 20, SVG_BOTTOM = 60 };

int cli_memory_svg(const char *path, const ir_graph *g, const plan_buffer *bufs, int n) {
  FILE *f = fopen(path, "w");
  if (!f) return ir_error("%s: cannot write: %s", path, strerror(errno));
  int steps = g->n_nodes > 0 ? g->n_nodes : 1;
  double arena = g->arena_bytes > 0 ? (double)g->arena_bytes : 1.0;
  double sx = (double)SVG_PLOT_W / steps, sy = (double)SVG_PLOT_H / arena;
  int w = SVG_LEFT + SVG_PLOT_W + SVG_RIGHT, h = SVG_TOP + SVG_PLOT_H + SVG_BOTTOM;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
             "font-family=\"sans-serif\" font-size=\"11\">\n", w, h, w, h);
  fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", w, h);
  fprintf(f, "<text x=\"%d\" y=\"20\" font-size=\"14\">arena %lld bytes (lower bound for this schedule %lld), "
             "%d buffers over %d steps</text>\n", SVG_LEFT, (long long)g->arena_bytes,
          (long long)g->arena_lower_bound, n, g->n_nodes);
  fprintf(f, "<text x=\"%d\" y=\"38\" fill=\"#555555\">time: schedule step across; offset in the arena down</text>\n",
          SVG_LEFT);
  /* the plot's frame: the whole arena over the whole schedule */
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\" stroke=\"#000000\"/>\n", SVG_LEFT,
          SVG_TOP, SVG_PLOT_W, SVG_PLOT_H);
  /* offset axis: five ticks, the last at the arena size */
  for (int k = 0; k <= 4; k++) {
    long long off = (long long)(g->arena_bytes * k / 4);
    double y = SVG_TOP + (double)off * sy;
    fprintf(f, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#000000\"/>\n", SVG_LEFT - 5, y, SVG_LEFT,
            y);
    fprintf(f, "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\" dominant-baseline=\"middle\">%lld B</text>\n",
            SVG_LEFT - 8, y, off);
  }
  /* step axis: up to ten ticks, the last at the final step */
  int every = steps > 10 ? (steps + 9) / 10 : 1;
  for (int s = 0; s < steps; s += every) {
    double x = SVG_LEFT + (s + 0.5) * sx;
    fprintf(f, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#000000\"/>\n", x, SVG_TOP + SVG_PLOT_H, x,
            SVG_TOP + SVG_PLOT_H + 5);
    fprintf(f, "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x, SVG_TOP + SVG_PLOT_H + 18, s);
  }
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">schedule step</text>\n", SVG_LEFT + SVG_PLOT_W / 2,
          SVG_TOP + SVG_PLOT_H + 40);
  for (int i = 0; i < n; i++) {
    const plan_buffer *b = &bufs[i];
    double x = SVG_LEFT + b->first * sx, y = SVG_TOP + (double)b->offset * sy;
    double bw = (b->last - b->first + 1) * sx, bh = (double)b->size * sy;
    if (bh < 1) bh = 1;   /* a small buffer still shows */
    /* scratch grey, tensors in hues spread by the golden angle */
    int hue = (i * 137) % 360;
    fprintf(f, "<g class=\"buffer\" data-offset=\"%lld\" data-bytes=\"%lld\" data-first=\"%d\" data-last=\"%d\" "
               "data-name=\"", (long long)b->offset, (long long)b->size, b->first, b->last);
    put_buffer_name(f, b);
    fputs("\">\n<title>", f);
    put_buffer_name(f, b);
    fprintf(f, ": %lld bytes at offset %lld, steps %d-%d", (long long)b->size, (long long)b->offset, b->first,
            b->last);
    for (int k = 1; k < b->n_members; k++) {
      fputs(k == 1 ? "; shared with " : ", ", f);
      put_xml(f, b->members[k]->name);
    }
    fputs("</title>\n", f);
    if (b->scratch_of || b->parts)
      fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#bbbbbb\" stroke=\"#333333\" "
                 "stroke-width=\"0.5\"/>\n", x, y, bw, bh);
    else
      fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"hsl(%d,65%%,70%%)\" "
                 "stroke=\"#333333\" stroke-width=\"0.5\"/>\n", x, y, bw, bh, hue);
    if (bh >= 12 && bw >= 40) {   /* a name where it fits, cut to the rectangle */
      fprintf(f, "<svg x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"><text x=\"3\" y=\"11\">", x, y, bw, bh);
      put_buffer_name(f, b);
      fputs("</text></svg>\n", f);
    }
    fputs("</g>\n", f);
  }
  fputs("</svg>\n", f);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return ir_error("%s: cannot write: %s", path, strerror(errno));
  return 0;
}
