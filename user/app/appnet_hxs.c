/* appnet_hxs.c - the hxs backend of appnet: each op is the matching hxs_* call on the one
 * stack the program opened on its interface (include/hxs/hxs.h already returns -errno and
 * speaks struct hxs_event, so this is a thin table).
 *
 * hxs_open() -> hxs_stack__open(ifname) -> servers bind to hxs_stack__addr()
 * hb_close() -> hxs_stack__poll() until TX completions are in -> hxs_stack__print_counters()
 *            -> hxs_stack__close()     (closes sockets, detaches)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "appnet.h"

static int hb_open(struct hxs_appnet *an, const struct hxs_appnet_opts *o)
{
	struct hxs_stack_opts so = {
		.ifname = o->ifname,
		.busy_poll = o->busy_poll,
		.verbose = o->verbose,
		.stats_name = o->stats_name,
		.napi_thread = o->napi_thread,
		.napi_cpu = o->napi_cpu,
	};
	int err;

	if (!o->ifname)
		return -EINVAL;
	err = hxs_stack__open(&an->st, &so);
	if (err)
		return err;
	an->addr = hxs_stack__addr(an->st);
	snprintf(an->desc, sizeof(an->desc), "hxs: %s", hxs_stack__describe(an->st));
	return 0;
}

static void hb_close(struct hxs_appnet *an, FILE *report)
{
	int i;

	if (report) {
		/* Let transmitted frames complete so "free" means "not leaked". */
		for (i = 0; i < 20; i++)
			hxs_stack__poll(an->st, 5);
		fprintf(report, "hxs: stack counters at exit:\n");
		hxs_stack__print_counters(an->st, report, 0);
		fflush(report);
	}
	hxs_stack__close(an->st);
	an->st = NULL;
}

static int hb_socket(struct hxs_appnet *an, int type)
{
	return hxs_socket(an->st, AF_INET6, type, 0);
}

static int hb_bind(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin)
{
	return hxs_bind(an->st, fd, (const struct sockaddr *)sin, sizeof(*sin));
}

static int hb_listen(struct hxs_appnet *an, int fd, int backlog)
{
	return hxs_listen(an->st, fd, backlog);
}

static int hb_accept(struct hxs_appnet *an, int fd, struct sockaddr_in6 *peer, int flags)
{
	socklen_t len = sizeof(*peer);

	return hxs_accept4(an->st, fd, (struct sockaddr *)peer, peer ? &len : NULL, flags);
}

static int hb_connect(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin)
{
	return hxs_connect(an->st, fd, (const struct sockaddr *)sin, sizeof(*sin));
}

static ssize_t hb_send(struct hxs_appnet *an, int fd, const void *buf, size_t len)
{
	return hxs_send(an->st, fd, buf, len, 0);
}

static ssize_t hb_recv(struct hxs_appnet *an, int fd, void *buf, size_t len)
{
	return hxs_recv(an->st, fd, buf, len, 0);
}

static ssize_t hb_sendto(struct hxs_appnet *an, int fd, const void *buf, size_t len,
			   const struct sockaddr_in6 *to)
{
	return hxs_sendto(an->st, fd, buf, len, 0, (const struct sockaddr *)to, to ? sizeof(*to) : 0);
}

static ssize_t hb_recvfrom(struct hxs_appnet *an, int fd, void *buf, size_t len,
			     struct sockaddr_in6 *from)
{
	socklen_t fl = sizeof(*from);

	return hxs_recvfrom(an->st, fd, buf, len, 0, (struct sockaddr *)from, from ? &fl : NULL);
}

static int hb_shutdown(struct hxs_appnet *an, int fd, int how)
{
	return hxs_shutdown(an->st, fd, how);
}

static int hb_close_fd(struct hxs_appnet *an, int fd)
{
	return hxs_close(an->st, fd);
}

static int hb_setsockopt(struct hxs_appnet *an, int fd, int level, int name, const void *v, socklen_t l)
{
	return hxs_setsockopt(an->st, fd, level, name, v, l);
}

static int hb_getsockopt(struct hxs_appnet *an, int fd, int level, int name, void *v, socklen_t *l)
{
	return hxs_getsockopt(an->st, fd, level, name, v, l);
}

static int hb_getsockname(struct hxs_appnet *an, int fd, struct sockaddr_in6 *sin)
{
	socklen_t l = sizeof(*sin);

	return hxs_getsockname(an->st, fd, (struct sockaddr *)sin, &l);
}

static int hb_tcpinfo(struct hxs_appnet *an, int fd, struct hxs_appnet_tcpinfo *ti)
{
	struct hxs_tcp_info h;
	socklen_t l = sizeof(h);
	int err;

	memset(&h, 0, sizeof(h));
	err = hxs_getsockopt(an->st, fd, IPPROTO_TCP, TCP_INFO, &h, &l);
	if (err < 0)
		return err;
	ti->total_retrans = h.total_retrans;
	ti->rtt_us = h.rtt_us;
	ti->snd_cwnd = h.snd_cwnd;
	return 0;
}

static int hb_epoll_create(struct hxs_appnet *an)
{
	return hxs_epoll_create(an->st);
}

static int hb_epoll_ctl(struct hxs_appnet *an, int epfd, int op, int fd, const struct hxs_event *ev)
{
	return hxs_epoll_ctl(an->st, epfd, op, fd, ev);
}

static int hb_epoll_wait(struct hxs_appnet *an, int epfd, struct hxs_event *evs, int max, int timeout_ms)
{
	return hxs_epoll_wait(an->st, epfd, evs, max, timeout_ms);
}

static int hb_epoll_close(struct hxs_appnet *an, int epfd)
{
	return hxs_epoll_close(an->st, epfd);
}

const struct hxs_appnet_ops hxs_appnet_hxs_ops = {
	.name = "hxs",
	.busy_inside = true,
	.open = hb_open,
	.close = hb_close,
	.socket = hb_socket,
	.bind = hb_bind,
	.listen = hb_listen,
	.accept = hb_accept,
	.connect = hb_connect,
	.send = hb_send,
	.recv = hb_recv,
	.sendto = hb_sendto,
	.recvfrom = hb_recvfrom,
	.shutdown = hb_shutdown,
	.close_fd = hb_close_fd,
	.setsockopt = hb_setsockopt,
	.getsockopt = hb_getsockopt,
	.getsockname = hb_getsockname,
	.tcpinfo = hb_tcpinfo,
	.epoll_create = hb_epoll_create,
	.epoll_ctl = hb_epoll_ctl,
	.epoll_wait = hb_epoll_wait,
	.epoll_close = hb_epoll_close,
};
