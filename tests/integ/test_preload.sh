#!/usr/bin/env bash
# test_preload.sh - unmodified Debian programs on hxs through LD_PRELOAD=build/libhxs-preload.so
# (HXS_IFACE names the veth end), kernel programs as peers in the other namespace:
#   1. curl on hxs (a client) fetches 16 MiB from a kernel HTTP server: SHA-256 exact; while
#      it runs the hxs namespace holds no kernel TCP socket to the server
#   2. iperf3 -s on hxs: kernel iperf3 -c 3 s, then -R (hxs sends): both report a receiver line
#   3. redis-server on hxs: redis-benchmark SET and GET complete, a 1 MiB value is read back
#      byte-exact; a loopback connection to the wildcard-bound port is refused (README)
#   4. nginx (master + 1 worker, the stack handed to the worker at fork; sendfile and
#      tcp_nopush, which corks with TCP_CORK) serves 64 MiB to
#      curl SHA-256 exact, wrk 3 s with 20 connections reports no socket error, no non-2xx
#   5. python3 on hxs: a threaded TCP echo server (one thread a connection, blocking calls)
#      and a UDP echo, answered exactly to kernel socat clients; `hxs ss` and `hxs stat` read
#      its stack from outside, as any other
#   6. socat on hxs as a client: 1 MB through a kernel TCP echo server SHA-256 exact, a
#      datagram through a kernel UDP echo; no kernel socket to either left in the namespace
# Every server: no kernel socket listens on its port in the hxs namespace (ss), so the
# traffic went through hxs.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
for t in curl iperf3 redis-server redis-benchmark redis-cli nginx wrk socat python3 sha256sum; do
  command -v $t >/dev/null || { echo "not ok 1 - $t missing (scripts/deps.sh installs it)"; exit 1; }
done
[ -f "$B/libhxs-preload.so" ] || { echo "not ok 1 - $B/libhxs-preload.so not built"; exit 1; }
source scripts/netns.sh
source tests/integ/lib.sh

SO=$(pwd)/$B/libhxs-preload.so
W=$(mktemp -d); chmod 755 "$W"
P=
finish() { stop_pid "$P" 15; stop_pid "$KECHO_PID" 5; _topo_cleanup; rm -rf "$W"; }
trap 'finish' EXIT
topo_pair "$(hxt_name pl)" || { echo "not ok 1 - topology"; exit 1; }
K="ip netns exec $KNS"
H="ip netns exec $HNS env LD_PRELOAD=$SO HXS_IFACE=$HIF"

port_open() { $K bash -c "exec 3<>/dev/tcp/$HIP/$1" 2>/dev/null; }
no_kernel_listener() { [ -z "$(ip netns exec "$HNS" ss -Htln "sport = :$1")" ]; }
stop() { stop_pid "$P" 15; P=; }

# 1. curl as an hxs client
head -c $((16 << 20)) /dev/urandom > "$W/k.bin"; chmod 644 "$W/k.bin"
$K python3 -m http.server 8081 --bind "$KIP" --directory "$W" >/dev/null 2>&1 & P=$!
wait_for 20 ip netns exec "$HNS" curl -s -o /dev/null "http://$KIP:8081/" || nok "kernel http.server starts"
$H curl -s -m 60 --limit-rate 4M -o "$W/k.got" "http://$KIP:8081/k.bin" 2>"$W/curl.err" & C=$!
wait_for 20 bash -c "$K ss -Htn 'sport = :8081' | grep -q ESTAB"
kernel_socks=$(ip netns exec "$HNS" ss -Htn "dst $KIP:8081")
wait $C; crc=$?
check "curl on hxs: 16 MiB from a kernel server, SHA-256 exact (curl status $crc)" \
  [ "$(sha256sum < "$W/k.got")" = "$(sha256sum < "$W/k.bin")" ]
check "curl's connection is no kernel socket in the hxs namespace" [ -z "$kernel_socks" ]
stop

