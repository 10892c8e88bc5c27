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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "hxs/hxs.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: hxs-udp-echo -i IFACE -p PORT [-a auto|native|skb|existing] "
			"[--busy-poll] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "port", required_argument, NULL, 'p' },
		{ "attach", required_argument, NULL, 'a' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct hxs_stack_opts o = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct hxs_stack *st;
	static char buf[65536];
	long port = -1;
	int c, fd, ep, err, rc = 0;

	while ((c = getopt_long(argc, argv, "i:p:a:bv", lopts, NULL)) != -1) {
		switch (c) {
		case 'i': o.ifname = optarg; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'a':
			if (!strcmp(optarg, "auto")) o.attach = HXS_ATTACH_AUTO;
			else if (!strcmp(optarg, "native")) o.attach = HXS_ATTACH_NATIVE;
			else if (!strcmp(optarg, "skb")) o.attach = HXS_ATTACH_SKB;
			else if (!strcmp(optarg, "existing")) o.attach = HXS_ATTACH_EXISTING;
			else usage();
			break;
		case 'b': o.busy_poll = 1; break;
		case 'v': o.verbose = 1; break;
		default: usage();
		}
	}
	if (!o.ifname || port < 1 || port > 65535)
		usage();

	/* no SA_RESTART: a signal ends the wait in hxs_epoll_wait with -EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	err = hxs_stack__open(&st, &o);
	if (err) {
		fprintf(stderr, "hxs-udp-echo: cannot open a stack on %s: %s\n", o.ifname, strerror(-err));
		return 1;
	}
	fd = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons((uint16_t)port);
	err = fd < 0 ? fd : hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a));
	ep = hxs_epoll_create(st);
	if (!err && ep >= 0) {
		struct hxs_event ev = { .events = EPOLLIN, .data = (uint64_t)fd };
		err = hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, fd, &ev);
	}
	if (err || ep < 0) {
		fprintf(stderr, "hxs-udp-echo: port %ld: %s\n", port, strerror(err ? -err : -ep));
		hxs_stack__close(st);
		return 1;
	}
	{
		struct in_addr ia = { .s_addr = hxs_stack__addr(st) };
		printf("hxs-udp-echo: ready on %s %s:%ld (%s)\n", o.ifname, inet_ntoa(ia), port,
		       hxs_stack__describe(st));
		fflush(stdout);
	}

	while (!stop) {
		struct hxs_event evs[8];
		int n = hxs_epoll_wait(st, ep, evs, 8, 200);

		if (n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "hxs-udp-echo: epoll_wait: %s\n", strerror(-n));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			for (;;) {
				struct sockaddr_in from;
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
	hxs_stack__poll(st, 0);
	hxs_stack__print_counters(st, stderr, 1);
	hxs_stack__close(st);
	return rc;
}
