/* tcp_timer.c - what happens when a connection timer expires. Arming the timers, and the RTO
 * they run on, is tcp_timer_arm.c's.
 *
 * hxs_tcp__timers() -> hxs_wheel__run() -> rexmt_fire()   RFC 6298 retransmission, SYN retries,
 *                                                          orphans reset when memory is used up
 *                                        -> persist_fire() §3.8.6.1 zero-window probes (data or FIN)
 *                                        -> delack_fire()  §3.8.6.3 delayed ACK (40 ms)
 *                                        -> keep_fire()    §3.8.4 keep-alives, FIN_WAIT_2 limit
 *                                        -> tw_fire()      §3.10.7.4 TIME-WAIT 2*MSL
 * A fire sends through hxs_tcp_output() (rexmt, delack) or hxs_tcp_send_seg() (probes),
 * re-arms through tcp_timer_arm.c, and ends a connection with hxs_tcp_close_conn().
 * hxs_tcp__new() gives the instance hxs_tcp_timer_fns; hxs_tcp_timers_init() binds them.
 */
#include <errno.h>

#include "tcp_conn.h"

/* An orphan (the application closed it) with data outstanding while the buffer memory is
 * used up: reset it and give its memory back, as the kernel's tcp_out_of_resources() does
 * from the retransmission and probe timers (TCPAbortOnMemory). 1 if it went. */
static int orphan_out_of_memory(struct hxs_tcp_conn *c, uint64_t now)
{
	if (!c->user_closed || !hxs_tcp_mem_exhausted(c->tcp))
		return 0;
	MIB_INC(c->tcp, TCPAbortOnMemory);
	hxs_tcp_send_rst_conn(c, now);
	hxs_tcp_close_conn(c, 0);
	return 1;
}

/* TCP_USER_TIMEOUT (RFC 5482 §3; Linux's tcp_clamp_rto_to_user_timeout and
 * tcp_clamp_probe0_to_user_timeout): the timer t, armed for its usual delay, fires no later
 * than the user timeout counted from start, so the abort comes when the time is up, not at
 * the next backed-off timeout. */
static void user_timeout_clamp(struct hxs_tcp_conn *c, struct hxs_timer *t, uint64_t start,
			       uint64_t when, uint64_t now)
{
	if (c->user_timeout_ms) {
		uint64_t end = start + (uint64_t)c->user_timeout_ms * 1000;

		if (end < when)
			when = end > now ? end : now + 1;
	}
	hxs_wheel__arm(&c->tcp->wheel, t, when);
}

/* RFC 5482 §3: "the maximum amount of time that transmitted data may remain unacknowledged
 * before TCP will forcefully close the connection"; since is when it began (Linux's
 * retransmits_timed_out with a user timeout: that time alone decides, not tcp_retries2). */
static int user_timed_out(const struct hxs_tcp_conn *c, uint64_t since, uint64_t now)
{
	return c->user_timeout_ms && now - since >= (uint64_t)c->user_timeout_ms * 1000;
}

