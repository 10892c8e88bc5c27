/* io.h - packet I/O behind a small table of function pointers.
 *
 * Backends: AF_XDP (xsk.c) and an in-memory link (io_mem.c) used by unit tests and the TCP
 * simulation. The stack never knows which one it runs on. All operations are batched: one
 * call moves many frames, and no backend allocates or makes a syscall per frame.
 *
 * RX:  n = io->ops->rx_burst(io, f, max);  ...use f[0..n)...;  io->ops->rx_release(io, f, n);
 * TX:  n = io->ops->tx_alloc(io, f, want); ...fill f[i].data, set f[i].len...;
 *      io->ops->tx_submit(io, f, n);  (ownership passes to the backend)
 *      io->ops->tx_free(io, f, k);    (frames obtained but not used)
 *      io->ops->flush(io);            (one kernel wake-up per batch; reaps completions)
 * A frame obtained by rx_burst may also be handed to tx_submit (reply in place, zero copy)
 * instead of rx_release, when the backend sets HXS_IO_F_RX_TO_TX.
 */
#ifndef HXS_IO_H
#define HXS_IO_H

#include <stdint.h>

struct hxs_io;

struct hxs_frame {
	uint8_t *data;          /* first byte of the Ethernet header */
	uint32_t len;           /* frame length in bytes */
	uint32_t cap;           /* writable bytes at data (TX) */
	uint64_t handle;        /* backend's own frame id (UMEM address for AF_XDP) */
	uint32_t queue;         /* receive queue (RX) / transmit queue (TX) */
	/* RX: what the XDP program said about the frame (struct hxs_xdp_meta in front of it);
	 * all 0 when it said nothing (no metadata, or a backend without a program) */
	uint8_t meta;           /* 1: slot, gen and mflags below come from the metadata */
	uint8_t mflags;         /* HXS_META_F_* */
	uint16_t pad;
	uint32_t slot, gen;     /* the connection's slot and gen (HXS_SLOT_NONE, 0: none) */
};

struct hxs_io_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t rx_bytes, tx_bytes;
	uint64_t frames_total;      /* frames the backend owns in all */
	uint64_t frames_free;       /* of which idle in its allocator now */
	uint64_t rx_dropped;        /* kernel-reported RX drops (ring full etc.) */
	uint64_t rx_ring_full;      /* XskRxRingFull */
	uint64_t fill_empty;        /* XskFillEmpty: fill ring ran dry */
	uint64_t tx_ring_full;      /* tx_submit found no room */
	uint64_t tx_wakeups;        /* sendto() kicks */
	uint64_t rx_wakeups;        /* poll()/recvfrom() for fill-ring need_wakeup */
	/* Where the frames that are not free are (frames_total == frames_free + frames_rx_queued
	 * + frames_tx_queued + frames_held at every call boundary): */
	uint64_t frames_rx_queued;  /* given to the receive side: fill + RX rings / RX FIFO */
	uint64_t frames_tx_queued;  /* given to the transmit side: TX + completion rings / TX FIFO */
	uint64_t frames_held;       /* handed to the stack by rx_burst/tx_alloc, not yet back */
	uint64_t rx_multibuf_dropped; /* multi-buffer frames (XDP_PKT_CONTD chains) dropped */
	uint64_t rx_multibuf;       /* multi-buffer frames received whole (chains gathered) */
	uint64_t tx_multibuf;       /* frames sent as chains of more than one buffer */
};

#define HXS_IO_F_RX_TO_TX   (1u << 0)   /* rx frames may go straight to tx_submit */
#define HXS_IO_F_ZEROCOPY   (1u << 1)   /* AF_XDP zero-copy mode (else copy mode) */
#define HXS_IO_F_MULTIBUF   (1u << 2)   /* frames may span several buffers on the link
                                         * (AF_XDP multi-buffer): frame_size is above one */

