/* tcp.h - the TCP core as the rest of the library sees it: sans-I/O, no clock.
 *
 * The embedding layer (AF_XDP datapath, or a simulator) owns time and frames:
 *   hxs_tcp__new(&cfg, &tx_ops, &ev_ops, ctx)       one instance per stack
 *   hxs_tcp__input(tcp, saddr, daddr, hdr, len, flags, now)   a TCP segment arrived
 *   hxs_tcp__poll(tcp, now)                          timers + pending output
 *   hxs_tcp__next_deadline(tcp)                      when to call poll again
 * and the core emits complete TCP segments (checksum filled) into frames it asks the
 * embedding layer for (tx_ops.alloc / tx_ops.send): no copy after the core writes.
 *
 * Call hxs_tcp__poll() after each batch of hxs_tcp__input() calls: segments that input
 * emits (ACKs, data) are handed to tx.send at once, but tx.flush runs only from poll.
 *
 * The socket layer drives connections with the hxs_tcp_conn__* calls below. They return
 * negative errno like the kernel. Addresses are IPv4 in network byte order, ports in host
 * byte order. A connection handed to the socket layer (connect, accept) stays valid until
 * the socket layer calls hxs_tcp_conn__close(); after that the core owns it (it may linger
 * in FIN_WAIT/TIME_WAIT) and the pointer must not be used again.
 */
#ifndef HXS_TCP_H
#define HXS_TCP_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/addr.h"

struct hxs_tcp;
struct hxs_tcp_conn;
struct hxs_tcp_info;
struct hxs_slot;

/* Kernel-style counters (nstat names), printed with hxs_tcp_mib_names[]. */
#define HXS_TCP_MIB_LIST(X)                                                               \
	X(TcpActiveOpens) X(TcpPassiveOpens) X(TcpAttemptFails) X(TcpEstabResets)           \
	X(TcpCurrEstab) X(TcpInSegs) X(TcpOutSegs) X(TcpRetransSegs) X(TcpInErrs)            \
	X(TcpOutRsts) X(TcpInCsumErrors) X(TCPTimeouts) X(TCPFastRetrans)                    \
	X(TCPSackRecovery) X(TCPRenoRecovery) X(TCPChallengeACK)                            \
	X(TCPSYNChallenge) X(PAWSEstab) X(TCPDSACKRecv) X(TCPOFOQueue) X(TCPOFODrop)         \
	X(TCPAbortOnData) X(TCPAbortOnClose) X(TCPAbortOnTimeout) X(TCPAbortOnLinger)        \
	X(ListenOverflows) X(ListenDrops) X(DelayedACKs) X(TCPKeepAliveProbes)               \
	X(TCPWinProbe) X(TCPSackBlocksSent) X(TCPTimeWaitReuse) X(TW) X(TCPOptErrs)          \
	X(TCPSpuriousSegs) X(TCPTxNoBufs) X(TCPToZeroWindowAdv) X(TCPFromZeroWindowAdv) X(TCPLostRetransmit) X(TCPDSACKOldSent) \
	X(TCPTimeWaitOverflow) X(TCPMemoryPressures) X(TCPAbortOnMemory) X(TCPRcvQDrop)      \
	X(TCPReqQFullDrop) X(HxsTcpConnLimitDrops) X(HxsTcpMemRefused) X(HxsTcpOfoConnDrops) \
	X(HxsTcpOfoStackDrops) X(HxsTcpSndMemFails) X(HxsTcpTupleRefused)                    \
	X(TCPACKSkippedChallenge) X(TCPACKSkippedPAWS) X(TCPACKSkippedSeq)                 \
	X(HxsTcpFastPathAcks) X(HxsTcpDemuxBySlot) X(HxsTcpDemuxSlotMiss) X(HxsTcpHeaderPredicted) \
	X(TCPDeliveredCE) X(HxsTcpEcnNegotiated) X(HxsTcpEcnCeRcvd) X(HxsTcpEcnReductions)  \
	X(HxsTcpUrgRcvd) X(TCPLossProbes) X(TCPLossProbeRecovery) X(TCPSpuriousRTOs)   \
	X(TCPFullUndo) X(TCPPartialUndo) X(TCPDSACKUndo) X(TCPLossUndo)       \
	X(TCPMTUPFail) X(TCPMTUPSuccess) X(HxsTcpMtuProbes) X(HxsTcpMtuBlackHole)    \
	X(HxsTcpPmtuUpdates) X(SyncookiesSent) X(SyncookiesRecv) X(SyncookiesFailed)   \
	X(HxsTcpOutPaced) X(HxsTcpOutCwndLimited) X(HxsTcpOutRwndLimited)                   \
	X(HxsTcpHeaderPredictedAck)

