/* hxs - look at running hxs stacks from another process in the same network namespace.
 *
 *   hxs stat [-i IFACE] [-n NAME] [-a] [--json] [-c [-I SECONDS]]
 *       counters in nstat's spirit: the XDP program's per-CPU counters (hxs_stats map, summed
 *       over CPUs) of each interface, and the stack's own MIB (Ip*, Udp*, Tcp*, TcpExt*, Xsk*,
 *       Hxs*) from its statistics region; non-zero ones unless -a; -c prints the deltas every
 *       second (or -I SECONDS) until interrupted.
 *   hxs ss [-i IFACE] [-n NAME] [--json]
 *       one line per connection like `ss -ti`.
 *
 * main() -> cmd_stat() | cmd_ss()
 *   find_stacks(): -n/-i name, else every <netns inode>-*.shm of this namespace (hxs/stats.h)
 *   xdp_stats():   interface -> attached programs (libxdp) -> the hxs program's maps ->
 *                  hxs_stats -> hxs_xdp_stats_read(); read-only: nothing is attached,
 *                  detached or pinned
 * Nothing here writes to the stack: it maps the region read-only and copies under seqlocks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "hxs/shared.h"
#include "app/prog.h"
#include "hxs/stats.h"
#include "hxs/xdp.h"

#define MAX_STACKS 16
#define MAX_CTRS   (HXS_SHM_MAX_COUNTERS + HXS_XDP_STAT_MAX * MAX_STACKS)

struct ctr {
	char name[HXS_SHM_NAME_LEN];
	uint64_t val;
};

struct stack {
	char path[4096];
	struct hxs_shm_view *v;
};

static struct opts {
	const char *ifname, *name;
	bool json, all, cont;
	double interval;
} o = { .interval = 1.0 };

static struct stack stacks[MAX_STACKS];
static int nstacks;
static volatile sig_atomic_t stop;

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int libxdp_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* --- finding what runs ------------------------------------------------------------------------ */
static int add_stack(const char *path, void *ctx)
{
	struct hxs_shm_view *v;

	if (nstacks >= MAX_STACKS)
		return 0;
	if (hxs_shm_view__open(&v, path) != 0)
		return 0;
	if (!hxs_shm_view__alive(v)) {
		hxs_shm_view__close(v);   /* a dead stack's leftover: its next start removes it */
		return 0;
	}
	snprintf(stacks[nstacks].path, sizeof(stacks[nstacks].path), "%s", path);
	stacks[nstacks++].v = v;
	return 0;
}

static void find_stacks(void)
{
	char path[4096];
	const char *name = o.name ? o.name : o.ifname;

	if (name) {
		if (hxs_shm__path_for(path, sizeof(path), NULL, name) == 0)
			add_stack(path, NULL);
		return;
	}
	hxs_shm__list(NULL, add_stack, NULL);
}

static bool is_hxs_prog(struct xdp_program *p)
{
	const char *n = xdp_program__name(p);
	return n && (strcmp(n, HXS_PROG_NAME) == 0 || strcmp(n, HXS_PROG_NAME_FRAGS) == 0);
}

/* The hxs_stats map of the program whose fd is given: an fd, or -ENOENT. */
static int stats_map_of(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 ids[64], len = sizeof(info);

	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 && strcmp(mi.name, HXS_MAP_STATS) == 0)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* XDP counters of ifname summed over CPUs: 0, -ENODEV (no such interface), -ENOENT (no hxs
 * program on it). */
static int xdp_stats(const char *ifname, __u64 out[HXS_XDP_STAT_MAX], char *desc, size_t dlen)
{
	int ifindex = (int)if_nametoindex(ifname), fd, err;
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;

	if (!ifindex)
		return -ENODEV;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return -ENOENT;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !is_hxs_prog(p))
			p = NULL;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (is_hxs_prog(p))
				break;
	}
	if (!p) {
		xdp_multiprog__close(mp);
		return -ENOENT;
	}
	snprintf(desc, dlen, "%.32s id %u on %.16s (%s)", xdp_program__name(p), xdp_program__id(p), ifname,
		 xdp_multiprog__is_legacy(mp) ? "alone" : "libxdp dispatcher");
	fd = stats_map_of(xdp_program__fd(p));
	xdp_multiprog__close(mp);
	if (fd < 0)
		return fd;
	err = hxs_xdp_stats_read(fd, out);
	close(fd);
	return err;
}

