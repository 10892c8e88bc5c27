/* test_loop_busy.c - a busy loop's turn (loop.c stack_turn) that only queued datagrams for
 * sockets: it returns them without reading the clock, running the timers, the pollers or the
 * flush; the next turn runs those even when nothing arrived, and the pollers hear of the
 * events it returned, and never twice in a row (a flood); the returning turn's frames go back
 * to the fill ring in the next turn. A turn whose frames asked for the time or sent something
 * is whole.
 * One stack on the in-memory link (udp_fixture.h) set to busy-poll, a clock that counts its
 * reads, a poller that counts its calls. */
#include <sys/epoll.h>

#include "udp_fixture.h"

static unsigned clock_reads;
static uint64_t counting_clock(void *ctx)
{
	(void)ctx;
	clock_reads++;
	return vnow;
}

static unsigned poller_calls;
static int poller_events;
static int count_poll(void *ctx, uint64_t now, int events)
{
	(void)ctx;
	(void)now;
	poller_calls++;
	poller_events += events;
	return 0;
}

/* RX frames the stack holds (not back on the fill ring or free) */
static uint64_t held(void)
{
	struct hxs_io_stats s;

	io->ops->get_stats(io, &s);
	return s.frames_held;
}

static void inject_to(uint16_t port, const char *payload)
{
	uint8_t f[2048];
	struct pkt_opts o = good(port, payload);

	/* on the link only: the turn under test takes it */
	CHECK_EQ(hxs_io_mem__inject(io, f, build(f, &o)), 0);
}

static void test_busy(void)
{
	char buf[64];
	int fd = udp_sock(7200, 1);
	unsigned c0, p0;

	t_case("busy loop: a turn that only queued a datagram returns it without a clock read, timers, pollers or flush");
	st->busy_poll = 1;
	hxs_stack__poll(st, 0);                 /* a full turn: nothing owed */
	c0 = clock_reads;
	p0 = poller_calls;
	poller_events = 0;
	inject_to(7200, "one");
	CHECK_EQ(hxs_stack__poll_again(st, 0), 1);
	CHECK_EQ(clock_reads, c0);
	CHECK_EQ(poller_calls, p0);
	CHECK_EQ(st->tail_owed, 1);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "one", 3));
	/* its frame goes back to the fill ring in the next turn, after the answer */
	CHECK_EQ(held(), 1);

	t_case("busy loop: the next lazy turn runs what was left even with nothing arrived; its pollers count the events returned before");
	CHECK_EQ(hxs_stack__poll_again(st, 0), 0);
	CHECK_EQ(clock_reads, c0 + 1);
	CHECK_EQ(poller_calls, p0 + 1);
	CHECK_EQ(poller_events, 1);
	CHECK_EQ(st->tail_owed, 0);
	CHECK_EQ(held(), 0);
	/* and the lazy turns after it are lazy again: no clock read for an empty ring */
	CHECK_EQ(hxs_stack__poll_again(st, 0), 0);
	CHECK_EQ(clock_reads, c0 + 1);

	t_case("busy loop under a flood (a datagram at every look): never two early returns in a row, the owed turn runs");
	c0 = clock_reads;
	p0 = poller_calls;
	inject_to(7200, "f1");
	CHECK_EQ(hxs_stack__poll_again(st, 0), 1);  /* early: returned at once */
	CHECK_EQ(clock_reads, c0);
	CHECK_EQ(st->tail_owed, 1);
	inject_to(7200, "f2");
	CHECK_EQ(hxs_stack__poll_again(st, 0), 1);  /* frames again: a whole turn all the same */
	CHECK_EQ(clock_reads, c0 + 1);
	CHECK_EQ(poller_calls, p0 + 1);
	CHECK_EQ(st->tail_owed, 0);
	inject_to(7200, "f3");
	CHECK_EQ(hxs_stack__poll_again(st, 0), 1);  /* and then early again */
	CHECK_EQ(clock_reads, c0 + 1);
	CHECK_EQ(st->tail_owed, 1);
	CHECK_EQ(hxs_stack__poll_again(st, 0), 0);  /* the tail */
	CHECK_EQ(clock_reads, c0 + 2);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 2);

	t_case("busy loop: a datagram to a closed port (ICMP port unreachable: a send, the time for its rate limit) gets a whole turn");
	{
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS);

		drain();
		c0 = clock_reads;
		p0 = poller_calls;
		inject_to(7299, "nobody");
		CHECK_EQ(hxs_stack__poll_again(st, 0), 1);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np + 1);
		CHECK_EQ(clock_reads, c0 + 1);
		CHECK_EQ(poller_calls, p0 + 1);
		CHECK_EQ(st->tail_owed, 0);
		CHECK_EQ(drain(), 1);           /* the ICMP error left in the same turn */
	}

	t_case("not busy: every turn is whole");
	st->busy_poll = 0;
	c0 = clock_reads;
	p0 = poller_calls;
	inject_to(7200, "two");
	CHECK_EQ(hxs_stack__poll_again(st, 0), 1);
	CHECK_EQ(clock_reads, c0 + 1);
	CHECK_EQ(poller_calls, p0 + 1);
	CHECK_EQ(st->tail_owed, 0);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 3);
	hxs_close(st, fd);
}

int main(void)
{
	struct hxs_poller p = { .poll = count_poll };

	if (udpfix_open() < 0)
		return t_done();
	t_case("a counting clock and poller");
	CHECK_EQ(hxs_stack__set_clock(st, counting_clock, NULL), 0);
	CHECK_EQ(hxs_stack__add_poller(st, &p), 0);
	test_busy();
	udpfix_close();
	return t_done();
}
