/* test_udp_sock.c - the UDP socket API on a whole hxs stack (udp_fixture.h): errno values of
 * socket/bind/connect/sendto/recvfrom and the options, recvmsg/sendmsg with control messages
 * (IP_PKTINFO, IP_RECVTOS, IP_TTL, IP_TOS, MSG_TRUNC, MSG_CTRUNC), and epoll level/edge/
 * one-shot semantics on UDP sockets. Time is virtual. */
#include "udp_fixture.h"
#include <sys/epoll.h>

static void test_socket_errors(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7100) };
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000),
				    .sin_addr.s_addr = ip4(IP_PEER) };
	char big[1473] = { 0 };
	char buf[64];
	int fd, fd2;

	t_case("socket: EAFNOSUPPORT, ESOCKTNOSUPPORT, EPROTONOSUPPORT, EBADF");
	CHECK_EQ(hxs_socket(st, AF_UNIX, SOCK_DGRAM, 0), -EAFNOSUPPORT);
	CHECK_EQ(hxs_socket(st, AF_INET, SOCK_RAW, 0), -ESOCKTNOSUPPORT);
	CHECK_EQ(hxs_socket(st, AF_INET, SOCK_DGRAM, IPPROTO_TCP), -EPROTONOSUPPORT);
	CHECK_EQ(hxs_socket(st, AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
	CHECK_EQ(hxs_send(st, 999, "x", 1, 0), -EBADF);
	CHECK_EQ(hxs_close(st, -1), -EBADF);

	t_case("socket: flags as __sys_socket: SOCK_NONBLOCK and SOCK_CLOEXEC taken, any other bit above the type EINVAL (before the family)");
	CHECK_EQ(hxs_socket(st, AF_INET, SOCK_DGRAM | 0x100, 0), -EINVAL);
	CHECK_EQ(hxs_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | 0x4000, 0), -EINVAL);
	CHECK_EQ(hxs_socket(st, AF_INET6, SOCK_DGRAM | 0x100, 0), -EINVAL);
	fd = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0, "%d", fd);
	{
		int ty = 0;
		socklen_t tl = sizeof(ty);

		CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_TYPE, &ty, &tl), 0);
		CHECK_EQ(ty, SOCK_DGRAM);
	}
	hxs_close(st, fd);
	fd = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0, "%d", fd);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);  /* non-blocking: no wait */
	hxs_close(st, fd);

	t_case("bind: EADDRINUSE twice, EINVAL when bound, EADDRNOTAVAIL, EAFNOSUPPORT");
	fd = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
	fd2 = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(hxs_bind(st, fd2, (struct sockaddr *)&a, sizeof(a)), -EADDRINUSE);
	a.sin_addr.s_addr = ip4(IP_US);
	CHECK_EQ(hxs_bind(st, fd2, (struct sockaddr *)&a, sizeof(a)), -EADDRINUSE);
	a.sin_port = htons(7101);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a)), -EINVAL);
	a.sin_addr.s_addr = ip4("10.0.0.9");
	CHECK_EQ(hxs_bind(st, fd2, (struct sockaddr *)&a, sizeof(a)), -EADDRNOTAVAIL);
	a.sin_family = AF_INET6;
	a.sin_addr.s_addr = 0;
	CHECK_EQ(hxs_bind(st, fd2, (struct sockaddr *)&a, sizeof(a)), -EAFNOSUPPORT);
	CHECK_EQ(hxs_bind(st, fd2, (struct sockaddr *)&a, 4), -EINVAL);
	a.sin_family = AF_INET;

	t_case("bind: SO_REUSEADDR on both sides shares the port");
	{
		int one = 1, f3 = hxs_socket(st, AF_INET, SOCK_DGRAM, 0), f4 = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in r = { .sin_family = AF_INET, .sin_port = htons(7102) };
		CHECK_EQ(hxs_setsockopt(st, f3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_bind(st, f3, (struct sockaddr *)&r, sizeof(r)), 0);
		CHECK_EQ(hxs_bind(st, f4, (struct sockaddr *)&r, sizeof(r)), -EADDRINUSE);
		CHECK_EQ(hxs_setsockopt(st, f4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_bind(st, f4, (struct sockaddr *)&r, sizeof(r)), 0);
		hxs_close(st, f3);
		hxs_close(st, f4);
	}

	t_case("send: EDESTADDRREQ unconnected, EMSGSIZE over MTU - 28, 1472 fits");
	CHECK_EQ(hxs_send(st, fd, "x", 1, 0), -EDESTADDRREQ);
	CHECK_EQ(hxs_sendto(st, fd, big, 1473, 0, (struct sockaddr *)&peer, sizeof(peer)), -EMSGSIZE);
	CHECK_EQ(hxs_sendto(st, fd, big, 1472, 0, (struct sockaddr *)&peer, sizeof(peer)), 1472);
	CHECK_EQ(hxs_sendto(st, fd, big, 1, 0, (struct sockaddr *)&peer, 8), -EINVAL);
	{
		struct sockaddr_in far = peer;
		far.sin_addr.s_addr = ip4("192.0.2.1");
		CHECK_EQ(hxs_sendto(st, fd, big, 1, 0, (struct sockaddr *)&far, sizeof(far)), -ENETUNREACH);
	}
	hxs_stack__poll(st, 0);
	CHECK_EQ(drain(), 1);

	t_case("send: no TX frame left -> EAGAIN and exactly one UdpSndbufErrors per failure");
	{
		uint64_t sb = mib(HXS_MIB_UDP_SNDBUF_ERRORS), outd = mib(HXS_MIB_UDP_OUT_DATAGRAMS);
		ssize_t r = 0;
		int sent = 0;
		/* the in-memory link keeps sent frames until taken: the pool runs dry */
		while (sent < 4096 && (r = hxs_sendto(st, fd, "y", 1, MSG_DONTWAIT, (struct sockaddr *)&peer, sizeof(peer))) == 1)
			sent++;
		CHECK_EQ(r, -EAGAIN);
		CHECK(sent > 0 && sent < 4096, "sent %d", sent);
		CHECK_EQ(hxs_sendto(st, fd, "y", 1, MSG_DONTWAIT, (struct sockaddr *)&peer, sizeof(peer)), -EAGAIN);
		CHECK_EQ(mib(HXS_MIB_UDP_SNDBUF_ERRORS), sb + 2);
		CHECK_EQ(mib(HXS_MIB_UDP_OUT_DATAGRAMS), outd + (uint64_t)sent);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), sent);
		CHECK_EQ(hxs_sendto(st, fd, "y", 1, MSG_DONTWAIT, (struct sockaddr *)&peer, sizeof(peer)), 1);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), 1);
		CHECK_EQ(mib(HXS_MIB_UDP_SNDBUF_ERRORS), sb + 2);
	}

	t_case("recv: EAGAIN non-blocking (SOCK_NONBLOCK, set_nonblock, MSG_DONTWAIT)");
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	CHECK_EQ(hxs_set_nonblock(st, fd, true), 0);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);

	t_case("recv: blocking with SO_RCVTIMEO times out with EAGAIN");
	{
		struct timeval tv = { .tv_sec = 0, .tv_usec = 1 };
		CHECK_EQ(hxs_set_nonblock(st, fd, false), 0);
		CHECK_EQ(hxs_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
		/* no timer is armed here: the real clock for this wait, then virtual time again */
		hxs_stack__set_clock(st, NULL, NULL);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
		hxs_stack__set_clock(st, vclock, NULL);
		tv.tv_usec = 1000000;
		CHECK_EQ(hxs_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), -EDOM);
		hxs_set_nonblock(st, fd, true);
	}

	t_case("getpeername ENOTCONN, shutdown unconnected ENOTCONN, listen/accept EOPNOTSUPP");
	{
		struct sockaddr_in n;
		socklen_t nl = sizeof(n);
		CHECK_EQ(hxs_getpeername(st, fd, (struct sockaddr *)&n, &nl), -ENOTCONN);
		CHECK_EQ(hxs_listen(st, fd, 5), -EOPNOTSUPP);
		CHECK_EQ(hxs_accept(st, fd, NULL, NULL), -EOPNOTSUPP);
		CHECK_EQ(hxs_shutdown(st, fd2, 7), -EINVAL);
		CHECK_EQ(hxs_shutdown(st, fd2, SHUT_RD), -ENOTCONN);
	}
	hxs_close(st, fd2);

	t_case("connect: filters other peers, getpeername, send() uses the peer");
	{
		uint8_t f[2048];
		struct pkt_opts o = good(7100, "from-peer");
		struct sockaddr_in n;
		socklen_t nl = sizeof(n);
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS);
		uint32_t len;

		CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
		CHECK_EQ(hxs_getpeername(st, fd, (struct sockaddr *)&n, &nl), 0);
		CHECK_EQ(n.sin_port, htons(5000));
		CHECK_EQ(n.sin_addr.s_addr, ip4(IP_PEER));
		o.sport = htons(5001);
		len = build(f, &o);
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np + 1);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
		o.sport = htons(5000);
		len = build(f, &o);
		inject(f, len);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 9);
		CHECK_EQ(hxs_send(st, fd, "back", 4, 0), 4);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), 2);   /* the answer, and ICMP port unreachable to port 5001's */
		/* AF_UNSPEC dissolves the association */
		struct sockaddr un = { .sa_family = AF_UNSPEC };
		CHECK_EQ(hxs_connect(st, fd, &un, sizeof(un)), 0);
		CHECK_EQ(hxs_send(st, fd, "x", 1, 0), -EDESTADDRREQ);
	}

	t_case("connected socket beats the wildcard bind for its peer");
	{
		uint8_t f[2048];
		int w = udp_sock(7200, 1), c = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in ca = { .sin_family = AF_INET, .sin_port = htons(7200), .sin_addr.s_addr = ip4(IP_US) };
		int one = 1;
		uint32_t len;
		hxs_setsockopt(st, w, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		hxs_setsockopt(st, c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* w was bound before SO_REUSEADDR: rebind it */
		hxs_close(st, w);
		w = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		hxs_setsockopt(st, w, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ca.sin_addr.s_addr = 0;
		CHECK_EQ(hxs_bind(st, w, (struct sockaddr *)&ca, sizeof(ca)), 0);
		ca.sin_addr.s_addr = ip4(IP_US);
		CHECK_EQ(hxs_bind(st, c, (struct sockaddr *)&ca, sizeof(ca)), 0);
		CHECK_EQ(hxs_connect(st, c, (struct sockaddr *)&peer, sizeof(peer)), 0);
		struct pkt_opts o = good(7200, "p1");
		len = build(f, &o);
		inject(f, len);
		o.sport = htons(5005);
		len = build(f, &o);
		inject(f, len);
		CHECK_EQ(hxs_recv(st, c, buf, sizeof(buf), 0), 2);
		CHECK_EQ(hxs_recv(st, c, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(hxs_recv(st, w, buf, sizeof(buf), 0), 2);
		CHECK_EQ(hxs_recv(st, w, buf, sizeof(buf), 0), -EAGAIN);
		hxs_close(st, w);
		hxs_close(st, c);
	}

	t_case("bind port 0: ephemeral port in range, getsockname; close frees the port");
	{
		struct sockaddr_in n;
		socklen_t nl = sizeof(n);
		int e = hxs_socket(st, AF_INET, SOCK_DGRAM, 0), e2;
		struct sockaddr_in z = { .sin_family = AF_INET };
		CHECK_EQ(hxs_bind(st, e, (struct sockaddr *)&z, sizeof(z)), 0);
		CHECK_EQ(hxs_getsockname(st, e, (struct sockaddr *)&n, &nl), 0);
		CHECK_EQ(nl, sizeof(n));
		CHECK(ntohs(n.sin_port) >= HXS_EPH_LO_DEFAULT,
		      "port %u", ntohs(n.sin_port));
		CHECK_EQ(hxs_close(st, e), 0);
		e2 = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
		CHECK_EQ(hxs_bind(st, e2, (struct sockaddr *)&n, sizeof(n)), 0);
		hxs_close(st, e2);
		/* a range of 3 ports: the fourth bind finds none */
		CHECK_EQ(hxs_stack__set_port_range(st, 62000, 62002), 0);
		int s[4];
		for (int i = 0; i < 4; i++) {
			s[i] = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
			int r = hxs_bind(st, s[i], (struct sockaddr *)&z, sizeof(z));
			CHECK_EQ(r, i < 3 ? 0 : -EADDRINUSE);
			nl = sizeof(n);
			hxs_getsockname(st, s[i], (struct sockaddr *)&n, &nl);
			if (i < 3)
				CHECK(ntohs(n.sin_port) >= 62000 && ntohs(n.sin_port) <= 62002);
		}
		for (int i = 0; i < 4; i++)
			hxs_close(st, s[i]);
		hxs_stack__set_port_range(st, HXS_EPH_LO_DEFAULT, HXS_EPH_HI_DEFAULT);
	}

	t_case("send autobinds an ephemeral port; getsockopt SO_TYPE/SO_ERROR/SO_SNDBUF");
	{
		int s = hxs_socket(st, AF_INET, SOCK_DGRAM, 0), v = 0;
		socklen_t vl = sizeof(v);
		struct sockaddr_in n;
		socklen_t nl = sizeof(n);
		CHECK_EQ(hxs_sendto(st, s, "a", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
		CHECK_EQ(hxs_getsockname(st, s, (struct sockaddr *)&n, &nl), 0);
		CHECK(ntohs(n.sin_port) >= HXS_EPH_LO_DEFAULT);
		CHECK_EQ(hxs_getsockopt(st, s, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
		CHECK_EQ(v, SOCK_DGRAM);
		CHECK_EQ(hxs_getsockopt(st, s, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, 0);
		v = 100000;
		CHECK_EQ(hxs_setsockopt(st, s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
		CHECK_EQ(hxs_getsockopt(st, s, SOL_SOCKET, SO_SNDBUF, &v, &vl), 0);
		CHECK_EQ(v, 200000);
		CHECK_EQ(hxs_setsockopt(st, s, SOL_SOCKET, 9999, &v, sizeof(v)), -ENOPROTOOPT);
		CHECK_EQ(hxs_setsockopt(st, s, SOL_SOCKET, SO_RCVBUF, &v, 2), -EINVAL);
		hxs_close(st, s);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), 1);
	}
	hxs_close(st, fd);
}

/* recvmsg/sendmsg with control messages (ip(7)): IP_PKTINFO, IP_RECVTOS, MSG_TRUNC,
 * MSG_CTRUNC; IP_TTL / IP_TOS / IP_PKTINFO sent with a datagram. */
static void test_msg(void)
{
	struct pkt_opts o = good(7400, "0123456789");
	struct sockaddr_in from, peer = { .sin_family = AF_INET, .sin_port = htons(5000),
					  .sin_addr.s_addr = ip4(IP_PEER) };
	uint8_t f[2048], data[64];
	union { struct cmsghdr h; uint8_t b[256]; } ctl;
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m;
	struct cmsghdr *c;
	struct in_pktinfo pi;
	int fd = udp_sock(7400, 1), one = 1, v;
	uint32_t n;

	t_case("recvmsg: IP_PKTINFO (ifindex, spec_dst, addr) then IP_TOS (one byte), exact; msg_name, msg_flags 0");
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)), 0);
	n = build(f, &o);
	f[15] = 0x2e;                           /* DSCP 11, ECT(0) */
	fix_ip_csum(f);
	inject(f, n);
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.b;
	m.msg_controllen = sizeof(ctl.b);
	m.msg_flags = -1;
	CHECK_EQ(hxs_recvmsg(st, fd, &m, 0), 10);
	CHECK(!memcmp(data, "0123456789", 10));
	CHECK_EQ(m.msg_flags, 0);
	CHECK_EQ(m.msg_namelen, sizeof(from));
	CHECK_EQ(from.sin_addr.s_addr, ip4(IP_PEER));
	CHECK_EQ(from.sin_port, htons(5000));
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(1));
	c = CMSG_FIRSTHDR(&m);
	CHECK(c != NULL);
	CHECK_EQ(c->cmsg_level, IPPROTO_IP);
	CHECK_EQ(c->cmsg_type, IP_PKTINFO);
	CHECK_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct in_pktinfo)));
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	CHECK_EQ(pi.ipi_ifindex, 0);            /* the in-memory link has no kernel interface */
	CHECK_EQ(pi.ipi_spec_dst.s_addr, ip4(IP_US));
	CHECK_EQ(pi.ipi_addr.s_addr, ip4(IP_US));
	c = CMSG_NXTHDR(&m, c);
	CHECK(c != NULL);
	CHECK_EQ(c->cmsg_type, IP_TOS);
	CHECK_EQ(c->cmsg_len, CMSG_LEN(1));
	CHECK_EQ(*CMSG_DATA(c), 0x2e);
	CHECK(CMSG_NXTHDR(&m, c) == NULL);

	t_case("recvmsg: a control buffer with room for IP_PKTINFO only: IP_TOS left out, MSG_CTRUNC; a 4-byte buffer: MSG_TRUNC, real length with the MSG_TRUNC flag");
	inject(f, n);
	m.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
	m.msg_namelen = sizeof(from);
	iov.iov_len = 4;
	CHECK_EQ(hxs_recvmsg(st, fd, &m, MSG_TRUNC), 10);
	CHECK_EQ(m.msg_flags, MSG_TRUNC | MSG_CTRUNC);
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(struct in_pktinfo)));
	inject(f, n);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	CHECK_EQ(hxs_recvmsg(st, fd, &m, 0), 4);
	CHECK_EQ(m.msg_flags, MSG_TRUNC | MSG_CTRUNC);
	iov.iov_len = sizeof(data);

	t_case("recvmsg: without IP_PKTINFO/IP_RECVTOS no control message, msg_controllen 0");
	v = 0;
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_PKTINFO, &v, sizeof(v)), 0);
	CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_RECVTOS, &v, sizeof(v)), 0);
	inject(f, n);
	m.msg_control = ctl.b;
	m.msg_controllen = sizeof(ctl.b);
	CHECK_EQ(hxs_recvmsg(st, fd, &m, 0), 10);
	CHECK_EQ(m.msg_controllen, 0);
	CHECK_EQ(m.msg_flags, 0);

	t_case("sendmsg: IP_TTL and IP_TOS control messages for one datagram; IP_PKTINFO with a foreign source or an unknown SOL_IP type EINVAL");
	drain();
	memset(ctl.b, 0, sizeof(ctl.b));
	c = &ctl.h;
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_TTL;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	v = 5;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	c = (struct cmsghdr *)(ctl.b + CMSG_SPACE(sizeof(int)));
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_TOS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	v = 0x10;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	memset(&m, 0, sizeof(m));
	m.msg_name = &peer;
	m.msg_namelen = sizeof(peer);
	iov.iov_base = "abc";
	iov.iov_len = 3;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.b;
	m.msg_controllen = 2 * CMSG_SPACE(sizeof(int));
	CHECK_EQ(hxs_sendmsg(st, fd, &m, 0), 3);
	hxs_stack__poll(st, 0);
	CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), 14 + 20 + 8 + 3);
	CHECK_EQ(f[14 + 8], 5);
	CHECK_EQ(f[14 + 1], 0x10);
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 20)), 0);
	CHECK_EQ(hxs_send(st, fd, "x", 1, 0), -EDESTADDRREQ);
	CHECK_EQ(hxs_sendto(st, fd, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
	hxs_stack__poll(st, 0);
	CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), 14 + 20 + 8 + 1);
	CHECK_EQ(f[14 + 8], 64);                /* the socket's own again */
	CHECK_EQ(f[14 + 1], 0);
	memset(ctl.b, 0, sizeof(ctl.b));
	c = &ctl.h;
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memset(&pi, 0, sizeof(pi));
	pi.ipi_spec_dst.s_addr = ip4("10.0.0.99");
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	m.msg_controllen = CMSG_SPACE(sizeof(pi));
	CHECK_EQ(hxs_sendmsg(st, fd, &m, 0), -EINVAL);
	pi.ipi_spec_dst.s_addr = ip4(IP_US);
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	CHECK_EQ(hxs_sendmsg(st, fd, &m, 0), 3);
	c->cmsg_type = IP_RECVERR;
	CHECK_EQ(hxs_sendmsg(st, fd, &m, 0), -EINVAL);
	hxs_stack__poll(st, 0);
	CHECK_EQ(drain(), 1);                   /* the one IP_PKTINFO datagram with our source */
	hxs_close(st, fd);
}

