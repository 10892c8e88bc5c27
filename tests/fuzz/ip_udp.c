/* ip_udp.c - libFuzzer target: a whole hxs stack on the in-memory link (hxs_stack__open_io:
 * Ethernet, IPv4, UDP sockets, a TCP listener) fed fuzzed frames, socket calls and time.
 *
 * One input is one stack, 10.0.0.2/24 (MTU 1500, 64 frames of 2048 bytes, neighbour 10.0.0.1
 * known, gateway 10.0.0.254 not), with sockets: A, UDP 0.0.0.0:7000; B, UDP 10.0.0.2:7001
 * connected to 10.0.0.1:5000; a TCP listener on port 80 and what it accepts. Byte 0 sets
 * A's SO_RCVBUF (small buffers fill up). Then records, a header byte (low 3 bits the
 * operation, high 5 bits a time step first, dt_us[]) and the operation's bytes:
 *   FRAME   a fix-up byte, a 16-bit length and the frame; the fix-ups make the fuzzer's
 *           bytes into what it would rarely find alone: our MAC (or broadcast) and IPv4
 *           ethertype, our IP address, IP total length, IP checksum, UDP length, UDP
 *           checksum. Injected as received, then a turn of the stack.
 *   RECV    recvfrom on A, B or an accepted TCP socket (sizes, MSG_PEEK, MSG_TRUNC)
 *   SEND    sendto from A (to the known neighbour, an unknown on-link host, off-link via
 *           the unresolved gateway) or send on B; a payload the check below recognises
 *   NEIGH   the kernel's answer for a pending neighbour: resolved (a late MAC) or failed
 *   TAKE    frames off the wire, each checked
 *   ACCEPT  / CLOSE of an accepted TCP socket
 *   PEER    the peer 10.0.0.1 answers the last TCP segment on the wire (ACK, data, FIN), or
 *           just a turn of the stack
 * getrandom() is the harness's (fixed bytes): the stack's keys, so a run repeats.
 *
 * Checked:
 *   every datagram read is the next one, in order, of those injected that a plain reading
 *   of RFC 791/1122 and RFC 768 says must reach that socket (queue overflow may drop, so
 *   the reads are a subsequence), with its source address and port, whole or truncated as
 *   asked;
 *   every frame on the wire: our MAC as source, the neighbour's as destination, IPv4 with
 *   a 20-byte header, a right checksum, total length == frame length - 14 <= MTU, TTL 64,
 *   our address as source; UDP length and checksum right and the payload one we sent to
 *   that destination; TCP checksum right;
 *   the io layer's frame accounting after every record (total == free + RX-queued +
 *   TX-queued + held, held == the frames waiting for neighbours + the TX batch), and after closing the
 *   stack every frame back (nothing held or queued for TX);
 *   the static control plane's own/disown balance (it aborts otherwise).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "hxs/hxs.h"
#include "io/io.h"
#include "lib/csum.h"
#include "net/ip.h"
#include "net/stack.h"
#include "open/stack_open.h"
#include "sock/sock.h"

#define NFRAMES 64
#define FSIZE   2048
#define MTU     1500
#define MAXQ    256            /* datagrams remembered per socket */

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_PEER[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_LATE[6] = { 0x02, 0, 0, 0, 0, 0x07 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint32_t ip4(const char *s)
{
	return inet_addr(s);
}

static const uint64_t dt_us[32] = {
	0, 0, 0, 0, 10, 100, 1000, 10000, 100000, 200000, 500000, 1000000, 1500000, 2000000,
	2900000, 3000000, 3100000, 5000000, 10000000, 60000000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The stack's keys (ISN, port selection) come from getrandom(); this definition takes its
 * place in the fuzz executable, so that one input always runs the same way. */
ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	(void)flags;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(i * 37 + 11);
	return (ssize_t)len;
}

static uint64_t vnow;
static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return vnow;
}

/* A datagram a socket must be offered, in order. */
struct dgram {
	uint32_t saddr;
	uint16_t sport;
	uint32_t len;
	uint8_t *data;
};

struct sockq {
	int fd;
	uint32_t bound_addr;       /* 0: any */
	uint16_t port;             /* network order */
	uint32_t peer_addr;        /* connected: the only source taken */
	uint16_t peer_port;
	struct dgram q[MAXQ];
	unsigned head, n;
};

struct run {
	struct hxs_io *io;
	struct hxs_stack *st;
	struct sockq s[2];
	int lfd;
	int tfd[4];
	uint32_t sent_id;          /* datagrams sent so far: the id in each payload */
	/* the last TCP segment on the wire, for the scripted peer */
	int tcp_seen;
	uint16_t tcp_dport;
	uint32_t tcp_seq, tcp_ack, tcp_len;
	uint8_t tcp_flags;
	uint32_t sent_dst[1024];   /* destination of each id */
};

/* --- the reference reading of a received frame ---------------------------------------------- */
static uint16_t fold(uint32_t sum)
{
	return hxs_csum_fold(sum);
}

/* What a frame we inject must deliver: socket index and datagram, or -1. */
static int expect_delivery(struct run *r, const uint8_t *f, uint32_t len, struct dgram *d)
{
	if (len < 14 + 20)
		return -1;
	/* Ethernet: ours or broadcast, IPv4 */
	if ((memcmp(f, MAC_US, 6) && memcmp(f, MAC_BCAST, 6)) || f[12] != 0x08 || f[13] != 0x00)
		return -1;
	const uint8_t *ip = f + 14;
	uint32_t iplen = len - 14, ihl = (ip[0] & 15u) * 4, tot = (uint32_t)ip[2] << 8 | ip[3];
	/* RFC 791 §3.1 / RFC 1122 §3.2.1.1-2: version, IHL, total length, checksum */
	if (ip[0] >> 4 != 4 || ihl < 20 || ihl > iplen || tot < ihl || tot > iplen)
		return -1;
	if (fold(hxs_csum_add(0, ip, ihl)) != 0)
		return -1;
	uint32_t src, dst;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	/* RFC 1122 §3.2.1.3: ours or limited broadcast; no fragments (hxs does not reassemble) */
	if (dst != ip4("10.0.0.2") && dst != INADDR_BROADCAST)
		return -1;
	if (((uint32_t)ip[6] << 8 | ip[7]) & 0x3fff)
		return -1;
	if (ip[9] != IPPROTO_UDP)
		return -1;
	const uint8_t *uh = ip + ihl;
	uint32_t l4 = tot - ihl;
	if (l4 < 8)
		return -1;
	uint32_t ulen = (uint32_t)uh[4] << 8 | uh[5];
	/* RFC 768: length >= 8 and within what IP carried; checksum 0 = none */
	if (ulen < 8 || ulen > l4)
		return -1;
	if ((uh[6] || uh[7]) &&
	    fold(hxs_csum_add(hxs_csum_pseudo(src, dst, IPPROTO_UDP, ulen), uh, ulen)) != 0)
		return -1;
	uint16_t sport, dport;
	memcpy(&sport, uh, 2);
	memcpy(&dport, uh + 2, 2);
	/* the kernel's lookup: a connected socket takes only its peer's datagrams; a bound
	 * address must match the destination */
	for (int i = 0; i < 2; i++) {
		struct sockq *s = &r->s[i];
		if (s->fd < 0 || s->port != dport)
			continue;
		if (s->bound_addr && s->bound_addr != dst)
			continue;
		if (s->peer_addr && (s->peer_addr != src || s->peer_port != sport))
			continue;
		d->saddr = src;
		d->sport = sport;
		d->len = ulen - 8;
		d->data = malloc(d->len ? d->len : 1);
		memcpy(d->data, uh + 8, d->len);
		return i;
	}
	return -1;
}

static void sockq_push(struct sockq *s, const struct dgram *d)
{
	if (s->n == MAXQ) {         /* the oldest can no longer be read in order: forget it */
		free(s->q[s->head].data);
		s->head = (s->head + 1) % MAXQ;
		s->n--;
	}
	s->q[(s->head + s->n) % MAXQ] = *d;
	s->n++;
}

static void sockq_pop(struct sockq *s)
{
	free(s->q[s->head].data);
	s->head = (s->head + 1) % MAXQ;
	s->n--;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* --- checks ---------------------------------------------------------------------------- */
static void check_frames(struct run *r)
{
	struct hxs_io_stats s;
	r->io->ops->get_stats(r->io, &s);
	uint64_t pending = 0;
	for (int i = 0; i < HXS_NEIGH_PENDING; i++)
		if (r->st->pend[i].used)
			pending += r->st->pend[i].n;
	FZ_CHECK(s.frames_total == s.frames_free + s.frames_rx_queued + s.frames_tx_queued + s.frames_held,
		 "frames: %llu total, %llu free + %llu rx + %llu tx + %llu held",
		 (unsigned long long)s.frames_total, (unsigned long long)s.frames_free,
		 (unsigned long long)s.frames_rx_queued, (unsigned long long)s.frames_tx_queued,
		 (unsigned long long)s.frames_held);
	/* A socket call outside a turn (close sending a RST) leaves its frame in the TX
	 * batch until the next turn flushes it. */
	FZ_CHECK(s.frames_held == pending + (uint64_t)r->st->ntx,
		 "%llu frames held, %llu wait for a neighbour, %d in the TX batch",
		 (unsigned long long)s.frames_held, (unsigned long long)pending, r->st->ntx);
}

/* The payload of datagram id: its id, then bytes that depend on it and the offset. */
static void payload_fill(uint8_t *p, uint32_t len, uint32_t id)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = i < 4 ? (uint8_t)(id >> (8 * (3 - i))) : (uint8_t)(id * 7 + i * 13);
}

static void check_tx_frame(struct run *r, const uint8_t *f, uint32_t len)
{
	FZ_CHECK(len >= 14 + 20 && len <= 14 + MTU, "%u-byte frame on the wire", len);
	FZ_CHECK(!memcmp(f + 6, MAC_US, 6), "source MAC not ours");
	FZ_CHECK(!memcmp(f, MAC_PEER, 6) || !memcmp(f, MAC_LATE, 6), "destination MAC unknown");
	FZ_CHECK(f[12] == 0x08 && f[13] == 0x00, "ethertype %02x%02x", f[12], f[13]);
	const uint8_t *ip = f + 14;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3], src, dst;
	FZ_CHECK(ip[0] == 0x45, "IP version/IHL %#x", ip[0]);
	FZ_CHECK(tot == len - 14, "IP total length %u in a %u-byte frame", tot, len);
	FZ_CHECK(fold(hxs_csum_add(0, ip, 20)) == 0, "IP header checksum");
	FZ_CHECK(ip[8] == 64, "TTL %u", ip[8]);
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	FZ_CHECK(src == ip4("10.0.0.2"), "source address not ours");
	if (dst == ip4("10.0.0.1"))
		FZ_CHECK(!memcmp(f, MAC_PEER, 6), "10.0.0.1 sent to another MAC");
	const uint8_t *l4 = ip + 20;
	uint32_t l4len = tot - 20;
	if (ip[9] == IPPROTO_TCP) {
		FZ_CHECK(l4len >= 20, "%u-byte TCP segment", l4len);
		FZ_CHECK(fold(hxs_csum_add(hxs_csum_pseudo(src, dst, IPPROTO_TCP, l4len), l4, l4len)) == 0,
			 "TCP checksum");
		uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
		FZ_CHECK(doff >= 20 && doff <= l4len, "TCP data offset %u", doff);
		r->tcp_seen = 1;
		r->tcp_dport = rd16(l4 + 2);
		r->tcp_seq = (uint32_t)rd16(l4 + 4) << 16 | rd16(l4 + 6);
		r->tcp_ack = (uint32_t)rd16(l4 + 8) << 16 | rd16(l4 + 10);
		r->tcp_flags = l4[13];
		r->tcp_len = l4len - doff;
		return;
	}
	if (ip[9] == IPPROTO_ICMP) {
		/* RFC 1122 §4.1.3.1: a datagram to our address that no socket took is answered
		 * with port unreachable (sock/udp_unreach.c), quoting its IPv4 header and 8
		 * bytes of UDP (RFC 792), to the datagram's source, never about a broadcast */
		FZ_CHECK(l4len >= 8 + 20 + 8, "%u-byte ICMP message", l4len);
		FZ_CHECK(l4[0] == 3 && l4[1] == 3, "ICMP type %u code %u", l4[0], l4[1]);
		FZ_CHECK(fold(hxs_csum_add(0, l4, l4len)) == 0, "ICMP checksum");
		const uint8_t *q = l4 + 8;
		uint32_t qsrc, qdst, qihl = (uint32_t)(q[0] & 15) * 4;
		FZ_CHECK(q[0] >> 4 == 4 && qihl >= 20 && 8 + qihl + 8 <= l4len, "quoted IP header");
		FZ_CHECK(q[9] == IPPROTO_UDP, "quoted protocol %u", q[9]);
		memcpy(&qsrc, q + 12, 4);
		memcpy(&qdst, q + 16, 4);
		FZ_CHECK(qdst == src, "port unreachable about a datagram not to our address");
		FZ_CHECK(qsrc == dst, "port unreachable not to the datagram's source");
		return;
	}
	FZ_CHECK(ip[9] == IPPROTO_UDP, "protocol %u", ip[9]);
	FZ_CHECK(l4len >= 8 && ((uint32_t)l4[4] << 8 | l4[5]) == l4len, "UDP length");
	FZ_CHECK(l4[6] || l4[7], "UDP checksum left out");
	FZ_CHECK(fold(hxs_csum_add(hxs_csum_pseudo(src, dst, IPPROTO_UDP, l4len), l4, l4len)) == 0,
		 "UDP checksum");
	uint32_t plen = l4len - 8;
	FZ_CHECK(plen >= 4, "a %u-byte datagram we never sent", plen);
	const uint8_t *p = l4 + 8;
	uint32_t id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	FZ_CHECK(id < r->sent_id && id < 1024, "datagram id %u never sent", id);
	FZ_CHECK(r->sent_dst[id] == dst, "datagram %u to the wrong address", id);
	uint8_t *want = malloc(plen);
	payload_fill(want, plen, id);
	FZ_CHECK(!memcmp(want, p, plen), "datagram %u's bytes changed", id);
	free(want);
}

