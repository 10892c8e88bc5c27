#!/usr/bin/env bash
# test_jumbo.sh - hxs at MTU 9000 over a veth pair (both ends 9000): AF_XDP multi-buffer
# (XDP_USE_SG) carries frames larger than the 4 KiB UMEM frame, so the MSS follows the MTU.
#   (a) hxs server ($HNS) <- kernel client ($KNS): stream both ways, exact bytes verified by
#       the receiver; tcpdump in $KNS sees hxs's segments as 9014-byte frames (8948 bytes of
#       payload with timestamps), and none of the kernel's frames above 9014
#   (b) hxs server <- hxs client: stream both ways, exact bytes; the server's exit counters
#       show the frames it sent as chains (HxsIoTxMultibuf) and gathered (HxsIoRxMultibuf)
#   (c) HXS_MULTIBUF=0: no multi-buffer, the MTU is clamped to one frame, the stream still
#       passes and no frame above 4096 bytes comes from hxs
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
TMAX=60
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
command -v tcpdump >/dev/null || { echo "not ok 1 - tcpdump missing (scripts/deps.sh installs it)"; exit 1; }
source scripts/netns.sh
source tests/integ/lib.sh

W=$(mktemp -d)
SP= TD=
trap 'stop_pid "$SP" 30; stop_pid "$TD" 5 INT; _topo_cleanup; [ -n "${KEEPW:-}" ] || rm -rf "$W"' EXIT
topo_pair "$(hxt_name jb)" || { echo "not ok 1 - topology"; exit 1; }
ip -n "$KNS" link set dev "$KIF" mtu 9000 && ip -n "$HNS" link set dev "$HIF" mtu 9000 \
  || { echo "not ok 1 - MTU 9000 on the pair"; exit 1; }

start_server() { # "env..." label
  env $1 ip netns exec "$HNS" "$B/hxs-perf" -s -i "$HIF" -v >"$W/srv.log" 2>&1 & SP=$!
  if wait_line 60 "$W/srv.log" ready $SP; then pass "server $2 starts"
  else fail "server $2 starts (no ready line in 60 s)"; sed 's/^/# /' "$W/srv.log"; diag_pid "$SP"; stop_pid "$SP" 5; SP=; return 1; fi
}
stop_server() { # label STREAMS
  stop_pid "$SP" 30; local rc=$?; SP=
  check "$1: server exits 0 ($rc)" [ "$rc" -eq 0 ]
  check "$1: server verified $2 streams, none failed" \
    grep -q "streams verified $2 failed 0" "$W/srv.log"
}
ctr() { awk -v n="$1" '$1 == n { print $2 }' "$W/srv.log" | tail -1; }

# run_stream NS "flags..." BYTES label: exit 0, verified, exactly BYTES each side
run_stream() {
  local out rc
  out=$(ip netns exec "$1" timeout $((TMAX + 30)) "$B/hxs-perf" -c "$HIP" $2 -m stream -n "$3" -t $TMAX --json 2>"$W/cli.err"); rc=$?
  note "$4: $out"
  if [ $rc -eq 0 ] && python3 - "$out" "$3" <<'PY'
import json, sys
j, n = json.loads(sys.argv[1]), int(sys.argv[2])
sys.exit(0 if j["verified"] and j["errors"] == 0 and j["bytes"] == n and j["sender"]["bytes"] == n
         and j["receiver"]["bytes"] == n and j["receiver"]["first_mismatch"] == -1 else 1)
PY
  then pass "$4: exactly $3 bytes sent, received and verified"
  else fail "$4 (exit $rc)"; sed 's/^/#   stderr: /' "$W/cli.err"; fi
}

