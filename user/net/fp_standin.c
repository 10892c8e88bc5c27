/* fp_standin.c - the XDP program's ACK fast path where no program runs: a stack on the
 * static control plane (hxs_stack__open_io, the in-memory link) judges its received frames
 * here, before the stack sees them, with the rules the program compiles (hxs/fastpath.h), so
 * the simulator exercises the slots, the compare-and-swap and the stack's pickup.
 *
 * stack_turn() -> ctl->rx_xdp = hxs_fp_standin_rx():
 *     Ethernet/IPv4/TCP parsed (bounds-checked; anything odd goes to the stack untouched),
 *     ctl->conn_slot (ctl_static.c: the 4-tuple's {slot, gen}) -> the frame's demux
 *     metadata (f->meta, slot, gen: what the program writes with bpf_xdp_adjust_meta and
 *     io/xsk.c reads back), checksum verified (a corrupted frame is the stack's to count),
 *     options parsed into struct hxs_fp_seg
 *     -> slot gen checked, hdr.fast_off -> RST out of window: consumed (XdpRstOutOfWindow,
 *     XdpDropped) -> hxs_fp_judge_ack() -> hxs_fp_take_ack() (__atomic CAS): consumed
 *     (XdpAckFastPath), doorbell if the loop sleeps (XdpWakeups); declined on a fast-path
 *     connection: XdpAckDeclined
 * Counters in st->xdp_sim, a counter table of the stack (HXS_XDP_STAT_NAMES).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/csum.h"
#include "ip.h"
#include "stack.h"

#define HXS_FP_CAS(p, o, n) fp_cas((p), (o), (n))
#define HXS_FP_ADD(p, n) __atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
static inline __u64 fp_cas(__u64 *p, __u64 old, __u64 nw)
{
	__atomic_compare_exchange_n(p, &old, nw, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return old;
}
#include "hxs/fastpath.h"

/* The options of a pure ACK as the judge wants them: 0, or -1 if malformed. */
static int parse_opts(const uint8_t *p, uint32_t len, struct hxs_fp_seg *g)
{
	for (uint32_t i = 0; i < len;) {
		uint8_t kind = p[i], l;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		l = p[i + 1];
		if (l < 2 || i + l > len)
			return -1;
		if (kind == 8 && l == 10) {
			g->has_ts = 1;
			g->tsval = hxs_rd32(p + i + 2);
			g->tsecr = hxs_rd32(p + i + 6);
		} else if (kind == 5) {
			g->has_sack = 1;
		} else {
			g->odd_opt = 1;
		}
		i += l;
	}
	return 0;
}

static void count(struct hxs_stack *st, enum hxs_xdp_stat i)
{
	st->xdp_sim[i]++;
}

int hxs_fp_standin_rx(struct hxs_stack *st, struct hxs_frame *f)
{
	const uint8_t *d = f->data, *ip, *th;
	struct hxs_slot_hdr *h = hxs_stack__slot_hdr(st);
	struct hxs_fp_seg g;
	struct hxs_slot *s;
	uint32_t ihl, tot, doff, tlen, saddr, daddr, slot, gen, flags;
	uint64_t ackw;
	enum hxs_fp_reason r;

	if (!h || f->len < HXS_ETH_HLEN + 20 || hxs_rd16(d + 12) != 0x0800)
		return 0;
	ip = d + HXS_ETH_HLEN;
	ihl = (uint32_t)(ip[0] & 15) * 4;
	tot = hxs_rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || HXS_ETH_HLEN + tot > f->len ||
	    ip[9] != IPPROTO_TCP || (hxs_rd16(ip + 6) & 0x3fff))
		return 0;
	count(st, HXS_XDP_IN_RECEIVES);
	th = ip + ihl;
	tlen = tot - ihl;
	if (tlen < 20)
		return 0;
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < 20 || doff > tlen)
		return 0;
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	/* the demux metadata, as the program puts it in front of every TCP segment it redirects
	 * (bpf/hxs.bpf.c steer_l4): the conn entry's {slot, gen}, HXS_SLOT_NONE without one */
	if (!st->ctl->conn_slot ||
	    st->ctl->conn_slot(st, hxs_addr4(daddr), htons(hxs_rd16(th + 2)), hxs_addr4(saddr),
				      htons(hxs_rd16(th)), IPPROTO_TCP, &slot, &gen)) {
		slot = HXS_SLOT_NONE;
		gen = 0;
	}
	f->meta = 1;
	f->mflags = 0;
	f->slot = slot;
	f->gen = gen;
	if (hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(saddr, daddr, IPPROTO_TCP, tlen), th, tlen)))
		return 0;   /* the stack counts it */
	if (slot == HXS_SLOT_NONE || slot >= st->nslots || !gen)
		return 0;
	s = &st->slots[slot];
	if (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != gen ||
	    __atomic_load_n(&h->fast_off, __ATOMIC_RELAXED))
		return 0;
	memset(&g, 0, sizeof(g));
	g.seq = hxs_rd32(th + 4);
	g.ack = hxs_rd32(th + 8);
	g.flags = th[13];
	g.wnd = hxs_rd16(th + 14);
	g.payload = tlen - doff;
	if (parse_opts(th + 20, doff - 20, &g))
		g.odd_opt = 1;
	flags = __atomic_load_n(&s->flags, __ATOMIC_ACQUIRE);
	if ((g.flags & 0x04) && hxs_fp_rst_out_of_window(s, flags, g.seq)) {
		count(st, HXS_XDP_RST_OUT_OF_WINDOW);
		count(st, HXS_XDP_DROPPED);
		return 1;
	}
	ackw = __atomic_load_n(&s->ack, __ATOMIC_ACQUIRE);
	r = hxs_fp_judge_ack(s, flags, ackw, &g);
	if (r == HXS_FP_TAKE)
		r = hxs_fp_take_ack(s, ackw, &g);
	if (r != HXS_FP_TAKE) {
		if ((flags & HXS_SLOT_F_FAST) && (g.flags & 0x10))
			count(st, HXS_XDP_ACK_DECLINED);
		return 0;
	}
	count(st, HXS_XDP_ACK_FAST_PATH);
	/* the doorbell: the stack set sleeping before its last look at the slots */
	if (__atomic_load_n(&h->sleeping, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&h->sleeping, 0, __ATOMIC_SEQ_CST))
		count(st, HXS_XDP_WAKEUPS);
	return 1;
}
