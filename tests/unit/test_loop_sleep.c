/* test_loop_sleep.c - the run loop's sleep (user/net/loop.c) on a stack whose io has a
 * pollable fd: the in-memory link with its eventfd, on the real clock, and a second thread as
 * the wire. What the loop does while asleep is read from /proc/self/task/TID/syscall: the
 * thread sits in epoll_wait(2) and its timeout argument is the sleep the loop chose.
 *
 *   idle: sleeps for the caller's timeout; a frame from the wire wakes it at once
 *   a frame out for completion: sleeps at most HXS_TX_WAIT_US (1 ms), then the full time
 *     again once the wire took it (the completion wakes no fd)
 *   a signal during the sleep: hxs_stack__poll, a blocking recv and hxs_epoll_wait say EINTR
 *   the caller's own loop woke on the stack's fd for the control plane: a plain turn leaves
 *     it for the periodic look, hxs_stack__poll_woken reads it in the turn
 *   an io without an fd: nothing to sleep on, the poll returns at once (virtual time)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "io/io.h"
#include "lib/csum.h"
#include "open/stack_open.h"

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 7, 2 };
static const uint8_t MAC_PEER[6] = { 0x02, 0, 0, 0, 7, 1 };
#define IP_US   "10.7.0.2"
#define IP_PEER "10.7.0.1"
#define PORT    9000

static struct hxs_io *io;
static struct hxs_stack *st;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Ethernet + IPv4 + UDP from the peer to PORT, checksums right; returns its length. */
static uint32_t udp_frame(uint8_t *f, const char *payload, uint16_t port)
{
	uint32_t plen = (uint32_t)strlen(payload), src = inet_addr(IP_PEER), dst = inet_addr(IP_US);
	uint8_t *ip = f + 14, *uh = ip + 20;
	uint16_t w;

	memcpy(f, MAC_US, 6);
	memcpy(f + 6, MAC_PEER, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	w = htons((uint16_t)(28 + plen));
	memcpy(ip + 2, &w, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	w = hxs_csum_fold(hxs_csum_add(0, ip, 20));
	memcpy(ip + 10, &w, 2);
	w = htons(5000);
	memcpy(uh, &w, 2);
	w = htons(port);
	memcpy(uh + 2, &w, 2);
	w = htons((uint16_t)(8 + plen));
	memcpy(uh + 4, &w, 2);
	memcpy(uh + 8, payload, plen);
	w = hxs_csum_fold(hxs_csum_add(hxs_csum_pseudo(src, dst, IPPROTO_UDP, 8 + plen), uh, 8 + plen));
	memcpy(uh + 6, w ? &w : &(uint16_t){ 0xffff }, 2);
	return 14 + 28 + plen;
}

/* --- the wire thread ------------------------------------------------------------------------ */

enum wire_job { JOB_WAKE, JOB_CAP, JOB_SIGNAL };

struct wire {
	enum wire_job job;
	pid_t tid;                  /* the stack's thread */
	pthread_t thread;
	long slept[2];              /* epoll_wait timeouts seen (ms), -1: not seen */
	int taken;                  /* length of the frame taken off the wire */
	int proc_err;               /* /proc/self/task/TID/syscall could not be read */
	int done;                   /* JOB_SIGNAL: the stack's call returned */
	uint16_t rescue_port;       /* JOB_SIGNAL: where a frame goes if it did not */
};

#define NOT_SEEN (-1000000L)

/* Waits (up to 10 s) until thread tid sits in epoll_wait(2) with a timeout of at least
 * min_ms (-1: forever); returns that timeout, or NOT_SEEN. */
static long asleep(struct wire *w, long min_ms)
{
	char path[64], line[256];
	uint64_t end = mono_us() + 10000000;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)w->tid);
	while (mono_us() < end) {
		FILE *fp = fopen(path, "r");
		long nr = -1;
		unsigned long long arg[4] = { 0 };
		int n = 0;

		if (!fp) {
			w->proc_err = errno;
			return NOT_SEEN;
		}
		if (fgets(line, sizeof(line), fp))
			n = sscanf(line, "%ld %llx %llx %llx %llx", &nr, &arg[0], &arg[1], &arg[2], &arg[3]);
		fclose(fp);
		/* epoll_wait(epfd, events, maxevents, timeout); epoll_pwait adds the sigmask */
		if (n == 5 && (nr == SYS_epoll_pwait
#ifdef SYS_epoll_wait
			       || nr == SYS_epoll_wait
#endif
			       ) && (long)(int)arg[3] >= min_ms)
			return (long)(int)arg[3];
		usleep(200);
	}
	return NOT_SEEN;
}

static void inject_wake(uint16_t port)
{
	uint8_t f[128];
	uint32_t len = udp_frame(f, "wake up", port);

	hxs_io_mem__inject(io, f, len);
}

