/* fastpath.h - the rules of the XDP ACK fast path, written once: compiled into the XDP
 * program (bpf/hxs.bpf.c) and into the in-memory link's stand-in for it (user/net/), so the
 * simulator and the datapath judge alike. Plain C on parsed values: no BPF helper, no packet
 * pointer. The caller parsed the segment (bounds-checked), looked up the connection's slot
 * and checked the slot's gen against the conn entry.
 *
 * hxs_fp_judge_ack(): may this segment be consumed here?  -> HXS_FP_TAKE or a reason
 * hxs_fp_take_ack():  advance the slot's ack word (compare-and-swap), record the timestamps
 * hxs_fp_rst_out_of_window(): RFC 5961 §3.2 "If the RST bit is set and the sequence number
 *                     is outside the current receive window, silently drop the segment."
 *
 * The caller supplies HXS_FP_CAS(ptr, old, new) (returns the old value) and HXS_FP_LOAD(ptr)
 * (a single, untorn read): __sync_val_compare_and_swap / READ_ONCE in BPF, the __atomic
 * builtins in userspace.
 */
#ifndef HXS_FASTPATH_H
#define HXS_FASTPATH_H

#include <linux/types.h>
#include "hxs/shared.h"

/* A TCP segment as the judge needs it (host byte order). */
struct hxs_fp_seg {
	__u32 seq, ack;
	__u32 tsval, tsecr;
	__u16 wnd;          /* SEG.WND as carried (unscaled) */
	__u8  flags;        /* TCP flags byte (FIN 0x01 ... CWR 0x80) */
	__u8  has_ts : 1,   /* a timestamps option was present */
	      has_sack : 1, /* a SACK option was present (any number of blocks) */
	      odd_opt : 1;  /* an option other than NOP, EOL, timestamps, SACK, or a malformed one */
	__u32 payload;      /* bytes of data */
};

/* Why the fast path declined (hxs_xdp_meta.reason); HXS_FP_TAKE: consume it. */
enum hxs_fp_reason {
	HXS_FP_TAKE = 0,
	HXS_FP_NO_SLOT,     /* no conn entry, no slot, or the slot's gen moved on */
	HXS_FP_OFF,         /* fast path off for this connection (flags) or stack-wide */
	HXS_FP_NOT_PURE,    /* SYN/FIN/RST/URG/ECE/CWR, no ACK, or payload */
	HXS_FP_OPTIONS,     /* SACK blocks, an unknown option, or timestamps not as negotiated */
	HXS_FP_SEQ,         /* SEG.SEQ != RCV.NXT (RFC 9293 §3.10.7.4: the stack judges) */
	HXS_FP_PAWS,        /* SEG.TSval older than TS.Recent (RFC 7323 §5.3): the stack drops */
	HXS_FP_OLD_ACK,     /* SEG.ACK <= SND.UNA: duplicate or old ACK (RFC 5681 §2) */
	HXS_FP_ACK_FUTURE,  /* SEG.ACK > SND.MAX: acknowledges nothing sent (§3.10.7.4) */
	HXS_FP_RACE,        /* the ack word moved while we judged; the stack decides */
	HXS_FP__COUNT
};

#define HXS_FP_SEQ_LT(a, b)  ((__s32)((a) - (b)) < 0)
#define HXS_FP_SEQ_LEQ(a, b) ((__s32)((a) - (b)) <= 0)
#define HXS_FP_SEQ_GT(a, b)  ((__s32)((a) - (b)) > 0)
#define HXS_FP_SEQ_GEQ(a, b) ((__s32)((a) - (b)) >= 0)

#define HXS_TH_PURE_MASK 0xe7  /* FIN SYN RST URG ECE CWR: none may be set on a pure ACK
                                * (ACK 0x10 and PSH 0x08 may) */

/* The judgement, on one consistent read of the ack word (ackw). Every test declines to the
 * stack, never drops: the stack then does what RFC 9293 says for the segment. */
