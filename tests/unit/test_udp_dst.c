/* test_udp_dst.c - a UDP socket's cached destination (struct hxs_ip_dst, ip.h) follows every
 * change of the control plane: a neighbour's new address, a deleted neighbour, a new or
 * removed gateway, IPv4 and IPv6, connected and unconnected sockets, several destinations
 * on one socket; a change the control plane does not report is picked up within
 * HXS_IP_DST_TTL_US of turn time or HXS_IP_DST_USES sends. One stack on the in-memory link
 * (static control plane: hxs_ctl_static__set_* stand for the kernel's notifications), virtual
 * time. Every frame's destination MAC, addresses and checksums are read back. */
#include <sys/epoll.h>

#include "udp_fixture.h"

static const uint8_t MAC_NEW[6] = { 0x02, 0, 0, 0, 0, 0x41 };
static const uint8_t MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0xfe };
static const uint8_t MAC_GW2[6] = { 0x02, 0, 0, 0, 0, 0xfd };
#define IP_GW  "10.0.0.254"
#define IP_GW2 "10.0.0.253"
#define IP_FAR "192.0.2.5"
static uint8_t US6[16], PEER6[16], PEER6B[16];

/* One frame out; checks what every datagram must have and returns its length (or -1). */
static int take_v4(uint8_t *f, size_t cap, uint32_t dst, const char *payload)
{
	int plen = (int)strlen(payload), n;

	hxs_stack__poll(st, 0);
	n = hxs_io_mem__take(io, f, cap);
	CHECK_EQ(n, 14 + 20 + 8 + plen);
	if (n != 14 + 20 + 8 + plen)
		return -1;
	CHECK(!memcmp(f + 6, MAC_US, 6));
	CHECK(f[12] == 0x08 && f[13] == 0);
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 20)), 0);
	CHECK(!memcmp(f + 14 + 16, &dst, 4));
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(ip4(IP_US), dst, IPPROTO_UDP, 8 + plen),
					    f + 34, 8 + plen)), 0);
	CHECK(!memcmp(f + 42, payload, plen));
	return n;
}

static int take_v6(uint8_t *f, size_t cap, const uint8_t dst[16], const char *payload)
{
	int plen = (int)strlen(payload), n;

	hxs_stack__poll(st, 0);
	n = hxs_io_mem__take(io, f, cap);
	CHECK_EQ(n, 14 + 40 + 8 + plen);
	if (n != 14 + 40 + 8 + plen)
		return -1;
	CHECK(!memcmp(f + 6, MAC_US, 6));
	CHECK(f[12] == 0x86 && f[13] == 0xdd);
	CHECK(!memcmp(f + 22, US6, 16) && !memcmp(f + 38, dst, 16));
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo6(US6, dst, IPPROTO_UDP, 8 + (uint32_t)plen),
					    f + 54, 8 + plen)), 0);
	CHECK(!memcmp(f + 62, payload, plen));
	return n;
}

static int send4(int fd, const char *ip, const char *msg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(6000), .sin_addr.s_addr = ip4(ip) };

	return (int)hxs_sendto(st, fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to));
}

static int send6(int fd, const uint8_t ip[16], const char *msg)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(6000) };

	memcpy(&to.sin6_addr, ip, 16);
	return (int)hxs_sendto(st, fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to));
}

