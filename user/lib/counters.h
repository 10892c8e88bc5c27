/* counters.h - the stack's MIB: IPv4, IPv6 and UDP counters named like the kernel's (`nstat`), plus
 * a few of hxs's own, and one way to print any table of counters.
 *
 *   st->mib.v[HXS_MIB_UDP_IN_DATAGRAMS]++             count (plain increments: one thread)
 *   hxs_counters__print(fp, &tbl, 1, "")              "UdpInDatagrams 10000" lines
 *
 * Other layers (TCP's own MIB lives in the TCP core) describe their counters with a
 * struct hxs_counter_table and register it with hxs_stack__add_counters() (stack.h), so every
 * counter of a stack prints through hxs_stack__print_counters().
 */
#ifndef HXS_COUNTERS_H
#define HXS_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

enum hxs_mib_id {
	/* IPv4 (RFC 4293 ipSystemStats, Linux /proc/net/snmp "Ip:") */
	HXS_MIB_IP_IN_RECEIVES = 0,  /* IPv4 frames handed to ip input */
	HXS_MIB_IP_IN_HDR_ERRORS,    /* version, IHL, total length, header checksum, TTL */
	HXS_MIB_IP_IN_ADDR_ERRORS,   /* destination is not one of our addresses */
	HXS_MIB_IP_IN_UNKNOWN_PROTOS,/* protocol with no handler */
	HXS_MIB_IP_IN_DISCARDS,      /* fragments (hxs does not reassemble) */
	HXS_MIB_IP_IN_DELIVERS,      /* handed to UDP/TCP */
	HXS_MIB_IP_OUT_REQUESTS,     /* datagrams L4 asked us to send */
	HXS_MIB_IP_OUT_NO_ROUTES,    /* no route to the destination */
	HXS_MIB_IP_OUT_DISCARDS,     /* dropped on output: no frame, neighbour failed/timed out, queue full */
	/* UDP (RFC 4113, Linux "Udp:") */
	HXS_MIB_UDP_IN_DATAGRAMS,
	HXS_MIB_UDP_NO_PORTS,
	HXS_MIB_UDP_IN_ERRORS,
	HXS_MIB_UDP_OUT_DATAGRAMS,
	HXS_MIB_UDP_RCVBUF_ERRORS,
	HXS_MIB_UDP_SNDBUF_ERRORS,
	HXS_MIB_UDP_IN_CSUM_ERRORS,
	HXS_MIB_UDP_IGNORED_MULTI,   /* a broadcast/multicast datagram no socket took */
	/* hxs's own */
	HXS_MIB_ETH_IN_FRAMES,       /* frames received from the I/O backend */
	HXS_MIB_ETH_IN_DISCARDS,     /* runt, not for our MAC, or not IPv4 (the XDP program passes those) */
	HXS_MIB_NEIGH_QUEUED,        /* frames that waited for neighbour resolution */
	HXS_MIB_NEIGH_QUEUE_DROPS,   /* dropped: the neighbour's pending queue was full */
	HXS_MIB_NEIGH_FAILED_DROPS,  /* dropped: resolution failed or timed out */
	HXS_MIB_IP_IN_BCAST_DISCARDS,/* non-UDP to a broadcast/multicast IP or link address */
	HXS_MIB_IP_IN_MARTIAN_SRC,   /* source no host may send from (RFC 1122 3.2.1.3) */
	/* IPv6 (RFC 4293 ipSystemStats for ipv6, Linux /proc/net/snmp6 "Ip6") */
	HXS_MIB_IP6_IN_RECEIVES,     /* IPv6 frames handed to ip6 input */
	HXS_MIB_IP6_IN_HDR_ERRORS,   /* version, payload length 0, bad source, extension header refused */
	HXS_MIB_IP6_IN_TRUNCATED_PKTS,/* payload length past what arrived */
	HXS_MIB_IP6_IN_ADDR_ERRORS,  /* destination is not one of our unicast addresses */
	HXS_MIB_IP6_IN_UNKNOWN_PROTOS,/* next header with no handler (or hop-by-hop not first) */
	HXS_MIB_IP6_IN_DISCARDS,     /* fragments (hxs does not reassemble) */
	HXS_MIB_IP6_IN_DELIVERS,     /* handed to UDP/TCP */
	HXS_MIB_IP6_OUT_REQUESTS,    /* datagrams L4 asked us to send */
	HXS_MIB_IP6_OUT_NO_ROUTES,   /* no route to the destination */
	HXS_MIB_IP6_OUT_DISCARDS,    /* dropped on output: neighbour failed/timed out, queue full */
	HXS_MIB_IP6_IN_MARTIAN_SRC,  /* unspecified source on a non-UDP datagram */
	HXS_MIB_MAX
};

struct hxs_mib {
	uint64_t v[HXS_MIB_MAX];
};

extern const char *const hxs_mib_names[HXS_MIB_MAX];

/* A table of counters owned by some layer: names[i] names vals[i]. */
struct hxs_counter_table {
	const char *const *names;
	const uint64_t *vals;
	unsigned n;
};

/* Prints "prefixNAME VALUE\n" for each counter of each table; all counters when all != 0,
 * else only the non-zero ones (as `nstat` does). */
void hxs_counters__print(FILE *fp, const struct hxs_counter_table *t, unsigned ntables, int all);
/* Value of the counter called name in the tables; -ENOENT when none is. */
int hxs_counters__get(const struct hxs_counter_table *t, unsigned ntables, const char *name,
		      uint64_t *val);

#endif
