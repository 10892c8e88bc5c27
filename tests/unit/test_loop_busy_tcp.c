/* test_loop_busy_tcp.c - a busy loop's turn (loop.c stack_turn) whose frames were TCP
 * messages' ends (tcp_sock.c tcp_input: data, no SYN/FIN/RST, shorter than a full-sized
 * segment) returns before its tail, as a turn of datagrams does (test_loop_busy.c): the
 * reader has the bytes at once, the next turn runs the timers, pollers and flush. A turn
 * that took a full-sized segment, a pure ACK or a FIN is whole, and so is every turn of a
 * loop that does not busy-poll.
 * Two whole stacks on the in-memory link (twostack.h), virtual time; B busy-polls. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "check.h"
#include "io/io.h"
#include "net/stack.h"
#include "sock/sock.h"
#include "open/stack_open.h"
#include "twostack.h"

#define IP_A "10.9.3.1"
#define IP_B "10.9.3.2"

static uint64_t vnow = 5000000;
static struct twostack world;
static struct hxs_stack *sa, *sb;

static uint64_t clock_fn(void *ctx)
{
	(void)ctx;
	return vnow;
}

static void steps(int n)
{
	for (int i = 0; i < n; i++) {
		twostack_pump(&world, 1);
		vnow += 100;
	}
}

/* A's turn sends what c holds; then one look of B's busy loop: its events. */
static int b_looks_after_a(void)
{
	hxs_stack__poll(sa, 0);
	return hxs_stack__poll_again(sb, 0);
}

/* B owes nothing: a whole turn, nothing on the link. */
static void b_settled(void)
{
	hxs_stack__poll(sb, 0);
	CHECK_EQ(sb->tail_owed, 0);
}

