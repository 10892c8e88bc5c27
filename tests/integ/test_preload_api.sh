#!/usr/bin/env bash
# test_preload_api.sh - the shim's kernel API case by case (build/tests/integ/pl_api under
# LD_PRELOAD=build/libhxs-preload.so, HXS_IFACE the veth end), facing kernel servers in the
# other namespace: an echo server, and a sink that logs "LOCALPORT BYTES" when a connection
# ends. pl_api prints "pass NAME" / "fail NAME: why" per case (tests/integ/pl_api.c):
#   sig   SA_RESTART restarts blocking recv/send/accept, no SA_RESTART: EINTR, SO_RCVTIMEO:
#         EINTR, poll/select/epoll_wait: EINTR (signal(7)); accept's peer connects from here
#         when pl_api says it waits
#   fds   mixed epoll sets, a dup of an epoll fd, a socket added before connect, poll on fd
#         3000, select on fd 1023, dup/close ordering (checked here against the sink's log),
#         exec with and without FD_CLOEXEC
#   sys   the raw syscall() entry; its stderr holds no libbpf/libxdp progress lines
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
[ -f "$B/libhxs-preload.so" ] && [ -x "$B/tests/integ/pl_api" ] ||
  { echo "not ok 1 - $B/libhxs-preload.so or $B/tests/integ/pl_api not built"; exit 1; }
source scripts/netns.sh
source tests/integ/lib.sh

SO=${PL_SO:-$(pwd)/$B/libhxs-preload.so}
API=$(pwd)/$B/tests/integ/pl_api
W=$(mktemp -d)
SINK=
trap 'stop_pid "$KECHO_PID" 5; stop_pid "$SINK" 5; _topo_cleanup; rm -rf "$W"' EXIT
topo_pair "$(hxt_name pa)" || { echo "not ok 1 - topology"; exit 1; }
kecho_start "$KNS" "$KIP" 9000 || { echo "not ok 1 - kernel echo server"; exit 1; }
ip netns exec "$KNS" python3 -c '
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 9001)); l.listen(16)
def sink(c, port):
    n = 0
    while True:
        try:
            d = c.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        n += len(d)
    with open(sys.argv[2], "a") as f:
        f.write("%d %d\n" % (port, n))
while True:
    c, a = l.accept()
    threading.Thread(target=sink, args=(c, a[1]), daemon=True).start()' "$KIP" "$W/sink.log" &
SINK=$!
wait_listen "$KNS" 9001 30 || { echo "not ok 1 - kernel sink server"; exit 1; }

# pl_api is built with ASan, which wants to come first; the shim is preloaded before it.
H="ip netns exec $HNS env LD_PRELOAD=$SO HXS_IFACE=$HIF ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"
report() { # FILE: pass/fail lines -> TAP
  local l
  while IFS= read -r l; do
    case $l in
      pass\ *) ok "${l#pass }" ;;
      fail\ *) nok "${l#fail }" ;;
    esac
  done < "$1"
}

# sig: accept's peer connects once pl_api says it waits
$H timeout 180 "$API" sig "$KIP" 9000 7100 > "$W/sig" 2> "$W/sig.err" & A=$!
if wait_line 120 "$W/sig" '^accept-waiting' "$A"; then
  ip netns exec "$KNS" bash -c "exec 3<>/dev/tcp/$HIP/7100" || note "kernel connect to 7100 failed"
fi
wait $A; rc=$?
report "$W/sig"
check "pl_api sig exits 0 (status $rc)" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/#   /' "$W/sig.err" | tail -5

$H timeout 180 "$API" fds "$KIP" 9000 9001 > "$W/fds" 2> "$W/fds.err"; rc=$?
report "$W/fds"
check "pl_api fds exits 0 (status $rc)" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/#   /' "$W/fds.err" | tail -5
# each "expect LPORT BYTES": the sink saw that connection end with exactly BYTES
while read -r _ port bytes; do
  wait_for 20 grep -q "^$port " "$W/sink.log"
  got=$(awk -v p="$port" '$1 == p {print $2}' "$W/sink.log")
  check "dup/close ordering: connection from port $port ended with $bytes bytes (got ${got:-none})" \
    [ "$got" = "$bytes" ]
done < <(grep '^expect ' "$W/fds")
check "three sink connections checked" [ "$(grep -c '^expect ' "$W/fds")" = 3 ]

$H timeout 60 "$API" sys "$KIP" 9000 > "$W/sys" 2> "$W/sys.err"; rc=$?
report "$W/sys"
check "pl_api sys exits 0 (status $rc)" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/#   /' "$W/sys.err" | tail -5
check "the program's stderr carries no libbpf/libxdp progress lines (HXS_VERBOSE unset)" \
  bash -c "! grep -qE '^lib(bpf|xdp): ' '$W/sys.err'"

tap_done
