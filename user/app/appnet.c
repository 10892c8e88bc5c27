/* appnet.c - picks the socket backend of a program and the helpers both backends share.
 *
 * hxs_appnet__open() -> ops->open()       (appnet_kernel.c or appnet_hxs.c)
 * hxs_appnet_epoll_wait() -> ops->epoll_wait() [-> again with 0 ms while busy polling, unless
 *                            the backend busy-polls inside (ops->busy_inside: hxs)]
 * hxs_appnet__close() -> ops->close()
 * Kernel backend with opts.napi_thread: hxs_napi__thread(ifname) at open, __unthread at close
 * (the hxs backend's stack does the same itself).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appnet.h"
#include "ctl/napi.h"

int hxs_appnet__open(struct hxs_appnet **out, const struct hxs_appnet_opts *opts)
{
	struct hxs_appnet *an;
	int err;

	an = calloc(1, sizeof(*an));
	if (!an)
		return -ENOMEM;
	an->ops = opts->kernel ? &hxs_appnet_kernel_ops : &hxs_appnet_hxs_ops;
	an->busy_poll = opts->busy_poll;
	an->addr = htonl(INADDR_ANY);
	err = an->ops->open(an, opts);
	if (err)
		goto free_an;
	if (opts->kernel && opts->napi_thread) {
		err = opts->ifname && strlen(opts->ifname) < sizeof(an->napi_if) ?
		      hxs_napi__thread(opts->ifname, opts->napi_cpu) : -EINVAL;
		if (err < 0)
			goto close_an;
		strcpy(an->napi_if, opts->ifname);
	}
	*out = an;
	return 0;
close_an:
	an->ops->close(an, NULL);
free_an:
	free(an);
	return err;
}

void hxs_appnet__close(struct hxs_appnet *an, FILE *report)
{
	if (!an)
		return;
	an->ops->close(an, report);
	if (an->napi_if[0])
		hxs_napi__unthread(an->napi_if);
	free(an);
}

uint64_t hxs_appnet_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hxs_appnet_epoll_wait(struct hxs_appnet *an, int epfd, struct hxs_event *evs, int max, int timeout_ms)
{
	uint64_t deadline;
	int n;

	if (!an->busy_poll || timeout_ms == 0 || an->ops->busy_inside)
		return an->ops->epoll_wait(an, epfd, evs, max, timeout_ms);
	/* Busy polling: never sleep; a blocked wake-up of an idle vCPU costs tens of µs. */
	deadline = timeout_ms < 0 ? UINT64_MAX : hxs_appnet_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		n = an->ops->epoll_wait(an, epfd, evs, max, 0);
		if (n != 0 || hxs_appnet_now_ns() >= deadline)
			return n;
	}
}

int hxs_appnet_abort(struct hxs_appnet *an, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	return hxs_appnet_setsockopt(an, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

int hxs_appnet_parse_addr(const char *s, uint16_t port, struct sockaddr_in6 *sin)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 4], *pct;
	struct in_addr a4;
	size_t n = strlen(s);

	memset(sin, 0, sizeof(*sin));
	sin->sin6_family = AF_INET6;
	sin->sin6_port = htons(port);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		sin->sin6_addr.s6_addr[10] = sin->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin->sin6_addr.s6_addr[12], &a4, 4);
		return 0;
	}
	if (s[0] == '[' && n > 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	pct = strchr(buf, '%');
	if (pct) {
		/* RFC 4007 §11: a zone: an interface name or index */
		*pct++ = 0;
		sin->sin6_scope_id = if_nametoindex(pct);
		if (!sin->sin6_scope_id)
			sin->sin6_scope_id = (uint32_t)strtoul(pct, NULL, 10);
		if (!sin->sin6_scope_id)
			return -EINVAL;
	}
	return inet_pton(AF_INET6, buf, &sin->sin6_addr) == 1 ? 0 : -EINVAL;
}

const char *hxs_appnet_ntop(const struct sockaddr_in6 *sin, char *buf, size_t n)
{
	if (IN6_IS_ADDR_V4MAPPED(&sin->sin6_addr))
		return inet_ntop(AF_INET, &sin->sin6_addr.s6_addr[12], buf, (socklen_t)n);
	return inet_ntop(AF_INET6, &sin->sin6_addr, buf, (socklen_t)n);
}

void hxs_appnet_any(struct sockaddr_in6 *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin6_family = AF_INET6;
	sin->sin6_port = htons(port);
}
