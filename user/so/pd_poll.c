/* pd_poll.c - poll, epoll, pipe and splice of the packetdrill target.
 *
 * pd_poll()       pd_block(try_poll): each hxs socket's hxs_poll_events() masked with what
 *                 was asked (+ POLLERR, POLLHUP; POLLRDNORM/POLLWRNORM along with IN/OUT, as
 *                 tcp_poll sets them), each other fd by poll(2) with no wait; the timeout in
 *                 virtual time. An epoll fd of ours polls as never ready.
 * pd_epoll_*()    an hxs epoll instance behind a kernel fd; its members are hxs sockets only
 *                 (another fd: EPERM); epoll_wait waits like poll
 * pd_pipe()       a kernel pipe (both numbers claimed from a stale entry of the table)
 * pd_splice()     pipe <-> hxs socket through a buffer: what the pipe holds goes out as a send,
 *                 what the socket has comes in as a recv; two kernel fds: splice(2)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pd.h"
#include "so_poll.h"

struct poll_args {
	struct pollfd *fds;
	nfds_t n;
};

static short revents_of(struct pd *pd, const struct pollfd *p)
{
	struct hxs_fd e;
	struct pollfd one;
	int m;

	if (p->fd < 0)
		return 0;
	if (hxs_fdtab__get(pd->fds, p->fd, &e)) {
		one = (struct pollfd){ .fd = p->fd, .events = p->events };
		return poll(&one, 1, 0) < 0 ? POLLNVAL : one.revents;
	}
	if (e.kind != HXS_FD_SOCKET)
		return 0;
	m = hxs_poll_events(pd->st, e.obj);
	if (m < 0)
		return POLLNVAL;
	return hxs_so_revents(m, p->events);
}

static long try_poll(struct pd *pd, void *arg)
{
	struct poll_args *a = arg;
	long n = 0;

	for (nfds_t i = 0; i < a->n; i++) {
		a->fds[i].revents = revents_of(pd, &a->fds[i]);
		if (a->fds[i].revents)
			n++;
	}
	return n ? n : -EAGAIN;
}

int pd_poll(void *u, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct pd *pd = u;
	struct poll_args a = { fds, nfds };
	long r;

	pd_lock(pd);
	r = pd_block(pd, timeout_ms == 0, timeout_ms > 0 ? (int64_t)timeout_ms * 1000 : 0, try_poll, &a);
	if (r == -EAGAIN)
		r = 0;
	pd_trace(pd, "poll(%lu fds, %d ms) = %ld", (unsigned long)nfds, timeout_ms, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

int pd_epoll_create(void *u, int size)
{
	struct pd *pd = u;
	struct hxs_fd e = { HXS_FD_EPOLL, 0, 0 };
	int r;

	if (size <= 0)
		return (int)pd_ret(-EINVAL);
	pd_lock(pd);
	r = hxs_epoll_create(pd->st);
	if (r >= 0) {
		e.obj = r;
		r = hxs_fdtab__open(pd->fds, &e, 0);
		if (r < 0)
			hxs_epoll_close(pd->st, e.obj);
	}
	pd_trace(pd, "epoll_create(%d) = %d", size, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

/* The epoll instance behind epfd: -EBADF (no fd), -EINVAL (an fd that is no epoll). */
static int epoll_of(struct pd *pd, int epfd, struct hxs_fd *ep)
{
	if (!hxs_fdtab__get(pd->fds, epfd, ep))
		return ep->kind == HXS_FD_EPOLL ? 0 : -EINVAL;
	return epfd < 0 || fcntl(epfd, F_GETFD) < 0 ? -EBADF : -EINVAL;
}

int pd_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct pd *pd = u;
	struct hxs_fd ep, e;
	struct hxs_event hev = { 0 };
	int r;

	pd_lock(pd);
	r = epoll_of(pd, epfd, &ep);
	if (!r) {
		r = hxs_fdtab__get(pd->fds, fd, &e);
		if (r)
			r = fd < 0 || fcntl(fd, F_GETFD) < 0 ? -EBADF : -EPERM;
		else if (fd == epfd || e.kind != HXS_FD_SOCKET)
			r = -EINVAL;    /* an epoll in an epoll: not on hxs */
	}
	if (!r) {
		if (ev) {
			hev.events = ev->events;
			hev.data = ev->data.u64;
		}
		r = hxs_epoll_ctl(pd->st, ep.obj, op, e.obj, ev ? &hev : NULL);
	}
	pd_trace(pd, "epoll_ctl(%d, %d, %d) = %d", epfd, op, fd, r);
	pd_unlock(pd);
	return (int)pd_ret(r);
}

