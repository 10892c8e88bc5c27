/* tcp_output.c - what may be sent now: the SYN (or SYN,ACK), retransmissions in loss
 * recovery, new data and the FIN, a pending ACK. Each segment is built and sent by tcp_seg.c.
 *
 * hxs_tcp__poll() / input / timers -> hxs_tcp_output() -> [hxs_tcp_recovery_output()]
 *     -> output_data() -> hxs_tcp_send_seg() (tcp_seg.c), hxs_tcp_cwnd_validate() (RFC 7661,
 *        tcp_conn.h)
 *
 * The send decision combines the peer's window (§3.8.6), cwnd (RFC 5681), Nagle (RFC 896,
 * §3.7.4) and sender-side SWS avoidance (§3.8.6.2.1).
 */
#include "tcp_conn.h"

/* Sends new data (and FIN) as windows, Nagle and SWS avoidance allow. Returns segments sent;
 * *fresh says whether the slot is as the last of them published it (tcp_seg.c): nothing
 * hxs_tcp_fp_publish() reads changed after it - it was new data (SND.NXT was SND.MAX, as it
 * is after it) and stopped no persist timer. */
static int output_data(struct hxs_tcp_conn *c, uint64_t now, int *fresh)
{
	int sent = 0;
	/* RFC 4821 §7.5: a probe segment first, when one is due (tcp_pmtu.c) */
	int probe = hxs_tcp_pmtu_probe(c, now);
	if (probe == 0)
		return 0;
	sent = probe > 0;
	/* In SACK recovery the congestion limit is cwnd - pipe (RFC 6675 §5 step 4); with RACK
	 * always (what is SACKed or lost is not in flight: Linux's tcp_packets_in_flight()). */
	int use_pipe = c->recovery == HXS_REC_SACK || c->rk.on;
	/* Nothing unsent and no FIN to come (a receiver's usual case): the loop below would
	 * find len = 0 and no FIN, so no reason to go; skip it and its window arithmetic. */
	int idle = !SEQ_LT(c->snd_nxt, hxs_tcp_snd_end(c)) && !c->fin_queued;
	uint32_t pipe = use_pipe && !idle ? hxs_tcp_pipe(c) : 0;
	while (!idle) {
		uint32_t end = hxs_tcp_snd_end(c);
		uint32_t avail = SEQ_LT(c->snd_nxt, end) ? SEQ_DIFF(end, c->snd_nxt) : 0;
		uint32_t right = c->snd_una + c->snd_wnd;
		uint32_t usable = SEQ_GT(right, c->snd_nxt) ? SEQ_DIFF(right, c->snd_nxt) : 0;
		uint32_t cw;
		if (use_pipe)
			cw = c->cc.cwnd > pipe ? c->cc.cwnd - pipe : 0;
		else {
			uint32_t fl = SEQ_DIFF(c->snd_nxt, c->snd_una);
			/* RFC 3042 Limited Transmit: on the first two duplicate ACKs new data may
			 * go as long as "the amount of outstanding data would remain less than or
			 * equal to the congestion window plus 2*SMSS". */
			uint32_t lim = c->cc.cwnd;
			if (c->recovery == HXS_REC_NONE && c->dupacks && c->dupacks < 3)
				lim += c->dupacks * c->mss;
			cw = lim > fl ? lim - fl : 0;
		}
		uint32_t rwnd_room = usable;
		if (usable > cw)
			usable = cw;
		uint32_t len = avail < usable ? avail : usable;
		/* full-sized: SMSS less the SACK blocks this segment carries (§3.7.1) */
		uint32_t smss = hxs_tcp_send_mss(c);
		if (len > smss)
			len = smss;
		/* The FIN follows the last byte of data, once the user closed. */
		int fin = c->fin_queued && c->snd_nxt + len == end &&
			  (c->state == HXS_TCPS_FIN_WAIT_1 || c->state == HXS_TCPS_LAST_ACK ||
			   c->state == HXS_TCPS_CLOSING);
		int go = 0;
		if (len && len == smss)
			go = 1;
		/* TCP_CORK (tcp(7), Linux's tcp_nagle_check with TCP_NAGLE_CORK): a partial
		 * segment waits - for more data, the uncork, or 200 ms - unless it carries the FIN
		 * or urgent data (tcp_nagle_test) */
		else if (len && c->cork && !c->cork_push && !fin && !c->urg_mode) {
			if (!hxs_timer__armed(&c->t_cork))
				hxs_wheel__arm(&c->tcp->wheel, &c->t_cork, now + HXS_TCP_CORK_US);
			break;
		}
		/* Nagle (§3.7.4): "if there is unacknowledged data, then the sending TCP
		 * endpoint buffers all user data ... until the outstanding data has been
		 * acknowledged or until it can send a full-sized segment". */
		else if (len && len == avail && (c->nodelay || c->snd_nxt == c->snd_una || fin))
			go = 1;
		/* Urgent data is not held back (Linux's tcp_nagle_test in urgent mode): the peer
		 * is to hear of it "as quickly as possible" (RFC 9293 §3.8.5). */
		else if (len && len == avail && c->urg_mode)
			go = 1;
		/* §3.8.6.2.1: send if "at least a fraction Fs of the maximum window can be
		 * sent", Fs = 1/2. */
		else if (len && c->max_snd_wnd && len >= c->max_snd_wnd / 2)
			go = 1;
		/* A FIN alone takes one octet of the peer's window, as data would (Linux's
		 * tcp_snd_wnd_test): into a closed window it would only be dropped. */
		else if (!len && fin && !avail && SEQ_GT(right, c->snd_nxt))
			go = 1;
		if (!go) {
			/* data waits for a window: which one (Linux's tcp_info rwnd_limited;
			 * cwnd's is hxs_tcp_cwnd_validate's) */
			if (avail > len && len < smss)
				c->tcp->mib[rwnd_room <= cw ? HXS_TCP_MIB_HxsTcpOutRwndLimited :
						      HXS_TCP_MIB_HxsTcpOutCwndLimited]++;
			break;
		}
		/* the pacing rate's time for it (tcp_pacing.c; the timer resumes output) */
		if (len && !hxs_tcp_pace_may_send(c, now)) {
			MIB_INC(c->tcp, HxsTcpOutPaced);
			break;
		}
		uint8_t flags = HXS_TH_ACK;
		if (len && len == avail)
			flags |= HXS_TH_PSH;
		if (fin)
			flags |= HXS_TH_FIN;
		if (hxs_tcp_send_seg(c, c->snd_nxt, flags, len, now) < 0)
			break;
		int rexmit = SEQ_LT(c->snd_nxt, c->snd_max);
		*fresh = !rexmit && !hxs_timer__armed(&c->t_persist);
		if (rexmit) {
			MIB_INC(c->tcp, TcpRetransSegs);
			c->total_retrans++;
		} else if (!c->rtt_timing && !c->ts_ok && len) {
			c->rtt_timing = 1;        /* RFC 6298 §3: time one segment at a time */
			c->rtt_seq = c->snd_nxt;
			c->rtt_start = now;
		}
		c->snd_nxt += len + (uint32_t)fin;
		pipe += len;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!hxs_timer__armed(&c->t_rexmt))
			hxs_tcp_rexmt_arm(c, now);
		hxs_wheel__cancel(&c->tcp->wheel, &c->t_persist);
		sent++;
		if (fin)
			break;
		/* all that waited went and no FIN is to follow: the next round would find nothing
		 * (no data, no FIN) and stop */
		if (len == avail && !c->fin_queued)
			break;
	}
	/* all that waited went: the next partial segment is corked again, for 200 ms anew */
	if (!SEQ_LT(c->snd_nxt, hxs_tcp_snd_end(c))) {
		c->cork_push = 0;
		hxs_wheel__cancel(&c->tcp->wheel, &c->t_cork);
	}
	/* cwnd limited the sending when it has no room left for another full segment (Linux:
	 * packets in flight >= cwnd). */
	uint32_t flight = SEQ_DIFF(c->snd_nxt, c->snd_una);
	int limited = (uint64_t)flight + c->mss > c->cc.cwnd;
	if (sent || limited)
		hxs_tcp_cwnd_validate(c, limited, flight);
	/* draft-cheng-iccrg-delivery-rate-estimation §3.4: an application-limited phase. The
	 * mark is C.delivered + inflight: an ACK's rest still pending (nothing was sent, so no
	 * segment ran it) adds that ACK's bytes to C.delivered first, or the rest would find
	 * the new C.delivered past the mark and clear it at once. */
	hxs_tcp_ack_rest(c);
	hxs_tcp_rate_app_limited(c, flight);
	/* §3.8.6.1: with data or our FIN waiting, nothing in flight and a window too small to
	 * use, the persist timer probes the window. */
	uint32_t end = hxs_tcp_snd_end(c);
	if ((SEQ_LT(c->snd_nxt, end) || hxs_tcp_fin_waits(c)) && c->snd_nxt == c->snd_una &&
	    !hxs_timer__armed(&c->t_rexmt) && !hxs_timer__armed(&c->t_persist))
		hxs_tcp_persist_arm(c, now);
	return sent;
}

