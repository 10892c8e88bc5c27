/* hxs-bench-tcp-core - a steady bulk transfer through the TCP core alone (tcp.h, sans-I/O), for
 * counting instructions with callgrind (scripts/bench_tcp_core.sh): how much the core spends
 * per in-order data segment received and per ACK processed.
 *
 *   hxs-bench-tcp-core [-n SEGMENTS] [-m MSS] [-s none|hash|meta] [-b BURST] [-c CC] [-r]
 *
 * Two instances, A (sender, 10.0.0.1) and B (receiver, 10.0.0.2), joined by two in-memory
 * segment queues in virtual time, configured as the stack configures its instance
 * (sock/tcp_sock.c: cfg.ack_batch, cfg.notify_gains, the default congestion control
 * HXS_TCP_DEFAULT_CC unless -c). Handshake, then per turn
 *   A: send BURST*MSS, hxs_tcp__output() -> qa                 (not measured)
 *   qa -> hxs_bench_rx_data(B, the burst)                      measured
 *   B: hxs_tcp_conn__recv() drains, hxs_tcp__poll() -> qb      (not measured)
 *   qb -> hxs_bench_rx_ack(A, its ACKs)                        measured
 * A measured call is what one turn of the stack's loop (net/loop.c stack_turn) does with a
 * receive burst: hxs_tcp__input_slot() per segment as sock/tcp_sock.c tcp_input() calls it,
 * then the TCP poller's hxs_tcp__fp_poll() + hxs_tcp__poll() (tcp_turn(): the batch's end,
 * where ACKs held for it go out). BURST (default HXS_RX_BATCH, the loop's RX batch) is how
 * many segments A sends a turn; its congestion window may allow fewer in the first turns.
 * -s: the connection slots of the XDP fast path. none (default): no slot, the 4-tuple hash
 * finds the connection; hash: each connection gets a slot as the socket layer gives one
 * (on_tuple's add), segments carry no metadata; meta: the same, and every segment goes in as
 * xsk delivers it with the program's metadata, through hxs_tcp__input_slot() with its
 * connection's {slot, gen} (looked up outside the measured functions, as XDP does).
 * Segments go in with the flags tcp_input() gives them (the IP header's ECN field, Not-ECT
 * here; no HXS_TCP_IN_CSUM_OK: the core verifies every checksum, as in production); the
 * script subtracts the checksum (hxs_tcp_csum_ptr: the segments' verification and the ACKs B
 * emits) and the buffer copies (hxs_tcp_ring__*) collected under each measured function.
 * The two functions are noinline and global so that `--toggle-collect=hxs_bench_rx_data`
 * finds them.
 * -r: request/response instead (hxs-perf -m rr): per transaction hxs_bench_rr_turn() (measured
 * whole, for `--toggle-collect=hxs_bench_rr_turn`): A sends 64 B and outputs, B takes the
 * burst, reads, answers 64 B and outputs, A takes B's burst and reads; -n transactions.
 * Prints {"segments":N,"acks":M,"bytes":B,...} (segments and ACKs through each measured
 * function, and their calls: "data_bursts", "ack_bursts") on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hxs/shared.h"
#include "net/stack.h"
#include "tcp/tcp.h"

#define QN      256
#define SEG_CAP 2048
#define ADDR_A  0x0100000au   /* 10.0.0.1, network order */
#define ADDR_B  0x0200000au

enum { SLOTS_NONE, SLOTS_HASH, SLOTS_META };
#define NSLOT 8

/* One instance's output queue, and the slots its connections were given (-s). */
struct segq {
	uint8_t buf[QN][SEG_CAP];
	uint32_t len[QN], saddr[QN], daddr[QN];
	int n;
	uint64_t overflow;
	int slots;                          /* SLOTS_* */
	struct hxs_slot slot[NSLOT];
	struct hxs_tcp_conn *owner[NSLOT];  /* the connection holding slot[i], i >= 1 */
	uint32_t gen[NSLOT];
};

static uint8_t *q_alloc(void *ctx, uint32_t len, void **handle)
{
	struct segq *q = ctx;
	if (q->n >= QN || len > SEG_CAP) {
		q->overflow++;
		return NULL;
	}
	*handle = (void *)(uintptr_t)q->n;
	return q->buf[q->n];
}

