#!/usr/bin/env bash
# profile.sh - where the time goes: `perf record -e cpu-clock -g` of one hxs-perf end during a
# bench workload, rendered as a flame graph SVG by scripts/flamegraph.py (ours; no external
# FlameGraph scripts). Builds keep frame pointers (-fno-omit-frame-pointer), so -g (fp) unwinds.
#
#   scripts/profile.sh [-m stream|rr|crr|udp] [-s hxs|kernel] [-c hxs|kernel] [-w server|client]
#                      [-t SECONDS] [-M MTU] [--reverse] [-o DIR]
#   defaults: -m stream -s hxs -c hxs -w server -t 5 -M 1500 -o build/profile
#   -s / -c   stack of the server / client end (hxs ends busy-poll; a kernel end facing hxs gets
#             tx checksum offload off, as in the bench)
#   -w        which end to profile: server, client, or both: every process on the two CPUs
#             (perf record -a -C), because on a veth the receiver's NAPI, XDP program and
#             AF_XDP copy run in the sender's transmit softirq (or in NAPI threads); prints
#             per CPU the share of each command and, for the pairing's own (hxs-perf, its
#             NAPI threads, ksoftirqd), the hottest functions in CPU ms per GB moved
#   -M        the veth pair's MTU, both ends (9000: jumbo frames)
# Writes DIR/perf.data, DIR/<name>.folded, DIR/<name>.svg (name = mode-server-client-end) and
# prints the 15 hottest functions (self samples). Run `make` first.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MODE=stream SSTACK=hxs CSTACK=hxs WHICH=server T=5 OUTD=$BUILD/profile REV="" MTU=1500
while [ $# -gt 0 ]; do
  case $1 in
    -m) MODE=$2; shift ;; -s) SSTACK=$2; shift ;; -c) CSTACK=$2; shift ;;
    -w) WHICH=$2; shift ;; -t) T=$2; shift ;; -M) MTU=$2; shift ;; -o) OUTD=$2; shift ;; --reverse) REV=--reverse ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "profile.sh: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile.sh: perf missing (scripts/deps.sh)" >&2; exit 1; }
PERF=$BUILD/hxs-perf
[ -x "$PERF" ] || { echo "profile.sh: $PERF missing: run make" >&2; exit 1; }
mkdir -p "$OUTD"
NAME=$MODE$([ "$MTU" = 1500 ] || echo "-mtu$MTU")-$CSTACK-to-$SSTACK-$WHICH

source scripts/netns.sh
P=pf$(( $$ % 100000 ))
topo_pair "$P" || exit 1
CNS=$KNS CIF=$KIF SNS=$HNS SIF=$HIF SIP=$HIP
ip -n "$CNS" link set dev "$CIF" mtu "$MTU" && ip -n "$SNS" link set dev "$SIF" mtu "$MTU" || exit 1
args_for() { # stack iface
  if [ "$1" = kernel ]; then echo --kernel; else echo "-i $2 --busy-poll"; fi
}
[ "$CSTACK" = kernel ] && [ "$SSTACK" = hxs ] && ip netns exec "$CNS" ethtool -K "$CIF" tx off >/dev/null 2>&1
[ "$SSTACK" = kernel ] && [ "$CSTACK" = hxs ] && ip netns exec "$SNS" ethtool -K "$SIF" tx off >/dev/null 2>&1
if [ "$CSTACK" = kernel ] && [ "$SSTACK" = kernel ]; then
  ip netns exec "$CNS" ethtool -K "$CIF" tx on tso on gso on >/dev/null 2>&1
fi

ip netns exec "$SNS" taskset -c 1 "$PERF" -s $(args_for "$SSTACK" "$SIF") >"$OUTD/server.log" 2>&1 &
SPID=$!
for i in $(seq 1 100); do grep -q "server ready" "$OUTD/server.log" && break; kill -0 $SPID 2>/dev/null || break; sleep 0.05; done
grep -q "server ready" "$OUTD/server.log" || { echo "profile.sh: server did not start:"; grep -v '^lib' "$OUTD/server.log" | tail -5; exit 1; }

JSON=""; [ "$WHICH" = both ] && JSON=--json
ip netns exec "$CNS" taskset -c 0 "$PERF" -c "$SIP" -m "$MODE" -t "$T" $REV $JSON $(args_for "$CSTACK" "$CIF") \
  >"$OUTD/client.log" 2>&1 &
