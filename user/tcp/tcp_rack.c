/* tcp_rack.c - loss detection and recovery with SACK by time: RACK-TLP (RFC 8985), the
 * sending rate in recovery by Proportional Rate Reduction (RFC 6937), and the undo of
 * spurious retransmissions: F-RTO (RFC 5682), Eifel detection (RFC 3522), D-SACK (RFC 3708).
 * The default with SACK; the RFC 6675 / RFC 6582 path of tcp_recovery.c stays selectable
 * (enum hxs_tcp_recovery_mode). Facts from Linux's tcp_recovery.c and tcp_input.c; the code
 * follows RFC 8985's pseudocode.
 *
 * hxs_tcp_send_seg()            -> hxs_tcp_rack_on_send()    one record per segment: its
 *                                                            [seq, end) and transmit time
 * process_ack() (tcp_process.c) -> hxs_tcp_rack_ack_begin()  the ACK's TSecr, per-ACK state
 *   process_sack()              -> hxs_tcp_rack_on_sack()    records SACKed: rack_update()
 *                               -> hxs_tcp_rack_on_dsack()   D-SACK: reo_wnd, TLP, undo
 *   hxs_tcp_recovery_on_ack()   -> hxs_tcp_rack_on_ack()     records acked, TLP (§7.4),
 *        undo (Eifel, D-SACK, F-RTO), detect_loss() (§6.2), recovery entry/exit, PRR
 * hxs_tcp_output()              -> hxs_tcp_recovery_output() -> hxs_tcp_rack_next_lost()
 *                                  retransmits what is marked lost, within cwnd - pipe
 *                               -> hxs_tcp_rack_sent()       the PTO (§7.2) or RACK timer
 * rexmt_fire() (tcp_timer.c)    -> hxs_tcp_recovery_on_rto() -> hxs_tcp_rack_on_rto()
 *                                  everything not SACKed is lost (RTO recovery), F-RTO begins
 * tcp_rack_timer.c              the RACK reordering timer (§6.2 step 6) and the PTO (§7.3)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

#define DUPTHRESH       3
#define WCDELACKT_US    200000u      /* RFC 8985 §7.2: WCDelAckT, the worst-case delayed ACK */
#define PTO_NO_RTT_US   1000000u     /* §7.2: "PTO = 1 sec" without an RTT sample */
#define MAX_RECORDS     (1u << 16)   /* beyond: a new segment extends the last record */

/* RFC 7323 §5.4's 1 ms clock, as tcp_seg.c sends it (TSval of a time). */
static uint32_t ts_now(const struct hxs_tcp_conn *c, uint64_t t)
{
	return (uint32_t)(t / 1000) + c->ts_offset;
}

static struct hxs_txseg *at(const struct hxs_rack *r, uint32_t i)
{
	return &r->s[(r->head + i) & (r->cap - 1)];
}

/* §6.2 "RACK_sent_after(t1, seq1, t2, seq2)": t1 after t2, or the same time and seq1 after
 * seq2 (the later segment of one burst). */
static int sent_after(uint64_t t1, uint32_t s1, uint64_t t2, uint32_t s2)
{
	return t1 > t2 || (t1 == t2 && SEQ_GT(s1, s2));
}

