/* shared.h - the one definition of everything the XDP program and userspace share:
 * map names, keys, values and counter indices. Included by bpf/hxs.bpf.c (clang -target bpf)
 * and by user/ (gcc). Only fixed-width types, explicit padding, sizes asserted.
 *
 * Addresses are stored as 16 bytes: IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d),
 * so one key type serves both families. All addresses and ports are in network byte order.
 */
#ifndef HXS_SHARED_H
#define HXS_SHARED_H

#include <linux/types.h>

#define HXS_MAX_QUEUES     64     /* entries of the XSK map: one per receive queue */
#define HXS_MAX_BINDS      4096   /* listeners + UDP binds */
#define HXS_MAX_CONNS      262144 /* 4-tuples: connections and TIME-WAIT (the TCP core's
                                   * max_conns + max_tw defaults); entries allocated on use */
#define HXS_MAX_FRAGS      1024   /* datagrams of owned flows whose fragments are being dropped */

/* Map names. iproute2 pins maps declared LIBBPF_PIN_BY_NAME as <bpffs>/tc/globals/<name>. */
#define HXS_MAP_XSKS   "hxs_xsks"
#define HXS_MAP_BINDS  "hxs_binds"
#define HXS_MAP_CONNS  "hxs_conns"
#define HXS_MAP_STATS  "hxs_stats"
#define HXS_MAP_FRAGS  "hxs_frags"
#define HXS_PROG_NAME  "hxs_xdp"         /* section "xdp" */
#define HXS_PROG_NAME_FRAGS "hxs_xdp_frags" /* section "xdp.frags": the same, multi-buffer */

/* A local (addr, port, proto) that hxs owns: a TCP listener or a bound UDP socket.
 * The program looks up the exact address first, then the wildcard of the frame's family:
 * :: (in6addr_any) for IPv6, ::ffff:0.0.0.0 (INADDR_ANY) for IPv4; a dual-stack wildcard
 * socket needs both entries. */
struct hxs_bind_key {
	__u8  addr[16];
	__be16 port;
	__u8  proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	__u8  pad;          /* must be zero */
};

struct hxs_bind_val {
	__u32 owner;        /* opaque to the program: userspace socket id */
	__u32 flags;        /* HXS_BIND_F_* */
};
#define HXS_BIND_F_LISTEN  (1u << 0)  /* TCP listener: steer SYNs and everything else to it.
                                       * A TCP entry without it (bound, not listening)
                                       * steers nothing; UDP entries ignore it. */

/* A TCP (or connected UDP) 4-tuple that hxs owns. "local" is the hxs side, i.e. the
 * destination of received frames. */
struct hxs_conn_key {
	__u8  laddr[16];
	__u8  raddr[16];
	__be16 lport;
	__be16 rport;
	__u8  proto;
	__u8  pad[3];       /* must be zero */
};

struct hxs_conn_val {
	__u32 conn_id;      /* userspace connection index */
	__u32 flags;
};

/* An IP datagram of an owned flow whose first fragment the program dropped: later fragments
 * carry no ports, so the program recognises them by (saddr, daddr, id, proto) and drops them
 * too. IPv4 ids are 16 bits (stored in the low bits, network order), IPv6 ids 32 bits. */
struct hxs_frag_key {
	__u8  saddr[16];
	__u8  daddr[16];
	__be32 id;
	__u8  proto;
	__u8  pad[3];       /* must be zero */
};

/* The program's configuration, one `const volatile` struct in its .rodata: userspace sets it
 * through the skeleton before load; the defaults (HXS_XDP_CFG_DEFAULT) are what
 * `ip link set dev X xdp obj hxs.bpf.o sec xdp` runs with. Userspace reads it back from the
 * .rodata map of an attached program to recognise hxs and to find who attached it. */
