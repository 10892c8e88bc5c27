#!/usr/bin/env bash
# test_httpd.sh - kernel clients (curl, ab, h2load, python) against hxs-httpd running on hxs
# in the other namespace, two server runs whose counters at exit must be exactly what the
# clients did:
#   1. large files exact, HTTP semantics, bad clients (garbage, reset mid-transfer,
#      half-close, idle: closed between 2 and 5 s for --idle 3): 20 connections, 21
#      requests, each status counted exactly
#   2. load: 1,000 sequential connections, 200 concurrent keep-alive connections, 50
#      pipelining clients, 1,000 concurrent connections (exact request counts, every one a
#      2xx), large files at 2% loss; every frame accounted for at exit
#   HXS_TEST_BACKEND=kernel runs the same server on kernel sockets (--kernel).
set -uo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${HXS_TEST_BACKEND:-hxs}
B=${BUILD:-build}
PORT=8080
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
for t in curl ab h2load python3 sha256sum; do   # scripts/deps.sh installs them
  command -v $t >/dev/null || { echo "not ok 1 - $t missing (scripts/deps.sh installs it)"; exit 1; }
done
source scripts/netns.sh
source tests/integ/lib.sh

W=$(mktemp -d)
P=
finish() { stop_pid "$P" 10; _topo_cleanup; rm -rf "$W"; }
trap 'finish' EXIT
topo_pair "$(hxt_name th)" || { echo "not ok 1 - topology"; exit 1; }
K="ip netns exec $KNS"
URL=http://$HIP:$PORT

mkdir -p "$W/www/sub" "$W/www/dir"
echo "<h1>hxs</h1>" > "$W/www/index.html"
echo "sub page" > "$W/www/sub/index.html"
echo "plain text" > "$W/www/a.txt"
head -c $((1 << 20)) /dev/urandom > "$W/www/1m.bin"
head -c $((64 << 20)) /dev/urandom > "$W/www/64m.bin"
echo "secret" > "$W/outside.txt"
ln -s "$W/outside.txt" "$W/www/escape"
sha1m=$(sha256sum < "$W/www/1m.bin" | cut -c1-64)
sha64m=$(sha256sum < "$W/www/64m.bin" | cut -c1-64)

args=(-p $PORT -r "$W/www" --idle 3)
if [ "$BACKEND" = kernel ]; then args+=(--kernel -i "$HIF"); else args+=(-i "$HIF"); fi
start_server() {
  ip netns exec "$HNS" "$B/hxs-httpd" "${args[@]}" >"$W/srv.log" 2>&1 & P=$!
  if ! wait_line 60 "$W/srv.log" ready $P; then fail "hxs-httpd ($BACKEND) starts"; sed 's/^/# /' "$W/srv.log"; exit 1; fi
  pass "hxs-httpd starts on $BACKEND: $(grep -m1 ready "$W/srv.log")"
}
# Let the clients' last connections close (no client socket to the port still open on the
# server's side: the kernel peer shows established/fin-wait for those), then SIGTERM.
client_conns() { ip netns exec "$KNS" ss -Htn state established state syn-sent state fin-wait-1 state fin-wait-2 "dport = :$PORT" | grep -c . ; }
no_client_conns() { [ "$(client_conns)" = 0 ]; }
stop_server() {
  wait_for 30 no_client_conns || note "client connections still open after 30 s: $(client_conns)"
  stop_pid "$P" 30; src=$?; P=
  sed 's/^/# server: /' "$W/srv.log" | tail -n 12
  check "server exits cleanly on SIGTERM (status $src)" [ $src -eq 0 ]
  stats=$(grep '^hxs-httpd: stats' "$W/srv.log")
}
val() { echo "$stats" | grep -o " $1=[0-9]*" | cut -d= -f2; }
# exact NAME=VALUE ...: every named server counter has exactly that value
exact() { local kv bad=""; for kv in "$@"; do [ "$(val "${kv%%=*}")" = "${kv#*=}" ] || bad="$bad ${kv%%=*}=$(val "${kv%%=*}")(want ${kv#*=})"; done
          [ -z "$bad" ] || { echo "#  $bad"; return 1; }; }

