/* so_poll.c - an hxs socket's event mask -> poll(2)'s revents (so_poll.h). */
#include <poll.h>

#include "so_poll.h"

short hxs_so_revents(int mask, short events)
{
	if (mask & POLLIN)
		mask |= POLLRDNORM;
	if (mask & POLLOUT)
		mask |= POLLWRNORM;
	return (short)(mask & (events | POLLERR | POLLHUP));
}
