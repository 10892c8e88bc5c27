/* test_udp_tx.c - the send path of UDP on a whole hxs stack (udp_fixture.h): output headers,
 * IDs and checksums, a TX ring that takes a prefix of the batch (kick, offer again, drop and
 * count), neighbour resolution (queue, resolve, timeout), and two whole stacks joined by the
 * in-memory pair (twostack.h). Time is virtual. */
#include <sys/epoll.h>

#include "udp_fixture.h"
#include "twostack.h"

static int parse_out(const uint8_t *f, int len, const char *payload, uint32_t dst, uint16_t dport)
{
	uint16_t w;
	uint32_t a;
	int plen = (int)strlen(payload);

	CHECK_EQ(len, 14 + 20 + 8 + plen);
	CHECK(!memcmp(f, MAC_PEER, 6) && !memcmp(f + 6, MAC_US, 6));
	CHECK(f[12] == 0x08 && f[13] == 0);
	CHECK_EQ(f[14], 0x45);
	CHECK_EQ(f[14 + 8], 64);
	CHECK_EQ(f[14 + 9], IPPROTO_UDP);
	memcpy(&w, f + 14 + 6, 2);
	CHECK_EQ(ntohs(w), 0x4000);   /* DF */
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 20)), 0);
	memcpy(&a, f + 14 + 16, 4);
	CHECK_EQ(a, dst);
	memcpy(&w, f + 34 + 2, 2);
	CHECK_EQ(w, dport);
	CHECK_EQ(hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(ip4(IP_US), dst, IPPROTO_UDP, 8 + plen), f + 34, 8 + plen)), 0);
	CHECK(!memcmp(f + 42, payload, plen));
	return 0;
}

