/* epoll.c - epoll-shaped readiness events for hxs sockets.
 *
 * protocol -> hxs_sock__wake(sk) -> hxs_epoll__notify(sk, mask) -> item onto its ready list
 *                                   (epoll_item.c, below the socket API)
 * hxs_epoll_wait() -> hxs_tcp_sock__push() -> hxs_stack__poll() -> collect(): report the
 *                   ready items
 *
 * Like the kernel's eventpoll: an item is queued when its socket signals readiness that
 * matches its interest (EPOLLERR and EPOLLHUP always count). At wait time the socket's
 * current mask is re-read: nothing left -> dropped from the list; level-triggered items go
 * back to the tail to be reported again, edge-triggered ones wait for the next wake (new data,
 * new room, new state), EPOLLONESHOT ones are disarmed until EPOLL_CTL_MOD. Nothing scans the
 * sockets of an instance.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "epoll_item.h"
#include "net/stack.h"
#include "tcp_sock.h"

static struct hxs_epoll *ep_get(struct hxs_stack *st, int epfd)
{
	if (epfd < 0 || epfd >= st->sockets->neps)
		return NULL;
	return st->sockets->eps[epfd];
}

int hxs_epoll_create(struct hxs_stack *st)
{
	struct hxs_epoll *ep;
	int id;

	for (id = 0; id < st->sockets->neps; id++)
		if (!st->sockets->eps[id])
			break;
	if (id == st->sockets->neps) {
		int n = st->sockets->neps ? st->sockets->neps * 2 : 8;
		struct hxs_epoll **t = realloc(st->sockets->eps, (size_t)n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + st->sockets->neps, 0, (size_t)(n - st->sockets->neps) * sizeof(*t));
		st->sockets->eps = t;
		st->sockets->neps = n;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->id = id;
	ep->rd_tail = &ep->rd_head;
	st->sockets->eps[id] = ep;
	return id;
}

/* The socket's own list is searched: it holds one item per instance watching it (usually
 * one), so ctl costs the same with 5 or 5,000 sockets in the instance. */
static struct hxs_epitem *ep_find(struct hxs_epoll *ep, const struct hxs_sock *sk)
{
	for (struct hxs_epitem *epi = sk->epi; epi; epi = epi->sk_next)
		if (epi->ep == ep)
			return epi;
	return NULL;
}

int hxs_epoll_ctl(struct hxs_stack *st, int epfd, int op, int fd, const struct hxs_event *ev)
{
	struct hxs_epoll *ep = ep_get(st, epfd);
	struct hxs_sock *sk = hxs_sock__get(st, fd);
	struct hxs_epitem *epi;

	if (!ep || !sk)
		return -EBADF;
	if (op != EPOLL_CTL_DEL && !ev)
		return -EFAULT;
	epi = ep_find(ep, sk);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (epi)
			return -EEXIST;
		epi = calloc(1, sizeof(*epi));
		if (!epi)
			return -ENOMEM;
		epi->ep = ep;
		epi->sk = sk;
		epi->fd = fd;
		hxs_epitem__link(epi);
		break;
	case EPOLL_CTL_MOD:
		if (!epi)
			return -ENOENT;
		break;
	case EPOLL_CTL_DEL:
		if (!epi)
			return -ENOENT;
		hxs_epitem__unlink(epi);
		return 0;
	default:
		return -EINVAL;
	}
	epi->events = ev->events;
	epi->data = ev->data;
	/* ep_insert()/ep_modify(): already ready -> queued now */
	hxs_epitem__rd_del(epi);
	if (sk->ops->poll(sk) & hxs_epitem__interest(epi))
		hxs_epitem__rd_add(epi);
	return 0;
}

static int collect(struct hxs_epoll *ep, struct hxs_event *evs, int max)
{
	struct hxs_epitem *epi, *last = NULL;
	int n = 0;

	/* items re-queued at the tail (level-triggered) are not visited twice */
	for (epi = ep->rd_head; epi; epi = epi->rd_next)
		last = epi;
	while (n < max && (epi = ep->rd_head)) {
		int was_last = epi == last;
		uint32_t m = epi->sk->ops->poll(epi->sk) & hxs_epitem__interest(epi);

		hxs_epitem__rd_del(epi);
		if (m) {
			evs[n].events = m;
			evs[n].data = epi->data;
			n++;
			if (epi->events & EPOLLONESHOT)
				epi->events &= EP_FLAGS;
			else if (!(epi->events & EPOLLET))
				hxs_epitem__rd_add(epi);
		}
		if (was_last)
			break;
	}
	return n;
}

int hxs_epoll_wait(struct hxs_stack *st, int epfd, struct hxs_event *evs, int max, int timeout_ms)
{
	struct hxs_epoll *ep = ep_get(st, epfd);
	uint64_t deadline = 0;
	int n, r;

	if (!ep)
		return -EBADF;
	if (max <= 0 || !evs)
		return -EINVAL;
	/* what the application's sends left waiting goes first (tcp_sock.c); then take in
	 * what has arrived, and report; the timeout counts from that turn's time (no clock
	 * read of our own: the loop reads it once a turn) */
	hxs_tcp_sock__push(st);
	r = hxs_stack__poll(st, 0);
	if (r < 0)
		return r;
	if (timeout_ms > 0)
		deadline = hxs_stack__turn_time(st) + (uint64_t)timeout_ms * 1000;
	for (;;) {
		int wait_ms;

		n = collect(ep, evs, max);
		if (n || timeout_ms == 0)
			return n;
		if (timeout_ms < 0) {
			wait_ms = -1;
		} else {
			uint64_t now = hxs_stack__turn_time(st);   /* the poll's last turn */
			if (now >= deadline)
				return 0;
			wait_ms = (int)((deadline - now + 999) / 1000);
		}
		/* nothing happened since the last turn but collect(): the first turn of the
		 * wait may be a lazy one */
		r = hxs_stack__poll_again(st, wait_ms);
		if (r < 0)
			return r;
		if (!ep_get(st, epfd))
			return -EBADF;
	}
}

int hxs_epoll__set_notify(struct hxs_stack *st, int epfd, void (*fn)(void *ctx), void *ctx)
{
	struct hxs_epoll *ep = ep_get(st, epfd);

	if (!ep)
		return -EBADF;
	ep->notify = fn;
	ep->notify_ctx = ctx;
	return 0;
}

int hxs_epoll__pending(struct hxs_stack *st, int epfd)
{
	struct hxs_epoll *ep = ep_get(st, epfd);

	return ep ? !!ep->rd_head : -EBADF;
}

int hxs_epoll_close(struct hxs_stack *st, int epfd)
{
	struct hxs_epoll *ep = ep_get(st, epfd);

	if (!ep)
		return -EBADF;
	while (ep->items)
		hxs_epitem__unlink(ep->items);
	st->sockets->eps[epfd] = NULL;
	free(ep);
	return 0;
}

void hxs_epoll__close_all(struct hxs_stack *st)
{
	for (int i = 0; i < st->sockets->neps; i++)
		if (st->sockets->eps[i])
			hxs_epoll_close(st, i);
	free(st->sockets->eps);
	st->sockets->eps = NULL;
	st->sockets->neps = 0;
}
