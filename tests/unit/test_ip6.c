/* test_ip6.c - IPv6 input and output of a whole stack on the in-memory link (ip6.c): every
 * header rule with the exact Ip6* counter it moves (and no other delivery), the extension
 * headers a host skips or refuses, output headers (hop limit, traffic class, flow label,
 * source by scope), EMSGSIZE and no route, neighbour resolution queued and released, and
 * no frame leaked at the end. Time is virtual. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* bare CHECK(cond) expands to an empty format string */
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#include "check.h"
#include "io/io.h"
#include "net/ip.h"
#include "open/stack_open.h"

static uint64_t vnow = 1000000;
static uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static struct hxs_io *io;
static struct hxs_stack *st;

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_PEER[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_LATE[6] = { 0x02, 0, 0, 0, 0, 0x07 };
static uint8_t US6[16], LL_US[16], PEER6[16], LL_PEER[16], LATE6[16], FAR6[16], OTHER6[16];

#define PROTO_TEST 253          /* RFC 3692: for experimentation and testing */

static void a6(const char *s, uint8_t a[16]) { CHECK_EQ(inet_pton(AF_INET6, s, a), 1); }

/* A frame: Ethernet + IPv6 header + ext (extlen bytes, its first byte already the chain's
 * start) + l4len bytes of payload. nh is the IPv6 header's next header. */
static uint32_t build(uint8_t *f, const uint8_t src[16], const uint8_t dst[16], uint8_t nh,
		      const uint8_t *ext, uint32_t extlen, uint32_t l4len)
{
	uint8_t *ip = f + 14;
	uint16_t w;

	memcpy(f, MAC_US, 6);
	memcpy(f + 6, MAC_PEER, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(ip, 0, 40);
	ip[0] = 0x6a;           /* version 6, traffic class 0xa5, flow label 0x12345 */
	ip[1] = 0x51;
	ip[2] = 0x23;
	ip[3] = 0x45;
	w = htons((uint16_t)(extlen + l4len));
	memcpy(ip + 4, &w, 2);
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	if (extlen)
		memcpy(ip + 40, ext, extlen);
	for (uint32_t i = 0; i < l4len; i++)
		ip[40 + extlen + i] = (uint8_t)(i * 7 + 1);
	return 14 + 40 + extlen + l4len;
}

static void inject(const uint8_t *f, uint32_t len)
{
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK(hxs_stack__poll(st, 0) >= 1);
}

static uint64_t mib(enum hxs_mib_id id) { return st->mib.v[id]; }

static struct {
	int n;
	uint32_t l4_len;
	uint8_t proto, tos, first;
	uint8_t src[16], dst[16];
} seen;

static void test_l4(void *ctx, struct hxs_stack *s, const struct hxs_ip_rx *pkt)
{
	(void)ctx; (void)s;
	seen.n++;
	seen.l4_len = pkt->l4_len;
	seen.proto = pkt->proto;
	seen.tos = pkt->tos;
	seen.first = pkt->l4_len ? pkt->l4[0] : 0;
	CHECK(pkt->v6);
	memcpy(seen.src, pkt->src6, 16);
	memcpy(seen.dst, pkt->dst6, 16);
}

/* The counters a case may move; every case states what it expects of all of them. */
enum { C_RECV, C_HDR, C_TRUNC, C_ADDR, C_UNK, C_DISC, C_DELIV, C_MART, C_N };
static const enum hxs_mib_id cid[C_N] = {
	HXS_MIB_IP6_IN_RECEIVES, HXS_MIB_IP6_IN_HDR_ERRORS, HXS_MIB_IP6_IN_TRUNCATED_PKTS,
	HXS_MIB_IP6_IN_ADDR_ERRORS, HXS_MIB_IP6_IN_UNKNOWN_PROTOS, HXS_MIB_IP6_IN_DISCARDS,
	HXS_MIB_IP6_IN_DELIVERS, HXS_MIB_IP6_IN_MARTIAN_SRC,
};

/* Injects the frame; checks that exactly counter `which` moved by one besides
 * Ip6InReceives (C_N: none), and that L4 saw it iff which is C_DELIV. */
static void expect(const uint8_t *f, uint32_t len, int which)
{
	uint64_t before[C_N];
	int n0 = seen.n;

	for (int i = 0; i < C_N; i++)
		before[i] = mib(cid[i]);
	inject(f, len);
	for (int i = 0; i < C_N; i++) {
		uint64_t want = before[i] + (i == C_RECV || i == which);
		CHECK(mib(cid[i]) == want, "counter %d: %llu, want %llu", i,
		      (unsigned long long)mib(cid[i]), (unsigned long long)want);
	}
	CHECK_EQ(seen.n, n0 + (which == C_DELIV));
}

static void test_header_rules(void)
{
	uint8_t f[2048], ext[64];
	uint32_t len;

	t_case("ipv6: a valid datagram reaches L4 with its payload, addresses and traffic class");
	len = build(f, PEER6, US6, PROTO_TEST, NULL, 0, 100);
	expect(f, len, C_DELIV);
	CHECK_EQ(seen.l4_len, 100);
	CHECK_EQ(seen.proto, PROTO_TEST);
	CHECK_EQ(seen.tos, 0xa5);
	CHECK_EQ(seen.first, 1);
	CHECK(!memcmp(seen.src, PEER6, 16) && !memcmp(seen.dst, US6, 16));

	t_case("ipv6: link padding after the payload is not payload; the link-local address is ours");
	len = build(f, LL_PEER, LL_US, PROTO_TEST, NULL, 0, 10);
	expect(f, len + 30, C_DELIV);
	CHECK_EQ(seen.l4_len, 10);

	t_case("ipv6: shorter than a header, or version 4 -> Ip6InHdrErrors");
	len = build(f, PEER6, US6, PROTO_TEST, NULL, 0, 0);
	expect(f, 14 + 39, C_HDR);
	f[14] = 0x4a;
	expect(f, len, C_HDR);

	t_case("ipv6: payload length past the frame -> Ip6InTruncatedPkts");
	len = build(f, PEER6, US6, PROTO_TEST, NULL, 0, 20);
	expect(f, len - 1, C_TRUNC);

	t_case("ipv6: payload length 0 with hop-by-hop (a jumbogram, RFC 2675) -> Ip6InHdrErrors");
	len = build(f, PEER6, US6, 0, NULL, 0, 16);
	f[18] = f[19] = 0;
	expect(f, len, C_HDR);

	t_case("ipv6: multicast, loopback or IPv4-mapped source; loopback destination -> Ip6InHdrErrors");
	{
		uint8_t mc[16], lo[16], mapped[16];
		a6("ff02::1", mc);
		a6("::1", lo);
		a6("::ffff:10.0.0.1", mapped);
		len = build(f, mc, US6, PROTO_TEST, NULL, 0, 8);
		expect(f, len, C_HDR);
		len = build(f, lo, US6, PROTO_TEST, NULL, 0, 8);
		expect(f, len, C_HDR);
		len = build(f, mapped, US6, PROTO_TEST, NULL, 0, 8);
		expect(f, len, C_HDR);
		len = build(f, PEER6, lo, PROTO_TEST, NULL, 0, 8);
		expect(f, len, C_HDR);
	}

	t_case("ipv6: not one of our addresses (another host, a multicast group) -> Ip6InAddrErrors");
	{
		uint8_t mc[16];
		a6("ff02::1", mc);
		len = build(f, PEER6, OTHER6, PROTO_TEST, NULL, 0, 8);
		expect(f, len, C_ADDR);
		len = build(f, PEER6, mc, PROTO_TEST, NULL, 0, 8);
		expect(f, len, C_ADDR);
	}

	t_case("ipv6: a next header nobody handles -> Ip6InUnknownProtos");
	len = build(f, PEER6, US6, 252, NULL, 0, 8);
	expect(f, len, C_UNK);

	t_case("ipv6: TCP from the unspecified address -> HxsIp6InMartianSrc");
	{
		uint8_t z[16] = { 0 };
		len = build(f, z, US6, IPPROTO_TCP, NULL, 0, 20);
		expect(f, len, C_MART);
	}

	t_case("ipv6: hop-by-hop with Pad1 and PadN, then destination options, then L4: delivered past both");
	memset(ext, 0, sizeof(ext));
	ext[0] = 60; ext[1] = 0;                        /* HBH, 8 bytes */
	ext[2] = 0; ext[3] = 1; ext[4] = 2; ext[5] = 0; ext[6] = 0; ext[7] = 0; /* Pad1, PadN(2), Pad1 */
	ext[8] = PROTO_TEST; ext[9] = 1;                /* DSTOPTS, 16 bytes */
	ext[10] = 0x05; ext[11] = 2; ext[12] = 0; ext[13] = 0;  /* Router Alert: skipped */
	ext[14] = 0x1e; ext[15] = 8;                    /* unknown, action 00: skipped */
	len = build(f, PEER6, US6, 0, ext, 24, 12);
	expect(f, len, C_DELIV);
	CHECK_EQ(seen.l4_len, 12);
	CHECK_EQ(seen.first, 1);

	t_case("ipv6: an unknown option with action 01, 10 or 11 -> Ip6InHdrErrors (RFC 8200 §4.2)");
	for (int act = 1; act <= 3; act++) {
		memset(ext, 0, 8);
		ext[0] = PROTO_TEST; ext[1] = 0;
		ext[2] = (uint8_t)(act << 6 | 0x1e); ext[3] = 4;
		len = build(f, PEER6, US6, 60, ext, 8, 8);
		expect(f, len, C_HDR);
	}

	t_case("ipv6: an option whose length runs past its header -> Ip6InHdrErrors");
	memset(ext, 0, 8);
	ext[0] = PROTO_TEST; ext[1] = 0; ext[2] = 1; ext[3] = 5;       /* PadN of 5 in 6 bytes */
	len = build(f, PEER6, US6, 60, ext, 8, 8);
	expect(f, len, C_HDR);

	t_case("ipv6: hop-by-hop anywhere but first -> Ip6InUnknownProtos");
	memset(ext, 0, 16);
	ext[0] = 0; ext[1] = 0; ext[2] = 1; ext[3] = 4;                /* DSTOPTS -> HBH */
	ext[8] = PROTO_TEST; ext[9] = 0; ext[10] = 1; ext[11] = 4;
	len = build(f, PEER6, US6, 60, ext, 16, 8);
	expect(f, len, C_UNK);

	t_case("ipv6: routing header type 0 -> Ip6InHdrErrors (RFC 5095), even with no segments left");
	memset(ext, 0, 8);
	ext[0] = PROTO_TEST; ext[1] = 0; ext[2] = 0; ext[3] = 0;
	len = build(f, PEER6, US6, 43, ext, 8, 8);
	expect(f, len, C_HDR);

	t_case("ipv6: another routing type with no segments left is ignored; with segments left refused");
	ext[2] = 4; ext[3] = 0;
	len = build(f, PEER6, US6, 43, ext, 8, 8);
	expect(f, len, C_DELIV);
	CHECK_EQ(seen.l4_len, 8);
	ext[3] = 1;
	len = build(f, PEER6, US6, 43, ext, 8, 8);
	expect(f, len, C_HDR);

	t_case("ipv6: an extension header past the payload -> Ip6InHdrErrors");
	memset(ext, 0, 8);
	ext[0] = PROTO_TEST; ext[1] = 1;                /* claims 16 bytes, 8 there */
	len = build(f, PEER6, US6, 60, ext, 8, 0);
	expect(f, len, C_HDR);
	len = build(f, PEER6, US6, 60, ext, 4, 0);      /* not even its first 8 */
	expect(f, len, C_HDR);

	t_case("ipv6: a fragment -> Ip6InDiscards (hxs does not reassemble)");
	memset(ext, 0, 8);
	ext[0] = PROTO_TEST; ext[3] = 1;                /* offset 0, M=1 */
	len = build(f, PEER6, US6, 44, ext, 8, 16);
	expect(f, len, C_DISC);

	t_case("ipv6: no next header (59): nothing delivered, nothing counted but the receive");
	len = build(f, PEER6, US6, 59, NULL, 0, 8);
	expect(f, len, C_N);

	t_case("ipv6 over Ethernet: a frame for another MAC is not ours (HxsEthInDiscards)");
	{
		uint64_t d = mib(HXS_MIB_ETH_IN_DISCARDS), r = mib(HXS_MIB_IP6_IN_RECEIVES);
		len = build(f, PEER6, US6, PROTO_TEST, NULL, 0, 8);
		f[0] = 0x33; f[1] = 0x33;               /* a multicast MAC: ND's, the kernel's */
		inject(f, len);
		CHECK_EQ(mib(HXS_MIB_ETH_IN_DISCARDS), d + 1);
		CHECK_EQ(mib(HXS_MIB_IP6_IN_RECEIVES), r);
	}
}

static int take(uint8_t *buf, uint32_t cap)
{
	hxs_stack__poll(st, 0);
	return hxs_io_mem__take(io, buf, cap);
}

static void test_output(void)
{
	struct hxs_ip_tx tx;
	uint8_t f[2048];
	int n;

	t_case("ipv6 out: header fields, the global source for a global peer, Ethernet to its MAC");
	{
		uint64_t rq = mib(HXS_MIB_IP6_OUT_REQUESTS);
		CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, PEER6, PROTO_TEST, 30), 0);
		CHECK(!memcmp(tx.src6, US6, 16));
		memset(tx.l4, 0xab, 30);
		tx.tos = 0xb8;
		tx.flow = 0xabcde;
		CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
		n = take(f, sizeof(f));
		CHECK_EQ(n, 14 + 40 + 30);
		CHECK(!memcmp(f, MAC_PEER, 6) && !memcmp(f + 6, MAC_US, 6));
		CHECK(f[12] == 0x86 && f[13] == 0xdd);
		CHECK_EQ(f[14], 0x6b);                  /* version 6, traffic class 0xb8 */
		CHECK_EQ(f[15], 0x8a);
		CHECK(f[16] == 0xbc && f[17] == 0xde);
		CHECK(f[18] == 0 && f[19] == 30);
		CHECK_EQ(f[20], PROTO_TEST);
		CHECK_EQ(f[21], 64);                    /* no route hop limit: 64 */
		CHECK(!memcmp(f + 22, US6, 16) && !memcmp(f + 38, PEER6, 16));
		CHECK_EQ(f[54], 0xab);
		CHECK_EQ(mib(HXS_MIB_IP6_OUT_REQUESTS), rq + 1);
	}

	t_case("ipv6 out: a link-local peer gets the link-local source (RFC 6724 rule 2)");
	CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, LL_PEER, PROTO_TEST, 8), 0);
	CHECK(!memcmp(tx.src6, LL_US, 16));
	memset(tx.l4, 0, 8);
	CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
	n = take(f, sizeof(f));
	CHECK_EQ(n, 14 + 48);
	CHECK(!memcmp(f + 22, LL_US, 16) && !memcmp(f + 38, LL_PEER, 16));

	t_case("ipv6 out: the route's hop limit is used");
	st->scfg.hop_limit6 = 255;
	CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, PEER6, PROTO_TEST, 8), 0);
	memset(tx.l4, 0, 8);
	CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
	n = take(f, sizeof(f));
	CHECK_EQ(f[21], 255);
	st->scfg.hop_limit6 = 0;

	t_case("ipv6 out: MTU - 40 fits, one more byte is EMSGSIZE (no fragmentation)");
	CHECK_EQ(hxs_ip6_max_l4(st), 1500 - 40);
	CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, PEER6, PROTO_TEST, 1461), -EMSGSIZE);
	CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, PEER6, PROTO_TEST, 1460), 0);
	memset(tx.l4, 0, 1460);
	CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
	CHECK_EQ(take(f, sizeof(f)), 1514);

	t_case("ipv6 out: off-link with no gateway -> ENETUNREACH, Ip6OutNoRoutes");
	{
		uint64_t nr = mib(HXS_MIB_IP6_OUT_NO_ROUTES);
		CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, FAR6, PROTO_TEST, 8), -ENETUNREACH);
		CHECK_EQ(mib(HXS_MIB_IP6_OUT_NO_ROUTES), nr + 1);
	}

	t_case("ipv6 out: an unresolved neighbour queues the frames, in order, until it resolves");
	{
		uint64_t q = mib(HXS_MIB_NEIGH_QUEUED);
		for (int i = 0; i < 2; i++) {
			CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, LATE6, PROTO_TEST, 8), 0);
			memset(tx.l4, i + 1, 8);
			CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
		}
		CHECK_EQ(mib(HXS_MIB_NEIGH_QUEUED), q + 2);
		CHECK_EQ(take(f, sizeof(f)), -EAGAIN);
		hxs_stack__neigh6_event(st, LATE6, HXS_NEIGH_RESOLVED, MAC_LATE);
		for (int i = 0; i < 2; i++) {
			CHECK_EQ(take(f, sizeof(f)), 14 + 48);
			CHECK(!memcmp(f, MAC_LATE, 6));
			CHECK(f[12] == 0x86 && f[13] == 0xdd);
			CHECK_EQ(f[54], i + 1);
		}
	}

	t_case("ipv6 out: a neighbour that never resolves: dropped at the timeout, Ip6OutDiscards");
	{
		uint64_t od = mib(HXS_MIB_IP6_OUT_DISCARDS), od4 = mib(HXS_MIB_IP_OUT_DISCARDS);
		uint8_t gone[16];
		a6("fd00:201::77", gone);
		CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, gone, PROTO_TEST, 8), 0);
		memset(tx.l4, 0, 8);
		CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
		vnow += HXS_NEIGH_TIMEOUT_US + 100000;
		hxs_stack__poll(st, 0);
		CHECK_EQ(mib(HXS_MIB_IP6_OUT_DISCARDS), od + 1);
		CHECK_EQ(mib(HXS_MIB_IP_OUT_DISCARDS), od4);
		CHECK_EQ(take(f, sizeof(f)), -EAGAIN);
	}
}