static void take(struct run *r, int max)
{
	uint8_t *buf = malloc(FSIZE);
	for (int i = 0; i < max; i++) {
		int n = hxs_io_mem__take(r->io, buf, FSIZE);
		if (n < 0) {
			FZ_CHECK(n == -EAGAIN, "take: %d", n);
			break;
		}
		check_tx_frame(r, buf, (uint32_t)n);
	}
	free(buf);
}

/* --- operations ------------------------------------------------------------------------- */

static void op_frame(struct run *r, struct fz *in)
{
	uint8_t fix = fz_u8(in);
	size_t len;
	const uint8_t *src = fz_bytes(in, fz_u16(in), &len);
	if (len > FSIZE)
		len = FSIZE;
	uint8_t *f = malloc(len ? len : 1);
	memcpy(f, src, len);
	if ((fix & 1) && len >= 14) {
		memcpy(f, (fix & 0x40) ? MAC_BCAST : MAC_US, 6);
		f[12] = 0x08;
		f[13] = 0x00;
	}
	uint8_t *ip = f + 14;
	uint32_t ihl = len >= 34 ? (ip[0] & 15u) * 4 : 0;
	if (ihl >= 20 && 14 + ihl <= len) {
		if (fix & 0x20) {
			uint32_t us = ip4("10.0.0.2");
			memcpy(ip + 16, &us, 4);
		}
		if (fix & 2)
			wr16(ip + 2, (uint32_t)len - 14);
		uint32_t tot = rd16(ip + 2);
		if ((fix & 8) && tot >= ihl + 8 && 14 + tot <= len)
			wr16(ip + ihl + 4, tot - ihl);
		if ((fix & 0x10) && tot >= ihl + 8 && 14 + tot <= len && ip[9] == IPPROTO_UDP) {
			uint8_t *uh = ip + ihl;
			uint32_t ulen = rd16(uh + 4), s, d;
			if (ulen >= 8 && ulen <= tot - ihl) {
				memcpy(&s, ip + 12, 4);
				memcpy(&d, ip + 16, 4);
				wr16(uh + 6, 0);
				uint16_t c = fold(hxs_csum_add(hxs_csum_pseudo(s, d, IPPROTO_UDP, ulen), uh, ulen));
				if (!c)
					c = 0xffff;
				memcpy(uh + 6, &c, 2);
			}
		}
		if (fix & 4) {
			wr16(ip + 10, 0);
			uint16_t c = fold(hxs_csum_add(0, ip, ihl));
			memcpy(ip + 10, &c, 2);
		}
	}
	struct dgram d;
	int to = expect_delivery(r, f, (uint32_t)len, &d);
	int rc = hxs_io_mem__inject(r->io, f, (uint32_t)len);
	free(f);
	FZ_CHECK(rc == 0 || rc == -ENOBUFS || rc == -EMSGSIZE, "inject: %d", rc);
	if (rc == 0 && to >= 0)
		sockq_push(&r->s[to], &d);
	else if (to >= 0)
		free(d.data);
	hxs_stack__poll(r->st, 0);
}

