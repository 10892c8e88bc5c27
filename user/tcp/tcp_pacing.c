/* tcp_pacing.c - spacing a connection's data segments at its pacing rate (sans I/O: the core
 * reads no clock; the time of the next segment is a deadline on the core's timer wheel, which
 * the stack's loop sleeps or turns until, hxs_tcp__next_deadline()).
 *
 *   output_data() -> hxs_tcp_pace_may_send()  pace_next <= now ? send : arm t_pace, stop
 *   hxs_tcp_send_seg() (data) -> hxs_tcp_pace_sent()   pace_next += min(len / rate, 1 s)
 *   t_pace expires -> tcp_timer.c pace_fire() -> the connection's output is due again
 *
 * The rate: the algorithm's cc.pacing_rate (BBR sets it), or, with the stack's pacing setting
 * on (cfg.pacing, HXS_PACING=1), one derived from cwnd and SRTT as Linux's
 * tcp_update_pacing_rate() does for the fq qdisc: 200 % of cwnd / SRTT in slow start (below
 * half ssthresh), 120 % after.
 *
 * Linux paces by earliest departure times on an accurate timer; here the wheel resumes at its
 * 64 us resolution and a turn of the loop may come later still (a loaded machine wakes a
 * sleeper late). A segment sent after its time therefore keeps the time lost as credit, up to
 * one burst: PACE_CREDIT_MIN_US, or the time of the data Linux sends at once at this rate
 * (TSO autosizing: about 1 ms of it, at most 64 KiB). The average rate holds; bursts stay
 * within what Linux itself puts on the wire at once. The first PACE_FREE_SEGS segments of a
 * connection go unpaced (Linux: data_segs_out >= 10).
 */
#include "tcp_conn.h"

#define PACE_CREDIT_MIN_US 128    /* two wheel ticks */
#define PACE_BURST_MAX 65536u     /* bytes: Linux's GSO/TSO size limit */
#define PACE_FREE_SEGS 10
#define PACE_GAP_MAX_US 1000000   /* one segment's delay at most (sch_fq: 1 s) */

uint64_t hxs_tcp_pacing_rate(const struct hxs_tcp_conn *c)
{
	uint64_t rate;

	if (c->cc.pacing_rate)
		return c->cc.pacing_rate;
	if (!c->tcp->cfg.pacing || !c->cc.srtt_us)
		return 0;
	/* Linux's tcp_update_pacing_rate(): "Set sk_pacing_rate to 200 % of current rate
	 * (mss * cwnd / srtt) [in slow start] ... 120 % [in congestion avoidance]"; the SRTT
	 * of microsecond samples (tcp_rate.c), as Linux's is */
	rate = (uint64_t)c->cc.cwnd * 1000000 / c->cc.srtt_us;
	return rate * (c->cc.cwnd < c->cc.ssthresh / 2 ? 200 : 120) / 100;
}

int hxs_tcp_pace_may_send(struct hxs_tcp_conn *c, uint64_t now)
{
	if (c->pace_next <= now || !hxs_tcp_pacing_rate(c)) {
		hxs_wheel__cancel(&c->tcp->wheel, &c->t_pace);
		return 1;
	}
	if (!hxs_timer__armed(&c->t_pace) || c->t_pace.expires != c->pace_next)
		hxs_wheel__arm(&c->tcp->wheel, &c->t_pace, c->pace_next);
	return 0;
}

/* The credit a late segment may keep, us: one burst at this rate. */
static uint64_t pace_credit(uint64_t rate)
{
	uint64_t burst = rate >> 10;     /* about 1 ms of data (Linux's sk_pacing_shift 10) */
	uint64_t us;

	if (burst > PACE_BURST_MAX)
		burst = PACE_BURST_MAX;
	us = burst * 1000000 / rate;
	if (us > 1000)
		us = 1000;
	return us > PACE_CREDIT_MIN_US ? us : PACE_CREDIT_MIN_US;
}

void hxs_tcp_pace_sent(struct hxs_tcp_conn *c, uint32_t len, uint64_t now)
{
	uint64_t rate = hxs_tcp_pacing_rate(c), credit, gap;

	if (!rate || c->bytes_sent < (uint64_t)PACE_FREE_SEGS * c->mss) {
		c->pace_next = now;
		return;
	}
	/* sent after its time: the delay counts, up to one burst */
	credit = pace_credit(rate);
	if (c->pace_next + credit < now)
		c->pace_next = now - credit;
	/* Linux's fq clamps one packet's delay to a second "since socket rate can change
	 * later": a first estimate of a few bytes a second (BBR's from a long handshake's
	 * SRTT) must not hold the next segment for minutes once a real rate is known */
	gap = (uint64_t)len * 1000000 / rate;
	c->pace_next += gap < PACE_GAP_MAX_US ? gap : PACE_GAP_MAX_US;
}
