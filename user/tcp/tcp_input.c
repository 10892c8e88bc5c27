/* tcp_input.c - a segment arrives (RFC 9293 §3.10.7).
 *
 * hxs_tcp__input() -> parse + checksum + options -> demux (hxs_tcp_lookup)
 * hxs_tcp__input_slot() the same, the demux by the metadata's slot first (hxs_tcp_lookup_slot)
 *   -> closed_input()      §3.10.7.1 no TCB: RST
 *   -> listen_input()      §3.10.7.2 LISTEN: SYN creates a SYN-RECEIVED child
 *                          (SYN queue full: hxs_tcp_syncookie_syn(); an ACK:
 *                          hxs_tcp_syncookie_ack(), tcp_syncookie.c)
 *   -> conn_input()        conn_input_begin() (XDP's ACKs, counters), then
 *                          header_predicted() -> predicted_input(): the next in-order
 *                          segment of a receiver with nothing in flight, the steps below
 *                          with their known outcome only (HxsTcpHeaderPredicted); else
 *                          conn_input_data_ack(): in-order data that acknowledges new
 *                          data, the fifth step in full, the others' known outcome
 *                          (HxsTcpHeaderPredictedAck); else
 *                          conn_input_rest(), one switch (state). For an ESTABLISHED
 *                          connection hxs_tcp__input_slot() has all but the switch inline
 *                          and parses the rest of the segment (seg_rest) only for it:
 *        SYN-SENT          §3.10.7.3 syn_sent_input()
 *        synchronized      §3.10.7.4 sync_input(), first..eighth: check_seq() (+PAWS),
 *                          check_rst(), check_syn(), check_ack() (update_ts_recent,
 *                          process_ack -> hxs_tcp_recovery_on_ack, hxs_tcp_ecn_ack_in),
 *                          hxs_tcp_urg_in() (sixth), process_text() (reassembly,
 *                          hxs_tcp_ecn_data_in), hxs_tcp_urg_fetch(), check_fin() (process_fin)
 *   -> hxs_tcp_output() for the ACK/data the segment made due, hxs_tcp_notify(); the ACK
 *      of a SYN,ACK or of a FIN in ESTABLISHED waits one poll instead (cfg.ack_defer: the
 *      connection stays dirty through the next hxs_tcp__poll(), the user's data or FIN of
 *      the meantime goes with it); with
 *      cfg.ack_batch a duplicate ACK may instead wait for the batch's end (ack_may_wait():
 *      the connection is marked dirty, hxs_tcp__poll() sends it).
 * XDP fast path: conn_input() and hxs_tcp__fp_poll() -> hxs_tcp_fp_pickup() -> the ACKs XDP
 *   consumed as one stretch ACK -> hxs_tcp_fp_ack_input() -> check_ack(), output, notify
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "hxs/shared.h"
#include "lib/bytes.h"
#include "hxs/syncookie.h"
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

	/* The tests, grouped so that each group is one compare: the segment's flags (all but
	 * PSH: ACK alone), then what must be zero - nothing acknowledged or outstanding, no
	 * SACK blocks, no ranges or FIN held, no recovery, SACK board, rate records, MTU
	 * probe - then the rest. */
	return c->state == HXS_TCPS_ESTABLISHED && (s->flags & (uint8_t)~HXS_TH_PSH) == HXS_TH_ACK &&
	       s->seq == c->rcv_nxt && s->len && SEQ_GT(c->rcv_adv, c->rcv_nxt) &&
	       ((s->ack ^ c->snd_una) | (c->snd_una ^ c->snd_max) | (c->snd_nxt ^ c->snd_max) |
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

/* Whether XDP consumed ACKs of c's since the last look (hxs_tcp_fp_pickup()'s own first
 * test, without the call for the usual answer: none). fp_ready implies a slot: only
 * hxs_tcp_fp_publish() sets it, on c->slot, and whatever unsets c->slot clears it
 * (hxs_tcp_fp_detach(), hxs_tcp_conn__set_slot()). */
static inline int fp_news(const struct hxs_tcp_conn *c)
{
	return c->fp_ready &&
	       HXS_SLOT_ACK_N(__atomic_load_n(&c->slot->ack, __ATOMIC_ACQUIRE)) != c->fp_n;
}

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
	/* fifth step, as any ACK takes it */
	enum step st = hxs_tcp_check_ack(c, s, now);
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
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	return 1;
}

static inline __attribute__((always_inline)) void conn_input(struct hxs_tcp_conn *c,
							     const struct hxs_tcp_seg *s, uint64_t now);

/* §3.10.7.2 LISTEN (hxs_tcp_listen_input()); the child an ACK with a SYN cookie opened
 * takes that ACK in conn_input(). */