CPID=$!
sleep 0.3
TARGET=$SPID; [ "$WHICH" = client ] && TARGET=$CPID
# perf follows the process by pid from the root namespace; stop recording when the client ends
if [ "$WHICH" = both ]; then
  perf record -e cpu-clock -g -F 2000 -o "$OUTD/perf.data" -a -C 0,1 -- sleep "$T" >"$OUTD/perf.log" 2>&1
else
  perf record -e cpu-clock -g -F 2000 -o "$OUTD/perf.data" -p "$TARGET" -- sleep "$T" >"$OUTD/perf.log" 2>&1
fi
wait $CPID; CRC=$?
kill -INT $SPID 2>/dev/null; wait $SPID 2>/dev/null
ip -n "$SNS" link set dev "$SIF" xdp off 2>/dev/null; ip -n "$CNS" link set dev "$CIF" xdp off 2>/dev/null
[ $CRC -eq 0 ] || { echo "profile.sh: the workload failed (client status $CRC):"; grep -v '^lib' "$OUTD/client.log" | tail -5; }

if [ "$WHICH" = both ]; then
  [ $CRC -eq 0 ] || exit 1
  # CPU ms per GB: 2000 samples a second per CPU; the GB moved while perf recorded (T seconds
  # of the client's average rate: the recording starts 0.3 s in)
  perf report -i "$OUTD/perf.data" --no-children -g none --sort cpu,comm,sym -F sample,cpu,comm,sym \
    --stdio 2>/dev/null | python3 -c '
import collections, json, re, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
gb = r["bytes"] / r["duration_s"] * float(sys.argv[2]) / 1e9
ms = lambda n: n * 0.5 / gb
comm, sym = collections.Counter(), collections.Counter()
for l in sys.stdin:
    m = re.match(r"\s*(\d+)\s+(\d+)\s+(\S.*?)\s+\[.\]\s+(\S+)", l)
    if not m or l.startswith("#"):
        continue
    n, cpu, c, s = int(m.group(1)), int(m.group(2)), m.group(3).strip(), m.group(4)
    comm[(cpu, c)] += n
    if c.startswith(("hxs-perf", "napi/", "ksoftirqd")):
        sym[(cpu, s)] += n
print("profile.sh: %.2f Gbit/s, %.2f GB while recording; CPU ms per GB:" % (r["throughput_gbps"], gb))
for cpu in (0, 1):
    mine = sum(v for (c, s), v in sym.items() if c == cpu)
    tot = sum(v for (c, k), v in comm.items() if c == cpu)
    print("cpu %d (%s): %d samples, the pairing %.0f ms/GB; by command: %s" % (cpu,
          "client" if cpu == 0 else "server", tot, ms(mine), ", ".join("%s %.0f%%" % (k, 100.0 * v / tot)
          for (c, k), v in comm.most_common() if c == cpu and v * 100 >= tot)))
    top = [(v, s) for (c, s), v in sym.most_common() if c == cpu][:20]
    print("\n".join("  %6.0f  %s" % (ms(v), s) for v, s in top))
' "$OUTD/client.log" "$T"
  exit 0
fi
perf script -i "$OUTD/perf.data" 2>/dev/null >"$OUTD/perf.script"
python3 scripts/flamegraph.py --title "hxs-perf $MODE $REV, $CSTACK client -> $SSTACK server, $WHICH end, cpu-clock" \
  --folded "$OUTD/$NAME.folded" <"$OUTD/perf.script" >"$OUTD/$NAME.svg" || exit 1
echo "profile.sh: $(grep -v '^lib' "$OUTD/client.log" | head -3 | tr '\n' ' ')"
echo "profile.sh: flame graph $OUTD/$NAME.svg (folded stacks $OUTD/$NAME.folded)"
echo "hottest functions (self samples):"
awk '{n=$NF; sub(/ [0-9]+$/, ""); k=split($0, f, ";"); self[f[k]]+=n; tot+=n}
     END {for (s in self) printf "%6.2f%%  %s\n", 100*self[s]/tot, s}' "$OUTD/$NAME.folded" | sort -rn | head -15
[ $CRC -eq 0 ]
