/* tcp_user.c - the user calls of RFC 9293 §3.10.1-§3.10.6 as the socket layer needs them:
 * OPEN (connect / listen / accept), SEND, RECEIVE, CLOSE (shutdown / close), ABORT, STATUS
 * (info, events, error), and the per-connection options.
 *
 * hxs_tcp_conn__connect() -> ISN (RFC 6528) -> hxs_tcp_output() (SYN); the caller chose lport
 * hxs_tcp_conn__connect() -> hxs_tcp_admit(), hxs_tcp_hash_insert() (a refused steering entry
 *     fails the connect with its error)
 * hxs_tcp_conn__send()/recv()/shutdown() -> ring copy (chunks reserved as the bytes come,
 *     given back as they are read or acked) -> hxs_tcp_mark_dirty() -> next poll
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

#include "hxs/hxs.h"
#include "tcp_conn.h"

int hxs_tcp_conn__new(struct hxs_tcp *tcp, struct hxs_tcp_conn **out)
{
	struct hxs_tcp_conn *c = hxs_tcp_conn_alloc(tcp);
	if (!c)
		return -ENOMEM;
	c->user_ref = 1;
	*out = c;
	return 0;
}

int hxs_tcp_conn__connect(struct hxs_tcp_conn *c, uint32_t laddr, uint16_t lport,
			  uint32_t raddr, uint16_t rport, uint64_t now)
{
	if (!raddr)
		return -EINVAL;
	return hxs_tcp_conn__connect_addr(c, hxs_addr4(laddr), lport, hxs_addr4(raddr), rport, now);
}

int hxs_tcp_conn__connect_addr(struct hxs_tcp_conn *c, struct hxs_addr laddr, uint16_t lport,
			       struct hxs_addr raddr, uint16_t rport, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;
	if (c->state == HXS_TCPS_SYN_SENT || c->state == HXS_TCPS_SYN_RECEIVED)
		return -EALREADY;
	if (c->state != HXS_TCPS_CLOSED || c->snd.cap)
		return -EISCONN;
	if (!lport || hxs_addr_is_any(raddr) || !rport ||
	    hxs_addr_is4(laddr) != hxs_addr_is4(raddr))
		return -EINVAL;
	if (hxs_tcp_lookup_addr(tcp, laddr, lport, raddr, rport))
		return -EADDRNOTAVAIL;
	int err = hxs_tcp_admit(tcp);
	if (err)
		return err;
	hxs_tcp_conn_bufs(c);
	c->laddr = laddr;
	c->lport = lport;
	c->raddr = raddr;
	c->rport = rport;
	hxs_tcp_conn_setup(c);              /* the MSS depends on the family */
	tcp->now = now;
	/* §3.10.1 OPEN, active: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent. Set
	 * SND.UNA to ISS, SND.NXT to ISS+1, enter SYN-SENT state". */
	c->iss = hxs_tcp_isn(tcp, laddr, lport, raddr, rport, now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	/* RFC 7323 §5.4 / RFC 6191: one keyed offset per host pair (Linux's secure_tcp_ts_off),
	 * so timestamps grow across connections and a peer in TIME_WAIT accepts our new SYN. */
	c->ts_offset = hxs_isn_addr(&tcp->isn, laddr, 0, raddr, 0, 0);
	c->rtt_timing = 1;
	c->rtt_start = now;
	c->rtt_seq = c->iss;
	hxs_tcp_ecn_connect(c);             /* RFC 3168 §6.1.1: the SYN asks? (tcp_ecn.c) */
	c->last_rcv = now;
	err = hxs_tcp_hash_insert(c);
	if (err) {
		/* no steering entry: no connection (the caller may try again with c) */
		hxs_tcp_ring__free(tcp, &c->snd);
		hxs_tcp_ring__free(tcp, &c->rcv);
		return err;
	}
	hxs_tcp_set_state(c, HXS_TCPS_SYN_SENT);
	MIB_INC(tcp, TcpActiveOpens);
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	return 0;
}

/* The kernel's __sys_listen: "if ((unsigned int)backlog > somaxconn) backlog = somaxconn" -
 * a negative backlog is the largest, 0 stays 0 (the queues hold one more, tcp_listen.c). */
