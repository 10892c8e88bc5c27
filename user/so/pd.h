/* pd.h - the in-process packetdrill target: one hxs stack on the in-memory link, in virtual
 * time, behind packetdrill's table of calls (pd_abi.h).
 *
 *   pd_init.c   packetdrill_interface_init(): --so_flags, the stack, the fd table, the table
 *               of calls; free()
 *   pd_time.c   the virtual clock and the two threads: turns of the stack, waits of blocking
 *               calls, time advanced by the driver (usleep, netdev_receive, gettimeofday)
 *   pd_link.c   netdev_send / netdev_receive: IP packets in and out of the Ethernet link
 *   pd_sock.c   socket, bind, listen, accept, connect, shutdown, options, fcntl, ioctl, close
 *   pd_data.c   read/write and the send/recv family
 *   pd_poll.c   poll, epoll, pipe, splice
 *
 * Threads. packetdrill runs the script on its main thread (packets in and out, the clock,
 * calls expected to return at once) and calls the script marks as blocking ("+0...0.1")
 * on a second thread, which it considers blocked once /proc says it sleeps. Every entry point
 * takes pd->mu around the stack. A blocking call that must wait sleeps on pd->cv (a futex
 * wait: the thread shows 'S'), and what changes the stack (a packet injected, a turn that
 * did something, a deadline reached) bumps pd->gen and wakes it. Time moves in usleep,
 * gettimeofday and netdev_receive, on whichever thread runs packetdrill's timeline; before
 * it moves, woken waiters settle (retry and wait again, or return and read the clock), so a
 * blocking call returns at the exact virtual time of what woke it. A blocking call on the
 * main thread moves time itself while it waits (nobody else would).
 *
 * Errors inside are negative errno values; the entry points turn them into -1 and errno.
 */
#ifndef HXS_PD_H
#define HXS_PD_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "hxs/hxs.h"
#include "fd/fdtab.h"
#include "net/stack.h"
#include "pd_abi.h"

#define PD_FRAMES        256          /* in-memory link frames (RX and TX share the pool) */
#define PD_FRAME_SIZE    2048
#define PD_OUT_MAX       4096         /* packets sent and not yet read by packetdrill */
/* netdev_receive waits this long in virtual time for a packet before it reports none; a
 * blocking call on the main thread waits as long before it fails with EDEADLK. Three hours
 * covers the longest timers a script may expect (keep-alive after 2 h, retransmissions
 * backed off to 120 s), and jumping from timer to timer costs no real time. */
#define PD_HORIZON_US    (3ull * 3600 * 1000000)
#define PD_SETTLE_MS     5000         /* real-time bound on waiting for the other thread */
#define PD_EPOCH_US      (1700000000ull * 1000000)   /* virtual time starts here */
/* packetdrill reads the clock up to 4 times in a row between two calls; more is a spin. */
#define PD_SPIN_READS    8

struct pd_pkt {
	struct pd_pkt *next;
	uint64_t t;             /* virtual time it left the stack */
	uint32_t len;
	uint8_t data[];         /* IP packet */
};

/* A thread sleeping in pd_wait(). */
struct pd_waiter {
	struct pd_waiter *next;
	uint64_t deadline;      /* virtual time it wants to wake at anyway; UINT64_MAX none */
	uint64_t seen;          /* pd->gen it waits to change */
};

struct pd {
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* waiters: gen moved */
	pthread_cond_t settle_cv;       /* the driver: a waiter waits again, a hold ended */
	uint64_t now;                   /* virtual clock (us) */
	uint64_t gen;                   /* bumped by every change a waiter may care about */
	struct pd_waiter *waiters;
	pid_t hold;                     /* returned from a wait, has not read the clock yet */
	pid_t main_tid;                 /* packetdrill's main thread */
	unsigned clock_reads;           /* gettimeofday calls since any other call */

	struct hxs_io *io;
	struct hxs_stack *st;
	struct hxs_fdtab *fds;
	struct hxs_netif_static cfg;
	uint8_t gw_mac[6];
	int trace;                      /* so_flags "trace": one stderr line per call */
	int warned_addr;

	struct pd_pkt *out_head, **out_tail;
	unsigned nout;
	uint64_t out_dropped;
	uint8_t frame[PD_FRAME_SIZE];   /* scratch for one frame (lock held) */
};

/* pd_time.c */
void pd_lock(struct pd *pd);
void pd_unlock(struct pd *pd);
uint64_t pd_clock(void *pd);
/* Runs the stack until it is quiet, collects what it sent; changed: the caller did
 * something a waiter may care about (wake them even if the stack says nothing). */
