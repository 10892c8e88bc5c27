/* tcp_lifecycle.c - a connection's life: the object with the instance's defaults, the options
 * and buffers it starts with, its ISS, its state changes, the dirty list that batches its
 * output, its readiness events, a listener's SYN and accept queues, and its end.
 *
 * hxs_tcp_conn__new() / hxs_tcp_listen_input() -> hxs_tcp_conn_alloc() -> hxs_tcp_timers_init()
 * connect / hxs_tcp_listen_input() -> hxs_tcp_admit() (max_conns, memory pressure),
 *     hxs_tcp_conn_setup(), hxs_tcp_isn(); hxs_tcp_conn_bufs() (capacities only)
 * hxs_tcp_listen_input() -> hxs_tcp_synq_add(); handshake ACK -> hxs_tcp_acceptq_add() -> notify
 * user calls, hxs_tcp_send_seg() without a frame -> hxs_tcp_mark_dirty() -> hxs_tcp__poll()
 * hxs_tcp_notify() -> hxs_tcp_conn__events() -> ev.on_event (when the mask changed; with
 *     cfg.notify_gains only when it gained a bit)
 * hxs_tcp_set_state() -> TcpCurrEstab; TIME-WAIT list (tw_enter: max_tw -> the oldest closed)
 * hxs_tcp_close_conn() -> hxs_tcp_timers_cancel(), hxs_tcp_hash_remove() (on_tuple),
 *     hxs_tcp_child_unlink(), hxs_tcp_notify() -> hxs_tcp_conn_maybe_free()
 *     -> hxs_tcp_conn_destroy() -> hxs_tcp_timers_cancel() (also for hxs_tcp__free()'s live ones)
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "tcp_conn.h"

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
	hxs_tcp_rack_init(c);
	hxs_sack__reset(&c->sb);
	tcp->conns_alloc++;
	return c;
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
	uint32_t path = cfg->mtu - hxs_tcp_hdrs(c);
	c->adv_mss = c->user_mss && c->user_mss < path ? c->user_mss : path;
	c->mss = c->adv_mss;
	c->rcv_mss = c->adv_mss;
	c->ack_mss = 536;
	c->cc.mss = c->mss;
}

int hxs_tcp_conn_bufs(struct hxs_tcp_conn *c)
{
	if (c->snd.cap)
		return 0;
	hxs_tcp_ring__init(&c->snd, c->sndbuf_size);
	hxs_tcp_ring__init(&c->rcv, c->rcvbuf_size);
	return 0;
}

int hxs_tcp_admit(struct hxs_tcp *tcp)
{
	if (hxs_tcp_nconns_live(tcp) >= tcp->cfg.max_conns) {
		MIB_INC(tcp, HxsTcpConnLimitDrops);
		return -ENOBUFS;
	}
	/* Under memory pressure existing connections come first (their windows shrink); a new
	 * one would only add to it. */
	if (tcp->mem.pressure) {
		MIB_INC(tcp, HxsTcpMemRefused);
		return -ENOBUFS;
	}
	return 0;
}

uint32_t hxs_tcp_isn(struct hxs_tcp *tcp, struct hxs_addr laddr, uint16_t lport,
		     struct hxs_addr raddr, uint16_t rport, uint64_t now)
{
	if (tcp->cfg.isn_hook)
		return tcp->cfg.isn_hook(tcp->cfg.isn_hook_arg, hxs_addr_get4(laddr), lport,
					 hxs_addr_get4(raddr), rport);
	/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey). */
	return hxs_isn_addr(&tcp->isn, laddr, lport, raddr, rport, now);
}

static void tw_unlink(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	if (!c->tw_pprev)
		return;
	*c->tw_pprev = c->tw_next;
	if (c->tw_next)
		c->tw_next->tw_pprev = c->tw_pprev;
	else
		tcp->tw_tail = c->tw_pprev;
	c->tw_next = NULL;
	c->tw_pprev = NULL;
	tcp->ntw--;
}

/* c enters TIME-WAIT: at the tail of the list, after the oldest entry made room if max_tw are
 * held (like the kernel's tcp_max_tw_buckets, counted in TCPTimeWaitOverflow; the kernel
 * skips TIME-WAIT for the new one instead, which leaves the newest 4-tuple unprotected). */
static void tw_enter(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;
	while (tcp->ntw >= tcp->cfg.max_tw && tcp->tw_head) {
		MIB_INC(tcp, TCPTimeWaitOverflow);
		hxs_tcp_close_conn(tcp->tw_head, 0);
	}
	c->tw_next = NULL;
	c->tw_pprev = tcp->tw_tail;
	*tcp->tw_tail = c;
	tcp->tw_tail = &c->tw_next;
	tcp->ntw++;
}

