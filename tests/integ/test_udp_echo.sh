#!/usr/bin/env bash
# test_udp_echo.sh - hxs-udp-echo on hxs against kernel peers over a veth pair.
#   (a) libxdp attach: 10,000 datagrams of random sizes 1..1472 from a kernel client, every
#       reply byte-for-byte (a lost one may be resent at most 3 times, counted); kernel ping
#       and a socat TCP transfer (cmp) run meanwhile; the kernel cannot bind hxs's port
#       (EADDRINUSE); after SIGTERM: exit 0, UdpInDatagrams/UdpOutDatagrams match what the
#       client sent and got, and no XDP program is left on the interface
#   (b) the operator attached the program with `ip link ... xdp obj` first: hxs adopts it,
#       echoes, and after SIGTERM the same program is still attached and its bind map is empty
#   (c) skb-mode attach with --busy-poll: echo works, SIGTERM ends the spin, detached
#   (d) the kernel's neighbour entry for the client changes while hxs answers it (the socket
#       keeps a cached destination): the next reply goes to the new address (tcpdump on the
#       client's side sees it, the client's kernel drops it), and back again once restored
# Prints TAP lines; exits non-zero when a case failed.
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }

P=$(hxt_name ue)
W=$(mktemp -d)
SRV=
trap 'stop_pid "$SRV" 10; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair $P || { echo "not ok 1 - topology"; exit 1; }
topo_bpffs $P || { echo "not ok 1 - bpffs"; exit 1; }
ECHO=build/hxs-udp-echo
PORT=7777

prog_id() { ip -n $HNS -d link show $HIF | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1; }
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# start_echo ARGS...: runs hxs-udp-echo in $HNS, waits for its ready line. Sets SRV.
start_echo() {
  : >$W/srv.out; : >$W/srv.err
  ip netns exec $HNS env TC_BPF_MNT=$BPFFS $ECHO -i $HIF -p $PORT "$@" >$W/srv.out 2>$W/srv.err &
  SRV=$!
  wait_line 60 $W/srv.out ready $SRV && return 0
  echo "# hxs-udp-echo did not start:"; sed 's/^/#   /' $W/srv.err | tail -5
  return 1
}

stop_echo() {
  local rc
  stop_pid $SRV 30; rc=$?; SRV=
  return $rc
}

# client COUNT: random sizes 1..1472 (the first one 1472), each reply compared byte for byte.
client() {
  ip netns exec $KNS python3 - $HIP $PORT "$1" >$W/client.out <<'PY'
import os, random, socket, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
ok = bad = resent = sent = 0
failed = 0
for i in range(count):
    m = os.urandom(1472 if i == 0 else random.randint(1, 1472))
    for attempt in range(4):
        if attempt:
            resent += 1
        s.sendto(m, (host, port)); sent += 1
        try:
            while True:
                r, _ = s.recvfrom(4096)
                if r == m:
                    ok += 1
                    break
                # a late reply to an earlier resend: not this one; keep waiting
                if len(r) != len(m):
                    continue
                bad += 1
                break
            break
        except socket.timeout:
            continue
    else:
        failed += 1
print(f"ok={ok} bad={bad} resent={resent} sent={sent} failed={failed}")
sys.exit(0 if ok == count and bad == 0 else 1)
PY
}

# kernel traffic meanwhile: ping and 4 MB over kernel TCP on another port, compared
kernel_traffic() {
  head -c 4194304 /dev/urandom >$W/tx
  rm -f $W/rx
  ip netns exec $HNS timeout 60 socat -u TCP-LISTEN:8080,bind=$HIP,reuseaddr OPEN:$W/rx,creat,trunc &
  local srv=$!
  wait_listen $HNS 8080 30
  ip netns exec $KNS ping -c 20 -i 0.1 -W 1 $HIP >$W/ping.out 2>&1 &
  local png=$!
  ip netns exec $KNS timeout 60 socat -u OPEN:$W/tx TCP:$HIP:8080 || { echo "# socat client failed"; kill $srv 2>/dev/null; return 1; }
  wait $srv
  wait $png || { echo "# ping failed"; return 1; }
  cmp -s $W/tx $W/rx || { echo "# TCP payload differs"; return 1; }
}

# ---- (a) hxs attaches the program itself -----------------------------------------------
if start_echo -a native; then
  ok "hxs-udp-echo ready: $(cat $W/srv.out)"
  check "ready line says copy mode and native XDP" grep -q 'copy mode.*native' $W/srv.out
  check "kernel cannot bind UDP $PORT while hxs owns it (EADDRINUSE)" \
    ip netns exec $HNS python3 -c "
import socket, errno, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(('0.0.0.0', $PORT))
except OSError as e:
    sys.exit(0 if e.errno == errno.EADDRINUSE else 1)
