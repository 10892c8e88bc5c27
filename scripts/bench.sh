#!/usr/bin/env bash
# bench.sh - `make bench`: the same hxs-perf workloads on kernel TCP/UDP and on hxs, side by
# side on one veth pair between two namespaces, interleaved so machine noise hits both alike.
#
#   round r = 1..ROUNDS:  for each workload:  for each pairing:  start server, run client, stop
#   workloads: stream (client->server and server->client, MTU 1500 and 9000), rr (64 B),
#              crr (64 B), udp (64 B request/response)
#              and, each round, the raw AF_XDP ping-pong (hxs-xdp-pingpong) right after rr
#   pairings:  client/server stack  kernel/kernel (placements split, same; blocking and
#              busy-polling; threaded NAPI), hxs/hxs (and with threaded NAPI), kernel/hxs,
#              hxs/kernel
#   then:      the raw one-way AF_XDP ceiling of bulk frames (hxs-xdp-blast: 1514 and 9014 B frames, the receive NAPI
#              in the sender's softirq and threaded on the sink's CPU), instruction counts of
#              the TCP core (callgrind on build/bench-tcp-core), memory per idle connection at
#              10k and 100k connections, hxs-httpd next to the kernel (scripts/bench_idle.sh),
#              the CPU an idle stack uses, sleeping (default) and busy-polling, with no and one
#              idle connection (scripts/bench_idle_cpu.sh),
#              redis and nginx unmodified on hxs (LD_PRELOAD, sleep and busy) next to the
#              kernel: requests/s and server CPU per request (scripts/bench_preload.sh),
#              stream goodput under 1/5/10 % random loss through a router, hxs and kernel with
#              CUBIC and BBR, and spurious retransmissions (scripts/bench_loss.sh), the XDP
#              fast path on and off (XDP share of the sender's incoming segments, stream
#              throughput and sender CPU per GB, rr, crr) and an established stream's goodput
#              through a SYN flood, cookies on and off (scripts/bench_fastpath.sh)
#   report:    scripts/bench_report.py -> build/bench/results.json, results.md, ratios.png
#
# Environment: BENCH_T (seconds per run, default 3), BENCH_ROUNDS (default 3),
# BENCH_WORKLOADS, BENCH_PAIRINGS (space-separated subsets of the ids below), BENCH_SKIP_EXTRA=1 (no ping-pong,
# no callgrind, none of the scripts below), BENCH_SKIP_FASTPATH=1 (no bench_fastpath.sh), BENCH_PINGPONG=1 (the raw ping-pong each round even with BENCH_SKIP_EXTRA=1), BENCH_BLAST=1 (the raw bulk ceiling even with BENCH_SKIP_EXTRA=1), BENCH_BLAST_ROUNDS (its rounds, default 1: make bench must fit the acceptance check's 25 minutes). The machine's CPUs are used as: client on CPU $CCPU, server on CPU $SCPU.
# Builds nothing: `make bench` builds first.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench
T=${BENCH_T:-3}
ROUNDS=${BENCH_ROUNDS:-3}
PERF=$BUILD/hxs-perf
PORT=5201
mkdir -p "$OUT"
RUNS=$OUT/runs.jsonl
LOGD=$OUT/logs
rm -rf "$LOGD"; mkdir -p "$LOGD"; : >"$RUNS"

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
[ -x "$PERF" ] || { echo "bench: $PERF missing (run make bench, which builds first)" >&2; exit 1; }

NCPU=$(nproc)
CCPU=0 SCPU=$(( NCPU > 1 ? 1 : 0 ))

source scripts/netns.sh
P=hb$(( $$ % 100000 ))
topo_pair "$P" || { echo "bench: cannot create namespaces" >&2; exit 1; }
# Client end: KNS/KIF (10.77.0.1); server end: HNS/HIF (10.77.0.2).
CNS=$KNS CIF=$KIF SNS=$HNS SIF=$HIF SIP=$HIP