/* --- stat ----------------------------------------------------------------------------------- */
/* Gathers every counter: per interface the XDP ones, then each stack's. Returns how many. */
static int gather(struct ctr *c, int max, char desc[][256], int *ndesc, bool quiet_errors)
{
	static const char *const xnames[HXS_XDP_STAT_MAX] = HXS_XDP_STAT_NAMES;
	char ifs[MAX_STACKS + 1][IF_NAMESIZE];
	int nifs = 0, n = 0;

	*ndesc = 0;
	if (o.ifname)
		snprintf(ifs[nifs++], IF_NAMESIZE, "%s", o.ifname);
	for (int i = 0; i < nstacks; i++) {
		const char *ifn = hxs_shm_view__hdr(stacks[i].v)->ifname;
		bool dup = !*ifn;
		for (int j = 0; j < nifs && !dup; j++)
			dup = strcmp(ifs[j], ifn) == 0;
		if (!dup)
			snprintf(ifs[nifs++], IF_NAMESIZE, "%s", ifn);
	}
	for (int i = 0; i < nifs; i++) {
		__u64 v[HXS_XDP_STAT_MAX];
		char d[200];
		int err = xdp_stats(ifs[i], v, d, sizeof(d));
		if (err) {
			if (!quiet_errors && (err != -ENOENT || nstacks > 0))
				fprintf(stderr, "hxs: %s: %s\n", ifs[i],
					err == -ENOENT ? "no hxs XDP program attached" : strerror(-err));
			continue;
		}
		snprintf(desc[(*ndesc)++], 256, "xdp: %s", d);
		for (int k = 0; k < HXS_XDP_STAT_MAX && n < max; k++, n++) {
			if (nifs > 1)
				snprintf(c[n].name, sizeof(c[n].name), "%.15s:%.31s", ifs[i], xnames[k]);
			else
				snprintf(c[n].name, sizeof(c[n].name), "%s", xnames[k]);
			c[n].val = v[k];
		}
	}
	for (int i = 0; i < nstacks; i++) {
		static struct hxs_shm_counter sc[HXS_SHM_MAX_COUNTERS];
		const struct hxs_shm_hdr *h = hxs_shm_view__hdr(stacks[i].v);
		int k = hxs_shm_view__counters(stacks[i].v, sc, HXS_SHM_MAX_COUNTERS);
		if (k < 0) {
			if (!quiet_errors)
				fprintf(stderr, "hxs: stack %s: %s\n", h->name, strerror(-k));
			continue;
		}
		snprintf(desc[(*ndesc)++], 256, "stack: %.63s pid %u%s%.160s", h->name, h->writer_pid,
			 *h->desc ? ": " : "", h->desc);
		for (int j = 0; j < k && n < max; j++, n++) {
			if (nstacks > 1)
				snprintf(c[n].name, sizeof(c[n].name), "%.15s:%.31s", h->name,
					 sc[j].name);
			else
				snprintf(c[n].name, sizeof(c[n].name), "%s", sc[j].name);
			c[n].val = sc[j].val;
		}
	}
	return n;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_counters(const struct ctr *c, int n, const struct ctr *prev, int nprev,
			   char desc[][256], int ndesc, double secs)
{
	if (o.json) {
		printf("{\"sources\":[");
		for (int i = 0; i < ndesc; i++) {
			if (i)
				putchar(',');
			json_str(desc[i]);
		}
		printf("]%s,\"counters\":{", prev ? ",\"delta\":true" : "");
		bool first = true;
		for (int i = 0; i < n; i++) {
			uint64_t v = c[i].val;
			if (prev)
				v -= i < nprev && strcmp(prev[i].name, c[i].name) == 0 ? prev[i].val : 0;
			if (!v && !o.all)
				continue;
			printf("%s", first ? "" : ",");
			first = false;
			json_str(c[i].name);
			printf(":%llu", (unsigned long long)v);
		}
		printf("}");
		if (prev)
			printf(",\"interval_s\":%.3f", secs);
		printf("}\n");
		fflush(stdout);
		return;
	}
	if (!prev)
		for (int i = 0; i < ndesc; i++)
			printf("#%s\n", desc[i]);
	else
		printf("#delta over %.2f s\n", secs);
	for (int i = 0; i < n; i++) {
		uint64_t v = c[i].val;
		if (prev)
			v -= i < nprev && strcmp(prev[i].name, c[i].name) == 0 ? prev[i].val : 0;
		if (!v && !o.all)
			continue;
		if (prev)
			printf("%-32s %20llu %14.1f/s\n", c[i].name, (unsigned long long)v, v / secs);
		else
			printf("%-32s %20llu\n", c[i].name, (unsigned long long)v);
	}
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_stat(void)
{
	static struct ctr a[MAX_CTRS], b[MAX_CTRS];
	static char desc[2 * MAX_STACKS + 1][256];
	int ndesc, n, nprev;
	double t0, t1;

	n = gather(a, MAX_CTRS, desc, &ndesc, false);
	if (ndesc == 0) {
		fprintf(stderr, "hxs: no running hxs stack in this network namespace%s%s%s and no hxs "
			"XDP program%s%s\n", o.name || o.ifname ? " named " : "",
			o.name ? o.name : o.ifname ? o.ifname : "", "", o.ifname ? " on " : " found",
			o.ifname ? o.ifname : "");
		return 1;
	}
	if (!o.cont) {
		print_counters(a, n, NULL, 0, desc, ndesc, 0);
		return 0;
	}
	print_counters(a, n, NULL, 0, desc, ndesc, 0);
	t0 = now_s();
	while (!stop) {
		struct timespec d = { (time_t)o.interval,
				      (long)((o.interval - (double)(time_t)o.interval) * 1e9) };
		nanosleep(&d, NULL);
		if (stop)
			break;
		memcpy(b, a, sizeof(a[0]) * (size_t)n);
		nprev = n;
		n = gather(a, MAX_CTRS, desc, &ndesc, true);
		t1 = now_s();
		if (ndesc == 0) {
			fprintf(stderr, "hxs: the stack is gone\n");
			return 1;
		}
		print_counters(a, n, b, nprev, desc, ndesc, t1 - t0);
		t0 = t1;
	}
	return 0;
}

/* --- ss ------------------------------------------------------------------------------------- */
static void addr_str(char *buf, size_t len, const uint8_t a[16], uint16_t port_be)
{
	static const uint8_t v4pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char ip[INET6_ADDRSTRLEN];

	if (memcmp(a, v4pfx, 12) == 0) {
		inet_ntop(AF_INET, a + 12, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(port_be));
	} else {
		inet_ntop(AF_INET6, a, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(port_be));
	}
	if (port_be == 0) {
		char *c = strrchr(buf, ':');
		if (c)
			snprintf(c, len - (size_t)(c - buf), ":*");
	}
}

static int cmd_ss(void)
{
	int total = 0;

	if (nstacks == 0) {
		fprintf(stderr, "hxs: no running hxs stack in this network namespace%s%s\n",
			o.name || o.ifname ? " named " : "", o.name ? o.name : o.ifname ? o.ifname : "");
		return 1;
	}
	if (o.json)
		printf("[");
	else
		printf("%-10s %-5s %8s %8s %-22s %-22s %s\n", "State", "Proto", "Recv-Q", "Send-Q",
		       "Local", "Peer", "Info");
	for (int s = 0; s < nstacks; s++) {
		const struct hxs_shm_hdr *h = hxs_shm_view__hdr(stacks[s].v);
		uint32_t hwm = __atomic_load_n(&h->conn_hwm, __ATOMIC_ACQUIRE);
		for (uint32_t slot = 0; slot < hwm && slot < HXS_SHM_MAX_CONNS; slot++) {
			struct hxs_shm_conn_info ci;
			char l[64], r[64];
			if (hxs_shm_view__conn(stacks[s].v, slot, &ci) != 1)
				continue;
			addr_str(l, sizeof(l), ci.laddr, ci.lport);
			addr_str(r, sizeof(r), ci.raddr, ci.rport);
			const char *proto = ci.proto == 17 ? "udp" : "tcp";
			if (o.json) {
				printf("%s{\"stack\":", total ? "," : "");
				json_str(h->name);
				printf(",\"slot\":%u,\"state\":\"%s\",\"proto\":\"%s\",\"local\":\"%s\","
				       "\"peer\":\"%s\",\"rtt_us\":%u,\"rttvar_us\":%u,\"rto_us\":%u,"
				       "\"min_rtt_us\":%u,\"mss\":%u,\"cwnd\":%u,\"ssthresh\":%u,"
				       "\"snd_wnd\":%u,\"rcv_wnd\":%u,\"ca_state\":%u,\"backoff\":%u,"
				       "\"bytes_sent\":%llu,\"bytes_acked\":%llu,\"bytes_received\":%llu,"
				       "\"segs_out\":%llu,\"segs_in\":%llu,\"total_retrans\":%llu,"
				       "\"send_q\":%u,\"recv_q\":%u,\"pacing_rate\":%llu,"
				       "\"delivery_rate\":%llu}",
				       slot, hxs_shm_state_name(ci.state), proto, l, r, ci.rtt_us,
				       ci.rttvar_us, ci.rto_us, ci.min_rtt_us, ci.mss, ci.cwnd, ci.ssthresh,
				       ci.snd_wnd, ci.rcv_wnd, ci.ca_state, ci.backoff,
				       (unsigned long long)ci.bytes_sent, (unsigned long long)ci.bytes_acked,
				       (unsigned long long)ci.bytes_received, (unsigned long long)ci.segs_out,
				       (unsigned long long)ci.segs_in, (unsigned long long)ci.total_retrans,
				       ci.snd_queue, ci.rcv_queue, (unsigned long long)ci.pacing_rate,
				       (unsigned long long)ci.delivery_rate);
			} else {
				char info[512];
				int k = 0;
				if (ci.proto != 17 && ci.state != HXS_SHM_LISTEN) {
					uint32_t mss = ci.mss ? ci.mss : 1;
					k += snprintf(info + k, sizeof(info) - (size_t)k,
						      "rtt:%.3f/%.3f rto:%.0f mss:%u cwnd:%u",
						      ci.rtt_us / 1e3, ci.rttvar_us / 1e3, ci.rto_us / 1e3,
						      ci.mss, ci.cwnd / mss);
					if (ci.ssthresh != UINT32_MAX)
						k += snprintf(info + k, sizeof(info) - (size_t)k,
							      " ssthresh:%u", ci.ssthresh / mss);
					k += snprintf(info + k, sizeof(info) - (size_t)k,
						      " bytes_sent:%llu bytes_acked:%llu bytes_received:%llu"
						      " segs_out:%llu segs_in:%llu retrans:%u/%llu",
						      (unsigned long long)ci.bytes_sent,
						      (unsigned long long)ci.bytes_acked,
						      (unsigned long long)ci.bytes_received,
						      (unsigned long long)ci.segs_out,
						      (unsigned long long)ci.segs_in, ci.backoff,
						      (unsigned long long)ci.total_retrans);
					/* ss -ti's rates (bits/s) and minrtt, when known */
					if (ci.pacing_rate && k < (int)sizeof(info))
						k += snprintf(info + k, sizeof(info) - (size_t)k,
							      " pacing_rate:%.1fMbps",
							      ci.pacing_rate * 8 / 1e6);
					if (ci.delivery_rate && k < (int)sizeof(info))
						k += snprintf(info + k, sizeof(info) - (size_t)k,
							      " delivery_rate:%.1fMbps",
							      ci.delivery_rate * 8 / 1e6);
					if (ci.min_rtt_us && k < (int)sizeof(info))
						snprintf(info + k, sizeof(info) - (size_t)k,
							 " minrtt:%.3f", ci.min_rtt_us / 1e3);
				} else if (ci.bytes_sent || ci.bytes_received) {
					snprintf(info, sizeof(info), "bytes_sent:%llu bytes_received:%llu",
						 (unsigned long long)ci.bytes_sent,
						 (unsigned long long)ci.bytes_received);
				} else {
					snprintf(info, sizeof(info), "-");
				}
				printf("%-10s %-5s %8u %8u %-22s %-22s %s\n", hxs_shm_state_name(ci.state),
				       proto, ci.rcv_queue, ci.snd_queue, l, r, info);
			}
			total++;
		}
	}
	if (o.json)
		printf("]\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hxs stat [-i IFACE] [-n NAME] [-a] [--json] [-c [-I SECONDS]]\n"
		"       hxs ss   [-i IFACE] [-n NAME] [--json]\n"
		"  -i IFACE   interface (its XDP counters; its stack unless -n)\n"
		"  -n NAME    the stack's statistics name (hxs_stack_opts.stats_name; default the interface)\n"
		"  -a         all counters, also the zero ones\n"
		"  -c         print deltas every interval until interrupted\n"
		"  -I SECONDS interval for -c (default 1)\n"
		"  --json     JSON output\n"
		"Stacks publish under $%s (default %s).\n", HXS_SHM_DIR_ENV, HXS_SHM_DIR);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c, rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "i:n:acI:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.ifname = optarg; break;
		case 'n': o.name = optarg; break;
		case 'a': o.all = true; break;
		case 'c': o.cont = true; break;
		case 'I': o.interval = atof(optarg); break;
		case 'J': o.json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.interval <= 0.01)
		o.interval = 0.01;
	libbpf_set_print(libbpf_quiet);
	libxdp_set_print(libxdp_quiet);
	hxs_prog__catch_stop(&stop, HXS_PROG_RESTART);   /* as signal() */
	find_stacks();
	if (strcmp(cmd, "stat") == 0)
		rc = cmd_stat();
	else if (strcmp(cmd, "ss") == 0)
		rc = cmd_ss();
	else {
		usage(stderr);
		rc = 2;
	}
	for (int i = 0; i < nstacks; i++)
		hxs_shm_view__close(stacks[i].v);
	return rc;
}
