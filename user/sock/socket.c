/* socket.c - the socket table and the POSIX-shaped API of include/hxs/hxs.h.
 *
 * hxs_socket() -> hxs_sock__alloc() -> ops->init() -> hxs_sock__install()
 * hxs_bind()   -> checks as inet_bind() -> hxs_sock__bind_port() -> ops->bind()
 * hxs_send*()/hxs_recv*()/hxs_accept4() -> sock_wait(): ops->X() until it stops saying
 *                 -EAGAIN, running hxs_stack__poll() in between (blocking sockets only;
 *                 a send or receive that does not wait calls ops->X() once, directly),
 *                 bounded by SO_SNDTIMEO / SO_RCVTIMEO; a datagram's send then flushes the
 *                 stack's TX batch (hxs_stack__tx_flush: the ring and its kick) before returning
 * hxs_close()  -> ops->close() -> hxs_epoll__forget() -> hxs_sock__free() (unless the
 *                 protocol keeps the socket alive, e.g. TCP in TIME_WAIT)
 *
 * Ports, their kernel reservation and XDP bind entries: sock_port.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sock.h"
#include "net/stack.h"

/* --- iovecs -------------------------------------------------------------------------------- */
ssize_t hxs_iov_len_any(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

size_t hxs_iov_to(const struct iovec *iov, int iovcnt, const void *src, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < iovcnt && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
		memcpy(iov[i].iov_base, (const uint8_t *)src + done, k);
		done += k;
	}
	return done;
}

void hxs_iov_from(const struct iovec *iov, int iovcnt, void *dst)
{
	uint8_t *p = dst;

	for (int i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
}

/* --- table ----------------------------------------------------------------------------------- */
int hxs_socket__init(struct hxs_stack *st)
{
	struct hxs_socktab *t;
	uint8_t keys[32];
	int err;

	if (getrandom(keys, sizeof(keys), 0) != sizeof(keys))
		return -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = hxs_port_sel__init(&t->port_sel, keys, keys + 16, st->eph_lo, st->eph_hi);
	if (err) {
		free(t);
		return err;
	}
	st->sockets = t;
	return 0;
}

void hxs_socket__close_all(struct hxs_stack *st)
{
	for (int fd = 0; fd < st->sockets->nsocks; fd++)
		if (st->sockets->socks[fd])
			hxs_close(st, fd);
}

void hxs_socket__fini(struct hxs_stack *st)
{
	struct hxs_socktab *t = st->sockets;

	if (!t)
		return;
	hxs_sock__eph_release(st);
	free(t->socks);
	free(t->ports_udp);
	free(t->ports_tcp);
	free(t->eps);
	free(t);
	st->sockets = NULL;
}

int hxs_stack__set_port_range(struct hxs_stack *st, uint16_t lo, uint16_t hi)
{
	if (!lo || lo > hi)
		return -EINVAL;
	hxs_sock__eph_release(st);     /* kept reservations of the old range go back */
	st->eph_lo = lo;
	st->eph_hi = hi;
	st->sockets->port_sel.lo = lo;
	st->sockets->port_sel.hi = hi;
	return 0;
}

int hxs_sock__register_proto(struct hxs_stack *st, int type, const struct hxs_proto_ops *ops)
{
	if (type == SOCK_DGRAM)
		st->sockets->proto_dgram = ops;
	else if (type == SOCK_STREAM)
		st->sockets->proto_stream = ops;
	else
		return -EINVAL;
	return 0;
}

struct hxs_sock *hxs_sock__get(struct hxs_stack *st, int fd)
{
	if (fd < 0 || fd >= st->sockets->nsocks)
		return NULL;
	return st->sockets->socks[fd];
}

/* A frame of sk waited for a neighbour that never answered (ip.c). */
static void sock_tx_error(struct hxs_tx_owner *o, int err)
{
	hxs_sock__set_error((struct hxs_sock *)((char *)o - offsetof(struct hxs_sock, txo)), err);
}

struct hxs_sock *hxs_sock__alloc(struct hxs_stack *st, int type, const struct hxs_proto_ops *ops)
{
	struct hxs_sock *sk = calloc(1, ops->obj_size);

	if (!sk)
		return NULL;
	sk->st = st;
	sk->ops = ops;
	sk->fd = -1;
	sk->type = type;
	sk->rcvbuf = HXS_SOCK_RCVBUF_DEFAULT;
	sk->sndbuf = HXS_SOCK_SNDBUF_DEFAULT;
	sk->rcvlowat = 1;
	sk->kfd = -1;
	sk->txo.error = sock_tx_error;
	if (ops->init && ops->init(sk)) {
		if (ops->destroy)
			ops->destroy(sk);
		free(sk);
		return NULL;
	}
	return sk;
}

int hxs_sock__install(struct hxs_stack *st, struct hxs_sock *sk)
{
	int fd;

	for (fd = 0; fd < st->sockets->nsocks; fd++)
		if (!st->sockets->socks[fd])
			break;
	if (fd == st->sockets->nsocks) {
		int n = st->sockets->nsocks ? st->sockets->nsocks * 2 : 64;
		struct hxs_sock **t;

		if (n > (1 << 20))
			return -EMFILE;
		t = realloc(st->sockets->socks, (size_t)n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + st->sockets->nsocks, 0, (size_t)(n - st->sockets->nsocks) * sizeof(*t));
		st->sockets->socks = t;
		st->sockets->nsocks = n;
	}
	st->sockets->socks[fd] = sk;
	sk->fd = fd;
	return fd;
}

void hxs_sock__free(struct hxs_sock *sk)
{
	hxs_sock__unbind_port(sk);
	hxs_stack__forget_owner(sk->st, &sk->txo);
	if (sk->ops->destroy)
		sk->ops->destroy(sk);
	free(sk);
}

/* --- readiness -------------------------------------------------------------------------------- */
void hxs_sock__wake(struct hxs_sock *sk)
{
	if (sk->epi)
		hxs_epoll__notify(sk, sk->ops->poll(sk));
}

void hxs_sock__set_error(struct hxs_sock *sk, int err)
{
	sk->err = err;
	hxs_sock__wake(sk);
}

int hxs_sock__take_error(struct hxs_sock *sk)
{
	int e = sk->err;

	sk->err = 0;
	return -e;
}

/* --- IP-level options ---------------------------------------------------------------------- */
int hxs_sock__ip_optval(const void *val, socklen_t len, int *v)
{
	uint8_t b;

	if (!val)
		return -EFAULT;
	if (len >= (socklen_t)sizeof(int)) {
		memcpy(v, val, sizeof(int));
	} else if (len >= 1) {
		memcpy(&b, val, 1);
		*v = b;
	} else {
		return -EINVAL;
	}
	return 0;
}

int hxs_sock__ip_put(int v, void *val, socklen_t *len)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len < sizeof(int) && *len > 0 && v >= 0 && v <= 255) {
		uint8_t b = (uint8_t)v;

		memcpy(val, &b, 1);
		*len = 1;
		return 0;
	}
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

