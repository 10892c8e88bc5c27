#!/usr/bin/env bash
# bench_fastpath.sh OUTDIR - the XDP fast path (pure ACKs in XDP, SYN cookies at XDP) on and
# off in the same run, hxs<->hxs on one veth pair (scripts/netns.sh topo_pair: the client on
# the K end, CPU 0; the server on the H end, CPU 1), interleaved so machine noise hits both.
#
#   part 1, round r = 1..BENCH_FP_ROUNDS (3):  for workload in stream, rr, crr:  for fp in on,
#     off (HXS_FASTPATH=0 on both ends):  start the server, run `hxs-perf -t BENCH_FP_T` (3 s)
#     stream: --reverse, so the server sends; around the client run the server's `hxs stat`
#       (before, after) gives the share of the sender's incoming segments consumed in XDP,
#       dXdpAckFastPath / (dXdpAckFastPath + dTcpInSegs), and its CPU time (utime + stime,
#       /proc/PID/stat) over the run divided by the GB the client received = CPU s per GB
#       (the sender process only: on veth XDP runs in the softirq of whoever transmits the
#       frame, here the receiver sending its ACKs, so what XDP costs is not in this figure)
#     rr, crr: 64-byte messages, transactions / connections per second
#   part 2, round r = 1..BENCH_FP_ROUNDS:  for case in base, cookies, nocookies, genonly:
#     the server (HXS_SYNCOOKIES=0 for nocookies) streams to the client (--reverse); once
#     `hxs ss` on the server shows the connection ESTAB with bytes acknowledged, hping3
#     --flood sends SYNs at full speed from the client's namespace (its kernel's RSTs to the
#     SYN-ACKs dropped by nft, so the SYNs stay unanswered): at the server's port (cookies,
#     nocookies), out of a second veth pair into a sink namespace that drops them unseen
#     (frames to a MAC nobody has: genonly, what the flood generator alone takes from a
#     2-CPU machine), or not at all (base). Goodput = bytes_acked of the server's
#     connection (`hxs ss --json`, published every 100 ms) over BENCH_FP_FLOOD_T s (3) from
#     the flood's start; retention = median goodput of a case / median of base. The stream
#     must still verify. hping3 runs unpinned.
#   Polling: blocking epoll (the stacks sleep; CPU per GB means something); BENCH_FP_POLL=busy
#   busy-polls both ends instead. BENCH_FP_PARTS: "fastpath synflood" (default) or either one;
#   BENCH_FP_WORKLOADS: a subset of "stream rr crr".
# Writes OUTDIR/fastpath.json (every run, medians, ratios) and prints bench_fastpath: lines.
# Needs root, hping3 and nft; builds nothing. Roughly 2 x 3 x 6 + 4 x 3 runs of 5-8 s: ~3 min.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-$BUILD/bench}
ROUNDS=${BENCH_FP_ROUNDS:-3}
T=${BENCH_FP_T:-3}
FT=${BENCH_FP_FLOOD_T:-3}
POLL=${BENCH_FP_POLL:-block}
PARTS=${BENCH_FP_PARTS:-fastpath synflood}
WLS=${BENCH_FP_WORKLOADS:-stream rr crr}
PERF=$BUILD/hxs-perf HXS=$BUILD/hxs
PORT=6101
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "bench_fastpath: needs root (network namespaces)" >&2; exit 1; }
[ -x "$PERF" ] && [ -x "$HXS" ] || { echo "bench_fastpath: $PERF or $HXS not built" >&2; exit 1; }
for t in hping3 nft; do
  command -v $t >/dev/null || { echo "bench_fastpath: $t missing (scripts/deps.sh installs it)" >&2; exit 1; }
done