# 2. iperf3 server, both directions
$H iperf3 -s -p 5202 > "$W/iperf" 2>&1 & P=$!
wait_for 30 port_open 5202 || nok "iperf3 on hxs accepts" "$(tail -3 "$W/iperf")"
$K timeout 60 iperf3 -c "$HIP" -p 5202 -t 3 > "$W/ic" 2>&1; r1=$?
$K timeout 60 iperf3 -c "$HIP" -p 5202 -t 3 -R > "$W/ir" 2>&1; r2=$?
check "iperf3 -c to hxs completes: $(awk '/receiver/{print $7, $8}' "$W/ic")" \
  bash -c "[ $r1 = 0 ] && grep -q receiver '$W/ic'"
check "iperf3 -c -R from hxs completes: $(awk '/receiver/{print $7, $8}' "$W/ir")" \
  bash -c "[ $r2 = 0 ] && grep -q receiver '$W/ir'"
check "iperf3: no kernel listener on 5202" no_kernel_listener 5202
stop

# 3. redis
$H redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save '' --appendonly no \
  > "$W/redis" 2>&1 & P=$!
wait_for 30 port_open 6379 || nok "redis-server on hxs accepts" "$(tail -3 "$W/redis")"
out=$($K timeout 120 redis-benchmark -h "$HIP" -p 6379 -t set,get -n 20000 -c 20 -q 2>&1 | tr '\r' '\n')
check "redis-benchmark SET completes: $(echo "$out" | grep -E '^SET: [0-9.]+ requests' | cut -c1-40)" \
  bash -c "echo '$out' | grep -qE '^SET: [0-9.]+ requests per second'"
check "redis-benchmark GET completes: $(echo "$out" | grep -E '^GET: [0-9.]+ requests' | cut -c1-40)" \
  bash -c "echo '$out' | grep -qE '^GET: [0-9.]+ requests per second'"
head -c $((1 << 20)) /dev/urandom | base64 -w0 > "$W/val"
$K redis-cli -h "$HIP" -x set big < "$W/val" > /dev/null
check "redis: a 1 MiB value read back byte-exact" \
  [ "$($K redis-cli -h "$HIP" --raw get big | tr -d '\n' | sha256sum)" = "$(sha256sum < "$W/val")" ]
check "redis: no kernel listener on 6379" no_kernel_listener 6379
check "redis: a loopback connection to the wildcard hxs port is refused" \
  bash -c "! ip netns exec $HNS bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379' 2>/dev/null"
stop_pid "$P" 30; rc=$?; P=
check "redis-server exits 0 on SIGTERM (status $rc)" [ $rc = 0 ]

# 4. nginx: master + one worker
head -c $((64 << 20)) /dev/urandom > "$W/big.bin"; chmod 644 "$W/big.bin"
cat > "$W/ng.conf" <<NG
worker_processes 1;
events {}
http { access_log off; sendfile on; tcp_nopush on; server { listen 8080; root $W; } }
NG
$H nginx -p "$W" -c "$W/ng.conf" -g "daemon off; pid $W/ng.pid; error_log $W/ng.err;" \
  2> "$W/ng.stderr" & P=$!
wait_for 30 port_open 8080 || nok "nginx on hxs accepts" "$(tail -3 "$W/ng.err")"
check "nginx: 64 MiB to curl, SHA-256 exact" \
  [ "$($K curl -s -m 120 "http://$HIP:8080/big.bin" | sha256sum)" = "$(sha256sum < "$W/big.bin")" ]
out=$($K wrk -t2 -c20 -d3s "http://$HIP:8080/ng.conf" 2>&1)
check "nginx: wrk without socket errors or non-2xx: $(echo "$out" | awk '/Requests\/sec/{print $2}') req/s" \
  bash -c "echo '$out' | grep -q 'Requests/sec' && ! echo '$out' | grep -qE 'Socket errors|Non-2xx'"
check "nginx: no kernel listener on 8080" no_kernel_listener 8080
stop_pid "$P" 30; rc=$?; P=
check "nginx exits 0 on SIGTERM (status $rc)" [ $rc = 0 ]

# 5. python3: threaded TCP echo server, UDP echo
cat > "$W/echo.py" <<'PY'
import socket, socketserver, sys, threading
class T(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                return
            self.request.sendall(d)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
srv = S(("0.0.0.0", 7000), T)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7001))
def udp():
    while True:
        d, a = u.recvfrom(65536)
        u.sendto(d, a)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
