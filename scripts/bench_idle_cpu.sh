#!/usr/bin/env bash
# bench_idle_cpu.sh OUTDIR - the CPU an hxs stack without traffic uses: in its default mode
# (sleeping in epoll_wait between events and timers) the goal is < 1 % of one CPU; busy-poll
# (--busy-poll, opt-in) spins by design and is measured beside it for contrast. Two
# namespaces joined by a veth pair (scripts/netns.sh), the server on the hxs end, pinned to
# CPU 1 (CPU 0 on one CPU).
#
#   for server in hxs-perf -s, hxs-httpd, preload (a python server blocked in accept(2), on
#   hxs through build/libhxs-preload.so: the stack in the shim's thread, HXS_POLL=sleep|busy):
#     for mode in sleep, busy:
#       start the server; wait for its ready line, its listening socket in `hxs ss`, and
#       BENCH_IDLE_CPU_SETTLE s more (default 3: the shim's stack thread is still busy
#       starting for a second or two after the program's first calls returned)
#       window with no connection; then a kernel client (python, the other end) connects
#       and holds the connection without a byte sent (hxs-httpd: after one request
#       answered, keep-alive); established in `hxs ss`, 1 s more; window with 1 connection
#     a window: BENCH_IDLE_CPU_T s (default 5; busy-poll BENCH_IDLE_CPU_BUSY_T, default 2,
#     as it burns a core): the on-CPU time of all the server's threads from
#     /proc/PID/task/*/schedstat (ns, exact), utime+stime of /proc/PID/stat (clock ticks,
#     cross-check), and the voluntary context switches of all its threads, i.e. how often
#     the loop woke from its sleep
#   sleeping servers: a third window, with the connection and BENCH_IDLE_CPU_NL_EVENTS (default
#   2, 0: none) netlink events a second in the server's namespace (a neighbour entry of its
#   interface replaced), as a host produces them; BENCH_IDLE_CPU_SO: another build of the
#   shim (A/B)
# Writes OUTDIR/idle_cpu.json and prints one line per row. Needs root; builds nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-$BUILD/bench}
T=${BENCH_IDLE_CPU_T:-5}
TB=${BENCH_IDLE_CPU_BUSY_T:-2}
SETTLE=${BENCH_IDLE_CPU_SETTLE:-3}
SERVERS=${BENCH_IDLE_CPU_SERVERS:-hxs-perf hxs-httpd preload}
SO=$(realpath "${BENCH_IDLE_CPU_SO:-$BUILD/libhxs-preload.so}" 2>/dev/null)
NL=${BENCH_IDLE_CPU_NL_EVENTS:-2}
MODES=${BENCH_IDLE_CPU_MODES:-sleep busy}
PORT=5301
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "bench_idle_cpu: needs root (network namespaces)" >&2; exit 1; }
for s in $SERVERS; do
  f=$BUILD/$s; [ "$s" = preload ] && f=$SO
  [ -n "$f" ] && [ -e "$f" ] || { echo "bench_idle_cpu: $BUILD/$s not built" >&2; exit 1; }
done
NCPU=$(nproc)
SCPU=$(( NCPU > 1 ? 1 : 0 ))
CLK_TCK=$(getconf CLK_TCK)

