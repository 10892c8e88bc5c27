#!/usr/bin/env python3
"""bench_report.py - turns what scripts/bench.sh wrote into results.json, results.md and
ratios.png (gnuplot).

  runs.jsonl (one line per hxs-perf client run; absent or partial when BENCH_WORKLOADS /
  BENCH_PAIRINGS chose a subset)
    -> cells: (workload, pairing) -> per-round values, median, CPU use (client + server), the
       value per CPU used (per round, then the median)
    -> kernel reference per workload: the best kernel<->kernel median over its placements
    -> ratios hxs/kernel for every pairing with hxs; the floors of issue 13 (FLOORS) checked
  + the JSON files of the other measurements (PARTS: raw AF_XDP ping-pong, TCP core, idle
    memory, idle CPU, LD_PRELOAD servers, loss, fast path), each optional: an absent file is a
    part that did not run (BENCH_SKIP_EXTRA=1 ...) and is listed as such; a file of an error is
    shown as that error; a file this script cannot render is shown as that failure, and the
    rest of the report still comes out. JSON files of the directory this script does not know
    go into results.json under "other" and are named in results.md.
  -> TCP core headline: the "meta" slot mode of scripts/bench_tcp_core.sh (the connection
     found through the XDP metadata slot, as xsk delivers frames: the production path); the
     other modes are listed beside it
Every cell is present even when all its runs failed (value null, errors listed).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess

METRIC = {"stream": ("throughput_gbps", "Gbit/s"), "rr": ("transactions_per_s", "txn/s"),
          "crr": ("connections_per_s", "conn/s"), "udp": ("transactions_per_s", "txn/s")}
# Floors of issue 13: hxs<->hxs over the best kernel<->kernel, by workload id ...
GOALS = {"rr": 1.8, "udp": 1.8, "crr": 2.0, "stream": 0.4, "stream_rev": 0.4,
         "stream9k": 0.9, "stream9k_rev": 0.9}
# ... hxs<->hxs over the raw AF_XDP ping-pong's round trips/s of the same run (results.json key,
# workload, floor) ...
RAW_GOALS = (("hxs_rr_over_raw_afxdp", "rr", 0.80), ("hxs_udp_over_raw_afxdp", "udp", 0.85))
# ... the TCP core's instructions per in-order data segment in the production slot mode ...
CORE_GOAL = 400
CORE_HEADLINE_MODE = "meta"
# ... and the CPU of an idle stack in its default (sleeping) mode, % of one CPU (below).
IDLE_CPU_GOAL = 1.0

PAIR_DESC = {
    "kk": "kernel client / kernel server, client CPU {c}, server CPU {s}, blocking epoll, default veth offloads",
    "kk_same": "kernel / kernel, both on CPU {c}, blocking epoll, default veth offloads",
    "kk_busy": "kernel / kernel, client CPU {c}, server CPU {s}, busy-polling epoll_wait(0), default offloads (latency workloads only)",
    "hh": "hxs client / hxs server, client CPU {c}, server CPU {s}, both busy-polling AF_XDP (each burns a core)",
    "kh": "kernel client / hxs server, client CPU {c}, server CPU {s}, both busy-polling; kernel end tx offload off (full checksums)",
    "hk": "hxs client / kernel server, client CPU {c}, server CPU {s}, both busy-polling; kernel end tx offload off (full checksums)",
    "kk_napi": "kernel / kernel, client CPU {c}, server CPU {s}, blocking epoll, GRO on, each end's veth NAPI threaded and pinned to its own CPU (stream workloads only)",
    "hh_napi": "hxs / hxs, client CPU {c}, server CPU {s}, both busy-polling AF_XDP (idle turns yield), each end's veth NAPI threaded and pinned to its own CPU (hxs-perf --napi-cpu; stream workloads only)",
}
KERNEL_PAIRS = ("kk", "kk_same", "kk_busy", "kk_napi")
HXS_PAIRS = ("hh", "kh", "hk")
# hxs<->hxs placements: the "hh" ratio (the floors') is the best of these, as the kernel's
# reference is the best of KERNEL_PAIRS; the placement used is named in hxs_reference.
HH_PAIRS = ("hh", "hh_napi")
# The other measurements: results.json key, file, what writes it.
PARTS = (("xdp_pingpong", "xdp_pingpong.jsonl", "raw AF_XDP ping-pong (hxs-xdp-pingpong, one run per round)"),
         ("tcp_core", "tcp_core.json", "TCP core instruction counts (scripts/bench_tcp_core.sh)"),
         ("idle_connections", "idle.json", "memory per idle connection (scripts/bench_idle.sh)"),
         ("idle_cpu", "idle_cpu.json", "CPU of an idle stack (scripts/bench_idle_cpu.sh)"),
         ("preload", "preload.json", "unmodified servers through LD_PRELOAD (scripts/bench_preload.sh)"),
         ("loss", "loss.json", "goodput under loss (scripts/bench_loss.sh)"),
         ("fastpath", "fastpath.json", "XDP fast path on/off, SYN flood (scripts/bench_fastpath.sh)"))
OWN_FILES = {"results.json"}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def load_json(path):
    """None: the file is absent (that part did not run); {"error": ...}: unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        return {"error": "%s: %s" % (os.path.basename(path), e)}


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def read_runs(out):
    runs = []
    try:
        with open(os.path.join(out, "runs.jsonl")) as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if isinstance(r, dict) and r.get("workload") and r.get("pairing"):
                    runs.append(r)
    except OSError:
        pass
    return runs