static void op_recv(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in);
	int which = b & 3;
	uint32_t cap = (uint32_t)(b >> 2 & 7) * 200u;
	int flags = MSG_DONTWAIT | ((b & 0x20) ? MSG_PEEK : 0) | ((b & 0x40) ? MSG_TRUNC : 0);
	uint8_t *buf = malloc(cap ? cap : 1);
	if (which >= 2) {
		int fd = r->tfd[(b >> 7) * 2 + (which - 2)];
		if (fd >= 0)
			hxs_recv(r->st, fd, buf, cap, MSG_DONTWAIT);
		free(buf);
		return;
	}
	struct sockq *s = &r->s[which];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	memset(&from, 0, sizeof(from));
	ssize_t n = hxs_recvfrom(r->st, s->fd, buf, cap, flags, (struct sockaddr *)&from, &fl);
	if (n == -EAGAIN || n == -EHOSTUNREACH) {   /* nothing, or a send's neighbour failed */
		free(buf);
		return;
	}
	FZ_CHECK(n >= 0, "recvfrom: %zd", n);
	/* the datagram read is one the model expected, the oldest not yet read: the ones
	 * before it were dropped (receive queue full) */
	unsigned skip = 0;
	int found = 0;
	for (; skip < s->n; skip++) {
		struct dgram *d = &s->q[(s->head + skip) % MAXQ];
		uint32_t want = (flags & MSG_TRUNC) ? d->len : (d->len < cap ? d->len : cap);
		if ((uint32_t)n == want && from.sin_addr.s_addr == d->saddr && from.sin_port == d->sport &&
		    !memcmp(buf, d->data, (uint32_t)n < cap ? (uint32_t)n : cap)) {
			found = 1;
			break;
		}
	}
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "recvfrom %d: %zd bytes from %08x:%u\n", which, n, from.sin_addr.s_addr,
			ntohs(from.sin_port));
	FZ_CHECK(found, "a %zd-byte datagram from %08x:%u that was not expected (%u waiting)", n,
		 from.sin_addr.s_addr, ntohs(from.sin_port), s->n);
	for (unsigned i = 0; i < skip; i++)
		sockq_pop(s);
	if (!(flags & MSG_PEEK))
		sockq_pop(s);
	free(buf);
}

