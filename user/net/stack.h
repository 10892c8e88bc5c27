/* stack.h - struct hxs_stack: the run loop, its clock, timers, TX batch, L4 demux and control
 * plane; the interfaces the layers above plug into.
 *
 * hxs_stack__poll() -> stack_turn(): io rx_burst -> hxs_eth_input() -> hxs_ip_input()
 *                                        -> st->l4[proto].input()  (UDP, TCP: registered above)
 *                                    -> hxs_wheel__run() (timers)
 *                                    -> ctl->poll() (neighbour events -> pending frames go or drop)
 *                                    -> pollers (TCP timers and output, statistics)
 *                                    -> TX batch submit + io flush
 *                   -> sleep in epoll(7) on the io and netlink fds until the next deadline
 *
 * This layer knows nothing above it. The layers above register what the loop must call: an
 * L4 input per IP protocol (hxs_stack__set_l4), pollers run once a turn with their deadlines
 * (hxs_stack__add_poller), counter tables printed with the stack's (hxs_stack__add_counters),
 * and, on every frame that may wait for its next hop, a struct hxs_tx_owner told when it is
 * dropped unsent (ip.h). The stack is assembled in one place, user/open/: hxs_stack__open()
 * (netlink + XDP + AF_XDP on an interface, the kernel's control plane, ctl_kernel.c) and
 * hxs_stack__open_io() (an hxs_io the caller made, e.g. the in-memory link, with the static
 * control plane of ctl_static.c: unit tests and simulations run a whole stack this way).
 */
#ifndef HXS_STACK_H
#define HXS_STACK_H

#include <stdint.h>
#include <stdio.h>

#include "hxs/hxs.h"
#include "hxs/shared.h"
#include "lib/addr.h"
#include "lib/counters.h"
#include "io/io.h"
#include "ctl/netif.h"
#include "lib/timer_wheel.h"

struct hxs_xdp;
struct hxs_socktab;
struct hxs_ip_rx;
struct hxs_tx_owner;

/* Control plane for hxs_stack__open_io() (ctl_static.c): what netlink would have said, and
 * the ports the XDP maps would refuse. */
#define HXS_STATIC_NEIGH_MAX 16
#define HXS_STATIC_REFUSE_MAX 8
struct hxs_netif_static {
	uint32_t addr;              /* network order */
	uint8_t prefix_len;
	uint8_t mac[6];
	uint32_t mtu;               /* 0 = 1500 */
	uint32_t gateway;           /* next hop off-link; 0 = none (-ENETUNREACH) */
	unsigned n_neigh;           /* neighbours known from the start; others stay pending */
	struct {
		uint32_t ip;
		uint8_t mac[6];
	} neigh[HXS_STATIC_NEIGH_MAX];
	unsigned n_refuse;          /* own_bind of these (proto, port) fails, as the kernel's */
	struct hxs_static_refusal { /* would for a port another owner holds or a full map */
		uint16_t port;          /* network order */
		uint8_t proto;          /* IPPROTO_TCP, IPPROTO_UDP */
		int err;                /* the positive errno own_bind returns (EADDRINUSE...) */
	} refuse[HXS_STATIC_REFUSE_MAX];
	unsigned n_refuse_conn;     /* own_conn of a 4-tuple with this local or remote port */
	struct hxs_static_refusal refuse_conn[HXS_STATIC_REFUSE_MAX];  /* fails (a full map) */
	/* IPv6 (all zero: none) */
	uint8_t addr6[16];          /* a global address */
	uint8_t prefix6_len;        /* its on-link prefix */
	uint8_t hop_limit6;         /* the route's hop limit; 0 = 64 */
	uint8_t ll6[16];            /* the link-local address (fe80::/64 on-link) */
	uint8_t gateway6[16];       /* next hop off-link; :: = none */
	unsigned n_neigh6;
	struct {
		uint8_t ip[16];
		uint8_t mac[6];
	} neigh6[HXS_STATIC_NEIGH_MAX];
};

