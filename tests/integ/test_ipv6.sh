#!/usr/bin/env bash
# test_ipv6.sh - hxs over IPv6 beside IPv4 on one veth pair (ULA addresses, nodad), against
# kernel peers:
#   1. hxs-httpd (default: both families) serves kernel curl -6 and curl -4 at the same time,
#      exact; a python IPv6 client sees the bytes and the server's address; the kernel keeps
#      the port in both families (EADDRINUSE for a kernel bind of [::] and 0.0.0.0); ping -6
#      and neighbour discovery stay the kernel's; at exit the Ip6 counters show IPv6 went
#      through hxs (Ip6InDelivers, Ip6OutRequests) and no IPv6 header error
#   2. hxs-udp-echo answers a kernel UDP client over IPv6 (every echo identical) and IPv4;
#      a datagram with a zero UDP checksum is dropped (RFC 8200 §8.1) and counted once in
#      UdpInCsumErrors
#   3. hxs-perf: kernel client -> hxs server over IPv6, stream mode, data verified
# `hxs ss` lists an IPv6 connection and `hxs stat` the Ip6 counters while hxs-httpd runs.
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }
for t in curl python3 sha256sum ping; do
	command -v $t >/dev/null || { echo "not ok 1 - $t missing (scripts/deps.sh installs it)"; exit 1; }
done

W=$(mktemp -d)
SRV=
trap 'stop_pid "$SRV" 10; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair "$(hxt_name v6)" || { echo "not ok 1 - topology"; exit 1; }
K6=fd00:77::1 H6=fd00:77::2
ip -n "$KNS" addr add $K6/64 dev "$KIF" nodad
ip -n "$HNS" addr add $H6/64 dev "$HIF" nodad
K="ip netns exec $KNS"
ping6() { $K ping -6 -q -c "$1" -W 2 $H6 >/dev/null; }
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# start NAME ARGS...: runs build/NAME in $HNS until its ready line. Sets SRV.
start() {
	local name=$1; shift
	ip netns exec "$HNS" "build/$name" "$@" >"$W/$name.log" 2>&1 & SRV=$!
	if ! wait_line 60 "$W/$name.log" ready $SRV; then
		nok "$name starts" "$(tail -5 "$W/$name.log")"
		return 1
	fi
}

check "IPv6 path between the namespaces before hxs starts" ping6 1

# 1. HTTP over both families
mkdir -p "$W/www"
head -c $((8 << 20)) /dev/urandom >"$W/www/8m.bin"
want=$(sha256sum <"$W/www/8m.bin" | cut -d' ' -f1)
if start hxs-httpd -i "$HIF" -p 8080 -r "$W/www"; then
	$K curl -s -m 60 "http://[$H6]:8080/8m.bin" -o "$W/g6" & c6=$!
	$K curl -s -m 60 "http://$HIP:8080/8m.bin" -o "$W/g4"
	wait $c6
	check "8 MiB over IPv6 (curl -6), exact" [ "$(sha256sum <"$W/g6" | cut -d' ' -f1)" = "$want" ]
	check "8 MiB over IPv4 at the same time, exact" [ "$(sha256sum <"$W/g4" | cut -d' ' -f1)" = "$want" ]
	out=$($K python3 - "$H6" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /8m.bin HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(s.family == socket.AF_INET6, s.getpeername()[0], head.split(b"\r\n")[0].decode(), len(body))
PY
)
	check "python IPv6 client: 200 and 8 MiB from $H6 ($out)" [ "$out" = "True $H6 HTTP/1.1 200 OK $((8 << 20))" ]
	r=$(ip netns exec "$HNS" python3 -c '
import socket, errno
res = []
for fam, addr in ((socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((addr, 8080)); res.append("bound")
    except OSError as e:
        res.append(errno.errorcode[e.errno])
print(" ".join(res))')
	check "the kernel holds the port in both families ($r)" [ "$r" = "EADDRINUSE EADDRINUSE" ]
	check "ping -6 to the hxs host answers while hxs runs" ping6 2
	# a held IPv6 connection: `hxs ss` lists it, `hxs stat` shows the Ip6 counters
	$K python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], 8080)); time.sleep(6)' $H6 & hold=$!
	ss6() { ip netns exec "$HNS" build/hxs ss >"$W/ss.txt" 2>&1 &&
		grep -qE "^ESTAB +tcp .*\[$H6\]:8080 +\[$K6\]:[0-9]+" "$W/ss.txt"; }
	stat6() { ip netns exec "$HNS" build/hxs stat -i "$HIF" >"$W/stat.txt" 2>&1 &&
		grep -qE '^Ip6InReceives +[1-9]' "$W/stat.txt"; }
	check "hxs ss lists the IPv6 connection [$H6]:8080 <- [$K6]" wait_for 5 ss6
	[ -s "$W/ss.txt" ] && ! grep -q "\[$H6\]" "$W/ss.txt" && sed 's/^/# ss: /' "$W/ss.txt" | head -5
	check "hxs stat shows Ip6InReceives" wait_for 5 stat6
	wait $hold
	check "the kernel did neighbour discovery for the peer" grep -q "$K6" <<<"$(ip -n "$HNS" -6 neigh show dev "$HIF")"
	stop_pid "$SRV" 20; rc=$?; SRV=
	check "hxs-httpd exits cleanly (status $rc)" [ $rc -eq 0 ]
	d=$(stat_of Ip6InDelivers "$W/hxs-httpd.log") o=$(stat_of Ip6OutRequests "$W/hxs-httpd.log")
	h=$(stat_of Ip6InHdrErrors "$W/hxs-httpd.log")
	check "IPv6 went through hxs: Ip6InDelivers ${d:-0} > 0, Ip6OutRequests ${o:-0} >= 5760" \
		[ "${d:-0}" -gt 0 ] && [ "${o:-0}" -ge 5760 ]
	check "no IPv6 header error (Ip6InHdrErrors ${h:-0})" [ -z "$h" ]
