/* tcp_predict.c - header prediction's second case: the next in-order data segment that also
 * acknowledges new data of ours (every segment of a request/response exchange).
 *
 * hxs_tcp__input_slot() (tcp_input.c), the first prediction (tcp_predict.h) not taken
 *   -> hxs_tcp_conn_input_data_ack(): data_ack_predicted() (HxsTcpHeaderPredictedAck)
 *      -> hxs_tcp_check_ack_rest_later()   the fifth step in full (tcp_process.c), its RACK
 *                               and congestion-control part maybe after the answer went
 *                               (tcp_ack_rest.c)
 *      -> text_predicted()      the seventh (tcp_predict.h)
 *      -> hxs_tcp_output(), hxs_tcp_notify(); or the ACK waits for the batch's end or one
 *         poll (hxs_tcp__poll)
 */
#include "tcp_conn.h"
#include "tcp_input.h"
#include "tcp_predict.h"

/* Header prediction's second case: the next in-order data segment that also acknowledges new
 * data of ours - every segment of a request/response exchange (an answer acknowledges its
 * question) or of a two-way transfer. Taken only when every step of §3.10.7.4 but the fifth
 * has a known outcome, so the result is what sync_input() gives:
 *   ESTABLISHED (checked here too: a callback run by the fast-path pickup before it may have
 *     moved the state), flags ACK (PSH allowed), SEG.SEQ = RCV.NXT with data and a
 *     window open: the first step accepts it; no RST, SYN, URG, FIN: second, fourth, sixth,
 *     eighth pass;
 *   timestamps as agreed and SEG.TSval >= TS.Recent: PAWS (RFC 7323 §5.3) passes;
 *   SND.UNA < SEG.ACK =< SND.MAX: the fifth step, check_ack() itself, takes the ACK (its
 *     SACK blocks too);
 *   no out-of-order ranges and no FIN held: no D-SACK (RFC 2883: nothing held twice), the
 *     segment goes straight to the ring (rcv_append, as hxs_tcp_reass_insert() would);
 *   not closed by the user: nobody needs the RFC 1122 §4.2.2.13 reset.
 * Everything else goes the long way. */
static inline int data_ack_predicted(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	return c->state == HXS_TCPS_ESTABLISHED &&
	       (s->flags & (uint8_t)~HXS_TH_PSH) == HXS_TH_ACK && s->seq == c->rcv_nxt && s->len &&
	       SEQ_GT(c->rcv_adv, c->rcv_nxt) && SEQ_GT(s->ack, c->snd_una) &&
	       SEQ_LEQ(s->ack, c->snd_max) &&
	       (c->reass.n | c->reass.has_fin | c->user_closed) == 0 &&
	       (c->ts_ok ? s->opt.has_ts && !SEQ_LT(s->opt.tsval, c->ts_recent) : !s->opt.has_ts);
}

/* The segment data_ack_predicted() takes, all of it (conn_input_rest()'s work for it, the
 * steps of known outcome left out); 0 (nothing done) if s is not one. */
int hxs_tcp_conn_input_data_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now,
				int held)
{
	if (!data_ack_predicted(c, s))
		return 0;
	MIB_INC(c->tcp, HxsTcpHeaderPredictedAck);
	/* fifth step, as any ACK takes it; its RACK and congestion-control part may run after
	 * the answer's segment went (tcp_ack_rest.c) */
	enum step st = hxs_tcp_check_ack_rest_later(c, s, now);
	if (st == STEP_GONE)
		return 1;
	if (st == STEP_NEXT) {
		/* seventh step: process_text() for an in-order segment with no ranges held (its
		 * D-SACK look, dsack_note(), finds nothing) */
		text_predicted(c, s, now);
	}
	/* what conn_input_rest() does after sync_input() */
	if (held && !c->ack_now)
		c->ack_now = c->ack_held = 1;
	if ((c->ack_held && c->ack_now && c->state == HXS_TCPS_ESTABLISHED) || c->ack_defer) {
		/* the ACK waits for the batch's end, or one poll: output then (hxs_tcp__poll) */
		c->tcp->acks_waiting += c->ack_now;
		hxs_tcp_mark_dirty(c);
		hxs_tcp_notify(c);
		return 1;
	}
	if (c->ar_pprev && !c->ack_now && !c->cork && !c->fin_queued &&
	    !SEQ_LT(c->snd_nxt, hxs_tcp_snd_end(c)) && SEQ_GT(c->rcv_adv, c->rcv_nxt)) {
		/* the ACK's rest is pending and output has nothing to send (no ACK due, no data
		 * or FIN waiting, no recovery or probe: the rest's conditions): what it would do
		 * is part of the rest (tcp_ack_rest.c). Not when the segment filled the window
		 * we advertised: the slot's publish, deferred with it, would leave XDP judging a
		 * RST at the new RCV.NXT by the old right edge (hxs_fp_rst_out_of_window), and
		 * drop one the stack accepts. */
		c->ar_output = c->ar_publish = 1;
		hxs_tcp_notify(c);
		return 1;
	}
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	return 1;
}