static void test_output(void)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr.s_addr = ip4(IP_PEER) };
	uint8_t f[4096];
	int fd = udp_sock(7300, 1), n;
	uint64_t out = mib(HXS_MIB_UDP_OUT_DATAGRAMS);

	t_case("output: Ethernet, IPv4 (TTL 64, DF, checksum), UDP checksum, payload");
	CHECK_EQ(hxs_sendto(st, fd, "hello", 5, 0, (struct sockaddr *)&peer, sizeof(peer)), 5);
	hxs_stack__poll(st, 0);
	n = hxs_io_mem__take(io, f, sizeof(f));
	parse_out(f, n, "hello", ip4(IP_PEER), htons(5000));
	CHECK_EQ(mib(HXS_MIB_UDP_OUT_DATAGRAMS), out + 1);

	t_case("output: IP_TTL and IP_TOS of a datagram socket go on its datagrams; IP_TTL reads back as an int or one byte (do_ip_getsockopt)");
	{
		int v = 0;
		uint8_t b = 0;
		socklen_t vl = sizeof(v);

		CHECK_EQ(hxs_getsockopt(st, fd, IPPROTO_IP, IP_TTL, &v, &vl), 0);
		CHECK_EQ(v, 64);
		CHECK_EQ(vl, sizeof(int));
		v = 300;
		CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)), -EINVAL);
		CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_TTL, &v, 0), -EINVAL);
		b = 17;         /* a single byte is a value too */
		CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_TTL, &b, 1), 0);
		v = 0xb8;
		CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_TOS, &v, sizeof(v)), 0);
		b = 0;
		vl = 1;
		CHECK_EQ(hxs_getsockopt(st, fd, IPPROTO_IP, IP_TTL, &b, &vl), 0);
		CHECK_EQ(b, 17);
		CHECK_EQ(vl, 1);
		CHECK_EQ(hxs_sendto(st, fd, "hello", 5, 0, (struct sockaddr *)&peer, sizeof(peer)), 5);
		hxs_stack__poll(st, 0);
		n = hxs_io_mem__take(io, f, sizeof(f));
		CHECK_EQ(n, 14 + 20 + 8 + 5);
		CHECK_EQ(f[14 + 8], 17);        /* TTL */
		CHECK_EQ(f[14 + 1], 0xb8);      /* TOS */
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 20)), 0);
		v = -1;
		CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)), 0);
		v = 0;
		CHECK_EQ(hxs_setsockopt(st, fd, IPPROTO_IP, IP_TOS, &v, sizeof(v)), 0);
	}

	t_case("output: writev gathers");
	{
		struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };
		CHECK_EQ(hxs_connect(st, fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
		CHECK_EQ(hxs_writev(st, fd, iov, 3), 5);
		hxs_stack__poll(st, 0);
		n = hxs_io_mem__take(io, f, sizeof(f));
		parse_out(f, n, "abcde", ip4(IP_PEER), htons(5000));
	}

	t_case("echo: received datagram answered byte for byte, readv scatters");
	{
		uint8_t in[2048];
		char pl[301], got[301];
		struct pkt_opts o = good(7300, "");
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		uint32_t len;
		for (int i = 0; i < 300; i++)
			pl[i] = (char)('!' + i % 90);
		pl[300] = 0;
		o.payload = pl;
		o.plen = 300;
		len = build(in, &o);
		inject(in, len);
		struct iovec iov[2] = { { got, 100 }, { got + 100, 201 } };
		CHECK_EQ(hxs_readv(st, fd, iov, 2), 300);
		CHECK(!memcmp(got, pl, 300));
		inject(in, len);
		CHECK_EQ(hxs_recvfrom(st, fd, got, sizeof(got), 0, (struct sockaddr *)&from, &fl), 300);
		CHECK_EQ(from.sin_port, htons(5000));
		CHECK_EQ(hxs_sendto(st, fd, got, 300, 0, (struct sockaddr *)&from, fl), 300);
		hxs_stack__poll(st, 0);
		n = hxs_io_mem__take(io, f, sizeof(f));
		parse_out(f, n, pl, ip4(IP_PEER), htons(5000));
	}
	hxs_close(st, fd);

	t_case("output: IPv4 IDs count per destination (RFC 6864 §4.1, RFC 7739): what goes to one peer does not move another's");
	{
		struct sockaddr_in p2 = peer;
		uint16_t id[2][8];
		int fd2 = udp_sock(7301, 1), ok = 1;

		p2.sin_addr.s_addr = ip4(IP_PEER2);
		/* a fixed key instead of the random one: two destinations share a bucket with
		 * probability 1/1024 (as in Linux); with this key the two do not */
		memset(st->ip_id_key, 0x5a, sizeof(st->ip_id_key));
		st->ip_id_last.ok = 0;          /* the hash kept for the last flow was the old key's */
		/* 8 to each, interleaved 1:1 at first, then 3 to PEER2 between two to PEER */
		for (int k = 0; k < 8; k++) {
			for (int j = 0; j < 2; j++) {
				const struct sockaddr_in *to = j ? &p2 : &peer;
				int rep = j && k >= 4 ? 3 : 1;

				for (int r = 0; r < rep; r++) {
					CHECK_EQ(hxs_sendto(st, fd2, "i", 1, 0, (const struct sockaddr *)to, sizeof(*to)), 1);
					hxs_stack__poll(st, 0);
					n = hxs_io_mem__take(io, f, sizeof(f));
					CHECK_EQ(n, 14 + 20 + 8 + 1);
					CHECK(!memcmp(f + 30, &to->sin_addr.s_addr, 4));
					memcpy(&id[j][k], f + 18, 2);
					id[j][k] = ntohs(id[j][k]);
				}
			}
		}
		for (int j = 0; j < 2; j++)
			for (int k = 1; k < 8; k++)
				ok &= id[j][k] == (uint16_t)(id[j][k - 1] + (j && k >= 4 ? 3 : 1));
		CHECK(ok, "PEER %u %u %u %u %u %u %u %u", id[0][0], id[0][1], id[0][2], id[0][3], id[0][4],
		      id[0][5], id[0][6], id[0][7]);
		hxs_close(st, fd2);
	}
}

/* stack.c's tx_submit() on a TX ring that takes a prefix: it kicks (flush) and offers the
 * rest again; what still finds no room is dropped and counted, as a full qdisc would. */
