/* stats_pub.h - what a stack publishes into its statistics region (stats_shm.h), gathered
 * from the stack itself, so the stack needs three calls and no knowledge of the layout:
 *
 *   hxs_stack__open():  hxs_stats_pub__open(&pub, st, NULL, opts->stats_name ?: ifname,
 *                                           ifname)       (failure is not fatal: say it, go on)
 *                       and a poller registered with the loop (open/stack_open.c) that calls
 *   stack_turn():       hxs_stats_pub__tick(pub, now, events)   once per turn, after the
 *                       timers and TCP ran; publishes when HXS_SHM_PUBLISH_US (100 ms) passed since
 *                       the last publish, else, when the turn did work (events > 0), arms a
 *                       timer on st->wheel for the end of the period, so the last state of a
 *                       stack that then goes idle and sleeps is published too
 *   a descriptor's record on demand: hxs_stats_pub__sock(pub, fd)
 *   hxs_stack__close(): hxs_stats_pub__close(pub)     (unlinks the file)
 *
 * A publish copies: the stack MIB (hxs_mib_names) as group "Stack", every other table registered
 * with hxs_stack__add_counters() as its own group, the I/O backend's hxs_io_stats as group
 * "HxsIo" (HxsIoRxFrames ..., the names the stack prints at exit), and one connection record per socket descriptor below
 * HXS_SHM_MAX_CONNS (slot = fd): addresses and ports from struct hxs_sock, TCP state and
 * figures from getsockopt(TCP_INFO), UDP state UNCONN or ESTAB (connected). Slots of
 * descriptors that went away are freed. No syscall, no allocation.
 */
#ifndef HXS_STATS_PUB_H
#define HXS_STATS_PUB_H

#include <stdint.h>

struct hxs_stack;
struct hxs_stats_pub;

/* dir NULL: $HXS_RUN_DIR or /run/hxs. Returns 0 or -errno (see hxs_shm__open). */
int hxs_stats_pub__open(struct hxs_stats_pub **out, struct hxs_stack *st, const char *dir,
			const char *name, const char *ifname);
void hxs_stats_pub__close(struct hxs_stats_pub *p);
/* See above. events < 0 forces a publish now. NULL p is fine. */
void hxs_stats_pub__tick(struct hxs_stats_pub *p, uint64_t now_us, int events);
/* Publishes one descriptor's record now (or frees its slot if the descriptor is gone). */
void hxs_stats_pub__sock(struct hxs_stats_pub *p, int fd);
const char *hxs_stats_pub__path(const struct hxs_stats_pub *p);

#endif
