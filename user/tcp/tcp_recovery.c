/* tcp_recovery.c - loss detection and recovery on the sender side.
 *
 * process_ack()     -> hxs_tcp_recovery_on_ack()   (inline, tcp_conn.h) without RACK:
 *                      hxs_tcp_recovery_on_ack_sack() dupack counting, fast retransmit
 *                                                  (RFC 5681 §3.2), NewReno (RFC 6582),
 *                                                  SACK loss recovery entry/exit (RFC 6675 §5)
 * hxs_tcp_output()  -> hxs_tcp_recovery_output()   RFC 6675 NextSeg() rule 1 while
 *                                                  cwnd - pipe allows (new data, rule 2, is
 *                                                  then sent by output_data())
 * rexmt_fire()      -> hxs_tcp_recovery_on_rto()
 * With SACK and RACK selected (the default) each of these hands over to tcp_rack.c.
 * The congestion-control algorithm (tcp_cc.h) only sets cwnd/ssthresh through its hooks.
 */
#include "tcp_conn.h"

#define DUPTHRESH 3

/* Bytes of the hole [0, hl) (offsets from its start) in MSS chunks that start below `lim`
 * (an offset from the hole's start, may be negative): chunk k covers [k*mss, (k+1)*mss). */
static uint32_t chunks_below(int64_t lim, uint32_t hl, uint32_t mss)
{
	if (lim <= 0)
		return 0;
	uint64_t k = ((uint64_t)lim + mss - 1) / mss;      /* chunks starting below lim */
	uint64_t bytes = k * mss;
	return bytes < hl ? (uint32_t)bytes : hl;
}

/* RFC 6675 §4 SetPipe(): octets not SACKed and not lost, plus octets retransmitted, walked
 * per SMSS chunk of each hole as the RFC does ("for each octet ... IsLost(S1.seq)").
 *
 * IsLost(seq) only becomes false as seq grows (fewer bytes and fewer ranges lie above a
 * higher seq), so there is one boundary: seq is lost iff seq < lost_end. Two tests make it:
 *   "more than (DupThresh - 1) * SMSS bytes ... greater than SeqNum have been SACKed":
 *     with T = (DupThresh - 1) * SMSS, the SACKed bytes in [seq + 1, inf) exceed T iff
 *     seq + 1 <= X, X being where the highest T + 1 SACKed bytes begin;
 *   "DupThresh discontiguous SACKed sequences have arrived above SeqNum": at least
 *     DupThresh ranges end above seq + 1 iff seq + 1 < end of the DupThresh-th range from
 *     the top.
 * One walk down the ranges finds both; then each hole's lost and retransmitted chunks are
 * counted arithmetically: O(ranges) per call instead of O(lost segments x ranges). */
uint32_t hxs_tcp_pipe_sack(const struct hxs_tcp_conn *c)
{
	const struct hxs_sack_board *b = &c->sb;
	uint32_t una = c->snd_una, mss = c->mss ? c->mss : 1;
	if (!b->n || !SEQ_LT(una, b->high_sacked))
		return SEQ_DIFF(c->snd_max, c->snd_una);

	/* lost_end as a signed offset from snd_una (<= 0: nothing is lost). */
	int64_t lost_end = 0;
	uint32_t need = (DUPTHRESH - 1) * mss + 1, acc = 0;
	for (uint32_t i = b->n; i-- > 0;) {
		uint32_t len = SEQ_DIFF(b->r[i].end, b->r[i].start);
		if (acc + len >= need) {
			int64_t x = (int32_t)(b->r[i].end - (need - acc) - una);
			if (x > lost_end)
				lost_end = x;
			break;
		}
		acc += len;
	}
	if (b->n >= DUPTHRESH) {
		int64_t x = (int64_t)(int32_t)(b->r[b->n - DUPTHRESH].end - una) - 1;
		if (x > lost_end)
			lost_end = x;
	}
	int64_t rxt_end = (int32_t)(c->high_rxt - una);

	uint32_t pipe = 0, seq = una;
	for (uint32_t i = 0; i < b->n; i++) {
		if (SEQ_LEQ(b->r[i].start, seq)) {
			if (SEQ_GT(b->r[i].end, seq))
				seq = b->r[i].end;
			continue;
		}
		/* hole [seq, r[i].start) */
		uint32_t hl = SEQ_DIFF(b->r[i].start, seq);
		int64_t hs = (int64_t)SEQ_DIFF(seq, una);
		pipe += hl - chunks_below(lost_end - hs, hl, mss);   /* not lost */
		pipe += chunks_below(rxt_end - hs, hl, mss);         /* retransmitted */
		seq = b->r[i].end;
	}
	if (SEQ_LT(b->high_sacked, c->snd_max))
		pipe += SEQ_DIFF(c->snd_max, b->high_sacked);
	return pipe;
}

