/* udp.c - UDP (RFC 768) over hxs, after the kernel's __udp4_lib_rcv and udp_sendmsg.
 *
 * RX: hxs_ip_input() | hxs_ip6_input() -> udp_input() (the IPPROTO_UDP handler) -> header and length checks -> udp_lookup()
 *     -> udp_enqueue_csum(): the checksum verified while the payload is copied into the ring
 *     \-> (broadcast/multicast, IPv6, no socket, no room, shut) checksum -> udp_enqueue()
 *                                                                  (hxs_epoll__notify: epoll)
 * TX: socket.c -> udp_sendmsg() -> hxs_ip_tx_alloc_dst(): the socket's cached destination
 *     (route, source, next hop; the lookups again after any control-plane change), else
 *     the lookups under one held time -> header + checksum -> hxs_ip_tx_send() -> socket.c
 *     flushes
 * API: udp_recvmsg/connect/poll/... through hxs_udp_ops (sock.h).
 *
 * Receive queue: datagrams are copied out of the RX frame into a per-socket byte ring sized
 * by SO_RCVBUF (allocated once, resized only by SO_RCVBUF), so RX frames return to the
 * backend at the end of the batch and nothing is allocated per datagram. A datagram costs
 * its payload plus HXS_UDP_REC bytes of record header against the receive buffer.
 *
 * Counters follow the kernel: UdpInDatagrams counts datagrams the application received
 * (udp_recvmsg), a full receive queue is charged twice (UdpRcvbufErrors and UdpInErrors), a
 * datagram for no socket is UdpNoPorts and ICMP port unreachable, rate limited
 * (udp_unreach.c); a broadcast/multicast one no socket takes is UdpIgnoredMulti.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"
#include "net/ip.h"
#include "net/stack.h"

/* One queued datagram: this record, for an IPv6 source its 16-byte address, then the data. */
struct udp_rec {
	uint32_t len;
	uint32_t saddr;             /* IPv4 source, network order */
	uint16_t sport;
	uint8_t v6;                 /* the IPv6 source follows the record */
	uint8_t tos;                /* the IP header's TOS byte / traffic class (IP_RECVTOS) */
	uint32_t daddr;             /* the IPv4 destination (IP_PKTINFO); IPv6: 0 */
};
#define HXS_UDP_REC ((uint32_t)sizeof(struct udp_rec))
#define HXS_UDP_MAX_PAYLOAD 65507u

struct udp_sock {
	struct hxs_sock sk;
	uint8_t *rq;              /* byte ring of records + payloads */
	uint32_t rq_cap;
	uint32_t rq_head;         /* offset of the oldest record */
	uint32_t rq_used;         /* bytes in the ring */
	uint32_t rq_count;        /* datagrams queued */
	uint8_t pktinfo;          /* IP_PKTINFO: recvmsg gives struct in_pktinfo */
	uint8_t recvtos;          /* IP_RECVTOS: recvmsg gives the TOS byte (IP_TOS) */
	int mcfd;                 /* kernel socket holding the IP_ADD_MEMBERSHIP groups; -1 */
	struct hxs_ip_dst dst;    /* the last destination's route and next hop (ip.h) */
};

static inline struct udp_sock *udp_sk(struct hxs_sock *sk)
{
	return (struct udp_sock *)sk;
}

/* (the part past the ring's end, when there is one, continues at its start) */
static void ring_put(struct udp_sock *u, uint32_t off, const void *src, uint32_t n)
{
	uint32_t first = u->rq_cap - off < n ? u->rq_cap - off : n;

	memcpy(u->rq + off, src, first);
	if (n > first)
		memcpy(u->rq, (const uint8_t *)src + first, n - first);
}

static void ring_get(const struct udp_sock *u, uint32_t off, void *dst, uint32_t n)
{
	uint32_t first = u->rq_cap - off < n ? u->rq_cap - off : n;

	memcpy(dst, u->rq + off, first);
	if (n > first)
		memcpy((uint8_t *)dst + first, u->rq, n - first);
}

/* off + add in the ring. off is inside it and add at most its size (a part of what it
 * holds), so one subtraction wraps it: no division per record. */
static inline uint32_t ring_off(const struct udp_sock *u, uint32_t off, uint32_t add)
{
	uint64_t o = (uint64_t)off + add;
	return (uint32_t)(o >= u->rq_cap ? o - u->rq_cap : o);
}

