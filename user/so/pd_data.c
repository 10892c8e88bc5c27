/* pd_data.c - read/write and the send/recv family of the packetdrill target.
 *
 * Every variant becomes one msghdr and goes to pd_sock_recv() / pd_sock_send():
 *   recv:  pd_block(try_recv): hxs_recvfrom(MSG_DONTWAIT, and MSG_PEEK/MSG_OOB as given; MSG_OOB
 *          never blocks and sets MSG_OOB in msg_flags) into one buffer, scattered into the
 *          caller's iovec; MSG_WAITALL on a stream keeps waiting until the buffer is full, the
 *          stream ends or an error comes (what was read so far is the answer then); a UDP
 *          datagram longer than the buffer sets MSG_TRUNC in msg_flags; a stream reports no
 *          source address (namelen 0), as tcp_recvmsg
 *   send:  a blocking stream send returns once everything is queued (tcp_sendmsg waits for
 *          room as often as it takes), or with what was queued when SO_SNDTIMEO or an error
 *          ends the wait; non-blocking and datagram sends try once; MSG_OOB is passed on
 * A descriptor that is not ours (a pipe of pd_pipe) goes to libc without the lock held (it
 * may block in the kernel); a write there still wakes a call waiting in poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pd.h"

static size_t iov_total(const struct iovec *iov, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

struct recv_args {
	int sfd;
	int flags;              /* passed to hxs: MSG_PEEK, MSG_TRUNC */
	int waitall;
	size_t target;          /* a blocking stream read: bytes to wait for (MSG_WAITALL: all,
				 * else SO_RCVLOWAT) */
	uint8_t *buf;
	size_t want, done;
	struct sockaddr_in from;
	socklen_t fromlen;
	long full;              /* a datagram's whole length */
	void *ctl;              /* the caller's control buffer: a datagram's control messages */
	size_t ctllen, ctlused;
	int mflags;             /* msg_flags hxs_recvmsg set (MSG_CTRUNC) */
};

