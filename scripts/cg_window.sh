#!/usr/bin/env bash
# cg_window.sh - instructions per side of one request/response transaction, from the RX burst
# that returns the frame to the TX kick of the answer (user/lib/cgwin.h): both hxs-perf ends
# busy-polling on a veth pair between two namespaces (as scripts/bench.sh's hh pairing), each
# under callgrind, so each sees the other as slow as itself (a native peer answers before the
# measured end's next look, and the turns a real exchange takes would not be measured).
#
#   make CGWIN=1 BUILD=build/cgwin build/cgwin/hxs-perf
#   scripts/cg_window.sh [-b BUILD] [-m rr|udp] [-n COUNT] [-o OUTPREFIX]
#
# Prints, per end: windows, aborted windows, instructions per window, and the same without
# the statistics publisher's publish() (it runs every HXS_SHM_PUBLISH_US of wall time, and
# callgrind's wall time is not the exchange's). Builds nothing. Needs root and valgrind.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/cgwin MODE=rr N=20000 OUT=
while [ $# -gt 0 ]; do
  case $1 in
  -b) B=$2; shift 2 ;;
  -m) MODE=$2; shift 2 ;;
  -n) N=$2; shift 2 ;;
  -o) OUT=$2; shift 2 ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "cg_window: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "cg_window: needs root (network namespaces)" >&2; exit 1; }
[ -x "$B/hxs-perf" ] || { echo "cg_window: $B/hxs-perf missing (make CGWIN=1 BUILD=$B $B/hxs-perf)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "cg_window: valgrind missing" >&2; exit 1; }
[ -n "$OUT" ] || OUT=$B/cg_window/$MODE
mkdir -p "$(dirname "$OUT")"
source scripts/netns.sh
P=hc$(( $$ % 10000 ))
topo_pair "$P" || { echo "cg_window: cannot create namespaces" >&2; exit 1; }
ip netns exec "$HNS" ethtool -K "$HIF" tx off tso off gso off gro off >/dev/null 2>&1
VG=(valgrind --tool=callgrind --collect-atstart=no)
ip netns exec "$HNS" taskset -c 1 "${VG[@]}" --callgrind-out-file="$OUT.server.cg" "$B/hxs-perf" \
  -s -p 5201 -i "$HIF" --busy-poll >"$OUT.server" 2>&1 &
spid=$!
for i in $(seq 1 600); do grep -q "server ready" "$OUT.server" 2>/dev/null && break; sleep 0.05; done
timeout 900 ip netns exec "$KNS" taskset -c 0 "${VG[@]}" --callgrind-out-file="$OUT.client.cg" \
  "$B/hxs-perf" -c "$HIP" -p 5201 -i "$KIF" -m "$MODE" -n "$N" -t 800 --busy-poll --json \
  >"$OUT.json" 2>"$OUT.client"
rc=$?
kill -INT $spid 2>/dev/null
for i in $(seq 1 200); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
wait $spid 2>/dev/null
[ $rc -eq 0 ] || { echo "cg_window: client failed ($rc): $(tail -n 3 "$OUT.client")" >&2; exit 1; }
for side in server client; do
  w=$(grep -h '^CGWINDOWS' "$OUT.$side" | awk '{print $2, $4}')
  ir=$(callgrind_annotate "$OUT.$side.cg" 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{print $1}' | tr -d ,)
  pub=$(callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$OUT.$side.cg" 2>/dev/null |
        grep -m1 'stats_pub.c:publish ' | awk '{print $1}' | tr -d ,)
  python3 - "$MODE" "$side" "$ir" "${pub:-0}" $w <<'PY'
import sys
mode, side, ir, pub, w, ab = sys.argv[1:7]
ir, pub, w = int(ir), int(pub), int(w)
print("%s %s: %d windows (%s aborted), %.1f instructions per window, %.1f without publish()"
      % (mode, side, w, ab, ir / w, (ir - pub) / w))
PY
done