# The kernel's default offloads for a veth, read from the end netns.sh left alone.
feat() { ip netns exec "$SNS" ethtool -k "$SIF" 2>/dev/null | awk -v k="$1:" '$1==k {print $2}'; }
DEF_TX=$(feat tx-checksumming) DEF_TSO=$(feat tcp-segmentation-offload)
DEF_GSO=$(feat generic-segmentation-offload) DEF_GRO=$(feat generic-receive-offload)
offloads() { # NS IF default|off
  if [ "$3" = default ]; then
    ip netns exec "$1" ethtool -K "$2" tx "${DEF_TX:-on}" tso "${DEF_TSO:-on}" gso "${DEF_GSO:-on}" \
      gro "${DEF_GRO:-off}" >/dev/null 2>&1
  else
    ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1
  fi
  true
}
xdp_off() { ip -n "$1" link set dev "$2" xdp off 2>/dev/null; true; }
# Threaded NAPI off again after a napi pairing (the ends turn it off at exit; a killed one
# leaves it on, and the kernel only takes the write while the veth has NAPI: GRO on for it).
napi_off() { # NS IF
  [ "$(ip netns exec "$1" cat "/sys/class/net/$2/threaded" 2>/dev/null)" = 0 ] && return 0
  local gro; gro=$(ip netns exec "$1" ethtool -k "$2" 2>/dev/null | awk '$1=="generic-receive-offload:" {print $2}')
  ip netns exec "$1" ethtool -K "$2" gro on >/dev/null 2>&1
  ip netns exec "$1" sh -c "echo 0 > /sys/class/net/$2/threaded" 2>/dev/null
  ip netns exec "$1" ethtool -K "$2" gro "${gro:-off}" >/dev/null 2>&1
  true
}
set_mtu() { ip -n "$CNS" link set dev "$CIF" mtu "$1"; ip -n "$SNS" link set dev "$SIF" mtu "$1"; }

# Pairing table: id  client-stack server-stack  client-cpu server-cpu  polling  [napi]
#   kernel ends keep default offloads when facing a kernel; a kernel end facing hxs sends full
#   checksums (tx offload off: hxs verifies every checksum and veth would send partial ones).
#   napi: each end's interface gets threaded NAPI for the run (hxs-perf --napi-cpu), its
#   thread pinned to that end's own CPU, so the work of receiving a frame (veth NAPI, XDP
#   program, AF_XDP copy or the kernel's GRO and TCP input) runs on the receiver's CPU
#   instead of inside the sender's transmit syscall; busy-polling hxs ends sched_yield() on
#   empty turns so the thread gets the CPU. Kernel ends get GRO on (a veth has NAPI only with
#   GRO or XDP), so kk_napi is the kernel given the same placement.
PAIRINGS=(
  "kk      kernel kernel $CCPU $SCPU block"
  "kk_same kernel kernel $CCPU $CCPU block"
  "kk_busy kernel kernel $CCPU $SCPU busy"
  "kk_napi kernel kernel $CCPU $SCPU block napi"
  "hh      hxs    hxs    $CCPU $SCPU busy"
  "hh_napi hxs    hxs    $CCPU $SCPU busy  napi"
  "kh      kernel hxs    $CCPU $SCPU busy"
  "hk      hxs    kernel $CCPU $SCPU busy"
)
# Workloads: id mode mtu extra-client-args
WORKLOADS=(
  "stream      stream 1500 "
  "stream_rev  stream 1500 --reverse"
  "rr          rr     1500 -l 64"
  "crr         crr    1500 -l 64"
  "udp         udp    1500 -l 64"
  "stream9k    stream 9000 "
  "stream9k_rev stream 9000 --reverse"
)
if [ -n "${BENCH_PAIRINGS:-}" ]; then
  sel=(); for p in "${PAIRINGS[@]}"; do
    for want in $BENCH_PAIRINGS; do [ "${p%% *}" = "$want" ] && sel+=("$p"); done
  done; PAIRINGS=("${sel[@]}")
fi
if [ -n "${BENCH_WORKLOADS:-}" ]; then
  sel=(); for w in "${WORKLOADS[@]}"; do
    for want in $BENCH_WORKLOADS; do [ "${w%% *}" = "$want" ] && sel+=("$w"); done
  done; WORKLOADS=("${sel[@]}")
fi

ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

