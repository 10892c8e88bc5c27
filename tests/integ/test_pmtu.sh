#!/usr/bin/env bash
# test_pmtu.sh - path MTU through a kernel router whose far link is smaller (1200) than the
# links either end sits on (1500): hxs (client, namespace A) streams to a kernel hxs-perf
# server (B); every segment hxs sends carries DF, so full-sized ones cannot pass.
#   1. ICMP reaches A: the router answers "fragmentation needed" (MTU 1200) to A's kernel;
#      hxs's watcher socket makes the kernel keep it as a route exception (`ip route get`
#      shows "mtu 1200"), hxs reads it (RTM_GETROUTE) and sends smaller segments: the stream
#      completes with every byte verified.
#   2. The router sends no ICMP (an ICMP black hole): hxs's black-hole detection
#      (HXS_MTU_PROBING=1, tcp_mtu_probing = 1) drops to tcp_base_mss after repeated timeouts: the
#      stream completes, every byte verified, and A's kernel has no route exception.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
source scripts/netns.sh
source tests/integ/lib.sh

W=$(mktemp -d)
SP=
trap 'stop_pid "$SP" 10; _topo_cleanup; rm -rf "$W"' EXIT
P=$(hxt_name pm)
topo_router "$P" || { echo "not ok 1 - topology"; exit 1; }
ip -n "$RNS" link set ${P}rb mtu 1200
N=4000000

ip netns exec "$BNS" "$B/hxs-perf" -s --kernel -p 6101 >"$W/srv.log" 2>&1 & SP=$!
if wait_line 60 "$W/srv.log" ready $SP; then pass "kernel server in B starts"
else fail "kernel server in B starts"; sed 's/^/# /' "$W/srv.log"; tap_done; fi

run() { # label [VAR=VALUE...]: hxs client in A, N bytes, -> pass/fail on exact verified bytes
  local out rc label=$1; shift
  out=$(ip netns exec "$ANS" env "$@" timeout 120 "$B/hxs-perf" -c $BIP -i "$AIF" -p 6101 -m stream -n $N -t 90 --json 2>"$W/cli.err"); rc=$?
  note "$label: $out"
  [ -s "$W/cli.err" ] && sed 's/^/#   stderr: /' "$W/cli.err"
  if [ $rc -eq 0 ] && python3 - "$out" $N <<'PY'
import json, sys
j, n = json.loads(sys.argv[1]), int(sys.argv[2])
ok = (j["verified"] is True and j["errors"] == 0 and j["bytes"] == n and
      j["sender"]["bytes"] == j["receiver"]["bytes"] == n and j["receiver"]["first_mismatch"] == -1)
sys.exit(0 if ok else 1)
PY
  then pass "$label: $N bytes through the 1200-byte link, verified"; else fail "$label (exit $rc)"; fi
}
# counter NAME: its value in the client's counters at exit (0 when not printed)
counter() { awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print 0}' "$W/cli.err"; }

# 1. ICMP comes back
ip -n "$ANS" route flush cache
run "ICMP frag-needed read from the kernel's route"
rt=$(ip -n "$ANS" route get $BIP)
note "A: $rt"
check "A's kernel keeps the route exception: mtu 1200" grep -q "mtu 1200" <<<"$rt"
u=$(counter HxsTcpPmtuUpdates) bh=$(counter HxsTcpMtuBlackHole)
check "hxs took the route's MTU (HxsTcpPmtuUpdates $u = 1), no black hole suspected ($bh)" [ "$u" = 1 -a "$bh" = 0 ]
frag=$(ip netns exec "$RNS" nstat -az IcmpOutDestUnreachs | awk '/IcmpOutDestUnreachs/{print $2}')
note "router: IcmpOutDestUnreachs $frag"
check "the router sent frag-needed ($frag)" [ "${frag:-0}" -gt 0 ]

# 2. no ICMP: a black hole
ip -n "$ANS" route flush cache
ip netns exec "$RNS" nft -f - <<NFT
table inet hxs_pmtu {
  chain out { type filter hook output priority 0; meta l4proto icmp counter drop; }
}
NFT
run "ICMP black hole: RFC 4821 black-hole detection" HXS_MTU_PROBING=1
rt=$(ip -n "$ANS" route get $BIP)
note "A: $rt"
check "no route exception in A (no ICMP came)" bash -c "! grep -q 'mtu' <<<'$rt'"
u=$(counter HxsTcpPmtuUpdates) bh=$(counter HxsTcpMtuBlackHole)
check "black hole suspected (HxsTcpMtuBlackHole $bh >= 1), no route MTU ($u)" [ "$bh" -ge 1 -a "$u" = 0 ]
drops=$(ip netns exec "$RNS" nft list table inet hxs_pmtu | grep -o 'packets [0-9]*' | awk '{print $2}')
check "the router's ICMP was dropped ($drops)" [ "${drops:-0}" -gt 0 ]

stop_pid "$SP" 10; SP=
tap_done
