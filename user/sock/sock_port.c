/* sock_port.c - ports: the table of bound sockets, the kernel reservation of each port, the
 * XDP program's bind and eph entries, ephemeral port selection.
 *
 * hxs_sock__bind_port()      -> port 0: hxs_sock__bind_ephemeral() -> hxs_port_sel__pick_addr()
 *                               (RFC 6056 §3.3.4 Algorithm 4) -> eph_in_use() -> bind_one()
 *                            -> bind_one() -> port_conflict() -> kernel_reserve()
 *                               (kept reservation or kernel_bind()) -> own_eph / own_binds()
 * hxs_sock__bind_entry()     -> own_binds() (a connect()'s port that later needs its entry)
 * hxs_sock__unbind_port()    -> disown_binds() -> kernel_release() (kept or kernel_close())
 * hxs_sock__eph_release()    -> kernel_close() of every kept reservation
 *
 * Ports: one chain per (protocol, port) of the sockets bound to it. Binding reserves the
 * port with the kernel (a kernel socket of the same protocol bound to the same address and
 * port, held while the hxs socket lives) and installs the XDP program's bind entry. Port 0
 * draws from [eph_lo, eph_hi], outside the kernel's ip_local_port_range, with RFC 6056
 * §3.3.4 Algorithm 4 (lib/port_sel.c): a port the kernel refuses counts as in use.
 * Ephemeral TCP ports are reserved once: the kernel socket of a released ephemeral port
 * stays open (kept reservations, eph_slot(): no hxs socket on the port, the kernel still kept
 * off it; a SYN to it is answered with a RST as before) and the next socket to bind that
 * port on that address takes it, so a connect() on a port used before costs no
 * socket/bind/close. UDP ports are not kept: a bound kernel UDP socket would swallow the
 * datagrams the kernel now answers with ICMP port unreachable. Selection is unchanged (Algorithm 4 over the whole range, a
 * cached port is simply one whose check needs no syscall). The cache never holds more than
 * the range; when the kernel refuses an fd (EMFILE, ENFILE) it is emptied and the bind tried
 * again. A TCP connect() binds with HXS_SOCK_F_NOENTRY: no XDP bind entry (a TCP entry
 * without LISTEN steers nothing); the program's eph entry (hxs_stack__own_eph, a store into
 * a mapped array) steers the port on that address from then until the kernel reservation
 * closes (kernel_close), kept reservations included, so the connection needs no 4-tuple
 * entry (tcp_sock.c). Without the eph table the 4-tuple entry steers it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"
#include "net/stack.h"

/* --- ports ------------------------------------------------------------------------------------ */
static struct hxs_sock ***port_table(struct hxs_stack *st, uint8_t proto)
{
	return proto == IPPROTO_TCP ? &st->sockets->ports_tcp : &st->sockets->ports_udp;
}

struct hxs_sock *hxs_sock__port_chain(struct hxs_stack *st, uint8_t proto, uint16_t port)
{
	struct hxs_sock **t = *port_table(st, proto);

	return t ? t[ntohs(port)] : NULL;
}

struct hxs_addr hxs_sock__any(const struct hxs_sock *sk)
{
	return sk->family == AF_INET6 ? (struct hxs_addr){ { 0 } } : hxs_addr4(0);
}

int hxs_sock__takes(const struct hxs_sock *sk, struct hxs_addr a)
{
	if (hxs_addr_eq(sk->laddr, a))
		return 1;
	/* 0.0.0.0 takes IPv4; :: takes IPv6, and IPv4 too unless IPV6_V6ONLY (RFC 3493 §5.3) */
	if (hxs_addr_is4(sk->laddr))
		return !hxs_addr_get4(sk->laddr) && hxs_addr_is4(a);
	return hxs_addr_is_any6(sk->laddr) && (!hxs_addr_is4(a) || !sk->v6only);
}

uint32_t hxs_sock__scope(const struct hxs_stack *st, struct hxs_addr a)
{
	/* fe80::/10 (RFC 4291 §2.5.6): the interface hxs runs on */
	if (a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80)
		return st->nif ? (uint32_t)st->nif->ifindex : 1;
	return 0;
}

/* inet_csk_bind_conflict() / udp_lib_lport_inuse(): same port, overlapping addresses (of
 * either family: a dual-stack :: overlaps 0.0.0.0 and every IPv4 address), and not both
 * willing to share with SO_REUSEADDR. sk->laddr/v6only are the candidate binding's. */