static void op_send(struct run *r, struct fz *in)
{
	static const char *const dsts[4] = { "10.0.0.1", "10.0.0.7", "8.8.8.8", "10.0.0.1" };
	uint8_t b = fz_u8(in);
	uint32_t len = 4 + (uint32_t)(b >> 3) * (b >> 3) * 2u;   /* up to 1926: some above MTU */
	if (r->sent_id >= 1024)
		return;
	uint8_t *p = malloc(len);
	payload_fill(p, len, r->sent_id);
	ssize_t n;
	uint32_t dst;
	if (b & 4) {
		dst = ip4("10.0.0.1");
		n = hxs_send(r->st, r->s[1].fd, p, len, MSG_DONTWAIT);
	} else {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5000) };
		dst = to.sin_addr.s_addr = ip4(dsts[b & 3]);
		n = hxs_sendto(r->st, r->s[0].fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	}
	free(p);
	if (n == (ssize_t)len)
		r->sent_dst[r->sent_id++] = dst;
	else
		FZ_CHECK(n < 0, "sent %zd of %u", n, len);
	hxs_stack__poll(r->st, 0);
}

/* The peer 10.0.0.1 answers the last TCP segment on the wire: an ACK of everything in it
 * (a SYN,ACK's SYN included), with len bytes of data and a FIN if asked. */