static void test_tx_ring_full(void)
{
	struct hxs_io_mem_opts o = { .frames = 64, .frame_size = 2048, .ring_size = 8, .no_poll_fd = 1 };
	struct hxs_netif_static cfg = { .addr = ip4(IP_US), .prefix_len = 24, .n_neigh = 1 };
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr.s_addr = ip4(IP_PEER) };
	struct hxs_io *io8;
	struct hxs_stack *s8;
	struct hxs_io_stats ios;
	uint8_t f[2048];
	char msg[16];
	int fd, n;

	t_case("output: 20 datagrams on an 8-entry TX ring, each on the ring before its sendto returns: 8 + 8 go, 4 dropped (IpOutDiscards)");
	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = ip4(IP_PEER);
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);
	CHECK_EQ(hxs_io_mem__open_opts(&io8, &o), 0);
	CHECK_EQ(hxs_stack__open_io(&s8, io8, &cfg), 0);
	hxs_stack__set_clock(s8, vclock, NULL);
	fd = hxs_socket(s8, AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < 20; i++) {
		snprintf(msg, sizeof(msg), "d%02d", i);
		CHECK_EQ(hxs_sendto(s8, fd, msg, 3, 0, (struct sockaddr *)&peer, sizeof(peer)), 3);
	}
	/* each send submits and kicks: 8 go on the wire, 8 wait on the ring behind them, the
	 * last 4 find it full, kick, find it full again and are dropped, as by a full qdisc
	 * (the call still succeeds) */
	CHECK_EQ(s8->mib.v[HXS_MIB_UDP_OUT_DATAGRAMS], 20);
	CHECK_EQ(s8->mib.v[HXS_MIB_IP_OUT_DISCARDS], 4);
	hxs_stack__poll(s8, 0);     /* nothing left in the stack's batch */
	CHECK_EQ(s8->mib.v[HXS_MIB_IP_OUT_DISCARDS], 4);
	io8->ops->get_stats(io8, &ios);
	CHECK_EQ(ios.tx_ring_full, 8);
	CHECK_EQ(ios.frames_tx_queued, 16);     /* 8 on the wire, 8 on the ring behind them */
	CHECK_EQ(ios.frames_held, 0);
	for (int i = 0; i < 16; i++) {
		if (i == 8)
			hxs_stack__poll(s8, 0);     /* reaps the first 8, kicks the next 8 out */
		n = hxs_io_mem__take(io8, f, sizeof(f));
		snprintf(msg, sizeof(msg), "d%02d", i);
		CHECK(n == 14 + 28 + 3 && !memcmp(f + 42, msg, 3), "datagram %d: %d bytes", i, n);
	}
	CHECK_EQ(hxs_io_mem__take(io8, f, sizeof(f)), -EAGAIN);
	hxs_close(s8, fd);
	hxs_stack__close(s8);
	io8->ops->flush(io8);
	io8->ops->get_stats(io8, &ios);
	CHECK_EQ(ios.frames_held + ios.frames_tx_queued, 0);
	io8->ops->close(io8);
}

static const uint8_t MAC_LATE[6] = { 0x02, 0, 0, 0, 0, 0x07 };

static void test_neigh(void)
{
	struct sockaddr_in late = { .sin_family = AF_INET, .sin_port = htons(6000), .sin_addr.s_addr = ip4("10.0.0.7") };
	struct sockaddr_in gone = { .sin_family = AF_INET, .sin_port = htons(6000), .sin_addr.s_addr = ip4("10.0.0.8") };
	uint8_t f[4096];
	char buf[64];
	int fd = udp_sock(7400, 1), n;

	t_case("neighbour: frames wait for resolution, then go in order");
	CHECK_EQ(hxs_sendto(st, fd, "one", 3, 0, (struct sockaddr *)&late, sizeof(late)), 3);
	CHECK_EQ(hxs_sendto(st, fd, "two", 3, 0, (struct sockaddr *)&late, sizeof(late)), 3);
	hxs_stack__poll(st, 0);
	CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), -EAGAIN);
	CHECK_EQ(mib(HXS_MIB_NEIGH_QUEUED), 2);
	hxs_stack__neigh_event(st, ip4("10.0.0.7"), HXS_NEIGH_RESOLVED, MAC_LATE);
	hxs_stack__poll(st, 0);
	n = hxs_io_mem__take(io, f, sizeof(f));
	CHECK_EQ(n, 14 + 28 + 3);
	CHECK(!memcmp(f, MAC_LATE, 6));
	CHECK(!memcmp(f + 42, "one", 3));
	n = hxs_io_mem__take(io, f, sizeof(f));
	CHECK(n > 0 && !memcmp(f + 42, "two", 3));

	t_case("neighbour: queue bounded (HXS_NEIGH_QLEN), overflow dropped and counted");
	{
		uint64_t qd = mib(HXS_MIB_NEIGH_QUEUE_DROPS);
		for (int i = 0; i < HXS_NEIGH_QLEN + 3; i++)
			CHECK_EQ(hxs_sendto(st, fd, "x", 1, 0, (struct sockaddr *)&gone, sizeof(gone)), 1);
		CHECK_EQ(mib(HXS_MIB_NEIGH_QUEUE_DROPS), qd + 3);
	}

	t_case("neighbour: timeout drops the queue, EHOSTUNREACH to the socket");
	{
		uint64_t fd_ = mib(HXS_MIB_NEIGH_FAILED_DROPS), od = mib(HXS_MIB_IP_OUT_DISCARDS);
		uint32_t ev;
		vnow += HXS_NEIGH_TIMEOUT_US - 1000;
		hxs_stack__poll(st, 0);
		CHECK_EQ(mib(HXS_MIB_NEIGH_FAILED_DROPS), fd_);
		vnow += 2000;
		hxs_stack__poll(st, 0);
		CHECK_EQ(mib(HXS_MIB_NEIGH_FAILED_DROPS), fd_ + HXS_NEIGH_QLEN);
		CHECK_EQ(mib(HXS_MIB_IP_OUT_DISCARDS), od + HXS_NEIGH_QLEN);
		ev = hxs_udp_ops.poll(hxs_sock__get(st, fd));
		CHECK(ev & EPOLLERR);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EHOSTUNREACH);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), -EAGAIN);
	}

	t_case("neighbour: failure event drops at once");
	{
		uint64_t fd_ = mib(HXS_MIB_NEIGH_FAILED_DROPS);
		int v = 0;
		socklen_t vl = sizeof(v);
		CHECK_EQ(hxs_sendto(st, fd, "x", 1, 0, (struct sockaddr *)&gone, sizeof(gone)), 1);
		hxs_stack__neigh_event(st, ip4("10.0.0.8"), HXS_NEIGH_FAILED, NULL);
		CHECK_EQ(mib(HXS_MIB_NEIGH_FAILED_DROPS), fd_ + 1);
		CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, EHOSTUNREACH);
		CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
		CHECK_EQ(v, 0);
	}

	t_case("neighbour: closing the owner while frames wait is safe");
	{
		int s = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
		CHECK_EQ(hxs_sendto(st, s, "x", 1, 0, (struct sockaddr *)&gone, sizeof(gone)), 1);
		hxs_close(st, s);
		vnow += HXS_NEIGH_TIMEOUT_US + 1000;
		hxs_stack__poll(st, 0);
		CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), -EAGAIN);
	}
	hxs_close(st, fd);
}

