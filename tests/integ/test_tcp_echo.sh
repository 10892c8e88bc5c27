#!/usr/bin/env bash
# test_tcp_echo.sh - TCP on hxs against kernel clients over a veth pair: hxs-tcp-echo in the
# hxs namespace, python clients in the kernel namespace.
#   - 16 MiB of random bytes up (kernel -> hxs) while the echo comes down (hxs -> kernel) on
#     one connection; SHA-256 of what went up and of what came back equal the file's
#   - 8 connections at once, 2 MiB each, every echo exact
#   - a kernel program cannot bind hxs's TCP port (EADDRINUSE: hxs holds it in the kernel)
#   - the 16 MiB transfer again with 2% random loss on the kernel peer (both directions)
#   - SIGTERM: exit 0, every accepted connection closed, Tcp* counters printed, no frame held
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }

P=$(hxt_name te)
W=$(mktemp -d)
SRV=
trap 'stop_pid "$SRV" 10; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair $P || { echo "not ok 1 - topology"; exit 1; }
PORT=7070

ip netns exec $HNS build/hxs-tcp-echo -i $HIF -p $PORT >$W/srv.out 2>$W/srv.err &
SRV=$!
check "hxs-tcp-echo serves on $HIP:$PORT" wait_line 60 $W/srv.out ready $SRV

head -c $((16 << 20)) /dev/urandom >$W/big
want=$(sha256sum <$W/big | cut -d' ' -f1)

# client FILE CONNS: each connection sends FILE while reading the echo, then half-closes and
# reads to EOF; prints "sent-sha got-sha bytes" per connection.
client() {
  ip netns exec $KNS timeout 120 python3 - $HIP $PORT "$1" "$2" <<'PY'
import hashlib, socket, sys, threading
host, port, path, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
data = open(path, 'rb').read()
out = [None] * conns
def one(i):
    s = socket.create_connection((host, port), timeout=60)
    up = hashlib.sha256(); down = hashlib.sha256(); got = 0
    def send():
        v = memoryview(data)
        for off in range(0, len(v), 65536):
            s.sendall(v[off:off + 65536]); up.update(v[off:off + 65536])
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send); t.start()
    while True:
        b = s.recv(262144)
        if not b: break
        down.update(b); got += len(b)
    t.join(); s.close()
    out[i] = "%s %s %d" % (up.hexdigest(), down.hexdigest(), got)
ts = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
[t.start() for t in ts]; [t.join() for t in ts]
for o in out: print(o)
PY
}

client $W/big 1 >$W/c1 2>$W/c1.err
read -r up down got <$W/c1
check "16 MiB up (kernel -> hxs): SHA-256 equal" [ "${up:-}" = "$want" ]
check "16 MiB echoed down (hxs -> kernel): SHA-256 equal, $got bytes" [ "${down:-}" = "$want" ]

head -c $((2 << 20)) /dev/urandom >$W/mid
want2=$(sha256sum <$W/mid | cut -d' ' -f1)
client $W/mid 8 >$W/c8 2>$W/c8.err
good=$(awk -v w=$want2 '$1 == w && $2 == w' $W/c8 | wc -l)
check "8 concurrent connections x 2 MiB, every echo exact ($good/8)" [ "$good" -eq 8 ]

kbind() {
  ip netns exec $HNS python3 -c "
import socket, errno
s = socket.socket()
try:
    s.bind(('$HIP', $PORT)); print('bound')
except OSError as e:
    print(errno.errorcode[e.errno])"
}
check "a kernel program cannot bind hxs's TCP port ($(kbind))" [ "$(kbind)" = EADDRINUSE ]

topo_loss $KNS 2
client $W/big 1 >$W/cl 2>$W/cl.err
read -r up down got <$W/cl
check "16 MiB at 2% loss: up SHA-256 equal" [ "${up:-}" = "$want" ]
check "16 MiB at 2% loss: echo SHA-256 equal" [ "${down:-}" = "$want" ]
drops=$(topo_loss_drops $KNS)
check "nftables dropped packets ($drops)" [ "$drops" -gt 20 ]

stop_pid $SRV 30; rc=$?; SRV=
check "SIGTERM: exit status 0 ($rc)" [ $rc -eq 0 ]
line=$(grep '^hxs-tcp-echo: accepted' $W/srv.err)
acc=$(echo "$line" | awk '{print $3}') clo=$(echo "$line" | awk '{print $5}')
all_closed() { [ "${acc:-0}" = 10 ] && [ "${clo:-0}" = 10 ]; }
check "accepted ($acc) == closed ($clo) == 10" all_closed
stat() { awk -v k="$1" '$1 == k { print $2 }' $W/srv.err | tail -1; }
check "TcpPassiveOpens $(stat TcpPassiveOpens) == 10 printed with the stack's counters" [ "$(stat TcpPassiveOpens)" = 10 ]
check "retransmissions happened under loss (TcpRetransSegs $(stat TcpRetransSegs))" [ "$(stat TcpRetransSegs)" -gt 0 ] 2>/dev/null
held=$(stat HxsIoFramesHeld) tot=$(stat HxsIoFramesTotal) fr=$(stat HxsIoFramesFree)
rq=$(stat HxsIoFramesRxQueued) tq=$(stat HxsIoFramesTxQueued)
frames_ok() { [ "${held:-1}" = 0 ] && [ -n "$tot" ] && [ "$tot" -eq $((fr + rq + tq)) ]; }
check "no frame held at exit: total $tot = free $fr + rx $rq + tx $tq, held $held" frames_ok
[ $failed -eq 0 ] || sed 's/^/#   /' $W/srv.err | tail -30
tap_done
