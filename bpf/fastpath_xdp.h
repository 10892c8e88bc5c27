/* fastpath_xdp.h - the ACK fast path and RFC 5961 RST filter inside the XDP program, and the
 * metadata it puts in front of redirected frames. BPF side only; the rules themselves are
 * hxs/fastpath.h (shared with the in-memory link's stand-in for XDP).
 *
 * steer_tcp() (hxs.bpf.c), for a frame of a conn entry
 *   -> fp_tcp(): conn entry {slot, gen} -> slot (gen must match) -> stack-wide header
 *        -> hdr.fast_off: nothing taken
 *        -> RST: hxs_fp_rst_out_of_window() -> XDP_DROP (XdpRstOutOfWindow)
 *        -> not F_FAST, or no pure ACK (data): declined on the flags, the slot line the
 *           stack writes per segment left unread
 *        -> fp_tcp_options() (only for a candidate: F_FAST, pure ACK flags, no payload)
 *        -> hxs_fp_judge_ack() -> hxs_fp_take_ack() -> XDP_DROP (XdpAckFastPath)
 *             -> fp_doorbell(): hdr.sleeping 1 -> 0, slot id into hxs_wake (XdpWakeups)
 *        -> else the reason goes into the metadata (XdpAckDeclined for ACKs of F_FAST slots)
 * redirect() (hxs.bpf.c) -> fp_put_meta(): struct hxs_xdp_meta in front of the frame
 *
 * Included by hxs.bpf.c after its maps and count()/drop(), which it uses.
 */
#ifndef HXS_BPF_FASTPATH_XDP_H
#define HXS_BPF_FASTPATH_XDP_H

#include <linux/bpf.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hxs/shared.h"

/* BPF_CMPXCHG (returns the old value, full barrier) and BPF_ATOMIC add: both need
 * -mcpu=v3 from clang 14 (the Makefile passes it). */
#define HXS_FP_CAS(p, o, n) __sync_val_compare_and_swap((p), (o), (n))
#define HXS_FP_ADD(p, n)    __sync_fetch_and_add((p), (n))
#include "hxs/fastpath.h"

/* One untorn load: the stack writes these fields while we run. */
#define FP_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))

#define TCPOPT_EOL        0
#define TCPOPT_NOP        1
#define TCPOPT_SACK       5
#define TCPOPT_TIMESTAMP  8
#define TCPOLEN_TIMESTAMP 10
#define TCP_OPT_MAX       40    /* RFC 9293 §3.1: data offset 15 words, 5 fixed */
#define TCP_OPT_BUF       64    /* the copy's size: a power of two, see fp_tcp_options() */

#define TH_FIN 0x01
#define TH_RST 0x04
#define TH_ACK 0x10

/* The options walk's state, on the caller's stack: bpf_loop() hands the callback a pointer
 * to it. */
struct fp_opts {
	__u8  o[TCP_OPT_BUF];   /* the options, zero past len */
	__u32 i;                /* offset of the next option */
	__u32 len;              /* bytes of options (1..40) */
	struct hxs_fp_seg g;    /* what was found */
};

/* Reads a byte of the options copy. The index is masked although every caller checked it
 * against the option length: the verifier does not carry "i + olen <= len, len <= 40" over
 * to i itself, so an unmasked o[i + 2] is a variable stack read it cannot bound. The mask
 * keeps every read inside the 64-byte, zeroed copy. */
#define OPT(o, i) ((o)[(i) & (TCP_OPT_BUF - 1)])

/* One option (bpf_loop() callback): 0 to go on, 1 to stop. */
static long fp_tcp_option(__u32 round, void *arg)
{
	struct fp_opts *w = arg;
	__u32 i = w->i, len = w->len, olen;
	__u8 kind;

	if (i >= len || i >= TCP_OPT_MAX)
		return 1;
	kind = OPT(w->o, i);
	/* RFC 9293 §3.2: End of Option List; the rest is padding */
	if (kind == TCPOPT_EOL)
		return 1;
	if (kind == TCPOPT_NOP) {
		w->i = i + 1;
		return 0;
	}
	/* every other kind has a length octet counting kind and length */
	if (i + 1 >= len) {
		w->g.odd_opt = 1;
		return 1;
	}
	olen = OPT(w->o, i + 1);
	if (olen < 2 || i + olen > len) {
		w->g.odd_opt = 1;
		return 1;
	}
	if (kind == TCPOPT_TIMESTAMP && olen == TCPOLEN_TIMESTAMP && !w->g.has_ts) {
		/* RFC 7323 §3.2: Kind 8, Length 10, TSval, TSecr (network order) */
		w->g.has_ts = 1;
		w->g.tsval = (__u32)OPT(w->o, i + 2) << 24 | (__u32)OPT(w->o, i + 3) << 16 |
			     (__u32)OPT(w->o, i + 4) << 8 | OPT(w->o, i + 5);
		w->g.tsecr = (__u32)OPT(w->o, i + 6) << 24 | (__u32)OPT(w->o, i + 7) << 16 |
			     (__u32)OPT(w->o, i + 8) << 8 | OPT(w->o, i + 9);
	} else if (kind == TCPOPT_SACK) {
		w->g.has_sack = 1;  /* RFC 2018 §3: the blocks are the stack's */
	} else {
		/* MSS, window scale, SACK-permitted off a SYN, a second timestamps option, a
		 * timestamps option of the wrong length, unknown kinds */
		w->g.odd_opt = 1;
	}
	w->i = i + olen;
	return 0;
}