def per_cpu(v, c, s):
    """v per CPU used: client + server process time, % of one CPU / 100."""
    if v is None or c is None or s is None or c + s <= 0:
        return None
    return v / ((c + s) / 100.0)


def build_cell(p, pr, key, mode):
    res = lambda r: r.get("result") if isinstance(r.get("result"), dict) else {}
    vals = [res(r).get(key) if r.get("ok") else None for r in pr]
    cpus = [(r.get("client_cpu_percent"), r.get("server_cpu_percent")) if r.get("ok") else (None, None)
            for r in pr]
    lat = lambda q: med([(res(r).get("latency_us") or {}).get(q) if r.get("ok") else None for r in pr])
    ok = [r for r in pr if r.get("ok")]
    c0 = pr[0]
    cell = {
        "client_stack": c0.get("client_stack"), "server_stack": c0.get("server_stack"),
        "client_cpu": c0.get("client_cpu"), "server_cpu": c0.get("server_cpu"),
        "polling": c0.get("polling"),
        "placement": PAIR_DESC.get(p, p).format(c=c0.get("client_cpu"), s=c0.get("server_cpu")),
        "rounds": [{"round": r.get("round"), "ok": bool(r.get("ok")), "value": v, "error": r.get("error"),
                    "client_cpu_percent": r.get("client_cpu_percent"),
                    "server_cpu_percent": r.get("server_cpu_percent"),
                    "value_per_cpu": per_cpu(v, c, s),
                    "retransmits": res(r).get("retransmits"),
                    "latency_us": res(r).get("latency_us") if r.get("ok") else None}
                   for r, v, (c, s) in zip(pr, vals, cpus)],
        "median": med(vals),
        "ok_rounds": len(ok),
        "client_cpu_percent": med([r.get("client_cpu_percent") for r in ok]),
        "server_cpu_percent": med([r.get("server_cpu_percent") for r in ok]),
        "cpu_percent_total": med([c + s for c, s in cpus if c is not None and s is not None]),
        # the median over rounds of each round's value / its CPU use
        "value_per_cpu": med([per_cpu(v, c, s) for v, (c, s) in zip(vals, cpus)]),
    }
    if mode in ("rr", "udp", "crr"):
        cell["latency_us_median"] = {q: lat(q) for q in ("p50", "p99", "p999", "mean")}
    if cell["median"] is None:
        cell["errors"] = sorted({r.get("error") or "failed" for r in pr})
    return cell


def build_workloads(runs):
    order_w, order_p = [], []
    for r in runs:
        if r["workload"] not in order_w:
            order_w.append(r["workload"])
        if r["pairing"] not in order_p:
            order_p.append(r["pairing"])
    workloads = {}
    for w in order_w:
        wr = [r for r in runs if r["workload"] == w]
        mode, mtu = wr[0].get("mode"), wr[0].get("mtu")
        key, unit = METRIC.get(mode, ("value", ""))
        cells = {}
        for p in order_p:
            pr = [r for r in wr if r["pairing"] == p]
            if pr:
                cells[p] = build_cell(p, pr, key, mode)
        kref = None
        for p in KERNEL_PAIRS:
            c = cells.get(p)
            if c and c["median"] is not None and (kref is None or c["median"] > cells[kref]["median"]):
                kref = p
        kval = cells[kref]["median"] if kref else None
        ratio = lambda p: (cells[p]["median"] / kval) if (cells[p]["median"] is not None and kval) else None
        href = None
        for p in HH_PAIRS:
            c = cells.get(p)
            if c and c["median"] is not None and (href is None or c["median"] > cells[href]["median"]):
                href = p
        ratios, by_pairing = {}, {}
        for p in HXS_PAIRS + HH_PAIRS[1:]:
            if p in cells:
                by_pairing[p] = ratio(p)
        for p in HXS_PAIRS:
            if p == "hh" and href:
                ratios[p] = ratio(href)
            elif p in cells:
                ratios[p] = ratio(p)
        goal = GOALS.get(w)
        hh = ratios.get("hh")
        workloads[w] = {
            "mode": mode, "mtu": mtu, "metric": key, "unit": unit,
            "direction": "server-to-client" if w.endswith("_rev") else
                         ("client-to-server" if mode == "stream" else "request/response"),
            "cells": cells,
            "kernel_reference": {"pairing": kref, "value": kval,
                                 "value_per_cpu": cells[kref]["value_per_cpu"] if kref else None},
            # hh: the best hxs<->hxs placement (hxs_reference); kh, hk: their own pairing
            "hxs_reference": {"pairing": href, "value": cells[href]["median"] if href else None},
            "ratios_hxs_over_kernel": ratios,
            "ratios_by_pairing": by_pairing,
            "goal_hh_ratio": goal,
            # null: not measured (no hxs<->hxs or kernel value in this run)
            "goal_met": (hh >= goal) if (hh is not None and goal is not None) else None,
        }
    return workloads


