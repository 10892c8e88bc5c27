/* pl_init.c - the shim's process state: libc's functions, the stack and its thread, fork,
 * exit and SIGINT/SIGTERM.
 *
 * constructor  -> libc's functions (dlsym RTLD_NEXT); HXS_IFACE (none: the shim passes
 *                 everything to libc), HXS_POLL; libbpf/libxdp print only warnings unless
 *                 HXS_VERBOSE; the fd table; pthread_atfork; atexit
 * pl_stack()   -> hxs_stack__open(HXS_IFACE) at the first socket assigned to hxs (attaches or
 *                 adopts the XDP program), then the thread:
 * stack_thread -> lock, hxs_stack__poll(st, 0) (one turn; hxs_stack__poll_woken when the
 *                 stack's fd woke the thread), unlock; HXS_POLL=sleep (default): when the
 *                 turn did nothing, epoll_wait(2) on the stack's fd and the kick eventfd
 *                 until the stack's next deadline; HXS_POLL=busy: turn again at once
 * pl_turn()    -> the calling thread takes a turn itself after a call that may send, and
 *                 kicks the thread when the stack now wants to wake before the thread will
 * fork         -> prepare: lock. If the process's hxs sockets are only bound or listening
 *                 ones that no epoll set watches (nginx's master before it forks its
 *                 worker), the stack is closed first and they are kept as records
 *                 (PL_DORMANT): parent and child alike re-create them, with a stack of their
 *                 own, at their next use. Otherwise the parent keeps the stack, and the
 *                 child's inherited hxs sockets are PL_FOREIGN (EBADF except close).
 * exit         -> atexit: the thread stopped, the stack closed (XDP detached if we attached
 *                 it, bind and connection entries removed); SIGINT/SIGTERM left at their
 *                 default by the program: our handler has the thread close the stack, then
 *                 the signal is raised again with its default action
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "pl.h"
#include "io/io.h"
#include "net/stack.h"

struct pl_real pl_real;
struct pl pl = { .mu = PTHREAD_MUTEX_INITIALIZER, .kick = -1 };
__thread int pl_inside __attribute__((tls_model("initial-exec")));

#define PL_SLEEP_MAX_US 100000    /* the thread looks at the clock at least this often */
#define PL_TX_WAIT_US   1000      /* while TX frames are out (completions wake no fd) */

static void resolve(void)
{
#define R(f) pl_real.f = dlsym(RTLD_NEXT, #f)
	R(socket); R(bind); R(listen); R(accept); R(accept4); R(connect); R(close); R(shutdown);
	R(dup); R(dup2); R(dup3); R(ioctl); R(getsockopt); R(setsockopt); R(getsockname);
	R(getpeername); R(read); R(write); R(readv); R(writev); R(send); R(recv); R(sendto);
	R(recvfrom); R(sendmsg); R(recvmsg); R(sendfile); R(poll); R(ppoll); R(select);
	R(pselect); R(epoll_create); R(epoll_create1); R(epoll_ctl); R(epoll_wait);
	R(epoll_pwait); R(syscall);
#undef R
	pl_real.fcntl = dlsym(RTLD_NEXT, "fcntl64");
	if (!pl_real.fcntl)
		pl_real.fcntl = dlsym(RTLD_NEXT, "fcntl");
}

void pl_lock(void)
{
	pthread_mutex_lock(&pl.mu);
	pl_inside++;
}

void pl_unlock(void)
{
	pl_inside--;
	pthread_mutex_unlock(&pl.mu);
}

uint32_t pl_ifaddr(void)
{
	struct ifaddrs *ifa, *i;

	if (pl.ifaddr)
		return pl.ifaddr;
	pl_inside++;
	if (!getifaddrs(&ifa)) {
		for (i = ifa; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			    !strcmp(i->ifa_name, pl.ifname)) {
				pl.ifaddr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
				break;
			}
		freeifaddrs(ifa);
	}
	pl_inside--;
	return pl.ifaddr;
}

/* build/libhxs-preload.so -> build/bpf/hxs.bpf.o, unless HXS_BPF_OBJ says otherwise. */
static const char *bpf_obj(void)
{
	static char path[PATH_MAX];
	Dl_info di;
	char *dir, *copy;

	if (getenv("HXS_BPF_OBJ"))
		return getenv("HXS_BPF_OBJ");
	if (!dladdr((void *)bpf_obj, &di) || !di.dli_fname)
		return NULL;
	copy = strdup(di.dli_fname);
	if (!copy)
		return NULL;
	dir = dirname(copy);
	snprintf(path, sizeof(path), "%s/bpf/hxs.bpf.o", dir);
	free(copy);
	return access(path, R_OK) ? NULL : path;
}