static uint32_t listen_backlog(const struct hxs_tcp *tcp, int backlog)
{
	return (unsigned int)backlog > tcp->cfg.somaxconn ? tcp->cfg.somaxconn : (uint32_t)backlog;
}

int hxs_tcp_conn__listen(struct hxs_tcp_conn *c, uint32_t laddr, uint16_t lport, int backlog)
{
	return hxs_tcp_conn__listen_addr(c, hxs_addr4(laddr), lport, 0, backlog);
}

int hxs_tcp_conn__listen_addr(struct hxs_tcp_conn *c, struct hxs_addr laddr, uint16_t lport,
			      int v6only, int backlog)
{
	struct hxs_tcp *tcp = c->tcp;
	if (c->state == HXS_TCPS_LISTEN) {
		/* listen() again only changes the backlog, as in the kernel. */
		c->backlog = listen_backlog(tcp, backlog);
		return 0;
	}
	if (c->state != HXS_TCPS_CLOSED || c->snd.cap || !lport)
		return -EINVAL;
	int only6 = hxs_addr_is_any6(laddr) && v6only;

	/* two listeners of a port conflict when one takes what the other's address is */
	for (struct hxs_tcp_conn *l = tcp->lhash[lport % HXS_TCP_LHASH]; l; l = l->hnext)
		if (l->lport == lport && (hxs_tcp_addr_takes(l->laddr, l->v6only, laddr) ||
					  hxs_tcp_addr_takes(laddr, only6, l->laddr)))
			return -EADDRINUSE;
	c->laddr = laddr;
	c->v6only = (uint8_t)only6;
	c->lport = lport;
	c->backlog = listen_backlog(tcp, backlog);
	/* §3.10.1 OPEN, passive: "enter LISTEN state and return". */
	hxs_tcp_set_state(c, HXS_TCPS_LISTEN);
	hxs_tcp_listener_insert(c);
	return 0;
}

int hxs_tcp_conn__accept(struct hxs_tcp_conn *l, struct hxs_tcp_conn **child)
{
	if (l->state != HXS_TCPS_LISTEN)
		return -EINVAL;
	struct hxs_tcp_conn *c = l->aq_head;
	if (!c)
		return -EAGAIN;
	hxs_tcp_queue_unlink(c);
	c->listener = NULL;
	c->user_ref = 1;
	c->ev_last = 0;
	*child = c;
	hxs_tcp_notify(l);
	hxs_tcp_notify(c);
	return 0;
}

int hxs_tcp_conn__fin_rcvd(const struct hxs_tcp_conn *c)
{
	return c->fin_rcvd;
}

static int take_error(struct hxs_tcp_conn *c)
{
	int e = c->soerror;
	c->soerror = 0;
	return e;
}

