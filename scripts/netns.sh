#!/usr/bin/env bash
# netns.sh - test topologies of network namespaces joined by veth pairs. Source it:
#
#   source scripts/netns.sh
#   topo_pair  PREFIX     # PREFIX-k (kernel peer) <-> PREFIX-h (hxs host)
#   topo_router PREFIX    # PREFIX-a <-> PREFIX-r (kernel router) <-> PREFIX-b
#   topo_loss NS PCT      # nftables drops PCT% of TCP (input/output/forward) in NS at random
#   topo_bpffs PREFIX     # a bpffs outside /sys that every `ip netns exec` sees; sets BPFFS
#
# Each topo_* sets shell variables (below) and registers cleanup on EXIT/INT/TERM (an EXIT
# trap of the script's own, set first, is kept and must call _topo_cleanup), so the
# namespaces go even when the test fails or is stopped by a signal. Names carry PREFIX (make
# it unique; integration tests use hxt_name from tests/integ/lib.sh), and
# all addresses live only inside the namespaces they create:
#   pair:   KNS HNS KIF HIF KIP HIP KMAC HMAC        (10.77.0.1 kernel, 10.77.0.2 hxs)
#   router: ANS RNS BNS AIF BIF AIP BIP              (10.78.1.2 -> 10.78.1.1 | 10.78.2.1 <- 10.78.2.2)
# Kernel peers get tx checksum offload (and TSO/GSO/GRO) off, so every frame they send
# carries a full checksum and the segments hxs sees are the segments nftables counted.

_topo_ns=() _topo_dirs=()
_topo_cleanup() {
  local ns d
  for ns in "${_topo_ns[@]}"; do
    # Kill whatever still runs inside (an AF_XDP process leaves its program attached).
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
  done
  # up to 5 s for them to exit (detaching what they attached), then KILL
  local i
  for ((i = 0; i < 100; i++)); do
    [ -z "$(for ns in "${_topo_ns[@]}"; do ip netns pids "$ns" 2>/dev/null; done)" ] && break
    sleep 0.05
  done
  for ns in "${_topo_ns[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for d in "${_topo_dirs[@]}"; do umount "$d" 2>/dev/null; rmdir "$d" 2>/dev/null; done
  _topo_ns=() _topo_dirs=()
}
# An EXIT trap the script set before is kept (it must call _topo_cleanup itself); otherwise
# EXIT cleans up. INT and TERM clean up, then exit, which runs the EXIT trap too.
_topo_trap() {
  [ -n "$(trap -p EXIT)" ] || trap '_topo_cleanup' EXIT
  trap '_topo_cleanup; exit 130' INT TERM
}

_topo_quiet_offloads() { # NS IF
  ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

topo_pair() {
  local p=$1
  KNS=$p-k HNS=$p-h KIF=${p}k0 HIF=${p}h0 KIP=10.77.0.1 HIP=10.77.0.2
  _topo_trap
  ip netns add "$KNS" && _topo_ns+=("$KNS") || return 1
  ip netns add "$HNS" && _topo_ns+=("$HNS") || return 1
  ip link add "$KIF" netns "$KNS" type veth peer name "$HIF" netns "$HNS" || return 1
  ip -n "$KNS" addr add $KIP/24 dev "$KIF"
  ip -n "$HNS" addr add $HIP/24 dev "$HIF"
  ip -n "$KNS" link set lo up; ip -n "$HNS" link set lo up
  ip -n "$KNS" link set "$KIF" up; ip -n "$HNS" link set "$HIF" up
  _topo_quiet_offloads "$KNS" "$KIF"
  KMAC=$(ip -n "$KNS" -br link show "$KIF" | awk '{print $3}')
  HMAC=$(ip -n "$HNS" -br link show "$HIF" | awk '{print $3}')
}

topo_router() {
  local p=$1
  ANS=$p-a RNS=$p-r BNS=$p-b AIF=${p}a0 BIF=${p}b0 AIP=10.78.1.2 BIP=10.78.2.2
  _topo_trap
  local ns
  for ns in "$ANS" "$RNS" "$BNS"; do ip netns add "$ns" && _topo_ns+=("$ns") || return 1; done
  ip link add "$AIF" netns "$ANS" type veth peer name ${p}ra netns "$RNS" || return 1
  ip link add "$BIF" netns "$BNS" type veth peer name ${p}rb netns "$RNS" || return 1
  ip -n "$ANS" addr add $AIP/24 dev "$AIF"; ip -n "$RNS" addr add 10.78.1.1/24 dev ${p}ra
  ip -n "$BNS" addr add $BIP/24 dev "$BIF"; ip -n "$RNS" addr add 10.78.2.1/24 dev ${p}rb
  for ns in "$ANS" "$RNS" "$BNS"; do ip -n "$ns" link set lo up; done
  ip -n "$ANS" link set "$AIF" up; ip -n "$BNS" link set "$BIF" up
  ip -n "$RNS" link set ${p}ra up; ip -n "$RNS" link set ${p}rb up
  _topo_quiet_offloads "$RNS" ${p}ra; _topo_quiet_offloads "$RNS" ${p}rb
  ip -n "$ANS" route add default via 10.78.1.1
  ip -n "$BNS" route add default via 10.78.2.1
  ip netns exec "$RNS" sysctl -qw net.ipv4.ip_forward=1
}

topo_loss() { # NS PERCENT
  local ns=$1 pm=$(( $2 * 10 ))
  ip netns exec "$ns" nft -f - <<NFT
table inet hxs_loss {
  chain loss_fwd { type filter hook forward priority 0; numgen random mod 1000 < $pm counter drop; }
  chain loss_in { type filter hook input priority 0; meta l4proto tcp numgen random mod 1000 < $pm counter drop; }
  chain loss_out { type filter hook output priority 0; meta l4proto tcp numgen random mod 1000 < $pm counter drop; }
}
NFT
}

# Packets nftables dropped in NS (sum of all counters of table hxs_loss).
topo_loss_drops() {
  ip netns exec "$1" nft list table inet hxs_loss 2>/dev/null | grep -o 'packets [0-9]*' | awk '{s+=$2} END{print s+0}'
}

topo_bpffs() {
  _topo_trap
  BPFFS=$(mktemp -d /tmp/hxs-bpffs.$1.XXXXXX)
  mount -t bpf bpf "$BPFFS" && _topo_dirs+=("$BPFFS")
}
