/* tcp_input.h - what the files of a segment's arrival (RFC 9293 §3.10.7) call in each other.
 *
 *   tcp_input.c            the entry points: parse, checksum, demux, conn_input()
 *   tcp_listen.c           LISTEN: the passive open, the SYN-RECEIVED child, a SYN cookie
 *   tcp_predict.h, .c      the two header predictions (the first inline in tcp_input.c)
 *   tcp_fastpath_input.c   the ACKs XDP consumed, through the fifth step
 *   tcp_process.c          by state: CLOSED, SYN-SENT, the steps of the synchronized states
 * A file calls only those below it: tcp_input.c the four others, tcp_listen.c,
 * tcp_predict.c and tcp_fastpath_input.c tcp_process.c, which calls none of them
 * (tests/unit/test_layers.sh: no call circle between files). Small and hot helpers are
 * static here: inlined, or a copy in each file that calls it.
 */
#ifndef HXS_TCP_INPUT_H
#define HXS_TCP_INPUT_H

#include <stdint.h>

#include "tcp_conn.h"

/* What a step of §3.10.7.4 leaves to the next: go on with the next step; stop, the segment
 * is done with (output and notify follow); stop, the connection is gone; take only its ACK
 * field (the first step's zero-window allowance), then stop. */
enum step { STEP_NEXT, STEP_DONE, STEP_GONE, STEP_ACK_ONLY };

/* tcp_process.c */
/* §3.10.7.1 CLOSED: the RST that answers a segment for no connection. */
void hxs_tcp_closed_input(struct hxs_tcp *tcp, const struct hxs_tcp_seg *s);
/* The options agreed in the handshake and the MSS (SYN-SENT, LISTEN, a SYN cookie's ACK). */
void hxs_tcp_set_mss(struct hxs_tcp_conn *c);
void hxs_tcp_syn_options(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now);
/* §3.10.7.4 fifth: the ACK field, for a segment or the fast path's stretch ACK. */
enum step hxs_tcp_check_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now);
/* The same for the segment the second header prediction took (tcp_predict.c), whose tests
 * settle most of the step's own; the rest of the ACK's processing may wait for the answer's
 * segment (tcp_ack_rest.c). */
enum step hxs_tcp_check_ack_rest_later(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s,
				       uint64_t now);
/* conn_input() for a segment the predictions did not take: one switch (state), then output
 * and notify. Returns 1 for a listener, whose segment is the caller's. */
int hxs_tcp_conn_input_rest(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now,
			    int held);

/* The seventh step's, in tcp_process.c (process_text) and in the predictions (tcp_predict.h). */
/* The peer's full segment size, for "an ACK for at least every second full-sized segment"
 * (RFC 5681 §4.2): full-sized is the sender's SMSS, which may be far below our receive MSS
 * (a 1460-byte peer on our 9000-byte MTU). As Linux's tcp_measure_rcv_mss(): a segment at
 * least as large as the estimate sets it (up to our receive MSS); a smaller one sets it only
 * when two in a row have the same length and it looks full-sized: at least 536 bytes, or at
 * least 88 without PSH, URG or FIN (a sender fills its segments unless it pushes). A smaller
 * one is measured with the options it carries beyond the timestamp every segment has: SACK
 * blocks take their room from the payload (RFC 9293 §3.7.1), and a full segment that carries
 * them is still full-sized. Static, not inline: each file that calls it has its own copy,
 * inlined or not as the compiler chooses, whose registers it knows at the call (as another
 * file's function, the predicted path in hxs_tcp__input_slot() reloads a value after it). */
static __attribute__((unused)) void hxs_tcp_measure_ack_mss(struct hxs_tcp_conn *c,
							    const struct hxs_tcp_seg *s)
{
	uint32_t len = s->len, last = c->last_seg_len, fixed = c->ts_ok ? 12 : 0;

	c->last_seg_len = 0;
	if (len >= c->ack_mss) {
		c->ack_mss = len < c->rcv_mss ? len : c->rcv_mss;
		return;
	}
	if (s->optlen > fixed)
		len += s->optlen - fixed;
	if (len >= 536 || (len >= 88 && !(s->flags & (HXS_TH_PSH | HXS_TH_URG | HXS_TH_FIN)))) {
		c->last_seg_len = len;
		if (len == last)
			c->ack_mss = len;
	}
}

#define ACK_BATCH_SEGS 44          /* Linux's tcp_comp_sack_nr */

/* Whether the ACK in-order data made due (every second full-sized segment, RFC 5681 §4.2)
 * may wait for the end of the input batch (cfg.ack_batch: the stack's turn, whose
 * hxs_tcp__poll() sends it): one cumulative ACK for the batch's segments, as Linux's GRO
 * makes one segment of a NAPI poll's and ACKs it as one (tcp_rcv_established() sees the
 * merged skb). §4.2 asks for an ACK "for at least every second full-sized segment" and one
 * within 500 ms of the first unacknowledged one; the batch's ACK covers every segment of it
 * and goes within the same turn, microseconds later. Capped like the duplicate ACKs of
 * ack_may_wait() at ACK_BATCH_SEGS segments (Linux's GRO stops at 64 KiB, 45 segments of
 * 1448 bytes): a burst longer than that is ACKed at its 44th segment as well. A sender that
 * limits slow start's growth per ACK (RFC 3465 §2.3 L = 2*SMSS, as hxs's CUBIC and NewReno
 * do) grows slower on such ACKs, as it does on the kernel's; cfg.no_stretch_ack keeps the
 * ACK for every second segment. */
static inline int inorder_ack_may_wait(const struct hxs_tcp_conn *c)
{
	return c->tcp->cfg.ack_batch && !c->tcp->cfg.no_stretch_ack &&
	       c->segs_unacked < ACK_BATCH_SEGS;
}

/* tcp_listen.c */
/* §3.10.7.2 LISTEN; returns the child an ACK with a SYN cookie opened, for the caller to run
 * that ACK through conn_input(). */
struct hxs_tcp_conn *hxs_tcp_listen_input(struct hxs_tcp_conn *l, const struct hxs_tcp_seg *s,
					  uint64_t now, uint32_t tw_iss);

/* tcp_predict.c */
/* Header prediction's second case, in-order data that acknowledges new data: all of it, or 0
 * (nothing done) if s is not one. */
int hxs_tcp_conn_input_data_ack(struct hxs_tcp_conn *c, const struct hxs_tcp_seg *s, uint64_t now,
				int held);

#endif
