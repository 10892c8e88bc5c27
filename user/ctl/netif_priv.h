/* netif_priv.h - the caches behind struct hxs_netif, shared by netif.c (IPv4, links,
 * notifications), netif6.c (IPv6), netif_cache.c (what the two families' caches share) and
 * netif_nl.c (the request socket). Not for other layers. */
#ifndef HXS_NETIF_PRIV_H
#define HXS_NETIF_PRIV_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "netif.h"

#define ROUTE_SLOTS         64
#define NEIGH_SLOTS         512         /* power of two; cleared when 3/4 full */
#define MAX_ADDRS           8
#define RXBUF               (64 * 1024)
#define NETIF_MAX_ADDR6     16
#define NETIF_ROUTE6_SLOTS  32
#define NETIF_NEIGH6_SLOTS  128

/* Cache lifetimes, the same for IPv4 (netif.c) and IPv6 (netif6.c). */
#define ROUTE_TTL_NS        (500ull * 1000 * 1000)
#define NEIGH_ASK_NS        (3ull * 1000 * 1000 * 1000)    /* re-check a pending entry */
#define NEIGH_FAILED_NS     (1ull * 1000 * 1000 * 1000)    /* answer FAILED from cache */
#define NEIGH_RECONFIRM_NS  (5ull * 1000 * 1000 * 1000)

enum cache_state { NC_EMPTY = 0, NC_UNKNOWN, NC_PENDING, NC_VALID, NC_FAILED };

struct neigh_ent {
	uint32_t ip;
	uint8_t state;          /* enum cache_state */
	uint8_t stale;          /* kernel says NUD_STALE */
	uint8_t mac[6];
	uint64_t t_asked;       /* last NTF_USE */
	uint64_t t_state;       /* last state change */
};

struct route_ent {
	uint32_t dst, nexthop;
	int err;
	uint64_t expires;
};

struct netif_priv {
	int req_fd;
	uint32_t seq;
	uint32_t addrs[MAX_ADDRS];
	uint8_t prefixes[MAX_ADDRS];
	int naddrs;
	unsigned neigh_used;
	struct neigh_ent neigh[NEIGH_SLOTS];
	struct route_ent route[ROUTE_SLOTS];
	struct netif_addr6 {
		uint8_t addr[16];
		uint8_t prefix_len;
		uint32_t flags;         /* IFA_F_* */
	} addr6[NETIF_MAX_ADDR6];
	int naddr6;
	struct netif_route6 {
		uint8_t dst[16], nexthop[16];
		uint8_t hop_limit;
		int err;
		uint64_t expires;
	} route6[NETIF_ROUTE6_SLOTS];
	struct netif_neigh6 {
		uint8_t ip[16];
		uint8_t state, stale;
		uint8_t mac[6];
		uint64_t t_asked, t_state;
	} neigh6[NETIF_NEIGH6_SLOTS];
	uint8_t rxbuf[RXBUF];
};


typedef void (*nl_msg_fn)(struct hxs_netif *nif, const struct nlmsghdr *nlh, void *ctx);

/* netif_nl.c: a netlink socket joined to groups; one request and its replies (a dump up to
 * NLMSG_DONE), fn called for each data message: 0 or the kernel's negative errno. */
int hxs_netif__nl_socket(const int *groups, int ngroups);
int hxs_netif__nl_request(struct hxs_netif *nif, void *req, size_t len, nl_msg_fn fn, void *ctx);

/* netif_cache.c: shared by netif.c and netif6.c */
uint64_t hxs_netif__now(void);   /* CLOCK_MONOTONIC, ns */
/* The kernel's RTM_GETROUTE answer as the caches keep it: err from the request, got whether a
 * route came, of type and out of oif. Only a unicast route out of nif's interface is usable;
 * no route, or none hxs can use, is -ENETUNREACH. */
int hxs_netif__route_err(const struct hxs_netif *nif, int err, int got, uint8_t type, int oif);
/* A neighbour entry of NUD_* state with a link-layer address hxs can send to. */
int hxs_netif__nud_usable(uint16_t state, uint8_t has_mac);

/* netif6.c */
int hxs_netif6__open(struct hxs_netif *nif);
int hxs_netif6__on_msg(struct hxs_netif *nif, const struct nlmsghdr *nlh);
void hxs_netif6__flush_routes(struct hxs_netif *nif);

#endif
