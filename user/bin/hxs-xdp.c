/* hxs-xdp - attach, inspect and count the hxs XDP program from the command line.
 *
 *   hxs-xdp attach -i IF [--native|--skb] [--no-ipv6] [--frags] [--listen PORT]...
 *       attach (or adopt) and hold it until SIGINT/SIGTERM, then detach what was attached;
 *       --listen PORT adds a TCP listener entry for the wildcard IPv4 address (no socket
 *       behind it: such frames count as XdpNoSocket and go to the kernel), removed at exit
 *   hxs-xdp status -i IF       adopt the program on IF, print how it got there and its counters
 *                              (like any open, it first removes a stale program: see hxs/xdp.h)
 *   hxs-xdp stats --pin FILE   print the counters of a pinned hxs_stats map (ip link path)
 *
 * main() -> cmd_attach() | cmd_status() | cmd_stats() -> hxs_xdp__*() (hxs/xdp.h, user/ctl/xdp_ctl.c)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "app/prog.h"
#include "hxs/xdp.h"

static volatile sig_atomic_t stop;
static const char *const stat_names[] = HXS_XDP_STAT_NAMES;

static void print_stats(const __u64 *v)
{
	for (int i = 0; i < HXS_XDP_STAT_MAX; i++)
		printf("%-16s %llu\n", stat_names[i], (unsigned long long)v[i]);
}

static int usage(void)
{
	fprintf(stderr, "usage: hxs-xdp attach -i IF [--native|--skb] [--no-ipv6] [--frags] [--listen PORT]...\n"
			"       hxs-xdp status -i IF\n"
			"       hxs-xdp stats --pin FILE\n");
	return 2;
}

static int cmd_attach(const char *ifname, struct hxs_xdp_opts *o, const int *ports, int nports)
{
	struct hxs_xdp *x;
	__u8 any[16];
	sigset_t block, old;
	int err;

	/* SIGINT/SIGTERM stay blocked from before the attach until the wait: one arriving
	 * during the attach is taken by sigsuspend() and still detaches what was attached */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	hxs_prog__catch_stop(&stop, HXS_PROG_RESTART);   /* as signal() */
	err = hxs_xdp__open(&x, ifname, o);
	if (err) {
		fprintf(stderr, "hxs-xdp: %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	hxs_addr_v4(any, htonl(INADDR_ANY));
	for (int i = 0; i < nports; i++) {
		err = hxs_xdp__bind_add(x, any, htons((__u16)ports[i]), IPPROTO_TCP, 0,
					HXS_BIND_F_LISTEN);
		if (err) {
			fprintf(stderr, "hxs-xdp: bind %d: %s\n", ports[i], strerror(-err));
			hxs_xdp__close(x);
			return 1;
		}
	}
	printf("%s\n", hxs_xdp__describe(x));
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	for (int i = 0; i < nports; i++)
		hxs_xdp__bind_del(x, any, htons((__u16)ports[i]), IPPROTO_TCP);
	hxs_xdp__close(x);
	return 0;
}

static int cmd_status(const char *ifname)
{
	struct hxs_xdp_opts o = { .attach = HXS_ATTACH_EXISTING };
	struct hxs_xdp *x;
	__u64 v[HXS_XDP_STAT_MAX];
	int err = hxs_xdp__open(&x, ifname, &o);

	if (err) {
		fprintf(stderr, "hxs-xdp: %s: %s\n", ifname,
			err == -ENOENT ? "no hxs program attached" : strerror(-err));
		return 1;
	}
	printf("%s\n", hxs_xdp__describe(x));
	err = hxs_xdp__stats(x, v);
	if (!err)
		print_stats(v);
	hxs_xdp__close(x);
	return err ? 1 : 0;
}

static int cmd_stats(const char *pin)
{
	__u64 v[HXS_XDP_STAT_MAX];
	int fd = bpf_obj_get(pin), err;

	if (fd < 0) {
		fprintf(stderr, "hxs-xdp: %s: %s\n", pin, strerror(errno));
		return 1;
	}
	err = hxs_xdp_stats_read(fd, v);
	close(fd);
	if (err) {
		fprintf(stderr, "hxs-xdp: %s: %s\n", pin, strerror(-err));
		return 1;
	}
	print_stats(v);
	return 0;
}

int main(int argc, char **argv)
{
	struct hxs_xdp_opts o = { .attach = HXS_ATTACH_AUTO, .verbose = true };
	const char *ifname = NULL, *pin = NULL;
	int ports[16], nports = 0;

	if (argc < 2)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-i") && i + 1 < argc)
			ifname = argv[++i];
		else if (!strcmp(argv[i], "--pin") && i + 1 < argc)
			pin = argv[++i];
		else if (!strcmp(argv[i], "--listen") && i + 1 < argc && nports < 16)
			ports[nports++] = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--native"))
			o.attach = HXS_ATTACH_NATIVE;
		else if (!strcmp(argv[i], "--skb"))
			o.attach = HXS_ATTACH_SKB;
		else if (!strcmp(argv[i], "--no-ipv6"))
			o.no_ipv6 = true;
		else if (!strcmp(argv[i], "--frags"))
			o.frags = true;
		else
			return usage();
	}
	if (!strcmp(argv[1], "attach") && ifname)
		return cmd_attach(ifname, &o, ports, nports);
	if (!strcmp(argv[1], "status") && ifname)
		return cmd_status(ifname);
	if (!strcmp(argv[1], "stats") && pin)
		return cmd_stats(pin);
	return usage();
}
