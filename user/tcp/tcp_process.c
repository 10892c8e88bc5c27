/* tcp_process.c - a segment for a connection, by its state (RFC 9293 §3.10.7): what
 * conn_input() (tcp_input.c) does with a segment the header predictions did not take.
 *
 * hxs_tcp_conn_input_rest()   one switch (state):
 *   LISTEN                    back to the caller: tcp_input.c listen_input() (tcp_listen.c)
 *   SYN-SENT                  §3.10.7.3 syn_sent_input() (hxs_tcp_syn_options, establish)
 *   synchronized              §3.10.7.4 sync_input(), first..eighth: check_seq() (+PAWS),
 *                             check_rst(), check_syn(), hxs_tcp_check_ack() (update_ts_recent,
 *                             process_ack -> hxs_tcp_recovery_on_ack, hxs_tcp_ecn_ack_in),
 *                             hxs_tcp_urg_in() (sixth), process_text() (reassembly,
 *                             hxs_tcp_ecn_data_in), hxs_tcp_urg_fetch(), check_fin() (process_fin)
 *   -> hxs_tcp_output() for the ACK/data the segment made due, hxs_tcp_notify(); the ACK
 *      of a SYN,ACK or of a FIN in ESTABLISHED waits one poll instead (cfg.ack_defer: the
 *      connection stays dirty through the next hxs_tcp__poll(), the user's data or FIN of
 *      the meantime goes with it); with cfg.ack_batch a duplicate ACK may instead wait for
 *      the batch's end (ack_may_wait(): the connection is marked dirty, hxs_tcp__poll()
 *      sends it).
 * hxs_tcp_closed_input()      §3.10.7.1 no TCB (the demux found none): RST
 * The other files of the input call hxs_tcp_check_ack() (the ACKs XDP consumed,
 * tcp_fastpath_input.c) or hxs_tcp_check_ack_rest_later() (the second header prediction,
 * tcp_predict.c: process_ack() may leave the ACK's RACK and congestion-control part to
 * tcp_ack_rest.c, ack_rest_may_wait()), hxs_tcp_syn_options() and
 * hxs_tcp_set_mss() (the passive open, tcp_listen.c) and hxs_tcp_measure_ack_mss() (the
 * predictions' seventh step, tcp_predict.h); this file calls none of theirs
 * (tests/unit/test_layers.sh: no call circle between files).
 */
#include <errno.h>
#include <sys/epoll.h>

#include "tcp_conn.h"
#include "tcp_input.h"

#define PAWS_IDLE_US (24ull * 24 * 3600 * 1000000) /* RFC 7323 §5.5: 24 days */

/* §3.10.7.1: "If the state is CLOSED (i.e., TCB does not exist) ... An incoming segment
 * containing a RST is discarded. An incoming segment not containing a RST causes a RST to be
 * sent in response." */
void hxs_tcp_closed_input(struct hxs_tcp *tcp, const struct hxs_tcp_seg *s)
{
	if (s->flags & HXS_TH_RST)
		return;
	if (s->flags & HXS_TH_ACK)
		/* "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>" */
		hxs_tcp_send_rst(tcp, s->daddr, s->saddr, s->dport, s->sport, s->ack, 0, 0);
	else
		/* "If the ACK bit is off, sequence number zero is used,
		 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>" */
		hxs_tcp_send_rst(tcp, s->daddr, s->saddr, s->dport, s->sport, 0,
				 s->seq + hxs_tcp_seg_seqlen(s), HXS_TH_ACK);
}

/* Options agreed in the handshake (RFC 7323 §2.2, §3.2; RFC 2018 §2) and the MSS. */
void hxs_tcp_set_mss(struct hxs_tcp_conn *c)
{
	/* the IPv4 or IPv6 header and 20 bytes of TCP: MSS = MTU - 40, or - 60 (RFC 8200 §5) */
	uint32_t path = c->tcp->cfg.mtu - hxs_tcp_hdrs(c);
	uint32_t adv = c->user_mss && c->user_mss < path ? c->user_mss : path;
	uint32_t smss = c->peer_mss < adv ? c->peer_mss : adv;
	uint32_t optlen = c->ts_ok ? 12 : 0;
	c->adv_mss = adv;
	c->mss = smss > optlen + 64 ? smss - optlen : 64;
	c->rcv_mss = adv > optlen + 64 ? adv - optlen : 64;
	c->cc.mss = c->mss;
	/* The peer's segment size is not known yet: start from the smallest any peer may use,
	 * 536 (RFC 9293 §3.7.1), bounded by ours and by half the buffer (Linux's
	 * tcp_initialize_rcv_mss()); measure_ack_mss() learns the real one. */
	uint32_t hint = c->rcv_mss < c->mss ? c->rcv_mss : c->mss;
	if (hint > hxs_tcp_rcv_cap(c) / 2)
		hint = hxs_tcp_rcv_cap(c) / 2;
	if (hint > 536)
		hint = 536;
	c->ack_mss = hint < 88 ? 88 : hint;
	c->last_seg_len = 0;
	hxs_tcp_pmtu_init(c);             /* path MTU: c->mss, the search range (tcp_pmtu.c) */
}

void hxs_tcp_syn_options(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	/* RFC 9293 §3.7.1: "If an MSS Option is not received at connection setup, TCP
	 * implementations MUST assume a default send MSS of 536". */
	c->peer_mss = s->opt.has_mss && s->opt.mss ? s->opt.mss : 536;
	/* RFC 7323 §2.2: scaling is on only if both sides sent the option. */
	if (c->ws_ok && s->opt.has_ws) {
		c->snd_wscale = s->opt.ws;
	} else {
		c->ws_ok = 0;
		c->snd_wscale = c->rcv_wscale = 0;
	}
	c->sack_ok = c->sack_ok && s->opt.sack_perm;
	c->ts_ok = c->ts_ok && s->opt.has_ts;
	if (c->ts_ok) {
		c->ts_recent = s->opt.tsval;
		c->ts_recent_age = now;
	}
	hxs_tcp_set_mss(c);
}

/* RFC 7323 §4 (RTTM): the time since we sent the TSval the segment echoes in TSecr, in us (a
 * 1 ms clock: 0 ms counts as 0.5 ms); 0 if it echoes none, one from the future or one over
 * 35 minutes old. */
static uint32_t ts_rtt(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	if (!c->ts_ok || !s->opt.has_ts || !s->opt.tsecr)
		return 0;
	uint32_t d = hxs_tcp_ts_now(c, now) - s->opt.tsecr;
	/* Milliseconds to microseconds in 32 bits: an echo older than 2^31 us (35 min) is no
	 * sample, as in Linux's tcp_rtt_tsopt_us() - d * 1000 would wrap into a made-up RTT. */
	if (d >= INT32_MAX / 1000)
		return 0;
	return d ? d * 1000 : 500;
}

