#!/usr/bin/env bash
# test_xdp_attach.sh - the XDP program on a veth pair, attached both ways, with kernel traffic.
#   (a) `ip link ... xdp obj` (maps pinned by name, 0600): ping + 1 MB kernel TCP pass, the
#       counters say every frame was passed, an hxs process adopts it (and leaves it attached),
#       `xdp off` leaves the interface clean
#   (b) libxdp through build/hxs-xdp: same traffic, no pins, a listener entry without a socket
#       counts XdpNoSocket while the kernel still serves that port, SIGTERM detaches
#   (c) stale recovery: SIGKILL the attaching process, the next one replaces its program
#   (d) jumbo MTU: the plain program is refused, the xdp.frags one attaches both ways and
#       8000-byte pings and kernel TCP at MTU 9000 pass
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }

P=$(hxt_name xa)
W=$(mktemp -d)
APID=
trap 'stop_pid "$APID" 10; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair $P || { echo "not ok 1 - topology"; exit 1; }
topo_bpffs $P || { echo "not ok 1 - bpffs"; exit 1; }
XDP=build/hxs-xdp
GLOBALS=$BPFFS/tc/globals
MAPS="hxs_xsks hxs_binds hxs_conns hxs_stats hxs_frags hxs_slots hxs_wake hxs_cookie"

prog_id() { ip -n $HNS -d link show $HIF | sed -n 's/.*prog\/xdp id \([0-9]*\) name \([a-z_]*\).*/\1 \2/p' | head -1; }
no_prog() { ! ip -n $HNS link show $HIF | grep -q 'prog/xdp'; }
# stat NAME < counters listing
stat_of() { awk -v k="$1" '$1 == k { print $2 }'; }

# ping and 1 MB kernel TCP to HIP:PORT through the program; the received bytes must match.
traffic() { # PORT
  local port=$1 i
  ip netns exec $KNS ping -c 3 -i 0.2 -W 1 $HIP >/dev/null || { echo "# ping failed"; return 1; }
  head -c 1048576 /dev/urandom >$W/tx
  rm -f $W/rx
  ip netns exec $HNS timeout 15 socat -u TCP-LISTEN:$port,bind=$HIP,reuseaddr OPEN:$W/rx,creat,trunc &
  local srv=$!
  wait_listen $HNS $port 30
  ip netns exec $KNS timeout 15 socat -u OPEN:$W/tx TCP:$HIP:$port || { echo "# socat client failed"; kill $srv 2>/dev/null; return 1; }
  wait $srv
  cmp -s $W/tx $W/rx || { echo "# payload differs"; return 1; }
}

# Every frame since BEFORE was passed: InReceives grew by >= MIN and Passed by the same,
# nothing steered or dropped. BEFORE/AFTER are counter listings.
all_passed() { # BEFORE AFTER MIN
  local r0 r1 p0 p1 d0 d1
  r0=$(stat_of XdpInReceives <"$1"); r1=$(stat_of XdpInReceives <"$2")
  p0=$(stat_of XdpPassed <"$1");     p1=$(stat_of XdpPassed <"$2")
  d0=$(( $(stat_of XdpDropped <"$1") + $(stat_of XdpTcpSteered <"$1") + $(stat_of XdpUdpSteered <"$1") ))
  d1=$(( $(stat_of XdpDropped <"$2") + $(stat_of XdpTcpSteered <"$2") + $(stat_of XdpUdpSteered <"$2") ))
  echo "# InReceives +$((r1 - r0)), Passed +$((p1 - p0)), dropped/steered +$((d1 - d0))"
  [ $((r1 - r0)) -ge "$3" ] && [ $((r1 - r0)) -eq $((p1 - p0)) ] && [ $d1 -eq $d0 ]
}

# Starts `hxs-xdp attach` inside HNS in the background; waits for its first line. Sets APID.
start_attach() { # LOG ARGS...
  local log=$1 i; shift
  ip netns exec $HNS env LIBXDP_BPFFS=$BPFFS $XDP attach -i $HIF "$@" >"$log" 2>&1 &
  APID=$!
  wait_line 60 "$log" 'attached|adopted' $APID && return 0
  cat "$log" | sed 's/^/# /'; return 1
}
stop_attach() { stop_pid "$APID" 30; APID=; }

# --- (a) ip link ... xdp obj -------------------------------------------------------------
check "ip link xdp obj loads build/bpf/hxs.bpf.o" \
  env TC_BPF_MNT=$BPFFS ip -n $HNS link set dev $HIF xdp obj build/bpf/hxs.bpf.o sec xdp
