/* tcp_seg.c - building and sending one segment: header, options, window field, checksum,
 * written into a frame from tx.alloc and handed over with tx.send. What to send, and when, is
 * decided by the callers (tcp_output.c, tcp_recovery.c, tcp_timer.c, tcp_process.c,
 * tcp_listen.c).
 *
 * hxs_tcp_output() / hxs_tcp_recovery_output() / timers -> hxs_tcp_send_seg()
 *     -> hxs_tcp_reass_sack_blocks(), hxs_tcp_opt__write(), tx.alloc(), wnd_field(),
 *        data in a segment below HXS_TCP_SUM_SHORT bytes: hxs_tcp_ring__read() (the payload
 *        into the frame), hxs_tcp_csum_ptr() (pseudo-header, header and payload in one sum);
 *        else hxs_tcp_ring__read_csum() (payload copied and summed in one pass),
 *        hxs_tcp_csum_split() (pseudo-header + header + that sum); tx.send()
 * hxs_tcp_send_ack() / hxs_tcp_send_rst_conn() -> hxs_tcp_send_seg()
 * hxs_tcp_send_mss() (tcp_conn.h, inline without SACK blocks due) -> hxs_tcp_send_mss_sack():
 *     the payload a segment sent now may carry (SMSS less its SACK blocks)
 * hxs_tcp_send_challenge_ack() -> hxs_tcp_invalid_ack_limited() (per connection),
 *     challenge_budget_take() (randomized per stack; RFC 5961 §7) -> hxs_tcp_send_ack()
 * hxs_tcp_send_rst() (no connection: header only)
 *
 * The advertised window applies receiver-side SWS avoidance (§3.8.6.2.2) and never shrinks
 * (§3.8.6).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "lib/bytes.h"
#include "lib/csum.h"
#include "lib/siphash.h"
#include "tcp_conn.h"
#include "tcp_csum.h"

/* Not inlined: its inclusive cost is every checksum's but the sent segments'
 * (scripts/bench_tcp_core.sh subtracts it). */
__attribute__((noinline)) uint16_t hxs_tcp_csum_ptr(const struct hxs_addr *saddr, const struct hxs_addr *daddr,
						     const uint8_t *p, uint32_t len)
{
	/* RFC 8200 §8.1: over IPv6 the pseudo-header has the 16-byte addresses */
	if (!hxs_addr_is4(*saddr))
		return ntohs(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo6(saddr->b, daddr->b, 6, len),
							p, len)));
	/* RFC 9293 §3.1: the checksum covers a pseudo-header of source and destination
	 * address, protocol and TCP length, then the header and data (RFC 1071, csum.c).
	 * The sum is in host byte order; callers write the field with hxs_wr16, so swap once. */
	if (len < HXS_TCP_SUM_SHORT)
		return ntohs(hxs_csum_fold(hxs_tcp_sum_short(
			hxs_tcp_pseudo4(hxs_addr_get4(*saddr), hxs_addr_get4(*daddr), len), p, len)));
	return ntohs(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(hxs_addr_get4(*saddr),
								hxs_addr_get4(*daddr), 6, len), p, len)));
}

/* Not inlined either: the sent segments' checksums (the same script subtracts it). */
__attribute__((noinline)) uint16_t hxs_tcp_csum_split(struct hxs_addr saddr, struct hxs_addr daddr,
						       const uint8_t *p, uint32_t hlen, uint32_t len,
						       uint32_t data_sum)
{
	uint64_t ps;

	/* RFC 8200 §8.1: over IPv6 the pseudo-header has the 16-byte addresses */
	if (!hxs_addr_is4(saddr))
		ps = hxs_csum_pseudo6(saddr.b, daddr.b, 6, len);
	/* RFC 9293 §3.1: the checksum covers a pseudo-header of source and destination
	 * address, protocol and TCP length, then the header and data (RFC 1071, tcp_csum.h). */
	else
		ps = hxs_tcp_pseudo4(hxs_addr_get4(saddr), hxs_addr_get4(daddr), len);
	/* hlen is even: the data's words line up with the header's (no swap). The sum is in
	 * host byte order; callers write the field with hxs_wr16, so swap once. */
	return ntohs(hxs_csum_fold(hxs_csum_join(hxs_tcp_sum_short(ps, p, hlen), data_sum, 0)));
}

