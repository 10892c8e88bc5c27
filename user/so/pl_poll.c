/* pl_poll.c - waiting: poll/ppoll/select/pselect and epoll over kernel and hxs fds at once,
 * and the waits of blocking calls.
 *
 * An hxs socket is not a kernel file the kernel can wait on, so a wait is done on an eventfd:
 * struct pl_ep is an hxs epoll instance whose ready list writes its eventfd (nfd) when it
 * stops being empty (hxs_epoll__set_notify, from inside the stack's turn). The eventfd is
 * read again, under pl.mu, only once the list is empty, so a wake-up cannot be lost.
 *
 * epoll_ctl(kfd, fd = hxs socket)  -> the kfd's pl_ep (made at the first hxs socket, its nfd
 *                                     added to kfd with data.ptr = the pl_ep), hxs_epoll_ctl
 * epoll_wait(kfd)                  -> what hxs has ready (hxs_epoll_wait, no wait) first, then
 *                                     the kernel's epoll_wait for the rest (no wait when hxs
 *                                     had some); nfd's own event is not reported; the kernel
 *                                     waking us for nfd only means: look at hxs again
 * poll / select                    -> each hxs fd's readiness now (hxs_poll_events); none
 *                                     ready: each registered with the thread's own pl_ep,
 *                                     the kernel's ppoll on the other fds + nfd, look again
 * pl_wait(fd, events, ms)          -> the waits of blocking calls: the fd registered with the
 *                                     thread's pl_ep; no timeout: a blocking read(2) of its
 *                                     eventfd; a timeout: ppoll(2) on it
 * Signals (signal(7), "Interruption of system calls"): poll, ppoll, select, pselect and
 * epoll_wait wait in ppoll/epoll_pwait, which a handler interrupts with EINTR whatever its
 * SA_RESTART, as the kernel's own. A blocking accept/recv/send/connect without a socket
 * timeout waits in read(2), which the kernel restarts after an SA_RESTART handler and ends
 * with EINTR otherwise; with SO_RCVTIMEO/SO_SNDTIMEO set it waits in ppoll: EINTR always.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pl.h"
#include "so_poll.h"
#include "net/stack.h"
#include "sock/sock.h"

static __thread struct pl_ep *tw;    /* the thread's own, for poll/select/blocking calls */

static void ep_notify(void *ctx)
{
	struct pl_ep *ep = ctx;
	uint64_t one = 1;

	if (!ep->signaled) {
		ep->signaled = 1;
		(void)!pl_real.write(ep->nfd, &one, sizeof(one));
	}
}

/* Lock held. */
static void ep_drain(struct pl_ep *ep)
{
	uint64_t v;

	if (ep->signaled && pl.st && hxs_epoll__pending(pl.st, ep->hep) <= 0) {
		(void)!pl_real.read(ep->nfd, &v, sizeof(v));
		ep->signaled = 0;
	}
}

/* kfd < 0: a thread's, whose eventfd blocks (pl_wait reads it); a program epoll set's does
 * not block. */
static struct pl_ep *ep_new(int kfd)
{
	struct pl_ep *ep = calloc(1, sizeof(*ep));
	int err = 0;

	if (!ep || !pl_stack(&err))
		goto fail;
	ep->kfd = kfd;
	ep->refs = 1;
	ep->gen = pl.gen;
	ep->nfd = eventfd(0, (kfd >= 0 ? EFD_NONBLOCK : 0) | EFD_CLOEXEC);
	if (ep->nfd < 0)
		goto fail;
	ep->hep = hxs_epoll_create(pl.st);
	if (ep->hep < 0) {
		pl_real.close(ep->nfd);
		goto fail;
	}
	hxs_epoll__set_notify(pl.st, ep->hep, ep_notify, ep);
	return ep;
fail:
	free(ep);
	return NULL;
}

static void ep_free(struct pl_ep *ep)
{
	if (pl.st && ep->gen == pl.gen)
		hxs_epoll_close(pl.st, ep->hep);
	pl_real.close(ep->nfd);
	free(ep);
}

