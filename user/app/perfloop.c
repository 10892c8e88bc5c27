/* perfloop.c - hxs-perf's server sockets and the one event loop of a run.
 *
 * hxs_perf_server_setup() -> listener (TCP) + UDP socket on o.port, both in epoll
 * hxs_perf_loop() -> hxs_appnet_epoll_wait() -> dispatch()
 *   -> hxs_perf_tcp_accept() | hxs_perf_udp_server_rx() | hxs_perf_udp_client_rx()
 *   -> hxs_perf_tcp_event()
 *   server: resume paused accepts; client: -n done / -t elapsed / grace -> return
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "perfrun.h"

#define MAX_EVENTS  256
#define GRACE_NS    (15ull * 1000000000ull) /* after -t: how long the end may take */

int hxs_perf_server_setup(void)
{
	struct sockaddr_in6 sin;
	struct hxs_event ev = { .events = EPOLLIN };
	int one = 1, err;

	hxs_appnet_any(&sin, (uint16_t)hxs_perf.o.port);     /* both families (dual-stack ::) */
	hxs_perf.lfd = hxs_appnet_socket(hxs_perf.an, SOCK_STREAM | SOCK_NONBLOCK);
	if (hxs_perf.lfd == -EPROTONOSUPPORT) {
		/* A stack without TCP yet still serves the udp mode. */
		fprintf(stderr, "hxs-perf: this stack has no TCP (%s): serving udp only\n",
			strerror(-hxs_perf.lfd));
	} else if (hxs_perf.lfd < 0) {
		return hxs_perf.lfd;
	} else {
		hxs_appnet_setsockopt(hxs_perf.an, hxs_perf.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if ((err = hxs_appnet_bind(hxs_perf.an, hxs_perf.lfd, &sin)) || (err = hxs_appnet_listen(hxs_perf.an, hxs_perf.lfd, 1024)))
			return err;
		ev.data = HXS_PERF_TAG_LISTEN;
		if ((err = hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_ADD, hxs_perf.lfd, &ev)))
			return err;
	}
	hxs_perf.ufd = hxs_appnet_socket(hxs_perf.an, SOCK_DGRAM | SOCK_NONBLOCK);
	if (hxs_perf.ufd < 0)
		return hxs_perf.ufd;
	if ((err = hxs_appnet_bind(hxs_perf.an, hxs_perf.ufd, &sin)))
		return err;
	ev.data = HXS_PERF_TAG_UDP;
	return hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_ADD, hxs_perf.ufd, &ev);
}

/* --- event loop --------------------------------------------------------------------------- */
static void dispatch(const struct hxs_event *e)
{
	if (e->data == HXS_PERF_TAG_LISTEN) {
		hxs_perf_tcp_accept();
		return;
	}
	if ((e->data & 0xff) == HXS_PERF_TAG_UDP && e->data < 4096 * 256) {
		if (hxs_perf.o.server)
			hxs_perf_udp_server_rx();
		else
			hxs_perf_udp_client_rx((int)(e->data >> 8));
		return;
	}
	hxs_perf_tcp_event(e->data);
}

int hxs_perf_loop(void)
{
	struct hxs_event evs[MAX_EVENTS];
	uint64_t now;
	int n, i;

	for (;;) {
		n = hxs_appnet_epoll_wait(hxs_perf.an, hxs_perf.epfd, evs, MAX_EVENTS, hxs_perf.o.server ? 200 : 20);
		if (hxs_prog__wait_failed(&hxs_perf.prog, n))
			return n;
		for (i = 0; i < n; i++)
			dispatch(&evs[i]);
		if (hxs_perf.o.server) {
			if (hxs_perf.stopping)
				return 0;
			if (hxs_perf.accept_resume_ns && hxs_appnet_now_ns() >= hxs_perf.accept_resume_ns) {
				struct hxs_event ev = { .events = EPOLLIN, .data = HXS_PERF_TAG_LISTEN };

				if (hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_ADD, hxs_perf.lfd, &ev) == 0)
					hxs_perf.accept_resume_ns = 0;
			}
			continue;
		}
		now = hxs_appnet_now_ns();
		if (hxs_perf.o.count && !hxs_perf.client_stop && !hxs_perf.stopping && now >= hxs_perf.end_ns) {
			fprintf(stderr, "hxs-perf: -n %llu not done within -t %.0f s\n",
				(unsigned long long)hxs_perf.o.count, hxs_perf.o.secs);
			hxs_perf.res.errors++;
			hxs_perf.res.all_verified = false;
		}
		if (hxs_perf.o.count && !hxs_perf.client_stop &&
		    (hxs_perf.o.mode == HXS_PERF_UDP ? hxs_perf.udp_slots_done == hxs_perf.o.conns : hxs_perf.active == 0)) {
			hxs_perf.client_stop = true;     /* -n: all the work is done */
			hxs_perf.res.t_end = now;
		}
		if (!hxs_perf.client_stop && (now >= hxs_perf.end_ns || hxs_perf.stopping)) {
			hxs_perf.client_stop = true;
			hxs_perf.res.t_end = now;
		}
		if (hxs_perf.o.mode == HXS_PERF_UDP) {
			hxs_perf_udp_client_timeouts();
			if (hxs_perf.client_stop)
				return 0;
			continue;
		}
		if (hxs_perf.client_stop && hxs_perf.active == 0)
			return 0;
		if (now > hxs_perf.end_ns + GRACE_NS) {
			fprintf(stderr, "hxs-perf: %d connection(s) did not finish %.0f s after the run: peer stalled\n",
				hxs_perf.active, (double)GRACE_NS / 1e9);
			hxs_perf.res.errors += (uint64_t)hxs_perf.active;
			hxs_perf.res.all_verified = false;
			return -ETIMEDOUT;
		}
	}
}
