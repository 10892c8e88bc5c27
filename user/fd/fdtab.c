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
 * The slots grow by doubling up to the largest fd seen (never past max).
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

struct slot {
	struct hxs_fd e;
	dev_t dev;              /* the eventfd's identity at open, checked again at free */
	ino_t ino;
};

struct hxs_fdtab {
	pthread_mutex_t mu;
	struct slot *slot;
	unsigned nslot;         /* slots allocated */
	unsigned max;           /* 0: no limit but the kernel's */
	unsigned count;
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

int hxs_fdtab__open(struct hxs_fdtab *t, const struct hxs_fd *e, int oflags)
{
	struct hxs_fd old = { 0 };
	struct stat sb;
	int fd, err;

	if (e->kind != HXS_FD_SOCKET && e->kind != HXS_FD_EPOLL)
		return -EINVAL;
	fd = eventfd(0, ((oflags & O_CLOEXEC) ? EFD_CLOEXEC : 0) |
		     ((e->flags & O_NONBLOCK) ? EFD_NONBLOCK : 0));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		err = -errno;
		close(fd);
		return err;
	}
	pthread_mutex_lock(&t->mu);
	err = grow(t, fd);
	if (err) {
		pthread_mutex_unlock(&t->mu);
		close(fd);
		return err;
	}
	if (t->slot[fd].e.kind != HXS_FD_FREE)
		old = t->slot[fd].e;    /* closed behind our back, number reused by the kernel */
	else
		t->count++;
	t->slot[fd].e = *e;
	t->slot[fd].e.flags &= O_NONBLOCK;
	t->slot[fd].dev = sb.st_dev;
	t->slot[fd].ino = sb.st_ino;
	pthread_mutex_unlock(&t->mu);
	if (old.kind != HXS_FD_FREE && t->stale)
		t->stale(t->stale_ctx, fd, &old);
	return fd;
}

int hxs_fdtab__get(struct hxs_fdtab *t, int fd, struct hxs_fd *e)
{
	int err = -EBADF;

	pthread_mutex_lock(&t->mu);
	if (used(t, fd)) {
		*e = t->slot[fd].e;
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
		t->slot[fd].e.flags = flags & O_NONBLOCK;
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
	*e = t->slot[fd].e;
	memset(&t->slot[fd], 0, sizeof(t->slot[fd]));
	t->count--;
	pthread_mutex_unlock(&t->mu);
	close(fd);
	return 0;
}

void hxs_fdtab__claim(struct hxs_fdtab *t, int fd)
{
	struct hxs_fd old = { 0 };

	pthread_mutex_lock(&t->mu);
	if (used(t, fd)) {
		old = t->slot[fd].e;
		memset(&t->slot[fd], 0, sizeof(t->slot[fd]));
		t->count--;
	}
	pthread_mutex_unlock(&t->mu);
	if (old.kind != HXS_FD_FREE && t->stale)
		t->stale(t->stale_ctx, fd, &old);
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
		if (drop)
			drop(ctx, (int)fd, &s->e);
		if (!fstat((int)fd, &sb) && sb.st_dev == s->dev && sb.st_ino == s->ino)
			close((int)fd);
	}
	pthread_mutex_destroy(&t->mu);
	free(t->slot);
	free(t);
}