/* Retransmits up to maxlen bytes at seq (with the FIN if it is the last of the stream), no
 * more than the peer's window takes. Returns the sequence space sent, or -1 if nothing went. */
int hxs_tcp_retransmit_flags(struct hxs_tcp_conn *c, uint32_t seq, uint32_t maxlen, uint8_t psh,
			     uint64_t now)
{
	uint32_t end = hxs_tcp_snd_end(c);
	/* Only what was sent before (RFC 5681 §3.2: "retransmit the lost segment"): run on
	 * into data never sent, it would go out without SND.MAX moving, the peer would
	 * acknowledge more than we think we sent, and an ACK above SND.NXT is only answered
	 * with an ACK (RFC 9293 §3.10.7.4): the ends desynchronize and ACK each other forever. */
	uint32_t sent = SEQ_LT(c->snd_max, end) ? c->snd_max : end;
	uint32_t len = SEQ_LT(seq, sent) ? SEQ_DIFF(sent, seq) : 0;
	if (len > maxlen)
		len = maxlen;
	if (len > hxs_tcp_send_mss(c))             /* RFC 9293 §3.7.1: room for the SACK blocks */
		len = hxs_tcp_send_mss(c);
	/* Within the peer's window as it is now: a peer that shrank it (RFC 9293 §3.8.6) drops
	 * text beyond RCV.NXT + RCV.WND (§3.10.7.4). As Linux's __tcp_retransmit_skb(): a
	 * segment that starts at or beyond the right edge goes only if it is the head (SND.UNA:
	 * one segment then probes a zero window), one that ends beyond it is cut at the edge
	 * (its PSH, on the last byte, stays with the rest). */
	uint32_t right = c->snd_una + c->snd_wnd;
	if (!SEQ_LT(seq, right)) {
		if (seq != c->snd_una)
			return -1;
	} else if (SEQ_GT(seq + len, right)) {
		len = SEQ_DIFF(right, seq);
		psh = 0;
	}
	int fin = c->fin_queued && seq + len == end && SEQ_GT(c->snd_max, end);
	if (!len && !fin)
		return -1;
	if (hxs_tcp_send_seg(c, seq, HXS_TH_ACK | psh | (fin ? HXS_TH_FIN : 0), len, now) < 0)
		return -1;
	MIB_INC(c->tcp, TcpRetransSegs);
	c->total_retrans++;
	return (int)(len + (uint32_t)fin);
}

int hxs_tcp_retransmit(struct hxs_tcp_conn *c, uint32_t seq, uint32_t maxlen, uint64_t now)
{
	return hxs_tcp_retransmit_flags(c, seq, maxlen, 0, now);
}

void hxs_tcp_recovery_on_rto(struct hxs_tcp_conn *c, uint64_t now)
{
	hxs_tcp_rack_on_rto(c, now);       /* before cwnd changes: what F-RTO may undo */
	c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
	c->cc.ops->on_rto(&c->cc, now);
	c->recovery = HXS_REC_NONE;
	c->dupacks = 0;
	/* RFC 6582 §3.2 step 4 (timeout): "record the highest sequence number transmitted in
	 * the variable recover". */
	c->recover = c->snd_max;
	/* RFC 6675 §5.1: after an RTO the scoreboard is not trusted; we clear it. RACK keeps
	 * its SACK marks, as Linux does (RTO recovery retransmits only what is not SACKed). */
	if (!c->rk.on)
		hxs_sack__reset(&c->sb);
	c->high_rxt = c->snd_una;
}

/* What hxs_tcp_recovery_on_ack() (tcp_conn.h: sets cc.flight, hands RACK's ACKs to
 * tcp_rack.c) calls without RACK. */