static void rexmt_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_rexmt);
	struct hxs_tcp *tcp = c->tcp;

	switch (c->state) {
	case HXS_TCPS_SYN_SENT:
	case HXS_TCPS_SYN_RECEIVED: {
		uint32_t max = c->state == HXS_TCPS_SYN_SENT || !c->passive ? tcp->cfg.syn_retries
									     : tcp->cfg.synack_retries;
		if (c->backoff >= max) {
			/* SYN retries exhausted: the kernel reports ETIMEDOUT. */
			if (c->state == HXS_TCPS_SYN_SENT || !c->passive)
				MIB_INC(tcp, TcpAttemptFails);
			hxs_tcp_close_conn(c, ETIMEDOUT);
			return;
		}
		c->backoff++;
		c->syn_rxt = 1;
		c->syn_rto = 1;
		MIB_INC(tcp, TCPTimeouts);
		c->snd_nxt = c->iss;             /* output sends the SYN again */
		hxs_tcp_output(c, now);
		hxs_tcp_rexmt_arm(c, now);
		return;
	}
	default:
		break;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (orphan_out_of_memory(c, now))
		return;
	if (c->snd_wnd == 0) {
		/* The peer closed its window: what is outstanding waits for it to open again;
		 * probing is the persist timer's job (§3.8.6.1), not a loss. */
		c->snd_nxt = c->snd_una;
		hxs_tcp_persist_arm(c, now);
		return;
	}
	if (c->user_timeout_ms ? user_timed_out(c, c->una_since, now)
			       : c->backoff >= tcp->cfg.retries2) {
		MIB_INC(tcp, TCPAbortOnTimeout);
		hxs_tcp_close_conn(c, ETIMEDOUT);
		return;
	}
	MIB_INC(tcp, TCPTimeouts);
	hxs_tcp_pmtu_on_rto(c);                     /* RFC 4821 §7.5 black hole (tcp_pmtu.c) */
	/* RFC 6298 §5.5: "The host MUST set RTO <- RTO * 2 ("back off the timer")". */
	c->backoff++;
	/* Karn: no RTT sample from a retransmitted segment. */
	c->rtt_timing = 0;
	hxs_tcp_recovery_on_rto(c, now);
	/* §5.4: "Retransmit the earliest segment that has not been acknowledged"; we go back
	 * to snd_una and let slow start resend (RFC 5681 §3.1). With RACK the records marked
	 * lost are retransmitted from the lowest (tcp_rack.c), SND.NXT stays. */
	if (!c->rk.on)
		c->snd_nxt = c->snd_una;
	hxs_tcp_output(c, now);
	/* §5.6, cut short by TCP_USER_TIMEOUT */
	user_timeout_clamp(c, &c->t_rexmt, c->una_since, now + hxs_tcp_rto_backed_off(c), now);
	hxs_tcp_notify(c);
}

static void persist_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_persist);
	struct hxs_tcp *tcp = c->tcp;
	uint32_t end = hxs_tcp_snd_end(c);
	/* A FIN waiting for the window is probed for like data, and given up on like data: a
	 * connection whose peer never reopens its window, or whose window update was lost, would
	 * otherwise sit in FIN-WAIT-1 or LAST-ACK forever. */
	int fin_left = hxs_tcp_fin_waits(c);

	if (!HXS_TCPS_HAVEESTABLISHED(c->state) || c->snd_nxt != c->snd_una ||
	    (!SEQ_LT(c->snd_nxt, end) && !fin_left))
		return;
	if (orphan_out_of_memory(c, now))
		return;
	/* TCP_USER_TIMEOUT bounds the probing of a closed window even when the peer answers
	 * every probe (Linux's tcp_probe_timer: from the first probe timer fire, reset when the
	 * window opens or new data is acknowledged). */
	if (!c->probe_since) {
		c->probe_since = now;
	} else if (user_timed_out(c, c->probe_since, now)) {
		MIB_INC(tcp, TCPAbortOnTimeout);
		hxs_tcp_close_conn(c, ETIMEDOUT);
		return;
	}
	/* Abort only when probes go unanswered (probes_out is reset by every ACK), like
	 * Linux's tcp_probe_timer; a live peer may keep its window closed forever. */
	if (c->probes_out >= tcp->cfg.retries2) {
		MIB_INC(tcp, TCPAbortOnTimeout);
		hxs_tcp_close_conn(c, ETIMEDOUT);
		return;
	}
	if (c->snd_wnd == 0) {
		/* §3.8.6.1: "The sending TCP peer must regularly transmit at least one octet
		 * of new data (if available), or retransmit to the receiver one octet of
		 * previously acknowledged data"; like Linux we send the ACK whose sequence is
		 * one below SND.UNA, which always draws an ACK with the current window. */
		hxs_tcp_send_seg(c, c->snd_una - 1, HXS_TH_ACK, 0, now);
		MIB_INC(tcp, TCPWinProbe);
		c->probes_out++;
	} else if (fin_left) {
		/* The window is open again (its update did not reach output): the FIN goes. */
		if (hxs_tcp_send_seg(c, c->snd_nxt, HXS_TH_ACK | HXS_TH_FIN, 0, now) == 0) {
			if (SEQ_GT(c->snd_max, end)) {
				MIB_INC(tcp, TcpRetransSegs);
				c->total_retrans++;
			}
			c->snd_nxt = c->snd_max = end + 1;
			hxs_tcp_rexmt_arm(c, now);
			return;
		}
	} else {
		/* §3.8.6.2.1 override timeout: send what the window allows even if small. */
		uint32_t len = SEQ_DIFF(end, c->snd_nxt);
		if (len > c->snd_wnd)
			len = c->snd_wnd;
		if (len > hxs_tcp_send_mss(c))     /* RFC 9293 §3.7.1: room for SACK blocks */
			len = hxs_tcp_send_mss(c);
		if (hxs_tcp_send_seg(c, c->snd_nxt, HXS_TH_ACK | HXS_TH_PSH, len, now) == 0) {
			c->snd_nxt += len;
			if (SEQ_GT(c->snd_nxt, c->snd_max))
				c->snd_max = c->snd_nxt;
			hxs_tcp_rexmt_arm(c, now);
			return;
		}
	}
	c->persist_shift++;
	hxs_tcp_persist_arm(c, now);
	if (c->user_timeout_ms && hxs_timer__armed(&c->t_persist))
		user_timeout_clamp(c, &c->t_persist, c->probe_since, c->t_persist.expires, now);
}

