/* sock.h - the socket layer's internals: the generic socket every protocol embeds, the table
 * of protocol operations socket.c dispatches through, the port table, and readiness events.
 *
 * A protocol (udp.c; TCP through its glue) provides a struct hxs_proto_ops and registers it
 * for a socket type with hxs_sock__register_proto(). socket.c implements the public API of
 * include/hxs/hxs.h once for every protocol:
 *
 *   hxs_recv() -> sock_wait() -> ops->recvmsg()           returns -EAGAIN while it would block
 *                   \-> hxs_stack__poll()                  blocking: run the loop, retry, until
 *                                                          SO_RCVTIMEO passes
 * Operations never block; only socket.c's API calls do (sock_wait: the loop turns until the
 * operation stops saying -EAGAIN). They return -EAGAIN when they would; socket.c turns that into
 * waiting (blocking socket) or -EAGAIN to the caller (O_NONBLOCK / MSG_DONTWAIT). Whenever a
 * protocol changes what ops->poll() would say (data arrived, space freed, error, state
 * change), it calls hxs_sock__wake(sk): epoll entries are queued on their ready lists there,
 * so hxs_epoll_wait() never scans all sockets.
 *
 * Addresses and ports in struct hxs_sock are in network byte order.
 */
#ifndef HXS_SOCK_H
#define HXS_SOCK_H

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lib/port_sel.h"
#include "net/ip.h"

struct hxs_stack;
struct hxs_sock;
struct hxs_epitem;
struct hxs_epoll;

/* A stack's sockets (st->sockets, made by hxs_socket__init): descriptors, protocols, ports,
 * epoll instances. */
/* One destination's ICMP rate limit (udp_unreach.c). */
#define HXS_UNREACH_PEERS 64
struct hxs_unreach_peer {
	uint32_t addr;
	uint64_t tokens, last;          /* us */
};

struct hxs_socktab {
	struct hxs_sock **socks;                     /* by descriptor */
	int nsocks;
	const struct hxs_proto_ops *proto_dgram, *proto_stream;
	void *stream_ctx;                            /* TCP's per-stack glue (tcp_sock.c) */
	struct hxs_sock **ports_udp, **ports_tcp;    /* 65536 chains each, allocated on first bind */
	uint32_t next_owner;
	struct hxs_port_sel port_sel;                /* RFC 6056 Algorithm 4 state */
	/* ICMP port unreachable (udp_unreach.c): off (HXS_ICMP_UNREACH=0), the kernel's global
	 * and per-destination rate limits, and what was sent or held back */
	uint8_t icmp_off;
	uint32_t icmp_credit;
	uint64_t icmp_stamp;
	struct hxs_unreach_peer icmp_peers[HXS_UNREACH_PEERS];
	uint64_t icmp_sent, icmp_limited;
	struct hxs_epoll **eps;                      /* epoll instances (epoll.c), by id */
	int neps;
	/* Kernel TCP sockets holding ephemeral ports no hxs socket uses now (socket.c, kept
	 * reservations): one per port of [eph_rsv_lo, eph_rsv_hi]; NULL until the first one */
	struct hxs_eph_rsv *eph_rsv;
	uint16_t eph_rsv_lo, eph_rsv_hi;             /* the range they were made for */
};

/* What recvmsg's control messages and flags tell of a datagram (udp.c). */
struct hxs_rx_meta {
	uint32_t full_len;              /* the datagram's length (MSG_TRUNC) */
	uint32_t daddr;                 /* its IPv4 destination (IP_PKTINFO ipi_addr) */
	uint32_t spec_dst;              /* the local address it came to (ipi_spec_dst) */
	int ifindex;                    /* the interface it came in on (ipi_ifindex) */
	uint8_t tos;                    /* its TOS byte (IP_TOS) */
	uint8_t want_pktinfo, want_tos; /* IP_PKTINFO / IP_RECVTOS set on the socket */
	uint8_t valid;                  /* filled */
};

struct hxs_eph_rsv {
	int fd;                                      /* -1: none held */
	struct hxs_addr addr;                        /* the address it is bound to, */
	uint8_t family, v6only;                      /* its family and IPV6_V6ONLY */
};

