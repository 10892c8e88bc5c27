/* test_udp_rx.c - the receive path of IPv4 and UDP on a whole hxs stack (udp_fixture.h):
 * IPv4 input validation with the exact counter each bad case moves (as the kernel's
 * ip_rcv_core), the TOS byte up to L4 and out of hxs_ip_tx_send, UDP input after the
 * kernel's __udp4_lib_rcv (lengths, checksum, demux, drops, counters), and broadcast and
 * multicast delivery to every matching socket (SO_BROADCAST to send). Time is virtual. */
#include "udp_fixture.h"

static int tcp_seen;
static void count_tcp(void *ctx, struct hxs_stack *s, const struct hxs_ip_rx *pkt)
{
	(void)ctx; (void)s; (void)pkt;
	tcp_seen++;
}

static int tos_seen = -1;
static void tos_tcp(void *ctx, struct hxs_stack *s, const struct hxs_ip_rx *pkt)
{
	(void)ctx; (void)s;
	tos_seen = pkt->tos;
}

/* RFC 3168 §5, §6.1: TCP reads the ECN field of what arrives and chooses it for what it sends;
 * the IP layer hands the TOS byte up unchanged and writes the one it is given. */
static void test_ip_tos(void)
{
	static const uint8_t tos[] = { 0x00, 0x01, 0x02, 0x03, 0xb8, 0xbb };
	uint8_t f[2048];
	uint32_t len;

	t_case("ipv4: the TOS byte, ECN field included (Not-ECT, ECT(1), ECT(0), CE), reaches L4 as it came");
	hxs_stack__set_l4(st, IPPROTO_TCP, tos_tcp, NULL);
	for (unsigned i = 0; i < sizeof(tos); i++) {
		struct pkt_opts x = good(7000, "abcd");
		x.proto = IPPROTO_TCP;
		len = build(f, &x);
		f[15] = tos[i];
		fix_ip_csum(f);
		tos_seen = -1;
		inject(f, len);
		CHECK_EQ(tos_seen, tos[i]);
	}
	hxs_stack__set_l4(st, IPPROTO_TCP, NULL, NULL);

	t_case("ipv4: hxs_ip_tx_send writes the TOS it is given (ECT(0) with a DSCP), header checksum right");
	for (unsigned i = 0; i < sizeof(tos); i++) {
		struct hxs_ip_tx tx;
		int n;

		CHECK_EQ(hxs_ip_tx_alloc(st, &tx, ip4(IP_PEER), IPPROTO_TCP, 20), 0);
		memset(tx.l4, 0, 20);
		tx.tos = tos[i];
		CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
		hxs_stack__poll(st, 0);
		n = hxs_io_mem__take(io, f, sizeof(f));
		CHECK_EQ(n, 14 + 20 + 20);
		CHECK_EQ(f[15], tos[i]);
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 20)), 0);
	}
}

