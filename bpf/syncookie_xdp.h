/* syncookie_xdp.h - SYN cookies in the XDP program (BPF side only), for a TCP listener whose
 * bind entry has HXS_BIND_F_COOKIES and a frame without a conn entry. The scheme itself is
 * hxs/syncookie.h, shared with the TCP core.
 *
 * hxs.bpf.c steer_l4() -> hxs_syncookie_xdp() (a global function: verified once, on its own)
 *     SYN (no ACK/RST/FIN) -> sc_syn(): options -> hxs_sc_make() -> hxs_sc_synack()
 *         -> the frame rewritten in place (MACs, addresses, ports swapped; IPv4: TTL 64,
 *            header and TCP checksums; IPv6: hop limit 64, payload length, the TCP checksum
 *            over the IPv6 pseudo-header) -> XDP_TX, or bpf_redirect() to the same interface with
 *            HXS_XDP_CFG_F_TX_REDIRECT (veth)           (XdpSynCookiesSent, terminal)
 *     ACK (no SYN/RST)     -> sc_ack(): hxs_sc_check()
 *         valid   -> m->flags |= HXS_META_F_COOKIE -> redirect() -> fp_put_meta()
 *                                                  (XdpSynCookiesValid, XdpTcpSteered)
 *         invalid -> drop()                           (XdpSynCookiesFailed, XdpDropped)
 *     anything else, IPv4 with options, IPv6 with extension headers, no secret yet -> -1:
 *     steered as before.
 *
 * Expects from its includer: the maps hxs_cookie, count(), drop(), redirect().
 */
#ifndef HXS_BPF_SYNCOOKIE_XDP_H
#define HXS_BPF_SYNCOOKIE_XDP_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include "hxs/syncookie.h"
#include "parse.h"

#define SC_TH_FIN 0x01
#define SC_TH_SYN 0x02
#define SC_TH_RST 0x04
#define SC_TH_ACK 0x10

/* o[i] for an index the verifier must see bounded: clang drops a plain "& 63" it can prove
 * redundant, and the verifier, which cannot, then refuses the variable stack offset. */
static __always_inline __u8 sc_at(const __u8 *o, __u32 i)
{
	__u64 j = i;

#ifdef __bpf__
	asm volatile("%0 &= 63" : "+r"(j));
#else
	j &= 63;                          /* the fuzz harness builds this file as userspace C */
#endif
	return o[j];
}

/* The option walk, one option per bpf_loop() step: the verifier checks the step once instead
 * of every path through 40 unrolled iterations (which passed its 1M-instruction budget). */
struct sc_walk {
	__u8 o[64];                      /* the options, zero-padded */
	__u32 optlen, i;
	struct hxs_sc_syn *syn;
};

static long sc_opt_step(__u64 n, void *arg)
{
	struct sc_walk *w = arg;
	struct hxs_sc_syn *syn = w->syn;
	__u32 i = w->i, kind, len;

	if (i >= w->optlen || i >= 40)
		return 1;
	kind = sc_at(w->o, i);
	if (kind == 0)                    /* EOL */
		return 1;
	if (kind == 1) {                  /* NOP */
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= w->optlen)
		return 1;
	len = sc_at(w->o, i + 1);
	if (len < 2 || i + len > w->optlen)
		return 1;
	if (kind == 2 && len == 4) {
		syn->has_mss = 1;
		syn->mss = (__u16)(sc_at(w->o, i + 2) << 8 | sc_at(w->o, i + 3));
	} else if (kind == 3 && len == 3) {
		syn->has_ws = 1;
		syn->ws = sc_at(w->o, i + 2);
	} else if (kind == 4 && len == 2) {
		syn->sack_perm = 1;
	} else if (kind == 8 && len == 10) {
		syn->has_ts = 1;
		syn->tsval = (__u32)sc_at(w->o, i + 2) << 24 | (__u32)sc_at(w->o, i + 3) << 16 |
			     (__u32)sc_at(w->o, i + 4) << 8 | sc_at(w->o, i + 5);
	}
	w->i = i + len;
	return 0;
}

