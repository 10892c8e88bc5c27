#!/usr/bin/env bash
# test_perf.sh - hxs-perf between hxs and the kernel over a veth pair, every pairing:
#   server hxs    ($HNS) <- client kernel ($KNS): stream both ways (verified), rr, crr, udp, -P
#   server hxs    ($HNS) <- client hxs    ($KNS): stream both ways
#   server kernel ($KNS) <- client hxs    ($HNS): stream both ways
#   server kernel ($KNS) <- client kernel ($HNS): stream both ways
# plus peers that misbehave: garbage to the server, a client against a server that is not
# hxs-perf (non-zero exit with a message). Each run must exit 0 with "verified":true in JSON.
#   HXS_TEST_BACKEND=kernel runs the "hxs" ends on kernel sockets (--kernel).
set -uo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${HXS_TEST_BACKEND:-hxs}
B=${BUILD:-build}
T=2   # seconds per run
[ "$(id -u)" -eq 0 ] || { echo "# SKIP needs root (namespaces)"; exit 77; }
command -v python3 >/dev/null || { echo "# SKIP python3 missing"; exit 77; }
source scripts/netns.sh
source tests/integ/lib.sh


W=$(mktemp -d)
SP=
stop_server() {
  [ -n "$SP" ] || return 0
  kill -TERM $SP 2>/dev/null; wait $SP 2>/dev/null; SP=
}
topo_pair "tp$$" || { echo "not ok 1 - topology"; exit 1; }
trap 'stop_server; _topo_cleanup; rm -rf "$W"' EXIT

# hxs_args NS IF: the backend flags of an "hxs" end in that namespace
hxs_args() { if [ "$BACKEND" = kernel ]; then echo "--kernel -i $2"; else echo "-i $2"; fi; }

srv_ready() { grep -q ready "$W/srv.log" || ! kill -0 $SP 2>/dev/null; }
start_server() { # NS "flags..." label
  ip netns exec "$1" "$B/hxs-perf" -s $2 >"$W/srv.log" 2>&1 & SP=$!
  # a loaded 2-core CI machine once took over 10 s: 30 s, and the log when it does not come
  wait_for 30 srv_ready
  if grep -q ready "$W/srv.log"; then pass "server $3 starts: $(grep ready "$W/srv.log")"
  else fail "server $3 starts (no ready line in 30 s)"; sed 's/^/# /' "$W/srv.log"; stop_server; return 1; fi
}

jget() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j[sys.argv[2]] if not isinstance(j[sys.argv[2]], bool) else str(j[sys.argv[2]]).lower())' "$1" "$2" 2>/dev/null; }

# run_client NS DST "flags..." label -> checks exit 0, verified, and a positive figure
run_client() {
  local ns=$1 dst=$2 flags=$3 label=$4 out rc mode
  out=$(ip netns exec "$ns" timeout 60 "$B/hxs-perf" -c "$dst" $flags -t $T --json 2>"$W/cli.err"); rc=$?
  note "$label: $out"
  [ -s "$W/cli.err" ] && sed 's/^/#   stderr: /' "$W/cli.err"
  mode=$(jget "$out" mode)
  if [ $rc -ne 0 ] || [ "$(jget "$out" verified)" != true ] || [ "$(jget "$out" errors)" != 0 ]; then
    fail "$label (exit $rc)"; return
  fi
  case $mode in
  stream) python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j["bytes"] > 0 and j["sender"]["bytes"] == j["receiver"]["bytes"] == j["bytes"] and j["receiver"]["first_mismatch"] == -1 else 1)' "$out" \
            && pass "$label: $(jget "$out" bytes) bytes verified, $(jget "$out" throughput_gbps) Gbit/s" \
            || fail "$label: sender and receiver disagree" ;;
  *) [ "$(jget "$out" transactions)" -gt 0 ] 2>/dev/null \
       && pass "$label: $(jget "$out" transactions) transactions, p50 $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["latency_us"]["p50"])' "$out") us" \
       || fail "$label: no transactions" ;;
  esac
}

HX_H=$(hxs_args "$HNS" "$HIF")   # an hxs end in the hxs host namespace
HX_K=$(hxs_args "$KNS" "$KIF")   # an hxs end in the kernel peer namespace

# --- 1. server on hxs, kernel clients --------------------------------------------------------
if start_server "$HNS" "$HX_H" "hxs ($BACKEND) in $HNS"; then
  run_client "$KNS" "$HIP" "--kernel -m stream" "stream kernel client -> hxs server"
  run_client "$KNS" "$HIP" "--kernel -m stream --reverse" "stream hxs server -> kernel client (--reverse)"
  run_client "$KNS" "$HIP" "--kernel -m stream -P 4" "stream 4 connections kernel -> hxs"
  run_client "$KNS" "$HIP" "--kernel -m rr" "rr kernel client, hxs server"
  run_client "$KNS" "$HIP" "--kernel -m rr -P 8 -l 2000" "rr 8 connections of 2000 B"
  run_client "$KNS" "$HIP" "--kernel -m rr -P 2 -l 1048576" "rr 1 MiB messages (beyond the socket buffers)"
  run_client "$KNS" "$HIP" "--kernel -m crr" "crr kernel client, hxs server"
  run_client "$KNS" "$HIP" "--kernel -m crr -P 4" "crr 4 at a time"
  run_client "$KNS" "$HIP" "--kernel -m udp" "udp kernel client, hxs server"

  # Misbehaving client: garbage instead of a header. The server says so and keeps serving.
  ip netns exec "$KNS" python3 - "$HIP" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 5201), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"x" * 16)