void hxs_tcp_recovery_on_ack_sack(struct hxs_tcp_conn *c, uint32_t acked, int dup,
				  uint32_t newly_sacked, uint32_t rtt_us, uint64_t now)
{
	struct hxs_cc *cc = &c->cc;

	switch (c->recovery) {
	case HXS_REC_NONE:
		if (acked) {
			c->dupacks = 0;
			hxs_tcp_cc_grow(c, acked, rtt_us, now);
			return;
		}
		if (!dup && !newly_sacked)
			return;
		/* RFC 5681 §3.2 / RFC 6675 §5: count duplicate ACKs (an ACK bringing new SACK
		 * information counts, §5 "(a)"). */
		c->dupacks++;
		if (c->dupacks < DUPTHRESH &&
		    !(c->sack_ok && hxs_sack__is_lost(&c->sb, c->snd_una, c->mss, DUPTHRESH)))
			return;
		/* RFC 6582 §3.2 step 2: "If the Cumulative Acknowledgment field didn't cover
		 * more than recover, ... do not enter the Fast Retransmit". */
		if (!SEQ_GT(c->snd_una, c->recover) && c->recover != c->iss)
			return;
		c->recover = c->snd_max;
		/* RFC 3168 §6.1.2: cwnd is "halved only once in response to losses and ECN in
		 * the same window" (tcp_ecn.c) */
		if (!hxs_tcp_ecn_reduced(c))
			cc->ops->on_loss(cc, now);
		c->rtt_timing = 0;
		MIB_INC(c->tcp, TCPFastRetrans);
		if (c->sack_ok) {
			/* RFC 6675 §5 step (4): RecoveryPoint = HighData, cwnd = ssthresh (the
			 * algorithm's on_loss), then NextSeg() retransmissions by output. */
			c->recovery = HXS_REC_SACK;
			c->high_rxt = c->snd_una;
			c->rec_first = 1;
			c->rescue_done = 0;
			MIB_INC(c->tcp, TCPSackRecovery);
		} else {
			/* RFC 6582 §3.2 step 3: retransmit, "set cwnd to ssthresh plus 3*SMSS". */
			c->recovery = HXS_REC_NEWRENO;
			MIB_INC(c->tcp, TCPRenoRecovery);
			hxs_tcp_retransmit(c, c->snd_una, c->mss, now);
			cc->cwnd = cc->ssthresh + DUPTHRESH * c->mss;
		}
		return;
	case HXS_REC_NEWRENO:
		if (!acked) {
			if (dup)
				cc->cwnd += c->mss;     /* §3.2 step 4: inflate per extra dupack */
			return;
		}
		if (SEQ_GEQ(c->snd_una, c->recover)) {
			/* Step 5, full acknowledgment: "Set cwnd to either (1) min (ssthresh,
			 * max(FlightSize, SMSS) + SMSS) or (2) ssthresh" - the algorithm's exit. */
			c->recovery = HXS_REC_NONE;
			c->dupacks = 0;
			cc->ops->on_recovery_exit(cc, now);
			uint32_t fl = cc->flight > c->mss ? cc->flight : c->mss;
			if (cc->cwnd > fl + c->mss)
				cc->cwnd = fl + c->mss;
			return;
		}
		/* Partial acknowledgment: "retransmit the first unacknowledged segment ...
		 * deflate the congestion window by the amount of new data acknowledged ... add
		 * back SMSS bytes if the partial ACK acknowledges at least SMSS bytes". */
		hxs_tcp_retransmit(c, c->snd_una, c->mss, now);
		cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : c->mss;
		if (acked >= c->mss)
			cc->cwnd += c->mss;
		hxs_tcp_rexmt_arm(c, now);
		return;
	case HXS_REC_SACK:
		if (acked && SEQ_GEQ(c->snd_una, c->recover)) {
			/* RFC 6675 §5: "When a TCP sender receives a cumulative ACK for this data
			 * octet [RecoveryPoint] the loss recovery phase is terminated". */
			c->recovery = HXS_REC_NONE;
			c->dupacks = 0;
			cc->ops->on_recovery_exit(cc, now);
		}
		if (SEQ_LT(c->high_rxt, c->snd_una))
			c->high_rxt = c->snd_una;
		/* Lost retransmission: the segment at snd_una was retransmitted, yet data sent
		 * after that retransmission is SACKed DupThresh segments deep while snd_una has
		 * not moved - by the RFC 6675 IsLost() reasoning it was lost again. NextSeg()
		 * may send it once more (without this only the RTO would). */
		if (c->recovery == HXS_REC_SACK && SEQ_GT(c->high_rxt, c->snd_una) && c->sb.n &&
		    SEQ_GEQ(c->sb.high_sacked, c->una_rxt_mark + DUPTHRESH * c->mss) &&
		    !hxs_sack__any(&c->sb, c->snd_una, 1)) {
			MIB_INC(c->tcp, TCPLostRetransmit);
			c->high_rxt = c->snd_una;
			c->una_rxt_mark = c->snd_max;
		}
		return;
	}
}

/* With RACK: RFC 6675 §5 step (C) with RACK's marks (RFC 8985 §3.4: retransmit what is
 * lost): the lowest lost segments first, while cwnd - pipe >= 1 SMSS; PSH kept. */
