/* test_fdtab.c - the fd layer (user/fd/fdtab.c): real kernel fd numbers for hxs objects.
 *
 * Asserts against the kernel itself (fcntl, fstat, pipe): the numbers are the kernel's, the
 * errors are the kernel's (EBADF / ENOTSOCK), flags land on the kernel fd, a number closed
 * behind the table's back is handed over exactly once, free() closes what is still ours and
 * nothing else, RLIMIT_NOFILE gives EMFILE, and threads opening and closing at once leave
 * neither entries nor fds behind. The additions of the LD_PRELOAD shim: dup (several numbers,
 * one object, dropped once, in whatever order they close), open_at (a number the caller holds
 * taken over atomically), status flags shared by dups, fork (the child sees every entry as
 * inherited, the parent none; the lock is usable in both).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fd/fdtab.h"

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

struct drops {
	int n;
	int fd[64];
	struct hxs_fd e[64];
};

static void record(void *ctx, int fd, const struct hxs_fd *e)
{
	struct drops *d = ctx;

	if (d->n < 64) {
		d->fd[d->n] = fd;
		d->e[d->n] = *e;
	}
	d->n++;
}

/* Number of fds open in this process. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += is_open(fd);
	return n;
}

static void test_open_get_close(void)
{
	struct hxs_fdtab *t;
	struct hxs_fd e, s = { HXS_FD_SOCKET, 7, O_NONBLOCK }, p = { HXS_FD_EPOLL, 3, 0 };
	int base = open_fds(), a, b, probe;

	t_case("open: the lowest free kernel number, kind/object/flags exact, O_NONBLOCK and O_CLOEXEC on the kernel fd");
	CHECK_EQ(hxs_fdtab__new(&t, 0, NULL, NULL), 0);
	probe = dup(0);
	close(probe);                       /* the number the kernel hands out next */
	a = hxs_fdtab__open(t, &s, O_CLOEXEC);
	CHECK_EQ(a, probe);
	CHECK(is_open(a));
	CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(a, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(hxs_fdtab__get(t, a, &e), 0);
	CHECK_EQ(e.kind, HXS_FD_SOCKET);
	CHECK_EQ(e.obj, 7);
	CHECK_EQ(e.flags, O_NONBLOCK);
	b = hxs_fdtab__open(t, &p, 0);
	CHECK_EQ(b, a + 1);
	CHECK_EQ(fcntl(b, F_GETFD), 0);
	CHECK_EQ(fcntl(b, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(hxs_fdtab__count(t), 2);
	CHECK_EQ(open_fds(), base + 2);

	t_case("sock: 0 for our socket, ENOTSOCK for our epoll and a kernel pipe, EBADF for no fd");
	{
		int pp[2];

		CHECK_EQ(pipe(pp), 0);
		CHECK_EQ(hxs_fdtab__sock(t, a, &e), 0);
		CHECK_EQ(e.obj, 7);
		CHECK_EQ(hxs_fdtab__sock(t, b, &e), -ENOTSOCK);
		CHECK_EQ(hxs_fdtab__sock(t, pp[0], &e), -ENOTSOCK);
		CHECK_EQ(hxs_fdtab__get(t, pp[0], &e), -EBADF);
		close(pp[0]);
		close(pp[1]);
		CHECK_EQ(hxs_fdtab__sock(t, pp[0], &e), -EBADF);
		CHECK_EQ(hxs_fdtab__sock(t, -1, &e), -EBADF);
		CHECK_EQ(hxs_fdtab__sock(t, 1 << 30, &e), -EBADF);
		CHECK_EQ(hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_FREE, 0, 0 }, 0), -EINVAL);
	}

	t_case("set_flags: O_NONBLOCK only, in the table and on the kernel fd; EBADF when not ours");
	CHECK_EQ(hxs_fdtab__set_flags(t, b, O_NONBLOCK | O_APPEND), 0);
	CHECK_EQ(hxs_fdtab__get(t, b, &e), 0);
	CHECK_EQ(e.flags, O_NONBLOCK);
	CHECK_EQ(fcntl(b, F_GETFL) & (O_NONBLOCK | O_APPEND), O_NONBLOCK);
	CHECK_EQ(hxs_fdtab__set_flags(t, a, 0), 0);
	CHECK_EQ(hxs_fdtab__get(t, a, &e), 0);
	CHECK_EQ(e.flags, 0);
	CHECK_EQ(fcntl(a, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(hxs_fdtab__set_flags(t, 0, O_NONBLOCK), -EBADF);

	t_case("close: the entry comes back, the kernel fd is closed, a second close is EBADF");
	CHECK_EQ(hxs_fdtab__close(t, a, &e), 0);
	CHECK_EQ(e.kind, HXS_FD_SOCKET);
	CHECK_EQ(e.obj, 7);
	CHECK(!is_open(a));
	CHECK_EQ(hxs_fdtab__close(t, a, &e), -EBADF);
	CHECK_EQ(hxs_fdtab__get(t, a, &e), -EBADF);
	CHECK_EQ(hxs_fdtab__close(t, 0, &e), -EBADF);    /* stdin: the kernel's, not ours */
	CHECK(is_open(0));
	CHECK_EQ(hxs_fdtab__count(t), 1);
	CHECK_EQ(hxs_fdtab__close(t, b, &e), 0);
	CHECK_EQ(e.kind, HXS_FD_EPOLL);
	CHECK_EQ(e.obj, 3);
	CHECK_EQ(hxs_fdtab__count(t), 0);
	CHECK_EQ(open_fds(), base);
	hxs_fdtab__free(t, NULL, NULL);
}

static void test_stale(void)
{
	struct drops st = { 0 }, fr = { 0 };
	struct hxs_fdtab *t;
	struct hxs_fd e;
	int a, b, c, pp[2];

	t_case("a number closed with libc and reused by the table: the old entry goes to stale() once");
	CHECK_EQ(hxs_fdtab__new(&t, 0, record, &st), 0);
	a = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_SOCKET, 11, 0 }, 0);
	CHECK(a >= 0);
	close(a);                                   /* behind the table's back */
	b = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_SOCKET, 12, 0 }, 0);
	CHECK_EQ(b, a);
	CHECK_EQ(st.n, 1);
	CHECK_EQ(st.fd[0], a);
	CHECK_EQ(st.e[0].obj, 11);
	CHECK_EQ(hxs_fdtab__get(t, b, &e), 0);
	CHECK_EQ(e.obj, 12);
	CHECK_EQ(hxs_fdtab__count(t), 1);

	t_case("a number closed with libc and reused by a pipe: claim() hands the entry over, free() leaves the pipe open");
	close(b);
	CHECK_EQ(pipe(pp), 0);
	CHECK(pp[0] == b || pp[1] == b);
	hxs_fdtab__claim(t, pp[0]);
	hxs_fdtab__claim(t, pp[1]);
	CHECK_EQ(st.n, 2);
	CHECK_EQ(st.e[1].obj, 12);
	CHECK_EQ(hxs_fdtab__count(t), 0);
	c = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_EPOLL, 13, 0 }, 0);
	CHECK(c >= 0 && c != pp[0] && c != pp[1]);
	/* c closed behind our back and reused by a pipe nobody told us about */
	close(c);
	{
		int q[2];

		CHECK_EQ(pipe(q), 0);
		CHECK(q[0] == c);
		hxs_fdtab__free(t, record, &fr);
		CHECK_EQ(fr.n, 1);
		CHECK_EQ(fr.fd[0], c);
		CHECK_EQ(fr.e[0].obj, 13);
		CHECK(is_open(q[0]));                /* not an eventfd of ours: left alone */
		close(q[0]);
		close(q[1]);
	}
	CHECK(is_open(pp[0]) && is_open(pp[1]));
	close(pp[0]);
	close(pp[1]);
	CHECK_EQ(st.n, 2);                           /* free() reports through drop, not stale */
}

