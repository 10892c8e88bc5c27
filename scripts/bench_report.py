#!/usr/bin/env python3
"""bench_report.py - turns the runs of scripts/bench.sh into results.json, results.md and
ratios.png (gnuplot).

  runs.jsonl (one line per hxs-perf client run) + xdp_pingpong.json + tcp_core.json + idle.json
  + preload.json (scripts/bench_preload.sh) + fastpath.json (scripts/bench_fastpath.sh)
    -> cells: (workload, pairing) -> per-round values, median, CPU use
    -> kernel reference per workload: the best kernel<->kernel median over its placements
    -> ratios hxs/kernel for every pairing with hxs, goals of issue 6 checked
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
# Goals (hxs<->hxs over the best kernel<->kernel), by workload id.
GOALS = {"rr": 3.0, "udp": 3.0, "crr": 5.0, "stream": 0.5, "stream_rev": 0.5,
         "stream9k": 1.0, "stream9k_rev": 1.0}
PAIR_DESC = {
    "kk": "kernel client / kernel server, client CPU {c}, server CPU {s}, blocking epoll, default veth offloads",
    "kk_same": "kernel / kernel, both on CPU {c}, blocking epoll, default veth offloads",
    "kk_busy": "kernel / kernel, client CPU {c}, server CPU {s}, busy-polling epoll_wait(0), default offloads (latency workloads only)",
    "hh": "hxs client / hxs server, client CPU {c}, server CPU {s}, both busy-polling AF_XDP (each burns a core)",
    "kh": "kernel client / hxs server, client CPU {c}, server CPU {s}, both busy-polling; kernel end tx offload off (full checksums)",
    "hk": "hxs client / kernel server, client CPU {c}, server CPU {s}, both busy-polling; kernel end tx offload off (full checksums)",
}
KERNEL_PAIRS = ("kk", "kk_same", "kk_busy")
HXS_PAIRS = ("hh", "kh", "hk")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
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


def build(out, args):
    runs = []
    with open(os.path.join(out, "runs.jsonl")) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    order_w, order_p = [], []
    for r in runs:
        if r["workload"] not in order_w:
            order_w.append(r["workload"])
        if r["pairing"] not in order_p:
            order_p.append(r["pairing"])

    workloads = {}
    for w in order_w:
        wr = [r for r in runs if r["workload"] == w]
        mode, mtu = wr[0]["mode"], wr[0]["mtu"]
        key, unit = METRIC[mode]
        cells = {}
        for p in order_p:
            pr = [r for r in wr if r["pairing"] == p]
            if not pr:
                continue
            vals = [(r["result"] or {}).get(key) if r["ok"] else None for r in pr]
            lat = lambda q: med([(r["result"] or {}).get("latency_us", {}).get(q) if r["ok"] else None
                                 for r in pr])
            cell = {
                "client_stack": pr[0]["client_stack"], "server_stack": pr[0]["server_stack"],
                "client_cpu": pr[0]["client_cpu"], "server_cpu": pr[0]["server_cpu"],
                "polling": pr[0]["polling"],
                "placement": PAIR_DESC.get(p, p).format(c=pr[0]["client_cpu"], s=pr[0]["server_cpu"]),
                "rounds": [{"round": r["round"], "ok": r["ok"], "value": v, "error": r["error"],
                            "client_cpu_percent": r["client_cpu_percent"],
                            "server_cpu_percent": r["server_cpu_percent"],
                            "retransmits": (r["result"] or {}).get("retransmits"),
                            "latency_us": (r["result"] or {}).get("latency_us") if r["ok"] else None}
                           for r, v in zip(pr, vals)],
                "median": med(vals),
                "ok_rounds": sum(1 for r in pr if r["ok"]),
                "client_cpu_percent": med([r["client_cpu_percent"] for r in pr if r["ok"]]),
                "server_cpu_percent": med([r["server_cpu_percent"] for r in pr if r["ok"]]),
            }
            if mode in ("rr", "udp", "crr"):
                cell["latency_us_median"] = {q: lat(q) for q in ("p50", "p99", "p999", "mean")}
            if cell["median"] is None:
                cell["errors"] = sorted({r["error"] or "failed" for r in pr})
            cells[p] = cell
        kref = None
        for p in KERNEL_PAIRS:
            c = cells.get(p)
            if c and c["median"] is not None and (kref is None or c["median"] > cells[kref]["median"]):
                kref = p
        kval = cells[kref]["median"] if kref else None
        ratios = {}
        for p in HXS_PAIRS:
            c = cells.get(p)
            if c is None:
                continue
            ratios[p] = (c["median"] / kval) if (c["median"] is not None and kval) else None
        goal = GOALS.get(w)
        hh = ratios.get("hh")
        workloads[w] = {
            "mode": mode, "mtu": mtu, "metric": key, "unit": unit,
            "direction": "server-to-client" if w.endswith("_rev") else
                         ("client-to-server" if mode == "stream" else "request/response"),
            "cells": cells,
            "kernel_reference": {"pairing": kref, "value": kval},
            "ratios_hxs_over_kernel": ratios,
            "goal_hh_ratio": goal,
            "goal_met": (hh >= goal) if (hh is not None and goal is not None) else False,
        }

    pp = load_json(os.path.join(out, "xdp_pingpong.json"))
    core = load_json(os.path.join(out, "tcp_core.json"))
    idle = load_json(os.path.join(out, "idle.json"))
    preload = load_json(os.path.join(out, "preload.json"))
    fastpath = load_json(os.path.join(out, "fastpath.json"))
    # hxs rr against the raw AF_XDP round trip on the same pair (goal >= 80 %)
    rr_vs_raw = None
    rrh = workloads.get("rr", {}).get("cells", {}).get("hh", {}).get("median")
    raw = pp.get("roundtrips_per_s") if isinstance(pp, dict) else None
    if rrh and raw:
        rr_vs_raw = rrh / raw
    core_goal = None
    if isinstance(core, dict) and core.get("instr_per_inorder_segment") is not None:
        core_goal = core["instr_per_inorder_segment"] <= 300

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
            "pairings": {p: PAIR_DESC[p].format(c=args.client_cpu, s=args.server_cpu) for p in PAIR_DESC},
        },
        "workloads": workloads,
        "xdp_pingpong": pp,
        "hxs_rr_over_raw_afxdp": rr_vs_raw,
        "tcp_core": core,
        "tcp_core_goal_met": core_goal,
        "idle_connections": idle,
        "preload": preload,
        "fastpath": fastpath,
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


def fmt(v, unit=""):
    if v is None:
        return "fail"
    if unit == "Gbit/s":
        return "%.2f" % v
    return "%.0f" % v if v >= 100 else "%.2f" % v


def write_md(out, res):
    L = []
    h = res["host"]
    L.append("# hxs bench (%s)\n" % res["date"])
    L.append("Linux %s, %s, %d CPUs; git %s; %d rounds x %s s per run, interleaved, medians.\n" %
             (h["kernel"], h["cpu_model"], h["cpus"], res["git"], res["method"]["rounds"],
              res["method"]["seconds_per_run"]))
    L.append("| workload | MTU | unit | kernel (best) | hxs<->hxs | kernel->hxs | hxs->kernel | hxs/kernel | goal | met |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for w, d in res["workloads"].items():
        c = d["cells"]
        kr = d["kernel_reference"]
        g = lambda p: fmt(c[p]["median"], d["unit"]) if p in c else "-"
        r = d["ratios_hxs_over_kernel"].get("hh")
        L.append("| %s | %d | %s | %s (%s) | %s | %s | %s | %s | %s | %s |" % (
            w, d["mtu"], d["unit"], fmt(kr["value"], d["unit"]), kr["pairing"] or "-", g("hh"), g("kh"),
            g("hk"), "%.2fx" % r if r is not None else "n/a",
            ">= %.1fx" % d["goal_hh_ratio"] if d["goal_hh_ratio"] else "-",
            "yes" if d["goal_met"] else "no"))
    L.append("\nAll kernel placements (medians) and CPU use (client / server, % of one CPU):\n")
    L.append("| workload | pairing | median | ok rounds | p50 us | p99 us | CPU client | CPU server |")
    L.append("|---|---|---|---|---|---|---|---|")
    for w, d in res["workloads"].items():
        for p, c in d["cells"].items():
            lat = c.get("latency_us_median") or {}
            L.append("| %s | %s | %s | %d/%d | %s | %s | %s | %s |" % (
                w, p, fmt(c["median"], d["unit"]), c["ok_rounds"], len(c["rounds"]),
                fmt(lat.get("p50")) if lat else "-", fmt(lat.get("p99")) if lat else "-",
                fmt(c["client_cpu_percent"]), fmt(c["server_cpu_percent"])))
    L.append("\nPairings (placement and polling of every figure):\n")
    for p, t in res["method"]["pairings"].items():
        L.append("- `%s`: %s" % (p, t))
    pp = res["xdp_pingpong"]
    L.append("\nRaw AF_XDP (hxs-xdp-pingpong, 64 B frames, busy spinning): " +
             ("error: %s" % pp["error"] if "error" in pp else
              "round trip p50 %s us, p99 %s us, %s round trips/s (%s mode); packet rate %s frames/s sent, %s/s echoed (window %s)" % (
                  fmt(pp.get("rtt_us", {}).get("p50")), fmt(pp.get("rtt_us", {}).get("p99")),
                  fmt(pp.get("roundtrips_per_s")), pp.get("xsk_mode"), fmt(pp.get("tx_pps")),
                  fmt(pp.get("echo_pps")), pp.get("rate_window"))))
    if res["hxs_rr_over_raw_afxdp"] is not None:
        L.append("hxs rr / raw AF_XDP round trips: %.0f%% (goal >= 80%%)" % (100 * res["hxs_rr_over_raw_afxdp"]))
    core = res["tcp_core"]
    L.append("\nTCP core instruction counts (callgrind): " +
             ("error: %s" % core["error"] if "error" in core else
              "%s instructions per in-order data segment received, %s per ACK processed (checksum and copy excluded; goal <= 300)" % (
                  core.get("instr_per_inorder_segment"), core.get("instr_per_ack"))))
    idle = res.get("idle_connections")
    if isinstance(idle, dict) and "error" in idle:
        L.append("\nMemory per idle connection: error: %s" % idle["error"])
    elif isinstance(idle, dict) and idle.get("runs"):
        L.append("\nMemory per idle established connection (kernel clients; hxs: hxs-httpd RSS growth / N; "
                 "kernel: slab + TCP socket memory growth / 2N with kernel servers; goal for hxs <= 4096 B):\n")
        L.append("| connections | hxs-httpd B/conn | kernel B/conn (one end) |")
        L.append("|---|---|---|")
        for r in idle["runs"]:
            L.append("| %d | %s | %s |" % (r["connections"], fmt(r.get("hxs_bytes_per_conn")),
                                          fmt(r.get("kernel_bytes_per_conn"))))
    pl = res.get("preload")
    if isinstance(pl, dict) and "error" in pl:
        L.append("\nUnmodified servers through the LD_PRELOAD shim: error: %s" % pl["error"])
    elif isinstance(pl, dict) and pl.get("median"):
        L.append("\nUnmodified servers through the LD_PRELOAD shim (scripts/bench_preload.sh; kernel clients "
                 "redis-benchmark -c 50 and wrk -c 50 on a 1 KiB file; median of %s rounds; CPU per request = "
                 "the server processes' CPU time / requests):\n" % pl.get("rounds"))
        L.append("| test | server | requests/s | server CPU us/request |")
        L.append("|---|---|---|---|")
        for test, pls in sorted(pl["median"].items()):
            for place in ("kernel", "hxs_sleep", "hxs_busy"):
                v = pls.get(place)
                if v:
                    L.append("| %s | %s | %.0f | %.1f |" % (test, place, v["req_per_s"], v["cpu_ns_per_req"] / 1000))
    write_md_fastpath(L, res.get("fastpath"))
    errs = []
    for w, d in res["workloads"].items():
        for p, c in d["cells"].items():
            if c.get("errors"):
                errs.append("- %s / %s: %s" % (w, p, "; ".join(e[:200] for e in c["errors"][:2])))
    if errs:
        L.append("\nFailed cells:\n")
        L.extend(errs)
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
set title "hxs / kernel (median of %d rounds; 0 = failed); kernel = best kernel<->kernel placement\\ngoals hxs<->hxs: rr, udp >= 3x; crr >= 5x; stream >= 0.5x (MTU 1500), >= 1x (MTU 9000)"
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
       len(res["workloads"]) - 0.4, dat)
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
    args = ap.parse_args()
    res = build(args.out, args)
    write_md(args.out, res)
    write_png(args.out, res)
    with open(os.path.join(args.out, "results.md")) as f:
        print(f.read())


if __name__ == "__main__":
    main()
