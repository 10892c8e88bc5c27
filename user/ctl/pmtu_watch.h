/* pmtu_watch.h - ICMP "fragmentation needed" about hxs's TCP segments, through a kernel raw
 * socket that makes the kernel keep the route's path MTU (pmtu_watch.c). */
#ifndef HXS_PMTU_WATCH_H
#define HXS_PMTU_WATCH_H
#include <stdint.h>
/* The watcher's fd, or a negative errno (-EPERM without CAP_NET_RAW). */
int hxs_pmtu_watch__open(void);
/* Calls fn(ctx, daddr, mtu) per queued "fragmentation needed" (daddr network order, mtu as
 * the ICMP said); returns how many. Never blocks. */
int hxs_pmtu_watch__drain(int fd, void (*fn)(void *ctx, uint32_t daddr, uint32_t mtu), void *ctx);
#endif
