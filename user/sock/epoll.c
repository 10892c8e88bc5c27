/* epoll.c - epoll-shaped readiness events for hxs sockets.
 *
 * protocol -> hxs_sock__wake(sk) -> hxs_epoll__notify(sk, mask) -> item onto its ready list
 * hxs_epoll_wait() -> hxs_stack__poll() -> collect(): report the ready items
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

#include "sock.h"
#include "net/stack.h"

#define EP_ALWAYS   (EPOLLERR | EPOLLHUP)
#define EP_FLAGS    (EPOLLET | EPOLLONESHOT)

struct hxs_epitem {
	struct hxs_epoll *ep;
	struct hxs_sock *sk;
	int fd;
	uint32_t events;              /* interest + EPOLLET/EPOLLONESHOT; 0 interest = disarmed */
	uint64_t data;
	struct hxs_epitem *sk_next;   /* items of the same socket (usually just this one) */
	struct hxs_epitem **sk_pprev;
	struct hxs_epitem *ep_next;   /* items of the same instance */
	struct hxs_epitem **ep_pprev; /* both lists doubly linked: unlink is O(1) */
	struct hxs_epitem *rd_next;   /* ready list */
	struct hxs_epitem **rd_pprev; /* NULL when not queued */
};

struct hxs_epoll {
	int id;
	struct hxs_epitem *items;
	struct hxs_epitem *rd_head;
	struct hxs_epitem **rd_tail;
};

static struct hxs_epoll *ep_get(struct hxs_stack *st, int epfd)
{
	if (epfd < 0 || epfd >= st->neps)
		return NULL;
	return st->eps[epfd];
}

static void rd_add(struct hxs_epitem *epi)
{
	struct hxs_epoll *ep = epi->ep;

	if (epi->rd_pprev)
		return;
	epi->rd_next = NULL;
	epi->rd_pprev = ep->rd_tail;
	*ep->rd_tail = epi;
	ep->rd_tail = &epi->rd_next;
}

static void rd_del(struct hxs_epitem *epi)
{
	struct hxs_epoll *ep = epi->ep;

	if (!epi->rd_pprev)
		return;
	*epi->rd_pprev = epi->rd_next;
	if (epi->rd_next)
		epi->rd_next->rd_pprev = epi->rd_pprev;
	else
		ep->rd_tail = epi->rd_pprev;
	epi->rd_pprev = NULL;
	epi->rd_next = NULL;
}

static uint32_t interest(const struct hxs_epitem *epi)
{
	uint32_t want = epi->events & ~EP_FLAGS;

	return want ? want | EP_ALWAYS : 0;   /* disarmed one-shot: nothing */
}

void hxs_epoll__notify(struct hxs_sock *sk, uint32_t mask)
{
	for (struct hxs_epitem *epi = sk->epi; epi; epi = epi->sk_next)
		if (mask & interest(epi))
			rd_add(epi);
}

static void item_link(struct hxs_epitem *epi)
{
	struct hxs_sock *sk = epi->sk;
	struct hxs_epoll *ep = epi->ep;

	epi->sk_next = sk->epi;
	if (sk->epi)
		sk->epi->sk_pprev = &epi->sk_next;
	epi->sk_pprev = &sk->epi;
	sk->epi = epi;
	epi->ep_next = ep->items;
	if (ep->items)
		ep->items->ep_pprev = &epi->ep_next;
	epi->ep_pprev = &ep->items;
	ep->items = epi;
}

static void item_unlink(struct hxs_epitem *epi)
{
	rd_del(epi);
	*epi->sk_pprev = epi->sk_next;
	if (epi->sk_next)
		epi->sk_next->sk_pprev = epi->sk_pprev;
	*epi->ep_pprev = epi->ep_next;
	if (epi->ep_next)
		epi->ep_next->ep_pprev = epi->ep_pprev;
	free(epi);
}

void hxs_epoll__forget(struct hxs_sock *sk)
{
	while (sk->epi)
		item_unlink(sk->epi);
}

int hxs_epoll_create(struct hxs_stack *st)
{
	struct hxs_epoll *ep;
	int id;

	for (id = 0; id < st->neps; id++)
		if (!st->eps[id])
			break;
	if (id == st->neps) {
		int n = st->neps ? st->neps * 2 : 8;
		struct hxs_epoll **t = realloc(st->eps, (size_t)n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + st->neps, 0, (size_t)(n - st->neps) * sizeof(*t));
		st->eps = t;
		st->neps = n;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->id = id;
	ep->rd_tail = &ep->rd_head;
	st->eps[id] = ep;
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
		item_link(epi);
		break;
	case EPOLL_CTL_MOD:
		if (!epi)
			return -ENOENT;
		break;
	case EPOLL_CTL_DEL:
		if (!epi)
			return -ENOENT;
		item_unlink(epi);
		return 0;
	default:
		return -EINVAL;
	}
	epi->events = ev->events;
	epi->data = ev->data;
	/* ep_insert()/ep_modify(): already ready -> queued now */
	rd_del(epi);
	if (sk->ops->poll(sk) & interest(epi))
		rd_add(epi);
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
		uint32_t m = epi->sk->ops->poll(epi->sk) & interest(epi);

		rd_del(epi);
		if (m) {
			evs[n].events = m;
			evs[n].data = epi->data;
			n++;
			if (epi->events & EPOLLONESHOT)
				epi->events &= EP_FLAGS;
			else if (!(epi->events & EPOLLET))
				rd_add(epi);
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
	if (timeout_ms > 0)
		deadline = hxs_stack__now(st) + (uint64_t)timeout_ms * 1000;
	/* take in what has arrived, then report */
	r = hxs_stack__poll(st, 0);
	if (r < 0)
		return r;
	for (;;) {
		int wait_ms;

		n = collect(ep, evs, max);
		if (n || timeout_ms == 0)
			return n;
		if (timeout_ms < 0) {
			wait_ms = -1;
		} else {
			uint64_t now = hxs_stack__now(st);
			if (now >= deadline)
				return 0;
			wait_ms = (int)((deadline - now + 999) / 1000);
		}
		r = hxs_stack__poll(st, wait_ms);
		if (r < 0)
			return r;
		if (!ep_get(st, epfd))
			return -EBADF;
	}
}

int hxs_epoll_close(struct hxs_stack *st, int epfd)
{
	struct hxs_epoll *ep = ep_get(st, epfd);

	if (!ep)
		return -EBADF;
	while (ep->items)
		item_unlink(ep->items);
	st->eps[epfd] = NULL;
	free(ep);
	return 0;
}

void hxs_epoll__close_all(struct hxs_stack *st)
{
	for (int i = 0; i < st->neps; i++)
		if (st->eps[i])
			hxs_epoll_close(st, i);
	free(st->eps);
	st->eps = NULL;
	st->neps = 0;
}
