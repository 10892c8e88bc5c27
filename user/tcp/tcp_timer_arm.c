/* tcp_timer_arm.c - setting a connection's timers in the stack's timing wheel (O(1) arm and
 * cancel), and the RFC 6298 retransmission timeout they are set from. What an expiry does is
 * tcp_timer.c's; this file never calls it.
 *
 * hxs_tcp_conn_alloc() -> hxs_tcp_timers_init()   binds the expiry handlers the instance holds
 * output / recovery / timers -> hxs_tcp_rexmt_arm()       RFC 6298 §5.1, §5.6
 * input -> hxs_tcp_rexmt_restart()                        §5.2, §5.3
 * input -> hxs_tcp_rtt_sample() -> RTO                    §2; hxs_tcp_rto_syn_reinit() §5.7
 * output / timers -> hxs_tcp_persist_arm()                §3.8.6.1 zero-window probes
 * input -> hxs_tcp_delack_arm()                           §3.8.6.3 delayed ACK (40 ms)
 * input / user calls -> hxs_tcp_keep_arm()                §3.8.4 keep-alives, FIN_WAIT_2 limit
 * input -> hxs_tcp_timewait_start()                       §3.10.7.4 TIME-WAIT 2*MSL
 * hxs_tcp_close_conn() -> hxs_tcp_timers_cancel()
 */
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

/* The retransmission, PTO and delayed-ACK timers are set and stopped on nearly every segment
 * and rarely expire: they are set and stopped lazily (timer_wheel.h), the wheel entry kept and
 * its deadline checked when it comes up, as Linux does for its retransmission timer. */
void hxs_tcp_rexmt_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	hxs_wheel__arm_lazy(&c->tcp->wheel, &c->t_rexmt, now + hxs_tcp_rto_backed_off(c));
}

void hxs_tcp_rexmt_restart(struct hxs_tcp_conn *c, uint64_t now)
{
	/* RFC 6298 §5.2: "When all outstanding data has been acknowledged, turn off the
	 * retransmission timer." §5.3: "When an ACK is received that acknowledges new data,
	 * restart the retransmission timer". */
	if (c->snd_una == c->snd_max)
		hxs_wheel__cancel_lazy(&c->tcp->wheel, &c->t_rexmt);
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
		 *        SRTT <- (1 - alpha) * SRTT + alpha * R'", alpha 1/8, beta 1/4. In 64
		 * bits: samples reach 2^31 us, and 7 * SRTT or 3 * RTTVAR would wrap 32. The
		 * results are averages of values below 2^32, so they fit again. */
		uint64_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (uint32_t)((3ull * c->rttvar_us + d) / 4);
		c->srtt_us = (uint32_t)((7ull * c->srtt_us + r) / 8);
		if (!c->srtt_us)
			c->srtt_us = 1;
	}
	/* "RTO <- SRTT + max (G, K*RTTVAR)", K = 4, then the floor (§2.4 allows it). */
	uint64_t var4 = 4ull * c->rttvar_us;
	uint64_t rto = (uint64_t)c->srtt_us + (var4 > RTO_G_US ? var4 : RTO_G_US);
	if (rto < RTO_MIN_US)
		rto = RTO_MIN_US;
	if (rto > RTO_MAX_US)
		rto = RTO_MAX_US;
	c->rto_us = (uint32_t)rto;
	/* §5.7 note: the backoff is kept until a new sample is taken; it is one now. */
	c->backoff = 0;
}

void hxs_tcp_persist_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	uint64_t d = (uint64_t)(c->rto_us < RTO_MIN_US ? RTO_MIN_US : c->rto_us)
		     << (c->persist_shift < 20 ? c->persist_shift : 20);
	if (d > RTO_MAX_US)
		d = RTO_MAX_US;
	hxs_wheel__arm(&c->tcp->wheel, &c->t_persist, now + d);
}

void hxs_tcp_delack_arm(struct hxs_tcp_conn *c, uint64_t now)
{
	if (!hxs_timer__armed(&c->t_delack))
		hxs_wheel__arm_lazy(&c->tcp->wheel, &c->t_delack, now + DELACK_US);
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

void hxs_tcp_timewait_start(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_wheel *w = &c->tcp->wheel;
	hxs_wheel__cancel(w, &c->t_rexmt);
	hxs_wheel__cancel(w, &c->t_persist);
	hxs_wheel__cancel(w, &c->t_keep);
	hxs_wheel__cancel(w, &c->t_delack);
	hxs_tcp_rack_stop(c);
	hxs_wheel__cancel(w, &c->t_pace);
	/* §3.10.7.4: "restart the 2 MSL time-wait timeout". */
	hxs_wheel__arm(w, &c->t_2msl, now + 2ull * c->tcp->cfg.msl_ms * 1000);
	hxs_tcp_timewait_shrink(c);
}

void hxs_tcp_timewait_shrink(struct hxs_tcp_conn *c)
{
	/* Nothing is sent or received in TIME-WAIT: once the application has let go, the
	 * buffers go and the 2 MSL cost only the connection object. */
	if (c->state == HXS_TCPS_TIME_WAIT && !c->user_ref && c->snd.cap) {
		hxs_tcp_reass_clear(c);
		hxs_tcp_rack_free(c);
		hxs_tcp_ring__free(c->tcp, &c->snd);
		hxs_tcp_ring__free(c->tcp, &c->rcv);
	}
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
	const struct hxs_tcp_timer_fns *fn = c->tcp->timer_fns;
	hxs_timer__init(&c->t_rexmt, fn->rexmt);
	hxs_timer__init(&c->t_persist, fn->persist);
	hxs_timer__init(&c->t_delack, fn->delack);
	hxs_timer__init(&c->t_keep, fn->keep);
	hxs_timer__init(&c->t_2msl, fn->tw);
	hxs_timer__init(&c->t_pace, fn->pace);
	hxs_timer__init(&c->t_cork, fn->cork);
	c->rto_us = RTO_INIT_US;
}

void hxs_tcp_timers_cancel(struct hxs_tcp_conn *c)
{
	struct hxs_wheel *w = &c->tcp->wheel;
	hxs_wheel__cancel(w, &c->t_rexmt);
	hxs_wheel__cancel(w, &c->t_persist);
	hxs_wheel__cancel(w, &c->t_delack);
	hxs_wheel__cancel(w, &c->t_pace);
	hxs_wheel__cancel(w, &c->t_cork);
	hxs_wheel__cancel(w, &c->t_keep);
	hxs_wheel__cancel(w, &c->t_2msl);
	hxs_tcp_rack_stop(c);
}
