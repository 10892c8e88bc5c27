/* ip_frame.c - a TX frame for IP output, shared by the IPv4 (ip.c), cached-destination (ip.c)
 * and IPv6 (ip6.c) paths: its own file, as ip.c calls into ip6.c.
 *
 *   hxs_ip_tx_frame() -> io tx_alloc (none free: reap completions once, retry) -> size check
 *                        -> tx->l4 after the Ethernet and IP headers
 */
#include <errno.h>

#include "ip.h"
#include "stack.h"

int hxs_ip_tx_frame(struct hxs_stack *st, struct hxs_ip_tx *tx, uint32_t hlen, uint32_t l4_len)
{
	if (st->io->ops->tx_alloc(st->io, &tx->f, 1) != 1) {
		/* reap completions once and retry before giving up */
		hxs_stack__tx_flush(st);
		if (st->io->ops->tx_alloc(st->io, &tx->f, 1) != 1)
			return -EAGAIN;
	}
	if (tx->f.cap < HXS_ETH_HLEN + hlen + l4_len) {
		st->io->ops->tx_free(st->io, &tx->f, 1);
		return -EMSGSIZE;
	}
	tx->l4 = tx->f.data + HXS_ETH_HLEN + hlen;
	tx->l4_len = l4_len;
	return 0;
}
