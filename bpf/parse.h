/* parse.h - bounds-checked header parsers for the XDP program (BPF side only).
 *
 * parse_l2() -> parse_ipv4() | parse_ipv6() -> (hxs.bpf.c) parse_l4 step
 *
 * A struct cursor walks the frame: cur_pull(c, n) returns the next n bytes and advances, or
 * NULL when fewer than n are left, so no header is ever read before its bytes were checked
 * against data_end. The parsers fill a struct hxs_pkt (addresses, protocol, where the L4
 * header starts, how long the IP layer says it is, fragment state) and return what they
 * found as an enum parse_rc. They only read the frame; verdicts and counters are the
 * program's (hxs.bpf.c).
 */
#ifndef HXS_BPF_PARSE_H
#define HXS_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hxs/shared.h"

struct cursor {
	void *pos;
	void *end;          /* data_end: kept as the verifier's packet end, never recomputed */
	__u32 off;          /* offset of pos from the frame start */
	__u32 frame_len;    /* whole frame incl. fragments of a multi-buffer frame (xdp.frags);
	                     * headers must sit in the first buffer, lengths may go beyond it */
};

/* 802.1Q / 802.1ad tag as it follows the MAC addresses (not in the UAPI headers). */
struct vlan_tag {
	__be16 tci;
	__be16 proto;       /* the encapsulated ethertype */
};

/* IPv6 fragment header, RFC 8200 section 4.5 (the UAPI struct frag_hdr is kernel-only). */
struct ipv6_frag {
	__u8   nexthdr;
	__u8   reserved;
	__be16 frag_off;    /* offset in 8-octet units << 3 | M flag */
	__be32 id;
};

enum parse_rc {
	P_OK = 0,           /* TCP or UDP header starts at pkt->l4 (not yet length-checked) */
	P_NOT_L4,           /* well-formed IP, but not TCP/UDP (ICMP, ESP, ...): the kernel's */
	P_NON_IP,           /* neither IPv4 nor IPv6 (ARP, LLDP, QinQ inner tag, ...) */
	P_IPV6,             /* IPv6 while IPv6 is not steered (only parse_l2 returns it) */
	P_TRUNC,            /* frame ends inside a header or before the IP length */
	P_HDRERR,           /* IP header fields are wrong */
};

enum { FRAG_NONE = 0, FRAG_FIRST, FRAG_LATER };

/* What the parsers learnt about one frame. key is already in the form of hxs_conns' key:
 * local = destination of the frame. */
struct hxs_pkt {
	struct hxs_conn_key key;
	__u32  l4_len;      /* bytes from the L4 header to the end of the IP payload */
	__u16  l3_off;      /* IP header offset in the frame (after Ethernet and a tag) */
	__u16  l4_off;      /* TCP/UDP header offset (after IP options and extension headers) */
	__be32 frag_id;     /* IP identification, valid when frag != FRAG_NONE */
	__u8   frag;        /* FRAG_* */
	__u8   vlan;        /* 1: the frame carried a tag */
	__u8   v4;          /* 1: IPv4 (addresses are ::ffff:a.b.c.d) */
};

#define NEXTHDR_HOP      0
#define NEXTHDR_ROUTING  43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST     60
#define IPV6_MAX_EXT     6      /* extension headers walked before giving the frame to the kernel */

/* Bytes of the frame from offset off to its end, across all buffers. Kept as scalar
 * arithmetic on offsets: computing it from packet pointers made clang emit pointer math the
 * verifier rejects ("math between pkt pointer and register with unbounded min value"). */
static __always_inline __u32 cur_left(const struct cursor *c, __u32 off)
{
	return c->frame_len - off;
}

static __always_inline void *cur_pull(struct cursor *c, __u32 len)
{
	void *p = c->pos;

	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	c->off += len;
	return p;
}