NCPU=$(nproc)
CCPU=0 SCPU=$(( NCPU > 1 ? 1 : 0 ))
CLK_TCK=$(getconf CLK_TCK)
source scripts/netns.sh
P=hf$(( $$ % 100000 ))
W=$(mktemp -d "$OUT/fastpath.XXXXXX")
SRV= CLI= FLD=
stop() { # PID: INT, up to 5 s, then KILL
  [ -n "$1" ] || return 0
  kill -INT "$1" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
trap 'stop "$FLD"; stop "$CLI"; stop "$SRV"; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair "$P" || { echo "bench_fastpath: cannot create namespaces" >&2; exit 1; }
CNS=$KNS CIF=$KIF SNS=$HNS SIF=$HIF SIP=$HIP NOWHERE=10.79.0.99
# both ends run hxs (both have an XDP program, so both veth ends run NAPI); the kernel of the
# client's namespace only answers the flood's SYN-ACKs, and those RSTs are dropped here
ip netns exec "$CNS" nft -f - <<NFT
table inet hxs_fp_bench {
  chain out { type filter hook output priority 0; tcp dport $PORT tcp flags & rst == rst drop; }
}
NFT
# the sink: hping3 stops at the first send that fails, so genonly's SYNs must leave: a veth
# into a namespace of its own, to a neighbour entry whose MAC the sink end does not have
SINK=$P-s
ip netns add "$SINK" && _topo_ns+=("$SINK") || { echo "bench_fastpath: cannot create $SINK" >&2; exit 1; }
ip link add ${P}s0 netns "$CNS" type veth peer name ${P}s1 netns "$SINK" || exit 1
ip -n "$CNS" addr add 10.79.0.1/24 dev ${P}s0
ip -n "$CNS" link set ${P}s0 up; ip -n "$SINK" link set ${P}s1 up
ip -n "$CNS" neigh add $NOWHERE lladdr 02:00:00:00:00:99 dev ${P}s0 nud permanent
RUNS=$W/runs.jsonl
: >"$RUNS"
PARGS=()
[ "$POLL" = busy ] && PARGS=(--busy-poll)

ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sstat() { ip netns exec "$SNS" "$HXS" stat -a -i "$SIF" 2>/dev/null | awk -v k="$1" '$1==k {print $2; exit}'; }

start_server() { # ENV... (VAR=value words, may be none)
  ip netns exec "$SNS" env "$@" taskset -c "$SCPU" "$PERF" -s -i "$SIF" -p $PORT "${PARGS[@]}" \
    >"$W/srv.log" 2>&1 & SRV=$!
  for _ in $(seq 600); do   # up to 30 s: program verification on a loaded machine
    grep -q "server ready" "$W/srv.log" 2>/dev/null && return 0
    kill -0 $SRV 2>/dev/null || break
    sleep 0.05
  done
  return 1
}

# part 1: one run. Args: round workload fp(on|off). One JSON line into $RUNS.
fp_run() {
  local r=$1 wl=$2 fp=$3 env=() mode extra=() fp0=0 in0=0 fp1=0 in1=0 k0=0 k1=0 t0 t1 rc=1
  [ "$fp" = off ] && env=(HXS_FASTPATH=0)
  case $wl in
    stream) mode=stream extra=(--reverse) ;;
    *) mode=$wl extra=(-l 64) ;;
  esac
  : >"$W/cli.json"
  if start_server "${env[@]}"; then
    fp0=$(sstat XdpAckFastPath) in0=$(sstat TcpInSegs) k0=$(ticks $SRV) t0=$EPOCHREALTIME
    timeout -k 2 $(( T + 30 )) ip netns exec "$CNS" env "${env[@]}" taskset -c "$CCPU" "$PERF" \
      -c "$SIP" -i "$CIF" -p $PORT -m "$mode" -t "$T" --json "${extra[@]}" "${PARGS[@]}" \
      >"$W/cli.json" 2>"$W/cli.err"
    rc=$?
    t1=$EPOCHREALTIME k1=$(ticks $SRV) fp1=$(sstat XdpAckFastPath) in1=$(sstat TcpInSegs)
  else
    echo "bench_fastpath: server did not start: $(tail -2 "$W/srv.log")" >&2
  fi
  stop "$SRV"; SRV=
  python3 - "$W/cli.json" "$r" "$wl" "$fp" "$rc" "${fp0:-0}" "${fp1:-0}" "${in0:-0}" "${in1:-0}" \
    "$k0" "$k1" "$CLK_TCK" "$W/cli.err" "$W/srv.log" >>"$RUNS" <<'PY'
import json, sys
(cj, r, wl, fp, rc, fp0, fp1, in0, in1, k0, k1, hz, ce, sl) = sys.argv[1:15]
def tail(path, n=4):
    try:
        ls = [l for l in open(path, errors="replace").read().splitlines()
              if l.strip() and not l.startswith(("libbpf:", "libxdp:", "{", "hxs: stack counters"))
              and not (len(l.split()) == 2 and l.split()[1].isdigit())]
        return " | ".join(ls[-n:])
    except OSError:
        return ""
