/* tcp_ecn.c - Explicit Congestion Notification for TCP (RFC 3168 §6.1), as the kernel's
 * tcp_ecn setting and RFC 3168 mode do it.
 *
 * Negotiation:  hxs_tcp_conn__connect() -> hxs_tcp_ecn_connect()   tcp_ecn = 1: the SYN asks
 *               hxs_tcp_send_seg() -> hxs_tcp_ecn_out()            ECE+CWR on the first SYN,
 *                                                                  ECE on the SYN,ACK
 *               hxs_tcp_listen_input() / syn_sent_input() -> hxs_tcp_ecn_syn_in()
 * Data sender:  hxs_tcp_ecn_out()      ECT(0) on new data, CWR on the first after a reduction
 *               process_ack() -> hxs_tcp_ecn_ack_in()   ECE: cwnd reduction once per window
 *               hxs_tcp_recovery_on_ack() -> hxs_tcp_ecn_reduced()   no second halving
 * Data receiver: process_text() -> hxs_tcp_ecn_data_in()   CWR ends the echo; CE starts it
 *               hxs_tcp_ecn_out()      ECE on every segment while the echo is on
 *
 * The IP layer hands the ECN field in with the segment (HXS_TCP_IN_ECN, tcp.h) and takes the
 * TOS byte back with each segment sent (tx.send).
 */
#include <errno.h>

#include "tcp_conn.h"

int hxs_tcp__set_ecn(struct hxs_tcp *tcp, int tcp_ecn)
{
	if (tcp_ecn < 0 || tcp_ecn > 2)
		return -EINVAL;
	tcp->ecn = (uint8_t)tcp_ecn;
	return 0;
}

int hxs_tcp__ecn(const struct hxs_tcp *tcp)
{
	return tcp->ecn;
}

void hxs_tcp_ecn_connect(struct hxs_tcp_conn *c)
{
	/* RFC 3168 §6.1.1: "Before a TCP connection can use ECN, Host A sends an ECN-setup SYN
	 * packet, and Host B sends an ECN-setup SYN-ACK packet." Only tcp_ecn = 1 asks. */
	c->ecn_ok = c->tcp->ecn == 1;
	c->ecn_syn_sent = 0;
	c->ecn_demand_cwr = c->ecn_queue_cwr = c->ecn_seen = c->ecn_cwr = 0;
}

void hxs_tcp_ecn_syn_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	uint8_t f = s->flags & (HXS_TH_ECE | HXS_TH_CWR);

	if (c->state == HXS_TCPS_SYN_SENT) {
		if (s->flags & HXS_TH_ACK)
			/* §6.1.1: "an ECN-setup SYN-ACK packet ... the ECE flag set but the CWR
			 * flag not set"; anything else leaves the connection without ECN. */
			c->ecn_ok = c->ecn_ok && f == HXS_TH_ECE;
		else
			/* a SYN crossing ours (simultaneous open) must be an ECN-setup SYN too */
			c->ecn_ok = c->ecn_ok && f == (HXS_TH_ECE | HXS_TH_CWR);
	} else {
		/* Passive: "an ECN-setup SYN packet ... both the ECE and CWR flags set", accepted
		 * with tcp_ecn 1 or 2. §6.1.1 also says the SYN is never ECT: as the kernel
		 * (tcp_ecn_create_request), an ECT or CE-marked one is taken as a sign of a
		 * broken path, and ECN stays off. */
		c->ecn_ok = c->tcp->ecn != 0 && f == (HXS_TH_ECE | HXS_TH_CWR) &&
			    s->ecn == HXS_IP_ECN_NOT_ECT;
	}
	if (c->ecn_ok && (c->state != HXS_TCPS_SYN_SENT || (s->flags & HXS_TH_ACK)))
		MIB_INC(c->tcp, HxsTcpEcnNegotiated);
}

