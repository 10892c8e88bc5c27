/* tcp_steer.c - how the XDP program steers the frames of hxs's TCP connections, and SYN
 * cookies at XDP: the glue between the core's table and the program's maps.
 *
 *   tcp_sock.c on_tuple() -> hxs_tcp_steer__listen_steers() / eph held (socket.c): no entry
 *            (lazy), else hxs_tcp_steer__conn_entry_add(): {slot, gen} conn map entry
 *   tcp_sendmsg/tcp_recvmsg -> hxs_tcp_steer__lazy_io(): a lazy connection that lives on
 *            -> hxs_tcp_steer__conn_entry_add() with a slot
 *   core -> hxs_tcp_steer__on_listen(): bind entry LISTEN; a listener going -> lazy_listen_fix()
 *   core -> hxs_tcp_steer__on_synq(): bind entry LISTEN | COOKIES (-> lazy_listen_fix()) or
 *            LISTEN alone when the SYN queue drained
 *   glue_get(), tcp_turn() -> hxs_tcp_steer__cookie_rotate(): the keys the core and XDP share
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "hxs/shared.h"
#include "tcp/tcp_conn.h"   /* enum hxs_tcp_state for hxs_tcp_conn__state() */
#include "tcp_sock_priv.h"

/* The conn entry {slot, gen} of c, with a slot if with_slot and one is free (set up before
 * the entry that names it). 0, or -ENOBUFS: the map is full, or the kernel refused.
 * with_slot 0 (from a callback other than on_tuple, where set_slot may not be called): an
 * entry that steers only. */
int hxs_tcp_steer__conn_entry_add(struct tcp_glue *g, struct hxs_tcp_conn *c, int with_slot)
{
	struct hxs_addr laddr, raddr;
	uint16_t lport, rport;
	uint32_t id = HXS_SLOT_NONE, gen = 0;
	struct hxs_slot *slot = with_slot ? hxs_stack__slot_get(g->st, &id, &gen) : NULL;

	hxs_tcp_conn__tuple_addr(c, &laddr, &lport, &raddr, &rport);
	if (hxs_stack__own_conn(g->st, laddr, htons(lport), raddr, htons(rport),
				IPPROTO_TCP, id, gen)) {
		hxs_stack__slot_put(g->st, id);
		g->mib[TCPS_HxsTcpConnMapErrors]++;
		return -ENOBUFS;
	}
	if (slot) {
		hxs_tcp_conn__set_slot(c, slot, id, gen);
		g->mib[TCPS_HxsTcpSlots]++;
	}
	hxs_tcp_conn__set_mark(c, MARK_ENTRY);
	g->mib[TCPS_HxsTcpConnMapAdds]++;
	g->conn_entries++;
	return 0;
}

/* A listener on lport steers a new passive connection without a conn entry: every TCP
 * socket on the port that listens has XDP's cookie check off (tcp_sock.xdp_cookies). Only
 * where the program has the eph table too (a program of this design: the static control
 * plane's tests keep an entry per connection). */
int hxs_tcp_steer__listen_steers(struct tcp_glue *g, uint16_t lport)
{
	int n = 0;

	if (!g->st->eph)
		return 0;
	for (struct hxs_sock *o = hxs_sock__port_chain(g->st, IPPROTO_TCP, htons(lport)); o;
	     o = o->port_next) {
		struct tcp_sock *ls = (struct tcp_sock *)o;

		if (o->ops->ipproto != IPPROTO_TCP || !ls->c ||
		    hxs_tcp_conn__state(ls->c) != HXS_TCPS_LISTEN)
			continue;
		if (ls->xdp_cookies)
			return 0;
		n++;
	}
	return n > 0;
}