int hxs_sock__ttl_parse(int v, uint8_t *ttl)
{
	/* "if (val != -1 && (val < 1 || val > 255)) goto e_inval" */
	if (v != -1 && (v < 1 || v > 255))
		return -EINVAL;
	*ttl = v == -1 ? 0 : (uint8_t)v;
	return 0;
}

/* --- blocking ---------------------------------------------------------------------------------- */
enum sock_op { OP_SEND, OP_RECV, OP_ACCEPT };

struct op_args {
	const struct iovec *iov;
	int iovcnt;
	int flags;
	const struct sockaddr_in6 *to;
	struct sockaddr_in6 *from;
	struct hxs_rx_meta *meta;
	struct hxs_sock **child;
};

static ssize_t op_try(struct hxs_sock *sk, enum sock_op op, struct op_args *a)
{
	switch (op) {
	case OP_SEND:
		return sk->ops->sendmsg(sk, a->iov, a->iovcnt, a->flags, a->to);
	case OP_RECV:
		return sk->ops->recvmsg(sk, a->iov, a->iovcnt, a->flags, a->from, a->meta);
	case OP_ACCEPT:
		return sk->ops->accept(sk, a->child);
	}
	return -EINVAL;
}

/* Runs the operation; on -EAGAIN for a blocking call, turns the event loop and retries until
 * it completes or the timeout (0 = none) passes. Like the kernel, a timeout gives -EAGAIN. */
static ssize_t sock_wait(struct hxs_sock *sk, enum sock_op op, struct op_args *a, int nonblock,
			 int64_t timeo_us)
{
	struct hxs_stack *st = sk->st;
	uint64_t deadline = timeo_us > 0 ? hxs_stack__now(st) + (uint64_t)timeo_us : UINT64_MAX;
	int fd = sk->fd;

	for (;;) {
		ssize_t r = op_try(sk, op, a);
		uint64_t now;
		int ms;

		if (r != -EAGAIN || nonblock || timeo_us < 0)
			return r;
		ms = -1;
		if (deadline != UINT64_MAX) {   /* no timeout: no clock read */
			now = hxs_stack__now(st);
			if (now >= deadline)
				return -EAGAIN;
			ms = (int)((deadline - now + 999) / 1000);
		}
		r = hxs_stack__poll(st, ms);
		if (r < 0)
			return r;
		if (hxs_sock__get(st, fd) != sk)
			return -EBADF;
	}
}

static int sock_nonblock(const struct hxs_sock *sk, int flags)
{
	return (sk->flags & HXS_SOCK_F_NONBLOCK) || (flags & MSG_DONTWAIT);
}