static inline enum hxs_fp_reason hxs_fp_judge_ack(const struct hxs_slot *s, __u32 flags,
						  __u64 ackw, const struct hxs_fp_seg *g)
{
	__u32 una = HXS_SLOT_ACK_UNA(ackw);

	if (!(flags & HXS_SLOT_F_FAST))
		return HXS_FP_OFF;
	/* a pure ACK: "ACK-only (no SYN/FIN/RST/URG, no payload)" */
	if (!(g->flags & 0x10) || (g->flags & HXS_TH_PURE_MASK) || g->payload)
		return HXS_FP_NOT_PURE;
	/* SACK blocks go to the stack's scoreboard (RFC 2018/6675); RFC 7323 §3.2: once
	 * negotiated, timestamps are on every segment, and never appear unless negotiated */
	if (g->has_sack || g->odd_opt || !g->has_ts != !(flags & HXS_SLOT_F_TS))
		return HXS_FP_OPTIONS;
	/* RFC 9293 §3.10.7.4 first check, narrowed: a zero-length segment is acceptable when
	 * RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND; we take only SEG.SEQ = RCV.NXT (what a peer
	 * that sends no data puts there) and leave the rest to the stack. */
	if (g->seq != s->rcv_nxt)
		return HXS_FP_SEQ;
	/* RFC 7323 §5.3 R1: "If ... SEG.TSval < TS.Recent ... the segment is not acceptable" */
	if (g->has_ts && HXS_FP_SEQ_LT(g->tsval, s->ts_recent))
		return HXS_FP_PAWS;
	/* RFC 9293 §3.10.7.4 fifth check: "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <-
	 * SEG.ACK". Anything else (duplicate, old, future) is the stack's. */
	if (HXS_FP_SEQ_LEQ(g->ack, una))
		return HXS_FP_OLD_ACK;
	if (HXS_FP_SEQ_GT(g->ack, s->snd_max))
		return HXS_FP_ACK_FUTURE;
	return HXS_FP_TAKE;
}

/* RFC 5961 §3.2 for a known connection (HXS_SLOT_F_RST): the RST's sequence number is
 * outside [RCV.NXT, RCV.ADV) as far as the slot knows. The slot's rcv_nxt never runs ahead
 * of the stack's and rcv_adv is published before the window is advertised, so a RST
 * judged out of window here is out of window for the stack too. A zero window (rcv_adv ==
 * rcv_nxt) leaves only SEG.SEQ == RCV.NXT, which the stack takes. */
static inline int hxs_fp_rst_out_of_window(const struct hxs_slot *s, __u32 flags, __u32 seq)
{
	if (!(flags & HXS_SLOT_F_RST))
		return 0;
	if (seq == s->rcv_nxt)
		return 0;
	return HXS_FP_SEQ_LT(seq, s->rcv_nxt) || HXS_FP_SEQ_GEQ(seq, s->rcv_adv);
}

#ifdef HXS_FP_CAS
/* Consumes a segment the judge took on ack word ackw: its timestamps first, then the ack
 * word by compare-and-swap (the full barrier that publishes both). HXS_FP_RACE if another
 * CPU or the stack moved the word since it was read: the frame then goes to the stack,
 * which judges it against the newer SND.UNA. The caller defines HXS_FP_CAS(ptr, old, new)
 * (returns the previous value) and HXS_FP_ADD(ptr, n) (atomic add). */
static inline enum hxs_fp_reason hxs_fp_take_ack(struct hxs_slot *s, __u64 ackw,
						 const struct hxs_fp_seg *g)
{
	__u64 nw = HXS_SLOT_ACK(g->ack, g->wnd, HXS_SLOT_ACK_N(ackw) + 1);

	if (g->has_ts) {
		s->tsval = g->tsval;
		s->tsecr = g->tsecr;
	}
	if (HXS_FP_CAS(&s->ack, ackw, nw) != ackw)
		return HXS_FP_RACE;
	HXS_FP_ADD(&s->nacks_total, 1);
	return HXS_FP_TAKE;
}
#endif

#endif
