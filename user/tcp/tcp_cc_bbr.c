/* tcp_cc_bbr.c - BBR v1 congestion control: a model of the path (bottleneck bandwidth and
 * round-trip propagation time) sets the pacing rate and cwnd; loss is not the signal
 * (draft-ietf-ccwg-bbr, as Linux's tcp_bbr.c has BBR v1). Sizes in bytes, rates in bytes per
 * second, time in us; gains in 1/256.
 *
 *   init -> STARTUP, pacing rate = high_gain * IW / (SRTT or 1 ms)
 *   cong_control(rs) every ACK -> update_model():
 *       update_bw()            round counting by C.delivered; max-filter of the delivery
 *                              rate over 10 rounds (app-limited samples only if higher)
 *       update_ack_aggregation() extra bytes acked beyond bw * interval (cwnd headroom)
 *       update_cycle_phase()   PROBE_BW: gains 5/4, 3/4, then six of 1, a phase per min_rtt
 *       check_full_bw_reached() STARTUP ends when 3 rounds grew the bw less than 25 %
 *       check_drain()          DRAIN (pacing 1/high_gain) until in flight <= BDP
 *       update_min_rtt()       10 s min filter; expired -> PROBE_RTT: cwnd 4 segments for
 *                              200 ms and a round, then back
 *   -> set_pacing_rate(bw * pacing_gain), set_cwnd(): packet conservation the first round of
 *      recovery, else toward cwnd_gain * BDP + aggregation + quantization budget
 *   on_loss -> save cwnd (restored when recovery ends); on_rto -> cwnd 1 segment, round ends
 *   on_tx_start -> idle restart: PROBE_BW paces at 1.0 * bw
 * Not done (yet): the long-term "policer" bandwidth (lt_bw) of Linux's BBR v1, and the EDT
 * correction of in-flight bytes (our pacing holds segments back instead of timestamping them).
 */
#include <stdint.h>

#include "tcp_cc.h"

#define BBR_UNIT          256u
#define BBR_HIGH_GAIN     (BBR_UNIT * 2885 / 1000 + 1)   /* 2/ln(2): doubles each round */
#define BBR_DRAIN_GAIN    (BBR_UNIT * 1000 / 2885)       /* its inverse: drains in a round */
#define BBR_CWND_GAIN     (BBR_UNIT * 2)
#define BBR_CYCLE_LEN     8
#define BBR_CYCLE_RAND    7              /* PROBE_BW starts in a random phase but the 3/4 one */
#define BBR_BW_RTTS       (BBR_CYCLE_LEN + 2)            /* max filter window, rounds */
#define BBR_MIN_RTT_WIN_US 10000000ull   /* 10 s */
#define BBR_PROBE_RTT_US  200000ull      /* 200 ms */
#define BBR_CWND_MIN_SEGS 4
#define BBR_FULL_BW_THRESH (BBR_UNIT * 5 / 4)
#define BBR_FULL_BW_CNT   3
#define BBR_PACING_MARGIN 1              /* percent below the estimated bw */
#define BBR_EXTRA_ACKED_WIN_RTTS 5
#define BBR_EXTRA_ACKED_MAX_US 100000ull
#define BBR_ACK_EPOCH_RESET_SEGS (1u << 20)
#define BBR_INIT_RTT_US   1000u          /* before any RTT sample */

enum { BBR_STARTUP, BBR_DRAIN, BBR_PROBE_BW, BBR_PROBE_RTT };

static const uint16_t bbr_pacing_gain[BBR_CYCLE_LEN] = {
	BBR_UNIT * 5 / 4, BBR_UNIT * 3 / 4, BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT
};

static uint32_t rng_next(struct hxs_bbr *b, uint32_t n)
{
	/* xorshift64: deterministic for a given start time (virtual-time tests) */
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return (uint32_t)(b->rng % n);
}