struct hxs_io_ops {
	const char *name;
	int  (*rx_burst)(struct hxs_io *io, struct hxs_frame *f, int max);
	void (*rx_release)(struct hxs_io *io, const struct hxs_frame *f, int n);
	int  (*tx_alloc)(struct hxs_io *io, struct hxs_frame *f, int n);
	int  (*tx_submit)(struct hxs_io *io, const struct hxs_frame *f, int n);
	void (*tx_free)(struct hxs_io *io, const struct hxs_frame *f, int n);
	int  (*flush)(struct hxs_io *io);
	/* A kernel fd that poll() reports readable when frames arrive; -1 if none. */
	int  (*poll_fd)(struct hxs_io *io);
	void (*get_stats)(const struct hxs_io *io, struct hxs_io_stats *st);
	/* get_stats' frames_tx_queued alone, with no syscall (what the loop reads before each
	 * sleep); NULL: the loop takes it from get_stats */
	uint64_t (*tx_queued)(const struct hxs_io *io);
	void (*close)(struct hxs_io *io);
};

struct hxs_io {
	const struct hxs_io_ops *ops;
	uint32_t flags;             /* HXS_IO_F_* */
	uint32_t frame_size;        /* bytes per frame (cap of a TX frame) */
	uint32_t nqueues;
};

/* In-memory link (io_mem.c): two endpoints; frames submitted on one are received on the
 * other. Each endpoint behaves like one AF_XDP socket of xsk.c: a fixed pool of frames, a
 * fill ring the receiver keeps stocked, bounded RX, TX and completion rings, completions that
 * come back after the flush that sent them, and (by default) an eventfd readable while frames
 * wait on the RX ring. A zeroed struct gives xsk.c's sizes. */
struct hxs_io_mem_opts {
	uint32_t frames;            /* frames per endpoint (default 4096, xsk.c's for one queue) */
	uint32_t frame_size;        /* bytes per frame, 64..1 MiB (default 4096) */
	uint32_t ring_size;         /* entries of each ring, a power of two (default 2048) */
	uint32_t fill_target;       /* frames kept on the fill ring (default, as xsk.c:
	                             * min(frames / 2, ring_size)) */
	int no_poll_fd;             /* 1: poll_fd() is -1, so a stack on it never sleeps and its
	                             * caller turns the loop (virtual time) */
	uint32_t max_frags;         /* > 1: multi-buffer as xsk.c's max_frame: frames up to
	                             * max_frags buffers of frame_size (io.frame_size is that
	                             * product), received as chains and gathered into slabs; at
	                             * most 16 (HXS_XSK_MAX_FRAGS) */
	uint32_t slabs;             /* slabs of max_frags buffers (default frames / 2) */
};

int hxs_io_mem__open_opts(struct hxs_io **io, const struct hxs_io_mem_opts *o);
int hxs_io_mem__pair_opts(struct hxs_io **a, struct hxs_io **b, const struct hxs_io_mem_opts *o);
/* The first ones: the defaults with that pool and no poll fd (their callers turn the loop). */
int hxs_io_mem__pair(struct hxs_io **a, struct hxs_io **b, uint32_t frames, uint32_t frame_size);
int hxs_io_mem__open(struct hxs_io **io, uint32_t frames, uint32_t frame_size);
/* The wire of an endpoint opened alone (hxs_io_mem__open*): inject a frame as if received
 * (0, -EMSGSIZE above frame_size, -ENOBUFS when the fill ring is empty or the RX ring full:
 * dropped and counted as the kernel would); take the next flushed frame (its length, -EAGAIN
 * if none, -ENOSPC if longer than cap), which completes it. One other thread may be the wire
 * (inject and take) while the stack's thread uses the io, as the kernel is for AF_XDP. */
int hxs_io_mem__inject(struct hxs_io *io, const void *frame, uint32_t len);
int hxs_io_mem__take(struct hxs_io *io, void *buf, uint32_t cap);   /* -> len, or -EAGAIN */

#endif