enum hxs_tcp_mib {
#define HXS_TCP_MIB_ENUM(n) HXS_TCP_MIB_##n,
	HXS_TCP_MIB_LIST(HXS_TCP_MIB_ENUM)
#undef HXS_TCP_MIB_ENUM
	HXS_TCP_MIB__COUNT
};
extern const char *const hxs_tcp_mib_names[HXS_TCP_MIB__COUNT];

/* What the instance holds now against its limits (README "Limits"), printed like counters
 * with hxs_tcp_res_names[]: hxs_tcp__res() refreshes and returns them. */
#define HXS_TCP_RES_LIST(X)                                                               \
	X(HxsTcpConns) X(HxsTcpConnsMax) X(HxsTcpTimeWait) X(HxsTcpTimeWaitMax)              \
	X(HxsTcpOfoBytes) X(HxsTcpOfoMax) X(HxsTcpOfoConnMax) X(HxsTcpBufBytes)             \
	X(HxsTcpBufCached) X(HxsTcpMemLow) X(HxsTcpMemPressure) X(HxsTcpMemMax)             \
	X(HxsTcpMemUnderPressure)

enum hxs_tcp_res {
#define HXS_TCP_RES_ENUM(n) HXS_TCP_RES_##n,
	HXS_TCP_RES_LIST(HXS_TCP_RES_ENUM)
#undef HXS_TCP_RES_ENUM
	HXS_TCP_RES__COUNT
};
extern const char *const hxs_tcp_res_names[HXS_TCP_RES__COUNT];