/* --- windowed max filter (Kathleen Nichols' algorithm: the best 3 samples) ---------------- */
static void bw_filter_reset(struct hxs_bbr *b, uint32_t round, uint64_t v)
{
	for (int i = 0; i < 3; i++) {
		b->bw[i].round = round;
		b->bw[i].v = v;
	}
}

static void bw_filter_update(struct hxs_bbr *b, uint32_t round, uint64_t v)
{
	struct hxs_bbr_sample *s = b->bw;
	uint32_t dt = round - s[0].round;

	/* a new best, or the window passed the best of all: start over */
	if (v >= s[0].v || round - s[2].round > BBR_BW_RTTS) {
		bw_filter_reset(b, round, v);
		return;
	}
	if (v >= s[1].v) {
		s[2].round = s[1].round = round;
		s[2].v = s[1].v = v;
	} else if (v >= s[2].v) {
		s[2].round = round;
		s[2].v = v;
	}
	/* the best aged out of the window: the second and third move up */
	if (dt > BBR_BW_RTTS) {
		s[0] = s[1];
		s[1] = s[2];
		s[2].round = round;
		s[2].v = v;
		if (round - s[0].round > BBR_BW_RTTS) {
			s[0] = s[1];
			s[1] = s[2];
		}
	} else if (s[1].round == s[0].round && dt > BBR_BW_RTTS / 4) {
		/* a quarter of the window passed without a second choice: take one */
		s[2].round = s[1].round = round;
		s[2].v = s[1].v = v;
	} else if (s[2].round == s[1].round && dt > BBR_BW_RTTS / 2) {
		s[2].round = round;
		s[2].v = v;
	}
}

static uint64_t bbr_bw(const struct hxs_cc *cc)
{
	return cc->u.bbr.bw[0].v;
}

static int full_bw_reached(const struct hxs_bbr *b)
{
	return b->full_bw_reached;
}

/* BDP * gain in bytes; before a min RTT is known, the initial window (Linux: TCP_INIT_CWND). */
static uint32_t bbr_bdp(const struct hxs_cc *cc, uint64_t bw, uint32_t gain)
{
	const struct hxs_bbr *b = &cc->u.bbr;
	uint64_t w;

	if (b->min_rtt_us == UINT32_MAX)
		return hxs_cc_initial_window(cc->mss);
	w = bw * b->min_rtt_us / 1000000;
	w = (w * gain + BBR_UNIT - 1) / BBR_UNIT;
	return w > HXS_CC_MAX_CWND ? HXS_CC_MAX_CWND : (uint32_t)w;
}

/* What leaves at once: Linux's TSO autosizing, about 1 ms of data at the pacing rate up to
 * 64 KiB, at least 2 segments (1 below 150 kB/s, bbr_min_tso_segs). */
static uint32_t bbr_send_quantum(const struct hxs_cc *cc)
{
	uint64_t q = cc->pacing_rate >> 10;
	uint32_t min = (cc->pacing_rate < 150000 ? 1 : 2) * cc->mss;

	if (q > 65536)
		q = 65536;
	return q < min ? min : (uint32_t)q;
}

/* Room for the bursts the sending and the ACKs come in (Linux's bbr_quantization_budget). */
static uint32_t bbr_quantization_budget(const struct hxs_cc *cc, uint32_t cwnd)
{
	const struct hxs_bbr *b = &cc->u.bbr;
	uint64_t w = (uint64_t)cwnd + 3ull * bbr_send_quantum(cc);

	if (b->mode == BBR_PROBE_BW && b->cycle_idx == 0)
		w += 2ull * cc->mss;         /* the probing phase's in-flight must really rise */
	return w > HXS_CC_MAX_CWND ? HXS_CC_MAX_CWND : (uint32_t)w;
}

static uint32_t bbr_inflight(const struct hxs_cc *cc, uint64_t bw, uint32_t gain)
{
	return bbr_quantization_budget(cc, bbr_bdp(cc, bw, gain));
}

static uint64_t bw_to_pacing_rate(uint64_t bw, uint32_t gain)
{
	return bw * gain / BBR_UNIT * (100 - BBR_PACING_MARGIN) / 100;
}