#define HXS_IP_ID_BUCKETS 1024      /* IPv4 ID counters (ip.c) */
#define HXS_NEIGH_PENDING     32          /* unresolved next hops tracked at once */
#define HXS_NEIGH_QLEN        16          /* frames queued per unresolved next hop */
#define HXS_NEIGH_TIMEOUT_US  3000000ull  /* 3 probes x 1 s, like the kernel's defaults */

struct hxs_neigh_pend {
	uint8_t ip[16];             /* the next hop, IPv4 as ::ffff:a.b.c.d (ip.c) */
	uint8_t used;               /* 0 = slot free */
	uint8_t pad;
	uint16_t n;
	struct hxs_timer timer;
	struct hxs_stack *st;
	struct hxs_frame f[HXS_NEIGH_QLEN];
	struct hxs_tx_owner *owner[HXS_NEIGH_QLEN];
};

#define HXS_RX_BATCH  64
#define HXS_TX_BATCH  64
#define HXS_COUNTER_TABLES 8
#define HXS_POLLERS_MAX 4
#define HXS_CTL_POLL_US 100000          /* control-plane events read at least this often */
#define HXS_BUSY_LAZY 15                /* a busy loop's empty looks at the RX ring between
                                         * two full turns (loop.c stack_turn) */
#define HXS_EPH_LO_DEFAULT 61000
#define HXS_EPH_HI_DEFAULT 65535

/* L4 handler for a protocol number (udp.c sets IPPROTO_UDP, TCP's glue IPPROTO_TCP). The
 * frame is the caller's. */
typedef void (*hxs_l4_input_fn)(void *ctx, struct hxs_stack *st, const struct hxs_ip_rx *pkt);

struct hxs_l4_handler {
	hxs_l4_input_fn input;          /* NULL: IpInUnknownProtos */
	void *ctx;
};

/* Work a layer above does once a turn (TCP timers and pending output, statistics). */
struct hxs_poller {
	/* events: what the turn did so far. Returns the events it caused (segments sent...). */
	int (*poll)(void *ctx, uint64_t now, int events);
	/* Earliest time it needs a turn (UINT64_MAX: none; 0: now). May be NULL. */
	uint64_t (*deadline)(void *ctx);
	void *ctx;
};

/* The control plane behind a stack: the kernel's (netlink + XDP, ctl_kernel.c) or a static
 * table (ctl_static.c, for hxs_stack__open_io). */