static void establish(struct hxs_tcp_conn *c, uint64_t now)
{
	hxs_tcp_set_state(c, c->fin_queued ? HXS_TCPS_FIN_WAIT_1 : HXS_TCPS_ESTABLISHED);
	c->cc.mss = c->mss;
	c->cc.hystart_on = !c->tcp->cfg.no_hystart;     /* RFC 9406 (tcp_cc_hystart.c) */
	/* cwnd = IW (RFC 6928, hxs_cc_initial_window), ssthresh = infinity. */
	hxs_cc__init(&c->cc, c->cc.ops, now);
	/* RFC 5681 §3.1: "if the SYN or SYN/ACK is lost, the initial window used by a sender
	 * after a correctly transmitted SYN MUST be one segment" (RFC 6928 §2 too). */
	if (c->syn_rto)
		c->cc.cwnd = c->mss;
	c->recover = c->iss;
	c->high_rxt = c->snd_una;
	c->last_send = now;
	c->cwnd_limited = 0;
	c->max_flight = 0;
	c->cwnd_usage_seq = c->snd_nxt;
	hxs_tcp_rack_start(c);          /* RACK-TLP with SACK (tcp_rack.c) */
	hxs_tcp_rto_syn_reinit(c);
	hxs_tcp_keep_arm(c, now);
}

/* §3.10.7.3 SYN-SENT. 0: the connection was closed, and may be gone (hxs_tcp_close_conn()
 * frees it when nothing holds it: a connection the user closed in SYN-SENT with data queued,
 * RFC 9293 §3.10.4); 1: it lives on. */
static int syn_sent_input(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;
	/* "first check the ACK bit ... If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
	 * (unless the RST bit is set, if so drop the segment and return)
	 * <SEQ=SEG.ACK><CTL=RST>". */
	if ((s->flags & HXS_TH_ACK) && (SEQ_LEQ(s->ack, c->iss) || SEQ_GT(s->ack, c->snd_max))) {
		if (!(s->flags & HXS_TH_RST))
			hxs_tcp_send_rst(tcp, c->laddr, c->raddr, c->lport, c->rport, s->ack, 0, 0);
		return 1;
	}
	/* "second check the RST bit ... If the ACK was acceptable, then signal to the user
	 * "error: connection reset", drop the segment, enter CLOSED state" - the kernel says
	 * ECONNREFUSED. RFC 5961 §3.2 adds nothing here: the ACK must acknowledge our SYN. */
	if (s->flags & HXS_TH_RST) {
		if (s->flags & HXS_TH_ACK) {
			MIB_INC(tcp, TcpAttemptFails);
			hxs_tcp_close_conn(c, ECONNREFUSED);
			return 0;
		}
		return 1;
	}
	/* "fourth check the SYN bit": otherwise "drop the segment and return". */
	if (!(s->flags & HXS_TH_SYN))
		return 1;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	hxs_tcp_syn_options(c, s, now);
	hxs_tcp_ecn_syn_in(c, s);              /* RFC 3168 §6.1.1 (tcp_ecn.c) */
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (s->flags & HXS_TH_ACK) {
		/* "SND.UNA should be advanced to equal SEG.ACK (if there is an ACK) ... If
		 * SND.UNA > ISS (our SYN has been ACKed), change the connection state to
		 * ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send
		 * it." */
		/* RFC 6298 §3 (Karn): no timing when the SYN was sent more than once, "The only
		 * case when TCP can safely take RTT samples from retransmitted segments is when
		 * the TCP timestamp option is employed": TSecr names the SYN answered. */
		uint32_t rtt = ts_rtt(c, s, now);
		if (c->rtt_timing && !c->syn_rxt)
			hxs_tcp_rtt_sample(c, (uint32_t)(now - c->rtt_start));
		else if (rtt)
			hxs_tcp_rtt_sample(c, rtt);
		c->rtt_timing = 0;
		c->backoff = 0;
		c->snd_una = s->ack;
		hxs_wheel__cancel(&tcp->wheel, &c->t_rexmt);
		establish(c, now);
		c->ack_now = 1;
		/* the ACK waits one poll: a request the user writes on the news goes with it
		 * ("Data or controls that were queued for transmission MAY be included"; Linux
		 * delays this ACK too while a writer waits, tcp_rcv_synsent_state_process) */
		c->ack_defer = c->tcp->cfg.ack_defer;
		if (s->len)
			hxs_tcp_reass_insert(c, s->seq + 1, s->data, s->len);
		return 1;
	}
	/* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT>
	 * <CTL=SYN,ACK> and send it" (simultaneous open). */
	hxs_tcp_set_state(c, HXS_TCPS_SYN_RECEIVED);
	c->snd_nxt = c->iss;
	c->rtt_timing = 0;
	return 1;
}

/* Puts the FIN into effect (§3.10.7.4 eighth). */
static void process_fin(struct hxs_tcp_conn *c, uint64_t now)
{
	c->rcv_nxt++;
	c->fin_rcvd = 1;
	c->reass.has_fin = 0;
	/* The FIN ends the peer's sequence space ("advance RCV.NXT over the FIN"): what it sent
	 * out of order beyond it can never be delivered. Drop those ranges, as Linux's
	 * tcp_fin() purges its out-of-order queue, so no SACK block reports them and none
	 * outlives the receive ring (released when the connection ends). */
	c->reass.n = 0;
	c->ack_now = 1;
	switch (c->state) {
	case HXS_TCPS_SYN_RECEIVED:
	case HXS_TCPS_ESTABLISHED:
		/* the ACK of the FIN waits one poll: a close (or last answer) the user makes
		 * on the news goes with it, as one segment */
		c->ack_defer = c->tcp->cfg.ack_defer;
		/* "Enter the CLOSE-WAIT state." */
		hxs_tcp_set_state(c, HXS_TCPS_CLOSE_WAIT);
		break;
	case HXS_TCPS_FIN_WAIT_1:
		/* "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT,
		 * start the time-wait timer, turn off the other timers; otherwise, enter the
		 * CLOSING state." */
		if (c->snd_una == c->snd_max && SEQ_GT(c->snd_max, hxs_tcp_snd_end(c))) {
			hxs_tcp_set_state(c, HXS_TCPS_TIME_WAIT);
			hxs_tcp_timewait_start(c, now);
		} else {
			hxs_tcp_set_state(c, HXS_TCPS_CLOSING);
		}
		break;
	case HXS_TCPS_FIN_WAIT_2:
		/* "Enter the TIME-WAIT state. Start the time-wait timer, turn off the other
		 * timers." */
		hxs_tcp_set_state(c, HXS_TCPS_TIME_WAIT);
		hxs_tcp_timewait_start(c, now);
		break;
	default:
		break;
	}
}

