#!/usr/bin/env bash
# test_stack_live.sh - a live hxs process (build/tests/integ/sockctl) seen from outside while
# its connections run, close and leave TIME_WAIT, against a kernel echo server:
#   - ephemeral ports come from above the namespace's ip_local_port_range (default and a
#     changed one), or from HXS_PORT_RANGE (exactly its ports; one more connect: EADDRNOTAVAIL)
#   - the connection's 4-tuple is in the XDP conn map (bpftool) while it lives
#   - `hxs ss` shows the connection's TCP line (rtt, cwnd, bytes, segments) equal to the
#     process's own TCP_INFO; `hxs stat` Tcp/Ip/HxsIo rows are the exact counts of that
#     connection (segments in and out, frames, the frame invariant)
#   - a closed listener's (and UDP socket's) port is back with the kernel while the process lives
#   - a closed connection keeps its port and conn-map entry through TIME_WAIT (60 s) and
#     releases both after it; the conn map is then empty and adds == deletes
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
sc_echo_setup sv

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["counters"].get(sys.argv[2], ""))' "$1" "$2"; }
kv() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$2"; }   # NAME "k=v ..." -> v

# --- 1. default range: the connection, its map entry, hxs ss and hxs stat --------------------
read -r klo khi < <(ip netns exec "$HNS" sysctl -n net.ipv4.ip_local_port_range)
check "the namespace has the kernel's default range ($klo $khi)" [ "$klo $khi" = "32768 60999" ]
sc_start "$HNS" "$HIF" || { nok "sockctl starts"; exit 1; }
ok "sockctl starts on $HIF"

sc socket tcp; A=$SC_REPLY
if sc connect "$A" "$KIP" $EPORT; then LA=$SC_REPLY; ok "connect to the kernel echo server from port $LA"
else nok "connect to the kernel echo server" "$SC_REPLY"; LA=0; fi
check "ephemeral port $LA is above ip_local_port_range: $((khi + 1))..65535" \
	[ "$LA" -gt "$khi" -a "$LA" -le 65535 ]
ents=$(xdp_map_entries "$HNS" "$HIF" hxs_conns)
check "conn map holds exactly the connection's 4-tuple ($(echo $ents))" \
	[ "$ents" = "$HIP $LA $KIP $EPORT 6" ]

N=1048576
sc send "$A" $N && sc recv "$A" $N
check "1 MiB sent and its echo received, every byte checked ($SC_REPLY)" [ "$SC_REPLY" = "$N" ]

# hxs ss against the process's own TCP_INFO. The region is published every 100 ms and the
# connection goes idle after the echo: wait until both agree (the last ACKs may still move).
ss_agrees() {
	sc info "$A" || return 1
	INFO=$SC_REPLY
	ip netns exec "$HNS" $HXS ss --json >"$W/ss.json" 2>"$W/ss.err" || return 1
	ip netns exec "$HNS" $HXS ss >"$W/ss.txt" 2>>"$W/ss.err" || return 1
	python3 - "$W/ss.json" "$HIP:$LA" "$INFO" <<'PY'
import json, sys
conns = [c for c in json.load(open(sys.argv[1])) if c["proto"] == "tcp" and c["local"] == sys.argv[2]]
info = dict(kv.split("=") for kv in sys.argv[3].split())
if len(conns) != 1:
    sys.exit(1)
c = conns[0]
want = {"rtt_us": info["rtt_us"], "rttvar_us": info["rttvar_us"], "mss": info["mss"],
        "cwnd": str(int(info["cwnd"]) * int(info["mss"])), "segs_out": info["segs_out"],
        "segs_in": info["segs_in"], "bytes_acked": info["bytes_acked"],
        "bytes_received": info["bytes_received"], "total_retrans": info["total_retrans"]}
sys.exit(0 if c["state"] == "ESTAB" and all(str(c[k]) == v for k, v in want.items()) else 1)
PY
}
if wait_for 10 ss_agrees; then
	ok "hxs ss --json: ESTAB, rtt/rttvar/mss/cwnd/segments/bytes equal TCP_INFO ($INFO)"
else
	nok "hxs ss --json equals TCP_INFO" "info: ${INFO:-}" "ss: $(cat "$W/ss.json" "$W/ss.err" 2>/dev/null | head -5)"
