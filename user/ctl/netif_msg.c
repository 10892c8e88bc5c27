/* netif_msg.c - building and parsing the rtnetlink messages of netif.c (see netif_msg.h).
 *
 *   hxs_nlmsg__getroute() / __getneigh() / __neigh_use() / __getlink() / __getaddr_dump()
 *     -> hxs_nlmsg__start() -> hxs_nlmsg__put_attr() ...     request in the caller's buffer
 *   hxs_nlmsg__parse_*() -> hxs_nlmsg__fixed()               type and fixed header checked
 *     -> hxs_nlmsg__attr_walk() -> attr_run() -> fn(ctx, rta) each attribute in bounds
 *
 * The builders and walkers here are shared with the IPv6 messages of netif_msg6.c.
 * No allocation; attribute walking checks every length against the message end.
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "netif_msg.h"

struct nlmsghdr *hxs_nlmsg__start(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
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

void hxs_nlmsg__put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

size_t hxs_nlmsg__neigh_req(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
			    const struct ndmsg *ndm, const void *ip, size_t ip_len)
{
	struct nlmsghdr *nlh = hxs_nlmsg__start(buf, type, flags, seq, ndm, sizeof(*ndm));

	hxs_nlmsg__put_attr(nlh, NDA_DST, ip, ip_len);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getroute(void *buf, uint32_t seq, uint32_t dst, int oif)
{
	struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_dst_len = 32 };
	struct nlmsghdr *nlh = hxs_nlmsg__start(buf, RTM_GETROUTE, 0, seq, &rtm, sizeof(rtm));

	hxs_nlmsg__put_attr(nlh, RTA_DST, &dst, 4);
	if (oif)
		hxs_nlmsg__put_attr(nlh, RTA_OIF, &oif, 4);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getneigh(void *buf, uint32_t seq, int ifindex, uint32_t ip)
{
	struct ndmsg ndm = { .ndm_family = AF_INET, .ndm_ifindex = ifindex };

	return hxs_nlmsg__neigh_req(buf, seq, RTM_GETNEIGH, 0, &ndm, &ip, 4);
}

size_t hxs_nlmsg__neigh_use(void *buf, uint32_t seq, int ifindex, uint32_t ip)
{
	struct ndmsg ndm = {
		.ndm_family = AF_INET,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_NONE,
		.ndm_flags = NTF_USE,
	};

	return hxs_nlmsg__neigh_req(buf, seq, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, &ndm, &ip, 4);
}

size_t hxs_nlmsg__getlink(void *buf, uint32_t seq, int ifindex, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nlmsghdr *nlh = hxs_nlmsg__start(buf, RTM_GETLINK, 0, seq, &ifi, sizeof(ifi));

	if (!ifindex && name) {
		char n[IF_NAMESIZE] = { 0 };
		strncpy(n, name, IF_NAMESIZE - 1);
		hxs_nlmsg__put_attr(nlh, IFLA_IFNAME, n, strlen(n) + 1);
	}
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getaddr_dump(void *buf, uint32_t seq)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };

	return hxs_nlmsg__start(buf, RTM_GETADDR, NLM_F_DUMP, seq, &ifa, sizeof(ifa))->nlmsg_len;
}

/* Calls fn(ctx, rta) for each attribute in [p, end); -EINVAL at the first one that does not
 * fit (those before it were passed on). */
static int attr_run(const char *p, const char *end,
		    void (*fn)(void *ctx, const struct rtattr *rta), void *ctx)
{
	while (p + sizeof(struct rtattr) <= end) {
		const struct rtattr *rta = (const struct rtattr *)p;
		if (rta->rta_len < sizeof(*rta) || p + rta->rta_len > end)
			return -EINVAL;
		fn(ctx, rta);
		p += RTA_ALIGN(rta->rta_len);
	}
	return 0;
}

const void *hxs_nlmsg__fixed(const struct nlmsghdr *nlh, uint16_t new_type, uint16_t del_type,
			     size_t fam_len)
{
	if ((nlh->nlmsg_type != new_type && nlh->nlmsg_type != del_type) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(fam_len))
		return NULL;
	return NLMSG_DATA(nlh);
}

int hxs_nlmsg__attr_walk(const struct nlmsghdr *nlh, size_t fam_len,
			 void (*fn)(void *ctx, const struct rtattr *rta), void *ctx)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(fam_len))
		return -EINVAL;
	return attr_run((const char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(fam_len),
			(const char *)nlh + nlh->nlmsg_len, fn, ctx);
}

void hxs_nlmsg__nested_walk(const struct rtattr *rta,
			    void (*fn)(void *ctx, const struct rtattr *rta), void *ctx)
{
	attr_run(RTA_DATA(rta), (const char *)rta + rta->rta_len, fn, ctx);
}

int hxs_nlmsg__rta_u32(const struct rtattr *rta, uint32_t *v)
{
	if (RTA_PAYLOAD(rta) < 4)
		return 0;
	memcpy(v, RTA_DATA(rta), 4);
	return 1;
}

void hxs_nlmsg__rta_mac(const struct rtattr *rta, uint8_t mac[6], uint8_t *has_mac)
{
	if (RTA_PAYLOAD(rta) == 6) {
		memcpy(mac, RTA_DATA(rta), 6);
		*has_mac = 1;
	}
}