source scripts/netns.sh
P=hc$(( $$ % 100000 ))
W=$(mktemp -d)
SPID= CPID=
stop() { # pid
  [ -n "$1" ] || return 0
  kill -INT "$1" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
trap 'stop "$CPID"; stop "$SPID"; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair "$P" || { echo "bench_idle_cpu: cannot create namespaces" >&2; exit 1; }
ip netns exec "$KNS" ethtool -K "$KIF" tx off >/dev/null 2>&1   # full checksums towards hxs
mkdir -p "$W/root"; echo hello >"$W/root/index.html"

# on-CPU ns of every thread of PID, utime+stime ticks, voluntary context switches of every
# thread
sample() {
  local ns=0 t
  for t in /proc/"$1"/task/*/schedstat; do
    read -r a _ <"$t" 2>/dev/null && ns=$((ns + a))
  done
  echo "$ns $(awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0)" \
    "$(cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s + 0}')"
}

# `hxs ss` lists a socket in state $1: the stack is up and publishing (the shim starts its
# stack thread after the program's first calls returned), or the server's end of the idle
# connection is established; the statistics region is published every so often: up to 5 s
ss_has() {
  local t i
  for i in $(seq 1 50); do
    t=$(ip netns exec "$HNS" "$BUILD/hxs" ss -i "$HIF" 2>/dev/null)
    [[ $t == *"$1"* ]] && return 0
    sleep 0.1
  done
  return 1
}

# one measurement window of the running server $SPID -> one row of ROWS
# (server mode conns ok netlink-events-per-s)
measure() {
  local ok=$4 nl=$5 n0 k0 v0 n1 k1 v1 t0 t1
  if [ "$ok" = 1 ]; then
    read -r n0 k0 v0 < <(sample $SPID); t0=$(date +%s.%N)
    if [ "$nl" -gt 0 ]; then
      # host events the stack hears of: a neighbour entry of its interface replaced nl times
      # a second (RTM_NEWNEIGH on its netlink socket)
      local i end=$(( $(date +%s%N) + ${secs%.*} * 1000000000 ))
      for ((i = 0; $(date +%s%N) < end; i++)); do
        ip -n "$HNS" neigh replace 10.77.0.250 lladdr 02:00:00:00:00:$(printf %02x $((i % 256))) \
          dev "$HIF" nud permanent 2>/dev/null
        sleep "$(awk -v n="$nl" 'BEGIN {printf "%.3f", 1 / n}')"
      done
      ip -n "$HNS" neigh del 10.77.0.250 dev "$HIF" 2>/dev/null
    else
      sleep "$secs"
    fi
    read -r n1 k1 v1 < <(sample $SPID); t1=$(date +%s.%N)
    kill -0 $SPID 2>/dev/null || ok=0
  fi
  [ "$ok" = 1 ] && [ "$3" = 1 ] && { ss_has ESTAB || ok=0; }   # still there at the end
  if [ "$ok" = 1 ]; then
    ROWS+=("$1 $2 $3 1 $t0 $t1 $n0 $n1 $k0 $k1 $v0 $v1 $nl")
  else
    echo "bench_idle_cpu: $1 $2 $3 connection(s): failed: $(tail -c 300 "$W/srv.log" | tr '\n' ' ')" >&2
    ROWS+=("$1 $2 $3 0 0 0 0 0 0 0 0 0 $nl")
  fi
}

ROWS=()
for s in $SERVERS; do
  for mode in $MODES; do
    secs=$T; [ "$mode" = busy ] && secs=$TB
    if [ "$s" = preload ]; then
      # a kernel-API server (python, blocked in accept) on hxs through the shim: the stack
      # runs in the shim's own thread, HXS_POLL=sleep (default) or busy
      ip netns exec "$HNS" taskset -c "$SCPU" env LD_PRELOAD="$SO" HXS_IFACE="$HIF" \
        HXS_POLL=$mode python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
held = []
while True:
    held.append(s.accept()[0])' $PORT >"$W/srv.log" 2>&1 &
    else
      args=(-i "$HIF" -p $PORT)
      [ "$s" = hxs-perf ] && args=(-s "${args[@]}")
      [ "$s" = hxs-httpd ] && args+=(-r "$W/root" --idle 3600)
      [ "$mode" = busy ] && args+=(--busy-poll)
      ip netns exec "$HNS" taskset -c "$SCPU" "$BUILD/$s" "${args[@]}" >"$W/srv.log" 2>&1 &
    fi
    SPID=$!
    ok=0
    for _ in $(seq 1 200); do
      grep -q "ready" "$W/srv.log" 2>/dev/null && { ok=1; break; }
      kill -0 $SPID 2>/dev/null || break
      sleep 0.05
    done
    [ $ok = 1 ] && { ss_has LISTEN || ok=0; }
    sleep "$SETTLE"
    measure "$s" "$mode" 0 $ok 0
    # then one idle connection to the same server
    if [ $ok = 1 ]; then
      ip netns exec "$KNS" python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
if sys.argv[3] == "hxs-httpd":
    # one request answered first: the connection has been through the data path (timers
    # armed and stopped), then stays open (HTTP/1.1 keep-alive) without a byte more
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while not got.endswith(b"hello\n"):
        b = s.recv(4096)
        if not b:
            sys.exit("closed")
        got += b
print("connected", flush=True)
time.sleep(3600)' "$HIP" $PORT "$s" >"$W/cli.log" 2>&1 &
      CPID=$!
      ok=0
      for _ in $(seq 1 100); do
        grep -q connected "$W/cli.log" 2>/dev/null && { ok=1; break; }
        kill -0 $CPID 2>/dev/null || break
        sleep 0.05
      done
      [ $ok = 1 ] && { ss_has ESTAB || ok=0; }
      sleep 1
    fi
    measure "$s" "$mode" 1 $ok 0
    # and the same with netlink events (sleeping only: a busy loop reads netlink every
    # HXS_CTL_POLL_US anyway)
    [ "$mode" = sleep ] && [ "$NL" -gt 0 ] && measure "$s" "$mode" 1 $ok "$NL"
    stop "$CPID"; CPID=
    stop $SPID; SPID=
    ip -n "$HNS" link set dev "$HIF" xdp off 2>/dev/null
  done
done

python3 - "$OUT/idle_cpu.json" "$CLK_TCK" "$SCPU" "$T" "$TB" "${ROWS[@]}" <<'PY'
import json, sys
out, hz, cpu, t, tb, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
res = {"method": "server on the hxs end of a veth pair between two namespaces, pinned to CPU %d, "
                 "no traffic; 0 or 1 established idle connection from a kernel client; sleeping: also 1 "
                 "connection with netlink_events_per_s neighbour entries replaced in its namespace; "
                 "cpu_percent = on-CPU time of the server's threads (/proc/PID/task/*/schedstat) "
                 "over the window, %% of one CPU; stat_cpu_percent = utime+stime (/proc/PID/stat, "
                 "1/%d s ticks); wakeups_per_s = voluntary context switches / s" % (cpu, hz),
       "seconds": float(t), "busy_seconds": float(tb), "goal_sleep_cpu_percent_below": 1.0,
       "runs": []}
