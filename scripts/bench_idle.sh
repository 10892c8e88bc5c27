#!/usr/bin/env bash
# bench_idle.sh OUTDIR - memory per idle established connection, hxs next to the kernel, at
# 10,000 and 100,000 connections (BENCH_IDLE_COUNTS). Two namespaces joined by a veth pair
# (scripts/netns.sh); the clients are the kernel's: python processes of at most 10,000
# connections each (one process may hold 20,000 descriptors here), each from its own address
# of the client end, connecting and then holding the connections without a byte sent.
#
#   hxs:    build/hxs-httpd on the server end; bytes per connection = the growth of its VmRSS
#           from before the first connection to when all N are open, / N
#   kernel: python servers (SO_REUSEPORT, one per 10,000 connections) accepting and holding
#           the same N connections on kernel sockets; bytes per connection = the growth of the
#           kernel's memory (slab pages of /proc/slabinfo + TCP socket memory pages of
#           /proc/net/sockstat) / 2N: both ends are kernel sockets there, so half of it is
#           the server end's share. The same figure from the hxs run (its clients' ends and
#           the XDP conn map entries) is reported beside it.
# Slab and sockstat are machine-wide: other activity on the machine shows up in the kernel
# figures (the JSON keeps the raw deltas). Writes OUTDIR/idle.json; needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-$BUILD/bench}
COUNTS=${BENCH_IDLE_COUNTS:-10000 100000}
PER_PROC=10000
PORT=8080
HTTPD=$BUILD/hxs-httpd
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "bench_idle: needs root (network namespaces)" >&2; exit 1; }
[ -x "$HTTPD" ] || { echo "bench_idle: $HTTPD not built" >&2; exit 1; }

source scripts/netns.sh
P=hi$(( $$ % 100000 ))
W=$(mktemp -d)
trap '_topo_cleanup; rm -rf "$W"' EXIT
topo_pair "$P" || { echo "bench_idle: cannot create namespaces" >&2; exit 1; }
ip netns exec "$KNS" ethtool -K "$KIF" tx off >/dev/null 2>&1   # full checksums towards hxs
mkdir -p "$W/root"; echo hello >"$W/root/index.html"

# kernel memory now: slab pages + TCP socket buffer pages, bytes
kmem() {
  python3 - <<'PY'
tot = 0
for line in open("/proc/slabinfo"):
    if line.startswith(("slabinfo", "#")):
        continue
    f = line.split()
    # name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata active_slabs num_slabs sharedavail
    num_slabs, pages = int(f[f.index("slabdata") + 2]), int(f[5])
    tot += num_slabs * pages * 4096
for line in open("/proc/net/sockstat"):
    if line.startswith("TCP:"):
        f = line.split()
        tot += int(f[f.index("mem") + 1]) * 4096
print(tot)
PY
}
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

