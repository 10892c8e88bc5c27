/* appnet_kernel.c - the kernel-sockets backend of appnet: each op is one syscall, -1/errno
 * turned into -errno; events come from Linux epoll and are copied into struct hxs_event.
 *
 * kernel_open() -> describes the interface (address from getifaddrs when -i was given)
 * kernel_send() -> send(MSG_NOSIGNAL)  (a reset peer gives -EPIPE, never SIGPIPE)
 * kernel_epoll_wait() -> epoll_wait() -> copy events
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "appnet.h"

/* -1/errno -> -errno; evaluates the call once. */
static inline long ret_of(long r)
{
	return r < 0 ? -errno : r;
}
#define RET(x) ret_of(x)

static int kernel_open(struct hxs_appnet *an, const struct hxs_appnet_opts *o)
{
	struct ifaddrs *ifa, *i;
	char ip[INET_ADDRSTRLEN] = "0.0.0.0";

	if (o->ifname && getifaddrs(&ifa) == 0) {
		for (i = ifa; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			    strcmp(i->ifa_name, o->ifname) == 0) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip));
				break;
			}
		freeifaddrs(ifa);
	}
	snprintf(an->desc, sizeof(an->desc), "kernel sockets%s%s (%s)%s",
		 o->ifname ? " on " : "", o->ifname ? o->ifname : "", ip,
		 o->busy_poll ? ", busy polling" : "");
	return 0;
}

static void kernel_close(struct hxs_appnet *an, FILE *report)
{
}

static int kernel_socket(struct hxs_appnet *an, int type)
{
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
	int off = 0;

	/* dual-stack whatever net.ipv6.bindv6only says, as hxs's sockets */
	if (fd >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));

	return RET(fd);
}

static int kernel_bind(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin)
{
	return RET(bind(fd, (const struct sockaddr *)sin, sizeof(*sin)));
}

static int kernel_listen(struct hxs_appnet *an, int fd, int backlog)
{
	return RET(listen(fd, backlog));
}

static int kernel_accept(struct hxs_appnet *an, int fd, struct sockaddr_in6 *peer, int flags)
{
	socklen_t len = sizeof(*peer);

	return RET(accept4(fd, (struct sockaddr *)peer, peer ? &len : NULL, flags | SOCK_CLOEXEC));
}

static int kernel_connect(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin)
{
	return RET(connect(fd, (const struct sockaddr *)sin, sizeof(*sin)));
}

static ssize_t kernel_send(struct hxs_appnet *an, int fd, const void *buf, size_t len)
{
	return RET(send(fd, buf, len, MSG_NOSIGNAL));
}

static ssize_t kernel_recv(struct hxs_appnet *an, int fd, void *buf, size_t len)
{
	return RET(recv(fd, buf, len, 0));
}

static ssize_t kernel_sendto(struct hxs_appnet *an, int fd, const void *buf, size_t len,
			     const struct sockaddr_in6 *to)
{
	return RET(sendto(fd, buf, len, MSG_NOSIGNAL, (const struct sockaddr *)to, to ? sizeof(*to) : 0));
}

static ssize_t kernel_recvfrom(struct hxs_appnet *an, int fd, void *buf, size_t len,
			       struct sockaddr_in6 *from)
{
	socklen_t fl = sizeof(*from);

	return RET(recvfrom(fd, buf, len, 0, (struct sockaddr *)from, from ? &fl : NULL));
}

static int kernel_shutdown(struct hxs_appnet *an, int fd, int how)
{
	return RET(shutdown(fd, how));
}

static int kernel_close_fd(struct hxs_appnet *an, int fd)
{
	return RET(close(fd));
}

static int kernel_setsockopt(struct hxs_appnet *an, int fd, int level, int name, const void *v, socklen_t l)
{
	return RET(setsockopt(fd, level, name, v, l));
}

static int kernel_getsockopt(struct hxs_appnet *an, int fd, int level, int name, void *v, socklen_t *l)
{
	return RET(getsockopt(fd, level, name, v, l));
}

static int kernel_getsockname(struct hxs_appnet *an, int fd, struct sockaddr_in6 *sin)
{
	socklen_t l = sizeof(*sin);

	return RET(getsockname(fd, (struct sockaddr *)sin, &l));
}

static int kernel_tcpinfo(struct hxs_appnet *an, int fd, struct hxs_appnet_tcpinfo *ti)
{
	struct tcp_info k;
	socklen_t l = sizeof(k);

	memset(&k, 0, sizeof(k));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &k, &l) < 0)
		return -errno;
	ti->total_retrans = k.tcpi_total_retrans;
	ti->rtt_us = k.tcpi_rtt;
	ti->snd_cwnd = k.tcpi_snd_cwnd;
	return 0;
}

static int kernel_epoll_create(struct hxs_appnet *an)
{
	return RET(epoll_create1(EPOLL_CLOEXEC));
}

static int kernel_epoll_ctl(struct hxs_appnet *an, int epfd, int op, int fd, const struct hxs_event *ev)
{
	struct epoll_event e = { 0 };

	if (ev) {
		e.events = ev->events;
		e.data.u64 = ev->data;
	}
	return RET(epoll_ctl(epfd, op, fd, &e));
}

static int kernel_epoll_wait(struct hxs_appnet *an, int epfd, struct hxs_event *evs, int max, int timeout_ms)
{
	struct epoll_event e[256];
	int n, i;

	if (max > 256)
		max = 256;
	n = epoll_wait(epfd, e, max, timeout_ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		evs[i].events = e[i].events;
		evs[i].data = e[i].data.u64;
	}
	return n;
}

static int kernel_epoll_close(struct hxs_appnet *an, int epfd)
{
	return RET(close(epfd));
}

const struct hxs_appnet_ops hxs_appnet_kernel_ops = {
	.name = "kernel",
	.open = kernel_open,
	.close = kernel_close,
	.socket = kernel_socket,
	.bind = kernel_bind,
	.listen = kernel_listen,
	.accept = kernel_accept,
	.connect = kernel_connect,
	.send = kernel_send,
	.recv = kernel_recv,
	.sendto = kernel_sendto,
	.recvfrom = kernel_recvfrom,
	.shutdown = kernel_shutdown,
	.close_fd = kernel_close_fd,
	.setsockopt = kernel_setsockopt,
	.getsockopt = kernel_getsockopt,
	.getsockname = kernel_getsockname,
	.tcpinfo = kernel_tcpinfo,
	.epoll_create = kernel_epoll_create,
	.epoll_ctl = kernel_epoll_ctl,
	.epoll_wait = kernel_epoll_wait,
	.epoll_close = kernel_epoll_close,
};