void hxs_tcp_output(struct hxs_tcp_conn *c, uint64_t now)
{
	int sent = 0, published = 0;
	switch (c->state) {
	case HXS_TCPS_CLOSED:
	case HXS_TCPS_LISTEN:
	case HXS_TCPS_TIME_WAIT:
		break;
	case HXS_TCPS_SYN_SENT:
	case HXS_TCPS_SYN_RECEIVED:
		/* The SYN (or SYN,ACK) is sent first and again after each RTO. */
		if (c->snd_nxt == c->iss) {
			uint8_t fl = HXS_TH_SYN | (c->state == HXS_TCPS_SYN_RECEIVED ? HXS_TH_ACK : 0);
			if (hxs_tcp_send_seg(c, c->iss, fl, 0, now) == 0) {
				if (c->snd_max != c->iss) {
					MIB_INC(c->tcp, TcpRetransSegs);
					c->total_retrans++;
				}
				c->snd_nxt = c->snd_max = c->iss + 1;
				if (!hxs_timer__armed(&c->t_rexmt))
					hxs_tcp_rexmt_arm(c, now);
				sent = 1;
			}
		}
		if (c->ack_now && !sent && c->state == HXS_TCPS_SYN_RECEIVED)
			hxs_tcp_send_ack(c, now);
		c->ack_now = 0;
		return;
	default:
		if (c->recovery || c->rk.in_loss)
			hxs_tcp_recovery_output(c, now);
		sent = output_data(c, now, &published);
		hxs_tcp_rack_sent(c, now);            /* RFC 8985 §7.2: the PTO */
		break;
	}
	if (c->ack_now && !sent && c->state != HXS_TCPS_CLOSED)
		/* hxs_tcp_send_ack(); a segment sent published the slot as it stands now
		 * (nothing hxs_tcp_fp_publish() reads changes after it) */
		published = hxs_tcp_send_seg(c, hxs_tcp_ack_seq(c), HXS_TH_ACK, 0, now) == 0;
	c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
	/* what changed for XDP (recovery, persist, state) whether or not a segment went */
	if (!published)
		hxs_tcp_fp_publish(c, c->snd_max);
}
