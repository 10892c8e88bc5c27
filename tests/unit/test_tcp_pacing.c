/* test_tcp_pacing.c - the pacing clock of one connection (user/tcp/tcp_pacing.c), driven
 * directly: the rate the congestion control set, a segment sent, when the next may go.
 *
 *   at 1,448,000 B/s a 1448-byte segment puts the next one exactly 1 ms later;
 *   at a rate of a few bytes a second (BBR's first estimate after a handshake whose SRTT is
 *   minutes long) the next segment waits at most 1 s, as Linux's fq clamps one packet's
 *   delay "since socket rate can change later": once the rate is real, the segment goes
 *   after that second, not after the 1448 s the old rate asked for (a connection that sent
 *   one segment per 120 s RTO, found by fuzz/sock_api).
 */
#include "check.h"
#include "tcp_harness.h"

#define S 1000000ull

int main(void)
{
	struct ts *t = ts_open(NULL);
	struct hxs_tcp_conn *c = NULL;
	uint64_t now = 5 * S;

	CHECK_EQ(hxs_tcp_conn__new(t->tcp, &c), 0);
	if (!c)
		return t_done();
	c->mss = 1448;
	c->bytes_sent = 100 * 1448;            /* past the unpaced first segments */

	t_case("1,448,000 B/s: a 1448-byte segment puts the next exactly 1 ms later");
	c->cc.pacing_rate = 1448000;
	c->pace_next = now;
	hxs_tcp_pace_sent(c, 1448, now);
	CHECK_EQ(c->pace_next, now + 1000);
	CHECK_EQ(hxs_tcp_pace_may_send(c, now + 999), 0);
	CHECK_EQ(hxs_tcp_pace_may_send(c, now + 1000), 1);

	t_case("1 B/s: the next segment waits 1 s, not 1448 s; at a real rate it goes then");
	c->cc.pacing_rate = 1;
	c->pace_next = now;
	hxs_tcp_pace_sent(c, 1448, now);
	CHECK_EQ(c->pace_next, now + S);
	c->cc.pacing_rate = 103454;
	CHECK_EQ(hxs_tcp_pace_may_send(c, now + S - 1), 0);
	CHECK_EQ(hxs_tcp_pace_may_send(c, now + S), 1);

	hxs_tcp_conn__close(c);
	ts_free(t);
	return t_done();
}