static void q_send(void *ctx, void *handle, struct hxs_addr sa, struct hxs_addr da, uint32_t len,
		   uint8_t tos, uint8_t ttl)
{
	uint32_t saddr = hxs_addr_get4(sa), daddr = hxs_addr_get4(da);
	(void)tos;
	(void)ttl;
	struct segq *q = ctx;
	int i = (int)(uintptr_t)handle;
	q->len[i] = len;
	q->saddr[i] = saddr;
	q->daddr[i] = daddr;
	if (i == q->n)
		q->n++;
}

static const struct hxs_tcp_tx_ops tx_ops = { .alloc = q_alloc, .send = q_send };

/* The socket layer's part (sock/tcp_sock.c on_tuple): a slot for each connection entering
 * the table, back when it leaves; the gen bumped each time. */
static int on_tuple(void *ctx, struct hxs_tcp_conn *c, int add)
{
	struct segq *q = ctx;

	if (q->slots == SLOTS_NONE)
		return 0;
	for (uint32_t i = 1; i < NSLOT; i++) {
		if (add && !q->owner[i]) {
			q->owner[i] = c;
			hxs_tcp_conn__set_slot(c, &q->slot[i], i, ++q->gen[i]);
			return 0;
		}
		if (!add && q->owner[i] == c) {
			q->owner[i] = NULL;
			return 0;
		}
	}
	return 0;
}

static const struct hxs_tcp_ev_ops ev_ops = { .on_tuple = on_tuple };

/* What the program would put in front of the segment (h, from saddr to daddr) for the
 * instance of q: the {slot, gen} of the connection of its 4-tuple. */
static void seg_meta(const struct segq *q, uint32_t saddr, uint32_t daddr, const uint8_t *h,
		     uint32_t *slot, uint32_t *gen)
{
	*slot = HXS_SLOT_NONE;
	*gen = 0;
	if (q->slots != SLOTS_META)
		return;
	for (uint32_t i = 1; i < NSLOT; i++) {
		uint32_t la, ra;
		uint16_t lp, rp;

		if (!q->owner[i])
			continue;
		hxs_tcp_conn__tuple(q->owner[i], &la, &lp, &ra, &rp);
		if (la == daddr && ra == saddr && lp == (uint16_t)(h[2] << 8 | h[3]) &&
		    rp == (uint16_t)(h[0] << 8 | h[1])) {
			*slot = i;
			*gen = q->gen[i];
			return;
		}
	}
}

/* One receive burst as the stack's turn takes it: each segment through tcp_input()'s call
 * (slot[i] HXS_SLOT_NONE: no metadata), then the TCP poller (tcp_sock.c tcp_turn()). */
static void rx_burst(struct hxs_tcp *t, struct segq *q, const uint32_t *slot, const uint32_t *gen,
		     uint64_t now)
{
	for (int i = 0; i < q->n; i++)
		hxs_tcp__input_slot(t, slot[i], gen[i], hxs_addr4(q->saddr[i]), hxs_addr4(q->daddr[i]),
				    q->buf[i], q->len[i], HXS_TCP_IN_ECN(0), now);
	hxs_tcp__fp_poll(t, now);
	hxs_tcp__poll(t, now);
}

__attribute__((noinline, used)) void hxs_bench_rx_data(struct hxs_tcp *t, struct segq *q,
						       const uint32_t *slot, const uint32_t *gen,
						       uint64_t now)
{
	rx_burst(t, q, slot, gen, now);
}

__attribute__((noinline, used)) void hxs_bench_rx_ack(struct hxs_tcp *t, struct segq *q,
						      const uint32_t *slot, const uint32_t *gen,
						      uint64_t now)
{
	rx_burst(t, q, slot, gen, now);
}

static uint32_t payload_len(const uint8_t *h, uint32_t len)
{
	uint32_t doff = (uint32_t)(h[12] >> 4) * 4;
	return len > doff ? len - doff : 0;
}

enum { MEASURE_NONE, MEASURE_DATA, MEASURE_ACK };

static void deliver(struct segq *q, struct hxs_tcp *t, const struct segq *tq, uint64_t now,
		    int what, uint64_t *nseg, uint64_t *ncall, uint64_t *bytes);

/* -r: one 64 B request/response transaction, both ends' receive and output; returns the
 * bytes A got back. */
