/* tcp_cc_hystart.c - HyStart++ (RFC 9406): slow start that leaves on a rise of the RTT, for
 * the window-based algorithms (CUBIC, NewReno), as Linux runs HyStart under CUBIC.
 *
 *   ops->init()   -> hxs_cc_hystart_init()         SS, no round yet
 *   ops->on_ack() -> hxs_cc_hystart()               while cwnd < ssthresh = infinity (§4.3:
 *                                                   the first slow start only); 0: not ours
 *        round: the first ACK begins one, windowEnd = SND.NXT; an ACK reaching windowEnd
 *               ends it and begins the next (§4.2)
 *        SS:  cwnd += min(N, L*SMSS) (ss_increment, L = 8); the RTT sample into
 *             currentRoundMinRTT; >= N_RTT_SAMPLE samples and
 *             currentRoundMinRTT >= lastRoundMinRTT + RttThresh -> CSS
 *        CSS: cwnd += min(N, L*SMSS) / CSS_GROWTH_DIVISOR; currentRoundMinRTT below
 *             cssBaselineMinRtt -> SS again; CSS_ROUNDS rounds -> ssthresh = cwnd (CA)
 *   on_loss / on_rto set ssthresh: HyStart++ is over (§4.2 "If loss or ECN-marking is
 *   observed anytime during standard slow start or CSS, enter congestion avoidance").
 *
 * The core (hxs_tcp_cc_grow_on_ack) sets cc->snd_una, cc->snd_nxt and cc->ack_rtt_us before
 * on_ack:
 * the RTT sample is the delivery-rate sample's (tcp_rate.c: the newest segment the ACK
 * delivers, never a retransmitted one, microsecond-exact), one per ACK that has one; the
 * timestamp option's 1 ms ticks would hide a 4 ms threshold on short paths, and Karn's timing
 * (no timestamps) gives one sample per round, never N_RTT_SAMPLE. A stretch of ACKs XDP
 * consumed (cc->acks > 1) is one ACK and one sample here.
 *
 * L is §4.3's "L = infinity if paced, L = 8 if non-paced", here 8 always (the bound for a
 * connection that is not paced; a paced one may use it as well): an ACK of up to 2 segments
 * grows cwnd as RFC 3465's L = 2*SMSS does (hxs_cc_slow_start, the slow start after
 * HyStart++), and a stretch ACK of a receiver that ACKs once per burst (hxs's own ack_batch,
 * Linux's GRO) grows it by up to 8 segments instead of 2.
 */
#include <stdint.h>

#include "tcp_cc.h"
#include "tcp_seq.h"

/* RFC 9406 §4.3 "Tuning Constants and Other Considerations" */
#define MIN_RTT_THRESH_US 4000u     /* "MIN_RTT_THRESH = 4 msec" */
#define MAX_RTT_THRESH_US 16000u    /* "MAX_RTT_THRESH = 16 msec" */
#define MIN_RTT_DIVISOR 8u          /* "MIN_RTT_DIVISOR = 8" */
#define N_RTT_SAMPLE 8u             /* "N_RTT_SAMPLE = 8" */
#define CSS_GROWTH_DIVISOR 4u       /* "CSS_GROWTH_DIVISOR = 4" */
#define CSS_ROUNDS 5u               /* "CSS_ROUNDS = 5" */
#define INF UINT32_MAX              /* the RFC's "infinity" */
#define L_NON_PACED 8u              /* "L = 8 if non-paced" */

/* §4.2 "min(N, L * SMSS)"; a stretch of k ACKs XDP consumed (cc->acks > 1) counts as k ACKs,
 * as in hxs_cc_ss_increment() */
static uint32_t ss_increment(const struct hxs_cc *cc, uint32_t acked)
{
	uint64_t l = (uint64_t)L_NON_PACED * cc->mss * (cc->acks > 1 ? cc->acks : 1);

	return acked < l ? acked : (uint32_t)l;
}

void hxs_cc_hystart_init(struct hxs_cc *cc)
{
	struct hxs_hystart *hs = &cc->hs;

	/* §4.2 "lastRoundMinRTT = infinity, currentRoundMinRTT = infinity, ...
	 * rttSampleCount = 0"; windowEnd is set by the first ACK (no data was sent yet) */
	hs->state = HXS_HS_SS;
	hs->started = 0;
	hs->last_min_us = INF;
	hs->cur_min_us = INF;
	hs->css_baseline_us = INF;
	hs->samples = 0;
	hs->css_rounds = 0;
	hs->css_rem = 0;
	hs->window_end = 0;
}

/* §4.2 "At the start of each round during standard slow start [RFC5681] and CSS":
 * "lastRoundMinRTT = currentRoundMinRTT, currentRoundMinRTT = infinity, rttSampleCount = 0"
 * and "When windowEnd is ACKed, the current round ends and windowEnd is set to SND.NXT". */
