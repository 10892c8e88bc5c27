/* pl_api.c - the kernel socket API through the LD_PRELOAD shim, case by case; run by
 * tests/integ/test_preload_api.sh as `LD_PRELOAD=libhxs-preload.so HXS_IFACE=... pl_api MODE
 * ECHO_ADDR ECHO_PORT [SINK_PORT]`, facing kernel servers in the other namespace (an echo
 * server, and a sink that logs "LOCALPORT BYTES" when a connection ends). Each case prints
 * "pass NAME" or "fail NAME: why"; the script turns them into TAP lines.
 *
 *   sig    signals and blocking calls, as signal(7) says the kernel does: an SA_RESTART handler
 *          restarts a blocking recv, send, accept; without SA_RESTART they fail with EINTR;
 *          with SO_RCVTIMEO set, EINTR even under SA_RESTART; poll, select, epoll_wait
 *          EINTR whatever the flags. A helper thread signals the main thread only once
 *          /proc says it sleeps in the wait's system call.
 *   fds    kernel and hxs fds in one epoll set; a dup of the epoll fd; a kernel socket added
 *          to an epoll set before connect made it hxs's; poll on fd 3000 (> FD_SETSIZE),
 *          select on fd FD_SETSIZE - 1; dup/close ordering (the sink's log says when each
 *          connection ended and with how many bytes); exec: FD_CLOEXEC numbers closed, the
 *          others kept (the exec'd image checks, mode exec-check)
 *   sys    the raw syscall() entry for the interposed numbers
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in echo_sa, sink_sa;
static int failures;

static void result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("pass %s\n", name);
	} else {
		failures++;
		printf("fail %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(" (errno %s)\n", strerrorname_np(errno) ? strerrorname_np(errno) : "0");
	}
	fflush(stdout);
}

static int conn(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		perror("connect");
		exit(2);
	}
	return fd;
}

/* An hxs socket is an eventfd of the fd layer; a kernel socket is "socket:[...]". */
static int is_hxs(int fd)
{
	char p[64], l[128];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return 0;
	l[n] = 0;
	return strstr(l, "eventfd") != NULL;
}

static int recv_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, (char *)buf + got, n - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int lport(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &l) ? -1 : ntohs(a.sin_port);
}

/* --- sig ---------------------------------------------------------------------------------- */
static volatile sig_atomic_t hits;
static pthread_t main_thr;
static pid_t main_tid;

static void on_usr1(int sig)
{
	(void)sig;
	hits++;
}

static void handler(int restart)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
}

/* The main thread sleeps in system call nr (/proc/self/task/TID/syscall, stat state S). */
static int blocked_in(long nr)
{
	char p[64], buf[256];
	FILE *f;
	long cur = -1;
	char st = 0;

	snprintf(p, sizeof(p), "/proc/self/task/%d/syscall", main_tid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &cur) != 1)
		cur = -1;
	fclose(f);
	snprintf(p, sizeof(p), "/proc/self/task/%d/stat", main_tid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		char *e = strrchr(buf, ')');

		if (e && e[1])
			st = e[2];
	}
	fclose(f);
	return cur == nr && st == 'S';
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

struct job {
	long nr;                    /* the system call the main thread waits in */
	int nsig;
	void (*after)(struct job *);
	int fd;
	size_t len;
	int ok;
};

static void *signaller(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < j->nsig; i++) {
		int h = hits, t;

		for (t = 0; t < 30000 && !blocked_in(j->nr); t += 2)
			pause_ms(2);
		if (t >= 30000)
			return NULL;        /* the case fails on its own (the call never blocked) */
		pthread_kill(main_thr, SIGUSR1);
		for (t = 0; t < 30000 && hits == h; t += 2)
			pause_ms(2);
	}
	if (j->after)
		j->after(j);
	return NULL;
}

static void start(pthread_t *t, struct job *j)
{
	hits = 0;
	pthread_create(t, NULL, signaller, j);
}

static void after_send_r(struct job *j)
{
	send(j->fd, "r", 1, 0);
}