/* The thread's pl_ep for the stack of now (lock held). */
static struct pl_ep *thread_ep(void)
{
	if (tw && tw->gen != pl.gen) {
		pl_real.close(tw->nfd);     /* its hxs instance went with the old stack */
		free(tw);
		tw = NULL;
	}
	if (!tw)
		tw = ep_new(-1);
	return tw;
}

/* Several numbers may name one kernel epoll instance (dup): the pl_ep is shared, counted. */
static void ep_unref(struct pl_ep *ep, int hxs_too)
{
	if (--ep->refs > 0)
		return;
	if (hxs_too) {
		ep_free(ep);
	} else {
		pl_real.close(ep->nfd);
		free(ep);
	}
}

void pl_ep_forget(int kfd)
{
	if (kfd >= 0 && kfd < pl.neps && pl.eps[kfd]) {
		ep_unref(pl.eps[kfd], 1);
		pl.eps[kfd] = NULL;
	}
}

static int eps_grow(int kfd)
{
	int m = pl.neps ? pl.neps : 64;
	struct pl_ep **a;

	if (kfd < pl.neps)
		return 0;
	while (kfd >= m)
		m *= 2;
	a = realloc(pl.eps, (size_t)m * sizeof(*a));
	if (!a)
		return -ENOMEM;
	memset(a + pl.neps, 0, (size_t)(m - pl.neps) * sizeof(*a));
	pl.eps = a;
	pl.neps = m;
	return 0;
}

void pl_ep_dup(int old, int new)
{
	pl_ep_forget(new);
	if (old < 0 || old >= pl.neps || !pl.eps[old] || new < 0 || eps_grow(new))
		return;
	pl.eps[new] = pl.eps[old];
	pl.eps[new]->refs++;
}

/* The stack is closing (lock held): its epoll instances go with it. */
void pl_ep_drop_all(void)
{
	for (int i = 0; i < pl.neps; i++)
		if (pl.eps[i]) {
			ep_unref(pl.eps[i], 0);
			pl.eps[i] = NULL;
		}
}

/* In a child after fork: the parent's stack is not here; the records go (the eventfds stay,
 * as members of the kernel epoll sets the child shares with its parent). */
void pl_ep_fork_child(void)
{
	for (int i = 0; i < pl.neps; i++)
		if (pl.eps[i]) {
			if (--pl.eps[i]->refs == 0)
				free(pl.eps[i]);
			pl.eps[i] = NULL;
		}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left > 0 ? (int)left : 0;
}

/* --- poll ---------------------------------------------------------------------------------- */
static short hxs_revents(int fd, short events, int *hfd)
{
	struct pl_sock *ps;
	int m;

	if (pl_sock_of(fd, &ps, NULL))
		return POLLNVAL;
	*hfd = ps->hfd;
	m = hxs_poll_events(pl.st, ps->hfd);
	if (m < 0)
		return POLLNVAL;
	return hxs_so_revents(m, events);
}

