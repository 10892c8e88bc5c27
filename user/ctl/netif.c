/* netif.c - the kernel's control plane read over rtnetlink: interface, IPv4 addresses,
 * routes (the kernel's FIB) and neighbours (the kernel's ARP table); IPv6's are netif6.c's,
 * fed from here; the netlink transport (nl_request) is netif_nl.c's. See netif.h.
 *
 *   hxs_netif__open() -> nl_request(RTM_GETLINK) -> nl_request(RTM_GETADDR dump)
 *                     -> event socket joined to RTNLGRP_NEIGH/LINK/IPV4_IFADDR/IPV4_ROUTE/
 *                        IPV6_IFADDR/IPV6_ROUTE -> hxs_netif6__open() (IPv6 addresses)
 *   hxs_netif__route() -> route cache (ROUTE_TTL_NS) -> nl_request(RTM_GETROUTE)
 *   hxs_neigh__resolve() -> neigh cache -> nl_request(RTM_GETNEIGH)
 *                        -> nl_request(RTM_NEWNEIGH, NTF_USE): the kernel runs
 *                           neigh_event_send() and sends the ARP requests itself
 *   hxs_netif__poll() -> recv(MSG_DONTWAIT) -> on_event() -> neigh_event() -> cb()
 *                                                        \-> hxs_netif6__on_msg() (AF_INET6)
 *                     -> (ENOBUFS: notifications lost) resync()
 *
 * Two netlink sockets: requests and their replies on one, notifications on the other
 * (nl_fd), so a reply never has to be told apart from an unrelated notification.
 *
 * Hybrid caveat: traffic hxs sends never confirms the kernel's entries, so they go STALE and
 * stay so. A STALE entry is still used (RFC 4861 7.3.3 semantics, as the kernel does), and at
 * most every NEIGH_RECONFIRM_NS hxs pokes it with NTF_USE so the kernel re-probes it
 * (STALE -> DELAY -> PROBE) and reports a changed or vanished neighbour.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netif.h"
#include "netif_msg.h"
#include "netif_priv.h"

/* Time since t, 0 when t is later: a caller's cached clock may lag a fresh read. */
static uint64_t since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static struct netif_priv *priv_of(const struct hxs_netif *nif) { return nif->priv; }

/* --- interface and addresses ------------------------------------------------------------ */

static void addr_set(struct hxs_netif *nif, const struct hxs_nl_addr *a, int add)
{
	struct netif_priv *p = priv_of(nif);
	int i;

	if (a->ifindex != nif->ifindex || !a->addr)
		return;
	for (i = 0; i < p->naddrs && p->addrs[i] != a->addr; i++)
		;
	if (add && i == p->naddrs && p->naddrs < MAX_ADDRS) {
		p->addrs[p->naddrs] = a->addr;
		p->prefixes[p->naddrs++] = a->prefix_len;
	} else if (!add && i < p->naddrs) {
		memmove(&p->addrs[i], &p->addrs[i + 1], (size_t)(p->naddrs - i - 1) * 4);
		memmove(&p->prefixes[i], &p->prefixes[i + 1], (size_t)(p->naddrs - i - 1));
		p->naddrs--;
	}
	nif->addr = p->naddrs ? p->addrs[0] : 0;
	nif->prefix_len = p->naddrs ? p->prefixes[0] : 0;
}

static void on_addr(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	struct hxs_nl_addr a;

	if (!hxs_nlmsg__parse_addr(nlh, &a))
		addr_set(nif, &a, nlh->nlmsg_type == RTM_NEWADDR);
}

static void on_link(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	struct hxs_nl_link l;

	if (hxs_nlmsg__parse_link(nlh, &l) || nlh->nlmsg_type != RTM_NEWLINK)
		return;
	if (nif->ifindex && l.ifindex != nif->ifindex)
		return;
	nif->ifindex = l.ifindex;
	if (l.mtu)
		nif->mtu = l.mtu;
	if (l.has_mac)
		memcpy(nif->mac, l.mac, 6);
	if (l.name[0])
		snprintf(nif->name, sizeof(nif->name), "%s", l.name);
}

int hxs_netif__is_local(const struct hxs_netif *nif, uint32_t ip)
{
	const struct netif_priv *p = priv_of(nif);

	for (int i = 0; i < p->naddrs; i++)
		if (p->addrs[i] == ip)
			return 1;
	return 0;
}

/* --- routes ----------------------------------------------------------------------------- */

static void route_flush(struct netif_priv *p) { memset(p->route, 0, sizeof(p->route)); }

struct route_ctx {
	struct hxs_nl_route r;
	int got;
};

