/* test_tcp_sock.c - TCP sockets end to end through the public hxs_* API: two whole stacks
 * (hxs_stack__open_io) joined by the in-memory link, in virtual time.
 *
 * Covers: connect/accept and the kernel's connect errno sequence (EINPROGRESS, EALREADY, 0,
 * EISCONN; ECONNREFUSED then a fresh attempt), blocking connect/accept/send/recv, 1 MiB each
 * way byte-exact through writev/readv, shutdown half-close, close with unread data -> RST ->
 * ECONNRESET, SO_LINGER 0 -> RST, TCP_INFO, slow start's cwnd per RTT, socket options, epoll
 * (LT/ET, IN/OUT/RDHUP/HUP), listen backlog overflow, exact open/conn-map counters, and no
 * frame, connection or control-plane entry leaked at the end.
 *
 * A blocking call turns its own stack; the other one turns when the caller's stack reads the
 * clock (clock_fn), never the stack whose clock is read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "check.h"
#include "io/io.h"
#include "sock/sock.h"
#include "open/stack_open.h"
#include "twostack.h"

static uint64_t vnow = 5000000;
static int pumping, in_pump, pump_errors;
static struct twostack world;
static struct hxs_stack *sa, *sb;
static int tag_a, tag_b;            /* each stack's clock ctx: whose clock is read */

static uint32_t ip4(const char *s) { return inet_addr(s); }
#define IP_A "10.9.0.1"
#define IP_B "10.9.0.2"

/* One step of the world: both stacks turn, 100 us pass. */
static void step(void)
{
	in_pump = 1;
	twostack_pump(&world, 1);
	vnow += 100;
	in_pump = 0;
}

/* While `pumping` (a blocking call is under way), reading a stack's clock lets 100 us pass
 * and turns the other stack, so a blocking call on one stack (which turns its own loop on
 * the in-memory link) sees the other answer. Never the stack whose clock is read: that would
 * be a turn inside its own turn (hxs_stack__poll refuses it, -EDEADLK) or its blocking call. */
/* A send on A that a blocking call on B lets happen at a given time (sent from B's clock
 * read, when A is in no turn of its own). */
static struct { int fd; const void *buf; size_t len; uint64_t at; } later;

static uint64_t clock_fn(void *ctx)
{
	if (pumping && !in_pump && ctx == &tag_b && later.len && vnow >= later.at) {
		size_t n = later.len;

		later.len = 0;
		CHECK_EQ(hxs_send(sa, later.fd, later.buf, n, 0), (ssize_t)n);
	}
	if (pumping && !in_pump) {
		in_pump = 1;
		pump_errors += hxs_stack__poll(ctx == &tag_a ? sb : sa, 0) < 0;
		vnow += 100;
		in_pump = 0;
	}
	return vnow;
}

static void pump_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms * 10; i++)
		step();
}

static uint64_t ctr(struct hxs_stack *st, const char *name)
{
	uint64_t v = 0;

	CHECK((hxs_stack__counter(st, name, &v)) == (0), "%s", name);
	return v;
}

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip4(ip) };
	return a;
}

static int listener(struct hxs_stack *st, const char *ip, uint16_t port, int backlog)
{
	struct sockaddr_in a = sin_of(ip, port);
	int fd = hxs_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(fd >= 0, "socket %d", fd);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(hxs_listen(st, fd, backlog), 0);
	return fd;
}

/* A connected pair: *c on A (client), *s on B (accepted, non-blocking). */
static void connected_pair(uint16_t port, int *lfd, int *c, int *s)
{
	struct sockaddr_in b = sin_of(IP_B, port);

	*lfd = listener(sb, "0.0.0.0", port, 16);
	*c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(sa, *c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	pump_ms(5);
	*s = hxs_accept4(sb, *lfd, NULL, NULL, SOCK_NONBLOCK);
	CHECK(*s >= 0, "accept %d", *s);
	CHECK_EQ(hxs_connect(sa, *c, (struct sockaddr *)&b, sizeof(b)), 0);
}

static void test_connect_errnos(void)
{
	struct sockaddr_in b = sin_of(IP_B, 7001), name;
	socklen_t nl = sizeof(name);
	int l, c, s, err;
	char v8;

	t_case("non-blocking connect: EINPROGRESS, EALREADY, 0 once established, then EISCONN");
	l = listener(sb, IP_B, 7001, 8);
	c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EALREADY);
	CHECK_EQ(hxs_accept4(sb, l, NULL, NULL, 0), -EAGAIN);
	pump_ms(2);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EISCONN);
	s = hxs_accept4(sb, l, (struct sockaddr *)&name, &nl, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(name.sin_addr.s_addr, ip4(IP_A));

	t_case("getsockname/getpeername agree across the connection; ephemeral port in range");
	{
		struct sockaddr_in cl, cp, sl, sp;
		socklen_t n1 = sizeof(cl), n2 = sizeof(cp), n3 = sizeof(sl), n4 = sizeof(sp);

		CHECK_EQ(hxs_getsockname(sa, c, (struct sockaddr *)&cl, &n1), 0);
		CHECK_EQ(hxs_getpeername(sa, c, (struct sockaddr *)&cp, &n2), 0);
		CHECK_EQ(hxs_getsockname(sb, s, (struct sockaddr *)&sl, &n3), 0);
		CHECK_EQ(hxs_getpeername(sb, s, (struct sockaddr *)&sp, &n4), 0);
		CHECK_EQ(cl.sin_addr.s_addr, ip4(IP_A));
		CHECK_EQ(cp.sin_addr.s_addr, ip4(IP_B));
		CHECK_EQ(ntohs(cp.sin_port), 7001);
		CHECK_EQ(sl.sin_port, cp.sin_port);
		CHECK_EQ(sp.sin_port, cl.sin_port);
		CHECK(ntohs(cl.sin_port) >= sa->eph_lo && ntohs(cl.sin_port) <= sa->eph_hi, "port %u",
		      ntohs(cl.sin_port));
		CHECK_EQ(hxs_getpeername(sb, l, (struct sockaddr *)&sp, &n4), -ENOTCONN);
		CHECK_EQ(name.sin_port, cl.sin_port);
	}
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);

	t_case("connect to a port nobody listens on: EINPROGRESS, ECONNREFUSED, then a new attempt");
	b = sin_of(IP_B, 7002);
	c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	/* never connected: recv ENOTCONN, send EPIPE (the kernel's sk_stream_wait_connect) */
	CHECK_EQ(hxs_recv(sa, c, &v8, 1, 0), -ENOTCONN);
	CHECK_EQ(hxs_send(sa, c, "x", 1, 0), -EPIPE);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	pump_ms(2);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -ECONNREFUSED);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	pump_ms(2);
	{
		int v = -1;
		socklen_t vl = sizeof(v);

		CHECK_EQ(hxs_getsockopt(sa, c, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, ECONNREFUSED);
		v = -1;
		CHECK_EQ(hxs_getsockopt(sa, c, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, 0);
	}
	{
		/* inet_stream_connect: the attempt is over and SO_ERROR took its error, so the
		 * next connect says ECONNABORTED; the one after starts afresh on a new port */
		struct sockaddr_in n1, n2;
		socklen_t snl = sizeof(n1);

		CHECK_EQ(hxs_getsockname(sa, c, (struct sockaddr *)&n1, &snl), 0);
		CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -ECONNABORTED);
		CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
		snl = sizeof(n2);
		CHECK_EQ(hxs_getsockname(sa, c, (struct sockaddr *)&n2, &snl), 0);
		CHECK(n1.sin_port != n2.sin_port);
		pump_ms(2);
	}
	hxs_close(sa, c);

	t_case("blocking connect refused: ECONNREFUSED; blocking connect/accept/send/recv complete, send of 400 KiB whole");
	pumping = 1;
	c = hxs_socket(sa, AF_INET, SOCK_STREAM, 0);
	err = hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b));
	CHECK_EQ(err, -ECONNREFUSED);
	l = listener(sb, IP_B, 7002, 8);
	hxs_set_nonblock(sb, l, false);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EISCONN);
	s = hxs_accept(sb, l, NULL, NULL);
	CHECK(s >= 0, "accept %d", s);
	{
		char buf[16] = { 0 };

		CHECK_EQ(hxs_send(sa, c, "ping", 4, 0), 4);
		CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 4);
		CHECK(!memcmp(buf, "ping", 4));
	}
	{
		/* more than the send buffer: a blocking send waits for room and queues it all */
		enum { M = 400 << 10 };
		static uint8_t big[M], got[M];
		size_t have = 0;

		for (size_t i = 0; i < M; i++)
			big[i] = (uint8_t)(i * 7 + (i >> 9));
		CHECK_EQ(hxs_send(sa, c, big, M, 0), (ssize_t)M);
		while (have < M) {
			ssize_t r = hxs_recv(sb, s, got + have, M - have, 0);
			if (r <= 0)
				break;
			have += (size_t)r;
		}
		CHECK_EQ(have, (size_t)M);
		CHECK(!memcmp(big, got, M));
	}
	pumping = 0;
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);
}