static __always_inline __u16 sc_ip_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0, i;

	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The SYN-ACK replaces the SYN: l3 = offset of the IP header (14, or 18 with a tag), l4 =
 * of the TCP header (l3 + 20 for IPv4, l3 + 40 for IPv6: neither with options or extension
 * headers). */
static __always_inline int sc_syn(struct xdp_md *ctx, __u32 l3, __u32 l4,
				  const struct hxs_sc_tuple *t,
				  __u32 isn, __u32 doff, __u32 bflags,
				  const struct hxs_cookie_secret *sec, const struct hxs_xdp_meta *m)
{
	struct hxs_sc_local loc = {
		.mss = (__u16)HXS_BIND_MSS(bflags), .win = HXS_BIND_COOKIE_WIN,
		.ws = (__u8)HXS_BIND_WS(bflags),
		.no_sack = !!(bflags & HXS_BIND_F_NO_SACK), .no_ts = !!(bflags & HXS_BIND_F_NO_TS),
		.no_ws = !!(bflags & HXS_BIND_F_NO_WS),
	};
	__u32 ifindex = ctx->ingress_ifindex;   /* read before the helpers invalidate ctx data */
	struct hxs_sc_syn syn = { .isn = isn };
	struct sc_walk w = { .syn = &syn };
	__u8 *out = w.o;             /* the SYN-ACK's header goes where the SYN's options were
				      * (parsed by then): the stack of this function and its
				      * caller's must fit the verifier's 512 bytes together */
	__u32 optlen = doff * 4 - 20, n, cookie, tmp;
	__u64 ns = bpf_ktime_get_ns();
	__u8 mac[ETH_ALEN];
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	void *data, *end;
	int delta;

	if (optlen > 40)
		return -1;
	/* The SYN's options (RFC 9293 §3.2); a malformed list ends the walk with what was found
	 * (the stack would refuse the SYN; a cookie costs nothing) */
	if (optlen && bpf_xdp_load_bytes(ctx, l4 + 20, w.o, optlen) < 0)
		return -1;
	w.optlen = optlen;
	bpf_loop(40, sc_opt_step, &w, 0);
	/* RFC 9293 §3.7.1: no MSS option means 536 */
	cookie = hxs_sc_make(sec, t, isn, ns / 1000000000,
			     hxs_sc_mss_index(syn.has_mss ? syn.mss : 536));
	n = hxs_sc_synack(out, t, &syn, &loc, cookie, (__u32)(ns / 1000000));
	if (n < 24 || n > 40)
		return -1;
	/* the frame becomes Ethernet (+ tag) + the IP header + our TCP header: any payload of
	 * the SYN goes (the cookie acknowledges only the SYN) */
	delta = (int)(l4 + n) - (int)bpf_xdp_get_buff_len(ctx);
	/* the helper invalidates the caller's packet pointers even when it fails: the SYN goes
	 * to the stack from here (its header was checked in syncookie_xdp()) */
	if (delta && bpf_xdp_adjust_tail(ctx, delta) < 0)
		return redirect(ctx, HXS_XDP_TCP_STEERED, m);
	/* from here on the SYN is gone: a failure drops the frame (the peer retransmits) */
	if (bpf_xdp_store_bytes(ctx, l4, out, n) < 0)
		goto broken;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		goto broken;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	if (t->v6) {
		ip6 = data + (l3 & 0x1f);
		if ((void *)(ip6 + 1) > end)
			goto broken;
		/* RFC 8200 §3: traffic class 0 (never ECT on a SYN-ACK, RFC 3168 §6.1.1), no
		 * flow label; the TCP checksum already covers the swapped addresses */
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons((__u16)n);
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, t->laddr6, 16);
		__builtin_memcpy(&ip6->daddr, t->raddr6, 16);
		goto send;
	}
	iph = data + (l3 & 0x1f);
	if ((void *)(iph + 1) > end)
		goto broken;
	tmp = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = tmp;
	iph->tos = 0;
	iph->tot_len = bpf_htons((__u16)(20 + n));
	iph->id = 0;
	iph->frag_off = bpf_htons(0x4000);   /* DF, as the kernel's SYN-ACKs (PMTU discovery) */
	iph->ttl = 64;
	iph->check = 0;
	iph->check = sc_ip_csum(iph);
