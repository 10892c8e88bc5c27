/* pl_data.c - read/write, the send/recv family and sendfile on hxs sockets.
 *
 * Each call on an hxs socket: lock, the hxs call with MSG_DONTWAIT (hxs sockets never block
 * inside), a turn (pl_turn: what was queued leaves now, a window update goes out), unlock.
 * -EAGAIN on a descriptor the program made blocking: pl_wait() for POLLIN / POLLOUT in the
 * kernel without the lock (SO_RCVTIMEO / SO_SNDTIMEO bound it), then again:
 *   send  a blocking stream send returns once everything is queued (tcp_sendmsg), or with
 *         what was queued when the timeout, a signal or an error ended the wait
 *   recv  MSG_WAITALL on a stream waits until the buffers are full, the stream ends or an
 *         error comes; a datagram longer than the buffers sets MSG_TRUNC in msg_flags
 *   EPIPE raises SIGPIPE unless MSG_NOSIGNAL, as the kernel does
 * sendfile: the file read with pread at the offset, what the socket took is what counts,
 * the offset (or the file position) moved by exactly that.
 * Descriptors that are not hxs sockets go to libc (the fd table answers without pl.mu).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "pl.h"

int pl_sock_decide_sendto(int fd, const struct sockaddr *to, socklen_t tolen);
int pl_sock_dest(struct pl_sock *ps, const struct sockaddr *to, socklen_t tolen, struct sockaddr_in *a);
void pl_sock_name_out(struct pl_sock *ps, const struct sockaddr_in *a, struct sockaddr *out,
		      socklen_t *len);

#define PL_IOV_LOCAL 64

int pl_timeo_ms(int hfd, int name)
{
	struct timeval tv = { 0 };
	socklen_t l = sizeof(tv);

	if (hxs_getsockopt(pl.st, hfd, SOL_SOCKET, name, &tv, &l) || (!tv.tv_sec && !tv.tv_usec))
		return -1;
	return (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

/* The first step of a call, lock held: 0 with fd's hxs socket in *ps (*nb: O_NONBLOCK).
 * Else the lock is released: 1 when fd is not hxs's (*handled stays 0: libc's call), or a
 * negative errno (*handled 1). */
static int sock_begin(int fd, struct pl_sock **ps, int *nb, int *handled)
{
	int r = pl_sock_of(fd, ps, nb);

	if (r)
		pl_unlock();
	if (r != 1)
		*handled = 1;
	return r;
}

/* A blocking call's wait, lock held on entry and on return: unlocked, wait for events or
 * timeout_ms (SO_SNDTIMEO / SO_RCVTIMEO: -EAGAIN when it passes), then find fd's socket
 * again (*ps; -EBADF if it went meanwhile). 0 or negative errno. */