static void test_bulk(void)
{
	enum { N = 1 << 20 };
	static uint8_t out[N], in[N], back[N];
	size_t sent = 0, got = 0, sent2 = 0, got2 = 0;
	int l, c, s;

	t_case("1 MiB each way at once through writev/readv, byte-exact");
	for (size_t i = 0; i < N; i++)
		out[i] = (uint8_t)(i * 2654435761u >> 13);
	connected_pair(7003, &l, &c, &s);
	for (int iter = 0; iter < 200000 && (got < N || got2 < N); iter++) {
		if (sent < N) {
			size_t k = N - sent, h = k / 3;
			struct iovec iov[2] = { { out + sent, h }, { out + sent + h, k - h } };
			ssize_t r = hxs_writev(sa, c, iov, 2);
			CHECK(r > 0 || r == -EAGAIN, "writev %zd", r);
			if (r > 0)
				sent += (size_t)r;
		}
		if (got < N) {
			size_t k = N - got, h = k < 1000 ? k : 1000;
			struct iovec iov[2] = { { in + got, h }, { in + got + h, k - h } };
			ssize_t r = hxs_readv(sb, s, iov, 2);
			CHECK(r > 0 || r == -EAGAIN, "readv %zd", r);
			if (r > 0)
				got += (size_t)r;
		}
		/* B echoes what it got so far back to A */
		if (sent2 < got) {
			ssize_t r = hxs_send(sb, s, in + sent2, got - sent2, 0);
			if (r > 0)
				sent2 += (size_t)r;
		}
		if (got2 < N) {
			ssize_t r = hxs_recv(sa, c, back + got2, N - got2, 0);
			if (r > 0)
				got2 += (size_t)r;
		}
		step();
	}
	CHECK_EQ(got, (size_t)N);
	CHECK_EQ(got2, (size_t)N);
	CHECK(!memcmp(out, in, N), "A->B differs");
	CHECK(!memcmp(out, back, N), "B->A differs");

	t_case("TCP_INFO after the transfer: established, MSS, RTT, cwnd, bytes acked/received");
	{
		struct hxs_tcp_info ti;
		socklen_t tl = sizeof(ti);

		CHECK_EQ(hxs_getsockopt(sa, c, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
		CHECK_EQ(tl, (socklen_t)sizeof(ti));
		CHECK_EQ(ti.state, TCP_ESTABLISHED);
		CHECK((ti.snd_mss) == (1448u), "with timestamps: 1460 - 12");
		CHECK(ti.rtt_us > 0 && ti.rtt_us < 100000, "rtt %u", ti.rtt_us);
		/* no loss, so slow start throughout (ssthresh still "infinite"); B acks every
		 * second segment, so no ACK covers more than L = 2*SMSS (RFC 3465 §2.2) and cwnd
		 * grows by every byte acked while it is in use. B's window (256 KiB receive buffer)
		 * caps the flight at 262144 bytes, and in slow start cwnd grows only while below
		 * twice the largest flight (RFC 7661, Linux's tcp_is_cwnd_limited()): it ends
		 * within one ACK's growth (2*SMSS) above 2 * 262144 - and far below IW + 1 MiB. */
		CHECK_EQ(ti.snd_ssthresh, 0x7fffffff);
		CHECK(ti.snd_cwnd * 1448u <= 2u * 262144 + 2 * 1448 &&
		      ti.snd_cwnd * 1448u >= 2u * (262144 - 4 * 1448), "cwnd %u segments", ti.snd_cwnd);
		CHECK_EQ(ti.bytes_acked, (uint64_t)N);
		CHECK_EQ(ti.bytes_received, (uint64_t)N);
		CHECK_EQ(ti.total_retrans, 0);
		CHECK(ti.segs_out >= N / 1448, "segs_out %llu", (unsigned long long)ti.segs_out);
		CHECK_EQ(ti.options, 7);         /* TCPI_OPT_TIMESTAMPS | SACK | WSCALE */
		CHECK_EQ(ti.snd_wscale, 3);      /* 256 KiB buffers: the smallest shift covering them */
		CHECK_EQ(ti.rcv_wscale, 3);
		CHECK_EQ(ti.advmss, 1448);
		CHECK_EQ(ti.pmtu, 1500);
		CHECK_EQ(ti.reordering, 3);
		CHECK_EQ(ti.ca_state, 0);
		CHECK_EQ(ti.backoff, 0);
		CHECK_EQ(ti.probes, 0);
		CHECK_EQ(ti.sacked, 0);
	}
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);
}

static struct hxs_tcp_info tinfo(struct hxs_stack *st, int fd)
{
	struct hxs_tcp_info ti;
	socklen_t tl = sizeof(ti);

	memset(&ti, 0xff, sizeof(ti));
	CHECK_EQ(hxs_getsockopt(st, fd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	return ti;
}

static void test_queues(void)
{
	static char out[400000], buf[1000];
	struct hxs_tcp_info tc, ts;
	ssize_t n;
	int l, c, s;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	connected_pair(7010, &l, &c, &s);

	t_case("TCP_INFO queues: 5000 bytes sent, peer not reading: snd_queue 0, rcv_queue 5000");
	CHECK_EQ(hxs_send(sa, c, out, 5000, 0), 5000);
	tc = tinfo(sa, c);
	CHECK_EQ(tc.snd_queue, 5000);         /* nothing acked yet */
	pump_ms(500);                        /* past the delayed ACK that releases Nagle's tail */
	tc = tinfo(sa, c);
	ts = tinfo(sb, s);
	CHECK_EQ(tc.snd_queue, 0);
	CHECK_EQ(tc.rcv_queue, 0);
	CHECK_EQ(ts.rcv_queue, 5000);
	CHECK_EQ(ts.snd_queue, 0);
	CHECK_EQ(hxs_recv(sb, s, buf, 1000, 0), 1000);
	CHECK_EQ(tinfo(sb, s).rcv_queue, 4000);

	t_case("TCP_INFO queues: peer's buffer full: what it holds + what waits here = what was sent");
	n = hxs_send(sa, c, out, sizeof(out), 0);
	CHECK(n > 0, "send %zd", n);
	pump_ms(200);
	tc = tinfo(sa, c);
	ts = tinfo(sb, s);
	CHECK(tc.snd_queue > 0, "snd_queue %u", tc.snd_queue);
	CHECK_EQ((uint64_t)ts.rcv_queue + tc.snd_queue, 4000 + (uint64_t)n);
	CHECK_EQ((uint64_t)tc.snd_queue, 5000 + (uint64_t)n - tc.bytes_acked);
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);
}

/* RFC 5681 §3.1 slow start with RFC 3465 byte counting (L = 2*SMSS): each round A writes
 * exactly cwnd full segments and waits until all are acked; B reads at once and acks every
 * second segment (RFC 5681 §4.2), so each ACK adds 2 segments and cwnd doubles per RTT. */
static void test_slow_start(void)
{
	static char out[1 << 18], sink[1 << 18];
	int l, c, s, one = 1;

	t_case("slow start: cwnd 10, 20, 40, 80, 160 after 0..4 RTTs; cwnd segments out, cwnd/2 ACKs back per RTT");
	connected_pair(7012, &l, &c, &s);
	CHECK_EQ(hxs_setsockopt(sa, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	for (uint32_t rtt = 0; rtt <= 4; rtt++) {
		struct hxs_tcp_info ta = tinfo(sa, c), tb = tinfo(sb, s), ta2, tb2;
		uint32_t n = ta.snd_cwnd * 1448;

		CHECK((ta.snd_cwnd) == (10u << rtt), "after %u RTTs: cwnd %u", rtt, ta.snd_cwnd);
		CHECK_EQ(ta.snd_ssthresh, 0x7fffffff);
		if (rtt == 4)
			break;
		CHECK_EQ(ta.snd_mss, 1448);
		CHECK(n <= tb.rcv_wnd, "round %u: %u bytes, B's window %u", rtt, n, tb.rcv_wnd);
		CHECK_EQ(hxs_send(sa, c, out, n, 0), (ssize_t)n);
		for (int k = 0; k < 1000 && (k == 0 || tinfo(sa, c).snd_queue); k++) {
			step();
			while (hxs_recv(sb, s, sink, sizeof(sink), 0) > 0)
				;
		}
		ta2 = tinfo(sa, c);
		tb2 = tinfo(sb, s);
		CHECK_EQ(ta2.snd_queue, 0);
		CHECK_EQ(tb2.segs_in - tb.segs_in, ta.snd_cwnd);
		CHECK_EQ(ta2.segs_in - ta.segs_in, ta.snd_cwnd / 2);
		CHECK_EQ(ta2.total_retrans, 0);
	}
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);
}

static void test_listener_close(void)
{
	struct sockaddr_in b = sin_of(IP_B, 7011), any = sin_of("0.0.0.0", 7011);
	char buf[64];
	int l, c, s, c2, l2, l3;

	connected_pair(7011, &l, &c, &s);

	t_case("listener closed with an accepted socket alive: the child still works both ways");
	CHECK_EQ(hxs_close(sb, l), 0);
	pump_ms(2);
	CHECK_EQ(hxs_send(sa, c, "ping", 4, 0), 4);
	pump_ms(5);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 4);
	CHECK_EQ(hxs_send(sb, s, "pong", 4, 0), 4);
	pump_ms(5);
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 4);
	CHECK(!memcmp(buf, "pong", 4));

	t_case("closed listener: new SYNs refused, the port stays held while the child lives");
	c2 = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(sa, c2, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	pump_ms(2);
	CHECK_EQ(hxs_connect(sa, c2, (struct sockaddr *)&b, sizeof(b)), -ECONNREFUSED);
	hxs_close(sa, c2);
	l2 = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(sb, l2, (struct sockaddr *)&any, sizeof(any)), -EADDRINUSE);

	t_case("the last child gone: the port is free again and a new listener serves it");
	hxs_close(sb, s);
	hxs_close(sa, c);
	pump_ms(5);
	CHECK_EQ(hxs_bind(sb, l2, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_listen(sb, l2, 4), 0);
	c2 = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(sa, c2, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	pump_ms(5);
	s = hxs_accept(sb, l2, NULL, NULL);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(hxs_connect(sa, c2, (struct sockaddr *)&b, sizeof(b)), 0);

	t_case("listener closed first again: its port goes with its last child (ASan: nothing leaks)");
	CHECK_EQ(hxs_close(sb, l2), 0);
	l3 = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(sb, l3, (struct sockaddr *)&any, sizeof(any)), -EADDRINUSE);
	hxs_close(sb, s);
	hxs_close(sa, c2);
	pump_ms(5);
	CHECK_EQ(hxs_bind(sb, l3, (struct sockaddr *)&any, sizeof(any)), 0);
	hxs_close(sb, l3);
}

static void test_shutdown_close(void)
{
	char buf[64];
	int l, c, s;
	uint64_t before;

	t_case("shutdown(SHUT_WR): peer reads EOF, the other direction still flows, then both close");
	connected_pair(7004, &l, &c, &s);
	CHECK_EQ(hxs_send(sa, c, "last", 4, 0), 4);
	CHECK_EQ(hxs_shutdown(sa, c, SHUT_WR), 0);
	CHECK_EQ(hxs_send(sa, c, "x", 1, 0), -EPIPE);
	pump_ms(2);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 4);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 0);
	CHECK_EQ(hxs_send(sb, s, "reply", 5, 0), 5);
	pump_ms(2);
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 5);
	CHECK(!memcmp(buf, "reply", 5));
	CHECK_EQ(hxs_close(sb, s), 0);
	pump_ms(2);
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 0);
	hxs_close(sa, c);

	t_case("close with unread data sends RST: the peer's recv says ECONNRESET, then EOF");
	before = ctr(sb, "TCPAbortOnClose");
	s = -1;
	{
		struct sockaddr_in b = sin_of(IP_B, 7004);

		c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
		pump_ms(2);
		s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		CHECK(s >= 0);
	}
	CHECK_EQ(hxs_send(sa, c, "unread", 6, 0), 6);
	pump_ms(2);
	CHECK_EQ(hxs_close(sb, s), 0);
	pump_ms(2);
	CHECK_EQ(ctr(sb, "TCPAbortOnClose"), before + 1);
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), -ECONNRESET);
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 0);
	CHECK_EQ(hxs_send(sa, c, "x", 1, 0), -EPIPE);
	hxs_close(sa, c);

	t_case("SO_LINGER {1, 0}: close sends RST at once (no FIN, no TIME_WAIT)");
	{
		struct sockaddr_in b = sin_of(IP_B, 7004);
		struct linger lg = { 1, 0 }, lg2;
		socklen_t ll = sizeof(lg2);

		c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_setsockopt(sa, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
		CHECK_EQ(hxs_getsockopt(sa, c, SOL_SOCKET, SO_LINGER, &lg2, &ll), 0);
		CHECK_EQ(lg2.l_onoff, 1);
		CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
		pump_ms(2);
		s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		CHECK(s >= 0);
		before = ctr(sa, "TCPAbortOnLinger");
		CHECK_EQ(hxs_close(sa, c), 0);
		CHECK_EQ(ctr(sa, "TCPAbortOnLinger"), before + 1);
		pump_ms(2);
		CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), -ECONNRESET);
		hxs_close(sb, s);
	}
	hxs_close(sb, l);
	pump_ms(5);
}