fi

# 2. UDP echo over IPv6 and IPv4, and a zero checksum
if start hxs-udp-echo -i "$HIF" -p 7000; then
	res=$($K python3 - "$H6" "$HIP" <<'PY'
import os, socket, sys
out = []
for fam, addr in ((socket.AF_INET6, sys.argv[1]), (socket.AF_INET, sys.argv[2])):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(1)
    ok = bad = 0
    for i in range(200):
        d = os.urandom(1 + i * 7 % 1400)
        s.sendto(d, (addr, 7000))
        try:
            r, _ = s.recvfrom(2048)
            ok += r == d; bad += r != d
        except socket.timeout:
            pass
    out += [ok, bad]
print(*out)
PY
)
	set -- $res
	check "UDP echo over IPv6: ${1:-0}/200 identical, ${2:-?} different" [ "${1:-0}" -ge 198 ] && [ "${2:-1}" -eq 0 ]
	check "UDP echo over IPv4 too: ${3:-0}/200 identical, ${4:-?} different" [ "${3:-0}" -ge 198 ] && [ "${4:-1}" -eq 0 ]
	# a raw IPv6 UDP datagram whose checksum field is 0: the kernel sends it as written
	z=$($K python3 - "$H6" <<'PY'
import socket, struct, sys
r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
payload = b"zero checksum"
r.sendto(struct.pack("!HHHH", 40000, 7000, 8 + len(payload), 0) + payload, (sys.argv[1], 0))
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(1)
s.bind(("::", 40000))
try:
    s.recvfrom(2048); print("echoed")
except socket.timeout:
    print("dropped")
PY
)
	check "a zero UDP checksum over IPv6 is not echoed ($z)" [ "$z" = dropped ]
	stop_pid "$SRV" 20; rc=$?; SRV=
	check "hxs-udp-echo exits cleanly (status $rc)" [ $rc -eq 0 ]
	ce=$(stat_of UdpInCsumErrors "$W/hxs-udp-echo.log")
	check "UdpInCsumErrors is 1 (${ce:-0})" [ "${ce:-0}" = 1 ]
fi

# 3. hxs-perf, kernel client -> hxs server over IPv6
if start hxs-perf -s -i "$HIF" -p 6001; then
	$K timeout 30 build/hxs-perf --kernel -c $H6 -p 6001 -m stream -t 2 >"$W/pc" 2>&1; rc=$?
	check "hxs-perf kernel -> hxs over IPv6, stream (status $rc)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || sed 's/^/# /' "$W/pc" | tail -5
	stop_pid "$SRV" 20; SRV=
fi

tap_done