static int wait_relocked(int fd, struct pl_sock **ps, short events, int timeout_ms)
{
	int w;

	pl_unlock();
	w = pl_wait(fd, events, timeout_ms);
	pl_lock();
	if (w <= 0)
		return w ? w : -EAGAIN;
	return pl_sock_of(fd, ps, NULL) ? -EBADF : 0;
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* One non-blocking send of hxs (lock held). */
static ssize_t send_once(struct pl_sock *ps, const struct iovec *iov, int n, int flags,
			 const struct sockaddr_in *to)
{
	int f = MSG_DONTWAIT | (flags & MSG_NOSIGNAL);
	ssize_t r;

	if (n == 1 || to) {
		void *buf = n == 1 ? iov[0].iov_base : NULL;
		size_t len = iov_total(iov, n);

		if (n != 1) {
			buf = malloc(len ? len : 1);
			if (!buf)
				return -ENOMEM;
			for (int i = 0, off = 0; i < n; off += (int)iov[i].iov_len, i++)
				memcpy((char *)buf + off, iov[i].iov_base, iov[i].iov_len);
		}
		r = hxs_sendto(pl.st, ps->hfd, buf, len, f, (const struct sockaddr *)to,
			       to ? sizeof(*to) : 0);
		if (n != 1)
			free(buf);
		return r;
	}
	return hxs_writev(pl.st, ps->hfd, iov, n);
}

ssize_t pl_sendv(int fd, const struct iovec *iov, int iovcnt, int flags,
		 const struct sockaddr *to, socklen_t tolen, int *handled)
{
	struct iovec local[PL_IOV_LOCAL], *rest = local;
	struct sockaddr_in a, *ap = NULL;
	struct pl_sock *ps;
	size_t total, done = 0;
	ssize_t r;
	int nb = 0, i = 0, hfd, stream;

	*handled = 0;
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	pl_lock();
	if (to) {
		r = pl_sock_decide_sendto(fd, to, tolen);
		if (r) {
			pl_unlock();
			if (r == 1)
				return 0;
			*handled = 1;
			return r;
		}
	}
	r = sock_begin(fd, &ps, &nb, handled);
	if (r)
		return r == 1 ? 0 : r;
	stream = ps->type == SOCK_STREAM;
	if (to && !stream) {
		r = pl_sock_dest(ps, to, tolen, &a);
		if (r) {
			pl_unlock();
			return r;
		}
		ap = &a;
	}
	nb = nb || (flags & MSG_DONTWAIT);
	hfd = ps->hfd;
	total = iov_total(iov, iovcnt);
	if (iovcnt > PL_IOV_LOCAL) {
		rest = malloc((size_t)iovcnt * sizeof(*rest));
		if (!rest) {
			pl_unlock();
			return -ENOMEM;
		}
	}
	memcpy(rest, iov, (size_t)iovcnt * sizeof(*rest));
	for (;;) {
		while (i < iovcnt - 1 && !rest[i].iov_len)
			i++;
		r = send_once(ps, rest + i, iovcnt - i, flags, ap);
		if (r != -EAGAIN)
			pl_turn();
		if (r > 0) {
			done += (size_t)r;
			for (size_t k = (size_t)r; k && i < iovcnt;) {
				size_t m = k < rest[i].iov_len ? k : rest[i].iov_len;

				rest[i].iov_base = (char *)rest[i].iov_base + m;
				rest[i].iov_len -= m;
				k -= m;
				if (!rest[i].iov_len && i < iovcnt - 1)
					i++;
			}
			if (!stream || nb || done >= total)
				break;
			r = -EAGAIN;    /* a blocking stream: wait for room for the rest */
		}
		if (r != -EAGAIN || nb)
			break;
		r = wait_relocked(fd, &ps, POLLOUT, pl_timeo_ms(hfd, SO_SNDTIMEO));
		if (r)
			break;
	}
	pl_unlock();
	if (rest != local)
		free(rest);
	if (done)
		return (ssize_t)done;
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return r;
}

ssize_t pl_recvv(int fd, const struct iovec *iov, int iovcnt, int flags, struct sockaddr *from,
		 socklen_t *fromlen, int *msg_flags, int *handled)
{
	struct pl_sock *ps;
	struct sockaddr_in a;
	size_t want, done = 0, target;
	ssize_t r;
	int nb = 0, hfd, stream, waitall;
	char *buf = NULL;

	*handled = 0;
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	pl_lock();
	r = sock_begin(fd, &ps, &nb, handled);
	if (r)
		return r == 1 ? 0 : r;
	if (msg_flags)
		*msg_flags = 0;
	stream = ps->type == SOCK_STREAM;
	want = iov_total(iov, iovcnt);
	nb = nb || (flags & MSG_DONTWAIT);
	waitall = stream && (flags & MSG_WAITALL) && !(flags & (MSG_PEEK | MSG_TRUNC));
	hfd = ps->hfd;
	/* tcp_recvmsg's target: the whole length with MSG_WAITALL, else SO_RCVLOWAT (a blocking
	 * read of a stream waits until that many bytes came) */
	target = want;
	if (stream && !waitall && !nb && !(flags & (MSG_PEEK | MSG_TRUNC | MSG_OOB))) {
		int lowat = 1;
		socklen_t ll = sizeof(lowat);

		if (!hxs_getsockopt(pl.st, hfd, SOL_SOCKET, SO_RCVLOWAT, &lowat, &ll) && lowat > 1) {
			waitall = 1;
			if ((size_t)lowat < want)
				target = (size_t)lowat;
		}
	}
	if (iovcnt != 1) {
		buf = malloc(want ? want : 1);
		if (!buf) {
			pl_unlock();
			return -ENOMEM;
		}
	}
	for (;;) {
		socklen_t al = sizeof(a);
		char *dst = (buf ? buf : (char *)iov[0].iov_base) + done;
		/* a datagram's MSG_TRUNC tells its length; a stream's discards (tcp(7)) */
		int f = MSG_DONTWAIT | (flags & MSG_PEEK) | (stream ? flags & MSG_TRUNC : MSG_TRUNC);

		r = hxs_recvfrom(pl.st, hfd, dst, want - done, f, (struct sockaddr *)&a, &al);
		if (r > 0 && !(flags & MSG_PEEK))
			pl_turn();
		if (r >= 0) {
			if (!stream && (size_t)r > want) {
				if (msg_flags)
					*msg_flags |= MSG_TRUNC;
				done = (flags & MSG_TRUNC) ? (size_t)r : want;
				if ((flags & MSG_TRUNC) && done > want)
					r = (ssize_t)want;      /* copied */
				else
					r = (ssize_t)done;
			} else {
				done += (size_t)r;
			}
			if (!stream && from)
				pl_sock_name_out(ps, &a, from, fromlen);
			else if (from && fromlen)
				*fromlen = 0;   /* tcp_recvmsg gives no address */
			if (r == 0 || !waitall || done >= target)
				break;
			r = -EAGAIN;
		}
		if (r != -EAGAIN || nb)
			break;
		r = wait_relocked(fd, &ps, POLLIN, pl_timeo_ms(hfd, SO_RCVTIMEO));
		if (r)
			break;
	}
	pl_unlock();
	if (buf) {
		/* a stream's MSG_TRUNC copied nothing */
		size_t got = stream && (flags & MSG_TRUNC) ? 0 : done < want ? done : want, off = 0;

		for (int i = 0; i < iovcnt && off < got; i++) {
			size_t k = iov[i].iov_len < got - off ? iov[i].iov_len : got - off;

			memcpy(iov[i].iov_base, buf + off, k);
			off += k;
		}
		free(buf);
	}
	if (done || r == 0)
		return (ssize_t)done;
	return r;
}

/* --- the interposed functions ------------------------------------------------------------------ */
#define SENDV(fd, iov, n, fl, to, tl, real)                                              \
	do {                                                                               \
		int h_;                                                                    \
		ssize_t r_;                                                                \
		if (!pl_maybe_ours(fd) && !(to))                                           \
			return real;                                                       \
		r_ = pl_sendv(fd, iov, n, fl, to, tl, &h_);                                \
		if (!h_)                                                                   \
			return real;                                                       \
		return pl_ret(r_);                                                         \
	} while (0)

#define RECVV(fd, iov, n, fl, from, fl_len, mf, real)                                    \
	do {                                                                               \
		int h_;                                                                    \
		ssize_t r_;                                                                \
		if (!pl_maybe_ours(fd))                                                    \
			return real;                                                       \
		r_ = pl_recvv(fd, iov, n, fl, from, fl_len, mf, &h_);                      \
		if (!h_)                                                                   \
			return real;                                                       \
		return pl_ret(r_);                                                         \
	} while (0)

PL_API ssize_t write(int fd, const void *buf, size_t n)
{
	struct iovec v = { (void *)buf, n };

	SENDV(fd, &v, 1, 0, (const struct sockaddr *)NULL, 0, pl_real.write(fd, buf, n));
}

PL_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct iovec v = { (void *)buf, n };

	SENDV(fd, &v, 1, flags, (const struct sockaddr *)NULL, 0, pl_real.send(fd, buf, n, flags));
}