fi
rtt=$(kv rtt_us "$INFO") var=$(kv rttvar_us "$INFO") cwnd=$(kv cwnd "$INFO") mss=$(kv mss "$INFO")
rtx=$(kv total_retrans "$INFO") bsent=$((N))
line_re="^ESTAB +tcp +0 +0 +$HIP:$LA +$KIP:$EPORT +rtt:$(awk -v a="$rtt" -v b="$var" 'BEGIN { printf "%.3f/%.3f", a / 1e3, b / 1e3 }') rto:[0-9]+ mss:$mss cwnd:$cwnd .*bytes_acked:$N bytes_received:$N "
check "hxs ss text line: state, queues, addresses, rtt:$rtt us, mss:$mss, cwnd:$cwnd, bytes" \
	grep -qE "$line_re" "$W/ss.txt"
check "rtt and cwnd are real measurements (rtt $rtt us > 0, cwnd $cwnd >= 10 segments)" \
	[ "${rtt:-0}" -gt 0 -a "${cwnd:-0}" -ge 10 ]
if [ "$rtx" = 0 ]; then
	check "hxs ss bytes_sent:$N (no retransmission)" grep -qE "^ESTAB .*bytes_sent:$N " "$W/ss.txt"
else
	check "hxs ss bytes_sent above $N ($rtx retransmissions)" \
		bash -c "[ \$(grep -oE 'bytes_sent:[0-9]+' '$W/ss.txt' | head -1 | cut -d: -f2) -gt $N ]"
fi

# hxs stat: the one connection is everything this stack did.
stat_exact() {
	ip netns exec "$HNS" $HXS stat -i "$HIF" -a --json >"$W/stat.json" 2>"$W/stat.err" || return 1
	sc info "$A" || return 1
	INFO=$SC_REPLY
	python3 - "$W/stat.json" "$INFO" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
i = dict(kv.split("=") for kv in sys.argv[2].split())
si, so = int(i["segs_in"]), int(i["segs_out"])
# segs_in counts the pure ACKs the XDP fast path consumed too (as the kernel's would count
# them); they never reached the stack's IP layer: TcpInSegs and the rest see the others.
fa = c.get("XdpAckFastPath", -1)
si_stack = si - fa
want = {
    "TcpActiveOpens": 1, "TcpPassiveOpens": 0, "TcpCurrEstab": 1, "TcpAttemptFails": 0,
    "TcpEstabResets": 0, "TcpInSegs": si_stack, "TcpOutSegs": so, "TcpInErrs": 0, "TcpOutRsts": 0,
    "IpInReceives": si_stack, "IpInDelivers": si_stack, "IpOutRequests": so, "IpInHdrErrors": 0,
    "HxsIoRxFrames": si_stack, "HxsIoTxFrames": so, "HxsIoFramesHeld": 0, "HxsIoRxDropped": 0,
    "HxsTcpConnMapAdds": 1, "HxsTcpConnMapDels": 0, "XdpTcpSteered": si_stack,
    "HxsTcpFastPathAcks": fa,
    "HxsIoFramesTotal": c.get("HxsIoFramesFree", -1) + c.get("HxsIoFramesRxQueued", -1)
                        + c.get("HxsIoFramesTxQueued", -1) + c.get("HxsIoFramesHeld", -1),
}
bad = {k: (c.get(k), v) for k, v in want.items() if c.get(k) != v}
print(" ".join("%s=%s(want %s)" % (k, g, v) for k, (g, v) in bad.items()))
sys.exit(1 if bad else 0)
PY
}
if wait_for 10 stat_exact >"$W/stat.diff"; then
	ok "hxs stat: TcpActiveOpens 1, TcpCurrEstab 1, TcpInSegs = IpInReceives = HxsIoRxFrames = XdpTcpSteered = segs_in - XdpAckFastPath, HxsTcpFastPathAcks = XdpAckFastPath, TcpOutSegs = IpOutRequests = HxsIoTxFrames = segs_out ($INFO)"
else
	nok "hxs stat Tcp/Ip/HxsIo rows are the connection's exact counts" "$(tail -1 "$W/stat.diff")"
