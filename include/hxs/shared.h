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
#define HXS_MAX_SLOTS      65536  /* connection slots (HXS_MAP_SLOTS), 128 B each: 8 MiB, mapped
                                   * by userspace; slot 0 is the header (struct hxs_slot_hdr).
                                   * A connection without a free slot works without the fast
                                   * path (its conn entry says HXS_SLOT_NONE) */
#define HXS_SLOT_NONE      0u     /* hxs_conn_val.slot of a connection without one */
#define HXS_MAX_EPH        65536  /* entries of HXS_MAP_EPH: one per TCP port number, 16 B
                                   * each (1 MiB, mapped by userspace) */

/* Map names. iproute2 pins maps declared LIBBPF_PIN_BY_NAME as <bpffs>/tc/globals/<name>. */
#define HXS_MAP_XSKS   "hxs_xsks"
#define HXS_MAP_BINDS  "hxs_binds"
#define HXS_MAP_CONNS  "hxs_conns"
#define HXS_MAP_STATS  "hxs_stats"
#define HXS_MAP_FRAGS  "hxs_frags"
#define HXS_MAP_SLOTS  "hxs_slots"       /* BPF_F_MMAPABLE array of struct hxs_slot */
#define HXS_MAP_WAKE   "hxs_wake"        /* ring buffer: doorbell of a sleeping stack */
#define HXS_MAP_COOKIE "hxs_cookie"      /* SYN-cookie secrets (struct hxs_cookie_secret) */
#define HXS_MAP_EPH    "hxs_eph"         /* BPF_F_MMAPABLE array of struct hxs_eph_val */
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
#define HXS_BIND_F_COOKIES (1u << 1)  /* TCP listener under SYN pressure (the stack sets it when
                                       * the SYN queue passes its threshold, clears it when the
                                       * queue drains): XDP answers SYNs to it with cookie
                                       * SYN-ACKs (XDP_TX) and validates the returning ACKs */
/* What a cookie SYN-ACK offers for the listener (the stack writes them with
 * HXS_BIND_F_COOKIES; XDP sends no cookie while the MSS field is 0). The SYN-ACK's window is
 * 65535: the stack sets HXS_BIND_F_COOKIES only on listeners whose buffer covers it. */
#define HXS_BIND_F_NO_SACK (1u << 2)  /* the listener does not offer SACK-permitted */
#define HXS_BIND_F_NO_TS   (1u << 3)  /* ... timestamps */
#define HXS_BIND_F_NO_WS   (1u << 4)  /* ... window scaling */
#define HXS_BIND_WS_SHIFT  8          /* bits 8-11: its window scale */
#define HXS_BIND_MSS_SHIFT 16         /* bits 16-31: its MSS option */
#define HXS_BIND_COOKIE_WIN 65535u
#define HXS_BIND_WS(f)     (((f) >> HXS_BIND_WS_SHIFT) & 0xfu)
#define HXS_BIND_MSS(f)    ((f) >> HXS_BIND_MSS_SHIFT)

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
	__u32 slot;         /* index into HXS_MAP_SLOTS, or HXS_SLOT_NONE */
	__u32 gen;          /* the slot's incarnation (hxs_slot.gen): a frame judged against a
	                     * slot that was freed and reused in between is not taken */
};

/* Ephemeral TCP ports hxs holds: HXS_MAP_EPH, indexed by the local port in host order, holds
 * the local address hxs reserved that port on in the kernel (a kernel socket bound to exactly
 * that address and port, without SO_REUSEADDR: no kernel socket can take it while hxs holds
 * it), or all zeros. Written by userspace through its mapping, with no syscall: set before a
 * connect()'s SYN goes out, cleared before the kernel reservation is closed. The program
 * steers a TCP frame whose local address and port match an entry as it steers one of a
 * listener (after the conn and bind lookups missed), so an active open from the ephemeral
 * range needs no conn entry to be steered (the connection gets one later only if it moves
 * enough data for the ACK fast path to matter; see tcp_sock.c). The 16 bytes are written
 * in four 32-bit stores: a frame racing a change matches the old address, the new one, or
 * neither (the frame then goes to the kernel, as an unreserved port's would). */
