/* test_ctl_static.c - the static control plane keeps the entries the XDP maps would hold:
 * they follow the sockets and connections exactly, a stack that loses track of one is caught
 * (the program aborts), and a port the control plane refuses reaches the caller as the
 * kernel's errno (bind, the ephemeral choice of sendto; connect's port takes no bind entry);
 * a 4-tuple it refuses (the conn map full) fails the connection cleanly, active or passive;
 * with an eph table (a program of that design) a passive connection takes its entry only
 * when its listener stops steering it. Two stacks on the in-memory link, virtual time. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "io/io.h"
#include "open/stack_open.h"
#include "sock/sock.h"
#include "twostack.h"

static uint64_t vnow = 3000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static const struct twostack_cfg two = {
	.ip_a = "10.8.0.1", .ip_b = "10.8.0.2", .mac_a = { 2, 0, 0, 0, 8, 1 },
	.mac_b = { 2, 0, 0, 0, 8, 2 }, .frames = 256, .frame_size = 2048, .clock = vclock,
};
static struct twostack ts;

static void pump_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms * 10; i++) {
		twostack_pump(&ts, 1);
		vnow += 100;
	}
}

static unsigned binds(struct hxs_stack *st)
{
	unsigned b, c;

	hxs_ctl_static__owned(st, &b, &c);
	return b;
}

static unsigned conns(struct hxs_stack *st)
{
	unsigned b, c;

	hxs_ctl_static__owned(st, &b, &c);
	return c;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = addr };
	return a;
}

static uint16_t local_port(struct hxs_stack *st, int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	if (hxs_getsockname(st, fd, (struct sockaddr *)&a, &l))
		return 0;
	return ntohs(a.sin_port);
}

static void test_balance(void)
{
	struct hxs_stack *a = ts.a, *b = ts.b;
	struct sockaddr_in any = sin_of(0, 7100), bl = sin_of(ts.addr_b, 7200);
	int one = 1, u1, u2, l, c, s;
	char buf[8];

	t_case("bind entries follow the sockets: one per address and port, shared ones once");
	CHECK_EQ(binds(a), 0);
	u1 = hxs_socket(a, AF_INET, SOCK_DGRAM, 0);
	u2 = hxs_socket(a, AF_INET, SOCK_DGRAM, 0);
	hxs_setsockopt(a, u1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	hxs_setsockopt(a, u2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK_EQ(hxs_bind(a, u1, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(binds(a), 1);
	CHECK_EQ(hxs_bind(a, u2, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(binds(a), 1);
	hxs_close(a, u1);
	CHECK_EQ(binds(a), 1);
	hxs_close(a, u2);
	CHECK_EQ(binds(a), 0);

	t_case("a TCP connection: a listener entry, one 4-tuple each side, gone after TIME_WAIT");
	l = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(b, l, (struct sockaddr *)&bl, sizeof(bl)), 0);
	CHECK_EQ(hxs_listen(b, l, 4), 0);
	CHECK_EQ(binds(b), 1);
	c = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -EINPROGRESS);
	CHECK_EQ(binds(a), 0);          /* connect's port: no bind entry, its 4-tuple steers */
	CHECK_EQ(conns(a), 1);
	pump_ms(5);
	s = hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(conns(a), 1);
	CHECK_EQ(conns(b), 1);
	CHECK_EQ(binds(b), 1);          /* the child shares the listener's port */
	CHECK_EQ(hxs_close(a, c), 0);   /* a closes first: a keeps TIME_WAIT */
	pump_ms(5);
	CHECK_EQ(hxs_recv(b, s, buf, sizeof(buf), 0), 0);
	CHECK_EQ(hxs_close(b, s), 0);
	pump_ms(5);
	CHECK_EQ(conns(b), 0);
	CHECK_EQ(conns(a), 1);          /* TIME_WAIT still steers its segments */
	CHECK_EQ(binds(a), 0);
	vnow += 61000000;               /* past 2 MSL */
	pump_ms(1);
	CHECK_EQ(conns(a), 0);
	CHECK_EQ(binds(a), 0);
	hxs_close(b, l);
	CHECK_EQ(binds(b), 0);
}

