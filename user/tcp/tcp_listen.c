/* tcp_listen.c - the passive open: a segment for a listener (RFC 9293 §3.10.7.2) and the
 * SYN-RECEIVED child it makes.
 *
 * hxs_tcp_listen_input()   from tcp_input.c listen_input() (the demux found a listener,
 *                          hxs_tcp_lookup_listener): "first" RST: ignored; "second" ACK:
 *   -> hxs_tcp_syncookie_ack() (tcp_syncookie.c), a cookie of ours -> cookie_open():
 *      child_admit() -> child_new(), the SYN-RECEIVED state from the cookie, child_enter();
 *      the child goes back to the caller, which runs the ACK through conn_input(): it
 *      completes the handshake (ESTABLISHED, accept queue); any other ACK: RST
 *   "third" SYN: queues full -> ListenOverflows, or a SYN cookie (hxs_tcp_syncookie_syn);
 *      else child_admit() -> child_new(), IRS, ISS (hxs_tcp_isn, or the TIME-WAIT reuse's),
 *      hxs_tcp_syn_options() (tcp_process.c), hxs_tcp_ecn_syn_in(), child_enter() (4-tuple
 *      table, SYN queue, SYN-RECEIVED) -> hxs_tcp_output(): the SYN,ACK
 * The child's next segments find it in the 4-tuple table: tcp_process.c takes the handshake's
 * ACK (ack_syn_received: ESTABLISHED, the accept queue).
 */
#include "hxs/syncookie.h"
#include "tcp_conn.h"
#include "tcp_input.h"

static struct hxs_tcp_conn *child_new(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s)
{
	struct hxs_tcp_conn *c = hxs_tcp_conn_alloc(l->tcp);
	if (!c) {
		MIB_INC(l->tcp, ListenDrops);
		return NULL;
	}
	c->laddr = s->daddr;
	c->lport = s->dport;
	c->raddr = s->saddr;
	c->rport = s->sport;
	c->passive = 1;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->keep_idle_s = l->keep_idle_s;
	c->keep_intvl_s = l->keep_intvl_s;
	c->keep_cnt = l->keep_cnt;
	c->linger_s = l->linger_s;
	c->user_mss = l->user_mss;
	c->sndbuf_size = l->sndbuf_size;
	c->rcvbuf_size = l->rcvbuf_size;
	c->cc.ops = l->cc.ops;
	c->rk.mode = l->rk.mode;
	c->oobinline = l->oobinline;           /* socket options the kernel's clone copies */
	c->tos = l->tos;
	c->ttl = l->ttl;        /* inet_csk_clone_lock copies the listener's uc_ttl */
	c->user_timeout_ms = l->user_timeout_ms;   /* ... and icsk_user_timeout */
	hxs_tcp_conn_setup(c);
	return c;
}

/* A child within the stack's connection limit (hxs_tcp_admit), or NULL counted ListenDrops. */
static struct hxs_tcp_conn *child_admit(struct hxs_tcp *tcp, struct hxs_tcp_conn *l,
					const struct hxs_tcp_seg *s)
{
	if (hxs_tcp_admit(tcp) < 0) {
		MIB_INC(tcp, ListenDrops);
		return NULL;
	}
	return child_new(l, s);
}

/* A child made by child_admit() enters the 4-tuple table and the listener's SYN queue in
 * SYN-RECEIVED (the SYN path and the cookie ACK path). Without a table entry - no steering
 * entry: the peer's next segments would reach the kernel, not us - it is destroyed and the
 * segment dropped as a full queue would drop it (ListenDrops); the peer may try again. */
static int child_enter(struct hxs_tcp_conn *l, struct hxs_tcp_conn *c)
{
	struct hxs_tcp *tcp = l->tcp;

	if (hxs_tcp_hash_insert(c) < 0) {
		MIB_INC(tcp, ListenDrops);
		hxs_tcp_conn_destroy(c);
		return -1;
	}
	hxs_tcp_synq_add(l, c);
	hxs_tcp_set_state(c, HXS_TCPS_SYN_RECEIVED);
	MIB_INC(tcp, TcpPassiveOpens);
	return 0;
}

/* An ACK with a valid SYN cookie (RFC 4987 §3.6): the SYN-RECEIVED state the SYN-ACK would
 * have made (§3.10.7.2) from the cookie - IRS = SEG.SEQ - 1, ISS = the cookie, the options
 * the SYN asked for as decoded. Returns the child, for the caller to run the ACK itself
 * through conn_input(), which completes the handshake (ESTABLISHED, accept queue, its data
 * taken); NULL if the ACK was dropped. */