struct hxs_eph_val {
	__u32 addr[4];      /* as the keys above: IPv4 as ::ffff:a.b.c.d; all zero: not held */
};

/* --- connection slots: the state XDP and the stack share (see README "The fast path") ---
 *
 * One 128-byte slot per connection in a BPF_F_MMAPABLE array that userspace maps: no syscall
 * on either side. gen and flags, which XDP reads for every segment of the connection, have
 * the first cache line to themselves and change only with the connection's state; the
 * per-segment fields share the second, which XDP reads only for a pure ACK it may take. A
 * data segment so reads no line the stack has just written (a request/response exchange
 * would otherwise pull the line across CPUs twice a segment: into the XDP program, which
 * runs in the sender's context, and back into the stack that writes it next). Each field
 * has one writer, except `ack`:
 *   stack writes: gen, flags, snd_max, rcv_nxt, rcv_adv, ts_recent (plain stores, each field
 *                 monotone or only tightened while the fast path is on; XDP re-reads them
 *                 per frame and judges with whatever it sees: a stale value only makes it
 *                 decline more, see hxs_fp_judge_ack() in hxs/fastpath.h);
 *   XDP writes:   tsval, tsecr, nacks_total (after the ack word, same frame);
 *   both:         ack (64 bits: SND.UNA | window << 32 | ACK count << 48). XDP advances it with
 *                 a compare-and-swap when it consumes an ACK; the stack advances SND.UNA in it
 *                 the same way when it processes an ACK itself, so XDP never takes an ACK the
 *                 stack would call a duplicate. Neither side ever moves SND.UNA backwards.
 * Memory ordering: XDP's compare-and-swap is a full barrier (BPF_CMPXCHG); it writes
 * tsval/tsecr before it, so a stack that sees the new ack word (acquire load) sees timestamps
 * at least that new. The stack publishes snd_max before the segment that uses it is queued
 * (store, then the TX ring's release), so no ACK for data XDP has not heard of can arrive.
 * Slot 0 is struct hxs_slot_hdr (the stack-wide flags). */
struct hxs_slot {
	/* written by the stack */
	__u32 gen;          /* incarnation, bumped when the slot is (re)assigned; 0 = free */
	__u32 flags;        /* HXS_SLOT_F_* */
	__u32 pad_line[14]; /* the rest of gen's and flags' cache line */
	__u32 snd_max;      /* highest sequence number sent + 1 (incl. SYN/FIN): SEG.ACK limit */
	__u32 rcv_nxt;      /* RCV.NXT: a pure ACK XDP takes carries exactly this SEG.SEQ */
	__u32 rcv_adv;      /* right edge of the receive window last advertised */
	__u32 ts_recent;    /* TS.Recent (RFC 7323 §5.3 PAWS), with HXS_SLOT_F_TS */
	__u32 pad0[2];
	/* written by both (compare-and-swap) */
	__u64 ack;          /* SND.UNA (bits 0-31) | SEG.WND unscaled (32-47) | ACKs (48-63) */
	/* written by XDP */
	__u32 tsval;        /* TSval of the latest ACK XDP consumed (TS.Recent candidate) */
	__u32 tsecr;        /* its TSecr (RTT sample, RFC 7323 §4.1) */
	__u64 nacks_total;  /* ACKs consumed for this connection (statistics) */
	__u32 pad1[4];
};
#define HXS_SLOT_F_FAST   (1u << 0) /* ACK fast path allowed (ESTABLISHED or CLOSE_WAIT, no
                                     * FIN sent, not in recovery or loss, SACK scoreboard
                                     * empty, not probing a zero window) */
