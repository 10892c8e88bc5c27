/* test_ip6_stack.c - two whole stacks over IPv6 (and IPv4 beside it) on in-memory links
 * joined by the deterministic simulator (netsim), in virtual time:
 *   - TCP over IPv6 with 2% loss each way: 1 MiB each direction exact, retransmissions
 *     happened, MSS is MTU - 60 less the timestamp option, the names are sockaddr_in6
 *   - a dual-stack :: listener takes an IPv4 connection too, its peer as ::ffff:a.b.c.d;
 *     an IPV6_V6ONLY listener refuses it (RST: ECONNREFUSED); a v4-mapped bind on an
 *     IPV6_V6ONLY socket is EINVAL, a foreign address EADDRNOTAVAIL
 *   - UDP over IPv6: a datagram and its source; getsockname/getpeername in the family
 *   - IP_TTL, IP_PKTINFO and hxs_recvmsg on an AF_INET6 socket (IPv4 only where Linux's
 *     are), ICMP port unreachable over IPv4 only
 *   - SYN cookies over IPv6 (the core's): a full SYN queue, every connection still opens
 *   - the static control plane holds both bind entries of a dual-stack :: socket
 *   - every frame back in its pool at the end
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

/* bare CHECK(cond) expands to an empty format string */
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#include "check.h"
#include "io/io.h"
#include "net/stack.h"
#include "open/stack_open.h"
#include "netsim.h"

static uint64_t vnow = 1000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static struct hxs_io *ia, *ib;
static struct hxs_stack *sa, *sb;
static struct netsim *ns;
static uint64_t inject_drops;

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };
static uint8_t A6[16], B6[16];
#define A4 "10.9.0.1"
#define B4 "10.9.0.2"

/* What each stack put on the link (step()): frames counted, the last one kept */
static struct {
	int n;
	uint32_t len;
	uint8_t f[2048];
} tap[2];

static void rx(void *ctx, int port, const uint8_t *buf, size_t len, uint64_t now)
{
	(void)ctx; (void)now;
	/* port 1 received what A (port 0) sent */
	if (hxs_io_mem__inject(port == 1 ? ib : ia, buf, (uint32_t)len))
		inject_drops++;
}

/* One step of the world: both stacks turn, what they sent enters the link, what is due is
 * delivered, the clock goes to the next event (at most 1 ms on). */
static void step(void)
{
	uint8_t f[2048];
	uint64_t next, d;
	int n;

	hxs_stack__poll(sa, 0);
	hxs_stack__poll(sb, 0);
	for (int p = 0; p < 2; p++)
		while ((n = hxs_io_mem__take(p ? ib : ia, f, sizeof(f))) >= 0) {
			tap[p].n++;
			tap[p].len = (uint32_t)n;
			memcpy(tap[p].f, f, (size_t)n);
			netsim_send(ns, p, f, (size_t)n, vnow);
		}
	netsim_deliver(ns, vnow, rx, NULL);
	next = vnow + 1000;
	d = netsim_next(ns);
	if (d < next)
		next = d;
	d = hxs_stack__next_deadline(sa);
	if (d < next)
		next = d;
	d = hxs_stack__next_deadline(sb);
	if (d < next)
		next = d;
	vnow = next > vnow ? next : vnow + 1;
}

static struct sockaddr_in6 sa6(const uint8_t a[16], uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	memcpy(&s.sin6_addr, a, 16);
	return s;
}

static int listener_bl(struct hxs_stack *st, uint16_t port, int v6only, int backlog)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = hxs_socket(st, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(fd >= 0, "socket %d", fd);
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)), 0);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_listen(st, fd, backlog), 0);
	return fd;
}

static int listener(struct hxs_stack *st, uint16_t port, int v6only)
{
	return listener_bl(st, port, v6only, 16);
}