long hxs_tcp_conn__send(struct hxs_tcp_conn *c, const void *buf, size_t len)
{
	if (c->soerror)
		return -take_error(c);
	switch (c->state) {
	case HXS_TCPS_CLOSED:
		return c->snd.cap ? -EPIPE : -ENOTCONN;
	case HXS_TCPS_LISTEN:
		return -ENOTCONN;
	case HXS_TCPS_SYN_SENT:
	case HXS_TCPS_SYN_RECEIVED:
		/* §3.10.2: "Queue the data for transmission after entering ESTABLISHED state." */
	case HXS_TCPS_ESTABLISHED:
	case HXS_TCPS_CLOSE_WAIT:
		/* "Segmentize the buffer and send it with a piggybacked acknowledgment". */
		break;
	default:
		/* FIN-WAIT-*, CLOSING, LAST-ACK, TIME-WAIT: "error: connection closing". */
		return -EPIPE;
	}
	if (c->fin_queued)
		return -EPIPE;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	int was_empty = c->snd.len == 0;
	uint32_t room = c->snd.cap - c->snd.len;
	uint32_t want = len < room ? (uint32_t)len : room;
	/* The bytes the buffer memory takes (all of them, short of mem_max). */
	uint32_t n = hxs_tcp_ring__reserve(c->tcp, &c->snd, c->snd.len, want);
	if (n < want)
		MIB_INC(c->tcp, HxsTcpSndMemFails);
	if (!n && len)
		return -EAGAIN;
	hxs_tcp_ring__append(&c->snd, buf, n);
	if (n) {
		uint64_t idle = c->tcp->now - c->last_send;
		int paused = c->snd_una == c->snd_max && HXS_TCPS_HAVEESTABLISHED(c->state);

		/* what follows changes the congestion control's state: after the last ACK's
		 * rest (tcp_ack_rest.c), as it would have run. An algorithm with on_idle_end
		 * (CUBIC) reads what the rest's on_ack sets, so under it every write after the
		 * connection went idle runs the rest here, before the answer: the deferral
		 * gains nothing for it; BBR and NewReno keep it past the write (no pause as
		 * long as an RTO). */
		if (paused && (idle > c->rto_us || (was_empty && c->cc.ops->on_idle_end)))
			hxs_tcp_ack_rest(c);
		/* RFC 5681 §4.1: "a TCP SHOULD set cwnd to no more than RW before beginning
		 * transmission if the TCP has not sent data in an interval exceeding the
		 * retransmission timeout." */
		if (paused && idle > c->rto_us) {
			uint32_t iw = hxs_cc_initial_window(c->mss);
			if (c->cc.cwnd > iw)
				c->cc.cwnd = iw;
		}
		/* The first write after a pause with nothing in flight or queued: the algorithm
		 * may leave the pause out of its clock (RFC 9438 §5.8). */
		if (was_empty && paused && c->cc.ops->on_idle_end)
			c->cc.ops->on_idle_end(&c->cc, idle, c->tcp->now);
		hxs_tcp_mark_dirty(c);
		hxs_tcp_notify(c);
	}
	return (long)n;
}

long hxs_tcp_conn__recv(struct hxs_tcp_conn *c, void *buf, size_t len, unsigned flags)
{
	if (c->state == HXS_TCPS_LISTEN)
		return -ENOTCONN;
	int skip = 0;
	/* urgent data (tcp_urg.c): a read stops at the mark and steps over the urgent byte
	 * unless SO_OOBINLINE */
	uint32_t avail = c->rcv.len ? hxs_tcp_urg_readable(c, c->rcv.len, &skip) : 0;
	if (avail > (uint32_t)skip || (avail && !len)) {
		uint32_t n = avail - (uint32_t)skip < len ? avail - (uint32_t)skip : (uint32_t)len;
		if (!(flags & HXS_TCP_DISCARD))
			hxs_tcp_ring__read(&c->rcv, (uint32_t)skip, buf, n);
		if (flags & HXS_TCP_PEEK)
			return (long)n;
		hxs_tcp_ring__consume(c->tcp, &c->rcv, n + (n ? (uint32_t)skip : 0));
		hxs_tcp_urg_consumed(c);
		/* Window update when reading opened the window enough (receiver SWS avoidance,
		 * §3.8.6.2.2) and what the peer may still send is down to half the buffer. The
		 * window cannot grow past what the field can say, 65535 << our shift (RFC 7323
		 * §2.3): without scaling, a buffer above 64 KiB is advertised as 65535, and an ACK
		 * repeating that window would only be a duplicate ACK to the peer (RFC 5681 §2). */
		uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? SEQ_DIFF(c->rcv_adv, c->rcv_nxt) : 0;
		uint32_t wmax = 65535u << c->rcv_wscale;
		uint32_t adv_cap = c->rcv.cap < wmax ? c->rcv.cap : wmax;
		uint32_t space = c->rcv.cap - c->rcv.len;
		if (space > adv_cap)
			space = adv_cap;
		uint32_t thresh = c->rcv.cap / 2 < c->rcv_mss ? c->rcv.cap / 2 : c->rcv_mss;
		if (HXS_TCPS_CANRCVDATA(c->state) && cur <= adv_cap / 2 && space > cur && space - cur >= thresh) {
			c->ack_now = 1;
			hxs_tcp_mark_dirty(c);
		}
		hxs_tcp_notify(c);
		return (long)n;
	}
	if (skip && !(flags & HXS_TCP_PEEK)) {
		/* the urgent byte was all there was: gone from the stream, nothing read */
		hxs_tcp_ring__consume(c->tcp, &c->rcv, 1);
		hxs_tcp_urg_consumed(c);
		hxs_tcp_notify(c);
	}
	/* The end of the stream comes before a pending error, as in the kernel's tcp_recvmsg
	 * (SOCK_DONE, then sk_err): a RST after the peer's FIN leaves reads at 0. */
	if (c->fin_rcvd)
		return 0;
	if (c->soerror)
		return -take_error(c);
	if (HXS_TCPS_HAVERCVDFIN(c->state) || c->rd_shut)
		return 0;
	if (c->state == HXS_TCPS_CLOSED)
		return c->snd.cap ? 0 : -ENOTCONN;
	if (len == 0)
		return 0;
	return -EAGAIN;
}