# Emits one JSON line into $RUNS. Args: round wid mode mtu pid cstack sstack ccpu scpu poll
#   rc client-json-file client-err-file server-log server-cpu-percent wall_s napi
record() {
  python3 - "$@" >>"$RUNS" <<'PY'
import json, re, sys
(rnd, wid, mode, mtu, pid, cs, ss, ccpu, scpu, poll, rc, cj, ce, slog, scpu_pct, wall, napi) = sys.argv[1:18]
def tail(path, n=6):
    try:
        lines = [l for l in open(path, errors="replace").read().splitlines()
                 if l.strip() and not l.startswith(("libbpf:", "libxdp:", "{"))
                 and not re.match(r"^\w+\s+\d+$", l.strip()) and "counters at exit" not in l]
        return " | ".join(lines[-n:])
    except OSError:
        return ""
res = None
try:
    txt = open(cj).read().strip()
    if txt:
        res = json.loads(txt.splitlines()[-1])
except (OSError, ValueError):
    res = None
ok = rc == "0" and res is not None and res.get("verified") is True and not res.get("errors")
err = None
if not ok:
    err = tail(ce) or ("client exit status %s" % rc)
    if rc == "server-not-ready":
        err = "server did not become ready: " + tail(slog)
    elif tail(slog, 3) and "error" in tail(slog, 3).lower():
        err += " || server: " + tail(slog, 3)
rec = {"round": int(rnd), "workload": wid, "mode": mode, "mtu": int(mtu), "pairing": pid,
       "client_stack": cs, "server_stack": ss, "client_cpu": int(ccpu), "server_cpu": int(scpu),
       "polling": "busy-poll" if poll == "busy" else "blocking epoll",
       "napi": "threaded, each end's NAPI thread on its own CPU" if napi == "napi" else "softirq",
       "ok": ok, "error": err, "result": res,
       "server_cpu_percent": float(scpu_pct) if scpu_pct not in ("", "nan") else None,
       "client_cpu_percent": res.get("cpu_percent") if res else None,
       "wall_s": float(wall)}
print(json.dumps(rec))
PY
}

run_one() { # round "workload line" "pairing line"
  local rnd=$1 wid mode mtu extra pid cs ss ccpu scpu poll napi
  read -r wid mode mtu extra <<<"$2"
  read -r pid cs ss ccpu scpu poll napi <<<"$3"
  local tag=r${rnd}_${wid}_${pid} sargs=() cargs=()
  local slog=$LOGD/$tag.server cj=$LOGD/$tag.json ce=$LOGD/$tag.client
  # busy-poll kernel pairing only for the latency workloads (it burns two cores); the
  # threaded-NAPI pairings only for the stream workloads (bulk receive work to move)
  if [ "$pid" = kk_busy ] && [ "$mode" = stream ]; then return; fi
  if [ "$napi" = napi ] && [ "$mode" != stream ]; then return; fi
  [ "$ss" = kernel ] && sargs+=(--kernel) || sargs+=(-i "$SIF")
  [ "$cs" = kernel ] && cargs+=(--kernel) || cargs+=(-i "$CIF")
  [ "$poll" = busy ] && { sargs+=(--busy-poll); cargs+=(--busy-poll); }
  # offloads: default between kernels; a kernel end facing hxs sends full checksums
  if [ "$cs" = kernel ] && [ "$ss" = kernel ]; then
    offloads "$CNS" "$CIF" default; offloads "$SNS" "$SIF" default
  else
    [ "$cs" = kernel ] && offloads "$CNS" "$CIF" off
    [ "$ss" = kernel ] && offloads "$SNS" "$SIF" off
  fi
  if [ "$napi" = napi ]; then
    sargs+=(--napi-cpu "$scpu"); cargs+=(--napi-cpu "$ccpu")
    [ "$ss" = kernel ] && { sargs+=(-i "$SIF"); ip netns exec "$SNS" ethtool -K "$SIF" gro on >/dev/null 2>&1; }
    [ "$cs" = kernel ] && { cargs+=(-i "$CIF"); ip netns exec "$CNS" ethtool -K "$CIF" gro on >/dev/null 2>&1; }
  fi
  ip netns exec "$SNS" taskset -c "$scpu" "$PERF" -s -p $PORT "${sargs[@]}" >"$slog" 2>&1 &
  local spid=$! i rc=server-not-ready t0 t1 k0 k1 wall="0" spct=""
  for i in $(seq 1 100); do
    grep -q "server ready" "$slog" 2>/dev/null && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.05
  done
  : >"$cj"; : >"$ce"
  if grep -q "server ready" "$slog" 2>/dev/null; then
    k0=$(ticks $spid); t0=$(date +%s.%N)
    timeout -k 2 $(( ${T%.*} + 25 )) ip netns exec "$CNS" taskset -c "$ccpu" "$PERF" -c "$SIP" -p $PORT \
      -m "$mode" -t "$T" --json $extra "${cargs[@]}" >"$cj" 2>"$ce"
    rc=$?
    t1=$(date +%s.%N); k1=$(ticks $spid)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
    spct=$(awk -v a="$k0" -v b="$k1" -v hz="$CLK_TCK" -v w="$wall" 'BEGIN{if (w > 0) printf "%.1f", (b - a) * 100 / hz / w}')
  fi
  kill -INT $spid 2>/dev/null
  for i in $(seq 1 40); do kill -0 $spid 2>/dev/null || break; sleep 0.05; done
  kill -KILL $spid 2>/dev/null; wait $spid 2>/dev/null
  # a killed AF_XDP process leaves its program attached: take it off our own interfaces
  [ "$ss" = hxs ] && xdp_off "$SNS" "$SIF"
  [ "$cs" = hxs ] && xdp_off "$CNS" "$CIF"
  [ "$napi" = napi ] && { napi_off "$SNS" "$SIF"; napi_off "$CNS" "$CIF"; }
  record "$rnd" "$wid" "$mode" "$mtu" "$pid" "$cs" "$ss" "$ccpu" "$scpu" "$poll" "$rc" "$cj" "$ce" \
    "$slog" "$spct" "$wall" "${napi:-}"
  python3 -c '
import json,sys
r=json.loads(open(sys.argv[1]).read().splitlines()[-1])
m=r["mode"]; x=r["result"] or {}
v={"stream":("throughput_gbps","Gbit/s"),"crr":("connections_per_s","conn/s")}.get(m,("transactions_per_s","txn/s"))
val=x.get(v[0]) if r["ok"] else None
print("  r%d %-13s %-8s %s" % (r["round"], r["workload"], r["pairing"],
      ("%.3f %s" % (val, v[1])) if val is not None else "FAILED: " + (r["error"] or "")[:150]))' "$RUNS"
}

