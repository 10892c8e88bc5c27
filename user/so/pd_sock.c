/* pd_sock.c - the socket calls of the packetdrill target, on hxs sockets behind kernel fds.
 *
 * pd_socket()  -> hxs_socket() (always O_NONBLOCK inside: waiting is pd_block's) ->
 *                 hxs_fdtab__open() (the kernel fd number packetdrill gets)
 * pd_accept()  -> pd_block(hxs_accept4) -> a new fd for the child
 * pd_connect() -> hxs_connect(): -EINPROGRESS; blocking: pd_block(hxs_connect again, which
 *                 says -EALREADY while the handshake runs), bounded by SO_SNDTIMEO, after
 *                 which the kernel's answer is EINPROGRESS too
 * pd_fcntl()   -> F_GETFL/F_SETFL: O_NONBLOCK in the table; F_GETFD/F_SETFD on the kernel fd
 * pd_ioctl()   -> FIONBIO, FIONREAD (SIOCINQ), SIOCOUTQ, SIOCATMARK as the kernel's
 *                 tcp_ioctl/udp_ioctl (TCP through hxs_ioctl)
 * pd_getsockopt(TCP_INFO) -> struct hxs_tcp_info turned into the kernel's struct tcp_info
 * pd_close()   -> hxs_close() + the kernel fd; an fd that is not ours -> libc close()
 *
 * Every call that may make the stack send runs a turn before it returns (pd_turn), so a
 * segment leaves at the virtual time of the call, as from a syscall.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pd.h"
#include "so_tcpinfo.h"

int pd_sock_of(struct pd *pd, int fd, struct hxs_fd *e)
{
	return hxs_fdtab__sock(pd->fds, fd, e);
}

int64_t pd_timeo(struct pd *pd, int sfd, int name)
{
	struct timeval tv = { 0 };
	socklen_t len = sizeof(tv);

	if (hxs_getsockopt(pd->st, sfd, SOL_SOCKET, name, &tv, &len))
		return 0;
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void pd_drop(void *u, int fd, const struct hxs_fd *e)
{
	struct pd *pd = u;

	(void)fd;
	if (e->kind == HXS_FD_SOCKET)
		hxs_close(pd->st, e->obj);
	else if (e->kind == HXS_FD_EPOLL)
		hxs_epoll_close(pd->st, e->obj);
}

/* A new kernel fd for hxs socket sfd; the socket is closed if there is none. */
static int install(struct pd *pd, int sfd, int nonblock, int cloexec)
{
	struct hxs_fd e = { HXS_FD_SOCKET, sfd, nonblock ? O_NONBLOCK : 0 };
	int fd, err;

	err = hxs_set_nonblock(pd->st, sfd, true);
	if (err) {
		hxs_close(pd->st, sfd);
		return err;
	}
	fd = hxs_fdtab__open(pd->fds, &e, cloexec ? O_CLOEXEC : 0);
	if (fd < 0)
		hxs_close(pd->st, sfd);
	return fd;
}

int pd_socket(void *u, int domain, int type, int protocol)
{
	struct pd *pd = u;
	int sfd, fd;

	pd_lock(pd);
	if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) {
		fd = -EINVAL;
		goto out;
	}
	sfd = hxs_socket(pd->st, domain, type & ~SOCK_CLOEXEC, protocol);
	fd = sfd < 0 ? sfd : install(pd, sfd, type & SOCK_NONBLOCK, type & SOCK_CLOEXEC);
out:
	pd_trace(pd, "socket(%d, %#x, %d) = %d", domain, (unsigned)type, protocol, fd);
	pd_unlock(pd);
	return (int)pd_ret(fd);
}