__attribute__((noinline, used)) long hxs_bench_rr_turn(struct hxs_tcp *a, struct hxs_tcp_conn *ca,
						       struct segq *qa, struct hxs_tcp *b,
						       struct hxs_tcp_conn *cb, struct segq *qb,
						       uint8_t *buf, uint64_t now)
{
	long k, got = 0;

	hxs_tcp_conn__send(ca, buf, 64);
	hxs_tcp__output(ca, now);
	hxs_tcp__poll(a, now);
	deliver(qa, b, qb, now, MEASURE_NONE, NULL, NULL, NULL);
	if ((k = hxs_tcp_conn__recv(cb, buf, 64, 0)) > 0) {
		hxs_tcp_conn__send(cb, buf, (size_t)k);
		hxs_tcp__output(cb, now);
	}
	hxs_tcp__poll(b, now);
	deliver(qb, a, qa, now, MEASURE_NONE, NULL, NULL, NULL);
	while ((k = hxs_tcp_conn__recv(ca, buf, 64, 0)) > 0)
		got += k;
	return got;
}

/* Delivers every queued segment of q to t (whose own queue, with its slots, is tq), as one
 * burst. Measured (what: MEASURE_DATA, in-order data; MEASURE_ACK, pure ACKs) when every
 * segment of the burst is of that kind; counts them into *nseg, and the call into *ncall. */
static void deliver(struct segq *q, struct hxs_tcp *t, const struct segq *tq, uint64_t now,
		    int what, uint64_t *nseg, uint64_t *ncall, uint64_t *bytes)
{
	uint32_t slot[QN], gen[QN];
	uint64_t pl_sum = 0;
	int all = q->n > 0;

	for (int i = 0; i < q->n; i++) {
		const uint8_t *h = q->buf[i];
		uint32_t pl = payload_len(h, q->len[i]);
		int flags = h[13];

		seg_meta(tq, q->saddr[i], q->daddr[i], h, &slot[i], &gen[i]);
		pl_sum += pl;
		if (what == MEASURE_DATA && !(pl > 0 && !(flags & 0x07)))          /* no SYN/FIN/RST */
			all = 0;
		if (what == MEASURE_ACK && !(pl == 0 && flags == 0x10))            /* pure ACK */
			all = 0;
	}
	if (what == MEASURE_DATA && all) {
		hxs_bench_rx_data(t, q, slot, gen, now);
	} else if (what == MEASURE_ACK && all) {
		hxs_bench_rx_ack(t, q, slot, gen, now);
	} else {
		rx_burst(t, q, slot, gen, now);
		all = 0;
	}
	if (all) {
		*nseg += (uint64_t)q->n;
		(*ncall)++;
		if (bytes)
			*bytes += pl_sum;
	}
	q->n = 0;
}

