#!/usr/bin/env bash
# make demo: hxs on one side of a veth pair, the kernel on the other, and what each does.
#   1. two namespaces (kernel peer, hxs host), a veth pair, addresses
#   2. hxs-udp-echo on hxs: the kernel's UDP client talks to it
#   3. hxs-httpd on hxs: the kernel's curl fetches a page and a large file (SHA-256 checked)
#   4. meanwhile ping and a kernel TCP connection on a port hxs does not own still work
#   5. the counters of the XDP program and of the stack; everything is removed at exit
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/netns.sh
B=${BUILD:-build}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
W=$(mktemp -d)
pids=()
stop_all() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; pids=(); }

step "topology"
topo_pair "demo$$" || die "could not create namespaces"
trap 'stop_all; _topo_cleanup; rm -rf "$W"' EXIT
echo "kernel peer: netns $KNS, $KIF $KIP ($KMAC)"
echo "hxs host:    netns $HNS, $HIF $HIP ($HMAC)"

step "UDP: kernel client -> hxs-udp-echo on hxs"
ip netns exec "$HNS" "$B/hxs-udp-echo" -i "$HIF" -p 7777 >"$W/echo.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do grep -q ready "$W/echo.log" && break; sleep 0.1; done
grep -m1 ready "$W/echo.log"
ip netns exec "$KNS" python3 - "$HIP" <<'PY' || die "udp echo failed"
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
good = 0
for i, size in enumerate((1, 64, 512, 1472, 1000)):
    m = os.urandom(size); s.sendto(m, (sys.argv[1], 7777))
    r, a = s.recvfrom(2048)
    print(f"  sent {size:4d} bytes, echo from {a[0]}:{a[1]}: {'identical' if r == m else 'DIFFERENT'}")
    good += r == m
sys.exit(0 if good == 5 else 1)
PY

step "kernel traffic hxs does not own still flows"
ip netns exec "$KNS" ping -c 2 -i 0.2 -W 1 "$HIP" | grep -E 'packets|rtt'
head -c 1000000 /dev/urandom > "$W/tx"
ip netns exec "$HNS" timeout 5 socat -u TCP-LISTEN:5999,bind="$HIP",reuseaddr OPEN:"$W/rx",creat,trunc & sleep 0.3
ip netns exec "$KNS" timeout 5 socat -u OPEN:"$W/tx" TCP:"$HIP":5999; wait $! 2>/dev/null
cmp -s "$W/tx" "$W/rx" && echo "  kernel TCP on port 5999 (not owned by hxs): 1 MB identical" || die "kernel TCP broken"
stop_all

step "HTTP: kernel curl -> hxs-httpd on hxs"
mkdir -p "$W/www"; echo "<h1>hello from hxs</h1>" > "$W/www/index.html"
head -c $((32 << 20)) /dev/urandom > "$W/www/big.bin"
ip netns exec "$HNS" "$B/hxs-httpd" -i "$HIF" -p 8080 -r "$W/www" >"$W/httpd.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do grep -q ready "$W/httpd.log" && break; sleep 0.1; done
grep -m1 ready "$W/httpd.log"
echo "  GET /index.html:"; ip netns exec "$KNS" curl -s --max-time 5 "http://$HIP:8080/index.html" | sed 's/^/    /'
want=$(sha256sum < "$W/www/big.bin" | cut -c1-64)
got=$(ip netns exec "$KNS" curl -s --max-time 60 -w '%{speed_download}' -o "$W/got.bin" "http://$HIP:8080/big.bin")
have=$(sha256sum < "$W/got.bin" | cut -c1-64)
printf '  GET /big.bin (32 MiB): %.1f MB/s, sha256 %s\n' "$(echo "$got" | awk '{print $1/1e6}')" \
  "$([ "$want" = "$have" ] && echo "matches the file" || echo "DIFFERS")"
[ "$want" = "$have" ] || die "large file differs"

step "counters"
if [ -x "$B/hxs" ]; then ip netns exec "$HNS" "$B/hxs" stat -i "$HIF" | head -40; fi
stop_all
echo "  (hxs-httpd counters at exit:)"; tail -n 15 "$W/httpd.log" | sed 's/^/    /'
step "clean up: namespaces removed"