/* --- API ---------------------------------------------------------------------------------------- */
int hxs_socket(struct hxs_stack *st, int domain, int type, int protocol)
{
	const struct hxs_proto_ops *ops;
	/* __sys_socket(): the type is the low 4 bits (SOCK_TYPE_MASK); of the bits above it only
	 * SOCK_NONBLOCK and SOCK_CLOEXEC are flags, any other one is EINVAL, before the family
	 * is looked at. SOCK_CLOEXEC has nothing to do on an hxs descriptor (not a kernel fd;
	 * user/fd/ gives the kernel fd its O_CLOEXEC) and is accepted. */
	int base = type & 0xf, flags = type & ~0xf;
	struct hxs_sock *sk;
	int fd;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (base == SOCK_DGRAM) {
		if (protocol && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		ops = st->sockets->proto_dgram;
	} else if (base == SOCK_STREAM) {
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		ops = st->sockets->proto_stream;
	} else {
		return -ESOCKTNOSUPPORT;
	}
	if (!ops)
		return -EPROTONOSUPPORT;
	sk = hxs_sock__alloc(st, base, ops);
	if (!sk)
		return -ENOMEM;
	if (type & SOCK_NONBLOCK)
		sk->flags |= HXS_SOCK_F_NONBLOCK;
	sk->family = (uint8_t)domain;       /* IPV6_V6ONLY off by default, as Linux's bindv6only 0 */
	fd = hxs_sock__install(st, sk);
	if (fd < 0)
		hxs_sock__free(sk);
	return fd;
}

/* A caller's address for sk as the protocols take it (sockaddr_in6, IPv4 mapped): AF_INET
 * sockets take sockaddr_in, AF_INET6 ones sockaddr_in6 (at least the RFC 2133 24 bytes, as
 * Linux's SIN6_LEN_RFC2133). AF_UNSPEC is passed on with the family AF_UNSPEC. */
int hxs_sock__sa_in(const struct hxs_sock *sk, const struct sockaddr *sa, socklen_t len,
		    struct sockaddr_in6 *out)
{
	sa_family_t fam;

	if (sa && len >= (socklen_t)sizeof(*out) && sk->family == AF_INET6) {
		memcpy(&fam, &sa->sa_family, sizeof(fam));
		if (fam == AF_INET6) {
			memcpy(out, sa, sizeof(*out));  /* the usual: whole, a fixed-size copy */
			return 0;
		}
	}
	memset(out, 0, sizeof(*out));
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	memcpy(&fam, &sa->sa_family, sizeof(fam));
	if (sk->family == AF_INET6 && fam == AF_INET6) {
		if (len < 24)
			return -EINVAL;
		memcpy(out, sa, len < (socklen_t)sizeof(*out) ? (size_t)len : sizeof(*out));
		return 0;
	}
	if (fam == AF_INET || fam == AF_UNSPEC) {
		struct sockaddr_in a;
		struct hxs_addr m;

		if (fam == AF_INET && sk->family == AF_INET6)
			return -EAFNOSUPPORT;   /* inet6: sin6_family must be AF_INET6 */
		out->sin6_family = fam == AF_INET ? AF_INET6 : AF_UNSPEC;
		if (len < (socklen_t)sizeof(a))
			return fam == AF_UNSPEC ? 0 : -EINVAL;  /* a bare AF_UNSPEC dissolves */
		memcpy(&a, sa, sizeof(a));
		m = hxs_addr4(a.sin_addr.s_addr);
		out->sin6_port = a.sin_port;
		memcpy(&out->sin6_addr, m.b, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* A protocol's address for the caller in sk's family: sockaddr_in for AF_INET sockets,
 * sockaddr_in6 (IPv4 peers mapped, link-local ones with their scope) for AF_INET6. */
int hxs_sock__sa_out(const struct hxs_sock *sk, const struct sockaddr_in6 *a, struct sockaddr *addr,
		     socklen_t *len)
{
	if (!addr || !len || (int)*len < 0)
		return -EINVAL;
	if (sk->family == AF_INET) {
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = a->sin6_port };

		memcpy(&s4.sin_addr, (const uint8_t *)&a->sin6_addr + 12, 4);
		memcpy(addr, &s4, *len < sizeof(s4) ? *len : sizeof(s4));
		*len = sizeof(s4);
		return 0;
	}
	struct sockaddr_in6 s6 = *a;
	const uint8_t *b = (const uint8_t *)&a->sin6_addr;

	s6.sin6_family = AF_INET6;
	/* a scope only for fe80::/10 (hxs_sock__scope): not a call for every datagram */
	s6.sin6_scope_id = b[0] == 0xfe ? hxs_sock__scope(sk->st, hxs_addr6(b)) : 0;
	if (*len >= sizeof(s6))
		memcpy(addr, &s6, sizeof(s6));          /* the usual room: a fixed-size copy */
	else
		memcpy(addr, &s6, *len);
	*len = sizeof(s6);
	return 0;
}

/* inet_bind() / __inet_bind(), inet6_bind() */
int hxs_bind(struct hxs_stack *st, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct sockaddr_in6 a;
	struct hxs_addr ba;
	int err;

	if (!sk)
		return -EBADF;
	if (!addr || len < (socklen_t)(sk->family == AF_INET6 ? 24 : sizeof(struct sockaddr_in)))
		return -EINVAL;
	err = hxs_sock__sa_in(sk, addr, len, &a);
	if (err)
		return err;
	ba = hxs_addr6((const uint8_t *)&a.sin6_addr);
	if (a.sin6_family == AF_UNSPEC) {
		/* "Compatibility games": AF_UNSPEC only with INADDR_ANY */
		if (sk->family != AF_INET || hxs_addr_get4(ba) != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
	}
	if (sk->family == AF_INET6 && hxs_addr_is4(ba)) {
		/* an IPv4-mapped address on an IPv6-only socket: inet6_bind's EINVAL */
		if (sk->v6only)
			return -EINVAL;
		if (hxs_addr_get4(ba) != htonl(INADDR_ANY) && hxs_addr_get4(ba) != st->addr)
			return -EADDRNOTAVAIL;
	} else if (sk->family == AF_INET6 && !hxs_addr_is_any6(ba)) {
		/* a link-local address needs its interface (RFC 4007 §11.7) */
		if (hxs_sock__scope(st, ba) && !a.sin6_scope_id)
			return -EINVAL;
		if (!hxs_ip6_is_local(st, ba.b))
			return -EADDRNOTAVAIL;
	} else if (sk->family == AF_INET) {
		if (hxs_addr_get4(ba) != htonl(INADDR_ANY) && hxs_addr_get4(ba) != st->addr)
			return -EADDRNOTAVAIL;
	}
	if (sk->flags & HXS_SOCK_F_BOUND)
		return -EINVAL;
	a.sin6_family = AF_INET6;
	err = hxs_sock__bind_port(sk, ba, a.sin6_port);
	if (err)
		return err;
	if (sk->ops->bind) {
		err = sk->ops->bind(sk, &a);
		if (err)
			hxs_sock__unbind_port(sk);
	}
	return err;
}

int hxs_listen(struct hxs_stack *st, int fd, int backlog)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);

	if (!sk)
		return -EBADF;
	if (!sk->ops->listen)
		return -EOPNOTSUPP;
	return sk->ops->listen(sk, backlog);
}

int hxs_accept4(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd), *child = NULL;
	struct op_args a = { .child = &child };
	ssize_t r;
	int nfd;

	if (!sk)
		return -EBADF;
	if (!sk->ops->accept)
		return -EOPNOTSUPP;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	r = sock_wait(sk, OP_ACCEPT, &a, sock_nonblock(sk, 0), sk->rcvtimeo_us);
	if (r < 0)
		return (int)r;
	child->family = sk->family;         /* as the kernel's clone of the listener */
	child->v6only = sk->v6only;
	nfd = hxs_sock__install(st, child);
	if (nfd < 0) {
		child->ops->close(child);
		hxs_sock__free(child);
		return nfd;
	}
	if (flags & SOCK_NONBLOCK)
		child->flags |= HXS_SOCK_F_NONBLOCK;
	/* the child is connected: its peer name is there */
	if (addr && len && hxs_getpeername(st, nfd, addr, len))
		*len = 0;
	return nfd;
}

int hxs_accept(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len)
{
	return hxs_accept4(st, fd, addr, len, 0);
}

int hxs_connect(struct hxs_stack *st, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct sockaddr_in6 a = { 0 };
	uint64_t deadline;
	int nonblock, err;

	if (!sk)
		return -EBADF;
	if (!addr || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	err = hxs_sock__sa_in(sk, addr, len, &a);
	if (err)
		return err;
	nonblock = !!(sk->flags & HXS_SOCK_F_NONBLOCK);
	err = sk->ops->connect(sk, &a, nonblock);
	if ((err != -EINPROGRESS && err != -EALREADY) || nonblock || sk->sndtimeo_us < 0)
		return err;
	/* inet_wait_for_connect(), the only wait of a blocking connect: the loop turns until the
	 * protocol, asked with addr NULL, no longer says -EALREADY, bounded by SO_SNDTIMEO (on
	 * timeout the first answer stands: -EINPROGRESS, or -EALREADY for a second caller) */
	deadline = sk->sndtimeo_us > 0 ? hxs_stack__now(st) + (uint64_t)sk->sndtimeo_us : UINT64_MAX;
	for (;;) {
		uint64_t now = hxs_stack__now(st);
		int r;

		if (now >= deadline)
			return err;
		r = hxs_stack__poll(st, deadline == UINT64_MAX ? -1 : (int)((deadline - now + 999) / 1000));
		if (r < 0)
			return r;
		if (hxs_sock__get(st, fd) != sk)
			return -EBADF;
		r = sk->ops->connect(sk, NULL, 1);
		if (r != -EALREADY)
			return r;
	}
}

/* The iovec array rest[i..] after n more bytes of it were moved: the index of the first
 * entry with bytes left, that entry's base and length moved on. */
static int iov_advance(struct iovec *rest, int i, size_t n)
{
	while (n) {
		size_t m = n < rest[i].iov_len ? n : rest[i].iov_len;

		rest[i].iov_base = (uint8_t *)rest[i].iov_base + m;
		rest[i].iov_len -= m;
		n -= m;
		if (!rest[i].iov_len)
			i++;
	}
	return i;
}

/* tcp_sendmsg() on a blocking socket: returns once everything is queued, waiting for room
 * as often as it takes; what was queued when a wait ends early (SO_SNDTIMEO, error). */
static ssize_t stream_send_all(struct hxs_sock *sk, struct op_args *args)
{
	int fd = sk->fd, cnt = args->iovcnt;
	/* The iovec is consumed as the send proceeds, so it is copied; on the stack for the
	 * usual short vectors, so a blocking send allocates nothing. */
	struct iovec local[16];
	struct iovec *rest = cnt <= 16 ? local : malloc((size_t)cnt * sizeof(*rest));
	ssize_t total = hxs_iov_len(args->iov, cnt), done = 0, r = 0;
	int i = 0;

	if (total < 0 || !rest) {
		if (rest != local)
			free(rest);
		return total < 0 ? total : -ENOMEM;
	}
	memcpy(rest, args->iov, (size_t)cnt * sizeof(*rest));
	do {
		while (i < cnt && !rest[i].iov_len)
			i++;
		args->iov = rest + i;
		args->iovcnt = cnt - i;
		r = sock_wait(sk, OP_SEND, args, 0, sk->sndtimeo_us);
		if (r <= 0)
			break;
		done += r;
		i = iov_advance(rest, i, (size_t)r);
	} while (done < total && hxs_sock__get(sk->st, fd) == sk);
	if (rest != local)
		free(rest);
	return done ? done : r;
}

static ssize_t do_send(struct hxs_stack *st, int fd, const struct iovec *iov, int iovcnt, int flags,
		       const struct sockaddr *to, socklen_t tolen)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct sockaddr_in6 a;
	struct op_args args = { .iov = iov, .iovcnt = iovcnt, .flags = flags };
	ssize_t r;

	if (!sk)
		return -EBADF;
	if (to) {
		int err;

		if (tolen < (socklen_t)(sk->family == AF_INET6 ? 24 : sizeof(struct sockaddr_in)))
			return -EINVAL;
		err = hxs_sock__sa_in(sk, to, tolen, &a);
		if (err)
			return err;
		args.to = &a;
	}
	if (sk->type == SOCK_STREAM && !sock_nonblock(sk, flags) && iovcnt > 0)
		return stream_send_all(sk, &args);
	if (sock_nonblock(sk, flags))       /* no wait: the protocol's at once */
		r = sk->ops->sendmsg(sk, iov, iovcnt, flags, args.to);
	else
		r = sock_wait(sk, OP_SEND, &args, 0, sk->sndtimeo_us);
	/* A datagram leaves before the call returns, as the kernel's udp_sendmsg() hands it to
	 * the device: the TX batch goes to the ring and the ring is kicked now, not at the end
	 * of the loop's next turn (the caller's next recv and epoll_wait and a whole turn would
	 * sit between the request and the wire). Inside a turn (a callback of the loop) the
	 * turn's own flush sends it. */
	if (r >= 0 && sk->type != SOCK_STREAM && !st->turning)
		hxs_stack__tx_flush(st);
	return r;
}

/* tcp_recvmsg() on a blocking socket: the bytes are taken as they come until target is
 * reached (sock_rcvlowat: the whole length with MSG_WAITALL, else SO_RCVLOWAT), the stream
 * ends, an error comes, a signal interrupts the wait or SO_RCVTIMEO passes; then what was
 * read, or the error when nothing was. */
static ssize_t stream_recv_all(struct hxs_sock *sk, struct op_args *args, size_t target)
{
	struct hxs_stack *st = sk->st;
	int fd = sk->fd, cnt = args->iovcnt, i = 0;
	struct iovec local[16];
	struct iovec *rest = cnt <= 16 ? local : malloc((size_t)cnt * sizeof(*rest));
	uint64_t deadline = sk->rcvtimeo_us > 0 ? hxs_stack__now(st) + (uint64_t)sk->rcvtimeo_us : 0;
	size_t done = 0;
	ssize_t r = 0;

	if (!rest)
		return -ENOMEM;
	memcpy(rest, args->iov, (size_t)cnt * sizeof(*rest));
	for (;;) {
		int64_t timeo = sk->rcvtimeo_us;

		while (i < cnt && !rest[i].iov_len)
			i++;
		args->iov = rest + i;
		args->iovcnt = cnt - i;
		if (deadline) {
			uint64_t now = hxs_stack__now(st);

			if (now >= deadline) {
				r = -EAGAIN;
				break;
			}
			timeo = (int64_t)(deadline - now);
		}
		r = sock_wait(sk, OP_RECV, args, 0, timeo);
		if (r <= 0)
			break;
		done += (size_t)r;
		if (done >= target || hxs_sock__get(st, fd) != sk)
			break;
		i = iov_advance(rest, i, (size_t)r);
	}
	if (rest != local)
		free(rest);
	return done ? (ssize_t)done : r;
}

static ssize_t do_recv(struct hxs_stack *st, int fd, const struct iovec *iov, int iovcnt, int flags,
		       struct sockaddr *from, socklen_t *fromlen, struct hxs_rx_meta *meta)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct sockaddr_in6 a, *ap = NULL;
	ssize_t r;

	if (!sk)
		return -EBADF;
	if (fromlen && (int)*fromlen < 0)
		return -EINVAL;
	if (from && fromlen) {
		/* asked for: zeros where the protocol gives no address (a stream) */
		memset(&a, 0, sizeof(a));
		ap = &a;
	}
	/* MSG_OOB never waits (the kernel's tcp_recv_urg: "this call should never block"). A
	 * call that does not wait is the protocol's at once (sock_wait() would try it once). */
	if (sock_nonblock(sk, flags) || (flags & MSG_OOB)) {
		r = sk->ops->recvmsg(sk, iov, iovcnt, flags, ap, meta);
	} else {
		struct op_args args = { .iov = iov, .iovcnt = iovcnt, .flags = flags, .from = ap,
					.meta = meta };
		ssize_t total = sk->type == SOCK_STREAM && !(flags & (MSG_PEEK | MSG_TRUNC)) ?
				hxs_iov_len(iov, iovcnt) : 1;
		size_t target = total < 0 ? 1 : (flags & MSG_WAITALL) ? (size_t)total
				: sk->rcvlowat < (size_t)total ? sk->rcvlowat : (size_t)total;

		if (target > 1)
			r = stream_recv_all(sk, &args, target);
		else
			r = sock_wait(sk, OP_RECV, &args, 0, sk->rcvtimeo_us);
	}
	if (r >= 0 && ap)
		hxs_sock__sa_out(sk, ap, from, fromlen);
	return r;
}