struct hxs_xdp_cfg {
	__u32 magic;        /* HXS_XDP_CFG_MAGIC */
	__u32 flags;        /* HXS_XDP_CFG_F_* */
	__u32 owner_pid;    /* 0: attached by an operator (ip link); else the hxs process that
	                     * attached it through libxdp, in that process's pid namespace */
	__u32 owner_pidns;  /* inode of that pid namespace: a process in another one cannot
	                     * tell whether the owner lives, so it never removes the program */
	__u64 owner_start;  /* owner's start time (field 22 of /proc/PID/stat, clock ticks), so a
	                     * reused PID is not mistaken for a live owner */
};
#define HXS_XDP_CFG_MAGIC   0x68787331u     /* "hxs1" */
#define HXS_XDP_CFG_F_IPV6  (1u << 0)       /* steer IPv6 flows (else every IPv6 frame passes) */
#define HXS_XDP_CFG_DEFAULT { .magic = HXS_XDP_CFG_MAGIC, .flags = HXS_XDP_CFG_F_IPV6 }

/* XDP counters: index into the per-CPU array HXS_MAP_STATS (one __u64 per CPU per index).
 * Named after the kernel MIB where one exists. Keep HXS_XDP_STAT_NAMES (below) in step.
 * Every frame ends in exactly one of Passed, Dropped, TcpSteered, UdpSteered, so
 * InReceives == Passed + Dropped + TcpSteered + UdpSteered; the other counters say why. */
enum hxs_xdp_stat {
	HXS_XDP_IN_RECEIVES = 0,   /* every frame the program saw */
	HXS_XDP_IN_TRUNCATED,      /* frame ends inside a header it claims (Ethernet, VLAN, IP
	                            * incl. options and extension headers, TCP/UDP fixed header)
	                            * or before the IP total/payload length: passed */
	HXS_XDP_IN_HDR_ERRORS,     /* bad IPv4/IPv6 header: version, IHL < 5, total length <
	                            * header length, IPv4-mapped IPv6 address: passed (the
	                            * kernel judges it) */
	HXS_XDP_TCP_HDR_ERRORS,    /* TCP data offset < 5 or past the segment, owned flows: dropped */
	HXS_XDP_UDP_HDR_ERRORS,    /* UDP length < 8 or past the datagram, owned flows: dropped */
	HXS_XDP_FRAG_DROPS,        /* IP fragments of owned flows (hxs does not reassemble): dropped */
	HXS_XDP_TCP_STEERED,       /* TCP redirected to an AF_XDP socket */
	HXS_XDP_UDP_STEERED,       /* UDP redirected to an AF_XDP socket */
	HXS_XDP_PASSED,            /* every XDP_PASS verdict (not owned, or could not be parsed) */
	HXS_XDP_NO_SOCKET,         /* owned, but no AF_XDP socket on this queue: passed to kernel */
	HXS_XDP_NON_IP,            /* ARP and other ethertypes (also QinQ inner tags): passed */
	HXS_XDP_VLAN,              /* frames that carried one 802.1Q/802.1ad tag */
	HXS_XDP_DROPPED,           /* every XDP_DROP verdict */
	HXS_XDP_STAT_MAX
};

#define HXS_XDP_STAT_NAMES                                                               \
	{                                                                                \
		"XdpInReceives", "XdpInTruncated", "XdpInHdrErrors", "XdpTcpHdrErrors",  \
		"XdpUdpHdrErrors", "XdpFragDrops", "XdpTcpSteered", "XdpUdpSteered",     \
		"XdpPassed", "XdpNoSocket", "XdpNonIp", "XdpVlan", "XdpDropped"          \
	}

_Static_assert(sizeof(struct hxs_bind_key) == 20, "hxs_bind_key layout");
_Static_assert(sizeof(struct hxs_bind_val) == 8, "hxs_bind_val layout");
_Static_assert(sizeof(struct hxs_conn_key) == 40, "hxs_conn_key layout");
_Static_assert(sizeof(struct hxs_conn_val) == 8, "hxs_conn_val layout");
_Static_assert(sizeof(struct hxs_frag_key) == 40, "hxs_frag_key layout");
_Static_assert(sizeof(struct hxs_xdp_cfg) == 24, "hxs_xdp_cfg layout");
_Static_assert(HXS_XDP_STAT_MAX == 13, "update HXS_XDP_STAT_NAMES with enum hxs_xdp_stat");

#endif