/* RTA_METRICS nests one attribute per RTAX_* metric, each a u32. */
static void route_metric(void *ctx, const struct rtattr *m)
{
	struct hxs_nl_route *r = ctx;

	if (m->rta_type == RTAX_MTU)
		hxs_nlmsg__rta_u32(m, &r->mtu);
}

static void route_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_route *r = ctx;
	uint32_t v;

	if (rta->rta_type == RTA_METRICS) {
		hxs_nlmsg__nested_walk(rta, route_metric, r);
		return;
	}
	if (rta->rta_type == RTA_CACHEINFO) {
		struct rta_cacheinfo ci;
		if (RTA_PAYLOAD(rta) >= sizeof(ci)) {
			memcpy(&ci, RTA_DATA(rta), sizeof(ci));
			r->expires = ci.rta_expires;
		}
		return;
	}
	if (!hxs_nlmsg__rta_u32(rta, &v))
		return;
	switch (rta->rta_type) {
	case RTA_DST:     r->dst = v; break;
	case RTA_GATEWAY: r->gateway = v; break;
	case RTA_PREFSRC: r->prefsrc = v; break;
	case RTA_OIF:     r->oif = (int)v; break;
	}
}

int hxs_nlmsg__parse_route(const struct nlmsghdr *nlh, struct hxs_nl_route *r)
{
	const struct rtmsg *rtm = hxs_nlmsg__fixed(nlh, RTM_NEWROUTE, RTM_DELROUTE, sizeof(*rtm));

	memset(r, 0, sizeof(*r));
	if (!rtm || rtm->rtm_family != AF_INET)
		return -EINVAL;
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	r->cached = !!(rtm->rtm_flags & RTM_F_CLONED);
	return hxs_nlmsg__attr_walk(nlh, sizeof(*rtm), route_attr, r);
}

static void neigh_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_neigh *n = ctx;

	if (rta->rta_type == NDA_DST)
		hxs_nlmsg__rta_u32(rta, &n->ip);
	else if (rta->rta_type == NDA_LLADDR)
		hxs_nlmsg__rta_mac(rta, n->mac, &n->has_mac);
}

int hxs_nlmsg__parse_neigh(const struct nlmsghdr *nlh, struct hxs_nl_neigh *n)
{
	const struct ndmsg *ndm = hxs_nlmsg__fixed(nlh, RTM_NEWNEIGH, RTM_DELNEIGH, sizeof(*ndm));

	memset(n, 0, sizeof(*n));
	if (!ndm || ndm->ndm_family != AF_INET)
		return -EINVAL;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	n->flags = ndm->ndm_flags;
	return hxs_nlmsg__attr_walk(nlh, sizeof(*ndm), neigh_attr, n);
}

struct addr_ctx {
	struct hxs_nl_addr *a;
	uint32_t local, address;
};

static void addr_attr(void *ctx, const struct rtattr *rta)
{
	struct addr_ctx *c = ctx;

	if (rta->rta_type == IFA_LOCAL)
		hxs_nlmsg__rta_u32(rta, &c->local);
	else if (rta->rta_type == IFA_ADDRESS)
		hxs_nlmsg__rta_u32(rta, &c->address);
}

int hxs_nlmsg__parse_addr(const struct nlmsghdr *nlh, struct hxs_nl_addr *a)
{
	const struct ifaddrmsg *ifa = hxs_nlmsg__fixed(nlh, RTM_NEWADDR, RTM_DELADDR, sizeof(*ifa));
	struct addr_ctx c = { .a = a };
	int err;

	memset(a, 0, sizeof(*a));
	if (!ifa || ifa->ifa_family != AF_INET)
		return -EINVAL;
	a->ifindex = (int)ifa->ifa_index;
	a->prefix_len = ifa->ifa_prefixlen;
	err = hxs_nlmsg__attr_walk(nlh, sizeof(*ifa), addr_attr, &c);
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on a
	 * point-to-point link and equal to IFA_LOCAL otherwise. */
	a->addr = c.local ? c.local : c.address;
	return err;
}

static void link_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_link *l = ctx;

	switch (rta->rta_type) {
	case IFLA_MTU:
		hxs_nlmsg__rta_u32(rta, &l->mtu);
		break;
	case IFLA_ADDRESS:
		hxs_nlmsg__rta_mac(rta, l->mac, &l->has_mac);
		break;
	case IFLA_IFNAME: {
		size_t n = RTA_PAYLOAD(rta);
		if (n >= sizeof(l->name))
			n = sizeof(l->name) - 1;
		memcpy(l->name, RTA_DATA(rta), n);
		l->name[n] = 0;
		break;
	}
	}
}

int hxs_nlmsg__parse_link(const struct nlmsghdr *nlh, struct hxs_nl_link *l)
{
	const struct ifinfomsg *ifi = hxs_nlmsg__fixed(nlh, RTM_NEWLINK, RTM_DELLINK, sizeof(*ifi));

	memset(l, 0, sizeof(*l));
	if (!ifi)
		return -EINVAL;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	return hxs_nlmsg__attr_walk(nlh, sizeof(*ifi), link_attr, l);
}