ssize_t hxs_sendto(struct hxs_stack *st, int fd, const void *buf, size_t len, int flags,
		   const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return do_send(st, fd, &iov, 1, flags, to, tolen);
}

ssize_t hxs_send(struct hxs_stack *st, int fd, const void *buf, size_t len, int flags)
{
	return hxs_sendto(st, fd, buf, len, flags, NULL, 0);
}

ssize_t hxs_writev(struct hxs_stack *st, int fd, const struct iovec *iov, int iovcnt)
{
	ssize_t n = hxs_iov_len(iov, iovcnt);

	if (n < 0)
		return n;
	return do_send(st, fd, iov, iovcnt, 0, NULL, 0);
}

ssize_t hxs_recvfrom(struct hxs_stack *st, int fd, void *buf, size_t len, int flags,
		     struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return do_recv(st, fd, &iov, 1, flags, from, fromlen, NULL);
}

ssize_t hxs_recv(struct hxs_stack *st, int fd, void *buf, size_t len, int flags)
{
	return hxs_recvfrom(st, fd, buf, len, flags, NULL, NULL);
}

ssize_t hxs_readv(struct hxs_stack *st, int fd, const struct iovec *iov, int iovcnt)
{
	ssize_t n = hxs_iov_len(iov, iovcnt);

	if (n < 0)
		return n;
	return do_recv(st, fd, iov, iovcnt, 0, NULL, NULL, NULL);
}

