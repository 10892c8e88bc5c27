/* netsim.h - a deterministic network simulator for unit tests, in virtual time.
 *
 * Two ports (0 and 1) joined by a link with, per direction: an MTU (a larger frame is dropped
 * and counted, as a receiving NIC drops it), propagation delay, bandwidth (serialisation delay,
 * FIFO queue with a byte limit = tail drop), seeded random loss, duplication, reordering (a
 * frame is held back by an extra random delay) and corruption (one bit of the frame flipped).
 * Frames are opaque byte strings copied in. Everything is driven by the caller's clock: nothing
 * sleeps.
 *
 *   struct netsim *ns = netsim_new(&cfg, seed);
 *   netsim_send(ns, 0, buf, len, now);              port 0 -> port 1
 *   uint64_t t = netsim_next(ns);                   next delivery time, UINT64_MAX if none
 *   netsim_deliver(ns, now, cb, ctx);               calls cb(ctx, port, buf, len, now) for each
 *                                                   frame due at or before now, in time order
 *   netsim_free(ns);
 *
 * Counters (per direction) let tests assert conservation: sent + duplicated = delivered +
 * lost + queue_drops + oversize + in_flight.
 */
#ifndef HXS_NETSIM_H
#define HXS_NETSIM_H

#include <stddef.h>
#include <stdint.h>

struct netsim_dir_cfg {
	uint32_t mtu;               /* the largest frame carried, bytes; 0 = unlimited */
	uint64_t delay_us;          /* one-way propagation delay */
	uint64_t bandwidth_bps;     /* 0 = infinite */
	uint32_t queue_bytes;       /* tail-drop limit of the bottleneck queue; 0 = unlimited */
	double loss;                /* probability a frame is dropped, 0..1 */
	double dup;                 /* probability a frame is delivered twice */
	double reorder;             /* probability a frame gets an extra delay */
	uint64_t reorder_us;        /* max extra delay of a reordered frame */
	double corrupt;             /* probability a frame (each copy) gets one bit flipped */
};

struct netsim_cfg {
	struct netsim_dir_cfg dir[2];   /* dir[0]: port 0 -> 1, dir[1]: port 1 -> 0 */
};

struct netsim_stats {
	uint64_t sent, delivered, lost, queue_drops, duplicated, reordered, bytes_delivered;
	uint64_t in_flight;
	uint64_t oversize;          /* dropped: larger than the MTU */
	uint64_t corrupted;         /* copies queued with a flipped bit (delivered unless in flight) */
};

struct netsim;
typedef void (*netsim_rx_fn)(void *ctx, int port, const uint8_t *buf, size_t len, uint64_t now);

struct netsim *netsim_new(const struct netsim_cfg *cfg, uint64_t seed);
void netsim_free(struct netsim *ns);
/* Sends from `port` to the other one. Returns 0, or -1 if dropped at the queue or for its size
 * (still counted). */
int netsim_send(struct netsim *ns, int port, const void *buf, size_t len, uint64_t now);
uint64_t netsim_next(const struct netsim *ns);
/* Delivers every frame due at or before now; returns how many. */
int netsim_deliver(struct netsim *ns, uint64_t now, netsim_rx_fn cb, void *ctx);
const struct netsim_stats *netsim_stats(const struct netsim *ns, int dir);
/* Changes a direction's config mid-run (e.g. start loss after the handshake). */
void netsim_set_dir(struct netsim *ns, int dir, const struct netsim_dir_cfg *cfg);

#endif