static void test_v4(void)
{
	uint8_t f[2048];
	int fd = udp_sock(7100, 1);

	t_case("unconnected: a neighbour's new address (as RTM_NEWNEIGH) goes on the next datagram, not the cached one");
	CHECK_EQ(send4(fd, IP_PEER, "a1"), 2);
	if (take_v4(f, sizeof(f), ip4(IP_PEER), "a1") > 0)
		CHECK(!memcmp(f, MAC_PEER, 6));
	CHECK_EQ(send4(fd, IP_PEER, "a2"), 2);
	if (take_v4(f, sizeof(f), ip4(IP_PEER), "a2") > 0)
		CHECK(!memcmp(f, MAC_PEER, 6));
	CHECK_EQ(hxs_ctl_static__set_neigh(st, ip4(IP_PEER), MAC_NEW), 0);
	CHECK_EQ(send4(fd, IP_PEER, "a3"), 2);
	if (take_v4(f, sizeof(f), ip4(IP_PEER), "a3") > 0)
		CHECK(!memcmp(f, MAC_NEW, 6), "dst MAC %02x", f[5]);
	CHECK_EQ(send4(fd, IP_PEER, "a4"), 2);
	if (take_v4(f, sizeof(f), ip4(IP_PEER), "a4") > 0)
		CHECK(!memcmp(f, MAC_NEW, 6), "dst MAC %02x", f[5]);

	t_case("unconnected: destinations taking turns on one socket each get their own address and next hop");
	{
		static const char *const ips[] = { IP_PEER, IP_PEER2, IP_PEER, IP_PEER, IP_PEER2 };

		for (int i = 0; i < 5; i++) {
			CHECK_EQ(send4(fd, ips[i], "alt"), 3);
			if (take_v4(f, sizeof(f), ip4(ips[i]), "alt") > 0)
				CHECK(!memcmp(f, i == 1 || i == 4 ? MAC_PEER2 : MAC_NEW, 6), "datagram %d", i);
		}
	}

	t_case("unconnected: a deleted neighbour (RTM_DELNEIGH): the next datagram waits for resolution, then EHOSTUNREACH when it fails");
	{
		uint64_t q = mib(HXS_MIB_NEIGH_QUEUED);
		int v = 0;
		socklen_t vl = sizeof(v);

		CHECK_EQ(hxs_ctl_static__set_neigh(st, ip4(IP_PEER), NULL), 0);
		CHECK_EQ(send4(fd, IP_PEER, "gone"), 4);
		hxs_stack__poll(st, 0);
		CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), -EAGAIN);
		CHECK_EQ(mib(HXS_MIB_NEIGH_QUEUED), q + 1);
		hxs_stack__neigh_event(st, ip4(IP_PEER), HXS_NEIGH_FAILED, NULL);
		CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, EHOSTUNREACH);
		/* back again: the next datagram goes straight out */
		CHECK_EQ(hxs_ctl_static__set_neigh(st, ip4(IP_PEER), MAC_PEER), 0);
		CHECK_EQ(send4(fd, IP_PEER, "back"), 4);
		if (take_v4(f, sizeof(f), ip4(IP_PEER), "back") > 0)
			CHECK(!memcmp(f, MAC_PEER, 6));
	}

	t_case("unconnected: a change nobody reported is seen once HXS_IP_DST_TTL_US of turn time passed");
	{
		CHECK_EQ(send4(fd, IP_PEER2, "t1"), 2);
		if (take_v4(f, sizeof(f), ip4(IP_PEER2), "t1") > 0)
			CHECK(!memcmp(f, MAC_PEER2, 6));
		/* the table changes behind the stack's back (no hxs_stack__dst_changed) */
		for (unsigned i = 0; i < st->scfg.n_neigh; i++)
			if (st->scfg.neigh[i].ip == ip4(IP_PEER2))
				memcpy(st->scfg.neigh[i].mac, MAC_NEW, 6);
		vnow += HXS_IP_DST_TTL_US;
		hxs_stack__poll(st, 0);
		CHECK_EQ(send4(fd, IP_PEER2, "t2"), 2);
		if (take_v4(f, sizeof(f), ip4(IP_PEER2), "t2") > 0)
			CHECK(!memcmp(f, MAC_NEW, 6), "dst MAC %02x", f[5]);
	}

	t_case("unconnected: ... or within HXS_IP_DST_USES + 1 sends with no turn between them");
	{
		int n = 0, seen = -1;

		for (unsigned i = 0; i < st->scfg.n_neigh; i++)
			if (st->scfg.neigh[i].ip == ip4(IP_PEER2))
				memcpy(st->scfg.neigh[i].mac, MAC_PEER2, 6);
		for (int i = 0; i <= HXS_IP_DST_USES && seen < 0; i++) {
			CHECK_EQ(send4(fd, IP_PEER2, "u"), 1);
			/* taken without a turn: hxs_io_mem__take() reads what the send put on the ring */
			CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), 14 + 28 + 1);
			n++;
			if (!memcmp(f, MAC_PEER2, 6))
				seen = n;
		}
		CHECK(seen > 0, "still the old address after %d sends", n);
	}
	hxs_close(st, fd);

	t_case("connected, off-link through the gateway: a new gateway (RTM_NEWROUTE) takes the next datagram; no route: ENETUNREACH");
	{
		struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(6000), .sin_addr.s_addr = ip4(IP_FAR) };

		fd = udp_sock(7101, 1);
		CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&far, sizeof(far)), 0);
		CHECK_EQ(hxs_send(st, fd, "g1", 2, 0), 2);
		if (take_v4(f, sizeof(f), ip4(IP_FAR), "g1") > 0)
			CHECK(!memcmp(f, MAC_GW, 6));
		CHECK_EQ(hxs_send(st, fd, "g2", 2, 0), 2);
		if (take_v4(f, sizeof(f), ip4(IP_FAR), "g2") > 0)
			CHECK(!memcmp(f, MAC_GW, 6));
		hxs_ctl_static__set_gateway(st, ip4(IP_GW2));
		CHECK_EQ(hxs_send(st, fd, "g3", 2, 0), 2);
		if (take_v4(f, sizeof(f), ip4(IP_FAR), "g3") > 0)
			CHECK(!memcmp(f, MAC_GW2, 6), "dst MAC %02x", f[5]);
		hxs_ctl_static__set_gateway(st, 0);
		CHECK_EQ(hxs_send(st, fd, "g4", 2, 0), -ENETUNREACH);
		hxs_stack__poll(st, 0);
		CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), -EAGAIN);
		hxs_ctl_static__set_gateway(st, ip4(IP_GW));
		CHECK_EQ(hxs_send(st, fd, "g5", 2, 0), 2);
		if (take_v4(f, sizeof(f), ip4(IP_FAR), "g5") > 0)
			CHECK(!memcmp(f, MAC_GW, 6));
		/* the gateway's own neighbour entry changes */
		CHECK_EQ(hxs_ctl_static__set_neigh(st, ip4(IP_GW), MAC_NEW), 0);
		CHECK_EQ(hxs_send(st, fd, "g6", 2, 0), 2);
		if (take_v4(f, sizeof(f), ip4(IP_FAR), "g6") > 0)
			CHECK(!memcmp(f, MAC_NEW, 6), "dst MAC %02x", f[5]);
		hxs_close(st, fd);
	}
}

