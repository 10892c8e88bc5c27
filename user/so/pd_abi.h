/* pd_abi.h - the interface packetdrill's shared-object mode loads, declared by us.
 *
 * `packetdrill --so_filename=LIB.so --so_flags=STRING script.pkt` dlopen()s LIB.so, calls its
 * exported packetdrill_interface_init(STRING, &table) once on the main thread, and then
 * makes every system call of the script, every packet it injects or expects, and every
 * reading of the clock and wait through the table instead of the kernel. The layout below
 * follows packetdrill's packetdrill.h member for member (same order, same types): the
 * binary interface is the order of these pointers. Calls return what the libc call would
 * (-1 with errno set on failure).
 *
 *   netdev_send(buf, n)               a packet for the stack: an IP packet, no link header;
 *                                     0 or -1
 *   netdev_receive(buf, &n, &t_us)    the next packet the stack sent (IP, no link header),
 *                                     *n its length (in: the buffer size), *t_us when it left;
 *                                     0 or -1 (packetdrill asks again on -1, and a packet of 0
 *                                     bytes is an error it reports)
 *   usleep(us) / gettimeofday(tv, tz) the script's clock: waits between events and reads
 *   free()                            at exit, after packetdrill closed the script's fds with
 *                                     libc's close()
 */
#ifndef HXS_PD_ABI_H
#define HXS_PD_ABI_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct pd_interface {
	void *userdata;
	void (*free)(void *u);
	int (*socket)(void *u, int domain, int type, int protocol);
	int (*bind)(void *u, int fd, const struct sockaddr *addr, socklen_t len);
	int (*listen)(void *u, int fd, int backlog);
	int (*accept)(void *u, int fd, struct sockaddr *addr, socklen_t *len);
	int (*connect)(void *u, int fd, const struct sockaddr *addr, socklen_t len);
	ssize_t (*read)(void *u, int fd, void *buf, size_t n);
	ssize_t (*readv)(void *u, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*recv)(void *u, int fd, void *buf, size_t n, int flags);
	ssize_t (*recvfrom)(void *u, int fd, void *buf, size_t n, int flags,
			    struct sockaddr *from, socklen_t *fromlen);
	ssize_t (*recvmsg)(void *u, int fd, struct msghdr *msg, int flags);
	ssize_t (*write)(void *u, int fd, const void *buf, size_t n);
	ssize_t (*writev)(void *u, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*send)(void *u, int fd, const void *buf, size_t n, int flags);
	ssize_t (*sendto)(void *u, int fd, const void *buf, size_t n, int flags,
			  const struct sockaddr *to, socklen_t tolen);
	ssize_t (*sendmsg)(void *u, int fd, const struct msghdr *msg, int flags);
	int (*fcntl)(void *u, int fd, int cmd, ...);
	int (*ioctl)(void *u, int fd, unsigned long request, ...);
	int (*close)(void *u, int fd);
	int (*shutdown)(void *u, int fd, int how);
	int (*getsockopt)(void *u, int fd, int level, int name, void *val, socklen_t *len);
	int (*setsockopt)(void *u, int fd, int level, int name, const void *val, socklen_t len);
	int (*poll)(void *u, struct pollfd *fds, nfds_t nfds, int timeout_ms);
	int (*netdev_send)(void *u, const void *buf, size_t n);
	int (*netdev_receive)(void *u, void *buf, size_t *n, long long *t_us);
	int (*usleep)(void *u, useconds_t us);
	int (*gettimeofday)(void *u, struct timeval *tv, struct timezone *tz);
	int (*epoll_create)(void *u, int size);
	int (*epoll_ctl)(void *u, int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_wait)(void *u, int epfd, struct epoll_event *evs, int max, int timeout_ms);
	int (*pipe)(void *u, int fds[2]);
	int (*splice)(void *u, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n,
		      unsigned int flags);
};

/* The one symbol the library exports. */
void packetdrill_interface_init(const char *flags, struct pd_interface *ifc);

#endif
