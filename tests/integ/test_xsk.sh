#!/usr/bin/env bash
# test_xsk.sh - the AF_XDP backend against a kernel peer (topo_pair): the kernel sends N UDP
# datagrams to a port hxs binds; build/tests/bpf/test_xsk receives them through rx_burst and
# checks every byte and checksum, then sends N hand-built datagrams back, which the kernel
# peer's UDP socket must receive intact; frames are conserved at the end. The kernel sender
# keeps at most WINDOW datagrams ahead of what test_xsk reports received ("rx K" lines), so
# nothing depends on how fast either side runs.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
PROG=build/tests/bpf/test_xsk
N=${N:-1000}

[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }
[ -x $PROG ] || { echo "not ok 1 - $PROG not built"; exit 1; }

P=$(hxt_name xk)
XPID=
TMP=$(mktemp -d); trap 'stop_pid "$XPID" 5; _topo_cleanup; rm -rf "$TMP"' EXIT
topo_pair "$P" || { echo "not ok 1 - topo_pair"; exit 1; }

# Payload i: 4-byte little-endian i, then bytes (i + j) & 0xff for j >= 4; length
# 4 + (i * 37) % 1397 (4..1400), as in test_xsk.c.
cat >"$TMP/pat.py" <<'PY'
import struct
def payload(i):
    n = 4 + (i * 37) % 1397
    b = bytearray((i + j) & 0xff for j in range(n))
    b[0:4] = struct.pack('<I', i)
    return bytes(b)
PY
cat >"$TMP/recv.py" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[3])
from pat import payload
n, port = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(('10.77.0.1', port))
print('listening', flush=True)
s.settimeout(30)
seen, bad = set(), 0
try:
    while len(seen) < n:
        d, a = s.recvfrom(2048)
        i = int.from_bytes(d[0:4], 'little')
        if a != ('10.77.0.2', 7777) or d != payload(i) or i in seen:
            bad += 1
        seen.add(i)
except socket.timeout:
    pass
print('received %d bad %d' % (len(seen), bad), flush=True)
PY
# send.py N DIR PROGRESS-FILE: at most WINDOW datagrams beyond the last "rx K" line (the veth
# peer queues 256 frames before it drops); gives up when no progress comes for 30 s.
cat >"$TMP/send.py" <<'PY'
import re, socket, sys, time
sys.path.insert(0, sys.argv[2])
from pat import payload
n, progress, WINDOW = int(sys.argv[1]), sys.argv[3], 128
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.77.0.1', 5555))
def received():
    m = re.findall(r'^rx (\d+)$', open(progress).read(), re.M)
    return int(m[-1]) if m else 0
i, got, last = 0, 0, time.monotonic()
while i < n:
    while i < n and i < got + WINDOW:
        s.sendto(payload(i), ('10.77.0.2', 7777))
        i += 1
    while i < n and i >= got + WINDOW:
        r = received()
        if r > got:
            got, last = r, time.monotonic()
        elif time.monotonic() - last > 30:
            sys.exit('no progress from the receiver after %d of %d' % (got, n))
        else:
            time.sleep(0.005)   # a poll interval, not a pacing delay
PY

# Kernel receiver on the peer first, then the hxs side, then the kernel sender.
ip netns exec "$KNS" python3 "$TMP/recv.py" "$N" 9000 "$TMP" >"$TMP/recv.out" 2>&1 &
RPID=$!
wait_line 30 "$TMP/recv.out" '^listening' $RPID || nok "kernel receiver listening" "$(cat "$TMP/recv.out")"
ip netns exec "$HNS" $PROG -i "$HIF" -p 7777 -n "$N" -P 9000 -a "$KIP" >"$TMP/xsk.out" 2>"$TMP/xsk.err" &
XPID=$!
if wait_line 30 "$TMP/xsk.out" '^ready' $XPID; then ok "hxs side ready (program attached, socket bound, peer resolved)"
else nok "hxs side ready" "$(cat "$TMP/xsk.out" "$TMP/xsk.err" | tail -5)"; fi
if ip netns exec "$KNS" python3 "$TMP/send.py" "$N" "$TMP" "$TMP/xsk.out" 2>"$TMP/send.err"; then
	ok "kernel peer sent $N datagrams, at most 128 ahead of the receiver"
else nok "kernel peer sent $N datagrams" "$(cat "$TMP/send.err")"; fi
# test_xsk ends by itself (it has deadlines of its own); 120 s is only the last resort
wait_for 120 _gone $XPID
stop_pid $XPID 5; rc=$?; XPID=
wait_for 60 _gone $RPID
stop_pid $RPID 5
# The program's own TAP lines, renumbered into ours.
while IFS= read -r l; do
	case $l in
	"ok "*)     ok "xsk: ${l#ok * - }" ;;
	"not ok "*) nok "xsk: ${l#not ok * - }" ;;
	"# xsk mode"*|"# frames"*|"# tx kicks"*|"#   "*) echo "$l" ;;
	"rx "*) ;;
	esac
done <"$TMP/xsk.out"
[ $rc -eq 0 ] && ok "test_xsk exited 0" || nok "test_xsk exited $rc" "$(tail -3 "$TMP/xsk.err")"
got=$(cat "$TMP/recv.out" | grep received)
if [ "$got" = "received $N bad 0" ]; then ok "kernel peer received all $N datagrams intact"
else nok "kernel peer received all $N datagrams intact" "$got"; fi
# The steering happened in XDP, not through the kernel's UDP stack: no kernel socket on 7777
# in HNS, so kernel delivery would have produced ICMP port unreachables.
icmp=$(ip netns exec "$HNS" nstat -az IcmpOutDestUnreachs | awk '/IcmpOutDestUnreachs/ {print $2}')
[ "${icmp:-1}" = 0 ] && ok "no datagram reached the kernel's UDP (0 ICMP unreachables)" \
	|| nok "no datagram reached the kernel's UDP" "IcmpOutDestUnreachs=$icmp"

tap_done
