#!/usr/bin/env bash
# test_hxs_tool.sh - `hxs stat` and `hxs ss` against a running hxs stack (hxs-udp-echo) from
# another process in the same namespace, while it serves kernel clients:
#   - XDP counters from the program's per-CPU map: XdpUdpSteered equals the datagrams sent
#   - the stack's MIB from its statistics region: UdpInDatagrams/UdpOutDatagrams equal them too,
#     also for a burst after which the stack sleeps
#   - hxs ss lists the bound UDP socket (UNCONN, its port); --json parses
#   - hxs stat -c prints a delta line for traffic sent during the interval
#   - from the kernel peer's namespace: a clear error and status 1 (nothing there)
#   - after the stack exits: its region is gone, hxs ss says no stack
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }

P=$(hxt_name ht)
W=$(mktemp -d)
SRV=
trap 'stop_pid "$SRV" 10; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair $P || { echo "not ok 1 - topology"; exit 1; }
HXS=build/hxs
PORT=7070
N=20

ip netns exec $HNS build/hxs-udp-echo -i $HIF -p $PORT >$W/srv.out 2>$W/srv.err &
SRV=$!
wait_line 60 $W/srv.out ready $SRV || { echo "not ok 1 - hxs-udp-echo did not start"; cat $W/srv.err; exit 1; }

got=0
for i in $(seq 1 $N); do
  r=$(echo "ping$i" | ip netns exec $KNS socat -T1 - UDP:$HIP:$PORT 2>/dev/null)
  [ "$r" = "ping$i" ] && got=$((got + 1))
done
check "kernel client: $N datagrams echoed" [ $got -eq $N ]
# then a burst of 3 within a few ms, after which the stack goes idle: its last state must still
# reach the region (the end-of-period timer), not wait for the next packet
ip netns exec $KNS python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
for i in range(3): s.sendto(b"b%d" % i, (sys.argv[1], int(sys.argv[2])))
for i in range(3): s.recv(64)' $HIP $PORT
N=$((N + 3))

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["counters"].get(sys.argv[2], 0))' "$1" "$2"; }
# the stack publishes every 100 ms: wait until the region shows the datagrams
published() { ip netns exec $HNS $HXS stat -i $HIF --json >$W/stat.json 2>$W/stat.err && [ "$(jget $W/stat.json UdpInDatagrams)" = $N ]; }
wait_for 5 published
ip netns exec $HNS $HXS stat -i $HIF --json >$W/stat.json 2>$W/stat.err
check "hxs stat --json exits 0" [ $? -eq 0 ]
check "XdpUdpSteered = $N (per-CPU map summed)" [ "$(jget $W/stat.json XdpUdpSteered)" = $N ]
check "stack MIB: UdpInDatagrams = $N" [ "$(jget $W/stat.json UdpInDatagrams)" = $N ]
check "stack MIB: UdpOutDatagrams = $N" [ "$(jget $W/stat.json UdpOutDatagrams)" = $N ]

ip netns exec $HNS $HXS stat -i $HIF >$W/stat.txt 2>&1
check "hxs stat text: name/value lines" grep -qE "^UdpInDatagrams +$N\$" $W/stat.txt

ip netns exec $HNS $HXS ss >$W/ss.txt 2>&1
check "hxs ss lists the UDP socket UNCONN on :$PORT" grep -qE "^UNCONN +udp .*:$PORT " $W/ss.txt
ip netns exec $HNS $HXS ss --json >$W/ss.json 2>&1
check "hxs ss --json parses and has the socket" python3 -c '
import json,sys
s=json.load(open(sys.argv[1])); sys.exit(0 if any(c["local"].endswith(":"+sys.argv[2]) and c["proto"]=="udp" for c in s) else 1)' $W/ss.json $PORT

# -c: deltas over intervals during which 5 datagrams go through
ip netns exec $HNS timeout -s INT 3.6 $HXS stat -i $HIF -c --json >$W/cont.json 2>&1 &
CP=$!
# the baseline record is printed (and flushed) before the first interval starts
wait_for 3 grep -q '^{' $W/cont.json || note "no baseline record from hxs stat -c within 3 s"
ip netns exec $KNS python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
for i in range(5):
    s.sendto(b"d%d" % i, (sys.argv[1], int(sys.argv[2]))); s.recv(64)' $HIP $PORT
wait_for 30 _gone $CP; stop_pid $CP 5
check "hxs stat -c: the intervals add up to XdpUdpSteered +5, UdpInDatagrams +5" python3 -c '
import json,sys
ls=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
d=[l["counters"] for l in ls if l.get("delta")]
sys.exit(0 if len(d) >= 2 and sum(c.get("XdpUdpSteered",0) for c in d)==5 and sum(c.get("UdpInDatagrams",0) for c in d)==5 else 1)' $W/cont.json

ip netns exec $KNS $HXS stat -i $KIF >$W/none.out 2>&1; rc=$?
check "kernel namespace: status 1 and says no hxs stack" bash -c "[ $rc -eq 1 ] && grep -q 'no running hxs stack' $W/none.out"

stop_pid $SRV 30; SRV=
ip netns exec $HNS $HXS ss >$W/gone.out 2>&1; rc=$?
check "after the stack exits: hxs ss status 1, no stack" bash -c "[ $rc -eq 1 ] && grep -q 'no running hxs stack' $W/gone.out"

if [ $failed -gt 0 ]; then
  for f in stat.err stat.txt ss.txt cont.json srv.err; do echo "# --- $f"; sed 's/^/# /' $W/$f | head -20; done
fi
tap_done