static void test_refuse(void)
{
	struct hxs_stack *a = ts.a, *b = ts.b;
	struct sockaddr_in p7777 = sin_of(0, 7777), p7778 = sin_of(0, 7778), bl = sin_of(ts.addr_b, 7300);
	struct sockaddr_in peer = sin_of(ts.addr_b, 9);
	uint16_t lo = a->eph_lo, hi = a->eph_hi;
	int u, t, c, l, s;

	t_case("a port the control plane refuses: bind says the kernel's errno, the socket stays unbound");
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(7777), EADDRINUSE), 0);
	u = hxs_socket(a, AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(hxs_bind(a, u, (struct sockaddr *)&p7777, sizeof(p7777)), -EADDRINUSE);
	CHECK_EQ(local_port(a, u), 0);
	CHECK_EQ(binds(a), 0);
	CHECK_EQ(hxs_bind(a, u, (struct sockaddr *)&p7778, sizeof(p7778)), 0);
	CHECK_EQ(local_port(a, u), 7778);
	hxs_close(a, u);
	/* TCP on the same port number is another entry; a full map says E2BIG */
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_TCP, htons(7777), E2BIG), 0);
	t = hxs_socket(a, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(hxs_bind(a, t, (struct sockaddr *)&p7777, sizeof(p7777)), -E2BIG);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_TCP, htons(7777), 0), 0);     /* lifted */
	CHECK_EQ(hxs_bind(a, t, (struct sockaddr *)&p7777, sizeof(p7777)), 0);
	CHECK_EQ(binds(a), 1);
	hxs_close(a, t);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(7777), 0), 0);
	CHECK_EQ(binds(a), 0);

	t_case("ephemeral ports the control plane refuses (EADDRINUSE) are skipped by sendto; connect installs no bind entry, so a refused TCP bind entry is not in its way");
	CHECK_EQ(hxs_stack__set_port_range(a, 62000, 62002), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_TCP, htons(62000), EADDRINUSE), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_TCP, htons(62002), EADDRINUSE), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(62001), EADDRINUSE), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(62002), EADDRINUSE), 0);
	l = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(b, l, (struct sockaddr *)&bl, sizeof(bl)), 0);
	CHECK_EQ(hxs_listen(b, l, 4), 0);
	c = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -EINPROGRESS);
	CHECK(local_port(a, c) >= 62000 && local_port(a, c) <= 62002, "port %u", local_port(a, c));
	CHECK_EQ(binds(a), 0);
	u = hxs_socket(a, AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(hxs_sendto(a, u, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
	CHECK_EQ(local_port(a, u), 62000);
	pump_ms(5);
	s = hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	hxs_close(a, u);

	t_case("an ephemeral port refused with another errno: the caller gets that errno");
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(62000), ENOMEM), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(62001), ENOMEM), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(62002), ENOMEM), 0);
	u = hxs_socket(a, AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(hxs_sendto(a, u, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), -ENOMEM);
	CHECK_EQ(local_port(a, u), 0);
	hxs_close(a, u);
	for (uint16_t p = 62000; p <= 62002; p++) {
		hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(p), 0);
		hxs_ctl_static__refuse(a, IPPROTO_TCP, htons(p), 0);
	}
	CHECK_EQ(a->scfg.n_refuse, 0);
	hxs_stack__set_port_range(a, lo, hi);

	t_case("refusals: at most HXS_STATIC_REFUSE_MAX ports, a negative errno is invalid");
	for (int i = 0; i < HXS_STATIC_REFUSE_MAX; i++)
		CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons((uint16_t)(100 + i)), EACCES), 0);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(100), EPERM), 0);   /* replaced */
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(200), EACCES), -ENOSPC);
	CHECK_EQ(hxs_ctl_static__refuse(a, IPPROTO_UDP, htons(200), -EACCES), -EINVAL);
	u = hxs_socket(a, AF_INET, SOCK_DGRAM, 0);
	{
		struct sockaddr_in p100 = sin_of(0, 100);
		CHECK_EQ(hxs_bind(a, u, (struct sockaddr *)&p100, sizeof(p100)), -EPERM);
	}
	hxs_close(a, u);
	for (int i = 0; i < HXS_STATIC_REFUSE_MAX; i++)
		hxs_ctl_static__refuse(a, IPPROTO_UDP, htons((uint16_t)(100 + i)), 0);

	/* the connection made through the refused ports ends cleanly */
	hxs_close(a, c);
	hxs_close(b, s);
	hxs_close(b, l);
	pump_ms(5);
	vnow += 61000000;
	pump_ms(1);
	CHECK_EQ(conns(a) + conns(b) + binds(a) + binds(b), 0);
}