static void rack_output(struct hxs_tcp_conn *c, uint64_t now)
{
	uint32_t pipe = hxs_tcp_rack_pipe(c), i = 0, seq, len;
	int psh;

	while (c->cc.cwnd >= pipe + c->mss && hxs_tcp_rack_next_lost(c, &i, &seq, &len, &psh)) {
		uint8_t p = psh && len <= hxs_tcp_send_mss(c) ? HXS_TH_PSH : 0;
		int k = hxs_tcp_retransmit_flags(c, seq, len, p, now);

		if (k <= 0)
			break;
		/* the head sent again: the RTO restarts from it (Linux's
		 * tcp_xmit_retransmit_queue() re-arms it for the first segment) */
		if (seq == c->snd_una)
			hxs_tcp_rexmt_arm(c, now);
		pipe += (uint32_t)k;
		i++;
	}
}

void hxs_tcp_recovery_output(struct hxs_tcp_conn *c, uint64_t now)
{
	if (c->rk.on) {
		rack_output(c, now);
		return;
	}
	if (c->recovery != HXS_REC_SACK)
		return;
	const struct hxs_sack_board *b = &c->sb;
	uint32_t pipe = hxs_tcp_pipe(c);
	int first = c->rec_first;
	uint32_t end = hxs_tcp_snd_end(c);
	/* Can NextSeg() rule (2), new data, be used? Then rules (3) and (4) must wait. */
	int new_data = SEQ_LT(c->snd_nxt, end) && SEQ_LT(c->snd_nxt, c->snd_una + c->snd_wnd);
	/* RFC 6675 §5 step (C): "while (cwnd - pipe) >= 1 SMSS" run NextSeg(). The first
	 * retransmission of a recovery episode goes regardless (step 4.3, fast retransmit). */
	while (first || c->cc.cwnd >= pipe + c->mss) {
		uint32_t seq = SEQ_MAX(c->high_rxt, c->snd_una), hs = 0, hl = 0;
		int found = 0, rescue = 0;
		/* NextSeg() rule (1): "If there exists a smallest unSACKed sequence number 'S2'
		 * that meets the following three criteria for determining loss, the sequence
		 * range of one segment of up to SMSS octets starting with S2 MUST be returned:
		 * S2 > HighRxt, S2 < HighACK [highest SACKed], IsLost (S2) is true." */
		while (b->n && SEQ_LT(seq, b->high_sacked) && hxs_sack__next_hole(b, seq, &hs, &hl)) {
			if (SEQ_LT(hs, seq)) {
				hl -= SEQ_DIFF(seq, hs);
				hs = seq;
			}
			if (first || hxs_sack__is_lost(b, hs, c->mss, DUPTHRESH)) {
				found = 1;
				break;
			}
			seq = hs + hl;
		}
		if (!found && first && !b->n) {
			hs = c->snd_una;              /* dupacks without SACK blocks */
			hl = c->mss;
			found = 1;
		}
		/* Rule (3): "If the conditions for rules (1) and (2) fail, but there exists an
		 * unSACKed sequence number S3 such that S3 > HighRxt, S3 < HighACK", send it. */
		if (!found && !new_data) {
			seq = SEQ_MAX(c->high_rxt, c->snd_una);
			if (b->n && SEQ_LT(seq, b->high_sacked) && hxs_sack__next_hole(b, seq, &hs, &hl)) {
				if (SEQ_LT(hs, seq)) {
					hl -= SEQ_DIFF(seq, hs);
					hs = seq;
				}
				found = 1;
			}
		}
		/* Rule (4): "a single "rescue" retransmission per entry into loss recovery ...
		 * a segment of no more than 1 SMSS octets that MUST end at HighData". */
		if (!found && !new_data && !c->rescue_done) {
			uint32_t hi = SEQ_LT(end, c->snd_max) ? end : c->snd_max;
			uint32_t len = SEQ_DIFF(hi, c->snd_una) < c->mss ? SEQ_DIFF(hi, c->snd_una) : c->mss;
			if (len && !hxs_sack__all(b, hi - len, len)) {
				hs = hi - len;
				hl = len;
				found = rescue = 1;
			}
		}
		if (!found)
			break;
		int n = hxs_tcp_retransmit(c, hs, hl, now);
		if (n <= 0)
			break;
		if (rescue)
			c->rescue_done = 1;
		else
			c->high_rxt = hs + (uint32_t)n;
		if (hs == c->snd_una)
			c->una_rxt_mark = c->snd_max;
		pipe += (uint32_t)n;
		first = 0;
		c->rec_first = 0;
	}
}