PL_API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		      socklen_t tolen)
{
	struct iovec v = { (void *)buf, n };

	if (pl_inside || !pl.active)
		return pl_real.sendto(fd, buf, n, flags, to, tolen);
	SENDV(fd, &v, 1, flags, to, tolen, pl_real.sendto(fd, buf, n, flags, to, tolen));
}

PL_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
	SENDV(fd, iov, n, 0, (const struct sockaddr *)NULL, 0, pl_real.writev(fd, iov, n));
}

PL_API ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	if (pl_inside || !pl.active)
		return pl_real.sendmsg(fd, m, flags);
	SENDV(fd, m->msg_iov, (int)m->msg_iovlen, flags, (const struct sockaddr *)m->msg_name,
	      m->msg_namelen, pl_real.sendmsg(fd, m, flags));
}

PL_API ssize_t read(int fd, void *buf, size_t n)
{
	struct iovec v = { buf, n };

	RECVV(fd, &v, 1, 0, NULL, NULL, NULL, pl_real.read(fd, buf, n));
}

PL_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	(void)buflen;
	return read(fd, buf, n);
}

PL_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct iovec v = { buf, n };

	RECVV(fd, &v, 1, flags, NULL, NULL, NULL, pl_real.recv(fd, buf, n, flags));
}

