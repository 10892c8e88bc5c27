/* netif.h - the kernel's control plane, read by hxs: interface, addresses, routes,
 * neighbours. The kernel owns all of it (it answers ARP because the XDP program passes ARP
 * up); hxs asks over rtnetlink and caches.
 *
 *   hxs_netif__open(&nif, "eth0")    ifindex, MAC, MTU, first IPv4 address and prefix
 *   hxs_netif__route(nif, dst, &nh)  next hop for dst (the kernel's FIB: RTM_GETROUTE)
 *   hxs_neigh__resolve(nif, nh, mac) 0 + MAC if REACHABLE/STALE/..., -EAGAIN while the
 *                                    kernel resolves (it was asked to), -EHOSTUNREACH if FAILED
 *   hxs_netif__poll(nif, cb, ctx)    drains neighbour/address/link notifications (non-blocking),
 *                                    calling cb for each neighbour that became resolved/failed
 */
#ifndef HXS_NETIF_H
#define HXS_NETIF_H

#include <net/if.h>
#include <stdint.h>

struct hxs_netif {
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	uint16_t pad;
	uint32_t mtu;
	uint32_t addr;          /* IPv4, network order; 0 if none */
	uint8_t prefix_len;
	uint8_t prefix6_len;    /* of addr6 */
	uint8_t pad2[2];
	uint8_t addr6[16];      /* IPv6 global address (not tentative, not DAD-failed); :: if none */
	uint8_t ll6[16];        /* IPv6 link-local address; :: if none */
	void (*cb6)(void *ctx, const uint8_t ip[16], int ev, const uint8_t mac[6]);
	void *cb6_ctx;          /* hxs_netif__set_neigh6_cb */
	int nl_fd;              /* rtnetlink socket subscribed to neighbour/address/link groups */
	void *priv;             /* caches (routes, neighbours) */
	/* Changes heard of: bumped for every notification read (routes, neighbours, addresses,
	 * links, both families) and a resync after lost ones. A user's own caches built on
	 * this one's answers are stale when it moved. */
	uint32_t gen;
};

enum hxs_neigh_event { HXS_NEIGH_RESOLVED, HXS_NEIGH_FAILED };
typedef void (*hxs_neigh_cb)(void *ctx, uint32_t ip, enum hxs_neigh_event ev, const uint8_t mac[6]);

typedef void (*hxs_neigh6_cb)(void *ctx, const uint8_t ip[16], int ev, const uint8_t mac[6]);

int hxs_netif__open(struct hxs_netif **out, const char *ifname);
void hxs_netif__close(struct hxs_netif *nif);
/* Next hop for dst (dst itself when on-link). -ENETUNREACH when the kernel has no route. */
int hxs_netif__route(struct hxs_netif *nif, uint32_t dst, uint32_t *nexthop);
int hxs_neigh__resolve(struct hxs_netif *nif, uint32_t ip, uint8_t mac[6]);
/* The same with the caller's CLOCK_MONOTONIC time in ns (0: read the clock): a stack that
 * read the clock once for its turn passes it down instead of a read per packet. */
int hxs_netif__route_at(struct hxs_netif *nif, uint32_t dst, uint32_t *nexthop, uint64_t now_ns);
int hxs_neigh__resolve_at(struct hxs_netif *nif, uint32_t ip, uint8_t mac[6], uint64_t now_ns);
int hxs_netif__poll(struct hxs_netif *nif, hxs_neigh_cb cb, void *ctx);
/* The path MTU the kernel keeps for dst (a route exception made from ICMP "fragmentation
 * needed": RTM_GETROUTE answers RTA_METRICS/RTAX_MTU), asked now, uncached: *mtu = it, or 0
 * when the kernel has none (the interface's MTU applies). 0 or a negative errno. */
int hxs_netif__route_mtu(struct hxs_netif *nif, uint32_t dst, uint32_t *mtu);
/* IPv6 (netif6.c): the next hop and the route's hop limit (0: none set), as _route_at; the
 * neighbour as _resolve_at (the kernel does ND, asked with NTF_USE); who hears of an IPv6
 * neighbour resolved or failed (ev: enum hxs_neigh_event) during hxs_netif__poll. */
int hxs_netif__route6_at(struct hxs_netif *nif, const uint8_t dst[16], uint8_t nexthop[16],
			 uint8_t *hop_limit, uint64_t now_ns);
int hxs_neigh6__resolve_at(struct hxs_netif *nif, const uint8_t ip[16], uint8_t mac[6], uint64_t now_ns);
void hxs_netif__set_neigh6_cb(struct hxs_netif *nif, hxs_neigh6_cb cb, void *ctx);
int hxs_netif__is_local6(const struct hxs_netif *nif, const uint8_t a[16]);
/* Is ip one of the interface's local addresses? */
int hxs_netif__is_local(const struct hxs_netif *nif, uint32_t ip);

#endif