static uint64_t ctr(struct hxs_stack *st, const char *name)
{
	uint64_t v = 0;

	CHECK(hxs_stack__counter(st, name, &v) == 0, "%s", name);
	return v;
}

/* The conn map refuses a 4-tuple (full): no connection may exist whose segments would go to
 * the kernel. Active: connect fails at once with -ENOBUFS, nothing sent, the port given back.
 * Passive: the SYN is dropped, nothing answered, nothing to accept; the peer's retry after
 * the refusal is lifted gets through. */
static void test_refuse_conn(void)
{
	struct hxs_stack *a = ts.a, *b = ts.b;
	struct sockaddr_in bl = sin_of(ts.addr_b, 7400);
	uint64_t syns_b, drops_b, opens_a, opens_b;
	unsigned conns_b;
	int l, c, s, err;

	l = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(b, l, (struct sockaddr *)&bl, sizeof(bl)), 0);
	CHECK_EQ(hxs_listen(b, l, 4), 0);

	t_case("own_conn refused, active open: connect says -ENOBUFS at once, no SYN leaves, no entry, the ephemeral port goes back (HxsTcpConnMapErrors 1, HxsTcpTupleRefused 1)");
	CHECK_EQ(hxs_ctl_static__refuse_conn(a, IPPROTO_TCP, htons(7400), E2BIG), 0);
	syns_b = ctr(b, "TcpInSegs");
	opens_a = ctr(a, "TcpActiveOpens");
	c = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -ENOBUFS);
	CHECK_EQ(ctr(a, "HxsTcpConnMapErrors"), 1);
	CHECK_EQ(ctr(a, "HxsTcpTupleRefused"), 1);
	CHECK_EQ(ctr(a, "TcpActiveOpens"), opens_a);
	CHECK_EQ(conns(a), 0);
	CHECK_EQ(binds(a), 0);
	CHECK_EQ(local_port(a, c), 0);
	pump_ms(5);
	CHECK_EQ(ctr(b, "TcpInSegs"), syns_b);
	CHECK_EQ(hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK), -EAGAIN);

	t_case("own_conn refused, active open: lifted, the same socket connects");
	CHECK_EQ(hxs_ctl_static__refuse_conn(a, IPPROTO_TCP, htons(7400), 0), 0);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -EINPROGRESS);
	pump_ms(5);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), 0);
	s = hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(conns(a), 1);
	CHECK_EQ(ctr(a, "HxsTcpConnMapErrors"), 1);
	hxs_close(a, c);
	hxs_close(b, s);
	pump_ms(5);

	t_case("own_conn refused, passive open: the SYN is dropped unanswered (ListenDrops 1, HxsTcpConnMapErrors 1, HxsTcpTupleRefused 1), nothing to accept");
	CHECK_EQ(hxs_ctl_static__refuse_conn(b, IPPROTO_TCP, htons(7400), E2BIG), 0);
	drops_b = ctr(b, "ListenDrops");
	opens_b = ctr(b, "TcpPassiveOpens");
	conns_b = conns(b);
	c = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -EINPROGRESS);
	pump_ms(5);
	CHECK_EQ(ctr(b, "ListenDrops"), drops_b + 1);
	CHECK_EQ(ctr(b, "HxsTcpConnMapErrors"), 1);
	CHECK_EQ(ctr(b, "HxsTcpTupleRefused"), 1);
	CHECK_EQ(ctr(b, "TcpPassiveOpens"), opens_b);
	CHECK_EQ(conns(b), conns_b);               /* no entry for the refused one */
	CHECK_EQ(hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK), -EAGAIN);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -EALREADY);

	t_case("own_conn refused, passive open: lifted, the SYN sent again after the RTO (1 s) gets through");
	CHECK_EQ(hxs_ctl_static__refuse_conn(b, IPPROTO_TCP, htons(7400), 0), 0);
	pump_ms(1100);
	err = hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl));
	CHECK_EQ(err, 0);
	s = hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(ctr(b, "ListenDrops"), drops_b + 1);
	hxs_close(a, c);
	hxs_close(b, s);
	hxs_close(b, l);
	pump_ms(5);
	vnow += 61000000;
	pump_ms(1);
	CHECK_EQ(conns(a) + conns(b) + binds(a) + binds(b), 0);
}

