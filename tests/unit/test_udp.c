/* test_udp.c - a whole hxs stack on the in-memory link (hxs_stack__open_io): IPv4 and UDP
 * input validation with the exact counter each bad case moves, UDP socket semantics and errno
 * values, output headers and checksums, a TX ring that takes a prefix of the batch, neighbour
 * resolution (queue, resolve, timeout), epoll
 * level/edge/one-shot semantics, and no frame leaked at the end. Time is virtual. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

/* bare CHECK(cond) expands to an empty format string */
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#include "check.h"
#include "io/io.h"
#include "net/ip.h"
#include "sock/sock.h"
#include "open/stack_open.h"
#include "twostack.h"

static uint64_t vnow = 1000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static struct hxs_io *io;
static struct hxs_stack *st;

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_PEER[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_LATE[6] = { 0x02, 0, 0, 0, 0, 0x07 };
#define IP_US   "10.0.0.2"
#define IP_PEER "10.0.0.1"
#define IP_PEER2 "10.0.0.3"                 /* a second neighbour (IPv4 IDs per destination) */
static const uint8_t MAC_PEER2[6] = { 0x02, 0, 0, 0, 0, 0x03 };

static uint32_t ip4(const char *s) { return inet_addr(s); }

struct pkt_opts {
	uint32_t src, dst;
	uint16_t sport, dport;
	const void *payload;
	uint32_t plen;
	uint8_t proto;
};

/* Builds a valid Ethernet + IPv4 + UDP frame; returns its length. */
static uint32_t build(uint8_t *f, const struct pkt_opts *o)
{
	uint8_t *ip = f + 14, *uh = ip + 20;
	uint16_t w;

	memcpy(f, MAC_US, 6);
	memcpy(f + 6, MAC_PEER, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	w = htons((uint16_t)(20 + 8 + o->plen));
	memcpy(ip + 2, &w, 2);
	ip[8] = 64;
	ip[9] = o->proto ? o->proto : IPPROTO_UDP;
	memcpy(ip + 12, &o->src, 4);
	memcpy(ip + 16, &o->dst, 4);
	w = hxs_csum_fold(hxs_csum_add(0, ip, 20));
	memcpy(ip + 10, &w, 2);
	memcpy(uh, &o->sport, 2);
	memcpy(uh + 2, &o->dport, 2);
	w = htons((uint16_t)(8 + o->plen));
	memcpy(uh + 4, &w, 2);
	uh[6] = uh[7] = 0;
	memcpy(uh + 8, o->payload, o->plen);
	w = hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(o->src, o->dst, IPPROTO_UDP, 8 + o->plen), uh, 8 + o->plen));
	if (!w)
		w = 0xffff;
	memcpy(uh + 6, &w, 2);
	return 14 + 20 + 8 + o->plen;
}

static void fix_ip_csum(uint8_t *f)
{
	uint16_t w = 0;
	memcpy(f + 24, &w, 2);
	w = hxs_csum_fold(hxs_csum_add(0, f + 14, (uint32_t)(f[14] & 15) * 4));
	memcpy(f + 24, &w, 2);
}

static void inject(const uint8_t *f, uint32_t len)
{
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK(hxs_stack__poll(st, 0) >= 1);
}

static uint64_t mib(enum hxs_mib_id id) { return st->mib.v[id]; }

static struct pkt_opts good(uint16_t dport, const char *payload)
{
	struct pkt_opts o = { .src = ip4(IP_PEER), .dst = ip4(IP_US), .sport = htons(5000),
			      .dport = htons(dport), .payload = payload, .plen = (uint32_t)strlen(payload) };
	return o;
}

static int udp_sock(uint16_t port, int nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = hxs_socket(st, AF_INET, SOCK_DGRAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	CHECK(fd >= 0, "socket: %d", fd);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Drains every frame the stack transmitted; returns how many. */
static int drain(void)
{
	uint8_t buf[4096];
	int n = 0;

	while (hxs_io_mem__take(io, buf, sizeof(buf)) >= 0)
		n++;
	return n;
}

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
	struct hxs_netif_static cfg = { .addr = ip4(IP_US), .prefix_len = 24, .mtu = 1500, .n_neigh = 2 };
	struct hxs_io_stats s;

	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = ip4(IP_PEER);
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);
	cfg.neigh[1].ip = ip4(IP_PEER2);
	memcpy(cfg.neigh[1].mac, MAC_PEER2, 6);

	t_case("open a stack on the in-memory link");
	CHECK_EQ(hxs_io_mem__open(&io, 256, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&st, io, &cfg), 0);
	if (!st)
		return t_done();
	hxs_stack__set_clock(st, vclock, NULL);

	test_ip_validation();
	test_ip_tos();
	test_udp_validation();
	test_socket_errors();
	test_output();
	test_msg();
	test_broadcast();
	test_tx_ring_full();
	test_neigh();
	test_epoll();
	test_pair();

	t_case("close: every frame back in the pool");
	{
		int s1 = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in gone = { .sin_family = AF_INET, .sin_port = htons(6000), .sin_addr.s_addr = ip4("10.0.0.9") };
		uint8_t f[2048];
		struct pkt_opts o = good(7000, "left in queue");
		uint32_t len;
		/* leave a frame waiting on a neighbour and a datagram in a queue */
		CHECK_EQ(hxs_sendto(st, s1, "x", 1, 0, (struct sockaddr *)&gone, sizeof(gone)), 1);
		udp_sock(7000, 1);
		len = build(f, &o);
		inject(f, len);
	}
	hxs_stack__print_counters(st, stdout, 0);
	hxs_stack__close(st);
	drain();
	io->ops->flush(io);     /* reaps the completions of what drain() took */
	io->ops->get_stats(io, &s);
	CHECK_EQ(s.frames_held, 0);
	CHECK_EQ(s.frames_tx_queued, 0);
	CHECK_EQ(s.frames_free + s.frames_rx_queued, s.frames_total);
	io->ops->close(io);
	return t_done();
}