struct hxs_tcp_cfg {
	uint32_t mtu;               /* IP MTU of the path; MSS = mtu - 40 (clamp). 0: 1500 */
	uint32_t sndbuf, rcvbuf;    /* default buffer sizes (bytes). 0: 256 KiB / 256 KiB */
	uint8_t isn_secret[16];     /* RFC 6528 key; the embedding layer fills it randomly */
	uint32_t hash_buckets;      /* 4-tuple table size (power of two). 0: 4096 */
	uint32_t max_syn_backlog;   /* tcp_max_syn_backlog. 0: 1024 */
	uint32_t somaxconn;         /* cap on listen() backlog. 0: 4096 */
	uint32_t challenge_ack_limit; /* stack-wide challenge ACKs a second on average (RFC 5961
				       * §7), each second a random count in [n/2, n + n/2). 0:
				       * 1000; UINT32_MAX: no stack-wide limit. Each connection
				       * sends at most one per 500 ms either way. */
	uint32_t msl_ms;            /* TIME_WAIT lasts 2*MSL. 0: 30000 (60 s TIME_WAIT, Linux) */
	uint32_t syn_retries;       /* 0: 6 */
	uint32_t synack_retries;    /* 0: 5 */
	uint32_t retries2;          /* RTO expiries before ETIMEDOUT. 0: 15 */
	uint32_t fin_timeout_s;     /* orphaned FIN_WAIT_2 lifetime. 0: 60 */
	/* Resource limits (README "Limits"); 0 takes the default. hxs_tcp__set_limits() changes
	 * them on a live instance. */
	uint32_t max_conns;         /* connections in the table, TIME-WAIT aside. 0: 196608 */
	uint32_t max_tw;            /* TIME-WAIT entries; the oldest is recycled. 0: 65536 */
	uint32_t ofo_conn_max;      /* out-of-order bytes held per connection. 0: 1 MiB */
	uint64_t ofo_max;           /* out-of-order bytes held by the instance. 0: 64 MiB */
	uint64_t mem_low;           /* buffer memory: pressure ends below this. 0: 256 MiB */
	uint64_t mem_pressure;      /* pressure begins at this. 0: 384 MiB */
	uint64_t mem_max;           /* no buffer memory beyond this. 0: 512 MiB */
	uint32_t mem_cache;         /* free buffer chunks kept for reuse, bytes. 0: 4 MiB */
	const char *cc;             /* default congestion control: "bbr" (0: this), "cubic",
				     * "newreno"; sockets choose their own (TCP_CONGESTION) */
	uint8_t pacing;             /* pace every connection (from cwnd / SRTT unless its
				     * algorithm sets a rate, as Linux with the fq qdisc); 0:
				     * only those whose algorithm asks (BBR) */
	uint8_t no_sack, no_ts, no_ws; /* disable offering an option */
	/* ECN (RFC 3168) as the kernel's net.ipv4.tcp_ecn, stored plus one so that a zeroed cfg
	 * takes Linux's default: HXS_TCP_CFG_ECN(0) off, (1) request on outgoing connections and
	 * accept incoming ones, (2) accept incoming ones only; 0: (2). hxs_tcp__set_ecn() changes
	 * it on a live instance (connections opened from then on). */
	uint8_t ecn;
	uint8_t recovery;           /* loss recovery with SACK: 0 RACK-TLP (RFC 8985, default), 1
				     * RFC 6675 (Linux's tcp_recovery 1 / 0); hxs_tcp_recovery_find() */
	/* Packetization-layer PMTU discovery (RFC 4821) as the kernel's net.ipv4.tcp_mtu_probing,
	 * stored plus one: HXS_TCP_CFG_MTU_PROBING(0) off, (1) after a black hole is suspected
	 * (repeated RTOs), (2) always; 0: (0), Linux's default (see tcp_pmtu.c). */
	uint8_t mtu_probing;
	uint8_t no_hystart;         /* 0 (default): CUBIC's and NewReno's initial slow start is
				     * HyStart++ (RFC 9406, tcp_cc_hystart.c); 1: classic slow
				     * start (RFC 5681) until loss */
	/* 1: the embedding layer hands segments over in batches and calls hxs_tcp__poll() after
	 * each (the stack's turn): the duplicate ACKs of out-of-order segments, beyond the
	 * first three, may wait for the batch's end and go as one (tcp_process.c ack_may_wait),
	 * as Linux's SACK compression; so does the ACK in-order data makes due, one cumulative
	 * ACK for the batch (tcp_input.h inorder_ack_may_wait), as GRO makes the kernel's.
	 * 0: every ACK goes at once. */
	uint8_t ack_batch;
	uint8_t no_stretch_ack;     /* with ack_batch, 1: in-order data is ACKed every second
				     * full-sized segment at once as without it (a sender limiting
				     * its slow start by RFC 3465's L per ACK grows faster) */
	/* 1: the ACK of a SYN,ACK, and of a FIN in ESTABLISHED, waits one hxs_tcp__poll() (the
	 * user hears the news at once): a request written on a completed connect, or the close
	 * answering the peer's FIN, goes with it as one segment (tcp_process.c). 0: at once. */
	uint8_t ack_defer;
	/* 1: ev.on_event only when the mask gains a bit (readable, writable, hung up, an error);
	 * not when it only loses some (the user read or wrote), which wakes no one: the kernel's
	 * recvmsg and sendmsg make no wakeup either. 0: on every change. */
	uint8_t notify_gains;
	/* 0 (default): the rest of the ACK that in-order data brings (RACK-TLP, congestion
	 * control) may run after the answer's segment went (tcp_ack_rest.c); 1: always at once
	 * (the same segments: tests compare the two) */
	uint8_t ack_rest_now;
	uint8_t no_syncookies;      /* 0 (default): a full SYN queue answers SYNs with SYN
				     * cookies, as the kernel's default tcp_syncookies = 1
				     * (tcp_syncookie.c); 1: it drops them (tcp_syncookies = 0) */
	/* Tests only (NULL otherwise): the ISS of a new connection comes from this hook instead
	 * of RFC 6528, e.g. to start next to the 2^32 sequence wrap. */
	/* (addresses: the low 32 bits, the IPv4 address of an IPv4 connection) */
	uint32_t (*isn_hook)(void *arg, uint32_t laddr, uint16_t lport, uint32_t raddr,
			     uint16_t rport);
	void *isn_hook_arg;
};

#define HXS_TCP_CFG_ECN(tcp_ecn) ((uint8_t)((tcp_ecn) + 1))
#define HXS_TCP_CFG_MTU_PROBING(v) ((uint8_t)((v) + 1))