/* A stack whose program has the eph table (tcp_sock.c): a passive connection under a
 * listener that steers it takes no conn entry; it takes one when the listener closes while
 * it lives, and gives it back when it leaves the table. */
static void test_listen_steered(void)
{
	struct hxs_stack *a = ts.a, *b = ts.b;
	struct sockaddr_in bl = sin_of(ts.addr_b, 7500);
	static struct hxs_eph_val eph[HXS_MAX_EPH];
	uint64_t steered = ctr(b, "HxsTcpListenSteered"), adds = ctr(b, "HxsTcpConnMapAdds");
	int l, c, s;

	b->eph = eph;
	l = hxs_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(b, l, (struct sockaddr *)&bl, sizeof(bl)), 0);
	CHECK_EQ(hxs_listen(b, l, 4), 0);
	t_case("eph table: a passive connection under its listener takes no conn entry (HxsTcpListenSteered +1)");
	c = hxs_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), -EINPROGRESS);
	pump_ms(5);
	CHECK_EQ(hxs_connect(a, c, (struct sockaddr *)&bl, sizeof(bl)), 0);
	s = hxs_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept %d", s);
	CHECK_EQ(ctr(b, "HxsTcpListenSteered"), steered + 1);
	CHECK_EQ(conns(b), 0);
	CHECK_EQ(conns(a), 1);             /* no kernel reservation here: connect's entry */
	t_case("eph table: the listener closes while it lives: its conn entry now (HxsTcpConnMapAdds +1)");
	hxs_close(b, l);
	CHECK_EQ(conns(b), 1);
	CHECK_EQ(ctr(b, "HxsTcpConnMapAdds"), adds + 1);
	CHECK_EQ(hxs_send(b, s, "x", 1, 0), 1);
	pump_ms(5);
	t_case("eph table: the connection ends: its entry goes (no imbalance)");
	hxs_close(a, c);
	hxs_close(b, s);
	pump_ms(5);
	vnow += 61000000;
	pump_ms(1);
	CHECK_EQ(conns(a) + conns(b) + binds(a) + binds(b), 0);
	b->eph = NULL;
}

/* One eph entry per port: a second address on the same port (an IPv4 and an IPv6 connect both
 * picking it) is refused and the first holder keeps the entry; each address clears only its
 * own. (The refused connection then takes a conn entry: tcp_sock.c on_tuple.) */
static void test_eph_one_holder(void)
{
	struct hxs_stack *b = ts.b;
	static struct hxs_eph_val eph[HXS_MAX_EPH];
	static const uint8_t g6[16] = { 0xfd, 0x00, 0, 0x77, [15] = 2 };
	struct hxs_addr a4 = hxs_addr4(htonl(0x0a4d0002)), a6 = hxs_addr6(g6);
	uint16_t p = htons(61000);

	b->eph = eph;
	t_case("eph: the first address takes the port's entry; the same address again is no change");
	CHECK_EQ(hxs_stack__own_eph(b, a4, p), 0);
	CHECK_EQ(hxs_stack__own_eph(b, a4, p), 0);
	CHECK_EQ(hxs_stack__eph_held(b, a4, p), 1);
	t_case("eph: a second address on the same port is refused (-EBUSY); the first keeps it");
	CHECK_EQ(hxs_stack__own_eph(b, a6, p), -EBUSY);
	CHECK_EQ(hxs_stack__eph_held(b, a4, p), 1);
	CHECK_EQ(hxs_stack__eph_held(b, a6, p), 0);
	t_case("eph: the refused address's disown leaves the holder's entry; the holder's clears it");
	hxs_stack__disown_eph(b, a6, p);
	CHECK_EQ(hxs_stack__eph_held(b, a4, p), 1);
	hxs_stack__disown_eph(b, a4, p);
	CHECK_EQ(hxs_stack__eph_held(b, a4, p), 0);
	CHECK_EQ(hxs_stack__own_eph(b, a6, p), 0);
	CHECK_EQ(hxs_stack__eph_held(b, a6, p), 1);
	hxs_stack__disown_eph(b, a6, p);
	b->eph = NULL;
}

