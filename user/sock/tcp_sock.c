/* tcp_sock.c - TCP sockets: struct hxs_proto_ops for SOCK_STREAM over the sans-I/O TCP core.
 *
 * RX:   hxs_ip_input() -> tcp_input() -> hxs_tcp__input_slot() (core: state machine), with
 *            the {slot, gen} the frame's metadata names (demux by index), if any
 *            core -> on_event() -> hxs_epoll__notify() with the core's readiness (SO_RCVLOWAT:
 *            hxs_sock__wake()) -> epoll ready lists
 *            core -> on_tuple() -> a slot (hxs_stack__slot_get, for the XDP fast path),
 *            XDP conn map add {slot, gen} / del, slot back (a failed add fails the connection);
 *            an active open from an eph-steered port: no entry (lazy), until
 *            tcp_sendmsg/tcp_recvmsg -> hxs_tcp_steer__io() (until steered) ->
 *            hxs_tcp_steer__lazy_io() finds it lives on -> an entry (steering, lazy
 *            entries, bind entries and cookies: tcp_steer.c)
 *            on_listen() -> bind entry LISTEN
 *            on_synq() -> bind entry LISTEN | COOKIES with what a cookie SYN-ACK offers
 *            (hxs_tcp_conn__cookie_local), or LISTEN alone when the SYN queue drained
 * Cookies: glue_get() -> hxs_tcp_steer__cookie_rotate(): keys -> hxs_tcp__set_cookie_secret() and
 *            hxs_stack__cookie_secret() (XDP's hxs_cookie map); again in the first tcp_turn()
 *            COOKIE_ROTATE_US later (no deadline of its own: an idle stack stays asleep)
 * TX:   core -> tx_alloc(): a UMEM frame, the core writes its segment at the L4 offset
 *            -> tx_send(): next hop (hxs_ip_tx_route_dst: the glue's cached destination,
 *            else route lookup) + hxs_ip_tx_send() (IPv4 + Ethernet, this turn's batch)
 * Push: tcp_sendmsg() -> push_later() (a segment's worth on an idle connection) ->
 *            hxs_epoll_wait() -> hxs_tcp_sock__push() -> hxs_tcp__output() -> tx_send()
 *            flushes and kicks each segment at once, before the turn
 * Loop: stack_turn() -> tcp_turn() (a poller of the stack) -> hxs_tcp__fp_poll() (ACK
 *            progress XDP made) -> hxs_tcp__poll() (timers, dirty list); hxs_stack__poll() -> tcp_deadline() -> hxs_tcp__next_deadline()
 * API:  socket.c -> tcp_connect/listen/accept/sendmsg/recvmsg/... -> hxs_tcp_conn__*();
 *            setsockopt/getsockopt/ioctl: tcp_sockopt.c
 *
 * Socket states follow the kernel's inet_stream_connect(): an unconnected socket's connect()
 * starts the handshake (-EINPROGRESS non-blocking); while connecting it says -EALREADY; the
 * first call after the handshake completed says 0 and later ones -EISCONN; a refused attempt
 * reports its error once (connect or SO_ERROR; a connect after SO_ERROR took it says
 * -ECONNABORTED) and leaves the socket ready for a new connect() on a new ephemeral port.
 *
 * Ports: bind() reserves the port through socket.c (kernel socket + XDP bind entry); listen()
 * marks the entry HXS_BIND_F_LISTEN; connect() on an unbound socket binds an ephemeral port
 * of the stack's range (outside ip_local_port_range) with no bind entry (HXS_SOCK_F_NOENTRY:
 * its 4-tuple entry steers; a TCP bind entry without LISTEN would steer nothing). A socket
 * closed while its connection lingers (FIN_WAIT, TIME_WAIT) keeps its port
 * (HXS_SOCK_F_KEEPPORT) until the core drops the connection from its table (on_tuple del),
 * then it is freed. Accepted sockets hold no port of their own (like the kernel's, they live
 * under the listener's): a listener closed while some of them live loses its LISTEN steering
 * at once but keeps the port (kernel reservation and bind entry) until the last one is freed
 * (nchildren, tcp_destroy). When connect() finds every
 * ephemeral port held that way, the oldest TIME_WAIT (>= 1 s, timestamps on) is ended and its
 * port reused, as the kernel does with net.ipv4.tcp_tw_reuse = 1.
 *
 * Errors: the core's pending error moves into sk->err when the core reports EPOLLERR, so
 * SO_ERROR, blocking connect and the next call all see it once, as in the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "hxs/shared.h"
#include "lib/siphash.h"
#include "sock.h"
#include "net/ip.h"
#include "net/stack.h"
#include "tcp/tcp.h"
#include "hxs/syncookie.h"
#include "tcp/tcp_conn.h"   /* enum hxs_tcp_state for hxs_tcp_conn__state() */
#include "tcp_sock.h"

#include "tcp_sock_priv.h"

static const char *const tcps_mib_names[TCPS_MIB__COUNT] = {
#define TCPS_MIB_NAME(n) #n,
	TCPS_MIB_LIST(TCPS_MIB_NAME)
#undef TCPS_MIB_NAME
};

/* --- frames for the core ------------------------------------------------------------------ */
static uint8_t *tx_alloc(void *ctx, uint32_t len, void **handle)
{
	struct tcp_glue *g = ctx;
	struct hxs_stack *st = g->st;
	struct hxs_ip_tx *tx = &g->tx;

	if (len > hxs_ip_max_l4(st))
		return NULL;
	/* all but the IPv6 addresses (struct hxs_ip_tx: last, for that): tx_send() writes them
	 * for an IPv6 segment, the route lookup the next hop, an IPv4 one reads none of them */
	memset(tx, 0, offsetof(struct hxs_ip_tx, src6));
	if (st->io->ops->tx_alloc(st->io, &tx->f, 1) != 1) {
		/* reap completions once (submits this turn's batch) and retry */
		hxs_stack__tx_flush(st);
		if (st->io->ops->tx_alloc(st->io, &tx->f, 1) != 1) {
			g->mib[TCPS_HxsTcpTxNoFrame]++;
			return NULL;
		}
	}
	/* room for the larger (IPv6) header: the family is known at send, where an IPv4 frame
	 * starts 20 bytes into the buffer instead (the backends take data anywhere in a frame) */
	if (tx->f.cap < HXS_ETH_HLEN + HXS_IP6_HLEN + len) {
		st->io->ops->tx_free(st->io, &tx->f, 1);
		return NULL;
	}
	tx->l4 = tx->f.data + HXS_ETH_HLEN + HXS_IP6_HLEN;
	*handle = tx;
	return tx->l4;
}

/* RFC 6437 §3: a flow label per flow, from a keyed hash of the 5-tuple (stateless, the same
 * for every segment of a connection, not guessable from other flows'). */
static uint32_t flow_label(const struct hxs_stack *st, const struct hxs_ip_tx *tx)
{
	uint8_t m[36];
	uint32_t h;

	memcpy(m, tx->src6, 16);
	memcpy(m + 16, tx->dst6, 16);
	memcpy(m + 32, tx->l4, 4);                  /* the TCP ports */
	h = (uint32_t)hxs_siphash24(st->ip_id_key, m, sizeof(m)) & 0xfffff;
	return h ? h : 1;                           /* 0 means "no label" */
}

