/* so_poll.h - what the libraries of user/so/ share for poll: an hxs socket's event mask as
 * poll(2) reports it (the packetdrill target's poll and the LD_PRELOAD shim's).
 */
#ifndef HXS_SO_POLL_H
#define HXS_SO_POLL_H

/* tcp_poll() / datagram_poll(): POLLRDNORM along with POLLIN, POLLWRNORM along with POLLOUT;
 * then only what events asked for, and POLLERR and POLLHUP always. mask from
 * hxs_poll_events() (not negative). */
short hxs_so_revents(int mask, short events);

#endif