struct hxs_ctl_ops {
	int (*route)(struct hxs_stack *st, uint32_t dst, uint32_t *nexthop);
	int (*resolve)(struct hxs_stack *st, uint32_t ip, uint8_t mac[6]);
	/* IPv6: the next hop to dst and the route's hop limit (0: the default, 64); the MAC of
	 * an on-link neighbour, or -EAGAIN while the kernel resolves it (ND is the kernel's). */
	int (*route6)(struct hxs_stack *st, const uint8_t dst[16], uint8_t nexthop[16],
		      uint8_t *hop_limit);
	int (*resolve6)(struct hxs_stack *st, const uint8_t ip[16], uint8_t mac[6]);
	/* Drains control-plane notifications (neighbour events); returns how many. */
	int (*poll)(struct hxs_stack *st);
	/* Addresses of either family, IPv4 as ::ffff:a.b.c.d (lib/addr.h), as the maps key them */
	int (*own_bind)(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto,
			uint32_t owner, uint32_t flags);
	void (*disown_bind)(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto);
	/* slot, gen: the connection's slot (HXS_SLOT_NONE, gen 0: no fast path) */
	int (*own_conn)(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			struct hxs_addr raddr, uint16_t rport, uint8_t proto, uint32_t slot, uint32_t gen);
	void (*disown_conn)(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			    struct hxs_addr raddr, uint16_t rport, uint8_t proto);
	/* Drops every 4-tuple entry of local address laddr and protocol proto (the stack is
	 * closing and its connections go without a word each). */
	void (*disown_conns)(struct hxs_stack *st, struct hxs_addr laddr, uint8_t proto);
	/* The XDP program's part on a received frame, where no program runs (the static control
	 * plane's stand-in, ctl_static.c): 1 if it consumed the frame (the stack never sees it),
	 * 0 to go on. NULL: the kernel ran the program already. */
	int (*rx_xdp)(struct hxs_stack *st, struct hxs_frame *f);
	/* The {slot, gen} of an owned 4-tuple, as the conn map holds it (the stand-in's lookup):
	 * 0 or -ENOENT. May be NULL. */
	int (*conn_slot)(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			 struct hxs_addr raddr, uint16_t rport, uint8_t proto, uint32_t *slot,
			 uint32_t *gen);
	/* Consumes the doorbell records the program rang while the loop slept; may be NULL. */
	void (*wake_drain)(struct hxs_stack *st);
	/* The SYN-cookie secrets for the program (HXS_MAP_COOKIE); NULL where no program runs. */
	int (*cookie_secret)(struct hxs_stack *st, const struct hxs_cookie_secret *s);
	/* Extra counters for hxs_stack__print_counters (XDP, AF_XDP); may be NULL. */
	void (*print_counters)(const struct hxs_stack *st, FILE *fp, int all);
	/* Detaches what open attached, closes the io and netif. */
	void (*close)(struct hxs_stack *st);
};

struct hxs_stack {
	const struct hxs_ctl_ops *ctl;
	struct hxs_io *io;
	struct hxs_netif *nif;              /* NULL on the static control plane */
	struct hxs_netif_static scfg;       /* static control plane (open_io) */
	struct hxs_xdp *xdp;            /* NULL without XDP */
	uint32_t addr;                      /* network order */
	uint8_t addr6[16];                  /* global IPv6 address; :: = none */
	uint8_t ll6[16];                    /* link-local IPv6 address; :: = none */
	uint8_t prefix6_len;
	uint32_t mtu;
	uint8_t mac[6];
	uint8_t prefix_len;
	uint8_t busy_poll;
	uint8_t busy_yield;                 /* busy_poll: sched_yield() on every empty turn */
	uint8_t ip_id_key[16];              /* keys the IPv4 ID buckets (ip.c), random at init */
	uint16_t eph_lo, eph_hi;            /* ephemeral ports, host order */
	uint64_t (*clock)(void *ctx);       /* microseconds; NULL = CLOCK_MONOTONIC */
	void *clock_ctx;
	uint64_t turn_now;                  /* the clock read once at the start of a turn */
	uint8_t in_turn;                    /* hxs_stack__now() answers turn_now */
	uint8_t turning;                    /* a turn runs, from before its clock read */
	uint8_t lazy_turns;                 /* busy loop: empty turns in a row since a full one */
	uint8_t now_unread;                 /* in_turn, but turn_now not read yet (loop.c) */
	uint8_t tail_owed;                  /* a turn left its timers, pollers and flush to the next */
	/* L4's word on this turn's frames (loop.c), from their input: rx_msg, a message's end
	 * came (TCP: a segment with data, shorter than a full-sized one; its reader answers
	 * it), and the turn may return before its tail although that input read the clock;
	 * rx_tail, something came whose tail must follow at once (any other TCP segment) */
	uint8_t rx_msg;
	uint8_t rx_tail;
	/* The turn's RX batch (loop.c: in the stack, not on the turn's stack frame, so a busy
	 * loop's look at an empty ring sets up no frame array). nrx_held: the first nrx_held of
	 * them are the last batch of a turn that returned early, released by the next turn,
	 * after the answer's kick (what L4 keeps of a frame it copied) */
	int nrx_held;
	struct hxs_frame rx_batch[HXS_RX_BATCH];
	int owed_events;                    /* the events of that turn, for the pollers */
	struct hxs_mib mib;
	struct hxs_wheel wheel;

