/* appnet.h - the socket operations hxs's programs use, behind a table with two backends.
 *
 * hxs-httpd and hxs-perf run the same code on the kernel's sockets (`--kernel`) and on hxs,
 * so one workload measures both stacks. Every call follows include/hxs/hxs.h: it returns a
 * non-negative result or a negative errno, and events are struct hxs_event (epoll-shaped).
 *
 *   hxs_appnet__open(&an, &opts)  -> ops = kernel (appnet_kernel.c) or hxs (appnet_hxs.c)
 *   hxs_appnet_socket(an, ...) -> an->ops->socket(an, ...)     (all calls: one indirection)
 *   hxs_appnet_epoll_wait(an, ...) -> an->ops->epoll_wait()    (busy_poll: spins with 0 ms)
 *   hxs_appnet__close(an)         -> prints the stack's counters (hxs), frees
 *
 * Kernel backend: syscalls with -1/errno turned into -errno, Linux epoll, MSG_NOSIGNAL on
 * every send. hxs backend: the hxs_* calls on one struct hxs_stack opened on opts.ifname.
 */
#ifndef HXS_APPNET_H
#define HXS_APPNET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <hxs/hxs.h>

struct hxs_appnet;

struct hxs_appnet_opts {
	const char *ifname;     /* hxs: required; kernel: optional (only described) */
	bool kernel;            /* true: kernel sockets; false: hxs */
	bool busy_poll;         /* spin in epoll_wait instead of sleeping */
	int verbose;
	const char *stats_name; /* hxs: name for `hxs stat`; NULL = ifname */
	bool napi_thread;       /* threaded NAPI on ifname, its threads on CPU napi_cpu (-1: any):
	                         * hxs: hxs_stack_opts.napi_thread; kernel: set at open, reset at
	                         * close (the interface needs NAPI: GRO on for a plain veth) */
	int napi_cpu;
};

/* Sender/receiver-side TCP figures, from TCP_INFO on either stack. */
struct hxs_appnet_tcpinfo {
	uint64_t total_retrans; /* segments retransmitted over the connection's life */
	uint32_t rtt_us;
	uint32_t snd_cwnd;
};

struct hxs_appnet_ops {
	const char *name;       /* "kernel" or "hxs" */
	/* Busy polling happens inside epoll_wait (hxs: the stack's own busy loop, which never
	 * sleeps and reads the clock once a full turn): hxs_appnet_epoll_wait passes the
	 * timeout through instead of spinning on 0 ms calls with a clock read each. */
	bool busy_inside;
	int  (*open)(struct hxs_appnet *an, const struct hxs_appnet_opts *o);
	void (*close)(struct hxs_appnet *an, FILE *report);
	/* AF_INET6, dual-stack (IPV6_V6ONLY off): IPv4 addresses as ::ffff:a.b.c.d throughout */
	int  (*socket)(struct hxs_appnet *an, int type);             /* type | SOCK_NONBLOCK */
	int  (*bind)(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin);
	int  (*listen)(struct hxs_appnet *an, int fd, int backlog);
	int  (*accept)(struct hxs_appnet *an, int fd, struct sockaddr_in6 *peer, int flags);
	int  (*connect)(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin);
	ssize_t (*send)(struct hxs_appnet *an, int fd, const void *buf, size_t len);
	ssize_t (*recv)(struct hxs_appnet *an, int fd, void *buf, size_t len);
	ssize_t (*sendto)(struct hxs_appnet *an, int fd, const void *buf, size_t len,
			  const struct sockaddr_in6 *to);
	ssize_t (*recvfrom)(struct hxs_appnet *an, int fd, void *buf, size_t len,
			    struct sockaddr_in6 *from);
	int  (*shutdown)(struct hxs_appnet *an, int fd, int how);
	int  (*close_fd)(struct hxs_appnet *an, int fd);
	int  (*setsockopt)(struct hxs_appnet *an, int fd, int level, int name, const void *v, socklen_t l);
	int  (*getsockopt)(struct hxs_appnet *an, int fd, int level, int name, void *v, socklen_t *l);
	int  (*getsockname)(struct hxs_appnet *an, int fd, struct sockaddr_in6 *sin);
	int  (*tcpinfo)(struct hxs_appnet *an, int fd, struct hxs_appnet_tcpinfo *ti);
	int  (*epoll_create)(struct hxs_appnet *an);
	int  (*epoll_ctl)(struct hxs_appnet *an, int epfd, int op, int fd, const struct hxs_event *ev);
	int  (*epoll_wait)(struct hxs_appnet *an, int epfd, struct hxs_event *evs, int max, int timeout_ms);
	int  (*epoll_close)(struct hxs_appnet *an, int epfd);
};

struct hxs_appnet {
	const struct hxs_appnet_ops *ops;
	struct hxs_stack *st;   /* hxs backend only */
	bool busy_poll;
	uint32_t addr;          /* address servers bind to (network order); INADDR_ANY on kernel */
	char desc[256];
	char napi_if[16];       /* kernel backend: the interface it made threaded ("": none) */
};