def core_headline(core):
    """tcp_core.json with its top-level figures taken from the production slot mode
    (CORE_HEADLINE_MODE) when the file has it; every mode stays under "slots"."""
    if not isinstance(core, dict) or "error" in core:
        return core
    slots = core.get("slots") if isinstance(core.get("slots"), dict) else {}
    first = core.get("slot_mode")
    out = {k: v for k, v in core.items() if not k.startswith("raw_")}
    raw = {k: v for k, v in core.items() if k.startswith("raw_")}
    if raw:
        out["raw_by_mode"] = {first or "first": raw}
    head = slots.get(CORE_HEADLINE_MODE)
    if isinstance(head, dict):
        # the file's top level is its first mode's: no figure of another mode stays there
        for k in (slots.get(first) or {}) if first != CORE_HEADLINE_MODE else ():
            if k not in head:
                out.pop(k, None)
        out.update(head)
    out["headline_mode"] = out.get("slot_mode")
    out["goal_instr_per_inorder_segment"] = CORE_GOAL
    return out


def floors(res):
    """Every floor of issue 13 with the value measured (None: not measured in this run)."""
    fl = []
    for w, g in GOALS.items():
        d = res["workloads"].get(w)
        v = d["ratios_hxs_over_kernel"].get("hh") if d else None
        fl.append({"floor": "%s hxs<->hxs / best kernel" % w, "value": v, "op": ">=", "goal": g})
    for key, w, g in RAW_GOALS:
        fl.append({"floor": "%s hxs<->hxs / raw AF_XDP round trips" % w, "value": res.get(key),
                   "op": ">=", "goal": g})
    core = res.get("tcp_core")
    v = core.get("instr_per_inorder_segment") if isinstance(core, dict) else None
    fl.append({"floor": "TCP core instructions per in-order segment (%s mode)" % (
        core.get("headline_mode") if isinstance(core, dict) and core.get("headline_mode") else CORE_HEADLINE_MODE),
        "value": v if num(v) else None, "op": "<=", "goal": CORE_GOAL})
    rows = idle_sleep_rows(res.get("idle_cpu"))
    v = max((r["cpu_percent"] for r in rows if r.get("ok") and num(r.get("cpu_percent"))), default=None)
    fl.append({"floor": "idle stack, default (sleeping) mode, % of one CPU (highest row)",
               "value": v, "op": "<", "goal": IDLE_CPU_GOAL,
               "failed_rows": sum(1 for r in rows if not (r.get("ok") and num(r.get("cpu_percent"))))})
    for f in fl:
        v, g = f["value"], f["goal"]
        f["met"] = None if v is None else (v >= g if f["op"] == ">=" else v <= g if f["op"] == "<=" else v < g)
        if f.get("failed_rows"):
            f["met"] = False    # a sleeping row that did not measure is no pass
    return fl


def idle_sleep_rows(ic):
    """The default-mode (sleeping) rows of idle_cpu.json."""
    if not isinstance(ic, dict) or not isinstance(ic.get("runs"), list):
        return []
    return [r for r in ic["runs"] if isinstance(r, dict) and r.get("mode") == "sleep"]


def read_blast(out):
    """xdp_blast.jsonl (bench.sh): the raw one-way AF_XDP ceiling per frame size and NAPI
    placement, medians over rounds of the sink's receive rate; None when it did not run."""
    rows = []
    try:
        with open(os.path.join(out, "xdp_blast.jsonl")) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if isinstance(r, dict) and num(r.get("mtu")):
                    rows.append(r)
    except OSError:
        return None
    cells = {}
    for r in rows:
        cells.setdefault((r["mtu"], r.get("napi"), bool(r.get("payload"))), []).append(r)
    return [{"mtu": m, "frame_bytes": m + 14, "napi": n, "payload": p, "rounds": len(rs),
             "ok_rounds": sum(1 for r in rs if r.get("ok")),
             "tx_gbps_median": med([r.get("tx_gbps") if r.get("ok") else None for r in rs]),
             "rx_gbps_median": med([r.get("rx_gbps") if r.get("ok") else None for r in rs])}
            for (m, n, p), rs in sorted(cells.items(),
                                        key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2]))]


