/* tcp_cc_newreno.c - Reno/NewReno window arithmetic (RFC 5681 §3.1, RFC 3465, RFC 6582).
 *
 *   init -> cwnd = IW, ssthresh = UINT32_MAX
 *   on_ack -> cwnd < ssthresh: hxs_cc_hystart() (HyStart++, RFC 9406, the initial slow start)
 *             else (application-limited: nothing) cwnd < ssthresh ? hxs_cc_slow_start() : hxs_cc_reno_ca()
 *   on_loss -> ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh
 *   on_recovery_exit -> cwnd = ssthresh
 *   on_rto -> ssthresh = max(FlightSize/2, 2*SMSS), cwnd = 1 SMSS
 *
 * What on_loss sets, exactly: ssthresh per RFC 5681 eq. (4) and cwnd = ssthresh, the
 * window after recovery. It does NOT add the 3*SMSS of RFC 6582 §3.2 step 2
 * ("cwnd = ssthresh + 3*SMSS") nor inflate per duplicate ACK (step 4): a NewReno core adds
 * and removes that inflation itself; a SACK core (RFC 6675) ignores cwnd inflation and
 * compares pipe with cwnd. Either way on_recovery_exit leaves cwnd = ssthresh (RFC 6582 §3.2
 * step 3 "Set cwnd to ssthresh"; RFC 6675 §5 leaves cwnd = ssthresh after recovery).
 */
#include <stdint.h>

#include "tcp_cc.h"

static void newreno_init(struct hxs_cc *cc, uint64_t now)
{
	cc->cwnd = hxs_cc_initial_window(cc->mss);          /* RFC 6928 */
	cc->ssthresh = UINT32_MAX;     /* RFC 5681 §3.1: "initial value of ssthresh SHOULD be set arbitrarily high" */
	cc->bytes_acked = 0;
	hxs_cc_hystart_init(cc);
}

static void newreno_on_ack(struct hxs_cc *cc, uint32_t acked, uint32_t rtt_us, uint64_t now)
{
	/* RFC 9406 §1: HyStart++ "can be used with any congestion control algorithm" whose slow
	 * start is RFC 5681's; hxs gives it to NewReno as to CUBIC (Linux's HyStart is CUBIC's
	 * only), so the choice of algorithm changes the avoidance, not how slow start ends. */
	if (cc->cwnd < cc->ssthresh && hxs_cc_hystart(cc, acked))
		return;
	/* RFC 7661 §4.3: cwnd is not increased while it is not validated (not in use): an ACK of
	 * an application-limited flight says nothing about a larger window (Linux's
	 * tcp_reno_cong_avoid() returns when !tcp_is_cwnd_limited()). */
	if (cc->app_limited)
		return;
	/* RFC 5681 §3.1: "The slow start algorithm is used when cwnd < ssthresh, while the
	 * congestion avoidance algorithm is used when cwnd > ssthresh. When cwnd and ssthresh
	 * are equal, the sender may use either" - we use congestion avoidance. */
	if (cc->cwnd < cc->ssthresh)
		hxs_cc_slow_start(cc, acked);
	else
		hxs_cc_reno_ca(cc, acked);
}

static void newreno_on_loss(struct hxs_cc *cc, uint64_t now)
{
	cc->ssthresh = hxs_cc_reno_ssthresh(cc);   /* RFC 5681 §3.2 step 2, eq. (4) */
	cc->cwnd = cc->ssthresh;                    /* the core adds any RFC 6582 inflation */
	cc->bytes_acked = 0;
}

static void newreno_on_recovery_exit(struct hxs_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;    /* RFC 6582 §3.2 step 3: "Set cwnd to ssthresh" (deflate) */
	cc->bytes_acked = 0;
}

static void newreno_on_rto(struct hxs_cc *cc, uint64_t now)
{
	/* RFC 5681 §3.1: on a retransmission timeout ssthresh is set per eq. (4) and "cwnd
	 * MUST be set to no more than the loss window, LW, which equals 1 full-sized segment" */
	cc->ssthresh = hxs_cc_reno_ssthresh(cc);
	cc->cwnd = cc->mss;
	cc->bytes_acked = 0;
}

const struct hxs_cc_ops hxs_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_loss = newreno_on_loss,
	.on_recovery_exit = newreno_on_recovery_exit,
	.on_rto = newreno_on_rto,
};