/* Queues our FIN (§3.10.4 CLOSE without releasing). */
static void close_write(struct hxs_tcp_conn *c)
{
	switch (c->state) {
	case HXS_TCPS_SYN_SENT:
		if (c->snd.len) {
			/* SENDs queued in SYN-SENT (§3.10.2 "Queue the data for transmission after
			 * entering ESTABLISHED state") were taken: send() returned their length, so
			 * deleting the TCB here would lose them silently. The FIN is queued after
			 * them as §3.10.4 says for SYN-RECEIVED ("queue for processing after
			 * entering ESTABLISHED state"); establish() enters FIN-WAIT-1. */
			c->fin_queued = 1;
			return;
		}
		/* "Delete the TCB and return "error: closing" responses to any queued SENDs". */
		hxs_tcp_close_conn(c, 0);
		return;
	case HXS_TCPS_SYN_RECEIVED:
		/* "If no SENDs have been issued and there is no pending data to send, then form
		 * a FIN segment and send it ... otherwise, queue for processing after entering
		 * ESTABLISHED state" - we queue it; establish() enters FIN-WAIT-1. */
		c->fin_queued = 1;
		return;
	case HXS_TCPS_ESTABLISHED:
		/* "Queue this until all preceding SENDs have been segmentized, then form a FIN
		 * segment and send it. In any case, enter FIN-WAIT-1 state." */
		c->fin_queued = 1;
		hxs_tcp_set_state(c, HXS_TCPS_FIN_WAIT_1);
		break;
	case HXS_TCPS_CLOSE_WAIT:
		/* "Queue this request until all preceding SENDs have been segmentized; then send
		 * a FIN segment, enter LAST-ACK state." */
		c->fin_queued = 1;
		hxs_tcp_set_state(c, HXS_TCPS_LAST_ACK);
		break;
	default:
		return;
	}
	hxs_tcp_mark_dirty(c);
}

int hxs_tcp_conn__shutdown(struct hxs_tcp_conn *c, int how)
{
	hxs_tcp_ack_rest(c);            /* the last ACK's rest before the state moves on */
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (c->state == HXS_TCPS_CLOSED || c->state == HXS_TCPS_LISTEN)
		return -ENOTCONN;
	if (how == SHUT_RD || how == SHUT_RDWR)
		c->rd_shut = 1;
	if (how == SHUT_WR || how == SHUT_RDWR)
		close_write(c);
	if (c->state != HXS_TCPS_CLOSED)
		hxs_tcp_notify(c);
	return 0;
}

static void listener_close(struct hxs_tcp_conn *l)
{
	struct hxs_tcp *tcp = l->tcp;
	hxs_tcp_listener_remove(l);
	/* Children not accepted yet are reset (the kernel's inet_csk_listen_stop). */
	while (l->aq_head || l->sq_head) {
		struct hxs_tcp_conn *c = l->aq_head ? l->aq_head : l->sq_head;
		hxs_tcp_send_rst_conn(c, tcp->now);
		hxs_tcp_close_conn(c, 0);
	}
	hxs_tcp_set_state(l, HXS_TCPS_CLOSED);
}

