#!/usr/bin/env bash
# cg_idle.sh - instructions per turn of an idle busy-polling stack: what a look at an empty RX
# ring costs, so how long after a frame lands a busy loop notices it. One hxs-perf server,
# busy-polling on the hxs end of a veth pair (as scripts/cg_window.sh's), nothing sent to it,
# under callgrind counting only inside the stack's poll loop (stack_poll, loop.c) for SECS s.
#
#   make && scripts/cg_idle.sh [-b BUILD] [-s SECS] [-o OUTPREFIX]
#
# Prints turns (looks at the RX ring: xsk_rx_burst calls), full turns (those that went on to
# the timers and pollers: hxs_stack__tx_flush calls), instructions per turn, and the same without the statistics
# publisher's publish() and the control plane's poll (both run every 100 ms of wall time, and
# callgrind's wall time is some fifty times a native run's, so their share per turn here is
# that much larger than in a native busy loop). Builds nothing. Needs root and valgrind.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build S=10 OUT=
while [ $# -gt 0 ]; do
  case $1 in
  -b) B=$2; shift 2 ;;
  -s) S=$2; shift 2 ;;
  -o) OUT=$2; shift 2 ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "cg_idle: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "cg_idle: needs root (network namespaces)" >&2; exit 1; }
[ -x "$B/hxs-perf" ] || { echo "cg_idle: $B/hxs-perf missing (make)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "cg_idle: valgrind missing" >&2; exit 1; }
[ -n "$OUT" ] || OUT=$B/cg_idle/idle
mkdir -p "$(dirname "$OUT")"
source scripts/netns.sh
P=hi$(( $$ % 10000 ))
topo_pair "$P" || { echo "cg_idle: cannot create namespaces" >&2; exit 1; }
ip netns exec "$HNS" ethtool -K "$HIF" tx off tso off gso off gro off >/dev/null 2>&1
ip netns exec "$HNS" taskset -c 1 valgrind --tool=callgrind --collect-atstart=no \
  --toggle-collect=stack_poll --callgrind-out-file="$OUT.cg" "$B/hxs-perf" \
  -s -p 5201 -i "$HIF" --busy-poll >"$OUT.log" 2>&1 &
spid=$!
for i in $(seq 1 600); do grep -q "server ready" "$OUT.log" 2>/dev/null && break; sleep 0.05; done
grep -q "server ready" "$OUT.log" || { echo "cg_idle: server not ready: $(tail -n 3 "$OUT.log")" >&2; exit 1; }
sleep "$S"
kill -INT $spid 2>/dev/null
for i in $(seq 1 200); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
wait $spid 2>/dev/null
# calls=N lines follow the cfn= line naming the callee (callgrind's format: names are given
# once as "(id) name", later as "(id)")
calls() {
  awk -v fn="$1" '
    /^c?fn=/ { s = $0; c = (s ~ /^cfn=/); sub(/^c?fn=/, "", s)
               if (match(s, /^\([0-9]+\) /)) { id = substr(s, 1, RLENGTH - 1); names[id] = substr(s, RLENGTH + 1); s = id }
               nm = (s in names) ? names[s] : s
               want = c && nm == fn; next }
    /^calls=/ && want { split($0, a, /[= ]/); n += a[2]; want = 0 }
    END { print n + 0 }' "$OUT.cg"
}
incl() {
  callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$OUT.cg" 2>/dev/null |
    grep -m1 ":$1 " | awk '{print $1}' | tr -d ,
}
ir=$(callgrind_annotate "$OUT.cg" 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{print $1}' | tr -d ,)
turns=$(calls xsk_rx_burst)
full=$(calls hxs_stack__tx_flush)
pub=$(incl publish)
ctl=$(incl hw_poll)
python3 - "$ir" "$turns" "$full" "${pub:-0}" "${ctl:-0}" <<'PY'
import sys
ir, turns, full, pub, ctl = (int(x or 0) for x in sys.argv[1:6])
if not turns:
    sys.exit("cg_idle: no turns counted")
print("idle: %d turns (%d full), %.1f instructions per turn, %.1f without publish() and the "
      "control plane's poll" % (turns, full, ir / turns, (ir - pub - ctl) / turns))
PY
