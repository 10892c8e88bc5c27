/* stack.h - struct hxs_stack and the stack's internal interfaces.
 *
 * hxs_stack__poll() -> io rx_burst -> hxs_eth_input() -> hxs_ip_input() -> hxs_udp_input()
 *                                                                       \-> st->tcp_input()
 *                   -> hxs_wheel__run() (timers) -> TX batch submit + io flush
 *                   -> hxs_netif__poll() (neighbour events -> pending frames go or drop)
 *                   -> sleep in poll(2) on the io and netlink fds until the next deadline
 *
 * Two constructors: hxs_stack__open() (hxs.h: netlink + XDP + AF_XDP on an interface) and
 * hxs_stack__open_io() (an hxs_io the caller made, e.g. the in-memory link, with a static
 * address/MAC/neighbour table and no XDP: unit tests and simulations run a whole stack this
 * way).
 *
 * TCP plugs in with hxs_stack__set_tcp_input() (L4 demux), hxs_sock__register_proto() (sock.h,
 * the socket API), hxs_stack__add_counters() (its MIB) and the IPv4 output of ip.h; its
 * timers go on st->wheel and read time with hxs_stack__now().
 */
#ifndef HXS_STACK_H
#define HXS_STACK_H

#include <stdint.h>
#include <stdio.h>

#include "hxs/hxs.h"
#include "lib/counters.h"
#include "io/io.h"
#include "ip.h"
#include "ctl/netif.h"
#include "lib/port_sel.h"
#include "lib/timer_wheel.h"

struct hxs_sock;
struct hxs_proto_ops;
struct hxs_epoll;
struct hxs_xdp;

/* Control plane for hxs_stack__open_io(): what netlink would have said. */
#define HXS_STATIC_NEIGH_MAX 16
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
};

#define HXS_NEIGH_PENDING     32          /* unresolved next hops tracked at once */
#define HXS_NEIGH_QLEN        16          /* frames queued per unresolved next hop */
#define HXS_NEIGH_TIMEOUT_US  3000000ull  /* 3 probes x 1 s, like the kernel's defaults */

struct hxs_neigh_pend {
	uint32_t ip;                /* 0 = slot free */
	uint16_t n;
	uint16_t pad;
	struct hxs_timer timer;
	struct hxs_stack *st;
	struct hxs_frame f[HXS_NEIGH_QLEN];
	struct hxs_sock *owner[HXS_NEIGH_QLEN];
};

#define HXS_RX_BATCH  64
#define HXS_TX_BATCH  64
#define HXS_COUNTER_TABLES 8
#define HXS_CTL_POLL_US 100000          /* control-plane events read at least this often */
#define HXS_EPH_LO_DEFAULT 61000
#define HXS_EPH_HI_DEFAULT 65535

/* L4 handler for a protocol number (TCP's glue sets IPPROTO_TCP). The frame is the caller's. */
typedef void (*hxs_l4_input_fn)(void *ctx, struct hxs_stack *st, const struct hxs_ip_rx *pkt);

/* The control plane behind a stack: the kernel's (netlink + XDP, stack_hw.c) or a static
 * table (stack.c, for hxs_stack__open_io). */
struct hxs_ctl_ops {
	int (*route)(struct hxs_stack *st, uint32_t dst, uint32_t *nexthop);
	int (*resolve)(struct hxs_stack *st, uint32_t ip, uint8_t mac[6]);
	/* Drains control-plane notifications (neighbour events); returns how many. */
	int (*poll)(struct hxs_stack *st);
	int (*own_bind)(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto,
			uint32_t owner, uint32_t flags);
	void (*disown_bind)(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto);
	int (*own_conn)(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			uint16_t rport, uint8_t proto, uint32_t conn_id);
	void (*disown_conn)(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport, uint8_t proto);
	/* Extra counters for hxs_stack__print_counters (XDP, AF_XDP); may be NULL. */
	void (*print_counters)(const struct hxs_stack *st, FILE *fp, int all);
	/* Detaches what open attached, closes the io and netif. */
	void (*close)(struct hxs_stack *st);
};

struct hxs_stats_pub;

struct hxs_stack {
	const struct hxs_ctl_ops *ctl;
	struct hxs_stats_pub *pub;          /* shared-memory export for hxs stat/ss; NULL on open_io */
	struct hxs_io *io;
	int own_io;                         /* close io in hxs_stack__close */
	struct hxs_netif *nif;              /* NULL on the static control plane */
	struct hxs_netif_static scfg;       /* static control plane (open_io) */
	struct hxs_xdp *xdp;            /* NULL without XDP */
	uint32_t addr;                      /* network order */
	uint32_t mtu;
	uint8_t mac[6];
	uint8_t prefix_len;
	uint8_t busy_poll;
	uint16_t ip_id;
	uint16_t eph_lo, eph_hi;            /* ephemeral ports, host order */
	uint64_t (*clock)(void *ctx);       /* microseconds; NULL = CLOCK_MONOTONIC */
	void *clock_ctx;
	uint64_t turn_now;                  /* the clock read once at the start of a turn */
	uint8_t in_turn;                    /* hxs_stack__now() answers turn_now */
	struct hxs_mib mib;
	struct hxs_wheel wheel;

	hxs_l4_input_fn tcp_input;
	void *tcp_ctx;
	void (*tcp_fini)(void *ctx, struct hxs_stack *st);