static void tx_send(void *ctx, void *handle, struct hxs_addr saddr, struct hxs_addr daddr,
		    uint32_t len, uint8_t tos, uint8_t ttl)
{
	struct tcp_glue *g = ctx;
	struct hxs_stack *st = g->st;
	struct hxs_ip_tx *tx = handle;
	int err;

	tx->l4_len = len;
	tx->tos = tos;          /* IP_TOS with the ECN field the core chose (RFC 3168) */
	tx->ttl = ttl;          /* IP_TTL (0: the default; IPv4 only, as Linux's uc_ttl) */
	tx->proto = IPPROTO_TCP;
	if (hxs_addr_is4(daddr)) {
		tx->f.data += HXS_IP6_HLEN - HXS_IP_HLEN;
		tx->f.cap -= HXS_IP6_HLEN - HXS_IP_HLEN;
		tx->src = hxs_addr_get4(saddr);
		tx->dst = hxs_addr_get4(daddr);
	} else {
		tx->v6 = 1;
		memcpy(tx->src6, saddr.b, 16);
		memcpy(tx->dst6, daddr.b, 16);
		tx->flow = flow_label(st, tx);
	}
	err = hxs_ip_tx_route_dst(st, tx, &g->dst[daddr.b[15] & (TCP_DST_CACHE - 1)]);
	if (err) {
		st->mib.v[tx->v6 ? HXS_MIB_IP6_OUT_NO_ROUTES : HXS_MIB_IP_OUT_NO_ROUTES]++;
		g->mib[TCPS_HxsTcpTxNoRoute]++;
		hxs_ip_tx_abort(st, tx);
		return;
	}
	hxs_ip_tx_send(st, tx);
	/* hxs_tcp_sock__push(): the segment is whole; what the core does after it (its records
	 * for RACK, the rate sample and pacing, the timers) does not change it and runs after
	 * the kick */
	if (g->push)
		hxs_stack__tx_flush(st);
}

/* --- core notifications ------------------------------------------------------------------- */
static void on_event(void *ctx, struct hxs_tcp_conn *c, uint32_t mask)
{
	struct tcp_sock *ts = hxs_tcp_conn__user(c);

	(void)ctx;
	if (!ts || ts->lingering)
		return;
	if (mask & EPOLLERR) {
		int e = hxs_tcp_conn__error(c);     /* notifies again, without EPOLLERR */

		if (e)
			ts->sk.err = e;
	}
	if (!ts->sk.epi)
		return;
	/* mask is the core's readiness of c now (hxs_tcp_conn__events), what tcp_poll() starts
	 * from; what tcp_poll() adds to it is added here (EPOLLERR of a pending error, EPOLLOUT
	 * of a closed connection, which always has EPOLLHUP), so the epoll items are queued as
	 * hxs_sock__wake() would queue them, without a second reading of the core. Only
	 * SO_RCVLOWAT takes bits away in tcp_poll(): such a socket is woken as before. */
	if (ts->sk.rcvlowat > 1) {
		hxs_sock__wake(&ts->sk);
		return;
	}
	hxs_epoll__notify(&ts->sk, mask | (ts->sk.err ? (uint32_t)EPOLLERR : 0) |
			  ((mask & EPOLLHUP) ? (uint32_t)EPOLLOUT : 0));
}

static void linger_unlink(struct tcp_glue *g, struct tcp_sock *ts)
{
	if (!ts->lpprev)
		return;
	*ts->lpprev = ts->lnext;
	if (ts->lnext)
		ts->lnext->lpprev = ts->lpprev;
	else
		g->ltail = ts->lpprev;
	ts->lnext = NULL;
	ts->lpprev = NULL;
	g->mib[TCPS_HxsTcpLingerSockets]--;
}

/* The core adds a connection to its table only once it is steered: its XDP conn map entry
 * is made (a failed map update fails the connection: the core drops the SYN, or connect
 * returns -ENOBUFS), never a connection whose segments the kernel would get. An active open
 * from an ephemeral port the program steers by its eph entry (socket.c), or a passive one
 * under a listener whose entry steers it (listen_steers), needs no conn entry to be
 * steered: it gets none here (no bpf() call in a short connection's life), and one with a
 * slot later if it lives on (lazy_io), or one without a slot when its listener stops
 * steering it (lazy_listen_fix). */
static int on_tuple(void *ctx, struct hxs_tcp_conn *c, int add)
{
	struct tcp_glue *g = ctx;
	struct tcp_sock *ts = hxs_tcp_conn__user(c);
	struct hxs_addr laddr, raddr;
	uint16_t lport, rport;

	hxs_tcp_conn__tuple_addr(c, &laddr, &lport, &raddr, &rport);
	if (add) {
		hxs_tcp_conn__set_mark(c, 0);
		if (ts) {
			ts->io_calls = 0;
			ts->io_bytes = 0;
			ts->steered = 0;
		}
		if (ts && hxs_stack__eph_held(g->st, laddr, htons(lport))) {
			hxs_tcp_conn__set_mark(c, MARK_LAZY_EPH);
			g->mib[TCPS_HxsTcpEphSteered]++;
		} else if (!ts && hxs_tcp_steer__listen_steers(g, lport)) {
			hxs_tcp_conn__set_mark(c, MARK_LAZY_LISTEN);
			g->mib[TCPS_HxsTcpListenSteered]++;
		} else if (hxs_tcp_steer__conn_entry_add(g, c, 1)) {
			return -ENOBUFS;
		}
	} else {
		struct hxs_slot *slot = hxs_tcp_conn__slot(c);

		if (hxs_tcp_conn__mark(c) & MARK_ENTRY) {
			hxs_stack__disown_conn(g->st, laddr, htons(lport), raddr, htons(rport),
					       IPPROTO_TCP);
			g->mib[TCPS_HxsTcpConnMapDels]++;
			g->conn_entries--;
		}
		hxs_tcp_conn__set_mark(c, 0);
		/* after the entry is gone: no frame finds the slot any more */
		if (slot) {
			hxs_stack__slot_put(g->st, (uint32_t)(slot - g->st->slots));
			g->mib[TCPS_HxsTcpSlots]--;
		}
	}
	if (!ts)
		return 0;
	ts->in_table = !!add;
	if (!add && ts->lpprev) {
		/* TIME_WAIT (or the last ACK) is over: the port goes back */
		linger_unlink(g, ts);
		hxs_tcp_conn__set_user(c, NULL);
		ts->c = NULL;
		ts->lc = NULL;
		hxs_sock__free(&ts->sk);
	}
	return 0;
}

static void tx_flush(void *ctx)
{
	/* the stack's turn flushes its TX batch once, after TCP has run */
	(void)ctx;
}

static const struct hxs_tcp_tx_ops tcp_tx_ops = { .alloc = tx_alloc, .send = tx_send, .flush = tx_flush };
static const struct hxs_tcp_ev_ops tcp_ev_ops = {
	.on_event = on_event, .on_tuple = on_tuple, .on_listen = hxs_tcp_steer__on_listen, .on_synq = hxs_tcp_steer__on_synq,
};