static void init_pacing_rate_from_rtt(struct hxs_cc *cc)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint32_t rtt = BBR_INIT_RTT_US;

	if (cc->srtt_us) {
		rtt = cc->srtt_us;
		b->has_seen_rtt = 1;
	}
	cc->pacing_rate = bw_to_pacing_rate((uint64_t)cc->cwnd * 1000000 / rtt, BBR_HIGH_GAIN);
}

static void set_pacing_rate(struct hxs_cc *cc, uint64_t bw, uint32_t gain)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint64_t rate = bw_to_pacing_rate(bw, gain);

	if (!b->has_seen_rtt && cc->srtt_us)
		init_pacing_rate_from_rtt(cc);
	/* in STARTUP the rate only rises (the estimate may still be low) */
	if (rate && (full_bw_reached(b) || rate > cc->pacing_rate))
		cc->pacing_rate = rate;
}

static void save_cwnd(struct hxs_cc *cc)
{
	struct hxs_bbr *b = &cc->u.bbr;

	if (!b->prev_recovery && b->mode != BBR_PROBE_RTT)
		b->prior_cwnd = cc->cwnd;
	else if (cc->cwnd > b->prior_cwnd)
		b->prior_cwnd = cc->cwnd;
}

static void advance_cycle_phase(struct hxs_bbr *b, const struct hxs_rate_sample *rs)
{
	b->cycle_idx = (uint8_t)((b->cycle_idx + 1) & (BBR_CYCLE_LEN - 1));
	b->cycle_stamp = rs ? rs->c_delivered_time : b->cycle_stamp;
}

static void reset_probe_bw_mode(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;

	b->mode = BBR_PROBE_BW;
	b->cycle_idx = (uint8_t)(BBR_CYCLE_LEN - 1 - rng_next(b, BBR_CYCLE_RAND));
	b->cycle_stamp = now;
	advance_cycle_phase(b, rs);
}

static void reset_mode(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now)
{
	if (!full_bw_reached(&cc->u.bbr))
		cc->u.bbr.mode = BBR_STARTUP;
	else
		reset_probe_bw_mode(cc, rs, now);
}

static void update_bw(struct hxs_cc *cc, const struct hxs_rate_sample *rs)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint64_t bw;

	b->round_start = 0;
	if (rs->delivered < 0 || rs->interval_us <= 0)
		return;
	/* a round trip ends when a packet sent after the round began is delivered */
	if (rs->prior_delivered >= b->next_rtt_delivered) {
		b->next_rtt_delivered = rs->c_delivered;
		b->rtt_cnt++;
		b->round_start = 1;
		b->packet_conservation = 0;
	}
	bw = (uint64_t)rs->delivered * 1000000 / (uint64_t)rs->interval_us;
	/* an application-limited sample tells of the application, unless it is higher */
	if (!rs->is_app_limited || bw >= bbr_bw(cc))
		bw_filter_update(b, b->rtt_cnt, bw);
}

static void update_ack_aggregation(struct hxs_cc *cc, const struct hxs_rate_sample *rs)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint64_t epoch_us, expected;
	uint32_t extra;

	if (!rs->acked_sacked || rs->delivered < 0 || rs->interval_us <= 0)
		return;
	if (b->round_start) {
		if (b->extra_acked_win_rtts < 0x1f)
			b->extra_acked_win_rtts++;
		if (b->extra_acked_win_rtts >= BBR_EXTRA_ACKED_WIN_RTTS) {
			b->extra_acked_win_rtts = 0;
			b->extra_acked_win_idx ^= 1;
			b->extra_acked[b->extra_acked_win_idx] = 0;
		}
	}
	epoch_us = rs->c_delivered_time > b->ack_epoch_stamp ? rs->c_delivered_time - b->ack_epoch_stamp : 0;
	expected = bbr_bw(cc) * epoch_us / 1000000;
	/* the ACKs came slower than the model, or the epoch is old: a new epoch */
	if (b->ack_epoch_acked <= expected ||
	    (uint64_t)b->ack_epoch_acked + rs->acked_sacked >= (uint64_t)BBR_ACK_EPOCH_RESET_SEGS * cc->mss) {
		b->ack_epoch_acked = 0;
		b->ack_epoch_stamp = rs->c_delivered_time;
		expected = 0;
	}
	{
		uint64_t a = (uint64_t)b->ack_epoch_acked + rs->acked_sacked;

		b->ack_epoch_acked = a > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)a;
	}
	extra = b->ack_epoch_acked > expected ? (uint32_t)(b->ack_epoch_acked - expected) : 0;
	if (extra > cc->cwnd)
		extra = cc->cwnd;
	if (extra > b->extra_acked[b->extra_acked_win_idx])
		b->extra_acked[b->extra_acked_win_idx] = extra;
}

