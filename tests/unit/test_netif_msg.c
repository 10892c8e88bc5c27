/* test_netif_msg.c - rtnetlink requests netif.c sends, byte for byte, and parsing of replies
 * and notifications, including malformed ones. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "check.h"
#include "ctl/netif_msg.h"

static uint32_t ip4(const char *s)
{
	uint32_t a;
	inet_pton(AF_INET, s, &a);
	return a;
}

/* Appends an attribute to a message under construction (test side, independent code). */
static void put(struct nlmsghdr *nlh, uint16_t type, const void *d, uint16_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (uint16_t)(sizeof(*rta) + len);
	memcpy(rta + 1, d, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void test_requests(void)
{
	uint8_t buf[HXS_NLMSG_BUF];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	uint32_t dst = ip4("10.78.2.2"), v;

	t_case("RTM_GETROUTE: rtmsg AF_INET /32, RTA_DST, optional RTA_OIF");
	size_t len = hxs_nlmsg__getroute(buf, 7, dst, 0);
	CHECK_EQ(len, NLMSG_LENGTH(sizeof(struct rtmsg)) + RTA_LENGTH(4));
	CHECK_EQ(nlh->nlmsg_len, len);
	CHECK_EQ(nlh->nlmsg_type, RTM_GETROUTE);
	CHECK_EQ(nlh->nlmsg_flags, NLM_F_REQUEST);
	CHECK_EQ(nlh->nlmsg_seq, 7);
	struct rtmsg *rtm = NLMSG_DATA(nlh);
	CHECK_EQ(rtm->rtm_family, AF_INET);
	CHECK_EQ(rtm->rtm_dst_len, 32);
	struct rtattr *rta = (struct rtattr *)((char *)rtm + NLMSG_ALIGN(sizeof(*rtm)));
	CHECK_EQ(rta->rta_type, RTA_DST);
	CHECK_EQ(rta->rta_len, RTA_LENGTH(4));
	memcpy(&v, RTA_DATA(rta), 4);
	CHECK_EQ(v, dst);
	len = hxs_nlmsg__getroute(buf, 8, dst, 3);
	CHECK_EQ(len, NLMSG_LENGTH(sizeof(struct rtmsg)) + 2 * RTA_LENGTH(4));
	rta = (struct rtattr *)((char *)rta + RTA_ALIGN(rta->rta_len));
	CHECK_EQ(rta->rta_type, RTA_OIF);
	memcpy(&v, RTA_DATA(rta), 4);
	CHECK_EQ(v, 3);

	t_case("RTM_NEWNEIGH NTF_USE: create + ack, state NONE, no LLADDR");
	len = hxs_nlmsg__neigh_use(buf, 9, 5, dst);
	CHECK_EQ(len, NLMSG_LENGTH(sizeof(struct ndmsg)) + RTA_LENGTH(4));
	CHECK_EQ(nlh->nlmsg_type, RTM_NEWNEIGH);
	CHECK_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK);
	struct ndmsg *ndm = NLMSG_DATA(nlh);
	CHECK_EQ(ndm->ndm_family, AF_INET);
	CHECK_EQ(ndm->ndm_ifindex, 5);
	CHECK_EQ(ndm->ndm_flags, NTF_USE);
	CHECK_EQ(ndm->ndm_state, NUD_NONE);

	t_case("RTM_GETNEIGH (doit), RTM_GETLINK by name, RTM_GETADDR dump");
	len = hxs_nlmsg__getneigh(buf, 10, 5, dst);
	CHECK_EQ(nlh->nlmsg_type, RTM_GETNEIGH);
	CHECK_EQ(nlh->nlmsg_flags, NLM_F_REQUEST);
	CHECK_EQ(len, NLMSG_LENGTH(sizeof(struct ndmsg)) + RTA_LENGTH(4));
	len = hxs_nlmsg__getlink(buf, 11, 0, "veth0");
	CHECK_EQ(nlh->nlmsg_type, RTM_GETLINK);
	CHECK_EQ(len, NLMSG_LENGTH(sizeof(struct ifinfomsg)) + RTA_ALIGN(RTA_LENGTH(6)));
	rta = (struct rtattr *)((char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(sizeof(struct ifinfomsg)));
	CHECK_EQ(rta->rta_type, IFLA_IFNAME);
	CHECK(strcmp(RTA_DATA(rta), "veth0") == 0);
	len = hxs_nlmsg__getaddr_dump(buf, 12);
	CHECK_EQ(nlh->nlmsg_type, RTM_GETADDR);
	CHECK_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	CHECK_EQ(len, NLMSG_LENGTH(sizeof(struct ifaddrmsg)));
}

static void test_parse(void)
{
	union { uint8_t b[512]; struct nlmsghdr h; } u;
	struct nlmsghdr *nlh = &u.h;
	uint32_t gw = ip4("10.78.1.1"), dst = ip4("10.78.2.2"), oif = 4;
	uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

	t_case("route reply: type, gateway, oif, dst");
	memset(&u, 0, sizeof(u));
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	struct rtmsg *rtm = NLMSG_DATA(nlh);
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_dst_len = 32;
	put(nlh, RTA_DST, &dst, 4);
	put(nlh, RTA_OIF, &oif, 4);
	put(nlh, RTA_GATEWAY, &gw, 4);
	struct hxs_nl_route r;
	CHECK_EQ(hxs_nlmsg__parse_route(nlh, &r), 0);
	CHECK_EQ(r.type, RTN_UNICAST);
	CHECK_EQ(r.oif, 4);
	CHECK_EQ(r.gateway, gw);
	CHECK_EQ(r.dst, dst);
	CHECK_EQ(r.prefsrc, 0);

	t_case("truncated attribute and wrong message type are rejected");
	nlh->nlmsg_len -= 2;    /* last attribute now runs past the end */
	CHECK_EQ(hxs_nlmsg__parse_route(nlh, &r), -EINVAL);
	nlh->nlmsg_len += 2;
	nlh->nlmsg_type = RTM_NEWNEIGH;
	CHECK_EQ(hxs_nlmsg__parse_route(nlh, &r), -EINVAL);
	nlh->nlmsg_len = NLMSG_LENGTH(2);
	nlh->nlmsg_type = RTM_NEWROUTE;
	CHECK_EQ(hxs_nlmsg__parse_route(nlh, &r), -EINVAL);

	t_case("neighbour notification: state, ip, MAC; no LLADDR when INCOMPLETE");
	memset(&u, 0, sizeof(u));
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	struct ndmsg *ndm = NLMSG_DATA(nlh);
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = 4;
	ndm->ndm_state = NUD_REACHABLE;
	put(nlh, NDA_DST, &gw, 4);
	put(nlh, NDA_LLADDR, mac, 6);
	struct hxs_nl_neigh n;
	CHECK_EQ(hxs_nlmsg__parse_neigh(nlh, &n), 0);
	CHECK_EQ(n.ifindex, 4);
	CHECK_EQ(n.state, NUD_REACHABLE);
	CHECK_EQ(n.ip, gw);
	CHECK(n.has_mac && memcmp(n.mac, mac, 6) == 0);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	ndm->ndm_state = NUD_INCOMPLETE;
	put(nlh, NDA_DST, &gw, 4);
	CHECK_EQ(hxs_nlmsg__parse_neigh(nlh, &n), 0);
	CHECK_EQ(n.has_mac, 0);
	ndm->ndm_family = AF_INET6;
	CHECK_EQ(hxs_nlmsg__parse_neigh(nlh, &n), -EINVAL);

	t_case("address: IFA_LOCAL preferred over IFA_ADDRESS; link: MTU, MAC, name");
	memset(&u, 0, sizeof(u));
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = 4;
	put(nlh, IFA_ADDRESS, &gw, 4);
	put(nlh, IFA_LOCAL, &dst, 4);
	struct hxs_nl_addr a;
	CHECK_EQ(hxs_nlmsg__parse_addr(nlh, &a), 0);
	CHECK_EQ(a.addr, dst);
	CHECK_EQ(a.prefix_len, 24);
	CHECK_EQ(a.ifindex, 4);
	memset(&u, 0, sizeof(u));
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	((struct ifinfomsg *)NLMSG_DATA(nlh))->ifi_index = 4;
	uint32_t mtu = 9000;
	put(nlh, IFLA_MTU, &mtu, 4);
	put(nlh, IFLA_ADDRESS, mac, 6);
	put(nlh, IFLA_IFNAME, "hxs0", 5);
	struct hxs_nl_link l;
	CHECK_EQ(hxs_nlmsg__parse_link(nlh, &l), 0);
	CHECK_EQ(l.mtu, 9000);
	CHECK_EQ(l.ifindex, 4);
	CHECK(l.has_mac && memcmp(l.mac, mac, 6) == 0);
	CHECK(strcmp(l.name, "hxs0") == 0);
}

/* The kernel's answer to RTM_GETROUTE for 10.78.2.2 after an ICMP "fragmentation needed"
 * with next-hop MTU 1280 reached it (captured on Linux 6.18, a namespace behind a router):
 * RTM_F_CLONED, RTA_METRICS holding RTAX_MTU 1280, RTA_CACHEINFO with rta_expires 59914
 * (599 s of ip_rt_mtu_expires left). */
static const uint8_t route_exception_msg[] = {
		0x7c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0xa7, 0x45, 0x00, 0x00, 0x02, 0x20, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x01,
		0x00, 0x02, 0x00, 0x00, 0x08, 0x00, 0x0f, 0x00, 0xfe, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x01, 0x00, 0x0a, 0x4e, 0x02, 0x02, 0x08, 0x00, 0x04, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x0a, 0x4e, 0x01, 0x02,
		0x08, 0x00, 0x05, 0x00, 0x0a, 0x4e, 0x01, 0x01, 0x0c, 0x00, 0x08, 0x00,
		0x08, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x00, 0x08, 0x00, 0x19, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x0a, 0xea, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00
};

static void test_route_mtu(void)
{
	union { uint8_t b[512]; struct nlmsghdr h; } u;
	struct hxs_nl_route r;

	t_case("route exception: RTAX_MTU from RTA_METRICS, expiry from RTA_CACHEINFO");
	memset(&u, 0, sizeof(u));
	memcpy(u.b, route_exception_msg, sizeof(route_exception_msg));
	CHECK_EQ(u.h.nlmsg_len, sizeof(route_exception_msg));
	CHECK_EQ(hxs_nlmsg__parse_route(&u.h, &r), 0);
	CHECK_EQ(r.type, RTN_UNICAST);
	CHECK_EQ(r.dst, ip4("10.78.2.2"));
	CHECK_EQ(r.gateway, ip4("10.78.1.1"));
	CHECK_EQ(r.prefsrc, ip4("10.78.1.2"));
	CHECK_EQ(r.oif, 2);
	CHECK_EQ(r.mtu, 1280);
	CHECK_EQ(r.expires, 59914);
	CHECK_EQ(r.cached, 1);

	t_case("route without an exception: no MTU");
	u.h.nlmsg_len = 0x44;          /* cut before RTA_METRICS */
	((struct rtmsg *)NLMSG_DATA(&u.h))->rtm_flags = 0;
	CHECK_EQ(hxs_nlmsg__parse_route(&u.h, &r), 0);
	CHECK_EQ(r.mtu, 0);
	CHECK_EQ(r.expires, 0);
	CHECK_EQ(r.cached, 0);

	t_case("a metric that runs past RTA_METRICS is not read");
	memcpy(u.b, route_exception_msg, sizeof(route_exception_msg));
	u.b[0x48] = 0x0c;              /* RTAX_MTU's length 12 overruns its 12-byte nest */
	CHECK_EQ(hxs_nlmsg__parse_route(&u.h, &r), 0);
	CHECK_EQ(r.mtu, 0);
}

int main(void)
{
	test_requests();
	test_parse();
	test_route_mtu();
	return t_done();
}
