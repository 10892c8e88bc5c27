/* epoll_item.h - the epoll layer's items and ready lists, shared by epoll_item.c (what a
 * socket's wake and close touch) and epoll.c (the API that creates and reports them).
 */
#ifndef HXS_EPOLL_ITEM_H
#define HXS_EPOLL_ITEM_H

#include <stdint.h>
#include <sys/epoll.h>

#include "sock.h"

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
	void (*notify)(void *ctx);    /* the ready list stopped being empty (hxs_epoll__set_notify) */
	void *notify_ctx;
};

/* Queues epi on its instance's ready list (no-op if queued); rd_del takes it off. */
static inline void hxs_epitem__rd_add(struct hxs_epitem *epi)
{
	struct hxs_epoll *ep = epi->ep;

	int was_empty = !ep->rd_head;

	if (epi->rd_pprev)
		return;
	epi->rd_next = NULL;
	epi->rd_pprev = ep->rd_tail;
	*ep->rd_tail = epi;
	ep->rd_tail = &epi->rd_next;
	if (was_empty && ep->notify)
		ep->notify(ep->notify_ctx);
}

static inline void hxs_epitem__rd_del(struct hxs_epitem *epi)
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

/* The events epi reports: its interest plus EPOLLERR|EPOLLHUP; 0 for a disarmed one-shot. */
static inline uint32_t hxs_epitem__interest(const struct hxs_epitem *epi)
{
	uint32_t want = epi->events & ~EP_FLAGS;

	return want ? want | EP_ALWAYS : 0;   /* disarmed one-shot: nothing */
}
/* Links epi into its socket's and its instance's lists; unlink takes it off all three lists
 * and frees it. */
void hxs_epitem__link(struct hxs_epitem *epi);
void hxs_epitem__unlink(struct hxs_epitem *epi);

#endif
