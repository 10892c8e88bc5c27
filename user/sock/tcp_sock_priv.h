/* tcp_sock_priv.h - what tcp_sock.c (TCP sockets over the core), tcp_steer.c (how XDP
 * steers their connections, and SYN cookies at XDP) and tcp_sockopt.c (their options and
 * ioctls) share: the socket, the glue, the marks. */
#ifndef HXS_SOCK_TCP_SOCK_PRIV_H
#define HXS_SOCK_TCP_SOCK_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "hxs/syncookie.h"
#include "net/ip.h"
#include "net/stack.h"
#include "sock.h"
#include "tcp/tcp.h"

/* sock->state of the kernel */
enum { SS_UNCONNECTED_ = 0, SS_CONNECTING_, SS_CONNECTED_ };

struct tcp_sock {
	struct hxs_sock sk;
	struct hxs_tcp_conn *c;       /* NULL once the core owns it (closed) */
	uint8_t sstate;
	uint8_t in_table;             /* the connection is in the core's table */
	uint8_t lingering;            /* fd closed, connection still in the table */
	uint8_t used;                 /* connect/listen ran on c (a new connect needs a fresh c) */
	uint8_t autobound;            /* connect() chose the port: a new attempt chooses again */
	struct tcp_sock *lnext, **lpprev;  /* list of lingering sockets, oldest first */
	struct hxs_tcp_conn *lc;      /* the lingering connection (alive while in the table) */
	uint64_t closed_at;           /* when the fd was closed (us) */
	struct tcp_sock *parent;      /* accepted: the listener whose port it lives under */
	uint32_t nchildren;           /* listener: accepted sockets alive under its port */
	uint8_t orphan;               /* listener closed; its port stays while children live */
	uint8_t xdp_cookies;          /* listener: its bind entries have HXS_BIND_F_COOKIES */
	uint8_t steered;              /* the connection is not lazy (has its conn entry, or
				       * never had a lazy mark): lazy_io has nothing to do */
	uint32_t io_calls;            /* while lazy: send/receive calls that moved data */
	uint64_t io_bytes;            /* ... and their bytes */
};

/* Counters of the glue, printed with the stack's. */
#define TCPS_MIB_LIST(X) X(HxsTcpConnMapAdds) X(HxsTcpConnMapDels) X(HxsTcpConnMapErrors) \
	X(HxsTcpTxNoFrame) X(HxsTcpTxNoRoute) X(HxsTcpLingerSockets) X(HxsTcpTwRecycled) \
	X(HxsTcpSlots) X(HxsTcpXdpCookiesOn) X(HxsTcpXdpCookiesOff) X(HxsTcpCookieKeyErrors) \
	X(HxsTcpEphSteered) X(HxsTcpListenSteered) X(HxsTcpLazyConnAdds)
enum {
#define TCPS_MIB_ENUM(n) TCPS_##n,
	TCPS_MIB_LIST(TCPS_MIB_ENUM)
#undef TCPS_MIB_ENUM
	TCPS_MIB__COUNT
};

#define TCP_DST_CACHE 8       /* a power of two */

struct tcp_glue {
	struct hxs_stack *st;
	struct hxs_tcp *tcp;
	struct hxs_ip_tx tx;          /* the frame between tx_alloc and tx_send */
	struct tcp_sock *linger;      /* closed sockets whose connection lingers, oldest first */
	struct tcp_sock **ltail;
	int accepting;                /* tcp_init: the socket gets an accepted connection */
	uint64_t conn_entries;        /* XDP conn map entries we added and hold */
	uint64_t mib[TCPS_MIB__COUNT];
	uint8_t syncookies;           /* !cfg.no_syncookies: cookies on a full SYN queue */
	struct hxs_cookie_secret cookie; /* the SYN-cookie keys the core and XDP share */
	uint64_t cookie_rotate;       /* when the current key becomes the previous one (us) */
	uint8_t push;                 /* tcp_push(): each segment to the ring and kicked at once */
	uint8_t npush;                /* sockets whose segment waits for hxs_tcp_sock__push() */
	int push_fd[8];
	/* the destinations segments go to, by the address's last byte: route and next hop
	 * looked up once (hxs_ip_tx_route_dst; a destination's are the same for every
	 * connection to it), until the stack's dst_gen changes or the entry runs out */
	struct hxs_ip_dst dst[TCP_DST_CACHE];
};

static inline struct tcp_sock *tcp_sk(struct hxs_sock *sk)
{
	return (struct tcp_sock *)sk;
}

static inline struct tcp_glue *glue(const struct hxs_stack *st)
{
	return st->sockets->stream_ctx;
}

/* What the glue keeps on a connection (hxs_tcp_conn__set_mark). A connection in the table
 * has a conn entry (MARK_ENTRY) or is steered without one: from an ephemeral port by the
 * program's eph entry (MARK_LAZY_EPH), or under a listener by its LISTEN bind entry
 * (MARK_LAZY_LISTEN) while that listener is listening and XDP does not check cookies on
 * its port (the cookie check drops ACKs of 4-tuples it does not know). */
#define MARK_ENTRY       1u
#define MARK_LAZY_EPH    2u
#define MARK_LAZY_LISTEN 4u
#define MARK_LAZY        (MARK_LAZY_EPH | MARK_LAZY_LISTEN)

/* tcp_steer.c */
int hxs_tcp_steer__conn_entry_add(struct tcp_glue *g, struct hxs_tcp_conn *c, int with_slot);
int hxs_tcp_steer__listen_steers(struct tcp_glue *g, uint16_t lport);
void hxs_tcp_steer__lazy_io(struct tcp_sock *ts, size_t n);
/* hxs_tcp_steer__lazy_io() unless the connection is known to be steered for good already
 * (every call of a long-lived connection): no call, no look at the core's mark */
static inline void hxs_tcp_steer__io(struct tcp_sock *ts, size_t n)
{
	if (!ts->steered)
		hxs_tcp_steer__lazy_io(ts, n);
}
void hxs_tcp_steer__on_listen(void *ctx, struct hxs_tcp_conn *l, struct hxs_addr laddr, uint16_t lport,
			      int add);
void hxs_tcp_steer__on_synq(void *ctx, struct hxs_tcp_conn *l, int pressure);
void hxs_tcp_steer__cookie_rotate(struct tcp_glue *g, uint64_t now);

/* tcp_sockopt.c: the proto ops' setsockopt, getsockopt and ioctl of a TCP socket (negative
 * errno as the kernel's: -ENOPROTOOPT, -EINVAL, -EFAULT, -ENOTTY). */
int hxs_tcp_sock__setsockopt(struct hxs_sock *sk, int level, int name, const void *val,
			     socklen_t len);
int hxs_tcp_sock__getsockopt(struct hxs_sock *sk, int level, int name, void *val, socklen_t *len);
int hxs_tcp_sock__ioctl(struct hxs_sock *sk, unsigned long req, int *arg);

#endif