static void listen_input(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s, uint64_t now,
			 uint32_t tw_iss)
{
	struct hxs_tcp_conn *c = hxs_tcp_listen_input(l, s, now, tw_iss);

	if (c)
		conn_input(c, s, now);
}

/* The rest of conn_input() (hxs_tcp_conn_input_rest()); a listener's segment comes back to
 * listen_input(). */
static inline __attribute__((always_inline)) void conn_input_rest(struct hxs_tcp_conn *c,
								  const struct hxs_tcp_seg *s,
								  uint64_t now, int held)
{
	if (hxs_tcp_conn_input_rest(c, s, now, held))
		listen_input(c, s, now, 0);
}

/* conn_input()'s start, for every segment of c: the ACKs XDP consumed, which came before
 * this segment, then the counters; an ACK held from earlier in the batch (ack_may_wait,
 * inorder_ack_may_wait) is set aside, so that ack_now says what this segment made due (it
 * stays due either way). Returns whether one was held, -1 if c is gone. */
static inline __attribute__((always_inline)) int conn_input_begin(struct hxs_tcp_conn *c, uint64_t now)
{
	if (fp_news(c) && hxs_tcp_fp_pickup(c, now))
		return -1;
	c->segs_in++;
	c->last_rcv = now;
	c->keep_probes = 0;             /* any segment answers a keep-alive */
	int held = c->ack_held && c->ack_now;

	if (held)
		c->ack_now = 0;
	c->ack_held = 0;
	return held;
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

static inline __attribute__((always_inline)) void conn_input(struct hxs_tcp_conn *c,
							     const struct hxs_tcp_seg *s, uint64_t now)
{
	int held = conn_input_begin(c, now);

	if (held < 0 || conn_input_predicted(c, s, now, held))
		return;
	conn_input_rest(c, s, now, held);
}

int hxs_tcp__input(struct hxs_tcp *tcp, uint32_t saddr, uint32_t daddr, const uint8_t *h,
		   uint32_t len, unsigned flags, uint64_t now)
{
	return hxs_tcp__input_addr(tcp, hxs_addr4(saddr), hxs_addr4(daddr), h, len, flags, now);
}

int hxs_tcp__input_addr(struct hxs_tcp *tcp, struct hxs_addr saddr, struct hxs_addr daddr,
			const uint8_t *h, uint32_t len, unsigned flags, uint64_t now)
{
	return hxs_tcp__input_slot(tcp, HXS_SLOT_NONE, 0, saddr, daddr, h, len, flags, now);
}

/* The options of the segment h (doff: its header's length). RFC 7323 Appendix A's layout,
 * <NOP, NOP, TS>, which nearly every segment of a connection with timestamps carries, is
 * taken here with one compare, returning 1; hxs_tcp_opt__parse() walks any other (it gives the
 * same result for this one, but for o->sack, which nothing reads beyond o->nsack). For that
 * layout o->tsecr is left to seg_rest(): the predicted path does not read it. */
static inline int seg_opts(const uint8_t *h, uint32_t doff, struct hxs_tcp_opts *o)
{
	if (doff == HXS_TCP_HDR_LEN + 12 &&
	    hxs_rd32(h + HXS_TCP_HDR_LEN) == ((uint32_t)HXS_TCPOPT_NOP << 24 | (uint32_t)HXS_TCPOPT_NOP << 16 |
					      (uint32_t)HXS_TCPOPT_TS << 8 | 10u)) {
		o->has_mss = o->has_ws = o->sack_perm = 0;
		o->has_ts = 1;
		o->mss = 0;
		o->ws = 0;
		o->nsack = 0;
		o->tsval = hxs_rd32(h + HXS_TCP_HDR_LEN + 4);
		return 1;
	}
	return hxs_tcp_opt__parse(h + HXS_TCP_HDR_LEN, doff - HXS_TCP_HDR_LEN, o);
}

/* The fields of s that neither the demux nor the predicted path reads (aligned_ts: seg_opts()
 * returned 1). */
static inline void seg_rest(struct hxs_tcp_seg *s, struct hxs_addr saddr, struct hxs_addr daddr,
			    const uint8_t *h, unsigned flags, int aligned_ts)
{
	if (aligned_ts)
		s->opt.tsecr = hxs_rd32(h + HXS_TCP_HDR_LEN + 8);
	s->saddr = saddr;
	s->daddr = daddr;
	s->up = hxs_rd16(h + 18);
	s->cookie_ok = !!(flags & HXS_TCP_IN_COOKIE_OK);
}

/* slot, gen: what the demux metadata says (HXS_SLOT_NONE: nothing). It only chooses how the
 * connection is looked up: the header is validated above as for any segment (the metadata is
 * no proof of anything) and the lookup itself checks the 4-tuple. */
int hxs_tcp__input_slot(struct hxs_tcp *tcp, uint32_t slot, uint32_t gen, struct hxs_addr saddr,
			struct hxs_addr daddr, const uint8_t *h, uint32_t len, unsigned flags,
			uint64_t now)
{
	struct hxs_tcp_seg s;
	tcp->now = now;
	MIB_INC(tcp, TcpInSegs);
	if (len < HXS_TCP_HDR_LEN)
		goto bad;
	uint32_t doff = (uint32_t)(h[12] >> 4) * 4;
	if (doff - HXS_TCP_HDR_LEN > len - HXS_TCP_HDR_LEN)   /* doff < 20 (wraps) or doff > len */
		goto bad;
	if (!(flags & HXS_TCP_IN_CSUM_OK) && hxs_tcp_csum_ptr(&saddr, &daddr, h, len) != 0) {
		MIB_INC(tcp, TcpInCsumErrors);
		goto bad;
	}
	int aligned_ts = seg_opts(h, doff, &s.opt);
	if (aligned_ts < 0) {
		MIB_INC(tcp, TCPOptErrs);
		goto bad;
	}
	/* what the lookup and the predicted path read; the rest after (seg_rest) */
	s.sport = hxs_rd16(h);
	s.dport = hxs_rd16(h + 2);
	s.seq = hxs_rd32(h + 4);
	s.ack = hxs_rd32(h + 8);
	s.flags = h[13];
	s.wnd = hxs_rd16(h + 14);
	s.data = h + doff;
	s.len = len - doff;
	s.optlen = doff - HXS_TCP_HDR_LEN;
	s.ecn = (uint8_t)((flags >> HXS_TCP_IN_ECN_SHIFT) & 3u);

	struct hxs_tcp_conn *c = slot != HXS_SLOT_NONE ?
		hxs_tcp_lookup_slot(tcp, slot, gen, &daddr, s.dport, &saddr, s.sport) :
		hxs_tcp_lookup_addr(tcp, daddr, s.dport, saddr, s.sport);
	if (c && c->state == HXS_TCPS_ESTABLISHED) {
		/* conn_input() (no TIME-WAIT here), with the segment completed only for the
		 * long way */
		int held = conn_input_begin(c, now);

		if (held >= 0 && !conn_input_predicted(c, &s, now, held)) {
			seg_rest(&s, saddr, daddr, h, flags, aligned_ts);
			if (!hxs_tcp_conn_input_data_ack(c, &s, now, held))
				conn_input_rest(c, &s, now, held);
		}
		return 0;
	}
	seg_rest(&s, saddr, daddr, h, flags, aligned_ts);
	struct hxs_tcp_conn *l = NULL;
	uint32_t tw_iss = 0;
	if (c && c->state == HXS_TCPS_TIME_WAIT && (s.flags & (HXS_TH_SYN | HXS_TH_ACK | HXS_TH_RST)) == HXS_TH_SYN) {
		/* RFC 6191 §2 / RFC 7323 Appendix B.2: a new SYN may reopen a TIME-WAIT
		 * connection if its timestamp is larger than the last one seen, or (without
		 * timestamps) its sequence number is above RCV.NXT. */
		int ts = c->ts_ok && s.opt.has_ts;
		if ((ts && SEQ_GT(s.opt.tsval, c->ts_recent)) || (!ts && SEQ_GT(s.seq, c->rcv_nxt))) {
			l = hxs_tcp_lookup_listener(tcp, daddr, s.dport);
			if (l) {
				MIB_INC(tcp, TCPTimeWaitReuse);
				/* RFC 1122 §4.2.2.13 (1): the new connection's ISN must be "larger
				 * than the largest sequence number it used on the previous connection
				 * incarnation"; a clock-driven ISN need not be after a fast transfer.
				 * Linux's choice: SND.NXT + 65535 + 2, never 0. */
				tw_iss = c->snd_max + 65535 + 2;
				if (!tw_iss)
					tw_iss = 1;
				hxs_tcp_close_conn(c, 0);
				c = NULL;
			}
		}
	}
	if (c) {
		conn_input(c, &s, now);
		return 0;
	}
	if (!l)        /* the TIME-WAIT reuse check above may have found it already */
		l = hxs_tcp_lookup_listener(tcp, daddr, s.dport);
	if (l) {
		listen_input(l, &s, now, tw_iss);
		return 0;
	}
	hxs_tcp_closed_input(tcp, &s);
	return 0;
bad:
	MIB_INC(tcp, TcpInErrs);
	return -EINVAL;
}