static void op_tcp_peer(struct run *r, uint8_t b)
{
	if (!r->tcp_seen)
		return;
	uint32_t dlen = (uint32_t)(b >> 2 & 15) * 50u, tot = 20 + 20 + dlen;
	uint8_t *f = calloc(1, 14 + tot);
	memcpy(f, MAC_US, 6);
	memcpy(f + 6, MAC_PEER, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *th = ip + 20;
	uint32_t s = ip4("10.0.0.1"), d = ip4("10.0.0.2");
	ip[0] = 0x45;
	wr16(ip + 2, tot);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = fold(hxs_csum_add(0, ip, 20));
	memcpy(ip + 10, &c, 2);
	uint32_t ack = r->tcp_seq + r->tcp_len + !!(r->tcp_flags & 0x02) + !!(r->tcp_flags & 0x01);
	wr16(th, r->tcp_dport);
	wr16(th + 2, 80);
	wr16(th + 4, r->tcp_ack >> 16);
	wr16(th + 6, r->tcp_ack);
	wr16(th + 8, ack >> 16);
	wr16(th + 10, ack);
	th[12] = 5 << 4;
	th[13] = (uint8_t)(0x10 | ((b & 2) ? 0x01 : 0) | (dlen ? 0x08 : 0));
	wr16(th + 14, 65535);
	for (uint32_t i = 0; i < dlen; i++)
		th[20 + i] = (uint8_t)('a' + i % 26);
	c = fold(hxs_csum_add(hxs_csum_pseudo(s, d, IPPROTO_TCP, 20 + dlen), th, 20 + dlen));
	memcpy(th + 16, &c, 2);
	int rc = hxs_io_mem__inject(r->io, f, 14 + tot);
	FZ_CHECK(rc == 0 || rc == -ENOBUFS, "inject: %d", rc);
	free(f);
	hxs_stack__poll(r->st, 0);
}

static void op_accept_close(struct run *r, struct fz *in)
{
	uint8_t b = fz_u8(in);
	int *fd = &r->tfd[b & 3];
	if (*fd >= 0) {
		hxs_close(r->st, *fd);
		*fd = -1;
	} else {
		int c = hxs_accept4(r->st, r->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (c >= 0)
			*fd = c;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = FZ_INIT(data, size);
	struct run *r = calloc(1, sizeof(*r));
	struct hxs_netif_static cfg = { .addr = ip4("10.0.0.2"), .prefix_len = 24, .mtu = MTU, .n_neigh = 1,
					.gateway = ip4("10.0.0.254") };
	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = ip4("10.0.0.1");
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);
	vnow = 1000000;
	FZ_CHECK(hxs_io_mem__open(&r->io, NFRAMES, FSIZE) == 0, "io_mem");
	FZ_CHECK(hxs_stack__open_io(&r->st, r->io, &cfg) == 0, "stack");
	hxs_stack__set_clock(r->st, vclock, NULL);

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7000) };
	r->s[0].fd = hxs_socket(r->st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	FZ_CHECK(r->s[0].fd >= 0 && hxs_bind(r->st, r->s[0].fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind A");
	r->s[0].port = a.sin_port;
	int rcvbuf = 256 * (fz_u8(&in) + 1);
	hxs_setsockopt(r->st, r->s[0].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	a.sin_port = htons(7001);
	a.sin_addr.s_addr = ip4("10.0.0.2");
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr.s_addr = ip4("10.0.0.1") };
	r->s[1].fd = hxs_socket(r->st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	FZ_CHECK(r->s[1].fd >= 0 && hxs_bind(r->st, r->s[1].fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind B");
	FZ_CHECK(hxs_connect(r->st, r->s[1].fd, (struct sockaddr *)&peer, sizeof(peer)) == 0, "connect B");
	r->s[1].port = a.sin_port;
	r->s[1].bound_addr = a.sin_addr.s_addr;
	r->s[1].peer_addr = peer.sin_addr.s_addr;
	r->s[1].peer_port = peer.sin_port;
	a.sin_port = htons(80);
	a.sin_addr.s_addr = 0;
	r->lfd = hxs_socket(r->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	FZ_CHECK(r->lfd >= 0 && hxs_bind(r->st, r->lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		 hxs_listen(r->st, r->lfd, 4) == 0, "listener");
	for (int i = 0; i < 4; i++)
		r->tfd[i] = -1;

	while (fz_more(&in)) {
		uint8_t h = fz_u8(&in);
		if (getenv("FUZZ_TRACE"))
			fprintf(stderr, "op %u dt %llu\n", h & 7, (unsigned long long)dt_us[h >> 3]);
		if (dt_us[h >> 3]) {
			vnow += dt_us[h >> 3];
			hxs_stack__poll(r->st, 0);
		}
		switch (h & 7) {
		case 0: case 1: op_frame(r, &in); break;
		case 2: op_recv(r, &in); break;
		case 3: op_send(r, &in); break;
		case 4: {
			uint8_t b = fz_u8(&in);
			uint32_t ip = ip4((b & 1) ? "10.0.0.254" : "10.0.0.7");
			hxs_stack__neigh_event(r->st, ip, (b & 2) ? HXS_NEIGH_FAILED : HXS_NEIGH_RESOLVED,
					       (b & 2) ? NULL : MAC_LATE);
			hxs_stack__poll(r->st, 0);
			break;
		}
		case 5: take(r, fz_u8(&in) % 16 + 1); break;
		case 6: op_accept_close(r, &in); break;
		case 7: {
			uint8_t b = fz_u8(&in);
			if (b & 1)
				op_tcp_peer(r, b);
			else
				hxs_stack__poll(r->st, 0);
			break;
		}
		}
		check_frames(r);
	}
	take(r, 4 * NFRAMES);
	if (getenv("FUZZ_TRACE"))       /* reading a reproducer */
		hxs_stack__print_counters(r->st, stderr, 0);
	for (int i = 0; i < 4; i++)
		if (r->tfd[i] >= 0)
			hxs_close(r->st, r->tfd[i]);
	hxs_close(r->st, r->lfd);
	hxs_close(r->st, r->s[0].fd);
	hxs_close(r->st, r->s[1].fd);
	hxs_stack__close(r->st);
	take(r, 4 * NFRAMES);
	r->io->ops->flush(r->io);
	struct hxs_io_stats s;
	r->io->ops->get_stats(r->io, &s);
	FZ_CHECK(s.frames_held == 0 && s.frames_tx_queued == 0, "after close: %llu frames held, %llu queued for TX",
		 (unsigned long long)s.frames_held, (unsigned long long)s.frames_tx_queued);
	FZ_CHECK(s.frames_total == s.frames_free + s.frames_rx_queued, "after close: frames lost");
	r->io->ops->close(r->io);
	for (int i = 0; i < 2; i++)
		while (r->s[i].n)
			sockq_pop(&r->s[i]);
	free(r);
	return 0;
}