static void delack_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_delack);
	if (c->last_ack_sent == c->rcv_nxt)
		return;
	MIB_INC(c->tcp, DelayedACKs);
	c->ack_now = 1;
	hxs_tcp_output(c, now);
}

static void keep_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_keep);
	struct hxs_tcp *tcp = c->tcp;
	if (c->user_closed && c->state == HXS_TCPS_FIN_WAIT_2) {
		/* Orphaned FIN_WAIT_2 does not wait forever (Linux tcp_fin_timeout). */
		hxs_tcp_close_conn(c, 0);
		return;
	}
	if (!c->keepalive || !HXS_TCPS_HAVEESTABLISHED(c->state) || c->state == HXS_TCPS_TIME_WAIT)
		return;
	uint64_t idle_us = (uint64_t)c->keep_idle_s * 1000000;
	/* §3.8.4: keep-alives only on an idle connection; any segment received resets. */
	if (now - c->last_rcv < idle_us && c->keep_probes == 0) {
		hxs_wheel__arm(&tcp->wheel, t, c->last_rcv + idle_us);
		return;
	}
	if (c->snd_una != c->snd_max || SEQ_LT(c->snd_nxt, hxs_tcp_snd_end(c))) {
		hxs_wheel__arm(&tcp->wheel, t, now + idle_us);    /* data pending: RTO's job */
		return;
	}
	/* tcp_keepalive_timer(): with TCP_USER_TIMEOUT, the time since the peer was last heard
	 * from decides once a probe went unanswered, not TCP_KEEPCNT */
	if (c->user_timeout_ms ? c->keep_probes > 0 && user_timed_out(c, c->last_rcv, now)
			       : c->keep_probes >= c->keep_cnt) {
		hxs_tcp_send_rst_conn(c, now);
		MIB_INC(tcp, TCPAbortOnTimeout);
		hxs_tcp_close_conn(c, ETIMEDOUT);
		return;
	}
	/* §3.8.4: "sending a segment with SEG.SEQ = SND.NXT-1 ... with or without one garbage
	 * octet of data". */
	hxs_tcp_send_seg(c, c->snd_una - 1, HXS_TH_ACK, 0, now);
	c->keep_probes++;
	MIB_INC(tcp, TCPKeepAliveProbes);
	hxs_wheel__arm(&tcp->wheel, t, now + (uint64_t)c->keep_intvl_s * 1000000);
}

static void tw_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_2msl);
	(void)now;
	/* §3.10.8: "If the time-wait timeout expires on a connection, delete the TCB, enter
	 * the CLOSED state, and return." */
	hxs_tcp_close_conn(c, 0);
}

/* The pacing timer (tcp_pacing.c): the next segment's time came, output may go on. */
static void pace_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_pace);

	(void)now;
	hxs_tcp_mark_dirty(c);
}

/* TCP_CORK's ceiling (tcp(7): "a 200 millisecond ceiling on the time for which output is
 * corked"): the partial segment held that long goes. */
static void cork_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_cork);

	(void)now;
	c->cork_push = 1;
	hxs_tcp_mark_dirty(c);
}

const struct hxs_tcp_timer_fns hxs_tcp_timer_fns = {
	.rexmt = rexmt_fire,
	.persist = persist_fire,
	.delack = delack_fire,
	.keep = keep_fire,
	.tw = tw_fire,
	.rack = hxs_tcp_rack_fire,      /* tcp_rack_timer.c */
	.pace = pace_fire,
	.cork = cork_fire,
};