static void test_free_closes(void)
{
	struct drops d = { 0 };
	struct hxs_fdtab *t;
	int base = open_fds(), fd[5];

	t_case("free: every entry to drop() with its number, every kernel fd still ours closed");
	CHECK_EQ(hxs_fdtab__new(&t, 0, NULL, NULL), 0);
	for (int i = 0; i < 5; i++)
		fd[i] = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_SOCKET, 100 + i, 0 }, 0);
	CHECK_EQ(open_fds(), base + 5);
	hxs_fdtab__free(t, record, &d);
	CHECK_EQ(d.n, 5);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(d.fd[i], fd[i]);
		CHECK_EQ(d.e[i].obj, 100 + i);
		CHECK(!is_open(fd[i]));
	}
	CHECK_EQ(open_fds(), base);
}

/* Numbers below lim the kernel could still hand out. */
static int free_below(int lim)
{
	int n = 0;

	for (int fd = 0; fd < lim; fd++)
		n += !is_open(fd);
	return n;
}

static void test_emfile(void)
{
	struct hxs_fdtab *t;
	struct rlimit old, low;
	int got[64], n = 0, r = 0, base = open_fds(), next, room;

	t_case("RLIMIT_NOFILE reached: EMFILE as the kernel says after exactly the free numbers below it");
	next = dup(0);
	close(next);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)(next + 8);
	room = free_below(next + 8);
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	CHECK_EQ(hxs_fdtab__new(&t, 0, NULL, NULL), 0);
	while (n < 64 && (r = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_SOCKET, n, 0 }, 0)) >= 0)
		got[n++] = r;
	CHECK_EQ(r, -EMFILE);
	CHECK_EQ(n, room);
	CHECK(room > 0, "%d free numbers", room);
	CHECK_EQ(hxs_fdtab__count(t), (unsigned)n);
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	for (int i = 0; i < n; i++) {
		struct hxs_fd e;

		CHECK_EQ(hxs_fdtab__close(t, got[i], &e), 0);
		CHECK_EQ(e.obj, i);
	}
	hxs_fdtab__free(t, NULL, NULL);
	CHECK_EQ(open_fds(), base);

	t_case("the table's own max: EMFILE for a number at or above it, the kernel fd given back");
	CHECK_EQ(hxs_fdtab__new(&t, (unsigned)next + 2, NULL, NULL), 0);
	n = 0;
	while (n < 64 && (r = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_SOCKET, n, 0 }, 0)) >= 0)
		got[n++] = r;
	CHECK_EQ(r, -EMFILE);
	CHECK_EQ(n, 2);
	CHECK_EQ(got[0], next);
	CHECK_EQ(open_fds(), base + 2);
	hxs_fdtab__free(t, NULL, NULL);
	CHECK_EQ(open_fds(), base);
}

