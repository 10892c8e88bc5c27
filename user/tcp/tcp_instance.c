/* tcp_instance.c - the TCP instance as the embedding layer drives it: configuration defaults,
 * creation and teardown, the poll that runs the timers and the batched output, deadlines,
 * counters.
 *
 * hxs_tcp__new()    -> defaults, 4-tuple table, timing wheel, RFC 6528, table and challenge-ACK keys,
 *                      the timers' expiry handlers (hxs_tcp_timer_fns)
 * hxs_tcp__poll()   -> hxs_tcp__timers() -> hxs_wheel__run() -> tcp_timer.c
 *                   -> drain dirty list -> hxs_tcp_output() -> hxs_tcp_notify()
 *                      -> hxs_tcp_conn_maybe_free(); tx.flush
 * hxs_tcp__output() -> hxs_tcp_output() -> hxs_tcp_notify(); tx.flush
 * hxs_tcp__free()   -> hxs_tcp_conn_destroy() for every connection and listener
 */
#include <errno.h>
#include <stdlib.h>

#include "lib/siphash.h"
#include "tcp_conn.h"

const char *const hxs_tcp_mib_names[HXS_TCP_MIB__COUNT] = {
#define HXS_TCP_MIB_NAME(n) #n,
	HXS_TCP_MIB_LIST(HXS_TCP_MIB_NAME)
#undef HXS_TCP_MIB_NAME
};

int hxs_tcp__new(struct hxs_tcp **out, const struct hxs_tcp_cfg *cfg,
		 const struct hxs_tcp_tx_ops *tx, const struct hxs_tcp_ev_ops *ev, void *ctx,
		 uint64_t now)
{
	struct hxs_tcp *tcp;
	if (!tx || !tx->alloc || !tx->send)
		return -EINVAL;
	tcp = calloc(1, sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	if (cfg)
		tcp->cfg = *cfg;
	struct hxs_tcp_cfg *c = &tcp->cfg;
	if (!c->mtu)
		c->mtu = 1500;
	if (c->mtu < 576)
		c->mtu = 576;
	if (!c->sndbuf)
		c->sndbuf = 256 * 1024;
	if (!c->rcvbuf)
		c->rcvbuf = 256 * 1024;
	if (!c->hash_buckets || (c->hash_buckets & (c->hash_buckets - 1)))
		c->hash_buckets = 4096;
	if (!c->max_syn_backlog)
		c->max_syn_backlog = 1024;
	if (!c->somaxconn)
		c->somaxconn = 4096;
	if (!c->challenge_ack_limit)
		c->challenge_ack_limit = 1000;
	if (!c->msl_ms)
		c->msl_ms = 30000;
	if (!c->syn_retries)
		c->syn_retries = 6;
	if (!c->synack_retries)
		c->synack_retries = 5;
	if (!c->retries2)
		c->retries2 = 15;
	if (!c->fin_timeout_s)
		c->fin_timeout_s = 60;
	if (!c->cc || !hxs_cc_find(c->cc))
		c->cc = "cubic";
	tcp->htab = calloc(c->hash_buckets, sizeof(*tcp->htab));
	if (!tcp->htab) {
		free(tcp);
		return -ENOMEM;
	}
	tcp->hmask = c->hash_buckets - 1;
	tcp->tx = *tx;
	if (ev)
		tcp->ev = *ev;
	tcp->ctx = ctx;
	tcp->now = now;
	tcp->timer_fns = &hxs_tcp_timer_fns;
	hxs_wheel__init(&tcp->wheel, now);
	hxs_isn_init(&tcp->isn, c->isn_secret);
	/* The table key comes from the stack's secret (the embedding layer fills isn_secret
	 * from getrandom; the core does no I/O), derived so that it differs from the ISN key:
	 * hkey = SipHash(secret, "tcp-hash-lo") | SipHash(secret, "tcp-hash-hi"). */
	for (int half = 0; half < 2; half++) {
		uint64_t k = hxs_siphash24(c->isn_secret, half ? "tcp-hash-hi" : "tcp-hash-lo", 11);
		for (int i = 0; i < 8; i++)
			tcp->hkey[half * 8 + i] = (uint8_t)(k >> (8 * i));
	}
	/* The challenge-ACK budget's key, likewise: SipHash(secret, "tcp-chack-lo"/"-hi"). */
	for (int half = 0; half < 2; half++) {
		uint64_t k = hxs_siphash24(c->isn_secret, half ? "tcp-chack-hi" : "tcp-chack-lo", 12);
		for (int i = 0; i < 8; i++)
			tcp->chack_key[half * 8 + i] = (uint8_t)(k >> (8 * i));
	}
	*out = tcp;
	return 0;
}

void hxs_tcp__free(struct hxs_tcp *tcp)
{
	if (!tcp)
		return;
	for (uint32_t i = 0; i <= tcp->hmask; i++) {
		struct hxs_tcp_conn *c = tcp->htab[i], *n;
		for (; c; c = n) {
			n = c->hnext;
			hxs_tcp_conn_destroy(c);
		}
	}
	for (uint32_t i = 0; i < HXS_TCP_LHASH; i++) {
		struct hxs_tcp_conn *l = tcp->lhash[i], *n;
		for (; l; l = n) {
			n = l->hnext;
			hxs_tcp_conn_destroy(l);
		}
	}
	free(tcp->htab);
	free(tcp);
}

int hxs_tcp__timers(struct hxs_tcp *tcp, uint64_t now)
{
	tcp->now = now;
	return hxs_wheel__run(&tcp->wheel, now);
}

int hxs_tcp__poll(struct hxs_tcp *tcp, uint64_t now)
{
	uint64_t before = tcp->mib[HXS_TCP_MIB_TcpOutSegs];
	hxs_tcp__timers(tcp, now);
	struct hxs_tcp_conn *c = tcp->dirty_head, *n;
	tcp->dirty_head = NULL;
	for (; c; c = n) {
		n = c->dnext;
		c->dnext = NULL;
		c->dirty = 0;
		if (c->state != HXS_TCPS_CLOSED) {
			hxs_tcp_output(c, now);
			hxs_tcp_notify(c);
		}
		hxs_tcp_conn_maybe_free(c);
	}
	if (tcp->tx.flush)
		tcp->tx.flush(tcp->ctx);
	return (int)(tcp->mib[HXS_TCP_MIB_TcpOutSegs] - before);
}

void hxs_tcp__output(struct hxs_tcp_conn *c, uint64_t now)
{
	c->tcp->now = now;
	if (c->state == HXS_TCPS_CLOSED || c->state == HXS_TCPS_LISTEN)
		return;
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	if (c->tcp->tx.flush)
		c->tcp->tx.flush(c->tcp->ctx);
}

uint64_t hxs_tcp__next_deadline(const struct hxs_tcp *tcp)
{
	if (tcp->dirty_head)
		return 0;
	return hxs_wheel__next(&tcp->wheel);
}

const uint64_t *hxs_tcp__mib(const struct hxs_tcp *tcp)
{
	return tcp->mib;
}

void hxs_tcp__alloc_stats(const struct hxs_tcp *tcp, uint64_t *allocated, uint64_t *freed)
{
	*allocated = tcp->conns_alloc;
	*freed = tcp->conns_freed;
}
