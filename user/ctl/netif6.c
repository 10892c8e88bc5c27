/* netif6.c - the kernel's IPv6 control plane read over rtnetlink, beside netif.c's IPv4:
 * addresses (global and link-local, tentative and DAD-failed ones skipped), routes (the
 * kernel's FIB: RTM_GETROUTE, with the route's hop limit) and neighbours (the kernel does
 * neighbour discovery: hxs asks it with NTF_USE and follows RTNLGRP_NEIGH). See netif.h.
 *
 *   netif.c open -> hxs_netif6__open(): RTM_GETADDR dump (AF_INET6) -> hxs_netif6__on_msg()
 *   netif.c on_event() -> hxs_netif6__on_msg(): RTM_NEWADDR/DELADDR, RTM_NEWNEIGH/DELNEIGH of
 *                         AF_INET6, routes changed (cache flushed)
 *   hxs_netif__route6_at() -> route cache (ROUTE_TTL_NS) -> RTM_GETROUTE
 *   hxs_neigh6__resolve_at() -> cache -> RTM_GETNEIGH -> RTM_NEWNEIGH with NTF_USE
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "netif.h"
#include "netif_msg.h"
#include "netif_priv.h"

enum { N6_EMPTY = 0, N6_PENDING, N6_VALID, N6_FAILED };

static int is_zero(const uint8_t a[16])
{
	static const uint8_t z[16];
	return !memcmp(a, z, 16);
}

static unsigned hash6(const uint8_t a[16], unsigned n)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h % n;
}

/* --- addresses -------------------------------------------------------------------------- */

/* The addresses a socket may use now: not tentative (DAD under way, RFC 4862 §5.4: "a
 * tentative address is not considered assigned"), not DAD-failed. Deprecated ones stay
 * usable but are chosen last (RFC 6724 §5 rule 3). */
static void addr6_pick(struct hxs_netif *nif)
{
	struct netif_priv *p = nif->priv;
	int g = -1, ll = -1;

	for (int i = 0; i < p->naddr6; i++) {
		const struct netif_addr6 *a = &p->addr6[i];
		int linklocal = a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
		int *slot = linklocal ? &ll : &g;

		if (a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED))
			continue;
		if (*slot < 0 || ((p->addr6[*slot].flags & IFA_F_DEPRECATED) &&
				  !(a->flags & IFA_F_DEPRECATED)))
			*slot = i;
	}
	memset(nif->addr6, 0, 16);
	memset(nif->ll6, 0, 16);
	nif->prefix6_len = 0;
	if (g >= 0) {
		memcpy(nif->addr6, p->addr6[g].addr, 16);
		nif->prefix6_len = p->addr6[g].prefix_len;
	}
	if (ll >= 0)
		memcpy(nif->ll6, p->addr6[ll].addr, 16);
}

static void addr6_set(struct hxs_netif *nif, const struct hxs_nl_addr6 *a, int add)
{
	struct netif_priv *p = nif->priv;
	int i;

	if (a->ifindex != nif->ifindex || is_zero(a->addr))
		return;
	for (i = 0; i < p->naddr6 && memcmp(p->addr6[i].addr, a->addr, 16); i++)
		;
	if (add && i == p->naddr6 && p->naddr6 < NETIF_MAX_ADDR6)
		p->naddr6++;
	if (add && i < p->naddr6) {
		memcpy(p->addr6[i].addr, a->addr, 16);
		p->addr6[i].prefix_len = a->prefix_len;
		p->addr6[i].flags = a->flags;   /* DAD finishing comes as a new RTM_NEWADDR */
	} else if (!add && i < p->naddr6) {
		memmove(&p->addr6[i], &p->addr6[i + 1], (size_t)(p->naddr6 - i - 1) * sizeof(p->addr6[0]));
		p->naddr6--;
	}
	addr6_pick(nif);
}

int hxs_netif__is_local6(const struct hxs_netif *nif, const uint8_t a[16])
{
	const struct netif_priv *p = nif->priv;

	for (int i = 0; i < p->naddr6; i++)
		if (!memcmp(p->addr6[i].addr, a, 16))
			return 1;
	return 0;
}

/* --- routes ----------------------------------------------------------------------------- */

struct route6_ctx {
	struct hxs_nl_route6 r;
	int got;
};

static void on_route6(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	struct route6_ctx *c = ctx;

	(void)nif;
	if (!hxs_nlmsg__parse_route6(nlh, &c->r))
		c->got = 1;
}