	struct hxs_l4_handler l4[256];      /* by IP protocol number */
	struct hxs_l4_handler l4v6[256];    /* by IPv6 next header (ip6.c) */
	struct hxs_poller pollers[HXS_POLLERS_MAX];
	unsigned npollers;

	/* The socket layer's descriptors, ports and epoll instances (sock/sock.h), made by
	 * hxs_socket__init(): this layer only carries the pointer. */
	struct hxs_socktab *sockets;
	int reserve_kernel_ports;           /* sockets hold their ports with kernel sockets too */

	/* IPv4 ID counters, one per bucket of destinations (ip.c, RFC 7739's hash-based
	 * algorithm) */
	uint16_t ip_ids[HXS_IP_ID_BUCKETS];
	struct {                            /* the last (source, destination, protocol) an ID
	                                     * was drawn for, and its keyed hash (ip.c) */
		uint32_t src, dst;
		uint8_t proto, ok;
		uint64_t h;
	} ip_id_last;

	/* neighbours waiting for resolution */
	struct hxs_neigh_pend pend[HXS_NEIGH_PENDING];

	/* TX batch, submitted when full and at the end of every poll */
	struct hxs_frame txb[HXS_TX_BATCH];
	int ntx;

	struct hxs_counter_table ctr[HXS_COUNTER_TABLES];
	unsigned nctr;

	int npend;                          /* pend[] slots in use */
	/* Bumped (hxs_stack__dst_changed) on any change of routes, neighbours, addresses or the
	 * link the control plane hears of: a socket's cached destination (struct hxs_ip_dst,
	 * ip.h) filled under another value is looked up again. Never 0. */
	uint32_t dst_gen;
	uint32_t nif_gen;                   /* ctl_kernel.c: st->nif->gen the last poll saw */
	int ctl_fd;                         /* netlink fd (in the epoll set); -1 if none */
	int ctl_due;                        /* ctl_fd became readable */
	uint64_t ctl_next;                  /* next unconditional ctl->poll (us) */

	int epfd;                           /* kernel epoll over io + netlink fds; -1 on open_io */
	/* A busy-polling stack never sleeps on epfd: its io fd (the AF_XDP socket, or the io's
	 * own set over several) is asked for and joins epfd only when hxs_stack__fd() is
	 * (1: not yet). While an epoll instance
	 * watches an AF_XDP socket, the kernel wakes that socket's wait queue (the epoll
	 * callback, under a lock with interrupts off) for every transmitted frame it frees
	 * (sock_wfree) and every receive batch (sock_def_readable); with no watcher it skips
	 * both. */
	int io_fd_lazy;
	/* Path MTU learned by the kernel (ctl_kernel.c, ctl/pmtu_watch.c): the watcher's fd (-1:
	 * none), and whom to tell of a destination's MTU (TCP's glue; set_pmtu_cb) */
	int pmtu_fd;
	void (*pmtu_fn)(void *ctx, uint32_t raddr, uint32_t mtu);
	void *pmtu_ctx;
	uint64_t pmtu_events;               /* route MTUs handed to pmtu_fn */
	int wake_fd;                        /* the XDP doorbell's fd in the epoll set; -1 if none */

