/* test_stack_clock.c - the stack's clock: a turn reads it once (every segment, timer and route
 * lookup of the turn sees that reading), and the clock cannot change under armed timers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hxs/hxs.h"
#include "io/io.h"
#include "open/stack_open.h"

static uint64_t vnow = 1000000;
static unsigned reads;
static uint64_t vclock(void *ctx) { reads++; return vnow; }
static void on_timer(struct hxs_timer *t, uint64_t now) { (void)t; (void)now; }

static void pump(struct hxs_stack *a, struct hxs_stack *b)
{
	for (int i = 0; i < 8; i++) {
		hxs_stack__poll(a, 0);
		hxs_stack__poll(b, 0);
	}
}

int main(void)
{
	struct hxs_netif_static ca = { .addr = inet_addr("10.0.0.1"), .prefix_len = 24, .mtu = 1500, .n_neigh = 1 };
	struct hxs_netif_static cb = { .addr = inet_addr("10.0.0.2"), .prefix_len = 24, .mtu = 1500, .n_neigh = 1 };
	static const uint8_t ma[6] = { 2, 0, 0, 0, 0, 1 }, mb[6] = { 2, 0, 0, 0, 0, 2 };
	struct hxs_io *ioa, *iob;
	struct hxs_stack *a = NULL, *b = NULL;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000), .sin_addr.s_addr = cb.addr };
	struct hxs_timer t;
	char buf[4096];
	int one = 1, lfd, cfd, afd;

	memcpy(ca.mac, ma, 6);
	memcpy(cb.mac, mb, 6);
	ca.neigh[0].ip = cb.addr;
	memcpy(ca.neigh[0].mac, mb, 6);
	cb.neigh[0].ip = ca.addr;
	memcpy(cb.neigh[0].mac, ma, 6);

	t_case("two stacks on the in-memory link, virtual clock");
	CHECK_EQ(hxs_io_mem__pair(&ioa, &iob, 256, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&a, ioa, &ca), 0);
	CHECK_EQ(hxs_stack__open_io(&b, iob, &cb), 0);
	if (!a || !b)
		return t_done();
	CHECK_EQ(hxs_stack__set_clock(a, vclock, NULL), 0);
	CHECK_EQ(hxs_stack__set_clock(b, vclock, NULL), 0);

	t_case("set_clock: -EBUSY while a timer is armed, 0 once it is cancelled");
	hxs_timer__init(&t, on_timer);
	hxs_wheel__arm(&b->wheel, &t, vnow + 5000);
	CHECK_EQ(hxs_stack__set_clock(b, NULL, NULL), -EBUSY);
	CHECK_EQ(hxs_stack__now(b), vnow);      /* still the virtual clock */
	hxs_wheel__cancel(&b->wheel, &t);
	CHECK_EQ(hxs_stack__set_clock(b, NULL, NULL), 0);
	CHECK_EQ(hxs_stack__set_clock(b, vclock, NULL), 0);

	t_case("TCP connection between the stacks");
	lfd = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(b, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CHECK_EQ(hxs_listen(b, lfd, 8), 0);
	cfd = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_setsockopt(a, cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_connect(a, cfd, (struct sockaddr *)&sin, sizeof(sin)), -EINPROGRESS);
	pump(a, b);
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

	hxs_close(a, cfd);
	hxs_close(b, afd);
	hxs_close(b, lfd);
	pump(a, b);
	hxs_stack__close(a);
	hxs_stack__close(b);
	ioa->ops->close(ioa);
	iob->ops->close(iob);
	return t_done();
}