static void tcp_input(void *ctx, struct hxs_stack *st, const struct hxs_ip_rx *pkt)
{
	struct tcp_glue *g = ctx;
	uint32_t flags = 0, slot = HXS_SLOT_NONE, gen = 0;

	/* the ECN field of the IP header goes with the segment (RFC 3168 §6.1.3) */
	flags |= HXS_TCP_IN_ECN(pkt->tos);
	/* an ACK whose SYN cookie the program validated (bpf/syncookie_xdp.h) */
	if (pkt->frame && (pkt->frame->mflags & HXS_META_F_COOKIE))
		flags |= HXS_TCP_IN_COOKIE_OK;
	/* the program named the connection's {slot, gen} (struct hxs_xdp_meta): the core finds
	 * it by index and checks the 4-tuple instead of hashing it. The header offsets it also
	 * gives are not used: the IP input must check the IP header anyway (RFC 1122 §3.2.1,
	 * RFC 8200) and has the TCP header's offset from it then, at no cost. */
	if (pkt->frame && pkt->frame->meta) {
		slot = pkt->frame->slot;
		gen = pkt->frame->gen;
	}
	/* a message's end (data, no SYN/FIN/RST, shorter than any full-sized segment could be:
	 * one with 40 bytes of options at the MTU) lets a busy loop's turn return before its
	 * tail (loop.c); anything else needs the tail now */
	if (pkt->l4_len >= 20) {
		uint32_t doff = (uint32_t)(pkt->l4[12] >> 4) * 4u;
		uint32_t hl = pkt->v6 ? HXS_IP6_HLEN : HXS_IP_HLEN;

		if (pkt->l4_len > doff && !(pkt->l4[13] & 0x07) &&
		    pkt->l4_len - doff + hl + 20 + 40 < st->mtu)
			st->rx_msg = 1;
		else
			st->rx_tail = 1;
	}
	if (pkt->v6)
		hxs_tcp__input_slot(g->tcp, slot, gen, hxs_addr6(pkt->src6), hxs_addr6(pkt->dst6),
				    pkt->l4, pkt->l4_len, flags, hxs_stack__now(st));
	else
		hxs_tcp__input_slot(g->tcp, slot, gen, hxs_addr4(pkt->src), hxs_addr4(pkt->dst),
				    pkt->l4, pkt->l4_len, flags, hxs_stack__now(st));
	/* an ACK due now that the core left for its poll (the turn's tail) goes in this turn,
	 * whatever the segment looked like: a reader that does not answer must not hold it
	 * (the every-second-segment ACK of a peer whose MSS is below our MTU's, a duplicate
	 * ACK) */
	if (hxs_tcp__acks_waiting(g->tcp))
		st->rx_tail = 1;
}

static int tcp_turn(void *ctx, uint64_t now, int events);
static uint64_t tcp_deadline(void *ctx);

/* The core, made with the first TCP socket (address and MTU are known by then). */
/* The kernel's route to raddr has a path MTU now (ctl_kernel.c): TCP's connections to it. */
static void tcp_pmtu(void *ctx, uint32_t raddr, uint32_t mtu)
{
	struct tcp_glue *g = ctx;

	hxs_tcp__pmtu_update(g->tcp, raddr, mtu, hxs_stack__now(g->st));
}

/* The cap on listen()'s backlog, read once when the stack's TCP starts: HXS_SOMAXCONN if the
 * environment sets it (a script's host, a test), else the kernel's net.core.somaxconn from
 * /proc (the host's setting applies to hxs's listeners as to the kernel's), else 4096, the
 * kernel's default since 5.4. The core reads no files: it gets the number. */
static uint32_t somaxconn(void)
{
	const char *env = getenv("HXS_SOMAXCONN");
	char buf[32] = { 0 };
	unsigned long v = 0;
	char *end = NULL;
	FILE *f;

	if (env && *env) {
		v = strtoul(env, &end, 10);
		return end && !*end && v && v <= INT_MAX ? (uint32_t)v : 4096;
	}
	f = fopen("/proc/sys/net/core/somaxconn", "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtoul(buf, &end, 10);
		fclose(f);
	}
	return v && v <= INT_MAX ? (uint32_t)v : 4096;
}

static struct tcp_glue *glue_get(struct hxs_stack *st)
{
	struct hxs_tcp_cfg cfg = { 0 };
	struct hxs_counter_table t;
	struct tcp_glue *g = glue(st);

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->st = st;
	g->ltail = &g->linger;
	cfg.mtu = st->mtu;
	/* Buffers as large as Linux's autotuning lets them grow (tcp_wmem[2], tcp_rmem[2]), and
	 * the window scale that goes with them (7, as Linux offers): a loss takes a round trip
	 * or more to repair, and until then the send buffer holds everything from the hole on
	 * and the receiver everything after it. At 256 KiB both were the limit under 1-5 %
	 * loss (RTOs on an exhausted send buffer). The ring's memory is taken only for bytes
	 * held (tcp_buf.c), so an idle connection costs no more. Out-of-order bytes of one
	 * connection may fill its receive buffer. */
	cfg.sndbuf = st->tcp_sndbuf ? st->tcp_sndbuf : HXS_TCP_SNDBUF_DEFAULT;
	cfg.rcvbuf = st->tcp_rcvbuf ? st->tcp_rcvbuf : HXS_TCP_RCVBUF_DEFAULT;
	cfg.ofo_conn_max = cfg.rcvbuf > HXS_TCP_OFO_CONN_MIN ? cfg.rcvbuf : HXS_TCP_OFO_CONN_MIN;
	/* HXS_RECOVERY=rack|sack: the stack-wide loss recovery with SACK (Linux's sysctl
	 * tcp_recovery); RACK-TLP without it or for any other value */
	{
		int m = hxs_tcp_recovery_find(getenv("HXS_RECOVERY"));

		cfg.recovery = m > 0 ? (uint8_t)m : 0;
	}
	/* hxs's default congestion control: BBR (README "Congestion control" says why) */
	cfg.cc = st->tcp_cc[0] ? st->tcp_cc : HXS_TCP_DEFAULT_CC;
	cfg.pacing = st->tcp_pacing;
	/* the stack's turn is the input batch: duplicate ACKs compressed to one a turn */
	cfg.ack_batch = 1;
	/* ... and in-order data's ACKs to one a turn per connection, as GRO does;
	 * HXS_STRETCH_ACK=0 ACKs every second full-sized segment at once instead */
	cfg.no_stretch_ack = getenv("HXS_STRETCH_ACK") && !strcmp(getenv("HXS_STRETCH_ACK"), "0");
	/* the stack's turn, then the application, then the next turn: an ACK that waits one
	 * poll lets a request or close on the news go with it (hxs_stack__open sets it) */
	cfg.ack_defer = st->ack_defer;
	/* on_event() only wakes: a mask that only lost bits has no one to wake (an epoll item
	 * is re-read when reported; an edge-triggered one waits for news) */
	cfg.notify_gains = 1;
	/* SYN cookies when the SYN queue is full, as the kernel's default tcp_syncookies = 1;
	 * HXS_SYNCOOKIES=0 turns them off (a full queue drops SYNs) */
	cfg.no_syncookies = getenv("HXS_SYNCOOKIES") && !strcmp(getenv("HXS_SYNCOOKIES"), "0");
	g->syncookies = !cfg.no_syncookies;
	/* HyStart++ (RFC 9406) in CUBIC's and NewReno's slow start; HXS_HYSTART=0 turns it off
	 * (classic RFC 5681 slow start), as Linux's tcp_cubic hystart=0 parameter */
	cfg.no_hystart = getenv("HXS_HYSTART") && !strcmp(getenv("HXS_HYSTART"), "0");
	cfg.somaxconn = somaxconn();
	if (getrandom(cfg.isn_secret, sizeof(cfg.isn_secret), 0) != sizeof(cfg.isn_secret)) {
		uint64_t x = hxs_stack__now(st) * 0x9e3779b97f4a7c15ull;

		memcpy(cfg.isn_secret, &x, sizeof(x));
	}
	if (hxs_tcp__new(&g->tcp, &cfg, &tcp_tx_ops, &tcp_ev_ops, g, hxs_stack__now(st))) {
		free(g);
		return NULL;
	}
	hxs_tcp__set_fastpath(g->tcp, !st->fast_off);
	hxs_tcp_steer__cookie_rotate(g, hxs_stack__now(st));
	t = (struct hxs_counter_table){ hxs_tcp_mib_names, hxs_tcp__mib(g->tcp), HXS_TCP_MIB__COUNT };
	hxs_stack__add_counters(st, &t);
	t = (struct hxs_counter_table){ tcps_mib_names, g->mib, TCPS_MIB__COUNT };
	hxs_stack__add_counters(st, &t);
	t = (struct hxs_counter_table){ hxs_tcp_res_names, hxs_tcp__res(g->tcp), HXS_TCP_RES__COUNT };
	hxs_stack__add_counters(st, &t);
	if (hxs_stack__add_poller(st, &(struct hxs_poller){ tcp_turn, tcp_deadline, g })) {
		hxs_tcp__free(g->tcp);
		free(g);
		return NULL;
	}
	hxs_stack__set_l4(st, IPPROTO_TCP, tcp_input, g);
	hxs_stack__set_pmtu_cb(st, tcp_pmtu, g);
	st->sockets->stream_ctx = g;
	return g;
}

