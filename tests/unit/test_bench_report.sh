#!/usr/bin/env bash
# test_bench_report.sh - scripts/bench_report.py on small fixtures with known answers.
#
#   1. a full directory: runs.jsonl (rr: kk_busy, hh over 3 rounds; udp: kk, hh; stream: kk, hh
#      with one failed hh round) + every part's JSON (the raw ping-pong: one line per round, one
#      of them failed -> the median of the others) -> exact medians, values per CPU, ratios,
#      hxs_rr/udp_over_raw_afxdp, the TCP core headline from the "meta" mode (a key only the
#      file's first mode has is gone from the top level; a key only meta has is shown), the
#      floors of issue 13 met or not, the idle CPU floor, the raw blast with and without payload
#      (a round with wrong frames left out), and the lines of results.md for them
#   2. a subset (BENCH_SKIP_EXTRA=1, one workload, one pairing): no part file -> exit 0, every
#      part listed as not run, floors not measured are null
#   3. broken inputs (unparsable tcp_core.json, a loss.json and an idle_cpu.json of the wrong
#      shape, an unknown JSON file, no runs.jsonl): exit 0, each broken part said so in
#      results.md, the unknown file kept under "other"
# Needs python3 only (no root, no gnuplot: --no-png). Prints TAP lines.
set -uo pipefail
cd "$(dirname "$0")/../.."
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
exec python3 - "$W" <<'PY'
import json, os, subprocess, sys

w = sys.argv[1]
n = 0
fails = 0


def check(cond, what, detail=""):
    global n, fails
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        fails += 1
        print("#   %s" % detail)


def run_report(d):
    p = subprocess.run([sys.executable, "scripts/bench_report.py", d, "--no-png", "--quiet",
                        "--rounds", "3", "--seconds", "1"], capture_output=True, text=True)
    j = md = None
    if p.returncode == 0:
        j = json.load(open(os.path.join(d, "results.json")))
        md = open(os.path.join(d, "results.md")).read()
    return p, j, md


def run_line(rnd, wl, mode, pairing, value, ccpu, scpu, ok=True, mtu=1500):
    key = {"stream": "throughput_gbps", "crr": "connections_per_s"}.get(mode, "transactions_per_s")
    res = {key: value, "latency_us": {"p50": 5.0, "p99": 9.0, "p999": 11.0, "mean": 5.5},
           "retransmits": 0, "verified": ok} if ok else None
    cs, ss = {"kk": ("kernel", "kernel"), "kk_busy": ("kernel", "kernel"), "hh": ("hxs", "hxs")}[pairing]
    return json.dumps({"round": rnd, "workload": wl, "mode": mode, "mtu": mtu, "pairing": pairing,
                       "client_stack": cs, "server_stack": ss, "client_cpu": 0, "server_cpu": 1,
                       "polling": "busy-poll", "ok": ok, "error": None if ok else "client exit status 1",
                       "result": res, "server_cpu_percent": scpu if ok else None,
                       "client_cpu_percent": ccpu if ok else None, "wall_s": 1.0})