/* Gives the ring cap bytes, keeping what is queued. */
static int udp_resize(struct udp_sock *u, uint32_t cap)
{
	uint8_t *n;

	if (cap < u->rq_used)
		cap = u->rq_used;
	if (cap == u->rq_cap)
		return 0;
	n = malloc(cap ? cap : 1);
	if (!n)
		return -ENOMEM;
	if (u->rq_used)
		ring_get(u, u->rq_head, n, u->rq_used);
	free(u->rq);
	u->rq = n;
	u->rq_cap = cap;
	u->rq_head = 0;
	return 0;
}

/* A record of need bytes was written at the ring's tail: it is queued, and epoll told. */
static inline void udp_queued(struct udp_sock *u, uint32_t need)
{
	u->rq_used += need;
	u->rq_count++;
	/* hxs_sock__wake() with udp_poll()'s mask of a socket that has a datagram and is not
	 * shut for reading (the enqueue checked): no call through the ops for it */
	if (u->sk.epi)
		hxs_epoll__notify(&u->sk, EPOLLIN | (u->sk.err ? (uint32_t)EPOLLERR : 0) |
				  ((u->sk.flags & HXS_SOCK_F_WR_SHUT) ? 0 : (uint32_t)EPOLLOUT));
}

static int udp_enqueue(struct udp_sock *u, const struct hxs_ip_rx *pkt, const uint8_t *data,
		       uint32_t len, uint16_t sport)
{
	struct udp_rec r = { .len = len, .saddr = pkt->src, .sport = sport, .v6 = pkt->v6,
			     .tos = pkt->tos, .daddr = pkt->dst };
	uint32_t extra = pkt->v6 ? 16 : 0, need = HXS_UDP_REC + extra + len;

	if (u->sk.flags & HXS_SOCK_F_RD_SHUT)
		return -ESHUTDOWN;
	if (u->rq_used + need > u->sk.rcvbuf || u->rq_used + need > u->rq_cap)
		return -ENOMEM;
	uint32_t tail = ring_off(u, u->rq_head, u->rq_used);
	if (!extra && u->rq_cap - tail >= need) {
		/* the whole record before the ring's end: the header's copy has a fixed size */
		memcpy(u->rq + tail, &r, HXS_UDP_REC);
		memcpy(u->rq + tail + HXS_UDP_REC, data, len);
	} else {
		ring_put(u, tail, &r, HXS_UDP_REC);
		if (extra)
			ring_put(u, ring_off(u, tail, HXS_UDP_REC), pkt->src6, 16);
		ring_put(u, ring_off(u, tail, HXS_UDP_REC + extra), data, len);
	}
	udp_queued(u, need);
	return 0;
}

/* udp_enqueue() of an IPv4 datagram whose checksum is verified while its payload is copied
 * into the ring (one pass over it, as the kernel's skb_copy_and_csum_datagram_msg() does at
 * recvmsg): sum is the pseudo-header's, uh the UDP header. Only where udp_enqueue() would
 * queue it whole before the ring's end; returns 1 when queued, 0 when its checksum is wrong
 * (nothing queued), -EAGAIN when it cannot take this way (the caller verifies first, then
 * udp_enqueue(): the errors' order stays checksum, then shutdown and room). */
static int udp_enqueue_csum(struct udp_sock *u, const struct hxs_ip_rx *pkt, const uint8_t *uh,
			    uint32_t ulen, uint32_t sum)
{
	uint32_t len = ulen - HXS_UDP_HLEN, need = HXS_UDP_REC + len, tail;
	uint16_t h[4];
	struct udp_rec r;

	if (pkt->v6 || (u->sk.flags & HXS_SOCK_F_RD_SHUT) || u->rq_used + need > u->sk.rcvbuf ||
	    u->rq_used + need > u->rq_cap)
		return -EAGAIN;
	tail = ring_off(u, u->rq_head, u->rq_used);
	if (u->rq_cap - tail < need)
		return -EAGAIN;
	/* the header's four words, its checksum's too: a correct datagram sums to 0xffff */
	memcpy(h, uh, HXS_UDP_HLEN);
	sum += (uint32_t)h[0] + h[1] + h[2] + h[3];
	if (hxs_csum_fold(hxs_csum_copy(sum, u->rq + tail + HXS_UDP_REC, uh + HXS_UDP_HLEN, len)))
		return 0;
	r = (struct udp_rec){ .len = len, .saddr = pkt->src, .sport = h[0], .v6 = 0,
			      .tos = pkt->tos, .daddr = pkt->dst };
	memcpy(u->rq + tail, &r, HXS_UDP_REC);
	udp_queued(u, need);
	return 1;
}

