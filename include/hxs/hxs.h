/* hxs.h - the public API of hxs, a hybrid TCP/UDP stack over AF_XDP.
 *
 * POSIX-shaped and with the kernel's errno semantics, but every call returns a negative
 * errno on failure instead of setting errno (e.g. -EINPROGRESS, -EAGAIN, -ECONNREFUSED).
 * Socket descriptors are small non-negative ints private to one stack; they are not kernel
 * file descriptors.
 *
 * Threading: a stack and its sockets belong to the thread that opened it. Blocking calls
 * (a socket without O_NONBLOCK) run the stack's event loop until they can complete, exactly
 * as a blocking syscall sleeps until it can; so a simple program can use hxs like BSD sockets,
 * and an event-driven one uses non-blocking sockets with hxs_epoll_wait().
 *
 * Typical use:
 *   struct hxs_stack *st;
 *   struct hxs_stack_opts o = { .ifname = "eth0" };
 *   int err = hxs_stack__open(&st, &o);
 *   int fd = hxs_socket(st, AF_INET, SOCK_STREAM, 0);
 *   hxs_bind(st, fd, ...); hxs_listen(st, fd, 128); int c = hxs_accept(st, fd, NULL, NULL);
 */
#ifndef HXS_HXS_H
#define HXS_HXS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hxs_stack;

enum hxs_xdp_attach {
	HXS_ATTACH_AUTO = 0,    /* use the hxs program already on the interface, else load ours */
	HXS_ATTACH_NATIVE,      /* load and attach in driver mode (libxdp) */
	HXS_ATTACH_SKB,         /* load and attach in generic (skb) mode (libxdp) */
	HXS_ATTACH_EXISTING,    /* only use a program the operator attached (ip link ... xdp obj) */
};

struct hxs_stack_opts {
	const char *ifname;        /* interface to run on (required) */
	enum hxs_xdp_attach attach;
	const char *bpf_obj;       /* path of hxs.bpf.o; NULL: next to the executable, then build/bpf */
	uint32_t queues;           /* receive queues to serve; 0 = all the interface has */
	uint32_t frames;           /* UMEM frames per queue; 0 = default (4096) */
	int busy_poll;             /* spin instead of sleeping in hxs_stack__poll() */
	int verbose;               /* log set-up decisions (copy/zero-copy, attach mode) to stderr */
	const char *stats_name;    /* name under which `hxs stat`/`hxs ss` find this stack; NULL = ifname */
	int no_fastpath;           /* XDP consumes no ACKs (as HXS_FASTPATH=0 in the environment) */
	int no_multibuf;           /* no AF_XDP multi-buffer: MTU clamped to one 4 KiB frame (as
	                            * HXS_MULTIBUF=0 in the environment) */
	int napi_thread;           /* threaded NAPI on ifname while the stack is open, its kernel
	                            * threads on CPU napi_cpu (-1: any); a busy loop then yields
	                            * the CPU on every empty turn (README "Performance") */
	int napi_cpu;
};

/* Opens a stack on opts->ifname: reads address, routes and MTU from the kernel, attaches or
 * adopts the XDP program, creates the AF_XDP sockets. Returns 0 or -errno. */
int hxs_stack__open(struct hxs_stack **out, const struct hxs_stack_opts *opts);
/* Closes every socket (RST for connections still open), detaches what open attached. First,
 * as the kernel keeps closed sockets' connections retransmitting after a process exits, it
 * runs the stack until the connections the application closed have their data and FIN
 * acknowledged, at most HXS_CLOSE_DRAIN_MS milliseconds (environment; default below, 0: no
 * wait). */
#define HXS_CLOSE_DRAIN_MS 2000
void hxs_stack__close(struct hxs_stack *st);
/* One turn of the event loop: receive, run timers, transmit. Waits up to timeout_ms
 * (-1: forever, 0: not at all) for something to happen. Returns the number of events
 * processed (>= 0) or -errno: -EINTR when a signal interrupted the wait, -EDEADLK when
 * called from inside a turn of the same stack (it is not reentrant). */
