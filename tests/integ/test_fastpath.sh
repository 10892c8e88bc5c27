#!/usr/bin/env bash
# test_fastpath.sh - the XDP ACK fast path between two hxs stacks: hxs-perf stream --reverse
# (the server sends) from namespace A to B through a kernel router, 64 MiB verified by the
# receiver, then on the sending side (B) at least 80 % of the segments that reached hxs were
# consumed in XDP: XdpAckFastPath / (XdpAckFastPath + TcpInSegs) >= 0.8 from `hxs stat`. Then
# the same transfer with the router dropping 2 % at random: exact and verified; and with
# HXS_FASTPATH=0 on the server: XdpAckFastPath does not move.
# The demux metadata (struct hxs_xdp_meta, copy mode on veth): in the clean run and in a
# client -> server run (B receiving 64 MiB), every segment that reached B's stack but the
# listener's SYN was found by its slot (HxsTcpDemuxBySlot = TcpInSegs - 1, up to 2 more by
# the hash, HxsTcpDemuxSlotMiss 0); with HXS_FASTPATH=0 no connection has a slot and
# HxsTcpDemuxBySlot does not move.
# Needs the XDP side of the fast path (bpf/hxs.bpf.c consuming ACKs): without it the share
# is 0 and the first check fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
MB=$((1024 * 1024))
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
command -v python3 >/dev/null || { echo "not ok 1 - python3 missing"; exit 1; }
source scripts/netns.sh
source tests/integ/lib.sh

W=$(mktemp -d)
SP=
trap 'stop_pid "$SP" 30; _topo_cleanup; rm -rf "$W"' EXIT
topo_router "$(hxt_name fp)" || { echo "not ok 1 - topology"; exit 1; }

start_server() { # "env..." label
  env $1 ip netns exec "$BNS" "$B/hxs-perf" -s -i "$BIF" -p 6001 >"$W/srv.log" 2>&1 & SP=$!
  if wait_line 60 "$W/srv.log" ready $SP; then pass "server $2 starts"
  else fail "server $2 starts (no ready line in 60 s)"; sed 's/^/# /' "$W/srv.log"; return 1; fi
}
stat_of() { awk -v k="$2" '$1==k {print $2}' "$1" | head -1; }
bstat() { ip netns exec "$BNS" "$B/hxs" stat -a -i "$BIF" >"$W/$1" 2>&1; }

run() { # label [--reverse]: 64 MiB from the hxs server (B) to the hxs client (A), verified
  local out rc dir=${2---reverse} what="server -> client"
  [ -n "$dir" ] || what="client -> server"
  out=$(ip netns exec "$ANS" timeout 120 "$B/hxs-perf" -c "$BIP" -i "$AIF" -p 6001 -m stream \
        $dir -n $((64 * MB)) -t 100 --json 2>"$W/cli.err"); rc=$?
  if [ $rc -eq 0 ] && python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j["verified"] is True and j["errors"] == 0 else 1)' "$out" 2>/dev/null
  then pass "$1: 64 MiB $what verified"
  else fail "$1: client exit $rc" "$out" "$(tail -3 "$W/cli.err")"; return 1; fi
}
delta() { # counter statfile0 statfile1
  echo $(( $(stat_of "$W/$3" "$1" || true) - $(stat_of "$W/$2" "$1" || true) ))
}
demux_check() { # label stat0 stat1: B's segments but the listener's SYN found by slot (two
  # more allowed by the hash: a retransmission arriving after the connection left the table)
  local ins by miss
  ins=$(delta TcpInSegs "$2" "$3"); by=$(delta HxsTcpDemuxBySlot "$2" "$3")
  miss=$(delta HxsTcpDemuxSlotMiss "$2" "$3")
  note "$1: TcpInSegs +$ins, HxsTcpDemuxBySlot +$by, HxsTcpDemuxSlotMiss +$miss"
  check "$1: every segment but the SYN demuxed by slot ($by of $ins), no miss ($miss)" \
    test "$ins" -gt 1000 -a "$by" -le $((ins - 1)) -a "$by" -ge $((ins - 3)) -a "$miss" -eq 0
}

start_server "" "(fast path on)" || exit 1
bstat stat0
run "clean"
bstat stat1
fp0=$(stat_of "$W/stat0" XdpAckFastPath); in0=$(stat_of "$W/stat0" TcpInSegs)
fp1=$(stat_of "$W/stat1" XdpAckFastPath); in1=$(stat_of "$W/stat1" TcpInSegs)
fp=$(( ${fp1:-0} - ${fp0:-0} )); ins=$(( ${in1:-0} - ${in0:-0} ))
share=$(python3 -c "print(round($fp / max(1, $fp + $ins), 3))")
note "sender: XdpAckFastPath +$fp, TcpInSegs +$ins, share $share"
check "sender consumed >= 80% of its incoming segments in XDP ($fp of $((fp + ins)))" \
  python3 -c "import sys; sys.exit(0 if $share >= 0.8 else 1)"
demux_check "sender" stat0 stat1
run "clean" ""
bstat stat1r
demux_check "receiver" stat1 stat1r
topo_loss "$RNS" 2
run "2% loss"
note "router dropped $(topo_loss_drops "$RNS") packets"
stop_pid "$SP" 30; SP=

start_server "HXS_FASTPATH=0" "(HXS_FASTPATH=0)" || exit 1
bstat stat2
run "fast path off, 2% loss"
bstat stat3
fp2=$(stat_of "$W/stat2" XdpAckFastPath); fp3=$(stat_of "$W/stat3" XdpAckFastPath)
check "HXS_FASTPATH=0: XdpAckFastPath unchanged (${fp2:-?} -> ${fp3:-?})" test -n "$fp2" -a "$fp2" = "$fp3"
check "HXS_FASTPATH=0: HxsTcpDemuxBySlot unchanged (+$(delta HxsTcpDemuxBySlot stat2 stat3))" \
  test "$(delta HxsTcpDemuxBySlot stat2 stat3)" -eq 0 -a -n "$(stat_of "$W/stat3" HxsTcpDemuxBySlot)"
stop_pid "$SP" 30; SP=
tap_done