static void on_route_reply(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	struct route_ctx *c = ctx;

	if (!hxs_nlmsg__parse_route(nlh, &c->r))
		c->got = 1;
}

int hxs_netif__route_mtu(struct hxs_netif *nif, uint32_t dst, uint32_t *mtu)
{
	struct netif_priv *p = priv_of(nif);
	uint8_t req[HXS_NLMSG_BUF];
	struct route_ctx c = { 0 };

	/* ip_route_output_key() finds the exception (fnhe) of the route, and rt_fill_info()
	 * reports its MTU as RTAX_MTU with an RTA_CACHEINFO expiry */
	size_t len = hxs_nlmsg__getroute(req, ++p->seq, dst, 0);
	int err = hxs_netif__nl_request(nif, req, len, on_route_reply, &c);
	if (err)
		return err;
	/* a route's own "mtu" metric counts too: the kernel's TCP takes dst_mtu() either way */
	*mtu = c.got ? c.r.mtu : 0;
	return 0;
}

int hxs_netif__route(struct hxs_netif *nif, uint32_t dst, uint32_t *nexthop)
{
	return hxs_netif__route_at(nif, dst, nexthop, 0);
}

int hxs_netif__route_at(struct hxs_netif *nif, uint32_t dst, uint32_t *nexthop, uint64_t now)
{
	struct netif_priv *p = priv_of(nif);
	struct route_ent *e = &p->route[(dst * 2654435761u) >> 26];   /* 64 slots */
	uint8_t req[HXS_NLMSG_BUF];
	struct route_ctx c = { 0 };
	int err;

	if (!now)
		now = hxs_netif__now();
	if (e->expires > now && e->dst == dst) {
		*nexthop = e->nexthop;
		return e->err;
	}
	/* No RTA_OIF: with an output interface given and no route, the kernel assumes the
	 * destination is on link (ip_route_output_key_hash_rcu()) and would answer for any
	 * address. Ask the FIB as a socket would and check where the route goes instead. */
	size_t len = hxs_nlmsg__getroute(req, ++p->seq, dst, 0);
	err = hxs_netif__nl_request(nif, req, len, on_route_reply, &c);
	err = hxs_netif__route_err(nif, err, c.got, c.r.type, c.r.oif);
	e->dst = dst;
	e->nexthop = err ? 0 : (c.r.gateway ? c.r.gateway : dst);
	e->err = err;
	e->expires = now + ROUTE_TTL_NS;
	*nexthop = e->nexthop;
	return err;
}

/* --- neighbours ------------------------------------------------------------------------- */

static struct neigh_ent *neigh_find(struct netif_priv *p, uint32_t ip, int create)
{
	unsigned h = (ip * 2654435761u) >> 23;   /* 512 slots */

	for (unsigned i = 0; i < NEIGH_SLOTS; i++) {
		struct neigh_ent *e = &p->neigh[(h + i) & (NEIGH_SLOTS - 1)];
		if (e->state != NC_EMPTY && e->ip == ip)
			return e;
		if (e->state == NC_EMPTY) {
			if (!create)
				return NULL;
			if (p->neigh_used >= NEIGH_SLOTS * 3 / 4) {
				/* Full: forget everything; entries are re-read from the kernel. A
				 * pending entry loses its event but resolve() re-asks after
				 * NEIGH_ASK_NS at worst. */
				memset(p->neigh, 0, sizeof(p->neigh));
				p->neigh_used = 0;
				return neigh_find(p, ip, create);
			}
			p->neigh_used++;
			memset(e, 0, sizeof(*e));
			e->ip = ip;
			e->state = NC_UNKNOWN;
			return e;
		}
	}
	return NULL;
}

static int neigh_ask(struct hxs_netif *nif, struct neigh_ent *e, uint64_t now)
{
	struct netif_priv *p = priv_of(nif);
	uint8_t req[HXS_NLMSG_BUF];
	size_t len = hxs_nlmsg__neigh_use(req, ++p->seq, nif->ifindex, e->ip);

	e->t_asked = now;
	return hxs_netif__nl_request(nif, req, len, NULL, NULL);
}

struct neigh_ctx {
	struct hxs_nl_neigh n;
	int got;
};

static void on_neigh_reply(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	struct neigh_ctx *c = ctx;

	if (!hxs_nlmsg__parse_neigh(nlh, &c->n))
		c->got = 1;
}

