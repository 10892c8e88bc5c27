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
	int flags;              /* file status flags: O_NONBLOCK */
};

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
/* The kernel gave fd to something that is not ours: forget a stale entry there. */
void hxs_fdtab__claim(struct hxs_fdtab *t, int fd);
/* Entries in the table now. */
unsigned hxs_fdtab__count(struct hxs_fdtab *t);

#endif