void hxs_netif6__flush_routes(struct hxs_netif *nif)
{
	struct netif_priv *p = nif->priv;

	memset(p->route6, 0, sizeof(p->route6));
}

int hxs_netif__route6_at(struct hxs_netif *nif, const uint8_t dst[16], uint8_t nexthop[16],
			 uint8_t *hop_limit, uint64_t now)
{
	struct netif_priv *p = nif->priv;
	struct netif_route6 *e = &p->route6[hash6(dst, NETIF_ROUTE6_SLOTS)];
	uint8_t req[HXS_NLMSG_BUF];
	struct route6_ctx c = { 0 };
	int err;

	if (!now)
		now = hxs_netif__now();
	if (e->expires > now && !memcmp(e->dst, dst, 16)) {
		memcpy(nexthop, e->nexthop, 16);
		*hop_limit = e->hop_limit;
		return e->err;
	}
	/* as for IPv4: ask the FIB as a socket would (no RTA_OIF), then check the route goes out
	 * of our interface as unicast */
	err = hxs_netif__nl_request(nif, req, hxs_nlmsg__getroute6(req, ++p->seq, dst), on_route6, &c);
	err = hxs_netif__route_err(nif, err, c.got, c.r.type, c.r.oif);
	memcpy(e->dst, dst, 16);
	if (err)
		memset(e->nexthop, 0, 16);
	else
		memcpy(e->nexthop, is_zero(c.r.gateway) ? dst : c.r.gateway, 16);
	e->hop_limit = err || c.r.hop_limit > 255 ? 0 : (uint8_t)c.r.hop_limit;
	e->err = err;
	e->expires = now + ROUTE_TTL_NS;
	memcpy(nexthop, e->nexthop, 16);
	*hop_limit = e->hop_limit;
	return err;
}

/* --- neighbours ------------------------------------------------------------------------- */

static struct netif_neigh6 *n6_find(struct netif_priv *p, const uint8_t ip[16], int create)
{
	unsigned h = hash6(ip, NETIF_NEIGH6_SLOTS);

	for (unsigned i = 0; i < NETIF_NEIGH6_SLOTS; i++) {
		struct netif_neigh6 *e = &p->neigh6[(h + i) % NETIF_NEIGH6_SLOTS];
		if (e->state != N6_EMPTY && !memcmp(e->ip, ip, 16))
			return e;
		if (e->state == N6_EMPTY) {
			if (!create)
				return NULL;
			memset(e, 0, sizeof(*e));
			memcpy(e->ip, ip, 16);
			e->state = N6_FAILED;   /* "not known": t_state 0 lets resolve ask */
			return e;
		}
	}
	/* full: forget everything, entries are read again from the kernel */
	memset(p->neigh6, 0, sizeof(p->neigh6));
	return create ? n6_find(p, ip, create) : NULL;
}

struct neigh6_ctx {
	struct hxs_nl_neigh6 n;
	int got;
};

static void on_neigh6(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	struct neigh6_ctx *c = ctx;

	(void)nif;
	if (!hxs_nlmsg__parse_neigh6(nlh, &c->n))
		c->got = 1;
}

static int n6_ask(struct hxs_netif *nif, struct netif_neigh6 *e, uint64_t now)
{
	struct netif_priv *p = nif->priv;
	uint8_t req[HXS_NLMSG_BUF];

	e->t_asked = now;
	return hxs_netif__nl_request(nif, req, hxs_nlmsg__neigh_use6(req, ++p->seq, nif->ifindex, e->ip),
				     NULL, NULL);
}

static int n6_valid(const struct hxs_nl_neigh6 *n)
{
	return hxs_netif__nud_usable(n->state, n->has_mac);
}