static void round_begin(struct hxs_cc *cc)
{
	struct hxs_hystart *hs = &cc->hs;

	hs->window_end = cc->snd_nxt;
	hs->last_min_us = hs->cur_min_us;
	hs->cur_min_us = INF;
	hs->samples = 0;
}

/* §4.2 "RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR,
 * MAX_RTT_THRESH))" */
static uint32_t rtt_thresh(uint32_t last_min_us)
{
	uint32_t t = last_min_us / MIN_RTT_DIVISOR;

	if (t > MAX_RTT_THRESH_US)
		t = MAX_RTT_THRESH_US;
	return t < MIN_RTT_THRESH_US ? MIN_RTT_THRESH_US : t;
}

static void cwnd_add(struct hxs_cc *cc, uint32_t inc)
{
	uint64_t w = (uint64_t)cc->cwnd + inc;

	cc->cwnd = w > HXS_CC_MAX_CWND ? HXS_CC_MAX_CWND : (uint32_t)w;
}

int hxs_cc_hystart(struct hxs_cc *cc, uint32_t acked)
{
	struct hxs_hystart *hs = &cc->hs;
	uint32_t rtt = cc->ack_rtt_us;

	/* §4.3: "An implementation SHOULD use HyStart++ only for the initial slow start (when
	 * the ssthresh is at its initial value of arbitrarily high per [RFC5681]) and fall back
	 * to using standard slow start for the remainder of the connection lifetime." */
	if (!cc->hystart_on || cc->ssthresh != UINT32_MAX || hs->state == HXS_HS_DONE)
		return 0;
	if (!hs->started) {
		hs->started = 1;
		round_begin(cc);
	}
	/* §4.2 "Keep track of the minimum observed RTT: currentRoundMinRTT =
	 * min(currentRoundMinRTT, currRTT) ... rttSampleCount += 1" (an ACK without a sample
	 * adds none) */
	if (rtt) {
		if (rtt < hs->cur_min_us)
			hs->cur_min_us = rtt;
		if (hs->samples < UINT16_MAX)
			hs->samples++;
	}
	if (hs->state == HXS_HS_SS) {
		/* §4.2 "cwnd = cwnd + min(N, L * SMSS)"; RFC 7661: not while cwnd is unused */
		if (!cc->app_limited)
			cwnd_add(cc, ss_increment(cc, acked));
		/* §4.2 "if ((rttSampleCount >= N_RTT_SAMPLE) AND (currentRoundMinRTT != infinity)
		 * AND (lastRoundMinRTT != infinity))" ... "if (currentRoundMinRTT >=
		 * (lastRoundMinRTT + RttThresh))" "cssBaselineMinRtt = currentRoundMinRTT" "exit
		 * slow start and enter CSS". currentRoundMinRTT only falls within a round, so the
		 * test can first pass at the N_RTT_SAMPLE-th sample: it judges the minimum of the
		 * round's first N_RTT_SAMPLE samples. */
		if (rtt && hs->samples >= N_RTT_SAMPLE && hs->cur_min_us != INF &&
		    hs->last_min_us != INF &&
		    (uint64_t)hs->cur_min_us >= (uint64_t)hs->last_min_us + rtt_thresh(hs->last_min_us)) {
			hs->css_baseline_us = hs->cur_min_us;
			hs->state = HXS_HS_CSS;
			/* §4.2 "If the transition into CSS happens in the middle of a round, that
			 * partial round counts towards the limit." */
			hs->css_rounds = 1;
			hs->css_rem = 0;
		}
	} else {
		/* §4.2 "cwnd = cwnd + (min(N, L * SMSS) / CSS_GROWTH_DIVISOR)", the remainder of
		 * the division carried to the next ACK */
		if (!cc->app_limited) {
			uint32_t n = ss_increment(cc, acked) + hs->css_rem;

			hs->css_rem = n % CSS_GROWTH_DIVISOR;
			cwnd_add(cc, n / CSS_GROWTH_DIVISOR);
		}
		/* §4.2 "if (currentRoundMinRTT < cssBaselineMinRtt)" with at least N_RTT_SAMPLE
		 * samples: "cssBaselineMinRtt = infinity" "resume slow start including
		 * HyStart++" */
		if (rtt && hs->samples >= N_RTT_SAMPLE && hs->cur_min_us < hs->css_baseline_us) {
			hs->css_baseline_us = INF;
			hs->state = HXS_HS_SS;
			hs->css_rounds = 0;
		}
	}
	if (SEQ_GEQ(cc->snd_una, hs->window_end)) {
		/* §4.2 "If CSS_ROUNDS rounds are complete, enter congestion avoidance by setting
		 * the ssthresh to the current cwnd: ssthresh = cwnd" */
		if (hs->state == HXS_HS_CSS && hs->css_rounds >= CSS_ROUNDS) {
			cc->ssthresh = cc->cwnd;
			hs->state = HXS_HS_DONE;
			return 1;
		}
		if (hs->state == HXS_HS_CSS)
			hs->css_rounds++;
		round_begin(cc);
	}
	return 1;
}
