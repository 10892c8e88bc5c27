#!/usr/bin/env bash
# bench_loss.sh OUTDIR - stream goodput under random loss, hxs<->hxs next to kernel<->kernel,
# for each congestion control both have (CUBIC, BBR), and how often each retransmitted
# spuriously. Three namespaces (scripts/netns.sh topo_router): the kernel router drops
# BENCH_LOSS_PCTS percent (default 1 5 10) of the packets it forwards, at random.
#
#   for pct: for round 1..BENCH_LOSS_ROUNDS (default 3): for stack/cc in kernel cubic,
#            kernel bbr, hxs cubic (HXS_CC=cubic), hxs bbr (hxs's default): server on the B
#            end, `hxs-perf -m stream -t BENCH_LOSS_T` from the A end (alternating, so machine
#            noise hits all alike)
#   per run: goodput (hxs-perf --json), the sender's retransmissions (its JSON), and the
#            spurious ones: duplicate segments the receiver got and answered with a D-SACK
#            (kernel: TcpExtTCPDSACKOldSent of B's namespace; hxs: TCPDSACKOldSent of
#            `hxs stat` on B, read before the server stops)
# Writes OUTDIR/loss.json (every run, and medians per pct and pairing) and prints one line per
# pct. Needs root; builds nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-$BUILD/bench}
PCTS=${BENCH_LOSS_PCTS:-1 5 10}
ROUNDS=${BENCH_LOSS_ROUNDS:-3}
T=${BENCH_LOSS_T:-5}
PERF=$BUILD/hxs-perf HXS=$BUILD/hxs
PORT=6001
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "bench_loss: needs root (network namespaces)" >&2; exit 1; }
[ -x "$PERF" ] && [ -x "$HXS" ] || { echo "bench_loss: $PERF or $HXS not built" >&2; exit 1; }

source scripts/netns.sh
P=hl$(( $$ % 100000 ))
W=$(mktemp -d "$OUT/loss.XXXXXX")
SRV=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; wait 2>/dev/null; _topo_cleanup; rm -rf "$W"' EXIT
topo_router "$P" || { echo "bench_loss: cannot create namespaces" >&2; exit 1; }
_topo_quiet_offloads "$ANS" "$AIF"; _topo_quiet_offloads "$BNS" "$BIF"
modprobe tcp_bbr 2>/dev/null
for cc in cubic bbr; do
  grep -qw $cc /proc/sys/net/ipv4/tcp_allowed_congestion_control ||
    sysctl -qw net.ipv4.tcp_allowed_congestion_control="$(cat /proc/sys/net/ipv4/tcp_allowed_congestion_control) $cc"
done
export HXS_RUN_DIR=$W/run
mkdir -p "$HXS_RUN_DIR"
RUNS=$W/runs.jsonl
: >"$RUNS"

dsack_kernel() { ip netns exec "$BNS" nstat -az TcpExtTCPDSACKOldSent 2>/dev/null | awk '$1=="TcpExtTCPDSACKOldSent" {print $2}'; }
dsack_hxs() { ip netns exec "$BNS" "$HXS" stat -i "$BIF" -a 2>/dev/null | awk '$1=="TCPDSACKOldSent" {print $2}'; }

run() { # PCT ROUND STACK CC -> one JSON line in $RUNS
  local pct=$1 r=$2 s=$3 cc=$4 args="" env="" d0=0 d1=0
  if [ "$s" = kernel ]; then
    args=--kernel
    for ns in "$ANS" "$BNS"; do ip netns exec "$ns" sysctl -qw net.ipv4.tcp_congestion_control=$cc; done
    d0=$(dsack_kernel)
  else
    env="HXS_CC=$cc"
  fi
  ip netns exec "$BNS" env $env "$PERF" -s $args $([ "$s" = hxs ] && echo -i "$BIF") -p $PORT \
    >"$W/srv.log" 2>&1 & SRV=$!
  sleep 1.5
  ip netns exec "$ANS" env $env timeout $((T + 60)) "$PERF" -c $BIP $args $([ "$s" = hxs ] && echo -i "$AIF") \
    -p $PORT -m stream -t "$T" --json >"$W/cli.json" 2>"$W/cli.err" || echo '{}' >"$W/cli.json"
  if [ "$s" = kernel ]; then d1=$(dsack_kernel); else d1=$(dsack_hxs); fi
  kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; SRV=
  python3 - "$W/cli.json" "$pct" "$r" "$s" "$cc" "${d0:-0}" "${d1:-0}" >>"$RUNS" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
print(json.dumps({"loss_pct": int(sys.argv[2]), "round": int(sys.argv[3]), "stack": sys.argv[4],
                  "cc": sys.argv[5], "gbps": d.get("throughput_gbps", 0),
                  "verified": d.get("verified", False), "retransmits": d.get("retransmits", 0),
                  "spurious": max(0, int(sys.argv[7] or 0) - int(sys.argv[6] or 0))}))
PY
}

for pct in $PCTS; do
  ip netns exec "$RNS" nft delete table inet hxs_loss 2>/dev/null
  topo_loss "$RNS" "$pct"
  for r in $(seq "$ROUNDS"); do
    for p in "kernel cubic" "kernel bbr" "hxs cubic" "hxs bbr"; do run "$pct" "$r" $p; done
  done
done

python3 - "$RUNS" "$OUT/loss.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = {}
for pct in sorted({r["loss_pct"] for r in runs}):
    row = {}
    for st in ("kernel", "hxs"):
        for cc in ("cubic", "bbr"):
            rs = [r for r in runs if r["loss_pct"] == pct and r["stack"] == st and r["cc"] == cc]
            if rs:
                row[f"{st}_{cc}"] = {
                    "gbps": statistics.median(r["gbps"] for r in rs),
                    "retransmits": statistics.median(r["retransmits"] for r in rs),
                    "spurious": statistics.median(r["spurious"] for r in rs),
                    "all_verified": all(r["verified"] for r in rs)}
    best_k = max(row.get("kernel_cubic", {}).get("gbps", 0), row.get("kernel_bbr", {}).get("gbps", 0))
    row["hxs_bbr_vs_best_kernel"] = round(row.get("hxs_bbr", {}).get("gbps", 0) / best_k, 2) if best_k else 0
    med[str(pct)] = row
    print(f"bench_loss: {pct}% loss: " + "; ".join(
        f"{k} {v['gbps']:.3f} Gbit/s retrans {v['retransmits']:.0f} spurious {v['spurious']:.0f}"
        for k, v in row.items() if isinstance(v, dict)) + f"; hxs bbr / best kernel {row['hxs_bbr_vs_best_kernel']}")
json.dump({"runs": runs, "median": med}, open(sys.argv[2], "w"), indent=1)
PY
