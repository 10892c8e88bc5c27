/* hxs-udp-echo - a UDP echo server on hxs.
 *
 *   hxs-udp-echo -i IFACE -p PORT [-a auto|native|skb|existing] [--busy-poll] [-v]
 *
 * main() -> hxs_stack__open() -> bind -> loop { hxs_epoll_wait() -> recvfrom/sendto until
 * EAGAIN } -> SIGINT/SIGTERM -> counters on stderr -> hxs_stack__close() (detaches what it
 * attached). Prints exactly one line on stdout once it serves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "hxs/hxs.h"
#include "app/prog.h"

static volatile sig_atomic_t stop;

static void usage(void)
{
	fprintf(stderr, "usage: hxs-udp-echo -i IFACE -p PORT [-a auto|native|skb|existing] "
			"[--busy-poll] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		HXS_PROG_OPT_IFACE, HXS_PROG_OPT_PORT, HXS_PROG_OPT_ATTACH, HXS_PROG_OPT_BUSY_POLL,
		HXS_PROG_OPT_VERBOSE,
		{ NULL, 0, NULL, 0 },
	};
	struct hxs_prog p = { .name = "hxs-udp-echo", .port = -1 };
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };  /* ::, both families */
	struct hxs_stack *st;
	static char buf[65536];
	int c, fd, ep, err, rc = 0;

	while ((c = getopt_long(argc, argv, "i:p:a:bv", lopts, NULL)) != -1)
		if (hxs_prog__opt(&p, c, optarg) <= 0)
			usage();
	if (!p.stack.ifname || p.port < 1 || p.port > 65535)
		usage();

	/* no SA_RESTART: a signal ends the wait in hxs_epoll_wait with -EINTR */
	hxs_prog__catch_stop(&stop, 0);

	if (hxs_prog__open_stack(&p, &st))
		return 1;
	fd = hxs_socket(st, AF_INET6, SOCK_DGRAM, 0);
	a.sin6_port = htons((uint16_t)p.port);
	err = fd < 0 ? fd : hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a));
	ep = hxs_epoll_create(st);
	if (!err && ep >= 0) {
		struct hxs_event ev = { .events = EPOLLIN, .data = (uint64_t)fd };
		err = hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, fd, &ev);
	}
	if (hxs_prog__ready_stack(&p, st, err ? err : ep < 0 ? ep : 0))
		return 1;

	while (!stop) {
		struct hxs_event evs[8];
		int n = hxs_epoll_wait(st, ep, evs, 8, 200);

		if (hxs_prog__wait_failed(&p, n)) {
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			for (;;) {
				struct sockaddr_in6 from;
				socklen_t fl = sizeof(from);
				ssize_t r = hxs_recvfrom(st, fd, buf, sizeof(buf), MSG_DONTWAIT,
							 (struct sockaddr *)&from, &fl);
				if (r < 0)
					break;
				/* blocking send: waits for a TX frame rather than dropping the reply */
				r = hxs_sendto(st, fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
				if (r < 0 && r != -EINTR)
					fprintf(stderr, "hxs-udp-echo: sendto: %s\n", strerror((int)-r));
			}
		}
	}
	hxs_prog__close_stack(st, 1);
	return rc;
}
