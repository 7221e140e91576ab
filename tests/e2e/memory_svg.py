#!/usr/bin/python3
"""memory_svg.py MODELC OUTDIR MODEL [model options]

`modelc info --memory-svg` draws the plan that `modelc info` prints.  The
SVG must parse as XML, and from the drawing alone (rectangle geometry
against the plot frame and the offset axis, not the data-* attributes the
writer also sets) every buffer's offset, bytes and first-last steps are
read back and must equal the lines `info` prints, one rectangle per line,
each with a <title> naming it.  The arena size on the axis's last tick and
the step count must be info's too.  And info's lifetimes are checked
against the schedule `modelc graph` prints (step, node, inputs, outputs):
a buffer lives from the step that writes its first tensor to the last step
that writes or reads any tensor in it; a scratch area only at its node's.
"""
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_lifetimes(modelc, model, rest, listed):
    graph = subprocess.run([modelc, "graph", model] + rest, capture_output=True, text=True, check=True).stdout
    writes, reads, nodes = {}, {}, {}
    for line in graph.splitlines():
        m = re.match(r"^ *(\d+) \S+(?: \+\S+)* +(.*?) \((.*)\) -> (.*)$", line)
        if not m:
            fail("graph line not understood: " + line)
        step, name, ins, outs = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        nodes[name] = step
        for t in ins.split(", "):
            reads.setdefault(t, []).append(step)
        for o in outs.split(", "):   # "-" for an output left unwritten (prune)
            w = re.match(r"(.+?) \[[^\]]*\]$", o)
            if w:
                writes[w.group(1)] = step
    for o, b, f, l, what in listed:
        kind, name = what.split(" ", 1)[0], re.search(r"'(.*?)'", what).group(1)
        if kind == "scratch":
            span = (nodes[name], nodes[name])
        else:
            members = [name] + re.findall(r"'(.*?)'", what.split(" shared with ", 1)[1]) if " shared with " in what else [name]
            steps = [writes[t] for t in members] + [s for t in members for s in reads.get(t, [])]
            span = (writes[name], max(steps))
        if span != (int(f), int(l)):
            fail("info gives %s steps %s-%s, the schedule says %d-%d" % (what, f, l, span[0], span[1]))


def main():
    modelc, outdir, model, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    svg = outdir + "/plan.svg"
    info = subprocess.run([modelc, "info", model, "--memory-svg", svg] + rest, capture_output=True, text=True)
    if info.returncode != 0:
        fail("modelc info: " + info.stderr.strip())
    out = info.stdout
    arena = int(re.search(r"^arena: (\d+) bytes", out, re.M).group(1))
    steps = int(re.search(r"^nodes: (\d+)", out, re.M).group(1))
    listed = re.findall(r"^  offset +(\d+)  bytes +(\d+)  steps (\d+)-(\d+)  (tensor '.*'|scratch of node '.*?' \(\S+\))$",
                        out, re.M)
    count = int(re.search(r"^buffers: (\d+)", out, re.M).group(1))
    if count != len(listed) or count == 0:
        fail("info announces %d buffers and lists %d" % (count, len(listed)))
    want = sorted((int(o), int(b), int(f), int(l)) for o, b, f, l, _ in listed)
    check_lifetimes(modelc, model, rest, listed)

    root = ET.parse(svg).getroot()   # raises on XML that is not well-formed
    if root.tag != NS + "svg":
        fail("root element is %s" % root.tag)
    frame = [r for r in root.findall(NS + "rect") if r.get("stroke") == "#000000"]
    if len(frame) != 1:
        fail("want one plot frame, found %d" % len(frame))
    fx, fy = float(frame[0].get("x")), float(frame[0].get("y"))
    fw, fh = float(frame[0].get("width")), float(frame[0].get("height"))
    ticks = [t.text for t in root.iter(NS + "text") if t.text and re.fullmatch(r"\d+ B", t.text)]
    if not ticks or ticks[0] != "0 B" or ticks[-1] != "%d B" % arena:
        fail("offset axis %s does not run from 0 B to the arena's %d B" % (ticks, arena))
    got = []
    for g in root.iter(NS + "g"):
        rects, title = g.findall(NS + "rect"), g.find(NS + "title")
        if len(rects) != 1 or title is None or not title.text:
            fail("a buffer group without exactly one rect and a title")
        r = rects[0]
        x, y = float(r.get("x")), float(r.get("y"))
        w, h = float(r.get("width")), float(r.get("height"))
        first = round((x - fx) / fw * steps)
        last = round((x + w - fx) / fw * steps) - 1
        offset = round((y - fy) / fh * arena)
        size = round(h / fh * arena) if h > 1.5 else None   # a buffer under one pixel is drawn 1 px high
        got.append((offset, size, first, last, title.text))
    if len(got) != len(want):
        fail("%d rectangles for %d buffers" % (len(got), len(want)))
    # geometry is in hundredths of a pixel: match within the bytes one of those stands for
    slack = arena / fh * 0.011 + 1
    unmatched = list(want)
    for offset, size, first, last, title in sorted(got, key=lambda r: (r[0], r[2])):
        hit = [u for u in unmatched if abs(u[0] - offset) <= slack and u[2] == first and u[3] == last and
               (size is None and u[1] <= arena / fh * 1.5 or size is not None and abs(u[1] - size) <= 2 * slack)]
        if not hit:
            fail("rectangle %r (%s) matches no buffer that info lists" % ((offset, size, first, last), title))
        u = min(hit, key=lambda u: abs(u[0] - offset) + (abs(u[1] - size) if size is not None else 0))
        if ": %d bytes at offset %d, steps %d-%d" % (u[1], u[0], u[2], u[3]) not in title:
            fail("title %r does not give %r" % (title, u))
        unmatched.remove(u)
    print("%s: %d buffers drawn as info lists them (arena %d bytes, %d steps)" % (model, len(want), arena, steps))


main()