static void after_drain(struct job *j)
{
	unsigned char *b = malloc(j->len);

	j->ok = b && !recv_exact(j->fd, b, j->len);
	for (size_t i = 0; j->ok && i < j->len; i++)
		j->ok = b[i] == (unsigned char)(i * 7 + 3);
	free(b);
}

static void after_say(struct job *j)
{
	(void)j;
	printf("accept-waiting\n");
	fflush(stdout);
}

static void mode_sig(int acc_port)
{
	struct timeval tv = { 30, 0 };
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons((uint16_t)acc_port) };
	struct job j;
	pthread_t t;
	char buf[16];
	ssize_t r;
	int fd = conn(&echo_sa), e, l, a;

	main_thr = pthread_self();
	main_tid = (pid_t)syscall(SYS_gettid);
	result("sig: the connection is hxs's", is_hxs(fd), "fd %d is a kernel socket", fd);

	handler(1);
	j = (struct job){ .nr = SYS_read, .nsig = 3, .after = after_send_r, .fd = fd };
	start(&t, &j);
	r = recv(fd, buf, sizeof(buf), 0);
	e = errno;
	pthread_join(t, NULL);
	result("sig: blocking recv under SA_RESTART is restarted after 3 signals, then gets the byte",
	       r == 1 && buf[0] == 'r' && hits == 3, "recv %zd, %d signals", r, (int)hits);
	(void)e;

	handler(0);
	j = (struct job){ .nr = SYS_read, .nsig = 1 };
	start(&t, &j);
	r = recv(fd, buf, sizeof(buf), 0);
	e = errno;
	pthread_join(t, NULL);
	result("sig: blocking recv without SA_RESTART fails with EINTR", r == -1 && e == EINTR,
	       "recv %zd", r);

	handler(1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	j = (struct job){ .nr = SYS_ppoll, .nsig = 1 };
	start(&t, &j);
	r = recv(fd, buf, sizeof(buf), 0);
	e = errno;
	pthread_join(t, NULL);
	result("sig: recv with SO_RCVTIMEO fails with EINTR even under SA_RESTART",
	       r == -1 && e == EINTR, "recv %zd", r);
	tv = (struct timeval){ 0, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	/* send: more than the echo path buffers, nothing read back until 3 signals came */
	{
		size_t len = 32u << 20;
		unsigned char *b = malloc(len);

		for (size_t i = 0; i < len; i++)
			b[i] = (unsigned char)(i * 7 + 3);
		j = (struct job){ .nr = SYS_read, .nsig = 3, .after = after_drain, .fd = fd, .len = len };
		start(&t, &j);
		r = send(fd, b, len, 0);
		e = errno;
		pthread_join(t, NULL);
		result("sig: blocking send of 32 MiB under SA_RESTART is restarted, all sent and echoed exact",
		       r == (ssize_t)len && hits == 3 && j.ok, "send %zd, %d signals, echo %s", r,
		       (int)hits, j.ok ? "exact" : "wrong");
		free(b);
	}

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&la, sizeof(la)) || listen(l, 4)) {
		result("sig: listen", 0, "bind/listen on port %d", acc_port);
		return;
	}
	j = (struct job){ .nr = SYS_read, .nsig = 3, .after = after_say };
	start(&t, &j);
	a = accept(l, NULL, NULL);
	e = errno;
	pthread_join(t, NULL);
	result("sig: blocking accept under SA_RESTART is restarted, then takes the connection",
	       a >= 0 && hits == 3 && is_hxs(a), "accept %d, %d signals", a, (int)hits);

	{
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN }, out;
		fd_set rs;

		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		j = (struct job){ .nr = SYS_ppoll, .nsig = 1 };
		start(&t, &j);
		r = poll(&p, 1, -1);
		e = errno;
		pthread_join(t, NULL);
		result("sig: poll fails with EINTR even under SA_RESTART", r == -1 && e == EINTR,
		       "poll %zd", r);
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		j = (struct job){ .nr = SYS_ppoll, .nsig = 1 };
		start(&t, &j);
		r = select(fd + 1, &rs, NULL, NULL, NULL);
		e = errno;
		pthread_join(t, NULL);
		result("sig: select fails with EINTR even under SA_RESTART", r == -1 && e == EINTR,
		       "select %zd", r);
		j = (struct job){ .nr = SYS_epoll_pwait, .nsig = 1 };
		start(&t, &j);
		r = epoll_wait(ep, &out, 1, -1);
		e = errno;
		pthread_join(t, NULL);
		result("sig: epoll_wait fails with EINTR even under SA_RESTART", r == -1 && e == EINTR,
		       "epoll_wait %zd", r);
		close(ep);
	}
	close(a);
	close(l);
	close(fd);
}

