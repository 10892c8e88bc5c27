/* pl_sock.c - which sockets are hxs's, and the calls on sockets that are not data or waiting.
 *
 * The assignment rule (README "Running unmodified programs"):
 *   socket(AF_INET[6], SOCK_STREAM|SOCK_DGRAM)  a kernel socket, undecided (struct pl_pend);
 *                    options set on it are remembered
 *   bind(addr)       0.0.0.0, or HXS_IFACE's own address (an AF_INET6 socket: :: without
 *                    IPV6_V6ONLY, or that address v4-mapped) -> hxs; any other address -> kernel
 *   connect(dst) / sendto(dst) on an unbound socket -> hxs when the kernel would route dst out
 *                    of HXS_IFACE (the source address it picks is HXS_IFACE's) and dst is not
 *                    that address itself nor loopback; -> kernel otherwise
 *   listen() without bind -> hxs on 0.0.0.0 and a port of hxs's ephemeral range
 * Assigned to hxs: the hxs socket is made (non-blocking inside), the remembered options set
 * on it, the operation done, and only when it succeeded an eventfd takes over the kernel
 * socket's number (dup3): the program keeps its fd, O_NONBLOCK and FD_CLOEXEC.
 * Assigned to the kernel: the record is dropped and the call goes to libc; nothing of hxs is
 * touched again for that fd.
 *
 * close -> the fd layer's number closed; the last number of an object closes the hxs socket
 * dup/dup2/dup3/F_DUPFD -> the fd layer's dup: several numbers, one socket (refs); of a
 *                    kernel epoll fd: the copy shares its record of hxs members (pl_ep_dup)
 * epoll_ctl on an undecided socket -> remembered; when the socket becomes hxs's, it joins
 *                    those epoll sets as an hxs socket (the kernel socket left them)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pl.h"
#include "so_tcpinfo.h"

/* --- records -------------------------------------------------------------------------------- */
static int grow_ptrs(void ***a, int *n, int want)
{
	int m = *n ? *n : 64;
	void **p;

	if (want < *n)
		return 0;
	while (m <= want)
		m *= 2;
	p = realloc(*a, (size_t)m * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + *n, 0, (size_t)(m - *n) * sizeof(*p));
	*a = p;
	*n = m;
	return 0;
}

static struct pl_pend *pend_get(int fd)
{
	return fd >= 0 && fd < pl.npend ? pl.pend[fd] : NULL;
}

static void pend_drop(int fd)
{
	if (pend_get(fd)) {
		free(pl.pend[fd]);
		pl.pend[fd] = NULL;
	}
}

static int sock_new(int type, int v6)
{
	struct pl_sock *ps;
	int i;

	for (i = 0; i < pl.nsocks; i++)
		if (!pl.socks[i])
			break;
	if (grow_ptrs((void ***)&pl.socks, &pl.nsocks, i))
		return -ENOMEM;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->hfd = -1;
	ps->type = type;
	ps->v6 = v6;
	pl.socks[i] = ps;
	return i;
}

/* The last number of obj went away (lock held). */
static void obj_release(int obj)
{
	struct pl_sock *ps = obj >= 0 && obj < pl.nsocks ? pl.socks[obj] : NULL;

	if (!ps)
		return;
	if (ps->state == PL_LIVE && pl.st) {
		hxs_close(pl.st, ps->hfd);
		pl_turn();
	}
	free(ps);
	pl.socks[obj] = NULL;
}

/* The fd layer found one of our numbers reused behind its back (lock held by its caller). */
void pl_obj_stale(int fd, const struct hxs_fd *e);
void pl_obj_stale(int fd, const struct hxs_fd *e)
{
	(void)fd;
	if (e->kind == HXS_FD_SOCKET && e->refs == 1)
		obj_release(e->obj);
}

static void opt_remember(struct pl_opt *o, int *n, int level, int name, const void *val,
			 socklen_t len)
{
	int i;

	if (!val || len > sizeof(o->val))
		return;
	for (i = 0; i < *n; i++)
		if (o[i].level == level && o[i].name == name)
			break;
	if (i == *n) {
		if (*n == PL_OPTS)
			return;
		(*n)++;
	}
	o[i].level = level;
	o[i].name = name;
	o[i].len = len;
	memcpy(o[i].val, val, len);
}

/* Options the kernel accepts that hxs has no use for: taken and ignored, as a kernel without
 * the feature would; everything else is hxs's answer (ENOPROTOOPT when it has none). */
