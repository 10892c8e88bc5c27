/* xsk.h - the AF_XDP backend of io.h (xsk.c), through libxdp's <xdp/xsk.h>.
 *
 *   struct hxs_xsk_opts o = HXS_XSK_OPTS_DEFAULT;  o.nqueues = 1; o.queues[0] = 0;
 *   hxs_xsk__open(&io, "eth0", &o);     UMEM, one socket per queue, fill rings primed
 *   hxs_xsk__fd(io, i) -> hxs_xdp__xsk_set(x, hxs_xsk__queue_id(io, i), fd)
 *                                       (or o.xsks_map_fd: open puts them in the map itself)
 *   io->ops->rx_burst / tx_alloc / tx_submit / flush ... (io.h)
 *   io->ops->close(io)
 *
 * One UMEM is shared by the sockets of all queues (XDP_SHARED_UMEM, one fill and completion
 * ring per queue): one frame allocator and one set of counters, and a frame received on any
 * queue may be sent on any queue (HXS_IO_F_RX_TO_TX). The backend is single-threaded: one
 * thread serves every queue of an hxs_io.
 *
 * hxs_frame.queue is an index into this hxs_io's queues (0..nqueues-1), not a queue id: RX
 * sets it to the queue the frame came in on; TX sends on it (out of range: index 0).
 * tx_submit() accepts a prefix of its array (the TX ring may be full even after one kick):
 * the frames past the returned count stay the caller's (tx_free or submit them later).
 * flush() returns 0 or a negative errno from sendto() other than EAGAIN/EBUSY/ENOBUFS/
 * ENETDOWN (those leave the frames queued for the next flush).
 *
 * Copy or zero-copy: HXS_XSK_MODE_AUTO lets the kernel choose (zero-copy when the driver
 * can); ZEROCOPY fails (-EOPNOTSUPP from the kernel) rather than fall back; COPY forces copy.
 * What the sockets got is read back (XDP_OPTIONS) and reported in io->flags
 * (HXS_IO_F_ZEROCOPY) and hxs_xsk__mode().
 *
 * Multi-buffer frames (a packet larger than one frame, chained with XDP_PKT_CONTD): with
 * max_frame set, they are gathered into one contiguous hxs_frame (a slab of adjacent UMEM
 * frames; counted in rx_multibuf) and TX frames are slabs, sent as chains when longer than
 * a UMEM frame (tx_multibuf); HXS_IO_F_MULTIBUF is set. Without max_frame, the largest frame
 * received is frame_size - headroom - XDP_PACKET_HEADROOM (256) bytes: without XDP_USE_SG
 * the kernel drops larger ones (rx_dropped); with use_sg they arrive as chains and are
 * dropped whole here and counted in rx_multibuf_dropped.
 */
#ifndef HXS_XSK_H
#define HXS_XSK_H

#include <stdint.h>

#include "hxs/shared.h"
#include "io.h"

enum hxs_xsk_mode {
	HXS_XSK_MODE_AUTO = 0,      /* kernel decides; read back and reported */
	HXS_XSK_MODE_COPY,          /* XDP_COPY */
	HXS_XSK_MODE_ZEROCOPY,      /* XDP_ZEROCOPY: error if the driver cannot */
};

struct hxs_xsk_opts {
	uint32_t nqueues;           /* receive queues to serve (1..HXS_MAX_QUEUES) */
	uint32_t queues[HXS_MAX_QUEUES]; /* their ids; all zero and nqueues n: queues 0..n-1 */
	uint32_t frames;            /* UMEM frames in all (default 4096 per queue) */
	uint32_t frame_size;        /* 2048 or 4096 (default 4096): the kernel refuses a
	                             * larger UMEM chunk (EINVAL from XDP_UMEM_REG, also on
	                             * HugeTLB memory, Linux 6.18): jumbo frames are chains */
	uint32_t ring_size;         /* each ring's entries, power of two (default 2048) */
	uint32_t headroom;          /* UMEM frame headroom (default 0) */
	enum hxs_xsk_mode mode;
	uint32_t busy_poll_us;      /* > 0: SO_PREFER_BUSY_POLL + SO_BUSY_POLL (us) + budget */
	uint32_t busy_poll_budget;  /* SO_BUSY_POLL_BUDGET (default 64) */
	uint32_t tx_budget;         /* XDP_MAX_TX_SKB_BUDGET: copy-mode frames per kick; 0: the
	                             * ring size where the kernel has the option, else its 32 */
	int xsks_map_fd;            /* >= 0: put each socket into this XSK map (key = queue id) */
	int use_sg;                 /* bind with XDP_USE_SG: packets larger than a frame arrive
	                             * as chains, which this backend drops whole and counts
	                             * (rx_multibuf_dropped) instead of the kernel dropping them
	                             * uncounted by kind (rx_dropped), unless max_frame is set */
	uint32_t max_frame;         /* > frame_size: multi-buffer (XDP_USE_SG): frames up to
	                             * this many bytes both ways, in slabs of adjacent UMEM
	                             * frames (at most HXS_XSK_MAX_FRAGS); io->frame_size becomes
	                             * the slab's size. The kernel may refuse (then open fails) */
	uint32_t slabs;             /* slabs (default frames / 2) */
};

/* UMEM frames per packet at most: below the kernel's limit on a chain, MAX_SKB_FRAGS (17)
 * in copy mode (Documentation/networking/af_xdp.rst, "Multi-Buffer Support"). */
#define HXS_XSK_MAX_FRAGS 16

#define HXS_XSK_OPTS_DEFAULT { .nqueues = 1, .xsks_map_fd = -1 }

int hxs_xsk__open(struct hxs_io **out, const char *ifname, const struct hxs_xsk_opts *o);
/* The AF_XDP socket fd serving the i-th queue (0 <= i < io->nqueues), and that queue's id. */
int hxs_xsk__fd(const struct hxs_io *io, uint32_t i);
uint32_t hxs_xsk__queue_id(const struct hxs_io *io, uint32_t i);
/* "copy" or "zero-copy": what the kernel gave the sockets. */
const char *hxs_xsk__mode(const struct hxs_io *io);

#endif
