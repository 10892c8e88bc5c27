#!/usr/bin/env bash
# test_netif.sh - hxs reads the kernel's control plane (netif.c) in namespaces it creates:
# interface facts equal `ip -j addr`, a missing neighbour is resolved by the kernel on request
# (and the kernel then holds the entry), an unused address ends FAILED within the kernel's
# (shortened) timeout, MTU changes arrive, and routes via a gateway give the gateway.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
PROBE=build/hxs-netif-probe
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "command: $*" "output: ${out:-}"; fi; }

[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }
[ -x $PROBE ] || { echo "not ok 1 - $PROBE not built"; exit 1; }

P=$(hxt_name nf)
topo_pair "$P" || { echo "not ok 1 - topo_pair"; exit 1; }
# Short neighbour timers on the hxs side: 2 probes 100 ms apart.
ip netns exec "$HNS" sysctl -qw net.ipv4.neigh.$HIF.mcast_solicit=2 \
	net.ipv4.neigh.$HIF.retrans_time_ms=100 net.ipv4.neigh.$HIF.app_solicit=0

# 1. Interface facts versus iproute2's JSON.
out=$(ip netns exec "$HNS" $PROBE -i "$HIF")
want=$(ip -n "$HNS" -j addr show dev "$HIF" | python3 -c '
import json,sys
d=json.load(sys.stdin)[0]
a=[x for x in d["addr_info"] if x["family"]=="inet"][0]
print("if %s index %d mac %s mtu %d addr %s/%d" % (d["ifname"], d["ifindex"], d["address"], d["mtu"], a["local"], a["prefixlen"]))')
check "interface name, index, MAC, MTU, address equal ip -j addr" [ "$(head -1 <<<"$out")" = "$want" ]

ip -n "$HNS" link set dev "$HIF" mtu 1400
out=$(ip netns exec "$HNS" $PROBE -i "$HIF")
check "MTU change is read (1400)" grep -q " mtu 1400 " <<<"$out"
ip -n "$HNS" link set dev "$HIF" mtu 1500

# Changes while running arrive as notifications: MTU, an address in another subnet (one in
# the same subnet would be a secondary, deleted with the primary), the first one removed.
WATCH=$(mktemp)
ip netns exec "$HNS" $PROBE -i "$HIF" -w 1500 -l 10.77.5.3 -l "$HIP" >"$WATCH" &
wpid=$!
wait_for 10 grep -q '^watching' "$WATCH" || nok "the watcher subscribed within 10 s" "$(cat "$WATCH")"
ip -n "$HNS" link set dev "$HIF" mtu 1280
ip -n "$HNS" addr add 10.77.5.3/24 dev "$HIF"
ip -n "$HNS" addr del "$HIP/24" dev "$HIF"
wait_for 30 _gone $wpid; stop_pid $wpid 5
out=$(cat "$WATCH"); rm -f "$WATCH"
check "MTU change notified while running (1280)" grep -q "^if $HIF .* mtu 1280 addr 10.77.5.3/24$" <<<"$out"
check "added address is local" grep -qx "local 10.77.5.3 yes" <<<"$out"
check "removed address is not local" grep -qx "local $HIP no" <<<"$out"
ip -n "$HNS" addr add "$HIP/24" dev "$HIF"
ip -n "$HNS" addr del 10.77.5.3/24 dev "$HIF"
ip -n "$HNS" link set dev "$HIF" mtu 1500

# 2. Resolution through the kernel, neighbour table empty at first.
ip -n "$HNS" neigh flush dev "$HIF"
check "neighbour table has no entry for the peer" [ -z "$(ip -n "$HNS" neigh show "$KIP" dev "$HIF" | grep lladdr)" ]
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -n "$KIP" -t 3000)
check "peer resolved by the kernel, reported by a notification" grep -qx "neigh $KIP resolved $KMAC event [0-9.]*" <<<"$out"
kern=$(ip -n "$HNS" neigh show "$KIP" dev "$HIF")
check "kernel now holds the entry with the peer's MAC ($kern)" grep -q "lladdr $KMAC" <<<"$kern"
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -n "$KIP")
check "second lookup answers from the kernel's table" grep -qx "neigh $KIP resolved $KMAC cache [0-9.]*" <<<"$out"

# A STALE entry (hxs's own traffic never confirms it) is used, and poked so the kernel
# re-probes it: it leaves STALE.
ip netns exec "$HNS" sysctl -qw net.ipv4.neigh.$HIF.delay_first_probe_time=0
ip -n "$HNS" neigh replace "$KIP" lladdr "$KMAC" nud stale dev "$HIF"
check "entry set STALE" grep -q STALE <<<"$(ip -n "$HNS" neigh show "$KIP" dev "$HIF")"
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -n "$KIP" -n "$KIP")
check "STALE entry's MAC is used" [ "$(grep -c "neigh $KIP resolved $KMAC cache" <<<"$out")" = 2 ]
reprobed() { ip -n "$HNS" neigh show "$KIP" dev "$HIF" | grep -qE "lladdr $KMAC (REACHABLE|DELAY|PROBE)"; }
wait_for 3 reprobed
kern=$(ip -n "$HNS" neigh show "$KIP" dev "$HIF")
check "kernel re-probed it (now: $kern)" grep -qE "lladdr $KMAC (REACHABLE|DELAY|PROBE)" <<<"$kern"