static int opt_ignored(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		return name == SO_REUSEPORT || name == SO_PRIORITY || name == SO_OOBINLINE ||
		       name == SO_BROADCAST || name == SO_TIMESTAMP || name == SO_INCOMING_CPU;
	case IPPROTO_IP:
		return name == IP_TOS || name == IP_RECVERR || name == IP_MTU_DISCOVER ||
		       name == IP_BIND_ADDRESS_NO_PORT;
	case IPPROTO_IPV6:
		return name == IPV6_V6ONLY || name == IPV6_TCLASS || name == IPV6_RECVERR;
	case IPPROTO_TCP:
		/* TCP_CORK, TCP_QUICKACK, TCP_USER_TIMEOUT and IP_TTL are hxs's own */
		return name == TCP_DEFER_ACCEPT || name == TCP_FASTOPEN ||
		       name == TCP_FASTOPEN_CONNECT || name == TCP_NOTSENT_LOWAT;
	}
	return 0;
}

/* An option's value (n bytes) out to the program, truncated to *len as the kernel does
 * (*len set to what was written). 0. */
static int opt_out(const void *v, socklen_t n, void *val, socklen_t *len)
{
	if (*len > n)
		*len = n;
	memcpy(val, v, *len);
	return 0;
}

/* getsockopt of an option taken and ignored: what the program set last (0 if never). */
static int opt_recall(const struct pl_sock *ps, int level, int name, void *val, socklen_t *len)
{
	uint8_t v[sizeof(ps->opt[0].val)] = { 0 };
	socklen_t n = sizeof(int);

	for (int i = 0; i < ps->nopt; i++)
		if (ps->opt[i].level == level && ps->opt[i].name == name) {
			memcpy(v, ps->opt[i].val, ps->opt[i].len);
			n = ps->opt[i].len;
		}
	return opt_out(v, n, val, len);
}

static int set_opt(int hfd, int level, int name, const void *val, socklen_t len)
{
	int r = hxs_setsockopt(pl.st, hfd, level, name, val, len);

	if (r == -ENOPROTOOPT && opt_ignored(level, name))
		r = 0;
	return r;
}

static void opts_replay(int hfd, const struct pl_opt *o, int n)
{
	for (int i = 0; i < n; i++)
		set_opt(hfd, o[i].level, o[i].name, o[i].val, o[i].len);
}

void pl_sock_pend_epoll(int fd, int kfd, int op, const struct epoll_event *ev)
{
	struct pl_pend *pp;
	int i;

	pl_lock();
	pp = pend_get(fd);
	if (pp) {
		for (i = 0; i < pp->nep && pp->ep[i].kfd != kfd; i++)
			;
		if (op == EPOLL_CTL_DEL && i < pp->nep) {
			pp->ep[i] = pp->ep[--pp->nep];
		} else if (op != EPOLL_CTL_DEL && ev && (i < pp->nep || pp->nep < PL_PEND_EPS)) {
			if (i == pp->nep)
				pp->nep++;
			pp->ep[i].kfd = kfd;
			pp->ep[i].ev = *ev;
		}
	}
	pl_unlock();
}

/* --- addresses -------------------------------------------------------------------------------- */
/* The program's address as hxs's AF_INET one. v6: the socket is AF_INET6. */
static int to_v4(const struct sockaddr *a, socklen_t len, int v6, int v6only,
		 struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (!a || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (!v6) {
		if (a->sa_family == AF_UNSPEC) {
			out->sin_family = AF_UNSPEC;
			if (len >= (socklen_t)sizeof(*out))
				out->sin_port = ((const struct sockaddr_in *)a)->sin_port;
			return 0;
		}
		if (a->sa_family != AF_INET)
			return -EAFNOSUPPORT;
		if (len < (socklen_t)sizeof(*out))
			return -EINVAL;
		memcpy(out, a, sizeof(*out));
		return 0;
	}
	if (a->sa_family == AF_UNSPEC) {
		out->sin_family = AF_UNSPEC;
		return 0;
	}
	if (a->sa_family != AF_INET6 || len < (socklen_t)sizeof(struct sockaddr_in6))
		return a->sa_family == AF_INET6 ? -EINVAL : -EAFNOSUPPORT;
	{
		const struct sockaddr_in6 *s6 = (const void *)a;

		out->sin_port = s6->sin6_port;
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) && !v6only)
			return 0;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && !v6only) {
			memcpy(&out->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
			return 0;
		}
	}
	return -EAFNOSUPPORT;       /* real IPv6: not hxs's */
}

/* hxs's name as the program's family wants it. */
static void from_v4(const struct sockaddr_in *in, int v6, struct sockaddr *out, socklen_t *len)
{
	union {
		struct sockaddr_in s4;
		struct sockaddr_in6 s6;
	} u;
	socklen_t n;

	memset(&u, 0, sizeof(u));
	if (!v6) {
		u.s4 = *in;
		n = sizeof(u.s4);
	} else {
		u.s6.sin6_family = AF_INET6;
		u.s6.sin6_port = in->sin_port;
		if (in->sin_addr.s_addr) {
			u.s6.sin6_addr.s6_addr[10] = 0xff;
			u.s6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&u.s6.sin6_addr.s6_addr[12], &in->sin_addr, 4);
		}
		n = sizeof(u.s6);
	}
	if (out && len) {
		memcpy(out, &u, *len < n ? *len : n);
		*len = n;
	}
}