/* handled 0: no hxs fd in the set, the caller asks the kernel. */
static int poll_impl(struct pollfd *fds, nfds_t n, int timeout_ms, const sigset_t *mask,
		     int *handled)
{
	struct pollfd local[64], *kp = local;
	int idx_local[64], *kidx = idx_local, hidx_local[64], *hfds = hidx_local;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	nfds_t nh = 0;
	int registered = 0, total = 0, err = 0;
	struct pl_ep *ep = NULL;

	*handled = 0;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && pl_maybe_ours(fds[i].fd))
			nh++;
	if (!nh)
		return 0;
	*handled = 1;
	if (n + 1 > 64) {
		kp = malloc((n + 1) * sizeof(*kp));
		kidx = malloc((n + 1) * sizeof(*kidx));
		hfds = malloc(n * sizeof(*hfds));
		if (!kp || !kidx || !hfds) {
			err = -ENOMEM;
			goto out_free;
		}
	}
	for (;;) {
		int ready = 0, kn = 0, t, r;
		struct timespec ts;

		pl_lock();
		ep = thread_ep();
		if (!ep) {
			pl_unlock();
			err = -ENOMEM;
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			hfds[i] = -1;
			if (fds[i].fd < 0 || !pl_is_ours(fds[i].fd)) {
				if (fds[i].fd >= 0) {
					kp[kn] = fds[i];
					kp[kn].revents = 0;
					kidx[kn++] = (int)i;
				} else {
					fds[i].revents = 0;
				}
				continue;
			}
			fds[i].revents = hxs_revents(fds[i].fd, fds[i].events, &hfds[i]);
			if (!registered && hfds[i] >= 0) {
				struct hxs_event ev = {
					.events = (uint32_t)fds[i].events & (POLLIN | POLLOUT | POLLPRI | POLLRDHUP),
					.data = i,
				};

				hxs_epoll_ctl(pl.st, ep->hep, EPOLL_CTL_ADD, hfds[i], &ev);
			}
			if (fds[i].revents)
				ready++;
		}
		registered = 1;
		if (!ready)
			ep_drain(ep);
		pl_unlock();
		kp[kn] = (struct pollfd){ .fd = ep->nfd, .events = POLLIN };
		t = ready ? 0 : remaining(deadline);
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		r = pl_real.ppoll(kp, (nfds_t)kn + 1, t < 0 ? NULL : &ts, mask);
		if (r < 0) {
			err = -errno;
			break;
		}
		for (int k = 0; k < kn; k++) {
			fds[kidx[k]].revents = kp[k].revents;
			if (kp[k].revents)
				ready++;
		}
		total = ready;
		if (total || t == 0)
			break;
	}
	if (registered && ep) {
		pl_lock();
		if (ep->gen == pl.gen && pl.st)
			for (nfds_t i = 0; i < n; i++)
				if (hfds[i] >= 0)
					hxs_epoll_ctl(pl.st, ep->hep, EPOLL_CTL_DEL, hfds[i], NULL);
		ep_drain(ep);
		pl_unlock();
	}
out_free:
	if (kp != local) {
		free(kp);
		free(kidx);
		free(hfds);
	}
	return err ? err : total;
}

/* A blocking call's wait (README "Signals"). Without a timeout the wait is a blocking read(2)
 * of the thread's eventfd, a call the kernel itself restarts after a handler installed with
 * SA_RESTART and interrupts with EINTR otherwise: the program's signal dispositions decide,
 * as for the kernel's own blocking socket calls. With a timeout (SO_RCVTIMEO/SO_SNDTIMEO)
 * the wait is ppoll(2), which a handler interrupts with EINTR whatever its flags, as
 * signal(7) says of socket calls with a timeout set. */
int pl_wait(int fd, short events, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pl_ep *ep = NULL;
	int hfd = -1, r = 0;

	for (;;) {
		short rev;
		uint64_t v;
		int t;

		pl_lock();
		ep = thread_ep();
		if (!ep) {
			pl_unlock();
			return -ENOMEM;
		}
		rev = hxs_revents(fd, events, &hfd);
		if (rev & POLLNVAL) {
			r = -EBADF;
		} else if (rev) {
			r = 1;
		} else {
			struct hxs_event ev = { .events = (uint32_t)events & (POLLIN | POLLOUT) };

			/* EEXIST on the second turn: registered already */
			hxs_epoll_ctl(pl.st, ep->hep, EPOLL_CTL_ADD, hfd, &ev);
			/* the ready list emptied of what is not ready (so that the next readiness
			 * notifies again); something ready after all: look again */
			if (hxs_epoll_wait(pl.st, ep->hep, &ev, 1, 0) > 0)
				r = 2;
			else
				ep_drain(ep);
		}
		pl_unlock();
		if (r == 2) {
			r = 0;
			continue;
		}
		if (r)
			break;
		t = remaining(deadline);
		if (t == 0)
			break;
		if (t < 0) {
			if (pl_real.read(ep->nfd, &v, sizeof(v)) < 0 && errno == EINTR) {
				r = -EINTR;
				break;
			}
			pl_lock();
			ep->signaled = 0;   /* read: the counter is 0, notify may write again */
			pl_unlock();
		} else {
			struct pollfd p = { .fd = ep->nfd, .events = POLLIN };
			struct timespec ts = { t / 1000, (long)(t % 1000) * 1000000 };

			if (pl_real.ppoll(&p, 1, &ts, NULL) < 0 && errno == EINTR) {
				r = -EINTR;
				break;
			}
		}
	}
	if (hfd >= 0) {
		pl_lock();
		if (ep->gen == pl.gen && pl.st)
			hxs_epoll_ctl(pl.st, ep->hep, EPOLL_CTL_DEL, hfd, NULL);
		ep_drain(ep);
		pl_unlock();
	}
	return r;
}