/* Reads the kernel's entry for e->ip into c; 0 with c->got == 0 when there is none. */
static int neigh_query(struct hxs_netif *nif, uint32_t ip, struct neigh_ctx *c)
{
	struct netif_priv *p = priv_of(nif);
	uint8_t req[HXS_NLMSG_BUF];
	size_t len = hxs_nlmsg__getneigh(req, ++p->seq, nif->ifindex, ip);
	int err = hxs_netif__nl_request(nif, req, len, on_neigh_reply, c);

	return err == -ENOENT ? 0 : err;
}

static int neigh_valid(const struct hxs_nl_neigh *n)
{
	return hxs_netif__nud_usable(n->state, n->has_mac);
}

/* Applies the kernel's view of a neighbour to the cache; reports transitions to cb. */
static int neigh_event(struct hxs_netif *nif, const struct hxs_nl_neigh *n, int deleted,
		       hxs_neigh_cb cb, void *ctx)
{
	struct netif_priv *p = priv_of(nif);
	struct neigh_ent *e = neigh_find(p, n->ip, 0);
	uint64_t now = hxs_netif__now();

	if (n->ifindex != nif->ifindex)
		return 0;
	if (!deleted && neigh_valid(n)) {
		int news = !e || e->state != NC_VALID || memcmp(e->mac, n->mac, 6);
		int report = e && news && e->state != NC_UNKNOWN;
		if (!e)
			e = neigh_find(p, n->ip, 1);
		if (!e)
			return 0;
		if (news)
			e->t_state = now;
		e->state = NC_VALID;
		e->stale = !!(n->state & NUD_STALE);
		memcpy(e->mac, n->mac, 6);
		if (report && cb)
			cb(ctx, n->ip, HXS_NEIGH_RESOLVED, e->mac);
		return report;
	}
	if (!e)
		return 0;
	if (deleted || (n->state & NUD_FAILED)) {
		/* A deleted entry we waited on will never resolve: the same as FAILED. A deleted
		 * valid one is merely forgotten; the next resolve() asks again. */
		if (deleted && e->state != NC_PENDING) {
			e->state = NC_UNKNOWN;
			return 0;
		}
		if (e->state == NC_FAILED)
			return 0;
		int report = e->state == NC_PENDING || e->state == NC_VALID;
		e->state = NC_FAILED;
		e->t_state = now;
		if (report && cb)
			cb(ctx, n->ip, HXS_NEIGH_FAILED, NULL);
		return report;
	}
	return 0;   /* INCOMPLETE, NONE: resolution under way */
}

int hxs_neigh__resolve(struct hxs_netif *nif, uint32_t ip, uint8_t mac[6])
{
	return hxs_neigh__resolve_at(nif, ip, mac, 0);
}

int hxs_neigh__resolve_at(struct hxs_netif *nif, uint32_t ip, uint8_t mac[6], uint64_t now)
{
	struct netif_priv *p = priv_of(nif);
	struct neigh_ent *e = neigh_find(p, ip, 1);
	struct neigh_ctx c = { 0 };
	int err;

	if (!e)
		return -ENOMEM;
	if (!now)
		now = hxs_netif__now();
	switch (e->state) {
	case NC_VALID:  /* the kernel says REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP */
		if (e->stale && since(now, e->t_asked) > NEIGH_RECONFIRM_NS)
			neigh_ask(nif, e, now);
		memcpy(mac, e->mac, 6);
		return 0;
	case NC_PENDING: /* asked; the answer comes as a notification */
		if (since(now, e->t_asked) < NEIGH_ASK_NS)
			return -EAGAIN;
		break;
	case NC_FAILED: /* the kernel gave up; answer so for a while, then try again */
		if (since(now, e->t_state) < NEIGH_FAILED_NS)
			return -EHOSTUNREACH;
		break;
	default:        /* NC_UNKNOWN: not seen yet */
		break;
	}
	err = neigh_query(nif, ip, &c);
	if (err)
		return err;
	if (c.got && neigh_valid(&c.n)) {
		neigh_event(nif, &c.n, 0, NULL, NULL);
		e = neigh_find(p, ip, 0);
		memcpy(mac, e->mac, 6);
		return 0;
	}
	/* Waited for a whole resolution and the kernel's entry is FAILED: that is the answer. */
	if (e->state == NC_PENDING && c.got && (c.n.state & NUD_FAILED)) {
		e->state = NC_FAILED;
		e->t_state = now;
		return -EHOSTUNREACH;
	}
	if (c.got && (c.n.state & NUD_INCOMPLETE) && e->state != NC_PENDING) {
		e->state = NC_PENDING;
		e->t_asked = now;
		return -EAGAIN;
	}
	err = neigh_ask(nif, e, now);
	if (err)
		return err;
	e->state = NC_PENDING;
	e->t_state = now;
	return -EAGAIN;
}