/* Would the kernel send to dst out of HXS_IFACE? Asked the kernel: the source address it
 * picks for dst (a UDP socket connected, nothing sent). */
static int routes_via_iface(uint32_t dst)
{
	uint32_t me = pl_ifaddr(), h = ntohl(dst);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = dst };
	socklen_t l = sizeof(a);
	int s, ok = 0;

	if (!me || dst == me || !h || (h >> 24) == 127 || IN_MULTICAST(h) || h == INADDR_BROADCAST)
		return 0;
	s = pl_real.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	if (!pl_real.connect(s, (struct sockaddr *)&a, sizeof(a)) &&
	    !pl_real.getsockname(s, (struct sockaddr *)&a, &l))
		ok = a.sin_addr.s_addr == me;
	pl_real.close(s);
	return ok;
}

/* --- assignment --------------------------------------------------------------------------------- */
/* A new hxs socket for the undecided fd, options replayed (lock held). */
static int adopt_begin(const struct pl_pend *pp)
{
	struct hxs_stack *st;
	int err = 0, hfd;

	st = pl_stack(&err);
	if (!st)
		return err;
	hfd = hxs_socket(st, AF_INET, pp->type | SOCK_NONBLOCK, 0);
	if (hfd >= 0)
		opts_replay(hfd, pp->opt, pp->nopt);
	return hfd;
}

/* The operation on hfd succeeded: the number becomes hxs's (lock held). */
static int adopt_finish(int fd, struct pl_pend *pp, int hfd, struct pl_sock **out)
{
	int fl = pl_real.fcntl(fd, F_GETFL), fdfl = pl_real.fcntl(fd, F_GETFD);
	int obj = sock_new(pp->type, pp->domain == AF_INET6), r;
	struct hxs_fd e = { HXS_FD_SOCKET, obj, (fl >= 0 ? fl : 0) & O_NONBLOCK };

	if (obj < 0) {
		hxs_close(pl.st, hfd);
		return obj;
	}
	pl.socks[obj]->hfd = hfd;
	pl.socks[obj]->state = PL_LIVE;
	memcpy(pl.socks[obj]->opt, pp->opt, sizeof(pp->opt));
	pl.socks[obj]->nopt = pp->nopt;
	r = hxs_fdtab__open_at(pl.fds, &e, fd, (fdfl > 0 && (fdfl & FD_CLOEXEC)) ? O_CLOEXEC : 0);
	if (r < 0) {
		hxs_close(pl.st, hfd);
		free(pl.socks[obj]);
		pl.socks[obj] = NULL;
		return r;
	}
	*out = pl.socks[obj];
	/* the kernel socket left the epoll sets it was in when its number was taken over:
	 * the hxs socket joins them in its place */
	for (int i = 0; i < pp->nep; i++)
		pl_ep_ctl(pp->ep[i].kfd, EPOLL_CTL_ADD, *out, &pp->ep[i].ev);
	pend_drop(fd);
	return 0;
}

/* Dormant -> live: a stack of this process, the socket made again (lock held). */
static int revive(struct pl_sock *ps)
{
	struct hxs_stack *st;
	int err = 0, hfd;

	st = pl_stack(&err);
	if (!st)
		return err;
	hfd = hxs_socket(st, AF_INET, ps->type | SOCK_NONBLOCK, 0);
	if (hfd < 0)
		return hfd;
	opts_replay(hfd, ps->opt, ps->nopt);
	if (ps->bound)
		err = hxs_bind(st, hfd, (struct sockaddr *)&ps->local, sizeof(ps->local));
	if (!err && ps->listening)
		err = hxs_listen(st, hfd, ps->backlog);
	if (err) {
		hxs_close(st, hfd);
		return err;
	}
	ps->hfd = hfd;
	ps->state = PL_LIVE;
	return 0;
}

int pl_sock_of(int fd, struct pl_sock **out, int *nonblock)
{
	struct hxs_fd e;
	struct pl_sock *ps;
	int err;

	if (hxs_fdtab__get(pl.fds, fd, &e) || e.kind != HXS_FD_SOCKET)
		return 1;
	ps = e.obj < pl.nsocks ? pl.socks[e.obj] : NULL;
	if (!ps || ps->state == PL_FOREIGN)
		return -EBADF;
	if (ps->state == PL_DORMANT) {
		err = revive(ps);
		if (err)
			return err;
	}
	*out = ps;
	if (nonblock)
		*nonblock = !!(e.flags & O_NONBLOCK);
	return 0;
}