/* SACK blocks of an ACK (RFC 2018 §4; D-SACK per RFC 2883 §4 is recognised and only
 * counted). Returns bytes newly SACKed. */
static uint32_t process_sack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	struct hxs_sack_range ok[4];
	int n = 0;
	for (int i = 0; i < s->opt.nsack; i++) {
		uint32_t a = s->opt.sack[i].start, b = s->opt.sack[i].end;
		if (!SEQ_LT(a, b))
			continue;
		/* RFC 2883 §4: a first block below the cumulative ACK, or inside the second
		 * block, reports a duplicate. */
		if (SEQ_LEQ(b, s->ack) ||
		    (i == 0 && s->opt.nsack > 1 && SEQ_GEQ(a, s->opt.sack[1].start) &&
		     SEQ_LEQ(b, s->opt.sack[1].end))) {
			MIB_INC(c->tcp, TCPDSACKRecv);
			hxs_tcp_rack_on_dsack(c, a, b);
			continue;
		}
		if (SEQ_GT(b, c->snd_max) || SEQ_LT(a, s->ack))
			continue;
		ok[n].start = a;
		ok[n].end = b;
		n++;
	}
	if (!n)
		return 0;
	hxs_tcp_rack_on_sack(c, ok, n);
	return hxs_sack__update(&c->sb, SEQ_GT(s->ack, c->snd_una) ? s->ack : c->snd_una, ok, n);
}

/* Whether the rest of this ACK's processing (the delivery-rate sample's, RACK-TLP's and the
 * congestion control's, tcp_ack_rest.c) may wait until the answer's segment is handed to
 * tx.send, with the segments sent and everything else the same as if it ran now.
 * process_ack() asks first, before any of its work (nothing it does before the rest changes
 * what is asked here; SEG.ACK stands for SND.UNA after it), and does at once the parts that
 * stay (SND.UNA, the send buffer, the RTT sample and RTO, the retransmission timer, SND.WND).
 * It may when the ACK leaves the rest nothing to decide but the usual and nothing before the
 * next segment reads what the rest changes:
 *   RACK on, the ACK acknowledges new data and all of it (SEG.ACK = SND.MAX), no SACK
 *     blocks, no recovery, no RTO recovery, no probe out, no record marked SACKed, lost or
 *     retransmitted: nothing can be marked lost or repaired (RFC 8985 §6.2 has no segment
 *     to walk, §7.4 no probe to judge) and the records the rest takes away change no
 *     count, so recovery, SACK and loss state, the pipe (0 before and after) and XDP's
 *     flags (tcp_fastpath.c) stay as they are; RACK's timer is only cancelled;
 *   no path MTU probing: its probe needs cwnd (hxs_tcp_pmtu_probe), none is out to judge;
 *   no ECE on an ECN connection: hxs_tcp_ecn_ack_in() then only ends a reduction's window
 *     (by SND.UNA), and may run before RACK's part (it reads no recovery state then);
 *   cwnd at least one SMSS and the pacing time reached: the first segment output sends
 *     goes as it would after the rest (with nothing in flight every algorithm leaves cwnd
 *     at one SMSS or more: BBR's floor is 4; CUBIC and NewReno only grow on an ACK), and the
 *     output after this segment's input sees flight 0 < cwnd either way
 *     (hxs_tcp_rate_app_limited, hxs_tcp_cwnd_validate's limit);
 *   the delivery-rate sample (hxs_tcp_rate_ack) is read only by the congestion control's
 *     and RACK's part (hxs_tcp_cc_ack, the RTT of hxs_tcp_rack_on_ack), and the records it
 *     takes away only by the next ACK's sample and the next segment's record
 *     (hxs_tcp_rate_sent, after the rest); the per-ACK fields of RACK
 *     (hxs_tcp_rack_ack_begin) only by RACK's ACK processing.
 * The first segment sent runs the rest after tx.send, before its own records (RACK's
 * transmission record, the rate sample, pacing) and the timers output arms. */
static int ack_rest_may_wait(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s,
			     uint64_t now)
{
	const struct hxs_rack *r = &c->rk;

	/* grouped so that what must be zero is one compare (HXS_REC_NONE is 0) */
	return SEQ_GT(s->ack, c->snd_una) && r->on && s->ack == c->snd_max &&
	       ((uint32_t)s->opt.nsack | c->recovery | r->in_loss | r->tlp_on | r->sacked_b |
		r->lost_b | r->retrans_b | c->mtup_on | c->mtup_probe | c->tcp->cfg.ack_rest_now) == 0 &&
	       !(c->ecn_ok && (s->flags & HXS_TH_ECE)) && c->cc.cwnd >= c->mss && c->pace_next <= now;
}

/* §3.10.7.4 fifth, ESTABLISHED and later. Returns 1 if our FIN is now acknowledged.
 * rest_may_wait: the caller lets the rest of the processing wait (ack_rest_may_wait()). */
