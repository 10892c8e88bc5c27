/* netif_nl.c - the rtnetlink transport of netif.c and netif6.c: a socket joined to groups,
 * and one request with its replies on the request socket.
 *
 *   hxs_netif__nl_request() -> send() -> recv() until NLMSG_DONE / NLMSG_ERROR / one reply
 */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netif_priv.h"

static struct netif_priv *priv_of(const struct hxs_netif *nif) { return nif->priv; }

/* --- netlink transport ------------------------------------------------------------------ */

int hxs_netif__nl_socket(const int *groups, int ngroups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto close_fd;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	for (int i = 0; i < ngroups; i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0)
			goto close_fd;
	return fd;

close_fd:;
	int err = -errno;
	close(fd);
	return err;
}

/* Sends one request and reads its replies (a dump up to NLMSG_DONE), calling fn for each
 * data message. Returns 0 or the kernel's negative errno from NLMSG_ERROR. */
int hxs_netif__nl_request(struct hxs_netif *nif, void *req, size_t len, nl_msg_fn fn, void *ctx)
{
	struct netif_priv *p = priv_of(nif);
	struct nlmsghdr *rq = req;
	uint32_t seq = rq->nlmsg_seq;

	if (send(p->req_fd, req, len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(p->req_fd, p->rxbuf, sizeof(p->rxbuf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* n stays signed: after a last message whose length is not a multiple of 4,
		 * NLMSG_NEXT takes it below zero, and NLMSG_OK must then stop (cast to size_t,
		 * it would read on past what was received). */
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)p->rxbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);
				return e->error;
			}
			if (fn)
				fn(nif, nlh, ctx);
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

