/* ip.c - IPv4 input validation and output.
 *
 * Input (RFC 1122 §3.2.1, as the kernel's ip_rcv_core):
 *   hxs_ip_input() -> checks (martian_source(): RFC 1122 §3.2.1.3) -> st->l4[proto].input()
 *                     (udp.c, TCP glue) | IpInUnknownProtos
 * Output:
 *   hxs_ip_tx_alloc() -> route -> TX frame
 *   hxs_ip_tx_alloc_dst() -> a socket's cached destination current: TX frame only
 *                         \-> else hxs_ip_tx_alloc() | hxs_ip6_tx_alloc(), the next hop
 *                            fills the cache in hxs_ip__xmit()
 *   hxs_ip_tx_route_dst() -> a frame allocated with its addresses set (TCP's): the cached
 *                         destination's next hop, else the route lookup
 *   hxs_ip_tx_send()  -> IPv4 header (ip_ident(): an ID per destination)
 *                        -> hxs_ip__xmit() (neigh.c: Ethernet header and next hop, or its
 *                           pending queue) | hxs_ip6_tx_send() for an IPv6 tx (ip6.c)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <linux/if_ether.h>

#include "ip.h"
#include "lib/siphash.h"
#include "stack.h"

/* RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming datagram containing an IP
 * source address that is invalid by the rules of this section": {0, 0} (but as the source of
 * a host learning its address, to the limited broadcast - DHCP) and {0, host}, {-1, -1}, the
 * broadcast of our subnet, {127, any}; a multicast source (a host group address is only ever
 * a destination, RFC 1112; the kernel drops it too); and, as the kernel's
 * fib_validate_source() without
 * accept_local, our own address (a LAND-style spoof). Checked for every protocol: a source
 * like these can only be forged, and TCP would answer it. */
static int martian_source(const struct hxs_stack *st, uint32_t src, uint32_t dst)
{
	uint32_t s = ntohl(src);

	if (s == INADDR_BROADCAST || IN_MULTICAST(s) || (s >> 24) == IN_LOOPBACKNET)
		return 1;
	if ((s >> 24) == 0)                       /* 0.0.0.0/8 */
		return dst != INADDR_BROADCAST;
	if (src == st->addr)
		return 1;
	if (st->prefix_len && st->prefix_len < 31) {
		uint32_t host = ~0u >> st->prefix_len;

		if (s == (ntohl(st->addr) | host))
			return 1;
	}
	return 0;
}

void hxs_ip_input(struct hxs_stack *st, const struct hxs_frame *f, const uint8_t *p, uint32_t len)
{
	struct hxs_ip_rx pkt;
	uint32_t ihl, tot;
	uint16_t frag, w;

	st->mib.v[HXS_MIB_IP_IN_RECEIVES]++;
	/* RFC 1122 §3.2.1.1: "A datagram whose version number is not 4 MUST be silently
	 * discarded." The header must be there before anything is read from it. */
	if (len < HXS_IP_HLEN || (p[0] >> 4) != 4)
		goto hdr_error;
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	if (ihl < HXS_IP_HLEN || ihl > len)
		goto hdr_error;
	memcpy(&w, p + 2, 2);
	tot = ntohs(w);
	/* total length covers the header and fits in what arrived (the rest is link padding) */
	if (tot < ihl || tot > len)
		goto hdr_error;
	/* RFC 1122 §3.2.1.2: "A host MUST verify the IP header checksum on every received
	 * datagram and silently discard every datagram that has a bad checksum." */
	if (hxs_csum_fold(ihl == HXS_IP_HLEN ? hxs_csum_ip4hdr(p) : hxs_csum_add(0, p, ihl)) != 0)
		goto hdr_error;
	memcpy(&pkt.src, p + 12, 4);
	memcpy(&pkt.dst, p + 16, 4);
	/* RFC 1122 §3.2.1.3: a host discards datagrams not addressed to one of its addresses
	 * (the kernel counts them as InAddrErrors when it does not forward); a host group
	 * (multicast, RFC 1112) is one for UDP, only UDP goes on below. */
	if (pkt.dst != st->addr && pkt.dst != INADDR_BROADCAST && !IN_MULTICAST(ntohl(pkt.dst))) {
		st->mib.v[HXS_MIB_IP_IN_ADDR_ERRORS]++;
		return;
	}
	if (martian_source(st, pkt.src, pkt.dst)) {
		st->mib.v[HXS_MIB_IP_IN_MARTIAN_SRC]++;
		return;
	}
	memcpy(&frag, p + 6, 2);
	if (ntohs(frag) & (IP_MF | IP_OFFMASK)) {
		/* hxs does not reassemble; the XDP program passes fragments to the kernel */
		st->mib.v[HXS_MIB_IP_IN_DISCARDS]++;
		return;
	}
	pkt.iph = p;
	pkt.l4 = p + ihl;
	pkt.l4_len = tot - ihl;
	pkt.proto = p[9];
	pkt.tos = p[1];
	pkt.pad = 0;
	pkt.v6 = 0;
	pkt.src6 = pkt.dst6 = NULL;
	pkt.frame = f;
	/* RFC 1122 §4.2.3.10: "A TCP MUST silently discard an incoming SYN segment that is
	 * addressed to a broadcast or multicast address." Only UDP is delivered for a
	 * broadcast/multicast destination, IP or link layer (the kernel's tcp_v4_rcv() drops
	 * every segment whose pkt_type is not PACKET_HOST). */
	if (pkt.proto != IPPROTO_UDP &&
	    (pkt.dst == INADDR_BROADCAST || IN_MULTICAST(ntohl(pkt.dst)) || (f->data[0] & 1))) {
		st->mib.v[HXS_MIB_IP_IN_BCAST_DISCARDS]++;
		return;
	}
	if (st->l4[pkt.proto].input) {
		st->mib.v[HXS_MIB_IP_IN_DELIVERS]++;
		st->l4[pkt.proto].input(st->l4[pkt.proto].ctx, st, &pkt);
		return;
	}
	st->mib.v[HXS_MIB_IP_IN_UNKNOWN_PROTOS]++;
	return;
hdr_error:
	st->mib.v[HXS_MIB_IP_IN_HDR_ERRORS]++;
}

