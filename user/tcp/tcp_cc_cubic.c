/* tcp_cc_cubic.c - CUBIC congestion control after RFC 9438.
 *
 *   init -> cwnd = IW, ssthresh = UINT32_MAX, no epoch
 *   on_ack -> application-limited: no growth, the epoch moves on           (§5.8)
 *             cwnd < ssthresh ? hxs_cc_hystart() (HyStart++, RFC 9406)  (§4.10)
 *                               or hxs_cc_slow_start()
 *                             : cubic_update() -> epoch_begin() on the first ACK of an epoch
 *                                               -> W_est (§4.3) vs W_cubic(t) (§4.2)
 *                                               -> Reno-friendly / concave / convex (§4.3-4.5)
 *   on_loss -> fast convergence (§4.7), ssthresh = FlightSize * beta, cwnd = ssthresh (§4.6)
 *   on_recovery_exit -> cwnd = ssthresh
 *   on_rto -> ssthresh as §4.6, cwnd = 1 SMSS, next epoch with K = 0 (§4.8)
 *   on_idle_end -> the epoch moves on by the idle time (§5.8)
 *
 * Windows are kept in bytes; the RFC's formulas are in segments, so they are evaluated in
 * double on cwnd / SMSS and converted back (IEEE double: deterministic for given inputs).
 * Like on_loss of NewReno, on_loss sets the post-recovery window; recovery-time inflation or
 * pipe accounting is the core's.
 */
#include <math.h>
#include <stdint.h>

#include "tcp_cc.h"

#define CUBIC_C    0.4          /* §5.1: "C SHOULD be set to 0.4" (segments / s^3) */
#define CUBIC_BETA 0.7          /* §4.6: "β_cubic SHOULD be set to 0.7" */
/* §4.3: α_cubic = 3 * (1 - β_cubic) / (1 + β_cubic) = 0.9 / 1.7 = 9 / 17, done exactly */
#define ALPHA_NUM 9
#define ALPHA_DEN 17

static uint32_t clamp_cwnd(double w)
{
	if (w < 0)
		return 0;
	if (w > HXS_CC_MAX_CWND)
		return HXS_CC_MAX_CWND;
	return (uint32_t)w;
}

static void cubic_init(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;

	cc->cwnd = hxs_cc_initial_window(cc->mss);
	cc->ssthresh = UINT32_MAX;
	cc->bytes_acked = 0;
	cu->epoch_start = 0;
	cu->w_max = 0;
	cu->w_last_max = 0;
	cu->k_us = 0;
	cu->w_est = 0;
	cu->cwnd_prior = 0;
	cu->min_rtt_us = 0;
	cu->ack_acc = 0;
	cu->srtt_us = 0;
	cu->last_ack = 0;
	hxs_cc_hystart_init(cc);
}

/* W_cubic(t) in bytes, t in us since the epoch start (§4.2 eq. 1):
 * W_cubic(t) = C * (t - K)^3 + W_max, in segments. */
static double w_cubic_bytes(const struct hxs_cc *cc, uint64_t t_us)
{
	const struct hxs_cubic *cu = &cc->u.cubic;
	double d = ((double)t_us - (double)cu->k_us) / 1e6;

	return (CUBIC_C * d * d * d + (double)cu->w_max / cc->mss) * cc->mss;
}

/* The first ACK of a congestion-avoidance stage starts an epoch. */
static void epoch_begin(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;
	uint32_t cwnd_epoch = cc->cwnd;

	cu->epoch_start = now ? now : 1;     /* 0 means "no epoch" */
	cu->ack_acc = 0;
	/* §4.3: "W_est is set equal to cwnd_epoch at the start of the congestion avoidance stage" */
	cu->w_est = cwnd_epoch;
	if (cu->w_max <= cwnd_epoch) {
		/* §4.8: after a timeout (w_max = 0) "K is set to 0, and W_max is set to the
		 * congestion window size at the beginning of the current congestion avoidance
		 * stage"; likewise when cwnd already exceeds W_max (§4.2's K would be negative):
		 * the curve starts at its plateau and grows convexly (§4.5). */
		cu->w_max = cwnd_epoch;
		cu->k_us = 0;
	} else {
		/* §4.2 eq. 2: K = cubic_root((W_max - cwnd_epoch) / C), segments and seconds */
		double k = cbrt(((double)(cu->w_max - cwnd_epoch) / cc->mss) / CUBIC_C);

		cu->k_us = (uint32_t)(k * 1e6 + 0.5);
	}
}