# --- raw AF_XDP ceiling --------------------------------------------------------------------
# The raw ping-pong (hxs-xdp-pingpong) runs once per round, right after the round's rr runs
# (or at the round's end without rr), so the rr/raw and udp/raw ratios divide two medians of
# interleaved rounds, as every other ratio does: a single run of it swung from 194k to 239k
# round trips/s between two quiet runs of this script.
XDPJ=$OUT/xdp_pingpong.jsonl
rm -f "$XDPJ" "$OUT/xdp_pingpong.json"
run_pingpong() { # round: one line of $XDPJ
  local j=$OUT/xdp_pingpong.tmp rc ppid i
  if [ ! -x "$BUILD/hxs-xdp-pingpong" ]; then
    echo '{"error":"build/hxs-xdp-pingpong not built"}' >>"$XDPJ"; return
  fi
  set_mtu 1500
  offloads "$CNS" "$CIF" off; offloads "$SNS" "$SIF" off
  ip netns exec "$SNS" taskset -c "$SCPU" "$BUILD/hxs-xdp-pingpong" -i "$SIF" --reflect \
    >"$LOGD/pingpong_r$1.server" 2>&1 &
  ppid=$!
  for i in $(seq 1 100); do grep -q reflecting "$LOGD/pingpong_r$1.server" && break; sleep 0.05; done
  timeout -k 2 60 ip netns exec "$CNS" taskset -c "$CCPU" "$BUILD/hxs-xdp-pingpong" -i "$CIF" \
    -c "$SIP" -t "$T" --json >"$j" 2>"$LOGD/pingpong_r$1.client"
  rc=$?
  kill -INT $ppid 2>/dev/null; sleep 0.3; kill -KILL $ppid 2>/dev/null; wait $ppid 2>/dev/null
  xdp_off "$SNS" "$SIF"; xdp_off "$CNS" "$CIF"
  python3 - "$rc" "$j" "$LOGD/pingpong_r$1.client" "$1" >>"$XDPJ" <<'PY'
import json, sys
rc, j, log, rnd = sys.argv[1:]
try:
    r = json.load(open(j)) if rc == "0" else None
except ValueError:
    r = None
if not isinstance(r, dict):
    r = {"error": "hxs-xdp-pingpong failed (status %s): %s" % (rc, open(log).read()[-400:])}
r["round"] = int(rnd)
print(json.dumps(r))
PY
  rm -f "$j"
  echo "  r$1 raw-pingpong  $(tail -n 1 "$XDPJ" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(("%.0f round trips/s" % j["roundtrips_per_s"]) if "roundtrips_per_s" in j else "FAILED: " + j.get("error", "")[:150])')"
}

