/* tcp_fastpath.c - the core's half of the XDP ACK fast path: a connection's slot (struct
 * hxs_slot, hxs/shared.h; who writes which field is said there) is memory shared with the
 * XDP program, which consumes pure ACKs by the rules of hxs/fastpath.h and records their
 * progress in the slot's ack word. No I/O here: plain and atomic loads and stores.
 *
 * publish:  hxs_tcp_send_seg() (before tx.send: SND.MAX of the segment, the window edge it
 *           advertises) and the end of hxs_tcp_output() -> hxs_tcp_fp_publish(): flags
 *           (fp_flags: F_FAST only while ACKs need nothing but the cumulative ACK), RCV.NXT,
 *           RCV.ADV, TS.Recent, SND.MAX, SND.UNA into the ack word; joins tcp->fp_head when
 *           data is in flight
 * own ACK:  process_ack() -> hxs_tcp_fp_una(): SND.UNA by compare-and-swap, never backwards,
 *           so XDP never takes an ACK the stack would call a duplicate
 * pickup:   (tcp_fastpath_input.c, above the ACK processing) conn_input() before the
 *           segment, and hxs_tcp__fp_poll() each turn over the flight list only ->
 *           hxs_tcp_fp_pickup(): the ACK count moved -> hxs_tcp_fp_ack_input(): one
 *           stretch ACK through hxs_tcp_check_ack(), cc.acks = the count
 * sleep:    hxs_tcp__fp_pending() (and next_deadline 0) while progress waits
 * leave:    hxs_tcp_hash_remove() -> hxs_tcp_fp_detach() before on_tuple's del frees the slot
 */
#include "hxs/shared.h"
#include "tcp_conn.h"

/* What XDP may do for c. F_FAST: only the cumulative ACK matters now (RFC 9293 §3.10.7.4
 * fifth step in ESTABLISHED or CLOSE-WAIT, no FIN of ours, no loss recovery of RFC 5681 /
 * 6582 / 6675 running, nor the RTO's go-back-N, no SACK scoreboard, no persist probing of a
 * zero window). F_TS: RFC 7323 timestamps agreed. F_RST: RFC 5961 §3.2, from ESTABLISHED. */
static uint32_t fp_flags(const struct hxs_tcp_conn *c)
{
	uint32_t f = 0;

	if (c->ts_ok)
		f |= HXS_SLOT_F_TS;
	if (HXS_TCPS_HAVEESTABLISHED(c->state))
		f |= HXS_SLOT_F_RST;
	if (!c->tcp->fp_off &&
	    (c->state == HXS_TCPS_ESTABLISHED || c->state == HXS_TCPS_CLOSE_WAIT) &&
	    !c->fin_queued && c->recovery == HXS_REC_NONE && !c->backoff &&
	    !hxs_tcp_rack_needs_acks(c) &&
	    c->snd_nxt == c->snd_max && !c->sb.n && !hxs_timer__armed(&c->t_persist))
		f |= HXS_SLOT_F_FAST;
	return f;
}

static void una_raise(struct hxs_slot *s, uint32_t una, uint16_t wnd)
{
	__u64 w = __atomic_load_n(&s->ack, __ATOMIC_ACQUIRE);

	while (SEQ_GT(una, HXS_SLOT_ACK_UNA(w))) {
		__u64 nw = HXS_SLOT_ACK(una, wnd, HXS_SLOT_ACK_N(w));

		if (__atomic_compare_exchange_n(&s->ack, &w, nw, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			break;
	}
}

void hxs_tcp_fp_publish(struct hxs_tcp_conn *c, uint32_t snd_max)
{
	struct hxs_slot *s = c->slot;
	uint32_t f, old, max;

	if (!s)
		return;
	f = fp_flags(c);
	old = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
	/* a tightening goes first: XDP must not judge the new limits by the old flags */
	if (old & ~f)
		__atomic_store_n(&s->flags, old & f, __ATOMIC_RELEASE);
	if (!c->fp_ready) {
		/* the first word: no ACK was taken yet (flags were 0), SND.UNA as it is */
		__atomic_store_n(&s->ack, HXS_SLOT_ACK(c->snd_una, 0, 0), __ATOMIC_RELAXED);
		c->fp_n = 0;
		c->fp_ready = 1;
	} else {
		una_raise(s, c->snd_una, 0);
	}
	max = SEQ_GT(snd_max, c->snd_max) ? snd_max : c->snd_max;
	__atomic_store_n(&s->rcv_nxt, c->rcv_nxt, __ATOMIC_RELAXED);
	__atomic_store_n(&s->rcv_adv, SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->ts_recent, c->ts_recent, __ATOMIC_RELAXED);
	__atomic_store_n(&s->snd_max, max, __ATOMIC_RELAXED);
	/* the limits before the flags that let XDP use them (release) */
	if (f != (old & f))
		__atomic_store_n(&s->flags, f, __ATOMIC_RELEASE);
	if (SEQ_GT(max, c->snd_una))
		hxs_tcp_fp_link(c);
}

void hxs_tcp_fp_una(struct hxs_tcp_conn *c, uint16_t wnd)
{
	if (c->slot && c->fp_ready)
		una_raise(c->slot, c->snd_una, wnd);
}

void hxs_tcp_fp_detach(struct hxs_tcp_conn *c)
{
	if (c->slot)
		__atomic_store_n(&c->slot->flags, 0, __ATOMIC_RELEASE);
	hxs_tcp_fp_unlink(c);
	c->slot = NULL;
	c->fp_ready = 0;
}

int hxs_tcp__fp_pending(const struct hxs_tcp *tcp)
{
	for (const struct hxs_tcp_conn *c = tcp->fp_head; c; c = c->fp_next)
		if (HXS_SLOT_ACK_N(__atomic_load_n(&c->slot->ack, __ATOMIC_ACQUIRE)) != c->fp_n)
			return 1;
	return 0;
}

void hxs_tcp__set_fastpath(struct hxs_tcp *tcp, int on)
{
	tcp->fp_off = (uint8_t)!on;
}