static void cubic_update(struct hxs_cc *cc, uint32_t acked, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;
	uint64_t t, rtt = cu->srtt_us, num;
	double target, w_t;
	uint32_t alpha_num = ALPHA_NUM, alpha_den = ALPHA_DEN;

	if (!cu->epoch_start)
		epoch_begin(cc, now);
	t = now > cu->epoch_start ? now - cu->epoch_start : 0;

	/* §4.3: "W_est = W_est + α_cubic * segments_acked / cwnd" (in bytes: α * acked * SMSS
	 * / cwnd), with "α_cubic to 1" once "W_est >= cwnd_prior". The remainder of the division
	 * is carried in ack_acc so no growth is lost to truncation. */
	if (cu->w_est >= cu->cwnd_prior)
		alpha_num = alpha_den = 1;
	num = (uint64_t)alpha_num * acked * cc->mss + cu->ack_acc;
	{
		uint64_t den = (uint64_t)alpha_den * cc->cwnd, inc = num / den;

		cu->ack_acc = (uint32_t)(num % den);
		cu->w_est = clamp_cwnd((double)cu->w_est + (double)inc);
	}

	w_t = w_cubic_bytes(cc, t);
	if (w_t < (double)cu->w_est) {
		/* §4.3: "When receiving a new ACK in congestion avoidance (where cwnd could be
		 * greater than or less than W_max), CUBIC checks whether W_cubic(t) is less than
		 * W_est. If so, CUBIC is in the Reno-friendly region and cwnd SHOULD be set to W_est
		 * at each reception of a new ACK." */
		if (cu->w_est > cc->cwnd)
			cc->cwnd = cu->w_est;
		return;
	}
	/* §4.4 (concave, cwnd < W_max) and §4.5 (convex, cwnd >= W_max) use the same rule:
	 * target = W_cubic(t + RTT) clipped to [cwnd, 1.5 * cwnd] (§4.2), and "cwnd MUST be
	 * incremented by (target - cwnd) / cwnd for each received new ACK" (per SMSS acked,
	 * so in bytes: (target - cwnd) * acked / cwnd). */
	target = w_cubic_bytes(cc, t + rtt);
	if (target < (double)cc->cwnd)
		target = cc->cwnd;
	else if (target > 1.5 * cc->cwnd)
		target = 1.5 * cc->cwnd;
	cc->cwnd = clamp_cwnd((double)cc->cwnd +
			      (target - (double)cc->cwnd) * (double)acked / (double)cc->cwnd);
}