	/* Ephemeral TCP ports the XDP program steers without a conn entry (HXS_MAP_EPH mapped,
	 * HXS_MAX_EPH entries indexed by port; hxs/shared.h); NULL without (static control
	 * plane, an older program adopted) */
	struct hxs_eph_val *eph;
	/* Connection slots shared with XDP (slots.c): slots[0] is the header; NULL without */
	struct hxs_slot *slots;
	uint32_t nslots;
	uint32_t *slot_free;                /* free slot ids, a stack */
	uint32_t nslot_free;
	uint32_t *slot_gen;                 /* the last gen each slot was given */
	uint8_t fast_off;                   /* the fast path is off (HXS_FASTPATH=0, set_fastpath) */
	char tcp_cc[16];                    /* TCP's default congestion control; "": hxs's (HXS_CC) */
	uint8_t tcp_pacing;                 /* pace every TCP connection (HXS_PACING=1) */
	uint32_t tcp_sndbuf, tcp_rcvbuf;    /* TCP's buffer defaults; 0: HXS_TCP_*BUF_DEFAULT (tcp_sock.c) */
	uint8_t no_pwait2;                  /* epoll_pwait2(2) said ENOSYS: millisecond sleeps */
	uint8_t closing;                    /* hxs_stack__close() is closing every socket */
	uint8_t ack_defer;                  /* TCP's cfg.ack_defer (hxs_stack__open: on unless
	                                     * HXS_ACK_DEFER=0; the in-memory link: off) */
	uint8_t slots_owned;                /* slots is our allocation (static control plane) */
	uint64_t xdp_sim[HXS_XDP_STAT_MAX]; /* the static control plane's XDP stand-in counts */
	void *ctl_state;                    /* the control plane's own (ctl_static.c's entries) */
	char desc[256];
};

/* Initializes what every stack has (clock, wheel, counters, ephemeral range); the caller set
 * st->ctl, st->io, address, MAC and MTU. hxs_stack__fini() undoes it and closes the control
 * plane (st->ctl->close); the caller frees st. */
int hxs_stack__init(struct hxs_stack *st);
void hxs_stack__fini(struct hxs_stack *st);
/* Adds fd to the set the loop sleeps on (the io's and the netlink socket; ctl: readable means
 * ctl->poll is due). */
int hxs_stack__watch_fd(struct hxs_stack *st, int fd, int ctl);
/* Time source in microseconds (virtual time for simulations); NULL restores CLOCK_MONOTONIC.
 * Restarts the timer wheel at the new time: -EBUSY while timers are armed (their deadlines
 * belong to the current clock). */
int hxs_stack__set_clock(struct hxs_stack *st, uint64_t (*clock)(void *ctx), void *ctx);
uint64_t hxs_stack__now(const struct hxs_stack *st);
/* Earliest time the stack needs a turn: its timers and its pollers' deadlines (UINT64_MAX:
 * none; 0 or a past time: now). A caller that drives virtual time jumps the clock there. */
uint64_t hxs_stack__next_deadline(const struct hxs_stack *st);
/* Reads the clock source itself (the loop, once at the start of each turn). */
uint64_t hxs_stack__clock(const struct hxs_stack *st);
/* hxs_stack__poll() for a caller that turned the loop just before and has done nothing
 * since that could leave work (hxs_epoll_wait between its look and its wait): on a busy
 * loop its first turn may be a lazy one. */
int hxs_stack__poll_again(struct hxs_stack *st, int timeout_ms);
/* The time the last turn read (its start): what a caller of hxs_stack__poll() measures its
 * own timeout with, without a clock read of its own. */
uint64_t hxs_stack__turn_time(const struct hxs_stack *st);
/* One time for everything a call outside a turn does (a datagram's route and neighbour
 * lookups), until hxs_stack__time_release(st, held): one clock read instead of one per
 * lookup. Inside a turn the turn's time stays and held is 0. */
int hxs_stack__time_hold(struct hxs_stack *st);
void hxs_stack__time_release(struct hxs_stack *st, int held);
/* Who hears of a path MTU the kernel learned for a destination (mtu 0: none known now). */
void hxs_stack__set_pmtu_cb(struct hxs_stack *st, void (*fn)(void *ctx, uint32_t raddr, uint32_t mtu),
			    void *ctx);
/* Registers the L4 input of an IP protocol (fn NULL removes it); _v6 for IPv6 (the handler's
 * hxs_ip_rx has v6 set and the 16-byte addresses). */
