/* netif_msg.h - rtnetlink messages hxs sends and reads, built and parsed without a socket
 * (netif_msg.c), so unit tests can check them byte for byte.
 *
 * Builders write one request into buf (at least HXS_NLMSG_BUF bytes) and return its length.
 * Parsers take one message and fill a small struct; they return 0, or -EINVAL for a message
 * that is not of their kind or is malformed (truncated header, attribute past the end).
 */
#ifndef HXS_NETIF_MSG_H
#define HXS_NETIF_MSG_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#define HXS_NLMSG_BUF 256

struct hxs_nl_route {
	uint8_t type;           /* RTN_UNICAST, RTN_LOCAL, ... */
	uint8_t dst_len;
	int oif;                /* 0 if absent */
	uint32_t dst, gateway, prefsrc;   /* network order; 0 if absent */
	/* The path MTU of a cached route exception (the kernel learned it from ICMP
	 * "fragmentation needed", RFC 1191): RTA_METRICS' RTAX_MTU; 0 if absent. With it,
	 * RTA_CACHEINFO's rta_expires says for how long (jiffies-derived clock_t, 0: none). */
	uint32_t mtu;
	uint32_t expires;
	uint8_t cached;         /* RTM_F_CLONED: the answer came from a route exception */
};

struct hxs_nl_neigh {
	int ifindex;
	uint16_t state;         /* NUD_* */
	uint8_t flags;          /* NTF_* */
	uint8_t has_mac;
	uint32_t ip;            /* network order */
	uint8_t mac[6];
};

struct hxs_nl_addr {
	int ifindex;
	uint8_t prefix_len;
	uint32_t addr;          /* IFA_LOCAL (else IFA_ADDRESS), network order */
};

struct hxs_nl_link {
	int ifindex;
	uint32_t mtu;
	uint32_t flags;         /* IFF_* */
	uint8_t has_mac;
	uint8_t mac[6];
	char name[16];
};

/* RTM_GETROUTE for one IPv4 destination, out through oif (0: any). */
size_t hxs_nlmsg__getroute(void *buf, uint32_t seq, uint32_t dst, int oif);
/* RTM_GETNEIGH for one IPv4 address on ifindex (the kernel's neigh_get, not a dump). */
size_t hxs_nlmsg__getneigh(void *buf, uint32_t seq, int ifindex, uint32_t ip);
/* RTM_NEWNEIGH with NTF_USE (and NLM_F_CREATE): the kernel creates the entry if needed and
 * runs neigh_event_send() on it, i.e. starts resolution (ARP) exactly as if a packet
 * were queued on it; it does not set a state or a link-layer address. */
size_t hxs_nlmsg__neigh_use(void *buf, uint32_t seq, int ifindex, uint32_t ip);
/* RTM_GETLINK for one interface, by index or (ifindex 0) by name. */
size_t hxs_nlmsg__getlink(void *buf, uint32_t seq, int ifindex, const char *name);
/* RTM_GETADDR dump of IPv4 addresses. */
size_t hxs_nlmsg__getaddr_dump(void *buf, uint32_t seq);

/* IPv6 (netif_msg6.c) */
struct hxs_nl_route6 {
	uint8_t type, dst_len;
	int oif;
	uint8_t gateway[16], prefsrc[16];   /* :: if absent */
	uint32_t mtu, hop_limit;            /* RTAX_MTU, RTAX_HOPLIMIT; 0 if absent */
};
struct hxs_nl_neigh6 {
	int ifindex;
	uint16_t state;
	uint8_t flags, has_mac;
	uint8_t ip[16];
	uint8_t mac[6];
};
struct hxs_nl_addr6 {
	int ifindex;
	uint8_t prefix_len, scope;          /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, ... */
	uint8_t has_local;
	uint32_t flags;                     /* IFA_F_* (IFA_FLAGS when present) */
	uint8_t addr[16];
};
size_t hxs_nlmsg__getroute6(void *buf, uint32_t seq, const uint8_t dst[16]);
size_t hxs_nlmsg__getneigh6(void *buf, uint32_t seq, int ifindex, const uint8_t ip[16]);
/* NTF_USE, as hxs_nlmsg__neigh_use: the kernel starts neighbour discovery itself */
size_t hxs_nlmsg__neigh_use6(void *buf, uint32_t seq, int ifindex, const uint8_t ip[16]);
size_t hxs_nlmsg__getaddr6_dump(void *buf, uint32_t seq);
int hxs_nlmsg__parse_route6(const struct nlmsghdr *nlh, struct hxs_nl_route6 *r);
int hxs_nlmsg__parse_neigh6(const struct nlmsghdr *nlh, struct hxs_nl_neigh6 *n);
int hxs_nlmsg__parse_addr6(const struct nlmsghdr *nlh, struct hxs_nl_addr6 *a);

int hxs_nlmsg__parse_route(const struct nlmsghdr *nlh, struct hxs_nl_route *r);
int hxs_nlmsg__parse_neigh(const struct nlmsghdr *nlh, struct hxs_nl_neigh *n);
int hxs_nlmsg__parse_addr(const struct nlmsghdr *nlh, struct hxs_nl_addr *a);
int hxs_nlmsg__parse_link(const struct nlmsghdr *nlh, struct hxs_nl_link *l);

/* Shared by the IPv4 and IPv6 builders and parsers (netif_msg.c). */
struct ndmsg;
struct rtattr;
/* Starts a request of type with NLM_F_REQUEST | flags and the fixed header fam in buf. */
struct nlmsghdr *hxs_nlmsg__start(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
				  const void *fam, size_t fam_len);
/* Appends one attribute of len bytes. */
void hxs_nlmsg__put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len);
/* A neighbour request (ndm, then NDA_DST of ip_len bytes); returns its length. */
size_t hxs_nlmsg__neigh_req(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
			    const struct ndmsg *ndm, const void *ip, size_t ip_len);
/* The fixed header after nlh if nlh is of type new_type or del_type and holds fam_len bytes
 * of it; NULL otherwise. */
const void *hxs_nlmsg__fixed(const struct nlmsghdr *nlh, uint16_t new_type, uint16_t del_type,
			     size_t fam_len);
/* Calls fn(ctx, rta) for each attribute after the fixed header of fam_len bytes; -EINVAL
 * for a short message or at the first attribute that does not fit in it. */
int hxs_nlmsg__attr_walk(const struct nlmsghdr *nlh, size_t fam_len,
			 void (*fn)(void *ctx, const struct rtattr *rta), void *ctx);
/* The same over the attributes nested in rta, stopping at the first that does not fit. */
void hxs_nlmsg__nested_walk(const struct rtattr *rta,
			    void (*fn)(void *ctx, const struct rtattr *rta), void *ctx);
/* *v = the attribute's first 4 bytes, returning 1; 0 (v untouched) if it is shorter. */
int hxs_nlmsg__rta_u32(const struct rtattr *rta, uint32_t *v);
/* mac = a 6-byte payload and *has_mac = 1; untouched for any other length. */
void hxs_nlmsg__rta_mac(const struct rtattr *rta, uint8_t mac[6], uint8_t *has_mac);

#endif
