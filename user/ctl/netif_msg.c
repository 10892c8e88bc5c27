/* netif_msg.c - building and parsing the rtnetlink messages of netif.c (see netif_msg.h).
 *
 *   hxs_nlmsg__getroute() / __getneigh() / __neigh_use() / __getlink() / __getaddr_dump()
 *     -> msg_start() -> msg_put_attr() ...                   request in the caller's buffer
 *   hxs_nlmsg__parse_*() -> attr_walk()                      one reply or notification
 *
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

static struct nlmsghdr *msg_start(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
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

static void msg_put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

size_t hxs_nlmsg__getroute(void *buf, uint32_t seq, uint32_t dst, int oif)
{
	struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_dst_len = 32 };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETROUTE, 0, seq, &rtm, sizeof(rtm));

	msg_put_attr(nlh, RTA_DST, &dst, 4);
	if (oif)
		msg_put_attr(nlh, RTA_OIF, &oif, 4);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getneigh(void *buf, uint32_t seq, int ifindex, uint32_t ip)
{
	struct ndmsg ndm = { .ndm_family = AF_INET, .ndm_ifindex = ifindex };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETNEIGH, 0, seq, &ndm, sizeof(ndm));

	msg_put_attr(nlh, NDA_DST, &ip, 4);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__neigh_use(void *buf, uint32_t seq, int ifindex, uint32_t ip)
{
	struct ndmsg ndm = {
		.ndm_family = AF_INET,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_NONE,
		.ndm_flags = NTF_USE,
	};
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, seq,
					 &ndm, sizeof(ndm));

	msg_put_attr(nlh, NDA_DST, &ip, 4);
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getlink(void *buf, uint32_t seq, int ifindex, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, 0, seq, &ifi, sizeof(ifi));

	if (!ifindex && name) {
		char n[IF_NAMESIZE] = { 0 };
		strncpy(n, name, IF_NAMESIZE - 1);
		msg_put_attr(nlh, IFLA_IFNAME, n, strlen(n) + 1);
	}
	return nlh->nlmsg_len;
}

size_t hxs_nlmsg__getaddr_dump(void *buf, uint32_t seq)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };

	return msg_start(buf, RTM_GETADDR, NLM_F_DUMP, seq, &ifa, sizeof(ifa))->nlmsg_len;
}

/* Calls fn(ctx, rta) for each attribute after the fixed header of size fam_len. */
static int attr_walk(const struct nlmsghdr *nlh, size_t fam_len,
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

static int rta_u32(const struct rtattr *rta, uint32_t *v)
{
	if (RTA_PAYLOAD(rta) < 4)
		return 0;
	memcpy(v, RTA_DATA(rta), 4);
	return 1;
}

/* RTA_METRICS nests one attribute per RTAX_* metric, each a u32. */
static void route_metrics(struct hxs_nl_route *r, const struct rtattr *rta)
{
	const char *p = RTA_DATA(rta), *end = (const char *)rta + rta->rta_len;
	while (p + sizeof(struct rtattr) <= end) {
		const struct rtattr *m = (const struct rtattr *)p;
		if (m->rta_len < sizeof(*m) || p + m->rta_len > end)
			return;
		if (m->rta_type == RTAX_MTU)
			rta_u32(m, &r->mtu);
		p += RTA_ALIGN(m->rta_len);
	}
}

static void route_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_route *r = ctx;
	uint32_t v;

	if (rta->rta_type == RTA_METRICS) {
		route_metrics(r, rta);
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
	if (!rta_u32(rta, &v))
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
	const struct rtmsg *rtm = NLMSG_DATA(nlh);

	memset(r, 0, sizeof(*r));
	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) || rtm->rtm_family != AF_INET)
		return -EINVAL;
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	r->cached = !!(rtm->rtm_flags & RTM_F_CLONED);
	return attr_walk(nlh, sizeof(*rtm), route_attr, r);
}

static void neigh_attr(void *ctx, const struct rtattr *rta)
{
	struct hxs_nl_neigh *n = ctx;

	if (rta->rta_type == NDA_DST)
		rta_u32(rta, &n->ip);
	else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
		memcpy(n->mac, RTA_DATA(rta), 6);
		n->has_mac = 1;
	}
}

int hxs_nlmsg__parse_neigh(const struct nlmsghdr *nlh, struct hxs_nl_neigh *n)
{
	const struct ndmsg *ndm = NLMSG_DATA(nlh);

	memset(n, 0, sizeof(*n));
	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)) || ndm->ndm_family != AF_INET)
		return -EINVAL;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	n->flags = ndm->ndm_flags;
	return attr_walk(nlh, sizeof(*ndm), neigh_attr, n);
}

struct addr_ctx {
	struct hxs_nl_addr *a;
	uint32_t local, address;
};

static void addr_attr(void *ctx, const struct rtattr *rta)
{
	struct addr_ctx *c = ctx;

	if (rta->rta_type == IFA_LOCAL)
		rta_u32(rta, &c->local);
	else if (rta->rta_type == IFA_ADDRESS)
		rta_u32(rta, &c->address);
}

int hxs_nlmsg__parse_addr(const struct nlmsghdr *nlh, struct hxs_nl_addr *a)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	struct addr_ctx c = { .a = a };
	int err;

	memset(a, 0, sizeof(*a));
	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) || ifa->ifa_family != AF_INET)
		return -EINVAL;
	a->ifindex = (int)ifa->ifa_index;
	a->prefix_len = ifa->ifa_prefixlen;
	err = attr_walk(nlh, sizeof(*ifa), addr_attr, &c);
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
		rta_u32(rta, &l->mtu);
		break;
	case IFLA_ADDRESS:
		if (RTA_PAYLOAD(rta) == 6) {
			memcpy(l->mac, RTA_DATA(rta), 6);
			l->has_mac = 1;
		}
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
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);

	memset(l, 0, sizeof(*l));
	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EINVAL;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	return attr_walk(nlh, sizeof(*ifi), link_attr, l);
}
