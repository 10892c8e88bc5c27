/* tcp_input.c - a segment arrives (RFC 9293 §3.10.7): the entry points, parse, checksum,
 * options, the demux, and the start of a connection's processing, the header predictions
 * inline.
 *
 * hxs_tcp__input(), hxs_tcp__input_addr() -> hxs_tcp__input_slot()
 * hxs_tcp__input_slot()  header and checksum checks, seg_opts() (<NOP,NOP,TS> in one compare,
 *                        else hxs_tcp_opt__parse), the fields the demux and the predictions
 *                        read -> demux by the metadata's slot (hxs_tcp_lookup_slot), else
 *                        by the 4-tuple (hxs_tcp_lookup_addr):
 *   ESTABLISHED    conn_input() with all but the state switch inline:
 *                  conn_input_begin(): the ACKs XDP consumed first (fp_news ->
 *                    hxs_tcp_fp_pickup, tcp_fastpath_input.c), counters, a held ACK aside
 *                  conn_input_predicted() (tcp_predict.h): the next in-order segment of a
 *                    receiver with nothing in flight (HxsTcpHeaderPredicted); else
 *                  seg_rest() (the fields only the long way reads), then
 *                  hxs_tcp_conn_input_data_ack() (tcp_predict.c): in-order data that
 *                    acknowledges new data (HxsTcpHeaderPredictedAck); else
 *                  hxs_tcp_conn_input_rest() (tcp_process.c): one switch (state), the steps
 *                    of §3.10.7.3 or §3.10.7.4, output, notify
 *   other states   conn_input(), the same; a TIME-WAIT connection a new SYN reopens (RFC 6191
 *                  §2) is closed first and the listener takes the SYN
 *   none           a listener (hxs_tcp_lookup_listener) -> listen_input():
 *                  hxs_tcp_listen_input() (tcp_listen.c, §3.10.7.2); the child an ACK with a
 *                  SYN cookie opened takes that ACK in conn_input()
 *                  else hxs_tcp_closed_input() (tcp_process.c, §3.10.7.1): RST
 * This file calls the other files of the input, none of them calls it (tcp_input.h).
 */
#include <errno.h>

#include "hxs/shared.h"
#include "lib/bytes.h"
#include "tcp_conn.h"
#include "tcp_input.h"
#include "tcp_predict.h"

/* Whether XDP consumed ACKs of c's since the last look (hxs_tcp_fp_pickup()'s own first
 * test, without the call for the usual answer: none). fp_ready implies a slot: only
 * hxs_tcp_fp_publish() sets it, on c->slot, and whatever unsets c->slot clears it
 * (hxs_tcp_fp_detach(), hxs_tcp_conn__set_slot()). */
static inline int fp_news(const struct hxs_tcp_conn *c)
{
	return c->fp_ready &&
	       HXS_SLOT_ACK_N(__atomic_load_n(&c->slot->ack, __ATOMIC_ACQUIRE)) != c->fp_n;
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
	hxs_tcp_ack_rest(c);            /* the last ACK's rest (tcp_ack_rest.c) first */
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