/* Two whole stacks joined by the in-memory pair: what the TCP simulation builds on. */
static void test_pair(void)
{
	struct twostack_cfg two = {
		.ip_a = "10.1.0.1", .ip_b = "10.1.0.2", .frames = 128, .frame_size = 2048,
	};
	struct twostack ts;
	struct hxs_stack *sa, *sb;
	struct sockaddr_in ab = { .sin_family = AF_INET, .sin_port = htons(9000), .sin_addr.s_addr = ip4("10.1.0.2") };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct hxs_io_stats s;
	char buf[2048], msg[1472];
	int fa, fb;

	t_case("pair: two stacks on hxs_io_mem__pair exchange datagrams, nothing leaks");
	memcpy(two.mac_a, MAC_PEER, 6);
	memcpy(two.mac_b, MAC_US, 6);
	if (!CHECK_EQ(twostack_open(&ts, &two), 0))
		return;
	sa = ts.a;
	sb = ts.b;
	fa = hxs_socket(sa, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fb = hxs_socket(sb, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_bind(sb, fb, (struct sockaddr *)&ab, sizeof(ab)), 0);
	for (int i = 0; i < 300; i++) {
		int len = 1 + (i * 37) % 1472;
		for (int k = 0; k < len; k++)
			msg[k] = (char)(i + k * 7);
		CHECK_EQ(hxs_sendto(sa, fa, msg, len, 0, (struct sockaddr *)&ab, sizeof(ab)), len);
		hxs_stack__poll(sa, 0);
		hxs_stack__poll(sb, 0);
		fl = sizeof(from);
		CHECK_EQ(hxs_recvfrom(sb, fb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), len);
		CHECK(!memcmp(buf, msg, len));
		CHECK_EQ(hxs_sendto(sb, fb, buf, len, 0, (struct sockaddr *)&from, fl), len);
		hxs_stack__poll(sb, 0);
		hxs_stack__poll(sa, 0);
		CHECK_EQ(hxs_recv(sa, fa, buf, sizeof(buf), 0), len);
		CHECK(!memcmp(buf, msg, len));
	}
	CHECK_EQ(sa->mib.v[HXS_MIB_UDP_IN_DATAGRAMS], 300);
	CHECK_EQ(sb->mib.v[HXS_MIB_UDP_OUT_DATAGRAMS], 300);
	twostack_close_stacks(&ts);
	ts.ia->ops->get_stats(ts.ia, &s);
	CHECK_EQ(s.frames_held, 0);
	ts.ib->ops->get_stats(ts.ib, &s);
	CHECK_EQ(s.frames_held, 0);
	twostack_close_links(&ts);
}

int main(void)
{
	if (udpfix_open() < 0)
		return t_done();

	test_output();
	test_tx_ring_full();
	test_neigh();
	test_pair();

	udpfix_close();
	return t_done();
}