static uint32_t ack_aggregation_cwnd(const struct hxs_cc *cc)
{
	const struct hxs_bbr *b = &cc->u.bbr;
	uint64_t max_aggr, aggr;

	if (!full_bw_reached(b))
		return 0;
	max_aggr = bbr_bw(cc) * BBR_EXTRA_ACKED_MAX_US / 1000000;
	aggr = b->extra_acked[0] > b->extra_acked[1] ? b->extra_acked[0] : b->extra_acked[1];
	return (uint32_t)(aggr < max_aggr ? aggr : max_aggr);
}

static int is_next_cycle_phase(struct hxs_cc *cc, const struct hxs_rate_sample *rs)
{
	struct hxs_bbr *b = &cc->u.bbr;
	int full_length = rs->c_delivered_time - b->cycle_stamp > b->min_rtt_us;
	uint32_t inflight = rs->prior_in_flight;

	if (b->pacing_gain == BBR_UNIT)
		return full_length;
	/* probing: until in flight reaches gain * BDP (or loss says it will not fit) */
	if (b->pacing_gain > BBR_UNIT)
		return full_length &&
		       (rs->losses || inflight >= bbr_inflight(cc, bbr_bw(cc), b->pacing_gain));
	/* draining: a min RTT, or as soon as in flight is down to the BDP */
	return full_length || inflight <= bbr_inflight(cc, bbr_bw(cc), BBR_UNIT);
}

static void check_full_bw_reached(struct hxs_cc *cc, const struct hxs_rate_sample *rs)
{
	struct hxs_bbr *b = &cc->u.bbr;

	if (full_bw_reached(b) || !b->round_start || rs->is_app_limited)
		return;
	if (bbr_bw(cc) >= b->full_bw * BBR_FULL_BW_THRESH / BBR_UNIT) {
		b->full_bw = bbr_bw(cc);
		b->full_bw_cnt = 0;
		return;
	}
	b->full_bw_cnt++;
	b->full_bw_reached = b->full_bw_cnt >= BBR_FULL_BW_CNT;
}

static void check_drain(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;

	if (b->mode == BBR_STARTUP && full_bw_reached(b)) {
		b->mode = BBR_DRAIN;
		cc->ssthresh = bbr_inflight(cc, bbr_bw(cc), BBR_UNIT);
	}
	if (b->mode == BBR_DRAIN && rs->in_flight <= bbr_inflight(cc, bbr_bw(cc), BBR_UNIT))
		reset_probe_bw_mode(cc, rs, now);    /* the queue is estimated drained */
}

static void check_probe_rtt_done(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;

	if (!b->probe_rtt_done_stamp || now <= b->probe_rtt_done_stamp)
		return;
	b->min_rtt_stamp = now;           /* the next PROBE_RTT in 10 s */
	if (b->prior_cwnd > cc->cwnd)
		cc->cwnd = b->prior_cwnd;
	reset_mode(cc, rs, now);
}

