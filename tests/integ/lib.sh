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

tap_done() {
	echo "# $n cases, $failed failed"
	[ "$failed" -eq 0 ]
}