static void test_ip_validation(void)
{
	uint8_t f[2048];
	struct pkt_opts o = good(7000, "abcd");
	uint32_t len;
	uint64_t hdr = mib(HXS_MIB_IP_IN_HDR_ERRORS);

	t_case("ipv4: bad version -> IpInHdrErrors");
	len = build(f, &o);
	f[14] = 0x65;
	fix_ip_csum(f);
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 1);

	t_case("ipv4: IHL < 5 -> IpInHdrErrors (the 16 bytes it claims sum right: IHL is the only fault)");
	{
		uint64_t dl = mib(HXS_MIB_IP_IN_DELIVERS), ue = mib(HXS_MIB_UDP_IN_ERRORS);
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS);
		len = build(f, &o);
		f[14] = 0x44;
		fix_ip_csum(f);         /* over IHL * 4 = 16 bytes */
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, f + 14, 16)), 0);
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 2);
		CHECK_EQ(mib(HXS_MIB_IP_IN_DELIVERS), dl);
		CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), ue);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np);
	}

	t_case("ipv4: total length beyond the frame -> IpInHdrErrors");
	len = build(f, &o);
	f[16] = 0x05; f[17] = 0xdc;       /* 1500 */
	fix_ip_csum(f);
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 3);

	t_case("ipv4: total length below the header -> IpInHdrErrors");
	len = build(f, &o);
	f[16] = 0; f[17] = 19;
	fix_ip_csum(f);
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 4);

	t_case("ipv4: bad header checksum -> IpInHdrErrors");
	len = build(f, &o);
	f[24] ^= 0x5a;
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 5);

	t_case("ipv4: truncated header (frame of 30 bytes) -> IpInHdrErrors");
	len = build(f, &o);
	inject(f, 14 + 16);
	CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 6);

	t_case("ipv4: not our address -> IpInAddrErrors");
	{
		uint64_t a = mib(HXS_MIB_IP_IN_ADDR_ERRORS);
		struct pkt_opts x = o;
		x.dst = ip4("10.0.0.99");
		len = build(f, &x);
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_IP_IN_ADDR_ERRORS), a + 1);
		CHECK_EQ(mib(HXS_MIB_IP_IN_HDR_ERRORS), hdr + 6);
	}

	t_case("ipv4: unknown protocol and TCP without a handler -> IpInUnknownProtos");
	{
		uint64_t u = mib(HXS_MIB_IP_IN_UNKNOWN_PROTOS);
		struct pkt_opts x = o;
		x.proto = 47;
		len = build(f, &x);
		inject(f, len);
		x.proto = IPPROTO_TCP;
		len = build(f, &x);
		hxs_stack__set_l4(st, IPPROTO_TCP, NULL, NULL);
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_IP_IN_UNKNOWN_PROTOS), u + 2);
	}

	t_case("ipv4: TCP to a broadcast IP or MAC never reaches TCP -> HxsIpInBcastDiscards (RFC 1122 4.2.3.10)");
	{
		uint64_t b = mib(HXS_MIB_IP_IN_BCAST_DISCARDS), dl = mib(HXS_MIB_IP_IN_DELIVERS);
		struct pkt_opts x = o;
		tcp_seen = 0;
		hxs_stack__set_l4(st, IPPROTO_TCP, count_tcp, NULL);
		x.proto = IPPROTO_TCP;
		x.dst = INADDR_BROADCAST;
		len = build(f, &x);
		inject(f, len);                           /* 255.255.255.255, our MAC */
		memset(f, 0xff, 6);
		inject(f, len);                           /* 255.255.255.255, broadcast MAC */
		x.dst = ip4(IP_US);
		len = build(f, &x);
		memset(f, 0xff, 6);                       /* our IP in a broadcast frame */
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_IP_IN_BCAST_DISCARDS), b + 3);
		CHECK_EQ(tcp_seen, 0);
		CHECK_EQ(mib(HXS_MIB_IP_IN_DELIVERS), dl);
		len = build(f, &x);
		inject(f, len);                           /* unicast still reaches TCP */
		CHECK_EQ(tcp_seen, 1);
		CHECK_EQ(mib(HXS_MIB_IP_IN_BCAST_DISCARDS), b + 3);
		hxs_stack__set_l4(st, IPPROTO_TCP, NULL, NULL);
	}

	t_case("ipv4: sources no host sends from (0/8, 127/8, multicast, broadcasts, our own) -> HxsIpInMartianSrc (RFC 1122 3.2.1.3), UDP and TCP");
	{
		static const char *const bad[] = { "0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1",
						    "239.1.2.3", "255.255.255.255", "10.0.0.255", IP_US };
		uint64_t m = mib(HXS_MIB_IP_IN_MARTIAN_SRC), dl = mib(HXS_MIB_IP_IN_DELIVERS);
		int fd = udp_sock(7012, 1);
		char buf[16];

		tcp_seen = 0;
		hxs_stack__set_l4(st, IPPROTO_TCP, count_tcp, NULL);
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct pkt_opts x = good(7012, "martian");

			x.src = ip4(bad[i]);
			len = build(f, &x);
			inject(f, len);
			x.proto = IPPROTO_TCP;
			len = build(f, &x);
			inject(f, len);
		}
		CHECK_EQ(mib(HXS_MIB_IP_IN_MARTIAN_SRC), m + 16);
		CHECK_EQ(mib(HXS_MIB_IP_IN_DELIVERS), dl);
		CHECK_EQ(tcp_seen, 0);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
		hxs_stack__set_l4(st, IPPROTO_TCP, NULL, NULL);

		t_case("ipv4: 0.0.0.0 to 255.255.255.255 (a host learning its address, DHCP) and the neighbours of the subnet are delivered");
		{
			struct pkt_opts x = good(7012, "dhcp");

			x.src = ip4("0.0.0.0");
			x.dst = INADDR_BROADCAST;
			len = build(f, &x);
			memset(f, 0xff, 6);
			inject(f, len);
			CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 4);
			x = good(7012, "edge");
			x.src = ip4("10.0.0.254");        /* the last host, not the broadcast */
			len = build(f, &x);
			inject(f, len);
			CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 4);
			CHECK_EQ(mib(HXS_MIB_IP_IN_MARTIAN_SRC), m + 16);
		}
		hxs_close(st, fd);
	}

	t_case("ipv4: UDP to 255.255.255.255 on the broadcast MAC is delivered");
	{
		int fd = udp_sock(7011, 1);
		char buf[16];
		struct pkt_opts x = good(7011, "bcast");
		x.dst = INADDR_BROADCAST;
		len = build(f, &x);
		memset(f, 0xff, 6);
		inject(f, len);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 5);
		CHECK(!memcmp(buf, "bcast", 5));
		hxs_close(st, fd);
	}

	t_case("ipv4: fragment -> IpInDiscards (no reassembly)");
	{
		uint64_t d = mib(HXS_MIB_IP_IN_DISCARDS);
		len = build(f, &o);
		f[20] = 0x20;      /* MF */
		fix_ip_csum(f);
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_IP_IN_DISCARDS), d + 1);
	}

	t_case("eth: ARP and foreign MAC ignored -> HxsEthInDiscards");
	{
		uint64_t d = mib(HXS_MIB_ETH_IN_DISCARDS), r = mib(HXS_MIB_IP_IN_RECEIVES);
		len = build(f, &o);
		f[12] = 0x08; f[13] = 0x06;
		inject(f, len);
		len = build(f, &o);
		f[0] = 0x04;
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_ETH_IN_DISCARDS), d + 2);
		CHECK_EQ(mib(HXS_MIB_IP_IN_RECEIVES), r);
	}
}