static void update_min_rtt(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;
	int expired = now > b->min_rtt_stamp + BBR_MIN_RTT_WIN_US;

	if (rs->rtt_us && (rs->rtt_us <= b->min_rtt_us || expired)) {
		b->min_rtt_us = rs->rtt_us;
		b->min_rtt_stamp = now;
	}
	if (expired && !b->idle_restart && b->mode != BBR_PROBE_RTT) {
		b->mode = BBR_PROBE_RTT;       /* dip: drain the queue, see the path's own RTT */
		save_cwnd(cc);
		b->probe_rtt_done_stamp = 0;
	}
	if (b->mode == BBR_PROBE_RTT) {
		cc->mark_app_limited = 1;      /* its low delivery rate is not the path's */
		/* at most 4 segments in flight for max(200 ms, one round) */
		if (!b->probe_rtt_done_stamp && rs->in_flight <= BBR_CWND_MIN_SEGS * cc->mss) {
			b->probe_rtt_done_stamp = now + BBR_PROBE_RTT_US;
			b->probe_rtt_round_done = 0;
			b->next_rtt_delivered = rs->c_delivered;
		} else if (b->probe_rtt_done_stamp) {
			if (b->round_start)
				b->probe_rtt_round_done = 1;
			if (b->probe_rtt_round_done)
				check_probe_rtt_done(cc, rs, now);
		}
	}
	if (rs->delivered > 0)
		b->idle_restart = 0;
}

static void update_gains(struct hxs_bbr *b)
{
	switch (b->mode) {
	case BBR_STARTUP:
		b->pacing_gain = BBR_HIGH_GAIN;
		b->cwnd_gain = BBR_HIGH_GAIN;
		break;
	case BBR_DRAIN:
		b->pacing_gain = BBR_DRAIN_GAIN;
		b->cwnd_gain = BBR_HIGH_GAIN;
		break;
	case BBR_PROBE_BW:
		b->pacing_gain = bbr_pacing_gain[b->cycle_idx];
		b->cwnd_gain = BBR_CWND_GAIN;
		break;
	default:
		b->pacing_gain = BBR_UNIT;
		b->cwnd_gain = BBR_UNIT;
		break;
	}
}

/* Recovery: the first round sends one for one (packet conservation), later rounds at most
 * two for one; leaving it restores the cwnd from before. Returns 1 if conservation sets cwnd. */
static int set_cwnd_to_recover_or_restore(struct hxs_cc *cc, const struct hxs_rate_sample *rs,
					  uint32_t acked, uint32_t *new_cwnd)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint32_t cwnd = cc->cwnd;

	if (rs->losses)
		cwnd = cwnd > rs->losses + cc->mss ? cwnd - rs->losses : cc->mss;
	if (rs->in_recovery && !b->prev_recovery) {
		b->packet_conservation = 1;
		b->next_rtt_delivered = rs->c_delivered;   /* the round starts now */
		cwnd = rs->in_flight + acked;              /* unused cwnd goes */
	} else if (!rs->in_recovery && b->prev_recovery) {
		if (b->prior_cwnd > cwnd)
			cwnd = b->prior_cwnd;
		b->packet_conservation = 0;
	}
	b->prev_recovery = rs->in_recovery;
	if (b->packet_conservation) {
		uint32_t cons = rs->in_flight + acked;

		*new_cwnd = cwnd > cons ? cwnd : cons;
		return 1;
	}
	*new_cwnd = cwnd;
	return 0;
}

static void set_cwnd(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint32_t acked,
		     uint64_t bw, uint32_t gain)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint32_t cwnd = cc->cwnd, target;
	uint32_t min = BBR_CWND_MIN_SEGS * cc->mss;

	if (!acked)
		goto done;
	/* no loss, no recovery now nor before, no conservation: the function would leave cwnd
	 * and its state as they are (the usual ACK skips it) */
	if ((rs->losses || rs->in_recovery || b->prev_recovery || b->packet_conservation) &&
	    set_cwnd_to_recover_or_restore(cc, rs, acked, &cwnd))
		goto done;
	target = bbr_bdp(cc, bw, gain);
	target += ack_aggregation_cwnd(cc);
	target = bbr_quantization_budget(cc, target);
	/* below target: grow by what was acked (slow-start like); above: down to it, once the
	 * pipe was found full */
	if (full_bw_reached(b))
		cwnd = cwnd + acked < target ? cwnd + acked : target;
	else if (cwnd < target || rs->c_delivered < 10ull * cc->mss)
		cwnd = cwnd + acked;
	if (cwnd < min)
		cwnd = min;