def load_pingpong(path):
    """xdp_pingpong.jsonl (bench.sh: one hxs-xdp-pingpong JSON object per round, or an
    {"error": ...} for a round that failed) -> the round with the median round trips/s (for an
    even count the lower middle one, its round trips/s the mean of the two middle ones), with
    every round's figure and how many rounds ran; None: absent; {"error": ...}: no round ran."""
    try:
        with open(path) as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
    except FileNotFoundError:
        return None
    except OSError as e:
        return {"error": "%s: %s" % (os.path.basename(path), e)}
    runs = []
    for ln in lines:
        try:
            r = json.loads(ln)
        except ValueError as e:
            r = {"error": "unparsable line: %s" % e}
        runs.append(r if isinstance(r, dict) else {"error": "not an object"})
    ok = sorted((r for r in runs if num(r.get("roundtrips_per_s"))), key=lambda r: r["roundtrips_per_s"])
    if not ok:
        return {"error": "; ".join(str(r.get("error", "?")) for r in runs) or "no round ran"}
    pick = dict(ok[(len(ok) - 1) // 2])
    pick["roundtrips_per_s"] = med([r["roundtrips_per_s"] for r in ok])
    pick["rounds_roundtrips_per_s"] = [r.get("roundtrips_per_s") for r in runs]
    pick["ok_rounds"] = "%d/%d" % (len(ok), len(runs))
    return pick


def build(out, args):
    runs = read_runs(out)
    workloads = build_workloads(runs)
    parts = {key: (load_pingpong if fn.endswith(".jsonl") else load_json)(os.path.join(out, fn))
             for key, fn, _ in PARTS}
    parts["tcp_core"] = core_headline(parts["tcp_core"])
    known = OWN_FILES | {fn for _, fn, _ in PARTS}
    other = {}
    try:
        for fn in sorted(os.listdir(out)):
            if fn.endswith(".json") and fn not in known and os.path.isfile(os.path.join(out, fn)):
                other[fn] = load_json(os.path.join(out, fn))
    except OSError:
        pass

    # hxs<->hxs against the raw AF_XDP round trip on the same pair
    pp = parts["xdp_pingpong"]
    raw = pp.get("roundtrips_per_s") if isinstance(pp, dict) else None
    vs_raw = {}
    for key, w, _ in RAW_GOALS:
        v = workloads.get(w, {}).get("cells", {}).get("hh", {}).get("median")
        vs_raw[key] = (v / raw) if (v and num(raw) and raw > 0) else None
    core = parts["tcp_core"]
    ins = core.get("instr_per_inorder_segment") if isinstance(core, dict) else None

    res = {
        "schema": "hxs-bench/1",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": git_rev(),
        "host": {"kernel": platform.release(), "cpu_model": cpu_model(), "cpus": os.cpu_count(),
                 "machine": platform.machine()},
        "method": {
            "rounds": args.rounds, "seconds_per_run": args.seconds,
            "order": "interleaved: for each round, for each workload, every pairing in turn",
            "statistic": "median over rounds; ratio = hxs pairing median / best kernel<->kernel median",
            "topology": "two network namespaces joined by one veth pair (10.77.0.1 client, 10.77.0.2 server)",
            "client_cpu": args.client_cpu, "server_cpu": args.server_cpu,
            "pinning": "taskset -c per process",
            "cpu_use": "client: getrusage(RUSAGE_SELF) of hxs-perf; server: utime+stime from /proc/PID/stat over the client run; percent of one CPU",
            "per_cpu": "value_per_cpu = value / ((client + server CPU percent) / 100), per round, then the median: "
                       "the two processes' time only (kernel work charged to neither, e.g. softirq run elsewhere, is not in it)",
            "pairings": {p: PAIR_DESC[p].format(c=args.client_cpu, s=args.server_cpu) for p in PAIR_DESC},
        },
        "workloads": workloads,
        "xdp_pingpong": pp,
        "xdp_blast": read_blast(out),
        "hxs_rr_over_raw_afxdp": vs_raw["hxs_rr_over_raw_afxdp"],
        "hxs_udp_over_raw_afxdp": vs_raw["hxs_udp_over_raw_afxdp"],
        "tcp_core": core,
        "tcp_core_goal_met": (ins <= CORE_GOAL) if num(ins) else None,
        "idle_connections": parts["idle_connections"],
        "idle_cpu": parts["idle_cpu"],
        "preload": parts["preload"],
        "loss": parts["loss"],
        "fastpath": parts["fastpath"],
        "not_run": [fn for key, fn, _ in PARTS if parts[key] is None] + ([] if runs else ["runs.jsonl"]),
        "other": other,
    }
    res["floors"] = floors(res)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


def fmt(v, unit=""):
    if v is None:
        return "fail"
    if not num(v):
        return str(v)
    if unit == "Gbit/s":
        return "%.2f" % v
    if isinstance(v, int) or (abs(v) < 1e15 and float(v).is_integer()):
        return "%d" % v    # a count (or a median of counts)
    return "%.0f" % v if abs(v) >= 100 else "%.2f" % v


def fmt_opt(v, unit=""):
    """A figure that may not exist (not measured): '-' instead of 'fail'."""
    return "-" if v is None else fmt(v, unit)


def yes_no(m):
    return "n/a" if m is None else ("yes" if m else "no")


def section(L, title, fn, *a):
    """fn renders one part into L; a part it cannot render is said so, and the rest goes on."""
    n = len(L)
    try:
        fn(L, *a)
    except Exception as e:  # noqa: BLE001 - any malformed input: say so and keep going
        del L[n:]
        L.append("\n%s: could not be rendered (%s: %s)" % (title, type(e).__name__, e))


def md_floors(L, res):
    L.append("Floors of issue 13 (`../shared/accept/perf` checks the same; n/a: not measured in this run):\n")
    L.append("| floor | measured | goal | met |")
    L.append("|---|---|---|---|")
    for f in res["floors"]:
        v, g = f["value"], f["goal"]
        if "kernel" in f["floor"]:
            vs, gs = ("%.2fx" % v if v is not None else "-"), "%s %.1fx" % (f["op"], g)
        elif "raw" in f["floor"]:
            vs, gs = ("%.2f" % v if v is not None else "-"), "%s %.2f" % (f["op"], g)
        elif "CPU" in f["floor"]:
            vs, gs = ("%.3f %%" % v if v is not None else "-"), "%s %g %%" % (f["op"], g)
        else:
            vs, gs = ("%.1f" % v if v is not None else "-"), "%s %g" % (f["op"], g)
        L.append("| %s | %s | %s | %s |" % (f["floor"], vs, gs, yes_no(f["met"])))


def md_main(L, res):
    if not res["workloads"]:
        return
    L.append("\nEach cell: median (median %s per CPU used, CPU = client + server process time / 100 %% "
             "of one CPU); `-`: not run; `fail`: every round failed.\n" % "value")
    L.append("| workload | MTU | unit | kernel (best) | hxs<->hxs (best) | kernel->hxs | hxs->kernel | hxs/kernel | goal | met |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for w, d in res["workloads"].items():
        c, u = d["cells"], d["unit"]
        kr = d["kernel_reference"]

        def g(p):
            if p not in c:
                return "-"
            v, pc = c[p]["median"], c[p]["value_per_cpu"]
            return fmt(v, u) + (" (%s/CPU)" % fmt(pc, u) if v is not None and pc is not None else "")
        def hcell(d):
            hp = (d.get("hxs_reference") or {}).get("pairing") or "hh"
            cell = g(hp)
            return cell if hp == "hh" else cell.replace(" (", " (%s, " % hp, 1) if "(" in cell else cell + " (%s)" % hp
        r = d["ratios_hxs_over_kernel"].get("hh")
        kcell = g(kr["pairing"]).replace(" (", " (%s, " % kr["pairing"], 1) if kr["pairing"] else "-"
        if kr["pairing"] and "(" not in kcell:
            kcell += " (%s)" % kr["pairing"]
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            w, d["mtu"], u, kcell, hcell(d), g("kh"), g("hk"), "%.2fx" % r if r is not None else "n/a",
            ">= %.1fx" % d["goal_hh_ratio"] if d["goal_hh_ratio"] else "-", yes_no(d["goal_met"])))


def md_cells(L, res):
    if not res["workloads"]:
        return
    L.append("\nAll placements (medians), CPU use (client / server / both, % of one CPU) and the value per CPU used:\n")
    L.append("| workload | pairing | median | ok rounds | p50 us | p99 us | CPU client | CPU server | CPU both | per CPU |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for w, d in res["workloads"].items():
        for p, c in d["cells"].items():
            lat = c.get("latency_us_median") or {}
            L.append("| %s | %s | %s | %d/%d | %s | %s | %s | %s | %s | %s |" % (
                w, p, fmt(c["median"], d["unit"]), c["ok_rounds"], len(c["rounds"]),
                fmt_opt(lat.get("p50")) if lat else "-", fmt_opt(lat.get("p99")) if lat else "-",
                fmt_opt(c["client_cpu_percent"]), fmt_opt(c["server_cpu_percent"]),
                fmt_opt(c["cpu_percent_total"]),
                ("%s %s/CPU" % (fmt(c["value_per_cpu"], d["unit"]), d["unit"])) if c["value_per_cpu"] is not None else "-"))
    L.append("\nPairings (placement and polling of every figure):\n")
    for p, t in res["method"]["pairings"].items():
        L.append("- `%s`: %s" % (p, t))


def md_blast(L, res):
    rows = res.get("xdp_blast")
    if not rows:
        return
    L.append("\nRaw one-way AF_XDP ceiling for bulk frames (hxs-xdp-blast: a blaster on the client's CPU "
             "sending through the xsk backend, a sink on the server's counting what arrives; medians. "
             "Payload `written`: the blaster writes hxs-perf's payload sequence into every frame and "
             "sums it into the UDP checksum, the sink verifies every byte: the stream workload's own "
             "ceiling on one sending CPU):\n")
    L.append("| frame | receive NAPI | payload | sent Gbit/s | received Gbit/s | ok rounds |")
    L.append("|---|---|---|---|---|---|")
    for r in rows:
        L.append("| %s B | %s | %s | %s | %s | %d/%d |" % (
            r["frame_bytes"], "threaded, pinned" if r["napi"] == "napi" else r["napi"],
            "written" if r.get("payload") else "none",
            fmt_opt(r["tx_gbps_median"]), fmt_opt(r["rx_gbps_median"]), r["ok_rounds"], r["rounds"]))


def md_pingpong(L, res):
    pp = res["xdp_pingpong"]
    if pp is None:
        return
    rounds = pp.get("rounds_roundtrips_per_s")
    L.append("\nRaw AF_XDP (hxs-xdp-pingpong, 64 B frames, busy spinning%s): " % (
             ", one run per round right after rr, median of %s rounds (%s)" % (
                 pp.get("ok_rounds"), " / ".join(fmt_opt(x) for x in rounds)) if rounds else "") +
             ("error: %s" % pp["error"] if "error" in pp else
              "round trip p50 %s us, p99 %s us (median round), %s round trips/s (%s mode); packet rate %s frames/s sent, %s/s echoed (window %s)" % (
                  fmt_opt((pp.get("rtt_us") or {}).get("p50")), fmt_opt((pp.get("rtt_us") or {}).get("p99")),
                  fmt_opt(pp.get("roundtrips_per_s")), pp.get("xsk_mode"), fmt_opt(pp.get("tx_pps")),
                  fmt_opt(pp.get("echo_pps")), pp.get("rate_window"))))
    for key, w, g in RAW_GOALS:
        v = res.get(key)
        if v is not None:
            L.append("hxs %s / raw AF_XDP round trips (`%s`): %.2f (goal >= %.2f): %s" % (
                w, key, v, g, yes_no(v >= g)))


CORE_LABELS = {"instr_per_inorder_segment": "per in-order segment",
               "instr_per_inorder_segment_without_ack_output": "per in-order segment without the ACK it emits",
               "instr_per_ack": "per ACK"}


def fmt_core(v):
    """instruction figures to a tenth, counts whole"""
    if v is None:
        return "-"
    if isinstance(v, int):
        return "%d" % v
    return "%.1f" % v if num(v) else str(v)


def part(L, res, key, title):
    """The result of one part of the bench (scripts/bench_*.sh), or None: not run, or failed
    (its error line, under the part's title, is in L then)."""
    v = res[key]
    if v is not None and "error" in v:
        L.append("\n%s: error: %s" % (title, v["error"]))
        return None
    return v


def md_core(L, res):
    core = part(L, res, "tcp_core", "TCP core instruction counts (callgrind)")
    if core is None:
        return
    mode = core.get("headline_mode")
    ins = core.get("instr_per_inorder_segment")
    L.append("\nTCP core instruction counts (callgrind, scripts/bench_tcp_core.sh; checksum and copies excluded): "
             "%s instructions per in-order data segment received, %s per ACK processed, in the %s mode%s "
             "(goal <= %d: %s)" % (
                 fmt_core(ins), fmt_core(core.get("instr_per_ack")), '"%s"' % mode if mode else "(unnamed)",
                 " (the connection found through the XDP metadata slot, as xsk delivers frames: the production path)"
                 if mode == CORE_HEADLINE_MODE else "", CORE_GOAL, yes_no(res["tcp_core_goal_met"])))
    slots = core.get("slots")
    if not isinstance(slots, dict) or not slots:
        return
    keys = []
    for m in slots.values():
        for k, v in (m.items() if isinstance(m, dict) else ()):
            if num(v) and k not in keys:
                keys.append(k)
    # instruction figures first (known ones in their order), counts after
    keys.sort(key=lambda k: (not k.startswith("instr"), list(CORE_LABELS).index(k) if k in CORE_LABELS else 99))
    L.append("\nEvery slot mode (none: no connection slot, the 4-tuple hash; hash: slots, found by the hash; "
             "meta: slots, found by the XDP metadata's {slot, gen}):\n")
    L.append("| mode | " + " | ".join(CORE_LABELS.get(k, k) for k in keys) + " |")
    L.append("|---|" + "---|" * len(keys))
    for m, r in slots.items():
        r = r if isinstance(r, dict) else {}
        L.append("| %s%s | %s |" % (m, " (headline)" if m == mode else "",
                                    " | ".join(fmt_core(r.get(k)) for k in keys)))


def md_idle_mem(L, res):
    idle = part(L, res, "idle_connections", "Memory per idle connection")
    if idle is None:
        return
    L.append("\nMemory per idle established connection (kernel clients; hxs: hxs-httpd RSS growth / N; "
             "kernel: slab + TCP socket memory growth / 2N with kernel servers; goal for hxs <= 4096 B):\n")
    L.append("| connections | hxs-httpd B/conn | kernel B/conn (one end) |")
    L.append("|---|---|---|")
    for r in idle.get("runs") or []:
        L.append("| %s | %s | %s |" % (r.get("connections"), fmt(r.get("hxs_bytes_per_conn")),
                                      fmt(r.get("kernel_bytes_per_conn"))))


def md_idle_cpu(L, res):
    ic = part(L, res, "idle_cpu", "CPU of an idle stack")
    if ic is None:
        return
    met = [f["met"] for f in res["floors"] if f["floor"].startswith("idle stack")]
    L.append("\nCPU of an idle stack (scripts/bench_idle_cpu.sh; no traffic; server on the hxs end of the veth "
             "pair; sleeping: the default mode, %s s per row; busy-poll: opt-in, %s s per row; netlink events: a "
             "neighbour entry of the server's namespace replaced so often during the window; CPU = on-CPU time "
             "of the server's threads from /proc/PID/task/*/schedstat, %% of one CPU; wake-ups = voluntary "
             "context switches; goal when sleeping < %g %%: %s):\n" % (
                 ic.get("seconds"), ic.get("busy_seconds"), IDLE_CPU_GOAL, yes_no(met[0] if met else None)))
    L.append("| server | mode | idle connections | netlink events/s | CPU % | CPU % (/proc/PID/stat ticks) | wake-ups/s |")
    L.append("|---|---|---|---|---|---|---|")
    for r in ic.get("runs") or []:
        ok = r.get("ok")
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            r.get("server"), "sleeping (default)" if r.get("mode") == "sleep" else "busy-poll" if r.get("mode") == "busy" else r.get("mode"),
            r.get("connections"), "%g" % r["netlink_events_per_s"] if num(r.get("netlink_events_per_s")) else "0",
            ("%.3f" % r["cpu_percent"]) if ok and num(r.get("cpu_percent")) else "fail",
            ("%.2f" % r["stat_cpu_percent"]) if ok and num(r.get("stat_cpu_percent")) else "-",
            ("%.1f" % r["wakeups_per_s"]) if ok and num(r.get("wakeups_per_s")) else "-"))


