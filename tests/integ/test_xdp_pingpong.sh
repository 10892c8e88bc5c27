#!/usr/bin/env bash
# test_xdp_pingpong.sh - hxs-xdp-pingpong, the raw AF_XDP ceiling without TCP, on a veth pair
# (topo_pair): a reflector on one end, the client on the other, for two seconds each phase
# (a loaded CI run once counted 0 round trips in a 0.5 s phase while its rate phase was
# echoed; the cause was not found, the longer phase gives the first replies time).
#   - the reflector attaches the program and says it is reflecting, in copy mode (veth)
#   - the client's JSON: roundtrips > 0, copy mode, every echoed frame counted; exit 0
#   - the reflector echoed at least every round trip the client counted (it reports its count
#     on SIGINT) and both ends detached the XDP program they attached
set -u
cd "$(dirname "$0")/../.."
source scripts/netns.sh
source tests/integ/lib.sh
PROG=build/hxs-xdp-pingpong

[ "$(id -u)" = 0 ] || { echo "# SKIP needs root"; exit 77; }
[ -x $PROG ] || { echo "not ok 1 - $PROG not built"; exit 1; }

P=xp$(( $$ % 100000 ))
topo_pair "$P" || { echo "not ok 1 - topo_pair"; exit 1; }
TMP=$(mktemp -d); trap '_topo_cleanup; rm -rf "$TMP"' EXIT
# The client's own frames carry full checksums; the kernel peer plays no part here.
ip netns exec "$KNS" ethtool -K "$KIF" tx off >/dev/null 2>&1

ip netns exec "$HNS" $PROG -i "$HIF" --reflect >"$TMP/refl.out" 2>"$TMP/refl.err" &
RPID=$!
if wait_for 10 grep -q reflecting "$TMP/refl.out"; then
	ok "reflector ready: $(head -1 "$TMP/refl.out")"
else
	nok "reflector ready" "$(tail -3 "$TMP/refl.out" "$TMP/refl.err")"
fi
grep -q "copy mode" "$TMP/refl.out" && ok "reflector on veth runs in copy mode" \
	|| nok "reflector on veth runs in copy mode" "$(head -1 "$TMP/refl.out")"

timeout -k 2 30 ip netns exec "$KNS" $PROG -i "$KIF" -c "$HIP" -t 2 --json >"$TMP/cli.json" 2>"$TMP/cli.err"
rc=$?
[ $rc -eq 0 ] && ok "client exited 0" || nok "client exited $rc" "$(tail -3 "$TMP/cli.err")"

read -r rtts mode echo_pps < <(python3 - "$TMP/cli.json" <<'PY' 2>/dev/null
import json, sys
j = json.load(open(sys.argv[1]))
print(j["roundtrips"], j["xsk_mode"], int(j["echo_pps"]))
PY
)
if [ -n "${rtts:-}" ] && [ "$rtts" -gt 0 ]; then ok "client JSON: $rtts round trips in 2 s"
else nok "client JSON: round trips > 0" "$(cat "$TMP/cli.json")"; fi
[ "${mode:-}" = copy ] && ok "client in copy mode" || nok "client in copy mode" "mode ${mode:-none}"
[ "${echo_pps:-0}" -gt 0 ] && ok "rate phase: frames echoed ($echo_pps/s)" \
	|| nok "rate phase: frames echoed" "$(cat "$TMP/cli.json")"

kill -INT $RPID
wait_for 5 sh -c "! kill -0 $RPID 2>/dev/null"
wait $RPID; rrc=$?
[ $rrc -eq 0 ] && ok "reflector exited 0 on SIGINT" || nok "reflector exited $rrc" "$(tail -3 "$TMP/refl.err")"
echoed=$(sed -n 's/.*echoed \([0-9]*\) frames.*/\1/p' "$TMP/refl.out")
if [ -n "$echoed" ] && [ -n "${rtts:-}" ] && [ "$echoed" -ge "$rtts" ]; then
	ok "reflector echoed $echoed frames >= the client's $rtts round trips"
else
	nok "reflector echoed >= round trips" "echoed '${echoed:-}' round trips '${rtts:-}'"
fi
for ns_if in "$HNS $HIF" "$KNS $KIF"; do
	set -- $ns_if
	ip -n "$1" link show dev "$2" | grep -q "prog/xdp" \
		&& nok "$2: XDP program detached at exit" "$(ip -n "$1" link show dev "$2")" \
		|| ok "$2: XDP program detached at exit"
done

tap_done