try:
    res = json.loads(open(cj).read().strip().splitlines()[-1])
except (OSError, ValueError, IndexError):
    res = {}
ok = rc == "0" and res.get("verified") is True and not res.get("errors")
rec = {"part": "fastpath", "round": int(r), "workload": wl, "fastpath": fp, "ok": ok}
if not ok:
    rec["error"] = "client exit %s: %s" % (rc, tail(ce)) + (" || server: " + tail(sl) if tail(sl) else "")
if ok:
    if wl == "stream":
        dfp, din = int(fp1) - int(fp0), int(in1) - int(in0)
        cpu_s = (int(k1) - int(k0)) / int(hz)
        gb = res["bytes"] / 1e9
        rec.update(gbps=res["throughput_gbps"], bytes=res["bytes"], xdp_acks=dfp, tcp_in_segs=din,
                   xdp_share=dfp / (dfp + din) if dfp + din else None, sender_cpu_s=cpu_s,
                   sender_cpu_s_per_gb=cpu_s / gb if gb else None,
                   retransmits=res.get("retransmits"))
    elif wl == "rr":
        rec.update(value=res["transactions_per_s"], p50_us=res["latency_us"]["p50"])
    else:
        rec.update(value=res["connections_per_s"])
print(json.dumps(rec))
PY
  tail -1 "$RUNS" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
if not r["ok"]:
    print("  r%d %-6s fp %-3s FAILED: %s" % (r["round"], r["workload"], r["fastpath"], r.get("error", "")[:300]))
elif r["workload"] == "stream":
    print("  r%d stream fp %-3s %.3f Gbit/s, XDP share %.3f, sender %.2f CPU s/GB" % (r["round"],
          r["fastpath"], r["gbps"], r["xdp_share"] or 0, r["sender_cpu_s_per_gb"] or 0))
else:
    print("  r%d %-6s fp %-3s %.0f/s" % (r["round"], r["workload"], r["fastpath"], r["value"]))'
}

# The server's established connection as "bytes_acked" (empty when there is none).
acked() {
  ip netns exec "$SNS" "$HXS" ss --json 2>/dev/null | python3 -c '
import json, sys
try:
    c = [x for x in json.load(sys.stdin) if x["state"] == "ESTAB" and x["proto"] == "tcp"]
except ValueError:
    c = []
print(c[0]["bytes_acked"] if c else "")'
}
moving() { local a; a=$(acked); [ -n "$a" ] && [ "$a" -gt 0 ]; }
# "TIME BYTES": bytes_acked and the middle of the read that gave it; a read can come back
# empty under a flood (hxs ss failed or found the region mid-update): up to 5 tries
sample() {
  local i a t
  for i in 1 2 3 4 5; do
    t=$EPOCHREALTIME; a=$(acked)
    if [ -n "$a" ]; then
      awk -v a="$t" -v b="$EPOCHREALTIME" -v n="$a" 'BEGIN { printf "%.6f %s\n", (a + b) / 2, n }'
      return 0
    fi
  done
  echo "0"
}

# part 2: one run. Args: round case(base|cookies|nocookies|genonly). One JSON line.
flood_run() {
  local r=$1 c=$2 env=() a0= a1= t0= t1= rc=1 sent=0 ok=0
  [ "$c" = nocookies ] && env=(HXS_SYNCOOKIES=0)
  : >"$W/cli.json"; : >"$W/hping.log"
  if start_server "${env[@]}"; then
    ip netns exec "$CNS" taskset -c "$CCPU" "$PERF" -c "$SIP" -i "$CIF" -p $PORT -m stream \
      --reverse -t $(( FT + 3 )) --json "${PARGS[@]}" >"$W/cli.json" 2>"$W/cli.err" & CLI=$!
    for _ in $(seq 200); do moving && { ok=1; break; }; kill -0 $CLI 2>/dev/null || break; sleep 0.05; done
    if [ $ok = 1 ]; then
      case $c in
        cookies|nocookies) ip netns exec "$CNS" hping3 -q -S -p $PORT --flood "$SIP" >"$W/hping.log" 2>&1 & FLD=$! ;;
        genonly) ip netns exec "$CNS" hping3 -q -S -p $PORT --flood $NOWHERE >"$W/hping.log" 2>&1 & FLD=$! ;;
      esac
      read -r t0 a0 < <(sample)
      sleep "$FT"
      read -r t1 a1 < <(sample)
      if [ -n "$FLD" ]; then
        kill -INT $FLD 2>/dev/null; wait $FLD 2>/dev/null; FLD=
        sent=$(awk '/packets transmitted/ {print $1}' "$W/hping.log")
      fi
    fi
    for _ in $(seq 600); do kill -0 $CLI 2>/dev/null || break; sleep 0.05; done
    stop "$CLI"; rc=$?; CLI=
  else
    echo "bench_fastpath: server did not start: $(tail -2 "$W/srv.log")" >&2
  fi
  stop "$SRV"; SRV=
  python3 - "$W/cli.json" "$r" "$c" "$rc" "${a0:-}" "${a1:-}" "${t0:-0}" "${t1:-0}" "${sent:-0}" \
    "$W/cli.err" "$W/srv.log" >>"$RUNS" <<'PY'