/* The stack's poller: TCP timers and what connections have pending, once a turn. */
static int tcp_turn(void *ctx, uint64_t now, int events)
{
	struct tcp_glue *g = ctx;
	int n;

	(void)events;
	g->npush = 0;           /* hxs_tcp__poll() below outputs them with every dirty one */
	hxs_tcp__set_fastpath(g->tcp, !g->st->fast_off);
	if (now >= g->cookie_rotate)
		hxs_tcp_steer__cookie_rotate(g, now);
	/* ACK progress XDP made (its ACKs came before anything else this turn): before the
	 * timers, so an RTO does not fire for data already acknowledged */
	n = hxs_tcp__fp_poll(g->tcp, now);
	return n + hxs_tcp__poll(g->tcp, now);
}

/* When TCP needs the next turn (UINT64_MAX: none; 0: now). */
static uint64_t tcp_deadline(void *ctx)
{
	struct tcp_glue *g = ctx;

	return hxs_tcp__next_deadline(g->tcp);
}

void hxs_tcp_sock__fini(struct hxs_stack *st)
{
	struct tcp_glue *g = glue(st);

	if (!g)
		return;
	/* open sockets: RST (hxs_stack__close's contract), then close */
	for (int fd = 0; fd < st->sockets->nsocks; fd++) {
		struct hxs_sock *sk = st->sockets->socks[fd];

		if (sk && sk->ops == &hxs_tcp_sock_ops) {
			if (tcp_sk(sk)->c)
				hxs_tcp_conn__abort(tcp_sk(sk)->c);
			hxs_close(st, fd);
		}
	}
	hxs_tcp__poll(g->tcp, hxs_stack__now(st));
	/* lingering ones: their ports go now */
	while (g->linger) {
		struct tcp_sock *ts = g->linger;

		linger_unlink(g, ts);
		hxs_sock__free(&ts->sk);
	}
	/* conn map entries of connections the core dropped without telling (stack closing) */
	if (g->conn_entries)
		hxs_stack__disown_conns(st, IPPROTO_TCP);
	g->conn_entries = 0;
	hxs_tcp__free(g->tcp);
	hxs_stack__set_l4(st, IPPROTO_TCP, NULL, NULL);
	hxs_stack__del_poller(st, g);
	st->sockets->stream_ctx = NULL;
	hxs_stack__set_pmtu_cb(st, NULL, NULL);
	free(g);
}

static void owing_one(void *arg, struct hxs_tcp_conn *c)
{
	int s = hxs_tcp_conn__state(c);

	/* RFC 9293 §3.10.4: after CLOSE, FIN-WAIT-1, CLOSING and LAST-ACK wait for the peer to
	 * acknowledge our data and FIN; FIN-WAIT-2 and TIME-WAIT owe it nothing */
	*(uint32_t *)arg += s == HXS_TCPS_FIN_WAIT_1 || s == HXS_TCPS_CLOSING || s == HXS_TCPS_LAST_ACK;
}

uint32_t hxs_tcp_sock__owing(const struct hxs_stack *st)
{
	const struct tcp_glue *g = glue(st);
	uint32_t n = 0;

	if (g && g->tcp)
		hxs_tcp__foreach(g->tcp, owing_one, &n);
	return n;
}

int hxs_stack__set_cc(struct hxs_stack *st, const char *name)
{
	struct tcp_glue *g = glue(st);
	int err;

	if (!name || strlen(name) >= sizeof(st->tcp_cc) || !hxs_tcp__cc_known(name))
		return -ENOENT;
	if (g) {
		err = hxs_tcp__set_cc(g->tcp, name);
		if (err)
			return err;
	}
	strcpy(st->tcp_cc, name);
	return 0;
}

int hxs_stack__set_pacing(struct hxs_stack *st, int on)
{
	struct tcp_glue *g = glue(st);

	st->tcp_pacing = !!on;
	if (g)
		hxs_tcp__set_pacing(g->tcp, on);
	return 0;
}

int hxs_stack__set_tcp_bufs(struct hxs_stack *st, uint32_t sndbuf, uint32_t rcvbuf)
{
	struct tcp_glue *g = glue(st);

	st->tcp_sndbuf = sndbuf;
	st->tcp_rcvbuf = rcvbuf;
	if (g) {
		struct hxs_tcp_cfg c = { 0 };

		rcvbuf = rcvbuf ? rcvbuf : HXS_TCP_RCVBUF_DEFAULT;
		hxs_tcp__set_bufs(g->tcp, sndbuf ? sndbuf : HXS_TCP_SNDBUF_DEFAULT, rcvbuf);
		hxs_tcp__limits(g->tcp, &c);
		c.ofo_conn_max = rcvbuf > HXS_TCP_OFO_CONN_MIN ? rcvbuf : HXS_TCP_OFO_CONN_MIN;
		hxs_tcp__set_limits(g->tcp, &c);
	}
	return 0;
}

int hxs_stack__set_fastpath(struct hxs_stack *st, int on)
{
	struct tcp_glue *g = glue(st);

	hxs_stack__fastpath(st, on);
	if (g)
		hxs_tcp__set_fastpath(g->tcp, on);
	return 0;
}

int hxs_stack__set_ecn(struct hxs_stack *st, int tcp_ecn)
{
	struct tcp_glue *g = glue_get(st);

	if (!g)
		return -ENOMEM;
	return hxs_tcp__set_ecn(g->tcp, tcp_ecn);
}

int hxs_stack__set_mtu_probing(struct hxs_stack *st, int v)
{
	struct tcp_glue *g = glue_get(st);

	if (!g)
		return -ENOMEM;
	return hxs_tcp__set_mtu_probing(g->tcp, v);
}

/* --- limits --------------------------------------------------------------------------------- */
int hxs_stack__set_tcp_limits(struct hxs_stack *st, const struct hxs_tcp_limits *l)
{
	struct tcp_glue *g = glue_get(st);
	struct hxs_tcp_cfg c = { 0 };

	if (!g)
		return -ENOMEM;
	if (!l)
		return -EINVAL;
	c.max_conns = l->max_conns;
	c.max_tw = l->max_tw;
	c.ofo_conn_max = l->ofo_conn_max;
	c.ofo_max = l->ofo_max;
	c.mem_low = l->mem_low;
	c.mem_pressure = l->mem_pressure;
	c.mem_max = l->mem_max;
	c.mem_cache = l->mem_cache;
	hxs_tcp__set_limits(g->tcp, &c);
	return 0;
}

int hxs_stack__tcp_limits(struct hxs_stack *st, struct hxs_tcp_limits *l)
{
	struct tcp_glue *g = glue_get(st);
	struct hxs_tcp_cfg c = { 0 };

	if (!g)
		return -ENOMEM;
	hxs_tcp__limits(g->tcp, &c);
	*l = (struct hxs_tcp_limits){ .max_conns = c.max_conns, .max_tw = c.max_tw,
				      .ofo_conn_max = c.ofo_conn_max, .ofo_max = c.ofo_max,
				      .mem_low = c.mem_low, .mem_pressure = c.mem_pressure,
				      .mem_max = c.mem_max, .mem_cache = c.mem_cache };
	return 0;
}