static struct hxs_tcp_conn *cookie_open(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s,
					const struct hxs_sc_opts *o, uint64_t now)
{
	struct hxs_tcp *tcp = l->tcp;
	struct hxs_sc_local loc;

	/* the accept queue is full: drop the ACK as for a handshake from the queue */
	if (l->acceptq_len > l->backlog) {
		MIB_INC(tcp, ListenOverflows);
		MIB_INC(tcp, ListenDrops);
		return NULL;
	}
	struct hxs_tcp_conn *c = child_admit(tcp, l, s);
	if (!c)
		return NULL;
	hxs_tcp_conn__cookie_local(l, &loc);
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->rcv_adv = c->rcv_nxt + loc.win;
	c->iss = s->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_buf_seq = c->iss + 1;
	c->peer_mss = o->mss;
	if (c->ws_ok && o->ws_ok) {
		c->snd_wscale = o->ws;
	} else {
		c->ws_ok = 0;
		c->snd_wscale = c->rcv_wscale = 0;
	}
	c->sack_ok = c->sack_ok && o->sack_ok;
	c->ts_ok = c->ts_ok && o->ts_ok;
	if (c->ts_ok) {
		c->ts_recent = s->opt.tsval;
		c->ts_recent_age = now;
		/* our TSvals go on from the SYN-ACK's (the TSecr echoes it): never below it
		 * (PAWS at the peer, RFC 7323 §5.3) */
		c->ts_offset = s->opt.tsecr - (uint32_t)(now / 1000);
	} else {
		c->ts_offset = hxs_isn_addr(&tcp->isn, c->laddr, 0, c->raddr, 0, 0);
	}
	hxs_tcp_set_mss(c);
	c->syn_rxt = 1;                        /* no timing of a SYN-ACK we did not keep */
	c->last_send = now;
	c->last_rcv = now;
	if (child_enter(l, c) < 0)
		return NULL;
	return c;
}

/* §3.10.7.2 LISTEN. tw_iss: not 0 when the SYN reopens a TIME-WAIT connection, the ISS
 * to use. Returns the child an ACK with a SYN cookie opened (cookie_open()), for the caller
 * to run that ACK through conn_input(); else NULL. */
struct hxs_tcp_conn *hxs_tcp_listen_input(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s,
					  uint64_t now, uint32_t tw_iss)
{
	struct hxs_tcp *tcp = l->tcp;
	/* "first, check for a RST: An incoming RST segment could not be valid since it could
	 * not have been sent in response to anything sent by this incarnation ... ignore". */
	if (s->flags & HXS_TH_RST)
		return NULL;
	/* "second, check for an ACK: ... should be reset ... <SEQ=SEG.ACK><CTL=RST>" - unless
	 * it carries a SYN cookie of ours (RFC 4987 §3.6): then it opens the connection. */
	if (s->flags & HXS_TH_ACK) {
		struct hxs_sc_opts o;
		if (!(s->flags & HXS_TH_SYN) && hxs_tcp_syncookie_ack(l, s, now, &o) > 0) {
			return cookie_open(l, s, &o, now);
		}
		hxs_tcp_send_rst(tcp, s->daddr, s->saddr, s->dport, s->sport, s->ack, 0, 0);
		return NULL;
	}
	/* "third, check for a SYN" (anything else: "drop the segment and return"). */
	if (!(s->flags & HXS_TH_SYN))
		return NULL;
	/* The kernel's queues are full when they hold MORE than the backlog
	 * (sk_acceptq_is_full, inet_csk_reqsk_queue_is_full: listen(fd, 0) takes one
	 * connection); the SYN queue also stops at tcp_max_syn_backlog. A full SYN queue
	 * answers with a SYN cookie (tcp_syncookie.c) unless cookies are off. */
	if (l->acceptq_len > l->backlog) {
		MIB_INC(tcp, ListenOverflows);
		MIB_INC(tcp, ListenDrops);
		return NULL;
	}
	if (l->synq_len > l->backlog || l->synq_len >= tcp->cfg.max_syn_backlog) {
		hxs_tcp_synq_pressure(l, 1);
		if (hxs_tcp_syncookie_syn(l, s, now) == 0)
			return NULL;
		MIB_INC(tcp, TCPReqQFullDrop);
		MIB_INC(tcp, ListenDrops);
		return NULL;
	}
	struct hxs_tcp_conn *c = child_admit(tcp, l, s);
	if (!c)
		return NULL;
	/* "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS should be selected and a
	 * SYN segment sent of the form <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to
	 * ISS+1 and SND.UNA to ISS. The connection state should be changed to SYN-RECEIVED." */
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tw_iss ? tw_iss : hxs_tcp_isn(tcp, c->laddr, c->lport, c->raddr, c->rport, now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	/* RFC 7323 §5.4 / RFC 6191: one keyed offset per host pair (Linux's secure_tcp_ts_off),
	 * so timestamps grow across connections and a peer in TIME_WAIT accepts our new SYN. */
	c->ts_offset = hxs_isn_addr(&tcp->isn, c->laddr, 0, c->raddr, 0, 0);
	hxs_tcp_syn_options(c, s, now);
	hxs_tcp_ecn_syn_in(c, s);              /* RFC 3168 §6.1.1 (tcp_ecn.c) */
	c->snd_wnd = s->wnd;                   /* SYN windows are never scaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	c->last_rcv = now;
	if (child_enter(l, c) < 0)
		return NULL;
	c->segs_in++;
	hxs_tcp_output(c, now);
	return NULL;
}
