/* pl.h - the LD_PRELOAD shim (build/libhxs-preload.so): unmodified programs on hxs.
 *
 *   pl_init.c   the process's state, libc's own functions (dlsym RTLD_NEXT), the stack opened
 *               at the first hxs socket and its thread, fork, exit and SIGINT/SIGTERM
 *   pl_sock.c   which sockets are hxs's (the assignment rule), socket/bind/listen/accept/
 *               connect/close/shutdown/dup*, fcntl, ioctl, socket options, names
 *   pl_data.c   read/write, the send/recv family, sendfile
 *   pl_poll.c   poll/ppoll/select/pselect and epoll with kernel and hxs fds in one set
 *   pl_sys.c    the raw syscall() entry for those numbers
 *
 * State. Every hxs socket the program sees is a real kernel fd number (an eventfd of the fd
 * layer, user/fd/fdtab.h) mapped to a struct pl_sock (by index, the table's obj). An AF_INET
 * socket whose fate is not known yet (socket() was called, no bind/connect/listen yet) is a
 * kernel socket with a struct pl_pend beside it; the moment it is decided to be hxs's, an
 * eventfd takes over its number (hxs_fdtab__open_at) and the kernel socket is gone.
 *
 * Locking. pl.mu guards the stack and every table of this file; pl_lock() also marks the
 * thread as inside hxs (pl_inside), so the libc calls the library makes itself (a kernel
 * socket reserving a port, eventfd writes, netlink) go straight to libc. The stack's thread
 * is inside for good. A blocking call never sleeps with the lock: it waits in the kernel
 * (poll(2)) on an eventfd that the sockets' epoll notification writes.
 */
#ifndef HXS_PL_H
#define HXS_PL_H

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "hxs/hxs.h"
#include "fd/fdtab.h"

#define PL_API __attribute__((visibility("default")))
#define PL_OPTS 16          /* socket options remembered to replay on a re-created socket */

/* libc's functions, resolved with dlsym(RTLD_NEXT). */
struct pl_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*close)(int);
	int (*shutdown)(int, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	void *syscall;              /* long syscall(long, ...) */
};
extern struct pl_real pl_real;

struct pl_opt {
	int level, name;
	socklen_t len;
	uint8_t val[16];
};

#define PL_PEND_EPS 4       /* epoll sets an undecided socket is remembered in */

/* A kernel AF_INET/AF_INET6 socket not yet assigned (by kernel fd number). */
struct pl_pend {
	int domain, type;           /* type without SOCK_NONBLOCK/SOCK_CLOEXEC */
	int v6only;
	int nopt;
	struct pl_opt opt[PL_OPTS];
	int nep;                    /* epoll sets it was added to (it leaves them when an
	                             * eventfd takes its number: re-added as hxs's then) */
	struct {
		int kfd;
		struct epoll_event ev;
	} ep[PL_PEND_EPS];
};

enum pl_state {
	PL_LIVE,                    /* hfd is a socket of pl.st */
	PL_DORMANT,                 /* the stack was handed to a child at fork: re-created
	                             * from what is remembered here at its next use */
	PL_FOREIGN,                 /* opened by the parent before fork: not usable here */
};

/* An hxs socket as the program sees it (obj of the fd table; dups share it). */
struct pl_sock {
	enum pl_state state;
	int hfd;                    /* hxs descriptor when PL_LIVE */
	int type;                   /* SOCK_STREAM / SOCK_DGRAM */
	int v6;                     /* the program speaks AF_INET6: names are v4-mapped */
	int bound, listening, backlog;
	struct sockaddr_in local;   /* what bind asked */
	int nopt;
	struct pl_opt opt[PL_OPTS];
};

/* Waiting in the kernel for hxs sockets: an hxs epoll instance whose ready list writes an
 * eventfd. One per program epoll fd that holds hxs sockets, one per thread for poll/select
 * and blocking calls. */
struct pl_ep {
	int kfd;                    /* the program's epoll fd, -1 for a thread's */
	int refs;                   /* numbers of pl.eps naming it (dup of the epoll fd) */
	int hep;                    /* hxs epoll instance */
	unsigned gen;               /* pl.gen it belongs to */
	int nfd;                    /* eventfd: readable while signaled */
	int signaled;
};

