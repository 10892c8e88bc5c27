/* tcp_rack_timer.c - the RACK-TLP timer's expiry (RFC 8985): the PTO sends a tail loss
 * probe (§7.3), the RACK reordering timer marks what waited out the reordering window and
 * retransmits it (§6.2 step 6). Reached only through the instance's hxs_tcp_timer_fns, so
 * that tcp_rack.c, below output, never calls it.
 *
 * hxs_tcp__timers() -> hxs_tcp_rack_fire() -> PTO: tlp_send_probe() -> hxs_tcp_send_seg()
 *                                               (new data) or hxs_tcp_retransmit_flags()
 *                                          -> RACK: hxs_tcp_rack_detect() (tcp_rack.c),
 *                                               hxs_tcp_rack_prr(), hxs_tcp_output()
 */
#include "tcp_conn.h"

/* §7.3, TLP_send_probe(): new data if any may go, else the last segment again. */
static void tlp_send_probe(struct hxs_tcp_conn *c, uint64_t now)
{
	struct hxs_rack *r = &c->rk;
	uint32_t end = hxs_tcp_snd_end(c), right = c->snd_una + c->snd_wnd;
	uint32_t avail = SEQ_LT(c->snd_nxt, end) ? SEQ_DIFF(end, c->snd_nxt) : 0;
	uint32_t usable = SEQ_GT(right, c->snd_nxt) ? SEQ_DIFF(right, c->snd_nxt) : 0;
	uint32_t mss = hxs_tcp_send_mss(c), seq, len;
	int psh;

	if (avail && usable && c->snd_nxt == c->snd_max) {
		/* "If an unsent segment exists AND the receive window allows new data to be
		 * sent: Transmit the lowest-sequence unsent segment of up to SMSS" */
		len = avail < usable ? avail : usable;
		if (len > mss)
			len = mss;
		int fin = c->fin_queued && len == avail &&
			  (c->state == HXS_TCPS_FIN_WAIT_1 || c->state == HXS_TCPS_LAST_ACK ||
			   c->state == HXS_TCPS_CLOSING);
		uint8_t fl = HXS_TH_ACK | (len == avail ? HXS_TH_PSH : 0) | (fin ? HXS_TH_FIN : 0);
		if (hxs_tcp_send_seg(c, c->snd_nxt, fl, len, now) < 0)
			return;
		c->snd_nxt += len + (uint32_t)fin;
		c->snd_max = c->snd_nxt;
		r->tlp_retrans = 0;
	} else if (hxs_tcp_rack_last(c, &seq, &len, &psh)) {
		/* "Retransmit the highest-sequence segment sent so far" */
		if (len > mss) {
			seq += len - mss;
			len = mss;
		}
		if (hxs_tcp_retransmit_flags(c, seq, len, psh ? HXS_TH_PSH : 0, now) <= 0)
			return;
		r->tlp_retrans = 1;
	} else {
		return;
	}
	/* "TLP.end_seq = SND.NXT" */
	r->tlp_on = 1;
	r->tlp_end = c->snd_max;
	MIB_INC(c->tcp, TCPLossProbes);
	/* "the sender MUST arm the RTO timer, not the PTO timer" */
	hxs_tcp_rexmt_arm(c, now);
	hxs_tcp_fp_publish(c, c->snd_max);
}

void hxs_tcp_rack_fire(struct hxs_timer *t, uint64_t now)
{
	struct hxs_tcp_conn *c = container_of(t, struct hxs_tcp_conn, rk.t);
	struct hxs_rack *r = &c->rk;
	uint32_t newly;

	if (!r->on || c->snd_max == c->snd_una || !HXS_TCPS_HAVEESTABLISHED(c->state) ||
	    c->state == HXS_TCPS_TIME_WAIT)
		return;
	if (r->t_tlp) {
		if (hxs_tcp_rack_tlp_allowed(c))
			tlp_send_probe(c, now);
		return;
	}
	/* RACK reordering timer: "RACK_detect_loss_and_arm_timer()", then what is lost goes */
	int was = c->recovery;
	if (hxs_tcp_rack_detect(c, now, &newly)) {
		if (c->recovery && !was)
			hxs_tcp_rack_prr(c, 0, 0, newly);     /* Linux's tcp_rack_reo_timeout(): one segment */
		hxs_tcp_output(c, now);
		hxs_tcp_notify(c);
	}
}