static void *wire_main(void *arg)
{
	struct wire *w = arg;
	uint8_t buf[2048];

	switch (w->job) {
	case JOB_WAKE:
		w->slept[0] = asleep(w, 0);
		inject_wake(PORT);
		break;
	case JOB_CAP:
		w->slept[0] = asleep(w, 0);
		/* the wire takes the frame: its completion is the stack's to reap next turn */
		for (int i = 0; i < 100000 && (w->taken = hxs_io_mem__take(io, buf, sizeof(buf))) == -EAGAIN; i++)
			usleep(100);
		w->slept[1] = asleep(w, 2);
		inject_wake(PORT);
		break;
	case JOB_SIGNAL:
		w->slept[0] = asleep(w, -1);
		pthread_kill(w->thread, SIGUSR1);
		/* the call should return now; if it sleeps on (a regression), a frame ends it */
		for (uint64_t end = mono_us() + 5000000; mono_us() < end;) {
			if (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
				return NULL;
			usleep(1000);
		}
		inject_wake(w->rescue_port);
		break;
	}
	return NULL;
}

static struct wire wire_start(enum wire_job job)
{
	struct wire w = { .job = job, .tid = (pid_t)syscall(SYS_gettid), .thread = pthread_self(),
			  .slept = { NOT_SEEN, NOT_SEEN }, .taken = -1, .rescue_port = PORT };
	return w;
}

static void on_usr1(int sig) { (void)sig; }

static int udp_sock(int nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = hxs_socket(st, AF_INET, SOCK_DGRAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	CHECK_EQ(hxs_bind(st, fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void test_idle_sleep_and_wake(int fd)
{
	struct wire w = wire_start(JOB_WAKE);
	pthread_t th;
	char buf[64];
	int r;

	t_case("idle: the loop sleeps in epoll_wait for the caller's timeout; a frame wakes it");
	CHECK(hxs_stack__fd(st) >= 0);
	CHECK_EQ(pthread_create(&th, NULL, wire_main, &w), 0);
	r = hxs_stack__poll(st, 20000);
	pthread_join(th, NULL);
	CHECK_EQ(w.proc_err, 0);
	/* nothing armed: the whole timeout, less what the turn before it took */
	CHECK(w.slept[0] > 10000 && w.slept[0] <= 20000, "slept %ld ms", w.slept[0]);
	CHECK(r >= 1, "poll %d", r);
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 7);
	CHECK(!memcmp(buf, "wake up", 7));
}

static void test_tx_wait_cap(int fd)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000),
				    .sin_addr.s_addr = inet_addr(IP_PEER) };
	struct wire w = wire_start(JOB_CAP);
	struct hxs_io_stats s;
	pthread_t th;
	char buf[64];
	int r;

	t_case("a frame out for completion: sleeps of at most 1 ms, the full timeout once completed");
	CHECK_EQ(hxs_sendto(st, fd, "out", 3, 0, (struct sockaddr *)&peer, sizeof(peer)), 3);
	CHECK(hxs_stack__poll(st, 0) >= 0);
	io->ops->get_stats(io, &s);
	CHECK_EQ(s.frames_tx_queued, 1);            /* on the wire, not taken */
	CHECK_EQ(pthread_create(&th, NULL, wire_main, &w), 0);
	r = hxs_stack__poll(st, 20000);
	pthread_join(th, NULL);
	CHECK_EQ(w.proc_err, 0);
	CHECK(w.slept[0] == 0 || w.slept[0] == 1, "slept %ld ms with a frame out", w.slept[0]);
	CHECK_EQ(w.taken, 14 + 28 + 3);
	CHECK(w.slept[1] > 1000 && w.slept[1] <= 20000, "slept %ld ms after the completion", w.slept[1]);
	CHECK(r >= 1, "poll %d", r);
	io->ops->get_stats(io, &s);
	CHECK_EQ(s.frames_tx_queued, 0);            /* the completion was reaped */
	CHECK_EQ(hxs_recv(st, fd, buf, sizeof(buf), 0), 7);
}

static void test_eintr(int fd)
{
	struct sigaction sa = { .sa_handler = on_usr1 };     /* no SA_RESTART */
	struct hxs_event ev[4];
	pthread_t th;
	char buf[64];
	int blocking, ep;

	t_case("a signal in the sleep: hxs_stack__poll -EINTR");
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	{
		struct wire w = wire_start(JOB_SIGNAL);
		CHECK_EQ(pthread_create(&th, NULL, wire_main, &w), 0);
		CHECK_EQ(hxs_stack__poll(st, 20000), -EINTR);
		__atomic_store_n(&w.done, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		CHECK(w.slept[0] > 10000, "slept %ld ms", w.slept[0]);
	}

	t_case("a signal in the sleep: a blocking recv -EINTR, hxs_epoll_wait -EINTR");
	blocking = hxs_socket(st, AF_INET, SOCK_DGRAM, 0);
	{
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT + 1) };
		CHECK_EQ(hxs_bind(st, blocking, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	{
		struct wire w = wire_start(JOB_SIGNAL);
		w.rescue_port = PORT + 1;
		CHECK_EQ(pthread_create(&th, NULL, wire_main, &w), 0);
		CHECK_EQ(hxs_recv(st, blocking, buf, sizeof(buf), 0), -EINTR);
		__atomic_store_n(&w.done, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		CHECK_EQ(w.slept[0], -1);       /* no timer, no SO_RCVTIMEO: asleep for good */
	}
	ep = hxs_epoll_create(st);
	{
		struct hxs_event e = { .events = EPOLLIN, .data = 1 };
		struct wire w = wire_start(JOB_SIGNAL);
		CHECK_EQ(hxs_epoll_ctl(st, ep, EPOLL_CTL_ADD, fd, &e), 0);
		CHECK_EQ(pthread_create(&th, NULL, wire_main, &w), 0);
		CHECK_EQ(hxs_epoll_wait(st, ep, ev, 4, 20000), -EINTR);
		__atomic_store_n(&w.done, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		CHECK(w.slept[0] > 10000, "slept %ld ms", w.slept[0]);
	}
	hxs_epoll_close(st, ep);
	hxs_close(st, blocking);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);
}

static void test_no_fd(void)
{
	struct hxs_netif_static cfg = { .addr = inet_addr(IP_US), .prefix_len = 24 };
	struct hxs_io *io2;
	struct hxs_stack *st2;
	uint64_t t0;

	t_case("an io without an fd: no epoll set, a poll with a timeout returns 0 at once");
	CHECK_EQ(hxs_io_mem__open(&io2, 64, 2048), 0);
	CHECK_EQ(hxs_stack__open_io(&st2, io2, &cfg), 0);
	CHECK_EQ(hxs_stack__fd(st2), -1);
	t0 = mono_us();
	CHECK_EQ(hxs_stack__poll(st2, 20000), 0);
	CHECK(mono_us() - t0 < 10000000, "took %llu us", (unsigned long long)(mono_us() - t0));
	hxs_stack__close(st2);
	io2->ops->close(io2);
}

/* A loop of the caller's own that sleeps on hxs_stack__fd() wakes when the control plane's
 * fd (netlink in a real stack) is readable: a plain turn (hxs_stack__poll(st, 0)) leaves the
 * control plane for its next periodic look, HXS_CTL_POLL_US later, and meanwhile the
 * caller's set reports the stack's fd again at once (the LD_PRELOAD shim's thread spun that
 * long per netlink event); hxs_stack__poll_woken() reads it in this turn. The in-memory
 * stack's control plane is the static one, which reads nothing: the eventfd below stands in
 * for netlink, and when the control plane was looked at shows in ctl_next. */
static void test_poll_woken(void)
{
	uint64_t one = 1, far = UINT64_MAX - 1;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = hxs_stack__fd(st) };

	t_case("the caller's loop woke on the stack's fd for the control plane: poll_woken reads it now");
	CHECK(efd >= 0 && ep >= 0);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, hxs_stack__fd(st), &ev), 0);
	CHECK_EQ(hxs_stack__watch_fd(st, efd, 1), 0);
	st->ctl_next = far;
	CHECK_EQ(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 1);                 /* the caller's set: the stack */
	CHECK(hxs_stack__poll(st, 0) >= 0);
	CHECK(st->ctl_next == far, "a plain turn looked at the control plane");
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 1);                 /* so it wakes the caller again */
	CHECK(hxs_stack__poll_woken(st) >= 0);
	CHECK(st->ctl_next == st->turn_now + HXS_CTL_POLL_US, "ctl_next %llu, turn %llu",
	      (unsigned long long)st->ctl_next, (unsigned long long)st->turn_now);
	CHECK_EQ(st->ctl_due, 0);
	epoll_ctl(hxs_stack__fd(st), EPOLL_CTL_DEL, efd, NULL);
	st->ctl_fd = -1;
	st->ctl_next = 0;
	close(efd);
	close(ep);
}

int main(void)
{
	struct hxs_io_mem_opts o = { .frames = 256, .frame_size = 2048 };
	struct hxs_netif_static cfg = { .addr = inet_addr(IP_US), .prefix_len = 24, .n_neigh = 1 };
	struct hxs_io_stats s;
	int fd;

	memcpy(cfg.mac, MAC_US, 6);
	cfg.neigh[0].ip = inet_addr(IP_PEER);
	memcpy(cfg.neigh[0].mac, MAC_PEER, 6);
	t_case("a stack on the in-memory link with its eventfd, on the real clock");
	CHECK_EQ(hxs_io_mem__open_opts(&io, &o), 0);
	CHECK_EQ(hxs_stack__open_io(&st, io, &cfg), 0);
	if (!st)
		return t_done();
	fd = udp_sock(1);

	test_idle_sleep_and_wake(fd);
	test_tx_wait_cap(fd);
	test_eintr(fd);
	test_poll_woken();
	test_no_fd();

	hxs_close(st, fd);
	hxs_stack__close(st);
	io->ops->get_stats(io, &s);
	t_case("closed: the stack holds no frame");
	CHECK_EQ(s.frames_held, 0);
	io->ops->close(io);
	return t_done();
}
