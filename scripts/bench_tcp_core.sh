#!/usr/bin/env bash
# bench_tcp_core.sh OUTDIR - instruction counts of the TCP core (noise-free): callgrind on
# build/hxs-bench-tcp-core, collecting only inside hxs_bench_rx_data (a receive burst of in-order
# data segments) in one run and hxs_bench_rx_ack (a burst of pure ACKs) in another. A measured
# call is one turn of the stack's loop for the burst, through the entry points production uses:
# hxs_tcp__input_slot() per segment (sock/tcp_sock.c tcp_input()), then the TCP poller's
# hxs_tcp__fp_poll() + hxs_tcp__poll() (tcp_turn(): the batch's end, where the ACK held for the
# batch goes out). The sender sends BENCH_CORE_BURST segments a turn (default 64, the loop's RX
# batch HXS_RX_BATCH); the instances are configured as the stack configures its own (ack_batch,
# the default congestion control, BBR). From each run's inclusive costs it subtracts the
# checksums (hxs_tcp_csum_ptr, which hxs_tcp_csum_addr and hxs_tcp_csum wrap: the verification
# of every segment, which the core does as in production, and the ACKs the receiver emits;
# hxs_tcp_csum_split: the headers of the segments emitted; a segment under 128 bytes is summed
# whole by hxs_tcp_csum_ptr), the buffer copies
# (hxs_tcp_ring__*, the payload copy+sum included) and the driver's own frame queue (q_alloc, q_send), and divides by the
# segments (data run: every in-order data segment; ACK run: every pure ACK) that went through
# the measured calls. Writes OUTDIR/tcp_core.json.
# Each measurement runs once per slot mode of the driver (-s, BENCH_CORE_SLOTS, default all
# three): none (no connection slot: the 4-tuple hash), hash (slots, no metadata: the hash),
# meta (slots, every segment with the XDP program's {slot, gen}: the demux by slot, as xsk
# delivers frames; the production path). The top-level numbers are the first mode's; "slots"
# has every mode's.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/bench}
BIN=${BUILD:-build}/hxs-bench-tcp-core
N=${BENCH_CORE_SEGMENTS:-20000}
BURST=${BENCH_CORE_BURST:-64}
MODES=${BENCH_CORE_SLOTS:-none hash meta}
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "valgrind missing (scripts/deps.sh installs it)"; exit 1; }
[ -x "$BIN" ] || { echo "$BIN not built"; exit 1; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
for m in $MODES; do
  for fn in hxs_bench_rx_data hxs_bench_rx_ack; do
    valgrind --tool=callgrind --toggle-collect=$fn --callgrind-out-file="$W/$m.$fn.cg" \
      "$BIN" -n "$N" -s "$m" -b "$BURST" >"$W/$m.$fn.json" 2>"$W/$m.$fn.log" || { tail -5 "$W/$m.$fn.log"; exit 1; }
    callgrind_annotate --inclusive=yes --threshold=100 "$W/$m.$fn.cg" >"$W/$m.$fn.txt" 2>/dev/null
  done
done
python3 - "$W" "$OUT/tcp_core.json" "$N" "$BURST" $MODES <<'PY'
import json, re, sys
w, out, n, burst, modes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
# hxs_tcp_ring__read_csum: a segment's payload copied into its frame and summed in one pass
COPY = ("hxs_tcp_ring__write", "hxs_tcp_ring__read", "hxs_tcp_ring__append", "hxs_tcp_ring__read_csum")
# two roots, neither calls the other (both noinline, tcp_seg.c)
CSUM = ("hxs_tcp_csum_ptr", "hxs_tcp_csum_split")
DRIVER = ("q_alloc", "q_send")
def parse(fn):
    inc, total = {}, None
    for line in open("%s/%s.txt" % (w, fn)):
        m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        # a function's line has its object file in [], or none when callgrind_annotate lists
        # it under its source file only (hxs_tcp_csum_addr, all of whose code is inlined)
        m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+(.*):([\w.]+)(?: \[.*)?$", line)
        if m:
            inc[m.group(3)] = max(inc.get(m.group(3), 0), int(m.group(1).replace(",", "")))
    calls = json.load(open("%s/%s.json" % (w, fn)))
    return total, inc, calls
def measure(m):
    res = {"slot_mode": m}
    for key, fn, what in (("segment", "hxs_bench_rx_data", "segments"), ("ack", "hxs_bench_rx_ack", "acks")):
        total, inc, calls = parse(m + "." + fn)
        k = calls[what]
        # hxs_tcp_csum() and hxs_tcp_csum_addr() only wrap hxs_tcp_csum_ptr(); hxs_tcp_send_seg()
        # calls hxs_tcp_csum_split(): the two inclusive costs hold every checksum
        csum = sum(inc.get(f, 0) for f in CSUM)
        copy = sum(inc.get(f, 0) for f in COPY)
        drv = sum(inc.get(f, 0) for f in DRIVER)
        core = total - csum - copy - drv
        res["raw_" + key] = {"calls": k, "total_ir": total, "checksum_ir": csum, "copy_ir": copy,
                             "driver_queue_ir": drv,
                             "output_ir_incl": inc.get("hxs_tcp_output", 0),
                             "top_inclusive": dict(sorted(((f, v) for f, v in inc.items()
                                                           if f.startswith("hxs_tcp")),
                                                          key=lambda x: -x[1])[:12])}
        res["instr_per_inorder_segment" if key == "segment" else "instr_per_ack"] = round(core / k, 1) if k else None
        if key == "ack":
            # the sender's ACK processing per data segment it sent: fewer, stretch ACKs (one
            # per receive burst) each cost more than one per second segment did
            ds = calls.get("segments")
            res["instr_acks_per_data_segment"] = round(core / ds, 1) if ds else None
        if key == "segment":
            # the receiver's output (the ACKs it emits, at the burst's end), without their
            # checksums (hxs_tcp_send_seg() -> hxs_tcp_csum_split(), already subtracted)
            out_ir = inc.get("hxs_tcp_output", 0)
            out_cs = inc.get("hxs_tcp_csum_split", 0)
            res["instr_per_inorder_segment_without_ack_output"] = round((core - max(out_ir - out_cs, 0)) / k, 1) if k else None
        res["segments" if key == "segment" else "acks"] = k
        res["data_bursts" if key == "segment" else "ack_bursts"] = calls.get("data_bursts" if key == "segment" else "ack_bursts")
        res["burst"] = calls.get("burst")
        res["cc"] = calls.get("cc")
        res["mss"] = calls.get("mss")
        # segments found by their metadata's slot (both instances, handshake included)
        res["demux_by_slot_" + key + "_run"] = calls.get("demux_by_slot")
    return res
per = {m: measure(m) for m in modes}
res = {"tool": "callgrind (valgrind) Ir, --toggle-collect on the measured entry point",
       "driver": "build/hxs-bench-tcp-core -n %d -s MODE -b %s: A sends %s x MSS per turn to B in virtual time; "
                 "a measured call is one receive burst (input_slot per segment, then fp_poll + poll); "
                 "segments enter with tcp_input()'s flags: the core verifies each checksum (subtracted)" % (n, burst, burst)}
res.update(per[modes[0]])
res["slots"] = {m: {k: v for k, v in r.items() if not k.startswith("raw_")} for m, r in per.items()}
res["goal_instr_per_inorder_segment"] = 400
json.dump(res, open(out, "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if not k.startswith("raw_")}))
PY