/* --- fds ---------------------------------------------------------------------------------- */
/* Tags seen by epoll_wait(ep) within ms; bit 31 set for a tag the program never gave. */
static unsigned tags(int ep, int ms, unsigned want)
{
	struct epoll_event ev[8];
	unsigned seen = 0;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int n = epoll_wait(ep, ev, 8, ms ? 50 : 0);

		for (int i = 0; i < n; i++)
			seen |= ev[i].data.u64 >= 1 && ev[i].data.u64 <= 3 ? 1u << ev[i].data.u64 : 1u << 31;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((seen & want) == want ||
		    (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return seen;
	}
}

static void mode_fds(const char *self)
{
	struct epoll_event ev;
	struct rlimit rl = { 4096, 4096 };
	int ep, ep2, p[2], fd, s2, hi, r;
	unsigned seen;
	char c, buf[16];

	fd = conn(&echo_sa);
	ep = epoll_create1(0);
	if (pipe(p) || ep < 0)
		exit(2);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 1 };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 2 };
	r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	result("fds: epoll_ctl ADD of an hxs socket", r == 0, "epoll_ctl %d", r);
	(void)!write(p[1], "k", 1);
	seen = tags(ep, 2000, 1u << 1);
	result("epoll mixed: a pipe write wakes the set with the pipe's tag only", seen == 1u << 1,
	       "tags %#x", seen);
	(void)!read(p[0], &c, 1);
	send(fd, "e", 1, 0);
	seen = tags(ep, 20000, 1u << 2);
	result("epoll mixed: the echo wakes the set with the hxs socket's tag only", seen == 1u << 2,
	       "tags %#x", seen);
	r = (int)recv(fd, buf, sizeof(buf), 0);
	result("epoll mixed: the echoed byte", r == 1 && buf[0] == 'e', "recv %d", r);
	(void)!write(p[1], "k", 1);
	send(fd, "f", 1, 0);
	seen = tags(ep, 20000, (1u << 1) | (1u << 2));
	result("epoll mixed: both ready: both tags", seen == ((1u << 1) | (1u << 2)), "tags %#x", seen);
	(void)!read(p[0], &c, 1);
	(void)!recv(fd, buf, sizeof(buf), 0);
	seen = tags(ep, 0, ~0u);
	result("epoll mixed: nothing ready: nothing reported", seen == 0, "tags %#x", seen);

	{
		int one = 1, v = 0;
		socklen_t vl = sizeof(v);

		r = setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
		getsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, &vl);
		send(fd, "m", 1, MSG_MORE);
		one = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
		buf[0] = 0;
		one = (int)recv(fd, buf, 1, 0);
		result("TCP_CORK is taken (getsockopt says 1), MSG_MORE data is echoed",
		       r == 0 && v == 1 && one == 1 && buf[0] == 'm', "setsockopt %d get %d recv %d",
		       r, v, one);
	}

	ep2 = dup(ep);
	send(fd, "g", 1, 0);
	seen = tags(ep2, 20000, 1u << 2);
	result("epoll dup: the copy of the epoll fd reports the hxs socket", seen == 1u << 2,
	       "tags %#x", seen);
	(void)!recv(fd, buf, sizeof(buf), 0);
	close(ep2);

	s2 = socket(AF_INET, SOCK_STREAM, 0);
	ev = (struct epoll_event){ .events = EPOLLOUT, .data.u64 = 3 };
	epoll_ctl(ep, EPOLL_CTL_ADD, s2, &ev);
	r = connect(s2, (struct sockaddr *)&echo_sa, sizeof(echo_sa));
	seen = tags(ep, 20000, 1u << 3);
	result("epoll: a socket added before connect made it hxs's stays in the set",
	       r == 0 && is_hxs(s2) && seen == 1u << 3, "connect %d, tags %#x", r, seen);
	close(s2);
	close(ep);
	close(p[0]);
	close(p[1]);

	/* high numbers */
	if (setrlimit(RLIMIT_NOFILE, &rl))
		exit(2);
	hi = dup2(fd, 3000);
	send(hi, "p", 1, 0);
	{
		struct pollfd pf = { .fd = hi, .events = POLLIN };

		r = poll(&pf, 1, 20000);
		result("poll on fd 3000 (> FD_SETSIZE), an hxs socket: POLLIN",
		       hi == 3000 && r == 1 && (pf.revents & POLLIN), "dup2 %d poll %d revents %#x", hi,
		       r, pf.revents);
		r = (int)recv(hi, buf, sizeof(buf), 0);
		result("recv on fd 3000", r == 1 && buf[0] == 'p', "recv %d", r);
	}
	close(hi);
	hi = dup2(fd, FD_SETSIZE - 1);
	send(hi, "s", 1, 0);
	{
		struct timeval tv = { 20, 0 };
		fd_set rs;

		FD_ZERO(&rs);
		FD_SET(hi, &rs);
		r = select(hi + 1, &rs, NULL, NULL, &tv);
		result("select on fd FD_SETSIZE - 1, an hxs socket: readable",
		       hi == FD_SETSIZE - 1 && r == 1 && FD_ISSET(hi, &rs), "select %d", r);
		r = (int)recv(hi, buf, sizeof(buf), 0);
		result("recv on fd FD_SETSIZE - 1", r == 1 && buf[0] == 's', "recv %d", r);
	}
	close(hi);

	/* dup/close ordering, seen by the sink: "LPORT BYTES" when a connection ends */
	{
		int a = conn(&sink_sa), d, t, u;

		send(a, "abc", 3, 0);
		d = dup(a);
		close(a);
		r = (int)send(d, "de", 2, 0);
		result("dup, then close of the first number: the socket lives on", r == 2, "send %d", r);
		printf("expect %d 5\n", lport(d));
		close(d);
		t = conn(&sink_sa);
		u = conn(&sink_sa);
		printf("expect %d 0\n", lport(u));
		r = dup2(t, u);         /* u's connection closed: its only number is taken */
		send(u, "xyz", 3, 0);
		printf("expect %d 3\n", lport(t));
		close(t);
		r = (int)send(u, "", 0, 0);
		result("dup2 onto an hxs socket: the number now names the other one", r == 0,
		       "send %d", r);
		close(u);
		fflush(stdout);
	}

	/* exec */
	{
		int s = conn(&echo_sa), a, b, cx, d, f;
		char na[12], nb[12], nc[12], nd[12];

		a = fcntl(s, F_DUPFD_CLOEXEC, 50);
		b = fcntl(s, F_DUPFD, 60);
		cx = dup(s);
		fcntl(cx, F_SETFD, FD_CLOEXEC);
		d = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		r = connect(d, (struct sockaddr *)&echo_sa, sizeof(echo_sa));
		f = fcntl(a, F_GETFD);
		result("exec: F_DUPFD_CLOEXEC / F_SETFD / SOCK_CLOEXEC numbers say FD_CLOEXEC",
		       f == FD_CLOEXEC && fcntl(cx, F_GETFD) == FD_CLOEXEC &&
		       fcntl(d, F_GETFD) == FD_CLOEXEC && fcntl(b, F_GETFD) == 0 && r == 0 && is_hxs(d),
		       "a %d b %d c %d d %d", f, fcntl(b, F_GETFD), fcntl(cx, F_GETFD), fcntl(d, F_GETFD));
		snprintf(na, sizeof(na), "%d", a);
		snprintf(nb, sizeof(nb), "%d", b);
		snprintf(nc, sizeof(nc), "%d", cx);
		snprintf(nd, sizeof(nd), "%d", d);
		fflush(stdout);
		execl(self, self, "exec-check", na, nb, nc, nd, (char *)NULL);
		result("exec", 0, "execl %s", self);
	}
}

