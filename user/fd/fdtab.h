/* fdtab.h - real kernel file descriptor numbers for hxs objects.
 *
 * hxs sockets and epoll instances have descriptors private to their stack (hxs.h). A program
 * that hands them to code written for the kernel's API (packetdrill in-process, an
 * LD_PRELOAD shim) needs numbers from the kernel's own table: nothing else may get the same
 * number, and libc's close() on it must succeed. This table reserves one kernel fd per hxs
 * object (an eventfd) and maps its number to what it stands for:
 *
 *   fd = hxs_fdtab__open(t, &(struct hxs_fd){ HXS_FD_SOCKET, hxs_fd, O_NONBLOCK }, O_CLOEXEC);
 *   hxs_fdtab__sock(t, fd, &e)     the socket behind fd: 0, -ENOTSOCK (a kernel fd, or an
 *                                  epoll instance of ours), -EBADF (no open fd), like the kernel
 *   hxs_fdtab__get(t, fd, &e)      any entry: 0, or -EBADF when fd is not ours
 *   hxs_fdtab__set_flags(t, fd, O_NONBLOCK)   file status flags (also set on the kernel fd,
 *                                  so fcntl(F_GETFL) on it agrees); FD_CLOEXEC is the kernel
 *                                  fd's own (fcntl F_GETFD/F_SETFD on it directly)
 *   hxs_fdtab__close(t, fd, &e)    the entry out, the kernel fd closed; -EBADF if not ours
 *   hxs_fdtab__free(t, drop, ctx)  every entry to drop(); kernel fds still ours closed
 *   hxs_fdtab__open_at(t, &e, fd, O_CLOEXEC)   the object takes over number fd, which the
 *                                  caller holds (a kernel socket it decided to replace): an
 *                                  eventfd is dup3()ed onto it, atomically, as the kernel would
 *   hxs_fdtab__dup(t, old, new, HXS_DUP_MIN|HXS_DUP_AT, O_CLOEXEC, &gone)   dup/F_DUPFD
 *                                  (lowest free >= new) or dup2/dup3 (exactly new): the kernel
 *                                  dups the eventfd, the new number maps the same object; an
 *                                  entry that dup2 replaced at new comes back in gone
 *   hxs_fdtab__fork_prepare/parent/child(t)    around fork(): the lock is not held by another
 *                                  thread in the child; in the child every entry is reported
 *                                  inherited (e.inherited), the objects stay the parent's
 *
 * Several numbers may map one object (dup): e.refs says, on get and close, how many do,
 * counting this one, so the caller closes the object when close says refs == 1. File status
 * flags (O_NONBLOCK) are per object as in the kernel's open file description: set on one
 * number, every dup sees them; FD_CLOEXEC stays per number.
 *
 * Numbers are the kernel's truth. If someone closes one of our fds with libc behind the
 * table's back, the kernel may hand the number out again: when the table reserves a number
 * it still maps, or hxs_fdtab__claim() reports a number the kernel gave someone else (a
 * pipe), the old entry is stale and goes to the stale() callback given at creation (the
 * owner closes the hxs object), once. At free, a kernel fd is closed only while it still is
 * an eventfd (fstat: the anonymous inode of eventfds), so a number reused for a file or pipe
 * is left alone.
 *
 * Thread-safe: one mutex inside; callbacks run without it held. The objects behind the
 * numbers are the caller's to lock.
 */
#ifndef HXS_FDTAB_H
#define HXS_FDTAB_H

enum hxs_fd_kind {
	HXS_FD_FREE = 0,
	HXS_FD_SOCKET,          /* obj: hxs socket descriptor */
	HXS_FD_EPOLL,           /* obj: hxs epoll instance */
};

/* What a kernel fd of the table stands for (copied out under the table's lock). */
struct hxs_fd {
	enum hxs_fd_kind kind;
	int obj;
	int flags;              /* file status flags: O_NONBLOCK (shared by dups) */
	unsigned refs;          /* out: numbers mapping this object, this one included */
	int inherited;          /* out: opened before a fork, in the parent (fork_child) */
};

enum hxs_fd_dup { HXS_DUP_MIN, HXS_DUP_AT };

struct hxs_fdtab;
typedef void (*hxs_fd_drop_fn)(void *ctx, int fd, const struct hxs_fd *e);

/* max: highest fd number + 1 the table serves (0: the process's RLIMIT_NOFILE). */
int hxs_fdtab__new(struct hxs_fdtab **out, unsigned max, hxs_fd_drop_fn stale, void *ctx);
void hxs_fdtab__free(struct hxs_fdtab *t, hxs_fd_drop_fn drop, void *ctx);

/* Reserves a kernel fd (O_CLOEXEC in oflags: close-on-exec) for e. Returns the fd number, or
 * -EMFILE / -ENFILE / -ENOMEM as the kernel says, -EINVAL for a bad kind. */
int hxs_fdtab__open(struct hxs_fdtab *t, const struct hxs_fd *e, int oflags);
int hxs_fdtab__get(struct hxs_fdtab *t, int fd, struct hxs_fd *e);
int hxs_fdtab__sock(struct hxs_fdtab *t, int fd, struct hxs_fd *e);
int hxs_fdtab__set_flags(struct hxs_fdtab *t, int fd, int flags);
int hxs_fdtab__close(struct hxs_fdtab *t, int fd, struct hxs_fd *e);
int hxs_fdtab__open_at(struct hxs_fdtab *t, const struct hxs_fd *e, int fd, int oflags);
/* Returns the new number or -EBADF (old not ours; the caller asks the kernel instead),
 * -EINVAL, -EMFILE as dup(2). gone->kind is HXS_FD_FREE unless an entry was replaced. */
int hxs_fdtab__dup(struct hxs_fdtab *t, int old, int new, enum hxs_fd_dup how, int oflags,
		   struct hxs_fd *gone);
void hxs_fdtab__fork_prepare(struct hxs_fdtab *t);
void hxs_fdtab__fork_parent(struct hxs_fdtab *t);
void hxs_fdtab__fork_child(struct hxs_fdtab *t);
/* The kernel gave fd to something that is not ours: forget a stale entry there. */
void hxs_fdtab__claim(struct hxs_fdtab *t, int fd);
/* Entries in the table now. */
unsigned hxs_fdtab__count(struct hxs_fdtab *t);

#endif