/* ::ffff:a.b.c.d, RFC 4291 section 2.5.5.2 */
static __always_inline void addr_v4mapped(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

static __always_inline int addr_is_v4mapped(const struct in6_addr *a)
{
	return !a->in6_u.u6_addr32[0] && !a->in6_u.u6_addr32[1] &&
	       a->in6_u.u6_addr32[2] == bpf_htonl(0xffff);
}

/* Ethernet and at most one 802.1Q/802.1ad tag. Returns the ethertype in *proto. */
static __always_inline enum parse_rc parse_l2(struct cursor *c, struct hxs_pkt *pkt, __u16 *proto)
{
	struct ethhdr *eth = cur_pull(c, sizeof(*eth));
	struct vlan_tag *tag;

	if (!eth)
		return P_TRUNC;
	*proto = bpf_ntohs(eth->h_proto);
	if (*proto == ETH_P_8021Q || *proto == ETH_P_8021AD) {
		pkt->vlan = 1;
		tag = cur_pull(c, sizeof(*tag));
		if (!tag)
			return P_TRUNC;
		*proto = bpf_ntohs(tag->proto);
	}
	if (*proto != ETH_P_IP && *proto != ETH_P_IPV6)
		return P_NON_IP;
	return P_OK;
}

/* RFC 791 section 3.1; the checks are the kernel's ip_rcv_core() minus the checksum (userspace
 * verifies it for steered frames, the kernel for the rest). */
static __always_inline enum parse_rc parse_ipv4(struct cursor *c, struct hxs_pkt *pkt)
{
	__u32 l3_off = c->off, hlen, tot;
	struct iphdr *iph = cur_pull(c, sizeof(*iph));
	__u16 frag;

	pkt->l3_off = (__u16)l3_off;
	if (!iph)
		return P_TRUNC;
	if (iph->version != 4 || iph->ihl < 5)
		return P_HDRERR;
	hlen = iph->ihl * 4;
	/* Options: hlen - 20 is at most 40; the verifier sees that from the 4-bit field. */
	if (!cur_pull(c, hlen - sizeof(*iph)))
		return P_TRUNC;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen)
		return P_HDRERR;
	/* "total length > frame" is the kernel's InTruncatedPkts; bytes after tot are padding. */
	if (tot > cur_left(c, l3_off))
		return P_TRUNC;
	pkt->l4_len = tot - hlen;
	pkt->l4_off = (__u16)c->off;

	pkt->v4 = 1;
	addr_v4mapped(pkt->key.laddr, iph->daddr);
	addr_v4mapped(pkt->key.raddr, iph->saddr);
	pkt->key.proto = iph->protocol;
	frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x1fff)                  /* fragment offset != 0 */
		pkt->frag = FRAG_LATER;
	else if (frag & 0x2000)             /* MF with offset 0 */
		pkt->frag = FRAG_FIRST;
	pkt->frag_id = (__be32)iph->id;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return P_NOT_L4;
	return P_OK;
}

/* RFC 8200 sections 3 and 4. Hop-by-hop, routing and destination options headers are skipped
 * (they share the generic length format of section 4.3-4.6), a fragment header is noted; any
 * other next header (ICMPv6, ESP, AH, No Next Header, unknown) is the kernel's. */
static __always_inline enum parse_rc parse_ipv6(struct cursor *c, struct hxs_pkt *pkt)
{
	struct ipv6_opt_hdr *opt;
	struct ipv6_frag *fh;
	struct ipv6hdr *ip6;
	__u32 plen, elen, i;
	__u8 nh;

	pkt->l3_off = (__u16)c->off;
	ip6 = cur_pull(c, sizeof(*ip6));
	if (!ip6)
		return P_TRUNC;
	if (ip6->version != 6)
		return P_HDRERR;
	plen = bpf_ntohs(ip6->payload_len);
	/* 0 is a jumbogram or an empty payload: nothing hxs serves either way. */
	if (plen == 0)
		return P_NOT_L4;
	if (plen > cur_left(c, c->off))
		return P_TRUNC;
	/* RFC 4291 section 2.5.5.2: IPv4-mapped addresses "represent the addresses of IPv4
	 * nodes"; they never appear on the wire, and here they would match IPv4 entries (the
	 * maps share one key space). */
	if (addr_is_v4mapped(&ip6->daddr) || addr_is_v4mapped(&ip6->saddr))
		return P_HDRERR;
	__builtin_memcpy(pkt->key.laddr, &ip6->daddr, 16);
	__builtin_memcpy(pkt->key.raddr, &ip6->saddr, 16);
	nh = ip6->nexthdr;

	for (i = 0; i < IPV6_MAX_EXT; i++) {
		switch (nh) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			pkt->key.proto = nh;
			pkt->l4_len = plen;
			pkt->l4_off = (__u16)c->off;
			return P_OK;
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
			opt = cur_pull(c, 8);
			if (!opt)
				return P_TRUNC;
			elen = (opt->hdrlen + 1) * 8;
			if (elen > plen)
				return P_TRUNC;
			/* elen - 8 <= 2040: bounded by the 8-bit hdrlen, so the verifier accepts the
			 * variable-size pull. */
			if (!cur_pull(c, elen - 8))
				return P_TRUNC;
			/* A routing header with segments left: the frame is not for this host yet. */
			if (nh == NEXTHDR_ROUTING && ((__u8 *)opt)[3] != 0)
				return P_NOT_L4;
			plen -= elen;
			nh = opt->nexthdr;
			break;
		case NEXTHDR_FRAGMENT:
			fh = cur_pull(c, sizeof(*fh));
			if (!fh || plen < sizeof(*fh))
				return P_TRUNC;
			plen -= sizeof(*fh);
			/* offset 0 and M clear is an atomic fragment (RFC 6946): a whole datagram. */
			if (bpf_ntohs(fh->frag_off) & 0xfff8)
				pkt->frag = FRAG_LATER;
			else if (bpf_ntohs(fh->frag_off) & 1)
				pkt->frag = FRAG_FIRST;
			pkt->frag_id = fh->id;
			nh = fh->nexthdr;
			if (pkt->frag == FRAG_LATER) {
				/* no L4 header here; the program still needs proto for the frag key */
				pkt->key.proto = nh;
				return (nh == IPPROTO_TCP || nh == IPPROTO_UDP) ? P_OK : P_NOT_L4;
			}
			break;
		default:
			return P_NOT_L4;
		}
	}
	return P_NOT_L4;
}

#endif
