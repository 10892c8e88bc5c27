/* prog.c - the programs' shared boilerplate (how a program uses it: prog.h).
 *
 * hxs_prog__opt()          -> p->stack / p->port / p->kernel
 * hxs_prog__catch_stop()   -> sigaction(SIGINT, SIGTERM) -> on_stop() -> *stop_flag = 1
 * hxs_prog__open_stack()   -> hxs_stack__open()       hxs_prog__open_appnet() -> hxs_appnet__open()
 * hxs_prog__ready_stack()  -> hxs_prog__ready() -> stdout, flushed
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "appnet.h"
#include "prog.h"

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	*stop_flag = 1;
}

static int parse_attach(const char *s, enum hxs_xdp_attach *a)
{
	if (!strcmp(s, "auto")) *a = HXS_ATTACH_AUTO;
	else if (!strcmp(s, "native")) *a = HXS_ATTACH_NATIVE;
	else if (!strcmp(s, "skb")) *a = HXS_ATTACH_SKB;
	else if (!strcmp(s, "existing")) *a = HXS_ATTACH_EXISTING;
	else return -EINVAL;
	return 0;
}

int hxs_prog__opt(struct hxs_prog *p, int c, const char *arg)
{
	switch (c) {
	case 'i': p->stack.ifname = arg; break;
	case 'p': p->port = strtol(arg, NULL, 10); break;
	case 'a': return parse_attach(arg, &p->stack.attach) ? -EINVAL : 1;
	case 'b': p->stack.busy_poll = 1; break;
	case 'v': p->stack.verbose++; break;
	case 'K': p->kernel = true; break;
	case 'N': {
		char *end;
		p->stack.napi_thread = 1;
		p->stack.napi_cpu = !strcmp(arg, "any") ? -1 : (int)strtol(arg, &end, 10);
		if (p->stack.napi_cpu < -1 || (strcmp(arg, "any") && (end == arg || *end)))
			return -EINVAL;
		return 1;
	}
	default: return 0;
	}
	return 1;
}

void hxs_prog__catch_stop(volatile sig_atomic_t *stop, int flags)
{
	struct sigaction sa = { .sa_handler = on_stop };

	stop_flag = stop;
	if (flags & HXS_PROG_RESTART)
		sa.sa_flags = SA_RESTART;
	if (flags & HXS_PROG_NO_SIGPIPE)
		signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void hxs_prog__raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int hxs_prog__open_stack(const struct hxs_prog *p, struct hxs_stack **st)
{
	int err = hxs_stack__open(st, &p->stack);

	if (err)
		fprintf(stderr, "%s: cannot open a stack on %s: %s\n", p->name, p->stack.ifname,
			strerror(-err));
	return err;
}

int hxs_prog__open_appnet(const struct hxs_prog *p, struct hxs_appnet **an)
{
	struct hxs_appnet_opts ao = {
		.ifname = p->stack.ifname,
		.kernel = p->kernel,
		.busy_poll = p->stack.busy_poll,
		.verbose = p->stack.verbose,
		.napi_thread = p->stack.napi_thread,
		.napi_cpu = p->stack.napi_cpu,
	};
	int err = hxs_appnet__open(an, &ao);

	if (err)
		fprintf(stderr, "%s: cannot open the %s stack%s%s: %s\n", p->name,
			ao.kernel ? "kernel" : "hxs", ao.ifname ? " on " : "",
			ao.ifname ? ao.ifname : "", strerror(-err));
	return err;
}

void hxs_prog__close_stack(struct hxs_stack *st, int all)
{
	hxs_stack__poll(st, 0);
	hxs_stack__print_counters(st, stderr, all);
	hxs_stack__close(st);
}

bool hxs_prog__wait_failed(const struct hxs_prog *p, int n)
{
	if (n >= 0 || n == -EINTR)
		return false;
	fprintf(stderr, "%s: epoll_wait: %s\n", p->name, strerror(-n));
	return true;
}

void hxs_prog__ready(const struct hxs_prog *p, const char *role, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s%sready on ", p->name, role ? role : "", role ? " " : "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int hxs_prog__ready_stack(const struct hxs_prog *p, struct hxs_stack *st, int err)
{
	char ip[INET_ADDRSTRLEN];
	uint32_t addr;

	if (err < 0) {
		fprintf(stderr, "%s: port %ld: %s\n", p->name, p->port, strerror(-err));
		hxs_stack__close(st);
		return err;
	}
	addr = hxs_stack__addr(st);
	inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	hxs_prog__ready(p, NULL, "%s %s:%ld (%s)", p->stack.ifname, ip, p->port,
			hxs_stack__describe(st));
	return 0;
}