static void test_udp_validation(void)
{
	uint8_t f[2048], buf[2048];
	int fd = udp_sock(7000, 1);
	struct pkt_opts o = good(7000, "0123456789");
	uint64_t inerr = mib(HXS_MIB_UDP_IN_ERRORS), csum = mib(HXS_MIB_UDP_IN_CSUM_ERRORS);
	uint64_t indg = mib(HXS_MIB_UDP_IN_DATAGRAMS);
	uint32_t len;
	uint16_t w;

	t_case("udp: header does not fit -> UdpInErrors");
	len = build(f, &o);
	w = htons(20 + 4);
	memcpy(f + 16, &w, 2);
	fix_ip_csum(f);
	inject(f, 14 + 24);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), inerr + 1);

	t_case("udp: len < 8 -> UdpInErrors");
	len = build(f, &o);
	w = htons(7);
	memcpy(f + 38, &w, 2);
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), inerr + 2);

	t_case("udp: len > packet -> UdpInErrors");
	len = build(f, &o);
	w = htons(8 + 11);
	memcpy(f + 38, &w, 2);
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), inerr + 3);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_CSUM_ERRORS), csum);

	t_case("udp: bad checksum -> UdpInCsumErrors + UdpInErrors");
	len = build(f, &o);
	f[14 + 20 + 8] ^= 1;
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_CSUM_ERRORS), csum + 1);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), inerr + 4);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);

	t_case("udp: zero checksum accepted (IPv4: none computed)");
	len = build(f, &o);
	f[40] = f[41] = 0;
	inject(f, len);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 10);
	CHECK(!memcmp(buf, "0123456789", 10));
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), indg + 1);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), inerr + 4);

	t_case("udp: UdpInDatagrams counts when the datagram is read, not queued nor peeked (udp_recvmsg)");
	len = build(f, &o);
	inject(f, len);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), indg + 1);      /* queued: not yet */
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), MSG_PEEK), 10);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), indg + 1);      /* peeked: not yet */
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 10);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), indg + 2);      /* read */
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), indg + 2);

	t_case("udp: len shorter than IP payload: trimmed to len");
	{
		struct pkt_opts x = good(7000, "ABCDEFGHIJKLMNOPQRST");
		len = build(f, &x);
		w = htons(8 + 5);
		memcpy(f + 38, &w, 2);
		f[40] = f[41] = 0;
		inject(f, len);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 5);
		CHECK(!memcmp(buf, "ABCDE", 5));
	}

	t_case("udp: no socket -> UdpNoPorts and ICMP port unreachable (RFC 1122 4.1.3.1): type 3 code 3, the IP header and 8 bytes quoted, checksum right");
	{
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS);
		struct pkt_opts x = good(7001, "x");
		uint8_t out[2048];
		uint32_t d;
		int k;

		drain();
		len = build(f, &x);
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np + 1);
		hxs_stack__poll(st, 0);
		k = hxs_io_mem__take(io, out, sizeof(out));
		CHECK_EQ(k, 14 + 20 + 8 + 20 + 8);
		CHECK(!memcmp(out, MAC_PEER, 6));
		CHECK_EQ(out[14 + 9], IPPROTO_ICMP);
		memcpy(&d, out + 14 + 16, 4);
		CHECK_EQ(d, ip4(IP_PEER));
		CHECK_EQ(out[34], 3);
		CHECK_EQ(out[35], 3);
		CHECK_EQ(hxs_csum_fold(hxs_csum_add(0, out + 34, 8 + 28)), 0);
		CHECK(!memcmp(out + 34 + 8, f + 14, 28));      /* IP header + UDP header */
		CHECK_EQ(drain(), 0);
	}

	t_case("udp: ICMP port unreachable rate limited as the kernel's icmp_ratelimit: 6 at once to one peer (5 more now), then one a second");
	{
		uint64_t sent = st->sockets->icmp_sent, lim = st->sockets->icmp_limited;
		struct pkt_opts x = good(7001, "x");

		len = build(f, &x);
		for (int i = 0; i < 8; i++)
			inject(f, len);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), 5);                   /* the bucket held 6; one went above */
		CHECK_EQ(st->sockets->icmp_sent, sent + 5);
		CHECK_EQ(st->sockets->icmp_limited, lim + 3);
		vnow += 1000000;
		inject(f, len);
		inject(f, len);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), 1);
		vnow += 6000000;                        /* the bucket refills for the tests after */
	}

	t_case("udp: HXS_ICMP_UNREACH=0 (icmp_off): UdpNoPorts still counted, no ICMP");
	{
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS);
		struct pkt_opts x = good(7001, "x");

		st->sockets->icmp_off = 1;
		len = build(f, &x);
		inject(f, len);
		hxs_stack__poll(st, 0);
		CHECK_EQ(drain(), 0);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np + 1);
		st->sockets->icmp_off = 0;
	}

	t_case("udp: receive queue full -> UdpRcvbufErrors + UdpInErrors, then drains");
	{
		int small = 1000;           /* doubled -> 2000, raised to the minimum 2304 */
		int got = 0;
		socklen_t gl = sizeof(got);
		char p[1001];
		uint64_t rb = mib(HXS_MIB_UDP_RCVBUF_ERRORS), ie = mib(HXS_MIB_UDP_IN_ERRORS);

		CHECK_EQ(hxs_setsockopt(st, fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
		CHECK_EQ(hxs_getsockopt(st, fd, SOL_SOCKET, SO_RCVBUF, &got, &gl), 0);
		CHECK_EQ(got, 2304);
		memset(p, 'q', 1000);
		p[1000] = 0;
		/* 1000 B + 16 B record each: two fit in 2304, the third and fourth do not */
		for (int i = 0; i < 4; i++) {
			struct pkt_opts x = good(7000, p);
			len = build(f, &x);
			inject(f, len);
		}
		CHECK_EQ(mib(HXS_MIB_UDP_RCVBUF_ERRORS), rb + 2);
		CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), ie + 2);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 1000);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 1000);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
	}

	t_case("udp: a wrong checksum is its verdict whatever else holds (__udp4_lib_rcv checks it first): no socket -> not UdpNoPorts, full queue -> not UdpRcvbufErrors, shut for reading, a record across the ring's end; nothing queued");
	{
		char p[1001];
		uint64_t rb = mib(HXS_MIB_UDP_RCVBUF_ERRORS), ie = mib(HXS_MIB_UDP_IN_ERRORS);
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS), cs = mib(HXS_MIB_UDP_IN_CSUM_ERRORS);
		int fd2 = udp_sock(7003, 1);

		memset(p, 'q', 1000);
		p[1000] = 0;
		struct pkt_opts x = good(7001, p);
		len = build(f, &x);
		f[14 + 20 + 8] ^= 1;
		inject(f, len);                         /* no socket on 7001 */
		CHECK_EQ(mib(HXS_MIB_UDP_IN_CSUM_ERRORS), cs + 1);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np);
		x = good(7000, p);
		for (int i = 0; i < 3; i++) {
			len = build(f, &x);
			if (i == 2)
				f[14 + 20 + 8 + 999] ^= 1;      /* its last byte */
			inject(f, len);                 /* two fit in 2304 B, the third does not */
		}
		CHECK_EQ(mib(HXS_MIB_UDP_IN_CSUM_ERRORS), cs + 2);
		CHECK_EQ(mib(HXS_MIB_UDP_RCVBUF_ERRORS), rb);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 1000);
		/* one record queued from byte 1016: the next one, 1016 B, would cross the ring's
		 * end (2304) and is verified before it is queued */
		len = build(f, &x);
		f[14 + 20 + 8 + 500] ^= 1;
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_UDP_IN_CSUM_ERRORS), cs + 3);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 1000);
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(hxs_shutdown(st, fd2, SHUT_RD), -ENOTCONN);    /* unconnected: set anyway */
		x = good(7003, "abc");
		len = build(f, &x);
		f[14 + 20 + 8] ^= 1;
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_UDP_IN_CSUM_ERRORS), cs + 4);
		CHECK_EQ(mib(HXS_MIB_UDP_IN_ERRORS), ie + 4);
		CHECK_EQ(mib(HXS_MIB_UDP_RCVBUF_ERRORS), rb);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np);
		hxs_close(st, fd2);
	}

	t_case("udp: MSG_PEEK keeps, MSG_TRUNC reports the full length, short buffer truncates");
	{
		struct pkt_opts x = good(7000, "hello world");
		len = build(f, &x);
		inject(f, len);
		CHECK_EQ(hxs_recv(st, fd, buf, 5, MSG_PEEK), 5);
		CHECK_EQ(hxs_recv(st, fd, buf, 5, MSG_TRUNC), 11);
		CHECK(!memcmp(buf, "hello", 5));
		CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), -EAGAIN);
	}

	t_case("udp: queue wraps around the ring with payloads intact");
	{
		char p[700];
		for (int i = 0; i < 40; i++) {
			memset(p, 'a' + i % 26, sizeof(p) - 1);
			p[sizeof(p) - 1] = 0;
			struct pkt_opts x = good(7000, p);
			len = build(f, &x);
			inject(f, len);
			CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 699);
			CHECK(buf[0] == 'a' + i % 26 && buf[698] == 'a' + i % 26);
		}
	}
	hxs_close(st, fd);
}