for r in rows:
    f = r.split()
    srv, mode, conns, ok = f[0], f[1], int(f[2]), f[3] == "1"
    row = {"server": srv, "mode": mode, "connections": conns, "netlink_events_per_s": float(f[12]), "ok": ok}
    if ok:
        t0, t1 = float(f[4]), float(f[5])
        n0, n1, k0, k1, v0, v1 = (int(x) for x in f[6:12])
        w = t1 - t0
        row.update({"window_s": round(w, 3),
                    "cpu_percent": round((n1 - n0) / 1e9 / w * 100, 3),
                    "stat_cpu_percent": round((k1 - k0) / hz / w * 100, 2),
                    "wakeups_per_s": round((v1 - v0) / w, 1)})
    res["runs"].append(row)
    print("bench_idle_cpu: %s %s, %d idle connection(s)%s: %s" % (
        srv, mode, conns, ", %g netlink events/s" % row["netlink_events_per_s"] if row["netlink_events_per_s"] else "",
        ("%.3f %% of one CPU (stat %.2f %%), %.1f wake-ups/s" % (
            row["cpu_percent"], row["stat_cpu_percent"], row["wakeups_per_s"])) if ok else "failed"))
sl = [x for x in res["runs"] if x["mode"] == "sleep"]
res["sleep_max_cpu_percent"] = max((x["cpu_percent"] for x in sl if x["ok"]), default=None)
res["goal_met"] = bool(sl) and all(x["ok"] for x in sl) and res["sleep_max_cpu_percent"] < 1.0
json.dump(res, open(out, "w"), indent=1)
PY