static int wakes;                  /* an epoll instance's ready list stopped being empty */
static void count_wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

static void test_epoll(void)
{
	uint8_t f[2048];
	struct hxs_event ev[8];
	int lt = udp_sock(7500, 1), et = udp_sock(7501, 1), os = udp_sock(7502, 1);
	int ep = hxs_epoll_create(st);
	char buf[64];
	uint32_t len;

	t_case("epoll: ctl errors (EEXIST, ENOENT, EBADF)");
	CHECK(ep >= 0);
	struct hxs_event in = { .events = EPOLLIN, .data = 1 };
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, lt, &in), 0);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, lt, &in), -EEXIST);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_MOD, et, &in), -ENOENT);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_DEL, et, NULL), -ENOENT);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, 999, &in), -EBADF);
	CHECK_EQ(hxs_epoll_ctl(st, 77, EPOLL_CTL_ADD, lt, &in), -EBADF);
	struct hxs_event ine = { .events = EPOLLIN | EPOLLET, .data = 2 };
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, et, &ine), 0);
	struct hxs_event ino = { .events = EPOLLIN | EPOLLONESHOT, .data = 3 };
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, os, &ino), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 0);

	t_case("epoll: level-triggered reports until drained");
	struct pkt_opts o = good(7500, "lt");
	len = build(f, &o);
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
	CHECK_EQ(ev[0].data, 1);
	CHECK_EQ(ev[0].events, EPOLLIN);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
	CHECK_EQ(hxs_recv(st, lt, buf, sizeof(buf), 0), 2);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 0);

	t_case("epoll: edge-triggered reports once per arrival");
	o = good(7501, "et");
	len = build(f, &o);
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
	CHECK_EQ(ev[0].data, 2);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 0);
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
	CHECK_EQ(hxs_recv(st, et, buf, sizeof(buf), 0), 2);
	CHECK_EQ(hxs_recv(st, et, buf, sizeof(buf), 0), 2);

	t_case("epoll: a datagram wakes EPOLLIN items, and EPOLLOUT ones only while the socket may send");
	{
		struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr.s_addr = ip4(IP_PEER) };
		struct hxs_event oe = { .events = EPOLLOUT | EPOLLET, .data = 5 };
		struct hxs_event ie = { .events = EPOLLIN | EPOLLET, .data = 6 };
		int w = udp_sock(7503, 1), e2 = hxs_epoll_create(st);
		struct pkt_opts q = good(7503, "w");
		uint32_t qlen;

		CHECK_EQ(hxs_connect(st, w, (struct sockaddr *)&peer, sizeof(peer)), 0);
		CHECK_EQ(hxs_epoll_ctl(st, e2, EPOLL_CTL_ADD, w, &oe), 0);
		CHECK_EQ(hxs_epoll__set_notify(st, e2, count_wake, NULL), 0);
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 1);  /* writable: once (edge) */
		CHECK(ev[0].data == 5 && ev[0].events == EPOLLOUT, "events %x", ev[0].events);
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 0);
		qlen = build(f, &q);
		wakes = 0;
		CHECK_EQ(hxs_io_mem__inject(io, f, qlen), 0);
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 1);  /* the datagram's wake: still writable */
		CHECK(ev[0].data == 5 && ev[0].events == EPOLLOUT, "events %x", ev[0].events);
		CHECK_EQ(wakes, 1);
		CHECK_EQ(hxs_shutdown(st, w, SHUT_WR), 0);
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 0);
		wakes = 0;
		CHECK_EQ(hxs_io_mem__inject(io, f, qlen), 0);
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 0);  /* shut for writing: no EPOLLOUT */
		CHECK_EQ(wakes, 0);
		CHECK_EQ(hxs_epoll_ctl(st, e2, EPOLL_CTL_MOD, w, &ie), 0);
		CHECK_EQ(wakes, 1);                              /* readable at once: queued by ctl */
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 1);
		CHECK(ev[0].data == 6 && ev[0].events == EPOLLIN, "events %x", ev[0].events);
		CHECK_EQ(hxs_io_mem__inject(io, f, qlen), 0);
		CHECK_EQ(wakes, 1);                              /* not before the stack's turn */
		CHECK_EQ(hxs_epoll_wait(st, e2, ev, 8, 0), 1);
		CHECK_EQ(wakes, 2);
		CHECK_EQ(hxs_recv(st, w, buf, sizeof(buf), 0), 1);
		CHECK_EQ(hxs_recv(st, w, buf, sizeof(buf), 0), 1);
		CHECK_EQ(hxs_recv(st, w, buf, sizeof(buf), 0), 1);
		CHECK_EQ(hxs_recv(st, w, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(hxs_epoll_close(st, e2), 0);
		hxs_close(st, w);
	}

	t_case("epoll: one-shot disarms until EPOLL_CTL_MOD");
	o = good(7502, "os");
	len = build(f, &o);
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
	CHECK_EQ(ev[0].data, 3);
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 0);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_MOD, os, &ino), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);

	t_case("epoll: EPOLLOUT level, EPOLLHUP/RDHUP after shutdown, maxevents respected");
	{
		struct hxs_event out = { .events = EPOLLOUT | EPOLLRDHUP, .data = 4 };
		struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr.s_addr = ip4(IP_PEER) };
		CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_DEL, os, NULL), 0);
		CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_MOD, lt, &out), 0);
		CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
		CHECK_EQ(ev[0].events, EPOLLOUT);
		CHECK_EQ(hxs_epoll_wait(st, ep, ev, 1, 0), 1);
		CHECK_EQ(hxs_connect(st, lt, (struct sockaddr *)&peer, sizeof(peer)), 0);
		CHECK_EQ(hxs_shutdown(st, lt, SHUT_RDWR), 0);
		CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 1);
		CHECK_EQ(ev[0].events, EPOLLHUP | EPOLLRDHUP);
		CHECK_EQ(hxs_recv(st, lt, buf, sizeof(buf), 0), 0);
		CHECK_EQ(hxs_send(st, lt, "x", 1, 0), -EPIPE);
	}

	t_case("epoll: closing a socket removes its registration");
	hxs_close(st, lt);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), 0);
	CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_DEL, lt, NULL), -EBADF);
	CHECK_EQ(hxs_epoll_close(st, ep), 0);
	CHECK_EQ(hxs_epoll_wait(st, ep, ev, 8, 0), -EBADF);
	hxs_close(st, et);
	hxs_close(st, os);

	t_case("epoll: 5,000 sockets in two instances: add, mod, del in mixed order keep every item");
	{
		enum { NS = 5000 };
		static int fds[NS];
		static struct hxs_event big[NS + 1];
		int e1 = hxs_epoll_create(st), e2 = hxs_epoll_create(st), ok = 1, n;
		uint64_t sum = 0;

		for (int i = 0; i < NS && ok; i++) {
			struct hxs_event e = { .events = EPOLLOUT, .data = (uint64_t)i };
			fds[i] = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
			ok = fds[i] >= 0 && hxs_epoll_ctl(st, e1, EPOLL_CTL_ADD, fds[i], &e) == 0;
			if (ok && i % 2 == 0)   /* every other socket in a second instance too */
				ok = hxs_epoll_ctl(st, e2, EPOLL_CTL_ADD, fds[i], &e) == 0;
		}
		CHECK(ok);
		CHECK_EQ(hxs_epoll_ctl(st, e1, EPOLL_CTL_ADD, fds[NS / 2], &in), -EEXIST);
		/* MOD every third to EPOLLIN (not ready: drops out of the report) */
		for (int i = 0; i < NS && ok; i += 3) {
			struct hxs_event e = { .events = EPOLLIN, .data = (uint64_t)i };
			ok = hxs_epoll_ctl(st, e1, EPOLL_CTL_MOD, fds[i], &e) == 0;
		}
		/* DEL every fifth from the first instance, from the end backwards */
		for (int i = (NS - 1) / 5 * 5; i >= 0 && ok; i -= 5)
			ok = hxs_epoll_ctl(st, e1, EPOLL_CTL_DEL, fds[i], NULL) == 0;
		CHECK(ok);
		CHECK_EQ(hxs_epoll_ctl(st, e1, EPOLL_CTL_DEL, fds[5], NULL), -ENOENT);
		CHECK_EQ(hxs_epoll_ctl(st, e1, EPOLL_CTL_MOD, fds[10], &in), -ENOENT);
		n = hxs_epoll_wait(st, e1, big, NS + 1, 0);
		/* reported: not a multiple of 3 (EPOLLIN now) and not of 5 (deleted) */
		{
			int want = 0;
			uint64_t wsum = 0;
			for (int i = 0; i < NS; i++)
				if (i % 3 && i % 5) {
					want++;
					wsum += (uint64_t)i;
				}
			for (int i = 0; i < n; i++)
				sum += big[i].data;
			CHECK_EQ(n, want);
			CHECK_EQ(sum, wsum);
		}
		/* the second instance still sees all of its own */
		CHECK_EQ(hxs_epoll_wait(st, e2, big, NS + 1, 0), NS / 2);
		/* closing a socket watched by both removes both registrations */
		hxs_close(st, fds[2]);
		CHECK_EQ(hxs_epoll_wait(st, e2, big, NS + 1, 0), NS / 2 - 1);
		CHECK_EQ(hxs_epoll_wait(st, e1, big, NS + 1, 0), n - 1);   /* 2 is a multiple of neither: was reported */
		CHECK_EQ(hxs_epoll_close(st, e1), 0);
		CHECK_EQ(hxs_epoll_wait(st, e2, big, NS + 1, 0), NS / 2 - 1);
		CHECK_EQ(hxs_epoll_close(st, e2), 0);
		for (int i = 0; i < NS; i++)
			if (i != 2)
				hxs_close(st, fds[i]);
	}
}

int main(void)
{
	if (udpfix_open() < 0)
		return t_done();

	test_socket_errors();
	test_msg();
	test_epoll();

	udpfix_close();
	return t_done();
}
