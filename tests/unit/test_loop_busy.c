/* test_loop_busy.c - a busy loop's turn (loop.c stack_turn) that only queued datagrams for
 * sockets: it returns them without reading the clock, running the timers, the pollers or the
 * flush; the next turn runs those even when nothing arrived, and the pollers hear of the
 * events it returned, and never twice in a row (a flood); the returning turn's frames go back
 * to the fill ring in the next turn. A turn whose frames asked for the time or sent something
 * is whole.
 * A busy loop's wait with a timeout: HXS_BUSY_LAZY lazy looks between full turns.
 * One stack on the in-memory link (udp_fixture.h) set to busy-poll, a clock that counts its
 * reads, a poller that counts its calls, the io's rx_burst counted. */
#include <sys/epoll.h>

#include "udp_fixture.h"

static unsigned clock_reads;
static uint64_t clock_step;             /* us the clock moves at each read (0: it stands) */
static uint64_t counting_clock(void *ctx)
{
	(void)ctx;
	clock_reads++;
	vnow += clock_step;
	return vnow;
}

/* the looks at the RX ring: the io's rx_burst, counted */
static unsigned looks;
static const struct hxs_io_ops *real_ops;
static unsigned inject_at;              /* a datagram to port 7201 arrives at this look */
static void inject_to(uint16_t port, const char *payload);
static int count_rx_burst(struct hxs_io *i, struct hxs_frame *f, int max)
{
	if (++looks == inject_at) {
		const struct hxs_io_ops *ops = i->ops;

		i->ops = real_ops;              /* the link's own inject checks its ops */
		inject_to(7201, "w");
		i->ops = ops;
	}
	return real_ops->rx_burst(i, f, max);
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

/* A busy loop waiting with a timeout (stack_poll's busy branch): between two full turns
 * HXS_BUSY_LAZY lazy looks and nothing else (no clock read, no poller), the full turn's look
 * the sixteenth; the timeout counts from the turns' time, so it ends at the full turn that
 * reads it. */
static void test_busy_wait(void)
{
	struct hxs_io_ops ops;
	unsigned c0, p0;

	t_case("busy loop waiting 1 ms, nothing arriving: 15 lazy looks between full turns, the timeout at the tenth (clock +100 us a read)");
	st->busy_poll = 1;
	hxs_stack__poll(st, 0);                 /* a full turn: the lazy looks start over */
	real_ops = st->io->ops;
	ops = *real_ops;
	ops.rx_burst = count_rx_burst;
	st->io->ops = &ops;
	looks = 0;
	c0 = clock_reads;
	p0 = poller_calls;
	clock_step = 100;
	CHECK_EQ(hxs_stack__poll_again(st, 1), 0);
	CHECK_EQ(clock_reads - c0, 10u);        /* full turns at +100 .. +1000 us */
	CHECK_EQ(poller_calls - p0, 10u);
	CHECK_EQ(looks, 10u * (HXS_BUSY_LAZY + 1));

	t_case("busy loop waiting: a frame at a lazy look is taken by that look's turn (first look, fifth, the full turn's)");
	{
		static const unsigned at[] = { 1, 5, HXS_BUSY_LAZY + 1 };
		char buf[64];
		int fd = udp_sock(7201, 1);

		for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			hxs_stack__poll(st, 0);
			hxs_stack__poll(st, 0);         /* the tail of an early return, if any */
			looks = 0;
			inject_at = at[k];
			c0 = clock_reads;
			CHECK_EQ(hxs_stack__poll_again(st, 1), 1);
			CHECK_EQ(looks, at[k]);
			/* a datagram needs no time: even at the full turn's look it returns
			 * before the tail, with no clock read */
			CHECK_EQ(clock_reads, c0);
			CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 1);
		}
		inject_at = 0;
		hxs_close(st, fd);
	}
	st->io->ops = real_ops;
	clock_step = 0;
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
	test_busy_wait();
	udpfix_close();
	return t_done();
}
