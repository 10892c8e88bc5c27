/* counters.c - names of the stack's MIB and printing of counter tables.
 *
 * hxs_counters__print() -> one "Name value" line per counter, in table order. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "counters.h"

const char *const hxs_mib_names[HXS_MIB_MAX] = {
	[HXS_MIB_IP_IN_RECEIVES] = "IpInReceives",
	[HXS_MIB_IP_IN_HDR_ERRORS] = "IpInHdrErrors",
	[HXS_MIB_IP_IN_ADDR_ERRORS] = "IpInAddrErrors",
	[HXS_MIB_IP_IN_UNKNOWN_PROTOS] = "IpInUnknownProtos",
	[HXS_MIB_IP_IN_DISCARDS] = "IpInDiscards",
	[HXS_MIB_IP_IN_DELIVERS] = "IpInDelivers",
	[HXS_MIB_IP_OUT_REQUESTS] = "IpOutRequests",
	[HXS_MIB_IP_OUT_NO_ROUTES] = "IpOutNoRoutes",
	[HXS_MIB_IP_OUT_DISCARDS] = "IpOutDiscards",
	[HXS_MIB_UDP_IN_DATAGRAMS] = "UdpInDatagrams",
	[HXS_MIB_UDP_NO_PORTS] = "UdpNoPorts",
	[HXS_MIB_UDP_IN_ERRORS] = "UdpInErrors",
	[HXS_MIB_UDP_OUT_DATAGRAMS] = "UdpOutDatagrams",
	[HXS_MIB_UDP_RCVBUF_ERRORS] = "UdpRcvbufErrors",
	[HXS_MIB_UDP_SNDBUF_ERRORS] = "UdpSndbufErrors",
	[HXS_MIB_UDP_IN_CSUM_ERRORS] = "UdpInCsumErrors",
	[HXS_MIB_UDP_IGNORED_MULTI] = "UdpIgnoredMulti",
	[HXS_MIB_ETH_IN_FRAMES] = "HxsEthInFrames",
	[HXS_MIB_ETH_IN_DISCARDS] = "HxsEthInDiscards",
	[HXS_MIB_NEIGH_QUEUED] = "HxsNeighQueued",
	[HXS_MIB_NEIGH_QUEUE_DROPS] = "HxsNeighQueueDrops",
	[HXS_MIB_NEIGH_FAILED_DROPS] = "HxsNeighFailedDrops",
	[HXS_MIB_IP_IN_BCAST_DISCARDS] = "HxsIpInBcastDiscards",
	[HXS_MIB_IP_IN_MARTIAN_SRC] = "HxsIpInMartianSrc",
	[HXS_MIB_IP6_IN_RECEIVES] = "Ip6InReceives",
	[HXS_MIB_IP6_IN_HDR_ERRORS] = "Ip6InHdrErrors",
	[HXS_MIB_IP6_IN_TRUNCATED_PKTS] = "Ip6InTruncatedPkts",
	[HXS_MIB_IP6_IN_ADDR_ERRORS] = "Ip6InAddrErrors",
	[HXS_MIB_IP6_IN_UNKNOWN_PROTOS] = "Ip6InUnknownProtos",
	[HXS_MIB_IP6_IN_DISCARDS] = "Ip6InDiscards",
	[HXS_MIB_IP6_IN_DELIVERS] = "Ip6InDelivers",
	[HXS_MIB_IP6_OUT_REQUESTS] = "Ip6OutRequests",
	[HXS_MIB_IP6_OUT_NO_ROUTES] = "Ip6OutNoRoutes",
	[HXS_MIB_IP6_OUT_DISCARDS] = "Ip6OutDiscards",
	[HXS_MIB_IP6_IN_MARTIAN_SRC] = "HxsIp6InMartianSrc",
};

void hxs_counters__print(FILE *fp, const struct hxs_counter_table *t, unsigned ntables, int all)
{
	for (unsigned i = 0; i < ntables; i++)
		for (unsigned j = 0; j < t[i].n; j++)
			if (all || t[i].vals[j])
				fprintf(fp, "%-24s %" PRIu64 "\n", t[i].names[j], t[i].vals[j]);
}

int hxs_counters__get(const struct hxs_counter_table *t, unsigned ntables, const char *name,
		      uint64_t *val)
{
	for (unsigned i = 0; i < ntables; i++)
		for (unsigned j = 0; j < t[i].n; j++)
			if (!strcmp(t[i].names[j], name)) {
				*val = t[i].vals[j];
				return 0;
			}
	return -ENOENT;
}