/* --- socket operations --------------------------------------------------------------------- */
/* Every ephemeral port is held by a closed socket whose connection lingers: like the
 * kernel's tcp_tw_reuse = 1 (RFC 6191 with timestamps; TIME_WAIT at least 1 s old), end the
 * oldest such TIME_WAIT so its port can carry a new connection. 1 if a port was freed. */
static int tw_recycle_oldest(struct tcp_glue *g)
{
	uint64_t now = hxs_stack__now(g->st);
	struct tcp_sock *ts = g->linger;

	for (int seen = 0; ts && seen < 64; ts = ts->lnext, seen++) {
		if (now - ts->closed_at < 1000000)
			return 0;       /* the rest closed later still */
		/* RFC 6191 §2 relies on timestamps (PAWS) to tell the old segments apart */
		if (!ts->lc || hxs_tcp_conn__state(ts->lc) != HXS_TCPS_TIME_WAIT || !ts->lc->ts_ok)
			continue;
		if (ntohs(ts->sk.lport) < g->st->eph_lo || ntohs(ts->sk.lport) > g->st->eph_hi)
			continue;       /* a port bound by hand: not one connect() could take */
		g->mib[TCPS_HxsTcpTwRecycled]++;
		/* leaves the table: on_tuple frees the socket and its port */
		hxs_tcp_conn__abort(ts->lc);
		return 1;
	}
	return 0;
}

static int tcp_init(struct hxs_sock *sk)
{
	struct tcp_glue *g = glue_get(sk->st);
	struct tcp_sock *ts = tcp_sk(sk);
	int err, v;

	if (!g)
		return -ENOMEM;
	if (g->accepting)
		return 0;
	err = hxs_tcp_conn__new(g->tcp, &ts->c);
	if (err)
		return err;
	hxs_tcp_conn__set_user(ts->c, ts);
	/* report the buffers the core uses */
	if (!hxs_tcp_conn__getopt(ts->c, HXS_TCP_O_RCVBUF, &v))
		sk->rcvbuf = (uint32_t)v;
	if (!hxs_tcp_conn__getopt(ts->c, HXS_TCP_O_SNDBUF, &v))
		sk->sndbuf = (uint32_t)v;
	return 0;
}

/* A fresh CLOSED connection carrying the options of the old one (connect after a failure). */
static int tcp_renew(struct tcp_sock *ts)
{
	static const enum hxs_tcp_opt keep[] = {
		HXS_TCP_O_NODELAY, HXS_TCP_O_KEEPALIVE, HXS_TCP_O_KEEPIDLE, HXS_TCP_O_KEEPINTVL,
		HXS_TCP_O_KEEPCNT, HXS_TCP_O_MAXSEG, HXS_TCP_O_RCVBUF, HXS_TCP_O_SNDBUF,
		HXS_TCP_O_LINGER, HXS_TCP_O_TOS, HXS_TCP_O_TTL, HXS_TCP_O_USER_TIMEOUT,
		HXS_TCP_O_CORK,
	};
	struct hxs_tcp_conn *n;
	int err = hxs_tcp_conn__new(glue(ts->sk.st)->tcp, &n);

	if (err)
		return err;
	for (unsigned i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		int v;

		if (!hxs_tcp_conn__getopt(ts->c, keep[i], &v))
			hxs_tcp_conn__setopt(n, keep[i], v);
	}
	hxs_tcp_conn__set_user(ts->c, NULL);
	hxs_tcp_conn__close(ts->c);
	ts->c = n;
	ts->in_table = 0;
	hxs_tcp_conn__set_user(n, ts);
	return 0;
}

static void tcp_destroy(struct hxs_sock *sk)
{
	struct tcp_sock *ts = tcp_sk(sk), *p = ts->parent;

	if (ts->c) {
		/* never connected or already closed (hxs_accept4 failing to install) */
		hxs_tcp_conn__set_user(ts->c, NULL);
		hxs_tcp_conn__close(ts->c);
		ts->c = NULL;
	}
	if (p) {
		/* the last child of a closed listener gives its port back (the kernel's bind
		 * bucket lives while any socket of the port does) */
		ts->parent = NULL;
		if (--p->nchildren == 0 && p->orphan)
			hxs_sock__free(&p->sk);
	}
}

static int tcp_bind(struct hxs_sock *sk, const struct sockaddr_in6 *addr)
{
	struct tcp_sock *ts = tcp_sk(sk);

	(void)addr;
	/* inet_bind(): only a socket in TCP_CLOSE may bind */
	if (!ts->c || hxs_tcp_conn__state(ts->c) != HXS_TCPS_CLOSED)
		return -EINVAL;
	return 0;
}

static int tcp_listen(struct hxs_sock *sk, int backlog)
{
	struct tcp_sock *ts = tcp_sk(sk);
	int err, state;

	if (!ts->c || ts->sstate != SS_UNCONNECTED_)
		return -EINVAL;
	state = hxs_tcp_conn__state(ts->c);
	if (state != HXS_TCPS_CLOSED && state != HXS_TCPS_LISTEN)
		return -EINVAL;
	if (!(sk->flags & HXS_SOCK_F_BOUND)) {
		/* inet_autobind(): an ephemeral port */
		err = hxs_sock__bind_port(sk, hxs_sock__any(sk), 0);
		if (err)
			return err;
	}
	/* a port connect() chose has no bind entry, and a listener needs one */
	err = hxs_sock__bind_entry(sk);
	if (err)
		return err;
	err = hxs_tcp_conn__listen_addr(ts->c, sk->laddr, ntohs(sk->lport), sk->v6only, backlog);
	if (!err)
		ts->used = 1;
	return err;
}

static int tcp_accept(struct hxs_sock *sk, struct hxs_sock **child)
{
	struct tcp_sock *ts = tcp_sk(sk), *nts;
	struct tcp_glue *g = glue(sk->st);
	struct hxs_tcp_conn *c;
	struct hxs_sock *nsk;
	struct hxs_addr laddr, raddr;
	uint16_t lport, rport;
	int err;

	if (!ts->c || hxs_tcp_conn__state(ts->c) != HXS_TCPS_LISTEN)
		return -EINVAL;
	err = hxs_tcp_conn__accept(ts->c, &c);
	if (err)
		return err;
	g->accepting = 1;
	nsk = hxs_sock__alloc(sk->st, SOCK_STREAM, &hxs_tcp_sock_ops);
	g->accepting = 0;
	if (!nsk) {
		hxs_tcp_conn__abort(c);
		hxs_tcp_conn__close(c);
		return -ENOMEM;
	}
	nts = tcp_sk(nsk);
	nts->parent = ts;
	ts->nchildren++;
	nts->c = c;
	nts->sstate = SS_CONNECTED_;
	nts->in_table = 1;
	hxs_tcp_conn__set_user(c, nts);
	hxs_tcp_conn__tuple_addr(c, &laddr, &lport, &raddr, &rport);
	nsk->laddr = laddr;
	nsk->lport = htons(lport);
	nsk->raddr = raddr;
	nsk->rport = htons(rport);
	nsk->flags |= HXS_SOCK_F_CONNECTED |
		      (sk->flags & (HXS_SOCK_F_KEEPALIVE | HXS_SOCK_F_REUSEADDR | HXS_SOCK_F_OOBINLINE));
	nsk->rcvbuf = sk->rcvbuf;
	nsk->sndbuf = sk->sndbuf;
	nsk->linger = sk->linger;
	*child = nsk;
	return 0;
}

