/* tcp_timer.c - the connection timers, all in the stack's timing wheel (O(1) arm/cancel).
 *
 * hxs_tcp__timers() -> hxs_wheel__run() -> rexmt_fire()   RFC 6298 retransmission, SYN retries
 *                                        -> persist_fire() §3.8.6.1 zero-window probes
 *                                        -> delack_fire()  §3.8.6.3 delayed ACK (40 ms)
 *                                        -> keep_fire()    §3.8.4 keep-alives, FIN_WAIT_2 limit
 *                                        -> tw_fire()      §3.10.7.4 TIME-WAIT 2*MSL
 * Each fire ends with hxs_tcp_output() for what it queued, and hxs_tcp_notify().
 */
#include <errno.h>

#include "tcp_conn.h"

#define RTO_INIT_US   1000000u      /* RFC 6298 §2.1: "sets RTO <- 1 second" */
#define RTO_SYN_US    3000000u      /* RFC 6298 §5.7: "re-initialized to 3 seconds" */
#define RTO_MIN_US    200000u       /* Linux's TCP_RTO_MIN */
#define RTO_MAX_US    120000000u    /* Linux's TCP_RTO_MAX; RFC 6298 §2.5 allows a maximum */
#define DELACK_US     40000u        /* Linux's TCP_DELACK_MIN; §3.8.6.3 "less than 0.5 s" */
#define RTO_G_US      1000u         /* clock granularity G: the 1 ms timestamp clock */

uint32_t hxs_tcp_rto_backed_off(const struct hxs_tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_us << (c->backoff < 20 ? c->backoff : 20);
	return rto > RTO_MAX_US ? RTO_MAX_US : (uint32_t)rto;
}

void hxs_tcp_rexmt_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	hxs_wheel__arm(&c->tcp->wheel, &c->t_rexmt, now + hxs_tcp_rto_backed_off(c));
}

void hxs_tcp_rexmt_restart(struct hxs_tcp_conn *c, uint64_t now)
{
	/* RFC 6298 §5.2: "When all outstanding data has been acknowledged, turn off the
	 * retransmission timer." §5.3: "When an ACK is received that acknowledges new data,
	 * restart the retransmission timer". */
	if (c->snd_una == c->snd_max)
		hxs_wheel__cancel(&c->tcp->wheel, &c->t_rexmt);
	else
		hxs_tcp_rexmt_arm(c, now);
}

void hxs_tcp_rtt_sample(struct hxs_tcp_conn *c, uint32_t r)
{
	if (!r)
		r = 1;
	if (!c->srtt_us) {
		/* RFC 6298 §2.2: "SRTT <- R, RTTVAR <- R/2". */
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		/* §2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
		 *        SRTT <- (1 - alpha) * SRTT + alpha * R'", alpha 1/8, beta 1/4. */
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
		if (!c->srtt_us)
			c->srtt_us = 1;
	}
	/* "RTO <- SRTT + max (G, K*RTTVAR)", K = 4, then the floor (§2.4 allows it). */
	uint64_t rto = (uint64_t)c->srtt_us + (4 * c->rttvar_us > RTO_G_US ? 4 * c->rttvar_us : RTO_G_US);
	if (rto < RTO_MIN_US)
		rto = RTO_MIN_US;
	if (rto > RTO_MAX_US)
		rto = RTO_MAX_US;
	c->rto_us = (uint32_t)rto;
	/* §5.7 note: the backoff is kept until a new sample is taken; it is one now. */
	c->backoff = 0;
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
	if (c->snd_wnd == 0) {
		/* The peer closed its window: what is outstanding waits for it to open again;
		 * probing is the persist timer's job (§3.8.6.1), not a loss. */
		c->snd_nxt = c->snd_una;
		hxs_tcp_persist_arm(c, now);
		return;
	}
	if (c->backoff >= tcp->cfg.retries2) {
		MIB_INC(tcp, TCPAbortOnTimeout);
		hxs_tcp_close_conn(c, ETIMEDOUT);
		return;
	}
	MIB_INC(tcp, TCPTimeouts);
	/* RFC 6298 §5.5: "The host MUST set RTO <- RTO * 2 ("back off the timer")". */
	c->backoff++;
	/* Karn: no RTT sample from a retransmitted segment. */
	c->rtt_timing = 0;
	hxs_tcp_recovery_on_rto(c, now);
	/* §5.4: "Retransmit the earliest segment that has not been acknowledged"; we go back
	 * to snd_una and let slow start resend (RFC 5681 §3.1). */
	c->snd_nxt = c->snd_una;
	hxs_tcp_output(c, now);
	hxs_tcp_rexmt_arm(c, now);                  /* §5.6 */
	hxs_tcp_notify(c);
}