/* --- the stack's thread ------------------------------------------------------------------- */
static void on_signal(int sig)
{
	uint64_t one = 1;
	int e = errno;

	pl.sig = sig;
	if (pl.kick >= 0 && pl_real.write)
		(void)!pl_real.write(pl.kick, &one, sizeof(one));
	errno = e;
}

static void stack_close_locked(void);

static void *stack_thread(void *arg)
{
	struct hxs_stack *st = arg;
	struct epoll_event ev[4];
	int ep, sig, woken = 0;

	pl_inside = 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep >= 0) {
		ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.fd = hxs_stack__fd(st) };
		epoll_ctl(ep, EPOLL_CTL_ADD, hxs_stack__fd(st), &ev[0]);
		ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.fd = pl.kick };
		epoll_ctl(ep, EPOLL_CTL_ADD, pl.kick, &ev[0]);
	}
	for (;;) {
		struct hxs_io_stats s;
		uint64_t now, next;
		int n, ms;

		pthread_mutex_lock(&pl.mu);
		if (pl.thr_stop || pl.sig)
			break;
		/* woken by the stack's fd: also what woke it (a netlink event read now, not at
		 * the stack's next periodic look: the fd would wake us again at once until then) */
		n = woken ? hxs_stack__poll_woken(st) : hxs_stack__poll(st, 0);
		woken = 0;
		now = hxs_stack__now(st);
		next = hxs_stack__next_deadline(st);
		if (next > now + PL_SLEEP_MAX_US)
			next = now + PL_SLEEP_MAX_US;
		st->io->ops->get_stats(st->io, &s);
		if (s.frames_tx_queued && next > now + PL_TX_WAIT_US)
			next = now + PL_TX_WAIT_US;
		pl.thr_until = pl.busy || n > 0 ? 0 : next;
		pthread_mutex_unlock(&pl.mu);
		if (pl.busy && n <= 0) {
			/* the program's threads may share this CPU and want pl.mu: a turn of
			 * theirs before ours (without it the lock is re-taken at once and they
			 * run only when the scheduler preempts the spin) */
			sched_yield();
			continue;
		}
		if (pl.busy || n > 0 || ep < 0)
			continue;
		ms = next > now ? (int)((next - now + 999) / 1000) : 0;
		n = epoll_wait(ep, ev, 4, ms);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == pl.kick) {
				uint64_t v;

				(void)!read(pl.kick, &v, sizeof(v));
			} else {
				woken = 1;
			}
		}
	}
	/* lock held */
	sig = pl.sig;
	if (ep >= 0)
		close(ep);
	if (sig) {
		/* the program left this signal at its default: close, then die of it */
		pl.thr_on = 0;
		pl.closed = 1;
		stack_close_locked();
		pthread_mutex_unlock(&pl.mu);
		signal(sig, SIG_DFL);
		kill(getpid(), sig);    /* to the process: this thread blocks every signal */
		return NULL;
	}
	pthread_mutex_unlock(&pl.mu);
	return NULL;
}

static void default_signals(void)
{
	int sigs[] = { SIGINT, SIGTERM };

	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old, sa = { .sa_handler = on_signal };

		if (sigaction(sigs[i], NULL, &old) || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		sigaction(sigs[i], &sa, NULL);
	}
}

struct hxs_stack *pl_stack(int *err)
{
	struct hxs_stack_opts o = { 0 };
	sigset_t all, old;
	int r;

