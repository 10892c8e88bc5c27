/* tcp_instance.c - the TCP instance as the embedding layer drives it: configuration defaults,
 * creation and teardown, the poll that runs the timers and the batched output, deadlines,
 * counters.
 *
 * hxs_tcp__new()    -> defaults (resource limits: limits_defaults), 4-tuple table, timing
 *                      wheel, RFC 6528, table and challenge-ACK keys,
 *                      the timers' expiry handlers (hxs_tcp_timer_fns)
 * hxs_tcp__poll()   -> hxs_tcp__timers(): the ACKs' pending rests (hxs_tcp_ack_rest_all,
 *                      tcp_ack_rest.c), then hxs_wheel__run() -> tcp_timer.c
 *                   -> drain dirty list -> hxs_tcp_output() -> hxs_tcp_notify()
 *                      -> hxs_tcp_conn_maybe_free(); tx.flush; res_gauges() (hxs_tcp__res()'s
 *                      moving part; the limits follow hxs_tcp__new() and __set_limits())
 * hxs_tcp__output() -> hxs_tcp_output() -> hxs_tcp_notify(); tx.flush
 * hxs_tcp__free()   -> hxs_tcp_conn_destroy() for every connection and listener, then the
 *                      buffer pool's cache (hxs_tcp_mem_trim)
 * hxs_tcp__set_limits() / __limits() / __res()   the limits, and what is held against them
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

const char *const hxs_tcp_res_names[HXS_TCP_RES__COUNT] = {
#define HXS_TCP_RES_NAME(n) #n,
	HXS_TCP_RES_LIST(HXS_TCP_RES_NAME)
#undef HXS_TCP_RES_NAME
};

static void res_limits(struct hxs_tcp *tcp);
static void res_gauges(struct hxs_tcp *tcp);

/* The resource limits of cfg, defaults for the zeros (README "Limits"). */
static void limits_defaults(struct hxs_tcp_cfg *c)
{
	/* together they fit the XDP conn map (HXS_MAX_CONNS, 262144), which holds TIME-WAIT
	 * entries too */
	if (!c->max_conns)
		c->max_conns = 196608;
	if (!c->max_tw)
		c->max_tw = 65536;
	if (!c->ofo_conn_max)
		c->ofo_conn_max = 1u << 20;
	if (!c->ofo_max)
		c->ofo_max = 64ull << 20;
	if (!c->mem_max)
		c->mem_max = 512ull << 20;
	if (!c->mem_pressure)
		c->mem_pressure = c->mem_max / 4 * 3;
	if (!c->mem_low)
		c->mem_low = c->mem_pressure / 3 * 2;
	if (c->mem_pressure > c->mem_max)
		c->mem_pressure = c->mem_max;
	if (c->mem_low > c->mem_pressure)
		c->mem_low = c->mem_pressure;
	if (!c->mem_cache)
		c->mem_cache = 4u << 20;
}

void hxs_tcp__set_limits(struct hxs_tcp *tcp, const struct hxs_tcp_cfg *l)
{
	struct hxs_tcp_cfg *c = &tcp->cfg;
	c->max_conns = l->max_conns;
	c->max_tw = l->max_tw;
	c->ofo_conn_max = l->ofo_conn_max;
	c->ofo_max = l->ofo_max;
	c->mem_low = l->mem_low;
	c->mem_pressure = l->mem_pressure;
	c->mem_max = l->mem_max;
	c->mem_cache = l->mem_cache;
	limits_defaults(c);
	res_limits(tcp);
	hxs_tcp_mem_trim(tcp, c->mem_cache);
	/* pressure follows the new thresholds at the next chunk taken or given back */
}

void hxs_tcp__set_bufs(struct hxs_tcp *tcp, uint32_t sndbuf, uint32_t rcvbuf)
{
	tcp->cfg.sndbuf = sndbuf ? sndbuf : 256 * 1024;
	tcp->cfg.rcvbuf = rcvbuf ? rcvbuf : 256 * 1024;
}