/* Frames for output. alloc returns a buffer of at least len bytes (or NULL: the core retries
 * on the next poll); send hands it over, filled with len bytes of TCP segment for an IPv4
 * packet saddr -> daddr whose TOS byte is tos (the connection's IP_TOS with the ECN field
 * the core chose: ECT(0) on new data of an ECN connection, RFC 3168 §6.1.1) and whose TTL
 * is ttl (the connection's IP_TTL; 0: the IP layer's default). flush
 * (optional) ends a batch. */
struct hxs_tcp_tx_ops {
	uint8_t *(*alloc)(void *ctx, uint32_t len, void **handle);
	void (*send)(void *ctx, void *handle, struct hxs_addr saddr, struct hxs_addr daddr,
		     uint32_t len, uint8_t tos, uint8_t ttl);
	void (*flush)(void *ctx);
};

/* Notifications for the socket layer and the steering maps (all optional). They are called
 * from inside hxs_tcp__input/poll/timers and the hxs_tcp_conn__* calls; a callback must not
 * call back into the core except for read-only queries (events, info, tuple, user). */
enum { HXS_TCP_TUPLE_ADD = 1, HXS_TCP_TUPLE_DEL = 0 };
struct hxs_tcp_ev_ops {
	/* Readiness changed: mask of EPOLLIN/EPOLLOUT/EPOLLRDHUP/EPOLLHUP/EPOLLERR, the whole
	 * readiness of c now (hxs_tcp_conn__events), not only what changed. */
	void (*on_event)(void *ctx, struct hxs_tcp_conn *c, uint32_t mask);
	/* A connection's 4-tuple enters (add=1) or leaves (0) the table. An add may fail
	 * (negative errno: the steering entry could not be made): the core then leaves the
	 * connection out of its table and fails it (connect returns the error, a SYN is
	 * dropped), counted in HxsTcpTupleRefused; no del follows a failed add. */
	int (*on_tuple)(void *ctx, struct hxs_tcp_conn *c, int add);
	/* A listener on laddr:lport (a wildcard: hxs_addr_is_any) is added or removed. */
	void (*on_listen)(void *ctx, struct hxs_tcp_conn *l, struct hxs_addr laddr, uint16_t lport,
			  int add);
	/* A listener's SYN queue filled up (pressure 1: the core answers SYNs with cookies
	 * from now on; XDP may too) or drained to half (0). */
	void (*on_synq)(void *ctx, struct hxs_tcp_conn *l, int pressure);
};

/* --- the instance ------------------------------------------------------------------------ */
int hxs_tcp__new(struct hxs_tcp **out, const struct hxs_tcp_cfg *cfg,
		 const struct hxs_tcp_tx_ops *tx, const struct hxs_tcp_ev_ops *ev, void *ctx,
		 uint64_t now);
/* Changes the resource limits of a live instance (the cfg's max_conns ... mem_cache; 0 takes
 * the default); a limit below what is held now refuses what would add to it. */
void hxs_tcp__set_limits(struct hxs_tcp *tcp, const struct hxs_tcp_cfg *limits);
/* The buffer sizes connections made from now on start with (cfg.sndbuf / cfg.rcvbuf; 0 takes
 * the default, 256 KiB). */
void hxs_tcp__set_bufs(struct hxs_tcp *tcp, uint32_t sndbuf, uint32_t rcvbuf);
/* The limits in effect (every field of cfg but the limits is left alone). */
void hxs_tcp__limits(const struct hxs_tcp *tcp, struct hxs_tcp_cfg *limits);
/* Frees the table's connections and listeners without sending anything; connections the
 * socket layer still holds must be closed (hxs_tcp_conn__close) first. */
void hxs_tcp__free(struct hxs_tcp *tcp);
#define HXS_TCP_IN_CSUM_OK 1u  /* checksum already verified (by the NIC or XDP) */
/* The ECN field of the segment's IP header (RFC 3168 §5: the TOS byte's two low bits), for
 * the flags of hxs_tcp__input: HXS_TCP_IN_ECN(iph->tos). Not-ECT when left out. */
