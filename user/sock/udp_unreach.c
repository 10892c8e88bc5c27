/* udp_unreach.c - ICMP port unreachable for a UDP datagram no socket takes (RFC 1122
 * §4.1.3.1: "If a datagram arrives addressed to a UDP port for which there is no pending
 * LISTEN call, UDP SHOULD send an ICMP Port Unreachable message"), rate limited as the
 * kernel's icmp_send().
 *
 * udp_input() (no socket) -> hxs_udp__port_unreach() -> global bucket (icmp_global_allow)
 *     -> per-destination bucket (icmpv4_xrlim_allow / inet_peer_xrlim_allow)
 *     -> hxs_ip_tx_alloc(IPPROTO_ICMP) -> type 3 code 3, the offending IP header and the first
 *        8 bytes of its payload (RFC 792), checksum -> hxs_ip_tx_send()
 *
 * Only datagrams that reach hxs can miss: the XDP program gives the kernel every port hxs
 * holds no socket on (the kernel answers those itself), so here it is a port hxs holds whose
 * sockets all refuse the datagram (connected to another peer, bound to another address) -
 * and, on the in-memory link, everything. Never for a broadcast or multicast datagram (those
 * count UdpIgnoredMulti), nor in answer to a source no ICMP may go to. HXS_ICMP_UNREACH=0 in
 * the environment when the stack opens turns it off (as a firewall dropping them would).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sock.h"
#include "net/ip.h"
#include "net/stack.h"

/* the kernel's defaults: net.ipv4.icmp_msgs_per_sec, icmp_msgs_burst, icmp_ratelimit (ms),
 * and XRLIM_BURST_FACTOR (a peer may get 6 at once) */
#define UNREACH_PER_SEC     1000u
#define UNREACH_BURST       50u
#define UNREACH_PEER_US     1000000u
#define UNREACH_PEER_BURST  6u

static int global_allow(struct hxs_socktab *t, uint64_t now)
{
	/* icmp_global_allow(): credit refills at UNREACH_PER_SEC up to UNREACH_BURST */
	uint64_t add = (now - t->icmp_stamp) * UNREACH_PER_SEC / 1000000u;

	if (add) {
		t->icmp_credit = t->icmp_credit + add > UNREACH_BURST ? UNREACH_BURST
								       : (uint32_t)(t->icmp_credit + add);
		t->icmp_stamp = now;
	}
	if (!t->icmp_credit)
		return 0;
	t->icmp_credit--;
	return 1;
}

static int peer_allow(struct hxs_socktab *t, uint32_t daddr, uint64_t now)
{
	/* inet_peer_xrlim_allow(): tokens grow with time up to 6 s, one message costs 1 s. The
	 * peers share HXS_UNREACH_PEERS slots by address hash (the kernel keeps a tree). */
	struct hxs_unreach_peer *p = &t->icmp_peers[(ntohl(daddr) * 2654435761u) >> 26];
	uint64_t tok;

	if (p->addr != daddr || !p->last) {
		p->addr = daddr;
		p->tokens = UNREACH_PEER_US * UNREACH_PEER_BURST;
		p->last = now;
	}
	tok = p->tokens + (now - p->last);
	if (tok > (uint64_t)UNREACH_PEER_US * UNREACH_PEER_BURST)
		tok = (uint64_t)UNREACH_PEER_US * UNREACH_PEER_BURST;
	p->last = now;
	if (tok < UNREACH_PEER_US) {
		p->tokens = tok;
		return 0;
	}
	p->tokens = tok - UNREACH_PEER_US;
	return 1;
}

void hxs_udp__port_unreach(struct hxs_stack *st, const struct hxs_ip_rx *pkt)
{
	struct hxs_socktab *t = st->sockets;
	uint64_t now = hxs_stack__now(st);
	struct hxs_ip_tx tx;
	uint32_t ihl, quote, n;
	uint16_t w;

	/* IPv4 only: no ICMPv6 destination unreachable (RFC 4443 3.1) from hxs yet */
	if (t->icmp_off || !pkt->iph || pkt->v6)
		return;
	ihl = (uint32_t)(pkt->iph[0] & 15) * 4;
	/* icmp_send(): never about a broadcast/multicast, nor to a source that is not one
	 * host (martian sources were dropped by IP already) */
	if (pkt->dst != st->addr || IN_MULTICAST(ntohl(pkt->src)) || pkt->src == INADDR_BROADCAST)
		return;
	if (!peer_allow(t, pkt->src, now) || !global_allow(t, now)) {
		t->icmp_limited++;
		return;
	}
	/* RFC 792: "Internet Header + 64 bits of Original Data Datagram" (the kernel quotes
	 * more, up to 576 bytes in all; RFC 1812 §4.3.2.3 allows it) */
	quote = pkt->l4_len < 8 ? pkt->l4_len : 8;
	n = 8 + ihl + quote;
	if (hxs_ip_tx_alloc(st, &tx, pkt->src, IPPROTO_ICMP, n))
		return;
	tx.l4[0] = 3;           /* destination unreachable */
	tx.l4[1] = 3;           /* port unreachable */
	memset(tx.l4 + 2, 0, 6);
	memcpy(tx.l4 + 8, pkt->iph, ihl);
	memcpy(tx.l4 + 8 + ihl, pkt->l4, quote);
	w = hxs_csum_fold(hxs_csum_add(0, tx.l4, n));
	memcpy(tx.l4 + 2, &w, 2);
	if (!hxs_ip_tx_send(st, &tx))
		t->icmp_sent++;
}