#define THREADS 4
#define ROUNDS 2000

struct worker {
	struct hxs_fdtab *t;
	int id;
	int bad;
};

static void *churn(void *arg)
{
	struct worker *w = arg;
	int mine[8];

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < 8; i++)
			mine[i] = hxs_fdtab__open(w->t, &(struct hxs_fd){ HXS_FD_SOCKET, w->id * 1000 + i, 0 }, 0);
		for (int i = 0; i < 8; i++) {
			struct hxs_fd e;

			if (mine[i] < 0 || hxs_fdtab__get(w->t, mine[i], &e) || e.obj != w->id * 1000 + i)
				w->bad++;
			if (mine[i] >= 0 && hxs_fdtab__close(w->t, mine[i], &e))
				w->bad++;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct drops d = { 0 };
	struct hxs_fdtab *t;
	pthread_t th[THREADS];
	struct worker w[THREADS];
	int base = open_fds(), bad = 0;

	t_case("4 threads x 2000 rounds of 8 opens and closes: every entry its own, none left, no fd leaked, no stale");
	CHECK_EQ(hxs_fdtab__new(&t, 0, record, &d), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ t, i + 1, 0 };
		CHECK_EQ(pthread_create(&th[i], NULL, churn, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(d.n, 0);
	CHECK_EQ(hxs_fdtab__count(t), 0);
	hxs_fdtab__free(t, NULL, NULL);
	CHECK_EQ(open_fds(), base);
}

static int is_eventfd(int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	return !strcmp(link, "anon_inode:[eventfd]");
}

static void test_dup(void)
{
	struct hxs_fdtab *t;
	struct drops d = { 0 };
	struct hxs_fd e, gone, s = { HXS_FD_SOCKET, 5, 0 }, s2 = { HXS_FD_SOCKET, 6, 0 };
	int base = open_fds(), a, b, c, x, hi;

	t_case("dup (lowest >= n): a new kernel number, same object, refs 2 on both");
	CHECK_EQ(hxs_fdtab__new(&t, 0, record, &d), 0);
	a = hxs_fdtab__open(t, &s, 0);
	CHECK(a >= 0);
	b = hxs_fdtab__dup(t, a, 0, HXS_DUP_MIN, 0, &gone);
	CHECK(b >= 0 && b != a);
	CHECK_EQ(gone.kind, HXS_FD_FREE);
	CHECK(is_eventfd(b));
	CHECK_EQ(hxs_fdtab__get(t, b, &e), 0);
	CHECK_EQ(e.obj, 5);
	CHECK_EQ(e.refs, 2);
	CHECK_EQ(hxs_fdtab__get(t, a, &e), 0);
	CHECK_EQ(e.refs, 2);
	CHECK_EQ(hxs_fdtab__count(t), 2);

	t_case("dup: F_DUPFD_CLOEXEC semantics (lowest >= 500, close-on-exec on the new number only)");
	hi = hxs_fdtab__dup(t, a, 500, HXS_DUP_MIN, O_CLOEXEC, &gone);
	CHECK(hi >= 500);
	CHECK_EQ(fcntl(hi, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(a, F_GETFD), 0);
	CHECK_EQ(hxs_fdtab__get(t, hi, &e), 0);
	CHECK_EQ(e.refs, 3);

	t_case("status flags are the object's: set on one number, every dup sees them");
	CHECK_EQ(hxs_fdtab__set_flags(t, b, O_NONBLOCK), 0);
	CHECK_EQ(hxs_fdtab__get(t, a, &e), 0);
	CHECK_EQ(e.flags, O_NONBLOCK);
	CHECK_EQ(fcntl(a, F_GETFL) & O_NONBLOCK, O_NONBLOCK);   /* the kernel shares them too */

	t_case("close in any order: refs counts down, only the last close says refs 1");
	CHECK_EQ(hxs_fdtab__close(t, a, &e), 0);
	CHECK_EQ(e.refs, 3);
	CHECK(!is_open(a));
	CHECK_EQ(hxs_fdtab__get(t, hi, &e), 0);
	CHECK_EQ(e.refs, 2);
	CHECK_EQ(hxs_fdtab__close(t, hi, &e), 0);
	CHECK_EQ(e.refs, 2);
	CHECK_EQ(hxs_fdtab__close(t, b, &e), 0);
	CHECK_EQ(e.refs, 1);
	CHECK_EQ(e.obj, 5);
	CHECK_EQ(hxs_fdtab__count(t), 0);
	CHECK_EQ(open_fds(), base);

	t_case("dup2 onto another object's number: that one comes back in gone (its last number)");
	a = hxs_fdtab__open(t, &s, 0);
	c = hxs_fdtab__open(t, &s2, 0);
	x = hxs_fdtab__dup(t, a, c, HXS_DUP_AT, 0, &gone);
	CHECK_EQ(x, c);
	CHECK_EQ(gone.kind, HXS_FD_SOCKET);
	CHECK_EQ(gone.obj, 6);
	CHECK_EQ(gone.refs, 1);
	CHECK_EQ(hxs_fdtab__get(t, c, &e), 0);
	CHECK_EQ(e.obj, 5);
	CHECK_EQ(e.refs, 2);
	CHECK_EQ(hxs_fdtab__count(t), 2);
	CHECK_EQ(hxs_fdtab__dup(t, a, a, HXS_DUP_AT, 0, &gone), -EINVAL);
	CHECK_EQ(hxs_fdtab__dup(t, 0, 900, HXS_DUP_AT, 0, &gone), -EBADF);  /* stdin: not ours */
	CHECK(!is_open(900));

	t_case("free with dups: the object dropped once, every kernel number closed");
	hxs_fdtab__free(t, record, &d);
	CHECK_EQ(d.n, 1);
	CHECK_EQ(d.e[0].obj, 5);
	CHECK_EQ(open_fds(), base);
}

static void test_open_at(void)
{
	struct hxs_fdtab *t;
	struct hxs_fd e, s = { HXS_FD_SOCKET, 9, O_NONBLOCK };
	int pp[2], base, r;
	char c;

	t_case("open_at: the caller's number (a pipe's read end) becomes an eventfd of ours at once");
	CHECK_EQ(hxs_fdtab__new(&t, 0, NULL, NULL), 0);
	CHECK_EQ(pipe(pp), 0);
	base = open_fds();
	r = hxs_fdtab__open_at(t, &s, pp[0], O_CLOEXEC);
	CHECK_EQ(r, pp[0]);
	CHECK(is_eventfd(pp[0]));
	CHECK_EQ(fcntl(pp[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(pp[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(open_fds(), base);                      /* no number left over */
	CHECK_EQ(hxs_fdtab__get(t, pp[0], &e), 0);
	CHECK_EQ(e.obj, 9);
	CHECK_EQ(e.refs, 1);
	/* the pipe lost its only reader: the kernel closed it */
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(write(pp[1], &c, 1), -1);
	CHECK_EQ(errno, EPIPE);
	close(pp[1]);
	CHECK_EQ(hxs_fdtab__open_at(t, &s, -1, 0), -EBADF);
	hxs_fdtab__free(t, NULL, NULL);
	CHECK(!is_open(pp[0]));
}

static void test_fork(void)
{
	struct hxs_fdtab *t;
	struct hxs_fd e, s = { HXS_FD_SOCKET, 4, 0 };
	int a, st = -1;
	pid_t pid;

	t_case("fork: the child sees the parent's entries as inherited, new ones as its own; the parent none");
	CHECK_EQ(hxs_fdtab__new(&t, 0, NULL, NULL), 0);
	a = hxs_fdtab__open(t, &s, 0);
	hxs_fdtab__fork_prepare(t);
	pid = fork();
	if (pid == 0) {
		int ok, b;

		hxs_fdtab__fork_child(t);
		ok = !hxs_fdtab__get(t, a, &e) && e.inherited && e.obj == 4;
		b = hxs_fdtab__open(t, &s, 0);          /* the lock works in the child */
		ok = ok && b >= 0 && !hxs_fdtab__get(t, b, &e) && !e.inherited;
		_exit(ok ? 0 : 3);
	}
	hxs_fdtab__fork_parent(t);
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	CHECK_EQ(hxs_fdtab__get(t, a, &e), 0);
	CHECK_EQ(e.inherited, 0);
	hxs_fdtab__free(t, NULL, NULL);
}

int main(void)
{
	test_open_get_close();
	test_stale();
	test_free_closes();
	test_emfile();
	test_threads();
	test_dup();
	test_open_at();
	test_fork();
	return t_done();
}