fi
check "hxs stat text has the Tcp, Ip and HxsIo rows" bash -c "
	ip netns exec $HNS $HXS stat -i $HIF -a >$W/stat.txt &&
	grep -qE '^TcpCurrEstab +1\$' $W/stat.txt && grep -qE '^IpInReceives +[1-9]' $W/stat.txt &&
	grep -qE '^HxsIoFramesTotal +[1-9]' $W/stat.txt && grep -qE '^HxsIoFramesHeld +0\$' $W/stat.txt"

# --- 2. a closed socket's port goes back to the kernel while the process lives ----------------
sc socket tcp; B=$SC_REPLY
sc bind "$B" 7100 && sc listen "$B"
check "listening on 7100: a kernel program cannot bind it ($(kbind "$HNS" tcp 7100))" \
	[ "$(kbind "$HNS" tcp 7100)" = EADDRINUSE ]
check "listener 7100 in the bind map" grep -qx "0.0.0.0 7100 6" <<<"$(xdp_map_entries "$HNS" "$HIF" hxs_binds)"
sc close "$B"
check "closed: the kernel binds 7100 at once, the process still runs ($(kbind "$HNS" tcp 7100))" \
	[ "$(kbind "$HNS" tcp 7100)" = bound ]
no_bind() { ! xdp_map_entries "$HNS" "$HIF" hxs_binds | grep -q " $1 "; }
check "closed: 7100 left the bind map" no_bind 7100
sc socket udp; U=$SC_REPLY
sc bind "$U" 7101
check "UDP bound on 7101: the kernel cannot bind it ($(kbind "$HNS" udp 7101))" [ "$(kbind "$HNS" udp 7101)" = EADDRINUSE ]
sc close "$U"
check "UDP closed: the kernel binds 7101 ($(kbind "$HNS" udp 7101))" [ "$(kbind "$HNS" udp 7101)" = bound ]
check "process still alive" kill -0 "$SC_PID"

# --- 3. TIME_WAIT: port and conn-map entry held for 2 MSL, then released ------------------------
sc socket tcp; C=$SC_REPLY
sc bind "$C" 7102
if sc connect "$C" "$KIP" $EPORT; then ok "connection from the bound port 7102"; else nok "connect from 7102" "$SC_REPLY"; fi
sc send "$C" 1000 && sc recv "$C" 1000
check "1000 bytes echoed on it ($SC_REPLY)" [ "$SC_REPLY" = 1000 ]
sc close "$A"; sc close "$C"; t_close=$(_now_us)
# hxs closed first: FIN_WAIT, then TIME_WAIT once the echo server closed too (its FIN)
kernel_closed() { [ -z "$(ip netns exec "$KNS" ss -Htn state established state close-wait state last-ack "sport = :$EPORT")" ]; }
wait_for 20 kernel_closed || note "the kernel side still has connections: $(ip netns exec "$KNS" ss -Htn "sport = :$EPORT")"
check "in TIME_WAIT the kernel cannot bind 7102 ($(kbind "$HNS" tcp 7102))" [ "$(kbind "$HNS" tcp 7102)" = EADDRINUSE ]
ents=$(xdp_map_entries "$HNS" "$HIF" hxs_conns | sort)
want=$(printf '%s\n' "$HIP $LA $KIP $EPORT 6" "$HIP 7102 $KIP $EPORT 6" | sort)
check "in TIME_WAIT both 4-tuples stay in the conn map ($(echo $ents))" [ "$ents" = "$want" ]
check "hxs stat in TIME_WAIT: TcpCurrEstab 0, TW 0, HxsTcpLingerSockets 2, ConnMapDels 0, HxsTcpTimeWait 2 of 65536, HxsTcpConns 0, HxsTcpBufBytes 0" bash -c "
	ip netns exec $HNS $HXS stat -i $HIF -a >$W/tw.txt && grep -qE '^TcpCurrEstab +0\$' $W/tw.txt &&
	grep -qE '^TW +0\$' $W/tw.txt && grep -qE '^HxsTcpLingerSockets +2\$' $W/tw.txt &&
	grep -qE '^HxsTcpConnMapDels +0\$' $W/tw.txt && grep -qE '^HxsTcpTimeWait +2\$' $W/tw.txt &&
	grep -qE '^HxsTcpTimeWaitMax +65536\$' $W/tw.txt && grep -qE '^HxsTcpConns +0\$' $W/tw.txt &&
	grep -qE '^HxsTcpBufBytes +0\$' $W/tw.txt"

