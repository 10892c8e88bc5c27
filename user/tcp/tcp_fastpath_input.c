/* tcp_fastpath_input.c - the pure ACKs the XDP fast path consumed, through the core's ACK
 * processing (tcp_fastpath.c: the slot that counts them, and who writes which field of it).
 *
 * hxs_tcp__fp_poll()           each turn, over the flight list only (tcp->fp_head: the
 *                              connections with data in flight)
 * conn_input() (tcp_input.c)   before a segment of c, when fp_news() says the count moved
 *   -> hxs_tcp_fp_pickup()     the ACK count in c's slot moved: XDP consumed ACKs since
 *   -> hxs_tcp_fp_ack_input()  those ACKs as one stretch ACK (cc.acks = their number) ->
 *                              hxs_tcp_check_ack() (tcp_process.c, the fifth step of
 *                              §3.10.7.4), hxs_tcp_output(), hxs_tcp_notify()
 * Not in tcp_fastpath.c: the ACK processing calls that file (process_ack ->
 * hxs_tcp_fp_una()), and this one calls the ACK processing, so together they would close a
 * call circle between files (tests/unit/test_layers.sh).
 */
#include <string.h>

#include "hxs/shared.h"
#include "tcp_conn.h"
#include "tcp_input.h"

/* A stretch of nacks pure ACKs XDP consumed (tcp_fastpath.c), as one ACK: SEG.ACK the ack
 * word's SND.UNA, SEG.WND its window, SEG.SEQ = RCV.NXT (XDP took only those), the timestamps
 * of the latest of them. The fifth step (check_ack) as for any ACK: TS.Recent, SND.UNA and
 * the data it frees, the RTT from TSecr, congestion control with the bytes and the number of
 * ACKs (cc.acks, for per-ACK limits), the RTO, the window, the closing states; then output
 * and the writers' wake-up. Not a segment the stack received: TcpInSegs does not count it. */
int hxs_tcp_fp_ack_input(struct hxs_tcp_conn *c, uint32_t ack, uint16_t wnd, uint32_t tsval,
			 uint32_t tsecr, uint16_t nacks, uint64_t now)
{
	struct hxs_tcp_seg s;

	memset(&s, 0, sizeof(s));
	s.seq = c->rcv_nxt;
	s.ack = ack;
	s.wnd = wnd;
	s.flags = HXS_TH_ACK;
	s.sport = c->rport;
	s.dport = c->lport;
	s.saddr = c->raddr;
	s.daddr = c->laddr;
	s.opt.has_ts = c->ts_ok;
	s.opt.tsval = tsval;
	s.opt.tsecr = tsecr;
	c->last_rcv = now;
	c->keep_probes = 0;
	/* a pending rest (tcp_ack_rest.c) runs with its own ACK's count, not the stretch
	 * ACK's: check_ack() would run it after cc.acks is set */
	hxs_tcp_ack_rest(c);
	c->cc.acks = nacks;
	if (hxs_tcp_check_ack(c, &s, now) == STEP_GONE)
		return 1;
	c->cc.acks = 0;
	hxs_tcp_output(c, now);
	hxs_tcp_notify(c);
	return 0;
}

/* The progress XDP recorded in c's slot since the last look (tcp_fastpath.c says how the
 * slot is shared): the ACK count moved -> hxs_tcp_fp_ack_input(). */
int hxs_tcp_fp_pickup(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_slot *s = c->slot;
	uint64_t w;
	uint16_t n, k;

	if (!s || !c->fp_ready)
		return 0;
	w = __atomic_load_n(&s->ack, __ATOMIC_ACQUIRE);
	n = HXS_SLOT_ACK_N(w);
	k = (uint16_t)(n - c->fp_n);
	if (!k)
		return 0;
	c->fp_n = n;
	c->tcp->mib[HXS_TCP_MIB_HxsTcpFastPathAcks] += k;
	c->segs_in += k;        /* tcp_info: segments the connection received, XDP's too */
	/* ACKs whose progress the stack's own ACK processing covered since (a later segment
	 * it took itself) are done with */
	if (!SEQ_GT(HXS_SLOT_ACK_UNA(w), c->snd_una))
		return 0;
	/* the acquire load above orders these after XDP's stores before its CAS */
	return hxs_tcp_fp_ack_input(c, HXS_SLOT_ACK_UNA(w), HXS_SLOT_ACK_WND(w),
				    __atomic_load_n(&s->tsval, __ATOMIC_RELAXED),
				    __atomic_load_n(&s->tsecr, __ATOMIC_RELAXED), k, now);
}

int hxs_tcp__fp_poll(struct hxs_tcp *tcp, uint64_t now)
{
	struct hxs_tcp_conn *pending, *c, *next;
	int n = 0, news = 0;

	tcp->now = now;
	/* Most turns XDP took no ACK: a look at each ack count, and the connections with nothing
	 * left in flight leave the list, as the pickup loop below would have them (no call
	 * out of here, so unlinking as we go is safe). */
	for (c = tcp->fp_head; c; c = next) {
		next = c->fp_next;
		if (HXS_SLOT_ACK_N(__atomic_load_n(&c->slot->ack, __ATOMIC_ACQUIRE)) != c->fp_n)
			news = 1;
		else if (!SEQ_GT(c->snd_max, c->snd_una))
			hxs_tcp_fp_unlink(c);
	}
	if (!news)
		return 0;
	/* the list moves to a local head: pickups may unlink others (closed) and relink c */
	pending = tcp->fp_head;
	tcp->fp_head = NULL;
	if (pending)
		pending->fp_pprev = &pending;
	while ((c = pending)) {
		hxs_tcp_fp_unlink(c);
		uint16_t before = c->fp_n;
		if (hxs_tcp_fp_pickup(c, now))
			continue;           /* gone */
		if (c->fp_n != before)
			n++;
		if (c->slot && SEQ_GT(c->snd_max, c->snd_una))
			hxs_tcp_fp_link(c);
	}
	return n;
}