int main(void)
{
	struct hxs_netif_static cfg = { .addr = inet_addr("10.0.0.2"), .prefix_len = 24, .mtu = 1500,
					.prefix6_len = 64, .n_neigh6 = 2 };
	struct hxs_io_stats s;

	a6("fd00:201::2", US6);
	a6("fe80::2", LL_US);
	a6("fd00:201::1", PEER6);
	a6("fe80::1", LL_PEER);
	a6("fd00:201::7", LATE6);
	a6("2001:db8::1", FAR6);
	a6("fd00:201::99", OTHER6);
	memcpy(cfg.mac, MAC_US, 6);
	memcpy(cfg.addr6, US6, 16);
	memcpy(cfg.ll6, LL_US, 16);
	memcpy(cfg.neigh6[0].ip, PEER6, 16);
	memcpy(cfg.neigh6[0].mac, MAC_PEER, 6);
	memcpy(cfg.neigh6[1].ip, LL_PEER, 16);
	memcpy(cfg.neigh6[1].mac, MAC_PEER, 6);

	t_case("open a stack with IPv6 addresses on the in-memory link");
	CHECK_EQ(hxs_io_mem__open(&io, 256, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&st, io, &cfg), 0);
	if (!st)
		return t_done();
	hxs_stack__set_clock(st, vclock, NULL);
	hxs_stack__set_l4v6(st, PROTO_TEST, test_l4, NULL);

	test_header_rules();
	test_output();

	t_case("close: every frame back in the pool (one left waiting on a neighbour too)");
	{
		struct hxs_ip_tx tx;
		uint8_t f[2048];
		CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, LATE6, PROTO_TEST, 8), 0);
		memset(tx.l4, 0, 8);
		CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
		hxs_stack__neigh6_event(st, LATE6, HXS_NEIGH_FAILED, NULL);
		CHECK_EQ(take(f, sizeof(f)), -EAGAIN);
		CHECK_EQ(hxs_ip6_tx_alloc(st, &tx, LATE6, PROTO_TEST, 8), 0);
		memset(tx.l4, 0, 8);
		CHECK_EQ(hxs_ip_tx_send(st, &tx), 0);
	}
	hxs_stack__close(st);
	while (hxs_io_mem__take(io, (uint8_t[2048]){ 0 }, 2048) >= 0)
		;
	io->ops->flush(io);
	io->ops->get_stats(io, &s);
	CHECK_EQ(s.frames_held, 0);
	CHECK_EQ(s.frames_tx_queued, 0);
	CHECK_EQ(s.frames_free + s.frames_rx_queued, s.frames_total);
	io->ops->close(io);
	return t_done();
}