try:
    s.recv(100)
except OSError:
    pass
PY
  wait_for 5 grep -q "bad header" "$W/srv.log"
  grep -q "bad header" "$W/srv.log" && pass "server reports a peer sending garbage: $(grep -m1 'bad header' "$W/srv.log")" \
    || fail "server reports a peer sending garbage"
  run_client "$KNS" "$HIP" "--kernel -m stream" "stream after the garbage client"
  stop_server
  note "server: $(tail -n 3 "$W/srv.log" | tr '\n' ' ')"
  grep -q 'errors 1$' "$W/srv.log" && pass "server counted exactly one misbehaving peer" \
    || fail "server counted exactly one misbehaving peer"
fi

# --- 2. server on hxs, hxs clients ---------------------------------------------------------------
if start_server "$HNS" "$HX_H" "hxs ($BACKEND) in $HNS"; then
  run_client "$KNS" "$HIP" "$HX_K -m stream" "stream hxs client -> hxs server"
  run_client "$KNS" "$HIP" "$HX_K -m stream --reverse" "stream hxs server -> hxs client (--reverse)"
  run_client "$KNS" "$HIP" "$HX_K -m rr" "rr hxs client, hxs server"
  stop_server
fi

# --- 3. server on the kernel, hxs clients --------------------------------------------------------
if start_server "$KNS" "--kernel" "kernel in $KNS"; then
  run_client "$HNS" "$KIP" "$HX_H -m stream" "stream hxs client -> kernel server"
  run_client "$HNS" "$KIP" "$HX_H -m stream --reverse" "stream kernel server -> hxs client (--reverse)"
  run_client "$HNS" "$KIP" "$HX_H -m rr" "rr hxs client, kernel server"
  run_client "$HNS" "$KIP" "$HX_H -m crr" "crr hxs client, kernel server"
  run_client "$HNS" "$KIP" "$HX_H -m udp" "udp hxs client, kernel server"
  # --- 4. both ends on the kernel (the same server) ---------------------------------------------
  run_client "$HNS" "$KIP" "--kernel -m stream" "stream kernel client -> kernel server"
  run_client "$HNS" "$KIP" "--kernel -m stream --reverse" "stream kernel server -> kernel client (--reverse)"
  stop_server
fi

# --- 5. clients against peers that are not hxs-perf: non-zero exit and a message --------------------
ip netns exec "$KNS" socat TCP-LISTEN:5301,reuseaddr,fork EXEC:cat >/dev/null 2>&1 & ECHO=$!
ip netns exec "$KNS" python3 -c '
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 5302)); l.listen(8)
while True:
    c, _ = l.accept(); c.recv(100); c.close()
' >/dev/null 2>&1 & CLOSER=$!
wait_listen "$KNS" 5301 || note "socat did not listen on 5301 within 10 s"
wait_listen "$KNS" 5302 || note "python did not listen on 5302 within 10 s"
ip netns exec "$HNS" timeout 30 "$B/hxs-perf" -c "$KIP" -p 5301 $HX_H -m rr -t 1 >/dev/null 2>"$W/e1"; rc=$?
[ $rc -ne 0 ] && grep -q "wrong echo" "$W/e1" && pass "rr against a plain echo server fails: $(grep -m1 '^hxs-perf' "$W/e1")" \
  || { fail "rr against a plain echo server fails (exit $rc)"; sed 's/^/# /' "$W/e1"; }
ip netns exec "$HNS" timeout 30 "$B/hxs-perf" -c "$KIP" -p 5302 $HX_H -m stream -t 1 >/dev/null 2>"$W/e2"; rc=$?
[ $rc -ne 0 ] && grep -qE "connection broken|no report" "$W/e2" && pass "stream against a server that hangs up fails: $(grep -m1 '^hxs-perf' "$W/e2")" \
  || { fail "stream against a server that hangs up fails (exit $rc)"; sed 's/^/# /' "$W/e2"; }
ip netns exec "$HNS" timeout 30 "$B/hxs-perf" -c "$KIP" -p 5303 $HX_H -m stream -t 1 >/dev/null 2>"$W/e3"; rc=$?
[ $rc -ne 0 ] && grep -q "refused" "$W/e3" && pass "stream to a closed port fails: $(grep -m1 '^hxs-perf' "$W/e3")" \
  || { fail "stream to a closed port fails (exit $rc)"; sed 's/^/# /' "$W/e3"; }
kill $ECHO $CLOSER 2>/dev/null; wait $ECHO $CLOSER 2>/dev/null

tap_done