void pd_turn(struct pd *pd, int changed);
/* Blocks for a blocking call: until something changes or the deadline passes (0), or, on
 * the main thread, moves time one step towards it (0; -EDEADLK when nothing would ever
 * happen; -ETIME past horizon). */
int pd_wait(struct pd *pd, uint64_t deadline, uint64_t horizon);
/* A call that waited returns: time stands still until this thread reads the clock. */
void pd_waited(struct pd *pd);
/* Driver: lets woken waiters settle, then moves time to t, running every deadline on the
 * way at its own time. */
void pd_advance(struct pd *pd, uint64_t t);
/* Driver: one step to the next deadline (stack or waiter) not after limit; 0, or -ETIME
 * when there is none up to limit. */
int pd_step(struct pd *pd, uint64_t limit);
void pd_settle(struct pd *pd);
int pd_usleep(void *u, useconds_t us);
int pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz);

/* Blocking calls: runs try() until it stops saying -EAGAIN, waiting in virtual time while
 * the descriptor blocks; timeo_us as SO_RCVTIMEO/SO_SNDTIMEO (0 forever, < 0 never).
 * Returns try()'s answer, -EAGAIN on timeout. */
typedef long (*pd_try_fn)(struct pd *pd, void *arg);
long pd_block(struct pd *pd, int nonblock, int64_t timeo_us, pd_try_fn try_fn, void *arg);

/* pd_link.c */
int pd_netdev_send(void *u, const void *buf, size_t n);
int pd_netdev_receive(void *u, void *buf, size_t *n, long long *t_us);
/* Moves what the stack sent into the outgoing queue, stamped now. Returns how many. */
int pd_drain(struct pd *pd);
void pd_out_free(struct pd *pd);
/* Says once on stderr how to run packetdrill when it uses a local address not the stack's. */
void pd_addr_hint(struct pd *pd, int family, const void *addr, const char *what);

/* pd_sock.c */
int pd_socket(void *u, int domain, int type, int protocol);
int pd_bind(void *u, int fd, const struct sockaddr *addr, socklen_t len);
int pd_listen(void *u, int fd, int backlog);
int pd_accept(void *u, int fd, struct sockaddr *addr, socklen_t *len);
int pd_connect(void *u, int fd, const struct sockaddr *addr, socklen_t len);
int pd_shutdown(void *u, int fd, int how);
int pd_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len);
int pd_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len);
int pd_fcntl(void *u, int fd, int cmd, ...);
int pd_ioctl(void *u, int fd, unsigned long req, ...);
int pd_close(void *u, int fd);
/* The hxs socket behind fd (lock held): 0, -ENOTSOCK, -EBADF. */
int pd_sock_of(struct pd *pd, int fd, struct hxs_fd *e);
/* SO_RCVTIMEO / SO_SNDTIMEO of an hxs socket in us (0 forever, < 0 never wait). */
int64_t pd_timeo(struct pd *pd, int sfd, int name);
/* An hxs object whose kernel fd is gone (stale, or at free): closed in the stack. */
void pd_drop(void *u, int fd, const struct hxs_fd *e);

/* pd_data.c */
ssize_t pd_read(void *u, int fd, void *buf, size_t n);
ssize_t pd_readv(void *u, int fd, const struct iovec *iov, int iovcnt);
ssize_t pd_recv(void *u, int fd, void *buf, size_t n, int flags);
ssize_t pd_recvfrom(void *u, int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		    socklen_t *fromlen);
ssize_t pd_recvmsg(void *u, int fd, struct msghdr *msg, int flags);
ssize_t pd_write(void *u, int fd, const void *buf, size_t n);
ssize_t pd_writev(void *u, int fd, const struct iovec *iov, int iovcnt);
ssize_t pd_send(void *u, int fd, const void *buf, size_t n, int flags);
ssize_t pd_sendto(void *u, int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		  socklen_t tolen);
ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *msg, int flags);
/* The socket parts, lock held (splice uses them): */
ssize_t pd_sock_recv(struct pd *pd, const struct hxs_fd *e, struct msghdr *msg, int flags);
ssize_t pd_sock_send(struct pd *pd, const struct hxs_fd *e, const struct msghdr *msg, int flags);

/* pd_poll.c */
int pd_poll(void *u, struct pollfd *fds, nfds_t nfds, int timeout_ms);
int pd_epoll_create(void *u, int size);
int pd_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev);
int pd_epoll_wait(void *u, int epfd, struct epoll_event *evs, int max, int timeout_ms);
int pd_pipe(void *u, int fds[2]);
int pd_splice(void *u, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n,
	      unsigned int flags);

/* -errno -> -1 and errno; anything else as it is. */
static inline long pd_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

void pd_trace(struct pd *pd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
