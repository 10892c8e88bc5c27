/* test_tcp_free.c - freeing a TCP instance (hxs_tcp__free, as hxs_stack__close does) while
 * its connections still have timers armed.
 *
 * Two passive connections agree on SACK (so RACK-TLP is on), are accepted and closed by the
 * application: each sends its FIN and waits in FIN-WAIT-1 with the retransmission timer and
 * the RACK/TLP timer armed, both due about one RTO later, so the four timers share a slot of
 * the instance's wheel. hxs_tcp__free then destroys the connections one by one. Destroying a
 * connection must take every timer of it off the wheel: a timer left linked in freed memory
 * is written through when the next connection's timer is unlinked beside it (a
 * heap-use-after-free that AddressSanitizer, which the unit tests run under, reports). Both
 * orders of closing are run, so whichever order the table frees them in, a connection's
 * timer sits next to one of the connection freed before it.
 */
#include <string.h>

#include "check.h"
#include "hxs/hxs.h"
#include "tcp_harness.h"

#define PISN 5000u

/* A SYN with MSS 1460 and SACK-permitted from TS_RPORT + i, its SYN,ACK, the final ACK. */
static int handshake(struct ts *t, uint16_t i)
{
	struct hxs_tcp_opts o = ts_mss_opt(1460);
	struct ts_seg s;
	uint32_t iss = 0;
	int got = 0;

	o.sack_perm = 1;
	TS_IN(t, t->now, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_SYN, .seq = PISN,
	      .wnd = 65535, .opt = &o);
	while (ts_pop(t, &s))
		if (s.flags == (HXS_TH_SYN | HXS_TH_ACK) && s.dport == TS_RPORT + i) {
			iss = s.seq;
			got = 1;
		}
	TS_IN(t, t->now, .rport = (uint16_t)(TS_RPORT + i), .flags = HXS_TH_ACK, .seq = PISN + 1,
	      .ack = iss + 1, .wnd = 65535);
	return got;
}

static void free_with_timers(int order)
{
	struct ts *t = ts_open(NULL);
	struct hxs_tcp_conn *l, *c[2] = { NULL, NULL };
	struct ts_seg s;

	t_case(order ? "two connections in FIN-WAIT-1 (closed second, first), RTO and TLP armed: "
		       "hxs_tcp__free frees them without touching freed timers"
		     : "two connections in FIN-WAIT-1 (closed first, second), RTO and TLP armed: "
		       "hxs_tcp__free frees them without touching freed timers");
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &l), 0);
	CHECK_EQ(hxs_tcp_conn__listen(l, 0, TS_LPORT, 8), 0);
	for (uint16_t i = 0; i < 2; i++) {
		CHECK(handshake(t, i), "no SYN,ACK for peer %u", i);
		CHECK_EQ(hxs_tcp_conn__accept(l, &c[i]), 0);
	}
	if (!c[0] || !c[1]) {
		ts_free(t);
		return;
	}
	CHECK(c[0]->rk.on && c[1]->rk.on, "RACK is off: SACK not agreed");
	hxs_tcp_conn__close(c[order]);
	hxs_tcp_conn__close(c[!order]);
	ts_run_until(t, t->now);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(c[i]->state, HXS_TCPS_FIN_WAIT_1);
		/* what makes the case: both timers of each connection on the wheel */
		CHECK(hxs_timer__armed(&c[i]->t_rexmt) && hxs_timer__armed(&c[i]->rk.t),
		      "connection %d: RTO %d, RACK/TLP %d armed", i, hxs_timer__armed(&c[i]->t_rexmt),
		      hxs_timer__armed(&c[i]->rk.t));
	}
	for (int n = 0; ts_pop(t, &s); n++)    /* the two FINs, nothing else */
		CHECK(s.flags == (HXS_TH_FIN | HXS_TH_ACK) && n < 2, "segment %d: flags %#x", n, s.flags);
	hxs_tcp_conn__close(l);
	ts_free(t);                        /* hxs_tcp__free with both connections live */
}

int main(void)
{
	free_with_timers(0);
	free_with_timers(1);
	return t_done();
}