/* --- notifications ---------------------------------------------------------------------- */

static int on_event(struct hxs_netif *nif, const struct nlmsghdr *nlh, hxs_neigh_cb cb, void *ctx)
{
	struct hxs_nl_neigh n;
	int n6;

	nif->gen++;
	n6 = hxs_netif6__on_msg(nif, nlh);

	if (n6)
		return n6;

	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		if (!hxs_nlmsg__parse_neigh(nlh, &n))
			return neigh_event(nif, &n, nlh->nlmsg_type == RTM_DELNEIGH, cb, ctx);
		return 0;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		on_addr(nif, nlh, NULL);
		route_flush(priv_of(nif));
		return 0;
	case RTM_NEWLINK:
		on_link(nif, nlh, NULL);
		route_flush(priv_of(nif));
		return 0;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		route_flush(priv_of(nif));
		return 0;
	}
	return 0;
}

/* Notifications were lost (socket overrun): drop what may be out of date and settle every
 * pending neighbour from the kernel's table. */
static int resync(struct hxs_netif *nif, hxs_neigh_cb cb, void *ctx)
{
	struct netif_priv *p = priv_of(nif);
	int events = 0;

	nif->gen++;
	route_flush(p);
	for (unsigned i = 0; i < NEIGH_SLOTS; i++) {
		struct neigh_ent *e = &p->neigh[i];
		struct neigh_ctx c = { 0 };
		if (e->state == NC_VALID) {
			e->state = NC_UNKNOWN;
		} else if (e->state == NC_PENDING && !neigh_query(nif, e->ip, &c) && c.got &&
			   (neigh_valid(&c.n) || (c.n.state & NUD_FAILED))) {
			events += neigh_event(nif, &c.n, 0, cb, ctx);
		}
	}
	return events;
}

int hxs_netif__poll(struct hxs_netif *nif, hxs_neigh_cb cb, void *ctx)
{
	struct netif_priv *p = priv_of(nif);
	int events = 0;

	for (;;) {
		ssize_t n = recv(nif->nl_fd, p->rxbuf, sizeof(p->rxbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return events;
			if (errno == ENOBUFS) {
				events += resync(nif, cb, ctx);
				continue;
			}
			return -errno;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)p->rxbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n))
			events += on_event(nif, nlh, cb, ctx);
	}
}

/* --- open / close ----------------------------------------------------------------------- */

int hxs_netif__open(struct hxs_netif **out, const char *ifname)
{
	static const int groups[] = { RTNLGRP_NEIGH, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
				      RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE };
	struct timeval tv = { .tv_sec = 2 };
	struct hxs_netif *nif;
	struct netif_priv *p;
	uint8_t req[HXS_NLMSG_BUF];
	int err;

	if (!ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	nif = calloc(1, sizeof(*nif));
	if (!nif)
		return -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p) {
		err = -ENOMEM;
		goto free_nif;
	}
	nif->priv = p;
	p->seq = (uint32_t)hxs_netif__now();
	/* Subscribe first so no change between the reads below and the first poll is lost. */
	nif->nl_fd = hxs_netif__nl_socket(groups, (int)(sizeof(groups) / sizeof(groups[0])));
	if (nif->nl_fd < 0) {
		err = nif->nl_fd;
		goto free_priv;
	}
	p->req_fd = hxs_netif__nl_socket(NULL, 0);
	if (p->req_fd < 0) {
		err = p->req_fd;
		goto close_ev;
	}
	/* A kernel that never answers must not hang the stack forever. */
	setsockopt(p->req_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	err = hxs_netif__nl_request(nif, req, hxs_nlmsg__getlink(req, ++p->seq, 0, ifname), on_link, NULL);
	if (err)
		goto close_req;
	if (!nif->ifindex) {
		err = -ENODEV;
		goto close_req;
	}
	err = hxs_netif__nl_request(nif, req, hxs_nlmsg__getaddr_dump(req, ++p->seq), on_addr, NULL);
	if (!err)
		err = hxs_netif6__open(nif);
	if (err)
		goto close_req;
	*out = nif;
	return 0;

close_req:
	close(p->req_fd);
close_ev:
	close(nif->nl_fd);
free_priv:
	free(p);
free_nif:
	free(nif);
	return err;
}

void hxs_netif__close(struct hxs_netif *nif)
{
	if (!nif)
		return;
	close(priv_of(nif)->req_fd);
	close(nif->nl_fd);
	free(nif->priv);
	free(nif);
}