static void mode_exec_check(char **argv)
{
	int a = atoi(argv[2]), b = atoi(argv[3]), c = atoi(argv[4]), d = atoi(argv[5]);
	int fa = fcntl(a, F_GETFD), fb = fcntl(b, F_GETFD), fc = fcntl(c, F_GETFD), fd = fcntl(d, F_GETFD);

	result("exec: the FD_CLOEXEC numbers are closed, the other one is kept",
	       fa == -1 && fc == -1 && fd == -1 && fb == 0, "F_GETFD %d %d %d %d", fa, fb, fc, fd);
}

/* --- sys ---------------------------------------------------------------------------------- */
static void mode_sys(void)
{
	char buf[16] = { 0 };
	long s, r, r2, r3;
	struct pollfd p;

	s = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	r = syscall(SYS_connect, s, &echo_sa, sizeof(echo_sa));
	result("syscall(SYS_socket), syscall(SYS_connect): an hxs socket", s >= 0 && r == 0 &&
	       is_hxs((int)s), "socket %ld connect %ld", s, r);
	r = syscall(SYS_sendto, s, "raw", 3, 0, NULL, 0);
	r2 = syscall(SYS_recvfrom, s, buf, 3, MSG_WAITALL, NULL, NULL);
	result("syscall(SYS_sendto / SYS_recvfrom) on it", r == 3 && r2 == 3 && !memcmp(buf, "raw", 3),
	       "sendto %ld recvfrom %ld", r, r2);
	r = syscall(SYS_write, s, "wr", 2);
	p = (struct pollfd){ .fd = (int)s, .events = POLLIN };
	r3 = syscall(SYS_poll, &p, 1, 20000);
	r2 = syscall(SYS_read, s, buf, 2);
	result("syscall(SYS_write / SYS_poll / SYS_read) on it",
	       r == 2 && r3 == 1 && r2 == 2 && !memcmp(buf, "wr", 2), "write %ld poll %ld read %ld",
	       r, r3, r2);
	r = syscall(SYS_dup, s);
	r2 = syscall(SYS_close, s);
	r3 = syscall(SYS_fcntl, s, F_GETFD);
	result("syscall(SYS_dup / SYS_close / SYS_fcntl): the dup lives, the closed number is gone",
	       r >= 0 && r2 == 0 && r3 == -1 && errno == EBADF && is_hxs((int)r), "dup %ld close %ld fcntl %ld",
	       r, r2, r3);
	r2 = syscall(SYS_getpid);
	result("syscall(SYS_getpid) passes through", r2 == getpid(), "%ld", r2);
	syscall(SYS_close, r);
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "exec-check")) {
		mode_exec_check(argv);
		return failures ? 1 : 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: %s sig|fds|sys ADDR ECHO_PORT [SINK_PORT|ACCEPT_PORT]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	echo_sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
	inet_pton(AF_INET, argv[2], &echo_sa.sin_addr);
	sink_sa = echo_sa;
	if (argc > 4)
		sink_sa.sin_port = htons((uint16_t)atoi(argv[4]));
	if (!strcmp(argv[1], "sig"))
		mode_sig(argc > 4 ? atoi(argv[4]) : 7100);
	else if (!strcmp(argv[1], "fds"))
		mode_fds("/proc/self/exe");
	else if (!strcmp(argv[1], "sys"))
		mode_sys();
	else
		return 2;
	return failures ? 1 : 0;
}
