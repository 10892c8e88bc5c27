/* fdtab.c - the table of fdtab.h: kernel fd numbers reserved with eventfds, mapped to hxs
 * objects.
 *
 * hxs_fdtab__open()  -> eventfd()        the kernel picks the number (lowest free, as for a
 *                                        socket), O_CLOEXEC / O_NONBLOCK set on it
 *                    -> slot[fd] = e     a slot still in use is stale -> stale() after unlock
 * hxs_fdtab__sock()  -> slot[fd], else fcntl(F_GETFD) tells -EBADF from -ENOTSOCK
 * hxs_fdtab__close() -> slot freed under the lock, then close(fd): the number stays the
 *                       table's until the kernel frees it, so no other thread can be handed
 *                       it in between
 * hxs_fdtab__free()  -> drop() per entry, close(fd) when fstat still finds our eventfd
 *
 * hxs_fdtab__open_at() -> eventfd(), dup3() onto the caller's number, the eventfd closed
 * hxs_fdtab__dup()   -> fcntl(F_DUPFD[_CLOEXEC]) or dup3() of the eventfd, under the lock,
 *                       the slot shares its object's reference (count and status flags)
 *
 * The slots grow by doubling up to the largest fd seen (never past max). What several
 * numbers share (a dup'd object) lives in a struct ref: how many numbers, the status flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtab.h"

struct ref {
	unsigned n;             /* numbers mapping the object */
	int flags;              /* O_NONBLOCK, shared like an open file description's */
};

struct slot {
	struct hxs_fd e;
	struct ref *ref;
	unsigned gen;           /* the table's generation at open: fork_child moves it on */
	dev_t dev;              /* the eventfd's identity at open, checked again at free */
	ino_t ino;
};

struct hxs_fdtab {
	pthread_mutex_t mu;
	struct slot *slot;
	unsigned nslot;         /* slots allocated */
	unsigned max;           /* 0: no limit but the kernel's */
	unsigned count;
	unsigned gen;
	hxs_fd_drop_fn stale;
	void *stale_ctx;
};

int hxs_fdtab__new(struct hxs_fdtab **out, unsigned max, hxs_fd_drop_fn stale, void *ctx)
{
	struct hxs_fdtab *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (pthread_mutex_init(&t->mu, NULL)) {
		free(t);
		return -ENOMEM;
	}
	t->max = max;
	t->stale = stale;
	t->stale_ctx = ctx;
	*out = t;
	return 0;
}

static int used(const struct hxs_fdtab *t, int fd)
{
	return fd >= 0 && (unsigned)fd < t->nslot && t->slot[fd].e.kind != HXS_FD_FREE;
}