static long try_recv(struct pd *pd, void *arg)
{
	struct recv_args *a = arg;
	long r;

	struct iovec iov = { a->buf + a->done, a->want - a->done };
	struct msghdr m = { .msg_name = &a->from, .msg_namelen = sizeof(a->from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = a->ctl, .msg_controllen = a->ctllen };

	r = hxs_recvmsg(pd->st, a->sfd, &m, a->flags | MSG_DONTWAIT);
	a->fromlen = m.msg_namelen;
	if (r >= 0) {
		a->ctlused = m.msg_controllen;
		a->mflags = m.msg_flags;
	}
	if (r > 0) {
		a->full = r;
		if (!a->waitall) {
			a->done += (size_t)r < a->want - a->done ? (size_t)r : a->want - a->done;
			return (long)a->done;
		}
		a->done += (size_t)r;
		return a->done < a->target ? -EAGAIN : (long)a->done;
	}
	if (r == 0 || (r < 0 && r != -EAGAIN && a->done))
		return (long)a->done;          /* end of stream, or an error after some data */
	return r;
}

ssize_t pd_sock_recv(struct pd *pd, const struct hxs_fd *e, struct msghdr *msg, int flags)
{
	struct recv_args a = { .sfd = e->obj };
	int type = 0;
	socklen_t tl = sizeof(type);
	size_t want = iov_total(msg->msg_iov, msg->msg_iovlen);
	long r;

	if (hxs_getsockopt(pd->st, e->obj, SOL_SOCKET, SO_TYPE, &type, &tl))
		return -EBADF;
	a.want = want;
	a.buf = malloc(want ? want : 1);
	if (!a.buf)
		return -ENOMEM;
	a.flags = flags & (MSG_PEEK | MSG_OOB);
	/* a datagram's length, to tell truncation; a stream's MSG_TRUNC discards (tcp(7)) */
	if (type == SOCK_DGRAM || (flags & MSG_TRUNC))
		a.flags |= MSG_TRUNC;
	a.target = want;
	if (type == SOCK_DGRAM) {
		a.ctl = msg->msg_control;
		a.ctllen = msg->msg_control ? msg->msg_controllen : 0;
	}
	if (type == SOCK_STREAM && !(flags & (MSG_WAITALL | MSG_OOB | MSG_PEEK | MSG_TRUNC)) &&
	    !(e->flags & O_NONBLOCK) && !(flags & MSG_DONTWAIT)) {
		/* tcp_recvmsg's target without MSG_WAITALL: SO_RCVLOWAT, at most the length */
		int lowat = 1;
		socklen_t ll = sizeof(lowat);

		if (!hxs_getsockopt(pd->st, e->obj, SOL_SOCKET, SO_RCVLOWAT, &lowat, &ll) &&
		    (size_t)lowat < want)
			a.target = (size_t)lowat;
	}
	a.waitall = type == SOCK_STREAM && !(flags & (MSG_OOB | MSG_PEEK | MSG_TRUNC)) && want &&
		    ((flags & MSG_WAITALL) || a.target > 1);
	/* MSG_OOB never blocks (tcp_recv_urg) */
	r = pd_block(pd, (e->flags & O_NONBLOCK) || (flags & (MSG_DONTWAIT | MSG_OOB)),
		     pd_timeo(pd, e->obj, SO_RCVTIMEO), try_recv, &a);
	if (r == -EAGAIN && a.done)
		r = (long)a.done;               /* SO_RCVTIMEO ended a MSG_WAITALL read */
	msg->msg_flags = 0;
	if (r >= 0) {
		/* a stream's MSG_TRUNC copied nothing */
		size_t got = type == SOCK_STREAM && (flags & MSG_TRUNC) ? 0
			     : (size_t)r < want ? (size_t)r : want;
		size_t off = 0;

		for (size_t i = 0; i < msg->msg_iovlen && off < got; i++) {
			size_t k = msg->msg_iov[i].iov_len < got - off ? msg->msg_iov[i].iov_len : got - off;

			memcpy(msg->msg_iov[i].iov_base, a.buf + off, k);
			off += k;
		}
		if (flags & MSG_OOB)
			msg->msg_flags |= MSG_OOB;      /* tcp_recv_urg: "Read urgent data" */
		if (type == SOCK_DGRAM && a.full > (long)want) {
			/* recv(2): "MSG_TRUNC ... return the real length of the packet or
			 * datagram, even when it was longer than the passed buffer" */
			msg->msg_flags |= MSG_TRUNC;
			r = (flags & MSG_TRUNC) ? a.full : (long)want;
		}
		if (msg->msg_name) {
			socklen_t n = type == SOCK_DGRAM ? a.fromlen : 0;

			memcpy(msg->msg_name, &a.from, msg->msg_namelen < n ? msg->msg_namelen : n);
			msg->msg_namelen = n;
		}
		msg->msg_controllen = a.ctlused;
		msg->msg_flags |= a.mflags & MSG_CTRUNC;
	}
	free(a.buf);
	return r;
}

struct send_args {
	int sfd;
	int flags;              /* passed to hxs: MSG_OOB */
	int all;                /* a blocking stream: until everything is queued */
	const uint8_t *buf;
	size_t len, done;
	const struct sockaddr *to;
	socklen_t tolen;
	void *ctl;              /* a datagram's control messages (IP_TTL, IP_TOS, IP_PKTINFO) */
	size_t ctllen;
};

static long try_send(struct pd *pd, void *arg)
{
	struct send_args *a = arg;
	struct iovec iov = { (void *)(a->buf + a->done), a->len - a->done };
	struct msghdr m = { .msg_name = (void *)a->to, .msg_namelen = a->to ? a->tolen : 0,
			    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = a->ctl,
			    .msg_controllen = a->ctllen };
	long r = hxs_sendmsg(pd->st, a->sfd, &m, MSG_DONTWAIT | a->flags);

	if (r < 0)
		return r == -EAGAIN || !a->done ? r : (long)a->done;
	a->done += (size_t)r;
	if (a->all && a->done < a->len)
		return -EAGAIN;
	return (long)a->done;
}

ssize_t pd_sock_send(struct pd *pd, const struct hxs_fd *e, const struct msghdr *msg, int flags)
{
	struct send_args a = { .sfd = e->obj, .flags = flags & MSG_OOB, .to = msg->msg_name,
			       .tolen = msg->msg_namelen };
	int type = 0;
	socklen_t tl = sizeof(type);
	uint8_t *buf;
	size_t off = 0;
	int nonblock = (e->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	long r;

	if (hxs_getsockopt(pd->st, e->obj, SOL_SOCKET, SO_TYPE, &type, &tl))
		return -EBADF;
	if (type == SOCK_STREAM) {
		a.to = NULL;            /* tcp_sendmsg ignores a destination */
		a.tolen = 0;
	} else {
		a.ctl = msg->msg_control;
		a.ctllen = msg->msg_control ? msg->msg_controllen : 0;
	}
	a.len = iov_total(msg->msg_iov, msg->msg_iovlen);
	buf = malloc(a.len ? a.len : 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		memcpy(buf + off, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
		off += msg->msg_iov[i].iov_len;
	}
	a.buf = buf;
	a.all = type == SOCK_STREAM && !nonblock && a.len;
	r = pd_block(pd, nonblock, pd_timeo(pd, e->obj, SO_SNDTIMEO), try_send, &a);
	if (r == -EAGAIN && a.done)
		r = (long)a.done;               /* SO_SNDTIMEO ended the wait for room */
	free(buf);
	return r;
}

static ssize_t do_recvmsg(struct pd *pd, int fd, struct msghdr *msg, int flags, int plain_read)
{
	struct hxs_fd e;
	ssize_t r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (r == -ENOTSOCK && plain_read && hxs_fdtab__get(pd->fds, fd, &e)) {
		pd_unlock(pd);
		return readv(fd, msg->msg_iov, (int)msg->msg_iovlen);
	}
	if (!r)
		r = pd_sock_recv(pd, &e, msg, flags);
	pd_trace(pd, "recv(%d, %zu, %#x) = %zd", fd, iov_total(msg->msg_iov, msg->msg_iovlen),
		 (unsigned)flags, r);
	pd_unlock(pd);
	return pd_ret(r);
}

static ssize_t do_sendmsg(struct pd *pd, int fd, const struct msghdr *msg, int flags, int plain_write)
{
	struct hxs_fd e;
	ssize_t r;

	pd_lock(pd);
	r = pd_sock_of(pd, fd, &e);
	if (r == -ENOTSOCK && plain_write && hxs_fdtab__get(pd->fds, fd, &e)) {
		pd_unlock(pd);
		r = writev(fd, msg->msg_iov, (int)msg->msg_iovlen);
		if (r >= 0) {
			/* a caller polling the pipe (pd_poll) looks again */
			pd_lock(pd);
			pd_turn(pd, 1);
			pd_unlock(pd);
		}
		return r;
	}
	if (!r)
		r = pd_sock_send(pd, &e, msg, flags);
	pd_trace(pd, "send(%d, %zu, %#x) = %zd", fd, iov_total(msg->msg_iov, msg->msg_iovlen),
		 (unsigned)flags, r);
	pd_unlock(pd);
	return pd_ret(r);
}

ssize_t pd_read(void *u, int fd, void *buf, size_t n)
{
	struct iovec iov = { buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return do_recvmsg(u, fd, &m, 0, 1);
}

ssize_t pd_readv(void *u, int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt < 0 ? 0 : (size_t)iovcnt };

	if (iovcnt < 0)
		return pd_ret(-EINVAL);
	return do_recvmsg(u, fd, &m, 0, 1);
}

ssize_t pd_recv(void *u, int fd, void *buf, size_t n, int flags)
{
	return pd_recvfrom(u, fd, buf, n, flags, NULL, NULL);
}

ssize_t pd_recvfrom(void *u, int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		    socklen_t *fromlen)
{
	struct iovec iov = { buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (from && fromlen) {
		m.msg_name = from;
		m.msg_namelen = *fromlen;
	}
	r = do_recvmsg(u, fd, &m, flags, 0);
	if (r >= 0 && from && fromlen)
		*fromlen = m.msg_namelen;
	return r;
}

ssize_t pd_recvmsg(void *u, int fd, struct msghdr *msg, int flags)
{
	return do_recvmsg(u, fd, msg, flags, 0);
}

ssize_t pd_write(void *u, int fd, const void *buf, size_t n)
{
	struct iovec iov = { (void *)buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return do_sendmsg(u, fd, &m, 0, 1);
}

ssize_t pd_writev(void *u, int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt < 0 ? 0 : (size_t)iovcnt };

	if (iovcnt < 0)
		return pd_ret(-EINVAL);
	return do_sendmsg(u, fd, &m, 0, 1);
}

ssize_t pd_send(void *u, int fd, const void *buf, size_t n, int flags)
{
	return pd_sendto(u, fd, buf, n, flags, NULL, 0);
}

ssize_t pd_sendto(void *u, int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		  socklen_t tolen)
{
	struct iovec iov = { (void *)buf, n };
	struct msghdr m = { .msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
			    .msg_iov = &iov, .msg_iovlen = 1 };

	return do_sendmsg(u, fd, &m, flags, 0);
}

ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *msg, int flags)
{
	return do_sendmsg(u, fd, msg, flags, 0);
}
