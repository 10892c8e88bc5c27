/* tcp_cc.c - the pieces every congestion-control algorithm shares (the algorithms by name:
 * tcp_cc_registry.c).
 *
 *   hxs_cc__init() -> ops->init()                    cwnd = IW (RFC 6928), ssthresh = inf
 *   ops->on_ack() -> hxs_cc_slow_start() / hxs_cc_reno_ca()     (RFC 5681 §3.1, RFC 3465)
 *                    (hxs_cc_hystart(), tcp_cc_hystart.c, grows by hxs_cc_ss_increment())
 *   ops->on_loss() / on_rto() -> hxs_cc_reno_ssthresh()         (RFC 5681 §3.1 eq. 4)
 */
#include <stdint.h>

#include "tcp_cc.h"

/* RFC 6928 §2: "IW = min (10*MSS, max (2*MSS, 14600))" */
uint32_t hxs_cc_initial_window(uint32_t mss)
{
	uint64_t lo = 2 * (uint64_t)mss, hi = 10 * (uint64_t)mss;
	uint64_t iw = lo > 14600 ? lo : 14600;

	if (iw > hi)
		iw = hi;
	return iw > HXS_CC_MAX_CWND ? HXS_CC_MAX_CWND : (uint32_t)iw;
}

void hxs_cc__init(struct hxs_cc *cc, const struct hxs_cc_ops *ops, uint64_t now)
{
	cc->ops = ops;
	ops->init(cc, now);
}

static void cwnd_add(struct hxs_cc *cc, uint64_t inc)
{
	uint64_t w = (uint64_t)cc->cwnd + inc;

	cc->cwnd = w > HXS_CC_MAX_CWND ? HXS_CC_MAX_CWND : (uint32_t)w;
}

uint32_t hxs_cc_ss_increment(const struct hxs_cc *cc, uint32_t acked)
{
	/* RFC 3465 §2.2: "cwnd is increased by the number of previously unacknowledged bytes
	 * ACKed by each incoming acknowledgment, provided the increase is not more than L
	 * bytes", L = 2*SMSS (RFC 3465 §2.3; RFC 5681 §3.1 allows it with ABC).
	 * A stretch of k ACKs consumed by XDP counts as k of them (the limit is per ACK), so the
	 * window grows alike with the fast path on or off. */
	uint64_t l = 2ull * cc->mss * (cc->acks > 1 ? cc->acks : 1);

	return acked < l ? acked : (uint32_t)l;
}

void hxs_cc_slow_start(struct hxs_cc *cc, uint32_t acked)
{
	cwnd_add(cc, hxs_cc_ss_increment(cc, acked));
}

void hxs_cc_reno_ca(struct hxs_cc *cc, uint32_t acked)
{
	/* RFC 3465 §2.1 / RFC 5681 §3.1: "bytes_acked ... When bytes_acked becomes greater than
	 * or equal to the value of the congestion window, bytes_acked is reduced by the value
	 * of cwnd. Next, cwnd is incremented by a full-sized segment (SMSS)." */
	cc->bytes_acked += acked;
	if (cc->bytes_acked >= cc->cwnd) {
		cc->bytes_acked -= cc->cwnd;
		cwnd_add(cc, cc->mss);
	}
}

uint32_t hxs_cc_reno_ssthresh(const struct hxs_cc *cc)
{
	/* RFC 5681 §3.1 eq. (4): "ssthresh = max (FlightSize / 2, 2*SMSS)" */
	uint32_t half = cc->flight / 2, two = 2 * cc->mss;

	return half > two ? half : two;
}