#define HXS_SLOT_F_TS     (1u << 1) /* timestamps negotiated: a segment must carry them */
#define HXS_SLOT_F_RST    (1u << 2) /* known connection: out-of-window RSTs dropped in XDP
                                     * (RFC 5961 §3.2); set from ESTABLISHED on */

#define HXS_SLOT_ACK(una, wnd, n) ((__u64)(__u32)(una) | (__u64)(__u16)(wnd) << 32 | (__u64)(__u16)(n) << 48)
#define HXS_SLOT_ACK_UNA(a)       ((__u32)(a))
#define HXS_SLOT_ACK_WND(a)       ((__u16)((a) >> 32))
#define HXS_SLOT_ACK_N(a)         ((__u16)((a) >> 48))

/* Slot 0. */
struct hxs_slot_hdr {
	__u32 magic;        /* HXS_SLOT_MAGIC once the stack mapped the slots */
	__u32 sleeping;     /* the stack sleeps in epoll_wait: the XDP side that consumes an ACK
	                     * and finds this 1 swaps it to 0 and rings HXS_MAP_WAKE. The stack
	                     * sets it (atomic exchange, a full barrier) and then looks at its
	                     * slots once more before it sleeps: either it sees the ACK's
	                     * progress, or XDP sees the flag. */
	__u32 fast_off;     /* 1: the fast path is off stack-wide (HXS_FASTPATH=0): XDP takes
	                     * nothing, every frame goes to the stack */
	__u32 pad[29];
};
#define HXS_SLOT_MAGIC 0x68787353u  /* "hxsS" */

/* Metadata in front of every frame XDP redirects (bpf_xdp_adjust_meta), when the driver
 * keeps it: the stack reads it at data - sizeof(struct hxs_xdp_meta) (UMEM address of the
 * RX descriptor minus 20) and checks magic. The descriptor does not say whether or how much
 * metadata there is; copy mode (net/xdp/xsk.c __xsk_rcv) copies it from data_meta with the
 * frame, no socket or UMEM option needed (tests/bpf/test_xdp_meta_xsk.c on veth). A driver
 * without metadata support leaves older bytes there: the stack verifies the tuple. */
struct hxs_xdp_meta {
	__u32 magic;        /* HXS_META_MAGIC */
	__u32 slot;         /* the connection's slot (HXS_SLOT_NONE: none or no conn entry) */
	__u32 gen;          /* the slot's gen at the conn entry */
	__u16 l3_off;       /* IP header offset in the frame */
	__u16 l4_off;       /* TCP/UDP header offset */
	__u8  reason;       /* enum hxs_fp_reason: why the fast path declined it */
	__u8  flags;        /* HXS_META_F_* */
	__u16 pad;
};
#define HXS_META_MAGIC     0x68786d31u  /* "hxm1" */
#define HXS_META_F_COOKIE  (1u << 0)    /* ACK carrying a SYN cookie XDP validated */

/* SYN-cookie secrets, one array entry: the stack writes them (random at start, rotated),
 * XDP reads them. The cookie scheme itself is in hxs/syncookie.h. */