def md_preload(L, res):
    pl = part(L, res, "preload", "Unmodified servers through the LD_PRELOAD shim")
    if pl is None:
        return
    if not pl.get("median"):
        return
    L.append("\nUnmodified servers through the LD_PRELOAD shim (scripts/bench_preload.sh; kernel clients "
             "redis-benchmark -c 50 and wrk -c 50 on a 1 KiB file; median of %s rounds; CPU per request = "
             "the server processes' CPU time / requests):\n" % pl.get("rounds"))
    L.append("| test | server | requests/s | server CPU us/request |")
    L.append("|---|---|---|---|")
    for test, pls in sorted(pl["median"].items()):
        for place in ("kernel", "hxs_sleep", "hxs_busy"):
            v = pls.get(place)
            if v:
                L.append("| %s | %s | %s | %s |" % (test, place, fmt_opt(v.get("req_per_s")),
                                                   "%.1f" % (v["cpu_ns_per_req"] / 1000) if num(v.get("cpu_ns_per_req")) else "-"))


def md_loss(L, res):
    ls = part(L, res, "loss", "Goodput under random loss")
    if ls is None:
        return
    medn = ls.get("median") or {}
    if not medn:
        return
    cols = []
    for row in medn.values():
        for k, v in (row.items() if isinstance(row, dict) else ()):
            if isinstance(v, dict) and k not in cols:
                cols.append(k)
    if not cols:
        return
    nrounds = max([r.get("round", 0) for r in ls.get("runs") or [] if isinstance(r, dict)] or [0])
    L.append("\nStream goodput under random loss (scripts/bench_loss.sh; hxs<->hxs and kernel<->kernel through a "
             "kernel router that drops the given share of the packets it forwards; median of %d rounds; each cell: "
             "Gbit/s, the sender's retransmissions, spurious ones = D-SACKs the receiver sent; * = a run did not "
             "verify its bytes):\n" % nrounds)
    order = ["kernel_cubic", "kernel_bbr", "hxs_cubic", "hxs_bbr"]
    cols.sort(key=lambda k: order.index(k) if k in order else 99)
    L.append("| loss % | " + " | ".join(k.replace("_", " ") for k in cols) + " | hxs bbr / best kernel |")
    L.append("|---|" + "---|" * (len(cols) + 1))
    for pct in sorted(medn, key=lambda x: float(x) if x.replace(".", "", 1).isdigit() else 1e9):
        row = medn[pct]
        cell = lambda v: ("%.3f, %s, %s%s" % (v.get("gbps", 0), fmt_opt(v.get("retransmits")), fmt_opt(v.get("spurious")),
                                              "" if v.get("all_verified", True) else " *")) if isinstance(v, dict) else "-"
        L.append("| %s | %s | %s |" % (pct, " | ".join(cell(row.get(k)) for k in cols),
                                       fmt_opt(row.get("hxs_bbr_vs_best_kernel"))))