#define HXS_TCP_IN_ECN_SHIFT 8
#define HXS_TCP_IN_ECN(tos) (((unsigned)(tos) & 3u) << HXS_TCP_IN_ECN_SHIFT)
#define HXS_TCP_IN_COOKIE_OK 2u /* an ACK whose SYN cookie XDP validated (HXS_META_F_COOKIE):
				 * the core decodes it without checking the MAC and age again */
/* A TCP segment (header + payload, len bytes) arrived. Returns 0 if taken, -EINVAL if dropped
 * as malformed (bad checksum, header, options). */
int hxs_tcp__input(struct hxs_tcp *tcp, uint32_t saddr, uint32_t daddr, const uint8_t *tcp_hdr,
		   uint32_t len, unsigned flags, uint64_t now);
/* The same for either family (an IPv4 segment's addresses as hxs_addr4()). */
int hxs_tcp__input_addr(struct hxs_tcp *tcp, struct hxs_addr saddr, struct hxs_addr daddr,
			const uint8_t *tcp_hdr, uint32_t len, unsigned flags, uint64_t now);
/* The same for a segment whose demux metadata (struct hxs_xdp_meta) names slot and gen: the
 * connection given that slot is found by index, its 4-tuple checked against the segment's
 * (HxsTcpDemuxBySlot); any mismatch falls back to the 4-tuple hash (HxsTcpDemuxSlotMiss).
 * Every check of hxs_tcp__input (lengths, checksum, options) runs as there. */
int hxs_tcp__input_slot(struct hxs_tcp *tcp, uint32_t slot, uint32_t gen, struct hxs_addr saddr,
			struct hxs_addr daddr, const uint8_t *tcp_hdr, uint32_t len, unsigned flags,
			uint64_t now);
/* Runs due timers, then sends what connections have pending. Returns segments sent. */
int hxs_tcp__poll(struct hxs_tcp *tcp, uint64_t now);
/* ACKs due now (RFC 5681 §4.2: every second full-sized segment, a duplicate ACK ...) that
 * input left for the next hxs_tcp__poll() (cfg.ack_batch: one per connection and batch);
 * nonzero: the caller must poll before it waits on anything, the ACK is not delayed. */
unsigned hxs_tcp__acks_waiting(const struct hxs_tcp *tcp);
int hxs_tcp__timers(struct hxs_tcp *tcp, uint64_t now);
/* Sends what one connection may send now (poll does this for every connection the socket
 * calls touched); for a socket layer that wants a write out before the next poll. */
void hxs_tcp__output(struct hxs_tcp_conn *c, uint64_t now);
/* Earliest time poll must run again (0: now, UINT64_MAX: nothing pending). */
uint64_t hxs_tcp__next_deadline(const struct hxs_tcp *tcp);
const uint64_t *hxs_tcp__mib(const struct hxs_tcp *tcp);
/* The gauges of HXS_TCP_RES_LIST, refreshed now; the array stays valid (hxs_tcp__poll
 * refreshes it too, so a reader of the pointer sees the state of the last poll). */
const uint64_t *hxs_tcp__res(struct hxs_tcp *tcp);
/* Connections in the table (any state but CLOSED) and listeners. */
uint32_t hxs_tcp__nconns(const struct hxs_tcp *tcp);
/* Calls fn for every listener and every connection in the table (an `ss` listing); fn must
 * not close, abort or open connections. */
void hxs_tcp__foreach(struct hxs_tcp *tcp, void (*fn)(void *arg, struct hxs_tcp_conn *c), void *arg);
/* The XDP ACK fast path (tcp_fastpath.c, README "The fast path"). A connection given a slot
 * (struct hxs_slot, hxs/shared.h) publishes there what XDP judges ACKs by and reads back the
 * progress XDP made: hxs_tcp__fp_poll() runs that progress through the ACK processing, once
 * a turn before hxs_tcp__poll(), for the connections with data in flight (a list, no scan;
 * not counted in TcpInSegs, in HxsTcpFastPathAcks). hxs_tcp__fp_pending(): XDP made progress
 * poll has not run yet (a loop about to sleep looks, see net/loop.c); next_deadline says 0
 * then too. set_fastpath(0): no connection is offered to XDP any more. */