uint16_t hxs_tcp_csum_addr(struct hxs_addr saddr, struct hxs_addr daddr, const uint8_t *p, uint32_t len)
{
	return hxs_tcp_csum_ptr(&saddr, &daddr, p, len);
}

uint16_t hxs_tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *p, uint32_t len)
{
	return hxs_tcp_csum_addr(hxs_addr4(saddr), hxs_addr4(daddr), p, len);
}

uint32_t hxs_tcp_rcv_window(struct hxs_tcp_conn *c)
{
	uint32_t cap = hxs_tcp_rcv_cap(c);
	uint32_t space = cap - c->rcv.len;
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? SEQ_DIFF(c->rcv_adv, c->rcv_nxt) : 0;
	/* §3.8.6.2.2: "the receiver should not advance the right window edge until it can
	 * be advanced by at least min(Fr * RCV.BUFF, Eff.snd.MSS)" with Fr = 1/2. */
	uint32_t thresh = cap / 2 < c->rcv_mss ? cap / 2 : c->rcv_mss;
	/* Buffer memory under pressure: offer no more than 4 segments beyond what is held, as
	 * the kernel's __tcp_select_window() clamps rcv_ssthresh to 4 * advmss (the right edge
	 * still never moves back). */
	if (c->tcp->mem.pressure && space > 4 * c->rcv_mss)
		space = 4 * c->rcv_mss;
	if (space > cur && space - cur >= thresh)
		return space;
	return cur;
}