void hxs_stack__set_l4(struct hxs_stack *st, uint8_t proto, hxs_l4_input_fn fn, void *ctx);
void hxs_stack__set_l4v6(struct hxs_stack *st, uint8_t proto, hxs_l4_input_fn fn, void *ctx);
/* Registers a poller run once a turn, in registration order; -ENOSPC. hxs_stack__del_poller()
 * removes the one with that ctx. */
int hxs_stack__add_poller(struct hxs_stack *st, const struct hxs_poller *p);
void hxs_stack__del_poller(struct hxs_stack *st, void *ctx);
/* Adds a counter table printed with the stack's own. */
int hxs_stack__add_counters(struct hxs_stack *st, const struct hxs_counter_table *t);
void hxs_stack__print_counters(const struct hxs_stack *st, FILE *fp, int all);
/* Value of a named counter (stack MIB or any registered table). */
int hxs_stack__counter(const struct hxs_stack *st, const char *name, uint64_t *val);

/* stack.c internals for ip.c and the layers above */
/* Routes, neighbours, addresses or the link changed (the control plane calls it for every
 * change it hears of): every cached destination is stale. */
void hxs_stack__dst_changed(struct hxs_stack *st);
int hxs_stack__route(struct hxs_stack *st, uint32_t dst, uint32_t *nexthop);
int hxs_stack__resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6]);
/* IPv6 (-ENETUNREACH on a control plane without it) */
int hxs_stack__route6(struct hxs_stack *st, const uint8_t dst[16], uint8_t nexthop[16],
		      uint8_t *hop_limit);
int hxs_stack__resolve6(struct hxs_stack *st, const uint8_t ip[16], uint8_t mac[6]);
/* Queues a filled frame for transmission in this batch. */
void hxs_stack__tx(struct hxs_stack *st, const struct hxs_frame *f);
/* Submits the TX batch and kicks the backend. */
void hxs_stack__tx_flush(struct hxs_stack *st);
/* Bind-entry ownership in the XDP program (no-op without XDP). */
int hxs_stack__own_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto,
			uint32_t owner, uint32_t flags);
void hxs_stack__disown_bind(struct hxs_stack *st, struct hxs_addr addr, uint16_t port, uint8_t proto);
/* 4-tuple steering entries (a TCP connection; hxs side = local). Calling own_bind again with
 * HXS_BIND_F_LISTEN on a bound TCP port turns it into a listener entry (the map update
 * replaces the value). No-ops without XDP. */
int hxs_stack__own_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			struct hxs_addr raddr, uint16_t rport, uint8_t proto, uint32_t slot, uint32_t gen);
void hxs_stack__disown_conn(struct hxs_stack *st, struct hxs_addr laddr, uint16_t lport,
			    struct hxs_addr raddr, uint16_t rport, uint8_t proto);
/* Ephemeral-port steering (HXS_MAP_EPH, written through the mapping: no syscall). own: the
 * program steers TCP frames to (addr, port) from now on, 0; -EOPNOTSUPP without the table;
 * -EBUSY if the entry holds another address (that holder keeps it).
 * disown: no more, if addr is what the entry holds. held: 1 if the entry holds addr. The
 * caller holds the port with a kernel socket bound to exactly addr for as long as the entry
 * names it (shared.h). Ports in network order. */
int hxs_stack__own_eph(struct hxs_stack *st, struct hxs_addr addr, uint16_t port);
void hxs_stack__disown_eph(struct hxs_stack *st, struct hxs_addr addr, uint16_t port);
int hxs_stack__eph_held(const struct hxs_stack *st, struct hxs_addr addr, uint16_t port);
/* Every 4-tuple entry of this stack's addresses (IPv4, IPv6 global and link-local) and
 * protocol proto (stack closing). */