struct pl {
	pthread_mutex_t mu;
	int active;                 /* HXS_IFACE given and usable */
	char ifname[32];
	uint32_t ifaddr;            /* network order, 0 when not known yet */
	int busy;                   /* HXS_POLL=busy */
	struct hxs_stack *st;
	unsigned gen;               /* moves on when a stack closes: pl_ep/pl_sock of older ones
	                             * are gone */
	pid_t st_pid;
	pthread_t thr;
	int thr_on, thr_stop;
	int kick;                   /* eventfd: wakes the stack's thread */
	uint64_t thr_until;         /* when the thread wakes anyway (stack clock, us) */
	int sig;                    /* SIGINT/SIGTERM caught by our handler, for the thread */
	int closed;                 /* exiting: no stack is opened again */
	struct hxs_fdtab *fds;
	struct pl_sock **socks;     /* by obj */
	int nsocks;
	struct pl_pend **pend;      /* by kernel fd */
	int npend;
	struct pl_ep **eps;         /* by the program's epoll fd */
	int neps;
};
extern struct pl pl;
extern __thread int pl_inside;

/* pl_init.c */
void pl_lock(void);
void pl_unlock(void);
/* The stack, opened (with its thread) if it is not (lock held); NULL and *err on failure. */
struct hxs_stack *pl_stack(int *err);
/* After a call that may have queued output or moved a deadline (lock held): a turn now, so
 * segments leave at the time of the call; the thread woken if it must wake earlier. */
void pl_turn(void);
/* The interface's IPv4 address (network order), 0 if none. */
uint32_t pl_ifaddr(void);
/* -errno -> -1 and errno. */
static inline long pl_ret(long r)
{
	extern int *__errno_location(void);

	if (r < 0) {
		*__errno_location() = (int)-r;
		return -1;
	}
	return r;
}

/* pl_sock.c */
/* The pl_sock behind fd, live (re-created if dormant): 0, -EBADF (foreign or gone), or 1 when
 * fd is not an hxs socket. *nonblock: the fd's O_NONBLOCK. Lock held. */
int pl_sock_of(int fd, struct pl_sock **ps, int *nonblock);
/* Without pl.mu: fd is a number of the fd table (an hxs socket); maybe_ours also says no
 * inside hxs (the library's own calls). */
int pl_is_ours(int fd);
int pl_maybe_ours(int fd);
/* hxs_tcp_info -> the kernel's struct tcp_info (truncated to *len). */
int pl_tcp_info(int hfd, void *val, socklen_t *len);
void pl_sock_free_all(void);
/* A successful kernel epoll_ctl on fd: remembered while fd is an undecided socket. */
void pl_sock_pend_epoll(int fd, int kfd, int op, const struct epoll_event *ev);
void pl_sock_fork_child(int handed_off);
int pl_sock_handoff_ok(void);
void pl_sock_make_dormant(void);
/* The stack is closing for good: live sockets answer EBADF from now on. */
void pl_sock_orphan_live(void);

/* pl_poll.c */
/* Waits until fd (an hxs socket, hfd) has one of events, the timeout (ms, -1 forever)
 * passes (0) or a signal comes (-EINTR). Lock not held. */
int pl_wait(int fd, short events, int timeout_ms);
void pl_ep_forget(int kfd);
void pl_ep_drop_all(void);
void pl_ep_fork_child(void);
/* Kernel fd old was duplicated to new: an epoll set's record named by both. */
void pl_ep_dup(int old, int new);
/* epoll_ctl of hxs socket ps in the program's epoll set kfd (lock held). */
int pl_ep_ctl(int kfd, int op, struct pl_sock *ps, const struct epoll_event *ev);

/* pl_data.c */
/* SO_RCVTIMEO / SO_SNDTIMEO of hxs socket hfd in ms, -1 when none (lock held). */
int pl_timeo_ms(int hfd, int name);
ssize_t pl_sendv(int fd, const struct iovec *iov, int iovcnt, int flags,
		 const struct sockaddr *to, socklen_t tolen, int *handled);
ssize_t pl_recvv(int fd, const struct iovec *iov, int iovcnt, int flags, struct sockaddr *from,
		 socklen_t *fromlen, int *msg_flags, int *handled);

#endif