# 3. An unused address inside our subnet fails within the shortened timeout.
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -n 10.77.0.77 -t 3000)
ms=$(awk '/failed event/ {print int($5)}' <<<"$out")
check "unused address reported FAILED by notification" grep -q "neigh 10.77.0.77 failed event" <<<"$out"
check "failure within 1 s with 2 probes at 100 ms (took ${ms:-?} ms)" [ "${ms:-99999}" -lt 1000 ]
check "kernel entry is FAILED" grep -q FAILED <<<"$(ip -n "$HNS" neigh show 10.77.0.77 dev "$HIF")"

# 4. Routes: on-link, no route, local and broadcast are not next hops.
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -r "$KIP" -r 10.99.0.1 -r "$HIP" -r 10.77.0.255)
check "on-link destination is its own next hop" grep -qx "route $KIP via $KIP" <<<"$out"
check "no route gives ENETUNREACH" grep -qx "route 10.99.0.1 error ENETUNREACH" <<<"$out"
check "own address is not a next hop" grep -qx "route $HIP error ENETUNREACH" <<<"$out"
check "subnet broadcast is not a next hop" grep -qx "route 10.77.0.255 error ENETUNREACH" <<<"$out"

# 5. IPv6: addresses (a tentative one is not usable until DAD ends), routes from the kernel's
# FIB, neighbours through the kernel's neighbour discovery.
ip -n "$KNS" addr add fd00:77::1/64 dev "$KIF" nodad
ip -n "$HNS" addr add fd00:77::2/64 dev "$HIF" nodad
# the kernel's own link-local address goes through DAD after the link came up (about 1 s,
# tentative until then, and then not read): wait for it, up to 10 s
for _ in $(seq 1 100); do
  ip -n "$HNS" -6 addr show dev "$HIF" scope link | grep -q "inet6 fe80::.*scope link" &&
    ! ip -n "$HNS" -6 addr show dev "$HIF" scope link | grep -q tentative && break
  sleep 0.1
done
out=$(ip netns exec "$HNS" $PROBE -i "$HIF")
check "IPv6 global address read (nodad)" grep -q "^if6 addr6 fd00:77::2/64 ll6 fe80::" <<<"$out"
ip -n "$HNS" addr del fd00:77::2/64 dev "$HIF"
WATCH=$(mktemp)
ip -n "$HNS" addr add fd00:77::2/64 dev "$HIF"          # with DAD: tentative for about 1 s
ip netns exec "$HNS" $PROBE -i "$HIF" -w 3000 >"$WATCH"
out=$(cat "$WATCH"); rm -f "$WATCH"
tent=$(grep -c "^if6 addr6 ::/0 " <<<"$out")
check "a tentative address is skipped at first ($tent of 2 lines)" [ "$(grep -m1 '^if6' <<<"$out" | cut -d' ' -f3)" = "::/0" ]
check "the address is taken once DAD ends (notified)" grep -q "^if6 addr6 fd00:77::2/64 " <<<"$(grep '^if6' <<<"$out" | tail -1)"
ip -n "$HNS" neigh flush dev "$HIF"
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -R fd00:77::1 -R 2001:db8::1 -N fd00:77::1 -t 3000)
check "IPv6 on-link destination is its own next hop" grep -qx "route6 fd00:77::1 via fd00:77::1 hoplimit 0" <<<"$out"
check "IPv6 without a route: ENETUNREACH" grep -qx "route6 2001:db8::1 error ENETUNREACH" <<<"$out"
check "IPv6 neighbour resolved by the kernel's ND ($KMAC)" grep -qx "neigh6 fd00:77::1 resolved $KMAC" <<<"$out"
kern=$(ip -n "$HNS" -6 neigh show fd00:77::1 dev "$HIF")
check "kernel holds the IPv6 neighbour entry ($kern)" grep -q "lladdr $KMAC" <<<"$kern"
ip -n "$HNS" -6 route add 2001:db8::/64 via fd00:77::1 dev "$HIF" hoplimit 33
out=$(ip netns exec "$HNS" $PROBE -i "$HIF" -R 2001:db8::1)
check "IPv6 remote destination via the gateway, with the route's hop limit" grep -qx "route6 2001:db8::1 via fd00:77::1 hoplimit 33" <<<"$out"

# 6. Router topology: a remote destination's next hop is the gateway, resolved by the kernel.
R=$(hxt_name nr)
topo_router "$R" || { nok "topo_router"; exit 1; }
RMAC=$(ip -n "$RNS" -br link show ${R}ra | awk '{print $3}')
out=$(ip netns exec "$ANS" $PROBE -i "$AIF" -r "$BIP" -r 10.78.1.1 -n 10.78.1.1 -t 3000)
check "remote destination goes via the gateway 10.78.1.1" grep -qx "route $BIP via 10.78.1.1" <<<"$out"
check "gateway MAC resolved to the router's ($RMAC)" grep -qx "neigh 10.78.1.1 resolved $RMAC event [0-9.]*" <<<"$out"
ip -n "$ANS" route replace default via 10.78.1.1 dev "$AIF" metric 10
ip -n "$ANS" route del default via 10.78.1.1 metric 0 2>/dev/null
ip -n "$ANS" route del default via 10.78.1.1 metric 10
out=$(ip netns exec "$ANS" $PROBE -i "$AIF" -r "$BIP")
check "no default route: ENETUNREACH" grep -qx "route $BIP error ENETUNREACH" <<<"$out"

tap_done