int pl_is_ours(int fd)
{
	struct hxs_fd e;

	return pl.active && fd >= 0 && !hxs_fdtab__get(pl.fds, fd, &e);
}

int pl_maybe_ours(int fd)
{
	return !pl_inside && pl_is_ours(fd);
}

int pl_sock_handoff_ok(void)
{
	for (int i = 0; i < pl.neps; i++)
		if (pl.eps[i])
			return 0;
	for (int i = 0; i < pl.nsocks; i++) {
		struct pl_sock *ps = pl.socks[i];

		if (ps && ps->state == PL_LIVE && !ps->listening && !(ps->bound && ps->type == SOCK_STREAM))
			return 0;
	}
	return 1;
}

void pl_sock_orphan_live(void)
{
	for (int i = 0; i < pl.nsocks; i++)
		if (pl.socks[i] && pl.socks[i]->state == PL_LIVE) {
			pl.socks[i]->state = PL_FOREIGN;
			pl.socks[i]->hfd = -1;
		}
}

void pl_sock_make_dormant(void)
{
	for (int i = 0; i < pl.nsocks; i++)
		if (pl.socks[i] && pl.socks[i]->state == PL_LIVE) {
			pl.socks[i]->state = PL_DORMANT;
			pl.socks[i]->hfd = -1;
		}
}

/* In the child, right after fork: the parent's live sockets are not ours. Sockets the parent
 * handed over (dormant) are re-created now, while the child still has the parent's
 * privileges: nginx's worker gives up root before it first touches its listening socket, and
 * an unprivileged process can attach neither XDP programs nor AF_XDP sockets. What cannot be
 * re-created now stays dormant and is tried again at its next use. */
void pl_sock_fork_child(int handed_off)
{
	(void)handed_off;
	for (int i = 0; i < pl.nsocks; i++)
		if (pl.socks[i] && pl.socks[i]->state == PL_LIVE)
			pl.socks[i]->state = PL_FOREIGN;
	for (int i = 0; i < pl.nsocks; i++)
		if (pl.socks[i] && pl.socks[i]->state == PL_DORMANT && revive(pl.socks[i]))
			break;
}

/* --- the calls ------------------------------------------------------------------------------------ */
PL_API int socket(int domain, int type, int protocol)
{
	int fd = pl_real.socket(domain, type, protocol), base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct pl_pend *pp;

	if (fd < 0 || pl_inside || !pl.active)
		return fd;
	pl_lock();
	hxs_fdtab__claim(pl.fds, fd);
	pend_drop(fd);
	if ((domain == AF_INET || domain == AF_INET6) &&
	    ((base == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) ||
	     (base == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP))) &&
	    !grow_ptrs((void ***)&pl.pend, &pl.npend, fd) && (pp = calloc(1, sizeof(*pp)))) {
		pp->domain = domain;
		pp->type = base;
		pl.pend[fd] = pp;
	}
	pl_unlock();
	return fd;
}

PL_API int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in a;
	struct pl_pend *pp;
	struct pl_sock *ps;
	int r, hfd;

	if (pl_inside || !pl.active)
		return pl_real.bind(fd, addr, len);
	pl_lock();
	pp = pend_get(fd);
	if (pp) {
		if (to_v4(addr, len, pp->domain == AF_INET6, pp->v6only, &a) ||
		    (a.sin_addr.s_addr != INADDR_ANY && a.sin_addr.s_addr != pl_ifaddr())) {
			pend_drop(fd);          /* the kernel's */
			pl_unlock();
			return pl_real.bind(fd, addr, len);
		}
		a.sin_family = AF_INET;
		hfd = adopt_begin(pp);
		r = hfd < 0 ? hfd : hxs_bind(pl.st, hfd, (struct sockaddr *)&a, sizeof(a));
		if (hfd >= 0 && r)
			hxs_close(pl.st, hfd);
		if (!r)
			r = adopt_finish(fd, pp, hfd, &ps);
		if (!r) {
			ps->bound = 1;
			ps->local = a;
		}
		pl_unlock();
		return (int)pl_ret(r);
	}
	r = pl_sock_of(fd, &ps, NULL);
	if (r == 0) {
		r = to_v4(addr, len, ps->v6, 0, &a);
		if (!r) {
			a.sin_family = AF_INET;
			r = hxs_bind(pl.st, ps->hfd, (struct sockaddr *)&a, sizeof(a));
		}
		if (!r) {
			ps->bound = 1;
			ps->local = a;
		}
	}
	pl_unlock();
	if (r == 1)
		return pl_real.bind(fd, addr, len);
	return (int)pl_ret(r);
}

