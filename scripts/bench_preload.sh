#!/usr/bin/env bash
# bench_preload.sh OUTDIR - unmodified servers on hxs through the LD_PRELOAD shim next to the
# same servers on the kernel: one veth pair between two namespaces (scripts/netns.sh), the
# same kernel clients, server on CPU $SCPU, client on CPU $CCPU, interleaved rounds.
#
#   redis:  redis-server; redis-benchmark -t set,get -n $N -c 50 -q -> SET and GET requests/s
#   nginx:  nginx (master + 1 worker) serving a 1 KiB file; wrk -t1 -c50 -d ${T}s -> req/s
#   server placements: kernel (no shim), hxs_sleep (HXS_POLL=sleep, the default), hxs_busy
#   (HXS_POLL=busy)
#   CPU per request: the server's CPU time over the run (every thread of every server
#   process, /proc/PID/task/*/schedstat, ns) / requests served. Kernel receive work that
#   veth does in softirq on the sending CPU is charged to the client in all three cases.
#
# Environment: BENCH_T (wrk seconds, default 5), BENCH_PRELOAD_N (redis requests per test,
# default 50000), BENCH_PRELOAD_ROUNDS (default 3). Writes OUTDIR/preload.json (every run and
# the median per placement); needs root and build/libhxs-preload.so.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-$BUILD/bench}
T=${BENCH_T:-5}
N=${BENCH_PRELOAD_N:-50000}
ROUNDS=${BENCH_PRELOAD_ROUNDS:-3}
SO=$(pwd)/$BUILD/libhxs-preload.so
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "bench_preload: needs root (network namespaces)" >&2; exit 1; }
[ -f "$SO" ] || { echo "bench_preload: $SO not built" >&2; exit 1; }
for t in redis-server redis-benchmark nginx wrk; do
  command -v $t >/dev/null || { echo "bench_preload: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
NCPU=$(nproc)
CCPU=0 SCPU=$(( NCPU > 1 ? 1 : 0 ))

source scripts/netns.sh
source tests/integ/lib.sh
W=$(mktemp -d); chmod 755 "$W"
SP=
trap 'stop_pid "$SP" 15; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair "hxtbp$$" || { echo "bench_preload: cannot create namespaces" >&2; exit 1; }
RUNS=$W/runs.jsonl; : > "$RUNS"

server_cmd() { # placement -> the prefix that runs a server there
  case $1 in
    kernel)    echo "ip netns exec $HNS taskset -c $SCPU" ;;
    hxs_sleep) echo "ip netns exec $HNS taskset -c $SCPU env LD_PRELOAD=$SO HXS_IFACE=$HIF HXS_POLL=sleep" ;;
    hxs_busy)  echo "ip netns exec $HNS taskset -c $SCPU env LD_PRELOAD=$SO HXS_IFACE=$HIF HXS_POLL=busy" ;;
  esac
}
C="ip netns exec $KNS taskset -c $CCPU"
port_open() { ip netns exec "$KNS" bash -c "exec 3<>/dev/tcp/$HIP/$1" 2>/dev/null; }
# CPU ns of a process and its children, every thread
cpu_ns() { # PID
  local p s=0 f
  for p in $1 $(pgrep -P "$1"); do
    for f in /proc/$p/task/*/schedstat; do
      read -r a _ < "$f" 2>/dev/null && s=$((s + a))
    done
  done
  echo $s
}
record() { # server placement metric value cpu_ns requests
  echo "{\"server\": \"$1\", \"placement\": \"$2\", \"metric\": \"$3\", \"value\": $4, \"cpu_ns\": $5, \"requests\": $6}" >> "$RUNS"
  echo "bench_preload: $1 $2 $3 $4 req/s, $(( $5 / ($6 > 0 ? $6 : 1) )) ns CPU/request"
}

redis_run() { # placement
  local out c0 c1 set get
  $(server_cmd "$1") redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save '' \
    --appendonly no > "$W/redis.$1" 2>&1 & SP=$!
  wait_for 30 port_open 6379 || { echo "bench_preload: redis on $1 did not start" >&2; stop_pid "$SP" 15; SP=; return; }
  c0=$(cpu_ns "$SP")
  out=$($C timeout 300 redis-benchmark -h "$HIP" -p 6379 -t set,get -n "$N" -c 50 -q 2>&1 | tr '\r' '\n')
  c1=$(cpu_ns "$SP")
  set=$(echo "$out" | awk '/^SET: [0-9.]+ requests per second/{print $2}' | tail -1)
  get=$(echo "$out" | awk '/^GET: [0-9.]+ requests per second/{print $2}' | tail -1)
  stop_pid "$SP" 30; SP=
  [ -n "$set" ] && [ -n "$get" ] || { echo "bench_preload: redis-benchmark on $1 failed: $(echo "$out" | tail -2)" >&2; return; }
  # both tests' CPU together: per request of the 2N served
  record redis "$1" set "$set" $(( (c1 - c0) / 2 )) "$N"
  record redis "$1" get "$get" $(( (c1 - c0) / 2 )) "$N"
}

nginx_run() { # placement
  local out c0 c1 rps reqs
  $(server_cmd "$1") nginx -p "$W" -c "$W/ng.conf" -g "daemon off; pid $W/ng.pid; error_log $W/ng.err;" \
    2> "$W/ng.$1" & SP=$!
  wait_for 30 port_open 8080 || { echo "bench_preload: nginx on $1 did not start" >&2; stop_pid "$SP" 15; SP=; return; }
  c0=$(cpu_ns "$SP")
  out=$($C wrk -t1 -c50 -d"${T}s" "http://$HIP:8080/f1k" 2>&1)
  c1=$(cpu_ns "$SP")
  stop_pid "$SP" 30; SP=
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  reqs=$(echo "$out" | awk '/requests in/{print $1}')
  if [ -z "$rps" ] || echo "$out" | grep -qE 'Socket errors|Non-2xx'; then
    echo "bench_preload: wrk against nginx on $1: $(echo "$out" | grep -E 'Socket errors|Non-2xx|Requests' | tr '\n' ' ')" >&2
    return
  fi
  record nginx "$1" http "$rps" $((c1 - c0)) "$reqs"
}

head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$W/f1k"; chmod 644 "$W/f1k"
cat > "$W/ng.conf" <<NG
worker_processes 1;
events {}
http { access_log off; sendfile on; server { listen 8080; root $W; } }
NG
for r in $(seq "$ROUNDS"); do
  for pl in kernel hxs_sleep hxs_busy; do
    redis_run $pl
    nginx_run $pl
  done
done

python3 - "$RUNS" "$OUT/preload.json" "$ROUNDS" "$N" "$T" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for key in sorted({(r["server"], r["metric"], r["placement"]) for r in runs}):
    rs = [r for r in runs if (r["server"], r["metric"], r["placement"]) == key]
    med.setdefault("%s_%s" % key[:2], {})[key[2]] = {
        "req_per_s": statistics.median(r["value"] for r in rs),
        "cpu_ns_per_req": statistics.median(r["cpu_ns"] / max(r["requests"], 1) for r in rs),
        "runs": len(rs)}
json.dump({"rounds": int(sys.argv[3]), "redis_requests": int(sys.argv[4]), "wrk_seconds": int(sys.argv[5]),
           "median": med, "runs": runs}, open(sys.argv[2], "w"), indent=1)
for test, pls in med.items():
    print("bench_preload: median %-10s " % test + "  ".join(
        "%s %.0f req/s %.1f us/req" % (p, v["req_per_s"], v["cpu_ns_per_req"] / 1000) for p, v in pls.items()))
PY
