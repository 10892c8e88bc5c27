#!/usr/bin/env bash
# test_httpd.sh - kernel clients (curl, ab, wrk, h2load, python) against hxs-httpd running on
# hxs in the other namespace: large files exact (also at 2% loss), 1,000 sequential
# connections, 200 concurrent keep-alive connections, 1,000 concurrent connections, HTTP
# semantics, bad clients (garbage, reset mid-transfer, half-close, idle), and the server's
# and the stack's counters at exit.
#   HXS_TEST_BACKEND=kernel runs the same server on kernel sockets (--kernel).
set -uo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${HXS_TEST_BACKEND:-hxs}
B=${BUILD:-build}
PORT=8080
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
for t in curl ab wrk h2load python3 sha256sum; do
  command -v $t >/dev/null || { echo "# SKIP $t missing"; exit 77; }
done
source scripts/netns.sh
source tests/integ/lib.sh


W=$(mktemp -d)
P=
finish() { [ -n "$P" ] && kill -TERM $P 2>/dev/null; _topo_cleanup; rm -rf "$W"; }
topo_pair "th$$" || { echo "not ok 1 - topology"; exit 1; }
trap 'finish' EXIT
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
ip netns exec "$HNS" "$B/hxs-httpd" "${args[@]}" >"$W/srv.log" 2>&1 & P=$!
for _ in $(seq 100); do grep -q ready "$W/srv.log" && break; kill -0 $P 2>/dev/null || break; sleep 0.1; done
if ! grep -q ready "$W/srv.log"; then fail "hxs-httpd ($BACKEND) starts"; sed 's/^/# /' "$W/srv.log"; exit 1; fi
pass "hxs-httpd starts on $BACKEND: $(head -1 "$W/srv.log")"

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
sleep 0.3
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
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
t = time.time()
d = s.recv(10)   # send nothing: the server's idle timeout (3 s) closes us
print("closed" if d == b"" else "data", round(time.time() - t))
PY
)
check "idle connection closed by the server's timeout ($out)" [ "${out%% *}" = closed ]

# --- load -----------------------------------------------------------------------------------
out=$($K ab -q -n 1000 -c 1 "$URL/index.html" 2>&1)
note "$(echo "$out" | grep -E 'Complete requests|Failed requests|Requests per second')"
ab_clean() { grep -q 'Complete requests: *1000' <<<"$out" && grep -q 'Failed requests: *0' <<<"$out" &&
             ! grep -q Non-2xx <<<"$out"; }
check "1,000 sequential connections (ab -n 1000 -c 1), zero failures" ab_clean

out=$($K wrk -t2 -c200 -d3s "$URL/index.html" 2>&1)
note "$(echo "$out" | grep -E 'requests in|Requests/sec|errors|Non-2xx' | tr '\n' ' ')"
wrk_clean() { grep -q 'requests in' <<<"$out" && ! grep -qE 'Socket errors|Non-2xx' <<<"$out"; }
check "200 concurrent keep-alive connections (wrk -c200 -d3s), zero errors and non-2xx" wrk_clean

out=$($K h2load --h1 -n 5000 -c 50 -m 4 "$URL/a.txt" 2>&1)
note "$(echo "$out" | grep -E '^requests:|^status codes:' | tr '\n' ' ')"
h2_clean() { # N: every request succeeded with a 2xx
  grep -q "requests: $1 total, $1 started, $1 done, $1 succeeded, 0 failed, 0 errored" <<<"$out" &&
    grep -q "status codes: $1 2xx" <<<"$out"; }
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

# --- counters at exit -------------------------------------------------------------------------
# let the load tools' last connections close: no client socket to the port still open on
# the server's side (the kernel peer shows established/fin-wait for those)
client_conns() { ip netns exec "$KNS" ss -Htn state established state syn-sent state fin-wait-1 state fin-wait-2 "dport = :$PORT" | grep -c . ; }
no_client_conns() { [ "$(client_conns)" = 0 ]; }
wait_for 15 no_client_conns || note "client connections still open after 15 s: $(client_conns)"
kill -TERM $P; wait $P; src=$?; P=
sed 's/^/# server: /' "$W/srv.log" | tail -n 12
check "server exits cleanly on SIGTERM (status $src)" [ $src -eq 0 ]
stats=$(grep '^hxs-httpd: stats' "$W/srv.log")
val() { echo "$stats" | grep -o " $1=[0-9]*" | cut -d= -f2; }
acc=$(val accepted) clo=$(val closed) cae=$(val closed_at_exit)
conns_balanced() { [ -n "$acc" ] && [ "$acc" -gt 2000 ] && [ "$acc" = "$clo" ] && [ "$cae" = 0 ]; }
check "connections accepted ($acc) == closed ($clo), none left open at exit ($cae)" conns_balanced
check "bad requests counted ($(val bad_requests) >= 2: garbage, long header)" [ "$(val bad_requests)" -ge 2 ]
check "resets counted ($(val resets) >= 1)" [ "$(val resets)" -ge 1 ]
check "idle timeouts counted ($(val timeouts) >= 1)" [ "$(val timeouts)" -ge 1 ]
statuses_counted() { [ "$(val s404)" -ge 1 ] && [ "$(val s403)" -ge 3 ] && [ "$(val s405)" -ge 1 ] && [ "$(val s501)" -ge 1 ]; }
check "404 ($(val s404)), 403 ($(val s403)), 405 ($(val s405)), 501 ($(val s501)) counted" statuses_counted
if [ "$BACKEND" = kernel ]; then
  pass "stack frame counters # SKIP the kernel backend has no hxs frames"
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