done:
	cc->cwnd = cwnd > HXS_CC_MAX_CWND ? HXS_CC_MAX_CWND : cwnd;
	if (b->mode == BBR_PROBE_RTT && cc->cwnd > min)
		cc->cwnd = min;
}

static void bbr_cong_control(struct hxs_cc *cc, const struct hxs_rate_sample *rs, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;
	uint64_t bw;

	update_bw(cc, rs);
	update_ack_aggregation(cc, rs);
	if (b->mode == BBR_PROBE_BW && is_next_cycle_phase(cc, rs))
		advance_cycle_phase(b, rs);
	check_full_bw_reached(cc, rs);
	check_drain(cc, rs, now);
	update_min_rtt(cc, rs, now);
	update_gains(b);
	bw = bbr_bw(cc);
	set_pacing_rate(cc, bw, b->pacing_gain);
	set_cwnd(cc, rs, rs->acked_sacked, bw, b->cwnd_gain);
}

static void bbr_init(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;

	*b = (struct hxs_bbr){ 0 };
	cc->cwnd = hxs_cc_initial_window(cc->mss);
	cc->ssthresh = UINT32_MAX;
	cc->bytes_acked = 0;
	cc->mark_app_limited = 0;
	b->rng = (now ^ 0x9e3779b97f4a7c15ull) | 1;
	b->min_rtt_us = UINT32_MAX;
	b->min_rtt_stamp = now;
	b->ack_epoch_stamp = now;
	bw_filter_reset(b, 0, 0);
	init_pacing_rate_from_rtt(cc);
	b->mode = BBR_STARTUP;
	update_gains(b);
}

/* cwnd is cong_control's: ACKs outside recovery change nothing here */
static void bbr_on_ack(struct hxs_cc *cc, uint32_t acked, uint32_t rtt_us, uint64_t now)
{
	(void)cc;
	(void)acked;
	(void)rtt_us;
	(void)now;
}

/* Loss recovery begins: the cwnd to come back to (Linux's bbr_ssthresh()); ssthresh stays. */
static void bbr_on_loss(struct hxs_cc *cc, uint64_t now)
{
	(void)now;
	save_cwnd(cc);
}

static void bbr_on_recovery_exit(struct hxs_cc *cc, uint64_t now)
{
	(void)cc;
	(void)now;          /* cong_control sees recovery end and restores the cwnd */
}

static void bbr_on_rto(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;

	(void)now;
	save_cwnd(cc);
	/* RFC 5681 §3.1 loss window after a timeout; the round ends (Linux's bbr_set_state() on
	 * TCP_CA_Loss): STARTUP-style growth back, the pipe full test starts over */
	cc->cwnd = cc->mss;
	b->prev_recovery = 1;
	b->full_bw = 0;
	b->round_start = 1;
}

static void bbr_on_tx_start(struct hxs_cc *cc, uint64_t now)
{
	struct hxs_bbr *b = &cc->u.bbr;

	b->idle_restart = 1;
	b->ack_epoch_stamp = now;
	b->ack_epoch_acked = 0;
	/* after idle, pace at the estimated bw: no queue to drain, nothing to probe yet */
	if (b->mode == BBR_PROBE_BW)
		set_pacing_rate(cc, bbr_bw(cc), BBR_UNIT);
}

const struct hxs_cc_ops hxs_cc_bbr = {
	.name = "bbr",
	.init = bbr_init,
	.on_ack = bbr_on_ack,
	.on_loss = bbr_on_loss,
	.on_recovery_exit = bbr_on_recovery_exit,
	.on_rto = bbr_on_rto,
	.cong_control = bbr_cong_control,
	.on_tx_start = bbr_on_tx_start,
};