struct hxs_cookie_secret {
	__u64 key[2][2];    /* two SipHash keys: current and previous */
	__u32 cur;          /* which key[] is current (0/1) */
	__u32 pad;
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
#define HXS_XDP_CFG_F_TX_REDIRECT (1u << 1) /* the program's own replies (cookie SYN-ACKs) leave
                                             * by bpf_redirect() to the receiving interface, not
                                             * XDP_TX: on a veth, XDP_TX queues the frame on the
                                             * peer but kicks the peer's NAPI only when the peer
                                             * has an XDP program (veth_xdp_flush()); a redirect's
                                             * flush always does (veth_xdp_xmit() with
                                             * XDP_XMIT_FLUSH). xdp_ctl sets it on veth. */
#define HXS_XDP_CFG_DEFAULT { .magic = HXS_XDP_CFG_MAGIC, .flags = HXS_XDP_CFG_F_IPV6 }

/* XDP counters: index into the per-CPU array HXS_MAP_STATS (one __u64 per CPU per index).
 * Named after the kernel MIB where one exists. Keep HXS_XDP_STAT_NAMES (below) in step.
 * Every frame ends in exactly one of Passed, Dropped, TcpSteered, UdpSteered, AckFastPath,
 * SynCookiesSent, so InReceives == Passed + Dropped + TcpSteered + UdpSteered + AckFastPath +
 * SynCookiesSent; the other counters say why (RstOutOfWindow and SynCookiesFailed frames are
 * also Dropped, SynCookiesValid ones also TcpSteered). */
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
	HXS_XDP_ACK_FAST_PATH,     /* pure ACKs consumed in XDP (slot updated, frame dropped) */
	HXS_XDP_ACK_DECLINED,      /* ACKs of fast-path connections given to the stack instead */
	HXS_XDP_RST_OUT_OF_WINDOW, /* RSTs outside the receive window (RFC 5961 §3.2): dropped */
	HXS_XDP_WAKEUPS,           /* doorbells rung for a sleeping stack */
	HXS_XDP_SYN_COOKIES_SENT,  /* SYN-ACKs with a cookie sent back (XDP_TX) */
	HXS_XDP_SYN_COOKIES_VALID, /* ACKs with a valid cookie, redirected to the stack */
	HXS_XDP_SYN_COOKIES_FAILED,/* ACKs to a cookie listener whose cookie failed: dropped */
	HXS_XDP_STAT_MAX
};

#define HXS_XDP_STAT_NAMES                                                               \
	{                                                                                \
		"XdpInReceives", "XdpInTruncated", "XdpInHdrErrors", "XdpTcpHdrErrors",  \
		"XdpUdpHdrErrors", "XdpFragDrops", "XdpTcpSteered", "XdpUdpSteered",     \
		"XdpPassed", "XdpNoSocket", "XdpNonIp", "XdpVlan", "XdpDropped",         \
		"XdpAckFastPath", "XdpAckDeclined", "XdpRstOutOfWindow", "XdpWakeups",   \
		"XdpSynCookiesSent", "XdpSynCookiesValid", "XdpSynCookiesFailed"         \
	}

_Static_assert(sizeof(struct hxs_bind_key) == 20, "hxs_bind_key layout");
_Static_assert(sizeof(struct hxs_bind_val) == 8, "hxs_bind_val layout");
_Static_assert(sizeof(struct hxs_conn_key) == 40, "hxs_conn_key layout");
_Static_assert(sizeof(struct hxs_conn_val) == 8, "hxs_conn_val layout");
_Static_assert(sizeof(struct hxs_eph_val) == 16, "hxs_eph_val layout");
_Static_assert(sizeof(struct hxs_frag_key) == 40, "hxs_frag_key layout");
_Static_assert(sizeof(struct hxs_xdp_cfg) == 24, "hxs_xdp_cfg layout");
_Static_assert(sizeof(struct hxs_slot) == 128, "hxs_slot layout: two cache lines");
_Static_assert(__builtin_offsetof(struct hxs_slot, snd_max) == 64,
	       "hxs_slot layout: gen and flags alone on the first cache line");
_Static_assert(sizeof(struct hxs_slot_hdr) == sizeof(struct hxs_slot), "hxs_slot_hdr overlays slot 0");
_Static_assert(sizeof(struct hxs_xdp_meta) == 20, "hxs_xdp_meta layout (a multiple of 4, <= 32)");
_Static_assert(sizeof(struct hxs_cookie_secret) == 40, "hxs_cookie_secret layout");
_Static_assert(HXS_XDP_STAT_MAX == 20, "update HXS_XDP_STAT_NAMES with enum hxs_xdp_stat");

#endif
