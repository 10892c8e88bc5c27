/* hxs-netif-probe - shows what hxs learns from the kernel about an interface: its index, MAC,
 * MTU and IPv4 address, the next hop of destinations, and neighbour resolution through the
 * kernel (the same calls the stack makes, so it shows what the stack would see).
 *
 *   hxs-netif-probe -i IFACE [-r DST]... [-n IP]... [-t TIMEOUT_MS] [-w WATCH_MS] [-l IP]...
 *                   [-R DST6]... [-N IP6]...
 *
 * -w follows the kernel's notifications for WATCH_MS first (then prints the interface again:
 * a changed MTU, MAC or address shows there); -l asks whether IP is a local address.
 * main() -> hxs_netif__open() -> print_if()
 *        -> hxs_netif__route() for each -r
 *        -> resolve(): hxs_neigh__resolve(), then poll(nl_fd) + hxs_netif__poll() until the
 *           kernel reports the neighbour resolved or failed, or the timeout passes
 *
 * Output, one line each:
 *   if NAME index N mac M mtu N addr A/P
 *   if6 addr6 A/P ll6 L            (:: where there is none)
 *   route6 DST via NEXTHOP hoplimit N | route6 DST error ENETUNREACH
 *   neigh6 IP resolved MAC | neigh6 IP failed | neigh6 IP timeout MS
 *   route DST via NEXTHOP         | route DST error ENETUNREACH
 *   neigh IP resolved MAC cache|event MS   | neigh IP failed cache|event MS | neigh IP timeout MS
 *   local IP yes|no
 * Exit status 0 when every request got an answer (a FAILED neighbour is an answer), 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/netif.h"

#define MAX_REQ 16

struct wait_ctx {
	uint32_t ip;
	int done;               /* 1 resolved, -1 failed */
	uint8_t mac[6];
};

static void on_neigh(void *ctx, uint32_t ip, enum hxs_neigh_event ev, const uint8_t mac[6])
{
	struct wait_ctx *w = ctx;

	if (ip != w->ip)
		return;
	w->done = ev == HXS_NEIGH_RESOLVED ? 1 : -1;
	if (mac)
		memcpy(w->mac, mac, 6);
}

struct wait6_ctx {
	uint8_t ip[16];
	int done;
	uint8_t mac[6];
};

static void on_neigh6(void *ctx, const uint8_t ip[16], int ev, const uint8_t mac[6])
{
	struct wait6_ctx *w = ctx;

	if (memcmp(ip, w->ip, 16))
		return;
	w->done = ev == HXS_NEIGH_RESOLVED ? 1 : -1;
	if (mac)
		memcpy(w->mac, mac, 6);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void print_mac(const char *pre, const uint8_t m[6], const char *post)
{
	printf("%s%02x:%02x:%02x:%02x:%02x:%02x%s", pre, m[0], m[1], m[2], m[3], m[4], m[5], post);
}

static int resolve(struct hxs_netif *nif, uint32_t ip, int timeout_ms)
{
	struct wait_ctx w = { .ip = ip };
	struct timespec t0;
	char a[INET_ADDRSTRLEN];
	int rc;

	inet_ntop(AF_INET, &ip, a, sizeof(a));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = hxs_neigh__resolve(nif, ip, w.mac);
	if (rc == 0) {
		printf("neigh %s resolved", a);
		print_mac(" ", w.mac, "");
		printf(" cache %.1f\n", ms_since(&t0));
		return 0;
	}
	if (rc == -EHOSTUNREACH) {
		printf("neigh %s failed cache %.1f\n", a, ms_since(&t0));
		return 0;
	}
	if (rc != -EAGAIN) {
		printf("neigh %s error %s\n", a, strerror(-rc));
		return 1;
	}
	while (!w.done && ms_since(&t0) < timeout_ms) {
		struct pollfd pfd = { .fd = nif->nl_fd, .events = POLLIN };
		poll(&pfd, 1, 50);
		rc = hxs_netif__poll(nif, on_neigh, &w);
		if (rc < 0) {
			printf("neigh %s error %s\n", a, strerror(-rc));
			return 1;
		}
	}
	if (w.done > 0) {
		printf("neigh %s resolved", a);
		print_mac(" ", w.mac, "");
		printf(" event %.1f\n", ms_since(&t0));
		return 0;
	}
	if (w.done < 0) {
		printf("neigh %s failed event %.1f\n", a, ms_since(&t0));
		return 0;
	}
	printf("neigh %s timeout %.1f\n", a, ms_since(&t0));
	return 1;
}

/* An IPv6 neighbour, through the kernel's neighbour discovery (NTF_USE, RTNLGRP_NEIGH). */
static int resolve6(struct hxs_netif *nif, const uint8_t ip[16], int timeout_ms)
{
	struct wait6_ctx w = { 0 };
	struct timespec t0;
	char a[INET6_ADDRSTRLEN];
	int rc;

	memcpy(w.ip, ip, 16);
	inet_ntop(AF_INET6, ip, a, sizeof(a));
	hxs_netif__set_neigh6_cb(nif, on_neigh6, &w);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = hxs_neigh6__resolve_at(nif, ip, w.mac, 0);
	while (rc == -EAGAIN && !w.done && ms_since(&t0) < timeout_ms) {
		struct pollfd pfd = { .fd = nif->nl_fd, .events = POLLIN };
		poll(&pfd, 1, 50);
		if (hxs_netif__poll(nif, NULL, NULL) < 0)
			break;
	}
	hxs_netif__set_neigh6_cb(nif, NULL, NULL);
	if (rc == 0 || w.done > 0) {
		printf("neigh6 %s resolved", a);
		print_mac(" ", w.mac, "\n");
		return 0;
	}
	if (rc == -EHOSTUNREACH || w.done < 0) {
		printf("neigh6 %s failed\n", a);
		return 0;
	}
	printf("neigh6 %s timeout %.1f\n", a, ms_since(&t0));
	return 1;
}

static void print_if6(const struct hxs_netif *nif)
{
	char a[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, nif->addr6, a, sizeof(a));
	inet_ntop(AF_INET6, nif->ll6, l, sizeof(l));
	printf("if6 addr6 %s/%u ll6 %s\n", a, nif->prefix6_len, l);
}

static void print_if(const struct hxs_netif *nif)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &nif->addr, a, sizeof(a));
	printf("if %s index %d", nif->name, nif->ifindex);
	print_mac(" mac ", nif->mac, "");
	printf(" mtu %u addr %s/%u\n", nif->mtu, a, nif->prefix_len);
	print_if6(nif);
}