/* A lazy connection (on_tuple) that moved data in LAZY_CALLS send/receive calls or
 * LAZY_BYTES bytes lives on: now its conn entry, with a slot (the ACK fast path and the
 * demux by slot); without a free slot it stays as it is (an entry would only steer what is
 * steered already). The entry costs two bpf() calls (add, and delete when the connection
 * leaves the table), a few microseconds; the slot saves the 4-tuple hash per segment and
 * a pass through the stack per ACK the fast path takes: worth it from a few dozen
 * segments on. A short request-response connection stays below. */
#define LAZY_CALLS 16
#define LAZY_BYTES 65536
void hxs_tcp_steer__lazy_io(struct tcp_sock *ts, size_t n)
{
	struct tcp_glue *g = glue(ts->sk.st);

	if (!n || !ts->c)
		return;
	if (!(hxs_tcp_conn__mark(ts->c) & MARK_LAZY)) {
		ts->steered = 1;        /* no lazy mark comes back before on_tuple's next add */
		return;
	}
	ts->io_calls++;
	ts->io_bytes += n;
	if (ts->io_calls < LAZY_CALLS && ts->io_bytes < LAZY_BYTES)
		return;
	if (!g->st->slots || g->st->fast_off || !g->st->nslot_free)
		return;
	if (!hxs_tcp_steer__conn_entry_add(g, ts->c, 1)) {
		g->mib[TCPS_HxsTcpLazyConnAdds]++;
		ts->steered = 1;
	}
}

struct lazy_fix {
	struct tcp_glue *g;
	uint16_t lport;
};

static void lazy_fix_one(void *arg, struct hxs_tcp_conn *c)
{
	struct lazy_fix *f = arg;
	struct hxs_addr laddr, raddr;
	uint16_t lport, rport;

	if (!(hxs_tcp_conn__mark(c) & MARK_LAZY_LISTEN))
		return;
	hxs_tcp_conn__tuple_addr(c, &laddr, &lport, &raddr, &rport);
	if (lport == f->lport)
		hxs_tcp_steer__conn_entry_add(f->g, c, 0);  /* a failure: the connection's frames go unsteered */
}

/* The LISTEN entry of lport stops steering its connections as it did (the listener goes,
 * or XDP starts checking cookies on the port): each connection it steered gets its conn
 * entry now, before the bind entry changes. Not while the stack closes: every connection
 * goes with it. */
static void lazy_listen_fix(struct tcp_glue *g, uint16_t lport)
{
	struct lazy_fix f = { .g = g, .lport = lport };

	if (g->st->eph && !g->st->closing)
		hxs_tcp__foreach(g->tcp, lazy_fix_one, &f);
}

static struct hxs_sock *listen_sock(struct tcp_glue *g, struct hxs_addr laddr, uint16_t lport)
{
	struct hxs_sock *o;

	for (o = hxs_sock__port_chain(g->st, IPPROTO_TCP, htons(lport)); o; o = o->port_next)
		if (hxs_addr_eq(o->laddr, laddr))
			break;
	return o;
}

/* The bind entries of a listener (socket.c made them at bind): its address, and 0.0.0.0
 * too for a dual-stack :: ; the cookie flags on each (the program answers SYNs with cookies
 * for both families, bpf/syncookie_xdp.h; the MSS in them is the listener's, for IPv6's
 * larger header when it may take IPv6: hxs_tcp_conn__cookie_local). */
static int listen_entries(struct tcp_glue *g, struct hxs_sock *o, uint16_t lport, uint32_t flags)
{
	int err;

	err = hxs_stack__own_bind(g->st, o->laddr, htons(lport), IPPROTO_TCP, o->rx_owner, flags);
	if (!err && !hxs_addr_is4(o->laddr) && hxs_addr_is_any6(o->laddr) && !o->v6only)
		err = hxs_stack__own_bind(g->st, hxs_addr4(0), htons(lport), IPPROTO_TCP, o->rx_owner,
					  flags);
	return err;
}

