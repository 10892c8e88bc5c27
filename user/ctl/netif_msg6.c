/* netif_msg6.c - the IPv6 rtnetlink messages of netif.c (see netif_msg.h): the same requests
 * and replies as netif_msg.c's with 16-byte addresses (AF_INET6), built and walked with
 * netif_msg.c's shared helpers.
 *
 *   hxs_nlmsg__getroute6() / __getneigh6() / __neigh_use6() / __getaddr6_dump()
 *     -> hxs_nlmsg__start() / __neigh_req() -> hxs_nlmsg__put_attr()
 *   hxs_nlmsg__parse_route6() / __parse_neigh6() / __parse_addr6()
 *     -> hxs_nlmsg__fixed() -> hxs_nlmsg__attr_walk() -> *6_attr()
 *
 * No allocation; attribute walking checks every length against the message end.
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "netif_msg.h"

size_t hxs_nlmsg__getroute6(void *buf, uint32_t seq, const uint8_t dst[16])
{
	struct rtmsg rtm = { .rtm_family = AF_INET6, .rtm_dst_len = 128 };
	struct nlmsghdr *nlh = hxs_nlmsg__start(buf, RTM_GETROUTE, 0, seq, &rtm, sizeof(rtm));

	hxs_nlmsg__put_attr(nlh, RTA_DST, dst, 16);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getneigh6(void *buf, uint32_t seq, int ifindex, const uint8_t ip[16])
{
	struct ndmsg ndm = { .ndm_family = AF_INET6, .ndm_ifindex = ifindex };

	return hxs_nlmsg__neigh_req(buf, seq, RTM_GETNEIGH, 0, &ndm, ip, 16);
}

size_t hxs_nlmsg__neigh_use6(void *buf, uint32_t seq, int ifindex, const uint8_t ip[16])
{
	struct ndmsg ndm = {
		.ndm_family = AF_INET6,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_NONE,
		.ndm_flags = NTF_USE,
	};

	return hxs_nlmsg__neigh_req(buf, seq, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, &ndm, ip, 16);
}

size_t hxs_nlmsg__getaddr6_dump(void *buf, uint32_t seq)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET6 };

	return hxs_nlmsg__start(buf, RTM_GETADDR, NLM_F_DUMP, seq, &ifa, sizeof(ifa))->nlmsg_len;
}

static void get16(const struct rtattr *rta, uint8_t a[16])
{
	if (RTA_PAYLOAD(rta) == 16)
		memcpy(a, RTA_DATA(rta), 16);
}

/* RTA_METRICS nests one attribute per RTAX_* metric, each a u32. */
static void route6_metric(void *ctx, const struct rtattr *m)
{
	struct hxs_nl_route6 *r = ctx;

	if (m->rta_type == RTAX_MTU)
		hxs_nlmsg__rta_u32(m, &r->mtu);
	else if (m->rta_type == RTAX_HOPLIMIT)
		hxs_nlmsg__rta_u32(m, &r->hop_limit);
}

static void route6_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_route6 *r = ctx;

	switch (rta->rta_type) {
	case RTA_GATEWAY: get16(rta, r->gateway); break;
	case RTA_PREFSRC: get16(rta, r->prefsrc); break;
	case RTA_OIF: {
		uint32_t v = 0;
		hxs_nlmsg__rta_u32(rta, &v);
		r->oif = (int)v;
		break;
	}
	case RTA_METRICS: hxs_nlmsg__nested_walk(rta, route6_metric, r); break;
	}
}

int hxs_nlmsg__parse_route6(const struct nlmsghdr *nlh, struct hxs_nl_route6 *r)
{
	const struct rtmsg *rtm = hxs_nlmsg__fixed(nlh, RTM_NEWROUTE, RTM_DELROUTE, sizeof(*rtm));

	memset(r, 0, sizeof(*r));
	if (!rtm || rtm->rtm_family != AF_INET6)
		return -EINVAL;
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	return hxs_nlmsg__attr_walk(nlh, sizeof(*rtm), route6_attr, r);
}

static void neigh6_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_neigh6 *n = ctx;

	if (rta->rta_type == NDA_DST)
		get16(rta, n->ip);
	else if (rta->rta_type == NDA_LLADDR)
		hxs_nlmsg__rta_mac(rta, n->mac, &n->has_mac);
}

int hxs_nlmsg__parse_neigh6(const struct nlmsghdr *nlh, struct hxs_nl_neigh6 *n)
{
	const struct ndmsg *ndm = hxs_nlmsg__fixed(nlh, RTM_NEWNEIGH, RTM_DELNEIGH, sizeof(*ndm));

	memset(n, 0, sizeof(*n));
	if (!ndm || ndm->ndm_family != AF_INET6)
		return -EINVAL;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	n->flags = ndm->ndm_flags;
	return hxs_nlmsg__attr_walk(nlh, sizeof(*ndm), neigh6_attr, n);
}

static void addr6_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_addr6 *a = ctx;

	if (rta->rta_type == IFA_ADDRESS || (rta->rta_type == IFA_LOCAL && !a->has_local)) {
		get16(rta, a->addr);
		a->has_local |= rta->rta_type == IFA_LOCAL;
	} else if (rta->rta_type == IFA_FLAGS) {
		hxs_nlmsg__rta_u32(rta, &a->flags);   /* the full 32 bits; ifa_flags holds the low 8 */
	}
}

int hxs_nlmsg__parse_addr6(const struct nlmsghdr *nlh, struct hxs_nl_addr6 *a)
{
	const struct ifaddrmsg *ifa = hxs_nlmsg__fixed(nlh, RTM_NEWADDR, RTM_DELADDR, sizeof(*ifa));

	memset(a, 0, sizeof(*a));
	if (!ifa || ifa->ifa_family != AF_INET6)
		return -EINVAL;
	a->ifindex = (int)ifa->ifa_index;
	a->prefix_len = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	return hxs_nlmsg__attr_walk(nlh, sizeof(*ifa), addr6_attr, a);
}