int pd_bind(void *u, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pd *pd = u;
	struct hxs_fd e;
	int r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (!r)
		r = hxs_bind(pd->st, e.obj, addr, len);
	if (r == -EADDRNOTAVAIL && addr && addr->sa_family == AF_INET)
		pd_addr_hint(pd, AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, "bind() to");
	else if (r == -EADDRNOTAVAIL && addr && addr->sa_family == AF_INET6)
		pd_addr_hint(pd, AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, "bind() to");
	pd_trace(pd, "bind(%d) = %d", fd, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

/* listen() and shutdown(): one hxs call on the socket of fd with one int argument, then a
 * turn (what the call makes the stack send leaves now). */
static int sock_call_int(struct pd *pd, int fd, int (*call)(struct hxs_stack *, int, int),
			 int arg, const char *name)
{
	struct hxs_fd e;
	int r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (!r)
		r = call(pd->st, e.obj, arg);
	pd_turn(pd, 1);
	pd_trace(pd, "%s(%d, %d) = %d", name, fd, arg, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

int pd_listen(void *u, int fd, int backlog)
{
	return sock_call_int(u, fd, hxs_listen, backlog, "listen");
}

struct accept_args {
	int sfd;
	struct sockaddr *addr;
	socklen_t *len;
};

static long try_accept(struct pd *pd, void *arg)
{
	struct accept_args *a = arg;

	return hxs_accept4(pd->st, a->sfd, a->addr, a->len, SOCK_NONBLOCK);
}

int pd_accept(void *u, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pd *pd = u;
	struct hxs_fd e;
	struct accept_args a = { .addr = addr, .len = len };
	long r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (!r) {
		a.sfd = e.obj;
		r = pd_block(pd, e.flags & O_NONBLOCK, pd_timeo(pd, e.obj, SO_RCVTIMEO), try_accept, &a);
		if (r >= 0)
			r = install(pd, (int)r, 0, 0);
	}
	pd_trace(pd, "accept(%d) = %ld", fd, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

struct connect_args {
	int sfd;
	const struct sockaddr *addr;
	socklen_t len;
};

/* inet_wait_for_connect(): asked again, the socket says -EALREADY while the handshake runs */
static long try_connect(struct pd *pd, void *arg)
{
	struct connect_args *c = arg;
	int r = hxs_connect(pd->st, c->sfd, c->addr, c->len);

	return r == -EALREADY ? -EAGAIN : r;
}

int pd_connect(void *u, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pd *pd = u;
	struct connect_args c = { .addr = addr, .len = len };
	struct hxs_fd e;
	long r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (!r) {
		c.sfd = e.obj;
		r = hxs_connect(pd->st, e.obj, addr, len);
		pd_turn(pd, 1);
		if (r == -EINPROGRESS && !(e.flags & O_NONBLOCK)) {
			r = pd_block(pd, 0, pd_timeo(pd, e.obj, SO_SNDTIMEO), try_connect, &c);
			if (r == -EAGAIN)
				r = -EINPROGRESS;   /* SO_SNDTIMEO passed, as the kernel says */
		}
	}
	pd_trace(pd, "connect(%d) = %ld", fd, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

int pd_shutdown(void *u, int fd, int how)
{
	return sock_call_int(u, fd, hxs_shutdown, how, "shutdown");
}

/* tcp_get_info() (so_tcpinfo.c) */
static int tcp_info_of(struct pd *pd, int sfd, void *val, socklen_t *len)
{
	struct hxs_tcp_info hi;
	socklen_t hl = sizeof(hi);
	int err;

	if ((int)*len < 0)
		return -EINVAL;
	err = hxs_getsockopt(pd->st, sfd, IPPROTO_TCP, TCP_INFO, &hi, &hl);
	return err ? err : hxs_so_tcp_info(&hi, val, len);
}

int pd_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len)
{
	struct pd *pd = u;
	struct hxs_fd e;
	int r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (!r && level == IPPROTO_TCP && name == TCP_INFO)
		r = tcp_info_of(pd, e.obj, val, len);
	else if (!r)
		r = hxs_getsockopt(pd->st, e.obj, level, name, val, len);
	pd_trace(pd, "getsockopt(%d, %d, %d) = %d", fd, level, name, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

int pd_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len)
{
	struct pd *pd = u;
	struct hxs_fd e;
	int r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (!r)
		r = hxs_setsockopt(pd->st, e.obj, level, name, val, len);
	pd_turn(pd, 1);
	pd_trace(pd, "setsockopt(%d, %d, %d) = %d", fd, level, name, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

/* fcntl commands that take no argument (the others take an int or a pointer). */
static int fcntl_no_arg(int cmd)
{
	return cmd == F_GETFD || cmd == F_GETFL || cmd == F_GETOWN || cmd == F_GETSIG ||
	       cmd == F_GETLEASE || cmd == F_GETPIPE_SZ;
}

int pd_fcntl(void *u, int fd, int cmd, ...)
{
	struct pd *pd = u;
	struct hxs_fd e;
	long arg = 0;
	va_list ap;
	int r;

	va_start(ap, cmd);
	if (!fcntl_no_arg(cmd))
		arg = va_arg(ap, long);
	va_end(ap);
	pd_lock(pd);
	if (hxs_fdtab__get(pd->fds, fd, &e)) {
		pd_unlock(pd);
		return fcntl_no_arg(cmd) ? fcntl(fd, cmd) : fcntl(fd, cmd, arg);
	}
	switch (cmd) {
	case F_GETFL:
		r = O_RDWR | e.flags;
		break;
	case F_SETFL:
		/* setfl(): O_NONBLOCK is what a socket has of the status flags */
		r = hxs_fdtab__set_flags(pd->fds, fd, (int)arg);
		break;
	case F_GETFD:
	case F_SETFD:
		/* close-on-exec is the kernel fd's own */
		r = cmd == F_GETFD ? fcntl(fd, F_GETFD) : fcntl(fd, F_SETFD, (int)arg);
		if (r < 0)
			r = -errno;
		break;
	default:
		r = -EINVAL;
	}
	pd_trace(pd, "fcntl(%d, %d, %ld) = %d", fd, cmd, arg, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

/* SIOCINQ / SIOCOUTQ: a TCP socket's queues (-EINVAL listening, as tcp_ioctl), a UDP
 * socket's next datagram (udp_ioctl) and nothing queued to send. */
static int queue_len(struct pd *pd, int sfd, unsigned long req, int *out)
{
	int type = 0;
	socklen_t tl = sizeof(type);
	int err = hxs_getsockopt(pd->st, sfd, SOL_SOCKET, SO_TYPE, &type, &tl);

	if (err)
		return err;
	if (type == SOCK_DGRAM) {
		static uint8_t peek[65536];
		long n = req == SIOCOUTQ ? 0 :
			hxs_recvfrom(pd->st, sfd, peek, sizeof(peek), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT,
				     NULL, NULL);

		*out = n == -EAGAIN ? 0 : (int)n;
		return n < 0 && n != -EAGAIN ? (int)n : 0;
	}
	/* TCP: tcp_ioctl (SIOCINQ stops at the urgent mark, tcp_inq) */
	return hxs_ioctl(pd->st, sfd, req, out);
}

int pd_ioctl(void *u, int fd, unsigned long req, ...)
{
	struct pd *pd = u;
	struct hxs_fd e;
	int *argp;
	va_list ap;
	int r;

	va_start(ap, req);
	argp = va_arg(ap, int *);
	va_end(ap);
	pd_lock(pd);
	if (hxs_fdtab__get(pd->fds, fd, &e)) {
		pd_unlock(pd);
		return ioctl(fd, req, argp);
	}
	if (e.kind != HXS_FD_SOCKET) {
		r = -ENOTTY;
	} else if (req == FIONBIO) {
		r = hxs_fdtab__set_flags(pd->fds, fd, *argp ? (e.flags | O_NONBLOCK) : (e.flags & ~O_NONBLOCK));
	} else if (req == SIOCINQ || req == SIOCOUTQ) {
		r = queue_len(pd, e.obj, req, argp);
	} else if (req == SIOCATMARK) {
		r = hxs_ioctl(pd->st, e.obj, req, argp);
	} else {
		r = -ENOTTY;
	}
	pd_trace(pd, "ioctl(%d, %#lx) = %d", fd, req, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

int pd_close(void *u, int fd)
{
	struct pd *pd = u;
	struct hxs_fd e;
	int r;

	pd_lock(pd);
	r = hxs_fdtab__close(pd->fds, fd, &e);
	if (r) {
		/* not ours (a pipe): the kernel's */
		pd_unlock(pd);
		return close(fd);
	}
	pd_drop(pd, fd, &e);
	pd_turn(pd, 1);
	pd_trace(pd, "close(%d)", fd);
	pd_unlock(pd);
	return 0;
}