PL_API int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int h, r;

	if (pl_inside || !pl.active)
		return pl_real.poll(fds, n, timeout_ms);
	r = poll_impl(fds, n, timeout_ms, NULL, &h);
	return h ? (int)pl_ret(r) : pl_real.poll(fds, n, timeout_ms);
}

PL_API int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
	(void)fdslen;
	return poll(fds, n, timeout_ms);
}

static int ts_ms(const struct timespec *ts)
{
	int64_t ms;

	if (!ts)
		return -1;
	ms = (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

PL_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	int h, r;

	if (pl_inside || !pl.active)
		return pl_real.ppoll(fds, n, ts, mask);
	r = poll_impl(fds, n, ts_ms(ts), mask, &h);
	return h ? (int)pl_ret(r) : pl_real.ppoll(fds, n, ts, mask);
}

/* select on top of poll_impl; handled 0: no hxs fd in the sets. */
static int select_impl(int nfds, fd_set *r, fd_set *w, fd_set *x, int timeout_ms,
		       const sigset_t *mask, int *handled)
{
	struct pollfd *p;
	int n = 0, res, cnt = 0, any = 0;

	*handled = 0;
	if (nfds < 0 || nfds > FD_SETSIZE)
		return 0;
	for (int fd = 0; fd < nfds; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) &&
		    pl_maybe_ours(fd))
			any = 1;
	if (!any)
		return 0;
	*handled = 1;
	p = calloc((size_t)nfds + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) |
				   (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
				   (x && FD_ISSET(fd, x) ? POLLPRI : 0));

		if (ev)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	res = poll_impl(p, (nfds_t)n, timeout_ms, mask, handled);
	if (res < 0) {
		free(p);
		return res;
	}
	for (int i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			free(p);
			return -EBADF;
		}
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (x)
		FD_ZERO(x);
	for (int i = 0; i < n; i++) {
		short rv = p[i].revents, ev = p[i].events;

		if ((ev & POLLIN) && (rv & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, r);
			cnt++;
		}
		if ((ev & POLLOUT) && (rv & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, w);
			cnt++;
		}
		if ((ev & POLLPRI) && (rv & POLLPRI)) {
			FD_SET(p[i].fd, x);
			cnt++;
		}
	}
	free(p);
	return cnt;
}

PL_API int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	int h, res, ms;
	int64_t start;

	if (pl_inside || !pl.active)
		return pl_real.select(nfds, r, w, x, tv);
	ms = tv ? (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000) : -1;
	start = now_ms();
	res = select_impl(nfds, r, w, x, ms, NULL, &h);
	if (!h)
		return pl_real.select(nfds, r, w, x, tv);
	if (tv && res >= 0) {
		/* Linux writes back the time not slept */
		int64_t left = (int64_t)ms - (now_ms() - start);

		if (left < 0 || res == 0)
			left = 0;
		tv->tv_sec = left / 1000;
		tv->tv_usec = (left % 1000) * 1000;
	}
	return (int)pl_ret(res);
}

PL_API int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
		   const sigset_t *mask)
{
	int h, res;

	if (pl_inside || !pl.active)
		return pl_real.pselect(nfds, r, w, x, ts, mask);
	res = select_impl(nfds, r, w, x, ts_ms(ts), mask, &h);
	if (!h)
		return pl_real.pselect(nfds, r, w, x, ts, mask);
	return (int)pl_ret(res);
}