void hxs_tcp_persist_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	uint64_t d = (uint64_t)(c->rto_us < RTO_MIN_US ? RTO_MIN_US : c->rto_us)
		     << (c->persist_shift < 20 ? c->persist_shift : 20);
	if (d > RTO_MAX_US)
		d = RTO_MAX_US;
	hxs_wheel__arm(&c->tcp->wheel, &c->t_persist, now + d);
}

static void persist_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_persist);
	struct hxs_tcp *tcp = c->tcp;
	uint32_t end = hxs_tcp_snd_end(c);

	if (!HXS_TCPS_HAVEESTABLISHED(c->state) || !SEQ_LT(c->snd_nxt, end) || c->snd_nxt != c->snd_una)
		return;
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
	} else {
		/* §3.8.6.2.1 override timeout: send what the window allows even if small. */
		uint32_t len = SEQ_DIFF(end, c->snd_nxt);
		if (len > c->snd_wnd)
			len = c->snd_wnd;
		if (len > c->mss)
			len = c->mss;
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
}

void hxs_tcp_delack_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	if (!hxs_timer__armed(&c->t_delack))
		hxs_wheel__arm(&c->tcp->wheel, &c->t_delack, now + DELACK_US);
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

void hxs_tcp_keep_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_wheel *w = &c->tcp->wheel;
	if (c->user_closed && c->state == HXS_TCPS_FIN_WAIT_2) {
		hxs_wheel__arm(w, &c->t_keep, now + (uint64_t)c->tcp->cfg.fin_timeout_s * 1000000);
		return;
	}
	if (!c->keepalive || !HXS_TCPS_HAVEESTABLISHED(c->state) || c->state == HXS_TCPS_TIME_WAIT) {
		hxs_wheel__cancel(w, &c->t_keep);
		return;
	}
	c->keep_probes = 0;
	hxs_wheel__arm(w, &c->t_keep, c->last_rcv + (uint64_t)c->keep_idle_s * 1000000);
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
	if (c->keep_probes >= c->keep_cnt) {
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

void hxs_tcp_timewait_start(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_wheel *w = &c->tcp->wheel;
	hxs_wheel__cancel(w, &c->t_rexmt);
	hxs_wheel__cancel(w, &c->t_persist);
	hxs_wheel__cancel(w, &c->t_keep);
	hxs_wheel__cancel(w, &c->t_delack);
	/* §3.10.7.4: "restart the 2 MSL time-wait timeout". */
	hxs_wheel__arm(w, &c->t_2msl, now + 2ull * c->tcp->cfg.msl_ms * 1000);
	hxs_tcp_timewait_shrink(c);
}

void hxs_tcp_timewait_shrink(struct hxs_tcp_conn *c)
{
	/* Nothing is sent or received in TIME-WAIT: once the application has let go, the
	 * buffers go and the 2 MSL cost only the connection object. */
	if (c->state == HXS_TCPS_TIME_WAIT && !c->user_ref && c->snd.buf) {
		hxs_tcp_ring__free(&c->snd);
		hxs_tcp_ring__free(&c->rcv);
	}
}

static void tw_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, t_2msl);
	(void)now;
	/* §3.10.8: "If the time-wait timeout expires on a connection, delete the TCB, enter
	 * the CLOSED state, and return." */
	hxs_tcp_close_conn(c, 0);
}

void hxs_tcp_rto_syn_reinit(struct hxs_tcp_conn *c)
{
	/* RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
	 * implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized
	 * to 3 seconds when data transmission begins (i.e., after the three-way handshake
	 * completes)." Only while no RTT sample exists: a sample sets the RTO itself. */
	if (c->syn_rto && !c->srtt_us && c->rto_us < RTO_SYN_US)
		c->rto_us = RTO_SYN_US;
}

void hxs_tcp_timers_init(struct hxs_tcp_conn *c)
{
	hxs_timer__init(&c->t_rexmt, rexmt_fire);
	hxs_timer__init(&c->t_persist, persist_fire);
	hxs_timer__init(&c->t_delack, delack_fire);
	hxs_timer__init(&c->t_keep, keep_fire);
	hxs_timer__init(&c->t_2msl, tw_fire);
	c->rto_us = RTO_INIT_US;
}

void hxs_tcp_timers_cancel(struct hxs_tcp_conn *c)
{
	struct hxs_wheel *w = &c->tcp->wheel;
	hxs_wheel__cancel(w, &c->t_rexmt);
	hxs_wheel__cancel(w, &c->t_persist);
	hxs_wheel__cancel(w, &c->t_delack);
	hxs_wheel__cancel(w, &c->t_keep);
	hxs_wheel__cancel(w, &c->t_2msl);
}