PL_API int listen(int fd, int backlog)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct pl_pend *pp;
	struct pl_sock *ps;
	int r, hfd;

	if (pl_inside || !pl.active)
		return pl_real.listen(fd, backlog);
	pl_lock();
	pp = pend_get(fd);
	if (pp) {
		/* inet_autobind(): the wildcard address, a port of ours */
		hfd = adopt_begin(pp);
		r = hfd < 0 ? hfd : hxs_bind(pl.st, hfd, (struct sockaddr *)&a, sizeof(a));
		if (!r)
			r = hxs_listen(pl.st, hfd, backlog);
		if (hfd >= 0 && r)
			hxs_close(pl.st, hfd);
		if (!r)
			r = adopt_finish(fd, pp, hfd, &ps);
		if (!r) {
			socklen_t l = sizeof(ps->local);

			ps->bound = ps->listening = 1;
			ps->backlog = backlog;
			hxs_getsockname(pl.st, ps->hfd, (struct sockaddr *)&ps->local, &l);
		}
		pl_unlock();
		return (int)pl_ret(r);
	}
	r = pl_sock_of(fd, &ps, NULL);
	if (r == 0) {
		r = hxs_listen(pl.st, ps->hfd, backlog);
		if (!r) {
			ps->listening = 1;
			ps->backlog = backlog;
		}
	}
	pl_unlock();
	if (r == 1)
		return pl_real.listen(fd, backlog);
	return (int)pl_ret(r);
}

PL_API int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sockaddr_in a;
	struct pl_sock *ps;
	int r, nb = 0, ms;

	if (pl_inside || !pl.active)
		return pl_real.accept4(fd, addr, len, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		socklen_t al = sizeof(a);
		int hfd, obj;

		pl_lock();
		r = pl_sock_of(fd, &ps, &nb);
		if (r) {
			pl_unlock();
			if (r == 1)
				return pl_real.accept4(fd, addr, len, flags);
			return (int)pl_ret(r);
		}
		hfd = hxs_accept4(pl.st, ps->hfd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK);
		if (hfd >= 0) {
			struct hxs_fd e = { HXS_FD_SOCKET, 0, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0 };
			int v6 = ps->v6;

			obj = sock_new(SOCK_STREAM, v6);
			r = obj;
			if (obj >= 0) {
				e.obj = obj;
				pl.socks[obj]->hfd = hfd;
				pl.socks[obj]->state = PL_LIVE;
				pl.socks[obj]->bound = 1;
				r = hxs_fdtab__open(pl.fds, &e, (flags & SOCK_CLOEXEC) ? O_CLOEXEC : 0);
				if (r < 0) {
					free(pl.socks[obj]);
					pl.socks[obj] = NULL;
				}
			}
			if (r < 0)
				hxs_close(pl.st, hfd);
			else
				from_v4(&a, v6, addr, len);
			pl_turn();
			pl_unlock();
			return (int)pl_ret(r);
		}
		ms = pl_timeo_ms(ps->hfd, SO_RCVTIMEO);
		pl_unlock();
		if (hfd != -EAGAIN || nb)
			return (int)pl_ret(hfd);
		/* inet_csk_wait_for_connect(): SO_RCVTIMEO bounds the wait (EAGAIN) */
		r = pl_wait(fd, POLLIN, ms);
		if (r < 0)
			return (int)pl_ret(r);
		if (r == 0)
			return (int)pl_ret(-EAGAIN);
	}
}

PL_API int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

/* A blocking connect waits for the handshake: POLLOUT, then SO_ERROR says how it ended. */
static int connect_wait(int fd, int hfd)
{
	struct timeval tv = { 0 };
	socklen_t l = sizeof(tv);
	int r, ms = -1, err = 0;

	pl_lock();
	if (!pl.st) {
		pl_unlock();
		return -EBADF;
	}
	if (!hxs_getsockopt(pl.st, hfd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) && (tv.tv_sec || tv.tv_usec))
		ms = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
	pl_unlock();
	r = pl_wait(fd, POLLOUT, ms);
	if (r < 0)
		return r;
	if (r == 0)
		return -EINPROGRESS;
	pl_lock();
	l = sizeof(err);
	r = pl.st ? hxs_getsockopt(pl.st, hfd, SOL_SOCKET, SO_ERROR, &err, &l) : -EBADF;
	pl_unlock();
	return r ? r : -err;
}