	if (pl.st)
		return pl.st;
	if (!pl.active || pl.closed) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	o.ifname = pl.ifname;
	o.attach = HXS_ATTACH_AUTO;
	o.bpf_obj = bpf_obj();
	o.verbose = getenv("HXS_VERBOSE") != NULL;
	r = hxs_stack__open(&pl.st, &o);
	if (r) {
		fprintf(stderr, "hxs-preload: cannot open the stack on %s: %s\n", pl.ifname,
			strerror(-r));
		pl.st = NULL;
		*err = r;
		return NULL;
	}
	pl.ifaddr = hxs_stack__addr(pl.st);
	pl.st_pid = getpid();
	if (pl.kick < 0)
		pl.kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pl.thr_stop = 0;
	/* the thread takes no signal of the program's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&pl.thr, NULL, stack_thread, pl.st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pl.thr_on = !r;
	default_signals();
	return pl.st;
}

void pl_turn(void)
{
	uint64_t one = 1;

	if (!pl.st)
		return;
	hxs_stack__poll(pl.st, 0);
	if (pl.thr_until && hxs_stack__next_deadline(pl.st) < pl.thr_until) {
		pl.thr_until = 0;
		(void)!write(pl.kick, &one, sizeof(one));
	}
}

/* Lock held, thread stopped. */
static void stack_close_locked(void)
{
	if (!pl.st)
		return;
	pl_sock_orphan_live();  /* calls still to come on them: EBADF */
	pl_ep_drop_all();
	hxs_stack__close(pl.st);
	pl.st = NULL;
	pl.gen++;
}

/* Stops the thread (lock held on entry and on return). */
static void thread_stop(void)
{
	uint64_t one = 1;

	if (!pl.thr_on)
		return;
	pl.thr_stop = 1;
	(void)!write(pl.kick, &one, sizeof(one));
	pl_unlock();
	pthread_join(pl.thr, NULL);
	pl_lock();
	pl.thr_on = 0;
}

static void at_exit(void)
{
	if (!pl.active)
		return;
	pl_lock();
	if (pl.st && pl.st_pid == getpid()) {
		thread_stop();
		pl.closed = 1;
		stack_close_locked();
	}
	pl_unlock();
}

/* --- fork ----------------------------------------------------------------------------------- */
static int fork_handoff;

static void fork_prepare(void)
{
	pl_lock();
	fork_handoff = 0;
	if (pl.st && pl.st_pid == getpid() && pl_sock_handoff_ok()) {
		thread_stop();
		pl_sock_make_dormant();
		stack_close_locked();
		fork_handoff = 1;
	}
	hxs_fdtab__fork_prepare(pl.fds);
}

static void fork_parent(void)
{
	hxs_fdtab__fork_parent(pl.fds);
	pl_unlock();
}

static void fork_child(void)
{
	pthread_mutex_init(&pl.mu, NULL);
	pl_inside = 1;
	hxs_fdtab__fork_child(pl.fds);
	if (pl.st) {
		/* the parent's stack: its thread is not here, its rings are the parent's */
		pl.st = NULL;
		pl.thr_on = 0;
		pl.gen++;
		pl_ep_fork_child();
	}
	pthread_mutex_lock(&pl.mu);
	pl_sock_fork_child(fork_handoff);
	pthread_mutex_unlock(&pl.mu);
	pl_inside = 0;
}

void pl_obj_stale(int fd, const struct hxs_fd *e);

/* One of our numbers was closed behind our back and reused (lock held by the caller). */
static void stale_drop(void *ctx, int fd, const struct hxs_fd *e)
{
	(void)ctx;
	pl_obj_stale(fd, e);
}

/* libbpf and libxdp tell their progress on stderr (libxdp: no bpffs, so no dispatcher, so the
 * program alone), every time the stack starts, into the program's own stderr: only their
 * warnings are shown, the rest with HXS_VERBOSE. */
static int verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* libxdp warns that without a bpffs it cannot use its dispatcher: the stack then attaches the
 * program alone, as designed (README, the XDP program): told as information. */
static int libxdp_expected(const char *fmt)
{
	return strstr(fmt, "No bpffs found") || strstr(fmt, "Can't use dispatcher without a working bpffs");
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if ((level != LIBXDP_WARN || libxdp_expected(fmt)) && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

__attribute__((constructor)) static void pl_init(void)
{
	const char *ifname = getenv("HXS_IFACE"), *poll = getenv("HXS_POLL");

	resolve();
	if (!ifname || !*ifname || strlen(ifname) >= sizeof(pl.ifname))
		return;
	if (!if_nametoindex(ifname)) {
		fprintf(stderr, "hxs-preload: HXS_IFACE=%s: no such interface; everything stays "
			"with the kernel\n", ifname);
		return;
	}
	strcpy(pl.ifname, ifname);
	verbose = getenv("HXS_VERBOSE") != NULL;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	pl.busy = poll && !strcmp(poll, "busy");
	if (hxs_fdtab__new(&pl.fds, 0, stale_drop, NULL))
		return;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	atexit(at_exit);
	pl.active = 1;
}