read -r ID NAME <<<"$(prog_id)"
check "ip link: hxs_xdp attached" [ "${NAME:-}" = hxs_xdp ]
modes=$(for m in $MAPS; do stat -c %a "$GLOBALS/$m" 2>/dev/null || echo missing; done | sort -u)
check "ip link: every map pinned in tc/globals, mode 0600 (got: $(echo $modes))" [ "$modes" = 600 ]
check "ip link: tc/globals directory is 0700" [ "$(stat -c %a $GLOBALS)" = 700 ]
# the fast path's maps: slots (mmapable array the stack maps), doorbell, cookie secret
maptype() { bpftool map show pinned "$GLOBALS/$1" 2>/dev/null | head -1; }
check "ip link: hxs_slots pinned as an mmapable array (BPF_F_MMAPABLE 0x400): $(maptype hxs_slots)" \
  bash -c "bpftool -j map show pinned $GLOBALS/hxs_slots | grep -q '\"type\":\"array\".*\"flags\":1024'"
check "ip link: hxs_wake pinned as a ring buffer: $(maptype hxs_wake)" \
  bash -c "bpftool -j map show pinned $GLOBALS/hxs_wake | grep -q '\"type\":\"ringbuf\"'"
check "ip link: hxs_cookie pinned as a one-entry array of struct hxs_cookie_secret (40 B): $(maptype hxs_cookie)" \
  bash -c "bpftool -j map show pinned $GLOBALS/hxs_cookie | grep -q '\"type\":\"array\".*\"bytes_value\":40,\"max_entries\":1,'"
$XDP stats --pin $GLOBALS/hxs_stats >$W/a0
check "ip link: ping and 1 MB kernel TCP on a non-owned port" traffic 5999
$XDP stats --pin $GLOBALS/hxs_stats >$W/a1
check "ip link: pinned counters moved, every frame passed" all_passed $W/a0 $W/a1 700

ip netns exec $HNS $XDP status -i $HIF >$W/st 2>&1
check "ip link: an hxs process adopts the operator's program" grep -q "adopted (attached by an operator" $W/st
check "ip link: the adopted program's counters are the pinned map's" \
  [ "$(stat_of XdpInReceives <$W/st)" -ge "$(stat_of XdpInReceives <$W/a1)" ]
start_attach $W/adopt.log --listen 6001
check "ip link: AUTO attach adopts instead of stacking a second program" grep -q adopted $W/adopt.log
$XDP stats --pin $GLOBALS/hxs_stats >$W/b0
check "ip link: kernel still serves a port with an hxs listener but no socket" traffic 6001
$XDP stats --pin $GLOBALS/hxs_stats >$W/b1
ns=$(( $(stat_of XdpNoSocket <$W/b1) - $(stat_of XdpNoSocket <$W/b0) ))
check "ip link: those frames counted XdpNoSocket (+$ns)" [ $ns -ge 700 ]
stop_attach
check "ip link: the adopter's exit leaves the operator's program attached" [ "$(prog_id)" = "$ID hxs_xdp" ]
check "ip link: the adopter removed its listener entry" \
  bash -c "! bpftool map dump pinned $GLOBALS/hxs_binds | grep -q key"
start_attach $W/native.log --native
stop_pid "$APID" 30; rc=$?; APID=
check "ip link: explicit --native attach refuses to stack (EEXIST)" \
  bash -c "[ $rc -ne 0 ] && grep -q 'File exists' $W/native.log"
ip -n $HNS link set dev $HIF xdp off
check "ip link: xdp off leaves no program" no_prog
rm -f $GLOBALS/hxs_*

# --- (b) libxdp through hxs-xdp ----------------------------------------------------------
check "libxdp: hxs-xdp attaches" start_attach $W/b.log
cat $W/b.log | grep -v xdp_metadata | sed 's/^/# /'
read -r ID NAME <<<"$(prog_id)"
# Which path libxdp took. On the development kernel the dispatcher's compatibility check
# (loading its freplace program xdp_pass) fails with EPERM even with a bpffs mounted at
# /sys/fs/bpf in the same shell, so libxdp falls back to a single program; coexistence with
# another XDP program through the dispatcher is then not testable here.
if [ "${NAME:-}" = xdp_dispatcher ]; then note "libxdp path: dispatcher (multi-program)"
else note "libxdp path: single program (${NAME:-none}); the dispatcher was refused"; fi
check "libxdp: hxs_xdp attached (dispatcher or single program)" \
  bash -c "[ '${NAME:-}' = hxs_xdp ] || [ '${NAME:-}' = xdp_dispatcher ]"
