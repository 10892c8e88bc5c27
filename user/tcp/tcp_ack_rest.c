/* tcp_ack_rest.c - the rest of an ACK's processing, run once the answer is handed to tx.send.
 *
 * In a request/response exchange every segment is in-order data that acknowledges all our
 * data in flight (the second header prediction, tcp_predict.c). Its ACK's processing
 * (RFC 9293 §3.10.7.4 fifth step, process_ack() in tcp_process.c) is in two parts:
 *   at once    TS.Recent, SND.UNA and the send buffer's acknowledged bytes, the RTT sample
 *              and RTO, the retransmission timer, SND.WND, ECN
 *   the rest   the delivery-rate sample (hxs_tcp_rate_ack_cum: the records the ACK
 *              delivers), RACK-TLP's ACK processing (hxs_tcp_rack_ack_begin,
 *              hxs_tcp_recovery_on_ack -> hxs_tcp_rack_on_ack: its records, RTT, reordering
 *              window and timer) and congestion control
 *              (hxs_tcp_cc_ack: BBR's model, cwnd, pacing rate); and when the segment's
 *              output has nothing to send (tcp_predict.c), that output's work: the
 *              app-limited mark, RACK's timer, the slot's publish (output_idle())
 * process_ack() -> ack_rest_may_wait() -> hxs_tcp_ack_rest_defer() (tcp_conn.h, inline)
 * leaves the rest pending
 * when nothing before the answer's segment can read what it changes (tcp_process.c says
 * why); it then runs, as it would have run, at the first of:
 *   hxs_tcp_send_seg()       (tcp_seg.c) after tx.send, before the segment's own records
 *                            (RACK, rate sample, pacing) and the caller's timers: the
 *                            answer is handed over, kicked already when the socket
 *                            layer's push sent it (the usual answer), else queued in the
 *                            stack's TX batch, which the turn's end kicks
 *   conn_input_begin()       (tcp_input.c) the next segment of the connection, and
 *   hxs_tcp_check_ack()      (tcp_process.c) the ACKs XDP consumed (hxs_tcp_fp_pickup)
 *   output_data()            (tcp_output.c) an output that sent nothing (the segment's
 *                            ACK at once, a full window, a cork), before its app-limited
 *                            mark: the mark is C.delivered + inflight, with this ACK's bytes
 *   hxs_tcp__timers()        (tcp_instance.c) every connection's, before any timer fires:
 *                            the stack's turn (hxs_tcp__poll), where timers run
 *   the user's calls that read or change it (tcp_user.c): tcp_info (the statistics'
 *                            too), setopt, the congestion control, shutdown, close, abort,
 *                            a write after a pause that restarts or resumes the algorithm
 *                            (RFC 5681 §4.1's restart window, on_idle_end: CUBIC);
 *                            hxs_tcp__set_pacing(), the path MTU update (tcp_pmtu.c)
 *   hxs_tcp_conn_destroy()   (tcp_lifecycle.c) drops it with the connection
 * What runs between (the rest of the segment's input, the output it makes up to its mark,
 * the readers' wake-up, the user's read and write, the output of the answer up to tx.send)
 * reads none of its results.
 */
#include "tcp_conn.h"

void hxs_tcp_ack_rest_drop(struct hxs_tcp_conn *c)
{
	if (!c->ar_pprev)
		return;
	*c->ar_pprev = c->ar_next;
	if (c->ar_next)
		c->ar_next->ar_pprev = c->ar_pprev;
	c->ar_next = NULL;
	c->ar_pprev = NULL;
}

/* hxs_tcp_output() as the segment's input would have run it (tcp_predict.c took it into the
 * rest): ESTABLISHED, nothing sent (no ACK due, nothing waiting: output_data()'s idle case,
 * SND.NXT = SND.UNA = SND.MAX), no recovery, PMTU probing or cork (the rest's and the
 * skip's conditions). Its values as then: nothing unsent, nothing in flight. The slot's
 * publish only if no segment published it since (hxs_tcp_send_seg, a newer state). */
static void output_idle(struct hxs_tcp_conn *c)
{
	/* output_data(): "all that waited went" */
	c->cork_push = 0;
	hxs_wheel__cancel(&c->tcp->wheel, &c->t_cork);
	if (c->mss > c->cc.cwnd)                /* cwnd-limited with nothing in flight */
		hxs_tcp_cwnd_validate(c, 1, 0);
	hxs_tcp_rate_app_limited_at(c, 0, 0);
	hxs_tcp_rack_sent(c, c->ar_now);        /* nothing in flight: RACK's timer off */
	c->cc.flight = 0;
	if (c->ar_publish)
		hxs_tcp_fp_publish(c, c->snd_max);
	c->ar_output = c->ar_publish = 0;
}

/* process_ack()'s order for the ACK the rest belongs to: RACK's per-ACK start and the
 * delivery-rate sample, recovery, then congestion control with the bytes in flight after it
 * (hxs_tcp_ecn_ack_in ran before, and hxs_tcp_pmtu_on_ack has no probe to judge:
 * ack_rest_may_wait()). The sample's pipe, what was in flight before the ACK, is RACK's
 * (hxs_tcp_pipe()): SND.MAX - SND.UNA then, nothing SACKed, lost or retransmitted (the
 * wait's conditions), so the bytes the ACK acknowledged, all there were. Recovery is
 * hxs_tcp_recovery_on_ack() with RACK on (a condition of the wait): no duplicate, nothing
 * newly SACKed; the pipe is RACK's. */
void hxs_tcp_ack_rest_run(struct hxs_tcp_conn *c)
{
	hxs_tcp_ack_rest_drop(c);
	hxs_tcp_rack_ack_begin(c, c->ar_tsecr);
	hxs_tcp_rate_ack_cum(c, c->ar_ack - c->ar_acked, c->ar_ack, c->ar_acked, c->ar_now);
	c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
	hxs_tcp_rack_on_ack(c, c->ar_acked, 0, c->ar_rtt, c->ar_now);
	c->cc.flight = SEQ_DIFF(c->snd_max, c->snd_una);
	hxs_tcp_cc_ack(c, c->cc.ops->cong_control ? hxs_tcp_rack_pipe(c) : 0, c->ar_now);
	if (c->ar_output)
		output_idle(c);
}

void hxs_tcp_ack_rest_all(struct hxs_tcp *tcp)
{
	while (tcp->ar_head)
		hxs_tcp_ack_rest_run(tcp->ar_head);
}