int hxs_tcp__fp_poll(struct hxs_tcp *tcp, uint64_t now);
int hxs_tcp__fp_pending(const struct hxs_tcp *tcp);
void hxs_tcp__set_fastpath(struct hxs_tcp *tcp, int on);
/* ECN stack-wide, the kernel's tcp_ecn: 0 off, 1 request and accept, 2 accept only; -EINVAL
 * otherwise. Connections opened (or SYNs received) from now on follow it. */
int hxs_tcp__set_ecn(struct hxs_tcp *tcp, int tcp_ecn);
int hxs_tcp__ecn(const struct hxs_tcp *tcp);
/* tcp_mtu_probing stack-wide: 0, 1, 2 (-EINVAL otherwise); connections set up from now on. */
int hxs_tcp__set_mtu_probing(struct hxs_tcp *tcp, int v);
int hxs_tcp__mtu_probing(const struct hxs_tcp *tcp);
/* The kernel's route to raddr has path MTU mtu now (0 or the interface's: none known): the
 * established connections to raddr take it (RFC 1191 §6.3); a smaller one resends what is in
 * flight in the new size. Returns how many connections changed. */
int hxs_tcp__pmtu_update(struct hxs_tcp *tcp, uint32_t raddr, uint32_t mtu, uint64_t now);
int hxs_tcp__pmtu_update_addr(struct hxs_tcp *tcp, struct hxs_addr raddr, uint32_t mtu, uint64_t now);
/* Connection objects allocated and freed over the life of the instance (leak checks). */
void hxs_tcp__alloc_stats(const struct hxs_tcp *tcp, uint64_t *allocated, uint64_t *freed);

/* SYN cookies (tcp_syncookie.c). The secret: the embedding layer's random keys (current and
 * previous; the same the XDP program holds), else one derived from cfg.isn_secret. */
struct hxs_cookie_secret;
struct hxs_sc_local;
void hxs_tcp__set_cookie_secret(struct hxs_tcp *tcp, const struct hxs_cookie_secret *s);
/* What a cookie SYN-ACK of listener l offers (MSS, window, window scale, options). */
void hxs_tcp_conn__cookie_local(const struct hxs_tcp_conn *l, struct hxs_sc_local *loc);

/* --- connections (socket layer) --------------------------------------------------------- */
/* A new connection in CLOSED, owned by the caller; set options, then connect or listen. */
int hxs_tcp_conn__new(struct hxs_tcp *tcp, struct hxs_tcp_conn **out);
/* Active OPEN (§3.10.1): sends a SYN. The caller chooses the local port (the socket layer
 * binds an RFC 6056 ephemeral one first): lport 0 is -EINVAL, as are raddr 0 and rport 0.
 * laddr must be the stack's address. -EISCONN/-EALREADY/-EADDRNOTAVAIL (the 4-tuple is in
 * the table)/-ENOBUFS (max_conns reached, or buffer memory under pressure)/the error of a
 * failed on_tuple add. After a failure c is as fresh as before the call. */
int hxs_tcp_conn__connect(struct hxs_tcp_conn *c, uint32_t laddr, uint16_t lport,
			  uint32_t raddr, uint16_t rport, uint64_t now);
/* Either family: laddr and raddr of the same one (IPv6 connections carry MSS = MTU - 60). */
int hxs_tcp_conn__connect_addr(struct hxs_tcp_conn *c, struct hxs_addr laddr, uint16_t lport,
			       struct hxs_addr raddr, uint16_t rport, uint64_t now);
/* Passive OPEN: c becomes a listener on laddr (0 = any):lport. backlog capped by somaxconn
 * (a negative one means somaxconn, as in the kernel). */
int hxs_tcp_conn__listen(struct hxs_tcp_conn *c, uint32_t laddr, uint16_t lport, int backlog);
/* Either family. laddr :: takes both families unless v6only (IPV6_V6ONLY); 0.0.0.0 (as
 * ::ffff:0.0.0.0) IPv4 only. Listeners of one port conflict as the kernel's bind: -EADDRINUSE. */
int hxs_tcp_conn__listen_addr(struct hxs_tcp_conn *c, struct hxs_addr laddr, uint16_t lport,
			      int v6only, int backlog);
/* Pops an established child; -EAGAIN if none, -EINVAL if c is not listening. */
int hxs_tcp_conn__accept(struct hxs_tcp_conn *c, struct hxs_tcp_conn **child);
/* Queues data (§3.10.2); bytes taken, -EAGAIN (buffer full), -EPIPE (write side shut or
 * connection gone), -ENOTCONN, or the pending error. */
