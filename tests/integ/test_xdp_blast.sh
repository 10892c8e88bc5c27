#!/usr/bin/env bash
# test_xdp_blast.sh - hxs-xdp-blast, the raw one-way AF_XDP ceiling `make bench` holds the stream
# figures against, on a veth pair (topo_pair): a sink on one end, the blaster on the other.
#   - --payload at 1514 B and (MTU 9000) 9014 B frames: the sink verifies every payload byte
#     of what arrives (hxs-perf's sequence at the offset the frame carries), counts frames > 0
#     and no wrong frame, and exits 0 on SIGINT; the blaster sent at least what arrived
#   - the check can fail: a blaster without --payload (frames carry whatever the UMEM holds)
#     against a --payload sink gives wrong frames, which the sink counts and fails on
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
PROG=build/hxs-xdp-blast

[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }
[ -x $PROG ] || { echo "not ok 1 - $PROG not built"; exit 1; }

P=xb$(( $$ % 100000 ))
topo_pair "$P" || { echo "not ok 1 - topo_pair"; exit 1; }
TMP=$(mktemp -d); trap '_topo_cleanup; rm -rf "$TMP"' EXIT

# one run: $1 name, $2 frame bytes, $3 blaster's extra argument (or ""); sets sent, got, bad, src
run() {
	local name=$1 size=$2 extra=$3 spid
	ip netns exec "$HNS" $PROG -i "$HIF" --sink --payload --json >"$TMP/$name.sink" 2>&1 &
	spid=$!
	wait_for 10 grep -q sinking "$TMP/$name.sink" || nok "$name: sink ready" "$(tail -3 "$TMP/$name.sink")"
	timeout -k 2 30 ip netns exec "$KNS" $PROG -i "$KIF" -c "$HIP" -s "$size" -t 1 --json $extra \
		>"$TMP/$name.tx" 2>&1
	kill -INT $spid
	wait_for 5 sh -c "! kill -0 $spid 2>/dev/null"
	wait $spid; src=$?
	read -r sent got bad < <(python3 - "$TMP/$name.tx" "$TMP/$name.sink" <<'PY' 2>/dev/null
import json, sys
def last(p):
    for l in reversed(open(p).read().splitlines()):
        if l.startswith("{"):
            return json.loads(l)
tx, rx = last(sys.argv[1]), last(sys.argv[2])
print(tx["frames"], rx["frames"], rx["bad_frames"])
PY
)
}

for size in 1514 9014; do
	if [ $size = 9014 ]; then
		ip -n "$HNS" link set dev "$HIF" mtu 9000; ip -n "$KNS" link set dev "$KIF" mtu 9000
	fi
	run "p$size" $size --payload
	if [ "${got:-0}" -gt 0 ] && [ "${bad:-x}" = 0 ] && [ "$src" = 0 ]; then
		ok "$size B with payload: $got frames verified, none wrong, sink exit 0"
	else
		nok "$size B with payload: frames verified, none wrong" \
			"got '${got:-}' bad '${bad:-}' rc $src: $(tail -2 "$TMP/p$size.sink")"
	fi
	[ -n "${sent:-}" ] && [ "$sent" -ge "${got:-0}" ] && ok "$size B: sent $sent >= received $got" \
		|| nok "$size B: sent >= received" "sent '${sent:-}' got '${got:-}'"
done

run plain 9014 ""
if [ "${bad:-0}" -gt 0 ] && [ "$src" != 0 ]; then
	ok "frames without payload: the sink counted $bad wrong frames and failed"
else
	nok "frames without payload are caught" "bad '${bad:-}' rc $src: $(tail -2 "$TMP/plain.sink")"
fi

tap_done
