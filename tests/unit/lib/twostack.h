/* twostack.h - the unit tests' two-stack fixture: stacks A and B, each a whole hxs stack
 * (hxs_stack__open_io) on one end of the in-memory link (hxs_io_mem__pair), in one /24 and
 * each knowing the other's MAC from the start (no neighbour resolution), on the test's clock.
 *
 *   static const struct twostack_cfg cfg = { .ip_a = "10.0.0.1", .ip_b = "10.0.0.2",
 *           .mac_a = { 2, 0, 0, 0, 0, 1 }, .mac_b = { 2, 0, 0, 0, 0, 2 }, .mtu = 1500,
 *           .frames = 256, .frame_size = 2048, .clock = vclock };
 *   struct twostack ts;
 *
 *   CHECK_EQ(twostack_open(&ts, &cfg), 0);    link, stack A, stack B, A's clock, B's clock
 *   ... hxs_* calls on ts.a and ts.b ...
 *   twostack_pump(&ts, 8);                    8 turns: A polls, then B (nothing waits)
 *   twostack_close_stacks(&ts);               A, then B: sockets closed, frames back
 *   CHECK(twostack_frames_back(&ts));         every frame back in its pool
 *   twostack_close_links(&ts);                (twostack_close() does both)
 *
 * Everything the test sets is in the cfg: frame pool and MTU are the test's, not defaults;
 * twostack_open() refuses (-EINVAL) what the AF_XDP datapath would not run with: frames other
 * than 2048 or 4096 bytes, fewer than 2, or an MTU beyond frame_size - 256 - 14 (beyond
 * max_frags * frame_size - 14 on a multi-buffer link).
 */
#ifndef HXS_TEST_TWOSTACK_H
#define HXS_TEST_TWOSTACK_H

#include <stdint.h>

struct hxs_io;
struct hxs_stack;

struct twostack_cfg {
	const char *ip_a, *ip_b;        /* each end's IPv4 address, in one /24 */
	uint8_t mac_a[6], mac_b[6];
	uint32_t mtu;                   /* 0: the stack's default (1500) */
	uint32_t frames, frame_size;    /* each end's frame pool on the link */
	uint32_t max_frags;             /* > 1: multi-buffer link (io_mem max_frags), frames up
	                                 * to max_frags * frame_size; the MTU may use them all */
	uint64_t (*clock)(void *ctx);   /* both stacks' clock (us); NULL: CLOCK_MONOTONIC */
	void *clock_ctx;                /* A's ctx, and B's unless clock_ctx_b is set */
	void *clock_ctx_b;
};

struct twostack {
	struct hxs_io *ia, *ib;         /* the link's ends: A's, B's */
	struct hxs_stack *a, *b;
	uint32_t addr_a, addr_b;        /* network order */
};

/* Opens the link, then stack A, stack B, and sets A's and B's clock. Returns 0 or the first
 * -errno; on failure nothing stays open and ts->a, ts->b are NULL. */
int twostack_open(struct twostack *ts, const struct twostack_cfg *cfg);
/* turns times: one turn of A, then one of B, neither waiting. A poll that fails (-EDEADLK:
 * called from inside a turn of that stack, e.g. by its clock) aborts the program. */
void twostack_pump(struct twostack *ts, int turns);
/* Closes stack A, then B (each closes its sockets and gives its frames back to the link). */
void twostack_close_stacks(struct twostack *ts);
/* Closes A's end of the link, then B's. */
void twostack_close_links(struct twostack *ts);
/* twostack_close_stacks(), then twostack_close_links(). */
void twostack_close(struct twostack *ts);

/* 1 when, on both ends of the link, no frame is held by a stack or queued for transmit and
 * every frame is free or in the RX queue (the fill ring keeps its frames, as an AF_XDP
 * socket's does); otherwise 0 with a TAP diagnostic line. Call after twostack_close_stacks(). */
int twostack_frames_back(struct twostack *ts);

#endif
