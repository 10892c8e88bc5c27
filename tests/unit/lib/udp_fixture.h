/* udp_fixture.h - the fixture the UDP unit tests share (test_udp_rx.c, test_udp_tx.c,
 * test_udp_sock.c): one whole hxs stack on the in-memory link (hxs_stack__open_io) at
 * 10.0.0.2/24 knowing two neighbours, on a virtual clock, and the frame helpers.
 *
 *   CHECK_EQ(udpfix_open(), 0);    case "open a stack on the in-memory link"
 *   ... build() a frame, inject() it, read mib() counters, udp_sock(), drain() ...
 *   udpfix_close();                case "close: every frame back in the pool": leaves a frame
 *                                  waiting on a neighbour and a datagram in a queue, closes
 *                                  the stack and checks every frame is back in the pool
 *
 * Everything is static: each test program has its own copy (check.h's counters are per
 * program too).
 */
#ifndef HXS_TEST_UDP_FIXTURE_H
#define HXS_TEST_UDP_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* bare CHECK(cond) expands to an empty format string */
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#include "check.h"
#include "io/io.h"
#include "net/ip.h"
#include "sock/sock.h"
#include "open/stack_open.h"

static uint64_t vnow = 1000000;
static inline uint64_t vclock(void *ctx) { (void)ctx; return vnow; }

static struct hxs_io *io;
static struct hxs_stack *st;

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_PEER[6] = { 0x02, 0, 0, 0, 0, 0x01 };
#define IP_US   "10.0.0.2"
#define IP_PEER "10.0.0.1"
#define IP_PEER2 "10.0.0.3"                 /* a second neighbour (IPv4 IDs per destination) */
static const uint8_t MAC_PEER2[6] = { 0x02, 0, 0, 0, 0, 0x03 };

static inline uint32_t ip4(const char *s) { return inet_addr(s); }

struct pkt_opts {
	uint32_t src, dst;
	uint16_t sport, dport;
	const void *payload;
	uint32_t plen;
	uint8_t proto;
};

/* Builds a valid Ethernet + IPv4 + UDP frame; returns its length. */
static inline uint32_t build(uint8_t *f, const struct pkt_opts *o)
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

static inline void fix_ip_csum(uint8_t *f)
{
	uint16_t w = 0;
	memcpy(f + 24, &w, 2);
	w = hxs_csum_fold(hxs_csum_add(0, f + 14, (uint32_t)(f[14] & 15) * 4));
	memcpy(f + 24, &w, 2);
}

static inline void inject(const uint8_t *f, uint32_t len)
{
	CHECK_EQ(hxs_io_mem__inject(io, f, len), 0);
	CHECK(hxs_stack__poll(st, 0) >= 1);
}

static inline uint64_t mib(enum hxs_mib_id id) { return st->mib.v[id]; }

static inline struct pkt_opts good(uint16_t dport, const char *payload)
{
	struct pkt_opts o = { .src = ip4(IP_PEER), .dst = ip4(IP_US), .sport = htons(5000),
			      .dport = htons(dport), .payload = payload, .plen = (uint32_t)strlen(payload) };
	return o;
}

static inline int udp_sock(uint16_t port, int nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = hxs_socket(st, AF_INET, SOCK_DGRAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	CHECK(fd >= 0, "socket: %d", fd);
	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Drains every frame the stack transmitted; returns how many. */
static inline int drain(void)
{
	uint8_t buf[4096];
	int n = 0;

	while (hxs_io_mem__take(io, buf, sizeof(buf)) >= 0)
		n++;
	return n;
}

/* The stack every case of a test program runs on: 10.0.0.2/24, MTU 1500, both neighbours known. */
static inline int udpfix_open(void)
{
	struct hxs_netif_static cfg = { .addr = ip4(IP_US), .prefix_len = 24, .mtu = 1500, .n_neigh = 2 };

	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = ip4(IP_PEER);
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);
	cfg.neigh[1].ip = ip4(IP_PEER2);
	memcpy(cfg.neigh[1].mac, MAC_PEER2, 6);

	t_case("open a stack on the in-memory link");
	CHECK_EQ(hxs_io_mem__open(&io, 256, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&st, io, &cfg), 0);
	if (!st)
		return -1;
	hxs_stack__set_clock(st, vclock, NULL);
	return 0;
}

static inline void udpfix_close(void)
{
	struct hxs_io_stats s;

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
}

#endif