start_server

fetch_sha() { # path max-time -> sha256 of body
  $K curl -s --max-time "$2" "$URL/$1" | sha256sum | cut -c1-64
}

check "1 MiB file, SHA-256 equal" [ "$(fetch_sha 1m.bin 30)" = "$sha1m" ]
check "64 MiB file, SHA-256 equal" [ "$(fetch_sha 64m.bin 60)" = "$sha64m" ]

# --- HTTP semantics (python: exact bytes on the wire) ----------------------------------------
$K python3 - "$HIP" $PORT "$W/www" >"$W/sem.log" 2>&1 <<'PY'
import socket, sys, os
host, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def conn():
    s = socket.create_connection((host, port), timeout=10); return s
def read_response(f, head=False):
    status = f.readline()
    hdrs = {}
    while True:
        l = f.readline()
        if l in (b"\r\n", b"\n", b""): break
        k, v = l.decode().split(":", 1); hdrs[k.strip().lower()] = v.strip()
    body = b"" if head else f.read(int(hdrs.get("content-length", "0")))
    return status.decode().split(" ")[1] if status else "EOF", hdrs, body
def req(path, method="GET", extra=""):
    s = conn(); s.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n".encode())
    r = read_response(s.makefile("rb"), method == "HEAD"); s.close(); return r
def expect(name, cond):
    print(("ok " if cond else "FAIL ") + name); return cond
good = True
st, h, b = req("/")
good &= expect("GET / serves index.html", st == "200" and b == open(root + "/index.html", "rb").read() and h.get("content-type", "").startswith("text/html"))
st, h, b = req("/sub/")
good &= expect("directory serves its index.html", st == "200" and b == b"sub page\n")
st, h, b = req("/a.txt", "HEAD")
good &= expect("HEAD: length, no body", st == "200" and h.get("content-length") == "11" and h.get("content-type", "").startswith("text/plain"))
good &= expect("404 for a missing file", req("/nope")[0] == "404")
good &= expect("403 for ../ escaping the root", req("/../../etc/passwd")[0] == "403")
good &= expect("403 for %2e%2e escaping the root", req("/%2e%2e/%2e%2e/etc/passwd")[0] == "403")
good &= expect("403 for a symlink out of the root", req("/escape")[0] == "403")
st, h, b = req("/", "POST", "Content-Length: 0\r\n")
good &= expect("405 for POST, with Allow", st == "405" and "GET" in h.get("allow", ""))
good &= expect("501 for an unknown method", req("/", "BREW")[0] == "501")
# pipelining: three requests in one write, answered in order on one connection
s = conn(); f = s.makefile("rb")
s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /sub/ HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
r = [read_response(f) for _ in range(3)]
good &= expect("pipelined requests answered in order", [x[2] for x in r] == [b"plain text\n", b"sub page\n", open(root + "/index.html", "rb").read()] and f.read() == b"")
s.close()
# HTTP/1.0 without keep-alive: server closes after the response
s = conn(); f = s.makefile("rb"); s.sendall(b"GET /a.txt HTTP/1.0\r\n\r\n")
st, h, b = read_response(f)
good &= expect("HTTP/1.0 closes after the response", st == "200" and b == b"plain text\n" and f.read() == b"")
s.close()
# too long header section -> 400
s = conn(); f = s.makefile("rb"); s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n")
good &= expect("400 for a header section over 8 KiB", read_response(f)[0] == "400")
s.close()
sys.exit(0 if good else 1)
PY
rc=$?; sed 's/^/# /' "$W/sem.log"
check "HTTP semantics: index, HEAD, 403/404/405/501, pipelining, 1.0 close, long headers" [ $rc -eq 0 ]