/* Best socket for the datagram, scored like the kernel's compute_score(): a connected socket
 * matches only its peer and beats a bound address, which beats the wildcard. */
static struct udp_sock *udp_lookup(struct hxs_stack *st, struct hxs_addr saddr, uint16_t sport,
				   struct hxs_addr daddr, uint16_t dport)
{
	struct hxs_sock *best = NULL;
	int best_score = -1;

	for (struct hxs_sock *sk = hxs_sock__port_chain(st, IPPROTO_UDP, dport); sk; sk = sk->port_next) {
		int score = 0;

		/* a wildcard takes its family (a dual-stack :: both); an address only itself */
		if (!hxs_sock__takes(sk, daddr))
			continue;
		if (!hxs_addr_is_any(sk->laddr))
			score += 4;
		if (sk->flags & HXS_SOCK_F_CONNECTED) {
			if (!hxs_addr_eq(sk->raddr, saddr) || sk->rport != sport)
				continue;
			score += 8;
		}
		if (score > best_score) {
			best = sk;
			best_score = score;
		}
	}
	return (struct udp_sock *)best;
}

/* udp_lookup() of an IPv4 datagram (saddr, daddr: network order), the socket's addresses
 * read as words: hxs_sock__takes() of ::ffff:daddr and the peer's comparison without building
 * 16-byte keys (every datagram asks, usually of the one socket on its port). */
static struct udp_sock *udp_lookup4(struct hxs_stack *st, uint32_t saddr, uint16_t sport,
				    uint32_t daddr, uint16_t dport)
{
	const uint32_t mapped = htonl(0xffff);  /* ::ffff:0:0/96's third word */
	struct hxs_sock *best = NULL;
	int best_score = -1;

	for (struct hxs_sock *sk = hxs_sock__port_chain(st, IPPROTO_UDP, dport); sk; sk = sk->port_next) {
		uint32_t l[4], r[4];
		int score = 0;

		memcpy(l, sk->laddr.b, 16);
		if (!l[0] && !l[1] && l[2] == mapped) {
			/* an IPv4 binding takes its own address; 0.0.0.0 every one */
			if (l[3] && l[3] != daddr)
				continue;
			if (l[3])
				score += 4;
		} else if ((l[0] | l[1] | l[2] | l[3]) || sk->v6only) {
			/* of the IPv6 bindings only a dual-stack :: takes IPv4 (RFC 3493 §5.3) */
			continue;
		}
		if (sk->flags & HXS_SOCK_F_CONNECTED) {
			memcpy(r, sk->raddr.b, 16);
			if (r[0] || r[1] || r[2] != mapped || r[3] != saddr || sk->rport != sport)
				continue;
			score += 8;
		}
		if (score > best_score) {
			best = sk;
			best_score = score;
		}
	}
	return (struct udp_sock *)best;
}

/* A broadcast address of ours: the limited broadcast, or the directed broadcast of the
 * interface's subnet (the kernel's RTCF_BROADCAST routes). Always inline, as is_bcast(): every
 * datagram asks, both ways, and the compiler kept them as calls. */
static inline __attribute__((always_inline)) int is_bcast4(const struct hxs_stack *st, uint32_t a)
{
	uint32_t host = st->prefix_len && st->prefix_len < 31 ? ~0u >> st->prefix_len : 0;

	return a == INADDR_BROADCAST ||
	       (host && (ntohl(a) & host) == host && ((a ^ st->addr) & htonl(~host)) == 0);
}

static inline __attribute__((always_inline)) int is_bcast(const struct hxs_stack *st, struct hxs_addr a)
{
	return hxs_addr_is4(a) && is_bcast4(st, hxs_addr_get4(a));
}

/* __udp4_lib_mcast_deliver(): a broadcast or multicast datagram goes to every socket bound
 * to its port that would take it (__udp_is_mcast_sock: a bound address must be the
 * destination, a connected socket only its peer's); sockets share a port only with
 * SO_REUSEADDR. None: UdpIgnoredMulti, no ICMP. */
