#!/usr/bin/env bash
# test_stack_exit.sh - how an hxs process ends, and what the next one finds (README: the XDP
# program records its owner; hxs detaches what it attached at exit; a killed owner's program
# is replaced by the next start; the statistics region of a dead stack is taken over):
#   (a) SIGKILL, program attached by hxs: program, maps and statistics region stay behind;
#       hxs stat says no stack runs; the next start replaces the program (the old one and its
#       map entries are gone), takes over the region (its own pid, fresh counters)
#   (b) SIGINT, program attached by hxs: exit 0, program and its maps gone, region removed,
#       ports back with the kernel
#   (c) SIGINT, program attached by an operator (ip link ... xdp obj, pinned maps): exit 0,
#       the program stays, the bind and conn maps are left empty
#   (d) SIGKILL, operator's program: the killed process's entries stay in the pinned maps
#       (README says so: nothing can tell them from a live process's); they go with bpftool
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
sc_echo_setup sx
topo_bpffs "$P" || { echo "not ok 1 - bpffs"; exit 1; }
ino=$(ip netns exec "$HNS" stat -L -c %i /proc/self/ns/net)
REGION=/run/hxs/$ino-$HIF.shm

_no_prog() { ! bpftool prog show id "$1" >/dev/null 2>&1; }
entries() { xdp_map_entries "$HNS" "$HIF" "$1" | sort | tr '\n' ';'; }
stack_pid() { ip netns exec "$HNS" $HXS stat -i "$HIF" 2>/dev/null | sed -n 's/^#stack: .* pid \([0-9]*\):.*/\1/p'; }
stat_val() { ip netns exec "$HNS" $HXS stat -i "$HIF" -a 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
# a listener on LPORT and one echoed connection; sets CPORT (its local port)
serve() { # LPORT
	sc socket tcp && L=$SC_REPLY && sc bind "$L" "$1" && sc listen "$L" &&
	sc socket tcp && C=$SC_REPLY && sc connect "$C" "$KIP" $EPORT && CPORT=$SC_REPLY &&
	sc send "$C" 1000 && sc recv "$C" 1000
}

# --- (a) SIGKILL, hxs attached the program itself ---------------------------------------------
sc_start "$HNS" "$HIF" || { nok "sockctl starts"; exit 1; }
S1=$SC_PID
check "first stack runs (pid $S1) and publishes its region" bash -c "[ -f $REGION ]"
check "hxs stat names pid $S1 as the stack's" [ "$(stack_pid)" = "$S1" ]
if serve 7200; then ok "listener 7200 and a connection from $CPORT (1000 bytes echoed)"
else nok "listener and connection" "$SC_REPLY"; fi
P1=$(xdp_prog_id "$HNS" "$HIF")
# the listener's wildcard bind and the connection's 4-tuple (connect's port has no bind
# entry: its 4-tuple steers)
ENTRIES="0.0.0.0 7200 6;$HIP $CPORT $KIP $EPORT 6;"
check "its maps: bind 7200, conn $CPORT ($(entries hxs_binds) $(entries hxs_conns))" \
	[ "$(entries hxs_binds)$(entries hxs_conns)" = "$ENTRIES" ]
kill -KILL "$S1"; sc_reap; rc=$?
check "SIGKILL: status 137 ($rc)" [ $rc -eq 137 ]
check "the dead owner's program stays attached (id $P1)" [ "$(xdp_prog_id "$HNS" "$HIF")" = "$P1" ]
check "with its entries (nothing ran to remove them)" [ "$(entries hxs_binds)$(entries hxs_conns)" = "$ENTRIES" ]
check "the statistics region stays behind" bash -c "[ -f $REGION ]"
check "hxs stat ignores the dead stack's region (only the program's counters, no stack)" \
	bash -c "ip netns exec $HNS $HXS stat -i $HIF >$W/dead.out 2>&1 && grep -q '^#xdp: ' $W/dead.out && ! grep -q '^#stack: ' $W/dead.out"
ip netns exec "$HNS" $HXS ss >"$W/dead.out" 2>&1; rc=$?
check "hxs ss: status 1, no running stack ($rc)" bash -c "[ $rc -eq 1 ] && grep -q 'no running hxs stack' $W/dead.out"
check "the kernel socket that reserved 7200 died with the process ($(kbind "$HNS" tcp 7200))" \
	[ "$(kbind "$HNS" tcp 7200)" = bound ]

sc_start "$HNS" "$HIF" || nok "second stack starts"
S2=$SC_PID
P2=$(xdp_prog_id "$HNS" "$HIF")
# libxdp 1.3.1 (Debian 12) keeps an fd of every program it looked up by id (xdp-tools issue
# 343, fixed upstream later): the detached stale program lives on, attached nowhere, until
# the process that replaced it exits; section (b) checks it is gone then.
check "the next start detached the stale program and attached its own ($P1 -> $P2)" \
	bash -c "[ -n '$P2' ] && [ '$P2' != '$P1' ]"
check "the new program's maps start empty" [ "$(entries hxs_binds)$(entries hxs_conns)" = "" ]
check "the region was taken over: hxs stat names pid $S2" [ "$(stack_pid)" = "$S2" ]
if serve 7200; then ok "port 7200 serves again, connection from $CPORT"
else nok "port 7200 again" "$SC_REPLY"; fi
published() { [ "$(stat_val TcpActiveOpens)" = 1 ]; }
check "fresh counters: TcpActiveOpens 1, its own connection only (the dead stack had 1 too)" \
	wait_for 10 published
check "hxs ss lists exactly the new stack's listener and connection" bash -c "
	ip netns exec $HNS $HXS ss | tail -n +2 | awk '{ print \$1, \$5 }' | sort >$W/ss2 &&
	printf '%s\n' 'ESTAB $HIP:$CPORT' 'LISTEN 0.0.0.0:7200' | diff - $W/ss2"

# --- (b) SIGINT, hxs attached the program -------------------------------------------------------
maps=$(bpftool -j prog show id "$P2" | python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin)["map_ids"])))')
kill -INT "$S2"; sc_reap; rc=$?
check "SIGINT: exit status 0 ($rc)" [ $rc -eq 0 ]
check "SIGINT: no XDP program left on $HIF" [ -z "$(xdp_prog_id "$HNS" "$HIF")" ]
all_gone() { local m; for m in $maps; do bpftool map show id "$m" >/dev/null 2>&1 && return 1; done; _no_prog "$P2"; }
check "SIGINT: the program and its maps (ids $maps) are gone, entries with them" wait_for 10 all_gone
check "the stale program of (a) is gone too, with its maps and entries ($P1)" wait_for 10 _no_prog "$P1"
check "SIGINT: the statistics region is removed" bash -c "[ ! -e $REGION ]"
check "SIGINT: port 7200 back with the kernel ($(kbind "$HNS" tcp 7200))" [ "$(kbind "$HNS" tcp 7200)" = bound ]

