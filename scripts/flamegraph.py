#!/usr/bin/env python3
"""flamegraph.py - `perf script` output -> folded stacks -> a flame graph SVG. Ours, small.

  perf script -i perf.data | scripts/flamegraph.py --title T --folded out.folded > out.svg

Parsing: each sample is a header line ("comm pid [cpu] time: period event:") followed by one
line per frame, innermost first ("\t ip symbol+off (dso)"), and a blank line. A stack is folded
as "comm;outermost;...;innermost count". Layout: the frames of a prefix are children of that
prefix, widths proportional to samples, root at the bottom; each box carries a <title> with
the function, samples and percentage (tooltips in any browser). Colours are a warm palette
hashed from the name, so the same function has the same colour in every graph.
"""
import argparse
import html
import re
import sys
import zlib
from collections import defaultdict

def fold(lines):
    stacks = defaultdict(int)
    comm, frames, in_sample = None, [], False
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if in_sample:
                stacks[";".join([comm] + frames[::-1])] += 1
            comm, frames, in_sample = None, [], False
            continue
        if not line[0].isspace():
            if in_sample:  # a header without a blank line before it
                stacks[";".join([comm] + frames[::-1])] += 1
            comm = line.split()[0]
            frames, in_sample = [], True
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        sym = parts[1]
        sym = re.sub(r"\s+\([^()]*\)$", "", sym)       # " (dso)"
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)        # "+0x1c"
        if sym == "[unknown]":
            dso = re.search(r"\(([^()]*)\)$", line.strip())
            sym = "[%s]" % dso.group(1).rsplit("/", 1)[-1] if dso else "[unknown]"
        frames.append(sym.replace(";", ":"))
    if in_sample:
        stacks[";".join([comm] + frames[::-1])] += 1
    return stacks


class Node:
    __slots__ = ("name", "value", "children")

    def __init__(self, name):
        self.name, self.value, self.children = name, 0, {}


def tree(stacks):
    root = Node("all")
    for st, n in stacks.items():
        root.value += n
        node = root
        for f in st.split(";"):
            node = node.children.setdefault(f, Node(f))
            node.value += n
    return root


def color(name):
    h = zlib.crc32(name.encode())
    r = 205 + h % 50
    g = 60 + (h >> 8) % 150
    b = (h >> 16) % 55
    return "rgb(%d,%d,%d)" % (r, g, b)


def depth(node):
    return 1 + max((depth(c) for c in node.children.values()), default=0)


def render(root, title, width=1200, fh=16):
    levels = depth(root)
    height = (levels + 3) * fh
    total = max(root.value, 1)
    out = ['<?xml version="1.0" standalone="no"?>',
           '<svg version="1.1" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg" '
           'font-family="Verdana, sans-serif" font-size="11">' % (width, height),
           '<rect x="0" y="0" width="%d" height="%d" fill="#f8f8f0"/>' % (width, height),
           '<text x="%d" y="%d" text-anchor="middle" font-size="15">%s (%d samples)</text>'
           % (width / 2, fh + 2, html.escape(title), root.value)]
    xpad = 10
    scale = (width - 2 * xpad) / total

    def walk(node, x, lvl):
        w = node.value * scale
        if w < 0.3:
            return
        y = height - (lvl + 1) * fh - 4
        pct = 100.0 * node.value / total
        out.append('<g><title>%s (%d samples, %.2f%%)</title><rect x="%.2f" y="%d" width="%.2f" '
                   'height="%d" fill="%s" rx="2"/>' % (html.escape(node.name), node.value, pct, x, y,
                                                       w, fh - 1, color(node.name)))
        chars = int(w / 7)
        if chars >= 3:
            label = node.name if len(node.name) <= chars else node.name[:chars - 2] + ".."
            out.append('<text x="%.2f" y="%d">%s</text>' % (x + 3, y + fh - 4, html.escape(label)))
        out.append("</g>")
        cx = x
        for c in sorted(node.children.values(), key=lambda c: c.name):
            walk(c, cx, lvl + 1)
            cx += c.value * scale

    walk(root, xpad, 0)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--title", default="Flame graph")
    ap.add_argument("--folded", help="also write the folded stacks here")
    ap.add_argument("--width", type=int, default=1200)
    a = ap.parse_args()
    stacks = fold(sys.stdin)
    if not stacks:
        print("flamegraph.py: no samples in the input", file=sys.stderr)
        sys.exit(1)
    if a.folded:
        with open(a.folded, "w") as f:
            for st, n in sorted(stacks.items()):
                f.write("%s %d\n" % (st, n))
    sys.stdout.write(render(tree(stacks), a.title, a.width))


if __name__ == "__main__":
    main()
