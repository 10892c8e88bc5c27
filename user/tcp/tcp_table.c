/* tcp_table.c - the TCP instance: connection table (4-tuple hash), listeners with their SYN
 * and accept queues, the dirty list that batches output, readiness events, MIB counters.
 *
 * hxs_tcp__input() -> hxs_tcp_lookup() / hxs_tcp_lookup_listener()
 * hxs_tcp__poll()  -> hxs_tcp__timers() -> hxs_wheel__run() -> tcp_timer.c
 *                  -> drain dirty list -> hxs_tcp_output() -> hxs_tcp_notify()
 * hxs_tcp_close_conn() -> unhash (on_tuple) -> notify -> hxs_tcp_conn_maybe_free()
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

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
	*out = tcp;
	return 0;
}

static void conn_destroy(struct hxs_tcp_conn *c)
{
	hxs_tcp_ring__free(&c->snd);
	hxs_tcp_ring__free(&c->rcv);
	c->tcp->conns_freed++;
	free(c);
}

void hxs_tcp__free(struct hxs_tcp *tcp)
{
	if (!tcp)
		return;
	for (uint32_t i = 0; i <= tcp->hmask; i++) {
		struct hxs_tcp_conn *c = tcp->htab[i], *n;
		for (; c; c = n) {
			n = c->hnext;
			conn_destroy(c);
		}
	}
	for (uint32_t i = 0; i < HXS_TCP_LHASH; i++) {
		struct hxs_tcp_conn *l = tcp->lhash[i], *n;
		for (; l; l = n) {
			n = l->hnext;
			conn_destroy(l);
		}
	}
	free(tcp->htab);
	free(tcp);
}

/* Bucket of a 4-tuple: SipHash-2-4 under the per-stack secret key, so a remote peer can
 * neither predict nor invert it to pile its tuples into one chain (an unkeyed mix is
 * invertible: O(n) lookups on demand). Twelve bytes cost one compression word, one final
 * word and the finalization: 8 SipRounds, a few tens of ns - small beside the rest of a
 * segment's input path, and the well-studied PRF rather than a home-made keyed mix. */
static uint32_t tuple_hash(const struct hxs_tcp *tcp, uint32_t laddr, uint16_t lport,
			   uint32_t raddr, uint16_t rport)
{
	uint32_t m[3] = { laddr, raddr, (uint32_t)lport << 16 | rport };
	return (uint32_t)hxs_siphash24(tcp->hkey, m, sizeof(m)) & tcp->hmask;
}

struct hxs_tcp_conn *hxs_tcp_lookup(struct hxs_tcp *tcp, uint32_t laddr, uint16_t lport,
				    uint32_t raddr, uint16_t rport)
{
	struct hxs_tcp_conn *c = tcp->htab[tuple_hash(tcp, laddr, lport, raddr, rport)];
	for (; c; c = c->hnext)
		if (c->lport == lport && c->rport == rport && c->raddr == raddr && c->laddr == laddr)
			return c;
	return NULL;
}

struct hxs_tcp_conn *hxs_tcp_lookup_listener(struct hxs_tcp *tcp, uint32_t laddr, uint16_t lport)
{
	struct hxs_tcp_conn *any = NULL;
	for (struct hxs_tcp_conn *l = tcp->lhash[lport % HXS_TCP_LHASH]; l; l = l->hnext) {
		if (l->lport != lport)
			continue;
		if (l->laddr == laddr)
			return l;
		if (!l->laddr)
			any = l;
	}
	return any;
}

void hxs_tcp_hash_insert(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	uint32_t b = tuple_hash(tcp, c->laddr, c->lport, c->raddr, c->rport);
	c->hnext = tcp->htab[b];
	tcp->htab[b] = c;
	c->in_table = 1;
	tcp->nconns++;
	if (tcp->ev.on_tuple)
		tcp->ev.on_tuple(tcp->ctx, c, HXS_TCP_TUPLE_ADD);
}

void hxs_tcp_listener_insert(struct hxs_tcp_conn *l)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_tcp_conn **head = &tcp->lhash[l->lport % HXS_TCP_LHASH];
	l->hnext = *head;
	*head = l;
	tcp->nlisteners++;
	if (tcp->ev.on_listen)
		tcp->ev.on_listen(tcp->ctx, l->laddr, l->lport, 1);
}

void hxs_tcp_listener_remove(struct hxs_tcp_conn *l)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_tcp_conn **pp = &tcp->lhash[l->lport % HXS_TCP_LHASH];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == l) {
			*pp = l->hnext;
			tcp->nlisteners--;
			if (tcp->ev.on_listen)
				tcp->ev.on_listen(tcp->ctx, l->laddr, l->lport, 0);
			break;
		}
	}
	l->hnext = NULL;
}