/* --- imbalances abort ------------------------------------------------------------------------ */

static struct twostack doomed;

static void open_doomed(void)
{
	if (twostack_open(&doomed, &two))
		_exit(3);
}

static void leave_bind(void)
{
	open_doomed();
	/* an entry no socket owns: nobody will disown it */
	hxs_stack__own_bind(doomed.a, hxs_addr4(doomed.addr_a), htons(4242), IPPROTO_UDP, 77, 0);
	twostack_close(&doomed);
}

static void disown_unowned(void)
{
	open_doomed();
	hxs_stack__disown_bind(doomed.a, hxs_addr4(doomed.addr_a), htons(4243), IPPROTO_UDP);
}

static void own_conn_twice(void)
{
	open_doomed();
	hxs_stack__own_conn(doomed.a, hxs_addr4(doomed.addr_a), htons(1), hxs_addr4(doomed.addr_b), htons(2), IPPROTO_TCP, 1, 0);
	hxs_stack__own_conn(doomed.a, hxs_addr4(doomed.addr_a), htons(1), hxs_addr4(doomed.addr_b), htons(2), IPPROTO_TCP, 2, 0);
}

static void leave_conn(void)
{
	open_doomed();
	hxs_stack__own_conn(doomed.b, hxs_addr4(doomed.addr_b), htons(3), hxs_addr4(doomed.addr_a), htons(4), IPPROTO_UDP, 1, 0);
	twostack_close(&doomed);
}

static void balanced(void)
{
	open_doomed();
	hxs_stack__own_bind(doomed.a, hxs_addr4(doomed.addr_a), htons(4242), IPPROTO_UDP, 77, 0);
	hxs_stack__own_bind(doomed.a, hxs_addr4(doomed.addr_a), htons(4242), IPPROTO_UDP, 77, 1);
	hxs_stack__disown_bind(doomed.a, hxs_addr4(doomed.addr_a), htons(4242), IPPROTO_UDP);
	hxs_stack__own_conn(doomed.a, hxs_addr4(doomed.addr_a), htons(1), hxs_addr4(doomed.addr_b), htons(2), IPPROTO_TCP, 1, 0);
	hxs_stack__disown_conns(doomed.a, IPPROTO_TCP);
	twostack_close(&doomed);
}

/* Runs fn in a child with stderr in a pipe: 1 if it died of SIGABRT saying `says`, 0 if it
 * exited 0 and said nothing, -1 otherwise. */
static int outcome(void (*fn)(void), const char *says)
{
	char msg[512] = "";
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(msg) - 1 && (n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !got)
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(msg, says))
		return 1;
	printf("#   child: status %#x, said: %s\n", status, msg);
	return -1;
}

static void test_imbalance_caught(void)
{
	t_case("imbalances abort: an entry left at close, a disown of nothing, a 4-tuple owned twice");
	CHECK_EQ(outcome(leave_bind, "1 bind entries left at close, the first 10.8.0.1:4242/17"), 1);
	CHECK_EQ(outcome(leave_conn, "1 conn entries left at close, the first 10.8.0.2:3-10.8.0.1:4/17"), 1);
	CHECK_EQ(outcome(disown_unowned, "disown of bind 10.8.0.1:4243/17, not owned"), 1);
	CHECK_EQ(outcome(own_conn_twice, "conn 10.8.0.1:1-10.8.0.2:2/6 owned twice"), 1);
	t_case("balanced: an own replaced by a second own, disowned once; disown_conns empties");
	CHECK_EQ(outcome(balanced, ""), 0);
}

int main(void)
{
	CHECK_EQ(twostack_open(&ts, &two), 0);
	if (!ts.a || !ts.b)
		return t_done();
	test_balance();
	test_refuse();
	test_refuse_conn();
	test_listen_steered();
	test_eph_one_holder();
	test_imbalance_caught();
	t_case("the stacks close with nothing left (an imbalance would abort here)");
	CHECK_EQ(conns(ts.a) + conns(ts.b) + binds(ts.a) + binds(ts.b), 0);
	twostack_close(&ts);
	return t_done();
}