/* put_cmsg(): a control message into what is left of msg_control; what does not fit is cut
 * and MSG_CTRUNC set (less room than a header: nothing at all). */
static void put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data,
		     size_t len)
{
	size_t room = msg->msg_controllen - *used, cmlen = CMSG_LEN(len);
	struct cmsghdr h;

	if (room < sizeof(struct cmsghdr)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	memset(&h, 0, sizeof(h));
	h.cmsg_len = cmlen;
	h.cmsg_level = level;
	h.cmsg_type = type;
	memcpy((uint8_t *)msg->msg_control + *used, &h, sizeof(h));
	memcpy((uint8_t *)msg->msg_control + *used + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
	cmlen = CMSG_SPACE(len) < room ? CMSG_SPACE(len) : room;
	*used += cmlen;
}

ssize_t hxs_recvmsg(struct hxs_stack *st, int fd, struct msghdr *msg, int flags)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct hxs_rx_meta meta = { 0 };
	struct sockaddr_in6 from;       /* the socket's family's (hxs_sock__sa_out), the larger */
	socklen_t fromlen = sizeof(from);
	ssize_t r, cap;
	size_t used = 0;

	if (!sk)
		return -EBADF;
	if (!msg || (msg->msg_iovlen && !msg->msg_iov) || msg->msg_iovlen > IOV_MAX)
		return msg ? -EINVAL : -EFAULT;
	cap = hxs_iov_len(msg->msg_iov, (int)msg->msg_iovlen);
	if (cap < 0)
		return cap;
	if (msg->msg_name && (int)msg->msg_namelen < 0)
		return -EINVAL;
	r = do_recv(st, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, (struct sockaddr *)&from,
		    &fromlen, &meta);
	if (r < 0)
		return r;
	msg->msg_flags = 0;
	if (flags & MSG_OOB)
		msg->msg_flags |= MSG_OOB;
	if (sk->type == SOCK_STREAM) {
		msg->msg_namelen = 0;           /* tcp_recvmsg gives no address */
	} else if (msg->msg_name) {
		memcpy(msg->msg_name, &from, msg->msg_namelen < fromlen ? msg->msg_namelen : fromlen);
		msg->msg_namelen = fromlen;
	} else {
		msg->msg_namelen = 0;
	}
	if (meta.valid && meta.full_len > (uint32_t)cap)
		msg->msg_flags |= MSG_TRUNC;    /* udp_recvmsg: the datagram did not fit */
	if (meta.valid && msg->msg_control) {
		/* ip_cmsg_recv_offset(): IP_PKTINFO before IP_TOS */
		if (meta.want_pktinfo) {
			struct in_pktinfo pi = { .ipi_ifindex = meta.ifindex };

			pi.ipi_spec_dst.s_addr = meta.spec_dst;
			pi.ipi_addr.s_addr = meta.daddr;
			put_cmsg(msg, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
		if (meta.want_tos)
			put_cmsg(msg, &used, IPPROTO_IP, IP_TOS, &meta.tos, 1);
	} else if (meta.valid && (meta.want_pktinfo || meta.want_tos)) {
		msg->msg_flags |= MSG_CTRUNC;   /* no control buffer at all */
	}
	msg->msg_controllen = used;
	return r;
}

/* ip_cmsg_send() for a datagram socket: IP_TTL, IP_TOS (an int each; the kernel also takes
 * a byte for IP_TOS), IP_PKTINFO; values for this call only. */
static int send_cmsgs(struct hxs_sock *sk, const struct msghdr *msg, int *ttl, int *tos)
{
	struct cmsghdr *c;

	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	for (c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		size_t dlen;
		int v;

		if (c->cmsg_len < sizeof(struct cmsghdr) ||
		    c->cmsg_len > msg->msg_controllen - ((uint8_t *)c - (uint8_t *)msg->msg_control))
			return -EINVAL;
		if (c->cmsg_level != IPPROTO_IP)
			continue;
		dlen = c->cmsg_len - CMSG_LEN(0);
		switch (c->cmsg_type) {
		case IP_TTL:
			if (dlen != sizeof(int))
				return -EINVAL;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if (v < 1 || v > 255)
				return -EINVAL;
			*ttl = v;
			break;
		case IP_TOS:
			if (dlen == sizeof(int))
				memcpy(&v, CMSG_DATA(c), sizeof(v));
			else if (dlen == 1)
				v = *(uint8_t *)CMSG_DATA(c);
			else
				return -EINVAL;
			if (v < 0 || v > 255)
				return -EINVAL;
			*tos = v;
			break;
		case IP_PKTINFO: {
			struct in_pktinfo pi;

			if (dlen != sizeof(pi))
				return -EINVAL;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* the source must be an address of ours (ip_route_output: -EINVAL) */
			if (pi.ipi_spec_dst.s_addr && pi.ipi_spec_dst.s_addr != sk->st->addr)
				return -EINVAL;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	return 0;
}

ssize_t hxs_sendmsg(struct hxs_stack *st, int fd, const struct msghdr *msg, int flags)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	int ttl = -1, tos = -1, err;
	uint8_t ttl0, tos0;
	ssize_t r;

	if (!sk)
		return -EBADF;
	if (!msg)
		return -EFAULT;
	if ((msg->msg_iovlen && !msg->msg_iov) || msg->msg_iovlen > IOV_MAX)
		return -EINVAL;
	r = hxs_iov_len(msg->msg_iov, (int)msg->msg_iovlen);
	if (r < 0)
		return r;
	if (sk->type == SOCK_DGRAM) {
		err = send_cmsgs(sk, msg, &ttl, &tos);
		if (err)
			return err;
	}
	/* the call's own TTL/TOS, in place of the socket's for this datagram */
	ttl0 = sk->ttl;
	tos0 = sk->tos;
	if (ttl >= 0)
		sk->ttl = (uint8_t)ttl;
	if (tos >= 0)
		sk->tos = (uint8_t)tos;
	r = do_send(st, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
		    msg->msg_name ? msg->msg_namelen : 0);
	if (hxs_sock__get(st, fd) == sk) {
		sk->ttl = ttl0;
		sk->tos = tos0;
	}
	return r;
}

int hxs_shutdown(struct hxs_stack *st, int fd, int how)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);

	if (!sk)
		return -EBADF;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (!sk->ops->shutdown)
		return -EOPNOTSUPP;
	return sk->ops->shutdown(sk, how);
}

int hxs_close(struct hxs_stack *st, int fd)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);

	if (!sk)
		return -EBADF;
	st->sockets->socks[fd] = NULL;
	hxs_epoll__forget(sk);
	sk->fd = -1;
	if (sk->ops->close)
		sk->ops->close(sk);
	if (!(sk->flags & HXS_SOCK_F_KEEPPORT))
		hxs_sock__free(sk);
	return 0;
}

static int get_name(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	int err;

	if (!sk)
		return -EBADF;
	if (sk->ops->getname) {
		err = sk->ops->getname(sk, &a, peer);
		if (err)
			return err;
	} else if (peer) {
		if (!(sk->flags & HXS_SOCK_F_CONNECTED))
			return -ENOTCONN;
		memcpy(&a.sin6_addr, sk->raddr.b, 16);
		a.sin6_port = sk->rport;
	} else {
		/* unbound: the family's wildcard, as the kernel answers */
		struct hxs_addr l = (sk->flags & HXS_SOCK_F_BOUND) ? sk->laddr : hxs_sock__any(sk);

		memcpy(&a.sin6_addr, l.b, 16);
		a.sin6_port = sk->lport;
	}
	return hxs_sock__sa_out(sk, &a, addr, len);
}

int hxs_getsockname(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len)
{
	return get_name(st, fd, addr, len, 0);
}

int hxs_getpeername(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len)
{
	return get_name(st, fd, addr, len, 1);
}

/* sock_setsockopt(): buffer sizes are clamped and doubled like Linux's */
static uint32_t buf_size(int val, uint32_t min)
{
	uint64_t v = val < 0 ? 0 : (uint64_t)val;

	if (v > HXS_SOCK_BUF_MAX / 2)
		v = HXS_SOCK_BUF_MAX / 2;
	v *= 2;
	return v < min ? min : (uint32_t)v;
}

static int set_timeo(int64_t *out, const void *val, socklen_t len)
{
	struct timeval tv;

	if (len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		/* sock_set_timeout(): a negative timeout means no wait at all */
		*out = -1;
		return 0;
	}
	*out = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return 0;
}

static int get_timeo(int64_t us, void *val, socklen_t *len)
{
	struct timeval tv = { 0 };

	if (us > 0) {
		tv.tv_sec = us / 1000000;
		tv.tv_usec = us % 1000000;
	}

	if (*len < sizeof(tv))
		return -EINVAL;
	memcpy(val, &tv, sizeof(tv));
	*len = sizeof(tv);
	return 0;
}

int hxs_setsockopt(struct hxs_stack *st, int fd, int level, int name, const void *val, socklen_t len)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	int v = 0, err = 0;

	if (!sk)
		return -EBADF;
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
		/* RFC 3493 §5.3; the kernel refuses it on a bound socket and on AF_INET */
		if (sk->family != AF_INET6)
			return -ENOPROTOOPT;
		if (!val || len < (socklen_t)sizeof(int))
			return -EINVAL;
		if (sk->flags & HXS_SOCK_F_BOUND)
			return -EINVAL;
		memcpy(&v, val, sizeof(int));
		sk->v6only = !!v;
		return 0;
	}
	if (level != SOL_SOCKET) {
		if (!sk->ops->setsockopt)
			return -ENOPROTOOPT;
		return sk->ops->setsockopt(sk, level, name, val, len);
	}
	if (!val)
		return -EFAULT;
	switch (name) {
	case SO_RCVTIMEO:
		return set_timeo(&sk->rcvtimeo_us, val, len);
	case SO_SNDTIMEO:
		return set_timeo(&sk->sndtimeo_us, val, len);
	case SO_LINGER:
		if (len < (socklen_t)sizeof(struct linger))
			return -EINVAL;
		memcpy(&sk->linger, val, sizeof(struct linger));
		break;
	default:
		if (len < (socklen_t)sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(int));
		switch (name) {
		case SO_RCVBUF:
			sk->rcvbuf = buf_size(v, HXS_SOCK_RCVBUF_MIN);
			break;
		case SO_SNDBUF:
			sk->sndbuf = buf_size(v, HXS_SOCK_SNDBUF_MIN);
			break;
		case SO_REUSEADDR:
			sk->flags = v ? sk->flags | HXS_SOCK_F_REUSEADDR : sk->flags & ~HXS_SOCK_F_REUSEADDR;
			break;
		case SO_KEEPALIVE:
			sk->flags = v ? sk->flags | HXS_SOCK_F_KEEPALIVE : sk->flags & ~HXS_SOCK_F_KEEPALIVE;
			break;
		case SO_OOBINLINE:
			sk->flags = v ? sk->flags | HXS_SOCK_F_OOBINLINE : sk->flags & ~HXS_SOCK_F_OOBINLINE;
			break;
		case SO_BROADCAST:
			sk->flags = v ? sk->flags | HXS_SOCK_F_BROADCAST : sk->flags & ~HXS_SOCK_F_BROADCAST;
			break;
		case SO_RCVLOWAT:
			/* sock_setsockopt(): negative means INT_MAX, 0 means 1; tcp_set_rcvlowat()
			 * caps a stream's at half its receive buffer (more could never be read) */
			if (v < 0)
				v = INT_MAX;
			if (sk->type == SOCK_STREAM && (uint32_t)v > sk->rcvbuf / 2)
				v = (int)(sk->rcvbuf / 2);
			sk->rcvlowat = v ? (uint32_t)v : 1;
			hxs_sock__wake(sk);     /* readiness may change at once (tcp_data_ready) */
			break;
		default:
			return -ENOPROTOOPT;
		}
	}
	/* tell the protocol (UDP resizes its queue, TCP arms keepalive ...) */
	if (sk->ops->setsockopt) {
		err = sk->ops->setsockopt(sk, SOL_SOCKET, name, val, len);
		if (err == -ENOPROTOOPT)
			err = 0;
	}
	return err;
}