void hxs_tcp__limits(const struct hxs_tcp *tcp, struct hxs_tcp_cfg *l)
{
	const struct hxs_tcp_cfg *c = &tcp->cfg;
	l->max_conns = c->max_conns;
	l->max_tw = c->max_tw;
	l->ofo_conn_max = c->ofo_conn_max;
	l->ofo_max = c->ofo_max;
	l->mem_low = c->mem_low;
	l->mem_pressure = c->mem_pressure;
	l->mem_max = c->mem_max;
	l->mem_cache = c->mem_cache;
}

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
	/* tcp_ecn, stored plus one; 0 (or out of range): Linux's default 2 (tcp_ecn.c) */
	tcp->ecn = c->ecn >= 1 && c->ecn <= 3 ? (uint8_t)(c->ecn - 1) : 2;
	/* tcp_mtu_probing, stored plus one; 0: Linux's default 0 (tcp_pmtu.c) */
	tcp->mtu_probing = c->mtu_probing >= 1 && c->mtu_probing <= 3 ? (uint8_t)(c->mtu_probing - 1) : 0;
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
	/* the core's own default stays CUBIC (its tests' exact segments); the stack picks hxs's
	 * default (tcp_sock.c) */
	if (!c->cc || !hxs_cc_find(c->cc))
		c->cc = "cubic";
	else
		c->cc = hxs_cc_find(c->cc)->name;
	limits_defaults(c);
	tcp->htab = calloc(c->hash_buckets, sizeof(*tcp->htab));
	if (!tcp->htab) {
		free(tcp);
		return -ENOMEM;
	}
	tcp->hmask = c->hash_buckets - 1;
	tcp->tw_tail = &tcp->tw_head;
	tcp->tx = *tx;
	if (ev)
		tcp->ev = *ev;
	tcp->ctx = ctx;
	tcp->now = now;
	tcp->timer_fns = &hxs_tcp_timer_fns;
	hxs_tcp_buf_init(tcp);
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
	/* SYN-cookie keys, likewise, until the embedding layer gives its own (XDP's) */
	hxs_tcp_syncookie_init(tcp);
	hxs_tcp__res(tcp);
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
	hxs_tcp_mem_trim(tcp, 0);
	free(tcp->htab);
	free(tcp->by_slot);
	free(tcp);
}

/* hxs_tcp__timers(), inline in the poll */
static inline __attribute__((always_inline)) int timers_run(struct hxs_tcp *tcp, uint64_t now)
{
	/* what the ACKs' rests change, timers read (tcp_ack_rest.c) */
	if (tcp->ar_head)
		hxs_tcp_ack_rest_all(tcp);
	tcp->now = now;
	return hxs_wheel__run(&tcp->wheel, now);
}

int hxs_tcp__timers(struct hxs_tcp *tcp, uint64_t now)
{
	return timers_run(tcp, now);
}

unsigned hxs_tcp__acks_waiting(const struct hxs_tcp *tcp)
{
	return tcp->acks_waiting;
}

int hxs_tcp__poll(struct hxs_tcp *tcp, uint64_t now)
{
	uint64_t before = tcp->mib[HXS_TCP_MIB_TcpOutSegs];
	timers_run(tcp, now);
	struct hxs_tcp_conn *c = tcp->dirty_head, *n;
	tcp->dirty_head = NULL;
	tcp->acks_waiting = 0;            /* they go below */
	for (; c; c = n) {
		n = c->dnext;
		c->dnext = NULL;
		c->dirty = 0;
		if (c->ack_defer && c->state != HXS_TCPS_CLOSED) {
			/* an ACK that waits for the next poll (tcp_process.c): the user hears the
			 * news now, the ACK goes then, with whatever the user queued meanwhile */
			c->ack_defer = 0;
			hxs_tcp_mark_dirty(c);
			hxs_tcp_notify(c);
			continue;
		}
		if (c->state != HXS_TCPS_CLOSED) {
			hxs_tcp_output(c, now);
			hxs_tcp_notify(c);
		}
		hxs_tcp_conn_maybe_free(c);
	}
	if (tcp->tx.flush)
		tcp->tx.flush(tcp->ctx);
	res_gauges(tcp);                  /* the limits: hxs_tcp__new(), __set_limits() */
	return (int)(tcp->mib[HXS_TCP_MIB_TcpOutSegs] - before);
}

