/* hxs-bench-tcp-core - a steady bulk transfer through the TCP core alone (tcp.h, sans-I/O), for
 * counting instructions with callgrind (scripts/bench_tcp_core.sh): how much the core spends
 * per in-order data segment received and per ACK processed.
 *
 *   hxs-bench-tcp-core [-n SEGMENTS] [-m MSS]
 *
 * Two instances, A (sender, 10.0.0.1) and B (receiver, 10.0.0.2), joined by two in-memory
 * segment queues in virtual time: handshake, then per turn
 *   A: send 2*MSS, hxs_tcp__output() -> qa          (not measured)
 *   qa -> hxs_bench_rx_data(B, seg)                 measured: in-order data segment input
 *   B: hxs_tcp_conn__recv() drains, hxs_tcp__poll() -> qb (ACKs)   (not measured)
 *   qb -> hxs_bench_rx_ack(A, seg)                  measured: pure ACK input
 * Segments go in with HXS_TCP_IN_CSUM_OK (checksum verified elsewhere, as by XDP); the script
 * also subtracts the checksum (hxs_tcp_csum: ACKs B emits from inside input) and the buffer
 * copies (hxs_tcp_ring__*) collected under each measured function. The two functions are
 * noinline and global so that `--toggle-collect=hxs_bench_rx_data` finds them.
 * Prints {"segments":N,"acks":M,"bytes":B} (calls of each measured function) on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

#define QN      256
#define SEG_CAP 2048
#define ADDR_A  0x0100000au   /* 10.0.0.1, network order */
#define ADDR_B  0x0200000au

struct segq {
	uint8_t buf[QN][SEG_CAP];
	uint32_t len[QN], saddr[QN], daddr[QN];
	int n;
	uint64_t overflow;
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

static void q_send(void *ctx, void *handle, uint32_t saddr, uint32_t daddr, uint32_t len,
		   uint8_t tos, uint8_t ttl)
{
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

__attribute__((noinline, used)) int hxs_bench_rx_data(struct hxs_tcp *t, uint32_t s, uint32_t d,
						      const uint8_t *h, uint32_t len, uint64_t now)
{
	return hxs_tcp__input(t, s, d, h, len, HXS_TCP_IN_CSUM_OK, now);
}

__attribute__((noinline, used)) int hxs_bench_rx_ack(struct hxs_tcp *t, uint32_t s, uint32_t d,
						     const uint8_t *h, uint32_t len, uint64_t now)
{
	return hxs_tcp__input(t, s, d, h, len, HXS_TCP_IN_CSUM_OK, now);
}

static uint32_t payload_len(const uint8_t *h, uint32_t len)
{
	uint32_t doff = (uint32_t)(h[12] >> 4) * 4;
	return len > doff ? len - doff : 0;
}

/* Delivers every queued segment of q to t; data and pure ACKs through the measured entry
 * points when measure is set. */
static void deliver(struct segq *q, struct hxs_tcp *t, uint64_t now, int measure, uint64_t *nseg,
		    uint64_t *nack, uint64_t *bytes)
{
	for (int i = 0; i < q->n; i++) {
		const uint8_t *h = q->buf[i];
		uint32_t pl = payload_len(h, q->len[i]);
		int flags = h[13];
		if (measure && pl > 0 && !(flags & 0x07)) {            /* no SYN/FIN/RST */
			hxs_bench_rx_data(t, q->saddr[i], q->daddr[i], h, q->len[i], now);
			(*nseg)++;
			*bytes += pl;
		} else if (measure && pl == 0 && flags == 0x10) {      /* pure ACK */
			hxs_bench_rx_ack(t, q->saddr[i], q->daddr[i], h, q->len[i], now);
			(*nack)++;
		} else {
			hxs_tcp__input(t, q->saddr[i], q->daddr[i], h, q->len[i], HXS_TCP_IN_CSUM_OK, now);
		}
	}
	q->n = 0;
}

int main(int argc, char **argv)
{
	static struct segq qa, qb;
	static uint8_t data[65536], sink[1 << 20];
	struct hxs_tcp_cfg cfg = { .sndbuf = 4 << 20, .rcvbuf = 4 << 20 };
	struct hxs_tcp *a, *b;
	struct hxs_tcp_conn *ca, *lb, *cb = NULL;
	uint64_t now = 1000000, n = 20000, nseg = 0, nack = 0, bytes = 0;
	uint32_t mss = 1448;
	int c, err;

	while ((c = getopt(argc, argv, "n:m:")) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'm': mss = (uint32_t)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: hxs-bench-tcp-core [-n SEGMENTS] [-m MSS]\n");
			return 2;
		}
	}
	cfg.mtu = mss + 40 + 12;   /* room for the timestamp option */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memset(cfg.isn_secret, 0x5a, sizeof(cfg.isn_secret));
	if ((err = hxs_tcp__new(&a, &cfg, &tx_ops, NULL, &qa, now)) ||
	    (err = hxs_tcp__new(&b, &cfg, &tx_ops, NULL, &qb, now)) ||
	    (err = hxs_tcp_conn__new(b, &lb)) || (err = hxs_tcp_conn__listen(lb, ADDR_B, 5001, 16)) ||
	    (err = hxs_tcp_conn__new(a, &ca)) ||
	    (err = hxs_tcp_conn__connect(ca, ADDR_A, 40000, ADDR_B, 5001, now))) {
		fprintf(stderr, "hxs-bench-tcp-core: set-up: %s\n", strerror(-err));
		return 1;
	}
	/* handshake */
	for (int i = 0; i < 100 && !cb; i++) {
		hxs_tcp__poll(a, now);
		deliver(&qa, b, now, 0, NULL, NULL, NULL);
		hxs_tcp__poll(b, now);
		deliver(&qb, a, now, 0, NULL, NULL, NULL);
		if (hxs_tcp_conn__accept(lb, &cb) != 0)
			cb = NULL;
		now += 50;
	}
	if (!cb) {
		fprintf(stderr, "hxs-bench-tcp-core: no connection after the handshake\n");
		return 1;
	}
	/* steady transfer: two segments a turn, so the receiver ACKs every second one */
	uint64_t off = 0, turns = 0;
	while (nseg < n && turns < n * 4) {
		turns++;
		uint32_t want = 2 * mss;
		long k = hxs_tcp_conn__send(ca, data + (off % (sizeof(data) - want)), want);
		if (k > 0)
			off += (uint64_t)k;
		hxs_tcp__output(ca, now);
		hxs_tcp__poll(a, now);
		deliver(&qa, b, now, 1, &nseg, &nack, &bytes);
		while (hxs_tcp_conn__recv(cb, sink, sizeof(sink), 0) > 0)
			;
		hxs_tcp__poll(b, now);
		deliver(&qb, a, now, 1, &nseg, &nack, &bytes);
		now += 20;
	}
	printf("{\"segments\":%llu,\"acks\":%llu,\"bytes\":%llu,\"turns\":%llu,\"mss\":%u,\"queue_overflows\":%llu}\n",
	       (unsigned long long)nseg, (unsigned long long)nack, (unsigned long long)bytes,
	       (unsigned long long)turns, mss, (unsigned long long)(qa.overflow + qb.overflow));
	hxs_tcp_conn__close(cb);
	hxs_tcp_conn__close(ca);
	hxs_tcp_conn__close(lb);
	hxs_tcp__free(a);
	hxs_tcp__free(b);
	return nseg >= n && nack > 0 ? 0 : 1;
}