int main(int argc, char **argv)
{
	static struct segq qa, qb;
	static uint8_t data[1 << 22], sink[1 << 20];
	/* as sock/tcp_sock.c configures the stack's instance: the turn is the input batch */
	struct hxs_tcp_cfg cfg = { .sndbuf = 4 << 20, .rcvbuf = 4 << 20, .ack_batch = 1,
				   .notify_gains = 1, .cc = HXS_TCP_DEFAULT_CC };
	struct hxs_tcp *a, *b;
	struct hxs_tcp_conn *ca, *lb, *cb = NULL;
	uint64_t now = 1000000, n = 20000, nseg = 0, nack = 0, bytes = 0, dcalls = 0, acalls = 0;
	uint32_t mss = 1448, burst = HXS_RX_BATCH;
	int c, err, rr = 0;

	while ((c = getopt(argc, argv, "n:m:s:b:c:r")) != -1) {
		switch (c) {
		case 'r': rr = 1; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'b':
			burst = (uint32_t)atoi(optarg);
			if (burst < 1 || burst > QN)
				goto usage;
			break;
		case 'c': cfg.cc = optarg; break;
		case 'm': mss = (uint32_t)atoi(optarg); break;
		case 's':
			if (!strcmp(optarg, "none"))
				qa.slots = SLOTS_NONE;
			else if (!strcmp(optarg, "hash"))
				qa.slots = SLOTS_HASH;
			else if (!strcmp(optarg, "meta"))
				qa.slots = SLOTS_META;
			else
				goto usage;
			qb.slots = qa.slots;
			break;
		default:
		usage:
			fprintf(stderr, "usage: hxs-bench-tcp-core [-n SEGMENTS] [-m MSS] [-s none|hash|meta] [-b BURST] [-c CC] [-r]\n");
			return 2;
		}
	}
	cfg.mtu = mss + 40 + 12;   /* room for the timestamp option */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memset(cfg.isn_secret, 0x5a, sizeof(cfg.isn_secret));
	if ((err = hxs_tcp__new(&a, &cfg, &tx_ops, &ev_ops, &qa, now)) ||
	    (err = hxs_tcp__new(&b, &cfg, &tx_ops, &ev_ops, &qb, now)) ||
	    (err = hxs_tcp_conn__new(b, &lb)) || (err = hxs_tcp_conn__listen(lb, ADDR_B, 5001, 16)) ||
	    (err = hxs_tcp_conn__new(a, &ca)) ||
	    (err = hxs_tcp_conn__connect(ca, ADDR_A, 40000, ADDR_B, 5001, now))) {
		fprintf(stderr, "hxs-bench-tcp-core: set-up: %s\n", strerror(-err));
		return 1;
	}
	/* handshake */
	for (int i = 0; i < 100 && !cb; i++) {
		hxs_tcp__poll(a, now);
		deliver(&qa, b, &qb, now, MEASURE_NONE, NULL, NULL, NULL);
		hxs_tcp__poll(b, now);
		deliver(&qb, a, &qa, now, MEASURE_NONE, NULL, NULL, NULL);
		if (hxs_tcp_conn__accept(lb, &cb) != 0)
			cb = NULL;
		now += 50;
	}
	if (!cb) {
		fprintf(stderr, "hxs-bench-tcp-core: no connection after the handshake\n");
		return 1;
	}
	if (rr) {
		static uint8_t rbuf[64];
		uint64_t txn = 0, back = 0;

		for (uint64_t i = 0; i < n; i++, now += 20) {
			long g = hxs_bench_rr_turn(a, ca, &qa, b, cb, &qb, rbuf, now);
			back += (uint64_t)g;
			txn += g == 64;
		}
		printf("{\"transactions\":%llu,\"bytes_back\":%llu,\"cc\":\"%s\"}\n",
		       (unsigned long long)txn, (unsigned long long)back, cfg.cc);
		hxs_tcp_conn__close(cb);
		hxs_tcp_conn__close(ca);
		hxs_tcp_conn__close(lb);
		hxs_tcp__free(a);
		hxs_tcp__free(b);
		return txn == n ? 0 : 1;
	}
	/* steady transfer: a burst of BURST segments a turn (fewer while A's window opens) */
	uint64_t off = 0, turns = 0;
	while (nseg < n && turns < n * 4) {
		turns++;
		uint32_t want = burst * mss;
		long k = hxs_tcp_conn__send(ca, data + (off % (sizeof(data) - want)), want);
		if (k > 0)
			off += (uint64_t)k;
		hxs_tcp__output(ca, now);
		hxs_tcp__poll(a, now);
		deliver(&qa, b, &qb, now, MEASURE_DATA, &nseg, &dcalls, &bytes);
		while (hxs_tcp_conn__recv(cb, sink, sizeof(sink), 0) > 0)
			;
		hxs_tcp__poll(b, now);
		deliver(&qb, a, &qa, now, MEASURE_ACK, &nack, &acalls, NULL);
		now += 20;
	}
	printf("{\"segments\":%llu,\"acks\":%llu,\"data_bursts\":%llu,\"ack_bursts\":%llu,\"burst\":%u,"
	       "\"cc\":\"%s\",\"bytes\":%llu,\"turns\":%llu,\"mss\":%u,\"queue_overflows\":%llu,"
	       "\"demux_by_slot\":%llu,\"demux_slot_miss\":%llu}\n",
	       (unsigned long long)nseg, (unsigned long long)nack, (unsigned long long)dcalls,
	       (unsigned long long)acalls, burst, cfg.cc, (unsigned long long)bytes,
	       (unsigned long long)turns, mss, (unsigned long long)(qa.overflow + qb.overflow),
	       (unsigned long long)(hxs_tcp__mib(a)[HXS_TCP_MIB_HxsTcpDemuxBySlot] +
				    hxs_tcp__mib(b)[HXS_TCP_MIB_HxsTcpDemuxBySlot]),
	       (unsigned long long)(hxs_tcp__mib(a)[HXS_TCP_MIB_HxsTcpDemuxSlotMiss] +
				    hxs_tcp__mib(b)[HXS_TCP_MIB_HxsTcpDemuxSlotMiss]));
	hxs_tcp_conn__close(cb);
	hxs_tcp_conn__close(ca);
	hxs_tcp_conn__close(lb);
	hxs_tcp__free(a);
	hxs_tcp__free(b);
	return nseg >= n && nack > 0 ? 0 : 1;
}