static uint16_t wnd_field(struct hxs_tcp_conn *c, int syn)
{
	uint32_t win = hxs_tcp_rcv_window(c);
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? SEQ_DIFF(c->rcv_adv, c->rcv_nxt) : 0;
	uint32_t field;
	if (syn) {
		/* RFC 7323 §2.2: "The window field in a segment where the SYN bit is set (i.e.,
		 * a <SYN> or <SYN,ACK>) MUST NOT be scaled." */
		field = win > 65535 ? 65535 : win;
		win = field;
	} else {
		uint32_t sh = c->rcv_wscale;
		field = win >> sh;
		if (field << sh < cur)                /* never shrink by rounding */
			field = (cur + (1u << sh) - 1) >> sh;
		if (field > 65535)
			field = 65535;
		win = field << sh;
	}
	if (SEQ_GT(c->rcv_nxt + win, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + win;
	if (!field && !c->rcv_wnd_zero) {
		c->rcv_wnd_zero = 1;
		MIB_INC(c->tcp, TCPToZeroWindowAdv);
	} else if (field && c->rcv_wnd_zero) {
		c->rcv_wnd_zero = 0;
		MIB_INC(c->tcp, TCPFromZeroWindowAdv);
	}
	return (uint16_t)field;
}

/* SACK blocks the next segment with ACK set carries: a pending D-SACK block first (RFC 2883
 * §4), then the most recent out-of-order ranges, as many as fit the 40 bytes of options: 3
 * beside a timestamp, else 4 (RFC 2018 §3). */
static int sack_blocks_due(const struct hxs_tcp_conn *c)
{
	int max = c->ts_ok ? 3 : 4, k;
	if (!c->sack_ok)
		return 0;
	k = c->dsack ? 1 : 0;
	return k + ((int)c->reass.n < max - k ? (int)c->reass.n : max - k);
}

uint32_t hxs_tcp_send_mss_sack(const struct hxs_tcp_conn *c)
{
	/* RFC 9293 §3.7.1: "if there are any IP or TCP Options to be sent in a packet, then the
	 * sender must decrease the size of the TCP data accordingly" and "for each segment
	 * sent, the sender should adjust the data length accordingly, within the Eff.snd.MSS".
	 * c->mss already leaves room for the timestamp option (set_mss); SACK blocks take
	 * 2 NOPs, kind, length and 8 bytes each. */
	int n = sack_blocks_due(c);
	uint32_t opt = n ? 4 + 8 * (uint32_t)n : 0;
	return c->mss > opt ? c->mss - opt : 1;
}

int hxs_tcp_send_seg(struct hxs_tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;
	struct hxs_tcp_opts o;
	uint8_t optbuf[HXS_TCP_MAX_OPT];
	int syn = !!(flags & HXS_TH_SYN);

	/* new data with nothing outstanding: TCP_USER_TIMEOUT's clock starts (tcp_timer.c) */
	if (len && c->snd_una == c->snd_max && !SEQ_LT(seq, c->snd_max))
		c->una_since = now;

	/* the usual segment, no SYN or RST, timestamps and no SACK block to carry: <NOP, NOP,
	 * TS> alone, written below without the options' general writer */
	int ts_only = !syn && !(flags & HXS_TH_RST) && c->ts_ok &&
		      !(c->sack_ok && ((c->dsack && (flags & HXS_TH_ACK)) || c->reass.n));
	if (ts_only) {
		o.has_ts = 1;
		o.nsack = 0;
	} else {
		memset(&o, 0, sizeof(o));
		if (syn) {
			o.has_mss = 1;
			o.mss = (uint16_t)c->adv_mss;
			o.sack_perm = c->sack_ok;
			o.has_ts = c->ts_ok;
			o.has_ws = c->ws_ok;
			o.ws = c->rcv_wscale;
		} else if (!(flags & HXS_TH_RST)) {
			o.has_ts = c->ts_ok;
			int max = c->ts_ok ? 3 : 4, k = 0;
			if (c->sack_ok && c->dsack && (flags & HXS_TH_ACK)) {
				/* RFC 2883 §4: "the first SACK block ... MUST specify the D-SACK block" */
				o.sack[0].start = c->dsack_start;
				o.sack[0].end = c->dsack_end;
				k = 1;
				c->dsack = 0;
				MIB_INC(tcp, TCPDSACKOldSent);
			}
			if (c->sack_ok && c->reass.n) {
				k += hxs_tcp_reass_sack_blocks(c, o.sack + k, max - k);
				MIB_INC(tcp, TCPSackBlocksSent);
			}
			o.nsack = (uint8_t)k;
		}
	}
	if (o.has_ts) {
		o.tsval = hxs_tcp_ts_now(c, now);
		/* RFC 7323 §3.2: "TSecr ... is only valid if the ACK bit is set"; an initial SYN
		 * sends zero. */
		o.tsecr = (flags & HXS_TH_ACK) ? c->ts_recent : 0;
	}
	/* RFC 3168 (tcp_ecn.c): ECE/CWR and the TOS byte with its ECN field; RFC 9293 §3.8.5
	 * (tcp_urg.c): URG and the urgent pointer */
	uint16_t up = 0;
	uint8_t tos = hxs_tcp_ecn_out(c, seq, &flags, len);
	if (!syn)
		hxs_tcp_urg_out(c, seq, &flags, &up);
	/* the usual options, <NOP, NOP, TS> alone, go straight into the frame below (the bytes
	 * hxs_tcp_opt__write() gives them) */
	ts_only = !syn && o.has_ts && !o.nsack;
	uint32_t olen = ts_only ? 12 : hxs_tcp_opt__write(optbuf, &o, syn);
	uint32_t hlen = HXS_TCP_HDR_LEN + olen;
	void *h;
	uint8_t *p = tcp->tx.alloc(tcp->ctx, hlen + len, &h);
	if (!p) {
		MIB_INC(tcp, TCPTxNoBufs);
		hxs_tcp_mark_dirty(c);
		return -ENOBUFS;
	}
	hxs_wr16(p, c->lport);
	hxs_wr16(p + 2, c->rport);
	hxs_wr32(p + 4, seq);
	hxs_wr32(p + 8, (flags & HXS_TH_ACK) ? c->rcv_nxt : 0);
	p[12] = (uint8_t)((hlen / 4) << 4);
	p[13] = flags;
	hxs_wr16(p + 14, (flags & HXS_TH_RST) ? 0 : wnd_field(c, syn));
	hxs_wr16(p + 16, 0);
	hxs_wr16(p + 18, up);
	if (ts_only) {
		p[HXS_TCP_HDR_LEN] = HXS_TCPOPT_NOP;
		p[HXS_TCP_HDR_LEN + 1] = HXS_TCPOPT_NOP;
		p[HXS_TCP_HDR_LEN + 2] = HXS_TCPOPT_TS;
		p[HXS_TCP_HDR_LEN + 3] = 10;
		hxs_wr32(p + HXS_TCP_HDR_LEN + 4, o.tsval);
		hxs_wr32(p + HXS_TCP_HDR_LEN + 8, o.tsecr);
	} else {
		memcpy(p + HXS_TCP_HDR_LEN, optbuf, olen);
	}
	uint16_t cs;
	if (len && hlen + len < HXS_TCP_SUM_SHORT) {
		/* a short data segment (a request, an answer): the payload copied into the
		 * frame, then header and payload summed in one run where they lie, one fold
		 * (tcp_csum.h), as a received segment is verified */
		hxs_tcp_ring__read(&c->snd, SEQ_DIFF(seq, c->snd_buf_seq), p + hlen, len);
		cs = hxs_tcp_csum_ptr(&c->laddr, &c->raddr, p, hlen + len);
	} else {
		/* the payload is summed as it is copied into the frame: one pass over its bytes */
		uint32_t dsum = len ? hxs_tcp_ring__read_csum(&c->snd, SEQ_DIFF(seq, c->snd_buf_seq),
							      p + hlen, len) : 0;
		cs = hxs_tcp_csum_split(c->laddr, c->raddr, p, hlen, hlen + len, dsum);
	}
	hxs_wr16(p + 16, cs);
	/* XDP hears of SND.MAX and of the window edge before the segment can be answered */
	if (!(flags & HXS_TH_RST))
		hxs_tcp_fp_publish(c, seq + len + (uint32_t)syn + !!(flags & HXS_TH_FIN));
	tcp->tx.send(tcp->ctx, h, c->laddr, c->raddr, hlen + len, tos, c->ttl);
	/* the segment is handed over (kicked already when the socket layer pushed it, else in
	 * the stack's TX batch): the rest of the last ACK's processing, which it did not
	 * depend on, before the records below and the caller's timers (tcp_ack_rest.c); the
	 * slot is published, newer than the rest's own publish would be */
	if (c->ar_pprev) {
		if (!(flags & HXS_TH_RST))
			c->ar_publish = 0;
		hxs_tcp_ack_rest_run(c);
	}
	if (!syn && !(flags & HXS_TH_RST) && (len || (flags & HXS_TH_FIN)))
		hxs_tcp_rack_on_send(c, seq, len + !!(flags & HXS_TH_FIN), flags, now);

	MIB_INC(tcp, TcpOutSegs);
	/* a data segment: its delivery-rate record, and the pacing of the next (tcp_rate.c,
	 * tcp_pacing.c) */
	if (len && !syn) {
		hxs_tcp_rate_sent(c, seq, len, now);
		hxs_tcp_pace_sent(c, len, now);
	}
	c->segs_out++;
	c->bytes_sent += len;
	/* RFC 6298 §3 (Karn): "RTT samples MUST NOT be made using segments that were
	 * retransmitted". Whatever sends it again - fast retransmit, SACK recovery's NextSeg(),
	 * the window reopening after the RTO found it closed - a retransmission at or below the
	 * timed octet ends the timing: the ACK covering that octet may answer this copy (Linux
	 * takes no sample from an ACK covering retransmitted data). Timestamps need no timing. */
	if (c->rtt_timing && (len || (flags & HXS_TH_FIN)) && !syn && SEQ_LT(seq, c->snd_max) &&
	    SEQ_LEQ(seq, c->rtt_seq))
		c->rtt_timing = 0;
	if (flags & HXS_TH_RST)
		MIB_INC(tcp, TcpOutRsts);
	if (flags & HXS_TH_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		c->ack_now = 0;
		c->ack_held = 0;
		c->segs_unacked = 0;
		hxs_wheel__cancel_lazy(&tcp->wheel, &c->t_delack);   /* tcp_timer_arm.c */
	}
	if (len || (flags & (HXS_TH_SYN | HXS_TH_FIN)))
		c->last_send = now;
	return 0;
}

void hxs_tcp_send_ack(struct hxs_tcp_conn *c, uint64_t now)
{
	hxs_tcp_send_seg(c, hxs_tcp_ack_seq(c), HXS_TH_ACK, 0, now);
}

/* Linux's tcp_invalid_ratelimit default (HZ / 2): a connection answers segments it rejects at
 * most once in this time. */
#define INVALID_RATELIMIT_US 500000u

int hxs_tcp_invalid_ack_limited(struct hxs_tcp_conn *c, uint64_t now)
{
	/* Linux's __tcp_oow_rate_limited(): one timestamp per connection, taken whenever an
	 * answer goes (or would, but for the stack-wide budget). */
	if (c->invalid_acked && now - c->invalid_ack_at < INVALID_RATELIMIT_US)
		return 1;
	c->invalid_acked = 1;
	c->invalid_ack_at = now;
	return 0;
}

/* The stack-wide budget of challenge ACKs for the current second: a new random count every
 * second, drawn from [limit/2, limit + limit/2) as Linux's tcp_send_challenge_ack() does since
 * CVE-2016-5696, so that how many are left tells an attacker nothing about other connections.
 * The draw is SipHash of the second under a key derived from the stack's secret (the core
 * has no random source of its own). */
static int challenge_budget_take(struct hxs_tcp *tcp, uint64_t now)
{
	uint64_t limit = tcp->cfg.challenge_ack_limit, sec = now / 1000000;
	if (limit == UINT32_MAX)
		return 1;                   /* no stack-wide limit (Linux's INT_MAX) */
	if (!tcp->chack_valid || sec != tcp->chack_second) {
		uint8_t m[8];
		for (int i = 0; i < 8; i++)
			m[i] = (uint8_t)(sec >> (8 * i));
		uint64_t half = (limit + 1) / 2;
		uint64_t n = half + hxs_siphash24(tcp->chack_key, m, sizeof(m)) % limit;
		tcp->chack_valid = 1;
		tcp->chack_second = sec;
		tcp->chack_left = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	if (!tcp->chack_left)
		return 0;
	tcp->chack_left--;
	return 1;
}

void hxs_tcp_send_challenge_ack(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_tcp *tcp = c->tcp;
	/* RFC 5961 §7: "An implementation SHOULD include an ACK throttling mechanism to be
	 * conservative." First the connection's own limit (one per 500 ms, shared with the
	 * answers to other invalid segments), then the randomized stack-wide one: with only a
	 * fixed stack-wide count, an off-path attacker counting the challenge ACKs on its own
	 * connection learns whether another connection drew one (CVE-2016-5696). */
	if (hxs_tcp_invalid_ack_limited(c, now)) {
		MIB_INC(tcp, TCPACKSkippedChallenge);
		return;
	}
	if (!challenge_budget_take(tcp, now))
		return;
	MIB_INC(tcp, TCPChallengeACK);
	hxs_tcp_send_ack(c, now);
}

void hxs_tcp_send_rst_conn(struct hxs_tcp_conn *c, uint64_t now)
{
	/* §3.10.5 ABORT: "<SEQ=SND.NXT><CTL=RST>"; SND.NXT here is the highest sent - unless it
	 * lies beyond the right edge of the peer's window: "In all states except SYN-SENT, all
	 * reset (RST) segments are validated by checking their SEQ fields" (§3.5.3; §3.10.7.4
	 * first; RFC 5961 §3.2), and a RST past a window the peer shrank would be dropped,
	 * leaving it with a connection we deleted. As Linux's tcp_send_active_reset()
	 * (tcp_acceptable_seq()): the SEQ of an ACK, hxs_tcp_ack_seq(). A RST answering a
	 * segment keeps <SEQ=SEG.ACK> (hxs_tcp_send_rst()). */
	hxs_tcp_send_seg(c, hxs_tcp_ack_seq(c), HXS_TH_RST | HXS_TH_ACK, 0, now);
}

void hxs_tcp_send_rst(struct hxs_tcp *tcp, struct hxs_addr saddr, struct hxs_addr daddr, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	void *h;
	uint8_t *p = tcp->tx.alloc(tcp->ctx, HXS_TCP_HDR_LEN, &h);
	if (!p) {
		MIB_INC(tcp, TCPTxNoBufs);
		return;
	}
	memset(p, 0, HXS_TCP_HDR_LEN);
	hxs_wr16(p, sport);
	hxs_wr16(p + 2, dport);
	hxs_wr32(p + 4, seq);
	hxs_wr32(p + 8, ack);
	p[12] = 5 << 4;
	p[13] = (uint8_t)(flags | HXS_TH_RST);
	hxs_wr16(p + 16, hxs_tcp_csum_addr(saddr, daddr, p, HXS_TCP_HDR_LEN));
	tcp->tx.send(tcp->ctx, h, saddr, daddr, HXS_TCP_HDR_LEN, 0, 0);
	MIB_INC(tcp, TcpOutSegs);
	MIB_INC(tcp, TcpOutRsts);
}