send:
	if (hxs_cfg.flags & HXS_XDP_CFG_F_TX_REDIRECT) {
		/* a constant verdict: the verifier cannot tell bpf_redirect() never fails low */
		if (bpf_redirect(ifindex, 0) != XDP_REDIRECT)
			goto broken;
		count(HXS_XDP_SYN_COOKIES_SENT);
		return XDP_REDIRECT;
	}
	count(HXS_XDP_SYN_COOKIES_SENT);
	return XDP_TX;
broken:
	count(HXS_XDP_DROPPED);
	return XDP_DROP;
}

/* -1: not a cookie matter, steer as usual; else the verdict.
 * A global function (not inlined, not static): the verifier checks it once, on its own, with
 * its arguments as their types say, instead of once for every state the program reaches it
 * in. Inlined, the cookie code (SipHash, the SYN-ACK's option layouts) multiplied the states
 * of the rest: 561k instructions processed and ~10 s of verification at every start of a
 * stack on this 2-core machine (49k and 0.4 s without it), during which the listener did not
 * exist. The pointers are then only known to be NULL or memory of their type's size. */
__attribute__((noinline)) int hxs_syncookie_xdp(struct xdp_md *ctx, const struct hxs_pkt *pkt,
						__u32 bflags, struct hxs_xdp_meta *m)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 l3, l4, zero = 0, fl;
	const struct hxs_cookie_secret *sec;
	struct hxs_sc_tuple t = {};
	struct ipv6hdr *ip6;
	struct tcphdr *th;
	struct iphdr *iph;
	int idx;

	if (!pkt || !m)
		return -1;
	l3 = pkt->vlan ? 18 : 14;
	if (pkt->frag != FRAG_NONE || !HXS_BIND_MSS(bflags))
		return -1;
	if (pkt->v4) {
		iph = data + l3;
		if ((void *)(iph + 1) > end || iph->ihl != 5)
			return -1;
		t.raddr = iph->saddr;
		t.laddr = iph->daddr;
		th = (void *)(iph + 1);
		l4 = l3 + 20;
	} else {
		/* IPv6 without extension headers (a SYN with them goes to the stack) */
		ip6 = data + l3;
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		t.v6 = 1;
		__builtin_memcpy(t.raddr6, &ip6->saddr, 16);
		__builtin_memcpy(t.laddr6, &ip6->daddr, 16);
		th = (void *)(ip6 + 1);
		l4 = l3 + 40;
	}
	if ((void *)(th + 1) > end || th->doff < 5 || th->doff * 4u > pkt->l4_len)
		return -1;
	sec = bpf_map_lookup_elem(&hxs_cookie, &zero);
	if (!sec || !hxs_sc_key_set(sec->key[sec->cur & 1]))
		return -1;
	t.rport = bpf_ntohs(th->source);
	t.lport = bpf_ntohs(th->dest);
	fl = ((__u8 *)th)[13];
	if ((fl & (SC_TH_SYN | SC_TH_ACK | SC_TH_RST | SC_TH_FIN)) == SC_TH_SYN)
		return sc_syn(ctx, l3, l4, &t, bpf_ntohl(th->seq), th->doff, bflags, sec, m);
	if ((fl & (SC_TH_SYN | SC_TH_RST | SC_TH_ACK)) != SC_TH_ACK)
		return -1;
	idx = hxs_sc_check(sec, &t, bpf_ntohl(th->seq) - 1, bpf_ntohl(th->ack_seq) - 1,
			   bpf_ktime_get_ns() / 1000000000);
	if (idx < 0)
		return drop(HXS_XDP_SYN_COOKIES_FAILED);
	count(HXS_XDP_SYN_COOKIES_VALID);
	m->flags |= HXS_META_F_COOKIE;
	return redirect(ctx, HXS_XDP_TCP_STEERED, m);
}

#endif