# tcpdump in the kernel's namespace: frames from hxs, their lengths
cap_start() { # FILE
  ip netns exec "$KNS" tcpdump -i "$KIF" -nn -s 64 -B 32768 -U -w "$1" "tcp and src host $HIP" 2>"$W/td.err" & TD=$!
  wait_for 10 grep -q "listening on" "$W/td.err" || note "tcpdump did not say it listens"
}
# stops tcpdump once its file stopped growing (it drops what it has not read at SIGINT)
cap_stop() { # FILE
  local a=-1 b i
  for i in $(seq 1 50); do b=$(stat -c %s "$1" 2>/dev/null || echo 0); [ "$a" = "$b" ] && break; a=$b; sleep 0.2; done
  stop_pid "$TD" 10 INT; TD=
}
# frames the capture lost: received by the filter but not captured, or dropped by the kernel
# (tcpdump's exit lines; on a loaded machine it cannot always keep up)
cap_dropped() { awk '/packets captured/ { c = $1 } /received by filter/ { r = $1 } /dropped by kernel/ { d = $1 }
  END { print r - c + d }' "$W/td.err"; }
# cap_count FILE MIN MAX: frames of MIN..MAX bytes (on the wire, Ethernet header included)
cap_count() { tcpdump -r "$1" -nn -e 2>/dev/null | awk -v lo="$2" -v hi="$3" \
  '{ for (i = 1; i < NF; i++) if ($i == "length") { l = $(i+1); sub(":", "", l); if (l + 0 >= lo && l + 0 <= hi) c++; break } } END { print c + 0 }'; }

MB=$((1 << 20))
SEGS=$((64 * MB / 8948))   # full segments (8948 bytes of payload) in a 64 MiB stream

# --- (a) hxs server, kernel client ------------------------------------------------------------
if start_server "" "hxs at MTU 9000"; then
  check "server says multi-buffer is on: frames up to 12288 bytes" \
    grep -q "AF_XDP multi-buffer: frames up to 12288 bytes" "$W/srv.log"
  check "the xdp.frags program is attached" grep -q "hxs_xdp_frags" "$W/srv.log"
  run_stream "$KNS" "--kernel" $((64 * MB)) "stream kernel client -> hxs server"
  cap_start "$W/a.pcap"
  run_stream "$KNS" "--kernel --reverse" $((64 * MB)) "stream hxs server -> kernel client (--reverse)"
  cap_stop "$W/a.pcap"
  big=$(cap_count "$W/a.pcap" 9014 9014); over=$(cap_count "$W/a.pcap" 9015 1000000)
  small=$(cap_count "$W/a.pcap" 1 9013); lost=$(cap_dropped)
  note "frames from hxs: $big of 9014 bytes, $small smaller, $over above; capture lost ${lost:-?}"
  check "hxs sent frames of 9014 bytes (8948 bytes of payload), more than one UMEM frame each: $big seen + ${lost:-?} lost by the capture >= $SEGS" \
    [ "$big" -gt 0 -a $((big + ${lost:-0})) -ge "$SEGS" ]
  check "no frame from hxs above the MTU ($over)" [ "$over" -eq 0 ]
  stop_server "hxs server, kernel client" 2
  rx=$(ctr HxsIoRxMultibuf); tx=$(ctr HxsIoTxMultibuf)
  note "server: HxsIoRxMultibuf $rx HxsIoTxMultibuf $tx"
  check "server gathered >= $SEGS chains from the kernel (${rx:-none})" [ "${rx:-0}" -ge "$SEGS" ]
  check "server sent >= $SEGS chains (${tx:-none}), as many as tcpdump saw 9014-byte frames or more ($big)" \
    [ "${tx:-0}" -ge "$SEGS" -a "${tx:-0}" -ge "$big" ]
fi

# --- (b) hxs server, hxs client ---------------------------------------------------------------
if start_server "" "hxs at MTU 9000 (hxs clients)"; then
  run_stream "$KNS" "-i $KIF" $((64 * MB)) "stream hxs client -> hxs server"
  run_stream "$KNS" "-i $KIF --reverse" $((64 * MB)) "stream hxs server -> hxs client (--reverse)"
  stop_server "hxs server, hxs client" 2
  rx=$(ctr HxsIoRxMultibuf); tx=$(ctr HxsIoTxMultibuf)
  note "server: HxsIoRxMultibuf $rx HxsIoTxMultibuf $tx"
  check "server gathered >= $SEGS chains from the hxs client (${rx:-none})" [ "${rx:-0}" -ge "$SEGS" ]
  check "server sent >= $SEGS chains to the hxs client (${tx:-none})" [ "${tx:-0}" -ge "$SEGS" ]
fi

# --- (c) multi-buffer off: one frame per segment -------------------------------------------------
if start_server "HXS_MULTIBUF=0" "with HXS_MULTIBUF=0"; then
  check "no multi-buffer line in the log" bash -c "! grep -q 'AF_XDP multi-buffer' '$W/srv.log'"
  cap_start "$W/c.pcap"
  run_stream "$KNS" "--kernel --reverse" $((16 * MB)) "stream hxs server -> kernel client, single frames"
  cap_stop "$W/c.pcap"
  over=$(cap_count "$W/c.pcap" 4097 1000000); all=$(cap_count "$W/c.pcap" 1 1000000)
  note "frames from hxs: $all, $over above 4096 bytes"
  check "no frame from hxs above 4096 bytes ($over of $all)" [ "$all" -gt 0 -a "$over" -eq 0 ]
  stop_server "hxs server without multi-buffer" 1
fi

tap_done