void hxs_tcp_steer__on_listen(void *ctx, struct hxs_tcp_conn *l, struct hxs_addr laddr, uint16_t lport,
		      int add)
{
	struct tcp_glue *g = ctx;
	struct hxs_sock *o = listen_sock(g, laddr, lport);

	(void)l;
	if (!add)
		lazy_listen_fix(g, lport);
	if (!o)
		return;
	tcp_sk(o)->xdp_cookies = 0;
	listen_entries(g, o, lport, add ? HXS_BIND_F_LISTEN : 0);
}

/* --- SYN cookies ------------------------------------------------------------------------ */
/* One cookie period (hxs/syncookie.h: t = seconds / 64): a cookie validates under the
 * current or the previous key, so a key made now serves cookies for two periods - as long
 * as a cookie's own time field lets it live (64-128 s). The rotation waits for a turn of the
 * loop rather than waking an idle one: a key kept longer weakens nothing the time field
 * does not already bound (a cookie older than 128 s fails whatever the key). */
#define COOKIE_ROTATE_US (64ull * 1000000)

/* A new current key; the current one becomes the previous. The core and the program get the
 * same keys. Without randomness the keys stay as they are (the program's may stay zero:
 * it then sends no cookies and the core answers with its own, hxs_tcp_syncookie_init). */
void hxs_tcp_steer__cookie_rotate(struct tcp_glue *g, uint64_t now)
{
	struct hxs_cookie_secret s = g->cookie;
	uint32_t next = (s.cur & 1) ^ 1;

	g->cookie_rotate = now + COOKIE_ROTATE_US;
	if (getrandom(s.key[next], sizeof(s.key[next]), GRND_NONBLOCK) != sizeof(s.key[next]))
		return;
	s.cur = next;
	g->cookie = s;
	hxs_tcp__set_cookie_secret(g->tcp, &s);
	if (hxs_stack__cookie_secret(g->st, &s) < 0)
		g->mib[TCPS_HxsTcpCookieKeyErrors]++;
}

/* The SYN queue of listener l filled (pressure) or drained to half: XDP answers its SYNs
 * with cookies, or stops. Only where the program's fixed SYN-ACK window (65535) fits the
 * listener's buffer; elsewhere the SYNs keep coming to the core, which answers them itself. */
void hxs_tcp_steer__on_synq(void *ctx, struct hxs_tcp_conn *l, int pressure)
{
	struct tcp_glue *g = ctx;
	struct hxs_sc_local loc;
	struct hxs_addr laddr, raddr;
	uint32_t flags = HXS_BIND_F_LISTEN;
	uint16_t lport, rport;
	struct hxs_sock *o;

	if (!g->syncookies)
		return;
	hxs_tcp_conn__tuple_addr(l, &laddr, &lport, &raddr, &rport);
	o = listen_sock(g, laddr, lport);
	if (!o)
		return;
	hxs_tcp_conn__cookie_local(l, &loc);
	if (pressure && loc.win >= HXS_BIND_COOKIE_WIN && loc.mss)
		flags |= HXS_BIND_F_COOKIES | (uint32_t)loc.mss << HXS_BIND_MSS_SHIFT |
			 (uint32_t)(loc.ws & 0xf) << HXS_BIND_WS_SHIFT |
			 (loc.no_sack ? HXS_BIND_F_NO_SACK : 0) | (loc.no_ts ? HXS_BIND_F_NO_TS : 0) |
			 (loc.no_ws ? HXS_BIND_F_NO_WS : 0);
	if (flags & HXS_BIND_F_COOKIES) {
		tcp_sk(o)->xdp_cookies = 1;     /* new connections on the port get entries */
		lazy_listen_fix(g, lport);
	}
	if (listen_entries(g, o, lport, flags) == 0) {
		g->mib[(flags & HXS_BIND_F_COOKIES) ? TCPS_HxsTcpXdpCookiesOn : TCPS_HxsTcpXdpCookiesOff]++;
		if (!(flags & HXS_BIND_F_COOKIES))
			tcp_sk(o)->xdp_cookies = 0;
	}
}