long hxs_tcp_conn__send(struct hxs_tcp_conn *c, const void *buf, size_t len);
#define HXS_TCP_PEEK 1u
#define HXS_TCP_DISCARD 2u     /* take the bytes without copying them (buf unused: MSG_TRUNC) */
/* Urgent data (RFC 9293 §3.8.5, RFC 6093; tcp_urg.c), as Linux: after a send with MSG_OOB,
 * mark_urg() points the urgent pointer past the last byte queued (that byte is the "out of
 * band" one). recv() stops at the urgent mark and, unless SO_OOBINLINE, steps over the urgent
 * byte; recv_urg() returns it once (MSG_OOB): 1, -EINVAL (none, already read, or inline),
 * -EAGAIN (announced, not arrived yet), 0 (the stream ended), never blocking. atmark(): the
 * next byte read is at the mark (SIOCATMARK). inq(): bytes readable before the mark when
 * urgent data waits (SIOCINQ, the kernel's tcp_inq), else all in order. */
void hxs_tcp_conn__mark_urg(struct hxs_tcp_conn *c);
long hxs_tcp_conn__recv_urg(struct hxs_tcp_conn *c, void *buf, size_t len, unsigned flags);
int hxs_tcp_conn__atmark(const struct hxs_tcp_conn *c);
uint32_t hxs_tcp_conn__inq(const struct hxs_tcp_conn *c);
/* Copies received data out (§3.10.3); bytes, 0 at end of stream, -EAGAIN, -ENOTCONN, or the
 * pending error (-ECONNRESET ...). */
long hxs_tcp_conn__recv(struct hxs_tcp_conn *c, void *buf, size_t len, unsigned flags);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. */
int hxs_tcp_conn__shutdown(struct hxs_tcp_conn *c, int how);
/* Releases the socket layer's hold (§3.10.4): a graceful FIN, or a RST when received data was
 * left unread or SO_LINGER is on with 0 s (kernel behaviour). c must not be used again. */
void hxs_tcp_conn__close(struct hxs_tcp_conn *c);
/* ABORT (§3.10.5): RST if synchronized, to CLOSED. The caller still owns c (close it). */
void hxs_tcp_conn__abort(struct hxs_tcp_conn *c);

enum hxs_tcp_opt {
	HXS_TCP_O_NODELAY,      /* 0/1 */
	HXS_TCP_O_KEEPALIVE,    /* SO_KEEPALIVE 0/1 */
	HXS_TCP_O_KEEPIDLE,     /* seconds */
	HXS_TCP_O_KEEPINTVL,    /* seconds */
	HXS_TCP_O_KEEPCNT,
	HXS_TCP_O_MAXSEG,       /* before connect/listen */
	HXS_TCP_O_RCVBUF,       /* before connect/listen (sets the window scale) */
	HXS_TCP_O_SNDBUF,       /* any time, if the queued data fits */
	HXS_TCP_O_LINGER,       /* -1 off, else seconds (0: close sends RST) */
	HXS_TCP_O_OOBINLINE,    /* SO_OOBINLINE 0/1: the urgent byte stays in the stream */
	HXS_TCP_O_TOS,          /* IP_TOS; the ECN field is the core's (the kernel masks it) */
	HXS_TCP_O_TTL,          /* IP_TTL 1..255 for the segments sent; 0: the IP default */
	HXS_TCP_O_USER_TIMEOUT, /* TCP_USER_TIMEOUT, ms (RFC 5482); 0 off; negative EINVAL */
	HXS_TCP_O_CORK,         /* TCP_CORK 0/1: partial segments wait (at most 200 ms) */
	HXS_TCP_O_QUICKACK,     /* TCP_QUICKACK: 1 sends a delayed ACK that is due at once */
};
int hxs_tcp_conn__setopt(struct hxs_tcp_conn *c, enum hxs_tcp_opt opt, int val);
int hxs_tcp_conn__getopt(const struct hxs_tcp_conn *c, enum hxs_tcp_opt opt, int *val);
/* TCP_CONGESTION: "bbr", "cubic" or "newreno", any time (an established connection keeps
 * its cwnd, the algorithm starts over). -ENOENT if unknown. */
