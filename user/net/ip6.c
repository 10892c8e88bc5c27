/* ip6.c - IPv6 input validation and output (RFC 8200), as a host: nothing is forwarded.
 *
 * Input (as the kernel's ipv6_rcv and ip6_input for a host):
 *   hxs_eth_input() -> hxs_ip6_input() -> header checks -> destination is ours
 *                   -> ext_walk(): hop-by-hop (first only), destination options, routing
 *                      (segments left 0 only, type 0 never), fragment (dropped, not reassembled)
 *                   -> st->l4v6[next header].input() (udp.c, TCP glue) | Ip6InUnknownProtos
 * Output:
 *   hxs_ip6_tx_alloc() -> hxs_ip6_select_src() -> route (next hop, hop limit) -> TX frame
 *   hxs_ip_tx_send() -> hxs_ip6_tx_send() -> IPv6 header -> hxs_ip__xmit() (ip.c: Ethernet,
 *                       neighbour, or the pending queue while the kernel resolves it)
 * Neighbour discovery, ICMPv6 and DAD are the kernel's: the XDP program passes them up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <linux/if_ether.h>

#include "ip.h"
#include "stack.h"

#define NH_HOPOPTS   0
#define NH_ROUTING   43
#define NH_FRAGMENT  44
#define NH_NONE      59
#define NH_DSTOPTS   60

static int addr_is_zero(const uint8_t a[16])
{
	static const uint8_t z[16];

	return !memcmp(a, z, 16);
}

static int addr_is_loopback(const uint8_t a[16])
{
	static const uint8_t lo[16] = { [15] = 1 };

	return !memcmp(a, lo, 16);
}

static int addr_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, 12);
}

/* fe80::/10 (RFC 4291 §2.5.6) */
static int addr_is_linklocal(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

int hxs_ip6_is_local(const struct hxs_stack *st, const uint8_t a[16])
{
	if (addr_is_zero(a))
		return 0;
	return !memcmp(a, st->addr6, 16) || !memcmp(a, st->ll6, 16);
}

int hxs_ip6_select_src(const struct hxs_stack *st, const uint8_t dst[16], uint8_t src[16])
{
	/* RFC 6724 §5 rule 2 (prefer the appropriate scope): a link-local destination is
	 * reached from the link-local address, anything wider from the global one when we
	 * have it (the kernel's ipv6_dev_get_saddr would also fall back to link-local) */
	const uint8_t *pick = addr_is_linklocal(dst) ? st->ll6 : st->addr6;

	if (addr_is_zero(pick))
		pick = addr_is_zero(st->addr6) ? st->ll6 : st->addr6;
	if (addr_is_zero(pick))
		return -EADDRNOTAVAIL;
	memcpy(src, pick, 16);
	return 0;
}

/* RFC 8200 §4.2: the TLV-encoded options of a hop-by-hop or destination-options header (hlen
 * bytes at q, the first two being next header and length). Pad1 and PadN are padding; an
 * unrecognised option is skipped when its action bits are 00 and refuses the packet
 * otherwise (the ICMPv6 Parameter Problem that 10 and 11 ask for is the kernel's to send,
 * and hxs does not: the packet is dropped and counted as the kernel counts it). Known
 * options with action bits 00 (Router Alert, Tunnel Encapsulation Limit) are skipped; the
 * Jumbo Payload option (0xC2, action 11) refuses the packet: hxs takes no jumbograms. */
static int tlv_ok(const uint8_t *q, uint32_t hlen)
{
	uint32_t i = 2;

	while (i < hlen) {
		uint8_t type = q[i];

		if (type == 0) {                /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > hlen || i + 2 + q[i + 1] > hlen)
			return 0;
		if (type != 1 && (type >> 6) != 0)
			return 0;
		i += 2 + q[i + 1];
	}
	return 1;
}

enum walk { WALK_DELIVER, WALK_HDR_ERROR, WALK_UNKNOWN, WALK_FRAGMENT, WALK_NONE };

/* Skips the extension headers a host processes (RFC 8200 §4.1 order is recommended, not
 * required, except that hop-by-hop comes first). On WALK_DELIVER, *nh and *off are the
 * upper-layer protocol and its offset. */
static enum walk ext_walk(const uint8_t *p, uint32_t end, uint8_t *nh, uint32_t *off)
{
	for (;;) {
		const uint8_t *q = p + *off;
		uint32_t hlen;

		switch (*nh) {
		case NH_HOPOPTS:
			/* RFC 8200 §4.3: "The Hop-by-Hop Options header, when present, must
			 * immediately follow the IPv6 header"; elsewhere it is an unknown next
			 * header to the kernel (inet6_protos[0] is empty) */
			if (*off != HXS_IP6_HLEN)
				return WALK_UNKNOWN;
			/* fallthrough */
		case NH_DSTOPTS:
		case NH_ROUTING:
			if (*off + 8 > end)
				return WALK_HDR_ERROR;
			hlen = ((uint32_t)q[1] + 1) * 8;
			if (*off + hlen > end)
				return WALK_HDR_ERROR;
			if (*nh == NH_ROUTING) {
				/* RFC 5095 §3: a type 0 routing header is refused (as an
				 * unrecognised type); RFC 8200 §4.4: an unrecognised type with
				 * segments left is refused, with none left it is ignored. hxs
				 * processes no routing type. */
				if (q[2] == 0 || q[3] != 0)
					return WALK_HDR_ERROR;
			} else if (!tlv_ok(q, hlen)) {
				return WALK_HDR_ERROR;
			}
			*nh = q[0];
			*off += hlen;
			break;
		case NH_FRAGMENT:
			/* hxs does not reassemble; the XDP program drops fragments of the flows
			 * hxs owns and passes the others to the kernel */
			return WALK_FRAGMENT;
		case NH_NONE:
			return WALK_NONE;       /* RFC 8200 §4.7: nothing follows */
		default:
			return WALK_DELIVER;
		}
	}
}

void hxs_ip6_input(struct hxs_stack *st, const struct hxs_frame *f, const uint8_t *p, uint32_t len)
{
	struct hxs_ip_rx pkt;
	uint32_t plen, end, off = HXS_IP6_HLEN;
	uint8_t nh;
	uint16_t w;

	st->mib.v[HXS_MIB_IP6_IN_RECEIVES]++;
	if (len < HXS_IP6_HLEN || (p[0] >> 4) != 6)
		goto hdr_error;
	memcpy(&w, p + 4, 2);
	plen = ntohs(w);
	nh = p[6];
	/* a payload length of 0 with hop-by-hop options announces a jumbogram (RFC 2675) */
	if (plen == 0 && nh == NH_HOPOPTS)
		goto hdr_error;
	/* the rest of the frame is link padding; a payload longer than the frame is truncated */
	if (HXS_IP6_HLEN + plen > len) {
		st->mib.v[HXS_MIB_IP6_IN_TRUNCATED_PKTS]++;
		return;
	}
	end = HXS_IP6_HLEN + plen;
	/* RFC 4291 §2.7: "Multicast addresses must not be used as source addresses"; §2.5.3:
	 * the loopback address never leaves a node; §2.5.5.2: IPv4-mapped addresses are for
	 * sockets, never on the wire (the kernel's ipv6_rcv drops all three as header errors) */
	if (p[8] == 0xff || addr_is_loopback(p + 8) || addr_is_loopback(p + 24) ||
	    addr_is_v4mapped(p + 8) || addr_is_v4mapped(p + 24))
		goto hdr_error;
	/* a host takes only what is addressed to one of its unicast addresses (multicast is
	 * the kernel's: neighbour discovery, MLD); anything else would need forwarding */
	if (!hxs_ip6_is_local(st, p + 24)) {
		st->mib.v[HXS_MIB_IP6_IN_ADDR_ERRORS]++;
		return;
	}
	switch (ext_walk(p, end, &nh, &off)) {
	case WALK_DELIVER:
		break;
	case WALK_HDR_ERROR:
		goto hdr_error;
	case WALK_UNKNOWN:
		st->mib.v[HXS_MIB_IP6_IN_UNKNOWN_PROTOS]++;
		return;
	case WALK_FRAGMENT:
		st->mib.v[HXS_MIB_IP6_IN_DISCARDS]++;
		return;
	case WALK_NONE:
		return;
	}
	/* the unspecified address is only the source of a node without one yet (RFC 4291
	 * §2.5.2), which no TCP connection comes from; as for IPv4's 0.0.0.0, only UDP takes it */
	if (nh != IPPROTO_UDP && addr_is_zero(p + 8)) {
		st->mib.v[HXS_MIB_IP6_IN_MARTIAN_SRC]++;
		return;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.iph = p;
	pkt.l4 = p + off;
	pkt.l4_len = end - off;
	pkt.proto = nh;
	pkt.tos = (uint8_t)((p[0] << 4) | (p[1] >> 4));
	pkt.v6 = 1;
	pkt.src6 = p + 8;
	pkt.dst6 = p + 24;
	pkt.frame = f;
	if (st->l4v6[nh].input) {
		st->mib.v[HXS_MIB_IP6_IN_DELIVERS]++;
		st->l4v6[nh].input(st->l4v6[nh].ctx, st, &pkt);
		return;
	}
	st->mib.v[HXS_MIB_IP6_IN_UNKNOWN_PROTOS]++;
	return;
hdr_error:
	st->mib.v[HXS_MIB_IP6_IN_HDR_ERRORS]++;
}

uint32_t hxs_ip6_max_l4(const struct hxs_stack *st)
{
	return st->mtu - HXS_IP6_HLEN;
}

int hxs_ip6_tx_alloc(struct hxs_stack *st, struct hxs_ip_tx *tx, const uint8_t dst[16],
		     uint8_t proto, uint32_t l4_len)
{
	uint8_t hl = 0;
	int err;

	memset(tx, 0, sizeof(*tx));
	/* RFC 8200 §5: a host may fragment what it sends, hxs does not: larger than the link
	 * MTU fails (the application learns the size from the error, as with IPV6_DONTFRAG) */
	if (l4_len > hxs_ip6_max_l4(st))
		return -EMSGSIZE;
	err = hxs_ip6_select_src(st, dst, tx->src6);
	if (err)
		return err;
	err = hxs_stack__route6(st, dst, tx->nexthop6, &hl);
	if (err) {
		st->mib.v[HXS_MIB_IP6_OUT_NO_ROUTES]++;
		return err;
	}
	err = hxs_ip_tx_frame(st, tx, HXS_IP6_HLEN, l4_len);
	if (err)
		return err;
	memcpy(tx->dst6, dst, 16);
	tx->proto = proto;
	tx->v6 = 1;
	tx->hop_limit = hl ? hl : HXS_IP6_HOP_LIMIT;
	return 0;
}

int hxs_ip6_tx_send(struct hxs_stack *st, struct hxs_ip_tx *tx)
{
	uint8_t *ip = tx->f.data + HXS_ETH_HLEN;
	uint32_t vtf;
	uint16_t w;

	st->mib.v[HXS_MIB_IP6_OUT_REQUESTS]++;
	tx->f.len = HXS_ETH_HLEN + HXS_IP6_HLEN + tx->l4_len;
	/* RFC 8200 §3: version 6, traffic class, flow label (RFC 6437: 20 bits) */
	vtf = htonl(6u << 28 | (uint32_t)tx->tos << 20 | (tx->flow & 0xfffff));
	memcpy(ip, &vtf, 4);
	w = htons((uint16_t)tx->l4_len);
	memcpy(ip + 4, &w, 2);
	ip[6] = tx->proto;
	ip[7] = tx->hop_limit ? tx->hop_limit : HXS_IP6_HOP_LIMIT;
	memcpy(ip + 8, tx->src6, 16);
	memcpy(ip + 24, tx->dst6, 16);
	return hxs_ip__xmit(st, tx, tx->dc_hit ? NULL : tx->nexthop6, ETH_P_IPV6);
}
