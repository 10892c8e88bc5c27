# lib.sh - what every integration test shares: TAP lines, counters, waits with a deadline,
# stopping a process with a deadline, and the suite's namespace names.
#
#   source scripts/netns.sh; source tests/integ/lib.sh
#   P=$(hxt_name TAG)           "hxt" + a 2-letter test tag + this script's pid: the prefix of
#                               every namespace and interface the test creates (topo_pair $P).
#                               scripts/run-tests.sh reaps such namespaces whose pid no longer
#                               runs an integration test (a run killed before its traps ran).
#   check "name" CMD...        runs CMD: "ok N - name" or "not ok N - name" (+ the command)
#   ok "name" / nok "name" [detail...]   (pass/fail are the same)
#   wait_for SECONDS CMD...    polls CMD every 50 ms until it succeeds; status 1 at the deadline
#   wait_line SECONDS FILE RE [PID]   a line matching RE (grep -E) in FILE; gives up early when
#                              PID (if given) has exited
#   wait_listen NS PORT [SECS] a TCP listener on PORT in namespace NS (ss), default 10 s
#   stop_pid PID [SECS] [SIG]  sends SIG (TERM) and waits up to SECS (15) for PID to exit, then
#                              KILLs it; returns PID's exit status (137 when it had to be killed)
#   tap_done                   "# N cases, F failed"; status 0 only when nothing failed
#
# A scripted hxs process (build/tests/integ/sockctl, commands in tests/integ/sockctl.c), one at
# a time per script; its files live in $W (the test's scratch directory):
#   sc_start NS IF [ARGS...]   starts it in NS (env from SC_ENV, e.g. HXS_PORT_RANGE=...),
#                              waits for its ready line; sets SC_PID
#   sc CMD ARGS...             one command; its answer in SC_REPLY (without "ok "); status 0
#                              when the answer was "ok ..."
#   sc_quit                    "quit", then the exit status (stop_pid with a deadline)
# The XDP program's maps seen from outside, through the program attached to an interface:
#   xdp_prog_id NS IF          id of the program attached to IF (empty: none)
#   xdp_map_entries NS IF MAP  one line per entry of MAP (hxs_binds | hxs_conns):
#                              "addr port proto" / "laddr lport raddr rport proto", host order
#   kbind NS PROTO PORT        a kernel socket binds 0.0.0.0:PORT: "bound" or the errno name
#   kecho_start NS ADDR PORT   a kernel TCP echo server (one thread a connection; closes when
#                              the peer has closed); waits until it listens; sets KECHO_PID
#   sc_echo_setup TAG          the setup of a sockctl test against a kernel echo server:
#                              needs root (else SKIP, 77) and sockctl built; sets P, W, HXS,
#                              EPORT (9000); topo_pair $P, kecho_start on $KNS $KIP $EPORT; an
#                              EXIT trap stops sockctl and the server, removes the topology
#                              and $W. A step that fails prints "not ok 1" and exits 1.
#
# Every wait is a condition with a deadline, never a fixed sleep: the machine running the
# suite may be slow and shared. Deadlines are generous; a wait that succeeds returns at once.
# shellcheck shell=bash