int hxs_stack__poll(struct hxs_stack *st, int timeout_ms);
/* A kernel fd that becomes readable when the stack has work; to embed hxs in another loop. */
int hxs_stack__fd(const struct hxs_stack *st);
/* hxs_stack__poll(st, 0) for that other loop when it woke on hxs_stack__fd(): also takes in
 * what woke it (a netlink event is read now), so the fd is quiet again afterwards unless
 * work remains. Returns as hxs_stack__poll. */
int hxs_stack__poll_woken(struct hxs_stack *st);
/* Human-readable description of the datapath (interface, queues, copy/zero-copy, XDP mode). */
const char *hxs_stack__describe(const struct hxs_stack *st);
/* Local IPv4 address of the interface (network byte order). */
uint32_t hxs_stack__addr(const struct hxs_stack *st);
/* Writes the stack's counters (IP, UDP, TCP, AF_XDP frames, XDP program), one "Name value"
 * a line; all = 0 leaves out the ones that are zero. */
void hxs_stack__print_counters(const struct hxs_stack *st, FILE *fp, int all);

/* What the stack's TCP may hold (README "Limits"); 0 in a field takes its default. At each
 * limit something is refused and counted, nothing grows: see the README for what. */
struct hxs_tcp_limits {
	uint32_t max_conns;        /* connections, TIME-WAIT aside (196608): new ones refused */
	uint32_t max_tw;           /* TIME-WAIT entries (65536): the oldest one is recycled */
	uint32_t ofo_conn_max;     /* out-of-order bytes held per connection (1 MiB) */
	uint64_t ofo_max;          /* out-of-order bytes held by the stack (64 MiB) */
	uint64_t mem_low;          /* buffer memory: pressure ends below this (256 MiB) */
	uint64_t mem_pressure;     /* pressure begins here: windows shrink, new connections are
	                            * refused (384 MiB) */
	uint64_t mem_max;          /* buffer memory never exceeds this (512 MiB) */
	uint32_t mem_cache;        /* free buffer memory kept for reuse (4 MiB) */
};
/* Sets the limits (at any time; a limit below what is held refuses what would add to it). */
int hxs_stack__set_tcp_limits(struct hxs_stack *st, const struct hxs_tcp_limits *l);
/* The limits in effect, defaults filled in. */
int hxs_stack__tcp_limits(struct hxs_stack *st, struct hxs_tcp_limits *l);

/* The XDP ACK fast path (README "The fast path"), stack-wide: on (1, the default unless
 * HXS_FASTPATH=0 is in the environment) or off (0): XDP takes no ACK, connections opened from
 * now on get no slot, open ones stop being offered to it at their next segment. */
int hxs_stack__set_fastpath(struct hxs_stack *st, int on);
/* TCP's default congestion control for connections made from now on: "bbr" (hxs's default,
 * unless HXS_CC names another in the environment), "cubic" or "newreno"; a socket chooses
 * its own with TCP_CONGESTION. -ENOENT if the name is unknown (as Linux). */
int hxs_stack__set_cc(struct hxs_stack *st, const char *name);
/* Pace every TCP connection at a rate from cwnd / SRTT (1; HXS_PACING=1), or only those
 * whose algorithm sets a rate, BBR (0, the default) - Linux with and without the fq qdisc. */
int hxs_stack__set_pacing(struct hxs_stack *st, int on);
/* The send and receive buffer sizes a TCP socket gets unless it sets SO_SNDBUF / SO_RCVBUF
 * (0: the defaults, 4 MiB and 6 MiB, Linux's tcp_wmem / tcp_rmem maximum), for sockets made
 * from now on; one connection's out-of-order bytes may fill its receive buffer. */
int hxs_stack__set_tcp_bufs(struct hxs_stack *st, uint32_t sndbuf, uint32_t rcvbuf);

/* ECN (RFC 3168) for TCP, stack-wide, as the kernel's net.ipv4.tcp_ecn: 0 off, 1 request it
 * on outgoing connections and accept it on incoming ones, 2 (the default, as Linux) accept it
 * only; connections opened from now on follow it. HXS_ECN=0|1|2 in the environment sets it
 * when the stack opens. -EINVAL for another value. */
int hxs_stack__set_ecn(struct hxs_stack *st, int tcp_ecn);