sys.exit(1)"
  kernel_traffic >$W/kt.out 2>&1 &
  KT=$!
  if client 10000; then ok "10000 datagrams echoed byte-for-byte ($(cat $W/client.out))"
  else nok "10000 datagrams echoed byte-for-byte ($(cat $W/client.out))"; fi
  if wait $KT; then ok "kernel ping and TCP transfer (4 MB, cmp) meanwhile"
  else nok "kernel ping and TCP transfer meanwhile"; sed 's/^/# /' $W/kt.out; fi
  stop_echo; rc=$?
  check "SIGTERM: exit status 0" [ $rc -eq 0 ]
  sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' $W/client.out)
  resent=$(sed -n 's/.*resent=\([0-9]*\).*/\1/p' $W/client.out)
  indg=$(stat_of UdpInDatagrams $W/srv.err); outdg=$(stat_of UdpOutDatagrams $W/srv.err)
  echo "# client sent $sent (resent $resent); hxs UdpInDatagrams $indg UdpOutDatagrams $outdg"
  if [ "${resent:-1}" = 0 ]; then
    check "UdpInDatagrams == UdpOutDatagrams == 10000" [ "$indg" = 10000 -a "$outdg" = 10000 ]
  else
    check "UdpInDatagrams == UdpOutDatagrams, between 10000 and $sent" \
      [ "$indg" = "$outdg" -a "$indg" -ge 10000 -a "$indg" -le "$sent" ]
  fi
  check "no UDP/IP errors counted" [ "$(stat_of UdpInErrors $W/srv.err)" = 0 -a "$(stat_of IpInHdrErrors $W/srv.err)" = 0 ]
  check "no XDP program left after SIGTERM" bash -c "! ip -n $HNS link show $HIF | grep -q xdp"
  check "kernel can bind UDP $PORT after hxs exits" \
    ip netns exec $HNS python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(('0.0.0.0', $PORT))"
else
  nok "hxs-udp-echo (libxdp attach) started"
fi

# ---- (b) the operator attached it with ip link --------------------------------------------
if ip netns exec $HNS env TC_BPF_MNT=$BPFFS ip link set dev $HIF xdp obj build/bpf/hxs.bpf.o sec xdp; then
  before=$(ip -n $HNS -d link show $HIF | grep -o 'prog/xdp id [0-9]*')
  if start_echo -a existing; then
    ok "hxs-udp-echo adopted the operator's program: $(cat $W/srv.out)"
    nb=$(bpftool -j map dump pinned $BPFFS/tc/globals/hxs_binds | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
    # the dual-stack :: socket's two entries: :: and 0.0.0.0
    check "bind map holds hxs's entries while it serves (:: and 0.0.0.0; entries: $nb)" [ "$nb" = 2 ]
    if client 2000; then ok "2000 datagrams echoed on the adopted program ($(cat $W/client.out))"
    else nok "2000 datagrams echoed on the adopted program ($(cat $W/client.out))"; fi
    stop_echo; rc=$?
    check "SIGTERM: exit status 0" [ $rc -eq 0 ]
    after=$(ip -n $HNS -d link show $HIF | grep -o 'prog/xdp id [0-9]*')
    echo "# before: $before; after: $after"
    check "the operator's program is still attached, unchanged" [ -n "$before" -a "$before" = "$after" ]
    nb=$(bpftool -j map dump pinned $BPFFS/tc/globals/hxs_binds | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
    check "bind map left empty after SIGTERM (entries: $nb)" [ "$nb" = 0 ]
  else
    nok "hxs-udp-echo adopted the operator's program"
  fi
  ip -n $HNS link set dev $HIF xdp off
else
  nok "ip link set ... xdp obj"
fi

# ---- (c) generic (skb) XDP and busy polling ------------------------------------------------
if start_echo -a skb --busy-poll; then
  ok "hxs-udp-echo in skb mode with --busy-poll: $(cat $W/srv.out)"
  check "ready line says skb mode" grep -qiE 'skb|generic' $W/srv.out
  if client 1000; then ok "1000 datagrams echoed, busy polling ($(cat $W/client.out))"
  else nok "1000 datagrams echoed, busy polling ($(cat $W/client.out))"; fi
  stop_echo; rc=$?
  check "SIGTERM while busy polling: exit status 0" [ $rc -eq 0 ]
  check "no XDP program left" bash -c "! ip -n $HNS link show $HIF | grep -q xdp"
else
  nok "hxs-udp-echo -a skb --busy-poll started"
fi

# ---- (d) a neighbour change reaches a socket's cached destination ---------------------------
# ask MSG...: one datagram each, prints the replies received within 1 s ("-" for none)
ask() {
  ip netns exec $KNS python3 - $HIP $PORT "$@" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
out = []
for m in sys.argv[3:]:
    s.sendto(m.encode(), (host, port))
    try:
        out.append(s.recvfrom(4096)[0].decode())
    except socket.timeout:
        out.append("-")
print(" ".join(out))
PY
}
BOGUS=02:00:00:00:00:99
if start_echo -a native --busy-poll; then
  r1=$(ask a1 a2)
  check "replies with the kernel's entry for the client ($r1)" [ "$r1" = "a1 a2" ]
  ip -n $HNS neigh replace $KIP lladdr $BOGUS dev $HIF nud permanent
  sleep 0.5       # the notification is read within HXS_CTL_POLL_US (100 ms)
  ip netns exec $KNS tcpdump -l -e -n -i $KIF -c 1 "udp and src port $PORT" >$W/td.out 2>$W/td.err &
  TD=$!
  wait_line 10 $W/td.err listening $TD
  r2=$(ask b1)
  # tcpdump -c 1 ends with the reply; if none leaves hxs, it must not hang the tier
  for i in $(seq 1 50); do kill -0 $TD 2>/dev/null || break; sleep 0.1; done
  kill $TD 2>/dev/null; wait $TD 2>/dev/null
  check "entry changed to $BOGUS: the reply goes there, the client gets none ($r2)" [ "$r2" = "-" ]
  check "tcpdump: the reply's destination MAC is $BOGUS ($(head -1 $W/td.out))" grep -q "> $BOGUS" $W/td.out
  ip -n $HNS neigh replace $KIP lladdr $KMAC dev $HIF nud permanent
  sleep 0.5
  r3=$(ask c1 c2)
  check "entry restored: replies again ($r3)" [ "$r3" = "c1 c2" ]
  stop_echo
else
  nok "hxs-udp-echo -a native --busy-poll started"
fi

tap_done