released() { [ "$(kbind "$HNS" tcp 7102)" = bound ]; }
if wait_for 150 released; then
	secs=$(( ($(_now_us) - t_close) / 1000000 ))
	check "7102 released after TIME_WAIT ($secs s after close; 2 MSL = 60 s)" [ $secs -ge 59 ]
else
	nok "7102 released within 150 s of the close"
fi
maps_empty() { [ -z "$(xdp_map_entries "$HNS" "$HIF" hxs_conns)" ]; }
wait_for 10 maps_empty
check "after TIME_WAIT the conn map is empty ($(xdp_map_entries "$HNS" "$HIF" hxs_conns | tr '\n' ' '))" maps_empty
tw_done() {
	ip netns exec "$HNS" $HXS stat -i "$HIF" -a >"$W/tw2.txt" &&
	grep -qE '^HxsTcpConnMapAdds +2$' "$W/tw2.txt" && grep -qE '^HxsTcpConnMapDels +2$' "$W/tw2.txt" &&
	grep -qE '^TW +2$' "$W/tw2.txt" && grep -qE '^HxsTcpLingerSockets +0$' "$W/tw2.txt" &&
	grep -qE '^HxsTcpTimeWait +0$' "$W/tw2.txt"
}
if wait_for 10 tw_done; then ok "hxs stat after TIME_WAIT: ConnMapAdds 2 = ConnMapDels 2, TW 2, HxsTcpLingerSockets 0, HxsTcpTimeWait 0"
else nok "hxs stat after TIME_WAIT" "$(grep -E '^(HxsTcpConnMap|TW |HxsTcpLinger|HxsTcpTimeWait )' "$W/tw2.txt" | tr '\n' ' ')"; fi
sc_quit; rc=$?
check "sockctl quits with status 0 ($rc)" [ $rc -eq 0 ]
check "no XDP program left on $HIF" [ -z "$(xdp_prog_id "$HNS" "$HIF")" ]

# --- 4. HXS_PORT_RANGE: exactly its ports, then EADDRNOTAVAIL ----------------------------------
SC_ENV="HXS_PORT_RANGE=40000-40003" sc_start "$HNS" "$HIF" || nok "sockctl starts with HXS_PORT_RANGE"
ports=()
for i in 1 2 3 4; do
	sc socket tcp; fd=$SC_REPLY
	sc connect "$fd" "$KIP" $EPORT && ports+=("$SC_REPLY")
done
got=$(printf '%s\n' "${ports[@]}" | sort -n | tr '\n' ' ')
check "HXS_PORT_RANGE=40000-40003: four connections took exactly 40000..40003 ($got)" \
	[ "$got" = "40000 40001 40002 40003 " ]
sc socket tcp; fd=$SC_REPLY
sc connect "$fd" "$KIP" $EPORT
check "a fifth connect: EADDRNOTAVAIL ($SC_REPLY)" [ "$SC_REPLY" = "err EADDRNOTAVAIL connect" ]
sc_quit

# --- 5. a changed ip_local_port_range moves hxs's range above it --------------------------------
ip netns exec "$HNS" sysctl -qw net.ipv4.ip_local_port_range="20000 64999"
sc_start "$HNS" "$HIF" || nok "sockctl starts with ip_local_port_range 20000 64999"
ports=()
for i in 1 2 3 4 5 6; do
	sc socket tcp; fd=$SC_REPLY
	sc connect "$fd" "$KIP" $EPORT && ports+=("$SC_REPLY")
done
inrange() { local p; [ ${#ports[@]} -eq 6 ] || return 1; for p in "${ports[@]}"; do [ "$p" -ge 65000 ] || return 1; done; }
check "ip_local_port_range 20000 64999: six connections all on 65000..65535 (${ports[*]})" inrange
sc_quit

[ $failed -eq 0 ] || { echo "# --- sockctl stderr"; tail -20 "$W/sc.err" | sed 's/^/# /'; }
tap_done