static inline __attribute__((always_inline)) int process_ack(struct hxs_tcp_conn *c,
							 const struct hxs_tcp_seg *s, uint64_t now,
							 int rest_may_wait)
{
	struct hxs_tcp *tcp = c->tcp;
	uint32_t wnd = s->wnd << c->snd_wscale;
	/* RFC 5681 §2 duplicate ACK; not a probe below RCV.NXT taken for its ACK alone (a
	 * closed window's allowance, check_seq): that one says nothing about loss. */
	int dup = s->ack == c->snd_una && s->len == 0 && !(s->flags & (HXS_TH_SYN | HXS_TH_FIN)) &&
		  wnd == c->snd_wnd && c->snd_max != c->snd_una && !SEQ_LT(s->seq, c->rcv_nxt);
	/* RFC 6675 §2: with SACK, a duplicate ACK is "a segment that arrives carrying a SACK
	 * block that identifies previously unacknowledged and un-SACKed octets": an ACK whose
	 * blocks report nothing new (a D-SACK, blocks seen before) is not one; the blocks'
	 * news counts instead (newly, below). An ACK without blocks stays RFC 5681's. */
	if (c->sack_ok && s->opt.nsack)
		dup = 0;
	/* the rest (its delivery-rate sample first) after the answer went (tcp_ack_rest.c) */
	int rest_waits = rest_may_wait && ack_rest_may_wait(c, s, now);
	if (!rest_waits) {
		hxs_tcp_rack_ack_begin(c, s->opt.has_ts ? s->opt.tsecr : 0);
		/* delivery-rate sample: the records this ACK delivers (tcp_rate.c) */
		hxs_tcp_rate_ack(c, s, hxs_tcp_pipe(c), now);
	}
	uint32_t newly = 0;
	if (c->sack_ok && s->opt.nsack)
		newly = process_sack(c, s);

	uint32_t acked = 0, rtt = 0;
	if (SEQ_GT(s->ack, c->snd_una)) {
		/* "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any segments
		 * on the retransmission queue that are thereby entirely acknowledged are
		 * removed." */
		acked = SEQ_DIFF(s->ack, c->snd_una);
		uint32_t dend = hxs_tcp_snd_end(c);
		uint32_t upto = SEQ_LT(s->ack, dend) ? s->ack : dend;
		if (SEQ_GT(upto, c->snd_buf_seq)) {
			uint32_t n = SEQ_DIFF(upto, c->snd_buf_seq);
			hxs_tcp_ring__consume(tcp, &c->snd, n);
			c->snd_buf_seq += n;
			c->bytes_acked += n;
		}
		/* RTT (RFC 7323 §4 with timestamps, else RFC 6298 Karn timing). */
		if (c->ts_ok && s->opt.has_ts && s->opt.tsecr) {
			rtt = ts_rtt(c, s, now);
		} else if (c->rtt_timing && SEQ_GT(s->ack, c->rtt_seq)) {
			uint64_t el = now - c->rtt_start;
			rtt = el > INT32_MAX ? 0 : el ? (uint32_t)el : 1;
			c->rtt_timing = 0;
		}
		if (rtt)
			hxs_tcp_rtt_sample(c, rtt);
		c->snd_una = s->ack;
		hxs_tcp_fp_una(c, (uint16_t)s->wnd);      /* XDP judges by it too */
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		hxs_sack__advance(&c->sb, c->snd_una);
		hxs_tcp_urg_acked(c);             /* urgent mode ends (tcp_urg.c) */
		c->persist_shift = 0;
		c->keep_probes = 0;
		c->una_since = now;               /* TCP_USER_TIMEOUT counts from here on */
		c->probe_since = 0;
		hxs_tcp_rexmt_restart(c, now);
	}
	/* "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If
	 * (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <-
	 * SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK." */
	c->probes_out = 0;                /* the peer is alive (Linux resets on any ACK) */
	/* An old ACK (SEG.ACK < SND.UNA, yet acceptable by RFC 5961 §5.2) fails the first
	 * condition: its window is not taken, however new its SEQ (a blind segment could close
	 * our window otherwise; Linux's tcp_ack() ignores old ACKs the same way).
	 * An ACK that moved SND.UNA (acked) is taken whatever its SEQ, as Linux's
	 * tcp_may_update_window() does ("after(ack, snd_una) || ..."). "The check here prevents
	 * using old segments to update the window", and such an ACK is not old: the peer's
	 * acknowledgment number never goes back, so SEG.ACK > SND.WL2 says it was sent after the
	 * segment that last set the window; a SEQ below SND.WL1 only means a retransmission (of
	 * a hole in the peer's data, its second segment having set SND.WL1). And "SND.WND is an
	 * offset from SND.UNA": kept while SND.UNA moves, the right edge would move by the bytes
	 * acknowledged, beyond what the peer offered, into data the peer would drop. */
	if (acked || (SEQ_LEQ(c->snd_una, s->ack) &&
		      (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))))) {
		if (wnd && !c->snd_wnd) {
			c->persist_shift = 0;
			c->probe_since = 0;       /* tcp_ack_probe: the window opened */
		}
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd)
			hxs_wheel__cancel(&tcp->wheel, &c->t_persist);
	}
	if (rest_waits) {
		/* nothing SACKed (newly 0), no duplicate; the rate sample, RACK and congestion
		 * control later */
		hxs_tcp_ecn_ack_in(c, s, acked, 0, now);
		hxs_tcp_ack_rest_defer(c, s, acked, rtt, now);
	} else {
		hxs_tcp_recovery_on_ack(c, acked, dup, newly, rtt, now);
		hxs_tcp_ecn_ack_in(c, s, acked, newly, now);   /* RFC 3168 §6.1.2 (tcp_ecn.c) */
		hxs_tcp_pmtu_on_ack(c);                        /* RFC 4821 §7.6 (tcp_pmtu.c) */
		c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
		/* the rate sample completed, to a model-based algorithm (BBR) */
		hxs_tcp_cc_ack(c, c->cc.ops->cong_control ? hxs_tcp_pipe(c) : 0, now);
	}
	uint32_t dend = hxs_tcp_snd_end(c);
	return c->fin_queued && SEQ_GT(c->snd_max, dend) && SEQ_GT(c->snd_una, dend);
}