void hxs_stack__disown_conns(struct hxs_stack *st, uint8_t proto);
/* Gives the XDP program the SYN-cookie secrets (no-op where no program runs). */
int hxs_stack__cookie_secret(struct hxs_stack *st, const struct hxs_cookie_secret *s);

/* Connection slots (slots.c). hxs_stack__slots_init() takes n slots at mem (slot 0 becomes
 * the header, every other one free and zeroed); hxs_stack__slots_fini() forgets them (frees
 * mem if owned). A slot for a new connection: its id and gen, the slot zeroed with gen set,
 * or NULL (none free, no slots, fast path off: the connection runs without it). */
int hxs_stack__slots_init(struct hxs_stack *st, struct hxs_slot *mem, uint32_t n, int owned);
void hxs_stack__slots_fini(struct hxs_stack *st);
struct hxs_slot *hxs_stack__slot_get(struct hxs_stack *st, uint32_t *id, uint32_t *gen);
void hxs_stack__slot_put(struct hxs_stack *st, uint32_t id);
/* The header (slot 0), or NULL without slots. */
struct hxs_slot_hdr *hxs_stack__slot_hdr(const struct hxs_stack *st);
/* Fast path on (1) or off (0), stack-wide: hdr.fast_off, and no new slot is handed out. */
void hxs_stack__fastpath(struct hxs_stack *st, int on);

/* The two control planes (ctl_static.c, ctl_kernel.c). */
extern const struct hxs_ctl_ops hxs_ctl_static;
extern const struct hxs_ctl_ops hxs_ctl_kernel;
/* The kernel's control plane hears of IPv6 neighbours through this (ctx: the stack). */
void hxs_ctl_kernel__neigh6_cb(void *ctx, const uint8_t ip[16], int ev, const uint8_t mac[6]);

/* The static control plane keeps the entries the maps would hold; a disown of an entry it
 * does not hold, a second own of a live 4-tuple, or an entry left at close aborts the
 * program (the stack lost track of a map entry). How many it holds now: */
void hxs_ctl_static__owned(const struct hxs_stack *st, unsigned *binds, unsigned *conns);
/* From now on own_bind of (proto, port, network order) fails with -err; err 0 lifts it.
 * -ENOSPC when HXS_STATIC_REFUSE_MAX ports are refused already. */
int hxs_ctl_static__refuse(struct hxs_stack *st, uint8_t proto, uint16_t port, int err);
/* Likewise for own_conn: from now on a 4-tuple of proto whose local or remote port (network
 * order) is port is refused with -err (the kernel's map full: E2BIG); err 0 lifts it. */
int hxs_ctl_static__refuse_conn(struct hxs_stack *st, uint8_t proto, uint16_t port, int err);
/* What a netlink notification would tell the kernel's control plane: the neighbour ip (IPv4,
 * network order; IPv6: 16 bytes) now has mac, or none (mac NULL: deleted, pending again);
 * the IPv4 gateway is now gw (0: no default route). -ENOSPC when the table is full. Each
 * bumps the stack's dst_gen as a notification does. */
int hxs_ctl_static__set_neigh(struct hxs_stack *st, uint32_t ip, const uint8_t mac[6]);
int hxs_ctl_static__set_neigh6(struct hxs_stack *st, const uint8_t ip[16], const uint8_t mac[6]);
void hxs_ctl_static__set_gateway(struct hxs_stack *st, uint32_t gw);
/* Connection slots in plain memory (HXS_STATIC_SLOTS) and the stand-in's counters (XdpAck
 * FastPath ... as a counter table of the stack): hxs_stack__open_io() calls it. */
#define HXS_STATIC_SLOTS 1024
int hxs_ctl_static__attach(struct hxs_stack *st);
/* The XDP program's ACK fast path on a received frame (fp_standin.c): 1 if consumed. */
int hxs_fp_standin_rx(struct hxs_stack *st, struct hxs_frame *f);

#endif