PINGPONG=0
{ [ "${BENCH_SKIP_EXTRA:-0}" != 1 ] || [ "${BENCH_PINGPONG:-0}" = 1 ]; } && PINGPONG=1
echo "bench: $ROUNDS rounds x ${#WORKLOADS[@]} workloads x ${#PAIRINGS[@]} pairings, ${T}s each;" \
  "client on CPU $CCPU, server on CPU $SCPU ($NCPU CPUs)"
START=$SECONDS
HAVE_RR=0
for w in "${WORKLOADS[@]}"; do [ "${w%% *}" = rr ] && HAVE_RR=1; done
for rnd in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    read -r _ _ mtu _ <<<"$w"
    set_mtu "$mtu"
    for p in "${PAIRINGS[@]}"; do run_one "$rnd" "$w" "$p"; done
    [ "$PINGPONG" = 1 ] && [ "${w%% *}" = rr ] && run_pingpong "$rnd"
  done
  [ "$PINGPONG" = 1 ] && [ $HAVE_RR = 0 ] && run_pingpong "$rnd"
done
set_mtu 1500
echo "bench: hxs-perf runs took $((SECONDS - START)) s"

# --- raw one-way AF_XDP ceiling for bulk frames -----------------------------------------------
# What the stream workloads are held against: the sink's receive rate of a blaster sending
# MTU-sized UDP frames through the same XDP program and xsk backend, both busy-polling (the
# blaster on the client's CPU, the sink on the server's), with the receive NAPI unthreaded
# (as hh) and threaded on the sink's CPU (as hh_napi); each with no payload written (the
# datapath's own ceiling) and with --payload (hxs-perf's payload sequence written and summed by
# the blaster, verified by the sink: the stream workload's own ceiling on one sending CPU). One
# JSON object per line.
BLJ=$OUT/xdp_blast.jsonl
rm -f "$BLJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ] || [ "${BENCH_BLAST:-0}" = 1 ]; then
  if [ -x "$BUILD/hxs-xdp-blast" ]; then
    offloads "$CNS" "$CIF" off; offloads "$SNS" "$SIF" off
    for rnd in $(seq 1 "${BENCH_BLAST_ROUNDS:-1}"); do
      for mtu in 1500 9000; do
        set_mtu "$mtu"
        for place in softirq napi; do
         for pay in none payload; do
          sx=() cx=()
          [ "$place" = napi ] && { sx=(--napi-cpu "$SCPU"); cx=(--napi-cpu "$CCPU"); }
          [ "$pay" = payload ] && { sx+=(--payload); cx+=(--payload); }
          ip netns exec "$SNS" taskset -c "$SCPU" "$BUILD/hxs-xdp-blast" -i "$SIF" --sink --json \
            "${sx[@]}" >"$LOGD/blast.sink" 2>&1 &
          bpid=$!
          for i in $(seq 1 100); do grep -q sinking "$LOGD/blast.sink" && break; sleep 0.05; done
          timeout -k 2 $(( ${T%.*} + 20 )) ip netns exec "$CNS" taskset -c "$CCPU" "$BUILD/hxs-xdp-blast" \
            -i "$CIF" -c "$SIP" -s $(( mtu + 14 )) -t "$T" --json "${cx[@]}" >"$LOGD/blast.tx" 2>&1
          kill -INT $bpid 2>/dev/null
          for i in $(seq 1 40); do kill -0 $bpid 2>/dev/null || break; sleep 0.05; done
          kill -KILL $bpid 2>/dev/null; wait $bpid 2>/dev/null
          xdp_off "$SNS" "$SIF"; xdp_off "$CNS" "$CIF"
          napi_off "$SNS" "$SIF"; napi_off "$CNS" "$CIF"
          python3 - "$rnd" "$mtu" "$place" "$pay" "$LOGD/blast.tx" "$LOGD/blast.sink" >>"$BLJ" <<'PY'