static void udp_mcast_deliver(struct hxs_stack *st, const struct hxs_ip_rx *pkt, uint16_t sport,
			      uint16_t dport, const uint8_t *data, uint32_t len)
{
	struct hxs_addr src = hxs_addr4(pkt->src), dst = hxs_addr4(pkt->dst);
	int n = 0;

	for (struct hxs_sock *sk = hxs_sock__port_chain(st, IPPROTO_UDP, dport); sk; sk = sk->port_next) {
		int err;

		/* an IPV6_V6ONLY socket takes no IPv4 (ipv6_only_sock) */
		if (!hxs_addr_is_any(sk->laddr) ? !hxs_addr_eq(sk->laddr, dst) : !hxs_sock__takes(sk, dst))
			continue;
		if ((sk->flags & HXS_SOCK_F_CONNECTED) && (!hxs_addr_eq(sk->raddr, src) || sk->rport != sport))
			continue;
		n++;
		err = udp_enqueue(udp_sk(sk), pkt, data, len, sport);
		if (err == -ENOMEM)
			st->mib.v[HXS_MIB_UDP_RCVBUF_ERRORS]++;
		if (err)
			st->mib.v[HXS_MIB_UDP_IN_ERRORS]++;
	}
	if (!n)
		st->mib.v[HXS_MIB_UDP_IGNORED_MULTI]++;
}

static void udp_input(void *ctx, struct hxs_stack *st, const struct hxs_ip_rx *pkt)
{
	const uint8_t *uh = pkt->l4;
	uint16_t sport, dport, ulen, check;
	uint32_t sum = 0;
	struct udp_sock *u;
	int err;

	/* "No space for header." */
	if (pkt->l4_len < HXS_UDP_HLEN)
		goto in_error;
	memcpy(&sport, uh, 2);
	memcpy(&dport, uh + 2, 2);
	memcpy(&ulen, uh + 4, 2);
	memcpy(&check, uh + 6, 2);
	ulen = ntohs(ulen);
	/* RFC 768: "Length is the length in octets of this user datagram including this header
	 * and the data. (This means the minimum value of the length is eight.)" Longer than
	 * what IP carried: short packet. Shorter: the rest is trimmed. */
	if (ulen < HXS_UDP_HLEN || ulen > pkt->l4_len)
		goto in_error;
	/* RFC 768: "An all zero transmitted checksum value means that the transmitter generated
	 * no checksum." (IPv4 only; RFC 1122 §4.1.3.4 makes checking it mandatory otherwise.)
	 * RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum"
	 * (the kernel's udp6_csum_zero_error: a checksum error) */
	if (pkt->v6 && !check) {
		st->mib.v[HXS_MIB_UDP_IN_CSUM_ERRORS]++;
		goto in_error;
	}
	if (check)
		sum = pkt->v6 ? hxs_csum_pseudo6(pkt->src6, pkt->dst6, IPPROTO_UDP, ulen)
			      : hxs_csum_pseudo(pkt->src, pkt->dst, IPPROTO_UDP, ulen);
	if (!pkt->v6 && (is_bcast4(st, pkt->dst) || IN_MULTICAST(ntohl(pkt->dst)))) {
		if (check && hxs_csum_fold(hxs_csum_add(sum, uh, ulen)) != 0)
			goto csum_error;
		udp_mcast_deliver(st, pkt, sport, dport, uh + HXS_UDP_HLEN, ulen - HXS_UDP_HLEN);
		return;
	}
	/* (the lookup changes nothing: it may come before the checksum's verdict) */
	if (pkt->v6)
		u = udp_lookup(st, hxs_addr6(pkt->src6), sport, hxs_addr6(pkt->dst6), dport);
	else
		u = udp_lookup4(st, pkt->src, sport, pkt->dst, dport);
	if (u && check) {
		err = udp_enqueue_csum(u, pkt, uh, ulen, sum);
		if (err == 1)
			return;
		if (!err)
			goto csum_error;
	}
	if (check && hxs_csum_fold(hxs_csum_add(sum, uh, ulen)) != 0)
		goto csum_error;
	if (!u) {
		/* __udp4_lib_rcv(): UdpNoPorts, and ICMP port unreachable */
		st->mib.v[HXS_MIB_UDP_NO_PORTS]++;
		hxs_udp__port_unreach(st, pkt);
		return;
	}
	err = udp_enqueue(u, pkt, uh + HXS_UDP_HLEN, ulen - HXS_UDP_HLEN, sport);
	if (err == -ENOMEM) {
		/* kernel: "Note that an ENOMEM error is charged twice" */
		st->mib.v[HXS_MIB_UDP_RCVBUF_ERRORS]++;
		goto in_error;
	}
	if (err)
		goto in_error;
	return;
csum_error:
	st->mib.v[HXS_MIB_UDP_IN_CSUM_ERRORS]++;
in_error:
	st->mib.v[HXS_MIB_UDP_IN_ERRORS]++;
}