void hxs_tcp_conn__close(struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = c->tcp;

	hxs_tcp_ack_rest(c);            /* the last ACK's rest before the state moves on */
	c->user_ref = 0;
	c->user_closed = 1;
	switch (c->state) {
	case HXS_TCPS_LISTEN:
		listener_close(c);
		break;
	case HXS_TCPS_CLOSED:
		break;
	case HXS_TCPS_SYN_SENT:
		/* §3.10.4 SYN-SENT: "Delete the TCB" - unless SENDs are queued (close_write())
		 * and no zero linger asks for an abort: they go after the handshake, then the FIN */
		if (!c->snd.len || c->linger_s == 0) {
			hxs_tcp_close_conn(c, 0);
			return;
		}
		c->rd_shut = 1;
		close_write(c);
		break;
	default:
		if (c->rcv.len || c->linger_s == 0) {
			/* Unread data (RFC 2525 §2.17, the kernel's TCPAbortOnClose) or SO_LINGER
			 * with a zero timeout: reset instead of FIN. */
			if (HXS_TCPS_HAVERCVDSYN(c->state) && c->state != HXS_TCPS_TIME_WAIT)
				hxs_tcp_send_rst_conn(c, tcp->now);
			if (c->rcv.len)
				MIB_INC(tcp, TCPAbortOnClose);
			else
				MIB_INC(tcp, TCPAbortOnLinger);
			hxs_tcp_close_conn(c, 0);
			return;
		}
		c->rd_shut = 1;
		close_write(c);
		if (c->state == HXS_TCPS_CLOSED)
			return;
		if (c->state == HXS_TCPS_FIN_WAIT_2)
			hxs_tcp_keep_arm(c, tcp->now);
		hxs_tcp_timewait_shrink(c);
		break;
	}
	hxs_tcp_conn_maybe_free(c);
}

void hxs_tcp_conn__abort(struct hxs_tcp_conn *c)
{
	hxs_tcp_ack_rest(c);            /* the last ACK's rest before the state moves on */
	/* §3.10.5 ABORT: in SYN-RECEIVED and later "Send a reset segment: <SEQ=SND.NXT>
	 * <CTL=RST>"; LISTEN and SYN-SENT just delete the TCB. */
	if (c->state == HXS_TCPS_LISTEN) {
		listener_close(c);
		return;
	}
	if (c->state == HXS_TCPS_CLOSED)
		return;
	if (HXS_TCPS_HAVERCVDSYN(c->state) && c->state != HXS_TCPS_TIME_WAIT)
		hxs_tcp_send_rst_conn(c, c->tcp->now);
	hxs_tcp_close_conn(c, 0);
}