/* --- epoll ---------------------------------------------------------------------------------- */
/* epoll_ctl of an hxs socket in the program's epoll set kfd (lock held). */
int pl_ep_ctl(int kfd, int op, struct pl_sock *ps, const struct epoll_event *ev)
{
	struct hxs_event hev = { 0 };
	struct pl_ep *ep;

	ep = kfd >= 0 && kfd < pl.neps ? pl.eps[kfd] : NULL;
	if (!ep) {
		struct epoll_event kev = { .events = EPOLLIN };
		int r;

		if (kfd < 0 || pl_real.fcntl(kfd, F_GETFD) < 0)
			return -EBADF;
		if (op != EPOLL_CTL_ADD)
			return -ENOENT;
		if (eps_grow(kfd))
			return -ENOMEM;
		ep = ep_new(kfd);
		if (!ep)
			return -ENOMEM;
		kev.data.ptr = ep;
		if (pl_real.epoll_ctl(kfd, EPOLL_CTL_ADD, ep->nfd, &kev)) {
			r = -errno;
			ep_free(ep);
			return r;
		}
		pl.eps[kfd] = ep;
	}
	if (ev) {
		hev.events = ev->events;
		hev.data = ev->data.u64;
	}
	return hxs_epoll_ctl(pl.st, ep->hep, op, ps->hfd, ev ? &hev : NULL);
}

PL_API int epoll_ctl(int kfd, int op, int fd, struct epoll_event *ev)
{
	struct pl_sock *ps;
	int r;

	if (pl_inside || !pl.active)
		return pl_real.epoll_ctl(kfd, op, fd, ev);
	if (!pl_maybe_ours(fd)) {
		r = pl_real.epoll_ctl(kfd, op, fd, ev);
		if (!r)
			pl_sock_pend_epoll(fd, kfd, op, ev);
		return r;
	}
	pl_lock();
	r = pl_sock_of(fd, &ps, NULL);
	if (r) {
		pl_unlock();
		return r == 1 ? pl_real.epoll_ctl(kfd, op, fd, ev) : (int)pl_ret(r);
	}
	r = pl_ep_ctl(kfd, op, ps, ev);
	pl_unlock();
	return (int)pl_ret(r);
}

#define PL_EVBATCH 256

static int epoll_impl(int kfd, struct epoll_event *evs, int max, int timeout_ms,
		      const sigset_t *mask, int *handled)
{
	struct hxs_event hev[PL_EVBATCH];
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pl_ep *ep;

	*handled = 0;
	if (max <= 0)
		return -EINVAL;
	for (;;) {
		int n = 0, k, t, out;

		pl_lock();
		ep = kfd >= 0 && kfd < pl.neps ? pl.eps[kfd] : NULL;
		if (!ep) {
			pl_unlock();
			return 0;
		}
		*handled = 1;
		n = hxs_epoll_wait(pl.st, ep->hep, hev, max < PL_EVBATCH ? max : PL_EVBATCH, 0);
		if (n < 0)
			n = 0;
		for (int i = 0; i < n; i++) {
			evs[i].events = hev[i].events;
			evs[i].data.u64 = hev[i].data;
		}
		ep_drain(ep);
		pl_unlock();
		if (n == max)
			return n;
		t = n ? 0 : remaining(deadline);
		k = pl_real.epoll_pwait(kfd, evs + n, max - n, t, mask);
		if (k < 0)
			return n ? n : -errno;
		out = n;
		for (int i = n; i < n + k; i++)
			if (evs[i].data.ptr != ep)
				evs[out++] = evs[i];
		if (out || t == 0)
			return out;
	}
}

PL_API int epoll_wait(int kfd, struct epoll_event *evs, int max, int timeout_ms)
{
	int h, r;

	if (pl_inside || !pl.active)
		return pl_real.epoll_wait(kfd, evs, max, timeout_ms);
	r = epoll_impl(kfd, evs, max, timeout_ms, NULL, &h);
	return h ? (int)pl_ret(r) : pl_real.epoll_wait(kfd, evs, max, timeout_ms);
}

PL_API int epoll_pwait(int kfd, struct epoll_event *evs, int max, int timeout_ms,
		       const sigset_t *mask)
{
	int h, r;

	if (pl_inside || !pl.active)
		return pl_real.epoll_pwait(kfd, evs, max, timeout_ms, mask);
	r = epoll_impl(kfd, evs, max, timeout_ms, mask, &h);
	return h ? (int)pl_ret(r) : pl_real.epoll_pwait(kfd, evs, max, timeout_ms, mask);
}