static int rec_grow(struct hxs_rack *r)
{
	uint32_t ncap = r->cap ? r->cap * 2 : 64;
	struct hxs_txseg *ns = malloc(ncap * sizeof(*ns));

	if (!ns)
		return -1;
	for (uint32_t i = 0; i < r->n; i++)
		ns[i] = *at(r, i);
	free(r->s);
	r->s = ns;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

/* Splits record i at seq (inside it): [seq_i, seq) stays i, [seq, end_i) becomes i + 1. */
static int rec_split(struct hxs_rack *r, uint32_t i, uint32_t seq)
{
	if (r->n == r->cap && rec_grow(r) < 0)
		return -1;
	for (uint32_t k = r->n; k > i + 1; k--)
		*at(r, k) = *at(r, k - 1);
	*at(r, i + 1) = *at(r, i);
	at(r, i)->end = seq;
	at(r, i)->fl &= (uint8_t)~HXS_TXS_PSH;     /* PSH was on the last byte */
	at(r, i + 1)->seq = seq;
	r->n++;
	return 0;
}

/* The first record ending after seq (records are sorted and contiguous); n if none. */
static uint32_t rec_find(const struct hxs_rack *r, uint32_t seq)
{
	uint32_t lo = 0, hi = r->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (SEQ_LEQ(at(r, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t rec_len(const struct hxs_txseg *s)
{
	return SEQ_DIFF(s->end, s->seq);
}

/* Flag changes keep the byte counts of pipe (RFC 6675 §4's, as Linux's
 * tcp_packets_in_flight(): in flight = outstanding - SACKed - lost + retransmitted). */
static void rec_set(struct hxs_rack *r, struct hxs_txseg *s, uint8_t f)
{
	uint32_t len = rec_len(s);
	uint8_t add = f & ~s->fl;

	if (add & HXS_TXS_SACKED) {
		r->sacked_b += len;
		r->segs_sacked++;
	}
	if (add & HXS_TXS_LOST)
		r->lost_b += len;
	if (add & HXS_TXS_RETRANS)
		r->retrans_b += len;
	s->fl |= f;
}

static void rec_clear(struct hxs_rack *r, struct hxs_txseg *s, uint8_t f)
{
	uint32_t len = rec_len(s);
	uint8_t del = f & s->fl;

	if (del & HXS_TXS_SACKED) {
		r->sacked_b -= len;
		r->segs_sacked--;
	}
	if (del & HXS_TXS_LOST)
		r->lost_b -= len;
	if (del & HXS_TXS_RETRANS)
		r->retrans_b -= len;
	s->fl &= (uint8_t)~f;
}

/* Makes records start at a and end at b (when inside one): marks then cover exactly. */
static void rec_cut(struct hxs_rack *r, uint32_t a, uint32_t b)
{
	uint32_t i = rec_find(r, a);

	if (i < r->n && SEQ_LT(at(r, i)->seq, a))
		rec_split(r, i, a);
	i = rec_find(r, b);
	if (i < r->n && SEQ_LT(at(r, i)->seq, b))
		rec_split(r, i, b);
}

/* --- the connection's life ----------------------------------------------------------------- */
void hxs_tcp_rack_init(struct hxs_tcp_conn *c)
{
	hxs_timer__init(&c->rk.t, c->tcp->timer_fns->rack);   /* tcp_rack_timer.c */
	c->rk.mode = c->tcp->cfg.recovery;
}

void hxs_tcp_rack_start(struct hxs_tcp_conn *c)
{
	struct hxs_rack *r = &c->rk;

	hxs_tcp_rack_stop(c);
	r->n = 0;
	r->head = 0;
	r->sacked_b = r->lost_b = r->retrans_b = r->segs_sacked = 0;
	/* RFC 8985 §6.1 initial values */
	r->xmit_ts = 0;
	r->valid = 0;
	r->end_seq = c->snd_una;
	r->rtt = 0;
	r->min_rtt = 0;
	r->fack = c->snd_una;
	r->reord = 0;
	r->advanced = 0;
	r->dsack_round_on = 0;
	r->reo_wnd_mult = 1;
	r->reo_wnd_persist = 16;
	r->tlp_on = 0;
	r->in_loss = r->frto = 0;
	r->undo_ok = 0;
	/* RACK needs SACK (§3.3: it needs to know which segments were delivered) */
	r->on = c->sack_ok && r->mode == HXS_TCP_RECOVERY_RACK;
}

void hxs_tcp_rack_stop(struct hxs_tcp_conn *c)
{
	hxs_wheel__cancel(&c->tcp->wheel, &c->rk.t);
}

void hxs_tcp_rack_free(struct hxs_tcp_conn *c)
{
	hxs_tcp_rack_stop(c);
	free(c->rk.s);
	c->rk.s = NULL;
	c->rk.cap = c->rk.n = c->rk.head = 0;
	c->rk.sacked_b = c->rk.lost_b = c->rk.retrans_b = c->rk.segs_sacked = 0;
}

/* --- sending ------------------------------------------------------------------------------- */
static void undo_note_retrans(struct hxs_tcp_conn *c, uint32_t len, uint64_t now)
{
	struct hxs_rack *r = &c->rk;

	if (!r->undo_ok)
		return;
	r->undo_retrans += len;
	/* RFC 3522 §2: "the timestamp of the first retransmission" (Linux's retrans_stamp) */
	if (!r->retrans_ts_set) {
		r->retrans_tsval = ts_now(c, now);
		r->retrans_ts_set = 1;
	}
}

void hxs_tcp_rack_on_send(struct hxs_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags,
			  uint64_t now)
{
	struct hxs_rack *r = &c->rk;
	uint32_t end = seq + len;

	if (!r->on || !len)
		return;
	if (r->frto == 1 && SEQ_GEQ(seq, c->snd_max))
		r->frto = 2;                     /* RFC 5682 §3 step 2b: new data went */
	if (SEQ_LT(seq, c->snd_max)) {
		/* a retransmission of [seq, min(end, SND.MAX)) */
		uint32_t b = SEQ_LT(end, c->snd_max) ? end : c->snd_max;

		rec_cut(r, seq, b);
		for (uint32_t i = rec_find(r, seq); i < r->n && SEQ_LT(at(r, i)->seq, b); i++) {
			struct hxs_txseg *s = at(r, i);

			s->xmit = now;
			if (!(s->fl & HXS_TXS_SACKED))
				rec_set(r, s, HXS_TXS_RETRANS | HXS_TXS_EVER);
		}
		if (c->recovery)
			r->prr_out += SEQ_DIFF(b, seq);       /* RFC 6937: "prr_out += (data sent)" */
		undo_note_retrans(c, SEQ_DIFF(b, seq), now);
		if (SEQ_LEQ(end, c->snd_max))
			return;
		seq = c->snd_max;
	}
	if (c->recovery)
		r->prr_out += SEQ_DIFF(end, seq);
	struct hxs_txseg *last = r->n ? at(r, r->n - 1) : NULL;
	if (last && last->end != seq)
		return;                          /* not contiguous: cannot happen */
	if (r->n >= MAX_RECORDS && last && !(last->fl & ~HXS_TXS_PSH)) {
		last->end = end;                 /* coarser: the tail keeps one time */
		last->xmit = now;
		last->fl |= (flags & HXS_TH_PSH) ? HXS_TXS_PSH : 0;
		return;
	}
	if (r->n == r->cap && rec_grow(r) < 0) {
		if (last) {
			last->end = end;
			return;
		}
		r->on = 0;                       /* no memory for a record: RFC 6675 recovery */
		return;
	}
	struct hxs_txseg *s = at(r, r->n++);
	s->seq = seq;
	s->end = end;
	s->xmit = now;
	s->fl = (flags & HXS_TH_PSH) ? HXS_TXS_PSH : 0;
}

/* --- an ACK arrives ------------------------------------------------------------------------- */
/* hxs_tcp_rack_ack_begin() is inline in tcp_conn.h */

/* §6.2 step 2, RACK_update(), for one segment newly delivered; step 3,
 * RACK_detect_reordering(); step 1, the minimum RTT. */
static inline __attribute__((always_inline)) void rack_update(struct hxs_tcp_conn *c,
								const struct hxs_txseg *s, uint64_t now)
{
	struct hxs_rack *r = &c->rk;
	uint32_t rtt = now > s->xmit ? (uint32_t)(now - s->xmit) : 1;

	/* step 3: "If Segment.end_seq > RACK.fack: RACK.fack = Segment.end_seq; Else if
	 * Segment.end_seq < RACK.fack AND Segment.retransmitted is FALSE: RACK.reordering_seen
	 * = TRUE" - against the highest SACKed before this ACK, as Linux does, so one ACK's
	 * blocks in any order do not look reordered */
	if (SEQ_GT(s->end, r->fack))
		r->fack = s->end;
	if (SEQ_LT(s->end, r->prior_fack) && !(s->fl & HXS_TXS_EVER))
		r->reord = 1;
	if (!(s->fl & HXS_TXS_SACKED) && !(s->fl & HXS_TXS_EVER))
		r->ack_orig = 1;
	if (s->fl & HXS_TXS_EVER) {
		/* step 2: "If Segment.retransmitted is TRUE: If ACK.ts_option.echo_reply <
		 * Segment.xmit_ts: Return; If rtt < RACK.min_RTT: Return" - the original, not the
		 * retransmission, may have been delivered */
		if (r->ack_tsecr && SEQ_LT(r->ack_tsecr, ts_now(c, s->xmit)))
			return;
		if (rtt < r->min_rtt)
			return;
	} else if (!r->min_rtt || rtt < r->min_rtt) {
		r->min_rtt = rtt;                /* step 1: RACK.min_RTT */
	}
	/* "RACK.rtt = rtt; If RACK_sent_after(Segment.xmit_ts, Segment.end_seq, RACK.xmit_ts,
	 * RACK.end_seq): RACK.xmit_ts = Segment.xmit_ts; RACK.end_seq = Segment.end_seq" (done
	 * in ascending xmit_ts order the last rtt is the newest segment's: kept with it) */
	if (r->valid && !sent_after(s->xmit, s->end, r->xmit_ts, r->end_seq))
		return;
	r->rtt = rtt;
	r->xmit_ts = s->xmit;
	r->end_seq = s->end;
	r->advanced = 1;
	r->valid = 1;
}

static int blk_cmp(const void *a, const void *b)
{
	const struct hxs_sack_range *x = a, *y = b;

	return SEQ_LT(x->start, y->start) ? -1 : x->start != y->start;
}

void hxs_tcp_rack_on_sack(struct hxs_tcp_conn *c, const struct hxs_sack_range *blk, int nblk)
{
	struct hxs_rack *r = &c->rk;
	struct hxs_sack_range b[4];
	uint64_t now = c->tcp->now;

	if (!r->on || nblk <= 0)
		return;
	if (nblk > 4)
		nblk = 4;
	memcpy(b, blk, (size_t)nblk * sizeof(b[0]));
	qsort(b, (size_t)nblk, sizeof(b[0]), blk_cmp);      /* §6.2: in ascending order */
	for (int k = 0; k < nblk; k++) {
		rec_cut(r, b[k].start, b[k].end);
		for (uint32_t i = rec_find(r, b[k].start);
		     i < r->n && SEQ_LEQ(at(r, i)->end, b[k].end); i++) {
			struct hxs_txseg *s = at(r, i);

			if (s->fl & HXS_TXS_SACKED)
				continue;
			rack_update(c, s, now);
			r->ack_delivered += rec_len(s);
			rec_clear(r, s, HXS_TXS_LOST | HXS_TXS_RETRANS);
			rec_set(r, s, HXS_TXS_SACKED);
		}
	}
}

void hxs_tcp_rack_on_dsack(struct hxs_tcp_conn *c, uint32_t a, uint32_t b)
{
	struct hxs_rack *r = &c->rk;
	uint32_t len = SEQ_DIFF(b, a);

	if (!r->on)
		return;
	r->ack_dsack = 1;
	/* §7.4.2 (b): a D-SACK for the probe's retransmission: the original arrived too */
	if (r->tlp_on && r->tlp_retrans && SEQ_LT(a, r->tlp_end) && SEQ_GEQ(b, r->tlp_end))
		r->ack_dsack_tlp = 1;
	/* RFC 3708 §2: each retransmission reported duplicate counts down; at zero every
	 * retransmission of the episode was unnecessary (Linux's undo_retrans) */
	if (r->undo_ok && SEQ_GT(b, r->undo_marker))
		r->undo_retrans = r->undo_retrans > len ? r->undo_retrans - len : 0;
}

/* §6.2 step 4, RACK_update_reo_wnd(): the reordering window now. */
static uint32_t reo_wnd(const struct hxs_tcp_conn *c)
{
	const struct hxs_rack *r = &c->rk;

	if (!r->reord) {
		/* "If RACK.reordering_seen is FALSE: If in Fast or RTO recovery: Return 0; Else
		 * if RACK.segs_sacked >= DupThresh: Return 0" */
		if (c->recovery || r->in_loss)
			return 0;
		if (r->segs_sacked >= DUPTHRESH)
			return 0;
	}
	/* "Return min(RACK.reo_wnd_mult * RACK.min_RTT / 4, SRTT)" */
	uint64_t w = (uint64_t)r->reo_wnd_mult * (r->min_rtt ? r->min_rtt : c->srtt_us) / 4;
	return w < c->srtt_us ? (uint32_t)w : c->srtt_us;
}

/* The D-SACK part of step 4, once per ACK: the window grows by one min_RTT/4 per round trip
 * that saw a D-SACK. */
static void reo_wnd_dsack(struct hxs_tcp_conn *c)
{
	struct hxs_rack *r = &c->rk;

	/* "If RACK.dsack_round is not None AND SND.UNA >= RACK.dsack_round:
	 * RACK.dsack_round = None" */
	if (r->dsack_round_on && SEQ_GEQ(c->snd_una, r->dsack_round))
		r->dsack_round_on = 0;
	/* "If RACK.dsack_round is None AND any DSACK option is present on latest received
	 * ACK: RACK.dsack_round = SND.NXT; RACK.reo_wnd_mult += 1; RACK.reo_wnd_persist = 16" */
	if (!r->dsack_round_on && r->ack_dsack) {
		r->dsack_round_on = 1;
		r->dsack_round = c->snd_max;
		if (r->reo_wnd_mult < 255)
			r->reo_wnd_mult++;
		r->reo_wnd_persist = 16;
	}
}

/* "Else if exiting Fast or RTO recovery: RACK.reo_wnd_persist -= 1; If
 * RACK.reo_wnd_persist <= 0: RACK.reo_wnd_mult = 1" */
static void reo_wnd_recovery_end(struct hxs_rack *r)
{
	if (r->reo_wnd_persist && --r->reo_wnd_persist == 0)
		r->reo_wnd_mult = 1;
}

/* §6.2 step 5, RACK_detect_loss(): marks lost what was sent before the most recently
 * delivered segment and not delivered within RACK.rtt + RACK.reo_wnd; returns the time
 * (us) until the next one would be (0: none waits), *newly the bytes it marked. */
static uint64_t detect_loss(struct hxs_tcp_conn *c, uint64_t now, uint32_t *newly)
{
	struct hxs_rack *r = &c->rk;
	uint64_t timeout = 0;
	uint32_t rw = reo_wnd(c);

	*newly = 0;
	r->advanced = 0;
	if (!r->valid)
		return 0;
	/* "For each segment, Segment, not acknowledged yet" - in sequence order; the segments
	 * never retransmitted are in transmit order too, so the first of them sent after
	 * RACK.xmit_ts ends the walk (Linux walks a time-sorted list the same way) */
	for (uint32_t i = 0; i < r->n; i++) {
		struct hxs_txseg *s = at(r, i);

		if (s->fl & HXS_TXS_SACKED)
			continue;
		if ((s->fl & HXS_TXS_LOST) && !(s->fl & HXS_TXS_RETRANS))
			continue;                /* lost already, not sent again yet */
		/* "If RACK_sent_after(RACK.xmit_ts, RACK.end_seq, Segment.xmit_ts,
		 * Segment.end_seq)" */
		if (!sent_after(r->xmit_ts, r->end_seq, s->xmit, s->end)) {
			if (!(s->fl & HXS_TXS_EVER))
				break;
			continue;
		}
		/* "remaining = Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now()" */
		int64_t rem = (int64_t)(s->xmit + r->rtt + rw) - (int64_t)now;
		if (rem <= 0) {
			/* "Segment.lost = TRUE" */
			if (s->fl & HXS_TXS_RETRANS) {
				rec_clear(r, s, HXS_TXS_RETRANS);
				MIB_INC(c->tcp, TCPLostRetransmit);
			}
			if (!(s->fl & HXS_TXS_LOST))
				*newly += rec_len(s);
			rec_set(r, s, HXS_TXS_LOST);
		} else if ((uint64_t)rem > timeout) {
			timeout = (uint64_t)rem;     /* "timeout = max(remaining, timeout)" */
		}
	}
	return timeout;
}

/* RFC 3522 §2 (Eifel detection): the ACK echoes a timestamp older than the first
 * retransmission: the original was delivered (Linux's tcp_packet_delayed()). */
static int eifel(const struct hxs_tcp_conn *c)
{
	const struct hxs_rack *r = &c->rk;

	return r->retrans_ts_set && r->ack_tsecr && SEQ_LT(r->ack_tsecr, r->retrans_tsval);
}

/* The episode's reduction taken back: cwnd and ssthresh as before it (RFC 3522 §2 / RFC
 * 4015's response, RFC 3708 §3, RFC 5682 §3), the loss marks dropped. */
static void undo(struct hxs_tcp_conn *c)
{
	struct hxs_rack *r = &c->rk;
	struct hxs_cc *cc = &c->cc;

	if (cc->cwnd < r->undo_cwnd)
		cc->cwnd = r->undo_cwnd;
	if (cc->ssthresh < r->undo_ssthresh || cc->ssthresh == UINT32_MAX)
		cc->ssthresh = r->undo_ssthresh;
	for (uint32_t i = 0; i < r->n; i++) {
		struct hxs_txseg *s = at(r, i);

		if ((s->fl & HXS_TXS_LOST) && !(s->fl & HXS_TXS_RETRANS))
			rec_clear(r, s, HXS_TXS_LOST);
	}
	r->undo_ok = 0;
	/* what looked lost was reordered or delayed: keep a reordering window from now on */
	r->reord = 1;
}

static void undo_begin(struct hxs_tcp_conn *c)
{
	struct hxs_rack *r = &c->rk;

	r->undo_ok = 1;
	r->undo_marker = c->snd_una;
	r->undo_retrans = 0;
	r->undo_cwnd = c->cc.cwnd;
	r->undo_ssthresh = c->cc.ssthresh;
	r->retrans_ts_set = 0;
}

/* RFC 6582 §3.2 / RFC 6675 §5 entry with RACK's loss marks (RFC 8985 §3.4: "when a
 * segment is marked lost, the sender enters fast recovery"): ssthresh and cwnd by the
 * algorithm, PRR's state (RFC 6937 §3.1 "RecoverFS = snd.nxt - snd.una"). */
static void enter_recovery(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_rack *r = &c->rk;

	undo_begin(c);
	c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
	/* RFC 3168 §6.1.2: cwnd is "halved only once in response to losses and ECN in the
	 * same window" (tcp_ecn.c) */
	if (!hxs_tcp_ecn_reduced(c))
		c->cc.ops->on_loss(&c->cc, now);
	c->recovery = HXS_REC_SACK;
	c->recover = c->snd_max;
	c->rtt_timing = 0;
	r->prr_delivered = 0;
	r->prr_out = 0;
	r->recover_fs = SEQ_DIFF(c->snd_max, c->snd_una);
	MIB_INC(c->tcp, TCPSackRecovery);
	MIB_INC(c->tcp, TCPFastRetrans);
}

static void exit_recovery(struct hxs_tcp_conn *c, uint64_t now)
{
	c->recovery = HXS_REC_NONE;
	c->dupacks = 0;
	c->cc.ops->on_recovery_exit(&c->cc, now);   /* RFC 6937: cwnd = ssthresh at the end */
	reo_wnd_recovery_end(&c->rk);
}

/* RFC 6937 §3.1 on each ACK in recovery: cwnd = pipe + sndcnt. */
void hxs_tcp_rack_prr(struct hxs_tcp_conn *c, uint32_t delivered, int una_moved, uint32_t newly_lost)
{
	struct hxs_rack *r = &c->rk;
	struct hxs_cc *cc = &c->cc;
	uint32_t mss = c->mss ? c->mss : 1;
	int64_t sndcnt;

	/* "DeliveredData = change_in(snd.una) + change_in(SACKd); prr_delivered +=
	 * DeliveredData" */
	r->prr_delivered += delivered;
	uint32_t pipe = hxs_tcp_rack_pipe(c);
	if (pipe > cc->ssthresh) {
		/* "Proportional Rate Reduction: sndcnt = CEIL(prr_delivered * ssthresh /
		 * RecoverFS) - prr_out" */
		uint64_t fs = r->recover_fs ? r->recover_fs : 1;
		sndcnt = (int64_t)(((uint64_t)r->prr_delivered * cc->ssthresh + fs - 1) / fs) -
			 r->prr_out;
	} else {
		/* "PRR-SSRB: limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS;
		 * sndcnt = MIN(ssthresh - pipe, limit)" - the MSS only for an ACK that advanced
		 * SND.UNA and marked nothing newly lost (Linux's tcp_cwnd_reduction(), RFC 9937's
		 * "safe ACK") */
		int64_t lim = (int64_t)r->prr_delivered - r->prr_out;
		if (lim < (int64_t)delivered)
			lim = delivered;
		if (una_moved && !newly_lost)
			lim += mss;
		sndcnt = (int64_t)(cc->ssthresh - pipe);
		if (sndcnt > lim)
			sndcnt = lim;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	/* the first ACK of the episode sends its fast retransmission (Linux: "Force a fast
	 * retransmit upon entering fast recovery") */
	if (!r->prr_out && sndcnt < mss)
		sndcnt = mss;
	sndcnt -= sndcnt % mss;                     /* whole segments, as Linux counts them */
	cc->cwnd = pipe + (uint32_t)sndcnt;
	if (cc->cwnd < mss)
		cc->cwnd = mss;
}

/* §7.4, TLP_process_ack(): was a loss repaired by the probe? */
static void tlp_process_ack(struct hxs_tcp_conn *c, uint32_t acked, int dup, uint64_t now)
{
	struct hxs_rack *r = &c->rk;

	if (!r->tlp_on || SEQ_LT(c->snd_una, r->tlp_end))
		return;
	if (!r->tlp_retrans) {
		r->tlp_on = 0;                   /* (a) the probe was new data: nothing to learn */
	} else if (r->ack_dsack_tlp) {
		r->tlp_on = 0;                   /* (b) the original and the probe arrived */
	} else if (SEQ_GT(c->snd_una, r->tlp_end)) {
		/* (c) "the probe repaired a loss": "Invoke congestion control to lower cwnd and
		 * ssthresh" (Linux: a CWR episode: cwnd = ssthresh) */
		r->tlp_on = 0;
		MIB_INC(c->tcp, TCPLossProbeRecovery);
		c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
		c->cc.ops->on_loss(&c->cc, now);
	} else if (!acked && dup) {
		r->tlp_on = 0;                   /* (d) a duplicate ACK without SACK */
	}
}

static void arm(struct hxs_tcp_conn *c, uint64_t when, int tlp)
{
	c->rk.t_tlp = (uint8_t)tlp;
	/* lazily, as the RTO (tcp_timer_arm.c): hxs_tcp_rack_fire() reads t_tlp when it fires */
	hxs_wheel__arm_lazy(&c->tcp->wheel, &c->rk.t, when);
}

/* §7.2: a PTO may be armed: SACK, data in flight, no SACKed segments, not in recovery, no
 * probe outstanding (Linux: one probe per flight, then the RTO). */

/* §7.2, TLP_calc_PTO() and the arming. */
static void tlp_schedule(struct hxs_tcp_conn *c, uint64_t now)
{
	uint64_t pto;

	if (!hxs_tcp_rack_tlp_allowed(c))
		return;
	if (c->srtt_us) {
		/* "PTO = 2 * SRTT; If FlightSize is one segment: PTO += WCDelAckT" */
		pto = 2ull * c->srtt_us;
		if (c->rk.n == 1)
			pto += WCDELACKT_US;
	} else {
		pto = PTO_NO_RTT_US;                 /* "PTO = 1 sec" */
	}
	/* "If Now() + PTO > TCP_RTO_expiration(): PTO = TCP_RTO_expiration() - Now()" */
	if (hxs_timer__armed(&c->t_rexmt) && now + pto > c->t_rexmt.expires)
		pto = c->t_rexmt.expires > now ? c->t_rexmt.expires - now : 0;
	arm(c, now + pto, 1);
}

/* §6.2 step 6, RACK_detect_loss_and_arm_timer(), and what marks lost make of the state:
 * fast recovery begins (RFC 8985 §3.4). Returns 1 if something was newly marked lost. */
int hxs_tcp_rack_detect(struct hxs_tcp_conn *c, uint64_t now, uint32_t *newly)
{
	uint64_t timeout = detect_loss(c, now, newly);

	if (timeout)
		arm(c, now + timeout, 0);            /* "Arm the RACK timer ... after timeout" */
	else if (hxs_timer__armed(&c->rk.t) && !c->rk.t_tlp)
		hxs_wheel__cancel(&c->tcp->wheel, &c->rk.t);
	if (*newly && !c->recovery && !c->rk.in_loss)
		enter_recovery(c, now);
	return *newly != 0;
}

/* RTO recovery's ACK (RFC 8985 §6.3 with F-RTO, RFC 5682 §3, SACK-enhanced as Linux's
 * tcp_process_loss()). Returns 1 when the RTO was undone. */
static int loss_ack(struct hxs_tcp_conn *c, uint32_t acked, int sacked_new, uint64_t now)
{
	struct hxs_rack *r = &c->rk;

	/* RFC 3522 (Eifel) for the RTO: the ACK answers an original transmission */
	if (acked && r->undo_ok && eifel(c)) {
		MIB_INC(c->tcp, TCPLossUndo);
		goto undone;
	}
	/* RFC 5682 §3 step 3b: "If the ACK acknowledges a segment that was not
	 * retransmitted" (or SACKs one): the timeout was spurious */
	if (r->frto && r->ack_orig && r->undo_ok) {
		MIB_INC(c->tcp, TCPSpuriousRTOs);
		goto undone;
	}
	if (SEQ_GEQ(c->snd_una, r->loss_high)) {
		r->in_loss = 0;                      /* everything sent before the RTO is acked */
		r->frto = 0;
		reo_wnd_recovery_end(r);
		return 0;
	}
	if (!r->frto)
		return 0;
	if (r->frto == 2) {
		/* step 3a: new data went and this ACK is a duplicate or SACKs: the loss was real */
		if (sacked_new || !acked)
			r->frto = 0;
	} else if (acked) {
		/* step 2b: the retransmission was acked, not everything: send new data (output
		 * does, within cwnd - pipe; on_send moves to frto = 2); with none to send, the
		 * conventional recovery goes on */
		uint32_t end = hxs_tcp_snd_end(c);
		if (!SEQ_LT(c->snd_max, end) || !SEQ_LT(c->snd_max, c->snd_una + c->snd_wnd))
			r->frto = 0;
		else
			r->frto_new = 1;
	} else {
		r->frto = 0;                         /* step 2a: a duplicate ACK */
	}
	return 0;
undone:
	undo(c);
	r->in_loss = 0;
	r->frto = 0;
	c->backoff = 0;
	return 1;
}

void hxs_tcp_rack_on_ack(struct hxs_tcp_conn *c, uint32_t acked, int dup, uint32_t rtt_us,
			 uint64_t now)
{
	struct hxs_rack *r = &c->rk;
	uint32_t una = c->snd_una, newly = 0;

	/* records cumulatively acked: [old SND.UNA, SND.UNA) */
	while (r->n) {
		struct hxs_txseg *s = at(r, 0);

		if (SEQ_LEQ(s->end, una)) {
			if (!(s->fl & HXS_TXS_SACKED)) {
				rack_update(c, s, now);
				r->ack_delivered += rec_len(s);
			}
			/* the record leaves: its marks out of the counts (none: nothing to do) */
			if (s->fl & (HXS_TXS_SACKED | HXS_TXS_LOST | HXS_TXS_RETRANS))
				rec_clear(r, s, HXS_TXS_SACKED | HXS_TXS_LOST | HXS_TXS_RETRANS);
			r->head = (r->head + 1) & (r->cap - 1);
			r->n--;
			continue;
		}
		if (SEQ_LT(s->seq, una)) {
			/* a part of it: the part goes */
			if (!(s->fl & HXS_TXS_SACKED)) {
				rack_update(c, s, now);
				r->ack_delivered += SEQ_DIFF(una, s->seq);
			}
			uint8_t fl = s->fl;
			rec_clear(r, s, HXS_TXS_SACKED | HXS_TXS_LOST | HXS_TXS_RETRANS);
			s->seq = una;
			rec_set(r, s, fl & (HXS_TXS_SACKED | HXS_TXS_LOST | HXS_TXS_RETRANS));
		}
		break;
	}
	if (!r->n)
		r->fack = SEQ_MAX(r->fack, una);
	/* RFC 2018 §8: an ACK that stops at the start of data it SACKed before: the receiver
	 * reneged (Linux's tcp_check_sack_reneging()); what it SACKed is lost */
	if (acked && r->n && (at(r, 0)->fl & HXS_TXS_SACKED)) {
		for (uint32_t i = 0; i < r->n; i++) {
			struct hxs_txseg *s = at(r, i);

			if (s->fl & HXS_TXS_SACKED) {
				rec_clear(r, s, HXS_TXS_SACKED);
				rec_set(r, s, HXS_TXS_LOST);
			}
		}
		hxs_sack__reset(&c->sb);
	}
	(void)rtt_us;

	tlp_process_ack(c, acked, dup, now);
	reo_wnd_dsack(c);

	/* RFC 3708 §2: every retransmission of the episode was reported duplicate */
	if (r->undo_ok && r->ack_dsack && !r->undo_retrans && r->retrans_ts_set &&
	    SEQ_GT(c->snd_max, r->undo_marker) && (c->recovery || !r->in_loss)) {
		MIB_INC(c->tcp, TCPDSACKUndo);
		undo(c);
		if (c->recovery) {
			c->recovery = HXS_REC_NONE;
			c->dupacks = 0;
			reo_wnd_recovery_end(r);
		}
		r->in_loss = 0;
		r->frto = 0;
	}

	if (r->in_loss && loss_ack(c, acked, r->ack_delivered > acked, now))
		goto arm;

	int lost_new = 0;
	if (!r->n && c->snd_max == c->snd_una && !c->recovery && !r->in_loss)
		r->advanced = 0;   /* RFC 8985 §6.2 step 5 walks the unacked segments: none */
	else if (r->advanced || c->recovery || r->in_loss)
		lost_new = hxs_tcp_rack_detect(c, now, &newly);

	if (c->recovery) {
		if (SEQ_GEQ(c->snd_una, c->recover)) {
			/* RFC 6675 §5: the cumulative ACK of RecoveryPoint ends recovery; RFC 3522:
			 * an episode whose retransmission was not needed is undone instead */
			if (r->undo_ok && (eifel(c) || (!r->undo_retrans && r->retrans_ts_set))) {
				MIB_INC(c->tcp, TCPFullUndo);
				c->recovery = HXS_REC_NONE;
				c->dupacks = 0;
				undo(c);
				reo_wnd_recovery_end(r);
			} else {
				exit_recovery(c, now);
			}
		} else if (acked && r->undo_ok && eifel(c)) {
			/* a partial ACK answering an original: Linux's tcp_try_undo_partial() */
			MIB_INC(c->tcp, TCPPartialUndo);
			c->recovery = HXS_REC_NONE;
			c->dupacks = 0;
			undo(c);
			reo_wnd_recovery_end(r);
		} else if (!c->cc.ops->cong_control) {
			/* RFC 6937 sets the rate in recovery, except for a model-based algorithm
			 * (BBR), which sets cwnd itself on this ACK (Linux's tcp_cong_control():
			 * cong_control, else tcp_cwnd_reduction()) */
			hxs_tcp_rack_prr(c, r->ack_delivered, acked != 0, newly);
		}
		(void)lost_new;
	} else if (acked) {
		hxs_tcp_cc_grow(c, acked, rtt_us, now);
	}
arm:
	if (c->snd_max == c->snd_una) {
		hxs_wheel__cancel_lazy(&c->tcp->wheel, &r->t);
		r->tlp_on = 0;
	} else if (acked && (!hxs_timer__armed(&r->t) || r->t_tlp)) {
		/* §7.2: "upon receiving an ACK that cumulatively acknowledges new data" */
		hxs_wheel__cancel_lazy(&c->tcp->wheel, &r->t);
		tlp_schedule(c, now);
	}
}

/* hxs_tcp_cc_grow()'s part for an algorithm without cong_control (tcp_conn.h): its on_ack. */
void hxs_tcp_cc_grow_on_ack(struct hxs_tcp_conn *c, uint32_t acked, uint32_t rtt_us, uint64_t now)
{
	struct hxs_cc *cc = &c->cc;

	/* RFC 9438 §5.8 "CUBIC does not increase the congestion window if a flow is application
	 * limited", RFC 7661 likewise for any algorithm: cwnd grows only while it is in use
	 * (Linux's tcp_is_cwnd_limited(): cwnd-limited in this window, or in slow start below
	 * twice the largest flight). */
	cc->app_limited = !(c->cwnd_limited ||
			    (cc->cwnd < cc->ssthresh && cc->cwnd < 2ull * c->max_flight));
	/* what HyStart++ (tcp_cc_hystart.c) reads: its round by SND.UNA and SND.NXT (RFC 9406
	 * §4.2 windowEnd), its RTT from the delivery-rate sample (tcp_rate.c, microseconds) */
	cc->snd_una = c->snd_una;
	cc->snd_nxt = c->snd_max;
	cc->ack_rtt_us = c->rate.rs.rtt_us;
	uint32_t before = cc->cwnd;
	cc->ops->on_ack(cc, acked, rtt_us, now);
	/* A stretch of ACKs XDP consumed (cc->acks > 1) is judged once; one by one, growth not
	 * limited by cwnd would have stopped at the first ACK that found cwnd at twice the
	 * largest flight, within that ACK's 2*SMSS above it. */
	if (cc->acks > 1 && !c->cwnd_limited && before < cc->ssthresh) {
		uint64_t cap = 2ull * c->max_flight + 2ull * c->mss;
		if (cc->cwnd > cap)
			cc->cwnd = before > cap ? before : (uint32_t)cap;
	}
}

/* --- sending in recovery --------------------------------------------------------------------- */
int hxs_tcp_rack_next_lost(const struct hxs_tcp_conn *c, uint32_t *i, uint32_t *seq, uint32_t *len,
			   int *psh)
{
	const struct hxs_rack *r = &c->rk;

	/* RFC 5682 §3 step 2b: "transmit up to two new (previously unsent) segments" instead */
	if (r->in_loss && r->frto == 1 && r->frto_new)
		return 0;
	for (; *i < r->n; (*i)++) {
		const struct hxs_txseg *s = at(r, *i);

		if ((s->fl & (HXS_TXS_LOST | HXS_TXS_RETRANS | HXS_TXS_SACKED)) != HXS_TXS_LOST)
			continue;
		*seq = s->seq;
		*len = rec_len(s);
		*psh = !!(s->fl & HXS_TXS_PSH);
		return 1;
	}
	return 0;
}

int hxs_tcp_rack_last(const struct hxs_tcp_conn *c, uint32_t *seq, uint32_t *len, int *psh)
{
	const struct hxs_rack *r = &c->rk;

	if (!r->n)
		return 0;
	*seq = at(r, r->n - 1)->seq;
	*len = rec_len(at(r, r->n - 1));
	*psh = !!(at(r, r->n - 1)->fl & HXS_TXS_PSH);
	return 1;
}

/* After output: a PTO after new data (§7.2 "after transmitting new data"). */
void hxs_tcp_rack_sent(struct hxs_tcp_conn *c, uint64_t now)
{
	if (!c->rk.on)
		return;
	if (c->snd_max == c->snd_una) {
		hxs_wheel__cancel_lazy(&c->tcp->wheel, &c->rk.t);
		return;
	}
	if (!hxs_timer__armed(&c->rk.t))
		tlp_schedule(c, now);
}

/* --- the RTO ------------------------------------------------------------------------------ */
void hxs_tcp_rack_on_rto(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_rack *r = &c->rk;

	if (!r->on)
		return;
	hxs_wheel__cancel(&c->tcp->wheel, &r->t);
	r->tlp_on = 0;
	/* the reduction to undo is the first of the episode (Linux's tcp_enter_loss()) */
	if (!c->recovery && !r->in_loss)
		undo_begin(c);
	/* RFC 5682 §2: F-RTO when the timeout is not one in fast recovery */
	r->frto = !c->recovery && !r->in_loss;
	r->frto_new = 0;
	if (c->recovery)
		reo_wnd_recovery_end(r);
	r->in_loss = 1;
	r->loss_high = c->snd_max;
	/* RFC 8985 §6.3 "Upon RTO expiration": every segment not SACKed is lost (Linux's
	 * tcp_timeout_mark_lost); output retransmits them from the lowest, cwnd permitting */
	for (uint32_t i = 0; i < r->n; i++) {
		struct hxs_txseg *s = at(r, i);

		if (s->fl & HXS_TXS_SACKED)
			continue;
		rec_clear(r, s, HXS_TXS_RETRANS);
		rec_set(r, s, HXS_TXS_LOST);
	}
	(void)now;
}

/* --- selection ------------------------------------------------------------------------------- */
int hxs_tcp_recovery_find(const char *name)
{
	if (!name)
		return -ENOENT;
	if (!strcmp(name, "rack"))
		return HXS_TCP_RECOVERY_RACK;
	if (!strcmp(name, "sack") || !strcmp(name, "rfc6675"))
		return HXS_TCP_RECOVERY_SACK;
	return -ENOENT;
}

int hxs_tcp_conn__set_recovery(struct hxs_tcp_conn *c, const char *name)
{
	int m = hxs_tcp_recovery_find(name);

	if (m < 0)
		return m;
	if (HXS_TCPS_HAVEESTABLISHED(c->state))
		return -EISCONN;
	c->rk.mode = (uint8_t)m;
	return 0;
}
