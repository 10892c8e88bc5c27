/* test_stack_clock.c - the stack's clock: a turn reads it once (every segment, timer and route
 * lookup of the turn sees that reading), and the clock cannot change under armed timers. A
 * busy loop that finds nothing reads it once per HXS_BUSY_LAZY + 1 looks at the ring (the
 * looks between are lazy turns: no clock, no pollers), and the waits of hxs_stack__poll()
 * and hxs_epoll_wait() take their timeout from the turns' readings, with none of their own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hxs/hxs.h"
#include "io/io.h"
#include "net/stack.h"
#include "open/stack_open.h"
#include "twostack.h"

static uint64_t vnow = 1000000;
static unsigned reads;
static uint64_t vclock(void *ctx) { reads++; return vnow; }

/* A clock that turns its own stack, as a test world might: each nested poll's answer. */
static struct hxs_stack *reenter_st;
static int reenter_calls, reenter_refused, reenter_other;
static uint64_t reentering_clock(void *ctx)
{
	if (reenter_st && !reenter_calls++) {
		int r = hxs_stack__poll(reenter_st, 0);
		reenter_refused += r == -EDEADLK;
		reenter_other += r != -EDEADLK;
	}
	return vnow;
}
static void on_timer(struct hxs_timer *t, uint64_t now) { (void)t; (void)now; }

/* A clock 100 us further on at every read, and a poller that counts the full turns. */
static uint64_t stepping_clock(void *ctx)
{
	uint64_t t = vnow;

	(void)ctx;
	reads++;
	vnow += 100;
	return t;
}
static unsigned polls, looks;
static const struct hxs_io_ops *real_ops;
static int counting_rx_burst(struct hxs_io *io, struct hxs_frame *f, int max)
{
	looks++;
	return real_ops->rx_burst(io, f, max);
}
static int count_poll(void *ctx, uint64_t now, int events)
{
	(void)ctx; (void)now; (void)events;
	polls++;
	return 0;
}

static const struct twostack_cfg two = {
	.ip_a = "10.0.0.1", .ip_b = "10.0.0.2", .mac_a = { 2, 0, 0, 0, 0, 1 },
	.mac_b = { 2, 0, 0, 0, 0, 2 }, .mtu = 1500, .frames = 256, .frame_size = 2048,
	.clock = vclock,
};

int main(void)
{
	struct twostack ts;
	struct hxs_stack *a, *b;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000) };
	struct hxs_timer t;
	char buf[4096];
	int one = 1, lfd, cfd, afd;

	t_case("two stacks on the in-memory link, virtual clock");
	CHECK_EQ(twostack_open(&ts, &two), 0);
	if (!ts.a || !ts.b)
		return t_done();
	a = ts.a;
	b = ts.b;
	sin.sin_addr.s_addr = ts.addr_b;

	t_case("set_clock: -EBUSY while a timer is armed, 0 once it is cancelled");
	hxs_timer__init(&t, on_timer);
	hxs_wheel__arm(&b->wheel, &t, vnow + 5000);
	CHECK_EQ(hxs_stack__set_clock(b, NULL, NULL), -EBUSY);
	CHECK_EQ(hxs_stack__now(b), vnow);      /* still the virtual clock */
	hxs_wheel__cancel(&b->wheel, &t);
	CHECK_EQ(hxs_stack__set_clock(b, NULL, NULL), 0);
	CHECK_EQ(hxs_stack__set_clock(b, vclock, NULL), 0);

	t_case("busy loop, nothing arriving, 1 ms timeout: 11 clock reads 100 us apart and 11 full turns (the first turn's reading starts the timeout; between full turns only lazy looks at the ring)");
	{
		struct hxs_poller p = { .poll = count_poll, .ctx = &polls };
		struct hxs_event ev[4];
		int ep;

		struct hxs_io_ops counting;

		CHECK_EQ(hxs_stack__add_poller(b, &p), 0);
		real_ops = b->io->ops;
		counting = *real_ops;
		counting.rx_burst = counting_rx_burst;
		b->io->ops = &counting;
		b->clock = stepping_clock;      /* only moves forward: the wheel is empty anyway */
		b->busy_poll = 1;
		reads = polls = looks = 0;
		CHECK_EQ(hxs_stack__poll(b, 1), 0);
		CHECK_EQ(reads, 11u);
		CHECK_EQ(polls, 11u);
		CHECK_EQ(looks, 1u + 10u * (HXS_BUSY_LAZY + 1));
		CHECK_EQ(b->lazy_turns, 0);

		t_case("hxs_epoll_wait on the busy loop, 1 ms: the same 11 readings, full turns and ring looks (its look and its wait are one busy loop), no read of its own");
		ep = hxs_epoll_create(b);
		CHECK(ep >= 0, "epoll %d", ep);
		reads = polls = looks = 0;
		CHECK_EQ(hxs_epoll_wait(b, ep, ev, 4, 1), 0);
		CHECK_EQ(reads, 11u);
		CHECK_EQ(polls, 11u);
		CHECK_EQ(looks, 1u + 10u * (HXS_BUSY_LAZY + 1));
		hxs_epoll_close(b, ep);
		b->io->ops = real_ops;
		b->busy_poll = 0;
		b->clock = vclock;
		hxs_stack__del_poller(b, &polls);
	}

	t_case("TCP connection between the stacks");
	lfd = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(b, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CHECK_EQ(hxs_listen(b, lfd, 8), 0);
	cfd = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_setsockopt(a, cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_connect(a, cfd, (struct sockaddr *)&sin, sizeof(sin)), -EINPROGRESS);
	twostack_pump(&ts, 8);
	afd = hxs_accept4(b, lfd, NULL, NULL, SOCK_NONBLOCK);
	CHECK(afd >= 0);

	t_case("a turn that takes in 6 segments reads the clock exactly once");
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 6; i++) {
		CHECK_EQ(hxs_send(a, cfd, buf, 100, 0), 100);
		hxs_stack__poll(a, 0);  /* a's turn puts the segment on the link */
	}
	reads = 0;
	int ev = hxs_stack__poll(b, 0);
	CHECK(ev >= 6);
	CHECK_EQ(reads, 1u);
	CHECK_EQ(hxs_recv(b, afd, buf, sizeof(buf), 0), 600);

	t_case("outside a turn the clock is read afresh");
	vnow += 123;
	reads = 0;
	CHECK_EQ(hxs_stack__now(b), vnow);
	CHECK_EQ(reads, 1u);

	t_case("a clock that polls its own stack from inside its turn is refused: -EDEADLK");
	{
		/* the same time as vclock: swapped under the wheel, whatever timers it holds */
		b->clock = reentering_clock;
		reenter_st = b;
		reenter_calls = 0;
		CHECK(hxs_stack__poll(b, 0) >= 0);
		CHECK_EQ(reenter_calls, 1);
		CHECK_EQ(reenter_refused, 1);
		CHECK_EQ(reenter_other, 0);
		CHECK_EQ(b->in_turn, 0);
		CHECK_EQ(b->turning, 0);
		reenter_st = NULL;
		b->clock = vclock;
		CHECK(hxs_stack__poll(b, 0) >= 0);      /* and the stack turns normally after */
	}

	hxs_close(a, cfd);
	hxs_close(b, afd);
	hxs_close(b, lfd);
	twostack_pump(&ts, 8);
	twostack_close(&ts);
	return t_done();
}