uint32_t hxs_ip_max_l4(const struct hxs_stack *st)
{
	return st->mtu - HXS_IP_HLEN;
}

int hxs_ip_tx_alloc(struct hxs_stack *st, struct hxs_ip_tx *tx, uint32_t dst, uint8_t proto,
		    uint32_t l4_len)
{
	int err;

	memset(tx, 0, sizeof(*tx));
	if (l4_len > hxs_ip_max_l4(st))
		return -EMSGSIZE;
	err = hxs_stack__route(st, dst, &tx->nexthop);
	if (err) {
		st->mib.v[HXS_MIB_IP_OUT_NO_ROUTES]++;
		return err;
	}
	err = hxs_ip_tx_frame(st, tx, HXS_IP_HLEN, l4_len);
	if (err)
		return err;
	tx->src = st->addr;
	tx->dst = dst;
	tx->proto = proto;
	return 0;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* d answers for daddr now: filled under this generation, uses and time left, and no next
 * hop waiting (a frame must not pass the ones queued before it) */
/* Whether d may still serve: same generation, uses and age left, no neighbour pending. */
static inline int dst_fresh(const struct hxs_stack *st, const struct hxs_ip_dst *d)
{
	return d->gen == st->dst_gen && d->left && st->turn_now < d->expires && !st->npend;
}

static int dst_current(const struct hxs_stack *st, const struct hxs_ip_dst *d,
		       const uint8_t daddr[16])
{
	return dst_fresh(st, d) && !memcmp(d->daddr, daddr, 16);
}

int hxs_ip_tx_alloc_dst(struct hxs_stack *st, struct hxs_ip_tx *tx, struct hxs_ip_dst *d,
			const uint8_t daddr[16], uint8_t proto, uint32_t l4_len, int *held)
{
	int v4 = !memcmp(daddr, v4mapped, 12), err;
	uint32_t gen = st->dst_gen, dst4;

	*held = 0;
	memcpy(&dst4, daddr + 12, 4);
	if (dst_current(st, d, daddr)) {
		memset(tx, 0, offsetof(struct hxs_ip_tx, src6));
		if (l4_len > (v4 ? hxs_ip_max_l4(st) : hxs_ip6_max_l4(st)))
			return -EMSGSIZE;
		err = hxs_ip_tx_frame(st, tx, v4 ? HXS_IP_HLEN : HXS_IP6_HLEN, l4_len);
		if (err)
			return err;
		d->left--;
		tx->dc = d;
		tx->dc_hit = 1;
		tx->proto = proto;
		if (v4) {
			tx->src = st->addr;
			tx->dst = dst4;
		} else {
			tx->v6 = 1;
			memcpy(tx->src6, d->src6, 16);
			memcpy(tx->dst6, daddr, 16);
			tx->hop_limit = d->hop_limit;
		}
		return 0;
	}
	*held = hxs_stack__time_hold(st);   /* route and neighbour caches: one time */
	err = v4 ? hxs_ip_tx_alloc(st, tx, dst4, proto, l4_len)
		 : hxs_ip6_tx_alloc(st, tx, daddr, proto, l4_len);
	if (err)
		return err;
	tx->dc = d;
	tx->dc_gen = gen;
	return 0;
}

/* dst_current() of the IPv4 destination dst (network order), whose key would be ::ffff:dst:
 * compared where it lies, without building the key (every segment of a connection asks) */
static int dst_current4(const struct hxs_stack *st, const struct hxs_ip_dst *d, uint32_t dst)
{
	uint32_t a;

	memcpy(&a, d->daddr + 12, 4);
	return dst_fresh(st, d) && a == dst && !memcmp(d->daddr, v4mapped, 12);
}

int hxs_ip_tx_route_dst(struct hxs_stack *st, struct hxs_ip_tx *tx, struct hxs_ip_dst *d)
{
	uint32_t gen = st->dst_gen;
	int err;

	if (tx->v6 ? dst_current(st, d, tx->dst6) : dst_current4(st, d, tx->dst)) {
		d->left--;
		tx->dc = d;
		tx->dc_hit = 1;
		if (tx->v6)
			tx->hop_limit = d->hop_limit;
		return 0;
	}
	err = tx->v6 ? hxs_stack__route6(st, tx->dst6, tx->nexthop6, &tx->hop_limit)
		     : hxs_stack__route(st, tx->dst, &tx->nexthop);
	if (err)
		return err;
	tx->dc = d;
	tx->dc_gen = gen;
	return 0;
}

void hxs_ip_tx_abort(struct hxs_stack *st, struct hxs_ip_tx *tx)
{
	st->io->ops->tx_free(st->io, &tx->f, 1);
}

/* The ID of an outgoing datagram. RFC 6864 §4.1: the ID of an atomic datagram (DF set, never
 * fragmented: every one hxs sends) has no meaning to its receiver, but one counter for the
 * whole stack tells anyone who receives two datagrams how many the stack sent to others in
 * between (idle scans; RFC 7739 on predictable IDs). As RFC 7739's hash-based algorithm and
 * Linux's ip_idents: a counter per bucket of (source, destination, protocol), chosen by a
 * keyed hash that also gives each destination its own random offset. */
static uint16_t ip_ident(struct hxs_stack *st, uint32_t src, uint32_t dst, uint8_t proto)
{
	uint8_t m[9];
	uint64_t h;

	/* the last flow's hash is kept: a run of datagrams to one destination (a connection's
	 * segments, a request/response exchange) hashes once; the IDs are the same */
	if (st->ip_id_last.ok && st->ip_id_last.src == src && st->ip_id_last.dst == dst &&
	    st->ip_id_last.proto == proto) {
		h = st->ip_id_last.h;
	} else {
		memcpy(m, &src, 4);
		memcpy(m + 4, &dst, 4);
		m[8] = proto;
		h = hxs_siphash24(st->ip_id_key, m, sizeof(m));
		st->ip_id_last.src = src;
		st->ip_id_last.dst = dst;
		st->ip_id_last.proto = proto;
		st->ip_id_last.ok = 1;
		st->ip_id_last.h = h;
	}
	return (uint16_t)((h >> 48) + st->ip_ids[(uint32_t)h % HXS_IP_ID_BUCKETS]++);
}

int hxs_ip_tx_send(struct hxs_stack *st, struct hxs_ip_tx *tx)
{
	uint8_t *ip = tx->f.data + HXS_ETH_HLEN;
	uint8_t nh[16];
	uint16_t w;

	if (tx->v6)
		return hxs_ip6_tx_send(st, tx);
	st->mib.v[HXS_MIB_IP_OUT_REQUESTS]++;
	tx->f.len = HXS_ETH_HLEN + HXS_IP_HLEN + tx->l4_len;
	ip[0] = 0x45;
	ip[1] = tx->tos;
	w = htons((uint16_t)(HXS_IP_HLEN + tx->l4_len));
	memcpy(ip + 2, &w, 2);
	w = htons(ip_ident(st, tx->src, tx->dst, tx->proto));
	memcpy(ip + 4, &w, 2);
	w = htons(IP_DF);
	memcpy(ip + 6, &w, 2);
	ip[8] = tx->ttl ? tx->ttl : HXS_IP_TTL;
	ip[9] = tx->proto;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, &tx->src, 4);
	memcpy(ip + 16, &tx->dst, 4);
	w = hxs_csum_fold(hxs_csum_ip4hdr(ip));
	memcpy(ip + 10, &w, 2);
	if (tx->dc_hit)         /* the cached next hop: no broadcast, resolved */
		return hxs_ip__xmit(st, tx, NULL, ETH_P_IP);
	/* a broadcast (limited, or our subnet's) goes to the link's broadcast address (RFC 1122
	 * 3.3.6: "mapped to a link-layer broadcast"), no neighbour to resolve */
	uint32_t host = st->prefix_len && st->prefix_len < 31 ? ~0u >> st->prefix_len : 0;

	if (tx->dst == INADDR_BROADCAST ||
	    (host && (ntohl(tx->dst) & host) == host && ((tx->dst ^ st->addr) & htonl(~host)) == 0)) {
		w = htons(ETH_P_IP);
		memset(tx->f.data, 0xff, 6);
		memcpy(tx->f.data + 6, st->mac, 6);
		memcpy(tx->f.data + 12, &w, 2);
		hxs_stack__tx(st, &tx->f);
		return 0;
	}
	/* the next hop as the neighbour queue keys it: ::ffff:a.b.c.d */
	memset(nh, 0, 10);
	nh[10] = nh[11] = 0xff;
	memcpy(nh + 12, &tx->nexthop, 4);
	return hxs_ip__xmit(st, tx, nh, ETH_P_IP);
}