/* Connects fd (nonblocking) and turns the world until it is connected or failed. */
static int connect_wait(struct hxs_stack *st, int fd, const struct sockaddr *to, socklen_t len)
{
	int r = hxs_connect(st, fd, to, len), err = 0;
	socklen_t el = sizeof(err);

	if (r != -EINPROGRESS)
		return r;
	for (int i = 0; i < 20000; i++) {
		step();
		if (hxs_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
			return -err;
		struct sockaddr_in6 p;
		socklen_t pl = sizeof(p);
		if (hxs_getpeername(st, fd, (struct sockaddr *)&p, &pl) == 0)
			return 0;
	}
	return -ETIMEDOUT;
}

static int accept_wait(struct hxs_stack *st, int lfd, struct sockaddr_in6 *peer)
{
	socklen_t pl = sizeof(*peer);

	for (int i = 0; i < 20000; i++) {
		int fd = hxs_accept4(st, lfd, (struct sockaddr *)peer, &pl, SOCK_NONBLOCK);

		if (fd != -EAGAIN)
			return fd;
		step();
	}
	return -ETIMEDOUT;
}

static uint8_t pat(uint64_t i, int dir) { return (uint8_t)(i * 131 + (i >> 9) + dir * 77); }

static void test_tcp_lossy(void)
{
	struct sockaddr_in6 to = sa6(A6, 80), peer, name;
	socklen_t nl = sizeof(name);
	static uint8_t buf[16384];
	const uint64_t total = 1 << 20;
	uint64_t sent[2] = { 0, 0 }, got[2] = { 0, 0 };
	int bad[2] = { 0, 0 }, lfd, cfd, afd, mss = 0;
	socklen_t ml = sizeof(mss);
	uint64_t rtx = 0, d6 = 0;

	t_case("tcp over IPv6: connect B -> [A]:80 through the simulated link");
	lfd = listener(sa, 80, 0);
	cfd = hxs_socket(sb, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(connect_wait(sb, cfd, (struct sockaddr *)&to, sizeof(to)), 0);
	afd = accept_wait(sa, lfd, &peer);
	CHECK(afd >= 0, "accept %d", afd);
	if (afd < 0)
		return;
	CHECK_EQ(peer.sin6_family, AF_INET6);
	CHECK(!memcmp(&peer.sin6_addr, B6, 16));
	CHECK_EQ(hxs_getsockname(sb, cfd, (struct sockaddr *)&name, &nl), 0);
	CHECK_EQ(nl, sizeof(struct sockaddr_in6));
	CHECK(!memcmp(&name.sin6_addr, B6, 16));
	CHECK_EQ(name.sin6_port, peer.sin6_port);

	t_case("tcp over IPv6: MSS is MTU - 60 less the timestamp option (1500 - 60 - 12)");
	CHECK_EQ(hxs_getsockopt(sb, cfd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml), 0);
	CHECK_EQ(mss, 1428);

	t_case("tcp over IPv6 at 2% loss each way: 1 MiB each direction, exact");
	{
		struct netsim_dir_cfg lossy = { .delay_us = 2000, .bandwidth_bps = 200000000,
						.loss = 0.02 };
		netsim_set_dir(ns, 0, &lossy);
		netsim_set_dir(ns, 1, &lossy);
	}
	for (int it = 0; it < 400000 && (got[0] < total || got[1] < total); it++) {
		int fds_tx[2] = { cfd, afd }, fds_rx[2] = { afd, cfd };
		struct hxs_stack *stx[2] = { sb, sa }, *srx[2] = { sa, sb };

		for (int d = 0; d < 2; d++) {
			while (sent[d] < total) {
				uint32_t n = (uint32_t)(total - sent[d] < sizeof(buf) ? total - sent[d] : sizeof(buf));
				ssize_t r;
				for (uint32_t k = 0; k < n; k++)
					buf[k] = pat(sent[d] + k, d);
				r = hxs_send(stx[d], fds_tx[d], buf, n, MSG_DONTWAIT);
				if (r <= 0)
					break;
				sent[d] += (uint64_t)r;
			}
			for (;;) {
				ssize_t r = hxs_recv(srx[d], fds_rx[d], buf, sizeof(buf), MSG_DONTWAIT);
				if (r <= 0)
					break;
				for (ssize_t k = 0; k < r; k++)
					bad[d] += buf[k] != pat(got[d] + (uint64_t)k, d);
				got[d] += (uint64_t)r;
			}
		}
		step();
	}
	CHECK(got[0] == total && got[1] == total, "B->A %llu, A->B %llu of %llu",
	      (unsigned long long)got[0], (unsigned long long)got[1], (unsigned long long)total);
	CHECK_EQ(bad[0], 0);
	CHECK_EQ(bad[1], 0);
	CHECK_EQ(hxs_stack__counter(sb, "TcpRetransSegs", &rtx), 0);
	CHECK(rtx > 0, "the loss made B retransmit (TcpRetransSegs %llu)", (unsigned long long)rtx);
	CHECK(netsim_stats(ns, 0)->lost > 0 && netsim_stats(ns, 1)->lost > 0);
	CHECK_EQ(hxs_stack__counter(sa, "Ip6InDelivers", &d6), 0);
	CHECK(d6 > 700, "Ip6InDelivers %llu", (unsigned long long)d6);
	{
		struct netsim_dir_cfg clean = { .delay_us = 100 };
		netsim_set_dir(ns, 0, &clean);
		netsim_set_dir(ns, 1, &clean);
	}
	hxs_close(sb, cfd);
	hxs_close(sa, afd);
	hxs_close(sa, lfd);
	for (int i = 0; i < 200; i++)
		step();
}

static void test_dual_stack(void)
{
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(81), .sin_addr.s_addr = inet_addr(A4) };
	struct sockaddr_in6 peer;
	unsigned binds = 0, conns = 0;
	int lfd, cfd, afd;

	t_case("dual-stack: a :: listener holds both bind entries (:: and 0.0.0.0)");
	lfd = listener(sa, 81, 0);
	hxs_ctl_static__owned(sa, &binds, &conns);
	CHECK_EQ(binds, 2);

	t_case("dual-stack: 0.0.0.0 of the same port is taken (EADDRINUSE), as the kernel's bind");
	{
		struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_port = htons(81) };
		int fd = hxs_socket(sa, AF_INET, SOCK_STREAM, 0);

		CHECK_EQ(hxs_bind(sa, fd, (struct sockaddr *)&any4, sizeof(any4)), -EADDRINUSE);
		hxs_close(sa, fd);
	}
	t_case("dual-stack: an IPv4 client reaches the :: listener; its peer is ::ffff:a.b.c.d");
	cfd = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(connect_wait(sb, cfd, (struct sockaddr *)&to4, sizeof(to4)), 0);
	afd = accept_wait(sa, lfd, &peer);
	CHECK(afd >= 0, "accept %d", afd);
	if (afd >= 0) {
		uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };
		struct sockaddr_in6 me;
		socklen_t ml = sizeof(me);
		int mss = 0;
		socklen_t sl = sizeof(mss);

		memcpy(mapped + 12, &(uint32_t){ inet_addr(B4) }, 4);
		CHECK_EQ(peer.sin6_family, AF_INET6);
		CHECK(!memcmp(&peer.sin6_addr, mapped, 16));
		CHECK_EQ(hxs_getsockname(sa, afd, (struct sockaddr *)&me, &ml), 0);
		memcpy(mapped + 12, &(uint32_t){ inet_addr(A4) }, 4);
		CHECK(!memcmp(&me.sin6_addr, mapped, 16));
		/* an IPv4 connection on an IPv6 socket is IPv4 on the wire: MSS 1500 - 40 - 12 */
		CHECK_EQ(hxs_getsockopt(sa, afd, IPPROTO_TCP, TCP_MAXSEG, &mss, &sl), 0);
		CHECK_EQ(mss, 1448);
		hxs_close(sa, afd);
	}
	hxs_close(sb, cfd);
	hxs_close(sa, lfd);
	for (int i = 0; i < 200; i++)
		step();

	t_case("IPV6_V6ONLY: one bind entry, 0.0.0.0 of the port free; an IPv4 client is refused (RST)");
	lfd = listener(sa, 82, 1);
	hxs_ctl_static__owned(sa, &binds, &conns);
	CHECK_EQ(binds, 1);
	{
		/* an IPv6-only :: and an IPv4 0.0.0.0 share a port (Linux's bindv6only) */
		struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_port = htons(82) };
		int fd = hxs_socket(sa, AF_INET, SOCK_STREAM, 0);

		CHECK_EQ(hxs_bind(sa, fd, (struct sockaddr *)&any4, sizeof(any4)), 0);
		hxs_close(sa, fd);
	}
	to4.sin_port = htons(82);
	cfd = hxs_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(connect_wait(sb, cfd, (struct sockaddr *)&to4, sizeof(to4)), -ECONNREFUSED);
	hxs_close(sb, cfd);
	hxs_close(sa, lfd);

	t_case("IPV6_V6ONLY: binding ::ffff:a.b.c.d is EINVAL; a foreign IPv6 address EADDRNOTAVAIL");
	{
		uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff }, other[16];
		struct sockaddr_in6 s;
		int one = 1, fd = hxs_socket(sa, AF_INET6, SOCK_DGRAM, 0);

		memcpy(mapped + 12, &(uint32_t){ inet_addr(A4) }, 4);
		s = sa6(mapped, 90);
		CHECK_EQ(hxs_setsockopt(sa, fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_bind(sa, fd, (struct sockaddr *)&s, sizeof(s)), -EINVAL);
		inet_pton(AF_INET6, "fd00:9::77", other);
		s = sa6(other, 90);
		CHECK_EQ(hxs_bind(sa, fd, (struct sockaddr *)&s, sizeof(s)), -EADDRNOTAVAIL);
		hxs_close(sa, fd);
	}
}