import json, sys
(cj, r, c, rc, a0, a1, t0, t1, sent, ce, sl) = sys.argv[1:12]
def tail(path, n=4):
    try:
        ls = [l for l in open(path, errors="replace").read().splitlines()
              if l.strip() and not l.startswith(("libbpf:", "libxdp:", "{", "hxs: stack counters"))
              and not (len(l.split()) == 2 and l.split()[1].isdigit())]
        return " | ".join(ls[-n:])
    except OSError:
        return ""
try:
    res = json.loads(open(cj).read().strip().splitlines()[-1])
except (OSError, ValueError, IndexError):
    res = {}
ok = rc == "0" and res.get("verified") is True and not res.get("errors") and a0 != "" and a1 != ""
dt = float(t1) - float(t0)
rec = {"part": "synflood", "round": int(r), "case": c, "ok": ok}
if not ok:
    rec["error"] = "client exit %s%s: %s" % (rc, "" if a0 and a1 else ", no ESTAB connection seen",
                                              tail(ce)) + (" || server: " + tail(sl) if tail(sl) else "")
if ok:
    rec.update(gbps=(int(a1) - int(a0)) * 8 / dt / 1e9, window_s=round(dt, 3),
               stream_gbps=res["throughput_gbps"],
               flood_syn_per_s=(int(sent) / dt) if c != "base" else 0)
print(json.dumps(rec))
PY
  tail -1 "$RUNS" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("  r%d flood %-9s %s" % (r["round"], r["case"], ("%.3f Gbit/s during the window, %.0f SYN/s" %
      (r["gbps"], r["flood_syn_per_s"])) if r["ok"] else "FAILED: " + r.get("error", "")[:300]))'
}

echo "bench_fastpath: $ROUNDS rounds, ${T}s runs, flood window ${FT}s, $POLL polling;" \
  "client CPU $CCPU, server CPU $SCPU"
START=$SECONDS
for r in $(seq "$ROUNDS"); do
  [[ " $PARTS " == *" fastpath "* ]] || break
  for wl in $WLS; do
    for fp in on off; do fp_run "$r" "$wl" "$fp"; done
  done
done
for r in $(seq "$ROUNDS"); do
  [[ " $PARTS " == *" synflood "* ]] || break
  for c in base cookies nocookies genonly; do flood_run "$r" "$c"; done
done
echo "bench_fastpath: runs took $((SECONDS - START)) s"

python3 - "$RUNS" "$OUT/fastpath.json" "$ROUNDS" "$T" "$FT" "$POLL" "$CCPU" "$SCPU" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rounds, t, ft, poll, ccpu, scpu = sys.argv[3:9]
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def spread(xs):
    xs = [x for x in xs if x is not None]
    return [min(xs), max(xs)] if xs else None
fp = {}
for wl in ("stream", "rr", "crr"):
    for f in ("on", "off"):
        rs = [r for r in runs if r["part"] == "fastpath" and r["workload"] == wl and r["fastpath"] == f]
        okr = [r for r in rs if r["ok"]]
        cell = {"ok_rounds": len(okr), "rounds": len(rs)}
        if wl == "stream":
            for k in ("gbps", "xdp_share", "sender_cpu_s_per_gb"):
                cell[k] = med([r[k] for r in okr])
                cell[k + "_range"] = spread([r[k] for r in okr])
        else:
            cell["value"] = med([r["value"] for r in okr])
            cell["value_range"] = spread([r["value"] for r in okr])
        fp.setdefault(wl, {})[f] = cell