int hxs_tcp_conn__setopt(struct hxs_tcp_conn *c, enum hxs_tcp_opt opt, int val)
{
	hxs_tcp_ack_rest(c);            /* an option changes what the last ACK's rest sees */
	int fresh = c->state == HXS_TCPS_CLOSED && !c->snd.cap;
	switch (opt) {
	case HXS_TCP_O_NODELAY:
		c->nodelay = !!val;
		if (val && c->state != HXS_TCPS_CLOSED)
			hxs_tcp_mark_dirty(c);      /* push what Nagle held back */
		return 0;
	case HXS_TCP_O_KEEPALIVE:
		c->keepalive = !!val;
		if (c->state != HXS_TCPS_CLOSED && c->state != HXS_TCPS_LISTEN)
			hxs_tcp_keep_arm(c, c->tcp->now);
		return 0;
	case HXS_TCP_O_KEEPIDLE:
	case HXS_TCP_O_KEEPINTVL:
		if (val < 1 || val > 32767)
			return -EINVAL;
		if (opt == HXS_TCP_O_KEEPIDLE)
			c->keep_idle_s = (uint32_t)val;
		else
			c->keep_intvl_s = (uint32_t)val;
		if (c->keepalive && c->state != HXS_TCPS_CLOSED && c->state != HXS_TCPS_LISTEN)
			hxs_tcp_keep_arm(c, c->tcp->now);
		return 0;
	case HXS_TCP_O_KEEPCNT:
		if (val < 1 || val > 127)
			return -EINVAL;
		c->keep_cnt = (uint32_t)val;
		return 0;
	case HXS_TCP_O_MAXSEG:
		if (val && (val < 88 || val > 65495))
			return -EINVAL;
		if (!fresh && c->state != HXS_TCPS_LISTEN)
			return -EISCONN;
		c->user_mss = (uint32_t)val;
		return 0;
	case HXS_TCP_O_RCVBUF:
		if (val < 2048)
			val = 2048;
		if (!fresh && c->state != HXS_TCPS_LISTEN)
			return -EISCONN;
		c->rcvbuf_size = (uint32_t)val;
		return 0;
	case HXS_TCP_O_SNDBUF:
		if (val < 2048)
			val = 2048;
		if (c->snd.cap) {
			int err = hxs_tcp_ring__resize(c->tcp, &c->snd, (uint32_t)val);
			if (err)
				return err;
		}
		c->sndbuf_size = (uint32_t)val;
		hxs_tcp_notify(c);
		return 0;
	case HXS_TCP_O_LINGER:
		c->linger_s = val < 0 ? -1 : val;
		return 0;
	case HXS_TCP_O_OOBINLINE:
		c->oobinline = !!val;
		hxs_tcp_notify(c);
		return 0;
	case HXS_TCP_O_TOS:
		/* RFC 3168 §6.1.1 is the core's (tcp_ecn.c): as the kernel's do_ip_setsockopt
		 * for a stream socket, the application's ECN bits are dropped. */
		c->tos = (uint8_t)(val & ~3);
		return 0;
	case HXS_TCP_O_TTL:
		if (val < 0 || val > 255)
			return -EINVAL;
		c->ttl = (uint8_t)val;
		return 0;
	case HXS_TCP_O_QUICKACK:
		/* do_tcp_setsockopt(): 0 enters pingpong mode, else it leaves it and an ACK
		 * that is scheduled goes now (tcp_cleanup_rbuf with ICSK_ACK_PUSHED) */
		c->pingpong = !val;
		if (val && (c->state == HXS_TCPS_ESTABLISHED || c->state == HXS_TCPS_CLOSE_WAIT) &&
		    c->last_ack_sent != c->rcv_nxt) {
			c->ack_now = 1;
			hxs_tcp_mark_dirty(c);
		}
		return 0;
	case HXS_TCP_O_CORK:
		c->cork = !!val;
		if (!val) {
			/* uncorked: what waits goes now, as far as Nagle lets it */
			hxs_wheel__cancel(&c->tcp->wheel, &c->t_cork);
			hxs_tcp_mark_dirty(c);
		}
		return 0;
	case HXS_TCP_O_USER_TIMEOUT:
		/* do_tcp_setsockopt(): "if (val < 0) return -EINVAL" */
		if (val < 0)
			return -EINVAL;
		c->user_timeout_ms = (uint32_t)val;
		return 0;
	}
	return -ENOPROTOOPT;
}

int hxs_tcp_conn__getopt(const struct hxs_tcp_conn *c, enum hxs_tcp_opt opt, int *val)
{
	switch (opt) {
	case HXS_TCP_O_NODELAY: *val = c->nodelay; return 0;
	case HXS_TCP_O_KEEPALIVE: *val = c->keepalive; return 0;
	case HXS_TCP_O_KEEPIDLE: *val = (int)c->keep_idle_s; return 0;
	case HXS_TCP_O_KEEPINTVL: *val = (int)c->keep_intvl_s; return 0;
	case HXS_TCP_O_KEEPCNT: *val = (int)c->keep_cnt; return 0;
	case HXS_TCP_O_MAXSEG:
		*val = (int)(HXS_TCPS_HAVEESTABLISHED(c->state) ? c->mss
				: (c->user_mss ? c->user_mss : c->tcp->cfg.mtu - hxs_tcp_hdrs(c)));
		return 0;
	case HXS_TCP_O_RCVBUF: *val = (int)c->rcvbuf_size; return 0;
	case HXS_TCP_O_SNDBUF: *val = (int)c->sndbuf_size; return 0;
	case HXS_TCP_O_LINGER: *val = c->linger_s; return 0;
	case HXS_TCP_O_OOBINLINE: *val = c->oobinline; return 0;
	case HXS_TCP_O_TOS: *val = c->tos; return 0;
	case HXS_TCP_O_TTL: *val = c->ttl; return 0;
	case HXS_TCP_O_USER_TIMEOUT: *val = (int)c->user_timeout_ms; return 0;
	case HXS_TCP_O_CORK: *val = c->cork; return 0;
	case HXS_TCP_O_QUICKACK: *val = !c->pingpong; return 0;
	}
	return -ENOPROTOOPT;
}