# --- bad clients ---------------------------------------------------------------------------
out=$($K python3 - "$HIP" $PORT <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"\x16\x03\x01garbage \x00\xff not http\r\n\r\n")
data = b""
while True:
    d = s.recv(4096)
    if not d: break
    data += d
print(data.split(b"\r\n")[0].decode())
PY
)
check "garbage gets 400 and the connection closed (got: $out)" [ "$out" = "HTTP/1.1 400 Bad Request" ]
check "server still serves after garbage" [ "$(fetch_sha 1m.bin 30)" = "$sha1m" ]

out=$($K python3 - "$HIP" $PORT <<'PY'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET /64m.bin HTTP/1.1\r\nHost: t\r\n\r\n")
got = 0
while got < (2 << 20):
    d = s.recv(65536)
    if not d: break
    got += len(d)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()   # RST in the middle of the 64 MiB response
print(got)
PY
)
check "client resets mid-transfer of 64 MiB after $out bytes" [ "${out:-0}" -ge $((2 << 20)) ]
check "server still serves after the reset" [ "$(fetch_sha 64m.bin 60)" = "$sha64m" ]

out=$($K python3 - "$HIP" $PORT <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"GET /1m.bin HTTP/1.1\r\nHost: t\r\n\r\n")
s.shutdown(socket.SHUT_WR)   # half-close right after the request
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
head, _, body = data.partition(b"\r\n\r\n")
import hashlib
print(head.split(b"\r\n")[0].decode(), len(body), hashlib.sha256(body).hexdigest())
PY
)
check "half-closed client still gets the whole response" [ "$out" = "HTTP/1.1 200 OK $((1 << 20)) $sha1m" ]

out=$($K python3 - "$HIP" $PORT <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
t = time.monotonic()
d = s.recv(10)   # send nothing: the server's idle timeout (3 s) closes us
print("closed" if d == b"" else "data", "%.2f" % (time.monotonic() - t))
PY
)
# --idle 3, idle connections checked every 100 ms: the close comes after 3 s, and well before
# 5 s (the bound leaves room for a slow machine, not for a timer that is off by seconds)
idle_window() { [ "${out%% *}" = closed ] && awk -v t="${out#* }" 'BEGIN { exit !(t >= 2 && t <= 5) }'; }
check "idle connection closed by the server's --idle 3 between 2 and 5 s (${out:-no answer})" idle_window

# --- counters of run 1: exactly what the clients above did -------------------------------------
# connections: curl 2, semantics 12 (9 single requests, pipelining, HTTP/1.0, long header),
# garbage, 1 MiB, reset, 64 MiB, half-close, idle: 20
# requests: curl 2 + semantics 14 (3 pipelined; the long header counts as one, bad) + garbage
# (bad) + 1 MiB + reset + 64 MiB + half-close: 21; the idle one sent none
# 200: curl 2, GET /, /sub/, HEAD, 3 pipelined, HTTP/1.0, 1 MiB, the 64 MiB that was reset,
# 64 MiB, half-close: 13; 400: garbage, long header; 403 x3; 404, 405, 501 once each
stop_server
check "run 1: accepted 20 = closed 20, none at exit" exact accepted=20 closed=20 closed_at_exit=0
check "run 1: 21 requests, 2 bad (garbage, long header), 1 reset, 1 idle timeout" \
  exact requests=21 bad_requests=2 resets=1 timeouts=1
check "run 1: statuses 200 x13, 400 x2, 403 x3, 404, 405, 501 once, no 408/500/503/505" \
  exact s200=13 s400=2 s403=3 s404=1 s405=1 s408=0 s500=0 s501=1 s503=0 s505=0

# --- run 2: load -------------------------------------------------------------------------------
start_server
out=$($K ab -q -n 1000 -c 1 "$URL/index.html" 2>&1)
note "$(echo "$out" | grep -E 'Complete requests|Failed requests|Requests per second')"
ab_clean() { grep -q 'Complete requests: *1000' <<<"$out" && grep -q 'Failed requests: *0' <<<"$out" &&
             ! grep -q Non-2xx <<<"$out"; }