struct ewait_args {
	int ep;
	struct hxs_event *hev;
	int max;
};

static long try_epoll(struct pd *pd, void *arg)
{
	struct ewait_args *a = arg;
	int n = hxs_epoll_wait(pd->st, a->ep, a->hev, a->max, 0);

	return n == 0 ? -EAGAIN : n;
}

int pd_epoll_wait(void *u, int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	struct pd *pd = u;
	struct ewait_args a = { .max = max };
	struct hxs_fd ep;
	long r;

	if (max <= 0)
		return (int)pd_ret(-EINVAL);
	a.hev = calloc((size_t)max, sizeof(*a.hev));
	if (!a.hev)
		return (int)pd_ret(-ENOMEM);
	pd_lock(pd);
	r = epoll_of(pd, epfd, &ep);
	if (!r) {
		a.ep = ep.obj;
		r = pd_block(pd, timeout_ms == 0, timeout_ms > 0 ? (int64_t)timeout_ms * 1000 : 0,
			     try_epoll, &a);
		if (r == -EAGAIN)
			r = 0;
		for (long i = 0; i < r; i++) {
			evs[i].events = a.hev[i].events;
			evs[i].data.u64 = a.hev[i].data;
		}
	}
	pd_trace(pd, "epoll_wait(%d, %d, %d ms) = %ld", epfd, max, timeout_ms, r);
	pd_unlock(pd);
	free(a.hev);
	return (int)pd_ret(r);
}

int pd_pipe(void *u, int fds[2])
{
	struct pd *pd = u;

	if (pipe(fds))
		return -1;
	pd_lock(pd);
	hxs_fdtab__claim(pd->fds, fds[0]);
	hxs_fdtab__claim(pd->fds, fds[1]);
	pd_unlock(pd);
	return 0;
}

int pd_splice(void *u, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n,
	      unsigned int flags)
{
	struct pd *pd = u;
	struct hxs_fd ein, eout;
	int in_ours, out_ours;
	uint8_t *buf;
	ssize_t r;

	/* packetdrill passes the address of the script's offset, whose NULL is 0: a pipe and a
	 * socket take no offset, so 0 is read as none */
	if (off_in && !*off_in)
		off_in = NULL;
	if (off_out && !*off_out)
		off_out = NULL;
	pd_lock(pd);
	in_ours = !hxs_fdtab__get(pd->fds, fd_in, &ein) && ein.kind == HXS_FD_SOCKET;
	out_ours = !hxs_fdtab__get(pd->fds, fd_out, &eout) && eout.kind == HXS_FD_SOCKET;
	if (!in_ours && !out_ours) {
		pd_unlock(pd);
		return (int)splice(fd_in, off_in, fd_out, off_out, n, flags);
	}
	if ((in_ours && out_ours) || off_in || off_out) {
		pd_unlock(pd);
		return (int)pd_ret(in_ours && out_ours ? -EINVAL : -ESPIPE);
	}
	if (n > 65536)
		n = 65536;      /* a pipe's default capacity */
	buf = malloc(n ? n : 1);
	if (!buf) {
		pd_unlock(pd);
		return (int)pd_ret(-ENOMEM);
	}
	if (in_ours) {
		/* socket -> pipe */
		struct iovec iov = { buf, n };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (flags & SPLICE_F_NONBLOCK)
			ein.flags |= O_NONBLOCK;
		r = pd_sock_recv(pd, &ein, &m, 0);
		pd_unlock(pd);
		if (r > 0)
			r = write(fd_out, buf, (size_t)r) < 0 ? -errno : r;
	} else {
		/* pipe -> socket: what the pipe holds now */
		pd_unlock(pd);
		r = read(fd_in, buf, n);
		if (r < 0)
			r = -errno;
		if (r > 0) {
			struct iovec iov = { buf, (size_t)r };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

			pd_lock(pd);
			r = pd_sock_send(pd, &eout, &m, 0);
			pd_unlock(pd);
		}
	}
	free(buf);
	return (int)pd_ret(r);
}
