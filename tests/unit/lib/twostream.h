/* twostream.h - a TCP connection between the two stacks of a twostack (twostack.h) and a
 * verified byte stream each way through it, both at once, in the test's virtual time.
 *
 *   struct twostream_end a = { .total = N, .chunk = 16384, .seed_tx = 1, .seed_rx = 2 },
 *                        b = { .total = N, .chunk = 16384, .seed_tx = 2, .seed_rx = 1 };
 *   int lfd;
 *
 *   CHECK_EQ(twostream_connect(&w, port, 0, &vnow, &lfd, &a, &b), 0);   A connects, B accepts
 *   turns = twostream_run(&w, &a, &b, &vnow, max_turns);   until both ends read EOF
 *   CHECK(twostream_done(&a, &b), ...);                    all sent, all read byte exact
 *   ... hxs_close() the three sockets, twostack_close_stacks() ...
 *   CHECK(twostack_frames_back(&w));                       every frame back in its pool
 *
 * Each end sends pattern_fill(seed_tx) (tcp_harness.h) in calls of chunk bytes, shuts down
 * its sending side when all total bytes are out, and checks what it reads against
 * pattern_check(seed_rx). Every call is non-blocking; a turn of the loop is both ends' I/O,
 * one twostack_pump() turn and 100 us of the test's clock (*now_us).
 */
#ifndef HXS_TEST_TWOSTREAM_H
#define HXS_TEST_TWOSTREAM_H

#include <stdint.h>

#include "twostack.h"

#define TWOSTREAM_CHUNK_MAX 65536

struct twostream_end {
	struct hxs_stack *st;
	int fd;
	uint64_t total;                 /* bytes to send */
	uint32_t chunk;                 /* bytes per send and receive call, <= TWOSTREAM_CHUNK_MAX */
	uint64_t seed_tx, seed_rx;
	uint64_t sent, rcvd;
	int shut, eof;                  /* shut down for sending; read EOF */
	int bad;                        /* a received byte was not the pattern */
	int shut_err;                   /* what hxs_shutdown(SHUT_WR) returned */
};

/* B listens on port at its address, A connects (with TCP_NODELAY if nodelay) and the pair is
 * pumped a turn at a time, 100 us apart, until B accepts (100 turns at most). Fills a and b's
 * st and fd, and *lfd (B's listener). 0, or the first failing call's -errno (-ETIMEDOUT: no
 * connection was accepted). */
int twostream_connect(struct twostack *ts, uint16_t port, int nodelay, uint64_t *now_us, int *lfd,
		      struct twostream_end *a, struct twostream_end *b);
/* One end's I/O: send what fits, shut down when all is sent, read and verify what came. */
void twostream_end_io(struct twostream_end *e);
/* Turns of both ends' I/O, one pump and 100 us each, until both read EOF or after max_turns;
 * returns the turns taken. */
int twostream_run(struct twostack *ts, struct twostream_end *a, struct twostream_end *b,
		  uint64_t *now_us, int max_turns);
/* 1 when both ends sent and read all total bytes byte exact and read EOF; otherwise 0 with
 * a TAP diagnostic line of what each end did. */
int twostream_done(const struct twostream_end *a, const struct twostream_end *b);

#endif