	/* sockets (socket.c) */
	struct hxs_sock **socks;
	int nsocks;
	const struct hxs_proto_ops *proto_dgram, *proto_stream;
	struct hxs_sock **ports_udp, **ports_tcp;    /* 65536 chains each, allocated on first bind */
	uint32_t next_owner;
	struct hxs_port_sel port_sel;                /* RFC 6056 Algorithm 4 state */
	int reserve_kernel_ports;                    /* hold ports with kernel sockets */

	/* epoll instances (epoll.c) */
	struct hxs_epoll **eps;
	int neps;

	/* neighbours waiting for resolution */
	struct hxs_neigh_pend pend[HXS_NEIGH_PENDING];

	/* TX batch, submitted when full and at the end of every poll */
	struct hxs_frame txb[HXS_TX_BATCH];
	int ntx;

	struct hxs_counter_table ctr[HXS_COUNTER_TABLES];
	unsigned nctr;

	int npend;                          /* pend[] slots in use */
	int ctl_fd;                         /* netlink fd (in the epoll set); -1 if none */
	int ctl_due;                        /* ctl_fd became readable */
	uint64_t ctl_next;                  /* next unconditional ctl->poll (us) */

	int epfd;                           /* kernel epoll over io + netlink fds; -1 on open_io */
	char desc[256];
};

/* Shared by both constructors: everything but the control plane and io. */
int hxs_stack__init(struct hxs_stack *st);
/* Opens a stack on a caller-owned io (not closed by hxs_stack__close). */
int hxs_stack__open_io(struct hxs_stack **out, struct hxs_io *io, const struct hxs_netif_static *cfg);
/* Time source in microseconds (virtual time for simulations); NULL restores CLOCK_MONOTONIC.
 * Restarts the timer wheel at the new time: set it before any timer is armed. */
/* -EBUSY while timers are armed (their deadlines belong to the current clock). */
int hxs_stack__set_clock(struct hxs_stack *st, uint64_t (*clock)(void *ctx), void *ctx);
uint64_t hxs_stack__now(const struct hxs_stack *st);
/* Ephemeral port range for port 0 binds (host order, inclusive). */
int hxs_stack__set_port_range(struct hxs_stack *st, uint16_t lo, uint16_t hi);
/* Registers the L4 input for IPPROTO_TCP, and what to call when the stack closes (after
 * every socket with an fd was closed: free connections that outlived their fd, e.g.
 * TIME_WAIT; fini may be NULL). */
void hxs_stack__set_tcp_input(struct hxs_stack *st, hxs_l4_input_fn fn, void *ctx);
void hxs_stack__set_tcp_fini(struct hxs_stack *st, void (*fini)(void *ctx, struct hxs_stack *st));
/* Adds a counter table printed with the stack's own. */
int hxs_stack__add_counters(struct hxs_stack *st, const struct hxs_counter_table *t);
void hxs_stack__print_counters(const struct hxs_stack *st, FILE *fp, int all);
/* Value of a named counter (stack MIB or any registered table). */
int hxs_stack__counter(const struct hxs_stack *st, const char *name, uint64_t *val);
/* Neighbour event (from netlink, or a test on the static control plane). */
void hxs_stack__neigh_event(struct hxs_stack *st, uint32_t ip, enum hxs_neigh_event ev,
			    const uint8_t mac[6]);

/* ip.c / stack.c internals */
int hxs_stack__route(struct hxs_stack *st, uint32_t dst, uint32_t *nexthop);
int hxs_stack__resolve(struct hxs_stack *st, uint32_t ip, uint8_t mac[6]);
/* Queues a filled frame for transmission in this batch. */
void hxs_stack__tx(struct hxs_stack *st, const struct hxs_frame *f);
/* Submits the TX batch and kicks the backend. */
void hxs_stack__tx_flush(struct hxs_stack *st);
/* Drops the pointers to sk held by frames waiting on neighbours (socket freed). */
void hxs_stack__forget_owner(struct hxs_stack *st, struct hxs_sock *sk);
/* Frees every frame waiting on a neighbour (stack closing). */
void hxs_ip__drop_pending(struct hxs_stack *st);
/* Bind-entry ownership in the XDP program (no-op without XDP). */
int hxs_stack__own_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto,
			uint32_t owner, uint32_t flags);
void hxs_stack__disown_bind(struct hxs_stack *st, uint32_t addr, uint16_t port, uint8_t proto);
/* 4-tuple steering entries (a TCP connection; hxs side = local). Calling own_bind again with
 * HXS_BIND_F_LISTEN on a bound TCP port turns it into a listener entry (the map update
 * replaces the value). No-ops without XDP. */
int hxs_stack__own_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			uint16_t rport, uint8_t proto, uint32_t conn_id);
void hxs_stack__disown_conn(struct hxs_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport, uint8_t proto);

/* udp.c */
void hxs_udp_input(struct hxs_stack *st, const struct hxs_ip_rx *pkt);
extern const struct hxs_proto_ops hxs_udp_ops;
/* socket.c */
int hxs_socket__init(struct hxs_stack *st);
/* Closes every socket that has an fd. */
void hxs_socket__fini(struct hxs_stack *st);
/* Frees the port tables (after every socket is gone). */
void hxs_socket__free_ports(struct hxs_stack *st);

#endif
