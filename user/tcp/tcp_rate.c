/* tcp_rate.c - delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation) and the
 * per-ACK call of a model-based congestion control with its sample.
 *
 *   hxs_tcp_send_seg()  -> hxs_tcp_rate_sent()       a record per data segment, §3.2 "upon
 *                                                     transmitting": P.delivered, ... ; a
 *                                                     retransmission refreshes its records
 *   process_ack()       -> hxs_tcp_rate_ack()        records newly SACKed, then those the
 *                                                     cumulative ACK covers: UpdateRateSample()
 *                                                     (§3.3), the newest of them is P
 *   the ACK's rest      -> hxs_tcp_rate_ack_cum()    the same for an ACK without SACK blocks,
 *   (tcp_ack_rest.c)                                  after the answer went
 *                       -> hxs_tcp_cc_ack()          GenerateRateSample() (§3.3), then the
 *                                                     algorithm's cong_control (tcp_cc.h)
 *   output_data()       -> hxs_tcp_rate_app_limited() (tcp_conn.h, inline) §3.4 "detecting application-limited
 *                                                     phases"
 *
 * A stretch ACK (several ACKs XDP consumed, tcp_fastpath.c) delivers every record it covers
 * at once: the sample spans from the newest of them back to the C.delivered it saw when sent,
 * the draft's ack_elapsed counting to the stretch's processing - a rate no higher than the
 * one-by-one ACKs would have measured (§3.3's max(send_elapsed, ack_elapsed) takes the longer).
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

static struct hxs_rate_rec *rec_at(struct hxs_tcp_rate *r, uint32_t i)
{
	uint32_t k = r->head + i;

	return &r->rec[k >= r->cap ? k - r->cap : k];
}

/* Room for one more record: the ring doubles (up to HXS_RATE_MAX_RECS). 0 or -ENOMEM. */
static int rec_room(struct hxs_tcp_rate *r)
{
	uint32_t cap;
	struct hxs_rate_rec *n;

	if (r->n < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 64;
	if (cap > HXS_RATE_MAX_RECS)
		return -1;
	n = malloc(cap * sizeof(*n));
	if (!n)
		return -1;
	for (uint32_t i = 0; i < r->n; i++)
		n[i] = *rec_at(r, i);
	free(r->rec);
	r->rec = n;
	r->cap = cap;
	r->head = 0;
	return 0;
}

/* The first record whose end lies above seq (binary search; records are in sequence order). */
static uint32_t rec_find(struct hxs_tcp_rate *r, uint32_t seq)
{
	uint32_t lo = 0, hi = r->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (SEQ_LEQ(rec_at(r, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void hxs_tcp_rate_free(struct hxs_tcp_conn *c)
{
	free(c->rate.rec);
	memset(&c->rate, 0, sizeof(c->rate));
}

static void rec_stamp(struct hxs_tcp_rate *r, struct hxs_rate_rec *p, uint64_t now)
{
	/* §3.2: "P.first_sent_time = C.first_sent_time, P.delivered_time = C.delivered_time,
	 * P.delivered = C.delivered, P.is_app_limited = (C.app_limited != 0)" */
	p->tx_time = now;
	p->first_tx_time = r->first_tx_time;
	p->delivered_time = r->delivered_time;
	p->delivered = r->delivered;
	p->app_limited = r->app_limited != 0;
}

void hxs_tcp_rate_sent(struct hxs_tcp_conn *c, uint32_t seq, uint32_t len, uint64_t now)
{
	struct hxs_tcp_rate *r = &c->rate;
	uint32_t end = seq + len, top;

	if (!len)
		return;
	if (c->snd_una == c->snd_max) {
		/* §3.2: "If there are no packets in flight yet, then we can start the delivery
		 * rate interval at the current time" */
		r->first_tx_time = r->delivered_time = now;
		/* Linux's CA_EVENT_TX_START: the flight drained while application-limited */
		if (r->app_limited && c->cc.ops->on_tx_start)
			c->cc.ops->on_tx_start(&c->cc, now);
	}
	top = r->n ? rec_at(r, r->n - 1)->end : seq;
	/* a retransmission: the records it covers go again (their delivery info with them) */
	if (r->n && SEQ_LT(seq, top)) {
		for (uint32_t i = rec_find(r, seq); i < r->n; i++) {
			struct hxs_rate_rec *p = rec_at(r, i);

			if (!SEQ_LT(p->seq, end))
				break;
			if (p->sacked)
				continue;
			rec_stamp(r, p, now);
			p->retrans = 1;
		}
		if (!SEQ_GT(end, top))
			return;
		seq = top;
	}
	if (rec_room(r))
		return;             /* too many in flight: this one goes untimed */
	struct hxs_rate_rec *p = rec_at(r, r->n++);

	p->seq = seq;
	p->end = end;
	p->sacked = p->retrans = 0;
	rec_stamp(r, p, now);
}

/* §3.3 UpdateRateSample(P) for the bytes [.., ..) of p now delivered. */
static inline __attribute__((always_inline)) void rec_deliver(struct hxs_tcp_conn *c, struct hxs_rate_rec *p,
								uint32_t bytes, uint64_t now)
{
	struct hxs_tcp_rate *r = &c->rate;
	struct hxs_rate_sample *rs = &r->rs;

	r->delivered += bytes;
	r->delivered_time = now;
	rs->acked_sacked += bytes;
	/* "Update info using the newest packet" (Linux: the one sent last, by time, then by
	 * sequence) */
	if (!rs->has_data || p->tx_time > r->newest_tx ||
	    (p->tx_time == r->newest_tx && SEQ_GT(p->end, r->newest_end))) {
		rs->has_data = 1;
		rs->prior_delivered = p->delivered;
		rs->prior_time = p->delivered_time;
		rs->is_app_limited = p->app_limited;
		rs->send_elapsed = (uint32_t)(p->tx_time - p->first_tx_time);
		rs->ack_elapsed = (uint32_t)(now - p->delivered_time);
		/* "C.first_sent_time = P.sent_time": the next flight's interval starts here */
		r->first_tx_time = p->tx_time;
		r->newest_tx = p->tx_time;
		r->newest_end = p->end;
		/* RTT only from a packet sent once (Karn), microsecond-exact; none from one sent
		 * at this very time (the loop's turn reads its clock once: a packet sent and
		 * answered within one turn has no measurable RTT, not one of 0) */
		rs->rtt_us = p->retrans || now == p->tx_time ? 0 : (uint32_t)(now - p->tx_time);
	}
}

/* A fresh sample: what rec_deliver() sets only for a delivered packet starts empty; the
 * rest (prior_*, the elapsed times) is read only with has_data, and hxs_tcp_cc_ack(), which
 * process_ack() (or the ACK's rest) always calls after this, sets every other field before
 * anything reads the sample. */
static inline void sample_begin(struct hxs_rate_sample *rs, uint32_t pipe)
{
	rs->has_data = 0;
	rs->is_app_limited = 0;
	rs->rtt_us = 0;
	rs->acked_sacked = 0;
	rs->prior_in_flight = pipe;
}

/* The cumulative ACK ack of SND.UNA una: records below it leave (a partly acknowledged one is
 * trimmed). */
static inline void ack_cum(struct hxs_tcp_conn *c, uint32_t una, uint32_t ack, uint64_t now)
{
	struct hxs_tcp_rate *r = &c->rate;

	if (!SEQ_GT(ack, una) || SEQ_GT(ack, c->snd_max))
		return;
	while (r->n) {
		struct hxs_rate_rec *p = rec_at(r, 0);

		if (!SEQ_GT(ack, p->seq))
			break;
		if (SEQ_LT(ack, p->end)) {
			if (!p->sacked)
				rec_deliver(c, p, SEQ_DIFF(ack, p->seq), now);
			p->seq = ack;
			break;
		}
		if (!p->sacked)
			rec_deliver(c, p, SEQ_DIFF(p->end, p->seq), now);
		r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
		r->n--;
	}
}

void hxs_tcp_rate_ack_cum(struct hxs_tcp_conn *c, uint32_t una, uint32_t ack, uint32_t pipe,
			  uint64_t now)
{
	sample_begin(&c->rate.rs, pipe);
	if (c->rate.n)
		ack_cum(c, una, ack, now);
}

void hxs_tcp_rate_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint32_t pipe, uint64_t now)
{
	struct hxs_tcp_rate *r = &c->rate;

	sample_begin(&r->rs, pipe);
	if (!r->n)
		return;
	/* SACKed records: each a block covers whole (RFC 2018: blocks are whole segments);
	 * blocks below SND.UNA or beyond SND.MAX (D-SACK, invalid) find none not already
	 * delivered. */
	if (c->sack_ok) {
		for (int b = 0; b < s->opt.nsack; b++) {
			uint32_t bs = s->opt.sack[b].start, be = s->opt.sack[b].end;

			if (!SEQ_LT(bs, be) || SEQ_GT(be, c->snd_max))
				continue;
			for (uint32_t i = rec_find(r, bs); i < r->n; i++) {
				struct hxs_rate_rec *p = rec_at(r, i);

				if (SEQ_GT(p->end, be))
					break;
				if (p->sacked || SEQ_LT(p->seq, bs))
					continue;
				rec_deliver(c, p, SEQ_DIFF(p->end, p->seq), now);
				p->sacked = 1;
			}
		}
	}
	/* the cumulative ACK */
	ack_cum(c, c->snd_una, s->ack, now);
}

void hxs_tcp_cc_ack(struct hxs_tcp_conn *c, uint32_t pipe, uint64_t now)
{
	struct hxs_tcp_rate *r = &c->rate;
	struct hxs_rate_sample *rs = &r->rs;

	/* §3.3 GenerateRateSample(): "Clear app-limited field if bubble is ACKed and gone" */
	if (r->app_limited && r->delivered > r->app_limited)
		r->app_limited = 0;
	if (rs->rtt_us) {
		if (!r->min_rtt_us || rs->rtt_us < r->min_rtt_us)
			r->min_rtt_us = rs->rtt_us;
		/* RFC 6298 §2.3's SRTT of microsecond samples: the timestamp clock's 1 ms ticks
		 * (RFC 7323 RTTM) say nothing on a path of tens of us */
		r->srtt_us = r->srtt_us ? r->srtt_us - r->srtt_us / 8 + rs->rtt_us / 8 : rs->rtt_us;
		if (!r->srtt_us)
			r->srtt_us = 1;
	}
	c->cc.srtt_us = r->srtt_us ? r->srtt_us : c->srtt_us;
	rs->losses = (uint32_t)((c->total_retrans - r->retrans_seen) * c->mss);
	r->retrans_seen = c->total_retrans;
	rs->in_flight = pipe;
	rs->in_recovery = c->recovery != HXS_REC_NONE;
	rs->c_delivered = r->delivered;
	rs->c_delivered_time = r->delivered_time;
	rs->delivered = -1;
	rs->interval_us = -1;
	if (rs->has_data && rs->prior_time) {
		rs->delivered = (int64_t)(r->delivered - rs->prior_delivered);
		/* "use the longer of the two ... to avoid underestimating the interval" */
		rs->interval_us = rs->send_elapsed > rs->ack_elapsed ? rs->send_elapsed : rs->ack_elapsed;
		/* "a sample shorter than min_rtt" is an ACK compression artifact (Linux drops
		 * those too) */
		if (rs->interval_us < (int64_t)r->min_rtt_us)
			rs->interval_us = -1;
	}
	if (rs->interval_us > 0 && rs->delivered > 0) {
		r->last_rate = (uint64_t)rs->delivered * 1000000 / (uint64_t)rs->interval_us;
		r->last_rate_app_limited = rs->is_app_limited;
	}
	if (!c->cc.ops->cong_control)
		return;
	c->cc.ops->cong_control(&c->cc, rs, now);
	if (c->cc.mark_app_limited) {
		c->cc.mark_app_limited = 0;
		r->app_limited = r->delivered + rs->in_flight ? r->delivered + rs->in_flight : 1;
	}
}