extern const struct hxs_appnet_ops hxs_appnet_kernel_ops;
extern const struct hxs_appnet_ops hxs_appnet_hxs_ops;

/* Opens the backend opts->kernel selects. Returns 0 or -errno. */
int hxs_appnet__open(struct hxs_appnet **out, const struct hxs_appnet_opts *opts);
/* Closes the backend; the hxs one writes the stack's counters to report (may be NULL). */
void hxs_appnet__close(struct hxs_appnet *an, FILE *report);
static inline const char *hxs_appnet__name(const struct hxs_appnet *an) { return an->ops->name; }
static inline const char *hxs_appnet__describe(const struct hxs_appnet *an) { return an->desc; }

/* Waits for events; with busy_poll set it polls with a zero timeout until one is ready or
 * timeout_ms passed, so the thread never sleeps. */
int hxs_appnet_epoll_wait(struct hxs_appnet *an, int epfd, struct hxs_event *evs, int max, int timeout_ms);

static inline int hxs_appnet_socket(struct hxs_appnet *an, int type)
{ return an->ops->socket(an, type); }
static inline int hxs_appnet_bind(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin)
{ return an->ops->bind(an, fd, sin); }
static inline int hxs_appnet_listen(struct hxs_appnet *an, int fd, int backlog)
{ return an->ops->listen(an, fd, backlog); }
static inline int hxs_appnet_accept(struct hxs_appnet *an, int fd, struct sockaddr_in6 *peer, int flags)
{ return an->ops->accept(an, fd, peer, flags); }
static inline int hxs_appnet_connect(struct hxs_appnet *an, int fd, const struct sockaddr_in6 *sin)
{ return an->ops->connect(an, fd, sin); }
static inline ssize_t hxs_appnet_send(struct hxs_appnet *an, int fd, const void *buf, size_t len)
{ return an->ops->send(an, fd, buf, len); }
static inline ssize_t hxs_appnet_recv(struct hxs_appnet *an, int fd, void *buf, size_t len)
{ return an->ops->recv(an, fd, buf, len); }
static inline ssize_t hxs_appnet_sendto(struct hxs_appnet *an, int fd, const void *buf, size_t len,
					const struct sockaddr_in6 *to)
{ return an->ops->sendto(an, fd, buf, len, to); }
static inline ssize_t hxs_appnet_recvfrom(struct hxs_appnet *an, int fd, void *buf, size_t len,
					  struct sockaddr_in6 *from)
{ return an->ops->recvfrom(an, fd, buf, len, from); }
static inline int hxs_appnet_shutdown(struct hxs_appnet *an, int fd, int how)
{ return an->ops->shutdown(an, fd, how); }
static inline int hxs_appnet_close(struct hxs_appnet *an, int fd)
{ return an->ops->close_fd(an, fd); }
static inline int hxs_appnet_setsockopt(struct hxs_appnet *an, int fd, int level, int name,
					const void *v, socklen_t l)
{ return an->ops->setsockopt(an, fd, level, name, v, l); }
static inline int hxs_appnet_getsockopt(struct hxs_appnet *an, int fd, int level, int name,
					void *v, socklen_t *l)
{ return an->ops->getsockopt(an, fd, level, name, v, l); }
static inline int hxs_appnet_getsockname(struct hxs_appnet *an, int fd, struct sockaddr_in6 *sin)
{ return an->ops->getsockname(an, fd, sin); }
static inline int hxs_appnet_tcpinfo(struct hxs_appnet *an, int fd, struct hxs_appnet_tcpinfo *ti)
{ return an->ops->tcpinfo(an, fd, ti); }
static inline int hxs_appnet_epoll_create(struct hxs_appnet *an)
{ return an->ops->epoll_create(an); }
static inline int hxs_appnet_epoll_ctl(struct hxs_appnet *an, int epfd, int op, int fd,
				       const struct hxs_event *ev)
{ return an->ops->epoll_ctl(an, epfd, op, fd, ev); }
static inline int hxs_appnet_epoll_close(struct hxs_appnet *an, int epfd)
{ return an->ops->epoll_close(an, epfd); }

/* SO_LINGER {1, 0}: the next close sends RST (used to abort broken peers). */
int hxs_appnet_abort(struct hxs_appnet *an, int fd);
/* Parses "a.b.c.d" (as ::ffff:a.b.c.d), an IPv6 address ("fd00::1", "[fe80::1%eth0]") into
 * sin with port; returns 0 or -EINVAL. */
int hxs_appnet_parse_addr(const char *s, uint16_t port, struct sockaddr_in6 *sin);
/* The address of sin as text: dotted for an IPv4-mapped one, else IPv6 (no brackets). */
const char *hxs_appnet_ntop(const struct sockaddr_in6 *sin, char *buf, size_t n);
/* The wildcard servers bind to: :: (both families), port in host order. */
void hxs_appnet_any(struct sockaddr_in6 *sin, uint16_t port);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hxs_appnet_now_ns(void);

#endif