void hxs_tcp_hash_remove(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	if (!c->in_table)
		return;
	struct hxs_tcp_conn **pp = &tcp->htab[tuple_hash(tcp, c->laddr, c->lport, c->raddr, c->rport)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->hnext = NULL;
	c->in_table = 0;
	tcp->nconns--;
	if (tcp->ev.on_tuple)
		tcp->ev.on_tuple(tcp->ctx, c, HXS_TCP_TUPLE_DEL);
}

struct hxs_tcp_conn *hxs_tcp_conn_alloc(struct hxs_tcp *tcp)
{
	struct hxs_tcp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tcp = tcp;
	c->state = HXS_TCPS_CLOSED;
	c->sndbuf_size = tcp->cfg.sndbuf;
	c->rcvbuf_size = tcp->cfg.rcvbuf;
	c->keep_idle_s = 7200;       /* tcp_keepalive_time */
	c->keep_intvl_s = 75;        /* tcp_keepalive_intvl */
	c->keep_cnt = 9;             /* tcp_keepalive_probes */
	c->linger_s = -1;
	c->cc.ops = hxs_cc_find(tcp->cfg.cc);
	c->cc.ssthresh = UINT32_MAX;
	hxs_tcp_timers_init(c);
	hxs_sack__reset(&c->sb);
	tcp->conns_alloc++;
	return c;
}

int hxs_tcp_conn_bufs(struct hxs_tcp_conn *c)
{
	if (c->snd.buf)
		return 0;
	int err = hxs_tcp_ring__init(&c->snd, c->sndbuf_size);
	if (err)
		return err;
	err = hxs_tcp_ring__init(&c->rcv, c->rcvbuf_size);
	if (err) {
		hxs_tcp_ring__free(&c->snd);
		return err;
	}
	return 0;
}

void hxs_tcp_conn_setup(struct hxs_tcp_conn *c)
{
	struct hxs_tcp_cfg *cfg = &c->tcp->cfg;
	/* Offer what the stack allows; the peer's SYN decides (syn_options()). */
	c->ts_ok = !cfg->no_ts;
	c->sack_ok = !cfg->no_sack;
	c->ws_ok = !cfg->no_ws;
	/* RFC 7323 §2.3: the smallest shift that lets the window cover the buffer. */
	c->rcv_wscale = 0;
	while (c->ws_ok && c->rcv_wscale < 14 && (c->rcvbuf_size >> c->rcv_wscale) > 65535)
		c->rcv_wscale++;
	c->peer_mss = 536;
	uint32_t path = cfg->mtu - 40;
	c->adv_mss = c->user_mss && c->user_mss < path ? c->user_mss : path;
	c->mss = c->adv_mss;
	c->rcv_mss = c->adv_mss;
	c->cc.mss = c->mss;
}

void hxs_tcp_set_state(struct hxs_tcp_conn *c, uint8_t state)
{
	struct hxs_tcp *tcp = c->tcp;
	int was = c->state == HXS_TCPS_ESTABLISHED || c->state == HXS_TCPS_CLOSE_WAIT;
	int is = state == HXS_TCPS_ESTABLISHED || state == HXS_TCPS_CLOSE_WAIT;
	if (was && !is)
		MIB_DEC(tcp, TcpCurrEstab);
	if (!was && is)
		MIB_INC(tcp, TcpCurrEstab);
	/* RFC 1213 tcpEstabResets: "direct transition to the CLOSED state from either the
	 * ESTABLISHED state or the CLOSE-WAIT state". */
	if (was && state == HXS_TCPS_CLOSED)
		MIB_INC(tcp, TcpEstabResets);
	c->state = state;
}

void hxs_tcp_mark_dirty(struct hxs_tcp_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = 1;
	c->dnext = c->tcp->dirty_head;
	c->tcp->dirty_head = c;
}

void hxs_tcp_conn_maybe_free(struct hxs_tcp_conn *c)
{
	if (c->state != HXS_TCPS_CLOSED || c->user_ref || c->dirty || c->in_table || c->listener ||
	    c->in_acceptq)
		return;
	conn_destroy(c);
}

/* The listener's queues are singly linked with a back pointer to the link that points at
 * each entry (qpprev), so any child leaves either queue in O(1) - a completed handshake,
 * a RST or a timeout in the middle of a long SYN queue costs no scan. */
static void q_insert(struct hxs_tcp_conn **link, struct hxs_tcp_conn *c)
{
	c->qnext = *link;
	if (c->qnext)
		c->qnext->qpprev = &c->qnext;
	c->qpprev = link;
	*link = c;
}

void hxs_tcp_synq_add(struct hxs_tcp_conn *l, struct hxs_tcp_conn *c)
{
	c->listener = l;
	q_insert(&l->sq_head, c);
	l->synq_len++;
}

void hxs_tcp_queue_unlink(struct hxs_tcp_conn *c)
{
	struct hxs_tcp_conn *l = c->listener;
	if (!l || !c->qpprev)
		return;
	if (c->in_acceptq && l->aq_tail == c)
		l->aq_tail = c->qpprev == &l->aq_head ? NULL
						       : container_of(c->qpprev, struct hxs_tcp_conn, qnext);
	*c->qpprev = c->qnext;
	if (c->qnext)
		c->qnext->qpprev = c->qpprev;
	c->qnext = NULL;
	c->qpprev = NULL;
	if (c->in_acceptq) {
		l->acceptq_len--;
		c->in_acceptq = 0;
	} else {
		l->synq_len--;
	}
}

void hxs_tcp_child_unlink(struct hxs_tcp_conn *c)
{
	struct hxs_tcp_conn *l = c->listener;
	if (!l)
		return;
	hxs_tcp_queue_unlink(c);
	c->listener = NULL;
	hxs_tcp_notify(l);
}

void hxs_tcp_acceptq_add(struct hxs_tcp_conn *l, struct hxs_tcp_conn *c)
{
	hxs_tcp_queue_unlink(c);                   /* out of the SYN queue */
	q_insert(l->aq_tail ? &l->aq_tail->qnext : &l->aq_head, c);
	l->aq_tail = c;
	l->acceptq_len++;
	c->in_acceptq = 1;
	hxs_tcp_notify(l);
}

void hxs_tcp_close_conn(struct hxs_tcp_conn *c, int err)
{
	struct hxs_tcp *tcp = c->tcp;
	if (err)
		c->soerror = err;
	if (c->state == HXS_TCPS_TIME_WAIT)
		MIB_INC(tcp, TW);
	hxs_tcp_set_state(c, HXS_TCPS_CLOSED);
	hxs_tcp_timers_cancel(c);
	hxs_tcp_hash_remove(c);
	hxs_tcp_child_unlink(c);
	hxs_tcp_notify(c);
	hxs_tcp_conn_maybe_free(c);
}

uint32_t hxs_tcp_conn__events(const struct hxs_tcp_conn *c)
{
	uint32_t m = 0;
	if (c->state == HXS_TCPS_LISTEN)
		return c->acceptq_len ? EPOLLIN : 0;
	if (c->soerror)
		m |= EPOLLERR;
	if (c->rcv.len || HXS_TCPS_HAVERCVDFIN(c->state) || c->rd_shut)
		m |= EPOLLIN;
	if (HXS_TCPS_HAVERCVDFIN(c->state) || c->rd_shut)
		m |= EPOLLRDHUP;
	if (c->state == HXS_TCPS_CLOSED || (c->rd_shut && c->fin_queued) ||
	    (HXS_TCPS_HAVERCVDFIN(c->state) && c->fin_queued))
		m |= EPOLLHUP;
	if (c->state == HXS_TCPS_CLOSED && c->snd.buf)
		m |= EPOLLIN | EPOLLRDHUP;
	/* Writable like the kernel's sk_stream_is_writeable(): free space at least half of
	 * what is queued, i.e. at least a third of the buffer - one byte free would wake a
	 * writer for every ACK to queue a sliver each time. */
	if ((c->state == HXS_TCPS_ESTABLISHED || c->state == HXS_TCPS_CLOSE_WAIT) &&
	    3ull * (c->snd.cap - c->snd.len) >= c->snd.cap)
		m |= EPOLLOUT;
	if (c->fin_queued || c->soerror || (c->state == HXS_TCPS_CLOSED && c->snd.buf))
		m |= EPOLLOUT;
	return m;
}

void hxs_tcp_notify(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	if (!c->user_ref && c->state != HXS_TCPS_LISTEN)
		return;
	uint32_t m = hxs_tcp_conn__events(c);
	if (m == c->ev_last)
		return;
	c->ev_last = m;
	if (tcp->ev.on_event)
		tcp->ev.on_event(tcp->ctx, c, m);
}

uint32_t hxs_tcp_isn(struct hxs_tcp *tcp, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport, uint64_t now)
{
	if (tcp->cfg.isn_hook)
		return tcp->cfg.isn_hook(tcp->cfg.isn_hook_arg, laddr, lport, raddr, rport);
	/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey). */
	return hxs_isn(&tcp->isn, laddr, lport, raddr, rport, now);
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

uint32_t hxs_tcp__nconns(const struct hxs_tcp *tcp)
{
	return tcp->nconns + tcp->nlisteners;
}

void hxs_tcp__foreach(struct hxs_tcp *tcp, void (*fn)(void *arg, struct hxs_tcp_conn *c), void *arg)
{
	for (uint32_t i = 0; i < HXS_TCP_LHASH; i++)
		for (struct hxs_tcp_conn *l = tcp->lhash[i]; l; l = l->hnext)
			fn(arg, l);
	for (uint32_t i = 0; i <= tcp->hmask; i++)
		for (struct hxs_tcp_conn *c = tcp->htab[i]; c; c = c->hnext)
			fn(arg, c);
}

void hxs_tcp__alloc_stats(const struct hxs_tcp *tcp, uint64_t *allocated, uint64_t *freed)
{
	*allocated = tcp->conns_alloc;
	*freed = tcp->conns_freed;
}