# Client processes for n connections: k of them, each from address 10.77.0.(100+i); each writes
# its count to $W/held.i once its connections are open, then holds them until killed.
CLIENTS=()
clients_start() { # n
  local n=$1 k=$(( ($1 + PER_PROC - 1) / PER_PROC )) i m
  rm -f "$W"/held.*
  CLIENTS=()
  for ((i = 0; i < k; i++)); do
    m=$(( n - i * PER_PROC < PER_PROC ? n - i * PER_PROC : PER_PROC ))
    ip -n "$KNS" addr add 10.77.0.$((100 + i))/24 dev "$KIF" 2>/dev/null
    ip netns exec "$KNS" python3 - "$HIP" $PORT 10.77.0.$((100 + i)) "$m" "$W/held.$i" <<'PY' &
import socket, struct, sys, time
host, port, src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
ss = []
for _ in range(n):
    s = socket.create_connection((host, port), timeout=60, source_address=(src, 0))
    # closed with a RST when the process ends: no TIME-WAIT left to expire under the next
    # measurement
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ss.append(s)
open(out, "w").write(str(len(ss)))
while True:
    time.sleep(60)
PY
    CLIENTS+=($!)
  done
}
clients_held() { awk '{s += $1} END {print s + 0}' "$W"/held.* 2>/dev/null || echo 0; }
clients_wait() { # n timeout_s
  local i
  for ((i = 0; i < $2 * 2; i++)); do
    [ "$(ls "$W"/held.* 2>/dev/null | wc -l)" -eq ${#CLIENTS[@]} ] && break
    for p in "${CLIENTS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
    sleep 0.5
  done
  [ "$(clients_held)" -eq "$1" ]
}
clients_stop() {
  local p
  for p in "${CLIENTS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${CLIENTS[@]}"; do wait "$p" 2>/dev/null; done
  CLIENTS=()
}
# the kernel closes the client sockets; wait until the server side has let go of them too
settle() { local i; for ((i = 0; i < 60; i++)); do
  [ "$(ip netns exec "$HNS" ss -Htn | wc -l)" -eq 0 ] && [ "$(ip netns exec "$KNS" ss -Htn | wc -l)" -eq 0 ] && return
  sleep 0.5; done; }

RESULTS=()
for N in $COUNTS; do
  K=$(( (N + PER_PROC - 1) / PER_PROC ))
  # --- hxs -----------------------------------------------------------------------------------
  ip netns exec "$HNS" "$HTTPD" -i "$HIF" -p $PORT -r "$W/root" --idle 3600 >"$W/httpd.log" 2>&1 &
  SPID=$!
  for i in $(seq 1 200); do grep -q ready "$W/httpd.log" && break; sleep 0.05; done
  sleep 1
  r0=$(rss_kb $SPID); k0=$(kmem)
  clients_start "$N"
  if clients_wait "$N" 600; then
    sleep 2
    r1=$(rss_kb $SPID); k1=$(kmem)
    ip netns exec "$HNS" "$BUILD/hxs" stat -i "$HIF" -a >"$W/stat.$N" 2>&1
    hxs_ok=1
  else
    echo "bench_idle: only $(clients_held) of $N connections to hxs-httpd opened" >&2
    r1=$r0; k1=$k0; hxs_ok=0
  fi
  clients_stop
  kill -INT $SPID 2>/dev/null; wait $SPID 2>/dev/null
  settle
  # --- kernel --------------------------------------------------------------------------------
  SP=()
  for ((i = 0; i < K; i++)); do
    ip netns exec "$HNS" python3 - "$HIP" $PORT <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4096)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
    SP+=($!)
  done
  sleep 1
  kk0=$(kmem)
  clients_start "$N"
  if clients_wait "$N" 600; then
    sleep 2
    kk1=$(kmem); k_ok=1
  else
    echo "bench_idle: only $(clients_held) of $N connections to the kernel servers opened" >&2
    kk1=$kk0; k_ok=0
  fi
  clients_stop
  for p in "${SP[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  settle
  RESULTS+=("$N $K $hxs_ok $r0 $r1 $k0 $k1 $k_ok $kk0 $kk1")
  echo "bench_idle: $N connections: hxs-httpd $(( (r1 - r0) * 1024 / N )) B each (RSS), kernel $(( (kk1 - kk0) / (2 * N) )) B each end (slab + socket memory)"
done

python3 - "$OUT/idle.json" "${RESULTS[@]}" <<'PY'
import json, sys
out, rows = sys.argv[1], sys.argv[2:]
res = {"method": "idle kernel-client connections to build/hxs-httpd (VmRSS growth / N) and to "
                 "kernel python servers (slab + TCP socket memory growth / 2N: both ends kernel "
                 "sockets); clients: python, at most 10000 connections a process, one source "
                 "address each; veth pair between two namespaces",
       "runs": []}
for r in rows:
    n, k, hok, r0, r1, k0, k1, kok, kk0, kk1 = (int(x) for x in r.split())
    res["runs"].append({
        "connections": n, "client_processes": k,
        "hxs_ok": bool(hok), "hxs_rss_kb_before": r0, "hxs_rss_kb_after": r1,
        "hxs_bytes_per_conn": round((r1 - r0) * 1024 / n, 1) if hok else None,
        "hxs_run_kernel_bytes_per_conn": round((k1 - k0) / n, 1) if hok else None,
        "kernel_ok": bool(kok), "kernel_mem_delta_bytes": kk1 - kk0,
        "kernel_bytes_per_conn": round((kk1 - kk0) / (2 * n), 1) if kok else None,
    })
json.dump(res, open(out, "w"), indent=1)
print(json.dumps(res["runs"]))
PY