static void cubic_on_ack(struct hxs_cc *cc, uint32_t acked, uint32_t rtt_us, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;

	if (rtt_us) {
		/* §4.2 "RTT is the smoothed round-trip time": RFC 6298 §2.3 SRTT with α = 1/8 */
		cu->srtt_us = cu->srtt_us ? cu->srtt_us - cu->srtt_us / 8 + rtt_us / 8 : rtt_us;
		if (!cu->min_rtt_us || rtt_us < cu->min_rtt_us)
			cu->min_rtt_us = rtt_us;
	}
	/* §4.10: "CUBIC MUST employ a slow-start algorithm, when cwnd is no more than ssthresh.
	 * In general, CUBIC SHOULD use the HyStart++ slow start algorithm [RFC9406]" (which
	 * leaves growth alone while application-limited, as below) */
	if (cc->cwnd < cc->ssthresh && hxs_cc_hystart(cc, acked)) {
		cu->last_ack = now;
		return;
	}
	/* §5.8: "CUBIC does not increase the congestion window if a flow is application
	 * limited" - and t "not include application-limited periods": the epoch moves on by
	 * the time since the last ACK, so the curve resumes where the flow stopped using cwnd. */
	if (cc->app_limited) {
		if (cu->epoch_start && cu->last_ack && now > cu->last_ack) {
			cu->epoch_start += now - cu->last_ack;
			if (cu->epoch_start > now)
				cu->epoch_start = now;
		}
		cu->last_ack = now;
		return;
	}
	cu->last_ack = now;
	/* §4.10: "CUBIC MUST employ a slow-start algorithm, when cwnd is no more than ssthresh" */
	if (cc->cwnd < cc->ssthresh)
		hxs_cc_slow_start(cc, acked);
	else
		cubic_update(cc, acked, now);
}

static uint32_t cubic_ssthresh(const struct hxs_cc *cc)
{
	/* §4.6: "ssthresh = flight_size * β_cubic" ... "ssthresh = max(ssthresh, 2)" (SMSS) */
	uint32_t s = (uint32_t)((double)cc->flight * CUBIC_BETA);

	return s > 2 * cc->mss ? s : 2 * cc->mss;
}

static void cubic_on_loss(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;

	/* §4.7 fast convergence: "if (cwnd < W_max and fast_convergence) W_max = cwnd *
	 * (1 + β_cubic) / 2 else W_max = cwnd" - w_last_max keeps the W_max it replaced. */
	cu->w_last_max = cu->w_max;
	if (cc->cwnd < cu->w_max)
		cu->w_max = (uint32_t)((double)cc->cwnd * (1.0 + CUBIC_BETA) / 2.0);
	else
		cu->w_max = cc->cwnd;
	cu->cwnd_prior = cc->cwnd;                  /* §4.6: "cwnd_prior = cwnd" */
	cc->ssthresh = cubic_ssthresh(cc);
	cc->cwnd = cc->ssthresh;                    /* §4.6: "cwnd = max(ssthresh, 2)" */
	cc->bytes_acked = 0;
	cu->epoch_start = 0;                        /* the next CA ACK starts a new epoch */
}

static void cubic_on_recovery_exit(struct hxs_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
	cc->u.cubic.epoch_start = 0;
}

static void cubic_on_rto(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;

	/* §4.8: "In the case of a timeout, CUBIC follows Reno to reduce cwnd [RFC5681] but sets
	 * ssthresh using β_cubic (same as in Section 4.6)" */
	cu->cwnd_prior = cc->cwnd;
	cc->ssthresh = cubic_ssthresh(cc);
	cc->cwnd = cc->mss;
	cc->bytes_acked = 0;
	cu->epoch_start = 0;
	cu->w_last_max = cu->w_max;
	cu->w_max = 0;          /* §4.8: the next epoch uses K = 0, W_max = cwnd_epoch */
}

static void cubic_on_idle_end(struct hxs_cc *cc, uint64_t idle_us, uint64_t now)
{
	struct hxs_cubic *cu = &cc->u.cubic;

	/* §5.8: "it is required that t in Figure 1 not include application-limited periods,
	 * such as idle periods; otherwise, W_cubic(t) might be very high after restarting from
	 * these periods": the curve resumes where it stopped. The idle time is counted from the
	 * last send, so an epoch begun since (by an ACK) restarts now. */
	if (!cu->epoch_start)
		return;
	cu->epoch_start += idle_us;
	if (cu->epoch_start > now)
		cu->epoch_start = now ? now : 1;
	cu->last_ack = now;          /* the pause is accounted for: not again by on_ack */
}

const struct hxs_cc_ops hxs_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_loss = cubic_on_loss,
	.on_recovery_exit = cubic_on_recovery_exit,
	.on_rto = cubic_on_rto,
	.on_idle_end = cubic_on_idle_end,
};
