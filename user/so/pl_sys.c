/* pl_sys.c - the raw syscall() entry: the numbers the shim interposes go to the shim's own
 * functions, as if the program had called libc's wrapper; every other number to libc's
 * syscall().
 *
 * syscall(nr, a0..a5) -> nr one of ours (socket, bind, ..., epoll_pwait): the same function
 *                        the libc wrapper name reaches (pl_sock.c, pl_data.c, pl_poll.c),
 *                        -1 and errno as syscall(2) returns them
 *                     -> anything else, or a call made inside hxs (libbpf's bpf(2)): libc's
 * Where the raw call's arguments differ from the wrapper's they are translated: ppoll and
 * epoll_pwait carry a sigset size (the kernel wants sizeof(kernel sigset) = 8: EINVAL
 * otherwise, as it says), pselect6 carries { sigset pointer, size } in its sixth argument.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>

#include "pl.h"

#define KSIGSET 8           /* _NSIG / 8: the kernel's sigset size */

static long (*real_syscall)(long, ...);

static long dispatch(long nr, long a0, long a1, long a2, long a3, long a4, long a5, int *ours)
{
	*ours = 1;
	switch (nr) {
	case SYS_socket:      return socket((int)a0, (int)a1, (int)a2);
	case SYS_bind:        return bind((int)a0, (const struct sockaddr *)a1, (socklen_t)a2);
	case SYS_listen:      return listen((int)a0, (int)a1);
	case SYS_accept:      return accept((int)a0, (struct sockaddr *)a1, (socklen_t *)a2);
	case SYS_accept4:     return accept4((int)a0, (struct sockaddr *)a1, (socklen_t *)a2, (int)a3);
	case SYS_connect:     return connect((int)a0, (const struct sockaddr *)a1, (socklen_t)a2);
	case SYS_shutdown:    return shutdown((int)a0, (int)a1);
	case SYS_close:       return close((int)a0);
	case SYS_dup:         return dup((int)a0);
#ifdef SYS_dup2
	case SYS_dup2:        return dup2((int)a0, (int)a1);
#endif
	case SYS_dup3:        return dup3((int)a0, (int)a1, (int)a2);
	case SYS_fcntl:       return fcntl((int)a0, (int)a1, a2);
	case SYS_ioctl:       return ioctl((int)a0, (unsigned long)a1, a2);
	case SYS_getsockopt:  return getsockopt((int)a0, (int)a1, (int)a2, (void *)a3, (socklen_t *)a4);
	case SYS_setsockopt:  return setsockopt((int)a0, (int)a1, (int)a2, (const void *)a3, (socklen_t)a4);
	case SYS_getsockname: return getsockname((int)a0, (struct sockaddr *)a1, (socklen_t *)a2);
	case SYS_getpeername: return getpeername((int)a0, (struct sockaddr *)a1, (socklen_t *)a2);
	case SYS_read:        return read((int)a0, (void *)a1, (size_t)a2);
	case SYS_write:       return write((int)a0, (const void *)a1, (size_t)a2);
	case SYS_readv:       return readv((int)a0, (const struct iovec *)a1, (int)a2);
	case SYS_writev:      return writev((int)a0, (const struct iovec *)a1, (int)a2);
	case SYS_sendto:      return sendto((int)a0, (const void *)a1, (size_t)a2, (int)a3,
					    (const struct sockaddr *)a4, (socklen_t)a5);
	case SYS_recvfrom:    return recvfrom((int)a0, (void *)a1, (size_t)a2, (int)a3,
					      (struct sockaddr *)a4, (socklen_t *)a5);
	case SYS_sendmsg:     return sendmsg((int)a0, (const struct msghdr *)a1, (int)a2);
	case SYS_recvmsg:     return recvmsg((int)a0, (struct msghdr *)a1, (int)a2);
	case SYS_sendfile:    return sendfile((int)a0, (int)a1, (off_t *)a2, (size_t)a3);
#ifdef SYS_poll
	case SYS_poll:        return poll((struct pollfd *)a0, (nfds_t)a1, (int)a2);
#endif
	case SYS_ppoll:
		if (a3 && a4 != KSIGSET)
			return pl_ret(-EINVAL);
		return ppoll((struct pollfd *)a0, (nfds_t)a1, (const struct timespec *)a2,
			     (const sigset_t *)a3);
#ifdef SYS_select
	case SYS_select:      return select((int)a0, (fd_set *)a1, (fd_set *)a2, (fd_set *)a3,
					    (struct timeval *)a4);
#endif
	case SYS_pselect6: {
		const struct { const sigset_t *ss; size_t len; } *m = (const void *)a5;

		if (m && m->ss && m->len != KSIGSET)
			return pl_ret(-EINVAL);
		return pselect((int)a0, (fd_set *)a1, (fd_set *)a2, (fd_set *)a3,
			       (const struct timespec *)a4, m ? m->ss : NULL);
	}
	case SYS_epoll_ctl:   return epoll_ctl((int)a0, (int)a1, (int)a2, (struct epoll_event *)a3);
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:  return epoll_wait((int)a0, (struct epoll_event *)a1, (int)a2, (int)a3);
#endif
	case SYS_epoll_pwait:
		if (a4 && a5 != KSIGSET)
			return pl_ret(-EINVAL);
		return epoll_pwait((int)a0, (struct epoll_event *)a1, (int)a2, (int)a3,
				   (const sigset_t *)a4);
	}
	*ours = 0;
	return 0;
}

PL_API long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int ours;
	long r;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real_syscall)      /* also before the constructor ran */
		real_syscall = (long (*)(long, ...))(pl_real.syscall ? pl_real.syscall
								: dlsym(RTLD_NEXT, "syscall"));
	if (pl_inside || !pl.active)
		return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	r = dispatch(nr, a[0], a[1], a[2], a[3], a[4], a[5], &ours);
	if (ours)
		return r;
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
