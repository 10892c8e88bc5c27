/* pmtu_watch.c - ICMP "fragmentation needed" for the TCP segments hxs sends, through the kernel.
 *
 * ICMP goes to the kernel (the XDP program passes it). For a TCP packet of no kernel socket
 * the kernel's tcp_v4_err() finds nothing, counts IcmpInErrors and forgets the MTU: no route
 * exception is made, `ip route get` shows none. A raw socket of protocol TCP changes that:
 * raw_icmp_error() hands it every ICMP error about a TCP packet, and raw_err() updates the
 * route's path MTU (ipv4_sk_update_pmtu(): an exception with the MTU, expiring after
 * ip_rt_mtu_expires, 10 min) and, with IP_RECVERR, queues the error on the socket.
 *
 *   hxs_pmtu_watch__open()   socket(AF_INET, SOCK_RAW, IPPROTO_TCP), IP_RECVERR, a filter
 *                            that drops every TCP packet it would receive (the kernel's own
 *                            TCP traffic is not ours to copy)
 *   hxs_pmtu_watch__drain()  reads the error queue (MSG_ERRQUEUE, non-blocking): for each
 *                            ICMP destination-unreachable/fragmentation-needed the address the
 *                            packet was sent to (msg_name) and the MTU reported (ee_info)
 * The caller asks the route for the MTU the kernel settled on (hxs_netif__route_mtu): it
 * applies its own rules (ip_rt_min_pmtu, locked MTUs) to what the ICMP said.
 * Needs CAP_NET_RAW; without it the watcher is absent and only probing (RFC 4821) helps.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pmtu_watch.h"

int hxs_pmtu_watch__open(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one))) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int hxs_pmtu_watch__drain(int fd, void (*fn)(void *ctx, uint32_t daddr, uint32_t mtu), void *ctx)
{
	int n = 0;
	for (int i = 0; i < 64; i++) {
		uint8_t data[64];
		char cbuf[256];
		struct sockaddr_in sin;
		struct iovec iov = { data, sizeof(data) };
		struct msghdr m = { .msg_name = &sin, .msg_namelen = sizeof(sin), .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			/* RFC 1191 §4: "Destination Unreachable" code 4, the next-hop MTU */
			if (ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_type == ICMP_DEST_UNREACH &&
			    ee.ee_code == ICMP_FRAG_NEEDED && m.msg_namelen >= sizeof(sin)) {
				fn(ctx, sin.sin_addr.s_addr, ee.ee_info);
				n++;
			}
		}
	}
	return n;
}