def write(d, name, obj):
    with open(os.path.join(d, name), "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))


# --- 1. full directory -------------------------------------------------------------------------
d1 = os.path.join(w, "full")
os.makedirs(d1)
lines = []
for r, (kb, hh) in enumerate(((100000, 150000), (90000, 160000), (110000, 140000)), 1):
    lines.append(run_line(r, "rr", "rr", "kk_busy", kb, 100, 100))
    lines.append(run_line(r, "rr", "rr", "hh", hh, 100, 100))
    lines.append(run_line(r, "udp", "udp", "kk", 50000, 25, 25))
    lines.append(run_line(r, "udp", "udp", "hh", 170000, 100, 100))
    lines.append(run_line(r, "stream", "stream", "kk", 10.0, 50, 50))
    lines.append(run_line(r, "stream", "stream", "hh", 4.0 + r, 100, 100, ok=(r != 2)))
write(d1, "runs.jsonl", "\n".join(lines) + "\n")
# the raw ping-pong, one line per round: three ran (median 200000, the middle round's p50 4.0),
# one failed and is left out of the median but counted
write(d1, "xdp_pingpong.jsonl", "\n".join(json.dumps(x) for x in (
    {"round": 1, "roundtrips_per_s": 220000.0, "rtt_us": {"p50": 3.5, "p99": 4.0}, "xsk_mode": "copy"},
    {"round": 2, "error": "hxs-xdp-pingpong failed (status 1): x"},
    {"round": 3, "roundtrips_per_s": 200000.0, "rtt_us": {"p50": 4.0, "p99": 5.0},
     "xsk_mode": "copy", "tx_pps": 1, "echo_pps": 1, "rate_window": 512},
    {"round": 4, "roundtrips_per_s": 150000.0, "rtt_us": {"p50": 6.0, "p99": 9.0}, "xsk_mode": "copy"})) + "\n")
write(d1, "tcp_core.json", {
    "tool": "callgrind", "slot_mode": "none", "instr_per_inorder_segment": 1300.0, "instr_per_ack": 1900.0,
    "only_in_none": 7, "raw_segment": {"calls": 10},
    "slots": {"none": {"slot_mode": "none", "instr_per_inorder_segment": 1300.0, "instr_per_ack": 1900.0,
                       "only_in_none": 7},
              "meta": {"slot_mode": "meta", "instr_per_inorder_segment": 390.0, "instr_per_ack": 800.0,
                       "instr_per_burst_segment": 321.5}},
    "goal_instr_per_inorder_segment": 300})
write(d1, "idle_cpu.json", {"seconds": 10, "busy_seconds": 3, "runs": [
    {"server": "hxs-perf", "mode": "sleep", "connections": 0, "ok": True, "cpu_percent": 0.031,
     "stat_cpu_percent": 0.0, "wakeups_per_s": 5.0},
    {"server": "hxs-perf", "mode": "sleep", "connections": 1, "netlink_events_per_s": 2.0, "ok": True, "cpu_percent": 0.045,
     "stat_cpu_percent": 0.1, "wakeups_per_s": 6.0},
    {"server": "hxs-perf", "mode": "busy", "connections": 0, "ok": True, "cpu_percent": 99.5,
     "stat_cpu_percent": 99.4, "wakeups_per_s": 0.0}]})
write(d1, "idle.json", {"runs": [{"connections": 10000, "hxs_bytes_per_conn": 2000.0, "kernel_bytes_per_conn": 4700.0}]})
write(d1, "loss.json", {"runs": [{"loss_pct": 1, "round": 1}], "median": {"1": {
    "kernel_bbr": {"gbps": 2.0, "retransmits": 10, "spurious": 1, "all_verified": True},
    "hxs_bbr": {"gbps": 2.5, "retransmits": 12, "spurious": 3, "all_verified": False},
    "hxs_bbr_vs_best_kernel": 1.25}}})
write(d1, "preload.json", {"rounds": 1, "median": {"redis_get": {"kernel": {"req_per_s": 80000.0, "cpu_ns_per_req": 8000.0}}}})
# the raw blast: MTU 1500 softirq, no payload (two rounds, median 6.0) and written (three
# rounds, one with a wrong frame: not ok, left out -> median of 3.0 and 4.0 = 3.5)
write(d1, "xdp_blast.jsonl", "\n".join(json.dumps(x) for x in (
    {"round": 1, "mtu": 1500, "napi": "softirq", "payload": False, "tx_gbps": 7.0, "rx_gbps": 5.0, "ok": True},
    {"round": 1, "mtu": 1500, "napi": "softirq", "payload": True, "tx_gbps": 4.0, "rx_gbps": 3.0,
     "bad_frames": 0, "ok": True},
    {"round": 2, "mtu": 1500, "napi": "softirq", "payload": False, "tx_gbps": 8.0, "rx_gbps": 7.0, "ok": True},
    {"round": 2, "mtu": 1500, "napi": "softirq", "payload": True, "tx_gbps": 9.0, "rx_gbps": 9.0,
     "bad_frames": 2, "ok": False},
    {"round": 3, "mtu": 1500, "napi": "softirq", "payload": True, "tx_gbps": 5.0, "rx_gbps": 4.0,
     "bad_frames": 0, "ok": True})) + "\n")
p, j, md = run_report(d1)
check(p.returncode == 0, "full: exit 0", p.stderr[-500:])
if j is None:
    print("1..%d" % n)
    sys.exit(1)
rr = j["workloads"]["rr"]
check(rr["cells"]["hh"]["median"] == 150000 and rr["kernel_reference"] == {
    "pairing": "kk_busy", "value": 100000, "value_per_cpu": 50000.0}, "rr: medians, kernel reference",
      json.dumps(rr["kernel_reference"]))
check(rr["ratios_hxs_over_kernel"]["hh"] == 1.5 and rr["goal_hh_ratio"] == 1.8 and rr["goal_met"] is False,
      "rr: ratio 1.5 against the floor 1.8, not met", json.dumps(rr["ratios_hxs_over_kernel"]))
check(rr["cells"]["hh"]["value_per_cpu"] == 75000.0 and rr["cells"]["hh"]["cpu_percent_total"] == 200,
      "rr: value per CPU = median / ((client + server) / 100)", json.dumps(rr["cells"]["hh"]["value_per_cpu"]))
udp = j["workloads"]["udp"]
check(udp["cells"]["kk"]["value_per_cpu"] == 100000.0 and udp["ratios_hxs_over_kernel"]["hh"] == 3.4
      and udp["goal_met"] is True, "udp: per CPU of a half-idle kernel pair, ratio 3.4 met",
      json.dumps(udp["cells"]["kk"]["value_per_cpu"]))
st = j["workloads"]["stream"]["cells"]["hh"]
check(st["ok_rounds"] == 2 and st["median"] == 6.0 and st["rounds"][1]["value_per_cpu"] is None
      and st["value_per_cpu"] == 3.0, "stream: a failed round is left out of the medians",
      json.dumps([r["value"] for r in st["rounds"]]))
pp = j["xdp_pingpong"]
check(pp["roundtrips_per_s"] == 200000.0 and pp["rtt_us"]["p50"] == 4.0 and pp["ok_rounds"] == "3/4"
      and pp["rounds_roundtrips_per_s"] == [220000.0, None, 200000.0, 150000.0],
      "raw ping-pong: the median of the rounds that ran, the failed one counted", json.dumps(pp))
check("Raw AF_XDP (hxs-xdp-pingpong, 64 B frames, busy spinning, one run per round right after rr, "
      "median of 3/4 rounds (220000 / - / 200000 / 150000)): round trip p50 4 us, p99 5 us (median round), "
      "200000 round trips/s" in md,
      "results.md: the raw ping-pong's rounds", md[md.find("Raw AF_XDP"):][:300])
check(j["hxs_rr_over_raw_afxdp"] == 0.75 and j["hxs_udp_over_raw_afxdp"] == 0.85,
      "hxs_rr_over_raw_afxdp 0.75, hxs_udp_over_raw_afxdp 0.85",
      "%r %r" % (j["hxs_rr_over_raw_afxdp"], j["hxs_udp_over_raw_afxdp"]))
bl = {(r["napi"], r["payload"]): (r["rx_gbps_median"], r["ok_rounds"], r["rounds"]) for r in j["xdp_blast"]}
check(bl == {("softirq", False): (6.0, 2, 2), ("softirq", True): (3.5, 2, 3)},
      "raw blast: a cell per payload kind, a round with wrong frames left out", json.dumps(j["xdp_blast"]))
check("| 1514 B | softirq | written | 4.50 | 3.50 | 2/3 |" in md.splitlines()
      and "| 1514 B | softirq | none | 7.50 | 6 | 2/2 |" in md.splitlines(),
      "results.md: the raw blast's rows with and without payload", md[md.find("Raw one-way"):][:600])
core = j["tcp_core"]
check(core["instr_per_inorder_segment"] == 390.0 and core["headline_mode"] == "meta"
      and core["instr_per_burst_segment"] == 321.5 and "only_in_none" not in core
      and core["goal_instr_per_inorder_segment"] == 400 and j["tcp_core_goal_met"] is True
      and set(core["slots"]) == {"none", "meta"} and core["raw_by_mode"] == {"none": {"raw_segment": {"calls": 10}}},
      "tcp core: headline from the meta mode, other modes kept", json.dumps({k: v for k, v in core.items() if k != "slots"}))
fl = {f["floor"]: (f["value"], f["goal"], f["met"]) for f in j["floors"]}
want = {"rr hxs<->hxs / best kernel": (1.5, 1.8, False), "udp hxs<->hxs / best kernel": (3.4, 1.8, True),
        "crr hxs<->hxs / best kernel": (None, 2.0, None), "stream hxs<->hxs / best kernel": (0.6, 0.4, True),
        "stream_rev hxs<->hxs / best kernel": (None, 0.4, None),
        "stream9k hxs<->hxs / best kernel": (None, 0.9, None),
        "stream9k_rev hxs<->hxs / best kernel": (None, 0.9, None),
        "rr hxs<->hxs / raw AF_XDP round trips": (0.75, 0.8, False),
        "udp hxs<->hxs / raw AF_XDP round trips": (0.85, 0.85, True),
        "TCP core instructions per in-order segment (meta mode)": (390.0, 400, True),
        "idle stack, default (sleeping) mode, % of one CPU (highest row)": (0.045, 1.0, True)}
check(fl == want, "floors of issue 13: values, goals, met", json.dumps(fl))
check(j["not_run"] == ["fastpath.json"] and j["other"] == {}, "not run: fastpath.json alone", json.dumps(j["not_run"]))
for line in ("| rr | 1500 | txn/s | 100000 (kk_busy, 50000/CPU) | 150000 (75000/CPU) | - | - | 1.50x | >= 1.8x | no |",
             "| udp | 1500 | txn/s | 50000 (kk, 100000/CPU) | 170000 (85000/CPU) | - | - | 3.40x | >= 1.8x | yes |",
             "| stream | kk | 10.00 | 3/3 | - | - | 50 | 50 | 100 | 10.00 Gbit/s/CPU |",
             "| rr hxs<->hxs / raw AF_XDP round trips | 0.75 | >= 0.80 | no |",
             "| udp hxs<->hxs / raw AF_XDP round trips | 0.85 | >= 0.85 | yes |",
             "hxs udp / raw AF_XDP round trips (`hxs_udp_over_raw_afxdp`): 0.85 (goal >= 0.85): yes",
             "| TCP core instructions per in-order segment (meta mode) | 390.0 | <= 400 | yes |",
             "| mode | per in-order segment | per ACK | instr_per_burst_segment | only_in_none |",
             "| meta (headline) | 390.0 | 800.0 | 321.5 | - |",
             "| idle stack, default (sleeping) mode, % of one CPU (highest row) | 0.045 % | < 1 % | yes |",
             "| hxs-perf | sleeping (default) | 1 | 2 | 0.045 | 0.10 | 6.0 |",
             "| hxs-perf | busy-poll | 0 | 0 | 99.500 | 99.40 | 0.0 |",
             "| 1 | 2.000, 10, 1 | 2.500, 12, 3 * | 1.25 |",
             "| redis_get | kernel | 80000 | 8.0 |",
             "| 10000 | 2000 | 4700 |"):
    check(line in md.splitlines(), "results.md: " + line, "missing")

# --- 2. subset, no parts -----------------------------------------------------------------------
d2 = os.path.join(w, "subset")
os.makedirs(d2)
write(d2, "runs.jsonl", run_line(1, "rr", "rr", "hh", 1000.0, 100, 100) + "\n")
p, j, md = run_report(d2)
check(p.returncode == 0, "subset: exit 0", p.stderr[-500:])
if j:
    check(j["not_run"] == ["xdp_pingpong.jsonl", "tcp_core.json", "idle.json", "idle_cpu.json", "preload.json",
                           "loss.json", "fastpath.json"], "subset: every part listed as not run", json.dumps(j["not_run"]))
    check(j["hxs_rr_over_raw_afxdp"] is None and j["hxs_udp_over_raw_afxdp"] is None and j["tcp_core"] is None
          and j["workloads"]["rr"]["goal_met"] is None and all(f["met"] is None for f in j["floors"]),
          "subset: what was not measured is null", json.dumps(j["floors"]))
    check("| rr | 1500 | txn/s | - | 1000 (500/CPU) | - | - | n/a | >= 1.8x | n/a |" in md.splitlines(),
          "subset: results.md row with the kernel not run", md[:2000])

# --- 3. broken inputs --------------------------------------------------------------------------
d3 = os.path.join(w, "broken")
os.makedirs(d3)
write(d3, "tcp_core.json", "{broken")
write(d3, "loss.json", {"median": {"1": {"kernel_cubic": 3}}, "runs": "x"})
write(d3, "idle_cpu.json", [1, 2])
write(d3, "fastpath.json", {"fastpath": {}, "method": {}})
write(d3, "other_bench.json", {"x": 1})
p, j, md = run_report(d3)
check(p.returncode == 0, "broken: exit 0", p.stderr[-500:])
if j:
    check(j["tcp_core"]["error"].startswith("tcp_core.json: ") and j["other"] == {"other_bench.json": {"x": 1}}
          and "runs.jsonl" in j["not_run"] and j["workloads"] == {},
          "broken: unparsable file as an error, unknown file under other", json.dumps(j["not_run"]))
    check("\nTCP core instruction counts (callgrind): error: tcp_core.json: " in md
          and "\nCPU of an idle stack: could not be rendered (" in md
          and "\nXDP fast path on / off: could not be rendered (KeyError" in md
          and "Other results of this directory (in results.json under `other`): other_bench.json" in md,
          "broken: results.md says which parts could not be rendered", md[-1500:])
print("1..%d" % n)
sys.exit(1 if fails else 0)
PY