void hxs_tcp_set_state(struct hxs_tcp_conn *c, uint8_t state)
{
	struct hxs_tcp *tcp = c->tcp;
	if (c->state == HXS_TCPS_TIME_WAIT && state != HXS_TCPS_TIME_WAIT)
		tw_unlink(c);
	else if (state == HXS_TCPS_TIME_WAIT && c->state != HXS_TCPS_TIME_WAIT && c->in_table)
		tw_enter(c);
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

uint32_t hxs_tcp_conn__events(const struct hxs_tcp_conn *c)
{
	uint32_t m = 0;
	if (hxs_tcp_events_usual(c, &m))
		return m;
	if (c->state == HXS_TCPS_LISTEN)
		return c->acceptq_len ? EPOLLIN : 0;
	if (c->soerror)
		m |= EPOLLERR;
	/* the urgent byte at the head of the stream, not in line, is not readable data (the
	 * kernel's tcp_poll: target + 1); EPOLLPRI while it waits to be read (tcp_urg.c) */
	uint32_t urg_at_head = c->urg_state != HXS_URG_NONE && !c->oobinline &&
			       hxs_tcp_urg_atmark(c);
	if (c->rcv.len > urg_at_head || HXS_TCPS_HAVERCVDFIN(c->state) || c->rd_shut)
		m |= EPOLLIN;
	if (c->urg_state == HXS_URG_VALID)
		m |= EPOLLPRI;
	if (HXS_TCPS_HAVERCVDFIN(c->state) || c->rd_shut)
		m |= EPOLLRDHUP;
	if (c->state == HXS_TCPS_CLOSED || (c->rd_shut && c->fin_queued) ||
	    (HXS_TCPS_HAVERCVDFIN(c->state) && c->fin_queued))
		m |= EPOLLHUP;
	if (c->state == HXS_TCPS_CLOSED && c->snd.cap)
		m |= EPOLLIN | EPOLLRDHUP;
	/* Writable like the kernel's sk_stream_is_writeable(): free space at least half of
	 * what is queued, i.e. at least a third of the buffer - one byte free would wake a
	 * writer for every ACK to queue a sliver each time. */
	if ((c->state == HXS_TCPS_ESTABLISHED || c->state == HXS_TCPS_CLOSE_WAIT) &&
	    3ull * (c->snd.cap - c->snd.len) >= c->snd.cap)
		m |= EPOLLOUT;
	if (c->fin_queued || c->soerror || (c->state == HXS_TCPS_CLOSED && c->snd.cap))
		m |= EPOLLOUT;
	return m;
}

void hxs_tcp_notify_slow(struct hxs_tcp_conn *c)
{
	if (!c->user_ref && c->state != HXS_TCPS_LISTEN)
		return;
	uint32_t m = hxs_tcp_conn__events(c);
	if (m != c->ev_last)
		hxs_tcp_notify_events(c, m);
}

void hxs_tcp_notify_events(struct hxs_tcp_conn *c, uint32_t m)
{
	struct hxs_tcp *tcp = c->tcp;
	uint32_t old = c->ev_last;

	c->ev_last = m;
	if (!(m & ~old) && tcp->cfg.notify_gains)
		return;
	if (tcp->ev.on_event)
		tcp->ev.on_event(tcp->ctx, c, m);
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

void hxs_tcp_synq_pressure(struct hxs_tcp_conn *l, int on)
{
	struct hxs_tcp *tcp = l->tcp;

	if (on) {
		if (l->synq_pressure)
			return;
		l->synq_pressure = 1;
	} else {
		uint32_t limit = l->backlog + 1 < tcp->cfg.max_syn_backlog ? l->backlog + 1
									: tcp->cfg.max_syn_backlog;
		if (!l->synq_pressure || l->synq_len > limit / 2)
			return;
		l->synq_pressure = 0;
		/* cookies sent until now (by the core or by XDP) stay good for their lifetime */
		l->cookie_until = tcp->now + HXS_TCP_COOKIE_VALID_US;
	}
	if (tcp->ev.on_synq)
		tcp->ev.on_synq(tcp->ctx, l, on);
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
		hxs_tcp_synq_pressure(l, 0);      /* off when it drained to half */
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
	hxs_tcp_reass_clear(c);            /* nobody will read them: out of the instance's count */
	hxs_tcp_hash_remove(c);
	hxs_tcp_child_unlink(c);
	hxs_tcp_notify(c);
	hxs_tcp_conn_maybe_free(c);
}

void hxs_tcp_conn_maybe_free(struct hxs_tcp_conn *c)
{
	if (c->state != HXS_TCPS_CLOSED || c->user_ref || c->dirty || c->in_table || c->listener ||
	    c->in_acceptq)
		return;
	hxs_tcp_conn_destroy(c);
}

void hxs_tcp_conn_destroy(struct hxs_tcp_conn *c)
{
	/* Every timer off the wheel before the memory goes: hxs_tcp__free() destroys connections
	 * that were never closed, and a timer left linked would be written through when a
	 * neighbour in its slot is unlinked later (the next connection's RACK timer, below). */
	hxs_tcp_timers_cancel(c);
	hxs_tcp_ack_rest_drop(c);       /* nobody reads its rest now (tcp_ack_rest.c) */
	tw_unlink(c);
	hxs_tcp_rack_free(c);
	hxs_tcp_reass_clear(c);
	hxs_tcp_ring__free(c->tcp, &c->snd);
	hxs_tcp_ring__free(c->tcp, &c->rcv);
	hxs_tcp_rate_free(c);
	c->tcp->conns_freed++;
	free(c);
}