/* Packetization-layer path MTU discovery for TCP (RFC 4821), stack-wide, as the kernel's
 * net.ipv4.tcp_mtu_probing: 0 off (the default, as Linux), 1 once repeated timeouts suggest
 * a black hole, 2 always; connections set up from now on follow it. HXS_MTU_PROBING=0|1|2 in
 * the environment sets it when the stack opens. -EINVAL for another value. */
int hxs_stack__set_mtu_probing(struct hxs_stack *st, int v);

/* --- sockets ------------------------------------------------------------------------------ */
/* type may carry SOCK_NONBLOCK. AF_INET with SOCK_STREAM (TCP) or SOCK_DGRAM (UDP). */
int hxs_socket(struct hxs_stack *st, int domain, int type, int protocol);
int hxs_bind(struct hxs_stack *st, int fd, const struct sockaddr *addr, socklen_t len);
int hxs_listen(struct hxs_stack *st, int fd, int backlog);
/* flags: SOCK_NONBLOCK (accept4 style). */
int hxs_accept4(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len, int flags);
int hxs_accept(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len);
int hxs_connect(struct hxs_stack *st, int fd, const struct sockaddr *addr, socklen_t len);
ssize_t hxs_send(struct hxs_stack *st, int fd, const void *buf, size_t len, int flags);
ssize_t hxs_recv(struct hxs_stack *st, int fd, void *buf, size_t len, int flags);
ssize_t hxs_sendto(struct hxs_stack *st, int fd, const void *buf, size_t len, int flags,
		   const struct sockaddr *to, socklen_t tolen);
ssize_t hxs_recvfrom(struct hxs_stack *st, int fd, void *buf, size_t len, int flags,
		     struct sockaddr *from, socklen_t *fromlen);
ssize_t hxs_writev(struct hxs_stack *st, int fd, const struct iovec *iov, int iovcnt);
ssize_t hxs_readv(struct hxs_stack *st, int fd, const struct iovec *iov, int iovcnt);
/* recvmsg(2) / sendmsg(2). recvmsg fills msg_name (a stream gives none: msg_namelen 0), the
 * buffers, msg_flags (MSG_TRUNC: a datagram was longer than the buffers; MSG_CTRUNC: the
 * control buffer was too small) and msg_control with what the socket asked for, as ip(7):
 * IP_PKTINFO (struct in_pktinfo) and IP_TOS (one byte, after IP_RECVTOS) on a UDP socket;
 * msg_controllen says how much was written. sendmsg takes, on a UDP socket, the control
 * messages IP_TTL and IP_TOS (an int each) and IP_PKTINFO (ipi_spec_dst: the source, ours or
 * 0); another SOL_IP one, or a malformed one, is EINVAL. */
ssize_t hxs_recvmsg(struct hxs_stack *st, int fd, struct msghdr *msg, int flags);
ssize_t hxs_sendmsg(struct hxs_stack *st, int fd, const struct msghdr *msg, int flags);
int hxs_shutdown(struct hxs_stack *st, int fd, int how);
int hxs_close(struct hxs_stack *st, int fd);
int hxs_getsockname(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len);
int hxs_getpeername(struct hxs_stack *st, int fd, struct sockaddr *addr, socklen_t *len);
int hxs_setsockopt(struct hxs_stack *st, int fd, int level, int name, const void *val, socklen_t len);
int hxs_getsockopt(struct hxs_stack *st, int fd, int level, int name, void *val, socklen_t *len);
/* ioctl(2) on a TCP socket: SIOCATMARK (the next byte read is at the urgent mark), SIOCINQ
 * (bytes readable, up to the urgent mark when urgent data waits out of line; -EINVAL
 * listening), SIOCOUTQ (bytes not yet acknowledged); -ENOTTY otherwise. */
int hxs_ioctl(struct hxs_stack *st, int fd, unsigned long req, int *arg);
/* O_NONBLOCK on or off (fcntl F_SETFL equivalent). */
int hxs_set_nonblock(struct hxs_stack *st, int fd, bool on);
/* Readiness of one socket now, as poll(2) computes it: the kernel's EPOLLIN, EPOLLOUT,
 * EPOLLERR, EPOLLHUP, EPOLLRDHUP bits (their POLL* twins have the same values), or -EBADF.
 * Runs no loop: what has arrived but not yet been taken in by a turn does not count. */
