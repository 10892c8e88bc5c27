/* eth.c - Ethernet in (ip.c writes the Ethernet header of what it sends).
 *
 * hxs_eth_input() -> hxs_ip_input()   IPv4 frames addressed to our MAC (or broadcast)
 *                 -> hxs_ip6_input()  IPv6 frames addressed to our MAC (ip6.c)
 * Everything else (ARP, ...) is counted and ignored: the XDP program passes those to
 * the kernel, so one reaching us came through a test or a misconfigured program.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <string.h>

#include "ip.h"
#include "stack.h"

static const uint8_t eth_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void hxs_eth_input(struct hxs_stack *st, const struct hxs_frame *f)
{
	const uint8_t *p = f->data;
	uint16_t type;

	st->mib.v[HXS_MIB_ETH_IN_FRAMES]++;
	if (f->len < HXS_ETH_HLEN)
		goto discard;
	/* ours, broadcast, or an IPv4 multicast address (01:00:5e, RFC 1112 §6.4): the XDP
	 * program gives hxs a group's frames only for a port hxs holds, and the kernel's
	 * membership (IP_ADD_MEMBERSHIP through a kernel socket) lets the NIC take them */
	if (memcmp(p, st->mac, 6) && memcmp(p, eth_bcast, 6) &&
	    !(p[0] == 0x01 && p[1] == 0x00 && p[2] == 0x5e && !(p[3] & 0x80)))
		goto discard;
	memcpy(&type, p + 12, 2);
	if (type == htons(ETH_P_IP)) {
		hxs_ip_input(st, f, p + HXS_ETH_HLEN, f->len - HXS_ETH_HLEN);
		return;
	}
	/* IPv6 has no broadcast (RFC 8200); what is multicast is the kernel's (ND, MLD) */
	if (type == htons(ETH_P_IPV6) && !memcmp(p, st->mac, 6)) {
		hxs_ip6_input(st, f, p + HXS_ETH_HLEN, f->len - HXS_ETH_HLEN);
		return;
	}
discard:
	st->mib.v[HXS_MIB_ETH_IN_DISCARDS]++;
}