static int seq_acceptable(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? SEQ_DIFF(c->rcv_adv, c->rcv_nxt) : 0;
	uint32_t len = hxs_tcp_seg_seqlen(s);
	/* §3.10.7.4 "There are four cases for the acceptability test for an incoming
	 * segment" (Table 6). With a zero window we still take a segment starting at RCV.NXT
	 * so that its ACK and window are processed ("special allowance should be made to
	 * accept valid ACKs, URGs, and RSTs"); its text is trimmed away. The same allowance
	 * takes a segment without text at the right edge, SEG.SEQ = RCV.NXT + RCV.WND: the
	 * peer filled the window we offered with data we did not keep, and its ACKs come from
	 * there (Linux's tcp_sequence() takes SEG.SEQ up to the edge too). A RST stays inside
	 * the window (RFC 5961 §3.2). */
	if (wnd == 0)
		return s->seq == c->rcv_nxt;
	if (len == 0)
		return SEQ_IN(s->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
		       (s->seq == c->rcv_nxt + wnd && !(s->flags & HXS_TH_RST));
	return SEQ_IN(s->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
	       SEQ_IN(s->seq + len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

static void reset_conn(struct hxs_tcp_conn *c)
{
	switch (c->state) {
	case HXS_TCPS_SYN_RECEIVED:
		/* "If this connection was initiated with a passive OPEN (i.e., came from the
		 * LISTEN state), then return this connection to LISTEN state and return. ...
		 * If this connection was initiated with an active OPEN ... the connection was
		 * refused; signal the user". */
		if (!c->passive)
			MIB_INC(c->tcp, TcpAttemptFails);
		hxs_tcp_close_conn(c, c->passive ? 0 : ECONNREFUSED);
		break;
	case HXS_TCPS_ESTABLISHED:
	case HXS_TCPS_FIN_WAIT_1:
	case HXS_TCPS_FIN_WAIT_2:
		/* "any outstanding RECEIVEs and SEND should receive "reset" responses ... enter
		 * the CLOSED state, delete the TCB". */
		hxs_tcp_close_conn(c, ECONNRESET);
		break;
	case HXS_TCPS_CLOSE_WAIT:
		/* The same, but the peer had ended its side already: the kernel's tcp_reset()
		 * reports EPIPE here ("case TCP_CLOSE_WAIT: err = EPIPE"). */
		hxs_tcp_close_conn(c, EPIPE);
		break;
	default:
		/* CLOSING, LAST-ACK, TIME-WAIT: "enter the CLOSED state, delete the TCB". */
		hxs_tcp_close_conn(c, 0);
		break;
	}
}

/* §3.10.7.4 first: "If the RCV.WND is zero, no segments will be acceptable, but special
 * allowance should be made to accept valid ACKs, URGs, and RSTs." With our window closed,
 * the peer's zero-window probe <SEQ=RCV.NXT-1> and its retransmissions of text we hold
 * fail the test, and may be the only segments carrying its ACK: their ACK field is taken
 * (the fifth step's checks, RFC 5961 §5.2 included) and the rest dropped. A RST is taken
 * at RCV.NXT already (RFC 5961 §3.2 wants no more); the URG bit of such a segment is not
 * looked at (the pointer comes again with the text). Only segments
 * starting at or below RCV.NXT: beyond it a closed window never offered anything. */
static int zero_window_ack(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	return !SEQ_GT(c->rcv_adv, c->rcv_nxt) && SEQ_LEQ(s->seq, c->rcv_nxt) &&
	       (s->flags & (HXS_TH_ACK | HXS_TH_SYN | HXS_TH_RST)) == HXS_TH_ACK &&
	       HXS_TCPS_HAVEESTABLISHED(c->state) && c->state != HXS_TCPS_TIME_WAIT;
}

/* The reply to a segment dropped as unacceptable (§3.10.7.4 first, PAWS): "an acknowledgment
 * should be sent in reply". Two peers that disagree on the sequence space would ACK each
 * other's ACKs without end, so, like Linux's tcp_oow_rate_limited(), a connection answers
 * segments without text or FIN (and SYNs) at most once per 500 ms, shared with its challenge
 * ACKs; a segment with text or a FIN is answered every time (a peer does not answer an ACK
 * with data: no loop, and a retransmitted FIN in TIME-WAIT needs its ACK). */
static void answer_unacceptable(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now,
				int paws)
{
	if (hxs_tcp_seg_seqlen(s) && !(s->flags & HXS_TH_SYN)) {
		c->ack_now = 1;
		return;
	}
	if (hxs_tcp_invalid_ack_limited(c, now)) {
		if (paws)
			MIB_INC(c->tcp, TCPACKSkippedPAWS);
		else
			MIB_INC(c->tcp, TCPACKSkippedSeq);
		return;
	}
	c->ack_now = 1;
}

/* §3.10.7.4 first: check the sequence number. Before it, a duplicate SYN in SYN-RECEIVED and
 * PAWS (RFC 7323 §5.3); TS.Recent is taken later, once the ACK check passed (check_ack). */
static enum step check_seq(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;

	/* A retransmitted SYN while our SYN,ACK is unacknowledged: send the SYN,ACK again. */
	if (c->state == HXS_TCPS_SYN_RECEIVED && (s->flags & (HXS_TH_SYN | HXS_TH_ACK | HXS_TH_RST)) ==
	    HXS_TH_SYN && s->seq == c->irs) {
		c->snd_nxt = c->iss;
		c->syn_rxt = 1;        /* Karn: the handshake ACK is now ambiguous */
		return STEP_DONE;
	}
	/* RFC 7323 §5.3 R1 (PAWS): "If there is a Timestamps option in the arriving segment,
	 * SEG.TSval < TS.Recent, TS.Recent is valid, and the RST bit is not set, then treat
	 * the arriving segment as not acceptable: Send an acknowledgment in reply as
	 * specified in Section 3.10.7.4 of RFC 9293, and drop the segment." */
	if (c->ts_ok && s->opt.has_ts && !(s->flags & HXS_TH_RST) && SEQ_LT(s->opt.tsval, c->ts_recent) &&
	    now - c->ts_recent_age < PAWS_IDLE_US) {
		MIB_INC(tcp, PAWSEstab);
		answer_unacceptable(c, s, now, 1);
		return STEP_DONE;
	}
	/* first: check sequence number. "If an incoming segment is not acceptable, an
	 * acknowledgment should be sent in reply (unless the RST bit is set, if so drop the
	 * segment and return)". */
	if (!seq_acceptable(c, s)) {
		if (!(s->flags & HXS_TH_RST)) {
			/* a segment whose ACK our closed window takes (zero_window_ack: a window
			 * probe, paced by the peer's persist timer, no loop) is answered every time */
			if (zero_window_ack(c, s))
				c->ack_now = 1;
			else
				answer_unacceptable(c, s, now, 0);
			if (c->state == HXS_TCPS_TIME_WAIT && (s->flags & HXS_TH_FIN))
				hxs_tcp_timewait_start(c, now);
			if (s->len)
				MIB_INC(tcp, TCPSpuriousSegs);
			/* RFC 2883 §4 (1): data already received is reported back as the first
			 * SACK block of the ACK (D-SACK). */
			if (s->len && c->sack_ok && SEQ_LEQ(s->seq + s->len, c->rcv_nxt)) {
				c->dsack = 1;
				c->dsack_start = s->seq;
				c->dsack_end = s->seq + s->len;
			}
			if (zero_window_ack(c, s))
				return STEP_ACK_ONLY;
		}
		return STEP_DONE;
	}
	return STEP_NEXT;
}

/* RFC 7323 §4.3 (3): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent, then SEG.TSval
 * is copied to TS.Recent". Only for a segment that passed the RST, SYN and ACK checks of
 * §3.10.7.4 as well as the sequence check: a blind segment with an in-window SEQ and a made-up
 * ACK (RFC 5961 §5 discards it) must not raise TS.Recent, or PAWS (§5.3) would drop every
 * genuine segment after it. Linux orders it the same way (tcp_ack -> tcp_replace_ts_recent,
 * after tcp_validate_incoming and the ACK's own checks). */
static void update_ts_recent(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	if (c->ts_ok && s->opt.has_ts && SEQ_GEQ(s->opt.tsval, c->ts_recent) &&
	    SEQ_LEQ(s->seq, c->last_ack_sent)) {
		c->ts_recent = s->opt.tsval;
		c->ts_recent_age = now;
	}
}

/* §3.10.7.4 second: check the RST bit (as RFC 5961 §3.2 restricts it). */
static enum step check_rst(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	/* second: check the RST bit. RFC 5961 §3.2: "1) If the RST bit is set and the
	 * sequence number is outside the current receive window, silently drop the segment.
	 * 2) If the RST bit is set and the sequence number exactly matches the next expected
	 * sequence number (RCV.NXT), then TCP MUST reset the connection. 3) If the RST bit is
	 * set and the sequence number does not exactly match ... but is within the current
	 * receive window, TCP MUST send an acknowledgment (challenge ACK)". Case 1) is the
	 * first step's: an unacceptable RST is dropped there. */
	if (s->flags & HXS_TH_RST) {
		if (s->seq == c->rcv_nxt) {
			reset_conn(c);
			return STEP_GONE;
		}
		hxs_tcp_send_challenge_ack(c, now);
		return STEP_DONE;
	}
	return STEP_NEXT;
}

/* §3.10.7.4 fourth: check the SYN bit (RFC 5961 §4.2). */
static enum step check_syn(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	if (s->flags & HXS_TH_SYN) {
		if (c->state == HXS_TCPS_SYN_RECEIVED && c->passive) {
			/* "If the connection was initiated with a passive OPEN, then return this
			 * connection to the LISTEN state and return." */
			hxs_tcp_close_conn(c, 0);
			return STEP_GONE;
		}
		/* RFC 5961 §4.2: "If the SYN bit is set, irrespective of the sequence number,
		 * TCP MUST send an ACK (also referred to as challenge ACK) to the remote peer". */
		MIB_INC(c->tcp, TCPSYNChallenge);
		hxs_tcp_send_challenge_ack(c, now);
		return STEP_DONE;
	}
	return STEP_NEXT;
}

/* The fifth step in SYN-RECEIVED: the ACK of our SYN,ACK completes the handshake. */
static enum step ack_syn_received(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;

	/* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and continue
	 * processing ... If the segment acknowledgment is not acceptable, form a reset
	 * segment <SEQ=SEG.ACK><CTL=RST> and send it." */
	if (!(SEQ_LT(c->snd_una, s->ack) && SEQ_LEQ(s->ack, c->snd_max))) {
		hxs_tcp_send_rst(tcp, c->laddr, c->raddr, c->lport, c->rport, s->ack, 0, 0);
		return STEP_DONE;
	}
	struct hxs_tcp_conn *l = c->listener;
	if (l && l->acceptq_len > l->backlog) {
		/* Accept queue full: like Linux (tcp_abort_on_overflow = 0) drop the ACK;
		 * the SYN,ACK is retransmitted and the peer's ACK comes again. */
		MIB_INC(tcp, ListenOverflows);
		return STEP_DONE;
	}
	if (hxs_tcp_conn_bufs(c) < 0) {
		/* No memory for the buffers: refuse like a full queue would. */
		MIB_INC(tcp, ListenDrops);
		hxs_tcp_send_rst(tcp, c->laddr, c->raddr, c->lport, c->rport, s->ack, 0, 0);
		hxs_tcp_close_conn(c, ENOMEM);
		return STEP_GONE;
	}
	/* RFC 6298 §2.2: this ACK is the first RTT measurement, with timestamps too (process_ack
	 * below sees no new data acknowledged and takes none). §3 (Karn): "RTT samples MUST NOT
	 * be made using segments that were retransmitted" - any resent SYN,ACK (timer or
	 * duplicate SYN) counts - but "The only case when TCP can safely take RTT samples from
	 * retransmitted segments is when the TCP timestamp option is employed": the ACK's TSecr
	 * names the SYN,ACK it answers. Like Linux (tcp_synack_rtt_meas, tcp_ack_update_rtt):
	 * the timing if unambiguous, else TSecr. Without a sample, §5.7 makes the RTO 3 s. */
	uint32_t rtt = ts_rtt(c, s, now);
	if (!c->syn_rxt)
		hxs_tcp_rtt_sample(c, (uint32_t)(now - c->last_send));
	else if (rtt)
		hxs_tcp_rtt_sample(c, rtt);
	c->backoff = 0;
	c->snd_una = s->ack;
	c->snd_wnd = s->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	hxs_wheel__cancel(&tcp->wheel, &c->t_rexmt);
	establish(c, now);
	if (l)
		hxs_tcp_acceptq_add(l, c);
	return STEP_NEXT;
}

/* §3.10.7.4 fifth: check the ACK field; then what our FIN's acknowledgment means in the
 * closing states. */
static enum step check_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	/* the previous ACK's rest first (tcp_ack_rest.c): this one builds on it */
	hxs_tcp_ack_rest(c);
	/* fifth: check the ACK field. "if the ACK bit is off, drop the segment and return". */
	if (!(s->flags & HXS_TH_ACK))
		return STEP_DONE;
	if (c->state == HXS_TCPS_SYN_RECEIVED) {
		enum step r = ack_syn_received(c, s, now);
		if (r != STEP_NEXT)
			return r;
	}
	/* RFC 5961 §5.2: "(SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT ... All incoming
	 * segments whose ACK value doesn't satisfy the above condition MUST be discarded and
	 * an ACK sent back." That ACK is throttled as a challenge ACK (§7; Linux's
	 * tcp_send_challenge_ack() for an ACK too old): one per 500 ms per connection. */
	if (!SEQ_LEQ(s->ack, c->snd_max) || SEQ_LT(s->ack, c->snd_una - c->max_snd_wnd)) {
		hxs_tcp_send_challenge_ack(c, now);
		return STEP_DONE;
	}
	update_ts_recent(c, s, now);
	int fin_acked = process_ack(c, s, now, 0);
	switch (c->state) {
	case HXS_TCPS_FIN_WAIT_1:
		/* "In addition to the processing for the ESTABLISHED state, if the FIN segment
		 * is now acknowledged, then enter FIN-WAIT-2 and continue processing". */
		if (fin_acked) {
			hxs_tcp_set_state(c, HXS_TCPS_FIN_WAIT_2);
			hxs_tcp_keep_arm(c, now);
		}
		break;
	case HXS_TCPS_CLOSING:
		/* "if the ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise,
		 * ignore the segment." */
		if (fin_acked) {
			hxs_tcp_set_state(c, HXS_TCPS_TIME_WAIT);
			hxs_tcp_timewait_start(c, now);
		}
		break;
	case HXS_TCPS_LAST_ACK:
		/* "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state, and
		 * return." */
		if (fin_acked) {
			hxs_tcp_close_conn(c, 0);
			return STEP_GONE;
		}
		break;
	case HXS_TCPS_TIME_WAIT:
		/* "The only thing that can arrive in this state is a retransmission of the
		 * remote FIN. Acknowledge it, and restart the 2 MSL timeout." */
		if (s->flags & HXS_TH_FIN) {
			c->ack_now = 1;
			hxs_tcp_timewait_start(c, now);
		}
		return STEP_DONE;
	default:
		break;
	}
	return STEP_NEXT;
}

enum step hxs_tcp_check_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	return check_ack(c, s, now);
}

/* check_ack() for the segment the second header prediction took (tcp_predict.c
 * data_ack_predicted()), whose tests leave only one of its own open: ESTABLISHED (no
 * handshake, nothing of the closing states), ACK set, SND.UNA < SEG.ACK =< SND.MAX (inside
 * RFC 5961 §5.2's range: SND.UNA - MAX.SND.WND lies below SND.UNA), timestamps as agreed and
 * SEG.TSval >= TS.Recent: of update_ts_recent()'s tests SEG.SEQ =< Last.ACK.sent only. The
 * ACK's rest may wait (process_ack()). */
enum step hxs_tcp_check_ack_rest_later(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s,
				       uint64_t now)
{
	/* the previous ACK's rest first (tcp_ack_rest.c): this one builds on it */
	hxs_tcp_ack_rest(c);
	/* RFC 7323 §4.3 (3), update_ts_recent() */
	if (c->ts_ok && SEQ_LEQ(s->seq, c->last_ack_sent)) {
		c->ts_recent = s->opt.tsval;
		c->ts_recent_age = now;
	}
	process_ack(c, s, now, 1);     /* no FIN of ours in ESTABLISHED */
	return STEP_NEXT;
}

/* RFC 2883 §4: the part of an acceptable segment we already hold - below RCV.NXT, or in a
 * range held out of order - is reported as the first SACK block of an immediate ACK (rule
 * (1): it reports "the most recent packet"). The insert that follows makes the range
 * holding it the freshest, so it is the second block (rule (4)). A segment wholly below
 * RCV.NXT is check_seq()'s (unacceptable). */
static void dsack_note(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	uint32_t a = s->seq, b = s->seq + s->len;
	if (SEQ_LT(a, c->rcv_nxt))
		b = c->rcv_nxt;     /* rule (3): "the duplicate contiguous sequence" */
	else if (!hxs_tcp_reass_held(c, a, b, &a, &b))
		return;
	c->dsack = 1;
	c->dsack_start = a;
	c->dsack_end = b;
	c->ack_now = 1;
}

/* Whether the duplicate ACK an out-of-order segment made due may wait for the end of the
 * input batch (cfg.ack_batch: the stack's turn, whose hxs_tcp__poll() sends it), to go as
 * one ACK, its SACK blocks up to date, for the batch's segments beyond the hole, at most
 * ACK_BATCH_SEGS of them: Linux's SACK compression (tcp_comp_sack_nr 44; its timer, at most
 * 1 ms or 5 % of the RTT, is the batch's end here). As Linux's __tcp_ack_snd_check(): the
 * first three duplicate ACKs for one RCV.NXT go at once (a sender counting them to three,
 * RFC 5681 §3.2, hears them), and so does an ACK that fills in all or part of a gap (RFC
 * 5681 §4.2 "SHOULD be generated" at once). In-order data keeps its ACK for every second
 * full-sized segment (§4.2), a stretch ACK would slow a sender's slow start (RFC 3465 L). */
static int ack_may_wait(struct hxs_tcp_conn *c, int advanced, int extends)
{
	if (!c->tcp->cfg.ack_batch || !c->reass.n || advanced || c->segs_unacked >= ACK_BATCH_SEGS)
		return 0;
	if (c->dup_rcv_nxt != c->rcv_nxt) {
		c->dup_rcv_nxt = c->rcv_nxt;
		c->dup_acks_sent = 0;
	}
	/* Only a segment that extends the range SACKed first may wait: one that starts a
	 * range, or lands in another, goes at once, so that the ACKs' three blocks (RFC 2018
	 * §4, the most recent first) have reported every range as it grew; a range the sender
	 * never heard grow would have its segments marked lost (RACK, RFC 8985 §6.2)
	 * spuriously. */
	if (c->dup_acks_sent < 3 || !extends) {
		if (c->dup_acks_sent < UINT16_MAX)
			c->dup_acks_sent++;
		return 0;
	}
	return 1;
}

/* §3.10.7.4 seventh: process the segment text (reassembly, delayed or immediate ACK). */
static enum step process_text(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	/* seventh: process the segment text. */
	if (s->len) {
		if (!HXS_TCPS_CANRCVDATA(c->state)) {
			/* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur since a
			 * FIN has been received from the remote side. Ignore the segment text." */
		} else if (c->user_closed || (c->rd_shut && (c->state == HXS_TCPS_FIN_WAIT_1 ||
							      c->state == HXS_TCPS_FIN_WAIT_2))) {
			/* The application closed, or shut both directions: nobody will read this.
			 * RFC 1122 §4.2.2.13 "if new data is received after CLOSE is called, its TCP
			 * SHOULD send a RST" (Linux's TCPAbortOnData, also after SHUT_RD + SHUT_WR,
			 * which then reports ECONNRESET). */
			MIB_INC(c->tcp, TCPAbortOnData);
			hxs_tcp_send_rst_conn(c, now);
			hxs_tcp_close_conn(c, c->user_closed ? 0 : ECONNRESET);
			return STEP_GONE;
		} else {
			int had_ooo = c->reass.n > 0;
			uint32_t before = c->rcv_nxt;
			hxs_tcp_measure_ack_mss(c, s);
			hxs_tcp_ecn_data_in(c, s);   /* RFC 3168 §6.1.3: CWR, CE (tcp_ecn.c) */
			if (c->sack_ok)
				dsack_note(c, s);
			/* an ACK something else made due (CE, D-SACK) goes at once */
			int due = c->ack_now;
			int extends = c->reass.n && s->seq == hxs_tcp_reass_fresh_end(c);
			int r = hxs_tcp_reass_insert(c, s->seq, s->data, s->len);
			c->bytes_received += SEQ_DIFF(c->rcv_nxt, before);
			/* New readable data is a new edge for EPOLLET even when the socket was
			 * readable already (the kernel's sk_data_ready wakes on every arrival):
			 * forget EPOLLIN so hxs_tcp_notify() reports it. */
			if (SEQ_GT(c->rcv_nxt, before))
				c->ev_last &= ~(uint32_t)EPOLLIN;
			if (c->segs_unacked < UINT16_MAX)
				c->segs_unacked++;
			int in_order = r == 1 && !had_ooo && !c->reass.n;
			if (in_order) {
				/* §3.8.6.3 / RFC 5681 §4.2: ACK at least every second full-sized
				 * segment (of the peer's size), and within 40 ms otherwise. */
				if (SEQ_DIFF(c->rcv_nxt, c->last_ack_sent) >= 2 * c->ack_mss)
					c->ack_now = 1;
				else
					hxs_tcp_delack_arm(c, now);
			} else {
				/* RFC 5681 §4.2: "an immediate ACK SHOULD be generated when a segment
				 * arrives that fills in all or part of a gap", and out-of-order
				 * segments are acknowledged at once (duplicate ACK). */
				c->ack_now = 1;
			}
			c->ack_held = !due && c->ack_now &&
				      (in_order ? inorder_ack_may_wait(c) :
				       ack_may_wait(c, SEQ_GT(c->rcv_nxt, before), extends));
			if (c->reass.has_fin && c->rcv_nxt == c->reass.fin_seq)
				process_fin(c, now);
		}
	}
	return STEP_NEXT;
}

/* §3.10.7.4 eighth: check the FIN bit. */
static void check_fin(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	/* eighth: check the FIN bit. */
	if (s->flags & HXS_TH_FIN) {
		uint32_t fin_seq = s->seq + s->len;
		if (fin_seq == c->rcv_nxt && (HXS_TCPS_CANRCVDATA(c->state) ||
					      c->state == HXS_TCPS_SYN_RECEIVED)) {
			process_fin(c, now);
		} else if (SEQ_GT(fin_seq, c->rcv_nxt) && HXS_TCPS_CANRCVDATA(c->state)) {
			c->reass.has_fin = 1;        /* FIN beyond a hole: take it when we get there */
			c->reass.fin_seq = fin_seq;
			c->ack_now = 1;
		} else {
			c->ack_now = 1;              /* a FIN again */
		}
	}
}

/* Simultaneous open, figure 8 line 6: in SYN-RECEIVED reached from SYN-SENT, the peer's
 * SYN,ACK repeats its SYN (SEG.SEQ = IRS) and acknowledges ours. The first step would call it
 * an old duplicate and the fourth a SYN to challenge, leaving us in SYN-RECEIVED until the
 * peer sends something else; like Linux (tcp_rcv_state_process) we take its ACK, which is
 * what the figure shows: "ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>". */
static int simopen_synack(const struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	return c->state == HXS_TCPS_SYN_RECEIVED && !c->passive &&
	       (s->flags & (HXS_TH_SYN | HXS_TH_ACK | HXS_TH_RST)) == (HXS_TH_SYN | HXS_TH_ACK) &&
	       s->seq + 1 == c->rcv_nxt && s->ack == c->snd_max;
}

/* Processing in the synchronized states, §3.10.7.4: the RFC's steps in its order, each one
 * able to end it. Returns 0 if the connection is gone. */
static int sync_input(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now)
{
	if (simopen_synack(c, s)) {
		if (ack_syn_received(c, s, now) == STEP_NEXT) {
			/* RFC 7323 §2.2: the window of a <SYN,ACK> is never scaled. */
			c->snd_wnd = s->wnd;
			c->max_snd_wnd = s->wnd;
		}
		return 1;
	}
	enum step r = check_seq(c, s, now);              /* first (PAWS ahead of it) */
	if (r == STEP_ACK_ONLY)                           /* RCV.WND = 0: its ACK, no more */
		return hxs_tcp_check_ack(c, s, now) != STEP_GONE;
	if (r == STEP_NEXT)
		r = check_rst(c, s, now);                 /* second */
	/* third, "check security": hxs carries no IP security/compartment option, so there is
	 * nothing that could mismatch the TCB's. */
	if (r == STEP_NEXT)
		r = check_syn(c, s, now);                 /* fourth */
	if (r == STEP_NEXT)
		r = hxs_tcp_check_ack(c, s, now);         /* fifth */
	if (r == STEP_NEXT)
		hxs_tcp_urg_in(c, s);                     /* sixth (tcp_urg.c) */
	if (r == STEP_NEXT) {
		r = process_text(c, s, now);              /* seventh */
		if (r == STEP_NEXT)
			hxs_tcp_urg_fetch(c);             /* the urgent byte, now in order */
	}
	if (r == STEP_NEXT)
		check_fin(c, s, now);                     /* eighth */
	return r != STEP_GONE;
}

/* The rest of conn_input() (tcp_input.c): one switch (state). A call (this file), so that
 * the predicted path, inlined into hxs_tcp__input_slot(), keeps its few registers. Returns
 * 1 for a listener, whose segment is its caller's (listen_input()), else 0. */
int hxs_tcp_conn_input_rest(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now,
			    int held)
{
	switch (c->state) {
	case HXS_TCPS_CLOSED:
		/* Not in the table; cannot happen. */
		return 0;
	case HXS_TCPS_LISTEN:
		/* Listeners are reached through hxs_tcp_lookup_listener(). */
		return 1;
	case HXS_TCPS_SYN_SENT:
		/* §3.10.7.3 */
		if (!syn_sent_input(c, s, now))
			return 0;
		break;
	case HXS_TCPS_SYN_RECEIVED:
	case HXS_TCPS_ESTABLISHED:
	case HXS_TCPS_CLOSE_WAIT:
	case HXS_TCPS_FIN_WAIT_1:
	case HXS_TCPS_CLOSING:
	case HXS_TCPS_LAST_ACK:
	case HXS_TCPS_FIN_WAIT_2:
	case HXS_TCPS_TIME_WAIT: {
		/* §3.10.7.4 "Otherwise" - the synchronized states. */
		if (!sync_input(c, s, now))
			return 0;
		if (held && !c->ack_now)
			c->ack_now = c->ack_held = 1;
		/* the ACK waits for the batch's end: output then (hxs_tcp__poll) */
		if (c->ack_held && c->ack_now && c->state == HXS_TCPS_ESTABLISHED) {
			c->tcp->acks_waiting++;
			hxs_tcp_mark_dirty(c);
			hxs_tcp_notify(c);
			return 0;
		}
		break;
	}
	}
	if (c->ack_defer) {
		/* the ACK waits one poll (hxs_tcp__poll, after the user heard the news) */
		hxs_tcp_mark_dirty(c);
		hxs_tcp_notify(c);
		return 0;
	}
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	return 0;
}