/* The kernel's view of a neighbour applied to the cache; a waiter hears of the outcome. */
static int neigh6_event(struct hxs_netif *nif, const struct hxs_nl_neigh6 *n, int deleted)
{
	struct netif_priv *p = nif->priv;
	struct netif_neigh6 *e = n6_find(p, n->ip, 0);

	if (n->ifindex != nif->ifindex || !e)
		return 0;
	if (!deleted && n6_valid(n)) {
		int report = e->state == N6_PENDING || (e->state == N6_VALID && memcmp(e->mac, n->mac, 6));
		e->state = N6_VALID;
		e->stale = !!(n->state & NUD_STALE);
		memcpy(e->mac, n->mac, 6);
		if (report && nif->cb6)
			nif->cb6(nif->cb6_ctx, e->ip, HXS_NEIGH_RESOLVED, e->mac);
		return report;
	}
	if ((deleted && e->state == N6_PENDING) || (n->state & NUD_FAILED)) {
		int report = e->state == N6_PENDING || e->state == N6_VALID;
		e->state = N6_FAILED;
		e->t_state = hxs_netif__now();
		if (report && nif->cb6)
			nif->cb6(nif->cb6_ctx, e->ip, HXS_NEIGH_FAILED, NULL);
		return report;
	}
	if (deleted)
		e->state = N6_FAILED, e->t_state = 0;   /* forgotten: asked again when needed */
	return 0;
}

int hxs_neigh6__resolve_at(struct hxs_netif *nif, const uint8_t ip[16], uint8_t mac[6], uint64_t now)
{
	struct netif_priv *p = nif->priv;
	struct netif_neigh6 *e = n6_find(p, ip, 1);
	uint8_t req[HXS_NLMSG_BUF];
	struct neigh6_ctx c = { 0 };
	int err;

	if (!e)
		return -ENOMEM;
	if (!now)
		now = hxs_netif__now();
	if (e->state == N6_VALID) {
		/* traffic hxs sends never confirms the kernel's entry: poke a STALE one now and
		 * then so the kernel re-probes it (as netif.c does for ARP) */
		if (e->stale && now - e->t_asked > NEIGH_RECONFIRM_NS)
			n6_ask(nif, e, now);
		memcpy(mac, e->mac, 6);
		return 0;
	}
	if (e->state == N6_PENDING && now - e->t_asked < NEIGH_ASK_NS)
		return -EAGAIN;
	if (e->state == N6_FAILED && e->t_state && now - e->t_state < NEIGH_FAILED_NS)
		return -EHOSTUNREACH;
	err = hxs_netif__nl_request(nif, req, hxs_nlmsg__getneigh6(req, ++p->seq, nif->ifindex, ip),
				    on_neigh6, &c);
	if (err && err != -ENOENT)
		return err;
	if (c.got && n6_valid(&c.n)) {
		e->state = N6_VALID;
		e->stale = !!(c.n.state & NUD_STALE);
		memcpy(e->mac, c.n.mac, 6);
		memcpy(mac, e->mac, 6);
		return 0;
	}
	if (e->state == N6_PENDING && c.got && (c.n.state & NUD_FAILED)) {
		e->state = N6_FAILED;
		e->t_state = now;
		return -EHOSTUNREACH;
	}
	err = n6_ask(nif, e, now);
	if (err)
		return err;
	e->state = N6_PENDING;
	return -EAGAIN;
}

/* --- messages from netif.c -------------------------------------------------------------- */

int hxs_netif6__on_msg(struct hxs_netif *nif, const struct nlmsghdr *nlh)
{
	struct hxs_nl_addr6 a;
	struct hxs_nl_neigh6 n;

	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		if (!hxs_nlmsg__parse_neigh6(nlh, &n))
			return neigh6_event(nif, &n, nlh->nlmsg_type == RTM_DELNEIGH);
		return 0;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (!hxs_nlmsg__parse_addr6(nlh, &a))
			addr6_set(nif, &a, nlh->nlmsg_type == RTM_NEWADDR);
		hxs_netif6__flush_routes(nif);
		return 0;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
	case RTM_NEWLINK:
		hxs_netif6__flush_routes(nif);
		return 0;
	}
	return 0;
}

static void on_addr6_dump(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx)
{
	(void)ctx;
	hxs_netif6__on_msg(nif, nlh);
}

int hxs_netif6__open(struct hxs_netif *nif)
{
	struct netif_priv *p = nif->priv;
	uint8_t req[HXS_NLMSG_BUF];
	int err = hxs_netif__nl_request(nif, req, hxs_nlmsg__getaddr6_dump(req, ++p->seq),
					on_addr6_dump, NULL);

	/* a kernel without IPv6 has no addresses to give: IPv4 goes on alone */
	return err == -EAFNOSUPPORT ? 0 : err;
}

void hxs_netif__set_neigh6_cb(struct hxs_netif *nif, hxs_neigh6_cb cb, void *ctx)
{
	nif->cb6 = cb;
	nif->cb6_ctx = ctx;
}