PL_API int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in a;
	struct pl_pend *pp;
	struct pl_sock *ps;
	int r, hfd = -1, nb = 0;

	if (pl_inside || !pl.active)
		return pl_real.connect(fd, addr, len);
	pl_lock();
	pp = pend_get(fd);
	if (pp) {
		if (to_v4(addr, len, pp->domain == AF_INET6, pp->v6only, &a) ||
		    a.sin_family != AF_INET || !routes_via_iface(a.sin_addr.s_addr)) {
			pend_drop(fd);
			pl_unlock();
			return pl_real.connect(fd, addr, len);
		}
		hfd = adopt_begin(pp);
		r = hfd < 0 ? hfd : hxs_connect(pl.st, hfd, (struct sockaddr *)&a, sizeof(a));
		if (hfd >= 0 && r && r != -EINPROGRESS) {
			hxs_close(pl.st, hfd);
		} else if (hfd >= 0) {
			int r2 = adopt_finish(fd, pp, hfd, &ps);

			if (r2)
				r = r2;
		}
		if (r == 0 || r == -EINPROGRESS) {
			struct hxs_fd e;

			hxs_fdtab__get(pl.fds, fd, &e);
			nb = !!(e.flags & O_NONBLOCK);
		}
		pl_turn();
		pl_unlock();
		if (r == -EINPROGRESS && !nb)
			r = connect_wait(fd, hfd);
		return (int)pl_ret(r);
	}
	r = pl_sock_of(fd, &ps, &nb);
	if (r == 0) {
		r = to_v4(addr, len, ps->v6, 0, &a);
		if (!r)
			r = hxs_connect(pl.st, ps->hfd, (struct sockaddr *)&a, sizeof(a));
		pl_turn();
		hfd = ps->hfd;
	}
	pl_unlock();
	if (r == 1)
		return pl_real.connect(fd, addr, len);
	if (r == -EINPROGRESS && !nb)
		r = connect_wait(fd, hfd);
	return (int)pl_ret(r);
}

PL_API int shutdown(int fd, int how)
{
	struct pl_sock *ps;
	int r;

	if (pl_inside || !pl.active)
		return pl_real.shutdown(fd, how);
	pl_lock();
	r = pl_sock_of(fd, &ps, NULL);
	if (!r) {
		r = hxs_shutdown(pl.st, ps->hfd, how);
		pl_turn();
	}
	pl_unlock();
	if (r == 1)
		return pl_real.shutdown(fd, how);
	return (int)pl_ret(r);
}

PL_API int close(int fd)
{
	struct hxs_fd e;

	if (pl_inside || !pl.active)
		return pl_real.close(fd);
	pl_lock();
	pend_drop(fd);
	pl_ep_forget(fd);
	if (!hxs_fdtab__close(pl.fds, fd, &e)) {
		if (e.kind == HXS_FD_SOCKET && e.refs == 1)
			obj_release(e.obj);
		pl_unlock();
		return 0;
	}
	pl_unlock();
	return pl_real.close(fd);
}

/* dup2/dup3 onto a number of ours: what was there is closed, as the kernel does. */
static int dup_common(int old, int new, enum hxs_fd_dup how, int oflags, int (*real)(void))
{
	struct hxs_fd gone;
	int r;

	pl_lock();
	r = hxs_fdtab__dup(pl.fds, old, new, how, oflags, &gone);
	if (r >= 0) {
		pend_drop(r);
		pl_ep_forget(r);
		if (gone.kind == HXS_FD_SOCKET && gone.refs == 1)
			obj_release(gone.obj);
		pl_unlock();
		return r;
	}
	if (r != -EBADF) {
		pl_unlock();
		return (int)pl_ret(r);
	}
	/* old is the kernel's: dup it there; a number of ours at new is replaced */
	r = real();
	if (r >= 0) {
		if (how == HXS_DUP_AT) {
			hxs_fdtab__claim(pl.fds, r);
			pend_drop(r);
		}
		pl_ep_dup(old, r);      /* an epoll fd: the copy holds the same hxs members */
	}
	pl_unlock();
	return r;
}

static __thread int dup_a, dup_b, dup_c;
static int real_dup(void) { return pl_real.dup(dup_a); }
static int real_dup2(void) { return pl_real.dup2(dup_a, dup_b); }
static int real_dup3(void) { return pl_real.dup3(dup_a, dup_b, dup_c); }

PL_API int dup(int old)
{
	if (pl_inside || !pl.active)
		return pl_real.dup(old);
	dup_a = old;
	return dup_common(old, 0, HXS_DUP_MIN, 0, real_dup);
}

PL_API int dup2(int old, int new)
{
	struct hxs_fd e;

	if (pl_inside || !pl.active)
		return pl_real.dup2(old, new);
	if (old == new)         /* dup2(2): old's validity, nothing else */
		return hxs_fdtab__get(pl.fds, old, &e) ? pl_real.dup2(old, new) : new;
	dup_a = old;
	dup_b = new;
	return dup_common(old, new, HXS_DUP_AT, 0, real_dup2);
}