static int port_conflict(struct hxs_stack *st, const struct hxs_sock *sk, struct hxs_addr addr, uint16_t port)
{
	struct hxs_sock cand = *sk;

	cand.laddr = addr;
	for (struct hxs_sock *o = hxs_sock__port_chain(st, sk->ops->ipproto, port); o; o = o->port_next) {
		if (!hxs_sock__takes(o, addr) && !hxs_sock__takes(&cand, o->laddr))
			continue;
		if ((o->flags & HXS_SOCK_F_REUSEADDR) && (sk->flags & HXS_SOCK_F_REUSEADDR))
			continue;
		return 1;
	}
	return 0;
}

/* --- kept reservations of ephemeral ports ------------------------------------------------ */
/* A kernel reservation goes: the program stops steering the port on its own first (the
 * entry may name it only while the reservation keeps kernel sockets off it). */
static void kernel_close(struct hxs_stack *st, uint8_t proto, struct hxs_addr addr, uint16_t port,
			 int fd)
{
	if (proto == IPPROTO_TCP)
		hxs_stack__disown_eph(st, addr, port);
	close(fd);
}

static struct hxs_eph_rsv *eph_slot(struct hxs_stack *st, uint8_t proto, uint16_t port, int make)
{
	struct hxs_socktab *t = st->sockets;
	struct hxs_eph_rsv **a = &t->eph_rsv;
	uint16_t p = ntohs(port);

	if (proto != IPPROTO_TCP)
		return NULL;
	if (t->eph_rsv_lo != st->eph_lo || t->eph_rsv_hi != st->eph_hi) {
		/* the range moved: what was kept belongs to the old one */
		hxs_sock__eph_release(st);
		t->eph_rsv_lo = st->eph_lo;
		t->eph_rsv_hi = st->eph_hi;
	}
	if (p < t->eph_rsv_lo || p > t->eph_rsv_hi)
		return NULL;
	if (!*a) {
		size_t n = (size_t)(t->eph_rsv_hi - t->eph_rsv_lo) + 1;

		if (!make || !(*a = malloc(n * sizeof(**a))))
			return NULL;
		for (size_t i = 0; i < n; i++)
			(*a)[i].fd = -1;
	}
	return &(*a)[p - t->eph_rsv_lo];
}

void hxs_sock__eph_release(struct hxs_stack *st)
{
	struct hxs_socktab *t = st->sockets;
	size_t n = (size_t)(t->eph_rsv_hi - t->eph_rsv_lo) + 1;

	if (!t->eph_rsv)
		return;
	for (size_t i = 0; i < n; i++)
		if (t->eph_rsv[i].fd >= 0)
			kernel_close(st, IPPROTO_TCP, t->eph_rsv[i].addr,
				     htons((uint16_t)(t->eph_rsv_lo + i)), t->eph_rsv[i].fd);
	free(t->eph_rsv);
	t->eph_rsv = NULL;
}

/* A kernel socket on the same address and port keeps kernel programs (EADDRINUSE) and the
 * kernel's own port choice off it. */