int hxs_tcp_conn__set_cc(struct hxs_tcp_conn *c, const char *name);
/* Loss recovery of the connection (before it is established): "rack" (RACK-TLP, RFC 8985,
 * with PRR and undo; the default) or "sack" (RFC 6675 with SACK, RFC 6582 NewReno without).
 * hxs_tcp_recovery_find(): the mode of a name, -ENOENT if unknown. */
int hxs_tcp_recovery_find(const char *name);
int hxs_tcp_conn__set_recovery(struct hxs_tcp_conn *c, const char *name);
/* The algorithm's name. */
const char *hxs_tcp_conn__cc(const struct hxs_tcp_conn *c);
/* hxs's default congestion control (the stack's, tcp_sock.c; the core's own cfg default
 * is "cubic"): README "Congestion control" says why. */
#define HXS_TCP_DEFAULT_CC "bbr"
/* 1 if name is a congestion control the core has. */
int hxs_tcp__cc_known(const char *name);
/* The default for connections made from now on (hxs_tcp_cfg.cc); -ENOENT if unknown. */
int hxs_tcp__set_cc(struct hxs_tcp *tcp, const char *name);
/* Pacing for every connection (1) or only for algorithms that ask (0), hxs_tcp_cfg.pacing. */
void hxs_tcp__set_pacing(struct hxs_tcp *tcp, int on);
void hxs_tcp_conn__info(struct hxs_tcp_conn *c, struct hxs_tcp_info *info);
/* SO_ERROR: returns and clears the pending error (positive errno, 0 if none). */
int hxs_tcp_conn__error(struct hxs_tcp_conn *c);
/* Current readiness (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR, EPOLLPRI while an
 * urgent byte waits to be read). EPOLLOUT when at
 * least a third of the send buffer is free (the kernel's sk_stream_is_writeable rule). */
uint32_t hxs_tcp_conn__events(const struct hxs_tcp_conn *c);
/* RFC 9293 state number (enum hxs_tcp_state in tcp_conn.h). */
int hxs_tcp_conn__state(const struct hxs_tcp_conn *c);
void hxs_tcp_conn__set_user(struct hxs_tcp_conn *c, void *user);
/* Bits the socket layer keeps on a connection (0 when it is made; the core never reads
 * them). Like set_user, set_mark may be called from any callback. */
void hxs_tcp_conn__set_mark(struct hxs_tcp_conn *c, uint32_t mark);
uint32_t hxs_tcp_conn__mark(const struct hxs_tcp_conn *c);
void *hxs_tcp_conn__user(const struct hxs_tcp_conn *c);
void hxs_tcp_conn__tuple(const struct hxs_tcp_conn *c, uint32_t *laddr, uint16_t *lport,
			 uint32_t *raddr, uint16_t *rport);
void hxs_tcp_conn__tuple_addr(const struct hxs_tcp_conn *c, struct hxs_addr *laddr, uint16_t *lport,
			      struct hxs_addr *raddr, uint16_t *rport);
/* The connection's slot (NULL: none), its id and gen (hxs_conn_val: what the program puts in
 * the demux metadata, hxs_tcp__input_slot). set_slot may be called from on_tuple's add (the
 * only core call a callback may make that is not a query); on_tuple's del is the last moment
 * the slot is used: the socket layer gives it back there. */
void hxs_tcp_conn__set_slot(struct hxs_tcp_conn *c, struct hxs_slot *slot, uint32_t id,
			    uint32_t gen);
struct hxs_slot *hxs_tcp_conn__slot(const struct hxs_tcp_conn *c);
/* 1 once the peer's FIN was taken: the stream has ended, reads return 0 even after a later
 * error (the kernel's SOCK_DONE, which tcp_recvmsg checks before sk_err). */
int hxs_tcp_conn__fin_rcvd(const struct hxs_tcp_conn *c);
/* Bytes readable now / bytes of free send buffer. */
uint32_t hxs_tcp_conn__rx_avail(const struct hxs_tcp_conn *c);
uint32_t hxs_tcp_conn__tx_space(const struct hxs_tcp_conn *c);
/* Whether nothing is in flight and what waits to be sent fits one segment (a request or a
 * response after a pause: hxs_tcp__output() would send it whole now). */
int hxs_tcp_conn__tx_single(const struct hxs_tcp_conn *c);

#endif