check "1,000 sequential connections (ab -n 1000 -c 1), zero failures" ab_clean

out=$($K h2load --h1 -n 20000 -c 200 "$URL/index.html" 2>&1)
note "$(echo "$out" | grep -E '^requests:|^status codes:' | tr '\n' ' ')"
h2_clean() { # N: every request succeeded with a 2xx
  grep -q "requests: $1 total, $1 started, $1 done, $1 succeeded, 0 failed, 0 errored" <<<"$out" &&
    grep -q "status codes: $1 2xx" <<<"$out"; }
check "200 concurrent keep-alive connections (h2load --h1 -c 200 -n 20000), every request a 2xx" h2_clean 20000

out=$($K h2load --h1 -n 5000 -c 50 -m 4 "$URL/a.txt" 2>&1)
note "$(echo "$out" | grep -E '^requests:|^status codes:' | tr '\n' ' ')"
check "h2load --h1 (50 clients, pipelined x4), zero errors" h2_clean 5000

out=$($K bash -c "ulimit -n 8192; h2load --h1 -n 3000 -c 1000 $URL/index.html" 2>&1)
note "$(echo "$out" | grep -E '^requests:' )"
check "1,000 concurrent connections (h2load -c 1000), zero errors" h2_clean 3000

# --- loss -----------------------------------------------------------------------------------
if topo_loss "$KNS" 2 2>"$W/nft.err"; then pass "topo_loss: 2% random drop on the kernel peer"
else fail "topo_loss: 2% random drop on the kernel peer (nft: $(head -1 "$W/nft.err"))"; fi
check "1 MiB file at 2% loss, SHA-256 equal" [ "$(fetch_sha 1m.bin 60)" = "$sha1m" ]
check "64 MiB file at 2% loss, SHA-256 equal" [ "$(fetch_sha 64m.bin 180)" = "$sha64m" ]
drops=$(topo_loss_drops "$KNS")
check "nftables really dropped packets ($drops)" [ "${drops:-0}" -gt 0 ]
ip netns exec "$KNS" nft delete table inet hxs_loss

# --- counters of run 2 ---------------------------------------------------------------------------
# connections: ab 1000 (one each), h2load 200 + 50 + 1000 (one per client), curl 2: 2252
# requests, all 200: 1000 + 20000 + 5000 + 3000 + 2 = 29002
stop_server
check "run 2: accepted 2252 = closed 2252, none at exit" exact accepted=2252 closed=2252 closed_at_exit=0
check "run 2: 29002 requests, every one a 200, nothing bad, reset or timed out" \
  exact requests=29002 s200=29002 bad_requests=0 resets=0 timeouts=0 s400=0 s404=0 s500=0 s503=0
if [ "$BACKEND" = kernel ]; then
  note "stack frame counters: the kernel backend has no hxs frames"
else
  # The stack prints its counters at exit. Every UMEM frame must be accounted for and none
  # still held by the stack (io.h: total == free + rx_queued + tx_queued + held).
  fc() { grep -oE "^HxsIoFrames$1 +[0-9]+" "$W/srv.log" | tail -1 | grep -oE '[0-9]+$'; }
  ft=$(fc Total) ff=$(fc Free) frq=$(fc RxQueued) ftq=$(fc TxQueued) fh=$(fc Held)
  frames_ok() { [ -n "$ft" ] && [ -n "$ff" ] && [ -n "$frq" ] && [ -n "$ftq" ] && [ "${fh:-1}" = 0 ] &&
                [ "$ft" -eq $((ff + frq + ftq)) ]; }
  check "no frame leaked at exit: total $ft = free $ff + rx-queued ${frq:-?} + tx-queued ${ftq:-?}, held ${fh:-?} = 0" frames_ok
fi
tap_done
