#!/usr/bin/env bash
# test_layers.sh - the layer rule of user/LAYERS holds on the tree and on the built objects.
#
#   1. every .c/.h of user/ lies in a folder user/LAYERS lists
#   2. includes point down: a file of layer L includes its own folder's files (bare name), a
#      lower layer's ("net/ip.h"), a public header (include/hxs/) or a generated skeleton
#   3. calls point down: no object of build/obj/user/L/ uses a symbol defined by an object of
#      a higher layer (nm), so no layer reaches up past a table or callback it was given
#   4. no circle of calls between the objects of one layer
#   5. the TCP core (user/tcp/) is sans-I/O: its objects call no clock, sleep, socket, file,
#      ring or BPF function
# Run after `make` (objects under build/obj). Prints TAP lines.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
exec python3 - "$BUILD" <<'PY'
import os, re, subprocess, sys

build = sys.argv[1]
layers = []
for line in open("user/LAYERS"):
    name = line.split("#", 1)[0].strip()
    if name:
        layers.append(name)
rank = {name: i for i, name in enumerate(layers)}
n = 0

def report(ok, what, problems):
    global n
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    for p in problems[:40]:
        print(f"#   {p}")

# 1. folders
files, loose = {}, []
for d, _, fs in os.walk("user"):
    for f in fs:
        if f.endswith((".c", ".h")):
            path = os.path.join(d, f)
            layer = os.path.relpath(d, "user")
            if layer not in rank:
                loose.append(f"{path}: folder '{layer}' is not in user/LAYERS")
            files[path] = layer
report(not loose and len(files) > 0, f"{len(files)} files, each in one of the {len(layers)} layers", loose)

# 2. includes
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
bad = []
for path, layer in sorted(files.items()):
    for inc in inc_re.findall(open(path, errors="replace").read()):
        if inc.startswith("hxs/") and os.path.exists(os.path.join("include", inc)):
            continue
        if inc.endswith(".skel.h"):
            continue
        if "/" not in inc:
            if not os.path.exists(os.path.join(os.path.dirname(path), inc)):
                bad.append(f"{path}: \"{inc}\" is not in its own folder (name a lower layer's folder)")
            continue
        target_layer = inc.split("/", 1)[0]
        if target_layer not in rank or not os.path.exists(os.path.join("user", inc)):
            bad.append(f"{path}: \"{inc}\" names no file of a layer")
        elif rank[target_layer] > rank[layer]:
            bad.append(f"{path} (layer {layer}) includes {inc} (higher layer {target_layer})")
report(not bad, "includes point down (own folder, a lower layer, or include/hxs/)", bad)

# 3. calls, from the objects
objs = {}
for layer in layers:
    d = os.path.join(build, "obj", "user", layer)
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if f.endswith(".o") and os.path.exists(os.path.join("user", layer, f[:-2] + ".c")):
                objs[os.path.join(d, f)] = layer
if "bin" in rank:
    objs = {o: l for o, l in objs.items() if l != "bin"}
defined, undefined = {}, {}
for o in objs:
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    undefined[o] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined[o].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDRBG":
            defined[parts[2]] = o
up, edges = [], {}
for o, syms in undefined.items():
    for s in syms:
        d = defined.get(s)
        if not d or d == o:
            continue
        if rank[objs[d]] > rank[objs[o]]:
            up.append(f"{o} (layer {objs[o]}) uses {s} of {d} (layer {objs[d]})")
        elif objs[d] == objs[o]:
            edges.setdefault(o, set()).add(d)
report(bool(objs) and not up, f"calls point down ({len(objs)} objects)", up or ([] if objs else ["no objects: run make first"]))

# 4. circles between the objects of one layer
circles, state = [], {}
def visit(node, path):
    state[node] = 1
    for m in sorted(edges.get(node, ())):
        if state.get(m) == 1:
            circles.append(" -> ".join(os.path.basename(x) for x in path[path.index(m):] + [m]))
        elif not state.get(m):
            visit(m, path + [m])
    state[node] = 2
for node in sorted(objs):
    if not state.get(node):
        visit(node, [node])
report(not circles, "no circle of calls inside a layer", circles)

# 5. the TCP core does no I/O and reads no clock
io_re = re.compile(r"^(clock_gettime|gettimeofday|time|clock|nanosleep|usleep|sleep|poll|ppoll|"
                   r"select|epoll_\w+|socket|bind|connect|accept4?|listen|send\w*|recv\w*|read|"
                   r"write|readv|writev|open\w*|close|ioctl|mmap|syscall|getrandom|bpf\w*|xsk_\w+|"
                   r"xdp_\w+|__rdtsc\w*)$")
core = [o for o, l in objs.items() if l == "tcp"]
calls = [f"{o} calls {s}" for o in core for s in sorted(undefined[o]) if io_re.match(s)]
report(bool(core) and not calls, f"the TCP core ({len(core)} objects) calls no clock, I/O or BPF function",
       calls or ([] if core else ["no objects of user/tcp/"]))
PY