/* Slots up to fd (lock held). */
static int grow(struct hxs_fdtab *t, int fd)
{
	unsigned n = t->nslot ? t->nslot : 64;
	struct slot *s;

	if (t->max && (unsigned)fd >= t->max)
		return -EMFILE;
	if ((unsigned)fd < t->nslot)
		return 0;
	while (n <= (unsigned)fd)
		n *= 2;
	if (t->max && n > t->max)
		n = t->max;
	s = realloc(t->slot, (size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + t->nslot, 0, (size_t)(n - t->nslot) * sizeof(*s));
	t->slot = s;
	t->nslot = n;
	return 0;
}

/* Maps fd (an eventfd of ours, identity sb) to e with a new reference; the stale entry that
 * was there, if any, in *old. Lock held. */
static int put(struct hxs_fdtab *t, int fd, const struct hxs_fd *e, const struct stat *sb,
	       struct slot *old)
{
	struct ref *r;
	int err = grow(t, fd);

	if (err)
		return err;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n = 1;
	r->flags = e->flags & O_NONBLOCK;
	memset(old, 0, sizeof(*old));
	if (t->slot[fd].e.kind != HXS_FD_FREE)
		*old = t->slot[fd];     /* closed behind our back, number reused by the kernel */
	else
		t->count++;
	t->slot[fd].e = *e;
	t->slot[fd].e.flags = r->flags;
	t->slot[fd].ref = r;
	t->slot[fd].gen = t->gen;
	t->slot[fd].dev = sb->st_dev;
	t->slot[fd].ino = sb->st_ino;
	return 0;
}

/* A slot taken out of the table (lock held): its reference let go. Returns how many numbers
 * mapped the object before. */
static unsigned unref(struct slot *s)
{
	unsigned n = 0;

	if (s->ref) {
		n = s->ref->n--;
		if (!s->ref->n)
			free(s->ref);
	}
	s->ref = NULL;
	return n;
}

static void report_stale(struct hxs_fdtab *t, int fd, struct slot *old)
{
	if (old->e.kind == HXS_FD_FREE)
		return;
	old->e.refs = unref(old);
	if (t->stale)
		t->stale(t->stale_ctx, fd, &old->e);
}

static int new_eventfd(const struct hxs_fd *e, int oflags, struct stat *sb)
{
	int fd, err;

	if (e->kind != HXS_FD_SOCKET && e->kind != HXS_FD_EPOLL)
		return -EINVAL;
	fd = eventfd(0, ((oflags & O_CLOEXEC) ? EFD_CLOEXEC : 0) |
		     ((e->flags & O_NONBLOCK) ? EFD_NONBLOCK : 0));
	if (fd < 0)
		return -errno;
	if (fstat(fd, sb)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int hxs_fdtab__open(struct hxs_fdtab *t, const struct hxs_fd *e, int oflags)
{
	struct slot old;
	struct stat sb;
	int fd, err;

	fd = new_eventfd(e, oflags, &sb);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&t->mu);
	err = put(t, fd, e, &sb, &old);
	pthread_mutex_unlock(&t->mu);
	if (err) {
		close(fd);
		return err;
	}
	report_stale(t, fd, &old);
	return fd;
}

int hxs_fdtab__open_at(struct hxs_fdtab *t, const struct hxs_fd *e, int fd, int oflags)
{
	struct slot old;
	struct stat sb;
	int efd, err;

	if (fd < 0)
		return -EBADF;
	efd = new_eventfd(e, oflags, &sb);
	if (efd < 0)
		return efd;
	pthread_mutex_lock(&t->mu);
	err = grow(t, fd);
	if (!err && dup3(efd, fd, (oflags & O_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		err = -errno;
	if (!err)
		err = put(t, fd, e, &sb, &old);
	pthread_mutex_unlock(&t->mu);
	close(efd);
	if (err)
		return err;
	report_stale(t, fd, &old);
	return fd;
}

int hxs_fdtab__dup(struct hxs_fdtab *t, int old, int new, enum hxs_fd_dup how, int oflags,
		   struct hxs_fd *gone)
{
	struct slot prev = { 0 };
	int fd, err = 0;

	memset(gone, 0, sizeof(*gone));
	if (new < 0)
		return -EINVAL;
	pthread_mutex_lock(&t->mu);
	if (!used(t, old)) {
		pthread_mutex_unlock(&t->mu);
		return -EBADF;
	}
	if (how == HXS_DUP_AT && old == new) {
		pthread_mutex_unlock(&t->mu);
		return -EINVAL;         /* dup3(2); dup2 with equal numbers is the caller's */
	}
	/* under the lock: no other thread's open can be handed the number in between */
	if (how == HXS_DUP_MIN)
		fd = fcntl(old, (oflags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, new);
	else
		fd = dup3(old, new, (oflags & O_CLOEXEC) ? O_CLOEXEC : 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = grow(t, fd);
	if (err) {
		close(fd);
		goto out;
	}
	if (t->slot[fd].e.kind != HXS_FD_FREE) {
		prev = t->slot[fd];     /* dup2 onto a number of ours: that one is closed */
		prev.e.refs = unref(&prev);
	} else {
		t->count++;
	}
	t->slot[fd] = t->slot[old];
	t->slot[fd].ref->n++;
	t->slot[fd].gen = t->slot[old].gen;
out:
	pthread_mutex_unlock(&t->mu);
	if (err)
		return err;
	*gone = prev.e;
	return fd;
}

static void fill(const struct hxs_fdtab *t, const struct slot *s, struct hxs_fd *e)
{
	*e = s->e;
	e->flags = s->ref ? s->ref->flags : 0;
	e->refs = s->ref ? s->ref->n : 1;
	e->inherited = s->gen != t->gen;
}

int hxs_fdtab__get(struct hxs_fdtab *t, int fd, struct hxs_fd *e)
{
	int err = -EBADF;

	pthread_mutex_lock(&t->mu);
	if (used(t, fd)) {
		fill(t, &t->slot[fd], e);
		err = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return err;
}

int hxs_fdtab__sock(struct hxs_fdtab *t, int fd, struct hxs_fd *e)
{
	int err = hxs_fdtab__get(t, fd, e);

	if (!err)
		return e->kind == HXS_FD_SOCKET ? 0 : -ENOTSOCK;
	/* not ours: the kernel says whether the number is open at all */
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	return -ENOTSOCK;
}

int hxs_fdtab__set_flags(struct hxs_fdtab *t, int fd, int flags)
{
	int err = -EBADF;

	pthread_mutex_lock(&t->mu);
	if (used(t, fd)) {
		t->slot[fd].ref->flags = flags & O_NONBLOCK;
		err = 0;
	}
	pthread_mutex_unlock(&t->mu);
	if (!err && fcntl(fd, F_SETFL, flags & O_NONBLOCK) < 0)
		err = -errno;
	return err;
}

int hxs_fdtab__close(struct hxs_fdtab *t, int fd, struct hxs_fd *e)
{
	pthread_mutex_lock(&t->mu);
	if (!used(t, fd)) {
		pthread_mutex_unlock(&t->mu);
		return -EBADF;
	}
	fill(t, &t->slot[fd], e);
	unref(&t->slot[fd]);
	memset(&t->slot[fd], 0, sizeof(t->slot[fd]));
	t->count--;
	pthread_mutex_unlock(&t->mu);
	close(fd);
	return 0;
}

void hxs_fdtab__claim(struct hxs_fdtab *t, int fd)
{
	struct slot old = { 0 };

	pthread_mutex_lock(&t->mu);
	if (used(t, fd)) {
		old = t->slot[fd];
		memset(&t->slot[fd], 0, sizeof(t->slot[fd]));
		t->count--;
	}
	pthread_mutex_unlock(&t->mu);
	report_stale(t, fd, &old);
}

void hxs_fdtab__fork_prepare(struct hxs_fdtab *t)
{
	pthread_mutex_lock(&t->mu);
}

void hxs_fdtab__fork_parent(struct hxs_fdtab *t)
{
	pthread_mutex_unlock(&t->mu);
}

/* Only the forking thread lives on in the child, and it held the lock (prepare). */
void hxs_fdtab__fork_child(struct hxs_fdtab *t)
{
	t->gen++;
	pthread_mutex_unlock(&t->mu);
}

unsigned hxs_fdtab__count(struct hxs_fdtab *t)
{
	unsigned n;

	pthread_mutex_lock(&t->mu);
	n = t->count;
	pthread_mutex_unlock(&t->mu);
	return n;
}

void hxs_fdtab__free(struct hxs_fdtab *t, hxs_fd_drop_fn drop, void *ctx)
{
	if (!t)
		return;
	for (unsigned fd = 0; fd < t->nslot; fd++) {
		struct slot *s = &t->slot[fd];
		struct stat sb;

		if (s->e.kind == HXS_FD_FREE)
			continue;
		fill(t, s, &s->e);
		/* dups of one object: dropped once, with the last of its numbers */
		if (unref(s) == 1 && drop)
			drop(ctx, (int)fd, &s->e);
		if (!fstat((int)fd, &sb) && sb.st_dev == s->dev && sb.st_ino == s->ino)
			close((int)fd);
	}
	pthread_mutex_destroy(&t->mu);
	free(t->slot);
	free(t);
}