int hxs_tcp_conn__set_cc(struct hxs_tcp_conn *c, const char *name)
{
	hxs_tcp_ack_rest(c);            /* the last ACK goes to the algorithm it came for */
	const struct hxs_cc_ops *ops = hxs_cc_find(name);
	if (!ops)
		return -ENOENT;          /* Linux: "No such file or directory" for an unknown name */
	if (ops == c->cc.ops)
		return 0;
	c->cc.ops = ops;
	/* A connection under way changes algorithm as Linux's tcp_reinit_congestion_control():
	 * the new one starts from its init, with the window in use kept. */
	if (HXS_TCPS_HAVEESTABLISHED(c->state) && c->state != HXS_TCPS_TIME_WAIT) {
		uint32_t cwnd = c->cc.cwnd;

		c->cc.pacing_rate = 0;
		hxs_cc__init(&c->cc, ops, c->tcp->now);
		c->cc.cwnd = cwnd;
	}
	return 0;
}

const char *hxs_tcp_conn__cc(const struct hxs_tcp_conn *c)
{
	return c->cc.ops->name;
}

static const uint8_t linux_state[HXS_TCPS__COUNT] = {
	[HXS_TCPS_CLOSED] = TCP_CLOSE,
	[HXS_TCPS_LISTEN] = TCP_LISTEN,
	[HXS_TCPS_SYN_SENT] = TCP_SYN_SENT,
	[HXS_TCPS_SYN_RECEIVED] = TCP_SYN_RECV,
	[HXS_TCPS_ESTABLISHED] = TCP_ESTABLISHED,
	[HXS_TCPS_CLOSE_WAIT] = TCP_CLOSE_WAIT,
	[HXS_TCPS_FIN_WAIT_1] = TCP_FIN_WAIT1,
	[HXS_TCPS_CLOSING] = TCP_CLOSING,
	[HXS_TCPS_LAST_ACK] = TCP_LAST_ACK,
	[HXS_TCPS_FIN_WAIT_2] = TCP_FIN_WAIT2,
	[HXS_TCPS_TIME_WAIT] = TCP_TIME_WAIT,
};