static int udp_init(struct hxs_sock *sk)
{
	udp_sk(sk)->mcfd = -1;
	return udp_resize(udp_sk(sk), sk->rcvbuf);
}

static void udp_destroy(struct hxs_sock *sk)
{
	if (udp_sk(sk)->mcfd >= 0)
		close(udp_sk(sk)->mcfd);
	udp_sk(sk)->mcfd = -1;
	free(udp_sk(sk)->rq);
	udp_sk(sk)->rq = NULL;
}

static int udp_bind(struct hxs_sock *sk, const struct sockaddr_in6 *addr)
{
	return 0;
}

static int udp_autobind(struct hxs_sock *sk)
{
	if (sk->flags & HXS_SOCK_F_BOUND)
		return 0;
	return hxs_sock__bind_port(sk, hxs_sock__any(sk), 0);
}

/* Can sk reach a (the family's route)? 0, -ENETUNREACH (also an IPv4 peer of an IPv6-only
 * socket, as the kernel's udpv6_sendmsg). */
static int udp_route(struct hxs_sock *sk, struct hxs_addr a)
{
	uint8_t nh6[16], hl;
	uint32_t nh;

	if (hxs_addr_is4(a)) {
		if (sk->v6only)
			return -ENETUNREACH;
		return hxs_stack__route(sk->st, hxs_addr_get4(a), &nh);
	}
	return hxs_stack__route6(sk->st, a.b, nh6, &hl);
}