int hxs_poll_events(struct hxs_stack *st, int fd);

/* getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) fills this (a subset of Linux's). */
struct hxs_tcp_info {
	uint8_t  state;            /* TCP_ESTABLISHED ... as in <netinet/tcp.h> */
	uint8_t  pad[3];
	uint32_t rtt_us;
	uint32_t rttvar_us;
	uint32_t rto_us;
	uint32_t snd_mss;
	uint32_t rcv_mss;
	uint32_t snd_cwnd;         /* segments */
	uint32_t snd_ssthresh;     /* segments */
	uint32_t snd_wnd;          /* bytes, peer's advertised window */
	uint32_t rcv_wnd;          /* bytes, our advertised window */
	uint32_t unacked;          /* segments in flight */
	uint32_t retransmits;      /* consecutive RTO expiries now */
	uint64_t total_retrans;    /* segments retransmitted over the connection's life */
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint64_t segs_out;
	uint64_t segs_in;
	uint32_t snd_queue;        /* bytes written, not yet acked (unacked + unsent) */
	uint32_t rcv_queue;        /* bytes received in order, not yet read */
	uint64_t bytes_sent;       /* payload bytes sent, retransmissions included (Linux's
	                            * tcpi_bytes_sent) */
	/* The kernel's tcpi_* of the same names (<linux/tcp.h> values): */
	uint8_t  ca_state;         /* TCP_CA_Open 0, Disorder 1 (duplicate ACKs or SACKed data),
				    * Recovery 3 (fast recovery), Loss 4 (after an RTO, until what
				    * was outstanding then is acknowledged) */
	uint8_t  options;          /* TCPI_OPT_TIMESTAMPS 1 | TCPI_OPT_SACK 2 | TCPI_OPT_WSCALE 4 |
				    * TCPI_OPT_ECN 8 | TCPI_OPT_ECN_SEEN 16 */
	uint8_t  snd_wscale;       /* the peer's window shift (applied to its windows) */
	uint8_t  rcv_wscale;       /* ours */
	uint8_t  backoff;          /* RTO doublings in force (RFC 6298 §5.5) */
	uint8_t  probes;           /* unanswered zero-window or keep-alive probes */
	uint8_t  pad2[2];
	uint32_t advmss;           /* MSS we announced less the options every segment carries */
	uint32_t pmtu;             /* path MTU used (the interface's; no PMTUD) */
	uint32_t reordering;       /* duplicate-ACK threshold (3) */
	uint32_t sacked;           /* segments SACKed above SND.UNA */
	uint64_t pacing_rate;      /* bytes/s the connection is paced at; 0: not paced (Linux
	                            * reports ~0 then) */
	uint64_t delivery_rate;    /* bytes/s of the last delivery-rate sample (Linux's
	                            * tcpi_delivery_rate) */
	uint32_t min_rtt;          /* us, the smallest RTT sampled (tcpi_min_rtt) */
	uint8_t  delivery_rate_app_limited;
	uint8_t  pad3[3];
	uint32_t delivered_ce;     /* segments acknowledged by ACKs with ECE (RFC 3168) */
};

/* --- events (epoll-shaped) ---------------------------------------------------------------- */
/* Event bits are the kernel's EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLET. */
struct hxs_event {
	uint32_t events;
	uint64_t data;
};
int hxs_epoll_create(struct hxs_stack *st);
/* op: EPOLL_CTL_ADD / EPOLL_CTL_MOD / EPOLL_CTL_DEL; fd is an hxs socket. */
int hxs_epoll_ctl(struct hxs_stack *st, int epfd, int op, int fd, const struct hxs_event *ev);
/* Runs the event loop until an event is ready or timeout_ms passes (-1 forever). Returns the
 * number of events written (0 on timeout) or -errno. */
int hxs_epoll_wait(struct hxs_stack *st, int epfd, struct hxs_event *evs, int max, int timeout_ms);
int hxs_epoll_close(struct hxs_stack *st, int epfd);

#ifdef __cplusplus
}
#endif
#endif