/* Broadcast as the kernel: SO_BROADCAST to send (EACCES without), every matching socket gets
 * a copy (__udp4_lib_mcast_deliver), none: UdpIgnoredMulti rather than UdpNoPorts. */
static void test_broadcast(void)
{
	struct sockaddr_in bc = { .sin_family = AF_INET, .sin_port = htons(5000),
				  .sin_addr.s_addr = htonl(INADDR_BROADCAST) };
	struct sockaddr_in dbc = bc, a = { .sin_family = AF_INET, .sin_port = htons(7500) };
	struct sockaddr_in other = { .sin_family = AF_INET, .sin_port = htons(5001),
				     .sin_addr.s_addr = ip4(IP_PEER) };
	struct pkt_opts o = good(7500, "to all");
	uint8_t f[2048];
	char buf[64];
	int s1, s2, s3, v = 0, one = 1;
	socklen_t vl = sizeof(v);
	uint64_t in, nop, ign;
	uint32_t n;

	dbc.sin_addr.s_addr = ip4("10.0.0.255");
	t_case("SO_BROADCAST: 0 by default; sendto/connect to 255.255.255.255 or the subnet's broadcast EACCES without it");
	s1 = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_getsockopt(st, s1, SOL_SOCKET, SO_BROADCAST, &v, &vl), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(hxs_sendto(st, s1, "x", 1, 0, (struct sockaddr *)&bc, sizeof(bc)), -EACCES);
	CHECK_EQ(hxs_sendto(st, s1, "x", 1, 0, (struct sockaddr *)&dbc, sizeof(dbc)), -EACCES);
	CHECK_EQ(hxs_connect(st, s1, (struct sockaddr *)&bc, sizeof(bc)), -EACCES);

	t_case("SO_BROADCAST 1: the datagram goes to ff:ff:ff:ff:ff:ff and 255.255.255.255, no neighbour asked");
	drain();
	CHECK_EQ(hxs_setsockopt(st, s1, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_getsockopt(st, s1, SOL_SOCKET, SO_BROADCAST, &v, &vl), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(hxs_sendto(st, s1, "hey", 3, 0, (struct sockaddr *)&bc, sizeof(bc)), 3);
	hxs_stack__poll(st, 0);
	CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), 14 + 20 + 8 + 3);
	{
		static const uint8_t ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		uint32_t d;

		CHECK(!memcmp(f, ff, 6));
		memcpy(&d, f + 14 + 16, 4);
		CHECK_EQ(d, htonl(INADDR_BROADCAST));
	}
	CHECK_EQ(hxs_sendto(st, s1, "hey", 3, 0, (struct sockaddr *)&dbc, sizeof(dbc)), 3);
	hxs_stack__poll(st, 0);
	CHECK_EQ(hxs_io_mem__take(io, f, sizeof(f)), 14 + 20 + 8 + 3);
	CHECK_EQ(f[0], 0xff);
	hxs_close(st, s1);

	t_case("a broadcast datagram reaches both SO_REUSEADDR sockets on its port, not one connected to another peer; byte-exact");
	s1 = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s2 = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s3 = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(hxs_setsockopt(st, s1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_setsockopt(st, s2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_setsockopt(st, s3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	CHECK_EQ(hxs_bind(st, s1, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(hxs_bind(st, s2, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(hxs_bind(st, s3, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(hxs_connect(st, s3, (struct sockaddr *)&other, sizeof(other)), 0);
	in = mib(HXS_MIB_UDP_IN_DATAGRAMS);
	nop = mib(HXS_MIB_UDP_NO_PORTS);
	ign = mib(HXS_MIB_UDP_IGNORED_MULTI);
	o.dst = htonl(INADDR_BROADCAST);
	n = build(f, &o);
	memset(f, 0xff, 6);
	inject(f, n);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(hxs_recv(st, s1, buf, sizeof(buf), 0), 6);
	CHECK(!memcmp(buf, "to all", 6));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(hxs_recv(st, s2, buf, sizeof(buf), 0), 6);
	CHECK(!memcmp(buf, "to all", 6));
	CHECK_EQ(hxs_recv(st, s3, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), in + 2);

	t_case("a broadcast datagram to a port no socket holds: UdpIgnoredMulti, not UdpNoPorts");
	o.dport = htons(7501);
	n = build(f, &o);
	memset(f, 0xff, 6);
	inject(f, n);
	CHECK_EQ(mib(HXS_MIB_UDP_IGNORED_MULTI), ign + 1);
	CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), nop);

	t_case("multicast: a datagram to 239.1.2.3 (MAC 01:00:5e:01:02:03) reaches both sockets on its port, byte-exact");
	in = mib(HXS_MIB_UDP_IN_DATAGRAMS);
	o.dport = htons(7500);
	o.dst = ip4("239.1.2.3");
	n = build(f, &o);
	memcpy(f, (const uint8_t[6]){ 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 }, 6);
	inject(f, n);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(hxs_recv(st, s1, buf, sizeof(buf), 0), 6);
	CHECK(!memcmp(buf, "to all", 6));
	CHECK_EQ(hxs_recv(st, s2, buf, sizeof(buf), 0), 6);
	CHECK_EQ(hxs_recv(st, s3, buf, sizeof(buf), 0), -EAGAIN);
	CHECK_EQ(mib(HXS_MIB_UDP_IN_DATAGRAMS), in + 2);

	t_case("broadcast to AF_INET6 sockets: a dual-stack :: one gets it, named ::ffff:10.0.0.1 in a 28-byte sockaddr_in6 (hxs_recvmsg); an IPV6_V6ONLY one never (ipv6_only_sock)");
	{
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(7502) }, nm;
		uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };
		struct iovec iv = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr m = { .msg_name = &nm, .msg_namelen = sizeof(nm), .msg_iov = &iv,
				    .msg_iovlen = 1 };
		int d6 = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int o6 = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		memcpy(mapped + 12, &(uint32_t){ ip4(IP_PEER) }, 4);
		CHECK_EQ(hxs_setsockopt(st, d6, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_setsockopt(st, o6, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_setsockopt(st, o6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_bind(st, o6, (struct sockaddr *)&any6, sizeof(any6)), 0);
		CHECK_EQ(hxs_bind(st, d6, (struct sockaddr *)&any6, sizeof(any6)), 0);
		ign = mib(HXS_MIB_UDP_IGNORED_MULTI);
		o.dport = htons(7502);
		o.dst = htonl(INADDR_BROADCAST);
		n = build(f, &o);
		memset(f, 0xff, 6);
		inject(f, n);
		memset(buf, 0, sizeof(buf));
		memset(&nm, 0xee, sizeof(nm));
		CHECK_EQ(hxs_recvmsg(st, d6, &m, 0), 6);
		CHECK(!memcmp(buf, "to all", 6));
		CHECK_EQ(m.msg_namelen, sizeof(struct sockaddr_in6));
		CHECK_EQ(nm.sin6_family, AF_INET6);
		CHECK_EQ(nm.sin6_port, htons(5000));
		CHECK(!memcmp(&nm.sin6_addr, mapped, 16));
		CHECK_EQ(m.msg_flags, 0);
		CHECK_EQ(hxs_recv(st, o6, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(mib(HXS_MIB_UDP_IGNORED_MULTI), ign);
		hxs_close(st, d6);
		inject(f, n);                   /* only the IPV6_V6ONLY socket is left */
		CHECK_EQ(hxs_recv(st, o6, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(mib(HXS_MIB_UDP_IGNORED_MULTI), ign + 1);
		hxs_close(st, o6);
	}

	t_case("unicast IPv4 to a port's sockets (compute_score): an IPV6_V6ONLY :: one never (UdpNoPorts), a dual-stack :: one, then one bound to the address beats it, then a connected :: one beats both for its peer only");
	{
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(7503) }, pe6;
		struct sockaddr_in b4 = { .sin_family = AF_INET, .sin_port = htons(7503),
					  .sin_addr.s_addr = ip4(IP_US) };
		int o6 = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int d6 = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int c6 = hxs_socket(st, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int a4 = hxs_socket(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		uint64_t np = mib(HXS_MIB_UDP_NO_PORTS);
		struct pkt_opts u = good(7503, "one");

		for (int i = 0; i < 4; i++)
			CHECK_EQ(hxs_setsockopt(st, (int[]){ o6, d6, c6, a4 }[i], SOL_SOCKET, SO_REUSEADDR,
						&one, sizeof(one)), 0);
		CHECK_EQ(hxs_setsockopt(st, o6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
		CHECK_EQ(hxs_bind(st, o6, (struct sockaddr *)&any6, sizeof(any6)), 0);
		n = build(f, &u);
		inject(f, n);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np + 1);
		CHECK_EQ(hxs_recv(st, o6, buf, sizeof(buf), 0), -EAGAIN);
		drain();                                /* the port unreachable */
		CHECK_EQ(hxs_bind(st, d6, (struct sockaddr *)&any6, sizeof(any6)), 0);
		inject(f, n);
		CHECK_EQ(hxs_recv(st, d6, buf, sizeof(buf), 0), 3);
		CHECK_EQ(hxs_recv(st, o6, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(hxs_bind(st, a4, (struct sockaddr *)&b4, sizeof(b4)), 0);
		inject(f, n);
		CHECK_EQ(hxs_recv(st, a4, buf, sizeof(buf), 0), 3);
		CHECK_EQ(hxs_recv(st, d6, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(hxs_bind(st, c6, (struct sockaddr *)&any6, sizeof(any6)), 0);
		pe6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(5000) };
		memcpy((uint8_t *)&pe6.sin6_addr + 10, "\xff\xff", 2);
		memcpy((uint8_t *)&pe6.sin6_addr + 12, &(uint32_t){ ip4(IP_PEER) }, 4);
		CHECK_EQ(hxs_connect(st, c6, (struct sockaddr *)&pe6, sizeof(pe6)), 0);
		inject(f, n);
		CHECK_EQ(hxs_recv(st, c6, buf, sizeof(buf), 0), 3);
		CHECK_EQ(hxs_recv(st, a4, buf, sizeof(buf), 0), -EAGAIN);
		u.sport = htons(5001);                  /* another peer: not the connected one's */
		n = build(f, &u);
		inject(f, n);
		CHECK_EQ(hxs_recv(st, a4, buf, sizeof(buf), 0), 3);
		CHECK_EQ(hxs_recv(st, c6, buf, sizeof(buf), 0), -EAGAIN);
		CHECK_EQ(mib(HXS_MIB_UDP_NO_PORTS), np + 1);
		hxs_close(st, o6);
		hxs_close(st, d6);
		hxs_close(st, c6);
		hxs_close(st, a4);
	}

	t_case("IP_ADD_MEMBERSHIP/IP_DROP_MEMBERSHIP through a kernel socket: EINVAL for a unicast group, join on lo, EADDRINUSE twice, drop, EADDRNOTAVAIL after");
	{
		struct ip_mreq mr = { .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };

		mr.imr_multiaddr.s_addr = ip4("10.0.0.1");
		CHECK_EQ(hxs_setsockopt(st, s1, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), -EINVAL);
		mr.imr_multiaddr.s_addr = ip4("239.1.2.3");
		CHECK_EQ(hxs_setsockopt(st, s2, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)),
			 -EADDRNOTAVAIL);
		CHECK_EQ(hxs_setsockopt(st, s1, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
		CHECK_EQ(hxs_setsockopt(st, s1, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)),
			 -EADDRINUSE);
		CHECK_EQ(hxs_setsockopt(st, s1, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
		CHECK_EQ(hxs_setsockopt(st, s1, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)),
			 -EADDRNOTAVAIL);
	}
	hxs_close(st, s1);
	hxs_close(st, s2);
	hxs_close(st, s3);
	drain();
}

int main(void)
{
	if (udpfix_open() < 0)
		return t_done();

	test_ip_validation();
	test_ip_tos();
	test_udp_validation();
	test_broadcast();

	udpfix_close();
	return t_done();
}
