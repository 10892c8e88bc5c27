/* ip.h - IPv4 and IPv6 input and output, Internet checksums.
 *
 * Input:  hxs_eth_input() -> hxs_ip_input() -> st->l4[proto].input (UDP, TCP; stack.h)
 * Output, for UDP and TCP alike:
 *
 *   struct hxs_ip_tx tx;
 *   int err = hxs_ip_tx_alloc(st, &tx, dst, IPPROTO_TCP, l4_len);  route + a TX frame
 *   if (err) return err;                  -ENETUNREACH (no route), -EMSGSIZE (l4_len + 20
 *                                         exceeds the MTU), -EAGAIN (no free TX frame now)
 *   build the L4 header and payload at tx.l4 (tx.l4_len bytes); tx.src is the source
 *   address to put in the pseudo-header; tx.owner = &sk->txo to hear of neighbour errors
 *   err = hxs_ip_tx_send(st, &tx);        IPv4 header (ID, TTL 64, DF, checksum) + Ethernet;
 *                                         sent in this batch, or queued while the next hop
 *                                         is resolved; the frame is consumed even on error
 *   or hxs_ip_tx_abort(st, &tx);          give the frame back unsent
 *
 * A sender with a destination it sends to again (a UDP socket) allocates with
 * hxs_ip_tx_alloc_dst() and a struct hxs_ip_dst of its own instead: the lookups run once.
 * TCP, whose segments come with their addresses in a frame it allocated, looks the next hop
 * up through its own struct hxs_ip_dst with hxs_ip_tx_route_dst().
 *
 * IPv6 (ip6.c) is the same with hxs_ip6_tx_alloc(st, &tx, dst16, proto, l4_len): tx.v6 is set,
 * tx.src6 is the source chosen for dst (RFC 6724), hxs_ip_tx_send() writes the IPv6 header
 * (hop limit from the route or 64, flow label tx.flow, traffic class tx.tos); -EMSGSIZE past
 * MTU - 40 (IPv6 hosts never fragment what they send here).
 *
 * A queued frame whose neighbour fails or does not resolve within HXS_NEIGH_TIMEOUT_US is
 * dropped (IpOutDiscards, HxsNeighFailedDrops) and EHOSTUNREACH is reported to tx.owner
 * through its error callback: this layer never names the socket behind it.
 */
#ifndef HXS_IP_H
#define HXS_IP_H

#include <stdint.h>

#include "ctl/netif.h"
#include "io/io.h"
#include "lib/csum.h"

struct hxs_stack;

/* Whoever sent a frame that may wait for its next hop (a socket embeds one): error() runs when
 * the frame is dropped unsent, with a positive errno (EHOSTUNREACH). */
struct hxs_tx_owner {
	void (*error)(struct hxs_tx_owner *o, int err);
};

#define HXS_ETH_HLEN   14
#define HXS_IP_HLEN    20
#define HXS_UDP_HLEN   8
#define HXS_IP_TTL     64
#define HXS_IP6_HLEN   40
#define HXS_IP6_HOP_LIMIT 64       /* RFC 8200 §3: the default when the route sets none */

/* A received IPv4 datagram, as handed to L4. Addresses in network order. */
struct hxs_ip_rx {
	const uint8_t *iph;         /* IPv4 header */
	const uint8_t *l4;          /* L4 header */
	uint32_t l4_len;            /* from the IP total length (padding excluded) */
	uint32_t src, dst;
	uint8_t proto;
	uint8_t tos;                /* IPv6: the traffic class */
	uint8_t v6;                 /* IPv6: src6/dst6 hold the addresses, src/dst are 0 */
	uint8_t pad;
	const uint8_t *src6, *dst6; /* IPv6 addresses, in the header */
	const struct hxs_frame *frame;
};

struct hxs_ip_tx {
	struct hxs_frame f;         /* the TX frame */
	uint8_t *l4;                /* where the L4 header goes */
	uint32_t l4_len;
	uint32_t src, dst, nexthop; /* network order */
	uint8_t proto;
	uint8_t tos;                /* IPv6: the traffic class */
	uint8_t v6;                 /* an IPv6 datagram (hxs_ip6_tx_alloc) */
	uint8_t hop_limit;          /* IPv6: from the route */
	uint8_t ttl;                /* IPv4: the TTL (IP_TTL), 0: HXS_IP_TTL */
	uint32_t flow;              /* IPv6: the flow label (20 bits, RFC 6437) */
	struct hxs_tx_owner *owner; /* told EHOSTUNREACH if the neighbour never resolves */
	/* hxs_ip_tx_alloc_dst(): the cached destination the frame came from (dc_hit: its
	 * next hop's address goes in, no lookup), or the one to fill when the next hop
	 * resolves at once (dc_gen: st->dst_gen before the lookups) */
	struct hxs_ip_dst *dc;
	uint32_t dc_gen;
	uint8_t dc_hit;
	/* IPv6 (last: an IPv4 frame from a cached destination leaves them unwritten) */
	uint8_t src6[16], dst6[16], nexthop6[16];
};

/* A destination's route, source and next hop kept between sends (a UDP socket keeps one, TCP
 * a few per stack, by destination):
 * what hxs_ip_tx_alloc/hxs_ip6_tx_alloc and the neighbour lookup answered for daddr. Used
 * while st->dst_gen is the value it was filled under (the control plane bumps it on every
 * route, neighbour, address or link change it hears of: hxs_stack__dst_changed), for at
 * most HXS_IP_DST_USES sends and until HXS_IP_DST_TTL_US past its fill by the last turn's
 * clock; then the full lookups run again, so the caches' own timers below (route expiry,
 * a stale neighbour's reconfirmation) keep running. Zeroed: empty. */