srv.serve_forever()
PY
$H python3 "$W/echo.py" > "$W/py.log" 2>&1 & P=$!
wait_for 30 port_open 7000 || nok "python3 on hxs accepts" "$(tail -3 "$W/py.log")"
head -c 300000 /dev/urandom > "$W/e.bin"
for i in 1 2 3; do
  $K timeout 30 socat -t 5 - "TCP:$HIP:7000,shut-down" < "$W/e.bin" > "$W/e$i.got" 2>/dev/null &
done
wait_for 60 bash -c "[ \$(cat $W/e1.got $W/e2.got $W/e3.got | wc -c) -ge 900000 ]"
check "python3 threaded TCP echo: 3 connections at once, each 300000 bytes exact" bash -c \
  "for i in 1 2 3; do [ \"\$(sha256sum < $W/e\$i.got)\" = \"\$(sha256sum < $W/e.bin)\" ] || exit 1; done"
got=$(echo "hxs-udp-datagram" | $K timeout 10 socat -t 3 - "UDP:$HIP:7001")
check "python3 UDP echo answers the datagram exactly" [ "$got" = "hxs-udp-datagram" ]
check "python3: no kernel listener on 7000" no_kernel_listener 7000
# the preloaded program's stack is seen from outside like any other's
ip netns exec "$HNS" "$B/hxs" ss > "$W/ss.txt" 2>&1
check "hxs ss lists the preloaded python3's listener on 7000" grep -qE '^LISTEN +tcp .*:7000 ' "$W/ss.txt"
ip netns exec "$HNS" "$B/hxs" stat -i "$HIF" > "$W/stat.txt" 2>&1
check "hxs stat of the preloaded stack: TcpPassiveOpens >= 3" \
  awk '$1 == "TcpPassiveOpens" && $2 >= 3 { f = 1 } END { exit !f }' "$W/stat.txt"
# python leaves SIGTERM at its default: the shim's handler closes the stack, then the signal
# kills the process as it would have (status 128 + 15), with no crash on the way
stop_pid "$P" 30; rc=$?; P=
check "python3 dies of SIGTERM after the stack closed (status $rc)" [ $rc = 143 ]

# 6. socat as an hxs client: TCP to a kernel echo server, UDP to a kernel UDP echo
kecho_start "$KNS" "$KIP" 8082 || nok "kernel echo server starts"
$K python3 -c '
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 8083))
while True:
    d, a = u.recvfrom(65536)
    u.sendto(d, a)' "$KIP" & P=$!
head -c 1000000 /dev/urandom > "$W/s.bin"
$H timeout 60 socat -t 10 - "TCP:$KIP:8082,shut-down" < "$W/s.bin" > "$W/s.got" 2> "$W/socat.err"; rc=$?
check "socat on hxs (a TCP client): 1 MB through a kernel echo server, SHA-256 exact (status $rc)" \
  [ "$(sha256sum < "$W/s.got")" = "$(sha256sum < "$W/s.bin")" ]
# a kernel socket would still be there (TIME_WAIT: socat closed first)
check "socat's TCP connection left no kernel socket in the hxs namespace" \
  [ -z "$(ip netns exec "$HNS" ss -Htan "dst $KIP:8082")" ]
# socat waits its -t 8 after stdin's end: the socket is still there when the answer came
echo "hxs-socat-udp" | $H timeout 30 socat -t 8 - "UDP:$KIP:8083" > "$W/u.got" 2>> "$W/socat.err" & U=$!
wait_for 20 grep -q hxs-socat-udp "$W/u.got"
udp_socks=$(ip netns exec "$HNS" ss -Hua "dst $KIP:8083"); alive=0; kill -0 $U 2>/dev/null && alive=1
wait $U
check "socat on hxs (a UDP client): the datagram echoed exactly" [ "$(cat "$W/u.got")" = "hxs-socat-udp" ]
check "socat's UDP socket, still open, is no kernel socket (socat alive: $alive)" \
  bash -c "[ $alive = 1 ] && [ -z '$udp_socks' ]"
stop
stop_pid "$KECHO_PID" 5

tap_done