PL_API int dup3(int old, int new, int flags)
{
	if (pl_inside || !pl.active)
		return pl_real.dup3(old, new, flags);
	dup_a = old;
	dup_b = new;
	dup_c = flags;
	if (flags & ~O_CLOEXEC || old == new) {
		errno = EINVAL;
		return -1;
	}
	return dup_common(old, new, HXS_DUP_AT, flags, real_dup3);
}

static int fcntl_no_arg(int cmd)
{
	return cmd == F_GETFD || cmd == F_GETFL || cmd == F_GETOWN || cmd == F_GETSIG ||
	       cmd == F_GETLEASE || cmd == F_GETPIPE_SZ || cmd == F_GET_SEALS;
}

static int do_fcntl(int fd, int cmd, long arg)
{
	struct hxs_fd e;
	int r;

	if (pl_inside || !pl.active)
		return pl_real.fcntl(fd, cmd, arg);
	if (hxs_fdtab__get(pl.fds, fd, &e) || e.kind != HXS_FD_SOCKET) {
		r = pl_real.fcntl(fd, cmd, arg);
		if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
			pl_lock();
			hxs_fdtab__claim(pl.fds, r);
			pl_ep_dup(fd, r);
			pl_unlock();
		}
		return r;
	}
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (e.flags & O_NONBLOCK);
	case F_SETFL:
		pl_lock();
		r = hxs_fdtab__set_flags(pl.fds, fd, (int)arg & O_NONBLOCK);
		pl_unlock();
		return (int)pl_ret(r);
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		pl_lock();
		r = hxs_fdtab__dup(pl.fds, fd, (int)arg, HXS_DUP_MIN,
				   cmd == F_DUPFD_CLOEXEC ? O_CLOEXEC : 0, &(struct hxs_fd){ 0 });
		if (r >= 0) {
			pend_drop(r);
			pl_ep_forget(r);
		}
		pl_unlock();
		return (int)pl_ret(r);
	default:            /* F_GETFD/F_SETFD and the rest: the kernel fd's own */
		return pl_real.fcntl(fd, cmd, arg);
	}
}

PL_API int fcntl(int fd, int cmd, ...)
{
	long arg = 0;
	va_list ap;

	va_start(ap, cmd);
	if (!fcntl_no_arg(cmd))
		arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

/* glibc's LFS name of the same call (on 64-bit targets the same function): one body. */
PL_API int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* tcp_ioctl() / udp_ioctl(): what is queued in, what is queued out. */
static int queued(struct pl_sock *ps, unsigned long req, int *out)
{
	struct hxs_tcp_info hi;
	socklen_t hl = sizeof(hi);
	int r;

	if (ps->type == SOCK_DGRAM) {
		char c;

		if (req == SIOCOUTQ) {
			*out = 0;
			return 0;
		}
		r = (int)hxs_recv(pl.st, ps->hfd, &c, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
		*out = r > 0 ? r : 0;
		return r < 0 && r != -EAGAIN ? r : 0;
	}
	if (ps->listening)
		return -EINVAL;
	r = hxs_getsockopt(pl.st, ps->hfd, IPPROTO_TCP, TCP_INFO, &hi, &hl);
	if (r)
		return r;
	*out = (int)(req == SIOCOUTQ ? hi.snd_queue : hi.rcv_queue);
	return 0;
}

PL_API int ioctl(int fd, unsigned long req, ...)
{
	struct pl_sock *ps;
	void *argp;
	va_list ap;
	int r, v;

	va_start(ap, req);
	argp = va_arg(ap, void *);
	va_end(ap);
	if (pl_inside || !pl.active)
		return pl_real.ioctl(fd, req, argp);
	if (req != FIONBIO && req != FIONREAD && req != SIOCOUTQ)
		return pl_real.ioctl(fd, req, argp);
	pl_lock();
	r = pl_sock_of(fd, &ps, NULL);
	if (!r) {
		if (req == FIONBIO) {
			struct hxs_fd e;

			hxs_fdtab__get(pl.fds, fd, &e);
			r = hxs_fdtab__set_flags(pl.fds, fd, *(int *)argp ? (e.flags | O_NONBLOCK)
							   : (e.flags & ~O_NONBLOCK));
		} else {
			r = queued(ps, req, &v);
			if (!r)
				*(int *)argp = v;
		}
	}
	pl_unlock();
	if (r == 1)
		return pl_real.ioctl(fd, req, argp);
	return (int)pl_ret(r);
}

PL_API int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct pl_pend *pp;
	struct pl_sock *ps;
	int r;

	if (pl_inside || !pl.active)
		return pl_real.setsockopt(fd, level, name, val, len);
	pl_lock();
	pp = pend_get(fd);
	if (pp) {
		r = pl_real.setsockopt(fd, level, name, val, len);
		if (!r) {
			opt_remember(pp->opt, &pp->nopt, level, name, val, len);
			if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && len >= sizeof(int))
				pp->v6only = *(const int *)val;
		}
		pl_unlock();
		return r;
	}
	r = pl_sock_of(fd, &ps, NULL);
	if (!r) {
		r = set_opt(ps->hfd, level, name, val, len);
		if (!r)
			opt_remember(ps->opt, &ps->nopt, level, name, val, len);
		pl_turn();
	}
	pl_unlock();
	if (r == 1)
		return pl_real.setsockopt(fd, level, name, val, len);
	return (int)pl_ret(r);
}