import json, sys
rnd, mtu, place, pay, txf, rxf = sys.argv[1:7]
def last(path):
    for l in reversed(open(path, errors="replace").read().splitlines()):
        if l.startswith("{"):
            try: return json.loads(l)
            except ValueError: return None
    return None
tx, rx = last(txf), last(rxf)
print(json.dumps({"round": int(rnd), "mtu": int(mtu), "frame_bytes": int(mtu) + 14, "napi": place,
                  "payload": pay == "payload",
                  "tx_gbps": tx and tx.get("tx_gbps"), "rx_gbps": rx and rx.get("rx_gbps"),
                  "bad_frames": rx and rx.get("bad_frames"),
                  "ok": bool(tx and rx and not (rx.get("bad_frames") or 0))}))
PY
          tail -1 "$BLJ" | sed 's/^/bench: raw blast /'
         done
        done
      done
    done
    set_mtu 1500
  fi
fi

# run_part NAME JSON WHAT SCRIPT: SCRIPT "$OUT" with its output in $LOGD/NAME.log; when it fails,
# JSON says {"error": "WHAT failed: <the log's last 400 bytes>"}, which the report shows.
run_part() {
  local name=$1 json=$2 what=$3 script=$4
  "$script" "$OUT" >"$LOGD/$name.log" 2>&1 ||
    python3 -c 'import json,sys; print(json.dumps({"error": sys.argv[1] + " failed: " + open(sys.argv[2]).read()[-400:]}))' \
      "$what" "$LOGD/$name.log" >"$json"
}

# --- instruction counts of the TCP core ------------------------------------------------------
CGJ=$OUT/tcp_core.json
rm -f "$CGJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ]; then
  run_part tcp_core "$CGJ" "tcp core instruction count" scripts/bench_tcp_core.sh
  echo "bench: TCP core: $(head -c 300 "$CGJ")"
fi

# --- memory per idle connection --------------------------------------------------------------
IDJ=$OUT/idle.json
rm -f "$IDJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ]; then
  run_part idle "$IDJ" "idle connection memory" scripts/bench_idle.sh
  echo "bench: idle connections: $(grep '^bench_idle:' "$LOGD/idle.log" | tr '\n' ' ')"
fi

# --- CPU of an idle stack, sleeping (the default) and busy-polling ----------------------------
ICJ=$OUT/idle_cpu.json
rm -f "$ICJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ]; then
  run_part idle_cpu "$ICJ" "idle CPU" scripts/bench_idle_cpu.sh
  grep '^bench_idle_cpu:' "$LOGD/idle_cpu.log"
fi

# --- unmodified servers through the LD_PRELOAD shim -------------------------------------------
PLJ=$OUT/preload.json
rm -f "$PLJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ]; then
  run_part preload "$PLJ" "preload servers" scripts/bench_preload.sh
  echo "bench: preload: $(grep '^bench_preload: median' "$LOGD/preload.log" | tr '\n' ' ')"
fi

# --- goodput under random loss, hxs next to the kernel (CUBIC, BBR) ---------------------------
LSJ=$OUT/loss.json
rm -f "$LSJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ]; then
  run_part loss "$LSJ" "loss goodput" scripts/bench_loss.sh
  grep '^bench_loss:' "$LOGD/loss.log"
fi

# --- the XDP fast path on and off, SYN-flood goodput retention -------------------------------
FPJ=$OUT/fastpath.json
rm -f "$FPJ"
if [ "${BENCH_SKIP_EXTRA:-0}" != 1 ] && [ "${BENCH_SKIP_FASTPATH:-0}" != 1 ]; then
  run_part fastpath "$FPJ" "fast path bench" scripts/bench_fastpath.sh
  grep '^bench_fastpath:' "$LOGD/fastpath.log"
fi

python3 scripts/bench_report.py "$OUT" --rounds "$ROUNDS" --seconds "$T" \
  --client-cpu "$CCPU" --server-cpu "$SCPU"
echo "bench: total $((SECONDS - START)) s; results in $OUT/results.json, results.md, ratios.png"