static int usage(void)
{
	fprintf(stderr, "usage: hxs-netif-probe -i IFACE [-r DST]... [-n IP]... [-t TIMEOUT_MS] "
			"[-w WATCH_MS] [-l IP]... [-R DST6]... [-N IP6]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL;
	uint32_t routes[MAX_REQ], neighs[MAX_REQ], locals[MAX_REQ];
	uint8_t routes6[MAX_REQ][16], neighs6[MAX_REQ][16];
	int nr6 = 0, nn6 = 0;
	int nr = 0, nn = 0, nl = 0, timeout_ms = 5000, watch_ms = 0, c, bad = 0;
	struct hxs_netif *nif;

	while ((c = getopt(argc, argv, "i:r:n:t:w:l:R:N:h")) != -1) {
		uint32_t *dst = c == 'r' ? &routes[nr] : &neighs[nn];
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'r':
		case 'n':
			if ((c == 'r' ? nr : nn) >= MAX_REQ || inet_pton(AF_INET, optarg, dst) != 1)
				return usage();
			c == 'r' ? nr++ : nn++;
			break;
		case 'R':
			if (nr6 >= MAX_REQ || inet_pton(AF_INET6, optarg, routes6[nr6]) != 1)
				return usage();
			nr6++;
			break;
		case 'N':
			if (nn6 >= MAX_REQ || inet_pton(AF_INET6, optarg, neighs6[nn6]) != 1)
				return usage();
			nn6++;
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 'w':
			watch_ms = atoi(optarg);
			break;
		case 'l':
			if (nl >= MAX_REQ || inet_pton(AF_INET, optarg, &locals[nl]) != 1)
				return usage();
			nl++;
			break;
		default:
			return usage();
		}
	}
	if (!ifname)
		return usage();
	int err = hxs_netif__open(&nif, ifname);
	if (err) {
		fprintf(stderr, "hxs-netif-probe: %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	print_if(nif);
	if (watch_ms > 0) {
		struct timespec t0;
		/* hxs_netif__open() joined the notification groups: changes from now on are seen */
		printf("watching %d ms\n", watch_ms);
		fflush(stdout);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (ms_since(&t0) < watch_ms) {
			struct pollfd pfd = { .fd = nif->nl_fd, .events = POLLIN };
			poll(&pfd, 1, 50);
			hxs_netif__poll(nif, NULL, NULL);
		}
		print_if(nif);
	}
	for (int i = 0; i < nl; i++) {
		inet_ntop(AF_INET, &locals[i], a, sizeof(a));
		printf("local %s %s\n", a, hxs_netif__is_local(nif, locals[i]) ? "yes" : "no");
	}
	for (int i = 0; i < nr; i++) {
		uint32_t nh;
		inet_ntop(AF_INET, &routes[i], a, sizeof(a));
		err = hxs_netif__route(nif, routes[i], &nh);
		if (err) {
			printf("route %s error %s\n", a, err == -ENETUNREACH ? "ENETUNREACH" : strerror(-err));
			continue;
		}
		inet_ntop(AF_INET, &nh, b, sizeof(b));
		printf("route %s via %s\n", a, b);
	}
	for (int i = 0; i < nn; i++)
		bad |= resolve(nif, neighs[i], timeout_ms);
	for (int i = 0; i < nr6; i++) {
		char d6[INET6_ADDRSTRLEN], n6[INET6_ADDRSTRLEN];
		uint8_t nh6[16], hl = 0;
		inet_ntop(AF_INET6, routes6[i], d6, sizeof(d6));
		err = hxs_netif__route6_at(nif, routes6[i], nh6, &hl, 0);
		if (err) {
			printf("route6 %s error %s\n", d6, err == -ENETUNREACH ? "ENETUNREACH" : strerror(-err));
			continue;
		}
		inet_ntop(AF_INET6, nh6, n6, sizeof(n6));
		printf("route6 %s via %s hoplimit %u\n", d6, n6, hl);
	}
	for (int i = 0; i < nn6; i++)
		bad |= resolve6(nif, neighs6[i], timeout_ms);
	fflush(stdout);
	hxs_netif__close(nif);
	return bad;
}
