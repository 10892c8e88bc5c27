#!/usr/bin/env bash
# test_perf_bidir.sh - hxs <-> hxs, both directions at once on one connection (hxs-perf -m
# stream --bidir), through a kernel router that drops 5% of the packets at random
# (scripts/netns.sh topo_router + topo_loss). With loss both ways each end holds out-of-order
# data and sends SACK blocks on full-sized data segments: the case of issue 10 item 1.
#   1. -n: exactly COUNT bytes each way, every byte verified by its receiver
#   2. -t: a time run; whatever was sent each way arrived and was verified
# and the router really dropped packets, and the server's totals at its exit match.
#   HXS_TEST_BACKEND=kernel runs both ends on kernel sockets (--kernel).
set -uo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${HXS_TEST_BACKEND:-hxs}
B=${BUILD:-build}
TMAX=40   # a run's time limit (-t with -n): not finishing is a failure
COUNT=$((4 << 20))
PORT=6001
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
command -v python3 >/dev/null || { echo "not ok 1 - python3 missing (scripts/deps.sh installs it)"; exit 1; }
command -v nft >/dev/null || { echo "not ok 1 - nft missing (scripts/deps.sh installs it)"; exit 1; }
source scripts/netns.sh
source tests/integ/lib.sh

W=$(mktemp -d)
SP= SRC=
trap 'stop_pid "$SP" 30; _topo_cleanup; rm -rf "$W"' EXIT
topo_router "$(hxt_name pb)" || { echo "not ok 1 - router topology"; exit 1; }
topo_loss "$RNS" 5 || { echo "not ok 1 - nft loss rules on the router"; exit 1; }

if [ "$BACKEND" = kernel ]; then SA="--kernel" CA="--kernel"; else SA="-i $BIF" CA="-i $AIF"; fi

ip netns exec "$BNS" "$B/hxs-perf" -s $SA -p $PORT >"$W/srv.log" 2>&1 & SP=$!
if wait_line 60 "$W/srv.log" ready $SP; then pass "server ($BACKEND) starts: $(grep ready "$W/srv.log")"
else fail "server ($BACKEND) starts (no ready line in 60 s)"; sed 's/^/# /' "$W/srv.log"; diag_pid "$SP"; exit 1; fi

# run_bidir label ARGS...: the client's JSON in $W/out; exit status in RC
run_bidir() {
  local label=$1; shift
  ip netns exec "$ANS" timeout $((TMAX + 30)) "$B/hxs-perf" -c "$BIP" $CA -p $PORT -m stream --bidir \
    --json "$@" >"$W/out" 2>"$W/err"; RC=$?
  note "$label: $(cat "$W/out")"
  grep "^hxs-perf" "$W/err" | sed "s/^/#   stderr: /"
}
# judge EXPECT: both directions verified, no mismatch, sent == received each way; EXPECT
# (a number) is the exact byte count each way, "any" asks only for more than 0.
judge() {
  python3 - "$W/out" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
want = sys.argv[2]
ok = j["mode"] == "stream" and j["direction"] == "both" and j["verified"] is True and j["errors"] == 0
for d in ("client_to_server", "server_to_client"):
    x = j[d]
    ok = ok and x["verified"] is True and x["first_mismatch"] == -1 and x["sent"] == x["received"]
    ok = ok and (x["sent"] == int(want) if want != "any" else x["sent"] > 0)
ok = ok and j["bytes"] == j["client_to_server"]["received"] + j["server_to_client"]["received"]
sys.exit(0 if ok else 1)
PY
}

run_bidir "-n $COUNT" -n $COUNT -t $TMAX
check "-n: client exits 0 ($RC)" [ $RC -eq 0 ]
check "-n: exactly $COUNT bytes each way, sent = received, every byte verified" judge $COUNT

run_bidir "-t 3" -t 3
check "-t: client exits 0 ($RC)" [ $RC -eq 0 ]
check "-t: each way sent = received > 0, every byte verified" judge any

drops=$(topo_loss_drops "$RNS")
check "the router dropped packets ($drops)" [ "$drops" -gt 0 ]

stop_pid "$SP" 30; SRC=$?; SP=
line=$(grep '^hxs-perf: server connections' "$W/srv.log")
note "server: $line"
check "server exits 0 on SIGTERM ($SRC)" [ "$SRC" -eq 0 ]
check "server: 2 connections, 4 directions verified, none failed, no error" \
  grep -qx "hxs-perf: server connections accepted 2 closed 2, streams verified 4 failed 0, crr 0, udp echoed 0 malformed 0, errors 0" <<<"$line"
check "server: -n run sent and received exactly $COUNT bytes" \
  grep -qx "hxs-perf: bidir stream sent $COUNT bytes (verified by the receiver), received $COUNT bytes (verified)" \
  <(grep -m1 '^hxs-perf: bidir stream' "$W/srv.log")
# on a failure, what the server said (its per-connection lines and errors)
[ "$failed" -eq 0 ] || grep -v '^lib\|^[A-Z][A-Za-z0-9]* \+[0-9]' "$W/srv.log" | tail -n 30 | sed 's/^/#   server: /'

tap_done