static void test_v6(void)
{
	uint8_t f[2048];
	int fd = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	t_case("IPv6 unconnected: a neighbour's new address goes on the next datagram; a second destination keeps its own");
	CHECK(fd >= 0);
	CHECK_EQ(send6(fd, PEER6, "s1"), 2);
	if (take_v6(f, sizeof(f), PEER6, "s1") > 0)
		CHECK(!memcmp(f, MAC_PEER, 6));
	CHECK_EQ(send6(fd, PEER6, "s2"), 2);
	if (take_v6(f, sizeof(f), PEER6, "s2") > 0)
		CHECK(!memcmp(f, MAC_PEER, 6));
	CHECK_EQ(hxs_ctl_static__set_neigh6(st, PEER6, MAC_NEW), 0);
	CHECK_EQ(send6(fd, PEER6, "s3"), 2);
	if (take_v6(f, sizeof(f), PEER6, "s3") > 0)
		CHECK(!memcmp(f, MAC_NEW, 6), "dst MAC %02x", f[5]);
	CHECK_EQ(send6(fd, PEER6B, "s4"), 2);
	if (take_v6(f, sizeof(f), PEER6B, "s4") > 0)
		CHECK(!memcmp(f, MAC_PEER2, 6));
	CHECK_EQ(send6(fd, PEER6, "s5"), 2);
	if (take_v6(f, sizeof(f), PEER6, "s5") > 0)
		CHECK(!memcmp(f, MAC_NEW, 6));
	/* and the same socket to an IPv4 peer (dual stack): its own family's header */
	{
		struct sockaddr_in6 m = { .sin6_family = AF_INET6, .sin6_port = htons(6000) };
		uint8_t *b = (uint8_t *)&m.sin6_addr;
		uint32_t a = ip4(IP_PEER2);

		b[10] = b[11] = 0xff;
		memcpy(b + 12, &a, 4);
		CHECK_EQ(hxs_sendto(st, fd, "s6", 2, 0, (struct sockaddr *)&m, sizeof(m)), 2);
		if (take_v4(f, sizeof(f), a, "s6") > 0)
			CHECK(!memcmp(f, MAC_PEER2, 6));
	}
	hxs_close(st, fd);

	t_case("IPv6 connected: a deleted neighbour queues the next datagram; resolved, it goes to the new address");
	{
		struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(6000) };
		uint64_t q = mib(HXS_MIB_NEIGH_QUEUED);

		memcpy(&to.sin6_addr, PEER6, 16);
		fd = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&to, sizeof(to)), 0);
		CHECK_EQ(hxs_send(st, fd, "c1", 2, 0), 2);
		if (take_v6(f, sizeof(f), PEER6, "c1") > 0)
			CHECK(!memcmp(f, MAC_NEW, 6));
		CHECK_EQ(hxs_ctl_static__set_neigh6(st, PEER6, NULL), 0);
		CHECK_EQ(hxs_send(st, fd, "c2", 2, 0), 2);
		hxs_stack__poll(st, 0);
		CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), -EAGAIN);
		CHECK_EQ(mib(HXS_MIB_NEIGH_QUEUED), q + 1);
		CHECK_EQ(hxs_ctl_static__set_neigh6(st, PEER6, MAC_PEER), 0);
		hxs_stack__neigh6_event(st, PEER6, HXS_NEIGH_RESOLVED, MAC_PEER);
		if (take_v6(f, sizeof(f), PEER6, "c2") > 0)
			CHECK(!memcmp(f, MAC_PEER, 6));
		CHECK_EQ(hxs_send(st, fd, "c3", 2, 0), 2);
		if (take_v6(f, sizeof(f), PEER6, "c3") > 0)
			CHECK(!memcmp(f, MAC_PEER, 6));
		hxs_close(st, fd);
	}
}