def md_failed(L, res):
    errs = []
    for w, d in res["workloads"].items():
        for p, c in d["cells"].items():
            if c.get("errors"):
                errs.append("- %s / %s: %s" % (w, p, "; ".join(str(e)[:200] for e in c["errors"][:2])))
    if errs:
        L.append("\nFailed cells:\n")
        L.extend(errs)


def md_absent(L, res):
    if res["not_run"]:
        L.append("\nNot run in this bench (no file; BENCH_SKIP_EXTRA, BENCH_SKIP_FASTPATH or a subset): %s" %
                 ", ".join(res["not_run"]))
    if res["other"]:
        L.append("\nOther results of this directory (in results.json under `other`): %s" % ", ".join(res["other"]))


def write_md(out, res):
    L = []
    h = res["host"]
    L.append("# hxs bench (%s)\n" % res["date"])
    L.append("Linux %s, %s, %s CPUs; git %s; %s rounds x %s s per run, interleaved, medians.\n" %
             (h["kernel"], h["cpu_model"], h["cpus"], res["git"], res["method"]["rounds"],
              res["method"]["seconds_per_run"]))
    section(L, "Floors", md_floors, res)
    section(L, "Workloads", md_main, res)
    section(L, "Placements", md_cells, res)
    section(L, "Raw AF_XDP ping-pong", md_pingpong, res)
    section(L, "Raw AF_XDP bulk ceiling", md_blast, res)
    section(L, "TCP core instruction counts", md_core, res)
    section(L, "Memory per idle connection", md_idle_mem, res)
    section(L, "CPU of an idle stack", md_idle_cpu, res)
    section(L, "Unmodified servers through the LD_PRELOAD shim", md_preload, res)
    section(L, "Goodput under random loss", md_loss, res)
    section(L, "XDP fast path on / off", write_md_fastpath, res.get("fastpath"))
    section(L, "Failed cells", md_failed, res)
    section(L, "Parts not run", md_absent, res)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def write_md_fastpath(L, fp):
    """The rows of scripts/bench_fastpath.sh: fast path on vs off, SYN-flood retention."""
    if not isinstance(fp, dict):
        return
    if "error" in fp:
        L.append("\nXDP fast path on / off: error: %s" % fp["error"])
        return
    if "fastpath" not in fp:
        return
    m = fp["method"]
    rng = lambda c, k, p: ("%s-%s" % (p % c[k + "_range"][0], p % c[k + "_range"][1])) if c.get(k + "_range") else "-"
    v = lambda x, p: (p % x) if x is not None else "fail"
    L.append("\nXDP fast path on / off (scripts/bench_fastpath.sh; hxs<->hxs on the veth pair, %s, "
             "client CPU %d, server CPU %d; %d interleaved rounds x %s s, medians (min-max); stream: "
             "the server sends, `hxs-perf --reverse`; XDP share = the sender's XdpAckFastPath / "
             "(XdpAckFastPath + TcpInSegs) over the run; sender CPU = the server process's "
             "utime+stime over the run / GB received; on veth the XDP program runs in the softirq of "
             "the ACKs' transmitter, the receiver, so its cost is not in that figure):\n" % (
                 m["polling"], m["client_cpu"], m["server_cpu"], m["rounds"], m["seconds_per_run"]))
    L.append("| fast path | XDP share | stream Gbit/s | sender CPU s/GB | rr txn/s (64 B) | crr conn/s (64 B) | ok rounds |")
    L.append("|---|---|---|---|---|---|---|")
    f = fp["fastpath"]
    for o in ("on", "off"):
        s, rr, crr = f["stream"][o], f["rr"][o], f["crr"][o]
        L.append("| %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %d/%d, %d/%d, %d/%d |" % (
            o, v(s["xdp_share"], "%.3f"), rng(s, "xdp_share", "%.3f"),
            v(s["gbps"], "%.3f"), rng(s, "gbps", "%.3f"),
            v(s["sender_cpu_s_per_gb"], "%.2f"), rng(s, "sender_cpu_s_per_gb", "%.2f"),
            v(rr["value"], "%.0f"), rng(rr, "value", "%.0f"), v(crr["value"], "%.0f"), rng(crr, "value", "%.0f"),
            s["ok_rounds"], s["rounds"], rr["ok_rounds"], rr["rounds"], crr["ok_rounds"], crr["rounds"]))
    fl = fp["synflood"]
    L.append("\nGoodput of an established hxs<->hxs stream (server sending) through a SYN flood "
             "(hping3 --flood from the client's namespace, unpinned, unanswered; goodput = the server "
             "connection's bytes acknowledged over a %s s window from the flood's start, `hxs ss`; "
             "retention = median / median without a flood; goal with cookies >= 0.80; "
             "\"generator alone\": the same flood sent into a sink namespace that drops it unseen, "
             "what hping3 itself takes from the machine):\n" % m["flood_window_s"])
    L.append("| case | goodput Gbit/s | retention | vs generator alone | flood SYN/s | ok rounds |")
    L.append("|---|---|---|---|---|---|")
    for c, name in (("base", "no flood"), ("cookies", "flood, SYN cookies (default)"),
                    ("nocookies", "flood, HXS_SYNCOOKIES=0"), ("genonly", "generator alone")):
        x = fl.get(c)
        if not x:
            continue
        L.append("| %s | %s (%s) | %s | %s | %s | %d/%d |" % (
            name, v(x["gbps"], "%.3f"), rng(x, "gbps", "%.3f"),
            v(x.get("retention"), "%.2f") if c != "base" else "1",
            v(x.get("retention_vs_generator"), "%.2f") if c not in ("base", "genonly") else "-",
            v(x["flood_syn_per_s"], "%.0f") if c != "base" else "-",
            x["ok_rounds"], x["rounds"]))