# --- (c) SIGINT, the operator's program -----------------------------------------------------------
check "operator attaches the program (ip link ... xdp obj, maps pinned)" \
	env TC_BPF_MNT="$BPFFS" ip -n "$HNS" link set dev "$HIF" xdp obj build/bpf/hxs.bpf.o sec xdp
P3=$(xdp_prog_id "$HNS" "$HIF")
sc_start "$HNS" "$HIF" -a existing || nok "stack adopts the operator's program"
if serve 7300; then ok "adopted: listener 7300 and a connection from $CPORT"
else nok "adopted: listener and connection" "$SC_REPLY"; fi
check "the pinned maps hold bind 7300, conn $CPORT" \
	[ "$(entries hxs_binds)$(entries hxs_conns)" = "0.0.0.0 7300 6;$HIP $CPORT $KIP $EPORT 6;" ]
kill -INT "$SC_PID"; sc_reap; rc=$?
check "SIGINT: exit status 0 ($rc)" [ $rc -eq 0 ]
check "SIGINT: the operator's program stays attached (id $P3)" [ "$(xdp_prog_id "$HNS" "$HIF")" = "$P3" ]
check "SIGINT: bind and conn maps left empty ($(entries hxs_binds)$(entries hxs_conns))" \
	[ "$(entries hxs_binds)$(entries hxs_conns)" = "" ]

# --- (d) SIGKILL, the operator's program ------------------------------------------------------------
sc_start "$HNS" "$HIF" -a existing || nok "stack adopts the operator's program again"
if serve 7301; then ok "adopted: listener 7301 and a connection from $CPORT"
else nok "adopted: listener and connection" "$SC_REPLY"; fi
kill -KILL "$SC_PID"; sc_reap
check "SIGKILL: the operator's program stays (id $P3)" [ "$(xdp_prog_id "$HNS" "$HIF")" = "$P3" ]
check "SIGKILL: the killed process's entries stay in the pinned maps (as README says)" \
	[ "$(entries hxs_binds)$(entries hxs_conns)" = "0.0.0.0 7301 6;$HIP $CPORT $KIP $EPORT 6;" ]
# the keys as struct hxs_bind_key / hxs_conn_key lay them out (include/hxs/shared.h)
key_hex() { # bind PORT ADDR | conn LPORT RPORT
	python3 - "$HIP" "$KIP" "$@" <<'PY'
import socket, struct, sys
hip, kip, kind = sys.argv[1], sys.argv[2], sys.argv[3]
v4 = lambda a: bytes(10) + b"\xff\xff" + socket.inet_aton(a)
if kind == "bind":
    k = v4(sys.argv[5]) + struct.pack("!H", int(sys.argv[4])) + bytes([6, 0])
else:
    k = v4(hip) + v4(kip) + struct.pack("!HH", int(sys.argv[4]), int(sys.argv[5])) + bytes([6, 0, 0, 0])
print(" ".join("%02x" % b for b in k))
PY
}
unsteer() {
	bpftool map delete pinned "$BPFFS/tc/globals/hxs_binds" key hex $(key_hex bind 7301 0.0.0.0) &&
	bpftool map delete pinned "$BPFFS/tc/globals/hxs_conns" key hex $(key_hex conn "$CPORT" $EPORT)
}
check "bpftool removes them (README's remedy)" unsteer
check "the maps are empty again" [ "$(entries hxs_binds)$(entries hxs_conns)" = "" ]
ip -n "$HNS" link set dev "$HIF" xdp off
rm -f "$BPFFS"/tc/globals/hxs_*

[ $failed -eq 0 ] || { echo "# --- sockctl stderr"; tail -20 "$W/sc.err" | sed 's/^/# /'; }
tap_done
