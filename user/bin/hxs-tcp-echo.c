/* hxs-tcp-echo - a TCP echo server on hxs (any number of connections, one event loop).
 *
 *   hxs-tcp-echo -i IFACE -p PORT [--busy-poll] [-v]
 *
 * main() -> hxs_stack__open() -> socket/bind/listen -> loop { hxs_epoll_wait() ->
 *   listener: accept4 until EAGAIN;  connection: recv into its buffer, send what it holds;
 *   peer's FIN: send the rest, then close (our FIN) }
 * -> SIGINT/SIGTERM -> counters on stderr (with Tcp*) -> hxs_stack__close().
 * Prints exactly one "ready" line on stdout once it serves, and at exit one line
 * "hxs-tcp-echo: accepted N closed N bytes N resets N" on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "hxs/hxs.h"
#include "app/prog.h"

#define BUF 65536

struct conn {
	int fd;
	uint32_t head, len;        /* echo bytes waiting in buf */
	int eof;                   /* the peer shut its side */
	uint8_t buf[BUF];
};

static volatile sig_atomic_t stop;
static unsigned long long n_acc, n_closed, n_bytes, n_resets;

static void usage(void)
{
	fprintf(stderr, "usage: hxs-tcp-echo -i IFACE -p PORT [--busy-poll] [-v]\n");
	exit(2);
}

static void conn_close(struct hxs_stack *st, struct conn *c)
{
	hxs_close(st, c->fd);
	n_closed++;
	free(c);
}

/* Moves data until the socket would block; returns 1 when the connection is finished. */
static int conn_run(struct hxs_stack *st, struct conn *c)
{
	for (;;) {
		int progress = 0;

		while (c->len) {
			uint32_t k = c->len < BUF - c->head ? c->len : BUF - c->head;
			ssize_t r = hxs_send(st, c->fd, c->buf + c->head, k, 0);

			if (r == -EAGAIN)
				break;
			if (r < 0) {
				n_resets++;
				return 1;
			}
			c->head = (c->head + (uint32_t)r) % BUF;
			c->len -= (uint32_t)r;
			progress = 1;
		}
		if (!c->eof && c->len < BUF) {
			uint32_t tail = (c->head + c->len) % BUF;
			uint32_t k = tail >= c->head ? BUF - tail : c->head - tail;
			ssize_t r = hxs_recv(st, c->fd, c->buf + tail, k, 0);

			if (r > 0) {
				c->len += (uint32_t)r;
				n_bytes += (uint64_t)r;
				progress = 1;
			} else if (r == 0) {
				c->eof = 1;
				progress = 1;
			} else if (r != -EAGAIN) {
				n_resets++;
				return 1;
			}
		}
		if (c->eof && !c->len)
			return 1;       /* everything echoed: close sends our FIN */
		if (!progress)
			return 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		HXS_PROG_OPT_IFACE, HXS_PROG_OPT_PORT, HXS_PROG_OPT_BUSY_POLL, HXS_PROG_OPT_VERBOSE,
		{ NULL, 0, NULL, 0 },
	};
	struct hxs_prog p = { .name = "hxs-tcp-echo", .port = -1 };
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };  /* ::, both families */
	struct hxs_event ev;
	struct hxs_stack *st;
	int c, lfd, ep, err, rc = 0, one = 1;

	while ((c = getopt_long(argc, argv, "i:p:bv", lopts, NULL)) != -1)
		if (hxs_prog__opt(&p, c, optarg) <= 0)
			usage();
	if (!p.stack.ifname || p.port < 1 || p.port > 65535)
		usage();
	hxs_prog__catch_stop(&stop, 0);

	if (hxs_prog__open_stack(&p, &st))
		return 1;
	lfd = hxs_socket(st, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin6_port = htons((uint16_t)p.port);
	err = lfd < 0 ? lfd : hxs_setsockopt(st, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!err)
		err = hxs_bind(st, lfd, (struct sockaddr *)&a, sizeof(a));
	if (!err)
		err = hxs_listen(st, lfd, 128);
	ep = hxs_epoll_create(st);
	ev.events = EPOLLIN;
	ev.data = 0;            /* 0 = the listener, else a struct conn * */
	if (!err && ep >= 0)
		err = hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, lfd, &ev);
	if (hxs_prog__ready_stack(&p, st, err ? err : ep < 0 ? ep : 0))
		return 1;

	while (!stop) {
		struct hxs_event evs[64];
		int n = hxs_epoll_wait(st, ep, evs, 64, 200);

		if (hxs_prog__wait_failed(&p, n)) {
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *cn = (struct conn *)(uintptr_t)evs[i].data;

			if (!cn) {
				int fd;

				while ((fd = hxs_accept4(st, lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					cn = calloc(1, sizeof(*cn));
					if (!cn) {
						hxs_close(st, fd);
						continue;
					}
					cn->fd = fd;
					n_acc++;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
					ev.data = (uint64_t)(uintptr_t)cn;
					hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, fd, &ev);
					if (conn_run(st, cn))
						conn_close(st, cn);
				}
				continue;
			}
			if (conn_run(st, cn))
				conn_close(st, cn);
		}
	}
	fprintf(stderr, "hxs-tcp-echo: accepted %llu closed %llu bytes %llu resets %llu\n", n_acc,
		n_closed, n_bytes, n_resets);
	hxs_prog__close_stack(st, 0);
	return rc;
}
