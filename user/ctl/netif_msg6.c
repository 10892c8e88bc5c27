/* netif_msg6.c - the IPv6 rtnetlink messages of netif.c (see netif_msg.h): the same requests
 * and replies as netif_msg.c's with 16-byte addresses (AF_INET6).
 *
 *   hxs_nlmsg__getroute6() / __getneigh6() / __neigh_use6() / __getaddr6_dump()
 *   hxs_nlmsg__parse_route6() / __parse_neigh6() / __parse_addr6() -> attr_walk6()
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

static struct nlmsghdr *msg_start6(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
				   const void *fam, size_t fam_len)
{
	struct nlmsghdr *nlh = buf;

	memset(buf, 0, HXS_NLMSG_BUF);
	nlh->nlmsg_len = NLMSG_LENGTH(fam_len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(nlh), fam, fam_len);
	return nlh;
}

static void put16(struct nlmsghdr *nlh, uint16_t type, const uint8_t a[16])
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(16);
	memcpy(RTA_DATA(rta), a, 16);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

size_t hxs_nlmsg__getroute6(void *buf, uint32_t seq, const uint8_t dst[16])
{
	struct rtmsg rtm = { .rtm_family = AF_INET6, .rtm_dst_len = 128 };
	struct nlmsghdr *nlh = msg_start6(buf, RTM_GETROUTE, 0, seq, &rtm, sizeof(rtm));

	put16(nlh, RTA_DST, dst);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getneigh6(void *buf, uint32_t seq, int ifindex, const uint8_t ip[16])
{
	struct ndmsg ndm = { .ndm_family = AF_INET6, .ndm_ifindex = ifindex };
	struct nlmsghdr *nlh = msg_start6(buf, RTM_GETNEIGH, 0, seq, &ndm, sizeof(ndm));

	put16(nlh, NDA_DST, ip);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__neigh_use6(void *buf, uint32_t seq, int ifindex, const uint8_t ip[16])
{
	struct ndmsg ndm = {
		.ndm_family = AF_INET6,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_NONE,
		.ndm_flags = NTF_USE,
	};
	struct nlmsghdr *nlh = msg_start6(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, seq,
					  &ndm, sizeof(ndm));

	put16(nlh, NDA_DST, ip);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getaddr6_dump(void *buf, uint32_t seq)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET6 };

	return msg_start6(buf, RTM_GETADDR, NLM_F_DUMP, seq, &ifa, sizeof(ifa))->nlmsg_len;
}

static int attr_walk6(const struct nlmsghdr *nlh, size_t fam_len,
		      void (*fn)(void *ctx, const struct rtattr *rta), void *ctx)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(fam_len))
		return -EINVAL;
	const char *p = (const char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(fam_len);
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	while (p + sizeof(struct rtattr) <= end) {
		const struct rtattr *rta = (const struct rtattr *)p;
		if (rta->rta_len < sizeof(*rta) || p + rta->rta_len > end)
			return -EINVAL;
		fn(ctx, rta);
		p += RTA_ALIGN(rta->rta_len);
	}
	return 0;
}

static void get16(const struct rtattr *rta, uint8_t a[16])
{
	if (RTA_PAYLOAD(rta) == 16)
		memcpy(a, RTA_DATA(rta), 16);
}

static void get32(const struct rtattr *rta, uint32_t *v)
{
	if (RTA_PAYLOAD(rta) >= 4)
		memcpy(v, RTA_DATA(rta), 4);
}

static void route6_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_route6 *r = ctx;

	switch (rta->rta_type) {
	case RTA_GATEWAY: get16(rta, r->gateway); break;
	case RTA_PREFSRC: get16(rta, r->prefsrc); break;
	case RTA_OIF: {
		uint32_t v = 0;
		get32(rta, &v);
		r->oif = (int)v;
		break;
	}
	case RTA_METRICS: {
		/* one attribute per RTAX_* metric, each a u32 */
		const char *p = RTA_DATA(rta), *end = (const char *)rta + rta->rta_len;
		while (p + sizeof(struct rtattr) <= end) {
			const struct rtattr *m = (const struct rtattr *)p;
			if (m->rta_len < sizeof(*m) || p + m->rta_len > end)
				return;
			if (m->rta_type == RTAX_MTU)
				get32(m, &r->mtu);
			else if (m->rta_type == RTAX_HOPLIMIT)
				get32(m, &r->hop_limit);
			p += RTA_ALIGN(m->rta_len);
		}
		break;
	}
	}
}

int hxs_nlmsg__parse_route6(const struct nlmsghdr *nlh, struct hxs_nl_route6 *r)
{
	const struct rtmsg *rtm = NLMSG_DATA(nlh);

	memset(r, 0, sizeof(*r));
	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) || rtm->rtm_family != AF_INET6)
		return -EINVAL;
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	return attr_walk6(nlh, sizeof(*rtm), route6_attr, r);
}

static void neigh6_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_neigh6 *n = ctx;

	if (rta->rta_type == NDA_DST)
		get16(rta, n->ip);
	else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
		memcpy(n->mac, RTA_DATA(rta), 6);
		n->has_mac = 1;
	}
}

int hxs_nlmsg__parse_neigh6(const struct nlmsghdr *nlh, struct hxs_nl_neigh6 *n)
{
	const struct ndmsg *ndm = NLMSG_DATA(nlh);

	memset(n, 0, sizeof(*n));
	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)) || ndm->ndm_family != AF_INET6)
		return -EINVAL;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	n->flags = ndm->ndm_flags;
	return attr_walk6(nlh, sizeof(*ndm), neigh6_attr, n);
}

static void addr6_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_addr6 *a = ctx;

	if (rta->rta_type == IFA_ADDRESS || (rta->rta_type == IFA_LOCAL && !a->has_local)) {
		get16(rta, a->addr);
		a->has_local |= rta->rta_type == IFA_LOCAL;
	} else if (rta->rta_type == IFA_FLAGS) {
		get32(rta, &a->flags);     /* the full 32 bits; ifa_flags holds the low 8 */
	}
}

int hxs_nlmsg__parse_addr6(const struct nlmsghdr *nlh, struct hxs_nl_addr6 *a)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);

	memset(a, 0, sizeof(*a));
	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) || ifa->ifa_family != AF_INET6)
		return -EINVAL;
	a->ifindex = (int)ifa->ifa_index;
	a->prefix_len = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	return attr_walk6(nlh, sizeof(*ifa), addr6_attr, a);
}
