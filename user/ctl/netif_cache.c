/* netif_cache.c - what netif.c's IPv4 caches and netif6.c's IPv6 caches share (see
 * netif_priv.h): their clock, the reading of a route answer, the usable neighbour states.
 *
 *   hxs_netif__route_at() / __route6_at() -> hxs_netif__route_err()
 *   neigh_valid() / n6_valid()            -> hxs_netif__nud_usable()
 *   both caches' timestamps               -> hxs_netif__now()
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <time.h>

#include "netif.h"
#include "netif_priv.h"

/* The kernel's NUD_VALID (include/net/neighbour.h): states with a usable link-layer address. */
#define HXS_NUD_VALID (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)

uint64_t hxs_netif__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hxs_netif__route_err(const struct hxs_netif *nif, int err, int got, uint8_t type, int oif)
{
	if (!err && !got)
		err = -ENETUNREACH;
	/* Only unicast routes out of our interface are usable: hxs sends on no other link,
	 * and broadcast/local/blackhole destinations are not for it. */
	if (!err && (type != RTN_UNICAST || oif != nif->ifindex))
		err = -ENETUNREACH;
	if (err == -ESRCH || err == -EHOSTUNREACH || err == -EINVAL || err == -ENODEV)
		err = -ENETUNREACH;
	return err;
}

int hxs_netif__nud_usable(uint16_t state, uint8_t has_mac)
{
	return (state & HXS_NUD_VALID) && has_mac;
}