int hxs_getsockopt(struct hxs_stack *st, int fd, int level, int name, void *val, socklen_t *len)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	int v;

	if (!sk)
		return -EBADF;
	if (!val || !len)
		return -EFAULT;
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && sk->family == AF_INET6) {
		v = sk->v6only;
		if ((int)*len < 0)
			return -EINVAL;
		memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
		*len = *len < sizeof(v) ? *len : sizeof(v);
		return 0;
	}
	if (level != SOL_SOCKET) {
		if (!sk->ops->getsockopt)
			return -ENOPROTOOPT;
		return sk->ops->getsockopt(sk, level, name, val, len);
	}
	if ((int)*len < 0)
		return -EINVAL;
	switch (name) {
	case SO_RCVTIMEO:
		return get_timeo(sk->rcvtimeo_us, val, len);
	case SO_SNDTIMEO:
		return get_timeo(sk->sndtimeo_us, val, len);
	case SO_LINGER:
		if (*len < sizeof(struct linger))
			return -EINVAL;
		memcpy(val, &sk->linger, sizeof(struct linger));
		*len = sizeof(struct linger);
		return 0;
	case SO_TYPE:      v = sk->type; break;
	case SO_DOMAIN:    v = sk->family; break;
	case SO_PROTOCOL:  v = sk->ops->ipproto; break;
	case SO_ERROR:     v = -hxs_sock__take_error(sk); break;
	case SO_RCVBUF:    v = (int)sk->rcvbuf; break;
	case SO_SNDBUF:    v = (int)sk->sndbuf; break;
	case SO_REUSEADDR: v = !!(sk->flags & HXS_SOCK_F_REUSEADDR); break;
	case SO_KEEPALIVE: v = !!(sk->flags & HXS_SOCK_F_KEEPALIVE); break;
	case SO_OOBINLINE: v = !!(sk->flags & HXS_SOCK_F_OOBINLINE); break;
	case SO_RCVLOWAT:  v = (int)sk->rcvlowat; break;
	case SO_BROADCAST: v = !!(sk->flags & HXS_SOCK_F_BROADCAST); break;
	default:
		if (sk->ops->getsockopt)
			return sk->ops->getsockopt(sk, level, name, val, len);
		return -ENOPROTOOPT;
	}
	/* sock_getsockopt(): an int, truncated to what the caller gave */
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

int hxs_set_nonblock(struct hxs_stack *st, int fd, bool on)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);

	if (!sk)
		return -EBADF;
	sk->flags = on ? sk->flags | HXS_SOCK_F_NONBLOCK : sk->flags & ~HXS_SOCK_F_NONBLOCK;
	return 0;
}

int hxs_ioctl(struct hxs_stack *st, int fd, unsigned long req, int *arg)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);

	if (!sk)
		return -EBADF;
	if (!arg)
		return -EFAULT;
	if (!sk->ops->ioctl)
		return -ENOTTY;
	return sk->ops->ioctl(sk, req, arg);
}

int hxs_poll_events(struct hxs_stack *st, int fd)
{
	struct hxs_sock *sk = hxs_sock__get(st, fd);

	if (!sk)
		return -EBADF;
	return (int)sk->ops->poll(sk);
}