void hxs_tcp_conn__info(struct hxs_tcp_conn *c, struct hxs_tcp_info *i)
{
	hxs_tcp_ack_rest(c);            /* cwnd, pacing, RACK as the last ACK left them */
	memset(i, 0, sizeof(*i));
	i->state = linux_state[c->state];
	i->rtt_us = c->srtt_us;
	i->rttvar_us = c->rttvar_us;
	i->rto_us = hxs_tcp_rto_backed_off(c);
	i->snd_mss = c->mss;
	i->rcv_mss = c->rcv_mss;
	i->snd_cwnd = c->mss ? c->cc.cwnd / c->mss : 0;
	i->snd_ssthresh = c->cc.ssthresh == UINT32_MAX ? 0x7fffffff : (c->mss ? c->cc.ssthresh / c->mss : 0);
	i->snd_wnd = c->snd_wnd;
	i->rcv_wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? SEQ_DIFF(c->rcv_adv, c->rcv_nxt) : 0;
	uint32_t fl = SEQ_DIFF(c->snd_max, c->snd_una);
	i->unacked = c->mss ? (fl + c->mss - 1) / c->mss : 0;
	i->retransmits = c->backoff;
	i->total_retrans = c->total_retrans;
	i->bytes_acked = c->bytes_acked;
	i->bytes_received = c->bytes_received;
	i->segs_out = c->segs_out;
	i->segs_in = c->segs_in;
	i->bytes_sent = c->bytes_sent;
	/* the send ring holds exactly what is unacked or unsent, the receive ring what is
	 * in order and unread (ss's Send-Q and Recv-Q) */
	i->snd_queue = c->snd.len;
	i->rcv_queue = c->rcv.len;
	/* the kernel's tcp_get_info() fields of the same names, <linux/tcp.h> values */
	if (c->recovery)
		i->ca_state = 3;                        /* TCP_CA_Recovery */
	else if (SEQ_LT(c->snd_una, c->recover) && c->backoff)
		i->ca_state = 4;                        /* TCP_CA_Loss: RTO, recover = snd_max then */
	else if (c->dupacks || c->sb.n)
		i->ca_state = 1;                        /* TCP_CA_Disorder */
	i->options = (uint8_t)((c->ts_ok ? 1 : 0) | (c->sack_ok ? 2 : 0) | (c->ws_ok ? 4 : 0));
	/* TCPI_OPT_ECN: negotiated (after the handshake); TCPI_OPT_ECN_SEEN: an ECT or CE
	 * segment arrived */
	if (c->ecn_ok && HXS_TCPS_HAVEESTABLISHED(c->state))
		i->options |= 8;
	if (c->ecn_seen)
		i->options |= 16;
	i->delivered_ce = c->delivered_ce;
	i->snd_wscale = c->snd_wscale;
	i->rcv_wscale = c->rcv_wscale;
	i->backoff = c->backoff;
	i->probes = c->probes_out > c->keep_probes ? c->probes_out : c->keep_probes;
	i->advmss = c->rcv_mss;
	i->pmtu = hxs_tcp_pmtu_of(c);
	i->reordering = 3;                              /* DupThresh, tcp_recovery.c */
	i->sacked = c->mss ? (c->sb.sacked_bytes + c->mss - 1) / c->mss : 0;
	i->pacing_rate = hxs_tcp_pacing_rate(c);
	i->delivery_rate = c->rate.last_rate;
	i->delivery_rate_app_limited = c->rate.last_rate_app_limited;
	i->min_rtt = c->rate.min_rtt_us;
}

int hxs_tcp_conn__error(struct hxs_tcp_conn *c)
{
	int e = take_error(c);
	hxs_tcp_notify(c);
	return e;
}

int hxs_tcp_conn__state(const struct hxs_tcp_conn *c)
{
	return c->state;
}

void hxs_tcp_conn__set_user(struct hxs_tcp_conn *c, void *user)
{
	c->user = user;
}

void *hxs_tcp_conn__user(const struct hxs_tcp_conn *c)
{
	return c->user;
}

void hxs_tcp_conn__set_mark(struct hxs_tcp_conn *c, uint32_t mark)
{
	c->user_mark = mark;
}

uint32_t hxs_tcp_conn__mark(const struct hxs_tcp_conn *c)
{
	return c->user_mark;
}

void hxs_tcp_conn__tuple(const struct hxs_tcp_conn *c, uint32_t *laddr, uint16_t *lport,
			 uint32_t *raddr, uint16_t *rport)
{
	if (laddr) *laddr = hxs_addr_get4(c->laddr);
	if (lport) *lport = c->lport;
	if (raddr) *raddr = hxs_addr_get4(c->raddr);
	if (rport) *rport = c->rport;
}

void hxs_tcp_conn__tuple_addr(const struct hxs_tcp_conn *c, struct hxs_addr *laddr, uint16_t *lport,
			      struct hxs_addr *raddr, uint16_t *rport)
{
	if (laddr) *laddr = c->laddr;
	if (lport) *lport = c->lport;
	if (raddr) *raddr = c->raddr;
	if (rport) *rport = c->rport;
}

uint32_t hxs_tcp_conn__rx_avail(const struct hxs_tcp_conn *c)
{
	return c->rcv.len;
}

uint32_t hxs_tcp_conn__tx_space(const struct hxs_tcp_conn *c)
{
	return c->snd.cap ? c->snd.cap - c->snd.len : c->sndbuf_size;
}

int hxs_tcp_conn__tx_single(const struct hxs_tcp_conn *c)
{
	return c->snd_una == c->snd_max && c->snd.len <= c->mss;
}