check "libxdp: no map pinned anywhere in the shared bpffs" \
  bash -c "[ -z \"\$(find $BPFFS -name 'hxs_*')\" ]"
ip netns exec $HNS $XDP status -i $HIF >$W/c0 2>&1
check "libxdp: status finds it attached by a live hxs process" grep -q "attached by another hxs process" $W/c0
check "libxdp: ping and 1 MB kernel TCP on a non-owned port" traffic 5998
ip netns exec $HNS $XDP status -i $HIF >$W/c1 2>&1
check "libxdp: counters moved, every frame passed" all_passed $W/c0 $W/c1 700
stop_attach
check "libxdp: SIGTERM detaches, interface clean" no_prog
check "libxdp: hxs-xdp attach --skb (generic mode)" start_attach $W/skb.log --skb
check "libxdp: it says skb mode" grep -q "skb mode" $W/skb.log
check "libxdp: the interface shows a generic-mode program" \
  bash -c "ip -n $HNS link show $HIF | grep -q 'prog/xdp id .* name hxs_xdp' && ip -n $HNS link show $HIF | grep -q xdpgeneric"
check "libxdp skb: ping and 1 MB kernel TCP" traffic 5994
stop_attach
check "libxdp skb: SIGTERM detaches, interface clean" no_prog

# --- (c) stale recovery -------------------------------------------------------------------
start_attach $W/s1.log
read -r ID1 _ <<<"$(prog_id)"
stop_pid $APID 10 KILL; APID=
read -r ID2 _ <<<"$(prog_id)"
check "stale: a SIGKILLed owner leaves its program attached (id ${ID1:-none})" \
  [ -n "${ID1:-}" -a "${ID2:-}" = "${ID1:-}" ]
check "stale: next hxs-xdp attaches" start_attach $W/s2.log
check "stale: it removed the dead owner's program" grep -q "removing stale hxs_xdp id $ID1" $W/s2.log
read -r ID3 _ <<<"$(prog_id)"
check "stale: a new program is attached (id ${ID3:-none})" \
  bash -c "[ -n '${ID3:-}' ] && [ '${ID3:-}' != '$ID1' ]"
check "stale: kernel traffic still flows" traffic 5997
stop_attach
check "stale: SIGTERM detaches, interface clean" no_prog

# --- (d) jumbo MTU: xdp.frags ------------------------------------------------------------
ip -n $KNS link set $KIF mtu 9000; ip -n $HNS link set $HIF mtu 9000
jumbo() { # PORT: 8000-byte ping without fragmentation, then the 1 MB transfer
  ip netns exec $KNS ping -c 2 -i 0.2 -W 1 -s 8000 -M do $HIP >/dev/null || { echo "# jumbo ping failed"; return 1; }
  traffic $1
}
check "jumbo: veth refuses the plain program at MTU 9000 (why xdp.frags exists)" \
  bash -c "! TC_BPF_MNT=$BPFFS ip -n $HNS link set dev $HIF xdp obj build/bpf/hxs.bpf.o sec xdp 2>/dev/null"
check "jumbo: ip link xdp obj ... sec xdp.frags loads" \
  env TC_BPF_MNT=$BPFFS ip -n $HNS link set dev $HIF xdp obj build/bpf/hxs.bpf.o sec xdp.frags
check "jumbo: hxs_xdp_frags attached" bash -c "[ \"\$(ip -n $HNS link show $HIF | grep -o 'name hxs_xdp_frags')\" ]"
$XDP stats --pin $GLOBALS/hxs_stats >$W/j0
check "jumbo: 8000-byte ping and 1 MB kernel TCP through ip-link xdp.frags" jumbo 5996
$XDP stats --pin $GLOBALS/hxs_stats >$W/j1
check "jumbo: counters moved, every frame passed" all_passed $W/j0 $W/j1 100
ip -n $HNS link set dev $HIF xdp off
check "jumbo: xdp off leaves no program" no_prog
rm -f $GLOBALS/hxs_*
check "jumbo: hxs-xdp attach --frags" start_attach $W/j.log --frags
check "jumbo: 8000-byte ping and 1 MB kernel TCP through libxdp xdp.frags" jumbo 5995
stop_attach
check "jumbo: SIGTERM detaches, interface clean" no_prog

tap_done
