/* xdp_test.h - what the tests of tests/bpf/ share besides check.h: a monotonic clock in ms,
 * big-endian stores for frame builders, an interface's MAC, an AF_PACKET socket on one
 * interface, an AF_XDP socket that an XSKMAP accepts without being bound, and a private
 * network namespace with a veth pair.
 *
 * Header-only (static inline): each test is one translation unit and takes what it uses.
 */
#ifndef HXS_TEST_XDP_TEST_H
#define HXS_TEST_XDP_TEST_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>

#include "check.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static inline uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The MAC of ifname (SIOCGIFHWADDR); 0 or -1. */
static inline int get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

/* A raw AF_PACKET socket bound to ifname, all protocols, with a 4 MiB receive buffer (so a
 * capture keeps up on a loaded machine); the fd or -1. */
static inline int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	int big = 4 << 20;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return fd;
}

/* An AF_XDP socket with UMEM, fill/completion and RX rings but not bound: this is what an
 * XSKMAP insert needs (xsk_map_update_elem() checks rings and UMEM, not the binding).
 * The fd or -errno; the UMEM stays mapped as long as the process lives. */
static inline int make_xsk(void)
{
	struct xdp_umem_reg mr = { .len = 16 * 4096, .chunk_size = 4096 };
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0), n = 64;
	void *umem;
	int err;

	if (fd < 0)
		return -errno;
	umem = mmap(NULL, mr.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (umem == MAP_FAILED)
		goto close_fd;
	mr.addr = (__u64)(unsigned long)umem;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)))
		goto close_fd;
	return fd;
close_fd:
	err = errno;
	close(fd);
	return -err;
}

/* One case: a private network namespace (gone when the test exits, whatever happens) with a
 * veth pair xa <-> xb, both up, IPv6 off (no router solicitations on the wire); the MACs of
 * xa and xb. 0, or -1 after a failed CHECK. */
static inline int veth_netns(uint8_t amac[6], uint8_t bmac[6])
{
	t_case("private network namespace with a veth pair xa <-> xb");
	if (!CHECK(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno)))
		return -1;
	if (!CHECK(system("ip link add xa type veth peer name xb && ip link set lo up && "
			  "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && "
			  "ip link set xa up && ip link set xb up") == 0))
		return -1;
	get_mac("xa", amac);
	get_mac("xb", bmac);
	return 0;
}

#endif