int main(void)
{
	struct hxs_netif_static cfg = { .addr = ip4(IP_US), .prefix_len = 24, .mtu = 1500, .n_neigh = 4,
					.gateway = ip4(IP_GW), .prefix6_len = 64, .n_neigh6 = 2 };
	struct hxs_io_stats s;

	inet_pton(AF_INET6, "2001:db8::2", US6);
	inet_pton(AF_INET6, "2001:db8::1", PEER6);
	inet_pton(AF_INET6, "2001:db8::3", PEER6B);
	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = ip4(IP_PEER);
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);
	cfg.neigh[1].ip = ip4(IP_PEER2);
	memcpy(cfg.neigh[1].mac, MAC_PEER2, 6);
	cfg.neigh[2].ip = ip4(IP_GW);
	memcpy(cfg.neigh[2].mac, MAC_GW, 6);
	cfg.neigh[3].ip = ip4(IP_GW2);
	memcpy(cfg.neigh[3].mac, MAC_GW2, 6);
	memcpy(cfg.addr6, US6, 16);
	memcpy(cfg.neigh6[0].ip, PEER6, 16);
	memcpy(cfg.neigh6[0].mac, MAC_PEER, 6);
	memcpy(cfg.neigh6[1].ip, PEER6B, 16);
	memcpy(cfg.neigh6[1].mac, MAC_PEER2, 6);

	t_case("open a stack on the in-memory link (IPv4 and IPv6, a gateway)");
	CHECK_EQ(hxs_io_mem__open(&io, 256, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&st, io, &cfg), 0);
	if (!st)
		return t_done();
	hxs_stack__set_clock(st, vclock, NULL);

	test_v4();
	test_v6();

	t_case("close: every frame back in the pool");
	hxs_stack__close(st);
	drain();
	io->ops->flush(io);
	io->ops->get_stats(io, &s);
	CHECK_EQ(s.frames_held, 0);
	CHECK_EQ(s.frames_tx_queued, 0);
	io->ops->close(io);
	return t_done();
}
