/* twostream.c - a verified TCP byte stream each way between twostack's stacks (how a test uses
 * it: twostream.h).
 *
 *   twostream_connect() -> hxs_socket/bind/listen (B) -> hxs_socket/connect (A)
 *                       -> twostack_pump() + hxs_accept4() (B) until accepted
 *   twostream_run() -> twostream_end_io(A), (B) -> hxs_send / hxs_shutdown / hxs_recv
 *                   -> twostack_pump()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "hxs/hxs.h"
#include "tcp_harness.h"
#include "twostream.h"

#define TURN_US 100

int twostream_connect(struct twostack *ts, uint16_t port, int nodelay, uint64_t *now_us, int *lfd,
		      struct twostream_end *a, struct twostream_end *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, err;

	sin.sin_addr.s_addr = ts->addr_b;
	a->st = ts->a;
	b->st = ts->b;
	b->fd = -1;
	*lfd = hxs_socket(ts->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*lfd < 0)
		return *lfd;
	err = hxs_bind(ts->b, *lfd, (struct sockaddr *)&sin, sizeof(sin));
	if (!err)
		err = hxs_listen(ts->b, *lfd, 8);
	if (err)
		return err;
	a->fd = hxs_socket(ts->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (a->fd < 0)
		return a->fd;
	if (nodelay) {
		err = hxs_setsockopt(ts->a, a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (err)
			return err;
	}
	err = hxs_connect(ts->a, a->fd, (struct sockaddr *)&sin, sizeof(sin));
	if (err != -EINPROGRESS)
		return err ? err : -EINVAL;
	for (int i = 0; i < 100 && b->fd < 0; i++) {
		twostack_pump(ts, 1);
		*now_us += TURN_US;
		b->fd = hxs_accept4(ts->b, *lfd, NULL, NULL, SOCK_NONBLOCK);
	}
	return b->fd >= 0 ? 0 : -ETIMEDOUT;
}

void twostream_end_io(struct twostream_end *e)
{
	static uint8_t buf[TWOSTREAM_CHUNK_MAX];
	uint32_t chunk = e->chunk < sizeof(buf) ? e->chunk : (uint32_t)sizeof(buf);

	while (e->sent < e->total) {
		uint32_t n = e->total - e->sent < chunk ? (uint32_t)(e->total - e->sent) : chunk;
		ssize_t r;

		pattern_fill(e->seed_tx, e->sent, buf, n);
		r = hxs_send(e->st, e->fd, buf, n, 0);
		if (r <= 0)
			break;
		e->sent += (uint64_t)r;
	}
	if (e->sent == e->total && !e->shut) {
		e->shut_err = hxs_shutdown(e->st, e->fd, SHUT_WR);
		e->shut = 1;
	}
	for (;;) {
		ssize_t r = hxs_recv(e->st, e->fd, buf, chunk, 0);

		if (r > 0) {
			if (pattern_check(e->seed_rx, e->rcvd, buf, (uint32_t)r) >= 0)
				e->bad = 1;
			e->rcvd += (uint64_t)r;
			continue;
		}
		if (r == 0)
			e->eof = 1;
		break;
	}
}

int twostream_run(struct twostack *ts, struct twostream_end *a, struct twostream_end *b,
		  uint64_t *now_us, int max_turns)
{
	int turns = 0;

	while (!(a->eof && b->eof) && turns < max_turns) {
		twostream_end_io(a);
		twostream_end_io(b);
		twostack_pump(ts, 1);
		*now_us += TURN_US;
		turns++;
	}
	return turns;
}

int twostream_done(const struct twostream_end *a, const struct twostream_end *b)
{
	const struct twostream_end *e[2] = { a, b };
	int ok = 1;

	for (int i = 0; i < 2; i++) {
		/* each end reads what the other sent: its total */
		uint64_t want = e[1 - i]->total;

		if (!e[i]->eof || e[i]->sent != e[i]->total || e[i]->rcvd != want || e[i]->bad ||
		    e[i]->shut_err) {
			printf("#   %c: sent %llu of %llu, rcvd %llu of %llu, eof %d, data %s, shutdown %d\n",
			       'A' + i, (unsigned long long)e[i]->sent, (unsigned long long)e[i]->total,
			       (unsigned long long)e[i]->rcvd, (unsigned long long)want, e[i]->eof,
			       e[i]->bad ? "differs" : "exact", e[i]->shut_err);
			ok = 0;
		}
	}
	return ok;
}