fl = {}
for c in ("base", "cookies", "nocookies", "genonly"):
    rs = [r for r in runs if r["part"] == "synflood" and r["case"] == c]
    okr = [r for r in rs if r["ok"]]
    fl[c] = {"ok_rounds": len(okr), "rounds": len(rs), "gbps": med([r["gbps"] for r in okr]),
             "gbps_range": spread([r["gbps"] for r in okr]),
             "flood_syn_per_s": med([r["flood_syn_per_s"] for r in okr])}
base = fl["base"]["gbps"]
gen = fl["genonly"]["gbps"]
for c in ("cookies", "nocookies", "genonly"):
    g = fl[c]["gbps"]
    fl[c]["retention"] = g / base if (g is not None and base) else None
    # against the generator alone: what the flood costs beyond the CPU hping3 itself takes
    fl[c]["retention_vs_generator"] = g / gen if (g is not None and gen) else None
res = {"method": {"rounds": int(rounds), "seconds_per_run": float(t), "flood_window_s": float(ft),
                  "polling": "busy-poll" if poll == "busy" else "blocking epoll",
                  "client_cpu": int(ccpu), "server_cpu": int(scpu),
                  "topology": "hxs<->hxs on one veth pair; stream = hxs-perf --reverse (the server sends)",
                  "xdp_share": "sender's dXdpAckFastPath / (dXdpAckFastPath + dTcpInSegs) over the run (hxs stat)",
                  "sender_cpu": "server process utime+stime (/proc/PID/stat) over the client run / GB received; "
                                "on veth the XDP program runs in the softirq of the frame's transmitter (the "
                                "receiver's ACK sends), so its cost is not in this figure",
                  "flood": "hping3 --flood SYNs from the client namespace, unpinned, RSTs to the SYN-ACKs dropped; "
                           "goodput = server connection's bytes_acked (hxs ss) over the window; "
                           "retention = median / median without flood; genonly = the same flood into a sink namespace that drops it unseen"},
       "fastpath": fp, "synflood": fl, "runs": runs}
json.dump(res, open(sys.argv[2], "w"), indent=1)
f = lambda v, p="%.3f": (p % v) if v is not None else "fail"
s = fp["stream"]
print("bench_fastpath: stream on %s / off %s Gbit/s; XDP share on %s / off %s; sender CPU s/GB on %s / off %s" % (
    f(s["on"]["gbps"]), f(s["off"]["gbps"]), f(s["on"]["xdp_share"]), f(s["off"]["xdp_share"]),
    f(s["on"]["sender_cpu_s_per_gb"], "%.2f"), f(s["off"]["sender_cpu_s_per_gb"], "%.2f")))
print("bench_fastpath: rr on %s / off %s txn/s; crr on %s / off %s conn/s" % (
    f(fp["rr"]["on"]["value"], "%.0f"), f(fp["rr"]["off"]["value"], "%.0f"),
    f(fp["crr"]["on"]["value"], "%.0f"), f(fp["crr"]["off"]["value"], "%.0f")))
print("bench_fastpath: SYN flood goodput: base %s Gbit/s; cookies %s (retention %s, %s vs generator alone, %s SYN/s); "
      "no cookies %s (retention %s, %s vs generator alone, %s SYN/s); generator alone %s (retention %s, %s SYN/s)" % (
    f(base), f(fl["cookies"]["gbps"]), f(fl["cookies"]["retention"], "%.2f"),
    f(fl["cookies"]["retention_vs_generator"], "%.2f"), f(fl["cookies"]["flood_syn_per_s"], "%.0f"),
    f(fl["nocookies"]["gbps"]), f(fl["nocookies"]["retention"], "%.2f"),
    f(fl["nocookies"]["retention_vs_generator"], "%.2f"), f(fl["nocookies"]["flood_syn_per_s"], "%.0f"),
    f(fl["genonly"]["gbps"]), f(fl["genonly"]["retention"], "%.2f"), f(fl["genonly"]["flood_syn_per_s"], "%.0f")))
PY
