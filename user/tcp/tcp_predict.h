/* tcp_predict.h - header prediction (Van Jacobson's): a segment of an ESTABLISHED connection
 * whose steps of RFC 9293 §3.10.7.4 all have a known outcome, processed with that outcome
 * only. Inline in hxs_tcp__input_slot() (tcp_input.c), before the rest of the segment is
 * parsed, and in the second prediction (tcp_predict.c).
 *
 * conn_input_predicted()   header_predicted(): the next in-order data segment of a receiver
 *                          with nothing in flight (HxsTcpHeaderPredicted) ->
 *                          predicted_input(): the fifth step's known outcome (TS.Recent,
 *                          SND.WL1/WL2, RACK's timer) -> text_predicted(); then output and
 *                          notify, or with cfg.ack_batch the batch's end (hxs_tcp__poll)
 * text_predicted()         the seventh step for both predictions: rcv_append() (straight to
 *                          the receive ring), the ACK every second full-sized segment
 *                          (hxs_tcp_measure_ack_mss, inorder_ack_may_wait: tcp_input.h)
 */
#ifndef HXS_TCP_PREDICT_H
#define HXS_TCP_PREDICT_H

#include <stdint.h>
#include <sys/epoll.h>

#include "tcp_conn.h"
#include "tcp_input.h"

/* Header prediction (Van Jacobson's, as in BSD's tcp_input and Linux's tcp_rcv_established):
 * the next in-order data segment of a bulk receiver that has nothing in flight itself. Taken
 * only when every step of §3.10.7.4 has a known outcome, so the result is what sync_input()
 * gives, at a fraction of the cost (but for the congestion control's per-ACK call, below):
 *   ESTABLISHED, flags ACK (PSH allowed), SEG.SEQ = RCV.NXT with data and a window open:
 *     the first step accepts it; no RST, SYN, URG, FIN: second, fourth, sixth, eighth pass;
 *   timestamps as agreed and SEG.TSval >= TS.Recent: PAWS (RFC 7323 §5.3) passes;
 *   SEG.ACK = SND.UNA = SND.MAX, the window unchanged, no SACK blocks: the fifth step
 *     acknowledges nothing new, is no duplicate ACK (nothing outstanding, RFC 5681 §2) and
 *     changes no window, so loss recovery, RACK-TLP (nothing in flight, no probe, no
 *     reordering round, no pending detection), the rate sampler (no records) and ECN (no
 *     ECE) have nothing to do; nor has the congestion control: an ACK with nothing
 *     outstanding delivers no sample, and Linux calls none for it (tcp_ack() goes to
 *     no_queue before tcp_cong_control() when no packets are out; its fast path does not
 *     call tcp_ack() at all when SEG.ACK = SND.UNA);
 *   no out-of-order ranges and no FIN held: the segment goes straight to the ring;
 *   not closed by the user: nobody needs the RFC 1122 §4.2.2.13 reset.
 * Everything else goes the long way. */
static inline int header_predicted(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	const struct hxs_rack *r = &c->rk;

	/* The tests, grouped so that each group is one compare: SEG.ACK = SND.UNA first (a
	 * segment that acknowledges new data, every one of a request/response exchange, fails
	 * here and goes to the second prediction at the cost of one compare), the segment's
	 * flags (all but PSH: ACK alone), then what must be zero - nothing acknowledged or
	 * outstanding, no SACK blocks, no ranges or FIN held, no recovery, SACK board, rate
	 * records, MTU probe - then the rest. */
	return s->ack == c->snd_una && c->state == HXS_TCPS_ESTABLISHED &&
	       (s->flags & (uint8_t)~HXS_TH_PSH) == HXS_TH_ACK &&
	       s->seq == c->rcv_nxt && s->len && SEQ_GT(c->rcv_adv, c->rcv_nxt) &&
	       ((c->snd_una ^ c->snd_max) | (c->snd_nxt ^ c->snd_max) |
		s->opt.nsack | c->reass.n | c->reass.has_fin | c->recovery | c->sb.n | c->rate.n |
		c->mtup_probe) == 0 &&
	       (c->ts_ok ? s->opt.has_ts && !SEQ_LT(s->opt.tsval, c->ts_recent) : !s->opt.has_ts) &&
	       (s->wnd << c->snd_wscale) == c->snd_wnd && !c->user_closed && !c->ecn_cwr &&
	       (!r->on || (r->n | r->tlp_on | r->in_loss | r->advanced | r->dsack_round_on) == 0);
}

/* hxs_tcp_reass_insert() for the predicted segment: SEG.SEQ = RCV.NXT and no ranges held, so
 * the bytes go straight to the receive ring, trimmed to its room (the window), with none of
 * the reassembly's trimming below RCV.NXT or pulling in of ranges. The same returns; *took:
 * the bytes taken. */
static inline __attribute__((always_inline)) int rcv_append(struct hxs_tcp_conn *c, const uint8_t *p,
							     uint32_t len, uint32_t *took)
{
	struct hxs_tcp_ring *r = &c->rcv;
	uint32_t room = r->cap - r->len, got;

	*took = 0;
	if (len > room)
		len = room;
	if (!len)
		return 0;
	got = hxs_tcp_ring__reserve(c->tcp, r, r->len, len);
	if (!got) {
		MIB_INC(c->tcp, TCPRcvQDrop);
		return -1;
	}
	hxs_tcp_ring__write(r, r->len, p, got);
	r->len += got;
	c->rcv_nxt += got;
	*took = got;
	return 1;
}