/* ip4_datagram_connect(): sets the default peer; AF_UNSPEC dissolves it. */
static int udp_connect(struct hxs_sock *sk, const struct sockaddr_in6 *addr, int nonblock)
{
	struct hxs_addr ra = hxs_addr6((const uint8_t *)&addr->sin6_addr);
	int err;

	if (addr->sin6_family == AF_UNSPEC) {
		sk->flags &= ~HXS_SOCK_F_CONNECTED;
		sk->raddr = (struct hxs_addr){ { 0 } };
		sk->rport = 0;
		hxs_sock__wake(sk);
		return 0;
	}
	if (addr->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	err = udp_route(sk, ra);
	if (err)
		return err;
	/* ip4_datagram_connect(): a broadcast peer needs SO_BROADCAST */
	if (is_bcast(sk->st, ra) && !(sk->flags & HXS_SOCK_F_BROADCAST))
		return -EACCES;
	err = udp_autobind(sk);
	if (err)
		return err;
	sk->raddr = ra;
	sk->rport = addr->sin6_port;
	sk->flags |= HXS_SOCK_F_CONNECTED;
	hxs_sock__wake(sk);
	return 0;
}

static ssize_t udp_sendmsg(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			   const struct sockaddr_in6 *to)
{
	struct hxs_stack *st = sk->st;
	struct hxs_ip_tx tx;
	struct hxs_addr daddr;
	uint16_t dport, w;
	uint32_t sum;
	ssize_t len = hxs_iov_len(iov, iovcnt);
	int err, held;

	if (len < 0)
		return len;
	if (sk->flags & HXS_SOCK_F_WR_SHUT)
		return -EPIPE;
	if (to) {
		/* udp_sendmsg(): AF_UNSPEC is tolerated for old programs, other families not */
		if (to->sin6_family != AF_INET6 && to->sin6_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		daddr = hxs_addr6((const uint8_t *)&to->sin6_addr);
		dport = to->sin6_port;
		if (hxs_addr_is4(daddr) && sk->v6only)
			return -ENETUNREACH;
		if (!dport)
			return -EINVAL;
	} else {
		if (!(sk->flags & HXS_SOCK_F_CONNECTED))
			return -EDESTADDRREQ;
		daddr = sk->raddr;
		dport = sk->rport;
	}
	/* udp_sendmsg(): "if ((rt->rt_flags & RTCF_BROADCAST) && !sock_flag(sk, SOCK_BROADCAST))"
	 * -EACCES */
	if (is_bcast(st, daddr) && !(sk->flags & HXS_SOCK_F_BROADCAST))
		return -EACCES;
	if ((size_t)len > HXS_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* No fragmentation: a datagram must fit the MTU (IP_PMTUDISC_DO behaviour; RFC 8200 §5
	 * leaves fragmenting to the source, which hxs does not). */
	if ((uint32_t)len + HXS_UDP_HLEN > (hxs_addr_is4(daddr) ? hxs_ip_max_l4(st) : hxs_ip6_max_l4(st)))
		return -EMSGSIZE;
	err = udp_autobind(sk);
	if (err)
		return err;
	/* the route, source and next hop of the socket's last destination, when still current */
	err = hxs_ip_tx_alloc_dst(st, &tx, &udp_sk(sk)->dst, daddr.b, IPPROTO_UDP,
				  (uint32_t)len + HXS_UDP_HLEN, &held);
	if (err) {
		/* as udp_sendmsg(): no buffer to send from counts as UdpSndbufErrors, once per
		 * error returned (a blocking call waits in socket.c and retries instead) */
		hxs_stack__time_release(st, held);
		if ((err == -EAGAIN && ((sk->flags & HXS_SOCK_F_NONBLOCK) || (flags & MSG_DONTWAIT))) ||
		    err == -ENOBUFS)
			st->mib.v[HXS_MIB_UDP_SNDBUF_ERRORS]++;
		return err;
	}
	tx.owner = &sk->txo;
	tx.ttl = sk->ttl;
	tx.tos = sk->tos;
	memcpy(tx.l4, &sk->lport, 2);
	memcpy(tx.l4 + 2, &dport, 2);
	w = htons((uint16_t)(len + HXS_UDP_HLEN));
	memcpy(tx.l4 + 4, &w, 2);
	tx.l4[6] = tx.l4[7] = 0;
	/* a socket bound to one of our IPv6 addresses sends from it */
	if (tx.v6 && !hxs_addr_is_any(sk->laddr) && !hxs_addr_is4(sk->laddr))
		memcpy(tx.src6, sk->laddr.b, 16);
	sum = tx.v6 ? hxs_csum_pseudo6(tx.src6, tx.dst6, IPPROTO_UDP, tx.l4_len)
		    : hxs_csum_pseudo(tx.src, tx.dst, IPPROTO_UDP, tx.l4_len);
	if (iovcnt == 1) {
		/* the header's three words (the checksum's is 0), then the payload summed where
		 * it is copied into the frame: one pass over it (RFC 1071 §2(B): the 16-bit
		 * words as they lie in memory) */
		sum += (uint32_t)sk->lport + dport + w;
		sum = hxs_csum_copy(sum, tx.l4 + HXS_UDP_HLEN, iov[0].iov_base, (uint32_t)len);
	} else {
		hxs_iov_from(iov, iovcnt, tx.l4 + HXS_UDP_HLEN);
		sum = hxs_csum_add(sum, tx.l4, tx.l4_len);
	}
	w = hxs_csum_fold(sum);
	/* RFC 768: "If the computed checksum is zero, it is transmitted as all ones." */
	if (!w)
		w = 0xffff;
	memcpy(tx.l4 + 6, &w, 2);
	err = hxs_ip_tx_send(st, &tx);
	hxs_stack__time_release(st, held);
	if (err)
		return err;
	st->mib.v[HXS_MIB_UDP_OUT_DATAGRAMS]++;
	return len;
}

/* The first n bytes of the payload at off into an iovec of several buffers. */
static __attribute__((noinline)) uint32_t ring_to_iov(const struct udp_sock *u, uint32_t off,
						      const struct iovec *iov, int iovcnt, uint32_t n)
{
	uint32_t copied = 0;

	for (int i = 0; i < iovcnt && copied < n; i++) {
		uint32_t k = iov[i].iov_len < n - copied ? (uint32_t)iov[i].iov_len : n - copied;
		ring_get(u, ring_off(u, off, copied), iov[i].iov_base, k);
		copied += k;
	}
	return copied;
}

static ssize_t udp_recvmsg(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			   struct sockaddr_in6 *from, struct hxs_rx_meta *meta)
{
	struct udp_sock *u = udp_sk(sk);
	struct udp_rec r;
	uint8_t src6[16];
	ssize_t cap = hxs_iov_len(iov, iovcnt);
	uint32_t off, n, copied;

	if (cap < 0)
		return cap;
	/* __skb_recv_udp(): a pending error comes before queued data */
	if (sk->err)
		return hxs_sock__take_error(sk);
	if (!u->rq_count)
		return (sk->flags & HXS_SOCK_F_RD_SHUT) ? 0 : -EAGAIN;
	if (u->rq_cap - u->rq_head >= HXS_UDP_REC)
		memcpy(&r, u->rq + u->rq_head, HXS_UDP_REC);     /* fixed size: no call */
	else
		ring_get(u, u->rq_head, &r, HXS_UDP_REC);
	off = ring_off(u, u->rq_head, HXS_UDP_REC);
	if (r.v6) {
		ring_get(u, off, src6, 16);
		off = ring_off(u, off, 16);
	}
	n = r.len < (size_t)cap ? r.len : (uint32_t)cap;
	if (iovcnt == 1) {
		/* recv()/recvfrom(): one buffer, no loop (n > 0: a zero-length buffer may be NULL) */
		if (n)
			ring_get(u, off, iov[0].iov_base, n);
		copied = n;
	} else {
		copied = ring_to_iov(u, off, iov, iovcnt, n);
	}
	if (from) {
		memset(from, 0, sizeof(*from));
		struct hxs_addr a = r.v6 ? hxs_addr6(src6) : hxs_addr4(r.saddr);

		from->sin6_family = AF_INET6;
		memcpy(&from->sin6_addr, a.b, 16);
		from->sin6_port = r.sport;
	}
	if (meta) {
		meta->valid = 1;
		meta->full_len = r.len;
		/* IP_PKTINFO and IP_TOS tell of an IPv4 datagram only (ip_cmsg_recv) */
		meta->want_pktinfo = !r.v6 && u->pktinfo;
		meta->want_tos = !r.v6 && u->recvtos;
		meta->daddr = r.daddr;
		/* fib_compute_spec_dst(): the packet's destination when it is ours, the
		 * interface's address for a broadcast or multicast */
		meta->spec_dst = r.daddr == sk->st->addr ? r.daddr : sk->st->addr;
		meta->ifindex = sk->st->nif ? sk->st->nif->ifindex : 0;
		meta->tos = r.tos;
	}
	if (!(flags & MSG_PEEK)) {
		uint32_t recl = HXS_UDP_REC + (r.v6 ? 16 : 0) + r.len;

		u->rq_head = ring_off(u, u->rq_head, recl);
		u->rq_used -= recl;
		u->rq_count--;
		if (!u->rq_count)
			u->rq_head = 0;
		sk->st->mib.v[HXS_MIB_UDP_IN_DATAGRAMS]++;
	}
	return (flags & MSG_TRUNC) ? (ssize_t)r.len : (ssize_t)copied;
}

/* inet_shutdown(): on an unconnected datagram socket the flags are still set (so poll
 * reports it) but the call fails with ENOTCONN. */
static int udp_shutdown(struct hxs_sock *sk, int how)
{
	if (how == SHUT_RD || how == SHUT_RDWR)
		sk->flags |= HXS_SOCK_F_RD_SHUT;
	if (how == SHUT_WR || how == SHUT_RDWR)
		sk->flags |= HXS_SOCK_F_WR_SHUT;
	hxs_sock__wake(sk);
	return (sk->flags & HXS_SOCK_F_CONNECTED) ? 0 : -ENOTCONN;
}

static void udp_close(struct hxs_sock *sk)
{
}

/* datagram_poll() */
static uint32_t udp_poll(struct hxs_sock *sk)
{
	struct udp_sock *u = udp_sk(sk);
	uint32_t mask = 0;

	if (sk->err)
		mask |= EPOLLERR;
	if ((sk->flags & (HXS_SOCK_F_RD_SHUT | HXS_SOCK_F_WR_SHUT)) ==
	    (HXS_SOCK_F_RD_SHUT | HXS_SOCK_F_WR_SHUT))
		mask |= EPOLLHUP;
	if (sk->flags & HXS_SOCK_F_RD_SHUT)
		mask |= EPOLLRDHUP | EPOLLIN;
	if (u->rq_count)
		mask |= EPOLLIN;
	if (!(sk->flags & HXS_SOCK_F_WR_SHUT))
		mask |= EPOLLOUT;
	return mask;
}

static int udp_setsockopt(struct hxs_sock *sk, int level, int name, const void *val, socklen_t len)
{
	int v, err;

	if (level == SOL_SOCKET && name == SO_RCVBUF)
		return udp_resize(udp_sk(sk), sk->rcvbuf);
	if (level != IPPROTO_IP)
		return -ENOPROTOOPT;
	switch (name) {
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
		/* The group is joined by a kernel socket of this socket's own, so the kernel keeps
		 * IGMP (RFC 3376), the NIC's multicast filter and the errnos (EINVAL for a
		 * non-multicast group, EADDRINUSE joined twice, EADDRNOTAVAIL for a group not
		 * joined, ENODEV ...); the datagrams then reach hxs through the XDP program (a
		 * wildcard-bound port) and every socket on the port gets them (udp_mcast_deliver).
		 * Membership ends with the socket, as the kernel's. */
		if (udp_sk(sk)->mcfd < 0) {
			if (name == IP_DROP_MEMBERSHIP)
				return -EADDRNOTAVAIL;
			udp_sk(sk)->mcfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (udp_sk(sk)->mcfd < 0)
				return -errno;
		}
		return setsockopt(udp_sk(sk)->mcfd, IPPROTO_IP, name, val, len) ? -errno : 0;
	case IP_PKTINFO:
	case IP_RECVTOS:
		err = hxs_sock__ip_optval(val, len, &v);
		if (err)
			return err;
		if (name == IP_PKTINFO)
			udp_sk(sk)->pktinfo = !!v;
		else
			udp_sk(sk)->recvtos = !!v;
		return 0;
	case IP_TTL:
	case IP_TOS:
		err = hxs_sock__ip_optval(val, len, &v);
		if (err)
			return err;
		if (name == IP_TTL)
			return hxs_sock__ttl_parse(v, &sk->ttl);
		/* do_ip_setsockopt(): a datagram socket keeps the whole byte, ECN bits too */
		sk->tos = (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int udp_getsockopt(struct hxs_sock *sk, int level, int name, void *val, socklen_t *len)
{
	if (level != IPPROTO_IP)
		return -ENOPROTOOPT;
	switch (name) {
	case IP_TTL:
		return hxs_sock__ip_put(sk->ttl ? sk->ttl : HXS_IP_TTL, val, len);
	case IP_TOS:
		return hxs_sock__ip_put(sk->tos, val, len);
	case IP_PKTINFO:
		return hxs_sock__ip_put(udp_sk(sk)->pktinfo, val, len);
	case IP_RECVTOS:
		return hxs_sock__ip_put(udp_sk(sk)->recvtos, val, len);
	default:
		return -ENOPROTOOPT;
	}
}

static int udp_getname(struct hxs_sock *sk, struct sockaddr_in6 *a, int peer)
{
	struct hxs_addr l = (sk->flags & HXS_SOCK_F_BOUND) ? sk->laddr : hxs_sock__any(sk);

	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	if (peer) {
		if (!(sk->flags & HXS_SOCK_F_CONNECTED))
			return -ENOTCONN;
		memcpy(&a->sin6_addr, sk->raddr.b, 16);
		a->sin6_port = sk->rport;
		return 0;
	}
	/* after connect() the kernel reports the source address chosen for the route */
	if (hxs_addr_is_any(l) && (sk->flags & HXS_SOCK_F_CONNECTED)) {
		if (hxs_addr_is4(sk->raddr))
			l = hxs_addr4(sk->st->addr);
		else
			hxs_ip6_select_src(sk->st, sk->raddr.b, l.b);
	}
	memcpy(&a->sin6_addr, l.b, 16);
	a->sin6_port = sk->lport;
	return 0;
}

const struct hxs_proto_ops hxs_udp_ops = {
	.name = "udp",
	.ipproto = IPPROTO_UDP,
	.obj_size = sizeof(struct udp_sock),
	.init = udp_init,
	.bind = udp_bind,
	.connect = udp_connect,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.shutdown = udp_shutdown,
	.close = udp_close,
	.destroy = udp_destroy,
	.poll = udp_poll,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.getname = udp_getname,
};

/* The stack's UDP: SOCK_DGRAM sockets and the IPPROTO_UDP input. */
int hxs_udp__attach(struct hxs_stack *st)
{
	const char *env = getenv("HXS_ICMP_UNREACH");

	st->sockets->icmp_off = env && !strcmp(env, "0");
	st->sockets->icmp_credit = 50;          /* icmp_msgs_burst */
	st->sockets->icmp_stamp = hxs_stack__now(st);
	hxs_stack__set_l4(st, IPPROTO_UDP, udp_input, NULL);
	hxs_stack__set_l4v6(st, IPPROTO_UDP, udp_input, NULL);
	return hxs_sock__register_proto(st, SOCK_DGRAM, &hxs_udp_ops);
}