n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; local l; for l in "$@"; do echo "#   $l"; done; }
pass() { ok "$*"; }
fail() { nok "$*"; }
note() { echo "# $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "command: $*"; fi; }

hxt_name() { echo "hxt$1$$"; }

# Microseconds on the realtime clock, without a fork (bash 5).
_now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

wait_for() {
	local secs=$1 end; shift
	end=$(( $(_now_us) + $(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000000 }') ))
	while :; do
		"$@" && return 0
		[ "$(_now_us)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

_line_or_gone() { # FILE RE [PID]
	grep -qE "$2" "$1" 2>/dev/null && return 0
	[ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 0
	return 1
}
wait_line() {
	wait_for "$1" _line_or_gone "$2" "$3" "${4:-}"
	grep -qE "$3" "$2" 2>/dev/null
}

# A process that gave no ready line: say whether it still runs and where each of its threads
# waits (state, wchan, system call, kernel stack), or how it exited. A server once printed
# nothing for 60 s on a CI machine, with an empty log; this is what to look at next time.
diag_pid() { # PID
	local pid=$1 t
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		note "pid $pid still runs: $(ps -o stat=,etime=,time=,args= -p "$pid")"
		for t in /proc/"$pid"/task/*; do
			[ -d "$t" ] || continue
			note "  task ${t##*/} $(cat "$t/comm" 2>/dev/null) state $(awk '{print $3}' "$t/stat" 2>/dev/null) wchan $(cat "$t/wchan" 2>/dev/null) syscall $(cut -d' ' -f1-3 "$t/syscall" 2>/dev/null)"
			sed 's/^/#     /' "$t/stack" 2>/dev/null | head -20
		done
	else
		wait "$pid" 2>/dev/null
		note "pid $pid exited with status $?"
	fi
}

wait_listen() {
	wait_for "${3:-10}" _listening "$1" "$2"
}
_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

_gone() { ! kill -0 "$1" 2>/dev/null; }
stop_pid() {
	local pid=$1 secs=${2:-15} sig=${3:-TERM} rc
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	if ! wait_for "$secs" _gone "$pid"; then
		note "pid $pid still ran $secs s after SIG$sig: killed"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null; rc=$?
	return $rc
}

SC_PID= SC_IN= SC_OUT= SC_REPLY=
sc_start() { # NS IF [ARGS...]
	local ns=$1 ifc=$2; shift 2
	rm -f "$W/sc.in" "$W/sc.out"; mkfifo "$W/sc.in" "$W/sc.out"
	ip netns exec "$ns" env ${SC_ENV:-} build/tests/integ/sockctl -i "$ifc" "$@" \
		<"$W/sc.in" >"$W/sc.out" 2>"$W/sc.err" &
	SC_PID=$!
	exec {SC_IN}>"$W/sc.in" {SC_OUT}<"$W/sc.out"
	if ! read -t 60 -r SC_REPLY <&$SC_OUT || [[ $SC_REPLY != *ready* ]]; then
		note "sockctl did not start: ${SC_REPLY:-}"; sed 's/^/#   /' "$W/sc.err" | tail -5
		return 1
	fi
}
sc() {
	SC_REPLY=
	echo "$*" >&$SC_IN || return 1
	read -t 60 -r SC_REPLY <&$SC_OUT || { SC_REPLY="(no answer within 60 s)"; return 1; }
	[[ $SC_REPLY == ok* ]] || return 1
	SC_REPLY=${SC_REPLY#ok}; SC_REPLY=${SC_REPLY# }
}
_sc_close_fds() {
	[ -n "$SC_IN" ] && exec {SC_IN}>&-
	[ -n "$SC_OUT" ] && exec {SC_OUT}<&-
	SC_IN= SC_OUT=
}
sc_quit() {
	local rc
	sc quit
	_sc_close_fds
	wait_for 30 _gone "$SC_PID"
	stop_pid "$SC_PID" 5; rc=$?
	SC_PID=
	return $rc
}
# After the process was signalled from outside: its exit status.
sc_reap() { # [SECS]
	local rc
	wait_for "${1:-30}" _gone "$SC_PID"
	stop_pid "$SC_PID" 5; rc=$?
	_sc_close_fds
	SC_PID=
	return $rc
}

xdp_prog_id() { # NS IF
	ip -n "$1" -j -d link show "$2" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]
x = l.get("xdp", {})
p = x.get("prog") or next((a["prog"] for a in x.get("attached", []) if "prog" in a), None)
print(p["id"] if p else "")'
}
xdp_map_entries() { # NS IF MAP
	local id
	id=$(xdp_prog_id "$1" "$2")
	[ -n "$id" ] || return 1
	python3 - "$id" "$3" <<'PY'
import json, subprocess, sys
prog, want = sys.argv[1], sys.argv[2]
def bt(*a):
    return json.loads(subprocess.run(["bpftool", "-j", *a], check=True, capture_output=True).stdout)
def port(p):   # the key holds network byte order; bpftool shows the u16 as stored
    return ((p & 0xff) << 8) | (p >> 8)
def addr(b):
    return ".".join(str(x) for x in b[12:16]) if b[:12] == [0]*10 + [255, 255] else ":".join("%02x" % x for x in b)
for m in bt("prog", "show", "id", prog)["map_ids"]:
    if bt("map", "show", "id", str(m))["name"] != want:
        continue
    for e in bt("map", "dump", "id", str(m)):
        k = e.get("formatted", e)["key"]   # with BTF, -j gives raw bytes and "formatted"
        if "laddr" in k:
            print(addr(k["laddr"]), port(k["lport"]), addr(k["raddr"]), port(k["rport"]), k["proto"])
        else:
            print(addr(k["addr"]), port(k["port"]), k["proto"])
    sys.exit(0)
sys.exit("no map " + want)
PY
}
kbind() { # NS tcp|udp PORT
	ip netns exec "$1" python3 -c '
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
try:
    s.bind(("0.0.0.0", int(sys.argv[2]))); print("bound")
except OSError as e:
    print(errno.errorcode[e.errno])' "$2" "$3"
}

KECHO_PID=
kecho_start() { # NS ADDR PORT
	ip netns exec "$1" python3 -c '
import socket, socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                d = self.request.recv(65536)
                if not d:
                    break
                self.request.sendall(d)
        except ConnectionResetError:    # a peer that was killed or reset
            pass
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server((sys.argv[1], int(sys.argv[2])), Echo).serve_forever()' "$2" "$3" &
	KECHO_PID=$!
	wait_listen "$1" "$3" 30
}

sc_echo_setup() { # TAG
	[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }
	[ -x build/tests/integ/sockctl ] ||
		{ echo "not ok 1 - build/tests/integ/sockctl not built"; exit 1; }
	P=$(hxt_name "$1")
	W=$(mktemp -d)
	trap 'stop_pid "$SC_PID" 5 KILL; stop_pid "$KECHO_PID" 5; _topo_cleanup; rm -rf "$W"' EXIT
	topo_pair "$P" || { echo "not ok 1 - topology"; exit 1; }
	HXS=build/hxs
	EPORT=9000
	kecho_start "$KNS" "$KIP" $EPORT || { echo "not ok 1 - kernel echo server"; exit 1; }
}

tap_done() {
	echo "# $n cases, $failed failed"
	[ "$failed" -eq 0 ]
}