/* Addresses cross this table as struct sockaddr_in6 whatever the socket's family: an IPv4
 * address as ::ffff:a.b.c.d (lib/addr.h), as a dual-stack socket sees it; socket.c converts
 * at the API (hxs_sock__sa_in / hxs_sock__sa_out). */
struct hxs_proto_ops {
	const char *name;
	uint8_t ipproto;                /* IPPROTO_UDP / IPPROTO_TCP: selects the port table */
	size_t obj_size;                /* bytes to allocate for the protocol's socket, which
					 * embeds struct hxs_sock as its first member */
	/* Called after allocation (sk zeroed, generic fields set). 0 or -errno. */
	int (*init)(struct hxs_sock *sk);
	/* After socket.c reserved the port (hxs_sock__bind_port); a protocol may refuse. */
	int (*bind)(struct hxs_sock *sk, const struct sockaddr_in6 *addr);
	int (*listen)(struct hxs_sock *sk, int backlog);
	/* Takes an established child: *child must come from hxs_sock__alloc(); socket.c gives it
	 * an fd. -EAGAIN when the queue is empty. */
	int (*accept)(struct hxs_sock *sk, struct hxs_sock **child);
	/* nonblock: the caller's O_NONBLOCK. Never waits. Returns 0 (done), -EINPROGRESS (started),
	 * -EALREADY (in progress), -EISCONN, or -errno. A blocking hxs_connect() then turns the
	 * loop and asks again with addr NULL ("how does the attempt stand?": -EALREADY while in
	 * progress, else its outcome) until SO_SNDTIMEO. addr->sin_family == AF_UNSPEC dissolves
	 * the association (UDP). */
	int (*connect)(struct hxs_sock *sk, const struct sockaddr_in6 *addr, int nonblock);
	/* Bytes sent/queued, or -EAGAIN (no room: blocking callers wait for EPOLLOUT) or -errno.
	 * to is NULL for send()/writev(). */
	ssize_t (*sendmsg)(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			   const struct sockaddr_in6 *to);
	/* Bytes received (a datagram is truncated to the buffers), 0 at EOF, -EAGAIN, -errno.
	 * from and meta may be NULL; a datagram protocol fills meta. */
	ssize_t (*recvmsg)(struct hxs_sock *sk, const struct iovec *iov, int iovcnt, int flags,
			   struct sockaddr_in6 *from, struct hxs_rx_meta *meta);
	int (*shutdown)(struct hxs_sock *sk, int how);
	/* The fd is going away (already removed from the table and from every epoll set). The
	 * protocol either lets go (socket.c then calls hxs_sock__free: port released,
	 * ops->destroy, memory freed), or keeps sk alive on its own (TCP: FIN/TIME_WAIT) by
	 * setting HXS_SOCK_F_KEEPPORT and calling hxs_sock__free(sk) itself when done. */
	void (*close)(struct hxs_sock *sk);
	/* Frees what init allocated (called by hxs_sock__free). May be NULL. */
	void (*destroy)(struct hxs_sock *sk);
	/* Readiness: EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP as now. */
	uint32_t (*poll)(struct hxs_sock *sk);
	/* Levels other than SOL_SOCKET's generic options. -ENOPROTOOPT if unknown. */
	int (*setsockopt)(struct hxs_sock *sk, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(struct hxs_sock *sk, int level, int name, void *val, socklen_t *len);
	/* ioctl(2) requests of the protocol (SIOCATMARK, SIOCINQ, SIOCOUTQ); NULL: -ENOTTY. */
	int (*ioctl)(struct hxs_sock *sk, unsigned long req, int *arg);
	/* Fills addr with the local (peer = 0) or remote (peer = 1) address; -ENOTCONN. May be
	 * NULL: socket.c then uses laddr/lport/raddr/rport and HXS_SOCK_F_CONNECTED. */
	int (*getname)(struct hxs_sock *sk, struct sockaddr_in6 *addr, int peer);
};

/* sk->flags */
#define HXS_SOCK_F_NONBLOCK   (1u << 0)
#define HXS_SOCK_F_REUSEADDR  (1u << 1)
#define HXS_SOCK_F_BOUND      (1u << 2)   /* holds a port in the port table */
#define HXS_SOCK_F_CONNECTED  (1u << 3)   /* has a default peer (raddr/rport) */
#define HXS_SOCK_F_RD_SHUT    (1u << 4)
#define HXS_SOCK_F_WR_SHUT    (1u << 5)
#define HXS_SOCK_F_KEEPPORT   (1u << 6)   /* protocol keeps the port after close */
#define HXS_SOCK_F_KEEPALIVE  (1u << 7)
#define HXS_SOCK_F_OOBINLINE  (1u << 8)   /* SO_OOBINLINE: urgent data stays in line (TCP) */
#define HXS_SOCK_F_NOENTRY    (1u << 9)   /* the port holds no XDP bind entry: a TCP port
                                           * connect() chose, whose 4-tuple entry steers
                                           * (a TCP bind entry without LISTEN steers nothing) */
#define HXS_SOCK_F_BROADCAST  (1u << 10)  /* SO_BROADCAST: may send to a broadcast address */

/* Kernel defaults (net.core.rmem_default / wmem_default) and limits. */
#define HXS_SOCK_RCVBUF_DEFAULT  212992u
#define HXS_SOCK_SNDBUF_DEFAULT  212992u
#define HXS_SOCK_RCVBUF_MIN      2304u     /* SOCK_MIN_RCVBUF */
#define HXS_SOCK_SNDBUF_MIN      4608u     /* SOCK_MIN_SNDBUF */
#define HXS_SOCK_BUF_MAX         (16u << 20)
/* TCP's buffers unless the socket or the stack sets them (tcp_sock.c glue_get): Linux's
 * tcp_wmem[2] and tcp_rmem[2]; one connection's out-of-order bytes may fill its receive buffer,
 * and at least the core's own 1 MiB */
#define HXS_TCP_SNDBUF_DEFAULT   (4u << 20)
#define HXS_TCP_RCVBUF_DEFAULT   (6u << 20)
#define HXS_TCP_OFO_CONN_MIN     (1u << 20)

struct hxs_sock {
	struct hxs_stack *st;
	const struct hxs_proto_ops *ops;
	int fd;                       /* -1 once closed (e.g. TCP lingering in TIME_WAIT) */
	int type;                     /* SOCK_DGRAM / SOCK_STREAM */
	uint32_t flags;               /* HXS_SOCK_F_* */
	int err;                      /* pending error for SO_ERROR / next call (positive errno) */
	uint32_t rcvbuf, sndbuf;      /* bytes, as getsockopt reports them (doubled like Linux) */
	uint32_t rcvlowat;            /* SO_RCVLOWAT, >= 1: a stream is readable, and a blocking
				       * read returns, from this many bytes on */
	int64_t rcvtimeo_us, sndtimeo_us;  /* 0 = forever, < 0 = no wait */
	struct linger linger;
	struct hxs_addr laddr, raddr; /* IPv4 as ::ffff:a.b.c.d; unbound: all zero */
	uint16_t lport, rport;        /* network order */
	uint8_t family;               /* AF_INET or AF_INET6 (the socket's domain) */
	uint8_t v6only;               /* IPV6_V6ONLY: an AF_INET6 socket takes no IPv4 */
	uint8_t ttl;                  /* IP_TTL (UDP); 0: the default, HXS_IP_TTL */
	uint8_t tos;                  /* IP_TOS (UDP) */
	int kfd;                      /* kernel socket holding the port; -1 if none */
	struct hxs_sock *port_next;   /* chain of sockets bound to the same port */
	struct hxs_epitem *epi;       /* epoll registrations of this socket */
	uint32_t rx_owner;            /* hxs_bind_val.owner installed for this socket */
	struct hxs_tx_owner txo;      /* its frames waiting for a neighbour: EHOSTUNREACH here */
};

/* The socket layer of a stack, as user/open/ assembles it:
 *   hxs_socket__init()  the table (st->sockets) and the RFC 6056 keys
 *   hxs_udp__attach()   SOCK_DGRAM sockets and the IPPROTO_UDP input (udp.c)
 *   hxs_tcp_sock__attach()  SOCK_STREAM sockets (tcp_sock.h)
 *   close: hxs_epoll__close_all(), hxs_socket__close_all() (every descriptor),
 *          hxs_tcp_sock__fini() (what outlived its descriptor), hxs_socket__fini() */
int hxs_socket__init(struct hxs_stack *st);
void hxs_socket__close_all(struct hxs_stack *st);
/* Frees the port tables and the table (after every socket is gone). */
void hxs_socket__fini(struct hxs_stack *st);
int hxs_udp__attach(struct hxs_stack *st);
/* Ephemeral port range for port 0 binds (host order, inclusive). */
int hxs_stack__set_port_range(struct hxs_stack *st, uint16_t lo, uint16_t hi);
extern const struct hxs_proto_ops hxs_udp_ops;
/* ICMP port unreachable about pkt (a UDP datagram no socket took), rate limited
 * (udp_unreach.c). */
void hxs_udp__port_unreach(struct hxs_stack *st, const struct hxs_ip_rx *pkt);

/* Registers the operations for (SOCK_DGRAM | SOCK_STREAM) sockets of a stack. */
int hxs_sock__register_proto(struct hxs_stack *st, int type, const struct hxs_proto_ops *ops);
/* Allocates a protocol socket (ops->obj_size bytes, zeroed, generic fields defaulted, ops->init
 * called) without an fd. */
struct hxs_sock *hxs_sock__alloc(struct hxs_stack *st, int type, const struct hxs_proto_ops *ops);
/* Gives sk the lowest free descriptor; -EMFILE. */
int hxs_sock__install(struct hxs_stack *st, struct hxs_sock *sk);
/* Releases the port (if held) and frees sk (ops->destroy, then the memory). */
void hxs_sock__free(struct hxs_sock *sk);
/* Socket behind fd, or NULL. */
struct hxs_sock *hxs_sock__get(struct hxs_stack *st, int fd);

/* Port ownership. addr/port in network order; port 0 picks an ephemeral port (hxs_sock__bind_ephemeral).
 * Checks conflicts like the kernel (same port, same or wildcard address, unless both sides
 * set SO_REUSEADDR), reserves the port with a kernel socket of the same protocol (not on the
 * in-memory link), and installs the XDP program's bind entries (unless HXS_SOCK_F_NOENTRY).
 * -EADDRINUSE, -EINVAL (already bound), -EADDRNOTAVAIL (not our address). */
int hxs_sock__bind_port(struct hxs_sock *sk, struct hxs_addr addr, uint16_t port);
/* Binds an ephemeral port chosen for the remote endpoint (raddr, rport) with RFC 6056
 * Algorithm 4 (bind(port 0): raddr = rport = 0; TCP connect: its peer). With
 * HXS_SOCK_F_NOENTRY set in sk->flags no bind entry is installed (TCP connect). The kernel
 * socket that reserves an ephemeral TCP port is kept when the port is released and handed
 * to the next socket that binds it: after its first use a port costs no syscall. */
int hxs_sock__bind_ephemeral(struct hxs_sock *sk, struct hxs_addr laddr, struct hxs_addr raddr,
			     uint16_t rport);
/* A socket bound with HXS_SOCK_F_NOENTRY gets its bind entries after all (listen() on it). */
int hxs_sock__bind_entry(struct hxs_sock *sk);
/* The wildcard a socket of sk's family binds to: :: (AF_INET6) or 0.0.0.0 (as ::ffff:0.0.0.0). */
struct hxs_addr hxs_sock__any(const struct hxs_sock *sk);
/* Does a binding of sk's (its laddr, family, v6only) take address a? */
int hxs_sock__takes(const struct hxs_sock *sk, struct hxs_addr a);
/* Caller's sockaddr -> the protocols' sockaddr_in6 (IPv4 mapped), and back in sk's family. */
int hxs_sock__sa_in(const struct hxs_sock *sk, const struct sockaddr *sa, socklen_t len,
		    struct sockaddr_in6 *out);
int hxs_sock__sa_out(const struct hxs_sock *sk, const struct sockaddr_in6 *a, struct sockaddr *addr,
		     socklen_t *len);
/* Link-local addresses carry the interface index as their scope (RFC 4007 §6). */
uint32_t hxs_sock__scope(const struct hxs_stack *st, struct hxs_addr a);
/* Undoes bind_port (map entry, kernel socket, port table). Idempotent. */
void hxs_sock__unbind_port(struct hxs_sock *sk);
/* Closes the kernel sockets kept for released ephemeral ports (stack close, range change,
 * a kernel refusing more fds). */
void hxs_sock__eph_release(struct hxs_stack *st);
/* First socket bound to port of protocol ipproto (chain through port_next), or NULL. */
struct hxs_sock *hxs_sock__port_chain(struct hxs_stack *st, uint8_t ipproto, uint16_t port);

/* Readiness changed: queue sk's epoll entries whose interest matches ops->poll(sk). */
void hxs_sock__wake(struct hxs_sock *sk);
/* Sets a pending error (positive errno) and wakes. */
void hxs_sock__set_error(struct hxs_sock *sk, int err);
/* Returns and clears the pending error (as -errno), 0 if none. */
int hxs_sock__take_error(struct hxs_sock *sk);
/* do_ip_setsockopt()'s value of an IPPROTO_IP option: an int, or a single byte when the caller
 * gives less than an int; -EINVAL for an empty one, -EFAULT without a buffer. */
int hxs_sock__ip_optval(const void *val, socklen_t len, int *v);
/* do_ip_getsockopt()'s answer: a single byte when the caller gave less than an int and the
 * value fits one, else the int truncated to what the caller gave; -EINVAL for a negative
 * length. */
int hxs_sock__ip_put(int v, void *val, socklen_t *len);
/* IP_TTL as do_ip_setsockopt(): -1 (the default) or 1..255, stored as 0 or the TTL; else
 * -EINVAL. */
int hxs_sock__ttl_parse(int v, uint8_t *ttl);

/* epoll_ready.c: drop every epoll registration of sk (socket closing). */
void hxs_epoll__forget(struct hxs_sock *sk);
/* epoll_ready.c: queue the entries of sk whose interest matches mask. */
void hxs_epoll__notify(struct hxs_sock *sk, uint32_t mask);
/* epoll.c: fn(ctx) runs whenever the ready list of instance epfd stops being empty (inside a
 * turn, or inside the call that queued an item), for code that waits for it in the kernel:
 * an eventfd written there wakes a poll(2) elsewhere. fn NULL: none. 0 or -EBADF. */
int hxs_epoll__set_notify(struct hxs_stack *st, int epfd, void (*fn)(void *ctx), void *ctx);
/* epoll.c: 1 when instance epfd has items on its ready list (they may turn out not ready
 * when reported), 0 when not, -EBADF. */
int hxs_epoll__pending(struct hxs_stack *st, int epfd);
/* epoll.c: free every epoll instance (stack closing). */
void hxs_epoll__close_all(struct hxs_stack *st);

/* Copies len bytes of src into the iovec (or as much as fits); returns bytes copied. */
size_t hxs_iov_to(const struct iovec *iov, int iovcnt, const void *src, size_t len);
/* Total bytes of an iovec; -EINVAL if negative iovcnt or overflow. */
ssize_t hxs_iov_len_any(const struct iovec *iov, int iovcnt);
/* The same, the one buffer of send()/recv() (every call of a request/response exchange)
 * inline: no loop, no call. */
static inline ssize_t hxs_iov_len(const struct iovec *iov, int iovcnt)
{
	if (iovcnt == 1)
		return iov[0].iov_len <= (size_t)SSIZE_MAX ? (ssize_t)iov[0].iov_len : -EINVAL;
	return hxs_iov_len_any(iov, iovcnt);
}
/* Gathers the iovec into dst (dst holds hxs_iov_len bytes). */
void hxs_iov_from(const struct iovec *iov, int iovcnt, void *dst);

#endif
