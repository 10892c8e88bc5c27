/* netif_msg.c - libFuzzer target: the rtnetlink parsers of user/ctl/netif_msg.c.
 *
 * The input is a receive buffer as the kernel would fill it (in a buffer of its size rounded
 * up to 4); the messages in it are walked with NLMSG_OK/NLMSG_NEXT exactly as netif.c walks
 * them (a signed remaining length), and each message goes to all four
 * parsers (route, neighbour, address, link) twice: as it is, and with its type set to the
 * one the parser takes, so the fuzzer need not find the type to reach the attribute walk.
 * Each message is copied into a heap buffer of exactly nlmsg_len bytes (ASan: nothing is
 * read past the message). Checked: every parser returns 0 or -EINVAL, and what it accepted
 * is in range (IPv4 prefix lengths <= 32 are not promised by the kernel, so not checked;
 * an interface name always NUL-terminated inside its 16 bytes, has_mac 0 or 1).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/netif_msg.h"
#include "fuzz.h"

static void parse_all(const struct nlmsghdr *nlh)
{
	struct hxs_nl_route r;
	struct hxs_nl_neigh n;
	struct hxs_nl_addr a;
	struct hxs_nl_link l;
	int rc;

	rc = hxs_nlmsg__parse_route(nlh, &r);
	FZ_CHECK(rc == 0 || rc == -EINVAL, "route: %d", rc);
	rc = hxs_nlmsg__parse_neigh(nlh, &n);
	FZ_CHECK(rc == 0 || rc == -EINVAL, "neigh: %d", rc);
	if (!rc)
		FZ_CHECK(n.has_mac <= 1, "has_mac %u", n.has_mac);
	rc = hxs_nlmsg__parse_addr(nlh, &a);
	FZ_CHECK(rc == 0 || rc == -EINVAL, "addr: %d", rc);
	rc = hxs_nlmsg__parse_link(nlh, &l);
	FZ_CHECK(rc == 0 || rc == -EINVAL, "link: %d", rc);
	FZ_CHECK(memchr(l.name, 0, sizeof(l.name)) != NULL, "interface name not terminated");
	FZ_CHECK(l.has_mac <= 1, "has_mac %u", l.has_mac);
	if (getenv("FUZZ_TRACE"))       /* reading a reproducer */
		fprintf(stderr, "type %u: route %d dst %08x gw %08x oif %d; neigh %d ip %08x mac %u; "
			"addr %d %08x/%u; link %d %s mtu %u\n", nlh->nlmsg_type,
			hxs_nlmsg__parse_route(nlh, &r), r.dst, r.gateway, r.oif,
			hxs_nlmsg__parse_neigh(nlh, &n), n.ip, n.has_mac, hxs_nlmsg__parse_addr(nlh, &a),
			a.addr, a.prefix_len, hxs_nlmsg__parse_link(nlh, &l), l.name, l.mtu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { RTM_NEWROUTE, RTM_NEWNEIGH, RTM_NEWADDR, RTM_NEWLINK,
					  RTM_DELROUTE, RTM_DELNEIGH, RTM_DELADDR, RTM_DELLINK };
	/* the receive buffer, aligned as netlink's is */
	size_t cap = (size + 3) & ~(size_t)3;
	uint32_t *rx = calloc(1, cap ? cap : 4);
	memcpy(rx, data, size);
	ssize_t n = (ssize_t)size;    /* as netif.c: what recv() returned */
	for (struct nlmsghdr *nlh = (struct nlmsghdr *)rx; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
		uint32_t len = nlh->nlmsg_len;
		struct nlmsghdr *m = malloc(len);
		memcpy(m, nlh, len);
		parse_all(m);
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			m->nlmsg_type = types[t];
			parse_all(m);
		}
		free(m);
	}
	free(rx);
	return 0;
}