PL_API ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	(void)buflen;
	return recv(fd, buf, n, flags);
}

PL_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
			socklen_t *fromlen)
{
	struct iovec v = { buf, n };

	RECVV(fd, &v, 1, flags, from, fromlen, NULL, pl_real.recvfrom(fd, buf, n, flags, from, fromlen));
}

PL_API ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
			      struct sockaddr *from, socklen_t *fromlen)
{
	(void)buflen;
	return recvfrom(fd, buf, n, flags, from, fromlen);
}

PL_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
	RECVV(fd, iov, n, 0, NULL, NULL, NULL, pl_real.readv(fd, iov, n));
}

PL_API ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	int mf = 0, h;
	ssize_t r;

	if (!pl_maybe_ours(fd))
		return pl_real.recvmsg(fd, m, flags);
	r = pl_recvv(fd, m->msg_iov, (int)m->msg_iovlen, flags, (struct sockaddr *)m->msg_name,
		     m->msg_name ? &m->msg_namelen : NULL, &mf, &h);
	if (!h)
		return pl_real.recvmsg(fd, m, flags);
	if (r >= 0) {
		m->msg_flags = mf;
		m->msg_controllen = 0;
		if (!m->msg_name)
			m->msg_namelen = 0;
	}
	return pl_ret(r);
}

#define PL_SENDFILE_CHUNK (256u << 10)

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count)
{
	static __thread char *buf;
	off_t pos = off ? *off : lseek(in, 0, SEEK_CUR);
	size_t done = 0;
	ssize_t r = 0;
	int h;

	if (pos < 0)
		return -errno;
	if (!buf && !(buf = malloc(PL_SENDFILE_CHUNK)))
		return -ENOMEM;
	while (done < count) {
		size_t k = count - done < PL_SENDFILE_CHUNK ? count - done : PL_SENDFILE_CHUNK;
		struct iovec v;

		r = pread(in, buf, k, pos + (off_t)done);
		if (r <= 0) {
			r = r < 0 ? -errno : 0;
			break;
		}
		v = (struct iovec){ buf, (size_t)r };
		r = pl_sendv(out, &v, 1, MSG_NOSIGNAL, NULL, 0, &h);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < v.iov_len)
			break;          /* the socket took less: non-blocking and full */
	}
	if (off)
		*off = pos + (off_t)done;
	else
		lseek(in, pos + (off_t)done, SEEK_SET);
	if (done)
		return (ssize_t)done;
	if (r == -EPIPE)
		raise(SIGPIPE);
	return r;
}

PL_API ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (!pl_maybe_ours(out))
		return pl_real.sendfile(out, in, off, count);
	return pl_ret(do_sendfile(out, in, off, count));
}

PL_API ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}