/* tcp_recvmsg()'s waiting: SO_RCVLOWAT and MSG_WAITALL on blocking reads, MSG_TRUNC discards */
static void test_recv_target(void)
{
	uint8_t a60[60], b60[60], buf[256];
	int l, c, s, v;
	struct timeval tv = { 0, 10000 };

	memset(a60, 'a', sizeof(a60));
	memset(b60, 'b', sizeof(b60));
	t_case("SO_RCVLOWAT 100, blocking read: 60 bytes come, 60 more 50 ms later: one read of all 120, byte-exact");
	connected_pair(7010, &l, &c, &s);
	v = 1;
	CHECK_EQ(hxs_setsockopt(sa, c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
	v = 100;
	CHECK_EQ(hxs_setsockopt(sb, s, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
	hxs_set_nonblock(sb, s, false);
	CHECK_EQ(hxs_send(sa, c, a60, 60, 0), 60);
	pump_ms(1);
	CHECK_EQ(hxs_poll_events(sb, s) & EPOLLIN, 0);   /* 60 < 100: not readable */
	later.fd = c;
	later.buf = b60;
	later.len = 60;
	later.at = vnow + 50000;
	pumping = 1;
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 120);
	pumping = 0;
	CHECK(vnow >= later.at);
	CHECK(!memcmp(buf, a60, 60) && !memcmp(buf + 60, b60, 60));

	t_case("SO_RCVLOWAT with SO_RCVTIMEO 10 ms: 50 bytes, the timeout returns them (not EAGAIN); MSG_DONTWAIT returns what there is");
	CHECK_EQ(hxs_setsockopt(sb, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(hxs_send(sa, c, a60, 50, 0), 50);
	pump_ms(1);
	pumping = 1;
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 50);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), -EAGAIN);    /* nothing came in 10 ms */
	pumping = 0;
	CHECK_EQ(hxs_send(sa, c, b60, 30, 0), 30);
	pump_ms(1);
	CHECK_EQ(hxs_poll_events(sb, s) & EPOLLIN, 0);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), MSG_DONTWAIT), 30);
	CHECK(!memcmp(buf, b60, 30));

	v = 1;
	CHECK_EQ(hxs_setsockopt(sb, s, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
	t_case("MSG_TRUNC on a stream discards: 4 bytes taken, the buffer untouched; PEEK|TRUNC counts; the rest reads 456789");
	CHECK_EQ(hxs_send(sa, c, "0123456789", 10, 0), 10);
	pump_ms(1);
	memset(buf, 'z', sizeof(buf));
	CHECK_EQ(hxs_recv(sb, s, buf, 4, MSG_TRUNC), 4);
	CHECK_EQ(buf[0], 'z');
	CHECK_EQ(hxs_recv(sb, s, buf, 100, MSG_PEEK | MSG_TRUNC), 6);
	CHECK_EQ(buf[0], 'z');
	CHECK_EQ(hxs_recv(sb, s, buf, 100, 0), 6);
	CHECK(!memcmp(buf, "456789", 6));

	t_case("MSG_WAITALL: waits for the whole length across segments; the end of the stream ends it with what came (30)");
	tv.tv_usec = 0;
	CHECK_EQ(hxs_setsockopt(sb, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(hxs_send(sa, c, a60, 60, 0), 60);
	pump_ms(1);
	later.len = 60;
	later.at = vnow + 20000;
	pumping = 1;
	CHECK_EQ(hxs_recv(sb, s, buf, 120, MSG_WAITALL), 120);
	CHECK(vnow >= later.at);
	CHECK(!memcmp(buf, a60, 60) && !memcmp(buf + 60, b60, 60));
	pumping = 0;
	CHECK_EQ(hxs_send(sa, c, a60, 30, 0), 30);
	CHECK_EQ(hxs_shutdown(sa, c, SHUT_WR), 0);
	pumping = 1;
	CHECK_EQ(hxs_recv(sb, s, buf, 100, MSG_WAITALL), 30);
	CHECK_EQ(hxs_recv(sb, s, buf, 100, MSG_WAITALL), 0);
	pumping = 0;
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);
}

static void test_options(void)
{
	int c, v;
	socklen_t vl = sizeof(v);

	t_case("socket options: NODELAY, KEEPALIVE + KEEPIDLE/INTVL/CNT, MAXSEG, REUSEADDR, buffers");
	c = hxs_socket(sa, AF_INET, SOCK_STREAM, 0);
#define SETGET(lvl, name, val) do {                                                  \
		v = (val);                                                           \
		CHECK((hxs_setsockopt(sa, c, lvl, name, &v, sizeof(v))) == (0), #name);  \
		v = -1; vl = sizeof(v);                                              \
		CHECK((hxs_getsockopt(sa, c, lvl, name, &v, &vl)) == (0), #name);        \
		CHECK((v) == ((val)), #name);                                           \
	} while (0)
	SETGET(IPPROTO_TCP, TCP_NODELAY, 1);
	SETGET(SOL_SOCKET, SO_KEEPALIVE, 1);
	SETGET(IPPROTO_TCP, TCP_KEEPIDLE, 30);
	SETGET(IPPROTO_TCP, TCP_KEEPINTVL, 5);
	SETGET(IPPROTO_TCP, TCP_KEEPCNT, 3);
	SETGET(IPPROTO_TCP, TCP_MAXSEG, 1000);
	SETGET(SOL_SOCKET, SO_REUSEADDR, 1);
#undef SETGET
	v = 0;
	CHECK_EQ(hxs_setsockopt(sa, c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), -EINVAL);
	v = 65536;
	CHECK_EQ(hxs_setsockopt(sa, c, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	vl = sizeof(v);
	CHECK_EQ(hxs_getsockopt(sa, c, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	CHECK((v) == (131072), "doubled like Linux");
	CHECK_EQ(hxs_getsockopt(sa, c, IPPROTO_TCP, 9999, &v, &vl), -ENOPROTOOPT);
	hxs_close(sa, c);
}

static void test_epoll(void)
{
	struct hxs_event ev[8];
	struct hxs_event e;
	int ep, et, l, c, s, n;
	char buf[64];

	t_case("epoll level-triggered: EPOLLOUT idle, EPOLLIN while unread, RDHUP on FIN, HUP at the end");
	connected_pair(7005, &l, &c, &s);
	ep = hxs_epoll_create(sb);
	e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	e.data = 1;
	CHECK_EQ(hxs_epoll_ctl(sb, ep, EPOLL_CTL_ADD, s, &e), 0);
	n = hxs_epoll_wait(sb, ep, ev, 8, 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(ev[0].events, (uint32_t)EPOLLOUT);
	CHECK_EQ(hxs_send(sa, c, "abc", 3, 0), 3);
	pump_ms(2);
	n = hxs_epoll_wait(sb, ep, ev, 8, 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(ev[0].events, (uint32_t)(EPOLLIN | EPOLLOUT));
	n = hxs_epoll_wait(sb, ep, ev, 8, 0);
	CHECK(n == 1 && (ev[0].events & EPOLLIN), "level: reported again while unread");
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 3);
	n = hxs_epoll_wait(sb, ep, ev, 8, 0);
	CHECK(n == 1 && ev[0].events == EPOLLOUT, "events %x", n ? ev[0].events : 0);

	t_case("epoll edge-triggered: one report per new arrival");
	et = hxs_epoll_create(sb);
	e.events = EPOLLIN | EPOLLET;
	e.data = 2;
	CHECK_EQ(hxs_epoll_ctl(sb, et, EPOLL_CTL_ADD, s, &e), 0);
	CHECK_EQ(hxs_send(sa, c, "de", 2, 0), 2);
	pump_ms(2);
	n = hxs_epoll_wait(sb, et, ev, 8, 0);
	CHECK(n == 1 && ev[0].data == 2 && (ev[0].events & EPOLLIN));
	CHECK((hxs_epoll_wait(sb, et, ev, 8, 0)) == (0), "not again without new data");
	CHECK_EQ(hxs_send(sa, c, "f", 1, 0), 1);
	pump_ms(50);     /* Nagle holds "f" until "de" is acked (B's delayed ACK) */
	CHECK((hxs_epoll_wait(sb, et, ev, 8, 0)) == (1), "new data: reported again");
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 3);

	t_case("epoll: peer FIN gives EPOLLIN|EPOLLRDHUP; both directions shut gives EPOLLHUP");
	CHECK_EQ(hxs_shutdown(sa, c, SHUT_WR), 0);
	pump_ms(2);
	n = hxs_epoll_wait(sb, ep, ev, 8, 0);
	CHECK(n == 1 && (ev[0].events & (EPOLLIN | EPOLLRDHUP)) == (EPOLLIN | EPOLLRDHUP) &&
	      !(ev[0].events & EPOLLHUP), "events %x", n ? ev[0].events : 0);
	CHECK_EQ(hxs_shutdown(sb, s, SHUT_WR), 0);
	pump_ms(2);
	n = hxs_epoll_wait(sb, ep, ev, 8, 0);
	CHECK(n == 1 && (ev[0].events & EPOLLHUP), "events %x", n ? ev[0].events : 0);

	t_case("epoll: RST from the peer gives EPOLLERR|EPOLLHUP and SO_ERROR ECONNRESET");
	{
		int l2, c2, s2, v = 0;
		socklen_t vl = sizeof(v);
		struct linger lg = { 1, 0 };

		hxs_close(sb, l);
		connected_pair(7006, &l2, &c2, &s2);
		e.events = EPOLLIN;
		e.data = 3;
		CHECK_EQ(hxs_epoll_ctl(sb, ep, EPOLL_CTL_ADD, s2, &e), 0);
		CHECK_EQ(hxs_setsockopt(sa, c2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
		hxs_close(sa, c2);
		pump_ms(2);
		n = hxs_epoll_wait(sb, ep, ev, 8, 0);
		int found = 0;
		for (int i = 0; i < n; i++)
			if (ev[i].data == 3)
				found = (ev[i].events & (EPOLLERR | EPOLLHUP)) == (EPOLLERR | EPOLLHUP);
		CHECK(found, "n %d", n);
		CHECK_EQ(hxs_getsockopt(sb, s2, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, ECONNRESET);
		hxs_close(sb, s2);
		hxs_close(sb, l2);
	}
	hxs_epoll_close(sb, ep);
	hxs_epoll_close(sb, et);
	hxs_close(sa, c);
	hxs_close(sb, s);
	pump_ms(5);
}

static uint64_t tx_frames(struct hxs_io *io)
{
	struct hxs_io_stats s;

	io->ops->get_stats(io, &s);
	return s.tx_frames;
}

static int wakes;                  /* an epoll instance's ready list stopped being empty */
static void count_wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

/* A send on an idle connection leaves its segment waiting for the application's next
 * hxs_epoll_wait() or stream read (tcp_sock.c push_later): the read sends it, before it
 * looks for data, with no turn of the stack; writes before the read go in the same
 * segment. */
static void test_push_on_recv(void)
{
	int l, c, s;
	uint64_t tx0;
	char buf[64];

	t_case("push on recv: an idle connection's writes leave, as one segment, at the next read");
	connected_pair(7014, &l, &c, &s);
	pump_ms(5);
	tx0 = tx_frames(world.ia);
	CHECK_EQ(hxs_send(sa, c, "ping", 4, 0), 4);
	CHECK_EQ(hxs_send(sa, c, "pong", 4, 0), 4);
	CHECK_EQ(tx_frames(world.ia), tx0);              /* waiting for the read or the event loop */
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(tx_frames(world.ia), tx0 + 1);          /* one segment, sent by the read */
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(tx_frames(world.ia), tx0 + 1);          /* nothing more was waiting */
	twostack_pump(&world, 1);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 8);
	CHECK(!memcmp(buf, "pingpong", 8), "bytes");

	t_case("push on recv: the answer waits for the event loop when no read follows (the turn sends it)");
	tx0 = tx_frames(world.ib);
	CHECK_EQ(hxs_send(sb, s, "ok", 2, 0), 2);
	CHECK_EQ(tx_frames(world.ib), tx0);
	pump_ms(1);
	CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 2);
	CHECK(!memcmp(buf, "ok", 2), "bytes");

	t_case("epoll wake from the core's readiness: SO_RCVLOWAT still keeps a short read from queueing the item");
	{
		struct hxs_event ev[4];
		struct hxs_event e = { .events = EPOLLIN | EPOLLET, .data = 9 };
		char big[120];
		int ep = hxs_epoll_create(sb), v = 100;

		memset(big, 'x', sizeof(big));
		wakes = 0;
		CHECK_EQ(hxs_epoll_ctl(sb, ep, EPOLL_CTL_ADD, s, &e), 0);
		CHECK_EQ(hxs_epoll__set_notify(sb, ep, count_wake, NULL), 0);
		CHECK_EQ(hxs_setsockopt(sb, s, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
		CHECK_EQ(hxs_send(sa, c, big, 60, 0), 60);
		pump_ms(50);
		CHECK_EQ(wakes, 0);                     /* 60 < SO_RCVLOWAT: not readable */
		CHECK_EQ(hxs_epoll_wait(sb, ep, ev, 4, 0), 0);
		CHECK_EQ(hxs_send(sa, c, big, 60, 0), 60);
		pump_ms(50);
		CHECK_EQ(wakes, 1);
		CHECK_EQ(hxs_epoll_wait(sb, ep, ev, 4, 0), 1);
		CHECK(ev[0].data == 9 && ev[0].events == EPOLLIN, "events %x", ev[0].events);
		CHECK_EQ(hxs_recv(sb, s, big, sizeof(big), 0), 120);
		v = 1;
		CHECK_EQ(hxs_setsockopt(sb, s, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
		CHECK_EQ(hxs_send(sa, c, "y", 1, 0), 1);
		pump_ms(50);
		CHECK_EQ(wakes, 2);                     /* one byte: readable (the core's mask) */
		CHECK_EQ(hxs_epoll_wait(sb, ep, ev, 4, 0), 1);
		CHECK(ev[0].data == 9 && ev[0].events == EPOLLIN, "events %x", ev[0].events);
		CHECK_EQ(hxs_recv(sb, s, big, sizeof(big), 0), 1);
		CHECK_EQ(hxs_epoll_wait(sb, ep, ev, 4, 0), 0);
		hxs_epoll_close(sb, ep);
	}
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	pump_ms(5);
}

/* hxs_iov_len(): the one-buffer case inline, the rest in the loop; the same answers */
static void test_iov_len(void)
{
	char b[8];
	struct iovec one = { b, 5 }, huge = { b, (size_t)SSIZE_MAX + 1 };
	struct iovec two[2] = { { b, 3 }, { b, 4 } };
	struct iovec over[2] = { { b, (size_t)SSIZE_MAX }, { b, 1 } };
	struct iovec empty = { b, 0 };

	t_case("hxs_iov_len: one buffer, several, none, an empty one; -EINVAL beyond SSIZE_MAX or a negative count");
	CHECK_EQ(hxs_iov_len(&one, 1), 5);
	CHECK_EQ(hxs_iov_len(&empty, 1), 0);
	CHECK_EQ(hxs_iov_len(two, 2), 7);
	CHECK_EQ(hxs_iov_len(two, 0), 0);
	CHECK_EQ(hxs_iov_len(&huge, 1), -EINVAL);
	CHECK_EQ(hxs_iov_len(over, 2), -EINVAL);
	CHECK_EQ(hxs_iov_len(two, -1), -EINVAL);
	CHECK_EQ(hxs_iov_len_any(&one, 1), 5);
	CHECK_EQ(hxs_iov_len_any(&huge, 1), -EINVAL);
}

/* hxs_sock__sa_out(): an AF_INET6 socket's address with its scope (fe80::/10 only), whole or
 * cut to the caller's room; an AF_INET socket's as sockaddr_in */
static void test_sa_out(void)
{
	struct hxs_sock k6 = { .st = sa, .family = AF_INET6 }, k4 = { .st = sa, .family = AF_INET };
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(4242) }, o;
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 0, 2 };
	static const uint8_t ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t site[16] = { 0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct sockaddr_in o4;
	socklen_t len;
	uint8_t raw[sizeof(o)];

	t_case("sa_out: AF_INET6 whole (scope only for fe80::/10), cut to a short room; AF_INET as sockaddr_in");
	memcpy(&a.sin6_addr, mapped, 16);
	a.sin6_scope_id = 99;                   /* not the protocol's to say: recomputed */
	len = sizeof(o);
	memset(&o, 0xaa, sizeof(o));
	CHECK_EQ(hxs_sock__sa_out(&k6, &a, (struct sockaddr *)&o, &len), 0);
	CHECK_EQ(len, (socklen_t)sizeof(o));
	CHECK(o.sin6_family == AF_INET6 && o.sin6_port == htons(4242) && o.sin6_flowinfo == 0 &&
	      !memcmp(&o.sin6_addr, mapped, 16) && o.sin6_scope_id == 0, "mapped");
	memcpy(&a.sin6_addr, ll, 16);
	CHECK_EQ(hxs_sock__sa_out(&k6, &a, (struct sockaddr *)&o, &len), 0);
	CHECK(o.sin6_scope_id != 0 && o.sin6_scope_id == hxs_sock__scope(sa, hxs_addr6(ll)),
	      "link-local scope %u", o.sin6_scope_id);
	memcpy(&a.sin6_addr, site, 16);
	CHECK_EQ(hxs_sock__sa_out(&k6, &a, (struct sockaddr *)&o, &len), 0);
	CHECK_EQ(o.sin6_scope_id, 0u);
	len = 10;
	memset(raw, 0xaa, sizeof(raw));
	CHECK_EQ(hxs_sock__sa_out(&k6, &a, (struct sockaddr *)raw, &len), 0);
	CHECK_EQ(len, (socklen_t)sizeof(o));    /* the whole size, as the kernel says */
	CHECK(raw[0] == (AF_INET6 & 0xff) && raw[2] == (4242 >> 8) && raw[3] == (4242 & 0xff) &&
	      raw[4] == 0 && raw[7] == 0 && raw[8] == 0xfe && raw[9] == 0xc0 && raw[10] == 0xaa &&
	      raw[27] == 0xaa, "cut at 10");
	memcpy(&a.sin6_addr, mapped, 16);
	len = sizeof(o4);
	CHECK_EQ(hxs_sock__sa_out(&k4, &a, (struct sockaddr *)&o4, &len), 0);
	CHECK(len == sizeof(o4) && o4.sin_family == AF_INET && o4.sin_port == htons(4242) &&
	      o4.sin_addr.s_addr == ip4(IP_B), "v4");

	t_case("sa_in: a whole sockaddr_in6 as it is, the RFC 2133 length without its scope; AF_INET mapped or refused");
	memcpy(&a.sin6_addr, ll, 16);
	a.sin6_flowinfo = htonl(5);
	a.sin6_scope_id = 7;
	memset(&o, 0xaa, sizeof(o));
	CHECK_EQ(hxs_sock__sa_in(&k6, (struct sockaddr *)&a, sizeof(a), &o), 0);
	CHECK(!memcmp(&o, &a, sizeof(a)), "whole");
	memset(&o, 0xaa, sizeof(o));
	CHECK_EQ(hxs_sock__sa_in(&k6, (struct sockaddr *)&a, 24, &o), 0);
	CHECK(!memcmp(&o, &a, 24) && o.sin6_scope_id == 0, "24 bytes, scope %u", o.sin6_scope_id);
	CHECK_EQ(hxs_sock__sa_in(&k6, (struct sockaddr *)&a, 23, &o), -EINVAL);
	o4.sin_family = AF_INET;
	CHECK_EQ(hxs_sock__sa_in(&k6, (struct sockaddr *)&o4, sizeof(o4), &o), -EAFNOSUPPORT);
	memset(&o, 0xaa, sizeof(o));
	CHECK_EQ(hxs_sock__sa_in(&k4, (struct sockaddr *)&o4, sizeof(o4), &o), 0);
	CHECK(o.sin6_family == AF_INET6 && o.sin6_port == htons(4242) && o.sin6_flowinfo == 0 &&
	      !memcmp(&o.sin6_addr, mapped, 16) && o.sin6_scope_id == 0, "v4 mapped");
	CHECK_EQ(hxs_sock__sa_in(&k6, (struct sockaddr *)&a, sizeof(a), &o), 0);
	CHECK_EQ(hxs_sock__sa_in(&k4, NULL, sizeof(a), &o), -EINVAL);
}

static void test_backlog(void)
{
	struct sockaddr_in b = sin_of(IP_B, 7007);
	int l, c[4], s[4], n = 0;
	uint64_t ov = ctr(sb, "ListenOverflows"), drops = ctr(sb, "ListenDrops");

	t_case("listen backlog 1: 4 clients, 2 queued (backlog + 1, as the kernel), the rest wait in SYN-SENT (ListenDrops)");
	l = listener(sb, IP_B, 7007, 1);
	for (int i = 0; i < 4; i++) {
		c[i] = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(sa, c[i], (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	}
	pump_ms(50);
	while (n < 4 && (s[n] = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		n++;
	CHECK_EQ(n, 2);
	CHECK(ctr(sb, "ListenOverflows") + ctr(sb, "ListenDrops") > ov + drops);
	{
		int waiting = 0;
		for (int i = 0; i < 4; i++)
			waiting += hxs_connect(sa, c[i], (struct sockaddr *)&b, sizeof(b)) == -EALREADY;
		CHECK_EQ(waiting, 2);
	}
	t_case("listen backlog: queued SYNs are retried and accepted once there is room");
	pump_ms(3500);   /* SYN retransmission (1 s, then 2 s) */
	while (n < 4 && (s[n] = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		n++;
	CHECK_EQ(n, 4);
	for (int i = 0; i < 4; i++)
		hxs_close(sa, c[i]);
	for (int i = 0; i < n; i++)
		hxs_close(sb, s[i]);
	hxs_close(sb, l);
	pump_ms(5);
}

/* The cases below narrow A's ephemeral range to a few ports and count on nothing else holding
 * them. The earlier cases' connections drew their ports from the stack's range at random
 * (RFC 6056 Algorithm 4 under a getrandom() key) and some still linger (FIN_WAIT, TIME_WAIT)
 * when these run: a narrow range inside the stack's range held one of them about once in
 * 100 runs (the connects found it taken, or recycled that TIME_WAIT instead of their own).
 * So the narrow ranges lie outside it, where no earlier case took a port. */
static void narrow_ports(uint16_t lo, uint16_t hi)
{
	CHECK(hi < sa->eph_lo || lo > sa->eph_hi, "ports %u-%u inside the range %u-%u", lo, hi,
	      sa->eph_lo, sa->eph_hi);
	CHECK_EQ(hxs_stack__set_port_range(sa, lo, hi), 0);
}

static void test_tw_reuse(void)
{
	struct sockaddr_in b = sin_of(IP_B, 7008);
	int l, c, s, err;
	uint16_t lo = sa->eph_lo, hi = sa->eph_hi;
	uint64_t lingering = ctr(sa, "HxsTcpLingerSockets"), recycled = ctr(sa, "HxsTcpTwRecycled");
	char buf[8];

	t_case("ephemeral ports held by TIME_WAIT: EADDRNOTAVAIL, then the oldest (>= 1 s) is reused");
	narrow_ports(60000, 60002);
	l = listener(sb, IP_B, 7008, 8);
	for (int i = 0; i < 3; i++) {
		c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
		pump_ms(2);
		s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		CHECK(s >= 0);
		CHECK_EQ(hxs_close(sa, c), 0);          /* A closes first: A keeps TIME_WAIT */
		pump_ms(2);
		CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 0);
		CHECK_EQ(hxs_close(sb, s), 0);
		pump_ms(2);
	}
	CHECK_EQ(ctr(sa, "HxsTcpLingerSockets"), lingering + 3);
	c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EADDRNOTAVAIL);
	pump_ms(1000);
	err = hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b));
	CHECK_EQ(err, -EINPROGRESS);
	CHECK_EQ(ctr(sa, "HxsTcpTwRecycled"), recycled + 1);
	CHECK_EQ(ctr(sa, "HxsTcpLingerSockets"), lingering + 2);
	pump_ms(2);
	s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(hxs_send(sa, c, "tw", 2, 0), 2);
	pump_ms(2);
	CHECK_EQ(hxs_recv(sb, s, buf, sizeof(buf), 0), 2);
	hxs_close(sa, c);
	hxs_close(sb, s);
	hxs_close(sb, l);
	hxs_stack__set_port_range(sa, lo, hi);
	pump_ms(5);
}

/* The peer holds TIME_WAIT for the 4-tuple (it closed first) and A connects again from the
 * same port: the peer reopens it only if A's timestamps are newer (RFC 6191), so they must
 * grow across connections between the same hosts (a per host-pair offset, like Linux's). */
static void test_tw_peer_reuse(void)
{
	struct sockaddr_in b = sin_of(IP_B, 7009);
	uint16_t lo = sa->eph_lo, hi = sa->eph_hi;
	uint64_t reuse = ctr(sb, "TCPTimeWaitReuse");
	int l, c, s, quick = 0;
	char buf[8];

	t_case("same 4-tuple again while the peer is in TIME_WAIT: reopened at once, 20 times");
	narrow_ports(60010, 60010);
	l = listener(sb, IP_B, 7009, 8);
	for (int i = 0; i < 20; i++) {
		c = hxs_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(sa, c, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
		pump_ms(3);
		s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		quick += s >= 0;
		if (s < 0) {
			pump_ms(3000);
			s = hxs_accept4(sb, l, NULL, NULL, SOCK_NONBLOCK);
		}
		CHECK(s >= 0, "round %d: accept %d", i, s);
		CHECK_EQ(hxs_close(sb, s), 0);           /* B closes first: B keeps TIME_WAIT */
		pump_ms(2);
		CHECK_EQ(hxs_recv(sa, c, buf, sizeof(buf), 0), 0);
		CHECK_EQ(hxs_close(sa, c), 0);
		pump_ms(2);
	}
	CHECK(quick == 20, "%d of 20 connected without waiting for a SYN retransmission", quick);
	CHECK_EQ(ctr(sb, "TCPTimeWaitReuse"), reuse + 19);
	hxs_close(sb, l);
	hxs_stack__set_port_range(sa, lo, hi);
	pump_ms(5);
}

/* A blocking connect of c to x with the world turning; returns what it said, *us how long. */
static int timed_connect(int c, const struct sockaddr_in *x, uint64_t *us)
{
	uint64_t t0 = vnow;
	int r;

	pumping = 1;
	r = hxs_connect(sa, c, (const struct sockaddr *)x, sizeof(*x));
	pumping = 0;
	*us = vnow - t0;
	return r;
}

/* One wait for a blocking connect: SO_SNDTIMEO bounds the whole call (socket.c's
 * inet_wait_for_connect), not the protocol's wait and then socket.c's again. */
static void test_connect_timeout(void)
{
	struct sockaddr_in x = sin_of("10.9.0.3", 7003);    /* on-link, never answers ARP */
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
	uint64_t waited;
	int c;

	t_case("blocking connect, SO_SNDTIMEO 300 ms, no answer: EINPROGRESS after 300 ms (not 600)");
	c = hxs_socket(sa, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(hxs_setsockopt(sa, c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(timed_connect(c, &x, &waited), -EINPROGRESS);
	CHECK(waited >= 300000 && waited <= 301000, "waited %llu us", (unsigned long long)waited);
	t_case("a second blocking connect on it waits one SO_SNDTIMEO too and says EALREADY");
	CHECK_EQ(timed_connect(c, &x, &waited), -EALREADY);
	CHECK(waited >= 300000 && waited <= 301000, "waited %llu us", (unsigned long long)waited);
	hxs_close(sa, c);
	pump_ms(5);
}

int main(void)
{
	static const struct twostack_cfg two = {
		.ip_a = IP_A, .ip_b = IP_B, .mac_a = { 2, 0, 0, 0, 9, 1 }, .mac_b = { 2, 0, 0, 0, 9, 2 },
		.frames = 1024, .frame_size = 2048, .clock = clock_fn, .clock_ctx = &tag_a,
		.clock_ctx_b = &tag_b,
	};
	struct hxs_io_stats s;

	/* test_backlog is about clients waiting in SYN-SENT while the queues are full and
	 * retrying: the stacks run without SYN cookies (tcp_syncookies = 0); the cookie
	 * behaviour is test_tcp_limits' and tests/pkt/syncookie's */
	setenv("HXS_SYNCOOKIES", "0", 1);
	/* the slow-start claims (test_bulk, test_slow_start) are about the sender's RFC 3465
	 * arithmetic with a receiver that ACKs every second segment at once (RFC 5681 §4.2);
	 * the stack's default, one ACK per turn, is test_tcp_ack_batch's */
	setenv("HXS_STRETCH_ACK", "0", 1);
	CHECK_EQ(twostack_open(&world, &two), 0);
	if (!world.a || !world.b)
		return t_done();
	sa = world.a;
	sb = world.b;
	/* the cwnd claims below are CUBIC's slow start (hxs's default is BBR: test_tcp_bbr.c) */
	CHECK_EQ(hxs_stack__set_cc(sa, "cubic"), 0);
	CHECK_EQ(hxs_stack__set_cc(sb, "cubic"), 0);
	/* ... and the window, window scale and queue claims a 256 KiB buffer's (scale 3) */
	CHECK_EQ(hxs_stack__set_tcp_bufs(sa, 256 * 1024, 256 * 1024), 0);
	CHECK_EQ(hxs_stack__set_tcp_bufs(sb, 256 * 1024, 256 * 1024), 0);

	test_iov_len();
	test_sa_out();
	test_connect_errnos();
	test_connect_timeout();
	test_bulk();
	test_queues();
	test_slow_start();
	test_listener_close();
	test_shutdown_close();
	test_options();
	test_recv_target();
	test_epoll();
	test_push_on_recv();
	test_backlog();
	test_tw_reuse();
	test_tw_peer_reuse();

	t_case("counters: every connect an active open; B's passive opens + A's failed attempts + the unanswered one");
	/* A's connects, by test: connect_errnos 6 (4 refused), connect_timeout 1 (never
	 * answered), bulk 1, queues 1, slow_start 1, listener_close 3 (1 refused),
	 * shutdown_close 3, recv_target 1, epoll 2, push_on_recv 1, backlog 4, tw_reuse 4,
	 * tw_peer_reuse 20: 48, all from A */
	CHECK_EQ(ctr(sa, "TcpActiveOpens"), 48);
	CHECK_EQ(ctr(sb, "TcpPassiveOpens"), 42);
	CHECK_EQ(ctr(sa, "TcpAttemptFails"), 5);
	CHECK_EQ(ctr(sa, "TcpActiveOpens"),
		 ctr(sb, "TcpPassiveOpens") + ctr(sa, "TcpAttemptFails") + 1);
	CHECK_EQ(ctr(sa, "TcpPassiveOpens"), 0);
	CHECK_EQ(ctr(sb, "TcpActiveOpens"), 0);
	CHECK_EQ(ctr(sb, "TcpAttemptFails"), 0);
	CHECK_EQ(ctr(sa, "TcpCurrEstab"), 0);
	CHECK_EQ(ctr(sb, "TcpCurrEstab"), 0);

	t_case("after 2 MSL: every conn-map entry added was deleted, no socket lingers, no entry left");
	vnow += 61000000;               /* TIME_WAIT is 60 s */
	pump_ms(5);
	CHECK_EQ(ctr(sa, "HxsTcpConnMapAdds"), 48);     /* one per connect, refused ones too */
	CHECK_EQ(ctr(sa, "HxsTcpConnMapDels"), 48);
	CHECK_EQ(ctr(sb, "HxsTcpConnMapAdds"), 42);     /* one per passive open */
	CHECK_EQ(ctr(sb, "HxsTcpConnMapDels"), 42);
	CHECK_EQ(ctr(sa, "HxsTcpConnMapErrors") + ctr(sb, "HxsTcpConnMapErrors"), 0);
	CHECK_EQ(ctr(sa, "HxsTcpLingerSockets"), 0);
	CHECK_EQ(ctr(sb, "HxsTcpLingerSockets"), 0);
	{
		unsigned ba, ca, bb, cb;
		hxs_ctl_static__owned(sa, &ba, &ca);
		hxs_ctl_static__owned(sb, &bb, &cb);
		CHECK_EQ(ba + ca + bb + cb, 0);
	}

	t_case("the test clock turned only the other stack: no poll refused as re-entered");
	CHECK_EQ(pump_errors, 0);

	t_case("no leak: stacks closed with a connection lingering, every frame back to the link");
	{
		int l, c, s2;

		connected_pair(7013, &l, &c, &s2);
		hxs_close(sa, c);               /* A first: A keeps TIME_WAIT */
		pump_ms(5);
		hxs_close(sb, s2);
		hxs_close(sb, l);
		pump_ms(5);
		CHECK_EQ(ctr(sa, "HxsTcpLingerSockets"), 1);
	}
	twostack_close_stacks(&world);      /* the control plane aborts if an entry is left */
	world.ia->ops->get_stats(world.ia, &s);
	CHECK_EQ(s.frames_held, 0);
	world.ib->ops->get_stats(world.ib, &s);
	CHECK_EQ(s.frames_held, 0);
	twostack_close_links(&world);
	return t_done();
}
