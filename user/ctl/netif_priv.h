/* netif_priv.h - the caches behind struct hxs_netif, shared by netif.c (IPv4, links,
 * notifications), netif6.c (IPv6) and netif_nl.c (the request socket). Not for other layers. */
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

/* netif6.c */
int hxs_netif6__open(struct hxs_netif *nif);
int hxs_netif6__on_msg(struct hxs_netif *nif, const struct nlmsghdr *nlh);
void hxs_netif6__flush_routes(struct hxs_netif *nif);

#endif