#define HXS_IP_DST_USES   1024
#define HXS_IP_DST_TTL_US 100000
struct hxs_ip_dst {
	uint8_t daddr[16];          /* the destination (IPv4 as ::ffff:a.b.c.d) */
	uint8_t src6[16];           /* IPv6: the source chosen for it */
	uint64_t expires;           /* stack time */
	uint32_t gen;               /* st->dst_gen when filled; 0: empty */
	uint32_t left;              /* sends it still serves */
	uint8_t mac[6];             /* the next hop's Ethernet address */
	uint8_t hop_limit;          /* IPv6: the route's */
};

/* hxs_ip_tx_alloc() or hxs_ip6_tx_alloc() (by daddr's family: IPv4-mapped or not) through d:
 * when d holds daddr and is current, the frame takes the source and next hop from it (no
 * route, source, neighbour lookup, no clock read); otherwise the lookups run with the stack's
 * time held (*held, for hxs_stack__time_release after the send) and hxs_ip_tx_send() fills
 * d when the next hop's address is known at once (not a broadcast, not queued). */
int hxs_ip_tx_alloc_dst(struct hxs_stack *st, struct hxs_ip_tx *tx, struct hxs_ip_dst *d,
			const uint8_t daddr[16], uint8_t proto, uint32_t l4_len, int *held);

/* The next hop of a frame already allocated, its addresses set (tx->src, tx->dst; or tx->v6,
 * tx->src6, tx->dst6: a TCP segment's), through d as above: when d holds the destination and
 * is current, no route or neighbour lookup (tx->hop_limit from d for IPv6); otherwise the
 * route lookup (tx->nexthop, or tx->nexthop6 and tx->hop_limit), and hxs_ip_tx_send() fills
 * d when the next hop's address is known at once. 0, or the route lookup's -errno
 * (-ENETUNREACH). The source is not d's: the caller's. */
int hxs_ip_tx_route_dst(struct hxs_stack *st, struct hxs_ip_tx *tx, struct hxs_ip_dst *d);

int hxs_ip_tx_alloc(struct hxs_stack *st, struct hxs_ip_tx *tx, uint32_t dst, uint8_t proto,
		    uint32_t l4_len);
/* A TX frame for an IP header of hlen bytes and l4_len bytes above it (tx->f, tx->l4,
 * tx->l4_len): -EAGAIN when no frame is free after one reap, -EMSGSIZE when it cannot hold
 * them. */
int hxs_ip_tx_frame(struct hxs_stack *st, struct hxs_ip_tx *tx, uint32_t hlen, uint32_t l4_len);
int hxs_ip_tx_send(struct hxs_stack *st, struct hxs_ip_tx *tx);
void hxs_ip_tx_abort(struct hxs_stack *st, struct hxs_ip_tx *tx);
/* Largest L4 length one frame carries to dst's interface (MTU - 20). */
uint32_t hxs_ip_max_l4(const struct hxs_stack *st);

/* IPv6 output (ip6.c): as hxs_ip_tx_alloc for a 16-byte destination; the source is chosen
 * for it (hxs_ip6_select_src). Sent with hxs_ip_tx_send(). */
int hxs_ip6_tx_alloc(struct hxs_stack *st, struct hxs_ip_tx *tx, const uint8_t dst[16],
		     uint8_t proto, uint32_t l4_len);
/* Largest L4 length one IPv6 frame carries (MTU - 40). */
uint32_t hxs_ip6_max_l4(const struct hxs_stack *st);
/* The source address for dst (RFC 6724 §5 rule 2, scope: the link-local address for a
 * link-local destination, else the global one): 0, or -EADDRNOTAVAIL when there is none. */
int hxs_ip6_select_src(const struct hxs_stack *st, const uint8_t dst[16], uint8_t src[16]);
/* Is a one of this stack's IPv6 unicast addresses? */
int hxs_ip6_is_local(const struct hxs_stack *st, const uint8_t a[16]);
void hxs_ip6_input(struct hxs_stack *st, const struct hxs_frame *f, const uint8_t *iph, uint32_t len);
/* ip.c for ip6.c: the frame's header is written; Ethernet header (type given) and next hop
 * nh (16 bytes, IPv4 as ::ffff:a.b.c.d), sent or queued while it is resolved. */
int hxs_ip6_tx_send(struct hxs_stack *st, struct hxs_ip_tx *tx);   /* hxs_ip_tx_send's, v6 */
int hxs_ip__xmit(struct hxs_stack *st, struct hxs_ip_tx *tx, const uint8_t nh[16], uint16_t ethertype);

/* Input from eth.c. The frame stays owned by the caller. */
void hxs_ip_input(struct hxs_stack *st, const struct hxs_frame *f, const uint8_t *iph, uint32_t len);
/* Input from the poll loop (eth.c). */
void hxs_eth_input(struct hxs_stack *st, const struct hxs_frame *f);
/* Frees every frame waiting on a neighbour (stack closing). */
void hxs_ip__drop_pending(struct hxs_stack *st);
/* Forgets o on every frame waiting for a neighbour (its owner is going away). */
void hxs_stack__forget_owner(struct hxs_stack *st, struct hxs_tx_owner *o);
/* Neighbour event (from netlink, or a test on the static control plane). */
void hxs_stack__neigh_event(struct hxs_stack *st, uint32_t ip, enum hxs_neigh_event ev,
			    const uint8_t mac[6]);
void hxs_stack__neigh6_event(struct hxs_stack *st, const uint8_t ip[16], enum hxs_neigh_event ev,
			     const uint8_t mac[6]);

/* Internet checksum (RFC 1071): hxs_csum_add / hxs_csum_fold / hxs_csum_pseudo, csum.h. */

#endif