/* The options of a TCP header (len bytes at frame offset off, 0..40) into w->g: timestamps,
 * SACK present, anything else or malformed -> odd_opt.
 * Two things here are shaped by the verifier. The options are copied to the stack with
 * bpf_xdp_load_bytes() rather than read through packet pointers (a variable-offset packet
 * read needs its own data_end proof per byte; the copy, which also works on a multi-buffer
 * frame, is checked once). And the walk is a bpf_loop() callback, at most 40 rounds (each
 * option is at least one byte): the same walk as a plain bounded loop in this function
 * made the verifier walk the paths through up to 40 rounds and give up at its
 * limit of 1,000,000 instructions; a callback is verified once. */
static __always_inline void fp_tcp_options(struct xdp_md *ctx, __u32 off, __u32 len,
					   struct fp_opts *w)
{
	if (!len)
		return;
	w->len = len;
	if (len > TCP_OPT_MAX || bpf_xdp_load_bytes(ctx, off, w->o, len)) {
		w->g.odd_opt = 1;
		return;
	}
	bpf_loop(TCP_OPT_MAX, fp_tcp_option, w, 0);
}

/* The doorbell: the stack sleeps (hdr.sleeping, set by exchange before its last look at the
 * slots); the first consumer to find it set swaps it back and writes the slot id to the
 * ring, whose fd the stack's epoll waits on. A full ring still has unread records, so the
 * fd is readable and the stack wakes anyway. */
static __always_inline void fp_doorbell(struct hxs_slot_hdr *hdr, __u32 slot_id)
{
	if (!FP_READ_ONCE(hdr->sleeping))
		return;
	if (__sync_val_compare_and_swap(&hdr->sleeping, 1, 0) != 1)
		return;
	if (!bpf_ringbuf_output(&hxs_wake, &slot_id, sizeof(slot_id), 0))
		count(HXS_XDP_WAKEUPS);
}

/* A TCP segment of a conn entry {slot, gen} whose header checks passed. Returns XDP_DROP
 * when the fast path ended the frame here (counted), or -1: steer it, with m->reason saying
 * why the fast path did not take it. */
static __always_inline int fp_tcp(struct xdp_md *ctx, const struct tcphdr *th,
				  const struct hxs_pkt *pkt, const struct hxs_conn_val *cv,
				  struct hxs_xdp_meta *m)
{
	__u32 key0 = 0, slot_id = cv->slot, hlen = th->doff * 4u, flags;
	struct hxs_slot_hdr *hdr;
	struct fp_opts w = {};
	struct hxs_fp_seg *g = &w.g;
	enum hxs_fp_reason r;
	struct hxs_slot *s;
	__u64 ackw;

	m->reason = HXS_FP_NO_SLOT;
	if (slot_id == HXS_SLOT_NONE || !cv->gen)
		return -1;
	s = bpf_map_lookup_elem(&hxs_slots, &slot_id);     /* NULL past HXS_MAX_SLOTS */
	if (!s || FP_READ_ONCE(s->gen) != cv->gen)
		return -1;
	hdr = bpf_map_lookup_elem(&hxs_slots, &key0);
	if (!hdr)
		return -1;
	flags = FP_READ_ONCE(s->flags);
	g->flags = ((const __u8 *)th)[13];
	g->seq = bpf_ntohl(th->seq);
	g->ack = bpf_ntohl(th->ack_seq);
	g->wnd = bpf_ntohs(th->window);
	g->payload = pkt->l4_len - hlen;

	if (FP_READ_ONCE(hdr->fast_off)) {
		r = HXS_FP_OFF;
		goto declined;
	}
	/* RFC 5961 §3.2: "If the RST bit is set and the sequence number is outside the
	 * current receive window, silently drop the segment." */
	if (g->flags & TH_RST) {
		if (hxs_fp_rst_out_of_window(s, flags, g->seq))
			return drop(HXS_XDP_RST_OUT_OF_WINDOW);
		r = HXS_FP_NOT_PURE;
		goto declined;
	}
	/* the judge's first two verdicts, from the flags alone: a segment that is no
	 * candidate (data, most of all) reads nothing of the slot's second cache line, which
	 * the stack writes per segment (shared.h) */
	if (!(flags & HXS_SLOT_F_FAST)) {
		r = HXS_FP_OFF;
		goto declined;
	}
	if (!(g->flags & TH_ACK) || (g->flags & HXS_TH_PURE_MASK) || g->payload) {
		r = HXS_FP_NOT_PURE;
		goto declined;
	}
	/* the options cost a copy and a loop: parsed only for a candidate */
	fp_tcp_options(ctx, pkt->l4_off + sizeof(*th), hlen - sizeof(*th), &w);
	ackw = FP_READ_ONCE(s->ack);
	r = hxs_fp_judge_ack(s, flags, ackw, g);
	if (r == HXS_FP_TAKE)
		r = hxs_fp_take_ack(s, ackw, g);
	if (r == HXS_FP_TAKE) {
		/* a terminal verdict of its own: consumed, not XdpDropped */
		count(HXS_XDP_ACK_FAST_PATH);
		fp_doorbell(hdr, slot_id);
		return XDP_DROP;
	}
declined:
	m->reason = (__u8)r;
	if ((flags & HXS_SLOT_F_FAST) && (g->flags & TH_ACK))
		count(HXS_XDP_ACK_DECLINED);
	return -1;
}

/* struct hxs_xdp_meta in front of the frame (data_meta). Invalidates every packet pointer:
 * the last thing before the redirect. A driver without metadata support refuses the
 * adjustment; the frame then goes without (the stack checks the magic, and the tuple). */
static __always_inline void fp_put_meta(struct xdp_md *ctx, const struct hxs_xdp_meta *m)
{
	struct hxs_xdp_meta *p;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*p)))
		return;
	p = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(p + 1) > data)
		return;
	__builtin_memcpy(p, m, sizeof(*p));
}

#endif