PL_API int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct pl_sock *ps;
	int r;

	if (pl_inside || !pl.active)
		return pl_real.getsockopt(fd, level, name, val, len);
	pl_lock();
	r = pl_sock_of(fd, &ps, NULL);
	if (!r) {
		if (!val || !len) {
			r = -EFAULT;
		} else if (level == IPPROTO_TCP && name == TCP_INFO) {
			struct hxs_tcp_info hi;
			socklen_t hl = sizeof(hi);

			r = hxs_getsockopt(pl.st, ps->hfd, level, name, &hi, &hl);
			if (!r)
				r = hxs_so_tcp_info(&hi, val, len);
		} else if ((level == SOL_SOCKET && name == SO_DOMAIN) ||
			   (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && ps->v6)) {
			int v = name == SO_DOMAIN ? (ps->v6 ? AF_INET6 : AF_INET) : 0;

			r = opt_out(&v, sizeof(v), val, len);
		} else if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
			int v = ps->listening;

			r = opt_out(&v, sizeof(v), val, len);
		} else {
			r = hxs_getsockopt(pl.st, ps->hfd, level, name, val, len);
			if (r == -ENOPROTOOPT && opt_ignored(level, name))
				r = opt_recall(ps, level, name, val, len);
		}
	}
	pl_unlock();
	if (r == 1)
		return pl_real.getsockopt(fd, level, name, val, len);
	return (int)pl_ret(r);
}

static int name_of(int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct pl_sock *ps;
	int r;

	pl_lock();
	r = pl_sock_of(fd, &ps, NULL);
	if (!r) {
		r = peer ? hxs_getpeername(pl.st, ps->hfd, (struct sockaddr *)&a, &al)
			 : hxs_getsockname(pl.st, ps->hfd, (struct sockaddr *)&a, &al);
		if (!r && (!len || (int)*len < 0))
			r = -EINVAL;
		if (!r)
			from_v4(&a, ps->v6, addr, len);
	}
	pl_unlock();
	return r;
}

PL_API int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	int r;

	if (pl_inside || !pl.active)
		return pl_real.getsockname(fd, addr, len);
	r = name_of(fd, addr, len, 0);
	return r == 1 ? pl_real.getsockname(fd, addr, len) : (int)pl_ret(r);
}

PL_API int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	int r;

	if (pl_inside || !pl.active)
		return pl_real.getpeername(fd, addr, len);
	r = name_of(fd, addr, len, 1);
	return r == 1 ? pl_real.getpeername(fd, addr, len) : (int)pl_ret(r);
}

/* sendto() on an undecided UDP socket decides it like connect (pl_data.c asks). 0: now hxs's
 * (or already), 1: the kernel's. Lock held. */
int pl_sock_decide_sendto(int fd, const struct sockaddr *to, socklen_t tolen);
int pl_sock_decide_sendto(int fd, const struct sockaddr *to, socklen_t tolen)
{
	struct pl_pend *pp = pend_get(fd);
	struct sockaddr_in a;
	struct pl_sock *ps;
	int hfd;

	if (!pp)
		return 0;
	if (!to || pp->type != SOCK_DGRAM || to_v4(to, tolen, pp->domain == AF_INET6, pp->v6only, &a) ||
	    a.sin_family != AF_INET || !routes_via_iface(a.sin_addr.s_addr)) {
		pend_drop(fd);
		return 1;
	}
	hfd = adopt_begin(pp);
	if (hfd < 0)
		return hfd;
	return adopt_finish(fd, pp, hfd, &ps);
}

/* Converts a program's destination for hxs (lock held). */
int pl_sock_dest(struct pl_sock *ps, const struct sockaddr *to, socklen_t tolen, struct sockaddr_in *a);
int pl_sock_dest(struct pl_sock *ps, const struct sockaddr *to, socklen_t tolen, struct sockaddr_in *a)
{
	return to_v4(to, tolen, ps->v6, 0, a);
}

void pl_sock_name_out(struct pl_sock *ps, const struct sockaddr_in *a, struct sockaddr *out,
		      socklen_t *len);
void pl_sock_name_out(struct pl_sock *ps, const struct sockaddr_in *a, struct sockaddr *out,
		      socklen_t *len)
{
	from_v4(a, ps->v6, out, len);
}
