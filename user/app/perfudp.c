/* perfudp.c - hxs-perf's udp mode: request/echo datagrams, one in flight per client socket.
 *
 * hxs_perf_udp_client_setup() -> per slot: hxs_appnet_socket() -> epoll -> udp_send()
 * hxs_perf_udp_client_rx(i) -> check the echo -> hxs_hist_add() -> udp_send() (next)
 * hxs_perf_udp_client_timeouts() -> lost after UDP_TIMEOUT_NS -> udp_send()
 * hxs_perf_udp_server_rx() -> hxs_appnet_recvfrom() -> hxs_appnet_sendto() (echo)
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

#define UDP_TIMEOUT_NS (200ull * 1000000ull)

static int udp_send(int i)
{
	struct hxs_perf_uslot *u = &hxs_perf.uslots[i];
	struct hxs_perf_dgram *d = (struct hxs_perf_dgram *)hxs_perf.scratch;
	ssize_t n;

	memset(hxs_perf.scratch, 0, hxs_perf.o.msg_len);
	u->seq++;
	u->sent_ns = hxs_appnet_now_ns();
	d->magic = htonl(HXS_PERF_DGRAM_MAGIC);
	d->conn = htonl((uint32_t)i);
	d->seq = htobe64(u->seq);
	d->sent_ns = htobe64(u->sent_ns);
	n = hxs_appnet_sendto(hxs_perf.an, u->fd, hxs_perf.scratch, hxs_perf.o.msg_len, &hxs_perf.dst);
	if (n < 0 && n != -EAGAIN) {
		fprintf(stderr, "hxs-perf: udp send: %s\n", strerror((int)-n));
		hxs_perf.res.errors++;
		return (int)n;
	}
	return 0;
}

void hxs_perf_udp_client_rx(int i)
{
	struct hxs_perf_uslot *u = &hxs_perf.uslots[i];
	struct hxs_perf_dgram *d = (struct hxs_perf_dgram *)hxs_perf.scratch;
	struct sockaddr_in6 from;
	ssize_t n;

	for (;;) {
		n = hxs_appnet_recvfrom(hxs_perf.an, u->fd, hxs_perf.scratch, HXS_PERF_RX_CAP, &from);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return;
		if (n < 0) {
			fprintf(stderr, "hxs-perf: udp receive: %s\n", strerror((int)-n));
			hxs_perf.res.errors++;
			return;
		}
		if ((size_t)n != hxs_perf.o.msg_len || ntohl(d->magic) != HXS_PERF_DGRAM_MAGIC ||
		    ntohl(d->conn) != (uint32_t)i) {
			fprintf(stderr, "hxs-perf: udp: malformed echo of %zd bytes (peer misbehaves)\n", n);
			hxs_perf.res.errors++;
			hxs_perf.res.all_verified = false;
			continue;
		}
		if (be64toh(d->seq) != u->seq) {  /* answer to a request we gave up on */
			hxs_perf.res.udp_late++;
			continue;
		}
		hxs_hist_add(&hxs_perf.res.hist, hxs_appnet_now_ns() - u->sent_ns);
		hxs_perf.res.txns++;
		hxs_perf.res.bytes_recv += (uint64_t)n;
		u->done++;
		if (hxs_perf.o.count && u->done == hxs_perf.o.count)
			hxs_perf.udp_slots_done++;
		if (!hxs_perf.client_stop && !hxs_perf.stopping && !(hxs_perf.o.count && u->done >= hxs_perf.o.count))
			udp_send(i);
		else
			u->seq++;   /* nothing more outstanding */
	}
}

int hxs_perf_udp_client_setup(void)
{
	struct hxs_event ev;
	int i, fd, err;

	if (hxs_perf.o.msg_len < sizeof(struct hxs_perf_dgram) || hxs_perf.o.msg_len > 65507) {
		fprintf(stderr, "hxs-perf: udp messages are %zu..65507 bytes\n", sizeof(struct hxs_perf_dgram));
		return -EINVAL;
	}
	hxs_perf.uslots = calloc((size_t)hxs_perf.o.conns, sizeof(*hxs_perf.uslots));
	if (!hxs_perf.uslots)
		return -ENOMEM;
	for (i = 0; i < hxs_perf.o.conns; i++) {
		fd = hxs_appnet_socket(hxs_perf.an, SOCK_DGRAM | SOCK_NONBLOCK);
		if (fd < 0)
			return fd;
		hxs_perf.uslots[i].fd = fd;
		ev.events = EPOLLIN;
		ev.data = ((uint64_t)i << 8) | HXS_PERF_TAG_UDP;
		err = hxs_appnet_epoll_ctl(hxs_perf.an, hxs_perf.epfd, EPOLL_CTL_ADD, fd, &ev);
		if (err)
			return err;
		err = udp_send(i);
		if (err)
			return err;
	}
	return 0;
}

/* Requests unanswered for UDP_TIMEOUT_NS are lost: count and send the next. */
void hxs_perf_udp_client_timeouts(void)
{
	uint64_t now = hxs_appnet_now_ns();
	int i;

	for (i = 0; i < hxs_perf.o.conns; i++)
		if (now - hxs_perf.uslots[i].sent_ns > UDP_TIMEOUT_NS && !hxs_perf.client_stop &&
		    !(hxs_perf.o.count && hxs_perf.uslots[i].done >= hxs_perf.o.count)) {
			hxs_perf.res.udp_lost++;
			udp_send(i);
		}
}

void hxs_perf_udp_server_rx(void)
{
	struct hxs_perf_dgram *d = (struct hxs_perf_dgram *)hxs_perf.scratch;
	struct sockaddr_in6 from;
	ssize_t n;
	int i;

	for (i = 0; i < 64; i++) {
		n = hxs_appnet_recvfrom(hxs_perf.an, hxs_perf.ufd, hxs_perf.scratch, HXS_PERF_RX_CAP, &from);
		if (n < 0)
			return;
		if ((size_t)n < sizeof(*d) || ntohl(d->magic) != HXS_PERF_DGRAM_MAGIC) {
			hxs_perf.srv.udp_bad++;
			continue;
		}
		hxs_perf.srv.udp_in++;
		hxs_appnet_sendto(hxs_perf.an, hxs_perf.ufd, hxs_perf.scratch, (size_t)n, &from);
	}
}

