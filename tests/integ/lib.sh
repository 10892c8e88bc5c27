# lib.sh - what every integration test shares: TAP lines, counters, waits with a deadline.
#
#   source tests/integ/lib.sh
#   check "name" CMD...        runs CMD: "ok N - name" or "not ok N - name" (+ the command)
#   ok "name" / nok "name" [detail...]   (pass/fail are the same)
#   wait_for SECONDS CMD...    polls CMD every 50 ms until it succeeds; status 1 at the deadline
#   wait_listen NS PORT [SECS] a TCP listener on PORT in namespace NS (ss), default 10 s
#   tap_done                   "# N cases, F failed"; status 0 only when nothing failed
# shellcheck shell=bash

n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; local l; for l in "$@"; do echo "#   $l"; done; }
pass() { ok "$*"; }
fail() { nok "$*"; }
note() { echo "# $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "command: $*"; fi; }

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

wait_listen() {
	wait_for "${3:-10}" _listening "$1" "$2"
}
_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

tap_done() {
	echo "# $n cases, $failed failed"
	[ "$failed" -eq 0 ]
}