static void test_udp6(void)
{
	struct sockaddr_in6 to = sa6(A6, 5353), from, name;
	socklen_t fl = sizeof(from), nl = sizeof(name);
	char buf[64];
	int a = hxs_socket(sa, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int b = hxs_socket(sb, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(5353) };
	ssize_t r = -EAGAIN;

	t_case("udp over IPv6: a datagram, its IPv6 source; names are sockaddr_in6");
	CHECK_EQ(hxs_bind(sa, a, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_sendto(sb, b, "hello6", 6, 0, (struct sockaddr *)&to, sizeof(to)), 6);
	for (int i = 0; i < 100 && r == -EAGAIN; i++) {
		step();
		r = hxs_recvfrom(sa, a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	}
	CHECK_EQ(r, 6);
	CHECK(!memcmp(buf, "hello6", 6));
	CHECK_EQ(fl, sizeof(struct sockaddr_in6));
	CHECK_EQ(from.sin6_family, AF_INET6);
	CHECK(!memcmp(&from.sin6_addr, B6, 16));
	CHECK_EQ(hxs_getsockname(sb, b, (struct sockaddr *)&name, &nl), 0);
	CHECK_EQ(name.sin6_port, from.sin6_port);
	CHECK_EQ(hxs_connect(sb, b, (struct sockaddr *)&to, sizeof(to)), 0);
	nl = sizeof(name);
	CHECK_EQ(hxs_getsockname(sb, b, (struct sockaddr *)&name, &nl), 0);
	CHECK(!memcmp(&name.sin6_addr, B6, 16));     /* the source chosen for the peer */
	nl = sizeof(name);
	CHECK_EQ(hxs_getpeername(sb, b, (struct sockaddr *)&name, &nl), 0);
	CHECK(!memcmp(&name.sin6_addr, A6, 16));
	hxs_close(sa, a);
	hxs_close(sb, b);
}

/* sockdet's IPv4 options on an AF_INET6 socket: IP_TTL is the IPv4 TTL (of IPv4-mapped
 * traffic) and leaves the IPv6 hop limit alone, as Linux's uc_ttl; IP_PKTINFO tells of IPv4
 * datagrams only; hxs_recvmsg names in a sockaddr_in6; ICMP port unreachable is IPv4's. */
static void test_udp6_opts(void)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(5400) };
	struct sockaddr_in6 to6 = sa6(A6, 5400), to4, nm;
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff }, bmapped[16];
	union { struct cmsghdr h; uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64]; } cb;
	char buf[64];
	struct iovec iv = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m;
	struct in_pktinfo pi;
	int a = hxs_socket(sa, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int b = hxs_socket(sb, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int seven = 7, one = 1, v = 0, n0;
	socklen_t vl = sizeof(v);
	uint64_t nop0 = 0, nop1 = 0;
	ssize_t r = -EAGAIN;

	memcpy(mapped + 12, &(uint32_t){ inet_addr(A4) }, 4);
	memcpy(bmapped, mapped, 12);
	memcpy(bmapped + 12, &(uint32_t){ inet_addr(B4) }, 4);
	to4 = sa6(mapped, 5400);
	t_case("AF_INET6 + IP_TTL 7: an IPv4-mapped datagram leaves with TTL 7; IP_PKTINFO gives its in_pktinfo, the name a 28-byte ::ffff:a.b.c.d");
	CHECK_EQ(hxs_bind(sa, a, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(hxs_setsockopt(sa, a, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_setsockopt(sb, b, IPPROTO_IP, IP_TTL, &seven, sizeof(seven)), 0);
	CHECK_EQ(hxs_getsockopt(sb, b, IPPROTO_IP, IP_TTL, &v, &vl), 0);
	CHECK_EQ(v, 7);
	n0 = tap[1].n;
	CHECK_EQ(hxs_sendto(sb, b, "four", 4, 0, (struct sockaddr *)&to4, sizeof(to4)), 4);
	step();
	CHECK_EQ(tap[1].n, n0 + 1);
	CHECK_EQ(tap[1].f[12] * 256 + tap[1].f[13], 0x0800);
	CHECK_EQ(tap[1].f[14 + 8], 7);
	memset(&m, 0, sizeof(m));
	m.msg_name = &nm;
	m.msg_namelen = sizeof(nm);
	m.msg_iov = &iv;
	m.msg_iovlen = 1;
	m.msg_control = cb.b;
	m.msg_controllen = sizeof(cb.b);
	for (int i = 0; i < 100 && r == -EAGAIN; i++) {
		r = hxs_recvmsg(sa, a, &m, 0);
		if (r == -EAGAIN)
			step();
	}
	CHECK_EQ(r, 4);
	CHECK(!memcmp(buf, "four", 4));
	CHECK_EQ(m.msg_namelen, sizeof(struct sockaddr_in6));
	CHECK_EQ(nm.sin6_family, AF_INET6);
	CHECK(!memcmp(&nm.sin6_addr, bmapped, 16));
	CHECK_EQ(m.msg_flags, 0);
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(struct in_pktinfo)));
	CHECK_EQ(cb.h.cmsg_level, IPPROTO_IP);
	CHECK_EQ(cb.h.cmsg_type, IP_PKTINFO);
	memcpy(&pi, CMSG_DATA(&cb.h), sizeof(pi));
	CHECK_EQ(pi.ipi_addr.s_addr, inet_addr(A4));
	CHECK_EQ(pi.ipi_spec_dst.s_addr, inet_addr(A4));

	t_case("AF_INET6 + IP_TTL 7: an IPv6 datagram keeps hop limit 64; no IP_PKTINFO for it (no control message), the name its IPv6 source");
	n0 = tap[1].n;
	CHECK_EQ(hxs_sendto(sb, b, "six!!", 5, 0, (struct sockaddr *)&to6, sizeof(to6)), 5);
	step();
	CHECK_EQ(tap[1].n, n0 + 1);
	CHECK_EQ(tap[1].f[12] * 256 + tap[1].f[13], 0x86dd);
	CHECK_EQ(tap[1].f[14 + 7], 64);
	m.msg_namelen = sizeof(nm);
	m.msg_controllen = sizeof(cb.b);
	r = -EAGAIN;
	for (int i = 0; i < 100 && r == -EAGAIN; i++) {
		r = hxs_recvmsg(sa, a, &m, 0);
		if (r == -EAGAIN)
			step();
	}
	CHECK_EQ(r, 5);
	CHECK(!memcmp(buf, "six!!", 5));
	CHECK_EQ(m.msg_namelen, sizeof(struct sockaddr_in6));
	CHECK(!memcmp(&nm.sin6_addr, B6, 16));
	CHECK_EQ(m.msg_controllen, 0);
	CHECK_EQ(m.msg_flags, 0);

	t_case("a datagram to a port nobody holds: UdpNoPorts; over IPv4 an ICMP port unreachable answers, over IPv6 nothing (no ICMPv6 from hxs)");
	CHECK_EQ(hxs_stack__counter(sa, "UdpNoPorts", &nop0), 0);
	to4.sin6_port = to6.sin6_port = htons(5499);
	n0 = tap[0].n;
	CHECK_EQ(hxs_sendto(sb, b, "x", 1, 0, (struct sockaddr *)&to4, sizeof(to4)), 1);
	for (int i = 0; i < 5; i++)
		step();
	CHECK_EQ(tap[0].n, n0 + 1);
	CHECK_EQ(tap[0].f[14 + 9], IPPROTO_ICMP);
	CHECK_EQ(tap[0].f[14 + 20], 3);          /* destination unreachable */
	CHECK_EQ(tap[0].f[14 + 21], 3);          /* port unreachable */
	n0 = tap[0].n;
	CHECK_EQ(hxs_sendto(sb, b, "x", 1, 0, (struct sockaddr *)&to6, sizeof(to6)), 1);
	for (int i = 0; i < 5; i++)
		step();
	CHECK_EQ(tap[0].n, n0);
	CHECK_EQ(hxs_stack__counter(sa, "UdpNoPorts", &nop1), 0);
	CHECK_EQ(nop1, nop0 + 2);
	hxs_close(sa, a);
	hxs_close(sb, b);
}

/* RFC 4987 §3.6 over IPv6: a full SYN queue answers with a cookie, and its ACK (or the data
 * that follows it, once the accept queue has room) opens the connection. */
static void test_syncookie6(void)
{
	struct sockaddr_in6 to = sa6(A6, 83);
	int lfd = listener_bl(sa, 83, 0, 1), cfd[3], afd[3], na = 0, sent[3] = { 0 };
	uint64_t cs = 0, cr = 0;
	char got[3][8];
	int gotn[3] = { 0 };

	t_case("syn cookies over IPv6: a third SYN on a backlog-1 listener gets a cookie; all 3 connect");
	for (int i = 0; i < 3; i++) {
		cfd[i] = hxs_socket(sb, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(sb, cfd[i], (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	}
	for (int it = 0; it < 20000 && (na < 3 || gotn[0] + gotn[1] + gotn[2] < 9); it++) {
		struct sockaddr_in6 p;
		socklen_t pl = sizeof(p);
		int fd = hxs_accept4(sa, lfd, (struct sockaddr *)&p, &pl, SOCK_NONBLOCK);

		if (fd >= 0 && na < 3)
			afd[na++] = fd;
		for (int i = 0; i < 3; i++) {
			char m[4] = { 'c', (char)('0' + i), '!', 0 };
			if (!sent[i] && hxs_send(sb, cfd[i], m, 3, MSG_DONTWAIT) == 3)
				sent[i] = 1;
		}
		for (int i = 0; i < na; i++) {
			ssize_t r = hxs_recv(sa, afd[i], got[i] + gotn[i], 3 - (size_t)gotn[i], MSG_DONTWAIT);
			if (r > 0)
				gotn[i] += (int)r;
		}
		step();
	}
	CHECK_EQ(na, 3);
	for (int i = 0; i < na; i++) {
		CHECK_EQ(gotn[i], 3);
		CHECK(got[i][0] == 'c' && got[i][2] == '!');
	}
	CHECK_EQ(hxs_stack__counter(sa, "SyncookiesSent", &cs), 0);
	CHECK_EQ(hxs_stack__counter(sa, "SyncookiesRecv", &cr), 0);
	CHECK(cs >= 1 && cr >= 1, "SyncookiesSent %llu, SyncookiesRecv %llu",
	      (unsigned long long)cs, (unsigned long long)cr);
	for (int i = 0; i < 3; i++)
		hxs_close(sb, cfd[i]);
	for (int i = 0; i < na; i++)
		hxs_close(sa, afd[i]);
	hxs_close(sa, lfd);
	for (int i = 0; i < 200; i++)
		step();
}

static void netif6(struct hxs_netif_static *n, const char *ip4, const uint8_t mac[6],
		   const uint8_t a6[16], const char *peer4, const uint8_t peer_mac[6],
		   const uint8_t peer6[16])
{
	memset(n, 0, sizeof(*n));
	n->addr = inet_addr(ip4);
	n->prefix_len = 24;
	n->mtu = 1500;
	memcpy(n->mac, mac, 6);
	n->n_neigh = 1;
	n->neigh[0].ip = inet_addr(peer4);
	memcpy(n->neigh[0].mac, peer_mac, 6);
	memcpy(n->addr6, a6, 16);
	n->prefix6_len = 64;
	n->n_neigh6 = 1;
	memcpy(n->neigh6[0].ip, peer6, 16);
	memcpy(n->neigh6[0].mac, peer_mac, 6);
}

int main(void)
{
	struct hxs_netif_static ca, cb;
	struct netsim_cfg nc = { .dir = { { .delay_us = 100 }, { .delay_us = 100 } } };
	struct hxs_io_stats s;

	inet_pton(AF_INET6, "fd00:9::1", A6);
	inet_pton(AF_INET6, "fd00:9::2", B6);
	netif6(&ca, A4, MAC_A, A6, B4, MAC_B, B6);
	netif6(&cb, B4, MAC_B, B6, A4, MAC_A, A6);

	t_case("two stacks with IPv6 and IPv4 addresses, a simulated link between them");
	CHECK_EQ(hxs_io_mem__open(&ia, 1024, 2048), 0);
	CHECK_EQ(hxs_io_mem__open(&ib, 1024, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&sa, ia, &ca), 0);
	CHECK_EQ(hxs_stack__open_io(&sb, ib, &cb), 0);
	if (!sa || !sb)
		return t_done();
	hxs_stack__set_clock(sa, vclock, NULL);
	hxs_stack__set_clock(sb, vclock, NULL);
	ns = netsim_new(&nc, 2024);

	test_tcp_lossy();
	test_dual_stack();
	test_udp6();
	test_udp6_opts();
	test_syncookie6();

	t_case("close: every frame back in both pools");
	for (int i = 0; i < 2000; i++)
		step();
	hxs_stack__close(sa);
	hxs_stack__close(sb);
	for (struct hxs_io *io = ia; io; io = io == ia ? ib : NULL) {
		while (hxs_io_mem__take(io, (uint8_t[2048]){ 0 }, 2048) >= 0)
			;
		io->ops->flush(io);
		io->ops->get_stats(io, &s);
		CHECK_EQ(s.frames_held, 0);
		CHECK_EQ(s.frames_tx_queued, 0);
		CHECK_EQ(s.frames_free + s.frames_rx_queued, s.frames_total);
		io->ops->close(io);
	}
	netsim_free(ns);
	return t_done();
}