/* §3.10.7.4 seventh for the segments both predictions take (in order, with data, no
 * out-of-order ranges or FIN held, nobody closed): process_text()'s work for them, no more.
 * ack_held is 0 on entry (conn_input_begin()); ack_now says whether something else made
 * the ACK due already (CE, RFC 3168 §6.1.3: then it goes at once, as process_text()). */
static inline __attribute__((always_inline)) void text_predicted(struct hxs_tcp_conn *c,
								  const struct hxs_tcp_seg *s, uint64_t now)
{
	uint32_t took;

	/* measure_ack_mss()'s usual case inline: a segment at least as large as the estimate
	 * sets it */
	if (s->len >= c->ack_mss) {
		c->last_seg_len = 0;
		c->ack_mss = s->len < c->rcv_mss ? s->len : c->rcv_mss;
	} else {
		hxs_tcp_measure_ack_mss(c, s);
	}
	if (c->ecn_ok)
		hxs_tcp_ecn_data_in(c, s);   /* RFC 3168 §6.1.3: CWR, CE (tcp_ecn.c) */
	int r = rcv_append(c, s->data, s->len, &took);
	c->bytes_received += took;
	if (took)
		c->ev_last &= ~(uint32_t)EPOLLIN;
	if (c->segs_unacked < UINT16_MAX)
		c->segs_unacked++;
	if (r == 1) {
		/* §3.8.6.3 / RFC 5681 §4.2: ACK at least every second full-sized segment (of the
		 * peer's size), and within 40 ms otherwise; an ACK already due (ack_now, which
		 * the append leaves) goes at once */
		if (SEQ_DIFF(c->rcv_nxt, c->last_ack_sent) >= 2 * c->ack_mss) {
			if (!c->ack_now && inorder_ack_may_wait(c))
				c->ack_held = 1;
			c->ack_now = 1;
		} else {
			hxs_tcp_delack_arm(c, now);
		}
	} else {
		/* no room: the ACK goes at once (ack_may_wait() holds none without ranges) */
		c->ack_now = 1;
	}
	hxs_tcp_urg_fetch(c);                /* the urgent byte, now in order */
}

/* The predicted segment (header_predicted() says why each step's outcome is known): what
 * check_ack()/process_ack() and process_text() would change, no more. */
static inline __attribute__((always_inline)) void predicted_input(struct hxs_tcp_conn *c,
								   const struct hxs_tcp_seg *s, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;

	MIB_INC(tcp, HxsTcpHeaderPredicted);
	/* fifth step: update_ts_recent(), of whose tests header_predicted() made SEG.TSval >=
	 * TS.Recent (and has_ts = ts_ok) */
	if (c->ts_ok && SEQ_LEQ(s->seq, c->last_ack_sent)) {
		c->ts_recent = s->opt.tsval;
		c->ts_recent_age = now;
	}
	/* no hxs_tcp_rack_ack_begin(): its per-ACK fields are read only by RACK's ACK
	 * processing (hxs_tcp_rack_on_sack/_on_dsack/_on_ack), which none of this path calls
	 * and which every ACK's processing begins with it anew */
	/* hxs_tcp_rate_ack() without records: an empty sample, which nothing reads (no
	 * hxs_tcp_cc_ack() below) */
	c->probes_out = 0;
	/* the window update of process_ack(): same window, newer SND.WL1/WL2 */
	if (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
		if (hxs_timer__armed(&c->t_persist) && c->snd_wnd)
			hxs_wheel__cancel(&tcp->wheel, &c->t_persist);
	}
	/* hxs_tcp_recovery_on_ack(acked 0, not a duplicate): RACK's bookkeeping with an empty
	 * record ring, nothing in flight (its "arm" step); without RACK nothing */
	c->cc.flight = 0;
	if (c->rk.on) {
		if (SEQ_LT(c->rk.fack, c->snd_una))     /* SEQ_MAX(RACK.fack, SND.UNA) */
			c->rk.fack = c->snd_una;
		if (hxs_timer__armed(&c->rk.t))
			hxs_wheel__cancel(&tcp->wheel, &c->rk.t);
	}
	/* hxs_tcp_ecn_ack_in(): no ECE, no CWR window open (header_predicted), nothing to do;
	 * no hxs_tcp_cc_ack() with nothing outstanding (header_predicted() says why) */
	text_predicted(c, s, now);         /* seventh */
}

/* The predicted segment, all of it; 0 (nothing done) if s is not one. Reads of s only what
 * hxs_tcp__input_slot() fills before it: seq, ack, flags, wnd, data, len, optlen, ecn, opt. */
static inline __attribute__((always_inline)) int conn_input_predicted(struct hxs_tcp_conn *c,
								      const struct hxs_tcp_seg *s,
								      uint64_t now, int held)
{
	if (!header_predicted(c, s))
		return 0;
	predicted_input(c, s, now);
	if (held && !c->ack_now)
		c->ack_now = c->ack_held = 1;
	/* With the batch's end to come (cfg.ack_batch), what this segment leaves to do - the
	 * held ACK, the slot's new RCV.NXT, the readers' wake-up - is done there once for the
	 * batch (hxs_tcp__poll: output, notify): the segment changed nothing else output looks
	 * at (header_predicted: no ACK progress, the same window). */
	if (c->tcp->cfg.ack_batch && (!c->ack_now || c->ack_held)) {
		c->tcp->acks_waiting += c->ack_now;
		hxs_tcp_mark_dirty(c);
		return 1;
	}
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	return 1;
}

#endif