int main(void)
{
	static const struct twostack_cfg two = {
		.ip_a = IP_A, .ip_b = IP_B, .mac_a = { 2, 0, 0, 0, 9, 1 }, .mac_b = { 2, 0, 0, 0, 9, 2 },
		.frames = 256, .frame_size = 2048, .clock = clock_fn,
	};
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(7401),
				 .sin_addr.s_addr = inet_addr(IP_B) };
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(7401) };
	static char big[4000], got[4096];
	char msg[64];
	int l, c, s, one = 1, n;

	CHECK_EQ(twostack_open(&world, &two), 0);
	if (!world.a || !world.b)
		return t_done();
	sa = world.a;
	sb = world.b;
	memset(msg, 'm', sizeof(msg));
	memset(big, 'b', sizeof(big));

	l = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(sb, l, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_listen(sb, l, 4), 0);
	c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_setsockopt(sa, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	steps(20);
	s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	if (s < 0)
		return t_done();
	sb->busy_poll = 1;

	t_case("busy loop: a turn that took a 64-byte message returns it before its tail; the reader has it");
	b_settled();
	CHECK_EQ(hxs_send(sa, c, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	CHECK_EQ(b_looks_after_a(), 1);
	CHECK_EQ(sb->tail_owed, 1);
	CHECK_EQ(hxs_recv(sb, s, got, sizeof(got), 0), (ssize_t)sizeof(msg));

	t_case("busy loop: the next look runs the tail even with nothing arrived");
	hxs_stack__poll_again(sb, 0);
	CHECK_EQ(sb->tail_owed, 0);

	t_case("busy loop: the answer goes, the exchange repeats: each message's turn returns early");
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(hxs_send(sb, s, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
		steps(3);
		CHECK_EQ(hxs_recv(sa, c, got, sizeof(got), 0), (ssize_t)sizeof(msg));
		b_settled();
		CHECK_EQ(hxs_send(sa, c, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
		CHECK_EQ(b_looks_after_a(), 1);
		CHECK(sb->tail_owed == 1, "exchange %d", i);
		CHECK_EQ(hxs_recv(sb, s, got, sizeof(got), 0), (ssize_t)sizeof(msg));
	}

	t_case("busy loop: a turn with a full-sized segment is whole");
	b_settled();
	CHECK_EQ(hxs_send(sa, c, big, sizeof(big), 0), (ssize_t)sizeof(big));
	n = b_looks_after_a();
	CHECK(n >= 2, "events %d", n);
	CHECK_EQ(sb->tail_owed, 0);
	steps(20);
	n = 0;
	for (ssize_t r; (r = hxs_recv(sb, s, got, sizeof(got), 0)) > 0;)
		n += (int)r;
	CHECK_EQ(n, (int)sizeof(big));

	t_case("busy loop: a turn with a pure ACK the stack takes in (fast path off) is whole");
	hxs_stack__fastpath(sb, 0);         /* the XDP stand-in leaves ACKs to the stack */
	CHECK_EQ(hxs_send(sb, s, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	steps(1);
	hxs_stack__poll(sa, 0);             /* A takes the data; its ACK waits (delayed) */
	b_settled();
	vnow += 500000;                     /* A's delayed ACK is due */
	{
		uint64_t acks0 = 0, acks1 = 0;

		hxs_stack__counter(sa, "TcpOutSegs", &acks0);
		CHECK_EQ(b_looks_after_a(), 1);
		hxs_stack__counter(sa, "TcpOutSegs", &acks1);
		CHECK_EQ(acks1, acks0 + 1);
	}
	CHECK_EQ(sb->tail_owed, 0);
	CHECK_EQ(hxs_recv(sa, c, got, sizeof(got), 0), (ssize_t)sizeof(msg));
	hxs_stack__fastpath(sb, 1);

	t_case("not busy: a message's turn is whole");
	sb->busy_poll = 0;
	b_settled();
	CHECK_EQ(hxs_send(sa, c, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	CHECK_EQ(b_looks_after_a(), 1);
	CHECK_EQ(sb->tail_owed, 0);
	CHECK_EQ(hxs_recv(sb, s, got, sizeof(got), 0), (ssize_t)sizeof(msg));
	sb->busy_poll = 1;

	t_case("busy loop: an ACK due for short full-sized segments (peer MSS 1000) goes in the same turn");
	{
		int c2, s2, mss = 1000;
		uint64_t out0 = 0, out1 = 0;

		c2 = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_setsockopt(sa, c2, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
		CHECK_EQ(hxs_setsockopt(sa, c2, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_connect(sa, c2, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
		sb->busy_poll = 0;
		steps(20);
		s2 = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		CHECK(s2 >= 0, "accept %d", s2);
		sb->busy_poll = 1;
		/* B learns the peer's segment size (measure_ack_mss) from a first burst */
		CHECK_EQ(hxs_send(sa, c2, big, 4000, 0), 4000);
		steps(20);
		n = 0;
		for (ssize_t r; (r = hxs_recv(sb, s2, got, sizeof(got), 0)) > 0;)
			n += (int)r;
		CHECK_EQ(n, 4000);
		b_settled();
		/* 2 x 1000 bytes, each below our MTU's full size (so "message ends" to the loop),
		 * but full-sized for this peer: RFC 5681 §4.2's ACK is due, and B's reader does not
		 * answer */
		CHECK_EQ(hxs_send(sa, c2, big, 2000, 0), 2000);
		hxs_stack__counter(sb, "TcpOutSegs", &out0);
		n = b_looks_after_a();
		CHECK(n >= 2, "events %d", n);
		hxs_stack__counter(sb, "TcpOutSegs", &out1);
		CHECK_EQ(out1, out0 + 1);
		CHECK_EQ(sb->tail_owed, 0);
		n = 0;
		for (ssize_t r; (r = hxs_recv(sb, s2, got, sizeof(got), 0)) > 0;)
			n += (int)r;
		CHECK_EQ(n, 2000);
		CHECK_EQ(hxs_close(sa, c2), 0);
		CHECK_EQ(hxs_close(sb, s2), 0);
		steps(50);
	}

	t_case("busy loop: a turn with a FIN is whole");
	b_settled();
	CHECK_EQ(hxs_shutdown(sa, c, SHUT_WR), 0);
	CHECK_EQ(b_looks_after_a(), 1);
	CHECK_EQ(sb->tail_owed, 0);
	CHECK_EQ(hxs_recv(sb, s, got, sizeof(got), 0), 0);

	CHECK_EQ(hxs_close(sa, c), 0);
	CHECK_EQ(hxs_close(sb, s), 0);
	CHECK_EQ(hxs_close(sb, l), 0);
	steps(1000);
	twostack_close(&world);
	return t_done();
}