/* inet_stream_connect() */
static int tcp_connect(struct hxs_sock *sk, const struct sockaddr_in6 *addr, int nonblock)
{
	struct tcp_sock *ts = tcp_sk(sk);
	struct hxs_stack *st = sk->st;
	struct hxs_addr ra, la;
	int state, err, bound_here = 0;

	(void)nonblock;         /* never waits: socket.c's hxs_connect() does, once */
	if (!ts->c)
		return -EINVAL;
	if (!addr) {
		/* socket.c's wait asks how the attempt in progress stands */
		err = -EALREADY;
		goto outcome;
	}
	if (addr->sin6_family == AF_UNSPEC) {
		/* tcp_disconnect(): abort, back to an unconnected socket */
		hxs_tcp_conn__abort(ts->c);
		ts->sstate = SS_UNCONNECTED_;
		return tcp_renew(ts);
	}
	state = hxs_tcp_conn__state(ts->c);
	switch (ts->sstate) {
	case SS_CONNECTED_:
		return -EISCONN;
	case SS_CONNECTING_:
		/* also when the attempt failed and SO_ERROR took its error: the kernel then
		 * says ECONNABORTED once (outcome below), and only the next call starts afresh */
		err = -EALREADY;
		goto outcome;
	default:
		break;
	}
	if (addr->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (state == HXS_TCPS_LISTEN)
		return -EISCONN;
	if (state != HXS_TCPS_CLOSED)
		return -EISCONN;
	if (ts->used) {
		/* a CLOSED connection that already ran (refused, reset) is replaced; a port
		 * connect() picked went with it (the kernel's tcp_set_state(TCP_CLOSE) ->
		 * inet_put_port unless bind() chose it), so a new one is picked */
		if (ts->autobound) {
			hxs_sock__unbind_port(sk);
			ts->autobound = 0;
		}
		err = tcp_renew(ts);
		if (err)
			return err;
	}
	ra = hxs_addr6((const uint8_t *)&addr->sin6_addr);
	/* an IPv4 peer of an IPv6-only socket: tcp_v6_connect's ENETUNREACH */
	if (hxs_addr_is_any(ra) || (hxs_addr_is4(ra) && sk->v6only))
		return -ENETUNREACH;
	if (!addr->sin6_port)
		return -ECONNREFUSED;
	if (hxs_addr_is4(ra)) {
		uint32_t nh;
		err = hxs_stack__route(st, hxs_addr_get4(ra), &nh);
		if (err)
			return err;
		la = hxs_addr4(st->addr);
	} else {
		uint8_t nh6[16], hl;
		err = hxs_stack__route6(st, ra.b, nh6, &hl);
		if (err)
			return err;
		/* a socket bound to one of our IPv6 addresses connects from it */
		if ((sk->flags & HXS_SOCK_F_BOUND) && !hxs_addr_is_any(sk->laddr) && !hxs_addr_is4(sk->laddr))
			la = sk->laddr;
		else if ((err = hxs_ip6_select_src(st, ra.b, la.b)))
			return err;
	}
	for (int tries = 0; tries < 8; tries++) {
		if (!(sk->flags & HXS_SOCK_F_BOUND)) {
			/* inet_hash_connect(): an ephemeral port of hxs's range (RFC 6056 Alg. 4),
			 * without a bind entry: the connection's 4-tuple entry steers it */
			sk->flags |= HXS_SOCK_F_NOENTRY;
			err = hxs_sock__bind_ephemeral(sk, la, ra, addr->sin6_port);
			if (err == -EADDRINUSE && tw_recycle_oldest(glue(st)))
				err = hxs_sock__bind_ephemeral(sk, la, ra, addr->sin6_port);
			if (err) {
				sk->flags &= ~HXS_SOCK_F_NOENTRY;
				return err == -EADDRINUSE ? -EADDRNOTAVAIL : err;
			}
			bound_here = 1;
		}
		err = hxs_tcp_conn__connect_addr(ts->c, la, ntohs(sk->lport), ra,
						 ntohs(addr->sin6_port), hxs_stack__now(st));
		if (err != -EADDRNOTAVAIL || !bound_here)
			break;
		/* that 4-tuple still lingers (TIME_WAIT): another port */
		hxs_sock__unbind_port(sk);
	}
	if (err) {
		if (bound_here) {
			/* like the kernel's failed tcp_v4_connect(): the autobound port is released
			 * and getsockname says 0 again */
			hxs_sock__unbind_port(sk);
			sk->laddr = (struct hxs_addr){ { 0 } };
			sk->lport = 0;
		}
		return err;
	}
	sk->raddr = ra;
	sk->rport = addr->sin6_port;
	ts->used = 1;
	ts->autobound = (uint8_t)bound_here;
	ts->sstate = SS_CONNECTING_;
	err = -EINPROGRESS;
outcome:
	/* inet_stream_connect() after its wait: still in the handshake -> err (-EINPROGRESS or
	 * -EALREADY; a blocking caller waits in socket.c and asks again with addr NULL) */
	state = hxs_tcp_conn__state(ts->c);
	if (state == HXS_TCPS_SYN_SENT || state == HXS_TCPS_SYN_RECEIVED)
		return err;
	if (state == HXS_TCPS_CLOSED) {
		/* sock_error: the attempt failed (refused, timed out, unreachable) */
		int e = sk->err ? hxs_sock__take_error(sk) : -ECONNABORTED;

		ts->sstate = SS_UNCONNECTED_;
		sk->flags &= ~HXS_SOCK_F_CONNECTED;
		return e;
	}
	ts->sstate = SS_CONNECTED_;
	sk->flags |= HXS_SOCK_F_CONNECTED;
	return 0;
}

/* The core says ENOTCONN for a connection that never connected (or listens); the kernel's
 * tcp_sendmsg says EPIPE there (sk_stream_wait_connect: neither SYN-SENT nor SYN-RECEIVED). */
static long send_errno(long r)
{
	return r == -ENOTCONN ? -EPIPE : r;
}

/* A segment's worth of bytes queued on a connection with nothing in flight (a request, or a
 * response, after a pause) waits only until the application reads a TCP socket or is back
 * in its event loop (tcp_recvmsg or hxs_epoll_wait -> hxs_tcp_sock__push): then it is
 * output and the ring kicked before the read or the stack's turn, not at the end of that
 * turn (which reads the clock, runs the wheels, takes in what arrived, runs the pollers
 * first). What the application adds before it goes with it, as before: a second write, or
 * the FIN of a close (a request/response server's answer and FIN stay one segment; a closed
 * socket is left to the turn). Output decides as it would in the turn (Nagle, TCP_CORK,
 * windows, pacing); the connection stays dirty for the turn. Anything else waits for the
 * turn: bytes queued behind others (a stream's sender keeps one output and one kick a turn),
 * more than a segment (a bulk transfer's start), MSG_MORE, a call from inside a turn, an
 * application that neither reads nor calls hxs_epoll_wait. */
static void push_later(struct hxs_stack *st, int fd)
{
	struct tcp_glue *g = glue(st);

	for (int i = 0; i < g->npush; i++)
		if (g->push_fd[i] == fd)
			return;
	if (g->npush < (int)(sizeof(g->push_fd) / sizeof(g->push_fd[0])))
		g->push_fd[g->npush++] = fd;
}

void hxs_tcp_sock__push(struct hxs_stack *st)
{
	struct tcp_glue *g = glue(st);
	uint64_t now;
	int held;

	if (!g || !g->npush || st->turning)
		return;
	held = hxs_stack__time_hold(st);
	now = hxs_stack__now(st);
	g->push = 1;                /* tx_send() kicks each segment as it is handed over */
	for (int i = 0; i < g->npush; i++) {
		/* the fd may be closed, or another socket's since: output sends what is due */
		struct hxs_sock *sk = hxs_sock__get(st, g->push_fd[i]);

		if (sk && sk->ops == &hxs_tcp_sock_ops && tcp_sk(sk)->c)
			hxs_tcp__output(tcp_sk(sk)->c, now);
	}
	g->push = 0;
	g->npush = 0;
	hxs_stack__time_release(st, held);
}

static ssize_t tcp_sendmsg_any(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags);

/* send() of one buffer, without MSG_OOB or MSG_MORE, on a connection without error or
 * shutdown (every write of a request/response exchange): tcp_sendmsg_any()'s steps for it,
 * without its loop and its rarer cases, in a frame of its own. */
static ssize_t tcp_sendmsg(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			   const struct sockaddr_in6 *to)
{
	struct tcp_sock *ts = tcp_sk(sk);
	long n;

	(void)to;       /* like the kernel, a destination on a connected stream is ignored */
	if (iovcnt != 1 || (flags & (MSG_OOB | MSG_MORE)) || !iov[0].iov_len ||
	    iov[0].iov_len > (size_t)SSIZE_MAX || !ts->c || sk->err ||
	    (sk->flags & HXS_SOCK_F_WR_SHUT))
		return tcp_sendmsg_any(sk, iov, iovcnt, flags);
	n = hxs_tcp_conn__send(ts->c, iov[0].iov_base, iov[0].iov_len);
	if (n < 0)
		return send_errno(n);
	hxs_tcp_steer__io(ts, (size_t)n);
	if (n && !sk->st->turning && hxs_tcp_conn__tx_single(ts->c))
		push_later(sk->st, sk->fd);
	return n;
}

static __attribute__((noinline)) ssize_t tcp_sendmsg_any(struct hxs_sock *sk, const struct iovec *iov,
							  int iovcnt, int flags)
{
	struct tcp_sock *ts = tcp_sk(sk);
	size_t done = 0;
	ssize_t total = hxs_iov_len(iov, iovcnt);

	if (total < 0)
		return total;
	if (!ts->c)
		return -EPIPE;
	if (sk->err)
		return hxs_sock__take_error(sk);
	if (sk->flags & HXS_SOCK_F_WR_SHUT)
		return -EPIPE;
	for (int i = 0; i < iovcnt; i++) {
		long n;

		if (!iov[i].iov_len)
			continue;
		n = hxs_tcp_conn__send(ts->c, iov[i].iov_base, iov[i].iov_len);
		if (n < 0) {
			if (done)
				break;
			return send_errno(n);
		}
		done += (size_t)n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	hxs_tcp_steer__io(ts, done);
	if (!total)
		return send_errno(hxs_tcp_conn__send(ts->c, "", 0));
	/* MSG_OOB: the last byte queued is urgent (tcp_sendmsg -> tcp_mark_urg, RFC 6093 §4) */
	if ((flags & MSG_OOB) && done)
		hxs_tcp_conn__mark_urg(ts->c);
	if (done && !(flags & MSG_MORE) && !sk->st->turning && hxs_tcp_conn__tx_single(ts->c))
		push_later(sk->st, sk->fd);
	return (ssize_t)done;
}

static ssize_t tcp_recvmsg_any(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			       struct sockaddr_in6 *from);

/* The peer's address, for recvfrom() */
static void recv_from(const struct hxs_sock *sk, struct sockaddr_in6 *from)
{
	memset(from, 0, sizeof(*from));
	from->sin6_family = AF_INET6;
	memcpy(&from->sin6_addr, sk->raddr.b, 16);
	from->sin6_port = sk->rport;
}

static ssize_t tcp_recvmsg(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			   struct sockaddr_in6 *from, struct hxs_rx_meta *meta)
{
	(void)meta;
	struct tcp_sock *ts = tcp_sk(sk);
	long n;

	/* A read after a write: the application is done writing for now (a request/response
	 * exchange reads the answer, or reads on until EAGAIN before it waits). The segment a
	 * send left waiting (push_later) goes now, as the kernel's tcp_sendmsg() would have sent
	 * it, not after this read and the way back into the event loop. */
	hxs_tcp_sock__push(sk->st);
	/* recv() into one buffer with data waiting, none of the flags below (every read of a
	 * request/response exchange): tcp_recvmsg_any()'s steps for it, in a frame of its own */
	if (iovcnt != 1 || (flags & (MSG_PEEK | MSG_OOB | MSG_TRUNC)) || !iov[0].iov_len ||
	    iov[0].iov_len > (size_t)SSIZE_MAX || !ts->c || !hxs_tcp_conn__rx_avail(ts->c))
		return tcp_recvmsg_any(sk, iov, iovcnt, flags, from);
	n = hxs_tcp_conn__recv(ts->c, iov[0].iov_base, iov[0].iov_len, 0);
	if (n <= 0)
		return n;
	hxs_tcp_steer__io(ts, (size_t)n);
	if (from)
		recv_from(sk, from);
	return n;
}

static __attribute__((noinline)) ssize_t tcp_recvmsg_any(struct hxs_sock *sk, const struct iovec *iov,
							  int iovcnt, int flags,
							  struct sockaddr_in6 *from)
{
	struct tcp_sock *ts = tcp_sk(sk);
	unsigned f = (flags & MSG_PEEK) ? HXS_TCP_PEEK : 0;
	ssize_t total = hxs_iov_len(iov, iovcnt);
	size_t done = 0;
	long n;

	if (total < 0)
		return total;
	if (!ts->c)
		return -ENOTCONN;
	if (flags & MSG_OOB) {
		/* the urgent byte, into the first buffer with room (tcp_recv_urg) */
		int i = 0;

		while (i < iovcnt && !iov[i].iov_len)
			i++;
		return hxs_tcp_conn__recv_urg(ts->c, i < iovcnt ? iov[i].iov_base : NULL,
					      i < iovcnt ? 1 : 0, f);
	}
	if (!hxs_tcp_conn__rx_avail(ts->c)) {
		uint8_t none;

		/* a pending error, unless the stream ended first (tcp_recvmsg: SOCK_DONE before
		 * sk_err, e.g. a RST in CLOSE-WAIT leaves reads at 0) */
		if (sk->err && !hxs_tcp_conn__fin_rcvd(ts->c))
			return hxs_sock__take_error(sk);
		/* end of stream (0), nothing yet (-EAGAIN), or the core's error */
		n = hxs_tcp_conn__recv(ts->c, &none, 1, f);
		return n == -EAGAIN && !total ? 0 : n;
	}
	if (flags & MSG_TRUNC) {
		/* tcp_recvmsg(): MSG_TRUNC takes up to the length asked for without copying it
		 * (with MSG_PEEK it only counts) - "discard" in tcp(7) */
		n = hxs_tcp_conn__recv(ts->c, NULL, (size_t)total, f | HXS_TCP_DISCARD);
		if (n <= 0)
			return n;
		done = (size_t)n;
	} else if (f && iovcnt > 1) {
		/* MSG_PEEK over several buffers: one copy out, then scatter */
		uint32_t avail = hxs_tcp_conn__rx_avail(ts->c);
		size_t want = (size_t)total < avail ? (size_t)total : avail;
		uint8_t *tmp = malloc(want ? want : 1);

		if (!tmp)
			return -ENOMEM;
		n = hxs_tcp_conn__recv(ts->c, tmp, want, f);
		if (n > 0)
			hxs_iov_to(iov, iovcnt, tmp, (size_t)n);
		free(tmp);
		done = n > 0 ? (size_t)n : 0;
	} else {
		for (int i = 0; i < iovcnt; i++) {
			if (!iov[i].iov_len)
				continue;
			n = hxs_tcp_conn__recv(ts->c, iov[i].iov_base, iov[i].iov_len, f);
			/* nothing but the urgent byte, stepped over: end of stream, -EAGAIN ... */
			if (n <= 0 && !done)
				return n;
			if (n <= 0)
				break;
			done += (size_t)n;
			if ((size_t)n < iov[i].iov_len || f)
				break;
		}
	}
	if (!f)
		hxs_tcp_steer__io(ts, done);
	if (from)
		recv_from(sk, from);
	return (ssize_t)done;
}

static int tcp_shutdown(struct hxs_sock *sk, int how)
{
	struct tcp_sock *ts = tcp_sk(sk);
	int err;

	if (!ts->c)
		return -ENOTCONN;
	if (hxs_tcp_conn__state(ts->c) == HXS_TCPS_LISTEN) {
		/* inet_shutdown() on a listener: shutting reading stops listening */
		if (how == SHUT_WR)
			return 0;
		hxs_tcp_conn__abort(ts->c);
		return tcp_renew(ts);
	}
	err = hxs_tcp_conn__shutdown(ts->c, how);
	if (err)
		return err;
	if (how != SHUT_WR)
		sk->flags |= HXS_SOCK_F_RD_SHUT;
	if (how != SHUT_RD)
		sk->flags |= HXS_SOCK_F_WR_SHUT;
	hxs_sock__wake(sk);
	return 0;
}

static void tcp_close(struct hxs_sock *sk)
{
	struct tcp_sock *ts = tcp_sk(sk);
	struct tcp_glue *g = glue(sk->st);
	struct hxs_tcp_conn *c = ts->c;

	if (!c)
		return;
	if (!(sk->flags & HXS_SOCK_F_BOUND) || hxs_tcp_conn__state(c) == HXS_TCPS_LISTEN) {
		/* no port of its own to keep (accepted), or a listener (nothing lingers) */
		hxs_tcp_conn__set_user(c, NULL);
		ts->c = NULL;
		hxs_tcp_conn__close(c);   /* a listener: on_listen del drops the LISTEN steering */
		if (ts->nchildren) {
			/* accepted sockets still live on the port: as in the kernel, new SYNs are
			 * refused but the port stays reserved (kernel socket and bind entry, no
			 * longer LISTEN) until the last of them goes (tcp_destroy) */
			ts->orphan = 1;
			sk->flags |= HXS_SOCK_F_KEEPPORT;
		}
		return;
	}
	/* the connection may stay in FIN_WAIT/TIME_WAIT: it keeps the port until on_tuple del */
	ts->lingering = 1;
	hxs_tcp_conn__close(c);
	if (!ts->in_table) {
		/* gone at once (RST, never connected): the core may have freed it */
		ts->lingering = 0;
		ts->c = NULL;
		return;
	}
	ts->c = NULL;           /* the core owns it now; it calls on_tuple when done */
	ts->lc = c;
	ts->closed_at = hxs_stack__now(sk->st);
	sk->flags |= HXS_SOCK_F_KEEPPORT;
	ts->lnext = NULL;
	ts->lpprev = g->ltail;
	*g->ltail = ts;
	g->ltail = &ts->lnext;
	g->mib[TCPS_HxsTcpLingerSockets]++;
}

/* tcp_poll() */
static uint32_t tcp_poll(struct hxs_sock *sk)
{
	struct tcp_sock *ts = tcp_sk(sk);
	uint32_t m;

	if (!ts->c)
		return EPOLLHUP;
	m = hxs_tcp_conn__events(ts->c);
	/* tcp_stream_is_readable(): data below SO_RCVLOWAT does not make the stream readable;
	 * the end of the stream, an error or a listener's queue still do */
	if ((m & EPOLLIN) && sk->rcvlowat > 1 && !sk->err && !(m & (EPOLLRDHUP | EPOLLERR)) &&
	    hxs_tcp_conn__state(ts->c) != HXS_TCPS_LISTEN && !hxs_tcp_conn__fin_rcvd(ts->c) &&
	    hxs_tcp_conn__rx_avail(ts->c) < sk->rcvlowat)
		m &= ~(uint32_t)(EPOLLIN | EPOLLRDNORM);
	if (sk->err)
		m |= EPOLLERR;
	/* a socket that never connected is writable and hung up, as in the kernel */
	if (hxs_tcp_conn__state(ts->c) == HXS_TCPS_CLOSED)
		m |= EPOLLOUT | EPOLLHUP;
	return m;
}

static int tcp_getname(struct hxs_sock *sk, struct sockaddr_in6 *a, int peer)
{
	struct tcp_sock *ts = tcp_sk(sk);
	int state = ts->c ? hxs_tcp_conn__state(ts->c) : HXS_TCPS_CLOSED;
	struct hxs_addr laddr, raddr;
	uint16_t lport, rport;

	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	if (peer) {
		/* inet_getname(): no peer in CLOSE or SYN_SENT (or LISTEN: no dport) */
		if (!ts->c || state == HXS_TCPS_CLOSED || state == HXS_TCPS_SYN_SENT ||
		    state == HXS_TCPS_LISTEN)
			return -ENOTCONN;
		hxs_tcp_conn__tuple_addr(ts->c, NULL, NULL, &raddr, &rport);
		memcpy(&a->sin6_addr, raddr.b, 16);
		a->sin6_port = htons(rport);
		return 0;
	}
	if (ts->c && state != HXS_TCPS_CLOSED && state != HXS_TCPS_LISTEN) {
		hxs_tcp_conn__tuple_addr(ts->c, &laddr, &lport, NULL, NULL);
		memcpy(&a->sin6_addr, laddr.b, 16);
		a->sin6_port = htons(lport);
		return 0;
	}
	laddr = (sk->flags & HXS_SOCK_F_BOUND) ? sk->laddr : hxs_sock__any(sk);
	memcpy(&a->sin6_addr, laddr.b, 16);
	a->sin6_port = sk->lport;
	return 0;
}

const struct hxs_proto_ops hxs_tcp_sock_ops = {
	.name = "tcp",
	.ipproto = IPPROTO_TCP,
	.obj_size = sizeof(struct tcp_sock),
	.init = tcp_init,
	.bind = tcp_bind,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.connect = tcp_connect,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
	.destroy = tcp_destroy,
	.poll = tcp_poll,
	.setsockopt = hxs_tcp_sock__setsockopt,
	.getsockopt = hxs_tcp_sock__getsockopt,
	.ioctl = hxs_tcp_sock__ioctl,
	.getname = tcp_getname,
};

/* A segment before the first TCP socket: the core is made for it, so it gets the core's
 * answer (a RST: RFC 9293 §3.10.7.1, CLOSED) instead of IpInUnknownProtos. glue_get()
 * replaces this handler with tcp_input(). */
static void tcp_input_first(void *ctx, struct hxs_stack *st, const struct hxs_ip_rx *pkt)
{
	struct tcp_glue *g = glue_get(st);

	(void)ctx;
	if (g)
		tcp_input(g, st, pkt);
}

int hxs_tcp_sock__attach(struct hxs_stack *st)
{
	int err = hxs_sock__register_proto(st, SOCK_STREAM, &hxs_tcp_sock_ops);

	if (!err) {
		hxs_stack__set_l4(st, IPPROTO_TCP, tcp_input_first, NULL);
		hxs_stack__set_l4v6(st, IPPROTO_TCP, tcp_input_first, NULL);
	}
	return err;
}