void hxs_tcp__output(struct hxs_tcp_conn *c, uint64_t now)
{
	c->tcp->now = now;
	if (c->state == HXS_TCPS_CLOSED || c->state == HXS_TCPS_LISTEN)
		return;
	/* What the poll would do for c, done now: c leaves the dirty list when it heads it (a
	 * write marked it, the socket layer pushes it at once). Whatever changes after this
	 * marks c dirty again or outputs itself (input, timers, the user's calls). An ACK
	 * deferred for one poll (ack_defer) keeps its poll. */
	if (c->tcp->dirty_head == c && !c->ack_defer) {
		c->tcp->dirty_head = c->dnext;
		c->dnext = NULL;
		c->dirty = 0;
	}
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	if (c->tcp->tx.flush)
		c->tcp->tx.flush(c->tcp->ctx);
}

uint64_t hxs_tcp__next_deadline(const struct hxs_tcp *tcp)
{
	if (tcp->dirty_head || hxs_tcp__fp_pending(tcp))
		return 0;
	return hxs_wheel__next(&tcp->wheel);
}

const uint64_t *hxs_tcp__mib(const struct hxs_tcp *tcp)
{
	return tcp->mib;
}

/* The gauges of hxs_tcp__res() that move: connections, TIME-WAIT, buffer memory. The limits
 * beside them change only with the configuration (res_limits). */
static void res_gauges(struct hxs_tcp *tcp)
{
	uint64_t *r = tcp->res;
	r[HXS_TCP_RES_HxsTcpConns] = hxs_tcp_nconns_live(tcp);
	r[HXS_TCP_RES_HxsTcpTimeWait] = tcp->ntw;
	r[HXS_TCP_RES_HxsTcpOfoBytes] = tcp->ofo_bytes;
	r[HXS_TCP_RES_HxsTcpBufBytes] = tcp->mem.bytes;
	r[HXS_TCP_RES_HxsTcpBufCached] = tcp->mem.cached;
	r[HXS_TCP_RES_HxsTcpMemUnderPressure] = tcp->mem.pressure;
}

static void res_limits(struct hxs_tcp *tcp)
{
	uint64_t *r = tcp->res;
	const struct hxs_tcp_cfg *c = &tcp->cfg;
	r[HXS_TCP_RES_HxsTcpConnsMax] = c->max_conns;
	r[HXS_TCP_RES_HxsTcpTimeWaitMax] = c->max_tw;
	r[HXS_TCP_RES_HxsTcpOfoMax] = c->ofo_max;
	r[HXS_TCP_RES_HxsTcpOfoConnMax] = c->ofo_conn_max;
	r[HXS_TCP_RES_HxsTcpMemLow] = c->mem_low;
	r[HXS_TCP_RES_HxsTcpMemPressure] = c->mem_pressure;
	r[HXS_TCP_RES_HxsTcpMemMax] = c->mem_max;
}

const uint64_t *hxs_tcp__res(struct hxs_tcp *tcp)
{
	res_limits(tcp);
	res_gauges(tcp);
	return tcp->res;
}

void hxs_tcp__alloc_stats(const struct hxs_tcp *tcp, uint64_t *allocated, uint64_t *freed)
{
	*allocated = tcp->conns_alloc;
	*freed = tcp->conns_freed;
}

int hxs_tcp__cc_known(const char *name)
{
	return hxs_cc_find(name) != NULL;
}

int hxs_tcp__set_cc(struct hxs_tcp *tcp, const char *name)
{
	const struct hxs_cc_ops *ops = hxs_cc_find(name);

	if (!ops)
		return -ENOENT;
	tcp->cfg.cc = ops->name;      /* a static name: the caller's string may go */
	return 0;
}

void hxs_tcp__set_pacing(struct hxs_tcp *tcp, int on)
{
	hxs_tcp_ack_rest_all(tcp);      /* their rests under the setting they came under */
	tcp->cfg.pacing = !!on;
}
