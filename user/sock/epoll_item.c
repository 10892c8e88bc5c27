/* epoll_item.c - epoll items on the sockets' side: what a socket's wake and close touch.
 *
 * protocol -> hxs_sock__wake(sk) -> hxs_epoll__notify(sk, mask) -> item onto its ready list
 * hxs_close() -> hxs_epoll__forget(sk) -> every item of sk unlinked and freed
 * epoll.c (the API: create, ctl, wait) makes the items and reads the ready lists.
 */
#include <stdlib.h>

#include "epoll_item.h"

void hxs_epoll__notify(struct hxs_sock *sk, uint32_t mask)
{
	for (struct hxs_epitem *epi = sk->epi; epi; epi = epi->sk_next)
		if (mask & hxs_epitem__interest(epi))
			hxs_epitem__rd_add(epi);
}

void hxs_epitem__link(struct hxs_epitem *epi)
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

void hxs_epitem__unlink(struct hxs_epitem *epi)
{
	hxs_epitem__rd_del(epi);
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
		hxs_epitem__unlink(sk->epi);
}