static int kernel_bind(struct hxs_sock *sk, struct hxs_addr addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = hxs_addr_get4(addr),
				 .sin_port = port };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = port };
	int type = sk->ops->ipproto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int one = 1, small = 0, v6only = sk->v6only;
	int fd, err;

	/* the kernel socket has the hxs socket's family: a dual-stack :: reserves the port in
	 * both families at once, as the hxs socket takes both */
	fd = socket(sk->family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (sk->family == AF_INET6) {
		memcpy(&a6.sin6_addr, addr.b, 16);
		a6.sin6_scope_id = hxs_sock__scope(sk->st, addr);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (sk->flags & HXS_SOCK_F_REUSEADDR)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* it never receives anything meant for hxs: keep its buffer at the minimum */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (sk->family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0
				   : bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	sk->kfd = fd;
	return 0;
}

static int kernel_reserve(struct hxs_sock *sk, struct hxs_addr addr, uint16_t port)
{
	struct hxs_eph_rsv *r = eph_slot(sk->st, sk->ops->ipproto, port, 0);
	int err;

	if (r && r->fd >= 0) {
		/* kept from an earlier use: ours if the address is the same and no sharing is
		 * asked for (it was made without SO_REUSEADDR), else it would only be in the way */
		if (hxs_addr_eq(r->addr, addr) && r->family == sk->family && r->v6only == sk->v6only &&
		    !(sk->flags & HXS_SOCK_F_REUSEADDR)) {
			sk->kfd = r->fd;
			r->fd = -1;
			return 0;
		}
		kernel_close(sk->st, IPPROTO_TCP, r->addr, port, r->fd);
		r->fd = -1;
	}
	err = kernel_bind(sk, addr, port);
	if (err == -EMFILE || err == -ENFILE) {
		/* the fds we keep may be what is missing */
		hxs_sock__eph_release(sk->st);
		err = kernel_bind(sk, addr, port);
	}
	return err;
}

/* The port goes back: its kernel socket is kept if the port is ephemeral (and was not
 * shared), else closed. */
static void kernel_release(struct hxs_sock *sk)
{
	struct hxs_eph_rsv *r;

	if (sk->kfd < 0)
		return;
	r = (sk->flags & HXS_SOCK_F_REUSEADDR) ? NULL : eph_slot(sk->st, sk->ops->ipproto, sk->lport, 1);
	if (r && r->fd < 0) {
		r->fd = sk->kfd;
		r->addr = sk->laddr;
		r->family = sk->family;
		r->v6only = sk->v6only;
	} else {
		kernel_close(sk->st, sk->ops->ipproto, sk->laddr, sk->lport, sk->kfd);
	}
	sk->kfd = -1;
}

/* The XDP bind entries of a binding: its address; a dual-stack :: also 0.0.0.0 (the program
 * looks up the exact address, then the wildcard of the frame's family). */
static int holds_entry(const struct hxs_sock *o, struct hxs_addr a)
{
	if (o->flags & HXS_SOCK_F_NOENTRY)
		return 0;
	if (hxs_addr_eq(o->laddr, a))
		return 1;
	return hxs_addr_is4(a) && !hxs_addr_get4(a) && hxs_addr_is_any6(o->laddr) && !o->v6only;
}

/* Another socket on sk's port holds the entry a (SO_REUSEADDR sharers: the same address, or
 * a dual-stack :: and an IPV6_V6ONLY :: sharing ::, or 0.0.0.0 and a dual-stack ::): one
 * entry per key, installed by the first, removed by the last. */
static int entry_shared(struct hxs_stack *st, const struct hxs_sock *sk, struct hxs_addr a)
{
	for (struct hxs_sock *o = hxs_sock__port_chain(st, sk->ops->ipproto, sk->lport); o; o = o->port_next)
		if (o != sk && holds_entry(o, a))
			return 1;
	return 0;
}

static int own_binds(struct hxs_sock *sk)
{
	struct hxs_stack *st = sk->st;
	int dual = hxs_addr_is_any6(sk->laddr) && !sk->v6only;
	int own_l = !entry_shared(st, sk, sk->laddr), own_4 = dual && !entry_shared(st, sk, hxs_addr4(0));
	int err = 0;

	if (!own_l && !own_4)
		return 0;
	sk->rx_owner = ++st->sockets->next_owner;
	if (own_l)
		err = hxs_stack__own_bind(st, sk->laddr, sk->lport, sk->ops->ipproto, sk->rx_owner, 0);
	if (err || !own_4)
		return err;
	err = hxs_stack__own_bind(st, hxs_addr4(0), sk->lport, sk->ops->ipproto, sk->rx_owner, 0);
	if (err && own_l)
		hxs_stack__disown_bind(st, sk->laddr, sk->lport, sk->ops->ipproto);
	return err;
}

/* sk is off its port's chain, or NOENTRY is about to be set */
static void disown_binds(struct hxs_sock *sk)
{
	if (!entry_shared(sk->st, sk, sk->laddr))
		hxs_stack__disown_bind(sk->st, sk->laddr, sk->lport, sk->ops->ipproto);
	if (hxs_addr_is_any6(sk->laddr) && !sk->v6only && !entry_shared(sk->st, sk, hxs_addr4(0)))
		hxs_stack__disown_bind(sk->st, hxs_addr4(0), sk->lport, sk->ops->ipproto);
}

static int bind_one(struct hxs_sock *sk, struct hxs_addr addr, uint16_t port)
{
	struct hxs_stack *st = sk->st;
	struct hxs_sock ***tp = port_table(st, sk->ops->ipproto);
	int err;

	if (port_conflict(st, sk, addr, port))
		return -EADDRINUSE;
	if (!*tp) {
		*tp = calloc(65536, sizeof(**tp));
		if (!*tp)
			return -ENOMEM;
	}
	if (st->reserve_kernel_ports) {
		err = kernel_reserve(sk, addr, port);
		if (err)
			return err;
		/* connect()'s ephemeral port: the program steers it by the eph entry (no conn
		 * entry needed); a port taken by any other binding is not steered that way, nor
		 * one reserved with SO_REUSEADDR (a kernel socket may share it) */
		if (sk->ops->ipproto == IPPROTO_TCP) {
			if ((sk->flags & HXS_SOCK_F_NOENTRY) && !(sk->flags & HXS_SOCK_F_REUSEADDR))
				hxs_stack__own_eph(st, addr, port);
			else
				hxs_stack__disown_eph(st, addr, port);
		}
	}
	sk->laddr = addr;
	sk->lport = port;
	if (!(sk->flags & HXS_SOCK_F_NOENTRY)) {
		err = own_binds(sk);
		if (err) {
			kernel_release(sk);
			sk->laddr = (struct hxs_addr){ { 0 } };
			sk->lport = 0;
			return err;
		}
	}
	sk->port_next = (*tp)[ntohs(port)];
	(*tp)[ntohs(port)] = sk;
	sk->flags |= HXS_SOCK_F_BOUND;
	return 0;
}

struct eph_try {
	struct hxs_sock *sk;
	struct hxs_addr addr;
	int err;
};

/* check_suitable_port(): the port is suitable when binding it succeeds; the bind is kept. */
static int eph_in_use(void *ctx, uint16_t port)
{
	struct eph_try *t = ctx;

	t->err = bind_one(t->sk, t->addr, htons(port));
	return t->err == -EADDRINUSE;
}

int hxs_sock__bind_ephemeral(struct hxs_sock *sk, struct hxs_addr laddr, struct hxs_addr raddr,
			     uint16_t rport)
{
	struct eph_try t = { .sk = sk, .addr = laddr, .err = -EADDRINUSE };
	int port;

	if (sk->flags & HXS_SOCK_F_BOUND)
		return -EINVAL;
	port = hxs_port_sel__pick_addr(&sk->st->sockets->port_sel, laddr, raddr, rport, eph_in_use, &t);
	if (port < 0)
		return -EADDRINUSE;     /* inet_autobind()/udp_lib_get_port(): range exhausted */
	return t.err;
}

int hxs_sock__bind_entry(struct hxs_sock *sk)
{
	int err;

	if (!(sk->flags & HXS_SOCK_F_BOUND) || !(sk->flags & HXS_SOCK_F_NOENTRY))
		return 0;
	sk->flags &= ~HXS_SOCK_F_NOENTRY;
	err = own_binds(sk);
	if (err)
		sk->flags |= HXS_SOCK_F_NOENTRY;
	return err;
}

int hxs_sock__bind_port(struct hxs_sock *sk, struct hxs_addr addr, uint16_t port)
{
	if (sk->flags & HXS_SOCK_F_BOUND)
		return -EINVAL;
	if (!port)
		return hxs_sock__bind_ephemeral(sk, addr, (struct hxs_addr){ { 0 } }, 0);
	return bind_one(sk, addr, port);
}

void hxs_sock__unbind_port(struct hxs_sock *sk)
{
	struct hxs_stack *st = sk->st;
	struct hxs_sock **t = *port_table(st, sk->ops->ipproto);
	struct hxs_sock **pp;

	if (!(sk->flags & HXS_SOCK_F_BOUND) || !t)
		return;
	for (pp = &t[ntohs(sk->lport)]; *pp; pp = &(*pp)->port_next)
		if (*pp == sk) {
			*pp = sk->port_next;
			break;
		}
	sk->port_next = NULL;
	if (!(sk->flags & HXS_SOCK_F_NOENTRY))
		disown_binds(sk);
	kernel_release(sk);
	sk->flags &= ~(HXS_SOCK_F_BOUND | HXS_SOCK_F_NOENTRY);
}
