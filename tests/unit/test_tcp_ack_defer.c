/* test_tcp_ack_defer.c - the ACK of a SYN,ACK, and of a FIN in ESTABLISHED, waits one poll
 * (cfg.ack_defer): the stack's turn ends with hxs_tcp__poll(), the application answers the
 * news, the next turn's poll sends. What the user queued in between goes in the same
 * segment as the ACK; without an answer the ACK goes alone, one poll late; without
 * ack_defer it goes at once.
 *
 * The harness's ts_inject() polls once after the segment (the end of that turn); the next
 * hxs_tcp__poll() here is the next turn.
 */
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "check.h"
#include "tcp_harness.h"

#define PISN 5000u

/* An active open up to the SYN,ACK; our ISS in *iss. */
static struct ts *synack(int defer, struct hxs_tcp_conn **cp, uint32_t *iss)
{
	struct hxs_tcp_cfg cfg;
	struct ts_seg s;
	struct ts *t;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ack_defer = (uint8_t)defer;
	t = ts_open(&cfg);
	CHECK_EQ(hxs_tcp_conn__new(t->tcp, cp), 0);
	CHECK_EQ(hxs_tcp_conn__connect(*cp, TS_LOCAL, TS_EPORT, TS_REMOTE, TS_LPORT, 0), 0);
	CHECK(ts_pop(t, &s));
	CHECK_EQ(s.flags, HXS_TH_SYN);
	*iss = s.seq;
	TS_IN(t, 100, .rport = TS_LPORT, .lport = TS_EPORT, .flags = HXS_TH_SYN | HXS_TH_ACK,
	      .seq = PISN, .ack = *iss + 1, .wnd = 65535);
	return t;
}

int main(void)
{
	static const char req[64] = "request";
	struct hxs_tcp_conn *c;
	struct ts_seg s;
	uint32_t iss;
	struct ts *t;

	t_case("without ack_defer: the SYN,ACK's ACK at once");
	t = synack(0, &c, &iss);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	CHECK(ts_pop(t, &s));
	CHECK_EQ(s.flags, HXS_TH_ACK);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(s.ack, PISN + 1);
	ts_free(t);

	t_case("ack_defer: established and writable at once, the ACK not yet");
	t = synack(1, &c, &iss);
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_ESTABLISHED);
	CHECK(hxs_tcp_conn__events(c) & EPOLLOUT);
	CHECK_EQ(ts_pending(t), 0);
	t_case("ack_defer: a request written meanwhile goes with the ACK, one segment");
	CHECK_EQ(hxs_tcp_conn__send(c, req, sizeof(req)), (long)sizeof(req));
	hxs_tcp__poll(t->tcp, 200);
	CHECK(ts_pop(t, &s));
	CHECK(s.flags & HXS_TH_ACK);
	CHECK_EQ(s.ack, PISN + 1);
	CHECK_EQ(s.seq, iss + 1);
	CHECK_EQ(s.len, (uint32_t)sizeof(req));
	CHECK(!memcmp(s.data, req, sizeof(req)));
	CHECK_EQ(ts_pending(t), 0);

	t_case("ack_defer: the peer's answer and FIN: readable at once, the ACK not yet");
	TS_IN(t, 300, .rport = TS_LPORT, .lport = TS_EPORT, .flags = HXS_TH_ACK | HXS_TH_FIN,
	      .seq = PISN + 1, .ack = iss + 1 + sizeof(req), .wnd = 65535, .data = req,
	      .len = sizeof(req));
	CHECK_EQ(hxs_tcp_conn__state(c), HXS_TCPS_CLOSE_WAIT);
	CHECK(hxs_tcp_conn__events(c) & EPOLLIN);
	CHECK_EQ(ts_pending(t), 0);
	t_case("ack_defer: the close meanwhile goes with the FIN's ACK, one FIN,ACK");
	CHECK_EQ(hxs_tcp_conn__shutdown(c, SHUT_WR), 0);
	hxs_tcp__poll(t->tcp, 400);
	CHECK(ts_pop(t, &s));
	CHECK_EQ(s.flags, HXS_TH_FIN | HXS_TH_ACK);
	CHECK_EQ(s.ack, PISN + 1 + sizeof(req) + 1);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(ts_pending(t), 0);
	ts_free(t);

	t_case("ack_defer: no answer: the ACK goes alone at the next poll, due at once");
	t = synack(1, &c, &iss);
	CHECK_EQ(ts_pending(t), 0);
	CHECK_EQ(hxs_tcp__next_deadline(t->tcp), 0);      /* a sleeping stack does not sleep */
	hxs_tcp__poll(t->tcp, 200);
	CHECK(ts_pop(t, &s));
	CHECK_EQ(s.flags, HXS_TH_ACK);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(s.ack, PISN + 1);
	CHECK_EQ(hxs_tcp__next_deadline(t->tcp) > 0, 1);
	ts_free(t);
	return t_done();
}