uint8_t hxs_tcp_ecn_out_slow(struct hxs_tcp_conn *c, uint32_t seq, uint8_t *flags, uint32_t len)
{
	uint8_t ect = HXS_IP_ECN_NOT_ECT;

	if (*flags & HXS_TH_SYN) {
		if (!c->ecn_ok)
			return c->tos;
		if (*flags & HXS_TH_ACK) {
			/* §6.1.1: the SYN-ACK "with the ECE flag set but the CWR flag not set" */
			*flags |= HXS_TH_ECE;
		} else if (!c->ecn_syn_sent && c->snd_max == c->iss) {
			/* the first SYN only: §6.1.1.1 lets a host resend the SYN without ECN
			 * when no reply came, in case a middlebox drops ECN-setup SYNs (the
			 * kernel's tcp_ecn_fallback). A reply with ECE still turns it on. */
			*flags |= HXS_TH_ECE | HXS_TH_CWR;
			c->ecn_syn_sent = 1;
		}
		/* §6.1.1: "A host MUST NOT set ECT on SYN or SYN-ACK packets." */
		return c->tos;
	}
	if (!c->ecn_ok)
		return c->tos;
	/* §6.1.5: "the TCP data sender MUST NOT set either an ECT codepoint or the CWR bit on
	 * retransmitted data packets"; §6.1.4: pure ACKs are not ECT either. New data is. */
	if (len && !SEQ_LT(seq, c->snd_max)) {
		ect = HXS_IP_ECN_ECT0;
		/* §6.1.2: "the TCP sender sets the CWR flag in the TCP header of the first new
		 * data packet sent after the window reduction". */
		if (c->ecn_queue_cwr) {
			c->ecn_queue_cwr = 0;
			*flags |= HXS_TH_CWR;
		}
	}
	/* §6.1.3: the receiver "sets the ECE flag in the TCP header of every subsequent ACK
	 * packet" until it receives a CWR. */
	if (c->ecn_demand_cwr && !(*flags & HXS_TH_RST))
		*flags |= HXS_TH_ECE;
	return (uint8_t)(c->tos | ect);
}

void hxs_tcp_ecn_data_in(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s)
{
	if (!c->ecn_ok)
		return;
	/* §6.1.3: "the receiver ... sets the ECE flag ... until it receives a CWR packet (a
	 * packet with the CWR flag set)". Taken before the segment's own ECN field, so a CWR
	 * segment that was itself CE-marked starts a new echo. The sender's cwnd may be one
	 * segment now: acknowledge at once (the kernel's tcp_ecn_accept_cwr). */
	if (s->flags & HXS_TH_CWR) {
		c->ecn_demand_cwr = 0;
		if (s->len)
			c->ack_now = 1;
	}
	switch (s->ecn) {
	case HXS_IP_ECN_CE:
		/* §6.1.3: "When TCP receives a CE data packet at the destination end-system,
		 * the TCP data receiver sets the ECN-Echo flag in the TCP header of the
		 * subsequent ACK packet." At once: the sender's window may be small. */
		MIB_INC(c->tcp, HxsTcpEcnCeRcvd);
		if (!c->ecn_demand_cwr) {
			c->ecn_demand_cwr = 1;
			c->ack_now = 1;
		}
		c->ecn_seen = 1;
		break;
	case HXS_IP_ECN_ECT0:
	case HXS_IP_ECN_ECT1:
		c->ecn_seen = 1;
		break;
	default:
		break;
	}
}

int hxs_tcp_ecn_reduced(const struct hxs_tcp_conn *c)
{
	return c->ecn_cwr && SEQ_LT(c->snd_una, c->ecn_high_seq);
}

void hxs_tcp_ecn_ack_in_slow(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint32_t acked,
			     uint32_t newly_sacked, uint64_t now)
{
	struct hxs_cc *cc = &c->cc;

	if (c->ecn_cwr && !SEQ_LT(c->snd_una, c->ecn_high_seq))
		c->ecn_cwr = 0;                 /* the window of the last reduction is over */
	if (!c->ecn_ok || !(s->flags & HXS_TH_ECE) || (s->flags & HXS_TH_SYN))
		return;
	/* Segments the ACK delivered while reporting congestion (the kernel's TCPDeliveredCE
	 * and tcpi_delivered_ce: segments newly acknowledged or SACKed). */
	uint32_t bytes = acked + newly_sacked, mss = c->mss ? c->mss : 1;
	uint32_t segs = (bytes + mss - 1) / mss;
	c->delivered_ce += segs;
	c->tcp->mib[HXS_TCP_MIB_TCPDeliveredCE] += segs;
	/* §6.1.2: "The TCP source ... should not decrease the slow-start threshold, ssthresh,
	 * if it has been decreased within the last round trip time", and reacts "at most once
	 * per window of data (i.e., at most once per round-trip time)"; loss recovery in
	 * progress already reduced it for this window (§6.1.2: "halved only once in response
	 * to losses and ECN in the same window"). */
	if (c->recovery != HXS_REC_NONE || hxs_tcp_ecn_reduced(c))
		return;
	/* §6.1.2: "the TCP source halves the congestion window "cwnd" and reduces the slow
	 * start threshold "ssthresh"" - the algorithm's response to a loss (the kernel's
	 * tcp_enter_cwr uses its ssthresh() too), without a retransmission. */
	cc->flight = SEQ_DIFF(c->snd_max, c->snd_una);
	cc->ops->on_loss(cc, now);
	if (cc->cwnd < c->mss)
		cc->cwnd = c->mss;
	c->ecn_cwr = 1;
	c->ecn_high_seq = c->snd_max;
	c->ecn_queue_cwr = 1;
	MIB_INC(c->tcp, HxsTcpEcnReductions);
}