def write_png(out, res):
    gp = shutil.which("gnuplot")
    if not gp:
        print("bench_report: gnuplot not found, no ratios.png")
        return
    term = "pngcairo" if "pngcairo" in subprocess.run([gp, "-e", "set terminal"], capture_output=True,
                                                      text=True).stderr else "png"
    dat = os.path.join(out, "ratios.dat")
    with open(dat, "w") as f:
        f.write("workload hh kh hk goal\n")
        for w, d in res["workloads"].items():
            r = d["ratios_hxs_over_kernel"]
            v = lambda p: "%.4f" % r[p] if r.get(p) is not None else "0"
            f.write("%s %s %s %s %s\n" % (w, v("hh"), v("kh"), v("hk"), d["goal_hh_ratio"] or 0))
    script = """
set terminal %s size 1000,500 noenhanced
set output '%s'
set title "hxs / kernel (median of %d rounds; 0 = failed); kernel = best kernel<->kernel placement\\nfloors hxs<->hxs: %s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "ratio (higher is better)"
set yrange [0:*]
set xtics rotate by -30
set xrange [-0.6:%d]
set key top left
set grid ytics
plot '%s' using 2:xtic(1) title 'hxs<->hxs', '' using 3 title 'kernel->hxs', \
     '' using 4 title 'hxs->kernel', 1 with lines lw 2 lc rgb 'black' title 'kernel = 1'
""" % (term, os.path.join(out, "ratios.png"), res["method"]["rounds"],
       ", ".join("%s >= %gx" % (w, g) for w, g in GOALS.items()), len(res["workloads"]) - 0.4, dat)
    p = subprocess.run([gp], input=script, capture_output=True, text=True)
    if p.returncode != 0:
        print("bench_report: gnuplot failed:", p.stderr.strip()[-300:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--no-png", action="store_true", help="no ratios.png (gnuplot)")
    ap.add_argument("--quiet", action="store_true", help="do not print results.md")
    args = ap.parse_args()
    res = build(args.out, args)
    write_md(args.out, res)
    if not args.no_png and res["workloads"]:
        write_png(args.out, res)
    if args.quiet:
        return
    with open(os.path.join(args.out, "results.md")) as f:
        print(f.read())


if __name__ == "__main__":
    main()
